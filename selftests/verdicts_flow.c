// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_flow.c: the same-node fast path (bpf/flow.h) and the counter slots. Each
 * CPU keeps what the full path found for a frame's key, valid while the change
 * sequence (word 1 of xchan_slotalloc) holds the value read before the full path's
 * lookups. Shown here both ways: a copy passes a frame whose keys were removed behind
 * everyone's back (the sequence not moved), and never once the sequence moved; every
 * path of the library and of the CMM that removes or changes a key moves it. Then
 * the slots: one per IN entry (and per OUT entry towards another node), counted in
 * by both paths, given back with the entry, made again when the bitmap is full. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "xc_int.h"
#include "verdicts.h"

static const struct xc_ep B5000 = { P_B, 5000 }, A6000 = { P_A, 6000 };

static size_t frame(uint8_t *f, uint16_t sport, uint16_t dport)
{
	struct pkt_spec s = udp_from_b(IP_A, sport, dport);

	return pkt_build(f, PKT_MAX, &s);
}

/* B:5000 -> A:6000 from B's veth gets action and reason; the channel counts it only
 * if redirected, and then the frame goes to A's MAC, unchanged otherwise. */
static void expect_ba(int action, int reason)
{
	struct xchan_chan_counter before, after;
	uint8_t f[PKT_MAX];
	size_t len = frame(f, 5000, 6000);
	bool pass = action == XDP_REDIRECT;
	struct run r;

	chan_counts(&before);
	r = expect(f, len, if_b, action, reason);
	chan_counts(&after);
	ASSERT_EQ(after.packets - before.packets, pass, "channel packets");
	ASSERT_EQ(after.bytes - before.bytes, pass ? len : 0, "channel bytes");
	if (pass)
		ASSERT_TRUE(r.out_len == len && !memcmp(r.out, MAC_A, 6) &&
			    !memcmp(r.out + 6, f + 6, len - 6), "to A's MAC, the rest unchanged");
}

/* The entry's keys gone with nobody moving the sequence (an operator's bpftool): what
 * only a copy in the flow cache can still pass. */
static void keys_gone_unseen(const struct xchan_chan_id *id)
{
	struct xchan_channel k;
	uint32_t slot;

	ASSERT_EQ(bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], id, &k), 0, "entry there");
	slot = XCHAN_CTL_SLOT(k.ctl);
	memset(&k, 0, sizeof(k));
	k.ctl = XCHAN_CTL(XCHAN_S_AUTHORIZED, 0, slot);
	ASSERT_EQ(bpf_map_update_elem(fx.cmm.map_fd[M_CHANNELS], id, &k, BPF_EXIST), 0,
		  "keys removed, the sequence not moved");
}

static uint64_t seq_now(void)
{
	return __atomic_load_n(&fx.cmm.flowslots[1], __ATOMIC_ACQUIRE);
}

static int slots_taken(void)
{
	int n = 0;

	for (uint32_t w = 0; w < (fx.cmm.nflowslots + 63) / 64; w++)
		n += __builtin_popcountll(fx.cmm.flowslots[XCHAN_FLOWSLOT_BITS + w]);
	return n;
}

static uint32_t slot_of(const struct xchan_chan_id *id)
{
	uint32_t ctl = XCHAN_CTL(0, 0, XCHAN_NO_SLOT);

	chan_ctl_read(&fx, id, &ctl);
	return XCHAN_CTL_SLOT(ctl);
}

/* The copies are per CPU: everything below runs on one, so that every frame finds
 * the copy the one before made. */
static void cache_contract(void)
{
	uint8_t f[PKT_MAX];
	size_t len = frame(f, 5000, 6000);
	uint64_t s0;

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);	/* the full path, which makes the copy */
	keys_gone_unseen(&OUT_BA);
	keys_gone_unseen(&IN_AB);
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);	/* only the copy can pass it */
	s0 = seq_now();
	keys_changed();
	ASSERT_EQ(seq_now(), s0 + 2, "the sequence moved by two");
	expect_ba(XDP_DROP, XR_DROP_NO_OUT);
	tap_end("flow cache: a CPU's copy passes while the change sequence holds (here both keys removed behind everyone's back), and never once it moved (drop_no_out_channel)");

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);	/* a copy, under an even value */
	__atomic_fetch_add(&fx.cmm.flowslots[1], 1, __ATOMIC_ACQ_REL);	/* a change begins */
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);	/* the full path: no copy made now */
	keys_gone_unseen(&IN_AB);	/* the change; then its process dies */
	expect_ba(XDP_DROP, XR_DROP_NO_IN);	/* neither copy is used */
	{
		int lock = flow_lock(&fx);	/* the next holder of the lock */

		ASSERT_EQ(seq_now() & 1, 0, "the next lock holder makes it even");
		flow_unlock(lock);
	}
	expect_ba(XDP_DROP, XR_DROP_NO_IN);
	tap_end("flow cache: while the sequence is odd (a change under way, or its process died) no copy is used; the next lock holder makes it even, past the copies made before");

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	keys_gone_unseen(&IN_AB);
	expect(f, frame(f, 5001, 6000), if_b, XDP_DROP, XR_DROP_NO_OUT);
	expect(f, frame(f, 5000, 6001), if_b, XDP_DROP, XR_DROP_NO_OUT);
	expect(f, len = frame(f, 5000, 6000), if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	tap_end("flow cache: a copy stands for its own key only: another source or destination port takes the full path (drop_no_out_channel)");

	reset();
	tap_begin();
	{
		struct xchan_chan_counter c0, c1;

		chan_counts(&c0);
		for (int i = 0; i < 3; i++)
			expect(f, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
		chan_counts(&c1);
		ASSERT_EQ(c1.packets - c0.packets, 3, "three packets in the IN entry's slot");
		ASSERT_EQ(c1.bytes - c0.bytes, 3 * len, "and their bytes");
		ASSERT_EQ(c1.drops, c0.drops, "no drop");
	}
	tap_end("flow cache: frames passed by the full path and by the copy are counted alike, in the slot the IN entry names");
}

/* Every way the library removes or changes a key moves the sequence after it. */
static void library_moves_it(void)
{
	struct xc_err e;
	bool unacked = true;

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);	/* on the copy */
	ASSERT_EQ(xc_chan_close(&fx, &B5000, &A6000, &unacked, &e), 0, e.msg);
	ASSERT_TRUE(!unacked, "CLOSE acknowledged");
	expect_ba(XDP_DROP, XR_DROP_NO_OUT);
	tap_end("flow cache: xc_chan_close after frames passed on the copy: nothing more passes (drop_no_out_channel)");

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	keys_gone_unseen(&IN_AB);	/* the copy still passes... */
	ASSERT_EQ(xc_chan_close(&fx, &B5000, &A6000, &unacked, &e), 0, e.msg);
	expect_ba(XDP_DROP, XR_DROP_NO_OUT);	/* ...until the close, which found no IN key */
	tap_end("flow cache: a close that finds the IN key already gone still moves the sequence: the copy passes no more");

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	ASSERT_EQ(xc_part_remove(&fx, P_A, NULL), 0, "partition A removed");
	expect_ba(XDP_PASS, XR_PASS_EXTERNAL);
	tap_end("flow cache: with the receiver removed after the copy was made, the frame is outside traffic, not delivered to it");

	reset();
	tap_begin();
	{
		struct xchan_channel in;
		uint64_t s0;

		expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
		s0 = seq_now();
		ASSERT_EQ(xc_chan_rekey(&fx, &B5000, &A6000, 0, &e), 0, e.msg);
		ASSERT_TRUE(seq_now() >= s0 + 4, "moved by the CMM's REKEY and by the retire");
		/* the old key retired: a copy from before would pass on it, the
		 * full path finds both entries on key 1 */
		ASSERT_EQ(bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &IN_AB, &in), 0, "IN");
		ASSERT_TRUE(in.valid == 2 && in.kid[1] == 1, "IN holds key 1 alone");
		explicit_bzero(&in, sizeof(in));
		expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	}
	tap_end("flow cache: a rekey moves the sequence (the CMM at REKEY, the library at the retire); the channel passes on its new key");
}

/* CLOSE and REKEY on the trusted path move it themselves: the receiver's node may be
 * another, whose agent cannot move ours. */
static void cmm_moves_it(void)
{
	static const uint8_t K2[16] = { 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 };
	uint8_t pkt[PKT_MAX];
	size_t len;
	uint64_t s0;

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	keys_gone_unseen(&IN_AB);	/* only the copy passes now */
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	s0 = seq_now();
	len = ctrl_frame(pkt, XCHAN_T_CLOSE, P_A, 6000, P_B, 5000, NULL, MAC_GW);
	expect(pkt, len, 1, XDP_TX, XR_CTRL_CLOSE);
	ASSERT_EQ(seq_now(), s0 + 2, "the CMM moved the sequence at CLOSE");
	expect_ba(XDP_DROP, XR_DROP_NO_OUT);
	tap_end("flow cache: CLOSE on the trusted path moves the sequence itself: the copy passes no more");

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	keys_gone_unseen(&IN_AB);
	s0 = seq_now();
	len = ctrl_frame(pkt, XCHAN_T_REKEY, P_A, 6000, P_B, 5000, K2, MAC_GW);
	pkt[PKT_OFF_XCHAN + 2] = 1;	/* the next key id */
	expect(pkt, len, 1, XDP_TX, XR_CTRL_ACK);
	ASSERT_EQ(seq_now(), s0 + 2, "the CMM moved the sequence at REKEY");
	expect_ba(XDP_DROP, XR_DROP_NO_IN);
	tap_end("flow cache: REKEY on the trusted path moves the sequence itself: the full path runs again (drop_no_in_channel, IN's keys gone)");
}

/* One slot per IN entry, none for an OUT entry within the node; a slot per OUT
 * entry towards another node (its sequence); freed with the entry. */
static void slots(void)
{
	static const struct xc_ep pairs[][2] = {
		{ { P_A, 7000 }, { P_B, 8000 } },
		{ { P_C, 5000 }, { P_B, 6000 } },
		{ { P_C, 5001 }, { P_A, 6001 } },
	};
	struct xchan_chan_id out, in;
	struct xc_err e;
	bool unacked;
	int n0;

	reset();
	tap_begin();
	n0 = slots_taken();
	ASSERT_EQ(n0, 1, "the fixture's channel: one slot");
	ASSERT_TRUE(slot_of(&IN_AB) < fx.cmm.nflowslots, "IN names it");
	ASSERT_EQ(slot_of(&OUT_BA), XCHAN_NO_SLOT, "OUT within the node: none");
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		ASSERT_EQ(xc_chan_open(&fx, &pairs[i][0], &pairs[i][1], &e), 0, e.msg);
	ASSERT_EQ(slots_taken(), 4, "four channels, four slots");
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		xchan_chan_id_make(&in, pairs[i][1].part, pairs[i][1].port, pairs[i][0].part,
				   pairs[i][0].port, XCHAN_DIR_IN);
		ASSERT_TRUE(slot_of(&in) != slot_of(&IN_AB) && slot_of(&in) < fx.cmm.nflowslots,
			    "a slot of its own");
	}
	ASSERT_EQ(xc_chan_close(&fx, &pairs[0][0], &pairs[0][1], &unacked, &e), 0, e.msg);
	ASSERT_EQ(slots_taken(), 3, "close gives its slot back");
	ASSERT_EQ(xc_part_remove(&fx, P_C, NULL), 0, "partition C removed");
	ASSERT_EQ(slots_taken(), 1, "... and partition del those of C's channels");
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	tap_end("slots: one per IN entry, none for an OUT entry within the node, each its own, given back by close and partition del");

	reset();
	tap_begin();
	fixture_nic();
	xchan_chan_id_make(&out, P_B, 5000, P_R, 6000, XCHAN_DIR_OUT);
	{
		struct pkt_spec s = udp_from_b(IP_R, 5000, 6000);
		struct xchan_chan_counter c;
		uint8_t pkt[PKT_MAX];
		size_t len = pkt_build(pkt, sizeof(pkt), &s);

		ASSERT_TRUE(slot_of(&out) < fx.cmm.nflowslots, "B -> R's OUT entry names a slot");
		for (int i = 0; i < 2; i++)
			expect(pkt, len, if_b, XDP_REDIRECT, XR_PASS_ENCAP);
		ASSERT_EQ(chan_counted(&fx, &out, &c), 0, "its counters");
		ASSERT_EQ(c.packets, 2, "its packets: the two DATA sent, their sequence numbers 1 and 2");
	}
	tap_end("slots: an OUT entry towards another node has one; its packets are the DATA sequence");

	reset();
	tap_begin();
	{
		struct xc_ep a2 = { P_A, 7100 }, b2 = { P_B, 8100 };
		struct xchan_chan_counter c;
		uint32_t s;

		/* every bit set: a dead process's leaks; the rebuild finds the one real */
		memset(fx.cmm.flowslots + XCHAN_FLOWSLOT_BITS, 0xff,
		       (fx.cmm.nflowslots + 63) / 64 * 8);
		ASSERT_EQ(xc_chan_open(&fx, &a2, &b2, &e), 0, e.msg);
		xchan_chan_id_make(&in, P_B, 8100, P_A, 7100, XCHAN_DIR_IN);
		s = slot_of(&in);
		ASSERT_TRUE(s < fx.cmm.nflowslots && s != slot_of(&IN_AB), "a slot, not the fixture's");
		ASSERT_EQ(slots_taken(), 2, "the bitmap made again from the entries");
		ASSERT_EQ(chan_counted(&fx, &in, &c), 0, "its counters");
		ASSERT_TRUE(!c.packets && !c.bytes && !c.drops, "start at zero");
	}
	tap_end("slots: with every bit taken, the bitmap is made again from the entries; the new channel's slot starts at zero");
}

void test_flow(void)
{
	cpu_set_t was, one;
	int cpu;

	if (sched_getaffinity(0, sizeof(was), &was))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &was); cpu++)
		;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
	cache_contract();
	library_moves_it();
	cmm_moves_it();
	slots();
	sched_setaffinity(0, sizeof(was), &was);
}
