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


#ifndef NET_INT_H
#define NET_INT_H

/*
 * Private to the net files (net.c, net-listen.c, net-unix.c): small
 * helpers they share. Inline, so net-unix.c needs nothing from net.c and
 * the files call one way only (net-listen.c -> net.c -> net-unix.c).
 */

#include <sys/socket.h>
#include <sys/time.h>

#include "monotime.h"

/* Socket for a connect or a listen: non-blocking, close-on-exec. */
static inline int
net_socket_type(int family, int type)
{
	return (socket(family, type|SOCK_NONBLOCK|SOCK_CLOEXEC, 0));
}

static inline int
net_socket(int family)
{
	return (net_socket_type(family, SOCK_STREAM));
}

static inline void
net_ms_timeval(int ms, struct timeval *tv)
{
	monotime_tv((double)ms / 1000, tv);
}

/* Numeric host and port of an address, for messages ("::1", "80"). */
void	net_numeric(const struct sockaddr *, socklen_t, char *, size_t,
	    char *, size_t);

#endif /* NET_INT_H */
