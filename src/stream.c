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

/* config.h first (through cstream.h): its _GNU_SOURCE shapes the headers. */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>	/* SIOCOUTQ */

/* Kernel-side transfers (stream_transfer) need splice(2) and sendfile(2). */
#if defined(__linux__) && defined(HAVE_SPLICE) && defined(HAVE_PIPE2)
#define STREAM_XFER	1
#include <sys/sendfile.h>
#include <sys/sysmacros.h>

#include <poll.h>
#endif

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

#include "cstream.h"

/*
 * The stream module: asyncio's StreamReader and StreamWriter over three
 * transports.
 *
 * "fd": a socket, or a pair of descriptors (stdin/stdout). No bufferevent:
 * a socket bufferevent reads 4096 bytes per wakeup on libevent 2.1.12
 * (libevent-notes.md, fact 1), so reads go through our own persistent
 * EV_READ event into evbuffer_reserve_space() + readv(), sized per stream.
 * Writes are tried at once, as asyncio's transport.write() does, and only
 * what the kernel refuses waits for an EV_WRITE event. Descriptors epoll
 * cannot watch (regular files, /dev/null) get blocking I/O, one chunk per
 * loop pass. "tls": a libevent openssl bufferevent (its reads are not
 * capped; see the notes, section 1). "detached": a reader fed by hand.
 * Between two fd transports, stream_transfer() moves bulk data in the
 * kernel (splice, sendfile) with events of its own (see "Kernel-side
 * transfers" below).
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
 */

/* Socket read sizes: small while idle (memory), large for bulk. */
#define STREAM_READ_MIN		4096
#define STREAM_READ_MAX		(256 * 1024)
/* Read-ahead allowed beyond 2 x limit before flow control stops reading. */
#define STREAM_READ_SLACK	16384
/*
 * libevent allocates a chain as one power-of-two block that includes its
 * header (about 48 bytes): asking for a little less than the power of two
 * keeps a 4 KiB reservation in a 4 KiB block rather than an 8 KiB one.
 */
#define STREAM_CHAIN_HEADER	64
/* TLS writes per wakeup: libevent's default of 16 KiB is slow (fact 2). */
#define STREAM_TLS_MAX_WRITE	(1024 * 1024)
/* Chains per sendmsg(2), as libevent's writev (DEFAULT_WRITE_IOVEC). */
#define STREAM_SEND_IOV		128
/* asyncio's default ssl_handshake_timeout, when none is given. */
#define STREAM_HANDSHAKE_TIMEOUT 60.0
/* Longest timer we arm (ten years); beyond it a timeval overflows. */
#define STREAM_TIMEOUT_MAX	(10.0 * 365 * 86400)

#define STREAM_NOT_FOUND	SIZE_MAX

/*
 * Kernel-side transfers: the intermediate pipe's size (pipe-max-size's
 * default), the most one splice or sendfile call is asked for, and the
 * most one wakeup moves before the loop gives others a turn.
 */
#define XFER_PIPE_SIZE		(1024 * 1024)
#define XFER_CHUNK		(4 * 1024 * 1024)
#define XFER_BUDGET		(16 * 1024 * 1024)

enum stream_kind {
	STREAM_DETACHED,
	STREAM_FD,
	STREAM_TLS
};

/* The reader's pending operation. */
enum stream_opkind {
	OP_NONE,
	OP_READ,	/* read(n), n >= 0 */
	OP_READALL,	/* read(-1) */
	OP_EXACTLY,	/* readexactly(n) */
	OP_UNTIL,	/* readuntil(sep) */
	OP_LINE		/* readline() */
};

struct stream_op {
	enum stream_opkind	 kind;
	int			 badarg;	/* empty separator */
	size_t			 n;
	const unsigned char	*sep;
	size_t			 seplen;
	const size_t		*fail;		/* KMP failure links */
	size_t			 scan_to;	/* bytes fed to the matcher */
	size_t			 match;		/* matcher state */
	size_t			 found;		/* separator start, or NOT_FOUND */
	size_t			 aoffset;	/* asyncio's readuntil offset */
	stream_read_cb		 cb;
	void			*arg;
};

/* Deferred work for stream_notify_cb. */
#define NOTIFY_FAIL	0x1
#define NOTIFY_DRAIN	0x2
#define NOTIFY_CLOSE	0x4
#define NOTIFY_WFAIL	0x8

struct stream {
	struct event_base	*base;
	enum stream_kind	 kind;
	int			 refs;		/* our frames running on it */
	int			 notify;

	unsigned int		 dead:1;	/* aborted or closed: no callbacks */
	unsigned int		 dispatching:1;
	unsigned int		 eof:1;		/* EOF fed to the reader */
	unsigned int		 paused:1;	/* flow control */
	unsigned int		 failed:1;	/* transport lost */
	unsigned int		 closing:1;
	unsigned int		 eof_wanted:1;	/* write_eof called */
	unsigned int		 eof_done:1;	/* ... and carried out */
	unsigned int		 rpoll:1;	/* rfd can be watched */
	unsigned int		 wpoll:1;
	unsigned int		 rsock:1;
	unsigned int		 wsock:1;
	unsigned int		 rev_on:1;
	unsigned int		 wev_on:1;
	unsigned int		 ractive:1;	/* blocking read queued */
	unsigned int		 reading:1;	/* TLS: EV_READ enabled */
	unsigned int		 handshaking:1;
	unsigned int		 err_reported:1;
	unsigned int		 wfailed:1;	/* lost while writing */
	unsigned int		 rsmall:3;	/* small reads in a row */
	unsigned int		 wfile:1;	/* a file segment is queued */

	/* Reader. */
	size_t			 limit;
	struct evbuffer		*rbuf;
	struct evbuffer		*result;
	struct stream_error	*exc;
	const struct stream_error *werr;	/* why a write was refused */
	struct stream_error	*wexc;		/* the write side failed */
	struct stream_op	 op;
	unsigned char		 sep1;
	unsigned char		*sepbuf;
	size_t			 sepcap;
	unsigned long long	 scanned;

	/* Writer. */
	struct evbuffer		*wbuf;		/* TLS: the bufferevent's output */
	size_t			 whigh;
	size_t			 wlow;
	stream_done_cb		 drain_cb;
	void			*drain_arg;
	stream_done_cb		 close_cb;
	void			*close_arg;
	stream_done_cb		 err_cb;
	void			*err_arg;
	stream_done_cb		 hs_cb;
	void			*hs_arg;

	/* Transport. */
	int			 rfd;
	int			 wfd;
	int			 rflags;	/* to restore, or -1 */
	int			 wflags;
	size_t			 want;		/* next read size */
	struct event		*rev;
	struct event		*wev;
	struct event		*nev;		/* stream_notify */
	struct event		*tev;		/* idle or handshake timer */
	struct bufferevent	*bev;
	uint64_t		 idle_ms;
	uint64_t		 last_ms;
	char			*peer;

	struct stream_xfer	*xin;		/* a transfer reads our rfd */
	struct stream_xfer	*xout;		/* a transfer writes our wfd */

	struct stream_server	*server;
	LIST_ENTRY(stream)	 entry;
	void			*data;
	unsigned long long	 bytes_in;
	unsigned long long	 bytes_out;
};

struct stream_server {
	struct event_base	*base;
	size_t			 limit;
	double			 idle_timeout;
	double			 hs_timeout;
	struct ssl_ctx_st	*tls_ctx;
	unsigned int		 max_conns;
	unsigned int		 nconns;
	stream_server_log_cb	 log_cb;
	void			*log_arg;
	stream_accept_cb	 cb;
	void			*arg;

	size_t			 n;
	struct net_listener	**listeners;
	char			**addrs;
	char			*path;		/* unix: as given */
	dev_t			 dev;
	ino_t			 ino;
	LIST_HEAD(, stream)	 conns;
};

/* An open_connection in progress. */
struct stream_connect {
	struct event_base	*base;
	size_t			 limit;
	double			 idle_timeout;
	double			 timeout;
	uint64_t		 start_ms;
	struct ssl_ctx_st	*tls_ctx;
	char			*servername;
	stream_done_cb		 cb;
	void			*arg;
};

static const struct stream_error stream_ok;
static const struct timeval stream_tv_zero;
static const struct stream_error stream_err_detached = {
	STREAM_ECLOSED, ENOTCONN, 0, 0, "write: the stream has no transport"
};
static const struct stream_error stream_err_closing = {
	STREAM_ECLOSED, EPIPE, 0, 0, "write: the stream is closing"
};
static const struct stream_error stream_err_eof = {
	STREAM_ECLOSED, EPIPE, 0, 0, "write: write_eof() was called"
};
static const struct stream_error stream_err_readonly = {
	STREAM_ECLOSED, EBADF, 0, 0, "write: the stream has no write side"
};
static const struct stream_error stream_err_noeof = {
	STREAM_ECLOSED, EOPNOTSUPP, 0, 0,
	    "write_eof: not possible on this stream"
};
static const struct stream_error stream_err_lost = {
	STREAM_ERESET, ECONNRESET, 0, 0, "write: connection lost"
};
static const struct stream_error stream_err_nofile = {
	STREAM_ESYS, EBADF, 0, 0, "write: cannot send the file"
};
static const struct stream_error stream_err_xfer_write = {
	STREAM_ECLOSED, EBUSY, 0, 0, "write: a transfer is in progress"
};

static void	reader_dispatch(struct stream *);
static void	transport_reading(struct stream *);
static void	transport_fail(struct stream *, const struct stream_error *);
static void	writer_progress(struct stream *);
static void	stream_timer_arm(struct stream *, uint64_t);
static void	fd_write_cb(evutil_socket_t, short, void *);
static void	writer_kick(struct stream *);
static void	xfer_stream_failed(struct stream *);
static void	xfer_stream_write_failed(struct stream *);
static void	transport_fail_write(struct stream *,
		    const struct stream_error *);
static void	xfer_stream_closed(struct stream *);
static void	xfer_schedule(struct stream_xfer *);

struct stream_error *
stream_error_set(struct stream_error *err, enum stream_errkind kind, int sys,
    const char *fmt, ...)
{
	char	msg[sizeof err->msg];
	va_list	ap;

	/* Format first: callers pass their own err->msg as an argument. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err->kind = kind;
	err->sys = sys;
	err->expected = 0;
	err->consumed = 0;
	memcpy(err->msg, msg, sizeof err->msg);
	return (err);
}

static uint64_t
stream_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static uint64_t
stream_secs_ms(double secs)
{
	if (secs <= 0)
		return (0);
	if (secs > STREAM_TIMEOUT_MAX)
		secs = STREAM_TIMEOUT_MAX;
	if (secs < 0.001)
		return (1);
	return ((uint64_t)(secs * 1000));
}

/* a + b, saturating: a --limit near SIZE_MAX must not wrap. */
static size_t
stream_sat_add(size_t a, size_t b)
{
	return (a > SIZE_MAX - b ? SIZE_MAX : a + b);
}

static size_t
stream_limit2(struct stream *s)
{
	return (stream_sat_add(s->limit, s->limit));
}

/* "read from 127.0.0.1:80" or plain "read" when the peer has no name. */
static void
stream_fail_errno(struct stream *s, const char *call, const char *prep,
    int error)
{
	struct stream_error	err;
	enum stream_errkind	kind;

	switch (error) {
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
	case ENOTCONN:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
		kind = STREAM_ERESET;
		break;
	default:
		kind = STREAM_ESYS;
		break;
	}
	if (s->peer != NULL && *s->peer != '\0')
		stream_error_set(&err, kind, error, "%s %s %s: %s", call, prep,
		    s->peer, strerror(error));
	else
		stream_error_set(&err, kind, error, "%s: %s", call,
		    strerror(error));
	if (!s->failed && strcmp(call, "write") == 0) {
		/*
		 * A peer that closed may still have sent bytes we have not
		 * read (a reply before its close): nc prints them, so the
		 * read side goes on to its own EOF or reset.
		 */
		if (s->kind == STREAM_FD && s->rsock && s->rfd == s->wfd &&
		    !s->eof) {
			transport_fail_write(s, &err);
			return;
		}
		s->wfailed = 1;
	}
	transport_fail(s, &err);
}

/* The peer for messages: its address, or "peer" when it has none. */
static const char *
stream_label(struct stream *s)
{
	return (s->peer != NULL && *s->peer != '\0' ? s->peer : "peer");
}

static void
stream_touch(struct stream *s)
{
	if (s->idle_ms != 0)
		s->last_ms = stream_now_ms();
}

/*
 * Lifetime. stream_hold() around any of our code that calls the user;
 * stream_kill() stops everything at once; the memory goes when the last
 * holder lets go.
 */
static void
stream_hold(struct stream *s)
{
	s->refs++;
}

static void
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
	evbuffer_free(s->rbuf);
	evbuffer_free(s->result);
	if (s->kind == STREAM_FD && s->wbuf != NULL)
		evbuffer_free(s->wbuf);
	free(s->exc);
	free(s->wexc);
	free(s->sepbuf);
	free(s->peer);
	free(s);
}

static void
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
static void
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

static void
stream_kill(struct stream *s)
{
	if (s->dead)
		return;
	/* Before the descriptors go: a transfer has events on them. */
	xfer_stream_closed(s);
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

static struct stream *
stream_alloc(struct event_base *base, size_t limit)
{
	struct stream	*s;

	s = xcalloc(1, sizeof *s);
	s->base = base;
	s->limit = limit != 0 ? limit : STREAM_DEFAULT_LIMIT;
	s->rfd = s->wfd = -1;
	s->rflags = s->wflags = -1;
	s->whigh = STREAM_WRITE_HIGH;
	s->wlow = STREAM_WRITE_LOW;
	s->want = STREAM_READ_MIN;
	s->rbuf = evbuffer_new();
	s->result = evbuffer_new();
	if (s->rbuf == NULL || s->result == NULL) {
		if (s->rbuf != NULL)
			evbuffer_free(s->rbuf);
		if (s->result != NULL)
			evbuffer_free(s->result);
		free(s);
		return (NULL);
	}
	return (s);
}

/*
 * Deferred work: failures, drain and close completions run from the loop,
 * never from inside the call (a write, a close) that caused them.
 */
/* A failure reaches the drain waiter; -1 if that freed the stream. */
static int
stream_fail_drain(struct stream *s, const struct stream_error *err)
{
	stream_done_cb	 cb = s->drain_cb;
	void		*arg = s->drain_arg;

	if (cb == NULL)
		return (0);
	s->drain_cb = NULL;
	cb(s, err, arg);
	return (s->dead ? -1 : 0);
}

/* ... and the error callback, once. */
static void
stream_fail_errcb(struct stream *s, const struct stream_error *err)
{
	if (s->err_cb != NULL && !s->closing && !s->err_reported) {
		s->err_reported = 1;
		s->err_cb(s, err, s->err_arg);
	}
}

static void
stream_report_failure(struct stream *s)
{
	struct stream_error	err;

	if (s->exc != NULL)
		err = *s->exc;
	else
		err = stream_err_lost;
	/*
	 * Both sides fail, as asyncio's connection_lost(exc) does; the side
	 * that met the failure hears of it first.
	 */
	if (s->op.kind != OP_NONE && !s->wfailed)
		reader_dispatch(s);
	if (s->dead || stream_fail_drain(s, &err) != 0)
		return;
	if (s->op.kind != OP_NONE)
		reader_dispatch(s);
	if (!s->dead)
		stream_fail_errcb(s, &err);
}

/* The write side is lost: the drain waiter and the error callback hear. */
static void
stream_report_write_failure(struct stream *s)
{
	struct stream_error	err = *s->wexc;

	if (stream_fail_drain(s, &err) == 0)
		stream_fail_errcb(s, &err);
}

static size_t
stream_wlen(struct stream *s)
{
	if (s->wbuf == NULL || s->failed)
		return (0);
	return (evbuffer_get_length(s->wbuf));
}

static void
stream_check_drain(struct stream *s)
{
	stream_done_cb	cb;
	void		*arg;

	if (s->drain_cb == NULL || stream_wlen(s) > s->wlow)
		return;
	cb = s->drain_cb;
	arg = s->drain_arg;
	s->drain_cb = NULL;
	cb(s, &stream_ok, arg);
}

static void
stream_finish_close(struct stream *s)
{
	struct stream_error	err;
	stream_done_cb		cb = s->close_cb;
	void			*arg = s->close_arg;

	if (s->failed && s->exc != NULL)
		err = *s->exc;
	else
		err = stream_ok;
	/* libevent never sends close_notify (fact 7): the queue is empty. */
	if (s->kind == STREAM_TLS && !s->failed && !s->eof_done &&
	    !s->handshaking)
		SSL_shutdown(bufferevent_openssl_get_ssl(s->bev));
	stream_kill(s);
	if (cb != NULL)
		cb(s, &err, arg);
}

static void
stream_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream	*s = arg;
	int		 n;

	stream_hold(s);
	n = s->notify;
	s->notify = 0;
	if (n & NOTIFY_FAIL)
		stream_report_failure(s);
	if (!s->dead && (n & NOTIFY_WFAIL) && !s->failed)
		stream_report_write_failure(s);
	if (!s->dead && (n & NOTIFY_DRAIN))
		stream_check_drain(s);
	if (!s->dead && (n & NOTIFY_CLOSE) && s->closing &&
	    stream_wlen(s) == 0)
		stream_finish_close(s);
	stream_release(s);
}

static void
stream_notify(struct stream *s, int what)
{
	if (s->dead || s->base == NULL)
		return;
	if (s->nev == NULL &&
	    (s->nev = event_new(s->base, -1, 0, stream_notify_cb, s)) == NULL)
		return;
	s->notify |= what;
	event_active(s->nev, EV_TIMEOUT, 1);
}

static void
stream_store_exception(struct stream *s, const struct stream_error *err)
{
	if (s->exc == NULL)
		s->exc = xmalloc(sizeof *s->exc);
	*s->exc = *err;
}

/* The transport is lost: every operation from now on reports err. */
static void
transport_fail(struct stream *s, const struct stream_error *err)
{
	if (s->dead || s->failed)
		return;
	s->failed = 1;
	stream_store_exception(s, err);
	if (s->tev != NULL)
		event_del(s->tev);
	if (s->kind == STREAM_FD) {
		if (s->wev_on) {
			event_del(s->wev);
			s->wev_on = 0;
		}
		/* Nothing queued can be sent any more. */
		evbuffer_drain(s->wbuf, evbuffer_get_length(s->wbuf));
	} else if (s->kind == STREAM_TLS) {
		bufferevent_disable(s->bev, EV_READ|EV_WRITE);
		s->reading = 0;
	}
	xfer_stream_failed(s);
	transport_reading(s);
	stream_notify(s, NOTIFY_FAIL|NOTIFY_CLOSE);
}

/*
 * Only the write side is lost (EPIPE, a reset met while writing a socket
 * we can still read): writes and drain report err from now on, what was
 * queued is dropped, the reader carries on until the transport itself
 * says EOF or fails.
 */
static void
transport_fail_write(struct stream *s, const struct stream_error *err)
{
	if (s->dead || s->failed || s->wexc != NULL)
		return;
	s->wfailed = 1;
	s->wexc = xmalloc(sizeof *s->wexc);
	*s->wexc = *err;
	if (s->wev_on) {
		event_del(s->wev);
		s->wev_on = 0;
	}
	evbuffer_drain(s->wbuf, evbuffer_get_length(s->wbuf));
	xfer_stream_write_failed(s);
	stream_notify(s, NOTIFY_WFAIL|NOTIFY_CLOSE);
}

/*
 * The separator matcher. sep and its KMP failure links live in sepbuf
 * (one byte needs neither); the matcher state survives between chunks.
 */
static int
reader_set_separator(struct stream *s, const void *sep, size_t seplen)
{
	struct stream_op	*op = &s->op;
	unsigned char		*p;
	size_t			*fail, need, i, k;

	op->seplen = seplen;
	if (seplen == 1) {
		s->sep1 = *(const unsigned char *)sep;
		op->sep = &s->sep1;
		op->fail = NULL;
		return (0);
	}
	if (seplen > (SIZE_MAX / 2) / (sizeof *fail + 1))
		return (-1);
	need = seplen * (sizeof *fail + 1);
	if (need > s->sepcap) {
		free(s->sepbuf);
		s->sepbuf = xmalloc(need);
		s->sepcap = need;
	}
	fail = (size_t *)(void *)s->sepbuf;
	p = s->sepbuf + seplen * sizeof *fail;
	memcpy(p, sep, seplen);
	fail[0] = 0;
	for (i = 1, k = 0; i < seplen; i++) {
		while (k > 0 && p[i] != p[k])
			k = fail[k - 1];
		if (p[i] == p[k])
			k++;
		fail[i] = k;
	}
	op->sep = p;
	op->fail = fail;
	return (0);
}

/* Feed len new bytes (the ones after op->scan_to) to the matcher. */
static void
reader_scan(struct stream *s, const unsigned char *p, size_t len)
{
	struct stream_op	*op = &s->op;
	const unsigned char	*sep = op->sep, *q;
	size_t			 m = op->match, i = 0;

	while (i < len) {
		if (m == 0) {
			/* Nothing matched yet: skip ahead to the first byte. */
			if ((q = memchr(p + i, sep[0], len - i)) == NULL) {
				i = len;
				break;
			}
			i = (size_t)(q - p) + 1;
			m = 1;
		} else {
			while (m > 0 && p[i] != sep[m])
				m = op->fail[m - 1];
			if (p[i] == sep[m])
				m++;
			i++;
		}
		if (m == op->seplen) {
			s->scanned += i;
			op->scan_to += i;
			op->found = op->scan_to - op->seplen;
			op->match = 0;
			return;
		}
	}
	s->scanned += len;
	op->scan_to += len;
	op->match = m;
}

/* Is a separator search pending whose matcher has seen exactly at bytes? */
static int
reader_scanning(struct stream *s, size_t at)
{
	struct stream_op	*op = &s->op;

	return ((op->kind == OP_UNTIL || op->kind == OP_LINE) &&
	    !op->badarg && op->found == STREAM_NOT_FOUND && op->scan_to == at);
}

/* New bytes at offset at of rbuf: scan them while they are at hand. */
static void
reader_fed(struct stream *s, size_t at, const void *p, size_t len)
{
	if (len != 0 && reader_scanning(s, at))
		reader_scan(s, p, len);
}

/* Scan what the matcher has not seen yet, from the buffer itself. */
static void
reader_scan_buffer(struct stream *s)
{
	struct stream_op	*op = &s->op;
	struct evbuffer_ptr	 ptr;
	struct evbuffer_iovec	 v[16];
	size_t			 len, left, n, start;
	int			 i, nv;

	len = evbuffer_get_length(s->rbuf);
	if (op->found != STREAM_NOT_FOUND || op->scan_to >= len)
		return;
	if (evbuffer_ptr_set(s->rbuf, &ptr, op->scan_to, EVBUFFER_PTR_SET) != 0)
		return;
	while (op->found == STREAM_NOT_FOUND && op->scan_to < len) {
		start = op->scan_to;
		nv = evbuffer_peek(s->rbuf, len - start, &ptr, v, 16);
		if (nv <= 0)
			break;
		if (nv > 16)
			nv = 16;
		left = len - start;
		for (i = 0; i < nv && left > 0; i++) {
			n = v[i].iov_len < left ? v[i].iov_len : left;
			reader_scan(s, v[i].iov_base, n);
			if (op->found != STREAM_NOT_FOUND)
				return;
			left -= n;
		}
		if (evbuffer_ptr_set(s->rbuf, &ptr, op->scan_to - start,
		    EVBUFFER_PTR_ADD) != 0)
			break;
	}
}

/* Hand the result to the operation's callback; the op is over. */
static int
reader_complete(struct stream *s, const struct stream_error *err)
{
	stream_read_cb	 cb = s->op.cb;
	void		*arg = s->op.arg;

	s->op.kind = OP_NONE;
	cb(s, s->result, err, arg);
	evbuffer_drain(s->result, evbuffer_get_length(s->result));
	return (1);
}

/* readuntil and readline: asyncio's StreamReader.readuntil, step by step. */
static int
reader_try_until(struct stream *s)
{
	struct stream_op	*op = &s->op;
	struct stream_error	 err;
	size_t			 len;
	int			 line = op->kind == OP_LINE;

	reader_scan_buffer(s);
	if (op->found != STREAM_NOT_FOUND) {
		if (op->found > s->limit) {
			stream_error_set(&err, STREAM_ELIMIT, 0, "separator is "
			    "found, but chunk is longer than limit (%zu bytes)",
			    s->limit);
			err.consumed = op->found;
			/* readline drops the line, separator included. */
			if (line)
				evbuffer_drain(s->rbuf, op->found + op->seplen);
			return (reader_complete(s, &err));
		}
		evbuffer_remove_buffer(s->rbuf, s->result,
		    op->found + op->seplen);
		return (reader_complete(s, &stream_ok));
	}

	/* asyncio's offset: where the separator can no longer start. */
	len = evbuffer_get_length(s->rbuf);
	if (len >= op->seplen && len + 1 - op->seplen > op->aoffset) {
		op->aoffset = len + 1 - op->seplen;
		if (op->aoffset > s->limit) {
			stream_error_set(&err, STREAM_ELIMIT, 0, "separator is "
			    "not found, and chunk exceeds the limit (%zu bytes)",
			    s->limit);
			err.consumed = op->aoffset;
			if (line)
				evbuffer_drain(s->rbuf, len);
			return (reader_complete(s, &err));
		}
	}
	if (!s->eof)
		return (0);

	/* IncompleteReadError(partial, None); readline returns the partial. */
	evbuffer_add_buffer(s->result, s->rbuf);
	if (line)
		return (reader_complete(s, &stream_ok));
	stream_error_set(&err, STREAM_EINCOMPLETE, 0, "EOF before the "
	    "separator (%zu bytes read)", len);
	return (reader_complete(s, &err));
}

/* Complete the pending operation if it can be; 0 if it must wait. */
static int
reader_try(struct stream *s)
{
	struct stream_op	*op = &s->op;
	struct stream_error	 err;
	size_t			 len = evbuffer_get_length(s->rbuf);

	if (op->badarg) {
		stream_error_set(&err, STREAM_ESYS, EINVAL,
		    "readuntil: the separator is empty");
		return (reader_complete(s, &err));
	}
	/* asyncio raises the stored exception before looking at the data. */
	if (s->exc != NULL) {
		err = *s->exc;
		return (reader_complete(s, &err));
	}
	if (s->closing) {
		stream_error_set(&err, STREAM_ECLOSED, 0,
		    "read: the stream is closing");
		return (reader_complete(s, &err));
	}
	if (s->xin != NULL) {
		stream_error_set(&err, STREAM_ECLOSED, EBUSY,
		    "read: a transfer is in progress");
		return (reader_complete(s, &err));
	}

	switch (op->kind) {
	case OP_READ:
		if (op->n == 0 || (len == 0 && s->eof))
			return (reader_complete(s, &stream_ok));
		if (len == 0)
			return (0);
		evbuffer_remove_buffer(s->rbuf, s->result,
		    op->n < len ? op->n : len);
		return (reader_complete(s, &stream_ok));
	case OP_READALL:
		if (!s->eof)
			return (0);
		evbuffer_add_buffer(s->result, s->rbuf);
		return (reader_complete(s, &stream_ok));
	case OP_EXACTLY:
		if (len >= op->n) {
			evbuffer_remove_buffer(s->rbuf, s->result, op->n);
			return (reader_complete(s, &stream_ok));
		}
		if (!s->eof)
			return (0);
		evbuffer_add_buffer(s->result, s->rbuf);
		stream_error_set(&err, STREAM_EINCOMPLETE, 0, "EOF after %zu "
		    "of %zu bytes", len, op->n);
		err.expected = op->n;
		return (reader_complete(s, &err));
	case OP_UNTIL:
	case OP_LINE:
		return (reader_try_until(s));
	case OP_NONE:
		break;
	}
	return (0);
}

/*
 * asyncio's flow control: pause the transport above 2 x limit, resume at
 * or below limit, and read regardless while an operation waits for data
 * (readexactly(n) with n > limit would deadlock otherwise).
 */
static void
reader_flow(struct stream *s)
{
	size_t	len;

	if (s->kind == STREAM_DETACHED || s->dead)
		return;
	len = evbuffer_get_length(s->rbuf);
	if (s->op.kind != OP_NONE)
		s->paused = 0;
	else if (!s->paused && len > stream_limit2(s))
		s->paused = 1;
	else if (s->paused && len <= s->limit)
		s->paused = 0;
	transport_reading(s);
}

/* The trampoline: run operations until one has to wait. */
static void
reader_dispatch(struct stream *s)
{
	if (s->dispatching || s->dead)
		return;
	s->dispatching = 1;
	stream_hold(s);
	while (!s->dead && s->op.kind != OP_NONE) {
		if (reader_try(s) == 0)
			break;
	}
	s->dispatching = 0;
	reader_flow(s);
	stream_release(s);
}

static void
reader_start(struct stream *s, enum stream_opkind kind, size_t n,
    stream_read_cb cb, void *arg)
{
	struct stream_op	*op = &s->op;

	/* asyncio: "read() called while another coroutine is waiting". */
	assert(op->kind == OP_NONE);
	op->kind = kind;
	op->badarg = 0;
	op->n = n;
	op->seplen = 0;
	op->scan_to = 0;
	op->match = 0;
	op->found = STREAM_NOT_FOUND;
	op->aoffset = 0;
	op->cb = cb;
	op->arg = arg;
}

void
stream_read(struct stream *s, ssize_t n, stream_read_cb cb, void *arg)
{
	if (n < 0)
		reader_start(s, OP_READALL, 0, cb, arg);
	else
		reader_start(s, OP_READ, (size_t)n, cb, arg);
	reader_dispatch(s);
}

void
stream_readline(struct stream *s, stream_read_cb cb, void *arg)
{
	reader_start(s, OP_LINE, 0, cb, arg);
	reader_set_separator(s, "\n", 1);
	reader_dispatch(s);
}

void
stream_readexactly(struct stream *s, size_t n, stream_read_cb cb, void *arg)
{
	reader_start(s, OP_EXACTLY, n, cb, arg);
	reader_dispatch(s);
}

void
stream_readuntil(struct stream *s, const void *sep, size_t seplen,
    stream_read_cb cb, void *arg)
{
	reader_start(s, OP_UNTIL, 0, cb, arg);
	if (sep == NULL || seplen == 0 ||
	    reader_set_separator(s, sep, seplen) != 0)
		s->op.badarg = 1;
	reader_dispatch(s);
}

int
stream_at_eof(struct stream *s)
{
	return (s->eof && evbuffer_get_length(s->rbuf) == 0);
}

void
stream_feed_data(struct stream *s, const void *data, size_t len)
{
	size_t	old;

	/* asyncio asserts on data after EOF; a transport never sends any. */
	if (len == 0 || s->eof || s->dead)
		return;
	old = evbuffer_get_length(s->rbuf);
	if (evbuffer_add(s->rbuf, data, len) != 0)
		return;
	reader_fed(s, old, data, len);
	reader_dispatch(s);
}

void
stream_feed_eof(struct stream *s)
{
	if (s->dead)
		return;
	s->eof = 1;
	reader_dispatch(s);
}

const struct stream_error *
stream_exception(struct stream *s)
{
	if (s->exc != NULL)
		return (s->exc);
	return (s->wexc != NULL ? s->wexc : s->werr);
}

void
stream_set_exception(struct stream *s, const struct stream_error *err)
{
	if (s->dead)
		return;
	if (err == NULL || err->kind == STREAM_OK) {
		free(s->exc);
		s->exc = NULL;
		return;
	}
	stream_store_exception(s, err);
	if (s->op.kind != OP_NONE)
		reader_dispatch(s);
}

size_t
stream_limit(struct stream *s)
{
	return (s->limit);
}

size_t
stream_buffered(struct stream *s)
{
	return (evbuffer_get_length(s->rbuf));
}

int
stream_reading_paused(struct stream *s)
{
	return (s->paused);
}

unsigned long long
stream_scanned(struct stream *s)
{
	return (s->scanned);
}

/*
 * The fd transport.
 */
static int
stream_reading_wanted(struct stream *s)
{
	return (!s->dead && !s->eof && !s->failed && !s->closing &&
	    !s->paused && !s->handshaking && s->xin == NULL);
}

static void
transport_reading(struct stream *s)
{
	int	want = stream_reading_wanted(s);

	if (s->kind == STREAM_FD && s->rfd != -1 && s->rev != NULL) {
		if (!s->rpoll) {
			/*
			 * Blocking fd: one chunk per loop pass while wanted.
			 * A zero timeout rather than event_active(): active
			 * events run before the next poll, so a chunk that
			 * re-arms itself would starve every socket.
			 */
			if (want && !s->ractive) {
				s->ractive = 1;
				event_add(s->rev, &stream_tv_zero);
			}
		} else if (want && !s->rev_on) {
			if (event_add(s->rev, NULL) == 0)
				s->rev_on = 1;
		} else if (!want && s->rev_on) {
			event_del(s->rev);
			s->rev_on = 0;
		}
	} else if (s->kind == STREAM_TLS && s->bev != NULL) {
		if (s->handshaking)
			return;
		if (want && !s->reading) {
			bufferevent_enable(s->bev, EV_READ);
			s->reading = 1;
		} else if (!want && s->reading) {
			bufferevent_disable(s->bev, EV_READ);
			s->reading = 0;
		}
	}
}

/*
 * How much the next read may take: flow control bounds the buffer.
 * *capped says the bound, not want, decided.
 */
static size_t
stream_read_size(struct stream *s, size_t want, int *capped)
{
	size_t	len, cap, room;

	len = evbuffer_get_length(s->rbuf);
	cap = stream_sat_add(stream_limit2(s), STREAM_READ_SLACK);
	room = cap > len ? cap - len : 0;
	/*
	 * A waiting operation may need more than flow control allows, and
	 * read(n) takes up to n at once: reading that much grows nothing.
	 */
	if ((s->op.kind == OP_EXACTLY || s->op.kind == OP_READ) &&
	    s->op.n > len && s->op.n - len > room)
		room = s->op.n - len;
	if (s->op.kind == OP_READALL)
		room = want;
	*capped = room < want;
	if (room < STREAM_READ_MIN)
		room = STREAM_READ_MIN;
	return (want < room ? want : room);
}

/*
 * Adapt the read size to the traffic: double it when a wakeup filled a
 * read (bulk), halve it after a run of wakeups that used an eighth of it
 * (back to small messages). The short read that ends a full one is not
 * such a sign, hence the run.
 */
static void
stream_adapt(struct stream *s, size_t got, int full)
{
	if (full) {
		if (s->want < STREAM_READ_MAX)
			s->want *= 2;
		s->rsmall = 0;
	} else if (got <= s->want / 8 && s->want > STREAM_READ_MIN) {
		if (++s->rsmall >= 4) {
			s->want /= 2;
			s->rsmall = 0;
		}
	} else
		s->rsmall = 0;
}

/*
 * One read from rfd into rbuf. Returns the bytes read (*full set if they
 * filled what was offered), 0 at EOF (fed to the reader), -1 if nothing
 * came or the transport failed.
 */
static ssize_t
fd_read_once(struct stream *s, size_t want, int *full, int *capped)
{
	struct evbuffer_iovec	 v[2];
	struct iovec		 iov[2];
	size_t			 size, total = 0, left, at;
	ssize_t			 n;
	int			 i, nv, error;

	*full = 0;
	size = stream_read_size(s, want, capped);
	nv = evbuffer_reserve_space(s->rbuf, size - STREAM_CHAIN_HEADER, v, 2);
	if (nv <= 0) {
		stream_fail_errno(s, "read", "from", ENOMEM);
		return (-1);
	}
	for (i = 0; i < nv; i++) {
		/* The chains may hold more than asked: stay within size. */
		if (v[i].iov_len > size - total)
			v[i].iov_len = size - total;
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
		total += v[i].iov_len;
	}
	do {
		/* recv(2) skips the VFS layers readv goes through. */
		if (nv == 1 && s->rsock)
			n = recv(s->rfd, iov[0].iov_base, iov[0].iov_len, 0);
		else
			n = readv(s->rfd, iov, nv);
	} while (n == -1 && errno == EINTR && !s->rpoll);
	if (n <= 0) {
		error = errno;
		evbuffer_commit_space(s->rbuf, v, 0);
		if (n == 0) {
			s->eof = 1;
			return (0);
		}
		if (error != EAGAIN && error != EWOULDBLOCK && error != EINTR)
			stream_fail_errno(s, "read", "from", error);
		return (-1);
	}

	left = (size_t)n;
	for (i = 0; i < nv; i++) {
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
	}
	at = evbuffer_get_length(s->rbuf);
	evbuffer_commit_space(s->rbuf, v, nv);
	s->bytes_in += (size_t)n;
	*full = (size_t)n == total;
	/* Scan for a separator while the bytes are at hand. */
	for (i = 0; i < nv; i++) {
		reader_fed(s, at, v[i].iov_base, v[i].iov_len);
		at += v[i].iov_len;
	}
	return (n);
}

/*
 * The socket is readable. A read that fills its buffer is followed by
 * another at once (the rest of a message, or bulk) rather than after a
 * trip through epoll, up to STREAM_READ_MAX per wakeup for fairness, and
 * while flow control allows. A blocking fd reads one chunk per pass.
 */
static void
fd_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream	*s = arg;
	size_t		 total = 0;
	ssize_t		 n;
	int		 full, capped, anyfull = 0;

	stream_hold(s);
	s->ractive = 0;
	while (stream_reading_wanted(s)) {
		n = fd_read_once(s, s->rpoll ? s->want : STREAM_READ_MAX,
		    &full, &capped);
		if (n <= 0)
			break;
		total += (size_t)n;
		if (full && !capped)
			anyfull = 1;
		/* Flow control capped it: let the reader consume first. */
		if (!full || capped || !s->rpoll || total >= STREAM_READ_MAX)
			break;
	}
	if (total > 0) {
		stream_touch(s);
		if (s->rpoll)
			stream_adapt(s, total, anyfull);
	}
	if (total > 0 || s->eof)
		reader_dispatch(s);
	stream_release(s);
}

static void
writer_wev(struct stream *s, int on)
{
	if (on && !s->wev_on) {
		/* Made on first need: most small writes never wait. */
		if (s->wev == NULL && (s->wev = event_new(s->base, s->wfd,
		    EV_WRITE|EV_PERSIST, fd_write_cb, s)) == NULL) {
			stream_fail_errno(s, "write", "to", ENOMEM);
			return;
		}
		if (event_add(s->wev, NULL) != 0) {
			stream_fail_errno(s, "write", "to", errno);
			return;
		}
		s->wev_on = 1;
	} else if (!on && s->wev_on) {
		event_del(s->wev);
		s->wev_on = 0;
	}
}

/*
 * One write to a socket: send(2) for one chain, sendmsg(2) for several.
 * MSG_NOSIGNAL: a peer that left is EPIPE, never SIGPIPE. Both skip the
 * VFS layers writev goes through, which shows on small echo messages.
 */
static ssize_t
fd_send(struct stream *s)
{
	struct evbuffer_iovec	 v[STREAM_SEND_IOV];
	struct iovec		 iov[STREAM_SEND_IOV];
	struct msghdr		 msg;
	ssize_t			 n;
	int			 i, nv;

	nv = evbuffer_peek(s->wbuf, -1, NULL, v, STREAM_SEND_IOV);
	if (nv > STREAM_SEND_IOV)
		nv = STREAM_SEND_IOV;
	if (nv == 1)
		n = send(s->wfd, v[0].iov_base, v[0].iov_len, MSG_NOSIGNAL);
	else {
		for (i = 0; i < nv; i++) {
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
		}
		memset(&msg, 0, sizeof msg);
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)nv;
		n = sendmsg(s->wfd, &msg, MSG_NOSIGNAL);
	}
	if (n > 0)
		evbuffer_drain(s->wbuf, (size_t)n);
	return (n);
}

/*
 * Write what the kernel takes. A pollable fd gets one attempt (the rest
 * waits for EV_WRITE); a blocking one is written out completely. File
 * segments (stream_write_file) need libevent's sendfile path.
 */
static void
fd_flush(struct stream *s)
{
	ssize_t	n;
	int	error;

	while (evbuffer_get_length(s->wbuf) > 0) {
		if (s->wsock && !s->wfile)
			n = fd_send(s);
		else
			n = evbuffer_write_atmost(s->wbuf, s->wfd, -1);
		if (n > 0) {
			s->bytes_out += (size_t)n;
			stream_touch(s);
			if (s->wpoll)
				break;
			continue;
		}
		error = n == 0 ? EIO : errno;
		if (error == EINTR)
			continue;
		if ((error == EAGAIN || error == EWOULDBLOCK) && s->wpoll)
			break;
		stream_fail_errno(s, "write", "to", error);
		return;
	}
	if (evbuffer_get_length(s->wbuf) == 0)
		s->wfile = 0;
	if (s->wpoll)
		writer_wev(s, evbuffer_get_length(s->wbuf) > 0);
}

static void
fd_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream	*s = arg;

	fd_flush(s);
	writer_progress(s);
}

/* Half-close once everything queued is out. */
static void
writer_shutdown(struct stream *s)
{
	s->eof_done = 1;
	if (s->kind == STREAM_TLS) {
		/* A TLS-level half close (notes, section 6); reading goes on. */
		SSL_shutdown(bufferevent_openssl_get_ssl(s->bev));
		return;
	}
	if (s->wsock) {
		shutdown(s->wfd, SHUT_WR);
		return;
	}
	/* A pipe: closing it is its EOF, as asyncio's pipe transport does. */
	if (s->wev != NULL) {
		event_free(s->wev);
		s->wev = NULL;
		s->wev_on = 0;
	}
	stream_close_fd(s->wfd, s->wflags);
	s->wfd = -1;
}

/* After a write: half-close, close, drain, whichever is due. */
static void
writer_progress(struct stream *s)
{
	size_t	len;

	if (s->dead)
		return;
	len = stream_wlen(s);
	/* close_notify waits for the handshake to be over. */
	if (len == 0 && s->eof_wanted && !s->eof_done && !s->failed &&
	    !s->handshaking)
		writer_shutdown(s);
	if (len == 0 && s->closing)
		stream_notify(s, NOTIFY_CLOSE);
	if (s->drain_cb != NULL && len <= s->wlow)
		stream_notify(s, NOTIFY_DRAIN);
	/* A transfer waits for what was queued before it to go out. */
	if (len == 0 && s->xout != NULL)
		xfer_schedule(s->xout);
}

/* Can bytes be queued? -1 with s->werr (or the exception) if not. */
static int
writer_check(struct stream *s)
{
	if (s->kind == STREAM_DETACHED)
		s->werr = &stream_err_detached;
	else if (s->failed) {
		if (s->exc == NULL)
			s->werr = &stream_err_lost;
	} else if (s->wexc != NULL)
		s->werr = s->wexc;
	else if (s->closing || s->dead)
		s->werr = &stream_err_closing;
	else if (s->eof_wanted)
		s->werr = &stream_err_eof;
	else if (s->xout != NULL)
		s->werr = &stream_err_xfer_write;
	else if (s->kind == STREAM_FD && s->wfd == -1)
		s->werr = &stream_err_readonly;
	else
		return (0);
	return (-1);
}

/* Bytes were queued: send them now if nothing is waiting already. */
static void
writer_kick(struct stream *s)
{
	if (s->kind == STREAM_FD && !s->wev_on)
		fd_flush(s);
}

int
stream_write(struct stream *s, const void *data, size_t len)
{
	if (writer_check(s) != 0)
		return (-1);
	if (len == 0)
		return (0);
	if (s->kind == STREAM_TLS) {
		bufferevent_write(s->bev, data, len);
		return (0);
	}
	if (evbuffer_add(s->wbuf, data, len) != 0) {
		stream_fail_errno(s, "write", "to", ENOMEM);
		return (-1);
	}
	writer_kick(s);
	return (0);
}

int
stream_write_buffer(struct stream *s, struct evbuffer *buf)
{
	if (writer_check(s) != 0)
		return (-1);
	if (evbuffer_get_length(buf) == 0)
		return (0);
	/* Moves the chains: no copy. */
	if (s->kind == STREAM_TLS) {
		bufferevent_write_buffer(s->bev, buf);
		return (0);
	}
	if (evbuffer_add_buffer(s->wbuf, buf) != 0) {
		stream_fail_errno(s, "write", "to", ENOMEM);
		return (-1);
	}
	writer_kick(s);
	return (0);
}

int
stream_writelines(struct stream *s, const struct iovec *iov, int n)
{
	struct evbuffer	*out;
	int		 i;

	if (writer_check(s) != 0)
		return (-1);
	out = s->kind == STREAM_TLS ? bufferevent_get_output(s->bev) : s->wbuf;
	for (i = 0; i < n; i++) {
		if (iov[i].iov_len != 0 &&
		    evbuffer_add(out, iov[i].iov_base, iov[i].iov_len) != 0) {
			stream_fail_errno(s, "write", "to", ENOMEM);
			return (-1);
		}
	}
	writer_kick(s);
	return (0);
}

/* The file segment is done with: the stream owned its descriptor. */
static void
stream_file_cleanup_cb(struct evbuffer_file_segment const *seg, int flags,
    void *arg)
{
	close((int)(intptr_t)arg);
}

/*
 * Queue length bytes of fd from offset (length < 0: to its end). On
 * success the stream owns fd and closes it once sent; plain sockets send
 * it with sendfile(2), TLS maps it.
 */
int
stream_write_file(struct stream *s, int fd, off_t offset, off_t length)
{
	struct evbuffer_file_segment	*seg;
	struct evbuffer			*out;
	struct stat			 sb;

	if (writer_check(s) != 0)
		return (-1);
	if (fd < 0 || offset < 0) {
		s->werr = &stream_err_nofile;
		return (-1);
	}
	if (length < 0) {
		if (fstat(fd, &sb) == -1) {
			s->werr = &stream_err_nofile;
			return (-1);
		}
		length = sb.st_size > offset ? sb.st_size - offset : 0;
	}
	if (length == 0) {
		close(fd);	/* ours now, and nothing to send */
		return (0);
	}
	seg = evbuffer_file_segment_new(fd, offset, length, 0);
	if (seg == NULL) {
		s->werr = &stream_err_nofile;
		return (-1);
	}
	out = s->kind == STREAM_TLS ? bufferevent_get_output(s->bev) : s->wbuf;
	if (evbuffer_add_file_segment(out, seg, 0, -1) != 0) {
		evbuffer_file_segment_free(seg);
		s->werr = &stream_err_nofile;
		return (-1);
	}
	evbuffer_file_segment_add_cleanup_cb(seg, stream_file_cleanup_cb,
	    (void *)(intptr_t)fd);
	if (s->kind == STREAM_FD)
		s->wfile = 1;
	/* Drop our reference: the buffer's chain holds the segment now. */
	evbuffer_file_segment_free(seg);
	writer_kick(s);
	return (0);
}

static void
stream_tls_watermark(struct stream *s)
{
	size_t	low = 0;

	if (s->drain_cb != NULL && !s->closing && !s->eof_wanted)
		low = s->wlow;
	bufferevent_setwatermark(s->bev, EV_WRITE, low, 0);
}

void
stream_drain(struct stream *s, stream_done_cb cb, void *arg)
{
	struct stream_error	err;

	/* asyncio's drain() raises the reader's exception first. */
	if (s->exc != NULL || s->wexc != NULL) {
		err = s->exc != NULL ? *s->exc : *s->wexc;
		cb(s, &err, arg);
		return;
	}
	if (s->kind == STREAM_DETACHED || s->closing || s->dead) {
		stream_error_set(&err, STREAM_ECLOSED, 0, "drain: %s",
		    s->kind == STREAM_DETACHED ? "the stream has no transport" :
		    "the stream is closing");
		cb(s, &err, arg);
		return;
	}
	assert(s->drain_cb == NULL);
	if (stream_wlen(s) <= s->wlow) {
		cb(s, &stream_ok, arg);
		return;
	}
	s->drain_cb = cb;
	s->drain_arg = arg;
	if (s->kind == STREAM_TLS)
		stream_tls_watermark(s);
}

int
stream_can_write_eof(struct stream *s)
{
	if (s->kind != STREAM_FD || s->wfd == -1)
		return (0);
	return (s->wsock || s->wfd != s->rfd);
}

int
stream_write_eof(struct stream *s)
{
	if (s->eof_wanted && !s->failed && !s->closing && !s->dead)
		return (0);	/* asyncio: a second write_eof does nothing */
	if (writer_check(s) != 0)
		return (-1);
	if (s->kind == STREAM_FD && !stream_can_write_eof(s)) {
		s->werr = &stream_err_noeof;
		return (-1);
	}
	s->eof_wanted = 1;
	if (s->kind == STREAM_TLS)
		stream_tls_watermark(s);
	writer_progress(s);
	return (0);
}

size_t
stream_write_buffer_size(struct stream *s)
{
	return (stream_wlen(s));
}

void
stream_set_write_buffer_limits(struct stream *s, size_t high, size_t low)
{
	if (low > high)
		low = high;
	s->whigh = high;
	s->wlow = low;
	if (s->kind == STREAM_TLS && s->bev != NULL)
		stream_tls_watermark(s);
	if (s->drain_cb != NULL && stream_wlen(s) <= s->wlow)
		stream_notify(s, NOTIFY_DRAIN);
}

int
stream_is_closing(struct stream *s)
{
	return (s->closing || s->failed || s->wexc != NULL || s->dead);
}

void
stream_close(struct stream *s, stream_done_cb cb, void *arg)
{
	if (s->dead || s->closing)
		return;
	xfer_stream_closed(s);
	s->closing = 1;
	s->close_cb = cb;
	s->close_arg = arg;
	/* Nobody is listening any more: only the close callback runs. */
	s->op.kind = OP_NONE;
	s->drain_cb = NULL;
	if (s->kind == STREAM_DETACHED) {
		stream_hold(s);
		stream_finish_close(s);
		stream_release(s);
		return;
	}
	transport_reading(s);
	if (s->kind == STREAM_TLS)
		stream_tls_watermark(s);
	writer_progress(s);
}

/*
 * Kernel-side transfers (stream_transfer). The bytes go from src's
 * descriptor to dst's with splice(2) through a pipe of our own (or
 * straight, when one end is a pipe already) or with sendfile(2) from a
 * regular file to a socket, and never enter user space. The transfer owns
 * src's reading and dst's writing while it runs, with events of its own;
 * the streams keep their timers, counters and failure handling.
 */
enum xfer_mode {
	XFER_PIPE,	/* src -> our pipe -> dst */
	XFER_DIRECT,	/* src or dst is a pipe */
	XFER_SENDFILE	/* regular file -> socket */
};

/* How a pass of a transfer ended. */
enum xfer_result {
	XR_WAIT,	/* waiting for an event */
	XR_MORE,	/* out of budget: another pass after the poll */
	XR_EOF,		/* src at EOF, all written */
	XR_FAIL,	/* x->failed says which side */
	XR_UNSUPPORTED	/* the kernel refused before writing a byte */
};

enum xfer_fdkind {
	XK_NONE,
	XK_SOCK,
	XK_PIPE,
	XK_FILE,
	XK_NULL
};

struct stream_xfer {
	struct stream		*src;
	struct stream		*dst;
	enum xfer_mode		 mode;
	stream_transfer_cb	 cb;
	void			*arg;
	int			 rfd;
	int			 wfd;
	int			 pfd[2];	/* XFER_PIPE: our pipe */
	size_t			 pipesz;
	size_t			 inpipe;	/* bytes in it */
	size_t			 moved;		/* not yet reported */
	unsigned long long	 kout;		/* bytes the kernel wrote */
	unsigned int		 rpoll:1;
	unsigned int		 wpoll:1;
	unsigned int		 srcpipe:1;
	unsigned int		 src_eof:1;
	unsigned int		 rev_on:1;
	unsigned int		 wev_on:1;
	unsigned int		 failed:1;
	struct event		*rev;		/* EV_READ on src */
	struct event		*wev;		/* EV_WRITE on dst */
	struct event		*kev;		/* the next pass */
	enum stream_side	 side;
	struct stream_error	 err;
};

#ifdef STREAM_XFER
static void	xfer_event_cb(evutil_socket_t, short, void *);

/* What splice(2) and sendfile(2) can do with a descriptor. */
static enum xfer_fdkind
xfer_fdkind(int fd, int wr)
{
	struct stat	sb;
	int		flags;

	if (fd == -1 || fstat(fd, &sb) == -1)
		return (XK_NONE);
	if (S_ISSOCK(sb.st_mode))
		return (XK_SOCK);
	if (S_ISFIFO(sb.st_mode))
		return (XK_PIPE);
	if (S_ISREG(sb.st_mode)) {
		/* splice(2) refuses a file opened for appending. */
		if (wr && ((flags = fcntl(fd, F_GETFL)) == -1 ||
		    (flags & O_APPEND)))
			return (XK_NONE);
		return (XK_FILE);
	}
	if (wr && S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 3))
		return (XK_NULL);
	return (XK_NONE);
}

/* Everything but the descriptors: may src be read and dst written? */
static int
xfer_possible(struct stream *src, struct stream *dst)
{
	if (src == dst || src->kind != STREAM_FD || dst->kind != STREAM_FD ||
	    src->base == NULL || src->base != dst->base)
		return (0);
	if (src->dead || src->failed || src->closing || src->eof ||
	    src->exc != NULL || src->rfd == -1 || src->op.kind != OP_NONE ||
	    src->xin != NULL)
		return (0);
	if (dst->dead || dst->failed || dst->closing || dst->eof_wanted ||
	    dst->wfd == -1 || dst->drain_cb != NULL || dst->xout != NULL)
		return (0);
	return (1);
}

/*
 * Our pipe, as large as the system lets us have: F_SETPIPE_SZ is refused
 * above pipe-max-size or the per-user limit, and then a smaller one, or
 * in the end the default, does.
 */
static int
xfer_pipe_open(struct stream_xfer *x)
{
	int	size;

	if (pipe2(x->pfd, O_NONBLOCK|O_CLOEXEC) == -1) {
		x->pfd[0] = x->pfd[1] = -1;
		return (-1);
	}
	for (size = XFER_PIPE_SIZE; size > 65536; size /= 2) {
		if (fcntl(x->pfd[1], F_SETPIPE_SZ, size) != -1)
			break;
	}
	if ((size = fcntl(x->pfd[1], F_GETPIPE_SZ)) <= 0)
		size = 65536;
	x->pipesz = (size_t)size;
	return (0);
}

/* Detach from both streams and free. */
static void
xfer_free(struct stream_xfer *x)
{
	if (x->src->xin == x)
		x->src->xin = NULL;
	if (x->dst->xout == x)
		x->dst->xout = NULL;
	if (x->rev != NULL)
		event_free(x->rev);
	if (x->wev != NULL)
		event_free(x->wev);
	if (x->kev != NULL)
		event_free(x->kev);
	if (x->pfd[0] != -1)
		close(x->pfd[0]);
	if (x->pfd[1] != -1)
		close(x->pfd[1]);
	free(x);
}

static int
xfer_events(struct stream_xfer *x, struct event_base *base)
{
	if (x->rpoll && (x->rev = event_new(base, x->rfd, EV_READ|EV_PERSIST,
	    xfer_event_cb, x)) == NULL)
		return (-1);
	if (x->wpoll && (x->wev = event_new(base, x->wfd,
	    EV_WRITE|EV_PERSIST, xfer_event_cb, x)) == NULL)
		return (-1);
	if ((x->kev = evtimer_new(base, xfer_event_cb, x)) == NULL)
		return (-1);
	return (0);
}

int
stream_transfer(struct stream *src, struct stream *dst, stream_transfer_cb cb,
    void *arg)
{
	struct stream_xfer	*x;
	enum xfer_fdkind	 rk, wk;
	size_t			 len;

	if (!xfer_possible(src, dst))
		return (-1);
	rk = xfer_fdkind(src->rfd, 0);
	wk = xfer_fdkind(dst->wfd, 1);
	if (rk == XK_NONE || wk == XK_NONE)
		return (-1);
	x = xcalloc(1, sizeof *x);
	x->src = src;
	x->dst = dst;
	x->cb = cb;
	x->arg = arg;
	x->rfd = src->rfd;
	x->wfd = dst->wfd;
	x->pfd[0] = x->pfd[1] = -1;
	x->rpoll = src->rpoll;
	x->wpoll = dst->wpoll;
	x->srcpipe = rk == XK_PIPE;
	if (rk == XK_FILE && wk == XK_SOCK)
		x->mode = XFER_SENDFILE;
	else if (rk == XK_PIPE || wk == XK_PIPE)
		x->mode = XFER_DIRECT;
	else
		x->mode = XFER_PIPE;
	if ((x->mode == XFER_PIPE && xfer_pipe_open(x) == -1) ||
	    xfer_events(x, src->base) == -1) {
		xfer_free(x);
		return (-1);
	}

	src->xin = x;
	dst->xout = x;
	transport_reading(src);
	/* What src's reader holds goes first, through dst's writer. */
	if ((len = evbuffer_get_length(src->rbuf)) > 0) {
		x->moved = len;
		evbuffer_add_buffer(dst->wbuf, src->rbuf);
		writer_kick(dst);
	}
	xfer_schedule(x);
	return (0);
}

void
stream_transfer_stop(struct stream *src)
{
	if (src->xin == NULL)
		return;
	xfer_free(src->xin);
	transport_reading(src);
}

/* Run a pass from the loop, never from inside the caller. */
static void
xfer_schedule(struct stream_xfer *x)
{
	event_active(x->kev, EV_TIMEOUT, 1);
}

static void
xfer_fail(struct stream_xfer *x, enum stream_side side,
    const struct stream_error *err)
{
	if (x->failed)
		return;
	x->failed = 1;
	x->side = side;
	x->err = err != NULL ? *err : stream_err_lost;
	xfer_schedule(x);
}

/* transport_fail() on a stream: its transfers end with its error. */
static void
xfer_stream_failed(struct stream *s)
{
	if (s->xin != NULL)
		xfer_fail(s->xin, STREAM_SIDE_READ, s->exc);
	if (s->xout != NULL)
		xfer_fail(s->xout, STREAM_SIDE_WRITE, s->exc);
}

/* Only the write side went: a transfer into s fails, one out of it goes on. */
static void
xfer_stream_write_failed(struct stream *s)
{
	if (s->xout != NULL)
		xfer_fail(s->xout, STREAM_SIDE_WRITE, s->wexc);
}

static void
xfer_cancel(struct stream_xfer *x)
{
	stream_transfer_cb	 cb = x->cb;
	void			*arg = x->arg;
	struct stream_error	 err;
	size_t			 moved = x->moved;

	stream_error_set(&err, STREAM_ECLOSED, 0,
	    "transfer: the stream was closed");
	xfer_free(x);
	cb(STREAM_XFER_CANCELLED, moved, STREAM_SIDE_NONE, &err, arg);
}

/* stream_close() or stream_abort(): transfers on the stream end now. */
static void
xfer_stream_closed(struct stream *s)
{
	if (s->xin != NULL)
		xfer_cancel(s->xin);
	if (s->xout != NULL)
		xfer_cancel(s->xout);
}

/* The last call: detach, let src's reader go on, call back. */
static void
xfer_end(struct stream_xfer *x, enum stream_xfer_event ev)
{
	stream_transfer_cb	 cb = x->cb;
	void			*arg = x->arg;
	struct stream		*src = x->src;
	struct stream_error	 err = x->failed ? x->err : stream_ok;
	enum stream_side	 side = x->failed ? x->side : STREAM_SIDE_NONE;
	size_t			 moved = x->moved;

	xfer_free(x);
	transport_reading(src);
	cb(ev, moved, side, &err, arg);
}

static void
xfer_in(struct stream_xfer *x, size_t n)
{
	x->src->bytes_in += n;
	stream_touch(x->src);
}

static void
xfer_out(struct stream_xfer *x, size_t n)
{
	x->dst->bytes_out += n;
	x->moved += n;
	x->kout += n;
	stream_touch(x->dst);
}

/*
 * Give back what sits in our pipe to dst's writer (the kernel refused the
 * second splice): the caller's read/write loop goes on after those bytes.
 */
static int
xfer_unsplice(struct stream_xfer *x)
{
	struct evbuffer_iovec	v[1];
	ssize_t			n;

	while (x->inpipe > 0) {
		if (evbuffer_reserve_space(x->dst->wbuf, x->inpipe, v, 1) != 1)
			return (-1);
		if (v[0].iov_len > x->inpipe)
			v[0].iov_len = x->inpipe;
		if ((n = read(x->pfd[0], v[0].iov_base, v[0].iov_len)) <= 0) {
			evbuffer_commit_space(x->dst->wbuf, v, 0);
			return (-1);
		}
		v[0].iov_len = (size_t)n;
		evbuffer_commit_space(x->dst->wbuf, v, 1);
		x->inpipe -= (size_t)n;
		x->moved += (size_t)n;
	}
	return (0);
}

/* A call failed: the stream of that side fails, or we step aside. */
static enum xfer_result
xfer_error(struct stream_xfer *x, enum stream_side side, int error)
{
	struct stream	*s = side == STREAM_SIDE_READ ? x->src : x->dst;

	if ((error == EINVAL || error == ENOSYS || error == EOPNOTSUPP) &&
	    x->kout == 0 && xfer_unsplice(x) == 0)
		return (XR_UNSUPPORTED);
	if (side == STREAM_SIDE_READ)
		stream_fail_errno(s, "read", "from", error);
	else
		stream_fail_errno(s, "write", "to", error);
	xfer_fail(x, side, s->exc);
	return (XR_FAIL);
}

static int
xfer_ev(struct event *ev, unsigned int *on, int want)
{
	if (want && !*on) {
		if (event_add(ev, NULL) != 0)
			return (-1);
		*on = 1;
	} else if (!want && *on) {
		event_del(ev);
		*on = 0;
	}
	return (0);
}

/*
 * Wait for src to have bytes or for dst to take some (neither: only
 * disarm). A descriptor epoll cannot watch never says EAGAIN; should one,
 * retry in a millisecond rather than spin or stall.
 */
static enum xfer_result
xfer_wait(struct stream_xfer *x, int rd, int wr)
{
	static const struct timeval	ms = { 0, 1000 };
	unsigned int			rev_on = x->rev_on, wev_on = x->wev_on;

	if ((rd && !x->rpoll) || (wr && !x->wpoll)) {
		rd = rd && x->rpoll;
		wr = wr && x->wpoll;
		evtimer_add(x->kev, &ms);
	}
	if (x->rev != NULL && xfer_ev(x->rev, &rev_on, rd) != 0)
		return (xfer_error(x, STREAM_SIDE_READ, errno));
	if (x->wev != NULL && xfer_ev(x->wev, &wev_on, wr) != 0)
		return (xfer_error(x, STREAM_SIDE_WRITE, errno));
	x->rev_on = rev_on;
	x->wev_on = wev_on;
	return (XR_WAIT);
}

/* Has the pipe a free slot (POLLOUT is exactly that for a pipe)? */
static int
xfer_pipe_room(int fd)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = POLLOUT;
	pfd.revents = 0;
	return (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT));
}

/*
 * A splice said EAGAIN: was it src, with nothing to read, or dst, with no
 * room? Ask the end that is a pipe. (Not FIONREAD on a socket src: a
 * socket with only its FIN left reads as empty yet polls readable, and
 * waiting for it would spin while the pipe is full.)
 */
static int
xfer_src_empty(struct stream_xfer *x)
{
	int	n;

	if (x->mode == XFER_PIPE)
		return (xfer_pipe_room(x->pfd[1]));
	if (!x->rpoll)
		return (0);	/* a file: the EAGAIN was the pipe's */
	if (!x->wpoll)
		return (1);
	if (x->srcpipe)
		return (ioctl(x->rfd, FIONREAD, &n) == -1 || n <= 0);
	return (xfer_pipe_room(x->wfd));
}

/*
 * src -> pipe -> dst. The pipe holds what dst has not taken: when it is
 * full, src is not read (backpressure). A pipe counts its room in slots
 * (pages, or less), not bytes, so "full" is learnt from EAGAIN, and
 * poll() on the pipe tells a full pipe from an empty src.
 */
static enum xfer_result
xfer_pipe_pass(struct stream_xfer *x)
{
	const unsigned int	 fl = SPLICE_F_MOVE|SPLICE_F_NONBLOCK;
	size_t			 total = 0;
	ssize_t			 n;
	int			 rblocked = 0, wblocked = 0, progress;

	do {
		progress = 0;
		if (!x->src_eof && !rblocked && x->inpipe < x->pipesz) {
			n = splice(x->rfd, NULL, x->pfd[1], NULL,
			    x->pipesz - x->inpipe, fl);
			if (n > 0) {
				x->inpipe += (size_t)n;
				xfer_in(x, (size_t)n);
				progress = 1;
			} else if (n == 0)
				x->src_eof = progress = 1;
			else if (errno == EAGAIN)
				rblocked = 1;
			else if (errno != EINTR)
				return (xfer_error(x, STREAM_SIDE_READ, errno));
		}
		if (x->inpipe > 0 && !wblocked) {
			n = splice(x->pfd[0], NULL, x->wfd, NULL, x->inpipe, fl);
			if (n > 0) {
				x->inpipe -= (size_t)n;
				xfer_out(x, (size_t)n);
				total += (size_t)n;
				rblocked = 0;	/* it may have been the pipe */
				progress = 1;
			} else if (n == -1 && errno == EAGAIN)
				wblocked = 1;
			else if (n == 0 || errno != EINTR)
				return (xfer_error(x, STREAM_SIDE_WRITE,
				    n == 0 ? EIO : errno));
		}
		if (x->src_eof && x->inpipe == 0)
			return (XR_EOF);
		if (total >= XFER_BUDGET)
			return (XR_MORE);
	} while (progress);
	/*
	 * Stuck bytes wait for dst; src is watched when the pipe has room.
	 * (A file src never says EAGAIN with room: xfer_wait retries then.)
	 */
	return (xfer_wait(x, !x->src_eof && rblocked && xfer_src_empty(x),
	    x->inpipe > 0));
}

/*
 * Which side an error of a straight call belongs to. splice: a pipe fails
 * no read, so an error is the other end's, EPIPE the writer's. sendfile:
 * only reading the file gives EIO or EOVERFLOW; the rest is the socket's.
 */
static enum stream_side
xfer_straight_side(struct stream_xfer *x, int error)
{
	if (x->mode == XFER_SENDFILE)
		return (error == EIO || error == EOVERFLOW ?
		    STREAM_SIDE_READ : STREAM_SIDE_WRITE);
	if (error == EPIPE || x->srcpipe)
		return (STREAM_SIDE_WRITE);
	return (STREAM_SIDE_READ);
}

/*
 * No pipe of ours in between: splice straight from src to dst when one
 * end is a pipe, or sendfile from a regular file (at its offset) to a
 * socket, until EOF.
 */
static enum xfer_result
xfer_straight_pass(struct stream_xfer *x)
{
	size_t	total = 0;
	ssize_t	n;

	while (total < XFER_BUDGET) {
		if (x->mode == XFER_SENDFILE)
			n = sendfile(x->wfd, x->rfd, NULL, XFER_CHUNK);
		else
			n = splice(x->rfd, NULL, x->wfd, NULL, XFER_CHUNK,
			    SPLICE_F_MOVE|SPLICE_F_NONBLOCK);
		if (n > 0) {
			xfer_in(x, (size_t)n);
			xfer_out(x, (size_t)n);
			total += (size_t)n;
			continue;
		}
		if (n == 0)
			return (XR_EOF);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* A file never runs dry: only the socket can block. */
			if (x->mode != XFER_SENDFILE && xfer_src_empty(x))
				return (xfer_wait(x, 1, 0));
			return (xfer_wait(x, 0, 1));
		}
		return (xfer_error(x, xfer_straight_side(x, errno), errno));
	}
	return (XR_MORE);
}

/* Report what moved; the callback may end the transfer (and free x). */
static void
xfer_report(struct stream_xfer *x)
{
	size_t	moved = x->moved;

	if (moved == 0)
		return;
	x->moved = 0;
	x->cb(STREAM_XFER_MOVED, moved, STREAM_SIDE_NONE, &stream_ok, x->arg);
}

static void
xfer_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream_xfer	*x = arg;
	enum xfer_result	 r;

	if (x->failed) {
		xfer_end(x, STREAM_XFER_DONE);
		return;
	}
	/* Bytes queued before the transfer go first. */
	if (stream_wlen(x->dst) > 0) {
		xfer_wait(x, 0, 0);
		xfer_report(x);
		return;
	}
	if (x->mode == XFER_PIPE)
		r = xfer_pipe_pass(x);
	else
		r = xfer_straight_pass(x);
	switch (r) {
	case XR_EOF:
		x->src->eof = 1;
		xfer_end(x, STREAM_XFER_DONE);
		return;
	case XR_FAIL:
		xfer_end(x, STREAM_XFER_DONE);
		return;
	case XR_UNSUPPORTED:
		writer_kick(x->dst);
		xfer_end(x, STREAM_XFER_UNSUPPORTED);
		return;
	case XR_MORE:
		/* After the poll: the other direction gets its turn. */
		xfer_wait(x, 0, 0);
		evtimer_add(x->kev, &stream_tv_zero);
		break;
	case XR_WAIT:
		break;
	}
	xfer_report(x);
}
#else /* !STREAM_XFER */
int
stream_transfer(struct stream *src, struct stream *dst, stream_transfer_cb cb,
    void *arg)
{
	return (-1);
}

void
stream_transfer_stop(struct stream *src)
{
}

static void
xfer_schedule(struct stream_xfer *x)
{
}

static void
xfer_stream_failed(struct stream *s)
{
}

static void
xfer_stream_write_failed(struct stream *s)
{
}

static void
xfer_stream_closed(struct stream *s)
{
}
#endif /* STREAM_XFER */

/*
 * The TLS transport: a libevent openssl bufferevent over the socket.
 */
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
	transport_reading(s);
	writer_progress(s);	/* a write_eof or close may be waiting */
	if (cb != NULL)
		cb(s, &stream_ok, arg);
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

static void
stream_timer_arm(struct stream *s, uint64_t ms)
{
	struct timeval	tv;

	if (s->tev == NULL)
		return;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(s->tev, &tv);
}

/*
 * One timer per stream. Idle: rather than re-adding it on every read and
 * write, each one notes the time and the timer, when it fires, re-arms
 * for what is left.
 */
static void
stream_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream		*s = arg;
	struct stream_error	 err;
	uint64_t		 since;

	stream_hold(s);
	if (s->handshaking) {
		stream_error_set(&err, STREAM_ETIMEOUT, ETIMEDOUT,
		    "tls handshake with %s: timed out", stream_label(s));
		tls_handshake_done(s, &err);
	} else if (s->idle_ms != 0 && !s->failed) {
		since = stream_now_ms() - s->last_ms;
		if (since < s->idle_ms)
			stream_timer_arm(s, s->idle_ms - since);
		else {
			stream_error_set(&err, STREAM_ETIMEOUT, ETIMEDOUT,
			    "%s%sidle timeout (%.3g s without traffic)",
			    s->peer != NULL ? s->peer : "",
			    s->peer != NULL && *s->peer != '\0' ? ": " : "",
			    (double)s->idle_ms / 1000);
			transport_fail(s, &err);
		}
	}
	stream_release(s);
}

static int
stream_new_timer(struct stream *s, double idle_timeout)
{
	s->idle_ms = stream_secs_ms(idle_timeout);
	if (s->idle_ms == 0 && s->kind != STREAM_TLS)
		return (0);
	if ((s->tev = evtimer_new(s->base, stream_timer_cb, s)) == NULL)
		return (-1);
	if (s->idle_ms != 0 && s->kind != STREAM_TLS) {
		stream_touch(s);
		stream_timer_arm(s, s->idle_ms);
	}
	return (0);
}

static void
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
 * Wrap a connected socket in TLS. On failure the socket and ssl are
 * closed and freed, and err says why. hs_cb gets the handshake's result
 * (NULL: a failure becomes the stream's exception).
 */
static struct stream *
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

/*
 * Describe one descriptor of an fd transport: epoll cannot watch regular
 * files or /dev/null (fact 9), so those get blocking I/O.
 */
static int
stream_fd_setup(int fd, int *poll, int *sock, int *saved,
    struct stream_error *err)
{
	struct stat	sb;
	int		flags, want;

	if (fstat(fd, &sb) == -1 || (flags = fcntl(fd, F_GETFL)) == -1) {
		stream_error_set(err, STREAM_ESYS, errno, "fd %d: %s", fd,
		    strerror(errno));
		return (-1);
	}
	*sock = S_ISSOCK(sb.st_mode);
	*poll = S_ISSOCK(sb.st_mode) || S_ISFIFO(sb.st_mode) ||
	    (S_ISCHR(sb.st_mode) && isatty(fd));
	want = *poll ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
	*saved = -1;
	if (want != flags) {
		if (fcntl(fd, F_SETFL, want) == -1) {
			stream_error_set(err, STREAM_ESYS, errno, "fd %d: %s",
			    fd, strerror(errno));
			return (-1);
		}
		*saved = flags;
	}
	return (0);
}

/* Undo stream_fd_setup on a failed open; the descriptors stay open. */
static void
stream_fd_unsetup(struct stream *s)
{
	if (s->wflags != -1 && s->wfd != -1)
		fcntl(s->wfd, F_SETFL, s->wflags);
	if (s->rflags != -1 && s->rfd != -1)
		fcntl(s->rfd, F_SETFL, s->rflags);
	s->rfd = s->wfd = -1;
	s->dead = 1;
	stream_destroy(s);
}

static struct stream *
stream_new_fd(struct event_base *base, int rfd, int wfd, size_t limit,
    double idle_timeout, struct stream_error *err)
{
	struct stream	*s;
	int		 poll, sock;

	if ((s = stream_alloc(base, limit)) == NULL) {
		stream_error_set(err, STREAM_ESYS, ENOMEM, "stream: %s",
		    strerror(ENOMEM));
		return (NULL);
	}
	s->kind = STREAM_FD;
	if (rfd != -1) {
		if (stream_fd_setup(rfd, &poll, &sock, &s->rflags, err) != 0)
			goto fail;
		s->rfd = rfd;
		s->rpoll = poll;
		s->rsock = sock;
	}
	if (wfd != -1 && wfd == rfd) {
		s->wfd = rfd;
		s->wpoll = s->rpoll;
		s->wsock = s->rsock;
	} else if (wfd != -1) {
		if (stream_fd_setup(wfd, &poll, &sock, &s->wflags, err) != 0)
			goto fail;
		s->wfd = wfd;
		s->wpoll = poll;
		s->wsock = sock;
	}
	if ((s->wbuf = evbuffer_new()) == NULL)
		goto nomem;
	/* evbuffer_add_file() then goes out with sendfile(2). */
	evbuffer_set_flags(s->wbuf, EVBUFFER_FLAG_DRAINS_TO_FD);
	if (s->rfd != -1) {
		s->rev = event_new(base, s->rpoll ? s->rfd : -1, s->rpoll ?
		    EV_READ|EV_PERSIST : 0, fd_read_cb, s);
		if (s->rev == NULL)
			goto nomem;
	} else
		s->eof = 1;	/* no read side: nothing will ever come */
	if (stream_new_timer(s, idle_timeout) != 0)
		goto nomem;
	if (s->rsock)
		stream_set_peer(s, s->rfd);
	else if (s->wsock)
		stream_set_peer(s, s->wfd);
	transport_reading(s);
	return (s);

nomem:
	stream_error_set(err, STREAM_ESYS, ENOMEM, "stream: %s",
	    strerror(ENOMEM));
fail:
	stream_fd_unsetup(s);
	return (NULL);
}

struct stream *
stream_new_detached(size_t limit)
{
	struct stream	*s;

	if ((s = stream_alloc(NULL, limit)) == NULL)
		return (NULL);
	s->kind = STREAM_DETACHED;
	return (s);
}

struct stream *
stream_open_fds(struct event_base *base, int rfd, int wfd,
    const struct stream_opts *opts, struct stream_error *err)
{
	if (rfd < 0 && wfd < 0) {
		stream_error_set(err, STREAM_ESYS, EBADF, "no descriptor: %s",
		    strerror(EBADF));
		return (NULL);
	}
	return (stream_new_fd(base, rfd < 0 ? -1 : rfd, wfd < 0 ? -1 : wfd,
	    opts != NULL ? opts->limit : 0,
	    opts != NULL ? opts->idle_timeout : 0, err));
}

struct stream *
stream_open_fd(struct event_base *base, int fd, const struct stream_opts *opts,
    struct stream_error *err)
{
	struct stream_error	 e;
	SSL			*ssl;
	socklen_t		 len = sizeof(int);
	int			 type, flags;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1) {
		stream_error_set(err, STREAM_ESYS, errno, "fd %d: %s", fd,
		    strerror(errno));
		return (NULL);
	}
	if (type != SOCK_STREAM) {
		stream_error_set(err, STREAM_ESYS, EPROTOTYPE,
		    "fd %d: not a stream socket", fd);
		return (NULL);
	}
	net_set_nodelay(fd);
	if (opts == NULL || opts->tls_ctx == NULL)
		return (stream_new_fd(base, fd, fd, opts != NULL ? opts->limit :
		    0, opts != NULL ? opts->idle_timeout : 0, err));

	/* TLS: the handshake runs on; a failure becomes the exception. */
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		stream_error_set(err, STREAM_ESYS, errno, "fd %d: %s", fd,
		    strerror(errno));
		return (NULL);
	}
	if ((ssl = tls_ssl_new(opts->tls_ctx, opts->tls_servername, 0,
	    &e)) == NULL) {
		*err = e;
		return (NULL);
	}
	return (stream_new_tls(base, fd, ssl, 0, opts->limit,
	    opts->idle_timeout, opts->connect_timeout, NULL, NULL, err));
}

/*
 * open_connection and open_unix_connection: net.c connects (every address
 * in order, one timeout), then TLS if asked within what is left of it.
 */
static void
connect_free(struct stream_connect *c)
{
	free(c->servername);
	free(c);
}

static void
connect_hs_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct stream_connect	*c = arg;

	if (err->kind != STREAM_OK) {
		stream_abort(s);
		s = NULL;
	}
	c->cb(s, err, c->arg);
	connect_free(c);
}

static void
connect_done_cb(int fd, const struct stream_error *err, void *arg)
{
	struct stream_connect	*c = arg;
	struct stream_error	 e;
	struct stream		*s;
	SSL			*ssl;
	double			 left = 0;

	if (fd == -1) {
		c->cb(NULL, err, c->arg);
		connect_free(c);
		return;
	}
	net_set_nodelay(fd);
	if (c->tls_ctx == NULL) {
		s = stream_new_fd(c->base, fd, fd, c->limit, c->idle_timeout,
		    &e);
		if (s == NULL)
			close(fd);
		c->cb(s, s != NULL ? &stream_ok : &e, c->arg);
		connect_free(c);
		return;
	}
	if ((ssl = tls_ssl_new(c->tls_ctx, c->servername, 0, &e)) == NULL) {
		close(fd);
		c->cb(NULL, &e, c->arg);
		connect_free(c);
		return;
	}
	/* The handshake gets what the connect timeout has left. */
	if (c->timeout > 0) {
		left = c->timeout - (double)(stream_now_ms() - c->start_ms) /
		    1000;
		if (left < 0.001)
			left = 0.001;
	}
	s = stream_new_tls(c->base, fd, ssl, 0, c->limit, c->idle_timeout,
	    left, connect_hs_cb, c, &e);
	if (s == NULL) {
		c->cb(NULL, &e, c->arg);
		connect_free(c);
	}
}

static struct stream_connect *
connect_new(struct event_base *base, const char *servername,
    const struct stream_opts *opts, stream_done_cb cb, void *arg)
{
	struct stream_connect	*c;

	c = xcalloc(1, sizeof *c);
	c->base = base;
	c->cb = cb;
	c->arg = arg;
	c->start_ms = stream_now_ms();
	if (opts != NULL) {
		c->limit = opts->limit;
		c->idle_timeout = opts->idle_timeout;
		c->timeout = opts->connect_timeout;
		c->tls_ctx = opts->tls_ctx;
		if (opts->tls_servername != NULL)
			servername = opts->tls_servername;
	}
	if (servername != NULL)
		c->servername = xstrdup(servername);
	return (c);
}

void
stream_open_connection(struct event_base *base, const char *host,
    const char *port, const struct stream_opts *opts, stream_done_cb cb,
    void *arg)
{
	struct stream_connect	*c;

	c = connect_new(base, host, opts, cb, arg);
	net_connect_tcp(base, host, port, opts != NULL ? opts->family :
	    AF_UNSPEC, c->timeout, connect_done_cb, c);
}

void
stream_open_unix_connection(struct event_base *base, const char *path,
    const struct stream_opts *opts, stream_done_cb cb, void *arg)
{
	struct stream_connect	*c;

	c = connect_new(base, NULL, opts, cb, arg);
	net_connect_unix(base, path, c->timeout, connect_done_cb, c);
}

/*
 * Servers.
 */
static void
server_log(struct stream_server *srv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
server_log(struct stream_server *srv, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	if (srv == NULL || srv->log_cb == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	srv->log_cb(msg, srv->log_arg);
}

static void
server_attach(struct stream_server *srv, struct stream *s)
{
	s->server = srv;
	LIST_INSERT_HEAD(&srv->conns, s, entry);
	srv->nconns++;
}

static void
server_hs_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct stream_server	*srv = s->server;

	if (err->kind != STREAM_OK) {
		server_log(srv, "%s: %s", stream_label(s), err->msg);
		stream_abort(s);
		return;
	}
	/* The server was closed during the handshake: nobody to hand it to. */
	if (srv == NULL) {
		stream_abort(s);
		return;
	}
	srv->cb(s, srv->arg);
}

static void
server_accept_cb(int fd, const struct sockaddr *sa, socklen_t salen, void *arg)
{
	struct stream_server	*srv = arg;
	struct stream_error	 err;
	struct stream		*s;
	char			 peer[256];
	SSL			*ssl;

	net_format_addr(sa, salen, peer, sizeof peer);
	if (srv->max_conns != 0 && srv->nconns >= srv->max_conns) {
		close(fd);
		server_log(srv, "max-conns %u reached: closed %s",
		    srv->max_conns, peer[0] != '\0' ? peer : "a client");
		return;
	}
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		net_set_nodelay(fd);
	if (srv->tls_ctx != NULL) {
		if ((ssl = tls_ssl_new(srv->tls_ctx, NULL, 1, &err)) == NULL) {
			close(fd);
			server_log(srv, "%s: %s", peer, err.msg);
			return;
		}
		s = stream_new_tls(srv->base, fd, ssl, 1, srv->limit,
		    srv->idle_timeout, srv->hs_timeout, server_hs_cb, NULL,
		    &err);
		if (s == NULL) {
			server_log(srv, "%s: %s", peer, err.msg);
			return;
		}
		server_attach(srv, s);
		return;
	}
	if ((s = stream_new_fd(srv->base, fd, fd, srv->limit,
	    srv->idle_timeout, &err)) == NULL) {
		close(fd);
		server_log(srv, "%s: %s", peer, err.msg);
		return;
	}
	server_attach(srv, s);
	/* Last: the callback may close the server. */
	srv->cb(s, srv->arg);
}

static struct stream_server *
server_new(struct event_base *base, const struct stream_opts *opts,
    stream_accept_cb cb, void *arg, size_t n)
{
	struct stream_server	*srv;

	srv = xcalloc(1, sizeof *srv);
	srv->base = base;
	srv->cb = cb;
	srv->arg = arg;
	LIST_INIT(&srv->conns);
	if (opts != NULL) {
		srv->limit = opts->limit;
		srv->idle_timeout = opts->idle_timeout;
		srv->hs_timeout = opts->connect_timeout;
		srv->tls_ctx = opts->tls_ctx;
		srv->max_conns = opts->max_conns;
		srv->log_cb = opts->log_cb;
		srv->log_arg = opts->log_arg;
	}
	srv->n = n;
	srv->listeners = xcalloc(n, sizeof *srv->listeners);
	srv->addrs = xcalloc(n, sizeof *srv->addrs);
	return (srv);
}

/* Watch fds[i]; on failure every fd is closed and srv freed. */
static int
server_listen(struct stream_server *srv, int *fds, struct stream_error *err)
{
	char	addr[256];
	size_t	i, j;

	for (i = 0; i < srv->n; i++) {
		if (srv->path != NULL)
			srv->addrs[i] = xstrdup(srv->path);
		else {
			net_format_sockname(fds[i], addr, sizeof addr);
			srv->addrs[i] = xstrdup(addr);
		}
		srv->listeners[i] = net_listener_new(srv->base, fds[i],
		    server_accept_cb, srv->log_cb, srv);
		if (srv->listeners[i] == NULL) {
			stream_error_set(err, STREAM_ESYS, errno, "listen on "
			    "%s: %s", srv->addrs[i], strerror(errno));
			for (j = i; j < srv->n; j++)
				close(fds[j]);
			stream_server_close(srv);
			return (-1);
		}
	}
	return (0);
}

struct stream_server *
stream_start_server(struct event_base *base, const char *host,
    const char *port, const struct stream_opts *opts, stream_accept_cb cb,
    void *arg, struct stream_error *err)
{
	struct stream_server	*srv;
	int			*fds;
	size_t			 nfds;
	int			 backlog = 4096;

	if (opts != NULL && opts->backlog > 0)
		backlog = opts->backlog;
	if (net_listen_tcp(host, port, opts != NULL ? opts->family : AF_UNSPEC,
	    backlog, &fds, &nfds, err) != 0)
		return (NULL);
	srv = server_new(base, opts, cb, arg, nfds);
	if (server_listen(srv, fds, err) != 0)
		srv = NULL;
	free(fds);
	return (srv);
}

struct stream_server *
stream_start_unix_server(struct event_base *base, const char *path,
    const struct stream_opts *opts, stream_accept_cb cb, void *arg,
    struct stream_error *err)
{
	struct stream_server	*srv;
	dev_t			 dev;
	ino_t			 ino;
	int			 fd, backlog = 4096;

	if (opts != NULL && opts->backlog > 0)
		backlog = opts->backlog;
	fd = net_listen_unix(path, opts != NULL ? opts->unix_mode : -1,
	    backlog, &dev, &ino, err);
	if (fd == -1)
		return (NULL);
	srv = server_new(base, opts, cb, arg, 1);
	srv->path = xstrdup(path);
	srv->dev = dev;
	srv->ino = ino;
	if (server_listen(srv, &fd, err) != 0)
		return (NULL);
	return (srv);
}

size_t
stream_server_naddrs(struct stream_server *srv)
{
	return (srv->n);
}

const char *
stream_server_addr(struct stream_server *srv, size_t i)
{
	if (i >= srv->n || srv->addrs[i] == NULL)
		return (NULL);
	return (srv->addrs[i]);
}

unsigned int
stream_server_nconns(struct stream_server *srv)
{
	return (srv->nconns);
}

void
stream_server_close(struct stream_server *srv)
{
	struct stream	*s;
	size_t		 i;

	if (srv == NULL)
		return;
	/* Safe inside an accept callback: net.c frees the listener later. */
	for (i = 0; i < srv->n; i++) {
		if (srv->listeners[i] != NULL)
			net_listener_free(srv->listeners[i]);
		free(srv->addrs[i]);
	}
	if (srv->path != NULL)
		net_unlink_unix(srv->path, srv->dev, srv->ino);
	/* Its streams live on, on their own. */
	while ((s = LIST_FIRST(&srv->conns)) != NULL) {
		LIST_REMOVE(s, entry);
		s->server = NULL;
	}
	free(srv->listeners);
	free(srv->addrs);
	free(srv->path);
	free(srv);
}

/*
 * Information.
 */
int
stream_fd(struct stream *s)
{
	if (s->dead)
		return (-1);
	if (s->kind == STREAM_TLS)
		return (bufferevent_getfd(s->bev));
	return (s->rfd != -1 ? s->rfd : s->wfd);
}

/* The socket of the stream, or -1. */
static int
stream_sockfd(struct stream *s)
{
	if (s->dead)
		return (-1);
	if (s->kind == STREAM_TLS)
		return (bufferevent_getfd(s->bev));
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
	/* SIOCOUTQ: bytes sent but not acknowledged, plus bytes unsent. */
	if (ioctl(s->wfd, SIOCOUTQ, &queued) == -1 || queued == 0 ||
	    stream_now_ms() >= w->deadline) {
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

	if (s->kind != STREAM_FD || !s->wsock || s->dead) {
		cb(s, &stream_ok, arg);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->s = s;
	w->cb = cb;
	w->arg = arg;
	w->deadline = stream_now_ms() + STREAM_ACK_WAIT_MS;
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
		snprintf(buf, len, "%s", s->peer);
		return (0);
	}
	if (strcmp(name, "peercert") == 0) {
		if (s->kind != STREAM_TLS || s->bev == NULL || s->handshaking)
			return (-1);
		return (tls_peercert(bufferevent_openssl_get_ssl(s->bev), buf,
		    len));
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

unsigned long long
stream_bytes_out(struct stream *s)
{
	return (s->bytes_out);
}

void
stream_set_error_cb(struct stream *s, stream_done_cb cb, void *arg)
{
	s->err_cb = cb;
	s->err_arg = arg;
	/* Lost before anyone asked: say so now (from the loop). */
	if (cb != NULL && s->failed && !s->err_reported)
		stream_notify(s, NOTIFY_FAIL);
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
