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
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"
#include "serve.h"
#include "xmalloc.h"

/*
 * --accept-proxy: every client must begin with a PROXY protocol header
 * (proxy-protocol.c) within PP_DEADLINE seconds. Each read asks for at
 * most what the parser still needs, never a byte further, so what follows
 * the header is the payload the mode reads; bytes that cannot begin a
 * header are refused as soon as they come. A missing or invalid header
 * closes the client with one -v line and nothing delivered to the mode.
 */

#define PP_DEADLINE	3

struct pp_reader {
	struct serve		*sv;
	struct stream		*s;
	struct event		*timer;
	pp_accept_cb		 cb;
	unsigned char		*buf;
	size_t			 have;
	char			 peer[128];	/* the balancer, for the log */
	TAILQ_ENTRY(pp_reader)	 entry;
};

static void	pp_read_more(struct pp_reader *, size_t need);

static void
pp_reader_free(struct pp_reader *r)
{
	TAILQ_REMOVE(&r->sv->pp_readers, r, entry);
	event_free(r->timer);
	free(r->buf);
	free(r);
}

static void
pp_refuse(struct pp_reader *r, const char *why)
{
	log_event("proxy-header", "peer", r->peer, "error", why, (char *)NULL);
	stream_abort(r->s);
	pp_reader_free(r);
}

static void
pp_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	pp_refuse(arg, "no PROXY protocol header within 3 s");
}

static void
pp_read_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct pp_reader	*r = arg;
	struct pp_header	 h;
	struct serve		*sv = r->sv;
	pp_accept_cb		 cb = r->cb;
	size_t			 len = evbuffer_get_length(data);
	ssize_t			 need;
	char			 cause[128];

	if (err->kind != STREAM_OK) {
		pp_refuse(r, err->msg);
		return;
	}
	if (len == 0) {
		pp_refuse(r, "closed before a PROXY protocol header");
		return;
	}
	r->buf = xreallocarray(r->buf, r->have + len, 1);
	evbuffer_remove(data, r->buf + r->have, len);
	r->have += len;
	if ((need = pp_parse(r->buf, r->have, &h, cause, sizeof cause)) < 0) {
		pp_refuse(r, cause);
		return;
	}
	if (need > 0) {
		pp_read_more(r, (size_t)need);
		return;
	}
	/* The header is read: the client is the mode's from here. */
	pp_reader_free(r);
	cb(sv, s, &h);
}

static void
pp_read_more(struct pp_reader *r, size_t need)
{
	stream_read(r->s, (ssize_t)(need - r->have), pp_read_cb, r);
}

void
pp_accept_start(struct serve *sv, struct stream *s, pp_accept_cb cb)
{
	struct pp_reader	*r;
	struct timeval		 tv = { PP_DEADLINE, 0 };

	r = xcalloc(1, sizeof *r);
	r->sv = sv;
	r->s = s;
	r->cb = cb;
	stream_get_extra_info(s, "peername", r->peer, sizeof r->peer);
	r->timer = evtimer_new(sv->ctx->base, pp_timeout_cb, r);
	evtimer_add(r->timer, &tv);
	TAILQ_INSERT_TAIL(&sv->pp_readers, r, entry);
	pp_read_more(r, PP_MIN);
}

/* The server stops: clients still owing a header go. */
void
pp_accept_stop_all(struct serve *sv)
{
	struct pp_reader	*r;

	while ((r = TAILQ_FIRST(&sv->pp_readers)) != NULL) {
		stream_abort(r->s);
		pp_reader_free(r);
	}
}
