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
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>	/* TCP_INFO */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "error.h"
#include "stream.h"
#include "stream-int.h"
#include "tls.h"

/*
 * The TLS transport: a libevent openssl bufferevent over a connected
 * socket for the handshake and writes, our own SSL_read loop for reads
 * (tls_reading), and its constructor, stream_new_tls. tls.c makes the SSL
 * and words its errors.
 */

static void	tls_reading(struct stream *);
static void	tls_shutdown(struct stream *);
static void	tls_fail(struct stream *);
static void	tls_handshake_done(struct stream *,
		    const struct stream_error *);

/* Writes go through the bufferevent: no kick, libevent sends them. */
static struct evbuffer	*tls_output(struct stream *);
static void		 tls_watermark(struct stream *);
static void		 tls_close(struct stream *);
static int		 tls_peercert_op(struct stream *, char *, size_t);
static SSL		*tls_ssl_op(struct stream *);

static const struct stream_ops stream_tls_ops = {
	.reading = tls_reading,
	.shutdown = tls_shutdown,
	.fail = tls_fail,
	.handshake_done = tls_handshake_done,
	.output = tls_output,
	.watermark = tls_watermark,
	.close = tls_close,
	.peercert = tls_peercert_op,
	.ssl = tls_ssl_op
};

/* Writes queue in the bufferevent's output, which sends on its own. */
static struct evbuffer *
tls_output(struct stream *s)
{
	return (bufferevent_get_output(s->bev));
}

/*
 * The bufferevent calls back at its low-water mark: the drain's, or 0
 * when all must go (a close, a write_eof, a flush).
 */
static void
tls_watermark(struct stream *s)
{
	size_t	low = 0;

	if (s->bev == NULL)
		return;
	if (s->drain_cb != NULL && !s->closing && !s->eof_wanted)
		low = stream_drain_low(s);
	bufferevent_setwatermark(s->bev, EV_WRITE, low, 0);
}

/*
 * An orderly close, the queue empty: close_notify, which libevent never
 * sends itself (doc/libevent-notes.md, fact 7); not after a write_eof
 * sent one already, a failure, or in the middle of a handshake.
 */
static void
tls_close(struct stream *s)
{
	if (!s->failed && !s->eof_done && !s->handshaking && s->bev != NULL)
		SSL_shutdown(bufferevent_openssl_get_ssl(s->bev));
}

/* asyncio's "ssl_object", for what the handshake agreed (tls.c). */
static SSL *
tls_ssl_op(struct stream *s)
{
	if (s->bev == NULL || s->handshaking)
		return (NULL);
	return (bufferevent_openssl_get_ssl(s->bev));
}

static int
tls_peercert_op(struct stream *s, char *buf, size_t len)
{
	if (s->bev == NULL || s->handshaking)
		return (-1);
	return (tls_peercert(bufferevent_openssl_get_ssl(s->bev), buf, len));
}

/*
 * Once the handshake is done, reading is ours: the bufferevent takes one
 * TLS record (at most 16 KiB) per wakeup with two read(2) calls for it
 * (header, then body), and a third trip through epoll for the next.
 * Here OpenSSL reads ahead TLS_READ_AHEAD bytes per read(2) and we take
 * every record it holds, up to STREAM_READ_MAX per wakeup. Writing (and
 * the handshake) stays with the bufferevent: SSL_read never needs to
 * write with renegotiation off, except to answer a TLS 1.3 KeyUpdate,
 * which then waits for writability (tls_wait_writable).
 */
#define TLS_READ_AHEAD		(64 * 1024)
#define TLS_READ_CHUNK		(64 * 1024)

static void
tls_reading(struct stream *s)
{
	int	want = stream_reading_wanted(s);

	if (s->bev == NULL || s->handshaking || s->rev == NULL)
		return;
	if (want && !s->rev_on) {
		if (event_add(s->rev, NULL) != 0)
			return;
		s->rev_on = 1;
		/* Records OpenSSL read ahead leave the socket unreadable. */
		if (SSL_has_pending(bufferevent_openssl_get_ssl(s->bev)))
			event_active(s->rev, EV_READ, 1);
	} else if (!want && s->rev_on) {
		event_del(s->rev);
		s->rev_on = 0;
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
	if (s->rev != NULL)
		event_del(s->rev);
	if (s->wev != NULL)
		event_del(s->wev);
	s->rev_on = s->wev_on = 0;
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
	stream_count_in(s, len);
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

static int	tls_peer_reset(struct stream *);

/*
 * A read failed: OpenSSL's reason, the socket's errno (a reset reads as
 * over plain TCP), or a lost connection.
 */
static void
tls_read_failed(struct stream *s, int sys)
{
	struct stream_error	err;
	char			why[256];

	if (ERR_peek_error() == 0 && sys != 0) {
		stream_fail_errno(s, "read", "from", sys);
		return;
	}
	if (ERR_peek_error() != 0) {
		tls_error_words(bufferevent_openssl_get_ssl(s->bev),
		    ERR_peek_error(), why, sizeof why);
		stream_error_set(&err, STREAM_ETLS, 0, "read from %s: %s",
		    stream_label(s), why);
	}
	else
		stream_error_set(&err, STREAM_ERESET, ECONNRESET, "read from "
		    "%s: connection lost", stream_label(s));
	ERR_clear_error();
	transport_fail(s, &err);
}

/* The peer closed TCP in the middle of a record. */
static void
tls_truncated(struct stream *s)
{
	struct stream_error	err;

	ERR_clear_error();
	stream_error_set(&err, STREAM_ESYS, EBADMSG, "read from %s: TLS stream "
	    "truncated", stream_label(s));
	transport_fail(s, &err);
}

/*
 * SSL_read into one chain of rbuf until it is full or OpenSSL has nothing
 * more (each call returns at most one record). Returns the bytes read;
 * *st is SSL_ERROR_NONE when the chain filled, else why it stopped.
 */
static size_t
tls_read_chunk(struct stream *s, SSL *ssl, int *st, int *sys)
{
	struct evbuffer_iovec	v;
	size_t			got = 0, at;
	int			r;

	*st = SSL_ERROR_SSL;	/* no memory: "connection lost" */
	if (evbuffer_reserve_space(s->rbuf, s->want - STREAM_CHAIN_HEADER,
	    &v, 1) != 1)
		return (0);
	*st = SSL_ERROR_NONE;
	if (v.iov_len > s->want)
		v.iov_len = s->want;
	ERR_clear_error();
	while (got < v.iov_len) {
		r = SSL_read(ssl, (char *)v.iov_base + got, v.iov_len - got);
		if (r <= 0) {
			*sys = errno;
			*st = SSL_get_error(ssl, r);
			break;
		}
		got += (size_t)r;
	}
	v.iov_len = got;
	at = evbuffer_get_length(s->rbuf);
	evbuffer_commit_space(s->rbuf, &v, got > 0);
	if (got > 0)
		reader_fed(s, at, v.iov_base, got);
	return (got);
}

/*
 * Chunks of rbuf start small (a short message takes 4 KiB, not 64) and
 * double while they fill, back down when a wakeup used an eighth of one,
 * as stream-fd.c sizes its reads.
 */
static void
tls_adapt(struct stream *s, size_t got, int filled)
{
	if (filled && s->want < TLS_READ_CHUNK)
		s->want *= 2;
	else if (!filled && got <= s->want / 8 && s->want > STREAM_READ_MIN)
		s->want /= 2;
}

static void
tls_writable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream	*s = arg;

	s->wev_on = 0;
	if (s->rev_on)
		event_active(s->rev, EV_READ, 1);
}

/* SSL_read has a KeyUpdate answer to send: read again once it can go. */
static void
tls_wait_writable(struct stream *s)
{
	if (s->wev == NULL && (s->wev = event_new(s->base, s->wfd, EV_WRITE,
	    tls_writable_cb, s)) == NULL) {
		stream_fail_errno(s, "read", "from", ENOMEM);
		return;
	}
	if (!s->wev_on && event_add(s->wev, NULL) == 0)
		s->wev_on = 1;
}

/*
 * EOF: close_notify, or a TCP close without it (a truncation). With
 * SSL_OP_IGNORE_UNEXPECTED_EOF, OpenSSL marks both as a received
 * shutdown: only the alert itself (tls_info_cb) tells them apart.
 */
static void
tls_note_eof(struct stream *s, SSL *ssl)
{
	s->eof = 1;
	if (!s->notified)
		s->truncated = 1;
}

/* The peer's close_notify alert was read. */
static void
tls_info_cb(const SSL *ssl, int where, int ret)
{
	struct stream	*s;

	if (!(where & SSL_CB_READ_ALERT) || (ret & 0xff) != SSL_AD_CLOSE_NOTIFY)
		return;
	if ((s = SSL_get_app_data((SSL *)ssl)) != NULL)
		s->notified = 1;
}

/*
 * The socket is readable, or OpenSSL holds records read ahead: take them
 * up to STREAM_READ_MAX per wakeup, and while flow control allows.
 */
static void
tls_readable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream	*s = arg;
	SSL		*ssl = bufferevent_openssl_get_ssl(s->bev);
	size_t		 total = 0, cap;
	int		 st = SSL_ERROR_NONE, sys = 0;

	stream_hold(s);
	cap = stream_sat_add(stream_limit2(s), STREAM_READ_SLACK);
	while (st == SSL_ERROR_NONE && total < STREAM_READ_MAX &&
	    stream_reading_wanted(s) && (s->op.kind != OP_NONE ||
	    evbuffer_get_length(s->rbuf) < cap))
		total += tls_read_chunk(s, ssl, &st, &sys);
	if (total > 0) {
		stream_count_in(s, total);
		stream_touch(s);
	}
	tls_adapt(s, total, st == SSL_ERROR_NONE);
	if (st == SSL_ERROR_ZERO_RETURN && tls_peer_reset(s)) {
		/* An EOF that was a reset: what came before it, then fail. */
		ERR_clear_error();
		st = SSL_ERROR_SYSCALL;
		sys = ECONNRESET;
	}
	if (st == SSL_ERROR_ZERO_RETURN && SSL_has_pending(ssl)) {
		/*
		 * A TCP EOF is end-of-stream only at a record boundary: a
		 * record begun and never ended is proof of truncation.
		 */
		if (total > 0)
			reader_dispatch(s);
		if (!s->dead)
			tls_truncated(s);
		stream_release(s);
		return;
	}
	if (st == SSL_ERROR_ZERO_RETURN) {
		/* close_notify, or TCP EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
		ERR_clear_error();
		tls_note_eof(s, ssl);
	} else if (st == SSL_ERROR_WANT_WRITE)
		tls_wait_writable(s);
	else if (st != SSL_ERROR_NONE && st != SSL_ERROR_WANT_READ) {
		if (total > 0)
			reader_dispatch(s);
		if (!s->dead)
			tls_read_failed(s, sys);
		stream_release(s);
		return;
	}
	if (total > 0 || s->eof)
		reader_dispatch(s);
	/* The budget ran out with records in OpenSSL: epoll will not say. */
	if (!s->dead && st == SSL_ERROR_NONE && s->rev_on &&
	    stream_reading_wanted(s) && SSL_has_pending(ssl))
		event_active(s->rev, EV_READ, 1);
	stream_release(s);
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
	/*
	 * Reading moves from the bufferevent to tls_readable_cb; what the
	 * bufferevent read before that comes first.
	 */
	bufferevent_disable(s->bev, EV_READ);
	tls_take_input(s);
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

	if (ssl != NULL && (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN) &&
	    (SSL_get_options(ssl) & SSL_OP_IGNORE_UNEXPECTED_EOF) == 0)
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
		tls_note_eof(s, bufferevent_openssl_get_ssl(bev));
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
	/*
	 * Read ahead: one read(2) brings in many records rather than two
	 * calls per record (tls_reading). RELEASE_BUFFERS: the write
	 * buffer goes back to malloc after each write, the read buffer once
	 * drained (the wakeup's last SSL_read, which finds the socket empty,
	 * takes one again); measured, 20% less memory per idle connection.
	 */
	SSL_set_read_ahead(ssl, 1);
	SSL_set_default_read_buffer_len(ssl, TLS_READ_AHEAD);
	SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	SSL_set_app_data(ssl, s);
	SSL_set_info_callback(ssl, tls_info_cb);
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
	s->rev = event_new(base, fd, EV_READ|EV_PERSIST, tls_readable_cb, s);
	if (s->rev == NULL || stream_new_timer(s, idle_timeout) != 0) {
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
