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

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "timing.h"

/*
 * Connection timings for --json, -v and --wait (doc/cli.md, "Timings").
 * The marks are process-wide: a command has one connection under way at
 * a time (a --wait retry or an -L redirect starts again with
 * timing_reset), so the last connection's marks are the ones reported.
 */

static const char *timing_keys[TIMING_NPOINTS] = {
	"dns_ms", "connect_ms", "tls_ms", "first_byte_ms", "total_ms"
};

static struct timespec	timing_start;
static double		timing_marks[TIMING_NPOINTS] = { -1, -1, -1, -1, -1 };

const char *
timing_key(size_t i)
{
	return (i < TIMING_NPOINTS ? timing_keys[i] : NULL);
}

void
timing_init(void)
{
	clock_gettime(CLOCK_MONOTONIC, &timing_start);
}

double
timing_now_ms(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((double)(now.tv_sec - timing_start.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - timing_start.tv_nsec) / 1e6);
}

void
timing_mark(enum timing_point p)
{
	if (p < TIMING_NPOINTS)
		timing_marks[p] = timing_now_ms();
}

void
timing_set(enum timing_point p, double ms)
{
	if (p < TIMING_NPOINTS)
		timing_marks[p] = ms;
}

void
timing_reset(void)
{
	size_t	i;

	for (i = 0; i < TIMING_NPOINTS; i++)
		timing_marks[i] = -1;
}

void
timing_clear(struct timings *t)
{
	size_t	i;

	for (i = 0; i < TIMING_NPOINTS; i++)
		t->ms[i] = -1;
}

/*
 * The marks, in order: a later point never reads earlier than the one
 * before it. A mark may be missing: a unix connect resolves nothing, and
 * its dns_ms is the connect's start, taken as the end of no resolution.
 */
void
timing_get(struct timings *t, double first_byte_ms)
{
	double	prev = -1;
	size_t	i;

	memcpy(t->ms, timing_marks, sizeof t->ms);
	if (first_byte_ms >= 0)
		t->ms[TIMING_FIRST_BYTE] = first_byte_ms;
	t->ms[TIMING_TOTAL] = timing_now_ms();
	for (i = 0; i < TIMING_NPOINTS; i++) {
		if (t->ms[i] < 0)
			continue;
		if (t->ms[i] < prev)
			t->ms[i] = prev;
		prev = t->ms[i];
	}
}

void
timing_json(const struct timings *t, char *buf, size_t len)
{
	size_t	i, off = 0;
	int	n;

	if (len > 0)
		*buf = '\0';
	for (i = 0; i < TIMING_NPOINTS; i++) {
		if (t->ms[i] < 0 || off >= len)
			continue;
		n = snprintf(buf + off, len - off, ",\"%s\":%.3f",
		    timing_keys[i], t->ms[i]);
		if (n > 0)
			off += (size_t)n;
	}
}

void
timing_log(const struct timings *t, const char *target)
{
	char		 v[TIMING_NPOINTS][32];
	const char	*kv[2 * TIMING_NPOINTS + 2];
	size_t		 i, n = 0;

	if (!log_verbose())
		return;
	if (target != NULL) {
		kv[n++] = "url";
		kv[n++] = target;
	}
	for (i = 0; i < TIMING_NPOINTS; i++) {
		if (t->ms[i] < 0)
			continue;
		snprintf(v[i], sizeof v[i], "%.3f", t->ms[i]);
		kv[n++] = timing_keys[i];
		kv[n++] = v[i];
	}
	while (n < 2 * TIMING_NPOINTS + 2)
		kv[n++] = NULL;
	log_event("timings", kv[0], kv[1], kv[2], kv[3], kv[4], kv[5], kv[6],
	    kv[7], kv[8], kv[9], kv[10], kv[11], (char *)NULL);
}
