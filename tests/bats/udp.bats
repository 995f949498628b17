#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Datagrams (man page, DATAGRAMS): connect -u, serve -u, unix-connect
# --dgram, unix-serve --dgram and connect -zu against real peers:
# nc.openbsd -u, socat UDP-* and UNIX-RECV, dnsmasq, logger -u; ICMP port
# unreachable, the size limits, and 10,000 datagrams through --echo.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
PEERS=$BATS_TEST_DIRNAME/../peers

# udp_port: a UDP port of 127.0.0.1 that was free a moment ago, for peers
# that cannot bind port 0 and say which (nc.openbsd, socat, dnsmasq).
udp_port() {
	python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# udp_bound PORT: is a UDP socket bound to PORT (/proc/net/udp)?
udp_bound() {
	awk -v p="$(printf ':%04X' "$1")" '$2 ~ p"$" { f = 1 } END { exit !f }' \
	    /proc/net/udp /proc/net/udp6 2>/dev/null
}

# A DNS query for test.example, type A, id 0x1234, as bytes.
dns_query() {
	printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00'
	printf '\x04test\x07example\x00\x00\x01\x00\x01'
}

# --- connect -u ---------------------------------------------------------------

@test "connect -u: each line of stdin is one datagram, each echo to stdout" {
	start_server S "$CSTREAM" serve -u -v --echo 127.0.0.1 0
	run run_with_timeout 10 bash -c "printf 'one\ntwo\nlast' |
	    '$CSTREAM' connect -u 127.0.0.1 $S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'one\ntwo\nlast')" ]
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" -eq 0 ]
	grep -Eq '^cstream: closed peer=127\.0\.0\.1:[0-9]+ sent=12 received=12 datagrams_sent=3 datagrams_received=3$' "$S_ERR"
}

@test "connect -u: --send is one datagram, --read N reads one of at most N" {
	start_server S "$CSTREAM" serve -u --echo 127.0.0.1 0
	run run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$S_PORT" \
	    --send 'ab\ncd' --read 100
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'ab\ncd')" ]
	run run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$S_PORT" \
	    --send 'ab\ncd' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "ab" ]
	run run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$S_PORT" \
	    --send 'one' --send 'two' --read 10 --read 10
	[ "$status" -eq 0 ]
	[ "$output" = "onetwo" ]
}

@test "connect -u: a datagram longer than --read N is written cut and reported, exit 6" {
	start_server S "$CSTREAM" serve -u --echo 127.0.0.1 0
	run -6 --separate-stderr run_with_timeout 5 "$CSTREAM" connect -u \
	    127.0.0.1 "$S_PORT" --send 'abcdef' --read 3
	[ "$output" = abc ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$S_PORT: a datagram of 6 bytes cut to 3 (--read)" ]
	run -5 --separate-stderr run_with_timeout 5 "$CSTREAM" connect -u \
	    127.0.0.1 "$S_PORT" --send 'no newline' --read-line
	[ "$output" = "no newline" ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$S_PORT: a datagram of 10 bytes without the line end" ]
}

@test "connect -u: ICMP port unreachable is reported: one line, exit 1" {
	start_server S "$CSTREAM" serve -u --discard 127.0.0.1 0
	stop_pid "$S_PID"		# its port is closed now
	run -1 run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$S_PORT" \
	    --send 'hello'
	[ "$output" = "cstream: connect: 127.0.0.1:$S_PORT: Connection refused" ]
	run -1 run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$S_PORT" \
	    --send 'hello' --read 10
	[ "$output" = "cstream: connect: 127.0.0.1:$S_PORT: Connection refused" ]
}

@test "connect -u: no reply within the quiet period: --read* exits 4, a relay 0" {
	py_server_as SIL "$PEERS/udp_silent.py"
	port=$SIL_PORT
	run -4 run_with_timeout 5 "$CSTREAM" connect -u --idle-timeout 0.3 \
	    127.0.0.1 "$port" --send x --read 10
	[ "$output" = "cstream: connect: 127.0.0.1:$port: no datagram within 0.3 s" ]
	run -0 run_with_timeout 5 "$CSTREAM" connect -u --idle-timeout 0.3 \
	    127.0.0.1 "$port" --send x
	[ "$output" = "" ]
}

@test "connect -u: the largest datagrams: 65,507 bytes over IPv4 go, 65,508 exit 2 before sending" {
	start_server S "$CSTREAM" serve -u -v --echo 127.0.0.1 0
	head -c 65507 /dev/urandom >"$T/max"
	head -c 65508 /dev/urandom >"$T/over"
	run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$S_PORT" \
	    --send-file "$T/max" --read 65536 >"$T/echo"
	cmp "$T/max" "$T/echo"
	run -2 run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$S_PORT" \
	    --send-file "$T/over"
	[ "${lines[0]}" = "cstream: connect: a datagram of 65508 bytes is over the largest IPv4 payload, 65507 bytes" ]
	run -2 run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$S_PORT" \
	    --send "$(head -c 65528 /dev/zero | tr '\0' a)"
	[ "${lines[0]}" = "cstream: connect: a datagram of 65528 bytes is over the largest IPv6 payload, 65527 bytes" ]
	stop_pid "$S_PID"
	# Only the 65,507-byte datagram ever reached the server.
	grep -q ' received=65507 datagrams_sent=1 datagrams_received=1$' "$S_ERR"
}

@test "connect -u: -x dumps each datagram under its own header" {
	start_server S "$CSTREAM" serve -u --echo 127.0.0.1 0
	run_with_timeout 5 "$CSTREAM" connect -u -x "$T/dump" 127.0.0.1 \
	    "$S_PORT" --send 'ab' --send 'cd' --read 10 --read 10 >/dev/null
	diff - "$T/dump" <<'DUMP'
> 0 2
00000000  61 62                                             |ab|
> 2 2
00000002  63 64                                             |cd|
< 0 2
00000000  61 62                                             |ab|
< 2 2
00000002  63 64                                             |cd|
DUMP
}

@test "connect -u: options that make no sense for datagrams are usage errors" {
	run -2 "$CSTREAM" connect -u --tls 127.0.0.1 53
	[ "${lines[0]}" = "cstream: connect: --tls cannot be used with datagrams (-u)" ]
	run -2 "$CSTREAM" connect --dgram 127.0.0.1 53
	[ "${lines[0]}" = "cstream: connect: --dgram is for unix-connect; UDP is -u" ]
	run -2 "$CSTREAM" serve -u --exec cat 0
	[ "${lines[0]}" = "cstream: serve: --exec cannot be used with datagrams (-u)" ]
	run -2 "$CSTREAM" serve -u --echo --discard 0
	[ "${lines[0]}" = "cstream: serve: --echo, --discard and -k are modes: one at a time" ]
}

@test "connect -u -s -p: datagrams leave from the source address and port asked for" {
	start_server S "$CSTREAM" serve -u -v --echo 127.0.0.1 0
	sport=$(udp_port)
	run -0 run_with_timeout 5 "$CSTREAM" connect -u -s 127.0.0.1 \
	    -p "$sport" 127.0.0.1 "$S_PORT" --send hi --read 10
	[ "$output" = hi ]
	grep -q "^cstream: peer peer=127.0.0.1:$sport$" "$S_ERR"
}

# --- real peers ---------------------------------------------------------------

@test "nc.openbsd -u: cstream connect -u to nc -lu, and nc -u to cstream serve -u" {
	require_cmd nc.openbsd
	port=$(udp_port)
	bg NC nc.openbsd -u -l 127.0.0.1 "$port"
	wait_for udp_bound "$port"
	run -0 run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$port" \
	    --send 'from cstream\n'
	wait_for_match "$NC_OUT" '^from cstream$'

	start_server S "$CSTREAM" serve -u 127.0.0.1 0
	printf 'from nc\n' | run_with_timeout 5 nc.openbsd -u -w1 127.0.0.1 \
	    "$S_PORT"
	wait_for_match "$S_OUT" '^from nc$'
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" -eq 0 ]
	[ "$(cat "$S_OUT")" = "from nc" ]
}

@test "socat: UDP-LISTEN echoes to connect -u; UDP-SENDTO gets serve -u --echo's answer" {
	require_cmd socat
	port=$(udp_port)
	bg SO socat UDP-LISTEN:"$port",bind=127.0.0.1 PIPE
	wait_for udp_bound "$port"
	run -0 run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$port" \
	    --send 'through socat' --read 100
	[ "$output" = "through socat" ]

	start_server S "$CSTREAM" serve -u --echo 127.0.0.1 0
	run -0 run_with_timeout 5 bash -c "printf 'to cstream' |
	    socat -t 1 - UDP-SENDTO:127.0.0.1:$S_PORT"
	[ "$output" = "to cstream" ]
}

@test "dnsmasq: a DNS query sent with --send-file, the answer read with --read 512" {
	require_cmd dnsmasq
	port=$(udp_port)
	bg DNS dnsmasq -k --no-resolv --no-hosts --port="$port" \
	    --listen-address=127.0.0.1 --bind-interfaces --user=root \
	    --address=/test.example/192.0.2.1 --pid-file="$T/dnsmasq.pid" \
	    --conf-file=/dev/null
	wait_for udp_bound "$port"
	dns_query >"$T/query"
	run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$port" \
	    --send-file "$T/query" --read 512 >"$T/answer"
	# The same id, a response with no error, one answer: 192.0.2.1.
	[ "$(head -c 2 "$T/answer" | od -An -tx1 | tr -d ' ')" = 1234 ]
	[ "$(od -An -j 3 -N 1 -tx1 "$T/answer" | tr -d ' ')" = 80 ]
	[ "$(od -An -j 6 -N 2 -tx1 "$T/answer" | tr -d ' ')" = 0001 ]
	[ "$(tail -c 4 "$T/answer" | od -An -tu1 | tr -s ' ' .)" = .192.0.2.1 ]
}

@test "10,000 datagrams of 0 to 65,507 bytes through serve -u --echo, none altered or lost" {
	start_server S "$CSTREAM" serve -u -v --echo 127.0.0.1 0
	run -0 run_with_timeout 120 python3 "$PEERS/udp_echo_check.py" \
	    127.0.0.1 "$S_PORT" 10000 65507
	[ "${lines[0]}" = "sent 10000 received 10000 lost 0 altered 0" ]
	stop_pid "$S_PID"
	grep -Eq ' datagrams_sent=10000 datagrams_received=10000$' "$S_ERR"
}

# --- serve -u -------------------------------------------------------------------

@test "serve -u 0: Serving on the real port; stdin's lines go to the first peer only, as nc -lu" {
	mkfifo "$T/stdin"
	exec 4<>"$T/stdin"
	BG_STDIN=$T/stdin start_server S "$CSTREAM" serve -u -v 127.0.0.1 0
	[[ $S_ADDR =~ ^127\.0\.0\.1:[1-9][0-9]*$ ]]
	python3 -c 'import socket, sys
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a.settimeout(30)
a.sendto(b"first\n", ("127.0.0.1", int(sys.argv[1])))
b.sendto(b"second\n", ("127.0.0.1", int(sys.argv[1])))
print(a.recv(100).decode(), end="", flush=True)' "$S_PORT" >"$T/a.out" 2>"$T/a.err" 3>&- &
	track_pid $!
	# python3 may take seconds to start on a loaded machine.
	wait_for_match "$S_OUT" '^first$' 30
	wait_for_match "$S_ERR" '^cstream: ignored peer=127\.0\.0\.1:' 30
	echo 'to the first' >&4
	wait_for_match "$T/a.out" '^to the first$'
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" -eq 0 ]
	[ "$(cat "$S_OUT")" = first ]
	grep -Eq '^cstream: closed peer=127\.0\.0\.1:[0-9]+ sent=13 received=6 datagrams_sent=1 datagrams_received=1$' "$S_ERR"
}

@test "serve -u -k: every peer to stdout, stdin to the peer that spoke last" {
	mkfifo "$T/stdin"
	exec 4<>"$T/stdin"
	BG_STDIN=$T/stdin start_server S "$CSTREAM" serve -u -k \
	    --log-format json -v 127.0.0.1 0
	run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$S_PORT" \
	    --send 'a\n' --idle-timeout 0.2
	python3 -c 'import socket, sys
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b.settimeout(30)
b.sendto(b"b\n", ("127.0.0.1", int(sys.argv[1])))
print(b.recv(100).decode(), end="", flush=True)' "$S_PORT" >"$T/b.out" 3>&- &
	track_pid $!
	wait_for -t 30 lines_matching "$S_OUT" '^[ab]$' 2
	echo 'to b' >&4
	wait_for_match "$T/b.out" '^to b$'
	stop_pid "$S_PID"
	[ "$(cat "$S_OUT")" = "$(printf 'a\nb')" ]
	[ "$(grep -c '"event":"peer"' "$S_ERR")" -eq 2 ]
	grep -Eq '^\{.*"event":"closed".*"datagrams_sent":1,.*\}$' "$S_ERR"
}

@test "serve -u --allow/--deny: datagrams from refused senders are dropped (-v: denied)" {
	start_server S "$CSTREAM" serve -u -v --echo --deny 127.0.0.1 0
	run -4 run_with_timeout 5 "$CSTREAM" connect -u --idle-timeout 0.3 \
	    127.0.0.1 "$S_PORT" --send x --read 1
	wait_for_match "$S_ERR" '^cstream: denied peer=127\.0\.0\.1:[0-9]+$'
	start_server A "$CSTREAM" serve -u --echo --allow 127.0.0.0/8 127.0.0.1 0
	run -0 run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$A_PORT" \
	    --send x --read 1
	[ "$output" = x ]
}

@test "serve -u --discard: counts per peer at exit, nothing back" {
	start_server S "$CSTREAM" serve -u -v --discard 127.0.0.1 0
	run -0 run_with_timeout 5 "$CSTREAM" connect -u --idle-timeout 0.2 \
	    127.0.0.1 "$S_PORT" --send 1234 --send 56
	[ "$output" = "" ]
	stop_pid "$S_PID"
	grep -Eq '^cstream: closed peer=127\.0\.0\.1:[0-9]+ sent=0 received=6 datagrams_sent=0 datagrams_received=2$' "$S_ERR"
}

# --- unix datagram sockets ----------------------------------------------------------

@test "unix-connect --dgram: a syslog line to socat UNIX-RECV, as to /dev/log" {
	require_cmd socat
	bg SO socat -u UNIX-RECV:"$T/log.sock" -
	wait_for_file "$T/log.sock"
	run -0 run_with_timeout 5 "$CSTREAM" unix-connect --dgram \
	    "$T/log.sock" --send '<13>hello'
	wait_for grep -q '^<13>hello' "$SO_OUT"
	[ "$(cat "$SO_OUT")" = "<13>hello" ]
}

@test "unix-serve --dgram: logger -u writes to it; --mode; in use refused; file removed at exit" {
	require_cmd logger
	start_server S "$CSTREAM" unix-serve --dgram -v --mode 600 "$T/dg.sock"
	[ "$S_ADDR" = "$T/dg.sock" ]
	[ "$(stat -c %a "$T/dg.sock")" = 600 ]
	run_with_timeout 5 logger -u "$T/dg.sock" -t cstreamtest 'hello logger'
	# A syslog datagram has no newline: the payload as it came.
	wait_for grep -q 'cstreamtest: hello logger$' "$S_OUT"
	run -1 run_with_timeout 5 "$CSTREAM" unix-serve --dgram "$T/dg.sock"
	[ "$output" = "cstream: unix-serve: $T/dg.sock: address in use" ]
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" -eq 0 ]
	[ ! -e "$T/dg.sock" ]
	grep -q '^cstream: closed peer=unnamed sent=0 received=' "$S_ERR"
}

@test "unix-serve --dgram: a file that is not a socket is refused, a stale socket replaced" {
	echo keep >"$T/file"
	run -1 run_with_timeout 5 "$CSTREAM" unix-serve --dgram "$T/file"
	[ "$output" = "cstream: unix-serve: $T/file: exists and is not a socket" ]
	[ "$(cat "$T/file")" = keep ]
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])' "$T/stale.sock"
	[ -S "$T/stale.sock" ]
	start_server S "$CSTREAM" unix-serve --dgram --echo "$T/stale.sock"
	run -0 run_with_timeout 5 "$CSTREAM" unix-connect --dgram \
	    "$T/stale.sock" --send ping --read 10
	[ "$output" = ping ]
}

@test "unix-connect --dgram to an abstract @name: the autobound client gets the echo" {
	name="@cstream-udp-test-$$-$BATS_TEST_NUMBER"
	start_server S "$CSTREAM" unix-serve --dgram --echo "$name"
	[ "$S_ADDR" = "$name" ]
	run -0 run_with_timeout 5 "$CSTREAM" unix-connect --dgram "$name" \
	    --send 'ping\n' --read-line
	[ "$output" = ping ]
	run -1 run_with_timeout 5 "$CSTREAM" unix-connect --dgram \
	    "$T/none.sock" --send x
	[ "$output" = "cstream: unix-connect: connect to $T/none.sock: No such file or directory" ]
}

# --- connect -zu ----------------------------------------------------------------

@test "connect -zu: open (answered), closed (ICMP unreachable), open|filtered (silent)" {
	start_server S "$CSTREAM" serve -u --echo 127.0.0.1 0
	start_server C "$CSTREAM" serve -u --discard 127.0.0.1 0
	stop_pid "$C_PID"
	py_server_as SIL "$PEERS/udp_silent.py"
	silent=$SIL_PORT
	run -0 run_with_timeout 10 "$CSTREAM" connect -zu --json \
	    --connect-timeout 0.5 127.0.0.1 "$S_PORT,$C_PORT,$silent"
	[ "${#lines[@]}" -eq 3 ]
	for l in "${lines[@]}"; do
		case $l in
		*"\"port\":$S_PORT,"*) [ "$l" = "{\"host\":\"127.0.0.1\",\"port\":$S_PORT,\"state\":\"open\"}" ] ;;
		*"\"port\":$C_PORT,"*) [ "$l" = "{\"host\":\"127.0.0.1\",\"port\":$C_PORT,\"state\":\"closed\"}" ] ;;
		*) [ "$l" = "{\"host\":\"127.0.0.1\",\"port\":$silent,\"state\":\"open|filtered\"}" ] ;;
		esac
	done
	run -0 run_with_timeout 10 "$CSTREAM" connect -zu 127.0.0.1 "$S_PORT"
	[ "$output" = "127.0.0.1 $S_PORT open" ]
	run -1 run_with_timeout 10 "$CSTREAM" connect -zu -v \
	    --connect-timeout 0.5 127.0.0.1 "$C_PORT,$silent"
	[[ $output == *"127.0.0.1 $C_PORT closed"* ]]
	[[ $output == *"127.0.0.1 $silent open|filtered"* ]]
}

@test "connect -u --resolve: the address given, not DNS; --progress counts the datagrams' bytes" {
	start_server S "$CSTREAM" serve -u --echo 127.0.0.1 0
	run -0 --separate-stderr run_with_timeout 5 "$CSTREAM" connect -u \
	    --resolve "udp.example:$S_PORT:127.0.0.1" --progress=always \
	    udp.example "$S_PORT" --send 'hello' --read 100
	[ "$output" = hello ]
	[[ ${stderr_lines[-2]} =~ ^\>\ 5\ B\  ]]
	[[ ${stderr_lines[-1]} =~ ^\<\ 5\ B\  ]]
}
