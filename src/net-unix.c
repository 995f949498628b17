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
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "error.h"
#include "net.h"
#include "net-int.h"

/*
 * Unix socket addresses and the hygiene of doc/libevent-notes.md section
 * 9: a stale socket file is removed before bind, a live one refused, the
 * mode set with no window, and on exit only our own file is unlinked.
 */

int
net_unix_sockaddr(const char *path, struct sockaddr_storage *ss,
    socklen_t *sslen, struct stream_error *err)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)ss;
	size_t			 len;

	len = strlen(path);
	if (len == 0) {
		stream_error_set(err, STREAM_ESYS, ENOENT,
		    "empty unix socket path");
		return (-1);
	}
	/* Both forms must fit sun_path: a NUL ends a path, starts a name. */
	if (len > UNIX_PATH_MAX_LEN || len >= sizeof sun->sun_path) {
		stream_error_set(err, STREAM_ESYS, ENAMETOOLONG, "%s: %s",
		    path, strerror(ENAMETOOLONG));
		return (-1);
	}

	memset(ss, 0, sizeof *ss);
	sun->sun_family = AF_UNIX;
	if (path[0] == '@') {
		/*
		 * Linux abstract name: a leading NUL, then the name without
		 * a terminator; the length says where it ends, so it must
		 * be exact or trailing NULs become part of the name.
		 */
		memcpy(sun->sun_path + 1, path + 1, len - 1);
		*sslen = offsetof(struct sockaddr_un, sun_path) + len;
	} else {
		memcpy(sun->sun_path, path, len);
		*sslen = offsetof(struct sockaddr_un, sun_path) + len + 1;
	}
	return (0);
}

/* A unix socket of type (stream or datagram), or -1 and err. */
static int
net_unix_socket(int type, struct stream_error *err)
{
	int	fd, error;

	if ((fd = net_socket_type(AF_UNIX, type)) == -1) {
		error = errno;
		stream_error_set(err, STREAM_ESYS, error, "socket: %s",
		    strerror(error));
	}
	return (fd);
}

/*
 * Make room for a unix socket at path: nothing there is fine; a socket
 * nobody listens on (connect refused) is stale and removed; anything else
 * (a live server, a file that is not a socket) is left alone and refused.
 * Like tmux, this cannot stop a second server racing between the test and
 * the bind; the bind then fails with EADDRINUSE.
 */
static int
net_unix_clear(const char *path, int type, const struct sockaddr_storage *ss,
    socklen_t sslen, struct stream_error *err)
{
	struct stat	sb;
	int		fd, r, error;

	if (lstat(path, &sb) == -1) {
		if (errno == ENOENT)
			return (0);
		error = errno;
		stream_error_set(err, STREAM_ESYS, error, "%s: %s", path,
		    strerror(error));
		return (-1);
	}
	if (!S_ISSOCK(sb.st_mode)) {
		stream_error_set(err, STREAM_ESYS, EEXIST,
		    "%s: exists and is not a socket", path);
		return (-1);
	}

	if ((fd = net_unix_socket(type, err)) == -1)
		return (-1);
	r = connect(fd, (const struct sockaddr *)ss, sslen);
	error = errno;
	close(fd);
	/*
	 * Connected, or a full backlog: either way someone listens. A
	 * live socket of the other type answers EPROTOTYPE: in use too.
	 */
	if (r == 0 || error == EAGAIN || error == EPROTOTYPE) {
		stream_error_set(err, STREAM_ESYS, EADDRINUSE,
		    "%s: address in use", path);
		return (-1);
	}
	if (error == ENOENT)
		return (0);	/* gone since the lstat */
	if (error != ECONNREFUSED) {
		stream_error_set(err, STREAM_ESYS, error, "connect to %s: %s",
		    path, strerror(error));
		return (-1);
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		error = errno;
		stream_error_set(err, STREAM_ESYS, error, "unlink %s: %s", path,
		    strerror(error));
		return (-1);
	}
	return (0);
}

/* backlog -1: a bound datagram socket, no listen(2). */
static int
net_listen_unix_type(const char *path, int mode, int backlog, dev_t *dev,
    ino_t *ino, struct stream_error *err)
{
	int		 type = backlog == -1 ? SOCK_DGRAM : SOCK_STREAM;
	struct sockaddr_storage	 ss;
	struct stat		 sb;
	socklen_t		 sslen;
	mode_t			 mask = 0;
	const char		*call = "bind to";
	int			 fd, r, error, abstract;

	if (dev != NULL)
		*dev = 0;
	if (ino != NULL)
		*ino = 0;
	if (net_unix_sockaddr(path, &ss, &sslen, err) != 0)
		return (-1);
	abstract = path[0] == '@';	/* no file: no hygiene, no mode */
	if (!abstract && net_unix_clear(path, type, &ss, sslen, err) != 0)
		return (-1);

	if ((fd = net_unix_socket(type, err)) == -1)
		return (-1);
	/*
	 * The file is created by bind() with 0777 & ~umask: setting the
	 * umask around it gives the mode with no window where the socket
	 * is more open than asked (a chmod after bind would leave one).
	 */
	if (mode >= 0 && !abstract)
		mask = umask(~(mode_t)mode & 0777);
	r = bind(fd, (struct sockaddr *)&ss, sslen);
	error = errno;
	if (mode >= 0 && !abstract)
		umask(mask);
	if (r == -1)
		goto fail;

	if (!abstract && lstat(path, &sb) == 0) {
		if (dev != NULL)
			*dev = sb.st_dev;
		if (ino != NULL)
			*ino = sb.st_ino;
	}
	if (type == SOCK_STREAM && listen(fd, backlog) == -1) {
		error = errno;
		call = "listen on";
		if (!abstract)
			unlink(path);
		goto fail;
	}
	return (fd);

fail:
	close(fd);
	stream_error_set(err, STREAM_ESYS, error, "%s %s: %s", call, path,
	    strerror(error));
	return (-1);
}

int
net_listen_unix(const char *path, int mode, int backlog, dev_t *dev,
    ino_t *ino, struct stream_error *err)
{
	return (net_listen_unix_type(path, mode, backlog < 0 ? 0 : backlog,
	    dev, ino, err));
}

/* unix-serve --dgram: the same hygiene for a bound datagram socket. */
int
net_bind_unix_dgram(const char *path, int mode, dev_t *dev, ino_t *ino,
    struct stream_error *err)
{
	return (net_listen_unix_type(path, mode, -1, dev, ino, err));
}

void
net_unlink_unix(const char *path, dev_t dev, ino_t ino)
{
	struct stat	sb;

	if (path == NULL || path[0] == '\0' || path[0] == '@')
		return;
	/* Only if it is still our socket: a later server may own the path. */
	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    sb.st_dev == dev && sb.st_ino == ino)
		unlink(path);
}
