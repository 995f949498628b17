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

/*
 * The logging module (src/log.c): libevent's messages reach stderr by
 * their severity, its errors always (as a warning), the rest with -v.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "tap.h"

/* Run log_libevent_cb(severity, msg) with stderr caught into buf. */
static void
caught(int severity, const char *msg, char *buf, size_t len)
{
	int	p[2], saved;
	ssize_t	n;

	buf[0] = '\0';
	if (pipe(p) == -1 || (saved = dup(STDERR_FILENO)) == -1) {
		fail_setup("pipe: stderr cannot be caught");
		return;
	}
	fflush(stderr);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	log_libevent_cb(severity, msg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	n = read(p[0], buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(p[0]);
}

int
main(void)
{
	char	buf[512];

	/* No log_init: the defaults, neither -v nor -q. */
	caught(EVENT_LOG_ERR, "epoll_wait: Bad file descriptor", buf,
	    sizeof buf);
	is_str(buf, "cstream: libevent: epoll_wait: Bad file descriptor\n",
	    "a libevent error reaches stderr without -v");
	caught(EVENT_LOG_WARN, "a warning", buf, sizeof buf);
	is_str(buf, "", "a libevent warning does not, without -v");
	caught(EVENT_LOG_DEBUG, "a debug note", buf, sizeof buf);
	is_str(buf, "", "nor a debug note");
	return (tap_done());
}
