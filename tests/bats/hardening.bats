#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Faults found by attacking cstream on purpose: bytes
# of arguments and peers' names that could forge a line or drive the
# terminal, a leak, descriptors and files that made cstream fail late or
# block outside its timeouts.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"

# A python peer on the unix socket $1 that binds its own end to the name
# $2 (python escapes; "\0..." is abstract), sends a line and reads it back.
unix_client_named() {
	python3 - "$1" "$2" <<'PY'
import socket, sys
c = socket.socket(socket.AF_UNIX)
c.bind(sys.argv[2].encode().decode("unicode_escape"))
c.connect(sys.argv[1])
c.sendall(b"x\n")
c.settimeout(5)
print(c.recv(10).decode().strip())
PY
}

@test "a host with a newline, ESC and BEL is quoted in the message" {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect \
	    $'bad\nhost\e[31m\a' 80
	[ "$status" -eq 3 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == 'cstream: connect: bad\x0ahost\x1b[31m\x07: '* ]]
}

@test "a unix path with a newline is quoted in the message" {
	run --separate-stderr "$CSTREAM" unix-connect $'/nonexistent\n/s'
	[ "$status" -eq 1 ]
	[ "$stderr" = 'cstream: unix-connect: connect to /nonexistent\x0a/s: No such file or directory' ]
}

@test "a URL with BEL, and an unknown option with ESC, are quoted" {
	run --separate-stderr "$CSTREAM" http-head $'http://a\ab/'
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = 'cstream: http-head: invalid URL http://a\x07b/: contains a control character' ]
	[ "${stderr_lines[1]}" = 'usage: cstream http-head [OPTIONS] URL' ]
	run --separate-stderr "$CSTREAM" connect $'--x\e]0;t\a' h 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = 'cstream: connect: unknown option: --x\x1b]0;t\x07' ]
	run --separate-stderr "$CSTREAM" $'con\nx'
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = 'cstream: unknown command: con\x0ax' ]
}

@test "--read-until '' is a usage error and frees its buffer" {
	run --separate-stderr "$CSTREAM" connect --read-until '' 127.0.0.1 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --read-until: the separator is empty" ]
	# The sanitizers build counts the leak itself (detect_leaks=1).
	if [ -z "${CSTREAM_SANITIZERS:-}" ] && command -v valgrind >/dev/null; then
		run valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
		    --error-exitcode=99 "$CSTREAM" connect --read-until '' \
		    127.0.0.1 1
		[ "$status" -eq 2 ]
	fi
}

@test "-v: a unix peer's path with a newline cannot forge a log line" {
	start_server S "$CSTREAM" -v unix-serve "$T/s.sock" --echo
	run unix_client_named "$T/s.sock" "$T/c\nforged=1"
	[ "$output" = "x" ]
	wait_for_match "$S_ERR" '^cstream: closed '
	grep -qxF "cstream: accepted peer=$T/c\\x0aforged=1" "$S_ERR"
	! grep -q '^forged' "$S_ERR"
}

@test "-v: an abstract peer name with NULs is shown with \\0" {
	start_server S "$CSTREAM" -v unix-serve "$T/s.sock" --echo
	run unix_client_named "$T/s.sock" "\\0cs-$$\\0x\\\\y"
	[ "$output" = "x" ]
	wait_for_match "$S_ERR" '^cstream: closed '
	grep -qxF "cstream: accepted peer=@cs-$$\\0x\\\\y" "$S_ERR"
}

@test "--fd on a listening socket exits 2 naming the descriptor" {
	run --separate-stderr run_with_timeout 10 python3 -c '
import os, socket, subprocess, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
os.dup2(s.fileno(), 7)
sys.exit(subprocess.call([sys.argv[1], "connect", "--fd", "7", "--send",
    "hi"], pass_fds=[7], stdin=subprocess.DEVNULL))' "$CSTREAM"
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --fd 7: a listening socket, not a connected one" ]
}

@test "--send-file on a FIFO without a writer does not block before connecting" {
	mkfifo "$T/fifo"
	# Port 1 refuses: the error comes at once, not after a writer.
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --send-file "$T/fifo" 127.0.0.1 1
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: connect to 127.0.0.1:1: Connection refused" ]
}

@test "--send-file on a FIFO waits for its writer after connecting" {
	mkfifo "$T/fifo"
	start_server S "$CSTREAM" -v serve --echo 127.0.0.1 0
	bg C "$CSTREAM" connect --send-file "$T/fifo" --read-line 127.0.0.1 "$S_PORT"
	wait_for_match "$S_ERR" '^cstream: accepted '
	run_with_timeout 5 bash -c 'echo late >"$1"' _ "$T/fifo"
	wait_pid_exit "$C_PID" 5
	[ "$(cat "$C_OUT")" = "late" ]
	[ ! -s "$C_ERR" ]
}

@test "unix-serve --mode 4777: the special bits are refused, not dropped" {
	run --separate-stderr run_with_timeout 5 "$CSTREAM" unix-serve \
	    --mode 4777 "$T/s.sock"
	[ "$status" -eq 2 ]
	[ "$(head -n 1 <<<"$stderr")" = "cstream: unix-serve: --mode 4777: setuid, setgid and sticky bits are not kept on a socket (at most 0777)" ]
	[ ! -e "$T/s.sock" ]
}
