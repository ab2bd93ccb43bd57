/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* partition.h: a frame a local partition sent, stage by stage: identify the sender
 * (identify.h), send broadcast and outside traffic to its policy (forward.h), verify
 * the channel (verify.h) or hand it to another node (node_data.h), then forward it.
 */
#ifndef XCHAN_PARTITION_H
#define XCHAN_PARTITION_H

#include "identify.h"
#include "verify.h"
#include "forward.h"
#include "node_data.h"
#include "control.h"
#include "flow.h"

static __always_inline enum xchan_reason partition_ipv4(struct xpkt *pkt)
{
	struct xchan_address *dst;
	struct flow_fill ff;
	__u32 slot = XCHAN_NO_SLOT;
	int r;

	r = identify_ipv4(pkt);
	if (r != XCHAN_CONT)
		return r;
	if (to_everyone(pkt))
		return forward_broadcast(pkt);
	if (pkt->iph->protocol != IPPROTO_UDP) {
		if (ip_tunnel(pkt->iph->protocol))
			return XR_DROP_IP_TUNNEL;
		if (!bpf_map_lookup_elem(&xchan_addrs, &pkt->iph->daddr))
			return forward_external(pkt);
		return XR_DROP_NOT_UDP;
	}
	r = parse_udp(&pkt->c, pkt->iph, &pkt->udph);
	if (r != XCHAN_CONT)
		return r;
	if (pkt->udph->dest == bpf_htons(ctrl_port))
		return ctrl_from_partition(pkt);
	BENCH_STOP(3);
	r = flow_verify(pkt, &ff);
	if (r != XCHAN_CONT)
		return r;
	dst = bpf_map_lookup_elem(&xchan_addrs, &pkt->iph->daddr);
	if (!dst)
		return forward_external(pkt);
	if (dst->node_id)
		return node_encap(pkt, dst);
	BENCH_STOP(4);
	r = verify_channel(pkt, dst, &slot);
	if (r != XCHAN_CONT)
		return r;
	BENCH_STOP(5);
	r = forward_local(pkt, dst);
	if (r == XR_PASS_CHANNEL)
		flow_fill_in(pkt, &ff, dst, slot);
	return r;
}

static __always_inline enum xchan_reason from_partition(struct xpkt *pkt)
{
	int r = identify_mac(pkt);

	if (r != XCHAN_CONT)
		return r;
	BENCH_STOP(2);
	switch (pkt->eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		return partition_ipv4(pkt);
	case bpf_htons(ETH_P_ARP):
		return identify_arp(pkt);
	case bpf_htons(ETH_P_IPV6):
		return forward_ipv6(pkt);
	default:
		/* VLAN tags and other L3 could carry IPv4 past the checks above. */
		return XR_DROP_OTHER_L3;
	}
}

#endif /* XCHAN_PARTITION_H */
