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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "log.h"

/*
 * Events for -v and --log-format json. An event is a name plus key/value
 * string pairs; text mode prints "cstream: NAME key=value ...", json mode
 * one object per line. Both go to stderr, which stays unbuffered so a line
 * is never split by a later error message.
 */

static int	log_level;	/* -1 quiet, 0 normal, 1 verbose */
static int	log_json;

/*
 * The fields whose values are counts or codes: in json mode they are
 * numbers ("sent":3), so a consumer can add them up without parsing.
 */
static const char *log_numeric_keys[] = {
	"sent", "received", "pid", "status", "attempt", "datagrams_sent",
	"datagrams_received", NULL
};

/* Milliseconds with a fraction (timing.c): numbers too. */
static const char *log_decimal_keys[] = {
	"dns_ms", "connect_ms", "tls_ms", "first_byte_ms", "total_ms",
	"elapsed_ms", NULL
};

static int
log_json_is_decimal(const char *k, const char *v)
{
	const char	**np;
	size_t		  n;

	for (np = log_decimal_keys; *np != NULL; np++) {
		if (strcmp(*np, k) == 0)
			break;
	}
	if (*np == NULL || v == NULL || (n = strspn(v, "0123456789")) == 0)
		return (0);
	if (v[n] == '.')
		n += 1 + strspn(v + n + 1, "0123456789");
	return (v[n] == '\0' && v[n - 1] != '.');
}

/* A numeric field with a plain decimal value is written bare. */
static int
log_json_is_number(const char *k, const char *v)
{
	const char	**np;
	const char	 *p = v;

	if (v == NULL)
		return (0);
	if (*p == '-')
		p++;
	if (*p == '\0' || (*p == '0' && p[1] != '\0'))
		return (0);
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return (0);
	}
	for (np = log_numeric_keys; *np != NULL; np++) {
		if (strcmp(*np, k) == 0)
			return (1);
	}
	return (0);
}

/* Length of a valid UTF-8 sequence at p (RFC 3629), or 0. */
size_t
log_utf8_len(const unsigned char *p, size_t left)
{
	size_t		n, i;
	unsigned char	lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else
		return (0);
	if (left < n || p[1] < lo || p[1] > hi)
		return (0);
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	}
	return (n);
}

/* Is the valid sequence of n bytes at p a C1 control (U+0080-U+009F)? */
static int
log_is_c1(const unsigned char *p, size_t n)
{
	return (n == 2 && p[0] == 0xc2 && p[1] < 0xa0);
}

/*
 * A JSON string for any bytes (a peer's abstract socket name, a header):
 * valid UTF-8 goes through, every other byte is taken as Latin-1 and
 * written \u00XX, so the output is always valid UTF-8 and valid JSON;
 * C0, DEL and C1 controls are escaped too.
 */
void
log_json_fputs(FILE *f, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 left = strlen(s), n;

	fputc('"', f);
	while (left > 0) {
		n = log_utf8_len(p, left);
		if (n == 1 && (*p == '"' || *p == '\\'))
			fprintf(f, "\\%c", *p);
		else if (n == 1 && (*p < 0x20 || *p == 0x7f))
			fprintf(f, "\\u%04x", *p);
		else if (log_is_c1(p, n))
			fprintf(f, "\\u%04x", p[1]);
		else if (n > 0)
			fwrite(p, 1, n, f);
		else {
			fprintf(f, "\\u%04x", *p);
			n = 1;
		}
		p += n;
		left -= n;
	}
	fputc('"', f);
}

/*
 * Write s to stderr with every control byte as \xHH, as http_quote shows
 * a server's bytes: C0 and DEL, the C1 controls (U+0080-U+009F, and a
 * lone byte 0x80-0x9f, which an 8-bit terminal takes as one: 0x9b is
 * CSI) and every byte that is not part of valid UTF-8. An argument or a
 * peer's name with a newline cannot forge a line, one with ESC or CSI
 * cannot drive the terminal.
 */
void
log_puts_quoted(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 left = strlen(s), n, i;

	while (left > 0) {
		n = log_utf8_len(p, left);
		if (n == 0 || log_is_c1(p, n) || (n == 1 && (*p < 0x20 ||
		    *p == 0x7f))) {
			if (n == 0)
				n = 1;
			for (i = 0; i < n; i++)
				fprintf(stderr, "\\x%02x", p[i]);
		} else
			fwrite(p, 1, n, stderr);
		p += n;
		left -= n;
	}
}

/*
 * libevent's own messages. Its errors (a backend that fails, just before
 * it gives up) are ours to report: a warning line on stderr, -v or not;
 * its warnings and debug notes are only interesting when debugging.
 */
void
log_libevent_cb(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_ERR)
		log_warnx("libevent: %s", msg);
	else if (log_level > 0)
		log_event("libevent", "message", msg, (char *)NULL);
}

void
log_init(int verbose, int quiet, int json)
{
	log_level = quiet ? -1 : verbose ? 1 : 0;
	log_json = json;
	event_set_log_callback(log_libevent_cb);
}

int
log_json_format(void)
{
	return (log_json);
}

int
log_verbose(void)
{
	return (log_level > 0);
}

static void
log_emit(const char *event, va_list ap)
{
	const char	*k, *v;
	struct timeval	 tv;

	if (log_json) {
		gettimeofday(&tv, NULL);
		fprintf(stderr, "{\"time\":%lld.%06ld,\"event\":",
		    (long long)tv.tv_sec, (long)tv.tv_usec);
		log_json_fputs(stderr, event);
	} else
		fprintf(stderr, "cstream: %s", event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (log_json) {
			fputc(',', stderr);
			log_json_fputs(stderr, k);
			fputc(':', stderr);
			if (log_json_is_number(k, v) ||
			    log_json_is_decimal(k, v))
				fputs(v, stderr);
			else
				log_json_fputs(stderr, v != NULL ? v : "");
		} else {
			fprintf(stderr, " %s=", k);
			log_puts_quoted(v != NULL ? v : "");
		}
	}
	fputs(log_json ? "}\n" : "\n", stderr);
}

static void __attribute__((sentinel))
log_json_event(const char *event, ...)
{
	va_list	ap;

	va_start(ap, event);
	log_emit(event, ap);
	va_end(ap);
}

/* A -v event: printed only when verbose. */
void
log_event(const char *event, ...)
{
	va_list	ap;

	if (log_level <= 0)
		return;
	va_start(ap, event);
	log_emit(event, ap);
	va_end(ap);
}

/* A warning that is not fatal: printed unless -q. */
void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	if (log_level < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (log_json)
		log_json_event("warning", "message", msg, (char *)NULL);
	else {
		fputs("cstream: ", stderr);
		log_puts_quoted(msg);
		fputc('\n', stderr);
	}
}

void
log_fatalx(const char *fmt, ...)
{
	va_list	ap;

	fputs("cstream: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* 1, the exit status of an I/O failure (doc/cli.md). */
	exit(1);
}
