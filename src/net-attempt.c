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

#include <errno.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "net.h"
#include "net-int.h"

/*
 * One non-blocking connect attempt: its socket, its write event and its
 * close, the one copy under net.c's connects, net-happy-eyeballs.c's
 * race and connect-scan.c's port checks.
 */

void
net_attempt_init(struct net_attempt *a)
{
	a->fd = -1;
	a->family = 0;
	a->ev_set = 0;
}

/*
 * A socket of family. One of the same family that is already open is
 * kept: Linux reports a refused non-blocking connect to the next
 * connect(2) and leaves the socket unconnected, ready for another (a
 * port scan saves a socket and a close per closed port).
 */
int
net_attempt_socket(struct net_attempt *a, int family)
{
	if (a->fd != -1 && a->family == family)
		return (0);
	net_attempt_close(a);
	if ((a->fd = net_socket(family)) == -1)
		return (errno);
	a->family = family;
	return (0);
}

static void
net_attempt_stop_event(struct net_attempt *a)
{
	if (a->ev_set) {
		event_del(&a->ev);
		a->ev_set = 0;
	}
}

static void
net_attempt_io_cb(evutil_socket_t fd, short events, void *arg)
{
	struct net_attempt	*a = arg;
	socklen_t		 len = sizeof(int);
	int			 error = 0;

	if (events & EV_TIMEOUT)
		error = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
	if (error == EINPROGRESS || error == EALREADY)
		return;		/* a spurious wakeup: still connecting */
	net_attempt_stop_event(a);
	a->cb(a, error, a->arg);
}

/*
 * One connect(2); its errno, 0 once connected. On loopback the answer
 * is usually in before connect returns: asking again at once finds a
 * refusal without a trip through the event loop.
 */
static int
net_attempt_ask(struct net_attempt *a, const struct sockaddr *sa,
    socklen_t len)
{
	int	error;

	if (connect(a->fd, sa, len) == 0)
		return (0);
	/* EINTR: the connect goes on in the background (POSIX). */
	if ((error = errno) != EINPROGRESS && error != EINTR)
		return (error);
	if (connect(a->fd, sa, len) == 0)
		return (0);
	error = errno;
	if (error == EALREADY || error == EINPROGRESS || error == EINTR)
		return (EINPROGRESS);
	return (error == EISCONN ? 0 : error);
}

int
net_attempt_connect(struct net_attempt *a, struct event_base *base,
    const struct sockaddr *sa, socklen_t len, const struct timeval *timeout,
    net_attempt_cb cb, void *arg)
{
	int	error;

	if ((error = net_attempt_ask(a, sa, len)) != EINPROGRESS)
		return (error);
	a->cb = cb;
	a->arg = arg;
	event_assign(&a->ev, base, a->fd, EV_WRITE|EV_PERSIST,
	    net_attempt_io_cb, a);
	if (event_add(&a->ev, timeout) == -1)
		return (errno != 0 ? errno : ENOMEM);
	a->ev_set = 1;
	return (EINPROGRESS);
}

int
net_attempt_take(struct net_attempt *a)
{
	int	fd = a->fd;

	net_attempt_stop_event(a);
	a->fd = -1;
	return (fd);
}

void
net_attempt_close(struct net_attempt *a)
{
	net_attempt_stop_event(a);
	if (a->fd != -1) {
		close(a->fd);
		a->fd = -1;
	}
}
