/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* nic.h: between nodes. The sending CMM tags a message with SipHash-2-4 keyed by
 * the channel key, numbers it and encapsulates it towards the peer node; the CMM on
 * the receiving node's uplink checks origin, tag and sequence window, decapsulates
 * and delivers. CONNECT and CLOSE between nodes carry the key wrapped and are
 * authenticated with the node-pair key. */
#ifndef XCHAN_NIC_H
#define XCHAN_NIC_H

#include "parse.h"
#include "stats.h"
#include "channel.h"
#include "control.h"
#include "siphash.h"

#define SIP_MAX_WORDS	(XCHAN_MAX_INNER / 8 + 1)
#define REPLAY_WINDOW	((XCHAN_REPLAY_WORDS - 1) * 64)
#define OFF_INNER	(14 + XCHAN_ENCAP_LEN)	/* inner IPv4 behind outer eth/ip/udp/xchan */

static __always_inline __u64 key_half(const __u8 *k)
{
	return sip_le64(k);
}

/* SipHash-2-4 over the 40-byte header h (on the stack) and len bytes at p. */
static __always_inline __u64 tag_compute(const __u8 *key, const struct xchan_hdr *h,
					 __u8 *p, __u32 len, void *end)
{
	const __u8 *hb = (const void *)h;
	__u32 words = len / 8, rem = len & 7, i;
	__u64 last = 0;
	struct sip s;

	sip_init(&s, key_half(key), key_half(key + 8));
	for (i = 0; i < 5; i++)
		sip_word(&s, sip_le64(hb + i * 8));
	for (i = 0; i < SIP_MAX_WORDS; i++) {
		__u8 *q = p + i * 8;
		__u64 w;

		if (i >= words)
			break;
		if ((void *)(q + 8) > end)
			return 0;
		__builtin_memcpy(&w, q, 8);	/* little-endian: the word as SipHash reads it */
		sip_word(&s, w);
	}
	for (i = 0; i < 7; i++) {
		__u8 *q = p + words * 8 + i;

		if (i >= rem)
			break;
		if ((void *)(q + 1) > end)
			return 0;
		last |= (__u64)*q << (8 * i);
	}
	return sip_final(&s, last, sizeof(*h) + len);
}

static __always_inline void put_le64(__u8 *b, __u64 v)
{
	for (int i = 0; i < 8; i++)
		b[i] = v >> (8 * i);
}

static __always_inline __u16 csum20(const void *hdr)
{
	const __u16 *w = hdr;
	__u32 sum = 0;

	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __always_inline struct xchan_config *config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xchan_config, &zero);
}

/* A message from a local partition to a partition on another node. */
static __always_inline int send_remote(struct xdp_md *ctx, struct iphdr *iph,
				       struct udphdr *udph, const struct xchan_partition *p,
				       const struct xchan_address *dst)
{
	struct xchan_config *cfg = config();
	struct bpf_fib_lookup fib = {};
	struct xchan_chan_id out_id;
	struct xchan_channel *ch;
	struct xchan_node *node;
	struct xchan_key *k;
	struct xchan_hdr h = {};
	struct ethhdr *eth;
	struct iphdr *oip;
	struct udphdr *oudp;
	struct xchan_hdr *xh;
	__u32 node_id = dst->node_id, inner_len = bpf_ntohs(iph->tot_len);
	__u64 seq, tag;
	void *data, *end;
	long rc;

	if (!cfg || !cfg->uplink_ifindex)
		return verdict(ctx, XR_DROP_NO_ROUTE, XDP_DROP, iph->saddr, iph->daddr);
	node = bpf_map_lookup_elem(&xchan_nodes, &node_id);
	if (!node)
		return verdict(ctx, XR_DROP_NO_ROUTE, XDP_DROP, iph->saddr, iph->daddr);
	chan_id_make_bpf(&out_id, p->part_id, bpf_ntohs(udph->source), dst->part_id,
			 bpf_ntohs(udph->dest), XCHAN_DIR_OUT);
	k = bpf_map_lookup_elem(&xchan_keys, &out_id);
	ch = bpf_map_lookup_elem(&xchan_channels, &out_id);
	if (!k || !ch)
		return verdict(ctx, XR_DROP_NO_OUT, XDP_DROP, iph->saddr, iph->daddr);
	if (inner_len > XCHAN_MAX_INNER)
		return verdict(ctx, XR_DROP_TOO_BIG, XDP_DROP, iph->saddr, iph->daddr);

	seq = __sync_fetch_and_add(&ch->seq, 1) + 1;
	h.version = XCHAN_VERSION;
	h.type = XCHAN_T_DATA;
	h.src_part = bpf_htonl(p->part_id);
	h.dst_part = bpf_htonl(dst->part_id);
	h.src_ep = udph->source;
	h.dst_ep = udph->dest;
	h.seq = bpf_cpu_to_be64(seq);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	tag = tag_compute(k->key, &h, data + sizeof(*eth), inner_len, end);

	fib.family = 2;	/* AF_INET */
	fib.l4_protocol = IPPROTO_UDP;
	fib.tot_len = inner_len + XCHAN_ENCAP_LEN;
	fib.ipv4_src = cfg->self_addr;
	fib.ipv4_dst = node->addr;
	fib.ifindex = cfg->uplink_ifindex;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return verdict(ctx, XR_DROP_NO_ROUTE, XDP_DROP, 0, 0);

	if (bpf_xdp_adjust_head(ctx, -XCHAN_ENCAP_LEN))
		return verdict(ctx, XR_DROP_TOO_BIG, XDP_DROP, 0, 0);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	oip = data + sizeof(*eth);
	oudp = (void *)(oip + 1);
	xh = (void *)(oudp + 1);
	if ((void *)(xh + 1) > end)
		return verdict(ctx, XR_DROP_TOO_BIG, XDP_DROP, 0, 0);
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);
	oip->version = 4;
	oip->ihl = 5;
	oip->tos = 0;
	oip->tot_len = bpf_htons(XCHAN_ENCAP_LEN + inner_len);
	oip->id = 0;
	oip->frag_off = bpf_htons(0x4000);	/* DF */
	oip->ttl = 64;
	oip->protocol = IPPROTO_UDP;
	oip->check = 0;
	oip->saddr = cfg->self_addr;
	oip->daddr = node->addr;
	oip->check = csum20(oip);
	oudp->source = bpf_htons(ctrl_port);
	oudp->dest = bpf_htons(ctrl_port);
	oudp->len = bpf_htons(sizeof(*oudp) + sizeof(*xh) + inner_len);
	oudp->check = 0;
	__builtin_memcpy(xh, &h, sizeof(h));
	put_le64(xh->auth, tag);
	return verdict(ctx, XR_PASS_ENCAP, bpf_redirect(fib.ifindex, 0), 0, 0);
}

/* The receiver's window: each sequence number once, none older than the window. */
static __always_inline int replay_check(const struct xchan_chan_id *id, __u64 seq)
{
	struct xchan_replay *r = bpf_map_lookup_elem(&xchan_replay, id);
	__u64 cur, idx, n, bit;
	int ret = XCHAN_CONT;

	if (!r) {
		struct xchan_replay z = {};

		/* created only once a tag has verified: no stranger can fill this map */
		bpf_map_update_elem(&xchan_replay, id, &z, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&xchan_replay, id);
		if (!r)
			return XR_DROP_REPLAY;
	}
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
	if (r->bits[idx & (XCHAN_REPLAY_WORDS - 1)] & bit)
		ret = XR_DROP_REPLAY;
	else
		r->bits[idx & (XCHAN_REPLAY_WORDS - 1)] |= bit;
out:
	bpf_spin_unlock(&r->lock);
	return ret;
}

/* Does the outer source address belong to the node that hosts partition part? */
static __always_inline int from_node_of(__u32 part, __be32 saddr, struct xchan_node **nodep)
{
	struct xchan_part_meta *m = bpf_map_lookup_elem(&xchan_partmeta, &part);
	struct xchan_node *node;
	__u32 node_id;

	if (!m || !m->node_id)
		return 0;
	node_id = m->node_id;
	node = bpf_map_lookup_elem(&xchan_nodes, &node_id);
	if (!node || node->addr != saddr)
		return 0;
	if (nodep)
		*nodep = node;
	return 1;
}

static __always_inline int recv_data(struct xdp_md *ctx, struct iphdr *oip,
				     struct udphdr *oudp, struct xchan_hdr *xh, void *end)
{
	struct xchan_chan_id in_id;
	struct xchan_address *src, *dst;
	struct xchan_key *k;
	struct xchan_hdr h;
	struct iphdr *iph = (void *)(xh + 1);
	struct udphdr *udph = (void *)(iph + 1);
	struct ethhdr *eth;
	__u32 inner_len = bpf_ntohs(oudp->len) - sizeof(*oudp) - sizeof(*xh);
	__u32 src_part = bpf_ntohl(xh->src_part), dst_part = bpf_ntohl(xh->dst_part);
	__be32 isaddr, idaddr;
	__u64 tag, got;
	__u32 dst_ifindex;
	__u8 dmac[ETH_ALEN];
	int r;

	if (inner_len < sizeof(*iph) + sizeof(*udph) || inner_len > XCHAN_MAX_INNER ||
	    (void *)(udph + 1) > end)
		return verdict(ctx, XR_DROP_MALFORMED_INNER, XDP_DROP, oip->saddr, oip->daddr);
	if (iph->version != 4 || iph->ihl != 5 || bpf_ntohs(iph->tot_len) != inner_len ||
	    iph->protocol != IPPROTO_UDP || udph->source != xh->src_ep || udph->dest != xh->dst_ep)
		return verdict(ctx, XR_DROP_MALFORMED_INNER, XDP_DROP, oip->saddr, oip->daddr);
	isaddr = iph->saddr;
	idaddr = iph->daddr;
	/* the inner source is the claimed partition, and it lives where the packet comes from */
	src = bpf_map_lookup_elem(&xchan_addrs, &isaddr);
	if (!src || src->part_id != src_part || !from_node_of(src_part, oip->saddr, NULL)) {
		emit_event(ctx, XCHAN_E_BAD_ORIGIN, XR_DROP_BAD_ORIGIN, oip->saddr, oip->daddr,
			   xh->type, 0);
		return verdict(ctx, XR_DROP_BAD_ORIGIN, XDP_DROP, oip->saddr, oip->daddr);
	}
	dst = bpf_map_lookup_elem(&xchan_addrs, &idaddr);
	if (!dst || dst->node_id || dst->part_id != dst_part)
		return verdict(ctx, XR_DROP_NO_IN, XDP_DROP, oip->saddr, oip->daddr);
	chan_id_make_bpf(&in_id, dst_part, bpf_ntohs(xh->dst_ep), src_part, bpf_ntohs(xh->src_ep),
			 XCHAN_DIR_IN);
	k = bpf_map_lookup_elem(&xchan_keys, &in_id);
	if (!k)
		return verdict(ctx, XR_DROP_NO_IN, XDP_DROP, oip->saddr, oip->daddr);
	__builtin_memcpy(&h, xh, sizeof(h));
	__builtin_memset(h.auth, 0, sizeof(h.auth));
	tag = tag_compute(k->key, &h, (void *)iph, inner_len, end);
	got = sip_le64(xh->auth);
	if ((tag ^ got) != 0) {		/* one comparison of the whole word: no early exit */
		chan_count(&in_id, 0, 1);
		return verdict(ctx, XR_DROP_BAD_TAG, XDP_DROP, oip->saddr, oip->daddr);
	}
	r = replay_check(&in_id, bpf_be64_to_cpu(xh->seq));
	if (r != XCHAN_CONT) {
		chan_count(&in_id, 0, 1);
		return verdict(ctx, r, XDP_DROP, oip->saddr, oip->daddr);
	}
	chan_count(&in_id, inner_len, 0);
	__builtin_memcpy(dmac, dst->mac, ETH_ALEN);
	dst_ifindex = dst->ifindex;
	if (bpf_xdp_adjust_head(ctx, XCHAN_ENCAP_LEN))
		return verdict(ctx, XR_DROP_MALFORMED_INNER, XDP_DROP, 0, 0);
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return verdict(ctx, XR_DROP_MALFORMED_INNER, XDP_DROP, 0, 0);
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, dmac, ETH_ALEN);
	eth->h_source[0] ^= 0x02;	/* locally administered, not the partition's own */
	eth->h_proto = bpf_htons(ETH_P_IP);
	return verdict(ctx, XR_PASS_DECAP, bpf_redirect_map(&xchan_devmap, dst_ifindex, 0), 0, 0);
}

/* SipHash-2-4 of the 40-byte header alone. */
static __always_inline __u64 hdr_mac(const __u8 *key, const struct xchan_hdr *h)
{
	return tag_compute(key, h, 0, 0, 0);
}

/* The 8 bytes of keystream i (1, 2) for nonce: SipHash(k_enc, nonce || i). */
static __always_inline __u64 keystream(const __u8 *k_enc, __u64 nonce, __u8 i)
{
	struct sip s;

	sip_init(&s, key_half(k_enc), key_half(k_enc + 8));
	sip_word(&s, nonce);
	return sip_final(&s, i, 9);
}

/* CONNECT/CLOSE from another node: authenticated by the pair key of the node that
 * hosts the claimed source partition, fresh nonce, key unwrapped, then the same
 * checks as on the trusted path; the answer is signed for the peer's agent. */
static __always_inline int node_ctrl(struct xdp_md *ctx, struct ethhdr *eth, struct iphdr *oip,
				     struct udphdr *oudp, struct xchan_hdr *xh, void *end)
{
	struct xchan_ctrl_trailer *t = (void *)(xh + 1);
	struct xchan_node *node = NULL;
	struct xchan_hdr h;
	__u64 nonce, last, mac;
	int ret;

	if (bpf_ntohs(oudp->len) < sizeof(*oudp) + sizeof(*xh) + sizeof(*t) || (void *)(t + 1) > end)
		return verdict(ctx, XR_DROP_CTRL_MALFORMED, XDP_DROP, oip->saddr, oip->daddr);
	if (!from_node_of(bpf_ntohl(xh->src_part), oip->saddr, &node) || !node) {
		emit_event(ctx, XCHAN_E_BAD_ORIGIN, XR_DROP_BAD_ORIGIN, oip->saddr, oip->daddr,
			   xh->type, 0);
		return verdict(ctx, XR_DROP_BAD_ORIGIN, XDP_DROP, oip->saddr, oip->daddr);
	}
	__builtin_memcpy(&h, xh, sizeof(h));
	mac = hdr_mac(node->pair_key + 16, &h);
	if ((mac ^ sip_le64(t->tag)) != 0) {
		emit_event(ctx, XCHAN_E_BAD_AUTH, XR_DROP_CTRL_BAD_AUTH, oip->saddr, oip->daddr,
			   xh->type, 0);
		return verdict(ctx, XR_DROP_CTRL_BAD_AUTH, XDP_DROP, oip->saddr, oip->daddr);
	}
	nonce = bpf_be64_to_cpu(xh->seq);
	last = node->last_nonce;
	if (nonce <= last || __sync_val_compare_and_swap(&node->last_nonce, last, nonce) != last) {
		emit_event(ctx, XCHAN_E_BAD_AUTH, XR_DROP_REPLAY, oip->saddr, oip->daddr, xh->type, 0);
		return verdict(ctx, XR_DROP_REPLAY, XDP_DROP, oip->saddr, oip->daddr);
	}
	if (xh->type == XCHAN_T_CONNECT) {
		/* unwrap in place; ctrl_reply() wipes it from the answer */
		put_le64(xh->auth, sip_le64(xh->auth) ^ keystream(node->pair_key, nonce, 1));
		put_le64(xh->auth + 8, sip_le64(xh->auth + 8) ^ keystream(node->pair_key, nonce, 2));
		ret = handle_connect(ctx, eth, oip, oudp, xh);
	} else {
		ret = handle_close(ctx, eth, oip, oudp, xh);
	}
	/* the answer keeps the nonce and is signed with the pair key */
	xh->seq = bpf_cpu_to_be64(nonce);
	__builtin_memcpy(&h, xh, sizeof(h));
	put_le64(t->tag, hdr_mac(node->pair_key + 16, &h));
	return ret;
}

/* Everything that arrives on the uplink. Only xchan's own port is ours to judge,
 * and traffic to isolated partitions. */
static __always_inline int handle_uplink(struct xdp_md *ctx, struct cursor *c, struct ethhdr *eth)
{
	struct xchan_address *dst;
	struct udphdr *udph;
	struct iphdr *iph;
	struct xchan_hdr *xh;
	__be32 daddr;
	int r;

	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return verdict(ctx, XR_PASS_UPLINK, XDP_PASS, 0, 0);
	if (parse_ipv4(c, &iph) != XCHAN_CONT)
		return verdict(ctx, XR_PASS_UPLINK, XDP_PASS, 0, 0);
	daddr = iph->daddr;
	if (iph->protocol != IPPROTO_UDP || parse_udp(c, iph, &udph) != XCHAN_CONT ||
	    udph->dest != bpf_htons(ctrl_port)) {
		dst = bpf_map_lookup_elem(&xchan_addrs, &daddr);
		if (dst && !dst->node_id && (dst->flags & XCHAN_PART_ISOLATED))
			return verdict(ctx, XR_DROP_ISOLATED, XDP_DROP, iph->saddr, iph->daddr);
		return verdict(ctx, XR_PASS_UPLINK, XDP_PASS, 0, 0);
	}
	if (bpf_ntohs(udph->len) < sizeof(*udph) + sizeof(*xh))
		return verdict(ctx, XR_DROP_CTRL_MALFORMED, XDP_DROP, iph->saddr, iph->daddr);
	r = parse_xchan(c, &xh);
	if (r != XCHAN_CONT)
		return verdict(ctx, r, XDP_DROP, iph->saddr, iph->daddr);
	switch (xh->type) {
	case XCHAN_T_DATA:
		return recv_data(ctx, iph, udph, xh, c->end);
	case XCHAN_T_CONNECT:
	case XCHAN_T_CLOSE:
		return node_ctrl(ctx, eth, iph, udph, xh, c->end);
	case XCHAN_T_CONNECT_ACK:
	case XCHAN_T_CONNECT_NACK:
	case XCHAN_T_CLOSE_ACK:
		/* for the agent's socket, which checks the pair-key signature itself */
		return verdict(ctx, XR_CTRL_REPLY, XDP_PASS, 0, 0);
	default:
		return verdict(ctx, XR_DROP_CTRL_MALFORMED, XDP_DROP, iph->saddr, iph->daddr);
	}
}

#endif /* XCHAN_NIC_H */
