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

#ifndef TIMING_H
#define TIMING_H

#include <stddef.h>

/*
 * Timings of a connection, curl -w's time_namelookup, time_connect,
 * time_appconnect, time_starttransfer and time_total: milliseconds since
 * the command started (CLOCK_MONOTONIC). A utility below every layer, as
 * log.h: the net layer marks when resolution and the TCP connect
 * finished, the stream layer when the TLS handshake did, so the command
 * reads the last connection's marks without reaching down for them.
 */
enum timing_point {
	TIMING_DNS,		/* dns_ms: names resolved (or none needed) */
	TIMING_CONNECT,		/* connect_ms: the TCP (or unix) connect */
	TIMING_TLS,		/* tls_ms: the TLS handshake; absent without */
	TIMING_FIRST_BYTE,	/* first_byte_ms: the first byte received */
	TIMING_TOTAL,		/* total_ms */
	TIMING_NPOINTS
};

struct timings {
	double		 ms[TIMING_NPOINTS];	/* < 0: absent */
};

/* "dns_ms" ... "total_ms". */
const char	*timing_key(size_t);
/* The command's start: main() calls it first. */
void		 timing_init(void);
/* Milliseconds since timing_init. */
double		 timing_now_ms(void);
/* The process-wide marks of the connection under way. */
void		 timing_mark(enum timing_point);
void		 timing_set(enum timing_point, double ms);
void		 timing_reset(void);
/* The marks so far, total_ms now, first_byte_ms if given (>= 0). */
void		 timing_get(struct timings *, double first_byte_ms);
void		 timing_clear(struct timings *);
/* ",\"dns_ms\":1.234,..." for a JSON object: the keys present only. */
void		 timing_json(const struct timings *, char *, size_t);
/* The -v event "timings" with the same keys (numbers in JSON), url first. */
void		 timing_log(const struct timings *, const char *url);

#endif /* TIMING_H */
