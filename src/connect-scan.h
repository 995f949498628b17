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

#ifndef CONNECT_SCAN_H
#define CONNECT_SCAN_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct proxy;
struct stream_error;

/*
 * connect -z: connect to each port and close, nothing sent. Results go
 * out in ascending port order: "HOST PORT open" on stdout, "HOST PORT
 * closed" and "HOST PORT timeout" on stderr with verbose, or one JSON
 * object per port on stdout with json. For a unix socket, host is the
 * path and there is no port ("PATH open").
 */
#define PORTSCAN_CONCURRENCY	256	/* default attempts in flight */
#define PORTSCAN_TIMEOUT	2.0	/* default seconds per attempt */
#define PORTSCAN_FD_MARGIN	16	/* descriptors kept for the rest */

#define PORTSCAN_PROXY_CONCURRENCY 16	/* through a proxy: tunnels at once */

enum portscan_state {
	PORTSCAN_ST_PENDING = 0,
	PORTSCAN_ST_OPEN,
	PORTSCAN_ST_CLOSED,
	PORTSCAN_ST_TIMEOUT,
	PORTSCAN_ST_FILTERED	/* UDP: no answer, nmap's "open|filtered" */
};

/* One port's outcome, for --wait (connect-wait.c) and the timings. */
struct portscan_port {
	unsigned char	 state;		/* enum portscan_state */
	int		 error;		/* closed or timeout: the last errno */
	double		 dns_ms;	/* timing.c: the addresses known */
	double		 connect_ms;	/* open: connected; else -1 */
	double		 done_ms;	/* the result known */
};

struct timings;

struct portscan_opts {
	const char	*host;		/* as the user wrote it, or a path */
	int		 is_unix;
	int		 family;
	double		 timeout;	/* seconds per attempt */
	unsigned int	 concurrency;
	int		 verbose;
	int		 json;
	int		 quiet;		/* print nothing (--wait's rounds) */
	struct portscan_port *record;	/* n outcomes, or NULL */
};

struct portscan_result {
	size_t		 open;
	size_t		 closed;
	size_t		 timeout;
};

/*
 * PORTS: a port, a service name, a range "1-1024", or a comma list of
 * those. Sorted, without duplicates. -1 with a message in cause.
 */
int		 portscan_parse(const char *spec, uint16_t **ports, size_t *n,
		     char *cause, size_t causelen);

/* The descriptors allow this many attempts at once (at least 1). */
unsigned int	 portscan_max_concurrency(void);

/* Run the scan to the end; -1 with err on a failure that stops it. */
int		 portscan_run(struct event_base *, const struct portscan_opts *,
		     const uint16_t *ports, size_t n, struct portscan_result *,
		     struct stream_error *);

/* One port's line (or JSON object), as portscan_run prints it. */
void		 portscan_print(const struct portscan_opts *, uint16_t port,
		     enum portscan_state);
/* A recorded port's timings, for portscan_print_timed. */
void		 portscan_timings(const struct portscan_port *,
		     struct timings *);
/* The same with the port's timings in its JSON object (NULL: none). */
void		 portscan_print_timed(const struct portscan_opts *,
		     uint16_t port, enum portscan_state,
		     const struct timings *);

/*
 * The same through a proxy (connect-scan-proxy.c): a tunnel per port, open
 * when the proxy connected it, closed when it said it could not.
 */
int		 portscan_proxy_run(struct event_base *,
		     const struct portscan_opts *, const struct proxy *,
		     const uint16_t *ports, size_t n, struct portscan_result *,
		     struct stream_error *);

/*
 * connect -zu (connect-scan-udp.c): a probe datagram to each port on a
 * connected UDP socket. OPEN: an answer came; CLOSED: ICMP port
 * unreachable (ECONNREFUSED); FILTERED (open|filtered): neither within
 * the timeout. result->open, closed, and timeout for the silent ones.
 */
#define PORTSCAN_UDP_TIMEOUT	1.0	/* default seconds per port */
int		 portscan_udp_run(struct event_base *,
		     const struct portscan_opts *, const uint16_t *ports,
		     size_t n, struct portscan_result *, struct stream_error *);

#endif /* CONNECT_SCAN_H */
