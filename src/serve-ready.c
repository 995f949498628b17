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

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"
#include "serve.h"
#include "stream.h"
#include "xmalloc.h"

/*
 * Telling others the server is ready (doc/cli.md, "Readiness"), once
 * every listener is open: --ready-file FILE (the "Serving on" lines,
 * written to a temporary file and renamed into place, so a reader never
 * sees half of it; removed at exit), --ready-fd N (the same lines on
 * descriptor N, then N closed: s6's notification-fd), and systemd's
 * sd_notify protocol when NOTIFY_SOCKET is set: one datagram "READY=1"
 * with a STATUS=, and "STOPPING=1" when the server stops; a path or an
 * abstract ("@name") socket, no libsystemd.
 */

struct serve_ready {
	char		*file;		/* --ready-file */
	dev_t		 dev;		/* ... the one we wrote */
	ino_t		 ino;
	int		 written;
	int		 fd;		/* --ready-fd, or -1 */
	char		*notify;	/* NOTIFY_SOCKET, or NULL */
	int		 stopping;	/* STOPPING=1 sent */
};

/* --ready-file and --ready-fd, checked before listening. */
int
ready_parse(struct serve *sv, const char *file, const char *fdarg)
{
	struct serve_ready	*r;
	const char		*cause, *notify = getenv("NOTIFY_SOCKET");
	long long		 fd = -1;

	if (fdarg != NULL) {
		if (parse_count(fdarg, 0, 1 << 30, &fd, &cause) != 0)
			return (cmd_fail(sv->ctx, EXIT_USAGE, "--ready-fd %s: "
			    "%s", fdarg, cause));
		if (fd <= 2 || fcntl((int)fd, F_GETFD) == -1)
			return (cmd_fail(sv->ctx, EXIT_USAGE, "--ready-fd %s: "
			    "not an open descriptor above 2", fdarg));
	}
	if (file != NULL && *file == '\0')
		return (cmd_fail(sv->ctx, EXIT_USAGE, "--ready-file: empty "
		    "path"));
	if (file == NULL && fd == -1 && (notify == NULL || *notify == '\0'))
		return (0);
	r = sv->ready = xcalloc(1, sizeof *r);
	r->fd = (int)fd;
	if (fd != -1)	/* not for the --exec children to hold */
		fcntl(r->fd, F_SETFD, FD_CLOEXEC);
	if (file != NULL)
		r->file = xstrdup(file);
	if (notify != NULL && (*notify == '/' || *notify == '@'))
		r->notify = xstrdup(notify);
	/* The notification is ours: no child speaks for the service. */
	unsetenv("NOTIFY_SOCKET");
	return (0);
}

/* One datagram to the service manager; failures are only warned of. */
static void
ready_notify(struct serve *sv, const char *msg)
{
	struct serve_ready	*r = sv->ready;
	struct sockaddr_un	 sun;
	socklen_t		 len;
	size_t			 plen = strlen(r->notify);
	int			 s;

	if (plen >= sizeof sun.sun_path) {
		log_warnx("NOTIFY_SOCKET: path too long");
		return;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, r->notify, plen);
	if (r->notify[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract: no NUL after */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (r->notify[0] == '@' ? 0 : 1));
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    sendto(s, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_warnx("NOTIFY_SOCKET %s: %s", r->notify, strerror(errno));
	if (s != -1)
		close(s);
}

/* FILE.XXXXXX beside FILE, then rename: readers see all or nothing. */
static void
ready_write_file(struct serve *sv, const char *text)
{
	struct serve_ready	*r = sv->ready;
	struct stat		 sb;
	size_t			 len = strlen(text);
	char			*tmp;
	int			 fd;

	xasprintf(&tmp, "%s.XXXXXX", r->file);
	if ((fd = mkstemp(tmp)) == -1) {
		log_warnx("--ready-file %s: %s", r->file, strerror(errno));
		free(tmp);
		return;
	}
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, 0644) == -1 ||
	    fstat(fd, &sb) == -1 || close(fd) == -1 ||
	    rename(tmp, r->file) == -1) {
		log_warnx("--ready-file %s: %s", r->file, strerror(errno));
		unlink(tmp);
	} else {
		r->dev = sb.st_dev;
		r->ino = sb.st_ino;
		r->written = 1;
	}
	free(tmp);
}

static void
ready_write_fd(struct serve_ready *r, const char *text)
{
	size_t	len = strlen(text), off = 0;
	ssize_t	n;

	while (off < len) {
		if ((n = write(r->fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			log_warnx("--ready-fd %d: %s", r->fd, strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	close(r->fd);
	r->fd = -1;
}

/*
 * Every listener is open: the "Serving on" lines, exactly as printed on
 * stderr (whether -q hides them there or not), to whoever asked.
 */
void
ready_announce(struct serve *sv, struct stream_server *srv)
{
	struct serve_ready	*r = sv->ready;
	char			*text = NULL, *status = NULL, *next;
	size_t			 i;

	if (r == NULL)
		return;
	for (i = 0; i < stream_server_naddrs(srv); i++) {
		xasprintf(&next, "%sServing on %s\n", text ? text : "",
		    stream_server_addr(srv, i));
		free(text);
		text = next;
		/* systemctl status shows STATUS=: one line, every address. */
		xasprintf(&next, "%s%s%s", status ? status : "READY=1\n"
		    "STATUS=Serving on ", status ? ", " : "",
		    stream_server_addr(srv, i));
		free(status);
		status = next;
	}
	if (text == NULL)
		return;
	if (r->file != NULL)
		ready_write_file(sv, text);
	if (r->fd != -1)
		ready_write_fd(r, text);
	if (r->notify != NULL) {
		xasprintf(&next, "%s\n", status);
		ready_notify(sv, next);
		free(next);
	}
	free(text);
	free(status);
}

/* The server stops: the service manager hears it first. */
void
ready_stopping(struct serve *sv)
{
	struct serve_ready	*r = sv->ready;

	if (r == NULL || r->notify == NULL || r->stopping)
		return;
	r->stopping = 1;
	ready_notify(sv, "STOPPING=1\n");
}

/* A --workers worker leaves the announcing to the first process. */
void
ready_forget(struct serve *sv)
{
	struct serve_ready	*r = sv->ready;

	if (r == NULL)
		return;
	if (r->fd != -1)
		close(r->fd);
	free(r->file);
	free(r->notify);
	free(r);
	sv->ready = NULL;
}

/* At exit: the ready file goes, if it is still the one we wrote. */
void
ready_free(struct serve *sv)
{
	struct serve_ready	*r = sv->ready;
	struct stat		 sb;

	if (r == NULL)
		return;
	ready_stopping(sv);
	if (r->written && stat(r->file, &sb) == 0 && sb.st_dev == r->dev &&
	    sb.st_ino == r->ino)
		unlink(r->file);
	ready_forget(sv);
}
