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


#ifndef DGRAM_H
#define DGRAM_H

/*
 * dgram.c: the datagram transport, beside the stream layer and never
 * inside it. A datagram is a message, not a run of bytes: it is sent
 * whole or not at all, received whole (a receive that would cut it is
 * reported, MSG_TRUNC), and two are never joined. So there is no reader
 * with lines or limits here: one callback per datagram, one send call per
 * datagram, and backpressure by a single slot: a datagram the kernel
 * could not take (EAGAIN) waits there, and the caller sends nothing more
 * (and reads no more input) until the writable callback says it left.
 *
 * The sockets: a connected UDP socket (connect -u), a unix datagram
 * socket autobound to an abstract name and connected (unix-connect
 * --dgram), and servers' bound sockets from net-listen.c and net-unix.c.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

#include "error.h"

struct event_base;

/* The largest UDP payloads: 65535 less the IP (20 or 40) and UDP headers. */
#define DGRAM_MAX_IPV4		65507
#define DGRAM_MAX_IPV6		65527
/* The receive buffer at least: any UDP datagram fits, none is cut. */
#define DGRAM_RECV_MIN		65536
/* Datagrams received in one wakeup before the loop runs other events. */
#define DGRAM_BATCH		64

struct dgram;

/* One datagram received. full > len: the kernel cut it (MSG_TRUNC). */
struct dgram_msg {
	const char			*data;
	size_t				 len;
	size_t				 full;
	const struct sockaddr_storage	*from;
	socklen_t			 fromlen;
};

typedef void	(*dgram_recv_cb)(struct dgram *, const struct dgram_msg *,
		    void *);
/* A receive or a queued send failed (ECONNREFUSED: ICMP unreachable). */
typedef void	(*dgram_error_cb)(struct dgram *, const struct stream_error *,
		    void *);
/* The waiting datagram left: the caller may send again. */
typedef void	(*dgram_writable_cb)(struct dgram *, void *);

/*
 * A transport over fd (taken over, closed by dgram_free). label names
 * the peer or the socket in messages ("127.0.0.1 port 53", a path).
 */
struct dgram	*dgram_new(struct event_base *, int fd, const char *label,
		     size_t recvsize, dgram_recv_cb, dgram_error_cb,
		     dgram_writable_cb, void *);
/* The most bytes one receive takes; a longer datagram is reported cut. */
void		 dgram_set_recvsize(struct dgram *, size_t);
/* Stop (1) or resume (0) receiving: the consumer is full. */
void		 dgram_pause(struct dgram *, int);
/*
 * Send one datagram (to NULL: the connected peer). 0: sent, or waiting
 * in the slot (dgram_blocked() then says so); -1 with err (EMSGSIZE,
 * ENOBUFS, ECONNREFUSED, ...). Never call while blocked.
 */
int		 dgram_send(struct dgram *, const void *, size_t,
		     const struct sockaddr *to, socklen_t tolen,
		     struct stream_error *);
int		 dgram_blocked(struct dgram *);
int		 dgram_fd(struct dgram *);
const char	*dgram_label(struct dgram *);
/* Datagrams and bytes each way so far (the slot's once sent). */
unsigned long long dgram_count_in(struct dgram *);
unsigned long long dgram_count_out(struct dgram *);
unsigned long long dgram_bytes_in(struct dgram *);
unsigned long long dgram_bytes_out(struct dgram *);
/* Close the socket and free; safe from inside a callback. */
void		 dgram_free(struct dgram *);

/*
 * A UDP socket connected to host port: --resolve's addresses or the
 * resolver's, the first that connects, bound first to src_addr and/or
 * src_port when given (nc -s, -p). The peer's numeric name in peer.
 */
int		 dgram_connect_udp(const char *host, const char *port,
		     int family, const char *src_addr, const char *src_port,
		     int *af, struct stream_error *);
/* A unix datagram socket, autobound (an abstract name), connected. */
int		 dgram_connect_unix(const char *path, struct stream_error *);
/* The largest payload for a socket's family: UDP's, or 0 (no bound). */
size_t		 dgram_max_payload(int family);

#endif /* DGRAM_H */
