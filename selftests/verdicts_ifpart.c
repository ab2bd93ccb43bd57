// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_ifpart.c: the sender by ifindex: the array the CMM reads below 65536
 * (xchan_ifpart) and the hash above it, both written and removed by the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include "verdicts.h"

enum { P_D = 50 };
#define IP_D htonl(0x0a000005)
static const uint8_t MAC_D[6] = { 0x02, 0, 0, 0, 0, 0x0d };

/* Partition D on a new veth (index 0: the kernel picks one), its id or 0. */
static int add_d(const char *dev, unsigned int index)
{
	struct xc_part_reg r = { .id = P_D, .name = "d", .ip = IP_D };
	struct xc_err e;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip link add %s%s%.0u type veth peer name %s.p", dev,
		 index ? " index " : "", index, dev);
	if (system(cmd))
		return 0;
	r.host_ifindex = if_nametoindex(dev);
	memcpy(r.mac, MAC_D, 6);
	if (xc_part_register(&fx, &r, &e)) {
		printf("# registering d: %s\n", e.msg);
		return 0;
	}
	return r.host_ifindex;
}

static void del_d(const char *dev)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "ip link del %s", dev);
	if (system(cmd))
		printf("# could not remove %s\n", dev);
}

static struct pkt_spec from_d(const uint8_t *mac)
{
	struct pkt_spec s = { .saddr = IP_D, .daddr = IP_EXT, .sport = 5000, .dport = 53,
			      .payload = "hello", .payload_len = 5 };

	memcpy(s.src_mac, mac, 6);
	memcpy(s.dst_mac, MAC_GW, 6);
	return s;
}

/* A row of its own for each step: registered, identified, refused when spoofing,
 * and unknown once removed. */
static void one_side(const char *dev, unsigned int index, bool in_array)
{
	char name[128];
	uint8_t pkt[PKT_MAX];
	struct pkt_spec s = from_d(MAC_D);
	struct xchan_partition row = {};
	uint32_t ifx;
	size_t len;

	reset();
	tap_begin();
	ifx = add_d(dev, index);
	ASSERT_TRUE(ifx, "registered");
	ASSERT_EQ(!bpf_map_lookup_elem(fx.cmm.map_fd[M_IFPART], &ifx, &row) && row.part_id == P_D,
		  in_array, "its row in the array");
	snprintf(name, sizeof(name), "ifindex %u: partition d registered, %s", ifx,
		 in_array ? "in the array and the hash" : "above the array: the hash only");
	tap_end(name);
	if (!ifx)
		return;
	tap_begin();
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, ifx, XDP_PASS, XR_PASS_EXTERNAL);
	s = from_d(MAC_B);
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, ifx, XDP_DROP, XR_DROP_SPOOF_MAC);
	snprintf(name, sizeof(name), "ifindex %u: d identified (passes outside; B's MAC from it refused)", ifx);
	tap_end(name);
	tap_begin();
	xc_part_remove(&fx, P_D, NULL);
	memset(&row, 0xff, sizeof(row));
	if (in_array)
		ASSERT_TRUE(!bpf_map_lookup_elem(fx.cmm.map_fd[M_IFPART], &ifx, &row) && !row.part_id,
			    "array entry zeroed");
	s = from_d(MAC_D);
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, ifx, XDP_DROP, XR_DROP_UNKNOWN_IFACE);
	snprintf(name, sizeof(name), "ifindex %u: partition del: its frames are from an unknown interface", ifx);
	tap_end(name);
	del_d(dev);
	reset();
}

void test_ifpart(void)
{
	one_side("xd", 0, true);
	one_side("xdbig", 70000, false);	/* above the array: the hash */
}
