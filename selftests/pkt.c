// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pkt.c: the packet builder of the tests, the bench and the fuzzer (the agent builds
 * its one control frame itself, in user/lib/cmm.c). */
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

/* Headers are composed in aligned locals and copied in: the IPv4 header sits at
 * offset 14 of the frame, which is not 4-byte aligned. */
size_t pkt_build(uint8_t *buf, size_t cap, const struct pkt_spec *s)
{
	size_t iphl = sizeof(struct iphdr) + s->ip_opt_len;
	size_t xl = s->xh ? sizeof(*s->xh) : 0;
	size_t l4 = sizeof(struct udphdr) + xl + s->payload_len;
	size_t len = sizeof(struct ethhdr) + iphl + l4;
	uint8_t proto = s->proto ? s->proto : IPPROTO_UDP;
	uint8_t iphbuf[60 + 4];
	struct ethhdr eth;
	struct iphdr iph = {};
	struct udphdr udph = {};
	uint8_t *ipp = buf + sizeof(eth), *udpp = ipp + iphl;

	if (len > cap || iphl > 60)
		return 0;
	memset(buf, 0, len);
	memcpy(eth.h_dest, s->dst_mac, 6);
	memcpy(eth.h_source, s->src_mac, 6);
	eth.h_proto = htons(s->eth_proto ? s->eth_proto : ETH_P_IP);
	memcpy(buf, &eth, sizeof(eth));

	iph.version = 4;
	iph.ihl = s->ihl ? s->ihl : iphl / 4;
	iph.tot_len = htons(s->ip_tot_len ? s->ip_tot_len : iphl + l4);
	iph.frag_off = htons(s->frag_off);
	iph.ttl = s->ttl_zero ? 0 : (s->ttl ? s->ttl : 64);
	iph.protocol = proto;
	iph.saddr = s->saddr;
	iph.daddr = s->daddr;
	memcpy(iphbuf, &iph, sizeof(iph));
	if (s->ip_opt_len)
		memset(iphbuf + sizeof(iph), 1 /* NOP */, s->ip_opt_len);
	iph.check = pkt_csum(iphbuf, iphl, 0);
	memcpy(iphbuf, &iph, sizeof(iph));
	memcpy(ipp, iphbuf, iphl);

	/* The L4 header is laid out as UDP whatever proto says: tests only need bytes. */
	udph.source = htons(s->sport);
	udph.dest = htons(s->dport);
	udph.len = htons(s->udp_len ? s->udp_len : l4);
	memcpy(udpp, &udph, sizeof(udph));
	if (s->xh)
		memcpy(udpp + sizeof(udph), s->xh, xl);
	if (s->payload_len)
		memcpy(udpp + sizeof(udph) + xl, s->payload, s->payload_len);
	if (proto == IPPROTO_UDP) {
		/* pseudo header: saddr, daddr, proto, length */
		const uint8_t *a = ipp + 12;
		uint32_t sum = 0;

		for (int i = 0; i < 8; i += 2)
			sum += (uint32_t)a[i] << 8 | a[i + 1];
		sum += proto + l4;
		udph.check = pkt_csum(udpp, l4, sum);
		if (!udph.check)
			udph.check = 0xffff;
		memcpy(udpp, &udph, sizeof(udph));
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
