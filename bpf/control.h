/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* control.h: CONNECT, REKEY and CLOSE on the trusted path (scheme steps 3-4). The CMM
 * of the sending side checks its own OUT authorization, stores the key
 * insert-if-absent (CONNECT) or replaces the key it holds by the next one (REKEY),
 * and answers in place (XDP_TX) with ACK or NACK; the answer never carries the key.
 * From a partition, a control message is refused and audited, whatever it holds.
 */
#ifndef XCHAN_CONTROL_H
#define XCHAN_CONTROL_H

#include <asm-generic/errno-base.h>
#include "verify.h"

/* Turn the request into its answer, addressed back to where it came from. */
static __always_inline void ctrl_reply(struct xpkt *pkt, __u8 type, __u8 reason)
{
	struct ethhdr *eth = pkt->eth;
	struct iphdr *iph = pkt->iph;
	struct udphdr *udph = pkt->udph;
	struct xchan_hdr *xh = pkt->xh;
	__u8 mac[ETH_ALEN];
	__be32 a;
	__be16 p;

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	a = iph->saddr; iph->saddr = iph->daddr; iph->daddr = a;	/* csum unchanged */
	p = udph->source; udph->source = udph->dest; udph->dest = p;
	udph->check = 0;
	a = xh->src_part; xh->src_part = xh->dst_part; xh->dst_part = a;
	p = xh->src_ep; xh->src_ep = xh->dst_ep; xh->dst_ep = p;
	xh->type = type;
	xh->reason = reason;	/* key_id is echoed */
	__builtin_memset(xh->auth, 0, sizeof(xh->auth));
	pkt->answered = 1;
}

/* The OUT entry on this side that a CONNECT/CLOSE from the receiver refers to. */
static __always_inline void ctrl_out_id(struct xpkt *pkt)
{
	const struct xchan_hdr *xh = pkt->xh;

	xchan_chan_id_make(&pkt->id, bpf_ntohl(xh->dst_part), bpf_ntohs(xh->dst_ep),
			   bpf_ntohl(xh->src_part), bpf_ntohs(xh->src_ep), XCHAN_DIR_OUT);
}

/* An OUT value holding only key (id kid), in its slot, as the one in use. Branches
 * rather than an index: the verifier tracks constant stack offsets best. */
static __always_inline void key_only(struct xchan_key *k, __u8 kid, const __u8 *key)
{
	if (XCHAN_KEY_SLOT(kid)) {
		__builtin_memcpy(k->key[1], key, XCHAN_KEY_LEN);
		k->kid[1] = kid;
		k->valid = 2;
		k->cur = 1;
	} else {
		__builtin_memcpy(k->key[0], key, XCHAN_KEY_LEN);
		k->kid[0] = kid;
		k->valid = 1;
		k->cur = 0;
	}
}

/* The OUT entry already sends with the offered key under the offered id: the CONNECT
 * or REKEY is a retry whose answer was lost. Compared in constant time (verify.h). */
static __always_inline int ctrl_same_key(const struct xchan_key *k, __u8 kid, const __u8 *offered)
{
	const __u8 *cur;
	__u8 cur_kid = 0;

	if (!k)
		return 0;
	cur = key_cur(k, &cur_kid);
	return cur && cur_kid == kid && key_equal(cur, offered);
}

/* The OUT entry a CONNECT or REKEY refers to (pkt->id set); its absence audited. */
static __always_inline struct xchan_channel *ctrl_out_entry(struct xpkt *pkt)
{
	struct xchan_channel *ch;

	ctrl_out_id(pkt);
	ch = bpf_map_lookup_elem(&xchan_channels, &pkt->id);
	if (!ch)
		audit_chan(pkt, XCHAN_E_CONNECT_REFUSED, XR_NACK_NO_OUT);
	return ch;
}

/* A CONNECT's or REKEY's answer: ACK, or NACK with the reason. Each handler calls it
 * once, so ctrl_reply is inlined once for both answers. */
static __always_inline enum xchan_reason ctrl_answer(struct xpkt *pkt, __u32 reason)
{
	int ack = reason == XR_CTRL_ACK;

	ctrl_reply(pkt, ack ? XCHAN_T_CONNECT_ACK : XCHAN_T_CONNECT_NACK, ack ? 0 : reason);
	return reason;
}

/* The key (in auth, unwrapped; its id in key_id) goes into the OUT entry, if that
 * exists and has none yet; ACK or NACK with the reason. The same key again is ACKed
 * as the first time: the receiver retries when an ACK is lost, and only the
 * receiver's agent (or the node hosting the receiver) can know the key. */
static __always_inline enum xchan_reason ctrl_connect(struct xpkt *pkt)
{
	struct xchan_key k = { .owner = XCHAN_OWNER_REMOTE };
	struct xchan_channel *ch = ctrl_out_entry(pkt);
	__u32 reason;
	long err;

	if (!ch) {
		reason = XR_NACK_NO_OUT;
		goto out;
	}
	key_only(&k, pkt->xh->key_id, pkt->xh->auth);
	err = bpf_map_update_elem(&xchan_keys, &pkt->id, &k, BPF_NOEXIST);
	__builtin_memset(k.key, 0, sizeof(k.key));
	if (err == -EEXIST) {
		if (ctrl_same_key(bpf_map_lookup_elem(&xchan_keys, &pkt->id), pkt->xh->key_id,
				  pkt->xh->auth))
			reason = XR_CTRL_ACK;
		else
			reason = audit_chan(pkt, XCHAN_E_EXCLUSION, XR_NACK_EXISTS);
	} else if (err) {
		reason = XR_NACK_INTERNAL;
	} else {
		ch->state = XCHAN_S_ESTABLISHED;
		ch->established_ns = ch->key_ns = bpf_ktime_get_ns();
		reason = audit_chan(pkt, XCHAN_E_ESTABLISHED, XR_CTRL_ACK);
	}
out:
	return ctrl_answer(pkt, reason);
}

/* The receiver's next key (auth, id kid) replaces the key of OUT entry pkt->id alone;
 * returns the reason to answer. */
static __always_inline __u32 rekey_apply(struct xpkt *pkt, struct xchan_channel *ch, __u8 kid)
{
	struct xchan_key nk = { .owner = XCHAN_OWNER_REMOTE };
	long err;

	key_only(&nk, kid, pkt->xh->auth);
	err = bpf_map_update_elem(&xchan_keys, &pkt->id, &nk, BPF_EXIST);
	__builtin_memset(nk.key, 0, sizeof(nk.key));
	cache_forget();
	if (err)
		return err == -ENOENT ? XR_NACK_NO_KEY : XR_NACK_INTERNAL;
	ch->key_ns = bpf_ktime_get_ns();
	return audit_chan(pkt, XCHAN_E_REKEYED, XR_CTRL_ACK);
}

/* The receiver's next key (auth, id key_id) replaces the one the OUT entry sends
 * with. Only where a key is (REKEY never creates one: exclusion holds), only the next
 * id (the receiver holds the old and the new key until it retires the old, so no
 * message in flight is lost), the same key again ACKed (a lost answer). The new value
 * holds the new key alone: BPF_EXIST replaces the element at once, and a concurrent
 * CLOSE wins (ENOENT: nack_no_key). A nack_bad_key_id names OUT's current id in
 * auth[0], the one byte an answer carries there. */
static __always_inline enum xchan_reason ctrl_rekey(struct xpkt *pkt)
{
	struct xchan_channel *ch = ctrl_out_entry(pkt);
	struct xchan_key *k;
	__u8 kid = pkt->xh->key_id, cur_kid = 0;
	__u32 reason;

	k = ch ? bpf_map_lookup_elem(&xchan_keys, &pkt->id) : NULL;
	if (!ch)
		reason = XR_NACK_NO_OUT;
	else if (!k || !key_cur(k, &cur_kid))
		reason = audit_chan(pkt, XCHAN_E_CONNECT_REFUSED, XR_NACK_NO_KEY);
	else if (ctrl_same_key(k, kid, pkt->xh->auth))
		reason = XR_CTRL_ACK;
	else if (kid != (__u8)(cur_kid + 1))
		reason = audit_chan(pkt, XCHAN_E_CONNECT_REFUSED, XR_NACK_BAD_KEY_ID);
	else
		reason = rekey_apply(pkt, ch, kid);
	ctrl_answer(pkt, reason);
	/* the id OUT sends with (covered by the answer's signature between nodes): a
	 * receiver whose pending key lost a race moves on from it (rekey.c) */
	if (reason == XR_NACK_BAD_KEY_ID)
		pkt->xh->auth[0] = cur_kid;
	return reason;
}

static __always_inline enum xchan_reason ctrl_close(struct xpkt *pkt)
{
	struct xchan_channel *ch;

	ctrl_out_id(pkt);
	bpf_map_delete_elem(&xchan_keys, &pkt->id);
	cache_forget();
	ch = bpf_map_lookup_elem(&xchan_channels, &pkt->id);
	if (ch) {
		ch->state = XCHAN_S_AUTHORIZED;
		ch->established_ns = ch->key_ns = 0;
	}
	audit_chan(pkt, XCHAN_E_CLOSED, XR_CTRL_CLOSE);
	ctrl_reply(pkt, XCHAN_T_CLOSE_ACK, 0);
	return XR_CTRL_CLOSE;
}

/* Control messages come only from the agent (trusted path), never from a partition. */
static __always_inline enum xchan_reason ctrl_from_partition(struct xpkt *pkt)
{
	struct xchan_hdr *xh = pkt->c.pos;

	pkt->msg_type = (void *)(xh + 1) <= pkt->c.end ? xh->type : 0;
	return audit(pkt, XCHAN_E_CTRL_UNTRUSTED, XR_DROP_CTRL_UNTRUSTED);
}

/* Only reached with ingress_ifindex == trusted_ifindex, i.e. from the agent. */
static __always_inline enum xchan_reason from_trusted(struct xpkt *pkt)
{
	int r;

	if (pkt->eth->h_proto != bpf_htons(ETH_P_IP))
		return XR_DROP_CTRL_MALFORMED;
	r = parse_ipv4(&pkt->c, &pkt->iph);
	if (r != XCHAN_CONT)
		return r;
	xpkt_addrs(pkt, pkt->iph->saddr, pkt->iph->daddr);
	if (pkt->iph->protocol != IPPROTO_UDP)
		return XR_DROP_CTRL_MALFORMED;
	r = parse_udp(&pkt->c, pkt->iph, &pkt->udph);
	if (r != XCHAN_CONT)
		return r;
	if (pkt->udph->dest != bpf_htons(ctrl_port))
		return XR_DROP_CTRL_MALFORMED;
	r = parse_xchan(&pkt->c, pkt->udph, &pkt->xh);
	if (r != XCHAN_CONT)
		return r;
	pkt->msg_type = pkt->xh->type;
	if (pkt->xh->type == XCHAN_T_CONNECT)
		return ctrl_connect(pkt);
	if (pkt->xh->type == XCHAN_T_REKEY)
		return ctrl_rekey(pkt);
	if (pkt->xh->type == XCHAN_T_CLOSE)
		return ctrl_close(pkt);
	return XR_DROP_CTRL_MALFORMED;
}

#endif /* XCHAN_CONTROL_H */
