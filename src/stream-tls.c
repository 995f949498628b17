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

/* config.h first: its _GNU_SOURCE shapes the headers. */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>	/* SIOCOUTQ */
#include <netinet/in.h>
#include <netinet/tcp.h>	/* TCP_INFO */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "compat.h"
#include "error.h"
#include "net.h"
#include "stream.h"
#include "stream-int.h"
#include "tls.h"
#include "xmalloc.h"

/*
 * The TLS transport: a libevent openssl bufferevent over a connected
 * socket (tls.c makes the SSL and words its errors), and its constructor,
 * stream_new_tls.
 */

static void	tls_reading(struct stream *);
static void	tls_shutdown(struct stream *);
static void	tls_fail(struct stream *);
static void	tls_handshake_done(struct stream *,
		    const struct stream_error *);

/* Writes go through the bufferevent: no kick, libevent sends them. */
static const struct stream_ops stream_tls_ops = {
	.reading = tls_reading,
	.shutdown = tls_shutdown,
	.fail = tls_fail,
	.handshake_done = tls_handshake_done
};

/*
 * The TLS transport: a libevent openssl bufferevent over the socket.
 */
static void
tls_reading(struct stream *s)
{
	int	want = stream_reading_wanted(s);

	if (s->bev == NULL || s->handshaking)
		return;
	if (want && !s->reading) {
		bufferevent_enable(s->bev, EV_READ);
		s->reading = 1;
	} else if (!want && s->reading) {
		bufferevent_disable(s->bev, EV_READ);
		s->reading = 0;
	}
}

/*
 * A TLS-level half close (doc/libevent-notes.md, section 6); reading goes
 * on.
 */
static void
tls_shutdown(struct stream *s)
{
	SSL_shutdown(bufferevent_openssl_get_ssl(s->bev));
}

static void
tls_fail(struct stream *s)
{
	bufferevent_disable(s->bev, EV_READ|EV_WRITE);
	s->reading = 0;
}

static void
tls_take_input(struct stream *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->bev);
	struct evbuffer_iovec	 v[8];
	size_t			 len, at, n;
	int			 i, nv;

	if ((len = evbuffer_get_length(in)) == 0)
		return;
	at = evbuffer_get_length(s->rbuf);
	if (reader_scanning(s, at)) {
		nv = evbuffer_peek(in, -1, NULL, v, 8);
		if (nv > 8)
			nv = 8;	/* the rest is scanned from rbuf */
		for (i = 0; i < nv; i++) {
			n = v[i].iov_len;
			reader_fed(s, at, v[i].iov_base, n);
			at += n;
		}
	}
	evbuffer_add_buffer(s->rbuf, in);
	s->bytes_in += len;
	stream_touch(s);
}

static void
tls_read_cb(struct bufferevent *bev, void *arg)
{
	struct stream	*s = arg;

	stream_hold(s);
	tls_take_input(s);
	reader_dispatch(s);
	stream_release(s);
}

static void
tls_write_cb(struct bufferevent *bev, void *arg)
{
	writer_progress(arg);
}

static void
tls_output_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct stream	*s = arg;

	if (info->n_deleted > 0) {
		s->bytes_out += info->n_deleted;
		stream_touch(s);
	}
}

/*
 * libevent keeps the OpenSSL errors it met in a queue of its own; put them
 * back in OpenSSL's (oldest first) for tls.c's reading of them.
 */
static void
tls_requeue_errors(struct stream *s)
{
	unsigned long	e[8];
	int		n = 0;

	ERR_clear_error();
	while (n < 8 && (e[n] = bufferevent_get_openssl_error(s->bev)) != 0) {
		/* Skip the raw SSL_get_error() codes libevent mixes in. */
		if (ERR_GET_LIB(e[n]) != 0)
			n++;
	}
	while (n-- > 0)
		ERR_raise(ERR_GET_LIB(e[n]), ERR_GET_REASON(e[n]));
}

static void
tls_handshake_done(struct stream *s, const struct stream_error *err)
{
	stream_done_cb	 cb = s->hs_cb;
	void		*arg = s->hs_arg;

	s->handshaking = 0;
	s->hs_cb = NULL;
	if (s->tev != NULL)
		event_del(s->tev);
	if (err != NULL && err->kind != STREAM_OK) {
		if (cb != NULL)
			cb(s, err, arg);
		else
			transport_fail(s, err);
		return;
	}
	if (s->idle_ms != 0) {
		stream_touch(s);
		stream_timer_arm(s, s->idle_ms);
	}
	stream_reading_update(s);
	writer_progress(s);	/* a write_eof or close may be waiting */
	if (cb != NULL)
		cb(s, &stream_ok, arg);
}

/* The write side is gone: the stream fails as a socket write would. */
static void
tls_write_lost(struct stream *s)
{
	struct stream_error	err;

	ERR_clear_error();
	stream_error_set(&err, STREAM_ERESET, EPIPE, "write to %s: connection "
	    "lost", stream_label(s));
	s->wfailed = 1;
	transport_fail(s, &err);
}

/*
 * libevent reports a peer's reset as a "dirty shutdown", the same EOF as
 * a TCP close without close_notify (allowed: most HTTPS servers close
 * that way), and errno is gone by the time the event runs. A reset
 * leaves the socket in TCP_CLOSE where a FIN leaves it in CLOSE_WAIT: a
 * reset must fail the stream as it does over plain TCP, never pass for
 * a complete transfer.
 */
static int
tls_peer_reset(struct stream *s)
{
	struct tcp_info	ti;
	socklen_t	len = sizeof ti;
	SSL		*ssl = bufferevent_openssl_get_ssl(s->bev);

	if (ssl != NULL && (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN))
		return (0);
	if (getsockopt(s->rfd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return (0);	/* a unix socket: no reset to tell */
	return (ti.tcpi_state == TCP_CLOSE);
}

static void
tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct stream		*s = arg;
	struct stream_error	 err;
	const char		*dir;

	stream_hold(s);
	if (what & BEV_EVENT_CONNECTED)
		tls_handshake_done(s, NULL);
	else if (s->handshaking) {
		tls_requeue_errors(s);
		tls_handshake_error(bufferevent_openssl_get_ssl(bev), &err);
		tls_handshake_done(s, &err);
	} else if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_WRITING)) {
		/*
		 * A "dirty shutdown" met while writing is a peer that reset
		 * or left (EPIPE): nothing queued can go any more, and
		 * enabling EV_WRITE again would only meet it again, forever.
		 */
		tls_take_input(s);
		tls_write_lost(s);
	} else if ((what & BEV_EVENT_EOF) && tls_peer_reset(s)) {
		tls_take_input(s);
		reader_dispatch(s);	/* what came before the reset */
		stream_fail_errno(s, "read", "from", ECONNRESET);
	} else if (what & BEV_EVENT_EOF) {
		tls_take_input(s);
		s->eof = 1;
		/* libevent stopped writing too; what is queued may still go. */
		if (stream_wlen(s) > 0)
			bufferevent_enable(bev, EV_WRITE);
		reader_dispatch(s);
	} else if (what & (BEV_EVENT_ERROR|BEV_EVENT_TIMEOUT)) {
		tls_take_input(s);
		tls_requeue_errors(s);
		dir = (what & BEV_EVENT_WRITING) ? "write to" : "read from";
		if (ERR_peek_error() != 0) {
			stream_error_set(&err, STREAM_ETLS, 0, "%s %s: %s", dir,
			    stream_label(s),
			    ERR_reason_error_string(ERR_peek_error()));
		} else {
			stream_error_set(&err, STREAM_ERESET, ECONNRESET,
			    "%s %s: connection lost", dir, stream_label(s));
		}
		ERR_clear_error();
		transport_fail(s, &err);
	}
	stream_release(s);
}

/*
 * Wrap a connected socket in TLS. On failure the socket and ssl are
 * closed and freed, and err says why. hs_cb gets the handshake's result
 * (NULL: a failure becomes the stream's exception).
 */
struct stream *
stream_new_tls(struct event_base *base, int fd, SSL *ssl, int server,
    size_t limit, double idle_timeout, double hs_timeout, stream_done_cb hs_cb,
    void *hs_arg, struct stream_error *err)
{
	struct stream	*s;

	if ((s = stream_alloc(base, limit)) == NULL) {
		SSL_free(ssl);
		goto nomem;
	}
	s->kind = STREAM_TLS;
	s->ops = &stream_tls_ops;
	s->bev = bufferevent_openssl_socket_new(base, fd, ssl, server ?
	    BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE|BEV_OPT_DEFER_CALLBACKS);
	if (s->bev == NULL) {
		/* libevent has freed the SSL (CLOSE_ON_FREE), not the fd. */
		s->dead = 1;
		stream_destroy(s);
		goto nomem;
	}
	s->rfd = s->wfd = fd;
	s->rsock = s->wsock = s->rpoll = s->wpoll = 1;
	s->wbuf = bufferevent_get_output(s->bev);
	s->handshaking = 1;
	s->hs_cb = hs_cb;
	s->hs_arg = hs_arg;
	stream_set_peer(s, fd);
	bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	bufferevent_set_max_single_write(s->bev, STREAM_TLS_MAX_WRITE);
	bufferevent_setcb(s->bev, tls_read_cb, tls_write_cb, tls_event_cb, s);
	evbuffer_add_cb(s->wbuf, tls_output_cb, s);
	bufferevent_enable(s->bev, EV_READ|EV_WRITE);
	s->reading = 1;
	if (stream_new_timer(s, idle_timeout) != 0) {
		stream_abort(s);	/* closes fd, frees ssl */
		stream_error_set(err, STREAM_ESYS, ENOMEM, "tls: %s",
		    strerror(ENOMEM));
		return (NULL);
	}
	stream_timer_arm(s, stream_secs_ms(hs_timeout > 0 ? hs_timeout :
	    STREAM_HANDSHAKE_TIMEOUT));
	return (s);

nomem:
	close(fd);
	stream_error_set(err, STREAM_ESYS, ENOMEM, "tls: %s", strerror(ENOMEM));
	return (NULL);
}
