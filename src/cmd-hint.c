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
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "cmd.h"
#include "log.h"
#include "parse.h"
#include "suggest.h"
#include "xmalloc.h"

/*
 * The second line of a usage error: what the user most likely meant, said
 * as the command to type. Users come with nc's, ncat's and curl's habits
 * (nc HOST PORT, nc -l PORT, HOST:PORT, --opt value for --opt=value);
 * each gets the cstream way, and a typo gets the closest name from the
 * command and option tables (suggest.c). Every function returns an
 * allocated line without the "hint: " prefix, or NULL.
 */

/* Print a hint line: never starts with "cstream:" (doc/cli.md). */
void
hint_print(const char *hint)
{
	if (hint == NULL)
		return;
	/* Hints repeat the user's words: quote their control bytes. */
	fputs("hint: ", stderr);
	log_puts_quoted(hint);
	fputc('\n', stderr);
}

/* Append word to *buf, double-quoted if the shell would split it. */
static void
hint_append(char **buf, const char *word)
{
	char	*old = *buf;
	int	 quote = word[0] == '\0' || strpbrk(word, " \t'") != NULL;

	xasprintf(buf, "%s%s%s%s%s", old, *old != '\0' ? " " : "",
	    quote ? "\"" : "", word, quote ? "\"" : "");
	free(old);
}

/* A short option cluster of nc's: -l, -lp, -nlvp, -lu (UDP, kept). */
static int
hint_is_nc_cluster(const char *w)
{
	return (w[0] == '-' && w[1] != '-' && w[1] != '\0' &&
	    strspn(w + 1, "lpnvku") == strlen(w + 1));
}

/*
 * nc -l [-p] PORT: "cstream serve" (or unix-serve) with the same words,
 * minus nc's -l, -p and -n, which cstream does not need.
 */
char *
hint_listen(const char *cmd, char **words, int n)
{
	char	*line, *rest = xstrdup(""), w[16];
	int	 i, nports = 0;
	size_t	 k;
	const char	*c;

	for (i = 0; i < n; i++) {
		if (!hint_is_nc_cluster(words[i]) || strlen(words[i]) >=
		    sizeof w) {
			if (words[i][0] != '-')
				nports++;
			hint_append(&rest, words[i]);
			continue;
		}
		k = 0;
		w[k++] = '-';
		for (c = words[i] + 1; *c != '\0'; c++) {
			if (strchr("lpn", *c) == NULL)
				w[k++] = *c;
		}
		w[k] = '\0';
		if (k > 1)
			hint_append(&rest, w);
	}
	if (nports == 0)
		hint_append(&rest, strncmp(cmd, "unix-", 5) == 0 ? "PATH" :
		    "PORT");
	xasprintf(&line, "use 'cstream %s %s'", cmd, rest);
	free(rest);
	return (line);
}

/*
 * nc -u HOST PORT (no command given): "cstream connect" with the same
 * words; -u is connect's own option.
 */
char *
hint_udp(char **words, int n)
{
	char	*line, *rest = xstrdup("");
	int	 i;

	for (i = 0; i < n; i++)
		hint_append(&rest, words[i]);
	xasprintf(&line, "use 'cstream connect %s'", rest);
	free(rest);
	return (line);
}

/* An nc-style cluster with -u and no -l: a UDP client. */
int
hint_is_udp(const char *bad)
{
	return (hint_is_nc_cluster(bad) && strchr(bad, 'u') != NULL &&
	    strchr(bad, 'l') == NULL);
}

/* Is this word an nc-style -l among unknown options? */
int
hint_is_listen(const char *bad)
{
	return (hint_is_nc_cluster(bad) && strchr(bad, 'l') != NULL);
}

/*
 * HOST:PORT, [V6]:PORT: split at the last colon when what follows is a
 * port number and what precedes is a name or a bracketed address.
 */
static int
hint_split_hostport(const char *word, char **host, char **port)
{
	const char	*colon = strrchr(word, ':'), *cause;
	size_t		 hlen;

	if (colon == NULL || colon == word || parse_port(colon + 1, 1,
	    &cause) == -1)
		return (0);
	hlen = colon - word;
	if (word[0] == '[' && word[hlen - 1] == ']') {
		word++;
		hlen -= 2;
	} else if (memchr(word, ':', hlen) != NULL)
		return (0);	/* a bare IPv6 address: no port in it */
	if (hlen == 0)
		return (0);
	*host = xstrdup(word);
	(*host)[hlen] = '\0';
	*port = xstrdup(colon + 1);
	return (1);
}

/* connect HOST:PORT: ncat and socat habits. */
char *
hint_connect_target(const char *cmd, const char *word)
{
	char	*host, *port, *line;

	if (!hint_split_hostport(word, &host, &port))
		return (NULL);
	xasprintf(&line, "use 'cstream %s %s %s'", cmd, host, port);
	free(host);
	free(port);
	return (line);
}

/* The first word is not a command: a typo, a URL, HOST:PORT, nc HOST PORT. */
char *
hint_command(int argc, char **argv, int ci,
    const struct cmd_entry *const *table)
{
	const char	*names[16], *best, *cause;
	char		*line, *rest;
	int		 i, n = 0;

	if (strstr(argv[ci], "://") != NULL) {
		xasprintf(&line, "use 'cstream http-head %s'", argv[ci]);
		return (line);
	}
	for (i = 0; table[i] != NULL && n < 16; i++)
		names[n++] = table[i]->name;
	if ((best = suggest_closest(argv[ci], names, n)) != NULL) {
		xasprintf(&line, "did you mean '%s'?", best);
		return (line);
	}
	if ((line = hint_connect_target("connect", argv[ci])) != NULL)
		return (line);
	if (ci + 1 < argc && parse_port(argv[ci + 1], 1, &cause) != -1) {
		rest = xstrdup("");
		for (i = 1; i < argc; i++)
			hint_append(&rest, argv[i]);
		xasprintf(&line, "use 'cstream connect %s'", rest);
		free(rest);
		return (line);
	}
	return (NULL);
}

/*
 * An unknown long option: the closest name in the table, or every name it
 * begins when it is an ambiguous abbreviation (--read).
 */
char *
hint_option(const char *bad, const struct cmd_option *all, size_t n)
{
	const char	**names, *best;
	char		 *word, *line = NULL, *list;
	size_t		  i, nmatch = 0;

	if (strncmp(bad, "--", 2) != 0 || bad[2] == '\0')
		return (NULL);
	word = xstrdup(bad + 2);
	word[strcspn(word, "=")] = '\0';
	names = xcalloc(n + 1, sizeof *names);
	list = xstrdup("");
	for (i = 0; i < n; i++) {
		names[i] = all[i].name;
		if (*word != '\0' && strncmp(all[i].name, word,
		    strlen(word)) == 0) {
			nmatch++;
			line = list;
			xasprintf(&list, "%s%s'--%s'", line, nmatch > 1 ?
			    ", " : "", all[i].name);
			free(line);
		}
	}
	line = NULL;
	if (nmatch > 1)
		xasprintf(&line, "did you mean one of %s?", list);
	else if ((best = suggest_closest(word, names, n)) != NULL)
		xasprintf(&line, "did you mean '--%s'?", best);
	free(list);
	free(names);
	free(word);
	return (line);
}

/*
 * --progress always: an optional value must follow an '=' (getopt's rule),
 * so "always" became a positional argument. The values come from the
 * option's help argname, "[=always]" or "[=a|b]".
 */
char *
hint_optional_value(const struct cmd_option *o, const char *next)
{
	const char	*v;
	char		*line;
	size_t		 len = strlen(next);

	if (o->argname == NULL || strncmp(o->argname, "[=", 2) != 0 ||
	    len == 0)
		return (NULL);
	for (v = o->argname + 2; *v != '\0' && *v != ']'; v += strcspn(v,
	    "|]")) {
		if (*v == '|')
			v++;
		if (strncmp(v, next, len) == 0 && (v[len] == '|' ||
		    v[len] == ']')) {
			xasprintf(&line, "use '--%s=%s'", o->name, next);
			return (line);
		}
	}
	return (NULL);
}

/* The value of a short option in argv: "-x V" or "-xV", else NULL. */
static const char *
hint_short_value(int argc, char **argv, int letter)
{
	int	i;

	for (i = 0; i < argc; i++) {
		if (argv[i][0] != '-' || argv[i][1] != letter)
			continue;
		if (argv[i][2] != '\0')
			return (argv[i] + 2);
		if (i + 1 < argc)
			return (argv[i + 1]);
	}
	return (NULL);
}

/* Does a -x argument look like nc's proxy HOST:PORT, not a file name? */
int
hint_is_proxy_address(const char *word)
{
	char	*host, *port;
	int	 yes;

	if (strchr(word, '/') != NULL || !hint_split_hostport(word, &host,
	    &port))
		return (0);
	yes = *host != '\0';
	free(host);
	free(port);
	return (yes);
}

/*
 * nc -x HOST:PORT [-X 5|4|connect]: a proxy URL. nc's -X 5 (and 4, which
 * cstream speaks as SOCKS5) is socks5://, connect is http://; -x alone
 * is SOCKS5 to nc, but the proxies people name there are mostly HTTP
 * ones (3128, 8080): http:// unless the port is SOCKS's 1080.
 */
const char *
hint_proxy_scheme(const char *type, const char *hostport)
{
	const char	*colon = strrchr(hostport, ':');

	if (type != NULL)
		return (strcmp(type, "5") == 0 || strcmp(type, "4") == 0 ?
		    "socks5" : "http");
	return (colon != NULL && strcmp(colon, ":1080") == 0 ? "socks5" :
	    "http");
}

/* The hint for nc's proxy flags found in argv. */
char *
hint_nc_proxy(int argc, char **argv)
{
	const char	*x = hint_short_value(argc, argv, 'x');
	const char	*type = hint_short_value(argc, argv, 'X');
	char		*line;

	if (x == NULL || !hint_is_proxy_address(x))
		x = "HOST:PORT";
	xasprintf(&line, "use --proxy %s://%s", hint_proxy_scheme(type, x), x);
	return (line);
}

/*
 * nc's and ncat's everyday flags that cstream spells otherwise, as one
 * line each: letter is the short option (0 for a long one, in bad).
 */
char *
hint_nc_option(const char *cmd, int letter, const char *bad, int argc,
    char **argv)
{
	const char	*server = strstr(cmd, "serve") != NULL ? "1" : NULL;
	const char	*unixcmd = server != NULL ? "unix-serve" : "unix-connect";
	char		*line = NULL, *rest;
	int		 i;

	if (letter == 0 && strcmp(bad, "--ssl") == 0)
		return (xstrdup("use --tls (ncat's --ssl)"));
	switch (letter) {
	case 'X':
		return (hint_nc_proxy(argc, argv));
	case 'w':
		return (xstrdup("nc's -w SEC: use --connect-timeout SEC, or "
		    "--idle-timeout SEC for a connection gone quiet"));
	case 'e':
	case 'c':
		if (server != NULL)
			xasprintf(&line, "use %s \"CMD\" (ncat's -%c)",
			    letter == 'e' ? "--exec" : "--sh-exec", letter);
		else
			xasprintf(&line, "connect runs no program: 'cstream "
			    "serve %s \"CMD\" PORT' runs one per client",
			    letter == 'e' ? "--exec" : "--sh-exec");
		break;
	case 'U':
		xasprintf(&line, "use 'cstream %s PATH'", unixcmd);
		break;
	case 'u':
		return (xstrdup("UDP is 'cstream connect -u HOST PORT' and "
		    "'cstream serve -u PORT'"));
	case 'm':
		return (xstrdup("use --max-conns N (ncat's -m)"));
	case 'z':
		if (*cmd != '\0')
			break;
		/* Before the command (cstream -z HOST PORT): nc's order. */
		line = xstrdup("");
		for (i = 0; i < argc; i++)
			hint_append(&line, argv[i]);
		rest = line;
		xasprintf(&line, "use 'cstream connect %s'", rest);
		free(rest);
		break;
	}
	return (line);
}

/*
 * nc's -q SEC (quit SEC after stdin's EOF) is cstream's -q, --quiet, and
 * SEC became a positional argument: say so if the words go wrong.
 */
char *
hint_nc_quit(int argc, char **argv)
{
	const char	*cause;
	double		 secs;
	int		 i;

	for (i = 0; i + 1 < argc; i++) {
		if (strcmp(argv[i], "-q") == 0 &&
		    parse_seconds(argv[i + 1], &secs, &cause) == 0)
			return (xstrdup("-q is --quiet; nc's -q SEC is not "
			    "needed: the relay ends once stdin's EOF is sent "
			    "and the peer closes"));
	}
	return (NULL);
}
