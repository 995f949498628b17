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
#include <strings.h>

#include "compat.h"
#include "error.h"
#include "net.h"
#include "parse.h"
#include "xmalloc.h"

/*
 * --resolve HOST:PORT:ADDR[,ADDR]..., spelt as curl spells it: the
 * addresses to use for HOST:PORT instead of asking the resolver. IPv6
 * addresses (and an IPv6 HOST) go in brackets. Entries are process-wide,
 * like curl's DNS cache, so a redirect to the same host and port and a
 * proxy's own name find them too; a later entry for the same HOST:PORT
 * replaces an earlier one, as in curl.
 */

struct resolve_entry {
	char			*host;
	char			*port;
	struct net_addr		*addrs;
	size_t			 naddrs;
};

static struct resolve_entry	*resolve_table;
static size_t			 resolve_count;

/* One field up to ':', with [brackets] kept together. */
static const char *
resolve_field(const char *s, char *out, size_t outlen, int strip)
{
	const char	*end;
	size_t		 len;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return (NULL);
		end++;
	} else
		end = s + strcspn(s, ":");
	len = end - s;
	if (strip && len >= 2 && *s == '[') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= outlen)
		return (NULL);
	memcpy(out, s, len);
	out[len] = '\0';
	return (end);
}

/* One numeric address, IPv6 in brackets; port in host order. */
static int
resolve_addr(const char *s, size_t len, int port, struct net_addr *a)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&a->ss;
	char			 buf[INET6_ADDRSTRLEN + 2];

	memset(a, 0, sizeof *a);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (len >= sizeof buf)
			return (-1);
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
			return (-1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		a->len = sizeof *sin6;
		return (0);
	}
	if (len >= sizeof buf)
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1)
		return (-1);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	a->len = sizeof *sin;
	return (0);
}

static int
resolve_addrs(const char *s, int port, struct resolve_entry *e,
    const char **cause)
{
	size_t	len;

	for (;;) {
		len = strcspn(s, ",");
		e->addrs = xreallocarray(e->addrs, e->naddrs + 1,
		    sizeof *e->addrs);
		if (resolve_addr(s, len, port, &e->addrs[e->naddrs]) != 0) {
			*cause = len != 0 && memchr(s, ':', len) != NULL &&
			    *s != '[' ? "an IPv6 address goes in brackets" :
			    "not a numeric IPv4 or [IPv6] address";
			return (-1);
		}
		e->naddrs++;
		if (s[len] == '\0')
			return (0);
		s += len + 1;
	}
}

static void
resolve_entry_free(struct resolve_entry *e)
{
	free(e->host);
	free(e->port);
	free(e->addrs);
}

int
resolve_add(const char *spec, const char **cause)
{
	struct resolve_entry	 e;
	char			 host[256], port[16];
	const char		*s = spec, *why;
	int			 p;
	size_t			 i;

	memset(&e, 0, sizeof e);
	if (*s == '+')		/* curl's "add", the default anyway */
		s++;
	if ((s = resolve_field(s, host, sizeof host, 1)) == NULL ||
	    *s++ != ':' || (s = resolve_field(s, port, sizeof port, 0)) ==
	    NULL || *s++ != ':' || *s == '\0') {
		*cause = "not HOST:PORT:ADDR[,ADDR]...";
		return (-1);
	}
	/* A service name is looked up here, as connect's PORT is. */
	if ((p = parse_port(port, 0, &why)) == -1) {
		*cause = strcmp(why, PARSE_UNKNOWN_SERVICE) == 0 ?
		    "unknown service" : "bad port";
		return (-1);
	}
	if (resolve_addrs(s, p, &e, cause) != 0) {
		free(e.addrs);
		return (-1);
	}
	e.host = xstrdup(host);
	xasprintf(&e.port, "%d", p);	/* "http": 80, compared as numbers */
	for (i = 0; i < resolve_count; i++) {
		if (strcasecmp(resolve_table[i].host, host) == 0 &&
		    atoi(resolve_table[i].port) == p) {
			resolve_entry_free(&resolve_table[i]);
			resolve_table[i] = e;
			return (0);
		}
	}
	resolve_table = xreallocarray(resolve_table, resolve_count + 1,
	    sizeof *resolve_table);
	resolve_table[resolve_count++] = e;
	return (0);
}

void
resolve_clear(void)
{
	size_t	i;

	for (i = 0; i < resolve_count; i++)
		resolve_entry_free(&resolve_table[i]);
	free(resolve_table);
	resolve_table = NULL;
	resolve_count = 0;
}

/*
 * The addresses given for host:port, those of family (AF_UNSPEC: all),
 * in the order given: 1 with *addrs allocated (*n may be 0), 0 when there
 * is no entry and the resolver is to be asked.
 */
int
resolve_lookup(const char *host, const char *port, int family,
    struct net_addr **addrs, size_t *n)
{
	const struct resolve_entry	*e;
	const char			*why;
	size_t				 i, j;
	int				 p;

	*addrs = NULL;
	*n = 0;
	if ((p = parse_port(port, 1, &why)) == -1)
		return (0);
	for (i = 0; i < resolve_count; i++) {
		e = &resolve_table[i];
		if (strcasecmp(e->host, host) != 0 || atoi(e->port) != p)
			continue;
		*addrs = xreallocarray(NULL, e->naddrs, sizeof **addrs);
		for (j = 0; j < e->naddrs; j++) {
			if (family == AF_UNSPEC ||
			    e->addrs[j].ss.ss_family == family)
				(*addrs)[(*n)++] = e->addrs[j];
		}
		return (1);
	}
	return (0);
}
