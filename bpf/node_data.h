/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* node_data.h: messages between nodes. The sending CMM tags a message with
 * SipHash-2-4 keyed by the channel's current key (its id in the header), numbers it
 * and encapsulates it towards the peer node; the CMM on the receiving node's uplink
 * checks origin, key id, tag and sequence window, then decapsulates and delivers.
 */
#ifndef XCHAN_NODE_DATA_H
#define XCHAN_NODE_DATA_H

#include "identify.h"
#include "verify.h"
#include "siphash.h"
#include "xchan_auth.h"
#include "nhtag.h"

_Static_assert(XCHAN_MAX_INNER <= SIP_OFF_MASK, "the tag loop's offset mask keeps every offset");

#define REPLAY_WINDOW	((XCHAN_REPLAY_WORDS - 1) * 64)

/* The NH key to tag DATA to node_id with (XCHAN_T_DATA_NH), its node key's id in kid;
 * 0: SipHash-2-4 (the node does not verify NH tags, has no NH key here, or a rotation
 * is under way). NH tags only while exactly one node key is valid: during a rotation
 * (the new key installed on both nodes, then the old one retired on each) the peer may
 * not hold the newer key yet, and may have retired the older one already, since the
 * two nodes retire independently; every receiver verifies SipHash-2-4 tags, which
 * need no node key, so DATA never stops for a rotation. And only under a node key the
 * peer showed it holds (XCHAN_NH_HELD: a control message of its verified under it,
 * node_ctrl): installing a key here does not mean the peer has it yet. */
static __always_inline const struct xchan_nh_key *nh_key_tx(__u32 node_id, __u8 *kid)
{
	struct xchan_nh_id id = { .node = node_id, .dir = XCHAN_NH_TX };
	struct xchan_node *n = bpf_map_lookup_elem(&xchan_nodes, &node_id);
	const struct xchan_nh_key *k;
	__u32 s;

	if (!n || !(n->flags & XCHAN_NODE_F_NH))
		return 0;
	s = n->cur & 1;
	if (n->valid != 1U << s)	/* none, or two */
		return 0;
	id.kid = n->kid[s];
	*kid = id.kid;
	k = bpf_map_lookup_elem(&xchan_nhkeys, &id);
	return k && k->flags == XCHAN_NH_HELD ? k : 0;
}

/* The NH key that verifies DATA from node_id (entry n) under its node key kid: only
 * while that node key is one of the entry's (a retired one's NH key may not be gone
 * yet). */
static __always_inline const struct xchan_nh_key *nh_key_rx(const struct xchan_node *n,
							    __u32 node_id, __u8 kid)
{
	struct xchan_nh_id id = { .node = node_id, .kid = kid, .dir = XCHAN_NH_RX };

	if (!((n->valid & 1) && n->kid[0] == kid) && !((n->valid & 2) && n->kid[1] == kid))
		return 0;
	return bpf_map_lookup_elem(&xchan_nhkeys, &id);
}

/* SipHash-2-4 over the 40-byte header h (on the stack) and len bytes at p. Every
 * packet offset is a loop counter times a constant, or masked to the largest inner
 * packet: the verifier refused the variants whose offsets it could not bound. Words
 * are single loads (ld64), four to a bounds check: about 1000 ns against 1330 over
 * 1400 bytes in test_run (bench `mac` rows), the same tag. */
static __always_inline __u64 tag_compute(const __u8 *key, const struct xchan_hdr *h,
					 __u8 *p, __u32 len, void *end)
{
	const __u8 *hb = (const void *)h;
	__u32 words = len / 8, blocks = words / SIP_BLOCK, rem = len & 7, i, j;
	__u64 last = 0;
	struct sip s;

	sip_init(&s, ld64(key), ld64(key + 8));
	for (i = 0; i < sizeof(*h) / 8; i++)
		sip_word(&s, ld64(hb + i * 8));
	for (i = 0; i < SIP_MAX_BLOCKS; i++) {
		__u8 *q = p + i * (8 * SIP_BLOCK);

		if (i >= blocks)
			break;
		if ((void *)(q + 8 * SIP_BLOCK) > end)
			return 0;
		for (j = 0; j < SIP_BLOCK; j++)
			sip_word(&s, ld64(q + j * 8));
	}
	for (i = 0; i < SIP_BLOCK - 1; i++) {
		__u8 *q = p + ((blocks * (8 * SIP_BLOCK)) & SIP_OFF_MASK) + i * 8;

		if (i >= words % SIP_BLOCK)
			break;
		if ((void *)(q + 8) > end)
			return 0;
		sip_word(&s, ld64(q));
	}
	for (i = 0; i < 7; i++) {
		__u8 *q = p + ((words * 8) & SIP_OFF_MASK) + i;

		if (i >= rem)
			break;
		if ((void *)(q + 1) > end)
			return 0;
		last |= (__u64)*q << (8 * i);
	}
	return sip_final(&s, last, sizeof(*h) + len);
}

/* The 40-byte xchan header as five whole words (ld64, st64), one side of it a copy on
 * the stack (8-aligned, as struct xchan_hdr is), the other in the packet. */
static __always_inline void hdr_copy(void *d, const void *s)
{
	for (int i = 0; i < (int)(sizeof(struct xchan_hdr) / 8); i++)
		st64((__u8 *)d + i * 8, ld64((const __u8 *)s + i * 8));
}

/* Only ever 20 bytes: the outer header the CMM writes has no options. */
static __always_inline __u16 csum20(const struct iphdr *hdr)
{
	const __u16 *w = (const void *)hdr;
	__u32 sum = 0;

	for (int i = 0; i < (int)(sizeof(*hdr) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Outer IPv4/UDP from saddr to the peer node and the tagged xchan header h in front
 * of the inner IPv4 packet, at the MACs the agent resolved. Moves the packet: no
 * pointer into it survives. */
static __always_inline enum xchan_reason encap_write(struct xpkt *pkt,
						     const struct xchan_nexthop *nh,
						     const struct xchan_hdr *h, __u32 inner_len,
						     __be32 saddr)
{
	struct xdp_md *ctx = pkt->ctx;
	struct ethhdr *eth;
	struct iphdr *oip;
	struct udphdr *oudp;
	struct xchan_hdr *xh;
	void *end;

	/* what the partition sent past its IP packet stays here: the tag does not
	 * cover it, and the receiving CMM would drop it anyway */
	if (frame_trim(ctx, sizeof(*eth) + inner_len) || bpf_xdp_adjust_head(ctx, -XCHAN_ENCAP_LEN))
		return XR_DROP_TOO_BIG;
	eth = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	oip = (void *)(eth + 1);
	oudp = (void *)(oip + 1);
	xh = (void *)(oudp + 1);
	if ((void *)(xh + 1) > end)
		return XR_DROP_TOO_BIG;
	mac_copy(eth->h_dest, nh->dmac);
	mac_copy(eth->h_source, nh->smac);
	eth->h_proto = bpf_htons(ETH_P_IP);
	oip->version = 4;
	oip->ihl = sizeof(*oip) / 4;
	oip->tos = 0;
	oip->tot_len = bpf_htons(XCHAN_ENCAP_LEN + inner_len);
	oip->id = 0;
	oip->frag_off = bpf_htons(XCHAN_IP_DF);
	oip->ttl = XCHAN_IP_TTL;
	oip->protocol = IPPROTO_UDP;
	oip->check = 0;
	oip->saddr = saddr;
	oip->daddr = nh->addr;
	oip->check = csum20(oip);
	oudp->source = bpf_htons(ctrl_port);
	oudp->dest = bpf_htons(ctrl_port);
	oudp->len = bpf_htons(sizeof(*oudp) + sizeof(*xh) + inner_len);
	oudp->check = 0;
	hdr_copy(xh, h);
	pkt->redirect_ifindex = nh->ifindex;
	return XR_PASS_ENCAP;
}

/* No next hop for node_id: a node we do not know, or one the agent could not
 * resolve (no route, no neighbour answer; `xchan node refresh` tries again). */
static __always_inline enum xchan_reason no_nexthop(__u32 node_id)
{
	return bpf_map_lookup_elem(&xchan_nodes, &node_id) ? XR_DROP_NO_NEIGH : XR_DROP_NO_ROUTE;
}

/* A message from a local partition to dst, a partition on another node: the
 * sender's OUT entry, the next sequence number, the tag, the headers. The route
 * comes from xchan_nexthop, not from bpf_fib_lookup: that helper answers
 * FWD_DISABLED whenever the uplink has IPv4 forwarding off, and what is sent here is
 * the node's own packet, which must not depend on forwarding. */
static __always_inline enum xchan_reason node_encap(struct xpkt *pkt,
						    const struct xchan_address *dst)
{
	struct xchan_config *cfg = config();
	const struct xchan_nh_key *nk;
	struct xchan_hdr h = {};
	struct xchan_nexthop *nh;
	struct xchan_chan_counter *c;
	struct xchan_channel *k;
	const __u8 *key;
	__u32 node_id = dst->node_id, inner_len = bpf_ntohs(pkt->iph->tot_len);
	__u8 kid = 0, nkid = 0;
	__u32 ctl, slot;
	__u64 tag;

	if (!cfg || !cfg->uplink_ifindex)
		return XR_DROP_NO_ROUTE;
	nh = bpf_map_lookup_elem(&xchan_nexthop, &node_id);
	if (!nh || !nh->ifindex)
		return no_nexthop(node_id);
	xchan_chan_id_make(&pkt->id, pkt->src->part_id, bpf_ntohs(pkt->udph->source),
			   dst->part_id, bpf_ntohs(pkt->udph->dest), XCHAN_DIR_OUT);
	k = chan_established(&pkt->id, &ctl);
	if (!k)
		return XR_DROP_NO_OUT;
	key = key_cur(k, &kid);
	if (!key)
		return XR_DROP_NO_OUT;
	/* the sequence: the packets of the OUT entry's slot (the agent gives one to every
	 * OUT entry towards another node); none: authorized while the receiver was here */
	slot = XCHAN_CTL_SLOT(ctl);
	c = bpf_map_lookup_elem(&xchan_counts, &slot);
	if (!c)
		return XR_DROP_NO_OUT;
	if (inner_len > XCHAN_MAX_INNER)
		return XR_DROP_TOO_BIG;

	/* short packets keep SipHash-2-4 tags: there the two lookups for an NH key cost
	 * more than NH saves (bench rows 7 and 7n) */
	nk = inner_len >= XCHAN_NH_MIN_INNER ? nh_key_tx(node_id, &nkid) : 0;
	h.version = XCHAN_VERSION;
	h.type = nk ? XCHAN_T_DATA_NH : XCHAN_T_DATA;
	h.key_id = kid;		/* tagged with it, so covered by the tag */
	h.reason = nk ? nkid : 0;	/* so is the node key whose NH key tags it */
	h.src_part = bpf_htonl(pkt->src->part_id);
	h.dst_part = bpf_htonl(dst->part_id);
	h.src_ep = pkt->udph->source;
	h.dst_ep = pkt->udph->dest;
	h.seq = bpf_cpu_to_be64(__sync_fetch_and_add(&c->packets, 1) + 1);
	__sync_fetch_and_add(&c->bytes, inner_len);
	/* the tag covers the header with auth still zero */
	if (nk)
		tag = nh_tag(key, nk->w, &h, (void *)pkt->iph, inner_len, pkt->c.end);
	else
		tag = tag_compute(key, &h, (void *)pkt->iph, inner_len, pkt->c.end);
	xchan_put_le64(h.auth, tag);
	return encap_write(pkt, nh, &h, inner_len, cfg->self_addr);
}

/* The receiver's window: each sequence number once, none older than the window. */
static __always_inline int replay_check(const struct xchan_chan_id *id, __u64 seq, __u32 len)
{
	struct xchan_replay *r = bpf_map_lookup_elem(&xchan_replay, id);
	__u64 cur, idx, n, bit;
	int ret = XCHAN_CONT;

	/* The window lives with the key: the agent makes it (zeroed) when it stores the
	 * IN key and removes it with the key. Without one the channel is not open here. */
	if (!r)
		return XR_DROP_NO_IN;
	if (!seq)
		return XR_DROP_REPLAY;
	bpf_spin_lock(&r->lock);
	if (seq + REPLAY_WINDOW < r->top) {
		ret = XR_DROP_TOO_OLD;
		goto out;
	}
	idx = seq >> 6;
	if (seq > r->top) {
		cur = r->top >> 6;
		n = idx - cur;
		for (__u32 i = 1; i <= XCHAN_REPLAY_WORDS; i++) {
			if (i > n)
				break;
			r->bits[(cur + i) & (XCHAN_REPLAY_WORDS - 1)] = 0;
		}
		r->top = seq;
	}
	bit = 1ULL << (seq & 63);
	if (r->bits[idx & (XCHAN_REPLAY_WORDS - 1)] & bit) {
		ret = XR_DROP_REPLAY;
	} else {
		r->bits[idx & (XCHAN_REPLAY_WORDS - 1)] |= bit;
		r->packets++;	/* the channel's counters, under the lock it holds */
		r->bytes += len;
	}
out:
	bpf_spin_unlock(&r->lock);
	return ret;
}

/* The inner packet is IPv4/UDP of exactly the length the outer UDP gives, between
 * the ports the xchan header names. */
static __always_inline int inner_check(const struct xpkt *pkt, __u32 inner_len)
{
	struct iphdr *iph = (void *)(pkt->xh + 1);
	struct udphdr *udph = (void *)(iph + 1);

	if (inner_len < sizeof(*iph) + sizeof(*udph) || inner_len > XCHAN_MAX_INNER ||
	    (void *)(udph + 1) > pkt->c.end)
		return XR_DROP_MALFORMED_INNER;
	/* no fragment either: the sending CMM sends none, and a partition behind
	 * --isolated must not get one that only a peer's host could have made */
	if (iph->version != 4 || iph->ihl != sizeof(*iph) / 4 ||
	    bpf_ntohs(iph->tot_len) != inner_len || iph->protocol != IPPROTO_UDP ||
	    (iph->frag_off & bpf_htons(XCHAN_IP_FRAG_MASK)) ||
	    bpf_ntohs(udph->len) != inner_len - sizeof(*iph) ||
	    udph->source != pkt->xh->src_ep || udph->dest != pkt->xh->dst_ep)
		return XR_DROP_MALFORMED_INNER;
	return XCHAN_CONT;
}

/* Tag (constant time) and window of a DATA message for the IN entry pkt->id, under
 * the key the header names: one of IN's slots holding exactly that id, else the key
 * was retired (or never installed); with NH tags (nh), also under the NH key of the
 * node key the header names, nk (0: that node key is not one of the node's). The
 * window is the channel's, not the key's: the sender's sequence continues across a
 * rekey. */
static __always_inline int tag_verify(struct xpkt *pkt, const struct xchan_channel *k,
				      __u32 slot, __u32 inner_len, int nh,
				      const struct xchan_nh_key *nk)
{
	const __u8 *key = key_of_id(k, pkt->xh->key_id);
	struct xchan_hdr h;
	__u64 tag;
	int r;

	if (!key || (nh && !nk)) {
		slot_count(slot, 0, 1);
		/* an NH tag under a node key this node does not hold (not yet, or no
		 * more): the sender's and our rotations out of step */
		return key ? XR_DROP_NH_NO_KEY : XR_DROP_KEY_RETIRED;
	}
	hdr_copy(&h, pkt->xh);
	__builtin_memset(h.auth, 0, sizeof(h.auth));
	if (nh && nk)
		tag = nh_tag(key, nk->w, &h, (void *)(pkt->xh + 1), inner_len, pkt->c.end);
	else
		tag = tag_compute(key, &h, (void *)(pkt->xh + 1), inner_len, pkt->c.end);
	/* the whole word at once, no early exit; auth[8..15] is sent as zero and must be
	 * (nothing else may vary unseen); a computation that failed returns 0 */
	if (((tag ^ ld64(pkt->xh->auth)) | ld64(pkt->xh->auth + 8)) != 0 || !tag) {
		slot_count(slot, 0, 1);
		return XR_DROP_BAD_TAG;
	}
	r = replay_check(&pkt->id, bpf_be64_to_cpu(pkt->xh->seq), inner_len);
	if (r != XCHAN_CONT)
		slot_count(slot, 0, 1);
	return r;
}

/* Strip the outer headers, and whatever follows the inner packet (the tag covers
 * inner_len bytes: a trailer the fabric added must not reach the partition); the
 * inner frame is addressed to dst's MAC, from a locally administered twin of it (not
 * the partition's own). */
static __always_inline enum xchan_reason node_decap(struct xpkt *pkt,
						    const struct xchan_address *dst,
						    __u32 inner_len)
{
	struct xdp_md *ctx = pkt->ctx;
	struct ethhdr *eth;
	__u8 dmac[8] __attribute__((aligned(8)));	/* aligned: mac_copy from the stack */

	mac_copy(dmac, dst->mac);
	pkt->redirect_ifindex = dst->ifindex;
	if (frame_trim(ctx, XCHAN_ENCAP_LEN + sizeof(*eth) + inner_len) ||
	    bpf_xdp_adjust_head(ctx, XCHAN_ENCAP_LEN))
		return XR_DROP_MALFORMED_INNER;
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return XR_DROP_MALFORMED_INNER;
	mac_copy(eth->h_dest, dmac);
	mac_copy(eth->h_source, dmac);
	eth->h_source[0] ^= 0x02;	/* the locally administered bit */
	eth->h_proto = bpf_htons(ETH_P_IP);
	return XR_PASS_DECAP;
}

/* DATA from another node, for a local partition: the inner source is the claimed
 * partition and lives on the node the packet comes from; the receiver holds the
 * channel's IN entry and the key the header names; tag and window hold. */
static __always_inline enum xchan_reason node_recv(struct xpkt *pkt)
{
	struct xchan_hdr *xh = pkt->xh;
	struct iphdr *iph = (void *)(xh + 1);
	__u32 inner_len = bpf_ntohs(pkt->udph->len) - sizeof(struct udphdr) - sizeof(*xh);
	__u32 src_part = bpf_ntohl(xh->src_part), dst_part = bpf_ntohl(xh->dst_part);
	const struct xchan_nh_key *nk = 0;
	int nh = xh->type == XCHAN_T_DATA_NH;
	struct xchan_address *src, *dst;
	struct xchan_node *node;
	struct xchan_channel *k;
	__u32 node_id = 0, ctl;
	__be32 isaddr, idaddr;
	int r;

	r = inner_check(pkt, inner_len);
	if (r != XCHAN_CONT)
		return r;
	isaddr = iph->saddr;
	idaddr = iph->daddr;
	src = bpf_map_lookup_elem(&xchan_addrs, &isaddr);
	node = src ? node_of(src_part, pkt->saddr, &node_id) : 0;
	if (!src || src->part_id != src_part || !node)
		return audit(pkt, XCHAN_E_BAD_ORIGIN, XR_DROP_BAD_ORIGIN);
	if (nh)
		nk = nh_key_rx(node, node_id, xh->reason);
	dst = bpf_map_lookup_elem(&xchan_addrs, &idaddr);
	if (!dst || dst->node_id || dst->part_id != dst_part)
		return XR_DROP_NO_IN;
	xchan_chan_id_make(&pkt->id, dst_part, bpf_ntohs(xh->dst_ep), src_part,
			   bpf_ntohs(xh->src_ep), XCHAN_DIR_IN);
	k = chan_established(&pkt->id, &ctl);
	if (!k)
		return XR_DROP_NO_IN;
	r = tag_verify(pkt, k, XCHAN_CTL_SLOT(ctl), inner_len, nh, nk);
	if (r != XCHAN_CONT)
		return r;
	return node_decap(pkt, dst, inner_len);
}

#endif /* XCHAN_NODE_DATA_H */
