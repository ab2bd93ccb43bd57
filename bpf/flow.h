/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* flow.h: the same-node fast path. Each CPU keeps, by a keyed hash of what a sender's
 * frame carries, what the full path found for that key the last time it passed it:
 * the receiver, its interface and the channel's counter slot (no key bytes). A copy
 * stands for the full path's lookups (the receiver's address, both keys compared in
 * constant time, the IN entry) only while the change sequence still holds the value
 * read before them: every key change and channel removal moves it afterwards (the
 * agent, user/lib/flow.c; the CMM, control.h), so a copy made from keys that are
 * going no longer counts once they are gone. While it is odd (the agent changing
 * entries, or died doing so) no copy is made or used. The receiver must still be the
 * partition on the copy's interface with the frame's destination address (every
 * frame); anything else takes the full path, which decides every drop.
 */
#ifndef XCHAN_FLOW_H
#define XCHAN_FLOW_H

#include "verify.h"
#include "forward.h"

/* Benchmarks only (bench/stages.c; 0 in every real instance, a rodata branch the
 * verifier removes): bench_no_flow 1 leaves the cache out (the full path's costs),
 * bench_flow_nocount 1 leaves the channel's counters out (what they cost). */
const volatile __u8 bench_no_flow = 0;
const volatile __u8 bench_flow_nocount = 0;
/* The flow cache's place is a keyed hash of the frame's key (the agent sets the seed
 * at load), so that a partition cannot aim its channels' frames at the place another
 * partition's channel uses; flow_cache_on 0 leaves the cache out (the agent sets it
 * where loads keep their order, below). */
const volatile __u32 flow_cache_seed = 0;
const volatile __u8 flow_cache_on = 0;

/* Where a frame's copy would go, and the sequence read before the full path's
 * lookups; ok 0: no copy is to be made (no cache, or a place being made). */
struct flow_fill {
	__u32 idx;
	__u8 ok;
	__u64 seq;
};

/* The channel's counters: the slot its copy names (an array the verifier inlines);
 * a slot out of range leaves the frame to the full path. */
static __always_inline int flow_count(struct xpkt *pkt, __u32 slot)
{
	struct xdp_md *ctx = pkt->ctx;
	__u64 len;

	if (bench_flow_nocount)
		return 1;
	/* the length as a number at once: the verifier refuses a packet pointer that
	 * the compiler would keep in a 32-bit stack slot meanwhile */
	len = ctx->data_end - ctx->data;
	asm volatile("" : "+r"(len));
	return slot_count(slot, len, 0);
}

/* This CPU's copy for the frame's key: the frame is forwarded on it, or the place
 * and the sequence are left in ff for the full path to fill (flow_fill_in). The
 * sequence is read before the full path's lookups: that takes loads that keep their
 * order (x86); where they do not, it would take a load-acquire that this compiler
 * cannot emit, and the agent leaves the cache out. */
static __always_inline int flow_verify(struct xpkt *pkt, struct flow_fill *ff)
{
	struct xchan_flow_key k = {
		.src_part = pkt->src->part_id, .daddr = pkt->iph->daddr,
		.sport = pkt->udph->source, .dport = pkt->udph->dest,
	};
	__u32 one = 1, w2 = ((__u32)k.sport << 16) | k.dport;
	const struct xchan_partition *rp;
	struct xchan_flowcache_slot *cs;
	struct xchan_address dst;
	__u64 *seqp, seq;

	ff->ok = 0;
	if (bench_no_flow || !flow_cache_on)
		return XCHAN_CONT;
	ff->idx = (((k.src_part ^ flow_cache_seed) * 0x9e3779b1u) ^
		   ((k.daddr + flow_cache_seed) * 0x85ebca6bu) ^
		   ((w2 ^ flow_cache_seed) * 0xc2b2ae35u)) >> (32 - XCHAN_FLOWCACHE_BITS);
	seqp = bpf_map_lookup_elem(&xchan_slotalloc, &one);
	cs = bpf_map_lookup_elem(&xchan_flowcache, &ff->idx);
	if (!seqp || !cs)
		return XCHAN_CONT;
	seq = *(volatile __u64 *)seqp;
	asm volatile("" ::: "memory");	/* the sequence before the tables */
	if (seq & 1)
		return XCHAN_CONT;	/* the agent is changing entries: no copy counts */
	if (cs->seq != seq || cs->k.src_part != k.src_part || cs->k.daddr != k.daddr ||
	    cs->k.sport != k.sport || cs->k.dport != k.dport) {
		ff->seq = seq;
		ff->ok = 1;
		return XCHAN_CONT;
	}
	/* from here a copy that does not hold is made again by the full path's pass */
	ff->seq = seq;
	ff->ok = 1;
	dst.part_id = cs->dst_part;
	dst.ifindex = cs->dst_ifindex;
	rp = partition_of(dst.ifindex);
	if (!rp || rp->part_id != dst.part_id || rp->ip != k.daddr)
		return XCHAN_CONT;
	/* pkt->id stays unset: a pass emits no event, and --forward pass's one drop
	 * here (drop_channel_dest_mac) is sampled without a channel, as on the full path */
	if (!flow_count(pkt, cs->slot))
		return XCHAN_CONT;
	dst.node_id = 0;
	__builtin_memcpy(dst.mac, rp->mac, ETH_ALEN);
	dst.flags = rp->flags;
	return forward_local(pkt, &dst);
}

/* The full path passed the frame to dst (a partition of this node), counted in slot:
 * the copy of that, under the sequence flow_verify read. A place is marked as being
 * made before its fields are written and gets its sequence last, and a run that
 * finds a place being made leaves it alone: a run of this program that interrupted
 * another's fill on the same CPU (test_run beside softirq) would otherwise leave
 * fields of two frames' keys under the interrupted run's sequence. */
static __always_inline void flow_fill_in(struct xpkt *pkt, const struct flow_fill *ff,
					 const struct xchan_address *dst, __u32 slot)
{
	struct xchan_flowcache_slot *cs;

	if (!ff->ok || slot == XCHAN_NO_SLOT)
		return;
	cs = bpf_map_lookup_elem(&xchan_flowcache, &ff->idx);
	if (!cs || *(volatile __u64 *)&cs->seq == XCHAN_FLOWCACHE_NONE)
		return;
	cs->seq = XCHAN_FLOWCACHE_NONE;
	asm volatile("" ::: "memory");
	cs->k.src_part = pkt->src->part_id;
	cs->k.daddr = pkt->iph->daddr;
	cs->k.sport = pkt->udph->source;
	cs->k.dport = pkt->udph->dest;
	cs->dst_part = dst->part_id;
	cs->dst_ifindex = dst->ifindex;
	cs->slot = slot;
	asm volatile("" ::: "memory");
	cs->seq = ff->seq;
}

#endif /* XCHAN_FLOW_H */
