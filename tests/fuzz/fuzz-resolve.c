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

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

/*
 * libFuzzer harness for --resolve HOST:PORT:ADDR[,ADDR]... entries
 * (net-resolve.c): the input, as a string, is one entry. An entry
 * accepted is looked up by the host and port it names (the text before
 * the first two colons, brackets removed) and must give only IPv4 and
 * IPv6 addresses of their own length. The table is cleared each time.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_lookup(const char *host, const char *port, int family)
{
	struct net_addr	*addrs;
	size_t		 n, i;

	if (!resolve_lookup(host, port, family, &addrs, &n))
		return;
	for (i = 0; i < n; i++) {
		const struct net_addr *a = &addrs[i];

		if (!((a->ss.ss_family == AF_INET &&
		    a->len == sizeof(struct sockaddr_in)) ||
		    (a->ss.ss_family == AF_INET6 &&
		    a->len == sizeof(struct sockaddr_in6))) ||
		    (family != AF_UNSPEC && a->ss.ss_family != family)) {
			fprintf(stderr, "%s port %s: address of family %d, "
			    "length %u\n", host, port, a->ss.ss_family,
			    (unsigned)a->len);
			abort();
		}
	}
	free(addrs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*cause;
	char		*spec, *host, *port, *p;

	spec = malloc(len + 1);
	memcpy(spec, data, len);
	spec[len] = '\0';
	if (resolve_add(spec, &cause) == 0) {
		host = spec;
		if (*host == '[' && (p = strchr(host, ']')) != NULL) {
			host++;
			*p++ = '\0';
		} else if ((p = strchr(host, ':')) != NULL)
			*p = '\0';
		port = p != NULL ? p + (*p == ':' || *p == '\0') : (char *)"";
		if ((p = strchr(port, ':')) != NULL)
			*p = '\0';
		fuzz_lookup(host, port, AF_UNSPEC);
		fuzz_lookup(host, port, AF_INET);
		fuzz_lookup(host, port, AF_INET6);
	} else if (cause == NULL)
		abort();
	resolve_clear();
	free(spec);
	return (0);
}
