// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xchan.bpf.c: the CMM entry program, attached to the host-side veth of each
 * partition (the container's egress arrives here as RX). Glue over the headers.
 */
#include "parse.h"
#include "stats.h"
#include "channel.h"
#include "control.h"
#include "nic.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline int mac_equal(const __u8 *a, const __u8 *b)
{
	__u32 a4, b4;
	__u16 a2, b2;

	__builtin_memcpy(&a4, a, 4);
	__builtin_memcpy(&b4, b, 4);
	__builtin_memcpy(&a2, a + 4, 2);
	__builtin_memcpy(&b2, b + 4, 2);
	return a4 == b4 && a2 == b2;
}

static __always_inline int handle_arp(struct xdp_md *ctx, struct cursor *c,
				      const struct xchan_partition *p)
{
	struct arp_eth_ipv4 *arp;
	int r = parse_arp(c, &arp);

	if (r != XCHAN_CONT)
		return verdict(ctx, r, XDP_DROP, 0, 0);
	/* 0.0.0.0 is an address probe (RFC 5227); anything else must be its own. */
	if ((arp->spa != p->ip && arp->spa != 0) || !mac_equal(arp->sha, p->mac)) {
		emit_event(ctx, XCHAN_E_SPOOF, XR_DROP_SPOOF_ARP, arp->spa, arp->tpa, 0, 0);
		return verdict(ctx, XR_DROP_SPOOF_ARP, XDP_DROP, arp->spa, arp->tpa);
	}
	return verdict(ctx, XR_PASS_ARP, XDP_PASS, 0, 0);
}

/* On a bridge the frame goes where its destination MAC says, whatever its IP says:
 * what leaves for a non-partition address must not be addressed to a partition. */
static __always_inline int to_partition_mac(const struct ethhdr *eth)
{
	struct xchan_mac_key k = { .pad = 0 };

	__builtin_memcpy(k.mac, eth->h_dest, ETH_ALEN);
	return bpf_map_lookup_elem(&xchan_macs, &k) != 0;
}

/* Traffic to an address that is no partition: the partition's own policy. */
static __always_inline int to_external(struct xdp_md *ctx, const struct xchan_partition *p,
				       const struct ethhdr *eth, const struct iphdr *iph)
{
	if (p->flags & XCHAN_PART_ISOLATED)
		return verdict(ctx, XR_DROP_ISOLATED, XDP_DROP, iph->saddr, iph->daddr);
	if (to_partition_mac(eth))
		return verdict(ctx, XR_DROP_TO_PART_MAC, XDP_DROP, iph->saddr, iph->daddr);
	return verdict(ctx, XR_PASS_EXTERNAL, XDP_PASS, 0, 0);
}

static __always_inline int handle_ipv4(struct xdp_md *ctx, struct cursor *c,
				       struct ethhdr *eth, const struct xchan_partition *p)
{
	struct xchan_chan_id in_id;
	struct xchan_address *dst;
	struct udphdr *udph;
	struct iphdr *iph;
	__u32 dst_ifindex;
	int r;

	r = parse_ipv4(c, &iph);
	if (r != XCHAN_CONT)
		return verdict(ctx, r, XDP_DROP, 0, 0);
	if (iph->saddr != p->ip) {
		emit_event(ctx, XCHAN_E_SPOOF, XR_DROP_SPOOF_IP, iph->saddr, iph->daddr, 0, 0);
		return verdict(ctx, XR_DROP_SPOOF_IP, XDP_DROP, iph->saddr, iph->daddr);
	}
	/* Link-layer or IP broadcast/multicast would reach every partition on a bridge. */
	if ((eth->h_dest[0] & 1) || (iph->daddr & bpf_htonl(0xf0000000)) == bpf_htonl(0xe0000000) ||
	    iph->daddr == 0xffffffff) {
		if (p->flags & XCHAN_PART_ISOLATED)
			return verdict(ctx, XR_DROP_BCAST, XDP_DROP, iph->saddr, iph->daddr);
		/* Non-isolated partitions keep DHCP and friends, but never towards partitions. */
		if (iph->protocol == IPPROTO_UDP && (void *)c->pos + sizeof(*udph) <= c->end) {
			udph = c->pos;
			if (udph->dest == bpf_htons(67) || udph->dest == bpf_htons(68))
				return verdict(ctx, XR_PASS_EXTERNAL, XDP_PASS, 0, 0);
		}
		return verdict(ctx, XR_DROP_BCAST, XDP_DROP, iph->saddr, iph->daddr);
	}
	if (iph->protocol != IPPROTO_UDP) {
		if (!bpf_map_lookup_elem(&xchan_addrs, &iph->daddr))
			return to_external(ctx, p, eth, iph);
		return verdict(ctx, XR_DROP_NOT_UDP, XDP_DROP, iph->saddr, iph->daddr);
	}
	r = parse_udp(c, iph, &udph);
	if (r != XCHAN_CONT)
		return verdict(ctx, r, XDP_DROP, iph->saddr, iph->daddr);
	/* Control messages come only from the agent (trusted path), never from here. */
	if (udph->dest == bpf_htons(ctrl_port)) {
		struct xchan_hdr *xh = c->pos;
		__u8 type = (void *)(xh + 1) <= c->end ? xh->type : 0;

		emit_event(ctx, XCHAN_E_CTRL_UNTRUSTED, XR_DROP_CTRL_UNTRUSTED,
			   iph->saddr, iph->daddr, type, 0);
		return verdict(ctx, XR_DROP_CTRL_UNTRUSTED, XDP_DROP, iph->saddr, iph->daddr);
	}
	dst = bpf_map_lookup_elem(&xchan_addrs, &iph->daddr);
	if (!dst)
		return to_external(ctx, p, eth, iph);

	if (dst->node_id)
		return send_remote(ctx, iph, udph, p, dst);
	r = channel_check(p->part_id, bpf_ntohs(udph->source), dst->part_id,
			  bpf_ntohs(udph->dest), &in_id);
	if (r != XCHAN_CONT) {
		if (r == XR_DROP_KEY_MISMATCH)
			chan_count(&in_id, 0, 1);
		return verdict(ctx, r, XDP_DROP, iph->saddr, iph->daddr);
	}
	chan_count(&in_id, ctx->data_end - ctx->data, 0);
	if (!fwd_redirect)
		return verdict(ctx, XR_PASS_CHANNEL, XDP_PASS, 0, 0);
	/* Deliver straight to the receiver's host-side veth, addressed to its MAC
	 * (a routed sender addressed its gateway). */
	__builtin_memcpy(eth->h_dest, dst->mac, ETH_ALEN);
	dst_ifindex = dst->ifindex;
	return verdict(ctx, XR_PASS_CHANNEL,
		       bpf_redirect_map(&xchan_devmap, dst_ifindex, XDP_PASS), 0, 0);
}

SEC("xdp")
int xchan_cmm(struct xdp_md *ctx)
{
	struct cursor c = { (void *)(long)ctx->data, (void *)(long)ctx->data_end };
	struct xchan_partition *p;
	struct ethhdr *eth;
	__u32 ifindex = ctx_ifindex(ctx);
	int r;

	r = parse_eth(&c, &eth);
	if (r != XCHAN_CONT)
		return verdict(ctx, r, XDP_DROP, 0, 0);
	if (ifindex == trusted_ifindex)
		return handle_control(ctx, &c, eth);

	p = bpf_map_lookup_elem(&xchan_partition, &ifindex);
	if (!p) {
		struct xchan_config *cfg = config();

		if (cfg && cfg->uplink_ifindex && cfg->uplink_ifindex == ifindex)
			return handle_uplink(ctx, &c, eth);
		return verdict(ctx, XR_DROP_UNKNOWN_IFACE, XDP_DROP, 0, 0);
	}
	if (!mac_equal(eth->h_source, p->mac)) {
		emit_event(ctx, XCHAN_E_SPOOF, XR_DROP_SPOOF_MAC, 0, 0, 0, 0);
		return verdict(ctx, XR_DROP_SPOOF_MAC, XDP_DROP, 0, 0);
	}

	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		return handle_ipv4(ctx, &c, eth, p);
	case bpf_htons(ETH_P_ARP):
		return handle_arp(ctx, &c, p);
	case bpf_htons(ETH_P_IPV6):
		if (p->flags & XCHAN_PART_ISOLATED)
			return verdict(ctx, XR_DROP_IPV6, XDP_DROP, 0, 0);
		if (to_partition_mac(eth))	/* IPv6 between partitions: no channels yet */
			return verdict(ctx, XR_DROP_TO_PART_MAC, XDP_DROP, 0, 0);
		return verdict(ctx, XR_PASS_IPV6, XDP_PASS, 0, 0);
	default:
		/* VLAN tags and other L3 could carry IPv4 past the checks above. */
		return verdict(ctx, XR_DROP_OTHER_L3, XDP_DROP, 0, 0);
	}
}
