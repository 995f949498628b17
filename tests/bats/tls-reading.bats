#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The TLS transport's own reading (src/stream-tls.c): OpenSSL reads ahead
# many records per read(2) and cstream takes them all, so records can wait
# inside OpenSSL while the socket is not readable; a paused reader must
# still get them when it resumes. And OpenSSL's configuration: the system's
# (OPENSSL_CONF) applies, under cstream's floor of TLS 1.2 and level 2.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"

setup_file() {
	tls_file_pki
}

setup() {
	common_setup
	require_cmd openssl
}

@test "connect --tls into a slow pipe: 4 MiB paused and resumed arrive byte for byte" {
	require_cmd pv
	head -c 4194304 /dev/urandom >"$T/big"
	BG_STDIN=$T/big serve_tls S
	# pv drains stdout at 8 MiB/s: the relay pauses the TLS reader many
	# times with records already read ahead inside OpenSSL.
	run run_with_timeout 30 bash -c '"$1" connect --tls --no-shutdown \
	    --cafile "$2" 127.0.0.1 "$3" </dev/null | pv -q -L 8m >"$4"' \
	    _ "$CSTREAM" "$PKI/ca.crt" "$S_PORT" "$T/got"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	cmp "$T/big" "$T/got"
	wait_pid_exit "$S_PID" 10
}

@test "serve --tls --echo: 8 MiB echoed through a client that reads in bursts" {
	require_cmd python3
	serve_tls S --echo
	# The client sends everything, then reads the echo 1 KiB at a time
	# with pauses: the server's reader stops and restarts with records
	# pending in OpenSSL, and must lose none of them.
	run run_with_timeout 60 python3 - "$S_PORT" "$PKI/ca.crt" <<-'PY'
	import hashlib, os, socket, ssl, sys, threading, time
	port, ca = int(sys.argv[1]), sys.argv[2]
	ctx = ssl.create_default_context(cafile=ca)
	s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
	    server_hostname="localhost")
	data = os.urandom(8 << 20)
	def send():
	    s.sendall(data)
	t = threading.Thread(target=send)
	t.start()
	got = bytearray()
	n = 0
	while len(got) < len(data):
	    b = s.recv(1024)
	    if not b:
	        break
	    got += b
	    n += 1
	    if n % 1024 == 0:
	        time.sleep(0.01)
	t.join()
	print("same" if hashlib.sha256(got).digest() ==
	    hashlib.sha256(data).digest() else "differ %d" % len(got))
	PY
	[ "$status" -eq 0 ]
	[ "$output" = same ]
}

# policy FILE LINE...: an openssl.cnf whose system_default section holds
# the lines, as a distribution's crypto policy does.
policy() {
	local f=$1

	shift
	printf '%s\n' 'openssl_conf = init' '[init]' 'ssl_conf = ssl_sect' \
	    '[ssl_sect]' 'system_default = sys' '[sys]' "$@" >"$f"
}

# s_server_rev PORT ARGS...: openssl s_server answering one client, which
# gets each line reversed.
s_server_rev() {
	local port=$1

	shift
	bg O openssl s_server -accept "127.0.0.1:$port" "$@" \
	    -cert "$PKI/good.crt" -key "$PKI/good.key" -naccept 1 -rev
	wait_for tcp_listening "$port"
}

# refused_under_policy PORT: connect --tls to PORT with $T/openssl.cnf as
# the system's configuration fails its handshake: exit 7.
refused_under_policy() {
	OPENSSL_CONF=$T/openssl.cnf run --separate-stderr run_with_timeout 10 \
	    "$CSTREAM" connect --tls --cafile "$PKI/ca.crt" localhost "$1" \
	    --send 'olleh\n' --read-line
	[ "$status" -eq 7 ]
	[[ $stderr == "cstream: connect: tls handshake with localhost:$1: "* ]]
}

@test "OPENSSL_CONF is read: its system_default cipher suites apply" {
	# The client offers only ChaCha20; the server takes only AES-128-GCM.
	policy "$T/openssl.cnf" 'Ciphersuites = TLS_CHACHA20_POLY1305_SHA256'
	port=$(free_port)
	s_server_rev "$port" -ciphersuites TLS_AES_128_GCM_SHA256
	refused_under_policy "$port"
	# The same server and client without the policy agree.
	port=$(free_port)
	s_server_rev "$port" -ciphersuites TLS_AES_128_GCM_SHA256
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls \
	    --cafile "$PKI/ca.crt" localhost "$port" --send 'olleh\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	[ "$stderr" = "" ]
}

@test "a policy of TLS 1.3 only is kept: a TLS 1.2 server is refused, exit 7" {
	policy "$T/openssl.cnf" 'MinProtocol = TLSv1.3'
	port=$(free_port)
	s_server_rev "$port" -tls1_2
	refused_under_policy "$port"
}

@test "a policy that allows TLS 1.0 does not lower cstream's floor: TLS 1.1 refused, exit 7" {
	policy "$T/openssl.cnf" 'MinProtocol = TLSv1' \
	    'CipherString = DEFAULT:@SECLEVEL=0'
	port=$(free_port)
	s_server_rev "$port" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
	refused_under_policy "$port"
}

@test "TLS 1.1 is refused without openssl.cnf saying so: exit 7" {
	port=$(free_port)
	bg O openssl s_server -accept "127.0.0.1:$port" -tls1_1 \
	    -cipher 'DEFAULT:@SECLEVEL=0' \
	    -cert "$PKI/good.crt" -key "$PKI/good.key" -naccept 1 -rev
	wait_for tcp_listening "$port"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls \
	    --cafile "$PKI/ca.crt" localhost "$port" --send 'x\n' --read-line
	[ "$status" -eq 7 ]
	[[ $stderr == "cstream: connect: tls handshake with localhost:$port: "* ]]
}
