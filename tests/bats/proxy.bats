#!/usr/bin/env bats
#
# connect and http-head through proxies: real tinyproxy (CONNECT and
# absolute-form, with and without BasicAuth) and microsocks (SOCKS5, with
# and without user/password) in front of nginx, http and https; curl's
# environment rules; and a scripted proxy that lies.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/nginx"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/proxies"

LIAR=$BATS_TEST_DIRNAME/../peers/lying_proxy.py

NGINX_SERVERS='
	server {
		listen 127.0.0.1:@HTTP@;
		location = / { return 200; }
		location = /echo {
			add_header X-Request "$request" always;
			add_header X-Host "$http_host" always;
			add_header X-Proxy-Auth "$http_proxy_authorization" always;
			return 204;
		}
		location = /r-self { return 302 http://web.test:@HTTP@/echo; }
	}
	server {
		listen 127.0.0.1:@HTTPS@ ssl;
		ssl_certificate @PKI@/good.crt;
		ssl_certificate_key @PKI@/good.key;
		location = / { return 200; }
	}
	server {
		listen 127.0.0.1:@SITE@ ssl;
		ssl_certificate @PKI@/site.crt;
		ssl_certificate_key @PKI@/site.key;
		location = / { return 200; }
	}
'

# start_tinyproxy NAME [CONFIG LINES] (proxies.bash), the nginx ports only.
start_nginx_tinyproxy() {
	start_tinyproxy "$1" "ViaProxyName \"tp\"
ConnectPort $NGINX_PORT_HTTP
ConnectPort $NGINX_PORT_HTTPS
ConnectPort $NGINX_PORT_SITE
${2:-}"
}

setup_file() {
	export W=$BATS_FILE_TMPDIR
	export PKI=$W/pki
	tls_make_test_pki "$PKI"
	tls_make_cert "$PKI" ca site "DNS:site.test"
	nginx_start "$W/nginx" HTTP HTTPS SITE -- "${NGINX_SERVERS//@PKI@/$PKI}"
	start_nginx_tinyproxy TP
	start_nginx_tinyproxy TPA "BasicAuth alice s3cret"
	start_microsocks MS
	start_microsocks MSA -u bob -P 'p@ss:w'
	export HP=$NGINX_PORT_HTTP SP=$NGINX_PORT_HTTPS SITEP=$NGINX_PORT_SITE
}

teardown_file() {
	local pid

	if [ -f "$W/pids" ]; then
		while read -r pid; do
			kill -TERM "$pid" 2>/dev/null || true
		done <"$W/pids"
	fi
	nginx_stop
}

setup() {
	common_setup
	# Nothing from the caller's environment: each test sets its own.
	unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy \
	    ALL_PROXY no_proxy NO_PROXY
}

HEAD10='HEAD / HTTP/1.0\r\n\r\n'

# --- HTTP proxy: CONNECT ------------------------------------------------------

@test "connect through tinyproxy: CONNECT tunnel, -v logs the hop" {
	cs -v connect --proxy "http://127.0.0.1:$TP" 127.0.0.1 "$HP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
	[[ $stderr == *"cstream: proxy proxy=127.0.0.1:$TP scheme=http target=127.0.0.1 port=$HP"* ]]
	[[ $stderr == *"cstream: tunnel proxy=127.0.0.1:$TP target=127.0.0.1 port=$HP"* ]]
	[[ $stderr == *"cstream: connected peer=127.0.0.1:$TP "* ]]
}

@test "connect --tls through tinyproxy: TLS end to end, verified against HOST" {
	cs connect --tls --cafile "$PKI/ca.crt" --proxy "http://127.0.0.1:$TP" \
	    localhost "$SP" --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
	# Verified inside the tunnel: site.crt names site.test only.
	cs connect --tls --cafile "$PKI/ca.crt" --proxy "http://127.0.0.1:$TP" \
	    127.0.0.1 "$SITEP" --send "$HEAD10" --read-line
	echo "$stderr"
	[ "$status" -eq 7 ]
	[[ ${stderr_lines[0]} == "cstream: connect: "*"127.0.0.1"* ]]
}

@test "connect through tinyproxy with BasicAuth: 407 without, tunnel with" {
	cs connect --proxy "http://127.0.0.1:$TPA" 127.0.0.1 "$HP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$TPA: 407 Proxy Authentication Required" ]
	# tinyproxy answers wrong credentials with a 401.
	cs connect --proxy "http://alice:wrong@127.0.0.1:$TPA" 127.0.0.1 "$HP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$TPA: 401 Unauthorized" ]
	cs connect --proxy "http://al%69ce:s3cr%65t@127.0.0.1:$TPA" 127.0.0.1 \
	    "$HP" --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
}

@test "connect relays stdin through tinyproxy" {
	printf 'HEAD / HTTP/1.0\r\n\r\n' >"$T/req"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect \
	    --no-shutdown --proxy "http://127.0.0.1:$TP" 127.0.0.1 "$HP" \
	    <"$T/req"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = $'HTTP/1.1 200 OK\r' ]
	[ "${lines[-1]}" = $'\r' ]
}

@test "--resolve applies to the proxy's name and port" {
	cs connect --proxy "http://proxy.test:$TP" \
	    --resolve "proxy.test:$TP:127.0.0.1" 127.0.0.1 "$HP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
}

@test "a proxy URL without a port uses 1080, as curl" {
	cs connect --proxy "http://127.0.0.1" --connect-timeout 2 \
	    127.0.0.1 "$HP"
	[[ ${stderr_lines[0]} == "cstream: connect: proxy 127.0.0.1:1080: connect to 127.0.0.1:1080: "* ]]
	cs connect --proxy "socks5h://[::1]" --connect-timeout 2 \
	    127.0.0.1 "$HP"
	[[ ${stderr_lines[0]} == "cstream: connect: proxy [::1]:1080: connect to [::1]:1080: "* ]]
}

@test "a bad proxy URL is a usage error (exit 2)" {
	cs connect --proxy "ftp://127.0.0.1:21" 127.0.0.1 "$HP"
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --proxy ftp://127.0.0.1:21: unsupported scheme (http://, socks5://, socks5h://)" ]
	cs connect --proxy "http://127.0.0.1:99999" 127.0.0.1 "$HP"
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --proxy http://127.0.0.1:99999: bad port" ]
	cs connect --proxy "http://u:%zz@127.0.0.1:1" 127.0.0.1 "$HP"
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --proxy http://u:***@127.0.0.1:1: bad percent-encoding in the user information" ]
}

@test "--noproxy bypasses --proxy for the hosts listed" {
	cs connect --proxy "http://127.0.0.1:1" --noproxy "example.test,127.0.0.1" \
	    127.0.0.1 "$HP" --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
}

# --- SOCKS5: microsocks ---------------------------------------------------------

@test "connect through microsocks: socks5 resolves here, socks5h there" {
	cs -v connect --proxy "socks5://127.0.0.1:$MS" localhost "$HP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
	[[ $stderr == *"cstream: proxy proxy=127.0.0.1:$MS scheme=socks5 target=localhost port=$HP"* ]]
	[[ $stderr == *"cstream: tunnel proxy=127.0.0.1:$MS target=localhost port=$HP"* ]]
	cs -v connect --proxy "socks5h://127.0.0.1:$MS" localhost "$HP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
	[[ $stderr == *"scheme=socks5h"* ]]
}

@test "socks5:// uses --resolve for the target; socks5h:// leaves it to the proxy" {
	cs connect --proxy "socks5://127.0.0.1:$MS" \
	    --resolve "web.test:$HP:127.0.0.1" web.test "$HP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
	cs connect --proxy "socks5h://127.0.0.1:$MS" --connect-timeout 5 \
	    --resolve "web.invalid:$HP:127.0.0.1" web.invalid "$HP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 1 ]
	[[ ${stderr_lines[0]} == "cstream: connect: proxy 127.0.0.1:$MS: "* ]]
}

@test "connect --tls through microsocks: TLS end to end" {
	cs connect --tls --cafile "$PKI/ca.crt" \
	    --proxy "socks5h://127.0.0.1:$MS" localhost "$SP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
	cs connect --tls --cafile "$PKI/ca.crt" \
	    --proxy "socks5://127.0.0.1:$MS" \
	    --resolve "site.test:$SITEP:127.0.0.1" site.test "$SITEP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
}

@test "microsocks with a user and password (RFC 1929)" {
	cs connect --proxy "socks5://bob:p%40ss%3Aw@127.0.0.1:$MSA" \
	    127.0.0.1 "$HP" --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
	cs connect --proxy "socks5://bob:nope@127.0.0.1:$MSA" \
	    127.0.0.1 "$HP" --send "$HEAD10" --read-line
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$MSA: authentication failed" ]
	cs connect --proxy "socks5://127.0.0.1:$MSA" \
	    127.0.0.1 "$HP" --send "$HEAD10" --read-line
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$MSA: authentication required (user:password@ in the URL)" ]
}

@test "microsocks: a refused target is the SOCKS5 reply's meaning, exit 1" {
	local p
	p=$(free_port)
	cs connect --proxy "socks5://127.0.0.1:$MS" 127.0.0.1 "$p"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$MS: connection refused by destination host" ]
}

@test "connect relays stdin through microsocks" {
	printf 'HEAD / HTTP/1.0\r\n\r\n' >"$T/req"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect \
	    --no-shutdown --proxy "socks5h://127.0.0.1:$MS" localhost "$HP" \
	    <"$T/req"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = $'HTTP/1.1 200 OK\r' ]
}

# --- http-head -----------------------------------------------------------------

@test "http-head through tinyproxy: absolute-form for http://" {
	cs http-head --proxy "http://127.0.0.1:$TP" "http://127.0.0.1:$HP/echo"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 204 No Content" ]
	[[ $output == *$'\nVia: 1.1 tp (tinyproxy/'* ]]
	[[ $output == *$'\nX-Host: 127.0.0.1:'"$HP"* ]]
	grep -q "Request (file descriptor [0-9]*): HEAD http://127.0.0.1:$HP/echo HTTP/1.1" "$W/TP.log"
}

@test "http-head through tinyproxy with BasicAuth: Proxy-Authorization sent" {
	cs http-head --proxy "http://alice:s3cret@127.0.0.1:$TPA" \
	    "http://127.0.0.1:$HP/echo"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 204 No Content" ]
	cs http-head --proxy "http://127.0.0.1:$TPA" "http://127.0.0.1:$HP/echo"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "HTTP/1.0 407 Proxy Authentication Required" ]]
}

@test "http-head https:// through tinyproxy and microsocks: CONNECT, TLS inside" {
	cs -v http-head --cafile "$PKI/ca.crt" --proxy "http://127.0.0.1:$TP" \
	    "https://localhost:$SP/"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
	[[ $stderr == *"cstream: tunnel proxy=127.0.0.1:$TP target=localhost port=$SP"* ]]
	cs http-head --cafile "$PKI/ca.crt" --proxy "socks5h://127.0.0.1:$MS" \
	    "https://localhost:$SP/"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
	cs http-head --cafile "$PKI/ca.crt" --proxy "http://127.0.0.1:$TPA" \
	    "https://localhost:$SP/"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: http-head: proxy 127.0.0.1:$TPA: 407 Proxy Authentication Required" ]
}

@test "connect --tls --resolve: TLS verifies and sends SNI for HOST" {
	cs connect --tls --cafile "$PKI/ca.crt" \
	    --resolve "site.test:$SITEP:127.0.0.1" site.test "$SITEP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\r' ]
	# The same address by its number: site.crt does not name it.
	cs connect --tls --cafile "$PKI/ca.crt" 127.0.0.1 "$SITEP" \
	    --send "$HEAD10" --read-line
	[ "$status" -eq 7 ]
}

@test "http-head --resolve: TLS verifies and sends SNI for HOST" {
	cs http-head --cafile "$PKI/ca.crt" \
	    --resolve "site.test:$SITEP:127.0.0.1" "https://site.test:$SITEP/"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
	cs http-head --cafile "$PKI/ca.crt" --proxy "socks5://127.0.0.1:$MS" \
	    --resolve "site.test:$SITEP:127.0.0.1" "https://site.test:$SITEP/"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
}

@test "http-head --resolve holds after a redirect to the same host and port" {
	cs http-head -L --resolve "web.test:$HP:127.0.0.1" \
	    "http://web.test:$HP/r-self"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 302 Moved Temporarily" ]
	[[ $output == *$'\nHTTP/1.1 204 No Content\n'* ]]
	[[ $output == *$'\nX-Host: web.test:'"$HP"* ]]
}

@test "http-head honours http_proxy, lower case only" {
	http_proxy=http://127.0.0.1:$TP cs http-head "http://127.0.0.1:$HP/echo"
	[ "$status" -eq 0 ]
	[[ $output == *$'\nVia: 1.1 tp (tinyproxy/'* ]]
	HTTP_PROXY=http://127.0.0.1:1 cs http-head "http://127.0.0.1:$HP/echo"
	[ "$status" -eq 0 ]
	[[ $output != *"Via:"* ]]
}

@test "http-head honours https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY" {
	local v
	for v in https_proxy HTTPS_PROXY all_proxy ALL_PROXY; do
		env "$v=http://127.0.0.1:$TP" "$CSTREAM" -v http-head \
		    --cafile "$PKI/ca.crt" "https://localhost:$SP/" \
		    >"$T/out" 2>"$T/err"
		grep -q "cstream: tunnel proxy=127.0.0.1:$TP" "$T/err"
		[ "$(head -1 "$T/out")" = "HTTP/1.1 200 OK" ]
	done
	ALL_PROXY=http://127.0.0.1:$TP cs http-head "http://127.0.0.1:$HP/echo"
	[[ $output == *$'\nVia: 1.1 tp (tinyproxy/'* ]]
}

@test "http-head: no_proxy and NO_PROXY: names, domain suffixes, *" {
	export http_proxy=http://127.0.0.1:1
	no_proxy=127.0.0.1 cs http-head "http://127.0.0.1:$HP/echo"
	[ "$status" -eq 0 ]
	NO_PROXY=example.test,127.0.0.1 cs http-head "http://127.0.0.1:$HP/echo"
	[ "$status" -eq 0 ]
	no_proxy='*' cs http-head "http://127.0.0.1:$HP/echo"
	[ "$status" -eq 0 ]
	no_proxy=.web.test cs http-head --resolve "a.web.test:$HP:127.0.0.1" \
	    "http://a.web.test:$HP/echo"
	[ "$status" -eq 0 ]
	no_proxy=web.test cs http-head --resolve "a.web.test:$HP:127.0.0.1" \
	    "http://a.web.test:$HP/echo"
	[ "$status" -eq 0 ]
	# A suffix matches at a dot only.
	no_proxy=eb.test cs http-head --resolve "a.web.test:$HP:127.0.0.1" \
	    "http://a.web.test:$HP/echo"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: http-head: connect to 127.0.0.1:1: Connection refused" ]
}

@test "http-head: --noproxy and --proxy '' override the environment" {
	export http_proxy=http://127.0.0.1:1 no_proxy=example.test
	cs http-head --noproxy 127.0.0.1 "http://127.0.0.1:$HP/echo"
	[ "$status" -eq 0 ]
	cs http-head --proxy '' "http://127.0.0.1:$HP/echo"
	[ "$status" -eq 0 ]
	[[ $output != *"Via:"* ]]
	cs http-head --proxy "http://127.0.0.1:$TP" "http://127.0.0.1:$HP/echo"
	[ "$status" -eq 0 ]
	[[ $output == *"Via: 1.1 tp"* ]]
}

# --- proxies that lie -------------------------------------------------------------

@test "an HTTP proxy that does not speak HTTP: exit 8 with the reason" {
	py_server_as L "$LIAR" http-garbage
	cs connect --proxy "http://127.0.0.1:$L_PORT" 127.0.0.1 "$HP"
	[ "$status" -eq 8 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$L_PORT: not an HTTP reply to CONNECT: 'SSH-2.0-liar'" ]
	cs http-head --proxy "http://127.0.0.1:$L_PORT" "https://localhost:$SP/"
	[ "$status" -eq 8 ]
	[ "$stderr" = "cstream: http-head: proxy 127.0.0.1:$L_PORT: not an HTTP reply to CONNECT: 'SSH-2.0-liar'" ]
}

@test "an HTTP proxy that closes without a reply: exit 8" {
	py_server_as L "$LIAR" http-silent
	cs connect --proxy "http://127.0.0.1:$L_PORT" 127.0.0.1 "$HP"
	[ "$status" -eq 8 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$L_PORT: closed the connection without a reply" ]
}

@test "an HTTP proxy's refusal is told as it said it: exit 1" {
	py_server_as L "$LIAR" http-status "HTTP/1.1 502 Bad Gateway"
	cs connect --proxy "http://127.0.0.1:$L_PORT" 127.0.0.1 "$HP"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$L_PORT: 502 Bad Gateway" ]
}

@test "a proxy that never answers: the connect timeout bounds the handshake" {
	py_server_as L "$LIAR" http-hang
	cs --connect-timeout 0.5 connect --proxy "http://127.0.0.1:$L_PORT" \
	    127.0.0.1 "$HP"
	[ "$status" -eq 4 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$L_PORT: timed out opening the tunnel to 127.0.0.1:$HP" ]
}

@test "a SOCKS5 proxy that cuts its reply short: exit 1 with the reason" {
	py_server_as L "$LIAR" socks-truncate
	cs connect --proxy "socks5://127.0.0.1:$L_PORT" 127.0.0.1 "$HP"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$L_PORT: truncated SOCKS5 reply" ]
}

@test "a SOCKS proxy of the wrong version: exit 1" {
	py_server_as L "$LIAR" socks-version
	cs connect --proxy "socks5h://127.0.0.1:$L_PORT" 127.0.0.1 "$HP"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$L_PORT: not a SOCKS5 server (bad version in its reply)" ]
}

@test "SOCKS5 reply codes are told by their meaning" {
	py_server_as L "$LIAR" socks-reply 2
	cs connect --proxy "socks5h://127.0.0.1:$L_PORT" 127.0.0.1 "$HP"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: proxy 127.0.0.1:$L_PORT: connection not allowed by ruleset" ]
}
