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

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <openssl/evp.h>

#include "log.h"
#include "proxy.h"
#include "proxy-int.h"
#include "url.h"
#include "xmalloc.h"

/*
 * HTTP proxies: a CONNECT tunnel (RFC 9110 section 9.3.6), and the
 * absolute-form request that carries a plain http:// HEAD through one
 * (RFC 9112 section 3.2.2), as curl sends them. Any 2xx opens the tunnel;
 * another status is the proxy's refusal, told as it said it; a reply that
 * is not HTTP is a protocol error (exit 8).
 */

#define PROXY_HTTP_MAX_LINES	100

static void	proxy_http_line_cb(struct stream *, struct evbuffer *,
		    const struct stream_error *, void *);

/* What a proxy said, printable: \xHH for control and non-ASCII bytes. */
static void
ph_quote(const char *s, char *out, size_t outlen)
{
	size_t	o = 0;

	for (; *s != '\0' && o + 8 < outlen; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			o += snprintf(out + o, outlen - o, "\\x%02x",
			    (unsigned char)*s);
		else
			out[o++] = *s;
	}
	if (*s != '\0')
		o += snprintf(out + o, outlen - o, "...");
	out[o < outlen ? o : outlen - 1] = '\0';
}

/* "Basic BASE64(user:pass)" (RFC 7617). */
char *
proxy_http_basic(const char *user, const char *pass)
{
	char	*plain, *out;
	int	 len;

	len = xasprintf(&plain, "%s:%s", user, pass);
	out = xmalloc(6 + 4 * (((size_t)len + 2) / 3) + 1);
	memcpy(out, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)out + 6, (unsigned char *)plain, len);
	free(plain);
	return (out);
}

/* "host:port", IPv6 in brackets: the CONNECT target and its Host. */
static char *
proxy_http_authority(const char *host, const char *port)
{
	char	*s;

	if (strchr(host, ':') != NULL)
		xasprintf(&s, "[%s]:%s", host, port);
	else
		xasprintf(&s, "%s:%s", host, port);
	return (s);
}

void
proxy_http_handshake(struct proxy_tunnel *t)
{
	char			*auth, *target, *req;
	int			 len;

	target = proxy_http_authority(t->host, t->port);
	auth = t->proxy.user != NULL ? proxy_http_basic(t->proxy.user,
	    t->proxy.pass) : NULL;
	len = xasprintf(&req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: cstream/%s\r\n%s%s%s\r\n", target, target,
	    PACKAGE_VERSION, auth != NULL ? "Proxy-Authorization: " : "",
	    auth != NULL ? auth : "", auth != NULL ? "\r\n" : "");
	free(auth);
	free(target);
	if (stream_write(t->s, req, len) == -1) {
		free(req);
		proxy_fail(t, STREAM_ERESET, ECONNRESET,
		    "connection lost before CONNECT");
		return;
	}
	free(req);
	stream_readline(t->s, proxy_http_line_cb, t);
}

/* The status line: 0 with *code set, -1 if it is not HTTP. */
static int
proxy_http_status(const char *line, int *code, const char **reason)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7])
	    || line[8] != ' ' || !isdigit((unsigned char)line[9]) ||
	    !isdigit((unsigned char)line[10]) ||
	    !isdigit((unsigned char)line[11]) ||
	    (line[12] != ' ' && line[12] != '\0'))
		return (-1);
	*code = atoi(line + 9);
	*reason = line[12] == ' ' ? line + 13 : "";
	return (0);
}

static void
proxy_http_reply_done(struct proxy_tunnel *t)
{
	const char		*reason;
	char			 q[120];
	int			 code;

	if (proxy_http_status(t->status, &code, &reason) != 0) {
		ph_quote(t->status, q, sizeof q);
		proxy_fail(t, STREAM_EPROTO, EPROTO,
		    "not an HTTP reply to CONNECT: '%s'", q);
		return;
	}
	if (code / 100 == 2) {
		proxy_tunnel_done(t, NULL);
		return;
	}
	/*
	 * For -z, the proxy's word on the target: a gateway timeout is a
	 * timeout, an authentication demand holds for every port, the rest
	 * (tinyproxy's "500 Unable to connect", 502, 503, 403) is closed.
	 */
	if (code == 504)
		t->verdict = PROXY_PROBE_TIMEOUT;
	else if (code != 401 && code != 407)
		t->verdict = PROXY_PROBE_CLOSED;
	ph_quote(reason, q, sizeof q);
	proxy_fail(t, STREAM_ESYS, ECONNREFUSED, "%d%s%s", code,
	    *q != '\0' ? " " : "", q);
}

static void
proxy_http_line_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *e, void *arg)
{
	struct proxy_tunnel	*t = arg;
	size_t			 len;
	char			*line;
	int			 nul;

	if (e->kind == STREAM_EINCOMPLETE || e->kind == STREAM_ELIMIT) {
		proxy_fail(t, STREAM_EPROTO, EPROTO, "%s",
		    e->kind == STREAM_ELIMIT ? "reply line too long" :
		    t->lines == 0 ? "closed the connection without a reply" :
		    "reply ended before its blank line");
		return;
	}
	if (e->kind != STREAM_OK) {
		proxy_fail(t, e->kind, e->sys, "%s", e->msg);
		return;
	}
	len = evbuffer_get_length(data);
	line = xmalloc(len + 1);
	evbuffer_remove(data, line, len);
	line[len] = '\0';
	if (len == 0 || line[len - 1] != '\n') {	/* EOF, as asyncio's */
		free(line);
		proxy_fail(t, STREAM_EPROTO, EPROTO, "%s",
		    t->lines == 0 ? "closed the connection without a reply" :
		    "reply ended before its blank line");
		return;
	}
	/*
	 * http-head's rule (http.c): a NUL byte, or a CR not followed by
	 * LF, anywhere in the block is malformed; a NUL would also cut the
	 * line short for the status check ("200\0...").
	 */
	nul = memchr(line, '\0', len) != NULL;
	if (nul || (len >= 2 && memchr(line, '\r', len - 2) != NULL)) {
		free(line);
		proxy_fail(t, STREAM_EPROTO, EPROTO, "malformed reply to "
		    "CONNECT: line %u: %s", t->lines + 1, nul ? "NUL byte" :
		    "CR not followed by LF");
		return;
	}
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (t->lines++ == 0) {
		t->status = line;
		stream_readline(s, proxy_http_line_cb, t);
		return;
	}
	free(line);
	if (len == 0) {
		proxy_http_reply_done(t);
		return;
	}
	if (t->lines > PROXY_HTTP_MAX_LINES) {
		proxy_fail(t, STREAM_EPROTO, EPROTO,
		    "reply over %d lines", PROXY_HTTP_MAX_LINES);
		return;
	}
	stream_readline(s, proxy_http_line_cb, t);
}

/*
 * "HEAD /path HTTP/1.1" becomes "HEAD http://host/path HTTP/1.1", with
 * Proxy-Authorization after the request line when the proxy has
 * credentials.
 */
char *
proxy_absolute_request(const struct proxy *p, const struct url *u,
    const char *req, size_t len, size_t *outlen)
{
	struct evbuffer	*b;
	const char	*sp, *eol;
	char		*url, *auth, *out;

	b = evbuffer_new();
	sp = memchr(req, ' ', len);
	eol = memchr(req, '\n', len);
	if (b == NULL || sp == NULL || eol == NULL)
		abort();	/* http_request's own output */
	sp = memchr(sp + 1, ' ', eol - sp - 1);
	url = url_string(u);
	evbuffer_add_printf(b, "HEAD %s%.*s\n", url, (int)(eol - sp), sp);
	auth = p->user != NULL ? proxy_http_basic(p->user, p->pass) : NULL;
	if (auth != NULL)
		evbuffer_add_printf(b, "Proxy-Authorization: %s\r\n", auth);
	evbuffer_add(b, eol + 1, len - (eol + 1 - req));
	*outlen = evbuffer_get_length(b);
	out = xmalloc(*outlen + 1);
	evbuffer_remove(b, out, *outlen);
	out[*outlen] = '\0';
	evbuffer_free(b);
	free(url);
	free(auth);
	return (out);
}
