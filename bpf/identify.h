/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* identify.h: who sends. A partition is named by the interface its frames arrive on
 * and must use its own MAC, IPv4 and ARP addresses, else the frame is dropped and
 * audited as spoofed; a peer node is named by the outer source address.
 */
#ifndef XCHAN_IDENTIFY_H
#define XCHAN_IDENTIFY_H

#include "verdict.h"

/* The array for the ifindexes it covers (the agent keeps both), the hash above. */
static __always_inline const struct xchan_partition *partition_of(__u32 ifindex)
{
	const struct xchan_partition *p;

	if (ifindex >= XCHAN_IFPART_SLOTS)
		return bpf_map_lookup_elem(&xchan_partition, &ifindex);
	p = bpf_map_lookup_elem(&xchan_ifpart, &ifindex);
	return p && p->part_id ? p : 0;
}

static __always_inline int is_uplink(__u32 ifindex)
{
	struct xchan_config *cfg = config();

	return cfg && cfg->uplink_ifindex && cfg->uplink_ifindex == ifindex;
}

static __always_inline int identify_mac(struct xpkt *pkt)
{
	if (!mac_equal(pkt->eth->h_source, pkt->src->mac))
		return audit(pkt, XCHAN_E_SPOOF, XR_DROP_SPOOF_MAC);
	return XCHAN_CONT;
}

/* A DHCP client's broadcast request (DISCOVER, REQUEST, REBIND): UDP 68 to
 * 255.255.255.255:67. Before it has an address its source is 0.0.0.0. */
static __always_inline int dhcp_request(const struct xpkt *pkt)
{
	struct udphdr *u = pkt->c.pos;

	if (pkt->iph->daddr != bpf_htonl(INADDR_BROADCAST) || pkt->iph->protocol != IPPROTO_UDP ||
	    (void *)(u + 1) > pkt->c.end)
		return 0;
	return u->dest == bpf_htons(XCHAN_DHCP_SERVER_PORT) &&
	       u->source == bpf_htons(XCHAN_DHCP_CLIENT_PORT);
}

static __always_inline int identify_ipv4(struct xpkt *pkt)
{
	int r = parse_ipv4(&pkt->c, &pkt->iph);

	if (r != XCHAN_CONT)
		return r;
	xpkt_addrs(pkt, pkt->iph->saddr, pkt->iph->daddr);
	if (!pkt->iph->saddr && dhcp_request(pkt))
		return XCHAN_CONT;
	if (pkt->iph->saddr != pkt->src->ip)
		return audit(pkt, XCHAN_E_SPOOF, XR_DROP_SPOOF_IP);
	return XCHAN_CONT;
}

/* ARP goes no further than this: a partition's own ARP is passed. */
static __always_inline enum xchan_reason identify_arp(struct xpkt *pkt)
{
	struct arp_eth_ipv4 *arp;
	int r = parse_arp(&pkt->c, &arp);

	if (r != XCHAN_CONT)
		return r;
	/* 0.0.0.0 is an address probe (RFC 5227); anything else must be its own. */
	if ((arp->spa != pkt->src->ip && arp->spa != 0) || !mac_equal(arp->sha, pkt->src->mac)) {
		xpkt_addrs(pkt, arp->spa, arp->tpa);
		return audit(pkt, XCHAN_E_SPOOF, XR_DROP_SPOOF_ARP);
	}
	return XR_PASS_ARP;
}

/* Does the outer source address belong to the node that hosts partition part? Its
 * entry, and its id in *id, if so. */
static __always_inline struct xchan_node *node_of(__u32 part, __be32 saddr, __u32 *id)
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
	*id = node_id;
	return node;
}

#endif /* XCHAN_IDENTIFY_H */
