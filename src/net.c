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
#include "monotime.h"
#include "net.h"
#include "net-int.h"
#include "timing.h"
#include "xmalloc.h"

/*
 * Addresses, resolution and connecting: everything below the stream
 * module that deals in file descriptors and sockaddrs. Nothing here reads
 * or writes payload bytes. Listening and the accept loop are in
 * net-listen.c; unix socket paths and their hygiene in net-unix.c.
 *
 * A TCP connect races every address getaddrinfo (or --resolve) gives,
 * Happy Eyeballs style (net-happy-eyeballs.c; libevent's connect_hostname only
 * tries the first: doc/libevent-notes.md section 4); a unix connect has
 * one address. One timer bounds the whole attempt.
 */

/* A unix connect() refused with EAGAIN (backlog full) is retried. */
#define NET_RETRY_MIN_MS	10
#define NET_RETRY_MAX_MS	100


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

	struct net_attempt	 att;	/* the current address's connect */
	struct event		 ev_timeout;
	struct event		 ev_retry; /* unix backlog full */
	int			 retry_ms;

	/* The result, handed over from ev_done. */
	struct event		 ev_done;
	int			 done_fd;	/* or -1 and err */
	struct stream_error	 err;
	int			 delivering;

	/* TCP: the Happy Eyeballs race (net-happy-eyeballs.c). */
	struct happy_eyeballs	*he;

	net_connect_cb		 cb;
	void			*arg;

	/* -s ADDR, -p PORT: bind before connect (NULL: the kernel picks). */
};

static void	net_connect_next(struct net_connect *);

static void
net_timeval(double secs, struct timeval *tv)
{
	if (secs > NET_TIMEOUT_MAX)
		secs = NET_TIMEOUT_MAX;
	monotime_tv(secs, tv);
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
void
net_numeric(const struct sockaddr *sa, socklen_t salen, char *host,
    size_t hostlen, char *serv, size_t servlen)
{
	if (getnameinfo(sa, salen, host, hostlen, serv, servlen,
	    NI_NUMERICHOST|NI_NUMERICSERV) != 0) {
		snprintf(host, hostlen, "?");
		snprintf(serv, servlen, "?");
	}
}

/* Why connecting to the current address failed. */
static void
net_connect_error(struct net_connect *nc, int error)
{
	char	host[NI_MAXHOST], serv[NI_MAXSERV], hp[NI_MAXHOST + 40];

	if (nc->port == NULL) {
		stream_error_set(&nc->err, STREAM_ESYS, error,
		    "connect to %s: %s", nc->name, strerror(error));
		return;
	}
	net_numeric(nc->ai->ai_addr, nc->ai->ai_addrlen, host, sizeof host,
	    serv, sizeof serv);
	stream_error_set(&nc->err, STREAM_ESYS, error, "connect to %s: %s",
	    net_hostport(host, serv, hp, sizeof hp), strerror(error));
}

/* Abandon the socket of the current attempt. */
static void
net_connect_stop_attempt(struct net_connect *nc)
{
	net_attempt_close(&nc->att);
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
	if (fd != -1)
		timing_mark(TIMING_CONNECT);
	nc->cb(fd, &nc->err, nc->arg);
	net_connect_free(nc);
}

static void
net_connect_timeout_cb(evutil_socket_t unused, short events, void *arg)
{
	struct net_connect	*nc = arg;
	char			 hp[300];

	if (nc->he != NULL)
		he_error(nc->he, &nc->err);	/* names every address */
	else if (nc->port != NULL) {
		stream_error_set(&nc->err, STREAM_ETIMEOUT, ETIMEDOUT,
		    "connect to %s: timed out", net_hostport(nc->name,
		    nc->port, hp, sizeof hp));
	} else {
		stream_error_set(&nc->err, STREAM_ETIMEOUT, ETIMEDOUT,
		    "connect to %s: timed out", nc->name);
	}
	net_connect_finish(nc, -1);
}

/* The attempt in progress has its answer. */
static void
net_connect_attempt_cb(struct net_attempt *a, int error, void *arg)
{
	struct net_connect	*nc = arg;

	if (error == 0) {
		net_connect_finish(nc, net_attempt_take(a));
		return;
	}
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
 * (or will be retried), 0 if it connected at once (the socket is the
 * attempt's), -1 if it failed (nc->err says why).
 */
static int
net_connect_start(struct net_connect *nc)
{
	struct addrinfo	*ai = nc->ai;
	struct timeval	 tv;
	int		 error;

	if ((error = net_attempt_socket(&nc->att, ai->ai_family)) != 0) {
		net_connect_error(nc, error);
		return (-1);
	}
	error = net_attempt_connect(&nc->att, nc->base, ai->ai_addr,
	    ai->ai_addrlen, NULL, net_connect_attempt_cb, nc);
	if (error == 0)
		return (0);
	if (error == EINPROGRESS)
		return (1);
	net_attempt_close(&nc->att);

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
			net_connect_finish(nc, net_attempt_take(&nc->att));
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
	net_attempt_init(&nc->att);
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
 * The addresses to connect to: --resolve's (net-resolve.c), or a blocking
 * getaddrinfo, as nc does: it honours nsswitch and gai.conf ordering,
 * which evdns does not (doc/libevent-notes.md 4).
 */
int
net_resolve_addrs(const char *host, const char *port, int family,
    struct net_addr **addrs, size_t *n, struct stream_error *err)
{
	struct addrinfo	*res, *ai;

	if (resolve_lookup(host, port, family, addrs, n)) {
		timing_mark(TIMING_DNS);
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
	timing_mark(TIMING_DNS);
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
	timing_mark(TIMING_DNS);	/* no name to resolve: done at once */
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

const char *
net_hostport(const char *host, const char *port, char *buf, size_t len)
{
	int	v6 = strchr(host, ':') != NULL && *host != '[';

	snprintf(buf, len, "%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "",
	    port);
	return (buf);
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
