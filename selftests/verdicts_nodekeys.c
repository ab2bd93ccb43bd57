// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_nodekeys.c: node keys in two slots. Node 2's control under either of its
 * keys is accepted and answered under the same id, signed with our tx for it (not
 * the rx it signed with); an unknown, retired or wrong-direction key is
 * drop_ctrl_bad_auth; REKEY between nodes; node del refuses the node from then on. */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "xchan_auth.h"
#include "verdicts.h"

/* node key 1: both halves (wrap, sign) differ between the directions */
static const uint8_t R1[32] = { [0] = 0x11, [8] = 1, [16] = 0x12, [31] = 0x13 };
static const uint8_t T1[32] = { [0] = 0x21, [8] = 2, [16] = 0x22, [31] = 0x23 };
static const uint8_t KEY2[16] = { 0x77, 7 }, KEY3[16] = { 0x88, 8 };
static uint64_t nonce = 1000;

/* Node 2's request for the channel B:5000 -> R:6000 (R receives, so node 2 asks),
 * under its node key node_kid (bytes k32), the channel key id in the reason byte. */
static size_t node_req(uint8_t *f, uint8_t type, uint8_t node_kid, uint8_t chan_kid,
		       const uint8_t *key16, const uint8_t *k32)
{
	uint8_t tr[8];
	struct xchan_hdr h = { .version = XCHAN_VERSION, .type = type, .key_id = node_kid,
			       .reason = chan_kid, .src_part = htonl(P_R), .dst_part = htonl(P_B),
			       .src_ep = htons(6000), .dst_ep = htons(5000), .seq = htobe64(++nonce) };
	struct pkt_spec c = { .saddr = NODE2, .daddr = NODE1, .sport = 40000,
			      .dport = XCHAN_UDP_PORT, .xh = &h, .payload = tr, .payload_len = 8 };

	if (key16) {
		memcpy(h.auth, key16, 16);
		xchan_key_wrap(h.auth, k32, nonce);
	}
	xchan_put_le64(tr, xchan_hdr_mac(k32, &h));
	memcpy(c.src_mac, MAC_N2, 6);
	memcpy(c.dst_mac, MAC_GW, 6);
	return pkt_build(f, PKT_MAX, &c);
}

/* The answer: an ACK under node key kid, signed with tx, and not with rx. */
static void check_signed(const struct run *r, uint8_t kid, const uint8_t *tx, const uint8_t *rx)
{
	const struct xchan_hdr *xh = (const void *)(r->out + PKT_OFF_XCHAN);
	uint64_t tag = sip_le64(r->out + PKT_OFF_XCHAN + sizeof(*xh));

	ASSERT_EQ(xh->type, XCHAN_T_CONNECT_ACK, "answer type");
	ASSERT_EQ(xh->key_id, kid, "answer names the node key");
	ASSERT_TRUE(tag == xchan_hdr_mac(tx, xh), "signed with our tx for node 2");
	ASSERT_TRUE(tag != xchan_hdr_mac(rx, xh), "not with its rx");
}

static bool out_key_is(uint8_t kid, const uint8_t *key)
{
	struct xchan_chan_id out;
	struct xchan_key k;

	xchan_chan_id_make(&out, P_B, 5000, P_R, 6000, XCHAN_DIR_OUT);
	if (bpf_map_lookup_elem(fx.cmm.map_fd[M_KEYS], &out, &k))
		return false;
	return k.valid == 1U << (kid & 1) && k.kid[k.cur & 1] == kid &&
	       !memcmp(k.key[k.cur & 1], key, 16);
}

/* Node 2 with key 0 (the fixture's pair key) and key 1 (R1/T1), key 0 the newest
 * again: installing an id a slot holds puts it back in use. */
static void two_node_keys(void)
{
	struct xc_node_key k1 = { .id = 1 }, k0 = { .id = 0 };
	struct xchan_chan_id out;
	struct xchan_node n;
	uint64_t t0, t1;
	struct xc_err e;

	memcpy(k1.rx, R1, 32);
	memcpy(k1.tx, T1, 32);
	memcpy(k0.rx, PAIR, 32);
	memcpy(k0.tx, PAIR, 32);
	reset();
	fixture_nic();
	/* node 2's event budget as new: the flood rows before drained the peers' bucket */
	clear_map(fx.cmm.map_fd[M_EVPEER]);
	bpf_map_delete_elem(fx.cmm.map_fd[M_EVLIMIT], &(struct xchan_src_key){ 0, XCHAN_SRC_PEER });
	bpf_map_lookup_elem(fx.cmm.map_fd[M_NODES], &(uint32_t){ 2 }, &n);
	t0 = n.installed_ns[0];
	ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k1, &e), 0, e.msg);
	bpf_map_lookup_elem(fx.cmm.map_fd[M_NODES], &(uint32_t){ 2 }, &n);
	t1 = n.installed_ns[1];
	ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k1, &e), 0, e.msg);
	ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k0, &e), 0, e.msg);
	ASSERT_TRUE(!bpf_map_lookup_elem(fx.cmm.map_fd[M_NODES], &(uint32_t){ 2 }, &n) &&
		    n.valid == 3 && n.cur == 0 && n.kid[0] == 0 && n.kid[1] == 1, "slots 0 (newest) and 1");
	ASSERT_TRUE(n.installed_ns[0] == t0 && n.installed_ns[1] == t1 && t1 > t0,
		    "installing a key again keeps its age");
	ASSERT_TRUE(xc_node_key_install(&fx, 2, 0, &k1, &e) == -EINVAL, "address 0 refused");
	xchan_chan_id_make(&out, P_B, 5000, P_R, 6000, XCHAN_DIR_OUT);
	bpf_map_delete_elem(fx.cmm.map_fd[M_KEYS], &out);
}

static void node_ctrl_slots(void)
{
	uint8_t f[PKT_MAX];
	struct run r;
	size_t len;

	tap_begin();
	two_node_keys();
	len = node_req(f, XCHAN_T_CONNECT, 1, 0, KEY2, R1);
	r = expect(f, len, if_up, XDP_TX, XR_CTRL_ACK);
	check_signed(&r, 1, T1, R1);
	ASSERT_TRUE(out_key_is(0, KEY2), "OUT key 0 stored, unwrapped with rx");
	tap_end("node control under node key 1 (slot 1) while key 0 is the newest: accepted, answered under 1, signed with tx");

	tap_begin();
	len = node_req(f, XCHAN_T_REKEY, 0, 1, KEY3, PAIR);
	r = expect(f, len, if_up, XDP_TX, XR_CTRL_ACK);
	check_signed(&r, 0, PAIR, R1);
	ASSERT_TRUE(out_key_is(1, KEY3), "OUT on channel key 1");
	tap_end("REKEY between nodes under node key 0: the channel key id from the reason byte, OUT on key 1");

	tap_begin();
	len = node_req(f, XCHAN_T_REKEY, 7, 2, KEY2, R1);
	expect(f, len, if_up, XDP_DROP, XR_DROP_CTRL_BAD_AUTH);
	ASSERT_TRUE(has_event(XCHAN_E_BAD_AUTH, XR_DROP_CTRL_BAD_AUTH), "audited");
	len = node_req(f, XCHAN_T_REKEY, 1, 2, KEY2, T1);
	expect(f, len, if_up, XDP_DROP, XR_DROP_CTRL_BAD_AUTH);
	ASSERT_TRUE(out_key_is(1, KEY3), "OUT unchanged");
	tap_end("node control under an unknown node key id, or signed with our own tx: drop_ctrl_bad_auth");
}

static void node_retire_del(void)
{
	uint8_t f[PKT_MAX];
	struct xchan_nexthop nh;
	struct xc_err e;
	size_t len;

	tap_begin();
	ASSERT_EQ(xc_node_key_retire(&fx, 2, 1, &e), 0, e.msg);
	len = node_req(f, XCHAN_T_REKEY, 0, 2, KEY2, PAIR);
	expect(f, len, if_up, XDP_DROP, XR_DROP_CTRL_BAD_AUTH);
	len = node_req(f, XCHAN_T_REKEY, 1, 2, KEY2, R1);
	expect(f, len, if_up, XDP_TX, XR_CTRL_ACK);
	ASSERT_TRUE(xc_node_key_retire(&fx, 2, 9, &e) == -ENOENT, "retiring all but an absent id is refused");
	tap_end("after key-retire --keep 1, control under node key 0 is drop_ctrl_bad_auth, under 1 accepted");

	tap_begin();
	ASSERT_TRUE(xc_node_del(&fx, 0, &e) == -EINVAL && xc_node_del(&fx, 1, &e) == -EINVAL,
		    "node 0 and this node refused");
	ASSERT_EQ(xc_node_del(&fx, 2, &e), 0, e.msg);
	ASSERT_TRUE(bpf_map_lookup_elem(fx.cmm.map_fd[M_NEXTHOP], &(uint32_t){ 2 }, &nh), "next hop gone");
	len = node_req(f, XCHAN_T_CLOSE, 1, 0, NULL, R1);
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_ORIGIN);
	len = nic_frame(f, 100, 5, NODE2, false);
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_ORIGIN);
	ASSERT_TRUE(out_key_is(2, KEY2), "OUT unchanged");
	tap_end("node del: the node's control and DATA are drop_bad_origin_node; node 0 and self refused");
}

void test_node_keys(void)
{
	node_ctrl_slots();
	node_retire_del();
}
