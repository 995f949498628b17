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
#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "monotime.h"
#include "net.h"
#include "parse.h"
#include "proxy-int.h"
#include "proxy.h"
#include "url.h"
#include "xmalloc.h"

/*
 * Proxies: the URL (scheme://[user[:password]@]host[:port][/]), curl's
 * environment rules, and opening a tunnel: a plain connection to the
 * proxy (Happy Eyeballs and --resolve apply to its name), the handshake
 * of its kind (proxy-http.c, proxy-socks.c), then TLS end to end inside
 * the tunnel (stream-tunnel.c). The whole is bounded by the connect
 * timeout.
 */

#define PROXY_DEFAULT_PORT	"1080"	/* curl's, whatever the scheme */

static const struct stream_error proxy_ok;	/* kind STREAM_OK */

static int
proxy_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* Percent-decode len bytes of s; NULL for a bad escape or a NUL. */
static char *
proxy_decode(const char *s, size_t len)
{
	char	*out, *o;
	size_t	 i;
	int	 hi, lo;

	o = out = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (i + 2 >= len || (hi = proxy_hex(s[i + 1])) == -1 ||
		    (lo = proxy_hex(s[i + 2])) == -1 || (hi == 0 && lo == 0)) {
			free(out);
			return (NULL);
		}
		*o++ = (char)(hi << 4 | lo);
		i += 2;
	}
	*o = '\0';
	return (out);
}

static int
proxy_parse_scheme(const char **s, struct proxy *p, const char **cause)
{
	const char	*sep;

	if ((sep = strstr(*s, "://")) == NULL) {
		p->type = PROXY_HTTP;	/* curl: no scheme is http */
		return (0);
	}
	if ((size_t)(sep - *s) == 4 && strncasecmp(*s, "http", 4) == 0)
		p->type = PROXY_HTTP;
	else if ((size_t)(sep - *s) == 6 && strncasecmp(*s, "socks5", 6) == 0)
		p->type = PROXY_SOCKS5;
	else if ((size_t)(sep - *s) == 7 && strncasecmp(*s, "socks5h", 7) == 0)
		p->type = PROXY_SOCKS5H;
	else {
		*cause = "unsupported scheme (http://, socks5://, socks5h://)";
		return (-1);
	}
	*s = sep + 3;
	return (0);
}

static int
proxy_parse_userinfo(const char **s, struct proxy *p, const char **cause)
{
	const char	*at, *next, *colon, *end;

	end = *s + strcspn(*s, "/?#");
	if ((at = memchr(*s, '@', end - *s)) == NULL)
		return (0);
	/* The last @ ends the user information. */
	while ((next = memchr(at + 1, '@', end - at - 1)) != NULL)
		at = next;
	colon = memchr(*s, ':', at - *s);
	p->user = proxy_decode(*s, (colon != NULL ? colon : at) - *s);
	if (colon != NULL)
		p->pass = proxy_decode(colon + 1, at - colon - 1);
	else
		p->pass = xstrdup("");
	if (p->user == NULL || p->pass == NULL) {
		*cause = "bad percent-encoding in the user information";
		return (-1);
	}
	*s = at + 1;
	return (0);
}

static int
proxy_parse_hostport(const char *s, struct proxy *p, const char **cause)
{
	const char	*end, *hend, *port = NULL;
	size_t		 len;

	end = s + strcspn(s, "/?#");
	if (*s == '[') {
		if ((hend = memchr(s, ']', end - s)) == NULL) {
			*cause = "unterminated [IPv6 address]";
			return (-1);
		}
		p->host = xmalloc(hend - s);
		memcpy(p->host, s + 1, hend - s - 1);
		p->host[hend - s - 1] = '\0';
		hend++;
	} else {
		hend = s + strcspn(s, ":/?#");
		p->host = xmalloc(hend - s + 1);
		memcpy(p->host, s, hend - s);
		p->host[hend - s] = '\0';
	}
	if (*p->host == '\0') {
		*cause = "no host";
		return (-1);
	}
	if (*hend == ':' && hend + 1 < end)
		port = hend + 1;
	else if (hend != end && !(*hend == ':' && hend + 1 == end)) {
		*cause = "junk after the host";
		return (-1);
	}
	len = port != NULL ? (size_t)(end - port) : 0;
	p->port = port != NULL ? xmalloc(len + 1) : xstrdup(PROXY_DEFAULT_PORT);
	if (port != NULL) {
		memcpy(p->port, port, len);
		p->port[len] = '\0';
	}
	if (parse_port(p->port, 0, cause) == -1) {
		*cause = "bad port";
		return (-1);
	}
	if (strchr(p->host, ':') != NULL)
		xasprintf(&p->label, "[%s]:%s", p->host, p->port);
	else
		xasprintf(&p->label, "%s:%s", p->host, p->port);
	return (0);
}

int
proxy_parse(const char *url, struct proxy *out, const char **cause)
{
	struct proxy	p;
	const char	*s = url;

	memset(&p, 0, sizeof p);
	if (proxy_parse_scheme(&s, &p, cause) != 0 ||
	    proxy_parse_userinfo(&s, &p, cause) != 0 ||
	    proxy_parse_hostport(s, &p, cause) != 0) {
		proxy_free(&p);
		return (-1);
	}
	*out = p;
	return (0);
}

void
proxy_free(struct proxy *p)
{
	free(p->host);
	free(p->port);
	free(p->user);
	free(p->pass);
	free(p->label);
	free(p->src_addr);
	free(p->src_port);
	memset(p, 0, sizeof *p);
}

const char *
proxy_scheme(const struct proxy *p)
{
	switch (p->type) {
	case PROXY_HTTP:
		return ("http");
	case PROXY_SOCKS5:
		return ("socks5");
	case PROXY_SOCKS5H:
		return ("socks5h");
	}
	return ("?");
}

static const char *
proxy_getenv(const char *name)
{
	const char	*v = getenv(name);

	return (v != NULL && *v != '\0' ? v : NULL);
}

/*
 * curl's rules: http_proxy in lower case only (HTTP_PROXY could be set by
 * a CGI client's Proxy: header), https_proxy or HTTPS_PROXY, then
 * all_proxy or ALL_PROXY.
 */
const char *
proxy_from_env(int https)
{
	const char	*v;

	if (https) {
		if ((v = proxy_getenv("https_proxy")) != NULL ||
		    (v = proxy_getenv("HTTPS_PROXY")) != NULL)
			return (v);
	} else if ((v = proxy_getenv("http_proxy")) != NULL)
		return (v);
	if ((v = proxy_getenv("all_proxy")) != NULL)
		return (v);
	return (proxy_getenv("ALL_PROXY"));
}

const char *
proxy_no_proxy_env(void)
{
	const char	*v;

	if ((v = getenv("no_proxy")) != NULL)
		return (v);
	return (getenv("NO_PROXY"));
}

/* One no_proxy entry: the name itself or any name under it. */
static int
proxy_no_proxy_one(const char *e, size_t elen, const char *host, size_t hlen)
{
	if (elen > 0 && e[0] == '.') {
		e++;
		elen--;
	}
	if (elen > 0 && e[elen - 1] == '.')
		elen--;
	if (elen == 0)
		return (0);
	if (hlen == elen)
		return (strncasecmp(e, host, elen) == 0);
	return (hlen > elen && host[hlen - elen - 1] == '.' &&
	    strncasecmp(e, host + hlen - elen, elen) == 0);
}

int
proxy_no_proxy(const char *list, const char *host)
{
	const char	*e;
	size_t		 elen, hlen;

	if (list == NULL)
		return (0);
	hlen = strlen(host);
	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	for (e = list; *e != '\0'; e += elen) {
		e += strspn(e, ", \t");
		elen = strcspn(e, ", \t");
		if (elen == 1 && *e == '*')
			return (1);
		if (proxy_no_proxy_one(e, elen, host, hlen))
			return (1);
	}
	return (0);
}

/*
 * Opening a tunnel.
 */
static void
proxy_tunnel_free(struct proxy_tunnel *t)
{
	if (t->timer != NULL)
		event_free(t->timer);
	free(t->host);
	free(t->port);
	free(t->status);
	proxy_free(&t->proxy);
	free(t);
}

/* What the connect timeout has left, at least a millisecond; 0: none. */
static double
proxy_time_left(struct proxy_tunnel *t)
{
	double	left;

	if (t->opts.connect_timeout <= 0)
		return (0);
	left = t->opts.connect_timeout -
	    (double)(monotime_ms() - t->start_ms) / 1000;
	return (left < 0.001 ? 0.001 : left);
}

/* The tunnel's end, for whoever asked: a stream, or a probe's verdict. */
static void
proxy_tunnel_finish(struct proxy_tunnel *t, struct stream *s,
    const struct stream_error *err)
{
	if (t->probe_cb != NULL) {
		if (s != NULL)
			stream_abort(s);
		t->probe_cb(s != NULL ? PROXY_PROBE_OPEN : t->verdict, err,
		    t->arg);
	} else
		t->cb(s, err, t->arg);
	proxy_tunnel_free(t);
}

static void
proxy_tls_done_cb(struct stream *s, const struct stream_error *err,
    void *arg)
{
	proxy_tunnel_finish(arg, s, err);
}

/*
 * A handshake's end (proxy-http.c, proxy-socks.c): err NULL when the
 * tunnel is open.
 */
void
proxy_tunnel_done(struct proxy_tunnel *t, const struct stream_error *err)
{
	struct stream_opts	 o;
	struct stream_error	 e;
	struct stream		*s = t->s;

	t->s = NULL;
	if (t->timer != NULL)
		evtimer_del(t->timer);
	if (err != NULL && err->kind != STREAM_OK) {
		stream_abort(s);
		proxy_tunnel_finish(t, NULL, err);
		return;
	}
	if (log_verbose() && t->probe_cb == NULL)
		log_event("tunnel", "proxy", t->proxy.label, "target",
		    t->host, "port", t->port, (char *)NULL);
	if (t->opts.tls_ctx == NULL || t->probe_cb != NULL) {
		proxy_tunnel_finish(t, s, &proxy_ok);
		return;
	}
	/* The handshake in the tunnel, before the caller sees a stream. */
	o = t->opts;
	o.connect_timeout = proxy_time_left(t);
	if (o.tls_servername == NULL)
		o.tls_servername = t->host;
	if (stream_start_tls(t->base, s, t->port, &o, proxy_tls_done_cb, t,
	    &e) != 0)
		proxy_tunnel_finish(t, NULL, &e);
}

/* "proxy LABEL: " and the message: the one failure of both handshakes. */
void
proxy_fail(struct proxy_tunnel *t, enum stream_errkind kind, int sys,
    const char *fmt, ...)
{
	struct stream_error	err;
	char			buf[sizeof err.msg];
	va_list			ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	stream_error_set(&err, kind, sys, "proxy %s: %s", t->proxy.label, buf);
	proxy_tunnel_done(t, &err);
}

static void
proxy_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct proxy_tunnel	*t = arg;
	struct stream_error	 err;
	char			 hp[300];

	stream_error_set(&err, STREAM_ETIMEOUT, ETIMEDOUT, "proxy %s: timed "
	    "out opening the tunnel to %s", t->proxy.label,
	    net_hostport(t->host, t->port, hp, sizeof hp));
	t->verdict = PROXY_PROBE_TIMEOUT;
	proxy_tunnel_done(t, &err);
}

static void
proxy_connected_cb(struct stream *s, const struct stream_error *err,
    void *arg)
{
	struct proxy_tunnel	*t = arg;
	struct stream_error	 e;
	struct timeval		 tv;
	double			 left;

	if (s == NULL) {
		stream_error_set(&e, err->kind, err->sys, "proxy %s: %s",
		    t->proxy.label, err->msg);
		proxy_tunnel_finish(t, NULL, &e);
		return;
	}
	t->s = s;
	if (log_verbose() && t->probe_cb == NULL)
		log_event("proxy", "proxy", t->proxy.label, "scheme",
		    proxy_scheme(&t->proxy), "target", t->host, "port",
		    t->port, (char *)NULL);
	/* No --connect-timeout: the handshake gets what TLS would get. */
	if ((left = proxy_time_left(t)) == 0)
		left = STREAM_PHASE_TIMEOUT;
	t->timer = evtimer_new(t->base, proxy_timeout_cb, t);
	monotime_tv(left, &tv);
	if (t->timer != NULL)
		evtimer_add(t->timer, &tv);
	if (t->proxy.type == PROXY_HTTP)
		proxy_http_handshake(t);
	else
		proxy_socks_handshake(t);
}

/* Connected to the proxy from -s ADDR / -p PORT: a plain stream on it. */
static void
proxy_source_done_cb(int fd, const struct stream_error *err, void *arg)
{
	struct proxy_tunnel	*t = arg;
	struct stream_opts	 plain;
	struct stream_error	 e;
	struct stream		*s;

	if (fd == -1) {
		proxy_connected_cb(NULL, err, t);
		return;
	}
	plain = t->opts;
	plain.tls_ctx = NULL;
	if ((s = stream_open_fd(t->base, fd, &plain, &e)) == NULL) {
		close(fd);
		proxy_connected_cb(NULL, &e, t);
		return;
	}
	proxy_connected_cb(s, &proxy_ok, t);
}

static char *
proxy_strdup(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

/* Connect to the proxy; the handshake follows in proxy_connected_cb. */
static void
proxy_tunnel_start(struct event_base *base, const struct proxy *p,
    const char *host, const char *port, const struct stream_opts *opts,
    struct proxy_tunnel *t)
{
	struct stream_opts	 plain;

	t->base = base;
	t->proxy.type = p->type;
	t->proxy.host = xstrdup(p->host);
	t->proxy.port = xstrdup(p->port);
	t->proxy.user = proxy_strdup(p->user);
	t->proxy.pass = proxy_strdup(p->pass);
	t->proxy.label = xstrdup(p->label);
	t->host = xstrdup(host);
	t->port = xstrdup(port);
	t->opts = *opts;
	t->start_ms = monotime_ms();
	t->verdict = PROXY_PROBE_FAILED;
	if (p->src_addr != NULL || p->src_port != NULL) {
		/* nc -s with -x: the source is the proxy connection's. */
		net_connect_tcp_from(base, p->host, p->port, opts->family,
		    p->src_addr, p->src_port, opts->connect_timeout,
		    proxy_source_done_cb, t);
		return;
	}
	plain = *opts;
	plain.tls_ctx = NULL;
	plain.tls_servername = NULL;
	stream_open_connection(base, p->host, p->port, &plain,
	    proxy_connected_cb, t);
}

void
proxy_open_connection(struct event_base *base, const struct proxy *p,
    const char *host, const char *port, const struct stream_opts *opts,
    stream_done_cb cb, void *arg)
{
	struct proxy_tunnel	*t;

	if (p == NULL) {
		stream_open_connection(base, host, port, opts, cb, arg);
		return;
	}
	t = xcalloc(1, sizeof *t);
	t->cb = cb;
	t->arg = arg;
	proxy_tunnel_start(base, p, host, port, opts, t);
}

void
proxy_probe(struct event_base *base, const struct proxy *p, const char *host,
    const char *port, const struct stream_opts *opts, proxy_probe_cb cb,
    void *arg)
{
	struct proxy_tunnel	*t;
	struct stream_opts	 o;

	t = xcalloc(1, sizeof *t);
	t->probe_cb = cb;
	t->arg = arg;
	o = *opts;
	o.tls_ctx = NULL;	/* open is the proxy's word: no TLS */
	proxy_tunnel_start(base, p, host, port, &o, t);
}
