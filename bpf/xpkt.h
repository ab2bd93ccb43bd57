/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xpkt.h: the packet as the stages see it: what has been parsed so far, who sent it,
 * and what the exit needs (addresses for events, the redirect target).
 */
#ifndef XCHAN_XPKT_H
#define XCHAN_XPKT_H

#include "parse.h"
#include "maps.h"

struct xpkt {
	struct xdp_md *ctx;
	struct cursor c;		/* just past the last header parsed */
	struct ethhdr *eth;
	struct iphdr *iph;		/* outer header on the uplink and the trusted path */
	struct udphdr *udph;
	struct xchan_hdr *xh;
	const struct xchan_partition *src;	/* the sender, when it is a local partition */
	struct xchan_chan_id id;	/* the channel entry the verdict concerns */
	__u32 redirect_ifindex;		/* PASS_CHANNEL, PASS_DECAP: devmap key; PASS_ENCAP: next hop */
	/* For events, as the stage that decided saw them: zero until an IPv4 header is
	 * sound. Copies, not pointers: encapsulation moves the packet. */
	__be32 saddr;
	__be32 daddr;
	__u8 msg_type;			/* xchan_hdr.type of a control message, else 0 */
	__u8 answered;			/* ctrl_reply() turned the request into its answer */
};

/* The barrier makes clang load the field at its offset from ctx itself: the
 * verifier refuses a ctx pointer that was moved first and dereferenced later. */
static __always_inline __u32 ctx_ifindex(struct xdp_md *ctx)
{
	asm volatile("" : "+r"(ctx));
	return ctx->ingress_ifindex;
}

static __always_inline void xpkt_addrs(struct xpkt *pkt, __be32 saddr, __be32 daddr)
{
	pkt->saddr = saddr;
	pkt->daddr = daddr;
}

#endif /* XCHAN_XPKT_H */
