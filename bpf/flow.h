/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* flow.h: the same-node fast path. A message from a local partition looks up the
 * channel's flow entry by what the frame carries (the agent makes it once both keys
 * exist, include/xchan.h): one lookup instead of the receiver's address, both keys
 * and the counters' entry. The entry only ever shortens a pass: the copies of both
 * keys must agree (keys_agree, constant time) and the receiver must still be the
 * partition on the entry's interface with the frame's destination address; anything
 * else falls through to the full path, which decides every drop.
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

static __always_inline int flow_verify(struct xpkt *pkt)
{
	struct xchan_flow_key k = {
		.src_part = pkt->src->part_id, .daddr = pkt->iph->daddr,
		.sport = pkt->udph->source, .dport = pkt->udph->dest,
	};
	const struct xchan_partition *rp;
	struct xchan_address dst;
	struct xchan_flow *f;

	if (bench_no_flow)
		return XCHAN_CONT;
	f = bpf_map_lookup_elem(&xchan_flows, &k);
	if (!f)
		return XCHAN_CONT;
	rp = partition_of(f->dst_ifindex);
	if (!rp || rp->part_id != f->dst_part || rp->ip != k.daddr || !keys_agree(&f->out, &f->in))
		return XCHAN_CONT;
	xchan_chan_id_make(&pkt->id, f->dst_part, bpf_ntohs(k.dport), k.src_part,
			   bpf_ntohs(k.sport), XCHAN_DIR_IN);
	if (!bench_flow_nocount)
		chan_count(&pkt->id, pkt->ctx->data_end - pkt->ctx->data, 0);
	dst.part_id = f->dst_part;
	dst.ifindex = f->dst_ifindex;
	dst.node_id = 0;
	__builtin_memcpy(dst.mac, rp->mac, ETH_ALEN);
	dst.flags = rp->flags;
	return forward_local(pkt, &dst);
}

#endif /* XCHAN_FLOW_H */
