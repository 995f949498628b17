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
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "dgram.h"
#include "log.h"
#include "net.h"
#include "progress.h"
#include "serve.h"
#include "xmalloc.h"

/*
 * serve -u [HOST] PORT and unix-serve --dgram PATH: datagrams from any
 * sender, on the datagram transport (dgram.c). There are no connections,
 * so a "peer" is a sender address, remembered from its first datagram
 * (-v: a "peer" event) until the end (-v: a "closed" event with its
 * counts), or until --max-conns newer ones push the least recently
 * heard out, or until it is silent for --idle-timeout.
 *
 * Modes: --echo sends each datagram back to its sender; --discard counts
 * them; the default writes every payload to stdout and sends each line of
 * stdin, as one datagram, to a peer: without -k the first peer, the only
 * one heard from then on (nc -lu locks on it the same way); with -k the
 * peer that spoke last. stdin is read only once there is a peer to send
 * to, and a datagram waits in the transport's slot while the socket is
 * full, which stops stdin (or, for --echo, the receiving) until it left.
 */

struct upeer {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 name[128];
	struct dgram		*sock;		/* the socket it spoke to */
	unsigned long long	 n_in, n_out, b_in, b_out;
	time_t			 last;		/* heard from, for --idle-timeout */
	struct hexdump_dir	 hd_sent;
	struct hexdump_dir	 hd_received;
	TAILQ_ENTRY(upeer)	 entry;		/* most recently heard first */
};
TAILQ_HEAD(upeers, upeer);

struct userve {
	struct serve		*sv;
	struct cmd_ctx		*ctx;
	enum serve_mode		 mode;
	struct dgram		**socks;
	size_t			 nsocks;
	const char		*path;		/* unix: the file to remove */
	dev_t			 dev;
	ino_t			 ino;
	struct upeers		 peers;
	unsigned int		 npeers;
	unsigned int		 maxpeers;
	struct upeer		*target;	/* where stdin's lines go */
	int			 locked;	/* no -k: the first peer only */
	struct stream		*io;
	int			 stdin_started;
	int			 reading_stdin;
	int			 stdin_eof;
	int			 out_paused;	/* stdout full: not receiving */
	struct event		*ev_sig[3];
	struct event		*ev_idle;
	struct event		*ev_grace;
	struct hexdump		*hd;
	struct progress		*progress;
	unsigned long long	 gone_in, gone_out;	/* forgotten peers */
	int			 code;
};

static const int udp_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NSIGNALS	(sizeof udp_signals / sizeof udp_signals[0])
#define UDP_GRACE_SECONDS	5

static void	userve_stdin_next(struct userve *);

/* -v: a peer's counts, as it is forgotten or at the end. */
static void
userve_forget(struct userve *us, struct upeer *p)
{
	char	sent[32], received[32], nsent[32], nreceived[32];

	snprintf(sent, sizeof sent, "%llu", p->b_out);
	snprintf(received, sizeof received, "%llu", p->b_in);
	snprintf(nsent, sizeof nsent, "%llu", p->n_out);
	snprintf(nreceived, sizeof nreceived, "%llu", p->n_in);
	log_event("closed", "peer", p->name, "sent", sent, "received",
	    received, "datagrams_sent", nsent, "datagrams_received", nreceived,
	    (char *)NULL);
	us->gone_in += p->b_in;
	us->gone_out += p->b_out;
	if (us->target == p)
		us->target = NULL;
	TAILQ_REMOVE(&us->peers, p, entry);
	us->npeers--;
	free(p);
}

static struct upeer *
userve_find(struct userve *us, const struct dgram_msg *m)
{
	struct upeer	*p;

	TAILQ_FOREACH(p, &us->peers, entry) {
		if (p->len == m->fromlen && memcmp(&p->ss, m->from,
		    m->fromlen) == 0)
			return (p);
	}
	return (NULL);
}

static struct upeer *
userve_new_peer(struct userve *us, struct dgram *d, const struct dgram_msg *m)
{
	struct upeer	*p;

	/* Bounded: the least recently heard makes room (--max-conns). */
	if (us->npeers >= us->maxpeers)
		userve_forget(us, TAILQ_LAST(&us->peers, upeers));
	p = xcalloc(1, sizeof *p);
	memcpy(&p->ss, m->from, m->fromlen);
	p->len = m->fromlen;
	p->sock = d;
	net_format_addr((const struct sockaddr *)m->from, m->fromlen, p->name,
	    sizeof p->name);
	if (p->name[0] == '\0')		/* a unix sender with no name */
		snprintf(p->name, sizeof p->name, "unnamed");
	TAILQ_INSERT_HEAD(&us->peers, p, entry);
	us->npeers++;
	log_event("peer", "peer", p->name, (char *)NULL);
	return (p);
}

/* Can a datagram go back? A unix sender that never bound cannot. */
static int
userve_addressable(const struct upeer *p)
{
	return (p->len > sizeof(sa_family_t));
}

static void
userve_send(struct userve *us, struct upeer *p, const char *data, size_t len)
{
	struct stream_error	err;

	if (!userve_addressable(p))
		return;
	if (us->hd != NULL)
		hexdump_mem(us->hd, p->name, 1, &p->hd_sent, data, len);
	if (dgram_send(p->sock, data, len, (struct sockaddr *)&p->ss, p->len,
	    &err) != 0) {
		/* One peer's failure (EMSGSIZE, ENOBUFS) is not the end. */
		log_warnx("%s: %s", us->ctx->entry->name, err.msg);
		return;
	}
	p->n_out++;
	p->b_out += len;
}

static void
userve_pause_all(struct userve *us, int on)
{
	size_t	i;

	for (i = 0; i < us->nsocks; i++)
		dgram_pause(us->socks[i], on);
}

static void
userve_drained_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct userve	*us = arg;

	if (err->kind != STREAM_OK) {
		us->code = cmd_fail(us->ctx, EXIT_NET, "stdout: %s", err->msg);
		event_base_loopbreak(us->ctx->base);
		return;
	}
	us->out_paused = 0;
	userve_pause_all(us, 0);
}

/* The default modes: the payload to stdout, stdin now has a peer. */
static void
userve_output(struct userve *us, const char *data, size_t len)
{
	if (len > 0 && stream_write(us->io, data, len) != 0) {
		us->code = cmd_fail(us->ctx, EXIT_NET, "stdout: write failed");
		event_base_loopbreak(us->ctx->base);
		return;
	}
	if (!us->out_paused && stream_write_paused(us->io)) {
		us->out_paused = 1;
		userve_pause_all(us, 1);
		stream_drain(us->io, userve_drained_cb, us);
	}
	if (!us->stdin_started) {
		us->stdin_started = 1;
		userve_stdin_next(us);
	}
}

/* Admitted by --allow/--deny, and by the lock on the first peer. */
static struct upeer *
userve_admit(struct userve *us, struct dgram *d, const struct dgram_msg *m)
{
	struct upeer	*p;
	char		 name[128];

	if (us->sv->acl.n > 0 && !acl_permits(&us->sv->acl, m->from)) {
		if (log_verbose()) {
			net_format_addr((const struct sockaddr *)m->from,
			    m->fromlen, name, sizeof name);
			log_event("denied", "peer", name, (char *)NULL);
		}
		return (NULL);
	}
	if ((p = userve_find(us, m)) != NULL)
		return (p);
	if (us->locked && us->target != NULL) {
		if (log_verbose()) {
			net_format_addr((const struct sockaddr *)m->from,
			    m->fromlen, name, sizeof name);
			log_event("ignored", "peer", name, (char *)NULL);
		}
		return (NULL);
	}
	return (userve_new_peer(us, d, m));
}

static void
userve_recv_cb(struct dgram *d, const struct dgram_msg *m, void *arg)
{
	struct userve	*us = arg;
	struct upeer	*p;

	if ((p = userve_admit(us, d, m)) == NULL)
		return;
	if (m->full > m->len) {		/* reported, never cut in silence */
		log_warnx("%s: a datagram of %zu bytes from %s is over the "
		    "receive size, %zu (--limit): dropped",
		    us->ctx->entry->name, m->full, p->name, m->len);
		return;
	}
	p->n_in++;
	p->b_in += m->len;
	p->last = time(NULL);
	if (p != TAILQ_FIRST(&us->peers)) {
		TAILQ_REMOVE(&us->peers, p, entry);
		TAILQ_INSERT_HEAD(&us->peers, p, entry);
	}
	if (us->hd != NULL)
		hexdump_mem(us->hd, p->name, 0, &p->hd_received, m->data,
		    m->len);
	switch (us->mode) {
	case MODE_ECHO:
		userve_send(us, p, m->data, m->len);
		if (dgram_blocked(d))
			dgram_pause(d, 1);	/* until the echo left */
		break;
	case MODE_DISCARD:
		break;
	default:
		if (us->target == NULL || !us->locked)
			us->target = p;
		userve_output(us, m->data, m->len);
		break;
	}
}

static void
userve_error_cb(struct dgram *d, const struct stream_error *err, void *arg)
{
	struct userve	*us = arg;

	log_warnx("%s: %s", us->ctx->entry->name, err->msg);
}

static void
userve_writable_cb(struct dgram *d, void *arg)
{
	struct userve	*us = arg;

	if (us->mode == MODE_ECHO)
		dgram_pause(d, 0);
	else
		userve_stdin_next(us);
}

/* A line of stdin, one datagram to the peer of the moment. */
static void
userve_line_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct userve	*us = arg;
	size_t		 len = evbuffer_get_length(data);
	char		*line;

	us->reading_stdin = 0;
	if (err->kind == STREAM_ELIMIT) {
		log_warnx("%s: stdin: a line longer than --limit: dropped",
		    us->ctx->entry->name);
		userve_stdin_next(us);
		return;
	}
	if (err->kind != STREAM_OK && err->kind != STREAM_EINCOMPLETE) {
		log_warnx("%s: stdin: %s", us->ctx->entry->name, err->msg);
		us->stdin_eof = 1;
		return;
	}
	/* readline hands over the partial line at EOF, as asyncio's. */
	line = (char *)evbuffer_pullup(data, -1);
	if (len == 0 || line[len - 1] != '\n')
		us->stdin_eof = 1;
	if (len > 0 && us->target != NULL)
		userve_send(us, us->target, line, len);
	userve_stdin_next(us);
}

/* stdin's next line, when there is a peer and room to send it. */
static void
userve_stdin_next(struct userve *us)
{
	if (us->stdin_eof || us->reading_stdin || us->target == NULL ||
	    dgram_blocked(us->target->sock))
		return;
	us->reading_stdin = 1;
	stream_readline(us->io, userve_line_cb, us);
}

static void
userve_flushed_cb(struct stream *s, const struct stream_error *err,
    void *arg)
{
	event_base_loopbreak(((struct userve *)arg)->ctx->base);
}

static void
userve_grace_cb(evutil_socket_t fd, short events, void *arg)
{
	event_base_loopbreak(((struct userve *)arg)->ctx->base);
}

/* A signal: stdout flushed (at most the grace period), then exit 0. */
static void
userve_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct userve	*us = arg;
	struct timeval	 tv = { UDP_GRACE_SECONDS, 0 };

	log_event("signal", "name", sig == SIGINT ? "INT" : sig == SIGHUP ?
	    "HUP" : "TERM", (char *)NULL);
	if (us->ev_grace != NULL || us->io == NULL) {
		event_base_loopbreak(us->ctx->base);
		return;
	}
	userve_pause_all(us, 1);
	us->ev_grace = evtimer_new(us->ctx->base, userve_grace_cb, us);
	evtimer_add(us->ev_grace, &tv);
	stream_flush(us->io, userve_flushed_cb, us);
}

/* --idle-timeout: a silent peer is forgotten; the locked one ends it. */
static void
userve_idle_cb(evutil_socket_t fd, short events, void *arg)
{
	struct userve	*us = arg;
	struct upeer	*p;
	time_t		 now = time(NULL);
	double		 idle = us->ctx->g->idle_timeout;

	while ((p = TAILQ_LAST(&us->peers, upeers)) != NULL &&
	    difftime(now, p->last) >= idle) {
		if (us->locked && us->mode == MODE_RELAY) {
			us->code = cmd_fail(us->ctx, EXIT_TIMEOUT, "%s: idle "
			    "timeout (%.3g s without traffic)", p->name, idle);
			event_base_loopbreak(us->ctx->base);
			return;
		}
		log_event("timeout", "peer", p->name, (char *)NULL);
		userve_forget(us, p);
	}
}

static void
userve_signals_start(struct userve *us)
{
	struct sigaction	sa;
	struct timeval		tv = { 1, 0 };
	size_t			i;

	for (i = 0; i < NSIGNALS; i++) {
		/* Ignored at start stays ignored, as serve (cmd-serve.c). */
		if (sigaction(udp_signals[i], NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN)
			continue;
		us->ev_sig[i] = evsignal_new(us->ctx->base, udp_signals[i],
		    userve_signal_cb, us);
		if (us->ev_sig[i] != NULL)
			evsignal_add(us->ev_sig[i], NULL);
	}
	if (us->ctx->g->idle_timeout > 0) {
		us->ev_idle = event_new(us->ctx->base, -1, EV_PERSIST,
		    userve_idle_cb, us);
		event_add(us->ev_idle, &tv);
	}
}

/* Modes and options: what datagrams can do, the rest refused. */
static int
userve_parse(struct userve *us, int is_unix)
{
	static const int	 bad[] = { OPT_EXEC, OPT_SH_EXEC, OPT_BROKER,
				    OPT_WORKERS, OPT_TLS, OPT_CERT, OPT_KEY };
	struct cmd_ctx		*ctx = us->ctx;
	struct cmd_args		*args = ctx->args;
	size_t			 i, j;
	int			 n = 0;

	if (cmd_has(ctx, OPT_DGRAM) && !is_unix)
		return (cmd_fail(ctx, EXIT_USAGE, "--dgram is for unix-serve;"
		    " UDP is -u"));
	for (i = 0; i < args->nopts; i++) {
		for (j = 0; j < sizeof bad / sizeof bad[0]; j++) {
			if (args->opts[i].id == bad[j])
				return (cmd_fail(ctx, EXIT_USAGE, "%s cannot "
				    "be used with datagrams (%s)",
				    args->opts[i].name, is_unix ? "--dgram" :
				    "-u"));
		}
	}
	us->mode = MODE_RELAY;
	if (cmd_has(ctx, OPT_ECHO))
		us->mode = MODE_ECHO, n++;
	if (cmd_has(ctx, OPT_DISCARD))
		us->mode = MODE_DISCARD, n++;
	if (cmd_has(ctx, OPT_KEEP_OPEN))
		us->mode = MODE_KEEP_OPEN, n++;
	if (n > 1)
		return (cmd_fail(ctx, EXIT_USAGE, "--echo, --discard and -k "
		    "are modes: one at a time"));
	us->locked = us->mode == MODE_RELAY;
	us->maxpeers = us->sv->opts.max_conns;
	if (cmd_has(ctx, OPT_PROGRESS) &&
	    progress_mode(cmd_get(ctx, OPT_PROGRESS)) == -1)
		return (cmd_fail(ctx, EXIT_USAGE, "--progress=%s: only "
		    "--progress=always is known", cmd_get(ctx, OPT_PROGRESS)));
	return (0);
}

/* The bound sockets, each on the transport; "Serving on" each. */
static int
userve_bind(struct userve *us, const char *host, const char *port,
    int is_unix)
{
	struct stream_error	 err;
	struct cmd_ctx		*ctx = us->ctx;
	int			*fds = NULL, fd;
	size_t			 n = 0, i, recvsize;
	char			 addr[256];

	if (is_unix) {
		fd = net_bind_unix_dgram(port, us->sv->opts.unix_mode, &us->dev,
		    &us->ino, &err);
		if (fd == -1)
			return (cmd_fail_stream(ctx, &err));
		us->path = port;
		fds = xmalloc(sizeof *fds);
		fds[n++] = fd;
	} else if (net_listen_udp(host, port, ctx->g->family, &fds, &n,
	    &err) != 0)
		return (cmd_fail_stream(ctx, &err));
	recvsize = ctx->g->limit > DGRAM_RECV_MIN ? ctx->g->limit :
	    DGRAM_RECV_MIN;
	us->socks = xreallocarray(NULL, n, sizeof *us->socks);
	for (i = 0; i < n; i++) {
		if (is_unix)
			snprintf(addr, sizeof addr, "%s", port);
		else
			net_format_sockname(fds[i], addr, sizeof addr);
		us->socks[i] = dgram_new(ctx->base, fds[i], addr, recvsize,
		    userve_recv_cb, userve_error_cb, userve_writable_cb, us);
		if (!ctx->g->quiet)
			fprintf(stderr, "Serving on %s\n", addr);
	}
	us->nsocks = n;
	free(fds);
	return (0);
}

static void
userve_progress_count_cb(void *arg, unsigned long long *sent,
    unsigned long long *received)
{
	struct userve	*us = arg;
	struct upeer	*p;

	*sent = us->gone_out;
	*received = us->gone_in;
	TAILQ_FOREACH(p, &us->peers, entry) {
		*sent += p->b_out;
		*received += p->b_in;
	}
}

static int
userve_start_io(struct userve *us)
{
	struct stream_error	err;
	struct stream_opts	opts;
	const char		*path = cmd_get(us->ctx, OPT_HEX_DUMP);

	if (path != NULL && (us->hd = hexdump_open(path, &err)) == NULL)
		return (cmd_fail(us->ctx, EXIT_NET, "--hex-dump %s", err.msg));
	if (us->mode == MODE_RELAY || us->mode == MODE_KEEP_OPEN) {
		opts = us->sv->opts;
		opts.idle_timeout = 0;	/* ours, per peer */
		us->io = stream_open_fds(us->ctx->base, STDIN_FILENO,
		    STDOUT_FILENO, &opts, &err);
		if (us->io == NULL)
			return (cmd_fail(us->ctx, EXIT_NET, "stdio: %s",
			    err.msg));
	}
	if (cmd_has(us->ctx, OPT_PROGRESS))
		us->progress = progress_start(us->ctx->base,
		    progress_mode(cmd_get(us->ctx, OPT_PROGRESS)),
		    us->mode == MODE_DISCARD ? PROGRESS_RECEIVED :
		    PROGRESS_SENT | PROGRESS_RECEIVED, -1,
		    userve_progress_count_cb, us);
	return (0);
}

static void
userve_free(struct userve *us)
{
	size_t	i;

	while (!TAILQ_EMPTY(&us->peers))
		userve_forget(us, TAILQ_FIRST(&us->peers));
	progress_finish(us->progress);
	for (i = 0; i < us->nsocks; i++)
		dgram_free(us->socks[i]);
	free(us->socks);
	if (us->path != NULL)
		net_unlink_unix(us->path, us->dev, us->ino);
	if (us->io != NULL)
		stream_abort(us->io);
	for (i = 0; i < NSIGNALS; i++) {
		if (us->ev_sig[i] != NULL)
			event_free(us->ev_sig[i]);
	}
	if (us->ev_idle != NULL)
		event_free(us->ev_idle);
	if (us->ev_grace != NULL)
		event_free(us->ev_grace);
	(void)hexdump_close(us->hd);
}

int
udp_serve_run(struct serve *sv, const char *host, const char *port,
    int is_unix)
{
	struct userve	us;
	int		rc;

	memset(&us, 0, sizeof us);
	us.sv = sv;
	us.ctx = sv->ctx;
	TAILQ_INIT(&us.peers);
	if ((rc = userve_parse(&us, is_unix)) == 0 &&
	    (rc = userve_bind(&us, host, port, is_unix)) == 0 &&
	    (rc = userve_start_io(&us)) == 0) {
		userve_signals_start(&us);
		event_base_dispatch(us.ctx->base);
		rc = us.code;
	}
	userve_free(&us);
	return (rc);
}
