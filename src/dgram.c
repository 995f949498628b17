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
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "dgram.h"
#include "net.h"
#include "xmalloc.h"

/*
 * The datagram transport (dgram.h): one socket, one read event, one
 * write event that is armed only while a datagram waits in the slot.
 */

struct dgram {
	struct event_base	*base;
	int			 fd;
	char			*label;
	struct event		*rev;
	struct event		*wev;
	char			*buf;
	size_t			 recvsize;
	int			 paused;
	dgram_recv_cb		 recv_cb;
	dgram_error_cb		 error_cb;
	dgram_writable_cb	 writable_cb;
	void			*arg;

	/* The slot: one datagram the kernel could not take yet. */
	char			*slot;
	size_t			 slotlen;
	size_t			 slotcap;
	struct sockaddr_storage	 slotto;
	socklen_t		 slottolen;
	int			 blocked;

	unsigned long long	 n_in, n_out, b_in, b_out;
	int			 busy;		/* inside a callback */
	int			 dead;		/* freed there: free after */
};

static void
dgram_error(struct dgram *d, int error, const char *call)
{
	struct stream_error	err;

	stream_error_set(&err, STREAM_ESYS, error, "%s%s: %s", call,
	    d->label, strerror(error));
	d->error_cb(d, &err, d->arg);
}

static void
dgram_destroy(struct dgram *d)
{
	event_free(d->rev);
	event_free(d->wev);
	close(d->fd);
	free(d->buf);
	free(d->slot);
	free(d->label);
	free(d);
}

/* Receive until the socket is empty, paused, or a batch was taken. */
static void
dgram_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct dgram		*d = arg;
	struct sockaddr_storage	 from;
	struct dgram_msg	 m;
	struct msghdr		 msg;
	struct iovec		 iov;
	ssize_t			 n;
	int			 i;

	d->busy++;
	for (i = 0; i < DGRAM_BATCH && !d->paused && !d->dead; i++) {
		memset(&msg, 0, sizeof msg);
		iov.iov_base = d->buf;
		iov.iov_len = d->recvsize;
		msg.msg_name = &from;
		msg.msg_namelen = sizeof from;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		/* MSG_TRUNC: the datagram's real length, even when cut. */
		n = recvmsg(fd, &msg, MSG_TRUNC|MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				dgram_error(d, errno, "");
			break;
		}
		m.data = d->buf;
		m.full = (size_t)n;
		m.len = m.full > d->recvsize ? d->recvsize : m.full;
		m.from = &from;
		m.fromlen = msg.msg_namelen;
		d->n_in++;
		d->b_in += m.len;
		d->recv_cb(d, &m, d->arg);
	}
	if (--d->busy == 0 && d->dead)
		dgram_destroy(d);
}

/* The slot's datagram, again; then the caller may go on. */
static void
dgram_write_cb(evutil_socket_t fd, short events, void *arg)
{
	struct dgram	*d = arg;
	ssize_t		 n;

	n = sendto(fd, d->slot, d->slotlen, MSG_DONTWAIT, d->slottolen > 0 ?
	    (struct sockaddr *)&d->slotto : NULL, d->slottolen);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;		/* the event stays armed */
	event_del(d->wev);
	d->blocked = 0;
	d->busy++;
	if (n == -1)
		dgram_error(d, errno, "send to ");
	else {
		d->n_out++;
		d->b_out += d->slotlen;
		d->writable_cb(d, d->arg);
	}
	if (--d->busy == 0 && d->dead)
		dgram_destroy(d);
}

struct dgram *
dgram_new(struct event_base *base, int fd, const char *label,
    size_t recvsize, dgram_recv_cb recv_cb, dgram_error_cb error_cb,
    dgram_writable_cb writable_cb, void *arg)
{
	struct dgram	*d;

	d = xcalloc(1, sizeof *d);
	d->base = base;
	d->fd = fd;
	d->label = xstrdup(label);
	d->recv_cb = recv_cb;
	d->error_cb = error_cb;
	d->writable_cb = writable_cb;
	d->arg = arg;
	d->recvsize = recvsize;
	d->buf = xmalloc(recvsize > 0 ? recvsize : 1);
	d->rev = event_new(base, fd, EV_READ|EV_PERSIST, dgram_read_cb, d);
	d->wev = event_new(base, fd, EV_WRITE|EV_PERSIST, dgram_write_cb, d);
	if (d->rev == NULL || d->wev == NULL)
		abort();	/* only out of memory, as xmalloc */
	event_add(d->rev, NULL);
	return (d);
}

void
dgram_set_recvsize(struct dgram *d, size_t size)
{
	if (size > d->recvsize)
		d->buf = xreallocarray(d->buf, 1, size);
	d->recvsize = size;
}

void
dgram_pause(struct dgram *d, int on)
{
	if (on == d->paused)
		return;
	d->paused = on;
	if (on)
		event_del(d->rev);
	else {
		event_add(d->rev, NULL);
		event_active(d->rev, EV_READ, 0);	/* may be ready now */
	}
}

int
dgram_send(struct dgram *d, const void *buf, size_t len,
    const struct sockaddr *to, socklen_t tolen, struct stream_error *err)
{
	ssize_t	n;

	if (d->blocked) {
		stream_error_set(err, STREAM_ESYS, EAGAIN, "send to %s: %s",
		    d->label, strerror(EAGAIN));
		return (-1);
	}
	do
		n = sendto(d->fd, buf, len, MSG_DONTWAIT, to, tolen);
	while (n == -1 && errno == EINTR);
	if (n >= 0) {
		d->n_out++;
		d->b_out += len;
		return (0);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK) {
		stream_error_set(err, STREAM_ESYS, errno, "send to %s: %s",
		    d->label, strerror(errno));
		return (-1);
	}
	/* The socket buffer is full: keep it, send it when writable. */
	if (len > d->slotcap) {
		d->slot = xreallocarray(d->slot, 1, len);
		d->slotcap = len;
	}
	if (len > 0)
		memcpy(d->slot, buf, len);
	d->slotlen = len;
	d->slottolen = to != NULL ? tolen : 0;
	if (to != NULL)
		memcpy(&d->slotto, to, tolen);
	d->blocked = 1;
	event_add(d->wev, NULL);
	return (0);
}

int
dgram_blocked(struct dgram *d)
{
	return (d->blocked);
}

int
dgram_fd(struct dgram *d)
{
	return (d->fd);
}

const char *
dgram_label(struct dgram *d)
{
	return (d->label);
}

unsigned long long
dgram_count_in(struct dgram *d)
{
	return (d->n_in);
}

unsigned long long
dgram_count_out(struct dgram *d)
{
	return (d->n_out);
}

unsigned long long
dgram_bytes_in(struct dgram *d)
{
	return (d->b_in);
}

unsigned long long
dgram_bytes_out(struct dgram *d)
{
	return (d->b_out);
}

void
dgram_free(struct dgram *d)
{
	if (d == NULL)
		return;
	if (d->busy > 0) {
		d->dead = 1;
		event_del(d->rev);
		event_del(d->wev);
		return;
	}
	dgram_destroy(d);
}

size_t
dgram_max_payload(int family)
{
	if (family == AF_INET)
		return (DGRAM_MAX_IPV4);
	if (family == AF_INET6)
		return (DGRAM_MAX_IPV6);
	return (0);
}

/* -s, -p: bind fd to the source asked for, in its family. */
static int
dgram_bind_source(int fd, int family, const char *src_addr,
    const char *src_port, struct stream_error *err)
{
	struct addrinfo	*res, *ai;
	int		 error = EAFNOSUPPORT;
	char		 hp[300];

	if (src_addr == NULL && src_port == NULL)
		return (0);
	if (net_resolve(src_addr, src_port != NULL ? src_port : "0", family,
	    1, &res, err) != 0)
		return (-1);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			freeaddrinfo(res);
			return (0);
		}
		error = errno;
	}
	freeaddrinfo(res);
	stream_error_set(err, STREAM_ESYS, error, "bind to %s: %s",
	    net_hostport(src_addr != NULL ? src_addr : "*", src_port != NULL ?
	    src_port : "0", hp, sizeof hp), strerror(error));
	return (-1);
}

int
dgram_connect_udp(const char *host, const char *port, int family,
    const char *src_addr, const char *src_port, int *af,
    struct stream_error *err)
{
	struct net_addr	*addrs;
	size_t		 n, i;
	int		 fd = -1, error;
	char		 hp[300];

	if (net_resolve_addrs(host, port, family, &addrs, &n, err) != 0)
		return (-1);
	stream_error_set(err, STREAM_ESYS, EAFNOSUPPORT, "connect to %s: %s",
	    net_hostport(host, port, hp, sizeof hp), strerror(EAFNOSUPPORT));
	/* A UDP connect sends nothing: it fails only on a local reason. */
	for (i = 0; i < n; i++) {
		fd = socket(addrs[i].ss.ss_family,
		    SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
		if (fd == -1) {
			error = errno;
			stream_error_set(err, STREAM_ESYS, error, "socket: %s",
			    strerror(error));
			continue;
		}
		if (dgram_bind_source(fd, addrs[i].ss.ss_family, src_addr,
		    src_port, err) == 0 && connect(fd,
		    (struct sockaddr *)&addrs[i].ss, addrs[i].len) == 0) {
			*af = addrs[i].ss.ss_family;
			break;
		}
		if (err->kind == STREAM_OK || err->sys == EAFNOSUPPORT) {
			error = errno;
			stream_error_set(err, STREAM_ESYS, error, "connect to "
			    "%s: %s", net_hostport(host, port, hp, sizeof hp),
			    strerror(error));
		}
		close(fd);
		fd = -1;
	}
	free(addrs);
	return (fd);
}

int
dgram_connect_unix(const char *path, struct stream_error *err)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	 self;
	socklen_t		 len;
	int			 fd, error;

	if (net_unix_sockaddr(path, &ss, &len, err) != 0)
		return (-1);
	fd = socket(AF_UNIX, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
	if (fd == -1) {
		error = errno;
		stream_error_set(err, STREAM_ESYS, error, "socket: %s",
		    strerror(error));
		return (-1);
	}
	/*
	 * Autobind (unix(7)): a bind with only the family gives the socket
	 * a unique abstract name, so the server has an address to answer.
	 */
	memset(&self, 0, sizeof self);
	self.sun_family = AF_UNIX;
	if (bind(fd, (struct sockaddr *)&self, sizeof self.sun_family) == -1 ||
	    connect(fd, (struct sockaddr *)&ss, len) == -1) {
		error = errno;
		close(fd);
		stream_error_set(err, STREAM_ESYS, error, "connect to %s: %s",
		    path, strerror(error));
		return (-1);
	}
	return (fd);
}
