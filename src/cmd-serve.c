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

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "cstream.h"
#include "hexdump.h"

/*
 * serve [HOST] PORT and unix-serve PATH: listen, and give each client to
 * the mode: one client relayed with stdio (nc -l), many with stdio
 * (--keep-open), echo, discard, a child process per client (--exec), or
 * every client to every other (--broker).
 */

extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_unix_serve_entry;

enum {
	OPT_KEEP_OPEN = 1,
	OPT_ECHO,
	OPT_DISCARD,
	OPT_EXEC,
	OPT_SH_EXEC,
	OPT_BROKER,
	OPT_MAX_CONNS,
	OPT_ALLOW,
	OPT_DENY,
	OPT_WORKERS,
	OPT_TLS,
	OPT_CERT,
	OPT_KEY,
	OPT_MODE,
	OPT_HEX_DUMP
};

static const struct cmd_option serve_options[] = {
	{ "hex-dump", 'x', CMD_ARG_REQUIRED, OPT_HEX_DUMP, "FILE",
	  "hex dump of every client's bytes to FILE (- for stderr)" },
	{ "keep-open", 'k', CMD_ARG_NONE, OPT_KEEP_OPEN, NULL,
	  "many clients at once, relayed with stdin/stdout" },
	{ "echo", 0, CMD_ARG_NONE, OPT_ECHO, NULL,
	  "send every client's bytes back to it" },
	{ "discard", 0, CMD_ARG_NONE, OPT_DISCARD, NULL,
	  "read and drop every client's bytes" },
	{ "exec", 0, CMD_ARG_REQUIRED, OPT_EXEC, "\"CMD ARGS\"",
	  "run CMD per client with the socket as its stdin/stdout" },
	{ "sh-exec", 0, CMD_ARG_REQUIRED, OPT_SH_EXEC, "\"CMD\"",
	  "the same through /bin/sh -c" },
	{ "broker", 0, CMD_ARG_NONE, OPT_BROKER, NULL,
	  "send every client's bytes to every other client" },
	{ "max-conns", 0, CMD_ARG_REQUIRED, OPT_MAX_CONNS, "N",
	  "at most N clients at once (default 1024)" },
	{ "allow", 0, CMD_ARG_REQUIRED, OPT_ALLOW, "SPEC",
	  "accept only clients from this address or CIDR" },
	{ "deny", 0, CMD_ARG_REQUIRED, OPT_DENY, "SPEC",
	  "refuse clients from this address or CIDR" },
	{ "workers", 0, CMD_ARG_REQUIRED, OPT_WORKERS, "N",
	  "N processes on one port (echo, discard, exec, sh-exec)" },
	{ "tls", 0, CMD_ARG_NONE, OPT_TLS, NULL, "TLS server" },
	{ "cert", 0, CMD_ARG_REQUIRED, OPT_CERT, "FILE",
	  "TLS certificate chain (PEM)" },
	{ "key", 0, CMD_ARG_REQUIRED, OPT_KEY, "FILE",
	  "TLS private key (PEM)" },
	{ "mode", 0, CMD_ARG_REQUIRED, OPT_MODE, "OCTAL",
	  "unix-serve: the socket file's permissions" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

#define SERVE_MAX_CONNS_DEFAULT	1024
#define SERVE_GRACE_SECONDS	5

enum serve_mode {
	MODE_RELAY,
	MODE_KEEP_OPEN,
	MODE_ECHO,
	MODE_DISCARD,
	MODE_EXEC,
	MODE_BROKER
};

/* --allow / --deny: one address or CIDR block. */
struct acl {
	int		 family;
	unsigned char	 addr[16];
	int		 bits;
	int		 allow;
};

struct client;

/*
 * A writer that several readers feed (stdout with --keep-open, a client
 * with --broker). A reader that finds it over its high-water mark waits
 * here; one drain resumes every waiter.
 */
struct waiter {
	struct client		*who;		/* NULL: the stdin reader */
	TAILQ_ENTRY(waiter)	 entry;
};
TAILQ_HEAD(waiters, waiter);

struct client {
	struct serve		*sv;
	struct stream		*s;
	struct pump		*pump;
	struct relay		*relay;
	struct stream		*pair;		/* --exec over TLS: the child's end */
	char			 peer[128];
	struct hexdump_conn	 hdc;		/* -x */
	int			 blocked;	/* drains it waits for */
	int			 draining;	/* its own drain is pending */
	struct waiters		 waiters;	/* readers waiting on its drain */
	int			 closing;
	int			 read_eof;	/* -k: it half-closed */
	TAILQ_ENTRY(client)	 entry;
};
TAILQ_HEAD(clients, client);

struct serve {
	struct cmd_ctx		*ctx;
	struct stream_opts	 opts;
	enum serve_mode		 mode;
	struct stream_server	*srv;
	struct stream		*io;		/* stdio, relay and keep-open */
	int			 io_draining;
	struct waiters		 io_waiters;
	int			 stdin_blocked;
	int			 stdin_done;
	struct clients		 clients;
	unsigned int		 nclients;
	unsigned int		 nflushing;	/* closes still flushing */
	struct acl		*acls;
	size_t			 nacls;
	int			 has_allow;
	char			**argv;		/* --exec */
	struct event		*ev_int;
	struct event		*ev_term;
	struct event		*ev_chld;
	struct event		*ev_grace;
	long long		 workers;	/* --workers, 1 without */
	int			 stopping;
	int			 code;
	int			 done;
	struct hexdump		*hd;		/* -x */
};

static void	serve_stop(struct serve *, const struct stream_error *);

/* Parse "ADDR" or "ADDR/BITS" (IPv4 or IPv6); 0, or -1 with *cause. */
static int
acl_parse(const char *spec, int allow, struct acl *a, const char **cause)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	long long	 bits;
	int		 max;

	memset(a, 0, sizeof *a);
	a->allow = allow;
	if (strlen(spec) >= sizeof buf) {
		*cause = "not an address or CIDR block";
		return (-1);
	}
	strlcpy(buf, spec, sizeof buf);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, a->addr) == 1) {
		a->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		a->family = AF_INET6;
		max = 128;
	} else {
		*cause = "not an address or CIDR block";
		return (-1);
	}
	a->bits = max;
	if (slash != NULL) {
		if (parse_count(slash, 0, max, &bits, cause) != 0) {
			*cause = "bad prefix length";
			return (-1);
		}
		a->bits = (int)bits;
	}
	return (0);
}

static int
acl_match(const struct acl *a, const struct sockaddr_storage *ss)
{
	const unsigned char	*p;
	const struct in6_addr	*a6;
	int			 full, rest;

	if (ss->ss_family == AF_INET6) {
		a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		/* ::ffff:10.0.0.1 is 10.0.0.1 for an IPv4 rule. */
		if (a->family == AF_INET && IN6_IS_ADDR_V4MAPPED(a6))
			p = (const unsigned char *)a6 + 12;
		else if (a->family == AF_INET6)
			p = (const unsigned char *)a6;
		else
			return (0);
	} else if (ss->ss_family == AF_INET && a->family == AF_INET)
		p = (const unsigned char *)&((const struct sockaddr_in *)ss)->sin_addr;
	else
		return (0);
	full = a->bits / 8;
	rest = a->bits % 8;
	if (memcmp(p, a->addr, full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	return (((p[full] ^ a->addr[full]) & (0xff << (8 - rest))) == 0);
}

/*
 * Any --deny that matches refuses; with --allow given, a client must
 * match one of them (ncat's rules).
 */
static int
serve_permitted(struct serve *sv, struct stream *s)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;
	size_t			i;
	int			allowed = !sv->has_allow;

	if (sv->nacls == 0)
		return (1);
	if (stream_peer_addr(s, &ss, &len) != 0)
		return (0);
	for (i = 0; i < sv->nacls; i++) {
		if (!acl_match(&sv->acls[i], &ss))
			continue;
		if (!sv->acls[i].allow)
			return (0);
		allowed = 1;
	}
	return (allowed);
}

#define SERVE_CHUNK	(4 * 1024 * 1024)

static void	client_read(struct client *);
static void	stdin_read(struct serve *);

static void
client_log_closed(struct client *cl)
{
	char	sent[32], received[32];

	if (!log_verbose())
		return;
	snprintf(sent, sizeof sent, "%llu", stream_bytes_out(cl->s));
	snprintf(received, sizeof received, "%llu", stream_bytes_in(cl->s));
	log_event("closed", "peer", cl->peer, "sent", sent, "received",
	    received, (char *)NULL);
}

/* Resume a reader once nothing it wrote to is over its high-water mark. */
static void
waiter_resume(struct serve *sv, struct client *who)
{
	if (who == NULL) {
		if (--sv->stdin_blocked == 0)
			stdin_read(sv);
		return;
	}
	if (--who->blocked == 0 && !who->closing)
		client_read(who);
}

static void
waiters_wake(struct serve *sv, struct waiters *wl)
{
	struct waiter	*w;

	while ((w = TAILQ_FIRST(wl)) != NULL) {
		TAILQ_REMOVE(wl, w, entry);
		waiter_resume(sv, w->who);
		free(w);
	}
}

/* Forget a closing client's place in every queue it waits in. */
static void
waiters_forget(struct waiters *wl, struct client *who)
{
	struct waiter	*w, *next;

	for (w = TAILQ_FIRST(wl); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->who == who) {
			TAILQ_REMOVE(wl, w, entry);
			free(w);
		}
	}
}

static void
client_drained_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct client	*cl = arg;

	cl->draining = 0;
	waiters_wake(cl->sv, &cl->waiters);
}

static void
io_drained_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct serve	*sv = arg;

	sv->io_draining = 0;
	if (err->kind != STREAM_OK) {
		serve_stop(sv, err);
		return;
	}
	waiters_wake(sv, &sv->io_waiters);
}

/* who (a client, or NULL for stdin) waits until target drains. */
static void
wait_on(struct serve *sv, struct client *target, struct client *who)
{
	struct waiter	*w = xcalloc(1, sizeof *w);

	w->who = who;
	if (who == NULL)
		sv->stdin_blocked++;
	else
		who->blocked++;
	if (target == NULL) {
		TAILQ_INSERT_TAIL(&sv->io_waiters, w, entry);
		if (!sv->io_draining) {
			sv->io_draining = 1;
			stream_drain(sv->io, io_drained_cb, sv);
		}
		return;
	}
	TAILQ_INSERT_TAIL(&target->waiters, w, entry);
	if (!target->draining) {
		target->draining = 1;
		stream_drain(target->s, client_drained_cb, target);
	}
}

/* Stopping ends the loop once every client is gone and flushed. */
static void
serve_maybe_done(struct serve *sv)
{
	if (sv->stopping && sv->nclients == 0 && sv->nflushing == 0)
		event_base_loopbreak(sv->ctx->base);
}

static void
serve_flushed_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct serve	*sv = arg;

	sv->nflushing--;
	serve_maybe_done(sv);
}

static void
client_free_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client	*cl = arg;
	struct serve	*sv = cl->sv;

	if (cl->pump != NULL)
		pump_free(cl->pump);
	if (cl->relay != NULL)
		relay_free(cl->relay);
	free(cl);
	serve_maybe_done(sv);
}

/*
 * Close a client: flush what is queued for it (or drop it on error),
 * release every reader that waited on it. The memory goes from the event
 * loop, after the stream callback that got us here has returned.
 */
static void
client_close(struct client *cl, int flush)
{
	struct serve	*sv = cl->sv;
	struct client	*o;

	if (cl->closing)
		return;
	cl->closing = 1;
	client_log_closed(cl);
	TAILQ_REMOVE(&sv->clients, cl, entry);
	sv->nclients--;
	waiters_forget(&sv->io_waiters, cl);
	TAILQ_FOREACH(o, &sv->clients, entry)
		waiters_forget(&o->waiters, cl);
	while (cl->blocked > 0)
		cl->blocked--;
	waiters_wake(sv, &cl->waiters);
	if (cl->pair != NULL)
		stream_abort(cl->pair);
	if (flush) {
		sv->nflushing++;
		stream_close(cl->s, serve_flushed_cb, sv);
	} else
		stream_abort(cl->s);
	cl->s = NULL;
	event_base_once(sv->ctx->base, -1, EV_TIMEOUT, client_free_cb, cl,
	    NULL);
}

/*
 * A client's end. Resets and idle timeouts are a client's business (-v
 * events); anything else is worth a warning, the server goes on.
 */
static void
client_error(struct client *cl, const struct stream_error *err)
{
	switch (err->kind) {
	case STREAM_OK:
		break;
	case STREAM_ERESET:
		log_event("reset", "peer", cl->peer, "error", err->msg,
		    (char *)NULL);
		break;
	case STREAM_ETIMEOUT:
		log_event("timeout", "peer", cl->peer, (char *)NULL);
		break;
	default:
		log_warnx("%s: %s", cl->sv->ctx->entry->name, err->msg);
		break;
	}
	client_close(cl, err->kind == STREAM_OK);
}

/* --echo and --discard end here: the pump saw EOF or an error. */
static void
client_pump_cb(struct pump *p, enum pump_side side,
    const struct stream_error *err, void *arg)
{
	client_error(arg, err);
}

static void
client_discard_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct client	*cl = arg;

	if (err->kind != STREAM_OK || evbuffer_get_length(data) == 0) {
		client_error(cl, err);
		return;
	}
	hexdump_received_cb(data, &cl->hdc);
	/* The reader empties data after we return: dropping is free. */
	stream_read(s, SERVE_CHUNK, client_discard_cb, cl);
}

/*
 * Copy data to every client but from (NULL: stdin, to all of them); from
 * waits for each one left over its high-water mark. Neither --broker nor
 * the -k stdin is a bulk path: one flat copy serves all.
 */
static void
serve_broadcast(struct serve *sv, struct evbuffer *data, struct client *from)
{
	struct client	*o;
	size_t		 len = evbuffer_get_length(data);
	unsigned char	*p = evbuffer_pullup(data, -1);

	TAILQ_FOREACH(o, &sv->clients, entry) {
		if (o == from || o->closing)
			continue;
		if (stream_write(o->s, p, len) == 0 &&
		    stream_write_buffer_size(o->s) > STREAM_WRITE_HIGH)
			wait_on(sv, o, from);
	}
}

/* Copy data to every other client (broker) or to stdout (keep-open). */
static void
client_fan_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct client	*cl = arg;
	struct serve	*sv = cl->sv;

	if (err->kind != STREAM_OK) {
		client_error(cl, err);
		return;
	}
	/*
	 * -k treats each client as a relay with the shared stdin: a client
	 * that half-closed still gets stdin until its end, then goes.
	 */
	if (evbuffer_get_length(data) == 0) {
		if (sv->mode == MODE_KEEP_OPEN && !sv->stdin_done)
			cl->read_eof = 1;
		else
			client_close(cl, 1);
		return;
	}
	if (sv->mode == MODE_KEEP_OPEN) {
		if (stream_write_buffer(sv->io, data) == -1) {
			serve_stop(sv, stream_exception(sv->io));
			return;
		}
		if (stream_write_buffer_size(sv->io) > STREAM_WRITE_HIGH)
			wait_on(sv, NULL, cl);
	} else
		serve_broadcast(sv, data, cl);
	if (cl->blocked == 0)
		client_read(cl);
}

static void
client_read(struct client *cl)
{
	stream_read(cl->s, SERVE_CHUNK, client_fan_cb, cl);
}

/* -k: stdin's end half-closes every client; those done reading go. */
static void
stdin_eof(struct serve *sv)
{
	struct client	*cl, *next;

	sv->stdin_done = 1;
	for (cl = TAILQ_FIRST(&sv->clients); cl != NULL; cl = next) {
		next = TAILQ_NEXT(cl, entry);
		if (cl->read_eof)
			client_close(cl, 1);
		else if (stream_write_eof(cl->s) == -1)
			client_error(cl, stream_exception(cl->s));
	}
}

/*
 * --keep-open: stdin goes to every client. It is read only while some
 * client is there to receive it, so nothing typed is lost to nobody.
 */
static void
stdin_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct serve	*sv = arg;

	sv->stdin_blocked--;	/* the read itself held one count */
	if (err->kind != STREAM_OK) {
		serve_stop(sv, err);
		return;
	}
	if (evbuffer_get_length(data) == 0) {
		stdin_eof(sv);
		return;
	}
	serve_broadcast(sv, data, NULL);
	stdin_read(sv);
}

static void
stdin_read(struct serve *sv)
{
	if (sv->stdin_done || sv->stdin_blocked > 0 || sv->nclients == 0 ||
	    sv->stopping)
		return;
	sv->stdin_blocked++;	/* one read at a time */
	stream_read(sv->io, SERVE_CHUNK, stdin_cb, sv);
}

/* Default mode: the one client is relayed with stdio; its end is ours. */
static void
client_relay_cb(struct relay *r, const struct stream_error *err, void *arg)
{
	struct client	*cl = arg;
	struct serve	*sv = cl->sv;

	client_close(cl, err->kind == STREAM_OK);
	serve_stop(sv, err);
}

/* Fork and exec the --exec command with fd as its stdin and stdout. */
static pid_t
client_spawn(struct client *cl, int fd)
{
	struct serve	*sv = cl->sv;
	char		 host[128], *colon;
	const char	*port = "";
	pid_t		 pid;

	strlcpy(host, cl->peer, sizeof host);
	if ((colon = strrchr(host, ':')) != NULL && host[0] != '/' &&
	    host[0] != '@') {
		*colon = '\0';
		port = colon + 1;
		if (host[0] == '[') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
	}
	if ((pid = fork()) != 0)
		return (pid);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	/* The socket is shared with the child: make it blocking. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1)
		_exit(126);
	setenv("CSTREAM_PEER_ADDR", host, 1);
	if (*port != '\0')
		setenv("CSTREAM_PEER_PORT", port, 1);
	else
		unsetenv("CSTREAM_PEER_PORT");
	execvp(sv->argv[0], sv->argv);
	fprintf(stderr, "cstream: %s: exec %s: %s\n", sv->ctx->entry->name,
	    sv->argv[0], strerror(errno));
	_exit(127);
}

static void
client_exec_relay_cb(struct relay *r, const struct stream_error *err,
    void *arg)
{
	client_error(arg, err);
}

/*
 * Over TLS the child cannot have the socket: it gets one end of a
 * socketpair, and the plaintext is relayed between the other end and the
 * client by the same rules as connect.
 */
static int
client_exec_tls(struct client *cl, int sp[2])
{
	struct serve		*sv = cl->sv;
	struct stream_opts	 plain = sv->opts;
	struct stream_error	 err;

	plain.tls_ctx = NULL;	/* the child's side is plaintext */
	plain.idle_timeout = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warnx("%s: socketpair: %s", sv->ctx->entry->name,
		    strerror(errno));
		return (-1);
	}
	if ((cl->pair = stream_open_fd(sv->ctx->base, sp[0], &plain,
	    &err)) == NULL) {
		log_warnx("%s: %s", sv->ctx->entry->name, err.msg);
		close(sp[0]);
		close(sp[1]);
		return (-1);
	}
	return (0);
}

/* --exec / --sh-exec: the child gets the connection as stdin and stdout. */
static void
client_exec(struct client *cl)
{
	struct serve	*sv = cl->sv;
	char		 pidbuf[32];
	int		 sp[2] = { -1, -1 }, tls = sv->opts.tls_ctx != NULL;
	pid_t		 pid;

	if (tls && client_exec_tls(cl, sp) == -1) {
		client_close(cl, 0);
		return;
	}
	pid = client_spawn(cl, tls ? sp[1] : stream_fd(cl->s));
	if (tls)
		close(sp[1]);
	if (pid == -1) {
		log_warnx("%s: fork: %s", sv->ctx->entry->name,
		    strerror(errno));
		client_close(cl, 0);
		return;
	}
	snprintf(pidbuf, sizeof pidbuf, "%ld", (long)pid);
	log_event("exec", "peer", cl->peer, "pid", pidbuf, (char *)NULL);
	if (tls) {
		cl->relay = relay_start(cl->s, cl->pair, RELAY_EOF_TO_IO,
		    client_exec_relay_cb, cl);
		return;
	}
	/* Our copy of the socket goes; the child keeps its own. */
	client_close(cl, 0);
}

static void
serve_accept_cb(struct stream *s, void *arg)
{
	struct serve	*sv = arg;
	struct client	*cl;

	if (sv->stopping || !serve_permitted(sv, s)) {
		char peer[128] = "";

		stream_get_extra_info(s, "peername", peer, sizeof peer);
		if (!sv->stopping)
			log_event("denied", "peer", peer, (char *)NULL);
		stream_abort(s);
		return;
	}
	cl = xcalloc(1, sizeof *cl);
	cl->sv = sv;
	cl->s = s;
	TAILQ_INIT(&cl->waiters);
	stream_get_extra_info(s, "peername", cl->peer, sizeof cl->peer);
	hexdump_conn_init(&cl->hdc, sv->hd, cl->peer);
	TAILQ_INSERT_TAIL(&sv->clients, cl, entry);
	sv->nclients++;
	log_event("accepted", "peer", cl->peer, (char *)NULL);

	switch (sv->mode) {
	case MODE_RELAY:
		/* Like nc -l: one client; stop listening for others. */
		stream_server_close(sv->srv);
		sv->srv = NULL;
		cl->relay = relay_start_filtered(s, sv->io,
		    isatty(STDIN_FILENO) ? RELAY_STDIN_TTY : 0,
		    sv->hd ? hexdump_sent_cb : NULL,
		    sv->hd ? hexdump_received_cb : NULL, &cl->hdc,
		    client_relay_cb, cl);
		break;
	case MODE_ECHO:
		cl->pump = pump_start_filtered(s, s, PUMP_WRITE_EOF |
		    PUMP_FLUSH, sv->hd ? hexdump_echo_cb : NULL, &cl->hdc,
		    client_pump_cb, cl);
		break;
	case MODE_DISCARD:
		stream_read(s, SERVE_CHUNK, client_discard_cb, cl);
		break;
	case MODE_EXEC:
		client_exec(cl);
		break;
	case MODE_KEEP_OPEN:
		if (sv->stdin_done && stream_write_eof(s) == -1) {
			client_error(cl, stream_exception(s));
			break;
		}
		client_read(cl);
		stdin_read(sv);
		break;
	case MODE_BROKER:
		client_read(cl);
		break;
	}
}

static void
serve_grace_cb(evutil_socket_t fd, short events, void *arg)
{
	struct serve	*sv = arg;

	/* Queued output had its 5 s: what is left is dropped at exit. */
	event_base_loopbreak(sv->ctx->base);
}

/*
 * Stop: no new clients, the unix socket file goes, open clients get
 * SERVE_GRACE_SECONDS to flush what is queued for them.
 */
static void
serve_stop(struct serve *sv, const struct stream_error *err)
{
	struct timeval	 tv = { SERVE_GRACE_SECONDS, 0 };
	struct client	*cl, *next;

	if (err != NULL && err->kind != STREAM_OK && sv->code == 0)
		sv->code = cmd_fail_stream(sv->ctx, err);
	if (sv->stopping)
		return;
	sv->stopping = 1;
	if (sv->srv != NULL) {
		stream_server_close(sv->srv);
		sv->srv = NULL;
	}
	for (cl = TAILQ_FIRST(&sv->clients); cl != NULL; cl = next) {
		next = TAILQ_NEXT(cl, entry);
		client_close(cl, 1);
	}
	if (sv->io != NULL && stream_write_buffer_size(sv->io) > 0) {
		sv->nflushing++;	/* stdout gets its queued bytes too */
		stream_close(sv->io, serve_flushed_cb, sv);
	} else if (sv->io != NULL)
		stream_abort(sv->io);
	sv->io = NULL;
	sv->ev_grace = evtimer_new(sv->ctx->base, serve_grace_cb, sv);
	evtimer_add(sv->ev_grace, &tv);
	serve_maybe_done(sv);
}

static void
serve_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct serve	*sv = arg;

	log_event("signal", "name", sig == SIGINT ? "INT" : "TERM",
	    (char *)NULL);
	/* A second signal means now: do not wait for slow clients. */
	if (sv->stopping) {
		event_base_loopbreak(sv->ctx->base);
		return;
	}
	serve_stop(sv, NULL);
}

static void
serve_sigchld_cb(evutil_socket_t sig, short events, void *arg)
{
	char	pidbuf[32], status[32];
	pid_t	pid;
	int	st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		snprintf(pidbuf, sizeof pidbuf, "%ld", (long)pid);
		snprintf(status, sizeof status, "%d", WIFEXITED(st) ?
		    WEXITSTATUS(st) : 128 + WTERMSIG(st));
		log_event("exited", "pid", pidbuf, "status", status,
		    (char *)NULL);
	}
}

static void
serve_log_cb(const char *msg, void *arg)
{
	struct serve	*sv = arg;

	log_warnx("%s: %s", sv->ctx->entry->name, msg);
}

/* --exec "CMD ARGS": split on blanks, no shell and no quoting (ncat). */
static int
serve_split_args(struct serve *sv, const char *cmdline)
{
	char	*copy = xstrdup(cmdline), *word, *save = NULL;
	size_t	 n = 0;

	sv->argv = xcalloc(strlen(cmdline) / 2 + 2, sizeof *sv->argv);
	for (word = strtok_r(copy, " \t", &save); word != NULL;
	    word = strtok_r(NULL, " \t", &save))
		sv->argv[n++] = xstrdup(word);
	free(copy);
	return (n == 0 ? -1 : 0);
}

/* Exactly one mode; the ones that share stdio cannot have workers. */
static int
serve_parse_mode(struct serve *sv)
{
	static const struct { int id; enum serve_mode mode; } modes[] = {
		{ OPT_KEEP_OPEN, MODE_KEEP_OPEN }, { OPT_ECHO, MODE_ECHO },
		{ OPT_DISCARD, MODE_DISCARD }, { OPT_EXEC, MODE_EXEC },
		{ OPT_SH_EXEC, MODE_EXEC }, { OPT_BROKER, MODE_BROKER }
	};
	struct cmd_ctx	*ctx = sv->ctx;
	size_t		 i;
	int		 n = 0;

	sv->mode = MODE_RELAY;
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		if (cmd_has(ctx, modes[i].id)) {
			sv->mode = modes[i].mode;
			n++;
		}
	}
	if (n > 1)
		return (cmd_fail(ctx, EXIT_USAGE, "choose one of --keep-open, "
		    "--echo, --discard, --exec, --sh-exec, --broker"));
	if (cmd_has(ctx, OPT_EXEC)) {
		if (serve_split_args(sv, cmd_get(ctx, OPT_EXEC)) != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--exec: empty "
			    "command"));
	} else if (cmd_has(ctx, OPT_SH_EXEC)) {
		sv->argv = xcalloc(4, sizeof *sv->argv);
		sv->argv[0] = xstrdup("/bin/sh");
		sv->argv[1] = xstrdup("-c");
		sv->argv[2] = xstrdup(cmd_get(ctx, OPT_SH_EXEC));
	}
	return (0);
}

static int
serve_parse_options(struct serve *sv)
{
	struct cmd_ctx		*ctx = sv->ctx;
	struct cmd_args		*args = ctx->args;
	const char		*cause;
	long long		 v;
	size_t			 i;

	sv->opts.max_conns = SERVE_MAX_CONNS_DEFAULT;
	if (cmd_has(ctx, OPT_MAX_CONNS)) {
		if (parse_count(cmd_get(ctx, OPT_MAX_CONNS), 1, 1000000, &v,
		    &cause) != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--max-conns %s: %s",
			    cmd_get(ctx, OPT_MAX_CONNS), cause));
		sv->opts.max_conns = (unsigned int)v;
	}
	for (i = 0; i < args->nopts; i++) {
		int id = args->opts[i].id;

		if (id != OPT_ALLOW && id != OPT_DENY)
			continue;
		sv->acls = xreallocarray(sv->acls, sv->nacls + 1,
		    sizeof *sv->acls);
		if (acl_parse(args->opts[i].value, id == OPT_ALLOW,
		    &sv->acls[sv->nacls], &cause) != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "%s %s: %s",
			    args->opts[i].name, args->opts[i].value, cause));
		sv->has_allow |= id == OPT_ALLOW;
		sv->nacls++;
	}
	if (cmd_has(ctx, OPT_MODE)) {
		const char *m = cmd_get(ctx, OPT_MODE);
		char *end;
		long mode;

		if (ctx->entry != &cmd_unix_serve_entry)
			return (cmd_fail(ctx, EXIT_USAGE,
			    "--mode is for unix-serve"));
		mode = strtol(m, &end, 8);
		if (*m < '0' || *m > '7' || *end != '\0' || mode > 07777)
			return (cmd_fail(ctx, EXIT_USAGE, "--mode %s: not an "
			    "octal mode", m));
		sv->opts.unix_mode = (int)mode;
		if (ctx->args->npos > 0 && ctx->args->pos[0][0] == '@')
			return (cmd_fail(ctx, EXIT_USAGE, "--mode: an abstract "
			    "socket has no file to set a mode on"));
	}
	if (sv->nacls > 0 && ctx->entry == &cmd_unix_serve_entry)
		return (cmd_fail(ctx, EXIT_USAGE,
		    "--allow and --deny are for TCP addresses"));
	return (0);
}

static int
serve_setup_tls(struct serve *sv)
{
	struct cmd_ctx		*ctx = sv->ctx;
	struct stream_error	 err;

	if (!cmd_has(ctx, OPT_TLS)) {
		if (cmd_has(ctx, OPT_CERT) || cmd_has(ctx, OPT_KEY))
			return (cmd_fail(ctx, EXIT_USAGE,
			    "--cert and --key need --tls"));
		return (0);
	}
	if (!cmd_has(ctx, OPT_CERT) || !cmd_has(ctx, OPT_KEY))
		return (cmd_fail(ctx, EXIT_USAGE, "--tls needs --cert and --key"));
	sv->opts.tls_ctx = tls_server_ctx(cmd_get(ctx, OPT_CERT),
	    cmd_get(ctx, OPT_KEY), &err);
	/* A certificate or key that will not load is a file problem: 1. */
	if (sv->opts.tls_ctx == NULL)
		return (cmd_fail(ctx, EXIT_NET, "%s", err.msg));
	return (0);
}

/* [HOST] PORT, or PATH. */
static int
serve_check_target(struct serve *sv, const char **host, const char **port)
{
	struct cmd_ctx	*ctx = sv->ctx;
	char		**pos = ctx->args->pos;
	int		 npos = ctx->args->npos, n;
	const char	*cause;
	static char	 numeric[8];
	char		 msg[300];

	*host = *port = NULL;
	if (ctx->entry == &cmd_unix_serve_entry) {
		if (npos != 1)
			return (cmd_fail(ctx, EXIT_USAGE, "missing PATH"));
		if (cmd_check_unix_path(ctx, pos[0]) != 0)
			return (ctx->exit_code);
		*port = pos[0];
		return (0);
	}
	if (npos == 0)
		return (cmd_fail(ctx, EXIT_USAGE, "missing PORT"));
	*port = pos[npos - 1];
	if (npos == 2) {
		*host = pos[0];
		if (**host == '\0')
			return (cmd_fail(ctx, EXIT_USAGE, "empty host name"));
	}
	if ((n = parse_port(*port, 1, &cause)) == -1)
		return (cmd_fail(ctx, EXIT_USAGE, "%s", parse_port_error(*port,
		    cause, msg, sizeof msg)));
	snprintf(numeric, sizeof numeric, "%d", n);	/* "http-alt" */
	*port = numeric;
	return (0);
}

/*
 * --workers N: N - 1 more processes serve the same listening sockets (the
 * kernel hands each connection to one of them). The first process keeps
 * the terminal role: it forwards SIGINT/SIGTERM to the others.
 */
static pid_t	serve_worker_pids[256];
static int	serve_nworkers;

/* Checked before listening, so a bad value prints no "Serving on". */
static int
serve_parse_workers(struct serve *sv)
{
	struct cmd_ctx	*ctx = sv->ctx;
	const char	*cause;

	sv->workers = 1;
	if (!cmd_has(ctx, OPT_WORKERS))
		return (0);
	if (parse_count(cmd_get(ctx, OPT_WORKERS), 1, 256, &sv->workers,
	    &cause) != 0)
		return (cmd_fail(ctx, EXIT_USAGE, "--workers %s: %s",
		    cmd_get(ctx, OPT_WORKERS), cause));
	if (sv->mode != MODE_ECHO && sv->mode != MODE_DISCARD &&
	    sv->mode != MODE_EXEC)
		return (cmd_fail(ctx, EXIT_USAGE, "--workers needs --echo, "
		    "--discard, --exec or --sh-exec"));
	return (0);
}

static int
serve_start_workers(struct serve *sv)
{
	struct cmd_ctx	*ctx = sv->ctx;
	long long	 n;
	pid_t		 pid;

	for (n = sv->workers; n > 1; n--) {
		if ((pid = fork()) == -1)
			return (cmd_fail(ctx, EXIT_NET, "fork: %s",
			    strerror(errno)));
		if (pid == 0) {
			serve_nworkers = 0;
			event_reinit(ctx->base);
			return (0);
		}
		serve_worker_pids[serve_nworkers++] = pid;
	}
	return (0);
}

static void
serve_stop_workers(void)
{
	int	i;

	for (i = 0; i < serve_nworkers; i++)
		kill(serve_worker_pids[i], SIGTERM);
	for (i = 0; i < serve_nworkers; i++)
		waitpid(serve_worker_pids[i], NULL, 0);
}

static int
serve_listen(struct serve *sv, const char *host, const char *port)
{
	struct cmd_ctx		*ctx = sv->ctx;
	struct stream_error	 err;
	size_t			 i;

	sv->opts.log_cb = serve_log_cb;
	sv->opts.log_arg = sv;
	if (ctx->entry == &cmd_unix_serve_entry)
		sv->srv = stream_start_unix_server(ctx->base, port, &sv->opts,
		    serve_accept_cb, sv, &err);
	else
		sv->srv = stream_start_server(ctx->base, host, port, &sv->opts,
		    serve_accept_cb, sv, &err);
	if (sv->srv == NULL)
		return (cmd_fail_stream(ctx, &err));
	if (!ctx->g->quiet) {
		for (i = 0; i < stream_server_naddrs(sv->srv); i++)
			fprintf(stderr, "Serving on %s\n",
			    stream_server_addr(sv->srv, i));
	}
	return (0);
}

/* stdin and stdout, for the modes that use them. */
static int
serve_open_stdio(struct serve *sv)
{
	struct stream_error	err;

	if (sv->mode != MODE_RELAY && sv->mode != MODE_KEEP_OPEN)
		return (0);
	sv->io = stream_open_fds(sv->ctx->base, STDIN_FILENO, STDOUT_FILENO,
	    &sv->opts, &err);
	if (sv->io == NULL)
		return (cmd_fail(sv->ctx, EXIT_NET, "stdio: %s", err.msg));
	return (0);
}

static void
serve_free(struct serve *sv)
{
	struct client	*cl;
	size_t		 i;

	while ((cl = TAILQ_FIRST(&sv->clients)) != NULL)
		client_close(cl, 0);
	if (sv->srv != NULL)
		stream_server_close(sv->srv);
	if (sv->io != NULL)
		stream_abort(sv->io);
	if (sv->ev_grace != NULL)
		event_free(sv->ev_grace);
	if (sv->ev_int != NULL)
		event_free(sv->ev_int);
	if (sv->ev_term != NULL)
		event_free(sv->ev_term);
	if (sv->ev_chld != NULL)
		event_free(sv->ev_chld);
	if (sv->argv != NULL) {
		for (i = 0; sv->argv[i] != NULL; i++)
			free(sv->argv[i]);
		free(sv->argv);
	}
	free(sv->acls);
	if (sv->opts.tls_ctx != NULL)
		SSL_CTX_free(sv->opts.tls_ctx);
	/* The clients freed above go from the loop: let it run once. */
	event_base_loop(sv->ctx->base, EVLOOP_NONBLOCK);
}

/* -x FILE: one dump for every client; one process writes it. */
static int
serve_open_hexdump(struct serve *sv)
{
	struct stream_error	err;
	const char		*path = cmd_get(sv->ctx, OPT_HEX_DUMP);

	if (path == NULL)
		return (0);
	if (sv->workers > 1)
		return (cmd_fail(sv->ctx, EXIT_USAGE,
		    "--hex-dump cannot be used with --workers"));
	if ((sv->hd = hexdump_open(path, &err)) == NULL)
		return (cmd_fail(sv->ctx, EXIT_NET, "--hex-dump %s", err.msg));
	return (0);
}

static int
cmd_serve_exec(struct cmd_ctx *ctx)
{
	struct serve	 sv;
	const char	*host, *port;
	int		 rc;

	memset(&sv, 0, sizeof sv);
	sv.ctx = ctx;
	TAILQ_INIT(&sv.clients);
	TAILQ_INIT(&sv.io_waiters);
	cmd_stream_opts(ctx, &sv.opts);
	if ((rc = serve_check_target(&sv, &host, &port)) != 0 ||
	    (rc = serve_parse_options(&sv)) != 0 ||
	    (rc = serve_setup_tls(&sv)) != 0 ||
	    (rc = serve_parse_mode(&sv)) != 0 ||
	    (rc = serve_parse_workers(&sv)) != 0 ||
	    (rc = serve_open_hexdump(&sv)) != 0 ||
	    (rc = serve_listen(&sv, host, port)) != 0 ||
	    (rc = serve_start_workers(&sv)) != 0 ||
	    (rc = serve_open_stdio(&sv)) != 0)
		goto out;

	sv.ev_int = evsignal_new(ctx->base, SIGINT, serve_signal_cb, &sv);
	sv.ev_term = evsignal_new(ctx->base, SIGTERM, serve_signal_cb, &sv);
	sv.ev_chld = evsignal_new(ctx->base, SIGCHLD, serve_sigchld_cb, &sv);
	evsignal_add(sv.ev_int, NULL);
	evsignal_add(sv.ev_term, NULL);
	evsignal_add(sv.ev_chld, NULL);
	event_base_dispatch(ctx->base);
	rc = sv.code;
out:
	serve_stop_workers();
	serve_free(&sv);
	(void)hexdump_close(sv.hd);
	return (rc);
}

const struct cmd_entry cmd_serve_entry = {
	"serve", "[OPTIONS] [HOST] PORT",
	"listen on HOST PORT (every address without HOST) and serve clients",
	1, 2, serve_options, cmd_serve_exec
};

const struct cmd_entry cmd_unix_serve_entry = {
	"unix-serve", "[OPTIONS] PATH",
	"listen on a unix socket PATH (@name: abstract) and serve clients",
	1, 1, serve_options, cmd_serve_exec
};
