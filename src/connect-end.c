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

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "connect.h"
#include "progress.h"
#include "timing.h"

/*
 * How a connect ends, success or failure, and what it writes to stdout on
 * the way: the received bytes (through -x's dump) and the failures'
 * wording. Used by cmd-connect.c and connect-oneshot.c.
 */

/*
 * The end, success or failure. What was written to stdout is flushed
 * first (a partial read's bytes too), then the loop stops; cleanup runs
 * after it, never inside a stream callback.
 */
static void
conn_stop_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c = arg;

	event_base_loopbreak(c->ctx->base);
}

static void
conn_stdout_done_cb(struct stream *s, const struct stream_error *err,
    void *arg)
{
	struct conn	*c = arg;

	event_base_once(c->ctx->base, -1, EV_TIMEOUT, conn_stop_cb, c, NULL);
}

/*
 * --progress's summary comes before any message: on a terminal the next
 * redraw would go back over a line printed after the display.
 */
void
conn_progress_end(struct conn *c)
{
	progress_finish(c->progress);
	c->progress = NULL;
}

void
conn_end(struct conn *c, const struct stream_error *err)
{

	if (c->done)
		return;
	c->done = 1;
	conn_progress_end(c);
	if (c->net != NULL) {	/* reported with the closed event */
		timing_get(&c->timings, stream_first_byte_ms(c->net));
		c->timed = 1;
	}
	if (err != NULL && err->kind != STREAM_OK)
		c->code = cmd_fail_stream(c->ctx, err);
	if (c->io != NULL && stream_exception(c->io) == NULL &&
	    stream_write_buffer_size(c->io) > 0) {
		stream_flush(c->io, conn_stdout_done_cb, c);
		return;
	}
	event_base_once(c->ctx->base, -1, EV_TIMEOUT, conn_stop_cb, c, NULL);
}

void
conn_fail(struct conn *c, int code, const char *fmt, ...)
{
	struct stream_error	e;
	va_list			ap;

	memset(&e, 0, sizeof e);
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof e.msg, fmt, ap);
	va_end(ap);
	conn_progress_end(c);
	if (!c->done)
		c->code = cmd_fail(c->ctx, code, "%s", e.msg);
	conn_end(c, NULL);
}

/*
 * Writing stdout failed (a full disk, a reader gone): one wording on
 * every path, "stdout: ...", and a reset, not a FIN, so the peer learns
 * that what it sent was not delivered.
 */
void
conn_stdout_fail(struct conn *c, const struct stream_error *err)
{
	struct stream_error	e;

	if (c->net != NULL)
		stream_reset_on_close(c->net);
	stream_error_set(&e, err->kind, err->sys, "stdout: %s", err->msg);
	conn_end(c, &e);
}

/* What is sent, on its way: -C's CRLF, then -x's dump of the result. */
void
conn_sent_filter_cb(struct evbuffer *data, void *arg)
{
	struct conn	*c = arg;

	if (c->crlf_on)
		crlf_convert(&c->crlf, data);
	hexdump_buffer(c->hd, NULL, 1, &c->hd_sent, data);
}

void
conn_received_filter_cb(struct evbuffer *data, void *arg)
{
	struct conn	*c = arg;

	hexdump_buffer(c->hd, NULL, 0, &c->hd_received, data);
}

/* Every completed read goes to stdout at once, separator included. */
int
conn_output(struct conn *c, struct evbuffer *data)
{
	if (evbuffer_get_length(data) == 0)
		return (0);
	conn_received_filter_cb(data, c);
	if (stream_write_buffer(c->io, data) == -1) {
		conn_stdout_fail(c, stream_exception(c->io));
		return (-1);
	}
	return (0);
}
