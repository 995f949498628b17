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
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "stream.h"

/*
 * TLS over a stream that is already connected: a tunnel through a proxy,
 * whose handshake ran in the clear. Built on stream.h alone: the socket
 * is duplicated, the plain stream dropped, and the copy opened as a TLS
 * client with stream_open_fd (the handshake runs on; its failure becomes
 * the stream's exception, seen by the first read or write).
 */
struct stream *
stream_start_tls(struct event_base *base, struct stream *plain,
    const struct stream_opts *opts, struct stream_error *err)
{
	struct stream	*s;
	int		 fd;

	/* A TLS server speaks second: anything buffered is a broken peer. */
	if (stream_buffered(plain) != 0) {
		stream_abort(plain);
		stream_error_set(err, STREAM_ETLS, EPROTO,
		    "tls: the server spoke before the handshake");
		return (NULL);
	}
	if ((fd = fcntl(stream_fd(plain), F_DUPFD_CLOEXEC, 3)) == -1) {
		stream_error_set(err, STREAM_ESYS, errno, "tls: %s",
		    strerror(errno));
		stream_abort(plain);
		return (NULL);
	}
	stream_abort(plain);
	if ((s = stream_open_fd(base, fd, opts, err)) == NULL &&
	    fcntl(fd, F_GETFD) != -1)
		close(fd);	/* not every failure closes it */
	return (s);
}
