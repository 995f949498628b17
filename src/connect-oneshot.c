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

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "connect.h"
#include "parse.h"
#include "progress.h"
#include "relay.h"
#include "xmalloc.h"

/*
 * connect's one-shot mode: the --send* and --read* options become a list
 * of steps (the sends in order, stdin when there are none, the end of
 * sending, then the reads in order) run one after the other on the
 * connection. --send* without --read* is receive mode: the given bytes
 * replace stdin, and what the peer sends goes to stdout until it closes.
 */

static void	conn_step(struct conn *);
static void	conn_step_done(struct conn *);

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
 * The peer refused what we send (a reset, a broken pipe). In receive
 * mode the machine (relay.c) words it, once the peer's last bytes are
 * out; otherwise it ends the connection now.
 */
static void
conn_send_refused(struct conn *c, const struct stream_error *err)
{
	struct stream_error	e;

	if (c->receive) {
		relay_input_end(c->relay, PUMP_SIDE_WRITE, err);
		return;
	}
	relay_refused_error(&e, c->target, err->sys);
	conn_end(c, &e);
}

static void
conn_next_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;

	if (err->kind == STREAM_ERESET && c->next <= c->eof_step) {
		conn_send_refused(c, err);
		return;
	}
	if (err->kind != STREAM_OK) {
		conn_end(c, err);
		return;
	}
	conn_step_done(c);
}

/*
 * A step is over: a streamed read (--read-exactly, --read-all) with an
 * --expect is matched now, on the copy it kept; then the next step.
 */
static void
conn_step_done(struct conn *c)
{
	char	msg[512];

	if (c->next < c->nsteps && expect_check(c, &c->steps[c->next], NULL,
	    msg, sizeof msg) != 0) {
		conn_fail(c, EXIT_EXPECT, "%s", msg);
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
	char		 msg[512];
	int		 mismatch;

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
	mismatch = expect_check(c, st, data, msg, sizeof msg);
	if (conn_output(c, data) == -1)
		return;
	/* readline hands back a partial line at EOF; the CLI is strict. */
	if (st->id == OPT_READ_LINE) {
		if (len == 0) {
			conn_incomplete(c, "--read-line", 0);
			return;
		}
	}
	if (mismatch) {
		conn_fail(c, EXIT_EXPECT, "%s", msg);
		return;
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
	expect_keep(c, st, data);
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
	conn_step_done(c);
}

/* --read-all, and sending stdin or a pipe: a pump to the end. */
static void
conn_pump_cb(struct pump *p, enum pump_side side,
    const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;

	if (err->kind != STREAM_OK && side == PUMP_SIDE_WRITE &&
	    c->steps[c->next].id != OPT_READ_ALL) {
		conn_send_refused(c, err);
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

/* Receive mode: the machine's verdict (relay.c) is the connection's. */
static void
conn_receive_done_cb(struct relay *r, const struct relay_report *rep,
    void *arg)
{
	conn_end(arg, rep->err);
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

/* --read-all with --expect: keep a copy of what goes by, to match. */
static void
conn_expect_filter_cb(struct evbuffer *data, void *arg)
{
	struct conn	*c = arg;

	expect_keep(c, &c->steps[c->next], data);
	conn_received_filter_cb(data, c);
}

static void
conn_step(struct conn *c)
{
	struct step		*st;
	struct stream_error	 ok;

	if (c->done)
		return;
	memset(&ok, 0, sizeof ok);
	if (c->next == c->nsteps && c->receive) {
		relay_input_end(c->relay, PUMP_SIDE_NONE, &ok);
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
		if (st->n == 0)
			conn_step_done(c);
		else
			stream_read(c->net, st->n, conn_read_exactly_cb, c);
		break;
	case OPT_READ:
		stream_read(c->net, st->n, conn_read_some_cb, c);
		break;
	case OPT_READ_ALL:
		st->pump = pump_start_filtered(c->net, c->io, PUMP_FLUSH,
		    st->expect != NULL ? conn_expect_filter_cb : c->hd != NULL ?
		    conn_received_filter_cb : NULL, c, conn_pump_cb, c);
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

static void
conn_add_marker(struct conn *c, int id)
{
	struct step	st;

	memset(&st, 0, sizeof st);
	st.id = id;
	st.fd = -1;
	if (id == OPT_EOF)
		c->eof_step = c->nsteps;
	conn_add_step(c, &st);
}

/*
 * With --expect the steps are a dialogue: every --send*, --read* and
 * --expect runs in the order given, so a send waits for the answer read
 * before it. Sending ends (the -N half-close) after the last send; with
 * no send at all, stdin is sent first, as without --expect.
 */
static int
oneshot_plan_dialogue(struct conn *c)
{
	struct cmd_args	*args = c->ctx->args;
	struct step	 st;
	size_t		 i, last_send = 0;
	int		 nsend = 0, rc, id;

	for (i = 0; i < args->nopts; i++) {
		id = args->opts[i].id;
		if (id == OPT_SEND || id == OPT_SEND_FILE) {
			nsend++;
			last_send = i;
		}
	}
	if (nsend == 0) {
		conn_add_marker(c, OPT_SEND_FILE);	/* stdin */
		conn_add_marker(c, OPT_EOF);
	}
	for (i = 0; i < args->nopts; i++) {
		id = args->opts[i].id;
		if (id == OPT_EXPECT) {
			if (c->nsteps == 0 ||
			    c->steps[c->nsteps - 1].id < OPT_READ_LINE ||
			    c->steps[c->nsteps - 1].id > OPT_READ_ALL)
				return (cmd_fail(c->ctx, EXIT_USAGE, "%s %s: "
				    "--expect follows a --read* option",
				    args->opts[i].name, args->opts[i].value));
			if ((rc = expect_compile(c, &c->steps[c->nsteps - 1],
			    &args->opts[i])) != 0)
				return (rc);
			continue;
		}
		if (id != OPT_SEND && id != OPT_SEND_FILE &&
		    (id < OPT_READ_LINE || id > OPT_READ_ALL))
			continue;
		if ((rc = conn_parse_step(c, &args->opts[i], &st)) != 0)
			return (rc);
		conn_add_step(c, &st);
		if (nsend > 0 && i == last_send)
			conn_add_marker(c, OPT_EOF);
	}
	return (0);
}

/*
 * One-shot mode, as a list of steps: the sends in order (stdin when there
 * are none), the end-of-sending marker, then the reads in order; with
 * --expect, a dialogue in the order given (oneshot_plan_dialogue).
 */
int
oneshot_plan(struct conn *c)
{
	struct cmd_args	*args = c->ctx->args;
	struct step	 st;
	size_t		 i;
	int		 pass, nsend = 0, nread = 0, rc;

	if (cmd_has(c->ctx, OPT_EXPECT))
		return (oneshot_plan_dialogue(c));
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

/* Connected: stdin is the input when no --send* is given; go. */
void
oneshot_start(struct conn *c)
{
	struct relay_opts	ro;
	size_t			i;

	for (i = 0; i < c->nsteps; i++) {
		if (c->steps[i].id == OPT_SEND_FILE &&
		    c->steps[i].fd == -1 && c->steps[i].src == NULL)
			c->steps[i].src = c->io;
	}
	/*
	 * Receive mode: the steps send, the machine (relay.c) takes the
	 * peer's bytes to stdout and judges the end by the relay's rules.
	 */
	if (c->receive) {
		memset(&ro, 0, sizeof ro);
		ro.flags = RELAY_CALLER_SENDS;
		ro.a_to_b = c->hd != NULL ? conn_received_filter_cb : NULL;
		ro.filter_arg = c;
		ro.label = c->target;
		c->relay = relay_start(c->net, c->io, &ro,
		    conn_receive_done_cb, c);
	}
	conn_step(c);
}

/*
 * The bytes the steps send, for --progress's percentage: known when
 * every source is --send data or a regular file (stdin too) and -C does
 * not change the count; else -1. Before the start, stdin has no stream.
 */
long long
oneshot_size(struct conn *c)
{
	struct step	*st;
	long long	 total = 0, n;
	size_t		 i;

	if (c->crlf_on)
		return (-1);
	for (i = 0; i < c->eof_step; i++) {
		st = &c->steps[i];
		if (st->id == OPT_SEND)
			n = (long long)st->len;
		else if (st->fd >= 0 && !st->fifo)
			n = (long long)st->size;
		else if (st->fd == -1 && st->src == NULL)
			n = progress_fd_size(STDIN_FILENO);
		else
			n = -1;
		if (n < 0)
			return (-1);
		total += n;
	}
	return (total);
}

void
oneshot_free(struct conn *c)
{
	size_t	i;

	for (i = 0; i < c->nsteps; i++) {
		pump_free(c->steps[i].pump);
		if (c->steps[i].wait != NULL)
			event_free(c->steps[i].wait);
		free(c->steps[i].data);
		expect_free(&c->steps[i]);
		if (c->steps[i].fd >= 0)
			close(c->steps[i].fd);
		if (c->steps[i].src != NULL && c->steps[i].src != c->io)
			stream_abort(c->steps[i].src);
	}
	free(c->steps);
}
