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

#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "cmd.h"
#include "log.h"
#include "net.h"
#include "parse.h"
#include "proxy.h"
#include "url.h"
#include "xmalloc.h"

/*
 * How connect and http-head reach a host: --resolve entries for the
 * resolver (net-resolve.c), and the proxy, if any, for one target: --proxy
 * URL, else (http-head) curl's environment variables; --noproxy LIST,
 * else no_proxy, names the hosts reached directly; --proxy '' means none.
 */

int
cmd_reach_resolve(struct cmd_ctx *ctx)
{
	const struct cmd_arg	*a;
	const char		*cause;
	size_t			 i;

	for (i = 0; i < ctx->args->nopts; i++) {
		a = &ctx->args->opts[i];
		if (a->id != OPT_RESOLVE)
			continue;
		if (resolve_add(a->value, &cause) != 0)
			return (cmd_fail(ctx, EXIT_USAGE, "--resolve %s: %s",
			    a->value, cause));
	}
	return (0);
}

/*
 * The proxy for host: 0 with *use set (and *p filled when it is 1), or
 * the exit status of a bad proxy URL.
 */
int
cmd_reach_proxy(struct cmd_ctx *ctx, const char *host, int env, int https,
    struct proxy *p, int *use)
{
	const char	*url, *what = "--proxy", *noproxy, *cause;
	char		*shown;

	*use = 0;
	if (cmd_has(ctx, OPT_PROXY))
		url = cmd_get(ctx, OPT_PROXY);
	else if (env && (url = proxy_from_env(https)) != NULL)
		what = "proxy from the environment";
	else
		return (0);
	if (*url == '\0')
		return (0);
	noproxy = cmd_has(ctx, OPT_NOPROXY) ? cmd_get(ctx, OPT_NOPROXY) :
	    proxy_no_proxy_env();
	if (proxy_no_proxy(noproxy, host))
		return (0);
	if (proxy_parse(url, p, &cause) != 0) {
		shown = url_redact(url);	/* never a password in a message */
		cmd_fail(ctx, EXIT_USAGE, "%s %s: %s", what, shown, cause);
		free(shown);
		return (EXIT_USAGE);
	}
	*use = 1;
	return (0);
}
