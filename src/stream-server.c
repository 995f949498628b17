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

/* config.h first: its _GNU_SOURCE shapes the headers. */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/ssl.h>

#include "error.h"
#include "monotime.h"
#include "net.h"
#include "stream.h"
#include "stream-int.h"
#include "timing.h"
#include "tls.h"
#include "xmalloc.h"

/*
 * The entry points that make streams: open_connection over TCP or a unix
 * socket (with TLS when asked), streams over descriptors we are given
 * (stream_open_fd, stream_open_fds), the detached reader, and servers
 * that accept clients, cap their number and hand each one over.
 */

/*
 * open_connection and open_unix_connection: net.c connects (every address
 * in order, one timeout), then TLS if asked within what is left of it.
 */
static void
connect_free(struct stream_connect *c)
{
	free(c->servername);
	free(c);
}

static void
connect_hs_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct stream_connect	*c = arg;

	if (err->kind != STREAM_OK) {
		stream_abort(s);
		s = NULL;
	} else
		timing_mark(TIMING_TLS);
	c->cb(s, err, c->arg);
	connect_free(c);
}

static void
connect_done_cb(int fd, const struct stream_error *err, void *arg)
{
	struct stream_connect	*c = arg;
	struct stream_error	 e;
	struct stream		*s;
	SSL			*ssl;
	double			 left = 0;

	if (fd == -1) {
		c->cb(NULL, err, c->arg);
		connect_free(c);
		return;
	}
	net_set_nodelay(fd);
	if (c->tls_ctx == NULL) {
		s = stream_new_fd(c->base, fd, fd, c->limit, c->idle_timeout,
		    &e);
		if (s == NULL)
			close(fd);
		c->cb(s, s != NULL ? &stream_ok : &e, c->arg);
		connect_free(c);
		return;
	}
	if ((ssl = tls_ssl_new(c->tls_ctx, c->servername, 0, &e)) == NULL) {
		close(fd);
		c->cb(NULL, &e, c->arg);
		connect_free(c);
		return;
	}
	/* The handshake gets what the connect timeout has left. */
	if (c->timeout > 0) {
		left = c->timeout - (double)(monotime_ms() - c->start_ms) /
		    1000;
		if (left < 0.001)
			left = 0.001;
	}
	s = stream_new_tls(c->base, fd, ssl, 0, c->limit, c->idle_timeout,
	    left, connect_hs_cb, c, &e);
	if (s == NULL) {
		c->cb(NULL, &e, c->arg);
		connect_free(c);
	}
}

static struct stream_connect *
connect_new(struct event_base *base, const char *servername,
    const struct stream_opts *opts, stream_done_cb cb, void *arg)
{
	struct stream_connect	*c;

	c = xcalloc(1, sizeof *c);
	c->base = base;
	c->cb = cb;
	c->arg = arg;
	c->start_ms = monotime_ms();
	if (opts != NULL) {
		c->limit = opts->limit;
		c->idle_timeout = opts->idle_timeout;
		c->timeout = opts->connect_timeout;
		c->tls_ctx = opts->tls_ctx;
		if (opts->tls_servername != NULL)
			servername = opts->tls_servername;
	}
	if (servername != NULL)
		c->servername = xstrdup(servername);
	return (c);
}

void
stream_open_connection(struct event_base *base, const char *host,
    const char *port, const struct stream_opts *opts, stream_done_cb cb,
    void *arg)
{
	struct stream_connect	*c;

	c = connect_new(base, host, opts, cb, arg);
	net_connect_tcp(base, host, port, opts != NULL ? opts->family :
	    AF_UNSPEC, c->timeout, connect_done_cb, c);
}

void
stream_open_unix_connection(struct event_base *base, const char *path,
    const struct stream_opts *opts, stream_done_cb cb, void *arg)
{
	struct stream_connect	*c;

	c = connect_new(base, NULL, opts, cb, arg);
	net_connect_unix(base, path, c->timeout, connect_done_cb, c);
}

/*
 * A TLS client over a socket already connected (a proxy's tunnel): the
 * TLS step of open_connection alone. cb gets the stream once the
 * handshake is over, or NULL and why it failed, as open_connection's.
 */
void
stream_open_tls_fd(struct event_base *base, int fd,
    const struct stream_opts *opts, stream_done_cb cb, void *arg)
{
	connect_done_cb(fd, &stream_ok, connect_new(base, NULL, opts, cb,
	    arg));
}

/*
 * Servers.
 */
static void
server_log(struct stream_server *srv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
server_log(struct stream_server *srv, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	if (srv == NULL || srv->log_cb == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	srv->log_cb(msg, srv->log_arg);
}

/* An accept error from net.c: its arg is ours, not the log callback's. */
static void
server_net_log_cb(const char *msg, void *arg)
{
	server_log(arg, "%s", msg);
}

static void
server_attach(struct stream_server *srv, struct stream *s)
{
	s->server = srv;
	LIST_INSERT_HEAD(&srv->conns, s, entry);
	srv->nconns++;
}

static void
server_hs_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct stream_server	*srv = s->server;

	if (err->kind != STREAM_OK) {
		server_log(srv, "%s: %s", stream_label(s), err->msg);
		stream_abort(s);
		return;
	}
	/* The server was closed during the handshake: nobody to hand it to. */
	if (srv == NULL) {
		stream_abort(s);
		return;
	}
	srv->cb(s, srv->arg);
}

/*
 * A client that reset before we got to it has no name for getpeername()
 * (ENOTCONN): keep the one accept() gave, so that its error says whose.
 */
static void
server_name_peer(struct stream *s, const char *peer)
{
	if (s->peer != NULL && *s->peer != '\0')
		return;
	free(s->peer);
	s->peer = xstrdup(peer);
}

static void
server_accept_cb(int fd, const struct sockaddr *sa, socklen_t salen, void *arg)
{
	struct stream_server	*srv = arg;
	struct stream_error	 err;
	struct stream		*s;
	char			 peer[256];
	SSL			*ssl;
	int			 one = 1;

	net_format_addr(sa, salen, peer, sizeof peer);
	if (srv->max_conns != 0 && srv->nconns >= srv->max_conns) {
		close(fd);
		if (srv->full_cb != NULL)
			srv->full_cb(peer, srv->max_conns, srv->full_arg);
		else
			server_log(srv, "%u connections open: closed %s",
			    srv->max_conns,
			    peer[0] != '\0' ? peer : "a client");
		return;
	}
	/* The family is known: net_set_nodelay would ask getsockname(2). */
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (srv->tls_ctx != NULL) {
		if ((ssl = tls_ssl_new(srv->tls_ctx, NULL, 1, &err)) == NULL) {
			close(fd);
			server_log(srv, "%s: %s", peer, err.msg);
			return;
		}
		s = stream_new_tls(srv->base, fd, ssl, 1, srv->limit,
		    srv->idle_timeout, srv->hs_timeout, server_hs_cb, NULL,
		    &err);
		if (s == NULL) {
			server_log(srv, "%s: %s", peer, err.msg);
			return;
		}
		server_name_peer(s, peer);
		server_attach(srv, s);
		return;
	}
	if ((s = stream_new_accepted(srv->base, fd, peer, srv->limit,
	    srv->idle_timeout, &err)) == NULL) {
		close(fd);
		server_log(srv, "%s: %s", peer, err.msg);
		return;
	}
	server_name_peer(s, peer);
	server_attach(srv, s);
	/* Last: the callback may close the server. */
	srv->cb(s, srv->arg);
}

static struct stream_server *
server_new(struct event_base *base, const struct stream_opts *opts,
    stream_accept_cb cb, void *arg, size_t n)
{
	struct stream_server	*srv;

	srv = xcalloc(1, sizeof *srv);
	srv->base = base;
	srv->cb = cb;
	srv->arg = arg;
	LIST_INIT(&srv->conns);
	if (opts != NULL) {
		srv->limit = opts->limit;
		srv->idle_timeout = opts->idle_timeout;
		srv->hs_timeout = opts->connect_timeout;
		srv->tls_ctx = opts->tls_ctx;
		srv->max_conns = opts->max_conns;
		srv->log_cb = opts->log_cb;
		srv->log_arg = opts->log_arg;
		srv->full_cb = opts->full_cb;
		srv->full_arg = opts->full_arg;
	}
	srv->n = n;
	srv->listeners = xcalloc(n, sizeof *srv->listeners);
	srv->addrs = xcalloc(n, sizeof *srv->addrs);
	return (srv);
}

/* Watch fds[i]; on failure every fd is closed and srv freed. */
static int
server_listen(struct stream_server *srv, int *fds, struct stream_error *err)
{
	char	addr[256];
	size_t	i, j;

	for (i = 0; i < srv->n; i++) {
		if (srv->path != NULL)
			srv->addrs[i] = xstrdup(srv->path);
		else {
			net_format_sockname(fds[i], addr, sizeof addr);
			srv->addrs[i] = xstrdup(addr);
		}
		srv->listeners[i] = net_listener_new(srv->base, fds[i],
		    server_accept_cb, server_net_log_cb, srv);
		if (srv->listeners[i] == NULL) {
			stream_error_set(err, STREAM_ESYS, errno, "listen on "
			    "%s: %s", srv->addrs[i], strerror(errno));
			for (j = i; j < srv->n; j++)
				close(fds[j]);
			stream_server_close(srv);
			return (-1);
		}
	}
	return (0);
}

struct stream_server *
stream_start_server(struct event_base *base, const char *host,
    const char *port, const struct stream_opts *opts, stream_accept_cb cb,
    void *arg, struct stream_error *err)
{
	struct stream_server	*srv;
	int			*fds;
	size_t			 nfds;
	int			 backlog = STREAM_DEFAULT_BACKLOG;

	if (opts != NULL && opts->backlog > 0)
		backlog = opts->backlog;
	if (net_listen_tcp(host, port, opts != NULL ? opts->family : AF_UNSPEC,
	    backlog, &fds, &nfds, err) != 0)
		return (NULL);
	srv = server_new(base, opts, cb, arg, nfds);
	if (server_listen(srv, fds, err) != 0)
		srv = NULL;
	free(fds);
	return (srv);
}

struct stream_server *
stream_start_unix_server(struct event_base *base, const char *path,
    const struct stream_opts *opts, stream_accept_cb cb, void *arg,
    struct stream_error *err)
{
	struct stream_server	*srv;
	dev_t			 dev;
	ino_t			 ino;
	int			 fd, backlog = STREAM_DEFAULT_BACKLOG;

	if (opts != NULL && opts->backlog > 0)
		backlog = opts->backlog;
	fd = net_listen_unix(path, opts != NULL ? opts->unix_mode : -1,
	    backlog, &dev, &ino, err);
	if (fd == -1)
		return (NULL);
	srv = server_new(base, opts, cb, arg, 1);
	srv->path = xstrdup(path);
	srv->dev = dev;
	srv->ino = ino;
	if (server_listen(srv, &fd, err) != 0)
		return (NULL);
	return (srv);
}

/*
 * Listening sockets opened for us (socket activation): served as our
 * own, except that a unix socket's file is not ours to remove.
 */
struct stream_server *
stream_start_server_fds(struct event_base *base, const int *fds, size_t n,
    const struct stream_opts *opts, stream_accept_cb cb, void *arg,
    struct stream_error *err)
{
	struct stream_server	*srv;
	int			*copy;

	copy = xcalloc(n, sizeof *copy);
	memcpy(copy, fds, n * sizeof *copy);
	srv = server_new(base, opts, cb, arg, n);
	if (server_listen(srv, copy, err) != 0)
		srv = NULL;
	free(copy);
	return (srv);
}

size_t
stream_server_naddrs(struct stream_server *srv)
{
	return (srv->n);
}

const char *
stream_server_addr(struct stream_server *srv, size_t i)
{
	if (i >= srv->n || srv->addrs[i] == NULL)
		return (NULL);
	return (srv->addrs[i]);
}

unsigned int
stream_server_nconns(struct stream_server *srv)
{
	return (srv->nconns);
}

void
stream_server_close(struct stream_server *srv)
{
	struct stream	*s;
	size_t		 i;

	if (srv == NULL)
		return;
	/* Safe inside an accept callback: net.c frees the listener later. */
	for (i = 0; i < srv->n; i++) {
		if (srv->listeners[i] != NULL)
			net_listener_free(srv->listeners[i]);
		free(srv->addrs[i]);
	}
	if (srv->path != NULL)
		net_unlink_unix(srv->path, srv->dev, srv->ino);
	/*
	 * Its streams live on, on their own; but a client still in its TLS
	 * handshake has nobody left to be handed to: freed now, not at its
	 * handshake timeout, which a process that exits first never sees.
	 */
	while ((s = LIST_FIRST(&srv->conns)) != NULL) {
		LIST_REMOVE(s, entry);
		s->server = NULL;
		if (s->handshaking)
			stream_abort(s);
	}
	free(srv->listeners);
	free(srv->addrs);
	free(srv->path);
	free(srv);
}

struct stream *
stream_new_detached(size_t limit)
{
	struct stream	*s;

	if ((s = stream_alloc(NULL, limit)) == NULL)
		return (NULL);
	s->kind = STREAM_DETACHED;
	return (s);
}

struct stream *
stream_open_fds(struct event_base *base, int rfd, int wfd,
    const struct stream_opts *opts, struct stream_error *err)
{
	if (rfd < 0 && wfd < 0) {
		stream_error_set(err, STREAM_ESYS, EBADF, "no descriptor: %s",
		    strerror(EBADF));
		return (NULL);
	}
	return (stream_new_fd(base, rfd < 0 ? -1 : rfd, wfd < 0 ? -1 : wfd,
	    opts != NULL ? opts->limit : 0,
	    opts != NULL ? opts->idle_timeout : 0, err));
}

struct stream *
stream_open_fd(struct event_base *base, int fd, const struct stream_opts *opts,
    struct stream_error *err)
{
	struct stream_error	 e;
	SSL			*ssl;
	socklen_t		 len = sizeof(int);
	int			 type, flags;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1) {
		stream_error_set(err, STREAM_ESYS, errno, "fd %d: %s", fd,
		    strerror(errno));
		return (NULL);
	}
	if (type != SOCK_STREAM) {
		stream_error_set(err, STREAM_ESYS, EPROTOTYPE,
		    "fd %d: not a stream socket", fd);
		return (NULL);
	}
	net_set_nodelay(fd);
	if (opts == NULL || opts->tls_ctx == NULL)
		return (stream_new_fd(base, fd, fd, opts != NULL ? opts->limit :
		    0, opts != NULL ? opts->idle_timeout : 0, err));

	/* TLS: the handshake runs on; a failure becomes the exception. */
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		stream_error_set(err, STREAM_ESYS, errno, "fd %d: %s", fd,
		    strerror(errno));
		return (NULL);
	}
	if ((ssl = tls_ssl_new(opts->tls_ctx, opts->tls_servername, 0,
	    &e)) == NULL) {
		*err = e;
		return (NULL);
	}
	return (stream_new_tls(base, fd, ssl, 0, opts->limit,
	    opts->idle_timeout, opts->connect_timeout, NULL, NULL, err));
}
