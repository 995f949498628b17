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

/*
 * The stream module against asyncio's StreamReader semantics (every row
 * of doc/stream.md; the expected values were checked with CPython
 * 3.11's asyncio), then the writer and the transports over socketpairs,
 * TCP and unix loopback servers, and TLS with a certificate made here.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "compat.h"
#include "log.h"
#include "net.h"
#include "relay.h"
#include "stream.h"
#include "tls.h"
#include "xmalloc.h"
#include "loop.h"
#include "tap.h"

/*
 * splice(2) and sendfile(2) come through here (-Wl,--wrap, Makefile.am):
 * a test can make the kernel refuse the Nth call from now with EINVAL.
 */
ssize_t	__real_splice(int, loff_t *, int, loff_t *, size_t, unsigned int);
ssize_t	__wrap_splice(int, loff_t *, int, loff_t *, size_t, unsigned int);
ssize_t	__real_sendfile(int, int, off_t *, size_t);
ssize_t	__wrap_sendfile(int, int, off_t *, size_t);

static int	refuse_splice;		/* 0: never */
static int	refuse_sendfile;

ssize_t
__wrap_splice(int in, loff_t *inoff, int out, loff_t *outoff, size_t len,
    unsigned int flags)
{
	if (refuse_splice > 0 && --refuse_splice == 0) {
		errno = EINVAL;
		return (-1);
	}
	return (__real_splice(in, inoff, out, outoff, len, flags));
}

ssize_t
__wrap_sendfile(int out, int in, off_t *off, size_t len)
{
	if (refuse_sendfile > 0 && --refuse_sendfile == 0) {
		errno = EINVAL;
		return (-1);
	}
	return (__real_sendfile(out, in, off, len));
}

/* What a read callback saw. */
struct rec {
	int			 n;
	enum stream_errkind	 kind;
	int			 sys;
	size_t			 expected;
	size_t			 consumed;
	size_t			 len;
	char			 data[8192];
};

static void
rec_cb(struct stream *s, struct evbuffer *data, const struct stream_error *err,
    void *arg)
{
	struct rec	*r = arg;
	size_t		 len = evbuffer_get_length(data);

	r->n++;
	r->kind = err->kind;
	r->sys = err->sys;
	r->expected = err->expected;
	r->consumed = err->consumed;
	r->len = len;
	if (len > sizeof r->data - 1)
		len = sizeof r->data - 1;
	evbuffer_copyout(data, r->data, len);
	r->data[len] = '\0';
}

static void
rec_reset(struct rec *r)
{
	memset(r, 0, sizeof *r);
}

/* Completion of drain, close, errors. */
struct done {
	int			 n;
	enum stream_errkind	 kind;
	int			 sys;
	size_t			 wsize;		/* write buffer at the callback */
	char			 msg[256];
};

static void
done_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct done	*d = arg;

	d->n++;
	d->kind = err->kind;
	d->sys = err->sys;
	snprintf(d->msg, sizeof d->msg, "%s", err->msg);
}

static void
drain_rec_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct done	*d = arg;

	done_cb(s, err, arg);
	d->wsize = stream_write_buffer_size(s);
}

/* Everything the peer can read within secs, until EOF (*eof set). */
static size_t
peer_read_all(struct event_base *base, int fd, char *buf, size_t cap,
    int *eof, double secs)
{
	double	end = now() + secs;
	size_t	got = 0;
	ssize_t	n;

	*eof = 0;
	while (now() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		n = read(fd, buf + got, cap - got > 65536 ? 65536 : cap - got);
		if (n == 0) {
			*eof = 1;
			break;
		}
		if (n > 0) {
			got += (size_t)n;
			if (got == cap)
				break;
			continue;
		}
		usleep(200);
	}
	return (got);
}

static void
set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void
fill_pattern(char *p, size_t len, unsigned int seed)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = (char)('a' + (i * 7 + seed) % 26);
}

/* read(n): up to n as soon as any, 0 at once, empty at EOF. */
static void
test_read(void)
{
	struct stream	*s = stream_new_detached(0);
	struct rec	 r;

	is_int(stream_limit(s), STREAM_DEFAULT_LIMIT, "default limit is 2**16");
	stream_feed_data(s, "hello world", 11);
	rec_reset(&r);
	stream_read(s, 5, rec_cb, &r);
	ok(r.n == 1 && r.kind == STREAM_OK, "read(5) completes at once");
	is_str(r.data, "hello", "read(5) returns 5 bytes");
	stream_read(s, 100, rec_cb, &r);
	is_str(r.data, " world", "read(100) returns what is buffered");
	rec_reset(&r);
	stream_read(s, 0, rec_cb, &r);
	ok(r.n == 1 && r.len == 0 && r.kind == STREAM_OK, "read(0) is empty");

	rec_reset(&r);
	stream_read(s, 10, rec_cb, &r);
	is_int(r.n, 0, "read(n) on an empty buffer waits");
	stream_feed_data(s, "abc", 3);
	ok(r.n == 1 && strcmp(r.data, "abc") == 0,
	    "a pending read completes on the next feed");

	rec_reset(&r);
	stream_read(s, -1, rec_cb, &r);
	stream_feed_data(s, "def", 3);
	stream_feed_data(s, "ghi", 3);
	is_int(r.n, 0, "read(-1) waits for EOF");
	stream_feed_eof(s);
	ok(r.n == 1 && strcmp(r.data, "defghi") == 0 && r.kind == STREAM_OK,
	    "read(-1) returns everything at EOF");
	rec_reset(&r);
	stream_read(s, 10, rec_cb, &r);
	ok(r.n == 1 && r.len == 0 && r.kind == STREAM_OK,
	    "read(n) at EOF is empty");
	ok(stream_at_eof(s), "at_eof after EOF and an empty buffer");
	stream_abort(s);
}

/* readline: through \n, partial at EOF, over-limit lines dropped. */
static void
test_readline(void)
{
	struct stream	*s = stream_new_detached(8);
	struct rec	 r;

	stream_feed_data(s, "line1\nline2\npa", 14);
	rec_reset(&r);
	stream_readline(s, rec_cb, &r);
	is_str(r.data, "line1\n", "readline returns through the newline");
	stream_readline(s, rec_cb, &r);
	is_str(r.data, "line2\n", "readline returns the next line");
	rec_reset(&r);
	stream_readline(s, rec_cb, &r);
	is_int(r.n, 0, "readline waits for the rest of a line");
	stream_feed_data(s, "rt", 2);
	is_int(r.n, 0, "still no newline: still waiting");
	stream_feed_eof(s);
	ok(r.n == 1 && r.kind == STREAM_OK && strcmp(r.data, "part") == 0,
	    "readline at EOF returns the partial line (asyncio)");
	rec_reset(&r);
	stream_readline(s, rec_cb, &r);
	ok(r.n == 1 && r.kind == STREAM_OK && r.len == 0,
	    "readline at EOF with nothing left is empty");
	stream_abort(s);

	/* Separator found past the limit: the line goes, separator too. */
	s = stream_new_detached(8);
	stream_feed_data(s, "0123456789\nrest\n", 16);
	rec_reset(&r);
	stream_readline(s, rec_cb, &r);
	ok(r.kind == STREAM_ELIMIT && r.consumed == 10 && r.len == 0,
	    "readline over the limit: ELIMIT, consumed 10, no data");
	is_int(stream_buffered(s), 5, "the long line was dropped, 'rest\\n' "
	    "remains");
	stream_readline(s, rec_cb, &r);
	ok(r.kind == STREAM_OK && strcmp(r.data, "rest\n") == 0,
	    "the next readline returns the next line");
	stream_abort(s);

	/* No separator within the limit: the buffer is cleared. */
	s = stream_new_detached(8);
	stream_feed_data(s, "0123456789ab", 12);
	rec_reset(&r);
	stream_readline(s, rec_cb, &r);
	ok(r.kind == STREAM_ELIMIT && r.consumed == 12,
	    "readline without a newline in limit: ELIMIT, consumed 12");
	is_int(stream_buffered(s), 0, "... and the buffer is cleared");
	stream_feed_data(s, "cd\nnext\n", 8);
	stream_readline(s, rec_cb, &r);
	is_str(r.data, "cd\n", "the line's tail comes next, as in asyncio");
	stream_abort(s);
}

/* readexactly: n > limit, EOF first, 0 bytes. */
static void
test_readexactly(void)
{
	struct stream	*s = stream_new_detached(4);
	struct rec	 r;

	rec_reset(&r);
	stream_readexactly(s, 0, rec_cb, &r);
	ok(r.n == 1 && r.kind == STREAM_OK && r.len == 0,
	    "readexactly(0) succeeds at once");
	rec_reset(&r);
	stream_readexactly(s, 10, rec_cb, &r);
	stream_feed_data(s, "abc", 3);
	is_int(r.n, 0, "readexactly(10) waits with 3 bytes");
	stream_feed_data(s, "defghijkl", 9);
	ok(r.n == 1 && strcmp(r.data, "abcdefghij") == 0,
	    "readexactly(n) with n above the limit returns n bytes");
	is_int(stream_buffered(s), 2, "the rest stays buffered");
	rec_reset(&r);
	stream_readexactly(s, 5, rec_cb, &r);
	stream_feed_eof(s);
	ok(r.kind == STREAM_EINCOMPLETE && strcmp(r.data, "kl") == 0,
	    "EOF first: EINCOMPLETE with the partial bytes");
	is_int(r.expected, 5, "... and expected = 5");
	is_int(stream_buffered(s), 0, "... and the buffer is emptied");
	ok(stream_at_eof(s), "at_eof after an incomplete read");
	stream_abort(s);
}

/* readuntil: split separators, the limit edge, EOF. */
static void
test_readuntil(void)
{
	const char	*msg = "HTTP/1.1 200 OK\r\nA: b\r\n\r\nBODY";
	struct stream	*s = stream_new_detached(0);
	struct rec	 r;
	size_t		 i;

	rec_reset(&r);
	stream_readuntil(s, "\r\n\r\n", 4, rec_cb, &r);
	for (i = 0; i < strlen(msg) && r.n == 0; i++)
		stream_feed_data(s, msg + i, 1);
	ok(r.n == 1 && r.kind == STREAM_OK, "a 4-byte separator fed one byte "
	    "at a time is found");
	is_str(r.data, "HTTP/1.1 200 OK\r\nA: b\r\n\r\n", "readuntil returns "
	    "through the separator");
	is_int(i, strlen(msg) - 4, "... as soon as its last byte arrives");
	stream_abort(s);

	/* Overlapping prefixes: "aab" in "aaab" (KMP fallback). */
	s = stream_new_detached(0);
	rec_reset(&r);
	stream_readuntil(s, "aab", 3, rec_cb, &r);
	stream_feed_data(s, "xa", 2);
	stream_feed_data(s, "a", 1);
	stream_feed_data(s, "ab", 2);
	ok(r.n == 1 && strcmp(r.data, "xaaab") == 0,
	    "a separator overlapping a partial match across feeds");
	rec_reset(&r);
	stream_feed_data(s, "abab", 4);
	stream_readuntil(s, "bab", 3, rec_cb, &r);
	is_str(r.data, "abab", "a separator found in buffered data");
	stream_abort(s);
}

/* readuntil and the limit, as asyncio's LimitOverrunError. */
static void
test_readuntil_limit(void)
{
	struct stream	*s;
	struct rec	 r;
	size_t		 i;

	/* The limit counts the bytes before the separator. */
	s = stream_new_detached(8);
	stream_feed_data(s, "01234567\n", 9);
	rec_reset(&r);
	stream_readuntil(s, "\n", 1, rec_cb, &r);
	ok(r.kind == STREAM_OK && r.len == 9,
	    "a record of exactly limit bytes plus separator is accepted");
	stream_feed_data(s, "012345678\n", 10);
	rec_reset(&r);
	stream_readuntil(s, "\n", 1, rec_cb, &r);
	ok(r.kind == STREAM_ELIMIT && r.consumed == 9,
	    "limit + 1 bytes: ELIMIT with consumed 9");
	is_int(stream_buffered(s), 10, "LimitOverrun leaves the data in place");
	stream_read(s, 100, rec_cb, &r);
	is_str(r.data, "012345678\n", "... and readable afterwards");

	/* Not found: consumed = buflen + 1 - seplen, as asyncio. */
	stream_feed_data(s, "0123456789", 10);
	rec_reset(&r);
	stream_readuntil(s, "\r\n", 2, rec_cb, &r);
	ok(r.kind == STREAM_ELIMIT && r.consumed == 9,
	    "separator not within limit: consumed = buflen + 1 - seplen");
	is_int(stream_buffered(s), 10, "... the data stays buffered");
	stream_read(s, -1, rec_cb, &r);
	stream_abort(s);

	/* Arriving chunk by chunk while pending, as asyncio sees it. */
	s = stream_new_detached(8);
	rec_reset(&r);
	stream_readuntil(s, "\n", 1, rec_cb, &r);
	stream_feed_data(s, "0123", 4);
	stream_feed_data(s, "4567", 4);
	is_int(r.n, 0, "8 bytes without separator: still waiting");
	stream_feed_data(s, "89", 2);
	ok(r.kind == STREAM_ELIMIT && r.consumed == 10,
	    "a pending readuntil overruns when the buffer passes the limit");
	stream_abort(s);
	s = stream_new_detached(8);
	rec_reset(&r);
	stream_readuntil(s, "\r\n", 2, rec_cb, &r);
	for (i = 0; i < 10 && r.n == 0; i++)
		stream_feed_data(s, "0123456789" + i, 1);
	ok(r.kind == STREAM_ELIMIT && r.consumed == 9 && i == 10,
	    "one byte at a time: overrun at buflen 10, consumed 9");
	stream_abort(s);

	/* EOF first: IncompleteReadError(partial, None), buffer emptied. */
	s = stream_new_detached(8);
	stream_feed_data(s, "ab\r", 3);
	rec_reset(&r);
	stream_readuntil(s, "\r\n", 2, rec_cb, &r);
	stream_feed_eof(s);
	ok(r.kind == STREAM_EINCOMPLETE && strcmp(r.data, "ab\r") == 0 &&
	    r.expected == 0, "EOF before the separator: EINCOMPLETE, partial");
	is_int(stream_buffered(s), 0, "... and the buffer is emptied");
	rec_reset(&r);
	stream_readuntil(s, "", 0, rec_cb, &r);
	ok(r.n == 1 && r.kind == STREAM_ESYS && r.sys == EINVAL,
	    "an empty separator is an error (asyncio ValueError)");
	stream_abort(s);
}

/* at_eof, exception, set_exception. */
static void
test_exception(void)
{
	struct stream		*s = stream_new_detached(0);
	struct stream_error	 e;
	struct rec		 r;

	ok(!stream_at_eof(s), "not at EOF at first");
	ok(stream_exception(s) == NULL, "no exception at first");
	stream_feed_data(s, "x\n", 2);
	stream_feed_eof(s);
	ok(!stream_at_eof(s), "not at EOF while data is buffered");

	rec_reset(&r);
	stream_readexactly(s, 5, rec_cb, &r);
	ok(r.kind == STREAM_EINCOMPLETE, "setup: data consumed");
	ok(stream_at_eof(s), "at_eof once the buffer is empty");
	stream_abort(s);

	s = stream_new_detached(0);
	rec_reset(&r);
	stream_readline(s, rec_cb, &r);
	stream_error_set(&e, STREAM_ERESET, ECONNRESET, "boom %d", 42);
	stream_set_exception(s, &e);
	ok(r.n == 1 && r.kind == STREAM_ERESET,
	    "set_exception fails the pending operation at once");
	ok(stream_exception(s) != NULL &&
	    strcmp(stream_exception(s)->msg, "boom 42") == 0,
	    "exception() returns the stored error");
	stream_feed_data(s, "data\n", 5);
	rec_reset(&r);
	stream_readline(s, rec_cb, &r);
	ok(r.n == 1 && r.kind == STREAM_ERESET && r.len == 0,
	    "a later read fails with it, even with data buffered");
	rec_reset(&r);
	stream_read(s, 0, rec_cb, &r);
	ok(r.kind == STREAM_ERESET, "even read(0), as asyncio checks first");
	stream_set_exception(s, NULL);
	stream_readline(s, rec_cb, &r);
	ok(r.kind == STREAM_OK && strcmp(r.data, "data\n") == 0,
	    "cleared: the buffered data is readable again");
	ok(stream_write(s, "x", 1) == -1 && stream_exception(s) != NULL &&
	    stream_exception(s)->kind == STREAM_ECLOSED,
	    "writing to a detached stream fails with ECLOSED");
	stream_abort(s);
}

/* A callback that reads the next line, 100000 times, without recursing. */
struct tramp {
	struct stream	*s;
	int		 depth;
	int		 maxdepth;
	int		 lines;
	int		 bad;
};

static void
tramp_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct tramp	*t = arg;
	char		 buf[32];
	size_t		 len = evbuffer_get_length(data);

	if (++t->depth > t->maxdepth)
		t->maxdepth = t->depth;
	if (err->kind != STREAM_OK || len == 0) {
		t->depth--;
		return;
	}
	evbuffer_copyout(data, buf, len < sizeof buf ? len : sizeof buf);
	if (len != 11 || buf[10] != '\n' ||
	    atoi(buf + 5) != t->lines)
		t->bad++;
	t->lines++;
	stream_readline(s, tramp_cb, t);
	t->depth--;
}

static void
test_trampoline(void)
{
	struct evbuffer	*all = evbuffer_new();
	struct stream	*s = stream_new_detached(0);
	struct tramp	 t;
	size_t		 len;
	char		*p;
	int		 i;

	for (i = 0; i < 100000; i++)
		evbuffer_add_printf(all, "line %05d\n", i);
	len = evbuffer_get_length(all);
	p = (char *)evbuffer_pullup(all, -1);
	memset(&t, 0, sizeof t);
	t.s = s;
	stream_feed_data(s, p, len);
	stream_feed_eof(s);
	stream_readline(s, tramp_cb, &t);
	is_int(t.lines, 100000, "100000 buffered lines are all read");
	is_int(t.bad, 0, "... each one intact and in order");
	is_int(t.maxdepth, 1, "... and callbacks never nest (trampoline)");
	stream_abort(s);
	evbuffer_free(all);
}

/* 16 MiB one byte at a time through readuntil: each byte examined once. */
static void
test_linear(void)
{
	const size_t		 total = 16 * 1024 * 1024;
	struct stream		*s = stream_new_detached(32 * 1024 * 1024);
	struct rec		 r;
	size_t			 i;
	unsigned long long	 scanned;
	char			 c;

	rec_reset(&r);
	stream_readuntil(s, "\r\n", 2, rec_cb, &r);
	for (i = 0; i < total; i++) {
		c = (char)('a' + i % 26);
		stream_feed_data(s, &c, 1);
	}
	is_int(r.n, 0, "no separator in 16 MiB yet");
	stream_feed_data(s, "\r", 1);
	stream_feed_data(s, "\n", 1);
	ok(r.n == 1 && r.kind == STREAM_OK && r.len == total + 2,
	    "16 MiB + separator fed one byte at a time is found");
	scanned = stream_scanned(s);
	ok(scanned <= total + 2 + 16, "bytes examined %llu <= 16 MiB + 18",
	    scanned);
	ok(scanned >= total, "every byte was examined once (%llu)", scanned);
	stream_abort(s);

	/* A separator made of its own prefix: still once per byte. */
	s = stream_new_detached(4 * 1024 * 1024);
	rec_reset(&r);
	stream_readuntil(s, "aaab", 4, rec_cb, &r);
	for (i = 0; i < 1024 * 1024; i++)
		stream_feed_data(s, "a", 1);
	stream_feed_data(s, "b", 1);
	ok(r.n == 1 && r.len == 1024 * 1024 + 1, "'aaab' after 1 MiB of 'a'");
	ok(stream_scanned(s) <= 1024 * 1024 + 1 + 16,
	    "a self-overlapping separator stays linear (%llu)",
	    stream_scanned(s));
	stream_abort(s);
}

/* Closing and aborting from inside callbacks. */
static void
abort_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	int	*n = arg;

	(*n)++;
	stream_readline(s, abort_cb, n);	/* never runs: aborted below */
	stream_abort(s);
}

static void
test_lifetime(void)
{
	struct stream	*s = stream_new_detached(0);
	struct done	 d;
	struct rec	 r;
	int		 n = 0;

	stream_feed_data(s, "a\nb\nc\n", 6);
	stream_readline(s, abort_cb, &n);
	is_int(n, 1, "abort inside a read callback stops at once");

	s = stream_new_detached(0);
	rec_reset(&r);
	memset(&d, 0, sizeof d);
	stream_readline(s, rec_cb, &r);
	stream_close(s, done_cb, &d);
	ok(d.n == 1 && d.kind == STREAM_OK && r.n == 0,
	    "close calls back once and never the pending read");
}

/* Flow control over a real transport: pause > 2 x limit, resume <= limit. */
static void
test_flow(struct event_base *base)
{
	struct stream_opts	 opts;
	struct stream_error	 err;
	struct stream		*s;
	struct rec		 r;
	char			*big;
	size_t			 before;
	double			 end;
	int			 sv[2], paused;

	memset(&opts, 0, sizeof opts);
	opts.limit = 1024;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		fail_setup("socketpair: %s", strerror(errno));
		return;
	}
	set_nonblock(sv[1]);
	big = malloc(65536);
	fill_pattern(big, 65536, 1);
	s = stream_open_fd(base, sv[0], &opts, &err);
	ok(s != NULL, "stream_open_fd on a socketpair");
	if (s == NULL)
		return;
	/* Between limit and 2 x limit: asyncio keeps reading. */
	ok(write(sv[1], big, 1500) == 1500, "the peer sends 1500 bytes");
	run_for(base, 0.05);
	ok(stream_buffered(s) == 1500 && !stream_reading_paused(s),
	    "1500 bytes buffered with limit 1024: not paused");
	ok(write(sv[1], big, 600) == 600, "the peer sends 600 more");
	run_for(base, 0.05);
	ok(stream_buffered(s) == 2100 && stream_reading_paused(s),
	    "2100 bytes > 2 x limit: paused");
	rec_reset(&r);
	stream_read(s, 2100, rec_cb, &r);
	ok(r.len == 2100 && !stream_reading_paused(s), "emptied: resumed");
	ok(write(sv[1], big, 65536) > 8192, "the peer sends 64 KiB");

	paused = 0;
	end = now() + 3;
	while (!paused && now() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		paused = stream_reading_paused(s);
	}
	ok(paused, "reading is paused");
	ok(stream_buffered(s) > 2048, "paused only above 2 x limit (%zu)",
	    stream_buffered(s));
	ok(stream_buffered(s) <= 2048 + 16384 + 4096,
	    "the read that crossed it was bounded (%zu)", stream_buffered(s));
	before = stream_buffered(s);
	run_for(base, 0.05);
	is_int(stream_buffered(s), before, "paused: nothing more is read");

	rec_reset(&r);
	stream_read(s, (ssize_t)(before - 1500), rec_cb, &r);
	ok(stream_reading_paused(s), "still paused at %zu > limit",
	    stream_buffered(s));
	stream_read(s, 476, rec_cb, &r);
	ok(!stream_reading_paused(s) && stream_buffered(s) == 1024,
	    "resumed at exactly limit (%zu buffered)", stream_buffered(s));
	run_for(base, 0.05);
	ok(stream_buffered(s) > 2048, "reading resumed (%zu buffered)",
	    stream_buffered(s));

	/* readexactly(n) beyond 2 x limit must not deadlock. */
	rec_reset(&r);
	stream_readexactly(s, 40000, rec_cb, &r);
	run_until(base, &r.n, 2);
	ok(r.n == 1 && r.kind == STREAM_OK && r.len == 40000,
	    "readexactly(40000) with limit 1024 completes");
	stream_abort(s);
	close(sv[1]);
	free(big);
}

/* drain fires only at or below the low-water mark. */
static void
test_drain(struct event_base *base)
{
	const size_t		 total = 256 * 1024;
	struct stream_error	 err;
	struct stream		*s;
	struct done		 d;
	char			*out, *in;
	size_t			 got = 0;
	ssize_t			 n;
	int			 sv[2], small = 4096;
	double			 end;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		fail_setup("socketpair: %s", strerror(errno));
		return;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	set_nonblock(sv[1]);
	out = malloc(total);
	in = malloc(total);
	fill_pattern(out, total, 2);
	s = stream_open_fd(base, sv[0], NULL, &err);

	memset(&d, 0, sizeof d);
	ok(stream_write(s, "tiny", 4) == 0, "write returns 0");
	stream_drain(s, drain_rec_cb, &d);
	ok(d.n == 1 && d.kind == STREAM_OK,
	    "drain with little queued calls back at once");
	ok(read(sv[1], in, 4) == 4, "the peer gets them at once");

	/*
	 * High 1 MiB: the queue is below it, yet drain waits for the low
	 * mark (doc/stream.md), unlike asyncio's "not paused" shortcut.
	 */
	memset(&d, 0, sizeof d);
	stream_set_write_buffer_limits(s, 1024 * 1024, STREAM_WRITE_LOW);
	stream_write(s, out, total);
	ok(stream_write_buffer_size(s) > STREAM_WRITE_LOW,
	    "the peer's full buffer leaves %zu bytes queued",
	    stream_write_buffer_size(s));
	stream_drain(s, drain_rec_cb, &d);
	is_int(d.n, 0, "drain waits above the low-water mark");
	run_for(base, 0.05);
	is_int(d.n, 0, "... while the peer does not read");

	got = 0;
	end = now() + 5;
	while (got < total && now() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		n = read(sv[1], in + got, 2048);
		if (n > 0)
			got += (size_t)n;
		else
			usleep(100);
	}
	ok(d.n == 1 && d.kind == STREAM_OK, "drain called back once");
	ok(d.wsize <= STREAM_WRITE_LOW,
	    "... with %zu <= %d bytes queued", d.wsize, STREAM_WRITE_LOW);
	ok(got == total && memcmp(in, out, total) == 0,
	    "the peer got all %zu bytes intact", got);
	is_int(stream_bytes_out(s), total + 4, "bytes_out counts them");
	stream_abort(s);
	close(sv[1]);
	free(out);
	free(in);
}

/* flush waits for an empty queue and leaves the watermarks as they were. */
static void
test_flush(struct event_base *base)
{
	const size_t		 total = 256 * 1024;
	struct stream_error	 err;
	struct stream		*s;
	struct done		 d;
	char			*out, *in;
	size_t			 got = 0;
	ssize_t			 n;
	int			 sv[2], small = 4096;
	double			 end;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		ok(0, "socketpair: %s", strerror(errno));
		return;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	set_nonblock(sv[1]);
	out = malloc(total);
	in = malloc(total);
	fill_pattern(out, total, 3);
	s = stream_open_fd(base, sv[0], NULL, &err);

	stream_write(s, out, total);
	ok(stream_write_paused(s), "%zu bytes queued: over the high mark",
	    stream_write_buffer_size(s));
	memset(&d, 0, sizeof d);
	stream_flush(s, drain_rec_cb, &d);
	is_int(d.n, 0, "flush waits while bytes are queued");
	end = now() + 5;
	while (got < total && now() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		n = read(sv[1], in + got, 2048);
		if (n > 0)
			got += (size_t)n;
		else
			usleep(100);
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	ok(d.n == 1 && d.kind == STREAM_OK && d.wsize == 0,
	    "flush called back once, with the queue empty (%zu)", d.wsize);
	ok(got == total && memcmp(in, out, total) == 0,
	    "the peer got all %zu bytes intact", got);
	ok(!stream_write_paused(s), "not paused once flushed");

	/* The low mark is still STREAM_WRITE_LOW: drain needs no empty queue. */
	stream_write(s, out, total);
	memset(&d, 0, sizeof d);
	stream_drain(s, drain_rec_cb, &d);
	got = 0;
	end = now() + 5;
	while (got < total && now() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		n = read(sv[1], in + got, 2048);
		if (n > 0)
			got += (size_t)n;
		else
			usleep(100);
	}
	ok(d.n == 1 && d.wsize <= STREAM_WRITE_LOW,
	    "a later drain still stops at the low mark (%zu queued)", d.wsize);
	stream_abort(s);
	close(sv[1]);
	free(out);
	free(in);
}

/* write_eof after queued bytes; the read side goes on. */
static void
test_write_eof(struct event_base *base)
{
	const size_t		 total = 200000;
	struct stream_error	 err;
	struct stream		*s;
	struct rec		 r;
	char			*out, *in;
	size_t			 got;
	int			 sv[2], eof, small = 4096;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		fail_setup("socketpair: %s", strerror(errno));
		return;
	}
	set_nonblock(sv[1]);
	out = malloc(total);
	in = malloc(total + 1);
	fill_pattern(out, total, 3);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	s = stream_open_fd(base, sv[0], NULL, &err);
	ok(stream_can_write_eof(s), "can_write_eof on a socket");
	stream_write(s, out, total);
	ok(stream_write_buffer_size(s) > 100000, "%zu bytes wait in the queue",
	    stream_write_buffer_size(s));
	ok(stream_write_eof(s) == 0, "write_eof with bytes queued");
	ok(stream_write(s, "x", 1) == -1 && stream_exception(s) != NULL &&
	    stream_exception(s)->kind == STREAM_ECLOSED,
	    "write after write_eof is refused");
	got = peer_read_all(base, sv[1], in, total + 1, &eof, 5);
	ok(got == total && memcmp(in, out, total) == 0,
	    "the peer reads every queued byte first");
	ok(eof, "... and then EOF");

	rec_reset(&r);
	stream_readline(s, rec_cb, &r);
	ok(write(sv[1], "reply\n", 6) == 6, "the peer replies");
	run_until(base, &r.n, 2);
	ok(r.kind == STREAM_OK && strcmp(r.data, "reply\n") == 0,
	    "after the half-close the peer's reply still arrives");
	stream_abort(s);
	close(sv[1]);
	free(out);
	free(in);
}

/* close flushes what is queued, then calls back. */
static void
test_close_flush(struct event_base *base)
{
	const size_t		 total = 300000;
	struct stream_error	 err;
	struct stream		*s;
	struct done		 d;
	char			*out, *in;
	size_t			 got;
	int			 sv[2], eof, small = 4096;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		fail_setup("socketpair: %s", strerror(errno));
		return;
	}
	set_nonblock(sv[1]);
	out = malloc(total);
	in = malloc(total + 1);
	fill_pattern(out, total, 4);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	s = stream_open_fd(base, sv[0], NULL, &err);
	stream_write(s, out, total);
	ok(stream_write_buffer_size(s) > 200000, "%zu bytes wait in the queue",
	    stream_write_buffer_size(s));
	memset(&d, 0, sizeof d);
	stream_close(s, done_cb, &d);
	ok(stream_write(s, "x", 1) == -1, "write after close is refused");
	is_int(d.n, 0, "close waits for the queue to drain");
	got = peer_read_all(base, sv[1], in, total + 1, &eof, 5);
	ok(got == total && memcmp(in, out, total) == 0 && eof,
	    "the peer gets all %zu bytes, then EOF", got);
	run_until(base, &d.n, 1);
	ok(d.n == 1 && d.kind == STREAM_OK, "close called back once, OK");
	close(sv[1]);
	free(out);
	free(in);
}

/* writelines, write_buffer (moves), write_file (sendfile, owns the fd). */
static void
test_write_kinds(struct event_base *base)
{
	char			 path[] = "/tmp/test-stream.XXXXXX";
	struct iovec		 iov[3];
	struct stream_error	 err;
	struct evbuffer		*b;
	struct stream		*s;
	char			*file, in[4096], want[2048];
	size_t			 got;
	int			 sv[2], fd, eof, marker = 42;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		fail_setup("socketpair: %s", strerror(errno));
		return;
	}
	set_nonblock(sv[1]);
	s = stream_open_fd(base, sv[0], NULL, &err);
	stream_set_data(s, &marker);
	ok(stream_get_data(s) == &marker, "set_data/get_data");

	iov[0].iov_base = "one ";
	iov[0].iov_len = 4;
	iov[1].iov_base = "";
	iov[1].iov_len = 0;
	iov[2].iov_base = "two ";
	iov[2].iov_len = 4;
	ok(stream_writelines(s, iov, 3) == 0, "writelines");
	b = evbuffer_new();
	evbuffer_add(b, "three ", 6);
	ok(stream_write_buffer(s, b) == 0 && evbuffer_get_length(b) == 0,
	    "write_buffer moves the chains out of the caller's buffer");
	evbuffer_free(b);

	file = malloc(100000);
	fill_pattern(file, 100000, 6);
	fd = mkstemp(path);
	ok(write(fd, file, 100000) == 100000, "a 100000-byte file");
	unlink(path);
	ok(stream_write_file(s, fd, 10, 1000) == 0, "write_file(fd, 10, 1000)");
	stream_write(s, " end", 4);
	stream_write_eof(s);
	got = peer_read_all(base, sv[1], in, sizeof in, &eof, 3);
	memcpy(want, "one two three ", 14);
	memcpy(want + 14, file + 10, 1000);
	memcpy(want + 1014, " end", 4);
	is_mem(in, got, want, (size_t)1018,
	    "the peer gets lines, buffer, file range and more, in order");
	ok(fcntl(fd, F_GETFD) == -1 && errno == EBADF,
	    "the file descriptor was closed once sent");
	is_int(stream_bytes_out(s), 1018, "bytes_out counts all of it");
	stream_abort(s);
	close(sv[1]);
	free(file);
}

/* The peer is gone: ERESET as exception, error callback, failed drain. */
static void
test_reset(struct event_base *base)
{
	struct stream_error	 err;
	struct stream		*s;
	struct done		 e, dr;
	struct rec		 r;
	int			 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		fail_setup("socketpair: %s", strerror(errno));
		return;
	}
	s = stream_open_fd(base, sv[0], NULL, &err);
	memset(&e, 0, sizeof e);
	stream_set_error_cb(s, done_cb, &e);
	close(sv[1]);
	ok(stream_write(s, "x", 1) == 0, "a write never fails at once");
	ok(stream_exception(s) != NULL &&
	    stream_exception(s)->kind == STREAM_ERESET,
	    "EPIPE is stored as ERESET");
	is_int(e.n, 0, "the error callback does not run inside write");
	rec_reset(&r);
	stream_readline(s, rec_cb, &r);
	run_until(base, &r.n, 1);
	ok(r.n == 1 && r.kind == STREAM_OK && r.len == 0,
	    "reads go on to the transport's own EOF (what the peer said "
	    "before it left is not lost)");
	run_until(base, &e.n, 1);
	ok(e.n == 1 && e.kind == STREAM_ERESET, "the error callback ran once "
	    "(%s)", e.msg);
	ok(stream_write(s, "y", 1) == -1, "later writes are refused");
	memset(&dr, 0, sizeof dr);
	stream_drain(s, done_cb, &dr);
	ok(dr.n == 1 && dr.kind == STREAM_ERESET, "drain reports it");
	ok(stream_is_closing(s), "is_closing after the connection is lost");
	stream_abort(s);
}

/* open_fd refuses what is not a socket; open_fds handles files. */
static void
test_fds(struct event_base *base)
{
	char			 path[] = "/tmp/test-stream.XXXXXX";
	struct stream_error	 err;
	struct stream		*s;
	struct rec		 r;
	char			*buf;
	int			 p[2], fd, nul;

	if (pipe(p) == -1) {
		fail_setup("pipe: %s", strerror(errno));
		return;
	}
	s = stream_open_fd(base, p[0], NULL, &err);
	ok(s == NULL && err.kind == STREAM_ESYS && err.sys == ENOTSOCK,
	    "open_fd on a pipe: ESYS/ENOTSOCK (%s)", err.msg);
	s = stream_open_fd(base, 987, NULL, &err);
	ok(s == NULL && err.sys == EBADF, "open_fd on a closed fd: EBADF");

	/* A pipe as the write side: write_eof closes it after the bytes. */
	s = stream_open_fds(base, -1, p[1], NULL, &err);
	ok(s != NULL && stream_can_write_eof(s), "a pipe can write EOF");
	stream_write(s, "abc", 3);
	stream_write_eof(s);
	buf = malloc(300000);
	ok(read(p[0], buf, 10) == 3 && read(p[0], buf, 10) == 0,
	    "the pipe's reader gets the bytes, then EOF");
	stream_abort(s);
	close(p[0]);

	/* A regular file on the read side (epoll cannot watch it). */
	fd = mkstemp(path);
	fill_pattern(buf, 300000, 5);
	ok(write(fd, buf, 300000) == 300000, "a 300000-byte file");
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	s = stream_open_fds(base, fd, -1, NULL, &err);
	ok(s != NULL, "open_fds on a regular file");
	rec_reset(&r);
	stream_read(s, -1, rec_cb, &r);
	run_until(base, &r.n, 3);
	ok(r.n == 1 && r.len == 300000 && memcmp(r.data, buf, 100) == 0,
	    "read(-1) from a regular file returns all of it");
	ok(stream_at_eof(s), "... and then at_eof");
	stream_abort(s);

	/* /dev/null as the write side: blocking writes, at once. */
	nul = open("/dev/null", O_WRONLY);
	s = stream_open_fds(base, -1, nul, NULL, &err);
	ok(s != NULL && stream_write(s, buf, 300000) == 0 &&
	    stream_write_buffer_size(s) == 0 && stream_bytes_out(s) == 300000,
	    "writes to /dev/null complete at once");
	stream_abort(s);
	free(buf);
}

/* A TCP server and client on loopback. */
struct srv {
	struct stream		*s;
	int			 n;
	char			 log[256];
	int			 nlog;
};

static void
accept_cb(struct stream *s, void *arg)
{
	struct srv	*v = arg;

	v->n++;
	if (v->s == NULL)
		v->s = s;
	else
		stream_abort(s);
}

static void
log_cb(const char *msg, void *arg)
{
	struct srv	*v = arg;

	v->nlog++;
	snprintf(v->log, sizeof v->log, "%s", msg);
}

struct conn {
	struct stream		*s;
	int			 n;
	struct stream_error	 err;
};

static void
connected_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct conn	*c = arg;

	c->n++;
	c->s = s;
	c->err = *err;
}

/* A connected TCP pair: what get_extra_info says, and an echo. */
static void
tcp_exchange(struct event_base *base, struct stream *cs, struct stream *ss,
    const char *addr)
{
	struct rec	 r;
	char		 a[128], b[128];

	stream_get_extra_info(cs, "peername", a, sizeof a);
	is_str(a, addr, "client peername is the server address");
	stream_get_extra_info(cs, "sockname", a, sizeof a);
	stream_get_extra_info(ss, "peername", b, sizeof b);
	ok(strncmp(a, "127.0.0.1:", 10) == 0 && strcmp(a, b) == 0,
	    "client sockname %s is the server's peername", a);
	stream_get_extra_info(cs, "socket", a, sizeof a);
	is_int(atoi(a), stream_fd(cs), "socket is the fd");
	ok(stream_get_extra_info(cs, "nonsense", a, sizeof a) == -1,
	    "an unknown name is -1");
	ok(stream_get_extra_info(cs, "peercert", a, sizeof a) == -1,
	    "no peercert without TLS");

	stream_write(cs, "ping\n", 5);
	rec_reset(&r);
	stream_readline(ss, rec_cb, &r);
	run_until(base, &r.n, 2);
	is_str(r.data, "ping\n", "the server reads the client's line");
	stream_write(ss, r.data, r.len);
	rec_reset(&r);
	stream_readline(cs, rec_cb, &r);
	run_until(base, &r.n, 2);
	is_str(r.data, "ping\n", "the client reads the echo");
	ok(stream_bytes_in(cs) == 5 && stream_bytes_out(cs) == 5,
	    "bytes_in and bytes_out");
}

/* max-conns 1 with one client in: the next is closed at once, logged. */
static void
tcp_max_conns(struct event_base *base, const char *port, struct srv *v)
{
	struct conn	c2;
	struct rec	r;

	memset(&c2, 0, sizeof c2);
	stream_open_connection(base, "127.0.0.1", port, NULL, connected_cb,
	    &c2);
	run_until(base, &v->nlog, 3);
	ok(v->nlog == 1 && strncmp(v->log, "1 connections open: closed "
	    "127.0.0.1:", 27) == 0, "over max-conns: '%s'", v->log);
	ok(v->n == 1, "... and the accept callback did not run");
	run_until(base, &c2.n, 3);
	if (c2.s == NULL) {
		ok(0, "the second client connected");
		return;
	}
	rec_reset(&r);
	stream_read(c2.s, 10, rec_cb, &r);
	run_until(base, &r.n, 2);
	ok(r.n == 1 && r.len == 0, "the refused client sees EOF or a reset "
	    "(%d)", r.kind);
	stream_abort(c2.s);
}

static void
test_tcp(struct event_base *base)
{
	struct stream_opts	 opts;
	struct stream_error	 err;
	struct stream_server	*srv;
	struct srv		 v;
	struct conn		 c;
	struct rec		 r;
	struct done		 d;
	char			 port[16];
	const char		*addr;

	memset(&opts, 0, sizeof opts);
	memset(&v, 0, sizeof v);
	opts.max_conns = 1;
	opts.log_cb = log_cb;
	opts.log_arg = &v;
	srv = stream_start_server(base, "127.0.0.1", "0", &opts, accept_cb,
	    &v, &err);
	ok(srv != NULL && stream_server_naddrs(srv) == 1,
	    "start_server on 127.0.0.1 port 0");
	if (srv == NULL)
		return;
	addr = stream_server_addr(srv, 0);
	ok(strncmp(addr, "127.0.0.1:", 10) == 0 && atoi(addr + 10) > 0,
	    "server address %s", addr);
	snprintf(port, sizeof port, "%s", addr + 10);

	memset(&c, 0, sizeof c);
	stream_open_connection(base, "127.0.0.1", port, &opts, connected_cb,
	    &c);
	run_until(base, &c.n, 3);
	run_until(base, &v.n, 3);
	ok(c.s != NULL && c.err.kind == STREAM_OK, "open_connection connects");
	ok(v.s != NULL && stream_server_nconns(srv) == 1,
	    "the server accepted one stream");
	if (c.s == NULL || v.s == NULL)
		return;
	tcp_exchange(base, c.s, v.s, addr);
	tcp_max_conns(base, port, &v);

	/* The client leaves: the server reads EOF, closes, count drops. */
	memset(&d, 0, sizeof d);
	stream_close(c.s, done_cb, &d);
	rec_reset(&r);
	stream_readline(v.s, rec_cb, &r);
	run_until(base, &r.n, 2);
	ok(r.n == 1 && r.kind == STREAM_OK && r.len == 0 && d.n == 1,
	    "after the client's close the server reads EOF");
	stream_close(v.s, NULL, NULL);
	run_for(base, 0.02);
	is_int(stream_server_nconns(srv), 0, "closed streams leave the server");
	stream_server_close(srv);

	/* Nobody listens there any more. */
	memset(&c, 0, sizeof c);
	stream_open_connection(base, "127.0.0.1", port, NULL, connected_cb,
	    &c);
	run_until(base, &c.n, 3);
	ok(c.n == 1 && c.s == NULL && c.err.kind == STREAM_ESYS &&
	    c.err.sys == ECONNREFUSED, "refused: '%s'", c.err.msg);
}

static void
test_unix(struct event_base *base)
{
	struct stream_opts	 opts;
	struct stream_error	 err;
	struct stream_server	*srv;
	struct srv		 v;
	struct conn		 c;
	struct stat		 sb;
	char			 path[64], a[128];

	snprintf(path, sizeof path, "/tmp/test-stream-%ld.sock",
	    (long)getpid());
	memset(&opts, 0, sizeof opts);
	opts.unix_mode = -1;
	memset(&v, 0, sizeof v);
	srv = stream_start_unix_server(base, path, &opts, accept_cb, &v, &err);
	ok(srv != NULL && strcmp(stream_server_addr(srv, 0), path) == 0,
	    "start_unix_server: address is the path");
	if (srv == NULL)
		return;
	memset(&c, 0, sizeof c);
	stream_open_unix_connection(base, path, NULL, connected_cb, &c);
	run_until(base, &c.n, 3);
	run_until(base, &v.n, 3);
	ok(c.s != NULL && v.s != NULL, "open_unix_connection connects");
	if (c.s != NULL && v.s != NULL) {
		stream_get_extra_info(c.s, "peername", a, sizeof a);
		is_str(a, path, "the client's peername is the path");
		stream_get_extra_info(v.s, "peername", a, sizeof a);
		is_str(a, "", "an unnamed client's peername is empty");
	}
	stream_abort(c.s);
	stream_server_close(srv);
	ok(lstat(path, &sb) == -1 && errno == ENOENT,
	    "server_close removes the socket file");
	ok(v.s != NULL && stream_write(v.s, "x", 1) >= -1,
	    "a stream outlives its server");
	stream_abort(v.s);
}

static void
test_idle(struct event_base *base)
{
	struct stream_opts	 opts;
	struct stream_error	 err;
	struct stream		*s;
	struct done		 e;
	double			 t0;
	int			 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		fail_setup("socketpair: %s", strerror(errno));
		return;
	}
	memset(&opts, 0, sizeof opts);
	opts.idle_timeout = 0.2;
	s = stream_open_fd(base, sv[0], &opts, &err);
	memset(&e, 0, sizeof e);
	stream_set_error_cb(s, done_cb, &e);
	t0 = now();
	run_for(base, 0.1);
	/* Traffic pushes the deadline back. */
	ok(write(sv[1], "x", 1) == 1, "traffic after 0.1 s");
	run_until(base, &e.n, 2);
	ok(e.n == 1 && e.kind == STREAM_ETIMEOUT, "idle timeout: ETIMEOUT "
	    "through the error callback (%s)", e.msg);
	ok(now() - t0 >= 0.28, "... 0.2 s after the last traffic (%.3f s)",
	    now() - t0);
	stream_abort(s);
	close(sv[1]);
}

/* A large read, checked against the pattern rather than kept. */
struct bigrec {
	int		 n;
	size_t		 len;
	int		 same;
};

static void
big_cb(struct stream *s, struct evbuffer *data, const struct stream_error *err,
    void *arg)
{
	struct bigrec	*b = arg;
	char		*want, *got;

	b->n++;
	b->len = evbuffer_get_length(data);
	if (err->kind != STREAM_OK)
		return;
	want = malloc(b->len);
	fill_pattern(want, b->len, 7);
	got = (char *)evbuffer_pullup(data, -1);
	b->same = got != NULL && memcmp(got, want, b->len) == 0;
	free(want);
}

/* A self-signed certificate for localhost and 127.0.0.1. */
static int
make_cert(const char *certpath, const char *keypath)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	X509_NAME	*name;
	EVP_PKEY	*pkey;
	X509		*x;
	FILE		*f;

	if ((pkey = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL)
		return (-1);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
	    "DNS:localhost,IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, pkey, EVP_sha256());
	if ((f = fopen(certpath, "w")) == NULL)
		return (-1);
	PEM_write_X509(f, x);
	fclose(f);
	if ((f = fopen(keypath, "w")) == NULL)
		return (-1);
	PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return (0);
}

/* An established TLS pair: bulk with drain, write_eof, close. */
static void
tls_exchange(struct event_base *base, struct stream *cs, struct stream *ss)
{
	struct rec	 r;
	struct done	 d;
	struct bigrec	 bx;
	char		*big;

	stream_write(cs, "hello tls\n", 10);
	rec_reset(&r);
	stream_readline(ss, rec_cb, &r);
	run_until(base, &r.n, 2);
	is_str(r.data, "hello tls\n", "the server reads through TLS");

	/* 4 MiB: drain paces the writer, readexactly waits for all. */
	big = malloc(4 << 20);
	fill_pattern(big, 4 << 20, 7);
	stream_write(cs, big, 4 << 20);
	free(big);
	memset(&d, 0, sizeof d);
	stream_drain(cs, drain_rec_cb, &d);
	ok(d.n == 0, "drain waits with 4 MiB queued over TLS");
	memset(&bx, 0, sizeof bx);
	stream_readexactly(ss, 4 << 20, big_cb, &bx);
	run_until(base, &bx.n, 10);
	run_until(base, &d.n, 5);
	ok(bx.n == 1 && bx.len == (4 << 20) && bx.same,
	    "4 MiB arrive intact through TLS");
	ok(d.n == 1 && d.kind == STREAM_OK && d.wsize <= STREAM_WRITE_LOW,
	    "drain over TLS called back at %zu bytes queued", d.wsize);
	ok(stream_bytes_out(cs) == 10 + (4 << 20), "bytes_out over TLS "
	    "(%llu)", stream_bytes_out(cs));

	/* write_eof: close_notify, and the reply still comes back. */
	ok(stream_write_eof(cs) == 0, "write_eof over TLS");
	rec_reset(&r);
	stream_read(ss, 100, rec_cb, &r);
	run_until(base, &r.n, 2);
	ok(r.n == 1 && r.kind == STREAM_OK && r.len == 0,
	    "the server sees a clean EOF (close_notify)");
	ok(!stream_eof_truncated(ss), "close_notify: no truncation");
	stream_write(ss, "bye\n", 4);
	rec_reset(&r);
	stream_readline(cs, rec_cb, &r);
	run_until(base, &r.n, 2);
	is_str(r.data, "bye\n", "the client reads after its write_eof");
	memset(&d, 0, sizeof d);
	stream_close(ss, done_cb, &d);
	rec_reset(&r);
	stream_read(cs, 100, rec_cb, &r);
	run_until(base, &r.n, 2);
	ok(r.n == 1 && r.kind == STREAM_OK && r.len == 0 && d.n == 1,
	    "server close: the client reads a clean EOF");
}

static void
test_tls(struct event_base *base)
{
	struct stream_opts	 sopts, copts;
	struct stream_error	 err;
	struct stream_server	*srv;
	struct ssl_ctx_st	*sctx, *cctx;
	struct srv		 v;
	struct conn		 c;
	struct rec		 r;
	char			 cert[64], key[64], port[16], a[256];

	snprintf(cert, sizeof cert, "/tmp/test-stream-%ld.crt", (long)getpid());
	snprintf(key, sizeof key, "/tmp/test-stream-%ld.key", (long)getpid());
	if (make_cert(cert, key) != 0) {
		ok(0, "make a test certificate");
		return;
	}
	sctx = tls_server_ctx(cert, key, &err);
	cctx = tls_client_ctx(cert, 0, &err);
	unlink(key);
	ok(sctx != NULL && cctx != NULL, "TLS contexts");
	if (sctx == NULL || cctx == NULL)
		return;

	memset(&sopts, 0, sizeof sopts);
	sopts.tls_ctx = sctx;
	memset(&v, 0, sizeof v);
	sopts.log_cb = log_cb;
	sopts.log_arg = &v;
	srv = stream_start_server(base, "127.0.0.1", "0", &sopts, accept_cb,
	    &v, &err);
	if (srv == NULL) {
		fail_setup("start_server: %s", err.msg);
		return;
	}
	snprintf(port, sizeof port, "%s", stream_server_addr(srv, 0) + 10);

	memset(&copts, 0, sizeof copts);
	copts.tls_ctx = cctx;
	copts.tls_servername = "localhost";
	copts.connect_timeout = 5;
	memset(&c, 0, sizeof c);
	stream_open_connection(base, "127.0.0.1", port, &copts, connected_cb,
	    &c);
	run_until(base, &c.n, 5);
	run_until(base, &v.n, 2);
	ok(c.s != NULL && c.err.kind == STREAM_OK && v.s != NULL,
	    "a TLS connection is made and verified (%s)", c.err.msg);
	if (c.s != NULL && v.s != NULL) {
		ok(stream_get_extra_info(c.s, "peercert", a, sizeof a) == 0 &&
		    strstr(a, "localhost") != NULL, "peercert: %s", a);
		ok(!stream_can_write_eof(c.s), "no can_write_eof over TLS");
		tls_exchange(base, c.s, v.s);
	}
	stream_abort(c.s);

	/* A TCP close without close_notify: an EOF, but a truncation. */
	v.s = NULL;
	v.n = 0;
	memset(&c, 0, sizeof c);
	stream_open_connection(base, "127.0.0.1", port, &copts, connected_cb,
	    &c);
	run_until(base, &c.n, 5);
	run_until(base, &v.n, 2);
	if (c.s != NULL && v.s != NULL) {
		run_for(base, 0.1);	/* the client takes the tickets */
		stream_abort(c.s);
		rec_reset(&r);
		stream_read(v.s, 100, rec_cb, &r);
		run_until(base, &r.n, 2);
		ok(r.n == 1 && r.kind == STREAM_OK && r.len == 0 &&
		    stream_eof_truncated(v.s),
		    "TCP closed without close_notify: EOF, a truncation");
		stream_abort(v.s);
	} else
		fail_setup("a second TLS connection");

	/* The wrong name: verification fails, ETLS. */
	copts.tls_servername = "wrong.example";
	memset(&c, 0, sizeof c);
	stream_open_connection(base, "127.0.0.1", port, &copts, connected_cb,
	    &c);
	run_until(base, &c.n, 5);
	ok(c.n == 1 && c.s == NULL && c.err.kind == STREAM_ETLS &&
	    strstr(c.err.msg, "mismatch") != NULL, "wrong host: '%s'",
	    c.err.msg);
	run_until(base, &v.nlog, 2);
	ok(v.nlog >= 1, "the server logged the failed handshake: '%s'", v.log);
	stream_server_close(srv);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	unlink(cert);
}

/*
 * Kernel-side transfers (stream_transfer).
 */
struct xrec {
	int			 nmoved;
	unsigned long long	 moved;
	int			 done;
	enum stream_xfer_event	 ev;
	enum stream_side	 side;
	enum stream_errkind	 kind;
	char			 msg[256];
};

static void
xrec_cb(enum stream_xfer_event ev, size_t moved, enum stream_side side,
    const struct stream_error *err, void *arg)
{
	struct xrec	*x = arg;

	x->moved += moved;
	if (ev == STREAM_XFER_MOVED) {
		x->nmoved++;
		return;
	}
	x->done++;
	x->ev = ev;
	x->side = side;
	x->kind = err->kind;
	snprintf(x->msg, sizeof x->msg, "%s", err->msg);
}

/* The world around a transfer: a peer feeding src, one reading dst. */
struct xio {
	int		 wfd;		/* closed (EOF for src) once all sent */
	const char	*wbuf;
	size_t		 wlen;
	size_t		 woff;
	int		 rfd;		/* -1: nobody reads dst */
	char		*rbuf;
	size_t		 rcap;
	size_t		 rgot;
};

/* Run until the transfer is over and rwant bytes arrived, or secs pass. */
static void
xio_run(struct event_base *base, struct xio *io, struct xrec *xr,
    size_t rwant, double secs)
{
	double	end = now() + secs;
	size_t	len;
	ssize_t	n;
	int	busy;

	while (now() < end && !(xr->done && io->rgot >= rwant)) {
		/* One pass: a transfer that spun would not hang us here. */
		event_base_loop(base, EVLOOP_ONCE|EVLOOP_NONBLOCK);
		busy = 0;
		if (io->wfd != -1 && io->woff < io->wlen) {
			len = io->wlen - io->woff;
			n = write(io->wfd, io->wbuf + io->woff,
			    len > 262144 ? 262144 : len);
			if (n > 0) {
				io->woff += (size_t)n;
				busy = 1;
			}
		}
		if (io->wfd != -1 && io->woff == io->wlen) {
			close(io->wfd);
			io->wfd = -1;
		}
		if (io->rfd != -1 && io->rgot < io->rcap) {
			n = read(io->rfd, io->rbuf + io->rgot,
			    io->rcap - io->rgot);
			if (n > 0) {
				io->rgot += (size_t)n;
				busy = 1;
			}
		}
		if (!busy)
			usleep(100);
	}
}

/* Close with a reset (RST) rather than a FIN. */
static void
close_reset(int fd)
{
	struct linger	lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

/* Fill a pipe's write end until it would block; returns the count. */
static size_t
fill_pipe(int fd, char c)
{
	char	buf[4096];
	size_t	total = 0;
	ssize_t	n;

	memset(buf, c, sizeof buf);
	while ((n = write(fd, buf, sizeof buf)) > 0)
		total += (size_t)n;
	return (total);
}

/*
 * socket -> pipe (straight splice): dst's queued bytes, then src's
 * buffered bytes, then the rest, in order; src and dst refuse other use.
 */
static void
test_xfer_sock_pipe(struct event_base *base)
{
	const size_t		 total = 3 * 1024 * 1024;
	struct stream_error	 err;
	struct stream		*src, *dst;
	struct xrec		 xr;
	struct xio		 io;
	struct rec		 r;
	char			*data, *want;
	size_t			 fill, wantlen;
	int			 sv[2], p[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 || pipe(p) == -1) {
		fail_setup("socketpair or pipe: %s", strerror(errno));
		return;
	}
	set_nonblock(sv[1]);
	set_nonblock(p[0]);
	data = malloc(total);
	fill_pattern(data, total, 11);
	src = stream_open_fd(base, sv[0], NULL, &err);
	dst = stream_open_fds(base, -1, p[1], NULL, &err);
	fill = fill_pipe(p[1], 'F');
	ok(stream_write(dst, "QUEUED", 6) == 0 &&
	    stream_write_buffer_size(dst) == 6,
	    "the pipe is full: 6 bytes wait in dst's writer");
	ok(write(sv[1], data, 100) == 100, "the peer sends 100 bytes");
	rec_reset(&r);
	stream_readexactly(src, 10, rec_cb, &r);
	run_until(base, &r.n, 2);
	run_for(base, 0.02);
	is_int(stream_buffered(src), 90, "10 read, 90 left in src's reader");

	memset(&xr, 0, sizeof xr);
	ok(stream_transfer(src, dst, xrec_cb, &xr) == 0, "stream_transfer");
	is_int(xr.done + xr.nmoved, 0, "no callback from inside the call");
	ok(stream_write(dst, "x", 1) == -1 && stream_exception(dst) != NULL &&
	    stream_exception(dst)->kind == STREAM_ECLOSED,
	    "writes on dst are refused meanwhile");
	rec_reset(&r);
	stream_read(src, 10, rec_cb, &r);
	ok(r.n == 1 && r.kind == STREAM_ECLOSED, "reads on src too");

	memset(&io, 0, sizeof io);
	io.wfd = sv[1];
	io.wbuf = data + 100;
	io.wlen = total - 100;
	io.rfd = p[0];
	io.rcap = fill + 6 + total;
	io.rbuf = malloc(io.rcap);
	wantlen = fill + 6 + total - 10;
	want = malloc(wantlen);
	memset(want, 'F', fill);
	memcpy(want + fill, "QUEUED", 6);
	memcpy(want + fill + 6, data + 10, total - 10);
	xio_run(base, &io, &xr, wantlen, 10);
	ok(xr.done == 1 && xr.ev == STREAM_XFER_DONE && xr.kind == STREAM_OK,
	    "done at EOF, OK (%s)", xr.msg);
	is_mem(io.rbuf, io.rgot, want, wantlen,
	    "queued bytes, buffered bytes, then the rest, in order");
	is_int(xr.moved, total - 10, "moved counts the bytes for dst");
	ok(stream_bytes_in(src) == total && stream_bytes_out(dst) == 6 +
	    total - 10, "bytes_in and bytes_out count spliced bytes");
	ok(stream_at_eof(src), "src is at EOF");
	ok(stream_write_eof(dst) == 0 && read(p[0], io.rbuf, 1) == 0,
	    "dst is usable again: write_eof closes the pipe");
	stream_abort(src);
	stream_abort(dst);
	close(p[0]);
	free(data);
	free(want);
	free(io.rbuf);
}

/* pipe -> socket (straight splice). */
static void
test_xfer_pipe_sock(struct event_base *base)
{
	const size_t		 total = 2 * 1024 * 1024 + 17;
	struct stream_error	 err;
	struct stream		*src, *dst;
	struct xrec		 xr;
	struct xio		 io;
	char			*data;
	int			 sv[2], p[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 || pipe(p) == -1) {
		fail_setup("socketpair or pipe: %s", strerror(errno));
		return;
	}
	set_nonblock(sv[1]);
	set_nonblock(p[1]);
	data = malloc(total);
	fill_pattern(data, total, 12);
	src = stream_open_fds(base, p[0], -1, NULL, &err);
	dst = stream_open_fd(base, sv[0], NULL, &err);
	memset(&xr, 0, sizeof xr);
	ok(stream_transfer(src, dst, xrec_cb, &xr) == 0,
	    "stream_transfer from a pipe to a socket");
	memset(&io, 0, sizeof io);
	io.wfd = p[1];
	io.wbuf = data;
	io.wlen = total;
	io.rfd = sv[1];
	io.rcap = total + 1;
	io.rbuf = malloc(io.rcap);
	xio_run(base, &io, &xr, total, 10);
	ok(xr.done == 1 && xr.ev == STREAM_XFER_DONE && xr.kind == STREAM_OK,
	    "done at the pipe's EOF (%s)", xr.msg);
	is_mem(io.rbuf, io.rgot, data, total, "the peer got every byte");
	ok(xr.moved == total && stream_bytes_out(dst) == total,
	    "moved and bytes_out are %zu", total);
	stream_abort(src);
	stream_abort(dst);
	close(sv[1]);
	free(data);
	free(io.rbuf);
}

/* A regular file -> socket (sendfile), from the file's offset. */
static void
test_xfer_file_sock(struct event_base *base)
{
	const size_t		 total = 4 * 1024 * 1024 + 123;
	char			 path[] = "/tmp/test-stream.XXXXXX";
	struct stream_error	 err;
	struct stream		*src, *dst;
	struct xrec		 xr;
	struct xio		 io;
	struct rec		 r;
	char			*data;
	int			 sv[2], fd;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		fail_setup("socketpair: %s", strerror(errno));
		return;
	}
	set_nonblock(sv[1]);
	data = malloc(total);
	fill_pattern(data, total, 13);
	fd = mkstemp(path);
	unlink(path);
	ok(write(fd, data, total) == (ssize_t)total, "a %zu-byte file", total);
	lseek(fd, 1000, SEEK_SET);
	src = stream_open_fds(base, fd, -1, NULL, &err);
	dst = stream_open_fd(base, sv[0], NULL, &err);
	rec_reset(&r);
	stream_readexactly(src, 100, rec_cb, &r);
	run_until(base, &r.n, 2);
	ok(r.n == 1 && memcmp(r.data, data + 1000, 100) == 0 &&
	    stream_buffered(src) > 0, "100 bytes read from offset 1000, "
	    "%zu more buffered", stream_buffered(src));
	memset(&xr, 0, sizeof xr);
	ok(stream_transfer(src, dst, xrec_cb, &xr) == 0,
	    "stream_transfer from a file to a socket");
	memset(&io, 0, sizeof io);
	io.wfd = -1;
	io.rfd = sv[1];
	io.rcap = total;
	io.rbuf = malloc(io.rcap);
	xio_run(base, &io, &xr, total - 1100, 10);
	ok(xr.done == 1 && xr.ev == STREAM_XFER_DONE && xr.kind == STREAM_OK,
	    "done at the end of the file (%s)", xr.msg);
	is_mem(io.rbuf, io.rgot, data + 1100, total - 1100,
	    "the buffered bytes, then the file from where they ended");
	ok(xr.moved == total - 1100 && stream_bytes_in(src) == total - 1000,
	    "moved %llu, bytes_in %llu", xr.moved, stream_bytes_in(src));
	stream_abort(src);
	stream_abort(dst);
	close(sv[1]);
	free(data);
	free(io.rbuf);
}

/* socket -> our pipe -> socket, a regular file, /dev/null. */
static void
test_xfer_sinks(struct event_base *base)
{
	const size_t		 total = 3 * 1024 * 1024 + 5;
	char			 path[] = "/tmp/test-stream.XXXXXX";
	struct stream_error	 err;
	struct stream		*src, *dst;
	struct xrec		 xr;
	struct xio		 io;
	char			*data, *back;
	int			 sv[2], sv2[2], fd, i;

	data = malloc(total);
	back = malloc(total + 1);
	fill_pattern(data, total, 14);
	for (i = 0; i < 3; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
			break;
		set_nonblock(sv[1]);
		memset(&io, 0, sizeof io);
		io.wfd = sv[1];
		io.wbuf = data;
		io.wlen = total;
		io.rfd = -1;
		io.rbuf = back;
		fd = -1;
		if (i == 0) {
			socketpair(AF_UNIX, SOCK_STREAM, 0, sv2);
			set_nonblock(sv2[1]);
			io.rfd = sv2[1];
			io.rcap = total + 1;
			fd = sv2[0];
		} else if (i == 1) {
			fd = mkstemp(path);
			unlink(path);
		} else
			fd = open("/dev/null", O_WRONLY);
		src = stream_open_fd(base, sv[0], NULL, &err);
		dst = i == 0 ? stream_open_fd(base, fd, NULL, &err) :
		    stream_open_fds(base, -1, fd, NULL, &err);
		memset(&xr, 0, sizeof xr);
		ok(stream_transfer(src, dst, xrec_cb, &xr) == 0,
		    "stream_transfer from a socket to %s",
		    i == 0 ? "a socket" : i == 1 ? "a file" : "/dev/null");
		xio_run(base, &io, &xr, i == 0 ? total : 0, 10);
		ok(xr.done == 1 && xr.kind == STREAM_OK && xr.moved == total &&
		    stream_bytes_out(dst) == total, "... done, %llu bytes",
		    xr.moved);
		if (i == 0)
			is_mem(back, io.rgot, data, total, "... all intact");
		if (i == 1) {
			ok(pread(fd, back, total + 1, 0) == (ssize_t)total &&
			    memcmp(back, data, total) == 0, "... all intact");
		}
		stream_abort(src);
		stream_abort(dst);	/* closes fd */
		if (i == 0)
			close(sv2[1]);
	}
	free(data);
	free(back);
}

static long
rss_kib(void)
{
	FILE	*f;
	long	 pages = 0, rss = 0;

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return (0);
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return (rss * (sysconf(_SC_PAGESIZE) / 1024));
}

/*
 * dst's peer does not read: the transfer stops reading src, so the
 * sender stalls and nothing piles up in user space; then all arrives.
 */
static void
test_xfer_backpressure(struct event_base *base)
{
	const size_t		 total = 64 * 1024 * 1024;
	struct stream_error	 err;
	struct stream		*src, *dst;
	struct xrec		 xr;
	struct xio		 io;
	char			*data;
	size_t			 stalled;
	long			 rss0;
	int			 a[2], b[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, b) == -1)
		return;
	set_nonblock(a[1]);
	set_nonblock(b[1]);
	data = malloc(total);
	fill_pattern(data, total, 15);
	src = stream_open_fd(base, a[0], NULL, &err);
	dst = stream_open_fd(base, b[0], NULL, &err);
	memset(&xr, 0, sizeof xr);
	ok(stream_transfer(src, dst, xrec_cb, &xr) == 0, "stream_transfer");
	rss0 = rss_kib();
	memset(&io, 0, sizeof io);
	io.wfd = a[1];
	io.wbuf = data;
	io.wlen = total;
	io.rfd = -1;
	xio_run(base, &io, &xr, 0, 0.3);
	stalled = io.woff;
	ok(stalled > 0 && stalled < 8 * 1024 * 1024,
	    "dst's peer reads nothing: the sender stalls after %zu bytes",
	    stalled);
	xio_run(base, &io, &xr, 0, 0.2);
	is_int(io.woff, stalled, "... and stays stalled");
	ok(stream_buffered(src) == 0 && stream_write_buffer_size(dst) == 0,
	    "nothing waits in user space");
	ok(rss_kib() - rss0 < 2048, "RSS grew by %ld KiB", rss_kib() - rss0);
	ok(xr.done == 0 && xr.moved < stalled, "moved %llu of them so far",
	    xr.moved);

	io.rfd = b[1];
	io.rcap = total;
	io.rbuf = malloc(total);
	xio_run(base, &io, &xr, total, 20);
	ok(xr.done == 1 && xr.kind == STREAM_OK, "once read, done (%s)",
	    xr.msg);
	ok(io.rgot == total && memcmp(io.rbuf, data, total) == 0,
	    "all %zu bytes arrived intact", total);
	stream_abort(src);
	stream_abort(dst);
	close(b[1]);
	free(data);
	free(io.rbuf);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

/*
 * All of src is in a full pipe and only src's FIN is left: src polls
 * readable, yet nothing can move until the pipe's reader reads. The
 * transfer must wait for the pipe, not spin on src.
 */
static void
test_xfer_fin_full(struct event_base *base)
{
	struct timeval		 tv = { 0, 20000 };
	struct stream_error	 err;
	struct stream		*src, *dst;
	struct event		*tick;
	struct xrec		 xr;
	struct xio		 io;
	char			 data[4096], back[8192];
	double			 end;
	int			 sv[2], p[2], passes = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 || pipe(p) == -1) {
		fail_setup("socketpair or pipe: %s", strerror(errno));
		return;
	}
	set_nonblock(p[0]);
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	fill_pattern(data, sizeof data, 16);
	src = stream_open_fd(base, sv[0], NULL, &err);
	dst = stream_open_fds(base, -1, p[1], NULL, &err);
	memset(&xr, 0, sizeof xr);
	ok(stream_transfer(src, dst, xrec_cb, &xr) == 0, "stream_transfer "
	    "into a one-page pipe");
	ok(write(sv[1], data, sizeof data) == sizeof data, "the peer sends "
	    "a page");
	close(sv[1]);
	tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(tick, &tv);
	end = now() + 0.3;
	while (now() < end) {
		event_base_loop(base, EVLOOP_ONCE);
		passes++;
	}
	event_free(tick);
	ok(passes < 60, "the pipe is full, src has its FIN: %d loop passes "
	    "in 0.3 s", passes);
	is_int(xr.done, 0, "... and the transfer waits");
	memset(&io, 0, sizeof io);
	io.wfd = -1;
	io.rfd = p[0];
	io.rbuf = back;
	io.rcap = sizeof back;
	xio_run(base, &io, &xr, sizeof data, 3);
	ok(xr.done == 1 && xr.kind == STREAM_OK, "read: done (%s)", xr.msg);
	is_mem(back, io.rgot, data, sizeof data, "the page arrived");
	stream_abort(src);
	stream_abort(dst);
	close(p[0]);
}

/* A reset on dst is the write side's failure, on src the read side's. */
static void
test_xfer_reset(struct event_base *base)
{
	static char		 buf[300000];
	struct stream_error	 err;
	struct stream		*src, *dst;
	struct xrec		 xr;
	int			 a[2], t[2], i;

	for (i = 0; i < 2; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) == -1 ||
		    tcp_pair(t) == -1)
			return;
		set_nonblock(a[1]);
		if (i == 0) {
			/* TCP dst whose peer resets; the unix peer sends. */
			src = stream_open_fd(base, a[0], NULL, &err);
			dst = stream_open_fd(base, t[0], NULL, &err);
		} else {
			src = stream_open_fd(base, t[0], NULL, &err);
			dst = stream_open_fd(base, a[0], NULL, &err);
		}
		memset(&xr, 0, sizeof xr);
		ok(stream_transfer(src, dst, xrec_cb, &xr) == 0,
		    "stream_transfer %s", i == 0 ? "to TCP" : "from TCP");
		close_reset(t[1]);
		if (i == 0)
			(void)write(a[1], buf, sizeof buf);
		run_until(base, &xr.done, 3);
		ok(xr.done == 1 && xr.ev == STREAM_XFER_DONE &&
		    xr.kind == STREAM_ERESET && xr.side == (i == 0 ?
		    STREAM_SIDE_WRITE : STREAM_SIDE_READ),
		    "peer reset on the %s side: %s", i == 0 ? "write" : "read",
		    xr.msg);
		stream_abort(src);
		stream_abort(dst);
		close(a[1]);
	}
}

/* The idle timeout still runs; a closed stream cancels; stop is silent. */
static void
test_xfer_end(struct event_base *base)
{
	struct stream_opts	 opts;
	struct stream_error	 err;
	struct stream		*src, *dst;
	struct xrec		 xr;
	struct rec		 r;
	int			 a[2], b[2];
	double			 t0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, b) == -1)
		return;
	memset(&opts, 0, sizeof opts);
	opts.idle_timeout = 0.2;
	src = stream_open_fd(base, a[0], &opts, &err);
	dst = stream_open_fd(base, b[0], NULL, &err);
	memset(&xr, 0, sizeof xr);
	t0 = now();
	ok(stream_transfer(src, dst, xrec_cb, &xr) == 0, "stream_transfer");
	ok(write(a[1], "tick", 4) == 4, "some traffic");
	run_until(base, &xr.done, 2);
	ok(xr.done == 1 && xr.kind == STREAM_ETIMEOUT &&
	    xr.side == STREAM_SIDE_READ && now() - t0 >= 0.19,
	    "idle timeout on src: ETIMEOUT, read side (%s)", xr.msg);
	is_int(xr.moved, 4, "the bytes before it were moved");
	stream_abort(src);
	close(a[1]);

	/* A stream closed under a transfer: CANCELLED, from inside. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	src = stream_open_fd(base, a[0], NULL, &err);
	memset(&xr, 0, sizeof xr);
	stream_transfer(src, dst, xrec_cb, &xr);
	run_for(base, 0.02);
	stream_abort(dst);
	ok(xr.done == 1 && xr.ev == STREAM_XFER_CANCELLED,
	    "stream_abort(dst) cancels the transfer at once");
	ok(write(a[1], "hello", 5) == 5, "the peer sends 5 bytes");
	rec_reset(&r);
	stream_read(src, 100, rec_cb, &r);
	run_until(base, &r.n, 2);
	ok(r.n == 1 && r.kind == STREAM_OK && strcmp(r.data, "hello") == 0,
	    "src reads again");

	/* stream_transfer_stop: no callback, src reads again. */
	dst = stream_open_fd(base, b[1], NULL, &err);
	memset(&xr, 0, sizeof xr);
	ok(stream_transfer(src, dst, xrec_cb, &xr) == 0, "a new transfer");
	stream_transfer_stop(src);
	ok(write(a[1], "again", 5) == 5, "the peer sends 5 more");
	rec_reset(&r);
	stream_read(src, 100, rec_cb, &r);
	run_until(base, &r.n, 2);
	ok(r.n == 1 && strcmp(r.data, "again") == 0 && xr.done == 0 &&
	    xr.nmoved == 0, "stop: no callback, src reads again");
	stream_abort(src);
	stream_abort(dst);
	close(a[1]);
}

/* What a pump reported. */
struct prec {
	int			 n;
	enum pump_side		 side;
	enum stream_errkind	 kind;
	char			 msg[256];
};

static void
prec_cb(struct pump *p, enum pump_side side, const struct stream_error *err,
    void *arg)
{
	struct prec	*r = arg;

	r->n++;
	r->side = side;
	r->kind = err->kind;
	snprintf(r->msg, sizeof r->msg, "%s", err->msg);
}

/*
 * Pumps over transfers: EOF is passed on (PUMP_WRITE_EOF) and counted; a
 * kernel that refuses sendfile, or the second splice with bytes already
 * in the pipe, leaves the pump to read and write, nothing lost.
 */
static void
test_xfer_pump(struct event_base *base)
{
	const size_t		 total = 2 * 1024 * 1024 + 3;
	char			 path[] = "/tmp/test-stream.XXXXXX";
	struct stream_error	 err;
	struct stream		*src, *dst;
	struct pump		*p;
	struct prec		 pr;
	struct xrec		 xr;
	struct xio		 io;
	char			*data, *back;
	int			 i, fd, a[2], b[2];

	data = malloc(total);
	back = malloc(total + 1);
	fill_pattern(data, total, 17);
	for (i = 0; i < 3; i++) {
		socketpair(AF_UNIX, SOCK_STREAM, 0, b);
		set_nonblock(b[1]);
		memset(&io, 0, sizeof io);
		io.wfd = -1;
		if (i == 1) {
			fd = mkstemp(path);
			unlink(path);
			(void)write(fd, data, total);
			lseek(fd, 0, SEEK_SET);
			src = stream_open_fds(base, fd, -1, NULL, &err);
			refuse_sendfile = 1;
		} else {
			socketpair(AF_UNIX, SOCK_STREAM, 0, a);
			set_nonblock(a[1]);
			io.wfd = a[1];
			io.wbuf = data;
			io.wlen = total;
			src = stream_open_fd(base, a[0], NULL, &err);
			/*
			 * Bytes wait on src: the first splice fills our pipe,
			 * the second (to dst) is refused with them in it.
			 */
			io.woff = (size_t)write(a[1], data, 65536);
			refuse_splice = i == 2 ? 2 : 0;
		}
		dst = stream_open_fd(base, b[0], NULL, &err);
		memset(&pr, 0, sizeof pr);
		p = pump_start(src, dst, PUMP_WRITE_EOF|PUMP_FLUSH, prec_cb,
		    &pr);
		io.rfd = b[1];
		io.rbuf = back;
		io.rcap = total + 1;
		memset(&xr, 0, sizeof xr);
		xio_run(base, &io, &xr, total, 10);
		run_until(base, &pr.n, 5);
		ok(pr.n == 1 && pr.kind == STREAM_OK && pump_bytes(p) == total,
		    "%s: the pump is done, %llu bytes (%s)", i == 0 ?
		    "transfer" : i == 1 ? "sendfile refused" :
		    "second splice refused", pump_bytes(p), pr.msg);
		ok(read(b[1], back + io.rgot, 1) == 0, "... then EOF");
		is_mem(back, io.rgot, data, total, "... every byte in order");
		ok(refuse_splice == 0 && refuse_sendfile == 0,
		    "... (the refusal happened)");
		pump_free(p);
		stream_abort(src);
		stream_abort(dst);
		close(b[1]);
	}
	free(data);
	free(back);
}

/* A pump's write-side failure is reported as the write side's. */
static void
test_xfer_pump_reset(struct event_base *base)
{
	static char		 buf[100000];
	struct stream_error	 err;
	struct stream		*src, *dst;
	struct pump		*p;
	struct prec		 pr;
	int			 a[2], b[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	socketpair(AF_UNIX, SOCK_STREAM, 0, b);
	src = stream_open_fd(base, a[0], NULL, &err);
	dst = stream_open_fd(base, b[0], NULL, &err);
	memset(&pr, 0, sizeof pr);
	p = pump_start(src, dst, PUMP_WRITE_EOF|PUMP_FLUSH, prec_cb, &pr);
	close(b[1]);
	(void)write(a[1], buf, sizeof buf);
	run_until(base, &pr.n, 3);
	ok(pr.n == 1 && pr.side == PUMP_SIDE_WRITE && pr.kind == STREAM_ERESET,
	    "dst's peer left: write side, ERESET (%s)", pr.msg);
	/* Freeing a pump whose transfer runs stops it; nothing calls back. */
	pump_free(p);
	stream_abort(dst);
	socketpair(AF_UNIX, SOCK_STREAM, 0, b);
	dst = stream_open_fd(base, b[0], NULL, &err);
	memset(&pr, 0, sizeof pr);
	stream_abort(src);
	close(a[1]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	src = stream_open_fd(base, a[0], NULL, &err);
	p = pump_start(src, dst, 0, prec_cb, &pr);
	pump_free(p);
	ok(write(a[1], "late", 4) == 4, "the peer sends after pump_free");
	run_for(base, 0.05);
	ok(pr.n == 0 && stream_buffered(src) == 4,
	    "no callback; src reads for itself again");
	stream_abort(src);
	stream_abort(dst);
	close(a[1]);
	close(b[1]);
}

/* When it cannot be done: -1 and nothing changed. */
static void
test_xfer_refused(struct event_base *base)
{
	char			 path[] = "/tmp/test-stream.XXXXXX";
	struct stream_error	 err;
	struct stream		*src, *dst;
	struct xrec		 xr;
	struct rec		 r;
	int			 a[2], fd;

	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	src = stream_open_fd(base, a[0], NULL, &err);
	memset(&xr, 0, sizeof xr);
	ok(stream_transfer(src, src, xrec_cb, &xr) == -1, "src == dst: -1");
	fd = open("/dev/zero", O_WRONLY);
	dst = stream_open_fds(base, -1, fd, NULL, &err);
	ok(stream_transfer(src, dst, xrec_cb, &xr) == -1,
	    "to a character device other than /dev/null: -1");
	stream_abort(dst);
	fd = mkstemp(path);
	unlink(path);
	fcntl(fd, F_SETFL, O_APPEND);
	dst = stream_open_fds(base, -1, fd, NULL, &err);
	ok(stream_transfer(src, dst, xrec_cb, &xr) == -1,
	    "to a file opened O_APPEND: -1");
	rec_reset(&r);
	stream_read(src, 100, rec_cb, &r);
	ok(stream_transfer(src, dst, xrec_cb, &xr) == -1,
	    "with a read pending: -1");
	ok(write(a[1], "still", 5) == 5, "the peer sends");
	run_until(base, &r.n, 2);
	ok(r.n == 1 && strcmp(r.data, "still") == 0,
	    "src reads as before");
	close(a[1]);
	rec_reset(&r);
	stream_read(src, 100, rec_cb, &r);
	run_until(base, &r.n, 2);
	ok(r.n == 1 && r.len == 0 && stream_transfer(src, dst, xrec_cb,
	    &xr) == -1, "src at EOF: -1");
	is_int(xr.done + xr.nmoved, 0, "no callback ever ran");
	stream_abort(src);
	stream_abort(dst);
}

int
main(void)
{
	struct event_base	*base;

	signal(SIGPIPE, SIG_IGN);
	test_read();
	test_readline();
	test_readexactly();
	test_readuntil();
	test_readuntil_limit();
	test_exception();
	test_trampoline();
	test_linear();
	test_lifetime();

	base = event_base_new();
	test_flow(base);
	test_drain(base);
	test_flush(base);
	test_write_eof(base);
	test_close_flush(base);
	test_write_kinds(base);
	test_reset(base);
	test_fds(base);
	test_tcp(base);
	test_unix(base);
	test_idle(base);
	test_tls(base);
	test_xfer_sock_pipe(base);
	test_xfer_pipe_sock(base);
	test_xfer_file_sock(base);
	test_xfer_sinks(base);
	test_xfer_backpressure(base);
	test_xfer_fin_full(base);
	test_xfer_reset(base);
	test_xfer_end(base);
	test_xfer_refused(base);
	test_xfer_pump(base);
	test_xfer_pump_reset(base);
	event_base_free(base);
	return (tap_done());
}
