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

#ifndef CONNECT_H
#define CONNECT_H

/*
 * The connect command's private header, shared by cmd-connect.c (the
 * command: options, connecting, the relay, signals), connect-oneshot.c (the
 * --send* and --read* steps) and connect-end.c (how a connection ends and
 * what it writes to stdout). The calls go down that list, never up.
 */

#include <sys/types.h>

#include <regex.h>

#include "cmd.h"
#include "crlf.h"
#include "hexdump.h"
#include "proxy.h"
#include "timing.h"

struct progress;

/* --starttls: the plain dialogues of connect-starttls.c. */
enum starttls_proto {
	STARTTLS_NONE,
	STARTTLS_SMTP,
	STARTTLS_IMAP,
	STARTTLS_POP3,
	STARTTLS_FTP,
	STARTTLS_POSTGRES
};

struct starttls;

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
	regex_t		*expect;	/* --expect after this read, or NULL */
	const char	*expect_src;	/* the pattern, for the message */
	struct evbuffer	*seen;		/* a streamed read's bytes, to match */
	int		 seen_cut;	/* ... more than --limit of them */
};

struct conn {
	struct cmd_ctx		*ctx;
	struct stream_opts	 opts;
	const char		*target;	/* for messages: "HOST port PORT", PATH */
	char			 port[8];	/* PORT as a number */
	int			 source;	/* -s or -p */
	char			 src_port[8];
	struct stream		*net;
	struct stream		*io;
	struct relay		*relay;		/* the relay, or receive mode */
	struct step		*steps;
	size_t			 nsteps;
	size_t			 next;		/* the step under way */
	long long		 remaining;	/* --read-exactly */
	int			 oneshot;
	size_t			 eof_step;	/* the end of sending */
	int			 receive;	/* --send* without --read*: relay */
	struct event		*sigev[3];
	int			 code;
	int			 done;
	struct progress		*progress;	/* --progress */
	int			 filtering;	/* -C or -x: no kernel transfer */
	int			 crlf_on;
	struct crlf		 crlf;
	struct hexdump		*hd;
	struct hexdump_dir	 hd_sent;
	struct hexdump_dir	 hd_received;
	struct proxy		 proxy;
	int			 use_proxy;
	struct ssl_ctx_st	*tls_ctx;	/* --tls or --starttls */
	enum starttls_proto	 starttls_proto;
	struct starttls		*starttls;	/* the plain phase under way */
	int			 upgraded;	/* the plain phase is over */
	int			 show_cert;	/* 1: text, 2: =pem */
	int			 expire;	/* --expire-warn given */
	long long		 expire_days;
	stream_done_cb		 starttls_cb;	/* the TLS stream's callback */
	struct conn_wait	*wait;		/* --wait SEC, or NULL */
	struct timings		 timings;	/* taken at the end */
	int			 timed;
};

/* connect-end.c */
void	conn_progress_end(struct conn *);
void	conn_end(struct conn *, const struct stream_error *);
void	conn_fail(struct conn *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	conn_stdout_fail(struct conn *, const struct stream_error *);
void	conn_sent_filter_cb(struct evbuffer *, void *);
void	conn_received_filter_cb(struct evbuffer *, void *);
int	conn_output(struct conn *, struct evbuffer *);

/* connect-starttls.c */
int	starttls_parse(const char *, enum starttls_proto *);
const char *starttls_name(enum starttls_proto);
void	starttls_start(struct conn *, struct stream *plain);
void	starttls_free(struct conn *);

/* connect-udp.c: connect -u and unix-connect --dgram, the whole command. */
int	udp_connect_run(struct cmd_ctx *, int is_unix);
/* connect-expect.c: --expect REGEX after a --read* step. */
int	expect_compile(struct conn *, struct step *, const struct cmd_arg *);
void	expect_keep(struct conn *, struct step *, struct evbuffer *);
int	expect_check(struct conn *, struct step *, struct evbuffer *,
	    char *, size_t);
void	expect_free(struct step *);

/*
 * connect-wait.c: --wait SEC, retrying the connect until it succeeds.
 * open starts one attempt (cmd-connect.c's, a hook so that this file
 * never calls up); a failed attempt comes back through wait_failed.
 */
struct portscan_opts;
int	wait_parse(struct cmd_ctx *, double *);
void	wait_start(struct conn *, double, void (*)(struct conn *));
int	wait_failed(struct conn *, const struct stream_error *);
void	wait_ready(struct conn *);
void	wait_free(struct conn *);
int	wait_scan(struct cmd_ctx *, struct portscan_opts *, double,
	    const uint16_t *, size_t);

/* connect-oneshot.c */
int	oneshot_plan(struct conn *);
void	oneshot_start(struct conn *);
long long oneshot_size(struct conn *);
void	oneshot_free(struct conn *);

#endif /* CONNECT_H */
