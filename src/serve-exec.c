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
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "compat.h"
#include "log.h"
#include "relay.h"
#include "serve.h"
#include "xmalloc.h"

/*
 * serve --exec and --sh-exec: a child process per client, with the
 * connection as its standard input and output.
 */

/* How long the client may go on sending once the child's output ended. */
#define EXEC_LINGER_SECONDS	2

/* --exec "CMD ARGS": split on blanks, no shell and no quoting (ncat). */
static int
exec_split_args(struct serve *sv, const char *cmdline)
{
	char	*copy = xstrdup(cmdline), *word, *save = NULL;
	size_t	 n = 0;

	sv->argv = xcalloc(strlen(cmdline) / 2 + 2, sizeof *sv->argv);
	for (word = strtok_r(copy, " \t", &save); word != NULL;
	    word = strtok_r(NULL, " \t", &save))
		sv->argv[n++] = xstrdup(word);
	free(copy);
	return (n == 0 ? -1 : 0);
}

/*
 * The child's argv from --exec (exec) or --sh-exec (sh_exec), whichever
 * is not NULL; -1 for an --exec without a word.
 */
int
exec_parse_command(struct serve *sv, const char *exec, const char *sh_exec)
{
	if (exec != NULL)
		return (exec_split_args(sv, exec));
	if (sh_exec != NULL) {
		sv->argv = xcalloc(4, sizeof *sv->argv);
		sv->argv[0] = xstrdup("/bin/sh");
		sv->argv[1] = xstrdup("-c");
		sv->argv[2] = xstrdup(sh_exec);
	}
	return (0);
}

void
exec_free(struct serve *sv)
{
	size_t	i;

	if (sv->argv == NULL)
		return;
	for (i = 0; sv->argv[i] != NULL; i++)
		free(sv->argv[i]);
	free(sv->argv);
	sv->argv = NULL;
}

/* Fork and exec the --exec command with fd as its stdin and stdout. */
/*
 * In the child: the verified client certificate (serve --tls
 * --client-ca), its subject and SHA-256 fingerprint; none inherited from
 * our own environment when the client sent none.
 */
static void
exec_tls_env(struct stream *s)
{
	char	subject[1024], sha[80];

	if (stream_get_extra_info(s, "peercert", subject, sizeof subject) == 0 &&
	    stream_get_extra_info(s, "peercert_sha256", sha, sizeof sha) == 0 &&
	    sha[0] != '\0') {
		setenv("CSTREAM_TLS_CLIENT_SUBJECT", subject, 1);
		setenv("CSTREAM_TLS_CLIENT_SHA256", sha, 1);
		return;
	}
	unsetenv("CSTREAM_TLS_CLIENT_SUBJECT");
	unsetenv("CSTREAM_TLS_CLIENT_SHA256");
}

static pid_t
exec_spawn(struct client *cl, int fd)
{
	struct serve	*sv = cl->sv;
	char		 host[128], *colon;
	const char	*port = "";
	pid_t		 pid;

	strlcpy(host, cl->peer, sizeof host);
	if ((colon = strrchr(host, ':')) != NULL && host[0] != '/' &&
	    host[0] != '@') {
		*colon = '\0';
		port = colon + 1;
		if (host[0] == '[') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
	}
	if ((pid = fork()) != 0)
		return (pid);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	/* The child's end of the socketpair: plain blocking I/O. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1)
		_exit(126);
	exec_tls_env(cl->s);
	setenv("CSTREAM_PEER_ADDR", host, 1);
	if (*port != '\0')
		setenv("CSTREAM_PEER_PORT", port, 1);
	else
		unsetenv("CSTREAM_PEER_PORT");
	execvp(sv->argv[0], sv->argv);
	fprintf(stderr, "cstream: %s: exec %s: %s\n", sv->ctx->entry->name,
	    sv->argv[0], strerror(errno));
	_exit(127);
}

/*
 * The child's end of the connection. It never gets the client's socket,
 * TLS or not: it gets one end of a socketpair, and the bytes are moved
 * between the other end and the client. So the server sees the child's
 * output end, counts the bytes of the client (-v), and closes the client
 * itself, by the lingering close below.
 */
static int
exec_pair(struct client *cl, int sp[2])
{
	struct serve		*sv = cl->sv;
	struct stream_opts	 plain = sv->opts;
	struct stream_error	 err;

	plain.tls_ctx = NULL;	/* the child's side is plaintext */
	plain.idle_timeout = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warnx("%s: socketpair: %s", sv->ctx->entry->name,
		    strerror(errno));
		return (-1);
	}
	if ((cl->pair = stream_open_fd(sv->ctx->base, sp[0], &plain,
	    &err)) == NULL) {
		log_warnx("%s: %s", sv->ctx->entry->name, err.msg);
		close(sp[0]);
		close(sp[1]);
		return (-1);
	}
	return (0);
}

static void	exec_in_read(struct client *);

static void
exec_linger_cb(evutil_socket_t fd, short events, void *arg)
{
	client_close(arg, 1);
}

/*
 * The child's output has ended and reached the client, followed by our
 * FIN. Closing now, with the client's request unread, would make the
 * kernel answer with a reset, which can destroy the response in flight
 * (curl: "Recv failure: Connection reset by peer"). Instead, as web
 * servers do (lingering close), read and drop what the client still
 * sends until it closes, for at most EXEC_LINGER_SECONDS, then close.
 */
static void
exec_linger(struct client *cl)
{
	struct timeval	tv = { EXEC_LINGER_SECONDS, 0 };

	cl->out_done = 1;
	if (cl->in_done) {
		client_close(cl, 1);
		return;
	}
	if (cl->pair != NULL) {
		stream_abort(cl->pair);
		cl->pair = NULL;
	}
	if (cl->in_waiting) {
		/* Its drain went with the pair: read on, to drop. */
		cl->in_waiting = 0;
		exec_in_read(cl);
	}
	cl->linger = evtimer_new(cl->sv->ctx->base, exec_linger_cb, cl);
	evtimer_add(cl->linger, &tv);
}

/* Child to client: its end is the client's end, once written. */
static void
exec_out_cb(struct pump *p, enum pump_side side,
    const struct stream_error *err, void *arg)
{
	struct client	*cl = arg;

	if (err->kind != STREAM_OK) {
		client_error(cl, err);
		return;
	}
	exec_linger(cl);
}

static void
exec_in_drained_cb(struct stream *s, const struct stream_error *err,
    void *arg)
{
	struct client	*cl = arg;

	cl->in_waiting = 0;
	if (err->kind != STREAM_OK)
		cl->in_dropping = 1;	/* the child reads no more */
	exec_in_read(cl);
}

/*
 * Client to child. A child that stopped reading (it closed its stdin or
 * exited) gets nothing more: the client's bytes are read and dropped, so
 * that its output still reaches the client and the close is not a reset.
 */
static void
exec_in_cb(struct stream *s, struct evbuffer *data,
    const struct stream_error *err, void *arg)
{
	struct client	*cl = arg;

	if (err->kind != STREAM_OK) {
		client_error(cl, err);
		return;
	}
	if (evbuffer_get_length(data) == 0) {
		cl->in_done = 1;
		if (cl->out_done)
			client_close(cl, 1);
		else if (cl->pair != NULL && !cl->in_dropping)
			(void)stream_write_eof(cl->pair);
		return;
	}
	if (cl->pair == NULL || cl->in_dropping) {
		exec_in_read(cl);	/* the reader empties data */
		return;
	}
	if (stream_write_buffer(cl->pair, data) == -1)
		cl->in_dropping = 1;
	else if (stream_write_paused(cl->pair)) {
		cl->in_waiting = 1;
		stream_drain(cl->pair, exec_in_drained_cb, cl);
		return;
	}
	exec_in_read(cl);
}

static void
exec_in_read(struct client *cl)
{
	stream_read(cl->s, SERVE_CHUNK, exec_in_cb, cl);
}

/* --exec / --sh-exec: the child gets the connection as stdin and stdout. */
void
exec_client(struct client *cl)
{
	struct serve	*sv = cl->sv;
	char		 pidbuf[32];
	int		 sp[2];
	pid_t		 pid;

	if (exec_pair(cl, sp) == -1) {
		client_close(cl, 0);
		return;
	}
	pid = exec_spawn(cl, sp[1]);
	close(sp[1]);
	if (pid == -1) {
		log_warnx("%s: fork: %s", sv->ctx->entry->name,
		    strerror(errno));
		client_close(cl, 0);
		return;
	}
	snprintf(pidbuf, sizeof pidbuf, "%ld", (long)pid);
	log_event("exec", "peer", cl->peer, "pid", pidbuf, (char *)NULL);
	/* The pump may finish, and close the client, before it returns. */
	cl->pump = pump_start(cl->pair, cl->s, PUMP_WRITE_EOF | PUMP_FLUSH,
	    exec_out_cb, cl);
	if (!cl->closing)
		exec_in_read(cl);
}

/* SIGCHLD: reap every child that exited and log it. */
void
exec_reap(struct serve *sv)
{
	char	pidbuf[32], status[32];
	pid_t	pid;
	int	st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		snprintf(pidbuf, sizeof pidbuf, "%ld", (long)pid);
		snprintf(status, sizeof status, "%d", WIFEXITED(st) ?
		    WEXITSTATUS(st) : 128 + WTERMSIG(st));
		log_event("exited", "pid", pidbuf, "status", status,
		    (char *)NULL);
	}
}
