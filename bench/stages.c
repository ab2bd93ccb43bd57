// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* stages.c: xchan-bench-testrun's per-stage costs (the CMM's allowed path cut short
 * after each stage, copies of the program over the fixture's maps) and the cost of
 * the MACs a DATA message could carry, over 64- and 1400-byte payloads. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "testrun.h"
#include "cmm.h"
#include "xchan.skel.h"
#include "bench.skel.h"
#include "xchan_proto.skel.h"
#include "xchan_proto.h"

#define MAX_VARIANTS 16
static struct xchan_bpf *variants[MAX_VARIANTS];
static int nvariants;

int cmm_variant(int stop, uint32_t spread)
{
	struct xchan_bpf *s;

	if (nvariants == MAX_VARIANTS || !(s = xchan_bpf__open()))
		return -1;
	for (int i = 0; i < M__N; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(s->obj, cmm_map_names[i]);

		if (!m || bpf_map__reuse_fd(m, fx.cmm.map_fd[i]))
			goto fail;
	}
	s->rodata->bench_stop = stop;
	s->rodata->bench_spread = spread;
	bpf_program__set_autoload(s->progs.xchan_rx, false);
	if (xchan_bpf__load(s))
		goto fail;
	variants[nvariants++] = s;
	return bpf_program__fd(s->progs.xchan_cmm);
fail:
	fprintf(stderr, "xchan-bench-testrun: cannot load a CMM variant (stop %d)\n", stop);
	xchan_bpf__destroy(s);
	failed = true;
	return -1;
}

void cmm_variants_free(void)
{
	while (nvariants)
		xchan_bpf__destroy(variants[--nvariants]);
}

static struct xchan_proto_bpf *protos[4];
static int nprotos;

/* The prototypes' own tables, filled from the fixture as the agent and CONNECT would
 * fill them: the IN key of B:5000 -> A:6000 naming counter slot 1, and that
 * channel's flow entry. */
static int proto_fill(struct xchan_proto_bpf *p)
{
	uint32_t slot = 1;
	struct xchan_address a;
	struct xchan_key k;
	struct proto_flow f = { .slot = slot };
	struct proto_flow_key fk = { P_B, IP_A, htons(5000), htons(6000) };

	if (bpf_map_lookup_elem(fx.cmm.map_fd[M_KEYS], &IN_AB, &k) ||
	    bpf_map_lookup_elem(fx.cmm.map_fd[M_ADDRS], &(uint32_t){ IP_A }, &a))
		return -1;
	k.owner |= slot << 16;	/* the prototype's counter slot (bench only) */
	bpf_map_update_elem(fx.cmm.map_fd[M_KEYS], &IN_AB, &k, BPF_EXIST);	/* bench only */
	memcpy(f.out_key, KEY, 16);
	memcpy(f.in_key, k.key[XCHAN_KEY_SLOT(k.kid[k.cur])], 16);
	f.part_id = a.part_id;
	f.ifindex = a.ifindex;
	memcpy(f.mac, a.mac, 6);
	explicit_bzero(&k, sizeof(k));
	return bpf_map_update_elem(bpf_map__fd(p->maps.proto_flows), &fk, &f, BPF_ANY);
}

static int proto_variant(int mode)
{
	struct xchan_proto_bpf *p;

	if (nprotos == 4 || !(p = xchan_proto_bpf__open()))
		return -1;
	for (int i = 0; i < M__N; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(p->obj, cmm_map_names[i]);

		if (!m || bpf_map__reuse_fd(m, fx.cmm.map_fd[i]))
			goto fail;
	}
	p->rodata->proto_mode = mode;
	bpf_program__set_autoload(p->progs.xchan_rx, false);
	if (xchan_proto_bpf__load(p) || proto_fill(p))
		goto fail;
	protos[nprotos++] = p;
	return bpf_program__fd(p->progs.xchan_cmm);
fail:
	fprintf(stderr, "xchan-bench-testrun: cannot load a prototype (mode %d)\n", mode);
	xchan_proto_bpf__destroy(p);
	failed = true;
	return -1;
}

static void protos_free(void)
{
	while (nprotos)
		xchan_proto_bpf__destroy(protos[--nprotos]);
}

/* Cumulative: each class runs the path up to and including its stage. */
static const char *const stage_names[] = {
	"stage 1: parse eth, partition by ifindex",
	"stage 2: + source MAC",
	"stage 3: + IPv4, source address, broadcast, UDP",
	"stage 4: + destination partition by address",
	"stage 5: + OUT and IN keys, compare, counters",
	"stage 6: + receiver's MAC, verdict counter, redirect (full)",
};

static const char *const proto_names[] = {
	"proto: counters in a slot the IN key names",
	"proto: one flow entry (keys copied at CONNECT)",
};
#define NSTAGES 6
#define NPROTO 2

int bench_stages(int repeat, int rounds)
{
	static struct cls cls[NSTAGES + NPROTO];
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	int n = NSTAGES + NPROTO;

	fixture_reset();
	for (int i = 0; i < NSTAGES; i++) {
		int fd = i < NSTAGES - 1 ? cmm_variant(i + 1, 0) : fx.cmm.prog_fd;

		if (fd < 0)
			return -1;
		set_class(&cls[i], stage_names[i], &s, fd, if_b, i < 5 ? XDP_PASS : XDP_REDIRECT);
	}
	for (int i = 0; i < NPROTO; i++) {
		int fd = proto_variant(i + 1);

		if (fd < 0)
			return -1;
		set_class(&cls[NSTAGES + i], proto_names[i], &s, fd, if_b, XDP_REDIRECT);
	}
	measure(cls, n, repeat, rounds);
	for (int c = 0; c < n; c++)
		print_class(&cls[c], repeat, rounds, 0);
	cmm_variants_free();
	protos_free();
	fixture_reset();	/* the IN key's slot was the prototypes' */
	return 0;
}

/* Checks a MAC program's tag against the agent's SipHash-2-4 of the same bytes. */
static int mac_check(struct bench_bpf *b, const struct cls *c)
{
	uint8_t buf[40 + PKT_MAX];
	size_t n = c->len - 14;

	if (ns_per_run(c->prog, c->pkt, c->len, c->ifindex, 1, XDP_PASS) < 0)
		return -1;
	memcpy(buf, b->bss->mac_hdr, 40);
	memcpy(buf + 40, c->pkt + 14, n);
	if (b->bss->mac_out != siphash24(b->bss->mac_key, buf, 40 + n)) {
		fprintf(stderr, "xchan-bench-testrun: %s: the tag differs from SipHash-2-4\n", c->name);
		failed = true;
		return -1;
	}
	return 0;
}

int bench_macs(int repeat, int rounds)
{
	static const size_t sizes[] = { 64, 1400 };
	static const char *const names[] = {
		"mac siphash-2-4 64B payload", "mac siphash-1-3 64B payload",
		"mac siphash-2-4 1400B payload", "mac siphash-1-3 1400B payload",
	};
	static uint8_t pl[PKT_MAX];
	static struct cls cls[4];
	struct bench_bpf *b = bench_bpf__open_and_load();
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);

	if (!b) {
		fprintf(stderr, "xchan-bench-testrun: the MAC programs failed to load\n");
		return -1;
	}
	for (int i = 0; i < 16; i++)
		b->bss->mac_key[i] = 0x11 * i;
	for (int i = 0; i < 40; i++)
		b->bss->mac_hdr[i] = i;
	memset(pl, 'q', sizeof(pl));
	s.payload = pl;
	for (int i = 0; i < 4; i++) {
		s.payload_len = sizes[i / 2];
		set_class(&cls[i], names[i], &s, bpf_program__fd(i % 2 ? b->progs.bench_sip13 :
								 b->progs.bench_sip24), if_b, XDP_PASS);
	}
	if (mac_check(b, &cls[0]) || mac_check(b, &cls[2])) {
		bench_bpf__destroy(b);
		return -1;
	}
	measure(cls, 4, repeat, rounds);
	for (int c = 0; c < 4; c++)
		print_class(&cls[c], repeat, rounds, 0);
	bench_bpf__destroy(b);
	return 0;
}
