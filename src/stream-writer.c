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

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include <event2/buffer.h>


#include "error.h"
#include "stream.h"
#include "stream-int.h"

/*
 * The StreamWriter: queueing (write, writelines, write_file), drain and
 * flush, write_eof and close. Sending is the transport's (s->ops->kick);
 * what the writer decides is when a half-close, a close or a drain is due.
 */

/* Half-close once everything queued is out. */
static void
writer_shutdown(struct stream *s)
{
	s->eof_done = 1;
	if (s->ops != NULL)
		s->ops->shutdown(s);
}

/* After a write: half-close, close, drain, whichever is due. */
void
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
	if (s->drain_cb != NULL && len <= stream_drain_low(s))
		stream_notify(s, NOTIFY_DRAIN);
	/* A transfer waits for what was queued before it to go out. */
	if (len == 0 && s->xout != NULL)
		s->xops->schedule(s->xout);
}

/* Can bytes be queued? -1 with s->werr (or the exception) if not. */
static int
writer_check(struct stream *s)
{
	if (s->ops == NULL)
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
	else if (s->wfd == -1)
		s->werr = &stream_err_readonly;
	else
		return (0);
	return (-1);
}

/* Bytes were queued: send them now if nothing is waiting already. */
void
writer_kick(struct stream *s)
{
	if (s->ops != NULL && s->ops->kick != NULL)
		s->ops->kick(s);
}

int
stream_write(struct stream *s, const void *data, size_t len)
{
	if (writer_check(s) != 0)
		return (-1);
	if (len == 0)
		return (0);
	if (evbuffer_add(s->ops->output(s), data, len) != 0) {
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
	if (evbuffer_add_buffer(s->ops->output(s), buf) != 0) {
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
	out = s->ops->output(s);
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
	out = s->ops->output(s);
	if (evbuffer_add_file_segment(out, seg, 0, -1) != 0) {
		evbuffer_file_segment_free(seg);
		s->werr = &stream_err_nofile;
		return (-1);
	}
	evbuffer_file_segment_add_cleanup_cb(seg, stream_file_cleanup_cb,
	    (void *)(intptr_t)fd);
	s->wfile = 1;
	/* Drop our reference: the buffer's chain holds the segment now. */
	evbuffer_file_segment_free(seg);
	writer_kick(s);
	return (0);
}

/* The drain's low-water mark changed: tell a transport that waits. */
static void
writer_watermark(struct stream *s)
{
	if (s->ops != NULL && s->ops->watermark != NULL)
		s->ops->watermark(s);
}

/* drain (flush 0) or flush (1). */
static void
writer_wait(struct stream *s, int flush, stream_done_cb cb, void *arg)
{
	struct stream_error	err;

	/* asyncio's drain() raises the reader's exception first. */
	if (s->exc != NULL || s->wexc != NULL) {
		err = s->exc != NULL ? *s->exc : *s->wexc;
		cb(s, &err, arg);
		return;
	}
	if (s->ops == NULL || s->closing || s->dead) {
		stream_error_set(&err, STREAM_ECLOSED, 0, "drain: %s",
		    s->ops == NULL ? "the stream has no transport" :
		    "the stream is closing");
		cb(s, &err, arg);
		return;
	}
	assert(s->drain_cb == NULL);
	s->flushing = flush;
	if (stream_wlen(s) <= stream_drain_low(s)) {
		cb(s, &stream_ok, arg);
		return;
	}
	s->drain_cb = cb;
	s->drain_arg = arg;
	writer_watermark(s);
}

void
stream_drain(struct stream *s, stream_done_cb cb, void *arg)
{
	writer_wait(s, 0, cb, arg);
}

void
stream_flush(struct stream *s, stream_done_cb cb, void *arg)
{
	writer_wait(s, 1, cb, arg);
}

int
stream_write_paused(struct stream *s)
{
	return (stream_write_buffer_size(s) > s->whigh);
}

int
stream_can_write_eof(struct stream *s)
{
	if (s->ops == NULL || s->ops->can_write_eof == NULL)
		return (0);
	return (s->ops->can_write_eof(s));
}

int
stream_write_eof(struct stream *s)
{
	if (s->eof_wanted && !s->failed && !s->closing && !s->dead)
		return (0);	/* asyncio: a second write_eof does nothing */
	if (writer_check(s) != 0)
		return (-1);
	if (s->ops->can_write_eof != NULL && !s->ops->can_write_eof(s)) {
		s->werr = &stream_err_noeof;
		return (-1);
	}
	s->eof_wanted = 1;
	writer_watermark(s);
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
	writer_watermark(s);
	if (s->drain_cb != NULL && stream_wlen(s) <= stream_drain_low(s))
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
	if (s->xops != NULL)
		s->xops->closed(s);
	s->closing = 1;
	s->close_cb = cb;
	s->close_arg = arg;
	/* Nobody is listening any more: only the close callback runs. */
	s->op.kind = OP_NONE;
	s->drain_cb = NULL;
	if (s->ops == NULL) {
		stream_hold(s);
		stream_finish_close(s);
		stream_release(s);
		return;
	}
	stream_reading_update(s);
	writer_watermark(s);
	writer_progress(s);
}
