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

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "net.h"
#include "tls.h"

/*
 * OpenSSL contexts and per-connection setup. The TLS transport itself (a
 * libevent openssl bufferevent, close_notify on close) is in
 * stream-tls.c; this file decides what is trusted and how failures read.
 *
 * Both contexts set SSL_OP_IGNORE_UNEXPECTED_EOF: libevent 2.1.12 only
 * knows OpenSSL 1.1's form of a dirty shutdown, so without it a peer that
 * closes TCP without close_notify is a read error rather than an EOF
 * (doc/libevent-notes.md, fact 6). Most HTTPS servers close that way.
 * They also set SSL_OP_NO_RENEGOTIATION (TLS 1.2 renegotiation is refused,
 * as nginx does): the TLS transport reads with SSL_read outside the
 * bufferevent (stream-tls.c), and a renegotiation would have the
 * bufferevent's SSL_write wait for a read it no longer does.
 */

/*
 * OpenSSL reads the system's configuration (openssl.cnf, or the file
 * OPENSSL_CONF names) as it starts, so a site's crypto policy (a higher
 * security level, fewer cipher suites, a FIPS provider) applies to
 * cstream as to every other program (cstream(1), SECURITY). It does not
 * free its tables at exit (OPENSSL_INIT_NO_ATEXIT): exit(3) does.
 */
static void
tls_init(void)
{
	static int	done;

	if (done)
		return;
	done = 1;
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT,
	    NULL);
}

/* The OpenSSL cstream runs with, as it names itself: "OpenSSL 3.0.x ...". */
const char *
tls_library_version(void)
{
	return (OpenSSL_version(OPENSSL_VERSION));
}

/*
 * A floor under the system's policy, never a ceiling: TLS 1.2 or later
 * and security level 2 (112-bit keys: RSA and DH of 2048 bits or more, no
 * SHA-1 signatures), raised to, never lowered from, what openssl.cnf set
 * on the new context (a policy of TLS 1.3 only, or level 3, stays).
 */
static void
tls_ctx_defaults(SSL_CTX *ctx)
{
	long	min = SSL_CTX_get_min_proto_version(ctx);

	/* 0: no minimum configured. */
	if (min == 0 || min < TLS1_2_VERSION)
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_get_security_level(ctx) < 2)
		SSL_CTX_set_security_level(ctx, 2);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_RENEGOTIATION);
}

/* OpenSSL's reason for the oldest queued error (the root cause). */
static const char *
tls_reason(void)
{
	const char	*r = NULL;
	unsigned long	 e;

	if ((e = ERR_peek_error()) != 0)
		r = ERR_reason_error_string(e);
	return (r != NULL ? r : "unknown error");
}

/* Open the file first, so a missing or unreadable one reads as errno. */
static int
tls_check_file(const char *what, const char *path, struct stream_error *err)
{
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL) {
		stream_error_set(err, STREAM_ESYS, errno, "%s %s: %s", what,
		    path, strerror(errno));
		return (-1);
	}
	fclose(f);
	return (0);
}

static int
tls_load_trust(SSL_CTX *ctx, const char *cafile, struct stream_error *err)
{
	struct stat	 sb;
	int		 rc;

	if (cafile == NULL) {
		if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			stream_error_set(err, STREAM_ETLS, 0,
			    "system trust store: %s", tls_reason());
			return (-1);
		}
		return (0);
	}
	/* A directory is a hashed CApath (c_rehash), as curl's --capath. */
	if (stat(cafile, &sb) == 0 && S_ISDIR(sb.st_mode))
		rc = SSL_CTX_load_verify_locations(ctx, NULL, cafile);
	else {
		if (tls_check_file("cafile", cafile, err) != 0)
			return (-1);
		rc = SSL_CTX_load_verify_locations(ctx, cafile, NULL);
	}
	if (rc != 1) {
		stream_error_set(err, STREAM_ETLS, 0, "cafile %s: %s", cafile,
		    tls_reason());
		return (-1);
	}
	return (0);
}

struct ssl_ctx_st *
tls_client_ctx(const char *cafile, int insecure, struct stream_error *err)
{
	SSL_CTX	*ctx;

	tls_init();
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		stream_error_set(err, STREAM_ETLS, 0, "SSL_CTX_new: %s",
		    tls_reason());
		return (NULL);
	}
	tls_ctx_defaults(ctx);
	if (tls_load_trust(ctx, cafile, err) != 0) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return (NULL);
	}
	SSL_CTX_set_verify(ctx, insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
	    NULL);
	return (ctx);
}

struct ssl_ctx_st *
tls_server_ctx(const char *certfile, const char *keyfile,
    struct stream_error *err)
{
	SSL_CTX		*ctx;
	unsigned long	 e;

	tls_init();
	ERR_clear_error();
	if (tls_check_file("certificate", certfile, err) != 0 ||
	    tls_check_file("key", keyfile, err) != 0)
		return (NULL);
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		stream_error_set(err, STREAM_ETLS, 0, "SSL_CTX_new: %s",
		    tls_reason());
		return (NULL);
	}
	tls_ctx_defaults(ctx);
	if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1) {
		stream_error_set(err, STREAM_ETLS, 0, "certificate %s: %s",
		    certfile, tls_reason());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1) {
		/* OpenSSL 3 checks the pair here already. */
		e = ERR_peek_last_error();
		if (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
		    ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH)
			stream_error_set(err, STREAM_ETLS, 0, "key %s does not "
			    "match certificate %s", keyfile, certfile);
		else
			stream_error_set(err, STREAM_ETLS, 0, "key %s: %s",
			    keyfile, tls_reason());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		stream_error_set(err, STREAM_ETLS, 0, "key %s does not match "
		    "certificate %s", keyfile, certfile);
		goto fail;
	}
	return (ctx);

fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return (NULL);
}

/* The command layer frees its context here rather than in OpenSSL. */
void
tls_ctx_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
}

/*
 * The name to check: brackets around an IPv6 literal and one trailing dot
 * go (neither belongs in SNI, RFC 6066 3). Returns 4 or 6 for an IP
 * literal, else 0.
 */
static int
tls_name(const char *servername, char *buf, size_t len)
{
	struct in6_addr	a6;
	struct in_addr	a4;
	size_t		n;

	n = strlen(servername);
	if (n >= 2 && servername[0] == '[' && servername[n - 1] == ']') {
		servername++;
		n -= 2;
	}
	if (n > 1 && servername[n - 1] == '.')
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(buf, servername, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a4) == 1)
		return (4);
	if (inet_pton(AF_INET6, buf, &a6) == 1)
		return (6);
	return (0);
}

/*
 * A client SSL sends SNI for a host name only (never for an IP literal,
 * RFC 6066 3) and checks the certificate against the name, or against its
 * IP address SANs for a literal, as curl does. Partial wildcards
 * ("w*.example.com") are refused, as curl and browsers do.
 */
struct ssl_st *
tls_ssl_new(struct ssl_ctx_st *ctx, const char *servername, int server,
    struct stream_error *err)
{
	SSL	*ssl;
	char	 name[256];
	int	 ok = 1;

	ERR_clear_error();
	if ((ssl = SSL_new(ctx)) == NULL) {
		stream_error_set(err, STREAM_ETLS, 0, "SSL_new: %s",
		    tls_reason());
		return (NULL);
	}
	if (server || servername == NULL || *servername == '\0')
		return (ssl);
	if (tls_name(servername, name, sizeof name) != 0)
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    name) == 1;
	else {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set_tlsext_host_name(ssl, name) == 1 &&
		    SSL_set1_host(ssl, name) == 1;
	}
	if (!ok) {
		stream_error_set(err, STREAM_ETLS, 0, "tls setup for %s: %s",
		    servername, tls_reason());
		SSL_free(ssl);
		ERR_clear_error();
		return (NULL);
	}
	return (ssl);
}

/*
 * The port of the socket under a client SSL: a host name alone does not
 * say which of its servers refused (libevent gives the SSL a socket BIO).
 */
static void
tls_peer_port(struct ssl_st *ssl, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	int			 fd;

	*buf = '\0';
	if ((fd = SSL_get_fd(ssl)) < 0 ||
	    getpeername(fd, (struct sockaddr *)&ss, &sslen) != 0)
		return;
	if (ss.ss_family == AF_INET)
		snprintf(buf, len, "%u",
		    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	else if (ss.ss_family == AF_INET6)
		snprintf(buf, len, "%u",
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
}

/*
 * Why the handshake failed, in the verifier's words when it refused the
 * certificate ("certificate verify failed: hostname mismatch"), else in
 * OpenSSL's ("wrong version number" for a peer that does not speak TLS).
 * A client names the server: "tls handshake with HOST:PORT".
 */
void
tls_handshake_error(struct ssl_st *ssl, struct stream_error *err)
{
	X509_VERIFY_PARAM	*param;
	const char		*host = NULL;
	char			*ip = NULL, who[300] = "", port[16] = "";
	char			 hp[280];
	long			 v;

	if (ssl != NULL && !SSL_is_server(ssl)) {
		/*
		 * With neither a host nor an IP to check (unix sockets),
		 * get1_ip_asc queues "passed a null parameter": the mark
		 * keeps it from passing for the handshake's own error.
		 */
		ERR_set_mark();
		param = SSL_get0_param(ssl);
		if ((host = X509_VERIFY_PARAM_get0_host(param, 0)) == NULL)
			host = ip = X509_VERIFY_PARAM_get1_ip_asc(param);
		tls_peer_port(ssl, port, sizeof port);
		if (host != NULL && *port != '\0')
			snprintf(who, sizeof who, " with %s", net_hostport(host,
			    port, hp, sizeof hp));
		else if (host != NULL)
			snprintf(who, sizeof who, " with %s", host);
		OPENSSL_free(ip);
		ERR_pop_to_mark();
	}
	if (ssl != NULL && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) &&
	    (v = SSL_get_verify_result(ssl)) != X509_V_OK) {
		stream_error_set(err, STREAM_ETLS, 0, "tls handshake%s: "
		    "certificate verify failed: %s", who,
		    X509_verify_cert_error_string(v));
	} else if (ERR_peek_error() != 0) {
		stream_error_set(err, STREAM_ETLS, 0, "tls handshake%s: %s",
		    who, tls_reason());
	} else {
		stream_error_set(err, STREAM_ETLS, 0, "tls handshake%s: "
		    "connection closed during the handshake", who);
	}
	ERR_clear_error();
}

/*
 * Did the verifier refuse a certificate because nothing it trusts issued
 * it (a private CA, a self-signed server)? Then --cafile or -k is the way
 * out, which a hostname mismatch or an expired certificate would not say.
 */
int
tls_error_is_untrusted(const struct stream_error *err)
{
	static const int	 untrusted[] = {
		X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
		X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
		X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
		X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
		X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
		X509_V_ERR_CERT_UNTRUSTED
	};
	const char		*why, *tail;
	size_t			 i, len = strlen(err->msg), wlen;

	if (err->kind != STREAM_ETLS ||
	    strstr(err->msg, "certificate verify failed: ") == NULL)
		return (0);
	for (i = 0; i < sizeof untrusted / sizeof untrusted[0]; i++) {
		why = X509_verify_cert_error_string(untrusted[i]);
		wlen = strlen(why);
		tail = err->msg + len - (wlen < len ? wlen : len);
		if (strcmp(tail, why) == 0)
			return (1);
	}
	return (0);
}

int
tls_peercert(struct ssl_st *ssl, char *buf, size_t len)
{
	X509	*cert;
	BIO	*bio;
	int	 n;

	if (len == 0 || (cert = SSL_get0_peer_certificate(ssl)) == NULL)
		return (-1);
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return (-1);
	X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
	    XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_read(bio, buf, len - 1);
	BIO_free(bio);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return (0);
}

/*
 * serve --tls without --cert and --key: a throwaway certificate made in
 * memory, as ncat does. P-256 (quick to make), valid from an hour ago
 * for 30 days, for localhost, 127.0.0.1 and ::1; nothing is written to
 * disk. Its SHA-256 fingerprint goes to fp (colon-separated hex), for
 * the warning that lets a client pin it.
 */
static X509 *
tls_selfsigned_cert(EVP_PKEY *key)
{
	X509		*x;
	X509_NAME	*name;
	X509_EXTENSION	*ext;
	X509V3_CTX	 v3;
	unsigned char	 serial[16];
	BIGNUM		*bn = NULL;

	if ((x = X509_new()) == NULL || X509_set_version(x, 2) != 1 ||
	    RAND_bytes(serial, sizeof serial) != 1)
		goto fail;
	serial[0] &= 0x7f;	/* positive */
	if ((bn = BN_bin2bn(serial, sizeof serial, NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto fail;
	if (X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) == NULL ||
	    X509_set_pubkey(x, key) != 1)
		goto fail;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto fail;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "DNS:localhost,IP:127.0.0.1,IP:::1")) == NULL)
		goto fail;
	if (X509_add_ext(x, ext, -1) != 1) {
		X509_EXTENSION_free(ext);
		goto fail;
	}
	X509_EXTENSION_free(ext);
	if (X509_sign(x, key, EVP_sha256()) == 0)
		goto fail;
	BN_free(bn);
	return (x);

fail:
	BN_free(bn);
	X509_free(x);
	return (NULL);
}

struct ssl_ctx_st *
tls_server_ctx_selfsigned(char *fp, size_t fplen, struct stream_error *err)
{
	SSL_CTX		*ctx = NULL;
	EVP_PKEY	*key;
	X509		*x = NULL;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	size_t		 off = 0;

	tls_init();
	ERR_clear_error();
	if ((key = EVP_EC_gen("P-256")) == NULL ||
	    (x = tls_selfsigned_cert(key)) == NULL ||
	    X509_digest(x, EVP_sha256(), md, &mdlen) != 1 ||
	    (ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		stream_error_set(err, STREAM_ETLS, 0, "self-signed "
		    "certificate: %s", tls_reason());
		goto out;
	}
	tls_ctx_defaults(ctx);
	if (SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		stream_error_set(err, STREAM_ETLS, 0, "self-signed "
		    "certificate: %s", tls_reason());
		SSL_CTX_free(ctx);
		ctx = NULL;
		goto out;
	}
	for (i = 0; i < mdlen && off + 3 < fplen; i++)
		off += (size_t)snprintf(fp + off, fplen - off, "%s%02X",
		    i > 0 ? ":" : "", md[i]);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return (ctx);
}
