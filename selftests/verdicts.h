/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* verdicts.h: the runner the verdict tests share: one frame through
 * BPF_PROG_TEST_RUN on the fixture's CMM, its verdict and reason counters checked,
 * the audit events it raised, and the test functions of each area. */
#ifndef XCHAN_VERDICTS_H
#define XCHAN_VERDICTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>
#include "fixture.h"
#include "tap.h"

struct run {
	int ret;	/* XDP (or TC) action, or -errno of the syscall */
	uint8_t out[PKT_MAX];
	uint32_t out_len;
};

#define MAX_EVENTS 256
extern struct ring_buffer *rb;
extern struct xchan_event events[MAX_EVENTS];
extern int n_events;

/* Opens the event ring on cmm's events map; every event is checked for key bytes. */
int events_open(void);
void events_close(void);
/* The fixture, with the event ring emptied so that each row sees its own events. */
void reset(void);
/* One run, the event ring left alone (threads may call this at once). */
struct run run_raw(int prog_fd, const uint8_t *pkt, size_t len, int ifindex);
/* One run, then the events it raised are collected. */
struct run run_prog(int prog_fd, const uint8_t *pkt, size_t len, int ifindex);
/* Runs one frame and checks the verdict and that exactly `reason` was counted once. */
struct run expect(const uint8_t *pkt, size_t len, int ifindex, int action, int reason);
/* The receive side (TC egress on ifindex, as if the frame entered the host on
 * ingress, 0: from the host itself): one run, and the same check. */
struct run run_rx(const uint8_t *pkt, size_t len, int ifindex, int ingress);
struct run expect_rx(const uint8_t *pkt, size_t len, int ifindex, int ingress, int action,
		     int reason);
bool has_event(uint32_t kind, uint32_t reason);
/* The counters of the fixture's channel IN A:6000 <- B:5000. */
void chan_counts(struct xchan_chan_counter *c);
bool key_absent(const struct xchan_chan_id *id);
bool key_is(const struct xchan_chan_id *id, const uint8_t *key, uint32_t owner);
void del_in_key(void);
void del_out_key(void);
/* A control frame on the trusted path (or, with a partition's MAC, from one). */
size_t ctrl_frame(uint8_t *pkt, uint8_t type, uint32_t from_part, uint16_t from_ep,
		  uint32_t to_part, uint16_t to_ep, const uint8_t *key, const uint8_t *src_mac);

/* One function per area; each writes its own TAP rows. */
void test_data_rows(void);		/* verdicts_data.c */
void test_malformed(void);		/* verdicts_malformed.c */
void test_truncation(void);
void test_l2(void);			/* verdicts_l2.c */
void test_control(void);		/* verdicts_control.c */
void test_connect_race(void);		/* verdicts_race.c */
void test_uplink(void);			/* verdicts_uplink.c */
void test_receive(void);		/* verdicts_rx.c */
void test_receive_flood(void);
void test_keys(void);			/* verdicts_keys.c */
void test_node_keys(void);		/* verdicts_nodekeys.c */
void test_ifpart(void);			/* verdicts_ifpart.c */
void test_flow(void);			/* verdicts_flow.c */
void test_partstats(void);		/* verdicts_partstats.c */

#endif
