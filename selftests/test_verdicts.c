// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_verdicts.c: the verdict tests' main: the CMM loaded in the fixture's private
 * netns, then every area's table through BPF_PROG_TEST_RUN (verdicts_*.c), as TAP.
 * --load-only: only that the CMM loads and passes the verifier. */
#include <stdio.h>
#include <string.h>
#include "verdicts.h"

int tap_n, tap_failed;
bool tap_row_ok;

/* Adding an area: a function in its own verdicts_<area>.c, declared in verdicts.h. */
static void (*const areas[])(void) = {
	test_data_rows,
	test_malformed,
	test_truncation,
	test_l2,
	test_control,
	test_connect_race,
	test_uplink,
	test_receive,
	test_receive_flood,
	test_keys,
	test_node_keys,
	test_ifpart,
	test_flow,
	test_partstats,
};

int main(int argc, char **argv)
{
	bool load_only = argc > 1 && !strcmp(argv[1], "--load-only");
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = fixture_netns();
	if (err) {
		printf("Bail out! private netns with veths: %s (run as root)\n", strerror(-err));
		return 1;
	}
	err = fixture_open(NULL);
	if (err) {
		printf("Bail out! loading the CMM failed: %s\n", strerror(-err));
		return 1;
	}
	if (load_only) {
		printf("1..1\nok 1 - CMM loads and passes the verifier\n");
		xc_close(&fx);
		return 0;
	}
	if (events_open()) {
		printf("Bail out! ring buffer\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
		areas[i]();
	printf("1..%d\n", tap_n);
	events_close();
	xc_close(&fx);
	return tap_failed ? 1 : 0;
}
