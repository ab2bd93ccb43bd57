// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* fixture.c: the shared CMM fixture of the packet-level tests and the fuzzer. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <endian.h>
#include <sodium.h>
#include "fixture.h"
#include "xc_int.h"
#include "nh.h"
#include "xchan_auth.h"

const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };
const uint8_t MAC_GW[6] = { 0x02, 0, 0, 0, 0, 0xfe };
uint8_t KEY[16];	/* B -> A's key, as the agent made it at the last fixture_reset() */

struct xc fx;
int if_a, if_b, if_c, if_unreg, if_up;

static int mkdev(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name %s.p", name, name);
	if (system(cmd))
		return -1;
	return if_nametoindex(name);
}

/* Writes a sysctl of the private netns (it inherits the host's values). */
static int netns_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(val, f) == EOF)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

int fixture_netns(void)
{
	int err;

	if (unshare(CLONE_NEWNET))
		return -errno;
	/* Forwarding off: the node path must not need it, whatever the machine has set.
	 * IPv6 off before the veths exist: the CMM really runs on the uplink xn, and
	 * autoconfiguration traffic there would land in a test's reason deltas. */
	err = netns_sysctl("/proc/sys/net/ipv4/ip_forward", "0\n");
	if (!err)
		err = netns_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1\n");
	if (!err)
		err = netns_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1\n");
	if (err)
		return err;
	if_a = mkdev("xa");
	if_b = mkdev("xb");
	if_c = mkdev("xc");
	if_unreg = mkdev("xu");
	if_up = mkdev("xn");
	if (if_a <= 0 || if_b <= 0 || if_c <= 0 || if_unreg <= 0 || if_up <= 0)
		return -ENODEV;
	return 0;
}

void clear_map(int fd)
{
	uint8_t next[64];

	while (!bpf_map_get_next_key(fd, NULL, next))
		bpf_map_delete_elem(fd, next);
}

/* A fixture that cannot be built leaves nothing meaningful to test. */
static void fixture_fail(const char *what, const struct xc_err *e)
{
	printf("Bail out! fixture: %s: %s\n", what, e->msg);
	fflush(stdout);
	exit(1);
}

static int quiet_bpf(enum libbpf_print_level l, const char *f, va_list ap)
{
	return 0;
}

static int quiet_xdp(enum libxdp_print_level l, const char *f, va_list ap)
{
	return 0;
}

int fixture_open(const struct cmm_sizes *sizes)
{
	struct xc_err e;

	/* libxdp says at every attach that it falls back from its dispatcher here */
	libbpf_set_print(quiet_bpf);
	libxdp_set_print(quiet_xdp);
	xc_init(&fx, NULL, sizes);
	if (xc_open_private(&fx, sizes, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return -EINVAL;
	}
	return 0;
}

/* A key was written or removed behind the library's back: the change sequence moves
 * after it, as the library's own writes move it (flow.c), so that no CPU's copy in
 * the flow cache outlives it. */
void keys_changed(void)
{
	cache_forget(&fx);
}

/* Where a test plays the other node (or a corrupted table): an entry's keys written
 * directly, whole (slot s holds ks with id kids where bit s of valid says; cur;
 * ESTABLISHED with owner if any slot is valid, else AUTHORIZED), keeping the entry's
 * counter slot; an entry not there yet is made with a slot of its own, as authorize
 * gives one. Then the change sequence moves. */
void put_entry(const struct xchan_chan_id *id, uint8_t valid, uint8_t cur, const uint8_t *k0,
	       uint8_t kid0, const uint8_t *k1, uint8_t kid1, uint32_t owner)
{
	struct xchan_channel k = {};
	uint32_t slot = XCHAN_NO_SLOT;

	if (!bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], id, &k))
		slot = XCHAN_CTL_SLOT(k.ctl);
	else if (slot_alloc(&fx, &slot))
		slot = XCHAN_NO_SLOT;
	memset(&k, 0, sizeof(k));
	if (k0)
		memcpy(k.key[0], k0, 16);
	if (k1)
		memcpy(k.key[1], k1, 16);
	k.kid[0] = kid0;
	k.kid[1] = kid1;
	k.valid = valid;
	k.cur = cur;
	k.ctl = XCHAN_CTL(valid ? XCHAN_S_ESTABLISHED : XCHAN_S_AUTHORIZED, valid ? owner : 0, slot);
	bpf_map_update_elem(fx.cmm.map_fd[M_CHANNELS], id, &k, BPF_ANY);
	explicit_bzero(&k, sizeof(k));
	keys_changed();
}

/* The one key, id 0 in slot 0, as CONNECT stores a channel's first key. */
void put_key(const struct xchan_chan_id *id, const uint8_t *key, uint32_t owner)
{
	put_entry(id, 1, 0, key, 0, NULL, 0, owner);
}

/* The entry's keys gone behind the library's back (AUTHORIZED, its slot kept). */
void drop_keys(const struct xchan_chan_id *id)
{
	put_entry(id, 0, 0, NULL, 0, NULL, 0, 0);
}

struct xchan_chan_id OUT_BA, IN_AB;

static void register_part(int ifindex, uint32_t id, const char *name, uint32_t ip,
			  const uint8_t *mac, bool isolated)
{
	struct xc_part_reg r = { .id = id, .name = name, .host_ifindex = ifindex,
				 .ip = ip, .isolated = isolated };
	struct xc_err e;

	memcpy(r.mac, mac, 6);
	if (xc_part_register(&fx, &r, &e))
		fixture_fail("registering a partition", &e);
}

/* Every partition and channel goes through the agent's library, as `partition del`
 * and `partition add`/`channel open` would do it: the maps the CMM reads are the
 * ones the agent writes, and B -> A is connected over the real trusted path. */
void fixture_reset(void)
{
	struct xc_ep b = { P_B, 5000 }, a = { P_A, 6000 };
	struct xc_part_info *parts;
	struct xchan_channel k;
	struct xc_err e;
	size_t n;

	if (xc_part_list(&fx, &parts, &n, &e))
		fixture_fail("listing partitions", &e);
	for (size_t i = 0; i < n; i++)
		xc_part_remove(&fx, parts[i].id, NULL);
	free(parts);
	/* what a test may have written behind the agent's back */
	clear_map(fx.cmm.map_fd[M_CHANNELS]);
	/* entries removed behind the library's back leave their slots taken; the
	 * change sequence only ever grows (the CMM's flow cache trusts a copy while
	 * it holds the value the copy was made under), and moves for the entries
	 * cleared here */
	{
		uint64_t seq = fx.cmm.flowslots[1];

		memset(fx.cmm.flowslots, 0, XCHAN_FLOWSLOT_WORDS(fx.cmm.nflowslots) * 8);
		fx.cmm.flowslots[1] = seq + 2;
	}
	register_part(if_a, P_A, "a", IP_A, MAC_A, false);
	register_part(if_b, P_B, "b", IP_B, MAC_B, false);
	register_part(if_c, P_C, "c", IP_C, MAC_C, true);
	xchan_chan_id_make(&OUT_BA, P_B, 5000, P_A, 6000, XCHAN_DIR_OUT);
	xchan_chan_id_make(&IN_AB, P_A, 6000, P_B, 5000, XCHAN_DIR_IN);
	if (xc_chan_open(&fx, &b, &a, &e))
		fixture_fail("opening B:5000 -> A:6000", &e);
	/* the key the receiving side made: what the tests expect in both entries */
	if (bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &IN_AB, &k) ||
	    XCHAN_CTL_STATE(k.ctl) != XCHAN_S_ESTABLISHED) {
		e = (struct xc_err){ .msg = "no key after channel open" };
		fixture_fail("opening B:5000 -> A:6000", &e);
	}
	memcpy(KEY, k.key[0], sizeof(KEY));
	explicit_bzero(&k, sizeof(k));
}

/* A UDP frame from B (on B's interface) to dst:dport. */
struct pkt_spec udp_from_b(uint32_t daddr, uint16_t sport, uint16_t dport)
{
	struct pkt_spec s = { .saddr = IP_B, .daddr = daddr, .sport = sport, .dport = dport,
			      .payload = "hello", .payload_len = 5 };

	memcpy(s.src_mac, MAC_B, 6);
	memcpy(s.dst_mac, MAC_GW, 6);
	return s;
}


/* ---- between nodes: this instance as node 1 (uplink xn), partition R on node 2 ---- */

const uint8_t PAIR[32] = { 7, 7, 7 };
const uint8_t MAC_N2[6] = { 0x02, 0, 0, 0, 0x99, 2 };

/* Node 1 (this instance), its peer node 2 and R through the library as `node self`,
 * `node add`, `attach --uplink` and `partition add --remote` do it. The keys of the
 * two channels with R are written directly: node 2, whose CMM would answer (or send)
 * their CONNECT, is played by the tests. */
void fixture_nic(void)
{
	struct xc_part_spec r = { .id = P_R, .src = XC_SRC_REMOTE, .node = 2, .ip = "10.0.0.40" };
	struct xc_ep a = { P_A, 6000 }, b = { P_B, 5000 }, r_out = { P_R, 5000 }, r_in = { P_R, 6000 };
	struct xchan_chan_id in, out;
	struct xc_part_added added;
	struct xchan_config cfg;
	enum xc_mode mode;
	struct xc_err e;

	xc_part_remove(&fx, P_R, NULL);
	clear_map(fx.cmm.map_fd[M_NODES]);	/* every node at once, NH keys with them */
	clear_map(fx.cmm.map_fd[M_NHKEYS]);
	clear_map(fx.cmm.map_fd[M_REPLAY]);
	/* the uplink's route and neighbour towards node 2, before `node add` resolves them */
	system("ip addr add 10.99.0.1/24 dev xn 2>/dev/null; ip link set xn up; ip link set xn.p up;"
	       "ip neigh replace 10.99.0.2 lladdr 02:00:00:00:99:02 dev xn nud permanent");
	clear_map(fx.cmm.map_fd[M_PEERNONCE]);
	if (xc_node_self(&fx, 1, NODE1, &e) || xc_node_add(&fx, 2, NODE2, PAIR, &e))
		fixture_fail("nodes", &e);
	/* the tests' node 2 counts its nonces from 1000, not from the wall clock */
	bpf_map_update_elem(fx.cmm.map_fd[M_PEERNONCE], &(uint32_t){ 2 },
			    &(struct xchan_peernonce){ 0 }, BPF_EXIST);
	if ((xc_config_read(&fx, &cfg) || cfg.uplink_ifindex != (uint32_t)if_up) &&
	    xc_uplink_attach(&fx, "xn", XC_MODE_ANY, &mode, &e))
		fixture_fail("the uplink", &e);
	if (xc_part_add(&fx, &r, &added, &e))
		fixture_fail("remote partition R", &e);
	/* R:5000 -> A:6000 (A receives here) and B:5000 -> R:6000 (B sends from here) */
	if (xc_chan_authorize(&fx, &a, &r_out, XCHAN_DIR_IN, &e) ||
	    xc_chan_authorize(&fx, &b, &r_in, XCHAN_DIR_OUT, &e))
		fixture_fail("authorizing the channels with R", &e);
	xchan_chan_id_make(&in, P_A, 6000, P_R, 5000, XCHAN_DIR_IN);
	put_key(&in, KEY, XCHAN_OWNER_LOCAL);
	/* and its window, as the agent makes it with the key at connect */
	bpf_map_update_elem(fx.cmm.map_fd[M_REPLAY], &in, &(struct xchan_replay){ 0 }, BPF_ANY);
	xchan_chan_id_make(&out, P_B, 5000, P_R, 6000, XCHAN_DIR_OUT);
	put_key(&out, KEY, XCHAN_OWNER_REMOTE);
}

/* An encapsulated DATA frame from R (on node 2) to A, tagged in userspace. */
size_t nic_frame(uint8_t *f, uint64_t seq, size_t payload, uint32_t outer_src, bool bad_tag)
{
	return nic_frame_key(f, seq, payload, outer_src, bad_tag, KEY, 0);
}

uint64_t nh_tag_ref(const uint8_t key[16], const uint64_t *k64, const uint8_t *hdr,
		    const uint8_t *p, size_t len)
{
	uint32_t m[2 * NH_KEY_WORDS] = { 0 }, k[2 * NH_KEY_WORDS];
	uint64_t s1 = 0, s2 = 0, w[3];
	uint8_t buf[sizeof(struct xchan_hdr) + 24];

	if (len > XCHAN_MAX_INNER)
		return 0;
	memcpy(m, p, len);	/* zero padding to whole 8-byte words */
	for (int i = 0; i < NH_KEY_WORDS; i++) {	/* K's 32-bit words, little-endian */
		k[2 * i] = k64[i] & 0xffffffffu;
		k[2 * i + 1] = k64[i] >> 32;
	}
	for (size_t i = 0; i < (len + 7) / 8 * 2; i += 2) {
		s1 += (uint64_t)(uint32_t)(m[i] + k[i]) * (uint32_t)(m[i + 1] + k[i + 1]);
		s2 += (uint64_t)(uint32_t)(m[i] + k[i + 4]) * (uint32_t)(m[i + 1] + k[i + 5]);
	}
	w[0] = s1, w[1] = s2, w[2] = len;
	memcpy(buf, hdr, sizeof(struct xchan_hdr));	/* H': auth already zero */
	for (int i = 0; i < 3; i++)
		for (int b = 0; b < 8; b++)
			buf[sizeof(struct xchan_hdr) + 8 * i + b] = w[i] >> (8 * b);
	return siphash24(key, buf, sizeof(buf));
}

void nh_key_ref(const uint8_t nkey[XCHAN_PAIR_KEY_LEN], uint64_t *k64)
{
	uint8_t out[64 * NH_KEY_BLOCKS], msg[21] = "xchan nh-toeplitz v1";

	for (int i = 0; i < NH_KEY_BLOCKS; i++) {
		msg[20] = i;
		crypto_generichash(out + 64 * i, 64, msg, sizeof(msg), nkey, XCHAN_PAIR_KEY_LEN);
	}
	memcpy(k64, out, 8 * NH_KEY_WORDS);
}

size_t nic_frame_nh(uint8_t *f, uint64_t seq, size_t payload, bool bad_tag, const uint8_t *key,
		    uint8_t kid, const uint8_t nkey[XCHAN_PAIR_KEY_LEN], uint8_t nkid)
{
	static uint8_t inner[PKT_MAX], pl[PKT_MAX];
	static uint64_t nk[NH_KEY_WORDS];
	struct pkt_spec in = { .saddr = IP_R, .daddr = IP_A, .sport = 5000, .dport = 6000,
			       .payload = pl, .payload_len = payload };
	struct xchan_hdr h = { .version = XCHAN_VERSION, .type = XCHAN_T_DATA_NH,
			       .src_part = htonl(P_R), .dst_part = htonl(P_A), .reason = nkid,
			       .src_ep = htons(5000), .dst_ep = htons(6000), .seq = htobe64(seq),
			       .key_id = kid };
	struct pkt_spec out = { .saddr = NODE2, .daddr = NODE1, .sport = XCHAN_UDP_PORT,
				.dport = XCHAN_UDP_PORT, .xh = &h };
	size_t ilen;
	uint64_t tag;

	memset(pl, 'p', payload);
	ilen = pkt_build(inner, sizeof(inner), &in) - 14;
	nh_key_ref(nkey, nk);
	tag = nh_tag_ref(key, nk, (const void *)&h, inner + 14, ilen) ^ bad_tag;
	for (int i = 0; i < 8; i++)
		h.auth[i] = tag >> (8 * i);
	out.payload = inner + 14;
	out.payload_len = ilen;
	memcpy(out.src_mac, MAC_N2, 6);
	memcpy(out.dst_mac, MAC_GW, 6);
	return pkt_build(f, PKT_MAX, &out);
}

uint64_t node2_nonce = 1000;

/* Node 2's request for the channel B:5000 -> R:6000 (R receives, so node 2 asks),
 * under its node key node_kid (bytes k32), the channel key id in the reason byte. */
size_t node2_req(uint8_t *f, uint8_t type, uint8_t node_kid, uint8_t chan_kid,
		       const uint8_t *key16, const uint8_t *k32)
{
	uint8_t tr[8];
	struct xchan_hdr h = { .version = XCHAN_VERSION, .type = type, .key_id = node_kid,
			       .reason = chan_kid, .src_part = htonl(P_R), .dst_part = htonl(P_B),
			       .src_ep = htons(6000), .dst_ep = htons(5000), .seq = htobe64(++node2_nonce) };
	struct pkt_spec c = { .saddr = NODE2, .daddr = NODE1, .sport = 40000,
			      .dport = XCHAN_UDP_PORT, .xh = &h, .payload = tr, .payload_len = 8 };

	if (key16) {
		memcpy(h.auth, key16, 16);
		xchan_key_wrap(h.auth, k32, node2_nonce);
	}
	xchan_put_le64(tr, xchan_hdr_mac(k32, &h));
	memcpy(c.src_mac, MAC_N2, 6);
	memcpy(c.dst_mac, MAC_GW, 6);
	return pkt_build(f, PKT_MAX, &c);
}

size_t nic_frame_key(uint8_t *f, uint64_t seq, size_t payload, uint32_t outer_src, bool bad_tag,
		     const uint8_t *key, uint8_t kid)
{
	static uint8_t inner[PKT_MAX], body[PKT_MAX], pl[PKT_MAX];
	struct pkt_spec in = { .saddr = IP_R, .daddr = IP_A, .sport = 5000, .dport = 6000,
			       .payload = pl, .payload_len = payload };
	struct xchan_hdr h = { .version = XCHAN_VERSION, .type = XCHAN_T_DATA,
			       .src_part = htonl(P_R), .dst_part = htonl(P_A),
			       .src_ep = htons(5000), .dst_ep = htons(6000), .seq = htobe64(seq),
			       .key_id = kid };
	struct pkt_spec out = { .saddr = outer_src, .daddr = NODE1, .sport = XCHAN_UDP_PORT,
				.dport = XCHAN_UDP_PORT, .xh = &h };
	size_t ilen;
	uint64_t tag;

	memset(pl, 'p', payload);
	ilen = pkt_build(inner, sizeof(inner), &in) - 14;
	memcpy(body, &h, sizeof(h));
	memcpy(body + sizeof(h), inner + 14, ilen);
	tag = siphash24(key, body, sizeof(h) + ilen) ^ bad_tag;
	for (int i = 0; i < 8; i++)
		h.auth[i] = tag >> (8 * i);
	out.payload = inner + 14;
	out.payload_len = ilen;
	memcpy(out.src_mac, MAC_N2, 6);
	memcpy(out.dst_mac, MAC_GW, 6);
	return pkt_build(f, PKT_MAX, &out);
}

