// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_rx.c: the receive side (xchan_rx, TC egress on a partition's veth) through
 * BPF_PROG_TEST_RUN: what came from another partition, from outside, to an isolated
 * partition; ARP, neighbour discovery, other L3; and audit under a flood. */
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "verdicts.h"

/* An IPv6 frame: UDP to port 6000, or ICMPv6 of type icmp_type with hop limit hl. */
static size_t ipv6_frame(uint8_t *f, const uint8_t *src_mac, const uint8_t *dst_mac,
			 int icmp_type, uint8_t hl)
{
	memset(f, 0, 14 + 40 + 8);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	f[14] = 0x60;
	f[19] = 8;				/* payload length */
	f[20] = icmp_type ? XCHAN_ICMPV6 : 17;
	f[21] = hl;
	f[22] = 0xfe, f[23] = 0x80, f[37] = 1;	/* fe80::1 -> fe80::2 */
	f[38] = 0xfe, f[39] = 0x80, f[53] = 2;
	if (icmp_type)
		f[54] = icmp_type;
	else
		f[56] = 6000 >> 8, f[57] = 6000 & 0xff;
	return 14 + 40 + 8;
}

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void rx_from_partition(void)
{
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, sizeof(f), &s);

	reset();
	tap_begin();
	expect_rx(f, len, if_a, if_b, TC_ACT_SHOT, XR_DROP_RX_NOT_CHANNEL);
	ASSERT_TRUE(has_event(XCHAN_E_RX_REFUSED, XR_DROP_RX_NOT_CHANNEL), "audit event");
	tap_end("the channel's own message, routed by the host: refused (channels arrive by redirect)");

	tap_begin();
	expect_rx(f, len, if_a, 0, TC_ACT_SHOT, XR_DROP_RX_NOT_CHANNEL);
	tap_end("... bridged (known by its source MAC): refused");

	tap_begin();
	memcpy(s.src_mac, MAC_GW, 6);
	len = pkt_build(f, sizeof(f), &s);
	expect_rx(f, len, if_a, 0, TC_ACT_SHOT, XR_DROP_RX_NOT_CHANNEL);
	tap_end("... routed through a bridge device (known by its source address): refused");

	tap_begin();
	expect_rx(f, len, if_c, 0, TC_ACT_SHOT, XR_DROP_RX_NOT_CHANNEL);
	tap_end("... to an isolated partition: refused");

	tap_begin();
	s = udp_from_b(htonl(INADDR_BROADCAST), 67, 68);
	memcpy(s.dst_mac, BCAST, 6);
	len = pkt_build(f, sizeof(f), &s);
	expect_rx(f, len, if_a, if_b, TC_ACT_SHOT, XR_DROP_RX_BCAST);
	tap_end("a partition's broadcast to port 68 (a rogue DHCP offer): refused");

	tap_begin();
	s = udp_from_b(IP_A, 5000, 68);
	memcpy(s.dst_mac, BCAST, 6);
	len = pkt_build(f, sizeof(f), &s);
	expect_rx(f, len, if_a, 0, TC_ACT_SHOT, XR_DROP_RX_BCAST);
	tap_end("a partition's unicast IPv4 to the broadcast MAC: refused");

	tap_begin();
	len = ipv6_frame(f, MAC_B, BCAST, 0, 64);
	expect_rx(f, len, if_a, 0, TC_ACT_SHOT, XR_DROP_RX_IPV6);
	tap_end("a partition's IPv6 (link-local to the broadcast MAC): refused");

	tap_begin();
	len = ipv6_frame(f, MAC_B, MAC_A, XCHAN_ND_RA, XCHAN_ND_HOP_LIMIT);
	expect_rx(f, len, if_a, if_b, TC_ACT_SHOT, XR_DROP_RX_IPV6);
	tap_end("a partition's router advertisement: refused");

	tap_begin();
	len = pkt_build(f, sizeof(f), &s);
	f[12] = 0x81, f[13] = 0x00;
	expect_rx(f, len, if_a, 0, TC_ACT_SHOT, XR_DROP_RX_OTHER_L3);
	tap_end("a partition's VLAN-tagged frame: refused");
}

/* IPv4 from outside (source address and MAC not a partition's): to whom, fragments,
 * options. Leaves s as its last frame's (to C, with options). */
static void rx_outside_ipv4(struct pkt_spec *s)
{
	uint8_t f[PKT_MAX];
	size_t len;

	memcpy(s->src_mac, MAC_GW, 6);
	s->saddr = IP_EXT;
	len = pkt_build(f, sizeof(f), s);
	tap_begin();
	expect_rx(f, len, if_a, 0, TC_ACT_OK, XR_PASS_RX_EXTERNAL);
	tap_end("from outside to a partition: passes");

	tap_begin();
	s->daddr = IP_C;
	len = pkt_build(f, sizeof(f), s);
	expect_rx(f, len, if_c, 0, TC_ACT_SHOT, XR_DROP_RX_ISOLATED);
	tap_end("from outside to an isolated partition: refused");

	tap_begin();
	s->frag_off = 0x2000;
	len = pkt_build(f, sizeof(f), s);
	expect_rx(f, len, if_c, 0, TC_ACT_SHOT, XR_DROP_RX_ISOLATED);
	s->daddr = IP_A;
	len = pkt_build(f, sizeof(f), s);
	expect_rx(f, len, if_a, 0, TC_ACT_SHOT, XR_DROP_RX_FRAGMENT);
	expect_rx(f, len, if_a, if_unreg, TC_ACT_SHOT, XR_DROP_RX_FRAGMENT);
	expect_rx(f, len, if_a, if_up, TC_ACT_OK, XR_PASS_RX_EXTERNAL);
	s->daddr = IP_C;
	len = pkt_build(f, sizeof(f), s);
	expect_rx(f, len, if_c, if_up, TC_ACT_SHOT, XR_DROP_RX_ISOLATED);
	s->daddr = IP_A;
	s->frag_off = 0x0010;			/* a non-first one, from the host's own address */
	s->saddr = IP_EXT;
	len = pkt_build(f, sizeof(f), s);
	expect_rx(f, len, if_a, 0, TC_ACT_SHOT, XR_DROP_RX_FRAGMENT);
	s->frag_off = 0;
	s->ip_opt_len = 4;
	len = pkt_build(f, sizeof(f), s);
	expect_rx(f, len, if_a, 0, TC_ACT_OK, XR_PASS_RX_EXTERNAL);
	s->daddr = IP_C;
	len = pkt_build(f, sizeof(f), s);
	expect_rx(f, len, if_c, 0, TC_ACT_SHOT, XR_DROP_RX_ISOLATED);
	tap_end("fragments: from the uplink to the non-isolated only, else refused (origin unknowable); options: to the isolated refused");
}

/* IPv6 from the gateway: neighbour discovery is all an isolated partition gets. */
static void rx_outside_ipv6(void)
{
	uint8_t f[PKT_MAX];
	size_t len;

	tap_begin();
	len = ipv6_frame(f, MAC_GW, MAC_C, XCHAN_ND_NS, XCHAN_ND_HOP_LIMIT);
	expect_rx(f, len, if_c, 0, TC_ACT_OK, XR_PASS_RX_ND);
	len = ipv6_frame(f, MAC_GW, MAC_C, 128, XCHAN_ND_HOP_LIMIT);
	expect_rx(f, len, if_c, 0, TC_ACT_SHOT, XR_DROP_RX_ISOLATED);
	len = ipv6_frame(f, MAC_GW, MAC_C, XCHAN_ND_NS, 64);
	expect_rx(f, len, if_c, 0, TC_ACT_SHOT, XR_DROP_RX_ISOLATED);
	len = ipv6_frame(f, MAC_GW, MAC_A, 0, 64);
	expect_rx(f, len, if_a, 0, TC_ACT_OK, XR_PASS_RX_EXTERNAL);
	tap_end("IPv6 from the gateway: ND only (hop limit 255) to the isolated, anything to others");

	tap_begin();
	len = ipv6_frame(f, MAC_GW, MAC_C, XCHAN_ND_NA, XCHAN_ND_HOP_LIMIT);
	expect_rx(f, len, if_c, 0, TC_ACT_OK, XR_PASS_RX_ND);
	len = ipv6_frame(f, MAC_GW, MAC_C, XCHAN_ND_RA, XCHAN_ND_HOP_LIMIT);
	expect_rx(f, len, if_c, 0, TC_ACT_OK, XR_PASS_RX_ND);
	expect_rx(f, len, if_c, if_unreg, TC_ACT_SHOT, XR_DROP_RX_ISOLATED);
	len = ipv6_frame(f, MAC_GW, MAC_C, XCHAN_ND_NS, XCHAN_ND_HOP_LIMIT);
	expect_rx(f, len, if_c, if_unreg, TC_ACT_SHOT, XR_DROP_RX_ISOLATED);
	len = ipv6_frame(f, MAC_GW, MAC_C, 137, XCHAN_ND_HOP_LIMIT);	/* redirect */
	expect_rx(f, len, if_c, 0, TC_ACT_SHOT, XR_DROP_RX_ISOLATED);
	len = ipv6_frame(f, MAC_GW, MAC_C, 133, XCHAN_ND_HOP_LIMIT);	/* router solicitation */
	expect_rx(f, len, if_c, 0, TC_ACT_SHOT, XR_DROP_RX_ISOLATED);
	len = ipv6_frame(f, MAC_GW, MAC_C, XCHAN_ND_RA, XCHAN_ND_HOP_LIMIT);
	memset(f + len, 0, 300);
	expect_rx(f, len + 300, if_c, 0, TC_ACT_SHOT, XR_DROP_RX_ISOLATED);
	tap_end("ND to the isolated: only from the host itself, 134-136 (never a redirect), short");
}

static void rx_from_outside(void)
{
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	uint8_t f[PKT_MAX];
	size_t len;

	reset();
	rx_outside_ipv4(&s);
	rx_outside_ipv6();

	tap_begin();
	len = pkt_build(f, sizeof(f), &s);
	f[14] = 0x55;				/* IP version 5 */
	expect_rx(f, len, if_a, 0, TC_ACT_SHOT, XR_DROP_RX_MALFORMED);
	len = pkt_build_arp(f, sizeof(f), MAC_GW, MAC_GW, IP_EXT, IP_A);
	expect_rx(f, len - 10, if_a, 0, TC_ACT_SHOT, XR_DROP_RX_ARP);
	len = pkt_build(f, sizeof(f), &s);
	expect_rx(f, len, if_unreg, 0, TC_ACT_SHOT, XR_DROP_UNKNOWN_IFACE);
	tap_end("a malformed IPv4 header, a truncated ARP, an unregistered interface: dropped");
}

static void rx_arp(void)
{
	uint8_t f[PKT_MAX];
	size_t len;

	reset();
	tap_begin();
	len = pkt_build_arp(f, sizeof(f), MAC_B, MAC_B, IP_B, IP_A);
	expect_rx(f, len, if_a, 0, TC_ACT_OK, XR_PASS_RX_ARP);
	len = pkt_build_arp(f, sizeof(f), MAC_B, MAC_B, IP_B, IP_C);
	expect_rx(f, len, if_c, 0, TC_ACT_OK, XR_PASS_RX_ARP);
	tap_end("ARP for the receiver's own address passes, isolated or not");

	tap_begin();
	len = pkt_build_arp(f, sizeof(f), MAC_B, MAC_B, IP_B, IP_C);
	expect_rx(f, len, if_a, 0, TC_ACT_SHOT, XR_DROP_RX_ARP);
	len = pkt_build_arp(f, sizeof(f), MAC_GW, MAC_GW, IP_EXT, IP_EXT);
	expect_rx(f, len, if_a, 0, TC_ACT_OK, XR_PASS_RX_ARP);
	expect_rx(f, len, if_c, 0, TC_ACT_SHOT, XR_DROP_RX_ARP);
	tap_end("other ARP: from the host to the non-isolated only, never from a partition");

	tap_begin();
	len = pkt_build_arp(f, sizeof(f), MAC_B, MAC_B, IP_B, IP_C);
	memset(f + len, 0, XCHAN_ARP_PAD_LEN);
	expect_rx(f, len + XCHAN_ARP_PAD_LEN, if_c, if_b, TC_ACT_OK, XR_PASS_RX_ARP);
	f[len + 5] = 'x';
	expect_rx(f, len + XCHAN_ARP_PAD_LEN, if_c, if_b, TC_ACT_SHOT, XR_DROP_RX_ARP);
	memcpy(f + len, "BULK-DATA", 9);
	expect_rx(f, len + 9, if_c, 0, TC_ACT_SHOT, XR_DROP_RX_ARP);
	expect_rx(f, len + 9, if_a, if_b, TC_ACT_SHOT, XR_DROP_RX_ARP);
	tap_end("ARP from a partition with data after the body (or in the padding): refused");

	tap_begin();
	len = pkt_build_arp(f, sizeof(f), MAC_B, MAC_B, IP_B, IP_C);
	f[14 + 18] = 0x42;			/* request with data in tha */
	expect_rx(f, len, if_c, if_b, TC_ACT_SHOT, XR_DROP_RX_ARP);
	f[14 + 7] = 2;				/* reply: tha must be the receiver's MAC */
	expect_rx(f, len, if_c, if_b, TC_ACT_SHOT, XR_DROP_RX_ARP);
	memcpy(f + 14 + 18, MAC_C, 6);
	expect_rx(f, len, if_c, if_b, TC_ACT_OK, XR_PASS_RX_ARP);
	memcpy(f, MAC_A, 6);			/* to another's MAC */
	expect_rx(f, len, if_c, if_b, TC_ACT_SHOT, XR_DROP_RX_ARP);
	memcpy(f, MAC_C, 6);
	expect_rx(f, len, if_c, if_b, TC_ACT_OK, XR_PASS_RX_ARP);
	memcpy(f + 14 + 8, MAC_A, 6);		/* sha not its Ethernet source */
	expect_rx(f, len, if_c, if_b, TC_ACT_SHOT, XR_DROP_RX_ARP);
	tap_end("ARP from a partition: a request with tha zero, a reply to the receiver's MAC, sha its own");
}

void test_receive(void)
{
	rx_from_partition();
	rx_from_outside();
	rx_arp();
}

/* Events in the ring from source (kind, id). */
static int events_of(uint32_t kind, uint32_t id)
{
	int n = 0;

	for (int i = 0; i < n_events; i++)
		n += events[i].src.kind == kind && events[i].src.id == id;
	return n;
}

/* B floods refused frames; A's single refusal must still make it to the ring. */
static void flood_budget(void)
{
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, sizeof(f), &s);

	reset();
	tap_begin();
	for (int i = 0; i < 2000; i++)
		run_rx(f, len, if_a, if_b);
	s = udp_from_b(IP_B, 6000, 5000);
	s.saddr = IP_A;
	memcpy(s.src_mac, MAC_A, 6);
	len = pkt_build(f, sizeof(f), &s);
	run_rx(f, len, if_b, if_a);
	ASSERT_TRUE(events_of(XCHAN_SRC_PART, P_B) <= XCHAN_EVENT_BURST + 10,
		    "B's events held to its budget");
	ASSERT_TRUE(events_of(XCHAN_SRC_PART, P_A) == 1, "A's one event is there");
	tap_end("2000 refusals from one partition cost it its budget, not another's events");
}

/* On a loaded machine the 2000 runs take long enough for B's bucket to refill
 * (100/s) and let an event through mid-run: the next event must carry exactly
 * what B's row counts as pending since its last one, and the flood cannot have
 * been let through wholesale. */
static void flood_refill(const uint8_t *f, size_t len)
{
	struct xchan_src_key sk = { .id = P_B, .kind = XCHAN_SRC_PART };
	struct xchan_evlimit l = {};

	tap_begin();
	usleep(30 * 1000);
	bpf_map_lookup_elem(fx.cmm.map_fd[M_EVLIMIT], &sk, &l);
	n_events = 0;
	run_rx(f, len, if_a, if_b);
	ASSERT_TRUE(n_events == 1 && l.pending >= 1 && events[0].suppressed == l.pending &&
		    l.suppressed + l.emitted >= 2000 && l.suppressed > l.emitted,
		    "suppressed count");
	printf("#   B's next event says %u were suppressed before it\n",
	       n_events ? events[0].suppressed : 0);
	tap_end("B's next event, once its budget refills, says how many went unseen");
}

/* a non-partition interface claiming B's address and MAC pays on its own */
static void flood_other_iface(const uint8_t *f, size_t len)
{
	tap_begin();
	usleep(30 * 1000);
	n_events = 0;
	for (int i = 0; i < 500; i++)
		run_rx(f, len, if_a, if_unreg);
	ASSERT_TRUE(events_of(XCHAN_SRC_PART, P_B) == 0, "none charged to B");
	ASSERT_TRUE(n_events > 0 && events[0].src.kind == XCHAN_SRC_IFACE &&
		    events[0].src.id == (uint32_t)if_unreg, "charged to the interface");
	n_events = 0;
	run_rx(f, len, if_a, if_b);
	ASSERT_TRUE(n_events == 1 && events[0].src.kind == XCHAN_SRC_PART &&
		    events[0].src.id == P_B, "B's own refusal still seen");
	tap_end("a claim of B's address and MAC from another interface is charged to that interface, not B");
}

/* outer source addresses rotated on the uplink: each new peer starts with a few
 * events, and all peers together share one budget */
static void flood_peers(void)
{
	uint8_t f[PKT_MAX];
	size_t len;
	int from_peers = 0, max_one = 0;

	tap_begin();
	reset();
	fixture_nic();
	n_events = 0;
	for (uint32_t i = 1; i <= 400; i++) {
		int mine;

		len = nic_frame(f, 6000, 5, htonl(0x0a630000 + i), false);
		for (int k = 0; k < 3; k++)
			run_prog(fx.cmm.prog_fd, f, len, if_up);
		mine = events_of(XCHAN_SRC_PEER, htonl(0x0a630000 + i));
		max_one = mine > max_one ? mine : max_one;
		for (int j = 0; j < n_events; j++)
			from_peers += events[j].src.kind == XCHAN_SRC_PEER;
		n_events = 0;
	}
	printf("#   400 rotated peers x 3 refusals: %d events, at most %d from one\n",
	       from_peers, max_one);
	ASSERT_TRUE(from_peers <= XCHAN_EVENT_BURST + 10, "all peers within one budget");
	ASSERT_TRUE(from_peers >= XCHAN_EVENT_BURST / 2, "peer events still seen");
	tap_end("rotating spoofed peer addresses: events bounded by one shared budget");
}

void test_receive_flood(void)
{
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, sizeof(f), &s);

	flood_budget();
	flood_refill(f, len);
	flood_other_iface(f, len);
	flood_peers();
}
