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

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "cstream.h"

/*
 * connect HOST PORT and unix-connect PATH: open a stream, then either
 * relay it with stdin/stdout, or run the one-shot operations (--send*,
 * then --read* in the order given) and close.
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
	OPT_PROGRESS
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
	struct stream		*net;
	struct stream		*io;
	struct relay		*relay;
	struct step		*steps;
	size_t			 nsteps;
	size_t			 next;		/* the step under way */
	long long		 remaining;	/* --read-exactly */
	int			 oneshot;
	int			 code;
	int			 done;
	struct event		*progress;
	struct timeval		 started;
};

static void	conn_step(struct conn *);

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
		stream_set_write_buffer_limits(c->io, STREAM_WRITE_HIGH, 0);
		stream_drain(c->io, conn_stdout_done_cb, c);
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

/* Every completed read goes to stdout at once, separator included. */
static int
conn_output(struct conn *c, struct evbuffer *data)
{
	if (evbuffer_get_length(data) == 0)
		return (0);
	if (stream_write_buffer(c->io, data) == -1) {
		conn_end(c, stream_exception(c->io));
		return (-1);
	}
	return (0);
}

/* The last step: flush stdout, then end with success. */
static void
conn_flushed_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;
	struct stream_error	 e;

	if (err->kind != STREAM_OK) {
		stream_error_set(&e, err->kind, err->sys, "stdout: %s",
		    err->msg);
		conn_end(c, &e);
		return;
	}
	conn_end(c, NULL);
}

static void
conn_flush_stdout(struct conn *c)
{
	stream_set_write_buffer_limits(c->io, STREAM_WRITE_HIGH, 0);
	stream_drain(c->io, conn_flushed_cb, c);
}

static void
conn_next_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct conn	*c = arg;

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
		conn_end(c, err);
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
		if (stream_write_buffer_size(c->io) > STREAM_WRITE_HIGH)
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
		conn_end(c, &e);
		return;
	}
	/* The pump stays with its step: it may finish inside pump_start. */
	conn_next_cb(NULL, err, c);
}

/* Queue one --send or --send-file step; the drain paces big files. */
static void
conn_send(struct conn *c, struct step *st)
{
	int	rc;

	if (st->id == OPT_SEND)
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
	stream_set_write_buffer_limits(c->net, STREAM_WRITE_HIGH, 0);
	stream_drain(c->net, conn_next_cb, c);
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
			st->pump = pump_start(st->src, c->net, 0, conn_pump_cb,
			    c);
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
		st->pump = pump_start(c->net, c->io, PUMP_FLUSH, conn_pump_cb,
		    c);
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
	if (S_ISREG(sb.st_mode)) {
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
	int		 pass, nsend = 0, rc;

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
		conn_add_step(c, &st);
	}
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

static void
conn_log_connected(struct conn *c)
{
	char	peer[128] = "", local[128] = "";

	if (!log_verbose())
		return;
	stream_get_extra_info(c->net, "peername", peer, sizeof peer);
	stream_get_extra_info(c->net, "sockname", local, sizeof local);
	log_event("connected", "peer", peer, "local", local, (char *)NULL);
}

static void
conn_log_closed(struct conn *c)
{
	char	sent[32], received[32];

	if (!log_verbose() || c->net == NULL)
		return;
	snprintf(sent, sizeof sent, "%llu", stream_bytes_out(c->net));
	snprintf(received, sizeof received, "%llu", stream_bytes_in(c->net));
	log_event("closed", "sent", sent, "received", received, (char *)NULL);
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
	conn_log_connected(c);
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
		conn_step(c);
		return;
	}
	if (cmd_has(c->ctx, OPT_NO_SHUTDOWN))
		flags |= RELAY_NO_SHUTDOWN;
	if (isatty(STDIN_FILENO))
		flags |= RELAY_STDIN_TTY;
	c->relay = relay_start(c->net, c->io, flags, conn_relay_done_cb, c);
}

/* The positional arguments: HOST PORT, PATH, or nothing with --fd. */
static int
conn_check_target(struct conn *c, int is_unix)
{
	struct cmd_ctx	*ctx = c->ctx;
	char		**pos = ctx->args->pos;
	int		 npos = ctx->args->npos, want = is_unix ? 1 : 2;
	const char	*cause;

	if (cmd_has(ctx, OPT_FD)) {
		if (npos != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--fd takes the place"
			    " of %s", is_unix ? "PATH" : "HOST PORT"));
		return (0);
	}
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
	if (parse_port(pos[1], 0, &cause) == -1)
		return (cmd_fail(ctx, EXIT_USAGE, "port %s: %s", pos[1],
		    cause));
	xasprintf((char **)&c->target, "%s port %s", pos[0], pos[1]);
	return (0);
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

static void
conn_free(struct conn *c)
{
	size_t	i;

	if (c->progress != NULL) {
		conn_progress_print(c, 1);
		event_free(c->progress);
	}
	conn_log_closed(c);
	if (c->relay != NULL)
		relay_free(c->relay);
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
		SSL_CTX_free(c->opts.tls_ctx);
	free((char *)c->target);
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
	if ((rc = conn_check_target(&c, is_unix)) != 0 ||
	    (c.oneshot && (rc = conn_plan(&c)) != 0) || (rc = conn_progress_start(&c)) != 0 ||
	    (rc = conn_setup_tls(&c)) != 0)
		goto out;

	if (cmd_has(ctx, OPT_FD))
		rc = conn_open_fd(&c);
	else if (is_unix)
		stream_open_unix_connection(ctx->base, c.target, &c.opts,
		    conn_connected_cb, &c);
	else
		stream_open_connection(ctx->base, ctx->args->pos[0],
		    ctx->args->pos[1], &c.opts, conn_connected_cb, &c);
	if (rc == 0) {
		event_base_dispatch(ctx->base);
		rc = c.code;
	}
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
