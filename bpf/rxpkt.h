/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* rxpkt.h: a frame on its way into a partition, as the receive side's stages see it:
 * copies of its headers (bpf_skb_load_bytes, so no offset the verifier must follow),
 * the receiving partition and, once known, the partition it came from.
 */
#ifndef XCHAN_RXPKT_H
#define XCHAN_RXPKT_H

#include <linux/pkt_cls.h>
#include <linux/ipv6.h>
#include "parse.h"
#include "maps.h"

struct rxpkt {
	struct __sk_buff *skb;
	const struct xchan_partition *dst;	/* the receiver: the veth's partition */
	struct ethhdr eth;
	struct iphdr ip;			/* valid once rx_ipv4 loaded it */
	const struct xchan_address *oaddr;	/* the origin's row, when found by address */
	__u32 origin;				/* partition it came from; 0: none known */
	__u32 origin_by_link;			/* 1: origin is the veth it entered on */
	struct xchan_chan_id id;		/* the receiver's IN entry, for events */
};

#endif /* XCHAN_RXPKT_H */
