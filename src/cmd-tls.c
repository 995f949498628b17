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

#include "cmd.h"
#include "tls.h"

/*
 * The TLS options connect, http-head and serve share, read in one place:
 * a client's certificate, ALPN, SNI and version bounds, a server's
 * request for client certificates. The clients' are in cmd.c's TLS
 * blocks, the server's in serve's table; help lists them all under
 * "TLS options".
 */

static const int cmd_tls_ids[] = {
	OPT_CERT, OPT_KEY, OPT_ALPN, OPT_SERVERNAME, OPT_NO_SNI,
	OPT_TLS_MIN, OPT_TLS_MAX, OPT_CLIENT_CA, OPT_CLIENT_CERT
};

const char *
cmd_tls_stray(struct cmd_ctx *ctx)
{
	size_t	i, j;

	for (i = 0; i < ctx->args->nopts; i++) {
		for (j = 0; j < sizeof cmd_tls_ids / sizeof cmd_tls_ids[0];
		    j++) {
			if (ctx->args->opts[i].id == cmd_tls_ids[j])
				return (ctx->args->opts[i].name);
		}
	}
	return (NULL);
}

static int
cmd_tls_version(struct cmd_ctx *ctx, int id, const char *name, int *v)
{
	const char	*s = cmd_get(ctx, id);

	if (s == NULL)
		return (0);
	if ((*v = tls_parse_version(s)) == -1)
		return (cmd_fail(ctx, EXIT_USAGE, "%s %s: must be 1.2 or 1.3",
		    name, s));
	return (0);
}

/* --client-ca FILE [--client-cert optional|required]: servers only. */
static int
cmd_tls_client_ca(struct cmd_ctx *ctx, struct tls_config *cfg)
{
	const char	*mode = cmd_get(ctx, OPT_CLIENT_CERT);

	cfg->client_ca = cmd_get(ctx, OPT_CLIENT_CA);
	cfg->client_required = 1;	/* asking is requiring, as nginx's on */
	if (mode == NULL)
		return (0);
	if (cfg->client_ca == NULL)
		return (cmd_fail(ctx, EXIT_USAGE, "--client-cert needs "
		    "--client-ca"));
	if (strcmp(mode, "optional") == 0)
		cfg->client_required = 0;
	else if (strcmp(mode, "required") != 0)
		return (cmd_fail(ctx, EXIT_USAGE, "--client-cert %s: must be "
		    "optional or required", mode));
	return (0);
}

int
cmd_tls_config(struct cmd_ctx *ctx, int server, struct tls_config *cfg)
{
	const char	*cause;

	memset(cfg, 0, sizeof *cfg);
	if (cmd_tls_version(ctx, OPT_TLS_MIN, "--tls-min",
	    &cfg->min_version) != 0 || cmd_tls_version(ctx, OPT_TLS_MAX,
	    "--tls-max", &cfg->max_version) != 0)
		return (ctx->exit_code);
	if (cfg->min_version != 0 && cfg->max_version != 0 &&
	    cfg->min_version > cfg->max_version)
		return (cmd_fail(ctx, EXIT_USAGE, "--tls-min %s is above "
		    "--tls-max %s", cmd_get(ctx, OPT_TLS_MIN),
		    cmd_get(ctx, OPT_TLS_MAX)));
	if ((cfg->alpn = cmd_get(ctx, OPT_ALPN)) != NULL &&
	    tls_check_alpn(cfg->alpn, &cause) != 0)
		return (cmd_fail(ctx, EXIT_USAGE, "--alpn %s: %s", cfg->alpn,
		    cause));
	if (server)
		return (cmd_tls_client_ca(ctx, cfg));
	cfg->certfile = cmd_get(ctx, OPT_CERT);
	cfg->keyfile = cmd_get(ctx, OPT_KEY);
	if (cfg->keyfile != NULL && cfg->certfile == NULL)
		return (cmd_fail(ctx, EXIT_USAGE, "--key needs --cert"));
	cfg->no_sni = cmd_has(ctx, OPT_NO_SNI);
	if (cmd_has(ctx, OPT_SERVERNAME) &&
	    *cmd_get(ctx, OPT_SERVERNAME) == '\0')
		return (cmd_fail(ctx, EXIT_USAGE, "--servername: empty name"));
	return (0);
}

/*
 * A client context with every TLS option applied; alpn, when not NULL,
 * is what the command offers instead of --alpn (http-head: http/1.1).
 * A certificate or key that will not load is a file problem (exit 1),
 * as it is for serve.
 */
int
cmd_tls_client_ctx(struct cmd_ctx *ctx, const char *cafile, int insecure,
    const char *alpn, struct ssl_ctx_st **out)
{
	struct tls_config	 cfg;
	struct stream_error	 err;
	struct ssl_ctx_st	*c;

	*out = NULL;
	if (cmd_tls_config(ctx, 0, &cfg) != 0)
		return (ctx->exit_code);
	if (alpn != NULL)
		cfg.alpn = alpn;
	if ((c = tls_client_ctx(cafile, insecure, &err)) == NULL)
		return (cmd_fail_stream(ctx, &err));
	if (tls_ctx_configure(c, &cfg, 0, &err) != 0) {
		tls_ctx_free(c);
		return (cmd_fail(ctx, EXIT_NET, "%s", err.msg));
	}
	*out = c;
	return (0);
}

/* serve --tls: --client-ca, --client-cert, --alpn and versions applied. */
int
cmd_tls_server_setup(struct cmd_ctx *ctx, struct ssl_ctx_st *c)
{
	struct tls_config	 cfg;
	struct stream_error	 err;

	if (cmd_tls_config(ctx, 1, &cfg) != 0)
		return (ctx->exit_code);
	if (tls_ctx_configure(c, &cfg, 1, &err) != 0)
		return (cmd_fail(ctx, EXIT_NET, "%s", err.msg));
	return (0);
}
