/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* rx_origin.h: where a frame the host delivers into a partition came from: the
 * partition whose veth it entered the host on, whose MAC or IPv4 it carries, or whose
 * address conntrack remembers from before a NAT rewrote it.
 */
#ifndef XCHAN_RX_ORIGIN_H
#define XCHAN_RX_ORIGIN_H

#include "rxpkt.h"

/* Only the fields read here, relocated by name against the running kernel (CO-RE). */
union nf_inet_addr {
	__u32 all[4];
	__be32 ip;
} __attribute__((preserve_access_index));
struct nf_conntrack_man {
	union nf_inet_addr u3;
} __attribute__((preserve_access_index));
struct nf_conntrack_tuple {
	struct nf_conntrack_man src;
} __attribute__((preserve_access_index));
struct nf_conntrack_tuple_hash {
	struct nf_conntrack_tuple tuple;
} __attribute__((preserve_access_index));
struct nf_conn {
	struct nf_conntrack_tuple_hash tuplehash[2];	/* original, reply */
} __attribute__((preserve_access_index));

/* The kernel's layout (net/netfilter/nf_conntrack_bpf.c); 16 bytes since 6.8. */
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u16 ct_zone_id;
	__u8 ct_zone_dir;
	__u8 reserved[3];
};

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct bpf_ct_opts *opts,
					 __u32 opts__sz) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;

/* A partition other than the receiver, by address (local or on another node). */
static __always_inline __u32 origin_by_ip(struct rxpkt *rx, __be32 addr)
{
	struct xchan_address *a = bpf_map_lookup_elem(&xchan_addrs, &addr);

	if (!a || a->part_id == rx->dst->part_id)
		return 0;
	rx->oaddr = a;
	return a->part_id;
}

/* By the link: the host-side veth the frame entered on (routed and bridged frames
 * keep it; the host's own have none), else a partition's MAC as source (bridged;
 * the CMM lets a partition send only with its own). */
static __always_inline __u32 origin_l2(struct rxpkt *rx)
{
	__u32 in = rx->skb->ingress_ifindex;
	const struct xchan_partition *p = in ? bpf_map_lookup_elem(&xchan_partition, &in) : 0;
	struct xchan_mac_key k = { .pad = 0 };
	__u32 *id;

	if (p && p->part_id != rx->dst->part_id) {
		rx->origin_by_link = 1;
		return p->part_id;
	}
	__builtin_memcpy(k.mac, rx->eth.h_source, ETH_ALEN);
	id = bpf_map_lookup_elem(&xchan_macs, &k);
	if (id && *id != rx->dst->part_id)
		return *id;
	return 0;
}

/* A NAT hides the partition behind the host's address: conntrack still knows both
 * ends before translation. The packet travels in the original direction when its
 * inverse is the reply tuple, in the reply direction when its inverse is the
 * original one; either way one of the two recorded sources is whoever really sent
 * it, and the other is the receiver. TCP and UDP only (the kfunc's), and not for a
 * non-first fragment, whose ports are elsewhere. */
static __always_inline __u32 origin_conntrack(struct rxpkt *rx)
{
	struct bpf_ct_opts o = { .netns_id = BPF_F_CURRENT_NETNS, .l4proto = rx->ip.protocol };
	struct bpf_sock_tuple t = {};
	struct nf_conn *ct;
	__be16 ports[2];
	__u32 id;

	if ((rx->ip.protocol != IPPROTO_UDP && rx->ip.protocol != IPPROTO_TCP) ||
	    (rx->ip.frag_off & bpf_htons(XCHAN_IP_FRAG_MASK)))
		return 0;
	if (bpf_skb_load_bytes(rx->skb, ETH_HLEN + rx->ip.ihl * 4, ports, sizeof(ports)))
		return 0;
	t.ipv4.saddr = rx->ip.daddr;
	t.ipv4.daddr = rx->ip.saddr;
	t.ipv4.sport = ports[1];
	t.ipv4.dport = ports[0];
	ct = bpf_skb_ct_lookup(rx->skb, &t, sizeof(t.ipv4), &o, sizeof(o));
	if (!ct)
		return 0;
	id = origin_by_ip(rx, ct->tuplehash[0].tuple.src.u3.ip);
	if (!id)
		id = origin_by_ip(rx, ct->tuplehash[1].tuple.src.u3.ip);
	bpf_ct_release(ct);
	return id;
}

#endif /* XCHAN_RX_ORIGIN_H */
