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

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "compat.h"
#include "tls.h"
#include "tls-cert.h"
#include "xmalloc.h"

/*
 * The peer's chain as an operator asks about it: who, issued by whom, for
 * which names, until when, and what the handshake agreed on. The answers
 * openssl s_client | openssl x509 -noout gives, read once after the
 * handshake, and the expiry check monitoring does with check_http -C.
 */

/* A BIO's contents as a string (allocated). */
static char *
tls_bio_string(BIO *bio)
{
	char	*data, *s;
	long	 n;

	n = BIO_get_mem_data(bio, &data);
	if (n < 0)
		n = 0;
	s = xmalloc((size_t)n + 1);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return (s);
}

/* A name on one line, in the form of "peercert" (tls.c). */
static char *
tls_name_string(const X509_NAME *name)
{
	BIO	*bio;
	char	*s;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return (xstrdup(""));
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE &
	    ~ASN1_STRFLGS_ESC_MSB);
	s = tls_bio_string(bio);
	BIO_free(bio);
	return (s);
}

static char *
tls_cn(X509 *cert, const char *subject)
{
	X509_NAME_ENTRY	*e;
	ASN1_STRING	*d;
	unsigned char	*u;
	char		*s;
	int		 i, n;

	i = X509_NAME_get_index_by_NID(X509_get_subject_name(cert),
	    NID_commonName, -1);
	if (i < 0 || (e = X509_NAME_get_entry(X509_get_subject_name(cert),
	    i)) == NULL || (d = X509_NAME_ENTRY_get_data(e)) == NULL ||
	    (n = ASN1_STRING_to_UTF8(&u, d)) < 0)
		return (xstrdup(subject));
	s = xmalloc((size_t)n + 1);
	memcpy(s, u, (size_t)n);
	s[n] = '\0';
	OPENSSL_free(u);
	return (s);
}

static void
tls_add_san(struct tls_cert *c, const char *kind, const char *v, size_t n)
{
	c->san = xreallocarray(c->san, c->nsan + 1, sizeof *c->san);
	xasprintf(&c->san[c->nsan++], "%s:%.*s", kind, (int)n, v);
}

/* subjectAltName: DNS names, IP addresses, emails and URIs, in order. */
static void
tls_sans(X509 *cert, struct tls_cert *c)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*g;
	const unsigned char *d;
	char		 ip[64];
	int		 i, n;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (gens == NULL)
		return;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS || g->type == GEN_EMAIL ||
		    g->type == GEN_URI) {
			d = ASN1_STRING_get0_data(g->d.ia5);
			n = ASN1_STRING_length(g->d.ia5);
			tls_add_san(c, g->type == GEN_DNS ? "DNS" :
			    g->type == GEN_EMAIL ? "email" : "URI",
			    (const char *)d, (size_t)n);
		} else if (g->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(g->d.ip);
			n = ASN1_STRING_length(g->d.ip);
			if (n == 4)
				snprintf(ip, sizeof ip, "%u.%u.%u.%u", d[0],
				    d[1], d[2], d[3]);
			else if (n != 16 || inet_ntop(AF_INET6, d, ip,
			    sizeof ip) == NULL)
				continue;
			tls_add_san(c, "IP", ip, strlen(ip));
		}
	}
	GENERAL_NAMES_free(gens);
}

static time_t
tls_time(const ASN1_TIME *t)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return (0);
	return (timegm(&tm));
}

static void
tls_key(X509 *cert, char *buf, size_t len)
{
	EVP_PKEY	*pk = X509_get0_pubkey(cert);
	const char	*type = "unknown";

	if (pk == NULL) {
		strlcpy(buf, type, len);
		return;
	}
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:	type = "RSA"; break;
	case EVP_PKEY_RSA_PSS:	type = "RSA-PSS"; break;
	case EVP_PKEY_EC:	type = "EC"; break;
	case EVP_PKEY_ED25519:	type = "Ed25519"; break;
	case EVP_PKEY_ED448:	type = "Ed448"; break;
	case EVP_PKEY_DSA:	type = "DSA"; break;
	}
	snprintf(buf, len, "%s %d", type, EVP_PKEY_get_bits(pk));
}

static void
tls_cert_read(X509 *cert, struct tls_cert *c)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n, i;
	BIO		*bio;

	c->subject = tls_name_string(X509_get_subject_name(cert));
	c->issuer = tls_name_string(X509_get_issuer_name(cert));
	c->cn = tls_cn(cert, c->subject);
	tls_sans(cert, c);
	c->not_before = tls_time(X509_get0_notBefore(cert));
	c->not_after = tls_time(X509_get0_notAfter(cert));
	tls_key(cert, c->key, sizeof c->key);
	if (X509_digest(cert, EVP_sha256(), md, &n) == 1) {
		for (i = 0; i < n && i < 32; i++)
			snprintf(c->sha256 + 2 * i, 3, "%02x", md[i]);
	}
	if ((bio = BIO_new(BIO_s_mem())) != NULL) {
		PEM_write_bio_X509(bio, cert);
		c->pem = tls_bio_string(bio);
		BIO_free(bio);
	} else
		c->pem = xstrdup("");
}

int
tls_summary_get(struct ssl_st *ssl, struct tls_summary *sum)
{
	STACK_OF(X509)	*chain;
	X509		*leaf;
	long		 v;
	int		 i, n;

	memset(sum, 0, sizeof *sum);
	tls_info(ssl, "version", sum->version, sizeof sum->version);
	tls_info(ssl, "cipher", sum->cipher, sizeof sum->cipher);
	tls_info(ssl, "alpn", sum->alpn, sizeof sum->alpn);
	/*
	 * Verification ran even with -k (SSL_VERIFY_NONE only lets the
	 * handshake go on): its result is what a certificate check wants.
	 */
	v = SSL_get_verify_result(ssl);
	sum->verified = v == X509_V_OK;
	strlcpy(sum->verify, v == X509_V_OK ? "ok" :
	    X509_verify_cert_error_string(v), sizeof sum->verify);
	/* A client's chain starts with the leaf; a server's does not. */
	chain = SSL_get_peer_cert_chain(ssl);
	leaf = SSL_get0_peer_certificate(ssl);
	n = chain != NULL ? sk_X509_num(chain) : 0;
	if (n == 0 && leaf == NULL)
		return (-1);
	sum->chain = xcalloc((size_t)n + 1, sizeof *sum->chain);
	if (n == 0 || (SSL_is_server(ssl) && leaf != NULL))
		tls_cert_read(leaf, &sum->chain[sum->nchain++]);
	for (i = 0; i < n; i++)
		tls_cert_read(sk_X509_value(chain, i),
		    &sum->chain[sum->nchain++]);
	return (0);
}

void
tls_summary_free(struct tls_summary *sum)
{
	struct tls_cert	*c;
	size_t		 i, j;

	for (i = 0; i < sum->nchain; i++) {
		c = &sum->chain[i];
		free(c->subject);
		free(c->issuer);
		free(c->cn);
		for (j = 0; j < c->nsan; j++)
			free(c->san[j]);
		free(c->san);
		free(c->pem);
	}
	free(sum->chain);
	memset(sum, 0, sizeof *sum);
}

/* ISO 8601 in UTC: 2026-12-31T23:59:59Z. */
static void
tls_iso(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Whole days left, truncated toward zero, as check_http counts them. */
static long long
tls_days_left(const struct tls_cert *c, time_t now)
{
	return ((long long)(c->not_after - now) / 86400);
}

static void
tls_json_string(FILE *f, const char *s)
{
	const unsigned char	*p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* One certificate's members, without braces. */
static void
tls_json_cert(FILE *f, const struct tls_cert *c, time_t now)
{
	char	nb[32], na[32];
	size_t	i;

	tls_iso(c->not_before, nb, sizeof nb);
	tls_iso(c->not_after, na, sizeof na);
	fputs("\"subject\":", f);
	tls_json_string(f, c->subject);
	fputs(",\"issuer\":", f);
	tls_json_string(f, c->issuer);
	fputs(",\"cn\":", f);
	tls_json_string(f, c->cn);
	fputs(",\"san\":[", f);
	for (i = 0; i < c->nsan; i++) {
		if (i > 0)
			fputc(',', f);
		tls_json_string(f, c->san[i]);
	}
	fprintf(f, "],\"not_before\":\"%s\",\"not_after\":\"%s\","
	    "\"days_left\":%lld,\"key\":", nb, na, tls_days_left(c, now));
	tls_json_string(f, c->key);
	fprintf(f, ",\"sha256\":\"%s\"", c->sha256);
}

char *
tls_summary_json(const struct tls_summary *sum, time_t now)
{
	FILE	*f;
	char	*s = NULL;
	size_t	 len, i;

	if ((f = open_memstream(&s, &len)) == NULL)
		return (xstrdup("{}"));
	fputc('{', f);
	if (sum->nchain > 0) {
		tls_json_cert(f, &sum->chain[0], now);
		fputc(',', f);
	}
	fprintf(f, "\"verified\":%s,\"verify_result\":",
	    sum->verified ? "true" : "false");
	tls_json_string(f, sum->verify);
	fputs(",\"version\":", f);
	tls_json_string(f, sum->version);
	fputs(",\"cipher\":", f);
	tls_json_string(f, sum->cipher);
	fputs(",\"alpn\":", f);
	if (sum->alpn[0] != '\0')
		tls_json_string(f, sum->alpn);
	else
		fputs("null", f);
	fputs(",\"chain\":[", f);
	for (i = 0; i < sum->nchain; i++) {
		fputs(i > 0 ? ",{" : "{", f);
		tls_json_cert(f, &sum->chain[i], now);
		fputc('}', f);
	}
	fputs("]}", f);
	fclose(f);
	return (s);
}

void
tls_summary_print(FILE *f, const struct tls_summary *sum, time_t now)
{
	const struct tls_cert	*c;
	char			 nb[32], na[32];
	size_t			 i, j;

	for (i = 0; i < sum->nchain; i++) {
		c = &sum->chain[i];
		tls_iso(c->not_before, nb, sizeof nb);
		tls_iso(c->not_after, na, sizeof na);
		fprintf(f, "certificate %zu%s\n", i, i == 0 ? " (leaf)" : "");
		fprintf(f, "  subject:    %s\n", c->subject);
		fprintf(f, "  issuer:     %s\n", c->issuer);
		fputs("  san:        ", f);
		for (j = 0; j < c->nsan; j++)
			fprintf(f, "%s%s", j > 0 ? ", " : "", c->san[j]);
		fprintf(f, "%s\n", c->nsan == 0 ? "(none)" : "");
		fprintf(f, "  not before: %s\n", nb);
		fprintf(f, "  not after:  %s (%lld days left)\n", na,
		    tls_days_left(c, now));
		fprintf(f, "  key:        %s\n", c->key);
		fprintf(f, "  sha256:     %s\n", c->sha256);
	}
	fprintf(f, "verified:     %s\n", sum->verified ? "yes" : "no");
	fprintf(f, "verification: %s\n", sum->verify);
	fprintf(f, "version:      %s\n", sum->version);
	fprintf(f, "cipher:       %s\n", sum->cipher);
	fprintf(f, "alpn:         %s\n", sum->alpn[0] != '\0' ? sum->alpn :
	    "(none)");
}

/* As openssl s_client -showcerts: " N s:subject", "   i:issuer", PEM. */
void
tls_summary_print_pem(FILE *f, const struct tls_summary *sum)
{
	size_t	i;

	for (i = 0; i < sum->nchain; i++)
		fprintf(f, "%2zu s:%s\n   i:%s\n%s", i, sum->chain[i].subject,
		    sum->chain[i].issuer, sum->chain[i].pem);
}

/*
 * check_http -C's wording: "certificate 'CN' expires in N days (DATE)",
 * hours (or minutes) under a day, "expired on DATE" once past. Which
 * certificate: the leaf unless said, else its place in the chain.
 */
int
tls_summary_expiry(const struct tls_summary *sum, long long days, time_t now,
    char *msg, size_t len)
{
	const struct tls_cert	*c, *worst = NULL;
	char			 date[32], which[48] = "";
	long long		 left, n;
	size_t			 i, at = 0;

	for (i = 0; i < sum->nchain; i++) {
		c = &sum->chain[i];
		/* x509 -checkend: expires within the next DAYS * 86400 s. */
		if ((long long)(c->not_after - now) >= days * 86400)
			continue;
		if (worst == NULL || c->not_after < worst->not_after) {
			worst = c;
			at = i;
		}
	}
	if (worst == NULL)
		return (0);
	tls_iso(worst->not_after, date, sizeof date);
	if (at > 0)
		snprintf(which, sizeof which, ", chain certificate %zu", at);
	left = (long long)(worst->not_after - now);
	if (left < 0)
		snprintf(msg, len, "certificate '%s' expired on %s%s",
		    worst->cn, date, which);
	else if ((n = left / 86400) > 0)
		snprintf(msg, len, "certificate '%s' expires in %lld days "
		    "(%s)%s", worst->cn, n, date, which);
	else if ((n = left / 3600) > 0)
		snprintf(msg, len, "certificate '%s' expires in %lld hours "
		    "(%s)%s", worst->cn, n, date, which);
	else
		snprintf(msg, len, "certificate '%s' expires in %lld minutes "
		    "(%s)%s", worst->cn, left / 60, date, which);
	return (1);
}
