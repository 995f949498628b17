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

#ifndef STREAM_H
#define STREAM_H

/*
 * The stream module: the C face of asyncio's Streams API.
 *
 * A struct stream is one StreamReader plus one StreamWriter over a
 * transport. The transport is a socket (plain, or TLS through a libevent
 * openssl bufferevent), a pair of file descriptors (stdin/stdout, which may
 * be pipes, ttys, sockets, regular files or /dev/null), or nothing at all
 * (a detached reader driven by stream_feed_data/stream_feed_eof, for tests).
 *
 * The event_base plays the event loop and callbacks play coroutines: every
 * operation takes a callback that runs when the operation completes. An
 * operation that can complete at once calls its callback before returning;
 * a callback may start the next operation, which the module runs after the
 * callback returns (a trampoline, so a reader with a thousand lines
 * buffered does not recurse a thousand deep).
 *
 * Nothing here knows of options, stdio conventions or exit codes. Errors
 * are values: every callback receives a struct stream_error whose kind the
 * command layer maps to an exit code.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

#include "error.h"

struct event_base;
struct evbuffer;
struct ssl_ctx_st;
struct ssl_st;

/* Default reader limit, as asyncio's _DEFAULT_LIMIT (2 ** 16). */
#define STREAM_DEFAULT_LIMIT	65536
/*
 * The bound of every phase before the relay (a proxy's handshake, TLS, the
 * first HTTP response) when no timeout is given: asyncio's default
 * ssl_handshake_timeout, so that no phase waits longer than a direct TLS
 * handshake would.
 */
#define STREAM_PHASE_TIMEOUT	60.0
/* The peer closed TCP in the middle of a TLS record (stream-tls.c). */
#define STREAM_TRUNCATED(e)	((e)->kind == STREAM_ESYS && (e)->sys == EBADMSG)

/* listen(2) backlog when none is given (the kernel caps it at somaxconn). */
#define STREAM_DEFAULT_BACKLOG	4096

/*
 * The most one read by a pump or one splice/sendfile call asks for: large
 * enough for bulk throughput, bounded so one stream cannot hog the loop.
 */
#define STREAM_CHUNK		(4 * 1024 * 1024)

/* Default writer watermarks, as asyncio: high 64 KiB, low = high / 4. */
#define STREAM_WRITE_HIGH	65536
#define STREAM_WRITE_LOW	(STREAM_WRITE_HIGH / 4)

struct stream;
struct stream_server;

/*
 * Read callback. data holds the result of the operation (or, for
 * EINCOMPLETE, the partial bytes). data belongs to the stream and is
 * emptied after the callback returns: move its chains out with
 * evbuffer_add_buffer() or stream_write_buffer() to keep them without a
 * copy. err is never NULL; err->kind is STREAM_OK on success.
 */
typedef void	(*stream_read_cb)(struct stream *, struct evbuffer *data,
		    const struct stream_error *err, void *arg);

/* Completion of drain, close, connect and the like. */
typedef void	(*stream_done_cb)(struct stream *, const struct stream_error *err,
		    void *arg);

/* A new client of a server. The callback owns the stream. */
typedef void	(*stream_accept_cb)(struct stream *, void *arg);

/* Server event: an accept error worth logging (EMFILE, ...). */
typedef void	(*stream_server_log_cb)(const char *msg, void *arg);

/*
 * Server event: a client was refused because max_conns streams are open;
 * peer is "ADDR:PORT", or "" when it has no name. The caller words it.
 */
typedef void	(*stream_server_full_cb)(const char *peer,
		    unsigned int max_conns, void *arg);

/* How to open a connection or a server. Zero-filled means defaults. */
struct stream_opts {
	size_t			 limit;			/* 0: STREAM_DEFAULT_LIMIT */
	int			 family;		/* AF_UNSPEC, AF_INET or AF_INET6 */
	double			 connect_timeout;	/* seconds, <= 0: none */
	double			 idle_timeout;		/* seconds, <= 0: none */
	double			 phase_timeout;		/* http: the whole exchange's
							   bound; <= 0: the response
							   within STREAM_PHASE_TIMEOUT */

	/* TLS: a client or server SSL_CTX from tls.c, or NULL for plain. */
	struct ssl_ctx_st	*tls_ctx;
	const char		*tls_servername;	/* SNI and host check, client */

	/* Servers only. */
	int			 backlog;		/* 0: STREAM_DEFAULT_BACKLOG */
	unsigned int		 max_conns;		/* 0: unlimited */
	int			 unix_mode;		/* -1: default (umask) */
	stream_server_log_cb	 log_cb;
	void			*log_arg;
	stream_server_full_cb	 full_cb;	/* NULL: a line for log_cb */
	void			*full_arg;
};

/* Entry points (asyncio open_connection, start_server, ...). */
void		 stream_open_connection(struct event_base *, const char *host,
		     const char *port, const struct stream_opts *,
		     stream_done_cb, void *);
void		 stream_open_unix_connection(struct event_base *,
		     const char *path, const struct stream_opts *,
		     stream_done_cb, void *);
struct stream	*stream_open_fd(struct event_base *, int fd,
		     const struct stream_opts *, struct stream_error *);
struct stream	*stream_open_fds(struct event_base *, int rfd, int wfd,
		     const struct stream_opts *, struct stream_error *);
struct stream	*stream_new_detached(size_t limit);

struct stream_server *stream_start_server(struct event_base *,
		     const char *host, const char *port,
		     const struct stream_opts *, stream_accept_cb, void *,
		     struct stream_error *);
struct stream_server *stream_start_unix_server(struct event_base *,
		     const char *path, const struct stream_opts *,
		     stream_accept_cb, void *, struct stream_error *);
/* The listening addresses, formatted "127.0.0.1:8888", "[::]:8888", PATH. */
/* A server on listening sockets we were given (socket activation). */
struct stream_server *stream_start_server_fds(struct event_base *,
		     const int *fds, size_t n, const struct stream_opts *,
		     stream_accept_cb, void *, struct stream_error *);
size_t		 stream_server_naddrs(struct stream_server *);
const char	*stream_server_addr(struct stream_server *, size_t);
/* Streams of this server still open (for a connection cap and shutdown). */
unsigned int	 stream_server_nconns(struct stream_server *);
/* Stop listening, remove a unix socket file if it is still ours. */
void		 stream_server_close(struct stream_server *);

/* StreamReader. One pending operation at a time (asserted). */
void		 stream_read(struct stream *, ssize_t n, stream_read_cb, void *);
void		 stream_readline(struct stream *, stream_read_cb, void *);
void		 stream_readexactly(struct stream *, size_t n, stream_read_cb,
		     void *);
void		 stream_readuntil(struct stream *, const void *sep,
		     size_t seplen, stream_read_cb, void *);
int		 stream_at_eof(struct stream *);
/*
 * Was the EOF a TLS truncation: the TCP connection closed without
 * close_notify? Taken as EOF (most HTTPS servers close that way), but a
 * relay between two peers passes it on as a reset.
 */
int		 stream_eof_truncated(struct stream *);
void		 stream_feed_data(struct stream *, const void *, size_t);
void		 stream_feed_eof(struct stream *);
const struct stream_error *stream_exception(struct stream *);
void		 stream_set_exception(struct stream *,
		     const struct stream_error *);
size_t		 stream_limit(struct stream *);
size_t		 stream_buffered(struct stream *);
/* Is reading from the transport paused by flow control (> 2 x limit)? */
int		 stream_reading_paused(struct stream *);
/* Bytes the reader examined while searching for separators (tests). */
unsigned long long stream_scanned(struct stream *);

/* StreamWriter. */
int		 stream_write(struct stream *, const void *, size_t);
int		 stream_write_buffer(struct stream *, struct evbuffer *);
int		 stream_writelines(struct stream *, const struct iovec *, int);
int		 stream_write_file(struct stream *, int fd, off_t offset,
		     off_t length);
void		 stream_drain(struct stream *, stream_done_cb, void *);
/* As drain, but wait until everything queued is written (low mark 0). */
void		 stream_flush(struct stream *, stream_done_cb, void *);
/*
 * Is more queued than the high-water mark? A producer then stops and
 * waits with stream_drain() (asyncio's pause_writing()).
 */
int		 stream_write_paused(struct stream *);
int		 stream_can_write_eof(struct stream *);
int		 stream_write_eof(struct stream *);
size_t		 stream_write_buffer_size(struct stream *);
void		 stream_set_write_buffer_limits(struct stream *, size_t high,
		     size_t low);
int		 stream_is_closing(struct stream *);
/* Flush what is queued, close, call back (may be NULL), free the stream. */
void		 stream_close(struct stream *, stream_done_cb, void *);
/* Close at once, dropping queued output, and free the stream. */
void		 stream_abort(struct stream *);
/* The next close (or abort) of the socket sends a reset, not a FIN. */
void		 stream_reset_on_close(struct stream *);

/*
 * Kernel-side transfer: move everything src's transport reads, until EOF,
 * to dst's transport with splice(2) or sendfile(2), the bytes never
 * entering user space. Possible when neither side is TLS, src reads a
 * socket, a pipe or a regular file, and dst writes a socket, a pipe, a
 * regular file (not O_APPEND) or /dev/null. Bytes already buffered in
 * src's reader go first, through dst's writer, and dst's writer empties
 * before any byte is spliced: the order is kept. Backpressure is the
 * kernel's: a dst that does not take bytes stops the reading of src, and
 * at most a pipe (1 MiB) is in flight. Idle timeouts and the byte counts
 * keep working.
 *
 * While it runs, reads on src and writes on dst are refused (ECLOSED).
 * Returns -1, having changed nothing, when it is not possible (TLS, a tty,
 * src == dst, src at EOF or failed, an operation pending, no descriptors
 * left for a pipe): the caller reads and writes instead. The callback
 * never runs from inside stream_transfer(). As with pipes, a peer gone
 * raises SIGPIPE (splice and sendfile have no MSG_NOSIGNAL): ignore it.
 */
enum stream_side {
	STREAM_SIDE_NONE,
	STREAM_SIDE_READ,	/* reading src failed */
	STREAM_SIDE_WRITE	/* writing dst failed */
};

enum stream_xfer_event {
	STREAM_XFER_MOVED,	/* moved more bytes to dst; more to come */
	STREAM_XFER_DONE,	/* the last call: src at EOF and every byte
				   written (STREAM_OK), or side failed */
	STREAM_XFER_UNSUPPORTED,/* the last call: the kernel refused before a
				   byte moved; nothing was lost, read and write
				   instead */
	STREAM_XFER_CANCELLED	/* the last call, from inside stream_close or
				   stream_abort of either stream: touch
				   neither stream from it */
};

/* moved: bytes written to dst since the previous call. err is never NULL. */
typedef void	(*stream_transfer_cb)(enum stream_xfer_event, size_t moved,
		    enum stream_side, const struct stream_error *err, void *);

int		 stream_transfer(struct stream *src, struct stream *dst,
		     stream_transfer_cb, void *);
/* End src's transfer at once, without a callback; bytes in flight are lost. */
void		 stream_transfer_stop(struct stream *src);

/*
 * Call back once the peer's TCP has acknowledged everything written (or
 * after 3 s), or with ERESET if it answered with a reset; at once for
 * anything but a plain socket. For "the peer closed first, did our last
 * bytes still reach it?"
 */
void		 stream_wait_acked(struct stream *, stream_done_cb, void *);

/*
 * get_extra_info: "peername" and "sockname" as "ADDR:PORT" ("[ADDR]:PORT"
 * for IPv6, the path or "" for unix), "socket" as the fd number,
 * "peercert" as the certificate subject over TLS, and over TLS too
 * "tls_version" (TLSv1.3), "cipher", "alpn" ("" for none) and
 * "peercert_sha256" (64 lowercase hex digits, "" without a certificate).
 * Returns -1 if the stream has no such information.
 */
int		 stream_get_extra_info(struct stream *, const char *name,
		     char *buf, size_t len);
/* The SSL of a TLS stream once its handshake is done, else NULL. */
struct ssl_st	*stream_ssl_object(struct stream *);
int		 stream_fd(struct stream *);
int		 stream_peer_addr(struct stream *, struct sockaddr_storage *,
		     socklen_t *);

/* Total bytes read from and written to the transport (for -v logs). */
unsigned long long stream_bytes_in(struct stream *);
double		 stream_first_byte_ms(struct stream *);
unsigned long long stream_bytes_out(struct stream *);

/*
 * Called once when the transport fails or times out (reset, idle timeout,
 * TLS error) whether or not an operation is pending; the error is also
 * stored as the stream's exception. Servers use it to drop a client.
 */
void		 stream_set_error_cb(struct stream *, stream_done_cb, void *);

/* Opaque per-stream user data (a relay, a client slot). */
void		 stream_set_data(struct stream *, void *);
void		*stream_get_data(struct stream *);

/*
 * A TLS client over a connected socket, fd then the stream's: cb gets
 * the stream once the handshake is over, or NULL and the verifier's
 * reason (maybe before this returns). opts->connect_timeout bounds it.
 */
void		 stream_open_tls_fd(struct event_base *, int fd,
		     const struct stream_opts *, stream_done_cb, void *);

/*
 * TLS over a connected plain stream (a proxy's tunnel, stream-tunnel.c):
 * plain is consumed; cb gets the TLS client stream once its handshake is
 * over, or NULL and why, the error naming port (the target's, not the
 * proxy's). -1 with err, and no callback, when it cannot start.
 */
int		 stream_start_tls(struct event_base *, struct stream *plain,
		     const char *port, const struct stream_opts *,
		     stream_done_cb, void *, struct stream_error *);

#endif /* STREAM_H */
