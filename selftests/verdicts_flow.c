// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_flow.c: the same-node fast path (xchan_flows, bpf/flow.h): the entry the
 * library makes at connect and keeps in step with the keys (rekey, close, partition
 * removal), that it never decides a drop nor passes what it no longer vouches for,
 * and that it is made for no channel with a partition of another node. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "xc_int.h"
#include "verdicts.h"

static const struct xc_ep B5000 = { P_B, 5000 }, A6000 = { P_A, 6000 };
static struct xchan_flow_key BA;	/* the fixture's channel's entry (test_flow) */

static struct xchan_flow_key fkey(uint32_t src, uint32_t daddr, uint16_t sport, uint16_t dport)
{
	return (struct xchan_flow_key){ .src_part = src, .daddr = daddr,
					.sport = htons(sport), .dport = htons(dport) };
}

static bool flow_get(const struct xchan_flow_key *k, struct xchan_flow *f)
{
	return !bpf_map_lookup_elem(fx.cmm.map_fd[M_FLOWS], k, f);
}

/* A write behind the library's back moves the removal sequence, as the library's
 * writes do, so that no CPU's flow cache keeps the entry it replaced. */
static void flow_moved(void)
{
	__atomic_fetch_add(&fx.cmm.flowslots[1], 2, __ATOMIC_ACQ_REL);
}

static void flow_put(const struct xchan_flow_key *k, const struct xchan_flow *f)
{
	ASSERT_EQ(bpf_map_update_elem(fx.cmm.map_fd[M_FLOWS], k, f, BPF_EXIST), 0, "flow rewritten");
	flow_moved();
}

/* Entries naming part as sender or receiver; part 0: all entries. */
static int flows_naming(uint32_t part)
{
	struct xchan_flow_key k, next;
	struct xchan_flow f;
	int n = 0, more = !bpf_map_get_next_key(fx.cmm.map_fd[M_FLOWS], NULL, &k);

	while (more) {
		more = !bpf_map_get_next_key(fx.cmm.map_fd[M_FLOWS], &k, &next);
		if (flow_get(&k, &f) && (!part || k.src_part == part || f.dst_part == part))
			n++;
		k = next;
	}
	explicit_bzero(&f, sizeof(f));
	return n;
}

/* Slots marked taken: one per entry, or the library leaked or lost one. */
static int slots_taken(void)
{
	int n = 0;

	for (uint32_t w = 0; w < (fx.cmm.nflowslots + 63) / 64; w++)
		n += __builtin_popcountll(fx.cmm.flowslots[XCHAN_FLOWSLOT_BITS + w]);
	return n;
}

/* The flow's copies are the key the table's entries hold, byte for byte: OUT's
 * current key, and IN's key of the same id. */
static bool copies_are_keys(const struct xchan_flow *f)
{
	struct xchan_key out, in;
	unsigned int so, si;
	bool same = !bpf_map_lookup_elem(fx.cmm.map_fd[M_KEYS], &OUT_BA, &out) &&
		    !bpf_map_lookup_elem(fx.cmm.map_fd[M_KEYS], &IN_AB, &in);

	so = out.cur & 1;
	si = XCHAN_KEY_SLOT(out.kid[so]);
	same = same && f->kid == out.kid[so] && in.kid[si] == f->kid &&
	       !memcmp(f->out_key, out.key[so], 16) && !memcmp(f->in_key, in.key[si], 16) ;
	explicit_bzero(&out, sizeof(out));
	explicit_bzero(&in, sizeof(in));
	return same;
}

static size_t frame(uint8_t *f, const uint8_t *mac, uint32_t saddr, uint16_t sport, uint16_t dport)
{
	struct pkt_spec s = udp_from_b(IP_A, sport, dport);

	s.saddr = saddr;
	memcpy(s.src_mac, mac, 6);
	return pkt_build(f, PKT_MAX, &s);
}

/* B:5000 -> A:6000 from B's veth gets action and reason; the channel counts it only
 * if redirected, and then the frame goes to A's MAC, unchanged otherwise. */
static void expect_ba(int action, int reason)
{
	struct xchan_chan_counter before, after;
	uint8_t f[PKT_MAX];
	size_t len = frame(f, MAC_B, IP_B, 5000, 6000);
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

static void made_at_connect(void)
{
	struct xchan_flow f;
	uint8_t pkt[PKT_MAX];
	size_t len;

	reset();
	tap_begin();
	ASSERT_EQ(flows_naming(0), 1, "flow entries");
	ASSERT_TRUE(flow_get(&BA, &f), "entry {P_B, IP_A, 5000, 6000}");
	ASSERT_TRUE(copies_are_keys(&f), "its copies equal OUT_BA and IN_AB");
	ASSERT_EQ(f.dst_part, P_A, "dst_part");
	ASSERT_EQ(f.dst_ifindex, if_a, "dst_ifindex");
	explicit_bzero(&f, sizeof(f));
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	tap_end("flow: channel open makes one entry {B, A's address, 5000, 6000}: copies of OUT and IN byte for byte, A on its veth; the frame is redirected and counted");

	tap_begin();
	len = frame(pkt, MAC_B, IP_B, 5001, 6000);
	expect(pkt, len, if_b, XDP_DROP, XR_DROP_NO_OUT);
	len = frame(pkt, MAC_B, IP_B, 5000, 6001);
	expect(pkt, len, if_b, XDP_DROP, XR_DROP_NO_OUT);
	len = frame(pkt, MAC_C, IP_C, 5000, 6000);
	expect(pkt, len, if_c, XDP_DROP, XR_DROP_NO_OUT);
	tap_end("flow: another source port, destination port or sender finds no entry (drop_no_out_channel)");
}

/* The keys go behind the library's back (no keys_changed): only the entry remains. */
static void keys_gone(bool out_too)
{
	reset();
	bpf_map_delete_elem(fx.cmm.map_fd[M_KEYS], &IN_AB);
	if (out_too)
		bpf_map_delete_elem(fx.cmm.map_fd[M_KEYS], &OUT_BA);
}

/* Keys gone, then the entry altered by edit: the full path must decide. */
static void tampered(bool out_too, void (*edit)(struct xchan_flow *), int reason)
{
	struct xchan_flow f;

	keys_gone(out_too);
	if (!ASSERT_TRUE(flow_get(&BA, &f), "entry present"))
		return;
	edit(&f);
	flow_put(&BA, &f);
	explicit_bzero(&f, sizeof(f));
	expect_ba(XDP_DROP, reason);
}

static void out_copy_differs(struct xchan_flow *f) { f->out_key[3] ^= 0x40; }
static void in_copy_differs(struct xchan_flow *f) { f->in_key[15] ^= 1; }
static void in_copy_first_byte(struct xchan_flow *f) { f->in_key[0] ^= 0x80; }
static void names_if_c(struct xchan_flow *f) { f->dst_ifindex = if_c; }
static void names_c(struct xchan_flow *f) { f->dst_ifindex = if_c; f->dst_part = P_C; }
static void names_unreg(struct xchan_flow *f) { f->dst_ifindex = if_unreg; }
static void part_is_c(struct xchan_flow *f) { f->dst_part = P_C; }
static void part_is_other(struct xchan_flow *f) { f->dst_part = 99; }
static void slot_past(struct xchan_flow *f) { f->slot = fx.cmm.nflowslots; }

static void never_decides(void)
{
	struct xchan_flow f;

	tap_begin();
	/* The contract, not a property of the CMM: only the library writes keys, and it
	 * drops the entry before and after it removes one (flow_drop) and syncs it after
	 * it writes one. Keys removed behind its back leave an entry that still vouches
	 * for the channel, and the frame passes on it alone: this also shows that the
	 * frames of made_at_connect took the fast path. */
	keys_gone(true);
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	tap_end("flow: (the contract) keys deleted behind the library's back, entry intact: it alone passes the frame");

	tap_begin();
	tampered(true, slot_past, XR_DROP_NO_OUT);
	tap_end("flow: keys gone, entry naming a counter slot past the array: full path, dropped");

	tap_begin();
	{
		struct xchan_flow_key k = fkey(50, IP_A, 5000, 6000);
		struct xc_part_reg r = { .id = 50, .name = "d", .host_ifindex = if_unreg,
					 .ip = htonl(0x0a000032) };
		struct xc_err e;

		reset();
		ASSERT_TRUE(flow_get(&BA, &f), "entry present");
		f.dst_part = 50;
		ASSERT_EQ(bpf_map_update_elem(fx.cmm.map_fd[M_FLOWS], &k, &f, BPF_NOEXIST), 0,
			  "an entry left under id 50");
		flow_moved();
		memcpy(r.mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x32 }, 6);
		ASSERT_EQ(xc_part_register(&fx, &r, &e), 0, "partition 50 registered");
		ASSERT_EQ(flows_naming(50), 0, "entries naming 50 after its registration");
		xc_part_remove(&fx, 50, NULL);
	}
	explicit_bzero(&f, sizeof(f));
	tap_end("flow: a partition registered under an id starts with no entry naming it (one left by an older agent is purged)");

	tap_begin();
	reset();
	ASSERT_TRUE(flow_get(&BA, &f), "entry present");
	out_copy_differs(&f);
	flow_put(&BA, &f);
	explicit_bzero(&f, sizeof(f));
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	tap_end("flow: copies that disagree, keys intact: the full path passes the frame (the entry decides no drop)");

	tap_begin();
	tampered(true, out_copy_differs, XR_DROP_NO_OUT);
	tampered(false, in_copy_differs, XR_DROP_NO_IN);
	tampered(false, in_copy_first_byte, XR_DROP_NO_IN);
	tap_end("flow: keys gone, copies disagree (a byte of OUT's key, IN's last byte, IN's first): the full path's drop_no_out_channel / drop_no_in_channel");

	tap_begin();
	tampered(true, names_if_c, XR_DROP_NO_OUT);
	tampered(true, names_c, XR_DROP_NO_OUT);
	tampered(true, names_unreg, XR_DROP_NO_OUT);
	tap_end("flow: keys gone, entry naming C's veth (as A, or as C: not A's address), or an unregistered one: full path, dropped");

	tap_begin();
	tampered(true, part_is_c, XR_DROP_NO_OUT);
	tampered(true, part_is_other, XR_DROP_NO_OUT);
	tap_end("flow: keys gone, entry naming another receiver id on A's veth: full path, dropped");

	tap_begin();
	keys_gone(false);
	keys_changed();
	ASSERT_TRUE(!flow_get(&BA, &f) && errno == ENOENT, "no entry after the sync");
	expect_ba(XDP_DROP, XR_DROP_NO_IN);
	tap_end("flow: the library's sync with IN gone takes the entry back; drop_no_in_channel");
}

static void close_drops(void)
{
	struct xc_err e;
	bool unacked = true;

	reset();
	tap_begin();
	ASSERT_EQ(xc_chan_close(&fx, &B5000, &A6000, &unacked, &e), 0, e.msg);
	ASSERT_TRUE(!unacked, "CLOSE acknowledged");
	ASSERT_EQ(flows_naming(0), 0, "flow entries");
	ASSERT_EQ(slots_taken(), 0, "slots taken");
	expect_ba(XDP_DROP, XR_DROP_NO_OUT);
	tap_end("flow: xc_chan_close removes the entry and gives its slot back; the frame is dropped (drop_no_out_channel)");
}

static void rekey_syncs(void)
{
	struct xchan_flow f, old;
	struct xc_err e;

	reset();
	tap_begin();
	flow_get(&BA, &old);
	for (int round = 1; round <= 2; round++) {
		ASSERT_EQ(xc_chan_rekey(&fx, &B5000, &A6000, 0, &e), 0, e.msg);
		ASSERT_TRUE(flow_get(&BA, &f), "entry present");
		ASSERT_TRUE(copies_are_keys(&f), "copies equal the keys after the rekey");
		ASSERT_EQ(f.kid, round, "the copies' id");
		ASSERT_TRUE(memcmp(f.out_key, old.out_key, 16), "a new key in the copies");
		old = f;
		expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	}
	explicit_bzero(&f, sizeof(f));
	explicit_bzero(&old, sizeof(old));
	tap_end("flow: xc_chan_rekey (grace 0), twice: the copies are the new keys (ids 1, 2) byte for byte; the frame still redirects");
}

/* Channels beside B -> A: A as a sender, and two with C only, on B and on A. */
static void more_channels(void)
{
	static const struct xc_ep pairs[][2] = {
		{ { P_A, 7000 }, { P_B, 8000 } },
		{ { P_C, 5000 }, { P_B, 6000 } },
		{ { P_C, 5001 }, { P_A, 6001 } },
	};
	struct xc_err e;

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		ASSERT_EQ(xc_chan_open(&fx, &pairs[i][0], &pairs[i][1], &e), 0, e.msg);
	ASSERT_EQ(flows_naming(0), 4, "flow entries with the three more channels");
}

/* Partition del of gone (A or B) with four channels: every entry naming it goes, the
 * one with C only (left) stays. B:5000 -> A's address then gets action/reason, and
 * with gone registered again (same id, veth, address, MAC) no entry makes it pass. */
static void remove_one(uint32_t gone, struct xchan_flow_key left, int action, int reason,
		       const char *name)
{
	struct xc_part_reg r = { .id = gone, .host_ifindex = gone == P_A ? if_a : if_b,
				 .ip = gone == P_A ? IP_A : IP_B };
	struct xchan_flow f;
	struct xc_err e;

	reset();
	tap_begin();
	more_channels();
	ASSERT_EQ(xc_part_remove(&fx, gone, NULL), 0, "partition del");
	ASSERT_EQ(flows_naming(gone), 0, "entries naming it");
	ASSERT_TRUE(flows_naming(0) == 1 && flow_get(&left, &f), "the entry with C only is left");
	ASSERT_EQ(slots_taken(), 1, "slots taken: the one entry's");
	explicit_bzero(&f, sizeof(f));
	expect_ba(action, reason);
	memcpy(r.mac, gone == P_A ? MAC_A : MAC_B, 6);
	ASSERT_EQ(xc_part_register(&fx, &r, &e), 0, e.msg);
	expect_ba(XDP_DROP, XR_DROP_NO_OUT);
	ASSERT_EQ(flows_naming(gone), 0, "entries naming it once it is back");
	tap_end(name);
}

static void none_between_nodes(void)
{
	struct pkt_spec s = udp_from_b(IP_R, 5000, 6000);
	uint8_t pkt[PKT_MAX];
	size_t len;

	reset();
	tap_begin();
	fixture_nic();
	/* the library's writer, as after a key of either channel with R */
	flow_sync(&fx, P_B, 5000, P_R, 6000);
	flow_sync(&fx, P_R, 5000, P_A, 6000);
	ASSERT_EQ(flows_naming(P_R), 0, "entries naming R");
	ASSERT_EQ(flows_naming(0), 1, "entries (B -> A's)");
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, if_b, XDP_REDIRECT, XR_PASS_ENCAP);
	len = nic_frame(pkt, 1, 5, NODE2, false);
	expect(pkt, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	tap_end("flow: between nodes no entry names R (after fixture_nic and a sync of each channel with R); B -> R is encapsulated, R -> A decapsulated");
}

static struct xchan_chan_counter row_of(const struct xchan_chan_id *in)
{
	struct xchan_chan_counter c = {};

	cmm_percpu_sum(fx.cmm.map_fd[M_CHANCOUNT], in, &c, sizeof(c));
	return c;
}

static struct xchan_counter slot_of(uint32_t slot)
{
	struct xchan_counter c = {};

	cmm_percpu_sum(fx.cmm.map_fd[M_FLOWSTATS], &slot, &c, sizeof(c));
	return c;
}

/* The fast path counts in its entry's slot, the full path in the row; the library's
 * sum is both, and a drop of the entry folds the slot into the row. */
static void slot_counts(void)
{
	struct xchan_chan_counter row, total;
	struct xchan_counter sc;
	struct xchan_flow f;
	struct xc_err e;
	uint32_t slot;

	reset();
	tap_begin();
	ASSERT_TRUE(flow_get(&BA, &f), "entry present");
	slot = f.slot;
	ASSERT_TRUE(slot < fx.cmm.nflowslots, "its slot is in the array");
	ASSERT_EQ(slots_taken(), 1, "slots taken");
	for (int i = 0; i < 3; i++)
		expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	row = row_of(&IN_AB);
	sc = slot_of(slot);
	ASSERT_EQ(row.packets, 0, "the row's packets");
	ASSERT_EQ(sc.packets, 3, "the slot's packets");
	tap_end("flow: three frames on the entry are counted in its slot of xchan_flowstats, none in the channel's row");

	tap_begin();
	flow_drop(&fx, P_B, 5000, P_A, 6000);
	ASSERT_EQ(slots_taken(), 0, "slots taken after the drop");
	ASSERT_EQ(row_of(&IN_AB).packets, 3, "the row's packets after the drop");
	ASSERT_EQ(row_of(&IN_AB).bytes, sc.bytes, "the row's bytes after the drop");
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);	/* the full path */
	keys_changed();
	ASSERT_TRUE(flow_get(&BA, &f), "entry made again");
	ASSERT_EQ(slot_of(f.slot).packets, 0, "the new entry's slot starts at zero");
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	chan_counts(&total);
	ASSERT_EQ(total.packets, 5, "row and slot");
	ASSERT_EQ(row_of(&IN_AB).packets, 4, "the row (three folded, one on the full path)");
	tap_end("flow: a dropped entry's slot is folded into the row and given back; the next entry's slot starts at zero; the channel's counters only grow");

	tap_begin();
	slot = f.slot;
	ASSERT_EQ(xc_chan_rekey(&fx, &B5000, &A6000, 0, &e), 0, e.msg);
	ASSERT_TRUE(flow_get(&BA, &f) && f.slot == slot, "the same slot after a rekey");
	/* every bit set, as if processes had died holding slots: the bitmap is made
	 * again from the entries when none is left */
	memset(fx.cmm.flowslots + XCHAN_FLOWSLOT_BITS, 0xff, (fx.cmm.nflowslots + 63) / 64 * 8);
	more_channels();
	ASSERT_EQ(slots_taken(), 4, "slots taken: the four entries'");
	{
		struct xchan_flow_key k, next;
		uint32_t seen[8];
		int n = 0, more = !bpf_map_get_next_key(fx.cmm.map_fd[M_FLOWS], NULL, &k);

		while (more) {
			more = !bpf_map_get_next_key(fx.cmm.map_fd[M_FLOWS], &k, &next);
			if (flow_get(&k, &f) && n < 8) {
				for (int i = 0; i < n; i++)
					ASSERT_TRUE(seen[i] != f.slot, "no two entries share a slot");
				seen[n++] = f.slot;
			}
			k = next;
		}
		ASSERT_EQ(n, 4, "entries");
	}
	explicit_bzero(&f, sizeof(f));
	tap_end("flow: a rekey keeps the entry's slot; with every slot marked taken, the bitmap is made again from the entries and the next channels get slots no other entry has");
}

/* The reader's sequence, and the resolution the entry is written from. */
static void seq_and_resolve(void)
{
	struct xchan_chan_counter c;
	struct xchan_key k;
	struct xchan_flow f;

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	fx.cmm.flowslots[1] |= 1;	/* a removal that died after its first bump */
	chan_counts(&c);
	ASSERT_EQ(c.packets, 2, "packets read with the sequence odd");
	ASSERT_EQ(fx.cmm.flowslots[1] & 1, 0, "the sequence even again");
	tap_end("flow: a removal's sequence left odd by a dead process: readers fall back to the lock, whose holder evens it; the counts read are right");

	tap_begin();
	ASSERT_EQ(bpf_map_lookup_elem(fx.cmm.map_fd[M_KEYS], &IN_AB, &k), 0, "IN key read");
	k.key[k.cur & 1][7] ^= 0x10;	/* IN holds another key under OUT's id */
	ASSERT_EQ(bpf_map_update_elem(fx.cmm.map_fd[M_KEYS], &IN_AB, &k, BPF_EXIST), 0, "IN key rewritten");
	explicit_bzero(&k, sizeof(k));
	keys_changed();
	ASSERT_TRUE(!flow_get(&BA, &f), "no entry for keys that disagree");
	ASSERT_EQ(slots_taken(), 0, "no slot kept for it");
	expect_ba(XDP_DROP, XR_DROP_KEY_MISMATCH);
	tap_end("flow: keys that disagree (IN's bytes under OUT's id) get no entry from the sync; the full path drops the frame (drop_key_mismatch)");
}

/* The flow cache (bpf/flow.h): the CPU that passed a frame keeps a copy of its entry,
 * which counts while the change sequence (xchan_flowalloc word 1) holds the value
 * it was made under. Run on one CPU, so that every frame finds that CPU's copy. The
 * slot's and the row's counters tell which passed a frame: the copy counts in the
 * slot, the full path in the row. */
static void cache_follows_sequence(void)
{
	struct xchan_flow f;
	struct xc_err e;
	bool unacked = true;
	cpu_set_t was, one;
	uint8_t pkt[PKT_MAX];
	uint64_t s0, r0;
	size_t len = frame(pkt, MAC_B, IP_B, 5000, 6000);
	int cpu;

	if (sched_getaffinity(0, sizeof(was), &was))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &was); cpu++)
		;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);

	reset();
	tap_begin();
	ASSERT_TRUE(flow_get(&BA, &f), "entry present");
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);	/* the copy is made */
	ASSERT_EQ(bpf_map_delete_elem(fx.cmm.map_fd[M_FLOWS], &BA), 0, "entry deleted, the sequence not moved");
	s0 = slot_of(f.slot).packets;
	r0 = row_of(&IN_AB).packets;
	expect(pkt, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	ASSERT_EQ(slot_of(f.slot).packets, s0 + 1, "the copy passed it: counted in the entry's slot");
	ASSERT_EQ(row_of(&IN_AB).packets, r0, "... not in the row");
	flow_moved();
	expect(pkt, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	ASSERT_EQ(slot_of(f.slot).packets, s0 + 1, "once the sequence moved, not the copy");
	ASSERT_EQ(row_of(&IN_AB).packets, r0 + 1, "... but the full path: counted in the row");
	explicit_bzero(&f, sizeof(f));
	tap_end("flow cache: a CPU's copy of an entry passes while the change sequence holds (here an entry deleted behind the library's back), and never once it moved");

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);	/* the second on the copy */
	ASSERT_EQ(xc_chan_close(&fx, &B5000, &A6000, &unacked, &e), 0, e.msg);
	expect_ba(XDP_DROP, XR_DROP_NO_OUT);
	tap_end("flow cache: a channel closed after its frames were passed on the copy delivers nothing more (drop_no_out_channel)");

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	ASSERT_EQ(bpf_map_delete_elem(fx.cmm.map_fd[M_FLOWS], &BA), 0, "entry deleted, the sequence not moved");
	expect(pkt, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);	/* the copy */
	ASSERT_EQ(xc_chan_close(&fx, &B5000, &A6000, &unacked, &e), 0, e.msg);
	expect(pkt, len, if_b, XDP_DROP, XR_DROP_NO_OUT);
	tap_end("flow cache: a close that finds no entry (it went without the sequence moving) still moves it: the copy no longer passes (drop_no_out_channel)");

	reset();
	tap_begin();
	expect_ba(XDP_REDIRECT, XR_PASS_CHANNEL);
	ASSERT_EQ(xc_part_remove(&fx, P_A, NULL), 0, "partition A removed");
	expect(pkt, len, if_b, XDP_PASS, XR_PASS_EXTERNAL);
	tap_end("flow cache: with the receiver removed after the copy was made, the frame is outside traffic, not delivered to it");

	sched_setaffinity(0, sizeof(was), &was);
}

void test_flow(void)
{
	BA = fkey(P_B, IP_A, 5000, 6000);
	made_at_connect();
	never_decides();
	close_drops();
	rekey_syncs();
	slot_counts();
	seq_and_resolve();
	remove_one(P_A, fkey(P_C, IP_B, 5000, 6000), XDP_PASS, XR_PASS_EXTERNAL,
		   "flow: partition del A removes every entry naming A (sender or receiver), no other; B -> A's address is then outside traffic, and with A back drop_no_out_channel");
	remove_one(P_B, fkey(P_C, IP_A, 5001, 6001), XDP_DROP, XR_DROP_UNKNOWN_IFACE,
		   "flow: partition del B removes every entry naming B, no other; its frames come from an unknown interface, and with B back drop_no_out_channel");
	none_between_nodes();
	cache_follows_sequence();
	reset();
}
