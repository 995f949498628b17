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
#include <sys/time.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "compat.h"
#include "error.h"
#include "net.h"
#include "net-int.h"
#include "xmalloc.h"

/*
 * Listening on TCP and the accept loop. Listening follows asyncio's
 * start_server: every address of the host, IPv6 sockets v6-only so
 * 0.0.0.0 and :: can both bind. The accept loop is ours rather than
 * evconnlistener's, which busy-loops on EMFILE. Unix listening sockets
 * are made in net-unix.c and accepted here like any other.
 */

/* Accepts per wakeup, so one busy listener cannot starve the others. */
#define NET_ACCEPT_BATCH	64

/* Back-off after accept() ran out of descriptors or memory. */
#define NET_ACCEPT_PAUSE_MS	100

/* Port 0 on several addresses: retries when the first one's port is taken. */
#define NET_LISTEN_TRIES	8
/* net_listen_one's backlog for a UDP socket: bound, no listen(2). */
#define NET_LISTEN_DGRAM	(-1000)

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

/*
 * One listening TCP socket on sa, or a bound UDP one when backlog is
 * NET_LISTEN_DGRAM; -1 and err (naming the call) on error.
 */
static int
net_listen_one(struct sockaddr *sa, socklen_t salen, int backlog,
    struct stream_error *err)
{
	char		 host[NI_MAXHOST], serv[NI_MAXSERV];
	char		 hp[NI_MAXHOST + NI_MAXSERV + 4];
	const char	*call = "bind to";
	int		 fd, one = 1, error;
	int		 dgram = backlog == NET_LISTEN_DGRAM;

	if ((fd = net_socket_type(sa->sa_family, dgram ? SOCK_DGRAM :
	    SOCK_STREAM)) == -1)
		goto fail;
	/* On UDP it would let two servers share the port: not there. */
	if (!dgram &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
		goto fail;
	/* Linux makes :: dual-stack by default, and 0.0.0.0 would clash. */
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == -1)
		goto fail;
	if (bind(fd, sa, salen) == -1)
		goto fail;
	if (dgram)
		return (fd);
	call = "listen on";
	if (listen(fd, backlog) == -1)
		goto fail;
	return (fd);

fail:
	error = errno;
	if (fd != -1)
		close(fd);
	net_numeric(sa, salen, host, sizeof host, serv, sizeof serv);
	stream_error_set(err, STREAM_ESYS, error, "%s %s: %s", call,
	    net_hostport(host, serv, hp, sizeof hp), strerror(error));
	return (-1);
}

/*
 * Listen on every address of host. Returns 0, or -1 with err, or -2 when
 * the port was 0 and the port the first socket got is taken on a later
 * address, which is worth another try.
 */
static int
net_listen_tcp_once(const char *host, const char *port, int family,
    int backlog, int **fds, size_t *nfds, struct stream_error *err)
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
		    backlog, err);
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

int
net_listen_tcp(const char *host, const char *port, int family, int backlog,
    int **fds, size_t *nfds, struct stream_error *err)
{
	int	i, r;

	*fds = NULL;
	*nfds = 0;
	for (i = 0; i < NET_LISTEN_TRIES; i++) {
		r = net_listen_tcp_once(host, port, family, backlog, fds,
		    nfds, err);
		if (r != -2)
			return (r);
	}
	return (-1);
}

/* UDP: a bound socket on every address of host, the same port on each. */
int
net_listen_udp(const char *host, const char *port, int family, int **fds,
    size_t *nfds, struct stream_error *err)
{
	return (net_listen_tcp(host, port, family, NET_LISTEN_DGRAM, fds,
	    nfds, err));
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
