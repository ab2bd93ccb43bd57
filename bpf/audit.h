/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* audit.h: the event stream for both programs (the CMM and the receive side): every
 * event is charged to its source's token bucket, so that a flood from one partition or
 * peer is suppressed and counted against that source alone. Events never carry keys.
 */
#ifndef XCHAN_AUDIT_H
#define XCHAN_AUDIT_H

#include "maps.h"

static __always_inline void stat_bump(__u32 reason)
{
	struct xchan_counter *c = bpf_map_lookup_elem(&xchan_stats, &reason);

	if (c)
		c->packets++;
}

/* A new bucket: empty, last refilled at boot, so the first take fills it. Global,
 * not on the stack: the CMM's stack is nearly all used. */
const struct xchan_evlimit evlimit_fresh = {};

/* A new peer's bucket starts nearly empty and refills from now: whoever rotates
 * spoofed outer addresses gets a few events per address, not a full burst each. */
#define XCHAN_EVENT_PEER_START	4
struct xchan_evlimit evlimit_peer_fresh = {};

/* All peers together also share one bucket (kind peer, id 0, in xchan_evlimit, out of
 * the LRU's reach): however many addresses a flood claims, peer events stay within
 * one source's budget. */
static __always_inline struct xchan_evlimit *evlimit_peers_all(void)
{
	struct xchan_src_key all = { .id = 0, .kind = XCHAN_SRC_PEER };
	struct xchan_evlimit *l = bpf_map_lookup_elem(&xchan_evlimit, &all);

	if (l)
		return l;
	bpf_map_update_elem(&xchan_evlimit, &all, &evlimit_fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&xchan_evlimit, &all);
}

/* The source's bucket, made on its first event. Peers live in their own LRU: their
 * addresses are whatever the fabric claims. */
static __always_inline struct xchan_evlimit *evlimit_of(const struct xchan_src_key *src,
							__u64 now)
{
	const struct xchan_evlimit *fresh = &evlimit_fresh;
	struct xchan_evlimit *l;

	if (src->kind == XCHAN_SRC_PEER) {
		l = bpf_map_lookup_elem(&xchan_evpeer, src);
		if (l)
			return l;
		/* a shared template, racy across CPUs: at worst a bucket starts a
		 * little later or earlier, never fuller */
		evlimit_peer_fresh.last_ns = now;
		evlimit_peer_fresh.tokens = XCHAN_EVENT_PEER_START;
		bpf_map_update_elem(&xchan_evpeer, src, &evlimit_peer_fresh, BPF_NOEXIST);
		return bpf_map_lookup_elem(&xchan_evpeer, src);
	}
	/* interfaces are not registered: their buckets must not fill the map that
	 * holds the partitions' (sized for them), so they live in the LRU too */
	if (src->kind == XCHAN_SRC_IFACE) {
		l = bpf_map_lookup_elem(&xchan_evpeer, src);
		if (l)
			return l;
		bpf_map_update_elem(&xchan_evpeer, src, fresh, BPF_NOEXIST);
		return bpf_map_lookup_elem(&xchan_evpeer, src);
	}
	l = bpf_map_lookup_elem(&xchan_evlimit, src);
	if (l)
		return l;
	bpf_map_update_elem(&xchan_evlimit, src, fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&xchan_evlimit, src);
}

/* 1 when the source may emit now. Without a lock two CPUs may both take the last
 * token: the clamp turns the wrapped count back into an empty bucket. */
static __always_inline int evlimit_take(struct xchan_evlimit *l, __u64 now)
{
	__u64 add = (now - l->last_ns) / XCHAN_EVENT_NS_PER_TOKEN;

	if (add) {
		l->tokens = l->tokens + add > XCHAN_EVENT_BURST ? XCHAN_EVENT_BURST :
								   l->tokens + add;
		l->last_ns = now;
	}
	if (!l->tokens || l->tokens > XCHAN_EVENT_BURST) {
		l->tokens = 0;
		__sync_fetch_and_add(&l->suppressed, 1);
		__sync_fetch_and_add(&l->pending, 1);
		return 0;
	}
	l->tokens--;
	return 1;
}

/* What an event says, packed into scalars for event_put: the CMM's stack has no room
 * left for a struct of arguments at every site that audits. */
#define EV_WHAT(kind, msg_type, reason) \
	(((__u64)(kind) << 24) | ((__u64)(msg_type) << 16) | ((reason) & 0xffff))
#define EV_ADDRS(saddr, daddr)	(((__u64)(saddr) << 32) | (__u32)(daddr))
#define EV_SRC(kind, id)	(((__u64)(kind) << 32) | (__u32)(id))

static __always_inline void event_put(__u32 ifindex, __u32 what, __u64 addrs, __u64 src,
				      const struct xchan_chan_id *id)
{
	struct xchan_src_key k = { .id = (__u32)src, .kind = src >> 32 };
	__u64 now = bpf_ktime_get_ns();
	/* the trusted path is the agent's own doing (only root runs it): unlimited */
	struct xchan_evlimit *l = k.kind == XCHAN_SRC_HOST ? 0 : evlimit_of(&k, now);
	__u32 suppressed = 0;
	struct xchan_event *e;

	if (l) {
		if (!evlimit_take(l, now)) {
			stat_bump(XR_EVENT_SUPPRESSED);
			return;
		}
		if (k.kind == XCHAN_SRC_PEER) {
			struct xchan_evlimit *all = evlimit_peers_all();

			if (all && !evlimit_take(all, now)) {
				/* the peer's own count says what it lost */
				__sync_fetch_and_add(&l->suppressed, 1);
				__sync_fetch_and_add(&l->pending, 1);
				stat_bump(XR_EVENT_SUPPRESSED);
				return;
			}
		}
		suppressed = __sync_lock_test_and_set(&l->pending, 0);
	}
	e = bpf_ringbuf_reserve(&xchan_events, sizeof(*e), 0);
	if (!e) {
		stat_bump(XR_EVENT_LOST);
		if (l)
			__sync_fetch_and_add(&l->lost, 1);
		return;
	}
	if (l)
		__sync_fetch_and_add(&l->emitted, 1);
	e->ts_ns = now;
	e->kind = what >> 24;
	e->msg_type = (what >> 16) & 0xff;
	e->reason = what & 0xffff;
	e->ifindex = ifindex;
	e->saddr = addrs >> 32;
	e->daddr = (__u32)addrs;
	e->pad[0] = e->pad[1] = e->pad[2] = 0;
	if (id)
		e->id = *id;
	else
		__builtin_memset(&e->id, 0, sizeof(e->id));
	e->src = k;
	e->suppressed = suppressed;
	e->pad2 = 0;
	bpf_ringbuf_submit(e, 0);
}

#endif /* XCHAN_AUDIT_H */
