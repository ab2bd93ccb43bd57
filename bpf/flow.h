/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* flow.h: the same-node fast path. A message from a local partition looks up the
 * channel's flow entry by what the frame carries (the agent makes it once both keys
 * exist, include/xchan.h): one lookup instead of the receiver's address and both
 * keys. The entry only ever shortens a pass: its copies of the key, the sender's
 * and the receiver's, must be equal (key_equal, constant time; the agent resolved
 * which key of each entry, as keys_agree does), the receiver must still be the
 * partition on the entry's interface with the frame's destination address;
 * anything else falls through to the full path, which decides every drop. The channel's counters are the
 * entry's slot of a per-CPU array, not the IN entry's row of xchan_chancount (a
 * second hash lookup, about a quarter of the path's cost in test_run).
 */
#ifndef XCHAN_FLOW_H
#define XCHAN_FLOW_H

#include "verify.h"
#include "forward.h"

/* Benchmarks only (bench/stages.c; 0 in every real instance, a rodata branch the
 * verifier removes): bench_no_flow 1 ignores flow entries (the full path's costs),
 * bench_flow_nocount 1 leaves the channel's counters out (what they cost). */
const volatile __u8 bench_no_flow = 0;
const volatile __u8 bench_flow_nocount = 0;
/* The flow cache's slot is a keyed hash of the frame's key (the agent sets the seed
 * at load), so that a partition cannot aim its channels' frames at one slot that
 * another partition's channel uses; bench_no_cache 1 bypasses the cache (bench). */
const volatile __u32 flow_cache_seed = 0;
const volatile __u8 bench_no_cache = 0;

/* The entry for k: this CPU's copy if it was made for k under the removal sequence
 * that still holds, else the table's, copied for the next frame (NULL: none). A
 * copy made before a removal's delete carries the sequence from before its second
 * move, and an entry read after that move cannot be the deleted one: the sequence
 * is read before the table. x86's loads keep their order (TSO); on a CPU that
 * reorders loads that needs a load-acquire, which this compiler cannot emit, so
 * there the cache stays out. */
static __always_inline struct xchan_flow *flow_find(const struct xchan_flow_key *k)
{
#if defined(__TARGET_ARCH_x86)
	__u32 one = 1, w2 = ((__u32)k->sport << 16) | k->dport, idx;
	struct xchan_flowcache_slot *cs;
	struct xchan_flow *e;
	__u64 *seqp, seq;

	if (bench_no_cache)
		return bpf_map_lookup_elem(&xchan_flows, k);
	idx = (((k->src_part ^ flow_cache_seed) * 0x9e3779b1u) ^ (k->daddr * 0x85ebca6bu) ^
	       ((w2 + flow_cache_seed) * 0xc2b2ae35u)) >> (32 - XCHAN_FLOWCACHE_BITS);
	seqp = bpf_map_lookup_elem(&xchan_flowslots, &one);
	cs = bpf_map_lookup_elem(&xchan_flowcache, &idx);
	if (!seqp || !cs)
		return bpf_map_lookup_elem(&xchan_flows, k);
	seq = *(volatile __u64 *)seqp;
	asm volatile("" ::: "memory");	/* the sequence before the table */
	if (cs->seq == seq && cs->k.src_part == k->src_part && cs->k.daddr == k->daddr &&
	    cs->k.sport == k->sport && cs->k.dport == k->dport)
		return &cs->f;
	e = bpf_map_lookup_elem(&xchan_flows, k);
	if (!e)
		return 0;
	cs->f = *e;
	cs->k = *k;
	cs->seq = seq;
	return &cs->f;
#else
	return bpf_map_lookup_elem(&xchan_flows, k);
#endif
}


/* The channel's counters: the slot its entry names (read once, like the target),
 * an array the verifier inlines; a slot out of range leaves the frame to the full
 * path. */
static __always_inline int flow_count(struct xpkt *pkt, __u32 slot)
{
	struct xchan_counter *c;

	if (bench_flow_nocount)
		return 1;
	c = bpf_map_lookup_elem(&xchan_flowstats, &slot);
	if (!c)
		return 0;
	c->packets++;
	c->bytes += pkt->ctx->data_end - pkt->ctx->data;
	return 1;
}

static __always_inline int flow_verify(struct xpkt *pkt)
{
	struct xchan_flow_key k = {
		.src_part = pkt->src->part_id, .daddr = pkt->iph->daddr,
		.sport = pkt->udph->source, .dport = pkt->udph->dest,
	};
	const struct xchan_partition *rp;
	struct xchan_address dst;
	struct xchan_flow *f;
	__u32 ifx, part, slot;

	if (bench_no_flow)
		return XCHAN_CONT;
	f = flow_find(&k);
	if (!f)
		return XCHAN_CONT;
	/* read once: what is checked is what the frame is sent to, even if the element
	 * is freed and reused meanwhile (map invariant 8) */
	ifx = *(volatile __u32 *)&f->dst_ifindex;
	part = *(volatile __u32 *)&f->dst_part;
	slot = *(volatile __u32 *)&f->slot;
	rp = partition_of(ifx);
	if (!rp || rp->part_id != part || rp->ip != k.daddr || !key_equal(f->out_key, f->in_key))
		return XCHAN_CONT;
	/* pkt->id stays unset: a pass emits no event, and --forward pass's one drop
	 * here (drop_channel_dest_mac) is sampled without a channel, as on the full path */
	if (!flow_count(pkt, slot))
		return XCHAN_CONT;
	dst.part_id = part;
	dst.ifindex = ifx;
	dst.node_id = 0;
	__builtin_memcpy(dst.mac, rp->mac, ETH_ALEN);
	dst.flags = rp->flags;
	return forward_local(pkt, &dst);
}

#endif /* XCHAN_FLOW_H */
