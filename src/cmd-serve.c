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

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"
#include "log-stream.h"
#include "net.h"
#include "parse.h"
#include "progress.h"
#include "relay.h"
#include "serve.h"
#include "tls.h"
#include "xmalloc.h"

/*
 * serve [HOST] PORT and unix-serve PATH: listen, and give each client to
 * the mode: one client relayed with stdio (nc -l), many with stdio
 * (--keep-open), echo, discard, a child process per client (--exec), or
 * every client to every other (--broker).
 */

extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_unix_serve_entry;

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
	  "run CMD per client with the connection as its stdin/stdout" },
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
	{ "client-ca", 0, CMD_ARG_REQUIRED, OPT_CLIENT_CA, "FILE",
	  "ask clients for a certificate issued by a CA in FILE" },
	{ "client-cert", 0, CMD_ARG_REQUIRED, OPT_CLIENT_CERT,
	  "optional|required", "a client without one (default: required)" },
	{ "alpn", 0, CMD_ARG_REQUIRED, OPT_ALPN, "LIST",
	  "ALPN protocols, the first the client offers is chosen" },
	{ "tls-min", 0, CMD_ARG_REQUIRED, OPT_TLS_MIN, "1.2|1.3",
	  "lowest TLS version to accept" },
	{ "tls-max", 0, CMD_ARG_REQUIRED, OPT_TLS_MAX, "1.2|1.3",
	  "highest TLS version to accept" },
	{ "mode", 0, CMD_ARG_REQUIRED, OPT_MODE, "OCTAL",
	  "unix-serve: the socket file's permissions" },
	{ "progress", 0, CMD_ARG_OPTIONAL, OPT_PROGRESS, "[=always]",
	  "bytes, rate and time on stderr (a terminal, unless =always)" },
	{ "udp", 'u', CMD_ARG_NONE, OPT_UDP, NULL,
	  "UDP: datagrams from any peer (nc -lu)" },
	{ "dgram", 0, CMD_ARG_NONE, OPT_DGRAM, NULL,
	  "unix-serve: a datagram socket (nc -lUu)" },
	{ "ready-file", 0, CMD_ARG_REQUIRED, OPT_READY_FILE, "FILE",
	  "once listening, write the Serving on lines to FILE (atomically)" },
	{ "ready-fd", 0, CMD_ARG_REQUIRED, OPT_READY_FD, "N",
	  "once listening, write the Serving on lines to descriptor N, close it" },
	{ "to", 0, CMD_ARG_REQUIRED, OPT_TO, "HOST:PORT",
	  "forward each client to HOST:PORT (repeatable: failover)" },
	{ "to-unix", 0, CMD_ARG_REQUIRED, OPT_TO_UNIX, "PATH",
	  "forward each client to a unix socket (@name: abstract)" },
	{ "balance", 0, CMD_ARG_REQUIRED, OPT_BALANCE, "rr",
	  "with several back ends: round robin, not first that accepts" },
	{ "to-tls", 0, CMD_ARG_NONE, OPT_TO_TLS, NULL,
	  "TLS towards the back end, verified" },
	{ "to-cafile", 0, CMD_ARG_REQUIRED, OPT_TO_CAFILE, "FILE",
	  "trust the certificates in FILE for --to-tls" },
	{ "to-insecure", 0, CMD_ARG_NONE, OPT_TO_INSECURE, NULL,
	  "do not verify the back end's certificate" },
	{ "send-proxy", 0, CMD_ARG_OPTIONAL, OPT_SEND_PROXY, "[=2]",
	  "send a PROXY protocol v1 (=2: v2) header to the back end" },
	{ "accept-proxy", 0, CMD_ARG_NONE, OPT_ACCEPT_PROXY, NULL,
	  "require a PROXY protocol header from every client" },
	{ "resolve", 0, CMD_ARG_REQUIRED, OPT_RESOLVE, "HOST:PORT:ADDR",
	  "ADDR[,ADDR]... for a back end HOST:PORT, not DNS (repeatable)" },
	{ "source", 's', CMD_ARG_REQUIRED, OPT_SOURCE, "ADDR",
	  "connect to the back end from local address ADDR" },
	{ "proxy", 0, CMD_ARG_REQUIRED, OPT_PROXY, "URL",
	  "reach the back end through an http://, socks5:// or socks5h:// proxy" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

#define SERVE_MAX_CONNS_DEFAULT	1024
#define SERVE_GRACE_SECONDS	5

/* --allow and --deny, for a client just accepted. */
static int
serve_permitted(struct serve *sv, struct stream *s)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;

	if (sv->acl.n == 0)
		return (1);
	if (stream_peer_addr(s, &ss, &len) != 0)
		return (0);
	return (acl_permits(&sv->acl, &ss));
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
	if (cl->hdc != NULL)
		hexdump_received_cb(data, cl->hdc);
	/* The reader empties data after we return: dropping is free. */
	stream_read(s, SERVE_CHUNK, client_discard_cb, cl);
}

/* Default mode: the one client is relayed with stdio; its end is ours. */
static void
client_relay_cb(struct relay *r, const struct relay_report *rep, void *arg)
{
	struct client	*cl = arg;
	struct serve	*sv = cl->sv;

	client_close(cl, rep->err->kind == STREAM_OK);
	serve_stop(sv, rep->err);
}

/* Like nc -l: one client, relayed with stdio. */
static void
client_relay(struct client *cl)
{
	struct serve		*sv = cl->sv;
	struct relay_opts	 ro;

	memset(&ro, 0, sizeof ro);
	ro.flags = isatty(STDIN_FILENO) ? RELAY_STDIN_TTY : 0;
	ro.b_to_a = sv->hd ? hexdump_sent_cb : NULL;
	ro.a_to_b = sv->hd ? hexdump_received_cb : NULL;
	ro.filter_arg = cl->hdc;
	cl->relay = relay_start(cl->s, sv->io, &ro, client_relay_cb, cl);
}

/* A client admitted (its PROXY header read, with --accept-proxy). */
static void
serve_admit(struct serve *sv, struct stream *s, const struct pp_header *pp)
{
	struct client	*cl;

	cl = client_new(sv, s, pp);
	log_tls(s, cl->peer);

	switch (sv->mode) {
	case MODE_RELAY:
		/* Like nc -l: one client; stop listening for others. */
		stream_server_close(sv->srv);
		sv->srv = NULL;
		client_relay(cl);
		break;
	case MODE_ECHO:
		/*
		 * At the client's EOF, flush and close: the close is our
		 * EOF, a shutdown(2) first would only cost a system call
		 * a client.
		 */
		cl->pump = pump_start_filtered(s, s, PUMP_FLUSH,
		    sv->hd ? hexdump_echo_cb : NULL, cl->hdc, client_pump_cb,
		    cl);
		break;
	case MODE_DISCARD:
		stream_read(s, SERVE_CHUNK, client_discard_cb, cl);
		break;
	case MODE_EXEC:
		exec_client(cl);
		break;
	case MODE_KEEP_OPEN:
		if (sv->stdin_done && stream_write_eof(s) == -1) {
			client_error(cl, stream_exception(s));
			break;
		}
		fanout_client_read(cl);
		fanout_stdin_read(sv);
		break;
	case MODE_BROKER:
		fanout_client_read(cl);
		break;
	case MODE_FORWARD:
		forward_client(cl);
		break;
	}
}

/* --allow and --deny judge the connecting peer, a balancer's too. */
static void
serve_accept_cb(struct stream *s, void *arg)
{
	struct serve	*sv = arg;

	if (sv->stopping || !serve_permitted(sv, s)) {
		char peer[128] = "";

		stream_get_extra_info(s, "peername", peer, sizeof peer);
		if (!sv->stopping)
			log_event("denied", "peer", peer, (char *)NULL);
		stream_abort(s);
		return;
	}
	if (sv->accept_proxy)
		pp_accept_start(sv, s, serve_admit);
	else
		serve_admit(sv, s, NULL);
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
void
serve_stop(struct serve *sv, const struct stream_error *err)
{
	struct timeval	 tv = { SERVE_GRACE_SECONDS, 0 };
	struct client	*cl, *next;

	if (err != NULL && err->kind != STREAM_OK && sv->code == 0) {
		progress_finish(sv->progress);	/* its summary first */
		sv->progress = NULL;
		sv->code = cmd_fail_stream(sv->ctx, err);
	}
	if (sv->stopping)
		return;
	sv->stopping = 1;
	ready_stopping(sv);
	if (sv->srv != NULL) {
		stream_server_close(sv->srv);
		sv->srv = NULL;
	}
	pp_accept_stop_all(sv);
	for (cl = TAILQ_FIRST(&sv->clients); cl != NULL; cl = next) {
		next = TAILQ_NEXT(cl, entry);
		/* A program still writing gets the grace period to finish. */
		if (sv->mode == MODE_EXEC && !cl->out_done)
			continue;
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

/* --max-time passed: stop as on SIGTERM, then exit 4 (cmd.c). */
static void
serve_deadline_cb(const struct stream_error *err, void *arg)
{
	struct serve	*sv = arg;

	if (sv->stopping) {
		event_base_loopbreak(sv->ctx->base);
		return;
	}
	serve_stop(sv, err);
}

static const int serve_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NSIGNALS	(sizeof serve_signals / sizeof serve_signals[0])

static const char *
serve_signal_name(int sig)
{
	switch (sig) {
	case SIGINT:
		return ("INT");
	case SIGHUP:
		return ("HUP");
	default:
		return ("TERM");
	}
}

static void
serve_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct serve	*sv = arg;
	struct client	*cl = TAILQ_FIRST(&sv->clients);

	log_event("signal", "name", serve_signal_name((int)sig), (char *)NULL);
	/* Stdin cut short must not look complete: reset (relay.c). */
	if (sv->mode == MODE_RELAY && cl != NULL && cl->relay != NULL &&
	    relay_interrupt(cl->relay)) {
		sv->code = cmd_fail(sv->ctx, 128 + (int)sig, "interrupted: "
		    "%llu bytes sent, input not finished",
		    stream_bytes_out(cl->s));
		event_base_loopbreak(sv->ctx->base);
		return;
	}
	/* A second signal means now: do not wait for slow clients. */
	if (sv->stopping) {
		event_base_loopbreak(sv->ctx->base);
		return;
	}
	serve_stop(sv, NULL);
}

/*
 * SIGINT, SIGTERM and SIGHUP stop the server (serve_signal_cb). A signal
 * ignored at start stays ignored, as connect does: a non-interactive
 * shell ignores SIGINT for its background jobs, and `serve &` must not
 * stop on ^C. A --workers worker always takes SIGTERM, the first
 * process's order to stop (serve-workers.c).
 */
static void
serve_signals_start(struct serve *sv)
{
	struct sigaction	sa;
	size_t			i;
	int			worker;

	worker = sv->nworkers > 1 && sv->workers.n == 0;
	for (i = 0; i < NSIGNALS; i++) {
		if (!(worker && serve_signals[i] == SIGTERM) &&
		    sigaction(serve_signals[i], NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN)
			continue;
		sv->ev_sig[i] = evsignal_new(sv->ctx->base, serve_signals[i],
		    serve_signal_cb, sv);
		if (sv->ev_sig[i] != NULL)
			evsignal_add(sv->ev_sig[i], NULL);
	}
}

static void
serve_sigchld_cb(evutil_socket_t sig, short events, void *arg)
{
	exec_reap(arg);
}

static void
serve_log_cb(const char *msg, void *arg)
{
	struct serve	*sv = arg;

	log_warnx("%s: %s", sv->ctx->entry->name, msg);
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
	if (cmd_has(ctx, OPT_TO) || cmd_has(ctx, OPT_TO_UNIX)) {
		if (n > 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--to and --to-unix "
			    "forward every client: no other mode with them"));
		sv->mode = MODE_FORWARD;
	}
	if (exec_parse_command(sv, cmd_get(ctx, OPT_EXEC),
	    cmd_get(ctx, OPT_SH_EXEC)) != 0)
		return (cmd_fail(ctx, EXIT_USAGE, "--exec: empty command"));
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
		if (acl_add(&sv->acl, args->opts[i].value, id == OPT_ALLOW,
		    &cause) != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "%s %s: %s",
			    args->opts[i].name, args->opts[i].value, cause));
	}
	if (cmd_has(ctx, OPT_MODE)) {
		const char *m = cmd_get(ctx, OPT_MODE);

		if (ctx->entry != &cmd_unix_serve_entry)
			return (cmd_fail(ctx, EXIT_USAGE,
			    "--mode is for unix-serve"));
		if (parse_mode(m, &sv->opts.unix_mode, &cause) != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--mode %s: %s", m,
			    cause));
		if (ctx->args->npos > 0 && ctx->args->pos[0][0] == '@')
			return (cmd_fail(ctx, EXIT_USAGE, "--mode: an abstract "
			    "socket has no file to set a mode on"));
	}
	if (sv->acl.n > 0 && ctx->entry == &cmd_unix_serve_entry)
		return (cmd_fail(ctx, EXIT_USAGE,
		    "--allow and --deny are for TCP addresses"));
	return (0);
}

/* Options that only mean something with a back end. */
static int
serve_forward_only(struct serve *sv)
{
	static const int	 ids[] = { OPT_BALANCE, OPT_TO_TLS,
				    OPT_TO_CAFILE, OPT_TO_INSECURE,
				    OPT_SEND_PROXY, OPT_RESOLVE, OPT_SOURCE,
				    OPT_PROXY };
	struct cmd_args		*args = sv->ctx->args;
	size_t			 i, j;

	for (i = 0; i < args->nopts; i++) {
		for (j = 0; j < sizeof ids / sizeof ids[0]; j++) {
			if (args->opts[i].id == ids[j])
				return (cmd_fail(sv->ctx, EXIT_USAGE, "%s needs "
				    "--to or --to-unix", args->opts[i].name));
		}
	}
	return (0);
}

/* --to-tls, --to-cafile, --to-insecure: the back end's TLS client. */
static int
serve_forward_tls(struct serve *sv, struct forward *f)
{
	struct cmd_ctx		*ctx = sv->ctx;
	struct stream_error	 err;

	if (!cmd_has(ctx, OPT_TO_TLS)) {
		if (cmd_has(ctx, OPT_TO_CAFILE) || cmd_has(ctx, OPT_TO_INSECURE))
			return (cmd_fail(ctx, EXIT_USAGE,
			    "--to-cafile and --to-insecure need --to-tls"));
		return (0);
	}
	f->opts.tls_ctx = tls_client_ctx(cmd_get(ctx, OPT_TO_CAFILE),
	    cmd_has(ctx, OPT_TO_INSECURE), &err);
	if (f->opts.tls_ctx == NULL)
		return (cmd_fail_stream(ctx, &err));
	return (0);
}

/* --balance, --send-proxy, -s, --proxy, --resolve. */
static int
serve_forward_reach(struct serve *sv, struct forward *f)
{
	struct cmd_ctx	*ctx = sv->ctx;
	const char	*v, *cause;

	if ((v = cmd_get(ctx, OPT_BALANCE)) != NULL) {
		if (strcmp(v, "rr") != 0 && strcmp(v, "first") != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--balance %s: "
			    "rr or first", v));
		f->rr = strcmp(v, "rr") == 0;
	}
	if (cmd_has(ctx, OPT_SEND_PROXY)) {
		v = cmd_get(ctx, OPT_SEND_PROXY);
		if (v == NULL || strcmp(v, "1") == 0)
			f->send_proxy = 1;
		else if (strcmp(v, "2") == 0)
			f->send_proxy = 2;
		else
			return (cmd_fail(ctx, EXIT_USAGE, "--send-proxy=%s: "
			    "the version is 1 or 2", v));
	}
	if ((v = cmd_get(ctx, OPT_SOURCE)) != NULL && *v == '\0')
		return (cmd_fail(ctx, EXIT_USAGE, "--source: empty address"));
	f->src_addr = v;
	if ((v = cmd_get(ctx, OPT_PROXY)) != NULL && *v != '\0') {
		if (proxy_parse(v, &f->proxy, &cause) != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--proxy %s: %s", v,
			    cause));
		f->use_proxy = 1;
		if (f->src_addr != NULL)	/* -s binds the proxy connection */
			f->proxy.src_addr = xstrdup(f->src_addr);
	}
	return (cmd_reach_resolve(ctx));
}

/* --to and --to-unix, in the order given: the back ends. */
static int
serve_parse_forward(struct serve *sv)
{
	struct cmd_ctx		*ctx = sv->ctx;
	struct cmd_args		*args = ctx->args;
	struct forward		*f;
	const char		*cause;
	size_t			 i;
	int			 rc;

	sv->accept_proxy = cmd_has(ctx, OPT_ACCEPT_PROXY);
	/* The header comes before the ClientHello: not read over TLS yet. */
	if (sv->accept_proxy && cmd_has(ctx, OPT_TLS))
		return (cmd_fail(ctx, EXIT_USAGE,
		    "--accept-proxy cannot be used with --tls"));
	if (sv->mode != MODE_FORWARD)
		return (serve_forward_only(sv));
	f = sv->fwd = xcalloc(1, sizeof *f);
	for (i = 0; i < args->nopts; i++) {
		int id = args->opts[i].id;

		if (id != OPT_TO && id != OPT_TO_UNIX)
			continue;
		if (forward_add(f, id == OPT_TO_UNIX, args->opts[i].value,
		    &cause) != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "%s %s: %s",
			    args->opts[i].name, args->opts[i].value, cause));
	}
	cmd_stream_opts(ctx, &f->opts);
	f->opts.full_cb = NULL;
	f->opts.full_arg = NULL;
	if (f->opts.connect_timeout <= 0)
		f->opts.connect_timeout = SERVE_FWD_CONNECT_TIMEOUT;
	if ((rc = serve_forward_reach(sv, f)) != 0)
		return (rc);
	return (serve_forward_tls(sv, f));
}

static int
serve_setup_tls(struct serve *sv)
{
	struct cmd_ctx		*ctx = sv->ctx;
	struct stream_error	 err;
	char			 fp[TLS_FINGERPRINT_LEN];
	const char		*stray;

	if (!cmd_has(ctx, OPT_TLS)) {
		if (cmd_has(ctx, OPT_CERT) || cmd_has(ctx, OPT_KEY))
			return (cmd_fail(ctx, EXIT_USAGE,
			    "--cert and --key need --tls"));
		if ((stray = cmd_tls_stray(ctx)) != NULL)
			return (cmd_fail(ctx, EXIT_USAGE, "%s needs --tls",
			    stray));
		return (0);
	}
	if (cmd_has(ctx, OPT_CERT) != cmd_has(ctx, OPT_KEY))
		return (cmd_fail(ctx, EXIT_USAGE, "--cert and --key go "
		    "together"));
	if (!cmd_has(ctx, OPT_CERT)) {
		/* ncat's way: a quick TLS server needs no openssl command. */
		sv->opts.tls_ctx = tls_server_ctx_selfsigned(fp, sizeof fp,
		    &err);
		if (sv->opts.tls_ctx == NULL)
			return (cmd_fail(ctx, EXIT_NET, "%s", err.msg));
		log_warnx("%s: no --cert and --key: a throwaway self-signed "
		    "certificate, SHA-256 fingerprint %s", ctx->entry->name,
		    fp);
		return (cmd_tls_server_setup(ctx, sv->opts.tls_ctx));
	}
	sv->opts.tls_ctx = tls_server_ctx(cmd_get(ctx, OPT_CERT),
	    cmd_get(ctx, OPT_KEY), &err);
	/* A certificate or key that will not load is a file problem: 1. */
	if (sv->opts.tls_ctx == NULL)
		return (cmd_fail(ctx, EXIT_NET, "%s", err.msg));
	return (cmd_tls_server_setup(ctx, sv->opts.tls_ctx));
}

/*
 * No address: the listening sockets of socket activation (LISTEN_PID,
 * LISTEN_FDS for this process), or a usage error as ever.
 */
static int
serve_activation(struct serve *sv)
{
	struct cmd_ctx		*ctx = sv->ctx;
	struct stream_error	 err;
	size_t			 i;
	char			 fd[16];

	if (net_activation_fds(&sv->act_fds, &sv->act_names, &sv->nact,
	    &err) != 0)
		return (cmd_fail_stream(ctx, &err));
	if (sv->nact == 0)
		return (cmd_fail(ctx, EXIT_USAGE, "missing argument"));
	if (cmd_has(ctx, OPT_MODE))
		return (cmd_fail(ctx, EXIT_USAGE, "--mode: the socket is the "
		    "service manager's"));
	for (i = 0; i < sv->nact; i++) {
		snprintf(fd, sizeof fd, "%d", sv->act_fds[i]);
		log_event("activated", "fd", fd, "name", sv->act_names[i],
		    (char *)NULL);
	}
	return (0);
}

/* [HOST] PORT, or PATH; neither with socket activation. */
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
	if (npos == 0)
		return (serve_activation(sv));
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
		*host = parse_unbracket(pos[0]);
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

/* Checked before listening, so a bad value prints no "Serving on". */
static int
serve_parse_workers(struct serve *sv)
{
	struct cmd_ctx	*ctx = sv->ctx;
	const char	*cause;

	sv->nworkers = 1;
	if (!cmd_has(ctx, OPT_WORKERS))
		return (0);
	if (parse_count(cmd_get(ctx, OPT_WORKERS), 1, 256, &sv->nworkers,
	    &cause) != 0)
		return (cmd_fail(ctx, EXIT_USAGE, "--workers %s: %s",
		    cmd_get(ctx, OPT_WORKERS), cause));
	if (sv->mode != MODE_ECHO && sv->mode != MODE_DISCARD &&
	    sv->mode != MODE_EXEC && sv->mode != MODE_FORWARD)
		return (cmd_fail(ctx, EXIT_USAGE, "--workers needs --echo, "
		    "--discard, --exec, --sh-exec or --to"));
	return (0);
}

static int
serve_start_workers(struct serve *sv)
{
	if (workers_start(&sv->workers, sv->nworkers, sv->ctx->base) != 0)
		return (cmd_fail(sv->ctx, EXIT_NET, "fork: %s",
		    strerror(errno)));
	if (sv->nworkers > 1 && sv->workers.n == 0)
		ready_forget(sv);	/* the first process speaks for all */
	return (0);
}

static int
serve_listen(struct serve *sv, const char *host, const char *port)
{
	struct cmd_ctx		*ctx = sv->ctx;
	struct stream_error	 err;
	size_t			 i;

	sv->opts.log_cb = serve_log_cb;
	sv->opts.log_arg = sv;
	if (sv->nact > 0)
		sv->srv = stream_start_server_fds(ctx->base, sv->act_fds,
		    sv->nact, &sv->opts, serve_accept_cb, sv, &err);
	else if (ctx->entry == &cmd_unix_serve_entry)
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
	ready_announce(sv, sv->srv);
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
	if (sv->ev_prune != NULL)
		event_free(sv->ev_prune);
	for (i = 0; i < NSIGNALS; i++) {
		if (sv->ev_sig[i] != NULL)
			event_free(sv->ev_sig[i]);
	}
	if (sv->ev_chld != NULL)
		event_free(sv->ev_chld);
	exec_free(sv);
	pp_accept_stop_all(sv);
	forward_free(sv->fwd);
	free(sv->fwd);
	acl_free(&sv->acl);
	if (sv->opts.tls_ctx != NULL)
		tls_ctx_free(sv->opts.tls_ctx);
	/* The clients freed above go from the loop: let it run once. */
	event_base_loop(sv->ctx->base, EVLOOP_NONBLOCK);
}

/*
 * The dump failed (a full disk, /dev/full): say so at once, serving goes
 * on, and the exit status is 1 at the end (connect's rule).
 */
static void
serve_hexdump_error_cb(int error, void *arg)
{
	struct serve	*sv = arg;

	cmd_fail(sv->ctx, EXIT_NET, "--hex-dump %s: %s",
	    cmd_get(sv->ctx, OPT_HEX_DUMP), strerror(error));
	sv->hd_failed = 1;
}

/* -x FILE: one dump for every client; one process writes it. */
static int
serve_open_hexdump(struct serve *sv)
{
	struct stream_error	err;
	const char		*path = cmd_get(sv->ctx, OPT_HEX_DUMP);

	if (path == NULL)
		return (0);
	if (sv->nworkers > 1)
		return (cmd_fail(sv->ctx, EXIT_USAGE,
		    "--hex-dump cannot be used with --workers"));
	if ((sv->hd = hexdump_open(path, &err)) == NULL)
		return (cmd_fail(sv->ctx, EXIT_NET, "--hex-dump %s", err.msg));
	hexdump_set_error_cb(sv->hd, serve_hexdump_error_cb, sv);
	return (0);
}

/*
 * --progress: the bytes of every client, those gone included. A client
 * leaves its counts here as it goes.
 */
void
serve_forget(struct client *cl)
{
	cl->sv->gone_out += stream_bytes_out(cl->s);
	cl->sv->gone_in += stream_bytes_in(cl->s);
	fanout_forget(cl);
	forward_forget(cl);
}

static void
serve_progress_count_cb(void *arg, unsigned long long *sent,
    unsigned long long *received)
{
	struct serve	*sv = arg;
	struct client	*cl;

	*sent = sv->gone_out;
	*received = sv->gone_in;
	TAILQ_FOREACH(cl, &sv->clients, entry) {
		*sent += stream_bytes_out(cl->s);
		*received += stream_bytes_in(cl->s);
	}
}

/* Checked before listening; one process counts, so no --workers. */
static int
serve_parse_progress(struct serve *sv)
{
	const char	*v = cmd_get(sv->ctx, OPT_PROGRESS);

	if (!cmd_has(sv->ctx, OPT_PROGRESS))
		return (0);
	if (progress_mode(v) == -1)
		return (cmd_fail(sv->ctx, EXIT_USAGE,
		    "--progress=%s: only --progress=always is known", v));
	if (sv->nworkers > 1)
		return (cmd_fail(sv->ctx, EXIT_USAGE,
		    "--progress cannot be used with --workers"));
	return (0);
}

/* Sent is to the clients; the size is known for one client and a file. */
static void
serve_progress_start(struct serve *sv)
{
	int	mode = progress_mode(cmd_get(sv->ctx, OPT_PROGRESS));

	if (!cmd_has(sv->ctx, OPT_PROGRESS))
		return;
	if (!progress_visible(mode))
		log_warnx("%s: %s", sv->ctx->entry->name, PROGRESS_HIDDEN);
	sv->progress = progress_start(sv->ctx->base, mode,
	    sv->mode == MODE_DISCARD ? PROGRESS_RECEIVED :
	    PROGRESS_SENT | PROGRESS_RECEIVED, sv->mode == MODE_RELAY ?
	    progress_fd_size(STDIN_FILENO) : -1, serve_progress_count_cb, sv);
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
	TAILQ_INIT(&sv.pp_readers);
	cmd_stream_opts(ctx, &sv.opts);
	if ((rc = serve_check_target(&sv, &host, &port)) != 0 ||
	    (rc = serve_parse_options(&sv)) != 0)
		goto out;
	if (cmd_has(ctx, OPT_UDP) || cmd_has(ctx, OPT_DGRAM)) {
		/* Datagrams: serve-udp.c, on the datagram transport. */
		rc = udp_serve_run(&sv, host, port,
		    ctx->entry == &cmd_unix_serve_entry);
		goto out;
	}
	if ((rc = serve_setup_tls(&sv)) != 0 ||
	    (rc = serve_parse_mode(&sv)) != 0 ||
	    (rc = serve_parse_forward(&sv)) != 0 ||
	    (rc = serve_parse_workers(&sv)) != 0 ||
	    (rc = serve_open_hexdump(&sv)) != 0 ||
	    (rc = serve_parse_progress(&sv)) != 0 ||
	    (rc = ready_parse(&sv, cmd_get(ctx, OPT_READY_FILE),
	    cmd_get(ctx, OPT_READY_FD))) != 0 ||
	    (rc = serve_listen(&sv, host, port)) != 0 ||
	    (rc = serve_start_workers(&sv)) != 0 ||
	    (rc = serve_open_stdio(&sv)) != 0)
		goto out;
	serve_progress_start(&sv);
	ctx->deadline_cb = serve_deadline_cb;
	ctx->deadline_arg = &sv;

	serve_signals_start(&sv);
	sv.ev_chld = evsignal_new(ctx->base, SIGCHLD, serve_sigchld_cb, &sv);
	evsignal_add(sv.ev_chld, NULL);
	event_base_dispatch(ctx->base);
	rc = sv.code;
out:
	workers_stop(&sv.workers);
	ready_free(&sv);
	serve_free(&sv);
	net_activation_free(sv.act_fds, sv.act_names, sv.nact);
	progress_finish(sv.progress);
	(void)hexdump_close(sv.hd);	/* a failure was said at once */
	if (sv.hd_failed && rc == 0)
		rc = EXIT_NET;
	return (rc);
}

const struct cmd_entry cmd_serve_entry = {
	"serve", "[OPTIONS] [HOST] PORT",
	"listen on HOST PORT (every address without HOST) and serve clients",
	0, 2, serve_options, cmd_serve_exec, 0
};

const struct cmd_entry cmd_unix_serve_entry = {
	"unix-serve", "[OPTIONS] PATH",
	"listen on a unix socket PATH (@name: abstract) and serve clients",
	0, 1, serve_options, cmd_serve_exec, 0
};
