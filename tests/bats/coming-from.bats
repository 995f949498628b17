#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The man page's "COMING FROM NC, NCAT OR SOCAT" table, one test per row:
# the cstream command of the row, run against a real peer (most often the
# tool it replaces, in the other role), its output and exit status exact.
# host is 127.0.0.1 and a listening port is 0 (or free_port for peers
# that cannot report one).

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"
PEERS=$BATS_TEST_DIRNAME/../peers

# A python line echo server on 127.0.0.1: PY_PORT.
echo_peer() {
	py_server "$PEERS/echo_server.py" --lines
}

# unix_listening PATH: a unix socket listens on PATH (not just bound).
unix_listening() {
	awk -v p="$1" '$NF == p && $6 == "01" { found = 1 }
	    END { exit !found }' /proc/net/unix
}

@test "nc -l port: cstream serve port" {
	printf 'from server\n' >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" serve 127.0.0.1 0
	run run_with_timeout 5 nc -N 127.0.0.1 "$S_PORT" <<<"from nc"
	[ "$status" -eq 0 ]
	[ "$output" = "from server" ]
	wait_pid_exit "$S_PID" 5
	[ "$(cat "$S_OUT")" = "from nc" ]
}

@test "nc host port: cstream connect host port" {
	echo_peer
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$PY_PORT" \
	    <<<"hello"
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
}

@test "nc -N host port < file: cstream connect host port < file" {
	echo_peer
	printf 'one\ntwo\n' >"$T/file"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    127.0.0.1 "$PY_PORT" <"$T/file"
	[ "$status" -eq 0 ]
	[ "$output" = $'one\ntwo' ]
	[ -z "$stderr" ]
}

@test "nc -z host 20-30: cstream connect -z host 20-30" {
	start_server S "$CSTREAM" serve --discard 127.0.0.1 0
	lo=$((S_PORT - 1)) hi=$((S_PORT + 1))
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z \
	    127.0.0.1 "$lo-$hi"
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $S_PORT open" ]
	# The same exit status as nc's, for the same ports.
	run run_with_timeout 10 nc -z 127.0.0.1 "$lo-$hi"
	[ "$status" -eq 0 ]
}

@test "nc -C host port: cstream connect -C host port" {
	py_server "$PEERS/recorder.py" "$T/rec"
	run run_with_timeout 5 "$CSTREAM" connect -C 127.0.0.1 "$PY_PORT" \
	    <<<$'EHLO x\nQUIT'
	[ "$status" -eq 0 ]
	[ "$(od -An -c "$T/rec" | tr -s ' ')" = \
	    "$(printf 'EHLO x\r\nQUIT\r\n' | od -An -c | tr -s ' ')" ]
}

@test "nc -x proxy:port host port: cstream connect --proxy socks5://proxy:port host port" {
	require_cmd microsocks
	py_server "$PEERS/send_server.py" 'via socks\n'
	mport=$(free_port)
	bg M microsocks -i 127.0.0.1 -p "$mport"
	wait_for tcp_listening "$mport"
	# A terminal on stdin sends no EOF, which microsocks would pass on
	# as a full close; the peer's close ends the relay.
	run run_with_timeout 10 python3 "$PEERS/pty_stdin.py" "$CSTREAM" \
	    connect --proxy "socks5://127.0.0.1:$mport" 127.0.0.1 "$PY_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = $'via socks\nrc=0' ]
}

@test "nc -U path: cstream unix-connect path" {
	bg P socat UNIX-LISTEN:"$T/sock" EXEC:cat
	wait_for unix_listening "$T/sock"
	run run_with_timeout 5 "$CSTREAM" unix-connect "$T/sock" <<<"ping"
	[ "$status" -eq 0 ]
	[ "$output" = "ping" ]
}

@test "nc -lU path: cstream unix-serve path" {
	printf 'from server\n' >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" unix-serve "$T/sock"
	run run_with_timeout 5 nc -N -U "$T/sock" <<<"from nc"
	[ "$status" -eq 0 ]
	[ "$output" = "from server" ]
	wait_pid_exit "$S_PID" 5
	[ "$(cat "$S_OUT")" = "from nc" ]
}

@test "ncat -l port --exec cmd: cstream serve --exec cmd port" {
	start_server S "$CSTREAM" serve --exec "tr a-z A-Z" 127.0.0.1 0
	run run_with_timeout 5 ncat 127.0.0.1 "$S_PORT" <<<"shout"
	[ "$status" -eq 0 ]
	[ "$output" = "SHOUT" ]
}

@test "ncat -l port --sh-exec cmd: cstream serve --sh-exec cmd port" {
	start_server S "$CSTREAM" serve --sh-exec "tr a-z A-Z | rev" \
	    127.0.0.1 0
	run run_with_timeout 5 ncat 127.0.0.1 "$S_PORT" <<<"abc"
	[ "$status" -eq 0 ]
	[ "$output" = "CBA" ]
}

@test "ncat -l -k port: cstream serve -k port" {
	start_server S "$CSTREAM" serve -k 127.0.0.1 0
	for msg in first second; do
		run run_with_timeout 5 ncat --send-only 127.0.0.1 "$S_PORT" \
		    <<<"$msg"
		[ "$status" -eq 0 ]
		wait_for_match "$S_OUT" "^$msg\$"
	done
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" -eq 0 ]
	[ "$(cat "$S_OUT")" = $'first\nsecond' ]
}

@test "ncat -l --broker port: cstream serve --broker port" {
	start_server S "$CSTREAM" -v serve --broker 127.0.0.1 0
	bg A ncat --recv-only 127.0.0.1 "$S_PORT"
	wait_for lines_matching "$S_ERR" 'accepted' 1
	run run_with_timeout 5 ncat --send-only 127.0.0.1 "$S_PORT" \
	    <<<"to all"
	[ "$status" -eq 0 ]
	wait_for_match "$A_OUT" '^to all$'
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" -eq 0 ]
	wait_pid_exit "$A_PID" 5
	[ "$(cat "$A_OUT")" = "to all" ]
}

@test "ncat --ssl host port: cstream connect --tls -k host port" {
	port=$(free_port)
	# -k: a stray connection (a port scan elsewhere) cannot use it up.
	bg P ncat --ssl -l -k 127.0.0.1 "$port" --sh-exec "echo secret"
	wait_for -t 10 tcp_listening "$port"
	# A terminal on stdin: ncat ends the program at our EOF, so none is
	# sent; the peer's close ends the relay (pty_stdin.py prints rc=N).
	run --separate-stderr run_with_timeout 10 python3 \
	    "$PEERS/pty_stdin.py" "$CSTREAM" connect --tls -k 127.0.0.1 "$port"
	[ "$status" -eq 0 ]
	[ "$output" = $'secret\nrc=0' ]
	[ -z "$stderr" ]
}

@test "ncat -l --ssl --ssl-cert crt --ssl-key key port: cstream serve --tls --cert crt --key key port" {
	tls_make_ca "$T/pki"
	tls_make_cert "$T/pki" ca good "DNS:localhost,IP:127.0.0.1"
	printf 'secret\n' >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" serve --tls \
	    --cert "$T/pki/good.crt" --key "$T/pki/good.key" 127.0.0.1 0
	run run_with_timeout 5 ncat --ssl 127.0.0.1 "$S_PORT" <<<"hi"
	[ "$status" -eq 0 ]
	[ "$output" = "secret" ]
	wait_pid_exit "$S_PID" 5
	[ "$(cat "$S_OUT")" = "hi" ]
}

@test "socat - TCP:host:port: cstream connect host port" {
	echo_peer
	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$PY_PORT" \
	    <<<"like socat"
	[ "$status" -eq 0 ]
	[ "$output" = "like socat" ]
}

@test "socat TCP-LISTEN:port,fork EXEC:cmd: cstream serve --exec cmd port" {
	start_server S "$CSTREAM" serve --exec "wc -c" 127.0.0.1 0
	for msg in a bb; do
		run run_with_timeout 5 socat - TCP:127.0.0.1:"$S_PORT" <<<"$msg"
		[ "$status" -eq 0 ]
		[ "$output" = "$((${#msg} + 1))" ]
	done
}

@test "socat UNIX-LISTEN:path -: cstream unix-serve path" {
	printf 'from server\n' >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" unix-serve "$T/sock"
	run run_with_timeout 5 socat - UNIX-CONNECT:"$T/sock" <<<"from socat"
	[ "$status" -eq 0 ]
	[ "$output" = "from server" ]
	wait_pid_exit "$S_PID" 5
	[ "$(cat "$S_OUT")" = "from socat" ]
}

@test "socat - UNIX-CONNECT:path: cstream unix-connect path" {
	bg P socat UNIX-LISTEN:"$T/sock" EXEC:"rev"
	wait_for unix_listening "$T/sock"
	run run_with_timeout 5 "$CSTREAM" unix-connect "$T/sock" <<<"olleh"
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
}

# --- TLS rows: s_client, ncat --ssl-*, stunnel, check_http -C --

# tls_pki: a CA and the certificates of these rows, in $T/pki.
tls_pki() {
	require_cmd openssl
	tls_make_ca "$T/pki" &&
	tls_make_cert "$T/pki" ca good "DNS:localhost,IP:127.0.0.1" &&
	TLS_EKU=clientAuth tls_make_cert "$T/pki" ca client "email:c@example.com"
}

# s_server_www PREFIX ARGS...: openssl s_server -www on port 0: PREFIX_PORT.
s_server_www() {
	local prefix=$1 out line

	shift
	bg "$prefix" openssl s_server -accept 127.0.0.1:0 -www "$@"
	out=${prefix}_OUT
	wait_for grep -q '^ACCEPT' "${!out}"
	line=$(grep '^ACCEPT' "${!out}")
	printf -v "${prefix}_PORT" '%s' "${line##*:}"
}

pem_blocks() {
	sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p'
}

@test "openssl s_client -connect host:port -showcerts: cstream connect --tls -k --show-cert=pem host port" {
	tls_pki
	s_server_www S -cert "$T/pki/good.crt" -key "$T/pki/good.key"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect --tls -k \
	    --show-cert=pem 127.0.0.1 "$S_PORT"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = " 0 s:CN = good, O = cstream tests" ]
	[ "$(pem_blocks <<<"$output")" = "$(pem_blocks <"$T/pki/good.crt")" ]
	# s_client shows the same chain.
	run bash -c 'timeout 5 openssl s_client -connect "127.0.0.1:$1" \
	    -showcerts </dev/null 2>/dev/null' _ "$S_PORT"
	[ "$(pem_blocks <<<"$output")" = "$(pem_blocks <"$T/pki/good.crt")" ]
}

@test "openssl s_client -starttls smtp -connect host:port: cstream connect --starttls smtp host port" {
	tls_pki
	py=
	for p in python3 /usr/bin/python3; do
		"$p" -c 'import aiosmtpd' 2>/dev/null && py=$p && break
	done
	[ -n "$py" ] || skip "aiosmtpd is not installed"
	port=$(free_port)
	bg M "$py" -m aiosmtpd -n -l "127.0.0.1:$port" \
	    --tlscert "$T/pki/good.crt" --tlskey "$T/pki/good.key"
	wait_for tcp_listening "$port"
	run --separate-stderr env SSL_CERT_FILE="$T/pki/ca.crt" \
	    timeout 10 "$CSTREAM" connect --starttls smtp localhost "$port" \
	    --send 'QUIT\r\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'221 Bye\r' ]
	[ -z "$stderr" ]
}

@test "openssl s_client -connect host:port -cert crt -key key: cstream connect --tls --cert crt --key key host port" {
	tls_pki
	s_server_www S -cert "$T/pki/good.crt" -key "$T/pki/good.key" \
	    -Verify 1 -verify_return_error -CAfile "$T/pki/ca.crt"
	run --separate-stderr env SSL_CERT_FILE="$T/pki/ca.crt" \
	    timeout 10 "$CSTREAM" connect --tls --cert "$T/pki/client.crt" \
	    --key "$T/pki/client.key" localhost "$S_PORT" \
	    --send 'GET / HTTP/1.0\r\n\r\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.0 200 ok\r' ]
}

@test "ncat --ssl-verify --ssl-trustfile ca --ssl-cert crt --ssl-key key host port: cstream connect --tls --cafile ca --cert crt --key key host port" {
	tls_pki
	s_server_www S -cert "$T/pki/good.crt" -key "$T/pki/good.key" \
	    -Verify 1 -verify_return_error -CAfile "$T/pki/ca.crt"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls \
	    --cafile "$T/pki/ca.crt" --cert "$T/pki/client.crt" \
	    --key "$T/pki/client.key" localhost "$S_PORT" \
	    --send 'GET / HTTP/1.0\r\n\r\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.0 200 ok\r' ]
	# ncat, with the same files, gets the same line.
	run bash -c 'printf "GET / HTTP/1.0\r\n\r\n" | timeout 10 ncat \
	    --ssl-verify --ssl-trustfile "$1/ca.crt" --ssl-cert "$1/client.crt" \
	    --ssl-key "$1/client.key" localhost "$2" | head -n 1' _ "$T/pki" \
	    "$S_PORT"
	[ "$output" = $'HTTP/1.0 200 ok\r' ]
}

@test "ncat --ssl --ssl-alpn proto --ssl-servername name host port: cstream connect --tls -k --alpn proto --servername name host port" {
	tls_pki
	tls_make_cert "$T/pki" ca other "DNS:other.example"
	s_server_www S -cert "$T/pki/good.crt" -key "$T/pki/good.key" \
	    -alpn h2,http/1.1 -servername other.example \
	    -cert2 "$T/pki/other.crt" -key2 "$T/pki/other.key"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls -k \
	    --alpn http/1.1 --servername other.example 127.0.0.1 "$S_PORT" \
	    --show-cert --json
	[ "$status" -eq 0 ]
	[[ $output == '{"subject":"CN = other, O = cstream tests",'* ]]
	# s_server's -cert2 context has no ALPN: the name alone picks it.
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls -k \
	    --alpn http/1.1 127.0.0.1 "$S_PORT" --show-cert --json
	[ "$status" -eq 0 ]
	[[ $output == '{"subject":"CN = good, O = cstream tests",'*'"alpn":"http/1.1",'* ]]
}

@test "stunnel (verifyChain = yes, CAfile = ca): cstream serve --tls --cert crt --key key --client-ca ca --sh-exec cmd port" {
	tls_pki
	require_cmd stunnel4
	start_server S "$CSTREAM" serve --tls --cert "$T/pki/good.crt" \
	    --key "$T/pki/good.key" --client-ca "$T/pki/ca.crt" \
	    --sh-exec 'echo "hello $CSTREAM_TLS_CLIENT_SUBJECT"' 127.0.0.1 0
	# stunnel the client, with its certificate, as it fronts one.
	port=$(free_port)
	cat >"$T/stunnel.conf" <<-EOF
	foreground = yes
	pid =
	[c]
	client = yes
	accept = 127.0.0.1:$port
	connect = 127.0.0.1:$S_PORT
	cert = $T/pki/client.crt
	key = $T/pki/client.key
	CAfile = $T/pki/ca.crt
	verifyChain = yes
	checkHost = localhost
	EOF
	bg ST stunnel4 "$T/stunnel.conf"
	wait_for tcp_listening "$port"
	run run_with_timeout 10 "$CSTREAM" connect 127.0.0.1 "$port" --read-line \
	    </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "hello CN = client, O = cstream tests" ]
}

@test "check_http -H host -S -C days: cstream connect --tls --expire-warn days host 443" {
	tls_pki
	tls_make_cert "$T/pki" ca soon "DNS:localhost" \
	    "$(date -u -d yesterday +%Y%m%d%H%M%SZ)" \
	    "$(date -u -d '+10 days' +%Y%m%d%H%M%SZ)"
	s_server_www S -cert "$T/pki/soon.crt" -key "$T/pki/soon.key"
	run --separate-stderr env SSL_CERT_FILE="$T/pki/ca.crt" \
	    timeout 10 "$CSTREAM" connect --tls --expire-warn 30 localhost "$S_PORT"
	[ "$status" -eq 11 ]
	[[ $stderr =~ ^"cstream: connect: certificate 'soon' expires in "(9|10)" days ("[0-9-]+T[0-9:]+Z")"$ ]]
	! openssl x509 -in "$T/pki/soon.crt" -noout -checkend $((30 * 86400))
	run --separate-stderr env SSL_CERT_FILE="$T/pki/ca.crt" \
	    timeout 10 "$CSTREAM" connect --tls --expire-warn 7 localhost "$S_PORT"
	[ "$status" -eq 0 ]
	openssl x509 -in "$T/pki/soon.crt" -noout -checkend $((7 * 86400))
}

# udp_port: a UDP port of 127.0.0.1 free a moment ago (nc, ncat, socat).
udp_port() {
	python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# udp_bound PORT: a UDP socket is bound to PORT.
udp_bound() {
	awk -v p="$(printf ':%04X' "$1")" '$2 ~ p"$" { f = 1 } END { exit !f }' \
	    /proc/net/udp /proc/net/udp6 2>/dev/null
}

@test "nc -u host port: cstream connect -u host port" {
	port=$(udp_port)
	bg N nc.openbsd -u -l 127.0.0.1 "$port"
	wait_for udp_bound "$port"
	run run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$port" \
	    <<<"hello nc"
	[ "$status" -eq 0 ]
	wait_for_match "$N_OUT" '^hello nc$'
}

@test "nc -lu port: cstream serve -u port" {
	start_server S "$CSTREAM" serve -u 127.0.0.1 0
	printf 'from nc\n' | run_with_timeout 5 nc.openbsd -u -w1 127.0.0.1 \
	    "$S_PORT"
	wait_for_match "$S_OUT" '^from nc$'
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" -eq 0 ]
}

@test "nc -zu host ports: cstream connect -zu host ports" {
	start_server S "$CSTREAM" serve -u --echo 127.0.0.1 0
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect -zu \
	    127.0.0.1 "$S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $S_PORT open" ]
}

@test "nc -Uu path: cstream unix-connect --dgram path" {
	bg P socat -u UNIX-RECV:"$T/dg.sock" -
	wait_for_file "$T/dg.sock"
	run run_with_timeout 5 "$CSTREAM" unix-connect --dgram "$T/dg.sock" \
	    <<<"hello unix"
	[ "$status" -eq 0 ]
	wait_for_match "$P_OUT" '^hello unix$'
}

@test "ncat --udp host port: cstream connect -u host port" {
	port=$(udp_port)
	bg N ncat -l --udp 127.0.0.1 "$port"
	wait_for udp_bound "$port"
	run run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$port" \
	    <<<"hello ncat"
	[ "$status" -eq 0 ]
	wait_for_match "$N_OUT" '^hello ncat$'
}

@test "ncat -l --udp port: cstream serve -u port" {
	start_server S "$CSTREAM" serve -u 127.0.0.1 0
	printf 'from ncat\n' | run_with_timeout 5 ncat --udp --send-only \
	    127.0.0.1 "$S_PORT"
	wait_for_match "$S_OUT" '^from ncat$'
}

@test "socat - UDP:host:port: cstream connect -u host port" {
	port=$(udp_port)
	bg P socat UDP-LISTEN:"$port",bind=127.0.0.1 PIPE
	wait_for udp_bound "$port"
	run run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$port" \
	    --send 'hello\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
}

@test "socat - UDP-SENDTO:host:port: cstream connect -u host port" {
	port=$(udp_port)
	bg P socat -u UDP-RECV:"$port",bind=127.0.0.1 -
	wait_for udp_bound "$port"
	run run_with_timeout 5 "$CSTREAM" connect -u 127.0.0.1 "$port" \
	    <<<"to socat"
	[ "$status" -eq 0 ]
	wait_for_match "$P_OUT" '^to socat$'
}

@test "socat UDP-LISTEN:port -: cstream serve -u port" {
	start_server S "$CSTREAM" serve -u 127.0.0.1 0
	printf 'from socat\n' | run_with_timeout 5 socat -u - \
	    UDP-SENDTO:127.0.0.1:"$S_PORT"
	wait_for_match "$S_OUT" '^from socat$'
}

@test "socat UDP-RECVFROM:port,fork PIPE: cstream serve -u --echo port" {
	start_server S "$CSTREAM" serve -u --echo 127.0.0.1 0
	run run_with_timeout 5 socat -t 1 - UDP-SENDTO:127.0.0.1:"$S_PORT" \
	    <<<"echo me"
	[ "$status" -eq 0 ]
	[ "$output" = "echo me" ]
}

@test "socat - UNIX-SENDTO:path: cstream unix-connect --dgram path" {
	bg P socat -u UNIX-RECV:"$T/dg.sock" -
	wait_for_file "$T/dg.sock"
	run run_with_timeout 5 "$CSTREAM" unix-connect --dgram "$T/dg.sock" \
	    --send '<13>hello\n'
	[ "$status" -eq 0 ]
	wait_for_match "$P_OUT" '^<13>hello$'
}

@test "socat UNIX-RECV:path -: cstream unix-serve --dgram path" {
	start_server S "$CSTREAM" unix-serve --dgram "$T/dg.sock"
	printf 'from socat\n' | run_with_timeout 5 socat -u - \
	    UNIX-SENDTO:"$T/dg.sock"
	wait_for_match "$S_OUT" '^from socat$'
	stop_pid "$S_PID"
	[ ! -e "$T/dg.sock" ]
}

@test "socat TCP-LISTEN:port,fork TCP:host:port2: cstream serve port --to host:port2" {
	echo_peer
	start_server F "$CSTREAM" serve 127.0.0.1 0 --to "127.0.0.1:$PY_PORT"
	for msg in a bb; do
		run run_with_timeout 5 socat - TCP:127.0.0.1:"$F_PORT" <<<"$msg"
		[ "$status" -eq 0 ]
		[ "$output" = "$msg" ]
	done
}

@test "socat TCP-LISTEN:port,fork UNIX-CONNECT:path: cstream serve port --to-unix path" {
	bg P socat UNIX-LISTEN:"$T/sock",fork EXEC:"rev"
	wait_for unix_listening "$T/sock"
	start_server F "$CSTREAM" serve 127.0.0.1 0 --to-unix "$T/sock"
	run run_with_timeout 5 socat - TCP:127.0.0.1:"$F_PORT" <<<"olleh"
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
}

@test "socat UNIX-LISTEN:path,fork TCP:host:port: cstream unix-serve path --to host:port" {
	echo_peer
	start_server F "$CSTREAM" unix-serve "$T/f.sock" --to "127.0.0.1:$PY_PORT"
	run run_with_timeout 5 socat - UNIX-CONNECT:"$T/f.sock" <<<"over unix"
	[ "$status" -eq 0 ]
	[ "$output" = "over unix" ]
}

@test "rinetd: 0.0.0.0 port host port2: cstream serve port --to host:port2" {
	echo_peer
	start_server F "$CSTREAM" serve 127.0.0.1 0 --to "127.0.0.1:$PY_PORT"
	run run_with_timeout 5 nc -N 127.0.0.1 "$F_PORT" <<<"like rinetd"
	[ "$status" -eq 0 ]
	[ "$output" = "like rinetd" ]
}

@test "stunnel: accept=port connect=host:port2: cstream serve --tls --cert crt --key key port --to host:port2" {
	tls_make_ca "$T/pki"
	tls_make_cert "$T/pki" ca good "DNS:localhost,IP:127.0.0.1"
	echo_peer
	start_server F "$CSTREAM" serve --tls --cert "$T/pki/good.crt" \
	    --key "$T/pki/good.key" 127.0.0.1 0 --to "127.0.0.1:$PY_PORT"
	run run_with_timeout 5 socat - \
	    OPENSSL:127.0.0.1:"$F_PORT",cafile="$T/pki/ca.crt" <<<"in clear behind"
	[ "$status" -eq 0 ]
	[ "$output" = "in clear behind" ]
}

@test "stunnel: client=yes accept=port connect=host:port2: cstream serve port --to host:port2 --to-tls" {
	tls_make_ca "$T/pki"
	tls_make_cert "$T/pki" ca good "DNS:localhost,IP:127.0.0.1"
	port=$(free_port)
	bg P socat OPENSSL-LISTEN:"$port",bind=127.0.0.1,fork,reuseaddr,cert="$T/pki/good.crt",key="$T/pki/good.key",verify=0 EXEC:rev
	wait_for -t 10 tcp_listening "$port"
	start_server F "$CSTREAM" serve 127.0.0.1 0 --to "localhost:$port" \
	    --to-tls --to-cafile "$T/pki/ca.crt"
	run run_with_timeout 5 nc -N 127.0.0.1 "$F_PORT" <<<"slt"
	[ "$status" -eq 0 ]
	[ "$output" = "tls" ]
}

@test "haproxy: mode tcp, server ... send-proxy: cstream serve port --to host:port2 --send-proxy" {
	start_server B "$CSTREAM" serve 127.0.0.1 0 --accept-proxy \
	    --sh-exec 'echo "$CSTREAM_PEER_ADDR"'
	start_server F "$CSTREAM" serve 127.0.0.1 0 --to "127.0.0.1:$B_PORT" \
	    --send-proxy
	run run_with_timeout 5 nc -s 127.0.0.5 -N 127.0.0.1 "$F_PORT" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.5" ]
}

@test "haproxy: balance roundrobin: cstream serve port --to h1:p --to h2:p --balance rr" {
	start_server A "$CSTREAM" serve 127.0.0.1 0 --sh-exec 'echo one'
	start_server B "$CSTREAM" serve 127.0.0.1 0 --sh-exec 'echo two'
	start_server F "$CSTREAM" serve 127.0.0.1 0 --to "127.0.0.1:$A_PORT" \
	    --to "127.0.0.1:$B_PORT" --balance rr
	run run_with_timeout 5 nc -N 127.0.0.1 "$F_PORT" </dev/null
	[ "$output" = one ]
	run run_with_timeout 5 nc -N 127.0.0.1 "$F_PORT" </dev/null
	[ "$output" = two ]
}

@test "curl -I url: cstream http-head url" {
	py_server "$PEERS/head_server.py"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" http-head \
	    "http://127.0.0.1:$PY_PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = "HTTP/1.1 200 OK
Server: head_server
Date: Thu, 01 Jan 2026 00:00:00 GMT
Content-Type: text/plain
Content-Length: 5" ]
	# curl -I shows the same lines (with CRLF and a blank line).
	run run_with_timeout 5 curl -sI "http://127.0.0.1:$PY_PORT/"
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | tr -d '\r' | sed '/^$/d')" = \
	    "$(run_with_timeout 5 "$CSTREAM" http-head "127.0.0.1:$PY_PORT/")" ]
}

@test "pv file | nc host port: cstream connect --progress host port < file" {
	py_server "$PEERS/trickle_server.py" 0 0
	head -c 5000 /dev/urandom >"$T/file"
	run run_with_timeout 10 python3 "$PEERS/pty_stderr.py" "$T/tty" \
	    "$CSTREAM" connect --progress 127.0.0.1 "$PY_PORT" <"$T/file"
	[ "$status" -eq 0 ]
	[ "$output" = "got 5000" ]
	mapfile -t tty <"$T/tty"
	[[ ${tty[-2]} =~ \>\ 4\.88\ KiB\ [0-9:]+\ \[[0-9.]+\ [KMG]?i?B/s\]\ \[====================\]\ 100%\<EOL\>$ ]]
	[[ ${tty[-1]} =~ ^\<\ 9\ B\ [0-9:]+\ \[[0-9.]+\ [KMG]?i?B/s\]\<EOL\>$ ]]
}

@test "curl -w '%{time_connect} %{time_starttransfer}' -sI url: cstream http-head --json url" {
	py_server "$PEERS/head_server.py"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" http-head --json \
	    "http://127.0.0.1:$PY_PORT/"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | python3 -c '
import json, sys
o = json.loads(sys.stdin.readline())
assert o["status"] == 200, o
v = [o[k] for k in ("dns_ms", "connect_ms", "first_byte_ms", "total_ms")]
assert v == sorted(v), o'
}

@test "wait-for-it host:port -t 30: cstream connect -z --wait 30 host port" {
	p=$(free_port)
	bg L bash -c 'sleep 1; exec "$@"' _ "$CSTREAM" serve --discard \
	    127.0.0.1 "$p"
	run --separate-stderr run_with_timeout 35 "$CSTREAM" connect -z \
	    --wait 30 127.0.0.1 "$p"
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $p open" ]
}

@test "dockerize -wait tcp://host:port -timeout 30s: cstream connect -z --wait 30 host port" {
	start_server S "$CSTREAM" serve --discard 127.0.0.1 0
	run --separate-stderr run_with_timeout 35 "$CSTREAM" connect -z \
	    --wait 30 127.0.0.1 "$S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $S_PORT open" ]
	[ -z "$stderr" ]
}

@test "dockerize -wait http://host/health -timeout 30s: cstream http-head --wait 30 http://host/health" {
	py_server "$PEERS/ready_server.py" 1
	run --separate-stderr run_with_timeout 35 "$CSTREAM" http-head \
	    --wait 30 "http://127.0.0.1:$PY_PORT/health"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
}

@test "check_tcp -H host -p port -s 'PING\r\n' -e +PONG: cstream connect host port --send 'PING\r\n' --read-line --expect '\+PONG'" {
	require_cmd redis-server
	p=$(free_port)
	bg R redis-server --port "$p" --bind 127.0.0.1 --save '' \
	    --appendonly no --daemonize no --dir "$T"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --wait 5 \
	    127.0.0.1 "$p" --send 'PING\r\n' --read-line --expect '\+PONG'
	[ "$status" -eq 0 ]
	[ "$output" = $'+PONG\r' ]
}
