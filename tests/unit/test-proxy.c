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


#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "net.h"
#include "proxy.h"
#include "tap.h"
#include "url.h"
#include "xmalloc.h"

/* proxy.c and net-resolve.c: proxy URLs, no_proxy rules, --resolve entries. */

static void
test_proxy_parse(void)
{
	struct proxy	p;
	const char	*cause;

	ok(proxy_parse("http://127.0.0.1:3128", &p, &cause) == 0, "http URL");
	is_int(p.type, PROXY_HTTP, "http: type");
	is_str(p.host, "127.0.0.1", "http: host");
	is_str(p.port, "3128", "http: port");
	is_str(p.label, "127.0.0.1:3128", "http: label");
	ok(p.user == NULL && p.pass == NULL, "http: no credentials");
	proxy_free(&p);

	ok(proxy_parse("socks5h://u%40x:p%3As@[::1]/", &p, &cause) == 0,
	    "socks5h URL with credentials and IPv6");
	is_int(p.type, PROXY_SOCKS5H, "socks5h: type");
	is_str(p.host, "::1", "socks5h: host without brackets");
	is_str(p.port, "1080", "no port: 1080, as curl");
	is_str(p.label, "[::1]:1080", "IPv6 label in brackets");
	is_str(p.user, "u@x", "user percent-decoded");
	is_str(p.pass, "p:s", "password percent-decoded");
	proxy_free(&p);

	ok(proxy_parse("SOCKS5://a@h:1", &p, &cause) == 0, "scheme caseless");
	is_int(p.type, PROXY_SOCKS5, "socks5: type");
	is_str(p.user, "a", "user without password");
	is_str(p.pass, "", "empty password");
	proxy_free(&p);

	/* Found by tests/fuzz/fuzz-proxy-url.c: a read past the URL. */
	ok(proxy_parse("http://a@b@c@h:3128", &p, &cause) == 0,
	    "three @: the last ends the user information");
	is_str(p.user, "a@b@c", "... the user keeps the others");
	is_str(p.label, "h:3128", "... and the host is after it");
	proxy_free(&p);

	ok(proxy_parse("proxy.example:8080", &p, &cause) == 0,
	    "no scheme: http");
	is_int(p.type, PROXY_HTTP, "no scheme: type");
	proxy_free(&p);

	ok(proxy_parse("https://h:1", &p, &cause) == -1, "https refused");
	is_str(cause, "unsupported scheme (http://, socks5://, socks5h://)",
	    "https: cause");
	ok(proxy_parse("http://h:0", &p, &cause) == -1, "port 0 refused");
	ok(proxy_parse("http://:80", &p, &cause) == -1, "no host refused");
	ok(proxy_parse("http://[::1:80", &p, &cause) == -1,
	    "unterminated bracket refused");
	ok(proxy_parse("http://u:%4@h", &p, &cause) == -1,
	    "short escape refused");
	ok(proxy_parse("http://u:%00@h", &p, &cause) == -1, "NUL refused");
	ok(proxy_parse("http://h:80x", &p, &cause) == -1, "bad port refused");
}

static void
test_no_proxy(void)
{
	ok(proxy_no_proxy("*", "anything"), "* matches all");
	ok(proxy_no_proxy("example.com", "example.com"), "exact name");
	ok(proxy_no_proxy("example.com", "www.EXAMPLE.com"), "suffix, caseless");
	ok(proxy_no_proxy(".example.com", "example.com"), "leading dot");
	ok(proxy_no_proxy("a, b ,example.com", "x.example.com"),
	    "commas and blanks");
	ok(proxy_no_proxy("example.com", "example.com."), "trailing dot");
	ok(!proxy_no_proxy("example.com", "myexample.com"),
	    "suffix only at a dot");
	ok(!proxy_no_proxy("", "example.com"), "empty list");
	ok(!proxy_no_proxy(NULL, "example.com"), "no list");
}

static void
test_resolve(void)
{
	struct net_addr		*a;
	size_t			 n;
	const char		*cause;
	char			 buf[64];

	ok(resolve_add("h.test:80:[::1],127.0.0.1", &cause) == 0,
	    "two addresses");
	ok(resolve_lookup("H.TEST", "80", AF_UNSPEC, &a, &n) == 1 && n == 2,
	    "lookup finds both, caseless");
	ok(a[0].ss.ss_family == AF_INET6 && a[1].ss.ss_family == AF_INET,
	    "in the order given");
	inet_ntop(AF_INET, &((struct sockaddr_in *)&a[1].ss)->sin_addr, buf,
	    sizeof buf);
	is_str(buf, "127.0.0.1", "IPv4 address");
	is_int(ntohs(((struct sockaddr_in *)&a[1].ss)->sin_port), 80, "port");
	free(a);
	ok(resolve_lookup("h.test", "80", AF_INET, &a, &n) == 1 && n == 1,
	    "family filter");
	free(a);
	ok(resolve_lookup("h.test", "81", AF_UNSPEC, &a, &n) == 0,
	    "other port: not found");
	ok(resolve_add("+h.test:80:10.0.0.1", &cause) == 0, "curl's + prefix");
	ok(resolve_lookup("h.test", "80", AF_UNSPEC, &a, &n) == 1 && n == 1,
	    "a later entry replaces");
	free(a);
	ok(resolve_add("[::1]:443:[::2]", &cause) == 0, "IPv6 host");
	ok(resolve_lookup("::1", "443", AF_UNSPEC, &a, &n) == 1, "found");
	free(a);
	ok(resolve_add("h:80", &cause) == -1, "no address");
	ok(resolve_add("h:80:", &cause) == -1, "empty address");
	ok(resolve_add("h:80:1.2.3.4,", &cause) == -1, "trailing comma");
	ok(resolve_add("h:x:1.2.3.4", &cause) == -1, "bad port");
	ok(resolve_add("h:80:[1.2.3.4]", &cause) == -1, "IPv4 in brackets");
	resolve_clear();
	ok(resolve_lookup("h.test", "80", AF_UNSPEC, &a, &n) == 0, "cleared");
}

int
main(void)
{
	test_proxy_parse();
	test_no_proxy();
	test_resolve();
	return (tap_done());
}
