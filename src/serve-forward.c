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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "net.h"
#include "parse.h"
#include "relay.h"
#include "serve.h"
#include "tls.h"
#include "xmalloc.h"

/*
 * Forward mode, serve --to and --to-unix: each client gets a connection
 * to a back end of its own, and the two sockets are joined by relay.c,
 * the one place that knows when a transfer is over. Here is only what
 * comes before: the back end chosen (in order, or round robin), reached
 * as connect reaches a host (Happy Eyeballs, --resolve, -s, --proxy),
 * the PROXY header sent, TLS started; and the -v lines of the pair.
 */

struct fwd_conn {
	struct client		*cl;		/* NULL once the client is gone */
	struct forward		*f;
	struct event_base	*base;
	struct fwd_target	*t;		/* the back end being tried */
	struct stream		*be;		/* its stream, once connected */
	struct relay		*relay;
	size_t			 first;		/* where this client started */
	size_t			 tried;
	int			 connecting;
	int			 logged;
	const char		*client_end;	/* how each side ended */
	const char		*backend_end;
	unsigned long long	 up;		/* client -> back end */
	unsigned long long	 down;		/* back end -> client */
	char			 why[256];	/* the last back end's failure */
};

static void	fwd_try(struct fwd_conn *);

/* HOST:PORT ("[v6]:PORT", PORT a number or a service), or a unix PATH. */
int
forward_add(struct forward *f, int is_unix, const char *spec,
    const char **cause)
{
	struct fwd_target	 t;
	const char		*colon, *hend, *hstart = spec;
	static char		 msg[300];
	int			 n;

	memset(&t, 0, sizeof t);
	t.is_unix = is_unix;
	if (is_unix) {
		if (*spec == '\0' || (spec[0] == '@' && spec[1] == '\0')) {
			*cause = "empty path";
			return (-1);
		}
		t.host = xstrdup(spec);
		t.label = xstrdup(spec);
		goto add;
	}
	if ((colon = strrchr(spec, ':')) == NULL) {
		*cause = "not HOST:PORT";
		return (-1);
	}
	hend = colon;
	if (spec[0] == '[') {
		if (colon == spec || colon[-1] != ']') {
			*cause = "an IPv6 address goes in brackets: [ADDR]:PORT";
			return (-1);
		}
		hstart = spec + 1;
		hend = colon - 1;
	} else if (memchr(spec, ':', (size_t)(colon - spec)) != NULL) {
		*cause = "an IPv6 address goes in brackets: [ADDR]:PORT";
		return (-1);
	}
	if (hend == hstart) {
		*cause = "empty host name";
		return (-1);
	}
	if ((n = parse_port(colon + 1, 0, cause)) == -1) {
		*cause = parse_port_error(colon + 1, *cause, msg, sizeof msg);
		return (-1);
	}
	xasprintf(&t.host, "%.*s", (int)(hend - hstart), hstart);
	xasprintf(&t.port, "%d", n);
	if (spec[0] == '[')
		xasprintf(&t.label, "[%s]:%s", t.host, t.port);
	else
		xasprintf(&t.label, "%s:%s", t.host, t.port);
add:
	f->targets = xreallocarray(f->targets, f->n + 1, sizeof *f->targets);
	f->targets[f->n++] = t;
	return (0);
}

void
forward_free(struct forward *f)
{
	size_t	i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->targets[i].host);
		free(f->targets[i].port);
		free(f->targets[i].label);
	}
	free(f->targets);
	if (f->opts.tls_ctx != NULL)
		tls_ctx_free(f->opts.tls_ctx);
	proxy_free(&f->proxy);
}

/* The pair's last -v line: bytes each way, how each side ended. */
static void
fwd_log_closed(struct fwd_conn *fc)
{
	char	up[32], down[32];

	if (fc->logged || fc->cl == NULL)
		return;
	fc->logged = 1;
	if (fc->relay != NULL && fc->client_end == NULL) {
		/* The server stops: the pair ends here, still open. */
		fc->up = relay_bytes(fc->relay, RELAY_A_TO_B);
		fc->down = relay_bytes(fc->relay, RELAY_B_TO_A);
	}
	snprintf(up, sizeof up, "%llu", fc->up);
	snprintf(down, sizeof down, "%llu", fc->down);
	log_event("closed", "peer", fc->cl->peer, "backend", fc->t->label,
	    "sent", down, "received", up, "peer_end", fc->client_end != NULL ?
	    fc->client_end : "open", "backend_end", fc->backend_end != NULL ?
	    fc->backend_end : "open", (char *)NULL);
}

static void
fwd_free_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fwd_conn	*fc = arg;

	if (fc->relay != NULL)
		relay_free(fc->relay);
	free(fc);
}

/*
 * The client goes (client_close, through serve_forget): log
 * the pair's end, and let the back end go too. A connect still under way
 * frees us when it calls back.
 */
void
forward_forget(struct client *cl)
{
	struct fwd_conn	*fc = cl->fwd;

	if (fc == NULL)
		return;
	fwd_log_closed(fc);
	fc->cl = NULL;
	cl->fwd = NULL;
	if (fc->be != NULL && fc->connecting) {
		/* The PROXY header's flush: an abort drops its callback. */
		stream_abort(fc->be);
		fc->connecting = 0;
	} else if (fc->be != NULL)
		stream_close(fc->be, NULL, NULL);
	fc->be = NULL;
	if (!fc->connecting)
		event_base_once(fc->base, -1, EV_TIMEOUT, fwd_free_cb, fc,
		    NULL);
}

/*
 * The pair is over, by relay.c's rules, which also chose how each side
 * is to be closed (a reset where the other side was reset): close both.
 */
static void
fwd_relay_done_cb(struct relay *r, const struct relay_report *rep, void *arg)
{
	struct fwd_conn	*fc = arg;
	struct client	*cl = fc->cl;

	fc->client_end = relay_end_name(rep->a_end);
	fc->backend_end = relay_end_name(rep->b_end);
	fc->up = rep->bytes[RELAY_A_TO_B];
	fc->down = rep->bytes[RELAY_B_TO_A];
	client_close(cl, rep->err->kind == STREAM_OK ||
	    rep->err->kind == STREAM_ETIMEOUT);
}

/* Both sockets are up: one -v line, then relay.c joins them. */
static void
fwd_pair_start(struct fwd_conn *fc)
{
	struct client		*cl = fc->cl;
	struct serve		*sv = cl->sv;
	struct relay_opts	 ro;

	log_event("forward", "peer", cl->peer, "backend", fc->t->label,
	    (char *)NULL);
	/* a is the client, b the back end; -x dumps what each sent. */
	memset(&ro, 0, sizeof ro);
	ro.flags = RELAY_PAIR;
	ro.a_to_b = sv->hd ? hexdump_received_cb : NULL;
	ro.b_to_a = sv->hd ? hexdump_sent_cb : NULL;
	ro.filter_arg = cl->hdc;
	fc->relay = relay_start(cl->s, fc->be, &ro, fwd_relay_done_cb, fc);
}

/* Every back end failed for this client: a reset at once, one line. */
static void
fwd_unreachable(struct fwd_conn *fc)
{
	struct client	*cl = fc->cl;

	log_event("unreachable", "peer", cl->peer, "error", fc->why,
	    (char *)NULL);
	fc->logged = 1;
	stream_reset_on_close(cl->s);
	client_close(cl, 0);
}

/* This back end failed: say why, go on with the next one. */
static void
fwd_failed(struct fwd_conn *fc, const struct stream_error *err)
{
	snprintf(fc->why, sizeof fc->why, "%s", err->msg);
	if (fc->be != NULL) {
		stream_abort(fc->be);
		fc->be = NULL;
	}
	if (++fc->tried == fc->f->n) {
		fwd_unreachable(fc);
		return;
	}
	log_event("failover", "peer", fc->cl->peer, "backend", fc->t->label,
	    "error", err->msg, (char *)NULL);
	fwd_try(fc);
}

/* Called back by a connect of ours: is anyone still waiting for it? */
static int
fwd_orphan(struct fwd_conn *fc, struct stream *s)
{
	fc->connecting = 0;
	if (fc->cl != NULL)
		return (0);
	if (s != NULL)
		stream_abort(s);
	if (fc->be != NULL)
		stream_abort(fc->be);
	fc->be = NULL;
	event_base_once(fc->base, -1, EV_TIMEOUT, fwd_free_cb, fc, NULL);
	return (1);
}

static void
fwd_tls_done_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct fwd_conn	*fc = arg;

	if (fwd_orphan(fc, s))
		return;
	if (s == NULL) {
		fwd_failed(fc, err);
		return;
	}
	fc->be = s;
	fwd_pair_start(fc);
}

/* --to-tls: the handshake, after the PROXY header if any. */
static void
fwd_start_tls(struct fwd_conn *fc)
{
	struct stream_opts	o = fc->f->opts;
	struct stream_error	err;
	struct stream		*plain = fc->be;

	if (o.tls_ctx == NULL) {
		fwd_pair_start(fc);
		return;
	}
	/* SNI and the host check on the --to name (not for an address). */
	o.tls_servername = fc->t->host;
	fc->be = NULL;
	fc->connecting = 1;
	if (stream_start_tls(fc->base, plain, fc->t->port, &o, fwd_tls_done_cb,
	    fc, &err) != 0) {
		fc->connecting = 0;
		fwd_failed(fc, &err);
	}
}

static void
fwd_header_sent_cb(struct stream *s, const struct stream_error *err,
    void *arg)
{
	struct fwd_conn	*fc = arg;

	if (fwd_orphan(fc, NULL))
		return;
	if (err->kind != STREAM_OK) {
		fwd_failed(fc, err);
		return;
	}
	fwd_start_tls(fc);
}

/*
 * --send-proxy: the client (as the PROXY header named it, with
 * --accept-proxy) and the address it connected to, in one write before
 * any payload and before a ClientHello.
 */
static void
fwd_send_header(struct fwd_conn *fc)
{
	struct client		*cl = fc->cl;
	struct sockaddr_storage	 src, dst;
	socklen_t		 srclen = sizeof src, dstlen = sizeof dst;
	unsigned char		 hdr[PP_BUILD_MAX];
	size_t			 len;

	memset(&src, 0, sizeof src);
	memset(&dst, 0, sizeof dst);
	if (cl->pp != NULL) {
		src = cl->pp->src;
		srclen = cl->pp->srclen;
		dst = cl->pp->dst;
		dstlen = cl->pp->dstlen;
	} else {
		if (stream_peer_addr(cl->s, &src, &srclen) != 0)
			srclen = 0;
		if (getsockname(stream_fd(cl->s), (struct sockaddr *)&dst,
		    &dstlen) != 0)
			dstlen = 0;
	}
	len = pp_build(fc->f->send_proxy, (struct sockaddr *)&src, srclen,
	    (struct sockaddr *)&dst, dstlen, hdr);
	if (stream_write(fc->be, hdr, len) == -1) {
		fwd_failed(fc, stream_exception(fc->be));
		return;
	}
	fc->connecting = 1;
	stream_flush(fc->be, fwd_header_sent_cb, fc);
}

static void
fwd_connected_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct fwd_conn	*fc = arg;

	if (fwd_orphan(fc, s))
		return;
	if (s == NULL) {
		fwd_failed(fc, err);
		return;
	}
	fc->be = s;
	if (fc->f->send_proxy != 0)
		fwd_send_header(fc);
	else
		fwd_start_tls(fc);
}

/* -s ADDR: connected from it; a stream on the socket. */
static void
fwd_source_done_cb(int fd, const struct stream_error *err, void *arg)
{
	struct fwd_conn		*fc = arg;
	struct stream_opts	 o = fc->f->opts;
	struct stream_error	 e;
	struct stream		*s;

	if (fd == -1) {
		fwd_connected_cb(NULL, err, fc);
		return;
	}
	o.tls_ctx = NULL;
	if ((s = stream_open_fd(fc->base, fd, &o, &e)) == NULL) {
		close(fd);
		fwd_connected_cb(NULL, &e, fc);
		return;
	}
	fwd_connected_cb(s, &e, fc);
}

/*
 * Connect to the next back end, always in the clear: the PROXY header
 * goes first, TLS after it (fwd_start_tls).
 */
static void
fwd_try(struct fwd_conn *fc)
{
	struct forward		*f = fc->f;
	struct stream_opts	 o = f->opts;

	fc->t = &f->targets[(fc->first + fc->tried) % f->n];
	o.tls_ctx = NULL;
	o.tls_servername = NULL;
	fc->connecting = 1;
	if (fc->t->is_unix)
		stream_open_unix_connection(fc->base, fc->t->host, &o,
		    fwd_connected_cb, fc);
	else if (f->src_addr != NULL && !f->use_proxy)
		net_connect_tcp_from(fc->base, fc->t->host, fc->t->port,
		    o.family, f->src_addr, NULL, o.connect_timeout,
		    fwd_source_done_cb, fc);
	else
		proxy_open_connection(fc->base, f->use_proxy ? &f->proxy :
		    NULL, fc->t->host, fc->t->port, &o, fwd_connected_cb, fc);
}

/* A client accepted: find it a back end. */
void
forward_client(struct client *cl)
{
	struct forward	*f = cl->sv->fwd;
	struct fwd_conn	*fc;

	fc = xcalloc(1, sizeof *fc);
	fc->cl = cl;
	fc->f = f;
	fc->base = cl->sv->ctx->base;
	cl->fwd = fc;
	/* Round robin: each client starts one further; failover from there. */
	if (f->rr)
		fc->first = f->next++ % f->n;
	fwd_try(fc);
}
