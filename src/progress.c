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

#include <sys/ioctl.h>
#include <sys/stat.h>

#include <signal.h>
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
 * lines rewrite themselves (\r, and cursor-up for the second), cut to
 * the window's width (read again on SIGWINCH) so that none wraps; with
 * --progress=always elsewhere, or on a terminal whose TERM is "dumb",
 * each update is plain lines. A direction shows once it has carried a
 * byte (no "< 0 B" noise), so the lines only ever grow in number. The
 * final summary gives the average rate and, with a known size, the bar
 * and percentage without an ETA.
 */

#define PROGRESS_BAR	20	/* the bar's width inside its brackets */
#define PROGRESS_LINE	160

struct progress_dir {
	const char		*label;		/* ">" sent, "<" received */
	long long		 size;		/* -1: unknown */
	unsigned long long	 last;		/* bytes at the last update */
	int			 shown;		/* has carried a byte */
};

struct progress {
	struct event		*timer;
	struct event		*winch;		/* SIGWINCH: the width changed */
	int			 tty;		/* rewrite in place */
	int			 cols;		/* the terminal's width, 0: unknown */
	int			 drawn;		/* lines on screen, to go back over */
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

/* The terminal's width, 0 when it cannot say (a pty never sized). */
static int
progress_cols(void)
{
	struct winsize	ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == -1)
		return (0);
	return (ws.ws_col);
}

/*
 * The directions to draw: those that carried a byte. At the end, when
 * none did, the first one, so that the summary says "0 B" once.
 */
static int
progress_pick(struct progress *p, unsigned long long *counts, int final)
{
	int	i, n = 0;

	for (i = 0; i < p->ndirs; i++) {
		if (counts[i] > 0)
			p->dir[i].shown = 1;
		n += p->dir[i].shown;
	}
	if (n == 0 && final) {
		p->dir[0].shown = 1;
		n = 1;
	}
	return (n);
}

/* One update: every line, in place on a terminal, else appended. */
static void
progress_draw(struct progress *p, int final)
{
	char			 out[2 * PROGRESS_LINE + 32], line[PROGRESS_LINE];
	unsigned long long	 sent = 0, received = 0, counts[2];
	double			 now = monotime_secs();
	size_t			 off = 0;
	int			 i, n, k = 0;

	p->count(p->arg, &sent, &received);
	for (i = 0; i < p->ndirs; i++)
		counts[i] = i == p->sent_index ? sent : received;
	if ((n = progress_pick(p, counts, final)) == 0)
		return;		/* nothing has moved yet: nothing to say */
	out[0] = '\0';
	/* Back to the start of the first line: \r, then up the others. */
	if (p->tty && p->drawn > 0)
		off += snprintf(out, sizeof out, "\r%s", p->drawn > 1 ?
		    "\033[A" : "");
	for (i = 0; i < p->ndirs; i++) {
		if (!p->dir[i].shown)
			continue;
		progress_line(p, &p->dir[i], counts[i], now, final, line,
		    sizeof line);
		/* One column spare: a full line would wrap on some. */
		if (p->tty && p->cols > 1 && strlen(line) >= (size_t)p->cols)
			line[p->cols - 1] = '\0';
		off += snprintf(out + off, sizeof out - off, "%s%s%s", line,
		    p->tty ? "\033[K" : "",
		    ++k < n || !p->tty || final ? "\n" : "");
		if (off >= sizeof out)
			off = sizeof out - 1;
	}
	p->last = now;
	p->drawn = n;
	fputs(out, stderr);
	fflush(stderr);
}

static void
progress_winch_cb(evutil_socket_t fd, short events, void *arg)
{
	struct progress	*p = arg;

	p->cols = progress_cols();
}

/*
 * Is there anything to show? Only on a terminal, unless mode is 1
 * (--progress=always).
 */
int
progress_visible(int mode)
{
	return (mode == 1 || isatty(STDERR_FILENO));
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
	const char	*term = getenv("TERM");
	int		 tty = isatty(STDERR_FILENO);

	if (!tty && mode != 1)
		return (NULL);
	p = xcalloc(1, sizeof *p);
	/* A dumb terminal moves no cursor: plain lines, as elsewhere. */
	p->tty = tty && (term == NULL || strcmp(term, "dumb") != 0);
	if (p->tty) {
		p->cols = progress_cols();
		p->winch = evsignal_new(base, SIGWINCH, progress_winch_cb, p);
		if (p->winch != NULL)
			event_add(p->winch, NULL);
	}
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
	if (p->winch != NULL)
		event_free(p->winch);
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
