// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_verdicts.c: table-driven verdict tests of the CMM through BPF_PROG_TEST_RUN,
 * in a private network namespace whose dummy devices stand for host-side veths.
 * Each row: packet, map setup, ingress device, verdict, reason delta, output bytes.
 * --bench prints ns/packet per verdict class beside the parse+lookup floor. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cmm.h"
#include "pkt.h"
#include "tap.h"
#include "floor.skel.h"
#include "fixture.h"

int tap_n, tap_failed;
bool tap_row_ok;

static struct ring_buffer *rb;
static struct xchan_event events[64];
static int n_events;

static int on_event(void *ctx, void *data, size_t len)
{
	if (n_events < 64 && len >= sizeof(struct xchan_event))
		memcpy(&events[n_events++], data, sizeof(struct xchan_event));
	/* Audit events must never carry key bytes. */
	if (memmem(data, len, KEY, 8) || memmem(data, len, KEY + 8, 8)) {
		printf("#   event carries key bytes\n");
		tap_row_ok = false;
	}
	return 0;
}

/* The fixture, with the event ring emptied so that each row sees its own events. */
static void reset(void)
{
	fixture_reset();
	ring_buffer__consume(rb);
	n_events = 0;
}

struct run {
	int ret;	/* XDP action, or -errno of the syscall */
	uint8_t out[PKT_MAX];
	uint32_t out_len;
};

/* One run, the event ring left alone (threads may call this at once). */
static struct run run_raw(int prog_fd, const uint8_t *pkt, size_t len, int ifindex)
{
	struct run r = {};
	struct xdp_md ctx = { .data = 0, .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt, .data_size_in = len,
		.data_out = r.out, .data_size_out = sizeof(r.out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		r.ret = -errno;
	else
		r.ret = o.retval;
	r.out_len = o.data_size_out;
	return r;
}

static struct run run_prog(int prog_fd, const uint8_t *pkt, size_t len, int ifindex)
{
	struct run r = run_raw(prog_fd, pkt, len, ifindex);

	ring_buffer__consume(rb);
	return r;
}

static void read_stats(struct xchan_counter *s)
{
	for (uint32_t i = 0; i < XR__MAX; i++)
		cmm_percpu_sum(cmm.map_fd[M_STATS], &i, &s[i], sizeof(s[i]));
}

/* Runs one frame and checks verdict and that exactly `reason` was counted once. */
static struct run expect(const uint8_t *pkt, size_t len, int ifindex, int action, int reason)
{
	struct xchan_counter before[XR__MAX], after[XR__MAX];
	struct run r;

	read_stats(before);
	r = run_prog(cmm.prog_fd, pkt, len, ifindex);
	read_stats(after);
	ASSERT_EQ(r.ret, action, "verdict");
	for (int i = 0; i < XR__MAX; i++) {
		char what[64];

		if (i == XR_EVENT_LOST)
			continue;
		snprintf(what, sizeof(what), "reason %s delta", xchan_reason_names[i]);
		ASSERT_EQ(after[i].packets - before[i].packets, i == reason, what);
	}
	return r;
}

static bool has_event(uint32_t kind, uint32_t reason)
{
	for (int i = 0; i < n_events; i++)
		if (events[i].kind == kind && events[i].reason == reason)
			return true;
	return false;
}

static void chan_counts(struct xchan_chan_counter *c)
{
	memset(c, 0, sizeof(*c));
	cmm_percpu_sum(cmm.map_fd[M_CHANSTATS], &IN_AB, c, sizeof(*c));
}

/* ---- same-node data path ---- */

struct data_row {
	const char *name;
	void (*setup)(void);
	int *ifindex;
	uint32_t saddr, daddr;
	const uint8_t *src_mac;
	uint16_t sport, dport;
	uint8_t proto;
	int action, reason;
	uint32_t event_kind;	/* 0: none expected */
};

static void del_in_key(void) { bpf_map_delete_elem(cmm.map_fd[M_KEYS], &IN_AB); }
static void del_out_key(void) { bpf_map_delete_elem(cmm.map_fd[M_KEYS], &OUT_BA); }
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

static void test_data_rows(void)
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

/* ---- malformed frames ---- */

struct bad_row {
	const char *name;
	struct pkt_spec s;	/* filled on top of udp_from_b(A, 5000, 6000) */
	int reason;
};

static void test_malformed(void)
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
static void test_truncation(void)
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
			struct run r = run_prog(cmm.prog_fd, pkt, cut, if_b);

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

/* ---- ARP, IPv6, other L3, broadcast ---- */

static void test_l2(void)
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

	{
		struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);

		tap_begin();
		s.eth_proto = ETH_P_IPV6;
		len = pkt_build(pkt, sizeof(pkt), &s);
		expect(pkt, len, if_b, XDP_PASS, XR_PASS_IPV6);
		tap_end("IPv6 from a default partition passes");

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

/* ---- the trusted path: CONNECT, CLOSE ---- */

static size_t ctrl_frame(uint8_t *pkt, uint8_t type, uint32_t from_part, uint16_t from_ep,
			 uint32_t to_part, uint16_t to_ep, const uint8_t *key, const uint8_t *src_mac)
{
	struct xchan_hdr xh = {
		.version = XCHAN_VERSION, .type = type,
		.src_part = htonl(from_part), .dst_part = htonl(to_part),
		.src_ep = htons(from_ep), .dst_ep = htons(to_ep),
	};
	struct pkt_spec s = { .saddr = htonl(0x7f000001), .daddr = htonl(0x7f000001),
			      .sport = XCHAN_UDP_PORT, .dport = XCHAN_UDP_PORT, .xh = &xh };

	if (key)
		memcpy(xh.auth, key, 16);
	memcpy(s.src_mac, src_mac, 6);
	memcpy(s.dst_mac, MAC_GW, 6);
	return pkt_build(pkt, PKT_MAX, &s);
}

static bool key_is(const struct xchan_chan_id *id, const uint8_t *key, uint32_t owner)
{
	struct xchan_key k;

	if (bpf_map_lookup_elem(cmm.map_fd[M_KEYS], id, &k))
		return false;
	return !memcmp(k.key, key, 16) && k.owner == owner;
}

static void check_reply(const struct run *r, uint8_t type, uint16_t reason,
			uint32_t from_part, uint16_t from_ep)
{
	const struct xchan_hdr *xh = (const void *)(r->out + PKT_OFF_XCHAN);
	static const uint8_t zero[16];

	if (!ASSERT_TRUE(r->out_len >= PKT_OFF_XCHAN + sizeof(*xh), "reply length"))
		return;
	ASSERT_EQ(xh->type, type, "reply type");
	ASSERT_EQ(ntohs(xh->reason), reason, "reply reason");
	ASSERT_EQ(ntohl(xh->src_part), from_part, "reply src_part");
	ASSERT_EQ(ntohs(xh->src_ep), from_ep, "reply src_ep");
	ASSERT_TRUE(!memcmp(xh->auth, zero, 16), "reply carries no key");
}

static void test_control(void)
{
	uint8_t pkt[PKT_MAX], key2[16];
	struct xchan_channel ch;
	struct xchan_key k;
	struct run r;
	size_t len;

	memcpy(key2, KEY, 16);
	key2[0] ^= 0xff;

	/* A (receiver) has its IN key; B authorized OUT but holds no key yet. */
	tap_begin();
	reset();
	del_out_key();
	len = ctrl_frame(pkt, XCHAN_T_CONNECT, P_A, 6000, P_B, 5000, KEY, MAC_GW);
	r = expect(pkt, len, 1, XDP_TX, XR_CTRL_ACK);
	check_reply(&r, XCHAN_T_CONNECT_ACK, 0, P_B, 5000);
	ASSERT_TRUE(key_is(&OUT_BA, KEY, XCHAN_OWNER_REMOTE), "key stored as remote");
	ASSERT_TRUE(!bpf_map_lookup_elem(cmm.map_fd[M_CHANNELS], &OUT_BA, &ch) &&
		    ch.state == XCHAN_S_ESTABLISHED, "OUT entry established");
	ASSERT_TRUE(has_event(XCHAN_E_ESTABLISHED, XR_CTRL_ACK), "established event");
	{
		struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);

		len = pkt_build(pkt, sizeof(pkt), &s);
		expect(pkt, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	}
	tap_end("CONNECT on the trusted path establishes the channel");

	tap_begin();
	reset();
	len = ctrl_frame(pkt, XCHAN_T_CONNECT, P_A, 6001, P_B, 5001, KEY, MAC_GW);
	r = expect(pkt, len, 1, XDP_TX, XR_NACK_NO_OUT);
	check_reply(&r, XCHAN_T_CONNECT_NACK, XR_NACK_NO_OUT, P_B, 5001);
	{
		struct xchan_chan_id id;

		chan_id_make(&id, P_B, 5001, P_A, 6001, XCHAN_DIR_OUT);
		ASSERT_TRUE(bpf_map_lookup_elem(cmm.map_fd[M_KEYS], &id, &k) && errno == ENOENT,
			    "no key stored");
	}
	ASSERT_TRUE(has_event(XCHAN_E_CONNECT_REFUSED, XR_NACK_NO_OUT), "refusal audited");
	tap_end("CONNECT without OUT authorization is NACKed");

	tap_begin();
	reset();
	len = ctrl_frame(pkt, XCHAN_T_CONNECT, P_A, 6000, P_B, 5000, key2, MAC_GW);
	r = expect(pkt, len, 1, XDP_TX, XR_NACK_EXISTS);
	check_reply(&r, XCHAN_T_CONNECT_NACK, XR_NACK_EXISTS, P_B, 5000);
	ASSERT_TRUE(key_is(&OUT_BA, KEY, XCHAN_OWNER_REMOTE), "stored key unchanged");
	ASSERT_TRUE(has_event(XCHAN_E_EXCLUSION, XR_NACK_EXISTS), "exclusion audited");
	tap_end("second CONNECT for a set key is refused and audited");

	tap_begin();
	{
		struct xchan_key mine = { .owner = XCHAN_OWNER_LOCAL };
		int err;

		memcpy(mine.key, key2, 16);
		err = bpf_map_update_elem(cmm.map_fd[M_KEYS], &OUT_BA, &mine, BPF_NOEXIST);
		ASSERT_EQ(err ? errno : 0, EEXIST, "agent insert errno");
		ASSERT_TRUE(key_is(&OUT_BA, KEY, XCHAN_OWNER_REMOTE), "stored key unchanged");
	}
	tap_end("agent-side insert over a key set by CONNECT gets EEXIST");

	tap_begin();
	reset();
	{
		struct xchan_hdr req = {
			.version = XCHAN_VERSION, .type = XCHAN_T_CLOSE,
			.src_part = htonl(P_A), .dst_part = htonl(P_B),
			.src_ep = htons(6000), .dst_ep = htons(5000),
		}, reply;

		ASSERT_EQ(cmm_ctrl(&cmm, &req, &reply), 0, "cmm_ctrl");
		ASSERT_EQ(reply.type, XCHAN_T_CLOSE_ACK, "reply type");
		ASSERT_TRUE(bpf_map_lookup_elem(cmm.map_fd[M_KEYS], &OUT_BA, &k) && errno == ENOENT,
			    "OUT key removed");
		ASSERT_TRUE(!bpf_map_lookup_elem(cmm.map_fd[M_CHANNELS], &OUT_BA, &ch) &&
			    ch.state == XCHAN_S_AUTHORIZED, "OUT entry back to authorized");
	}
	tap_end("CLOSE through the agent's trusted path removes the sender's key");

	/* Control messages of any type from a partition's interface. */
	for (uint8_t t = XCHAN_T_DATA; t <= XCHAN_T_CLOSE_ACK; t++) {
		char name[96];

		tap_begin();
		reset();
		del_out_key();
		len = ctrl_frame(pkt, t, P_A, 6000, P_B, 5000, key2, MAC_B);
		memcpy(pkt + PKT_OFF_IP + 12, &(uint32_t){ IP_B }, 4);
		/* recompute the IP checksum for the new source */
		pkt[PKT_OFF_IP + 10] = pkt[PKT_OFF_IP + 11] = 0;
		memcpy(pkt + PKT_OFF_IP + 10, &(uint16_t){ pkt_csum(pkt + PKT_OFF_IP, 20, 0) }, 2);
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_CTRL_UNTRUSTED);
		ASSERT_TRUE(has_event(XCHAN_E_CTRL_UNTRUSTED, XR_DROP_CTRL_UNTRUSTED), "audited");
		ASSERT_TRUE(bpf_map_lookup_elem(cmm.map_fd[M_KEYS], &OUT_BA, &k) && errno == ENOENT,
			    "no key stored");
		ASSERT_TRUE(key_is(&IN_AB, KEY, XCHAN_OWNER_LOCAL), "receiver key untouched");
		snprintf(name, sizeof(name), "control type %u from a partition interface is dropped", t);
		tap_end(name);
	}

	/* Truncated or wrong control frames on the trusted path. */
	tap_begin();
	reset();
	del_out_key();
	len = ctrl_frame(pkt, XCHAN_T_CONNECT, P_A, 6000, P_B, 5000, KEY, MAC_GW);
	for (size_t cut = PKT_OFF_XCHAN; cut < len; cut++) {
		uint8_t p2[PKT_MAX];

		memcpy(p2, pkt, cut);
		p2[PKT_OFF_IP + 2] = 0;
		p2[PKT_OFF_IP + 3] = cut - PKT_OFF_IP;
		p2[PKT_OFF_IP + 10] = p2[PKT_OFF_IP + 11] = 0;
		p2[PKT_OFF_UDP + 4] = 0;
		p2[PKT_OFF_UDP + 5] = cut - PKT_OFF_UDP;
		expect(p2, cut, 1, XDP_DROP, XR_DROP_CTRL_MALFORMED);
	}
	ASSERT_TRUE(bpf_map_lookup_elem(cmm.map_fd[M_KEYS], &OUT_BA, &k) && errno == ENOENT,
		    "no key stored");
	tap_end("truncation at every byte offset of the xchan header");

	/* A datagram too short for the header, with the header's bytes in the padding. */
	tap_begin();
	{
		uint8_t p2[PKT_MAX];

		memcpy(p2, pkt, len);
		p2[PKT_OFF_IP + 2] = 0;
		p2[PKT_OFF_IP + 3] = 28;	/* IPv4 20 + UDP 8: no payload */
		p2[PKT_OFF_UDP + 4] = 0;
		p2[PKT_OFF_UDP + 5] = 8;
		expect(p2, len, 1, XDP_DROP, XR_DROP_CTRL_MALFORMED);
		ASSERT_TRUE(bpf_map_lookup_elem(cmm.map_fd[M_KEYS], &OUT_BA, &k) && errno == ENOENT,
			    "no key stored");
	}
	tap_end("CONNECT whose header lies beyond the UDP length is dropped");

	tap_begin();
	pkt[PKT_OFF_XCHAN] = 2;	/* version */
	expect(pkt, len, 1, XDP_DROP, XR_DROP_CTRL_MALFORMED);
	pkt[PKT_OFF_XCHAN] = 1;
	pkt[PKT_OFF_XCHAN + 1] = XCHAN_T_CONNECT_ACK;	/* an answer is not a request */
	expect(pkt, len, 1, XDP_DROP, XR_DROP_CTRL_MALFORMED);
	ASSERT_TRUE(bpf_map_lookup_elem(cmm.map_fd[M_KEYS], &OUT_BA, &k) && errno == ENOENT,
		    "no key stored");
	tap_end("wrong version or type on the trusted path is dropped");
}

/* ---- concurrency: many CONNECTs for one entry at once ---- */

#define RACERS 8
#define RACE_ROUNDS 200

struct racer {
	pthread_t t;
	int id, acks, nacks_exists, other;
	pthread_barrier_t *start;
};

static void *race_connect(void *arg)
{
	struct racer *r = arg;
	uint8_t key[16];

	memcpy(key, KEY, 16);
	key[0] = r->id;		/* every racer offers its own key */
	pthread_barrier_wait(r->start);
	{
		uint8_t pkt[PKT_MAX];
		size_t len = ctrl_frame(pkt, XCHAN_T_CONNECT, P_A, 6000, P_B, 5000, key, MAC_GW);
		struct run x = run_raw(cmm.prog_fd, pkt, len, 1);
		const struct xchan_hdr *xh = (const void *)(x.out + PKT_OFF_XCHAN);

		if (x.ret == XDP_TX && xh->type == XCHAN_T_CONNECT_ACK)
			r->acks++;
		else if (x.ret == XDP_TX && ntohs(xh->reason) == XR_NACK_EXISTS)
			r->nacks_exists++;
		else
			r->other++;
	}
	return NULL;
}

static void test_connect_race(void)
{
	int bad_rounds = 0, events_ok = 1;

	tap_begin();
	for (int round = 0; round < RACE_ROUNDS; round++) {
		struct racer rs[RACERS] = {};
		pthread_barrier_t start;
		int acks = 0, nacks = 0, other = 0, excl = 0;
		struct xchan_key k;

		reset();
		del_out_key();
		pthread_barrier_init(&start, NULL, RACERS);
		for (int i = 0; i < RACERS; i++) {
			rs[i].id = i + 1;
			rs[i].start = &start;
			pthread_create(&rs[i].t, NULL, race_connect, &rs[i]);
		}
		for (int i = 0; i < RACERS; i++) {
			pthread_join(rs[i].t, NULL);
			acks += rs[i].acks;
			nacks += rs[i].nacks_exists;
			other += rs[i].other;
		}
		pthread_barrier_destroy(&start);
		ring_buffer__consume(rb);
		for (int i = 0; i < n_events; i++)
			excl += events[i].kind == XCHAN_E_EXCLUSION;
		/* the stored key is the one whose CONNECT was acknowledged: some racer's */
		if (acks != 1 || nacks != RACERS - 1 || other ||
		    bpf_map_lookup_elem(cmm.map_fd[M_KEYS], &OUT_BA, &k) ||
		    k.key[0] < 1 || k.key[0] > RACERS || k.owner != XCHAN_OWNER_REMOTE)
			bad_rounds++;
		if (excl != RACERS - 1) {
			if (events_ok)
				printf("#   round %d: %d exclusion events of %d events\n", round, excl, n_events);
			events_ok = 0;
		}
	}
	ASSERT_EQ(bad_rounds, 0, "rounds without exactly one ACK and one stored key");
	ASSERT_TRUE(events_ok, "every refused racer audited as an exclusion conflict");
	tap_end("8 simultaneous CONNECTs for one entry, 200 rounds: one key, 7 refusals, 7 audit events");
}

/* ---- between nodes: this instance as node 1, a remote partition R on node 2 ---- */

static void test_uplink(void)
{
	uint8_t f[PKT_MAX], inner[PKT_MAX];
	struct run r;
	size_t len;

	tap_begin();
	reset();
	fixture_nic();
	len = nic_frame(f, 1, 5, NODE2, false);
	r = expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	{
		struct pkt_spec in = { .saddr = IP_R, .daddr = IP_A, .sport = 5000, .dport = 6000,
				       .payload = "ppppp", .payload_len = 5 };
		size_t ilen = pkt_build(inner, sizeof(inner), &in);

		ASSERT_EQ(r.out_len, ilen, "decapsulated length");
		ASSERT_TRUE(!memcmp(r.out, MAC_A, 6), "addressed to the partition");
		if (!ASSERT_TRUE(!memcmp(r.out + 14, inner + 14, ilen - 14), "the inner packet as sent"))
			for (size_t i = 14; i < ilen; i++)
				if (r.out[i] != inner[i])
					printf("#   byte %zu: %02x, sent %02x\n", i, r.out[i], inner[i]);
	}
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
	{
		struct pkt_spec s = { .saddr = NODE2, .daddr = IP_C, .sport = 1000, .dport = 53 };

		memcpy(s.src_mac, MAC_N2, 6);
		memcpy(s.dst_mac, MAC_GW, 6);
		len = pkt_build(f, sizeof(f), &s);
		expect(f, len, if_up, XDP_DROP, XR_DROP_ISOLATED);
		s.daddr = IP_A;
		len = pkt_build(f, sizeof(f), &s);
		expect(f, len, if_up, XDP_PASS, XR_PASS_UPLINK);
	}
	tap_end("uplink: other traffic to an isolated partition is dropped, to others passed");

	tap_begin();
	len = nic_frame(f, 6000, 5, htonl(0x0a630009), false);
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_ORIGIN);
	ASSERT_TRUE(has_event(XCHAN_E_BAD_ORIGIN, XR_DROP_BAD_ORIGIN), "audited");
	tap_end("uplink: DATA for a partition of node 2 from another address is dropped");

	tap_begin();
	{
		struct pkt_spec s = udp_from_b(IP_R, 5000, 6000);
		const struct xchan_hdr *xh;
		uint8_t body[PKT_MAX];
		uint64_t tag = 0;

		len = pkt_build(f, sizeof(f), &s);
		r = expect(f, len, if_b, XDP_REDIRECT, XR_PASS_ENCAP);
		ASSERT_EQ(r.out_len, len + XCHAN_ENCAP_LEN, "encapsulated length");
		xh = (const void *)(r.out + PKT_OFF_XCHAN);
		ASSERT_EQ(xh->type, XCHAN_T_DATA, "DATA");
		ASSERT_EQ(be64toh(xh->seq), 1, "first sequence number");
		ASSERT_TRUE(!memcmp(r.out, "\x02\x00\x00\x00\x99\x02", 6), "to node 2's MAC (fib)");
		/* the tag the CMM computed is the one userspace computes */
		memcpy(body, xh, sizeof(*xh));
		memset(body + 24, 0, 16);
		memcpy(body + sizeof(*xh), f + 14, len - 14);
		for (int i = 0; i < 8; i++)
			tag |= (uint64_t)xh->auth[i] << (8 * i);
		ASSERT_TRUE(tag == siphash24(KEY, body, sizeof(*xh) + len - 14), "tag as userspace computes it");
	}
	tap_end("partition to a remote partition: tagged, numbered, encapsulated towards node 2");
}

/* ---- benchmark: ns/packet per verdict class and the floor ---- */

static double ns_per_run(int prog_fd, const uint8_t *pkt, size_t len, int ifindex, int repeat,
			 int want)
{
	struct xdp_md ctx = { .data = 0, .data_end = len, .ingress_ifindex = ifindex };
	uint8_t out[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt, .data_size_in = len,
		.data_out = out, .data_size_out = sizeof(out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	/* A class that does not reach its verdict measures nothing. */
	if (!ASSERT_EQ(o.retval, want, "bench class verdict"))
		return -1;
	return o.duration;
}

static bool json_out;
static int cmp_d(const void *a, const void *b);
static double ns_per_run(int prog_fd, const uint8_t *pkt, size_t len, int ifindex, int repeat,
			 int want);

/* The NIC path: tagging and encapsulating (sender), and verifying a tag plus the
 * window (receiver; measured on a replayed frame, which is checked in full and then
 * dropped, since an accepted sequence number cannot be accepted twice). */
static void bench_nic(int repeat, int rounds)
{
	static const size_t sizes[] = { 64, 1400 };
	double v[5][16];
	const char *names[5] = { "nic send 64B payload", "nic send 1400B payload",
				 "nic verify 64B payload", "nic verify 1400B payload",
				 "same-node allowed, one run per call" };
	uint8_t f[5][PKT_MAX];
	size_t len[5];
	int ifx[5], want[5];

	reset();
	fixture_nic();
	for (int i = 0; i < 2; i++) {
		static uint8_t pl[PKT_MAX];
		struct pkt_spec s = udp_from_b(IP_R, 5000, 6000);

		memset(pl, 'q', sizeof(pl));
		s.payload = pl;
		s.payload_len = sizes[i];
		len[i] = pkt_build(f[i], PKT_MAX, &s);
		ifx[i] = if_b;
		want[i] = XDP_REDIRECT;
		len[2 + i] = nic_frame(f[2 + i], 1 + i, sizes[i], NODE2, false);
		run_prog(cmm.prog_fd, f[2 + i], len[2 + i], if_up);	/* accept it once */
		ifx[2 + i] = if_up;
		want[2 + i] = XDP_DROP;
	}
	{
		/* the same-node allowed path timed like the send classes, for comparison */
		struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);

		len[4] = pkt_build(f[4], PKT_MAX, &s);
		ifx[4] = if_b;
		want[4] = XDP_REDIRECT;
	}
	if (rounds > 16)
		rounds = 16;
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < 5; c++) {
			if (c == 2 || c == 3) {
				v[c][r] = ns_per_run(cmm.prog_fd, f[c], len[c], ifx[c], repeat, want[c]);
				continue;
			}
			/* encapsulation moves the frame's start, and test_run repeats on the
			 * moved frame: one run per call, the kernel's own timing of each */
			double d[257];
			int n = repeat < 257 ? repeat : 257;

			for (int i = 0; i < n; i++)
				d[i] = ns_per_run(cmm.prog_fd, f[c], len[c], ifx[c], 1, want[c]);
			qsort(d, n, sizeof(double), cmp_d);
			v[c][r] = d[n / 2];
		}
	for (int c = 0; c < 5; c++) {
		qsort(v[c], rounds, sizeof(double), cmp_d);
		if (json_out)
			printf("{\"bench\":\"test_run\",\"class\":\"%s\",\"frame\":%zu,\"repeat\":%d,"
			       "\"rounds\":%d,\"min\":%.1f,\"median\":%.1f,\"max\":%.1f}\n", names[c], len[c],
			       repeat, rounds, v[c][0], v[c][rounds / 2], v[c][rounds - 1]);
		else
			printf("# %-30s %8.1f %8.1f %8.1f   (%zu-byte frame)\n", names[c], v[c][0],
			       v[c][rounds / 2], v[c][rounds - 1], len[c]);
	}
	reset();
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void bench(int repeat, int rounds)
{
	struct floor_bpf *fl = floor_bpf__open_and_load();
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	uint8_t allowed[PKT_MAX], denied[PKT_MAX], spoof[PKT_MAX];
	size_t len;
	struct { const char *name; const uint8_t *pkt; int prog, want; double v[16]; } cls[4];

	if (!fl) {
		printf("# floor program failed to load\n");
		return;
	}
	reset();
	len = pkt_build(allowed, sizeof(allowed), &s);
	s.sport = 5001;
	pkt_build(denied, sizeof(denied), &s);
	s.sport = 5000;
	s.saddr = IP_C;
	pkt_build(spoof, sizeof(spoof), &s);
	{
		/* the floor finds its entry, as the allowed path does */
		struct xchan_chan_id id = { .local_part = ntohl(IP_B), .remote_part = ntohl(IP_A),
					    .local_ep = 5000, .remote_ep = 6000, .dir = XCHAN_DIR_OUT };
		struct xchan_key k = {};

		bpf_map_update_elem(bpf_map__fd(fl->maps.floor_keys), &id, &k, BPF_ANY);
	}
	cls[0].name = "floor (parse + 1 lookup)"; cls[0].pkt = allowed;
	cls[0].prog = bpf_program__fd(fl->progs.xchan_floor);
	cls[0].want = XDP_PASS;
	cls[1].want = XDP_REDIRECT;
	cls[2].want = cls[3].want = XDP_DROP;
	cls[1].name = "cmm allowed"; cls[1].pkt = allowed; cls[1].prog = cmm.prog_fd;
	cls[2].name = "cmm denied (no channel)"; cls[2].pkt = denied; cls[2].prog = cmm.prog_fd;
	cls[3].name = "cmm denied (spoofed source)"; cls[3].pkt = spoof; cls[3].prog = cmm.prog_fd;
	if (rounds > 16)
		rounds = 16;
	/* Interleave the classes so that machine noise hits all of them alike. */
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < 4; c++)
			cls[c].v[r] = ns_per_run(cls[c].prog, cls[c].pkt, len, if_b, repeat, cls[c].want);
	for (int c = 0; c < 4; c++)
		qsort(cls[c].v, rounds, sizeof(double), cmp_d);
	if (json_out) {
		for (int c = 0; c < 4; c++)
			printf("{\"bench\":\"test_run\",\"class\":\"%s\",\"frame\":%zu,\"repeat\":%d,"
			       "\"rounds\":%d,\"min\":%.1f,\"median\":%.1f,\"max\":%.1f}\n", cls[c].name, len,
			       repeat, rounds, cls[c].v[0], cls[c].v[rounds / 2], cls[c].v[rounds - 1]);
		floor_bpf__destroy(fl);
		return;
	}
	printf("# ns/packet through BPF_PROG_TEST_RUN, %d x %d runs, %zu-byte frame\n",
	       rounds, repeat, len);
	printf("# %-30s %8s %8s %8s %8s\n", "class", "min", "median", "max", "x floor");
	for (int c = 0; c < 4; c++)
		printf("# %-30s %8.1f %8.1f %8.1f %8.2f\n", cls[c].name, cls[c].v[0],
		       cls[c].v[rounds / 2], cls[c].v[rounds - 1],
		       cls[c].v[rounds / 2] / cls[0].v[rounds / 2]);
	floor_bpf__destroy(fl);
}

static uint64_t memlock_of(int fd)
{
	char p[64], line[128];
	uint64_t v = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = fopen(p, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lu", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* n established channels B:sport -> A:dport: cost of the allowed path and map
 * memory per channel (memlock of the channel, key and counter maps over n). */
static int scale(uint32_t n, int repeat, int rounds)
{
	struct cmm_sizes sz = { .partitions = 64, .channels = 2 * n + 64 };
	int ncpu = libbpf_num_possible_cpus();
	struct xchan_chan_id *ids;
	void *vals;
	uint32_t cnt;
	int err = 0;
	double v[16];
	uint64_t mem = 0;

	ring_buffer__free(rb);
	cmm_close(&cmm);
	if (cmm_open(&cmm, NULL, true, &sz)) {
		printf("# cannot load with %u channels\n", n);
		return 1;
	}
	rb = ring_buffer__new(cmm.map_fd[M_EVENTS], on_event, NULL, NULL);
	reset();	/* partitions and channel B:5000 -> A:6000 */
	ids = calloc(2 * (size_t)n, sizeof(*ids));
	vals = calloc(2 * (size_t)n, sizeof(struct xchan_chan_counter) * (ncpu > 0 ? ncpu : 1));
	if (!ids || !vals)
		return 1;
	/* channel i: B:(10000 + i % 50000) -> A:(7000 + i / 50000); i = 0 is the fixture's */
	for (uint32_t i = 1; i < n; i++) {
		uint16_t sp = 10000 + i % 50000, dp = 7000 + i / 50000;

		chan_id_make(&ids[2 * (i - 1)], P_B, sp, P_A, dp, XCHAN_DIR_OUT);
		chan_id_make(&ids[2 * (i - 1) + 1], P_A, dp, P_B, sp, XCHAN_DIR_IN);
	}
	{
		struct xchan_channel *ch = vals;

		for (size_t i = 0; i < 2 * (size_t)(n - 1); i++)
			ch[i] = (struct xchan_channel){ .state = XCHAN_S_ESTABLISHED };
		cnt = 2 * (n - 1);
		if (cnt && bpf_map_update_batch(cmm.map_fd[M_CHANNELS], ids, vals, &cnt, NULL))
			err = -errno;
	}
	{
		struct xchan_key *k = vals;

		for (size_t i = 0; i < 2 * (size_t)(n - 1); i++) {
			memset(&k[i], 0, sizeof(k[i]));
			memcpy(k[i].key, KEY, 16);
			k[i].key[0] = i / 2;
			k[i].owner = i % 2 ? XCHAN_OWNER_LOCAL : XCHAN_OWNER_REMOTE;
		}
		cnt = 2 * (n - 1);
		if (!err && cnt && bpf_map_update_batch(cmm.map_fd[M_KEYS], ids, vals, &cnt, NULL))
			err = -errno;
	}
	{
		/* counters for the IN entries only: every other id */
		for (uint32_t i = 0; i + 1 < n; i++)
			ids[i] = ids[2 * i + 1];
		memset(vals, 0, (size_t)n * sizeof(struct xchan_chan_counter) * ncpu);
		cnt = n - 1;
		if (!err && cnt && bpf_map_update_batch(cmm.map_fd[M_CHANSTATS], ids, vals, &cnt, NULL))
			err = -errno;
	}
	free(ids);
	free(vals);
	if (err) {
		printf("# filling %u channels: %s (channels %lu keys %lu chanstats %lu bytes so far)\n", n, strerror(-err),
		       memlock_of(cmm.map_fd[M_CHANNELS]), memlock_of(cmm.map_fd[M_KEYS]), memlock_of(cmm.map_fd[M_CHANSTATS]));
		return 1;
	}
	{
		/* a channel from the middle of the table */
		uint32_t i = n / 2 ? n / 2 : 0;
		struct pkt_spec s = udp_from_b(IP_A, i ? 10000 + i % 50000 : 5000, i ? 7000 + i / 50000 : 6000);
		uint8_t pkt[PKT_MAX];
		size_t len = pkt_build(pkt, sizeof(pkt), &s);

		if (rounds > 16)
			rounds = 16;
		for (int r = 0; r < rounds; r++)
			v[r] = ns_per_run(cmm.prog_fd, pkt, len, if_b, repeat, XDP_REDIRECT);
		qsort(v, rounds, sizeof(double), cmp_d);
	}
	mem = memlock_of(cmm.map_fd[M_CHANNELS]) + memlock_of(cmm.map_fd[M_KEYS]) +
	      memlock_of(cmm.map_fd[M_CHANSTATS]);
	printf("{\"bench\":\"scale\",\"channels\":%u,\"min\":%.1f,\"median\":%.1f,\"max\":%.1f,"
	       "\"map_bytes\":%lu,\"bytes_per_channel\":%.1f,\"ncpu\":%d}\n", n, v[0], v[rounds / 2],
	       v[rounds - 1], mem, (double)mem / n, ncpu);
	return tap_row_ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	bool load_only = argc > 1 && !strcmp(argv[1], "--load-only");
	bool do_bench = argc > 1 && !strcmp(argv[1], "--bench");
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = fixture_netns();
	if (err) {
		printf("Bail out! private netns with veths: %s (run as root)\n", strerror(-err));
		return 1;
	}
	err = cmm_open(&cmm, NULL, true, NULL);
	if (err) {
		printf("Bail out! loading the CMM failed: %s\n", strerror(-err));
		return 1;
	}
	if (load_only) {
		printf("1..1\nok 1 - CMM loads and passes the verifier\n");
		cmm_close(&cmm);
		return 0;
	}
	rb = ring_buffer__new(cmm.map_fd[M_EVENTS], on_event, NULL, NULL);
	if (!rb) {
		printf("Bail out! ring buffer\n");
		return 1;
	}
	json_out = argc > 1 && !strcmp(argv[argc - 1], "--json");
	if (do_bench) {
		int repeat = argc > 2 ? atoi(argv[2]) : 1000000;

		bench(repeat, argc > 3 ? atoi(argv[3]) : 5);
		bench_nic(repeat, argc > 3 ? atoi(argv[3]) : 5);
		goto out;
	}
	if (argc > 2 && !strcmp(argv[1], "--scale")) {
		tap_row_ok = true;
		err = scale(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 1000000, argc > 4 ? atoi(argv[4]) : 5);
		ring_buffer__free(rb);
		cmm_close(&cmm);
		return err;
	}
	test_data_rows();
	test_malformed();
	test_truncation();
	test_l2();
	test_control();
	test_connect_race();
	test_uplink();
	tap_begin();
	bench(10000, 3);
	bench_nic(10000, 3);
	tap_end("bench smoke: every class runs");
	printf("1..%d\n", tap_n);
out:
	ring_buffer__free(rb);
	cmm_close(&cmm);
	return tap_failed ? 1 : 0;
}
