// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pkt.c: the packet builder shared by the agent (control frames) and the tests. */
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include "pkt.h"

uint16_t pkt_csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

size_t pkt_build(uint8_t *buf, size_t cap, const struct pkt_spec *s)
{
	size_t iphl = sizeof(struct iphdr) + s->ip_opt_len;
	size_t xl = s->xh ? sizeof(*s->xh) : 0;
	size_t l4 = sizeof(struct udphdr) + xl + s->payload_len;
	size_t len = sizeof(struct ethhdr) + iphl + l4;
	struct ethhdr *eth = (void *)buf;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udph = (void *)((uint8_t *)iph + iphl);
	uint8_t proto = s->proto ? s->proto : IPPROTO_UDP;

	if (len > cap)
		return 0;
	memset(buf, 0, len);
	memcpy(eth->h_dest, s->dst_mac, 6);
	memcpy(eth->h_source, s->src_mac, 6);
	eth->h_proto = htons(s->eth_proto ? s->eth_proto : ETH_P_IP);

	iph->version = 4;
	iph->ihl = s->ihl ? s->ihl : iphl / 4;
	iph->tot_len = htons(s->ip_tot_len ? s->ip_tot_len : iphl + l4);
	iph->frag_off = htons(s->frag_off);
	iph->ttl = s->ttl_zero ? 0 : (s->ttl ? s->ttl : 64);
	iph->protocol = proto;
	iph->saddr = s->saddr;
	iph->daddr = s->daddr;
	if (s->ip_opt_len)
		memset(iph + 1, 1 /* NOP */, s->ip_opt_len);
	iph->check = pkt_csum(iph, iphl, 0);

	/* The L4 header is laid out as UDP whatever proto says: tests only need bytes. */
	udph->source = htons(s->sport);
	udph->dest = htons(s->dport);
	udph->len = htons(s->udp_len ? s->udp_len : l4);
	if (s->xh)
		memcpy(udph + 1, s->xh, xl);
	if (s->payload_len)
		memcpy((uint8_t *)(udph + 1) + xl, s->payload, s->payload_len);
	if (proto == IPPROTO_UDP) {
		/* pseudo header: saddr, daddr, proto, length */
		uint32_t sum = 0;
		const uint8_t *a = (const uint8_t *)&iph->saddr;

		for (int i = 0; i < 8; i += 2)
			sum += (uint32_t)a[i] << 8 | a[i + 1];
		sum += proto + l4;
		udph->check = pkt_csum(udph, l4, sum);
		if (!udph->check)
			udph->check = 0xffff;
	}
	return len;
}

size_t pkt_build_arp(uint8_t *buf, size_t cap, const uint8_t src_mac[6],
		     const uint8_t sha[6], uint32_t spa, uint32_t tpa)
{
	size_t len = 14 + 28;
	uint8_t *a = buf + 14;

	if (len > cap)
		return 0;
	memset(buf, 0, len);
	memset(buf, 0xff, 6);
	memcpy(buf + 6, src_mac, 6);
	buf[12] = 0x08; buf[13] = 0x06;
	a[0] = 0; a[1] = 1;		/* Ethernet */
	a[2] = 0x08; a[3] = 0x00;	/* IPv4 */
	a[4] = 6; a[5] = 4;
	a[6] = 0; a[7] = 1;		/* request */
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, &spa, 4);
	memcpy(a + 24, &tpa, 4);
	return len;
}
