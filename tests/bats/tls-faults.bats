#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# TLS peers that fail on purpose: a client or a server that
# resets the connection (SO_LINGER 0) in the middle of a transfer, a peer
# that closes during the handshake. cstream must end with the right exit
# status and message, and a server must stay idle (no spinning on a dead
# socket) and stop at SIGTERM.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"

setup_file() {
	tls_file_pki
}

setup() {
	common_setup
	require_cmd openssl python3
	PEER=$BATS_TEST_DIRNAME/../peers/tls_reset.py
}

# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks.
cpu_ticks() {
	local stat f

	read -r stat <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	read -r -a f <<<"$stat"
	# Fields 14 and 15 of stat(5), counted from the state (field 3).
	printf '%s\n' $(( f[11] + f[12] ))
}

# assert_idle PID: PID uses less than a tenth of a core over one second
# (a server spinning on a dead socket uses all of it).
assert_idle() {
	local before after hz

	hz=$(getconf CLK_TCK)
	before=$(cpu_ticks "$1")
	sleep 1		# the interval measured, not a wait for an event
	after=$(cpu_ticks "$1")
	if [ $(( after - before )) -gt $(( hz / 10 )) ]; then
		echo "pid $1 used $(( after - before )) of $hz ticks in 1 s" >&2
		return 1
	fi
}

# reset_client PORT [READ]: a TLS client that sends 1 MiB, reads READ
# bytes (default 100) and resets the connection.
reset_client() {
	run run_with_timeout 20 python3 "$PEER" client "$1" 1048576 "${2:-100}"
	[ "$status" -eq 0 ]
	[ "$output" = "sent 1048576 read ${2:-100}" ]
}

# server_still_answers PORT: a new client is served after the fault.
server_still_answers() {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls \
	    --cafile "$PKI/ca.crt" 127.0.0.1 "$1" --send 'again\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = again ]
}

# stops_at_sigterm PID: SIGTERM ends PID with exit 0 within 5 s.
stops_at_sigterm() {
	kill -TERM "$1"
	wait_pid_exit "$1" 5
	[ "$EXIT_STATUS" -eq 0 ]
}

@test "serve --tls --echo: a client that resets mid-transfer leaves the server idle" {
	serve_tls S --echo
	reset_client "$S_PORT"
	assert_idle "$S_PID"
	server_still_answers "$S_PORT"
	assert_idle "$S_PID"
	stops_at_sigterm "$S_PID"
}

@test "serve --tls --exec cat: a client that resets mid-transfer leaves the server idle" {
	serve_tls S --exec cat
	reset_client "$S_PORT"
	assert_idle "$S_PID"
	server_still_answers "$S_PORT"
	stops_at_sigterm "$S_PID"
}

@test "serve --tls -k: a client that resets mid-transfer leaves the server idle" {
	serve_tls S -k
	reset_client "$S_PORT" 0
	assert_idle "$S_PID"
	stops_at_sigterm "$S_PID"
}

@test "connect --tls: a server that resets after 1 MiB of 10 MiB: exit 1, no hang" {
	py_server "$PEER" server "$PKI/good.crt" "$PKI/good.key" 1048576
	run --separate-stderr run_with_timeout 10 bash -c \
	    'head -c 10485760 /dev/zero | "$1" connect --tls --cafile "$2" \
	    127.0.0.1 "$3"' _ "$CSTREAM" "$PKI/ca.crt" "$PY_PORT"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$PY_PORT: peer closed before all input was sent" ]
	wait_pid_exit "$PY_PID" 5
}

@test "unix-connect --tls: a peer that closes during the handshake says so (exit 7)" {
	BG_STDIN=/dev/null bg PY python3 -u "$PEER" unix-hs-close "$T/s.sock"
	wait_for_match "$PY_OUT" '^listening$'
	run --separate-stderr run_with_timeout 10 "$CSTREAM" unix-connect \
	    --tls --insecure "$T/s.sock"
	[ "$status" -eq 7 ]
	[ "$stderr" = "cstream: unix-connect: tls handshake: connection closed during the handshake" ]
	wait_pid_exit "$PY_PID" 5
}
