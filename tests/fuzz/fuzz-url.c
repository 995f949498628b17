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

#include "url.h"
#include "xmalloc.h"

/*
 * libFuzzer harness for url.c (tests/fuzz/README). The input is two
 * strings split at the first NUL: an absolute URL and a Location
 * reference resolved against it. Besides the sanitizers, it checks what
 * http-head relies on: a parsed URL prints as a URL that parses back to
 * the same string, and a redirect target is itself a URL.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
fuzz_string(const uint8_t *data, size_t len)
{
	char	*s = xmalloc(len + 1);

	memcpy(s, data, len);
	s[len] = '\0';
	return (s);
}

/* url_string(u) must parse again, to the same URL. */
static void
fuzz_round_trip(const struct url *u)
{
	struct url	 again;
	const char	*cause;
	char		*s, *s2, *auth;

	s = url_string(u);
	auth = url_authority(u);
	if (url_parse(s, &again, &cause) != 0) {
		fprintf(stderr, "url_string gave '%s', which fails: %s\n", s,
		    cause);
		abort();
	}
	s2 = url_string(&again);
	if (strcmp(s, s2) != 0 || !url_same_origin(u, &again)) {
		fprintf(stderr, "'%s' reparsed as '%s'\n", s, s2);
		abort();
	}
	free(s2);
	free(s);
	free(auth);
	url_free(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct url	 u, target;
	const char	*cause;
	const uint8_t	*nul;
	char		*base, *ref;

	if ((nul = memchr(data, '\0', len)) == NULL)
		nul = data + len;
	base = fuzz_string(data, nul - data);
	ref = nul < data + len ? fuzz_string(nul + 1, len - (nul - data) - 1) :
	    NULL;
	if (url_parse(base, &u, &cause) == 0) {
		fuzz_round_trip(&u);
		if (ref != NULL && url_resolve(&u, ref, &target, &cause) == 0) {
			fuzz_round_trip(&target);
			(void)url_same_origin(&u, &target);
			url_free(&target);
		}
		url_free(&u);
	}
	free(base);
	free(ref);
	return (0);
}
