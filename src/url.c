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

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "url.h"
#include "xmalloc.h"

/*
 * http and https URLs, the subset of RFC 3986 that http-head needs:
 *
 *	scheme "://" host [ ":" port ] [ path ] [ "?" query ] [ "#" fragment ]
 *
 * The path and query are kept byte for byte (percent-encoding is checked,
 * never decoded), since the server, not us, gives them meaning. Anything
 * that could not be sent safely on a request line (a space, a control
 * character, a non-ASCII byte) is refused rather than guessed at, and so is
 * user information: credentials in a URL would be sent to every host a
 * redirect leads to, and -H 'Authorization: ...' says what is meant.
 */

#define URL_MAX_HOST	253	/* longest DNS name, RFC 1035 */

static int
url_is_hex(int c)
{
	return (isxdigit((unsigned char)c) != 0);
}

/* Check every byte can go on a request line, and %XX is well formed. */
static int
url_check_bytes(const char *s, size_t len, const char **cause)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		unsigned char	c = s[i];

		if (c == ' ') {
			*cause = "contains a space (percent-encode it as %20)";
			return (-1);
		}
		if (c < 0x20 || c == 0x7f) {
			*cause = "contains a control character";
			return (-1);
		}
		if (c > 0x7f) {
			*cause = "contains a non-ASCII byte (percent-encode it)";
			return (-1);
		}
		if (c == '%' && (i + 2 >= len || !url_is_hex(s[i + 1]) ||
		    !url_is_hex(s[i + 2]))) {
			*cause = "malformed percent-encoding (% must be "
			    "followed by two hex digits)";
			return (-1);
		}
	}
	return (0);
}

/* Length of a scheme at the start of s ("http" in "http:..."), or 0. */
static size_t
url_scheme_len(const char *s)
{
	size_t	i;

	if (!isalpha((unsigned char)s[0]))
		return (0);
	for (i = 1; s[i] != '\0'; i++) {
		if (s[i] == ':')
			return (i);
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' &&
		    s[i] != '-' && s[i] != '.')
			return (0);
	}
	return (0);
}

/* All digits and dots: meant as an IPv4 address, so it must be one. */
static int
url_looks_numeric(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) && *s != '.')
			return (0);
	}
	return (1);
}

static int
url_parse_host(const char *s, size_t len, struct url *u, const char **cause)
{
	char		 buf[URL_MAX_HOST + 1];
	struct in6_addr	 a6;
	struct in_addr	 a4;
	size_t		 i;

	if (len == 0) {
		*cause = "missing host";
		return (-1);
	}
	if (s[0] == '[') {
		if (len < 2 || s[len - 1] != ']') {
			*cause = "unterminated IPv6 literal (missing ])";
			return (-1);
		}
		s++;
		len -= 2;
		if (memchr(s, '%', len) != NULL) {
			*cause = "IPv6 zone identifiers are not supported";
			return (-1);
		}
		if (len >= INET6_ADDRSTRLEN) {
			*cause = "invalid IPv6 address";
			return (-1);
		}
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1) {
			*cause = "invalid IPv6 address";
			return (-1);
		}
		u->ip = 6;
		u->host = xstrdup(buf);
		return (0);
	}
	if (len > URL_MAX_HOST) {
		*cause = "host name too long";
		return (-1);
	}
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '.' && s[i] != '_') {
			*cause = s[i] == '@' ? "user information (user@) is "
			    "not supported (use -H 'Authorization: ...')" :
			    s[i] == '%' ? "percent-encoding in the host is "
			    "not supported" : "invalid character in host";
			return (-1);
		}
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a4) == 1)
		u->ip = 4;
	else if (url_looks_numeric(buf)) {
		*cause = "invalid IPv4 address";
		return (-1);
	}
	u->host = xstrdup(buf);
	return (0);
}

/* Port digits after the colon; empty means the default (RFC 3986 3.2.3). */
static int
url_parse_port(const char *s, size_t len, struct url *u, const char **cause)
{
	const char	*def = u->tls ? "443" : "80";
	long		 v = 0;
	size_t		 i;
	char		 buf[16];

	if (len == 0) {
		u->port = xstrdup(def);
		u->default_port = 1;
		return (0);
	}
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i])) {
			*cause = "invalid port (1-65535)";
			return (-1);
		}
		v = v * 10 + (s[i] - '0');
		if (v > 65535)
			break;
	}
	if (v < 1 || v > 65535) {
		*cause = "invalid port (1-65535)";
		return (-1);
	}
	snprintf(buf, sizeof buf, "%ld", v);
	u->port = xstrdup(buf);
	u->default_port = strcmp(buf, def) == 0;
	return (0);
}

static int
url_parse_authority(const char *s, size_t len, struct url *u,
    const char **cause)
{
	const char	*colon, *end = s + len;

	if (memchr(s, '@', len) != NULL) {
		*cause = "user information (user@) is not supported "
		    "(use -H 'Authorization: ...')";
		return (-1);
	}
	if (len > 0 && s[0] == '[') {
		colon = memchr(s, ']', len);
		if (colon == NULL) {
			*cause = "unterminated IPv6 literal (missing ])";
			return (-1);
		}
		colon++;
		if (colon != end && *colon != ':') {
			*cause = "junk after the IPv6 literal";
			return (-1);
		}
		if (colon == end)
			colon = NULL;
	} else
		colon = memchr(s, ':', len);
	if (colon == NULL)
		colon = end;
	if (url_parse_host(s, colon - s, u, cause) != 0)
		return (-1);
	if (colon == end)
		return (url_parse_port("", 0, u, cause));
	return (url_parse_port(colon + 1, end - colon - 1, u, cause));
}

int
url_parse(const char *s, struct url *out, const char **cause)
{
	struct url	 u;
	size_t		 n, alen, tlen;
	const char	*p, *frag;

	memset(&u, 0, sizeof u);
	if (url_check_bytes(s, strlen(s), cause) != 0)
		return (-1);
	if ((n = url_scheme_len(s)) == 0) {
		*cause = "missing scheme (http:// or https://)";
		return (-1);
	}
	if (n == 5 && strncasecmp(s, "https", 5) == 0)
		u.tls = 1;
	else if (n != 4 || strncasecmp(s, "http", 4) != 0) {
		/* "localhost:8080/" is a host without a scheme. */
		*cause = strncmp(s + n + 1, "//", 2) == 0 ?
		    "unsupported scheme (http and https only)" :
		    "missing scheme (http:// or https://)";
		return (-1);
	}
	p = s + n + 1;
	if (strncmp(p, "//", 2) != 0) {
		*cause = "missing // after the scheme";
		return (-1);
	}
	p += 2;
	alen = strcspn(p, "/?#");
	if (url_parse_authority(p, alen, &u, cause) != 0) {
		url_free(&u);
		return (-1);
	}
	p += alen;

	/* The request target: path and query, without the fragment. */
	frag = strchr(p, '#');
	tlen = frag != NULL ? (size_t)(frag - p) : strlen(p);
	if (tlen == 0 || p[0] != '/') {
		u.target = xmalloc(tlen + 2);
		u.target[0] = '/';
		memcpy(u.target + 1, p, tlen);
		u.target[tlen + 1] = '\0';
	} else {
		u.target = xmalloc(tlen + 1);
		memcpy(u.target, p, tlen);
		u.target[tlen] = '\0';
	}
	*out = u;
	return (0);
}

/*
 * RFC 3986 5.2.4: remove "." and ".." segments from an absolute path, in
 * place (the result is never longer).
 */
static void
url_remove_dots(char *path)
{
	char	*in = path, *out = path;

	while (*in != '\0') {
		if (strncmp(in, "../", 3) == 0)
			in += 3;
		else if (strncmp(in, "./", 2) == 0)
			in += 2;
		else if (strncmp(in, "/./", 3) == 0)
			in += 2;
		else if (strcmp(in, "/.") == 0)
			in[1] = '\0';
		else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
			/* Go up: drop the last output segment. */
			in += 3;
			if (*in == '\0')
				*--in = '/';
			while (out > path && *--out != '/')
				;
		} else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0)
			in += strlen(in);
		else {
			do
				*out++ = *in++;
			while (*in != '\0' && *in != '/');
		}
	}
	*out = '\0';
}

/*
 * A server's Location may carry bytes a user could not type into url_parse:
 * percent-encode spaces and non-ASCII bytes as browsers and curl do, and
 * refuse control characters outright.
 */
static char *
url_encode_ref(const char *ref, const char **cause)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out, *o;
	const unsigned char	*p;

	out = xreallocarray(NULL, strlen(ref) + 1, 3);
	for (o = out, p = (const unsigned char *)ref; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			free(out);
			*cause = "contains a control character";
			return (NULL);
		}
		if (*p == ' ' || *p > 0x7f) {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		} else
			*o++ = *p;
	}
	*o = '\0';
	return (out);
}

/* Merge a relative reference's path with the base target (RFC 3986 5.2). */
static char *
url_merge(const struct url *base, const char *ref)
{
	size_t		 plen = strcspn(ref, "?#"), blen;
	const char	*bq, *rq;
	char		*path, *out;

	if (plen == 0) {
		/* Same path; the reference's query if it has one. */
		blen = strcspn(base->target, "?");
		bq = base->target + blen;
		rq = ref[0] == '?' ? ref : bq;
		xasprintf(&out, "%.*s%.*s", (int)blen, base->target,
		    (int)strcspn(rq, "#"), rq);
		return (out);
	}
	if (ref[0] == '/')
		xasprintf(&path, "%.*s", (int)plen, ref);
	else {
		blen = strcspn(base->target, "?");
		/* Everything through the last slash of the base path. */
		while (blen > 0 && base->target[blen - 1] != '/')
			blen--;
		if (blen == 0)
			blen = 1;
		xasprintf(&path, "%.*s%.*s", (int)blen, base->target,
		    (int)plen, ref);
	}
	url_remove_dots(path);
	if (path[0] == '\0') {
		free(path);
		path = xstrdup("/");
	}
	rq = ref + plen;
	xasprintf(&out, "%s%.*s", path, (int)strcspn(rq, "#"), rq);
	free(path);
	return (out);
}

int
url_resolve(const struct url *base, const char *ref, struct url *out,
    const char **cause)
{
	char	*enc, *abs, *target, *auth;
	int	 rc;

	if ((enc = url_encode_ref(ref, cause)) == NULL)
		return (-1);
	if (url_scheme_len(enc) != 0)
		abs = xstrdup(enc);
	else if (strncmp(enc, "//", 2) == 0)
		xasprintf(&abs, "%s:%s", base->tls ? "https" : "http", enc);
	else {
		target = url_merge(base, enc);
		auth = url_authority(base);
		xasprintf(&abs, "%s://%s%s", base->tls ? "https" : "http",
		    auth, target);
		free(auth);
		free(target);
	}
	rc = url_parse(abs, out, cause);
	free(abs);
	free(enc);
	return (rc);
}

char *
url_authority(const struct url *u)
{
	char	*s;

	xasprintf(&s, "%s%s%s%s%s", u->ip == 6 ? "[" : "", u->host,
	    u->ip == 6 ? "]" : "", u->default_port ? "" : ":",
	    u->default_port ? "" : u->port);
	return (s);
}

char *
url_string(const struct url *u)
{
	char	*auth, *s;

	auth = url_authority(u);
	xasprintf(&s, "%s://%s%s", u->tls ? "https" : "http", auth, u->target);
	free(auth);
	return (s);
}

int
url_same_origin(const struct url *a, const struct url *b)
{
	return (a->tls == b->tls && strcasecmp(a->host, b->host) == 0 &&
	    strcmp(a->port, b->port) == 0);
}

void
url_free(struct url *u)
{
	free(u->host);
	free(u->port);
	free(u->target);
	memset(u, 0, sizeof *u);
}

/*
 * A URL (a proxy's, http-head's, a Location) as messages may show it: a password is replaced by "***" (curl's
 * way), and so is a lone user name, which is often a token. Whatever the
 * URL's shape (even one proxy_parse refuses), no byte of the user
 * information is copied. Allocated.
 */
char *
url_redact(const char *url)
{
	const char	*auth, *end, *at, *colon, *sep;
	char		*out;

	sep = strstr(url, "://");
	auth = sep != NULL ? sep + 3 : url;
	end = auth + strcspn(auth, "/?#");
	if ((at = memchr(auth, '@', end - auth)) == NULL)
		return (xstrdup(url));
	while ((sep = memchr(at + 1, '@', end - at - 1)) != NULL)
		at = sep;
	colon = memchr(auth, ':', at - auth);
	if (colon != NULL && colon != auth)
		xasprintf(&out, "%.*s***%s", (int)(colon + 1 - url), url, at);
	else
		xasprintf(&out, "%.*s***%s", (int)(auth - url), url, at);
	return (out);
}
