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
 * The end-of-transfer machine (src/relay.c) over loopback TCP pairs and
 * socketpairs: EOF each way, half-close, reset each way, a stdout that
 * fails, an interrupt, idle timeouts, and the rules of a pair of peers
 * (RELAY_PAIR). Each test holds the far ends of two connections: "peer"
 * plays the network peer behind stream a, "user" plays stdin/stdout (or
 * the second peer) behind stream b.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "relay.h"
#include "loop.h"
#include "tap.h"

struct done {
	int			 called;
	int			 times;
	struct stream_error	 err;
	struct relay_report	 rep;
};

struct fixture {
	struct event_base	*base;
	struct stream		*a;
	struct stream		*b;
	int			 peer;	/* far end of a */
	int			 user;	/* far end of b */
	struct relay		*r;
	struct done		 d;
};

static void
done_cb(struct relay *r, const struct relay_report *rep, void *arg)
{
	struct done	*d = arg;

	d->called = 1;
	d->times++;
	d->err = *rep->err;
	d->rep = *rep;
	d->rep.err = &d->err;
}

/* a over TCP; b over TCP too when tcp_b, else a socketpair. */
static int
fixture_open(struct fixture *f, struct event_base *base, int tcp_b,
    double idle)
{
	struct stream_opts	opts;
	struct stream_error	err;
	int			pa[2], pb[2];

	memset(f, 0, sizeof *f);
	f->base = base;
	memset(&opts, 0, sizeof opts);
	opts.idle_timeout = idle;
	if (tcp_pair(pa) == -1) {
		fail_setup("tcp pair: %s", strerror(errno));
		return (-1);
	}
	if ((tcp_b ? tcp_pair(pb) : socketpair(AF_UNIX, SOCK_STREAM, 0,
	    pb)) == -1) {
		fail_setup("pair: %s", strerror(errno));
		close(pa[0]);
		close(pa[1]);
		return (-1);
	}
	f->a = stream_open_fd(base, pa[0], &opts, &err);
	f->b = stream_open_fd(base, pb[0], &opts, &err);
	if (f->a == NULL || f->b == NULL) {
		fail_setup("stream_open_fd: %s", err.msg);
		return (-1);
	}
	f->peer = pa[1];
	f->user = pb[1];
	fcntl(f->peer, F_SETFL, O_NONBLOCK);
	fcntl(f->user, F_SETFL, O_NONBLOCK);
	return (0);
}

static void
fixture_start(struct fixture *f, int flags)
{
	struct relay_opts	ro;

	memset(&ro, 0, sizeof ro);
	ro.flags = flags;
	ro.label = "peer";
	f->r = relay_start(f->a, f->b, &ro, done_cb, &f->d);
}

/* The caller's part after the done callback: free, then close both. */
static void
fixture_close(struct fixture *f)
{
	if (f->r != NULL)
		relay_free(f->r);
	f->r = NULL;
	if (f->a != NULL)
		stream_abort(f->a);
	if (f->b != NULL)
		stream_abort(f->b);
	f->a = f->b = NULL;
	run_for(f->base, 0.05);
}

static void
fixture_free(struct fixture *f)
{
	fixture_close(f);
	close(f->peer);
	close(f->user);
}

/* What fd gives within secs: bytes into buf, then 1 (EOF), -errno, or 0. */
static int
far_read(struct event_base *base, int fd, char *buf, size_t cap,
    size_t *got, double secs)
{
	double	end = now() + secs;
	ssize_t	n;

	*got = 0;
	while (now() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		n = read(fd, buf + *got, cap - *got);
		if (n > 0) {
			*got += (size_t)n;
			continue;
		}
		if (n == 0)
			return (1);
		if (errno != EAGAIN)
			return (-errno);
		usleep(500);
	}
	return (0);
}

static void
far_reset(int fd)
{
	struct linger	l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

/* Both EOFs: stdin's is passed on as a half-close, then done, exit 0. */
static void
test_eof_each_way(struct event_base *base)
{
	struct fixture	f;
	char		buf[64];
	size_t		got;
	int		rc;

	if (fixture_open(&f, base, 0, 0) == -1)
		return;
	fixture_start(&f, 0);
	(void)write(f.user, "world", 5);
	shutdown(f.user, SHUT_WR);
	rc = far_read(base, f.peer, buf, sizeof buf, &got, 2);
	is_int(rc, 1, "stdin EOF: the peer reads EOF (a half-close)");
	is_mem(buf, got, "world", 5, "stdin EOF: the peer got every byte");
	ok(!f.d.called, "stdin EOF alone does not end the transfer");
	(void)write(f.peer, "hello", 5);
	shutdown(f.peer, SHUT_WR);
	run_until(base, &f.d.called, 2);
	ok(f.d.called && f.d.err.kind == STREAM_OK,
	    "both EOFs and all written: done, no error");
	is_int(f.d.times, 1, "the done callback runs once");
	is_int(f.d.rep.bytes[RELAY_B_TO_A], 5, "5 bytes sent");
	is_int(f.d.rep.bytes[RELAY_A_TO_B], 5, "5 bytes received");
	is_str(relay_end_name(f.d.rep.a_end), "eof", "a ended with EOF");
	is_str(relay_end_name(f.d.rep.b_end), "eof", "b ended with EOF");
	rc = far_read(base, f.user, buf, sizeof buf, &got, 1);
	is_mem(buf, got, "hello", 5, "stdout got the peer's bytes");
	fixture_free(&f);
}

/*
 * The peer half-closes first: stdin is still sent (it may still read);
 * a terminal on stdin ends it at once instead.
 */
static void
test_half_close(struct event_base *base)
{
	struct fixture	f;
	char		buf[64];
	size_t		got;
	int		rc;

	if (fixture_open(&f, base, 0, 0) == -1)
		return;
	fixture_start(&f, 0);
	shutdown(f.peer, SHUT_WR);
	run_for(base, 0.1);
	ok(!f.d.called, "peer EOF first, stdin not a tty: not over yet");
	(void)write(f.user, "late", 4);
	shutdown(f.user, SHUT_WR);
	run_until(base, &f.d.called, 2);
	ok(f.d.called && f.d.err.kind == STREAM_OK,
	    "then stdin's EOF: done, no error");
	rc = far_read(base, f.peer, buf, sizeof buf, &got, 1);
	is_mem(buf, got, "late", 4, "the half-closed peer got the rest");
	is_int(rc, 1, "and our EOF after it");
	fixture_free(&f);

	if (fixture_open(&f, base, 0, 0) == -1)
		return;
	fixture_start(&f, RELAY_STDIN_TTY);
	shutdown(f.peer, SHUT_WR);
	run_until(base, &f.d.called, 2);
	ok(f.d.called && f.d.err.kind == STREAM_OK,
	    "peer EOF first, stdin a tty: done at once");
	fixture_free(&f);

	/* --no-shutdown: stdin's EOF is not passed on. */
	if (fixture_open(&f, base, 0, 0) == -1)
		return;
	fixture_start(&f, RELAY_NO_SHUTDOWN);
	shutdown(f.user, SHUT_WR);
	rc = far_read(base, f.peer, buf, sizeof buf, &got, 0.2);
	is_int(rc, 0, "RELAY_NO_SHUTDOWN: the peer reads no EOF");
	shutdown(f.peer, SHUT_WR);
	run_until(base, &f.d.called, 2);
	ok(f.d.called && f.d.err.kind == STREAM_OK,
	    "RELAY_NO_SHUTDOWN: the peer's EOF ends it");
	fixture_free(&f);
}

/* A reset from the peer with input unsent, and a reset of stdin. */
static void
test_reset_each_way(struct event_base *base)
{
	struct fixture	f;

	if (fixture_open(&f, base, 1, 0) == -1)
		return;
	fixture_start(&f, 0);
	(void)write(f.user, "unsent", 6);
	run_for(base, 0.05);
	far_reset(f.peer);
	f.peer = -1;
	run_until(base, &f.d.called, 2);
	is_int(f.d.err.kind, STREAM_ERESET, "peer reset: ERESET");
	is_str(f.d.err.msg, "peer: peer closed before all input was sent",
	    "peer reset with input unfinished: never a silent truncation");
	is_str(relay_end_name(f.d.rep.a_end), "reset", "a ended by a reset");
	fixture_free(&f);

	if (fixture_open(&f, base, 1, 0) == -1)
		return;
	fixture_start(&f, 0);
	(void)write(f.peer, "x", 1);
	run_for(base, 0.05);
	far_reset(f.user);
	f.user = -1;
	run_until(base, &f.d.called, 2);
	is_int(f.d.err.kind, STREAM_ERESET, "stdin reset: ERESET");
	ok(strncmp(f.d.err.msg, "stdin: ", 7) == 0 ||
	    strncmp(f.d.err.msg, "stdout: ", 8) == 0,
	    "stdin reset: named for stdio (%s)", f.d.err.msg);
	is_str(relay_end_name(f.d.rep.b_end), "reset", "b ended by a reset");
	fixture_free(&f);
}

/* stdout fails: "stdout: ...", and the peer gets a reset, not a FIN. */
static void
test_stdout_fails(struct event_base *base)
{
	struct fixture	f;
	char		buf[64];
	size_t		got;
	int		rc;

	if (fixture_open(&f, base, 0, 0) == -1)
		return;
	fixture_start(&f, RELAY_NO_SHUTDOWN);
	shutdown(f.user, SHUT_RD);	/* the reader of stdout is gone */
	(void)write(f.peer, "lost", 4);
	run_until(base, &f.d.called, 2);
	ok(f.d.called && strncmp(f.d.err.msg, "stdout: ", 8) == 0,
	    "stdout write failed: worded for stdout (%s)", f.d.err.msg);
	fixture_close(&f);
	rc = far_read(base, f.peer, buf, sizeof buf, &got, 1);
	is_int(rc, -ECONNRESET, "stdout failed: the peer sees a reset");
	close(f.peer);
	close(f.user);
}

/* A signal with stdin unfinished resets; with all sent it does not. */
static void
test_interrupt(struct event_base *base)
{
	struct fixture	f;
	char		buf[64];
	size_t		got;
	int		rc;

	if (fixture_open(&f, base, 0, 0) == -1)
		return;
	fixture_start(&f, 0);
	(void)write(f.user, "half", 4);
	rc = far_read(base, f.peer, buf, sizeof buf, &got, 0.2);
	is_int(relay_interrupt(f.r), 1, "interrupt with stdin open: 1");
	fixture_close(&f);
	rc = far_read(base, f.peer, buf, sizeof buf, &got, 1);
	is_int(rc, -ECONNRESET, "interrupted: the peer sees a reset");
	close(f.peer);
	close(f.user);

	if (fixture_open(&f, base, 0, 0) == -1)
		return;
	fixture_start(&f, 0);
	shutdown(f.user, SHUT_WR);
	rc = far_read(base, f.peer, buf, sizeof buf, &got, 1);
	is_int(relay_interrupt(f.r), 0, "interrupt with stdin all sent: 0");
	fixture_close(&f);
	rc = far_read(base, f.peer, buf, sizeof buf, &got, 1);
	is_int(rc, 1, "not interrupted: an ordinary close");
	close(f.peer);
	close(f.user);
}

static void
test_idle(struct event_base *base)
{
	struct fixture	f;
	double		t0;

	if (fixture_open(&f, base, 0, 0.2) == -1)
		return;
	t0 = now();
	fixture_start(&f, 0);
	run_until(base, &f.d.called, 3);
	is_int(f.d.err.kind, STREAM_ETIMEOUT, "idle: ETIMEOUT");
	ok(now() - t0 >= 0.15, "idle: not before the timeout");
	ok(f.d.rep.a_end == RELAY_END_TIMEOUT ||
	    f.d.rep.b_end == RELAY_END_TIMEOUT, "idle: a side ended by it");
	fixture_free(&f);
}

/* A filter on each way sees every byte (-C, -x): no kernel transfer. */
static void
upper_cb(struct evbuffer *data, void *arg)
{
	size_t		 i, len = evbuffer_get_length(data);
	unsigned char	*p = evbuffer_pullup(data, -1);
	int		*calls = arg;

	(*calls)++;
	for (i = 0; i < len; i++) {
		if (p[i] >= 'a' && p[i] <= 'z')
			p[i] -= 'a' - 'A';
	}
}

static void
test_filters(struct event_base *base)
{
	struct fixture		f;
	struct relay_opts	ro;
	char			buf[64];
	size_t			got;
	int			calls = 0;

	if (fixture_open(&f, base, 1, 0) == -1)
		return;
	memset(&ro, 0, sizeof ro);
	ro.flags = RELAY_PAIR;
	ro.a_to_b = upper_cb;
	ro.b_to_a = upper_cb;
	ro.filter_arg = &calls;
	f.r = relay_start(f.a, f.b, &ro, done_cb, &f.d);
	(void)write(f.peer, "abc", 3);
	(void)far_read(base, f.user, buf, sizeof buf, &got, 0.3);
	is_mem(buf, got, "ABC", 3, "filter: a to b rewritten");
	(void)write(f.user, "xyz", 3);
	(void)far_read(base, f.peer, buf, sizeof buf, &got, 0.3);
	is_mem(buf, got, "XYZ", 3, "filter: b to a rewritten");
	ok(calls >= 2, "filter: called on each way");
	is_int(relay_bytes(f.r, RELAY_A_TO_B), 3, "relay_bytes a to b");
	is_int(relay_bytes(f.r, RELAY_B_TO_A), 3, "relay_bytes b to a");
	fixture_free(&f);
}

/* RELAY_PAIR: FINs pass both ways, the pair ends when both have. */
static void
test_pair_half_close(struct event_base *base)
{
	struct fixture	f;
	char		buf[64];
	size_t		got;
	int		rc;

	if (fixture_open(&f, base, 1, 0) == -1)
		return;
	fixture_start(&f, RELAY_PAIR);
	(void)write(f.peer, "ping", 4);
	shutdown(f.peer, SHUT_WR);
	rc = far_read(base, f.user, buf, sizeof buf, &got, 2);
	is_mem(buf, got, "ping", 4, "pair: a's bytes reach b");
	is_int(rc, 1, "pair: a's FIN is b's half-close");
	ok(!f.d.called, "pair: one direction done is not the end");
	(void)write(f.user, "pong", 4);
	rc = far_read(base, f.peer, buf, sizeof buf, &got, 0.3);
	is_mem(buf, got, "pong", 4, "pair: the other way still moves");
	shutdown(f.user, SHUT_WR);
	run_until(base, &f.d.called, 2);
	ok(f.d.called && f.d.err.kind == STREAM_OK, "pair: both FINs: done");
	is_int(f.d.rep.bytes[RELAY_A_TO_B], 4, "pair: 4 bytes a to b");
	is_int(f.d.rep.bytes[RELAY_B_TO_A], 4, "pair: 4 bytes b to a");
	is_str(relay_end_name(f.d.rep.a_end), "eof", "pair: a EOF");
	is_str(relay_end_name(f.d.rep.b_end), "eof", "pair: b EOF");
	rc = far_read(base, f.peer, buf, sizeof buf, &got, 1);
	is_int(rc, 1, "pair: b's FIN is a's half-close");
	fixture_free(&f);
}

/* RELAY_PAIR: a reset on either side is a reset on the other. */
static void
test_pair_reset(struct event_base *base, int from_a)
{
	struct fixture	f;
	char		buf[64];
	size_t		got;
	int		rc, *bad, *other;
	const char	*who = from_a ? "a" : "b";

	if (fixture_open(&f, base, 1, 0) == -1)
		return;
	fixture_start(&f, RELAY_PAIR);
	bad = from_a ? &f.peer : &f.user;
	other = from_a ? &f.user : &f.peer;
	(void)write(*bad, "x", 1);
	rc = far_read(base, *other, buf, sizeof buf, &got, 0.2);
	far_reset(*bad);
	*bad = -1;
	run_until(base, &f.d.called, 2);
	is_int(f.d.err.kind, STREAM_ERESET, "pair: %s reset: ERESET", who);
	is_str(relay_end_name(from_a ? f.d.rep.a_end : f.d.rep.b_end),
	    "reset", "pair: %s ended by a reset", who);
	fixture_close(&f);
	rc = far_read(base, *other, buf, sizeof buf, &got, 1);
	is_int(rc, -ECONNRESET, "pair: %s reset: the other side is reset, "
	    "not closed", who);
	if (f.peer != -1)
		close(f.peer);
	if (f.user != -1)
		close(f.user);
}

/*
 * RELAY_PAIR: the idle timeout ends a pair idle both ways only; one
 * direction moving keeps both streams alive. The close is ordinary.
 */
static void
test_pair_idle(struct event_base *base)
{
	struct fixture	f;
	char		buf[64];
	size_t		got;
	int		i, rc;

	if (fixture_open(&f, base, 1, 0.3) == -1)
		return;
	fixture_start(&f, RELAY_PAIR);
	for (i = 0; i < 8; i++) {
		(void)write(f.peer, "t", 1);
		(void)far_read(base, f.user, buf, sizeof buf, &got, 0.1);
	}
	ok(!f.d.called, "pair idle: one direction moving keeps it open");
	run_until(base, &f.d.called, 3);
	is_int(f.d.err.kind, STREAM_ETIMEOUT, "pair idle both ways: timeout");
	fixture_close(&f);
	rc = far_read(base, f.user, buf, sizeof buf, &got, 1);
	is_int(rc, 1, "pair idle: b gets an ordinary close");
	fixture_free(&f);
}

int
main(void)
{
	struct event_base	*base;

	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	test_eof_each_way(base);
	test_half_close(base);
	test_reset_each_way(base);
	test_stdout_fails(base);
	test_interrupt(base);
	test_idle(base);
	test_filters(base);
	test_pair_half_close(base);
	test_pair_reset(base, 1);
	test_pair_reset(base, 0);
	test_pair_idle(base);
	event_base_free(base);
	return (tap_done());
}
