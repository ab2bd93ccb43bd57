/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* node_ctrl.h: CONNECT, REKEY and CLOSE from another node. They must come from the
 * node that hosts the claimed source partition, name one of its node keys by id,
 * carry that key's signature and a nonce newer than the last one; only then is the
 * key unwrapped and the trusted path's checks applied. The answer is signed for the
 * peer's agent with our key towards it.
 */
#ifndef XCHAN_NODE_CTRL_H
#define XCHAN_NODE_CTRL_H

#include "identify.h"
#include "control.h"
#include "xchan_auth.h"

/* The node key with id kid, in either slot; NULL when none holds it (unknown, not
 * installed yet, or retired). */
static __always_inline struct xchan_node_slot *node_key(struct xchan_node *node, __u8 kid)
{
	if ((node->valid & 1) && node->kid[0] == kid)
		return &node->slot[0];
	if ((node->valid & 2) && node->kid[1] == kid)
		return &node->slot[1];
	return 0;
}

/* Signature, then nonce: a forged message must not move the nonce forward. */
static __always_inline int node_ctrl_auth(struct xpkt *pkt, struct xchan_node *node,
					  const struct xchan_node_slot *ks,
					  const struct xchan_ctrl_trailer *t)
{
	struct xchan_hdr h;
	__u64 nonce, last;

	__builtin_memcpy(&h, pkt->xh, sizeof(h));
	if ((xchan_hdr_mac(ks->rx, &h) ^ sip_le64(t->tag)) != 0)
		return audit(pkt, XCHAN_E_BAD_AUTH, XR_DROP_CTRL_BAD_AUTH);
	nonce = bpf_be64_to_cpu(pkt->xh->seq);
	last = node->last_nonce;
	if (nonce <= last || __sync_val_compare_and_swap(&node->last_nonce, last, nonce) != last)
		return audit(pkt, XCHAN_E_BAD_AUTH, XR_DROP_REPLAY);
	return XCHAN_CONT;
}

/* Between nodes key_id names the node key; the channel key id of a CONNECT or REKEY
 * travels in the request's reason byte. The trusted path's handlers read key_id. */
static __always_inline enum xchan_reason node_ctrl_apply(struct xpkt *pkt,
							 const struct xchan_node_slot *ks)
{
	__u8 type = pkt->xh->type;

	pkt->xh->key_id = pkt->xh->reason;
	pkt->xh->reason = 0;
	if (type == XCHAN_T_CLOSE)
		return ctrl_close(pkt);
	/* unwrapped in place; ctrl_reply() wipes it from the answer */
	xchan_key_wrap(pkt->xh->auth, ks->rx, bpf_be64_to_cpu(pkt->xh->seq));
	return type == XCHAN_T_REKEY ? ctrl_rekey(pkt) : ctrl_connect(pkt);
}

static __always_inline enum xchan_reason node_ctrl(struct xpkt *pkt)
{
	struct xchan_ctrl_trailer *t = (void *)(pkt->xh + 1);
	struct xchan_node_slot *ks;
	struct xchan_node *node;
	struct xchan_hdr h;
	__u8 node_kid;
	int r;

	if (bpf_ntohs(pkt->udph->len) < sizeof(*pkt->udph) + sizeof(*pkt->xh) + sizeof(*t) ||
	    (void *)(t + 1) > pkt->c.end)
		return XR_DROP_CTRL_MALFORMED;
	node = node_of(bpf_ntohl(pkt->xh->src_part), pkt->saddr);
	if (!node)
		return audit(pkt, XCHAN_E_BAD_ORIGIN, XR_DROP_BAD_ORIGIN);
	node_kid = pkt->xh->key_id;
	ks = node_key(node, node_kid);
	if (!ks)
		return audit(pkt, XCHAN_E_BAD_AUTH, XR_DROP_CTRL_BAD_AUTH);
	r = node_ctrl_auth(pkt, node, ks, t);
	if (r != XCHAN_CONT)
		return r;
	r = node_ctrl_apply(pkt, ks);
	/* the answer keeps the request's nonce (ctrl_reply leaves seq alone), names the
	 * node key it is signed with, and is signed with our key towards that node */
	pkt->xh->key_id = node_kid;
	__builtin_memcpy(&h, pkt->xh, sizeof(h));
	xchan_put_le64(t->tag, xchan_hdr_mac(ks->tx, &h));
	return r;
}

#endif /* XCHAN_NODE_CTRL_H */
