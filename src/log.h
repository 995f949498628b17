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

#ifndef LOG_H
#define LOG_H

#include <stddef.h>
#include <stdio.h>

/*
 * The logging module, a utility below every layer (as xmalloc.h): -v
 * events in text or JSON, warnings. The net layer logs its connection
 * attempts here without seeing the command layer.
 */

/*
 * log.c: -v events and --log-format json, libevent warnings routed in.
 * verbose: -v; quiet: -q (no warnings); json: --log-format json.
 */
void		 log_init(int verbose, int quiet, int json);
void		 log_event(const char *event, ...)	/* key, value, ..., NULL */
		     __attribute__((sentinel));
void		 log_warnx(const char *fmt, ...)
		     __attribute__((format(printf, 1, 2)));
int		 log_verbose(void);
int		 log_json_format(void);	/* --log-format json */
/* libevent's log callback, which log_init installs. */
void		 log_libevent_cb(int severity, const char *msg);
/* s with control bytes as \xHH, for messages that echo untrusted bytes. */
void		 log_puts_quoted(const char *);
/* s as a JSON string: always valid UTF-8 (\u00XX for other bytes). */
void		 log_json_fputs(FILE *, const char *);
/* Length of a valid UTF-8 sequence at p (RFC 3629), or 0. */
size_t		 log_utf8_len(const unsigned char *, size_t);
/*
 * "cstream: " and the message on stderr, then exit 1: for what no layer
 * can answer (out of memory), so the utilities need no exit code of the
 * command layer.
 */
void		 log_fatalx(const char *fmt, ...)
		     __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
