// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_partstats.c: verdicts by partition (xchan_partstats): a drop counted for
 * the sender (the receiver on the receive side), pass_channel never (the fast path
 * stays one lookup; the channel's counters say it, summed by partition in the
 * library), the rows gone with the partition, and a full map judging all the same. */
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "xc_int.h"
#include "verdicts.h"

#define PS_FD (fx.cmm.map_fd[M_PARTSTATS])

/* The row {part, reason}, summed over CPUs; false when there is none. */
static bool ps_get(uint32_t part, uint32_t reason, struct xchan_counter *c)
{
	struct xchan_partstat_key k = { .part_id = part, .reason = reason };

	memset(c, 0, sizeof(*c));
	return !cmm_percpu_sum(PS_FD, &k, c, sizeof(*c));
}

/* How many rows the library lists for part (all of them: ~0U), -1 on failure. */
static int ps_rows(uint32_t part)
{
	struct xc_part_stat *v;
	struct xc_err e;
	size_t n;
	int k = 0;

	if (xc_stats_partitions(&fx, &v, &n, &e))
		return -1;
	for (size_t i = 0; i < n; i++)
		k += part == ~0U || v[i].part == part;
	free(v);
	return k;
}

static void one_packet(uint16_t sport, uint16_t dport, int action, int reason, uint32_t part)
{
	struct pkt_spec s = udp_from_b(IP_A, sport, dport);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, sizeof(f), &s);
	struct xchan_counter c;

	expect(f, len, if_b, action, reason);
	ASSERT_TRUE(ps_get(part, reason, &c), "a row for the partition and the reason");
	ASSERT_EQ(c.packets, 1, "its packets");
	ASSERT_EQ(c.bytes, len, "its bytes");
}

/* The channel's counters, summed by partition: received by A, sent by B. */
static void chan_sums(uint64_t *a_rx, uint64_t *b_tx)
{
	struct xc_part_chan_stat *v;
	struct xc_err e;
	size_t n;

	*a_rx = *b_tx = ~0ULL;
	if (!ASSERT_EQ(xc_stats_part_channels(&fx, &v, &n, &e), 0, "channel sums read"))
		return;
	for (size_t i = 0; i < n; i++) {
		if (v[i].part == P_A)
			*a_rx = v[i].received.packets;
		if (v[i].part == P_B)
			*b_tx = v[i].sent.packets;
	}
	free(v);
}

static void send_side(void)
{
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, sizeof(f), &s);
	struct xchan_counter c;
	uint64_t a_rx, b_tx;
	int n;

	reset();
	tap_begin();
	ASSERT_EQ(ps_rows(P_B), 0, "no rows for B after its registration");
	one_packet(5001, 6001, XDP_DROP, XR_DROP_NO_OUT, P_B);
	ASSERT_TRUE(!ps_get(P_A, XR_DROP_NO_OUT, &c), "none for the receiver A");
	ASSERT_EQ(ps_rows(P_B), 1, "the library lists B's one row");
	tap_end("partstats: a refused send is counted for its sender, B, with its reason (not for A)");

	tap_begin();
	expect(f, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	ASSERT_TRUE(!ps_get(P_B, XR_PASS_CHANNEL, &c), "no pass_channel row");
	keys_changed();	/* the next frame on the full path, not a copy of the first's */
	expect(f, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	ASSERT_TRUE(!ps_get(P_B, XR_PASS_CHANNEL, &c), "none from either path");
	ASSERT_TRUE(!ps_get(P_A, XR_PASS_CHANNEL, &c), "none for A");
	chan_sums(&a_rx, &b_tx);
	ASSERT_EQ(a_rx, 2, "A received 2, summed from the channel's counters");
	ASSERT_EQ(b_tx, 2, "B sent 2");
	tap_end("partstats: pass_channel is not counted by partition (fast or full path); the channel sums say A received 2, B sent 2");

	tap_begin();
	s = udp_from_b(IP_A, 5000, 53);	/* to A's port 53: no channel */
	len = pkt_build(f, sizeof(f), &s);
	expect(f, len, if_b, XDP_DROP, XR_DROP_NO_OUT);
	ASSERT_TRUE(ps_get(P_B, XR_DROP_NO_OUT, &c) && c.packets == 2, "the same row grows");
	s = udp_from_b(IP_EXT, 5000, 53);
	len = pkt_build(f, sizeof(f), &s);
	expect(f, len, if_b, XDP_PASS, XR_PASS_EXTERNAL);
	ASSERT_TRUE(ps_get(P_B, XR_PASS_EXTERNAL, &c) && c.packets == 1, "pass_external row");
	memcpy(s.src_mac, MAC_A, 6);
	len = pkt_build(f, sizeof(f), &s);
	expect(f, len, if_b, XDP_DROP, XR_DROP_SPOOF_MAC);
	ASSERT_TRUE(ps_get(P_B, XR_DROP_SPOOF_MAC, &c) && c.packets == 1,
		    "a spoofed MAC counts for the interface's partition");
	ASSERT_TRUE(!ps_get(P_A, XR_DROP_SPOOF_MAC, &c), "not for the one it claims");
	n = ps_rows(~0U);
	expect(f, len, if_unreg, XDP_DROP, XR_DROP_UNKNOWN_IFACE);
	ASSERT_EQ(ps_rows(~0U), n, "an unknown interface counts for no partition");
	tap_end("partstats: other reasons of B each in their row; a spoofed MAC is B's, not A's; an unknown interface nobody's");
}

static void receive_side(void)
{
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, sizeof(f), &s);
	struct xchan_counter c;

	tap_begin();
	expect_rx(f, len, if_a, if_b, TC_ACT_SHOT, XR_DROP_RX_NOT_CHANNEL);
	ASSERT_TRUE(ps_get(P_A, XR_DROP_RX_NOT_CHANNEL, &c) && c.packets == 1 && c.bytes == len,
		    "counted for the receiver A");
	ASSERT_TRUE(!ps_get(P_B, XR_DROP_RX_NOT_CHANNEL, &c), "not for B");
	tap_end("partstats: the receive side counts a refusal for its receiver");

	tap_begin();
	xc_part_remove(&fx, P_B, NULL);
	ASSERT_EQ(ps_rows(P_B), 0, "B's rows went with it");
	ASSERT_TRUE(ps_get(P_A, XR_DROP_RX_NOT_CHANNEL, &c), "A's stay");
	tap_end("partstats: partition del removes its rows, no one else's");
	reset();
}

/* Rows {first.., XR_PASS_EXTERNAL} in batches (the map is every reason of every
 * partition: a few hundred thousand rows); delete: remove them again. The number
 * written or removed. */
#define PS_BATCH 8192
static uint32_t ps_strangers(uint32_t first, uint32_t n, bool delete)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xchan_partstat_key *k = calloc(PS_BATCH, sizeof(*k));
	struct xchan_counter *v = calloc((size_t)PS_BATCH * ncpu, sizeof(*v));
	uint32_t done = 0;

	while (k && v && done < n) {
		uint32_t cnt = n - done < PS_BATCH ? n - done : PS_BATCH;

		for (uint32_t i = 0; i < cnt; i++)
			k[i] = (struct xchan_partstat_key){ .part_id = first + done + i,
							    .reason = XR_PASS_EXTERNAL };
		if (delete ? bpf_map_delete_batch(PS_FD, k, &cnt, NULL) :
			     bpf_map_update_batch(PS_FD, k, v, &cnt, NULL))
			break;
		done += cnt;
	}
	free(k);
	free(v);
	return done;
}

/* Full: every frame judged and counted by reason, only the new row missing. */
static void full(void)
{
	struct bpf_map_info mi = {};
	uint32_t ml = sizeof(mi), filled;
	struct xchan_counter c;
	struct pkt_spec s = udp_from_b(IP_A, 5001, 6001);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, sizeof(f), &s);

	reset();
	tap_begin();
	bpf_obj_get_info_by_fd(PS_FD, &mi, &ml);
	filled = ps_strangers(1000000, mi.max_entries, false);
	ASSERT_EQ(filled, mi.max_entries, "the map filled with strangers' rows");
	expect(f, len, if_b, XDP_DROP, XR_DROP_NO_OUT);
	ASSERT_TRUE(!ps_get(P_B, XR_DROP_NO_OUT, &c), "no row for B: full");
	tap_end("partstats full: the frame is still dropped and counted by reason, only not by partition");
	ps_strangers(1000000, filled, true);
	clear_map(PS_FD);
	reset();
}

void test_partstats(void)
{
	send_side();
	receive_side();
	full();
}
