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

#include <ctype.h>
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
 * block within the limit; the --json output valid UTF-8 (RFC 3629: no
 * overlong form, no surrogate, nothing above U+10FFFF) and valid JSON
 * (RFC 8259), one object of the documented shape with no raw control
 * byte.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The length of the UTF-8 sequence at p (RFC 3629), or 0 if invalid. */
static size_t
fuzz_utf8(const unsigned char *p)
{
	unsigned int	c;
	size_t		n, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return (0);
	return (n);
}

/*
 * A small JSON reader for what http_json writes: it returns the end of
 * the value at p, or NULL if p does not hold one.
 */
static const char	*fuzz_json_value(const char *);

static const char *
fuzz_json_string(const char *p)
{
	size_t	n;
	int	i;

	if (*p++ != '"')
		return (NULL);
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return (NULL);	/* NUL (the end) or a raw control */
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (i = 1; i <= 4; i++) {
					if (!isxdigit((unsigned char)p[i]))
						return (NULL);
				}
				p += 5;
			} else if (*p != '\0' && strchr("\"\\/bfnrt", *p) != NULL)
				p++;
			else
				return (NULL);
			continue;
		}
		if ((n = fuzz_utf8((const unsigned char *)p)) == 0)
			return (NULL);
		p += n;
	}
	return (p + 1);
}

static const char *
fuzz_json_list(const char *p, char open, char close, int object)
{
	if (*p++ != open)
		return (NULL);
	if (*p == close)
		return (p + 1);
	for (;;) {
		if (object) {
			if ((p = fuzz_json_string(p)) == NULL || *p++ != ':')
				return (NULL);
		}
		if ((p = fuzz_json_value(p)) == NULL)
			return (NULL);
		if (*p == close)
			return (p + 1);
		if (*p++ != ',')
			return (NULL);
	}
}

static const char *
fuzz_json_value(const char *p)
{
	if (*p == '"')
		return (fuzz_json_string(p));
	if (*p == '{')
		return (fuzz_json_list(p, '{', '}', 1));
	if (*p == '[')
		return (fuzz_json_list(p, '[', ']', 0));
	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p) || (*p == '0' && isdigit(
	    (unsigned char)p[1])))
		return (NULL);
	while (isdigit((unsigned char)*p))
		p++;
	return (p);
}

static void
fuzz_done(const struct http_response *r)
{
	const char	*end;
	char		*json;
	size_t		 i, n;

	json = http_json(r, "http://fuzz/");
	for (i = 0; json[i] != '\0'; i += n) {
		if ((n = fuzz_utf8((const unsigned char *)json + i)) == 0) {
			fprintf(stderr, "JSON not UTF-8 at byte %zu: %s\n", i,
			    json);
			abort();
		}
	}
	end = fuzz_json_value(json);
	if (json[0] != '{' || end == NULL || *end != '\0' ||
	    strncmp(json, "{\"url\":\"http://fuzz/\",\"version\":", 32) != 0 ||
	    strstr(json, ",\"headers\":[") == NULL) {
		fprintf(stderr, "not one JSON object of http_json's shape: %s\n",
		    json);
		abort();
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
