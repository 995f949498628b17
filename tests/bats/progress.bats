#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# --progress on connect, unix-connect, serve and unix-serve: pv's lines on
# stderr ("> " sent, "< " received), rewritten in place on a terminal (a
# pty here), plain with --progress=always, and the final summary always.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
PEERS=$BATS_TEST_DIRNAME/../peers

# The numbers that vary from run to run: elapsed time and rate.
TM='[0-9]+:[0-9]{2}:[0-9]{2}'
RATE='[0-9.]+ (B|KiB|MiB|GiB|TiB)/s'
FULL='\[====================\] 100%'

# Every line of FILE is a progress line of the plain form.
all_plain_lines() {
	local line

	while IFS= read -r line; do
		[[ $line =~ ^[\<\>]\ [0-9.]+\ (B|KiB|MiB|GiB)\ $TM\ \[$RATE\] ]] ||
		    { echo "not a progress line: '$line'" >&2; return 1; }
	done <"$1"
}

@test "connect --progress=always: the final lines, 100% for a file on stdin" {
	py_server "$PEERS/trickle_server.py" 0 0
	printf 'hello world\n' >"$T/in"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --progress=always 127.0.0.1 "$PY_PORT" <"$T/in"
	[ "$status" -eq 0 ]
	[ "$output" = "got 12" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ ${stderr_lines[0]} =~ ^\>\ 12\ B\ $TM\ \[$RATE\]\ $FULL$ ]]
	[[ ${stderr_lines[1]} =~ ^\<\ 7\ B\ $TM\ \[$RATE\]$ ]]
}

@test "connect --progress=always: no bar when the size is unknown" {
	py_server "$PEERS/send_server.py" 'hello\n'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --progress=always 127.0.0.1 "$PY_PORT" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
	# Nothing was sent: no "> 0 B" line.
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ ${stderr_lines[0]} =~ ^\<\ 6\ B\ $TM\ \[$RATE\]$ ]]
}

@test "connect --progress=always: plain lines at most once a second" {
	py_server "$PEERS/trickle_server.py" 5 0.5
	head -c 3000 /dev/zero >"$T/in"
	start=$(date +%s%N)
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -N \
	    --progress=always --send-file "$T/in" 127.0.0.1 "$PY_PORT"
	ms=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "got 3000" ]
	[ "${#lines[@]}" -eq 6 ]
	printf '%s\n' "$stderr" >"$T/err"
	all_plain_lines "$T/err"
	[[ $stderr != *$'\r'* ]]
	# Updates before the final pair: one pair a second at most.
	updates=$(((${#stderr_lines[@]} - 2) / 2))
	[ "$updates" -ge 1 ]
	[ "$updates" -le $((ms / 1000)) ]
	[[ ${stderr_lines[-2]} =~ ^\>\ 2\.93\ KiB\ $TM\ \[$RATE\]\ $FULL$ ]]
	[[ ${stderr_lines[-1]} =~ ^\<\ 34\ B\ $TM\ \[$RATE\]$ ]]
}

@test "connect --progress on a terminal: lines rewritten with \\r, then the summary" {
	py_server "$PEERS/trickle_server.py" 3 0.5
	head -c 1024 /dev/zero >"$T/in"
	run run_with_timeout 15 python3 "$PEERS/pty_stderr.py" "$T/tty" \
	    "$CSTREAM" connect -N --progress --send-file "$T/in" \
	    127.0.0.1 "$PY_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = $'got 1024\ntick\ntick\ntick' ]
	mapfile -t tty <"$T/tty"
	# At least one redraw: back to the first line's start, then over it.
	[ "${#tty[@]}" -ge 3 ]
	[[ ${tty[0]} =~ ^\>\ 1\.00\ KiB\ $TM\ \[$RATE\]\ $FULL\<EOL\>$ ]]
	[[ ${tty[-2]} =~ \<EOL\>\<CR\>\<UP\>\>\ 1\.00\ KiB\ $TM\ \[$RATE\]\ $FULL\<EOL\>$ ]]
	[[ ${tty[-1]} =~ ^\<\ 24\ B\ $TM\ \[$RATE\]\<EOL\>$ ]]
	[ "$(tail -c 1 "$T/tty" | od -An -c | tr -d ' ')" = '\n' ]
}

@test "unix-connect --progress=always: --send's size is known" {
	start_server S "$CSTREAM" unix-serve --echo "$T/sock"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" unix-connect \
	    --progress=always --send 'hi' --read-exactly 2 "$T/sock"
	[ "$status" -eq 0 ]
	[ "$output" = "hi" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ ${stderr_lines[0]} =~ ^\>\ 2\ B\ $TM\ \[$RATE\]\ $FULL$ ]]
	[[ ${stderr_lines[1]} =~ ^\<\ 2\ B\ $TM\ \[$RATE\]$ ]]
}

@test "connect --progress without a terminal says once why nothing shows; a bad value is exit 2" {
	py_server "$PEERS/send_server.py" 'hello\n'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --progress 127.0.0.1 "$PY_PORT" </dev/null
	[ "$status" -eq 0 ]
	[ "$stderr" = "cstream: connect: --progress: standard error is not a terminal, nothing shown (--progress=always forces it)" ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" -q connect \
	    --progress 127.0.0.1 "$PY_PORT" </dev/null
	[ -z "$stderr" ]
	run --separate-stderr "$CSTREAM" connect --progress=sometimes 127.0.0.1 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --progress=sometimes: only --progress=always is known" ]
}

@test "serve --progress=always: one client relayed, 100% of a file on stdin" {
	yes | head -c 2048 >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" serve --progress=always \
	    127.0.0.1 0
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --send hello -N --read-all 127.0.0.1 "$S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$T/in")" ]
	wait_pid_exit "$S_PID" 5
	[ "$(cat "$S_OUT")" = "hello" ]
	mapfile -t err <"$S_ERR"
	[ "${err[0]}" = "Serving on $S_ADDR" ]
	[[ ${err[-2]} =~ ^\>\ 2\.00\ KiB\ $TM\ \[$RATE\]\ $FULL$ ]]
	[[ ${err[-1]} =~ ^\<\ 5\ B\ $TM\ \[$RATE\]$ ]]
	sed 1d "$S_ERR" >"$T/lines"
	all_plain_lines "$T/lines"
}

@test "serve --echo --progress=always: every client counted, summary at SIGTERM" {
	start_server S "$CSTREAM" serve --echo --progress=always 127.0.0.1 0
	for msg in one three; do
		run run_with_timeout 5 "$CSTREAM" connect --send "$msg" -N \
		    --read-all 127.0.0.1 "$S_PORT"
		[ "$status" -eq 0 ]
		[ "$output" = "$msg" ]
	done
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" -eq 0 ]
	mapfile -t err <"$S_ERR"
	[[ ${err[-2]} =~ ^\>\ 8\ B\ $TM\ \[$RATE\]$ ]]
	[[ ${err[-1]} =~ ^\<\ 8\ B\ $TM\ \[$RATE\]$ ]]
}

@test "unix-serve --discard --progress=always: only the received line" {
	start_server S "$CSTREAM" unix-serve --discard --progress=always \
	    "$T/sock"
	run run_with_timeout 5 "$CSTREAM" unix-connect --send 12345 -N \
	    --read-all "$T/sock"
	[ "$status" -eq 0 ]
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" -eq 0 ]
	mapfile -t err <"$S_ERR"
	[ "${err[0]}" = "Serving on $T/sock" ]
	[[ ${err[-1]} =~ ^\<\ 5\ B\ $TM\ \[$RATE\]$ ]]
	! grep -q '^>' "$S_ERR"
}

@test "unix-serve --progress on a terminal: rewritten in place, then the summary" {
	yes | head -c 1024 >"$T/in"
	BG_STDIN=$T/in bg S python3 "$PEERS/pty_stderr.py" "$T/tty" \
	    "$CSTREAM" unix-serve --progress "$T/sock"
	wait_for_file "$T/sock"
	# The client's input lasts 1.5 s: long enough for one update.
	run run_with_timeout 10 bash -c "{ printf ab; sleep 1.5; printf cd; } |
	    '$CSTREAM' unix-connect '$T/sock'"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$T/in")" ]
	wait_pid_exit "$S_PID" 10
	[ "$(cat "$S_OUT")" = "abcd" ]
	mapfile -t tty <"$T/tty"
	[ "${tty[0]}" = "Serving on $T/sock" ]
	[ "${#tty[@]}" -ge 4 ]
	[[ ${tty[-2]} =~ \<CR\>\<UP\>\>\ 1\.00\ KiB\ $TM\ \[$RATE\]\ $FULL\<EOL\>$ ]]
	[[ ${tty[-1]} =~ ^\<\ 4\ B\ $TM\ \[$RATE\]\<EOL\>$ ]]
}

@test "serve --progress: a bad value or --workers is a usage error" {
	run --separate-stderr "$CSTREAM" serve --progress=sometimes 127.0.0.1 0
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: serve: --progress=sometimes: only --progress=always is known" ]
	run --separate-stderr "$CSTREAM" serve --echo --workers 2 --progress \
	    127.0.0.1 0
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: serve: --progress cannot be used with --workers" ]
}

@test "--progress keeps the kernel moving the bytes: sendfile and splice" {
	require_cmd strace
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	head -c $((8 * 1024 * 1024)) /dev/urandom >"$T/data"
	BG_STDIN=/dev/null start_server S strace -f -o "$T/srv.trace" \
	    -e trace=splice,sendfile "$CSTREAM" serve --progress=always \
	    127.0.0.1 0
	run --separate-stderr run_with_timeout 60 strace -f -o "$T/cli.trace" \
	    -e trace=splice,sendfile "$CSTREAM" connect --progress=always \
	    127.0.0.1 "$S_PORT" <"$T/data"
	[ "$status" -eq 0 ]
	wait_pid_exit "$S_PID" 20
	cmp "$T/data" "$S_OUT"
	grep -q '^[0-9]* *sendfile(' "$T/cli.trace"
	grep -q '^[0-9]* *splice(' "$T/srv.trace"
	# Nothing came back: the summary has no "< 0 B" line.
	[[ ${stderr_lines[-1]} =~ ^\>\ 8\.00\ MiB\ $TM\ \[$RATE\]\ $FULL$ ]]
	[[ $(tail -n 1 "$S_ERR") =~ ^\<\ 8\.00\ MiB\ $TM\ \[$RATE\]$ ]]
}

@test "connect --progress=always: the summary comes before an error message" {
	port=$(free_port)
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --progress=always 127.0.0.1 "$port" </dev/null
	[ "$status" -eq 1 ]
	# Nothing either way: one "0 B" line, not two.
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ ${stderr_lines[0]} =~ ^\>\ 0\ B\ $TM\ \[$RATE\]$ ]]
	[ "${stderr_lines[1]}" = "cstream: connect: connect to 127.0.0.1:$port: Connection refused" ]
}

@test "--progress on a terminal: TERM=dumb gets plain lines; lines fit the window's width" {
	py_server "$PEERS/trickle_server.py" 3 0.5
	head -c 1024 /dev/zero >"$T/in"
	TERM=dumb run run_with_timeout 15 python3 "$PEERS/pty_stderr.py" \
	    "$T/tty" "$CSTREAM" connect -N --progress --send-file "$T/in" \
	    127.0.0.1 "$PY_PORT"
	[ "$status" -eq 0 ]
	run grep -c -e '<CR>' -e '<UP>' -e '<EOL>' "$T/tty"
	[ "$output" = 0 ]
	mapfile -t tty <"$T/tty"
	[[ ${tty[-2]} =~ ^\>\ 1\.00\ KiB\ $TM\ \[$RATE\]\ $FULL$ ]]
	[[ ${tty[-1]} =~ ^\<\ 24\ B\ $TM\ \[$RATE\]$ ]]

	py_server_as P2 "$PEERS/trickle_server.py" 3 0.5
	TERM=xterm PTY_COLS=30 run run_with_timeout 15 python3 \
	    "$PEERS/pty_stderr.py" "$T/tty" "$CSTREAM" connect -N --progress \
	    --send-file "$T/in" 127.0.0.1 "$P2_PORT"
	[ "$status" -eq 0 ]
	sed -e 's/<CR>//g' -e 's/<UP>//g' -e 's/<EOL>/\n/g' "$T/tty" >"$T/plain"
	while IFS= read -r line; do
		[ "${#line}" -le 29 ] ||
		    { echo "wider than 29 columns: '$line'" >&2; return 1; }
	done <"$T/plain"
	grep -q '^> 1.00 KiB' "$T/plain"
}

@test "--help shows --progress[=always], without a space" {
	run "$CSTREAM" connect --help
	[[ $output == *"      --progress[=always]      bytes, rate and time"* ]]
	run "$CSTREAM" serve --help
	[[ $output == *"      --progress[=always]"* ]]
}
