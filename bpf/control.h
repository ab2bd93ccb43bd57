/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* control.h: CONNECT, REKEY and CLOSE on the trusted path (scheme steps 3-4). The CMM
 * of the sending side checks its own OUT authorization, stores the key into it if it
 * holds none (CONNECT: a compare-and-swap on the entry's word, include/xchan.h) or
 * replaces the key it holds by the next one (REKEY), and answers in place (XDP_TX)
 * with ACK or NACK; the answer never carries the key.
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

/* The OUT entry already sends with the offered key under the offered id: the CONNECT
 * or REKEY is a retry whose answer was lost. Compared in constant time (verify.h). */
static __always_inline int ctrl_same_key(const struct xchan_channel *k, __u8 kid,
					 const __u8 *offered)
{
	const __u8 *cur;
	__u8 cur_kid = 0;

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

/* The entry's word taken from `from` to `from | BUSY` (what only one handler can
 * do at a time: the exclusion), its other bits as they were; 0 if it held something
 * else. */
static __always_inline int ctl_take(struct xchan_channel *ch, __u32 from)
{
	return __sync_val_compare_and_swap(&ch->ctl, from, from | XCHAN_CTL_BUSY) == from;
}

/* ctl_take, and then the element is still the entry of pkt->id: one deleted and
 * taken by another insert between the lookup and the swap (a preallocated map gives
 * a freed element to the CPU's next insert at once: map invariant 1) gets its word
 * back as it was, and nothing is written. */
static __always_inline int ctl_take_own(struct xpkt *pkt, struct xchan_channel *ch, __u32 from)
{
	if (!ctl_take(ch, from))
		return 0;
	if (bpf_map_lookup_elem(&xchan_channels, &pkt->id) == ch)
		return 1;
	__sync_val_compare_and_swap(&ch->ctl, from | XCHAN_CTL_BUSY, from);
	return 0;
}

/* Ends what ctl_take began: the word, still busy, becomes `to` with the next
 * generation (bits 5-7: so that a handler that read the word before a CLOSE and a
 * CONNECT in between cannot win a swap on an equal word). A swap, so that the key
 * written before is seen before the word, and that nothing else wrote the word
 * meanwhile; 0 if something did (the element another entry's now). */
static __always_inline int ctl_give(struct xchan_channel *ch, __u32 busy, __u32 to)
{
	__u32 gen = (XCHAN_CTL_GEN(busy) + 1) & 7;

	to = (to & ~(7U << 5)) | gen << 5;
	return __sync_val_compare_and_swap(&ch->ctl, busy, to) == busy;
}

/* Key (id kid) into its slot of a busy OUT entry, then valid and cur in one store:
 * the key alone, and the one in use (readers load the pair at once, verify.h, so
 * one that still sends with the old slot finds it valid or finds the new one). The
 * old slot's bytes stay until the next REKEY writes that slot or CLOSE zeroes both:
 * a reader may be comparing them. Branches rather than an index: the verifier
 * tracks constant offsets best. */
static __always_inline void key_put(struct xchan_channel *ch, __u8 kid, const __u8 *key)
{
	__u8 s = XCHAN_KEY_SLOT(kid), vc[2];

	if (s) {
		__builtin_memcpy(ch->key[1], key, XCHAN_KEY_LEN);
		ch->kid[1] = kid;
	} else {
		__builtin_memcpy(ch->key[0], key, XCHAN_KEY_LEN);
		ch->kid[0] = kid;
	}
	vc[0] = 1U << s;
	vc[1] = s;
	asm volatile("" ::: "memory");
	*(volatile __u16 *)&ch->valid = *(__u16 *)vc;
}

/* The key (in auth, unwrapped; its id in key_id) goes into the OUT entry, if that
 * exists and has none yet: its word from AUTHORIZED to busy by compare-and-swap
 * (whoever loses it wrote nothing), the key, then ESTABLISHED with owner REMOTE. ACK
 * or NACK with the reason. The same key again is ACKed as the first time: the
 * receiver retries when an ACK is lost, and only the receiver's agent (or the node
 * hosting the receiver) can know the key. */
static __always_inline enum xchan_reason ctrl_connect(struct xpkt *pkt)
{
	struct xchan_channel *ch = ctrl_out_entry(pkt);
	__u32 reason, w, slotbits;

	if (!ch) {
		reason = XR_NACK_NO_OUT;
		goto out;
	}
	w = chan_ctl(ch);
	slotbits = w & ~0xffU;
	if (XCHAN_CTL_STATE(w) == XCHAN_S_AUTHORIZED && !(w & XCHAN_CTL_BUSY) &&
	    ctl_take_own(pkt, ch, w)) {
		key_put(ch, pkt->xh->key_id, pkt->xh->auth);
		if (ctl_give(ch, w | XCHAN_CTL_BUSY,
			     slotbits | XCHAN_CTL(XCHAN_S_ESTABLISHED, XCHAN_OWNER_REMOTE, 0)))
			reason = audit_chan(pkt, XCHAN_E_ESTABLISHED, XR_CTRL_ACK);
		else
			reason = XR_NACK_INTERNAL;
	} else if (XCHAN_CTL_STATE(w) == XCHAN_S_ESTABLISHED &&
		   ctrl_same_key(ch, pkt->xh->key_id, pkt->xh->auth)) {
		reason = XR_CTRL_ACK;
	} else {
		/* a key there (or being written by another CONNECT, REKEY or CLOSE) */
		reason = audit_chan(pkt, XCHAN_E_EXCLUSION, XR_NACK_EXISTS);
	}
out:
	return ctrl_answer(pkt, reason);
}

/* The receiver's next key (auth, id key_id) becomes the one the OUT entry sends
 * with. Only where a key is (REKEY never creates one: exclusion holds), only the
 * next id (the receiver holds the old and the new key until it retires the old, so
 * no message in flight is lost), the same key again ACKed (a lost answer). The
 * entry's word goes from ESTABLISHED to busy and back by compare-and-swap: a
 * concurrent CLOSE, CONNECT or REKEY that holds it wins (nack_no_key). A
 * nack_bad_key_id names OUT's current id in auth[0], the one byte an answer carries
 * there. */
static __always_inline enum xchan_reason ctrl_rekey(struct xpkt *pkt)
{
	struct xchan_channel *ch = ctrl_out_entry(pkt);
	__u8 kid = pkt->xh->key_id, cur_kid = 0;
	__u32 reason, w = 0;

	if (ch)
		w = chan_ctl(ch);
	if (!ch)
		reason = XR_NACK_NO_OUT;
	else if (XCHAN_CTL_STATE(w) != XCHAN_S_ESTABLISHED || !key_cur(ch, &cur_kid))
		reason = audit_chan(pkt, XCHAN_E_CONNECT_REFUSED, XR_NACK_NO_KEY);
	else if (ctrl_same_key(ch, kid, pkt->xh->auth))
		reason = XR_CTRL_ACK;
	else if (kid != (__u8)(cur_kid + 1))
		reason = audit_chan(pkt, XCHAN_E_CONNECT_REFUSED, XR_NACK_BAD_KEY_ID);
	else if ((w & XCHAN_CTL_BUSY) || !ctl_take_own(pkt, ch, w))
		reason = audit_chan(pkt, XCHAN_E_CONNECT_REFUSED, XR_NACK_NO_KEY);
	else {
		key_put(ch, kid, pkt->xh->auth);
		if (ctl_give(ch, w | XCHAN_CTL_BUSY, (w & ~0xffU) |
			     XCHAN_CTL(XCHAN_S_ESTABLISHED, XCHAN_OWNER_REMOTE, 0)))
			reason = audit_chan(pkt, XCHAN_E_REKEYED, XR_CTRL_ACK);
		else
			reason = XR_NACK_INTERNAL;
		cache_forget();
	}
	ctrl_answer(pkt, reason);
	/* the id OUT sends with (covered by the answer's signature between nodes): a
	 * receiver whose pending key lost a race moves on from it (rekey.c) */
	if (reason == XR_NACK_BAD_KEY_ID)
		pkt->xh->auth[0] = cur_kid;
	return reason;
}

/* The OUT entry's keys go (the entry stays: the authorization is the sender's
 * agent's): its word from whatever it holds, unless busy, to busy, the keys zeroed,
 * then AUTHORIZED. Tried a few times if another handler holds the word; a NACK
 * if it stays held (the agent reports the close unacknowledged). */
static __always_inline enum xchan_reason ctrl_close(struct xpkt *pkt)
{
	struct xchan_channel *ch;
	__u32 w;
	int i;

	ctrl_out_id(pkt);
	for (i = 0; i < 4; i++) {
		/* again each try: the element may have been deleted and reused */
		ch = bpf_map_lookup_elem(&xchan_channels, &pkt->id);
		if (!ch)
			break;
		w = chan_ctl(ch);
		if (w & XCHAN_CTL_BUSY)
			continue;
		if (XCHAN_CTL_STATE(w) != XCHAN_S_ESTABLISHED)
			break;
		if (!ctl_take_own(pkt, ch, w))
			continue;	/* another handler got there: read the word again */
		ch->valid = 0;
		asm volatile("" ::: "memory");
		__builtin_memset(ch->key, 0, sizeof(ch->key));
		ctl_give(ch, w | XCHAN_CTL_BUSY, (w & ~0xffU) | XCHAN_S_AUTHORIZED);
		break;
	}
	if (ch && i == 4) {
		ctrl_reply(pkt, XCHAN_T_CONNECT_NACK, XR_NACK_INTERNAL);
		return XR_NACK_INTERNAL;
	}
	cache_forget();
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
