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

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "connect-scan.h"
#include "connect.h"
#include "log-stream.h"
#include "log.h"
#include "net.h"
#include "parse.h"
#include "progress.h"
#include "relay.h"
#include "tls.h"
#include "tls-cert.h"
#include "xmalloc.h"

/*
 * connect HOST PORT and unix-connect PATH: open a stream, then either
 * relay it with stdin/stdout, or run the one-shot operations (--send*,
 * then --read* in the order given) and close. --send* without any
 * --read* is a relay whose input is the given bytes: what the peer sends
 * goes to stdout until it closes.
 */

extern const struct cmd_entry cmd_connect_entry;
extern const struct cmd_entry cmd_unix_connect_entry;

/* connect -z HOST 80 443 ...: the ports as separate words (nc). */
#define CONNECT_MAX_WORDS	1024

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
	{ "expect", 0, CMD_ARG_REQUIRED, OPT_EXPECT, "REGEX",
	  "the bytes the --read* before must match (else exit 10)" },
	{ "wait", 0, CMD_ARG_REQUIRED, OPT_WAIT, "SEC",
	  "retry connecting each second for up to SEC seconds" },
	{ "fd", 0, CMD_ARG_REQUIRED, OPT_FD, "N",
	  "use the connected socket on descriptor N" },
	{ "no-shutdown", 0, CMD_ARG_NONE, OPT_NO_SHUTDOWN, NULL,
	  "do not half-close at stdin EOF" },
	{ "progress", 0, CMD_ARG_OPTIONAL, OPT_PROGRESS, "[=always]",
	  "bytes, rate and time on stderr (a terminal, unless =always)" },
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
	{ "show-cert", 0, CMD_ARG_OPTIONAL, OPT_SHOW_CERT, "[=pem]",
	  "print the server's certificate chain and close" },
	{ "expire-warn", 0, CMD_ARG_REQUIRED, OPT_EXPIRE_WARN, "DAYS",
	  "exit 11 if a certificate expires within DAYS" },
	{ "starttls", 0, CMD_ARG_REQUIRED, OPT_STARTTLS, "PROTO",
	  "smtp, imap, pop3, ftp or postgres: upgrade to TLS" },
	{ "udp", 'u', CMD_ARG_NONE, OPT_UDP, NULL,
	  "UDP: a datagram per --send or stdin line (nc -u)" },
	{ "dgram", 0, CMD_ARG_NONE, OPT_DGRAM, NULL,
	  "unix-connect: a datagram socket (nc -Uu)" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

/* --progress: what the connection has sent and received so far. */
static void
conn_progress_count_cb(void *arg, unsigned long long *sent,
    unsigned long long *received)
{
	struct conn	*c = arg;

	if (c->net == NULL)
		return;		/* not connected yet */
	*sent = stream_bytes_out(c->net);
	*received = stream_bytes_in(c->net);
}

/*
 * --progress: pv's display on stderr (progress.c), if stderr is a
 * terminal or with =always. The size to send is known when stdin or
 * every --send* source is a regular file.
 */
static int
conn_progress_start(struct conn *c)
{
	const char	*v = cmd_get(c->ctx, OPT_PROGRESS);
	int		 mode = progress_mode(v);
	long long	 size;

	if (!cmd_has(c->ctx, OPT_PROGRESS))
		return (0);
	if (mode == -1)
		return (cmd_fail(c->ctx, EXIT_USAGE,
		    "--progress=%s: only --progress=always is known", v));
	if (!progress_visible(mode))
		log_warnx("%s: %s", c->ctx->entry->name, PROGRESS_HIDDEN);
	size = c->oneshot ? oneshot_size(c) : progress_fd_size(STDIN_FILENO);
	c->progress = progress_start(c->ctx->base, mode,
	    PROGRESS_SENT | PROGRESS_RECEIVED, size, conn_progress_count_cb, c);
	return (0);
}

static void
conn_relay_done_cb(struct relay *r, const struct relay_report *rep,
    void *arg)
{
	struct conn	*c = arg;

	conn_end(c, rep->err);
}

static void
conn_cert_closed_cb(struct stream *s, const struct stream_error *err,
    void *arg)
{
	conn_end(arg, NULL);
}

/*
 * --show-cert and --expire-warn, right after the handshake: the chain the
 * server sent, printed, then checked. 1 when the connection ends here:
 * --show-cert, or --expire-warn without steps, checks only and closes
 * (as check_http -C), with close_notify; exit 11 when a certificate
 * expires within DAYS.
 */
static int
conn_check_cert(struct conn *c)
{
	struct tls_summary	 sum;
	char			*json, msg[512];
	time_t			 now = time(NULL);
	int			 expiring = 0;

	if (tls_summary_get(stream_ssl_object(c->net), &sum) != 0) {
		conn_fail(c, EXIT_TLS, "%s: no certificate from the server",
		    c->target);
		return (1);
	}
	if (c->show_cert == 2)
		tls_summary_print_pem(stdout, &sum);
	else if (c->show_cert && cmd_has(c->ctx, OPT_JSON)) {
		json = tls_summary_json(&sum, now);
		printf("%s\n", json);
		free(json);
	} else if (c->show_cert)
		tls_summary_print(stdout, &sum, now);
	if (c->expire)
		expiring = tls_summary_expiry(&sum, c->expire_days, now, msg,
		    sizeof msg);
	tls_summary_free(&sum);
	if (fflush(stdout) != 0) {
		conn_fail(c, EXIT_NET, "stdout: write error");
		return (1);
	}
	if (expiring) {
		conn_fail(c, EXIT_EXPIRE, "%s", msg);
		return (1);
	}
	if (!c->show_cert && c->oneshot)
		return (0);
	stream_close(c->net, conn_cert_closed_cb, c);
	c->net = NULL;
	return (1);
}

/* The connection is up: wire stdio, then relay or run the steps. */
static void
conn_connected_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct conn		*c = arg;
	struct stream_error	 e;
	struct stream_opts	 io_opts;
	struct relay_opts	 ro;

	/* After STARTTLS, the handshake's failure is not one to retry. */
	if (s == NULL) {
		if (c->upgraded || !wait_failed(c, err))
			conn_end(c, err);
		return;
	}
	if (!c->upgraded)
		wait_ready(c);
	if (c->starttls_proto != STARTTLS_NONE && !c->upgraded) {
		c->upgraded = 1;
		log_connected(s);
		starttls_start(c, s);	/* back here over TLS */
		return;
	}
	c->net = s;
	if (c->starttls_proto == STARTTLS_NONE)
		log_connected(c->net);
	log_tls(c->net, NULL);
	if ((c->show_cert || c->expire) && conn_check_cert(c) != 0)
		return;
	/*
	 * --idle-timeout is the connection's: every byte relayed touches
	 * the network stream (kernel transfers too), so stdio needs no timer
	 * of its own, and the timeout always names the peer.
	 */
	io_opts = c->opts;
	io_opts.idle_timeout = 0;
	c->io = stream_open_fds(c->ctx->base, STDIN_FILENO, STDOUT_FILENO,
	    &io_opts, &e);
	if (c->io == NULL) {
		stream_error_set(&e, e.kind, e.sys, "stdio: %s", e.msg);
		conn_end(c, &e);
		return;
	}
	if (c->oneshot) {
		oneshot_start(c);
		return;
	}
	memset(&ro, 0, sizeof ro);
	if (cmd_has(c->ctx, OPT_NO_SHUTDOWN))
		ro.flags |= RELAY_NO_SHUTDOWN;
	if (isatty(STDIN_FILENO))
		ro.flags |= RELAY_STDIN_TTY;
	ro.b_to_a = c->filtering ? conn_sent_filter_cb : NULL;
	ro.a_to_b = c->hd != NULL ? conn_received_filter_cb : NULL;
	ro.filter_arg = c;
	c->relay = relay_start(c->net, c->io, &ro, conn_relay_done_cb, c);
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
		conn_progress_end(c);
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
	char		 msg[300], hp[300];

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
	if (*parse_unbracket(pos[0]) == '\0')
		return (cmd_fail(ctx, EXIT_USAGE, "empty host name"));
	if ((port = parse_port(pos[1], 0, &cause)) == -1)
		return (cmd_fail(ctx, EXIT_USAGE, "%s", parse_port_error(pos[1],
		    cause, msg, sizeof msg)));
	snprintf(c->port, sizeof c->port, "%d", port);	/* "http": 80 */
	net_hostport(pos[0], c->port, hp, sizeof hp);
	c->target = xstrdup(hp);
	if (cmd_reach_resolve(ctx) != 0)
		return (ctx->exit_code);
	return (cmd_reach_proxy(ctx, pos[0], 0, 0,
	    &c->proxy, &c->use_proxy));
}

/* --show-cert[=pem], --expire-warn DAYS, --starttls PROTO. */
static int
conn_tls_checks(struct conn *c)
{
	struct cmd_ctx	*ctx = c->ctx;
	const char	*v, *cause;

	if (cmd_has(ctx, OPT_SHOW_CERT)) {
		v = cmd_get(ctx, OPT_SHOW_CERT);
		if (v != NULL && strcmp(v, "pem") != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--show-cert=%s: "
			    "only --show-cert=pem is known", v));
		c->show_cert = v != NULL ? 2 : 1;
		if (c->oneshot)
			return (cmd_fail(ctx, EXIT_USAGE, "--show-cert closes "
			    "after the handshake: no --send or --read options "
			    "with it"));
	}
	if ((v = cmd_get(ctx, OPT_EXPIRE_WARN)) != NULL) {
		if (parse_count(v, 0, 36500, &c->expire_days, &cause) != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--expire-warn %s: %s",
			    v, cause));
		c->expire = 1;
	}
	if ((v = cmd_get(ctx, OPT_STARTTLS)) != NULL &&
	    starttls_parse(v, &c->starttls_proto) != 0)
		return (cmd_fail(ctx, EXIT_USAGE, "--starttls %s: must be smtp, "
		    "imap, pop3, ftp or postgres", v));
	return (0);
}

static int
conn_setup_tls(struct conn *c)
{
	struct cmd_ctx		*ctx = c->ctx;
	const char		*stray;
	int			 rc;

	if (!cmd_has(ctx, OPT_TLS) && !cmd_has(ctx, OPT_STARTTLS)) {
		if (cmd_has(ctx, OPT_CAFILE) || cmd_has(ctx, OPT_INSECURE))
			return (cmd_fail(ctx, EXIT_USAGE,
			    "--cafile and --insecure need --tls"));
		stray = cmd_tls_stray(ctx);
		if (stray == NULL && cmd_has(ctx, OPT_SHOW_CERT))
			stray = "--show-cert";
		if (stray == NULL && cmd_has(ctx, OPT_EXPIRE_WARN))
			stray = "--expire-warn";
		if (stray != NULL)
			return (cmd_fail(ctx, EXIT_USAGE, "%s needs --tls or "
			    "--starttls", stray));
		return (0);
	}
	if ((rc = conn_tls_checks(c)) != 0)
		return (rc);
	if ((rc = cmd_tls_client_ctx(ctx, cmd_get(ctx, OPT_CAFILE),
	    cmd_has(ctx, OPT_INSECURE), NULL, &c->tls_ctx)) != 0)
		return (rc);
	/* STARTTLS: plain first, the context waits for the upgrade. */
	if (c->starttls_proto == STARTTLS_NONE)
		c->opts.tls_ctx = c->tls_ctx;
	c->starttls_cb = conn_connected_cb;
	if (cmd_has(ctx, OPT_SERVERNAME))
		c->opts.tls_servername = cmd_get(ctx, OPT_SERVERNAME);
	else if (ctx->entry == &cmd_connect_entry && !cmd_has(ctx, OPT_FD))
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
	char			*hint;

	c->crlf_on = cmd_has(c->ctx, OPT_CRLF);
	/* nc's -x is a proxy: never a dump file named after one. */
	if (path != NULL && hint_is_proxy_address(path)) {
		xasprintf(&hint, "use --proxy %s://%s",
		    hint_proxy_scheme(NULL, path), path);
		cmd_set_hint(c->ctx, hint);
		return (cmd_fail(c->ctx, EXIT_USAGE, "-x %s: nc's proxy "
		    "option; -x here is --hex-dump FILE", path));
	}
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
	if (addr != NULL)	/* -s [::1]: the value is argv's, ours */
		addr = parse_unbracket((char *)addr);
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

	conn_progress_end(c);
	if (c->timed)
		log_closed_timed(c->net, &c->timings);
	else
		log_closed(c->net, NULL);
	for (i = 0; i < NSIGNALS; i++) {
		if (c->sigev[i] != NULL)
			event_free(c->sigev[i]);
	}
	if (c->relay != NULL)
		relay_free(c->relay);
	oneshot_free(c);
	starttls_free(c);
	wait_free(c);
	if (c->net != NULL)
		stream_abort(c->net);
	if (c->io != NULL)
		stream_abort(c->io);
	if (c->tls_ctx != NULL)
		tls_ctx_free(c->tls_ctx);
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
				    OPT_SOURCE_PORT, OPT_SHOW_CERT,
				    OPT_EXPIRE_WARN, OPT_STARTTLS, OPT_CAFILE,
				    OPT_INSECURE, OPT_CERT, OPT_KEY,
				    OPT_ALPN, OPT_SERVERNAME, OPT_NO_SNI,
				    OPT_TLS_MIN, OPT_TLS_MAX };
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
conn_scan(struct cmd_ctx *ctx, int is_unix, int udp)
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
	double			 wait;

	memset(&o, 0, sizeof o);
	if (ctx->args->npos != (is_unix ? 1 : 2))
		return (cmd_fail(ctx, EXIT_USAGE, "missing %s", is_unix ?
		    "PATH" : ctx->args->npos == 0 ? "HOST PORTS" : "PORTS"));
	o.host = is_unix ? ctx->args->pos[0] :
	    parse_unbracket(ctx->args->pos[0]);
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
	if (!is_unix && (cmd_reach_resolve(ctx) != 0 ||
	    cmd_reach_proxy(ctx, o.host, 0, 0, &p,
	    &use_proxy) != 0)) {
		free(ports);
		return (ctx->exit_code);
	}
	if (use_proxy && !cmd_has(ctx, OPT_CONCURRENCY))
		o.concurrency = PORTSCAN_PROXY_CONCURRENCY;
	if (udp && use_proxy) {
		free(ports);
		proxy_free(&p);
		return (cmd_fail(ctx, EXIT_USAGE, "-u cannot go through a "
		    "proxy"));
	}
	if (udp) {	/* -zu: nc's exit status, 1 when nothing is open */
		o.timeout = ctx->g->connect_timeout > 0 ?
		    ctx->g->connect_timeout : PORTSCAN_UDP_TIMEOUT;
		rc = portscan_udp_run(ctx->base, &o, ports, n, &r, &err);
		free(ports);
		if (rc != 0)
			return (cmd_fail_stream(ctx, &err));
		return (r.open > 0 ? 0 : EXIT_NET);
	}
	if ((rc = wait_parse(ctx, &wait)) == 0 && wait > 0 && use_proxy)
		rc = cmd_fail(ctx, EXIT_USAGE, "-z --wait does not go "
		    "through a proxy");
	if (rc != 0 || wait > 0) {
		if (rc == 0)
			rc = wait_scan(ctx, &o, wait, ports != NULL ? ports :
			    &none, n);
		free(ports);
		proxy_free(&p);
		return (rc);
	}
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

/*
 * connect -z HOST 80 443: nc's habit of ports as separate words, taken
 * as the list 80,443. Elsewhere a third word is one too many.
 */
static int
conn_join_ports(struct cmd_ctx *ctx, char **joined)
{
	struct cmd_args	*a = ctx->args;
	char		*old;
	int		 i;

	*joined = NULL;
	if (a->npos <= 2)
		return (0);
	if (!cmd_has(ctx, OPT_ZERO_IO))
		return (cmd_fail(ctx, EXIT_USAGE, "too many arguments: %s",
		    a->pos[2]));
	*joined = xstrdup(a->pos[1]);
	for (i = 2; i < a->npos; i++) {
		old = *joined;
		xasprintf(joined, "%s,%s", old, a->pos[i]);
		free(old);
	}
	a->pos[1] = *joined;
	a->npos = 2;
	return (0);
}

/* One attempt to connect (again, with --wait: connect-wait.c). */
static void
conn_open(struct conn *c)
{
	struct cmd_ctx	*ctx = c->ctx;

	if (ctx->entry == &cmd_unix_connect_entry)
		stream_open_unix_connection(ctx->base, c->target, &c->opts,
		    conn_connected_cb, c);
	else if (c->source && !c->use_proxy)
		net_connect_tcp_from(ctx->base, ctx->args->pos[0], c->port,
		    c->opts.family, cmd_get(ctx, OPT_SOURCE),
		    c->src_port[0] != '\0' ? c->src_port : NULL,
		    c->opts.connect_timeout, conn_source_done_cb, c);
	else
		proxy_open_connection(ctx->base, c->use_proxy ? &c->proxy :
		    NULL, ctx->args->pos[0], c->port, &c->opts,
		    conn_connected_cb, c);
}

static int
cmd_connect_exec(struct cmd_ctx *ctx)
{
	struct conn	 c;
	int		 is_unix = ctx->entry == &cmd_unix_connect_entry;
	int		 rc, udp;
	double		 wait;
	size_t		 i;
	char		*ports = NULL;	/* -z HOST 80 443 as 80,443 */

	memset(&c, 0, sizeof c);
	c.ctx = ctx;
	if (!is_unix && (rc = conn_join_ports(ctx, &ports)) != 0)
		return (rc);
	cmd_stream_opts(ctx, &c.opts);
	for (i = 0; i < ctx->args->nopts; i++) {
		int id = ctx->args->opts[i].id;

		if (id == OPT_SEND || id == OPT_SEND_FILE || id == OPT_EXPECT ||
		    (id >= OPT_READ_LINE && id <= OPT_READ_ALL))
			c.oneshot = 1;
	}
	udp = cmd_has(ctx, OPT_UDP) || cmd_has(ctx, OPT_DGRAM);
	if (cmd_has(ctx, OPT_DGRAM) && !is_unix) {
		rc = cmd_fail(ctx, EXIT_USAGE, "--dgram is for unix-connect;"
		    " UDP is -u");
		goto out;
	}
	/* --json is -z's, or --show-cert's. */
	if (cmd_has(ctx, OPT_ZERO_IO) || cmd_has(ctx, OPT_CONCURRENCY) ||
	    (cmd_has(ctx, OPT_JSON) && !cmd_has(ctx, OPT_SHOW_CERT))) {
		if (udp && is_unix)
			rc = cmd_fail(ctx, EXIT_USAGE, "-z checks stream "
			    "sockets only: not with --dgram");
		else if ((rc = conn_scan_check(ctx, c.oneshot)) == 0)
			rc = conn_scan(ctx, is_unix, udp);
		goto out;
	}
	if (udp) {	/* datagrams: connect-udp.c, not the stream layer */
		rc = udp_connect_run(ctx, is_unix);
		goto out;
	}
	if ((rc = conn_check_target(&c, is_unix)) != 0 ||
	    (rc = conn_check_source(&c, is_unix)) != 0 ||
	    (rc = conn_setup_filters(&c)) != 0 ||
	    (c.oneshot && (rc = oneshot_plan(&c)) != 0) ||
	    (rc = conn_setup_tls(&c)) != 0 ||
	    (rc = conn_progress_start(&c)) != 0)
		goto out;

	if ((rc = wait_parse(ctx, &wait)) != 0)
		goto out;
	if (wait > 0 && cmd_has(ctx, OPT_FD)) {
		rc = cmd_fail(ctx, EXIT_USAGE, "--wait needs an address to "
		    "connect to, not --fd");
		goto out;
	}
	conn_signals_start(&c);
	if (cmd_has(ctx, OPT_FD))
		rc = conn_open_fd(&c);
	else
		wait_start(&c, wait, conn_open);
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
	free(ports);
	return (rc);
}

const struct cmd_entry cmd_connect_entry = {
	"connect", "[OPTIONS] HOST PORT",
	"connect to HOST PORT and relay stdin/stdout, or send and read",
	0, CONNECT_MAX_WORDS, connect_options, cmd_connect_exec,
	CMD_OPTS_TLS_CLIENT | CMD_OPTS_SOURCE | CMD_OPTS_PROXY
};

const struct cmd_entry cmd_unix_connect_entry = {
	"unix-connect", "[OPTIONS] PATH",
	"connect to a unix socket and relay stdin/stdout, or send and read",
	0, 1, connect_options, cmd_connect_exec,
	CMD_OPTS_TLS_CLIENT | CMD_OPTS_SOURCE | CMD_OPTS_PROXY
};
