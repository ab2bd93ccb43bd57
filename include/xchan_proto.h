/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xchan_proto.h: the benchmark prototypes' flow entry (bpf/proto.h), shared by the
 * prototype CMM and the bench tools that fill it; no real instance has this table. */
#ifndef XCHAN_PROTO_SHARED_H
#define XCHAN_PROTO_SHARED_H

#include <linux/types.h>
#include "xchan.h"

/* What the frame carries: no lookup is needed to build it. */
struct proto_flow_key {
	__u32	src_part;
	__be32	daddr;
	__be16	sport;
	__be16	dport;
};

/* One channel within the node, as CONNECT would write it once both keys exist. */
struct proto_flow {
	__u8	out_key[XCHAN_KEY_LEN];	/* the sender's OUT key, as CONNECT stored it */
	__u8	in_key[XCHAN_KEY_LEN];	/* the receiver's IN key */
	__u32	part_id;		/* the receiver */
	__u32	ifindex;
	__u8	mac[6];
	__u16	pad;
	__u32	slot;			/* its per-CPU counters (proto_cnt) */
};
_Static_assert(sizeof(struct proto_flow) == 52, "flow entry layout");

#endif
