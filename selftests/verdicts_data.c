// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_data.c: the same-node data path, one table row per case: the frame's
 * fields, the map change before it, the verdict, the reason counted, the audit event,
 * and on redirect the exact output bytes and the channel's counters. */
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "verdicts.h"

struct data_row {
	const char *name;
	void (*setup)(void);
	int *ifindex;
	uint32_t saddr, daddr;	/* 0: the default; 1 A, 2 B, 3 C, 9 outside */
	const uint8_t *src_mac;
	uint16_t sport, dport;
	uint8_t proto;
	int action, reason;
	uint32_t event_kind;	/* 0: none expected */
};

static void other_in_key(void)
{
	uint8_t k2[16];

	memcpy(k2, KEY, 16);
	k2[15] ^= 1;
	del_in_key();
	put_key(&IN_AB, k2, XCHAN_OWNER_LOCAL);
}

static const struct data_row data_rows[] = {
	{ "authorized message is redirected to the receiver", NULL, &if_b, 0, 0, MAC_B, 5000, 6000, 0, XDP_REDIRECT, XR_PASS_CHANNEL, 0 },
	{ "no channel (other sport, nothing authorized)", NULL, &if_b, 0, 0, MAC_B, 5001, 6001, 0, XDP_DROP, XR_DROP_NO_OUT, 0 },
	{ "OUT only: receiver's IN key missing", del_in_key, &if_b, 0, 0, MAC_B, 5000, 6000, 0, XDP_DROP, XR_DROP_NO_IN, 0 },
	{ "IN only: sender's OUT key missing", del_out_key, &if_b, 0, 0, MAC_B, 5000, 6000, 0, XDP_DROP, XR_DROP_NO_OUT, 0 },
	{ "keys differ", other_in_key, &if_b, 0, 0, MAC_B, 5000, 6000, 0, XDP_DROP, XR_DROP_KEY_MISMATCH, 0 },
	{ "wrong source port", NULL, &if_b, 0, 0, MAC_B, 5009, 6000, 0, XDP_DROP, XR_DROP_NO_OUT, 0 },
	{ "wrong destination port", NULL, &if_b, 0, 0, MAC_B, 5000, 6009, 0, XDP_DROP, XR_DROP_NO_OUT, 0 },
	{ "reverse direction A -> B", NULL, &if_a, 1, 2, MAC_A, 6000, 5000, 0, XDP_DROP, XR_DROP_NO_OUT, 0 },
	{ "source IP of another partition", NULL, &if_b, 3, 0, MAC_B, 5000, 6000, 0, XDP_DROP, XR_DROP_SPOOF_IP, XCHAN_E_SPOOF },
	{ "source MAC of another partition", NULL, &if_b, 0, 0, MAC_A, 5000, 6000, 0, XDP_DROP, XR_DROP_SPOOF_MAC, XCHAN_E_SPOOF },
	{ "unregistered ingress interface", NULL, &if_unreg, 0, 0, MAC_B, 5000, 6000, 0, XDP_DROP, XR_DROP_UNKNOWN_IFACE, 0 },
	{ "TCP to a partition", NULL, &if_b, 0, 0, MAC_B, 5000, 6000, IPPROTO_TCP, XDP_DROP, XR_DROP_NOT_UDP, 0 },
	{ "TCP to a non-partition address", NULL, &if_b, 0, 9, MAC_B, 5000, 80, IPPROTO_TCP, XDP_PASS, XR_PASS_EXTERNAL, 0 },
	{ "IP in IP to a non-partition address (the host would decapsulate it)", NULL, &if_b, 0, 9, MAC_B, 5000, 80, 4, XDP_DROP, XR_DROP_IP_TUNNEL, 0 },
	{ "GRE to a non-partition address", NULL, &if_b, 0, 9, MAC_B, 5000, 80, 47, XDP_DROP, XR_DROP_IP_TUNNEL, 0 },
	{ "IPv6 in IPv4 to a partition", NULL, &if_b, 0, 0, MAC_B, 5000, 80, 41, XDP_DROP, XR_DROP_IP_TUNNEL, 0 },
	{ "to a non-partition address, default partition", NULL, &if_b, 0, 9, MAC_B, 5000, 53, 0, XDP_PASS, XR_PASS_EXTERNAL, 0 },
	{ "to a non-partition address, isolated partition", NULL, &if_c, 3, 9, MAC_C, 5000, 53, 0, XDP_DROP, XR_DROP_ISOLATED, 0 },
	{ "isolated partition without channel to a partition", NULL, &if_c, 3, 1, MAC_C, 5000, 6000, 0, XDP_DROP, XR_DROP_NO_OUT, 0 },
	{ "control port from a partition", NULL, &if_b, 0, 0, MAC_B, 5000, XCHAN_UDP_PORT, 0, XDP_DROP, XR_DROP_CTRL_UNTRUSTED, XCHAN_E_CTRL_UNTRUSTED },
};

static uint32_t ip_sel(uint32_t sel, uint32_t dflt)
{
	switch (sel) {
	case 1: return IP_A;
	case 2: return IP_B;
	case 3: return IP_C;
	case 9: return IP_EXT;
	default: return dflt;
	}
}

void test_data_rows(void)
{
	for (size_t i = 0; i < sizeof(data_rows) / sizeof(data_rows[0]); i++) {
		const struct data_row *row = &data_rows[i];
		struct xchan_chan_counter c0, c1;
		struct pkt_spec s = udp_from_b(ip_sel(row->daddr, IP_A), row->sport, row->dport);
		uint8_t pkt[PKT_MAX];
		size_t len;
		struct run r;

		tap_begin();
		reset();
		if (row->setup)
			row->setup();
		s.saddr = ip_sel(row->saddr, IP_B);
		memcpy(s.src_mac, row->src_mac, 6);
		s.proto = row->proto;
		len = pkt_build(pkt, sizeof(pkt), &s);
		chan_counts(&c0);
		r = expect(pkt, len, *row->ifindex, row->action, row->reason);
		chan_counts(&c1);
		if (row->event_kind)
			ASSERT_TRUE(has_event(row->event_kind, row->reason), "audit event");
		if (row->action == XDP_REDIRECT) {
			/* Output: the receiver's MAC as destination, every other byte as sent. */
			uint8_t want[PKT_MAX];

			memcpy(want, pkt, len);
			memcpy(want, MAC_A, 6);
			ASSERT_EQ(r.out_len, len, "output length");
			ASSERT_TRUE(!memcmp(r.out, want, len), "output bytes");
			ASSERT_EQ(c1.packets - c0.packets, 1, "channel packets");
			ASSERT_EQ(c1.bytes - c0.bytes, len, "channel bytes");
		} else {
			ASSERT_EQ(c1.packets - c0.packets, 0, "channel packets");
		}
		tap_end(row->name);
	}
}
