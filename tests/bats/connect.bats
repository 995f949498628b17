#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# connect and unix-connect: the relay, the one-shot reader operations, their
# exit codes, and the failures, against real peers on loopback.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
PEERS=$BATS_TEST_DIRNAME/../peers

@test "--send and --read-line against a python asyncio line echo server" {
	py_server "$PEERS/echo_server.py" --lines
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" --send 'PING\r\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'PING\r' ]
	[ -z "$stderr" ]
}

@test "the asyncio documentation's echo server answers connect" {
	py_server "$PEERS/echo_server.py" --echo
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" --send 'Hello World!' --read-all
	[ "$status" -eq 0 ]
	[ "$output" = "Hello World!" ]
}

@test "one-shot reads run in order, separators included" {
	py_server "$PEERS/send_server.py" 'one\ntwo;threeXYZ4567rest'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" --read-line --read-until ';' --read-until XYZ \
	    --read-exactly 4 --read-all </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = $'one\ntwo;threeXYZ4567rest' ]
}

@test "--read-exactly 0 reads nothing and succeeds" {
	py_server "$PEERS/send_server.py" 'abc'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" --read-exactly 0 </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "--read N returns what arrives, at most N" {
	py_server "$PEERS/send_server.py" 'abcdef' hold
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" --read 4 </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "abcd" ]
}

@test "EOF before --read-exactly completes: partial bytes out, exit 5" {
	py_server "$PEERS/send_server.py" 'abc'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" --read-exactly 16 </dev/null
	[ "$status" -eq 5 ]
	[ "$output" = "abc" ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$PY_PORT: EOF after 3 bytes (--read-exactly)" ]
}

@test "EOF before a line ends: the partial line is printed, exit 5" {
	py_server "$PEERS/send_server.py" 'no newline'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" --read-line </dev/null
	[ "$status" -eq 5 ]
	[ "$output" = "no newline" ]
	[[ "$stderr" == "cstream: connect: "*"EOF after 10 bytes (--read-line)" ]]
}

@test "EOF before --read-until's separator: exit 5" {
	py_server "$PEERS/send_server.py" 'abc'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" --read-until '\r\n' </dev/null
	[ "$status" -eq 5 ]
	[ "$output" = "abc" ]
}

@test "--read N at EOF with nothing read: exit 5" {
	py_server "$PEERS/send_server.py" ''
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" --read 10 </dev/null
	[ "$status" -eq 5 ]
	[ "$output" = "" ]
}

@test "a line longer than --limit exits 6 and prints nothing of it" {
	py_server "$PEERS/send_server.py" "$(printf 'x%.0s' {1..20})\n" hold
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect --limit 16 \
	    127.0.0.1 "$PY_PORT" --read-line </dev/null
	[ "$status" -eq 6 ]
	[ "$output" = "" ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$PY_PORT: line longer than --limit (16 bytes)" ]
}

@test "a record of exactly --limit bytes plus its separator is accepted" {
	py_server "$PEERS/send_server.py" "0123456789abcdef;" hold
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect --limit 16 \
	    127.0.0.1 "$PY_PORT" --read-until ';' </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "0123456789abcdef;" ]
}

@test "a record of --limit + 1 bytes before its separator exits 6" {
	py_server "$PEERS/send_server.py" "0123456789abcdefg;" hold
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect --limit 16 \
	    127.0.0.1 "$PY_PORT" --read-until ';' </dev/null
	[ "$status" -eq 6 ]
	[ "$output" = "" ]
}

@test "--read-exactly larger than --limit works" {
	py_server "$PEERS/send_server.py" "0123456789abcdefghij"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect --limit 4 \
	    127.0.0.1 "$PY_PORT" --read-exactly 20 </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "0123456789abcdefghij" ]
}

@test "connection refused exits 1 naming the address" {
	port=$(free_port)
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$port" </dev/null
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: connect to 127.0.0.1:$port: Connection refused" ]
}

@test "a name that does not resolve exits 3" {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect \
	    nonexistent.invalid 80 </dev/null
	[ "$status" -eq 3 ]
	[[ "$stderr" == "cstream: connect: "*"nonexistent.invalid"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "--connect-timeout against a full backlog exits 4" {
	py_server "$PEERS/backlog.py"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --connect-timeout 0.3 127.0.0.1 "$PY_PORT" </dev/null
	[ "$status" -eq 4 ]
	[[ "$stderr" == "cstream: connect: "*"timed out"* ]]
}

@test "--idle-timeout ends a silent connection with exit 4" {
	py_server "$PEERS/send_server.py" '' hold
	run --separate-stderr run_with_timeout 5 bash -c \
	    "sleep 4 | '$CSTREAM' connect --idle-timeout 0.3 127.0.0.1 $PY_PORT"
	[ "$status" -eq 4 ]
	[[ "$stderr" == "cstream: connect: "* ]]
}

@test "ports and arguments are validated (exit 2)" {
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 0
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: port 0: port 0 is only valid for serve" ]
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 65536
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 80x
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" connect 127.0.0.1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: missing PORT" ]
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 80 --send 'a\q'
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 80 --send '\x4'
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 80 --read-exactly -1
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 80 --limit 0
	[ "$status" -eq 2 ]
}

@test "options may follow the positional arguments, and -- ends options" {
	py_server "$PEERS/echo_server.py" --lines
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect --send \
	    'x\n' -- 127.0.0.1 "$PY_PORT" --read-line
	[ "$status" -eq 2 ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect --send \
	    'x\n' 127.0.0.1 "$PY_PORT" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "x" ]
}

@test "relay: stdin is sent, half-closed, and the answer is printed" {
	py_server "$PEERS/echo_server.py" --once-reply
	head -c 100000 /dev/urandom >"$T/in"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" <"$T/in"
	[ "$status" -eq 0 ]
	[ "$output" = "got 100000 bytes" ]
}

@test "relay: stdin from a pipe, stdout to a pipe" {
	py_server "$PEERS/echo_server.py" --lines
	run --separate-stderr run_with_timeout 5 bash -c \
	    "printf 'a\nb\n' | '$CSTREAM' connect 127.0.0.1 $PY_PORT | cat"
	[ "$status" -eq 0 ]
	[ "$output" = $'a\nb' ]
}

@test "relay: --no-shutdown keeps the write side open" {
	py_server "$PEERS/send_server.py" 'bye\n'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --no-shutdown 127.0.0.1 "$PY_PORT" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "bye" ]
}

@test "relay: a peer that leaves before all input was sent is exit 1" {
	py_server "$PEERS/send_server.py" '' drop
	head -c 16777216 /dev/zero >"$T/big"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" <"$T/big"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "cstream: connect: "*"peer closed before all input was sent"* ]]
}

@test "--send-file sends a file's bytes" {
	py_server "$PEERS/echo_server.py" --once-reply
	head -c 300000 /dev/urandom >"$T/f"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" --send-file "$T/f" -N --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "got 300000 bytes" ]
}

@test "--send-file of a missing file exits 1" {
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 1 --send-file \
	    "$T/nonexistent"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: $T/nonexistent: No such file or directory" ]
}

@test "without -N the write side stays open in one-shot mode" {
	py_server "$PEERS/echo_server.py" --lines
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$PY_PORT" --send 'a\n' --send 'b\n' --read-line --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'a\nb' ]
}

@test "with no --send, stdin is sent first, then the reads" {
	py_server "$PEERS/echo_server.py" --once-reply
	run --separate-stderr run_with_timeout 5 bash -c \
	    "printf 12345 | '$CSTREAM' connect 127.0.0.1 $PY_PORT -N --read-line"
	[ "$status" -eq 0 ]
	[ "$output" = "got 5 bytes" ]
}

@test "--fd: the asyncio documentation's socketpair example" {
	run --separate-stderr run_with_timeout 10 python3 "$PEERS/socketpair.py" \
	    "$CSTREAM"
	[ "$status" -eq 0 ]
	[ "$output" = "sent=b'hello\\n' got=b'echo: hello\\n' rc=0" ]
}

@test "--fd on something that is not a socket exits 2" {
	run --separate-stderr "$CSTREAM" connect --fd 0 --read-all <"$BATS_TEST_FILENAME"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "cstream: connect: --fd 0: "* ]]
	run --separate-stderr "$CSTREAM" connect --fd 77 --read-all
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" connect --fd 5 127.0.0.1 80
	[ "$status" -eq 2 ]
}

@test "unix-connect: missing path exits 1, long path exits 2" {
	run --separate-stderr "$CSTREAM" unix-connect "$T/nope.sock" </dev/null
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: unix-connect: connect to $T/nope.sock: No such file or directory" ]
	long=/tmp/$(printf 'a%.0s' {1..120})
	run --separate-stderr "$CSTREAM" unix-connect "$long" </dev/null
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: unix-connect: $long: path longer than 107 bytes" ]
}

@test "-v reports connected and closed events" {
	py_server "$PEERS/send_server.py" 'hi\n'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" -v connect \
	    127.0.0.1 "$PY_PORT" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "hi" ]
	[[ "${stderr_lines[0]}" == "cstream: connected peer=127.0.0.1:$PY_PORT local=127.0.0.1:"* ]]
	[ "${stderr_lines[1]}" = "cstream: closed sent=0 received=3" ]
}

@test "--log-format json gives one object per event" {
	py_server "$PEERS/send_server.py" 'hi\n'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" -v --log-format \
	    json connect 127.0.0.1 "$PY_PORT" </dev/null
	[ "$status" -eq 0 ]
	echo "$stderr" | python3 -c '
import json, sys
ev = [json.loads(l)["event"] for l in sys.stdin]
assert ev == ["connected", "closed"], ev'
}

@test "--progress=always prints the final lines on stderr" {
	py_server "$PEERS/send_server.py" 'hello\n'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --progress=always 127.0.0.1 "$PY_PORT" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
	# pv's lines, one per direction that carried bytes (progress.bats
	# has the rest): nothing was sent, so no "> 0 B".
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" =~ ^\<\ 6\ B\ [0-9]+:[0-9]{2}:[0-9]{2}\ \[[0-9.]+\ [KMG]?i?B/s\]$ ]]
	run --separate-stderr "$CSTREAM" connect --progress=sometimes 127.0.0.1 1
	[ "$status" -eq 2 ]
}

@test "--progress without a terminal on stderr prints no progress, says why once" {
	py_server "$PEERS/send_server.py" 'hello\n'
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --progress 127.0.0.1 "$PY_PORT" </dev/null
	[ "$status" -eq 0 ]
	[ "$stderr" = "cstream: connect: --progress: standard error is not a terminal, nothing shown (--progress=always forces it)" ]
}

@test "--tls options without --tls are a usage error" {
	run --separate-stderr "$CSTREAM" connect --cafile /etc/hosts 127.0.0.1 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --cafile and --insecure need --tls" ]
}

@test "stdin a terminal: the peer closing ends the relay at once" {
	py_server "$PEERS/send_server.py" 'bye\n'
	run --separate-stderr run_with_timeout 5 python3 "$PEERS/pty_stdin.py" \
	    "$CSTREAM" connect 127.0.0.1 "$PY_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = $'bye\nrc=0' ]
}

@test "relay: a peer that half-closed first still gets stdin, exit 0" {
	py_server "$PEERS/halfclose_server.py"
	# "b" only once the peer, half-closed already, has read "a": the
	# half-close went out before it (a bounded wait on that line).
	run --separate-stderr run_with_timeout 5 bash -c \
	    "(echo a; $(wait_line_cmd "$PY_OUT" '^first$'); echo b) |
	    '$CSTREAM' connect 127.0.0.1 $PY_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	wait_pid_exit "$PY_PID" 5
	[ "$(sed -n 3p "$PY_OUT")" = "got 4" ]
}

@test "relay: the last bytes refused by a peer that closed are not lost silently" {
	py_server "$PEERS/send_server.py" '' close
	# "a" only once the peer has closed (a bounded wait on its line).
	run --separate-stderr run_with_timeout 5 bash -c \
	    "($(wait_line_cmd "$PY_OUT" '^closed$'); echo a) |
	    '$CSTREAM' connect 127.0.0.1 $PY_PORT"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$PY_PORT: peer closed before all input was sent" ]
}
