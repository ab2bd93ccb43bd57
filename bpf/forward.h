/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* forward.h: where a frame goes once it is allowed, or when it is none of xchan's:
 * to a local partition's veth (the redirect itself is the exit's, in verdict.h), or
 * to the host stack under the sending partition's external and isolation policy.
 */
#ifndef XCHAN_FORWARD_H
#define XCHAN_FORWARD_H

#include "identify.h"

/* On a bridge the frame goes where its destination MAC says, whatever its IP says:
 * what leaves for a non-partition address must not be addressed to a partition. */
static __always_inline int to_partition_mac(const struct ethhdr *eth)
{
	struct xchan_mac_key k = { .pad = 0 };

	__builtin_memcpy(k.mac, eth->h_dest, ETH_ALEN);
	return bpf_map_lookup_elem(&xchan_macs, &k) != 0;
}

/* IP in IP, IPv6 in IPv4, GRE, EtherIP, L2TPv3, MPLS in IP. The host's fallback
 * tunnel devices (tunl0, sit0, gre0... up wherever their module is loaded, as on
 * every Calico IPIP node) decapsulate such a packet sent to any of its addresses and
 * route what was inside, to another partition too, from a source of the sender's
 * choosing: traffic from a partition that the receive side would take for outside. */
static __always_inline int ip_tunnel(__u8 proto)
{
	return proto == 4 || proto == 41 || proto == 47 || proto == 97 || proto == 115 ||
	       proto == 137;
}

/* Traffic to an address that is no partition: the partition's own policy. */
static __always_inline enum xchan_reason forward_external(struct xpkt *pkt)
{
	if (pkt->src->flags & XCHAN_PART_ISOLATED)
		return XR_DROP_ISOLATED;
	if (to_partition_mac(pkt->eth))
		return XR_DROP_TO_PART_MAC;
	return XR_PASS_EXTERNAL;
}

#define XCHAN_IPV6_EXT_MAX	4	/* extension headers followed to the upper layer */

/* What an IPv6 packet carries past its extension headers (hop-by-hop, routing,
 * fragment, destination options: the kernel walks them before the upper layer, and
 * a tunnel device gets what follows), or 255 if more than XCHAN_IPV6_EXT_MAX of them
 * or a truncated one stand in the way. Every fragment names the upper layer in its
 * fragment header. */
static __always_inline __u8 ipv6_upper(const struct ipv6hdr *ip6, const void *end)
{
	const __u8 *p = (const void *)(ip6 + 1);
	__u8 nh = ip6->nexthdr;

#pragma unroll
	for (int i = 0; i < XCHAN_IPV6_EXT_MAX; i++) {
		if (nh != 0 && nh != 43 && nh != 44 && nh != 60)
			return nh;
		if ((const void *)(p + 2) > end)
			return 255;
		/* a fragment header is 8 bytes; the others say theirs in 8-byte units */
		__u32 len = nh == 44 ? 8 : ((__u32)p[1] + 1) * 8;

		nh = p[0];
		p += len;
	}
	return nh != 0 && nh != 43 && nh != 44 && nh != 60 ? nh : 255;
}

/* IPv6 has no channels yet: outside only, as for IPv4; no tunnel either (ip6tnl0,
 * ip6gre0), behind extension headers too. */
static __always_inline enum xchan_reason forward_ipv6(struct xpkt *pkt)
{
	struct ipv6hdr *ip6 = (void *)(pkt->eth + 1);
	__u8 up;

	if (pkt->src->flags & XCHAN_PART_ISOLATED)
		return XR_DROP_IPV6;
	if ((void *)(ip6 + 1) <= pkt->c.end && ip6->version == 6) {
		up = ipv6_upper(ip6, pkt->c.end);
		if (up == 255 || ip_tunnel(up))
			return XR_DROP_IP_TUNNEL;
	}
	if (to_partition_mac(pkt->eth))
		return XR_DROP_TO_PART_MAC;
	return XR_PASS_IPV6;
}

/* Link-layer (I/G bit) or IP broadcast and multicast would reach every partition on
 * a bridge. */
static __always_inline int to_everyone(const struct xpkt *pkt)
{
	__be32 daddr = pkt->iph->daddr;

	return (pkt->eth->h_dest[0] & 1) || IN_MULTICAST(bpf_ntohl(daddr)) ||
	       daddr == bpf_htonl(INADDR_BROADCAST);
}

/* A non-isolated partition may ask for an address by broadcast, and send nothing
 * else that way: replies to port 68 are the server's to send, not a partition's. */
static __always_inline enum xchan_reason forward_broadcast(struct xpkt *pkt)
{
	if (pkt->src->flags & XCHAN_PART_ISOLATED)
		return XR_DROP_BCAST;
	if (!dhcp_request(pkt))
		return XR_DROP_BCAST;
	if (to_partition_mac(pkt->eth))
		return XR_DROP_TO_PART_MAC;
	return XR_PASS_EXTERNAL;
}

/* --forward pass leaves the frame as sent, so its destination MAC decides where it
 * goes: the receiver's own (bridged to it) or the host's (routed), nothing else, or
 * a poisoned ARP cache sends the message to whoever claimed the receiver's address. */
static __always_inline int to_receiver_or_host(struct xpkt *pkt, const struct xchan_address *dst)
{
	__u32 in = ctx_ifindex(pkt->ctx);
	const struct xchan_gwmac *g;
	__u32 z4;
	__u16 z2;

	if (mac_equal(pkt->eth->h_dest, dst->mac))
		return 1;
	g = bpf_map_lookup_elem(&xchan_gwmac, &in);
	if (!g)
		return 0;
	if (mac_equal(pkt->eth->h_dest, g->veth))
		return 1;
	__builtin_memcpy(&z4, g->master, 4);
	__builtin_memcpy(&z2, g->master + 4, 2);
	return (z4 || z2) && mac_equal(pkt->eth->h_dest, g->master);
}

/* An allowed message to the local partition dst: straight to its host-side veth,
 * addressed to its MAC (a routed sender addressed its gateway). With --forward pass
 * the host stack routes it and the frame stays as sent, addressed to the receiver
 * or the host. */
static __always_inline enum xchan_reason forward_local(struct xpkt *pkt,
						       const struct xchan_address *dst)
{
	if (fwd_redirect)
		mac_copy(pkt->eth->h_dest, dst->mac);
	else if (!to_receiver_or_host(pkt, dst))
		return XR_DROP_CHANNEL_DMAC;
	pkt->redirect_ifindex = dst->ifindex;
	return XR_PASS_CHANNEL;
}

/* What arrives on the uplink for an isolated partition: refused on its destination
 * alone, before any parser could pass it on as something it does not understand
 * (options, fragments). Other L3 and IPv6 carry no registered address: the receive
 * side (receive.h) refuses them on the partition's veth. */
static __always_inline int forward_from_uplink(struct xpkt *pkt)
{
	struct iphdr *h = pkt->c.pos;
	struct xchan_address *dst;
	__be32 daddr;

	if ((void *)(h + 1) > pkt->c.end)
		return XCHAN_CONT;
	daddr = h->daddr;
	dst = bpf_map_lookup_elem(&xchan_addrs, &daddr);
	if (dst && !dst->node_id && (dst->flags & XCHAN_PART_ISOLATED)) {
		xpkt_addrs(pkt, h->saddr, daddr);
		return XR_DROP_ISOLATED;
	}
	return XCHAN_CONT;
}

#endif /* XCHAN_FORWARD_H */
