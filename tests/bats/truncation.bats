#!/usr/bin/env bats
#
# Never a silent truncation: --send* without --read* prints the
# reply; an interrupted sender resets; a receiver whose stdout fails
# resets; -v json counts are numbers; one stdout wording everywhere.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"

PEERS=$BATS_TEST_DIRNAME/../peers

# Run CMD with SIGINT at its default action (bats' background jobs have it
# ignored), keeping the PID: python execs in place.
SIGDFL=(python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])')
SIGIGN=(python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
os.execvp(sys.argv[1], sys.argv[1:])')

teardown() {
	if [ -n "${FULL_MNT:-}" ]; then
		umount "$FULL_MNT" 2>/dev/null || umount -l "$FULL_MNT" || true
	fi
	common_teardown
}

# file_size FILE: its size in bytes, 0 when it does not exist yet.
file_size() {
	stat -c %s "$1" 2>/dev/null || echo 0
}

# wait_size FILE MIN [SECS]: wait until FILE holds more than MIN bytes.
wait_size() {
	local deadline

	deadline=$(_helpers_deadline "${3:-$HELPERS_WAIT}")
	until [ "$(file_size "$1")" -gt "$2" ]; do
		if [ "$(_helpers_now)" -ge "$deadline" ]; then
			echo "wait_size: $1 not over $2 bytes after" \
			    "${3:-$HELPERS_WAIT} s" >&2
			return 1
		fi
		sleep 0.02
	done
}

# mount_full: a 1 MiB tmpfs at $T/full, to fill up (we run as root).
mount_full() {
	FULL_MNT=$T/full
	mkdir -p "$FULL_MNT"
	if ! mount -t tmpfs -o size=1m tmpfs "$FULL_MNT"; then
		FULL_MNT=
		echo "mount_full: cannot mount a tmpfs at $T/full (root and" \
		    "CAP_SYS_ADMIN are needed for this test)" >&2
		return 1
	fi
}

# --- 1. --send* without --read*: the reply goes to stdout -------------------

@test "--send alone prints what the asyncio echo server sends back" {
	py_server "$PEERS/echo_server.py"
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$PY_PORT" \
	    --send 'Hello World!'
	[ "$status" -eq 0 ]
	[ "$output" = "Hello World!" ]
}

@test "--send-file FILE -N prints the reply of a server that answers at EOF" {
	py_server "$PEERS/echo_server.py" --once-reply
	printf 'abc' >"$T/f.bin"
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$PY_PORT" \
	    --send-file "$T/f.bin" -N
	[ "$status" -eq 0 ]
	[ "$output" = "got 3 bytes" ]
}

@test "--send A --send B --eof prints the reply after EOF" {
	py_server "$PEERS/echo_server.py" --once-reply
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$PY_PORT" \
	    --send A --send 'B\n' --eof
	[ "$status" -eq 0 ]
	[ "$output" = "got 3 bytes" ]
}

@test "--send without -N does not half-close: --idle-timeout bounds the wait" {
	py_server "$PEERS/echo_server.py" --once-reply
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$PY_PORT" \
	    --send A --idle-timeout 0.3
	[ "$status" -eq 4 ]
	[ "$output" = "cstream: connect: 127.0.0.1:$PY_PORT: idle timeout (0.3 s without traffic)" ]
}

@test "--send-file to a peer that half-closed first: all of it is sent, exit 0" {
	py_server "$PEERS/halfclose_server.py"
	head -c 200000 /dev/zero >"$T/f.bin"
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$PY_PORT" \
	    --send-file "$T/f.bin" -N
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	wait_for_match "$PY_OUT" '^got 200000$'
}

@test "--send* with a --read* keeps the one-shot meaning" {
	py_server "$PEERS/echo_server.py"
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$PY_PORT" \
	    --send 'Hello World!' --read-exactly 5
	[ "$status" -eq 0 ]
	[ "$output" = "Hello" ]
}

@test "unix-connect --send alone prints the reply" {
	start_server S "$CSTREAM" unix-serve --echo "$T/s.sock"
	run run_with_timeout 5 "$CSTREAM" unix-connect "$T/s.sock" \
	    --send 'ping\n' -N
	[ "$status" -eq 0 ]
	[ "$output" = "ping" ]
}

# --- 3. an interrupted sender resets ----------------------------------------

# interrupted_sender SIG CODE: pv feeds 32 MiB at 5 MB/s to connect; SIG
# arrives once the receiver has bytes; both ends must say so.
interrupted_sender() {
	local sig=$1 code=$2 n got

	head -c 32M /dev/urandom >"$T/big.bin"
	start_server R "$CSTREAM" serve 127.0.0.1 0
	mkfifo "$T/in.fifo"
	bg PV bash -c 'exec pv -qL 5m "$1" >"$2"' _ "$T/big.bin" "$T/in.fifo"
	BG_STDIN=$T/in.fifo bg C "${SIGDFL[@]}" "$CSTREAM" connect \
	    127.0.0.1 "$R_PORT"
	wait_size "$R_OUT" 0
	kill "-$sig" "$C_PID"
	wait_pid_exit "$C_PID" 5 || true
	[ "$EXIT_STATUS" -eq "$code" ]
	run cat "$C_ERR"
	[[ $output =~ ^cstream:\ connect:\ interrupted:\ ([0-9]+)\ bytes\ sent,\ input\ not\ finished$ ]]
	n=${BASH_REMATCH[1]}
	wait_pid_exit "$R_PID" 5 || true
	[ "$EXIT_STATUS" -eq 1 ]
	run cat "$R_ERR"
	[[ $output =~ cstream:\ serve:\ read\ from\ 127\.0\.0\.1:[0-9]+:\ Connection\ reset\ by\ peer$ ]]
	got=$(file_size "$R_OUT")
	[ "$got" -gt 0 ] && [ "$got" -le "$n" ] && [ "$n" -lt 33554432 ]
}

@test "SIGINT with stdin unfinished: reset, message, exit 130; receiver exits 1" {
	require_cmd pv
	interrupted_sender INT 130
}

@test "SIGTERM with stdin unfinished: exit 143; receiver exits 1" {
	require_cmd pv
	interrupted_sender TERM 143
}

@test "SIGHUP with stdin unfinished: exit 129; receiver exits 1" {
	require_cmd pv
	interrupted_sender HUP 129
}

@test "a SIGINT ignored at start stays ignored; SIGTERM still interrupts" {
	require_cmd pv
	local before

	head -c 32M /dev/urandom >"$T/big.bin"
	start_server R "$CSTREAM" serve 127.0.0.1 0
	mkfifo "$T/in.fifo"
	bg PV bash -c 'exec pv -qL 5m "$1" >"$2"' _ "$T/big.bin" "$T/in.fifo"
	BG_STDIN=$T/in.fifo bg C "${SIGIGN[@]}" "$CSTREAM" connect \
	    127.0.0.1 "$R_PORT"
	wait_size "$R_OUT" 0
	kill -INT "$C_PID"
	before=$(file_size "$R_OUT")
	# Still sending after the signal: the receiver's file keeps growing.
	wait_size "$R_OUT" $((before + 1000000))
	pid_running "$C_PID"
	[ ! -s "$C_ERR" ]
	kill -TERM "$C_PID"
	wait_pid_exit "$C_PID" 5 || true
	[ "$EXIT_STATUS" -eq 143 ]
	run cat "$C_ERR"
	[[ $output =~ ^cstream:\ connect:\ interrupted:\ [0-9]+\ bytes\ sent,\ input\ not\ finished$ ]]
	wait_pid_exit "$R_PID" 5 || true
	[ "$EXIT_STATUS" -eq 1 ]
}

@test "serve: SIGINT with stdin unfinished and a client: reset, exit 130" {
	require_cmd pv
	local n

	head -c 32M /dev/urandom >"$T/big.bin"
	mkfifo "$T/in.fifo"
	bg PV bash -c 'exec pv -qL 5m "$1" >"$2"' _ "$T/big.bin" "$T/in.fifo"
	BG_STDIN=$T/in.fifo start_server S "${SIGDFL[@]}" "$CSTREAM" serve \
	    127.0.0.1 0
	bg C "$CSTREAM" connect 127.0.0.1 "$S_PORT"
	wait_size "$C_OUT" 0
	kill -INT "$S_PID"
	wait_pid_exit "$S_PID" 5 || true
	[ "$EXIT_STATUS" -eq 130 ]
	run cat "$S_ERR"
	[ "${lines[0]}" = "Serving on 127.0.0.1:$S_PORT" ]
	[[ ${lines[1]} =~ ^cstream:\ serve:\ interrupted:\ ([0-9]+)\ bytes\ sent,\ input\ not\ finished$ ]]
	n=${BASH_REMATCH[1]}
	[ "${#lines[@]}" -eq 2 ]
	wait_pid_exit "$C_PID" 5 || true
	[ "$EXIT_STATUS" -eq 1 ]
	[ "$(cat "$C_ERR")" = "cstream: connect: read from 127.0.0.1:$S_PORT: Connection reset by peer" ]
	[ "$(file_size "$C_OUT")" -le "$n" ]
}

# A unix stream socket has no reset (the kernel only reports ECONNRESET
# to the peer when the closing end left bytes unread): the sender says it
# was interrupted, the receiver sees end-of-file, as the man page says.
@test "unix-connect: an interrupted --send-file from a FIFO says so" {
	start_server R "$CSTREAM" unix-serve "$T/s.sock"
	mkfifo "$T/in.fifo"
	exec 4<>"$T/in.fifo"
	printf 'first part' >&4
	bg C "${SIGDFL[@]}" "$CSTREAM" unix-connect "$T/s.sock" \
	    --send-file "$T/in.fifo" -N
	wait_size "$R_OUT" 9
	kill -INT "$C_PID"
	wait_pid_exit "$C_PID" 5 || true
	exec 4>&-
	[ "$EXIT_STATUS" -eq 130 ]
	run cat "$C_ERR"
	[ "$output" = "cstream: unix-connect: interrupted: 10 bytes sent, input not finished" ]
	wait_pid_exit "$R_PID" 5 || true
	[ "$EXIT_STATUS" -eq 0 ]
	[ "$(cat "$R_OUT")" = "first part" ]
}

@test "a signal once stdin is all sent: no message, an ordinary close" {
	py_server "$PEERS/eof_hold_server.py"
	printf 'abc' >"$T/in.txt"
	BG_STDIN=$T/in.txt bg C "${SIGDFL[@]}" "$CSTREAM" connect \
	    127.0.0.1 "$PY_PORT"
	wait_for_match "$PY_OUT" '^eof 3$'
	kill -INT "$C_PID"
	wait_pid_exit "$C_PID" 5 || true
	[ "$EXIT_STATUS" -eq 130 ]
	[ ! -s "$C_ERR" ]
}

# --- a receiver whose stdout fails resets -----------------------------------

@test "connect with stdout on a full disk: reset, both ends exit 1" {
	mount_full
	head -c 16M /dev/zero >"$T/16m.bin"
	BG_STDIN=$T/16m.bin start_server S "$CSTREAM" serve 127.0.0.1 0
	run run_with_timeout 10 bash -c '"$1" connect 127.0.0.1 "$2" \
	    </dev/null >"$3"' _ "$CSTREAM" "$S_PORT" "$T/full/out"
	[ "$status" -eq 1 ]
	[ "$output" = "cstream: connect: stdout: write: No space left on device" ]
	wait_pid_exit "$S_PID" 5 || true
	[ "$EXIT_STATUS" -eq 1 ]
	run cat "$S_ERR"
	[[ ${lines[1]} =~ ^cstream:\ serve:\ (read\ from\ )?127\.0\.0\.1:[0-9]+:\ (Connection\ reset\ by\ peer|peer\ closed\ before\ all\ input\ was\ sent)$ ]]
}

@test "connect --read-all with stdout on a full disk: reset, both ends exit 1" {
	mount_full
	head -c 16M /dev/zero >"$T/16m.bin"
	BG_STDIN=$T/16m.bin start_server S "$CSTREAM" serve 127.0.0.1 0
	run run_with_timeout 10 bash -c '"$1" connect 127.0.0.1 "$2" \
	    --read-all </dev/null >"$3"' _ "$CSTREAM" "$S_PORT" "$T/full/out"
	[ "$status" -eq 1 ]
	[ "$output" = "cstream: connect: stdout: write: No space left on device" ]
	wait_pid_exit "$S_PID" 5 || true
	[ "$EXIT_STATUS" -eq 1 ]
}

@test "serve with stdout on a full disk: reset, the sender exits 1" {
	mount_full
	head -c 16M /dev/zero >"$T/16m.bin"
	bg S bash -c 'exec "$1" serve 127.0.0.1 0 >"$2"' _ "$CSTREAM" \
	    "$T/full/out"
	wait_for_match "$S_ERR" '^Serving on '
	port=$(sed -n 's/^Serving on .*:\([0-9]*\)$/\1/p' "$S_ERR")
	run run_with_timeout 10 "$CSTREAM" connect 127.0.0.1 "$port" \
	    --send-file "$T/16m.bin" -N
	[ "$status" -eq 1 ]
	[ "$output" = "cstream: connect: 127.0.0.1:$port: peer closed before all input was sent" ]
	wait_pid_exit "$S_PID" 5 || true
	[ "$EXIT_STATUS" -eq 1 ]
	run cat "$S_ERR"
	[ "${lines[1]}" = "cstream: serve: stdout: write: No space left on device" ]
}

# --- 4. events and wording --------------------------------------------------

@test "-v --log-format json: byte counts are JSON numbers" {
	require_cmd jq
	py_server "$PEERS/echo_server.py"
	run_with_timeout 5 "$CSTREAM" -v --log-format json connect \
	    127.0.0.1 "$PY_PORT" --send 'Hello World!' >"$T/out" 2>"$T/log"
	[ "$(cat "$T/out")" = "Hello World!" ]
	run jq -c 'select(.event == "closed") | [.sent, .received,
	    (.sent | type), (.received | type)]' "$T/log"
	[ "$status" -eq 0 ]
	[ "$output" = '[12,12,"number","number"]' ]
	run jq -r 'select(.event == "connected") | .peer | type' "$T/log"
	[ "$output" = string ]
}

@test "-v --log-format json serve: closed, exec and exited numbers" {
	require_cmd jq
	start_server S "$CSTREAM" -v --log-format json serve 127.0.0.1 0 \
	    --exec cat
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$S_PORT" \
	    --send hi -N
	[ "$output" = hi ]
	wait_for_match "$S_ERR" '"event":"exited"'
	run jq -c 'select(.event == "exec" or .event == "exited") |
	    [.event, (.pid | type), (.status | type // "none"), .status]' \
	    <(grep '^{' "$S_ERR")
	[ "${lines[0]}" = '["exec","number","null",null]' ]
	[ "${lines[1]}" = '["exited","number","number",0]' ]
}

# broken_pipe ARGS...: connect ARGS to a server sending 16 MiB, stdout to
# a reader that leaves after 10 bytes; prints connect's status and stderr.
broken_pipe() {
	head -c 16M /dev/zero >"$T/16m.bin"
	BG_STDIN=$T/16m.bin start_server S "$CSTREAM" serve 127.0.0.1 0
	run run_with_timeout 10 bash -c '"$@" </dev/null 2>"'"$T"'/c.err" |
	    head -c 10 >/dev/null; exit "${PIPESTATUS[0]}"' _ \
	    "$CSTREAM" connect 127.0.0.1 "$S_PORT" "$@"
	[ "$status" -eq 1 ]
	[ "$(cat "$T/c.err")" = "cstream: connect: stdout: write: Broken pipe" ]
}

@test "a stdout closed early: 'stdout: write: Broken pipe' in the relay" {
	broken_pipe
}

@test "a stdout closed early: 'stdout: write: Broken pipe' with --read-all" {
	broken_pipe --read-all
}

@test "a stdout closed early: 'stdout: write: Broken pipe' with a long --read-exactly" {
	broken_pipe --read-exactly 4000000
}
