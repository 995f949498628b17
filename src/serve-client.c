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

#include <stdlib.h>

#include <event2/event.h>

#include "log-stream.h"
#include "log.h"
#include "net.h"
#include "relay.h"
#include "serve.h"
#include "xmalloc.h"

/*
 * A client of serve, from accept to free: the list of clients, the -v
 * events of its end, and the flush of what is queued for it.
 */

/* A client accepted: on the list, logged. */
struct client *
client_new(struct serve *sv, struct stream *s, const struct pp_header *pp)
{
	struct client	*cl;
	char		 peer[128] = "";

	/*
	 * Every byte here is paid 10,000 times by a server holding 10,000
	 * idle clients: the address is as long as it is, the -x state only
	 * there with -x.
	 */
	cl = xcalloc(1, sizeof *cl);
	cl->sv = sv;
	cl->s = s;
	TAILQ_INIT(&cl->waiters);
	/*
	 * --accept-proxy: the client is the one the header names, for
	 * every event, --exec's environment and --send-proxy; LOCAL and
	 * UNKNOWN keep the connection's own address.
	 */
	if (pp != NULL && !pp->local) {
		cl->pp = xmalloc(sizeof *cl->pp);
		*cl->pp = *pp;
		net_format_addr((struct sockaddr *)&pp->src, pp->srclen, peer,
		    sizeof peer);
	} else
		stream_get_extra_info(s, "peername", peer, sizeof peer);
	cl->peer = xstrdup(peer);
	if (sv->hd != NULL) {
		cl->hdc = xcalloc(1, sizeof *cl->hdc);
		hexdump_conn_init(cl->hdc, sv->hd, cl->peer);
	}
	TAILQ_INSERT_TAIL(&sv->clients, cl, entry);
	sv->nclients++;
	log_event("accepted", "peer", cl->peer, (char *)NULL);
	return (cl);
}

/* Stopping ends the loop once every client is gone and flushed. */
void
serve_maybe_done(struct serve *sv)
{
	if (sv->stopping && sv->nclients == 0 && sv->nflushing == 0)
		event_base_loopbreak(sv->ctx->base);
}

void
serve_flushed_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct serve	*sv = arg;

	sv->nflushing--;
	serve_maybe_done(sv);
}

static void
client_free_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client	*cl = arg;
	struct serve	*sv = cl->sv;

	if (cl->pump != NULL)
		pump_free(cl->pump);
	if (cl->relay != NULL)
		relay_free(cl->relay);
	free(cl->hdc);
	free(cl->pp);
	free(cl->peer);
	free(cl);
	serve_maybe_done(sv);
}

/*
 * Close a client: flush what is queued for it (or drop it on error),
 * release every reader that waited on it. The memory goes from the event
 * loop, after the stream callback that got us here has returned.
 */
void
client_close(struct client *cl, int flush)
{
	struct serve	*sv = cl->sv;

	if (cl->closing)
		return;
	cl->closing = 1;
	if (cl->fwd == NULL)	/* a forwarded pair says more (serve-forward.c) */
		log_closed(cl->s, cl->peer);
	TAILQ_REMOVE(&sv->clients, cl, entry);
	sv->nclients--;
	serve_forget(cl);
	if (cl->linger != NULL) {
		event_free(cl->linger);
		cl->linger = NULL;
	}
	if (cl->pair != NULL)
		stream_abort(cl->pair);
	if (flush) {
		sv->nflushing++;
		stream_close(cl->s, serve_flushed_cb, sv);
	} else
		stream_abort(cl->s);
	cl->s = NULL;
	event_base_once(sv->ctx->base, -1, EV_TIMEOUT, client_free_cb, cl,
	    NULL);
}

/*
 * A client's end. Resets and idle timeouts are a client's business (-v
 * events); anything else is worth a warning, the server goes on.
 */
void
client_error(struct client *cl, const struct stream_error *err)
{
	switch (err->kind) {
	case STREAM_OK:
		break;
	case STREAM_ERESET:
		log_event("reset", "peer", cl->peer, "error", err->msg,
		    (char *)NULL);
		break;
	case STREAM_ETIMEOUT:
		log_event("timeout", "peer", cl->peer, (char *)NULL);
		break;
	default:
		log_warnx("%s: %s", cl->sv->ctx->entry->name, err->msg);
		break;
	}
	client_close(cl, err->kind == STREAM_OK);
}
