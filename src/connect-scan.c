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
#include <sys/resource.h>
#include <sys/socket.h>
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
#include "cmd.h"
#include "connect-scan.h"
#include "log.h"
#include "monotime.h"
#include "net.h"
#include "parse.h"
#include "proxy.h"
#include "timing.h"
#include "xmalloc.h"

/*
 * Port checks (connect -z, nc -z). Speed comes from doing nothing per
 * port but socket, a non-blocking connect and close: the host is
 * resolved once, a fixed set of slots keeps at most "concurrency"
 * attempts in flight, and every attempt shares one libevent common
 * timeout (doc/libevent-notes.md), so 65535 timers cost no heap work.
 * Results are kept per port and printed in port order as soon as every
 * lower port is known.
 */

struct scan;

struct scan_slot {
	struct scan		*scan;
	size_t			 idx;		/* index into ports */
	struct net_attempt	 att;		/* the socket and its connect */
	int			 reusable;	/* fd was refused: connect again */
	const struct addrinfo	*ai;		/* the address being tried */
	int			 timed_out;	/* some address timed out */
	int			 error;		/* the last address's errno */
};

struct scan {
	struct event_base		*base;
	const struct portscan_opts	*o;
	const uint16_t			*ports;
	size_t				 n;
	unsigned char			*state;	/* enum portscan_state per port */
	size_t				 next_start;
	size_t				 next_print;
	struct addrinfo			*res;
	struct addrinfo			 unix_ai;
	struct sockaddr_storage		 unix_ss;
	struct scan_slot		*slots;
	unsigned int			 nslots;
	unsigned int			*free;	/* stack of free slot numbers */
	unsigned int			 nfree;
	const struct timeval		*tv;	/* the common timeout */
	int				 failed;
	struct stream_error		*err;
	struct portscan_result		*res_count;
	double				 dns_ms;	/* timing.c */
	struct portscan_port		*rec;	/* o->record, or our own */
};

static void	scan_fill(struct scan *);

/* "22", "ssh", "8000-8100": mark the ports in map. */
static int
scan_parse_item(char *item, unsigned char *map, char *cause, size_t len)
{
	const char	*why;
	char		*dash, buf[300];
	int		 lo, hi, p;

	dash = strchr(item, '-');
	if (dash != NULL && dash != item && dash[1] != '\0' &&
	    strspn(item, "0123456789") == (size_t)(dash - item) &&
	    strspn(dash + 1, "0123456789") == strlen(dash + 1)) {
		*dash = '\0';
		if ((lo = parse_port(item, 0, &why)) == -1 ||
		    (hi = parse_port(dash + 1, 0, &why)) == -1) {
			*dash = '-';
			snprintf(cause, len, "port range %s: %s", item, why);
			return (-1);
		}
		*dash = '-';
		if (lo > hi) {
			snprintf(cause, len, "port range %s: the first port "
			    "is above the last", item);
			return (-1);
		}
		for (p = lo; p <= hi; p++)
			map[p] = 1;
		return (0);
	}
	if ((p = parse_port(item, 0, &why)) == -1) {
		snprintf(cause, len, "%s", parse_port_error(item, why, buf,
		    sizeof buf));
		return (-1);
	}
	map[p] = 1;
	return (0);
}

int
portscan_parse(const char *spec, uint16_t **ports, size_t *n, char *cause,
    size_t causelen)
{
	unsigned char	*map;
	char		*copy, *item, *rest;
	size_t		 count = 0;
	int		 p, rc = 0;

	map = xcalloc(65536, 1);
	copy = rest = xstrdup(spec);
	while ((item = strsep(&rest, ",")) != NULL) {
		if (*item == '\0') {
			snprintf(cause, causelen, "ports %s: empty item", spec);
			rc = -1;
			break;
		}
		if ((rc = scan_parse_item(item, map, cause, causelen)) != 0)
			break;
	}
	free(copy);
	if (rc == 0) {
		*ports = xreallocarray(NULL, 65536, sizeof **ports);
		for (p = 1; p < 65536; p++) {
			if (map[p])
				(*ports)[count++] = (uint16_t)p;
		}
		*n = count;
	}
	free(map);
	return (rc);
}

unsigned int
portscan_max_concurrency(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return (65536);
	if (rl.rlim_cur <= PORTSCAN_FD_MARGIN + 1)
		return (1);
	return ((unsigned int)(rl.rlim_cur - PORTSCAN_FD_MARGIN));
}

void
portscan_print(const struct portscan_opts *o, uint16_t port,
    enum portscan_state st)
{
	portscan_print_timed(o, port, st, NULL);
}

void
portscan_print_timed(const struct portscan_opts *o, uint16_t port,
    enum portscan_state st, const struct timings *t)
{
	static const char *names[] = { "pending", "open", "closed", "timeout",
	    "open|filtered" };
	const char	*state = names[st];
	char		 times[200] = "";
	FILE		*f;

	if (o->json) {
		if (t != NULL)
			timing_json(t, times, sizeof times);
		fputs(o->is_unix ? "{\"path\":" : "{\"host\":", stdout);
		log_json_fputs(stdout, o->host);
		if (!o->is_unix)
			printf(",\"port\":%u", port);
		printf(",\"state\":\"%s\"%s}\n", state, times);
		return;
	}
	if (st != PORTSCAN_ST_OPEN && !o->verbose)
		return;
	f = st == PORTSCAN_ST_OPEN ? stdout : stderr;
	if (o->is_unix)
		fprintf(f, "%s %s\n", o->host, state);
	else
		fprintf(f, "%s %u %s\n", o->host, port, state);
}

/* A port's timings: dns_ms, connect_ms when open, total_ms its end. */
void
portscan_timings(const struct portscan_port *pp, struct timings *t)
{
	timing_clear(t);
	t->ms[TIMING_DNS] = pp->dns_ms;
	t->ms[TIMING_CONNECT] = pp->connect_ms;
	t->ms[TIMING_TOTAL] = pp->done_ms;
}

static void
scan_print_one(struct scan *sc, size_t i)
{
	struct timings		t;

	if (sc->o->quiet)
		return;
	portscan_timings(&sc->rec[i], &t);
	portscan_print_timed(sc->o, sc->ports[i], sc->state[i], &t);
}

/* Print every result whose lower ports are all known. */
static void
scan_flush(struct scan *sc)
{
	size_t	first = sc->next_print;

	while (sc->next_print < sc->n && sc->state[sc->next_print] !=
	    PORTSCAN_ST_PENDING)
		scan_print_one(sc, sc->next_print++);
	if (sc->next_print != first)
		fflush(stdout);
}

/*
 * Connected, but to ourselves? On loopback a scan of the ephemeral range
 * can pick, as its own source port, the very port it connects to: TCP's
 * simultaneous open then "succeeds" with nobody listening.
 */
static int
scan_self_connected(int fd)
{
	struct sockaddr_storage	a, b;
	socklen_t		alen = sizeof a, blen = sizeof b;

	if (getsockname(fd, (struct sockaddr *)&a, &alen) == -1 ||
	    getpeername(fd, (struct sockaddr *)&b, &blen) == -1)
		return (0);
	return (alen == blen && memcmp(&a, &b, alen) == 0);
}

static void
scan_slot_release(struct scan_slot *sl)
{
	net_attempt_close(&sl->att);
}

static void	scan_set_port(struct sockaddr *, uint16_t);

/* The port's attempt is over: record it, free the slot. */
static void
scan_record(struct scan_slot *sl, enum portscan_state st)
{
	struct scan		*sc = sl->scan;
	struct portscan_port	*pp;

	pp = &sc->rec[sl->idx];
	pp->state = (unsigned char)st;
	pp->error = st == PORTSCAN_ST_OPEN ? 0 : st == PORTSCAN_ST_TIMEOUT ?
	    ETIMEDOUT : sl->error != 0 ? sl->error : ECONNREFUSED;
	pp->dns_ms = sc->dns_ms;
	pp->done_ms = timing_now_ms();
	pp->connect_ms = st == PORTSCAN_ST_OPEN ? pp->done_ms : -1;
}

static void
scan_done(struct scan_slot *sl, enum portscan_state st)
{
	struct scan	*sc = sl->scan;

	/* A refused socket is kept for the slot's next port. */
	if (!sl->reusable)
		scan_slot_release(sl);
	if (st == PORTSCAN_ST_CLOSED && sl->timed_out)
		st = PORTSCAN_ST_TIMEOUT;	/* no address answered at all */
	sc->state[sl->idx] = st;
	scan_record(sl, st);
	if (st == PORTSCAN_ST_OPEN)
		sc->res_count->open++;
	else if (st == PORTSCAN_ST_CLOSED)
		sc->res_count->closed++;
	else
		sc->res_count->timeout++;
	sc->free[sc->nfree++] = (unsigned int)(sl - sc->slots);
}

static void
scan_set_port(struct sockaddr *sa, uint16_t port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

static void	scan_attempt_cb(struct net_attempt *, int, void *);

/*
 * A socket whose connect was refused is reused for the next attempt
 * (net_attempt_socket keeps it): that saves a socket(2) and a close(2)
 * per closed port, most of a scan.
 */
static int
scan_socket(struct scan_slot *sl)
{
	int	error;

	if ((error = net_attempt_socket(&sl->att, sl->ai->ai_family)) != 0) {
		stream_error_set(sl->scan->err, STREAM_ESYS, error,
		    "socket: %s", strerror(error));
		return (-1);
	}
	return (0);
}

/* One connect to the current address: 0, EINPROGRESS or its errno. */
static int
scan_connect(struct scan_slot *sl)
{
	struct sockaddr_storage	ss;

	memcpy(&ss, sl->ai->ai_addr, sl->ai->ai_addrlen);
	scan_set_port((struct sockaddr *)&ss, sl->scan->ports[sl->idx]);
	return (net_attempt_connect(&sl->att, sl->scan->base,
	    (struct sockaddr *)&ss, sl->ai->ai_addrlen, sl->scan->tv,
	    scan_attempt_cb, sl));
}

static void
scan_drop_socket(struct scan_slot *sl)
{
	net_attempt_close(&sl->att);
}

/*
 * Start on sl->ai and the addresses after it. Returns 1 while an attempt
 * is in flight, 0 once the port is decided, -1 on a local failure.
 */
static int
scan_try(struct scan_slot *sl)
{
	struct scan	*sc = sl->scan;
	int		 error, fresh = 0;

	while (sl->ai != NULL) {
		if (scan_socket(sl) == -1)
			return (-1);
		sl->reusable = 0;
		switch (error = scan_connect(sl)) {
		case 0:
			scan_done(sl, scan_self_connected(sl->att.fd) ?
			    PORTSCAN_ST_CLOSED : PORTSCAN_ST_OPEN);
			return (0);
		case EINPROGRESS:
			return (1);
		case ECONNREFUSED:
			sl->reusable = 1;
			sl->error = error;
			break;
		case ECONNABORTED:
			/* A socket in a state we did not expect: anew. */
			scan_drop_socket(sl);
			if (!fresh++)
				continue;
			break;
		case EAGAIN:
			if (sl->ai->ai_family != AF_UNIX)
				goto fail;	/* no ephemeral port left */
			scan_drop_socket(sl);	/* unix backlog full */
			break;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case EADDRNOTAVAIL:
			goto fail;
		default:
			scan_drop_socket(sl);	/* unreachable and the like */
			sl->error = error;
			break;
		}
		sl->ai = sl->ai->ai_next;
		fresh = 0;
	}
	scan_done(sl, PORTSCAN_ST_CLOSED);
	return (0);
fail:
	stream_error_set(sc->err, STREAM_ESYS, error, "connect to %s: %s",
	    sc->o->host, strerror(error));
	return (-1);
}

static void
scan_stop(struct scan *sc)
{
	sc->failed = 1;
	event_base_loopbreak(sc->base);
}

/* The attempt in flight has its answer (ETIMEDOUT: sc->tv passed). */
static void
scan_attempt_cb(struct net_attempt *a, int error, void *arg)
{
	struct scan_slot	*sl = arg;
	struct scan		*sc = sl->scan;

	sl->reusable = 0;
	if (error == ETIMEDOUT)
		sl->timed_out = 1;
	if (error == 0) {
		scan_done(sl, scan_self_connected(a->fd) ? PORTSCAN_ST_CLOSED :
		    PORTSCAN_ST_OPEN);
	} else {
		sl->error = error;
		net_attempt_close(a);
		sl->ai = sl->ai->ai_next;
		if (scan_try(sl) == -1) {
			scan_stop(sc);
			return;
		}
	}
	scan_fill(sc);
}

/* Start ports while slots are free; then print what is known. */
static void
scan_fill(struct scan *sc)
{
	struct scan_slot	*sl;

	while (!sc->failed && sc->next_start < sc->n && sc->nfree > 0) {
		sl = &sc->slots[sc->free[--sc->nfree]];
		sl->idx = sc->next_start++;
		sl->ai = sc->o->is_unix ? &sc->unix_ai : sc->res;
		sl->timed_out = 0;
		sl->error = 0;
		if (scan_try(sl) == -1) {
			scan_stop(sc);
			return;
		}
	}
	scan_flush(sc);
}

static int
scan_addresses(struct scan *sc)
{
	const struct portscan_opts	*o = sc->o;
	socklen_t			 len;

	if (!o->is_unix)
		return (net_resolve(o->host, NULL, o->family, 0, &sc->res,
		    sc->err));
	if (net_unix_sockaddr(o->host, &sc->unix_ss, &len, sc->err) != 0)
		return (-1);
	sc->unix_ai.ai_family = AF_UNIX;
	sc->unix_ai.ai_socktype = SOCK_STREAM;
	sc->unix_ai.ai_addr = (struct sockaddr *)&sc->unix_ss;
	sc->unix_ai.ai_addrlen = len;
	return (0);
}

static void
scan_free(struct scan *sc)
{
	unsigned int	i;

	for (i = 0; i < sc->nslots; i++)
		scan_slot_release(&sc->slots[i]);
	free(sc->slots);
	free(sc->free);
	free(sc->state);
	if (sc->res != NULL)
		freeaddrinfo(sc->res);
}

int
portscan_run(struct event_base *base, const struct portscan_opts *o,
    const uint16_t *ports, size_t n, struct portscan_result *result,
    struct stream_error *err)
{
	struct scan	sc;
	struct timeval	tv;
	unsigned int	i;

	memset(result, 0, sizeof *result);
	memset(&sc, 0, sizeof sc);
	sc.base = base;
	sc.o = o;
	sc.ports = ports;
	sc.n = n;
	sc.err = err;
	sc.res_count = result;
	if (scan_addresses(&sc) != 0)
		return (-1);
	sc.dns_ms = timing_now_ms();
	sc.state = xcalloc(n, 1);
	sc.rec = o->record != NULL ? o->record : xcalloc(n, sizeof *sc.rec);
	sc.nslots = o->concurrency < n ? o->concurrency : (unsigned int)n;
	sc.slots = xcalloc(sc.nslots, sizeof *sc.slots);
	sc.free = xcalloc(sc.nslots, sizeof *sc.free);
	for (i = 0; i < sc.nslots; i++) {
		sc.slots[i].scan = &sc;
		net_attempt_init(&sc.slots[i].att);
		sc.free[sc.nfree++] = sc.nslots - 1 - i;
	}
	monotime_tv(o->timeout, &tv);
	sc.tv = event_base_init_common_timeout(base, &tv);
	if (sc.tv == NULL)
		sc.tv = &tv;
	scan_fill(&sc);
	if (!sc.failed && sc.next_print < sc.n)
		event_base_dispatch(base);
	scan_free(&sc);
	if (sc.rec != o->record)
		free(sc.rec);
	fflush(stdout);
	return (sc.failed ? -1 : 0);
}
