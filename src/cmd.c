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

#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "compat.h"
#include "cmd.h"
#include "log.h"
#include "net.h"
#include "parse.h"
#include "suggest.h"
#include "tls.h"
#include "url.h"
#include "xmalloc.h"

/*
 * The command table and everything between argv and a command's exec:
 * finding the command (exact name or unique prefix, as tmux does), parsing
 * its options together with the global ones in any order with the
 * positional arguments, and mapping errors to exit codes in one place.
 */

extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_connect_entry;
extern const struct cmd_entry cmd_unix_connect_entry;
extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_unix_serve_entry;
extern const struct cmd_entry cmd_http_head_entry;

const struct cmd_entry *cmd_table[] = {
	&cmd_connect_entry,
	&cmd_serve_entry,
	&cmd_unix_connect_entry,
	&cmd_unix_serve_entry,
	&cmd_http_head_entry,
	&cmd_help_entry,
	NULL
};

static const struct cmd_option cmd_global_options[] = {
	{ "ipv4", '4', CMD_ARG_NONE, OPT_IPV4, NULL, "use IPv4 only" },
	{ "ipv6", '6', CMD_ARG_NONE, OPT_IPV6, NULL, "use IPv6 only" },
	{ "verbose", 'v', CMD_ARG_NONE, OPT_VERBOSE, NULL,
	  "report events (connected, accepted, closed, bytes) on stderr" },
	{ "quiet", 'q', CMD_ARG_NONE, OPT_QUIET, NULL,
	  "nothing on stderr but errors" },
	{ "log-format", 0, CMD_ARG_REQUIRED, OPT_LOG_FORMAT, "text|json",
	  "format of event lines on stderr" },
	{ "limit", 0, CMD_ARG_REQUIRED, OPT_LIMIT, "BYTES",
	  "stream buffer limit (default 64k; k, m, g suffixes)" },
	{ "connect-timeout", 0, CMD_ARG_REQUIRED, OPT_CONNECT_TIMEOUT, "SEC",
	  "give up connecting after SEC seconds" },
	{ "idle-timeout", 0, CMD_ARG_REQUIRED, OPT_IDLE_TIMEOUT, "SEC",
	  "close a connection idle for SEC seconds" },
	{ "max-time", 0, CMD_ARG_REQUIRED, OPT_MAX_TIME, "SEC",
	  "give up the whole command after SEC seconds" },
	{ "help", 'h', CMD_ARG_NONE, OPT_HELP, NULL, "show this help" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

/*
 * The shared blocks (CMD_OPTS_* of cmd.h): written once, merged into the
 * table of every command that names them, so each option has one name,
 * one id and one help line everywhere.
 */
static const struct cmd_option cmd_tls_options[] = {
	{ "tls", 0, CMD_ARG_NONE, OPT_TLS, NULL, "TLS client" },
	{ "servername", 0, CMD_ARG_REQUIRED, OPT_SERVERNAME, "NAME",
	  "send NAME as SNI and verify the certificate for it" },
	{ "no-sni", 0, CMD_ARG_NONE, OPT_NO_SNI, NULL,
	  "send no server name (SNI)" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct cmd_option cmd_tls_verify_options[] = {
	{ "cafile", 0, CMD_ARG_REQUIRED, OPT_CAFILE, "FILE",
	  "trust the CA certificates in FILE (or a hashed directory)" },
	{ "insecure", 'k', CMD_ARG_NONE, OPT_INSECURE, NULL,
	  "do not verify the server's certificate" },
	{ "cert", 0, CMD_ARG_REQUIRED, OPT_CERT, "FILE",
	  "client certificate (PEM, chain allowed)" },
	{ "key", 0, CMD_ARG_REQUIRED, OPT_KEY, "FILE",
	  "its private key (default: in the --cert file)" },
	{ "alpn", 0, CMD_ARG_REQUIRED, OPT_ALPN, "LIST",
	  "offer these ALPN protocols (comma-separated)" },
	{ "tls-min", 0, CMD_ARG_REQUIRED, OPT_TLS_MIN, "1.2|1.3",
	  "lowest TLS version to accept" },
	{ "tls-max", 0, CMD_ARG_REQUIRED, OPT_TLS_MAX, "1.2|1.3",
	  "highest TLS version to offer" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct cmd_option cmd_source_options[] = {
	{ "source", 's', CMD_ARG_REQUIRED, OPT_SOURCE, "ADDR",
	  "connect from local address ADDR (nc -s)" },
	{ "source-port", 'p', CMD_ARG_REQUIRED, OPT_SOURCE_PORT, "PORT",
	  "connect from local port PORT (nc -p)" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct cmd_option cmd_proxy_options[] = {
	{ "resolve", 0, CMD_ARG_REQUIRED, OPT_RESOLVE, "HOST:PORT:ADDR",
	  "ADDR[,ADDR]... for HOST:PORT, not DNS (repeatable)" },
	{ "proxy", 0, CMD_ARG_REQUIRED, OPT_PROXY, "URL",
	  "use this http://, socks5:// or socks5h:// proxy ('' for none)" },
	{ "noproxy", 0, CMD_ARG_REQUIRED, OPT_NOPROXY, "LIST",
	  "hosts (comma-separated, * for all) reached without a proxy" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

/* The blocks in the order their options are listed. */
static const struct {
	int			 bit;
	const struct cmd_option	*options;
} cmd_blocks[] = {
	{ CMD_OPTS_TLS_CLIENT & ~CMD_OPTS_TLS_VERIFY, cmd_tls_options },
	{ CMD_OPTS_TLS_VERIFY, cmd_tls_verify_options },
	{ CMD_OPTS_SOURCE, cmd_source_options },
	{ CMD_OPTS_PROXY, cmd_proxy_options }
};
#define CMD_NBLOCKS	(sizeof cmd_blocks / sizeof cmd_blocks[0])

/* A command's tables, built once each (help, parsing and completion). */
struct cmd_options_cache {
	const struct cmd_entry		*entry;
	struct cmd_option		*options;
	struct cmd_options_cache	*next;
};
static struct cmd_options_cache	*cmd_options_built;

static size_t
cmd_count_options(const struct cmd_option *o)
{
	size_t	n = 0;

	while (o != NULL && o[n].name != NULL)
		n++;
	return (n);
}

/* Append table o to all at *n. */
static void
cmd_append_options(struct cmd_option *all, size_t *n,
    const struct cmd_option *o)
{
	for (; o != NULL && o->name != NULL; o++)
		all[(*n)++] = *o;
}

const struct cmd_option *
cmd_options(const struct cmd_entry *e)
{
	struct cmd_options_cache	*c;
	size_t				 n, i;

	for (c = cmd_options_built; c != NULL; c = c->next) {
		if (c->entry == e)
			return (c->options);
	}
	n = cmd_count_options(e->options);
	for (i = 0; i < CMD_NBLOCKS; i++) {
		if ((e->blocks & cmd_blocks[i].bit) == cmd_blocks[i].bit)
			n += cmd_count_options(cmd_blocks[i].options);
	}
	c = xcalloc(1, sizeof *c);
	c->entry = e;
	c->options = xcalloc(n + 1, sizeof *c->options);
	n = 0;
	cmd_append_options(c->options, &n, e->options);
	for (i = 0; i < CMD_NBLOCKS; i++) {
		if ((e->blocks & cmd_blocks[i].bit) == cmd_blocks[i].bit)
			cmd_append_options(c->options, &n,
			    cmd_blocks[i].options);
	}
	c->next = cmd_options_built;
	cmd_options_built = c;
	return (c->options);
}

/* What cmd_find found for a name. */
enum cmd_found {
	CMD_FOUND,		/* *ep: the name, or a unique prefix of it */
	CMD_AMBIGUOUS,		/* a prefix of several: *cause lists them */
	CMD_UNKNOWN		/* no command by that name or prefix */
};

static enum cmd_found
cmd_find(const char *name, const struct cmd_entry **ep, char *cause,
    size_t causelen)
{
	const struct cmd_entry	**e, *found = NULL;
	size_t			  len = strlen(name), n = 0;
	char			  list[256] = "";
	size_t			  off = 0;

	*ep = NULL;
	for (e = cmd_table; *e != NULL; e++) {
		if (strcmp((*e)->name, name) == 0) {
			*ep = *e;
			return (CMD_FOUND);
		}
		if (len > 0 && strncmp((*e)->name, name, len) == 0) {
			found = *e;
			if (off < sizeof list)
				off += snprintf(list + off, sizeof list - off,
				    "%s%s", n > 0 ? ", " : "", (*e)->name);
			n++;
		}
	}
	if (n == 1) {
		*ep = found;
		return (CMD_FOUND);
	}
	if (n > 1) {
		snprintf(cause, causelen, "ambiguous command: %s, could be: %s",
		    name, list);
		return (CMD_AMBIGUOUS);
	}
	snprintf(cause, causelen, "unknown command: %s", name);
	return (CMD_UNKNOWN);
}

/*
 * The options help lists under "TLS options:", whichever command has
 * them: the TLS client and server options (cmd-tls.c) and connect's
 * certificate checks.
 */
static const char *const cmd_tls_names[] = {
	"tls", "cafile", "insecure", "cert", "key", "alpn", "servername",
	"no-sni", "tls-min", "tls-max", "client-ca", "client-cert",
	"show-cert", "expire-warn", "starttls", NULL
};

#define CMD_GROUP_MAIN	0	/* "options:" */
#define CMD_GROUP_TLS	1	/* "TLS options:" */

static int
cmd_option_group(const struct cmd_option *o)
{
	const char *const	*n;

	for (n = cmd_tls_names; *n != NULL; n++) {
		if (strcmp(o->name, *n) == 0)
			return (CMD_GROUP_TLS);
	}
	return (CMD_GROUP_MAIN);
}

static void
cmd_print_option(FILE *f, const struct cmd_option *o)
{
	char		 left[64];
	const char	*sep;

	/* An optional value only ever follows '=': no space. */
	sep = o->argname == NULL || o->has_arg == CMD_ARG_OPTIONAL ? "" : " ";
	if (o->flag != 0)
		snprintf(left, sizeof left, "-%c, --%s%s%s", o->flag,
		    o->name, sep, o->argname ? o->argname : "");
	else
		snprintf(left, sizeof left, "    --%s%s%s", o->name,
		    sep, o->argname ? o->argname : "");
	fprintf(f, "  %-28s %s\n", left, o->help ? o->help : "");
}

/* The TLS group in cmd_tls_names' order: --tls first, wherever it is. */
static void
cmd_print_options(FILE *f, const struct cmd_option *o, int group)
{
	const struct cmd_option	*p;
	const char *const	*n;

	if (group == CMD_GROUP_TLS) {
		for (n = cmd_tls_names; *n != NULL; n++) {
			for (p = o; p->name != NULL; p++) {
				if (strcmp(p->name, *n) == 0)
					cmd_print_option(f, p);
			}
		}
		return;
	}
	for (; o->name != NULL; o++) {
		if (cmd_option_group(o) == group)
			cmd_print_option(f, o);
	}
}

static int
cmd_has_group(const struct cmd_option *o, int group)
{
	for (; o->name != NULL; o++) {
		if (cmd_option_group(o) == group)
			return (1);
	}
	return (0);
}

/* Full help for one command: usage, summary, its options, the global ones. */
void
cmd_usage(const struct cmd_entry *e, int to_stderr)
{
	FILE	*f = to_stderr ? stderr : stdout;

	fprintf(f, "usage: cstream %s %s\n", e->name, e->usage);
	if (to_stderr)
		return;
	fprintf(f, "%s\n", e->summary);
	if (cmd_options(e)[0].name != NULL) {
		fprintf(f, "\noptions:\n");
		cmd_print_options(f, cmd_options(e), CMD_GROUP_MAIN);
		if (cmd_has_group(cmd_options(e), CMD_GROUP_TLS)) {
			fprintf(f, "\nTLS options:\n");
			cmd_print_options(f, cmd_options(e), CMD_GROUP_TLS);
		}
	}
	fprintf(f, "\nglobal options:\n");
	cmd_print_options(f, cmd_global_options, CMD_GROUP_MAIN);
}

/* The program's help: every command in one line each. */
static void
cmd_list(FILE *f)
{
	const struct cmd_entry	**e;

	fprintf(f, "usage: cstream [GLOBAL OPTIONS] COMMAND [OPTIONS] ARGS\n"
	    "       cstream help [COMMAND] | --help | --version\n"
	    "       cstream --completion bash|zsh|fish\n\ncommands:\n");
	for (e = cmd_table; *e != NULL; e++)
		fprintf(f, "  %-13s %s\n", (*e)->name, (*e)->summary);
	fprintf(f, "\nglobal options:\n");
	cmd_print_options(f, cmd_global_options, CMD_GROUP_MAIN);
	fprintf(f, "\nSee cstream(1) and 'cstream help COMMAND'.\n");
}

/*
 * "cstream: [COMMAND: ]MESSAGE": messages echo arguments and peers' names,
 * so control bytes are quoted. cmd is NULL before a command is known.
 */
static void
cmd_print_error(const char *cmd, const char *msg)
{
	fputs("cstream: ", stderr);
	if (cmd != NULL)
		fprintf(stderr, "%s: ", cmd);
	log_puts_quoted(msg);
	fputc('\n', stderr);
}

/* Print "cstream: COMMAND: message" and return the exit code to use. */
int
cmd_fail(struct cmd_ctx *ctx, int code, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	/* An attempt of --wait: its error is the last one, if the last. */
	if (ctx->hold_errors && code != EXIT_USAGE) {
		strlcpy(ctx->held, msg != NULL ? msg : fmt, sizeof ctx->held);
		free(msg);
		ctx->exit_code = code;
		return (code);
	}
	cmd_print_error(ctx->entry->name, msg != NULL ? msg : fmt);
	free(msg);
	if (code == EXIT_USAGE && ctx->args != NULL) {
		hint_print(ctx->args->hint);
		cmd_usage(ctx->entry, 1);
	}
	ctx->exit_code = code;
	return (code);
}

/* The hint the next usage error prints after its message (taken over). */
void
cmd_set_hint(struct cmd_ctx *ctx, char *hint)
{
	if (hint == NULL)
		return;
	free(ctx->args->hint);
	ctx->args->hint = hint;
}

/* The one place where a stream error kind becomes an exit status. */
int
cmd_exit_code(const struct stream_error *err)
{
	switch (err->kind) {
	case STREAM_OK:
		return (0);
	case STREAM_EINCOMPLETE:
		return (EXIT_INCOMPLETE);
	case STREAM_ELIMIT:
		return (EXIT_LIMIT);
	case STREAM_ETIMEOUT:
		return (EXIT_TIMEOUT);
	case STREAM_ERESOLVE:
		return (EXIT_RESOLVE);
	case STREAM_ETLS:
		return (EXIT_TLS);
	case STREAM_EPROTO:
		return (EXIT_PROTO);
	case STREAM_ERESET:
	case STREAM_ECLOSED:
	case STREAM_ESYS:
		break;
	}
	return (EXIT_NET);
}

/*
 * A stream's error as the command's. A certificate nothing trusted
 * issued gets the two ways out, on every TLS command alike.
 */
int
cmd_fail_stream(struct cmd_ctx *ctx, const struct stream_error *err)
{
	int	rc;

	rc = cmd_fail(ctx, cmd_exit_code(err), "%s", err->msg);
	/* A held error (--wait's attempts) prints no hint either. */
	if (tls_error_is_untrusted(err) && !ctx->hold_errors)
		hint_print("use --cafile FILE to trust its issuer, or -k to "
		    "skip verification");
	return (rc);
}

/* The last occurrence of an option (later ones override), or NULL. */
static const struct cmd_arg *
cmd_last(const struct cmd_args *args, int id)
{
	size_t	i;

	for (i = args->nopts; i > 0; i--) {
		if (args->opts[i - 1].id == id)
			return (&args->opts[i - 1]);
	}
	return (NULL);
}

int
cmd_has(struct cmd_ctx *ctx, int id)
{
	return (cmd_last(ctx->args, id) != NULL);
}

const char *
cmd_get(struct cmd_ctx *ctx, int id)
{
	const struct cmd_arg	*a = cmd_last(ctx->args, id);

	return (a != NULL ? a->value : NULL);
}

/* A unix socket path fits sun_path ("@name" is abstract: no NUL needed). */
int
cmd_check_unix_path(struct cmd_ctx *ctx, const char *path)
{
	size_t	len = strlen(path);

	if (len == 0 || (path[0] == '@' && len == 1))
		return (cmd_fail(ctx, EXIT_USAGE, "empty socket path"));
	if (len - (path[0] == '@') > UNIX_PATH_MAX_LEN)
		return (cmd_fail(ctx, EXIT_USAGE, "%s: path longer than %d "
		    "bytes", path, UNIX_PATH_MAX_LEN));
	return (0);
}

/* A server refused a client at its cap: say so in the option's words. */
static void
cmd_server_full_cb(const char *peer, unsigned int max_conns, void *arg)
{
	struct cmd_ctx	*ctx = arg;

	log_warnx("%s: max-conns %u reached: closed %s", ctx->entry->name,
	    max_conns, peer[0] != '\0' ? peer : "a client");
}

void
cmd_stream_opts(struct cmd_ctx *ctx, struct stream_opts *o)
{
	memset(o, 0, sizeof *o);
	o->limit = ctx->g->limit;
	o->family = ctx->g->family;
	o->connect_timeout = ctx->g->connect_timeout;
	o->idle_timeout = ctx->g->idle_timeout;
	o->unix_mode = -1;
	o->full_cb = cmd_server_full_cb;
	o->full_arg = ctx;
}

/* Apply the global options found among a command's options. */
static int
cmd_apply_globals(struct cmd_ctx *ctx)
{
	struct global_opts	*g = ctx->g;
	const struct cmd_arg	*a;
	const char		*cause;
	size_t			 i;

	for (i = 0; i < ctx->args->nopts; i++) {
		a = &ctx->args->opts[i];
		cause = NULL;
		switch (a->id) {
		case OPT_IPV4:
			g->family = AF_INET;	/* the last of -4/-6 wins, as nc */
			break;
		case OPT_IPV6:
			g->family = AF_INET6;
			break;
		case OPT_VERBOSE:
			g->verbose = 1;
			break;
		case OPT_QUIET:
			g->quiet = 1;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(a->value, "json") == 0)
				g->json = 1;
			else if (strcmp(a->value, "text") == 0)
				g->json = 0;
			else
				cause = "must be text or json";
			break;
		case OPT_LIMIT:
			parse_size(a->value, &g->limit, &cause);
			break;
		case OPT_CONNECT_TIMEOUT:
			parse_seconds(a->value, &g->connect_timeout, &cause);
			break;
		case OPT_IDLE_TIMEOUT:
			parse_seconds(a->value, &g->idle_timeout, &cause);
			break;
		case OPT_MAX_TIME:
			parse_seconds(a->value, &g->max_time, &cause);
			break;
		}
		if (cause != NULL)
			return (cmd_fail(ctx, EXIT_USAGE, "%s %s: %s", a->name,
			    a->value, cause));
	}
	return (0);
}

static void
cmd_args_push_opt(struct cmd_args *args, const struct cmd_option *o,
    const char *value)
{
	char	*name;

	args->opts = xreallocarray(args->opts, args->nopts + 1,
	    sizeof *args->opts);
	xasprintf(&name, "--%s", o->name);
	args->opts[args->nopts].id = o->id;
	args->opts[args->nopts].name = name;
	args->opts[args->nopts].value = value;
	args->nopts++;
}

static void
cmd_args_push_pos(struct cmd_args *args, char *value)
{
	args->pos = xreallocarray(args->pos, args->npos + 1,
	    sizeof *args->pos);
	args->pos[args->npos++] = value;
}

/* The command's options (its blocks too), then the global ones. */
static struct cmd_option *
cmd_merge_options(const struct cmd_entry *e, size_t *np)
{
	struct cmd_option	*all;
	size_t			 n;

	n = cmd_count_options(cmd_options(e)) +
	    cmd_count_options(cmd_global_options);
	all = xcalloc(n + 1, sizeof *all);
	n = 0;
	cmd_append_options(all, &n, cmd_options(e));
	cmd_append_options(all, &n, cmd_global_options);
	*np = n;
	return (all);
}

/*
 * getopt_long returned '?' or ':': name the option in *cause and return the
 * word it came from (a cluster "-lp" for one of its letters), for hints.
 */
static const char *
cmd_bad_option(int c, int argc, char **argv, char *cause, size_t causelen)
{
	const char	*what = c == '?' ? "unknown option" :
			    "option needs a value";
	const char	*bad = argv[optind - 1];

	if (optopt > 0 && optopt < 256) {
		/* glibc steps optind past a cluster at its last letter. */
		if (optind < argc && argv[optind][0] == '-' &&
		    argv[optind][1] != '-' && strchr(argv[optind], optopt))
			bad = argv[optind];
		snprintf(cause, causelen, "%s: -%c", what, optopt);
	} else
		snprintf(cause, causelen, "%s: %s", what, bad);
	return (bad);
}

/* The hint for an unknown option of command cmd: nc's -l, or a typo. */
static char *
cmd_option_hint(const char *cmd, const char *bad, int argc, char **argv,
    const struct cmd_option *all, size_t n)
{
	char	*line;

	if (hint_is_listen(bad))
		return (hint_listen(strncmp(cmd, "unix-", 5) == 0 ?
		    "unix-serve" : "serve", argv, argc));
	/* nc's and ncat's flags: the cstream spelling, not a typo's. */
	if ((line = hint_nc_option(cmd, optopt > 0 && optopt < 256 ?
	    optopt : 0, bad, argc, argv)) != NULL)
		return (line);
	return (hint_option(bad, all, n));
}

/*
 * Parse argv (argv[0] is the command name) with getopt_long in "return in
 * order" mode, so options may come before or after the positional
 * arguments and "--" ends the options. Returns 0, or -1 with *cause.
 */
int
cmd_parse(const struct cmd_entry *e, int argc, char **argv,
    struct cmd_args *args, char *cause, size_t causelen)
{
	struct cmd_option	*all;
	struct option		*lo;
	char			 optstring[128] = "-:";
	size_t			 n, i, k = 2;
	int			 c, li;

	all = cmd_merge_options(e, &n);
	lo = xcalloc(n + 1, sizeof *lo);
	for (i = 0; i < n; i++) {
		lo[i].name = all[i].name;
		lo[i].has_arg = all[i].has_arg == CMD_ARG_REQUIRED ?
		    required_argument : all[i].has_arg == CMD_ARG_OPTIONAL ?
		    optional_argument : no_argument;
		lo[i].val = 256 + (int)i;
		if (all[i].flag != 0 && k + 3 < sizeof optstring) {
			optstring[k++] = (char)all[i].flag;
			if (all[i].has_arg == CMD_ARG_REQUIRED)
				optstring[k++] = ':';
		}
	}
	optstring[k] = '\0';

	optind = 0;	/* glibc: full re-initialisation */
	opterr = 0;
	*cause = '\0';
	while ((c = getopt_long(argc, argv, optstring, lo, &li)) != -1) {
		if (c == 1) {
			cmd_args_push_pos(args, optarg);
			continue;
		}
		if (c == '?' || c == ':') {
			const char *bad = cmd_bad_option(c, argc, argv, cause,
			    causelen);

			if (c == '?') {
				free(args->hint);
				args->hint = cmd_option_hint(e->name, bad,
				    argc - 1, argv + 1, all, n);
			}
			break;
		}
		for (i = 0; i < n; i++) {
			if (c == 256 + (int)i || (c < 256 && c == all[i].flag))
				break;
		}
		if (i == n)
			continue;
		cmd_args_push_opt(args, &all[i], optarg);
		if (all[i].has_arg == CMD_ARG_OPTIONAL && optarg == NULL &&
		    optind < argc && args->hint == NULL)
			args->hint = hint_optional_value(&all[i], argv[optind]);
	}
	for (; *cause == '\0' && optind < argc; optind++)
		cmd_args_push_pos(args, argv[optind]);
	if (args->hint == NULL && *cause == '\0')
		args->hint = hint_nc_quit(argc - 1, argv + 1);
	free(lo);
	free(all);
	return (*cause != '\0' ? -1 : 0);
}

void
cmd_args_free(struct cmd_args *args)
{
	size_t	i;

	for (i = 0; i < args->nopts; i++)
		free((char *)args->opts[i].name);
	free(args->opts);
	free(args->pos);
	free(args->hint);
}

/* A bad option before the command name, as a value. */
enum cmd_bad {
	CMD_BAD_NONE,
	CMD_BAD_UNKNOWN,	/* not a global option */
	CMD_BAD_NO_VALUE	/* a global option without its value */
};

/*
 * Options given before the command name are global options; move them
 * after it so one parse sees them all. Returns the command's index; the
 * first bad option in *kind, *cause and its word in *bad, *help for -h.
 */
static int
cmd_split_globals(int argc, char **argv, char *cause, size_t causelen,
    enum cmd_bad *kind, const char **bad, int *help)
{
	struct option	 lo[16];
	char		 optstring[32] = "+:";
	size_t		 i, k = 2;
	int		 c;

	memset(lo, 0, sizeof lo);
	for (i = 0; cmd_global_options[i].name != NULL && i < 15; i++) {
		lo[i].name = cmd_global_options[i].name;
		lo[i].has_arg = cmd_global_options[i].has_arg ==
		    CMD_ARG_REQUIRED ? required_argument : no_argument;
		/* Above 255, so that optopt tells a long one (cmd_bad_option). */
		lo[i].val = cmd_global_options[i].id == OPT_HELP ? 'h' : 256;
		if (cmd_global_options[i].flag != 0)
			optstring[k++] = (char)cmd_global_options[i].flag;
	}
	optstring[k] = '\0';
	optind = 0;
	opterr = 0;
	*cause = '\0';
	*bad = NULL;
	*kind = CMD_BAD_NONE;
	*help = 0;
	while ((c = getopt_long(argc, argv, optstring, lo, NULL)) != -1) {
		if (c == 'h')
			*help = 1;
		else if ((c == '?' || c == ':') && *bad == NULL) {
			*bad = cmd_bad_option(c, argc, argv, cause, causelen);
			*kind = c == '?' ? CMD_BAD_UNKNOWN : CMD_BAD_NO_VALUE;
		}
	}
	return (optind);
}

/*
 * No command to run: a bad option before where it should be, help, no
 * command at all, or a word that is not a command.
 */

static int
cmd_no_command(int argc, char **argv, int ci, enum cmd_bad kind,
    const char *cause, const char *bad, int help)
{
	const struct cmd_entry	*e;
	char			 msg[256], *hint = NULL, *shown;
	size_t			 n;

	if (kind == CMD_BAD_NO_VALUE)
		cmd_print_error(NULL, cause);
	else if (kind == CMD_BAD_UNKNOWN) {
		for (n = 0; cmd_global_options[n].name != NULL; n++)
			;
		if (hint_is_udp(bad))	/* nc -u HOST PORT: the whole line */
			hint = hint_udp(argv + 1, argc - 1);
		else
			hint = cmd_option_hint("", bad, argc - 1, argv + 1,
			    cmd_global_options, n);
		cmd_print_error(NULL, cause);
	} else if (ci >= argc && help) {
		cmd_list(stdout);
		return (0);
	} else if (ci >= argc) {
		fprintf(stderr, "cstream: missing command\n");
		cmd_list(stderr);
		return (EXIT_USAGE);
	} else {
		/* A URL as the command: never its password in the lines. */
		shown = argv[ci] = url_redact(argv[ci]);
		if (cmd_find(argv[ci], &e, msg, sizeof msg) == CMD_UNKNOWN)
			hint = hint_command(argc, argv, ci, cmd_table);
		cmd_print_error(NULL, msg);
		free(shown);
	}
	hint_print(hint);
	free(hint);
	fprintf(stderr, "usage: cstream [GLOBAL OPTIONS] COMMAND ..."
	    " (cstream help lists the commands)\n");
	return (EXIT_USAGE);
}

/*
 * --max-time: the whole command's deadline, connecting, handshakes, every
 * step and the relay alike. A server stops as on SIGTERM; anything else
 * ends here, what is still queued dropped, as curl -m does.
 */
static void
cmd_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct cmd_ctx		*ctx = arg;
	struct stream_error	 err;
	const char		*v = cmd_get(ctx, OPT_MAX_TIME);

	stream_error_set(&err, STREAM_ETIMEOUT, ETIMEDOUT, "deadline passed "
	    "(--max-time %s)", v != NULL ? v : "");
	if (ctx->deadline_cb != NULL) {
		ctx->deadline_cb(&err, ctx->deadline_arg);
		return;
	}
	cmd_fail_stream(ctx, &err);
	fflush(stdout);
	_exit(EXIT_TIMEOUT);
}

static int
cmd_exec(const struct cmd_entry *e, struct cmd_args *args,
    struct global_opts *g)
{
	struct cmd_ctx	 ctx;
	struct event	*deadline = NULL;
	struct timeval	 tv;
	int		 rc;

	memset(&ctx, 0, sizeof ctx);
	ctx.entry = e;
	ctx.g = g;
	ctx.args = args;
	if (cmd_last(args, OPT_HELP) != NULL) {
		cmd_usage(e, 0);
		return (0);
	}
	if ((rc = cmd_apply_globals(&ctx)) != 0)
		return (rc);
	if (args->npos < e->min_pos)
		return (cmd_fail(&ctx, EXIT_USAGE, "missing argument"));
	if (args->npos > e->max_pos)
		return (cmd_fail(&ctx, EXIT_USAGE, "too many arguments: %s",
		    args->pos[e->max_pos]));
	log_init(g->verbose, g->quiet, g->json);
	if ((ctx.base = event_base_new()) == NULL)
		return (cmd_fail(&ctx, EXIT_NET, "event_base_new failed"));
	if (g->max_time > 0) {
		tv.tv_sec = (time_t)g->max_time;
		tv.tv_usec = (suseconds_t)((g->max_time - (double)tv.tv_sec) *
		    1e6);
		deadline = evtimer_new(ctx.base, cmd_deadline_cb, &ctx);
		if (deadline == NULL || evtimer_add(deadline, &tv) != 0)
			return (cmd_fail(&ctx, EXIT_NET, "evtimer_new failed"));
	}
	rc = e->exec(&ctx);
	if (deadline != NULL)
		event_free(deadline);
	event_base_free(ctx.base);
	return (rc);
}

/* --completion SHELL, --completion=SHELL: the script on stdout. */
static int
cmd_completion(int argc, char **argv)
{
	const char	*shell = NULL;

	if (strncmp(argv[1], "--completion=", 13) == 0 && argc == 2)
		shell = argv[1] + 13;
	else if (strcmp(argv[1], "--completion") == 0 && argc == 3)
		shell = argv[2];
	if (shell == NULL) {
		fprintf(stderr, "cstream: --completion takes one argument:"
		    " bash, zsh or fish\n");
		return (EXIT_USAGE);
	}
	if (completion_print(shell, cmd_table, cmd_global_options) != 0) {
		fprintf(stderr, "cstream: --completion %s: unknown shell "
		    "(bash, zsh or fish)\n", shell);
		return (EXIT_USAGE);
	}
	return (0);
}

int
cmd_run(int argc, char **argv, struct global_opts *g)
{
	const struct cmd_entry	*e = NULL;
	struct cmd_args		 args;
	char			 cause[256], gcause[256], **nargv;
	const char		*bad;
	enum cmd_bad		 kind;
	int			 ci, i, n = 0, rc, help;

	if (argc >= 2 && strncmp(argv[1], "--completion", 12) == 0)
		return (cmd_completion(argc, argv));
	ci = cmd_split_globals(argc, argv, gcause, sizeof gcause, &kind, &bad,
	    &help);
	/* A bad global option with a command is the command's parse's. */
	if (ci < argc)
		(void)cmd_find(argv[ci], &e, cause, sizeof cause);
	if (e == NULL)
		return (cmd_no_command(argc, argv, ci, kind, gcause, bad,
		    help));

	/* argv for the command: its name, leading globals, the rest. */
	nargv = xcalloc(argc + 1, sizeof *nargv);
	nargv[n++] = argv[ci];
	for (i = 1; i < ci; i++)
		nargv[n++] = argv[i];
	for (i = ci + 1; i < argc; i++)
		nargv[n++] = argv[i];

	memset(&args, 0, sizeof args);
	if (cmd_parse(e, n, nargv, &args, cause, sizeof cause) != 0) {
		cmd_print_error(e->name, cause);
		hint_print(args.hint);
		cmd_usage(e, 1);
		rc = EXIT_USAGE;
	} else
		rc = cmd_exec(e, &args, g);
	cmd_args_free(&args);
	free(nargv);
	return (rc);
}

static int
cmd_help_exec(struct cmd_ctx *ctx)
{
	const struct cmd_entry	*e;
	char			 cause[256];

	if (ctx->args->npos == 0) {
		cmd_list(stdout);
		return (0);
	}
	if (cmd_find(ctx->args->pos[0], &e, cause, sizeof cause) != CMD_FOUND)
		return (cmd_fail(ctx, EXIT_USAGE, "%s", cause));
	cmd_usage(e, 0);
	return (0);
}

const struct cmd_entry cmd_help_entry = {
	"help", "[COMMAND]", "show the commands, or one command's options",
	0, 1, NULL, cmd_help_exec, 0
};
