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


#ifndef PROXY_H
#define PROXY_H

#include "stream.h"

struct event_base;
struct url;

/*
 * proxy.c, proxy-http.c, proxy-socks.c: tunnels through HTTP (CONNECT) and
 * SOCKS5 proxies, proxy URLs and curl's environment rules.
 */
enum proxy_type {
	PROXY_HTTP,		/* http://: CONNECT, or absolute-form for http */
	PROXY_SOCKS5,		/* socks5://: names resolved here */
	PROXY_SOCKS5H		/* socks5h://: names resolved by the proxy */
};

struct proxy {
	enum proxy_type	 type;
	char		*host;		/* IPv6 without brackets */
	char		*port;		/* 1080 unless given, as curl */
	char		*user;		/* percent-decoded, NULL if none */
	char		*pass;
	char		*label;		/* "127.0.0.1:3128", for messages */
	char		*src_addr;	/* -s: bind the proxy connection */
	char		*src_port;	/* -p */
};

/* Parse a proxy URL; -1 with a static *cause, *p untouched then. */
int		 proxy_parse(const char *, struct proxy *, const char **cause);
void		 proxy_free(struct proxy *);
const char	*proxy_scheme(const struct proxy *);
/* curl's environment: the proxy URL for an http or https URL, or NULL. */
const char	*proxy_from_env(int https);
/* Does host match a no_proxy list ("*", names and domain suffixes)? */
int		 proxy_no_proxy(const char *list, const char *host);
/* The no_proxy list of the environment, or NULL. */
const char	*proxy_no_proxy_env(void);
/* A request in absolute-form for an HTTP proxy, Proxy-Authorization added. */
char		*proxy_absolute_request(const struct proxy *, const struct url *,
		     const char *request, size_t len, size_t *outlen);
/*
 * open_connection through a proxy (NULL: directly): connect to the proxy,
 * open the tunnel to host port, then TLS end to end if opts->tls_ctx.
 * opts->connect_timeout bounds all of it.
 */
void		 proxy_open_connection(struct event_base *, const struct proxy *,
		     const char *host, const char *port,
		     const struct stream_opts *, stream_done_cb, void *);
/*
 * connect -z through a proxy: open a tunnel to host port and close it.
 * OPEN: the proxy connected it; CLOSED: the proxy answered that it could
 * not (SOCKS5 refused or unreachable, an HTTP error status); TIMEOUT: no
 * answer within opts->connect_timeout, or the proxy said so (SOCKS5 TTL
 * expired, HTTP 504); FAILED: the proxy itself failed (unreachable,
 * authentication, protocol), err says how.
 */
enum proxy_probe_result {
	PROXY_PROBE_OPEN,
	PROXY_PROBE_CLOSED,
	PROXY_PROBE_TIMEOUT,
	PROXY_PROBE_FAILED
};
typedef void	(*proxy_probe_cb)(enum proxy_probe_result,
		    const struct stream_error *, void *);
void		 proxy_probe(struct event_base *, const struct proxy *,
		     const char *host, const char *port,
		     const struct stream_opts *, proxy_probe_cb, void *);

#endif /* PROXY_H */
