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

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmd.h"
#include "stream.h"
#include "tls.h"
#include "timing.h"

/*
 * main: the global defaults, --version, then the command layer, whose
 * return value is the exit status (doc/cli.md, "Exit status").
 */
int
main(int argc, char **argv)
{
	struct global_opts	g;

	/*
	 * A peer that goes away must show up as EPIPE on the write, not kill
	 * us: libevent writes with writev, so MSG_NOSIGNAL cannot help.
	 */
	timing_init();	/* the timings count from here (timing.c) */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Bulk reads that are not spliced (TLS, --echo, a tty) reserve
	 * chains of up to 256 KiB (stream.c). glibc's mmap threshold starts
	 * at 128 KiB and then follows the chunks freed, with the trim
	 * threshold at twice it: a freed chain at the top of the heap shrinks
	 * it, the next one grows it again, with fresh page faults (1 GiB
	 * received: 6143 brk calls for 4173 reads). Chains up to 1 MiB stay
	 * in the heap and it is trimmed only past 8 MiB free at the top: RSS
	 * stays bounded and the brk calls go (7 for the same transfer).
	 */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
	/*
	 * libevent's calloc is glibc's, which bypasses the per-thread cache;
	 * given malloc it zeroes malloc's block instead, from the cache: a
	 * fifth of a server's instructions for each client (events, buffers).
	 */
	event_set_mem_functions(malloc, realloc, free);
	/* stderr carries the one-line errors; never interleave half lines. */
	setvbuf(stderr, NULL, _IOLBF, 0);

	/*
	 * As curl -V: the libraries cstream runs with, which a dynamic
	 * link lets differ from those it was built with.
	 */
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("cstream %s\nlibevent %s\n%s\n", PACKAGE_VERSION,
		    event_get_version(), tls_library_version());
		return (0);
	}

	memset(&g, 0, sizeof g);
	g.limit = STREAM_DEFAULT_LIMIT;
	return (cmd_run(argc, argv, &g));
}
