// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_l2.c: what is not IPv4 unicast: ARP (own, probe, spoofed), IPv6, frames
 * to another partition's MAC, VLAN tags, broadcast and multicast. */
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include "verdicts.h"

static void l2_arp(void)
{
	uint8_t pkt[PKT_MAX];
	size_t len;

	tap_begin();
	reset();
	len = pkt_build_arp(pkt, sizeof(pkt), MAC_B, MAC_B, IP_B, IP_A);
	expect(pkt, len, if_b, XDP_PASS, XR_PASS_ARP);
	tap_end("ARP for its own address passes");

	tap_begin();
	len = pkt_build_arp(pkt, sizeof(pkt), MAC_B, MAC_B, 0, IP_A);
	expect(pkt, len, if_b, XDP_PASS, XR_PASS_ARP);
	tap_end("ARP probe (sender 0.0.0.0) passes");

	tap_begin();
	len = pkt_build_arp(pkt, sizeof(pkt), MAC_B, MAC_B, IP_A, IP_C);
	expect(pkt, len, if_b, XDP_DROP, XR_DROP_SPOOF_ARP);
	ASSERT_TRUE(has_event(XCHAN_E_SPOOF, XR_DROP_SPOOF_ARP), "audit event");
	tap_end("ARP claiming another partition's address is dropped");

	tap_begin();
	len = pkt_build_arp(pkt, sizeof(pkt), MAC_B, MAC_A, IP_B, IP_C);
	expect(pkt, len, if_b, XDP_DROP, XR_DROP_SPOOF_ARP);
	tap_end("ARP with another partition's hardware address is dropped");

	tap_begin();
	len = pkt_build_arp(pkt, sizeof(pkt), MAC_B, MAC_B, IP_B, IP_A);
	memset(pkt + len, 0, 18);
	expect(pkt, len + 18, if_b, XDP_PASS, XR_PASS_ARP);
	pkt[len + 17] = 'x';
	expect(pkt, len + 18, if_b, XDP_DROP, XR_DROP_MALFORMED_ARP);
	memcpy(pkt + len, "BULK", 4);
	expect(pkt, len + 4, if_b, XDP_DROP, XR_DROP_MALFORMED_ARP);
	memset(pkt + len, 0, 20);
	expect(pkt, len + 20, if_b, XDP_DROP, XR_DROP_MALFORMED_ARP);
	tap_end("ARP: zero padding to 60 bytes passes; a trailer, data in the padding, or more is dropped");

	tap_begin();
	len = pkt_build_arp(pkt, sizeof(pkt), MAC_B, MAC_B, IP_B, IP_A);
	pkt[14 + 18] = 0x42;			/* request with data in tha */
	expect(pkt, len, if_b, XDP_DROP, XR_DROP_MALFORMED_ARP);
	pkt[14 + 7] = 2;			/* the same as a reply: tha is the asker's */
	expect(pkt, len, if_b, XDP_PASS, XR_PASS_ARP);
	pkt[14 + 7] = 9;			/* neither request nor reply */
	expect(pkt, len, if_b, XDP_DROP, XR_DROP_MALFORMED_ARP);
	tap_end("ARP: a request's tha must be zero; operations other than request and reply are dropped");
}

static void l2_not_ipv4_unicast(void)
{
	uint8_t pkt[PKT_MAX];
	size_t len;

	reset();
	{
		struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);

		tap_begin();
		s.eth_proto = ETH_P_IPV6;
		len = pkt_build(pkt, sizeof(pkt), &s);
		expect(pkt, len, if_b, XDP_PASS, XR_PASS_IPV6);
		tap_end("IPv6 from a default partition passes");

		tap_begin();
		{
			static const uint8_t pl[96];	/* room for IPv6 and extension headers */
			struct pkt_spec v6 = s;

			v6.payload = pl;
			v6.payload_len = sizeof(pl);
			len = pkt_build(pkt, sizeof(pkt), &v6);
		}
		pkt[14] = 0x60;		/* version 6 */
		pkt[14 + 6] = 4;	/* next header: IPv4 (ip6tnl0 would decapsulate it) */
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_IP_TUNNEL);
		pkt[14 + 6] = 47;	/* GRE */
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_IP_TUNNEL);
		pkt[14 + 6] = 17;	/* UDP */
		expect(pkt, len, if_b, XDP_PASS, XR_PASS_IPV6);
		tap_end("IPv6 from a default partition carrying IPv4 or GRE is dropped (drop_ip_tunnel), UDP passes");

		/* extension headers from byte 54, 8 bytes each: next header, length */
		tap_begin();
		pkt[14 + 6] = 0;			/* hop-by-hop */
		pkt[54] = 41, pkt[55] = 0;		/* then IPv6 in IPv6 */
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_IP_TUNNEL);
		pkt[54] = 60, pkt[55] = 0;		/* then destination options */
		pkt[62] = 47, pkt[63] = 0;		/* then GRE */
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_IP_TUNNEL);
		pkt[14 + 6] = 44;			/* a fragment header... */
		pkt[54] = 4, pkt[55] = 0;		/* ...of IPv4 in IPv6 */
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_IP_TUNNEL);
		pkt[14 + 6] = 43;			/* routing, 16 bytes long */
		pkt[54] = 60, pkt[55] = 1;		/* then destination options at 70 */
		pkt[62] = 4;				/* (IPv4, were it 8 bytes long) */
		pkt[70] = 17, pkt[71] = 0;		/* then UDP */
		expect(pkt, len, if_b, XDP_PASS, XR_PASS_IPV6);
		pkt[70] = 4;				/* then IPv4 */
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_IP_TUNNEL);
		pkt[14 + 6] = 0;
		for (int h = 0; h < 5; h++)		/* five hop-by-hops, UDP after them */
			pkt[54 + 8 * h] = h < 4 ? 0 : 17, pkt[55 + 8 * h] = 0;
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_IP_TUNNEL);
		pkt[54 + 8 * 3] = 17;			/* four, then UDP */
		expect(pkt, len, if_b, XDP_PASS, XR_PASS_IPV6);
		tap_end("IPv6 tunnels behind extension headers are dropped too, and more than four headers; UDP behind them passes");

		tap_begin();
		memcpy(s.dst_mac, MAC_A, 6);
		len = pkt_build(pkt, sizeof(pkt), &s);
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_TO_PART_MAC);
		tap_end("IPv6 addressed to another partition's MAC is dropped");

		tap_begin();
		s = udp_from_b(IP_EXT, 5000, 53);
		memcpy(s.dst_mac, MAC_A, 6);
		len = pkt_build(pkt, sizeof(pkt), &s);
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_TO_PART_MAC);
		s.proto = IPPROTO_TCP;
		len = pkt_build(pkt, sizeof(pkt), &s);
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_TO_PART_MAC);
		tap_end("to a non-partition IP but another partition's MAC (a bridge would deliver it) is dropped");

		tap_begin();
		s = udp_from_b(IP_A, 5000, 6000);
		s.eth_proto = ETH_P_IPV6;
		memcpy(s.src_mac, MAC_C, 6);
		len = pkt_build(pkt, sizeof(pkt), &s);
		expect(pkt, len, if_c, XDP_DROP, XR_DROP_IPV6);
		tap_end("IPv6 from an isolated partition is dropped");

		tap_begin();
		s = udp_from_b(IP_A, 5000, 6000);
		s.eth_proto = 0x8100;
		len = pkt_build(pkt, sizeof(pkt), &s);
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_OTHER_L3);
		tap_end("VLAN-tagged frame is dropped");

		tap_begin();
		s = udp_from_b(htonl(0x0a0000ff), 5000, 6000);
		memset(s.dst_mac, 0xff, 6);
		len = pkt_build(pkt, sizeof(pkt), &s);
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_BCAST);
		tap_end("subnet broadcast is dropped");

		tap_begin();
		s = udp_from_b(htonl(0xe0000001), 5000, 6000);
		len = pkt_build(pkt, sizeof(pkt), &s);
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_BCAST);
		tap_end("multicast is dropped");
	}
}

/* DHCP: a client's broadcast request, from 0.0.0.0 or its own address, and nothing
 * else by broadcast (an offer to port 68 is a server's, not a partition's). */
static void l2_dhcp(void)
{
	struct pkt_spec s = udp_from_b(htonl(INADDR_BROADCAST), 68, 67);
	uint8_t pkt[PKT_MAX];
	size_t len;

	reset();
	memset(s.dst_mac, 0xff, 6);
	tap_begin();
	s.saddr = 0;
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, if_b, XDP_PASS, XR_PASS_EXTERNAL);
	s.saddr = IP_B;
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, if_b, XDP_PASS, XR_PASS_EXTERNAL);
	tap_end("DHCP request 0.0.0.0:68 (or its own) -> 255.255.255.255:67 passes");

	tap_begin();
	s.sport = 67, s.dport = 68;
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, if_b, XDP_DROP, XR_DROP_BCAST);
	s.saddr = 0;
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, if_b, XDP_DROP, XR_DROP_SPOOF_IP);
	tap_end("a DHCP offer by broadcast (port 68) from a partition is dropped");

	tap_begin();
	s = udp_from_b(IP_A, 68, 67);
	s.saddr = 0;
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, if_b, XDP_DROP, XR_DROP_SPOOF_IP);
	s = udp_from_b(htonl(INADDR_BROADCAST), 68, 67);
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, if_c, XDP_DROP, XR_DROP_SPOOF_MAC);
	memcpy(s.dst_mac, MAC_A, 6);
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, if_b, XDP_DROP, XR_DROP_TO_PART_MAC);
	tap_end("0.0.0.0 only to the broadcast address; never to a partition's MAC");
}

void test_l2(void)
{
	l2_arp();
	l2_not_ipv4_unicast();
	l2_dhcp();
}
