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
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "parse.h"
#include "serve.h"
#include "xmalloc.h"

/*
 * --allow and --deny: admit or refuse a client by its address, by ncat's
 * rules. A rule is an address or a CIDR block, IPv4 or IPv6.
 */

/*
 * Every IPv6 listener is V6ONLY, so IPv4 clients arrive as AF_INET and an
 * IPv4-mapped rule (::ffff:192.0.2.7, ::ffff:10.0.0.0/104) would never
 * match one: it becomes the IPv4 rule it means. A mapped block shorter
 * than /96 reaches outside the mapped range; refuse it rather than guess.
 */
static int
acl_unmap(struct acl_rule *a, const char **cause)
{
	struct in6_addr	a6;

	if (a->family != AF_INET6)
		return (0);
	memcpy(&a6, a->addr, sizeof a6);
	if (!IN6_IS_ADDR_V4MAPPED(&a6))
		return (0);
	if (a->bits < 96) {
		*cause = "an IPv4-mapped block needs a prefix of 96 or more";
		return (-1);
	}
	a->family = AF_INET;
	memmove(a->addr, a->addr + 12, 4);
	memset(a->addr + 4, 0, sizeof a->addr - 4);
	a->bits -= 96;
	return (0);
}

/* Parse "ADDR" or "ADDR/BITS" (IPv4 or IPv6); 0, or -1 with *cause. */
static int
acl_parse(const char *spec, int allow, struct acl_rule *a,
    const char **cause)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	long long	 bits;
	int		 max;

	memset(a, 0, sizeof *a);
	a->allow = allow;
	if (strlen(spec) >= sizeof buf) {
		*cause = "not an address or CIDR block";
		return (-1);
	}
	strlcpy(buf, spec, sizeof buf);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, a->addr) == 1) {
		a->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		a->family = AF_INET6;
		max = 128;
	} else {
		*cause = "not an address or CIDR block";
		return (-1);
	}
	a->bits = max;
	if (slash != NULL) {
		if (parse_count(slash, 0, max, &bits, cause) != 0) {
			*cause = "bad prefix length";
			return (-1);
		}
		a->bits = (int)bits;
	}
	return (acl_unmap(a, cause));
}

int
acl_add(struct acl *acl, const char *spec, int allow, const char **cause)
{
	acl->rules = xreallocarray(acl->rules, acl->n + 1,
	    sizeof *acl->rules);
	if (acl_parse(spec, allow, &acl->rules[acl->n], cause) != 0)
		return (-1);
	acl->has_allow |= allow;
	acl->n++;
	return (0);
}

static int
acl_match(const struct acl_rule *a, const struct sockaddr_storage *ss)
{
	const unsigned char	*p;
	const struct in6_addr	*a6;
	int			 full, rest;

	if (ss->ss_family == AF_INET6) {
		a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		/* ::ffff:10.0.0.1 is 10.0.0.1 for an IPv4 rule. */
		if (a->family == AF_INET && IN6_IS_ADDR_V4MAPPED(a6))
			p = (const unsigned char *)a6 + 12;
		else if (a->family == AF_INET6)
			p = (const unsigned char *)a6;
		else
			return (0);
	} else if (ss->ss_family == AF_INET && a->family == AF_INET)
		p = (const unsigned char *)&((const struct sockaddr_in *)ss)->sin_addr;
	else
		return (0);
	full = a->bits / 8;
	rest = a->bits % 8;
	if (memcmp(p, a->addr, full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	return (((p[full] ^ a->addr[full]) & (0xff << (8 - rest))) == 0);
}

/*
 * Any --deny that matches refuses; with --allow given, a client must
 * match one of them (ncat's rules).
 */
int
acl_permits(const struct acl *acl, const struct sockaddr_storage *ss)
{
	size_t	i;
	int	allowed = !acl->has_allow;

	for (i = 0; i < acl->n; i++) {
		if (!acl_match(&acl->rules[i], ss))
			continue;
		if (!acl->rules[i].allow)
			return (0);
		allowed = 1;
	}
	return (allowed);
}

void
acl_free(struct acl *acl)
{
	free(acl->rules);
	acl->rules = NULL;
	acl->n = 0;
}
