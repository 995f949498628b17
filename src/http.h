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


#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include "stream.h"

struct event_base;
struct proxy;
struct url;

/* http.c: a HEAD request, the response header block, JSON output. */
#define HTTP_MAX_INTERIM	16	/* 1xx blocks before the final one */

struct http_header {
	char		*line;		/* as printed: CR, trailing blanks gone */
	char		*name;
	char		*value;		/* without surrounding blanks */
};

struct tls_summary;

struct http_response {
	char		*status_line;	/* as printed */
	char		 version[9];	/* "HTTP/1.1" */
	int		 status;
	char		*reason;
	struct http_header *headers;
	size_t		 nheaders;
	size_t		 headerscap;	/* allocated, grown by doubling */
	/* The last header's line and value, for joining obs-fold in place. */
	size_t		 lastlinelen, lastlinecap;
	size_t		 lastvaluelen, lastvaluecap;
	size_t		 nlines;	/* lines fed so far, status line included */
	size_t		 size;		/* bytes of the block so far */
	size_t		 limit;		/* most bytes before the blank line */
	struct tls_summary *tls;	/* https: the handshake and chain */
};

enum http_parse {
	HTTP_PARSE_MORE,	/* need another line */
	HTTP_PARSE_DONE,	/* the blank line ended the block */
	HTTP_PARSE_ERROR,	/* malformed: not HTTP, bad header syntax */
	HTTP_PARSE_LIMIT	/* the block is over limit bytes */
};

/* Build the request; -1 with *cause for a malformed -H header. */
int		 http_request(const struct url *, int http10,
		     char *const *headers, size_t nheaders, int same_origin,
		     char **out, size_t *outlen, const char **cause);
struct http_response *http_response_new(size_t limit);
void		 http_response_free(struct http_response *);
/* Feed one line with its \n (bare LF accepted) or \r\n. */
enum http_parse	 http_response_line(struct http_response *, const char *,
		     size_t, char *cause, size_t causelen);
const char	*http_header_get(const struct http_response *, const char *);
/*
 * One JSON object, no newline: {"url":..,"version":..,"headers":[..]},
 * and "tls":{..} (tls-cert.c's summary, at now) over https.
 */
char		*http_json(const struct http_response *, const char *url);
/* Bytes made printable for messages (\xHH), cut with "..." to fit. */
void		 http_quote(const char *, size_t, char *, size_t);

/*
 * One HEAD exchange over a stream: connect (through proxy unless NULL;
 * TLS if opts->tls_ctx), send
 * the request, read each header block through its blank line without
 * waiting for EOF. cb runs once per block with the response (the callee
 * owns it); the block is final unless its status is 1xx (not 101). On a
 * failure cb runs once with resp NULL: malformed set for a response that
 * is not HTTP or ends early (exit 8), else err is the stream's error.
 * The last call comes after the stream is closed.
 */
struct http_failure {
	int			 malformed;
	struct stream_error	 err;
};
typedef void	(*http_response_cb)(struct http_response *,
		    const struct http_failure *, void *);
void		 http_head(struct event_base *, const struct url *,
		     const char *request, size_t requestlen,
		     const struct stream_opts *, const struct proxy *,
		     http_response_cb, void *);

#endif /* HTTP_H */
