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


#ifndef NET_H
#define NET_H

/*
 * net.c: addresses, resolution, connect to every address;
 * net-listen.c: listen on every address, the accept loop;
 * net-unix.c: unix socket addresses and path hygiene.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <event2/event_struct.h>

#include "error.h"

struct event_base;
struct addrinfo;
struct sockaddr_storage;

/* Longest unix socket path: sizeof(sun_path) less the NUL. */
#define UNIX_PATH_MAX_LEN	107

/* Longest timeout honoured (ten years); beyond that, timeval overflows. */
#define NET_TIMEOUT_MAX		(10.0 * 365 * 86400)

struct net_connect;
struct net_listener;
typedef void	(*net_connect_cb)(int fd, const struct stream_error *,
		    void *arg);
typedef void	(*net_accept_cb)(int fd, const struct sockaddr *, socklen_t,
		    void *arg);
/* An accept error worth logging (EMFILE, ...); arg is the listener's. */
typedef void	(*net_log_cb)(const char *msg, void *arg);

int		 net_resolve(const char *host, const char *port, int family,
		     int passive, struct addrinfo **, struct stream_error *);
/* One address to connect to, from the resolver or --resolve. */
struct net_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
};
/* --resolve's addresses for host:port, else getaddrinfo's, as an array. */
int		 net_resolve_addrs(const char *host, const char *port,
		     int family, struct net_addr **, size_t *,
		     struct stream_error *);
struct net_connect *net_connect_tcp(struct event_base *, const char *host,
		     const char *port, int family, double timeout,
		     net_connect_cb, void *);
/* The same from a local address and/or port (-s, -p; NULL: any). */
struct net_connect *net_connect_tcp_from(struct event_base *,
		     const char *host, const char *port, int family,
		     const char *src_addr, const char *src_port, double timeout,
		     net_connect_cb, void *);
struct net_connect *net_connect_unix(struct event_base *, const char *path,
		     double timeout, net_connect_cb, void *);
void		 net_connect_cancel(struct net_connect *);
int		 net_unix_sockaddr(const char *path, struct sockaddr_storage *,
		     socklen_t *, struct stream_error *);
int		 net_listen_tcp(const char *host, const char *port, int family,
		     int backlog, int **fds, size_t *nfds, struct stream_error *);
int		 net_listen_unix(const char *path, int mode, int backlog,
		     dev_t *dev, ino_t *ino, struct stream_error *);
/* A bound unix datagram socket with the same hygiene (unix-serve --dgram). */
int		 net_bind_unix_dgram(const char *path, int mode, dev_t *dev,
		     ino_t *ino, struct stream_error *);
void		 net_unlink_unix(const char *path, dev_t, ino_t);
/* UDP: a bound socket on every address of host (serve -u). */
int		 net_listen_udp(const char *host, const char *port, int family,
		     int **fds, size_t *nfds, struct stream_error *);
struct net_listener *net_listener_new(struct event_base *, int fd,
		     net_accept_cb, net_log_cb, void *);
void		 net_listener_enable(struct net_listener *, int on);
void		 net_listener_free(struct net_listener *);
/*
 * "HOST:PORT", "[V6]:PORT": the one way messages write an address (as
 * "Serving on" does). Returns buf.
 */
const char	*net_hostport(const char *host, const char *port, char *buf,
		     size_t len);
void		 net_format_addr(const struct sockaddr *, socklen_t, char *,
		     size_t);
void		 net_format_sockname(int fd, char *, size_t);
int		 net_set_nodelay(int fd);

/*
 * net-happy-eyeballs.c: RFC 8305 connection racing, for net.c. Every attempt's
 * socket is bound to src_addr and/or src_port first when given (nc -s, -p).
 */
struct happy_eyeballs;
/*
 * net-attempt.c: one non-blocking connect, the socket, its write event
 * and its close, under net.c, net-happy-eyeballs.c and connect-scan.c.
 * net_attempt_connect returns 0 when connected at once, EINPROGRESS when
 * cb will say (0 connected, ETIMEDOUT after timeout, NULL for none, or
 * the connect's errno), or the errno. The socket stays the attempt's
 * (net_attempt_take hands it over) until net_attempt_close.
 */
struct net_attempt;
typedef void	(*net_attempt_cb)(struct net_attempt *, int error, void *);

struct net_attempt {
	int			 fd;		/* -1: none */
	int			 family;
	struct event		 ev;		/* fd writable, or timeout */
	int			 ev_set;
	net_attempt_cb		 cb;
	void			*arg;
};

void		 net_attempt_init(struct net_attempt *);
/* A socket of family, kept if open already: 0 or an errno. */
int		 net_attempt_socket(struct net_attempt *, int family);
int		 net_attempt_connect(struct net_attempt *, struct event_base *,
		     const struct sockaddr *, socklen_t,
		     const struct timeval *timeout, net_attempt_cb, void *);
int		 net_attempt_take(struct net_attempt *);
void		 net_attempt_close(struct net_attempt *);

typedef void	(*he_done_cb)(int fd, const struct stream_error *, void *);
struct happy_eyeballs *he_start(struct event_base *, const struct net_addr *,
		     size_t, const char *src_addr, const char *src_port,
		     he_done_cb, void *);
void		 he_error(struct happy_eyeballs *, struct stream_error *);
void		 he_stop(struct happy_eyeballs *);
void		 he_free(struct happy_eyeballs *);

/*
 * net-activation.c: the listening sockets of socket activation
 * (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, sd_listen_fds' rules).
 */
int		 net_activation_fds(int **fds, char ***names, size_t *n,
		     struct stream_error *);
void		 net_activation_free(int *fds, char **names, size_t n);

/* net-resolve.c: --resolve HOST:PORT:ADDR[,ADDR]... (curl's spelling). */
int		 resolve_add(const char *spec, const char **cause);
int		 resolve_lookup(const char *host, const char *port, int family,
		     struct net_addr **, size_t *);
void		 resolve_clear(void);

#endif /* NET_H */
