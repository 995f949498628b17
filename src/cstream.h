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

#ifndef CSTREAM_H
#define CSTREAM_H

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "compat.h"
#include "net.h"
#include "log.h"
#include "parse.h"
#include "stream.h"
#include "tls.h"
#include "xmalloc.h"

struct event_base;
struct evbuffer;
struct url;
struct addrinfo;
struct ssl_ctx_st;
struct ssl_st;

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

struct cmd_option {
	const char	*name;		/* long name, without -- */
	int		 flag;		/* short letter, or 0 */
	int		 has_arg;
	int		 id;		/* the command's own code, 1..999 */
	const char	*argname;	/* for help: "STR", "FILE", NULL for flags */
	const char	*help;		/* one line for --help */
};

/*
 * The TLS options connect, unix-connect, http-head, serve and unix-serve
 * share (cmd-tls.c): one id each, above every command's own (1..899),
 * below the global ones (1000..).
 */
enum {
	TOPT_CERT = 900,	/* client: --cert; serve keeps its own */
	TOPT_KEY,
	TOPT_ALPN,
	TOPT_SERVERNAME,
	TOPT_NO_SNI,
	TOPT_TLS_MIN,
	TOPT_TLS_MAX,
	TOPT_CLIENT_CA,
	TOPT_CLIENT_CERT
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
};

struct cmd_ctx {
	const struct cmd_entry	*entry;
	struct event_base	*base;
	struct global_opts	*g;
	struct cmd_args		*args;
	int			 exit_code;	/* set by cmd_fail */
};

extern const struct cmd_entry *cmd_table[];

/* cmd.c */
int		 cmd_run(int argc, char **argv, struct global_opts *);
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
char		*hint_listen(const char *, char **, int);
char		*hint_connect_target(const char *, const char *);
char		*hint_command(int, char **, int, const struct cmd_entry *const *);
char		*hint_option(const char *, const struct cmd_option *, size_t);
char		*hint_optional_value(const struct cmd_option *, const char *);

/* completion.c: shell completion scripts from the option tables. */
int		 completion_print(const char *shell,
		     const struct cmd_entry *const *, const struct cmd_option *);

/* suggest.c: the closest name to a mistyped one. */
size_t		 suggest_distance(const char *, const char *);
const char	*suggest_closest(const char *, const char *const *, size_t);

/*
 * cmd-tls.c: the TLS client options (--cafile, -k, --cert, --key, --alpn,
 * --servername, --no-sni, --tls-min, --tls-max) made into a context, and
 * the server's (--client-ca, --client-cert, --alpn, --tls-min, --tls-max)
 * applied to one. The exit status on failure, after its message.
 */
struct tls_config;
int		 cmd_tls_config(struct cmd_ctx *, int server, struct tls_config *);
int		 cmd_tls_client_ctx(struct cmd_ctx *, const char *cafile,
		     int insecure, const char *alpn, struct ssl_ctx_st **);
int		 cmd_tls_server_setup(struct cmd_ctx *, struct ssl_ctx_st *);
/* The first given of the TLS options a plain connection cannot use. */
const char	*cmd_tls_stray(struct cmd_ctx *);

/* cmd-reach.c: --resolve, --proxy and --noproxy for connect and http-head. */
struct proxy;
int		 cmd_reach_resolve(struct cmd_ctx *, int resolve_id);
int		 cmd_reach_proxy(struct cmd_ctx *, int proxy_id, int noproxy_id,
		     const char *host, int env, int https, struct proxy *,
		     int *use);

/*
 * proxy.c, proxy-http.c, proxy-socks.c: tunnels through HTTP (CONNECT) and
 * SOCKS5 proxies, proxy URLs and curl's environment rules.
 */
enum proxy_type {
	PROXY_HTTP,		/* http://: CONNECT, or absolute-form for http */
	PROXY_SOCKS5,		/* socks5://: names resolved here */
	PROXY_SOCKS5H		/* socks5h://: names resolved by the proxy */
};

struct proxy {
	enum proxy_type	 type;
	char		*host;		/* IPv6 without brackets */
	char		*port;		/* 1080 unless given, as curl */
	char		*user;		/* percent-decoded, NULL if none */
	char		*pass;
	char		*label;		/* "127.0.0.1:3128", for messages */
	char		*src_addr;	/* -s: bind the proxy connection */
	char		*src_port;	/* -p */
};

/* Parse a proxy URL; -1 with a static *cause, *p untouched then. */
int		 proxy_parse(const char *, struct proxy *, const char **cause);
void		 proxy_free(struct proxy *);
const char	*proxy_scheme(const struct proxy *);
/* curl's environment: the proxy URL for an http or https URL, or NULL. */
const char	*proxy_from_env(int https);
/* Does host match a no_proxy list ("*", names and domain suffixes)? */
int		 proxy_no_proxy(const char *list, const char *host);
/* The no_proxy list of the environment, or NULL. */
const char	*proxy_no_proxy_env(void);
/* A request in absolute-form for an HTTP proxy, Proxy-Authorization added. */
char		*proxy_absolute_request(const struct proxy *, const struct url *,
		     const char *request, size_t len, size_t *outlen);
/*
 * open_connection through a proxy (NULL: directly): connect to the proxy,
 * open the tunnel to host port, then TLS end to end if opts->tls_ctx.
 * opts->connect_timeout bounds all of it.
 */
void		 proxy_open_connection(struct event_base *, const struct proxy *,
		     const char *host, const char *port,
		     const struct stream_opts *, stream_done_cb, void *);
/*
 * connect -z through a proxy: open a tunnel to host port and close it.
 * OPEN: the proxy connected it; CLOSED: the proxy answered that it could
 * not (SOCKS5 refused or unreachable, an HTTP error status); TIMEOUT: no
 * answer within opts->connect_timeout, or the proxy said so (SOCKS5 TTL
 * expired, HTTP 504); FAILED: the proxy itself failed (unreachable,
 * authentication, protocol), err says how.
 */
enum proxy_probe_result {
	PROXY_PROBE_OPEN,
	PROXY_PROBE_CLOSED,
	PROXY_PROBE_TIMEOUT,
	PROXY_PROBE_FAILED
};
typedef void	(*proxy_probe_cb)(enum proxy_probe_result,
		    const struct stream_error *, void *);
void		 proxy_probe(struct event_base *, const struct proxy *,
		     const char *host, const char *port,
		     const struct stream_opts *, proxy_probe_cb, void *);

/* url.c: http and https URLs (RFC 3986), redirect targets. */
struct url {
	int		 tls;		/* https */
	char		*host;		/* as given, IPv6 without brackets */
	char		*port;		/* always set: given, or 80 / 443 */
	char		*target;	/* path?query as given, "/" if empty */
	int		 ip;		/* 4 or 6 for an IP literal, else 0 */
	int		 default_port;	/* port is the scheme's default */
};
/* Parse an absolute URL. -1 with a static *cause; *u untouched then. */
int		 url_parse(const char *, struct url *, const char **cause);
/* Resolve a (Location) reference against base (RFC 3986 5.2). */
int		 url_resolve(const struct url *base, const char *ref,
		     struct url *, const char **cause);
/* "https://[::1]:8443/a?b": the port only when not the default. */
char		*url_string(const struct url *);
/* The Host header value: "name", "name:8080", "[::1]:8443". */
char		*url_authority(const struct url *);
/* Same scheme, host (case-insensitive) and port. */
int		 url_same_origin(const struct url *, const struct url *);
void		 url_free(struct url *);

/* http.c: a HEAD request, the response header block, JSON output. */
#define HTTP_MAX_INTERIM	16	/* 1xx blocks before the final one */

struct http_header {
	char		*line;		/* as printed: CR, trailing blanks gone */
	char		*name;
	char		*value;		/* without surrounding blanks */
};

struct http_response {
	char		*status_line;	/* as printed */
	char		 version[9];	/* "HTTP/1.1" */
	int		 status;
	char		*reason;
	struct http_header *headers;
	size_t		 nheaders;
	size_t		 headerscap;	/* allocated, grown by doubling */
	/* The last header's line and value, for joining obs-fold in place. */
	size_t		 lastlinelen, lastlinecap;
	size_t		 lastvaluelen, lastvaluecap;
	size_t		 nlines;	/* lines fed so far, status line included */
	size_t		 size;		/* bytes of the block so far */
	size_t		 limit;		/* most bytes before the blank line */
	struct tls_summary *tls;	/* https: the handshake and chain */
};

enum http_parse {
	HTTP_PARSE_MORE,	/* need another line */
	HTTP_PARSE_DONE,	/* the blank line ended the block */
	HTTP_PARSE_ERROR,	/* malformed: not HTTP, bad header syntax */
	HTTP_PARSE_LIMIT	/* the block is over limit bytes */
};

/* Build the request; -1 with *cause for a malformed -H header. */
int		 http_request(const struct url *, int http10,
		     char *const *headers, size_t nheaders, int same_origin,
		     char **out, size_t *outlen, const char **cause);
struct http_response *http_response_new(size_t limit);
void		 http_response_free(struct http_response *);
/* Feed one line with its \n (bare LF accepted) or \r\n. */
enum http_parse	 http_response_line(struct http_response *, const char *,
		     size_t, char *cause, size_t causelen);
const char	*http_header_get(const struct http_response *, const char *);
/*
 * One JSON object, no newline: {"url":..,"version":..,"headers":[..]},
 * and "tls":{..} (tls-cert.c's summary, at now) over https.
 */
char		*http_json(const struct http_response *, const char *url);
/* Bytes made printable for messages (\xHH), cut with "..." to fit. */
void		 http_quote(const char *, size_t, char *, size_t);

/*
 * One HEAD exchange over a stream: connect (through proxy unless NULL;
 * TLS if opts->tls_ctx), send
 * the request, read each header block through its blank line without
 * waiting for EOF. cb runs once per block with the response (the callee
 * owns it); the block is final unless its status is 1xx (not 101). On a
 * failure cb runs once with resp NULL: malformed set for a response that
 * is not HTTP or ends early (exit 8), else err is the stream's error.
 * The last call comes after the stream is closed.
 */
struct http_failure {
	int			 malformed;
	struct stream_error	 err;
};
typedef void	(*http_response_cb)(struct http_response *,
		    const struct http_failure *, void *);
void		 http_head(struct event_base *, const struct url *,
		     const char *request, size_t requestlen,
		     const struct stream_opts *, const struct proxy *,
		     http_response_cb, void *);

/*
 * relay.c, the wiring layer: streams connected to stdio, to themselves
 * (echo), to a sink (discard) or to each other. Built only on stream.h.
 */

/*
 * A pump moves bytes from one stream's reader to another stream's writer,
 * moving evbuffer chains (no copy), and stops reading while the writer
 * holds more than its high-water mark (drain). src may equal dst (echo).
 */
struct pump;

#define PUMP_WRITE_EOF	0x1	/* at EOF, half-close dst after the bytes */
#define PUMP_FLUSH	0x2	/* at EOF, finish only once dst is flushed */

/* Where a pump failed: reading its source or writing its destination. */
enum pump_side {
	PUMP_SIDE_NONE,
	PUMP_SIDE_READ,
	PUMP_SIDE_WRITE
};

typedef void	(*pump_done_cb)(struct pump *, enum pump_side,
		    const struct stream_error *, void *);

struct pump	*pump_start(struct stream *src, struct stream *dst, int flags,
		     pump_done_cb, void *);
/*
 * A filter sees each chunk before it is written and may rewrite it in
 * place (-C's CRLF, -x's dump). A filtered pump never hands the work to
 * the kernel (stream_transfer): every byte passes through the filter.
 */
typedef void	(*pump_filter_cb)(struct evbuffer *, void *);
struct pump	*pump_start_filtered(struct stream *src, struct stream *dst,
		     int flags, pump_filter_cb, void *filter_arg, pump_done_cb,
		     void *);
unsigned long long pump_bytes(struct pump *);
void		 pump_free(struct pump *);

/*
 * A relay between a network stream and stdio, with the end-of-transfer
 * rules of doc/cli.md (connect, and serve in its default mode): done when
 * stdin's EOF was sent and the peer closed; a peer that closes first ends
 * the transfer at once when stdin is a terminal, otherwise stdin is still
 * sent and a refused write is an error, never a silent truncation.
 */
struct relay;

#define RELAY_NO_SHUTDOWN	0x1	/* no half-close at stdin EOF */
#define RELAY_STDIN_TTY		0x2	/* stdin is a terminal */
#define RELAY_EOF_TO_IO		0x4	/* the peer's EOF half-closes io too */

typedef void	(*relay_done_cb)(struct relay *, const struct stream_error *,
		    void *);

struct relay	*relay_start(struct stream *net, struct stream *io, int flags,
		     relay_done_cb, void *);
/* The same with filters on what is sent (up) and received (down). */
struct relay	*relay_start_filtered(struct stream *net, struct stream *io,
		     int flags, pump_filter_cb up, pump_filter_cb down,
		     void *filter_arg, relay_done_cb, void *);
unsigned long long relay_bytes_sent(struct relay *);
unsigned long long relay_bytes_received(struct relay *);
/* On a signal: 1, and the close will be a reset, if input was unfinished. */
int		 relay_interrupt(struct relay *);
/* Free the relay; the streams are the caller's to close. */
void		 relay_free(struct relay *);


#endif /* CSTREAM_H */
