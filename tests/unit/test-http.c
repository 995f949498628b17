/*
 * Copyright (c) 2026 The cstream authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "compat.h"
#include "http.h"
#include "tap.h"
#include "tls.h"
#include "url.h"
#include "xmalloc.h"

/*
 * http.c: the request, the header block parser, JSON, quoting; and the
 * client half of tls.c that https URLs rely on (SNI and name checks),
 * which needs no network to test. The exchange itself is tested against
 * real servers in tests/bats/http-head.bats.
 */

static struct url
parse_url(const char *s)
{
	struct url	 u;
	const char	*cause;

	if (url_parse(s, &u, &cause) != 0) {
		printf("Bail out! url %s: %s\n", s, cause);
		exit(1);
	}
	return (u);
}

static void
check_request(const char *url, int http10, char *const *h, size_t nh,
    int same_origin, const char *want, const char *name)
{
	struct url	 u = parse_url(url);
	const char	*cause = NULL;
	char		*req;
	size_t		 len;

	if (!ok(http_request(&u, http10, h, nh, same_origin, &req, &len,
	    &cause) == 0, "%s: built", name)) {
		printf("#   cause: %s\n", cause);
		url_free(&u);
		return;
	}
	is_mem(req, len, want, strlen(want), "%s: bytes", name);
	if (len != strlen(want) || memcmp(req, want, len) != 0)
		printf("#   got: %s\n", req);
	is_int(strlen(req), len, "%s: NUL-terminated", name);
	free(req);
	url_free(&u);
}

#define UA	"User-Agent: cstream/" PACKAGE_VERSION "\r\n"

static void
test_request(void)
{
	char *h1[] = { "X-A: 1", "X-B:2", "X-C:   spaced  " };
	char *h2[] = { "Host: other.example", "User-Agent:", "Accept: */*" };
	char *h3[] = { "Authorization: Bearer t", "cookie: a=b", "X-K: v",
	    "Host: h2", "Proxy-Authorization: x" };
	char *bad1[] = { "NoColon" };
	char *bad2[] = { ": v" };
	char *bad3[] = { "Bad Name: v" };
	char *bad4[] = { "X: a\r\nInjected: 1" };
	char *bad5[] = { "X-Ok: 1", "X\tTab: 1" };
	char *badn[] = { "X: a\nB: c" };
	struct url	 u = parse_url("http://h/");
	const char	*cause;
	char		*req = NULL;
	size_t		 len;

	check_request("http://example.com", 0, NULL, 0, 1,
	    "HEAD / HTTP/1.1\r\nHost: example.com\r\n" UA
	    "Connection: close\r\n\r\n", "default");
	check_request("https://[::1]:8443/a/b?c=%20d#f", 0, NULL, 0, 1,
	    "HEAD /a/b?c=%20d HTTP/1.1\r\nHost: [::1]:8443\r\n" UA
	    "Connection: close\r\n\r\n", "ipv6, port, query");
	check_request("https://h:443/", 0, NULL, 0, 1,
	    "HEAD / HTTP/1.1\r\nHost: h\r\n" UA "Connection: close\r\n\r\n",
	    "default https port not in Host");
	check_request("http://h:8080/p?q", 1, NULL, 0, 1,
	    "HEAD /p?q HTTP/1.0\r\nHost: h:8080\r\n\r\n", "http/1.0 form");
	check_request("http://example.com/", 1, NULL, 0, 1,
	    "HEAD / HTTP/1.0\r\nHost: example.com\r\n\r\n",
	    "asyncio documentation's request");
	check_request("http://h/", 0, h1, 3, 1,
	    "HEAD / HTTP/1.1\r\nHost: h\r\n" UA "Connection: close\r\n"
	    "X-A: 1\r\nX-B: 2\r\nX-C: spaced  \r\n\r\n", "extra headers");
	check_request("http://h/", 0, h2, 3, 1,
	    "HEAD / HTTP/1.1\r\nConnection: close\r\n"
	    "Host: other.example\r\nAccept: */*\r\n\r\n",
	    "Host replaced, User-Agent removed");
	check_request("http://h/", 0, h3, 5, 1,
	    "HEAD / HTTP/1.1\r\n" UA "Connection: close\r\n"
	    "Authorization: Bearer t\r\ncookie: a=b\r\nX-K: v\r\nHost: h2\r\n"
	    "Proxy-Authorization: x\r\n\r\n", "same origin keeps credentials");
	check_request("http://h/", 0, h3, 5, 0,
	    "HEAD / HTTP/1.1\r\nHost: h\r\n" UA "Connection: close\r\n"
	    "X-K: v\r\n\r\n", "other origin drops credentials and Host");

	cause = NULL;
	ok(http_request(&u, 0, bad1, 1, 1, &req, &len, &cause) == -1 &&
	    strstr(cause, "no colon") != NULL, "-H without colon refused");
	ok(http_request(&u, 0, bad2, 1, 1, &req, &len, &cause) == -1 &&
	    strstr(cause, "empty name") != NULL, "-H with empty name refused");
	ok(http_request(&u, 0, bad3, 1, 1, &req, &len, &cause) == -1 &&
	    strstr(cause, "invalid character") != NULL,
	    "-H with a space in the name refused");
	ok(http_request(&u, 0, bad4, 1, 1, &req, &len, &cause) == -1 &&
	    strstr(cause, "line break") != NULL, "-H with CR LF refused");
	ok(http_request(&u, 0, badn, 1, 1, &req, &len, &cause) == -1 &&
	    strstr(cause, "line break") != NULL, "-H with LF refused");
	ok(http_request(&u, 0, bad5, 2, 1, &req, &len, &cause) == -1,
	    "one bad -H among good ones refused");
	ok(req == NULL, "nothing built on error");
	url_free(&u);
}

/* Feed a whole block line by line; returns the last parse result. */
static enum http_parse
feed(struct http_response *r, const char *block, char *cause, size_t clen)
{
	const char	*p = block, *nl;
	enum http_parse	 rc = HTTP_PARSE_MORE;

	*cause = '\0';
	while (*p != '\0' && (nl = strchr(p, '\n')) != NULL) {
		rc = http_response_line(r, p, nl + 1 - p, cause, clen);
		if (rc != HTTP_PARSE_MORE)
			break;
		p = nl + 1;
	}
	return (rc);
}

static void
test_parse_good(void)
{
	struct http_response	*r;
	char			 cause[200];

	r = http_response_new(0);
	is_int(r->limit, STREAM_DEFAULT_LIMIT, "limit 0 means the default");
	is_int(feed(r, "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
	    "Content-Type: text/html\r\nX-Empty:\r\n\r\n", cause,
	    sizeof cause), HTTP_PARSE_DONE, "CRLF block done");
	is_str(r->status_line, "HTTP/1.1 200 OK", "status line");
	is_str(r->version, "HTTP/1.1", "version");
	is_int(r->status, 200, "status");
	is_str(r->reason, "OK", "reason");
	is_int(r->nheaders, 3, "three headers");
	is_str(r->headers[0].line, "Server: nginx/1.22.1", "line 1 printed");
	is_str(r->headers[0].name, "Server", "name 1");
	is_str(r->headers[0].value, "nginx/1.22.1", "value 1");
	is_str(r->headers[2].line, "X-Empty:", "empty value line");
	is_str(r->headers[2].value, "", "empty value");
	is_str(http_header_get(r, "content-type"), "text/html",
	    "lookup is case-insensitive");
	ok(http_header_get(r, "Location") == NULL, "absent header");
	is_int(r->size, strlen("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
	    "Content-Type: text/html\r\nX-Empty:\r\n"), "size counts lines, "
	    "not the blank one");
	http_response_free(r);

	/* Bare LF, and a mix, are accepted. */
	r = http_response_new(0);
	is_int(feed(r, "HTTP/1.0 404 Not Found\nA: 1\r\nB:2\n\n", cause,
	    sizeof cause), HTTP_PARSE_DONE, "bare LF block done");
	is_str(r->status_line, "HTTP/1.0 404 Not Found", "bare LF status");
	is_str(r->reason, "Not Found", "reason with a space");
	is_str(r->headers[1].line, "B:2", "printed as received");
	is_str(r->headers[1].value, "2", "value without OWS");
	http_response_free(r);

	/* No reason phrase; trailing blanks go; leading blanks of a value. */
	r = http_response_new(0);
	is_int(feed(r, "HTTP/1.1 204\r\nX:  a b \t \r\n\r\n", cause,
	    sizeof cause), HTTP_PARSE_DONE, "status without reason");
	is_int(r->status, 204, "status 204");
	is_str(r->reason, "", "empty reason");
	is_str(r->headers[0].line, "X:  a b", "trailing blanks stripped");
	is_str(r->headers[0].value, "a b", "value trimmed both sides");
	http_response_free(r);

	r = http_response_new(0);
	is_int(feed(r, "HTTP/1.1 200 \r\n\r\n", cause, sizeof cause),
	    HTTP_PARSE_DONE, "status with SP but no reason");
	is_str(r->status_line, "HTTP/1.1 200", "trailing SP stripped");
	is_int(r->nheaders, 0, "no headers");
	http_response_free(r);

	/* obs-fold: joined with one space. */
	r = http_response_new(0);
	is_int(feed(r, "HTTP/1.1 200 OK\r\nX-Long: one\r\n   two\r\n"
	    "\tthree  \r\n \r\nY: z\r\n\r\n", cause, sizeof cause),
	    HTTP_PARSE_DONE, "folded block done");
	is_int(r->nheaders, 2, "folds are not headers");
	is_str(r->headers[0].line, "X-Long: one two three", "folded line");
	is_str(r->headers[0].value, "one two three", "folded value");
	is_str(r->headers[1].line, "Y: z", "next header");
	http_response_free(r);

	r = http_response_new(0);
	is_int(feed(r, "HTTP/1.1 200 OK\r\nX-E:\r\n more\r\n\r\n", cause,
	    sizeof cause), HTTP_PARSE_DONE, "fold of an empty value");
	is_str(r->headers[0].value, "more", "no leading space");
	http_response_free(r);

	/* obs-text (bytes >= 0x80) and other controls pass through. */
	r = http_response_new(0);
	is_int(feed(r, "HTTP/1.1 200 \xc3\xa9t\xe9\r\nX: \xff\x01\r\n\r\n",
	    cause, sizeof cause), HTTP_PARSE_DONE, "obs-text accepted");
	is_str(r->reason, "\xc3\xa9t\xe9", "reason bytes kept");
	is_str(r->headers[0].value, "\xff\x01", "value bytes kept");
	http_response_free(r);
}

struct bad_block {
	const char	*block;
	const char	*cause;
};

static const struct bad_block bad_blocks[] = {
	{ "HTTP/1.1 20 OK\r\n", "malformed status line" },
	{ "HTTP/1.1 2000 OK\r\n", "malformed status line" },
	{ "HTTP/1.1 600 X\r\n", "malformed status line" },
	{ "HTTP/1.1 099 X\r\n", "malformed status line" },
	{ "HTTP/1.1 200OK\r\n", "malformed status line" },
	{ "HTTP/1.1  200 OK\r\n", "malformed status line" },
	{ "HTTP/x.1 200 OK\r\n", "malformed status line" },
	{ "HTTP/11 200 OK\r\n", "malformed status line" },
	{ "HTTP/1.1\r\n", "malformed status line" },
	{ "ICY 200 OK\r\n", "malformed status line" },
	{ "\r\n", "empty line before" },
	{ "HTTP/1.1 200 OK\r\nNoColon\r\n", "line 2: header without a colon" },
	{ "HTTP/1.1 200 OK\r\nA: 1\r\nB : 2\r\n", "line 3: invalid header name" },
	{ "HTTP/1.1 200 OK\r\nA\tB: 2\r\n", "invalid header name" },
	{ "HTTP/1.1 200 OK\r\n: v\r\n", "empty header name" },
	{ "HTTP/1.1 200 OK\r\n folded\r\n", "before any header" },
	{ "HTTP/1.1 200 OK\r\nA: x\ry\r\n", "CR not followed by LF" },
	{ "HTTP/1.1 200 OK\rA: x\r\n", "CR not followed by LF" },
	{ "HTTP/1.1 200 OK\r\nA: x\r\r\n", "CR not followed by LF" },
	{ "HTTP/1.1 200 OK\r\nA: 1\r\n\x01\x02\r\n", "header without a colon" },
	{ "HTTP/1.1 200 OK\r\nA\xff: 1\r\n", "invalid header name" },
};

static void
test_parse_bad(void)
{
	struct http_response	*r;
	char			 cause[200];
	size_t			 i;
	enum http_parse		 rc;

	for (i = 0; i < sizeof bad_blocks / sizeof bad_blocks[0]; i++) {
		r = http_response_new(0);
		rc = feed(r, bad_blocks[i].block, cause, sizeof cause);
		is_int(rc, HTTP_PARSE_ERROR, "bad block %zu refused", i);
		if (!ok(strstr(cause, bad_blocks[i].cause) != NULL,
		    "bad block %zu: cause names '%s'", i, bad_blocks[i].cause))
			printf("#   cause: %s\n", cause);
		http_response_free(r);
	}

	/* A NUL byte, with an explicit length. */
	r = http_response_new(0);
	http_response_line(r, "HTTP/1.1 200 OK\r\n", 17, cause, sizeof cause);
	is_int(http_response_line(r, "A: x\0y\r\n", 8, cause, sizeof cause),
	    HTTP_PARSE_ERROR, "NUL byte refused");
	ok(strstr(cause, "line 2: NUL byte") != NULL, "NUL cause: %s", cause);
	http_response_free(r);

	r = http_response_new(0);
	is_int(http_response_line(r, "HTTP/1.1 200 OK", 15, cause,
	    sizeof cause), HTTP_PARSE_ERROR, "line without LF refused");
	http_response_free(r);

	/* The message quotes the bad line, escaped. */
	r = http_response_new(0);
	feed(r, "HTTP/1.1 200 OK\r\nbad\x1b[31m\r\n", cause, sizeof cause);
	ok(strstr(cause, "'bad\\x1b[31m'") != NULL, "escape quoted: %s",
	    cause);
	http_response_free(r);
}

static void
test_limit(void)
{
	struct http_response	*r;
	char			 cause[200];
	const char		*status = "HTTP/1.1 200 OK\r\n";	/* 17 */

	/* 17 + 8 = 25 bytes before the blank line: a limit of 25 holds. */
	r = http_response_new(25);
	is_int(feed(r, "HTTP/1.1 200 OK\r\nA: 123\r\n\r\n", cause,
	    sizeof cause), HTTP_PARSE_DONE, "block of exactly limit bytes");
	http_response_free(r);

	r = http_response_new(24);
	is_int(feed(r, "HTTP/1.1 200 OK\r\nA: 123\r\n\r\n", cause,
	    sizeof cause), HTTP_PARSE_LIMIT, "one byte over the limit");
	http_response_free(r);

	r = http_response_new(16);
	is_int(http_response_line(r, status, strlen(status), cause,
	    sizeof cause), HTTP_PARSE_LIMIT, "status line alone over");
	http_response_free(r);

	/* Bare LF counts one byte less per line. */
	r = http_response_new(23);
	is_int(feed(r, "HTTP/1.1 200 OK\nA: 123\n\n", cause, sizeof cause),
	    HTTP_PARSE_DONE, "bare LF block of limit bytes");
	http_response_free(r);
}

static void
check_json(const char *block, const char *url, const char *want,
    const char *name)
{
	struct http_response	*r;
	char			 cause[200], *j;

	r = http_response_new(0);
	if (!ok(feed(r, block, cause, sizeof cause) == HTTP_PARSE_DONE,
	    "%s: parsed", name)) {
		printf("#   cause: %s\n", cause);
		http_response_free(r);
		return;
	}
	j = http_json(r, url);
	is_str(j, want, "%s: json", name);
	free(j);
	http_response_free(r);
}

/*
 * 200000 continuation lines join into one value of 2 x 200000 bytes, and
 * 20000 headers all arrive: the joins and the header array grow in
 * linear time (the old code copied the whole value per line, which took
 * seconds for this).
 */
static void
test_many_lines(void)
{
	struct http_response	*r;
	char			 cause[200], line[32];
	const char		*status = "HTTP/1.1 200 OK\r\n";
	size_t			 i, len;
	int			 good = 1;

	r = http_response_new(1024 * 1024 * 1024);
	http_response_line(r, status, strlen(status), cause, sizeof cause);
	http_response_line(r, "X-Fold: a\r\n", 11, cause, sizeof cause);
	for (i = 0; i < 200000 && good; i++)
		good = http_response_line(r, " b\r\n", 4, cause,
		    sizeof cause) == HTTP_PARSE_MORE;
	ok(good, "200000 continuation lines accepted");
	len = strlen(r->headers[0].value);
	is_int(len, 1 + 2 * 200000, "joined value: a then 200000 x ' b'");
	ok(strncmp(r->headers[0].value, "a b b", 5) == 0 &&
	    strcmp(r->headers[0].value + len - 4, " b b") == 0,
	    "joined value's ends");
	is_int(strlen(r->headers[0].line), strlen("X-Fold: ") + len,
	    "joined line");
	for (i = 0; i < 20000 && good; i++) {
		len = (size_t)snprintf(line, sizeof line, "H%zu: %zu\r\n", i, i);
		good = http_response_line(r, line, len, cause, sizeof cause) ==
		    HTTP_PARSE_MORE;
	}
	is_int(http_response_line(r, "\r\n", 2, cause, sizeof cause),
	    HTTP_PARSE_DONE, "block done");
	is_int(r->nheaders, 20001, "20001 headers");
	is_str(r->headers[20000].line, "H19999: 19999", "last header");
	is_str(http_header_get(r, "h12345"), "12345", "a header in the middle");
	http_response_free(r);
}

static void
test_json(void)
{
	check_json("HTTP/1.1 200 OK\r\nServer: nginx\r\nX-Empty:\r\n\r\n",
	    "http://h/",
	    "{\"url\":\"http://h/\",\"version\":\"HTTP/1.1\",\"status\":200,"
	    "\"reason\":\"OK\",\"headers\":[[\"Server\",\"nginx\"],"
	    "[\"X-Empty\",\"\"]]}", "plain");
	check_json("HTTP/1.0 204\r\n\r\n", "http://h/?a=\"b\"",
	    "{\"url\":\"http://h/?a=\\\"b\\\"\",\"version\":\"HTTP/1.0\","
	    "\"status\":204,\"reason\":\"\",\"headers\":[]}",
	    "no headers, quotes in url");
	check_json("HTTP/1.1 200 OK\r\nX: a\\b\"c\td\x01\x7f\x1b\r\n\r\n",
	    "u", "{\"url\":\"u\",\"version\":\"HTTP/1.1\",\"status\":200,"
	    "\"reason\":\"OK\",\"headers\":[[\"X\","
	    "\"a\\\\b\\\"c\\u0009d\\u0001\\u007f\\u001b\"]]}",
	    "escapes and controls");
	/* Valid UTF-8 goes through; anything else is \u00XX (Latin-1). */
	check_json("HTTP/1.1 200 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\r\n"
	    "X: \xff\xc0\x80\xed\xa0\x80\xe2\x82\xf4\x90\x80\x80\xe9t\xe9\r\n"
	    "\r\n", "u",
	    "{\"url\":\"u\",\"version\":\"HTTP/1.1\",\"status\":200,"
	    "\"reason\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
	    "\"headers\":[[\"X\",\"\\u00ff\\u00c0\\u0080\\u00ed\\u00a0"
	    "\\u0080\\u00e2\\u0082\\u00f4\\u0090\\u0080\\u0080\\u00e9t"
	    "\\u00e9\"]]}", "utf-8 and invalid bytes");
	check_json("HTTP/1.1 200 OK\r\nX: \xe0\x80\xaf\xf8\x88\x80\x80\x80"
	    "\xc2\r\n\r\n", "u",
	    "{\"url\":\"u\",\"version\":\"HTTP/1.1\",\"status\":200,"
	    "\"reason\":\"OK\",\"headers\":[[\"X\",\"\\u00e0\\u0080\\u00af"
	    "\\u00f8\\u0088\\u0080\\u0080\\u0080\\u00c2\"]]}",
	    "overlong, 5-byte and truncated sequences");
}

static void
test_quote(void)
{
	char	buf[16];

	http_quote("abc", 3, buf, sizeof buf);
	is_str(buf, "abc", "printable kept");
	http_quote("a\\'\n\x80", 5, buf, sizeof buf);
	is_str(buf, "a\\x5c\\x27...", "escapes, then truncated");
	http_quote("0123456789abcdefghij", 20, buf, sizeof buf);
	is_str(buf, "0123456789ab...", "long input truncated");
	http_quote("0123456789abcde", 15, buf, sizeof buf);
	is_str(buf, "0123456789abcde", "input that just fits is whole");
	http_quote("0123456789abcdef", 16, buf, sizeof buf);
	is_str(buf, "0123456789ab...", "one byte more is truncated");
	ok(strlen(buf) < sizeof buf, "fits");
	http_quote("x\0y", 3, buf, sizeof buf);
	is_str(buf, "x\\x00y", "NUL escaped");
	{
		char	big[64];

		http_quote("a\nb\x1b[0m\xff", 8, big, sizeof big);
		is_str(big, "a\\x0ab\\x1b[0m\\xff", "room for every escape");
		http_quote("abc", 3, big, 1);
		is_str(big, "", "a one-byte buffer holds the NUL only");
		http_quote("abc", 3, big, 3);
		is_str(big, "", "too small for a byte and ...");
		http_quote("abc", 3, big, 4);
		is_str(big, "abc", "three bytes in four");
	}
}

/* SNI for host names only; the name or the IP address is what is checked. */
static void
check_client_ssl(SSL_CTX *ctx, const char *servername, const char *sni,
    const char *host, const char *ip)
{
	struct stream_error	 err;
	X509_VERIFY_PARAM	*param;
	const char		*got;
	char			*gotip;
	SSL			*ssl;

	memset(&err, 0, sizeof err);
	ssl = tls_ssl_new(ctx, servername, 0, &err);
	if (!ok(ssl != NULL, "tls_ssl_new %s", servername)) {
		printf("#   %s\n", err.msg);
		return;
	}
	got = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	is_str(got, sni, "%s: SNI", servername);
	param = SSL_get0_param(ssl);
	is_str(X509_VERIFY_PARAM_get0_host(param, 0), host,
	    "%s: host name checked", servername);
	gotip = X509_VERIFY_PARAM_get1_ip_asc(param);
	is_str(gotip, ip, "%s: IP address checked", servername);
	OPENSSL_free(gotip);
	is_int(SSL_get_verify_mode(ssl), SSL_VERIFY_PEER, "%s: verify peer",
	    servername);
	SSL_free(ssl);
}

static void
test_tls_client(void)
{
	struct stream_error	 err;
	SSL_CTX			*ctx;
	SSL			*ssl;

	memset(&err, 0, sizeof err);
	ctx = tls_client_ctx(NULL, 0, &err);
	if (!ok(ctx != NULL, "client context on the system store")) {
		printf("#   %s\n", err.msg);
		return;
	}
	is_int(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION,
	    "TLS 1.2 at least");
	ok(SSL_CTX_get_options(ctx) & SSL_OP_IGNORE_UNEXPECTED_EOF,
	    "a dirty shutdown reads as EOF (libevent 2.1.12 + OpenSSL 3)");
	check_client_ssl(ctx, "example.org", "example.org", "example.org",
	    NULL);
	check_client_ssl(ctx, "example.org.", "example.org", "example.org",
	    NULL);
	check_client_ssl(ctx, "127.0.0.1", NULL, NULL, "127.0.0.1");
	check_client_ssl(ctx, "::1", NULL, NULL, "0:0:0:0:0:0:0:1");
	check_client_ssl(ctx, "[2001:db8::1]", NULL, NULL, "2001:DB8:0:0:0:0:0:1");
	/* A server SSL gets no name. */
	ssl = tls_ssl_new(ctx, "example.org", 1, &err);
	ok(ssl != NULL && SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) ==
	    NULL, "server side: no SNI");
	SSL_free(ssl);
	SSL_CTX_free(ctx);

	ctx = tls_client_ctx(NULL, 1, &err);
	ok(ctx != NULL && SSL_CTX_get_verify_mode(ctx) == SSL_VERIFY_NONE,
	    "insecure: no verification");
	SSL_CTX_free(ctx);

	memset(&err, 0, sizeof err);
	ok(tls_client_ctx("/nonexistent/ca.pem", 0, &err) == NULL,
	    "missing cafile refused");
	is_int(err.kind, STREAM_ESYS, "missing cafile: a system error");
	is_str(err.msg, "cafile /nonexistent/ca.pem: No such file or directory",
	    "missing cafile: message");
	memset(&err, 0, sizeof err);
	ok(tls_client_ctx("/dev/null", 0, &err) == NULL,
	    "cafile without certificates refused");
	is_int(err.kind, STREAM_ETLS, "empty cafile: a TLS error");
	ok(strncmp(err.msg, "cafile /dev/null: ", 18) == 0,
	    "empty cafile: message names the file: %s", err.msg);
	memset(&err, 0, sizeof err);
	ok(tls_server_ctx("/nonexistent.crt", "/nonexistent.key", &err) ==
	    NULL && strcmp(err.msg, "certificate /nonexistent.crt: No such "
	    "file or directory") == 0, "server: missing certificate named");
}

int
main(void)
{
	test_request();
	test_parse_good();
	test_parse_bad();
	test_limit();
	test_many_lines();
	test_json();
	test_quote();
	test_tls_client();
	return (tap_done());
}
