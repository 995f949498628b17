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

#include <netinet/in.h>

#include <ctype.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "parse.h"
#include "xmalloc.h"

/*
 * Strict parsers for option values. Every one rejects what strtol would
 * quietly accept (leading blanks, signs, trailing junk, empty strings), so
 * that "--limit ' 64k'" or "connect host 80x" is a usage error, not a
 * surprise.
 */

static int
all_digits(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (0);
	}
	return (1);
}

int
parse_count(const char *s, long long min, long long max, long long *out,
    const char **cause)
{
	const char	*errstr;
	long long	 v;

	if (!all_digits(s, strlen(s))) {
		*cause = "not a number";
		return (-1);
	}
	v = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		*cause = errstr;
		return (-1);
	}
	*out = v;
	return (0);
}

/*
 * A name from the services database ("http", "ssh"), as nc and ncat take
 * them. Names are looked up for TCP only: every port here is a TCP port.
 */
static int
parse_service(const char *s)
{
	struct servent	*se;
	int		 port = -1;

	if ((se = getservbyname(s, "tcp")) != NULL)
		port = ntohs((uint16_t)se->s_port);
	endservent();
	return (port);
}

int
parse_port(const char *s, int allow_zero, const char **cause)
{
	long long	v;
	int		port;

	if (*s != '\0' && !all_digits(s, strlen(s))) {
		if ((port = parse_service(s)) > 0)
			return (port);
		/* "80x" is a mistyped number; "htp" a mistyped name. */
		*cause = isdigit((unsigned char)*s) ?
		    "not a port number (0-65535)" : PARSE_UNKNOWN_SERVICE;
		return (-1);
	}
	if (parse_count(s, allow_zero ? 0 : 1, 65535, &v, cause) != 0) {
		if (strcmp(*cause, "too small") == 0)
			*cause = "port 0 is only valid for serve";
		else
			*cause = "not a port number (0-65535)";
		return (-1);
	}
	return ((int)v);
}

/* Largest --limit: the reader may buffer twice this, so keep it sane. */
#define PARSE_SIZE_MAX	(1024LL * 1024 * 1024)

int
parse_size(const char *s, size_t *out, const char **cause)
{
	size_t		 len = strlen(s);
	long long	 v, mult = 1;

	if (len > 0) {
		switch (s[len - 1]) {
		case 'k': case 'K':
			mult = 1024;
			break;
		case 'm': case 'M':
			mult = 1024 * 1024;
			break;
		case 'g': case 'G':
			mult = 1024 * 1024 * 1024;
			break;
		}
		if (mult != 1)
			len--;
	}
	if (!all_digits(s, len) || len > 12) {
		*cause = "not a size (digits, optionally followed by k, m or g)";
		return (-1);
	}
	v = strtoll(s, NULL, 10);
	if (v == 0) {
		*cause = "must be at least 1";
		return (-1);
	}
	if (v > PARSE_SIZE_MAX / mult) {
		*cause = "too large (at most 1g)";
		return (-1);
	}
	*out = (size_t)(v * mult);
	return (0);
}

/* Longest timeout: a year is surely a typing mistake already. */
#define PARSE_SECONDS_MAX	31536000.0

int
parse_seconds(const char *s, double *out, const char **cause)
{
	const char	*dot = strchr(s, '.');
	size_t		 intlen = dot != NULL ? (size_t)(dot - s) : strlen(s);
	double		 v;

	/* DIGITS, DIGITS.DIGITS, .DIGITS or DIGITS. -- nothing else. */
	if ((intlen > 0 && !all_digits(s, intlen)) ||
	    (dot != NULL && dot[1] != '\0' && !all_digits(dot + 1,
	    strlen(dot + 1))) ||
	    (intlen == 0 && (dot == NULL || dot[1] == '\0'))) {
		*cause = "not a number of seconds";
		return (-1);
	}
	v = strtod(s, NULL);
	if (v <= 0) {
		*cause = "must be more than 0";
		return (-1);
	}
	if (v > PARSE_SECONDS_MAX) {
		*cause = "too large";
		return (-1);
	}
	*out = v;
	return (0);
}

/*
 * A unix socket file's mode, in octal, 0 to 0777. The setuid, setgid and
 * sticky bits mean nothing on a socket and bind() would drop them without
 * a word: refuse them, so the mode set is the mode asked for.
 */
int
parse_mode(const char *s, int *out, const char **cause)
{
	long	v = 0;

	if (*s == '\0' || strlen(s) > 6) {
		*cause = "not an octal mode";
		return (-1);
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '7') {
			*cause = "not an octal mode";
			return (-1);
		}
		v = v * 8 + (*s - '0');
	}
	if (v > 0777) {
		*cause = "setuid, setgid and sticky bits are not kept on a "
		    "socket (at most 0777)";
		return (-1);
	}
	*out = (int)v;
	return (0);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * The escapes of --send and --read-until: \r \n \t \\ \0 (one NUL, never
 * octal: "\012" is NUL, '1', '2') and \xHH with exactly two hex digits.
 * Anything else after a backslash is an error, so a typo cannot send bytes
 * the user did not mean.
 */
int
parse_escapes(const char *s, char **out, size_t *outlen, const char **cause)
{
	char	*buf = xmalloc(strlen(s) + 1);
	size_t	 n = 0;
	int	 hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '\\') {
			buf[n++] = *s;
			continue;
		}
		switch (*++s) {
		case 'r':
			buf[n++] = '\r';
			break;
		case 'n':
			buf[n++] = '\n';
			break;
		case 't':
			buf[n++] = '\t';
			break;
		case '\\':
			buf[n++] = '\\';
			break;
		case '0':
			buf[n++] = '\0';
			break;
		case 'x':
			if ((hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0) {
				*cause = "\\x needs exactly two hex digits";
				goto fail;
			}
			buf[n++] = (char)(hi << 4 | lo);
			s += 2;
			break;
		case '\0':
			*cause = "trailing backslash";
			goto fail;
		default:
			*cause = "unknown escape (use \\r \\n \\t \\\\ \\0 \\xHH)";
			goto fail;
		}
	}
	*out = buf;
	*outlen = n;
	return (0);
fail:
	free(buf);
	return (-1);
}

/*
 * "unknown service: foo" names the word the user typed; a bad number is
 * "port 80x: not a port number (0-65535)".
 */
const char *
parse_port_error(const char *s, const char *cause, char *buf, size_t len)
{
	if (strcmp(cause, PARSE_UNKNOWN_SERVICE) == 0)
		snprintf(buf, len, "%s: %s", cause, s);
	else
		snprintf(buf, len, "port %s: %s", s, cause);
	return (buf);
}

/*
 * "[::1]" as a host: the brackets of URLs and HOST:PORT words are
 * accepted around an IPv6 literal and taken off, in place. Anything else
 * is left as it is (the resolver says what is wrong with it).
 */
char *
parse_unbracket(char *s)
{
	size_t	len = strlen(s);

	if (len >= 4 && s[0] == '[' && s[len - 1] == ']' &&
	    memchr(s + 1, ':', len - 2) != NULL) {
		memmove(s, s + 1, len - 2);
		s[len - 2] = '\0';
	}
	return (s);
}
