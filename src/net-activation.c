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

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "net.h"
#include "xmalloc.h"

/*
 * Socket activation: the listening sockets a service manager opened for
 * us, by the rules of sd_listen_fds(3) (systemd's socket activation
 * protocol, without libsystemd): LISTEN_PID must be our pid (else the
 * variables were meant for a parent and are ignored), LISTEN_FDS sockets
 * start at descriptor 3, each gets FD_CLOEXEC, and the variables are
 * unset so that a child (--exec) does not take them for its own.
 */

#define NET_LISTEN_FDS_START	3
#define NET_LISTEN_FDS_MAX	1024

static void
net_activation_unset(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* A number as sd_listen_fds reads it: decimal, no sign, no junk. */
static long
net_activation_number(const char *s)
{
	char	*end;
	long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return (-1);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return (-1);
	return (v);
}

/* Each descriptor must be a listening stream socket: we accept on it. */
static int
net_activation_check(int fd, struct stream_error *err)
{
	int		type = 0, listening = 0;
	socklen_t	len = sizeof type;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1) {
		stream_error_set(err, STREAM_ESYS, errno, "LISTEN_FDS: "
		    "descriptor %d: %s", fd, strerror(errno));
		return (-1);
	}
	len = sizeof listening;
	if (type != SOCK_STREAM || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN,
	    &listening, &len) == -1 || !listening) {
		stream_error_set(err, STREAM_ESYS, EINVAL, "LISTEN_FDS: "
		    "descriptor %d is not a listening stream socket", fd);
		return (-1);
	}
	/* Our accept loop must never block (net-listen.c). */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		stream_error_set(err, STREAM_ESYS, errno, "LISTEN_FDS: "
		    "descriptor %d: %s", fd, strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * The sockets passed to us: 0 and *n == 0 when there are none for this
 * process, 0 with *fds (and *names from LISTEN_FDNAMES, "" when not
 * given) allocated, or -1 with err.
 */
int
net_activation_fds(int **fds, char ***names, size_t *n,
    struct stream_error *err)
{
	const char	*fdnames = getenv("LISTEN_FDNAMES");
	char		*copy = NULL, *rest, *name;
	long		 pid, count;
	size_t		 i;

	*fds = NULL;
	*names = NULL;
	*n = 0;
	pid = net_activation_number(getenv("LISTEN_PID"));
	count = net_activation_number(getenv("LISTEN_FDS"));
	if (pid == -1 || (pid_t)pid != getpid())
		return (0);	/* not set, or a parent's */
	if (count <= 0 || count > NET_LISTEN_FDS_MAX) {
		net_activation_unset();
		if (count == 0)
			return (0);
		stream_error_set(err, STREAM_ESYS, EINVAL, "LISTEN_FDS=%s: "
		    "not a number of descriptors", getenv("LISTEN_FDS"));
		return (-1);
	}
	if (fdnames != NULL)
		copy = rest = xstrdup(fdnames);
	net_activation_unset();
	*fds = xcalloc((size_t)count, sizeof **fds);
	*names = xcalloc((size_t)count, sizeof **names);
	for (i = 0; i < (size_t)count; i++) {
		(*fds)[i] = NET_LISTEN_FDS_START + (int)i;
		name = copy != NULL ? strsep(&rest, ":") : NULL;
		(*names)[i] = xstrdup(name != NULL ? name : "");
		if (net_activation_check((*fds)[i], err) != 0) {
			*n = i + 1;
			net_activation_free(*fds, *names, *n);
			*fds = NULL;
			*names = NULL;
			*n = 0;
			free(copy);
			return (-1);
		}
	}
	*n = (size_t)count;
	free(copy);
	return (0);
}

void
net_activation_free(int *fds, char **names, size_t n)
{
	size_t	i;

	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	free(fds);
}
