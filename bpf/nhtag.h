/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* nhtag.h: the NH-Toeplitz tag of include/nh.h over a DATA message in the packet:
 * DATA_NH between nodes (bpf/node_data.h) and the bench's `mac nh` rows
 * (bpf/macs.bpf.c). Built with -mcpu=v3: NH's 32-bit adds then need no zero extension.
 * Returns 0 if the packet is shorter than len (the caller checked it is not).
 */
#ifndef XCHAN_NHTAG_H
#define XCHAN_NHTAG_H

#include "parse.h"
#include "siphash.h"
#include "nh.h"

/* Four message words to a bounds check, as the CMM's SipHash loop. */
#define NH_BLOCK	4
#define NH_MAX_BLOCKS	(XCHAN_MAX_INNER / (8 * NH_BLOCK))
_Static_assert(NH_MAX_BLOCKS * NH_BLOCK + NH_BLOCK + 2 <= NH_KEY_WORDS, "the main loop's key words");

/* key: the channel key; nk: NH_KEY_WORDS key words (a map value); h: the header as
 * the tag covers it, on the stack; len bytes at p, all before end. */
static __always_inline __u64 nh_tag(const __u8 *key, const __u64 *nk, const struct xchan_hdr *h,
				    __u8 *p, __u32 len, void *end)
{
	const __u8 *hb = (const void *)h;
	__u32 words = len / 8, blocks = words / NH_BLOCK, rem = len & 7, i, j, w;
	struct nh n = {};
	__u64 last = 0;
	struct sip s;

	for (i = 0; i < NH_MAX_BLOCKS; i++) {
		__u8 *q = p + i * (8 * NH_BLOCK);

		if (i >= blocks)
			break;
		if ((void *)(q + 8 * NH_BLOCK) > end)
			return 0;
		for (j = 0; j < NH_BLOCK; j++)
			nh_word(&n, ld64(q + j * 8), nk[i * NH_BLOCK + j], nk[i * NH_BLOCK + j + 2]);
	}
	/* The key's index is checked in the register it is used from: the verifier does
	 * not relate it to the loop's bound otherwise. */
	w = blocks * NH_BLOCK;
	asm volatile("" : "+r"(w));
	if (w > NH_KEY_WORDS - NH_BLOCK - 2)
		return 0;
	for (i = 0; i < NH_BLOCK - 1; i++) {
		__u8 *q = p + (((w + i) * 8) & SIP_OFF_MASK);

		if (i >= words % NH_BLOCK)
			break;
		if ((void *)(q + 8) > end)
			return 0;
		nh_word(&n, ld64(q), nk[w + i], nk[w + i + 2]);
	}
	if (rem) {
		for (i = 0; i < 7; i++) {
			__u8 *q = p + ((words * 8) & SIP_OFF_MASK) + i;

			if (i >= rem)
				break;
			if ((void *)(q + 1) > end)
				return 0;
			last |= (__u64)*q << (8 * i);
		}
		w = words;
		asm volatile("" : "+r"(w));
		if (w > NH_KEY_WORDS - 3)
			return 0;
		nh_word(&n, last, nk[w], nk[w + 2]);
	}
	sip_init(&s, ld64(key), ld64(key + 8));
	for (i = 0; i < sizeof(*h) / 8; i++)
		sip_word(&s, ld64(hb + i * 8));
	sip_word(&s, n.s1);
	sip_word(&s, n.s2);
	sip_word(&s, len);
	return sip_final(&s, 0, sizeof(*h) + 24);
}

#endif
