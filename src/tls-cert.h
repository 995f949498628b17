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


#ifndef TLS_CERT_H
#define TLS_CERT_H

/*
 * tls-cert.c: the peer's certificate chain as an operator reads it
 * (connect --show-cert, http-head --json) and the expiry check of
 * --expire-warn, in check_http's words.
 */

#include <stddef.h>
#include <stdio.h>
#include <time.h>

struct ssl_st;

struct tls_cert {
	char		*subject;	/* one line, as "peercert" */
	char		*issuer;
	char		*cn;		/* commonName, else the subject */
	char		**san;		/* "DNS:name", "IP:addr", ... */
	size_t		 nsan;
	time_t		 not_before;
	time_t		 not_after;
	char		 key[48];	/* "EC 256", "RSA 2048" */
	char		 sha256[65];
	char		*pem;
};

struct tls_summary {
	char		 version[32];
	char		 cipher[64];
	char		 alpn[256];	/* "" when none was agreed */
	int		 verified;	/* chain and name checked and good */
	char		 verify[128];	/* "ok" or the verifier's reason */
	struct tls_cert	*chain;		/* as the server sent it, leaf first */
	size_t		 nchain;
};

/* Read what ssl negotiated and the chain its peer sent: 0, or -1. */
int		 tls_summary_get(struct ssl_st *, struct tls_summary *);
void		 tls_summary_free(struct tls_summary *);
/* One JSON object (allocated): the leaf's fields, then "chain". */
char		*tls_summary_json(const struct tls_summary *, time_t now);
/* --show-cert: the chain for a terminal; =pem: as s_client -showcerts. */
void		 tls_summary_print(FILE *, const struct tls_summary *,
		     time_t now);
void		 tls_summary_print_pem(FILE *, const struct tls_summary *);
/*
 * --expire-warn DAYS: 0 when every certificate sent is valid for DAYS
 * more days (openssl x509 -checkend's rule), else 1 with the soonest to
 * expire described in msg, in check_http's words.
 */
int		 tls_summary_expiry(const struct tls_summary *, long long days,
		     time_t now, char *msg, size_t len);

#endif /* TLS_CERT_H */
