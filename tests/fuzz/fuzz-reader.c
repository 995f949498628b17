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

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "stream.h"

/*
 * libFuzzer harness for the stream reader (tests/fuzz/README), through
 * stream.h alone: a detached stream is fed by stream_feed_data and
 * stream_feed_eof in chunks the input chooses, while readline, readuntil,
 * readexactly and read run against it. The input is a little program:
 *
 *	byte 0-1	the reader's limit, 1 to 4096
 *	then per step	an opcode byte and its operands:
 *	  0  feed N	the next byte is N (0-63), then N bytes to feed
 *	  1  readline
 *	  2  readuntil	the next byte is the separator's length (1-4),
 *			then the separator
 *	  3  readexactly N	N from the next byte
 *	  4  read N	N from the next byte, minus 1 (-1: until EOF)
 *	  5  eof
 *
 * A read is started only when none is pending (one at a time, as the
 * API requires). Checks, besides the sanitizers: each result keeps its
 * promise (readexactly gives N bytes, readline ends at LF or EOF,
 * readuntil ends with its separator, read(N) gives at most N) and every
 * byte returned was fed, in order, with nothing invented or repeated.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz {
	const uint8_t	*fed;		/* every byte fed so far ... */
	size_t		 nfed;
	size_t		 cursor;	/* ... and how far results matched */
	int		 eof;
	int		 pending;
	int		 op;
	size_t		 n;
	uint8_t		 sep[4];
	size_t		 seplen;
};

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz-reader: %s\n", what);
	abort();
}

/* The result must come from the fed bytes at or after the cursor. */
static void
fuzz_match(struct fuzz *f, const uint8_t *p, size_t len)
{
	const uint8_t	*at;

	if (len == 0)
		return;
	at = memmem(f->fed + f->cursor, f->nfed - f->cursor, p, len);
	if (at == NULL)
		fuzz_fail("returned bytes that were not fed, in order");
	f->cursor = (at - f->fed) + len;
}

static void
fuzz_read_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct fuzz	*f = arg;
	size_t		 len = evbuffer_get_length(data);
	uint8_t		*p = evbuffer_pullup(data, -1);

	f->pending = 0;
	fuzz_match(f, p, len);
	if (err->kind != STREAM_OK) {
		if (err->kind == STREAM_EINCOMPLETE && f->op == 3 &&
		    len >= f->n)
			fuzz_fail("readexactly: incomplete with all bytes");
		return;
	}
	switch (f->op) {
	case 1:
		if (len > 0 && p[len - 1] != '\n' && !stream_at_eof(s))
			fuzz_fail("readline: no LF before EOF");
		break;
	case 2:
		if (len < f->seplen ||
		    memcmp(p + len - f->seplen, f->sep, f->seplen) != 0)
			fuzz_fail("readuntil: does not end with the separator");
		break;
	case 3:
		if (len != f->n)
			fuzz_fail("readexactly: wrong length");
		break;
	case 4:
		if (f->n != (size_t)-1 && len > f->n)
			fuzz_fail("read: more than asked");
		break;
	}
}

static void
fuzz_start(struct stream *s, struct fuzz *f, int op, const uint8_t **pp,
    const uint8_t *end)
{
	const uint8_t	*p = *pp;

	f->op = op;
	f->pending = 1;
	switch (op) {
	case 1:
		stream_readline(s, fuzz_read_cb, f);
		break;
	case 2:
		f->seplen = p < end ? 1 + *p++ % 4 : 1;
		if ((size_t)(end - p) < f->seplen)
			f->seplen = 1, memcpy(f->sep, "\n", 1);
		else {
			memcpy(f->sep, p, f->seplen);
			p += f->seplen;
		}
		stream_readuntil(s, f->sep, f->seplen, fuzz_read_cb, f);
		break;
	case 3:
		f->n = p < end ? *p++ : 1;
		stream_readexactly(s, f->n, fuzz_read_cb, f);
		break;
	default:
		f->n = p < end ? (size_t)*p++ - 1 : (size_t)-1;
		stream_read(s, (ssize_t)f->n, fuzz_read_cb, f);
		break;
	}
	*pp = p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz	 f;
	struct stream	*s;
	const uint8_t	*p, *end = data + len;
	uint8_t		*fed;
	size_t		 n;
	int		 op;

	if (len < 2)
		return (0);
	memset(&f, 0, sizeof f);
	f.fed = fed = malloc(len);
	s = stream_new_detached(1 + (data[0] | (size_t)data[1] << 8) % 4096);
	for (p = data + 2; p < end;) {
		op = *p++ % 6;
		if (op == 0) {
			n = p < end ? *p++ % 64 : 0;
			if (n > (size_t)(end - p))
				n = end - p;
			if (!f.eof) {		/* after EOF, ignored */
				memcpy(fed + f.nfed, p, n);
				f.nfed += n;
			}
			stream_feed_data(s, p, n);
			p += n;
		} else if (op == 5) {
			f.eof = 1;
			stream_feed_eof(s);
		} else if (!f.pending)
			fuzz_start(s, &f, op, &p, end);
	}
	stream_feed_eof(s);
	stream_abort(s);
	free(fed);
	return (0);
}
