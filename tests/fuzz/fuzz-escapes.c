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

#include "compat.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

/*
 * libFuzzer harness for the option value parsers of parse.c
 * (tests/fuzz/README): the --send/--read-until escapes, sizes, ports,
 * seconds and counts, each given the input as a C string. Checks the
 * promises the commands rely on: an escape never makes output longer
 * than its input, a size is within 1 .. 1 GiB, a port within 0 .. 65535,
 * seconds within (0, one year], a count within its bounds.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_check(int cond, const char *what, const char *s)
{
	if (!cond) {
		fprintf(stderr, "%s, for input '%s'\n", what, s);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*cause;
	char		*s, *out;
	size_t		 outlen, size;
	double		 secs;
	long long	 count;
	int		 port;

	s = xmalloc(len + 1);
	memcpy(s, data, len);
	s[len] = '\0';

	if (parse_escapes(s, &out, &outlen, &cause) == 0) {
		fuzz_check(outlen <= strlen(s), "escapes grew", s);
		free(out);
	} else
		fuzz_check(cause != NULL, "escape error without a cause", s);
	if (parse_size(s, &size, &cause) == 0)
		fuzz_check(size >= 1 && size <= 1024 * 1024 * 1024,
		    "size out of range", s);
	port = parse_port(s, 1, &cause);
	fuzz_check(port >= -1 && port <= 65535, "port out of range", s);
	port = parse_port(s, 0, &cause);
	fuzz_check(port == -1 || port >= 1, "port 0 allowed", s);
	if (parse_seconds(s, &secs, &cause) == 0)
		fuzz_check(secs > 0 && secs <= 31536000.0,
		    "seconds out of range", s);
	if (parse_count(s, 1, 1000, &count, &cause) == 0)
		fuzz_check(count >= 1 && count <= 1000, "count out of range",
		    s);
	free(s);
	return (0);
}
