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

#include "serve.h"

/*
 * libFuzzer harness for --allow and --deny specs (serve-acl.c): the
 * input, as a string, is one spec. A spec accepted must admit its own
 * address (an address is inside its block), and a deny of it refuse it;
 * the client address tried then is the input's last 16 bytes.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The rule's own address as accept(2) would give it. */
static void
fuzz_rule_addr(const struct acl_rule *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	ss->ss_family = a->family;
	if (a->family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, a->addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, a->addr, 16);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct acl		 allow, deny;
	struct sockaddr_storage	 ss;
	const char		*cause;
	char			*spec;
	int			 a, d;

	spec = malloc(len + 1);
	memcpy(spec, data, len);
	spec[len] = '\0';
	memset(&allow, 0, sizeof allow);
	memset(&deny, 0, sizeof deny);
	a = acl_add(&allow, spec, 1, &cause);
	d = acl_add(&deny, spec, 0, &cause);
	if (a != d)
		abort();
	if (a == 0) {
		const struct acl_rule *r = &allow.rules[0];

		if ((r->family != AF_INET || r->bits > 32) &&
		    (r->family != AF_INET6 || r->bits > 128)) {
			fprintf(stderr, "spec '%s': family %d bits %d\n", spec,
			    r->family, r->bits);
			abort();
		}
		fuzz_rule_addr(r, &ss);
		if (!acl_permits(&allow, &ss) || acl_permits(&deny, &ss)) {
			fprintf(stderr, "spec '%s' does not hold its own "
			    "address\n", spec);
			abort();
		}
		/* Any client: no crash, and a deny never admits more. */
		memset(&ss, 0, sizeof ss);
		ss.ss_family = len % 2 ? AF_INET6 : AF_INET;
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr,
		    data + (len > 16 ? len - 16 : 0), len > 16 ? 16 : len);
		if (ss.ss_family == AF_INET)
			memmove(&((struct sockaddr_in *)&ss)->sin_addr,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr, 4);
		if (acl_permits(&deny, &ss) && acl_permits(&allow, &ss) &&
		    allow.has_allow && !deny.has_allow) {
			/* in the block: allowed by one, so denied by the other */
			fprintf(stderr, "spec '%s': a client both allowed and "
			    "not denied\n", spec);
			abort();
		}
	}
	acl_free(&allow);
	acl_free(&deny);
	free(spec);
	return (0);
}
