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
#include "macs.skel.h"
#include "nh.h"
#include <sys/random.h>

#define MAX_VARIANTS 16
static struct xchan_bpf *variants[MAX_VARIANTS];
static int nvariants;

/* flow: 0 as instances run, 1 the flow cache left out (the full path), 2 without
 * the channel's counters */
int cmm_variant(int stop, uint32_t spread, int flow)
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
	s->rodata->bench_no_flow = flow == 1;
	s->rodata->bench_flow_nocount = flow == 2;
	/* as cmm.c loads instances: the cache where loads keep their order */
#if defined(__x86_64__)
	s->rodata->flow_cache_on = 1;
#endif
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

/* Cumulative: each class runs the full path (the flow cache left out) up to and
 * including its stage; then the fast path as instances run it (one frame repeated:
 * this CPU's copy of the full path's last pass), and without its counters. */
static const char *const stage_names[] = {
	"stage 1: parse eth, partition by ifindex",
	"stage 2: + source MAC",
	"stage 3: + IPv4, source address, broadcast, UDP",
	"stage 4: + destination partition by address",
	"stage 5: + OUT and IN entries (word, keys), compare, counters",
	"stage 6: + receiver's MAC, verdict counter, redirect (full path)",
	"flow cache: stage 3 + this CPU's copy of the full path's last pass, counters, redirect",
	"flow cache without the channel's counters",
};
#define NSTAGES 6
#define NCLS 8

int bench_stages(int repeat, int rounds)
{
	static struct cls cls[NCLS];
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);

	fixture_reset();
	for (int i = 0; i < NCLS; i++) {
		int fd = i < NSTAGES ? cmm_variant(i < NSTAGES - 1 ? i + 1 : 0, 0, 1) :
			 i == NSTAGES ? fx.cmm.prog_fd : cmm_variant(0, 0, i - NSTAGES + 1);

		if (fd < 0)
			return -1;
		set_class(&cls[i], stage_names[i], &s, fd, if_b, i < NSTAGES - 1 ? XDP_PASS : XDP_REDIRECT);
	}
	measure(cls, NCLS, repeat, rounds);
	for (int c = 0; c < NCLS; c++)
		print_class(&cls[c], repeat, rounds, 0);
	cmm_variants_free();
	return 0;
}

/* Checks a MAC program's tag against the agent's SipHash-2-4 of the same bytes. */
static int mac_check(struct bench_bpf *b, const struct cls *c)
{
	const size_t h = sizeof(struct xchan_hdr);
	uint8_t buf[sizeof(struct xchan_hdr) + PKT_MAX];
	size_t n = c->len - 14;

	_Static_assert(sizeof(b->bss->mac_hdr) == sizeof(struct xchan_hdr), "the tag's header");
	if (ns_per_run(c->prog, c->pkt, c->len, c->ifindex, 1, XDP_PASS) < 0)
		return -1;
	memcpy(buf, b->bss->mac_hdr, h);
	memcpy(buf + h, c->pkt + 14, n);
	if (b->bss->mac_out != siphash24(b->bss->mac_key, buf, h + n)) {
		fprintf(stderr, "xchan-bench-testrun: %s: the tag differs from SipHash-2-4\n", c->name);
		failed = true;
		return -1;
	}
	return 0;
}

/* Checks the NH program's tag against nh_tag_ref of the same bytes, at every inner
 * length modulo 32 and the largest, so that a loop that drops or repeats a word fails. */
static int nh_check(struct macs_bpf *m, const struct pkt_spec *base)
{
	static size_t lens[35];
	static uint8_t pl[PKT_MAX];
	struct pkt_spec s = *base;
	struct cls c;

	for (size_t i = 0; i < 33; i++)	/* IPv4 and UDP headers, then 0-32 bytes */
		lens[i] = 28 + i;
	lens[33] = 1428;
	lens[34] = XCHAN_MAX_INNER;
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = i * 7 + 3;
	s.payload = pl;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n;

		s.payload_len = lens[i] - 28;	/* IPv4 and UDP headers */
		set_class(&c, "nh check", &s, bpf_program__fd(m->progs.mac_nh), if_b, XDP_PASS);
		n = c.len - 14;
		if (n != lens[i] || ns_per_run(c.prog, c.pkt, c.len, c.ifindex, 1, XDP_PASS) < 0)
			return -1;
		if (m->bss->nh_out != nh_tag_ref(m->bss->nh_chan_key, (void *)m->bss->nh_key, (void *)&m->bss->nh_hdr,
						 c.pkt + 14, n)) {
			fprintf(stderr, "xchan-bench-testrun: mac nh: the tag differs from nh.h's at %zu bytes\n", n);
			failed = true;
			return -1;
		}
	}
	return 0;
}

int bench_macs(int repeat, int rounds)
{
	static const size_t sizes[] = { 64, 1400 };
	static const char *const names[] = {
		"mac siphash-2-4 64B payload", "mac siphash-1-3 64B payload",
		"mac siphash-2-4 1400B payload", "mac siphash-1-3 1400B payload",
		"mac nh-toeplitz+siphash-2-4 64B payload", "mac nh-toeplitz+siphash-2-4 1400B payload",
	};
	static uint8_t pl[PKT_MAX];
	static struct cls cls[6];
	struct bench_bpf *b = bench_bpf__open_and_load();
	struct macs_bpf *m = macs_bpf__open_and_load();
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	int err = -1;

	if (!b || !m) {
		fprintf(stderr, "xchan-bench-testrun: the MAC programs failed to load\n");
		goto out;
	}
	for (int i = 0; i < 16; i++)
		m->bss->nh_chan_key[i] = 0x11 * i;
	for (size_t i = 0; i < sizeof(m->bss->nh_hdr); i++)
		((uint8_t *)&m->bss->nh_hdr)[i] = i;
	if (getrandom(m->bss->nh_key, sizeof(m->bss->nh_key), 0) != sizeof(m->bss->nh_key) ||
	    nh_check(m, &s))
		goto out;
	for (int i = 0; i < 16; i++)
		b->bss->mac_key[i] = 0x11 * i;
	for (size_t i = 0; i < sizeof(b->bss->mac_hdr); i++)
		b->bss->mac_hdr[i] = i;
	memset(pl, 'q', sizeof(pl));
	s.payload = pl;
	for (int i = 0; i < 4; i++) {
		s.payload_len = sizes[i / 2];
		set_class(&cls[i], names[i], &s, bpf_program__fd(i % 2 ? b->progs.bench_sip13 :
								 b->progs.bench_sip24), if_b, XDP_PASS);
	}
	for (int i = 4; i < 6; i++) {
		s.payload_len = sizes[i - 4];
		set_class(&cls[i], names[i], &s, bpf_program__fd(m->progs.mac_nh), if_b, XDP_PASS);
	}
	if (mac_check(b, &cls[0]) || mac_check(b, &cls[2]))
		goto out;
	measure(cls, 6, repeat, rounds);
	for (int c = 0; c < 6; c++)
		print_class(&cls[c], repeat, rounds, 0);
	err = 0;
out:
	macs_bpf__destroy(m);
	bench_bpf__destroy(b);
	return err;
}
