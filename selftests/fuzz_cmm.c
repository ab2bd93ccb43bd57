// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* fuzz_cmm.c: libFuzzer harness for the CMM. Each input is one frame (first byte:
 * which interface it arrives on) run through BPF_PROG_TEST_RUN against the shared
 * fixture. The oracle is a model of the contract, written apart from the BPF code:
 * a frame may leave (PASS, REDIRECT, TX) only when the model says so, REDIRECT only
 * for an exact established channel, TX only on the trusted path; and no table but
 * the counters changes unless the input was a CONNECT, REKEY or CLOSE on the trusted
 * path or node 2's genuine one. The fixture's keys have id 0 (channel and node).
 * The CMM's (verdict, reason) pairs are fed back to libFuzzer as extra coverage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "fixture.h"
#include "nh.h"

enum { O_DROP = XDP_DROP, O_PASS = XDP_PASS, O_TX = XDP_TX, O_REDIRECT = XDP_REDIRECT,
       O_PASS_OR_DROP = 99 };	/* either, never redirected nor answered */

/* libFuzzer reads this section as coverage: the BPF side's paths, by outcome. */
__attribute__((section("__libfuzzer_extra_counters")))
static uint8_t bpf_paths[XR__MAX][8];

static uint16_t be16(const uint8_t *p) { return p[0] << 8 | p[1]; }
static uint32_t raw32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

struct part_model {
	int *ifindex;
	uint32_t id, ip;
	const uint8_t *mac;
	bool isolated;
};
static struct part_model parts[3];

static const struct part_model *part_by_if(int ifx)
{
	for (int i = 0; i < 3; i++)
		if (*parts[i].ifindex == ifx)
			return &parts[i];
	return NULL;
}

static const struct part_model *part_by_ip(uint32_t ip)
{
	for (int i = 0; i < 3; i++)
		if (parts[i].ip == ip)
			return &parts[i];
	return NULL;
}

/* Addressed at L2 to a partition: a bridge would deliver it there. */
static bool to_part_mac(const uint8_t *f)
{
	for (int i = 0; i < 3; i++)
		if (!memcmp(f, parts[i].mac, 6))
			return true;
	return false;
}

/* To R, the partition node 2 hosts: only B's channel to it is tagged, numbered (the
 * OUT entry's sequence number changes: *ctrl) and encapsulated, if it fits. */
static int model_to_remote(const struct part_model *p, const uint8_t *f, size_t len, bool *ctrl)
{
	const uint8_t *ip = f + 14, *udp = f + 34;
	uint16_t tot = be16(ip + 2);

	if (ip[9] != 17 || len < 42 || be16(udp + 4) != tot - 20 || be16(udp + 2) == XCHAN_UDP_PORT)
		return O_DROP;
	if (p->id != P_B || be16(udp) != 5000 || be16(udp + 2) != 6000 || tot > XCHAN_MAX_INNER)
		return O_DROP;
	*ctrl = true;
	return O_REDIRECT;
}

/* The trusted path: a well-formed CONNECT, REKEY or CLOSE is answered in place. */
static int model_trusted(const uint8_t *f, size_t len, bool *ctrl)
{
	const uint8_t *ip = f + 14, *udp = f + 34;
	uint16_t tot;

	if (be16(f + 12) != ETH_P_IP || len < 34 || (ip[0] >> 4) != 4 || (ip[0] & 15) != 5)
		return O_DROP;
	tot = be16(ip + 2);
	if (tot < 20 || 14 + (size_t)tot > len || (be16(ip + 6) & XCHAN_IP_FRAG_MASK) ||
	    ip[8] == 0 || ip[9] != 17)
		return O_DROP;
	if (len < 42 || be16(udp + 4) != tot - 20 || be16(udp + 2) != XCHAN_UDP_PORT)
		return O_DROP;
	if (be16(udp + 4) < 8 + sizeof(struct xchan_hdr) || udp[8] != XCHAN_VERSION)
		return O_DROP;
	if (udp[9] != XCHAN_T_CONNECT && udp[9] != XCHAN_T_REKEY && udp[9] != XCHAN_T_CLOSE)
		return O_DROP;
	*ctrl = true;
	return O_TX;
}

/* ARP from partition p: Ethernet/IPv4, a request (tha zero) or a reply, from p's own
 * MAC and address (or 0.0.0.0); the body, then nothing or zero padding to 60. */
static int model_arp(const struct part_model *p, const uint8_t *f, size_t len)
{
	static const uint8_t zero[XCHAN_ARP_PAD_LEN];
	const uint8_t *a = f + 14;

	if (len < XCHAN_ARP_FRAME_LEN || be16(a) != XCHAN_ARP_HW_ETHER || be16(a + 2) != ETH_P_IP ||
	    a[4] != 6 || a[5] != 4)
		return O_DROP;
	if (!(be16(a + 6) == XCHAN_ARP_REPLY ||
	      (be16(a + 6) == XCHAN_ARP_REQUEST && !memcmp(a + 18, zero, 6))))
		return O_DROP;
	if (len != XCHAN_ARP_FRAME_LEN &&
	    (len != XCHAN_ARP_FRAME_LEN + XCHAN_ARP_PAD_LEN ||
	     memcmp(a + XCHAN_ARP_BODY_LEN, zero, XCHAN_ARP_PAD_LEN)))
		return O_DROP;
	if ((raw32(a + 14) != p->ip && raw32(a + 14) != 0) || memcmp(a + 8, p->mac, 6))
		return O_DROP;
	return O_PASS;
}

/* IPv4 from partition p, its header well formed, unfragmented, from p's address; to
 * a broadcast or multicast address only a non-isolated partition's DHCP request.
 * *done: the outcome returned settles it (else model_ipv4 looks at the destination). */
static int model_ipv4_src(const struct part_model *p, const uint8_t *f, size_t len, bool *done)
{
	const uint8_t *ip = f + 14, *udp = f + 34;
	uint16_t tot;
	uint32_t d;
	bool dhcp;

	*done = true;
	if (len < 34 || (ip[0] >> 4) != 4 || (ip[0] & 15) != 5)
		return O_DROP;
	tot = be16(ip + 2);
	if (tot < 20 || 14 + (size_t)tot > len || (be16(ip + 6) & XCHAN_IP_FRAG_MASK) || ip[8] == 0)
		return O_DROP;
	d = ntohl(raw32(ip + 16));
	/* a DHCP client's request: UDP 68 -> 255.255.255.255:67, from 0.0.0.0 too */
	dhcp = d == 0xffffffff && ip[9] == 17 && len >= 42 &&
	       be16(udp) == XCHAN_DHCP_CLIENT_PORT && be16(udp + 2) == XCHAN_DHCP_SERVER_PORT;
	if (raw32(ip + 12) != p->ip && !(raw32(ip + 12) == 0 && dhcp))
		return O_DROP;
	if ((f[0] & 1) || (d & 0xf0000000) == 0xe0000000 || d == 0xffffffff)
		return !p->isolated && dhcp && !to_part_mac(f) ? O_PASS : O_DROP;
	*done = false;
	return O_DROP;
}

static bool tunnel_proto(uint8_t pr)
{
	return pr == 4 || pr == 41 || pr == 47 || pr == 97 || pr == 115 || pr == 137;
}

/* IPv4 from partition p: to R (node 2), to another partition (only the fixture's one
 * established channel), or out (unless p is isolated). */
static int model_ipv4(const struct part_model *p, const uint8_t *f, size_t len, bool *ctrl)
{
	const uint8_t *ip = f + 14, *udp = f + 34;
	const struct part_model *q;
	bool done;
	int o = model_ipv4_src(p, f, len, &done);

	if (done)
		return o;
	if (raw32(ip + 16) == IP_R)
		return model_to_remote(p, f, len, ctrl);
	q = part_by_ip(raw32(ip + 16));
	if (ip[9] != 17) {
		/* IP-protocol tunnels, wherever they go (DESIGN 3.1: drop_ip_tunnel) */
		if (q || tunnel_proto(ip[9]))
			return O_DROP;
		return p->isolated || to_part_mac(f) ? O_DROP : O_PASS;
	}
	if (len < 42 || be16(udp + 4) != be16(ip + 2) - 20 || be16(udp + 2) == XCHAN_UDP_PORT)
		return O_DROP;
	if (!q)
		return p->isolated || to_part_mac(f) ? O_DROP : O_PASS;
	/* the fixture's one established channel */
	if (p->id == P_B && q->id == P_A && be16(udp) == 5000 && be16(udp + 2) == 6000)
		return O_REDIRECT;
	return O_DROP;
}

/* What the contract says about frame f arriving on ifx. *ctrl: a frame that may
 * change the tables (a control message, a sequence number). */
static int model(const uint8_t *f, size_t len, int ifx, bool *ctrl)
{
	const struct part_model *p;
	uint16_t et = be16(f + 12);

	*ctrl = false;
	if (ifx == 1)
		return model_trusted(f, len, ctrl);
	p = part_by_if(ifx);
	if (!p || memcmp(f + 6, p->mac, 6))
		return O_DROP;
	if (et == ETH_P_ARP)
		return model_arp(p, f, len);
	if (et == ETH_P_IPV6)
		/* outside only; whether its extension headers hide a tunnel the CMM
		 * decides (drop_ip_tunnel), which this oracle does not model */
		return p->isolated || to_part_mac(f) ? O_DROP : O_PASS_OR_DROP;
	if (et != ETH_P_IP)
		return O_DROP;
	return model_ipv4(p, f, len, ctrl);
}

/* ---- the uplink ---- */

static uint64_t accepted[4096];	/* sequence numbers the CMM accepted for R -> A */
static int n_accepted;
static uint64_t last_nonce;		/* of node 2's control messages */
static uint64_t be64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return be64toh(v); }
static uint64_t le64(const uint8_t *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i); return v; }

enum { U_DATA_OK = 100, U_CTRL_OK = 101 };

/* What may happen to frame f on the uplink: a fixed verdict, or for xchan DATA and
 * node control, whether the message is genuine (then the CMM may accept it). */
static int model_uplink(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14, *udp = f + 34, *x = f + 42;
	uint16_t tot, ulen;

	if (be16(f + 12) != ETH_P_IP)
		return O_PASS;
	/* an isolated partition's address is refused before anything else is parsed */
	if (len >= 34) {
		const struct part_model *q = part_by_ip(raw32(ip + 16));

		if (q && q->isolated)
			return O_DROP;
	}
	if (len < 34 || (ip[0] >> 4) != 4 || (ip[0] & 15) != 5)
		return O_PASS;
	tot = be16(ip + 2);
	if (tot < 20 || 14 + (size_t)tot > len || (be16(ip + 6) & 0x3fff) || ip[8] == 0)
		return O_PASS;
	if (ip[9] != 17 || len < 42 || be16(udp + 4) != tot - 20 || be16(udp + 2) != XCHAN_UDP_PORT) {
		const struct part_model *q = part_by_ip(raw32(ip + 16));

		return q && q->isolated ? O_DROP : O_PASS;
	}
	ulen = be16(udp + 4);
	if (ulen < 8 + 40 || x[0] != XCHAN_VERSION)
		return O_DROP;
	if (x[1] == XCHAN_T_CONNECT_ACK || x[1] == XCHAN_T_CONNECT_NACK || x[1] == XCHAN_T_CLOSE_ACK)
		return O_PASS;
	if (x[1] == XCHAN_T_DATA || x[1] == XCHAN_T_DATA_NH) {
		const uint8_t *in = x + 40, *iu = in + 20;
		size_t il = ulen - 48;
		uint8_t body[40 + XCHAN_MAX_INNER];
		uint64_t seq = be64(x + 16);

		if (il < 28 || il > XCHAN_MAX_INNER || len < 14 + 20 + 8 + 40 + 28)
			return O_DROP;
		if ((in[0] >> 4) != 4 || (in[0] & 15) != 5 || be16(in + 2) != il || in[9] != 17 ||
		    memcmp(iu, x + 12, 2) || memcmp(iu + 2, x + 14, 2))
			return O_DROP;
		if (raw32(in + 12) != IP_R || be32toh(raw32(x + 4)) != P_R || raw32(ip + 12) != NODE2)
			return O_DROP;
		if (raw32(in + 16) != IP_A || be32toh(raw32(x + 8)) != P_A ||
		    be16(x + 12) != 5000 || be16(x + 14) != 6000)
			return O_DROP;
		/* the receiver holds channel key 0 only: any other id is retired */
		if (x[2] != 0)
			return O_DROP;
		memcpy(body, x, 40);
		memset(body + 24, 0, 16);
		memcpy(body + 40, in, il);
		if (x[1] == XCHAN_T_DATA_NH) {
			/* NH tags under node 2's one node key, id 0 (node add made its NH keys) */
			static uint64_t nk[NH_KEY_WORDS];

			nh_key_ref(PAIR, nk);
			if (x[3] != 0 || nh_tag_ref(KEY, nk, body, in, il) != le64(x + 24) || !seq)
				return O_DROP;
		} else if (siphash24(KEY, body, 40 + il) != le64(x + 24) || !seq) {
			return O_DROP;
		}
		for (int i = 0; i < n_accepted; i++)
			if (accepted[i] == seq)
				return O_DROP;
		return U_DATA_OK;
	}
	if (x[1] == XCHAN_T_CONNECT || x[1] == XCHAN_T_REKEY || x[1] == XCHAN_T_CLOSE) {
		if (ulen < 8 + 40 + 8 || len < 42 + 48)
			return O_DROP;
		if (be32toh(raw32(x + 4)) != P_R || raw32(ip + 12) != NODE2)
			return O_DROP;
		/* node 2 has one node key, id 0 (the key file's: rx = tx = PAIR) */
		if (x[2] != 0 || siphash24(PAIR + 16, x, 40) != le64(x + 40) || be64(x + 16) <= last_nonce)
			return O_DROP;
		return U_CTRL_OK;
	}
	return O_DROP;
}

static uint64_t tables_sum(void)
{
	static const int maps[] = { M_PARTITION, M_ADDRS, M_CHANNELS, M_DEVMAP };
	uint64_t h = 1469598103934665603ULL;

	for (size_t m = 0; m < sizeof(maps) / sizeof(maps[0]); m++) {
		int fd = fx.cmm.map_fd[maps[m]];
		uint8_t k[64] = {}, v[256];

		for (int err = bpf_map_get_next_key(fd, NULL, k); !err; err = bpf_map_get_next_key(fd, k, k)) {
			memset(v, 0, sizeof(v));
			bpf_map_lookup_elem(fd, k, v);
			for (size_t i = 0; i < sizeof(k); i++)
				h = (h ^ k[i]) * 1099511628211ULL;
			for (size_t i = 0; i < sizeof(v); i++)
				h = (h ^ v[i]) * 1099511628211ULL;
		}
	}
	return h;
}

static uint64_t base_sum;
static uint64_t runs, tx_runs, redirects, passes;

static void report(void)
{
	fprintf(stderr, "fuzz_cmm: %llu inputs through the CMM: %llu redirected, %llu passed, "
		"%llu answered in place (XDP_TX); oracle disagreements: 0\n",
		(unsigned long long)runs, (unsigned long long)redirects, (unsigned long long)passes,
		(unsigned long long)tx_runs);
}

/* FUZZ_WRITE_SEEDS=DIR: the committed seed corpus, one valid frame of each kind. */
static void write_seed(const char *dir, const char *name, uint8_t iface, const uint8_t *f, size_t len)
{
	char path[512];
	FILE *o;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	o = fopen(path, "w");
	if (!o)
		return;
	fwrite(&iface, 1, 1, o);
	fwrite(f, 1, len, o);
	fclose(o);
}

static void write_seeds(const char *dir)
{
	struct xchan_hdr xh = { .version = XCHAN_VERSION, .type = XCHAN_T_CONNECT,
				.src_part = htonl(P_A), .dst_part = htonl(P_B),
				.src_ep = htons(6000), .dst_ep = htons(5000) };
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	uint8_t f[PKT_MAX];
	size_t len;

	write_seed(dir, "allowed", 1, f, pkt_build(f, sizeof(f), &s));
	s.sport = 5001;
	write_seed(dir, "no-channel", 1, f, pkt_build(f, sizeof(f), &s));
	s = udp_from_b(IP_EXT, 5000, 53);
	write_seed(dir, "external", 1, f, pkt_build(f, sizeof(f), &s));
	s = udp_from_b(IP_A, 68, 67);
	memset(s.dst_mac, 0xff, 6);
	s.daddr = 0xffffffff;
	s.saddr = 0;
	write_seed(dir, "dhcp", 1, f, pkt_build(f, sizeof(f), &s));
	s = udp_from_b(IP_A, 5000, 6000);
	s.eth_proto = ETH_P_IPV6;
	write_seed(dir, "ipv6", 1, f, pkt_build(f, sizeof(f), &s));
	len = pkt_build_arp(f, sizeof(f), MAC_B, MAC_B, IP_B, IP_A);
	write_seed(dir, "arp", 1, f, len);
	s = udp_from_b(IP_A, 5000, XCHAN_UDP_PORT);
	s.xh = &xh;
	write_seed(dir, "connect-from-partition", 1, f, pkt_build(f, sizeof(f), &s));
	s.saddr = s.daddr = htonl(0x7f000001);
	s.sport = XCHAN_UDP_PORT;
	write_seed(dir, "connect-trusted", 4, f, pkt_build(f, sizeof(f), &s));
	xh.type = XCHAN_T_CLOSE;
	write_seed(dir, "close-trusted", 4, f, pkt_build(f, sizeof(f), &s));
	xh.type = XCHAN_T_REKEY;
	xh.key_id = 1;
	write_seed(dir, "rekey-trusted", 4, f, pkt_build(f, sizeof(f), &s));
	xh.key_id = 0;
	xh.type = XCHAN_T_CONNECT;
	xh.src_ep = htons(6001);
	write_seed(dir, "connect-unauthorized", 4, f, pkt_build(f, sizeof(f), &s));
	write_seed(dir, "uplink-data", 5, f, nic_frame(f, 1, 16, NODE2, false));
	write_seed(dir, "uplink-data-nh", 5, f, nic_frame_nh(f, 2, 16, false, KEY, 0, PAIR, 0));
	{
		/* node 2 connects R:6000 <- B:5000, signed with the pair key, nonce 1000 */
		uint8_t msg[48];
		struct xchan_hdr h = { .version = XCHAN_VERSION, .type = XCHAN_T_CONNECT,
				       .src_part = htonl(P_R), .dst_part = htonl(P_B),
				       .src_ep = htons(6000), .dst_ep = htons(5000),
				       .seq = htobe64(1000) };
		uint64_t t;
		struct pkt_spec c = { .saddr = NODE2, .daddr = NODE1, .sport = XCHAN_UDP_PORT,
				      .dport = XCHAN_UDP_PORT, .xh = &h, .payload = msg + 40,
				      .payload_len = 8 };

		memset(h.auth, 0x5a, 16);
		t = siphash24(PAIR + 16, &h, sizeof(h));
		for (int i = 0; i < 8; i++)
			msg[40 + i] = t >> (8 * i);
		memcpy(c.src_mac, MAC_N2, 6);
		memcpy(c.dst_mac, MAC_GW, 6);
		write_seed(dir, "uplink-connect", 5, f, pkt_build(f, sizeof(f), &c));
		/* and REKEY to channel key 1 (its id in the reason byte), nonce 1001 */
		h.type = XCHAN_T_REKEY;
		h.reason = 1;
		h.seq = htobe64(1001);
		t = siphash24(PAIR + 16, &h, sizeof(h));
		for (int i = 0; i < 8; i++)
			msg[40 + i] = t >> (8 * i);
		write_seed(dir, "uplink-rekey", 5, f, pkt_build(f, sizeof(f), &c));
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int err;

	if (getenv("FUZZ_WRITE_SEEDS")) {
		write_seeds(getenv("FUZZ_WRITE_SEEDS"));
		exit(0);
	}
	libbpf_set_print(NULL);
	err = fixture_netns();
	if (!err)
		err = fixture_open(NULL);
	if (err) {
		fprintf(stderr, "fuzz_cmm: fixture: %s\n", strerror(-err));
		exit(1);
	}
	parts[0] = (struct part_model){ &if_a, P_A, IP_A, MAC_A, false };
	parts[1] = (struct part_model){ &if_b, P_B, IP_B, MAC_B, false };
	parts[2] = (struct part_model){ &if_c, P_C, IP_C, MAC_C, true };
	fixture_reset();
	fixture_nic();
	base_sum = tables_sum();
	atexit(report);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int *const ifs[] = { &if_a, &if_b, &if_c, &if_unreg, NULL, &if_up };
	uint8_t out[PKT_MAX];
	int ifx, want, got;
	bool ctrl;
	struct xdp_md ctx = {};
	uint32_t r_before[XR__MAX], r_after[XR__MAX];

	if (size < 1 + ETH_HLEN || size > 1 + 1500)
		return -1;
	ifx = ifs[data[0] % 6] ? *ifs[data[0] % 6] : 1;
	data++, size--;
	for (uint32_t r = 0; r < XR__MAX; r++) {
		struct xchan_counter c = {};

		cmm_percpu_sum(fx.cmm.map_fd[M_STATS], &r, &c, sizeof(c));
		r_before[r] = c.packets;
	}
	ctx.data_end = size;
	ctx.ingress_ifindex = ifx;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = size,
		    .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	if (bpf_prog_test_run_opts(fx.cmm.prog_fd, &o)) {
		fprintf(stderr, "BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		abort();
	}
	got = o.retval;
	if (ifx == if_up) {
		want = model_uplink(data, size);
		ctrl = want == U_CTRL_OK;
		if (want == U_DATA_OK) {
			/* a genuine, fresh message may be accepted (or refused by the window) */
			if (got == XDP_REDIRECT && n_accepted < 4096)
				accepted[n_accepted++] = be64(data + 42 + 16);
			want = got == XDP_REDIRECT ? XDP_REDIRECT : XDP_DROP;
		} else if (want == U_CTRL_OK) {
			if (got == XDP_TX)
				last_nonce = be64(data + 42 + 16);
			want = got == XDP_TX ? XDP_TX : XDP_DROP;
		}
	} else {
		want = model(data, size, ifx, &ctrl);
	}
	runs++;
	redirects += got == XDP_REDIRECT;
	passes += got == XDP_PASS;
	tx_runs += got == XDP_TX;
	for (uint32_t r = 0; r < XR__MAX; r++) {
		struct xchan_counter c = {};

		cmm_percpu_sum(fx.cmm.map_fd[M_STATS], &r, &c, sizeof(c));
		r_after[r] = c.packets;
		if (r_after[r] != r_before[r] && r != XR_EVENT_LOST)
			bpf_paths[r][got & 7]++;
	}
	if (got != want && !(want == O_PASS_OR_DROP && (got == XDP_PASS || got == XDP_DROP))) {
		fprintf(stderr, "fuzz_cmm: ORACLE: CMM said %d, the contract says %d (if %d, %zu bytes)\n",
			got, want, ifx, size);
		abort();
	}
	if (tables_sum() != base_sum) {
		if (!ctrl) {
			fprintf(stderr, "fuzz_cmm: ORACLE: tables changed by a frame that is no trusted "
				"CONNECT/CLOSE (if %d)\n", ifx);
			abort();
		}
		fixture_reset();	/* a real CONNECT/CLOSE: start the next input clean */
		fixture_nic();		/* node 2 and the window are new again too */
		n_accepted = 0;
		last_nonce = 0;
		base_sum = tables_sum();
	}
	return 0;
}
