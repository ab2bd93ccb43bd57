/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* verify.h: the channel check. The sender's OUT entry and the receiver's IN entry
 * must both hold a key, the same key under the same id (OUT's current one, one of
 * IN's two slots), compared in constant time; the receiver's IN entry counts what
 * passed and what was refused.
 */
#ifndef XCHAN_VERIFY_H
#define XCHAN_VERIFY_H

#include "verdict.h"

/* Constant time: no early exit on the first differing byte. Without the barrier
 * clang compiles the OR of the two differences into two compares with a branch
 * after the first eight bytes (seen in the object code). */
static __always_inline int key_equal(const __u8 *a, const __u8 *b)
{
	__u64 diff = (ld64(a) ^ ld64(b)) | (ld64(a + 8) ^ ld64(b + 8));

	asm volatile("" : "+r"(diff));
	return diff == 0;
}

/* The key with id kid in k, if its slot (kid & 1) holds exactly that one; NULL for a
 * key retired or not installed yet. Which slots are valid is no secret. */
static __always_inline const __u8 *key_of_id(const struct xchan_key *k, __u8 kid)
{
	__u32 s = XCHAN_KEY_SLOT(kid);

	if (!(k->valid & (1U << s)) || k->kid[s] != kid)
		return 0;
	return k->key[s];
}

/* The key an OUT entry sends with (slot cur) and its id; NULL if that slot is empty. */
static __always_inline const __u8 *key_cur(const struct xchan_key *k, __u8 *kid)
{
	__u32 s = k->cur & 1;

	if (!(k->valid & (1U << s)))
		return 0;
	*kid = k->kid[s];
	return k->key[s];
}

/* Same node: the sender's current key is one the receiver holds under the same id.
 * During a rekey IN holds the old and the new key, so whichever OUT has passes. */
static __always_inline int keys_agree(const struct xchan_key *kout, const struct xchan_key *kin)
{
	const __u8 *o, *i;
	__u8 kid = 0;

	o = key_cur(kout, &kid);
	if (!o)
		return 0;
	i = key_of_id(kin, kid);
	return i && key_equal(o, i);
}

/* A channel's counters: the slot of xchan_counts its IN entry names (the agent gives
 * every IN entry one; read once). XCHAN_NO_SLOT where there is none. */
static __always_inline __u32 chan_slot(const struct xchan_chan_id *in_id)
{
	struct xchan_channel *ch = bpf_map_lookup_elem(&xchan_channels, in_id);

	return ch ? *(volatile __u32 *)&ch->slot : XCHAN_NO_SLOT;
}

/* Shared by CPUs: added to atomically. 0 when slot is none of the array's. */
static __always_inline int slot_count(__u32 slot, __u64 bytes, int dropped)
{
	struct xchan_chan_counter *c = bpf_map_lookup_elem(&xchan_counts, &slot);

	if (!c)
		return 0;
	if (dropped) {
		__sync_fetch_and_add(&c->drops, 1);
	} else {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, bytes);
	}
	return 1;
}

/* After a key changed or went: no copy the flow cache made before counts (flow.h). */
static __always_inline void cache_forget(void)
{
	__u32 one = 1;
	__u64 *seq = bpf_map_lookup_elem(&xchan_slotalloc, &one);

	if (seq)
		__sync_fetch_and_add(seq, 2);
}

static __always_inline void chan_count(const struct xchan_chan_id *in_id, __u64 bytes,
				       int dropped)
{
	slot_count(chan_slot(in_id), bytes, dropped);
}

/* A UDP message from the local partition pkt->src to the local partition dst:
 * XCHAN_CONT when both ends hold the channel's key (keys_agree), else the drop reason.
 * pkt->id becomes the receiver's IN entry, *slot its counter slot. */
static __always_inline int verify_channel(struct xpkt *pkt, const struct xchan_address *dst,
					  __u32 *slot)
{
	__u16 sport = bpf_ntohs(pkt->udph->source), dport = bpf_ntohs(pkt->udph->dest);
	struct xdp_md *ctx = pkt->ctx;
	struct xchan_chan_id out_id;
	struct xchan_key *kout, *kin;

	xchan_chan_id_make(&out_id, pkt->src->part_id, sport, dst->part_id, dport, XCHAN_DIR_OUT);
	xchan_chan_id_make(&pkt->id, dst->part_id, dport, pkt->src->part_id, sport, XCHAN_DIR_IN);

	kout = bpf_map_lookup_elem(&xchan_keys, &out_id);
	if (!kout)
		return XR_DROP_NO_OUT;
	kin = bpf_map_lookup_elem(&xchan_keys, &pkt->id);
	if (!kin)
		return XR_DROP_NO_IN;
	*slot = chan_slot(&pkt->id);
	if (!keys_agree(kout, kin)) {
		slot_count(*slot, 0, 1);
		return XR_DROP_KEY_MISMATCH;
	}
	slot_count(*slot, ctx->data_end - ctx->data, 0);
	return XCHAN_CONT;
}

#endif /* XCHAN_VERIFY_H */
