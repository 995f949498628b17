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

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "log.h"
#include "net.h"
#include "proxy.h"
#include "proxy-int.h"
#include "xmalloc.h"

/*
 * SOCKS5 (RFC 1928) with username/password authentication (RFC 1929):
 * greeting, optional authentication, CONNECT, reply. socks5:// resolves
 * the target here (--resolve applies), socks5h:// sends the name. A
 * refusal is told by the reply code's meaning; a proxy that breaks the
 * protocol is a network error (exit 1) with the reason.
 */

#define SOCKS_VERSION		5
#define SOCKS_AUTH_NONE		0x00
#define SOCKS_AUTH_USERPASS	0x02
#define SOCKS_AUTH_REFUSED	0xff
#define SOCKS_CMD_CONNECT	1
#define SOCKS_ATYP_IPV4		1
#define SOCKS_ATYP_NAME		3
#define SOCKS_ATYP_IPV6		4

static void	socks_method_cb(struct stream *, struct evbuffer *,
		    const struct stream_error *, void *);
static void	socks_auth_cb(struct stream *, struct evbuffer *,
		    const struct stream_error *, void *);
static void	socks_reply_cb(struct stream *, struct evbuffer *,
		    const struct stream_error *, void *);
static void	socks_addr_cb(struct stream *, struct evbuffer *,
		    const struct stream_error *, void *);

/* RFC 1928 section 6. */
static const char *
socks_reply_meaning(int rep)
{
	switch (rep) {
	case 1:
		return ("general SOCKS server failure");
	case 2:
		return ("connection not allowed by ruleset");
	case 3:
		return ("network unreachable");
	case 4:
		return ("host unreachable");
	case 5:
		return ("connection refused by destination host");
	case 6:
		return ("TTL expired");
	case 7:
		return ("command not supported");
	case 8:
		return ("address type not supported");
	}
	return (NULL);
}

static void
socks_fail(struct proxy_tunnel *t, const char *what)
{

	proxy_fail(t, STREAM_ESYS, EPROTO, "%s", what);
}

/* A read that did not complete: the stream's error, or a short reply. */
static int
socks_read_failed(struct proxy_tunnel *t, const struct stream_error *e)
{

	if (e->kind == STREAM_OK)
		return (0);
	if (e->kind == STREAM_EINCOMPLETE)
		socks_fail(t, "truncated SOCKS5 reply");
	else {
		proxy_fail(t, e->kind, e->sys, "%s", e->msg);
	}
	return (1);
}

/*
 * The head of a reply (len bytes, version first): 0, or -1 once the
 * handshake failed (read error, short reply, other version: bad).
 */
static int
socks_reply_head(struct proxy_tunnel *t, const struct stream_error *e,
    struct evbuffer *data, unsigned char *r, size_t len, int version,
    const char *bad)
{
	if (socks_read_failed(t, e))
		return (-1);
	evbuffer_remove(data, r, len);
	if (r[0] != version) {
		socks_fail(t, bad);
		return (-1);
	}
	return (0);
}

static void
socks_send(struct proxy_tunnel *t, const void *buf, size_t len,
    size_t nread, stream_read_cb cb)
{
	if (stream_write(t->s, buf, len) == -1) {
		socks_fail(t, "connection lost during the SOCKS5 handshake");
		return;
	}
	stream_readexactly(t->s, nread, cb, t);
}

void
proxy_socks_handshake(struct proxy_tunnel *t)
{
	unsigned char	hello[4] = { SOCKS_VERSION, 1, SOCKS_AUTH_NONE, 0 };
	size_t		len = 3;

	if (t->proxy.user != NULL) {
		hello[1] = 2;
		hello[3] = SOCKS_AUTH_USERPASS;
		len = 4;
	}
	socks_send(t, hello, len, 2, socks_method_cb);
}

/* RFC 1928 section 4: the CONNECT request. */
static void
socks_connect(struct proxy_tunnel *t)
{
	unsigned char		 req[4 + 1 + 255 + 2];
	struct net_addr		*addrs;
	struct stream_error	 err;
	size_t			 n, len = 4, hlen;
	uint16_t		 port = htons((uint16_t)atoi(t->port));
	struct in_addr		 in4;
	struct in6_addr		 in6;
	const struct sockaddr_storage *ss;

	req[0] = SOCKS_VERSION;
	req[1] = SOCKS_CMD_CONNECT;
	req[2] = 0;
	if (inet_pton(AF_INET, t->host, &in4) == 1) {
		req[3] = SOCKS_ATYP_IPV4;
		memcpy(req + 4, &in4, 4);
		len += 4;
	} else if (inet_pton(AF_INET6, t->host, &in6) == 1) {
		req[3] = SOCKS_ATYP_IPV6;
		memcpy(req + 4, &in6, 16);
		len += 16;
	} else if (t->proxy.type == PROXY_SOCKS5H) {
		if ((hlen = strlen(t->host)) > 255) {
			socks_fail(t, "host name over 255 bytes");
			return;
		}
		req[3] = SOCKS_ATYP_NAME;
		req[4] = (unsigned char)hlen;
		memcpy(req + 5, t->host, hlen);
		len += 1 + hlen;
	} else {
		/* socks5://: our resolver (or --resolve), the first address. */
		if (net_resolve_addrs(t->host, t->port, t->opts.family, &addrs,
		    &n, &err) != 0) {
			proxy_tunnel_done(t, &err);
			return;
		}
		ss = &addrs[0].ss;
		if (ss->ss_family == AF_INET) {
			req[3] = SOCKS_ATYP_IPV4;
			memcpy(req + 4, &((const struct sockaddr_in *)ss)->
			    sin_addr, 4);
			len += 4;
		} else {
			req[3] = SOCKS_ATYP_IPV6;
			memcpy(req + 4, &((const struct sockaddr_in6 *)ss)->
			    sin6_addr, 16);
			len += 16;
		}
		free(addrs);
	}
	memcpy(req + len, &port, 2);
	len += 2;
	socks_send(t, req, len, 4, socks_reply_cb);
}

/* RFC 1929: username and password, each at most 255 bytes. */
static void
socks_auth(struct proxy_tunnel *t)
{
	unsigned char	req[3 + 255 + 255];
	size_t		ulen = strlen(t->proxy.user), plen = strlen(t->proxy.pass);

	if (ulen > 255 || plen > 255) {
		socks_fail(t, "user name or password over 255 bytes");
		return;
	}
	req[0] = 1;
	req[1] = (unsigned char)ulen;
	memcpy(req + 2, t->proxy.user, ulen);
	req[2 + ulen] = (unsigned char)plen;
	memcpy(req + 3 + ulen, t->proxy.pass, plen);
	socks_send(t, req, 3 + ulen + plen, 2, socks_auth_cb);
}

static void
socks_method_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *e, void *arg)
{
	struct proxy_tunnel	*t = arg;
	unsigned char		 r[2];

	if (socks_reply_head(t, e, data, r, 2, SOCKS_VERSION,
	    "not a SOCKS5 server (bad version in its reply)") != 0)
		return;
	if (r[1] == SOCKS_AUTH_NONE) {
		socks_connect(t);
		return;
	}
	if (r[1] == SOCKS_AUTH_USERPASS && t->proxy.user != NULL) {
		socks_auth(t);
		return;
	}
	if (r[1] == SOCKS_AUTH_REFUSED) {
		proxy_fail(t, STREAM_ESYS, EACCES, "%s",
		    t->proxy.user != NULL ?
		    "no acceptable authentication method" :
		    "authentication required (user:password@ in the URL)");
		return;
	}
	socks_fail(t, "chose an authentication method we did not offer");
}

static void
socks_auth_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *e, void *arg)
{
	struct proxy_tunnel	*t = arg;
	unsigned char		 r[2];

	if (socks_reply_head(t, e, data, r, 2, 1,
	    "bad version in the authentication reply") != 0)
		return;
	if (r[1] != 0) {
		proxy_fail(t, STREAM_ESYS, EACCES,
		    "authentication failed");
		return;
	}
	socks_connect(t);
}

static void
socks_reply_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *e, void *arg)
{
	struct proxy_tunnel	*t = arg;
	unsigned char		 r[4];
	const char		*why;

	if (socks_reply_head(t, e, data, r, 4, SOCKS_VERSION,
	    "not a SOCKS5 reply (bad version)") != 0)
		return;
	if (r[1] != 0) {
		/* For -z: 1 to 5 say the target is closed, 6 no answer. */
		if (r[1] == 6)
			t->verdict = PROXY_PROBE_TIMEOUT;
		else if (r[1] <= 5)
			t->verdict = PROXY_PROBE_CLOSED;
		if ((why = socks_reply_meaning(r[1])) != NULL)
			proxy_fail(t, STREAM_ESYS, ECONNREFUSED, "%s", why);
		else
			proxy_fail(t, STREAM_ESYS, EPROTO,
			    "unknown SOCKS5 reply code %d", r[1]);
		return;
	}
	switch (r[3]) {
	case SOCKS_ATYP_IPV4:
		stream_readexactly(s, 4 + 2, socks_addr_cb, t);
		return;
	case SOCKS_ATYP_IPV6:
		stream_readexactly(s, 16 + 2, socks_addr_cb, t);
		return;
	case SOCKS_ATYP_NAME:
		t->addrlen = 0;
		stream_readexactly(s, 1, socks_addr_cb, t);
		return;
	}
	socks_fail(t, "bad address type in the SOCKS5 reply");
}

/* The bound address: skipped; a name is its length byte, then itself. */
static void
socks_addr_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *e, void *arg)
{
	struct proxy_tunnel	*t = arg;
	unsigned char		 len;

	if (socks_read_failed(t, e))
		return;
	if (evbuffer_get_length(data) == 1 && t->addrlen == 0) {
		evbuffer_remove(data, &len, 1);
		t->addrlen = (size_t)len + 2;
		stream_readexactly(s, t->addrlen, socks_addr_cb, t);
		return;
	}
	evbuffer_drain(data, evbuffer_get_length(data));
	proxy_tunnel_done(t, NULL);
}
