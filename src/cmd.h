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


#ifndef CMD_H
#define CMD_H

/*
 * The command layer: exit codes, global options, the command table and
 * its option parsing (cmd.c), usage hints (cmd-hint.c), completion
 * (completion.c) and how connect and http-head reach a host (cmd-reach.c).
 * Only the command files and main include it.
 */

#include <stddef.h>

#include "stream.h"

struct event_base;
struct proxy;

/* Exit status (doc/cli.md, "Exit status"). Mapped in one place: cmd.c. */
#define EXIT_NET	1	/* network or I/O error */
#define EXIT_USAGE	2	/* usage error */
#define EXIT_RESOLVE	3	/* name resolution failed */
#define EXIT_TIMEOUT	4	/* connect or idle timeout */
#define EXIT_INCOMPLETE	5	/* EOF before a --read* operation completed */
#define EXIT_LIMIT	6	/* line, record or header block over --limit */
#define EXIT_TLS	7	/* TLS handshake or verification failed */
#define EXIT_PROTO	8	/* malformed HTTP response, too many redirects */
#define EXIT_HTTP	9	/* HTTP status >= 400 with --fail */
#define EXIT_EXPECT	10	/* --expect or --expect-status not met */
#define EXIT_EXPIRE	11	/* --expire-warn: a certificate expires soon */

/* Global options, valid for every command. */
struct global_opts {
	int		 family;		/* AF_UNSPEC, AF_INET, AF_INET6 */
	int		 verbose;
	int		 quiet;
	int		 json;			/* --log-format json */
	size_t		 limit;			/* --limit */
	double		 connect_timeout;	/* <= 0: none */
	double		 idle_timeout;		/* <= 0: none */
	double		 max_time;		/* --max-time, <= 0: none */
};

/*
 * Command table (cmd.c). Each command file defines one or two entries.
 * Options are parsed by cmd.c from the command's option table plus the
 * global ones, in any order with the positional arguments, into a
 * struct cmd_args that keeps every option in the order given (--send and
 * --read-* are ordered operations).
 */
#define CMD_ARG_NONE		0
#define CMD_ARG_REQUIRED	1
#define CMD_ARG_OPTIONAL	2	/* only as --name=value */

/*
 * Option ids: one space for every command, so an option shared by several
 * commands (a block below, or the same name in two tables) has one id.
 * The read steps of connect stay contiguous (OPT_READ_LINE..OPT_READ_ALL).
 */
enum cmd_opt_id {
	/* Global options, valid for every command (cmd.c). */
	OPT_IPV4 = 1,
	OPT_IPV6,
	OPT_VERBOSE,
	OPT_QUIET,
	OPT_LOG_FORMAT,
	OPT_LIMIT,
	OPT_CONNECT_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_MAX_TIME,
	OPT_HELP,

	/* Shared blocks (cmd.c, CMD_OPTS_*). */
	OPT_TLS,
	OPT_CAFILE,
	OPT_INSECURE,
	OPT_PROXY,
	OPT_NOPROXY,
	OPT_RESOLVE,
	OPT_SOURCE,
	OPT_SOURCE_PORT,
	OPT_ALPN,		/* the TLS options of cmd-tls.c */
	OPT_SERVERNAME,
	OPT_NO_SNI,
	OPT_TLS_MIN,
	OPT_TLS_MAX,

	/* Options of several commands, each table with its own help line. */
	OPT_JSON,
	OPT_PROGRESS,
	OPT_HEX_DUMP,
	OPT_UDP,		/* -u: datagrams (connect, serve) */
	OPT_DGRAM,		/* --dgram: unix datagrams */
	OPT_WAIT,		/* connect, unix-connect, http-head */

	/* connect and unix-connect. */
	OPT_SEND,
	OPT_SEND_FILE,
	OPT_EOF,
	OPT_READ_LINE,
	OPT_READ_UNTIL,
	OPT_READ_EXACTLY,
	OPT_READ,
	OPT_READ_ALL,
	OPT_FD,
	OPT_NO_SHUTDOWN,
	OPT_ZERO_IO,
	OPT_CONCURRENCY,
	OPT_CRLF,
	OPT_EXPECT,
	OPT_SHOW_CERT,
	OPT_EXPIRE_WARN,	/* and http-head */
	OPT_STARTTLS,

	/* serve and unix-serve. */
	OPT_KEEP_OPEN,
	OPT_ECHO,
	OPT_DISCARD,
	OPT_EXEC,
	OPT_SH_EXEC,
	OPT_BROKER,
	OPT_MAX_CONNS,
	OPT_ALLOW,
	OPT_DENY,
	OPT_WORKERS,
	OPT_CERT,		/* and the TLS clients' --cert */
	OPT_KEY,
	OPT_MODE,
	OPT_READY_FILE,
	OPT_READY_FD,
	OPT_CLIENT_CA,
	OPT_CLIENT_CERT,
	OPT_ACCEPT_PROXY,
	/* serve's forwarding (-s, --proxy and --resolve are the ids above). */
	OPT_TO,
	OPT_TO_UNIX,
	OPT_BALANCE,
	OPT_TO_TLS,
	OPT_TO_CAFILE,
	OPT_TO_INSECURE,
	OPT_SEND_PROXY,

	/* http-head. */
	OPT_PREFIX,
	OPT_HEADER,
	OPT_HTTP10,
	OPT_LOCATION,
	OPT_MAX_REDIRS,
	OPT_FAIL,
	OPT_EXPECT_STATUS
};

/*
 * Blocks of options that several commands share, defined once in cmd.c
 * and merged into a command's table (after its own options) as the global
 * options are: a command names its blocks in cmd_entry.blocks.
 */
#define CMD_OPTS_TLS_VERIFY	0x1	/* --cafile, -k/--insecure, --cert, --key,
					   --alpn, --tls-min, --tls-max */
#define CMD_OPTS_TLS_CLIENT	0x3	/* --tls, --servername, --no-sni, and
					   the verify block */
#define CMD_OPTS_PROXY		0x4	/* --proxy, --noproxy, --resolve */
#define CMD_OPTS_SOURCE		0x8	/* -s/--source, -p/--source-port */

struct cmd_option {
	const char	*name;		/* long name, without -- */
	int		 flag;		/* short letter, or 0 */
	int		 has_arg;
	int		 id;		/* an OPT_ of enum cmd_opt_id */
	const char	*argname;	/* for help: "STR", "FILE", NULL for flags */
	const char	*help;		/* one line for --help */
};

struct cmd_arg {
	int		 id;
	const char	*name;		/* as documented, for messages: "--limit" */
	const char	*value;		/* NULL for flags */
};

struct cmd_args {
	struct cmd_arg	*opts;
	size_t		 nopts;
	char		**pos;
	int		 npos;
	char		*hint;		/* a usage error's second line, or NULL */
};

struct cmd_ctx;

struct cmd_entry {
	const char		*name;
	const char		*usage;		/* after the name: "[OPTIONS] HOST PORT" */
	const char		*summary;	/* one line for help */
	int			 min_pos;
	int			 max_pos;
	const struct cmd_option	*options;	/* terminated by a NULL name */
	int			(*exec)(struct cmd_ctx *);
	int			 blocks;	/* CMD_OPTS_*: shared options */
};

struct cmd_ctx {
	const struct cmd_entry	*entry;
	struct event_base	*base;
	struct global_opts	*g;
	struct cmd_args		*args;
	int			 exit_code;	/* set by cmd_fail */
	/*
	 * --max-time passed: a server stops as on SIGTERM and exits 4
	 * (err says why); without a callback the command exits 4 at once.
	 */
	void			(*deadline_cb)(const struct stream_error *,
				    void *);
	void			*deadline_arg;
	int			 hold_errors;	/* cmd_fail keeps, not prints */
	char			 held[512];	/* ... the last message kept */
};

extern const struct cmd_entry *cmd_table[];

/* cmd.c */
int		 cmd_run(int argc, char **argv, struct global_opts *);
/* A command's whole table: its own options, then its blocks. */
const struct cmd_option *cmd_options(const struct cmd_entry *);
/*
 * argv (argv[0] the command's name) into args: the command's options and
 * the global ones, in any order with the positional arguments. 0, or -1
 * with *cause (and args->hint, perhaps). cmd_run's; the unit tests' too.
 */
int		 cmd_parse(const struct cmd_entry *, int argc, char **argv,
		     struct cmd_args *, char *cause, size_t causelen);
void		 cmd_args_free(struct cmd_args *);
int		 cmd_has(struct cmd_ctx *, int id);
const char	*cmd_get(struct cmd_ctx *, int id);
int		 cmd_exit_code(const struct stream_error *);
int		 cmd_fail(struct cmd_ctx *, int code, const char *fmt, ...)
		     __attribute__((format(printf, 3, 4)));
int		 cmd_fail_stream(struct cmd_ctx *, const struct stream_error *);
void		 cmd_usage(const struct cmd_entry *, int to_stderr);
void		 cmd_stream_opts(struct cmd_ctx *, struct stream_opts *);
int		 cmd_check_unix_path(struct cmd_ctx *, const char *);
void		 cmd_set_hint(struct cmd_ctx *, char *);

/* cmd-hint.c: the second line of a usage error (allocated, or NULL). */
void		 hint_print(const char *);
int		 hint_is_listen(const char *);
int		 hint_is_udp(const char *);
char		*hint_udp(char **, int);
char		*hint_listen(const char *, char **, int);
char		*hint_connect_target(const char *, const char *);
char		*hint_command(int, char **, int, const struct cmd_entry *const *);
char		*hint_option(const char *, const struct cmd_option *, size_t);
char		*hint_optional_value(const struct cmd_option *, const char *);
int		 hint_is_proxy_address(const char *);
char		*hint_nc_proxy(int, char **);
const char	*hint_proxy_scheme(const char *, const char *);
char		*hint_nc_quit(int, char **);
char		*hint_nc_option(const char *, int, const char *, int, char **);

/* completion.c: shell completion scripts from the option tables. */
int		 completion_print(const char *shell,
		     const struct cmd_entry *const *, const struct cmd_option *);


/*
 * cmd-tls.c: the TLS client options (--cafile, -k, --cert, --key, --alpn,
 * --servername, --no-sni, --tls-min, --tls-max) made into a context, and
 * the server's (--client-ca, --client-cert, --alpn, --tls-min, --tls-max)
 * applied to one. The exit status on failure, after its message.
 */
struct tls_config;
struct ssl_ctx_st;
int		 cmd_tls_config(struct cmd_ctx *, int server, struct tls_config *);
int		 cmd_tls_client_ctx(struct cmd_ctx *, const char *cafile,
		     int insecure, const char *alpn, struct ssl_ctx_st **);
int		 cmd_tls_server_setup(struct cmd_ctx *, struct ssl_ctx_st *);
/* The first given of the TLS options a plain connection cannot use. */
const char	*cmd_tls_stray(struct cmd_ctx *);

/* cmd-reach.c: --resolve, --proxy and --noproxy for connect and http-head. */
struct proxy;
int		 cmd_reach_resolve(struct cmd_ctx *);
int		 cmd_reach_proxy(struct cmd_ctx *, const char *host, int env,
		     int https, struct proxy *, int *use);

#endif /* CMD_H */
