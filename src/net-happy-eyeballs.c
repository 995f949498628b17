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
#include "log.h"
#include "net.h"
#include "xmalloc.h"

/*
 * Happy Eyeballs version 2 (RFC 8305) for TCP connects. The addresses are
 * put in the order of section 4 (families interleaved, IPv6 first, each
 * family in the resolver's order), the first attempt starts at once and
 * each next one after the Connection Attempt Delay, or as soon as an
 * attempt fails. The first socket to connect wins and every
 * other attempt is closed at once. The deadline of the whole race
 * (--connect-timeout) is the caller's (net.c), which then asks for the
 * error naming every address.
 */

#define HE_ATTEMPT_DELAY_MS	250	/* RFC 8305 section 5 */

enum he_state {
	HE_UNTRIED,
	HE_PENDING,
	HE_FAILED
};

struct he_attempt {
	struct happy_eyeballs	*he;
	struct net_addr		 addr;
	enum he_state		 state;
	struct net_attempt	 att;		/* its socket and connect */
	int			 error;		/* HE_FAILED: errno */
};

struct happy_eyeballs {
	struct event_base	*base;
	struct he_attempt	*att;
	size_t			 n;
	size_t			 next;		/* the next to start */
	size_t			 pending;
	struct event		 ev_delay;
	int			 stopped;
	he_done_cb		 cb;
	void			*arg;

	/* nc -s, -p: every socket is bound there before it connects. */
	char			*src_addr;
	char			*src_port;
	int			 bind_failed;
	struct stream_error	 bind_err;	/* the first bind failure */
};

static void	he_start_next(struct happy_eyeballs *);

/* Section 4: interleave the families, IPv6 first, order kept within. */
static void
he_sort(struct happy_eyeballs *he, const struct net_addr *addrs, size_t n)
{
	size_t	i, i6 = 0, i4 = 0, k = 0;
	int	want = AF_INET6;

	while (k < n) {
		for (i = want == AF_INET6 ? i6 : i4; i < n; i++) {
			if ((addrs[i].ss.ss_family == AF_INET6) ==
			    (want == AF_INET6))
				break;
		}
		if (i < n) {
			he->att[k++].addr = addrs[i];
			if (want == AF_INET6)
				i6 = i + 1;
			else
				i4 = i + 1;
		}
		want = want == AF_INET6 ? AF_INET : AF_INET6;
	}
}

static void
he_format(const struct net_addr *a, char *host, size_t hostlen, char *serv,
    size_t servlen)
{
	if (getnameinfo((const struct sockaddr *)&a->ss, a->len, host,
	    hostlen, serv, servlen, NI_NUMERICHOST|NI_NUMERICSERV) != 0) {
		snprintf(host, hostlen, "?");
		snprintf(serv, servlen, "?");
	}
}

static void
he_log(struct he_attempt *a, const char *event, int error)
{
	char	host[NI_MAXHOST], serv[NI_MAXSERV];
	char	peer[NI_MAXHOST + NI_MAXSERV + 4];

	/* One address is no race: "connected" or the error tells it all. */
	if (!log_verbose() || a->he->n < 2)
		return;
	/* As net_format_addr writes it, without calling back into net.c. */
	he_format(&a->addr, host, sizeof host, serv, sizeof serv);
	snprintf(peer, sizeof peer, a->addr.ss.ss_family == AF_INET6 ?
	    "[%s]:%s" : "%s:%s", host, serv);
	if (error == 0)
		log_event(event, "peer", peer, (char *)NULL);
	else
		log_event(event, "peer", peer, "error", strerror(error),
		    (char *)NULL);
}

static void
he_attempt_close(struct he_attempt *a)
{
	net_attempt_close(&a->att);
}

/* Close every attempt and the timer; nothing will call back any more. */
void
he_stop(struct happy_eyeballs *he)
{
	size_t	i;

	he->stopped = 1;
	event_del(&he->ev_delay);
	for (i = 0; i < he->n; i++)
		he_attempt_close(&he->att[i]);
	he->pending = 0;
}

void
he_free(struct happy_eyeballs *he)
{
	if (he == NULL)
		return;
	he_stop(he);
	free(he->src_addr);
	free(he->src_port);
	free(he->att);
	free(he);
}

/*
 * The error of a lost race, naming each address and why, in the order
 * tried: "connect to ::1 port 5: Connection refused; 127.0.0.1 port 5:
 * timed out". Addresses still in flight or never tried count as timed
 * out (the race's deadline passed); the error is a timeout only when
 * every address timed out.
 */
void
he_error(struct happy_eyeballs *he, struct stream_error *err)
{
	char		 host[NI_MAXHOST], serv[NI_MAXSERV], buf[sizeof err->msg];
	char		 hp[NI_MAXHOST + NI_MAXSERV + 4];
	size_t		 i, off;
	int		 last = 0, timeouts = 0;
	const char	*why;

	off = strlcpy(buf, "connect to ", sizeof buf);
	for (i = 0; i < he->n && off < sizeof buf; i++) {
		he_format(&he->att[i].addr, host, sizeof host, serv,
		    sizeof serv);
		if (he->att[i].state == HE_FAILED) {
			last = he->att[i].error;
			why = strerror(last);
		} else {
			timeouts++;
			why = "timed out";
		}
		off += snprintf(buf + off, sizeof buf - off, "%s%s: %s",
		    i > 0 ? "; " : "", net_hostport(host, serv, hp,
		    sizeof hp), why);
	}
	/* A source address that cannot be bound fails every attempt alike. */
	if (he->bind_failed) {
		*err = he->bind_err;
		return;
	}
	memset(err, 0, sizeof *err);
	err->kind = timeouts == (int)he->n ? STREAM_ETIMEOUT : STREAM_ESYS;
	err->sys = timeouts == (int)he->n ? ETIMEDOUT : last;
	strlcpy(err->msg, buf, sizeof err->msg);
}

/* Won, or lost everywhere: stop the race, then tell the caller. */
static void
he_finish(struct happy_eyeballs *he, struct he_attempt *winner)
{
	struct stream_error	err;
	int			fd = -1;

	memset(&err, 0, sizeof err);
	if (winner != NULL) {
		fd = net_attempt_take(&winner->att);
	} else
		he_error(he, &err);
	he_stop(he);
	he->cb(fd, &err, he->arg);	/* may free he */
}

static void
he_attempt_failed(struct he_attempt *a, int error)
{
	struct happy_eyeballs	*he = a->he;

	he_log(a, "attempt-failed", error);
	he_attempt_close(a);
	if (a->state == HE_PENDING)
		he->pending--;
	a->state = HE_FAILED;
	a->error = error;
}

static void
he_attempt_cb(struct net_attempt *att, int error, void *arg)
{
	struct he_attempt	*a = arg;
	struct happy_eyeballs	*he = a->he;

	if (error == 0) {
		he_finish(he, a);
		return;
	}
	he_attempt_failed(a, error);
	/*
	 * A failure starts the next attempt at once (as curl and browsers
	 * do): the delay is there to spare a slow attempt, not a dead one.
	 */
	if (he->next < he->n || he->pending == 0) {
		event_del(&he->ev_delay);
		he_start_next(he);
	}
}

static void
he_delay_cb(evutil_socket_t fd, short events, void *arg)
{
	he_start_next(arg);
}

/*
 * Create the socket of one attempt and start connecting: the one place
 * a socket for an outgoing TCP connection is made. 1 in progress, 0
 * connected at once (a->att), -1 failed (a->error).
 */
/*
 * Bind a connecting socket to a local address and/or port (nc -s, -p)
 * of its family. An address of the other family, or one that is not
 * local, is an error naming it: "bind to 192.0.2.1: Cannot assign
 * requested address". SO_REUSEADDR lets -p reuse a port whose last
 * connection is in TIME_WAIT; a port a socket listens on stays refused.
 */
static int
he_bind_source(int fd, int family, const char *addr, const char *port,
    struct stream_error *err)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		 what[300];
	int		 error, on = 1;

	if (addr != NULL && port != NULL)
		net_hostport(addr, port, what, sizeof what);
	else if (addr != NULL)
		snprintf(what, sizeof what, "%s", addr);
	else
		snprintf(what, sizeof what, "port %s", port ? port : "0");
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((error = getaddrinfo(addr, port != NULL ? port : "0", &hints,
	    &res)) != 0) {
		if (error == EAI_FAMILY || error == EAI_ADDRFAMILY)
			stream_error_set(err, STREAM_ESYS, EAFNOSUPPORT,
			    "bind to %s: %s", what, strerror(EAFNOSUPPORT));
		else
			stream_error_set(err, STREAM_ERESOLVE, 0,
			    "bind to %s: %s", what, gai_strerror(error));
		return (-1);
	}
	if (port != NULL)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	error = EAFNOSUPPORT;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			freeaddrinfo(res);
			return (0);
		}
		error = errno;
	}
	freeaddrinfo(res);
	stream_error_set(err, STREAM_ESYS, error, "bind to %s: %s", what,
	    strerror(error));
	return (-1);
}

static int
he_attempt_start(struct he_attempt *a)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&a->addr.ss;
	struct stream_error	 e;
	int			 error;

	he_log(a, "attempt", 0);
	if ((errno = net_attempt_socket(&a->att, sa->sa_family)) != 0)
		goto fail;
	if ((a->he->src_addr != NULL || a->he->src_port != NULL) &&
	    he_bind_source(a->att.fd, sa->sa_family, a->he->src_addr,
	    a->he->src_port, &e) == -1) {
		if (!a->he->bind_failed)
			a->he->bind_err = e;
		a->he->bind_failed = 1;
		errno = e.sys != 0 ? e.sys : EADDRNOTAVAIL;
		goto fail;
	}
	error = net_attempt_connect(&a->att, a->he->base, sa, a->addr.len,
	    NULL, he_attempt_cb, a);
	if (error == 0)
		return (0);
	if (error != EINPROGRESS) {
		errno = error;
		goto fail;
	}
	a->state = HE_PENDING;
	a->he->pending++;
	return (1);

fail:
	error = errno;
	he_attempt_failed(a, error);
	return (-1);
}

/* Start attempts until one is in flight (then arm the delay) or done. */
static void
he_start_next(struct happy_eyeballs *he)
{
	struct timeval	 tv;
	struct he_attempt *a;

	while (!he->stopped && he->next < he->n) {
		a = &he->att[he->next++];
		switch (he_attempt_start(a)) {
		case 0:
			he_finish(he, a);
			return;
		case 1:
			if (he->next < he->n) {
				tv.tv_sec = 0;
				tv.tv_usec = HE_ATTEMPT_DELAY_MS * 1000;
				evtimer_add(&he->ev_delay, &tv);
			}
			return;
		}
	}
	if (!he->stopped && he->pending == 0)
		he_finish(he, NULL);
}

/*
 * Race the addresses. cb runs once, with a connected socket or -1 and
 * the error naming every address; it may run before he_start returns.
 */
struct happy_eyeballs *
he_start(struct event_base *base, const struct net_addr *addrs, size_t n,
    const char *src_addr, const char *src_port, he_done_cb cb, void *arg)
{
	struct happy_eyeballs	*he;
	size_t			 i;

	he = xcalloc(1, sizeof *he);
	he->base = base;
	he->att = xcalloc(n, sizeof *he->att);
	he->n = n;
	he->cb = cb;
	he->arg = arg;
	if (src_addr != NULL)
		he->src_addr = xstrdup(src_addr);
	if (src_port != NULL)
		he->src_port = xstrdup(src_port);
	he_sort(he, addrs, n);
	for (i = 0; i < n; i++) {
		he->att[i].he = he;
		net_attempt_init(&he->att[i].att);
	}
	evtimer_assign(&he->ev_delay, base, he_delay_cb, he);
	he_start_next(he);
	return (he);
}
