/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* nh.h: NH, the universal hash of UMAC (Black, Halevi, Krawczyk, Krovetz and Rogaway,
 * CRYPTO '99: adjacent words paired; RFC 4418 pairs words four apart, so its test
 * vectors do not apply), with 32-bit words and the Toeplitz construction over two
 * passes: the tag of DATA between nodes that have it (XCHAN_T_DATA_NH), a third of
 * SipHash-2-4's cost over long inner packets (issue 15).
 *
 * For a message padded with zero bytes to whole 8-byte words m_i (little-endian), and a
 * key of 64-bit words K_i:
 *   s1 = sum over i of (lo(m_i) + lo(K_i) mod 2^32) * (hi(m_i) + hi(K_i) mod 2^32) mod 2^64
 *   s2 = the same with K_{i+2} (the key shifted by four 32-bit words)
 * NH is 2^-32-almost-universal on strings of equal length; with two Toeplitz passes it
 * is 2^-64 (UMAC's Theorem on NH^T). The tag it is measured for:
 *   T = SipHash-2-4(channel key, H' || LE64(s1) || LE64(s2) || LE64(len))
 * with H' the DATA header as the SipHash-2-4 tag covers it and len the inner packet's
 * length (two lengths never share a SipHash input; one length pads the same way). The
 * sequence number is in H', so a forger's try succeeds with probability at most about
 * 2^-64 (an NH collision with a message the channel sent at that sequence) plus 2^-64
 * (guessing T), if SipHash-2-4 is a PRF and the NH key is secret, uniform and
 * independent of the channel keys.
 */
#ifndef XCHAN_NH_H
#define XCHAN_NH_H

#include <linux/types.h>
#include "xchan.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* The shortest inner packet a sender tags with NH (towards a node set so): below it
 * SipHash-2-4 over header and packet costs less than NH plus the lookups of the
 * node's entry and its NH key. A receiver accepts either at any length. */
#define XCHAN_NH_MIN_INNER	128

/* Key words: one per message word of the largest inner packet (179), two more for
 * the shifted pass, and room for the tag loop's bounds (its last block of four). The
 * agent derives NH_KEY_BLOCKS BLAKE2b-512 blocks and keeps the first NH_KEY_WORDS
 * words; the entry's last word is its flags. */
#define NH_KEY_WORDS	183
#define NH_KEY_BLOCKS	23
_Static_assert(NH_KEY_WORDS >= (XCHAN_MAX_INNER + 7) / 8 + 2, "a key word for every message word");
_Static_assert(NH_KEY_BLOCKS * 64 >= NH_KEY_WORDS * 8, "derived bytes for every key word");

struct nh {
	__u64 s1, s2;
};

/* xchan_nhkeys: the NH key of a peer node's node key, one per direction (rx: what
 * that node sends us, tx: what we send it), derived by the agent from that node key
 * (user/lib/nodekey.c). */
enum { XCHAN_NH_RX = 0, XCHAN_NH_TX = 1 };
struct xchan_nh_id {
	__u32	node;
	__u8	kid;		/* the node key's id */
	__u8	dir;		/* XCHAN_NH_RX or XCHAN_NH_TX */
	__u8	pad[2];		/* 0 */
};
_Static_assert(sizeof(struct xchan_nh_id) == 8, "xchan_nhkeys key");

/* flags == XCHAN_NH_HELD, on a tx key: the peer showed it holds this node key (the
 * CMM verified a control message of the peer's under it), so it can verify NH tags
 * made with it. The CMM sets it, and clears it when the peer signs under a node key
 * this node does not hold (it moved on); the agent writes 0, or what was there when
 * it writes the same key again. A value, not a bit: an agent from before the flags
 * wrote derived bytes there, which match it with probability 2^-64. */
#define XCHAN_NH_HELD	0x48454c44ULL	/* "DLEH" */
struct xchan_nh_key {
	__u64	w[NH_KEY_WORDS];
	__u64	flags;
};
_Static_assert(sizeof(struct xchan_nh_key) == 1472, "xchan_nhkeys value");

/* Message word m, key words ka = K_i and kb = K_{i+2}. */
static __always_inline void nh_word(struct nh *n, __u64 m, __u64 ka, __u64 kb)
{
	__u32 lo = m, hi = m >> 32;

	n->s1 += (__u64)(__u32)(lo + (__u32)ka) * (__u32)(hi + (__u32)(ka >> 32));
	n->s2 += (__u64)(__u32)(lo + (__u32)kb) * (__u32)(hi + (__u32)(kb >> 32));
}

#endif
