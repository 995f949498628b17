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

#ifndef CRLF_H
#define CRLF_H

#include <stddef.h>

struct evbuffer;

/*
 * -C, --crlf: each LF that is not already preceded by CR goes out as
 * CRLF (ncat's rule: never CR CR LF). The state carries the last byte of
 * one chunk to the next, so a CR ending one read and the LF starting the
 * next stay a single CRLF. One state per sending direction.
 */
struct crlf {
	int	last_cr;	/* the previous byte sent was CR */
};

/* Rewrite data in place. */
void		 crlf_convert(struct crlf *, struct evbuffer *data);
/* The same for bytes in memory: a new buffer in *out (free it). */
void		 crlf_convert_mem(struct crlf *, const void *, size_t,
		     char **out, size_t *outlen);

#endif /* CRLF_H */
