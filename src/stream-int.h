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

#ifndef STREAM_INT_H
#define STREAM_INT_H

/*
 * The stream module's private header: struct stream and what the
 * stream files share. Only src/stream*.c include it, after stream.h.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>

#include <event2/buffer.h>

#include "stream.h"

struct bufferevent;
struct event;
struct ssl_st;
struct stream_xfer;
struct net_listener;

/* Socket read sizes: small while idle (memory), large for bulk. */
#define STREAM_READ_MIN		4096
#define STREAM_READ_MAX		(256 * 1024)
/* Read-ahead allowed beyond 2 x limit before flow control stops reading. */
#define STREAM_READ_SLACK	16384
/*
 * libevent allocates a chain as one power-of-two block that includes its
 * header (about 48 bytes): asking for a little less than the power of two
 * keeps a 4 KiB reservation in a 4 KiB block rather than an 8 KiB one.
 */
#define STREAM_CHAIN_HEADER	64
/*
 * TLS writes per wakeup: libevent's default of 16 KiB is slow
 * (doc/libevent-notes.md, fact 2).
 */
#define STREAM_TLS_MAX_WRITE	(1024 * 1024)
/* Chains per sendmsg(2), as libevent's writev (DEFAULT_WRITE_IOVEC). */
#define STREAM_SEND_IOV		128
/* asyncio's default ssl_handshake_timeout, when none is given. */
#define STREAM_HANDSHAKE_TIMEOUT 60.0

#define STREAM_NOT_FOUND	SIZE_MAX

/*
 * Kernel-side transfers: the intermediate pipe's size (pipe-max-size's
 * default), the most one splice or sendfile call is asked for, and the
 * most one wakeup moves before the loop gives others a turn.
 */
#define XFER_PIPE_SIZE		(1024 * 1024)
#define XFER_CHUNK		STREAM_CHUNK
#define XFER_BUDGET		(16 * 1024 * 1024)

enum stream_kind {
	STREAM_DETACHED,
	STREAM_FD,
	STREAM_TLS
};

/* The reader's pending operation. */
enum stream_opkind {
	OP_NONE,
	OP_READ,	/* read(n), n >= 0 */
	OP_READALL,	/* read(-1) */
	OP_EXACTLY,	/* readexactly(n) */
	OP_UNTIL,	/* readuntil(sep) */
	OP_LINE		/* readline() */
};

struct stream_op {
	enum stream_opkind	 kind;
	int			 badarg;	/* empty separator */
	size_t			 n;
	const unsigned char	*sep;
	size_t			 seplen;
	const size_t		*fail;		/* KMP failure links */
	size_t			 scan_to;	/* bytes fed to the matcher */
	size_t			 match;		/* matcher state */
	size_t			 found;		/* separator start, or NOT_FOUND */
	size_t			 aoffset;	/* asyncio's readuntil offset */
	stream_read_cb		 cb;
	void			*arg;
};

/* Deferred work for stream_notify_cb. */
#define NOTIFY_FAIL	0x1
#define NOTIFY_DRAIN	0x2
#define NOTIFY_CLOSE	0x4
#define NOTIFY_WFAIL	0x8

struct stream {
	struct event_base	*base;
	enum stream_kind	 kind;
	const struct stream_ops	*ops;		/* NULL: detached */
	int			 refs;		/* our frames running on it */
	int			 notify;

	unsigned int		 dead:1;	/* aborted or closed: no callbacks */
	unsigned int		 dispatching:1;
	unsigned int		 eof:1;		/* EOF fed to the reader */
	unsigned int		 truncated:1;	/* TLS: without close_notify */
	unsigned int		 notified:1;	/* TLS: close_notify read */
	unsigned int		 paused:1;	/* flow control */
	unsigned int		 failed:1;	/* transport lost */
	unsigned int		 closing:1;
	unsigned int		 eof_wanted:1;	/* write_eof called */
	unsigned int		 eof_done:1;	/* ... and carried out */
	unsigned int		 rpoll:1;	/* rfd can be watched */
	unsigned int		 wpoll:1;
	unsigned int		 rsock:1;
	unsigned int		 wsock:1;
	unsigned int		 rev_on:1;
	unsigned int		 wev_on:1;
	unsigned int		 ractive:1;	/* blocking read queued */
	unsigned int		 handshaking:1;
	unsigned int		 err_reported:1;
	unsigned int		 wfailed:1;	/* lost while writing */
	unsigned int		 rsmall:3;	/* small reads in a row */
	unsigned int		 wfile:1;	/* a file segment is queued */
	unsigned int		 flushing:1;	/* drain_cb waits for an empty queue */

	/* Reader. */
	size_t			 limit;
	struct evbuffer		*rbuf;
	struct evbuffer		*result;
	struct stream_error	*exc;
	const struct stream_error *werr;	/* why a write was refused */
	struct stream_error	*wexc;		/* the write side failed */
	struct stream_op	 op;
	unsigned char		 sep1;
	unsigned char		*sepbuf;
	size_t			 sepcap;
	unsigned long long	 scanned;

	/* Writer. */
	struct evbuffer		*wbuf;		/* TLS: the bufferevent's output */
	size_t			 whigh;
	size_t			 wlow;
	stream_done_cb		 drain_cb;
	void			*drain_arg;
	stream_done_cb		 close_cb;
	void			*close_arg;
	stream_done_cb		 err_cb;
	void			*err_arg;
	stream_done_cb		 hs_cb;
	void			*hs_arg;

	/* Transport. */
	int			 rfd;
	int			 wfd;
	int			 rflags;	/* to restore, or -1 */
	int			 wflags;
	size_t			 want;		/* next read size */
	struct event		*rev;
	struct event		*wev;
	struct event		*nev;		/* stream_notify */
	struct event		*tev;		/* idle or handshake timer */
	struct bufferevent	*bev;
	uint64_t		 idle_ms;
	uint64_t		 last_ms;
	char			*peer;

	struct stream_xfer	*xin;		/* a transfer reads our rfd */
	struct stream_xfer	*xout;		/* a transfer writes our wfd */
	const struct stream_xfer_ops *xops;

	struct stream_server	*server;
	LIST_ENTRY(stream)	 entry;
	void			*data;
	unsigned long long	 bytes_in;
	double			 first_in_ms;	/* timing.c: when bytes_in left 0 */
	unsigned long long	 bytes_out;
};

struct stream_server {
	struct event_base	*base;
	size_t			 limit;
	double			 idle_timeout;
	double			 hs_timeout;
	struct ssl_ctx_st	*tls_ctx;
	unsigned int		 max_conns;
	unsigned int		 nconns;
	stream_server_log_cb	 log_cb;
	void			*log_arg;
	stream_server_full_cb	 full_cb;
	void			*full_arg;
	stream_accept_cb	 cb;
	void			*arg;

	size_t			 n;
	struct net_listener	**listeners;
	char			**addrs;
	char			*path;		/* unix: as given */
	dev_t			 dev;
	ino_t			 ino;
	LIST_HEAD(, stream)	 conns;
};

/* An open_connection in progress. */
struct stream_connect {
	struct event_base	*base;
	size_t			 limit;
	double			 idle_timeout;
	double			 timeout;
	uint64_t		 start_ms;
	struct ssl_ctx_st	*tls_ctx;
	char			*servername;
	stream_done_cb		 cb;
	void			*arg;
};

extern const struct stream_error stream_ok;
extern const struct timeval stream_tv_zero;
extern const struct stream_error stream_err_detached;
extern const struct stream_error stream_err_closing;
extern const struct stream_error stream_err_eof;
extern const struct stream_error stream_err_readonly;
extern const struct stream_error stream_err_noeof;
extern const struct stream_error stream_err_lost;
extern const struct stream_error stream_err_nofile;
extern const struct stream_error stream_err_xfer_write;


/*
 * What differs between transports, called by the core, the reader and the
 * writer (a detached stream has no ops). kick may be NULL: the transport
 * sends on its own (TLS: the bufferevent).
 */
struct stream_ops {
	/* Start or stop reading, as stream_reading_wanted() says. */
	void	(*reading)(struct stream *);
	/* Bytes were queued: send what the kernel takes now. */
	void	(*kick)(struct stream *);
	/* Everything queued is out: half-close. */
	void	(*shutdown)(struct stream *);
	/* The transport is lost: stop its events, drop what is queued. */
	void	(*fail)(struct stream *);
	/* The handshake ended (err NULL or OK: it succeeded). */
	void	(*handshake_done)(struct stream *,
		    const struct stream_error *);
	/* Where writes queue: our buffer, or the TLS bufferevent's. */
	struct evbuffer *(*output)(struct stream *);
	/* The drain's low-water mark changed; NULL: nothing to tell. */
	void	(*watermark)(struct stream *);
	/*
	 * Can write_eof half-close (and so the write side fail alone)?
	 * NULL: the transport ends its own way (TLS: close_notify).
	 */
	int	(*can_write_eof)(struct stream *);
	/* An orderly close, nothing queued: say goodbye; NULL: nothing. */
	void	(*close)(struct stream *);
	/* The peer certificate's subject, -1 if none; NULL: never any. */
	int	(*peercert)(struct stream *, char *, size_t);
	/* The SSL once handshaken, else NULL; NULL: never any. */
	struct ssl_st *(*ssl)(struct stream *);
	/* Bytes written, not yet acknowledged; -1 unknown; NULL: never. */
	int	(*unacked)(struct stream *);
};

/*
 * How the core and the writer reach a transfer (stream-xfer.c) running on
 * one of their streams; set when one starts.
 */
struct stream_xfer_ops {
	void	(*schedule)(struct stream_xfer *);
	void	(*failed)(struct stream *);
	void	(*write_failed)(struct stream *);
	void	(*closed)(struct stream *);
};

/* stream.c: the core, the ground floor of the stream files. */
/* Count bytes received, marking the first one's time (first_byte_ms). */
void		 stream_count_in(struct stream *, size_t);
uint64_t	 stream_secs_ms(double);
size_t		 stream_sat_add(size_t, size_t);
size_t		 stream_limit2(struct stream *);
const char	*stream_label(struct stream *);
void		 stream_touch(struct stream *);
void		 stream_hold(struct stream *);
void		 stream_release(struct stream *);
void		 stream_destroy(struct stream *);
void		 stream_kill(struct stream *);
void		 stream_close_fd(int, int);
size_t		 stream_wlen(struct stream *);
size_t		 stream_drain_low(struct stream *);
void		 stream_store_exception(struct stream *,
		     const struct stream_error *);
void		 stream_set_peer(struct stream *, int);
struct evbuffer	*stream_evbuffer_new(void);
struct evbuffer	*stream_wbuf_new(struct stream *);
int		 stream_reading_wanted(struct stream *);
void		 stream_reading_update(struct stream *);

/* stream-reader.c */
void		 reader_dispatch(struct stream *);
int		 reader_scanning(struct stream *, size_t);
void		 reader_fed(struct stream *, size_t, const void *, size_t);

/* stream-event.c: allocation, failures, timers, deferred work. */
struct stream	*stream_alloc_bare(struct event_base *, size_t);
struct stream	*stream_alloc(struct event_base *, size_t);
void		 stream_notify(struct stream *, int);
void		 stream_finish_close(struct stream *);
void		 transport_fail(struct stream *,
		     const struct stream_error *);
void		 stream_fail_errno(struct stream *, const char *,
		     const char *, int);
int		 stream_new_timer(struct stream *, double);
void		 stream_timer_arm(struct stream *, uint64_t);

/* stream-writer.c */
void		 writer_kick(struct stream *);
void		 writer_progress(struct stream *);

/* stream-fd.c and stream-tls.c: the transports. */
struct stream	*stream_new_fd(struct event_base *, int, int, size_t,
		     double, struct stream_error *);
struct stream	*stream_new_accepted(struct event_base *, int, const char *,
		     size_t, double, struct stream_error *);
struct stream	*stream_new_tls(struct event_base *, int, struct ssl_st *, int,
		     size_t, double, double, stream_done_cb, void *,
		     struct stream_error *);

/*
 * An fd stream's buffers are made on first use: a server's idle client
 * holds none (bench/README, "Idle"). Inline: they are on every read and
 * write.
 */

/* The read buffer, made when the first bytes come. */
static inline struct evbuffer *
stream_rbuf(struct stream *s)
{
	if (s->rbuf == NULL)
		s->rbuf = stream_evbuffer_new();
	return (s->rbuf);
}

/* Bytes waiting in the read buffer, which may not exist yet. */
static inline size_t
stream_rlen(struct stream *s)
{
	return (s->rbuf != NULL ? evbuffer_get_length(s->rbuf) : 0);
}

/* The write buffer, made by the first write (TLS: its bufferevent's). */
static inline struct evbuffer *
stream_wbuf(struct stream *s)
{
	if (s->wbuf == NULL && s->kind == STREAM_FD)
		return (stream_wbuf_new(s));
	return (s->wbuf);
}

#endif /* STREAM_INT_H */
