#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# serve and unix-serve: every mode, the listener's rules, shutdown, and
# bulk transfers checked byte for byte.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
PEERS=$BATS_TEST_DIRNAME/../peers

# stdin_stalled PID: true when PID has read some of its stdin (a regular
# file) and its offset stayed put for 0.2 s: backpressure has stopped it.
stdin_stalled() {
	local a b

	a=$(awk '/^pos:/ {print $2}' "/proc/$1/fdinfo/0") || return 1
	[ "${a:-0}" -gt 0 ] || return 1
	sleep 0.2
	b=$(awk '/^pos:/ {print $2}' "/proc/$1/fdinfo/0") || return 1
	[ "$a" = "$b" ]
}

@test "serve --echo answers the asyncio documentation's echo client" {
	start_server S "$CSTREAM" serve 127.0.0.1 0 --echo
	[ "$S_ADDR" = "127.0.0.1:$S_PORT" ]
	run --separate-stderr run_with_timeout 5 python3 "$PEERS/echo_client.py" \
	    127.0.0.1 "$S_PORT" 'Hello World!'
	[ "$status" -eq 0 ]
	[ "$output" = "Received: 'Hello World!'" ]
}

@test "serve --echo: line by line with connect" {
	start_server S "$CSTREAM" serve --echo 127.0.0.1 0
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$S_PORT" --send 'PING\r\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'PING\r' ]
}

@test "serve without HOST listens on IPv4 and IPv6 on one port" {
	start_server S "$CSTREAM" serve 0 --echo
	run wait_for_match "$S_ERR" '^Serving on \[::\]:'
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p "$S_ERR")" = "Serving on 0.0.0.0:$S_PORT" ]
	[ "$(sed -n 2p "$S_ERR")" = "Serving on [::]:$S_PORT" ]
	run run_with_timeout 5 "$CSTREAM" connect ::1 "$S_PORT" --send 'v6\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "v6" ]
}

@test "-q silences the Serving on line" {
	port=$(free_port)
	bg S "$CSTREAM" -q serve 127.0.0.1 "$port" --echo
	wait_for tcp_listening "$port"
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$port" --send 'q\n' --read-line
	[ "$output" = "q" ]
	[ ! -s "$S_ERR" ]
}

@test "default mode: one client relayed with stdio, then exit 0" {
	printf 'from server\n' >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" serve 127.0.0.1 0
	run --separate-stderr run_with_timeout 5 bash -c \
	    "printf 'from client\n' | '$CSTREAM' connect 127.0.0.1 $S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "from server" ]
	wait_pid_exit "$S_PID" 5
	[ "$(cat "$S_OUT")" = "from client" ]
}

@test "256 MiB from connect to serve arrive intact" {
	head -c 268435456 /dev/urandom >"$T/big"
	start_server S "$CSTREAM" serve 127.0.0.1 0
	run --separate-stderr run_with_timeout 60 "$CSTREAM" connect 127.0.0.1 \
	    "$S_PORT" <"$T/big"
	[ "$status" -eq 0 ]
	wait_pid_exit "$S_PID" 20
	[ "$(sha256 "$S_OUT")" = "$(sha256 "$T/big")" ]
}

@test "256 MiB through serve --echo both ways arrive intact" {
	head -c 268435456 /dev/urandom >"$T/big"
	start_server S "$CSTREAM" serve 127.0.0.1 0 --echo
	run_with_timeout 60 "$CSTREAM" connect 127.0.0.1 "$S_PORT" <"$T/big" >"$T/back"
	[ "$(sha256 "$T/back")" = "$(sha256 "$T/big")" ]
}

@test "256 MiB from serve's stdin to a client arrive intact" {
	head -c 268435456 /dev/urandom >"$T/big"
	BG_STDIN=$T/big start_server S "$CSTREAM" serve 127.0.0.1 0
	run_with_timeout 60 "$CSTREAM" connect 127.0.0.1 "$S_PORT" </dev/null >"$T/got"
	[ "$(sha256 "$T/got")" = "$(sha256 "$T/big")" ]
	wait_pid_exit "$S_PID" 10
}

@test "--discard reads and drops" {
	start_server S "$CSTREAM" serve 127.0.0.1 0 --discard
	head -c 1000000 /dev/zero >"$T/z"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$S_PORT" <"$T/z"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "--keep-open: several clients' bytes go to stdout" {
	start_server S "$CSTREAM" serve 127.0.0.1 0 -k
	run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$S_PORT" --send 'one\n' -N --read-all
	run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$S_PORT" --send 'two\n' -N --read-all
	wait_for_match "$S_OUT" '^two$'
	[ "$(cat "$S_OUT")" = $'one\ntwo' ]
}

@test "--broker: one client's bytes reach the other" {
	start_server S "$CSTREAM" -v serve 127.0.0.1 0 --broker
	bg A "$CSTREAM" connect 127.0.0.1 "$S_PORT" --read-line
	wait_for_match "$S_ERR" '^cstream: accepted '
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$S_PORT" --send 'to all\n'
	wait_pid_exit "$A_PID" 5
	[ "$(cat "$A_OUT")" = "to all" ]
}

@test "--exec runs a command per client with the socket as stdio" {
	start_server S "$CSTREAM" serve 127.0.0.1 0 --exec "tr a-z A-Z"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$S_PORT" --send 'shout\n' -N --read-all
	[ "$status" -eq 0 ]
	[ "$output" = "SHOUT" ]
}

@test "--sh-exec sees the peer address in the environment" {
	start_server S "$CSTREAM" serve 127.0.0.1 0 --sh-exec \
	    'echo "$CSTREAM_PEER_ADDR"'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$S_PORT" --read-all </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1" ]
}

@test "--max-conns 1: a second client is closed at once and logged" {
	start_server S "$CSTREAM" -v serve 127.0.0.1 0 --echo --max-conns 1
	bg A "$CSTREAM" connect 127.0.0.1 "$S_PORT" --read-line
	wait_for_match "$S_ERR" '^cstream: accepted '
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$S_PORT" --read-all </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	wait_for_match "$S_ERR" 'max-conns'
}

@test "--deny closes a client before any byte" {
	start_server S "$CSTREAM" serve 127.0.0.1 0 --echo --deny 127.0.0.0/8
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$S_PORT" --send 'x\n' --read-line
	[ "$status" -ne 0 ]
	[ "$output" = "" ]
}

@test "--allow lets a matching client in" {
	start_server S "$CSTREAM" serve 127.0.0.1 0 --echo --allow 127.0.0.1
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$S_PORT" --send 'x\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "x" ]
}

@test "SIGTERM stops the server with exit 0" {
	start_server S "$CSTREAM" serve 127.0.0.1 0 --echo
	kill -TERM "$S_PID"
	wait_pid_exit "$S_PID" 6
	[ "$EXIT_STATUS" -eq 0 ]
}

@test "serve usage errors exit 2" {
	run --separate-stderr "$CSTREAM" serve 127.0.0.1 70000
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" serve 0 --echo --discard
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: serve: choose one of --keep-open, --echo, --discard, --exec, --sh-exec, --broker" ]
	run --separate-stderr "$CSTREAM" serve 0 --workers 2
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" serve 0 --echo --deny 300.1.1.1
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" serve 0 --echo --max-conns 0
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" serve
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" serve 0 --mode 600
	[ "$status" -eq 2 ]
}

@test "--workers 2 serves echo from two processes" {
	start_server S "$CSTREAM" serve 127.0.0.1 0 --echo --workers 2
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$S_PORT" --send 'w\n' --read-line
	[ "$output" = "w" ]
	[ "$(pgrep -c -P "$S_PID")" -eq 1 ]
	kill -TERM "$S_PID"
	wait_pid_exit "$S_PID" 6
	[ "$EXIT_STATUS" -eq 0 ]
}

@test "unix-serve --echo, and the socket file goes at SIGTERM" {
	start_server S "$CSTREAM" unix-serve "$T/s.sock" --echo
	[ "$S_ADDR" = "$T/s.sock" ]
	run run_with_timeout 5 "$CSTREAM" unix-connect "$T/s.sock" --send 'u\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "u" ]
	kill -TERM "$S_PID"
	wait_pid_exit "$S_PID" 6
	[ ! -e "$T/s.sock" ]
}

@test "unix-serve refuses a path that is not a socket, untouched" {
	printf 'precious\n' >"$T/file"
	run --separate-stderr "$CSTREAM" unix-serve "$T/file" --echo
	[ "$status" -eq 1 ]
	[[ "${stderr_lines[0]}" == "cstream: unix-serve: $T/file: "* ]]
	[ "$(cat "$T/file")" = "precious" ]
}

@test "unix-serve refuses a live socket and replaces a stale one" {
	start_server S "$CSTREAM" unix-serve "$T/s.sock" --echo
	run --separate-stderr "$CSTREAM" unix-serve "$T/s.sock" --echo
	[ "$status" -eq 1 ]
	[[ "${stderr_lines[0]}" == "cstream: unix-serve: $T/s.sock: "*"in use"* ]]
	kill -KILL "$S_PID"
	wait_pid_exit "$S_PID" 5 || true
	[ -S "$T/s.sock" ]
	start_server R "$CSTREAM" unix-serve "$T/s.sock" --echo
	run run_with_timeout 5 "$CSTREAM" unix-connect "$T/s.sock" --send 'again\n' --read-line
	[ "$output" = "again" ]
}

@test "unix-serve --mode sets the socket's permissions" {
	start_server S "$CSTREAM" unix-serve --mode 600 "$T/m.sock" --echo
	[ "$(stat -c %a "$T/m.sock")" = "600" ]
}

@test "unix-serve @name: an abstract socket, no file" {
	name="@cstream-test-$$-$RANDOM"
	start_server S "$CSTREAM" unix-serve "$name" --echo
	[ "$S_ADDR" = "$name" ]
	run run_with_timeout 5 "$CSTREAM" unix-connect "$name" --send 'abs\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "abs" ]
}

@test "unix-serve: a path over 107 bytes exits 2" {
	long=/tmp/$(printf 'a%.0s' {1..120})
	run --separate-stderr "$CSTREAM" unix-serve "$long"
	[ "$status" -eq 2 ]
}

@test "a slow reader does not grow cstream's memory" {
	# ASan's shadow memory would swamp the figure being checked.
	[ -z "${CSTREAM_SANITIZERS:-}" ] || skip "RSS is not meaningful under ASan"
	head -c 67108864 /dev/zero >"$T/z"
	BG_STDIN=$T/z start_server S "$CSTREAM" serve 127.0.0.1 0
	# stdout is a pipe nobody reads until the test opens the FIFO go:
	# connect must stop reading the socket, and serve must stop reading
	# its stdin. Measure once serve's stdin offset no longer moves.
	mkfifo "$T/go"
	bash -c "'$CSTREAM' connect 127.0.0.1 $S_PORT </dev/null |
	    (read -r _ <'$T/go'; cat >/dev/null)" 3>&- &
	reader=$!
	wait_for -t 10 stdin_stalled "$S_PID"
	pid=$(pgrep -f "connect 127.0.0.1 $S_PORT\$" | head -1)
	crss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
	srss=$(awk '/VmRSS/ {print $2}' "/proc/$S_PID/status")
	echo "connect rss=$crss kB, serve rss=$srss kB"
	[ "$crss" -lt 16384 ]
	[ "$srss" -lt 16384 ]
	echo go >"$T/go"
	wait "$reader"
	wait_pid_exit "$S_PID" 10
}

@test "-4 listens on IPv4 only, -6 on IPv6 only" {
	# An echo answered means startup, and its Serving on lines, is over.
	start_server S "$CSTREAM" -4 serve 0 --echo
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$S_PORT" --send 'x\n' --read-line
	[ "$output" = "x" ]
	[ "$(cat "$S_ERR")" = "Serving on 0.0.0.0:$S_PORT" ]
	start_server R "$CSTREAM" serve -6 0 --echo
	run run_with_timeout 5 "$CSTREAM" connect ::1 "$R_PORT" --send 'y\n' --read-line
	[ "$output" = "y" ]
	[ "$(cat "$R_ERR")" = "Serving on [::]:$R_PORT" ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect -6 \
	    127.0.0.1 "$S_PORT" --read-all </dev/null
	[ "$status" -eq 3 ]
}

@test "--idle-timeout closes a silent client, the server goes on" {
	start_server S "$CSTREAM" -v serve 127.0.0.1 0 --echo --idle-timeout 0.3
	# Without -N the client never half-closes: only the timeout ends it.
	run --separate-stderr run_with_timeout 3 "$CSTREAM" connect 127.0.0.1 \
	    "$S_PORT" --read-all </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	wait_for_match "$S_ERR" '^cstream: timeout peer=127.0.0.1:'
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$S_PORT" --send 'x\n' --read-line
	[ "$output" = "x" ]
}

@test "--keep-open sends stdin to every connected client" {
	mkfifo "$T/in"
	exec 4<>"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" -v serve 127.0.0.1 0 -k
	bg A "$CSTREAM" connect 127.0.0.1 "$S_PORT" --read-line
	bg B "$CSTREAM" connect 127.0.0.1 "$S_PORT" --read-line
	wait_for lines_matching "$S_ERR" '^cstream: accepted ' 2
	printf 'to everyone\n' >&4
	wait_pid_exit "$A_PID" 5
	wait_pid_exit "$B_PID" 5
	exec 4>&-
	[ "$(cat "$A_OUT")" = "to everyone" ]
	[ "$(cat "$B_OUT")" = "to everyone" ]
}

@test "out of descriptors: serve does not spin and serves again" {
	BG_STDIN=/dev/null bg S bash -c "ulimit -n 24; exec '$CSTREAM' -v serve 127.0.0.1 0 --echo"
	wait_for_match "$S_ERR" '^Serving on '
	port=$(sed -n 's/^Serving on 127.0.0.1://p' "$S_ERR")
	bg H python3 "$PEERS/hold_clients.py" "$port" 40 2
	wait_for_match "$H_OUT" '^40$'
	wait_for_match "$S_ERR" 'Too many open files'
	# Paused, not spinning: a handful of CPU ticks, not a busy core. The
	# sleep is the measuring window, not a wait for anything.
	ticks=$(awk '{print $14 + $15}' "/proc/$S_PID/stat")
	sleep 0.5
	ticks2=$(awk '{print $14 + $15}' "/proc/$S_PID/stat")
	[ $((ticks2 - ticks)) -lt 20 ]
	wait_pid_exit "$H_PID" 5
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$port" --send 'back\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "back" ]
}

@test "--keep-open: a client that half-closed still gets all of stdin" {
	mkfifo "$T/in"
	exec 4<>"$T/in"
	# The server must not inherit our writer, or the FIFO never ends.
	BG_STDIN=$T/in start_server S "$CSTREAM" -v serve 127.0.0.1 0 -k 4>&-
	bg A "$CSTREAM" connect 127.0.0.1 "$S_PORT" 4>&-
	wait_for_match "$S_ERR" '^cstream: accepted '
	head -c 3000000 /dev/urandom >"$T/data"
	cat "$T/data" >&4
	exec 4>&-
	wait_pid_exit "$A_PID" 10
	[ "$(sha256 "$A_OUT")" = "$(sha256 "$T/data")" ]
}

@test "--exec over --tls: the child talks plaintext through a socketpair" {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$T/k.pem" -out "$T/c.pem" -days 1 \
	    -subj /CN=localhost 2>/dev/null
	start_server S "$CSTREAM" serve --tls --cert "$T/c.pem" --key "$T/k.pem" \
	    127.0.0.1 0 --exec 'tr a-z A-Z'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect --tls \
	    --cafile "$T/c.pem" localhost "$S_PORT" --send 'shout\n' -N --read-all
	[ "$status" -eq 0 ]
	[ "$output" = "SHOUT" ]
}
