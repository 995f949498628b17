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

#include "log.h"
#include "timing.h"
#include "log-stream.h"
#include "stream.h"

/*
 * The -v connected and closed events of a stream, above log.c: log.c is
 * a utility every layer (the net layer's connection attempts too) may
 * call, and these read the stream, so they live a floor up.
 */

/*
 * -v: the connection s is up. One helper for every command, so that
 * connect, http-head and serve print the same event.
 */
void
log_connected(struct stream *s)
{
	char	peer[128] = "", local[128] = "";

	if (!log_verbose() || s == NULL)
		return;
	stream_get_extra_info(s, "peername", peer, sizeof peer);
	stream_get_extra_info(s, "sockname", local, sizeof local);
	log_event("connected", "peer", peer, "local", local, (char *)NULL);
}

/*
 * -v: the connection s ends, with the bytes it wrote and read. A server
 * names the peer (NULL: no peer key, a client has only one).
 */
void
log_closed(struct stream *s, const char *peer)
{
	char	sent[32], received[32];

	if (!log_verbose() || s == NULL)
		return;
	snprintf(sent, sizeof sent, "%llu", stream_bytes_out(s));
	snprintf(received, sizeof received, "%llu", stream_bytes_in(s));
	if (peer != NULL)
		log_event("closed", "peer", peer, "sent", sent, "received",
		    received, (char *)NULL);
	else
		log_event("closed", "sent", sent, "received", received,
		    (char *)NULL);
}

/*
 * -v: what a TLS handshake agreed on: version, cipher and ALPN. A server
 * (peer not NULL) adds the client certificate's subject and SHA-256
 * fingerprint when the client sent one (verified: the handshake refuses
 * one that is not).
 */
void
log_tls(struct stream *s, const char *peer)
{
	char	version[32], cipher[64], alpn[256], subject[512], sha[80];

	if (!log_verbose() || s == NULL ||
	    stream_get_extra_info(s, "tls_version", version, sizeof version))
		return;
	stream_get_extra_info(s, "cipher", cipher, sizeof cipher);
	stream_get_extra_info(s, "alpn", alpn, sizeof alpn);
	if (peer == NULL) {
		log_event("tls", "version", version, "cipher", cipher, "alpn",
		    alpn, (char *)NULL);
		return;
	}
	if (stream_get_extra_info(s, "peercert", subject, sizeof subject) != 0 ||
	    stream_get_extra_info(s, "peercert_sha256", sha, sizeof sha) != 0) {
		log_event("tls", "peer", peer, "version", version, "cipher",
		    cipher, "alpn", alpn, (char *)NULL);
		return;
	}
	log_event("tls", "peer", peer, "version", version, "cipher", cipher,
	    "alpn", alpn, "client_subject", subject, "client_sha256", sha,
	    (char *)NULL);
}

void
log_closed_timed(struct stream *s, const struct timings *t)
{
	char		 sent[32], received[32], v[TIMING_NPOINTS][32];
	const char	*kv[2 * TIMING_NPOINTS];
	size_t		 i, n = 0;

	if (!log_verbose() || s == NULL)
		return;
	if (!log_json_format()) {
		log_closed(s, NULL);
		timing_log(t, NULL);
		return;
	}
	for (i = 0; i < TIMING_NPOINTS; i++) {
		if (t->ms[i] < 0)
			continue;
		snprintf(v[i], sizeof v[i], "%.3f", t->ms[i]);
		kv[n++] = timing_key(i);
		kv[n++] = v[i];
	}
	while (n < 2 * TIMING_NPOINTS)
		kv[n++] = NULL;
	snprintf(sent, sizeof sent, "%llu", stream_bytes_out(s));
	snprintf(received, sizeof received, "%llu", stream_bytes_in(s));
	log_event("closed", "sent", sent, "received", received, kv[0], kv[1],
	    kv[2], kv[3], kv[4], kv[5], kv[6], kv[7], kv[8], kv[9],
	    (char *)NULL);
}
