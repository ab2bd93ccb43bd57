/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* stats.h: the one exit every verdict leaves through (per-reason counters), and
 * audit events into the ring buffer. Events carry ids and addresses, never keys.
 */
#ifndef XCHAN_STATS_H
#define XCHAN_STATS_H

#include "maps.h"

/* The barrier makes clang load the field at its offset from ctx itself: the
 * verifier refuses a ctx pointer that was moved first and dereferenced later. */
static __always_inline __u32 ctx_ifindex(struct xdp_md *ctx)
{
	asm volatile("" : "+r"(ctx));
	return ctx->ingress_ifindex;
}

static __always_inline void emit_event(struct xdp_md *ctx, __u32 kind, __u32 reason,
				       __be32 saddr, __be32 daddr, __u8 msg_type,
				       const struct xchan_chan_id *id)
{
	struct xchan_event *e;

	e = bpf_ringbuf_reserve(&xchan_events, sizeof(*e), 0);
	if (!e) {
		__u32 lost = XR_EVENT_LOST;
		struct xchan_counter *c = bpf_map_lookup_elem(&xchan_stats, &lost);

		if (c)
			c->packets++;
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->kind = kind;
	e->reason = reason;
	e->ifindex = ctx_ifindex(ctx);
	e->saddr = saddr;
	e->daddr = daddr;
	e->msg_type = msg_type;
	e->pad[0] = e->pad[1] = e->pad[2] = 0;
	if (id)
		e->id = *id;
	else
		__builtin_memset(&e->id, 0, sizeof(e->id));
	bpf_ringbuf_submit(e, 0);
}

/* Count the verdict; drops are sampled into the event stream. */
static __always_inline int verdict(struct xdp_md *ctx, __u32 reason, int action,
				   __be32 saddr, __be32 daddr)
{
	struct xchan_counter *c = bpf_map_lookup_elem(&xchan_stats, &reason);
	__u64 n = 0;

	if (c) {
		n = c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
	if (action == XDP_DROP && !(n & ((1ULL << drop_sample_shift) - 1)))
		emit_event(ctx, XCHAN_E_DROP, reason, saddr, daddr, 0, 0);
	return action;
}

#endif /* XCHAN_STATS_H */
