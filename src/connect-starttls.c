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


#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "compat.h"
#include "connect.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

/*
 * connect --starttls PROTO: the plain phase of a protocol that upgrades
 * its connection to TLS, as openssl s_client -starttls runs it, with
 * every reply checked. Then the TLS handshake over the same socket
 * (stream_start_tls) hands the stream to conn_connected_cb as --tls
 * would. A server that does not offer the upgrade or refuses it is a
 * protocol error (exit 8) quoting its reply.
 *
 *	smtp	 greeting 220, EHLO, 250 listing STARTTLS, STARTTLS, 220
 *		 (RFC 3207; the EHLO after TLS is the caller's)
 *	imap	 greeting * OK, CAPABILITY listing STARTTLS, STARTTLS, OK
 *		 (RFC 9051 6.2.1)
 *	pop3	 greeting +OK, STLS, +OK (RFC 2595 4)
 *	ftp	 greeting 220, AUTH TLS, 234 (RFC 4217 4)
 *	postgres SSLRequest, 'S' (PostgreSQL's protocol, 53.2.10)
 */

#define STARTTLS_MAX_LINES	100	/* lines of one reply */
#define STARTTLS_QUOTE		160	/* bytes of a reply in a message */
#define STARTTLS_TIMEOUT	60.0	/* the plain phase, as a handshake */

enum starttls_step {
	STEP_GREETING,
	STEP_CAPABILITY,	/* EHLO, CAPABILITY */
	STEP_UPGRADE		/* STARTTLS, STLS, AUTH TLS, SSLRequest */
};

struct starttls {
	struct conn		*c;
	struct stream		*s;
	enum starttls_step	 step;
	struct evbuffer		*reply;		/* this reply's lines, '\n' apart */
	size_t			 nlines;
	int			 offered;	/* the capability list has it */
	struct event		*timer;
};

static const struct {
	const char		*name;
	enum starttls_proto	 proto;
} starttls_protos[] = {
	{ "smtp", STARTTLS_SMTP },
	{ "imap", STARTTLS_IMAP },
	{ "pop3", STARTTLS_POP3 },
	{ "ftp", STARTTLS_FTP },
	{ "postgres", STARTTLS_POSTGRES }
};
#define NPROTOS	(sizeof starttls_protos / sizeof starttls_protos[0])

int
starttls_parse(const char *s, enum starttls_proto *p)
{
	size_t	i;

	for (i = 0; i < NPROTOS; i++) {
		if (strcmp(s, starttls_protos[i].name) == 0) {
			*p = starttls_protos[i].proto;
			return (0);
		}
	}
	return (-1);
}

const char *
starttls_name(enum starttls_proto p)
{
	size_t	i;

	for (i = 0; i < NPROTOS; i++) {
		if (starttls_protos[i].proto == p)
			return (starttls_protos[i].name);
	}
	return ("none");
}

void
starttls_free(struct conn *c)
{
	struct starttls	*st = c->starttls;

	if (st == NULL)
		return;
	if (st->s != NULL)
		stream_abort(st->s);
	if (st->timer != NULL)
		event_free(st->timer);
	evbuffer_free(st->reply);
	free(st);
	c->starttls = NULL;
}

/* The plain phase failed: the stream goes, the error is the end. */
static void
starttls_fail(struct starttls *st, const struct stream_error *err)
{
	struct conn	*c = st->c;

	starttls_free(c);
	conn_end(c, err);
}

/* A refusal or a reply out of the protocol: exit 8, the reply quoted. */
static void
starttls_refused(struct starttls *st, const char *what)
{
	struct stream_error	 e;
	char			 q[STARTTLS_QUOTE];
	size_t			 len = evbuffer_get_length(st->reply);

	http_quote((const char *)evbuffer_pullup(st->reply, -1), len, q,
	    sizeof q);
	stream_error_set(&e, STREAM_EPROTO, 0, "%s: %s %s: '%s'",
	    st->c->target, starttls_name(st->c->starttls_proto), what, q);
	starttls_fail(st, &e);
}

static void
starttls_send(struct starttls *st, const void *buf, size_t len)
{
	if (stream_write(st->s, buf, len) == -1)
		starttls_fail(st, stream_exception(st->s));
}

static void	starttls_read(struct starttls *);

/* The plain phase is over: TLS on the same connection. */
static void
starttls_upgrade(struct starttls *st)
{
	struct conn		*c = st->c;
	struct stream		*s = st->s;
	struct stream_opts	 o = c->opts;
	struct stream_error	 err;

	st->s = NULL;
	starttls_free(c);
	o.tls_ctx = c->tls_ctx;
	log_event("starttls", "protocol", starttls_name(c->starttls_proto),
	    (char *)NULL);
	if (stream_start_tls(c->ctx->base, s, c->port, &o, c->starttls_cb, c,
	    &err) != 0)
		conn_end(c, &err);
}

/* EHLO's name: this host's, as RFC 5321 4.1.1.1 asks, or localhost. */
static void
starttls_ehlo(struct starttls *st)
{
	char	name[256], *line;

	if (gethostname(name, sizeof name) != 0 || name[0] == '\0' ||
	    strpbrk(name, " \r\n") != NULL)
		strlcpy(name, "localhost", sizeof name);
	name[sizeof name - 1] = '\0';
	xasprintf(&line, "EHLO %s\r\n", name);
	starttls_send(st, line, strlen(line));
	free(line);
}

/* What to send after a complete reply that was good. */
static void
starttls_next(struct starttls *st)
{
	static const char	 imap_cap[] = "a1 CAPABILITY\r\n";
	static const char	 imap_tls[] = "a2 STARTTLS\r\n";
	struct conn		*c = st->c;

	if (st->step == STEP_UPGRADE) {
		starttls_upgrade(st);
		return;
	}
	evbuffer_drain(st->reply, evbuffer_get_length(st->reply));
	st->nlines = 0;
	switch (c->starttls_proto) {
	case STARTTLS_SMTP:
		if (st->step == STEP_GREETING) {
			st->step = STEP_CAPABILITY;
			starttls_ehlo(st);
		} else {
			st->step = STEP_UPGRADE;
			starttls_send(st, "STARTTLS\r\n", 10);
		}
		break;
	case STARTTLS_IMAP:
		if (st->step == STEP_GREETING) {
			st->step = STEP_CAPABILITY;
			starttls_send(st, imap_cap, sizeof imap_cap - 1);
		} else {
			st->step = STEP_UPGRADE;
			starttls_send(st, imap_tls, sizeof imap_tls - 1);
		}
		break;
	case STARTTLS_POP3:
		st->step = STEP_UPGRADE;
		starttls_send(st, "STLS\r\n", 6);
		break;
	case STARTTLS_FTP:
		st->step = STEP_UPGRADE;
		starttls_send(st, "AUTH TLS\r\n", 10);
		break;
	default:
		break;
	}
	if (c->starttls != NULL)
		starttls_read(st);
}

/* Does a capability line name STARTTLS (a word of its own)? */
static int
starttls_offers(const char *line)
{
	const char	*p = line;
	size_t		 n;

	while (*p != '\0') {
		p += strspn(p, " -");
		n = strcspn(p, " ");
		if (n == 8 && strncasecmp(p, "STARTTLS", 8) == 0)
			return (1);
		p += n;
	}
	return (0);
}

/*
 * One line of a reply. SMTP and FTP: "DDD-" goes on, "DDD " ends it
 * (RFC 5321 4.2.1, RFC 959 4.2). POP3: one line. IMAP: untagged lines
 * until the tagged one. Returns 1 when the reply is complete and good,
 * 0 for more, -1 when refused (done with the error).
 */
static int
starttls_line(struct starttls *st, const char *l)
{
	enum starttls_proto	 p = st->c->starttls_proto;
	const char		*want = NULL, *tag;

	if (p == STARTTLS_SMTP || p == STARTTLS_FTP) {
		if (st->step == STEP_CAPABILITY && strlen(l) > 4 &&
		    starttls_offers(l + 4))
			st->offered = 1;
		if (strlen(l) < 3 || !isdigit((unsigned char)l[0]) ||
		    !isdigit((unsigned char)l[1]) ||
		    !isdigit((unsigned char)l[2]) ||
		    (l[3] != '\0' && l[3] != ' ' && l[3] != '-')) {
			starttls_refused(st, "server answered out of the "
			    "protocol");
			return (-1);
		}
		if (l[3] == '-')
			return (0);
		want = st->step == STEP_GREETING ? "220" :
		    st->step == STEP_CAPABILITY ? "250" :
		    p == STARTTLS_SMTP ? "220" : "234";
		if (strncmp(l, want, 3) != 0) {
			starttls_refused(st, st->step == STEP_UPGRADE ?
			    "server refused the upgrade" : st->step ==
			    STEP_GREETING ? "server refused the session" :
			    "server refused EHLO");
			return (-1);
		}
		if (st->step == STEP_CAPABILITY && !st->offered) {
			starttls_refused(st, "server does not offer STARTTLS");
			return (-1);
		}
		return (1);
	}
	if (p == STARTTLS_POP3) {
		if (strncmp(l, "+OK", 3) == 0)
			return (1);
		starttls_refused(st, st->step == STEP_UPGRADE ?
		    "server refused STLS" : "server refused the session");
		return (-1);
	}
	/* IMAP */
	if (st->step == STEP_GREETING) {
		if (strncasecmp(l, "* OK", 4) == 0)
			return (1);
		starttls_refused(st, "server refused the session");
		return (-1);
	}
	if (strncmp(l, "* ", 2) == 0) {
		if (strncasecmp(l, "* CAPABILITY ", 13) == 0 &&
		    starttls_offers(l + 13))
			st->offered = 1;
		return (0);
	}
	tag = st->step == STEP_CAPABILITY ? "a1 " : "a2 ";
	if (strncmp(l, tag, 3) != 0)
		return (0);	/* a continuation or a stray line */
	if (strncasecmp(l + 3, "OK", 2) != 0) {
		starttls_refused(st, st->step == STEP_UPGRADE ?
		    "server refused STARTTLS" : "server refused CAPABILITY");
		return (-1);
	}
	if (st->step == STEP_CAPABILITY && !st->offered) {
		starttls_refused(st, "server does not offer STARTTLS");
		return (-1);
	}
	return (1);
}

static void
starttls_line_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct starttls		*st = arg;
	struct stream_error	 e;
	size_t			 len = evbuffer_get_length(data);
	char			*l;
	int			 rc;

	if (err->kind == STREAM_EINCOMPLETE || (err->kind == STREAM_OK &&
	    len == 0)) {
		evbuffer_add_buffer(st->reply, data);
		starttls_refused(st, "server closed the connection");
		return;
	}
	if (err->kind != STREAM_OK) {
		e = *err;
		starttls_fail(st, &e);
		return;
	}
	l = xmalloc(len + 1);
	evbuffer_remove(data, l, len);
	l[len] = '\0';
	while (len > 0 && (l[len - 1] == '\n' || l[len - 1] == '\r'))
		l[--len] = '\0';
	if (evbuffer_get_length(st->reply) > 0)
		evbuffer_add(st->reply, "\n", 1);
	evbuffer_add(st->reply, l, len);
	rc = ++st->nlines > STARTTLS_MAX_LINES ? -2 : starttls_line(st, l);
	free(l);
	if (rc == -2)
		starttls_refused(st, "reply of too many lines");
	else if (rc == 0)
		starttls_read(st);
	else if (rc == 1)
		starttls_next(st);
}

/* PostgreSQL answers an SSLRequest with one byte: 'S' yes, 'N' no. */
static void
starttls_pg_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct starttls		*st = arg;
	struct stream_error	 e;

	if (err->kind != STREAM_OK && err->kind != STREAM_EINCOMPLETE) {
		e = *err;
		starttls_fail(st, &e);
		return;
	}
	evbuffer_add_buffer(st->reply, data);
	if (evbuffer_get_length(st->reply) == 0)
		starttls_refused(st, "server closed the connection");
	else if (*evbuffer_pullup(st->reply, 1) == 'S')
		starttls_next(st);
	else
		starttls_refused(st, "server refused SSL");
}

static void
starttls_read(struct starttls *st)
{
	if (st->c->starttls_proto == STARTTLS_POSTGRES)
		stream_readexactly(st->s, 1, starttls_pg_cb, st);
	else
		stream_readline(st->s, starttls_line_cb, st);
}

static void
starttls_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct starttls		*st = arg;
	struct stream_error	 e;

	stream_error_set(&e, STREAM_ETIMEOUT, 0, "%s: %s: no answer before "
	    "the upgrade to TLS within the connect timeout", st->c->target,
	    starttls_name(st->c->starttls_proto));
	starttls_fail(st, &e);
}

void
starttls_start(struct conn *c, struct stream *plain)
{
	/* int32 length 8, int32 80877103: the SSLRequest code. */
	static const unsigned char	 sslrequest[8] = {
		0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f
	};
	struct starttls			*st;
	struct timeval			 tv;
	double				 secs;

	st = xcalloc(1, sizeof *st);
	st->c = c;
	st->s = plain;
	st->reply = evbuffer_new();
	c->starttls = st;
	/*
	 * --connect-timeout bounds the plain phase as it does a handshake,
	 * and without it so does the handshake's own 60 s: a server that
	 * never answers must not hold us for ever.
	 */
	secs = c->opts.connect_timeout > 0 ? c->opts.connect_timeout :
	    STARTTLS_TIMEOUT;
	st->timer = evtimer_new(c->ctx->base, starttls_timeout_cb, st);
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	evtimer_add(st->timer, &tv);
	if (c->starttls_proto == STARTTLS_POSTGRES) {
		st->step = STEP_UPGRADE;
		starttls_send(st, sslrequest, sizeof sslrequest);
		if (c->starttls == NULL)
			return;
	}
	starttls_read(st);
}
