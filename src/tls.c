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

#include "compat.h"
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

/*
 * What tls_ssl_new and the server's ALPN choice need from the
 * configuration, kept with the context (freed with it).
 */
struct tls_extra {
	int		 no_sni;
	unsigned char	*alpn;		/* server: its list, wire format */
	unsigned int	 alpnlen;
};

static void
tls_extra_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct tls_extra	*x = ptr;

	if (x != NULL) {
		free(x->alpn);
		free(x);
	}
}

static int
tls_extra_index(void)
{
	static int	idx = -1;

	if (idx == -1)
		idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
		    tls_extra_free);
	return (idx);
}

static struct tls_extra *
tls_extra(SSL_CTX *ctx)
{
	return (SSL_CTX_get_ex_data(ctx, tls_extra_index()));
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
	SSL		 *ssl;
	struct tls_extra *x = tls_extra(ctx);
	char		  name[256];
	int		  ok = 1;

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
		/* --no-sni: the name is still the one verified. */
		ok = ((x != NULL && x->no_sni) ||
		    SSL_set_tlsext_host_name(ssl, name) == 1) &&
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
 * The failures an operator meets with client certificates, ALPN and
 * version bounds, said in their words before OpenSSL's reason (which
 * follows in parentheses): "" for the others.
 */
static const char *
tls_what(SSL *ssl, unsigned long e)
{
	int	server = ssl != NULL && SSL_is_server(ssl);

	switch (ERR_GET_REASON(e)) {
	case SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
	case SSL_R_NO_APPLICATION_PROTOCOL:
		return ("no ALPN protocol in common (");
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_WRONG_SSL_VERSION:
		return ("no TLS version in common (");
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		return ("no client certificate (");
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		/* TLS 1.2's answer to a client that had no certificate. */
		if (!server && ssl != NULL && SSL_get_certificate(ssl) == NULL &&
		    sk_X509_NAME_num(SSL_get_client_CA_list(ssl)) > 0)
			return ("no client certificate (");
		return ("");
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
		/* A server hears these about its own certificate. */
		return (server ? "" : "client certificate refused (");
	}
	return ("");
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
		    "%scertificate verify failed: %s", who,
		    SSL_is_server(ssl) ? "client " : "",
		    X509_verify_cert_error_string(v));
	} else if (ERR_peek_error() != 0) {
		stream_error_set(err, STREAM_ETLS, 0, "tls handshake%s: %s%s%s",
		    who, tls_what(ssl, ERR_peek_error()), tls_reason(),
		    *tls_what(ssl, ERR_peek_error()) != '\0' ? ")" : "");
	} else {
		stream_error_set(err, STREAM_ETLS, 0, "tls handshake%s: "
		    "connection closed during the handshake", who);
	}
	ERR_clear_error();
}

/*
 * An error after the handshake (TLS 1.3 sends the server's verdict on a
 * client certificate with the first records): OpenSSL's reason for e,
 * after the words of tls_what.
 */
void
tls_error_words(struct ssl_st *ssl, unsigned long e, char *buf, size_t len)
{
	const char	*what = tls_what(ssl, e);
	const char	*r = ERR_reason_error_string(e);

	snprintf(buf, len, "%s%s%s", what, r != NULL ? r : "unknown error",
	    *what != '\0' ? ")" : "");
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

/* --tls-min, --tls-max: the two versions cstream speaks. */
int
tls_parse_version(const char *s)
{
	if (strcmp(s, "1.2") == 0)
		return (TLS1_2_VERSION);
	if (strcmp(s, "1.3") == 0)
		return (TLS1_3_VERSION);
	return (-1);
}

int
tls_check_alpn(const char *list, const char **cause)
{
	const char	*p = list, *comma;
	size_t		 n;

	if (*list == '\0') {
		*cause = "empty protocol list";
		return (-1);
	}
	for (;;) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n > 255) {
			*cause = n == 0 ? "empty protocol name" :
			    "protocol name longer than 255 bytes";
			return (-1);
		}
		if (comma == NULL)
			return (0);
		p = comma + 1;
	}
}

/* "h2,http/1.1" in the wire format of RFC 7301 3.1: length-prefixed. */
static unsigned char *
tls_alpn_wire(const char *list, unsigned int *len)
{
	unsigned char	*w;
	const char	*p = list, *comma;
	size_t		 n, at = 0;

	w = malloc(strlen(list) + 1);
	if (w == NULL)
		return (NULL);
	for (;;) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		w[at++] = (unsigned char)n;
		memcpy(w + at, p, n);
		at += n;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*len = (unsigned int)at;
	return (w);
}

/*
 * RFC 7301 3.2: the server picks, here the first of its own list the
 * client offers; with no protocol in common the handshake fails with
 * no_application_protocol. A client offering none gets none.
 */
static int
tls_alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	struct tls_extra	*x = tls_extra(SSL_get_SSL_CTX(ssl));
	unsigned char		*sel;

	if (x == NULL || x->alpn == NULL)
		return (SSL_TLSEXT_ERR_NOACK);
	if (SSL_select_next_proto(&sel, outlen, x->alpn, x->alpnlen, in,
	    inlen) != OPENSSL_NPN_NEGOTIATED)
		return (SSL_TLSEXT_ERR_ALERT_FATAL);
	*out = sel;
	return (SSL_TLSEXT_ERR_OK);
}

/* A client's certificate and key: ESYS when unreadable, else ETLS. */
static int
tls_use_client_cert(SSL_CTX *ctx, const char *cert, const char *key,
    struct stream_error *err)
{
	if (key == NULL)
		key = cert;	/* both in one PEM file, as curl's --cert */
	if (tls_check_file("certificate", cert, err) != 0 ||
	    tls_check_file("key", key, err) != 0)
		return (-1);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		stream_error_set(err, STREAM_ETLS, 0, "certificate %s: %s",
		    cert, tls_reason());
		return (-1);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH)
			stream_error_set(err, STREAM_ETLS, 0, "key %s does "
			    "not match certificate %s", key, cert);
		else
			stream_error_set(err, STREAM_ETLS, 0, "key %s: %s",
			    key, tls_reason());
		return (-1);
	}
	return (0);
}

/* --client-ca: request client certificates and verify them against FILE. */
static int
tls_use_client_ca(SSL_CTX *ctx, const char *file, int required,
    struct stream_error *err)
{
	STACK_OF(X509_NAME)	*names;

	if (tls_check_file("client-ca", file, err) != 0)
		return (-1);
	if (SSL_CTX_load_verify_locations(ctx, file, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(file)) == NULL) {
		stream_error_set(err, STREAM_ETLS, 0, "client-ca %s: %s", file,
		    ERR_peek_error() != 0 ? tls_reason() : "no certificate");
		return (-1);
	}
	/* The CA names go in CertificateRequest, as nginx and stunnel do. */
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    (required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	return (0);
}

int
tls_ctx_configure(struct ssl_ctx_st *ctx, const struct tls_config *cfg,
    int server, struct stream_error *err)
{
	struct tls_extra	*x;
	unsigned char		*w = NULL;
	unsigned int		 wlen = 0;

	ERR_clear_error();
	if (cfg->min_version != 0)
		SSL_CTX_set_min_proto_version(ctx, cfg->min_version);
	if (cfg->max_version != 0)
		SSL_CTX_set_max_proto_version(ctx, cfg->max_version);
	if (cfg->alpn != NULL && (w = tls_alpn_wire(cfg->alpn, &wlen)) == NULL) {
		stream_error_set(err, STREAM_ESYS, ENOMEM, "alpn: %s",
		    strerror(ENOMEM));
		return (-1);
	}
	if (!server && w != NULL && SSL_CTX_set_alpn_protos(ctx, w, wlen) != 0) {
		free(w);
		stream_error_set(err, STREAM_ETLS, 0, "alpn: %s", tls_reason());
		return (-1);
	}
	if ((x = calloc(1, sizeof *x)) == NULL ||
	    SSL_CTX_set_ex_data(ctx, tls_extra_index(), x) != 1) {
		free(x);
		free(w);
		stream_error_set(err, STREAM_ESYS, ENOMEM, "tls: %s",
		    strerror(ENOMEM));
		return (-1);
	}
	x->no_sni = cfg->no_sni;
	if (server && w != NULL) {
		x->alpn = w;
		x->alpnlen = wlen;
		SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_select_cb, NULL);
	} else
		free(w);
	if ((!server && cfg->certfile != NULL && tls_use_client_cert(ctx,
	    cfg->certfile, cfg->keyfile, err) != 0) ||
	    (server && cfg->client_ca != NULL && tls_use_client_ca(ctx,
	    cfg->client_ca, cfg->client_required, err) != 0)) {
		ERR_clear_error();
		return (-1);
	}
	return (0);
}

/* The SHA-256 fingerprint of cert, 64 lowercase hex digits. */
static int
tls_sha256(X509 *cert, char *buf, size_t len)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n, i;

	if (len < 65 || X509_digest(cert, EVP_sha256(), md, &n) != 1)
		return (-1);
	for (i = 0; i < n && i < 32; i++)
		snprintf(buf + 2 * i, 3, "%02x", md[i]);
	return (0);
}

int
tls_info(struct ssl_st *ssl, const char *name, char *buf, size_t len)
{
	const unsigned char	*alpn;
	unsigned int		 alpnlen;
	X509			*cert;

	if (len == 0)
		return (-1);
	*buf = '\0';
	if (strcmp(name, "version") == 0)
		strlcpy(buf, SSL_get_version(ssl), len);
	else if (strcmp(name, "cipher") == 0)
		strlcpy(buf, SSL_get_cipher_name(ssl), len);
	else if (strcmp(name, "alpn") == 0) {
		SSL_get0_alpn_selected(ssl, &alpn, &alpnlen);
		if (alpn != NULL && alpnlen < len) {
			memcpy(buf, alpn, alpnlen);
			buf[alpnlen] = '\0';
		}
	} else if (strcmp(name, "subject") == 0) {
		if (tls_peercert(ssl, buf, len) != 0)
			*buf = '\0';
	} else if (strcmp(name, "sha256") == 0) {
		if ((cert = SSL_get0_peer_certificate(ssl)) == NULL ||
		    tls_sha256(cert, buf, len) != 0)
			*buf = '\0';
	} else
		return (-1);
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
