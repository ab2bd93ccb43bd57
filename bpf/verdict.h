/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* verdict.h: the one exit: a stage's reason becomes the XDP action here, is counted
 * per reason, and drops are sampled into the event stream; plus the audit events
 * stages raise on the way. Events carry ids and addresses, never keys.
 */
#ifndef XCHAN_VERDICT_H
#define XCHAN_VERDICT_H

#include "xpkt.h"
#include "audit.h"

/* Whose budget an event of this frame spends: the sending partition, the host's
 * trusted path, or the uplink peer by outer source address (0 before it is known). */
static __always_inline __u64 xpkt_src(const struct xpkt *pkt)
{
	if (pkt->src)
		return EV_SRC(XCHAN_SRC_PART, pkt->src->part_id);
	if (ctx_ifindex(pkt->ctx) == trusted_ifindex)
		return EV_SRC(XCHAN_SRC_HOST, 0);
	return EV_SRC(XCHAN_SRC_PEER, pkt->saddr);
}

static __always_inline void emit_event(struct xpkt *pkt, __u32 kind, __u32 reason,
				       const struct xchan_chan_id *id)
{
	event_put(ctx_ifindex(pkt->ctx), EV_WHAT(kind, pkt->msg_type, reason),
		  EV_ADDRS(pkt->saddr, pkt->daddr), xpkt_src(pkt), id);
}

/* Every audit, unlike the sampled drops: what an operator must be able to trace.
 * Returns the reason, so that a stage can audit and decide in one statement. */
static __always_inline int audit(struct xpkt *pkt, __u32 kind, __u32 reason)
{
	emit_event(pkt, kind, reason, 0);
	return reason;
}

/* The same, naming the channel entry (control: who connected or closed what). */
static __always_inline int audit_chan(struct xpkt *pkt, __u32 kind, __u32 reason)
{
	emit_event(pkt, kind, reason, &pkt->id);
	return reason;
}

/* What each reason does with the frame. Redirects go where the stage that allowed
 * the frame pointed them (pkt->redirect_ifindex), answers go back only once built:
 * a stage that passes such a reason on without either gets a drop, never a
 * partition's own frame sent back or redirected to nowhere. */
static __always_inline int reason_action(const struct xpkt *pkt, __u32 reason)
{
	switch (reason) {
	case XR_PASS_CHANNEL:
		/* --forward pass: the host stack delivers; no devmap entry: the same */
		if (!fwd_redirect)
			return XDP_PASS;
		if (!pkt->redirect_ifindex)
			return XDP_DROP;
		return bpf_redirect_map(&xchan_devmap, pkt->redirect_ifindex, XDP_PASS);
	case XR_PASS_DECAP:
		/* redirected whatever --forward says: the frame now carries the
		 * partition's MAC, which the uplink's own stack would discard */
		if (!pkt->redirect_ifindex)
			return XDP_DROP;
		return bpf_redirect_map(&xchan_devmap, pkt->redirect_ifindex, 0);
	case XR_PASS_ENCAP:
		if (!pkt->redirect_ifindex)
			return XDP_DROP;
		return bpf_redirect(pkt->redirect_ifindex, 0);
	case XR_PASS_EXTERNAL:
	case XR_PASS_ARP:
	case XR_PASS_IPV6:
	case XR_PASS_UPLINK:
	case XR_CTRL_REPLY:
		return XDP_PASS;
	case XR_CTRL_ACK:
	case XR_CTRL_CLOSE:
	case XR_NACK_NO_OUT:
	case XR_NACK_EXISTS:
	case XR_NACK_INTERNAL:
	case XR_NACK_NO_KEY:
	case XR_NACK_BAD_KEY_ID:
		/* the request, turned into its answer in place */
		return pkt->answered ? XDP_TX : XDP_DROP;
	default:
		return XDP_DROP;
	}
}

/* A registered partition's verdict, by reason (xchan_partstats). Its first frame of
 * a reason makes the row; a full map leaves the frame counted by reason only, and
 * two CPUs making the same row at once both count (the loser adds to the winner's). */
static __always_inline void part_count(__u32 part, __u32 reason, __u64 bytes)
{
	struct xchan_partstat_key k = { .part_id = part, .reason = reason };
	struct xchan_counter one = { .packets = 1, .bytes = bytes };
	struct xchan_counter *c = bpf_map_lookup_elem(&xchan_partstats, &k);

	if (!c) {
		if (!bpf_map_update_elem(&xchan_partstats, &k, &one, BPF_NOEXIST))
			return;
		c = bpf_map_lookup_elem(&xchan_partstats, &k);
		if (!c)
			return;
	}
	c->packets++;
	c->bytes += bytes;
}

/* The exit: act on the reason, count it (by partition too, but for pass_channel: the
 * same-node fast path stays one lookup and its channel's counters, issue 15), sample
 * drops into the event stream. */
static __always_inline int verdict(struct xpkt *pkt, __u32 reason)
{
	struct xdp_md *ctx = pkt->ctx;
	int action = reason_action(pkt, reason);
	struct xchan_counter *c = bpf_map_lookup_elem(&xchan_stats, &reason);
	__u64 n = 0, len = ctx->data_end - ctx->data;

	if (c) {
		n = c->packets++;
		c->bytes += len;
	}
	if (pkt->src && reason != XR_PASS_CHANNEL)
		part_count(pkt->src->part_id, reason, len);
	if (action == XDP_DROP && !(n & ((1ULL << drop_sample_shift) - 1)))
		emit_event(pkt, XCHAN_E_DROP, reason, 0);
	return action;
}

#endif /* XCHAN_VERDICT_H */
