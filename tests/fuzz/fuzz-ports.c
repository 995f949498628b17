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

#include "connect-scan.h"

/*
 * libFuzzer harness for connect -z's PORTS (connect-scan.c): the input,
 * as a string, is one port list ("80", "http", "1-1024", "22,80,443").
 * A list accepted must give at least one port, each from 1 to 65535,
 * sorted and without duplicates; a list refused must say why.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint16_t	*ports = NULL;
	size_t		 n = 0, i;
	char		*spec, cause[256];

	spec = malloc(len + 1);
	memcpy(spec, data, len);
	spec[len] = '\0';
	cause[0] = '\0';
	if (portscan_parse(spec, &ports, &n, cause, sizeof cause) == 0) {
		if (n == 0)
			abort();
		for (i = 0; i < n; i++) {
			if (ports[i] == 0 || (i > 0 && ports[i] <= ports[i - 1])) {
				fprintf(stderr, "'%s': port %zu is %u after %u\n",
				    spec, i, ports[i], i > 0 ? ports[i - 1] : 0);
				abort();
			}
		}
		free(ports);
	} else if (cause[0] == '\0')
		abort();
	free(spec);
	return (0);
}
