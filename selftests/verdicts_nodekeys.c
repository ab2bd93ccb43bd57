// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_nodekeys.c: node keys in two slots. Node 2's control under either of its
 * keys is accepted and answered under the same id, signed with our tx for it (not
 * the rx it signed with); an unknown, retired or wrong-direction key is
 * drop_ctrl_bad_auth; REKEY between nodes; node del refuses the node from then on. */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "xchan_auth.h"
#include "verdicts.h"
#include "xc_int.h"

/* node key 1: both halves (wrap, sign) differ between the directions */
static const uint8_t R1[32] = { [0] = 0x11, [8] = 1, [16] = 0x12, [31] = 0x13 };
static const uint8_t T1[32] = { [0] = 0x21, [8] = 2, [16] = 0x22, [31] = 0x23 };
static const uint8_t KEY2[16] = { 0x77, 7 }, KEY3[16] = { 0x88, 8 };

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
	struct xchan_channel k;

	xchan_chan_id_make(&out, P_B, 5000, P_R, 6000, XCHAN_DIR_OUT);
	if (bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &out, &k))
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
	drop_keys(&out);	/* the tests below CONNECT it again */
}

static void node_ctrl_slots(void)
{
	uint8_t f[PKT_MAX];
	struct run r;
	size_t len;

	tap_begin();
	two_node_keys();
	len = node2_req(f, XCHAN_T_CONNECT, 1, 0, KEY2, R1);
	r = expect(f, len, if_up, XDP_TX, XR_CTRL_ACK);
	check_signed(&r, 1, T1, R1);
	ASSERT_TRUE(out_key_is(0, KEY2), "OUT key 0 stored, unwrapped with rx");
	tap_end("node control under node key 1 (slot 1) while key 0 is the newest: accepted, answered under 1, signed with tx");

	tap_begin();
	len = node2_req(f, XCHAN_T_REKEY, 0, 1, KEY3, PAIR);
	r = expect(f, len, if_up, XDP_TX, XR_CTRL_ACK);
	check_signed(&r, 0, PAIR, R1);
	ASSERT_TRUE(out_key_is(1, KEY3), "OUT on channel key 1");
	tap_end("REKEY between nodes under node key 0: the channel key id from the reason byte, OUT on key 1");

	tap_begin();
	len = node2_req(f, XCHAN_T_REKEY, 7, 2, KEY2, R1);
	expect(f, len, if_up, XDP_DROP, XR_DROP_CTRL_BAD_AUTH);
	ASSERT_TRUE(has_event(XCHAN_E_BAD_AUTH, XR_DROP_CTRL_BAD_AUTH), "audited");
	len = node2_req(f, XCHAN_T_REKEY, 1, 2, KEY2, T1);
	expect(f, len, if_up, XDP_DROP, XR_DROP_CTRL_BAD_AUTH);
	ASSERT_TRUE(out_key_is(1, KEY3), "OUT unchanged");
	tap_end("node control under an unknown node key id, or signed with our own tx: drop_ctrl_bad_auth");

	/* one byte past the trailer, in both lengths: the answer would carry back what
	 * nobody signed */
	tap_begin();
	len = node2_req(f, XCHAN_T_REKEY, 1, 2, KEY2, R1);
	f[len] = 0x5a;
	f[PKT_OFF_IP + 3]++;
	f[PKT_OFF_UDP + 5]++;
	expect(f, len + 1, if_up, XDP_DROP, XR_DROP_CTRL_MALFORMED);
	ASSERT_TRUE(out_key_is(1, KEY3), "OUT unchanged");
	len = node2_req(f, XCHAN_T_REKEY, 1, 2, KEY2, R1);
	r = expect(f, len, if_up, XDP_TX, XR_CTRL_ACK);
	ASSERT_EQ(r.out_len, len, "the same request, exactly as long: answered");
	tap_end("node control one byte longer than header and trailer: drop_ctrl_malformed");
}

static void node_retire_del(void)
{
	uint8_t f[PKT_MAX];
	struct xchan_nexthop nh;
	struct xc_err e;
	size_t len;

	tap_begin();
	ASSERT_EQ(xc_node_key_retire(&fx, 2, 1, &e), 0, e.msg);
	len = node2_req(f, XCHAN_T_REKEY, 0, 2, KEY2, PAIR);
	expect(f, len, if_up, XDP_DROP, XR_DROP_CTRL_BAD_AUTH);
	len = node2_req(f, XCHAN_T_REKEY, 1, 2, KEY2, R1);
	expect(f, len, if_up, XDP_TX, XR_CTRL_ACK);
	ASSERT_TRUE(xc_node_key_retire(&fx, 2, 9, &e) == -ENOENT, "retiring all but an absent id is refused");
	tap_end("after key-retire --keep 1, control under node key 0 is drop_ctrl_bad_auth, under 1 accepted");

	tap_begin();
	ASSERT_TRUE(xc_node_del(&fx, 0, &e) == -EINVAL && xc_node_del(&fx, 1, &e) == -EINVAL,
		    "node 0 and this node refused");
	ASSERT_EQ(xc_node_del(&fx, 2, &e), 0, e.msg);
	ASSERT_TRUE(bpf_map_lookup_elem(fx.cmm.map_fd[M_NEXTHOP], &(uint32_t){ 2 }, &nh), "next hop gone");
	len = node2_req(f, XCHAN_T_CLOSE, 1, 0, NULL, R1);
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_ORIGIN);
	len = nic_frame(f, 100, 5, NODE2, false);
	expect(f, len, if_up, XDP_DROP, XR_DROP_BAD_ORIGIN);
	ASSERT_TRUE(out_key_is(2, KEY2), "OUT unchanged");
	tap_end("node del: the node's control and DATA are drop_bad_origin_node; node 0 and self refused");
}

static uint64_t peer_nonce(void)
{
	struct xchan_peernonce pn = {};

	bpf_map_lookup_elem(fx.cmm.map_fd[M_PEERNONCE], &(uint32_t){ 2 }, &pn);
	return pn.last;
}

/* A CLOSE of node 2 accepted, recorded; the OUT key put back as a new CONNECT would. */
static size_t recorded_close(uint8_t *f)
{
	struct xchan_chan_id out;
	size_t len = node2_req(f, XCHAN_T_CLOSE, 0, 0, NULL, PAIR);
	uint8_t g[PKT_MAX];

	memcpy(g, f, len);	/* the CMM answers in place: the run gets a copy */
	expect(g, len, if_up, XDP_TX, XR_CTRL_CLOSE);
	xchan_chan_id_make(&out, P_B, 5000, P_R, 6000, XCHAN_DIR_OUT);
	put_key(&out, KEY, XCHAN_OWNER_REMOTE);
	return len;
}

/* Issue F1: the last nonce lived in the node entry, so removing and adding the node
 * again (or a fresh key install) started it at 0 and every recorded message replayed. */
static void node_nonce_outlives(void)
{
	struct xc_node_key k0 = { .id = 0 };
	uint8_t f[PKT_MAX];
	uint64_t last;
	struct xc_err e;
	size_t len;

	memcpy(k0.rx, PAIR, 32);
	memcpy(k0.tx, PAIR, 32);
	tap_begin();
	reset();
	fixture_nic();
	clear_map(fx.cmm.map_fd[M_EVPEER]);	/* node 2's budget as new (two_node_keys) */
	bpf_map_delete_elem(fx.cmm.map_fd[M_EVLIMIT], &(struct xchan_src_key){ 0, XCHAN_SRC_PEER });
	len = recorded_close(f);
	last = peer_nonce();
	ASSERT_EQ(last, node2_nonce, "the CMM raised node 2's nonce record");
	ASSERT_EQ(xc_node_del(&fx, 2, &e), 0, e.msg);
	ASSERT_EQ(peer_nonce(), last, "node del leaves the record");
	ASSERT_EQ(xc_node_add(&fx, 2, NODE2, PAIR, &e), 0, e.msg);
	ASSERT_EQ(peer_nonce(), last, "node add with the same key does not lower it");
	expect(f, len, if_up, XDP_DROP, XR_DROP_REPLAY);
	ASSERT_TRUE(has_event(XCHAN_E_BAD_AUTH, XR_DROP_REPLAY), "audited");
	ASSERT_TRUE(out_key_is(0, KEY), "OUT key not closed by the replay");
	ASSERT_EQ(xc_node_del(&fx, 2, &e), 0, e.msg);
	ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k0, &e), 0, e.msg);
	expect(f, len, if_up, XDP_DROP, XR_DROP_REPLAY);
	len = node2_req(f, XCHAN_T_CLOSE, 0, 0, NULL, PAIR);
	expect(f, len, if_up, XDP_TX, XR_CTRL_CLOSE);
	tap_end("node del, then node add or a fresh key-install with the same key: a recorded CLOSE is drop_replay (the nonce record outlives the entry), a new one accepted");

	tap_begin();
	bpf_map_delete_elem(fx.cmm.map_fd[M_PEERNONCE], &(uint32_t){ 2 });
	len = node2_req(f, XCHAN_T_CLOSE, 0, 0, NULL, PAIR);
	expect(f, len, if_up, XDP_DROP, XR_DROP_REPLAY);
	ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k0, &e), 0, e.msg);
	last = peer_nonce();
	ASSERT_TRUE(last + XCHAN_NONCE_SKEW_NS <= xc_real_ns() + 1000000000ULL &&
		    last + XCHAN_NONCE_SKEW_NS + 1000000000ULL >= xc_real_ns(),
		    "a new record starts a minute behind the wall clock");
	len = node2_req(f, XCHAN_T_CLOSE, 0, 0, NULL, PAIR);
	expect(f, len, if_up, XDP_DROP, XR_DROP_REPLAY);
	node2_nonce = xc_real_ns();
	len = node2_req(f, XCHAN_T_CLOSE, 0, 0, NULL, PAIR);
	expect(f, len, if_up, XDP_TX, XR_CTRL_CLOSE);
	tap_end("no nonce record: drop_replay; the agent makes one a minute behind the wall clock, so what was recorded before it is stale and a clock-based nonce passes");
}

/* ---- the agent's side: which node key each attempt of xc_node_ctrl goes under ---- */

struct sender {
	pthread_t t;
	uint8_t type;
	int ret;
	struct xc_err e;
};

static void *send_ctrl(void *arg)
{
	struct sender *sd = arg;
	struct xchan_hdr req = { .version = XCHAN_VERSION, .type = sd->type,
				 .src_part = htonl(P_A), .dst_part = htonl(P_R),
				 .src_ep = htons(6000), .dst_ep = htons(5000) }, reply;

	sd->ret = xc_node_ctrl(&fx, 2, &req, &reply, &sd->e);
	return NULL;
}

/* The node key id of the next request on its way to node 2 (xn.p, where no CMM
 * answers); -1 after 3 s, or at once with MSG_DONTWAIT. */
static int next_attempt(int ps, int flags)
{
	uint8_t f[256];

	for (;;) {
		ssize_t n = recv(ps, f, sizeof(f), flags);

		if (n < 0)
			return -1;
		if (n >= PKT_OFF_XCHAN + 48 && f[12] == 8 && f[13] == 0 && f[23] == 17 &&
		    f[36] == XCHAN_UDP_PORT >> 8 && f[37] == (XCHAN_UDP_PORT & 0xff))
			return f[PKT_OFF_XCHAN + 2];
	}
}

static int capture_open(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = if_nametoindex("xn.p") };
	struct timeval tv = { .tv_sec = 3 };
	int ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (ps < 0 || bind(ps, (void *)&sll, sizeof(sll)) ||
	    setsockopt(ps, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -1;
	return ps;
}

/* Node 2 with key-file key 0 and directional key 1, 1 the newest. */
static void node2_two_keys(void)
{
	struct xc_node_key k1 = { .id = 1 };
	struct xc_err e;

	memcpy(k1.rx, R1, 32);
	memcpy(k1.tx, T1, 32);
	xc_node_del(&fx, 2, &e);
	ASSERT_EQ(xc_node_add(&fx, 2, NODE2, PAIR, &e), 0, e.msg);
	ASSERT_EQ(xc_node_key_install(&fx, 2, NODE2, &k1, &e), 0, e.msg);
}

/* Issues F2 and F5: a CONNECT's retries alternated to the older node key (the one a
 * rotation retires: its holder could drop attempt 1 and unwrap attempt 2), and the
 * entry read once was used for all 6.2 s of retries. */
static void agent_key_choice(void)
{
	struct sender sd = { .type = XCHAN_T_CONNECT };
	int ps, k[5], n = 0;
	struct xc_err e;

	tap_begin();
	reset();
	fixture_nic();
	node2_two_keys();
	ps = capture_open();
	ASSERT_TRUE(ps >= 0, "a packet socket on xn.p");
	pthread_create(&sd.t, NULL, send_ctrl, &sd);
	while (n < 2 && (k[n] = next_attempt(ps, 0)) >= 0)
		n++;
	xc_node_del(&fx, 2, &e);
	pthread_join(sd.t, NULL);
	while (n < 5 && (k[n] = next_attempt(ps, MSG_DONTWAIT)) >= 0)
		n++;
	ASSERT_TRUE(n >= 2 && n < 5, "attempts until the node went");
	for (int i = 0; i < n; i++)
		ASSERT_EQ(k[i], 1, "CONNECT attempt under the newest node key");
	ASSERT_TRUE(sd.ret == -ENOENT && strstr(sd.e.msg, "not known"), sd.e.msg);
	tap_end("xc_node_ctrl: every attempt of a CONNECT goes under the newest node key; a node removed during the retries ends them (-ENOENT), not 6.2 s later");

	tap_begin();
	node2_two_keys();
	sd = (struct sender){ .type = XCHAN_T_CLOSE };
	n = 0;
	pthread_create(&sd.t, NULL, send_ctrl, &sd);
	while (n < 2 && (k[n] = next_attempt(ps, 0)) >= 0)
		n++;
	ASSERT_EQ(xc_node_key_retire(&fx, 2, 0, &e), 0, e.msg);
	if ((k[n] = next_attempt(ps, 0)) >= 0)
		n++;
	xc_node_del(&fx, 2, &e);
	pthread_join(sd.t, NULL);
	while (n < 5 && (k[n] = next_attempt(ps, MSG_DONTWAIT)) >= 0)
		n++;
	ASSERT_TRUE(n == 3 && k[0] == 1 && k[1] == 0, "CLOSE alternates: 1, then 0");
	ASSERT_EQ(k[2], 0, "after key 1's retirement, attempt 3 under key 0");
	ASSERT_EQ(sd.ret, -ENOENT, sd.e.msg);
	close(ps);
	tap_end("xc_node_ctrl: a CLOSE alternates between the node keys, and a key retired during the retries is used no more");
}

/* ---- F4: the CMM reads the node key once, and only its copy ---- */

struct churner {
	pthread_t t;
	volatile bool stop;
	long updates;
};

/* Replaces node 3's entry, then node 2's with what it holds, on the other CPU: in a
 * preallocated map the element an update replaces is that CPU's spare for its next
 * update, so node 2's old element soon holds node 3's keys. */
static void *churn(void *arg)
{
	struct churner *c = arg;
	struct xchan_node n2, n3;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(1, &one);
	pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	bpf_map_lookup_elem(fx.cmm.map_fd[M_NODES], &(uint32_t){ 2 }, &n2);
	bpf_map_lookup_elem(fx.cmm.map_fd[M_NODES], &(uint32_t){ 3 }, &n3);
	while (!c->stop) {
		bpf_map_update_elem(fx.cmm.map_fd[M_NODES], &(uint32_t){ 3 }, &n3, BPF_EXIST);
		bpf_map_update_elem(fx.cmm.map_fd[M_NODES], &(uint32_t){ 2 }, &n2, BPF_EXIST);
		c->updates += 2;
	}
	explicit_bzero(&n2, sizeof(n2));
	explicit_bzero(&n3, sizeof(n3));
	return NULL;
}

static void node_entry_churn(void)
{
	static const uint8_t OTHER[32] = { 0xee, 0xee, [16] = 0xdd, [31] = 0xdd };
	struct churner c = {};
	uint8_t f[PKT_MAX];
	int runs = 0, bad = 0, refused = 0;
	struct timespec t0, t;
	cpu_set_t one, all;
	struct xc_err e;

	tap_begin();
	reset();
	fixture_nic();
	ASSERT_EQ(xc_node_add(&fx, 3, htonl(0x0a630003), OTHER, &e), 0, e.msg);
	sched_getaffinity(0, sizeof(all), &all);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	pthread_create(&c.t, NULL, churn, &c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		size_t len = node2_req(f, XCHAN_T_CLOSE, 0, 0, NULL, PAIR);
		struct run r = run_raw(fx.cmm.prog_fd, f, len, if_up);
		const struct xchan_hdr *xh = (const void *)(r.out + PKT_OFF_XCHAN);

		if (r.ret != XDP_TX)
			refused++;
		else if (xh->type != XCHAN_T_CLOSE_ACK ||
			 sip_le64(r.out + PKT_OFF_XCHAN + sizeof(*xh)) != xchan_hdr_mac(PAIR, xh))
			bad++;
		runs++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (runs < 200000 && t.tv_sec - t0.tv_sec < 2);
	c.stop = true;
	pthread_join(c.t, NULL);
	sched_setaffinity(0, sizeof(all), &all);
	xc_node_del(&fx, 3, &e);
	printf("#   %d CLOSEs from node 2 while %ld entry replacements ran on the other CPU: %d refused\n",
	       runs, c.updates, refused);
	ASSERT_EQ(bad, 0, "CLOSEs answered under another node's key");
	ASSERT_TRUE(refused * 1000 <= runs, "at most one in 1000 refused (the element reused under it)");
	tap_end("node control while node entries are replaced on the other CPU: never answered under another node's key, refused rarely (a reused element is noticed)");
}

void test_node_keys(void)
{
	node_ctrl_slots();
	node_retire_del();
	node_nonce_outlives();
	agent_key_choice();
	node_entry_churn();
}
