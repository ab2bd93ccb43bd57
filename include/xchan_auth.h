/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xchan_auth.h: how CONNECT, REKEY and CLOSE between nodes are protected, one
 * definition for the CMM (which unwraps, verifies and signs its answer) and the agent
 * (which wraps, signs and verifies the answer). Each takes one 32-byte directional
 * node key (struct xchan_node_slot: rx or tx) of two halves: XCHAN_PAIR_ENC_OFF
 * wraps the channel key, XCHAN_PAIR_AUTH_OFF signs the header.
 */
#ifndef XCHAN_AUTH_H
#define XCHAN_AUTH_H

#include "xchan.h"
#include "siphash.h"

static __always_inline void xchan_put_le64(__u8 *b, __u64 v)
{
	for (int i = 0; i < 8; i++)
		b[i] = v >> (8 * i);
}

/* Word i (1 or 2) of the keystream for nonce: SipHash-2-4(k_enc, le64(nonce) || i). */
static __always_inline __u64 xchan_keystream(const __u8 *k_enc, __u64 nonce, __u8 i)
{
	struct sip s;

	sip_init(&s, sip_le64(k_enc), sip_le64(k_enc + 8));
	sip_word(&s, nonce);
	return sip_final(&s, i, 9);
}

/* XORs the 16-byte key in auth with the keystream of nonce under the directional
 * node key k (32 bytes): wraps and unwraps. */
static __always_inline void xchan_key_wrap(__u8 *auth, const __u8 *k, __u64 nonce)
{
	const __u8 *k_enc = k + XCHAN_PAIR_ENC_OFF;

	xchan_put_le64(auth, sip_le64(auth) ^ xchan_keystream(k_enc, nonce, 1));
	xchan_put_le64(auth + 8, sip_le64(auth + 8) ^ xchan_keystream(k_enc, nonce, 2));
}

/* SipHash-2-4 of the 40-byte header, keyed by the second half of the directional
 * node key nk: the signature that follows a control header between nodes
 * (xchan_ctrl_trailer). */
static __always_inline __u64 xchan_hdr_mac(const __u8 *nk, const struct xchan_hdr *h)
{
	const __u8 *k = nk + XCHAN_PAIR_AUTH_OFF, *hb = (const __u8 *)h;
	struct sip s;

	sip_init(&s, sip_le64(k), sip_le64(k + 8));
	for (int i = 0; i < (int)(sizeof(*h) / 8); i++)
		sip_word(&s, sip_le64(hb + i * 8));
	return sip_final(&s, 0, sizeof(*h));
}

#endif /* XCHAN_AUTH_H */
