#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# For scripts, CI and service managers: --wait on connect,
# connect -z, unix-connect and http-head; --ready-file, --ready-fd and
# sd_notify on serve; socket activation through systemd-socket-activate;
# --expect after a read (exit 10) and http-head --expect-status; the
# timings (dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms).

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
PEERS=$BATS_TEST_DIRNAME/../peers

# ms: milliseconds now, for elapsed times measured by the test itself.
ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# late_server DELAY ARGS...: cstream ARGS started DELAY seconds from now.
late_server() {
	local delay=$1

	shift
	bg LATE bash -c 'sleep "$1"; shift; exec "$@"' _ "$delay" \
	    "$CSTREAM" "$@"
}

# --- --wait -----------------------------------------------------------------

@test "connect --wait: a port that opens after 2 s, then the one-shot steps" {
	p=$(free_port)
	late_server 2 serve --echo 127.0.0.1 "$p"
	t0=$(ms)
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --wait 6 \
	    127.0.0.1 "$p" --send 'ping\n' --read-line
	t=$(( $(ms) - t0 ))
	[ "$status" -eq 0 ]
	[ "$output" = "ping" ]
	[ -z "$stderr" ]
	[ "$t" -ge 1900 ]
	[ "$t" -lt 5000 ]
}

@test "connect --wait: a relay proceeds once connected" {
	p=$(free_port)
	late_server 1 serve --echo 127.0.0.1 "$p"
	run --separate-stderr run_with_timeout 10 bash -c \
	    'printf "hello\n" | "$1" connect --wait 5 127.0.0.1 "$2"' _ \
	    "$CSTREAM" "$p"
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
}

@test "connect --wait: a port that never opens exits 4 within SEC, naming it" {
	p=$(free_port)
	t0=$(ms)
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --wait 2 \
	    127.0.0.1 "$p"
	t=$(( $(ms) - t0 ))
	[ "$status" -eq 4 ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$p: not ready after 2 s: connect to 127.0.0.1:$p: Connection refused" ]
	[ "$t" -ge 1900 ]
	[ "$t" -lt 3000 ]
}

@test "connect --wait: a peer that never answers still ends at SEC" {
	# A full backlog: SYNs go unanswered, each attempt times out.
	py_server "$PEERS/backlog.py"
	t0=$(ms)
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --wait 1.5 \
	    --connect-timeout 5 127.0.0.1 "$PY_PORT" </dev/null
	t=$(( $(ms) - t0 ))
	[ "$status" -eq 4 ]
	[[ $stderr == "cstream: connect: 127.0.0.1:$PY_PORT: not ready after 1.5 s: "* ]]
	[ "$t" -lt 2700 ]
}

@test "connect --wait -v shows each attempt, then ready" {
	p=$(free_port)
	late_server 1.5 serve --discard 127.0.0.1 "$p"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" -v connect \
	    --wait 5 127.0.0.1 "$p" </dev/null
	[ "$status" -eq 0 ]
	[ "${stderr_lines[0]}" = "cstream: wait attempt=1 error=connect to 127.0.0.1:$p: Connection refused" ]
	[ "${stderr_lines[1]}" = "cstream: wait attempt=2 error=connect to 127.0.0.1:$p: Connection refused" ]
	[[ ${stderr_lines[2]} =~ ^cstream:\ ready\ attempt=3\ elapsed_ms=[0-9]+\.[0-9]{3}$ ]]
}

@test "connect -z --wait: every listed port, one opening late" {
	start_server A "$CSTREAM" serve --discard 127.0.0.1 0
	p=$(free_port)
	late_server 1.5 serve --discard 127.0.0.1 "$p"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z \
	    --wait 6 127.0.0.1 "$A_PORT,$p"
	[ "$status" -eq 0 ]
	lo=$A_PORT hi=$p
	[ "$lo" -lt "$hi" ] || { lo=$p; hi=$A_PORT; }
	[ "$output" = "127.0.0.1 $lo open"$'\n'"127.0.0.1 $hi open" ]
	[ -z "$stderr" ]
}

@test "connect -z --wait: one line naming each port not ready, exit 4" {
	start_server A "$CSTREAM" serve --discard 127.0.0.1 0
	p=$(free_port)
	q=$(free_port)
	[ "$p" != "$q" ] || q=$(free_port)
	t0=$(ms)
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z \
	    --wait 1.5 127.0.0.1 "$A_PORT,$p,$q"
	t=$(( $(ms) - t0 ))
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	lo=$p hi=$q
	[ "$lo" -lt "$hi" ] || { lo=$q; hi=$p; }
	[ "$stderr" = "cstream: connect: not ready after 1.5 s: 127.0.0.1:$lo: Connection refused, 127.0.0.1:$hi: Connection refused" ]
	[ "$t" -lt 2700 ]
}

@test "unix-connect --wait: the socket file appears late" {
	late_server 1.5 unix-serve --echo "$T/late.sock"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" unix-connect \
	    --wait 6 "$T/late.sock" --send 'hi\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "hi" ]
}

@test "unix-connect --wait: no socket file: exit 4, ENOENT named" {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" unix-connect \
	    --wait 1 "$T/none.sock"
	[ "$status" -eq 4 ]
	[ "$stderr" = "cstream: unix-connect: $T/none.sock: not ready after 1 s: connect to $T/none.sock: No such file or directory" ]
}

@test "http-head --wait: 503 then 200, printed once ready" {
	py_server "$PEERS/ready_server.py" 2
	run --separate-stderr run_with_timeout 10 "$CSTREAM" -v http-head \
	    --wait 6 "http://127.0.0.1:$PY_PORT/"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
	[ "${#lines[@]}" -eq 4 ]
	[ "$(printf '%s\n' "$stderr" | grep -c '^cstream: wait attempt=[12] error=HTTP 503$')" -eq 2 ]
	[[ $stderr == *"cstream: ready attempt=3 "* ]]
}

@test "http-head --wait: still 503 at SEC: exit 4 and the last status" {
	py_server "$PEERS/ready_server.py" 100
	t0=$(ms)
	run --separate-stderr run_with_timeout 10 "$CSTREAM" http-head \
	    --wait 1.5 "http://127.0.0.1:$PY_PORT/"
	t=$(( $(ms) - t0 ))
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	[ "$stderr" = "cstream: http-head: http://127.0.0.1:$PY_PORT/: not ready after 1.5 s: HTTP 503" ]
	[ "$t" -lt 2700 ]
}

@test "http-head --wait: a server that never answers still ends at SEC" {
	py_server "$PEERS/send_server.py" '' hold
	t0=$(ms)
	run --separate-stderr run_with_timeout 10 "$CSTREAM" http-head \
	    --wait 1.5 "http://127.0.0.1:$PY_PORT/"
	t=$(( $(ms) - t0 ))
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	[[ $stderr == "cstream: http-head: http://127.0.0.1:$PY_PORT/: not ready after 1.5 s: http://127.0.0.1:$PY_PORT/: no response within "*" seconds" ]]
	[ "$t" -lt 2700 ]
}

@test "http-head --wait --expect-status: waits for the status named" {
	py_server "$PEERS/ready_server.py" 1
	run --separate-stderr run_with_timeout 10 "$CSTREAM" http-head \
	    --wait 1.5 --expect-status 503 "http://127.0.0.1:$PY_PORT/"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 503 Service Unavailable" ]
}

# --- --expect-status ------------------------------------------------------

@test "http-head --expect-status: codes and classes, exit 10 otherwise" {
	py_server "$PEERS/ready_server.py" 0
	run --separate-stderr "$CSTREAM" http-head --expect-status 204,2xx \
	    "http://127.0.0.1:$PY_PORT/"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
	run --separate-stderr "$CSTREAM" http-head --expect-status 3xx,404 \
	    "http://127.0.0.1:$PY_PORT/"
	[ "$status" -eq 10 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
	[ "$stderr" = "cstream: http-head: http://127.0.0.1:$PY_PORT/: HTTP 200, expected 3xx,404" ]
}

@test "http-head --expect-status: a malformed list is a usage error" {
	run --separate-stderr "$CSTREAM" http-head --expect-status 2xy \
	    http://127.0.0.1:1/
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: http-head: --expect-status 2xy: '2xy' is not a status (100-599) or a class (2xx)" ]
	run --separate-stderr "$CSTREAM" http-head --wait 0 http://127.0.0.1:1/
	[ "$status" -eq 2 ]
}

# --- --expect ---------------------------------------------------------------

_redis_pongs() {
	[ "$(timeout 2 "$CSTREAM" connect 127.0.0.1 "$R_PORT" \
	    --send 'PING\r\n' --read-line 2>/dev/null)" = $'+PONG\r' ]
}

start_redis() {
	require_cmd redis-server
	R_PORT=$(free_port)
	bg R redis-server --port "$R_PORT" --bind 127.0.0.1 --save '' \
	    --appendonly no --daemonize no --dir "$T"
	wait_for _redis_pongs
}

@test "--expect: redis PING answers +PONG" {
	start_redis
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    127.0.0.1 "$R_PORT" --send 'PING\r\n' --read-line --expect '^\+PONG'
	[ "$status" -eq 0 ]
	[ "$output" = $'+PONG\r' ]
	[ -z "$stderr" ]
}

@test "--expect: a mismatch exits 10 quoting what arrived" {
	start_redis
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    127.0.0.1 "$R_PORT" --send 'PING\r\n' --read-line --expect '^-ERR'
	[ "$status" -eq 10 ]
	[ "$output" = $'+PONG\r' ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$R_PORT: expected '^-ERR', got '+PONG\\r\\n'" ]
}

@test "--expect: send, read, expect in order make a dialogue" {
	start_redis
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    127.0.0.1 "$R_PORT" \
	    --send 'SET k hello\r\n' --read-line --expect '^\+OK' \
	    --send 'GET k\r\n' --read-line --expect '^\$5' \
	    --read-line --expect '^hello' \
	    --send 'GET nope\r\n' --read-line --expect '^\$-1'
	[ "$status" -eq 0 ]
	[ "$output" = $'+OK\r\n$5\r\nhello\r\n$-1\r' ]
	# The second step fails: what follows is not run.
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    127.0.0.1 "$R_PORT" \
	    --send 'GET k\r\n' --read-line --expect '^\$9' \
	    --send 'QUIT\r\n' --read-line
	[ "$status" -eq 10 ]
	[ "$output" = $'$5\r' ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$R_PORT: expected '^\\\$9', got '\$5\\r\\n'" ]
}

@test "--expect after --read-until, --read-exactly, --read-all" {
	py_server "$PEERS/send_server.py" '220 hi\r\n250-a\r\n250 b\r\nrest of it'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    127.0.0.1 "$PY_PORT" --read-until '250 ' --expect '^250-a' \
	    --read-exactly 3 --expect '^b.$' --read-all --expect 'of it$' \
	    </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = $'220 hi\r\n250-a\r\n250 b\r\nrest of it' ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    127.0.0.1 "$PY_PORT" --read-all --expect 'nothing' </dev/null
	[ "$status" -eq 10 ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$PY_PORT: expected 'nothing', got '220 hi\\r\\n250-a\\r\\n250 b\\r\\nrest of it'" ]
}

@test "--expect: a long reply is quoted bounded, with ..." {
	py_server "$PEERS/send_server.py" "$(printf 'x%.0s' $(seq 500))"'\n'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    127.0.0.1 "$PY_PORT" --read-line --expect '^y' </dev/null
	[ "$status" -eq 10 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == *"got 'xxxx"*"...'" ]]
	[ "${#stderr}" -lt 300 ]
}

@test "--expect: usage errors" {
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 1 --send x \
	    --expect foo
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --expect foo: --expect follows a --read* option" ]
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 1 --read-line \
	    --expect 'a('
	[ "$status" -eq 2 ]
	[[ ${stderr_lines[0]} == "cstream: connect: --expect a(: "* ]]
	run --separate-stderr "$CSTREAM" connect -z 127.0.0.1 1 --read-line \
	    --expect a
	[ "$status" -eq 2 ]
}

# --- readiness --------------------------------------------------------------

@test "serve --ready-file: the Serving on lines, atomically; removed at exit" {
	bg S "$CSTREAM" serve -q --echo 127.0.0.1 0 --ready-file "$T/ready"
	wait_for_file "$T/ready"
	line=$(cat "$T/ready")
	[[ $line =~ ^Serving\ on\ 127\.0\.0\.1:([0-9]+)$ ]]
	port=${BASH_REMATCH[1]}
	[ "$port" -ne 0 ]
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$port" \
	    --send 'ok\n' --read-line
	[ "$output" = "ok" ]
	# Nothing else is left beside it (the temporary file was renamed).
	[ "$(ls "$T" | grep -c '^ready')" -eq 1 ]
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" -eq 0 ]
	[ ! -e "$T/ready" ]
}

@test "serve --ready-file: every listener, as printed on stderr" {
	bg S "$CSTREAM" serve --discard localhost 0 --ready-file "$T/ready"
	wait_for_file "$T/ready"
	wait_for lines_matching "$S_ERR" '^Serving on ' "$(wc -l <"$T/ready")"
	[ "$(cat "$T/ready")" = "$(grep '^Serving on ' "$S_ERR")" ]
}

@test "unix-serve --ready-file" {
	bg S "$CSTREAM" unix-serve --echo "$T/u.sock" --ready-file "$T/ready"
	wait_for_file "$T/ready"
	[ "$(cat "$T/ready")" = "Serving on $T/u.sock" ]
	[ -S "$T/u.sock" ]
}

@test "serve --ready-fd: the lines on the descriptor, then it is closed" {
	mkfifo "$T/fifo"
	bg S bash -c 'exec "$@" 5>"$0"' "$T/fifo" "$CSTREAM" serve --echo \
	    127.0.0.1 0 --ready-fd 5
	# cat ends only when the descriptor is closed (by us and the shell).
	run run_with_timeout 5 cat "$T/fifo"
	[ "$status" -eq 0 ]
	[[ $output =~ ^Serving\ on\ 127\.0\.0\.1:([0-9]+)$ ]]
	port=${BASH_REMATCH[1]}
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$port" \
	    --send 'fd\n' --read-line
	[ "$output" = "fd" ]
}

@test "serve --ready-fd: a descriptor that is not open is a usage error" {
	run --separate-stderr "$CSTREAM" serve --echo 127.0.0.1 0 --ready-fd 77
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: serve: --ready-fd 77: not an open descriptor above 2" ]
}

# notify_listener PATH: the stand-in for systemd's notify socket.
notify_listener() {
	bg N python3 -u "$PEERS/notify_listener.py" "$1" 2
	wait_for_match "$N_OUT" '^listening$'
}

@test "sd_notify: READY=1 with STATUS=, STOPPING=1 (a path socket)" {
	notify_listener "$T/notify"
	NOTIFY_SOCKET=$T/notify start_server S "$CSTREAM" serve --echo \
	    127.0.0.1 0
	wait_for lines_matching "$N_OUT" '^READY=1' 1
	stop_pid "$S_PID"
	wait_pid_exit "$N_PID"
	[ "$(cat "$N_OUT")" = "listening
READY=1|STATUS=Serving on 127.0.0.1:$S_PORT|
STOPPING=1|" ]
}

@test "sd_notify: an abstract socket (@name), unix-serve" {
	name="@cstream-notify-$$-$RANDOM"
	notify_listener "$name"
	NOTIFY_SOCKET=$name start_server S "$CSTREAM" unix-serve --echo \
	    "$T/n.sock"
	wait_for lines_matching "$N_OUT" '^READY=1' 1
	stop_pid "$S_PID"
	wait_pid_exit "$N_PID"
	[ "$(cat "$N_OUT")" = "listening
READY=1|STATUS=Serving on $T/n.sock|
STOPPING=1|" ]
}

# --- socket activation ------------------------------------------------------

# activate PREFIX ADDR ARGS...: systemd-socket-activate -l ADDR cstream ARGS.
activate() {
	local prefix=$1 addr=$2

	shift 2
	require_cmd systemd-socket-activate
	bg "$prefix" systemd-socket-activate -l "$addr" "$CSTREAM" "$@"
	wait_for_match "$T/$prefix.err" '^Listening on '
}

@test "socket activation: serve --echo on systemd-socket-activate -l PORT" {
	p=$(free_port)
	activate A "127.0.0.1:$p" -v serve --echo
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$p" \
	    --send 'activated\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "activated" ]
	wait_for_match "$A_ERR" "^Serving on 127\.0\.0\.1:$p\$"
	grep -q '^cstream: activated fd=3 name=' "$A_ERR"
}

@test "socket activation: unix-serve on -l PATH, --ready-file too" {
	activate A "$T/act.sock" unix-serve --echo --ready-file "$T/ready"
	run run_with_timeout 5 "$CSTREAM" unix-connect "$T/act.sock" \
	    --send 'unix\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "unix" ]
	wait_for_file "$T/ready"
	[ "$(cat "$T/ready")" = "Serving on $T/act.sock" ]
	# The socket file is the service manager's: left in place.
	stop_pid "$A_PID"
	[ -S "$T/act.sock" ]
}

@test "socket activation: --sh-exec children do not see LISTEN_*" {
	p=$(free_port)
	activate A "127.0.0.1:$p" serve \
	    --sh-exec 'echo "${LISTEN_FDS:-unset} ${LISTEN_PID:-unset}"'
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$p" --read-line \
	    </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "unset unset" ]
}

@test "socket activation: no address and no LISTEN_FDS stays a usage error" {
	run --separate-stderr "$CSTREAM" serve --echo
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: serve: missing argument" ]
	# LISTEN_PID names another process: not for us.
	run --separate-stderr env LISTEN_PID=1 LISTEN_FDS=1 "$CSTREAM" \
	    unix-serve --echo
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: unix-serve: missing argument" ]
}

# --- timings ----------------------------------------------------------------

# monotone JSON: dns_ms <= connect_ms <= first_byte_ms <= total_ms, all
# numbers, tls_ms absent without TLS; prints first_byte_ms - connect_ms.
monotone() {
	python3 -c '
import json, sys
o = json.loads(sys.argv[1])
keys = ["dns_ms", "connect_ms", "first_byte_ms", "total_ms"]
assert "tls_ms" not in o, o
v = [o[k] for k in keys]
assert all(isinstance(x, (int, float)) for x in v), o
assert v == sorted(v), o
print(int(o["first_byte_ms"] - o["connect_ms"]))' "$1"
}

@test "timings: http-head --json, a peer that answers after 400 ms" {
	py_server "$PEERS/ready_server.py" 0 400
	run --separate-stderr run_with_timeout 5 "$CSTREAM" http-head --json \
	    "http://127.0.0.1:$PY_PORT/"
	[ "$status" -eq 0 ]
	gap=$(monotone "$output")
	[ "$gap" -ge 390 ]
	[ "$gap" -lt 2000 ]
}

@test "timings: connect's JSON closed event and its -v line" {
	py_server "$PEERS/ready_server.py" 0 300
	run --separate-stderr run_with_timeout 5 "$CSTREAM" -v --log-format \
	    json connect 127.0.0.1 "$PY_PORT" --send 'HEAD / HTTP/1.0\r\n\r\n' \
	    --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
	closed=$(printf '%s\n' "$stderr" | grep '"event":"closed"')
	gap=$(monotone "$closed")
	[ "$gap" -ge 290 ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" -v connect \
	    127.0.0.1 "$PY_PORT" --send 'HEAD / HTTP/1.0\r\n\r\n' --read-line
	[ "$status" -eq 0 ]
	[[ ${stderr_lines[2]} =~ ^cstream:\ timings\ dns_ms=[0-9.]+\ connect_ms=[0-9.]+\ first_byte_ms=[0-9.]+\ total_ms=[0-9.]+$ ]]
}

@test "timings: connect -z --json, and --wait counts the wait" {
	start_server A "$CSTREAM" serve --discard 127.0.0.1 0
	run --separate-stderr "$CSTREAM" connect -z --json 127.0.0.1 "$A_PORT"
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert o["state"] == "open", o
v = [o[k] for k in ["dns_ms", "connect_ms", "total_ms"]]
assert v == sorted(v) and v[2] < 1000, o' "$output"
	p=$(free_port)
	late_server 1 serve --discard 127.0.0.1 "$p"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z --json \
	    --wait 5 127.0.0.1 "$p"
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert o["state"] == "open" and o["total_ms"] >= 900, o' "$output"
}

@test "timings: tls_ms with --tls, between connect and first byte" {
	require_cmd openssl
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" \
	    -out "$T/c.pem" -days 1 -subj /CN=localhost 2>/dev/null
	start_server S "$CSTREAM" serve --echo --tls --cert "$T/c.pem" \
	    --key "$T/k.pem" 127.0.0.1 0
	run --separate-stderr run_with_timeout 5 "$CSTREAM" -v --log-format \
	    json connect --tls -k 127.0.0.1 "$S_PORT" --send 'x\n' --read-line
	[ "$status" -eq 0 ]
	closed=$(printf '%s\n' "$stderr" | grep '"event":"closed"')
	python3 -c '
import json, sys
o = json.loads(sys.argv[1])
v = [o[k] for k in ["dns_ms", "connect_ms", "tls_ms", "first_byte_ms", "total_ms"]]
assert v == sorted(v), o' "$closed"
}
