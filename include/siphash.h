/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* siphash.h: SipHash-2-4 (Aumasson and Bernstein), the steps only, so that the CMM
 * can feed it packet words under the verifier and the agent whole buffers. One
 * definition for BPF and userspace; words are little-endian as the algorithm says. */
#ifndef XCHAN_SIPHASH_H
#define XCHAN_SIPHASH_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Rounds per message word and at the end: SipHash-2-4, the wire format. The bench
 * builds one CMM object with 1 and 3 (build/xchan_sip13.bpf.o) to measure SipHash-1-3
 * on the live path; nothing else may change them. */
#ifndef XCHAN_SIP_C
#define XCHAN_SIP_C 2
#endif
#ifndef XCHAN_SIP_D
#define XCHAN_SIP_D 4
#endif

/* The CMM's loop over a packet (bpf/node_data.h, and the bench's copy): words per
 * bounds check, and how many such blocks the largest inner packet holds. */
#define SIP_BLOCK	4
#define SIP_MAX_BLOCKS	(XCHAN_MAX_INNER / (8 * SIP_BLOCK))
/* ...whose offsets the loop masks with 0x7ff to keep the verifier's bound */
#define SIP_OFF_MASK	0x7ff

struct sip {
	__u64 v0, v1, v2, v3;
};

#define SIP_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static __always_inline void sip_round(struct sip *s)
{
	s->v0 += s->v1; s->v1 = SIP_ROTL(s->v1, 13); s->v1 ^= s->v0; s->v0 = SIP_ROTL(s->v0, 32);
	s->v2 += s->v3; s->v3 = SIP_ROTL(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = SIP_ROTL(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = SIP_ROTL(s->v1, 17); s->v1 ^= s->v2; s->v2 = SIP_ROTL(s->v2, 32);
}

/* k0, k1: the key's two little-endian halves. */
static __always_inline void sip_init(struct sip *s, __u64 k0, __u64 k1)
{
	s->v0 = k0 ^ 0x736f6d6570736575ULL;
	s->v1 = k1 ^ 0x646f72616e646f6dULL;
	s->v2 = k0 ^ 0x6c7967656e657261ULL;
	s->v3 = k1 ^ 0x7465646279746573ULL;
}

/* One 8-byte message word (little-endian), XCHAN_SIP_C compression rounds. */
static __always_inline void sip_word(struct sip *s, __u64 m)
{
	s->v3 ^= m;
	sip_round(s);
	if (XCHAN_SIP_C > 1)
		sip_round(s);
	s->v0 ^= m;
}

/* last: the remaining 0-7 bytes (little-endian), len: the whole message length. */
static __always_inline __u64 sip_final(struct sip *s, __u64 last, __u64 len)
{
	sip_word(s, last | (len << 56));
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	if (XCHAN_SIP_D > 3)
		sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static __always_inline __u64 sip_le64(const __u8 *p)
{
	return (__u64)p[0] | (__u64)p[1] << 8 | (__u64)p[2] << 16 | (__u64)p[3] << 24 |
	       (__u64)p[4] << 32 | (__u64)p[5] << 40 | (__u64)p[6] << 48 | (__u64)p[7] << 56;
}

#endif
