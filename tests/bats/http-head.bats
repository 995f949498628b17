#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# http-head against real servers on loopback: a private nginx (http and
# https, certificates from a test CA made in setup_file) and scripted
# python3 servers for what nginx would never send. TLS checks of
# connect --tls and serve --tls are here too, since they share tls.c and
# its test CA. Every exit status of http-head is exercised.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/nginx"

# The servers nginx runs. @NAME@ is the port picked for NAME.
NGINX_SERVERS='
	server {
		listen 127.0.0.1:@HTTP@;
		listen [::1]:@HTTP@;
		absolute_redirect off;
		location = / { return 200; }
		location = /missing { return 404; }
		location = /echo {
			add_header X-Request "$request" always;
			add_header X-Host "$http_host" always;
			add_header X-UA "$http_user_agent" always;
			add_header X-Conn "$http_connection" always;
			add_header X-Auth "$http_authorization" always;
			add_header X-Custom "$http_x_custom" always;
			return 204;
		}
		location = /r-rel { return 302 /echo?from=r-rel; }
		location = /r-abs { return 301 http://127.0.0.1:@HTTP@/echo; }
		location = /r-https { return 301 https://localhost:@HTTPS@/echo; }
		location = /r-other-host { return 302 http://localhost:@HTTP@/echo; }
		location = /r-loop { return 302 /r-loop; }
		location = /r-missing { return 307 /missing; }
		location = /r-ftp { return 302 ftp://127.0.0.1/; }
		location = /d/a/b { return 308 ../c; }
		location = /d/c { return 200; }
	}
	server {
		listen 127.0.0.1:@HTTPS@ ssl;
		listen [::1]:@HTTPS@ ssl;
		ssl_certificate @PKI@/good.crt;
		ssl_certificate_key @PKI@/good.key;
		absolute_redirect off;
		location = / { return 200; }
		location = /echo {
			add_header X-Request "$request" always;
			add_header X-Host "$http_host" always;
			return 204;
		}
		location = /r-http { return 301 http://127.0.0.1:@HTTP@/echo; }
	}
	server {
		listen 127.0.0.1:@DNSONLY@ ssl;
		ssl_certificate @PKI@/dnsonly.crt;
		ssl_certificate_key @PKI@/dnsonly.key;
		location = / { return 200; }
	}
	server {
		listen 127.0.0.1:@WRONGHOST@ ssl;
		ssl_certificate @PKI@/wronghost.crt;
		ssl_certificate_key @PKI@/wronghost.key;
		location = / { return 200; }
	}
	server {
		listen 127.0.0.1:@UNTRUSTED@ ssl;
		ssl_certificate @PKI@/untrusted.crt;
		ssl_certificate_key @PKI@/untrusted.key;
		location = / { return 200; }
	}
	server {
		listen 127.0.0.1:@EXPIRED@ ssl;
		ssl_certificate @PKI@/expired.crt;
		ssl_certificate_key @PKI@/expired.key;
		location = / { return 200; }
	}
'

# The asyncio documentation's "get HTTP headers" example, verbatim but
# for the port, which it hard-codes to 80 and 443.
write_asyncio_example() {
	cat >"$1" <<-'EOF'
	import asyncio
	import urllib.parse
	import sys

	async def print_http_headers(url):
	    url = urllib.parse.urlsplit(url)
	    if url.scheme == 'https':
	        reader, writer = await asyncio.open_connection(
	            url.hostname, url.port or 443, ssl=True)
	    else:
	        reader, writer = await asyncio.open_connection(
	            url.hostname, url.port or 80)

	    query = (
	        f"HEAD {url.path or '/'} HTTP/1.0\r\n"
	        f"Host: {url.hostname}\r\n"
	        f"\r\n"
	    )

	    writer.write(query.encode('latin-1'))
	    while True:
	        line = await reader.readline()
	        if not line:
	            break

	        line = line.decode('latin1').rstrip()
	        if line:
	            print(f'HTTP header> {line}')

	    # Ignore the body, close the socket
	    writer.close()
	    await writer.wait_closed()

	url = sys.argv[1]
	asyncio.run(print_http_headers(url))
	EOF
}

# A scripted server: sends canned bytes (--response FILE), in chunks,
# then holds the connection; with --tls it records the SNI it got and how
# the client closed (close_notify or not) in --record FILE.
write_fake_server() {
	cat >"$1" <<-'EOF'
	import argparse, select, socket, ssl, sys, threading, time

	p = argparse.ArgumentParser()
	p.add_argument("--response")
	p.add_argument("--chunk", type=int, default=0)
	p.add_argument("--delay", type=float, default=0.0)
	p.add_argument("--hold", type=float, default=0.0)
	p.add_argument("--no-read", action="store_true")
	p.add_argument("--tls", nargs=2)
	p.add_argument("--record")
	p.add_argument("--backlog-full", action="store_true")
	a = p.parse_args()
	lock = threading.Lock()

	def record(what):
	    if a.record:
	        with lock, open(a.record, "ab") as f:
	            f.write(what if isinstance(what, bytes) else what.encode())

	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", 0))
	if a.backlog_full:
	    # A full accept queue drops SYNs: a connect that hangs.
	    s.listen(0)
	    fillers = []
	    for _ in range(8):
	        c = socket.socket()
	        c.setblocking(False)
	        try:
	            c.connect(("127.0.0.1", s.getsockname()[1]))
	        except BlockingIOError:
	            pass
	        fillers.append(c)
	    # The queue (one slot for backlog 0) is full once a filler has
	    # connected: wait for that, at most 5 s, before giving the port.
	    deadline = time.monotonic() + 5
	    while time.monotonic() < deadline:
	        _, up, _ = select.select([], fillers, [], 0.05)
	        if any(c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
	               for c in up):
	            break
	    else:
	        sys.exit("backlog-full: no filler connected within 5 s")
	    print(s.getsockname()[1], flush=True)
	    # The subject: a server that never accepts (stopped by the test).
	    time.sleep(60)
	    sys.exit(0)
	s.listen(16)
	print(s.getsockname()[1], flush=True)

	ctx = None
	if a.tls:
	    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	    ctx.load_cert_chain(a.tls[0], a.tls[1])
	    def sni(sock, name, c):
	        record("sni=%s\n" % (name if name is not None else "none"))
	    ctx.sni_callback = sni

	def serve(c):
	    try:
	        c.settimeout(10)
	        if ctx:
	            c = ctx.wrap_socket(c, server_side=True,
	                                suppress_ragged_eofs=False)
	        if not a.no_read:
	            req = b""
	            while b"\r\n\r\n" not in req and len(req) < 65536:
	                d = c.recv(4096)
	                if not d:
	                    break
	                req += d
	            record(req)
	        data = open(a.response, "rb").read() if a.response else b""
	        if a.chunk:
	            for i in range(0, len(data), a.chunk):
	                c.sendall(data[i:i + a.chunk])
	                # The subject: a slow server, --delay s per chunk.
	                time.sleep(a.delay)
	        elif data:
	            c.sendall(data)
	        if a.hold:
	            # The subject: a server that keeps the connection open
	            # (what the client does meanwhile is under test).
	            time.sleep(a.hold)
	        if ctx:
	            try:
	                c.settimeout(5)
	                while c.recv(4096):
	                    pass
	                record("close=close_notify\n")
	            except ssl.SSLEOFError:
	                record("close=dirty\n")
	            except (ConnectionResetError, BrokenPipeError):
	                record("close=reset\n")
	            except socket.timeout:
	                record("close=timeout\n")
	    except Exception as e:
	        record("error=%s\n" % e)
	    finally:
	        c.close()

	while True:
	    c, _ = s.accept()
	    threading.Thread(target=serve, args=(c,), daemon=True).start()
	EOF
}

setup_file() {
	local servers

	export W=$BATS_FILE_TMPDIR
	export PKI=$W/pki
	export FAKE=$W/fake_http.py
	export ASYNCIO_EXAMPLE=$W/asyncio_example.py
	tls_make_test_pki "$PKI"
	write_fake_server "$FAKE"
	write_asyncio_example "$ASYNCIO_EXAMPLE"
	servers=${NGINX_SERVERS//@PKI@/$PKI}
	nginx_start "$W/nginx" HTTP HTTPS DNSONLY WRONGHOST UNTRUSTED EXPIRED \
	    -- "$servers"
	export HTTP=http://127.0.0.1:$NGINX_PORT_HTTP
	export HTTPS=https://localhost:$NGINX_PORT_HTTPS
	export VERSION=$("$CSTREAM" --version | sed -n '1s/^cstream //p')
}

teardown_file() {
	nginx_stop
}

# hh ARGS...: run http-head, bounded, with stdout and stderr apart.
hh() {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" http-head "$@"
}

# fake NAME RESPONSE-BYTES [fake_http.py options]: start a scripted server
# that answers RESPONSE-BYTES (printf format); sets NAME_PORT.
fake() {
	local name=$1

	printf "$2" >"$T/$name.response"
	shift 2
	py_server_as "$name" "$FAKE" --response "$T/$name.response" "$@"
}

# The one-line error on stderr: "cstream: http-head: ...".
stderr_says() {
	[ "${#stderr_lines[@]}" -ge 1 ] || return 1
	[[ ${stderr_lines[0]} == "cstream: http-head: "* ]] || {
		echo "stderr: $stderr" >&2
		return 1
	}
	[[ $stderr == *"$1"* ]] || {
		echo "stderr: $stderr" >&2
		echo "wanted: $1" >&2
		return 1
	}
}

# --- nginx, plain http --------------------------------------------------------

@test "http-head prints the status line and headers in order, as curl -sI" {
	require_cmd curl
	hh "$HTTP/"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
	[[ $output == *$'\nDate: '* ]]
	printf '%s\n' "$output" | sed '/^Date: /d' >"$T/ours"
	curl -sI -H 'Connection: close' "$HTTP/" | tr -d '\r' |
	    sed '/^Date: /d; /^$/d' >"$T/curl"
	diff -u "$T/curl" "$T/ours"
}

@test "http-head sends HEAD, Host, User-Agent and Connection: close" {
	hh "$HTTP/echo"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | sed '/^Date: /d' >"$T/out"
	cat >"$T/want" <<-EOF
	HTTP/1.1 204 No Content
	Server: nginx
	Connection: close
	X-Request: HEAD /echo HTTP/1.1
	X-Host: 127.0.0.1:$NGINX_PORT_HTTP
	X-UA: cstream/$VERSION
	X-Conn: close
	EOF
	diff -u "$T/want" "$T/out"
}

@test "http-head keeps the path and query as given, percent-encoding too" {
	hh "$HTTP/echo?a=%20b&c=%2F#fragment"
	[ "$status" -eq 0 ]
	[[ $output == *"X-Request: HEAD /echo?a=%20b&c=%2F HTTP/1.1"* ]]
}

@test "http-head: an empty path is /" {
	hh "http://127.0.0.1:$NGINX_PORT_HTTP"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
	hh "http://127.0.0.1:$NGINX_PORT_HTTP?x=1"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
}

@test "http-head to an IPv6 literal sends Host in brackets" {
	hh "http://[::1]:$NGINX_PORT_HTTP/echo"
	[ "$status" -eq 0 ]
	[[ $output == *"X-Host: [::1]:$NGINX_PORT_HTTP"* ]]
}

@test "http-head --http1.0 sends the asyncio documentation's request" {
	hh --http1.0 "$HTTP/echo"
	[ "$status" -eq 0 ]
	[[ $output == *"X-Request: HEAD /echo HTTP/1.0"* ]]
	[[ $output == *"X-Host: 127.0.0.1:$NGINX_PORT_HTTP"* ]]
	# No User-Agent and no Connection header: nginx drops empty ones.
	[[ $output != *"X-UA:"* ]]
	[[ $output != *"X-Conn:"* ]]
}

@test "http-head --prefix prints what the asyncio documentation's example prints" {
	run --separate-stderr run_with_timeout 10 python3 "$ASYNCIO_EXAMPLE" \
	    "http://localhost:$NGINX_PORT_HTTP/"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | sed '/^HTTP header> Date: /d' >"$T/asyncio"
	[ "$(wc -l <"$T/asyncio")" -ge 4 ]
	hh --http1.0 --prefix 'HTTP header> ' "http://localhost:$NGINX_PORT_HTTP/"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | sed '/^HTTP header> Date: /d' >"$T/ours"
	diff -u "$T/asyncio" "$T/ours"
}

@test "http-head -H adds headers, replaces Host, removes User-Agent" {
	hh -H 'X-Custom: one two' --header 'Host: example.test' \
	    -H 'User-Agent:' "$HTTP/echo"
	[ "$status" -eq 0 ]
	[[ $output == *"X-Custom: one two"* ]]
	[[ $output == *"X-Host: example.test"* ]]
	[[ $output != *"X-UA:"* ]]
}

@test "http-head --json prints one valid object with ordered headers" {
	hh --json "$HTTP/echo?q=1"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	printf '%s\n' "$output" | python3 -c '
import json, sys
o = json.loads(sys.stdin.readline())
keys = ["url", "version", "status", "reason", "headers"]
assert list(o)[:5] == keys, list(o)
# The timings follow, numbers in order (no TLS: no tls_ms).
t = ["dns_ms", "connect_ms", "first_byte_ms", "total_ms"]
assert list(o)[5:] == t, list(o)
assert all(isinstance(o[k], (int, float)) for k in t), o
assert [o[k] for k in t] == sorted(o[k] for k in t), o
assert o["url"].endswith("/echo?q=1"), o["url"]
assert o["version"] == "HTTP/1.1" and o["status"] == 204, o
assert o["reason"] == "No Content", o
names = [h[0] for h in o["headers"]]
assert names[:3] == ["Server", "Date", "Connection"], names
assert ["X-Request", "HEAD /echo?q=1 HTTP/1.1"] in o["headers"], o
'
}

@test "http-head --json works with jq" {
	require_cmd jq
	run --separate-stderr bash -c "'$CSTREAM' http-head --json '$HTTP/' |
	    jq -r '.status, (.headers[] | select(.[0] == \"Server\") | .[1])'"
	[ "$status" -eq 0 ]
	[ "$output" = $'200\nnginx' ]
}

@test "http-head --prefix and --json together are a usage error" {
	hh --json --prefix x "$HTTP/"
	[ "$status" -eq 2 ]
	stderr_says "--prefix and --json"
}

# --- redirects -----------------------------------------------------------------

@test "http-head without -L prints the redirect and exits 0" {
	hh "$HTTP/r-rel"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 302 Moved Temporarily" ]
	[[ $output == *"Location: /echo?from=r-rel"* ]]
	[[ $output != *"X-Request"* ]]
}

@test "http-head -L follows a relative Location, blocks apart" {
	hh -L "$HTTP/r-rel"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 302 Moved Temporarily" ]
	# The empty line between the blocks: bats drops empty lines from
	# ${lines[@]}, so look at the raw output.
	[[ $output == *$'\n\nHTTP/1.1 204 No Content\n'* ]]
	[[ $output == *"X-Request: HEAD /echo?from=r-rel HTTP/1.1"* ]]
}

@test "http-head -L resolves ../ against the request path" {
	hh -L "$HTTP/d/a/b"
	[ "$status" -eq 0 ]
	[[ $output == *"Location: ../c"* ]]
	[ "$(printf '%s\n' "$output" | grep -c '^HTTP/1.1 200 OK$')" -eq 1 ]
}

@test "http-head -L follows an absolute Location" {
	hh -L "$HTTP/r-abs"
	[ "$status" -eq 0 ]
	[[ $output == *"HTTP/1.1 301 Moved Permanently"* ]]
	[[ $output == *"X-Request: HEAD /echo HTTP/1.1"* ]]
}

@test "http-head -L goes from http to https (verified) and back" {
	hh -L --cafile "$PKI/ca.crt" "$HTTP/r-https"
	[ "$status" -eq 0 ]
	[[ $output == *"X-Host: localhost:$NGINX_PORT_HTTPS"* ]]
	hh -L --cafile "$PKI/ca.crt" "$HTTPS/r-http"
	[ "$status" -eq 0 ]
	[[ $output == *"X-Request: HEAD /echo HTTP/1.1"* ]]
}

@test "http-head -L --json prints one object per response with its url" {
	hh -L --json "$HTTP/r-rel"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == '{"url":"'"$HTTP"'/r-rel","version":"HTTP/1.1","status":302,'* ]]
	[[ ${lines[1]} == '{"url":"'"$HTTP"'/echo?from=r-rel",'* ]]
}

@test "http-head -L stops at --max-redirs: exit 8" {
	hh -L "$HTTP/r-loop"
	[ "$status" -eq 8 ]
	stderr_says "too many redirects (--max-redirs 10)"
	[ "$(printf '%s\n' "$output" | grep -c '^HTTP/1.1 302')" -eq 11 ]
	hh -L --max-redirs 2 "$HTTP/r-loop"
	[ "$status" -eq 8 ]
	[ "$(printf '%s\n' "$output" | grep -c '^HTTP/1.1 302')" -eq 3 ]
	hh -L --max-redirs 0 "$HTTP/r-rel"
	[ "$status" -eq 8 ]
	[ "$(printf '%s\n' "$output" | grep -c '^HTTP/')" -eq 1 ]
	hh -L --max-redirs 1 "$HTTP/r-rel"
	[ "$status" -eq 0 ]
}

@test "http-head -L keeps -H credentials on the same origin only" {
	hh -L -H 'Authorization: Bearer s3cret' -H 'X-Custom: kept' "$HTTP/r-rel"
	[ "$status" -eq 0 ]
	[[ $output == *"X-Auth: Bearer s3cret"* ]]
	hh -L -H 'Authorization: Bearer s3cret' -H 'X-Custom: kept' \
	    "$HTTP/r-other-host"
	[ "$status" -eq 0 ]
	[[ $output == *"X-Host: localhost:$NGINX_PORT_HTTP"* ]]
	[[ $output == *"X-Custom: kept"* ]]
	[[ $output != *"s3cret"* ]]
}

@test "http-head -L refuses a Location it cannot follow: exit 8" {
	hh -L "$HTTP/r-ftp"
	[ "$status" -eq 8 ]
	stderr_says "cannot follow Location 'ftp://127.0.0.1/'"
	[ "${lines[0]}" = "HTTP/1.1 302 Moved Temporarily" ]
}

@test "http-head --max-redirs must be a count" {
	hh -L --max-redirs x "$HTTP/"
	[ "$status" -eq 2 ]
	stderr_says "--max-redirs x"
	hh -L --max-redirs -1 "$HTTP/"
	[ "$status" -eq 2 ]
}

# --- --fail ----------------------------------------------------------------------

@test "http-head --fail exits 9 at 400 or more, after printing" {
	hh --fail "$HTTP/missing"
	[ "$status" -eq 9 ]
	[ "${lines[0]}" = "HTTP/1.1 404 Not Found" ]
	stderr_says "$HTTP/missing: HTTP 404"
	hh "$HTTP/missing"
	[ "$status" -eq 0 ]
	hh --fail "$HTTP/"
	[ "$status" -eq 0 ]
	hh -f -L "$HTTP/r-missing"
	[ "$status" -eq 9 ]
	[[ $output == *"HTTP/1.1 307 Temporary Redirect"* ]]
}

# --- TLS: http-head -------------------------------------------------------------

@test "https with --cafile: host name and IP address SANs verified" {
	hh --cafile "$PKI/ca.crt" "$HTTPS/"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
	hh --cafile "$PKI/ca.crt" "https://127.0.0.1:$NGINX_PORT_HTTPS/"
	[ "$status" -eq 0 ]
	hh --cafile "$PKI/ca.crt" "https://[::1]:$NGINX_PORT_HTTPS/"
	[ "$status" -eq 0 ]
}

@test "https to an IP literal checks the IP SANs, not the DNS names: exit 7" {
	hh --cafile "$PKI/ca.crt" "https://localhost:$NGINX_PORT_DNSONLY/"
	[ "$status" -eq 0 ]
	hh --cafile "$PKI/ca.crt" "https://127.0.0.1:$NGINX_PORT_DNSONLY/"
	[ "$status" -eq 7 ]
	stderr_says "certificate verify failed: IP address mismatch"
	[ -z "$output" ]
}

@test "https with the wrong host name: exit 7, hostname mismatch" {
	hh --cafile "$PKI/ca.crt" "https://localhost:$NGINX_PORT_WRONGHOST/"
	[ "$status" -eq 7 ]
	stderr_says "certificate verify failed: hostname mismatch"
	[[ $stderr == *localhost* ]]
}

@test "https with an untrusted certificate: exit 7" {
	hh --cafile "$PKI/ca.crt" "https://localhost:$NGINX_PORT_UNTRUSTED/"
	[ "$status" -eq 7 ]
	stderr_says "certificate verify failed: unable to get local issuer certificate"
}

@test "https with an expired certificate: exit 7" {
	hh --cafile "$PKI/ca.crt" "https://localhost:$NGINX_PORT_EXPIRED/"
	[ "$status" -eq 7 ]
	stderr_says "certificate verify failed: certificate has expired"
}

@test "https verifies against the system store by default: test CA unknown" {
	hh "$HTTPS/"
	[ "$status" -eq 7 ]
	stderr_says "certificate verify failed"
}

@test "an untrusted certificate: the error names host and port, a hint the way out" {
	hh "$HTTPS/"
	[ "$status" -eq 7 ]
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "cstream: http-head: tls handshake with localhost:$NGINX_PORT_HTTPS: certificate verify failed: unable to get local issuer certificate" ]
	[ "${stderr_lines[1]}" = "hint: use --cafile FILE to trust its issuer, or -k to skip verification" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
}

@test "a certificate refused for another reason gets no hint" {
	hh --cafile "$PKI/ca.crt" "https://localhost:$NGINX_PORT_WRONGHOST/"
	[ "$status" -eq 7 ]
	[ "$stderr" = "cstream: http-head: tls handshake with localhost:$NGINX_PORT_WRONGHOST: certificate verify failed: hostname mismatch" ]
	hh --cafile "$PKI/ca.crt" "https://localhost:$NGINX_PORT_EXPIRED/"
	[ "$status" -eq 7 ]
	[ "$stderr" = "cstream: http-head: tls handshake with localhost:$NGINX_PORT_EXPIRED: certificate verify failed: certificate has expired" ]
}

@test "https -k / --insecure skips verification" {
	local p

	for p in $NGINX_PORT_WRONGHOST $NGINX_PORT_UNTRUSTED $NGINX_PORT_EXPIRED; do
		hh -k "https://localhost:$p/"
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
	done
	hh --insecure "$HTTPS/"
	[ "$status" -eq 0 ]
}

@test "https --cafile that cannot be read: exit 1; not certificates: exit 7" {
	hh --cafile "$T/nonexistent.pem" "$HTTPS/"
	[ "$status" -eq 1 ]
	stderr_says "cafile $T/nonexistent.pem: No such file or directory"
	echo "not a certificate" >"$T/junk.pem"
	hh --cafile "$T/junk.pem" "$HTTPS/"
	[ "$status" -eq 7 ]
	stderr_says "cafile $T/junk.pem"
}

@test "https to a plain http port: TLS handshake failure, exit 7" {
	hh -k "https://127.0.0.1:$NGINX_PORT_HTTP/"
	[ "$status" -eq 7 ]
	stderr_says "tls handshake with 127.0.0.1:$NGINX_PORT_HTTP: "
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "https sends SNI for a host name, none for an IP literal" {
	fake S 'HTTP/1.1 200 OK\r\n\r\n' --tls "$PKI/good.crt" \
	    "$PKI/good.key" --record "$T/rec"
	hh --cafile "$PKI/ca.crt" "https://localhost:$S_PORT/"
	[ "$status" -eq 0 ]
	wait_for_match "$T/rec" '^close='
	grep -qx 'sni=localhost' "$T/rec"
	: >"$T/rec"
	hh --cafile "$PKI/ca.crt" "https://127.0.0.1:$S_PORT/"
	[ "$status" -eq 0 ]
	wait_for_match "$T/rec" '^close='
	grep -qx 'sni=none' "$T/rec"
}

@test "https sends close_notify when it closes" {
	fake S 'HTTP/1.1 200 OK\r\nX: y\r\n\r\n' --tls "$PKI/good.crt" \
	    "$PKI/good.key" --record "$T/rec"
	hh --cafile "$PKI/ca.crt" "https://localhost:$S_PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\nX: y' ]
	wait_for_match "$T/rec" '^close='
	grep -qx 'close=close_notify' "$T/rec"
}

# --- scripted servers: what the response may look like ----------------------------

@test "http-head does not wait for EOF after the blank line" {
	fake S 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n' --hold 20
	local t0=$SECONDS
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\nContent-Length: 5' ]
	[ $((SECONDS - t0)) -lt 5 ]
}

@test "http-head reads a response sent one byte at a time" {
	fake S 'HTTP/1.1 200 OK\r\nA: 1\r\nB: two words\r\n\r\n' \
	    --chunk 1 --delay 0.002
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\nA: 1\nB: two words' ]
}

@test "http-head accepts bare LF line ends" {
	fake S 'HTTP/1.0 200 OK\nServer: old\r\nX-Mixed: yes\n\n'
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.0 200 OK\nServer: old\nX-Mixed: yes' ]
}

@test "http-head joins obs-fold continuation lines with one space" {
	fake S 'HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\n\tthree\r\nY: z\r\n\r\n'
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 200 OK\nX-Long: one two three\nY: z' ]
	hh --json "http://127.0.0.1:$S_PORT/"
	[[ $output == *'["X-Long","one two three"],["Y","z"]'* ]]
}

@test "http-head prints 1xx interim responses as blocks of their own" {
	fake S 'HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nA: b\r\n\r\n'
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = $'HTTP/1.1 103 Early Hints\nLink: </s.css>\n\nHTTP/1.1 200 OK\nA: b' ]
}

@test "http-head: endless 1xx responses are malformed: exit 8" {
	local i r=

	for ((i = 0; i < 20; i++)); do
		r+='HTTP/1.1 100 Continue\r\n\r\n'
	done
	fake S "${r}HTTP/1.1 200 OK\r\n\r\n"
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "more than 16 interim (1xx) responses"
}

@test "http-head --json escapes bytes that are not UTF-8 as \\u00XX" {
	fake S 'HTTP/1.1 200 \xc3\xa9t\xe9\r\nX-Bin: \xff\xfe "q" \\ \x01\r\n\r\n'
	hh --json "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | python3 -c '
import json, sys
raw = sys.stdin.buffer.readline()
o = json.loads(raw.decode("utf-8"))
assert o["reason"] == "\u00e9t\u00e9", repr(o["reason"])
assert o["headers"] == [["X-Bin", "\u00ff\u00fe \"q\" \\ \u0001"]], o
assert b"\\u00e9" in raw and b"\\u00ff" in raw, raw
'
	# Plain output is the bytes as received.
	hh "http://127.0.0.1:$S_PORT/"
	printf '%s\n' "$output" | head -n 1 | od -An -tx1 | tr -d ' \n' >"$T/hex"
	[ "$(cat "$T/hex")" = "485454502f312e312032303020c3a974e90a" ]
}

@test "http-head: a response that is not HTTP: exit 8" {
	fake S 'SSH-2.0-OpenSSH_9.2\r\n'
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "not an HTTP response (it starts 'SSH-2')"
	[ -z "$output" ]
}

@test "http-head: an empty reply: exit 8" {
	fake S ''
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "empty reply"
}

@test "http-head: a reply shorter than HTTP/: exit 8" {
	fake S 'HT'
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "connection closed before the end of the header block"
	fake S2 'OK\n'
	hh "http://127.0.0.1:$S2_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "not an HTTP response 'OK\\x0a'"
}

@test "http-head: a header block cut short: exit 8, nothing printed" {
	fake S 'HTTP/1.1 200 OK\r\nServer: x\r\nPartial'
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "connection closed before the end of the header block"
	[ -z "$output" ]
}

@test "http-head: malformed header blocks: exit 8 naming the line" {
	fake A 'HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n'
	fake B 'HTTP/1.1 200 OK\r\nBad Name : x\r\n\r\n'
	fake C 'HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n'
	fake D 'HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n'
	fake E 'HTTP/1.1 2000 OK\r\n\r\n'
	fake F 'HTTP/1.1 200 OK\r\n continued\r\n\r\n'
	hh "http://127.0.0.1:$A_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "malformed response: line 2: header without a colon 'NoColonHere'"
	hh "http://127.0.0.1:$B_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "line 2: invalid header name"
	hh "http://127.0.0.1:$C_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "line 2: NUL byte"
	hh "http://127.0.0.1:$D_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "line 2: CR not followed by LF"
	hh "http://127.0.0.1:$E_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "malformed status line 'HTTP/1.1 2000 OK'"
	hh "http://127.0.0.1:$F_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "before any header"
	[ -z "$output" ]
}

@test "http-head: a header block over --limit: exit 6" {
	python3 -c '
import sys
sys.stdout.buffer.write(b"HTTP/1.1 200 OK\r\n" +
    b"".join(b"X-Pad-%05d: %s\r\n" % (i, b"a" * 60) for i in range(1200)) +
    b"\r\n")' >"$T/big"
	py_server_as S "$FAKE" --response "$T/big"
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 6 ]
	stderr_says "response header block over --limit (65536 bytes)"
	[ -z "$output" ]
	hh --limit 1m "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1201 ]
}

@test "http-head: one endless line: exit 6, not a hang" {
	python3 -c 'import sys; sys.stdout.buffer.write(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 300000)' >"$T/long"
	py_server_as S "$FAKE" --response "$T/long" --hold 10
	hh "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 6 ]
	stderr_says "over --limit"
}

@test "http-head --limit counts the block without its blank line" {
	# 17 + 8 = 25 bytes before the blank line.
	fake S 'HTTP/1.1 200 OK\r\nA: 123\r\n\r\n'
	hh --limit 25 "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 0 ]
	hh --limit 24 "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 6 ]
	hh --limit 100 "$HTTP/"
	[ "$status" -eq 6 ]
}

# --- every other exit status ------------------------------------------------------

@test "http-head: connection refused: exit 1" {
	local port

	port=$(free_port)
	hh "http://127.0.0.1:$port/"
	[ "$status" -eq 1 ]
	stderr_says "Connection refused"
}

@test "http-head: a name that does not resolve: exit 3" {
	hh "http://cstream-test.invalid/"
	[ "$status" -eq 3 ]
	[ "$stderr" = "cstream: http-head: could not resolve host cstream-test.invalid" ]
	[ -z "$output" ]
	hh "cstream-test.invalid:8080/x"
	[ "$status" -eq 3 ]
	[ "$stderr" = "cstream: http-head: could not resolve host cstream-test.invalid" ]
}

@test "http-head: a URL without a scheme is http://, as curl's" {
	local expected

	hh "$HTTP/"
	[ "$status" -eq 0 ]
	# nginx's Date may tick between the two requests.
	expected=$(grep -v '^Date: ' <<<"$output")
	hh -v "127.0.0.1:$NGINX_PORT_HTTP/"
	[ "$status" -eq 0 ]
	[ "$(grep -v '^Date: ' <<<"$output")" = "$expected" ]
	[[ $stderr == *"cstream: request url=$HTTP/"* ]]
	hh "localhost:$NGINX_PORT_HTTP"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 200 OK" ]
}

@test "http-head --connect-timeout: exit 4" {
	py_server_as S "$FAKE" --backlog-full
	local t0=$SECONDS
	hh --connect-timeout 0.5 "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 4 ]
	[ $((SECONDS - t0)) -lt 5 ]
}

@test "http-head --connect-timeout covers the TLS handshake: exit 4" {
	# A TCP server that never says a TLS word.
	py_server_as S "$FAKE" --no-read --hold 20
	hh --connect-timeout 0.5 -k "https://127.0.0.1:$S_PORT/"
	[ "$status" -eq 4 ]
}

@test "http-head --idle-timeout: a server that never answers: exit 4" {
	py_server_as S "$FAKE" --hold 20
	hh --idle-timeout 0.3 "http://127.0.0.1:$S_PORT/"
	[ "$status" -eq 4 ]
	[ -z "$output" ]
}

@test "http-head -4 / -6 choose the address family" {
	# The scripted server listens on 127.0.0.1 only.
	fake S 'HTTP/1.1 200 OK\r\n\r\n'
	hh -4 "http://localhost:$S_PORT/"
	[ "$status" -eq 0 ]
	hh -6 "http://localhost:$S_PORT/"
	[ "$status" -ne 0 ]
	hh -6 "http://127.0.0.1:$S_PORT/"
	[ "$status" -ne 0 ]
}

@test "http-head: a write error on stdout: exit 1" {
	[ -w /dev/full ] || skip "no /dev/full"
	run --separate-stderr bash -c "'$CSTREAM' http-head '$HTTP/' >/dev/full"
	[ "$status" -eq 1 ]
	stderr_says "write to stdout"
}

@test "http-head -v reports request, connection and response on stderr" {
	hh -v -L "$HTTP/r-rel"
	[ "$status" -eq 0 ]
	[[ ${stderr_lines[0]} == "cstream: request url=$HTTP/r-rel" ]]
	[[ ${stderr_lines[1]} == "cstream: connected peer=127.0.0.1:$NGINX_PORT_HTTP local=127.0.0.1:"* ]]
	[[ $stderr == *"cstream: response url=$HTTP/echo?from=r-rel status=204"* ]]
	[ "$(printf '%s\n' "$stderr" | grep -c '^cstream: closed sent=')" -eq 2 ]
	# stdout is the same as without -v.
	[[ $output == *"X-Request: HEAD /echo?from=r-rel HTTP/1.1"* ]]
	hh -q "$HTTP/"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

# --- usage errors: exit 2 ----------------------------------------------------------

@test "http-head: malformed URLs exit 2 with a message naming them" {
	local u

	for u in ftp://h/ http:/h 'http://' 'http://u:p@h/' 'h:0/' \
	    'http://h:0/' 'http://h:65536/' 'http://h:x/' 'http://[::1/' \
	    'http://[zz]/' 'http://h/a b' 'http://h/%zz' 'http://999.1.1.1/'; do
		hh "$u"
		[ "$status" -eq 2 ] || { echo "URL $u: status $status"; false; }
		# A password is masked: u:p is shown u:***.
		stderr_says "invalid URL ${u/u:p@/u:***@}: "
		[ -z "$output" ]
	done
}

@test "http-head: a malformed -H exits 2" {
	hh -H 'NoColon' "$HTTP/"
	[ "$status" -eq 2 ]
	stderr_says "-H"
	hh -H 'Bad Name: x' "$HTTP/"
	[ "$status" -eq 2 ]
}

@test "http-head: no URL, or two, exit 2" {
	hh
	[ "$status" -eq 2 ]
	hh "$HTTP/" "$HTTP/"
	[ "$status" -eq 2 ]
}

# --- tls.c through connect --tls and serve --tls ----------------------------------

@test "connect --tls verifies like http-head" {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls \
	    --cafile "$PKI/ca.crt" localhost "$NGINX_PORT_HTTPS" \
	    --send 'HEAD / HTTP/1.0\r\n\r\n' --read-line
	[ "$status" -eq 0 ]
	[ "$output" = "HTTP/1.1 200 OK"$'\r' ]
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls \
	    --cafile "$PKI/ca.crt" localhost "$NGINX_PORT_WRONGHOST" \
	    --send 'HEAD / HTTP/1.0\r\n\r\n' --read-line
	[ "$status" -eq 7 ]
	[[ $stderr == *"certificate verify failed: hostname mismatch"* ]]
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls -k \
	    localhost "$NGINX_PORT_WRONGHOST" \
	    --send 'HEAD / HTTP/1.0\r\n\r\n' --read-line
	[ "$status" -eq 0 ]
}

@test "serve --tls refuses a key that does not match the certificate" {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" serve --tls \
	    --cert "$PKI/good.crt" --key "$PKI/mismatch.key" 127.0.0.1 0
	[ "$status" -ne 0 ]
	[[ $stderr == *"key $PKI/mismatch.key does not match certificate $PKI/good.crt"* ]]
	run --separate-stderr run_with_timeout 10 "$CSTREAM" serve --tls \
	    --cert "$T/none.crt" --key "$PKI/good.key" 127.0.0.1 0
	[ "$status" -ne 0 ]
	[[ $stderr == *"certificate $T/none.crt: No such file or directory"* ]]
}

@test "serve --tls --echo answers http-head over TLS (not HTTP: exit 8)" {
	start_server S "$CSTREAM" serve --tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key" --echo 127.0.0.1 0
	hh --cafile "$PKI/ca.crt" "https://127.0.0.1:$S_PORT/"
	[ "$status" -eq 8 ]
	stderr_says "not an HTTP response (it starts 'HEAD ')"
}
