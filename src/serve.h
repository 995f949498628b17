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


#ifndef SERVE_H
#define SERVE_H

/*
 * The serve command's private header: the server and its clients, shared
 * by cmd-serve.c (the command), serve-client.c (a client's life), serve-acl.c
 * (--allow/--deny), serve-fanout.c (-k stdin and --broker), serve-exec.c
 * (--exec, --sh-exec), serve-workers.c (--workers), serve-forward.c (--to,
 * --to-unix) and serve-accept-proxy.c (--accept-proxy). They are one floor
 * (commands, doc/architecture.md) and call each other by name.
 */

#include <sys/queue.h>
#include <sys/types.h>
#include <sys/socket.h>

#include "cmd.h"
#include "hexdump.h"
#include "proxy-protocol.h"
#include "proxy.h"

/* How much one read of a client or of stdin may hand over. */
#define SERVE_CHUNK	STREAM_CHUNK

enum serve_mode {
	MODE_RELAY,
	MODE_KEEP_OPEN,
	MODE_ECHO,
	MODE_DISCARD,
	MODE_EXEC,
	MODE_BROKER,
	MODE_FORWARD
};

/* --allow / --deny: one address or CIDR block. */
struct acl_rule {
	int		 family;
	unsigned char	 addr[16];
	int		 bits;
	int		 allow;
};

/* Every rule, in the order given. */
struct acl {
	struct acl_rule	*rules;
	size_t		 n;
	int		 has_allow;
};

/* --workers: the other processes, which the first one stops. */
struct workers {
	pid_t		*pids;
	size_t		 n;
};

struct client;
struct progress;
struct fwd_conn;
struct serve;

/*
 * A back end that neither accepts nor refuses is given up after this,
 * without --connect-timeout (not the kernel's two minutes per client).
 */
#define SERVE_FWD_CONNECT_TIMEOUT	10.0

/* --to HOST:PORT or --to-unix PATH: one back end. */
struct fwd_target {
	int			 is_unix;
	char			*host;		/* IPv6 without brackets; a path */
	char			*port;		/* numeric; NULL for unix */
	char			*label;		/* "host:port", "[v6]:port", path */
};

/* Forward mode: the back ends and how each client reaches one. */
struct forward {
	struct fwd_target	*targets;
	size_t			 n;
	int			 rr;		/* --balance rr */
	size_t			 next;		/* rr: the next client's first */
	struct stream_opts	 opts;		/* timeouts, family; --to-tls */
	struct proxy		 proxy;		/* --proxy */
	int			 use_proxy;
	const char		*src_addr;	/* -s */
	int			 send_proxy;	/* --send-proxy: 0, 1 or 2 */
};

/* --accept-proxy: a client whose PROXY header is still being read. */
struct pp_reader;
TAILQ_HEAD(pp_readers, pp_reader);
typedef void	(*pp_accept_cb)(struct serve *, struct stream *,
		    const struct pp_header *);

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
	struct stream		*pair;		/* --exec: the child's end */
	int			 out_done;	/* --exec: its output all sent */
	int			 in_done;	/* --exec: the client's EOF read */
	int			 in_waiting;	/* --exec: on the child's drain */
	int			 in_dropping;	/* --exec: the child reads no more */
	struct event		*linger;	/* --exec: lingering close bound */
	char			*peer;		/* its address, or "" */
	struct pp_header	*pp;		/* --accept-proxy: its header */
	struct fwd_conn		*fwd;		/* forward mode */
	struct hexdump_conn	*hdc;		/* -x, NULL without */
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
	struct acl		 acl;
	char			**argv;		/* --exec */
	struct event		*ev_sig[3];	/* INT, TERM, HUP */
	struct event		*ev_chld;
	struct event		*ev_grace;
	struct event		*ev_prune;	/* -k: half-closed clients */
	long long		 nworkers;	/* --workers, 1 without */
	struct workers		 workers;
	int			 stopping;
	int			 code;
	int			 done;
	struct hexdump		*hd;		/* -x */
	int			 hd_failed;	/* a write of the dump failed */
	struct progress		*progress;	/* --progress */
	unsigned long long	 gone_out;	/* --progress: clients gone */
	unsigned long long	 gone_in;
	struct serve_ready	*ready;		/* serve-ready.c */
	int			*act_fds;	/* socket activation's */
	char			**act_names;
	size_t			 nact;
	struct forward		*fwd;		/* --to, --to-unix */
	int			 accept_proxy;	/* --accept-proxy */
	struct pp_readers	 pp_readers;
};

/* cmd-serve.c */
/* Stop: no new clients, open ones get a grace period to flush. */
void	serve_stop(struct serve *, const struct stream_error *);
/* A client leaves: its byte counts stay for --progress. */
void	serve_forget(struct client *);

/* serve-client.c */
struct client *client_new(struct serve *, struct stream *,
	    const struct pp_header *);
void	client_close(struct client *, int flush);
void	client_error(struct client *, const struct stream_error *);
void	serve_maybe_done(struct serve *);
void	serve_flushed_cb(struct stream *, const struct stream_error *, void *);

/* serve-acl.c */
int	acl_add(struct acl *, const char *spec, int allow, const char **cause);
int	acl_permits(const struct acl *, const struct sockaddr_storage *);
void	acl_free(struct acl *);

/* serve-fanout.c */
void	fanout_client_read(struct client *);
void	fanout_stdin_read(struct serve *);
void	fanout_forget(struct client *);

/* serve-exec.c */
int	exec_parse_command(struct serve *, const char *exec,
	    const char *sh_exec);
void	exec_client(struct client *);
void	exec_reap(struct serve *);
void	exec_free(struct serve *);

/* serve-udp.c: serve -u and unix-serve --dgram, after the common options. */
int	udp_serve_run(struct serve *, const char *host, const char *port,
	    int is_unix);

/* serve-forward.c */
int	forward_add(struct forward *, int is_unix, const char *spec,
	    const char **cause);
void	forward_client(struct client *);
void	forward_forget(struct client *);
void	forward_free(struct forward *);

/* serve-accept-proxy.c */
void	pp_accept_start(struct serve *, struct stream *, pp_accept_cb);
void	pp_accept_stop_all(struct serve *);

/* serve-ready.c */
int	ready_parse(struct serve *, const char *file, const char *fd);
void	ready_announce(struct serve *, struct stream_server *);
void	ready_stopping(struct serve *);
void	ready_forget(struct serve *);
void	ready_free(struct serve *);

/* serve-workers.c */
int	workers_start(struct workers *, long long n, struct event_base *);
void	workers_stop(struct workers *);

#endif /* SERVE_H */
