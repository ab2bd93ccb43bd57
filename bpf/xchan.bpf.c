// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xchan.bpf.c: the CMM entry program. It only dispatches on where the frame came
 * from (the agent's trusted path, a partition, the uplink) and leaves through the
 * one exit; the stages are the headers below. xchan_rx is the receive side.
 */
#include "partition.h"
#include "uplink.h"
#include "control.h"
#include "verdict.h"
#include "receive.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline enum xchan_reason dispatch(struct xpkt *pkt, __u32 ifindex)
{
	if (ifindex == trusted_ifindex)
		return from_trusted(pkt);
	pkt->src = partition_of(ifindex);
	if (pkt->src) {
		BENCH_STOP(1);
		return from_partition(pkt);
	}
	if (is_uplink(ifindex))
		return from_uplink(pkt);
	return XR_DROP_UNKNOWN_IFACE;
}

/* bench_spread (maps.h): the ports of channel i as bench/testrun.c fills the table,
 * B:(10000 + i % 50000) -> A:(7000 + i / 50000). */
static __always_inline void bench_pick(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct udphdr *u = data + ETH_HLEN + sizeof(struct iphdr);
	__u32 i;

	if ((void *)(u + 1) > end || bench_spread < 2)
		return;
	i = 1 + bpf_get_prandom_u32() % (bench_spread - 1);
	u->source = bpf_htons(10000 + i % 50000);
	u->dest = bpf_htons(7000 + i / 50000);
}

SEC("xdp")
int xchan_cmm(struct xdp_md *ctx)
{
	struct xpkt pkt = {
		.ctx = ctx,
		.c = { (void *)(long)ctx->data, (void *)(long)ctx->data_end },
	};
	int r;

	if (bench_spread)
		bench_pick(ctx);
	r = parse_eth(&pkt.c, &pkt.eth);
	if (r == XCHAN_CONT)
		r = dispatch(&pkt, ctx_ifindex(ctx));
	if (bench_stop && r == XCHAN_STOP)
		return XDP_PASS;
	return verdict(&pkt, r);
}

/* The receive side: TC egress on each partition's host-side veth (receive.h). */
SEC("tc")
int xchan_rx(struct __sk_buff *skb)
{
	struct rxpkt rx = { .skb = skb };

	return rx_verdict(&rx, receive(&rx));
}
