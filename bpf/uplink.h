/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* uplink.h: what arrives on the uplink from other nodes. Only xchan's own port is
 * ours to judge (DATA, CONNECT/REKEY/CLOSE, answers for the agent); everything else passes,
 * unless its destination is an isolated partition (checked before parsing).
 */
#ifndef XCHAN_UPLINK_H
#define XCHAN_UPLINK_H

#include "forward.h"
#include "node_data.h"
#include "node_ctrl.h"

static __always_inline enum xchan_reason from_uplink(struct xpkt *pkt)
{
	int r;

	if (pkt->eth->h_proto != bpf_htons(ETH_P_IP))
		return XR_PASS_UPLINK;
	r = forward_from_uplink(pkt);
	if (r != XCHAN_CONT)
		return r;
	if (parse_ipv4(&pkt->c, &pkt->iph) != XCHAN_CONT)
		return XR_PASS_UPLINK;
	xpkt_addrs(pkt, pkt->iph->saddr, pkt->iph->daddr);
	if (pkt->iph->protocol != IPPROTO_UDP ||
	    parse_udp(&pkt->c, pkt->iph, &pkt->udph) != XCHAN_CONT ||
	    pkt->udph->dest != bpf_htons(ctrl_port))
		return XR_PASS_UPLINK;
	r = parse_xchan(&pkt->c, pkt->udph, &pkt->xh);
	if (r != XCHAN_CONT)
		return r;
	pkt->msg_type = pkt->xh->type;
	switch (pkt->xh->type) {
	case XCHAN_T_DATA:
	case XCHAN_T_DATA_NH:
		return node_recv(pkt);
	case XCHAN_T_CONNECT:
	case XCHAN_T_REKEY:
	case XCHAN_T_CLOSE:
		return node_ctrl(pkt);
	case XCHAN_T_CONNECT_ACK:
	case XCHAN_T_CONNECT_NACK:
	case XCHAN_T_CLOSE_ACK:
		/* for the agent's socket, which checks the pair-key signature itself */
		return XR_CTRL_REPLY;
	default:
		return XR_DROP_CTRL_MALFORMED;
	}
}

#endif /* XCHAN_UPLINK_H */
