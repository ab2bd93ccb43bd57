// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_uplink.c: between nodes, this instance as node 1 with partition R on
 * node 2: DATA arriving on the uplink (tag, replay window, origin, decapsulation)
 * and a partition's frame to R leaving it (tag, sequence number, encapsulation). */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include "verdicts.h"
#include "nh.h"
#include "xc_int.h"

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

/* A SipHash-tagged DATA frame's tag made again over what it now holds (header with
 * auth zero, inner packet): a test's change to the inner packet stays tagged. */
static void retag(uint8_t *f, size_t len)
{
	static uint8_t body[PKT_MAX];
	size_t n = len - PKT_OFF_XCHAN;
	uint64_t tag;

	memcpy(body, f + PKT_OFF_XCHAN, n);
	memset(body + 24, 0, 16);
	tag = siphash24(KEY, body, n);
	for (int i = 0; i < 8; i++)
		f[PKT_OFF_XCHAN + 24 + i] = tag >> (8 * i);
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

	/* bytes after the outer IP packet: no length covers them, nor the tag */
	tap_begin();
	len = nic_frame(f, 7400, 5, NODE2, false);
	memset(f + len, 'z', 32);
	r = expect(f, len + 32, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	check_decap(&r, 5);
	len = nic_frame(f, 7401, 1400, NODE2, false);
	memset(f + len, 'z', 7);
	r = expect(f, len + 7, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	check_decap(&r, 1400);
	tap_end("uplink: bytes the fabric appended after a DATA frame's packet are cut before the partition");

	tap_begin();
	{
		struct iphdr *iph = (void *)(f + PKT_OFF_XCHAN + sizeof(struct xchan_hdr));
		struct udphdr *udph = (void *)(iph + 1);

		len = nic_frame(f, 7402, 5, NODE2, false);
		retag(f, len);	/* unchanged: the same tag, so retag is right */
		r = expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
		check_decap(&r, 5);
		len = nic_frame(f, 7403, 5, NODE2, false);
		iph->frag_off = htons(0x2000);	/* more fragments */
		retag(f, len);
		expect(f, len, if_up, XDP_DROP, XR_DROP_MALFORMED_INNER);
		len = nic_frame(f, 7404, 5, NODE2, false);
		iph->frag_off = htons(1);	/* an offset */
		retag(f, len);
		expect(f, len, if_up, XDP_DROP, XR_DROP_MALFORMED_INNER);
		len = nic_frame(f, 7405, 5, NODE2, false);
		udph->len = htons(ntohs(udph->len) - 1);
		retag(f, len);
		expect(f, len, if_up, XDP_DROP, XR_DROP_MALFORMED_INNER);
	}
	tap_end("uplink: a tagged inner fragment, or an inner UDP length that disagrees, is dropped");
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
static void check_encap_t(size_t payload, uint64_t seq, size_t trailer)
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
	memset(f + len, 'z', trailer);	/* after the IP packet: not sent */
	r = expect(f, len + trailer, if_b, XDP_REDIRECT, XR_PASS_ENCAP);
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

static void check_encap(size_t payload, uint64_t seq)
{
	check_encap_t(payload, seq, 0);
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
	check_encap_t(5, 37, 40);
	check_encap_t(1300, 38, 3);
	tap_end("partition to a remote partition: what follows its IP packet stays on the node");

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

static int nh_key_count(uint32_t node)
{
	struct xchan_nh_id id, *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(fx.cmm.map_fd[M_NHKEYS], prev, &id)) {
		n += id.node == node;
		prev = &id;
	}
	return n;
}

/* DATA with NH tags (XCHAN_T_DATA_NH) arriving: node 2 is the key file's node, node
 * key id 0, whose NH key both directions derive from PAIR. */
static void uplink_nh_recv(void)
{
	uint8_t f[PKT_MAX];
	struct run r;
	size_t len;

	tap_begin();
	reset();
	fixture_nic();
	ASSERT_EQ(nh_key_count(2), 2, "node add made node 2's NH keys for id 0, rx and tx");
	for (size_t pl = 0; pl <= 32; pl++) {
		len = nic_frame_nh(f, 100 + pl, pl + 100, false, KEY, 0, PAIR, 0);
		r = expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
		check_decap(&r, pl + 100);
	}
	len = nic_frame_nh(f, 200, XCHAN_MAX_INNER - 28, false, KEY, 0, PAIR, 0);
	r = expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	check_decap(&r, XCHAN_MAX_INNER - 28);
	tap_end("uplink, NH tags: every inner length modulo 32 and the largest verify and are decapsulated");

	tap_begin();
	for (size_t pl = 101; pl <= 108; pl++) {
		len = nic_frame_nh(f, 300 + pl, pl, false, KEY, 0, PAIR, 0);
		f[len - 1 - (pl & 7) * 9 % (pl - 28)] ^= 0x10;	/* a byte of the last words */
		expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_TAG);
	}
	len = nic_frame_nh(f, 500, 5, true, KEY, 0, PAIR, 0);
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_TAG);
	len = nic_frame_nh(f, 500, 5, false, KEY, 0, PAIR, 0);
	expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	expect(f, len, if_up, XDP_DROP, XR_DROP_REPLAY);
	tap_end("uplink, NH tags: a changed byte or tag is a bad tag; the same number again a replay");

	tap_begin();
	{
		uint8_t other[32];

		memcpy(other, PAIR, 32);
		other[31] ^= 1;	/* an NH key from another node key */
		len = nic_frame_nh(f, 600, 5, false, KEY, 0, other, 0);
		expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_TAG);
	}
	/* the type is covered: the same frame as SipHash DATA, and SipHash DATA as NH */
	len = nic_frame_nh(f, 601, 5, false, KEY, 0, PAIR, 0);
	f[PKT_OFF_XCHAN + 1] = XCHAN_T_DATA;
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_TAG);
	len = nic_frame(f, 602, 5, NODE2, false);
	f[PKT_OFF_XCHAN + 1] = XCHAN_T_DATA_NH;
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_TAG);
	len = nic_frame(f, 603, 5, NODE2, false);
	expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	/* auth[8..15] is sent as zero and must arrive so, with either tag */
	len = nic_frame(f, 604, 5, NODE2, false);
	f[PKT_OFF_XCHAN + 24 + 12] = 1;
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_TAG);
	len = nic_frame_nh(f, 605, 5, false, KEY, 0, PAIR, 0);
	f[PKT_OFF_XCHAN + 24 + 15] = 0x80;
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_TAG);
	tap_end("uplink, NH tags: another NH key fails; the type is covered; SipHash DATA still verifies; auth's second half must be zero");

	tap_begin();
	len = nic_frame_nh(f, 700, 5, false, KEY, 0, PAIR, 7);	/* node key 7: not node 2's */
	expect(f, len, if_up, XDP_DROP, XR_DROP_NH_NO_KEY);
	/* an NH key the entry does not name (left by a failed install) is not used */
	{
		struct xchan_nh_id id = { .node = 2, .kid = 7, .dir = XCHAN_NH_RX };
		struct xchan_nh_key k;

		nh_key_ref(PAIR, (uint64_t *)k.w);
		bpf_map_update_elem(fx.cmm.map_fd[M_NHKEYS], &id, &k, BPF_ANY);
		len = nic_frame_nh(f, 701, 5, false, KEY, 0, PAIR, 7);
		expect(f, len, if_up, XDP_DROP, XR_DROP_NH_NO_KEY);
		bpf_map_delete_elem(fx.cmm.map_fd[M_NHKEYS], &id);
		id.kid = 0;
		bpf_map_delete_elem(fx.cmm.map_fd[M_NHKEYS], &id);
		len = nic_frame_nh(f, 702, 5, false, KEY, 0, PAIR, 0);
		expect(f, len, if_up, XDP_DROP, XR_DROP_NH_NO_KEY);
	}
	tap_end("uplink, NH tags: a node key the entry does not name, or without its NH key, is drop_nh_key_not_held");
}

/* The key file's key, installed as node key 0 (rx = tx). */
static struct xc_node_key *k0_ptr(const uint8_t *pair)
{
	static struct xc_node_key k = { .id = 0 };

	memcpy(k.rx, pair, 32);
	memcpy(k.tx, pair, 32);
	return &k;
}
#define k0_of(pair) (*k0_ptr(pair))

/* The NH keys follow the node keys: install, retire, del (user/lib/nodekey.c); each
 * direction its own (a directional node key: rx and tx differ). */
static void uplink_nh_keys(void)
{
	struct xc_node_key k1 = { .id = 1 }, k2 = { .id = 2 };
	struct xchan_nh_id id = { .node = 2, .kid = 1, .dir = XCHAN_NH_RX };
	struct xchan_nh_key got;
	uint64_t want[NH_KEY_WORDS];
	uint8_t f[PKT_MAX];
	struct xc_err e;
	size_t len;

	tap_begin();
	reset();
	fixture_nic();
	memset(k1.rx, 0x5a, 32);
	memset(k1.tx, 0xa5, 32);
	ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k1, &e), 0, e.msg);
	/* what node 2 sends under node key 1 verifies with what k1.rx gives, not k1.tx */
	len = nic_frame_nh(f, 10, 50, false, KEY, 0, k1.rx, 1);
	expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	len = nic_frame_nh(f, 11, 50, false, KEY, 0, k1.tx, 1);
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_TAG);
	len = nic_frame_nh(f, 12, 50, false, KEY, 0, PAIR, 0);
	expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	nh_key_ref(k1.rx, want);
	ASSERT_TRUE(!bpf_map_lookup_elem(fx.cmm.map_fd[M_NHKEYS], &id, &got) &&
		    !memcmp(got.w, want, sizeof(want)), "rx: derived from the node key's rx");
	id.dir = XCHAN_NH_TX;
	nh_key_ref(k1.tx, want);
	ASSERT_TRUE(!bpf_map_lookup_elem(fx.cmm.map_fd[M_NHKEYS], &id, &got) &&
		    !memcmp(got.w, want, sizeof(want)), "tx: from its tx");
	ASSERT_EQ(nh_key_count(2), 4, "ids 0 and 1, both directions");
	ASSERT_EQ(xc_node_key_retire(&fx, 2, 1, &e), 0, e.msg);
	ASSERT_EQ(nh_key_count(2), 2, "retiring id 0 removes its NH keys");
	id.kid = 0;
	ASSERT_TRUE(bpf_map_lookup_elem(fx.cmm.map_fd[M_NHKEYS], &id, &got), "id 0's are gone");
	len = nic_frame_nh(f, 13, 50, false, KEY, 0, PAIR, 0);
	expect(f, len, if_up, XDP_DROP, XR_DROP_NH_NO_KEY);
	/* a third key takes the older slot: the id it held loses its NH keys */
	memset(k2.rx, 0x3c, 32);
	memset(k2.tx, 0xc3, 32);
	ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k0_of(PAIR), &e), 0, e.msg);
	ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k2, &e), 0, e.msg);
	ASSERT_EQ(nh_key_count(2), 4, "ids 0 and 2 held, both directions; 1's gone with its slot");
	id.kid = 1;
	ASSERT_TRUE(bpf_map_lookup_elem(fx.cmm.map_fd[M_NHKEYS], &id, &got), "id 1's are gone");
	ASSERT_EQ(xc_node_del(&fx, 2, &e), 0, e.msg);
	ASSERT_EQ(nh_key_count(2), 0, "node del removes every NH key of the node");
	ASSERT_EQ(xc_node_data_mac(&fx, 2, true, &e), -ENOENT, "a node not known here");
	ASSERT_TRUE(xc_node_data_mac(&fx, 0, true, &e) < 0, "node 0 is this node");
	tap_end("NH keys: derived per direction at install, gone with a retired key and with the node");
}

/* B:5000 -> R:6000 towards node 2 with NH tags: type, node key id, and the tag
 * userspace computes with the NH key derived from the node key's tx. */
static void check_encap_nh(size_t payload, uint64_t seq, const uint8_t *ntx, uint8_t nkid)
{
	static uint8_t pl[PKT_MAX], f[PKT_MAX];
	static uint64_t nk[NH_KEY_WORDS];
	struct pkt_spec s = udp_from_b(IP_R, 5000, 6000);
	struct xchan_hdr h;
	uint64_t tag = 0;
	struct run r;
	size_t len;

	memset(pl, 'q', payload);
	s.payload = pl;
	s.payload_len = payload;
	len = pkt_build(f, sizeof(f), &s);
	r = expect(f, len, if_b, XDP_REDIRECT, XR_PASS_ENCAP);
	ASSERT_EQ(r.out_len, len + XCHAN_ENCAP_LEN, "encapsulated length");
	memcpy(&h, r.out + PKT_OFF_XCHAN, sizeof(h));
	ASSERT_EQ(h.type, XCHAN_T_DATA_NH, "DATA with an NH tag");
	ASSERT_EQ(h.reason, nkid, "the node key whose NH key tagged it");
	ASSERT_EQ(be64toh(h.seq), seq, "sequence number");
	for (int i = 0; i < 8; i++)
		tag |= (uint64_t)h.auth[i] << (8 * i);
	memset(h.auth, 0, sizeof(h.auth));
	nh_key_ref(ntx, nk);
	ASSERT_TRUE(tag == nh_tag_ref(KEY, nk, (const void *)&h, f + 14, len - 14),
		    "tag as userspace computes it");
}

/* Node 2 shows it holds node key kid: a CLOSE of its, signed with k32 (its tx: our
 * rx), verified here; then the OUT key the CLOSE removed is put back. forged: signed
 * with something else, refused. */
static void node2_shows(uint8_t kid, const uint8_t *k32, bool forged)
{
	uint64_t was = node2_nonce;
	struct xchan_chan_id out;
	uint8_t f[PKT_MAX], other[32];
	size_t len;

	memset(other, 0xee, sizeof(other));	/* both halves differ from every key here */
	node2_nonce = xc_real_ns();	/* above the record the agent made */
	len = node2_req(f, XCHAN_T_CLOSE, kid, 0, NULL, forged ? other : k32);
	node2_nonce = was;		/* as the tests after this one expect it */
	expect(f, len, if_up, forged ? XDP_DROP : XDP_TX,
	       forged ? XR_DROP_CTRL_BAD_AUTH : XR_CTRL_CLOSE);
	xchan_chan_id_make(&out, P_B, 5000, P_R, 6000, XCHAN_DIR_OUT);
	put_key(&out, KEY, XCHAN_OWNER_REMOTE);
}

static void uplink_nh_send(void)
{
	struct xc_node_key k1 = { .id = 1 };
	struct xc_err e;
	uint64_t seq = 1;

	tap_begin();
	reset();
	fixture_nic();
	ASSERT_EQ(xc_node_data_mac(&fx, 2, true, &e), 0, e.msg);
	/* set to NH, but node 2 has not shown it holds node key 0 yet */
	check_encap(200, seq++);
	node2_shows(0, PAIR, true);
	check_encap(200, seq++);
	tap_end("NH tags: SipHash-2-4 until the peer shows it holds the node key (a forged message shows nothing)");

	tap_begin();
	node2_shows(0, PAIR, false);
	for (size_t pl = 0; pl <= 32; pl++)
		check_encap_nh(pl + 100, seq++, PAIR, 0);
	check_encap_nh(XCHAN_MAX_INNER - 28, seq++, PAIR, 0);
	tap_end("partition to a remote partition, NH tags: every inner length modulo 32 and the largest");

	/* a rotation: SipHash-2-4 tags while both node keys are valid (the peer may not
	 * hold the new one yet, or may have retired the old one already), NH tags under
	 * the new one once the old is retired here */
	tap_begin();
	memset(k1.rx, 0x5a, 32);
	memset(k1.tx, 0xa5, 32);
	ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k1, &e), 0, e.msg);
	check_encap(200, seq++);
	check_encap(XCHAN_MAX_INNER - 28, seq++);
	ASSERT_EQ(xc_node_key_retire(&fx, 2, 1, &e), 0, e.msg);
	check_encap(200, seq++);	/* node 2 has not shown it holds key 1 */
	node2_shows(1, k1.rx, false);
	check_encap_nh(200, seq++, k1.tx, 1);
	/* installing the same key again (a daemon's restart) keeps what the CMM learnt */
	ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k1, &e), 0, e.msg);
	check_encap_nh(200, seq++, k1.tx, 1);
	tap_end("NH tags: SipHash-2-4 while two node keys are valid, and after the retirement until the peer shows it holds the new one; then NH under it, also after the same key is installed again");

	/* node 2 signs under a node key we do not hold (it moved on while we lag): what
	 * we tag with NH may be a key it no longer holds, so SipHash until it signs under
	 * ours again */
	tap_begin();
	{
		uint64_t was = node2_nonce;
		uint8_t f[PKT_MAX], k9[32];
		size_t len;

		memset(k9, 0x99, sizeof(k9));
		node2_nonce = xc_real_ns();
		len = node2_req(f, XCHAN_T_CLOSE, 9, 0, NULL, k9);
		node2_nonce = was;
		expect(f, len, if_up, XDP_DROP, XR_DROP_CTRL_BAD_AUTH);
	}
	check_encap(200, seq++);
	check_encap(1000, seq++);
	node2_shows(1, k1.rx, false);
	check_encap_nh(200, seq++, k1.tx, 1);
	tap_end("NH tags: node 2 signing under a node key not held here takes the mark away (SipHash tags) until it signs under ours again");

	tap_begin();
	{
		struct xchan_nh_id id = { .node = 2, .kid = 1, .dir = XCHAN_NH_TX };
		struct pkt_spec s = udp_from_b(IP_R, 5000, 6000);
		static uint8_t f[PKT_MAX], pl[PKT_MAX];
		size_t len;
		struct run r;

		s.payload = pl;
		s.payload_len = XCHAN_NH_MIN_INNER - 28 - 1;	/* one byte short of NH */
		len = pkt_build(f, sizeof(f), &s);
		r = expect(f, len, if_b, XDP_REDIRECT, XR_PASS_ENCAP);
		ASSERT_EQ(r.out[PKT_OFF_XCHAN + 1], XCHAN_T_DATA, "a short packet: SipHash DATA");
		seq++;	/* the short one took a number */
		check_encap_nh(XCHAN_NH_MIN_INNER - 28, seq++, k1.tx, 1);
		s.payload_len = 300;
		len = pkt_build(f, sizeof(f), &s);
		bpf_map_delete_elem(fx.cmm.map_fd[M_NHKEYS], &id);
		r = expect(f, len, if_b, XDP_REDIRECT, XR_PASS_ENCAP);
		ASSERT_EQ(r.out[PKT_OFF_XCHAN + 1], XCHAN_T_DATA, "without the NH key: SipHash DATA");
		ASSERT_EQ(xc_node_data_mac(&fx, 2, false, &e), 0, e.msg);
		ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k1, &e), 0, e.msg);
		r = expect(f, len, if_b, XDP_REDIRECT, XR_PASS_ENCAP);
		ASSERT_EQ(r.out[PKT_OFF_XCHAN + 1], XCHAN_T_DATA, "data mac siphash: SipHash DATA");
	}
	tap_end("NH tags: SipHash DATA below XCHAN_NH_MIN_INNER, without the NH key, and when the node is set back to siphash");
}

void test_uplink(void)
{
	uplink_nh_recv();
	uplink_nh_keys();
	uplink_nh_send();
	uplink_data();
	uplink_other();
	uplink_send();
	uplink_no_window();
}
