/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* node_ctrl.h: CONNECT and CLOSE from another node. They must come from the node
 * that hosts the claimed source partition, carry its pair-key signature and a nonce
 * newer than the last one; only then is the key unwrapped and the trusted path's
 * checks applied. The answer is signed for the peer's agent.
 */
#ifndef XCHAN_NODE_CTRL_H
#define XCHAN_NODE_CTRL_H

#include "identify.h"
#include "control.h"
#include "xchan_auth.h"

/* Signature, then nonce: a forged message must not move the nonce forward. */
static __always_inline int node_ctrl_auth(struct xpkt *pkt, struct xchan_node *node,
					  const struct xchan_ctrl_trailer *t)
{
	struct xchan_hdr h;
	__u64 nonce, last;

	__builtin_memcpy(&h, pkt->xh, sizeof(h));
	if ((xchan_hdr_mac(node->pair_key, &h) ^ sip_le64(t->tag)) != 0)
		return audit(pkt, XCHAN_E_BAD_AUTH, XR_DROP_CTRL_BAD_AUTH);
	nonce = bpf_be64_to_cpu(pkt->xh->seq);
	last = node->last_nonce;
	if (nonce <= last || __sync_val_compare_and_swap(&node->last_nonce, last, nonce) != last)
		return audit(pkt, XCHAN_E_BAD_AUTH, XR_DROP_REPLAY);
	return XCHAN_CONT;
}

static __always_inline enum xchan_reason node_ctrl(struct xpkt *pkt)
{
	struct xchan_ctrl_trailer *t = (void *)(pkt->xh + 1);
	struct xchan_node *node;
	struct xchan_hdr h;
	int r;

	if (bpf_ntohs(pkt->udph->len) < sizeof(*pkt->udph) + sizeof(*pkt->xh) + sizeof(*t) ||
	    (void *)(t + 1) > pkt->c.end)
		return XR_DROP_CTRL_MALFORMED;
	node = node_of(bpf_ntohl(pkt->xh->src_part), pkt->saddr);
	if (!node)
		return audit(pkt, XCHAN_E_BAD_ORIGIN, XR_DROP_BAD_ORIGIN);
	r = node_ctrl_auth(pkt, node, t);
	if (r != XCHAN_CONT)
		return r;
	if (pkt->xh->type == XCHAN_T_CONNECT) {
		/* unwrapped in place; ctrl_reply() wipes it from the answer */
		xchan_key_wrap(pkt->xh->auth, node->pair_key, bpf_be64_to_cpu(pkt->xh->seq));
		r = ctrl_connect(pkt);
	} else {
		r = ctrl_close(pkt);
	}
	/* the answer keeps the request's nonce (ctrl_reply leaves seq alone) */
	__builtin_memcpy(&h, pkt->xh, sizeof(h));
	xchan_put_le64(t->tag, xchan_hdr_mac(node->pair_key, &h));
	return r;
}

#endif /* XCHAN_NODE_CTRL_H */
