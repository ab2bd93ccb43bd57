// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* node_churn.c: opens and closes one channel between two simulated nodes many times
 * through the agent's library, as both nodes' agents would, with a datagram through
 * real sockets each time; then opens new channels and sends on each. Says how it
 * went on # lines (TAP diagnostics); the exit status is the verdict. Run inside
 * node 1's netns: node_churn PIN1 PIN2 NS_RECEIVER NS_SENDER RECEIVER_IP ROUNDS NEW */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "xc.h"

#define P_ALICE	1	/* receiver, on node 1 */
#define P_BOB	2	/* sender, on node 2 */

static struct xc n1, n2;
static struct sockaddr_in to;

/* A UDP socket bound to port in the netns at nspath; the caller's netns is kept. */
static int sock_in(const char *nspath, uint16_t port)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 2 };
	int self = open("/proc/self/ns/net", O_RDONLY), ns = open(nspath, O_RDONLY), fd = -1;

	if (self >= 0 && ns >= 0 && !setns(ns, CLONE_NEWNET)) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd >= 0 && (bind(fd, (void *)&me, sizeof(me)) ||
				setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))) {
			close(fd);
			fd = -1;
		}
		setns(self, CLONE_NEWNET);
	}
	if (self >= 0)
		close(self);
	if (ns >= 0)
		close(ns);
	return fd;
}

/* Both nodes' agents open the channel bob:sport -> alice:dport, a datagram crosses
 * it, then both close it (the sender's agent removes its OUT entry too, so the next
 * round starts again at sequence number 1). */
static int round_trip(int tx, int rx, uint16_t sport, uint16_t dport, int i, bool close_it)
{
	struct xc_ep a = { P_ALICE, dport }, b = { P_BOB, sport };
	char msg[32], got[32] = "";
	struct xc_err e = {};
	bool unacked;
	ssize_t n;

	to.sin_port = htons(dport);
	snprintf(msg, sizeof(msg), "m-%d", i);
	if (xc_chan_authorize(&n2, &b, &a, XCHAN_DIR_OUT, &e) ||
	    xc_chan_authorize(&n1, &a, &b, XCHAN_DIR_IN, &e) || xc_chan_connect(&n1, &a, &b, &e)) {
		printf("# round %d: open: %s\n", i, e.msg);
		return -1;
	}
	if (sendto(tx, msg, strlen(msg), 0, (void *)&to, sizeof(to)) < 0)
		return -1;
	n = recv(rx, got, sizeof(got) - 1, 0);
	if (n < 0 || strncmp(got, msg, strlen(msg))) {
		printf("# round %d: sent %s, received %s\n", i, msg, n < 0 ? strerror(errno) : got);
		return -1;
	}
	if (!close_it)
		return 0;
	if (xc_chan_close(&n1, &b, &a, &unacked, &e) || unacked ||
	    xc_chan_close(&n2, &b, &a, &unacked, &e) || unacked) {
		printf("# round %d: close%s: %s\n", i, unacked ? " unacknowledged" : "", e.msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	int rounds, fresh, tx, rx, bad = 0;
	struct xc_err e;

	if (argc != 8) {
		fprintf(stderr, "usage: node_churn PIN1 PIN2 NS_RECEIVER NS_SENDER RECEIVER_IP ROUNDS NEW\n");
		return 2;
	}
	rounds = atoi(argv[6]);
	fresh = atoi(argv[7]);
	xc_init(&n1, argv[1], NULL);
	xc_init(&n2, argv[2], NULL);
	if (xc_open(&n1, false, &e) || xc_open(&n2, false, &e)) {
		fprintf(stderr, "node_churn: %s\n", e.msg);
		return 1;
	}
	to.sin_family = AF_INET;
	inet_pton(AF_INET, argv[5], &to.sin_addr);
	tx = sock_in(argv[4], 5000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < rounds && !bad; i++) {
		rx = sock_in(argv[3], 6000);
		bad += rx < 0 || tx < 0 || round_trip(tx, rx, 5000, 6000, i, true);
		close(rx);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %d rounds of open, send, receive, close in %.2f s\n", rounds,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("# the same channel closed and opened again %d times: %s\n", rounds,
	       bad ? "FAILED" : "a datagram through it each time");
	for (int j = 0, badnew = 0; j < fresh; j++) {
		rx = sock_in(argv[3], 6100 + j);
		badnew += rx < 0 || round_trip(tx, rx, 5000, 6100 + j, j, false);
		close(rx);
		if (j == fresh - 1)
			printf("# then %d new channels: %s\n", fresh,
			       badnew ? "FAILED" : "a datagram on each"), bad += badnew;
	}
	xc_close(&n1);
	xc_close(&n2);
	return bad ? 1 : 0;
}
