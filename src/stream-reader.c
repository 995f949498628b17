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

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>


#include "error.h"
#include "stream.h"
#include "stream-int.h"
#include "xmalloc.h"

/*
 * The StreamReader: one pending operation (read, readexactly, readuntil,
 * readline), run by a trampoline (reader_dispatch) so that a callback
 * starting the next operation never recurses; separators found by a
 * streaming KMP matcher fed each byte once; flow control that stops the
 * transport's reading beyond 2 x limit.
 */

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
int
reader_scanning(struct stream *s, size_t at)
{
	struct stream_op	*op = &s->op;

	return ((op->kind == OP_UNTIL || op->kind == OP_LINE) &&
	    !op->badarg && op->found == STREAM_NOT_FOUND && op->scan_to == at);
}

/* New bytes at offset at of rbuf: scan them while they are at hand. */
void
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

	len = stream_rlen(s);
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

/*
 * The buffer a result is handed over in, made on first use: a stream that
 * never completes a read (an idle client) never pays for it.
 */
static struct evbuffer *
reader_result(struct stream *s)
{
	if (s->result == NULL)
		s->result = stream_evbuffer_new();
	return (s->result);
}

/* Move n bytes (SIZE_MAX: all) of the read buffer to the result. */
static void
reader_move(struct stream *s, size_t n)
{
	struct evbuffer	*result = reader_result(s);

	if (s->rbuf == NULL)
		return;		/* nothing ever came */
	if (n == SIZE_MAX)
		evbuffer_add_buffer(result, s->rbuf);
	else
		evbuffer_remove_buffer(s->rbuf, result, n);
}

/* Hand the result to the operation's callback; the op is over. */
static int
reader_complete(struct stream *s, const struct stream_error *err)
{
	stream_read_cb	 cb = s->op.cb;
	void		*arg = s->op.arg;

	struct evbuffer	*result = reader_result(s);

	s->op.kind = OP_NONE;
	cb(s, result, err, arg);
	evbuffer_drain(result, evbuffer_get_length(result));
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
		reader_move(s, op->found + op->seplen);
		return (reader_complete(s, &stream_ok));
	}

	/* asyncio's offset: where the separator can no longer start. */
	len = stream_rlen(s);
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
	reader_move(s, SIZE_MAX);
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
	size_t			 len = stream_rlen(s);

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
		reader_move(s, op->n < len ? op->n : len);
		return (reader_complete(s, &stream_ok));
	case OP_READALL:
		if (!s->eof)
			return (0);
		reader_move(s, SIZE_MAX);
		return (reader_complete(s, &stream_ok));
	case OP_EXACTLY:
		if (len >= op->n) {
			reader_move(s, op->n);
			return (reader_complete(s, &stream_ok));
		}
		if (!s->eof)
			return (0);
		reader_move(s, SIZE_MAX);
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

	if (s->ops == NULL || s->dead)
		return;
	len = stream_rlen(s);
	if (s->op.kind != OP_NONE)
		s->paused = 0;
	else if (!s->paused && len > stream_limit2(s))
		s->paused = 1;
	else if (s->paused && len <= s->limit)
		s->paused = 0;
	stream_reading_update(s);
}

/* The trampoline: run operations until one has to wait. */
void
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
	return (s->eof && stream_rlen(s) == 0);
}

int
stream_eof_truncated(struct stream *s)
{
	return (s->eof && s->truncated);
}

void
stream_feed_data(struct stream *s, const void *data, size_t len)
{
	size_t	old;

	/* asyncio asserts on data after EOF; a transport never sends any. */
	if (len == 0 || s->eof || s->dead)
		return;
	old = stream_rlen(s);
	if (evbuffer_add(stream_rbuf(s), data, len) != 0)
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
	return (stream_rlen(s));
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
