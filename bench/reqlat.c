// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* reqlat.c: xchan-bench-req, how long `channel open` takes through the agent's
 * request sockets, without a process start per call: one process connects to the
 * receiver's socket from inside its netns and to the sender's from inside the other
 * (a connected socket keeps its netns), then opens N channels: the receiver offers
 * (not waiting), the sender asks and waits for the channel to be established.
 *   xchan-bench-req NETNS_RX NAME_RX NETNS_TX NAME_TX RX_PORT FIRST_TX_PORT N
 * Prints one JSON line: the ask's latency (min, median, max, in microseconds) and the
 * whole open (offer + ask). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "libxchan.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct xchan_client *connect_in(const char *netns, char *msg, size_t len)
{
	struct xchan_client *c = NULL;
	int fd = open(netns, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		snprintf(msg, len, "cannot enter %s: %s", netns, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	close(fd);
	if (xchan_connect(&c, NULL, msg, len))
		return NULL;
	return c;
}

int main(int argc, char **argv)
{
	struct xchan_client *rx, *tx;
	char msg[256];
	int n, rc = 0;
	uint16_t rport, tport;
	double *ask, *all;

	if (argc != 8 || (n = atoi(argv[7])) < 1) {
		fprintf(stderr, "usage: xchan-bench-req NETNS_RX NAME_RX NETNS_TX NAME_TX RX_PORT "
				"FIRST_TX_PORT N\n");
		return 2;
	}
	rport = atoi(argv[5]);
	tport = atoi(argv[6]);
	ask = calloc(n, sizeof(*ask));
	all = calloc(n, sizeof(*all));
	if (!ask || !all || !(rx = connect_in(argv[1], msg, sizeof(msg))) ||
	    !(tx = connect_in(argv[3], msg, sizeof(msg)))) {
		fprintf(stderr, "xchan-bench-req: %s\n", ask && all ? msg : "out of memory");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		double t0 = now_us(), t1, t2;
		int r = xchan_offer(rx, rport, argv[4], tport + i, 0, msg, sizeof(msg));

		t1 = now_us();
		if (r == 1)
			r = xchan_ask(tx, tport + i, argv[2], rport, 5000, msg, sizeof(msg));
		t2 = now_us();
		if (r) {
			fprintf(stderr, "xchan-bench-req: channel %d: %s\n", i, msg);
			rc = 1;
			break;
		}
		ask[i] = t2 - t1;
		all[i] = t2 - t0;
	}
	if (!rc) {
		qsort(ask, n, sizeof(*ask), cmp_d);
		qsort(all, n, sizeof(*all), cmp_d);
		printf("{\"bench\":\"agent\",\"op\":\"request_open\",\"n\":%d,\"min_us\":%.1f,"
		       "\"median_us\":%.1f,\"max_us\":%.1f,\"open_min_us\":%.1f,\"open_median_us\":%.1f,"
		       "\"open_max_us\":%.1f}\n", n, ask[0], ask[n / 2], ask[n - 1], all[0], all[n / 2],
		       all[n - 1]);
	}
	xchan_disconnect(rx);
	xchan_disconnect(tx);
	free(ask);
	free(all);
	return rc;
}
