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
#include "tap.h"

/* proxy-protocol.c: headers built, and parsed strictly. */

static const char v2sig[] = "\r\n\r\n\0\r\nQUIT\n";

static struct sockaddr_storage
sa4(const char *a, int port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof ss);
	s->sin_family = AF_INET;
	s->sin_port = htons((in_port_t)port);
	inet_pton(AF_INET, a, &s->sin_addr);
	return (ss);
}

static struct sockaddr_storage
sa6(const char *a, int port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*s = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof ss);
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((in_port_t)port);
	inet_pton(AF_INET6, a, &s->sin6_addr);
	return (ss);
}

/* "ADDR PORT" of a parsed address. */
static const char *
show(const struct sockaddr_storage *ss)
{
	static char	buf[2][128];
	static int	n;
	char		*b = buf[n++ % 2], a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof a);
		snprintf(b, 128, "%s %u", a, ntohs(s->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof a);
		snprintf(b, 128, "%s %u", a, ntohs(s->sin6_port));
	} else if (ss->ss_family == AF_UNIX)
		snprintf(b, 128, "unix %s",
		    ((const struct sockaddr_un *)ss)->sun_path);
	else
		snprintf(b, 128, "family %d", ss->ss_family);
	return (b);
}

static ssize_t
parse(const char *s, size_t len, struct pp_header *h, char *cause)
{
	return (pp_parse((const unsigned char *)s, len, h, cause, 128));
}

static void
test_v1(void)
{
	struct pp_header	 h;
	char			 cause[128], line[200];
	const char		*s;

	s = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET /";
	is_int((int)parse(s, strlen(s), &h, cause), 0, "v1 TCP4 parses");
	is_int((int)h.len, 45, "v1: the header ends at its CRLF");
	is_str(show(&h.src), "192.0.2.1 56324", "v1 source");
	is_str(show(&h.dst), "198.51.100.2 443", "v1 destination");
	ok(!h.local && h.version == 1, "v1 names a client");

	s = "PROXY TCP6 2001:db8::1 ::1 1 65535\r\n";
	is_int((int)parse(s, strlen(s), &h, cause), 0, "v1 TCP6 parses");
	is_str(show(&h.src), "2001:db8::1 1", "v1 TCP6 source");
	is_str(show(&h.dst), "::1 65535", "v1 TCP6 destination");

	s = "PROXY UNKNOWN\r\n";
	ok(parse(s, strlen(s), &h, cause) == 0 && h.local, "v1 UNKNOWN");
	s = "PROXY UNKNOWN ffff:f...f:ffff 1 2 3\r\n";
	ok(parse(s, strlen(s), &h, cause) == 0 && h.local,
	    "v1 UNKNOWN, the rest ignored");

	s = "PROXY TCP4 192.0.2.1";
	is_int((int)parse(s, strlen(s), &h, cause), (int)strlen(s) + 1,
	    "v1 without CRLF yet: one byte more");
	is_int((int)parse("PRO", 3, &h, cause), PP_MIN,
	    "a prefix of PROXY: wait for more");

	memset(line, 'x', sizeof line);
	memcpy(line, "PROXY TCP4 ", 11);
	is_int((int)parse(line, 107, &h, cause), -1,
	    "v1: no CRLF within 107 bytes refused");
	is_str(cause, "PROXY v1 header longer than 107 bytes", "its cause");

	s = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\n";
	is_int((int)parse(s, strlen(s), &h, cause), -1, "bare LF refused");
	s = "PROXY TCP4 192.0.2.1  198.51.100.2 56324 443\r\n";
	is_int((int)parse(s, strlen(s), &h, cause), -1, "two spaces refused");
	s = "PROXY TCP4 192.0.2.1 198.51.100.2 056324 443\r\n";
	is_int((int)parse(s, strlen(s), &h, cause), -1,
	    "a leading zero refused");
	s = "PROXY TCP4 192.0.2.1 198.51.100.2 65536 443\r\n";
	is_int((int)parse(s, strlen(s), &h, cause), -1, "port 65536 refused");
	s = "PROXY TCP4 ::1 ::1 1 2\r\n";
	is_int((int)parse(s, strlen(s), &h, cause), -1,
	    "IPv6 in TCP4 refused");
	s = "PROXY TCP5 192.0.2.1 198.51.100.2 1 2\r\n";
	is_int((int)parse(s, strlen(s), &h, cause), -1, "TCP5 refused");
	s = "PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n";
	is_int((int)parse(s, strlen(s), &h, cause), -1,
	    "a missing field refused");
	s = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	is_int((int)parse(s, strlen(s), &h, cause), -1, "HTTP refused");
	is_str(cause, "no PROXY protocol header", "its cause");
	is_int((int)parse("G", 1, &h, cause), -1,
	    "refused from the first byte");
}

static size_t
v2(unsigned char *b, int vc, int fam, const void *addr, size_t alen,
    size_t extra)
{
	memcpy(b, v2sig, 12);
	b[12] = (unsigned char)vc;
	b[13] = (unsigned char)fam;
	b[14] = (unsigned char)((alen + extra) >> 8);
	b[15] = (unsigned char)((alen + extra) & 0xff);
	memcpy(b + 16, addr, alen);
	memset(b + 16 + alen, 0xee, extra);
	return (16 + alen + extra);
}

static void
test_v2(void)
{
	struct pp_header	 h;
	unsigned char		 b[600];
	unsigned char		 a4[12] = { 192, 0, 2, 1, 198, 51, 100, 2,
				     0xdc, 0x04, 0x01, 0xbb };
	unsigned char		 a6[36];
	char			 cause[128];
	size_t			 n;

	n = v2(b, 0x21, 0x11, a4, 12, 0);
	ok(pp_parse(b, n, &h, cause, sizeof cause) == 0 && h.len == 28,
	    "v2 PROXY TCP4 parses, 28 bytes");
	is_str(show(&h.src), "192.0.2.1 56324", "v2 source");
	is_str(show(&h.dst), "198.51.100.2 443", "v2 destination");

	n = v2(b, 0x21, 0x11, a4, 12, 40);
	ok(pp_parse(b, n, &h, cause, sizeof cause) == 0 && h.len == n,
	    "v2 TLVs skipped");
	is_str(show(&h.src), "192.0.2.1 56324", "v2 source with TLVs");
	is_int((int)pp_parse(b, 16, &h, cause, sizeof cause), (int)n,
	    "v2: the length says how many bytes are needed");
	is_int((int)pp_parse(b, 10, &h, cause, sizeof cause), PP_MIN,
	    "v2: a prefix of the signature waits");

	memset(a6, 0, sizeof a6);
	a6[15] = 1;
	a6[31] = 2;
	a6[33] = 80;
	a6[35] = 81;
	n = v2(b, 0x21, 0x21, a6, 36, 0);
	ok(pp_parse(b, n, &h, cause, sizeof cause) == 0, "v2 TCP6 parses");
	is_str(show(&h.src), "::1 80", "v2 TCP6 source");
	is_str(show(&h.dst), "::2 81", "v2 TCP6 destination");

	n = v2(b, 0x20, 0x00, a4, 0, 0);
	ok(pp_parse(b, n, &h, cause, sizeof cause) == 0 && h.local &&
	    h.len == 16, "v2 LOCAL honoured");
	n = v2(b, 0x20, 0x11, a4, 12, 0);
	ok(pp_parse(b, n, &h, cause, sizeof cause) == 0 && h.local,
	    "v2 LOCAL with addresses: they are ignored");
	n = v2(b, 0x21, 0x00, a4, 0, 0);
	ok(pp_parse(b, n, &h, cause, sizeof cause) == 0 && h.local,
	    "v2 UNSPEC: the connection's addresses stand");

	n = v2(b, 0x11, 0x11, a4, 12, 0);
	is_int((int)pp_parse(b, n, &h, cause, sizeof cause), -1,
	    "v2 version 1 refused");
	n = v2(b, 0x22, 0x11, a4, 12, 0);
	is_int((int)pp_parse(b, n, &h, cause, sizeof cause), -1,
	    "v2 command 2 refused");
	n = v2(b, 0x21, 0x41, a4, 12, 0);
	is_int((int)pp_parse(b, n, &h, cause, sizeof cause), -1,
	    "v2 family 4 refused");
	n = v2(b, 0x21, 0x21, a4, 12, 0);
	is_int((int)pp_parse(b, n, &h, cause, sizeof cause), -1,
	    "v2 TCP6 with 12 bytes of address refused");
	n = v2(b, 0x21, 0x11, a4, 12, 0);
	b[5] ^= 1;
	is_int((int)pp_parse(b, n, &h, cause, sizeof cause), -1,
	    "a broken signature refused");
}

static void
test_build(void)
{
	struct sockaddr_storage	 s, d;
	struct pp_header	 h;
	struct sockaddr_un	 us, ud;
	unsigned char		 out[PP_BUILD_MAX];
	char			 cause[128];
	size_t			 n;

	s = sa4("192.0.2.1", 56324);
	d = sa4("127.0.0.1", 8080);
	n = pp_build(1, (void *)&s, sizeof s, (void *)&d, sizeof d, out);
	is_mem(out, n, "PROXY TCP4 192.0.2.1 127.0.0.1 56324 8080\r\n", 43,
	    "v1 TCP4 built");
	s = sa6("::ffff:192.0.2.1", 1);
	d = sa6("::ffff:127.0.0.1", 2);
	n = pp_build(1, (void *)&s, sizeof s, (void *)&d, sizeof d, out);
	is_mem(out, n, "PROXY TCP4 192.0.2.1 127.0.0.1 1 2\r\n", 36,
	    "v1: IPv4-mapped goes out as TCP4");
	s = sa6("2001:db8::1", 1);
	d = sa6("::1", 2);
	n = pp_build(1, (void *)&s, sizeof s, (void *)&d, sizeof d, out);
	is_mem(out, n, "PROXY TCP6 2001:db8::1 ::1 1 2\r\n", 32,
	    "v1 TCP6 built");
	n = pp_build(2, (void *)&s, sizeof s, (void *)&d, sizeof d, out);
	ok(n == 52 && pp_parse(out, n, &h, cause, sizeof cause) == 0 &&
	    strcmp(show(&h.src), "2001:db8::1 1") == 0 &&
	    strcmp(show(&h.dst), "::1 2") == 0, "v2 TCP6 round trip");
	s = sa6("::ffff:192.0.2.1", 7);
	d = sa4("127.0.0.1", 8);
	n = pp_build(2, (void *)&s, sizeof s, (void *)&d, sizeof d, out);
	ok(n == 28 && out[13] == 0x11 && pp_parse(out, n, &h, cause,
	    sizeof cause) == 0 && strcmp(show(&h.src), "192.0.2.1 7") == 0,
	    "v2: IPv4-mapped goes out as TCP4");

	memset(&us, 0, sizeof us);
	memset(&ud, 0, sizeof ud);
	us.sun_family = ud.sun_family = AF_UNIX;
	strcpy(ud.sun_path, "/tmp/listener.sock");
	n = pp_build(1, (void *)&us, sizeof(sa_family_t), (void *)&ud,
	    sizeof ud, out);
	is_mem(out, n, "PROXY UNKNOWN\r\n", 15, "v1: unix goes as UNKNOWN");
	n = pp_build(2, (void *)&us, sizeof(sa_family_t), (void *)&ud,
	    sizeof ud, out);
	ok(n == 16 + 216 && out[13] == 0x31 && pp_parse(out, n, &h, cause,
	    sizeof cause) == 0, "v2: unix as UNIX, 216 address bytes");
	is_str(show(&h.dst), "unix /tmp/listener.sock", "v2 UNIX destination");
	n = pp_build(2, NULL, 0, NULL, 0, out);
	ok(n == 16 && out[13] == 0x00 && pp_parse(out, n, &h, cause,
	    sizeof cause) == 0 && h.local, "v2 with no address: UNSPEC");
}

int
main(void)
{
	test_v1();
	test_v2();
	test_build();
	return (tap_done());
}
