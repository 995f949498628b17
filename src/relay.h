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

#include "stream.h"

struct evbuffer;

/*
 * relay.c, the wiring layer: streams connected to stdio, to themselves
 * (echo), to a sink (discard) or to each other. Built only on stream.h.
 */

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
 * A relay between a network stream and stdio, with the end-of-transfer
 * rules of doc/cli.md (connect, and serve in its default mode): done when
 * stdin's EOF was sent and the peer closed; a peer that closes first ends
 * the transfer at once when stdin is a terminal, otherwise stdin is still
 * sent and a refused write is an error, never a silent truncation.
 */
struct relay;

#define RELAY_NO_SHUTDOWN	0x1	/* no half-close at stdin EOF */
#define RELAY_STDIN_TTY		0x2	/* stdin is a terminal */
#define RELAY_EOF_TO_IO		0x4	/* the peer's EOF half-closes io too */

typedef void	(*relay_done_cb)(struct relay *, const struct stream_error *,
		    void *);

struct relay	*relay_start(struct stream *net, struct stream *io, int flags,
		     relay_done_cb, void *);
/* The same with filters on what is sent (up) and received (down). */
struct relay	*relay_start_filtered(struct stream *net, struct stream *io,
		     int flags, pump_filter_cb up, pump_filter_cb down,
		     void *filter_arg, relay_done_cb, void *);
unsigned long long relay_bytes_sent(struct relay *);
unsigned long long relay_bytes_received(struct relay *);
/* On a signal: 1, and the close will be a reset, if input was unfinished. */
int		 relay_interrupt(struct relay *);
/* Free the relay; the streams are the caller's to close. */
void		 relay_free(struct relay *);

#endif /* RELAY_H */
