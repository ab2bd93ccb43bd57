// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_uplink.c: between nodes, this instance as node 1 with partition R on
 * node 2: DATA arriving on the uplink (tag, replay window, origin, decapsulation)
 * and a partition's frame to R leaving it (tag, sequence number, encapsulation). */
#include <endian.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "verdicts.h"

/* The output of a decapsulated DATA frame R:5000 -> A:6000 carrying `payload`
 * bytes of 'p' (nic_frame's): addressed to A, the inner packet byte for byte. */
static void check_decap(const struct run *r, size_t payload)
{
	static uint8_t inner[PKT_MAX], pl[PKT_MAX];
	struct pkt_spec in = { .saddr = IP_R, .daddr = IP_A, .sport = 5000, .dport = 6000,
			       .payload = pl, .payload_len = payload };
	size_t ilen;

	memset(pl, 'p', payload);
	ilen = pkt_build(inner, sizeof(inner), &in);
	ASSERT_EQ(r->out_len, ilen, "decapsulated length");
	ASSERT_TRUE(!memcmp(r->out, MAC_A, 6), "addressed to the partition");
	if (!ASSERT_TRUE(!memcmp(r->out + 14, inner + 14, ilen - 14), "the inner packet as sent"))
		for (size_t i = 14; i < ilen; i++)
			if (r->out[i] != inner[i])
				printf("#   byte %zu: %02x, sent %02x\n", i, r->out[i], inner[i]);
}

static void uplink_data(void)
{
	uint8_t f[PKT_MAX];
	struct run r;
	size_t len;

	tap_begin();
	reset();
	fixture_nic();
	len = nic_frame(f, 1, 5, NODE2, false);
	r = expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	check_decap(&r, 5);
	tap_end("uplink: DATA tagged in userspace verifies in the CMM and is decapsulated");

	tap_begin();
	expect(f, len, if_up, XDP_DROP, XR_DROP_REPLAY);
	tap_end("uplink: the same sequence number again is a replay");

	tap_begin();
	len = nic_frame(f, 2, 5, NODE2, true);
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_TAG);
	len = nic_frame(f, 2, 5, NODE2, false);
	expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	tap_end("uplink: a wrong tag is dropped and does not burn the sequence number");

	tap_begin();
	len = nic_frame(f, 5000, 5, NODE2, false);
	expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	len = nic_frame(f, 4000, 5, NODE2, false);
	expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	len = nic_frame(f, 5000 - 2100, 5, NODE2, false);
	expect(f, len, if_up, XDP_DROP, XR_DROP_TOO_OLD);
	tap_end("uplink: reordered inside the window accepted, older than the window dropped");

	tap_begin();
	len = nic_frame(f, 6001, 1400, NODE2, false);
	r = expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	check_decap(&r, 1400);
	tap_end("uplink: DATA with a 1400-byte payload verifies and is decapsulated");

	/* The CMM reads the inner packet four words to a bounds check, then up to three
	 * words, then up to seven bytes: 33 consecutive lengths take every tail, and the
	 * largest inner packet the most blocks. A flipped last byte must fail the tag. */
	tap_begin();
	for (size_t pl = 0; pl <= 32; pl++) {
		len = nic_frame(f, 7000 + pl, pl + 100, NODE2, false);
		r = expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
		check_decap(&r, pl + 100);
	}
	len = nic_frame(f, 7100, XCHAN_MAX_INNER - 28, NODE2, false);
	r = expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	check_decap(&r, XCHAN_MAX_INNER - 28);
	for (size_t pl = 101; pl <= 107; pl++) {
		len = nic_frame(f, 7200 + pl, pl, NODE2, false);
		f[len - 1] ^= 1;
		expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_TAG);
	}
	tap_end("uplink: every inner length modulo 32 and the largest verify; a changed last byte does not");
}

static void uplink_other(void)
{
	struct pkt_spec s = { .saddr = NODE2, .daddr = IP_C, .sport = 1000, .dport = 53 };
	uint8_t f[PKT_MAX];
	size_t len;

	tap_begin();
	reset();
	fixture_nic();
	memcpy(s.src_mac, MAC_N2, 6);
	memcpy(s.dst_mac, MAC_GW, 6);
	len = pkt_build(f, sizeof(f), &s);
	expect(f, len, if_up, XDP_DROP, XR_DROP_ISOLATED);
	s.daddr = IP_A;
	len = pkt_build(f, sizeof(f), &s);
	expect(f, len, if_up, XDP_PASS, XR_PASS_UPLINK);
	tap_end("uplink: other traffic to an isolated partition is dropped, to others passed");

	tap_begin();
	len = nic_frame(f, 6000, 5, htonl(0x0a630009), false);
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_ORIGIN);
	ASSERT_TRUE(has_event(XCHAN_E_BAD_ORIGIN, XR_DROP_BAD_ORIGIN), "audited");
	tap_end("uplink: DATA for a partition of node 2 from another address is dropped");
}

/* B:5000 -> R:6000 with `payload` bytes: encapsulated towards node 2 with sequence
 * number `seq` and the tag userspace computes over header and inner packet. */
static void check_encap(size_t payload, uint64_t seq)
{
	static uint8_t pl[PKT_MAX], f[PKT_MAX], body[PKT_MAX];
	struct pkt_spec s = udp_from_b(IP_R, 5000, 6000);
	const struct xchan_hdr *xh;
	uint64_t tag = 0;
	struct run r;
	size_t len;

	memset(pl, 'q', payload);
	s.payload = pl;
	s.payload_len = payload;
	len = pkt_build(f, sizeof(f), &s);
	r = expect(f, len, if_b, XDP_REDIRECT, XR_PASS_ENCAP);
	ASSERT_EQ(r.out_len, len + XCHAN_ENCAP_LEN, "encapsulated length");
	xh = (const void *)(r.out + PKT_OFF_XCHAN);
	ASSERT_EQ(xh->type, XCHAN_T_DATA, "DATA");
	ASSERT_EQ(be64toh(xh->seq), seq, "sequence number");
	ASSERT_TRUE(!memcmp(r.out, "\x02\x00\x00\x00\x99\x02", 6), "to node 2's MAC (the resolved next hop)");
	/* the tag the CMM computed is the one userspace computes */
	memcpy(body, xh, sizeof(*xh));
	memset(body + 24, 0, 16);
	memcpy(body + sizeof(*xh), f + 14, len - 14);
	for (int i = 0; i < 8; i++)
		tag |= (uint64_t)xh->auth[i] << (8 * i);
	ASSERT_TRUE(tag == siphash24(KEY, body, sizeof(*xh) + len - 14), "tag as userspace computes it");
}

static void uplink_send(void)
{
	tap_begin();
	reset();
	fixture_nic();
	check_encap(5, 1);
	tap_end("partition to a remote partition: tagged, numbered, encapsulated towards node 2");

	tap_begin();
	check_encap(1400, 2);
	tap_end("partition to a remote partition, 1400-byte payload: the next number, tagged, encapsulated");

	tap_begin();
	for (size_t pl = 0; pl <= 32; pl++)
		check_encap(pl + 100, 3 + pl);
	check_encap(XCHAN_MAX_INNER - 28, 36);
	tap_end("partition to a remote partition: the tag over every inner length modulo 32 and the largest");

	tap_begin();
	{
		struct pkt_spec s = udp_from_b(IP_R, 5000, 6000);
		uint8_t f[PKT_MAX];
		uint32_t node2 = 2;
		size_t len = pkt_build(f, sizeof(f), &s);

		bpf_map_delete_elem(fx.cmm.map_fd[M_NEXTHOP], &node2);
		expect(f, len, if_b, XDP_DROP, XR_DROP_NO_NEIGH);
	}
	tap_end("partition to a remote partition whose next hop is unresolved: drop_no_neighbour");
}

/* The window belongs to the key: the agent makes it at connect; the datapath never
 * does, so DATA for a channel without one is not delivered and makes none. */
static void uplink_no_window(void)
{
	struct xchan_chan_id in;
	struct xchan_replay w;
	uint8_t f[PKT_MAX];
	size_t len;

	tap_begin();
	reset();
	fixture_nic();
	xchan_chan_id_make(&in, P_A, 6000, P_R, 5000, XCHAN_DIR_IN);
	bpf_map_delete_elem(fx.cmm.map_fd[M_REPLAY], &in);
	len = nic_frame(f, 1, 5, NODE2, false);
	expect(f, len, if_up, XDP_DROP, XR_DROP_NO_IN);
	ASSERT_TRUE(bpf_map_lookup_elem(fx.cmm.map_fd[M_REPLAY], &in, &w), "no window made");
	tap_end("uplink: DATA for a key without a window is dropped and makes no window");
}

void test_uplink(void)
{
	uplink_data();
	uplink_other();
	uplink_send();
	uplink_no_window();
}
