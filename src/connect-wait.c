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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "connect.h"
#include "connect-scan.h"
#include "log.h"
#include "net.h"
#include "parse.h"
#include "timing.h"
#include "xmalloc.h"

/*
 * --wait SEC (doc/cli.md, "Waiting"): the job of wait-for-it and
 * dockerize -wait. An attempt starts every second (WAIT_INTERVAL_MS, no
 * backing off: a dependency that comes up is seen within a second), each
 * bounded by --connect-timeout and by what is left of SEC, so the whole
 * wait never outlives SEC by more than a moment. On success the command
 * goes on as if it had connected at once; at the deadline it exits 4
 * naming what was not ready and the last error.
 */

#define WAIT_INTERVAL_MS	1000.0

struct conn_wait {
	double			 sec;		/* as given */
	const char		*arg;		/* the value, for the message */
	double			 deadline_ms;	/* timing.c's clock */
	double			 start_ms;	/* this attempt's */
	double			 timeout;	/* --connect-timeout, or 0 */
	unsigned int		 attempt;
	struct event		*ev;
	struct stream_error	 last;
	void			(*open)(struct conn *);
};

/* --wait SEC: 0 and *sec (0 without the option), or a usage error. */
int
wait_parse(struct cmd_ctx *ctx, double *sec)
{
	const char	*v = cmd_get(ctx, OPT_WAIT), *cause;

	*sec = 0;
	if (v == NULL)
		return (0);
	if (parse_seconds(v, sec, &cause) != 0)
		return (cmd_fail(ctx, EXIT_USAGE, "--wait %s: %s", v, cause));
	return (0);
}

/* Start one attempt, its connect timeout cut to what is left. */
static void
wait_attempt(struct conn *c)
{
	struct conn_wait	*w = c->wait;
	double			 left;

	w->start_ms = timing_now_ms();
	left = (w->deadline_ms - w->start_ms) / 1000;
	if (left < 0.001)
		left = 0.001;
	c->opts.connect_timeout = w->timeout > 0 && w->timeout < left ?
	    w->timeout : left;
	w->attempt++;
	timing_reset();
	w->open(c);
}

static void
wait_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn		*c = arg;
	struct conn_wait	*w = c->wait;

	if (timing_now_ms() >= w->deadline_ms - 1) {
		conn_fail(c, EXIT_TIMEOUT, "%s: not ready after %s s: %s",
		    c->target, w->arg, w->last.msg);
		return;
	}
	wait_attempt(c);
}

void
wait_start(struct conn *c, double sec, void (*open)(struct conn *))
{
	struct conn_wait	*w;

	if (sec <= 0) {
		open(c);
		return;
	}
	w = c->wait = xcalloc(1, sizeof *w);
	w->sec = sec;
	w->arg = cmd_get(c->ctx, OPT_WAIT);
	w->timeout = c->opts.connect_timeout;
	w->open = open;
	w->deadline_ms = timing_now_ms() + sec * 1000;
	w->ev = evtimer_new(c->ctx->base, wait_timer_cb, c);
	wait_attempt(c);
}

/* What is worth another attempt: anything but a TLS or protocol failure. */
static int
wait_retryable(const struct stream_error *err)
{
	return (err->kind != STREAM_ETLS && err->kind != STREAM_EPROTO);
}

/*
 * An attempt failed: 1 when the next one is scheduled (or the wait is
 * over and said so), 0 when the caller ends the command as without
 * --wait.
 */
int
wait_failed(struct conn *c, const struct stream_error *err)
{
	struct conn_wait	*w = c->wait;
	struct timeval		 tv;
	double			 now, next;
	long long		 us;
	char			 n[16];

	if (w == NULL || !wait_retryable(err))
		return (0);
	w->last = *err;
	snprintf(n, sizeof n, "%u", w->attempt);
	log_event("wait", "attempt", n, "error", err->msg, (char *)NULL);
	now = timing_now_ms();
	next = w->start_ms + WAIT_INTERVAL_MS;
	if (next > w->deadline_ms)
		next = w->deadline_ms;
	if (next < now)
		next = now;
	us = (long long)((next - now) * 1000);
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	evtimer_add(w->ev, &tv);
	return (1);
}

/* Connected: -v says after how long and how many attempts. */
void
wait_ready(struct conn *c)
{
	struct conn_wait	*w = c->wait;
	char			 n[16], ms[32];

	if (w == NULL)
		return;
	snprintf(n, sizeof n, "%u", w->attempt);
	snprintf(ms, sizeof ms, "%.3f", timing_now_ms());
	log_event("ready", "attempt", n, "elapsed_ms", ms, (char *)NULL);
	c->opts.connect_timeout = w->timeout;
}

void
wait_free(struct conn *c)
{
	if (c->wait == NULL)
		return;
	if (c->wait->ev != NULL)
		event_free(c->wait->ev);
	free(c->wait);
	c->wait = NULL;
}

/* HOST:PORT (brackets around an IPv6 literal), as every message writes it. */
static const char *
wait_hostport(const char *host, uint16_t port, char *buf, size_t len)
{
	char	p[8];

	snprintf(p, sizeof p, "%u", port);
	return (net_hostport(host, p, buf, len));
}

/* "HOST:PORT: error" for each port not open, on one line. */
static void
wait_scan_fail(struct cmd_ctx *ctx, const struct portscan_opts *o,
    const char *arg, const uint16_t *ports, size_t n)
{
	char	*msg = NULL, *next, hp[300];
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (o->record[i].state == PORTSCAN_ST_OPEN)
			continue;
		if (o->is_unix)
			xasprintf(&next, "%s%s%s: %s", msg ? msg : "",
			    msg ? ", " : "", o->host,
			    strerror(o->record[i].error));
		else
			xasprintf(&next, "%s%s%s: %s", msg ? msg : "",
			    msg ? ", " : "", wait_hostport(o->host, ports[i],
			    hp, sizeof hp), strerror(o->record[i].error));
		free(msg);
		msg = next;
	}
	cmd_fail(ctx, EXIT_TIMEOUT, "not ready after %s s: %s", arg,
	    msg != NULL ? msg : "");
	free(msg);
}

static void
wait_sleep_until(double ms)
{
	struct timespec	ts;
	long long	ns = (long long)((ms - timing_now_ms()) * 1e6);

	if (ns <= 0)
		return;
	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* One round over the ports not open yet; the open ones stay open. */
static int
wait_scan_round(struct cmd_ctx *ctx, struct portscan_opts *o,
    struct portscan_port *all, const uint16_t *ports, size_t n,
    uint16_t *left, size_t *where, struct portscan_port *rec)
{
	struct portscan_result	 r;
	struct stream_error	 err;
	size_t			 i, k = 0;
	char			 a[16], msg[600], hp[300];
	static unsigned int	 attempt;

	for (i = 0; i < n; i++) {
		if (all[i].state != PORTSCAN_ST_OPEN) {
			left[k] = ports[i];
			where[k++] = i;
		}
	}
	o->record = rec;
	if (portscan_run(ctx->base, o, left, k, &r, &err) != 0)
		return (cmd_fail_stream(ctx, &err));
	attempt++;
	for (i = 0; i < k; i++) {
		all[where[i]] = rec[i];
		if (rec[i].state == PORTSCAN_ST_OPEN)
			continue;
		snprintf(a, sizeof a, "%u", attempt);
		if (o->is_unix)
			snprintf(msg, sizeof msg, "%s: %s", o->host,
			    strerror(rec[i].error));
		else
			snprintf(msg, sizeof msg, "%s: %s", wait_hostport(
			    o->host, left[i], hp, sizeof hp),
			    strerror(rec[i].error));
		log_event("wait", "attempt", a, "error", msg, (char *)NULL);
	}
	return (0);
}

/*
 * connect -z --wait SEC HOST PORTS: rounds over the ports not open yet,
 * one a second, until every one is open (exit 0, each printed as
 * without --wait, its timings those of the attempt that found it open)
 * or SEC is over (exit 4, one line naming each port not open).
 */
int
wait_scan(struct cmd_ctx *ctx, struct portscan_opts *o, double sec,
    const uint16_t *ports, size_t n)
{
	struct portscan_port	*all, *rec;
	struct timings		 t;
	uint16_t		*left;
	size_t			*where, i, open;
	double			 deadline = timing_now_ms() + sec * 1000;
	double			 timeout = o->timeout, start, rest;
	int			 rc = 0;

	all = xcalloc(n, sizeof *all);
	rec = xcalloc(n, sizeof *rec);
	left = xcalloc(n, sizeof *left);
	where = xcalloc(n, sizeof *where);
	o->quiet = 1;
	for (;;) {
		start = timing_now_ms();
		rest = (deadline - start) / 1000;
		o->timeout = timeout < rest ? timeout : rest;
		if (o->timeout < 0.001)
			o->timeout = 0.001;
		if ((rc = wait_scan_round(ctx, o, all, ports, n, left, where,
		    rec)) != 0)
			break;
		for (i = open = 0; i < n; i++)
			open += all[i].state == PORTSCAN_ST_OPEN;
		if (open == n)
			break;
		if (start + WAIT_INTERVAL_MS >= deadline) {
			wait_sleep_until(deadline);
			o->record = all;
			wait_scan_fail(ctx, o, cmd_get(ctx, OPT_WAIT), ports,
			    n);
			rc = EXIT_TIMEOUT;
			break;
		}
		wait_sleep_until(start + WAIT_INTERVAL_MS);
	}
	o->quiet = 0;
	for (i = 0; rc == 0 && i < n; i++) {
		portscan_timings(&all[i], &t);
		portscan_print_timed(o, ports[i], PORTSCAN_ST_OPEN, &t);
	}
	fflush(stdout);
	free(all);
	free(rec);
	free(left);
	free(where);
	return (rc);
}
