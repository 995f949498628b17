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


#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "serve.h"
#include "xmalloc.h"

/*
 * One read of a client: the high-water mark. Each chunk read is pinned in
 * memory until every other client has sent it, so it is kept small.
 */
#define FANOUT_CHUNK	STREAM_WRITE_HIGH

/*
 * The fan-out of serve -k and serve --broker: with -k, stdin goes to every
 * client and every client to stdout; with --broker, every client goes to
 * every other. A writer over its high-water mark holds up each reader that
 * fed it until it drains.
 */

/* Resume a reader once nothing it wrote to is over its high-water mark. */
static void
waiter_resume(struct serve *sv, struct client *who)
{
	if (who == NULL) {
		if (--sv->stdin_blocked == 0)
			fanout_stdin_read(sv);
		return;
	}
	if (--who->blocked == 0 && !who->closing)
		fanout_client_read(who);
}

static void
waiters_wake(struct serve *sv, struct waiters *wl)
{
	struct waiter	*w;

	while ((w = TAILQ_FIRST(wl)) != NULL) {
		TAILQ_REMOVE(wl, w, entry);
		waiter_resume(sv, w->who);
		free(w);
	}
}

/* Forget a closing client's place in a queue it waits in. */
static void
waiters_forget(struct waiters *wl, struct client *who)
{
	struct waiter	*w, *next;

	for (w = TAILQ_FIRST(wl); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->who == who) {
			TAILQ_REMOVE(wl, w, entry);
			free(w);
		}
	}
}

/*
 * A client goes (it is already off the client list): it waits for nobody,
 * and every reader that waited on it resumes.
 */
void
fanout_forget(struct client *cl)
{
	struct serve	*sv = cl->sv;
	struct client	*o;

	waiters_forget(&sv->io_waiters, cl);
	TAILQ_FOREACH(o, &sv->clients, entry)
		waiters_forget(&o->waiters, cl);
	cl->blocked = 0;
	waiters_wake(sv, &cl->waiters);
}

static void
client_drained_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct client	*cl = arg;

	cl->draining = 0;
	waiters_wake(cl->sv, &cl->waiters);
}

static void
io_drained_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct serve	*sv = arg;

	sv->io_draining = 0;
	if (err->kind != STREAM_OK) {
		serve_stop(sv, err);
		return;
	}
	waiters_wake(sv, &sv->io_waiters);
}

/* who (a client, or NULL for stdin) waits until target drains. */
static void
wait_on(struct serve *sv, struct client *target, struct client *who)
{
	struct waiter	*w = xcalloc(1, sizeof *w);

	w->who = who;
	if (who == NULL)
		sv->stdin_blocked++;
	else
		who->blocked++;
	if (target == NULL) {
		TAILQ_INSERT_TAIL(&sv->io_waiters, w, entry);
		if (!sv->io_draining) {
			sv->io_draining = 1;
			stream_drain(sv->io, io_drained_cb, sv);
		}
		return;
	}
	TAILQ_INSERT_TAIL(&target->waiters, w, entry);
	if (!target->draining) {
		target->draining = 1;
		stream_drain(target->s, client_drained_cb, target);
	}
}

/*
 * Send data to every client but from (NULL: stdin, to all of them), and
 * make from wait for each one left over its high-water mark. The bytes
 * are not copied per client: each client's writer gets a reference to
 * the same refcounted chunk (libevent's multicast chains), freed when the
 * last of them has written it. So N clients cost one copy of a chunk, not
 * N - 1.
 */
static void
fanout_broadcast(struct serve *sv, struct evbuffer *data, struct client *from)
{
	struct evbuffer	*ref = evbuffer_new();
	struct client	*o;
	int		 rc;

	/*
	 * A reference costs a small chain per chain referenced, and a read
	 * may come in several: make the chunk one chain first, one copy of
	 * it for all the clients.
	 */
	evbuffer_pullup(data, -1);
	TAILQ_FOREACH(o, &sv->clients, entry) {
		if (o == from || o->closing)
			continue;
		/* Out of memory for a reference: a plain copy will do. */
		if (ref != NULL && evbuffer_add_buffer_reference(ref, data) == 0)
			rc = stream_write_buffer(o->s, ref);
		else
			rc = stream_write(o->s, evbuffer_pullup(data, -1),
			    evbuffer_get_length(data));
		if (ref != NULL)
			evbuffer_drain(ref, evbuffer_get_length(ref));
		if (rc == 0 &&
		    stream_write_paused(o->s))
			wait_on(sv, o, from);
	}
	if (ref != NULL)
		evbuffer_free(ref);
}

/*
 * --broker: a client reads only while no other client is over its
 * high-water mark, as a relay reads only while its writer has room; else
 * it waits for that one to drain. Without this, every client would read
 * its first chunk into the queues of all the others before anyone
 * paused.
 */
static int
fanout_hold(struct serve *sv, struct client *cl)
{
	struct client	*o;

	if (sv->mode != MODE_BROKER)
		return (0);
	TAILQ_FOREACH(o, &sv->clients, entry) {
		if (o == cl || o->closing)
			continue;
		if (stream_write_paused(o->s)) {
			wait_on(sv, o, cl);
			return (1);
		}
	}
	return (0);
}

/*
 * -k: a client that half-closed keeps its slot until stdin ends, since it
 * may still want stdin. TCP does not tell a half-close from a full close
 * (both leave our socket in CLOSE_WAIT, readable at EOF, SO_ERROR 0), so
 * a peer that left with a FIN cannot be noticed without writing to it.
 * A peer that left with a reset can: the socket then reports POLLHUP or
 * POLLERR to a poll for no events. Every FANOUT_PRUNE_SECONDS, such
 * clients are closed and their slots freed.
 */
#define FANOUT_PRUNE_SECONDS	1

static void
fanout_prune_cb(evutil_socket_t fd, short events, void *arg)
{
	struct serve		*sv = arg;
	struct client		*cl, *next;
	struct pollfd		 pfd;
	struct stream_error	 err;
	struct timeval		 tv = { FANOUT_PRUNE_SECONDS, 0 };
	socklen_t		 len;
	int			 waiting = 0, error;

	for (cl = TAILQ_FIRST(&sv->clients); cl != NULL; cl = next) {
		next = TAILQ_NEXT(cl, entry);
		if (!cl->read_eof || cl->closing)
			continue;
		pfd.fd = stream_fd(cl->s);
		pfd.events = 0;
		pfd.revents = 0;
		if (pfd.fd == -1 || poll(&pfd, 1, 0) != 1 ||
		    (pfd.revents & (POLLHUP | POLLERR)) == 0) {
			waiting = 1;
			continue;
		}
		/* SO_ERROR may say EPIPE (we shut down nothing): it was a reset. */
		error = 0;
		len = sizeof error;
		(void)getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &error, &len);
		stream_error_set(&err, STREAM_ERESET, error != 0 ? error :
		    ECONNRESET, "%s: %s", cl->peer, strerror(ECONNRESET));
		client_error(cl, &err);
	}
	if (waiting)
		evtimer_add(sv->ev_prune, &tv);
}

/* A -k client half-closed: watch it for a reset while it waits. */
static void
fanout_prune_start(struct serve *sv)
{
	struct timeval	tv = { FANOUT_PRUNE_SECONDS, 0 };

	if (sv->ev_prune == NULL)
		sv->ev_prune = evtimer_new(sv->ctx->base, fanout_prune_cb, sv);
	if (sv->ev_prune != NULL && !evtimer_pending(sv->ev_prune, NULL))
		evtimer_add(sv->ev_prune, &tv);
}

/* Copy data to every other client (broker) or to stdout (keep-open). */
static void
client_fan_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct client	*cl = arg;
	struct serve	*sv = cl->sv;

	if (err->kind != STREAM_OK) {
		client_error(cl, err);
		return;
	}
	/*
	 * -k treats each client as a relay with the shared stdin: a client
	 * that half-closed still gets stdin until its end, then goes.
	 */
	if (evbuffer_get_length(data) == 0) {
		if (sv->mode == MODE_KEEP_OPEN && !sv->stdin_done) {
			cl->read_eof = 1;
			fanout_prune_start(sv);
		} else
			client_close(cl, 1);
		return;
	}
	if (sv->mode == MODE_KEEP_OPEN) {
		if (stream_write_buffer(sv->io, data) == -1) {
			serve_stop(sv, stream_exception(sv->io));
			return;
		}
		if (stream_write_paused(sv->io))
			wait_on(sv, NULL, cl);
	} else
		fanout_broadcast(sv, data, cl);
	if (cl->blocked == 0)
		fanout_client_read(cl);
}

void
fanout_client_read(struct client *cl)
{
	if (fanout_hold(cl->sv, cl))
		return;
	stream_read(cl->s, FANOUT_CHUNK, client_fan_cb, cl);
}

/* -k: stdin's end half-closes every client; those done reading go. */
static void
stdin_eof(struct serve *sv)
{
	struct client	*cl, *next;

	sv->stdin_done = 1;
	for (cl = TAILQ_FIRST(&sv->clients); cl != NULL; cl = next) {
		next = TAILQ_NEXT(cl, entry);
		if (cl->read_eof)
			client_close(cl, 1);
		else if (stream_write_eof(cl->s) == -1)
			client_error(cl, stream_exception(cl->s));
	}
}

/*
 * --keep-open: stdin goes to every client. It is read only while some
 * client is there to receive it, so nothing typed is lost to nobody.
 */
static void
stdin_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct serve	*sv = arg;

	sv->stdin_blocked--;	/* the read itself held one count */
	if (err->kind != STREAM_OK) {
		serve_stop(sv, err);
		return;
	}
	if (evbuffer_get_length(data) == 0) {
		stdin_eof(sv);
		return;
	}
	fanout_broadcast(sv, data, NULL);
	fanout_stdin_read(sv);
}

void
fanout_stdin_read(struct serve *sv)
{
	if (sv->stdin_done || sv->stdin_blocked > 0 || sv->nclients == 0 ||
	    sv->stopping)
		return;
	sv->stdin_blocked++;	/* one read at a time */
	stream_read(sv->io, SERVE_CHUNK, stdin_cb, sv);
}
