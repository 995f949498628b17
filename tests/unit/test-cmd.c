/*
 * Unit tests for cmd.c's option parsing: options and positional
 * arguments in any order, "--", clusters, required and optional values,
 * the global options, and the shared blocks merged into a command's
 * table with one id space.
 */

#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "tap.h"

extern const struct cmd_entry cmd_connect_entry;
extern const struct cmd_entry cmd_http_head_entry;
extern const struct cmd_entry cmd_serve_entry;

struct parsed {
	struct cmd_args	args;
	struct cmd_ctx	ctx;
	char		cause[256];
	int		rc;
};

/* Parse a NULL-terminated argv for entry e (argv[0] is its name). */
static void
parse(struct parsed *p, const struct cmd_entry *e, const char **argv)
{
	int	argc = 0;

	while (argv[argc] != NULL)
		argc++;
	memset(p, 0, sizeof *p);
	p->rc = cmd_parse(e, argc, (char **)argv, &p->args, p->cause,
	    sizeof p->cause);
	p->ctx.entry = e;
	p->ctx.args = &p->args;
}

static int
has_option(const struct cmd_entry *e, const char *name, int id)
{
	const struct cmd_option	*o;

	for (o = cmd_options(e); o->name != NULL; o++) {
		if (strcmp(o->name, name) == 0)
			return (o->id == id);
	}
	return (0);
}

static void
test_order(void)
{
	struct parsed	 p;
	const char	*argv[] = { "connect", "--send", "a", "host", "-C",
			    "80", "--read-line", "-v", NULL };

	parse(&p, &cmd_connect_entry, argv);
	is_int(p.rc, 0, "options before, between and after positionals");
	is_int(p.args.npos, 2, "two positionals");
	is_str(p.args.pos[0], "host", "first positional");
	is_str(p.args.pos[1], "80", "second positional");
	is_int((int)p.args.nopts, 4, "four options, in order");
	is_int(p.args.opts[0].id, OPT_SEND, "--send first");
	is_str(p.args.opts[0].value, "a", "--send's value");
	is_str(p.args.opts[0].name, "--send", "named as documented");
	is_int(p.args.opts[1].id, OPT_CRLF, "-C second");
	is_str(p.args.opts[1].name, "--crlf", "-C named by its long name");
	is_int(p.args.opts[2].id, OPT_READ_LINE, "--read-line third");
	is_int(p.args.opts[3].id, OPT_VERBOSE, "a global option among them");
	ok(cmd_has(&p.ctx, OPT_SEND) && !cmd_has(&p.ctx, OPT_TLS),
	    "cmd_has");
	cmd_args_free(&p.args);
}

static void
test_values(void)
{
	struct parsed	 p;
	const char	*a1[] = { "connect", "--send=x", "--send", "y", "h",
			    "1", NULL };
	const char	*a2[] = { "connect", "--progress", "h", "1", NULL };
	const char	*a3[] = { "connect", "--progress=always", "h", "1",
			    NULL };
	const char	*a4[] = { "connect", "-Nk", "--tls", "h", "1", NULL };
	const char	*a5[] = { "connect", "h", "--", "-1", NULL };
	const char	*a6[] = { "connect", "-s", "127.0.0.1", "-p1234",
			    "h", "1", NULL };

	parse(&p, &cmd_connect_entry, a1);
	is_int(p.rc, 0, "--send=x and --send y");
	is_str(cmd_get(&p.ctx, OPT_SEND), "y", "cmd_get: the last one");
	is_int((int)p.args.nopts, 2, "both kept, in order");
	cmd_args_free(&p.args);

	parse(&p, &cmd_connect_entry, a2);
	is_int(p.rc, 0, "an optional value left out");
	ok(cmd_has(&p.ctx, OPT_PROGRESS) &&
	    cmd_get(&p.ctx, OPT_PROGRESS) == NULL, "... has no value");
	is_int(p.args.npos, 2, "... and takes no positional");
	cmd_args_free(&p.args);

	parse(&p, &cmd_connect_entry, a3);
	is_str(cmd_get(&p.ctx, OPT_PROGRESS), "always",
	    "an optional value given with =");
	cmd_args_free(&p.args);

	parse(&p, &cmd_connect_entry, a4);
	is_int(p.rc, 0, "a cluster of flags");
	ok(cmd_has(&p.ctx, OPT_EOF) && cmd_has(&p.ctx, OPT_INSECURE) &&
	    cmd_has(&p.ctx, OPT_TLS), "-N, -k and --tls");
	cmd_args_free(&p.args);

	parse(&p, &cmd_connect_entry, a5);
	is_int(p.rc, 0, "-- ends the options");
	is_int(p.args.npos, 2, "two positionals");
	is_str(p.args.pos[1], "-1", "a word after -- is positional");
	cmd_args_free(&p.args);

	parse(&p, &cmd_connect_entry, a6);
	is_int(p.rc, 0, "-s ADDR and -pPORT (the source block)");
	is_str(cmd_get(&p.ctx, OPT_SOURCE), "127.0.0.1", "-s");
	is_str(cmd_get(&p.ctx, OPT_SOURCE_PORT), "1234", "-p");
	cmd_args_free(&p.args);
}

static void
test_errors(void)
{
	struct parsed	 p;
	const char	*a1[] = { "connect", "--bogus", "h", "1", NULL };
	const char	*a2[] = { "connect", "h", "1", "--send", NULL };
	const char	*a3[] = { "connect", "-Z", "h", "1", NULL };
	const char	*a4[] = { "http-head", "--tls", "http://x/", NULL };
	const char	*a5[] = { "http-head", "--lcation", "http://x/", NULL };
	const char	*a7[] = { "http-head", "--sned", "http://x/", NULL };
	const char	*a6[] = { "connect", "--limit", NULL };

	parse(&p, &cmd_connect_entry, a1);
	is_int(p.rc, -1, "an unknown long option");
	is_str(p.cause, "unknown option: --bogus", "... named");
	cmd_args_free(&p.args);

	parse(&p, &cmd_connect_entry, a2);
	is_int(p.rc, -1, "a value missing at the end");
	is_str(p.cause, "option needs a value: --send", "... named");
	cmd_args_free(&p.args);

	parse(&p, &cmd_connect_entry, a3);
	is_int(p.rc, -1, "an unknown short option");
	is_str(p.cause, "unknown option: -Z", "... named");
	cmd_args_free(&p.args);

	parse(&p, &cmd_http_head_entry, a4);
	is_int(p.rc, -1, "http-head has the verify block, not --tls");
	is_str(p.cause, "unknown option: --tls", "... named");
	cmd_args_free(&p.args);

	parse(&p, &cmd_http_head_entry, a5);
	is_int(p.rc, -1, "a typo");
	ok(p.args.hint != NULL && strstr(p.args.hint, "--location") != NULL,
	    "... gets a hint naming the option: %s",
	    p.args.hint ? p.args.hint : "(none)");
	cmd_args_free(&p.args);

	parse(&p, &cmd_http_head_entry, a7);
	is_int(p.rc, -1, "a typo of another command's option");
	ok(p.args.hint == NULL || strstr(p.args.hint, "--send") == NULL,
	    "... is not hinted at: %s", p.args.hint ? p.args.hint : "(none)");
	cmd_args_free(&p.args);

	parse(&p, &cmd_connect_entry, a6);
	is_int(p.rc, -1, "a global option without its value");
	is_str(p.cause, "option needs a value: --limit", "... named");
	cmd_args_free(&p.args);
}

static void
test_blocks(void)
{
	const struct cmd_option	*o;
	size_t			 n;

	ok(has_option(&cmd_connect_entry, "tls", OPT_TLS) &&
	    has_option(&cmd_connect_entry, "cafile", OPT_CAFILE) &&
	    has_option(&cmd_connect_entry, "insecure", OPT_INSECURE),
	    "connect: the TLS client block");
	ok(has_option(&cmd_connect_entry, "proxy", OPT_PROXY) &&
	    has_option(&cmd_connect_entry, "noproxy", OPT_NOPROXY) &&
	    has_option(&cmd_connect_entry, "resolve", OPT_RESOLVE),
	    "connect: the proxy block");
	ok(has_option(&cmd_connect_entry, "source", OPT_SOURCE) &&
	    has_option(&cmd_connect_entry, "source-port", OPT_SOURCE_PORT),
	    "connect: the source block");
	ok(!has_option(&cmd_http_head_entry, "tls", OPT_TLS) &&
	    has_option(&cmd_http_head_entry, "cafile", OPT_CAFILE) &&
	    has_option(&cmd_http_head_entry, "insecure", OPT_INSECURE),
	    "http-head: the verify block only");
	ok(has_option(&cmd_http_head_entry, "proxy", OPT_PROXY),
	    "http-head: the proxy block");
	ok(!has_option(&cmd_http_head_entry, "source", OPT_SOURCE),
	    "http-head: no source block");
	ok(has_option(&cmd_serve_entry, "tls", OPT_TLS),
	    "serve's own --tls has the same id as connect's");
	ok(cmd_options(&cmd_connect_entry) == cmd_options(&cmd_connect_entry),
	    "a command's table is built once");
	for (n = 0, o = cmd_options(&cmd_connect_entry); o->name != NULL; o++)
		n += strcmp(o->name, "insecure") == 0;
	is_int((int)n, 1, "each shared option once in a table");
}

int
main(void)
{
	test_order();
	test_values();
	test_errors();
	test_blocks();
	return (tap_done());
}
