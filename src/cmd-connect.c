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

#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "cstream.h"
#include "crlf.h"
#include "hexdump.h"
#include "portscan.h"

/*
 * connect HOST PORT and unix-connect PATH: open a stream, then either
 * relay it with stdin/stdout, or run the one-shot operations (--send*,
 * then --read* in the order given) and close. --send* without any
 * --read* is a relay whose input is the given bytes: what the peer sends
 * goes to stdout until it closes.
 */

extern const struct cmd_entry cmd_connect_entry;
extern const struct cmd_entry cmd_unix_connect_entry;

enum {
	OPT_SEND = 1,
	OPT_SEND_FILE,
	OPT_EOF,
	OPT_READ_LINE,
	OPT_READ_UNTIL,
	OPT_READ_EXACTLY,
	OPT_READ,
	OPT_READ_ALL,
	OPT_FD,
	OPT_TLS,
	OPT_CAFILE,
	OPT_INSECURE,
	OPT_NO_SHUTDOWN,
	OPT_PROGRESS,
	OPT_ZERO_IO,
	OPT_JSON,
	OPT_CONCURRENCY,
	OPT_CRLF,
	OPT_HEX_DUMP,
	OPT_SOURCE,
	OPT_SOURCE_PORT,
	OPT_RESOLVE,
	OPT_PROXY,
	OPT_NOPROXY
};

static const struct cmd_option connect_options[] = {
	{ "send", 0, CMD_ARG_REQUIRED, OPT_SEND, "STR",
	  "send STR (escapes \\r \\n \\t \\\\ \\0 \\xHH) instead of stdin" },
	{ "send-file", 0, CMD_ARG_REQUIRED, OPT_SEND_FILE, "FILE",
	  "send a file's bytes instead of stdin" },
	{ "eof", 'N', CMD_ARG_NONE, OPT_EOF, NULL,
	  "one-shot mode: half-close after sending" },
	{ "read-line", 0, CMD_ARG_NONE, OPT_READ_LINE, NULL,
	  "read one line (through \\n) to stdout" },
	{ "read-until", 0, CMD_ARG_REQUIRED, OPT_READ_UNTIL, "SEP",
	  "read through SEP to stdout" },
	{ "read-exactly", 0, CMD_ARG_REQUIRED, OPT_READ_EXACTLY, "N",
	  "read exactly N bytes to stdout" },
	{ "read", 0, CMD_ARG_REQUIRED, OPT_READ, "N",
	  "read at most N bytes, as soon as any arrive" },
	{ "read-all", 0, CMD_ARG_NONE, OPT_READ_ALL, NULL,
	  "read until EOF to stdout" },
	{ "fd", 0, CMD_ARG_REQUIRED, OPT_FD, "N",
	  "use the connected socket on descriptor N" },
	{ "tls", 0, CMD_ARG_NONE, OPT_TLS, NULL, "TLS client" },
	{ "cafile", 0, CMD_ARG_REQUIRED, OPT_CAFILE, "FILE",
	  "trust the certificates in FILE" },
	{ "insecure", 'k', CMD_ARG_NONE, OPT_INSECURE, NULL,
	  "do not verify the server's certificate" },
	{ "no-shutdown", 0, CMD_ARG_NONE, OPT_NO_SHUTDOWN, NULL,
	  "do not half-close at stdin EOF" },
	{ "progress", 0, CMD_ARG_OPTIONAL, OPT_PROGRESS, "[=always]",
	  "byte count and rate on stderr (a terminal, unless =always)" },
	{ "zero-io", 'z', CMD_ARG_NONE, OPT_ZERO_IO, NULL,
	  "port check: connect to each of PORTS and close (nc -z)" },
	{ "json", 0, CMD_ARG_NONE, OPT_JSON, NULL,
	  "with -z: one JSON object per port on stdout" },
	{ "concurrency", 0, CMD_ARG_REQUIRED, OPT_CONCURRENCY, "N",
	  "with -z: at most N attempts at once (default 256)" },
	{ "crlf", 'C', CMD_ARG_NONE, OPT_CRLF, NULL,
	  "send each LF as CRLF (nc -C, ncat -C)" },
	{ "hex-dump", 'x', CMD_ARG_REQUIRED, OPT_HEX_DUMP, "FILE",
	  "hex dump of the bytes sent and received to FILE (- for stderr)" },
	{ "source", 's', CMD_ARG_REQUIRED, OPT_SOURCE, "ADDR",
	  "connect from local address ADDR (nc -s)" },
	{ "source-port", 'p', CMD_ARG_REQUIRED, OPT_SOURCE_PORT, "PORT",
	  "connect from local port PORT (nc -p)" },
	{ "resolve", 0, CMD_ARG_REQUIRED, OPT_RESOLVE, "HOST:PORT:ADDR",
	  "ADDR[,ADDR]... for HOST:PORT, not DNS (repeatable)" },
	{ "proxy", 0, CMD_ARG_REQUIRED, OPT_PROXY, "URL",
	  "connect through an http://, socks5:// or socks5h:// proxy" },
	{ "noproxy", 0, CMD_ARG_REQUIRED, OPT_NOPROXY, "LIST",
	  "hosts (comma-separated, * for all) reached without the proxy" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

/* One step of one-shot mode: something to send, or a read operation. */
struct step {
	int		 id;		/* OPT_SEND ... OPT_READ_ALL */
	char		*data;		/* --send bytes, --read-until separator */
	size_t		 len;
	long long	 n;		/* --read, --read-exactly */
	int		 fd;		/* --send-file, a regular file */
	off_t		 size;
	struct stream	*src;		/* --send-file otherwise, or stdin */
	struct pump	*pump;		/* moving src, or --read-all */
	int		 fifo;		/* fd is a FIFO, src not made yet */
	struct event	*wait;		/* ... waiting for its first writer */
};

struct conn {
	struct cmd_ctx		*ctx;
	struct stream_opts	 opts;
	const char		*target;	/* for messages: "HOST port PORT", PATH */
	char			 port[8];	/* PORT as a number */
	int			 source;	/* -s or -p */
	char			 src_port[8];
	struct stream		*net;
	struct stream		*io;
	struct relay		*relay;
	struct step		*steps;
	size_t			 nsteps;
	size_t			 next;		/* the step under way */
	long long		 remaining;	/* --read-exactly */
	int			 oneshot;
	size_t			 eof_step;	/* the end of sending */
	int			 receive;	/* --send* without --read* */
	struct pump		*down;		/* receive: the peer to stdout */
	int			 down_done;
	int			 sends_done;
	int			 up_failed;	/* receive: the peer refused */
	struct stream_error	 up_err;
	struct event		*sigev[3];
	int			 code;
	int			 done;
	struct event		*progress;
	struct timeval		 started;
	int			 filtering;	/* -C or -x: no kernel transfer */
	int			 crlf_on;
	struct crlf		 crlf;
	struct hexdump		*hd;
	struct hexdump_dir	 hd_sent;
	struct hexdump_dir	 hd_received;
	struct proxy		 proxy;
	int			 use_proxy;
};

static void	conn_step(struct conn *);
static void	conn_send_failed(struct conn *, const struct stream_error *);

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

static void
conn_end(struct conn *c, const struct stream_error *err)
{
	if (c->done)
		return;
	c->done = 1;
	if (err != NULL && err->kind != STREAM_OK)
		c->code = cmd_fail_stream(c->ctx, err);
	if (c->io != NULL && stream_exception(c->io) == NULL &&
	    stream_write_buffer_size(c->io) > 0) {
		stream_flush(c->io, conn_stdout_done_cb, c);
		return;
	}
	event_base_once(c->ctx->base, -1, EV_TIMEOUT, conn_stop_cb, c, NULL);
}

static void
conn_fail(struct conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
conn_fail(struct conn *c, int code, const char *fmt, ...)
{
	struct stream_error	e;
	va_list			ap;

	memset(&e, 0, sizeof e);
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof e.msg, fmt, ap);
	va_end(ap);
	if (!c->done)
		c->code = cmd_fail(c->ctx, code, "%s", e.msg);
	conn_end(c, NULL);
}

/*
 * Writing stdout failed (a full disk, a reader gone): one wording on
 * every path, "stdout: ...", and a reset, not a FIN, so the peer learns
 * that what it sent was not delivered.
 */
static void
conn_stdout_fail(struct conn *c, const struct stream_error *err)
{
	struct stream_error	e;

	if (c->net != NULL)
		stream_reset_on_close(c->net);
	stream_error_set(&e, err->kind, err->sys, "stdout: %s", err->msg);
	conn_end(c, &e);
}

/* What is sent, on its way: -C's CRLF, then -x's dump of the result. */
static void
conn_sent_filter_cb(struct evbuffer *data, void *arg)
{
	struct conn	*c = arg;

	if (c->crlf_on)
		crlf_convert(&c->crlf, data);
	hexdump_buffer(c->hd, NULL, 1, &c->hd_sent, data);
}

static void
conn_received_filter_cb(struct evbuffer *data, void *arg)
{
	struct conn	*c = arg;

	hexdump_buffer(c->hd, NULL, 0, &c->hd_received, data);
}

/* Every completed read goes to stdout at once, separator included. */
static int
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

/* The last step: flush stdout, then end with success. */
static void
conn_flushed_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;

	if (err->kind != STREAM_OK) {
		conn_stdout_fail(c, err);
		return;
	}
	conn_end(c, NULL);
}

static void
conn_flush_stdout(struct conn *c)
{
	stream_flush(c->io, conn_flushed_cb, c);
}

/*
 * Sending failed. In receive mode, as in the relay, what the peer said
 * before it left goes to stdout first: wait for that side's end.
 */
static void
conn_send_failed(struct conn *c, const struct stream_error *err)
{
	if (c->receive && !c->down_done && !c->done) {
		c->up_err = *err;
		c->up_failed = 1;
		return;
	}
	conn_end(c, err);
}

static void
conn_next_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;
	struct stream_error	 e;

	if (err->kind == STREAM_ERESET && c->next <= c->eof_step) {
		stream_error_set(&e, STREAM_ERESET, err->sys,
		    "%s: peer closed before all input was sent", c->target);
		conn_send_failed(c, &e);
		return;
	}
	if (err->kind != STREAM_OK) {
		conn_end(c, err);
		return;
	}
	c->next++;
	conn_step(c);
}

/* A read operation met EOF first: its bytes are out, exit 5. */
static void
conn_incomplete(struct conn *c, const char *what, size_t got)
{
	conn_fail(c, EXIT_INCOMPLETE, "%s: EOF after %zu bytes (%s)",
	    c->target, got, what);
}

static void
conn_limit(struct conn *c, const char *what)
{
	conn_fail(c, EXIT_LIMIT, "%s: %s longer than --limit (%zu bytes)",
	    c->target, what, stream_limit(c->net));
}

static void
conn_read_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct conn	*c = arg;
	struct step	*st = &c->steps[c->next];
	size_t		 len = evbuffer_get_length(data);
	const char	*what = st->id == OPT_READ_LINE ? "line" : "record";

	if (err->kind == STREAM_ELIMIT) {
		conn_limit(c, what);
		return;
	}
	if (err->kind == STREAM_EINCOMPLETE) {
		if (conn_output(c, data) == 0)
			conn_incomplete(c, st->id == OPT_READ_LINE ?
			    "--read-line" : "--read-until", len);
		return;
	}
	if (err->kind != STREAM_OK) {
		conn_end(c, err);
		return;
	}
	if (conn_output(c, data) == -1)
		return;
	/* readline hands back a partial line at EOF; the CLI is strict. */
	if (st->id == OPT_READ_LINE) {
		if (len == 0) {
			conn_incomplete(c, "--read-line", 0);
			return;
		}
	}
	c->next++;
	conn_step(c);
}

/*
 * readline's partial line at EOF is only visible as a result without a
 * trailing newline; look at the last byte before it leaves for stdout.
 */
static void
conn_readline_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;
	size_t			 len = evbuffer_get_length(data);
	unsigned char		 last = 0;
	struct evbuffer_ptr	 p;

	if (err->kind == STREAM_OK && len > 0) {
		evbuffer_ptr_set(data, &p, len - 1, EVBUFFER_PTR_SET);
		evbuffer_copyout_from(data, &p, &last, 1);
		if (last != '\n') {
			if (conn_output(c, data) == 0)
				conn_incomplete(c, "--read-line", len);
			return;
		}
	}
	conn_read_cb(s, data, err, arg);
}

/* --read N: whatever arrives first, up to N; EOF first is incomplete. */
static void
conn_read_some_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct conn	*c = arg;

	if (err->kind == STREAM_OK && evbuffer_get_length(data) == 0) {
		conn_incomplete(c, "--read", 0);
		return;
	}
	conn_read_cb(s, data, err, arg);
}

static void	conn_read_exactly_cb(struct stream *, struct evbuffer *,
		    const struct stream_error *, void *);

static void
conn_next_piece_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct conn	*c = arg;

	if (err->kind != STREAM_OK) {
		conn_stdout_fail(c, err);
		return;
	}
	stream_read(c->net, c->remaining, conn_read_exactly_cb, c);
}

/*
 * --read-exactly N in pieces: the bytes go to stdout as they come, so N
 * may be far larger than the limit without buffering N bytes.
 */
static void
conn_read_exactly_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct conn	*c = arg;
	struct step	*st = &c->steps[c->next];
	size_t		 len = evbuffer_get_length(data);

	if (err->kind != STREAM_OK) {
		conn_end(c, err);
		return;
	}
	if (len == 0) {
		conn_incomplete(c, "--read-exactly",
		    (size_t)(st->n - c->remaining));
		return;
	}
	c->remaining -= len;
	if (conn_output(c, data) == -1)
		return;
	if (c->remaining > 0) {
		if (stream_write_paused(c->io))
			stream_drain(c->io, conn_next_piece_cb, c);
		else
			stream_read(c->net, c->remaining, conn_read_exactly_cb,
			    c);
		return;
	}
	c->next++;
	conn_step(c);
}

/* --read-all, and sending stdin or a pipe: a pump to the end. */
static void
conn_pump_cb(struct pump *p, enum pump_side side,
    const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;
	struct stream_error	 e;

	if (err->kind != STREAM_OK && side == PUMP_SIDE_WRITE &&
	    c->steps[c->next].id != OPT_READ_ALL) {
		stream_error_set(&e, STREAM_ERESET, err->sys,
		    "%s: peer closed before all input was sent", c->target);
		conn_send_failed(c, &e);
		return;
	}
	if (err->kind != STREAM_OK && side == PUMP_SIDE_WRITE &&
	    err->kind != STREAM_ETIMEOUT) {
		conn_stdout_fail(c, err);	/* --read-all */
		return;
	}
	/* The pump stays with its step: it may finish inside pump_start. */
	conn_next_cb(NULL, err, c);
}

static int
conn_send_filtered(struct conn *c, struct step *st)
{
	struct evbuffer	*buf;
	int		 rc;

	if ((buf = evbuffer_new()) == NULL ||
	    evbuffer_add(buf, st->data, st->len) == -1) {
		if (buf != NULL)
			evbuffer_free(buf);
		conn_fail(c, EXIT_NET, "%s", strerror(ENOMEM));
		return (-1);
	}
	conn_sent_filter_cb(buf, c);
	rc = stream_write_buffer(c->net, buf);
	evbuffer_free(buf);
	return (rc);
}

/* Queue one --send or --send-file step; the drain paces big files. */
static void
conn_send(struct conn *c, struct step *st)
{
	int	rc;

	if (st->id == OPT_SEND && c->filtering)
		rc = conn_send_filtered(c, st);
	else if (st->id == OPT_SEND)
		rc = stream_write(c->net, st->data, st->len);
	else
		rc = stream_write_file(c->net, st->fd, 0, st->size);
	if (rc == -1) {
		conn_end(c, stream_exception(c->net));
		return;
	}
	if (st->id == OPT_SEND_FILE)
		st->fd = -1;	/* the writer owns and closes it now */
	stream_drain(c->net, conn_next_cb, c);
}

/* All --send* data written: half-close with -N, then start reading. */
static void
conn_sent(struct conn *c)
{
	if (cmd_has(c->ctx, OPT_EOF) && stream_write_eof(c->net) == -1) {
		conn_end(c, stream_exception(c->net));
		return;
	}
	stream_flush(c->net, conn_next_cb, c);
}

/* Receive mode: the peer closed first; did our last bytes reach it? */
static void
conn_acked_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;
	struct stream_error	 e;

	if (err->kind != STREAM_OK) {
		stream_error_set(&e, STREAM_ERESET, err->sys,
		    "%s: peer closed before all input was sent", c->target);
		conn_end(c, &e);
		return;
	}
	conn_end(c, NULL);
}

/*
 * Receive mode: everything the peer sends goes to stdout until it
 * closes; the transfer is over when that and the sending are done, by
 * the relay's rules (see relay.c).
 */
static void
conn_receive_check(struct conn *c)
{
	if (c->done || !c->down_done)
		return;
	if (c->up_failed) {
		conn_end(c, &c->up_err);
		return;
	}
	if (!c->sends_done)
		return;	/* the peer may only have half-closed: send on */
	/* Bytes the kernel took are not bytes the peer has: wait for it. */
	stream_wait_acked(c->net, conn_acked_cb, c);
}

static void
conn_receive_cb(struct pump *p, enum pump_side side,
    const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;
	struct stream_error	 e;

	if (err->kind == STREAM_OK) {
		c->down_done = 1;
		conn_receive_check(c);
		return;
	}
	if (side == PUMP_SIDE_WRITE && err->kind != STREAM_ETIMEOUT) {
		conn_stdout_fail(c, err);
		return;
	}
	if (c->up_failed) {
		conn_end(c, &c->up_err);
		return;
	}
	/* A reset while bytes were left to send: the same story. */
	if (err->kind == STREAM_ERESET && !c->sends_done) {
		stream_error_set(&e, STREAM_ERESET, err->sys,
		    "%s: peer closed before all input was sent", c->target);
		conn_end(c, &e);
		return;
	}
	conn_end(c, err);
}

/*
 * A FIFO is read once a writer has come: until then a read would say EOF
 * (Linux reports no hangup on it before a first writer, so readiness
 * means data, or a writer come and gone). The wait is in the loop, under
 * the connection's idle timeout, not in open().
 */
static void
conn_fifo_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn		*c = arg;
	struct step		*st = &c->steps[c->next];
	struct stream_error	 err;

	event_free(st->wait);
	st->wait = NULL;
	st->src = stream_open_fds(c->ctx->base, st->fd, -1, &c->opts, &err);
	if (st->src == NULL) {
		conn_end(c, &err);
		return;
	}
	st->fd = -1;
	st->fifo = 0;
	conn_step(c);
}

static void
conn_step(struct conn *c)
{
	struct step	*st;

	if (c->done)
		return;
	if (c->next == c->nsteps && c->receive) {
		c->sends_done = 1;
		if (c->down_done)
			conn_receive_check(c);
		return;
	}
	if (c->next == c->nsteps) {
		conn_flush_stdout(c);
		return;
	}
	st = &c->steps[c->next];
	switch (st->id) {
	case OPT_SEND:
		conn_send(c, st);
		break;
	case OPT_SEND_FILE:
		if (st->fifo) {
			st->wait = event_new(c->ctx->base, st->fd, EV_READ,
			    conn_fifo_cb, c);
			event_add(st->wait, NULL);
		} else if (st->src != NULL)	/* a pipe, or stdin: pump it */
			st->pump = pump_start_filtered(st->src, c->net, 0,
			    c->filtering ? conn_sent_filter_cb : NULL, c,
			    conn_pump_cb, c);
		else
			conn_send(c, st);
		break;
	case OPT_EOF:
		conn_sent(c);
		break;
	case OPT_READ_LINE:
		stream_readline(c->net, conn_readline_cb, c);
		break;
	case OPT_READ_UNTIL:
		stream_readuntil(c->net, st->data, st->len, conn_read_cb, c);
		break;
	case OPT_READ_EXACTLY:
		c->remaining = st->n;
		if (st->n == 0) {
			c->next++;
			conn_step(c);
		} else
			stream_read(c->net, st->n, conn_read_exactly_cb, c);
		break;
	case OPT_READ:
		stream_read(c->net, st->n, conn_read_some_cb, c);
		break;
	case OPT_READ_ALL:
		st->pump = pump_start_filtered(c->net, c->io, PUMP_FLUSH,
		    c->hd != NULL ? conn_received_filter_cb : NULL, c,
		    conn_pump_cb, c);
		break;
	}
}

/*
 * --send-file FILE: a regular file goes out with sendfile; anything else
 * (a FIFO, /dev/stdin) is read through a stream of its own.
 */
static int
conn_open_file(struct conn *c, struct step *st, const char *path)
{
	struct stat		sb;
	struct stream_error	err;

	/*
	 * O_NONBLOCK: a FIFO without a writer would block open() here, before
	 * connecting and outside every timeout; conn_fifo_cb waits for one
	 * in the loop instead.
	 */
	if ((st->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(st->fd, &sb) == -1)
		return (cmd_fail(c->ctx, EXIT_NET, "%s: %s", path,
		    strerror(errno)));
	if (S_ISDIR(sb.st_mode))
		return (cmd_fail(c->ctx, EXIT_NET, "%s: %s", path,
		    strerror(EISDIR)));
	if (S_ISFIFO(sb.st_mode)) {
		st->fifo = 1;		/* conn_fifo_cb */
		return (0);
	}
	if (fcntl(st->fd, F_SETFL, fcntl(st->fd, F_GETFL) & ~O_NONBLOCK) == -1)
		return (cmd_fail(c->ctx, EXIT_NET, "%s: %s", path,
		    strerror(errno)));
	/* sendfile would bypass -C and -x: read it like a pipe then. */
	if (S_ISREG(sb.st_mode) && !c->filtering) {
		st->size = sb.st_size;
		return (0);
	}
	st->src = stream_open_fds(c->ctx->base, st->fd, -1, &c->opts, &err);
	if (st->src == NULL)
		return (cmd_fail(c->ctx, EXIT_NET, "%s: %s", path, err.msg));
	st->fd = -1;
	return (0);
}

static void
conn_add_step(struct conn *c, struct step *st)
{
	c->steps = xreallocarray(c->steps, c->nsteps + 1, sizeof *c->steps);
	c->steps[c->nsteps++] = *st;
}

/* Parse one --send* or --read* option into a step; 0, or an exit code. */
static int
conn_parse_step(struct conn *c, const struct cmd_arg *a, struct step *st)
{
	const char	*cause;

	memset(st, 0, sizeof *st);
	st->id = a->id;
	st->fd = -1;
	switch (a->id) {
	case OPT_SEND:
	case OPT_READ_UNTIL:
		if (parse_escapes(a->value, &st->data, &st->len, &cause) != 0)
			return (cmd_fail(c->ctx, EXIT_USAGE, "%s %s: %s",
			    a->name, a->value, cause));
		if (a->id == OPT_READ_UNTIL && st->len == 0) {
			free(st->data);	/* not a step yet: ours to free */
			return (cmd_fail(c->ctx, EXIT_USAGE,
			    "%s: the separator is empty", a->name));
		}
		return (0);
	case OPT_SEND_FILE:
		return (conn_open_file(c, st, a->value));
	case OPT_READ:
	case OPT_READ_EXACTLY:
		if (parse_count(a->value, a->id == OPT_READ ? 1 : 0,
		    (long long)1 << 50, &st->n, &cause) != 0)
			return (cmd_fail(c->ctx, EXIT_USAGE, "%s %s: %s",
			    a->name, a->value, cause));
		return (0);
	}
	return (0);
}

/*
 * One-shot mode, as a list of steps: the sends in order (stdin when there
 * are none), the end-of-sending marker, then the reads in order.
 */
static int
conn_plan(struct conn *c)
{
	struct cmd_args	*args = c->ctx->args;
	struct step	 st;
	size_t		 i;
	int		 pass, nsend = 0, nread = 0, rc;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < args->nopts; i++) {
			int id = args->opts[i].id;
			int is_send = id == OPT_SEND || id == OPT_SEND_FILE;
			int is_read = id >= OPT_READ_LINE && id <= OPT_READ_ALL;

			if ((pass == 0 && !is_send) || (pass == 1 && !is_read))
				continue;
			if ((rc = conn_parse_step(c, &args->opts[i], &st)) != 0)
				return (rc);
			conn_add_step(c, &st);
			nsend += is_send;
			nread += is_read;
		}
		if (pass == 1)
			break;
		if (nsend == 0 && c->oneshot) {
			memset(&st, 0, sizeof st);
			st.id = OPT_SEND_FILE;
			st.fd = -1;
			st.src = NULL;	/* stdin: filled in once io exists */
			conn_add_step(c, &st);
		}
		memset(&st, 0, sizeof st);
		st.id = OPT_EOF;
		c->eof_step = c->nsteps;
		conn_add_step(c, &st);
	}
	/* --send* alone: the given bytes replace stdin, the rest is the relay. */
	c->receive = nsend > 0 && nread == 0;
	return (0);
}

static void
conn_progress_print(struct conn *c, int final)
{
	struct timeval		 now, d;
	unsigned long long	 in = stream_bytes_in(c->net);
	unsigned long long	 out = stream_bytes_out(c->net);
	double			 secs;

	gettimeofday(&now, NULL);
	timersub(&now, &c->started, &d);
	secs = d.tv_sec + d.tv_usec / 1e6;
	fprintf(stderr, "\r%llu bytes sent, %llu received, %.1f s, %.2f MB/s%s",
	    out, in, secs, secs > 0 ? (in + out) / secs / 1e6 : 0.0,
	    final ? "\n" : "   ");
}

static void
conn_progress_cb(evutil_socket_t fd, short events, void *arg)
{
	conn_progress_print(arg, 0);
}

/* --progress: a live count on stderr, if stderr is a terminal or forced. */
static int
conn_progress_start(struct conn *c)
{
	const char	*v = cmd_get(c->ctx, OPT_PROGRESS);
	struct timeval	 tv = { 0, 500000 };

	if (!cmd_has(c->ctx, OPT_PROGRESS))
		return (0);
	if (v != NULL && strcmp(v, "always") != 0)
		return (cmd_fail(c->ctx, EXIT_USAGE,
		    "--progress=%s: only --progress=always is known", v));
	if (v == NULL && !isatty(STDERR_FILENO))
		return (0);
	c->progress = event_new(c->ctx->base, -1, EV_PERSIST,
	    conn_progress_cb, c);
	event_add(c->progress, &tv);
	return (0);
}

static void
conn_relay_done_cb(struct relay *r, const struct stream_error *err, void *arg)
{
	struct conn	*c = arg;

	conn_end(c, err);
}

/* The connection is up: wire stdio, then relay or run the steps. */
static void
conn_connected_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;
	struct stream_error	 e;
	size_t			 i;
	int			 flags = 0;

	if (s == NULL) {
		conn_end(c, err);
		return;
	}
	c->net = s;
	log_connected(c->net);
	c->io = stream_open_fds(c->ctx->base, STDIN_FILENO, STDOUT_FILENO,
	    &c->opts, &e);
	if (c->io == NULL) {
		stream_error_set(&e, e.kind, e.sys, "stdio: %s", e.msg);
		conn_end(c, &e);
		return;
	}
	gettimeofday(&c->started, NULL);
	if (c->oneshot) {
		for (i = 0; i < c->nsteps; i++) {
			if (c->steps[i].id == OPT_SEND_FILE &&
			    c->steps[i].fd == -1 && c->steps[i].src == NULL)
				c->steps[i].src = c->io;
		}
		if (c->receive)
			c->down = pump_start_filtered(c->net, c->io,
			    PUMP_FLUSH, c->hd != NULL ?
			    conn_received_filter_cb : NULL, c,
			    conn_receive_cb, c);
		conn_step(c);
		return;
	}
	if (cmd_has(c->ctx, OPT_NO_SHUTDOWN))
		flags |= RELAY_NO_SHUTDOWN;
	if (isatty(STDIN_FILENO))
		flags |= RELAY_STDIN_TTY;
	c->relay = relay_start_filtered(c->net, c->io, flags,
	    c->filtering ? conn_sent_filter_cb : NULL,
	    c->hd != NULL ? conn_received_filter_cb : NULL, c,
	    conn_relay_done_cb, c);
}

/*
 * Is input unfinished (stdin not at its end, --send* data not all
 * sent)? Then the close about to happen must be a reset: the peer would
 * take a FIN for the end of a complete transfer.
 */
static int
conn_interrupt(struct conn *c)
{
	if (c->net == NULL || c->done)
		return (0);
	if (c->relay != NULL)
		return (relay_interrupt(c->relay));
	if (!c->oneshot || c->next > c->eof_step)
		return (0);
	stream_reset_on_close(c->net);
	return (1);
}

static const int conn_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NSIGNALS	(sizeof conn_signals / sizeof conn_signals[0])

/*
 * SIGINT, SIGTERM, SIGHUP. With input unfinished: reset the connection,
 * say so, exit 128 + signal. Otherwise nothing was cut: die of the signal
 * as before, and the peer sees an ordinary close.
 */
static void
conn_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct conn	*c = arg;
	size_t		 i;

	if (conn_interrupt(c)) {
		c->code = cmd_fail(c->ctx, 128 + (int)sig,
		    "interrupted: %llu bytes sent, input not finished",
		    stream_bytes_out(c->net));
		c->done = 1;
		event_base_loopbreak(c->ctx->base);
		return;
	}
	for (i = 0; i < NSIGNALS; i++) {
		if (c->sigev[i] != NULL)
			event_del(c->sigev[i]);	/* the old handler is back */
	}
	signal((int)sig, SIG_DFL);
	raise((int)sig);
}

/*
 * A signal ignored at start stays ignored: a non-interactive shell
 * ignores SIGINT for its background jobs, and `cmd &` must not die of ^C.
 */
static void
conn_signals_start(struct conn *c)
{
	struct sigaction	sa;
	size_t			i;

	for (i = 0; i < NSIGNALS; i++) {
		if (sigaction(conn_signals[i], NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN)
			continue;
		c->sigev[i] = evsignal_new(c->ctx->base, conn_signals[i],
		    conn_signal_cb, c);
		if (c->sigev[i] != NULL)
			evsignal_add(c->sigev[i], NULL);
	}
}

/* The positional arguments: HOST PORT, PATH, or nothing with --fd. */
static int
conn_check_target(struct conn *c, int is_unix)
{
	struct cmd_ctx	*ctx = c->ctx;
	char		**pos = ctx->args->pos;
	int		 npos = ctx->args->npos, want = is_unix ? 1 : 2;
	int		 port;
	const char	*cause;
	char		 msg[300];

	if ((is_unix || cmd_has(ctx, OPT_FD)) && (cmd_has(ctx, OPT_RESOLVE) ||
	    cmd_has(ctx, OPT_PROXY) || cmd_has(ctx, OPT_NOPROXY)))
		return (cmd_fail(ctx, EXIT_USAGE, "--resolve and --proxy need "
		    "HOST PORT"));
	if (cmd_has(ctx, OPT_FD)) {
		if (npos != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--fd takes the place"
			    " of %s", is_unix ? "PATH" : "HOST PORT"));
		return (0);
	}
	if (npos == 1 && !is_unix)	/* HOST:PORT, as ncat and socat */
		cmd_set_hint(ctx, hint_connect_target("connect", pos[0]));
	if (npos != want)
		return (cmd_fail(ctx, EXIT_USAGE, "missing %s",
		    is_unix ? "PATH" : npos == 0 ? "HOST PORT" : "PORT"));
	if (is_unix) {
		if (cmd_check_unix_path(ctx, pos[0]) != 0)
			return (ctx->exit_code);
		c->target = xstrdup(pos[0]);
		return (0);
	}
	if (*pos[0] == '\0')
		return (cmd_fail(ctx, EXIT_USAGE, "empty host name"));
	if ((port = parse_port(pos[1], 0, &cause)) == -1)
		return (cmd_fail(ctx, EXIT_USAGE, "%s", parse_port_error(pos[1],
		    cause, msg, sizeof msg)));
	snprintf(c->port, sizeof c->port, "%d", port);	/* "http": 80 */
	xasprintf((char **)&c->target, "%s port %s", pos[0], c->port);
	if (cmd_reach_resolve(ctx, OPT_RESOLVE) != 0)
		return (ctx->exit_code);
	return (cmd_reach_proxy(ctx, OPT_PROXY, OPT_NOPROXY, pos[0], 0, 0,
	    &c->proxy, &c->use_proxy));
}

static int
conn_setup_tls(struct conn *c)
{
	struct cmd_ctx		*ctx = c->ctx;
	struct stream_error	 err;

	if (!cmd_has(ctx, OPT_TLS)) {
		if (cmd_has(ctx, OPT_CAFILE) || cmd_has(ctx, OPT_INSECURE))
			return (cmd_fail(ctx, EXIT_USAGE,
			    "--cafile and --insecure need --tls"));
		return (0);
	}
	c->opts.tls_ctx = tls_client_ctx(cmd_get(ctx, OPT_CAFILE),
	    cmd_has(ctx, OPT_INSECURE), &err);
	if (c->opts.tls_ctx == NULL)
		return (cmd_fail_stream(ctx, &err));
	if (ctx->entry == &cmd_connect_entry && !cmd_has(ctx, OPT_FD))
		c->opts.tls_servername = ctx->args->pos[0];
	return (0);
}

/* --fd N: an inherited socket; anything else there is a usage error. */
static int
conn_open_fd(struct conn *c)
{
	struct stream_error	 err;
	struct stream		*s;
	const char		*cause;
	long long		 fd;
	int			 listening = 0;
	socklen_t		 len = sizeof listening;

	if (parse_count(cmd_get(c->ctx, OPT_FD), 0, 1 << 30, &fd, &cause) != 0)
		return (cmd_fail(c->ctx, EXIT_USAGE, "--fd %s: %s",
		    cmd_get(c->ctx, OPT_FD), cause));
	/* Else the first write would fail with EPIPE, long after. */
	if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	    &len) == 0 && listening)
		return (cmd_fail(c->ctx, EXIT_USAGE, "--fd %lld: a listening "
		    "socket, not a connected one", fd));
	xasprintf((char **)&c->target, "fd %lld", fd);
	s = stream_open_fd(c->ctx->base, (int)fd, &c->opts, &err);
	if (s == NULL)
		return (cmd_fail(c->ctx, EXIT_USAGE, "--fd %lld: %s", fd,
		    err.msg));
	conn_connected_cb(s, &err, c);
	return (0);
}

/* -C and -x: both put every byte through user space. */
static int
conn_setup_filters(struct conn *c)
{
	struct stream_error	 err;
	const char		*path = cmd_get(c->ctx, OPT_HEX_DUMP);

	c->crlf_on = cmd_has(c->ctx, OPT_CRLF);
	if (path != NULL && (c->hd = hexdump_open(path, &err)) == NULL)
		return (cmd_fail(c->ctx, EXIT_NET, "--hex-dump %s", err.msg));
	c->filtering = c->crlf_on || c->hd != NULL;
	return (0);
}

/* -s ADDR, -p PORT: TCP only, checked before anything connects. */
static int
conn_check_source(struct conn *c, int is_unix)
{
	struct cmd_ctx	*ctx = c->ctx;
	const char	*addr = cmd_get(ctx, OPT_SOURCE);
	const char	*port = cmd_get(ctx, OPT_SOURCE_PORT), *cause;
	struct in_addr	 in4;
	struct in6_addr	 in6;
	char		 msg[300];
	int		 n;

	if (addr == NULL && port == NULL)
		return (0);
	if (is_unix || cmd_has(ctx, OPT_FD))
		return (cmd_fail(ctx, EXIT_USAGE, "--source and --source-port "
		    "are for TCP connections"));
	if (addr != NULL && *addr == '\0')
		return (cmd_fail(ctx, EXIT_USAGE, "--source: empty address"));
	if (port != NULL) {
		if ((n = parse_port(port, 0, &cause)) == -1)
			return (cmd_fail(ctx, EXIT_USAGE, "--source-port %s",
			    parse_port_error(port, cause, msg, sizeof msg)));
		snprintf(c->src_port, sizeof c->src_port, "%d", n);
	}
	/* A numeric source picks the family of the addresses to try. */
	if (addr != NULL && c->opts.family == AF_UNSPEC) {
		if (inet_pton(AF_INET, addr, &in4) == 1)
			c->opts.family = AF_INET;
		else if (inet_pton(AF_INET6, addr, &in6) == 1)
			c->opts.family = AF_INET6;
	}
	c->source = 1;
	if (c->use_proxy) {	/* nc -s with -x: binds the proxy connection */
		c->proxy.src_addr = addr != NULL ? xstrdup(addr) : NULL;
		c->proxy.src_port = port != NULL ? xstrdup(c->src_port) : NULL;
	}
	return (0);
}

/* Connected from the source asked for: a stream on the socket. */
static void
conn_source_done_cb(int fd, const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;
	struct stream_error	 e;
	struct stream		*s;

	if (fd == -1) {
		conn_connected_cb(NULL, err, c);
		return;
	}
	if (c->opts.tls_ctx != NULL) {	/* handshake first, as without -s */
		stream_open_tls_fd(c->ctx->base, fd, &c->opts,
		    conn_connected_cb, c);
		return;
	}
	if ((s = stream_open_fd(c->ctx->base, fd, &c->opts, &e)) == NULL) {
		close(fd);
		conn_connected_cb(NULL, &e, c);
		return;
	}
	conn_connected_cb(s, &e, c);
}

static void
conn_free(struct conn *c)
{
	size_t	i;

	if (c->progress != NULL) {
		conn_progress_print(c, 1);
		event_free(c->progress);
	}
	log_closed(c->net, NULL);
	for (i = 0; i < NSIGNALS; i++) {
		if (c->sigev[i] != NULL)
			event_free(c->sigev[i]);
	}
	if (c->relay != NULL)
		relay_free(c->relay);
	pump_free(c->down);
	for (i = 0; i < c->nsteps; i++) {
		pump_free(c->steps[i].pump);
		if (c->steps[i].wait != NULL)
			event_free(c->steps[i].wait);
		free(c->steps[i].data);
		if (c->steps[i].fd >= 0)
			close(c->steps[i].fd);
		if (c->steps[i].src != NULL && c->steps[i].src != c->io)
			stream_abort(c->steps[i].src);
	}
	free(c->steps);
	if (c->net != NULL)
		stream_abort(c->net);
	if (c->io != NULL)
		stream_abort(c->io);
	if (c->opts.tls_ctx != NULL)
		tls_ctx_free(c->opts.tls_ctx);
	(void)hexdump_close(c->hd);
	free((char *)c->target);
	proxy_free(&c->proxy);
	resolve_clear();
}

/* -z: the options that make no sense without a data transfer. */
static int
conn_scan_check(struct cmd_ctx *ctx, int oneshot)
{
	static const int	 bad[] = { OPT_FD, OPT_TLS, OPT_CRLF,
				    OPT_HEX_DUMP, OPT_PROGRESS, OPT_EOF,
				    OPT_NO_SHUTDOWN, OPT_SOURCE,
				    OPT_SOURCE_PORT };
	size_t			 i, j;

	if (oneshot)
		return (cmd_fail(ctx, EXIT_USAGE, "-z sends and reads nothing:"
		    " no --send or --read options with it"));
	for (i = 0; i < ctx->args->nopts; i++) {
		for (j = 0; j < sizeof bad / sizeof bad[0]; j++) {
			if (ctx->args->opts[i].id == bad[j])
				return (cmd_fail(ctx, EXIT_USAGE, "%s cannot be"
				    " used with -z", ctx->args->opts[i].name));
		}
	}
	if (!cmd_has(ctx, OPT_ZERO_IO) && (cmd_has(ctx, OPT_JSON) ||
	    cmd_has(ctx, OPT_CONCURRENCY)))
		return (cmd_fail(ctx, EXIT_USAGE,
		    "--json and --concurrency need -z"));
	return (0);
}

/*
 * connect -z HOST PORTS, unix-connect -z PATH: nc's rule for the exit
 * status, 0 when anything is open; 4 when nothing answered at all.
 */
static int
conn_scan(struct cmd_ctx *ctx, int is_unix)
{
	struct portscan_opts	 o;
	struct portscan_result	 r;
	struct stream_error	 err;
	uint16_t		*ports = NULL, none = 0;
	size_t			 n = 1;
	long long		 v = PORTSCAN_CONCURRENCY;
	const char		*cause;
	char			 msg[300];
	struct proxy		 p = { 0 };
	int			 rc, use_proxy = 0;

	memset(&o, 0, sizeof o);
	if (ctx->args->npos != (is_unix ? 1 : 2))
		return (cmd_fail(ctx, EXIT_USAGE, "missing %s", is_unix ?
		    "PATH" : ctx->args->npos == 0 ? "HOST PORTS" : "PORTS"));
	o.host = ctx->args->pos[0];
	if (is_unix && (cmd_has(ctx, OPT_PROXY) || cmd_has(ctx, OPT_RESOLVE)))
		return (cmd_fail(ctx, EXIT_USAGE, "--resolve and --proxy need "
		    "HOST PORT"));
	if (is_unix && cmd_check_unix_path(ctx, o.host) != 0)
		return (ctx->exit_code);
	if (!is_unix && *o.host == '\0')
		return (cmd_fail(ctx, EXIT_USAGE, "empty host name"));
	if (cmd_has(ctx, OPT_CONCURRENCY) && parse_count(cmd_get(ctx,
	    OPT_CONCURRENCY), 1, 65536, &v, &cause) != 0)
		return (cmd_fail(ctx, EXIT_USAGE, "--concurrency %s: %s",
		    cmd_get(ctx, OPT_CONCURRENCY), cause));
	if (!is_unix && portscan_parse(ctx->args->pos[1], &ports, &n, msg,
	    sizeof msg) != 0)
		return (cmd_fail(ctx, EXIT_USAGE, "%s", msg));
	o.is_unix = is_unix;
	o.family = ctx->g->family;
	o.timeout = ctx->g->connect_timeout > 0 ? ctx->g->connect_timeout :
	    PORTSCAN_TIMEOUT;
	/* Bounded by the descriptors, less a margin for everything else. */
	o.concurrency = (unsigned int)v;
	if (o.concurrency > portscan_max_concurrency())
		o.concurrency = portscan_max_concurrency();
	o.verbose = ctx->g->verbose;
	o.json = cmd_has(ctx, OPT_JSON);
	if (!is_unix && (cmd_reach_resolve(ctx, OPT_RESOLVE) != 0 ||
	    cmd_reach_proxy(ctx, OPT_PROXY, OPT_NOPROXY, o.host, 0, 0, &p,
	    &use_proxy) != 0)) {
		free(ports);
		return (ctx->exit_code);
	}
	if (use_proxy && !cmd_has(ctx, OPT_CONCURRENCY))
		o.concurrency = PORTSCAN_PROXY_CONCURRENCY;
	rc = use_proxy ? portscan_proxy_run(ctx->base, &o, &p, ports, n, &r,
	    &err) : portscan_run(ctx->base, &o, ports != NULL ? ports : &none,
	    n, &r, &err);
	free(ports);
	proxy_free(&p);
	if (rc != 0)
		return (cmd_fail_stream(ctx, &err));
	if (r.open > 0)
		return (0);
	return (r.timeout == n ? EXIT_TIMEOUT : EXIT_NET);
}

static int
cmd_connect_exec(struct cmd_ctx *ctx)
{
	struct conn	 c;
	int		 is_unix = ctx->entry == &cmd_unix_connect_entry;
	int		 rc;
	size_t		 i;

	memset(&c, 0, sizeof c);
	c.ctx = ctx;
	cmd_stream_opts(ctx, &c.opts);
	for (i = 0; i < ctx->args->nopts; i++) {
		int id = ctx->args->opts[i].id;

		if (id == OPT_SEND || id == OPT_SEND_FILE ||
		    (id >= OPT_READ_LINE && id <= OPT_READ_ALL))
			c.oneshot = 1;
	}
	if (cmd_has(ctx, OPT_ZERO_IO) || cmd_has(ctx, OPT_JSON) ||
	    cmd_has(ctx, OPT_CONCURRENCY)) {
		if ((rc = conn_scan_check(ctx, c.oneshot)) == 0)
			rc = conn_scan(ctx, is_unix);
		goto out;
	}
	if ((rc = conn_check_target(&c, is_unix)) != 0 ||
	    (rc = conn_check_source(&c, is_unix)) != 0 ||
	    (rc = conn_setup_filters(&c)) != 0 ||
	    (c.oneshot && (rc = conn_plan(&c)) != 0) ||
	    (rc = conn_progress_start(&c)) != 0 ||
	    (rc = conn_setup_tls(&c)) != 0)
		goto out;

	conn_signals_start(&c);
	if (cmd_has(ctx, OPT_FD))
		rc = conn_open_fd(&c);
	else if (is_unix)
		stream_open_unix_connection(ctx->base, c.target, &c.opts,
		    conn_connected_cb, &c);
	else if (c.source && !c.use_proxy)
		net_connect_tcp_from(ctx->base, ctx->args->pos[0], c.port,
		    c.opts.family, cmd_get(ctx, OPT_SOURCE),
		    c.src_port[0] != '\0' ? c.src_port : NULL,
		    c.opts.connect_timeout, conn_source_done_cb, &c);
	else
		proxy_open_connection(ctx->base, c.use_proxy ? &c.proxy : NULL,
		    ctx->args->pos[0], c.port, &c.opts,
		    conn_connected_cb, &c);
	if (rc == 0) {
		event_base_dispatch(ctx->base);
		rc = c.code;
	}
	if (hexdump_close(c.hd) == -1 && rc == 0)
		rc = cmd_fail(ctx, EXIT_NET, "--hex-dump %s: %s",
		    cmd_get(ctx, OPT_HEX_DUMP), strerror(errno));
	c.hd = NULL;
out:
	conn_free(&c);
	return (rc);
}

const struct cmd_entry cmd_connect_entry = {
	"connect", "[OPTIONS] HOST PORT",
	"connect to HOST PORT and relay stdin/stdout, or send and read",
	0, 2, connect_options, cmd_connect_exec
};

const struct cmd_entry cmd_unix_connect_entry = {
	"unix-connect", "[OPTIONS] PATH",
	"connect to a unix socket and relay stdin/stdout, or send and read",
	0, 1, connect_options, cmd_connect_exec
};
