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


#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "connect.h"
#include "dgram.h"
#include "log.h"
#include "net.h"
#include "parse.h"
#include "progress.h"
#include "xmalloc.h"

/*
 * connect -u HOST PORT and unix-connect --dgram PATH: datagrams over the
 * datagram transport (dgram.c), never through the stream reader. What is
 * sent: each --send and each --send-file is one datagram, in order; with
 * neither, each line of stdin (its newline kept, as nc -u sends what it
 * reads from a terminal) is one datagram. What is received: each
 * datagram's payload goes to stdout as it is, or each --read* operation
 * takes one whole datagram. UDP has no end of stream, so the end is a
 * quiet period: after the last send, at most UDP_WAIT seconds (or
 * --idle-timeout) with no datagram received; or at once when every
 * --read* is satisfied.
 */

#define UDP_WAIT		1.0	/* seconds of quiet after the sends */
#define UDP_RECV_MAX		(16 * 1024 * 1024)	/* --read N's buffer */

struct usend {
	char		*data;
	size_t		 len;
};

struct uread {
	int		 id;		/* OPT_READ ... OPT_READ_ALL */
	char		*sep;		/* --read-until */
	size_t		 seplen;
	long long	 n;		/* --read, --read-exactly */
};

struct uconn {
	struct cmd_ctx		*ctx;
	int			 is_unix;
	char			*label;		/* "HOST port PORT", PATH */
	char			 port[8];
	char			 src_port[8];
	int			 family;
	size_t			 maxsize;	/* largest payload, 0: none */
	size_t			 recvsize;	/* a receive's buffer */
	struct dgram		*d;
	struct stream		*io;		/* stdin lines, stdout */
	struct usend		*sends;
	size_t			 nsends;
	size_t			 nextsend;
	struct uread		*reads;
	size_t			 nreads;
	size_t			 nextread;
	int			 from_stdin;
	int			 reading_stdin;
	int			 stdin_eof;
	int			 sending_done;
	double			 wait;		/* quiet period after sending */
	double			 idle;		/* --idle-timeout before it */
	struct event		*timer;
	struct hexdump		*hd;
	struct hexdump_dir	 hd_sent;
	struct hexdump_dir	 hd_received;
	struct progress		*progress;
	int			 code;
	int			 done;
	int			 flushed;
};

static void	udp_send_next(struct uconn *);

static void
udp_flushed_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct uconn	*u = arg;

	if (err->kind != STREAM_OK && u->code == 0)
		u->code = cmd_fail(u->ctx, EXIT_NET, "stdout: %s", err->msg);
	u->flushed = 1;		/* perhaps before the loop runs */
	event_base_loopbreak(u->ctx->base);
}

/* The end: stdout flushed, then out of the loop with u->code. */
static void
udp_finish(struct uconn *u)
{
	if (u->done)
		return;
	u->done = 1;
	if (u->timer != NULL)
		event_del(u->timer);
	if (u->d != NULL)
		dgram_pause(u->d, 1);
	progress_finish(u->progress);
	u->progress = NULL;
	if (u->io != NULL)
		stream_flush(u->io, udp_flushed_cb, u);
	else {
		u->flushed = 1;
		event_base_loopbreak(u->ctx->base);
	}
}

static void
udp_fail(struct uconn *u, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
udp_fail(struct uconn *u, int code, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	if (u->done)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	progress_finish(u->progress);
	u->progress = NULL;
	u->code = cmd_fail(u->ctx, code, "%s", msg);
	udp_finish(u);
}

/* Sending: the idle timeout if any; after it, the quiet period. */
static void
udp_arm_timer(struct uconn *u)
{
	struct timeval	tv;
	double		secs = u->sending_done ? u->wait : u->idle;

	if (u->done)
		return;
	if (secs <= 0) {
		event_del(u->timer);
		return;
	}
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	event_add(u->timer, &tv);
}

static void
udp_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct uconn	*u = arg;

	if (!u->sending_done) {
		udp_fail(u, EXIT_TIMEOUT, "%s: idle timeout (%.3g s without "
		    "traffic)", u->label, u->idle);
		return;
	}
	/* Replies waited for, none came: a timeout, not an end. */
	if (u->nextread < u->nreads && u->reads[u->nextread].id != OPT_READ_ALL)
		udp_fail(u, EXIT_TIMEOUT, "%s: no datagram within %.3g s",
		    u->label, u->wait);
	else
		udp_finish(u);
}

/* A payload to stdout; a full stdout stops the receiving. */
static void
udp_drained_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct uconn	*u = arg;

	if (err->kind != STREAM_OK) {
		udp_fail(u, EXIT_NET, "stdout: %s", err->msg);
		return;
	}
	dgram_pause(u->d, 0);
}

static void
udp_output(struct uconn *u, const char *data, size_t len)
{
	if (len == 0)
		return;
	if (stream_write(u->io, data, len) != 0) {
		udp_fail(u, EXIT_NET, "stdout: %s", stream_exception(u->io) !=
		    NULL ? stream_exception(u->io)->msg : "write failed");
		return;
	}
	if (stream_write_paused(u->io)) {
		dgram_pause(u->d, 1);
		stream_drain(u->io, udp_drained_cb, u);
	}
}

/* The receive buffer for the operation under way. */
static void
udp_set_recvsize(struct uconn *u)
{
	size_t	size = u->recvsize;

	if (u->nextread < u->nreads && u->reads[u->nextread].id == OPT_READ)
		size = (size_t)u->reads[u->nextread].n;
	if (size > UDP_RECV_MAX)
		size = UDP_RECV_MAX;
	dgram_set_recvsize(u->d, size);
}

/* The next --read*, or the end once the sending is done too. */
static void
udp_read_done(struct uconn *u)
{
	u->nextread++;
	if (u->nextread == u->nreads && u->sending_done) {
		udp_finish(u);
		return;
	}
	udp_set_recvsize(u);
	udp_arm_timer(u);
}

/* One --read* operation on one whole datagram. */
static void
udp_read_op(struct uconn *u, const struct uread *r, const char *data,
    size_t len)
{
	const char	*p;
	size_t		 n;

	switch (r->id) {
	case OPT_READ_LINE:
	case OPT_READ_UNTIL:
		p = r->id == OPT_READ_LINE ? memchr(data, '\n', len) :
		    memmem(data, len, r->sep, r->seplen);
		if (p == NULL) {
			udp_output(u, data, len);
			udp_fail(u, EXIT_INCOMPLETE, "%s: a datagram of %zu "
			    "bytes without the %s", u->label, len,
			    r->id == OPT_READ_LINE ? "line end" : "separator");
			return;
		}
		n = (size_t)(p - data) + (r->id == OPT_READ_LINE ? 1 :
		    r->seplen);
		udp_output(u, data, n);
		break;
	case OPT_READ_EXACTLY:
		n = len < (size_t)r->n ? len : (size_t)r->n;
		udp_output(u, data, n);
		if (len != (size_t)r->n) {
			udp_fail(u, len < (size_t)r->n ? EXIT_INCOMPLETE :
			    EXIT_LIMIT, "%s: a datagram of %zu bytes, not %lld",
			    u->label, len, r->n);
			return;
		}
		break;
	case OPT_READ_ALL:
		udp_output(u, data, len);
		udp_arm_timer(u);
		return;		/* until the quiet period ends it */
	default:		/* --read N: the datagram fits, or was cut */
		udp_output(u, data, len);
		break;
	}
	udp_read_done(u);
}

static void
udp_recv_cb(struct dgram *d, const struct dgram_msg *m, void *arg)
{
	struct uconn		*u = arg;
	const struct uread	*r = NULL;

	if (u->done)
		return;
	if (u->hd != NULL)
		hexdump_mem(u->hd, NULL, 0, &u->hd_received, m->data, m->len);
	if (u->nreads > 0) {
		if (u->nextread == u->nreads)
			return;		/* every read done, sends not yet */
		r = &u->reads[u->nextread];
	}
	if (m->full > m->len) {
		/* Never silently cut: what --read N asked for, then say so. */
		if (r != NULL && r->id == OPT_READ)
			udp_output(u, m->data, m->len);
		udp_fail(u, EXIT_LIMIT, "%s: a datagram of %zu bytes cut to %zu"
		    " (%s)", u->label, m->full, m->len, r != NULL &&
		    r->id == OPT_READ ? "--read" : "the receive size");
		return;
	}
	if (r != NULL) {
		udp_read_op(u, r, m->data, m->len);
		return;
	}
	udp_output(u, m->data, m->len);
	udp_arm_timer(u);
}

static void
udp_error_cb(struct dgram *d, const struct stream_error *err, void *arg)
{
	struct uconn	*u = arg;

	udp_fail(u, cmd_exit_code(err), "%s", err->msg);
}

static void
udp_writable_cb(struct dgram *d, void *arg)
{
	udp_send_next(arg);
}

/* One datagram out; -1 when that ended the connection. */
static int
udp_send(struct uconn *u, const char *data, size_t len)
{
	struct stream_error	err;

	if (u->maxsize > 0 && len > u->maxsize) {
		udp_fail(u, EXIT_NET, "send to %s: a datagram of %zu bytes is "
		    "over the largest, %zu: %s", u->label, len, u->maxsize,
		    strerror(EMSGSIZE));
		return (-1);
	}
	if (u->hd != NULL)
		hexdump_mem(u->hd, NULL, 1, &u->hd_sent, data, len);
	if (dgram_send(u->d, data, len, NULL, 0, &err) != 0) {
		udp_fail(u, cmd_exit_code(&err), "%s", err.msg);
		return (-1);
	}
	udp_arm_timer(u);
	return (0);
}

static void
udp_sending_done(struct uconn *u)
{
	u->sending_done = 1;
	if (u->nreads > 0 && u->nextread == u->nreads)
		udp_finish(u);
	else
		udp_arm_timer(u);
}

/* A line of stdin (its newline kept), the last one perhaps without. */
static void
udp_line_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct uconn	*u = arg;
	size_t		 len = evbuffer_get_length(data);
	char		*line;

	u->reading_stdin = 0;
	if (u->done)
		return;
	if (err->kind == STREAM_ELIMIT) {
		udp_fail(u, EXIT_LIMIT, "stdin: a line longer than --limit "
		    "(%zu bytes)", stream_limit(s));
		return;
	}
	if (err->kind != STREAM_OK && err->kind != STREAM_EINCOMPLETE) {
		udp_fail(u, cmd_exit_code(err), "stdin: %s", err->msg);
		return;
	}
	/* readline hands over the partial line at EOF, as asyncio's. */
	line = (char *)evbuffer_pullup(data, -1);
	if (len == 0 || line[len - 1] != '\n')
		u->stdin_eof = 1;
	if (len > 0 && udp_send(u, line, len) != 0)
		return;
	udp_send_next(u);
}

/* Send what is next, until the slot is taken or nothing is left. */
static void
udp_send_next(struct uconn *u)
{
	struct usend	*s;

	while (!u->done && !u->sending_done && !dgram_blocked(u->d)) {
		if (u->from_stdin) {
			if (u->stdin_eof) {
				udp_sending_done(u);
				return;
			}
			if (!u->reading_stdin) {
				u->reading_stdin = 1;
				stream_readline(u->io, udp_line_cb, u);
			}
			return;
		}
		if (u->nextsend == u->nsends) {
			udp_sending_done(u);
			return;
		}
		s = &u->sends[u->nextsend++];
		if (udp_send(u, s->data, s->len) != 0)
			return;
	}
}

/* --send-file: the whole file is one datagram, read here. */
static int
udp_read_file(struct uconn *u, const char *path, struct usend *s)
{
	struct stat	sb;
	size_t		cap = DGRAM_MAX_IPV6 + 1, len = 0;
	ssize_t		n;
	int		fd, error;

	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1 || fstat(fd, &sb) == -1)
		goto fail;
	if (S_ISDIR(sb.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	s->data = xmalloc(cap);
	for (;;) {
		n = read(fd, s->data + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0 || (len += (size_t)n) == cap)
			break;
	}
	close(fd);
	s->len = len;
	if (len > DGRAM_MAX_IPV6 && !u->is_unix)
		return (cmd_fail(u->ctx, EXIT_USAGE, "--send-file %s: larger "
		    "than the largest datagram, %d bytes", path,
		    DGRAM_MAX_IPV6));
	return (0);

fail:
	error = errno;
	if (fd != -1)
		close(fd);
	return (cmd_fail(u->ctx, EXIT_NET, "%s: %s", path, strerror(error)));
}

/* The --send* datagrams and --read* operations, in the order given. */
static int
udp_plan(struct uconn *u)
{
	struct cmd_args	*args = u->ctx->args;
	struct cmd_arg	*a;
	struct usend	 s;
	struct uread	 r;
	const char	*cause;
	size_t		 i;

	for (i = 0; i < args->nopts; i++) {
		a = &args->opts[i];
		memset(&s, 0, sizeof s);
		memset(&r, 0, sizeof r);
		r.id = a->id;
		switch (a->id) {
		case OPT_SEND:
			if (parse_escapes(a->value, &s.data, &s.len,
			    &cause) != 0)
				return (cmd_fail(u->ctx, EXIT_USAGE, "%s %s: "
				    "%s", a->name, a->value, cause));
			break;
		case OPT_SEND_FILE:
			if (udp_read_file(u, a->value, &s) != 0) {
				free(s.data);
				return (u->ctx->exit_code);
			}
			break;
		case OPT_READ_UNTIL:
			if (parse_escapes(a->value, &r.sep, &r.seplen,
			    &cause) != 0 || r.seplen == 0) {
				free(r.sep);
				return (cmd_fail(u->ctx, EXIT_USAGE, "%s %s: "
				    "%s", a->name, a->value, r.seplen == 0 ?
				    "the separator is empty" : cause));
			}
			break;
		case OPT_READ:
		case OPT_READ_EXACTLY:
			if (parse_count(a->value, a->id == OPT_READ ? 1 : 0,
			    (long long)1 << 50, &r.n, &cause) != 0)
				return (cmd_fail(u->ctx, EXIT_USAGE, "%s %s: "
				    "%s", a->name, a->value, cause));
			break;
		case OPT_READ_LINE:
		case OPT_READ_ALL:
			break;
		default:
			continue;
		}
		if (a->id == OPT_SEND || a->id == OPT_SEND_FILE) {
			u->sends = xreallocarray(u->sends, u->nsends + 1,
			    sizeof *u->sends);
			u->sends[u->nsends++] = s;
		} else {
			u->reads = xreallocarray(u->reads, u->nreads + 1,
			    sizeof *u->reads);
			u->reads[u->nreads++] = r;
		}
	}
	u->from_stdin = u->nsends == 0;
	return (0);
}

/* Options that have no meaning for datagrams. */
static int
udp_check_options(struct uconn *u)
{
	static const int	 bad[] = { OPT_FD, OPT_TLS, OPT_CAFILE,
				    OPT_INSECURE, OPT_CRLF, OPT_EOF,
				    OPT_NO_SHUTDOWN, OPT_PROXY, OPT_NOPROXY,
				    OPT_JSON, OPT_CONCURRENCY };
	struct cmd_args		*args = u->ctx->args;
	size_t			 i, j;

	for (i = 0; i < args->nopts; i++) {
		for (j = 0; j < sizeof bad / sizeof bad[0]; j++) {
			if (args->opts[i].id == bad[j])
				return (cmd_fail(u->ctx, EXIT_USAGE, "%s cannot"
				    " be used with datagrams (%s)",
				    args->opts[i].name, u->is_unix ? "--dgram" :
				    "-u"));
		}
	}
	if (u->is_unix && (cmd_has(u->ctx, OPT_SOURCE) ||
	    cmd_has(u->ctx, OPT_SOURCE_PORT) || cmd_has(u->ctx, OPT_RESOLVE)))
		return (cmd_fail(u->ctx, EXIT_USAGE, "--source, --source-port "
		    "and --resolve are for UDP"));
	return (0);
}

/* HOST PORT or PATH, -s and -p. */
static int
udp_check_target(struct uconn *u)
{
	struct cmd_ctx	*ctx = u->ctx;
	char		**pos = ctx->args->pos, msg[300], hp[300];
	const char	*cause, *sp = cmd_get(ctx, OPT_SOURCE_PORT);
	int		 port;

	if (ctx->args->npos != (u->is_unix ? 1 : 2))
		return (cmd_fail(ctx, EXIT_USAGE, "missing %s", u->is_unix ?
		    "PATH" : ctx->args->npos == 0 ? "HOST PORT" : "PORT"));
	if (u->is_unix) {
		if (cmd_check_unix_path(ctx, pos[0]) != 0)
			return (ctx->exit_code);
		u->label = xstrdup(pos[0]);
		return (0);
	}
	if (*pos[0] == '\0')
		return (cmd_fail(ctx, EXIT_USAGE, "empty host name"));
	if ((port = parse_port(pos[1], 0, &cause)) == -1)
		return (cmd_fail(ctx, EXIT_USAGE, "%s", parse_port_error(pos[1],
		    cause, msg, sizeof msg)));
	snprintf(u->port, sizeof u->port, "%d", port);
	xasprintf(&u->label, "%s", net_hostport(pos[0], u->port, hp,
	    sizeof hp));
	if (sp != NULL) {
		if ((port = parse_port(sp, 0, &cause)) == -1)
			return (cmd_fail(ctx, EXIT_USAGE, "--source-port %s",
			    parse_port_error(sp, cause, msg, sizeof msg)));
		snprintf(u->src_port, sizeof u->src_port, "%d", port);
	}
	if (cmd_has(ctx, OPT_SOURCE) && *cmd_get(ctx, OPT_SOURCE) == '\0')
		return (cmd_fail(ctx, EXIT_USAGE, "--source: empty address"));
	return (cmd_reach_resolve(ctx));
}

/* A --send over the largest datagram: refused before anything is sent. */
static int
udp_check_sizes(struct uconn *u, size_t max)
{
	size_t	i;

	for (i = 0; i < u->nsends; i++) {
		if (max > 0 && u->sends[i].len > max)
			return (cmd_fail(u->ctx, EXIT_USAGE, "a datagram of %zu "
			    "bytes is over the largest %s payload, %zu bytes",
			    u->sends[i].len, max == DGRAM_MAX_IPV4 ? "IPv4" :
			    "IPv6", max));
	}
	return (0);
}

static void
udp_progress_count_cb(void *arg, unsigned long long *sent,
    unsigned long long *received)
{
	struct uconn	*u = arg;

	if (u->d == NULL)
		return;
	*sent = dgram_bytes_out(u->d);
	*received = dgram_bytes_in(u->d);
}

/* -x and --progress. */
static int
udp_setup_output(struct uconn *u)
{
	struct stream_error	 err;
	const char		*path = cmd_get(u->ctx, OPT_HEX_DUMP);
	const char		*v = cmd_get(u->ctx, OPT_PROGRESS);
	long long		 size = 0;
	size_t			 i;
	int			 mode;

	if (path != NULL && (u->hd = hexdump_open(path, &err)) == NULL)
		return (cmd_fail(u->ctx, EXIT_NET, "--hex-dump %s", err.msg));
	if (!cmd_has(u->ctx, OPT_PROGRESS))
		return (0);
	if ((mode = progress_mode(v)) == -1)
		return (cmd_fail(u->ctx, EXIT_USAGE,
		    "--progress=%s: only --progress=always is known", v));
	for (i = 0; i < u->nsends; i++)
		size += (long long)u->sends[i].len;
	if (u->from_stdin)
		size = progress_fd_size(STDIN_FILENO);
	u->progress = progress_start(u->ctx->base, mode,
	    PROGRESS_SENT | PROGRESS_RECEIVED, size, udp_progress_count_cb, u);
	return (0);
}

/* The socket, then the transport and stdio on it. */
static int
udp_open(struct uconn *u)
{
	struct cmd_ctx		*ctx = u->ctx;
	struct stream_opts	 opts;
	struct stream_error	 err;
	char			 peer[128] = "", local[128] = "";
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	int			 fd;

	if (u->is_unix)
		fd = dgram_connect_unix(u->label, &err);
	else
		fd = dgram_connect_udp(ctx->args->pos[0], u->port,
		    ctx->g->family, cmd_get(ctx, OPT_SOURCE),
		    u->src_port[0] != '\0' ? u->src_port : NULL, &u->family,
		    &err);
	if (fd == -1)
		return (cmd_fail_stream(ctx, &err));
	u->maxsize = dgram_max_payload(u->family);
	if (udp_check_sizes(u, u->maxsize) != 0) {
		close(fd);
		return (ctx->exit_code);
	}
	if (log_verbose()) {
		if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
			net_format_addr((struct sockaddr *)&ss, len, peer,
			    sizeof peer);
		net_format_sockname(fd, local, sizeof local);
		log_event("connected", "peer", peer, "local", local,
		    (char *)NULL);
	}
	u->recvsize = ctx->g->limit > DGRAM_RECV_MIN ? ctx->g->limit :
	    DGRAM_RECV_MIN;
	u->d = dgram_new(ctx->base, fd, u->label, u->recvsize, udp_recv_cb,
	    udp_error_cb, udp_writable_cb, u);
	udp_set_recvsize(u);
	cmd_stream_opts(ctx, &opts);
	opts.idle_timeout = 0;		/* ours, on the datagrams */
	u->io = stream_open_fds(ctx->base, STDIN_FILENO, STDOUT_FILENO, &opts,
	    &err);
	if (u->io == NULL)
		return (cmd_fail(ctx, cmd_exit_code(&err), "stdio: %s",
		    err.msg));
	return (0);
}

static void
udp_free(struct uconn *u)
{
	size_t	i;
	char	sent[32], received[32], nsent[32], nreceived[32];

	if (u->d != NULL && log_verbose()) {
		snprintf(sent, sizeof sent, "%llu", dgram_bytes_out(u->d));
		snprintf(received, sizeof received, "%llu",
		    dgram_bytes_in(u->d));
		snprintf(nsent, sizeof nsent, "%llu", dgram_count_out(u->d));
		snprintf(nreceived, sizeof nreceived, "%llu",
		    dgram_count_in(u->d));
		log_event("closed", "sent", sent, "received", received,
		    "datagrams_sent", nsent, "datagrams_received", nreceived,
		    (char *)NULL);
	}
	progress_finish(u->progress);
	if (u->timer != NULL)
		event_free(u->timer);
	dgram_free(u->d);
	if (u->io != NULL)
		stream_abort(u->io);
	for (i = 0; i < u->nsends; i++)
		free(u->sends[i].data);
	free(u->sends);
	for (i = 0; i < u->nreads; i++)
		free(u->reads[i].sep);
	free(u->reads);
	free(u->label);
	resolve_clear();
}

int
udp_connect_run(struct cmd_ctx *ctx, int is_unix)
{
	struct uconn	u;
	int		rc;

	memset(&u, 0, sizeof u);
	u.ctx = ctx;
	u.is_unix = is_unix;
	u.family = AF_UNIX;
	u.idle = ctx->g->idle_timeout;
	u.wait = u.idle > 0 ? u.idle : UDP_WAIT;
	if ((rc = udp_check_options(&u)) != 0 ||
	    (rc = udp_check_target(&u)) != 0 ||
	    (rc = udp_plan(&u)) != 0 ||
	    (rc = udp_check_sizes(&u, is_unix ? 0 : DGRAM_MAX_IPV6)) != 0 ||
	    (rc = udp_setup_output(&u)) != 0 ||
	    (rc = udp_open(&u)) != 0)
		goto out;
	u.timer = evtimer_new(ctx->base, udp_timer_cb, &u);
	udp_arm_timer(&u);
	udp_send_next(&u);
	if (!u.flushed)
		event_base_dispatch(ctx->base);
	rc = u.code;
	if (hexdump_close(u.hd) == -1 && rc == 0)
		rc = cmd_fail(ctx, EXIT_NET, "--hex-dump %s: %s",
		    cmd_get(ctx, OPT_HEX_DUMP), strerror(errno));
	u.hd = NULL;
out:
	(void)hexdump_close(u.hd);
	udp_free(&u);
	return (rc);
}
