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

#include "url.h"
#include "xmalloc.h"
#include "tap.h"

/* url.c: parsing, the Host authority, string form, redirect resolution. */

/* Test names must stay on one line: escape what is not printable. */
static const char *
vis(const char *s)
{
	static char	buf[4][600];
	static int	n;
	char		*b = buf[n++ % 4];
	size_t		o = 0;

	for (; *s != '\0' && o < sizeof buf[0] - 5; s++) {
		if (*s >= 0x20 && *s < 0x7f)
			b[o++] = *s;
		else
			o += snprintf(b + o, 5, "\\x%02x", (unsigned char)*s);
	}
	b[o] = '\0';
	return (b);
}

struct good {
	const char	*in;
	int		 tls;
	const char	*host;
	const char	*port;
	const char	*target;
	int		 ip;
	int		 default_port;
	const char	*authority;
	const char	*string;
};

static const struct good goods[] = {
	{ "http://example.com", 0, "example.com", "80", "/", 0, 1,
	  "example.com", "http://example.com/" },
	{ "https://example.com", 1, "example.com", "443", "/", 0, 1,
	  "example.com", "https://example.com/" },
	{ "http://example.com:8080/a/b?c=d#frag", 0, "example.com", "8080",
	  "/a/b?c=d", 0, 0, "example.com:8080",
	  "http://example.com:8080/a/b?c=d" },
	{ "HTTPS://Example.COM/X", 1, "Example.COM", "443", "/X", 0, 1,
	  "Example.COM", "https://Example.COM/X" },
	{ "http://[::1]:8443/x", 0, "::1", "8443", "/x", 6, 0, "[::1]:8443",
	  "http://[::1]:8443/x" },
	{ "https://[2001:db8::1]/", 1, "2001:db8::1", "443", "/", 6, 1,
	  "[2001:db8::1]", "https://[2001:db8::1]/" },
	{ "http://127.0.0.1/", 0, "127.0.0.1", "80", "/", 4, 1, "127.0.0.1",
	  "http://127.0.0.1/" },
	{ "http://h:80/", 0, "h", "80", "/", 0, 1, "h", "http://h/" },
	{ "http://h:0080/", 0, "h", "80", "/", 0, 1, "h", "http://h/" },
	{ "https://h:80/", 1, "h", "80", "/", 0, 0, "h:80", "https://h:80/" },
	{ "http://h:443/", 0, "h", "443", "/", 0, 0, "h:443",
	  "http://h:443/" },
	{ "http://h:/p", 0, "h", "80", "/p", 0, 1, "h", "http://h/p" },
	{ "http://h:65535", 0, "h", "65535", "/", 0, 0, "h:65535",
	  "http://h:65535/" },
	{ "http://h?x=1&y", 0, "h", "80", "/?x=1&y", 0, 1, "h",
	  "http://h/?x=1&y" },
	{ "http://h#top", 0, "h", "80", "/", 0, 1, "h", "http://h/" },
	{ "http://h/a%20b/%2F?q=%41", 0, "h", "80", "/a%20b/%2F?q=%41", 0,
	  1, "h", "http://h/a%20b/%2F?q=%41" },
	{ "http://my-host_1.example./", 0, "my-host_1.example.", "80", "/",
	  0, 1, "my-host_1.example.", "http://my-host_1.example./" },
	{ "http://h/./a/../b", 0, "h", "80", "/./a/../b", 0, 1, "h",
	  "http://h/./a/../b" },
	{ "http://h//x", 0, "h", "80", "//x", 0, 1, "h", "http://h//x" },
};

struct bad {
	const char	*in;
	const char	*cause;		/* a word the message must contain */
};

static const struct bad bads[] = {
	{ "", "missing scheme" },
	{ "example.com", "missing scheme" },
	{ "example.com:80", "missing scheme" },
	{ "ftp://h/", "unsupported scheme" },
	{ "httpx://h/", "unsupported scheme" },
	{ "http:/h", "missing //" },
	{ "http:h", "missing //" },
	{ "http://", "missing host" },
	{ "http:///path", "missing host" },
	{ "http://:80/", "missing host" },
	{ "http://u@h/", "user information" },
	{ "http://u:p@h/", "user information" },
	{ "http://h:0/", "invalid port" },
	{ "http://h:65536/", "invalid port" },
	{ "http://h:99999999999999999999/", "invalid port" },
	{ "http://h:8x/", "invalid port" },
	{ "http://h:-1/", "invalid port" },
	{ "http://h:80:80/", "invalid port" },
	{ "http://[::1/", "unterminated IPv6" },
	{ "http://[::1]x/", "junk after" },
	{ "http://[zz]/", "invalid IPv6" },
	{ "http://[]/", "invalid IPv6" },
	{ "http://[127.0.0.1]/", "invalid IPv6" },
	{ "http://[fe80::1%25eth0]/", "zone" },
	{ "http://::1/", "missing host" },
	{ "http://h h/", "space" },
	{ "http://h/a b", "space" },
	{ "http://h/\001", "control" },
	{ "http://h/\177", "control" },
	{ "http://h/\303\251", "non-ASCII" },
	{ "http://h/%zz", "percent-encoding" },
	{ "http://h/%4", "percent-encoding" },
	{ "http://h/%", "percent-encoding" },
	{ "http://h%41/", "percent-encoding in the host" },
	{ "http://ex!ample/", "invalid character" },
	{ "http://ex*ample/", "invalid character" },
	{ "http://999.1.1.1/", "invalid IPv4" },
	{ "http://1.2.3/", "invalid IPv4" },
	{ "http://1.2.3.4.5/", "invalid IPv4" },
};

static void
test_good(void)
{
	const struct good	*g;
	struct url		 u;
	const char		*cause;
	char			*s;
	size_t			 i;

	for (i = 0; i < sizeof goods / sizeof goods[0]; i++) {
		g = &goods[i];
		cause = NULL;
		if (!ok(url_parse(g->in, &u, &cause) == 0, "parse %s", g->in)) {
			printf("#   cause: %s\n", cause);
			continue;
		}
		is_int(u.tls, g->tls, "%s: tls", g->in);
		is_str(u.host, g->host, "%s: host", g->in);
		is_str(u.port, g->port, "%s: port", g->in);
		is_str(u.target, g->target, "%s: target", g->in);
		is_int(u.ip, g->ip, "%s: ip literal", g->in);
		is_int(u.default_port, g->default_port, "%s: default port",
		    g->in);
		s = url_authority(&u);
		is_str(s, g->authority, "%s: authority", g->in);
		free(s);
		s = url_string(&u);
		is_str(s, g->string, "%s: string", g->in);
		free(s);
		url_free(&u);
	}
}

static void
test_bad(void)
{
	const struct bad	*b;
	struct url		 u;
	const char		*cause;
	size_t			 i;

	for (i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		b = &bads[i];
		cause = NULL;
		memset(&u, 0, sizeof u);
		if (!ok(url_parse(b->in, &u, &cause) == -1, "reject '%s'",
		    vis(b->in)))
			continue;
		if (!ok(cause != NULL && strstr(cause, b->cause) != NULL,
		    "'%s': cause names '%s'", vis(b->in), b->cause))
			printf("#   cause: %s\n", cause ? cause : "(null)");
		ok(u.host == NULL && u.port == NULL && u.target == NULL,
		    "'%s': nothing allocated", vis(b->in));
	}
}

/* Too long a host name is refused; 253 bytes is the most. */
static void
test_long_host(void)
{
	char		 in[300], host[260];
	struct url	 u;
	const char	*cause;

	memset(host, 'a', 253);
	host[253] = '\0';
	snprintf(in, sizeof in, "http://%s/", host);
	ok(url_parse(in, &u, &cause) == 0, "253-byte host accepted");
	url_free(&u);
	memset(host, 'a', 254);
	host[254] = '\0';
	snprintf(in, sizeof in, "http://%s/", host);
	ok(url_parse(in, &u, &cause) == -1 && strstr(cause, "too long"),
	    "254-byte host refused");
}

struct ref {
	const char	*ref;
	const char	*want;		/* url_string of the result, or NULL */
};

/* RFC 3986 5.4.1 and 5.4.2, base http://a/b/c/d;p?q. */
static const struct ref rfc_refs[] = {
	{ "g", "http://a/b/c/g" },
	{ "./g", "http://a/b/c/g" },
	{ "g/", "http://a/b/c/g/" },
	{ "/g", "http://a/g" },
	{ "//g", "http://g/" },
	{ "?y", "http://a/b/c/d;p?y" },
	{ "g?y", "http://a/b/c/g?y" },
	{ "#s", "http://a/b/c/d;p?q" },
	{ "g#s", "http://a/b/c/g" },
	{ "g?y#s", "http://a/b/c/g?y" },
	{ ";x", "http://a/b/c/;x" },
	{ "g;x", "http://a/b/c/g;x" },
	{ "", "http://a/b/c/d;p?q" },
	{ ".", "http://a/b/c/" },
	{ "./", "http://a/b/c/" },
	{ "..", "http://a/b/" },
	{ "../", "http://a/b/" },
	{ "../g", "http://a/b/g" },
	{ "../..", "http://a/" },
	{ "../../", "http://a/" },
	{ "../../g", "http://a/g" },
	{ "../../../g", "http://a/g" },
	{ "../../../../g", "http://a/g" },
	{ "/./g", "http://a/g" },
	{ "/../g", "http://a/g" },
	{ "g.", "http://a/b/c/g." },
	{ ".g", "http://a/b/c/.g" },
	{ "g..", "http://a/b/c/g.." },
	{ "..g", "http://a/b/c/..g" },
	{ "./../g", "http://a/b/g" },
	{ "./g/.", "http://a/b/c/g/" },
	{ "g/./h", "http://a/b/c/g/h" },
	{ "g/../h", "http://a/b/c/h" },
	{ "g;x=1/./y", "http://a/b/c/g;x=1/y" },
	{ "g;x=1/../y", "http://a/b/c/y" },
	{ "g?y/./x", "http://a/b/c/g?y/./x" },
	{ "g?y/../x", "http://a/b/c/g?y/../x" },
	{ "g#s/./x", "http://a/b/c/g" },
	{ "g#s/../x", "http://a/b/c/g" },
	{ "http:g", NULL },		/* strict parser: no // */
	{ "https://secure/p", "https://secure/p" },
	{ "https://secure:8443", "https://secure:8443/" },
	{ "HTTP://X:80/y", "http://X/y" },
	{ "/a b", "http://a/a%20b" },
	{ "/\303\251t\303\251", "http://a/%C3%A9t%C3%A9" },
	{ "/%41", "http://a/%41" },
	{ "/x\001", NULL },
	{ "/x\r\nSet-Cookie: a", NULL },
	{ "ftp://x/", NULL },
	{ "mailto:a@b", NULL },
	{ "//u@h/", NULL },
	{ "/%zz", NULL },
};

static void
test_resolve(void)
{
	struct url	 base, u;
	const char	*cause;
	char		*s;
	size_t		 i;
	int		 rc;

	if (url_parse("http://a/b/c/d;p?q", &base, &cause) != 0)
		abort();
	for (i = 0; i < sizeof rfc_refs / sizeof rfc_refs[0]; i++) {
		cause = NULL;
		rc = url_resolve(&base, rfc_refs[i].ref, &u, &cause);
		if (rfc_refs[i].want == NULL) {
			ok(rc == -1 && cause != NULL, "resolve '%s' refused",
			    vis(rfc_refs[i].ref));
			continue;
		}
		if (!ok(rc == 0, "resolve '%s'", vis(rfc_refs[i].ref))) {
			printf("#   cause: %s\n", cause);
			continue;
		}
		s = url_string(&u);
		is_str(s, rfc_refs[i].want, "resolve '%s'",
		    vis(rfc_refs[i].ref));
		free(s);
		url_free(&u);
	}
	url_free(&base);

	/* A relative reference keeps the base's scheme, host and port. */
	if (url_parse("https://[::1]:8443/dir/page", &base, &cause) != 0)
		abort();
	ok(url_resolve(&base, "other?x", &u, &cause) == 0, "ipv6 base");
	s = url_string(&u);
	is_str(s, "https://[::1]:8443/dir/other?x", "ipv6 base: relative");
	free(s);
	is_int(u.tls, 1, "ipv6 base: still https");
	is_int(u.ip, 6, "ipv6 base: still an IPv6 literal");
	ok(url_same_origin(&base, &u), "same origin after relative redirect");
	url_free(&u);
	ok(url_resolve(&base, "//[::1]:8443/", &u, &cause) == 0 &&
	    url_same_origin(&base, &u), "scheme-relative, same origin");
	url_free(&u);
	ok(url_resolve(&base, "http://[::1]:8443/", &u, &cause) == 0 &&
	    !url_same_origin(&base, &u), "other scheme, other origin");
	url_free(&u);
	ok(url_resolve(&base, "https://[::1]/", &u, &cause) == 0 &&
	    !url_same_origin(&base, &u), "other port, other origin");
	url_free(&u);
	url_free(&base);

	if (url_parse("http://Host.Example/", &base, &cause) != 0)
		abort();
	ok(url_resolve(&base, "http://host.example:80/z", &u, &cause) == 0 &&
	    url_same_origin(&base, &u), "host compared case-insensitively");
	url_free(&u);
	url_free(&base);
}

int
main(void)
{
	test_good();
	test_bad();
	test_long_host();
	test_resolve();
	return (tap_done());
}
