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
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "serve.h"
#include "xmalloc.h"

/*
 * --workers N: N - 1 more processes serve the same listening sockets (the
 * kernel hands each connection to one of them). The first process keeps
 * the terminal role: it forwards SIGINT/SIGTERM to the others.
 */

/*
 * Fork n - 1 workers. In a worker, returns 0 with an empty table; in the
 * first process, 0 with every worker's pid, or -1 with errno on a failed
 * fork (the workers started so far are in the table, to stop).
 */
int
workers_start(struct workers *w, long long n, struct event_base *base)
{
	pid_t	pid;

	if (n > 1)
		w->pids = xcalloc((size_t)n - 1, sizeof *w->pids);
	for (; n > 1; n--) {
		if ((pid = fork()) == -1)
			return (-1);
		if (pid == 0) {
			free(w->pids);
			w->pids = NULL;
			w->n = 0;
			event_reinit(base);
			return (0);
		}
		w->pids[w->n++] = pid;
	}
	return (0);
}

/* SIGTERM to every worker, then wait for them all. */
void
workers_stop(struct workers *w)
{
	size_t	i;

	for (i = 0; i < w->n; i++)
		kill(w->pids[i], SIGTERM);
	for (i = 0; i < w->n; i++)
		waitpid(w->pids[i], NULL, 0);
	free(w->pids);
	w->pids = NULL;
	w->n = 0;
}
