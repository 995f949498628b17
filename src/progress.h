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

#ifndef PROGRESS_H
#define PROGRESS_H

/*
 * --progress: pv's display of a transfer, one line per direction on
 * stderr. It costs the data path nothing: a 1 s timer asks the command
 * for its byte counters (stream_bytes_out and stream_bytes_in), so
 * splice and sendfile stay in use.
 */

struct event_base;
struct progress;

#define PROGRESS_SENT		0x1
#define PROGRESS_RECEIVED	0x2

/* The command's byte counters, read once a second and at the end. */
typedef void	 (*progress_count_cb)(void *, unsigned long long *sent,
		     unsigned long long *received);

/* --progress's value: 0 (only on a terminal), 1 (always), -1 unknown. */
int		 progress_mode(const char *value);
/* Would mode show anything (stderr a terminal, or 1)? */
int		 progress_visible(int mode);
/* Why nothing shows, for a command to say once. */
#define PROGRESS_HIDDEN	"--progress: standard error is not a terminal, " \
			"nothing shown (--progress=always forces it)"

/*
 * Start the display for the directions asked (PROGRESS_SENT and/or
 * PROGRESS_RECEIVED); size is the number of bytes to send when known,
 * else -1. NULL when there is nothing to show: mode 0 and stderr not a
 * terminal.
 */
struct progress	*progress_start(struct event_base *, int mode, int dirs,
		     long long size, progress_count_cb, void *);
/* The bytes to send became known (or unknown, -1) after the start. */
void		 progress_set_size(struct progress *, long long size);
/* The final summary, one line per direction, then free. NULL is fine. */
void		 progress_finish(struct progress *);

/* The size of what a descriptor has left to read, if a regular file. */
long long	 progress_fd_size(int fd);

#endif /* PROGRESS_H */
