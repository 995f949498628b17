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

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy-protocol.h"

/*
 * libFuzzer harness for proxy-protocol.c (tests/fuzz/README): the parser
 * sees what any client sends --accept-proxy. Besides the sanitizers, it
 * checks what serve-accept-proxy.c relies on: a header never claims more
 * bytes than it was given, a "need more" is always more than it has, and
 * feeding the bytes one at a time as asked ends the same way.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pp_header	h, h2;
	char			cause[128];
	ssize_t			r, r2 = 0;
	size_t			have = 0;

	r = pp_parse(data, len, &h, cause, sizeof cause);
	if (r == 0 && (h.len == 0 || h.len > len))
		abort();
	if (r > 0 && (size_t)r <= len)
		abort();
	/* As the reader does: only as many bytes as were asked for. */
	while (have <= len) {
		r2 = pp_parse(data, have, &h2, cause, sizeof cause);
		if (r2 <= 0 || (size_t)r2 > len)
			break;
		if ((size_t)r2 <= have)
			abort();
		have = (size_t)r2;
	}
	/* Asked for more than there is: the reader would still wait. */
	if (r2 > 0)
		return (0);
	if (r2 != r || (r == 0 && h2.len != h.len))
		abort();
	return (0);
}
