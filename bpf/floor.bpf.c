// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* floor.bpf.c: the benchmark floor: parse eth/ipv4/udp and one 16-byte-key hash
 * lookup, nothing else. The CMM's cost is reported as a ratio to this.
 */
#include "parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct xchan_chan_id);
	__type(value, struct xchan_channel);
} floor_keys SEC(".maps");

SEC("xdp")
int xchan_floor(struct xdp_md *ctx)
{
	struct cursor c = { (void *)(long)ctx->data, (void *)(long)ctx->data_end };
	struct xchan_chan_id id = { .dir = XCHAN_DIR_OUT };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct udphdr *udph;

	if (parse_eth(&c, &eth) != XCHAN_CONT || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_DROP;
	if (parse_ipv4(&c, &iph) != XCHAN_CONT || iph->protocol != IPPROTO_UDP)
		return XDP_DROP;
	if (parse_udp(&c, iph, &udph) != XCHAN_CONT)
		return XDP_DROP;
	id.local_part = bpf_ntohl(iph->saddr);
	id.remote_part = bpf_ntohl(iph->daddr);
	id.local_ep = bpf_ntohs(udph->source);
	id.remote_ep = bpf_ntohs(udph->dest);
	return bpf_map_lookup_elem(&floor_keys, &id) ? XDP_PASS : XDP_DROP;
}
