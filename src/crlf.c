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

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "crlf.h"
#include "xmalloc.h"

/*
 * LF to CRLF translation for what is sent (doc/cli.md, connect -C). The
 * output is at most twice the input; the caller's buffers bound it.
 */

/* Translate len bytes at p into out (room for 2 * len). */
static size_t
crlf_span(struct crlf *cr, const char *p, size_t len, char *out)
{
	const char	*nl;
	size_t		 n = 0, run;

	while (len > 0) {
		if ((nl = memchr(p, '\n', len)) == NULL) {
			memcpy(out + n, p, len);
			n += len;
			cr->last_cr = p[len - 1] == '\r';
			return (n);
		}
		run = (size_t)(nl - p);
		memcpy(out + n, p, run);
		n += run;
		if (run > 0)
			cr->last_cr = p[run - 1] == '\r';
		if (!cr->last_cr)
			out[n++] = '\r';
		out[n++] = '\n';
		cr->last_cr = 0;
		p += run + 1;
		len -= run + 1;
	}
	return (n);
}

void
crlf_convert_mem(struct crlf *cr, const void *data, size_t len, char **out,
    size_t *outlen)
{
	*out = xmalloc(len * 2 + 1);
	*outlen = crlf_span(cr, data, len, *out);
}

void
crlf_convert(struct crlf *cr, struct evbuffer *data)
{
	struct evbuffer_iovec	 v[16];
	struct evbuffer_ptr	 last;
	struct evbuffer		*out;
	char			*tmp, c;
	size_t			 len = evbuffer_get_length(data), tmplen, n;
	int			 nv, i;

	if (len == 0)
		return;
	/* No LF at all, the common case of a binary chunk: nothing moves. */
	if (evbuffer_search(data, "\n", 1, NULL).pos == -1) {
		evbuffer_ptr_set(data, &last, len - 1, EVBUFFER_PTR_SET);
		evbuffer_copyout_from(data, &last, &c, 1);
		cr->last_cr = c == '\r';
		return;
	}
	out = evbuffer_new();
	while (evbuffer_get_length(data) > 0) {
		nv = evbuffer_peek(data, -1, NULL, v, 16);
		if (nv > 16)
			nv = 16;
		n = 0;
		for (i = 0; i < nv; i++) {
			if (v[i].iov_len == 0)
				continue;
			tmp = xmalloc(v[i].iov_len * 2);
			tmplen = crlf_span(cr, v[i].iov_base, v[i].iov_len,
			    tmp);
			evbuffer_add(out, tmp, tmplen);
			free(tmp);
			n += v[i].iov_len;
		}
		evbuffer_drain(data, n);
	}
	evbuffer_add_buffer(data, out);
	evbuffer_free(out);
}
