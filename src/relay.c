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

#include "relay.h"
#include "xmalloc.h"

/*
 * Pumps and the end-of-transfer machine (relay.h). Everything here is
 * built on the stream calls; nothing touches a descriptor. A pump hands its work to the
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
 * The end-of-transfer machine. Each direction is a pump in one of the
 * states below; the pump callbacks (and relay_input_end) only record
 * how a direction ended, and relay_decide() alone says what that means
 * for the transfer, every rule in one place with its comment, as
 * OpenBSD nc's readwrite() does.
 */
enum relay_flow_state {
	FLOW_MOVING,		/* bytes move */
	FLOW_SENT,		/* to a: all with the kernel, not yet known
				   to be with the peer */
	FLOW_ACKING,		/* to a: waiting for the peer's TCP to
				   acknowledge it all (stream_wait_acked) */
	FLOW_DONE,		/* EOF reached and passed on, all written */
	FLOW_REFUSED,		/* to a: the peer refused our bytes */
	FLOW_FAILED		/* an error; side and err say where */
};

enum relay_state {
	RELAY_RUNNING,
	RELAY_FINISHED		/* the done callback ran */
};

struct relay_flow {
	struct relay		*r;
	struct stream		*src;
	struct stream		*dst;
	struct pump		*pump;
	enum relay_flow_state	 state;
	enum pump_side		 side;		/* FAILED: where */
	struct stream_error	 err;		/* FAILED, REFUSED: why */
};

struct relay {
	struct stream		*a;
	struct stream		*b;
	struct relay_opts	 opts;
	enum relay_state	 state;
	struct relay_flow	 flow[2];	/* by enum relay_dir */
	enum relay_end		 end[2];	/* a's, b's */
	relay_done_cb		 cb;
	void			*arg;
};

#define FLOW_IN(r)	(&(r)->flow[RELAY_B_TO_A])	/* stdio: stdin up */
#define FLOW_OUT(r)	(&(r)->flow[RELAY_A_TO_B])	/* the peer down */

static void	relay_decide(struct relay *);

const char *
relay_end_name(enum relay_end end)
{
	static const char *const names[] = { "open", "eof", "reset",
	    "timeout", "tls", "error" };

	return (names[end]);
}

static enum relay_end
relay_end_of(const struct stream_error *err)
{
	switch (err->kind) {
	case STREAM_OK:
		return (RELAY_END_EOF);
	case STREAM_ERESET:
		return (RELAY_END_RESET);
	case STREAM_ETIMEOUT:
		return (RELAY_END_TIMEOUT);
	case STREAM_ETLS:
		return (RELAY_END_TLS);
	default:
		return (RELAY_END_ERROR);
	}
}

/* The first word on a stream's end is the one that counts. */
static void
relay_note_end(struct relay *r, struct stream *s, enum relay_end end)
{
	int	i = s == r->a ? 0 : 1;

	if (r->end[i] == RELAY_END_OPEN)
		r->end[i] = end;
}

void
relay_refused_error(struct stream_error *e, const char *label, int sys)
{
	if (label != NULL && *label != '\0')
		stream_error_set(e, STREAM_ERESET, sys, "%s: peer closed before "
		    "all input was sent", label);
	else
		stream_error_set(e, STREAM_ERESET, sys,
		    "peer closed before all input was sent");
}

/* The same, LABEL naming a: the caller's label, or a's address. */
static void
relay_refused(struct relay *r, struct stream_error *e, int sys)
{
	char	peer[128] = "";

	if (r->opts.label != NULL) {
		relay_refused_error(e, r->opts.label, sys);
		return;
	}
	(void)stream_get_extra_info(r->a, "peername", peer, sizeof peer);
	relay_refused_error(e, peer, sys);
}

/* "read from ADDR: TLS connection closed without close_notify". */
static void
relay_truncated(struct stream *s, struct stream_error *e)
{
	char	peer[128] = "";

	(void)stream_get_extra_info(s, "peername", peer, sizeof peer);
	stream_error_set(e, STREAM_ETLS, 0, "read%s%s: TLS connection closed "
	    "without close_notify", *peer != '\0' ? " from " : "", peer);
}

static void
relay_finish(struct relay *r, const struct stream_error *err)
{
	struct relay_report	rep;
	int			i;

	if (r->state == RELAY_FINISHED)
		return;
	r->state = RELAY_FINISHED;
	memset(&rep, 0, sizeof rep);
	rep.err = err;
	for (i = 0; i < 2; i++)
		rep.bytes[i] = relay_bytes(r, i);
	rep.a_end = r->end[0];
	rep.b_end = r->end[1];
	r->cb(r, &rep, r->arg);
}

static void
relay_finish_ok(struct relay *r)
{
	struct stream_error	ok;

	memset(&ok, 0, sizeof ok);
	relay_finish(r, &ok);
}

/* An error worded for the stream it is about: "stdout: ...". */
static void
relay_finish_on(struct relay *r, const char *what,
    const struct stream_error *err)
{
	struct stream_error	e;

	stream_error_set(&e, err->kind, err->sys, "%s: %s", what, err->msg);
	relay_finish(r, &e);
}

/* After the peer closed: did our last bytes reach it after all? */
static void
relay_acked_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct relay		*r = arg;
	struct relay_flow	*in = FLOW_IN(r);

	if (err->kind != STREAM_OK) {
		in->state = FLOW_REFUSED;
		relay_refused(r, &in->err, err->sys);
		relay_note_end(r, r->a, RELAY_END_RESET);
	} else
		in->state = FLOW_DONE;
	relay_decide(r);
}

/*
 * A direction ended: record how, in its state, and let relay_decide()
 * judge. Nothing else is decided here.
 */
static void
relay_flow_end(struct relay_flow *f, enum pump_side side,
    const struct stream_error *err)
{
	struct relay	*r = f->r;

	if (r->state == RELAY_FINISHED || f->state != FLOW_MOVING)
		return;
	f->side = side;
	if (err->kind == STREAM_OK && stream_eof_truncated(f->src) &&
	    (r->opts.flags & RELAY_PAIR)) {
		/* Between peers, a TLS truncation is no orderly end. */
		f->state = FLOW_FAILED;
		f->side = PUMP_SIDE_READ;
		relay_truncated(f->src, &f->err);
		relay_note_end(r, f->src, RELAY_END_TLS);
	} else if (err->kind == STREAM_OK) {
		/* Into a: sent, not yet acknowledged (stdio's rules). */
		f->state = f->dst == r->a && !(r->opts.flags & RELAY_PAIR) ?
		    FLOW_SENT : FLOW_DONE;
		relay_note_end(r, f->src, RELAY_END_EOF);
	} else if (f->dst == r->a && side == PUMP_SIDE_WRITE &&
	    err->kind != STREAM_ETIMEOUT && !STREAM_TRUNCATED(err) &&
	    !(r->opts.flags & RELAY_PAIR)) {
		/* (A record cut mid-way fails our writes too: no refusal.) */
		f->state = FLOW_REFUSED;
		relay_refused(r, &f->err, err->sys);
		relay_note_end(r, r->a, RELAY_END_RESET);
	} else {
		f->state = FLOW_FAILED;
		f->err = *err;
		relay_note_end(r, side == PUMP_SIDE_WRITE ? f->dst : f->src,
		    relay_end_of(err));
	}
	relay_decide(r);
}

static void
relay_pump_cb(struct pump *p, enum pump_side side,
    const struct stream_error *err, void *arg)
{
	relay_flow_end(arg, side, err);
}

void
relay_input_end(struct relay *r, enum pump_side side,
    const struct stream_error *err)
{
	relay_flow_end(FLOW_IN(r), side, err);
}

/*
 * Two network peers (RELAY_PAIR), symmetric. The stream that failed is
 * the source of a failed read, the destination of a failed write.
 */
static void
relay_decide_pair(struct relay *r)
{
	struct relay_flow	*f;
	struct stream		*bad, *other;
	int			 i;

	for (i = 0; i < 2; i++) {
		f = &r->flow[i];
		if (f->state != FLOW_FAILED)
			continue;
		bad = f->side == PUMP_SIDE_WRITE ? f->dst : f->src;
		other = bad == r->a ? r->b : r->a;
		/*
		 * An idle timeout: neither side moved a byte either way
		 * (every read and write touches the stream's timer), so
		 * nothing is cut: ordinary closes.
		 */
		if (f->err.kind == STREAM_ETIMEOUT) {
			relay_finish(r, &f->err);
			return;
		}
		/*
		 * A reset, a TLS error or truncation, a refused write: the
		 * other side must not take the end for a complete transfer,
		 * so it gets a reset too, never a FIN.
		 */
		stream_reset_on_close(other);
		relay_finish(r, &f->err);
		return;
	}
	/*
	 * A FIN became a half-close of the other side (PUMP_WRITE_EOF);
	 * both directions at their end and written: we are done.
	 */
	if (r->flow[0].state == FLOW_DONE && r->flow[1].state == FLOW_DONE)
		relay_finish_ok(r);
}

/*
 * Every rule of when a transfer is over, in the order they are tried
 * (doc/cli.md, "End of transfer"). "in" is stdin (or the caller's
 * sending) to the peer a, "out" the peer to stdout b.
 */
static void
relay_decide(struct relay *r)
{
	struct relay_flow	*in = FLOW_IN(r), *out = FLOW_OUT(r);

	if (r->state == RELAY_FINISHED)
		return;
	if (r->opts.flags & RELAY_PAIR) {
		relay_decide_pair(r);
		return;
	}
	/*
	 * stdout failed: what the peer sends can no longer be delivered;
	 * a reset, not a FIN, tells it so (a full disk must not look like
	 * a completed transfer at the sending end).
	 */
	if (out->state == FLOW_FAILED && out->side == PUMP_SIDE_WRITE &&
	    out->err.kind != STREAM_ETIMEOUT) {
		stream_reset_on_close(r->a);
		relay_finish_on(r, "stdout", &out->err);
		return;
	}
	/* Reading stdin failed: say so, naming it. */
	if (in->state == FLOW_FAILED && in->side == PUMP_SIDE_READ &&
	    in->err.kind != STREAM_ETIMEOUT) {
		if (r->opts.flags & RELAY_CALLER_SENDS)
			relay_finish(r, &in->err);	/* the caller's words */
		else
			relay_finish_on(r, "stdin", &in->err);
		return;
	}
	/*
	 * The peer refused our input: never a silent truncation. But first
	 * print what the peer said before it left (nc does): wait for the
	 * other direction's end, whatever it is.
	 */
	if (in->state == FLOW_REFUSED) {
		if (out->state != FLOW_MOVING)
			relay_finish(r, &in->err);
		return;
	}
	/* An idle timeout, or any other failure of sending: it stands. */
	if (in->state == FLOW_FAILED) {
		relay_finish(r, &in->err);
		return;
	}
	if (out->state == FLOW_FAILED) {
		/*
		 * A reset seen while input still had bytes for the peer is
		 * the same story as a refused write: say so.
		 */
		if (out->err.kind == STREAM_ERESET && in->state == FLOW_MOVING) {
			relay_refused(r, &in->err, out->err.sys);
			relay_finish(r, &in->err);
			return;
		}
		relay_finish(r, &out->err);
		return;
	}
	if (out->state != FLOW_DONE)
		return;
	/*
	 * The peer closed first and stdin is a terminal: nobody is going to
	 * type for a peer that left, so stop now (nc does the same).
	 * Otherwise stdin is still sent: the peer may only have half-closed.
	 */
	if (r->opts.flags & RELAY_STDIN_TTY) {
		relay_finish_ok(r);
		return;
	}
	/*
	 * The peer closed and all input is with the kernel. Bytes the
	 * kernel took are not bytes the peer has: a reset for them may
	 * still be on its way, so wait for the acknowledgement.
	 */
	if (in->state == FLOW_SENT) {
		in->state = FLOW_ACKING;
		stream_wait_acked(r->a, relay_acked_cb, r);
		return;
	}
	/* Both inputs are gone and everything was written: we are done. */
	if (in->state == FLOW_DONE)
		relay_finish_ok(r);
}

static void
relay_flow_start(struct relay *r, enum relay_dir dir, int flags,
    pump_filter_cb filter)
{
	struct relay_flow	*f = &r->flow[dir];

	f->r = r;
	f->src = dir == RELAY_A_TO_B ? r->a : r->b;
	f->dst = dir == RELAY_A_TO_B ? r->b : r->a;
	f->state = FLOW_MOVING;
	if (r->state == RELAY_FINISHED)
		return;
	f->pump = pump_start_filtered(f->src, f->dst, flags, filter,
	    r->opts.filter_arg, relay_pump_cb, f);
}

struct relay *
relay_start(struct stream *a, struct stream *b, const struct relay_opts *opts,
    relay_done_cb cb, void *arg)
{
	struct relay	*r;
	int		 inflags = PUMP_FLUSH, outflags = PUMP_FLUSH;

	r = xcalloc(1, sizeof *r);
	r->a = a;
	r->b = b;
	r->opts = *opts;
	r->cb = cb;
	r->arg = arg;
	r->state = RELAY_RUNNING;
	if (!(opts->flags & RELAY_NO_SHUTDOWN))
		inflags |= PUMP_WRITE_EOF;
	/* Between two peers, a FIN is passed on both ways. */
	if (opts->flags & RELAY_PAIR)
		outflags |= PUMP_WRITE_EOF;
	if (opts->flags & RELAY_CALLER_SENDS) {
		FLOW_IN(r)->r = r;
		FLOW_IN(r)->src = b;
		FLOW_IN(r)->dst = a;
		FLOW_IN(r)->state = FLOW_MOVING;
	} else
		relay_flow_start(r, RELAY_B_TO_A, inflags, opts->b_to_a);
	relay_flow_start(r, RELAY_A_TO_B, outflags, opts->a_to_b);
	return (r);
}

unsigned long long
relay_bytes(struct relay *r, enum relay_dir dir)
{
	struct relay_flow	*f = &r->flow[dir];

	/* No pump: not started, or the caller sends (its own count). */
	return (f->pump != NULL ? pump_bytes(f->pump) : 0);
}

/*
 * A signal arrived. If the input is not finished (stdin not at its end,
 * or read but not all sent), the peer must not take the cut for a
 * complete transfer: make the coming close a reset and return 1. Return
 * 0 when everything was sent: an ordinary close then tells the truth.
 * Between two peers, either direction unfinished resets both.
 */
int
relay_interrupt(struct relay *r)
{
	enum relay_flow_state	in = FLOW_IN(r)->state;
	enum relay_flow_state	out = FLOW_OUT(r)->state;

	if (r->state == RELAY_FINISHED)
		return (0);
	if (r->opts.flags & RELAY_PAIR) {
		if (in == FLOW_DONE && out == FLOW_DONE)
			return (0);
		stream_reset_on_close(r->a);
		stream_reset_on_close(r->b);
		return (1);
	}
	if (in != FLOW_MOVING && in != FLOW_ACKING)
		return (0);
	stream_reset_on_close(r->a);
	return (1);
}

void
relay_free(struct relay *r)
{
	int	i;

	for (i = 0; i < 2; i++)
		pump_free(r->flow[i].pump);
	free(r);
}
