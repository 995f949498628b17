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

#ifndef PARSE_H
#define PARSE_H

#include <stddef.h>

/* parse.c: strict parsers for option values; -1 and *cause on error. */
/* A port number or a service name; *cause is PARSE_UNKNOWN_SERVICE for a
   name the services database does not know ("unknown service: NAME"). */
#define PARSE_UNKNOWN_SERVICE	"unknown service"
int		 parse_port(const char *, int allow_zero, const char **cause);
/* The message for parse_port's failure on s, for cmd_fail's "%s". */
const char	*parse_port_error(const char *s, const char *cause, char *,
		     size_t);
int		 parse_size(const char *, size_t *, const char **cause);
int		 parse_seconds(const char *, double *, const char **cause);
/* "[::1]": the brackets around an IPv6 literal taken off, in place. */
char		*parse_unbracket(char *);
/* An octal file mode, at most 0777 (--mode). */
int		 parse_mode(const char *, int *, const char **cause);
int		 parse_count(const char *, long long min, long long max,
		     long long *, const char **cause);
/* Decode \r \n \t \\ \0 \xHH; *out is allocated. -1 with *cause. */
int		 parse_escapes(const char *, char **out, size_t *outlen,
		     const char **cause);

#endif /* PARSE_H */
