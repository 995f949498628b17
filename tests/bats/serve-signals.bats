#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# serve and signals: SIGHUP stops it as SIGINT and SIGTERM do;
# a signal ignored at start (a non-interactive shell's background job has
# SIGINT ignored) stays ignored.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"

# CMD with SIGINT at its default action, or ignored; python execs in place.
SIGDFL=(python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])')
SIGIGN=(python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
os.execvp(sys.argv[1], sys.argv[1:])')

@test "serve -k: SIGHUP stops it gracefully, exit 0, logged as HUP" {
	start_server S "$CSTREAM" -v serve -k 127.0.0.1 0
	kill -HUP "$S_PID"
	wait_pid_exit "$S_PID" 5
	grep -qx 'cstream: signal name=HUP' "$S_ERR"
}

@test "serve: SIGHUP with stdin unfinished and a client: reset, exit 129" {
	mkfifo "$T/in"
	exec 4<>"$T/in"
	printf 'part\n' >&4
	BG_STDIN=$T/in start_server S "$CSTREAM" serve 127.0.0.1 0 4>&-
	bg C "$CSTREAM" connect 127.0.0.1 "$S_PORT" 4>&-
	wait_for_match "$C_OUT" '^part$'
	kill -HUP "$S_PID"
	wait_pid_exit "$S_PID" 5 || true
	exec 4>&-
	[ "$EXIT_STATUS" -eq 129 ]
	run cat "$S_ERR"
	[ "${lines[1]}" = "cstream: serve: interrupted: 5 bytes sent, input not finished" ]
	wait_pid_exit "$C_PID" 5 || true
	[ "$EXIT_STATUS" -eq 1 ]
	[ "$(cat "$C_ERR")" = "cstream: connect: read from 127.0.0.1:$S_PORT: Connection reset by peer" ]
}

@test "serve --echo in a background job: SIGINT ignored at start stays ignored" {
	start_server S "${SIGIGN[@]}" "$CSTREAM" serve --echo 127.0.0.1 0
	kill -INT "$S_PID"
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$S_PORT" \
	    --send 'still here\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "still here" ]
	pid_running "$S_PID"
	kill -TERM "$S_PID"
	wait_pid_exit "$S_PID" 5
}

@test "serve --echo: SIGINT at its default action stops it, exit 0" {
	start_server S "${SIGDFL[@]}" "$CSTREAM" serve --echo 127.0.0.1 0
	kill -INT "$S_PID"
	wait_pid_exit "$S_PID" 5
}

@test "serve: a background job of a non-interactive shell ignores SIGINT" {
	# bash -c runs without job control: `&` sets SIGINT to ignored.
	bg W bash -c '"$1" serve --echo 127.0.0.1 0 & echo $! >"$2"; wait' \
	    _ "$CSTREAM" "$T/pid"
	wait_for_match "$W_ERR" '^Serving on '
	pid=$(cat "$T/pid")
	port=$(sed -n 's/^Serving on 127.0.0.1://p' "$W_ERR")
	kill -INT "$pid"
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$port" \
	    --send 'hi\n' --read-line
	[ "$output" = hi ]
	kill -TERM "$pid"
	wait_pid_exit "$W_PID" 5
}

@test "serve --workers 2 with SIGTERM ignored: SIGINT stops every process" {
	bg S python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
os.execvp(sys.argv[1], sys.argv[1:])' "$CSTREAM" serve --echo --workers 2 127.0.0.1 0
	wait_for_match "$S_ERR" '^Serving on '
	wait_for pgrep -P "$S_PID"
	child=$(pgrep -P "$S_PID")
	kill -INT "$S_PID"
	wait_pid_exit "$S_PID" 5
	! pid_running "$child"
}
