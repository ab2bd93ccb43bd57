/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* control.h: CONNECT and CLOSE on the trusted path (scheme steps 3-4). The CMM of
 * the sending side checks its own OUT authorization, stores the key insert-if-absent,
 * and answers in place (XDP_TX) with ACK or NACK; the answer never carries the key.
 */
#ifndef XCHAN_CONTROL_H
#define XCHAN_CONTROL_H

#include "parse.h"
#include "stats.h"

/* Turn the request into its answer, addressed back to where it came from. */
static __always_inline void ctrl_reply(struct ethhdr *eth, struct iphdr *iph,
				       struct udphdr *udph, struct xchan_hdr *xh,
				       __u8 type, __u16 reason)
{
	__u8 mac[ETH_ALEN];
	__be32 a;
	__be16 p;

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	a = iph->saddr; iph->saddr = iph->daddr; iph->daddr = a;	/* csum unchanged */
	p = udph->source; udph->source = udph->dest; udph->dest = p;
	udph->check = 0;
	a = xh->src_part; xh->src_part = xh->dst_part; xh->dst_part = a;
	p = xh->src_ep; xh->src_ep = xh->dst_ep; xh->dst_ep = p;
	xh->type = type;
	xh->reason = bpf_htons(reason);
	__builtin_memset(xh->auth, 0, sizeof(xh->auth));
}

/* The OUT entry on this side that a CONNECT/CLOSE from the receiver refers to. */
static __always_inline void ctrl_out_id(const struct xchan_hdr *xh, struct xchan_chan_id *id)
{
	id->local_part = bpf_ntohl(xh->dst_part);
	id->remote_part = bpf_ntohl(xh->src_part);
	id->local_ep = bpf_ntohs(xh->dst_ep);
	id->remote_ep = bpf_ntohs(xh->src_ep);
	id->dir = XCHAN_DIR_OUT;
	id->pad[0] = id->pad[1] = id->pad[2] = 0;
}

static __always_inline int handle_connect(struct xdp_md *ctx, struct ethhdr *eth,
					  struct iphdr *iph, struct udphdr *udph,
					  struct xchan_hdr *xh)
{
	struct xchan_chan_id id;
	struct xchan_channel *ch;
	struct xchan_key k = { .owner = XCHAN_OWNER_REMOTE };
	__u32 reason;
	long err;

	ctrl_out_id(xh, &id);
	ch = bpf_map_lookup_elem(&xchan_channels, &id);
	if (!ch) {
		reason = XR_NACK_NO_OUT;
		emit_event(ctx, XCHAN_E_CONNECT_REFUSED, reason, iph->saddr, iph->daddr,
			   xh->type, &id);
		goto nack;
	}
	__builtin_memcpy(k.key, xh->auth, XCHAN_KEY_LEN);
	err = bpf_map_update_elem(&xchan_keys, &id, &k, BPF_NOEXIST);
	__builtin_memset(k.key, 0, XCHAN_KEY_LEN);
	if (err == -17 /* EEXIST */) {
		reason = XR_NACK_EXISTS;
		emit_event(ctx, XCHAN_E_EXCLUSION, reason, iph->saddr, iph->daddr,
			   xh->type, &id);
		goto nack;
	}
	if (err) {
		reason = XR_NACK_INTERNAL;
		goto nack;
	}
	ch->state = XCHAN_S_ESTABLISHED;
	ch->established_ns = bpf_ktime_get_ns();
	emit_event(ctx, XCHAN_E_ESTABLISHED, XR_CTRL_ACK, iph->saddr, iph->daddr,
		   xh->type, &id);
	ctrl_reply(eth, iph, udph, xh, XCHAN_T_CONNECT_ACK, 0);
	return verdict(ctx, XR_CTRL_ACK, XDP_TX, 0, 0);
nack:
	ctrl_reply(eth, iph, udph, xh, XCHAN_T_CONNECT_NACK, reason);
	return verdict(ctx, reason, XDP_TX, 0, 0);
}

static __always_inline int handle_close(struct xdp_md *ctx, struct ethhdr *eth,
					struct iphdr *iph, struct udphdr *udph,
					struct xchan_hdr *xh)
{
	struct xchan_chan_id id;
	struct xchan_channel *ch;

	ctrl_out_id(xh, &id);
	bpf_map_delete_elem(&xchan_keys, &id);
	ch = bpf_map_lookup_elem(&xchan_channels, &id);
	if (ch) {
		ch->state = XCHAN_S_AUTHORIZED;
		ch->established_ns = 0;
	}
	emit_event(ctx, XCHAN_E_CLOSED, XR_CTRL_CLOSE, iph->saddr, iph->daddr, xh->type, &id);
	ctrl_reply(eth, iph, udph, xh, XCHAN_T_CLOSE_ACK, 0);
	return verdict(ctx, XR_CTRL_CLOSE, XDP_TX, 0, 0);
}

/* Only reached with ingress_ifindex == trusted_ifindex, i.e. from the agent. */
static __always_inline int handle_control(struct xdp_md *ctx, struct cursor *c,
					  struct ethhdr *eth)
{
	struct iphdr *iph;
	struct udphdr *udph;
	struct xchan_hdr *xh;
	int r;

	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return verdict(ctx, XR_DROP_CTRL_MALFORMED, XDP_DROP, 0, 0);
	r = parse_ipv4(c, &iph);
	if (r != XCHAN_CONT)
		return verdict(ctx, r, XDP_DROP, 0, 0);
	if (iph->protocol != IPPROTO_UDP)
		return verdict(ctx, XR_DROP_CTRL_MALFORMED, XDP_DROP, 0, 0);
	r = parse_udp(c, iph, &udph);
	if (r != XCHAN_CONT)
		return verdict(ctx, r, XDP_DROP, 0, 0);
	if (udph->dest != bpf_htons(ctrl_port))
		return verdict(ctx, XR_DROP_CTRL_MALFORMED, XDP_DROP, 0, 0);
	/* The header must lie inside the datagram, not in the frame's padding. */
	if (bpf_ntohs(udph->len) < sizeof(*udph) + sizeof(*xh))
		return verdict(ctx, XR_DROP_CTRL_MALFORMED, XDP_DROP, 0, 0);
	r = parse_xchan(c, &xh);
	if (r != XCHAN_CONT)
		return verdict(ctx, r, XDP_DROP, 0, 0);
	if (xh->type == XCHAN_T_CONNECT)
		return handle_connect(ctx, eth, iph, udph, xh);
	if (xh->type == XCHAN_T_CLOSE)
		return handle_close(ctx, eth, iph, udph, xh);
	return verdict(ctx, XR_DROP_CTRL_MALFORMED, XDP_DROP, 0, 0);
}

#endif /* XCHAN_CONTROL_H */
