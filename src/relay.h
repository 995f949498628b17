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

#ifndef RELAY_H
#define RELAY_H

/*
 * relay.c, the wiring layer: pumps, and the one end-of-transfer machine
 * that joins two streams (a network peer and stdio, or two network
 * peers). Built only on stream.h.
 */

#include "stream.h"

struct evbuffer;

/*
 * A pump moves bytes from one stream's reader to another stream's writer,
 * moving evbuffer chains (no copy), and stops reading while the writer
 * holds more than its high-water mark (drain). src may equal dst (echo).
 */
struct pump;

#define PUMP_WRITE_EOF	0x1	/* at EOF, half-close dst after the bytes */
#define PUMP_FLUSH	0x2	/* at EOF, finish only once dst is flushed */

/* Where a pump failed: reading its source or writing its destination. */
enum pump_side {
	PUMP_SIDE_NONE,
	PUMP_SIDE_READ,
	PUMP_SIDE_WRITE
};

typedef void	(*pump_done_cb)(struct pump *, enum pump_side,
		    const struct stream_error *, void *);

struct pump	*pump_start(struct stream *src, struct stream *dst, int flags,
		     pump_done_cb, void *);
/*
 * A filter sees each chunk before it is written and may rewrite it in
 * place (-C's CRLF, -x's dump). A filtered pump never hands the work to
 * the kernel (stream_transfer): every byte passes through the filter.
 */
typedef void	(*pump_filter_cb)(struct evbuffer *, void *);
struct pump	*pump_start_filtered(struct stream *src, struct stream *dst,
		     int flags, pump_filter_cb, void *filter_arg, pump_done_cb,
		     void *);
unsigned long long pump_bytes(struct pump *);
void		 pump_free(struct pump *);

/*
 * The end-of-transfer machine. A relay joins stream a (always a network
 * peer) and stream b (stdio, or a second network peer) with two pumps,
 * one per direction, each in an explicit state; relay.c's relay_decide()
 * holds every rule of when the transfer is over (doc/cli.md, "End of
 * transfer"). The streams stay the caller's: it closes them after the
 * done callback, which runs once.
 *
 * Without RELAY_PAIR (connect, serve's default mode): a is the peer, b is
 * stdio. Done when b's EOF was sent and the peer closed; a peer that
 * closes first ends the transfer at once when stdin is a terminal,
 * otherwise stdin is still sent and a refused write is an error ("LABEL:
 * peer closed before all input was sent"), never a silent truncation; a
 * stdout failure resets a.
 *
 * With RELAY_PAIR (port forwarding): a FIN from either side becomes a
 * half-close (shutdown SHUT_WR) of the other; a reset, a TLS error or a
 * TLS truncation (TCP closed without close_notify) on either side
 * becomes a reset of the other, never a clean close; an idle timeout
 * (the streams' own, opts.idle_timeout: a stream is idle only when both
 * directions are) ends the pair with ordinary closes. Done when both
 * directions are.
 *
 * Each direction goes to the kernel (splice) when neither side is TLS and
 * no filter is on.
 */
struct relay;

#define RELAY_NO_SHUTDOWN	0x1	/* no half-close of a at b's EOF */
#define RELAY_STDIN_TTY		0x2	/* b reads a terminal */
#define RELAY_PAIR		0x4	/* two network peers, symmetric rules */
#define RELAY_CALLER_SENDS	0x8	/* the caller writes a; relay_input_end */

/* The directions, the index of relay_report's bytes. */
enum relay_dir {
	RELAY_A_TO_B,		/* stdio: received */
	RELAY_B_TO_A		/* stdio: sent */
};

/* How one side ended, for -v and JSON (relay_end_name). */
enum relay_end {
	RELAY_END_OPEN,		/* still open when the relay finished */
	RELAY_END_EOF,		/* an orderly end: FIN, close_notify, EOF */
	RELAY_END_RESET,	/* a reset, a broken pipe, a refused write */
	RELAY_END_TIMEOUT,	/* its idle timeout */
	RELAY_END_TLS,		/* a TLS error, or a TLS truncation */
	RELAY_END_ERROR		/* anything else: a full disk, ... */
};

struct relay_report {
	/* STREAM_OK: a complete transfer; else what the command reports. */
	const struct stream_error *err;
	unsigned long long	 bytes[2];	/* by enum relay_dir */
	enum relay_end		 a_end;
	enum relay_end		 b_end;
};

typedef void	(*relay_done_cb)(struct relay *, const struct relay_report *,
		    void *);

struct relay_opts {
	int			 flags;		/* RELAY_* */
	pump_filter_cb		 a_to_b;	/* filters, or NULL */
	pump_filter_cb		 b_to_a;
	void			*filter_arg;
	/* a's name in the messages; NULL: its address (peername). */
	const char		*label;
};

/* May call back before it returns (an input already at its end). */
struct relay	*relay_start(struct stream *a, struct stream *b,
		     const struct relay_opts *, relay_done_cb, void *);
/*
 * RELAY_CALLER_SENDS: the caller's sending to a ended: STREAM_OK once
 * everything is written (and flushed), else where it failed, as a
 * pump_done_cb says it.
 */
void		 relay_input_end(struct relay *, enum pump_side,
		     const struct stream_error *);
/* Bytes moved so far, each way (--progress). */
unsigned long long relay_bytes(struct relay *, enum relay_dir);
/*
 * On a signal: if input was unfinished, make the coming close a reset
 * (both sides with RELAY_PAIR) and return 1; else 0, and an ordinary
 * close tells the truth.
 */
int		 relay_interrupt(struct relay *);
/*
 * The one wording of input cut short by the peer: "LABEL: peer closed
 * before all input was sent" (without "LABEL: " when NULL or empty).
 */
void		 relay_refused_error(struct stream_error *, const char *label,
		     int sys);
/* "open", "eof", "reset", "timeout", "tls", "error". */
const char	*relay_end_name(enum relay_end);
/* Free the relay; the streams are the caller's to close. */
void		 relay_free(struct relay *);

#endif /* RELAY_H */
