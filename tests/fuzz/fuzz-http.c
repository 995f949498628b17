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

#include "http.h"
#include "xmalloc.h"

/*
 * libFuzzer harness for the HTTP response parser of http.c
 * (tests/fuzz/README). The first two bytes choose the --limit (1 to
 * 65536); the rest is the server's bytes, cut into lines at LF as the
 * stream reader does, and fed until the parser is done. A finished block
 * is printed as JSON and searched, and any message is quoted. Checks: a
 * block within the limit, JSON without raw control bytes.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_done(const struct http_response *r)
{
	char	*json;
	size_t	 i;

	json = http_json(r, "http://fuzz/");
	for (i = 0; json[i] != '\0'; i++) {
		if ((unsigned char)json[i] < 0x20) {
			fprintf(stderr, "raw control byte in JSON: %s\n", json);
			abort();
		}
	}
	free(json);
	(void)http_header_get(r, "location");
	if (r->size > r->limit) {
		fprintf(stderr, "block of %zu bytes over limit %zu\n", r->size,
		    r->limit);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct http_response	*r;
	enum http_parse		 p = HTTP_PARSE_MORE;
	const uint8_t		*end, *nl;
	char			 cause[256], q[64];
	size_t			 limit;

	if (len < 2)
		return (0);
	limit = 1 + (data[0] | (size_t)data[1] << 8);
	data += 2;
	len -= 2;
	http_quote((const char *)data, len, q, 1 + len % sizeof q);
	r = http_response_new(limit);
	for (end = data + len; data < end && p == HTTP_PARSE_MORE; data = nl) {
		if ((nl = memchr(data, '\n', end - data)) != NULL)
			nl++;
		else
			nl = end;
		cause[0] = '\0';
		p = http_response_line(r, (const char *)data, nl - data, cause,
		    sizeof cause);
	}
	if (p == HTTP_PARSE_DONE)
		fuzz_done(r);
	http_response_free(r);
	return (0);
}
