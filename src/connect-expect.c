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

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "connect.h"
#include "xmalloc.h"

/*
 * --expect REGEX: the bytes a --read* step read must match a POSIX
 * extended regular expression, or connect exits 10 (doc/cli.md,
 * "Expectations"), check_tcp's --expect with a regex. The match is
 * searched (unanchored) as grep -E does: ^ and $ also match at each line
 * of what was read, and a NUL byte does not end it (REG_STARTEND).
 */

#define EXPECT_QUOTE_MAX	160	/* bytes of the reply in the message */

/* Compile the pattern for st; 0, or the exit status of a usage error. */
int
expect_compile(struct conn *c, struct step *st, const struct cmd_arg *a)
{
	char	msg[200];
	int	error;

	if (st->expect != NULL)
		return (cmd_fail(c->ctx, EXIT_USAGE, "%s %s: one --expect per "
		    "--read* option", a->name, a->value));
	st->expect = xcalloc(1, sizeof *st->expect);
	if ((error = regcomp(st->expect, a->value,
	    REG_EXTENDED | REG_NEWLINE | REG_NOSUB)) != 0) {
		regerror(error, st->expect, msg, sizeof msg);
		free(st->expect);
		st->expect = NULL;
		return (cmd_fail(c->ctx, EXIT_USAGE, "%s %s: %s", a->name,
		    a->value, msg));
	}
	st->expect_src = a->value;
	return (0);
}

/* A streamed step (--read-exactly, --read-all) keeps a copy to match. */
void
expect_keep(struct conn *c, struct step *st, struct evbuffer *data)
{
	size_t	have, len, room;

	if (st->expect == NULL)
		return;
	if (st->seen == NULL && (st->seen = evbuffer_new()) == NULL)
		return;
	have = evbuffer_get_length(st->seen);
	len = evbuffer_get_length(data);
	room = stream_limit(c->net) > have ? stream_limit(c->net) - have : 0;
	if (len > room) {
		len = room;
		st->seen_cut = 1;
	}
	if (len > 0) {
		unsigned char *p = evbuffer_pullup(data, (ev_ssize_t)len);

		if (p != NULL)
			evbuffer_add(st->seen, p, len);
	}
}

/* The reply as one printable, bounded line: \r \n \t \\ \' and \xHH. */
static void
expect_quote(const unsigned char *p, size_t len, int cut, char *out,
    size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, o = 0;

	for (i = 0; i < len && o + 8 < outlen && o < EXPECT_QUOTE_MAX; i++) {
		switch (p[i]) {
		case '\r': out[o++] = '\\'; out[o++] = 'r'; continue;
		case '\n': out[o++] = '\\'; out[o++] = 'n'; continue;
		case '\t': out[o++] = '\\'; out[o++] = 't'; continue;
		case '\\': case '\'':
			out[o++] = '\\';
			out[o++] = (char)p[i];
			continue;
		}
		if (p[i] >= 0x20 && p[i] < 0x7f)
			out[o++] = (char)p[i];
		else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 15];
		}
	}
	if ((i < len || cut) && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/*
 * Does what the step read (data, or the copy of a streamed step) match?
 * 0 when it does or nothing was expected; else the message is in *msg
 * and the caller fails with EXIT_EXPECT once the bytes are out.
 */
int
expect_check(struct conn *c, struct step *st, struct evbuffer *data,
    char *msg, size_t msglen)
{
	struct evbuffer	*b = data != NULL ? data : st->seen;
	size_t		 len = b != NULL ? evbuffer_get_length(b) : 0;
	unsigned char	*p;
	regmatch_t	 m[1];
	char		 q[EXPECT_QUOTE_MAX + 8];
	int		 rc;

	if (st->expect == NULL)
		return (0);
	/*
	 * A NUL-terminated copy: REG_STARTEND bounds the match, but a
	 * regexec may still look for the string's end (ASan's does). The
	 * bytes are bounded by the step (--limit for what is kept).
	 */
	p = xmalloc(len + 1);
	if (len > 0)
		evbuffer_copyout(b, p, len);
	p[len] = '\0';
	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)len;
	rc = regexec(st->expect, (const char *)p, 1, m, REG_STARTEND);
	if (rc == 0) {
		free(p);
		return (0);
	}
	expect_quote(p, len, st->seen_cut, q, sizeof q);
	free(p);
	snprintf(msg, msglen, "%s: expected '%s', got '%s'", c->target,
	    st->expect_src, q);
	return (-1);
}

void
expect_free(struct step *st)
{
	if (st->expect != NULL) {
		regfree(st->expect);
		free(st->expect);
		st->expect = NULL;
	}
	if (st->seen != NULL) {
		evbuffer_free(st->seen);
		st->seen = NULL;
	}
}
