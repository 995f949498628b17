/*
 * mmsg_echo: the plain C UDP echo server of bench/udp, the limit cstream's
 * `serve -u --echo` is measured against: one socket, blocking
 * recvmmsg(2) of up to 64 datagrams, each sent back to its sender with one
 * sendmmsg(2). No event loop, no copies, no per-peer state.
 *
 *	mmsg_echo 127.0.0.1:PORT	(PORT 0: prints the port bound)
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH	64
#define DGRAM	65536

int
main(int argc, char **argv)
{
	static char		 bufs[BATCH][DGRAM];
	struct mmsghdr		 msgs[BATCH];
	struct iovec		 iov[BATCH];
	struct sockaddr_in	 sin, from[BATCH];
	socklen_t		 len = sizeof sin;
	char			*colon;
	int			 fd, n, i;

	if (argc != 2 || (colon = strrchr(argv[1], ':')) == NULL) {
		fprintf(stderr, "usage: mmsg_echo ADDR:PORT\n");
		return (2);
	}
	*colon = '\0';
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		perror("mmsg_echo");
		return (1);
	}
	printf("%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		memset(msgs, 0, sizeof msgs);
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = DGRAM;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof from[i];
		}
		/* Block for the first, take what else is queued. */
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		for (i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		(void)sendmmsg(fd, msgs, (unsigned int)n, 0);
	}
}
