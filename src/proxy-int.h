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

#ifndef PROXY_INT_H
#define PROXY_INT_H

/*
 * Private to proxy.c, proxy-http.c and proxy-socks.c: one tunnel being
 * opened through a proxy. The handshakes run on a plain stream before
 * any TLS (doc/stream.md) and end with proxy_tunnel_done(), a call back
 * into proxy.c on the same floor.
 */

#include <stddef.h>
#include <stdint.h>

#include "proxy.h"

struct event;

struct proxy_tunnel {
	struct event_base	*base;
	struct proxy		 proxy;		/* a copy: the caller's may go */
	char			*host;		/* the target */
	char			*port;
	struct stream_opts	 opts;		/* the caller's, TLS included */
	struct stream		*s;		/* to the proxy, plain */
	uint64_t		 start_ms;
	struct event		*timer;		/* --connect-timeout */
	unsigned int		 lines;		/* HTTP: reply lines read */
	char			*status;	/* HTTP: the status line */
	size_t			 addrlen;	/* SOCKS5: reply address bytes */
	stream_done_cb		 cb;
	void			*arg;
	proxy_probe_cb		 probe_cb;	/* -z: instead of cb */
	int			 verdict;	/* the target's, as the proxy
						   said it: a PROXY_PROBE_ */
};

/* proxy.c: how a handshake ends, err NULL when the tunnel is open. */
void	proxy_tunnel_done(struct proxy_tunnel *, const struct stream_error *);
/* "proxy LABEL: " and the message, to proxy_tunnel_done(). */
void	proxy_fail(struct proxy_tunnel *, enum stream_errkind, int sys,
	    const char *, ...) __attribute__((format(printf, 4, 5)));

void	proxy_http_handshake(struct proxy_tunnel *);
void	proxy_socks_handshake(struct proxy_tunnel *);

/* Basic credentials for an HTTP proxy (proxy-http.c). */
char	*proxy_http_basic(const char *user, const char *pass);

#endif /* PROXY_INT_H */
