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

#ifndef PROXY_PROTOCOL_H
#define PROXY_PROTOCOL_H

/*
 * The PROXY protocol, haproxy's doc/proxy-protocol.txt: a header a
 * balancer sends before the payload, naming the client it accepted and
 * the address it accepted on. Version 1 is a text line, version 2 a
 * binary block. Pure functions over bytes: serve-forward.c builds the
 * header for --send-proxy, serve-proxy.c reads one for --accept-proxy.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

/* A v1 line is at most 107 bytes, CRLF included (the spec's bound). */
#define PP_V1_MAX	107
/* Fewest bytes that can decide: a v1 line "PROXY UNKNOWN\r\n" is 15. */
#define PP_MIN		15
/* The v2 fixed part: signature, version and command, family, length. */
#define PP_V2_FIXED	16
/* Room enough for any header we build (v2 with two unix paths). */
#define PP_BUILD_MAX	(PP_V2_FIXED + 216)

struct pp_header {
	int			 version;	/* 1 or 2 */
	/*
	 * No address to use: v2 LOCAL (a health check of the balancer
	 * itself), v1 UNKNOWN, v2 with an unspecified family. The
	 * connection's own addresses stand then.
	 */
	int			 local;
	struct sockaddr_storage	 src;		/* the client */
	socklen_t		 srclen;
	struct sockaddr_storage	 dst;		/* where it connected to */
	socklen_t		 dstlen;
	size_t			 len;		/* bytes the header took */
};

/*
 * Parse the header at the start of buf. Returns 0 with *h filled when a
 * whole header is there (h->len says where the payload starts); N > len
 * when at least N bytes are needed to decide; -1 with cause when the
 * bytes are not a valid header (strict: anything else is refused).
 */
ssize_t	pp_parse(const unsigned char *buf, size_t len, struct pp_header *h,
	    char *cause, size_t causelen);

/*
 * Build a header for a connection from src to dst: version 1 or 2. An
 * IPv4-mapped IPv6 address goes out as IPv4; unix sockets as v2 UNIX or
 * v1 UNKNOWN. Returns its length (at most PP_BUILD_MAX).
 */
size_t	pp_build(int version, const struct sockaddr *src, socklen_t srclen,
	    const struct sockaddr *dst, socklen_t dstlen, unsigned char *out);

#endif /* PROXY_PROTOCOL_H */
