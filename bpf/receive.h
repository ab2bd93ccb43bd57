/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* receive.h: the receive side, TC egress on each partition's host-side veth: what the
 * host stack delivers into a partition (bridged, routed, NATed, flooded; what the CMM
 * redirects never passes here). Whatever came from another partition gets in only as
 * a verified channel message; an isolated partition gets nothing else but ARP and
 * neighbour discovery with its gateway.
 */
#ifndef XCHAN_RECEIVE_H
#define XCHAN_RECEIVE_H

#include "rx_origin.h"
#include "verify.h"

static __always_inline int rx_isolated(const struct rxpkt *rx)
{
	return rx->dst->flags & XCHAN_PART_ISOLATED;
}

/* ARP from another partition: only a request for the receiver's address or a reply
 * to it, of exactly the shape the send side lets out (parse_arp): the 28-byte body,
 * then nothing or zero padding to 60 bytes; sha its Ethernet source; a request's tha
 * zero and a reply's the receiver's MAC; to the broadcast or the receiver's MAC. What
 * is left to choose is a few bits a frame (DESIGN 3.6). */
static __always_inline int rx_arp_from_partition_ok(struct rxpkt *rx,
						    const struct arp_eth_ipv4 *a)
{
	struct arp_pad pad;
	__u32 d4;
	__u16 d2;

	if (rx->skb->len != XCHAN_ARP_FRAME_LEN) {
		if (rx->skb->len != XCHAN_ARP_FRAME_LEN + XCHAN_ARP_PAD_LEN ||
		    bpf_skb_load_bytes(rx->skb, XCHAN_ARP_FRAME_LEN, &pad, sizeof(pad)) ||
		    !arp_pad_zero(&pad))
			return 0;
	}
	if (!arp_shape_ok(a) || a->tpa != rx->dst->ip || !mac_equal_any(a->sha, rx->eth.h_source))
		return 0;
	if (a->oper == bpf_htons(XCHAN_ARP_REPLY) && !mac_equal_any(a->tha, rx->dst->mac))
		return 0;
	__builtin_memcpy(&d4, rx->eth.h_dest, 4);
	__builtin_memcpy(&d2, rx->eth.h_dest + 4, 2);
	return (d4 == 0xffffffff && d2 == 0xffff) || mac_equal_any(rx->eth.h_dest, rx->dst->mac);
}

/* ARP for the receiver's own address passes (a bridged channel sender must resolve
 * it), from a partition only in the shape above; other ARP only to a partition that
 * is not isolated; to an isolated one, from no partition only what the host made. */
static __always_inline enum xchan_reason rx_arp(struct rxpkt *rx, __u32 origin)
{
	struct arp_eth_ipv4 a;

	if (bpf_skb_load_bytes(rx->skb, ETH_HLEN, &a, sizeof(a)) || !arp_eth_ipv4_ok(&a))
		return XR_DROP_RX_ARP;
	if (origin)
		return rx_arp_from_partition_ok(rx, &a) ? XR_PASS_RX_ARP : XR_DROP_RX_ARP;
	if (!rx_isolated(rx))
		return XR_PASS_RX_ARP;
	/* an isolated partition's neighbours are the host (its gateway) and, for
	 * --forward pass, its channel peers: a stranger on the bridge must not
	 * redirect its messages by poisoning its cache */
	if (a.tpa == rx->dst->ip && !rx->skb->ingress_ifindex)
		return XR_PASS_RX_ARP;
	return XR_DROP_RX_ARP;
}

/* Neighbour discovery as the host, the isolated partition's gateway, sends it: made
 * by the host itself (no ingress interface: nothing bridged from a neighbour),
 * ICMPv6 135/136 or a router advertisement (134), never a redirect (137, which can
 * carry a whole packet), with hop limit 255 (no extension headers), and short. The
 * caller has ruled out a partition as its sender. */
static __always_inline int rx_nd(struct rxpkt *rx)
{
	struct {
		struct ipv6hdr ip6;
		__u8 type;
	} __attribute__((packed)) h;

	if (rx->skb->ingress_ifindex || rx->skb->len > XCHAN_ND_MAX_LEN)
		return 0;
	if (bpf_skb_load_bytes(rx->skb, ETH_HLEN, &h, sizeof(h)))
		return 0;
	return h.ip6.nexthdr == XCHAN_ICMPV6 && h.ip6.hop_limit == XCHAN_ND_HOP_LIMIT &&
	       (h.type == XCHAN_ND_RA || h.type == XCHAN_ND_NS || h.type == XCHAN_ND_NA);
}

/* A message from partition rx->origin. Allowed ones are redirected by the sender's
 * CMM and never come this way, except with --forward pass: then it must have entered
 * the host on the sender's own veth (so the sender's CMM saw it), be UDP to the
 * receiver's registered address, and both ends must hold the same key. */
static __always_inline enum xchan_reason rx_channel(struct rxpkt *rx)
{
	const struct xchan_address *o = rx->oaddr;
	struct xchan_chan_id out_id;
	struct xchan_channel *kout, *kin;
	struct udphdr u;
	__u32 octl, ictl;

	if (fwd_redirect || !o || o->node_id || o->part_id != rx->origin ||
	    rx->skb->ingress_ifindex != o->ifindex)
		return XR_DROP_RX_NOT_CHANNEL;
	if (rx->ip.ihl != 5 || (rx->ip.frag_off & bpf_htons(XCHAN_IP_FRAG_MASK)) ||
	    rx->ip.protocol != IPPROTO_UDP || rx->ip.daddr != rx->dst->ip)
		return XR_DROP_RX_NOT_CHANNEL;
	if (bpf_skb_load_bytes(rx->skb, ETH_HLEN + sizeof(struct iphdr), &u, sizeof(u)))
		return XR_DROP_RX_MALFORMED;
	xchan_chan_id_make(&out_id, o->part_id, bpf_ntohs(u.source), rx->dst->part_id,
			   bpf_ntohs(u.dest), XCHAN_DIR_OUT);
	xchan_chan_id_make(&rx->id, rx->dst->part_id, bpf_ntohs(u.dest), o->part_id,
			   bpf_ntohs(u.source), XCHAN_DIR_IN);
	kout = chan_established(&out_id, &octl);
	kin = chan_established(&rx->id, &ictl);
	if (!kout || !kin)
		return XR_DROP_RX_NO_CHANNEL;
	if (!keys_agree(kout, kin))
		return XR_DROP_RX_KEY_MISMATCH;
	return XR_PASS_RX_CHANNEL;
}

static __always_inline int rx_from_uplink(const struct rxpkt *rx)
{
	struct xchan_config *cfg = config();

	return cfg && cfg->uplink_ifindex && cfg->uplink_ifindex == rx->skb->ingress_ifindex;
}

static __always_inline int rx_to_everyone(const struct rxpkt *rx)
{
	__be32 d = rx->ip.daddr;

	return (rx->eth.h_dest[0] & 1) || IN_MULTICAST(bpf_ntohl(d)) ||
	       d == bpf_htonl(INADDR_BROADCAST);
}

/* IPv4: from a partition only as a channel message; from anywhere else only to a
 * partition that is not isolated. */
static __always_inline enum xchan_reason rx_ipv4(struct rxpkt *rx, __u32 origin)
{
	__u32 ip_origin;

	if (bpf_skb_load_bytes(rx->skb, ETH_HLEN, &rx->ip, sizeof(rx->ip)) ||
	    rx->ip.version != 4 || rx->ip.ihl < 5)
		return XR_DROP_RX_MALFORMED;
	/* by address too when the link named it: a channel needs both to agree */
	ip_origin = origin_by_ip(rx, rx->ip.saddr);
	if (!origin)
		origin = ip_origin;
	/* A fragment's origin cannot be established: a non-first one has no ports for
	 * conntrack, and the host may have made it (refragmenting what it reassembled
	 * and NATed) with its own address as source. Only one that entered the host
	 * on the uplink is known to come from outside (the host keeps ingress_ifindex
	 * only on fragments it forwards as they came; those it makes have none); none
	 * other gets in, as none gets out (parse_ipv4: drop_fragment), and a datagram
	 * missing one fragment is never delivered. */
	if (!origin && (rx->ip.frag_off & bpf_htons(XCHAN_IP_FRAG_MASK)) && !rx_isolated(rx) &&
	    !rx_from_uplink(rx))
		return XR_DROP_RX_FRAGMENT;
	if (!origin && !rx_isolated(rx)) {
		rx->origin = origin_conntrack(rx);
		if (rx->origin)
			return XR_DROP_RX_NAT;
	}
	if (!origin)
		return rx_isolated(rx) ? XR_DROP_RX_ISOLATED : XR_PASS_RX_EXTERNAL;
	rx->origin = origin;
	if (rx_to_everyone(rx))
		return XR_DROP_RX_BCAST;
	return rx_channel(rx);
}

/* The order matters: the receiver's isolation is known before anything past the
 * Ethernet header is read, and it decides what may be parsed at all. */
static __always_inline enum xchan_reason receive(struct rxpkt *rx)
{
	__u32 ifindex = rx->skb->ifindex, origin;

	rx->dst = bpf_map_lookup_elem(&xchan_partition, &ifindex);
	if (!rx->dst)
		return XR_DROP_UNKNOWN_IFACE;
	if (bpf_skb_load_bytes(rx->skb, 0, &rx->eth, sizeof(rx->eth)))
		return XR_DROP_RX_MALFORMED;
	origin = origin_l2(rx);
	rx->origin = origin;
	switch (rx->eth.h_proto) {
	case bpf_htons(ETH_P_ARP):
		return rx_arp(rx, origin);
	case bpf_htons(ETH_P_IP):
		return rx_ipv4(rx, origin);
	case bpf_htons(ETH_P_IPV6):
		/* no IPv6 channels yet: nothing between partitions */
		if (origin)
			return XR_DROP_RX_IPV6;
		if (rx_isolated(rx))
			return rx_nd(rx) ? XR_PASS_RX_ND : XR_DROP_RX_ISOLATED;
		return XR_PASS_RX_EXTERNAL;
	default:
		if (origin)
			return XR_DROP_RX_OTHER_L3;
		return rx_isolated(rx) ? XR_DROP_RX_ISOLATED : XR_PASS_RX_EXTERNAL;
	}
}

/* Refusals of what a partition sent: each one is audited (within its budget). */
static __always_inline int rx_refusal(__u32 reason)
{
	switch (reason) {
	case XR_DROP_RX_BCAST:
	case XR_DROP_RX_NOT_CHANNEL:
	case XR_DROP_RX_NO_CHANNEL:
	case XR_DROP_RX_KEY_MISMATCH:
	case XR_DROP_RX_NAT:
	case XR_DROP_RX_IPV6:
	case XR_DROP_RX_OTHER_L3:
		return 1;
	default:
		return 0;
	}
}

static __always_inline int rx_pass(__u32 reason)
{
	return reason == XR_PASS_RX_CHANNEL || reason == XR_PASS_RX_EXTERNAL ||
	       reason == XR_PASS_RX_ARP || reason == XR_PASS_RX_ND;
}

/* The receive side's one exit: count, audit refusals, sample other drops, act. An
 * event is charged to the partition whose veth the frame entered on, else to the
 * interface a claimed origin came in by, else to the receiver. */
static __always_inline int rx_verdict(struct rxpkt *rx, __u32 reason)
{
	struct xchan_counter *c = bpf_map_lookup_elem(&xchan_stats, &reason);
	int refusal = rx_refusal(reason);
	__u64 n = 0, addrs = 0, src;

	if (c) {
		n = c->packets++;
		c->bytes += rx->skb->len;
	}
	if (rx->dst && reason != XR_PASS_RX_CHANNEL)
		part_count(rx->dst->part_id, reason, rx->skb->len);
	if (rx_pass(reason))
		return TC_ACT_OK;
	if (refusal || !(n & ((1ULL << drop_sample_shift) - 1))) {
		if (rx->eth.h_proto == bpf_htons(ETH_P_IP))
			addrs = EV_ADDRS(rx->ip.saddr, rx->ip.daddr);
		/* a partition pays only for what entered on its own veth: anyone can
		 * claim its MAC or address, and would spend its budget (and hide its
		 * own refusals); a claim pays on the interface it came in by */
		src = rx->origin && rx->origin_by_link ? EV_SRC(XCHAN_SRC_PART, rx->origin) :
		      rx->origin ? EV_SRC(XCHAN_SRC_IFACE, rx->skb->ingress_ifindex) :
		      rx->dst ? EV_SRC(XCHAN_SRC_TO_PART, rx->dst->part_id) :
				EV_SRC(XCHAN_SRC_HOST, 0);
		event_put(rx->skb->ifindex,
			  EV_WHAT(refusal ? XCHAN_E_RX_REFUSED : XCHAN_E_DROP, 0, reason), addrs,
			  src, &rx->id);
	}
	return TC_ACT_SHOT;
}

#endif /* XCHAN_RECEIVE_H */
