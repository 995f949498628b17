/*
 * loop.h: what the unit tests that run an event loop share (as tap.h, a
 * header of static functions): the monotonic clock, running a loop until
 * a flag is set or a bound passes, and a connected TCP pair on loopback.
 */

#ifndef LOOP_H
#define LOOP_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

/* Seconds on the monotonic clock. */
static double __attribute__((unused))
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Run the loop until *flag is set or secs pass. Returns *flag. */
static int __attribute__((unused))
run_until(struct event_base *base, const int *flag, double secs)
{
	double	end = now() + secs;

	while (!*flag && now() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (!*flag)
			usleep(500);
	}
	return (*flag);
}

/* Run the loop for secs. */
static void __attribute__((unused))
run_for(struct event_base *base, double secs)
{
	int	never = 0;

	run_until(base, &never, secs);
}

/*
 * A connected TCP pair on loopback, without the stream module: fds[0]
 * connected, fds[1] accepted. 0, or -1 with nothing left open.
 */
static int __attribute__((unused))
tcp_pair(int fds[2])
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			l;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	if (bind(l, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(l, 1) == -1 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) == -1 ||
	    (fds[0] = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		close(l);
		return (-1);
	}
	if (connect(fds[0], (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    (fds[1] = accept(l, NULL, NULL)) == -1) {
		close(fds[0]);
		close(l);
		return (-1);
	}
	close(l);
	return (0);
}

#endif /* LOOP_H */
