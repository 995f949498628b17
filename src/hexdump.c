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

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "compat.h"
#include "error.h"
#include "hexdump.h"
#include "xmalloc.h"

/*
 * The dump is written with blocking semantics through a fixed buffer:
 * memory stays bounded, and a slow FILE slows the transfer rather than
 * growing a queue. The descriptor may be non-blocking (stderr shares
 * stdout's file description when 2>&1, and stdout's stream makes it
 * non-blocking), so EAGAIN waits in poll(2) instead of losing bytes.
 */

#define HEXDUMP_BUF	65536
#define HEXDUMP_LINE	128	/* one formatted line, with room to spare */

struct hexdump {
	int	 fd;
	int	 own;		/* close fd at the end */
	int	 error;		/* first write error, or 0 */
	hexdump_error_cb error_cb;
	void	*error_arg;
	char	 buf[HEXDUMP_BUF];
	size_t	 len;
};

struct hexdump *
hexdump_open(const char *path, struct stream_error *err)
{
	struct hexdump	*hd;
	int		 fd;

	if (strcmp(path, "-") == 0)
		fd = STDERR_FILENO;
	else if ((fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC,
	    0666)) == -1) {
		stream_error_set(err, STREAM_ESYS, errno, "%s: %s", path,
		    strerror(errno));
		return (NULL);
	}
	hd = xcalloc(1, sizeof *hd);
	hd->fd = fd;
	hd->own = fd != STDERR_FILENO;
	return (hd);
}

static void
hexdump_flush(struct hexdump *hd)
{
	struct pollfd	 pfd;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < hd->len && hd->error == 0) {
		n = write(hd->fd, hd->buf + off, hd->len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			pfd.fd = hd->fd;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, -1);
			continue;
		}
		hd->error = n == -1 ? errno : EIO;
		if (hd->error_cb != NULL)
			hd->error_cb(hd->error, hd->error_arg);
	}
	hd->len = 0;
}

void
hexdump_set_error_cb(struct hexdump *hd, hexdump_error_cb cb, void *arg)
{
	hd->error_cb = cb;
	hd->error_arg = arg;
}

static void
hexdump_put(struct hexdump *hd, const char *s, size_t len)
{
	if (hd->len + len > sizeof hd->buf)
		hexdump_flush(hd);
	memcpy(hd->buf + hd->len, s, len);
	hd->len += len;
}

/* One line of hexdump -C: up to 16 bytes at direction offset off. */
static void
hexdump_line(struct hexdump *hd, unsigned long long off,
    const unsigned char *p, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 line[HEXDUMP_LINE];
	size_t			 i, k;
	int			 w;

	w = snprintf(line, sizeof line, "%08llx  ", off);
	k = (size_t)w;
	for (i = 0; i < 16; i++) {
		if (i < n) {
			line[k++] = hex[p[i] >> 4];
			line[k++] = hex[p[i] & 0xf];
		} else {
			line[k++] = ' ';
			line[k++] = ' ';
		}
		line[k++] = ' ';
		if (i == 7)
			line[k++] = ' ';
	}
	line[k++] = ' ';
	line[k++] = '|';
	for (i = 0; i < n; i++)
		line[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	line[k++] = '|';
	line[k++] = '\n';
	hexdump_put(hd, line, k);
}

/*
 * Lines hold 16 bytes of the chunk each: a chunk that starts mid-line
 * in its direction still starts a line, at its own offset, as
 * hexdump -C -s does.
 */
static void
hexdump_bytes(struct hexdump *hd, struct hexdump_dir *d, const void *data,
    size_t len, unsigned char *carry, size_t *ncarry)
{
	const unsigned char	*p = data;
	size_t			 take;

	while (len > 0) {
		take = 16 - *ncarry;
		if (take > len)
			take = len;
		memcpy(carry + *ncarry, p, take);
		*ncarry += take;
		p += take;
		len -= take;
		if (*ncarry == 16) {
			hexdump_line(hd, d->offset, carry, 16);
			d->offset += 16;
			*ncarry = 0;
		}
	}
}

static void
hexdump_header(struct hexdump *hd, const char *label, int sent,
    const struct hexdump_dir *d, size_t len)
{
	char	line[512];
	int	n;

	n = snprintf(line, sizeof line, "%c %s%s%llu %zu\n", sent ? '>' : '<',
	    label != NULL ? label : "", label != NULL ? " " : "", d->offset,
	    len);
	if (n > 0 && (size_t)n < sizeof line)
		hexdump_put(hd, line, (size_t)n);
}

static void
hexdump_end(struct hexdump *hd, struct hexdump_dir *d, unsigned char *carry,
    size_t ncarry)
{
	if (ncarry > 0) {
		hexdump_line(hd, d->offset, carry, ncarry);
		d->offset += ncarry;
	}
	hexdump_flush(hd);	/* each chunk out as it happens */
}

void
hexdump_mem(struct hexdump *hd, const char *label, int sent,
    struct hexdump_dir *d, const void *data, size_t len)
{
	unsigned char	carry[16];
	size_t		ncarry = 0;

	if (hd == NULL || len == 0)
		return;
	hexdump_header(hd, label, sent, d, len);
	hexdump_bytes(hd, d, data, len, carry, &ncarry);
	hexdump_end(hd, d, carry, ncarry);
}

void
hexdump_buffer(struct hexdump *hd, const char *label, int sent,
    struct hexdump_dir *d, struct evbuffer *buf)
{
	struct evbuffer_iovec	*v;
	unsigned char		 carry[16];
	size_t			 ncarry = 0, len;
	int			 nv, i;

	if (hd == NULL || (len = evbuffer_get_length(buf)) == 0)
		return;
	hexdump_header(hd, label, sent, d, len);
	nv = evbuffer_peek(buf, -1, NULL, NULL, 0);
	v = xreallocarray(NULL, (size_t)nv, sizeof *v);
	nv = evbuffer_peek(buf, -1, NULL, v, nv);
	for (i = 0; i < nv; i++)
		hexdump_bytes(hd, d, v[i].iov_base, v[i].iov_len, carry,
		    &ncarry);
	free(v);
	hexdump_end(hd, d, carry, ncarry);
}

void
hexdump_conn_init(struct hexdump_conn *hc, struct hexdump *hd,
    const char *label)
{
	static unsigned long	anon;

	memset(hc, 0, sizeof *hc);
	hc->hd = hd;
	hc->label = label;
	if (hd != NULL && label != NULL && *label == '\0') {
		snprintf(hc->anon, sizeof hc->anon, "#%lu", ++anon);
		hc->label = hc->anon;
	}
}

void
hexdump_sent_cb(struct evbuffer *data, void *arg)
{
	struct hexdump_conn	*hc = arg;

	hexdump_buffer(hc->hd, hc->label, 1, &hc->sent, data);
}

void
hexdump_received_cb(struct evbuffer *data, void *arg)
{
	struct hexdump_conn	*hc = arg;

	hexdump_buffer(hc->hd, hc->label, 0, &hc->received, data);
}

void
hexdump_echo_cb(struct evbuffer *data, void *arg)
{
	hexdump_received_cb(data, arg);
	hexdump_sent_cb(data, arg);
}

int
hexdump_close(struct hexdump *hd)
{
	int	error;

	if (hd == NULL)
		return (0);
	hexdump_flush(hd);
	error = hd->error;
	if (hd->own && close(hd->fd) == -1 && error == 0)
		error = errno;
	free(hd);
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
}
