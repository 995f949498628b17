#!/usr/bin/env bats
#
# Reaching through a proxy: connect -z
# through microsocks and tinyproxy (a tunnel per port: open, closed,
# timeout), TLS whose handshake ends inside the tunnel before the command
# goes on (exit 7 with the message of a direct connection), -s/-p binding
# the connection to the proxy (nc -s with -x), and -v logging the hop for
# every proxy type.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/proxies"

LIAR=$BATS_TEST_DIRNAME/../peers/lying_proxy.py
BACKLOG=$BATS_TEST_DIRNAME/../peers/backlog.py

setup_file() {
	export W=$BATS_FILE_TMPDIR
	export PKI=$W/pki
	tls_make_test_pki "$PKI"
	start_tinyproxy TP
	start_tinyproxy TPA "BasicAuth alice s3cret"
	start_microsocks MS
	start_microsocks MSA -u bob -P pw
}

teardown_file() {
	local pid

	if [ -f "$W/pids" ]; then
		while read -r pid; do
			kill -TERM "$pid" 2>/dev/null || true
		done <"$W/pids"
	fi
}

# A cstream listener (S_PORT) and a port nothing listens on (CLOSED).
listener_and_closed() {
	start_server S "$CSTREAM" serve --echo 127.0.0.1 0
	CLOSED=$(free_port)
}

# --- -z through a proxy --------------------------------------------------------

@test "-z through microsocks: open and closed (SOCKS5 reply 5), in port order" {
	listener_and_closed
	cs -v connect -z --proxy "socks5://127.0.0.1:$MS" 127.0.0.1 \
	    "$S_PORT,$CLOSED"
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $S_PORT open" ]
	[ "${stderr_lines[0]}" = "cstream: proxy proxy=127.0.0.1:$MS scheme=socks5 target=127.0.0.1" ]
	[ "${stderr_lines[1]}" = "127.0.0.1 $CLOSED closed" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
}

@test "-z through tinyproxy: open and closed (its 500 Unable to connect)" {
	listener_and_closed
	cs connect -z --json --proxy "http://127.0.0.1:$TP" 127.0.0.1 \
	    "$CLOSED,$S_PORT"
	[ "$status" -eq 0 ]
	if [ "$CLOSED" -lt "$S_PORT" ]; then
		[ "${lines[0]}" = "{\"host\":\"127.0.0.1\",\"port\":$CLOSED,\"state\":\"closed\"}" ]
		[ "${lines[1]}" = "{\"host\":\"127.0.0.1\",\"port\":$S_PORT,\"state\":\"open\"}" ]
	else
		[ "${lines[0]}" = "{\"host\":\"127.0.0.1\",\"port\":$S_PORT,\"state\":\"open\"}" ]
		[ "${lines[1]}" = "{\"host\":\"127.0.0.1\",\"port\":$CLOSED,\"state\":\"closed\"}" ]
	fi
	[ "${#lines[@]}" -eq 2 ]
	[ "$stderr" = "" ]
	# Each port was a CONNECT through the proxy, not a direct connect.
	grep -q "Request (file descriptor [0-9]*): CONNECT 127.0.0.1:$S_PORT HTTP/1.1" "$W/TP.log"
	grep -q "Request (file descriptor [0-9]*): CONNECT 127.0.0.1:$CLOSED HTTP/1.1" "$W/TP.log"
}

@test "-z through a proxy: nothing open is exit 1; socks5h and names" {
	listener_and_closed
	cs connect -z --proxy "socks5h://127.0.0.1:$MS" localhost "$CLOSED"
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "$stderr" = "" ]
	cs connect -z --proxy "socks5h://127.0.0.1:$MS" localhost "$S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "localhost $S_PORT open" ]
	cs connect -z --proxy "http://127.0.0.1:$TP" localhost "$S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "localhost $S_PORT open" ]
}

@test "-z through a proxy: a port it cannot reach in --connect-timeout is timeout, exit 4" {
	listener_and_closed
	py_server_as B "$BACKLOG"
	cs -v --connect-timeout 0.5 connect -z --proxy "socks5://127.0.0.1:$MS" \
	    127.0.0.1 "$B_PORT"
	[ "$status" -eq 4 ]
	[ "$output" = "" ]
	[ "${stderr_lines[1]}" = "127.0.0.1 $B_PORT timeout" ]
	cs -v --connect-timeout 0.5 connect -z --proxy "http://127.0.0.1:$TP" \
	    127.0.0.1 "$B_PORT,$S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $S_PORT open" ]
	[[ $stderr == *$'\n'"127.0.0.1 $B_PORT timeout"* ]]
}

@test "-z through a proxy that never answers, or answers 504: timeout" {
	py_server_as L "$LIAR" http-hang
	cs --connect-timeout 0.5 connect -z --proxy "http://127.0.0.1:$L_PORT" \
	    127.0.0.1 80,443
	[ "$status" -eq 4 ]
	[ "$output" = "" ]
	py_server_as G "$LIAR" http-status "HTTP/1.1 504 Gateway Timeout"
	cs -v connect -z --proxy "http://127.0.0.1:$G_PORT" 127.0.0.1 80
	[ "$status" -eq 4 ]
	[ "${stderr_lines[1]}" = "127.0.0.1 80 timeout" ]
	py_server_as R "$LIAR" socks-reply 6
	cs -v connect -z --proxy "socks5://127.0.0.1:$R_PORT" 127.0.0.1 80
	[ "$status" -eq 4 ]
	[ "${stderr_lines[1]}" = "127.0.0.1 80 timeout" ]
}

@test "-z: a proxy that is down or refuses us stops the scan with its error" {
	local p

	p=$(free_port)
	cs connect -z --proxy "socks5://127.0.0.1:$p" 127.0.0.1 1-100
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$p: connect to 127.0.0.1:$p: Connection refused" ]
	cs connect -z --proxy "socks5://127.0.0.1:$MSA" 127.0.0.1 1-100
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$MSA: authentication required (user:password@ in the URL)" ]
	cs connect -z --proxy "http://127.0.0.1:$TPA" 127.0.0.1 1-100
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$TPA: 407 Proxy Authentication Required" ]
	py_server_as L "$LIAR" socks-truncate
	cs connect -z --proxy "socks5://127.0.0.1:$L_PORT" 127.0.0.1 80
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$L_PORT: truncated SOCKS5 reply" ]
}

@test "-z through a proxy with credentials and a --concurrency bound" {
	listener_and_closed
	cs connect -z --concurrency 1 --proxy "socks5://bob:pw@127.0.0.1:$MSA" \
	    127.0.0.1 "$CLOSED,$S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $S_PORT open" ]
	grep -q "127.0.0.1: connected to 127.0.0.1:$S_PORT" "$W/MSA.log"
	cs connect -z --proxy "http://alice:s3cret@127.0.0.1:$TPA" \
	    127.0.0.1 "$S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $S_PORT open" ]
	grep -q "CONNECT 127.0.0.1:$S_PORT HTTP/1.1" "$W/TPA.log"
}

@test "unix-connect -z --proxy is a usage error" {
	cs unix-connect -z --proxy "socks5://127.0.0.1:$MS" "$T/s.sock"
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: unix-connect: --resolve and --proxy need HOST PORT" ]
}

# --- TLS inside the tunnel ------------------------------------------------------

serve_untrusted() {
	start_server U "$CSTREAM" serve --tls --cert "$PKI/untrusted.crt" \
	    --key "$PKI/untrusted.key" --echo 127.0.0.1 0
}

@test "connect --tls through a proxy to an untrusted certificate: exit 7, the direct message" {
	local direct proxy

	serve_untrusted
	cs connect --tls --cafile "$PKI/ca.crt" localhost "$U_PORT" --send hi
	[ "$status" -eq 7 ]
	direct=${stderr_lines[0]}
	[ "$direct" = "cstream: connect: tls handshake with localhost:$U_PORT: certificate verify failed: unable to get local issuer certificate" ]
	for proxy in "socks5://127.0.0.1:$MS" "socks5h://127.0.0.1:$MS" \
	    "http://127.0.0.1:$TP"; do
		cs -v connect --tls --cafile "$PKI/ca.crt" --proxy "$proxy" \
		    localhost "$U_PORT" --send hi
		[ "$status" -eq 7 ]
		[ "$output" = "" ]
		# The message, then the hint every TLS command gives.
		[ "${stderr_lines[-2]}" = "$direct" ]
		[ "${stderr_lines[-1]}" = "hint: use --cafile FILE to trust its issuer, or -k to skip verification" ]
		# The handshake failed before anything said "connected".
		[[ $stderr != *"cstream: connected "* ]]
	done
	# So does a direct one from a source address.
	cs -v connect -s 127.0.0.1 --tls --cafile "$PKI/ca.crt" localhost \
	    "$U_PORT" --send hi
	[ "$status" -eq 7 ]
	[ "${stderr_lines[-2]}" = "$direct" ]
	[[ ${stderr_lines[-1]} == "hint: "* ]]
	[[ $stderr != *"cstream: connected "* ]]
}

@test "connect --tls through a proxy: connected is logged after the handshake" {
	start_server G "$CSTREAM" serve --tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key" --echo 127.0.0.1 0
	cs -v connect --tls --cafile "$PKI/ca.crt" \
	    --proxy "socks5://127.0.0.1:$MS" localhost "$G_PORT" \
	    --send 'hi\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "hi" ]
	[[ ${stderr_lines[1]} == "cstream: tunnel proxy=127.0.0.1:$MS target=localhost port=$G_PORT" ]]
	[[ ${stderr_lines[2]} == "cstream: connected peer=127.0.0.1:$MS "* ]]
}

@test "http-head https through tinyproxy to an untrusted certificate: exit 7, the direct message" {
	local direct

	serve_untrusted
	cs http-head --cafile "$PKI/ca.crt" "https://localhost:$U_PORT/"
	[ "$status" -eq 7 ]
	direct=${stderr_lines[0]}
	[ "$direct" = "cstream: http-head: tls handshake with localhost:$U_PORT: certificate verify failed: unable to get local issuer certificate" ]
	cs http-head --cafile "$PKI/ca.crt" --proxy "http://127.0.0.1:$TP" \
	    "https://localhost:$U_PORT/"
	[ "$status" -eq 7 ]
	[ "${stderr_lines[0]}" = "$direct" ]
	cs http-head --cafile "$PKI/ca.crt" --proxy "socks5h://127.0.0.1:$MS" \
	    "https://localhost:$U_PORT/"
	[ "$status" -eq 7 ]
	[ "${stderr_lines[0]}" = "$direct" ]
}

# --- -s/-p with --proxy -----------------------------------------------------------

@test "connect -s -p --proxy: the source binds the connection to the proxy (nc -s with -x)" {
	local sp

	listener_and_closed
	sp=$(free_port)
	cs -v connect -s 127.0.0.2 -p "$sp" --proxy "socks5://127.0.0.1:$MS" \
	    127.0.0.1 "$S_PORT" --send 'hi\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "hi" ]
	[[ $stderr == *"cstream: connected peer=127.0.0.1:$MS local=127.0.0.2:$sp"* ]]
	# microsocks saw the client come from the source address.
	grep -q "127.0.0.2: connected to 127.0.0.1:$S_PORT" "$W/MS.log"
	cs -v connect -s 127.0.0.2 --proxy "http://127.0.0.1:$TP" \
	    127.0.0.1 "$S_PORT" --send 'hi\n' --read-line
	# tinyproxy allows 127.0.0.1 only: its refusal shows the source.
	[ "$status" -eq 1 ]
	[ "${stderr_lines[-1]}" = "cstream: connect: proxy 127.0.0.1:$TP: 403 Access denied" ]
}

@test "connect -s with --proxy: a source address that is not local names the proxy" {
	cs connect -s 192.0.2.123 --proxy "socks5://127.0.0.1:$MS" \
	    127.0.0.1 80
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$MS: bind to 192.0.2.123: Cannot assign requested address" ]
}

# --- -v logs the hop ------------------------------------------------------------------

@test "-v logs the proxy hop for http, socks5 and socks5h" {
	local proxy scheme

	listener_and_closed
	for proxy in "http://127.0.0.1:$TP" "socks5://127.0.0.1:$MS" \
	    "socks5h://127.0.0.1:$MS"; do
		scheme=${proxy%%://*}
		cs -v connect --proxy "$proxy" localhost "$S_PORT" \
		    --send 'hi\n' --read-line
		[ "$status" -eq 0 ]
		[ "$output" = "hi" ]
		[ "${stderr_lines[0]}" = "cstream: proxy proxy=${proxy#*://} scheme=$scheme target=localhost port=$S_PORT" ]
		[ "${stderr_lines[1]}" = "cstream: tunnel proxy=${proxy#*://} target=localhost port=$S_PORT" ]
		[[ ${stderr_lines[2]} == "cstream: connected peer=${proxy#*://} "* ]]
	done
}
