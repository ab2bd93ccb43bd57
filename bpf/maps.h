/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* maps.h: the CMM's tables (pinned by the agent) and its load-time configuration. */
#ifndef XCHAN_MAPS_H
#define XCHAN_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xchan.h"
#include "nh.h"

/* Set by the agent before load; constant for the program's lifetime. */
const volatile __u32 trusted_ifindex = XCHAN_TRUSTED_IFINDEX;
const volatile __u16 ctrl_port = XCHAN_UDP_PORT;
const volatile __u8 fwd_redirect = 1;		/* 1: devmap redirect, 0: XDP_PASS */
const volatile __u8 drop_sample_shift = XCHAN_DROP_SAMPLE_SHIFT;
/* Benchmarks only: bench/testrun.c loads a copy of the CMM over the same maps with
 * this set, and the allowed path stops after stage N and passes (per-stage costs).
 * 0 in every real instance: a known rodata branch, which the verifier removes. */
const volatile __u8 bench_stop = 0;
/* Benchmarks only: n > 1 makes every frame channel i (1 <= i < n, at random) of the
 * scale bench's table, so that lookups miss the cache as many channels would. */
const volatile __u32 bench_spread = 0;
#define XCHAN_STOP	(-2)	/* bench_stop reached: not a verdict, not counted */
#define BENCH_STOP(n)	do { if (bench_stop == (n)) return XCHAN_STOP; } while (0)

/* Default sizes (32768 channels: two entries and keys each); the agent overrides
 * them with bpf_map__set_max_entries(). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);			/* host-side ifindex */
	__type(value, struct xchan_partition);
} xchan_partition SEC(".maps");

/* The same rows as xchan_partition for host ifindexes below its size, which the
 * agent writes beside the hash (user/lib/rows.c): an array lookup is inlined by the
 * verifier where a hash lookup costs a function call and a hash (about 20 ns of the
 * allowed path's 170 in test_run). part_id 0: no partition on that interface. */
#define XCHAN_IFPART_SLOTS 65536
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XCHAN_IFPART_SLOTS);
	__type(key, __u32);			/* host-side ifindex */
	__type(value, struct xchan_partition);
} xchan_ifpart SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __be32);			/* IPv4 address */
	__type(value, struct xchan_address);
} xchan_addrs SEC(".maps");

/* Each side of each channel: authorization and keys (include/xchan.h).
 * Preallocated: the CMM writes OUT entries in place and never inserts. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xchan_chan_id);
	__type(value, struct xchan_channel);
} xchan_channels SEC(".maps");

/* A channel's counters, in the slot its entry names (include/xchan.h): an array,
 * so the lookup is inlined, shared by CPUs (added to atomically), mapped by the
 * agent (key_ns). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32768);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xchan_chan_counter);
} xchan_counts SEC(".maps");

/* The slot bitmap and the change sequence (include/xchan.h), mapped by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XCHAN_FLOWSLOT_WORDS(32768));
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} xchan_slotalloc SEC(".maps");

/* xchan_flowcache: each CPU's copy of what the full path found for a frame's key at
 * each place (bpf/flow.h): the receiver and the counter slot, no key bytes. A copy
 * counts only while word 1 of xchan_slotalloc, the change sequence, still holds the
 * value read before the full path's lookups. The program's own: not pinned. */
#define XCHAN_FLOWCACHE_BITS	10
#define XCHAN_FLOWCACHE_NONE	(~0ULL)	/* a sequence no instance reaches: a place being made */
struct xchan_flowcache_slot {
	struct xchan_flow_key	k;	/* the frame's key the copy was made for */
	__u32			dst_part;
	__u64			seq;	/* xchan_flowalloc[1] when it was made */
	__u32			dst_ifindex;
	__u32			slot;
};
_Static_assert(sizeof(struct xchan_flowcache_slot) == 32, "a flow cache place");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << XCHAN_FLOWCACHE_BITS);
	__type(key, __u32);
	__type(value, struct xchan_flowcache_slot);
} xchan_flowcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XR__MAX);
	__type(key, __u32);			/* enum xchan_reason */
	__type(value, struct xchan_counter);
} xchan_stats SEC(".maps");

/* Verdicts by partition and reason (include/xchan.h): made by the datapath for
 * registered partitions only, removed with the partition by the agent; not
 * preallocated (a partition meets a few reasons). Room for every reason of every partition. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, XCHAN_PARTSTATS_PER_PART * 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xchan_partstat_key);
	__type(value, struct xchan_counter);
} xchan_partstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);			/* host-side ifindex of a partition */
	__type(value, __u32);
} xchan_devmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);			/* partition id */
	__type(value, struct xchan_part_meta);
} xchan_partmeta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct xchan_mac_key);	/* a partition's own MAC */
	__type(value, __u32);			/* its partition id */
} xchan_macs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xchan_config);
} xchan_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);			/* node id */
	__type(value, struct xchan_node);
} xchan_nodes SEC(".maps");

/* Only channels from other nodes have a window, made by the agent (never by the
 * datapath): not preallocated, so that channels within the node cost nothing here
 * (preallocated, the windows took 353 of 940 bytes per channel at 1M). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xchan_chan_id);	/* IN entry */
	__type(value, struct xchan_replay);
} xchan_replay SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} xchan_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);			/* node id */
	__type(value, struct xchan_nexthop);
} xchan_nexthop SEC(".maps");

/* Never read by the CMM: the agent's control nonce, kept with the instance so that it
 * survives agent restarts (mapped by the agent, hence mmapable). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xchan_nonce);
} xchan_nonce SEC(".maps");

static __always_inline struct xchan_config *config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xchan_config, &zero);
}

/* Event budgets of the sources this node knows (partitions, by kind): bounded by
 * the partitions registered, removed with them by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * 4096 + 8);
	__type(key, struct xchan_src_key);
	__type(value, struct xchan_evlimit);
} xchan_evlimit SEC(".maps");

/* Event budgets of uplink peers, by outer source address: anyone on the fabric can
 * claim any address, so these live apart, in an LRU that cannot evict a partition's. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct xchan_src_key);
	__type(value, struct xchan_evlimit);
} xchan_evpeer SEC(".maps");

/* --forward pass: the host's MACs a partition's channel message may be addressed to
 * (the host routes it), by the partition's host-side veth: that veth's own and, on a
 * bridge, the bridge's (zero when none). Written where the receive side is attached
 * (user/lib/tc.c); no entry: only the receiver's own MAC will do. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct xchan_gwmac);
} xchan_gwmac SEC(".maps");

/* The last control nonce accepted per peer node (include/xchan.h): never lowered,
 * never replaced, left in place by `node del`; the CMM raises it in place. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);	/* ids ever added: entries outlive nodes */
	__type(key, __u32);			/* node id */
	__type(value, struct xchan_peernonce);
} xchan_peernonce SEC(".maps");

/* NH keys per peer node, node key and direction (include/nh.h): written by the agent
 * with the node key, before it is used, and deleted after it is retired; read per
 * DATA frame between nodes that use NH tags. Not preallocated: 1472 bytes a key. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2048);	/* 256 nodes x 2 node keys x 2 directions, twice */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xchan_nh_id);
	__type(value, struct xchan_nh_key);
} xchan_nhkeys SEC(".maps");

#endif /* XCHAN_MAPS_H */
