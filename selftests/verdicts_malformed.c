// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_malformed.c: frames whose headers lie or are cut: IPv4 options,
 * fragments, TTL, lengths that disagree, and truncation at every byte offset of
 * eth/IPv4/UDP and of ARP. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include "verdicts.h"

struct bad_row {
	const char *name;
	struct pkt_spec s;	/* filled on top of udp_from_b(A, 5000, 6000) */
	int reason;
};

void test_malformed(void)
{
	static const struct bad_row rows[] = {
		{ "IPv4 options", { .ip_opt_len = 4 }, XR_DROP_IP_OPTIONS },
		{ "first fragment (MF)", { .frag_off = 0x2000 }, XR_DROP_FRAGMENT },
		{ "later fragment (offset)", { .frag_off = 0x0010 }, XR_DROP_FRAGMENT },
		{ "TTL zero", { .ttl_zero = true }, XR_DROP_TTL },
		{ "IPv4 total length longer than the frame", { .ip_tot_len = 200 }, XR_DROP_MALFORMED_IP },
		{ "IPv4 total length shorter than its header", { .ip_tot_len = 19 }, XR_DROP_MALFORMED_IP },
		{ "IPv4 total length shorter than the UDP length", { .ip_tot_len = 30 }, XR_DROP_MALFORMED_UDP },
		{ "IHL below 5", { .ihl = 4 }, XR_DROP_MALFORMED_IP },
		{ "UDP length longer than the datagram", { .udp_len = 100 }, XR_DROP_MALFORMED_UDP },
		{ "UDP length shorter than its header", { .udp_len = 7 }, XR_DROP_MALFORMED_UDP },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
		uint8_t pkt[PKT_MAX];
		size_t len;

		tap_begin();
		reset();
		s.ip_opt_len = rows[i].s.ip_opt_len;
		s.frag_off = rows[i].s.frag_off;
		s.ttl_zero = rows[i].s.ttl_zero;
		s.ip_tot_len = rows[i].s.ip_tot_len;
		s.ihl = rows[i].s.ihl;
		s.udp_len = rows[i].s.udp_len;
		len = pkt_build(pkt, sizeof(pkt), &s);
		expect(pkt, len, if_b, XDP_DROP, rows[i].reason);
		tap_end(rows[i].name);
	}

	/* IPv4 version field that is not 4 */
	{
		struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
		uint8_t pkt[PKT_MAX];
		size_t len = pkt_build(pkt, sizeof(pkt), &s);

		tap_begin();
		reset();
		pkt[PKT_OFF_IP] = 0x65;
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_MALFORMED_IP);
		tap_end("IPv4 ethertype carrying version 6");
	}
}

/* Every prefix of an authorized frame shorter than its headers: dropped with the
 * reason of the header it cuts, never passed. The kernel refuses frames < 14 bytes. */
void test_truncation(void)
{
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	uint8_t pkt[PKT_MAX];
	size_t len;

	s.payload_len = 0;
	len = pkt_build(pkt, sizeof(pkt), &s);
	tap_begin();
	reset();
	for (size_t cut = 0; cut < len; cut++) {
		char what[64];

		if (cut < ETH_HLEN) {
			struct run r = run_prog(fx.cmm.prog_fd, pkt, cut, if_b);

			snprintf(what, sizeof(what), "cut %zu refused by the kernel", cut);
			ASSERT_EQ(r.ret, -EINVAL, what);
			continue;
		}
		/* tot_len still claims the full datagram, so every cut from the IPv4
		 * header on shows as a lying IPv4 length: that is the check that must
		 * catch it (the rows below cut with consistent lengths). */
		if (expect(pkt, cut, if_b, XDP_DROP, XR_DROP_MALFORMED_IP).ret != XDP_DROP)
			printf("#   at cut %zu\n", cut);
	}
	tap_end("truncation at every byte offset of eth/ipv4/udp");

	/* Same cuts with lengths rewritten to agree, so each parser sees its own cut. */
	tap_begin();
	for (size_t cut = PKT_OFF_IP + 20; cut < len; cut++) {
		uint8_t p2[PKT_MAX];

		memcpy(p2, pkt, cut);
		p2[PKT_OFF_IP + 2] = 0;
		p2[PKT_OFF_IP + 3] = cut - PKT_OFF_IP;
		expect(p2, cut, if_b, XDP_DROP, XR_DROP_MALFORMED_UDP);
	}
	tap_end("truncation inside the UDP header with a consistent IPv4 length");

	tap_begin();
	{
		uint8_t arp[64];
		size_t alen = pkt_build_arp(arp, sizeof(arp), MAC_B, MAC_B, IP_B, IP_A);

		for (size_t cut = ETH_HLEN; cut < alen; cut++)
			expect(arp, cut, if_b, XDP_DROP, XR_DROP_MALFORMED_ARP);
	}
	tap_end("truncation at every byte offset of ARP");
}
