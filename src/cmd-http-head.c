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
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "cmd.h"
#include "compat.h"
#include "http.h"
#include "log.h"
#include "net.h"
#include "parse.h"
#include "proxy.h"
#include "timing.h"
#include "tls.h"
#include "tls-cert.h"
#include "url.h"
#include "xmalloc.h"

/*
 * http-head URL: the asyncio documentation's "get HTTP headers" example as
 * a command. One HEAD exchange per URL (http.c), printed block by block;
 * with -L, each redirect is another exchange on a new connection.
 */

static const struct cmd_option cmd_http_head_options[] = {
	{ "prefix", 0, CMD_ARG_REQUIRED, OPT_PREFIX, "STR",
	  "put STR before each printed line" },
	{ "json", 0, CMD_ARG_NONE, OPT_JSON, NULL,
	  "print one JSON object per response" },
	{ "header", 'H', CMD_ARG_REQUIRED, OPT_HEADER, "'NAME: VALUE'",
	  "extra request header (repeatable)" },
	{ "http1.0", 0, CMD_ARG_NONE, OPT_HTTP10, NULL,
	  "send an HTTP/1.0 request" },
	{ "location", 'L', CMD_ARG_NONE, OPT_LOCATION, NULL,
	  "follow redirects" },
	{ "max-redirs", 0, CMD_ARG_REQUIRED, OPT_MAX_REDIRS, "N",
	  "most redirects -L follows (default 10)" },
	{ "fail", 'f', CMD_ARG_NONE, OPT_FAIL, NULL,
	  "exit 9 when the final status is 400 or more" },
	{ "wait", 0, CMD_ARG_REQUIRED, OPT_WAIT, "SEC",
	  "retry each second for up to SEC seconds until the URL is ready" },
	{ "expect-status", 0, CMD_ARG_REQUIRED, OPT_EXPECT_STATUS, "LIST",
	  "the final status must be one of LIST (200,2xx,...), else exit 10" },
	{ "expire-warn", 0, CMD_ARG_REQUIRED, OPT_EXPIRE_WARN, "DAYS",
	  "exit 11 if an https certificate expires within DAYS" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

#define HTTP_HEAD_MAX_REDIRS	10

struct http_head {
	struct cmd_ctx		*ctx;
	struct url		 first;		/* as given: the origin of -H */
	struct url		 url;		/* the one being fetched */
	char			*urlstr;
	char			**headers;
	size_t			 nheaders;
	int			 http10;
	int			 json;
	const char		*prefix;
	struct stream_opts	 opts;
	SSL_CTX			*tls_ctx;
	unsigned int		 blocks;	/* printed so far */
	int			 done;
	struct http_response	*final;
	int			 failed;
	struct http_failure	 failure;
	int			 expire;	/* --expire-warn */
	long long		 expire_days;
	char			*expiring;	/* the first warning, if any */
	FILE			*out;		/* stdout, or an attempt's copy */
	unsigned char		 expect[6];	/* --expect-status: classes 1-5 */
	unsigned char		*expect_codes;	/* ... and codes, 600 flags */
};

/* --expire-warn: the first certificate found expiring, for the end. */
static void
http_head_expiry(struct http_head *h, const struct http_response *r)
{
	char	msg[512];

	if (!h->expire || r->tls == NULL || h->expiring != NULL)
		return;
	if (tls_summary_expiry(r->tls, h->expire_days, time(NULL), msg,
	    sizeof msg))
		h->expiring = xstrdup(msg);
}

static void
http_head_print(struct http_head *h, const struct http_response *r)
{
	char		*j, status[8], times[200];
	size_t		 i;
	struct timings	 t;

	snprintf(status, sizeof status, "%d", r->status);
	log_event("response", "url", h->urlstr, "status", status, (char *)NULL);
	http_head_expiry(h, r);
	timing_get(&t, -1);
	if (r->status / 100 != 1 || r->status == 101)
		timing_log(&t, h->urlstr);	/* a block that ends a fetch */
	if (h->json) {
		j = http_json(r, h->urlstr);
		timing_json(&t, times, sizeof times);
		/* The timings go in as the object's last keys. */
		fprintf(h->out, "%.*s%s}\n", (int)strlen(j) - 1, j, times);
		free(j);
		h->blocks++;
		return;
	}
	/* Blocks (1xx, redirects) are separated by an empty line. */
	if (h->blocks++ > 0)
		fputc('\n', h->out);
	fprintf(h->out, "%s%s\n", h->prefix, r->status_line);
	for (i = 0; i < r->nheaders; i++)
		fprintf(h->out, "%s%s\n", h->prefix, r->headers[i].line);
}

static void
http_head_response_cb(struct http_response *r, const struct http_failure *f,
    void *arg)
{
	struct http_head	*h = arg;

	if (r != NULL) {
		http_head_print(h, r);
		if (r->status / 100 == 1 && r->status != 101) {
			http_response_free(r);
			return;
		}
		h->final = r;
	} else {
		h->failed = 1;
		h->failure = *f;
	}
	h->done = 1;
	/* Whatever else the base may hold, this request is over. */
	event_base_loopbreak(h->ctx->base);
}

/* Print stdout's buffer now: a write error (EPIPE, ENOSPC) is exit 1. */
static int
http_head_flush(struct http_head *h)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return (cmd_fail(h->ctx, EXIT_NET, "write to stdout: %s",
		    strerror(errno)));
	return (0);
}

/*
 * A failed exchange, in curl's terms where a user of curl -I expects them:
 * "could not resolve host NAME", and a certificate nothing trusted issued
 * gets the two ways out (cli.md allows a hint line after the error).
 */
static int
http_head_fail(struct http_head *h, const struct stream_error *err)
{
	int	rc;

	if (err->kind == STREAM_ERESOLVE)
		return (cmd_fail(h->ctx, EXIT_RESOLVE,
		    "could not resolve host %s", h->url.host));
	rc = cmd_fail_stream(h->ctx, err);	/* with its TLS hint */
	return (rc);
}

/*
 * curl's rule: a URL without a scheme is an http:// one. "host:8080/x"
 * has none; "http:/x" has one, badly written, and stays an error.
 */
static int
http_head_parse(struct http_head *h, struct url *u)
{
	const char	*arg = h->ctx->args->pos[0], *cause;
	char		*full = NULL;
	int		 rc;

	if (strstr(arg, "://") == NULL && strncasecmp(arg, "http:", 5) != 0 &&
	    strncasecmp(arg, "https:", 6) != 0)
		xasprintf(&full, "http://%s", arg);
	rc = url_parse(full != NULL ? full : arg, u, &cause);
	free(full);
	if (rc != 0) {
		full = url_redact(arg);	/* never a password in a message */
		rc = cmd_fail(h->ctx, EXIT_USAGE, "invalid URL %s: %s", full,
		    cause);
		free(full);
		return (rc);
	}
	return (0);
}

/* One exchange for h->url: 0 with h->final, or the exit status. */
static int
http_head_fetch(struct http_head *h)
{
	struct stream_error	 err;
	struct proxy		 proxy;
	const char		*cause;
	char			*req, *abs;
	size_t			 len;
	int			 rc, use_proxy;

	memset(&proxy, 0, sizeof proxy);
	if (http_request(&h->url, h->http10, h->headers, h->nheaders,
	    url_same_origin(&h->first, &h->url), &req, &len, &cause) != 0)
		return (cmd_fail(h->ctx, EXIT_USAGE, "-H: %s", cause));
	if ((rc = cmd_reach_proxy(h->ctx, h->url.host,
	    1, h->url.tls, &proxy, &use_proxy)) != 0) {
		free(req);
		return (rc);
	}
	if (use_proxy && proxy.type == PROXY_HTTP && !h->url.tls) {
		abs = proxy_absolute_request(&proxy, &h->url, req, len, &len);
		free(req);
		req = abs;
	}
	memset(&err, 0, sizeof err);
	/* h2 is not spoken: ALPN offers http/1.1, as curl --http1.1. */
	if (h->url.tls && h->tls_ctx == NULL &&
	    (rc = cmd_tls_client_ctx(h->ctx, cmd_get(h->ctx, OPT_CAFILE),
	    cmd_has(h->ctx, OPT_INSECURE), "http/1.1", &h->tls_ctx)) != 0) {
		free(req);
		proxy_free(&proxy);
		return (rc);
	}
	h->opts.tls_ctx = h->url.tls ? h->tls_ctx : NULL;
	h->opts.tls_servername = h->url.host;
	free(h->urlstr);
	h->urlstr = url_string(&h->url);
	log_event("request", "url", h->urlstr, (char *)NULL);

	h->done = h->failed = 0;
	h->final = NULL;
	timing_reset();
	http_head(h->ctx->base, &h->url, req, len, &h->opts,
	    use_proxy ? &proxy : NULL, http_head_response_cb, h);
	free(req);
	proxy_free(&proxy);
	if (!h->done)
		event_base_dispatch(h->ctx->base);
	if ((rc = http_head_flush(h)) != 0)
		return (rc);
	if (!h->done)
		return (cmd_fail(h->ctx, EXIT_NET, "%s: no response",
		    h->urlstr));
	if (!h->failed)
		return (0);
	if (h->failure.malformed)
		return (cmd_fail(h->ctx, EXIT_PROTO, "%s", h->failure.err.msg));
	return (http_head_fail(h, &h->failure.err));
}

/*
 * -L: a 301, 302, 303, 307 or 308 with a Location is followed (HEAD stays
 * HEAD, as curl -I -L does). 0 with h->url replaced, 1 when the response
 * is the final one, else the exit status.
 */
static int
http_head_redirect(struct http_head *h, long long *nredirs,
    long long max_redirs)
{
	const struct http_response	*r = h->final;
	const char			*loc, *cause;
	struct url			 next;
	char				 q[120], *shown;

	switch (r->status) {
	case 301: case 302: case 303: case 307: case 308:
		break;
	default:
		return (1);
	}
	if ((loc = http_header_get(r, "Location")) == NULL)
		return (1);
	if (*nredirs >= max_redirs)
		return (cmd_fail(h->ctx, EXIT_PROTO, "%s: too many redirects "
		    "(--max-redirs %lld)", h->urlstr, max_redirs));
	if (url_resolve(&h->url, loc, &next, &cause) != 0) {
		shown = url_redact(loc);
		http_quote(shown, strlen(shown), q, sizeof q);
		free(shown);
		return (cmd_fail(h->ctx, EXIT_PROTO, "%s: cannot follow "
		    "Location '%s': %s", h->urlstr, q, cause));
	}
	(*nredirs)++;
	url_free(&h->url);
	h->url = next;
	return (0);
}

static int
http_head_options(struct http_head *h, long long *max_redirs)
{
	struct cmd_ctx	*ctx = h->ctx;
	const char	*v, *cause;
	size_t		 i;

	h->http10 = cmd_has(ctx, OPT_HTTP10);
	h->json = cmd_has(ctx, OPT_JSON);
	h->prefix = cmd_has(ctx, OPT_PREFIX) ? cmd_get(ctx, OPT_PREFIX) : "";
	if (h->json && cmd_has(ctx, OPT_PREFIX))
		return (cmd_fail(ctx, EXIT_USAGE, "--prefix and --json "
		    "cannot be used together"));
	*max_redirs = HTTP_HEAD_MAX_REDIRS;
	if ((v = cmd_get(ctx, OPT_MAX_REDIRS)) != NULL &&
	    parse_count(v, 0, 1000, max_redirs, &cause) != 0)
		return (cmd_fail(ctx, EXIT_USAGE, "--max-redirs %s: %s", v,
		    cause));
	for (i = 0; i < ctx->args->nopts; i++) {
		if (ctx->args->opts[i].id != OPT_HEADER)
			continue;
		h->headers = xreallocarray(h->headers, h->nheaders + 1,
		    sizeof *h->headers);
		h->headers[h->nheaders++] = (char *)ctx->args->opts[i].value;
	}
	if ((v = cmd_get(ctx, OPT_ALPN)) != NULL && strcmp(v, "http/1.1") != 0)
		return (cmd_fail(ctx, EXIT_USAGE, "--alpn %s: http-head speaks "
		    "http/1.1 only", v));
	if ((v = cmd_get(ctx, OPT_EXPIRE_WARN)) != NULL) {
		if (parse_count(v, 0, 36500, &h->expire_days, &cause) != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--expire-warn %s: %s",
			    v, cause));
		h->expire = 1;
	}
	cmd_stream_opts(ctx, &h->opts);
	return (cmd_reach_resolve(ctx));
}

/*
 * --expect-status LIST: codes (200) and classes (2xx), comma-separated.
 */
static int
http_head_expect_parse(struct http_head *h)
{
	const char	*v = cmd_get(h->ctx, OPT_EXPECT_STATUS);
	char		*copy, *rest, *item;
	int		 rc = 0, n;

	if (v == NULL)
		return (0);
	h->expect_codes = xcalloc(600, 1);
	copy = rest = xstrdup(v);
	while (rc == 0 && (item = strsep(&rest, ",")) != NULL) {
		if (strlen(item) == 3 && item[0] >= '1' && item[0] <= '5' &&
		    (item[1] == 'x' || item[1] == 'X') &&
		    (item[2] == 'x' || item[2] == 'X'))
			h->expect[item[0] - '0'] = 1;
		else if (strlen(item) == 3 && strspn(item, "0123456789") == 3 &&
		    (n = atoi(item)) >= 100 && n <= 599)
			h->expect_codes[n] = 1;
		else
			rc = cmd_fail(h->ctx, EXIT_USAGE, "--expect-status %s: "
			    "'%s' is not a status (100-599) or a class (2xx)",
			    v, item);
	}
	free(copy);
	return (rc);
}

/* Is the final status the one asked for (--expect-status, else < 400)? */
static int
http_head_expected(struct http_head *h, int status)
{
	if (h->expect_codes == NULL)
		return (status < 400);
	if (status < 100 || status > 599)
		return (0);
	return (h->expect_codes[status] || h->expect[status / 100]);
}

/* One fetch, -L's redirects followed: 0 with h->final, or the status. */
static int
http_head_chain(struct http_head *h, long long max_redirs)
{
	long long	nredirs = 0;
	int		rc;

	url_free(&h->url);
	if ((rc = http_head_parse(h, &h->url)) != 0)
		return (rc);
	h->blocks = 0;
	for (;;) {
		if ((rc = http_head_fetch(h)) != 0)
			return (rc);
		if (!cmd_has(h->ctx, OPT_LOCATION))
			break;
		if ((rc = http_head_redirect(h, &nredirs, max_redirs)) == 1)
			break;
		if (rc != 0)
			return (rc);
		http_response_free(h->final);
		h->final = NULL;
	}
	return (0);
}

/* The final status against --expect-status (exit 10), then --fail. */
static int
http_head_check(struct http_head *h)
{
	const char	*v = cmd_get(h->ctx, OPT_EXPECT_STATUS);

	/* A certificate about to expire is worth more than the status. */
	if (h->expiring != NULL)
		return (cmd_fail(h->ctx, EXIT_EXPIRE, "%s", h->expiring));
	if (v != NULL && !http_head_expected(h, h->final->status))
		return (cmd_fail(h->ctx, EXIT_EXPECT, "%s: HTTP %d, expected "
		    "%s", h->urlstr, h->final->status, v));
	if (cmd_has(h->ctx, OPT_FAIL) && h->final->status >= 400)
		return (cmd_fail(h->ctx, EXIT_HTTP, "%s: HTTP %d", h->urlstr,
		    h->final->status));
	return (0);
}

static void
http_head_sleep_until(double ms)
{
	double	d;

	while ((d = ms - timing_now_ms()) > 0)
		usleep(d > 100 ? 100000 : (useconds_t)(d * 1000));
}

static void
http_head_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	event_base_loopbreak(arg);	/* the attempt under way is abandoned */
}

/*
 * One --wait attempt: the blocks go to a copy (printed once ready),
 * errors are held (printed only if not retried). 1: ready; 0: not yet,
 * the reason in ctx->held; else a status to exit with at once.
 */
static int
http_head_attempt(struct http_head *h, long long max_redirs, double left,
    char **buf, size_t *len)
{
	struct cmd_ctx	*ctx = h->ctx;
	int		 rc;

	h->opts.connect_timeout = ctx->g->connect_timeout > 0 &&
	    ctx->g->connect_timeout < left ? ctx->g->connect_timeout : left;
	/*
	 * The response too, so that the exchange ends by itself (and is
	 * freed) before the deadline timer has to abandon it.
	 */
	h->opts.phase_timeout = left > 0.001 ? left : 0.001;
	if ((h->out = open_memstream(buf, len)) == NULL)
		return (cmd_fail(ctx, EXIT_NET, "%s", strerror(errno)));
	http_response_free(h->final);
	h->final = NULL;
	ctx->hold_errors = 1;
	rc = http_head_chain(h, max_redirs);
	ctx->hold_errors = 0;
	fclose(h->out);
	h->out = stdout;
	if (rc == EXIT_USAGE || rc == EXIT_TLS) {
		cmd_fail(ctx, rc, "%s", ctx->held);
		return (rc);
	}
	if (rc != 0)
		return (0);
	if (http_head_expected(h, h->final->status))
		return (1);
	snprintf(ctx->held, sizeof ctx->held, "HTTP %d", h->final->status);
	return (0);
}

/*
 * --wait SEC: the exchange again each second until the final status is
 * ready (below 400, or one of --expect-status), as connect's --wait
 * (connect-wait.c); a timer at the deadline bounds the last attempt.
 */
static int
http_head_wait(struct http_head *h, long long max_redirs, double sec)
{
	struct cmd_ctx	*ctx = h->ctx;
	struct event	*ev;
	struct timeval	 tv;
	double		 deadline = timing_now_ms() + sec * 1000, start;
	char		*buf = NULL, a[16], ms[32];
	size_t		 len = 0;
	unsigned int	 attempt = 0;
	long long	 us;
	int		 rc;

	ev = evtimer_new(ctx->base, http_head_deadline_cb, ctx->base);
	for (;;) {
		start = timing_now_ms();
		/*
		 * The timer bounds this attempt by what is left of SEC, a
		 * moment after the attempt's own bounds: a safety net.
		 */
		us = (long long)((deadline - start) * 1000) + 250000;
		if (us < 1000)
			us = 1000;
		tv.tv_sec = (time_t)(us / 1000000);
		tv.tv_usec = (suseconds_t)(us % 1000000);
		evtimer_add(ev, &tv);
		free(buf);
		buf = NULL;
		rc = http_head_attempt(h, max_redirs, (deadline - start) /
		    1000, &buf, &len);
		evtimer_del(ev);
		snprintf(a, sizeof a, "%u", ++attempt);
		if (rc != 0)
			break;
		log_event("wait", "attempt", a, "error", ctx->held,
		    (char *)NULL);
		if (start + 1000 >= deadline ||
		    timing_now_ms() >= deadline - 1) {
			http_head_sleep_until(deadline);
			rc = cmd_fail(ctx, EXIT_TIMEOUT, "%s: not ready after "
			    "%s s: %s", h->urlstr, cmd_get(ctx, OPT_WAIT),
			    ctx->held);
			break;
		}
		http_head_sleep_until(start + 1000);
	}
	event_free(ev);
	if (rc == 1) {
		snprintf(ms, sizeof ms, "%.3f", timing_now_ms());
		log_event("ready", "attempt", a, "elapsed_ms", ms,
		    (char *)NULL);
		fwrite(buf, 1, len, stdout);
		rc = http_head_flush(h);
		if (rc == 0)
			rc = http_head_check(h);
	}
	free(buf);
	return (rc);
}

static int
http_head_run(struct http_head *h)
{
	long long	 max_redirs;
	double		 wait = 0;
	const char	*v, *cause;
	int		 rc;

	h->out = stdout;
	if ((rc = http_head_options(h, &max_redirs)) != 0 ||
	    (rc = http_head_expect_parse(h)) != 0)
		return (rc);
	if ((v = cmd_get(h->ctx, OPT_WAIT)) != NULL &&
	    parse_seconds(v, &wait, &cause) != 0)
		return (cmd_fail(h->ctx, EXIT_USAGE, "--wait %s: %s", v,
		    cause));
	if ((rc = http_head_parse(h, &h->first)) != 0)
		return (rc);
	if (wait > 0)
		return (http_head_wait(h, max_redirs, wait));
	if ((rc = http_head_chain(h, max_redirs)) != 0)
		return (rc);
	return (http_head_check(h));
}

static int
cmd_http_head_exec(struct cmd_ctx *ctx)
{
	struct http_head	h;
	int			rc;

	memset(&h, 0, sizeof h);
	h.ctx = ctx;
	rc = http_head_run(&h);
	http_response_free(h.final);
	url_free(&h.first);
	url_free(&h.url);
	free(h.urlstr);
	free(h.headers);
	free(h.expiring);
	free(h.expect_codes);
	if (h.tls_ctx != NULL)
		tls_ctx_free(h.tls_ctx);
	resolve_clear();
	return (rc);
}

const struct cmd_entry cmd_http_head_entry = {
	"http-head", "[OPTIONS] URL",
	"send HEAD for an http or https URL and print the response headers",
	1, 1, cmd_http_head_options, cmd_http_head_exec,
	CMD_OPTS_TLS_VERIFY | CMD_OPTS_PROXY
};
