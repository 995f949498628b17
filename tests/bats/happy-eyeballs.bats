#!/usr/bin/env bats
#
# Happy Eyeballs (RFC 8305) and --resolve for connect: a name with an
# IPv6 address that drops SYNs and an IPv4 one that answers, made with
# --resolve (no /etc/hosts edits) and tests/peers/dual_backlog.py.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"

DUAL=$BATS_TEST_DIRNAME/../peers/dual_backlog.py

# A port closed on both ::1 and 127.0.0.1 a moment ago.
closed_dual_port() {
	python3 -c 'import socket
for _ in range(50):
    a = socket.socket(socket.AF_INET6)
    a.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    a.bind(("::1", 0))
    p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break'
}

@test "happy eyeballs: IPv6 drops SYNs, IPv4 answers: connected to IPv4 at once" {
	py_server_as D "$DUAL" accept4
	local start end
	start=$(_helpers_now)
	cs -v connect --resolve "dual.test:$D_PORT:[::1],127.0.0.1" \
	    dual.test "$D_PORT" --read-line
	end=$(_helpers_now)
	[ "$status" -eq 0 ]
	[ "$output" = "v4" ]
	[ $((end - start)) -lt 900000 ]
	[ "${stderr_lines[0]}" = "cstream: attempt peer=[::1]:$D_PORT" ]
	[ "${stderr_lines[1]}" = "cstream: attempt peer=127.0.0.1:$D_PORT" ]
	[[ ${stderr_lines[2]} == "cstream: connected peer=127.0.0.1:$D_PORT "* ]]
}

@test "happy eyeballs: IPv6 goes first whatever the order given" {
	py_server_as D "$DUAL" accept4
	cs -v connect --resolve "dual.test:$D_PORT:127.0.0.1,[::1]" \
	    dual.test "$D_PORT" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "v4" ]
	[ "${stderr_lines[0]}" = "cstream: attempt peer=[::1]:$D_PORT" ]
}

@test "happy eyeballs: -4 tries IPv4 only" {
	py_server_as D "$DUAL" accept4
	cs -v -4 connect --resolve "dual.test:$D_PORT:[::1],127.0.0.1" \
	    dual.test "$D_PORT" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "v4" ]
	# One address left: no race, so no attempt events either.
	[[ ${stderr_lines[0]} == "cstream: connected peer=127.0.0.1:$D_PORT "* ]]
}

@test "happy eyeballs: -6 tries IPv6 only and times out (exit 4)" {
	py_server_as D "$DUAL" accept4
	cs -6 --connect-timeout 0.4 connect \
	    --resolve "dual.test:$D_PORT:[::1],127.0.0.1" dual.test "$D_PORT"
	[ "$status" -eq 4 ]
	[ "$stderr" = "cstream: connect: connect to [::1]:$D_PORT: timed out" ]
}

@test "happy eyeballs: every address refused: each named on one line, exit 1" {
	local p
	p=$(closed_dual_port)
	cs connect --resolve "dual.test:$p:[::1],127.0.0.1" dual.test "$p"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: connect to [::1]:$p: Connection refused; 127.0.0.1:$p: Connection refused" ]
}

@test "happy eyeballs: every address timed out: exit 4, each named" {
	py_server_as D "$DUAL" drop4
	cs --connect-timeout 0.6 connect \
	    --resolve "dual.test:$D_PORT:[::1],127.0.0.1" dual.test "$D_PORT"
	[ "$status" -eq 4 ]
	[ "$stderr" = "cstream: connect: connect to [::1]:$D_PORT: timed out; 127.0.0.1:$D_PORT: timed out" ]
}

@test "happy eyeballs: one timed out, one refused: exit 1, both reasons" {
	py_server_as D "$DUAL" none4
	cs --connect-timeout 0.6 connect \
	    --resolve "dual.test:$D_PORT:[::1],127.0.0.1" dual.test "$D_PORT"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: connect to [::1]:$D_PORT: timed out; 127.0.0.1:$D_PORT: Connection refused" ]
}

@test "happy eyeballs: a failed attempt starts the next one at once" {
	py_server_as D "$DUAL" none4
	cs -v --connect-timeout 0.8 connect \
	    --resolve "dual.test:$D_PORT:[::1],127.0.0.1,127.0.0.2" \
	    dual.test "$D_PORT"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "cstream: attempt peer=[::1]:$D_PORT" ]
	[ "${stderr_lines[1]}" = "cstream: attempt peer=127.0.0.1:$D_PORT" ]
	[ "${stderr_lines[2]}" = "cstream: attempt-failed peer=127.0.0.1:$D_PORT error=Connection refused" ]
	[ "${stderr_lines[3]}" = "cstream: attempt peer=127.0.0.2:$D_PORT" ]
	[ "${stderr_lines[4]}" = "cstream: attempt-failed peer=127.0.0.2:$D_PORT error=Connection refused" ]
	[ "${stderr_lines[5]}" = "cstream: connect: connect to [::1]:$D_PORT: timed out; 127.0.0.1:$D_PORT: Connection refused; 127.0.0.2:$D_PORT: Connection refused" ]
}

@test "--resolve: the addresses replace DNS for that host and port only" {
	py_server_as D "$DUAL" accept4
	cs connect --resolve "nowhere.invalid:$D_PORT:127.0.0.1" \
	    nowhere.invalid "$D_PORT" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "v4" ]
	cs connect --resolve "nowhere.invalid:1:127.0.0.1" \
	    nowhere.invalid "$D_PORT" --read-line
	[ "$status" -eq 3 ]
	[ "$stderr" = "cstream: connect: nowhere.invalid: Name or service not known" ]
}

@test "--resolve: a later entry for the same host and port wins, names are caseless" {
	py_server_as D "$DUAL" accept4
	cs connect --resolve "x.test:$D_PORT:10.255.255.1" \
	    --resolve "X.TEST:$D_PORT:127.0.0.1" x.test "$D_PORT" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "v4" ]
}

@test "--resolve: -6 with only IPv4 addresses is a resolve error (exit 3)" {
	cs -6 connect --resolve "x.test:80:127.0.0.1" x.test 80
	[ "$status" -eq 3 ]
	[ "$stderr" = "cstream: connect: x.test: Address family for hostname not supported" ]
}

@test "--resolve: malformed entries are usage errors (exit 2)" {
	cs connect --resolve nope x.test 80
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --resolve nope: not HOST:PORT:ADDR[,ADDR]..." ]
	cs connect --resolve "x.test:80:::1" x.test 80
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --resolve x.test:80:::1: an IPv6 address goes in brackets" ]
	cs connect --resolve "x.test:80:example.com" x.test 80
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --resolve x.test:80:example.com: not a numeric IPv4 or [IPv6] address" ]
	cs connect --resolve "x.test:99999:127.0.0.1" x.test 80
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --resolve x.test:99999:127.0.0.1: bad port" ]
	cs unix-connect --resolve "x.test:80:127.0.0.1" /tmp/nothing.sock
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: unix-connect: --resolve and --proxy need HOST PORT" ]
}
