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
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "connect-scan.h"
#include "net.h"
#include "xmalloc.h"

/*
 * connect -zu: nmap's UDP scan in small. A connected UDP socket per
 * port sends a probe datagram ("X", as nc -zu sends); an answer of any
 * kind makes the port open, an ICMP port unreachable (the connected
 * socket's ECONNREFUSED) closed, and silence for the whole timeout
 * open|filtered: UDP cannot tell a silent service from a firewall. The
 * probe goes out twice (at the start and half-way), since a datagram or
 * its ICMP answer may be lost; Linux rate-limits ICMP errors except on
 * loopback, so a wide scan of a remote host finds more open|filtered.
 */

#define PROBE		"X"

struct uscan;

struct uprobe {
	struct uscan		*sc;
	size_t			 idx;
	int			 fd;
	int			 resent;
	struct event		*ev;
};

struct uscan {
	struct event_base		*base;
	const struct portscan_opts	*o;
	const uint16_t			*ports;
	size_t				 n;
	enum portscan_state		*state;
	size_t				 next;		/* to start */
	size_t				 printed;
	unsigned int			 active;
	struct sockaddr_storage		 addr;
	socklen_t			 addrlen;
	struct portscan_result		*r;
	struct stream_error		*err;
	int				 failed;
};

static void	uscan_fill(struct uscan *);

static void
uscan_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* A port's state is known: count it, print what is in order, go on. */
static void
uscan_done(struct uprobe *p, enum portscan_state st)
{
	struct uscan	*sc = p->sc;

	sc->state[p->idx] = st;
	if (st == PORTSCAN_ST_OPEN)
		sc->r->open++;
	else if (st == PORTSCAN_ST_CLOSED)
		sc->r->closed++;
	else
		sc->r->timeout++;
	event_free(p->ev);
	close(p->fd);
	free(p);
	sc->active--;
	while (sc->printed < sc->n &&
	    sc->state[sc->printed] != PORTSCAN_ST_PENDING) {
		portscan_print(sc->o, sc->ports[sc->printed],
		    sc->state[sc->printed]);
		sc->printed++;
	}
	uscan_fill(sc);
}

static void
uscan_timeout(struct uprobe *p, struct timeval *tv)
{
	double	half = p->sc->o->timeout / 2;

	tv->tv_sec = (time_t)half;
	tv->tv_usec = (suseconds_t)((half - (double)tv->tv_sec) * 1e6);
}

static void
uscan_event_cb(evutil_socket_t fd, short events, void *arg)
{
	struct uprobe	*p = arg;
	struct timeval	 tv;
	char		 buf[1];
	ssize_t		 n;

	if (events & EV_TIMEOUT) {
		if (p->resent) {
			uscan_done(p, PORTSCAN_ST_FILTERED);
			return;
		}
		/* Half-way: the probe again, a lost one is not a verdict. */
		p->resent = 1;
		if (send(fd, PROBE, sizeof PROBE - 1, MSG_DONTWAIT) == -1 &&
		    errno == ECONNREFUSED) {
			uscan_done(p, PORTSCAN_ST_CLOSED);
			return;
		}
		uscan_timeout(p, &tv);
		event_add(p->ev, &tv);
		return;
	}
	n = recv(fd, buf, sizeof buf, MSG_DONTWAIT|MSG_TRUNC);
	if (n >= 0)
		uscan_done(p, PORTSCAN_ST_OPEN);
	else if (errno == ECONNREFUSED)
		uscan_done(p, PORTSCAN_ST_CLOSED);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		uscan_done(p, PORTSCAN_ST_FILTERED);	/* host unreachable */
}

/* One port: a socket, a probe, the wait. -1 on a failure for all. */
static int
uscan_start(struct uscan *sc, size_t idx)
{
	struct sockaddr_storage	 ss = sc->addr;
	struct uprobe		*p;
	struct timeval		 tv;
	int			 fd, error;
	char			 port[8], hp[300];

	fd = socket(ss.ss_family, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
	uscan_set_port(&ss, sc->ports[idx]);
	if (fd == -1 || connect(fd, (struct sockaddr *)&ss, sc->addrlen) == -1) {
		error = errno;
		if (fd != -1)
			close(fd);
		snprintf(port, sizeof port, "%u", sc->ports[idx]);
		stream_error_set(sc->err, STREAM_ESYS, error, "%s: %s",
		    net_hostport(sc->o->host, port, hp, sizeof hp),
		    strerror(error));
		return (-1);
	}
	p = xcalloc(1, sizeof *p);
	p->sc = sc;
	p->idx = idx;
	p->fd = fd;
	p->ev = event_new(sc->base, fd, EV_READ|EV_PERSIST, uscan_event_cb, p);
	sc->active++;
	if (send(fd, PROBE, sizeof PROBE - 1, MSG_DONTWAIT) == -1 &&
	    errno == ECONNREFUSED) {
		uscan_done(p, PORTSCAN_ST_CLOSED);
		return (0);
	}
	uscan_timeout(p, &tv);
	event_add(p->ev, &tv);
	return (0);
}

/* Keep "concurrency" probes in flight. */
static void
uscan_fill(struct uscan *sc)
{
	while (!sc->failed && sc->next < sc->n &&
	    sc->active < sc->o->concurrency) {
		if (uscan_start(sc, sc->next++) != 0) {
			sc->failed = 1;
			event_base_loopbreak(sc->base);
		}
	}
}

int
portscan_udp_run(struct event_base *base, const struct portscan_opts *o,
    const uint16_t *ports, size_t n, struct portscan_result *r,
    struct stream_error *err)
{
	struct uscan	 sc;
	struct addrinfo	*res;

	memset(r, 0, sizeof *r);
	memset(&sc, 0, sizeof sc);
	if (net_resolve(o->host, NULL, o->family, 0, &res, err) != 0)
		return (-1);
	memcpy(&sc.addr, res->ai_addr, res->ai_addrlen);
	sc.addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	sc.base = base;
	sc.o = o;
	sc.ports = ports;
	sc.n = n;
	sc.r = r;
	sc.err = err;
	sc.state = xcalloc(n, sizeof *sc.state);
	uscan_fill(&sc);
	if (!sc.failed && sc.active > 0)
		event_base_dispatch(base);
	free(sc.state);
	return (sc.failed ? -1 : 0);
}
