/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* channel.h: the same-node channel check: OUT entry of the sender, IN entry of the
 * receiver, both keyed, keys equal in constant time.
 */
#ifndef XCHAN_CHANNEL_H
#define XCHAN_CHANNEL_H

#include "maps.h"

static __always_inline void chan_id_make_bpf(struct xchan_chan_id *id, __u32 lp, __u16 le,
					     __u32 rp, __u16 re, __u8 dir)
{
	id->local_part = lp;
	id->remote_part = rp;
	id->local_ep = le;
	id->remote_ep = re;
	id->dir = dir;
	id->pad[0] = id->pad[1] = id->pad[2] = 0;
}

/* Constant time: no early exit on the first differing byte. */
static __always_inline int key_equal(const struct xchan_key *a, const struct xchan_key *b)
{
	__u64 a0, a1, b0, b1;

	__builtin_memcpy(&a0, &a->key[0], 8);
	__builtin_memcpy(&a1, &a->key[8], 8);
	__builtin_memcpy(&b0, &b->key[0], 8);
	__builtin_memcpy(&b1, &b->key[8], 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* Returns XCHAN_CONT when the channel src:sport -> dst:dport is established on both
 * sides, else the drop reason. *in_id is the receiver's IN id (for its counters). */
static __always_inline int channel_check(__u32 src_part, __u16 sport,
					 __u32 dst_part, __u16 dport,
					 struct xchan_chan_id *in_id)
{
	struct xchan_chan_id out_id;
	struct xchan_key *kout, *kin;

	chan_id_make_bpf(&out_id, src_part, sport, dst_part, dport, XCHAN_DIR_OUT);
	chan_id_make_bpf(in_id, dst_part, dport, src_part, sport, XCHAN_DIR_IN);

	kout = bpf_map_lookup_elem(&xchan_keys, &out_id);
	if (!kout)
		return XR_DROP_NO_OUT;
	kin = bpf_map_lookup_elem(&xchan_keys, in_id);
	if (!kin)
		return XR_DROP_NO_IN;
	if (!key_equal(kout, kin))
		return XR_DROP_KEY_MISMATCH;
	return XCHAN_CONT;
}

static __always_inline void chan_count(const struct xchan_chan_id *in_id, __u64 bytes,
				       int dropped)
{
	struct xchan_chan_counter *c = bpf_map_lookup_elem(&xchan_chanstats, in_id);

	if (!c)
		return;
	if (dropped) {
		c->drops++;
	} else {
		c->packets++;
		c->bytes += bytes;
	}
}

#endif /* XCHAN_CHANNEL_H */
