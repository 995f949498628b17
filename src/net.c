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

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "compat.h"
#include "error.h"
#include "net.h"
#include "xmalloc.h"

/*
 * Addresses, resolution, connecting and listening: everything below the
 * stream module that deals in file descriptors and sockaddrs. Nothing here
 * reads or writes payload bytes.
 *
 * A TCP connect races every address getaddrinfo (or --resolve) gives,
 * Happy Eyeballs style (happy-eyeballs.c; libevent's connect_hostname only
 * tries the first: doc/libevent-notes.md section 4); a unix connect has
 * one address. One timer bounds the whole attempt. Listening follows asyncio's start_server (every address of
 * the host, IPv6 sockets v6-only so 0.0.0.0 and :: can both bind) and, for
 * unix sockets, the hygiene of doc/libevent-notes.md section 9. The accept
 * loop is ours rather than evconnlistener's, which busy-loops on EMFILE.
 */

/* Accepts per wakeup, so one busy listener cannot starve the others. */
#define NET_ACCEPT_BATCH	64

/* Back-off after accept() ran out of descriptors or memory. */
#define NET_ACCEPT_PAUSE_MS	100

/* A unix connect() refused with EAGAIN (backlog full) is retried. */
#define NET_RETRY_MIN_MS	10
#define NET_RETRY_MAX_MS	100

/* Port 0 on several addresses: retries when the first one's port is taken. */
#define NET_LISTEN_TRIES	8

/*
 * One connection attempt: every address in turn, one timer for all. Events
 * are embedded (as tmux does) so that setting one up cannot fail for want
 * of memory half-way through.
 */
struct net_connect {
	struct event_base	*base;
	char			*name;	/* host or path */
	char			*port;	/* NULL for a unix path */

	/* Addresses: getaddrinfo's list, or the one unix address. */
	struct addrinfo		*res;
	struct addrinfo		*ai;	/* the one being tried */
	struct addrinfo		 unix_ai;
	struct sockaddr_storage	 unix_ss;

	int			 fd;	/* this attempt's socket */
	struct event		 ev_io;	/* fd writable */
	int			 io_set;
	struct event		 ev_timeout;
	struct event		 ev_retry; /* unix backlog full */
	int			 retry_ms;

	/* The result, handed over from ev_done. */
	struct event		 ev_done;
	int			 done_fd;	/* or -1 and err */
	struct stream_error	 err;
	int			 delivering;

	/* TCP: the Happy Eyeballs race (happy-eyeballs.c). */
	struct happy_eyeballs	*he;

	net_connect_cb		 cb;
	void			*arg;

	/* -s ADDR, -p PORT: bind before connect (NULL: the kernel picks). */
};

/* Our own accept loop: evconnlistener busy-loops on EMFILE. */
struct net_listener {
	int			 fd;
	struct event		 ev;		/* EV_READ */
	struct event		 ev_resume; /* ends a pause */
	int			 enabled;	/* as the caller wants */
	int			 paused;	/* out of descriptors */
	int			 starved;	/* logged it */
	int			 busy;		/* accept loop runs */
	int			 dead;		/* freed in the loop */

	net_accept_cb		 accept_cb;
	net_log_cb		 log_cb;
	void			*arg;
};

static void	net_connect_next(struct net_connect *);

static void
net_timeval(double secs, struct timeval *tv)
{
	if (secs > NET_TIMEOUT_MAX)
		secs = NET_TIMEOUT_MAX;
	tv->tv_sec = (time_t)secs;
	tv->tv_usec = (suseconds_t)((secs - (double)tv->tv_sec) * 1e6);
	if (tv->tv_usec >= 1000000)
		tv->tv_usec = 999999;
}

static void
net_ms_timeval(int ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

/*
 * RFC 6761 section 6.4: ".invalid" names never resolve, and resolver
 * libraries should say so without asking the network.
 */
static int
net_is_invalid_name(const char *host)
{
	size_t	len;

	len = strlen(host);
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 7 && strncasecmp(host, "invalid", 7) == 0)
		return (1);
	return (len > 8 && strncasecmp(host + len - 8, ".invalid", 8) == 0);
}

int
net_resolve(const char *host, const char *port, int family, int passive,
    struct addrinfo **res, struct stream_error *err)
{
	struct addrinfo	hints;
	char		what[300];
	int		error;

	*res = NULL;
	if (host != NULL)
		snprintf(what, sizeof what, "%s", host);
	else
		snprintf(what, sizeof what, "port %s", port ? port : "");

	if (host != NULL && net_is_invalid_name(host)) {
		stream_error_set(err, STREAM_ERESOLVE, 0, "%s: %s", what,
		    gai_strerror(EAI_NONAME));
		return (-1);
	}

	/*
	 * No AI_ADDRCONFIG: it hides ::1 and 127.0.0.1 on a host whose only
	 * addresses are loopback ones. Ports were validated by the caller.
	 */
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV;
	if (passive)
		hints.ai_flags |= AI_PASSIVE;

	error = getaddrinfo(host, port, &hints, res);
	if (error == 0)
		return (0);
	*res = NULL;
	if (error == EAI_SYSTEM) {
		error = errno;
		stream_error_set(err, STREAM_ESYS, error, "%s: %s", what,
		    strerror(error));
	} else {
		stream_error_set(err, STREAM_ERESOLVE, 0, "%s: %s", what,
		    gai_strerror(error));
	}
	return (-1);
}

/* Numeric host and port of an address, for messages ("::1", "80"). */
static void
net_numeric(const struct sockaddr *sa, socklen_t salen, char *host,
    size_t hostlen, char *serv, size_t servlen)
{
	if (getnameinfo(sa, salen, host, hostlen, serv, servlen,
	    NI_NUMERICHOST|NI_NUMERICSERV) != 0) {
		snprintf(host, hostlen, "?");
		snprintf(serv, servlen, "?");
	}
}

int
net_unix_sockaddr(const char *path, struct sockaddr_storage *ss,
    socklen_t *sslen, struct stream_error *err)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)ss;
	size_t			 len;

	len = strlen(path);
	if (len == 0) {
		stream_error_set(err, STREAM_ESYS, ENOENT,
		    "empty unix socket path");
		return (-1);
	}
	/* Both forms must fit sun_path: a NUL ends a path, starts a name. */
	if (len > UNIX_PATH_MAX_LEN || len >= sizeof sun->sun_path) {
		stream_error_set(err, STREAM_ESYS, ENAMETOOLONG, "%s: %s",
		    path, strerror(ENAMETOOLONG));
		return (-1);
	}

	memset(ss, 0, sizeof *ss);
	sun->sun_family = AF_UNIX;
	if (path[0] == '@') {
		/*
		 * Linux abstract name: a leading NUL, then the name without
		 * a terminator; the length says where it ends, so it must
		 * be exact or trailing NULs become part of the name.
		 */
		memcpy(sun->sun_path + 1, path + 1, len - 1);
		*sslen = offsetof(struct sockaddr_un, sun_path) + len;
	} else {
		memcpy(sun->sun_path, path, len);
		*sslen = offsetof(struct sockaddr_un, sun_path) + len + 1;
	}
	return (0);
}

/* Socket for a connect or a listen: non-blocking, close-on-exec. */
static int
net_socket(int family)
{
	return (socket(family, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0));
}

/* Why connecting to the current address failed. */
static void
net_connect_error(struct net_connect *nc, int error)
{
	char	host[NI_MAXHOST], serv[NI_MAXSERV];

	if (nc->port == NULL) {
		stream_error_set(&nc->err, STREAM_ESYS, error,
		    "connect to %s: %s", nc->name, strerror(error));
		return;
	}
	net_numeric(nc->ai->ai_addr, nc->ai->ai_addrlen, host, sizeof host,
	    serv, sizeof serv);
	stream_error_set(&nc->err, STREAM_ESYS, error,
	    "connect to %s port %s: %s", host, serv, strerror(error));
}

/* Abandon the socket of the current attempt. */
static void
net_connect_stop_attempt(struct net_connect *nc)
{
	if (nc->io_set) {
		event_del(&nc->ev_io);
		nc->io_set = 0;
	}
	if (nc->fd != -1) {
		close(nc->fd);
		nc->fd = -1;
	}
}

/* Stop whatever is in progress; the result is already in nc. */
static void
net_connect_stop(struct net_connect *nc)
{
	net_connect_stop_attempt(nc);
	if (nc->he != NULL)
		he_stop(nc->he);
	event_del(&nc->ev_timeout);
	event_del(&nc->ev_retry);
}

static void
net_connect_free(struct net_connect *nc)
{
	net_connect_stop(nc);
	if (nc->done_fd != -1)
		close(nc->done_fd);
	event_del(&nc->ev_done);
	he_free(nc->he);
	if (nc->res != NULL)
		freeaddrinfo(nc->res);
	free(nc->name);
	free(nc->port);
	free(nc);
}

/*
 * Finish with a connected socket (fd) or the error in nc->err (fd -1).
 * The callback always runs from the loop, never from net_connect_*
 * itself, so the caller has its handle before hearing of the result.
 */
static void
net_connect_finish(struct net_connect *nc, int fd)
{
	if (fd != -1 && fd == nc->fd)
		nc->fd = -1;	/* not ours to close any more */
	net_connect_stop(nc);
	nc->done_fd = fd;
	if (fd != -1)
		memset(&nc->err, 0, sizeof nc->err);
	event_active(&nc->ev_done, 0, 0);
}

static void
net_connect_done_cb(evutil_socket_t unused, short events, void *arg)
{
	struct net_connect	*nc = arg;
	int			 fd = nc->done_fd;

	nc->done_fd = -1;	/* the callback owns it now */
	nc->delivering = 1;
	nc->cb(fd, &nc->err, nc->arg);
	net_connect_free(nc);
}

static void
net_connect_timeout_cb(evutil_socket_t unused, short events, void *arg)
{
	struct net_connect	*nc = arg;

	if (nc->he != NULL)
		he_error(nc->he, &nc->err);	/* names every address */
	else if (nc->port != NULL) {
		stream_error_set(&nc->err, STREAM_ETIMEOUT, ETIMEDOUT,
		    "connect to %s port %s: timed out", nc->name, nc->port);
	} else {
		stream_error_set(&nc->err, STREAM_ETIMEOUT, ETIMEDOUT,
		    "connect to %s: timed out", nc->name);
	}
	net_connect_finish(nc, -1);
}

/* The socket of the attempt in progress is writable: did it connect? */
static void
net_connect_io_cb(evutil_socket_t fd, short events, void *arg)
{
	struct net_connect	*nc = arg;
	socklen_t		 len = sizeof(int);
	int			 error = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
	if (error == 0) {
		net_connect_finish(nc, fd);
		return;
	}
	if (error == EINPROGRESS || error == EALREADY)
		return;		/* spurious wakeup */
	net_connect_error(nc, error);
	net_connect_stop_attempt(nc);
	nc->ai = nc->ai->ai_next;
	net_connect_next(nc);
}

static void
net_connect_retry_cb(evutil_socket_t unused, short events, void *arg)
{
	net_connect_next(arg);
}

/*
 * Start connecting to nc->ai. Returns 1 if the attempt is in progress
 * (or will be retried), 0 if it connected at once (the socket is in
 * nc->fd), -1 if it failed (nc->err says why).
 */
static int
net_connect_start(struct net_connect *nc)
{
	struct addrinfo	*ai = nc->ai;
	struct timeval	 tv;
	int		 error;

	if ((nc->fd = net_socket(ai->ai_family)) == -1) {
		net_connect_error(nc, errno);
		return (-1);
	}
	if (connect(nc->fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return (0);
	error = errno;
	if (error == EINPROGRESS || error == EINTR) {
		event_assign(&nc->ev_io, nc->base, nc->fd, EV_WRITE|EV_PERSIST,
		    net_connect_io_cb, nc);
		nc->io_set = 1;
		if (event_add(&nc->ev_io, NULL) == 0)
			return (1);
		error = errno;
		net_connect_stop_attempt(nc);
		net_connect_error(nc, error);
		return (-1);
	}
	close(nc->fd);
	nc->fd = -1;

	/*
	 * A unix listener with a full backlog makes a non-blocking connect
	 * fail with EAGAIN, without starting anything that could be waited
	 * for (the socket polls writable while unconnected). A blocking
	 * connect would wait for room, so retry from a timer, backing off.
	 */
	if (error == EAGAIN && ai->ai_family == AF_UNIX) {
		net_ms_timeval(nc->retry_ms, &tv);
		if (nc->retry_ms < NET_RETRY_MAX_MS)
			nc->retry_ms *= 2;
		if (evtimer_add(&nc->ev_retry, &tv) == 0)
			return (1);
	}
	net_connect_error(nc, error);
	return (-1);
}

/* Try the current address and then the next ones until one is pending. */
static void
net_connect_next(struct net_connect *nc)
{
	int	r;

	for (; nc->ai != NULL; nc->ai = nc->ai->ai_next) {
		r = net_connect_start(nc);
		if (r == 1)
			return;
		if (r == 0) {
			net_connect_finish(nc, nc->fd);
			return;
		}
	}
	net_connect_finish(nc, -1);	/* the last address's error */
}

static struct net_connect *
net_connect_new(struct event_base *base, const char *name, const char *port,
    double timeout, net_connect_cb cb, void *arg)
{
	struct net_connect	*nc;
	struct timeval		 tv;

	nc = xcalloc(1, sizeof *nc);
	nc->base = base;
	nc->name = xstrdup(name);
	if (port != NULL)
		nc->port = xstrdup(port);
	nc->fd = -1;
	nc->done_fd = -1;
	nc->retry_ms = NET_RETRY_MIN_MS;
	nc->cb = cb;
	nc->arg = arg;

	event_assign(&nc->ev_done, base, -1, 0, net_connect_done_cb, nc);
	evtimer_assign(&nc->ev_retry, base, net_connect_retry_cb, nc);
	evtimer_assign(&nc->ev_timeout, base, net_connect_timeout_cb, nc);
	if (timeout > 0) {
		net_timeval(timeout, &tv);
		evtimer_add(&nc->ev_timeout, &tv);
	}
	return (nc);
}

/*
 * The addresses to connect to: --resolve's (resolve.c), or a blocking
 * getaddrinfo, as nc does: it honours nsswitch and gai.conf ordering,
 * which evdns does not (doc/libevent-notes.md 4).
 */
int
net_resolve_addrs(const char *host, const char *port, int family,
    struct net_addr **addrs, size_t *n, struct stream_error *err)
{
	struct addrinfo	*res, *ai;

	if (resolve_lookup(host, port, family, addrs, n)) {
		if (*n > 0)
			return (0);
		free(*addrs);
		*addrs = NULL;
		stream_error_set(err, STREAM_ERESOLVE, 0, "%s: %s", host,
		    gai_strerror(EAI_ADDRFAMILY));
		return (-1);
	}
	if (net_resolve(host, port, family, 0, &res, err) != 0)
		return (-1);
	*n = 0;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		(*n)++;
	*addrs = xcalloc(*n, sizeof **addrs);
	*n = 0;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof (*addrs)[*n].ss)
			continue;
		memcpy(&(*addrs)[*n].ss, ai->ai_addr, ai->ai_addrlen);
		(*addrs)[(*n)++].len = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return (0);
}

static void
net_connect_he_cb(int fd, const struct stream_error *err, void *arg)
{
	struct net_connect	*nc = arg;

	if (fd == -1)
		nc->err = *err;
	net_connect_finish(nc, fd);
}

struct net_connect *
net_connect_tcp(struct event_base *base, const char *host, const char *port,
    int family, double timeout, net_connect_cb cb, void *arg)
{
	return (net_connect_tcp_from(base, host, port, family, NULL, NULL,
	    timeout, cb, arg));
}

struct net_connect *
net_connect_tcp_from(struct event_base *base, const char *host,
    const char *port, int family, const char *src_addr, const char *src_port,
    double timeout, net_connect_cb cb, void *arg)
{
	struct net_connect	*nc;

	struct net_addr		*addrs;
	size_t			 n;

	nc = net_connect_new(base, host, port, timeout, cb, arg);
	if (net_resolve_addrs(host, port, family, &addrs, &n, &nc->err) != 0) {
		net_connect_finish(nc, -1);
		return (nc);
	}
	nc->he = he_start(base, addrs, n, src_addr, src_port,
	    net_connect_he_cb, nc);
	free(addrs);
	return (nc);
}

struct net_connect *
net_connect_unix(struct event_base *base, const char *path, double timeout,
    net_connect_cb cb, void *arg)
{
	struct net_connect	*nc;
	socklen_t		 len;

	nc = net_connect_new(base, path, NULL, timeout, cb, arg);
	if (net_unix_sockaddr(path, &nc->unix_ss, &len, &nc->err) != 0) {
		net_connect_finish(nc, -1);
		return (nc);
	}
	nc->unix_ai.ai_family = AF_UNIX;
	nc->unix_ai.ai_socktype = SOCK_STREAM;
	nc->unix_ai.ai_addr = (struct sockaddr *)&nc->unix_ss;
	nc->unix_ai.ai_addrlen = len;
	nc->ai = &nc->unix_ai;
	net_connect_next(nc);
	return (nc);
}

void
net_connect_cancel(struct net_connect *nc)
{
	/* From inside its own callback: freed when the callback returns. */
	if (nc == NULL || nc->delivering)
		return;
	net_connect_free(nc);
}

/* Has an earlier entry of the list the same address (bound already)? */
static int
net_addr_seen(const struct addrinfo *res, const struct addrinfo *ai)
{
	for (; res != ai; res = res->ai_next) {
		if (res->ai_addrlen == ai->ai_addrlen &&
		    memcmp(res->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
			return (1);
	}
	return (0);
}

static void
net_set_port(struct sockaddr *sa, in_port_t port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = port;
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = port;
}

static in_port_t
net_get_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return (((const struct sockaddr_in6 *)sa)->sin6_port);
	return (0);
}

/* One listening TCP socket on sa; -1 and err (naming the call) on error. */
static int
net_listen_one(struct sockaddr *sa, socklen_t salen, int backlog,
    int reuseport, struct stream_error *err)
{
	char		 host[NI_MAXHOST], serv[NI_MAXSERV];
	const char	*call = "bind to";
	int		 fd, one = 1, error;

	if ((fd = net_socket(sa->sa_family)) == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
		goto fail;
	/* Several processes on one port, balanced by the kernel. */
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == -1)
		goto fail;
	/* Linux makes :: dual-stack by default, and 0.0.0.0 would clash. */
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == -1)
		goto fail;
	if (bind(fd, sa, salen) == -1)
		goto fail;
	call = "listen on";
	if (listen(fd, backlog) == -1)
		goto fail;
	return (fd);

fail:
	error = errno;
	if (fd != -1)
		close(fd);
	net_numeric(sa, salen, host, sizeof host, serv, sizeof serv);
	stream_error_set(err, STREAM_ESYS, error, "%s %s port %s: %s", call,
	    host, serv, strerror(error));
	return (-1);
}

/*
 * Listen on every address of host. Returns 0, or -1 with err, or -2 when
 * the port was 0 and the port the first socket got is taken on a later
 * address, which is worth another try.
 */
static int
net_listen_tcp_once(const char *host, const char *port, int family,
    int backlog, int reuseport, int **fds, size_t *nfds,
    struct stream_error *err)
{
	struct addrinfo		*res, *ai;
	struct sockaddr_storage	 ss, bound;
	socklen_t		 len;
	in_port_t		 realport = 0;
	int			*list, fd, any_port, r = -1;
	size_t			 n = 0, count = 0;

	if (net_resolve(host, port, family, 1, &res, err) != 0)
		return (-1);
	for (ai = res; ai != NULL; ai = ai->ai_next)
		count++;
	list = xreallocarray(NULL, count, sizeof *list);
	any_port = net_get_port(res->ai_addr) == 0;

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (net_addr_seen(res, ai))
			continue;
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		if (realport != 0)
			net_set_port((struct sockaddr *)&ss, realport);

		fd = net_listen_one((struct sockaddr *)&ss, ai->ai_addrlen,
		    backlog, reuseport, err);
		if (fd == -1) {
			/* A family the kernel lacks (no IPv6): skip it. */
			if (err->sys == EAFNOSUPPORT)
				continue;
			if (err->sys == EADDRINUSE && any_port && n > 0)
				r = -2;
			goto fail;
		}
		list[n++] = fd;

		/* "serve 0": the same port on every address. */
		len = sizeof bound;
		if (any_port && realport == 0 &&
		    getsockname(fd, (struct sockaddr *)&bound, &len) == 0)
			realport = net_get_port((struct sockaddr *)&bound);
	}
	if (n == 0)
		goto fail;	/* err holds the last address's failure */
	freeaddrinfo(res);
	*fds = list;
	*nfds = n;
	return (0);

fail:
	while (n > 0)
		close(list[--n]);
	free(list);
	freeaddrinfo(res);
	return (r);
}

static int
net_listen_tcp_common(const char *host, const char *port, int family,
    int backlog, int reuseport, int **fds, size_t *nfds,
    struct stream_error *err)
{
	int	i, r;

	*fds = NULL;
	*nfds = 0;
	for (i = 0; i < NET_LISTEN_TRIES; i++) {
		r = net_listen_tcp_once(host, port, family, backlog,
		    reuseport, fds, nfds, err);
		if (r != -2)
			return (r);
	}
	return (-1);
}

int
net_listen_tcp(const char *host, const char *port, int family, int backlog,
    int **fds, size_t *nfds, struct stream_error *err)
{
	return (net_listen_tcp_common(host, port, family, backlog, 0, fds,
	    nfds, err));
}

int
net_listen_tcp_reuseport(const char *host, const char *port, int family,
    int backlog, int **fds, size_t *nfds, struct stream_error *err)
{
	return (net_listen_tcp_common(host, port, family, backlog, 1, fds,
	    nfds, err));
}

/*
 * Make room for a unix socket at path: nothing there is fine; a socket
 * nobody listens on (connect refused) is stale and removed; anything else
 * (a live server, a file that is not a socket) is left alone and refused.
 * Like tmux, this cannot stop a second server racing between the test and
 * the bind; the bind then fails with EADDRINUSE.
 */
static int
net_unix_clear(const char *path, const struct sockaddr_storage *ss,
    socklen_t sslen, struct stream_error *err)
{
	struct stat	sb;
	int		fd, r, error;

	if (lstat(path, &sb) == -1) {
		if (errno == ENOENT)
			return (0);
		error = errno;
		stream_error_set(err, STREAM_ESYS, error, "%s: %s", path,
		    strerror(error));
		return (-1);
	}
	if (!S_ISSOCK(sb.st_mode)) {
		stream_error_set(err, STREAM_ESYS, EEXIST,
		    "%s: exists and is not a socket", path);
		return (-1);
	}

	if ((fd = net_socket(AF_UNIX)) == -1) {
		error = errno;
		stream_error_set(err, STREAM_ESYS, error, "socket: %s",
		    strerror(error));
		return (-1);
	}
	r = connect(fd, (const struct sockaddr *)ss, sslen);
	error = errno;
	close(fd);
	/* Connected, or a full backlog: either way someone listens. */
	if (r == 0 || error == EAGAIN) {
		stream_error_set(err, STREAM_ESYS, EADDRINUSE,
		    "%s: address in use", path);
		return (-1);
	}
	if (error == ENOENT)
		return (0);	/* gone since the lstat */
	if (error != ECONNREFUSED) {
		stream_error_set(err, STREAM_ESYS, error, "connect to %s: %s",
		    path, strerror(error));
		return (-1);
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		error = errno;
		stream_error_set(err, STREAM_ESYS, error, "unlink %s: %s", path,
		    strerror(error));
		return (-1);
	}
	return (0);
}

int
net_listen_unix(const char *path, int mode, int backlog, dev_t *dev,
    ino_t *ino, struct stream_error *err)
{
	struct sockaddr_storage	 ss;
	struct stat		 sb;
	socklen_t		 sslen;
	mode_t			 mask = 0;
	const char		*call = "bind to";
	int			 fd, r, error, abstract;

	if (dev != NULL)
		*dev = 0;
	if (ino != NULL)
		*ino = 0;
	if (net_unix_sockaddr(path, &ss, &sslen, err) != 0)
		return (-1);
	abstract = path[0] == '@';	/* no file: no hygiene, no mode */
	if (!abstract && net_unix_clear(path, &ss, sslen, err) != 0)
		return (-1);

	if ((fd = net_socket(AF_UNIX)) == -1) {
		error = errno;
		stream_error_set(err, STREAM_ESYS, error, "socket: %s",
		    strerror(error));
		return (-1);
	}
	/*
	 * The file is created by bind() with 0777 & ~umask: setting the
	 * umask around it gives the mode with no window where the socket
	 * is more open than asked (a chmod after bind would leave one).
	 */
	if (mode >= 0 && !abstract)
		mask = umask(~(mode_t)mode & 0777);
	r = bind(fd, (struct sockaddr *)&ss, sslen);
	error = errno;
	if (mode >= 0 && !abstract)
		umask(mask);
	if (r == -1)
		goto fail;

	if (!abstract && lstat(path, &sb) == 0) {
		if (dev != NULL)
			*dev = sb.st_dev;
		if (ino != NULL)
			*ino = sb.st_ino;
	}
	if (listen(fd, backlog) == -1) {
		error = errno;
		call = "listen on";
		if (!abstract)
			unlink(path);
		goto fail;
	}
	return (fd);

fail:
	close(fd);
	stream_error_set(err, STREAM_ESYS, error, "%s %s: %s", call, path,
	    strerror(error));
	return (-1);
}

void
net_unlink_unix(const char *path, dev_t dev, ino_t ino)
{
	struct stat	sb;

	if (path == NULL || path[0] == '\0' || path[0] == '@')
		return;
	/* Only if it is still our socket: a later server may own the path. */
	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    sb.st_dev == dev && sb.st_ino == ino)
		unlink(path);
}

static int
net_listener_update(struct net_listener *l)
{
	if (l->enabled && !l->paused)
		return (event_add(&l->ev, NULL));
	return (event_del(&l->ev));
}

/*
 * accept() failed for want of descriptors or memory. The pending client
 * stays queued, so level-triggered epoll would wake us again at once and
 * for ever (what evconnlistener does): stop watching the socket for a
 * while instead, and say so once until an accept succeeds again.
 */
static void
net_listener_pause(struct net_listener *l, int error)
{
	struct timeval	tv;
	char		msg[128];

	l->paused = 1;
	net_listener_update(l);
	net_ms_timeval(NET_ACCEPT_PAUSE_MS, &tv);
	evtimer_add(&l->ev_resume, &tv);
	if (!l->starved) {
		l->starved = 1;
		if (l->log_cb != NULL) {
			snprintf(msg, sizeof msg, "accept: %s; pausing %d ms",
			    strerror(error), NET_ACCEPT_PAUSE_MS);
			l->log_cb(msg, l->arg);
		}
	}
}

static void
net_listener_resume_cb(evutil_socket_t unused, short events, void *arg)
{
	struct net_listener	*l = arg;

	l->paused = 0;
	net_listener_update(l);
}

/* Errors that concern one aborted client, not the listener (accept(2)). */
static int
net_accept_transient(int error)
{
	switch (error) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case EPERM:		/* a firewall rule refused this one */
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return (1);
	}
	return (0);
}

static void
net_listener_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct net_listener	*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 i, cfd;

	l->busy = 1;
	for (i = 0; i < NET_ACCEPT_BATCH; i++) {
		/* The callback may have disabled or freed the listener. */
		if (l->dead || !l->enabled || l->paused)
			break;
		sslen = sizeof ss;
		cfd = accept4(fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK|SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (net_accept_transient(errno))
				continue;
			/*
			 * EMFILE, ENFILE, ENOBUFS, ENOMEM, or something
			 * stranger: all would spin, so all back off.
			 */
			net_listener_pause(l, errno);
			break;
		}
		l->starved = 0;
		l->accept_cb(cfd, (struct sockaddr *)&ss, sslen, l->arg);
	}
	l->busy = 0;
	if (l->dead)
		free(l);
}

struct net_listener *
net_listener_new(struct event_base *base, int fd, net_accept_cb accept_cb,
    net_log_cb log_cb, void *arg)
{
	struct net_listener	*l;

	l = xcalloc(1, sizeof *l);
	l->fd = fd;
	l->accept_cb = accept_cb;
	l->log_cb = log_cb;
	l->arg = arg;
	event_assign(&l->ev, base, fd, EV_READ|EV_PERSIST,
	    net_listener_read_cb, l);
	evtimer_assign(&l->ev_resume, base, net_listener_resume_cb, l);
	l->enabled = 1;
	/* Not a descriptor epoll can watch (closed, a regular file). */
	if (net_listener_update(l) == -1) {
		free(l);
		return (NULL);
	}
	return (l);
}

void
net_listener_enable(struct net_listener *l, int on)
{
	if (l == NULL || l->dead)
		return;
	l->enabled = on != 0;
	net_listener_update(l);
}

void
net_listener_free(struct net_listener *l)
{
	if (l == NULL || l->dead)
		return;
	event_del(&l->ev);
	event_del(&l->ev_resume);
	close(l->fd);
	l->fd = -1;
	/* Inside its own accept loop: the loop frees it on the way out. */
	if (l->busy)
		l->dead = 1;
	else
		free(l);
}

/*
 * A unix address: the path, "@name" if abstract, "" if unnamed. An
 * abstract name may hold any byte: a NUL is shown as \0 and a backslash
 * as \\, so "@a\0b" and "@a@b" stay apart (control bytes are quoted
 * where the name is printed, log.c).
 */
static void
net_format_unix(const struct sockaddr_un *sun, socklen_t salen, char *buf,
    size_t len)
{
	size_t	plen, i, o = 0;
	char	c;

	if (salen <= offsetof(struct sockaddr_un, sun_path))
		return;
	plen = salen - offsetof(struct sockaddr_un, sun_path);
	if (plen > sizeof sun->sun_path)
		plen = sizeof sun->sun_path;
	if (sun->sun_path[0] != '\0') {
		snprintf(buf, len, "%.*s", (int)strnlen(sun->sun_path, plen),
		    sun->sun_path);
		return;
	}
	buf[o++] = '@';
	for (i = 1; i < plen && o + 1 < len; i++) {
		c = sun->sun_path[i];
		if (c != '\0' && c != '\\')
			buf[o++] = c;
		else if (o + 2 < len) {
			buf[o++] = '\\';
			buf[o++] = c == '\0' ? '0' : '\\';
		} else
			break;
	}
	buf[o] = '\0';
}

/* The decimal digits of v, written backwards ending at end: their start. */
static char *
net_utoa(char *end, unsigned int v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return (end);
}

/*
 * "A.B.C.D:PORT" by hand, as getnameinfo(NI_NUMERICHOST|NI_NUMERICSERV)
 * writes it: getnameinfo and snprintf cost about 3,500 instructions, paid
 * for every client a server accepts.
 */
static void
net_format_inet4(const struct sockaddr_in *sin, char *buf, size_t len)
{
	const unsigned char	*a = (const unsigned char *)&sin->sin_addr;
	char			 tmp[sizeof "255.255.255.255:65535"];
	char			*p = tmp + sizeof tmp;
	int			 i;

	*--p = '\0';
	p = net_utoa(p, ntohs(sin->sin_port));
	*--p = ':';
	for (i = 3; i >= 0; i--) {
		p = net_utoa(p, a[i]);
		if (i > 0)
			*--p = '.';
	}
	strlcpy(buf, p, len);
}

void
net_format_addr(const struct sockaddr *sa, socklen_t salen, char *buf,
    size_t len)
{
	char	host[NI_MAXHOST], serv[NI_MAXSERV];

	if (len == 0)
		return;
	buf[0] = '\0';
	if (sa == NULL || salen < (socklen_t)sizeof sa->sa_family)
		return;
	switch (sa->sa_family) {
	case AF_INET:
		if (salen >= (socklen_t)sizeof(struct sockaddr_in)) {
			net_format_inet4((const struct sockaddr_in *)sa, buf,
			    len);
			break;
		}
		/* FALLTHROUGH */
	case AF_INET6:
		if (getnameinfo(sa, salen, host, sizeof host, serv, sizeof serv,
		    NI_NUMERICHOST|NI_NUMERICSERV) != 0)
			return;
		if (sa->sa_family == AF_INET6)
			snprintf(buf, len, "[%s]:%s", host, serv);
		else
			snprintf(buf, len, "%s:%s", host, serv);
		break;
	case AF_UNIX:
		net_format_unix((const struct sockaddr_un *)sa, salen, buf,
		    len);
		break;
	}
}

void
net_format_sockname(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen = sizeof ss;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		net_format_addr((struct sockaddr *)&ss, sslen, buf, len);
}

int
net_set_nodelay(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen = sizeof ss;
	int			one = 1;

	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1)
		return (-1);
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
		return (0);	/* unix sockets have no Nagle to disable */
	return (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
}
