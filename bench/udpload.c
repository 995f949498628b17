/*
 * udpload: the load of bench/udp. One connected UDP socket keeps WINDOW
 * datagrams of SIZE bytes in flight to an echo server for SECS seconds:
 * each echo received (recvmmsg) is answered by a new datagram (sendmmsg).
 * When nothing comes back for 100 ms the window counts as lost and is
 * sent again. With --cpu-pid, the server's CPU time (utime + stime of
 * /proc/PID/stat) over the window is divided by the echoes received.
 *
 *	udpload HOST PORT SIZE WINDOW SECS [--cpu-pid PID]
 *
 * Prints: echoes=N lost=N secs=S dgrams_per_s=R cpu_us_per_dgram=C
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH	64

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* A process's CPU seconds, from /proc/PID/stat fields 14 and 15. */
static double
cpu_of(long pid)
{
	char			 path[64], buf[1024], *p;
	unsigned long		 ut, st;
	FILE			*f;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return (-1);
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return (-1);
	return ((double)(ut + st) / (double)sysconf(_SC_CLK_TCK));
}

static void
send_n(int fd, char *payload, size_t size, int n)
{
	struct mmsghdr	msgs[BATCH];
	struct iovec	iov = { payload, size };
	int		i, k;

	while (n > 0) {
		k = n > BATCH ? BATCH : n;
		memset(msgs, 0, sizeof msgs);
		for (i = 0; i < k; i++) {
			msgs[i].msg_hdr.msg_iov = &iov;
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		if (sendmmsg(fd, msgs, (unsigned int)k, 0) <= 0)
			return;
		n -= k;
	}
}

int
main(int argc, char **argv)
{
	static char		 rbuf[BATCH][65536];
	struct mmsghdr		 msgs[BATCH];
	struct iovec		 iov[BATCH];
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 0, 100000 };
	unsigned long long	 echoes = 0, lost = 0;
	double			 t0, t1, secs, c0 = -1, c1 = -1;
	size_t			 size;
	long			 pid = 0;
	char			*payload;
	int			 fd, window, inflight, n, i;

	if (argc != 6 && !(argc == 8 && strcmp(argv[6], "--cpu-pid") == 0)) {
		fprintf(stderr, "usage: udpload HOST PORT SIZE WINDOW SECS "
		    "[--cpu-pid PID]\n");
		return (2);
	}
	size = (size_t)atol(argv[3]);
	window = atoi(argv[4]);
	secs = atof(argv[5]);
	if (argc == 8)
		pid = atol(argv[7]);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1) {
		perror("udpload");
		return (1);
	}
	payload = calloc(1, size > 0 ? size : 1);
	memset(payload, 'x', size);
	if (pid > 0)
		c0 = cpu_of(pid);
	t0 = now();
	send_n(fd, payload, size, window);
	inflight = window;
	while ((t1 = now()) - t0 < secs) {
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = rbuf[i];
			iov[i].iov_len = sizeof rbuf[i];
			memset(&msgs[i], 0, sizeof msgs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				perror("udpload: recvmmsg");
				return (1);
			}
			lost += (unsigned long long)inflight;	/* resend */
			send_n(fd, payload, size, window);
			inflight = window;
			continue;
		}
		echoes += (unsigned long long)n;
		send_n(fd, payload, size, n);
	}
	t1 = now();
	if (pid > 0)
		c1 = cpu_of(pid);
	printf("echoes=%llu lost=%llu secs=%.3f dgrams_per_s=%.0f "
	    "cpu_us_per_dgram=%s", echoes, lost, t1 - t0,
	    (double)echoes / (t1 - t0), c0 >= 0 && c1 >= 0 && echoes > 0 ?
	    "" : "-");
	if (c0 >= 0 && c1 >= 0 && echoes > 0)
		printf("%.2f", (c1 - c0) * 1e6 / (double)echoes);
	printf("\n");
	return (0);
}
