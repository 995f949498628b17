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

/*
 * Unit tests for net.c on a real event loop, over 127.0.0.1, ::1 and unix
 * sockets in a private temporary directory; every wait is bounded.
 *
 * The program is linked with -Wl,--wrap for accept4 (to count how often
 * the listener calls it while out of descriptors) and for getaddrinfo and
 * freeaddrinfo: the name "dual.test" resolves to ::1 then 127.0.0.1, the
 * order of a dual-stack "localhost", which this machine's /etc/hosts
 * lacks. Every other name goes to the real resolver.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "compat.h"
#include "error.h"
#include "log.h"
#include "net.h"
#include "stream.h"
#include "tls.h"
#include "xmalloc.h"
#include "loop.h"
#include "tap.h"

int	__real_accept4(int, struct sockaddr *, socklen_t *, int);
int	__wrap_accept4(int, struct sockaddr *, socklen_t *, int);
int	__real_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);
int	__wrap_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);
void	__real_freeaddrinfo(struct addrinfo *);
void	__wrap_freeaddrinfo(struct addrinfo *);

static struct event_base	*base;
static char			 tmpdir[] = "/tmp/cstream-test-net-XXXXXX";
static int			 accept_calls;

/* Marks the lists made by __wrap_getaddrinfo. */
static char			 fake_name[] = "dual.test";

struct fake_list {
	struct addrinfo		ai[2];
	struct sockaddr_in6	sin6;
	struct sockaddr_in	sin;
};

int
__wrap_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	accept_calls++;
	return (__real_accept4(fd, sa, len, flags));
}

int
__wrap_getaddrinfo(const char *host, const char *port,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct fake_list	*f;
	struct addrinfo		*first = NULL, **next = &first;
	int			 family;

	family = hints != NULL ? hints->ai_family : AF_UNSPEC;

	if (host == NULL || strcmp(host, fake_name) != 0)
		return (__real_getaddrinfo(host, port, hints, res));

	f = xcalloc(1, sizeof *f);
	f->sin6.sin6_family = AF_INET6;
	f->sin6.sin6_addr = in6addr_loopback;
	f->sin6.sin6_port = htons((uint16_t)atoi(port));
	f->sin.sin_family = AF_INET;
	f->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->sin.sin_port = htons((uint16_t)atoi(port));
	f->ai[0].ai_family = AF_INET6;
	f->ai[0].ai_addr = (struct sockaddr *)&f->sin6;
	f->ai[0].ai_addrlen = sizeof f->sin6;
	f->ai[1].ai_family = AF_INET;
	f->ai[1].ai_addr = (struct sockaddr *)&f->sin;
	f->ai[1].ai_addrlen = sizeof f->sin;
	if (family == AF_UNSPEC || family == AF_INET6) {
		*next = &f->ai[0];
		next = &f->ai[0].ai_next;
	}
	if (family == AF_UNSPEC || family == AF_INET)
		*next = &f->ai[1];
	first->ai_canonname = fake_name;
	first->ai_socktype = SOCK_STREAM;
	*res = first;
	return (0);
}

void
__wrap_freeaddrinfo(struct addrinfo *res)
{
	struct fake_list	*f;

	if (res == NULL || res->ai_canonname != fake_name) {
		__real_freeaddrinfo(res);
		return;
	}
	/* The list starts at ai[0] or ai[1] of the same allocation. */
	if (res->ai_family == AF_INET)
		f = (struct fake_list *)((char *)res -
		    offsetof(struct fake_list, ai[1]));
	else
		f = (struct fake_list *)res;
	free(f);
}

/* libevent's own warnings (epoll_ctl on a closed fd, on purpose). */
static void
quiet_cb(int severity, const char *msg)
{
}

struct result {
	int			calls;
	int			fd;
	struct stream_error	err;
	double			when;
};

static void
connect_cb(int fd, const struct stream_error *err, void *arg)
{
	struct result	*r = arg;

	r->calls++;
	r->fd = fd;
	r->err = *err;
	r->when = now();
}

struct accepted {
	int			n;
	int			fds[16];
	int			family;
	int			close_listener; /* free it */
	struct net_listener	*l;
	int			lfd;
	int			lfd_closed;
	int			logs;
	char			msg[256];
};

static void
accept_cb(int fd, const struct sockaddr *sa, socklen_t len, void *arg)
{
	struct accepted	*a = arg;

	a->family = sa->sa_family;
	if (a->n < (int)(sizeof a->fds / sizeof a->fds[0]))
		a->fds[a->n++] = fd;
	else
		close(fd);
	if (a->close_listener && a->l != NULL) {
		net_listener_free(a->l);
		a->l = NULL;
		a->lfd_closed = fcntl(a->lfd, F_GETFD) == -1 && errno == EBADF;
	}
}

static void
log_cb(const char *msg, void *arg)
{
	struct accepted	*a = arg;

	a->logs++;
	snprintf(a->msg, sizeof a->msg, "%s", msg);
}

static void
close_accepted(struct accepted *a)
{
	while (a->n > 0)
		close(a->fds[--a->n]);
}

static int
sock_port(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	if (ss.ss_family == AF_INET)
		return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
	return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
}

static int
peer_family(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	return (ss.ss_family);
}

/* One TCP listener on host port 0; its port in *port. */
static int
listen_one(const char *host, int backlog, int *port)
{
	struct stream_error	 err;
	int			*fds, fd;
	size_t			 n;

	if (net_listen_tcp(host, "0", AF_UNSPEC, backlog, &fds, &n, &err)
	    != 0) {
		printf("# listen on %s: %s\n", host, err.msg);
		return (-1);
	}
	fd = fds[0];
	while (n > 1)
		close(fds[--n]);
	free(fds);
	*port = sock_port(fd);
	return (fd);
}

/* A port nothing listens on (bound then released). */
static int
closed_port(void)
{
	struct sockaddr_in	sin;
	int			fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sin, sizeof sin);
	port = sock_port(fd);
	close(fd);
	return (port);
}

static int
is_nonblock_cloexec(int fd)
{
	return ((fcntl(fd, F_GETFL) & O_NONBLOCK) &&
	    (fcntl(fd, F_GETFD) & FD_CLOEXEC));
}

static void
connect_tcp(const char *host, int port, int family, double timeout,
    struct result *r)
{
	char	ps[16];

	memset(r, 0, sizeof *r);
	r->fd = -1;
	snprintf(ps, sizeof ps, "%d", port);
	net_connect_tcp(base, host, ps, family, timeout, connect_cb, r);
}

static void
test_format(void)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct sockaddr_storage	 ss;
	struct stream_error	 err;
	socklen_t		 len;
	char			 buf[128], small[8], path[200];

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(8888);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	net_format_addr((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf);
	is_str(buf, "127.0.0.1:8888", "format IPv4 address");

	/* IPv4 is formatted by hand: the widest and the narrowest. */
	sin.sin_port = htons(65535);
	inet_pton(AF_INET, "255.255.255.255", &sin.sin_addr);
	net_format_addr((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf);
	is_str(buf, "255.255.255.255:65535", "format the widest IPv4 address");
	sin.sin_port = htons(0);
	inet_pton(AF_INET, "0.0.0.0", &sin.sin_addr);
	net_format_addr((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf);
	is_str(buf, "0.0.0.0:0", "format the narrowest IPv4 address");
	sin.sin_port = htons(80);
	inet_pton(AF_INET, "10.0.109.1", &sin.sin_addr);
	net_format_addr((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf);
	is_str(buf, "10.0.109.1:80", "format zeros inside IPv4 octets");
	sin.sin_port = htons(8888);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);

	memset(small, 'X', sizeof small);
	net_format_addr((struct sockaddr *)&sin, sizeof sin, small, 6);
	ok(strcmp(small, "127.0") == 0 && small[6] == 'X' && small[7] == 'X',
	    "format truncates within the buffer");

	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(8888);
	sin6.sin6_addr = in6addr_loopback;
	net_format_addr((struct sockaddr *)&sin6, sizeof sin6, buf,
	    sizeof buf);
	is_str(buf, "[::1]:8888", "format IPv6 address in brackets");

	ok(net_unix_sockaddr("/tmp/x.sock", &ss, &len, &err) == 0,
	    "unix sockaddr for a path");
	is_int(len, offsetof(struct sockaddr_un, sun_path) + 12,
	    "path socklen counts the NUL");
	net_format_addr((struct sockaddr *)&ss, len, buf, sizeof buf);
	is_str(buf, "/tmp/x.sock", "format unix path");

	ok(net_unix_sockaddr("@name", &ss, &len, &err) == 0,
	    "unix sockaddr for an abstract name");
	is_int(len, offsetof(struct sockaddr_un, sun_path) + 1 + 4,
	    "abstract socklen is exact (no trailing NULs)");
	ok(((struct sockaddr_un *)&ss)->sun_path[0] == '\0' &&
	    memcmp(((struct sockaddr_un *)&ss)->sun_path + 1, "name", 4) == 0,
	    "abstract name starts with a NUL");
	net_format_addr((struct sockaddr *)&ss, len, buf, sizeof buf);
	is_str(buf, "@name", "format abstract name");

	/* Another program's abstract name may hold NULs and backslashes. */
	memcpy(((struct sockaddr_un *)&ss)->sun_path, "\0a\0b\\c@", 7);
	net_format_addr((struct sockaddr *)&ss,
	    offsetof(struct sockaddr_un, sun_path) + 7, buf, sizeof buf);
	is_str(buf, "@a\\0b\\\\c@", "abstract NUL as \\0, backslash as "
	    "\\\\, @ kept: unambiguous");

	net_format_addr((struct sockaddr *)&ss, sizeof(sa_family_t), buf,
	    sizeof buf);
	is_str(buf, "", "format unnamed unix address");
	strcpy(buf, "junk");
	net_format_addr(NULL, 0, buf, sizeof buf);
	is_str(buf, "", "format no address");

	memset(path, 'a', sizeof path);
	path[0] = '/';
	path[107] = '\0';
	ok(net_unix_sockaddr(path, &ss, &len, &err) == 0,
	    "107-byte path fits");
	path[107] = 'a';
	path[108] = '\0';
	ok(net_unix_sockaddr(path, &ss, &len, &err) == -1 &&
	    err.kind == STREAM_ESYS && err.sys == ENAMETOOLONG,
	    "108-byte path: ENAMETOOLONG");
	snprintf(buf, sizeof buf, "%.20s", err.msg + 108);
	is_str(buf, ": File name too long", "too long: message");
	ok(strncmp(err.msg, path, 108) == 0, "too long: message names path");
	path[0] = '@';
	ok(net_unix_sockaddr(path, &ss, &len, &err) == -1 &&
	    err.sys == ENAMETOOLONG, "108-byte abstract name: ENAMETOOLONG");
	path[107] = '\0';
	ok(net_unix_sockaddr(path, &ss, &len, &err) == 0 &&
	    len == offsetof(struct sockaddr_un, sun_path) + 107,
	    "107-byte abstract name fits");
	ok(net_unix_sockaddr("", &ss, &len, &err) == -1 &&
	    err.kind == STREAM_ESYS, "empty path refused");
}

static void
test_resolve(void)
{
	struct addrinfo		*res;
	struct stream_error	 err;
	int			 v4 = 0, v6 = 0;
	struct addrinfo		*ai;

	ok(net_resolve("127.0.0.1", "80", AF_UNSPEC, 0, &res, &err) == 0 &&
	    res->ai_family == AF_INET && res->ai_socktype == SOCK_STREAM &&
	    ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port) == 80,
	    "resolve numeric IPv4");
	freeaddrinfo(res);

	ok(net_resolve("nonexistent.invalid", "80", AF_UNSPEC, 0, &res,
	    &err) == -1 && res == NULL, "nonexistent.invalid fails");
	is_int(err.kind, STREAM_ERESOLVE, "nonexistent.invalid: ERESOLVE");
	is_str(err.msg, "nonexistent.invalid: Name or service not known",
	    "nonexistent.invalid: message");

	ok(net_resolve("127.0.0.1", "80", AF_INET6, 0, &res, &err) == -1 &&
	    err.kind == STREAM_ERESOLVE, "IPv4 literal with -6: ERESOLVE");
	ok(strncmp(err.msg, "127.0.0.1: ", 11) == 0,
	    "resolution message names the host");

	ok(net_resolve(NULL, "0", AF_UNSPEC, 1, &res, &err) == 0,
	    "passive resolve of every address");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			v4++;
		if (ai->ai_family == AF_INET6)
			v6++;
	}
	freeaddrinfo(res);
	ok(v4 == 1 && v6 == 1, "passive: one IPv4 and one IPv6 address");
}

static void
test_connect(void)
{
	struct accepted		 a;
	struct net_listener	*l;
	struct result		 r;
	struct pollfd		 pfd;
	char			 want[128], buf[8];
	int			 lfd, port, cport;

	memset(&a, 0, sizeof a);
	lfd = listen_one("127.0.0.1", 16, &port);
	ok(lfd >= 0 && port > 0, "listen on 127.0.0.1 port 0");
	ok(is_nonblock_cloexec(lfd), "listener is non-blocking, cloexec");
	l = net_listener_new(base, lfd, accept_cb, log_cb, &a);
	ok(l != NULL, "listener created");

	connect_tcp("127.0.0.1", port, AF_UNSPEC, 2, &r);
	is_int(r.calls, 0, "connect does not call back synchronously");
	ok(run_until(base, &r.calls, 2) && r.fd >= 0 && r.err.kind == STREAM_OK,
	    "connect to 127.0.0.1 succeeds");
	ok(r.fd >= 0 && is_nonblock_cloexec(r.fd),
	    "connected fd is non-blocking, cloexec");
	ok(run_until(base, &a.n, 2) && a.family == AF_INET,
	    "listener accepted the client");
	ok(a.n == 1 && is_nonblock_cloexec(a.fds[0]),
	    "accepted fd is non-blocking, cloexec");
	if (r.fd >= 0 && a.n == 1) {
		write(r.fd, "ping", 4);
		pfd.fd = a.fds[0];
		pfd.events = POLLIN;
		poll(&pfd, 1, 1000);
		ok(read(a.fds[0], buf, sizeof buf) == 4 &&
		    memcmp(buf, "ping", 4) == 0, "bytes go through");
	} else
		ok(0, "bytes go through");
	if (r.fd >= 0)
		close(r.fd);
	close_accepted(&a);

	/* The real resolver: localhost is 127.0.0.1 here. */
	connect_tcp("localhost", port, AF_UNSPEC, 2, &r);
	ok(run_until(base, &r.calls, 2) && r.fd >= 0, "connect to localhost");
	if (r.fd >= 0)
		close(r.fd);
	run_until(base, &a.n, 1);
	close_accepted(&a);

	/* "dual.test" is ::1 then 127.0.0.1; only the second listens. */
	connect_tcp("dual.test", port, AF_UNSPEC, 2, &r);
	ok(run_until(base, &r.calls, 2) && r.fd >= 0 && r.calls == 1,
	    "::1 refused, fell through to 127.0.0.1");
	is_int(peer_family(r.fd), AF_INET, "connected over IPv4");
	if (r.fd >= 0)
		close(r.fd);
	run_until(base, &a.n, 1);
	close_accepted(&a);
	net_listener_free(l);

	cport = closed_port();
	connect_tcp("127.0.0.1", cport, AF_UNSPEC, 2, &r);
	is_int(r.calls, 0, "refused: no synchronous callback");
	run_until(base, &r.calls, 2);
	ok(r.calls == 1 && r.fd == -1 && r.err.kind == STREAM_ESYS,
	    "refused: ESYS");
	is_int(r.err.sys, ECONNREFUSED, "refused: ECONNREFUSED");
	snprintf(want, sizeof want,
	    "connect to 127.0.0.1:%d: Connection refused", cport);
	is_str(r.err.msg, want, "refused: message");

	connect_tcp("dual.test", cport, AF_UNSPEC, 2, &r);
	run_until(base, &r.calls, 2);
	snprintf(want, sizeof want, "connect to [::1]:%d: Connection "
	    "refused; 127.0.0.1:%d: Connection refused", cport, cport);
	is_str(r.err.msg, want, "every address refused: each one named");
	connect_tcp("dual.test", cport, AF_INET6, 2, &r);
	run_until(base, &r.calls, 2);
	snprintf(want, sizeof want,
	    "connect to [::1]:%d: Connection refused", cport);
	is_str(r.err.msg, want, "IPv6 address in the message");

	/* The first address wins when it works. */
	lfd = listen_one("::1", 16, &port);
	connect_tcp("dual.test", port, AF_UNSPEC, 2, &r);
	ok(run_until(base, &r.calls, 2) && r.fd >= 0 &&
	    peer_family(r.fd) == AF_INET6, "::1 listening: connected to it");
	if (r.fd >= 0)
		close(r.fd);
	close(lfd);

	connect_tcp("nonexistent.invalid", 80, AF_UNSPEC, 2, &r);
	is_int(r.calls, 0, "resolve failure: no synchronous callback");
	run_until(base, &r.calls, 2);
	ok(r.calls == 1 && r.fd == -1 && r.err.kind == STREAM_ERESOLVE,
	    "resolve failure comes through the callback");
	is_str(r.err.msg, "nonexistent.invalid: Name or service not known",
	    "resolve failure: message");
}

static void
test_timeout(void)
{
	struct result		 r;
	struct net_connect	*nc;
	struct sockaddr_in	 sin;
	char			 want[128];
	int			 lfd, port, fill[3], i;
	double			 start, took;

	/* listen(0) and no accept: one queued connection, then SYNs drop. */
	lfd = listen_one("127.0.0.1", 0, &port);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	for (i = 0; i < 3; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sin, sizeof sin);
	}
	run_for(base, 0.05);

	start = now();
	connect_tcp("127.0.0.1", port, AF_UNSPEC, 0.2, &r);
	run_until(base, &r.calls, 2);
	took = r.when - start;
	ok(r.calls == 1 && r.fd == -1 && r.err.kind == STREAM_ETIMEOUT,
	    "full backlog: ETIMEOUT");
	snprintf(want, sizeof want, "connect to 127.0.0.1:%d: timed out",
	    port);
	is_str(r.err.msg, want, "timeout: message");
	ok(took >= 0.15 && took < 1.0, "timeout after 0.2 s (%.3f)", took);

	/* Cancelled attempts are never called back. */
	memset(&r, 0, sizeof r);
	snprintf(want, sizeof want, "%d", closed_port());
	nc = net_connect_tcp(base, "127.0.0.1", want, AF_UNSPEC, 0,
	    connect_cb, &r);
	net_connect_cancel(nc);		/* refusal already pending */
	snprintf(want, sizeof want, "%d", port);
	nc = net_connect_tcp(base, "127.0.0.1", want, AF_UNSPEC, 0.1,
	    connect_cb, &r);
	run_for(base, 0.03);
	net_connect_cancel(nc);		/* in progress, timer armed */
	run_for(base, 0.15);
	is_int(r.calls, 0, "cancelled attempts never call back");

	for (i = 0; i < 3; i++)
		close(fill[i]);
	close(lfd);
}

static void
test_listen_tcp(void)
{
	struct stream_error	 err;
	struct result		 r4, r6;
	int			*fds, *fds2, one = 0, port, p1, lfd;
	size_t			 n, n2, i;
	socklen_t		 len = sizeof one;
	int			 fam[2] = { 0, 0 };
	char			 want[128], ps[16];

	ok(net_listen_tcp(NULL, "0", AF_UNSPEC, 16, &fds, &n, &err) == 0,
	    "listen on every address, port 0");
	is_int(n, 2, "two sockets: IPv4 and IPv6");
	if (n != 2) {
		for (i = 0; i < n; i++)
			close(fds[i]);
		free(fds);
		return;
	}
	for (i = 0; i < n; i++) {
		struct sockaddr_storage	ss;
		socklen_t		sl = sizeof ss;

		getsockname(fds[i], (struct sockaddr *)&ss, &sl);
		fam[i] = ss.ss_family;
	}
	ok((fam[0] == AF_INET && fam[1] == AF_INET6) ||
	    (fam[0] == AF_INET6 && fam[1] == AF_INET), "one of each family");
	p1 = sock_port(fds[0]);
	ok(p1 > 0 && p1 == sock_port(fds[1]), "the same real port on both");
	i = fam[0] == AF_INET6 ? 0 : 1;
	ok(getsockopt(fds[i], IPPROTO_IPV6, IPV6_V6ONLY, &one, &len) == 0 &&
	    one == 1, "IPv6 socket is v6-only");
	ok(is_nonblock_cloexec(fds[0]) && is_nonblock_cloexec(fds[1]),
	    "listeners are non-blocking, cloexec");

	connect_tcp("127.0.0.1", p1, AF_UNSPEC, 2, &r4);
	connect_tcp("::1", p1, AF_UNSPEC, 2, &r6);
	run_until(base, &r4.calls, 2);
	run_until(base, &r6.calls, 2);
	ok(r4.fd >= 0 && r6.fd >= 0, "127.0.0.1 and ::1 both connect");
	if (r4.fd >= 0)
		close(r4.fd);
	if (r6.fd >= 0)
		close(r6.fd);

	snprintf(ps, sizeof ps, "%d", p1);
	ok(net_listen_tcp("127.0.0.1", ps, AF_UNSPEC, 16, &fds2, &n2, &err) ==
	    -1 && err.kind == STREAM_ESYS && err.sys == EADDRINUSE,
	    "port in use: EADDRINUSE");
	snprintf(want, sizeof want,
	    "bind to 127.0.0.1:%d: Address already in use", p1);
	is_str(err.msg, want, "port in use: message");
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);

	ok(net_listen_tcp("::1", "0", AF_INET, 16, &fds, &n, &err) == -1 &&
	    err.kind == STREAM_ERESOLVE, "::1 with -4: ERESOLVE");


	lfd = listen_one("127.0.0.1", 16, &port);
	ok(net_set_nodelay(lfd) == 0, "nodelay on a TCP socket");
	len = sizeof one;
	one = 0;
	getsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, &len);
	is_int(one, 1, "TCP_NODELAY is set");
	close(lfd);
}

/* A socket file that nobody listens on any more. */
static int
make_stale(const char *path)
{
	struct sockaddr_storage	ss;
	struct stream_error	err;
	socklen_t		len;
	int			fd;

	if (net_unix_sockaddr(path, &ss, &len, &err) != 0)
		return (-1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

static void
connect_unix(const char *path, double timeout, struct result *r)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	net_connect_unix(base, path, timeout, connect_cb, r);
}

static int
file_is(const char *path, const char *want)
{
	char	buf[64];
	int	fd;
	ssize_t	n;

	if ((fd = open(path, O_RDONLY)) == -1)
		return (0);
	n = read(fd, buf, sizeof buf);
	close(fd);
	return (n == (ssize_t)strlen(want) && memcmp(buf, want, n) == 0);
}

static void
test_unix_listen(void)
{
	struct stream_error	 err;
	struct result		 r;
	struct stat		 sb;
	dev_t			 dev, dev2;
	ino_t			 ino, ino2;
	char			 path[256], want[512], name[64], buf[128];
	int			 fd, fd2, mfd;
	mode_t			 old;

	snprintf(path, sizeof path, "%s/live.sock", tmpdir);
	fd = net_listen_unix(path, -1, 16, &dev, &ino, &err);
	ok(fd >= 0 && is_nonblock_cloexec(fd), "unix listener");
	ok(lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    sb.st_dev == dev && sb.st_ino == ino, "dev and ino recorded");
	net_format_sockname(fd, buf, sizeof buf);
	is_str(buf, path, "sockname is the path");

	connect_unix(path, 2, &r);
	ok(run_until(base, &r.calls, 2) && r.fd >= 0 && r.err.kind == STREAM_OK,
	    "unix connect");
	ok(r.fd >= 0 && is_nonblock_cloexec(r.fd),
	    "unix fd is non-blocking, cloexec");
	ok(net_set_nodelay(r.fd) == 0, "nodelay ignores unix sockets");
	if (r.fd >= 0)
		close(r.fd);

	ok(net_listen_unix(path, -1, 16, &dev2, &ino2, &err) == -1 &&
	    err.kind == STREAM_ESYS && err.sys == EADDRINUSE,
	    "live socket: EADDRINUSE");
	snprintf(want, sizeof want, "%s: address in use", path);
	is_str(err.msg, want, "live socket: message");
	ok(lstat(path, &sb) == 0 && sb.st_ino == ino,
	    "live socket: file untouched");

	/* Still bound, no longer listening: stale. */
	close(fd);
	fd = net_listen_unix(path, -1, 16, &dev, &ino, &err);
	ok(fd >= 0, "stale socket replaced");
	connect_unix(path, 2, &r);
	ok(run_until(base, &r.calls, 2) && r.fd >= 0, "replacement accepts");
	if (r.fd >= 0)
		close(r.fd);
	close(fd);

	snprintf(path, sizeof path, "%s/stale2.sock", tmpdir);
	ok(make_stale(path) == 0 &&
	    (fd = net_listen_unix(path, -1, 16, NULL, NULL, &err)) >= 0,
	    "stale socket file (no process) replaced");
	close(fd);

	snprintf(path, sizeof path, "%s/regular", tmpdir);
	fd = open(path, O_WRONLY|O_CREAT|O_TRUNC, 0644);
	write(fd, "keep me\n", 8);
	close(fd);
	lstat(path, &sb);
	ok(net_listen_unix(path, -1, 16, &dev, &ino, &err) == -1 &&
	    err.kind == STREAM_ESYS && err.sys == EEXIST,
	    "regular file: refused with EEXIST");
	snprintf(want, sizeof want, "%s: exists and is not a socket", path);
	is_str(err.msg, want, "regular file: message");
	ok(file_is(path, "keep me\n"), "regular file: contents untouched");

	memset(path, 'x', sizeof path);
	memcpy(path, tmpdir, strlen(tmpdir));
	path[strlen(tmpdir)] = '/';
	path[108] = '\0';
	ok(net_listen_unix(path, -1, 16, &dev, &ino, &err) == -1 &&
	    err.sys == ENAMETOOLONG, "too long path: ENAMETOOLONG");
	snprintf(want, sizeof want, "%s: File name too long", path);
	is_str(err.msg, want, "too long path: message");
	ok(lstat(path, &sb) == -1, "too long path: nothing created");

	/* Abstract: no file anywhere, not even "@name" in the cwd. */
	snprintf(name, sizeof name, "@cstream-test-net-%ld", (long)getpid());
	fd = net_listen_unix(name, 0600, 16, &dev, &ino, &err);
	ok(fd >= 0 && dev == 0 && ino == 0, "abstract listener");
	ok(lstat(name, &sb) == -1 && errno == ENOENT,
	    "abstract: no file created");
	net_format_sockname(fd, buf, sizeof buf);
	is_str(buf, name, "abstract sockname is @name");
	connect_unix(name, 2, &r);
	ok(run_until(base, &r.calls, 2) && r.fd >= 0, "abstract connect");
	if (r.fd >= 0)
		close(r.fd);
	ok(net_listen_unix(name, -1, 16, NULL, NULL, &err) == -1 &&
	    err.sys == EADDRINUSE, "abstract name in use: EADDRINUSE");
	snprintf(want, sizeof want, "bind to %s: Address already in use",
	    name);
	is_str(err.msg, want, "abstract in use: message");
	close(fd);

	/* Modes beyond what the umask allows: the umask is lifted for bind. */
	old = umask(022);
	snprintf(path, sizeof path, "%s/mode.sock", tmpdir);
	mfd = net_listen_unix(path, 0660, 16, NULL, NULL, &err);
	ok(mfd >= 0 && lstat(path, &sb) == 0 && (sb.st_mode & 0777) == 0660,
	    "mode 0660 applied");
	close(mfd);
	snprintf(path, sizeof path, "%s/mode2.sock", tmpdir);
	mfd = net_listen_unix(path, 0600, 16, NULL, NULL, &err);
	ok(mfd >= 0 && lstat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "mode 0600 applied");
	close(mfd);
	is_int(umask(old), 022, "umask restored");

	/* net_unlink_unix removes only the file it made. */
	snprintf(path, sizeof path, "%s/owned.sock", tmpdir);
	fd = net_listen_unix(path, -1, 16, &dev, &ino, &err);
	unlink(path);
	fd2 = net_listen_unix(path, -1, 16, &dev2, &ino2, &err);
	ok(fd >= 0 && fd2 >= 0 && ino != ino2,
	    "path taken over by a new socket");
	net_unlink_unix(path, dev, ino);
	ok(lstat(path, &sb) == 0, "replaced socket left alone");
	net_unlink_unix(path, dev2, ino2);
	ok(lstat(path, &sb) == -1 && errno == ENOENT, "own socket unlinked");
	close(fd);
	close(fd2);

	snprintf(path, sizeof path, "%s/regular", tmpdir);
	lstat(path, &sb);
	net_unlink_unix(path, sb.st_dev, sb.st_ino);
	ok(file_is(path, "keep me\n"), "unlink never removes a regular file");
}

static void
test_unix_connect(void)
{
	struct sockaddr_storage	 ss;
	struct stream_error	 err;
	struct result		 r;
	socklen_t		 len;
	char			 path[256], want[512];
	int			 lfd, fill[8], nfill = 0, cfd, i, again = 0;

	snprintf(path, sizeof path, "%s/missing.sock", tmpdir);
	connect_unix(path, 2, &r);
	is_int(r.calls, 0, "unix: no synchronous callback");
	run_until(base, &r.calls, 2);
	ok(r.fd == -1 && r.err.kind == STREAM_ESYS && r.err.sys == ENOENT,
	    "missing path: ENOENT");
	snprintf(want, sizeof want,
	    "connect to %s: No such file or directory", path);
	is_str(r.err.msg, want, "missing path: message");

	memset(want, 'y', 120);
	want[0] = '/';
	want[120] = '\0';
	connect_unix(want, 2, &r);
	run_until(base, &r.calls, 2);
	ok(r.calls == 1 && r.err.sys == ENAMETOOLONG,
	    "too long path through the callback");

	/* A full backlog makes unix connect() fail with EAGAIN: retried. */
	snprintf(path, sizeof path, "%s/full.sock", tmpdir);
	lfd = net_listen_unix(path, -1, 0, NULL, NULL, &err);
	net_unix_sockaddr(path, &ss, &len, &err);
	for (i = 0; i < 8 && !again; i++) {
		fill[nfill] = socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK, 0);
		if (connect(fill[nfill], (struct sockaddr *)&ss, len) == -1 &&
		    errno == EAGAIN)
			again = 1;
		nfill++;
	}
	ok(again, "unix backlog filled");
	connect_unix(path, 0.2, &r);
	run_until(base, &r.calls, 2);
	ok(r.err.kind == STREAM_ETIMEOUT, "unix full backlog: ETIMEOUT");
	snprintf(want, sizeof want, "connect to %s: timed out", path);
	is_str(r.err.msg, want, "unix timeout: message");

	connect_unix(path, 2, &r);
	run_for(base, 0.05);
	is_int(r.calls, 0, "still waiting for room in the backlog");
	while ((cfd = accept(lfd, NULL, NULL)) != -1)
		close(cfd);
	ok(run_until(base, &r.calls, 1) && r.fd >= 0,
	    "connected once the server accepted");
	if (r.fd >= 0)
		close(r.fd);
	for (i = 0; i < nfill; i++)
		close(fill[i]);
	close(lfd);
}

static void
test_listener(void)
{
	struct accepted		 a;
	struct net_listener	*l;
	struct result		 r[3];
	int			 lfd, port, i;

	memset(&a, 0, sizeof a);
	lfd = listen_one("127.0.0.1", 16, &port);
	l = net_listener_new(base, lfd, accept_cb, log_cb, &a);
	net_listener_enable(l, 0);
	connect_tcp("127.0.0.1", port, AF_UNSPEC, 2, &r[0]);
	run_until(base, &r[0].calls, 1);
	run_for(base, 0.1);
	is_int(a.n, 0, "disabled listener accepts nothing");
	net_listener_enable(l, 1);
	ok(run_until(base, &a.n, 1), "enabled again: accepts");
	close_accepted(&a);
	if (r[0].fd >= 0)
		close(r[0].fd);

	/* Freed from its own accept callback, with more clients queued. */
	net_listener_enable(l, 0);
	for (i = 0; i < 3; i++)
		connect_tcp("127.0.0.1", port, AF_UNSPEC, 2, &r[i]);
	for (i = 0; i < 3; i++)
		run_until(base, &r[i].calls, 1);
	a.close_listener = 1;
	a.l = l;
	a.lfd = lfd;
	net_listener_enable(l, 1);
	run_until(base, &a.n, 1);
	run_for(base, 0.05);
	is_int(a.n, 1, "freed in the callback: no more accepts");
	ok(a.lfd_closed, "free closed the listening socket");
	close_accepted(&a);
	for (i = 0; i < 3; i++)
		if (r[i].fd >= 0)
			close(r[i].fd);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	close(lfd);
	ok(net_listener_new(base, lfd, accept_cb, log_cb, &a) == NULL,
	    "listener on a closed fd: NULL");
}

static void
test_emfile(void)
{
	struct accepted		 a;
	struct net_listener	*l;
	struct sockaddr_in	 sin;
	struct rlimit		 rl, lowered;
	int			 lfd, port, cl[3], fill[256], nfill = 0, i;

	memset(&a, 0, sizeof a);
	lfd = listen_one("127.0.0.1", 16, &port);
	l = net_listener_new(base, lfd, accept_cb, log_cb, &a);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	for (i = 0; i < 3; i++)
		cl[i] = socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, 0);

	/* Use up every descriptor under a lowered limit. */
	getrlimit(RLIMIT_NOFILE, &rl);
	lowered = rl;
	lowered.rlim_cur = cl[2] + 16;
	setrlimit(RLIMIT_NOFILE, &lowered);
	while (nfill < 256 && (fill[nfill] = dup(0)) != -1)
		nfill++;
	ok(nfill < 256 && errno == EMFILE, "descriptors exhausted");

	for (i = 0; i < 3; i++)
		connect(cl[i], (struct sockaddr *)&sin, sizeof sin);
	accept_calls = 0;
	run_for(base, 0.3);
	is_int(a.n, 0, "no descriptor, no accept");
	ok(accept_calls >= 1 && accept_calls <= 10,
	    "no busy loop: %d accept calls in 300 ms", accept_calls);
	is_int(a.logs, 1, "logged once");
	is_str(a.msg, "accept: Too many open files; pausing 100 ms",
	    "log message");

	while (nfill > 0)
		close(fill[--nfill]);
	setrlimit(RLIMIT_NOFILE, &rl);
	a.n = 0;
	for (i = 0; i < 10 && a.n < 3; i++)
		run_until(base, &a.n, 0.1);
	is_int(a.n, 3, "all clients accepted once descriptors are free");
	is_int(a.logs, 1, "no more log lines");
	close_accepted(&a);
	for (i = 0; i < 3; i++)
		close(cl[i]);
	net_listener_free(l);
}

static void
cleanup(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return (1);
	}
	if (chdir(tmpdir) == -1) {
		printf("Bail out! chdir: %s\n", strerror(errno));
		return (1);
	}
	event_set_log_callback(quiet_cb);
	base = event_base_new();

	test_format();
	test_resolve();
	test_connect();
	test_timeout();
	test_listen_tcp();
	test_unix_listen();
	test_unix_connect();
	test_listener();
	test_emfile();

	event_base_free(base);
	if (chdir("/") == -1)
		printf("# chdir /: %s\n", strerror(errno));
	cleanup();
	return (tap_done());
}
