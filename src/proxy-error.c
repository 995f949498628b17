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


#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "cstream.h"
#include "proxy.h"

/*
 * How a proxy handshake fails: one message, "proxy LABEL: " and the rest,
 * handed to the tunnel's done callback. Its own file, below proxy.c, so
 * the handshake files (proxy-http.c, proxy-socks.c) share it without
 * calling back into proxy.c.
 */
void
proxy_fail(struct proxy_tunnel *t, enum stream_errkind kind, int sys,
    const char *fmt, ...)
{
	struct stream_error	err;
	char			buf[sizeof err.msg];
	va_list			ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	stream_error_set(&err, kind, sys, "proxy %s: %s", t->proxy.label, buf);
	t->done(t, &err);
}
