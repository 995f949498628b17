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


#ifndef ERROR_H
#define ERROR_H

/*
 * Errors as values, the ground floor: net.c, tls.c and the stream files
 * fill a struct stream_error; the command layer maps its kind to an exit
 * code (cmd.c) and words the message. Nothing here knows of either.
 */

#include <stddef.h>

enum stream_errkind {
	STREAM_OK = 0,
	STREAM_EINCOMPLETE,	/* EOF before a read completed (IncompleteReadError) */
	STREAM_ELIMIT,		/* separator not within limit (LimitOverrunError) */
	STREAM_ETIMEOUT,	/* connect or idle timeout */
	STREAM_ERESET,		/* connection reset, broken pipe, connection lost */
	STREAM_ERESOLVE,	/* name resolution failed */
	STREAM_ETLS,		/* TLS handshake or certificate verification */
	STREAM_ECLOSED,		/* operation on a stream that was closed */
	STREAM_ESYS,		/* any other system error, errno in .sys */
	STREAM_EPROTO		/* a peer broke its protocol (an HTTP proxy's reply) */
};

struct stream_error {
	enum stream_errkind	 kind;
	int			 sys;		/* errno, when there is one */
	size_t			 expected;	/* EINCOMPLETE: bytes asked for, 0 if unbounded */
	size_t			 consumed;	/* ELIMIT: asyncio's LimitOverrunError.consumed */
	char			 msg[256];	/* "connect to 127.0.0.1 port 80: Connection refused" */
};

/* Fill an error (printf-style message); returns err for convenience. */
struct stream_error *stream_error_set(struct stream_error *,
		     enum stream_errkind, int sys, const char *fmt, ...)
		     __attribute__((format(printf, 4, 5)));

#endif /* ERROR_H */
