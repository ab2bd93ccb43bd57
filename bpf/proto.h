/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* proto.h: prototypes of a faster same-node allowed path, compiled only into
 * build/xchan_proto.bpf.o (-DXCHAN_PROTO), which bench/stages.c loads over the
 * fixture's maps and fills itself: no real instance runs them. proto_mode 1 keeps both key lookups and
 * counts in a per-CPU array slot that the IN key names, instead of the per-CPU hash;
 * proto_mode 2 is one lookup per packet: a flow entry keyed by what the frame
 * carries, holding copies of both keys (compared per packet, in constant time), the
 * receiver and a counter slot, as CONNECT would write it and CLOSE remove it.
 */
#ifndef XCHAN_PROTO_H
#define XCHAN_PROTO_H

#ifdef XCHAN_PROTO
#include "verify.h"
#include "xchan_proto.h"

const volatile __u8 proto_mode = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);		/* resized by the bench */
	__type(key, __u32);			/* a channel's counter slot */
	__type(value, struct xchan_chan_counter);
} proto_cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);		/* resized by the bench */
	__type(key, struct proto_flow_key);
	__type(value, struct proto_flow);
} proto_flows SEC(".maps");

static __always_inline void proto_count(__u32 slot, __u64 bytes, int dropped)
{
	struct xchan_chan_counter *c = bpf_map_lookup_elem(&proto_cnt, &slot);

	if (!c)
		return;
	if (dropped) {
		c->drops++;
	} else {
		c->packets++;
		c->bytes += bytes;
	}
}

/* Mode 1: verify_channel with the counters in the slot the IN key's owner names in its upper 16 bits (bench only). */
static __always_inline int proto_verify_slot(struct xpkt *pkt, const struct xchan_address *dst)
{
	__u16 sport = bpf_ntohs(pkt->udph->source), dport = bpf_ntohs(pkt->udph->dest);
	struct xdp_md *ctx = pkt->ctx;
	struct xchan_chan_id out_id;
	struct xchan_key *kout, *kin;

	xchan_chan_id_make(&out_id, pkt->src->part_id, sport, dst->part_id, dport, XCHAN_DIR_OUT);
	xchan_chan_id_make(&pkt->id, dst->part_id, dport, pkt->src->part_id, sport, XCHAN_DIR_IN);
	kout = bpf_map_lookup_elem(&xchan_keys, &out_id);
	if (!kout)
		return XR_DROP_NO_OUT;
	kin = bpf_map_lookup_elem(&xchan_keys, &pkt->id);
	if (!kin)
		return XR_DROP_NO_IN;
	if (!keys_agree(kout, kin)) {
		proto_count(kin->owner >> 16, 0, 1);
		return XR_DROP_KEY_MISMATCH;
	}
	proto_count(kin->owner >> 16, ctx->data_end - ctx->data, 0);
	return XCHAN_CONT;
}

/* Mode 2: the whole channel check from one flow entry; XCHAN_CONT falls back to the
 * ordinary path (no flow entry: not established, or not a local destination). */
static __always_inline int proto_flow(struct xpkt *pkt)
{
	struct proto_flow_key k = { .src_part = pkt->src->part_id, .daddr = pkt->iph->daddr,
				    .sport = pkt->udph->source, .dport = pkt->udph->dest };
	struct xdp_md *ctx = pkt->ctx;
	struct proto_flow *f = bpf_map_lookup_elem(&proto_flows, &k);

	if (!f)
		return XCHAN_CONT;
	if (!key_equal(f->out_key, f->in_key)) {
		proto_count(f->slot, 0, 1);
		return XR_DROP_KEY_MISMATCH;
	}
	proto_count(f->slot, ctx->data_end - ctx->data, 0);
	if (fwd_redirect)
		__builtin_memcpy(pkt->eth->h_dest, f->mac, ETH_ALEN);
	pkt->redirect_ifindex = f->ifindex;
	return XR_PASS_CHANNEL;
}

#define PROTO_FLOW(pkt) \
	do { if (proto_mode == 2) { int _r = proto_flow(pkt); if (_r != XCHAN_CONT) return _r; } } while (0)
#define PROTO_VERIFY(pkt, dst) \
	(proto_mode == 1 ? proto_verify_slot(pkt, dst) : verify_channel(pkt, dst))
#else
#define PROTO_FLOW(pkt)			do { } while (0)
#define PROTO_VERIFY(pkt, dst)		verify_channel(pkt, dst)
#endif

#endif /* XCHAN_PROTO_H */
