/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* verify.h: the channel check. The sender's OUT entry and the receiver's IN entry
 * must both be established and hold the same key under the same id (OUT's current
 * one, one of IN's two slots), compared in constant time; the counter slot the IN
 * entry names counts what passed and what was refused.
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
static __always_inline const __u8 *key_of_id(const struct xchan_channel *k, __u8 kid)
{
	__u32 s = XCHAN_KEY_SLOT(kid);

	if (!(k->valid & (1U << s)) || k->kid[s] != kid)
		return 0;
	return k->key[s];
}

/* The key an OUT entry sends with (slot cur) and its id; NULL if that slot is empty.
 * valid and cur are read in one load: the CMM's REKEY writes them in one store
 * (control.h), so a reader never pairs the old cur with the new valid. */
static __always_inline const __u8 *key_cur(const struct xchan_channel *k, __u8 *kid)
{
	__u16 vc = *(volatile const __u16 *)&k->valid;
	__u8 valid = ((__u8 *)&vc)[0], s = ((__u8 *)&vc)[1] & 1;

	if (!(valid & (1U << s)))
		return 0;
	*kid = k->kid[s];
	return k->key[s];
}

/* Same node: the sender's current key is one the receiver holds under the same id.
 * During a rekey IN holds the old and the new key, so whichever OUT has passes. */
static __always_inline int keys_agree(const struct xchan_channel *kout,
				      const struct xchan_channel *kin)
{
	const __u8 *o, *i;
	__u8 kid = 0;

	o = key_cur(kout, &kid);
	if (!o)
		return 0;
	i = key_of_id(kin, kid);
	return i && key_equal(o, i);
}

/* The entry's control word, read once, before anything else of the entry: the CMM
 * writes an OUT entry's key in place and makes it ESTABLISHED last (control.h), so a
 * reader that finds it established reads the key written before (loads in order;
 * where they are not, a key read too early does not match, and the frame drops). */
static __always_inline __u32 chan_ctl(const struct xchan_channel *ch)
{
	__u32 c = *(volatile const __u32 *)&ch->ctl;

	asm volatile("" ::: "memory");
	return c;
}

/* The entry at id if it is established (its keys count), else NULL; *ctl its word. */
static __always_inline struct xchan_channel *chan_established(const struct xchan_chan_id *id,
							      __u32 *ctl)
{
	struct xchan_channel *ch = bpf_map_lookup_elem(&xchan_channels, id);

	if (!ch)
		return 0;
	*ctl = chan_ctl(ch);
	if (XCHAN_CTL_STATE(*ctl) != XCHAN_S_ESTABLISHED)
		return 0;
	/* a branch, not arithmetic on the pointer (clang made a mask of the test in the
	 * receive side's program, which the verifier then held for a number) */
	asm volatile("" : "+r"(ch));
	return ch;
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

/* A UDP message from the local partition pkt->src to the local partition dst:
 * XCHAN_CONT when both ends hold the channel's key (keys_agree), else the drop reason.
 * pkt->id becomes the receiver's IN entry, *slot its counter slot. */
static __always_inline int verify_channel(struct xpkt *pkt, const struct xchan_address *dst,
					  __u32 *slot)
{
	__u16 sport = bpf_ntohs(pkt->udph->source), dport = bpf_ntohs(pkt->udph->dest);
	struct xdp_md *ctx = pkt->ctx;
	struct xchan_chan_id out_id;
	struct xchan_channel *kout, *kin;
	__u32 octl, ictl;

	xchan_chan_id_make(&out_id, pkt->src->part_id, sport, dst->part_id, dport, XCHAN_DIR_OUT);
	xchan_chan_id_make(&pkt->id, dst->part_id, dport, pkt->src->part_id, sport, XCHAN_DIR_IN);

	kout = chan_established(&out_id, &octl);
	if (!kout)
		return XR_DROP_NO_OUT;
	kin = chan_established(&pkt->id, &ictl);
	if (!kin)
		return XR_DROP_NO_IN;
	*slot = XCHAN_CTL_SLOT(ictl);
	if (!keys_agree(kout, kin)) {
		slot_count(*slot, 0, 1);
		return XR_DROP_KEY_MISMATCH;
	}
	slot_count(*slot, ctx->data_end - ctx->data, 0);
	return XCHAN_CONT;
}

#endif /* XCHAN_VERIFY_H */
