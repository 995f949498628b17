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

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "compat.h"
#include "http.h"
#include "log-stream.h"
#include "log.h"
#include "monotime.h"
#include "proxy.h"
#include "timing.h"
#include "tls-cert.h"
#include "url.h"
#include "xmalloc.h"

/*
 * HTTP/1.x for http-head: the request, the response header block and its
 * JSON form, and the exchange over a stream.
 *
 * Reading the response. Each line is read with readuntil("\n"), so a line
 * ends at LF with or without a CR before it: RFC 9112 2.2 lets a recipient
 * accept a bare LF, and curl, nginx and Python's http.client all do. The
 * block is the status line and the header lines, terminators included; it
 * may be at most --limit bytes (the blank line that ends it not counted),
 * and no single line can be longer anyway since the stream reader has the
 * same limit. Nothing after the blank line is read: no waiting for EOF.
 *
 * Validation, strict where a lenient reading would print something the
 * server did not mean:
 * - the first five bytes must be "HTTP/", else it is not HTTP at all;
 * - status line: HTTP/D.D SP DDD [SP reason], status 100 to 599;
 * - a NUL byte, or a CR not followed by LF, anywhere: malformed
 *   (RFC 9110 5.5 lets a recipient reject these);
 * - a header line needs a colon and a field name made of token characters,
 *   with no blank before the colon (RFC 9112 5.1: a request smuggling
 *   vector, so it is refused here too);
 * - obs-fold (a line starting with SP or HT) continues the previous
 *   header: RFC 9112 5.2 tells a user agent to replace it with SP, so the
 *   continuation is joined to the previous line with one space;
 * - the EOF before the blank line is malformed too (exit 8).
 * Printed lines lose their CR and trailing blanks, as the asyncio
 * documentation's example (line.rstrip()) prints them; other bytes are
 * printed as received.
 */

static const char http_tchar[] = "!#$%&'*+-.^_`|~";

static int
http_is_tchar(int c)
{
	return (isalnum((unsigned char)c) || (c != '\0' &&
	    strchr(http_tchar, c) != NULL));
}

static int
http_is_blank(int c)
{
	return (c == ' ' || c == '\t');
}

static char *
http_strndup(const char *s, size_t len)
{
	char	*p;

	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

/* Take the contents of an evbuffer as a NUL-terminated string. */
static char *
http_buffer_string(struct evbuffer *b, size_t *lenp)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s;

	s = xmalloc(len + 1);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return (s);
}

static size_t
http_quote_len(unsigned char c)
{
	return ((c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') ? 1 : 4);
}

void
http_quote(const char *s, size_t len, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, o = 0, total = 0, room;
	unsigned char		 c;

	if (outlen == 0)
		return;
	for (i = 0; i < len; i++)
		total += http_quote_len(s[i]);
	/* All of it if it fits, else what fits before "...". */
	room = total < outlen ? total : outlen >= 4 ? outlen - 4 : 0;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (o + http_quote_len(c) > room)
			break;
		if (http_quote_len(c) == 1)
			out[o++] = c;
		else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (i < len && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Does name match one of a NULL-terminated list, case-insensitively? */
static int
http_name_in(const char *name, size_t len, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (strlen(*list) == len && strncasecmp(name, *list, len) == 0)
			return (1);
	}
	return (0);
}

/*
 * Check one -H header and find its parts: the name before the colon and
 * the value with its leading blanks skipped.
 */
static int
http_check_header(const char *h, size_t *namelen, const char **value,
    const char **cause)
{
	const char	*colon;
	size_t		 i;

	if ((colon = strchr(h, ':')) == NULL) {
		*cause = "has no colon (use 'Name: value')";
		return (-1);
	}
	if (colon == h) {
		*cause = "has an empty name";
		return (-1);
	}
	for (i = 0; h + i < colon; i++) {
		if (!http_is_tchar(h[i])) {
			*cause = "has an invalid character in its name";
			return (-1);
		}
	}
	if (strpbrk(colon, "\r\n") != NULL) {
		*cause = "contains a line break";
		return (-1);
	}
	*namelen = colon - h;
	for (colon++; http_is_blank(*colon); colon++)
		;
	*value = colon;
	return (0);
}

/* Was a default header replaced or removed by one of the -H headers? */
static int
http_overridden(const char *name, char *const *headers, size_t n)
{
	const char	*list[2] = { name, NULL };
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (http_name_in(headers[i], strcspn(headers[i], ":"), list))
			return (1);
	}
	return (0);
}

/*
 * HEAD target HTTP/1.1 with Host, User-Agent and Connection: close, or the
 * asyncio documentation's HTTP/1.0 form (Host only). A -H header with the
 * name of a default one replaces it, or removes it when its value is
 * empty (curl's rule). Across origins (a redirect to another scheme, host
 * or port) the -H credentials and Host are not sent, as curl does.
 */
int
http_request(const struct url *u, int http10, char *const *headers,
    size_t nheaders, int same_origin, char **out, size_t *outlen,
    const char **cause)
{
	static const char *const defaults[] = {
		"Host", "User-Agent", "Connection", NULL
	};
	static const char *const private[] = {
		"Authorization", "Cookie", "Host", "Proxy-Authorization", NULL
	};
	struct evbuffer	*b;
	const char	*value;
	char		*auth;
	size_t		 i, namelen;

	for (i = 0; i < nheaders; i++) {
		if (http_check_header(headers[i], &namelen, &value, cause) != 0)
			return (-1);
	}
	b = evbuffer_new();
	auth = url_authority(u);
	evbuffer_add_printf(b, "HEAD %s HTTP/1.%d\r\n", u->target,
	    http10 ? 0 : 1);
	if (!same_origin || !http_overridden("Host", headers, nheaders))
		evbuffer_add_printf(b, "Host: %s\r\n", auth);
	if (!http10 && !http_overridden("User-Agent", headers, nheaders))
		evbuffer_add_printf(b, "User-Agent: cstream/%s\r\n",
		    PACKAGE_VERSION);
	if (!http10 && !http_overridden("Connection", headers, nheaders))
		evbuffer_add_printf(b, "Connection: close\r\n");
	for (i = 0; i < nheaders; i++) {
		http_check_header(headers[i], &namelen, &value, cause);
		if (!same_origin && http_name_in(headers[i], namelen, private))
			continue;
		if (*value == '\0' &&
		    http_name_in(headers[i], namelen, defaults))
			continue;
		evbuffer_add_printf(b, "%.*s: %s\r\n", (int)namelen,
		    headers[i], value);
	}
	evbuffer_add(b, "\r\n", 2);
	free(auth);
	*out = http_buffer_string(b, outlen);
	evbuffer_free(b);
	return (0);
}

struct http_response *
http_response_new(size_t limit)
{
	struct http_response	*r;

	r = xcalloc(1, sizeof *r);
	r->limit = limit != 0 ? limit : STREAM_DEFAULT_LIMIT;
	return (r);
}

void
http_response_free(struct http_response *r)
{
	size_t	i;

	if (r == NULL)
		return;
	if (r->tls != NULL) {
		tls_summary_free(r->tls);
		free(r->tls);
	}
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].line);
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->status_line);
	free(r->reason);
	free(r);
}

/* HTTP/D.D SP DDD [SP reason]; line is already without CR LF. */
static int
http_parse_status(struct http_response *r, const char *line, size_t len,
    char *cause, size_t causelen)
{
	char	q[80];

	if (len < 12 || memcmp(line, "HTTP/", 5) != 0 ||
	    !isdigit((unsigned char)line[5]) || line[6] != '.' ||
	    !isdigit((unsigned char)line[7]) || line[8] != ' ' ||
	    line[9] < '1' || line[9] > '5' ||
	    !isdigit((unsigned char)line[10]) ||
	    !isdigit((unsigned char)line[11]) || (len > 12 && line[12] != ' ')) {
		http_quote(line, len, q, sizeof q);
		snprintf(cause, causelen, "malformed status line '%s'", q);
		return (-1);
	}
	memcpy(r->version, line, 8);
	r->version[8] = '\0';
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
	    (line[11] - '0');
	r->reason = len > 13 ? http_strndup(line + 13, len - 13) : xstrdup("");
	r->status_line = http_strndup(line, len);
	return (0);
}

/*
 * Append " " and len bytes to *sp, a string of *lenp bytes in *capp
 * allocated: the allocation doubles, so a header folded over 200000 lines
 * costs linear time, not the square of the lines.
 */
static void
http_append(char **sp, size_t *lenp, size_t *capp, int space,
    const char *add, size_t len)
{
	size_t	need = *lenp + (space ? 1 : 0) + len + 1;

	if (need > *capp) {
		*capp = *capp * 2 > need ? *capp * 2 : need;
		*sp = xreallocarray(*sp, *capp, 1);
	}
	if (space)
		(*sp)[(*lenp)++] = ' ';
	memcpy(*sp + *lenp, add, len);
	*lenp += len;
	(*sp)[*lenp] = '\0';
}

/* obs-fold: join the continuation to the previous header with one SP. */
static int
http_parse_fold(struct http_response *r, const char *line, size_t len,
    char *cause, size_t causelen)
{
	struct http_header	*h;

	if (r->nheaders == 0) {
		snprintf(cause, causelen, "line %zu: continuation line "
		    "(obs-fold) before any header", r->nlines);
		return (-1);
	}
	while (len > 0 && http_is_blank(*line)) {
		line++;
		len--;
	}
	if (len == 0)
		return (0);
	h = &r->headers[r->nheaders - 1];
	http_append(&h->value, &r->lastvaluelen, &r->lastvaluecap,
	    r->lastvaluelen != 0, line, len);
	http_append(&h->line, &r->lastlinelen, &r->lastlinecap, 1, line, len);
	return (0);
}

static int
http_parse_header(struct http_response *r, const char *line, size_t len,
    char *cause, size_t causelen)
{
	struct http_header	*h;
	const char		*colon, *v;
	size_t			 i, vlen;
	char			 q[80];

	if (http_is_blank(line[0]))
		return (http_parse_fold(r, line, len, cause, causelen));
	http_quote(line, len, q, sizeof q);
	if ((colon = memchr(line, ':', len)) == NULL) {
		snprintf(cause, causelen, "line %zu: header without a colon "
		    "'%s'", r->nlines, q);
		return (-1);
	}
	for (i = 0; line + i < colon; i++) {
		if (!http_is_tchar(line[i])) {
			snprintf(cause, causelen, "line %zu: invalid header "
			    "name '%s'", r->nlines, q);
			return (-1);
		}
	}
	if (colon == line) {
		snprintf(cause, causelen, "line %zu: empty header name '%s'",
		    r->nlines, q);
		return (-1);
	}
	v = colon + 1;
	vlen = len - (v - line);
	while (vlen > 0 && http_is_blank(*v)) {
		v++;
		vlen--;
	}
	if (r->nheaders == r->headerscap) {
		r->headerscap = r->headerscap != 0 ? r->headerscap * 2 : 16;
		r->headers = xreallocarray(r->headers, r->headerscap,
		    sizeof *r->headers);
	}
	h = &r->headers[r->nheaders++];
	h->line = http_strndup(line, len);
	h->name = http_strndup(line, colon - line);
	h->value = http_strndup(v, vlen);
	r->lastlinelen = len;
	r->lastlinecap = len + 1;
	r->lastvaluelen = vlen;
	r->lastvaluecap = vlen + 1;
	return (0);
}

enum http_parse
http_response_line(struct http_response *r, const char *line, size_t len,
    char *cause, size_t causelen)
{
	size_t	n;

	if (len == 0 || line[len - 1] != '\n') {
		snprintf(cause, causelen, "line %zu does not end", r->nlines + 1);
		return (HTTP_PARSE_ERROR);
	}
	n = len - 1;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (n == 0) {
		if (r->nlines > 0)
			return (HTTP_PARSE_DONE);
		snprintf(cause, causelen, "empty line before the status line");
		return (HTTP_PARSE_ERROR);
	}
	if (len > r->limit || r->size + len > r->limit) {
		r->size += len;
		return (HTTP_PARSE_LIMIT);
	}
	r->size += len;
	r->nlines++;
	if (memchr(line, '\0', n) != NULL) {
		snprintf(cause, causelen, "line %zu: NUL byte", r->nlines);
		return (HTTP_PARSE_ERROR);
	}
	if (memchr(line, '\r', n) != NULL) {
		snprintf(cause, causelen, "line %zu: CR not followed by LF",
		    r->nlines);
		return (HTTP_PARSE_ERROR);
	}
	/* Trailing blanks go, as rstrip() does; leading ones mean obs-fold. */
	while (n > 0 && http_is_blank(line[n - 1]))
		n--;
	if (r->nlines == 1) {
		if (http_parse_status(r, line, n, cause, causelen) != 0)
			return (HTTP_PARSE_ERROR);
	} else if (http_parse_header(r, line, n, cause, causelen) != 0)
		return (HTTP_PARSE_ERROR);
	return (HTTP_PARSE_MORE);
}

const char *
http_header_get(const struct http_response *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->headers[i].name, name) == 0)
			return (r->headers[i].value);
	}
	return (NULL);
}

/*
 * A JSON string for any bytes: valid UTF-8 goes through, every other byte
 * is taken as Latin-1 and written \u00XX, so the output is always valid.
 */
static void
http_json_string(struct evbuffer *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 left = strlen(s), n;

	evbuffer_add(b, "\"", 1);
	while (left > 0) {
		n = log_utf8_len(p, left);
		if (n == 1 && (*p == '"' || *p == '\\'))
			evbuffer_add_printf(b, "\\%c", *p);
		else if (n == 1 && (*p < 0x20 || *p == 0x7f))
			evbuffer_add_printf(b, "\\u%04x", *p);
		else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			evbuffer_add_printf(b, "\\u%04x", p[1]);	/* C1 */
		else if (n > 0)
			evbuffer_add(b, p, n);
		else {
			evbuffer_add_printf(b, "\\u%04x", *p);
			n = 1;
		}
		p += n;
		left -= n;
	}
	evbuffer_add(b, "\"", 1);
}

char *
http_json(const struct http_response *r, const char *url)
{
	struct evbuffer	*b;
	char		*s, *tls;
	size_t		 i;

	b = evbuffer_new();
	evbuffer_add_printf(b, "{\"url\":");
	http_json_string(b, url);
	evbuffer_add_printf(b, ",\"version\":");
	http_json_string(b, r->version);
	evbuffer_add_printf(b, ",\"status\":%d,\"reason\":", r->status);
	http_json_string(b, r->reason);
	evbuffer_add_printf(b, ",\"headers\":[");
	for (i = 0; i < r->nheaders; i++) {
		evbuffer_add_printf(b, "%s[", i > 0 ? "," : "");
		http_json_string(b, r->headers[i].name);
		evbuffer_add(b, ",", 1);
		http_json_string(b, r->headers[i].value);
		evbuffer_add(b, "]", 1);
	}
	evbuffer_add(b, "]", 1);
	if (r->tls != NULL) {
		tls = tls_summary_json(r->tls, time(NULL));
		evbuffer_add_printf(b, ",\"tls\":%s", tls);
		free(tls);
	}
	evbuffer_add(b, "}", 1);
	s = http_buffer_string(b, NULL);
	evbuffer_free(b);
	return (s);
}

/*
 * The exchange: connect, write the request, then per header block read
 * five bytes (they must be "HTTP/") and the rest line by line.
 */
struct http_exchange {
	char			*url;		/* for messages */
	struct event_base	*base;
	struct event		*timer;		/* bounds the header blocks */
	double			 phase;		/* ... to this many seconds */
	double			 phase_end;	/* or by this monotime_secs() */
	double			 budget;	/* the bound, for the message */
	char			*request;
	size_t			 requestlen;
	size_t			 limit;
	struct stream		*s;
	struct http_response	*resp;
	unsigned int		 ninterim;
	char			 head[5];	/* the block's first bytes */
	int			 have_head;
	http_response_cb	 cb;
	void			*arg;
};


static void	http_connected_cb(struct stream *, const struct stream_error *,
		    void *);
static void	http_head_cb(struct stream *, struct evbuffer *,
		    const struct stream_error *, void *);
static void	http_line_cb(struct stream *, struct evbuffer *,
		    const struct stream_error *, void *);

static void
http_exchange_free(struct http_exchange *x)
{
	if (x->timer != NULL)
		event_free(x->timer);
	http_response_free(x->resp);
	free(x->request);
	free(x->url);
	free(x);
}

/* Give up: drop the connection, report, and free everything. */
static void
http_fail(struct http_exchange *x, int malformed,
    const struct stream_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
http_fail(struct http_exchange *x, int malformed,
    const struct stream_error *err, const char *fmt, ...)
{
	struct http_failure	f;
	va_list			ap;

	memset(&f, 0, sizeof f);
	f.malformed = malformed;
	if (err != NULL)
		f.err = *err;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(f.err.msg, sizeof f.err.msg, fmt, ap);
		va_end(ap);
	}
	if (x->s != NULL) {
		log_closed(x->s, NULL);
		stream_abort(x->s);
	}
	x->cb(NULL, &f, x->arg);
	http_exchange_free(x);
}

void
http_head(struct event_base *base, const struct url *u, const char *request,
    size_t requestlen, const struct stream_opts *opts,
    const struct proxy *proxy, http_response_cb cb, void *arg)
{
	struct http_exchange	*x;

	x = xcalloc(1, sizeof *x);
	x->url = url_string(u);
	x->base = base;
	x->request = http_strndup(request, requestlen);
	x->requestlen = requestlen;
	x->limit = opts->limit != 0 ? opts->limit : STREAM_DEFAULT_LIMIT;
	x->phase = x->budget = STREAM_PHASE_TIMEOUT;
	if (opts->phase_timeout > 0) {
		x->budget = opts->phase_timeout;
		x->phase_end = monotime_secs() + opts->phase_timeout;
	}
	x->cb = cb;
	x->arg = arg;
	/* An HTTP proxy takes a plain http request as it is (absolute-form). */
	if (proxy != NULL && proxy->type == PROXY_HTTP && !u->tls) {
		if (log_verbose())
			log_event("proxy", "proxy", proxy->label, "scheme",
			    "http", "target", u->host, "port", u->port,
			    (char *)NULL);
		stream_open_connection(base, proxy->host, proxy->port, opts,
		    http_connected_cb, x);
	} else
		proxy_open_connection(base, proxy, u->host, u->port, opts,
		    http_connected_cb, x);
}

/* A server that never answers: the response's phase is bounded too. */
static void
http_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_exchange	*x = arg;
	struct stream_error	 e;

	memset(&e, 0, sizeof e);
	e.kind = STREAM_ETIMEOUT;
	e.sys = ETIMEDOUT;
	http_fail(x, 0, &e, "%s: no response within %g seconds", x->url,
	    x->budget);
}

static void
http_start_block(struct http_exchange *x)
{
	struct ssl_st	*ssl = stream_ssl_object(x->s);

	x->resp = http_response_new(x->limit);
	/* https: what the handshake agreed and the chain, for --json. */
	if (ssl != NULL) {
		x->resp->tls = xcalloc(1, sizeof *x->resp->tls);
		if (tls_summary_get(ssl, x->resp->tls) != 0) {
			free(x->resp->tls);
			x->resp->tls = NULL;
		}
	}
	x->have_head = 0;
	stream_readexactly(x->s, sizeof x->head, http_head_cb, x);
}

static void
http_connected_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct http_exchange		*x = arg;
	const struct stream_error	*e;
	struct timeval			 tv;

	if (err->kind != STREAM_OK) {
		http_fail(x, 0, err, NULL);
		return;
	}
	x->s = s;
	log_connected(s);
	log_tls(s, NULL);
	x->timer = evtimer_new(x->base, http_timeout_cb, x);
	if (x->phase_end > 0) {
		/* The caller's budget counts from the exchange's start. */
		x->phase = x->phase_end - monotime_secs();
		if (x->phase < 0.001)
			x->phase = 0.001;
	}
	if (x->timer != NULL) {
		tv.tv_sec = (time_t)x->phase;
		tv.tv_usec = (suseconds_t)((x->phase - (double)tv.tv_sec) * 1e6);
		evtimer_add(x->timer, &tv);
	}
	if (stream_write(s, x->request, x->requestlen) < 0) {
		e = stream_exception(s);
		http_fail(x, 0, e, e != NULL ? NULL :
		    "send request to %s: connection closed", x->url);
		return;
	}
	http_start_block(x);
}

/* The connection ended early: say how far the response got. */
static void
http_fail_eof(struct http_exchange *x, struct evbuffer *partial)
{
	char	q[80], *p;
	size_t	len;
	int	n;

	if (x->resp->nlines == 0 && !x->have_head &&
	    evbuffer_get_length(partial) == 0) {
		http_fail(x, 1, NULL, "%s: empty reply (connection closed "
		    "before any response)", x->url);
		return;
	}
	if (!x->have_head) {
		p = http_buffer_string(partial, &len);
		http_quote(p, len, q, sizeof q);
		n = memcmp(p, "HTTP/", len < 5 ? len : 5);
		free(p);
		if (n != 0) {
			http_fail(x, 1, NULL, "%s: not an HTTP response "
			    "'%s'", x->url, q);
			return;
		}
	}
	http_fail(x, 1, NULL, "%s: connection closed before the end of the "
	    "header block", x->url);
}

static void
http_head_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct http_exchange	*x = arg;
	char			 q[32];

	if (err->kind == STREAM_EINCOMPLETE) {
		http_fail_eof(x, data);
		return;
	}
	if (err->kind != STREAM_OK) {
		http_fail(x, 0, err, NULL);
		return;
	}
	evbuffer_remove(data, x->head, sizeof x->head);
	if (memcmp(x->head, "HTTP/", sizeof x->head) != 0) {
		http_quote(x->head, sizeof x->head, q, sizeof q);
		http_fail(x, 1, NULL, "%s: not an HTTP response (it starts "
		    "'%s')", x->url, q);
		return;
	}
	x->have_head = 1;
	timing_set(TIMING_FIRST_BYTE, stream_first_byte_ms(s));
	stream_readuntil(s, "\n", 1, http_line_cb, x);
}

/* The final block is reported once its stream is closed. */
static void
http_closed_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct http_exchange	*x = arg;
	struct http_response	*r = x->resp;

	/* A failed close loses nothing: the whole block was read. */
	x->resp = NULL;
	x->cb(r, NULL, x->arg);
	http_exchange_free(x);
}

/* A whole block: a 1xx other than 101 is followed by another block. */
static void
http_block_done(struct http_exchange *x)
{
	struct http_response	*r = x->resp;
	struct stream		*s = x->s;

	if (r->status / 100 == 1 && r->status != 101) {
		x->resp = NULL;
		x->cb(r, NULL, x->arg);
		if (++x->ninterim > HTTP_MAX_INTERIM) {
			x->resp = http_response_new(x->limit);
			http_fail(x, 1, NULL, "%s: more than %d interim (1xx) "
			    "responses", x->url, HTTP_MAX_INTERIM);
			return;
		}
		http_start_block(x);
		return;
	}
	/* Done without reading the rest: close (close_notify over TLS). */
	if (x->timer != NULL)
		evtimer_del(x->timer);
	log_closed(s, NULL);
	x->s = NULL;
	stream_close(s, http_closed_cb, x);
}

static void
http_line_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct http_exchange	*x = arg;
	struct stream_error	 e;
	char			 cause[200], *line;
	size_t			 len, off;
	enum http_parse		 rc;

	if (err->kind == STREAM_EINCOMPLETE) {
		http_fail_eof(x, data);
		return;
	}
	memset(&e, 0, sizeof e);
	e.kind = STREAM_ELIMIT;
	if (err->kind == STREAM_ELIMIT) {
		http_fail(x, 0, &e, "%s: response header block over --limit "
		    "(%zu bytes)", x->url, x->limit);
		return;
	}
	if (err->kind != STREAM_OK) {
		http_fail(x, 0, err, NULL);
		return;
	}
	/* The first line of a block starts with the five bytes read first. */
	len = evbuffer_get_length(data);
	line = xmalloc(len + sizeof x->head);
	off = 0;
	if (x->resp->nlines == 0) {
		memcpy(line, x->head, sizeof x->head);
		off = sizeof x->head;
	}
	evbuffer_remove(data, line + off, len);
	len += off;
	rc = http_response_line(x->resp, line, len, cause, sizeof cause);
	free(line);
	switch (rc) {
	case HTTP_PARSE_MORE:
		stream_readuntil(s, "\n", 1, http_line_cb, x);
		break;
	case HTTP_PARSE_DONE:
		http_block_done(x);
		break;
	case HTTP_PARSE_ERROR:
		http_fail(x, 1, NULL, "%s: malformed response: %s", x->url,
		    cause);
		break;
	case HTTP_PARSE_LIMIT:
		http_fail(x, 0, &e, "%s: response header block over --limit "
		    "(%zu bytes)", x->url, x->limit);
		break;
	}
}
