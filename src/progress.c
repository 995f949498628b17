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

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "monotime.h"
#include "progress.h"
#include "xmalloc.h"

/*
 * pv's line, per direction: "> 1.50 MiB 0:00:05 [307 KiB/s]", and with
 * a known size " [=====>     ]  45% ETA 0:00:06". On a terminal the
 * lines rewrite themselves (\r, and cursor-up for the second); with
 * --progress=always elsewhere each update is plain lines. The final
 * summary gives the average rate and, with a known size, the bar and
 * percentage without an ETA.
 */

#define PROGRESS_BAR	20	/* the bar's width inside its brackets */
#define PROGRESS_LINE	160

struct progress_dir {
	const char		*label;		/* ">" sent, "<" received */
	long long		 size;		/* -1: unknown */
	unsigned long long	 last;		/* bytes at the last update */
};

struct progress {
	struct event		*timer;
	int			 tty;		/* rewrite in place */
	int			 drawn;		/* the lines are on screen */
	struct progress_dir	 dir[2];
	int			 ndirs;
	int			 sent_index;	/* dir[] of the sent side, or -1 */
	double			 started;
	double			 last;		/* time of the last update */
	progress_count_cb	 count;
	void			*arg;
};

/* Binary units, three significant digits as pv shows them. */
static void
progress_bytes(double v, const char *suffix, char *buf, size_t len)
{
	static const char	*units[] = { "KiB", "MiB", "GiB", "TiB" };
	size_t			 i = 0;

	if (v < 1024) {		/* a count, or a slow rate: 0.5 B/s */
		snprintf(buf, len, v < 10 && v != (int)v ? "%.1f B%s" :
		    "%.0f B%s", v, suffix);
		return;
	}
	v /= 1024;
	while (v >= 1024 && i < sizeof units / sizeof units[0] - 1) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, v < 10 ? "%.2f %s%s" : v < 100 ? "%.1f %s%s" :
	    "%.0f %s%s", v, units[i], suffix);
}

static void
progress_time(double secs, char *buf, size_t len)
{
	/* Rounded: a 1 s timer may fire a hair early. */
	unsigned long	t = secs > 0 ? (unsigned long)(secs + 0.5) : 0;

	snprintf(buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
}

/* " [====>    ]  45% ETA 0:00:06", for a known size. */
static void
progress_bar(long long size, unsigned long long bytes, double avg,
    int final, char *buf, size_t len)
{
	char		bar[PROGRESS_BAR + 1], eta[32] = "";
	double		frac = size > 0 ? (double)bytes / size : 1.0;
	int		i, fill;

	if (frac > 1.0)
		frac = 1.0;
	fill = (int)(frac * PROGRESS_BAR);
	for (i = 0; i < PROGRESS_BAR; i++)
		bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
	bar[PROGRESS_BAR] = '\0';
	if (!final && avg > 0 && frac < 1.0) {
		memcpy(eta, " ETA ", 6);
		progress_time((size - (double)bytes) / avg, eta + 5,
		    sizeof eta - 5);
	}
	snprintf(buf, len, " [%s] %3d%%%s", bar, (int)(frac * 100), eta);
}

static void
progress_line(struct progress *p, struct progress_dir *d,
    unsigned long long bytes, double now, int final, char *buf, size_t len)
{
	char	 total[32], elapsed[32], rate[32], bar[64] = "";
	double	 secs = now - p->started, span = now - p->last;
	double	 avg = secs > 0 ? bytes / secs : 0;
	double	 r = final ? avg : span > 0 ? (bytes - d->last) / span : 0;

	progress_bytes((double)bytes, "", total, sizeof total);
	progress_time(secs, elapsed, sizeof elapsed);
	progress_bytes(r, "/s", rate, sizeof rate);
	if (d->size >= 0)
		progress_bar(d->size, bytes, avg, final, bar, sizeof bar);
	snprintf(buf, len, "%s %s %s [%s]%s", d->label, total, elapsed, rate,
	    bar);
	d->last = bytes;
}

/* One update: every line, in place on a terminal, else appended. */
static void
progress_draw(struct progress *p, int final)
{
	char			 out[2 * PROGRESS_LINE + 32], line[PROGRESS_LINE];
	unsigned long long	 sent = 0, received = 0, n;
	double			 now = monotime_secs();
	size_t			 off = 0;
	int			 i;

	p->count(p->arg, &sent, &received);
	out[0] = '\0';
	/* Back to the start of the first line: \r, then up a line. */
	if (p->tty && p->drawn)
		off += snprintf(out, sizeof out, "\r%s", p->ndirs > 1 ?
		    "\033[A" : "");
	for (i = 0; i < p->ndirs; i++) {
		n = i == p->sent_index ? sent : received;
		progress_line(p, &p->dir[i], n, now, final, line, sizeof line);
		off += snprintf(out + off, sizeof out - off, "%s%s%s", line,
		    p->tty ? "\033[K" : "",
		    i < p->ndirs - 1 || !p->tty || final ? "\n" : "");
		if (off >= sizeof out)
			off = sizeof out - 1;
	}
	p->last = now;
	p->drawn = 1;
	fputs(out, stderr);
	fflush(stderr);
}

static void
progress_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	progress_draw(arg, 0);
}

int
progress_mode(const char *value)
{
	if (value == NULL)
		return (0);
	if (strcmp(value, "always") == 0)
		return (1);
	return (-1);
}

struct progress *
progress_start(struct event_base *base, int mode, int dirs, long long size,
    progress_count_cb count, void *arg)
{
	struct progress	*p;
	struct timeval	 tv = { 1, 0 };
	int		 tty = isatty(STDERR_FILENO);

	if (!tty && mode != 1)
		return (NULL);
	p = xcalloc(1, sizeof *p);
	p->tty = tty;
	p->sent_index = -1;
	if (dirs & PROGRESS_SENT) {
		p->sent_index = p->ndirs;
		p->dir[p->ndirs].label = ">";
		p->dir[p->ndirs++].size = size;
	}
	if (dirs & PROGRESS_RECEIVED) {
		p->dir[p->ndirs].label = "<";
		p->dir[p->ndirs++].size = -1;
	}
	p->count = count;
	p->arg = arg;
	p->started = p->last = monotime_secs();
	p->timer = event_new(base, -1, EV_PERSIST, progress_timer_cb, p);
	if (p->timer != NULL)
		event_add(p->timer, &tv);
	return (p);
}

void
progress_set_size(struct progress *p, long long size)
{
	if (p != NULL && p->sent_index >= 0)
		p->dir[p->sent_index].size = size;
}

void
progress_finish(struct progress *p)
{
	if (p == NULL)
		return;
	if (p->timer != NULL)
		event_free(p->timer);
	progress_draw(p, 1);
	free(p);
}

long long
progress_fd_size(int fd)
{
	struct stat	sb;
	off_t		pos;

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode))
		return (-1);
	if ((pos = lseek(fd, 0, SEEK_CUR)) == -1 || pos > sb.st_size)
		pos = 0;
	return ((long long)(sb.st_size - pos));
}
