// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_keys.c: key rotation. DATA under either slot's key id and refused under a
 * retired one; REKEY on the trusted path (ACK, a retried ACK, each NACK); the
 * same-node check across a rekey; xc_chan_rekey end to end on one node. Node keys:
 * verdicts_nodekeys.c. */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "xchan_auth.h"
#include "xc_int.h"
#include "verdicts.h"

static const uint8_t KEY2[16] = { 0xa5, 0x5a, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t KEY3[16] = { 0x3c, 0xc3, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9 };

/* Entry id holds k0 (id kid0) in slot 0 and k1 (id kid1) in slot 1 where valid says. */
static void put_slots(const struct xchan_chan_id *id, uint8_t valid, uint8_t cur,
		      const uint8_t *k0, uint8_t kid0, const uint8_t *k1, uint8_t kid1,
		      uint32_t owner)
{
	put_entry(id, valid, cur, k0, kid0, k1, kid1, owner);
}

/* The entry holds exactly one key: id kid in its slot, bytes key, the other slot not
 * valid (an OUT entry keeps the old slot's bytes until the next REKEY writes that
 * slot: a reader may still be comparing them, control.h). */
static bool only_key(const struct xchan_chan_id *id, uint8_t kid, const uint8_t *key)
{
	struct xchan_channel k;
	uint8_t s = kid & 1;
	bool one;

	if (bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], id, &k))
		return false;
	one = XCHAN_CTL_STATE(k.ctl) == XCHAN_S_ESTABLISHED && k.valid == 1U << s &&
	      k.cur == s && k.kid[s] == kid && !memcmp(k.key[s], key, 16);
	explicit_bzero(&k, sizeof(k));
	return one;
}

static uint64_t drops_of(const struct xchan_chan_id *id)
{
	struct xchan_chan_counter c = {};

	chan_counted(&fx, id, &c);
	return c.drops;
}

static void data_under_slots(void)
{
	struct xchan_chan_id in;
	uint8_t f[PKT_MAX];
	uint64_t d;
	size_t len;

	tap_begin();
	reset();
	fixture_nic();
	xchan_chan_id_make(&in, P_A, 6000, P_R, 5000, XCHAN_DIR_IN);
	put_slots(&in, 3, 1, KEY, 0, KEY2, 1, XCHAN_OWNER_LOCAL);
	len = nic_frame_key(f, 1, 5, NODE2, false, KEY, 0);
	expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	len = nic_frame_key(f, 2, 5, NODE2, false, KEY2, 1);
	expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	tap_end("uplink: DATA under slot 0's id and slot 1's id, both valid during a rekey, delivered");

	tap_begin();
	put_slots(&in, 2, 1, NULL, 0, KEY2, 1, XCHAN_OWNER_LOCAL);
	d = drops_of(&in);
	len = nic_frame_key(f, 3, 5, NODE2, false, KEY, 0);
	expect(f, len, if_up, XDP_DROP, XR_DROP_KEY_RETIRED);
	len = nic_frame_key(f, 4, 5, NODE2, false, KEY2, 3);
	expect(f, len, if_up, XDP_DROP, XR_DROP_KEY_RETIRED);
	ASSERT_EQ(drops_of(&in) - d, 2, "channel drops");
	len = nic_frame_key(f, 3, 5, NODE2, false, KEY2, 1);
	expect(f, len, if_up, XDP_REDIRECT, XR_PASS_DECAP);
	tap_end("uplink: a retired id (its slot empty, or the slot holding another id) is drop_key_retired, counted, and burns no number");

	tap_begin();
	put_slots(&in, 3, 1, KEY, 0, KEY2, 1, XCHAN_OWNER_LOCAL);
	len = nic_frame_key(f, 5, 5, NODE2, false, KEY2, 1);
	f[PKT_OFF_XCHAN + 2] = 0;	/* claims the old key: a valid id, but the tag is KEY2's */
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_TAG);
	tap_end("uplink: the key id is covered by the tag (rewritten to the other valid id: drop_bad_tag)");
}

static void send_names_key(void)
{
	static uint8_t f[PKT_MAX], body[PKT_MAX];
	struct pkt_spec s = udp_from_b(IP_R, 5000, 6000);
	const struct xchan_hdr *xh;
	struct xchan_chan_id out;
	uint64_t tag = 0;
	struct run r;
	size_t len;

	tap_begin();
	reset();
	fixture_nic();
	xchan_chan_id_make(&out, P_B, 5000, P_R, 6000, XCHAN_DIR_OUT);
	put_slots(&out, 2, 1, NULL, 0, KEY2, 1, XCHAN_OWNER_REMOTE);
	len = pkt_build(f, sizeof(f), &s);
	r = expect(f, len, if_b, XDP_REDIRECT, XR_PASS_ENCAP);
	xh = (const void *)(r.out + PKT_OFF_XCHAN);
	ASSERT_EQ(xh->key_id, 1, "header key id");
	memcpy(body, xh, sizeof(*xh));
	memset(body + 24, 0, 16);
	memcpy(body + sizeof(*xh), f + 14, len - 14);
	for (int i = 0; i < 8; i++)
		tag |= (uint64_t)xh->auth[i] << (8 * i);
	ASSERT_TRUE(tag == siphash24(KEY2, body, sizeof(*xh) + len - 14), "tagged with key 1");
	tap_end("partition to a remote partition: tagged with OUT's current key, its id in the header");
}

static size_t rekey_frame(uint8_t *pkt, uint8_t kid, const uint8_t *key, uint16_t a_ep, uint16_t b_ep)
{
	size_t len = ctrl_frame(pkt, XCHAN_T_REKEY, P_A, a_ep, P_B, b_ep, key, MAC_GW);

	pkt[PKT_OFF_XCHAN + 2] = kid;
	return len;
}

/* An answer carries no key; a nack_bad_key_id names OUT's current id in auth[0]. */
static void check_answer_cur(const struct run *r, uint8_t type, uint8_t reason, uint8_t kid,
			     uint8_t cur)
{
	const struct xchan_hdr *xh = (const void *)(r->out + PKT_OFF_XCHAN);
	static const uint8_t zero[16];

	ASSERT_EQ(xh->type, type, "answer type");
	ASSERT_EQ(xh->reason, reason, "answer reason");
	ASSERT_EQ(xh->key_id, kid, "answer key id (echoed)");
	ASSERT_EQ(xh->auth[0], cur, "auth[0]: OUT's current id on nack_bad_key_id, else 0");
	ASSERT_TRUE(!memcmp(xh->auth + 1, zero, 15), "answer carries no key");
}

static void check_answer(const struct run *r, uint8_t type, uint8_t reason, uint8_t kid)
{
	check_answer_cur(r, type, reason, kid, 0);
}

static void rekey_trusted(void)
{
	struct xchan_channel ch;
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len;

	tap_begin();
	reset();
	len = rekey_frame(pkt, 1, KEY2, 6000, 5000);
	r = expect(pkt, len, 1, XDP_TX, XR_CTRL_ACK);
	check_answer(&r, XCHAN_T_CONNECT_ACK, 0, 1);
	ASSERT_TRUE(only_key(&OUT_BA, 1, KEY2), "OUT holds key 1 alone");
	ASSERT_TRUE(has_event(XCHAN_E_REKEYED, XR_CTRL_ACK), "rekeyed event");
	ASSERT_TRUE(!bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &OUT_BA, &ch) &&
		    XCHAN_CTL_OWNER(ch.ctl) == XCHAN_OWNER_REMOTE &&
		    !(ch.ctl & XCHAN_CTL_BUSY), "OUT entry's word: established, remote key, not busy");
	explicit_bzero(&ch, sizeof(ch));
	tap_end("REKEY on the trusted path: the OUT entry holds the next key alone, audited as rekeyed");

	tap_begin();
	n_events = 0;
	r = expect(pkt, len, 1, XDP_TX, XR_CTRL_ACK);
	check_answer(&r, XCHAN_T_CONNECT_ACK, 0, 1);
	ASSERT_TRUE(only_key(&OUT_BA, 1, KEY2), "OUT unchanged");
	ASSERT_TRUE(!has_event(XCHAN_E_REKEYED, XR_CTRL_ACK), "no second rekeyed event");
	tap_end("the same REKEY again (its answer lost) is ACKed and changes nothing");

	tap_begin();
	len = rekey_frame(pkt, 3, KEY3, 6000, 5000);
	r = expect(pkt, len, 1, XDP_TX, XR_NACK_BAD_KEY_ID);
	check_answer_cur(&r, XCHAN_T_CONNECT_NACK, XR_NACK_BAD_KEY_ID, 3, 1);
	len = rekey_frame(pkt, 1, KEY3, 6000, 5000);
	r = expect(pkt, len, 1, XDP_TX, XR_NACK_BAD_KEY_ID);
	check_answer_cur(&r, XCHAN_T_CONNECT_NACK, XR_NACK_BAD_KEY_ID, 1, 1);
	ASSERT_TRUE(only_key(&OUT_BA, 1, KEY2), "OUT unchanged");
	ASSERT_TRUE(has_event(XCHAN_E_CONNECT_REFUSED, XR_NACK_BAD_KEY_ID), "refusal audited");
	tap_end("REKEY skipping an id, or the current id with other bytes: nack_bad_key_id naming OUT's current id (auth[0]), OUT unchanged");

	tap_begin();
	del_out_key();
	len = rekey_frame(pkt, 2, KEY3, 6000, 5000);
	expect(pkt, len, 1, XDP_TX, XR_NACK_NO_KEY);
	ASSERT_TRUE(key_absent(&OUT_BA), "no key made");
	len = rekey_frame(pkt, 1, KEY3, 6001, 5001);
	expect(pkt, len, 1, XDP_TX, XR_NACK_NO_OUT);
	tap_end("REKEY where the sender holds no key: nack_no_key and none made; no OUT entry: nack_no_out_entry");
}

static void same_node_across_rekey(void)
{
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	uint8_t pkt[PKT_MAX], f[PKT_MAX], k1x[16];
	size_t len = pkt_build(f, sizeof(f), &s), rl;

	tap_begin();
	reset();
	put_slots(&IN_AB, 3, 1, KEY, 0, KEY2, 1, XCHAN_OWNER_LOCAL);
	expect(f, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	rl = rekey_frame(pkt, 1, KEY2, 6000, 5000);
	expect(pkt, rl, 1, XDP_TX, XR_CTRL_ACK);
	expect(f, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	put_slots(&IN_AB, 2, 1, NULL, 0, KEY2, 1, XCHAN_OWNER_LOCAL);
	expect(f, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	tap_end("same node: delivered with OUT on the old key and IN holding both, after REKEY, after IN retires the old");

	tap_begin();
	put_slots(&OUT_BA, 1, 0, KEY, 0, NULL, 0, XCHAN_OWNER_REMOTE);
	expect(f, len, if_b, XDP_DROP, XR_DROP_KEY_MISMATCH);
	memcpy(k1x, KEY2, 16);
	k1x[15] ^= 1;
	put_slots(&OUT_BA, 2, 1, NULL, 0, k1x, 1, XCHAN_OWNER_REMOTE);
	expect(f, len, if_b, XDP_DROP, XR_DROP_KEY_MISMATCH);
	tap_end("same node: OUT on an id IN retired, or on IN's id with other bytes: drop_key_mismatch");
}

static void library_rekey(void)
{
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	struct xc_ep b = { P_B, 5000 }, a = { P_A, 6000 };
	struct xchan_channel in;
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, sizeof(f), &s);
	struct xc_err e;

	tap_begin();
	reset();
	for (int round = 1; round <= 2; round++) {
		ASSERT_EQ(xc_chan_rekey(&fx, &b, &a, 0, &e), 0, e.msg);
		bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &IN_AB, &in);
		ASSERT_TRUE(only_key(&IN_AB, round, in.key[round & 1]), "IN holds the new key alone");
		ASSERT_TRUE(only_key(&OUT_BA, round, in.key[round & 1]), "OUT holds the same");
		ASSERT_TRUE(memcmp(in.key[round & 1], KEY, 16), "a new key");
		expect(f, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	}
	tap_end("xc_chan_rekey on one node: both ends on key 1, then key 2, the old one retired, traffic passes");

	tap_begin();
	bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &IN_AB, &in);
	put_slots(&IN_AB, 3, 1, in.key[0], 2, KEY3, 3, XCHAN_OWNER_LOCAL);	/* ACK of 3 lost */
	ASSERT_EQ(xc_chan_rekey(&fx, &b, &a, 0, &e), 0, e.msg);
	ASSERT_TRUE(only_key(&IN_AB, 3, KEY3) && only_key(&OUT_BA, 3, KEY3), "both on key 3");
	tap_end("xc_chan_rekey with a rekey pending (both IN slots valid) sends that key again, then retires");

	tap_begin();
	put_slots(&IN_AB, 2, 1, NULL, 0, KEY2, 255, XCHAN_OWNER_LOCAL);
	put_slots(&OUT_BA, 2, 1, NULL, 0, KEY2, 255, XCHAN_OWNER_REMOTE);
	ASSERT_EQ(xc_chan_rekey(&fx, &b, &a, 0, &e), 0, e.msg);
	bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &IN_AB, &in);
	ASSERT_TRUE(only_key(&IN_AB, 0, in.key[0]) && only_key(&OUT_BA, 0, in.key[0]), "both on key 0, slot 0");
	expect(f, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	tap_end("xc_chan_rekey after key 255: the next id is 0, in slot 0, and traffic passes");

	tap_begin();
	del_out_key();
	ASSERT_TRUE(xc_chan_rekey(&fx, &b, &a, 0, &e) == -EACCES && strstr(e.msg, "nack_no_key"),
		    "refused, naming the reason");
	ASSERT_TRUE(!bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &IN_AB, &in) && in.valid == 3 &&
		    in.kid[in.cur & 1] == 1, "IN keeps both keys, 1 the newest");
	ASSERT_TRUE(key_absent(&OUT_BA), "no key made at the sender");
	ASSERT_TRUE(!memmem(e.msg, strlen(e.msg), in.key[0], 4) && !memmem(e.msg, strlen(e.msg), in.key[1], 4),
		    "no key in the message");
	explicit_bzero(&in, sizeof(in));
	tap_end("xc_chan_rekey refused by the sender: fails naming nack_no_key, IN keeps both keys");
}

/* Issue F3: two rekeys at once left IN pending on a key the sender refused (same id,
 * other bytes) beside the retired one, and every later rekey resent it: NACKed for
 * ever. The NACK names the sender's id; the next call moves on from it. */
static void rekey_recovers(void)
{
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	struct xc_ep b = { P_B, 5000 }, a = { P_A, 6000 };
	struct xchan_channel in;
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, sizeof(f), &s);
	struct xc_err e;

	tap_begin();
	reset();
	put_slots(&IN_AB, 3, 1, KEY, 0, KEY3, 1, XCHAN_OWNER_LOCAL);	/* pending 1: KEY3 */
	put_slots(&OUT_BA, 2, 1, NULL, 0, KEY2, 1, XCHAN_OWNER_REMOTE);	/* took 1: KEY2 */
	ASSERT_EQ(xc_chan_rekey(&fx, &b, &a, 0, &e), 0, e.msg);
	bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &IN_AB, &in);
	ASSERT_TRUE(only_key(&IN_AB, 2, in.key[0]) && only_key(&OUT_BA, 2, in.key[0]),
		    "both on a new key 2 alone");
	ASSERT_TRUE(memcmp(in.key[0], KEY, 16) && memcmp(in.key[0], KEY3, 16), "a new key");
	expect(f, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	explicit_bzero(&in, sizeof(in));
	tap_end("xc_chan_rekey whose pending key the sender refuses (it took another key 1): nack_bad_key_id names 1, the receiver moves to 2, both agree, traffic passes");

	tap_begin();
	put_slots(&IN_AB, 3, 1, KEY, 4, KEY3, 5, XCHAN_OWNER_LOCAL);	/* pending 5 */
	put_slots(&OUT_BA, 1, 0, KEY2, 6, NULL, 0, XCHAN_OWNER_REMOTE);	/* sender on 6 */
	ASSERT_EQ(xc_chan_rekey(&fx, &b, &a, 0, &e), 0, e.msg);
	bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &IN_AB, &in);
	ASSERT_TRUE(only_key(&IN_AB, 7, in.key[1]) && only_key(&OUT_BA, 7, in.key[1]),
		    "both on key 7");
	expect(f, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	explicit_bzero(&in, sizeof(in));
	ASSERT_TRUE(xc_chan_rekey(&fx, &b, &a, XC_REKEY_GRACE_MAX_MS + 1, &e) == -EINVAL && e.usage,
		    "a grace period above the bound refused by the library");
	tap_end("xc_chan_rekey when the sender is ahead of both IN keys (on 6, IN on 4 and 5): moves to 7; a grace period over 60 s is refused");
}

struct meddler {
	pthread_t t;
	uint8_t want_kid;
	bool done;
};

/* Once the sender has the new key, IN's newest slot gets other bytes under the same
 * id, as another rekey's write would have put there. */
static void *meddle(void *arg)
{
	struct meddler *m = arg;
	struct xchan_channel k;

	for (int i = 0; i < 20000 && !m->done; i++) {
		if (!bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &OUT_BA, &k) &&
		    k.kid[k.cur & 1] == m->want_kid) {
			bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &IN_AB, &k);
			memcpy(k.key[k.cur & 1], KEY3, 16);
			bpf_map_update_elem(fx.cmm.map_fd[M_CHANNELS], &IN_AB, &k, BPF_EXIST);
			keys_changed();
			m->done = true;
		}
		usleep(100);
	}
	return NULL;
}

static void rekey_retire_checks(void)
{
	struct xc_ep b = { P_B, 5000 }, a = { P_A, 6000 };
	struct meddler m = { .want_kid = 1 };
	struct xchan_channel in;
	struct xc_err e;
	int r;

	tap_begin();
	reset();
	pthread_create(&m.t, NULL, meddle, &m);
	r = xc_chan_rekey(&fx, &b, &a, 500, &e);
	m.done = true;
	pthread_join(m.t, NULL);
	ASSERT_EQ(r, XC_REKEY_KEPT_OLD, e.msg);
	ASSERT_TRUE(strstr(e.msg, "not retired") != NULL, e.msg);
	ASSERT_TRUE(!bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &IN_AB, &in) && in.valid == 3,
		    "IN keeps both keys");
	explicit_bzero(&in, sizeof(in));
	tap_end("xc_chan_rekey: IN's new key replaced under the same id during the grace period: not retired, XC_REKEY_KEPT_OLD says so");
}

void test_keys(void)
{
	data_under_slots();
	send_names_key();
	rekey_trusted();
	same_node_across_rekey();
	library_rekey();
	rekey_recovers();
	rekey_retire_checks();
}
