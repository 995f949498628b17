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
/* Is err a verification failure for want of a trusted issuer? */
int		 tls_error_is_untrusted(const struct stream_error *);
/* The OpenSSL library cstream runs with, for --version. */
const char	*tls_library_version(void);
/* Certificate subject of the peer, for get_extra_info("peercert"). */
int		 tls_peercert(struct ssl_st *, char *, size_t);

#endif /* TLS_H */
