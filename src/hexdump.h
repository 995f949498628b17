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

#ifndef HEXDUMP_H
#define HEXDUMP_H

#include <stddef.h>

struct evbuffer;
struct stream_error;

/*
 * -x FILE, --hex-dump FILE: every chunk sent and received, in order, as
 *
 *	> OFFSET LENGTH			(sent; "<" for received)
 *	00000000  68 65 6c 6c 6f 0a                                 |hello.|
 *
 * OFFSET counts the bytes of that direction before the chunk, in
 * decimal; the lines below are in hexdump -C's layout with offsets
 * within the direction, every line printed (never "*"). A label (a
 * serve client's ADDR:PORT) goes between the arrow and OFFSET.
 */
struct hexdump;

/* Per connection and direction: bytes dumped so far. */
struct hexdump_dir {
	unsigned long long	 offset;
};

/* PATH, or "-" for stderr. NULL with err when it cannot be opened. */
struct hexdump	*hexdump_open(const char *path, struct stream_error *);
void		 hexdump_mem(struct hexdump *, const char *label, int sent,
		     struct hexdump_dir *, const void *, size_t);
/* The buffer's bytes, left in it. */
void		 hexdump_buffer(struct hexdump *, const char *label, int sent,
		     struct hexdump_dir *, struct evbuffer *);
/*
 * One connection's dump: both directions and the label of its headers
 * (NULL for none; "" becomes "#N", N counting such connections from 1,
 * for unix clients, which have no address). The callbacks are pump filters (relay.c): pass the
 * hexdump_conn as their argument. hd NULL makes them do nothing.
 */
struct hexdump_conn {
	struct hexdump		*hd;
	const char		*label;
	char			 anon[24];	/* "#N": a label for no address */
	struct hexdump_dir	 sent;
	struct hexdump_dir	 received;
};
void		 hexdump_conn_init(struct hexdump_conn *, struct hexdump *,
		     const char *label);
void		 hexdump_sent_cb(struct evbuffer *, void *);
void		 hexdump_received_cb(struct evbuffer *, void *);
/* An echo: the chunk was received, and is sent back as it is. */
void		 hexdump_echo_cb(struct evbuffer *, void *);

/*
 * Called once, with errno's value, when a write of the dump first fails
 * (the dump stops there; the transfer goes on): a server says so at once.
 */
typedef void	(*hexdump_error_cb)(int, void *);
void		 hexdump_set_error_cb(struct hexdump *, hexdump_error_cb,
		     void *);

/* Flush and close; -1 if a write failed (errno set). */
int		 hexdump_close(struct hexdump *);

#endif /* HEXDUMP_H */
