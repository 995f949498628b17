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

#include "parse.h"
#include "proxy.h"

/*
 * libFuzzer harness for proxy URLs and no_proxy lists (proxy.c): the
 * input up to its first newline is a proxy URL (--proxy, http_proxy),
 * the rest a no_proxy list and, after a second newline, a host to match
 * against it. A URL accepted must have a scheme, a host, a port that
 * parse_port takes (a number from 1 to 65535 or a service name) and a
 * label that names them without the credentials.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_check(const char *url, const struct proxy *p)
{
	const char	*why = NULL, *cause;

	if (p->host == NULL || *p->host == '\0')
		why = "no host";
	else if (p->port == NULL || parse_port(p->port, 0, &cause) == -1)
		why = "a port parse_port refuses";
	else if (p->label == NULL || strstr(p->label, p->host) == NULL)
		why = "label without the host";
	else if (strchr(p->label, '@') != NULL)
		why = "credentials in the label";
	else if (proxy_scheme(p) == NULL)
		why = "no scheme";
	if (why != NULL) {
		fprintf(stderr, "proxy URL '%s': %s\n", url, why);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct proxy	 p;
	const char	*cause;
	char		*s, *list, *host;

	s = malloc(len + 1);
	memcpy(s, data, len);
	s[len] = '\0';
	if ((list = strchr(s, '\n')) != NULL)
		*list++ = '\0';
	else
		list = s + len;
	if ((host = strchr(list, '\n')) != NULL)
		*host++ = '\0';
	else
		host = s + len;
	memset(&p, 0, sizeof p);
	if (proxy_parse(s, &p, &cause) == 0) {
		fuzz_check(s, &p);
		proxy_free(&p);
	} else if (cause == NULL)
		abort();
	(void)proxy_no_proxy(list, host);
	(void)proxy_no_proxy(list, s);
	free(s);
	return (0);
}
