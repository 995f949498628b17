/*
 * Unit tests for crlf.c: -C sends each LF not already after a CR as
 * CRLF (ncat's rule), across chunk boundaries, in memory and in an
 * evbuffer.
 */

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "crlf.h"
#include "tap.h"

/* Convert the chunks in order with one state; the bytes sent. */
static char *
mem(const char *const *chunks, size_t *outlen)
{
	struct crlf	 c;
	char		*all = NULL, *out;
	size_t		 len = 0, n, i;

	memset(&c, 0, sizeof c);
	for (i = 0; chunks[i] != NULL; i++) {
		crlf_convert_mem(&c, chunks[i], strlen(chunks[i]), &out, &n);
		all = realloc(all, len + n + 1);
		memcpy(all + len, out, n);
		len += n;
		free(out);
	}
	if (all == NULL)
		all = calloc(1, 1);
	all[len] = '\0';
	*outlen = len;
	return (all);
}

static void
check(const char *const *chunks, const char *want, const char *what)
{
	size_t	 len;
	char	*got = mem(chunks, &len);

	is_mem(got, len, want, strlen(want), "%s", what);
	free(got);
}

static void
test_mem(void)
{
	const char	*a[] = { "a\nb\n", NULL };
	const char	*b[] = { "a\r\nb", NULL };
	const char	*c[] = { "a\r", "\nb\n", NULL };
	const char	*d[] = { "\n\n", NULL };
	const char	*e[] = { "", "x", "", NULL };
	const char	*f[] = { "\r\r\n", NULL };
	const char	*g[] = { "a\r", "b\n", NULL };
	const char	*h[] = { "\n", "\n", NULL };

	check(a, "a\r\nb\r\n", "each LF becomes CRLF");
	check(b, "a\r\nb", "an LF after CR stays (never CR CR LF)");
	check(c, "a\r\nb\r\n", "a CR ending one chunk, an LF starting the next");
	check(d, "\r\n\r\n", "empty lines");
	check(e, "x", "empty chunks");
	check(f, "\r\r\n", "a lone CR before CRLF is kept as is");
	check(g, "a\rb\r\n", "a CR not before LF does not count at the next LF");
	check(h, "\r\n\r\n", "an LF ending one chunk is not a CR for the next");
}

static void
test_evbuffer(void)
{
	struct crlf	 c;
	struct evbuffer	*b = evbuffer_new();
	char		 buf[64];
	size_t		 n;

	memset(&c, 0, sizeof c);
	evbuffer_add(b, "x\r", 2);
	crlf_convert(&c, b);
	n = evbuffer_remove(b, buf, sizeof buf);
	is_mem(buf, n, "x\r", 2, "evbuffer: a trailing CR goes out as is");
	evbuffer_add(b, "\ny\nz", 4);
	crlf_convert(&c, b);
	n = evbuffer_remove(b, buf, sizeof buf);
	is_mem(buf, n, "\ny\r\nz", 5,
	    "evbuffer: ... and the LF after it is not doubled");
	crlf_convert(&c, b);
	is_int(evbuffer_get_length(b), 0, "evbuffer: empty stays empty");
	evbuffer_free(b);
}

int
main(void)
{
	test_mem();
	test_evbuffer();
	return (tap_done());
}
