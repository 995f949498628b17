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

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cstream.h"

/*
 * Pumps and the stdio relay. Everything here is built on the stream
 * calls; nothing touches a descriptor. A pump hands its work to the
 * kernel (stream_transfer: splice, sendfile) whenever both ends allow it,
 * and reads and writes itself otherwise.
 */

/*
 * How much one read may hand over. The reader returns what it has
 * buffered, which flow control bounds by 2 x limit, so this only needs to
 * be large enough not to split what the reader already holds.
 */
#define PUMP_CHUNK	STREAM_CHUNK

struct pump {
	struct stream		*src;
	struct stream		*dst;
	int			 flags;
	pump_done_cb		 cb;
	void			*arg;
	unsigned long long	 bytes;
	int			 xfer;		/* a stream_transfer runs */
	pump_filter_cb		 filter;
	void			*filter_arg;
};

static void	pump_read(struct pump *);

static void
pump_finish(struct pump *p, enum pump_side side, const struct stream_error *err)
{
	p->cb(p, side, err, p->arg);
}

static void
pump_flushed_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct pump	*p = arg;

	pump_finish(p, err->kind == STREAM_OK ? PUMP_SIDE_NONE :
	    PUMP_SIDE_WRITE, err);
}

/* The source reached EOF: half-close and flush the destination if asked. */
static void
pump_eof(struct pump *p)
{
	struct stream_error	ok;

	if ((p->flags & PUMP_WRITE_EOF) && stream_write_eof(p->dst) == -1) {
		pump_finish(p, PUMP_SIDE_WRITE, stream_exception(p->dst));
		return;
	}
	if (p->flags & PUMP_FLUSH) {
		stream_flush(p->dst, pump_flushed_cb, p);
		return;
	}
	memset(&ok, 0, sizeof ok);
	pump_finish(p, PUMP_SIDE_NONE, &ok);
}

static void
pump_drained_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct pump	*p = arg;

	if (err->kind != STREAM_OK) {
		pump_finish(p, PUMP_SIDE_WRITE, err);
		return;
	}
	pump_read(p);
}

static void
pump_read_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct pump	*p = arg;
	size_t		 len = evbuffer_get_length(data);

	if (err->kind != STREAM_OK) {
		pump_finish(p, PUMP_SIDE_READ, err);
		return;
	}
	if (len == 0) {
		pump_eof(p);
		return;
	}
	p->bytes += len;
	if (p->filter != NULL)
		p->filter(data, p->filter_arg);
	if (stream_write_buffer(p->dst, data) == -1) {
		pump_finish(p, PUMP_SIDE_WRITE, stream_exception(p->dst));
		return;
	}
	/*
	 * Backpressure: a destination over its high-water mark stops us
	 * reading, so the source's reader fills to 2 x limit and then stops
	 * reading its transport; memory stays bounded on both sides.
	 */
	if (stream_write_paused(p->dst)) {
		stream_drain(p->dst, pump_drained_cb, p);
		return;
	}
	pump_read(p);
}

static void
pump_read(struct pump *p)
{
	stream_read(p->src, PUMP_CHUNK, pump_read_cb, p);
}

static void
pump_xfer_cb(enum stream_xfer_event ev, size_t moved, enum stream_side side,
    const struct stream_error *err, void *arg)
{
	struct pump	*p = arg;

	p->bytes += moved;
	switch (ev) {
	case STREAM_XFER_MOVED:
		break;
	case STREAM_XFER_CANCELLED:
		/* A stream was closed under us: its owner is finishing. */
		p->xfer = 0;
		break;
	case STREAM_XFER_UNSUPPORTED:
		p->xfer = 0;
		pump_read(p);
		break;
	case STREAM_XFER_DONE:
		p->xfer = 0;
		if (err->kind == STREAM_OK)
			pump_eof(p);
		else
			pump_finish(p, side == STREAM_SIDE_WRITE ?
			    PUMP_SIDE_WRITE : PUMP_SIDE_READ, err);
		break;
	}
}

struct pump *
pump_start(struct stream *src, struct stream *dst, int flags,
    pump_done_cb cb, void *arg)
{
	return (pump_start_filtered(src, dst, flags, NULL, NULL, cb, arg));
}

struct pump *
pump_start_filtered(struct stream *src, struct stream *dst, int flags,
    pump_filter_cb filter, void *filter_arg, pump_done_cb cb, void *arg)
{
	struct pump	*p;

	p = xcalloc(1, sizeof *p);
	p->src = src;
	p->dst = dst;
	p->flags = flags;
	p->filter = filter;
	p->filter_arg = filter_arg;
	p->cb = cb;
	p->arg = arg;
	/*
	 * An echo reads and writes one stream: that stays in user space;
	 * so does a filter, which must see every byte (-C, -x).
	 */
	if (src != dst && filter == NULL &&
	    stream_transfer(src, dst, pump_xfer_cb, p) == 0)
		p->xfer = 1;
	else
		pump_read(p);
	return (p);
}

unsigned long long
pump_bytes(struct pump *p)
{
	return (p->bytes);
}

void
pump_free(struct pump *p)
{
	/*
	 * NULL is fine, as for free(): a pump that finishes inside
	 * pump_start() is freed by callers that have not stored it yet.
	 */
	if (p == NULL)
		return;
	/* Its streams live on (the transfer would have told us otherwise). */
	if (p->xfer)
		stream_transfer_stop(p->src);
	free(p);
}

/*
 * The stdio relay: "up" pumps stdin to the peer, "down" the peer to
 * stdout. Its states are the two pumps' outcomes; relay_check() has the
 * rules of when the transfer is over, one comment each.
 */
struct relay {
	struct stream		*net;
	struct stream		*io;
	int			 flags;
	struct pump		*up;
	struct pump		*down;
	int			 up_done;
	int			 down_done;
	int			 up_failed;	/* the peer refused stdin */
	struct stream_error	 up_err;
	int			 finished;
	relay_done_cb		 cb;
	void			*arg;
	unsigned long long	 sent;
	unsigned long long	 received;
};

/* "ADDR: peer closed before all input was sent", naming the peer. */
static void
relay_refused(struct relay *r, struct stream_error *e, int sys)
{
	char	peer[128] = "";

	if (stream_get_extra_info(r->net, "peername", peer, sizeof peer) == 0 &&
	    *peer != '\0')
		stream_error_set(e, STREAM_ERESET, sys, "%s: peer closed before "
		    "all input was sent", peer);
	else
		stream_error_set(e, STREAM_ERESET, sys,
		    "peer closed before all input was sent");
}

static void
relay_finish(struct relay *r, const struct stream_error *err)
{
	if (r->finished)
		return;
	r->finished = 1;
	r->sent = r->up != NULL ? pump_bytes(r->up) : 0;
	r->received = r->down != NULL ? pump_bytes(r->down) : 0;
	r->cb(r, err, r->arg);
}

static void
relay_check(struct relay *r)
{
	struct stream_error	ok;

	memset(&ok, 0, sizeof ok);
	/* Both inputs are gone and everything was written: we are done. */
	if (r->up_done && r->down_done) {
		relay_finish(r, &ok);
		return;
	}
	/*
	 * The peer closed first and stdin is a terminal: nobody is going to
	 * type for a peer that left, so stop now (nc does the same).
	 * Otherwise stdin is still sent: the peer may only have half-closed.
	 */
	if (r->down_done && (r->flags & RELAY_STDIN_TTY))
		relay_finish(r, &ok);
}

/* After the peer closed first: did our last bytes reach it after all? */
static void
relay_acked_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct relay		*r = arg;
	struct stream_error	 e;

	if (err->kind != STREAM_OK) {
		relay_refused(r, &e, err->sys);
		relay_finish(r, &e);
		return;
	}
	r->up_done = 1;
	relay_check(r);
}

static void
relay_up_cb(struct pump *p, enum pump_side side, const struct stream_error *err,
    void *arg)
{
	struct relay		*r = arg;
	struct stream_error	 e;

	if (err->kind == STREAM_OK) {
		/*
		 * All of stdin is with the kernel. If the peer had closed
		 * already, a reset for those bytes may still be on its way:
		 * wait for the acknowledgement before calling it delivered.
		 */
		if (r->down_done) {
			stream_wait_acked(r->net, relay_acked_cb, r);
			return;
		}
		r->up_done = 1;
		relay_check(r);
		return;
	}
	if (side == PUMP_SIDE_WRITE && err->kind != STREAM_ETIMEOUT) {
		/*
		 * Never a silent truncation: say that input was left over;
		 * but first print what the peer said before it left (nc
		 * does), so wait for the other direction's end.
		 */
		if (STREAM_TRUNCATED(err))
			r->up_err = *err;	/* the peer cut its own stream */
		else
			relay_refused(r, &r->up_err, err->sys);
		r->up_failed = 1;
		if (r->down_done)
			relay_finish(r, &r->up_err);
		return;
	}
	if (side == PUMP_SIDE_READ && err->kind != STREAM_ETIMEOUT) {
		stream_error_set(&e, err->kind, err->sys, "stdin: %s",
		    err->msg);
		relay_finish(r, &e);
		return;
	}
	relay_finish(r, err);
}

static void
relay_down_cb(struct pump *p, enum pump_side side,
    const struct stream_error *err, void *arg)
{
	struct relay		*r = arg;
	struct stream_error	 e;

	if (r->up_failed && side != PUMP_SIDE_WRITE) {
		relay_finish(r, &r->up_err);
		return;
	}
	if (err->kind == STREAM_OK) {
		r->down_done = 1;
		relay_check(r);
		return;
	}
	if (side == PUMP_SIDE_WRITE && err->kind != STREAM_ETIMEOUT) {
		/*
		 * What the peer sends can no longer be delivered: a reset,
		 * not a FIN, tells it so (a full disk must not look like a
		 * completed transfer at the sending end).
		 */
		stream_reset_on_close(r->net);
		stream_error_set(&e, err->kind, err->sys, "stdout: %s",
		    err->msg);
		relay_finish(r, &e);
		return;
	}
	/*
	 * A reset seen on the read side while stdin still had bytes for the
	 * peer is the same story as a refused write: say so.
	 */
	if (err->kind == STREAM_ERESET && !r->up_done) {
		relay_refused(r, &e, err->sys);
		relay_finish(r, &e);
		return;
	}
	relay_finish(r, err);
}

struct relay *
relay_start(struct stream *net, struct stream *io, int flags,
    relay_done_cb cb, void *arg)
{
	return (relay_start_filtered(net, io, flags, NULL, NULL, NULL, cb,
	    arg));
}

struct relay *
relay_start_filtered(struct stream *net, struct stream *io, int flags,
    pump_filter_cb up, pump_filter_cb down, void *filter_arg,
    relay_done_cb cb, void *arg)
{
	struct relay	*r;
	int		 upflags = PUMP_FLUSH;

	if (!(flags & RELAY_NO_SHUTDOWN))
		upflags |= PUMP_WRITE_EOF;
	r = xcalloc(1, sizeof *r);
	r->net = net;
	r->io = io;
	r->flags = flags;
	r->cb = cb;
	r->arg = arg;
	r->up = pump_start_filtered(io, net, upflags, up, filter_arg,
	    relay_up_cb, r);
	if (!r->finished)
		r->down = pump_start_filtered(net, io, PUMP_FLUSH |
		    (flags & RELAY_EOF_TO_IO ? PUMP_WRITE_EOF : 0), down,
		    filter_arg, relay_down_cb, r);
	return (r);
}

unsigned long long
relay_bytes_sent(struct relay *r)
{
	return (r->up != NULL ? pump_bytes(r->up) : r->sent);
}

unsigned long long
relay_bytes_received(struct relay *r)
{
	return (r->down != NULL ? pump_bytes(r->down) : r->received);
}

/*
 * A signal arrived. If the input is not finished (stdin not at its end,
 * or read but not all sent), the peer must not take the cut for a
 * complete transfer: make the coming close a reset and return 1. Return
 * 0 when everything was sent: an ordinary close then tells the truth.
 */
int
relay_interrupt(struct relay *r)
{
	if (r->finished || r->up_done || r->up_failed)
		return (0);
	stream_reset_on_close(r->net);
	return (1);
}

void
relay_free(struct relay *r)
{
	if (r->up != NULL)
		pump_free(r->up);
	if (r->down != NULL)
		pump_free(r->down);
	free(r);
}
