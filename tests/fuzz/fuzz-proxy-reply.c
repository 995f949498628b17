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
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxy.h"
#include "stream.h"

/*
 * libFuzzer harness for what a proxy answers (proxy-socks.c, proxy-http.c):
 * the SOCKS5 method, authentication and CONNECT replies, and an HTTP
 * CONNECT reply (status line and headers). The first byte chooses the
 * proxy: 0 SOCKS5, 1 SOCKS5 with a username and password, 2 socks5h, 3
 * HTTP CONNECT, 4 HTTP CONNECT with credentials. The rest is everything
 * the proxy sends, written at once by a listener of this process on
 * 127.0.0.1 as soon as cstream connects, then a half-close. The tunnel
 * (to 192.0.2.1 port 443) must end exactly once: a stream (the proxy
 * said yes) or an error with a message naming the proxy, never both,
 * never neither, within 5 s.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct event_base	*fuzz_base;
static int			 fuzz_listener = -1;
static char			 fuzz_port[8];

struct fuzz_run {
	const uint8_t	*reply;
	size_t		 len;
	int		 peer;		/* the accepted connection */
	int		 calls;
	int		 open;
};

/* Once per process: the loop and a listener on 127.0.0.1, port 0. */
static void
fuzz_init(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;

	signal(SIGPIPE, SIG_IGN);
	fuzz_base = event_base_new();
	fuzz_listener = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fuzz_base == NULL || fuzz_listener == -1 ||
	    bind(fuzz_listener, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(fuzz_listener, 16) == -1 ||
	    getsockname(fuzz_listener, (struct sockaddr *)&sin, &len) == -1) {
		perror("fuzz-proxy-reply: listener");
		abort();
	}
	snprintf(fuzz_port, sizeof fuzz_port, "%u", ntohs(sin.sin_port));
}

/* The proxy: accept, send every byte of the reply, half-close. */
static void
fuzz_accept_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fuzz_run	*r = arg;
	size_t		 off = 0;
	ssize_t		 n;

	if ((r->peer = accept(fd, NULL, NULL)) == -1)
		return;
	/* At most 4 KiB (tests/fuzz/run): the socket buffer holds it. */
	while (off < r->len) {
		if ((n = write(r->peer, r->reply + off, r->len - off)) <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(r->peer, SHUT_WR);
}

static void
fuzz_done_cb(struct stream *s, const struct stream_error *err, void *arg)
{
	struct fuzz_run	*r = arg;

	r->calls++;
	if (s != NULL) {
		r->open = 1;
		stream_abort(s);
	} else if (err == NULL || err->kind == STREAM_OK ||
	    strncmp(err->msg, "proxy 127.0.0.1:", 16) != 0) {
		fprintf(stderr, "a failed tunnel without a proxy's error: %s\n",
		    err != NULL ? err->msg : "(null)");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char *const urls[] = {
		"socks5://127.0.0.1:%s", "socks5://user:pw@127.0.0.1:%s",
		"socks5h://127.0.0.1:%s", "http://127.0.0.1:%s",
		"http://user:pw@127.0.0.1:%s"
	};
	struct fuzz_run		 r;
	struct stream_opts	 opts;
	struct proxy		 p;
	struct event		*ev;
	const char		*cause;
	char			 url[64];
	int			 kind;

	if (len < 1)
		return (0);
	if (fuzz_base == NULL)
		fuzz_init();
	kind = data[0] % (sizeof urls / sizeof urls[0]);
	memset(&r, 0, sizeof r);
	r.reply = data + 1;
	r.len = len - 1;
	r.peer = -1;
	snprintf(url, sizeof url, urls[kind], fuzz_port);
	if (proxy_parse(url, &p, &cause) != 0)
		abort();
	memset(&opts, 0, sizeof opts);
	opts.family = AF_INET;
	opts.connect_timeout = 5;
	ev = event_new(fuzz_base, fuzz_listener, EV_READ, fuzz_accept_cb, &r);
	event_add(ev, NULL);
	/* A literal: socks5:// resolves the target here, without DNS. */
	proxy_open_connection(fuzz_base, &p, "192.0.2.1", "443", &opts,
	    fuzz_done_cb, &r);
	while (r.calls == 0)
		event_base_loop(fuzz_base, EVLOOP_ONCE);
	/* Whatever the stream left to do (its close) runs now. */
	event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
	event_free(ev);
	if (r.peer != -1)
		close(r.peer);
	proxy_free(&p);
	if (r.calls != 1)
		abort();
	return (0);
}
