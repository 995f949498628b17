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

#ifndef LOG_STREAM_H
#define LOG_STREAM_H

/*
 * log-stream.c, on the wiring floor: a stream's -v connected and closed
 * events, written through log.c (which knows nothing of streams).
 */

struct stream;

void		 log_connected(struct stream *);
void		 log_closed(struct stream *, const char *peer);
/* The -v tls event: version, cipher, ALPN (a server names the peer). */
void		 log_tls(struct stream *, const char *peer);
/*
 * connect's closed event with its timings: in JSON the keys join the
 * event, in text they follow on a "timings" line of their own.
 */
struct timings;
void		 log_closed_timed(struct stream *, const struct timings *);

#endif /* LOG_STREAM_H */
