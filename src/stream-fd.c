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
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>	/* SIOCOUTQ */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>


#include "error.h"
#include "stream.h"
#include "stream-int.h"
#include "xmalloc.h"

/*
 * The fd transport: a socket or a pair of descriptors, read with our own
 * EV_READ event into the reader's buffer and written with send(2),
 * sendmsg(2) or, for blocking descriptors, write(2). Also its
 * constructor, stream_new_fd.
 */

static void	fd_write_cb(evutil_socket_t, short, void *);
static void	fd_reading(struct stream *);
static void	fd_kick(struct stream *);
static void	fd_shutdown(struct stream *);
static void	fd_fail(struct stream *);

static struct evbuffer	*fd_output(struct stream *);
static int		 fd_can_write_eof(struct stream *);
static int		 fd_unacked(struct stream *);

static const struct stream_ops stream_fd_ops = {
	.reading = fd_reading,
	.kick = fd_kick,
	.shutdown = fd_shutdown,
	.fail = fd_fail,
	.output = fd_output,
	.can_write_eof = fd_can_write_eof,
	.unacked = fd_unacked
};

/* Writes queue in our buffer, made by the first. */
static struct evbuffer *
fd_output(struct stream *s)
{
	return (stream_wbuf(s));
}

/* A socket half-closes; so does a write descriptor of its own (a pipe). */
static int
fd_can_write_eof(struct stream *s)
{
	if (s->wfd == -1)
		return (0);
	return (s->wsock || s->wfd != s->rfd);
}

/* SIOCOUTQ: bytes sent but not acknowledged, plus bytes unsent. */
static int
fd_unacked(struct stream *s)
{
	int	queued;

	if (ioctl(s->wfd, SIOCOUTQ, &queued) == -1)
		return (-1);
	return (queued);
}

/*
 * The fd transport.
 */
static void
fd_reading(struct stream *s)
{
	int	want = stream_reading_wanted(s);

	if (s->rfd != -1 && s->rev != NULL) {
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

	len = stream_rlen(s);
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
	nv = evbuffer_reserve_space(stream_rbuf(s), size - STREAM_CHAIN_HEADER,
	    v, 2);
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
	stream_count_in(s, (size_t)n);
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

	if (s->wbuf == NULL)
		return;		/* nothing was ever written */
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

/* Bytes were queued: send them now unless an EV_WRITE already waits. */
static void
fd_kick(struct stream *s)
{
	if (!s->wev_on)
		fd_flush(s);
}

/* Half-close once everything queued is out. */
static void
fd_shutdown(struct stream *s)
{
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

/* The transport is lost: nothing queued can be sent any more. */
static void
fd_fail(struct stream *s)
{
	if (s->wev_on) {
		event_del(s->wev);
		s->wev_on = 0;
	}
	if (s->wbuf != NULL)
		evbuffer_drain(s->wbuf, evbuffer_get_length(s->wbuf));
}

/*
 * Describe one descriptor of an fd transport: epoll cannot watch regular
 * files or /dev/null (doc/libevent-notes.md, fact 9), so those get
 * blocking I/O.
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

/* What both constructors end with: the read event and the idle timer. */
static int
stream_fd_start(struct stream *s, double idle_timeout)
{
	if (s->rfd != -1) {
		s->rev = event_new(s->base, s->rpoll ? s->rfd : -1, s->rpoll ?
		    EV_READ|EV_PERSIST : 0, fd_read_cb, s);
		if (s->rev == NULL)
			return (-1);
	} else
		s->eof = 1;	/* no read side: nothing will ever come */
	return (stream_new_timer(s, idle_timeout));
}

struct stream *
stream_new_fd(struct event_base *base, int rfd, int wfd, size_t limit,
    double idle_timeout, struct stream_error *err)
{
	struct stream	*s;
	int		 poll, sock;

	s = stream_alloc_bare(base, limit);	/* never NULL: xcalloc */
	s->kind = STREAM_FD;
	s->ops = &stream_fd_ops;
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
	if (stream_fd_start(s, idle_timeout) != 0)
		goto nomem;
	if (s->rsock)
		stream_set_peer(s, s->rfd);
	else if (s->wsock)
		stream_set_peer(s, s->wfd);
	stream_reading_update(s);
	return (s);

nomem:
	stream_error_set(err, STREAM_ESYS, ENOMEM, "stream: %s",
	    strerror(ENOMEM));
fail:
	stream_fd_unsetup(s);
	return (NULL);
}

/*
 * A socket accept4(2) made non-blocking, whose peer the caller has
 * formatted already: none of stream_new_fd's fstat, fcntl and
 * getpeername, which a server would pay for every client
 * (bench/README, "connection rate").
 */
struct stream *
stream_new_accepted(struct event_base *base, int fd, const char *peer,
    size_t limit, double idle_timeout, struct stream_error *err)
{
	struct stream	*s;

	s = stream_alloc_bare(base, limit);	/* never NULL: xcalloc */
	s->kind = STREAM_FD;
	s->ops = &stream_fd_ops;
	s->rfd = s->wfd = fd;
	s->rpoll = s->wpoll = s->rsock = s->wsock = 1;
	if (stream_fd_start(s, idle_timeout) != 0) {
		stream_error_set(err, STREAM_ESYS, ENOMEM, "stream: %s",
		    strerror(ENOMEM));
		stream_fd_unsetup(s);
		return (NULL);
	}
	s->peer = xstrdup(peer);
	stream_reading_update(s);
	return (s);
}
