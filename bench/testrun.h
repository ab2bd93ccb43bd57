/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* testrun.h: what xchan-bench-testrun's parts share: a class of frames timed
 * through BPF_PROG_TEST_RUN, rounds interleaved, and how results are printed. */
#ifndef XCHAN_BENCH_TESTRUN_H
#define XCHAN_BENCH_TESTRUN_H

#include <stdbool.h>
#include "fixture.h"

#define MAX_ROUNDS 16

struct cls {
	const char *name;
	uint8_t pkt[PKT_MAX];
	size_t len;
	int prog, ifindex, want;
	bool per_call;	/* timed one run per call: the frame's start moves */
	double v[MAX_ROUNDS];
};

extern bool json_out;
extern bool failed;	/* a class missed its verdict: its figure means nothing */

int cmp_d(const void *a, const void *b);
double ns_per_run(int prog_fd, const uint8_t *pkt, size_t len, int ifindex, int repeat, int want);
void set_class(struct cls *c, const char *name, const struct pkt_spec *s, int prog, int ifindex,
	       int want);
void measure(struct cls *cls, int n, int repeat, int rounds);
void print_class(const struct cls *c, int repeat, int rounds, double floor_median);

/* stages.c: the allowed path cut after each stage, and the MACs over a payload. */
int bench_stages(int repeat, int rounds);
int bench_macs(int repeat, int rounds);
/* A copy of the CMM over the fixture's maps with bench rodata set (stop after a
 * stage, a random channel per packet among n); its prog fd, or -1. */
/* A copy of the CMM over the fixture's maps with the bench knobs (bpf/maps.h,
 * bpf/flow.h): stop after stage `stop`, a random channel of `spread`, and `flow`
 * 0 as instances run, 1 without flow entries (the full path), 2 without the
 * fast path's counters. */
int cmm_variant(int stop, uint32_t spread, int flow);
void cmm_variants_free(void);

#endif
