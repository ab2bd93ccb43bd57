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
#include <endian.h>
#include "fixture.h"

const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };
const uint8_t MAC_GW[6] = { 0x02, 0, 0, 0, 0, 0xfe };
const uint8_t KEY[16] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

struct cmm cmm;
int if_a, if_b, if_c, if_unreg, if_up;

static int mkdev(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name %s.p", name, name);
	if (system(cmd))
		return -1;
	return if_nametoindex(name);
}

/* The private netns plays a node, and a node forwards (nodes.sh's node_up sets the
 * same): without it bpf_fib_lookup answers FWD_DISABLED and the encapsulating path
 * drops with drop_no_route_to_node. A new netns inherits the host's value, so it is
 * written here, in the netns only. A separate issue removes the datapath's dependency
 * on forwarding; this goes with it. */
static int enable_forwarding(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs("1\n", f) == EOF)
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
	err = enable_forwarding();
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

void add_part(int ifindex, uint32_t id, uint32_t ip, const uint8_t *mac, uint16_t flags)
{
	struct xchan_partition p = { .part_id = id, .ip = ip, .flags = flags };
	struct xchan_address a = { .part_id = id, .ifindex = ifindex, .flags = flags };
	uint32_t ifx = ifindex;

	memcpy(p.mac, mac, 6);
	memcpy(a.mac, mac, 6);
	bpf_map_update_elem(cmm.map_fd[M_PARTITION], &ifx, &p, BPF_ANY);
	bpf_map_update_elem(cmm.map_fd[M_ADDRS], &ip, &a, BPF_ANY);
	bpf_map_update_elem(cmm.map_fd[M_DEVMAP], &ifx, &ifx, BPF_ANY);
	{
		struct xchan_mac_key mk = {};

		memcpy(mk.mac, mac, 6);
		bpf_map_update_elem(cmm.map_fd[M_MACS], &mk, &id, BPF_ANY);
	}
}

void put_key(const struct xchan_chan_id *id, const uint8_t *key, uint32_t owner)
{
	struct xchan_key k = { .owner = owner };

	memcpy(k.key, key, 16);
	bpf_map_update_elem(cmm.map_fd[M_KEYS], id, &k, BPF_NOEXIST);
}

void put_chan(const struct xchan_chan_id *id, uint32_t state)
{
	struct xchan_channel ch = { .state = state };

	bpf_map_update_elem(cmm.map_fd[M_CHANNELS], id, &ch, BPF_NOEXIST);
}

struct xchan_chan_id OUT_BA, IN_AB;

void fixture_reset(void)
{
	struct xchan_chan_counter zero[256] = {};

	for (int i = 0; i < M__N; i++)
		if (i == M_CHANNELS || i == M_KEYS || i == M_CHANSTATS || i == M_PARTITION ||
		    i == M_ADDRS || i == M_DEVMAP || i == M_MACS)
			clear_map(cmm.map_fd[i]);
	add_part(if_a, P_A, IP_A, MAC_A, 0);
	add_part(if_b, P_B, IP_B, MAC_B, 0);
	add_part(if_c, P_C, IP_C, MAC_C, XCHAN_PART_ISOLATED);
	xchan_chan_id_make(&OUT_BA, P_B, 5000, P_A, 6000, XCHAN_DIR_OUT);
	xchan_chan_id_make(&IN_AB, P_A, 6000, P_B, 5000, XCHAN_DIR_IN);
	put_chan(&OUT_BA, XCHAN_S_ESTABLISHED);
	put_chan(&IN_AB, XCHAN_S_ESTABLISHED);
	put_key(&OUT_BA, KEY, XCHAN_OWNER_REMOTE);
	put_key(&IN_AB, KEY, XCHAN_OWNER_LOCAL);
	bpf_map_update_elem(cmm.map_fd[M_CHANSTATS], &IN_AB, zero, BPF_ANY);
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

void fixture_nic(void)
{
	uint32_t zero = 0, n2 = 2, r = P_R, ip = IP_R;
	struct xchan_config cfg = { .self_node = 1, .self_addr = NODE1, .uplink_ifindex = if_up };
	struct xchan_node node = { .addr = NODE2 };
	struct xchan_part_meta meta = { .node_id = 2 };
	struct xchan_address ad = { .part_id = P_R, .node_id = 2 };
	struct xchan_chan_id in, out;

	memcpy(node.pair_key, PAIR, sizeof(PAIR));
	bpf_map_update_elem(cmm.map_fd[M_CONFIG], &zero, &cfg, BPF_ANY);
	bpf_map_update_elem(cmm.map_fd[M_NODES], &n2, &node, BPF_ANY);
	bpf_map_update_elem(cmm.map_fd[M_PARTMETA], &r, &meta, BPF_ANY);
	bpf_map_update_elem(cmm.map_fd[M_ADDRS], &ip, &ad, BPF_ANY);
	clear_map(cmm.map_fd[M_REPLAY]);
	/* R:5000 -> A:6000 (A receives here) and B:5000 -> R:6000 (B sends from here) */
	xchan_chan_id_make(&in, P_A, 6000, P_R, 5000, XCHAN_DIR_IN);
	put_chan(&in, XCHAN_S_ESTABLISHED);
	put_key(&in, KEY, XCHAN_OWNER_LOCAL);
	xchan_chan_id_make(&out, P_B, 5000, P_R, 6000, XCHAN_DIR_OUT);
	put_chan(&out, XCHAN_S_ESTABLISHED);
	put_key(&out, KEY, XCHAN_OWNER_REMOTE);
	/* the uplink's route and neighbour towards node 2 */
	system("ip addr add 10.99.0.1/24 dev xn 2>/dev/null; ip link set xn up; ip link set xn.p up;"
	       "ip neigh replace 10.99.0.2 lladdr 02:00:00:00:99:02 dev xn nud permanent");
}

/* An encapsulated DATA frame from R (on node 2) to A, tagged in userspace. */
size_t nic_frame(uint8_t *f, uint64_t seq, size_t payload, uint32_t outer_src, bool bad_tag)
{
	static uint8_t inner[PKT_MAX], body[PKT_MAX], pl[PKT_MAX];
	struct pkt_spec in = { .saddr = IP_R, .daddr = IP_A, .sport = 5000, .dport = 6000,
			       .payload = pl, .payload_len = payload };
	struct xchan_hdr h = { .version = XCHAN_VERSION, .type = XCHAN_T_DATA,
			       .src_part = htonl(P_R), .dst_part = htonl(P_A),
			       .src_ep = htons(5000), .dst_ep = htons(6000), .seq = htobe64(seq) };
	struct pkt_spec out = { .saddr = outer_src, .daddr = NODE1, .sport = XCHAN_UDP_PORT,
				.dport = XCHAN_UDP_PORT, .xh = &h };
	size_t ilen;
	uint64_t tag;

	memset(pl, 'p', payload);
	ilen = pkt_build(inner, sizeof(inner), &in) - 14;
	memcpy(body, &h, sizeof(h));
	memcpy(body + sizeof(h), inner + 14, ilen);
	tag = siphash24(KEY, body, sizeof(h) + ilen) ^ bad_tag;
	for (int i = 0; i < 8; i++)
		h.auth[i] = tag >> (8 * i);
	out.payload = inner + 14;
	out.payload_len = ilen;
	memcpy(out.src_mac, MAC_N2, 6);
	memcpy(out.dst_mac, MAC_GW, 6);
	return pkt_build(f, PKT_MAX, &out);
}

