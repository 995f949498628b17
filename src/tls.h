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


#ifndef TLS_H
#define TLS_H

/* tls.c: OpenSSL contexts, per-connection setup, errors. */

#include <stddef.h>

#include "error.h"

struct ssl_ctx_st;
struct ssl_st;

struct ssl_ctx_st *tls_client_ctx(const char *cafile, int insecure,
		     struct stream_error *);
struct ssl_ctx_st *tls_server_ctx(const char *certfile, const char *keyfile,
		     struct stream_error *);
/*
 * A server context with a throwaway self-signed certificate made in
 * memory (localhost, 127.0.0.1, ::1); its SHA-256 fingerprint in fp as
 * "AB:CD:...", which needs TLS_FINGERPRINT_LEN bytes.
 */
#define TLS_FINGERPRINT_LEN	(32 * 3)
struct ssl_ctx_st *tls_server_ctx_selfsigned(char *fp, size_t fplen,
		     struct stream_error *);
/* Free a context from tls_client_ctx or tls_server_ctx; NULL is fine. */
void		 tls_ctx_free(struct ssl_ctx_st *);
/* A new SSL for one connection: SNI and host/IP verification (client). */
struct ssl_st	*tls_ssl_new(struct ssl_ctx_st *, const char *servername,
		     int server, struct stream_error *);
/* Describe a failed handshake: the verifier's reason, or OpenSSL's. */
void		 tls_handshake_error(struct ssl_st *,
		     struct stream_error *);
/* OpenSSL error e in words: "no client certificate (tlsv13 alert ...)". */
void		 tls_error_words(struct ssl_st *, unsigned long e, char *,
		     size_t);
/* Is err a verification failure for want of a trusted issuer? */
int		 tls_error_is_untrusted(const struct stream_error *);
/* The OpenSSL library cstream runs with, for --version. */
const char	*tls_library_version(void);
/* Certificate subject of the peer, for get_extra_info("peercert"). */
int		 tls_peercert(struct ssl_st *, char *, size_t);

/*
 * What a context does beyond trust and its own certificate: a client's
 * certificate, ALPN, SNI, the protocol versions, and a server's request
 * for client certificates. Zero-filled: OpenSSL's defaults as before.
 */
struct tls_config {
	const char	*certfile;	/* client: --cert (a chain allowed) */
	const char	*keyfile;	/* client: --key, NULL: in certfile */
	const char	*alpn;		/* "h2,http/1.1", or NULL */
	int		 min_version;	/* TLS1_2_VERSION, TLS1_3_VERSION, 0 */
	int		 max_version;
	int		 no_sni;	/* client: no server_name extension */
	const char	*client_ca;	/* server: verify client certificates */
	int		 client_required; /* server: refuse a client without */
};

/* "1.2" or "1.3" as OpenSSL's version number; -1 for anything else. */
int		 tls_parse_version(const char *);
/*
 * Check an ALPN list ("h2,http/1.1": names of 1 to 255 bytes, comma
 * separated): 0, or -1 with a static *cause.
 */
int		 tls_check_alpn(const char *, const char **cause);
/*
 * Apply cfg to a context from tls_client_ctx or tls_server_ctx: -1 with
 * err (ESYS for a file that cannot be opened, ETLS otherwise).
 */
int		 tls_ctx_configure(struct ssl_ctx_st *, const struct tls_config *,
		     int server, struct stream_error *);
/*
 * Facts of an established connection for -v and JSON, "" when there is
 * none: "version" (TLSv1.3), "cipher", "alpn", "subject" (the peer
 * certificate's, one line), "sha256" (its fingerprint, 64 lowercase hex
 * digits).
 */
int		 tls_info(struct ssl_st *, const char *name, char *, size_t);

#endif /* TLS_H */
