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
#include <sys/ioctl.h>

/* Kernel-side transfers (stream_transfer) need splice(2) and sendfile(2). */
#if defined(__linux__) && defined(HAVE_SPLICE) && defined(HAVE_PIPE2)
#define STREAM_XFER	1
#include <sys/sendfile.h>
#include <sys/sysmacros.h>

#include <poll.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>


#include "error.h"
#include "stream.h"
#include "stream-int.h"
#include "xmalloc.h"

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
static void	xfer_schedule(struct stream_xfer *);
static void	xfer_stream_failed(struct stream *);
static void	xfer_stream_write_failed(struct stream *);
static void	xfer_stream_closed(struct stream *);

/* How the core and the writer reach a transfer on one of their streams. */
static const struct stream_xfer_ops stream_xfer_ops = {
	.schedule = xfer_schedule,
	.failed = xfer_stream_failed,
	.write_failed = xfer_stream_write_failed,
	.closed = xfer_stream_closed
};

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
	src->xops = dst->xops = &stream_xfer_ops;
	stream_reading_update(src);
	/* What src's reader holds goes first, through dst's writer. */
	if ((len = stream_rlen(src)) > 0) {
		x->moved = len;
		evbuffer_add_buffer(stream_wbuf(dst), src->rbuf);
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
	stream_reading_update(src);
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
	stream_reading_update(src);
	cb(ev, moved, side, &err, arg);
}

static void
xfer_in(struct stream_xfer *x, size_t n)
{
	stream_count_in(x->src, n);
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
		if (evbuffer_reserve_space(stream_wbuf(x->dst), x->inpipe, v,
		    1) != 1)
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
 * A splice into dst, a pipe, said EPIPE: its reader is gone. splice asks
 * the pipe for room before it reads src, so it says so even when src has
 * nothing left but its EOF, where read() would have returned 0 first: the
 * reader took every byte and left, and that is a clean end. So ask a
 * socket src as read() would: at EOF, the transfer is done; empty and
 * still open, wait for it; bytes left, the reader really missed them.
 */
static enum xfer_result
xfer_reader_gone(struct stream_xfer *x)
{
	char	c;
	ssize_t	n;

	if (!x->srcpipe) {
		n = recv(x->rfd, &c, 1, MSG_PEEK|MSG_DONTWAIT);
		if (n == 0)
			return (XR_EOF);
		if (n == -1 && errno == EAGAIN && x->rpoll)
			return (xfer_wait(x, 1, 0));
	}
	return (xfer_error(x, STREAM_SIDE_WRITE, EPIPE));
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
		if (errno == EPIPE && x->mode == XFER_DIRECT)
			return (xfer_reader_gone(x));
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
#endif /* STREAM_XFER */
