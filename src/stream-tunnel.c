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

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "stream.h"
#include "xmalloc.h"

/*
 * TLS over a stream that is already connected: a tunnel through a proxy,
 * whose handshake ran in the clear. Built on stream.h alone: the socket
 * is duplicated, the plain stream dropped, and the copy opened as a TLS
 * client (stream_open_tls_fd), so the caller gets the stream only once
 * the handshake is over, as with a direct --tls connect.
 */

struct tunnel_tls {
	stream_done_cb	 cb;
	void		*arg;
	char		 port[8];	/* the target's */
};

/*
 * The verifier names the peer of the socket, "tls handshake with HOST:N"
 * (net_hostport): through a tunnel that N is the proxy's. Say the
 * target's, so the message is the one a direct connection gives.
 */
static void
tunnel_tls_name_port(struct stream_error *err, const char *port)
{
	static const char	 pre[] = "tls handshake with ";
	char			 msg[sizeof err->msg], *colon, *p;

	memcpy(msg, err->msg, sizeof msg);
	if (strncmp(msg, pre, sizeof pre - 1) != 0 ||
	    (colon = strstr(msg, ": ")) == NULL)
		return;
	*colon = '\0';
	if ((p = strrchr(msg + sizeof pre - 1, ':')) != NULL)
		*p = '\0';	/* the last colon: "[::1]:N" has others */
	stream_error_set(err, err->kind, err->sys, "%s:%s: %s", msg, port,
	    colon + 2);
}

static void
tunnel_tls_done_cb(struct stream *s, const struct stream_error *err,
    void *arg)
{
	struct tunnel_tls	*tt = arg;
	struct stream_error	 e;

	e = *err;
	if (s == NULL)
		tunnel_tls_name_port(&e, tt->port);
	tt->cb(s, &e, tt->arg);
	free(tt);
}

int
stream_start_tls(struct event_base *base, struct stream *plain,
    const char *port, const struct stream_opts *opts, stream_done_cb cb,
    void *arg, struct stream_error *err)
{
	struct tunnel_tls	*tt;
	int			 fd;

	/* A TLS server speaks second: anything buffered is a broken peer. */
	if (stream_buffered(plain) != 0) {
		stream_abort(plain);
		stream_error_set(err, STREAM_ETLS, EPROTO,
		    "tls: the server spoke before the handshake");
		return (-1);
	}
	if ((fd = fcntl(stream_fd(plain), F_DUPFD_CLOEXEC, 3)) == -1) {
		stream_error_set(err, STREAM_ESYS, errno, "tls: %s",
		    strerror(errno));
		stream_abort(plain);
		return (-1);
	}
	stream_abort(plain);
	tt = xcalloc(1, sizeof *tt);
	tt->cb = cb;
	tt->arg = arg;
	snprintf(tt->port, sizeof tt->port, "%s", port);
	stream_open_tls_fd(base, fd, opts, tunnel_tls_done_cb, tt);
	return (0);
}
