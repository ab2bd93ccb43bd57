/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* flow.h: the same-node fast path. A message from a local partition looks up the
 * channel's flow entry by what the frame carries (the agent makes it once both keys
 * exist, include/xchan.h): one lookup instead of the receiver's address and both
 * keys. The entry only ever shortens a pass: its copies of the key, the sender's
 * and the receiver's, must be equal (key_equal, constant time; the agent resolved
 * which key of each entry, as keys_agree does; compared when the entry is read from
 * the table, and a CPU's copy of it in the flow cache is made only then), the
 * receiver must still be the partition on the entry's interface with the frame's
 * destination address (every frame); anything else falls through to the full path,
 * which decides every drop. The channel's counters are the entry's slot of a per-CPU
 * array, not the IN entry's row of xchan_chancount (a second hash lookup, about a
 * quarter of the path's cost in test_run).
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
/* The flow cache's place is a keyed hash of the frame's key (the agent sets the seed
 * at load), so that a partition cannot aim its channels' frames at the place another
 * partition's channel uses; flow_cache_on 0 leaves the cache out (the agent sets it
 * where loads keep their order, below); bench_no_cache 1 too (bench). */
const volatile __u32 flow_cache_seed = 0;
const volatile __u8 flow_cache_on = 0;
const volatile __u8 bench_no_cache = 0;

/* What a frame's flow entry says: the receiver, its interface, the counter slot. */
struct flow_dst {
	__u32 part, ifindex, slot;
};

/* The entry for k, from the table: its fields read once (what is checked is what
 * the frame is sent to, even if the element is freed and reused meanwhile: map
 * invariant 8), and only if its two key copies are equal (constant time). */
static __always_inline int flow_entry(const struct xchan_flow_key *k, struct flow_dst *d)
{
	struct xchan_flow *f = bpf_map_lookup_elem(&xchan_flows, k);

	if (!f)
		return 0;
	d->ifindex = *(volatile __u32 *)&f->dst_ifindex;
	d->part = *(volatile __u32 *)&f->dst_part;
	d->slot = *(volatile __u32 *)&f->slot;
	return key_equal(f->out_key, f->in_key);
}

/* The entry for k through this CPU's flow cache: the place's copy if it was made for
 * k under the change sequence that still holds, else the table's entry, copied
 * there. A copy made before a delete carries a sequence from before the move that
 * follows the delete, and an entry read after that move cannot be the deleted one:
 * the sequence is read before the table. That takes loads that keep their order
 * (x86); where they do not, it would take a load-acquire that this compiler cannot
 * emit, and the agent leaves the cache out. A place is marked as being made before
 * its fields are written and gets its sequence last, and a run that finds a place
 * being made leaves it alone: a run of this program that interrupted another's fill
 * on the same CPU (test_run beside softirq) would otherwise leave fields of two
 * entries, even a key that is neither's, under the interrupted run's sequence. */
static __always_inline int flow_find(const struct xchan_flow_key *k, struct flow_dst *d)
{
	__u32 one = 1, w2 = ((__u32)k->sport << 16) | k->dport, idx;
	struct xchan_flowcache_slot *cs;
	__u64 *seqp, seq;

	if (!flow_cache_on || bench_no_cache)
		return flow_entry(k, d);
	idx = (((k->src_part ^ flow_cache_seed) * 0x9e3779b1u) ^
	       ((k->daddr + flow_cache_seed) * 0x85ebca6bu) ^
	       ((w2 ^ flow_cache_seed) * 0xc2b2ae35u)) >> (32 - XCHAN_FLOWCACHE_BITS);
	seqp = bpf_map_lookup_elem(&xchan_flowalloc, &one);
	cs = bpf_map_lookup_elem(&xchan_flowcache, &idx);
	if (!seqp || !cs)
		return flow_entry(k, d);
	seq = *(volatile __u64 *)seqp;
	asm volatile("" ::: "memory");	/* the sequence before the table */
	if (cs->seq == seq && cs->k.src_part == k->src_part && cs->k.daddr == k->daddr &&
	    cs->k.sport == k->sport && cs->k.dport == k->dport) {
		d->part = cs->dst_part;
		d->ifindex = cs->dst_ifindex;
		d->slot = cs->slot;
		return 1;
	}
	if (!flow_entry(k, d))
		return 0;
	if (*(volatile __u64 *)&cs->seq == XCHAN_FLOWCACHE_NONE)
		return 1;	/* another run on this CPU is making it */
	cs->seq = XCHAN_FLOWCACHE_NONE;
	asm volatile("" ::: "memory");
	cs->k = *k;
	cs->dst_part = d->part;
	cs->dst_ifindex = d->ifindex;
	cs->slot = d->slot;
	asm volatile("" ::: "memory");
	cs->seq = seq;
	return 1;
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
	struct flow_dst d;

	if (bench_no_flow)
		return XCHAN_CONT;
	if (!flow_find(&k, &d))
		return XCHAN_CONT;
	rp = partition_of(d.ifindex);
	if (!rp || rp->part_id != d.part || rp->ip != k.daddr)
		return XCHAN_CONT;
	/* pkt->id stays unset: a pass emits no event, and --forward pass's one drop
	 * here (drop_channel_dest_mac) is sampled without a channel, as on the full path */
	if (!flow_count(pkt, d.slot))
		return XCHAN_CONT;
	dst.part_id = d.part;
	dst.ifindex = d.ifindex;
	dst.node_id = 0;
	__builtin_memcpy(dst.mac, rp->mac, ETH_ALEN);
	dst.flags = rp->flags;
	return forward_local(pkt, &dst);
}

#endif /* XCHAN_FLOW_H */
