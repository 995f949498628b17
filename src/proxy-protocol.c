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
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy-protocol.h"

/*
 * PROXY protocol headers (haproxy's doc/proxy-protocol.txt), built and
 * parsed. The parser is strict as the spec asks of a receiver: a header
 * is required, and anything but a well-formed one is an error, so a
 * client cannot pass off its payload as a header, nor the reverse.
 */

static const unsigned char pp_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define PP_V2_CMD_LOCAL	0x0
#define PP_V2_CMD_PROXY	0x1
#define PP_V2_AF_UNSPEC	0x0
#define PP_V2_AF_INET	0x1
#define PP_V2_AF_INET6	0x2
#define PP_V2_AF_UNIX	0x3
#define PP_V2_ADDR_INET	12
#define PP_V2_ADDR_INET6 36
#define PP_V2_ADDR_UNIX	216

static ssize_t
pp_fail(char *cause, size_t causelen, const char *msg)
{
	snprintf(cause, causelen, "%s", msg);
	return (-1);
}

/* A decimal port, 0 to 65535, no sign, no leading zero. */
static int
pp_v1_port(const char *s, in_port_t *port)
{
	unsigned long	v = 0;
	size_t		n = strlen(s);

	if (n == 0 || n > 5 || (s[0] == '0' && n > 1))
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > 65535)
		return (-1);
	*port = htons((in_port_t)v);
	return (0);
}

static int
pp_v1_addr(int family, const char *a, const char *p,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	in_port_t		 port;

	memset(ss, 0, sizeof *ss);
	if (pp_v1_port(p, &port) != 0)
		return (-1);
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		*len = sizeof *sin;
		return (inet_pton(AF_INET, a, &sin->sin_addr) == 1 ? 0 : -1);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = port;
	*len = sizeof *sin6;
	return (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1 ? 0 : -1);
}

/* "PROXY TCP4 SRC DST SPORT DPORT\r\n", single spaces, nothing else. */
static ssize_t
pp_parse_v1(const unsigned char *buf, size_t len, struct pp_header *h,
    char *cause, size_t causelen)
{
	const unsigned char	*crlf;
	char			 line[PP_V1_MAX + 1], *f[7], *p;
	size_t			 n, llen;
	int			 family;

	crlf = memchr(buf, '\n', len < PP_V1_MAX ? len : PP_V1_MAX);
	if (crlf == NULL) {
		if (len >= PP_V1_MAX)
			return (pp_fail(cause, causelen, "PROXY v1 header "
			    "longer than 107 bytes"));
		return ((ssize_t)len + 1);
	}
	llen = (size_t)(crlf - buf) + 1;
	if (llen < 2 || crlf[-1] != '\r')
		return (pp_fail(cause, causelen, "PROXY v1 header not ended "
		    "by CRLF"));
	memcpy(line, buf, llen - 2);
	line[llen - 2] = '\0';
	if (memchr(line, '\0', llen - 2) != NULL)
		return (pp_fail(cause, causelen, "PROXY v1 header has a NUL"));
	memset(h, 0, sizeof *h);
	h->version = 1;
	h->len = llen;
	/* UNKNOWN: the rest of the line is to be ignored (the spec). */
	if (strncmp(line, "PROXY UNKNOWN", 13) == 0 &&
	    (line[13] == '\0' || line[13] == ' ')) {
		h->local = 1;
		return (0);
	}
	for (n = 0, p = line; n < 7; n++) {
		f[n] = p;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		*p++ = '\0';
	}
	if (n != 5)
		return (pp_fail(cause, causelen, "PROXY v1 header: wrong "
		    "number of fields"));
	if (strcmp(f[1], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		family = AF_INET6;
	else
		return (pp_fail(cause, causelen, "PROXY v1 header: unknown "
		    "protocol"));
	if (pp_v1_addr(family, f[2], f[4], &h->src, &h->srclen) != 0 ||
	    pp_v1_addr(family, f[3], f[5], &h->dst, &h->dstlen) != 0)
		return (pp_fail(cause, causelen, "PROXY v1 header: bad "
		    "address or port"));
	return (0);
}

/* The address block of a v2 PROXY command; TLVs after it are skipped. */
static ssize_t
pp_parse_v2_addr(const unsigned char *a, size_t alen, int fam,
    struct pp_header *h, char *cause, size_t causelen)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&h->src;
	struct sockaddr_in	*d4 = (struct sockaddr_in *)&h->dst;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&h->src;
	struct sockaddr_in6	*d6 = (struct sockaddr_in6 *)&h->dst;
	struct sockaddr_un	*su = (struct sockaddr_un *)&h->src;
	struct sockaddr_un	*du = (struct sockaddr_un *)&h->dst;

	switch (fam) {
	case PP_V2_AF_INET:
		if (alen < PP_V2_ADDR_INET)
			break;
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
		memcpy(&d4->sin_addr, a + 4, 4);
		memcpy(&s4->sin_port, a + 8, 2);
		memcpy(&d4->sin_port, a + 10, 2);
		h->srclen = h->dstlen = sizeof *s4;
		return (0);
	case PP_V2_AF_INET6:
		if (alen < PP_V2_ADDR_INET6)
			break;
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
		memcpy(&d6->sin6_addr, a + 16, 16);
		memcpy(&s6->sin6_port, a + 32, 2);
		memcpy(&d6->sin6_port, a + 34, 2);
		h->srclen = h->dstlen = sizeof *s6;
		return (0);
	case PP_V2_AF_UNIX:
		if (alen < PP_V2_ADDR_UNIX)
			break;
		su->sun_family = du->sun_family = AF_UNIX;
		memcpy(su->sun_path, a, 107);
		memcpy(du->sun_path, a + 108, 107);
		h->srclen = h->dstlen = sizeof *su;
		return (0);
	default:
		/* Unspecified: the receiver uses the real addresses. */
		h->local = 1;
		return (0);
	}
	return (pp_fail(cause, causelen, "PROXY v2 header: address block "
	    "too short for its family"));
}

static ssize_t
pp_parse_v2(const unsigned char *buf, size_t len, struct pp_header *h,
    char *cause, size_t causelen)
{
	size_t	alen;
	int	ver = buf[12] >> 4, cmd = buf[12] & 0xf;
	int	fam = buf[13] >> 4, proto = buf[13] & 0xf;

	if (ver != 2)
		return (pp_fail(cause, causelen, "PROXY v2 header: version is "
		    "not 2"));
	if (cmd != PP_V2_CMD_LOCAL && cmd != PP_V2_CMD_PROXY)
		return (pp_fail(cause, causelen, "PROXY v2 header: unknown "
		    "command"));
	if (fam > PP_V2_AF_UNIX || proto > 2)
		return (pp_fail(cause, causelen, "PROXY v2 header: unknown "
		    "family or protocol"));
	alen = ((size_t)buf[14] << 8) | buf[15];
	if (len < PP_V2_FIXED + alen)
		return ((ssize_t)(PP_V2_FIXED + alen));
	memset(h, 0, sizeof *h);
	h->version = 2;
	h->len = PP_V2_FIXED + alen;
	/* LOCAL: the balancer's own connection; its addresses stand. */
	if (cmd == PP_V2_CMD_LOCAL) {
		h->local = 1;
		return (0);
	}
	return (pp_parse_v2_addr(buf + PP_V2_FIXED, alen, fam, h, cause,
	    causelen));
}

ssize_t
pp_parse(const unsigned char *buf, size_t len, struct pp_header *h,
    char *cause, size_t causelen)
{
	static const char	v1[] = "PROXY ";
	size_t			n;

	/* Refuse as soon as the bytes so far can begin neither version. */
	n = len < sizeof v1 - 1 ? len : sizeof v1 - 1;
	if (n > 0 && memcmp(buf, v1, n) == 0) {
		if (len < PP_MIN)
			return (PP_MIN);
		return (pp_parse_v1(buf, len, h, cause, causelen));
	}
	n = len < sizeof pp_v2_sig ? len : sizeof pp_v2_sig;
	if (n > 0 && memcmp(buf, pp_v2_sig, n) == 0) {
		if (len < PP_V2_FIXED)
			return (len < PP_MIN ? PP_MIN : PP_V2_FIXED);
		return (pp_parse_v2(buf, len, h, cause, causelen));
	}
	if (len == 0)
		return (PP_MIN);
	return (pp_fail(cause, causelen, "no PROXY protocol header"));
}

/* An IPv4-mapped IPv6 address as the IPv4 one it is; others as given. */
static void
pp_unmap(const struct sockaddr *sa, socklen_t salen,
    struct sockaddr_storage *ss)
{
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)sa;
	struct sockaddr_in		*s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof *ss);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		s4->sin_family = AF_INET;
		s4->sin_port = s6->sin6_port;
		memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
		return;
	}
	if (salen > sizeof *ss)
		salen = sizeof *ss;
	memcpy(ss, sa, salen);
}

/* Both addresses of one family: IPv4 goes into IPv6 as mapped. */
static void
pp_map(struct sockaddr_storage *ss)
{
	struct sockaddr_in	s4;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memcpy(&s4, ss, sizeof s4);
	memset(ss, 0, sizeof *ss);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = s4.sin_port;
	s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&s6->sin6_addr.s6_addr[12], &s4.sin_addr, 4);
}

static size_t
pp_build_v1(const struct sockaddr_storage *s, const struct sockaddr_storage *d,
    unsigned char *out)
{
	char		 sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	const void	*sp, *dp;
	int		 n, v6 = s->ss_family == AF_INET6;
	unsigned int	 sport, dport;

	if (v6) {
		sp = &((const struct sockaddr_in6 *)s)->sin6_addr;
		dp = &((const struct sockaddr_in6 *)d)->sin6_addr;
		sport = ntohs(((const struct sockaddr_in6 *)s)->sin6_port);
		dport = ntohs(((const struct sockaddr_in6 *)d)->sin6_port);
	} else {
		sp = &((const struct sockaddr_in *)s)->sin_addr;
		dp = &((const struct sockaddr_in *)d)->sin_addr;
		sport = ntohs(((const struct sockaddr_in *)s)->sin_port);
		dport = ntohs(((const struct sockaddr_in *)d)->sin_port);
	}
	inet_ntop(s->ss_family, sp, sa, sizeof sa);
	inet_ntop(d->ss_family, dp, da, sizeof da);
	n = snprintf((char *)out, PP_BUILD_MAX, "PROXY %s %s %s %u %u\r\n",
	    v6 ? "TCP6" : "TCP4", sa, da, sport, dport);
	return ((size_t)n);
}

static size_t
pp_build_v2(const struct sockaddr_storage *s, const struct sockaddr_storage *d,
    unsigned char *out)
{
	unsigned char	*a = out + PP_V2_FIXED;
	size_t		 alen = 0;
	int		 fam = PP_V2_AF_UNSPEC;

	memcpy(out, pp_v2_sig, sizeof pp_v2_sig);
	out[12] = 0x20 | PP_V2_CMD_PROXY;
	if (s->ss_family == AF_INET) {
		fam = PP_V2_AF_INET;
		memcpy(a, &((const struct sockaddr_in *)s)->sin_addr, 4);
		memcpy(a + 4, &((const struct sockaddr_in *)d)->sin_addr, 4);
		memcpy(a + 8, &((const struct sockaddr_in *)s)->sin_port, 2);
		memcpy(a + 10, &((const struct sockaddr_in *)d)->sin_port, 2);
		alen = PP_V2_ADDR_INET;
	} else if (s->ss_family == AF_INET6) {
		fam = PP_V2_AF_INET6;
		memcpy(a, &((const struct sockaddr_in6 *)s)->sin6_addr, 16);
		memcpy(a + 16, &((const struct sockaddr_in6 *)d)->sin6_addr,
		    16);
		memcpy(a + 32, &((const struct sockaddr_in6 *)s)->sin6_port, 2);
		memcpy(a + 34, &((const struct sockaddr_in6 *)d)->sin6_port, 2);
		alen = PP_V2_ADDR_INET6;
	} else if (s->ss_family == AF_UNIX) {
		fam = PP_V2_AF_UNIX;
		memset(a, 0, PP_V2_ADDR_UNIX);
		memcpy(a, ((const struct sockaddr_un *)s)->sun_path, 107);
		memcpy(a + 108, ((const struct sockaddr_un *)d)->sun_path, 107);
		alen = PP_V2_ADDR_UNIX;
	}
	/* A stream socket: TCP over IP, SOCK_STREAM over unix (0x1). */
	out[13] = (unsigned char)((fam << 4) | (fam != PP_V2_AF_UNSPEC));
	out[14] = (unsigned char)(alen >> 8);
	out[15] = (unsigned char)(alen & 0xff);
	return (PP_V2_FIXED + alen);
}

size_t
pp_build(int version, const struct sockaddr *src, socklen_t srclen,
    const struct sockaddr *dst, socklen_t dstlen, unsigned char *out)
{
	struct sockaddr_storage	s, d;

	pp_unmap(src, srclen, &s);
	pp_unmap(dst, dstlen, &d);
	/* A unix client of a TCP listener, or the reverse: no addresses. */
	if (s.ss_family != d.ss_family) {
		if (s.ss_family == AF_INET && d.ss_family == AF_INET6)
			pp_map(&s);
		else if (s.ss_family == AF_INET6 && d.ss_family == AF_INET)
			pp_map(&d);
		else if (s.ss_family == AF_UNIX || d.ss_family == AF_UNIX) {
			if (s.ss_family != AF_UNIX)
				memset(&s, 0, sizeof s);
			if (d.ss_family != AF_UNIX)
				memset(&d, 0, sizeof d);
			s.ss_family = d.ss_family = AF_UNIX;
		}
	}
	if (s.ss_family != AF_INET && s.ss_family != AF_INET6) {
		if (version == 2)
			return (pp_build_v2(&s, &d, out));
		memcpy(out, "PROXY UNKNOWN\r\n", 15);
		return (15);
	}
	if (version == 2)
		return (pp_build_v2(&s, &d, out));
	return (pp_build_v1(&s, &d, out));
}
