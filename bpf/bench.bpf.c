// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* bench.bpf.c: the benchmark's own XDP programs: a live-frames generator (run by
 * BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, paced inside the program), a
 * count-and-drop receiver, and a bare redirect with no checks (the XDP ceiling).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "siphash.h"
#include "xchan.h"
#include "parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u64 interval_ns = 0;	/* 0: as fast as possible */
const volatile __u8 fwd_mac[ETH_ALEN];	/* bare redirect: the receiver's MAC */
const volatile __u8 fwd_keep_mac = 0;	/* 1: a two-port XDP fabric, MACs as they came */
/* eth + ipv4 + udp headers of the frame: the generator writes them into every
 * frame it sends, because live frames come back from the page pool with whatever
 * the path after XDP_TX wrote into them (kernel forwarding rewrites MACs and the
 * TTL in place, and the next round would go out with those). */
#define GEN_HDR 42
#define GEN_CPUS 8
/* .bss: set by the loader; a const would be folded to zeros. One per generator CPU,
 * so that the threads of a run can send on different channels. */
__u8 gen_hdr[GEN_CPUS][GEN_HDR];

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);		/* 0: packets, 1: bytes */
	__type(key, __u32);
	__type(value, __u64);
} bench_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);		/* next send time, per generator CPU */
} bench_pace SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_tx SEC(".maps");

static __always_inline void count(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&bench_count, &k);

	if (v)
		(*v)++;
	k = 1;
	v = bpf_map_lookup_elem(&bench_count, &k);
	if (v)
		*v += ctx->data_end - ctx->data;
}

/* Each frame that is sent is counted; ahead of schedule, the iteration is spent
 * without sending (XDP_DROP), so spacing calls is never needed. */
SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	if (interval_ns) {
		__u32 k = 0;
		__u64 now = bpf_ktime_get_ns(), *next = bpf_map_lookup_elem(&bench_pace, &k);

		if (!next)
			return XDP_DROP;
		if (now < *next)
			return XDP_DROP;
		*next = (*next + interval_ns > now) ? *next + interval_ns : now + interval_ns;
	}
	{
		void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

		__u32 cpu = bpf_get_smp_processor_id() % GEN_CPUS;

		if (data + GEN_HDR > end)
			return XDP_DROP;
		__builtin_memcpy(data, gen_hdr[cpu], GEN_HDR);
	}
	count(ctx);
	return XDP_TX;
}

/* Counts IPv4 UDP only: the neighbour and router chatter of the topology is not
 * traffic the generator sent. */
SEC("xdp")
int bench_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 *proto = data + sizeof(*eth) + 9;

	if ((void *)(proto + 1) <= end && eth->h_proto == bpf_htons(ETH_P_IP) && *proto == 17)
		count(ctx);
	return XDP_DROP;
}

SEC("xdp")
int bench_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	if (!fwd_keep_mac)
		__builtin_memcpy(eth->h_dest, (const void *)fwd_mac, ETH_ALEN);
	count(ctx);
	return bpf_redirect_map(&bench_tx, 0, XDP_DROP);
}

/* Does nothing: on a veth it gives the device NAPI, so that frames other XDP programs
 * send into it (XDP_TX from its peer, redirects) are received. */
SEC("xdp")
int bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* ---- MACs over a DATA message's bytes, timed through BPF_PROG_TEST_RUN ----
 * What node_data.h's tag covers: a 40-byte header (a copy on the stack, as there)
 * and the inner packet, here the frame from its IPv4 header to its end. The tag
 * goes to mac_out, which the bench compares with the agent's SipHash-2-4. */
#define MAC_HDR		((int)sizeof(struct xchan_hdr))
__u8 mac_key[16];
__u8 mac_hdr[MAC_HDR];
__u64 mac_out;

/* SipHash-c-d for c 1 or 2 and d 3 or 4 only (2-4 and 1-3 are measured); the loop
 * is node_data.h's tag_compute (whole-word loads, SIP_BLOCK words to a bounds check). */
static __always_inline void sipc_word(struct sip *s, __u64 m, const int c)
{
	s->v3 ^= m;
	sip_round(s);
	if (c > 1)
		sip_round(s);
	s->v0 ^= m;
}

static __always_inline __u64 sipc_mac(struct xdp_md *ctx, const int c, const int d)
{
	__u8 *p = (void *)(long)ctx->data + ETH_HLEN, *end = (void *)(long)ctx->data_end;
	__u8 hdr[MAC_HDR] __attribute__((aligned(8)));
	__u32 len, words, blocks, rem, i, j;
	__u64 last = 0;
	struct sip s;

	if ((void *)p > (void *)end)
		return 0;
	len = (void *)end - (void *)p;
	if (len > XCHAN_MAX_INNER)
		return 0;
	words = len / 8;
	blocks = words / SIP_BLOCK;
	rem = len & 7;
	__builtin_memcpy(hdr, mac_hdr, MAC_HDR);
	sip_init(&s, ld64(mac_key), ld64(mac_key + 8));
	for (i = 0; i < MAC_HDR / 8; i++)
		sipc_word(&s, ld64(hdr + i * 8), c);
	for (i = 0; i < SIP_MAX_BLOCKS; i++) {
		__u8 *q = p + i * (8 * SIP_BLOCK);

		if (i >= blocks)
			break;
		if ((void *)(q + 8 * SIP_BLOCK) > (void *)end)
			return 0;
		for (j = 0; j < SIP_BLOCK; j++)
			sipc_word(&s, ld64(q + j * 8), c);
	}
	for (i = 0; i < SIP_BLOCK - 1; i++) {
		__u8 *q = p + ((blocks * (8 * SIP_BLOCK)) & SIP_OFF_MASK) + i * 8;

		if (i >= words % SIP_BLOCK)
			break;
		if ((void *)(q + 8) > (void *)end)
			return 0;
		sipc_word(&s, ld64(q), c);
	}
	for (i = 0; i < 7; i++) {
		__u8 *q = p + ((words * 8) & SIP_OFF_MASK) + i;	/* the mask keeps the verifier's bound */

		if (i >= rem)
			break;
		if ((void *)(q + 1) > (void *)end)
			return 0;
		last |= (__u64)*q << (8 * i);
	}
	sipc_word(&s, last | ((__u64)(MAC_HDR + len) << 56), c);
	s.v2 ^= 0xff;
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	if (d > 3)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

SEC("xdp")
int bench_sip24(struct xdp_md *ctx)
{
	mac_out = sipc_mac(ctx, 2, 4);
	return XDP_PASS;
}

SEC("xdp")
int bench_sip13(struct xdp_md *ctx)
{
	mac_out = sipc_mac(ctx, 1, 3);
	return XDP_PASS;
}
