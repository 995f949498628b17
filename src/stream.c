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

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>


#include "compat.h"
#include "error.h"
#include "monotime.h"
#include "net.h"
#include "stream.h"
#include "stream-int.h"
#include "timing.h"
#include "tls.h"
#include "xmalloc.h"

/*
 * The stream module: asyncio's StreamReader and StreamWriter over three
 * transports.
 *
 * "fd": a socket, or a pair of descriptors (stdin/stdout). No bufferevent:
 * a socket bufferevent reads 4096 bytes per wakeup on libevent 2.1.12
 * (doc/libevent-notes.md, fact 1), so reads go through our own persistent
 * EV_READ event into evbuffer_reserve_space() + readv(), sized per stream.
 * Writes are tried at once, as asyncio's transport.write() does, and only
 * what the kernel refuses waits for an EV_WRITE event. Descriptors epoll
 * cannot watch (regular files, /dev/null) get blocking I/O, one chunk per
 * loop pass. "tls": a libevent openssl bufferevent for the handshake and
 * writes; after the handshake, reads are ours (SSL_read with read-ahead,
 * many records per wakeup: stream-tls.c). "detached": a reader fed by
 * hand. Between two fd transports, stream_transfer() moves bulk data in
 * the kernel (splice, sendfile) with events of its own (stream-xfer.c).
 *
 * The reader keeps one pending operation. Completion goes through a
 * trampoline (reader_dispatch): a callback that starts the next operation
 * returns first, and the loop runs the new one, so a buffer of many lines
 * never recurses. Separators are found by a streaming matcher (KMP, with
 * memchr for the first byte) fed each byte once, as it arrives, so a
 * record trickling in byte by byte costs linear time.
 *
 * Nothing here calls a user callback from inside a write: failures found
 * while writing, drain and close completions are handed over from an
 * event made active (stream_notify), so a caller of stream_write() never
 * finds its stream freed under it. Streams are reference-counted while
 * our own code runs on them; stream_abort() from any callback marks the
 * stream dead and the last holder frees it.
 *
 * The files, each calling only the ones above it in this list:
 *
 *	stream.c	 the core: lifetime, labels, state, information
 *	stream-reader.c	 the reader and its separator matcher
 *	stream-event.c	 allocation, failures, timers, deferred work
 *	stream-writer.c	 the writer: queue, drain, flush, write_eof, close
 *	stream-fd.c	 the fd transport
 *	stream-tls.c	 the TLS transport
 *	stream-xfer.c	 kernel-side transfers (splice, sendfile)
 *	stream-server.c	 connections, servers and the other constructors
 *
 * A lower file reaches a transport through s->ops (struct stream_ops)
 * and a transfer through s->xops, never by name (stream-int.h).
 */

const struct stream_error stream_ok;
const struct timeval stream_tv_zero;

/* The constant errors of stream-int.h: a kind, an errno, a message. */
#define STREAM_ERROR_DEFINE(name, kind, sys, msg)			\
	const struct stream_error name = { kind, sys, 0, 0, msg }

STREAM_ERROR_DEFINE(stream_err_detached, STREAM_ECLOSED, ENOTCONN,
    "write: the stream has no transport");
STREAM_ERROR_DEFINE(stream_err_closing, STREAM_ECLOSED, EPIPE,
    "write: the stream is closing");
STREAM_ERROR_DEFINE(stream_err_eof, STREAM_ECLOSED, EPIPE,
    "write: write_eof() was called");
STREAM_ERROR_DEFINE(stream_err_readonly, STREAM_ECLOSED, EBADF,
    "write: the stream has no write side");
STREAM_ERROR_DEFINE(stream_err_noeof, STREAM_ECLOSED, EOPNOTSUPP,
    "write_eof: not possible on this stream");
STREAM_ERROR_DEFINE(stream_err_lost, STREAM_ERESET, ECONNRESET,
    "write: connection lost");
STREAM_ERROR_DEFINE(stream_err_nofile, STREAM_ESYS, EBADF,
    "write: cannot send the file");
STREAM_ERROR_DEFINE(stream_err_xfer_write, STREAM_ECLOSED, EBUSY,
    "write: a transfer is in progress");

uint64_t
stream_secs_ms(double secs)
{
	if (secs <= 0)
		return (0);
	if (secs > NET_TIMEOUT_MAX)
		secs = NET_TIMEOUT_MAX;
	if (secs < 0.001)
		return (1);
	return ((uint64_t)(secs * 1000));
}

/* a + b, saturating: a limit near SIZE_MAX must not wrap. */
size_t
stream_sat_add(size_t a, size_t b)
{
	return (a > SIZE_MAX - b ? SIZE_MAX : a + b);
}

size_t
stream_limit2(struct stream *s)
{
	return (stream_sat_add(s->limit, s->limit));
}

/* evbuffer_new() or, as xmalloc, exit: out of memory is not recoverable. */
struct evbuffer *
stream_evbuffer_new(void)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL) {
		fprintf(stderr, "cstream: out of memory allocating a buffer\n");
		exit(1);
	}
	return (b);
}

/* An fd stream's write buffer, with the flag stream_wbuf's caller needs. */
struct evbuffer *
stream_wbuf_new(struct stream *s)
{
	s->wbuf = stream_evbuffer_new();
	/* evbuffer_add_file() then goes out with sendfile(2). */
	evbuffer_set_flags(s->wbuf, EVBUFFER_FLAG_DRAINS_TO_FD);
	return (s->wbuf);
}

/* The peer for messages: its address, or "peer" when it has none. */
const char *
stream_label(struct stream *s)
{
	return (s->peer != NULL && *s->peer != '\0' ? s->peer : "peer");
}

void
stream_touch(struct stream *s)
{
	if (s->idle_ms != 0)
		s->last_ms = monotime_ms();
}

/*
 * Lifetime. stream_hold() around any of our code that calls the user;
 * stream_kill() stops everything at once; the memory goes when the last
 * holder lets go.
 */
void
stream_hold(struct stream *s)
{
	s->refs++;
}

void
stream_destroy(struct stream *s)
{
	if (s->rev != NULL)
		event_free(s->rev);
	if (s->wev != NULL)
		event_free(s->wev);
	if (s->nev != NULL)
		event_free(s->nev);
	if (s->tev != NULL)
		event_free(s->tev);
	if (s->rbuf != NULL)
		evbuffer_free(s->rbuf);
	if (s->result != NULL)
		evbuffer_free(s->result);
	/* Ours only: a TLS transport's went with its bufferevent. */
	if (s->wbuf != NULL)
		evbuffer_free(s->wbuf);
	free(s->exc);
	free(s->wexc);
	free(s->sepbuf);
	free(s->peer);
	free(s);
}

void
stream_release(struct stream *s)
{
	if (--s->refs == 0 && s->dead)
		stream_destroy(s);
}

/*
 * Put back the flags we changed on a descriptor we did not open, and
 * close it. stdin, stdout and stderr become /dev/null instead: the peer
 * still sees the close, and the next open() cannot land on fd 1 and catch
 * stray output.
 */
void
stream_close_fd(int fd, int flags)
{
	int	nul;

	if (fd == -1)
		return;
	if (flags != -1)
		fcntl(fd, F_SETFL, flags);
	if (fd <= STDERR_FILENO &&
	    (nul = open("/dev/null", O_RDWR|O_CLOEXEC)) != -1) {
		if (nul != fd) {
			dup2(nul, fd);
			close(nul);
		}
		return;
	}
	close(fd);
}

void
stream_kill(struct stream *s)
{
	if (s->dead)
		return;
	/* Before the descriptors go: a transfer has events on them. */
	if (s->xops != NULL)
		s->xops->closed(s);
	s->dead = 1;
	s->op.kind = OP_NONE;
	s->drain_cb = s->close_cb = s->err_cb = s->hs_cb = NULL;
	if (s->rev != NULL)
		event_del(s->rev);
	if (s->wev != NULL)
		event_del(s->wev);
	if (s->nev != NULL)
		event_del(s->nev);
	if (s->tev != NULL)
		event_del(s->tev);
	s->rev_on = s->wev_on = 0;
	if (s->bev != NULL) {
		/* Closes the socket and frees the SSL (BEV_OPT_CLOSE_ON_FREE). */
		bufferevent_free(s->bev);
		s->bev = NULL;
		s->wbuf = NULL;
		s->rfd = s->wfd = -1;
	}
	/* Restore in the reverse order: both may share one description. */
	if (s->wfd != -1 && s->wfd != s->rfd)
		stream_close_fd(s->wfd, s->wflags);
	if (s->rfd != -1)
		stream_close_fd(s->rfd, s->rflags);
	s->rfd = s->wfd = -1;
	if (s->server != NULL) {
		LIST_REMOVE(s, entry);
		s->server->nconns--;
		s->server = NULL;
	}
}

void
stream_abort(struct stream *s)
{
	if (s == NULL || s->dead)
		return;
	stream_kill(s);
	if (s->refs == 0)
		stream_destroy(s);
}

/*
 * Deferred work: failures, drain and close completions run from the loop,
 * never from inside the call (a write, a close) that caused them.
 */

size_t
stream_wlen(struct stream *s)
{
	if (s->wbuf == NULL || s->failed)
		return (0);
	return (evbuffer_get_length(s->wbuf));
}

/* What the pending drain waits for: the low-water mark, or 0 to flush. */
size_t
stream_drain_low(struct stream *s)
{
	return (s->flushing ? 0 : s->wlow);
}

/* Should the transport read? Not while anything says stop. */
int
stream_reading_wanted(struct stream *s)
{
	return (!s->dead && !s->eof && !s->failed && !s->closing &&
	    !s->paused && !s->handshaking && s->xin == NULL);
}

/* Start or stop the transport's reading to match. */
void
stream_reading_update(struct stream *s)
{
	if (s->ops != NULL)
		s->ops->reading(s);
}

void
stream_store_exception(struct stream *s, const struct stream_error *err)
{
	if (s->exc == NULL)
		s->exc = xmalloc(sizeof *s->exc);
	*s->exc = *err;
}

void
stream_set_peer(struct stream *s, int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;
	char			buf[256];

	buf[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		net_format_addr((struct sockaddr *)&ss, len, buf, sizeof buf);
	free(s->peer);
	s->peer = xstrdup(buf);
}

/*
 * Information.
 */
int
stream_fd(struct stream *s)
{
	if (s->dead)
		return (-1);
	return (s->rfd != -1 ? s->rfd : s->wfd);
}

/* The socket of the stream, or -1. */
static int
stream_sockfd(struct stream *s)
{
	if (s->dead)
		return (-1);
	if (s->rsock && s->rfd != -1)
		return (s->rfd);
	if (s->wsock && s->wfd != -1)
		return (s->wfd);
	return (-1);
}

/*
 * wait_acked: bytes handed to the kernel are not yet bytes the peer has.
 * A peer that closed for good answers new data with a reset, which may
 * come after our last write and our exit 0. Where that matters (the peer
 * closed first and we kept sending), poll the send queue until the peer's
 * TCP has acknowledged every byte, or a reset shows up as SO_ERROR.
 */
#define STREAM_ACK_POLL_MS	2
#define STREAM_ACK_WAIT_MS	3000

struct stream_ackwait {
	struct stream		*s;
	struct event		*ev;
	stream_done_cb		 cb;
	void			*arg;
	uint64_t		 deadline;
};

static void
stream_ackwait_cb(evutil_socket_t fd, short events, void *arg)
{
	struct stream_ackwait	*w = arg;
	struct stream		*s = w->s;
	struct stream_error	 err;
	struct timeval		 tv = { 0, STREAM_ACK_POLL_MS * 1000 };
	int			 queued = 0, soerr = 0;
	socklen_t		 len = sizeof soerr;

	if (s->dead)
		goto out;
	if (getsockopt(s->wfd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
	    soerr != 0) {
		stream_error_set(&err, STREAM_ERESET, soerr, "write to %s: %s",
		    s->peer != NULL ? s->peer : "peer", strerror(soerr));
		w->cb(s, &err, w->arg);
		goto out;
	}
	if ((queued = s->ops->unacked(s)) <= 0 ||
	    monotime_ms() >= w->deadline) {
		w->cb(s, &stream_ok, w->arg);
		goto out;
	}
	event_add(w->ev, &tv);
	return;
out:
	event_free(w->ev);
	free(w);
	stream_release(s);
}

void
stream_wait_acked(struct stream *s, stream_done_cb cb, void *arg)
{
	struct stream_ackwait	*w;
	struct timeval		 tv = { 0, 0 };

	if (s->ops == NULL || s->ops->unacked == NULL || !s->wsock ||
	    s->dead) {
		cb(s, &stream_ok, arg);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->s = s;
	w->cb = cb;
	w->arg = arg;
	w->deadline = monotime_ms() + STREAM_ACK_WAIT_MS;
	w->ev = evtimer_new(s->base, stream_ackwait_cb, w);
	stream_hold(s);
	event_add(w->ev, &tv);
}

int
stream_get_extra_info(struct stream *s, const char *name, char *buf,
    size_t len)
{
	int	fd;

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	if (strcmp(name, "peername") == 0) {
		/* Kept from the start, as asyncio: it outlives the socket. */
		if (s->peer == NULL)
			return (-1);
		strlcpy(buf, s->peer, len);	/* once a client: no printf */
		return (0);
	}
	if (strcmp(name, "peercert") == 0) {
		if (s->ops == NULL || s->ops->peercert == NULL || s->dead)
			return (-1);
		return (s->ops->peercert(s, buf, len));
	}
	if (strcmp(name, "tls_version") == 0 || strcmp(name, "cipher") == 0 ||
	    strcmp(name, "alpn") == 0 || strcmp(name, "peercert_sha256") == 0) {
		if (stream_ssl_object(s) == NULL)
			return (-1);
		return (tls_info(stream_ssl_object(s), strcmp(name,
		    "tls_version") == 0 ? "version" : strcmp(name,
		    "peercert_sha256") == 0 ? "sha256" : name, buf, len));
	}
	if ((fd = stream_sockfd(s)) == -1)
		return (-1);
	if (strcmp(name, "sockname") == 0) {
		net_format_sockname(fd, buf, len);
		return (0);
	}
	if (strcmp(name, "socket") == 0) {
		snprintf(buf, len, "%d", fd);
		return (0);
	}
	return (-1);
}

/* asyncio's "ssl_object": the connection's SSL once it is handshaken. */
struct ssl_st *
stream_ssl_object(struct stream *s)
{
	if (s == NULL || s->ops == NULL || s->ops->ssl == NULL || s->dead)
		return (NULL);
	return (s->ops->ssl(s));
}

int
stream_peer_addr(struct stream *s, struct sockaddr_storage *ss,
    socklen_t *len)
{
	int	fd;

	if ((fd = stream_sockfd(s)) == -1)
		return (-1);
	*len = sizeof *ss;
	return (getpeername(fd, (struct sockaddr *)ss, len) == 0 ? 0 : -1);
}

unsigned long long
stream_bytes_in(struct stream *s)
{
	return (s->bytes_in);
}

void
stream_count_in(struct stream *s, size_t n)
{
	if (s->bytes_in == 0 && n > 0)
		s->first_in_ms = timing_now_ms();
	s->bytes_in += n;
}

/* When the first byte arrived (ms since the start, timing.c), or -1. */
double
stream_first_byte_ms(struct stream *s)
{
	return (s != NULL && s->bytes_in > 0 ? s->first_in_ms : -1);
}

unsigned long long
stream_bytes_out(struct stream *s)
{
	return (s->bytes_out);
}

void
stream_set_data(struct stream *s, void *data)
{
	s->data = data;
}

void *
stream_get_data(struct stream *s)
{
	return (s->data);
}

/*
 * Make the coming close of the stream's socket a reset, not a FIN: with
 * SO_LINGER 0, close(2) discards unsent bytes and sends RST, so the peer
 * learns the transfer was cut short (an interrupted sender, a receiver
 * that cannot write what it gets) instead of seeing an ordinary end.
 * Nothing for a stream without a socket.
 */
void
stream_reset_on_close(struct stream *s)
{
	struct linger	l;
	int		fd;

	if ((fd = stream_sockfd(s)) == -1)
		return;
	l.l_onoff = 1;
	l.l_linger = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}
