#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Bulk transfers through the relay of connect and serve (and their unix
# twins), checked byte for byte: both directions, stdin from a file or a
# pipe, stdout to a file, a pipe or a file opened for appending. These are
# the paths the kernel-side transfer (splice, sendfile) takes, and the
# ones where it must step aside.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"

setup_file() {
	# An odd size: no transfer ends on a chunk or page boundary.
	export DATA=$BATS_FILE_TMPDIR/data
	export DATA_SIZE=$((48 * 1024 * 1024 + 4321))
	head -c "$DATA_SIZE" /dev/urandom >"$DATA"
	export DATA_SUM
	DATA_SUM=$(sha256 "$DATA")
}

# relay_case TRANSPORT DIRECTION IN OUT: send $DATA from the client to the
# server (up) or the server to the client (down). IN is how the sender's
# stdin gets it (file: redirected; pipe: from cat). OUT is where the
# receiver's stdout goes (file; pipe: through cat into a file; append: a
# file opened with >>). Checks the bytes and both sides' -v byte counts.
relay_case() {
	local tr=$1 dir=$2 in=$3 out=$4 srv cli src dst sender receiver

	if [ "$tr" = tcp ]; then
		srv="serve 127.0.0.1 0"
	else
		srv="unix-serve $T/s.sock"
	fi
	case $in in
	file)	src="<'$DATA'" ;;
	pipe)	src="< <(cat '$DATA')" ;;
	esac
	: >"$T/got"
	case $out in
	file)	dst=">'$T/got'" ;;
	pipe)	dst="| cat >'$T/got'" ;;
	append)	dst=">>'$T/got'" ;;
	esac
	if [ "$dir" = up ]; then
		sender=$src receiver=$dst
		srv="'$CSTREAM' -v $srv </dev/null $receiver"
	else
		sender="</dev/null" receiver=$dst
		srv="'$CSTREAM' -v $srv $src >/dev/null"
	fi
	start_server S bash -c "$srv"
	if [ "$tr" = tcp ]; then
		cli="'$CSTREAM' -v connect 127.0.0.1 $S_PORT 2>'$T/c.err'"
	else
		cli="'$CSTREAM' -v unix-connect $T/s.sock 2>'$T/c.err'"
	fi
	if [ "$dir" = up ]; then
		cli="$cli $sender >/dev/null"
	else
		cli="$cli </dev/null $receiver"
	fi
	run --separate-stderr run_with_timeout 60 bash -c "$cli"
	[ "$status" -eq 0 ]
	wait_pid_exit "$S_PID" 20
	[ "$(stat -c %s "$T/got")" -eq "$DATA_SIZE" ]
	[ "$(sha256 "$T/got")" = "$DATA_SUM" ]
	if [ "$dir" = up ]; then
		grep -Eq "closed .*sent=0 received=$DATA_SIZE\$" "$S_ERR"
		grep -Eq "closed sent=$DATA_SIZE received=0\$" "$T/c.err"
	else
		grep -Eq "closed .*sent=$DATA_SIZE received=0\$" "$S_ERR"
		grep -Eq "closed sent=0 received=$DATA_SIZE\$" "$T/c.err"
	fi
}

@test "tcp: connect < file, serve > file" {
	relay_case tcp up file file
}

@test "tcp: connect from a pipe, serve into a pipe" {
	relay_case tcp up pipe pipe
}

@test "tcp: serve < file, connect > file" {
	relay_case tcp down file file
}

@test "tcp: serve from a pipe, connect into a pipe" {
	relay_case tcp down pipe pipe
}

@test "tcp: serve >> file (O_APPEND: no splice) still gets every byte" {
	relay_case tcp up file append
}

@test "unix: unix-connect < file, unix-serve > file" {
	relay_case unix up file file
}

@test "unix: unix-connect from a pipe, unix-serve into a pipe" {
	relay_case unix up pipe pipe
}

@test "unix: unix-serve < file, unix-connect > file" {
	relay_case unix down file file
}

@test "unix: unix-serve from a pipe, unix-connect into a pipe" {
	relay_case unix down pipe pipe
}

@test "unix: unix-connect >> file still gets every byte" {
	relay_case unix down file append
}

@test "stdin's file offset is where sending starts" {
	start_server S "$CSTREAM" serve 127.0.0.1 0
	# dd reads exactly 1000 bytes of the shared description, then cstream.
	run run_with_timeout 60 bash -c "{ dd bs=1000 count=1 of=/dev/null \
	    status=none; '$CSTREAM' connect 127.0.0.1 $S_PORT; } <'$DATA'"
	[ "$status" -eq 0 ]
	wait_pid_exit "$S_PID" 20
	tail -c +1001 "$DATA" >"$T/want"
	[ "$(sha256 "$S_OUT")" = "$(sha256 "$T/want")" ]
}

@test "a receiver that stops reading: the sender waits, memory stays bounded" {
	local rss

	# Our end of the FIFO is open read-write, so the server's open of it
	# does not wait; nobody reads it for now.
	mkfifo "$T/fifo"
	exec 4<>"$T/fifo"
	start_server S bash -c "exec 4>&-; exec '$CSTREAM' serve 127.0.0.1 0 \
	    </dev/null >'$T/fifo'"
	bg C bash -c "exec 4>&-; exec '$CSTREAM' connect 127.0.0.1 $S_PORT \
	    <'$DATA'"
	# The subject, not a synchronisation: half a second in which nobody
	# reads, and both sides must hold still within bounded memory.
	sleep 0.5
	# 48 MiB do not fit in the FIFO, a pipe and the socket buffers.
	pid_running "$C_PID"
	for pid in "$S_PID" "$C_PID"; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
		[ "$rss" -lt 65536 ]
	done
	run_with_timeout 60 head -c "$DATA_SIZE" <&4 >"$T/got"
	exec 4<&-
	wait_pid_exit "$C_PID" 20
	wait_pid_exit "$S_PID" 20
	[ "$(sha256 "$T/got")" = "$DATA_SUM" ]
}

@test "the kernel moves the bytes: sendfile and splice, no read/write" {
	require_cmd strace
	# LeakSanitizer cannot run under ptrace (a sanitizer build).
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	BG_STDIN=/dev/null start_server S strace -f -o "$T/srv.trace" \
	    -e trace=splice,sendfile,read,recvfrom,readv "$CSTREAM" serve \
	    127.0.0.1 0
	run run_with_timeout 60 strace -f -o "$T/cli.trace" \
	    -e trace=splice,sendfile,write,sendto,sendmsg,writev \
	    "$CSTREAM" connect 127.0.0.1 "$S_PORT" <"$DATA"
	[ "$status" -eq 0 ]
	wait_pid_exit "$S_PID" 20
	[ "$(sha256 "$S_OUT")" = "$DATA_SUM" ]
	grep -q '^[0-9]* *sendfile(' "$T/cli.trace"
	grep -q '^[0-9]* *splice(' "$T/srv.trace"
	# Only small reads and writes remain (setup, log lines): no bulk.
	! grep -Eq '(sendto|sendmsg|writev)\(.* = [0-9]{5,}$' "$T/cli.trace"
	! grep -Eq '(recvfrom|readv)\(.* = [0-9]{5,}$' "$T/srv.trace"
}

# A reader that takes exactly the bytes sent and leaves at once: splice
# into a pipe whose reader is gone says EPIPE even when the socket has only
# its EOF left (read() would have said 0 first). Every byte was delivered,
# so the server must exit 0. Repeated: the reader has to win the race
# against the client's FIN, which it does only now and then.
@test "serve > FIFO whose reader takes every byte and leaves: exit 0, 20 times" {
	local i size=200000

	head -c "$size" "$DATA" >"$T/part"
	mkfifo "$T/fifo"
	for i in $(seq 20); do
		BG_STDIN=$T/fifo bg R head -c "$size"
		start_server S bash -c "exec '$CSTREAM' serve 127.0.0.1 0 \
		    </dev/null >'$T/fifo'"
		run run_with_timeout 20 "$CSTREAM" connect 127.0.0.1 \
		    "$S_PORT" <"$T/part"
		[ "$status" -eq 0 ]
		wait_pid_exit "$R_PID" 20
		wait_pid_exit "$S_PID" 20 || {
			echo "round $i: serve exited $EXIT_STATUS:" >&2
			cat "$S_ERR" >&2
			false
		}
		[ "$(grep -vc '^Serving on ' "$S_ERR")" -eq 0 ]
		cmp "$R_OUT" "$T/part"
	done
}
