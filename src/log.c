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
	"sent", "received", "pid", "status", NULL
};

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

static void
log_json_string(FILE *f, const char *s)
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

/*
 * Write s to stderr with every control byte (and DEL) as \xHH, as http_quote shows
 * a server's bytes: an argument or a peer's name with a newline cannot
 * forge a line, one with ESC or BEL cannot drive the terminal.
 */
void
log_puts_quoted(const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
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
		log_json_string(stderr, event);
	} else
		fprintf(stderr, "cstream: %s", event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (log_json) {
			fputc(',', stderr);
			log_json_string(stderr, k);
			fputc(':', stderr);
			if (log_json_is_number(k, v))
				fputs(v, stderr);
			else
				log_json_string(stderr, v != NULL ? v : "");
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
