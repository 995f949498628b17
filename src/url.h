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


#ifndef URL_H
#define URL_H

/* url.c: http and https URLs (RFC 3986), redirect targets. */
struct url {
	int		 tls;		/* https */
	char		*host;		/* as given, IPv6 without brackets */
	char		*port;		/* always set: given, or 80 / 443 */
	char		*target;	/* path?query as given, "/" if empty */
	int		 ip;		/* 4 or 6 for an IP literal, else 0 */
	int		 default_port;	/* port is the scheme's default */
};
/* Parse an absolute URL. -1 with a static *cause; *u untouched then. */
int		 url_parse(const char *, struct url *, const char **cause);
/* Resolve a (Location) reference against base (RFC 3986 5.2). */
int		 url_resolve(const struct url *base, const char *ref,
		     struct url *, const char **cause);
/* "https://[::1]:8443/a?b": the port only when not the default. */
char		*url_string(const struct url *);
/* The Host header value: "name", "name:8080", "[::1]:8443". */
char		*url_authority(const struct url *);
/* Same scheme, host (case-insensitive) and port. */
int		 url_same_origin(const struct url *, const struct url *);
void		 url_free(struct url *);

/* The URL with its user information masked, for messages (allocated). */
char		*url_redact(const char *);

#endif /* URL_H */
