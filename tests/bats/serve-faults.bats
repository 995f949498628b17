#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# serve under faults and hostile clients (issue 13, issue 9): the accept
# error logger, IPv4-mapped ACL rules, clients that never read, clients
# that leave, lingering close after --exec, byte counts of --exec.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
PEERS=$BATS_TEST_DIRNAME/../peers

# from_src SRC PORT: connect from address SRC to 127.0.0.1:PORT, send
# "x\n", half-close, print what comes back (nothing when refused).
from_src() {
	run_with_timeout 5 python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])),
    source_address=(sys.argv[1], 0))
try:
	s.sendall(b"x\n")
	s.shutdown(socket.SHUT_WR)
	while (b := s.recv(4096)):
		sys.stdout.buffer.write(b)
except OSError:
	pass' "$1" "$2"
}

@test "out of descriptors: the accept warning names the command" {
	BG_STDIN=/dev/null bg S bash -c "ulimit -n 20; exec '$CSTREAM' serve 127.0.0.1 0 --echo"
	wait_for_match "$S_ERR" '^Serving on '
	port=$(sed -n 's/^Serving on 127.0.0.1://p' "$S_ERR")
	bg H python3 "$PEERS/hold_clients.py" "$port" 30 1
	wait_for_match "$S_ERR" 'Too many open files'
	run grep -c 'Too many open files' "$S_ERR"
	[ "$output" = 1 ]
	grep -qx 'cstream: serve: accept: Too many open files; pausing 100 ms' "$S_ERR"
}

@test "--deny ::ffff:127.0.0.2 denies the IPv4 client 127.0.0.2" {
	start_server S "$CSTREAM" -v serve 127.0.0.1 0 --echo --deny ::ffff:127.0.0.2
	run from_src 127.0.0.2 "$S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	wait_for_match "$S_ERR" '^cstream: denied peer=127\.0\.0\.2:'
	# Others still get in.
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$S_PORT" \
	    --send 'x\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = x ]
}

@test "--deny ::ffff:127.0.0.0/104 denies 127.0.0.2; --allow of a mapped block admits" {
	start_server S "$CSTREAM" -v serve 127.0.0.1 0 --echo \
	    --deny ::ffff:127.0.0.0/104
	run from_src 127.0.0.2 "$S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	wait_for_match "$S_ERR" '^cstream: denied peer=127\.0\.0\.2:'
	stop_pid "$S_PID"
	start_server A "$CSTREAM" serve 127.0.0.1 0 --echo \
	    --allow ::ffff:127.0.0.2/128
	run from_src 127.0.0.2 "$A_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = x ]
	run from_src 127.0.0.3 "$A_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "an IPv4-mapped block shorter than /96 is a usage error" {
	run --separate-stderr "$CSTREAM" serve 127.0.0.1 0 --echo --deny ::ffff:0:0/80
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: serve: --deny ::ffff:0:0/80: an IPv4-mapped block needs a prefix of 96 or more" ]
}
