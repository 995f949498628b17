#!/usr/bin/env bats
#
# What an attacker found (hostile proxies, TLS and HTTP peers, faults in
# every serve mode): secrets kept out of messages, every phase before the
# relay bounded, truncated TLS records reported, write failures of the
# dump, JSON and text logs that stay well formed, one rule for NUL bytes.

bats_require_minimum_version 1.5.0

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"

CUT=$BATS_TEST_DIRNAME/../peers/tls_cut.py

setup_file() {
	tls_file_pki
}

setup() {
	common_setup
	unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy \
	    ALL_PROXY no_proxy NO_PROXY
}

cs() {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" "$@"
}

# --- 1. no credentials in messages -------------------------------------------

@test "a bad proxy URL's password never reaches a message (--proxy and the environment)" {
	https_proxy='http://alice:s3cretPW@127.0.0.1:bad' \
	    cs http-head https://127.0.0.1:1/
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: http-head: proxy from the environment http://alice:***@127.0.0.1:bad: bad port" ]
	cs connect --proxy 'http://alice:s3cretPW@127.0.0.1:bad' 127.0.0.1 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --proxy http://alice:***@127.0.0.1:bad: bad port" ]
	cs connect --proxy 'ftp://alice:pw@h:1080' 127.0.0.1 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --proxy ftp://alice:***@h:1080: unsupported scheme (http://, socks5://, socks5h://)" ]
	cs connect --proxy 'http://alice:s3cr%zz@127.0.0.1:1' 127.0.0.1 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --proxy http://alice:***@127.0.0.1:1: bad percent-encoding in the user information" ]
	# A lone user name is often a token: masked whole.
	cs connect --proxy 'http://T0KEN%zz@127.0.0.1:1' 127.0.0.1 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --proxy http://***@127.0.0.1:1: bad percent-encoding in the user information" ]
	[[ $stderr != *s3cr* ]] && [[ $stderr != *T0KEN* ]]
}

@test "a URL's password never reaches a message or a hint (http-head, a URL as the command)" {
	cs http-head 'https://alice:s3cretPW@127.0.0.1:1/'
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: http-head: invalid URL https://alice:***@127.0.0.1:1/: user information (user@) is not supported (use -H 'Authorization: ...')" ]
	cs 'http://alice:s3cretPW@127.0.0.1/'
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: unknown command: http://alice:***@127.0.0.1/" ]
	[ "${stderr_lines[1]}" = "hint: use 'cstream http-head http://alice:***@127.0.0.1/'" ]
	[[ $stderr != *s3cr* ]]
}

# --- 2. every phase before the relay is bounded ------------------------------

# The default bound is 60 s, so the four silent peers wait side by side.
@test "without --connect-timeout a silent proxy, TLS peer in a tunnel or HTTP server gives up after 60 s (exit 4)" {
	local t0 t1 d P L

	LIAR=$BATS_TEST_DIRNAME/../peers/lying_proxy.py
	py_server_as HANG "$LIAR" http-hang
	start_server SIL "$CSTREAM" serve --discard 127.0.0.1 0
	P=$(free_port)
	bg MS microsocks -i 127.0.0.1 -p "$P"
	wait_for tcp_listening "$P"
	t0=$(date +%s)
	bg A "$CSTREAM" connect --proxy "http://127.0.0.1:$HANG_PORT" \
	    127.0.0.1 80
	bg B "$CSTREAM" http-head --proxy "http://127.0.0.1:$HANG_PORT" \
	    https://127.0.0.1:1/
	bg C "$CSTREAM" http-head "http://127.0.0.1:$SIL_PORT/"
	bg D "$CSTREAM" connect --tls -k --proxy "socks5://127.0.0.1:$P" \
	    127.0.0.1 "$SIL_PORT"
	for L in A B C D; do
		P=${L}_PID
		wait_pid_exit "${!P}" 75 || true
		[ "$EXIT_STATUS" = 4 ]
	done
	t1=$(date +%s)
	d=$((t1 - t0))
	[ "$d" -ge 59 ] && [ "$d" -le 72 ]
	run cat "$A_ERR"
	[ "$output" = "cstream: connect: proxy 127.0.0.1:$HANG_PORT: timed out opening the tunnel to 127.0.0.1:80" ]
	run cat "$B_ERR"
	[ "$output" = "cstream: http-head: proxy 127.0.0.1:$HANG_PORT: timed out opening the tunnel to 127.0.0.1:1" ]
	run cat "$C_ERR"
	[ "$output" = "cstream: http-head: http://127.0.0.1:$SIL_PORT/: no response within 60 seconds" ]
	run cat "$D_ERR"
	[[ $output == "cstream: connect: "*"127.0.0.1"*"$SIL_PORT"*"timed out"* ]]
}

# --- 3. a TLS record cut in the middle is an error ---------------------------

@test "TLS: a record cut in the middle is 'TLS stream truncated', exit 1 (one-shot and relay)" {
	py_server_as CS "$CUT" server "$PKI/good.crt" "$PKI/good.key" cut 2
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls -k \
	    127.0.0.1 "$CS_PORT" --read-all </dev/null
	# (What came before the error may be dropped, as asyncio raises a
	# stored exception before the data: one-shot reads are all or error.)
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: read from 127.0.0.1:$CS_PORT: TLS stream truncated" ]
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls -k \
	    127.0.0.1 "$CS_PORT" </dev/null
	[ "$status" -eq 1 ]
	[ "${#output}" -eq 1000 ]
	[ "$stderr" = "cstream: connect: read from 127.0.0.1:$CS_PORT: TLS stream truncated" ]
}

@test "TLS: a close at a record boundary without close_notify stays end-of-stream" {
	py_server_as CS "$CUT" server "$PKI/good.crt" "$PKI/good.key" boundary
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls -k \
	    127.0.0.1 "$CS_PORT" --read-all </dev/null
	[ "$status" -eq 0 ]
	[ "${#output}" -eq 1000 ]
	[ "$stderr" = "" ]
}

@test "TLS: serve reports a client's cut record: exit 1 in default mode, a line with --exec" {
	start_server S "$CSTREAM" serve --tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key" 127.0.0.1 0
	run run_with_timeout 10 python3 "$CUT" client "$S_PORT" cut
	[ "$status" -eq 0 ]
	wait_pid_exit "$S_PID" || true
	[ "$EXIT_STATUS" = 1 ]
	[ "$(wc -c <"$S_OUT")" -eq 1000 ]
	run sed 1d "$S_ERR"
	[[ $output == "cstream: serve: read from 127.0.0.1:"*": TLS stream truncated" ]]

	start_server X "$CSTREAM" serve --tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key" --exec "cat" 127.0.0.1 0
	run run_with_timeout 10 python3 "$CUT" client "$X_PORT" cut
	[ "$status" -eq 0 ]
	wait_for_match "$X_ERR" "TLS stream truncated"
	run sed 1d "$X_ERR"
	[[ $output == "cstream: serve: read from 127.0.0.1:"*": TLS stream truncated" ]]
}

# --- 6. --resolve with a service name as port ------------------------------------

@test "--resolve HOST:SERVICE:ADDR is used for that service's port; an unknown one is exit 2" {
	# http is 80 in the services database: the entry, not DNS, is asked.
	cs connect --resolve foo.test:http:127.0.0.1 foo.test 80 \
	    --connect-timeout 2
	[ "$status" -eq 1 ]
	[[ ${stderr_lines[0]} == "cstream: connect: connect to 127.0.0.1:80: "* ]]
	cs connect --resolve foo.test:80:127.0.0.1 foo.test http \
	    --connect-timeout 2
	[ "$status" -eq 1 ]
	[[ ${stderr_lines[0]} == "cstream: connect: connect to 127.0.0.1:80: "* ]]
	cs connect --resolve foo.test:htttp:127.0.0.1 foo.test 80
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --resolve foo.test:htttp:127.0.0.1: unknown service" ]
}

# --- 11. --max-time: one deadline for the whole command --------------------------

@test "--max-time: --read-line twice on a one-line reply ends at the deadline, exit 4" {
	start_server S "$CSTREAM" serve --echo 127.0.0.1 0
	t0=$(date +%s%N)
	cs connect --max-time 0.5 127.0.0.1 "$S_PORT" --send 'hi\n' \
	    --read-line --read-line
	t1=$(date +%s%N)
	[ "$status" -eq 4 ]
	[ "$output" = hi ]
	[ "$stderr" = "cstream: connect: deadline passed (--max-time 0.5)" ]
	[ $(( (t1 - t0) / 1000000 )) -lt 3000 ]
	# Before the command, as every global option.
	cs --max-time 0.5 connect 127.0.0.1 "$S_PORT" --send 'hi\n' \
	    --read-line --read-line
	[ "$status" -eq 4 ]
	[ "$stderr" = "cstream: connect: deadline passed (--max-time 0.5)" ]
}

@test "--max-time bounds the relay, http-head's wait and a server (which stops as on SIGTERM)" {
	start_server S "$CSTREAM" serve --discard 127.0.0.1 0
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect \
	    --max-time 0.5 127.0.0.1 "$S_PORT" < <(sleep 8)
	[ "$status" -eq 4 ]
	[ "$stderr" = "cstream: connect: deadline passed (--max-time 0.5)" ]
	cs http-head --max-time 0.5 "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 4 ]
	[ "$stderr" = "cstream: http-head: deadline passed (--max-time 0.5)" ]
	cs serve --max-time 0.5 --echo 127.0.0.1 0
	[ "$status" -eq 4 ]
	[ "${stderr_lines[1]}" = "cstream: serve: deadline passed (--max-time 0.5)" ]
	cs unix-serve --max-time 0.5 --echo "$T/s.sock"
	[ "$status" -eq 4 ]
	[ ! -e "$T/s.sock" ]
	cs connect --max-time 0 127.0.0.1 "$S_PORT"
	[ "$status" -eq 2 ]
	[[ ${stderr_lines[0]} == "cstream: connect: --max-time 0: "* ]]
}

# --- 7. NUL in an HTTP proxy's reply: one rule with http-head -------------------

@test "an HTTP proxy's status line with a NUL byte is refused (exit 8), as http-head refuses one" {
	py_server_as L "$BATS_TEST_DIRNAME/../peers/lying_proxy.py" http-nul
	cs connect --proxy "http://127.0.0.1:$L_PORT" 127.0.0.1 80
	[ "$status" -eq 8 ]
	[ "${stderr_lines[0]}" = "cstream: connect: proxy 127.0.0.1:$L_PORT: malformed reply to CONNECT: line 1: NUL byte" ]
	cs http-head --proxy "http://127.0.0.1:$L_PORT" https://127.0.0.1:1/
	[ "$status" -eq 8 ]
	[ "${stderr_lines[0]}" = "cstream: http-head: proxy 127.0.0.1:$L_PORT: malformed reply to CONNECT: line 1: NUL byte" ]
}

# --- 5. JSON strings are valid UTF-8; text lines escape C1 controls ------------

# unix_client_named NAME_HEX SERVER_NAME: a unix client bound to the
# abstract name given in hex connects to @SERVER_NAME, sends hi, reads it.
unix_client_named() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(b"\0" + bytes.fromhex(sys.argv[1]))
s.connect(b"\0" + sys.argv[2].encode())
s.sendall(b"hi")
s.recv(2)
s.close()' "$1" "$2"
}

@test "--log-format json: a peer's abstract name with bytes 0x9b 0xff is valid UTF-8 JSON (\\u00XX)" {
	local name=cs-json-$$-$RANDOM

	start_server S "$CSTREAM" -v --log-format json unix-serve --echo "@$name"
	# "ab", 0x9b, 0xff, U+009B (c2 9b), "z"
	unix_client_named 61629bffc29b7a "$name"
	wait_for_match "$S_ERR" '"event":"closed"'
	run python3 -c '
import json, sys
for raw in open(sys.argv[1], "rb"):
    if raw.startswith(b"{"):
        print(json.loads(raw.decode("utf-8", "strict"))["peer"].encode("unicode_escape").decode())' "$S_ERR"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '@ab\x9b\xff\x9bz' ]
	[ "${lines[1]}" = '@ab\x9b\xff\x9bz' ]
	run grep -c 'peer":"@ab\\u009b\\u00ff\\u009bz"' "$S_ERR"
	[ "$output" = 2 ]
}

@test "text log lines escape C1 controls (a lone 0x9b and U+009B) and bytes that are not UTF-8" {
	local name=cs-text-$$-$RANDOM

	start_server S "$CSTREAM" -v unix-serve --echo "@$name"
	unix_client_named 61629bffc29b7ac3a9 "$name"
	wait_for_match "$S_ERR" 'closed'
	run grep -c '^cstream: accepted peer=@ab\\x9b\\xff\\xc2\\x9bzé$' "$S_ERR"
	[ "$output" = 1 ]
	run grep -c $'\x9b' "$S_ERR"
	[ "$output" = 0 ]
}

# --- 4. serve -x: a failed dump is said at once, exit 1 at the end ---------------

@test "serve -x /dev/full: one line at once, serving goes on, exit 1 at the end" {
	head -c 300000 /dev/urandom >"$T/in.bin"
	start_server S "$CSTREAM" serve --discard -x /dev/full 127.0.0.1 0
	run run_with_timeout 10 "$CSTREAM" connect 127.0.0.1 "$S_PORT" \
	    <"$T/in.bin"
	[ "$status" -eq 0 ]
	wait_for_match "$S_ERR" 'hex-dump'
	# Still serving: a second client is taken.
	run run_with_timeout 10 "$CSTREAM" connect 127.0.0.1 "$S_PORT" \
	    <"$T/in.bin"
	[ "$status" -eq 0 ]
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" = 1 ]
	run cat "$S_ERR"
	[ "${lines[0]}" = "Serving on 127.0.0.1:$S_PORT" ]
	[ "${lines[1]}" = "cstream: serve: --hex-dump /dev/full: No space left on device" ]
	[ "${#lines[@]}" -eq 2 ]
}

# --- 8. serve --tls: a stalled handshake is freed when another client wins ----

@test "serve --tls (one client): a client stalled in its handshake is closed once another is served" {
	mkfifo "$T/in"
	exec 4<>"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" serve --tls \
	    --cert "$PKI/good.crt" --key "$PKI/good.key" 127.0.0.1 0
	# The stalled client: TCP connected, never a ClientHello.
	bg STALL python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
s.settimeout(20)
t = time.monotonic()
try:
    data = s.recv(1)
except OSError:
    data = None
print("closed" if data == b"" else "other", round(time.monotonic() - t), flush=True)' "$S_PORT"
	wait_for_match "$STALL_OUT" connected
	# The served client stays connected: the server lives on.
	mkfifo "$T/cin"
	exec 5<>"$T/cin"
	BG_STDIN=$T/cin bg C "$CSTREAM" connect --tls -k 127.0.0.1 "$S_PORT"
	echo hello >&4
	wait_for_match "$C_OUT" hello
	wait_for -t 5 grep -q closed "$STALL_OUT"
	run cat "$STALL_OUT"
	[ "${lines[1]}" = "closed 0" ] || [ "${lines[1]}" = "closed 1" ]
	exec 4>&- 5>&-
}

# --- 13. serve --tls without --cert/--key: a throwaway certificate ---------------

@test "serve --tls without --cert/--key: a self-signed certificate in memory, its SHA-256 fingerprint in one warning" {
	require_cmd openssl
	start_server S "$CSTREAM" serve --tls --echo 127.0.0.1 0
	run grep -c . "$S_ERR"
	[ "$output" = 2 ]
	run grep '^cstream: serve: no --cert and --key' "$S_ERR"
	[[ $output =~ ^"cstream: serve: no --cert and --key: a throwaway self-signed certificate, SHA-256 fingerprint "([0-9A-F:]{95})$ ]]
	fp=${BASH_REMATCH[1]}
	run run_with_timeout 5 "$CSTREAM" connect --tls -k 127.0.0.1 \
	    "$S_PORT" --send hi --read-exactly 2
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	run bash -c "openssl s_client -connect 127.0.0.1:$S_PORT </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256"
	[ "$output" = "sha256 Fingerprint=$fp" ]
	# Verified, it is what it is: self-signed (exit 7).
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect --tls \
	    127.0.0.1 "$S_PORT" --send hi --read-exactly 2
	[ "$status" -eq 7 ]
	# One of --cert and --key alone is still a usage error.
	cs serve --tls --cert "$PKI/good.crt" 127.0.0.1 0
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: serve: --cert and --key go together" ]
}
