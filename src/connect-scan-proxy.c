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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmd.h"
#include "connect-scan.h"
#include "log.h"
#include "net.h"
#include "proxy.h"
#include "xmalloc.h"

/*
 * connect -z through a proxy (nc -z -x): the proxy, not us, connects to
 * each port, so each port costs a whole tunnel (proxy.c, proxy_probe):
 * open when the proxy connected it (SOCKS5 reply 0, HTTP 2xx), closed
 * when it answered that it could not, timeout when it said nothing
 * within the connect timeout. A failure of the proxy itself (down,
 * authentication, protocol) stops the scan with its error. Results are
 * printed in port order, as connect-scan.c prints them.
 */

struct pscan {
	struct event_base		*base;
	const struct portscan_opts	*o;
	const struct proxy		*proxy;
	struct stream_opts		 sopts;
	const uint16_t			*ports;
	size_t				 n;
	unsigned char			*state;	/* enum portscan_state */
	size_t				 next_start;
	size_t				 next_print;
	unsigned int			 inflight;
	int				 failed;
	struct stream_error		*err;
	struct portscan_result		*res;
};

struct pscan_probe {
	struct pscan	*ps;
	size_t		 idx;
};

static void	pscan_fill(struct pscan *);

static void
pscan_probe_cb(enum proxy_probe_result r, const struct stream_error *err,
    void *arg)
{
	struct pscan_probe	*pp = arg;
	struct pscan		*ps = pp->ps;
	enum portscan_state	 st;

	ps->inflight--;
	switch (r) {
	case PROXY_PROBE_OPEN:
		st = PORTSCAN_ST_OPEN;
		ps->res->open++;
		break;
	case PROXY_PROBE_CLOSED:
		st = PORTSCAN_ST_CLOSED;
		ps->res->closed++;
		break;
	case PROXY_PROBE_TIMEOUT:
		st = PORTSCAN_ST_TIMEOUT;
		ps->res->timeout++;
		break;
	default:
		/* The first failure is the one told. */
		if (!ps->failed)
			*ps->err = *err;
		ps->failed = 1;
		st = PORTSCAN_ST_PENDING;
		break;
	}
	ps->state[pp->idx] = st;
	free(pp);
	pscan_fill(ps);
}

/* Start tunnels while under the bound; print what is known; end. */
static void
pscan_fill(struct pscan *ps)
{
	struct pscan_probe	*pp;
	char			 port[8];

	while (!ps->failed && ps->next_start < ps->n &&
	    ps->inflight < ps->o->concurrency) {
		pp = xcalloc(1, sizeof *pp);
		pp->ps = ps;
		pp->idx = ps->next_start++;
		snprintf(port, sizeof port, "%u", ps->ports[pp->idx]);
		ps->inflight++;
		proxy_probe(ps->base, ps->proxy, ps->o->host, port, &ps->sopts,
		    pscan_probe_cb, pp);
	}
	if (!ps->failed) {
		while (ps->next_print < ps->n &&
		    ps->state[ps->next_print] != PORTSCAN_ST_PENDING) {
			portscan_print(ps->o, ps->ports[ps->next_print],
			    ps->state[ps->next_print]);
			ps->next_print++;
		}
		fflush(stdout);
	}
	/* After a failure, the tunnels in flight end before we return. */
	if (ps->inflight == 0 && (ps->failed || ps->next_print == ps->n))
		event_base_loopbreak(ps->base);
}

int
portscan_proxy_run(struct event_base *base, const struct portscan_opts *o,
    const struct proxy *proxy, const uint16_t *ports, size_t n,
    struct portscan_result *result, struct stream_error *err)
{
	struct pscan	ps;

	memset(result, 0, sizeof *result);
	memset(&ps, 0, sizeof ps);
	ps.base = base;
	ps.o = o;
	ps.proxy = proxy;
	ps.sopts.family = o->family;
	ps.sopts.connect_timeout = o->timeout;
	ps.ports = ports;
	ps.n = n;
	ps.state = xcalloc(n, 1);
	ps.err = err;
	ps.res = result;
	if (log_verbose())
		log_event("proxy", "proxy", proxy->label, "scheme",
		    proxy_scheme(proxy), "target", o->host, (char *)NULL);
	pscan_fill(&ps);
	if (ps.inflight > 0)
		event_base_dispatch(base);
	free(ps.state);
	return (ps.failed ? -1 : 0);
}
