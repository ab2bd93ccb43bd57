/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* parse.h: bounds-checked header parsers over a cursor; each returns a drop reason
 * (enum xchan_reason), or XCHAN_CONT when the header is sound and the cursor past it.
 */
#ifndef XCHAN_PARSE_H
#define XCHAN_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xchan.h"

#define XCHAN_CONT	(-1)	/* "keep going": not a verdict */

/* Loads and stores of 2, 4 and 8 bytes, each one instruction, at any offset of a
 * packet or a map value (the stack only at offsets of the access's own alignment:
 * there the verifier is always strict, and refuses the program otherwise). Clang's
 * BPF target splits a load it cannot prove aligned into byte loads: an 8-byte word
 * became 8 loads and 14 shifts and ORs (seen in the object code), which made
 * SipHash-2-4 over a packet 1.3x slower and a key comparison 40 instructions long. The JITs xchan runs on (x86-64, arm64) load at any alignment
 * and their verifier allows it (it refuses misaligned access only with strict
 * alignment, for architectures that need it). Host order, which for the BPF target
 * on these hosts is little-endian, as SipHash reads its words.
 * The alignment they promise the compiler is often untrue (a header at packet offset
 * 42): clang's BPF backend uses it only to choose the access's width, which is what
 * is wanted here, and the tests check every tag against userspace's SipHash; clang
 * offers no other way to ask for one unaligned BPF load (inline asm would hide the
 * access from its ordering of loads and stores). */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "bpfel: SipHash words are loads");

static __always_inline __u64 ld64(const void *p)
{
	__u64 v;

	__builtin_memcpy(&v, __builtin_assume_aligned(p, 8), 8);
	return v;
}

static __always_inline __u32 ld32(const void *p)
{
	__u32 v;

	__builtin_memcpy(&v, __builtin_assume_aligned(p, 4), 4);
	return v;
}

static __always_inline __u16 ld16(const void *p)
{
	__u16 v;

	__builtin_memcpy(&v, __builtin_assume_aligned(p, 2), 2);
	return v;
}

static __always_inline void st64(void *p, __u64 v)
{
	__builtin_memcpy(__builtin_assume_aligned(p, 8), &v, 8);
}

static __always_inline void st32(void *p, __u32 v)
{
	__builtin_memcpy(__builtin_assume_aligned(p, 4), &v, 4);
}

static __always_inline void st16(void *p, __u16 v)
{
	__builtin_memcpy(__builtin_assume_aligned(p, 2), &v, 2);
}

/* A MAC address, as a 4- and a 2-byte load and store. */
static __always_inline void mac_copy(__u8 *d, const __u8 *s)
{
	st32(d, ld32(s));
	st16(d + 4, ld16(s + 4));
}

struct cursor {
	void *pos;
	void *end;
};

/* ARP body for Ethernet/IPv4 (RFC 826), as a partition sends it. */
struct arp_eth_ipv4 {
	__be16	htype;
	__be16	ptype;
	__u8	hlen;
	__u8	plen;
	__be16	oper;
	__u8	sha[ETH_ALEN];
	__be32	spa;
	__u8	tha[ETH_ALEN];
	__be32	tpa;
} __attribute__((packed));
_Static_assert(sizeof(struct arp_eth_ipv4) == XCHAN_ARP_BODY_LEN, "the ARP body");

/* Two MAC addresses in a packet or a map value (ld32, ld16): four loads. */
static __always_inline int mac_equal(const __u8 *a, const __u8 *b)
{
	return ld32(a) == ld32(b) && ld16(a + 4) == ld16(b + 4);
}

/* The same, for copies on the stack at any offset (byte loads where clang cannot
 * prove the alignment). */
static __always_inline int mac_equal_any(const __u8 *a, const __u8 *b)
{
	__u32 a4, b4;
	__u16 a2, b2;

	__builtin_memcpy(&a4, a, 4);
	__builtin_memcpy(&b4, b, 4);
	__builtin_memcpy(&a2, a + 4, 2);
	__builtin_memcpy(&b2, b + 4, 2);
	return a4 == b4 && a2 == b2;
}

/* The frame cut to len bytes if it is longer: 0, or -1 if it could not be. Every
 * packet pointer is stale afterwards. */
static __always_inline int frame_trim(struct xdp_md *ctx, __u32 len)
{
	__u32 flen = ctx->data_end - ctx->data;

	if (flen <= len)
		return 0;
	return bpf_xdp_adjust_tail(ctx, -(int)(flen - len)) ? -1 : 0;
}

static __always_inline int parse_eth(struct cursor *c, struct ethhdr **eth)
{
	struct ethhdr *h = c->pos;

	if ((void *)(h + 1) > c->end)
		return XR_DROP_MALFORMED_ETH;
	*eth = h;
	c->pos = h + 1;
	return XCHAN_CONT;
}

/* Ethernet/IPv4 ARP, the only kind either side passes. */
static __always_inline int arp_eth_ipv4_ok(const struct arp_eth_ipv4 *a)
{
	return a->htype == bpf_htons(XCHAN_ARP_HW_ETHER) && a->ptype == bpf_htons(ETH_P_IP) &&
	       a->hlen == ETH_ALEN && a->plen == sizeof(__be32);
}

/* What may follow the body: nothing, or exactly zero padding to 60 bytes. */
struct arp_pad {
	__u64	a;
	__u64	b;
	__u16	c;
} __attribute__((packed));

/* A request or a reply and nothing else; a request's tha is all zero (it is what is
 * asked for). Every other bit of the body is then either fixed, checked against the
 * sender, or named by the receiver: ARP is no carrier for data (DESIGN 3.3). */
static __always_inline int arp_shape_ok(const struct arp_eth_ipv4 *a)
{
	__u32 t4;
	__u16 t2;

	if (a->oper == bpf_htons(XCHAN_ARP_REPLY))
		return 1;
	__builtin_memcpy(&t4, a->tha, 4);
	__builtin_memcpy(&t2, a->tha + 4, 2);
	return a->oper == bpf_htons(XCHAN_ARP_REQUEST) && !t4 && !t2;
}

static __always_inline int arp_pad_zero(const struct arp_pad *p)
{
	return !p->a && !p->b && !p->c;
}

static __always_inline int parse_arp(struct cursor *c, struct arp_eth_ipv4 **arp)
{
	struct arp_eth_ipv4 *a = c->pos;
	struct arp_pad *pad = (void *)(a + 1);

	if ((void *)(a + 1) > c->end)
		return XR_DROP_MALFORMED_ARP;
	if (!arp_eth_ipv4_ok(a) || !arp_shape_ok(a))
		return XR_DROP_MALFORMED_ARP;
	/* the frame ends with the body, or with zero padding to the minimum frame */
	if ((void *)pad != c->end) {
		if (c->end - (void *)pad != XCHAN_ARP_PAD_LEN)
			return XR_DROP_MALFORMED_ARP;
		/* hide the length just learnt from clang, or it drops the check the
		 * verifier needs */
		asm volatile("" : "+r"(pad));
		if ((void *)(pad + 1) > c->end || !arp_pad_zero(pad))
			return XR_DROP_MALFORMED_ARP;
	}
	*arp = a;
	c->pos = a + 1;
	return XCHAN_CONT;
}

/* IPv4 with a 20-byte header only: options are dropped with their own reason,
 * which keeps every later offset a constant the verifier can follow. */
static __always_inline int parse_ipv4(struct cursor *c, struct iphdr **iph)
{
	struct iphdr *h = c->pos;
	__u16 tot;

	if ((void *)(h + 1) > c->end)
		return XR_DROP_MALFORMED_IP;
	if (h->version != 4 || h->ihl < 5)
		return XR_DROP_MALFORMED_IP;
	if (h->ihl != 5)
		return XR_DROP_IP_OPTIONS;
	tot = bpf_ntohs(h->tot_len);
	/* tot_len may be shorter than the frame (Ethernet padding), never longer. */
	if (tot < sizeof(*h) || (void *)h + tot > c->end)
		return XR_DROP_MALFORMED_IP;
	if (h->frag_off & bpf_htons(XCHAN_IP_FRAG_MASK))
		return XR_DROP_FRAGMENT;
	if (h->ttl == 0)
		return XR_DROP_TTL;
	*iph = h;
	c->pos = h + 1;
	return XCHAN_CONT;
}

/* UDP whose length agrees exactly with the IPv4 total length. */
static __always_inline int parse_udp(struct cursor *c, struct iphdr *iph,
				     struct udphdr **udph)
{
	struct udphdr *u = c->pos;

	if ((void *)(u + 1) > c->end)
		return XR_DROP_MALFORMED_UDP;
	if (bpf_ntohs(u->len) != bpf_ntohs(iph->tot_len) - sizeof(*iph))
		return XR_DROP_MALFORMED_UDP;
	*udph = u;
	c->pos = u + 1;
	return XCHAN_CONT;
}

/* The xchan header after UDP: inside the datagram, not in the frame's padding. */
static __always_inline int parse_xchan(struct cursor *c, const struct udphdr *udph,
				       struct xchan_hdr **xh)
{
	struct xchan_hdr *h = c->pos;

	if (bpf_ntohs(udph->len) < sizeof(*udph) + sizeof(*h))
		return XR_DROP_CTRL_MALFORMED;
	if ((void *)(h + 1) > c->end || h->version != XCHAN_VERSION)
		return XR_DROP_CTRL_MALFORMED;
	*xh = h;
	c->pos = h + 1;
	return XCHAN_CONT;
}

#endif /* XCHAN_PARSE_H */
