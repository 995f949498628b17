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

#ifndef MONOTIME_H
#define MONOTIME_H

/*
 * The one clock of every timeout budget: CLOCK_MONOTONIC, which a step
 * of the wall clock (NTP, date -s) does not move; and the one way
 * seconds become the struct timeval of a libevent timer. A utility:
 * every layer may call it.
 */

#include <sys/time.h>

#include <stdint.h>

/* Milliseconds since an arbitrary start, never going back. */
uint64_t	 monotime_ms(void);
/* The same in seconds, with a fraction (--progress's rates). */
double		 monotime_secs(void);
/* secs (< 0 taken as 0) as a timeval for evtimer_add. */
void		 monotime_tv(double secs, struct timeval *);

#endif /* MONOTIME_H */
