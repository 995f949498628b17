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

/* config.h first: its _GNU_SOURCE shapes the headers. */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>


#include "error.h"
#include "monotime.h"
#include "stream.h"
#include "stream-int.h"
#include "xmalloc.h"

/*
 * The stream's own events: allocation, the ways a transport fails, the
 * idle and handshake timer, and the deferred work (stream_notify) that
 * tells the reader, the drain waiter, the close callback and the error
 * callback from the loop, never from inside the call that caused it.
 */

/*
 * A stream without buffers: an fd stream makes them on first use, so a
 * server's idle client holds none (what is left costs about 1 KiB a
 * client, bench/README "Idle").
 */
struct stream *
stream_alloc_bare(struct event_base *base, size_t limit)
{
	struct stream	*s;

	s = xcalloc(1, sizeof *s);
	s->base = base;
	s->limit = limit != 0 ? limit : STREAM_DEFAULT_LIMIT;
	s->rfd = s->wfd = -1;
	s->rflags = s->wflags = -1;
	s->whigh = STREAM_WRITE_HIGH;
	s->wlow = STREAM_WRITE_LOW;
	s->want = STREAM_READ_MIN;
	return (s);
}

/* ... and with its read buffer, which the TLS transport fills itself. */
struct stream *
stream_alloc(struct event_base *base, size_t limit)
{
	struct stream	*s;

	s = stream_alloc_bare(base, limit);
	if ((s->rbuf = evbuffer_new()) == NULL) {
		free(s);
		return (NULL);
	}
	return (s);
}

/* A failure reaches the drain waiter; -1 if that freed the stream. */
static int
stream_fail_drain(struct stream *s, const struct stream_error *err)
{
	stream_done_cb	 cb = s->drain_cb;
	void		*arg = s->drain_arg;

	if (cb == NULL)
		return (0);
	s->drain_cb = NULL;
	cb(s, err, arg);
	return (s->dead ? -1 : 0);
}

/* ... and the error callback, once. */
static void
stream_fail_errcb(struct stream *s, const struct stream_error *err)
{
	if (s->err_cb != NULL && !s->closing && !s->err_reported) {
		s->err_reported = 1;
		s->err_cb(s, err, s->err_arg);
	}
}

static void
stream_report_failure(struct stream *s)
{
	struct stream_error	err;

	if (s->exc != NULL)
		err = *s->exc;
	else
		err = stream_err_lost;
	/*
	 * Both sides fail, as asyncio's connection_lost(exc) does; the side
	 * that met the failure hears of it first.
	 */
	if (s->op.kind != OP_NONE && !s->wfailed)
		reader_dispatch(s);
	if (s->dead || stream_fail_drain(s, &err) != 0)
		return;
	if (s->op.kind != OP_NONE)
		reader_dispatch(s);
	if (!s->dead)
		stream_fail_errcb(s, &err);
}

/* The write side is lost: the drain waiter and the error callback hear. */
static void
stream_report_write_failure(struct stream *s)
{
	struct stream_error	err = *s->wexc;

	if (stream_fail_drain(s, &err) == 0)
		stream_fail_errcb(s, &err);
}

static void
stream_check_drain(struct stream *s)
{
	stream_done_cb	cb;
	void		*arg;

	if (s->drain_cb == NULL || stream_wlen(s) > stream_drain_low(s))
		return;
	cb = s->drain_cb;
	arg = s->drain_arg;
	s->drain_cb = NULL;
	cb(s, &stream_ok, arg);
}

void
stream_finish_close(struct stream *s)
{
	struct stream_error	err;
	stream_done_cb		cb = s->close_cb;
	void			*arg = s->close_arg;

	if (s->failed && s->exc != NULL)
		err = *s->exc;
	else
		err = stream_ok;
	/* The queue is empty: the transport's goodbye (TLS close_notify). */
	if (s->ops != NULL && s->ops->close != NULL)
		s->ops->close(s);
	stream_kill(s);
	if (cb != NULL)
		cb(s, &err, arg);
}

static void
stream_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream	*s = arg;
	int		 n;

	stream_hold(s);
	n = s->notify;
	s->notify = 0;
	if (n & NOTIFY_FAIL)
		stream_report_failure(s);
	if (!s->dead && (n & NOTIFY_WFAIL) && !s->failed)
		stream_report_write_failure(s);
	if (!s->dead && (n & NOTIFY_DRAIN))
		stream_check_drain(s);
	if (!s->dead && (n & NOTIFY_CLOSE) && s->closing &&
	    stream_wlen(s) == 0)
		stream_finish_close(s);
	stream_release(s);
}

void
stream_notify(struct stream *s, int what)
{
	if (s->dead || s->base == NULL)
		return;
	if (s->nev == NULL &&
	    (s->nev = event_new(s->base, -1, 0, stream_notify_cb, s)) == NULL)
		return;
	s->notify |= what;
	event_active(s->nev, EV_TIMEOUT, 1);
}

/* The transport is lost: every operation from now on reports err. */
void
transport_fail(struct stream *s, const struct stream_error *err)
{
	if (s->dead || s->failed)
		return;
	s->failed = 1;
	stream_store_exception(s, err);
	if (s->tev != NULL)
		event_del(s->tev);
	if (s->ops != NULL)
		s->ops->fail(s);
	if (s->xops != NULL)
		s->xops->failed(s);
	stream_reading_update(s);
	stream_notify(s, NOTIFY_FAIL|NOTIFY_CLOSE);
}

/*
 * Only the write side is lost (EPIPE, a reset met while writing a socket
 * we can still read): writes and drain report err from now on, what was
 * queued is dropped, the reader carries on until the transport itself
 * says EOF or fails.
 */
static void
transport_fail_write(struct stream *s, const struct stream_error *err)
{
	if (s->dead || s->failed || s->wexc != NULL)
		return;
	s->wfailed = 1;
	s->wexc = xmalloc(sizeof *s->wexc);
	*s->wexc = *err;
	if (s->wev_on) {
		event_del(s->wev);
		s->wev_on = 0;
	}
	if (s->wbuf != NULL)
		evbuffer_drain(s->wbuf, evbuffer_get_length(s->wbuf));
	if (s->xops != NULL)
		s->xops->write_failed(s);
	stream_notify(s, NOTIFY_WFAIL|NOTIFY_CLOSE);
}

/* "read from 127.0.0.1:80" or plain "read" when the peer has no name. */
void
stream_fail_errno(struct stream *s, const char *call, const char *prep,
    int error)
{
	struct stream_error	err;
	enum stream_errkind	kind;

	switch (error) {
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
	case ENOTCONN:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
		kind = STREAM_ERESET;
		break;
	default:
		kind = STREAM_ESYS;
		break;
	}
	if (s->peer != NULL && *s->peer != '\0')
		stream_error_set(&err, kind, error, "%s %s %s: %s", call, prep,
		    s->peer, strerror(error));
	else
		stream_error_set(&err, kind, error, "%s: %s", call,
		    strerror(error));
	if (!s->failed && strcmp(call, "write") == 0) {
		/*
		 * A peer that closed may still have sent bytes we have not
		 * read (a reply before its close): nc prints them, so the
		 * read side goes on to its own EOF or reset.
		 */
		if (s->ops->can_write_eof != NULL && s->rsock &&
		    s->rfd == s->wfd && !s->eof) {
			transport_fail_write(s, &err);
			return;
		}
		s->wfailed = 1;
	}
	transport_fail(s, &err);
}

void
stream_timer_arm(struct stream *s, uint64_t ms)
{
	struct timeval	tv;

	if (s->tev == NULL)
		return;
	monotime_tv((double)ms / 1000, &tv);
	evtimer_add(s->tev, &tv);
}

/*
 * One timer per stream. Idle: rather than re-adding it on every read and
 * write, each one notes the time and the timer, when it fires, re-arms
 * for what is left.
 */
static void
stream_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream		*s = arg;
	struct stream_error	 err;
	uint64_t		 since;

	stream_hold(s);
	if (s->handshaking) {
		stream_error_set(&err, STREAM_ETIMEOUT, ETIMEDOUT,
		    "tls handshake with %s: timed out", stream_label(s));
		s->ops->handshake_done(s, &err);
	} else if (s->idle_ms != 0 && !s->failed) {
		since = monotime_ms() - s->last_ms;
		if (since < s->idle_ms)
			stream_timer_arm(s, s->idle_ms - since);
		else {
			stream_error_set(&err, STREAM_ETIMEOUT, ETIMEDOUT,
			    "%s%sidle timeout (%.3g s without traffic)",
			    s->peer != NULL ? s->peer : "",
			    s->peer != NULL && *s->peer != '\0' ? ": " : "",
			    (double)s->idle_ms / 1000);
			transport_fail(s, &err);
		}
	}
	stream_release(s);
}

int
stream_new_timer(struct stream *s, double idle_timeout)
{
	/*
	 * A handshake needs the timer for its own bound; the idle count
	 * starts once it is over (the transport arms it then).
	 */
	s->idle_ms = stream_secs_ms(idle_timeout);
	if (s->idle_ms == 0 && !s->handshaking)
		return (0);
	if ((s->tev = evtimer_new(s->base, stream_timer_cb, s)) == NULL)
		return (-1);
	if (s->idle_ms != 0 && !s->handshaking) {
		stream_touch(s);
		stream_timer_arm(s, s->idle_ms);
	}
	return (0);
}

void
stream_set_error_cb(struct stream *s, stream_done_cb cb, void *arg)
{
	s->err_cb = cb;
	s->err_arg = arg;
	/* Lost before anyone asked: say so now (from the loop). */
	if (cb != NULL && s->failed && !s->err_reported)
		stream_notify(s, NOTIFY_FAIL);
}
