#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
#
# TLS the way operators use it: client certificates, ALPN, SNI
# and version bounds, certificate inspection (--show-cert) and expiry
# checks (--expire-warn), against real peers: openssl s_server (-Verify,
# -alpn, -servername), openssl s_client, nginx (ssl_verify_client on,
# ALPN) and cstream serve --tls. Certificates are made here with openssl;
# the expiry thresholds are checked against openssl x509 -checkend on the
# same files.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/nginx"

NGINX_SERVERS='
	server {
		listen 127.0.0.1:@MTLS@ ssl;
		ssl_certificate @PKI@/good.crt;
		ssl_certificate_key @PKI@/good.key;
		ssl_client_certificate @PKI@/ca.crt;
		ssl_verify_client on;
		location = / {
			add_header X-Client "$ssl_client_s_dn" always;
			return 204;
		}
	}
	server {
		listen 127.0.0.1:@SOON@ ssl;
		ssl_certificate @PKI@/soon.crt;
		ssl_certificate_key @PKI@/soon.key;
		location = / { return 204; }
	}
'

setup_file() {
	local servers in5d in5h

	export W=$BATS_FILE_TMPDIR
	export PKI=$W/pki
	command -v openssl >/dev/null || return 0
	in5d=$(date -u -d '+5 days' +%Y%m%d%H%M%SZ)
	in5h=$(date -u -d '+5 hours' +%Y%m%d%H%M%SZ)
	tls_make_test_pki "$PKI" &&
	tls_make_client_cert "$PKI" ca client &&
	tls_make_client_cert "$PKI" otherca stranger &&
	tls_make_cert "$PKI" ca soon "DNS:localhost,IP:127.0.0.1" \
	    "$(date -u -d yesterday +%Y%m%d%H%M%SZ)" "$in5d" &&
	tls_make_cert "$PKI" ca hours "DNS:localhost,IP:127.0.0.1" \
	    "$(date -u -d yesterday +%Y%m%d%H%M%SZ)" "$in5h" &&
	tls_make_intermediate "$PKI" ca inter &&
	tls_make_cert "$PKI" inter leaf "DNS:localhost,IP:127.0.0.1" &&
	tls_make_intermediate "$PKI" ca oldinter \
	    "$(date -u -d yesterday +%Y%m%d%H%M%SZ)" "$in5d" &&
	tls_make_cert "$PKI" oldinter youngleaf "DNS:localhost,IP:127.0.0.1" ||
	    return 1
	cat "$PKI/client.crt" "$PKI/client.key" >"$PKI/client.pem"
	command -v "$NGINX" >/dev/null 2>&1 || return 0
	servers=${NGINX_SERVERS//@PKI@/$PKI}
	nginx_start "$W/nginx" MTLS SOON -- "$servers"
}

teardown_file() {
	[ -z "${NGINX_PID:-}" ] || nginx_stop
}

need_openssl() {
	command -v openssl >/dev/null || skip "openssl is not installed"
}

need_nginx() {
	[ -n "${NGINX_PID:-}" ] || skip "nginx is not installed"
}

_accepting() {
	grep -q '^ACCEPT' "$1"
}

# s_server PREFIX ARGS...: openssl s_server -www ARGS on 127.0.0.1 port 0,
# as many clients as come. Sets PREFIX_PID, PREFIX_PORT, PREFIX_OUT.
s_server() {
	local prefix=$1 out line

	shift
	bg "$prefix" openssl s_server -accept 127.0.0.1:0 -www "$@"
	out=${prefix}_OUT
	wait_for _accepting "${!out}"
	line=$(grep '^ACCEPT' "${!out}")
	printf -v "${prefix}_PORT" '%s' "${line##*:}"
}

# c ARGS...: cstream, bounded, stdout and stderr apart.
c() {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" "$@"
}

fingerprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 |
	    sed 's/.*=//; s/://g' | tr A-F a-f
}

subject() {
	openssl x509 -in "$1" -noout -subject | sed 's/^subject=//'
}

json() {
	python3 -c 'import json, sys
o = json.loads(sys.stdin.read())
for k in sys.argv[1:]:
    o = o[int(k)] if isinstance(o, list) else o[k]
print(json.dumps(o) if not isinstance(o, str) else o)' "$@"
}

GET='GET / HTTP/1.0\r\n\r\n'

# --- client certificates ------------------------------------------------

@test "connect --cert --key: s_server -Verify takes the certificate; without one, exit 7 names it" {
	need_openssl
	s_server S -cert "$PKI/good.crt" -key "$PKI/good.key" \
	    -Verify 1 -verify_return_error -CAfile "$PKI/ca.crt"
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --cert "$PKI/client.crt" --key "$PKI/client.key" \
	    --send "$GET" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.0 200 ok\r' ]
	# The key in the --cert file, as curl's --cert takes it.
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --cert "$PKI/client.pem" --send "$GET" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.0 200 ok\r' ]
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --send "$GET" --read-line
	[ "$status" -eq 7 ]
	[[ $stderr == "cstream: connect: "*"127.0.0.1:$S_PORT: no client certificate (tlsv13 alert certificate required)" ]]
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --tls-max 1.2 --send "$GET" --read-line
	[ "$status" -eq 7 ]
	[ "$stderr" = "cstream: connect: tls handshake with localhost:$S_PORT: no client certificate (sslv3 alert handshake failure)" ]
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --cert "$PKI/stranger.crt" --key "$PKI/stranger.key" \
	    --send "$GET" --read-line
	[ "$status" -eq 7 ]
	[[ $stderr == *"127.0.0.1:$S_PORT: client certificate refused (tlsv1 alert unknown ca)" ]]
}

@test "connect --cert: a missing file exits 1, a key that does not match exits 1, --key alone exits 2" {
	need_openssl
	c connect localhost 1 --tls --cert "$PKI/nonexistent.crt"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: certificate $PKI/nonexistent.crt: No such file or directory" ]
	c connect localhost 1 --tls --cert "$PKI/client.crt" \
	    --key "$PKI/mismatch.key"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: key $PKI/mismatch.key does not match certificate $PKI/client.crt" ]
	c connect localhost 1 --tls --key "$PKI/client.key"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --key needs --cert" ]
	c connect localhost 1 --cert "$PKI/client.crt"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --cert needs --tls or --starttls" ]
}

@test "serve --client-ca: the verified client's subject and SHA-256 in --exec's environment and -v" {
	need_openssl
	start_server S "$CSTREAM" -v serve 127.0.0.1 0 --tls \
	    --cert "$PKI/good.crt" --key "$PKI/good.key" \
	    --client-ca "$PKI/ca.crt" --sh-exec \
	    'printf "%s|%s\n" "$CSTREAM_TLS_CLIENT_SUBJECT" "$CSTREAM_TLS_CLIENT_SHA256"'
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --cert "$PKI/client.crt" --key "$PKI/client.key" --read-line \
	    </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "$(subject "$PKI/client.crt")|$(fingerprint "$PKI/client.crt")" ]
	[[ $(fingerprint "$PKI/client.crt") =~ ^[0-9a-f]{64}$ ]]
	wait_for_match "$S_ERR" "^cstream: tls peer=127\.0\.0\.1:[0-9]+ version=TLSv1\.3 cipher=[A-Z0-9_]+ alpn= client_subject=$(subject "$PKI/client.crt") client_sha256=$(fingerprint "$PKI/client.crt")$"
	# openssl s_client presents one too.
	run --separate-stderr bash -c 'echo | timeout 10 openssl s_client \
	    -connect "127.0.0.1:$1" -CAfile "$2/ca.crt" -cert "$2/client.crt" \
	    -key "$2/client.key" -quiet 2>/dev/null' _ "$S_PORT" "$PKI"
	[ "$output" = "$(subject "$PKI/client.crt")|$(fingerprint "$PKI/client.crt")" ]
}

@test "serve --client-ca: no certificate, or one from another CA, is refused in the handshake with one line" {
	need_openssl
	start_server S "$CSTREAM" serve 127.0.0.1 0 --tls --echo \
	    --cert "$PKI/good.crt" --key "$PKI/good.key" \
	    --client-ca "$PKI/ca.crt"
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --send hi --read-line
	[ "$status" -eq 7 ]
	wait_for_match "$S_ERR" "^cstream: serve: 127\.0\.0\.1:[0-9]+: tls handshake: no client certificate \(peer did not return a certificate\)$"
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --cert "$PKI/stranger.crt" --key "$PKI/stranger.key" \
	    --send 'hi\n' --read-line
	[ "$status" -eq 7 ]
	wait_for_match "$S_ERR" "^cstream: serve: 127\.0\.0\.1:[0-9]+: tls handshake: client certificate verify failed: unable to get local issuer certificate$"
	[ "$(grep -c 'tls handshake' "$S_ERR")" -eq 2 ]
	# The server goes on serving.
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --cert "$PKI/client.crt" --key "$PKI/client.key" \
	    --send 'hi\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
}

@test "serve --client-cert optional: a client without one is served, no CSTREAM_TLS_CLIENT_* set" {
	need_openssl
	start_server S env CSTREAM_TLS_CLIENT_SUBJECT=inherited \
	    "$CSTREAM" serve 127.0.0.1 0 --tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key" --client-ca "$PKI/ca.crt" \
	    --client-cert optional \
	    --sh-exec 'echo "[${CSTREAM_TLS_CLIENT_SUBJECT-unset}]"'
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --read-line </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "[unset]" ]
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --cert "$PKI/client.crt" --key "$PKI/client.key" --read-line \
	    </dev/null
	[ "$output" = "[$(subject "$PKI/client.crt")]" ]
	# A bad one is still refused.
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --cert "$PKI/stranger.crt" --key "$PKI/stranger.key" \
	    --read-line </dev/null
	[ "$status" -eq 7 ]
}

@test "serve: --client-cert without --client-ca, a bad mode, --client-ca without --tls: exit 2" {
	c serve 127.0.0.1 0 --tls --cert "$PKI/good.crt" --key "$PKI/good.key" \
	    --client-cert optional
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: serve: --client-cert needs --client-ca" ]
	c serve 127.0.0.1 0 --tls --cert "$PKI/good.crt" --key "$PKI/good.key" \
	    --client-ca "$PKI/ca.crt" --client-cert sometimes
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: serve: --client-cert sometimes: must be optional or required" ]
	c serve 127.0.0.1 0 --client-ca "$PKI/ca.crt"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: serve: --client-ca needs --tls" ]
	c serve 127.0.0.1 0 --tls --cert "$PKI/good.crt" --key "$PKI/good.key" \
	    --client-ca "$PKI/nonexistent.crt"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: serve: client-ca $PKI/nonexistent.crt: No such file or directory" ]
}

@test "unix-serve --client-ca and unix-connect --cert: mutual TLS over a unix socket" {
	need_openssl
	start_server S "$CSTREAM" unix-serve "$T/s.sock" --tls \
	    --cert "$PKI/good.crt" --key "$PKI/good.key" \
	    --client-ca "$PKI/ca.crt" --sh-exec 'echo "$CSTREAM_TLS_CLIENT_SHA256"'
	c unix-connect "$T/s.sock" --tls --cafile "$PKI/ca.crt" \
	    --cert "$PKI/client.pem" --read-line </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "$(fingerprint "$PKI/client.crt")" ]
	c unix-connect "$T/s.sock" --tls --cafile "$PKI/ca.crt" --read-line \
	    </dev/null
	[ "$status" -eq 7 ]
	[[ $stderr == *": no client certificate (tlsv13 alert certificate required)" ]]
}

@test "nginx ssl_verify_client on: http-head --cert gets through, without it nginx answers 400" {
	need_nginx
	c http-head "https://localhost:$NGINX_PORT_MTLS/" --cafile "$PKI/ca.crt" \
	    --cert "$PKI/client.crt" --key "$PKI/client.key"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 204 No Content" ]
	[[ $output == *"X-Client: "*"CN=client"* ]]
	c http-head "https://localhost:$NGINX_PORT_MTLS/" --cafile "$PKI/ca.crt"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 400 Bad Request" ]
	c connect localhost "$NGINX_PORT_MTLS" --tls --cafile "$PKI/ca.crt" \
	    --cert "$PKI/client.crt" --key "$PKI/client.key" \
	    --send 'HEAD / HTTP/1.0\r\n\r\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 204 No Content\r' ]
}

# --- ALPN, SNI, versions ------------------------------------------------

@test "connect --alpn: s_server -alpn picks, the choice in -v and --json; no overlap is exit 7" {
	need_openssl
	s_server S -cert "$PKI/good.crt" -key "$PKI/good.key" -alpn h2,http/1.1
	c -v connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --alpn foo,http/1.1 --send "$GET" --read-line
	[ "$status" -eq 0 ]
	[[ $stderr == *$'\n'"cstream: tls version=TLSv1.3 cipher="*" alpn=http/1.1"$'\n'* ]]
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --alpn http/1.1,h2 --show-cert --json
	[ "$status" -eq 0 ]
	[ "$(json alpn <<<"$output")" = h2 ]
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --alpn foo --send "$GET" --read-line
	[ "$status" -eq 7 ]
	[ "$stderr" = "cstream: connect: tls handshake with localhost:$S_PORT: no ALPN protocol in common (tlsv1 alert no application protocol)" ]
	c connect localhost 1 --tls --alpn 'h2,,x'
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --alpn h2,,x: empty protocol name" ]
}

@test "serve --alpn: the first of the server's list the client offers (s_client); none in common fails" {
	need_openssl
	start_server S "$CSTREAM" -v serve 127.0.0.1 0 --tls --echo \
	    --cert "$PKI/good.crt" --key "$PKI/good.key" --alpn h2,http/1.1
	run bash -c 'echo | timeout 10 openssl s_client -connect "127.0.0.1:$1" \
	    -CAfile "$2/ca.crt" -alpn http/1.1,h2 2>&1' _ "$S_PORT" "$PKI"
	[[ $output == *"ALPN protocol: h2"* ]]
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --alpn http/1.1 --show-cert --json
	[ "$(json alpn <<<"$output")" = http/1.1 ]
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --alpn spdy/3 --send hi --read-line
	[ "$status" -eq 7 ]
	[[ $stderr == *": no ALPN protocol in common (tlsv1 alert no application protocol)" ]]
	wait_for_match "$S_ERR" "^cstream: serve: 127\.0\.0\.1:[0-9]+: tls handshake: no ALPN protocol in common \(no application protocol\)$"
	# A client offering no ALPN at all gets none, as RFC 7301 has it.
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --show-cert --json
	[ "$status" -eq 0 ]
	[ "$(json alpn <<<"$output")" = null ]
}

@test "nginx: http-head offers ALPN http/1.1, and refuses --alpn h2" {
	need_nginx
	c -v http-head "https://localhost:$NGINX_PORT_SOON/" --cafile "$PKI/ca.crt"
	[ "$status" -eq 0 ]
	[[ $stderr == *$'\n'"cstream: tls version=TLSv1."[23]" cipher="*" alpn=http/1.1"$'\n'* ]]
	c http-head "https://localhost:$NGINX_PORT_SOON/" --alpn h2
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: http-head: --alpn h2: http-head speaks http/1.1 only" ]
}

@test "connect --servername and --no-sni: what s_server sees, the certificate it picks, the name verified" {
	need_openssl
	s_server S -cert "$PKI/good.crt" -key "$PKI/good.key" \
	    -servername wrong.example -cert2 "$PKI/wronghost.crt" \
	    -key2 "$PKI/wronghost.key" -tlsextdebug
	c connect 127.0.0.1 "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --servername wrong.example --show-cert --json
	[ "$status" -eq 0 ]
	[ "$(json cn <<<"$output")" = wronghost ]
	[ "$(json verified <<<"$output")" = true ]
	# The name sent is the name verified: good has no wrong.example.
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --show-cert --json
	[ "$(json cn <<<"$output")" = good ]
	: >"$S_OUT"
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" --no-sni \
	    --show-cert --json
	[ "$status" -eq 0 ]
	[ "$(json cn <<<"$output")" = good ]
	[ "$(json verified <<<"$output")" = true ]
	! grep -q 'server name' "$S_OUT"
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --show-cert --json
	grep -q 'TLS client extension "server name"' "$S_OUT"
	c connect 127.0.0.1 "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --servername other.example --send hi
	[ "$status" -eq 7 ]
	[ "$stderr" = "cstream: connect: tls handshake with other.example:$S_PORT: certificate verify failed: hostname mismatch" ]
}

@test "--tls-min and --tls-max: the version agreed, and none in common is exit 7 saying so" {
	need_openssl
	s_server S -cert "$PKI/good.crt" -key "$PKI/good.key" -tls1_2
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" --show-cert --json
	[ "$(json version <<<"$output")" = TLSv1.2 ]
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" --tls-min 1.3 \
	    --send hi
	[ "$status" -eq 7 ]
	[[ $stderr == "cstream: connect: tls handshake with localhost:$S_PORT: no TLS version in common ("*")" ]]
	start_server T1 "$CSTREAM" serve 127.0.0.1 0 --tls --echo \
	    --cert "$PKI/good.crt" --key "$PKI/good.key" --tls-min 1.3
	c connect localhost "$T1_PORT" --tls --cafile "$PKI/ca.crt" \
	    --tls-max 1.2 --send hi
	[ "$status" -eq 7 ]
	[[ $stderr == "cstream: connect: tls handshake with localhost:$T1_PORT: no TLS version in common ("*")" ]]
	c connect localhost "$T1_PORT" --tls --cafile "$PKI/ca.crt" --show-cert --json
	[ "$(json version <<<"$output")" = TLSv1.3 ]
	c connect localhost 1 --tls --tls-min 1.1
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --tls-min 1.1: must be 1.2 or 1.3" ]
	c connect localhost 1 --tls --tls-min 1.3 --tls-max 1.2
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --tls-min 1.3 is above --tls-max 1.2" ]
}

# --- certificate inspection -----------------------------------------------

@test "connect --show-cert: the chain with an intermediate, as sent, and the agreement" {
	need_openssl
	cat "$PKI/leaf.crt" "$PKI/inter.crt" >"$T/chain.crt"
	s_server S -cert "$T/chain.crt" -key "$PKI/leaf.key" -cert_chain "$PKI/inter.crt"
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" --show-cert
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "${lines[0]}" = "certificate 0 (leaf)" ]
	[ "${lines[1]}" = "  subject:    $(subject "$PKI/leaf.crt")" ]
	[ "${lines[2]}" = "  issuer:     $(subject "$PKI/inter.crt")" ]
	[ "${lines[3]}" = "  san:        DNS:localhost, IP:127.0.0.1" ]
	[[ ${lines[5]} =~ ^"  not after:  "[0-9-]{10}T[0-9:]{8}Z" ("(29|30)" days left)"$ ]]
	[ "${lines[6]}" = "  key:        EC 256" ]
	[ "${lines[7]}" = "  sha256:     $(fingerprint "$PKI/leaf.crt")" ]
	[ "${lines[8]}" = "certificate 1" ]
	[ "${lines[9]}" = "  subject:    $(subject "$PKI/inter.crt")" ]
	[[ $output == *$'\nverified:     yes\nverification: ok\nversion:      TLSv1.3\ncipher:       '*$'\nalpn:         (none)' ]]
}

@test "connect --show-cert --json: one object, the keys of the contract, dates in ISO 8601 UTC" {
	need_openssl
	s_server S -cert "$PKI/good.crt" -key "$PKI/good.key"
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" --show-cert --json
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(json subject <<<"$output")" = "$(subject "$PKI/good.crt")" ]
	[ "$(json issuer <<<"$output")" = "$(subject "$PKI/ca.crt")" ]
	[ "$(json san <<<"$output")" = '["DNS:localhost", "IP:127.0.0.1", "IP:::1"]' ]
	[ "$(json not_after <<<"$output")" = "$(date -u -d "$(openssl x509 -in "$PKI/good.crt" -noout -enddate | sed 's/.*=//')" +%Y-%m-%dT%H:%M:%SZ)" ]
	[[ $(json not_before <<<"$output") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
	[[ $(json days_left <<<"$output") =~ ^(29|30)$ ]]
	[ "$(json sha256 <<<"$output")" = "$(fingerprint "$PKI/good.crt")" ]
	[ "$(json verified <<<"$output")" = true ]
	[ "$(json version <<<"$output")" = TLSv1.3 ]
	[[ $(json cipher <<<"$output") == TLS_* ]]
	[ "$(json alpn <<<"$output")" = null ]
	[ "$(json chain 0 sha256 <<<"$output")" = "$(fingerprint "$PKI/good.crt")" ]
}

@test "connect --show-cert -k: an untrusted or wrong-host certificate is shown, verified false" {
	need_openssl
	s_server S -cert "$PKI/untrusted.crt" -key "$PKI/untrusted.key"
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" --show-cert
	[ "$status" -eq 7 ]
	[ "$output" = "" ]
	c connect localhost "$S_PORT" --tls -k --show-cert --json
	[ "$status" -eq 0 ]
	[ "$(json verified <<<"$output")" = false ]
	[ "$(json verify_result <<<"$output")" = "unable to get local issuer certificate" ]
	[ "$(json cn <<<"$output")" = untrusted ]
	s_server W1 -cert "$PKI/wronghost.crt" -key "$PKI/wronghost.key"
	c connect localhost "$W1_PORT" --tls -k --cafile "$PKI/ca.crt" --show-cert
	[ "$status" -eq 0 ]
	[[ $output == *$'\nverified:     no\nverification: hostname mismatch\n'* ]]
}

@test "connect --show-cert=pem: the chain as s_client -showcerts prints it, readable by openssl" {
	need_openssl
	cat "$PKI/leaf.crt" "$PKI/inter.crt" >"$T/chain.crt"
	s_server S -cert "$T/chain.crt" -key "$PKI/leaf.key" -cert_chain "$PKI/inter.crt"
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" --show-cert=pem
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = " 0 s:$(subject "$PKI/leaf.crt")" ]
	[ "${lines[1]}" = "   i:$(subject "$PKI/inter.crt")" ]
	[ "${lines[2]}" = "-----BEGIN CERTIFICATE-----" ]
	[ "$(grep -c 'BEGIN CERTIFICATE' <<<"$output")" -eq 2 ]
	printf '%s\n' "$output" >"$T/got.pem"
	[ "$(fingerprint "$T/got.pem")" = "$(fingerprint "$PKI/leaf.crt")" ]
	openssl verify -CAfile "$PKI/ca.crt" -untrusted "$T/got.pem" "$T/got.pem"
	c connect localhost 1 --tls --show-cert=der
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --show-cert=der: only --show-cert=pem is known" ]
}

@test "--help: connect lists its TLS options under a heading of their own" {
	c help connect
	[ "$status" -eq 0 ]
	[[ $output == *$'\nTLS options:\n      --tls '* ]]
	tls=${output#*TLS options:}
	tls=${tls%%global options:*}
	for o in --cert --key --alpn --servername --no-sni --tls-min --tls-max \
	    --show-cert --expire-warn --starttls --cafile --insecure; do
		[[ $tls == *" $o"* ]]
	done
	c serve --help
	[[ $output == *$'\nTLS options:\n'*"--client-ca FILE"*"--client-cert optional|required"* ]]
}

# --- expiry -------------------------------------------------------------

@test "--expire-warn: exit 11 exactly when openssl x509 -checkend says it expires, check_http's words" {
	need_openssl
	s_server S -cert "$PKI/soon.crt" -key "$PKI/soon.key"
	local end
	end=$(date -u -d "$(openssl x509 -in "$PKI/soon.crt" -noout -enddate | sed 's/.*=//')" +%Y-%m-%dT%H:%M:%SZ)
	! openssl x509 -in "$PKI/soon.crt" -noout -checkend $((5 * 86400))
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" --expire-warn 5
	[ "$status" -eq 11 ]
	[ "$output" = "" ]
	[ "$stderr" = "cstream: connect: certificate 'soon' expires in 4 days ($end)" ]
	openssl x509 -in "$PKI/soon.crt" -noout -checkend $((4 * 86400))
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" --expire-warn 4
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	# With --show-cert the chain is printed first.
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" --expire-warn 30 \
	    --show-cert --json
	[ "$status" -eq 11 ]
	[ "$(json days_left <<<"$output")" = 4 ]
}

@test "--expire-warn: under a day in hours, an expired certificate (with -k), a chain certificate named" {
	need_openssl
	s_server H -cert "$PKI/hours.crt" -key "$PKI/hours.key"
	c connect localhost "$H_PORT" --tls --cafile "$PKI/ca.crt" --expire-warn 1
	[ "$status" -eq 11 ]
	[[ $stderr =~ ^"cstream: connect: certificate 'hours' expires in 4 hours ("[0-9-]+T[0-9:]+Z")"$ ]]
	s_server E -cert "$PKI/expired.crt" -key "$PKI/expired.key"
	c connect localhost "$E_PORT" --tls --cafile "$PKI/ca.crt" --expire-warn 30
	[ "$status" -eq 7 ]
	[[ $stderr == *"certificate verify failed: certificate has expired" ]]
	c connect localhost "$E_PORT" --tls -k --expire-warn 30
	[ "$status" -eq 11 ]
	[ "$stderr" = "cstream: connect: certificate 'expired' expired on 2020-02-01T00:00:00Z" ]
	! openssl x509 -in "$PKI/oldinter.crt" -noout -checkend $((30 * 86400))
	openssl x509 -in "$PKI/youngleaf.crt" -noout -checkend $((20 * 86400))
	cat "$PKI/youngleaf.crt" "$PKI/oldinter.crt" >"$T/chain.crt"
	s_server C1 -cert "$T/chain.crt" -key "$PKI/youngleaf.key" \
	    -cert_chain "$PKI/oldinter.crt"
	c connect localhost "$C1_PORT" --tls --cafile "$PKI/ca.crt" --expire-warn 30
	[ "$status" -eq 11 ]
	[[ $stderr =~ ^"cstream: connect: certificate 'oldinter' expires in 4 days ("[0-9-]+T[0-9:]+Z"), chain certificate 1"$ ]]
	c connect localhost "$C1_PORT" --tls --cafile "$PKI/ca.crt" --expire-warn 3
	[ "$status" -eq 0 ]
}

@test "--expire-warn with steps: checked first, then the steps run; a bad DAYS is exit 2" {
	need_openssl
	s_server S -cert "$PKI/good.crt" -key "$PKI/good.key"
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" --expire-warn 7 \
	    --send "$GET" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.0 200 ok\r' ]
	c connect localhost "$S_PORT" --tls --cafile "$PKI/ca.crt" \
	    --expire-warn 60 --send "$GET" --read-line
	[ "$status" -eq 11 ]
	[ "$output" = "" ]
	c connect localhost 1 --tls --expire-warn soon
	[ "$status" -eq 2 ]
	[[ ${stderr%%$'\n'*} == "cstream: connect: --expire-warn soon: "* ]]
	c connect localhost 1 --expire-warn 3
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --expire-warn needs --tls or --starttls" ]
}

@test "nginx: http-head --json carries the certificate summary; --expire-warn exits 11 after printing" {
	need_nginx
	c http-head "https://localhost:$NGINX_PORT_SOON/" --cafile "$PKI/ca.crt" --json
	[ "$status" -eq 0 ]
	[ "$(json status <<<"$output")" = 204 ]
	[ "$(json tls cn <<<"$output")" = soon ]
	[ "$(json tls days_left <<<"$output")" = 4 ]
	[ "$(json tls sha256 <<<"$output")" = "$(fingerprint "$PKI/soon.crt")" ]
	[ "$(json tls verified <<<"$output")" = true ]
	[ "$(json tls alpn <<<"$output")" = http/1.1 ]
	[ "$(json tls san <<<"$output")" = '["DNS:localhost", "IP:127.0.0.1"]' ]
	c http-head "https://localhost:$NGINX_PORT_SOON/" --cafile "$PKI/ca.crt" \
	    --expire-warn 5
	[ "$status" -eq 11 ]
	[ "${lines[0]}" = "HTTP/1.1 204 No Content" ]
	[[ $stderr =~ ^"cstream: http-head: certificate 'soon' expires in 4 days ("[0-9-]+T[0-9:]+Z")"$ ]]
	c http-head "https://localhost:$NGINX_PORT_SOON/" --cafile "$PKI/ca.crt" \
	    --expire-warn 4
	[ "$status" -eq 0 ]
}
