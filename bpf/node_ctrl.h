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

/* The node key with id kid, in either slot, copied out: the element may be replaced
 * (key install, retire) and, in a preallocated map, reused for another node's value
 * while this message is handled, so nothing reads it after this copy. 0 when no
 * slot holds kid (unknown, not installed yet, or retired). */
static __always_inline int node_key(const struct xchan_node *node, __u8 kid,
				    struct xchan_node_slot *out)
{
	if ((node->valid & 1) && node->kid[0] == kid)
		__builtin_memcpy(out, &node->slot[0], sizeof(*out));
	else if ((node->valid & 2) && node->kid[1] == kid)
		__builtin_memcpy(out, &node->slot[1], sizeof(*out));
	else
		return 0;
	return 1;
}

/* The node's nonce record, kept apart from its entry (include/xchan.h). */
static __always_inline struct xchan_peernonce *peer_nonce(__u32 part)
{
	struct xchan_part_meta *m = bpf_map_lookup_elem(&xchan_partmeta, &part);
	__u32 node_id;

	if (!m)
		return 0;
	node_id = m->node_id;
	return bpf_map_lookup_elem(&xchan_peernonce, &node_id);
}

/* A message from node_id, signed under its node key kid, verified: the peer holds
 * that key, so the NH key we would tag DATA to it with may be used (node_data.h
 * nh_key_tx). Set once; the agent writes the entry anew with a new key. */
static __always_inline void nh_key_held(__u32 node_id, __u8 kid)
{
	struct xchan_nh_id id = { .node = node_id, .kid = kid, .dir = XCHAN_NH_TX };
	struct xchan_nh_key *k = bpf_map_lookup_elem(&xchan_nhkeys, &id);

	if (k && k->flags != XCHAN_NH_HELD)
		k->flags = XCHAN_NH_HELD;
}

/* The peer signed under a node key not in our entry (n): it moved on, or we did.
 * What we tag DATA to it with NH under may then be a key it no longer holds, so the
 * marks go until it signs under one of ours again; meanwhile DATA goes with SipHash
 * tags. A forged frame can do this too: it costs speed, not protection. */
static __always_inline void nh_keys_unheld(const struct xchan_node *n, __u32 node_id)
{
	struct xchan_nh_id id = { .node = node_id, .dir = XCHAN_NH_TX };
	struct xchan_nh_key *k;

	for (int s = 0; s < 2; s++) {
		if (!(n->valid & (1U << s)))
			continue;
		id.kid = n->kid[s];
		k = bpf_map_lookup_elem(&xchan_nhkeys, &id);
		if (k && k->flags)
			k->flags = 0;
	}
}

/* Signature, then nonce: a forged message must not move the nonce forward. No
 * nonce record (made by the agent with the node) is no proof of freshness. */
static __always_inline int node_ctrl_auth(struct xpkt *pkt, const struct xchan_node_slot *ks,
					  const struct xchan_ctrl_trailer *t)
{
	struct xchan_peernonce *pn;
	struct xchan_hdr h;
	__u64 nonce, last;

	__builtin_memcpy(&h, pkt->xh, sizeof(h));
	if ((xchan_hdr_mac(ks->rx, &h) ^ sip_le64(t->tag)) != 0)
		return audit(pkt, XCHAN_E_BAD_AUTH, XR_DROP_CTRL_BAD_AUTH);
	pn = peer_nonce(bpf_ntohl(pkt->xh->src_part));
	nonce = bpf_be64_to_cpu(pkt->xh->seq);
	if (!pn)
		return audit(pkt, XCHAN_E_BAD_AUTH, XR_DROP_REPLAY);
	last = pn->last;
	if (nonce <= last || __sync_val_compare_and_swap(&pn->last, last, nonce) != last)
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
	struct xchan_node_slot ks;
	struct xchan_node *node;
	struct xchan_hdr h;
	__u32 node_id;
	__u8 node_kid;
	int r;

	/* exactly: the answer goes back in the request's frame (XDP_TX), and nothing
	 * after the trailer is signed */
	if (bpf_ntohs(pkt->udph->len) != sizeof(*pkt->udph) + sizeof(*pkt->xh) + sizeof(*t) ||
	    (void *)(t + 1) > pkt->c.end)
		return XR_DROP_CTRL_MALFORMED;
	node = node_of(bpf_ntohl(pkt->xh->src_part), pkt->saddr, &node_id);
	if (!node)
		return audit(pkt, XCHAN_E_BAD_ORIGIN, XR_DROP_BAD_ORIGIN);
	node_kid = pkt->xh->key_id;
	/* the address again after the copy: had the element been reused for another
	 * node's value since node_of, the copy could hold that node's key */
	if (!node_key(node, node_kid, &ks) || node->addr != pkt->saddr) {
		__builtin_memset(&ks, 0, sizeof(ks));
		if (node->addr == pkt->saddr)	/* a node key id we do not hold */
			nh_keys_unheld(node, node_id);
		return audit(pkt, XCHAN_E_BAD_AUTH, XR_DROP_CTRL_BAD_AUTH);
	}
	r = node_ctrl_auth(pkt, &ks, t);
	if (r == XCHAN_CONT) {
		nh_key_held(node_id, node_kid);
		r = node_ctrl_apply(pkt, &ks);
		/* the answer keeps the request's nonce (ctrl_reply leaves seq alone), names
		 * the node key it is signed with, and is signed with our key towards that
		 * node */
		pkt->xh->key_id = node_kid;
		__builtin_memcpy(&h, pkt->xh, sizeof(h));
		xchan_put_le64(t->tag, xchan_hdr_mac(ks.tx, &h));
	}
	__builtin_memset(&ks, 0, sizeof(ks));
	asm volatile("" : : "r"(&ks) : "memory");	/* the wipe is not a dead store */
	return r;
}

#endif /* XCHAN_NODE_CTRL_H */
