#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# nc's everyday options on connect: -C (CRLF), -x (hex dump), -s/-p
# (source address and port) and service names, against real peers: a
# python recorder, redis-server, nc.openbsd -l, socat.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
PEERS=$BATS_TEST_DIRNAME/../peers
REBUILD=${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/hexdump-rebuild.py

# recorder ARGS...: tests/peers/recorder.py $T/rec ARGS; sets PY_PORT.
recorder() {
	py_server "$PEERS/recorder.py" "$T/rec" "$@"
}

# recorded: wait for the recorder's file, then print it through od -c.
recorded() {
	wait_for_file "$T/rec"
	od -An -c "$T/rec" | tr -s ' \n' ' '
}

# --- -C, --crlf --------------------------------------------------------------

@test "-C: stdin's LF goes out as CRLF, an existing CRLF is kept" {
	recorder
	run --separate-stderr run_with_timeout 5 bash -c \
	    'printf "a\nb\r\nc\n\nd" | exec "$0" connect -C 127.0.0.1 "$1"' \
	    "$CSTREAM" "$PY_PORT"
	[ "$status" -eq 0 ]
	[ "$(recorded)" = ' a \r \n b \r \n c \r \n \r \n d ' ]
}

@test "-C with stdin a regular file: no sendfile, every LF converted" {
	recorder
	printf 'l1\nl2\r\nl3\n' >"$T/in"
	run --separate-stderr run_with_timeout 5 bash -c \
	    'exec "$0" connect -C 127.0.0.1 "$1" <"$2"' "$CSTREAM" "$PY_PORT" \
	    "$T/in"
	[ "$status" -eq 0 ]
	[ "$(recorded)" = ' l 1 \r \n l 2 \r \n l 3 \r \n ' ]
}

@test "--crlf: --send and --send-file too; a CR ending one chunk is not doubled" {
	recorder
	printf 'f1\nf2\r' >"$T/file"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect --crlf \
	    127.0.0.1 "$PY_PORT" --send 'x\r' --send '\ny\n' \
	    --send-file "$T/file" --send '\nz\n' -N --read-all
	[ "$status" -eq 0 ]
	[ "$(recorded)" = ' x \r \n y \r \n f 1 \r \n f 2 \r \n z \r \n ' ]
}

@test "-C across stdin reads: CR at the end of one read, LF at the next" {
	recorder
	# Two writes apart, so that (most likely) they are two reads; the
	# bytes expected are the same however the reads fall.
	run --separate-stderr run_with_timeout 5 bash -c \
	    '{ printf "one\r"; sleep 0.3; printf "\ntwo\n"; } |
	    exec "$0" connect -C 127.0.0.1 "$1"' "$CSTREAM" "$PY_PORT"
	[ "$status" -eq 0 ]
	[ "$(recorded)" = ' o n e \r \n t w o \r \n ' ]
}

@test "-C against redis-server: an inline command typed with LF" {
	require_cmd redis-server
	port=$(free_port)
	bg R redis-server --port "$port" --bind 127.0.0.1 --save '' \
	    --appendonly no --daemonize no --dir "$T"
	for i in $(seq 100); do
		out=$(timeout 2 "$CSTREAM" connect -C 127.0.0.1 "$port" \
		    --send 'PING\n' --read-line 2>/dev/null) && break
		sleep 0.05
	done
	run --separate-stderr run_with_timeout 5 bash -c \
	    'printf "SET k \"a b\"\nGET k\n" | exec "$0" connect -C 127.0.0.1 "$1" \
	    --read-line --read-line --read-line' "$CSTREAM" "$port"
	[ "$status" -eq 0 ]
	[ "$output" = $'+OK\r\n$3\r\na b\r' ]
}

@test "-C with nc.openbsd -l as the receiver" {
	require_cmd nc.openbsd
	port=$(free_port)
	bg N nc.openbsd -l 127.0.0.1 "$port"
	for i in $(seq 100); do
		grep -q "^ *[0-9]*: 0100007F:$(printf '%04X' "$port") 00000000:0000 0A " \
		    /proc/net/tcp && break
		sleep 0.05
	done
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect -C \
	    127.0.0.1 "$port" --send 'HELO x\nQUIT\n' -N
	[ "$status" -eq 0 ]
	wait_pid_exit "$N_PID" 5 || true
	[ "$(od -An -c "$N_OUT" | tr -s ' \n' ' ')" = ' H E L O x \r \n Q U I T \r \n ' ]
}

# --- -x, --hex-dump ----------------------------------------------------------

@test "-x: header and hexdump -C lines for each direction" {
	recorder --reply 'hello\n'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    -x "$T/dump" 127.0.0.1 "$PY_PORT" --send 'GET / HTTP/1.0\r\n\r\n' \
	    -N --read-all
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	[ "$(cat "$T/dump")" = '> 0 18
00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 30 0d 0a  |GET / HTTP/1.0..|
00000010  0d 0a                                             |..|
< 0 6
00000000  68 65 6c 6c 6f 0a                                 |hello.|' ]
}

@test "-x: --send without --read*: the reply relayed to stdout is dumped too" {
	recorder --reply 'hello\n'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    -x "$T/dump" 127.0.0.1 "$PY_PORT" --send 'hi' -N
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	[ "$(cat "$T/dump")" = '> 0 2
00000000  68 69                                             |hi|
< 0 6
00000000  68 65 6c 6c 6f 0a                                 |hello.|' ]
}

@test "-x: the lines are hexdump -C's, repeats never collapsed to '*'" {
	require_cmd hexdump
	recorder
	head -c 100 /dev/zero >"$T/zeros"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    -x "$T/dump" 127.0.0.1 "$PY_PORT" --send-file "$T/zeros" -N
	[ "$status" -eq 0 ]
	[ "$(head -1 "$T/dump")" = "> 0 100" ]
	[ "$(tail -n +2 "$T/dump")" = "$(hexdump -v -C "$T/zeros" | sed '$d')" ]
	! grep -qx '\*' "$T/dump"
}

@test "-x -: the dump goes to stderr; offsets run on per direction" {
	recorder --greet 'hi\n' --reply 'bye\n'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect -x - \
	    127.0.0.1 "$PY_PORT" --read-line --send 'abc' --send 'def' -N \
	    --read-all
	[ "$status" -eq 0 ]
	[ "$output" = $'hi\nbye' ]
	# One-shot mode sends first, then reads: the dump shows that order.
	[ "$stderr" = '> 0 3
00000000  61 62 63                                          |abc|
> 3 3
00000003  64 65 66                                          |def|
< 0 3
00000000  68 69 0a                                          |hi.|
< 3 4
00000003  62 79 65 0a                                       |bye.|' ]
}

@test "-x: 1 MiB of binary each way through the relay rebuilds byte for byte" {
	head -c 1048576 /dev/urandom >"$T/data"
	recorder --echo
	run --separate-stderr run_with_timeout 20 bash -c \
	    'exec "$0" connect -x "$1" 127.0.0.1 "$2" <"$3" >"$4"' \
	    "$CSTREAM" "$T/dump" "$PY_PORT" "$T/data" "$T/got"
	[ "$status" -eq 0 ]
	cmp "$T/data" "$T/got"
	cmp "$T/data" "$T/rec"
	python3 "$REBUILD" "$T/dump" "$T/sent" "$T/received"
	cmp "$T/data" "$T/sent"
	cmp "$T/data" "$T/received"
}

@test "-x with --send-file and --read-all rebuilds both directions" {
	head -c 300000 /dev/urandom >"$T/data"
	recorder --reply 'done\r\n'
	run --separate-stderr run_with_timeout 20 "$CSTREAM" connect \
	    --hex-dump "$T/dump" 127.0.0.1 "$PY_PORT" --send-file "$T/data" -N \
	    --read-all
	[ "$status" -eq 0 ]
	[ "$output" = $'done\r' ]
	python3 "$REBUILD" "$T/dump" "$T/sent" "$T/received"
	cmp "$T/data" "$T/sent"
	cmp "$T/data" "$T/rec"
	[ "$(cat "$T/received")" = $'done\r' ]
}

@test "-x and -C: the dump shows the bytes as sent (CRLF)" {
	recorder
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect -C \
	    -x "$T/dump" 127.0.0.1 "$PY_PORT" --send 'a\nb' -N
	[ "$status" -eq 0 ]
	[ "$(cat "$T/dump")" = '> 0 4
00000000  61 0d 0a 62                                       |a..b|' ]
}

@test "-x: unix-connect against socat" {
	require_cmd socat
	bg S socat "UNIX-LISTEN:$T/s.sock" EXEC:cat
	wait_for_file "$T/s.sock"
	for i in $(seq 100); do
		awk -v p="$T/s.sock" '$4 == "00010000" && $8 == p { f = 1 } END { exit !f }' \
		    /proc/net/unix && break
		sleep 0.05
	done
	run --separate-stderr run_with_timeout 5 "$CSTREAM" unix-connect \
	    -x "$T/dump" "$T/s.sock" --send 'ping' -N --read-all
	[ "$status" -eq 0 ]
	[ "$output" = ping ]
	python3 "$REBUILD" "$T/dump" "$T/sent" "$T/received"
	[ "$(cat "$T/sent")" = ping ]
	[ "$(cat "$T/received")" = ping ]
}

@test "-x: a dump file that cannot be opened is exit 1, named" {
	run --separate-stderr "$CSTREAM" connect -x "$T/no/such/dir/f" \
	    127.0.0.1 9 --send x
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: --hex-dump $T/no/such/dir/f: No such file or directory" ]
}

# --- -s, --source; -p, --source-port ----------------------------------------

@test "-s 127.0.0.1 -p PORT: the peer sees that address and port" {
	recorder
	sport=$(free_port)
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    -s 127.0.0.1 -p "$sport" 127.0.0.1 "$PY_PORT" --send hi -N
	[ "$status" -eq 0 ]
	wait_for_file "$T/rec"
	[ "$(cat "$T/rec.peer")" = "127.0.0.1 $sport" ]
}

@test "--source-port alone, and a service name for it" {
	recorder
	sport=$(free_port)
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --source-port "$sport" 127.0.0.1 "$PY_PORT" --send hi -N
	[ "$status" -eq 0 ]
	wait_for_file "$T/rec"
	[ "$(cat "$T/rec.peer")" = "127.0.0.1 $sport" ]
}

@test "-s ::1 -6 -p PORT over IPv6" {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' ||
	    skip "no IPv6 loopback"
	recorder --host ::1
	sport=$(free_port)
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect -6 \
	    --source ::1 -p "$sport" ::1 "$PY_PORT" --send hi -N
	[ "$status" -eq 0 ]
	wait_for_file "$T/rec"
	[ "$(cat "$T/rec.peer")" = "::1 $sport" ]
}

@test "-s: an address that is not local is exit 1, named" {
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    -s 192.0.2.1 127.0.0.1 9 --send x
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: bind to 192.0.2.1: Cannot assign requested address" ]
}

@test "-s of the other family than -4/-6 asks for is exit 1" {
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect -6 \
	    -s 127.0.0.1 ::1 9 --send x
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: bind to 127.0.0.1: Address family not supported by protocol" ]
}

@test "-p: a port in use (a listener's) is exit 1, named" {
	start_server A "$CSTREAM" serve --discard 127.0.0.1 0
	start_server B "$CSTREAM" serve --discard 127.0.0.1 0
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    -s 127.0.0.1 -p "$A_PORT" 127.0.0.1 "$B_PORT" --send x
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: bind to 127.0.0.1:$A_PORT: Address already in use" ]
}

@test "-s/-p with unix-connect is a usage error" {
	run --separate-stderr "$CSTREAM" unix-connect -s 127.0.0.1 "$T/s.sock"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: unix-connect: --source and --source-port are for TCP connections" ]
}

# --- service names -----------------------------------------------------------

@test "connect HOST SERVICE: the services database gives the port" {
	# tcpmux is port 1: nothing listens there; the message shows the number.
	grep -q '^tcpmux[[:space:]]*1/tcp' /etc/services || skip "no tcpmux"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    127.0.0.1 tcpmux --send x
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: connect to 127.0.0.1:1: Connection refused" ]
}

@test "an unknown service is a usage error naming it (connect, serve, -p)" {
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 foo
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: unknown service: foo" ]
	run --separate-stderr "$CSTREAM" serve 127.0.0.1 nosuchsvc
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: serve: unknown service: nosuchsvc" ]
	run --separate-stderr "$CSTREAM" connect -p nosuchsvc 127.0.0.1 9
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --source-port unknown service: nosuchsvc" ]
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 80x
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: port 80x: not a port number (0-65535)" ]
}

@test "serve SERVICE listens on the service's port" {
	local name port

	# A service above 1024 that nothing listens on now.
	while read -r name port; do
		port=${port%/tcp}
		grep -q "^ *[0-9]*: [0-9A-F]*:$(printf '%04X' "$port") " \
		    /proc/net/tcp /proc/net/tcp6 || break
	done < <(awk '$2 ~ /^[0-9]+\/tcp$/ && $2 + 0 > 20000 { print $1, $2 }' \
	    /etc/services)
	[ -n "$name" ] || skip "no free service port"
	start_server S "$CSTREAM" serve --echo 127.0.0.1 "$name"
	[ "$S_PORT" = "$port" ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$name" --send 'hi\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
}

# --- -x on serve and unix-serve ------------------------------------------------

@test "serve -x: the headers carry the client's address; both ways rebuild" {
	sport=$(free_port)
	printf 'from server' >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" serve -x "$T/dump" 127.0.0.1 0
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect -p "$sport" \
	    127.0.0.1 "$S_PORT" --send hello -N --read-all
	[ "$status" -eq 0 ]
	[ "$output" = "from server" ]
	wait_pid_exit "$S_PID" 5
	python3 "$REBUILD" "$T/dump" "$T/sent" "$T/received" "127.0.0.1:$sport"
	[ "$(cat "$T/sent")" = "from server" ]
	[ "$(cat "$T/received")" = hello ]
	grep -qx "< 127.0.0.1:$sport 0 5" "$T/dump"
}

@test "serve --echo -x -: each chunk is dumped received, then sent" {
	sport=$(free_port)
	start_server S "$CSTREAM" serve --echo -x - 127.0.0.1 0
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect -p "$sport" \
	    127.0.0.1 "$S_PORT" --send ping -N --read-all
	[ "$status" -eq 0 ]
	[ "$output" = ping ]
	wait_for_match "$S_ERR" '^> 127\.0\.0\.1:[0-9]+ 0 4$'
	[ "$(grep -v '^Serving on' "$S_ERR")" = "< 127.0.0.1:$sport 0 4
00000000  70 69 6e 67                                       |ping|
> 127.0.0.1:$sport 0 4
00000000  70 69 6e 67                                       |ping|" ]
}

@test "unix-serve --discard -x: a unix client is labelled #1" {
	start_server S "$CSTREAM" unix-serve --discard -x "$T/dump" "$T/s.sock"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" unix-connect \
	    "$T/s.sock" --send abc -N
	[ "$status" -eq 0 ]
	wait_for_match "$T/dump" '\|abc\|$'
	[ "$(cat "$T/dump")" = "< #1 0 3
00000000  61 62 63                                          |abc|" ]
}

@test "serve -x with --workers is a usage error" {
	run --separate-stderr "$CSTREAM" serve -x "$T/dump" --workers 2 \
	    --echo 127.0.0.1 0
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: serve: --hex-dump cannot be used with --workers" ]
}
