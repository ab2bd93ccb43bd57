// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* testrun.c: xchan-bench-testrun, ns/packet of the CMM through BPF_PROG_TEST_RUN on
 * the verdict tests' fixture: per verdict class beside the parse+lookup floor, the
 * between-nodes classes, and the allowed path with up to millions of channels.
 *   xchan-bench-testrun classes [REPEAT [ROUNDS]] [--json]
 *   xchan-bench-testrun scale CHANNELS [REPEAT [ROUNDS]]
 * Results go to stdout (JSON lines, or a table with --json left off); a class that
 * does not reach its verdict is reported on stderr and makes the exit status 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "testrun.h"
#include "floor.skel.h"

bool json_out;
bool failed;	/* a class missed its verdict: its figure means nothing */

int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Mean ns per run over `repeat` runs as the kernel times them, or -1. */
double ns_per_run(int prog_fd, const uint8_t *pkt, size_t len, int ifindex, int repeat,
			 int want)
{
	struct xdp_md ctx = { .data = 0, .data_end = len, .ingress_ifindex = ifindex };
	uint8_t out[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt, .data_size_in = len,
		.data_out = out, .data_size_out = sizeof(out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		fprintf(stderr, "xchan-bench-testrun: test run: %s\n", strerror(errno));
		failed = true;
		return -1;
	}
	/* A class that does not reach its verdict measures nothing. */
	if (o.retval != (uint32_t)want) {
		fprintf(stderr, "xchan-bench-testrun: class verdict %u, want %d\n", o.retval, want);
		failed = true;
		return -1;
	}
	return o.duration;
}

void print_class(const struct cls *c, int repeat, int rounds, double floor_median)
{
	if (json_out)
		printf("{\"bench\":\"test_run\",\"class\":\"%s\",\"frame\":%zu,\"repeat\":%d,"
		       "\"rounds\":%d,\"min\":%.1f,\"median\":%.1f,\"max\":%.1f}\n", c->name, c->len,
		       repeat, rounds, c->v[0], c->v[rounds / 2], c->v[rounds - 1]);
	else if (floor_median > 0)
		printf("# %-30s %8.1f %8.1f %8.1f %8.2f\n", c->name, c->v[0], c->v[rounds / 2],
		       c->v[rounds - 1], c->v[rounds / 2] / floor_median);
	else
		printf("# %-30s %8.1f %8.1f %8.1f   (%zu-byte frame)\n", c->name, c->v[0],
		       c->v[rounds / 2], c->v[rounds - 1], c->len);
}

/* Interleaves the classes round by round so that machine noise hits all alike; a
 * per-call class takes the median of up to 257 single runs per round. */
void measure(struct cls *cls, int n, int repeat, int rounds)
{
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < n; c++) {
			double d[257];
			int k = repeat < 257 ? repeat : 257;

			if (!cls[c].per_call) {
				cls[c].v[r] = ns_per_run(cls[c].prog, cls[c].pkt, cls[c].len,
							 cls[c].ifindex, repeat, cls[c].want);
				continue;
			}
			for (int i = 0; i < k; i++)
				d[i] = ns_per_run(cls[c].prog, cls[c].pkt, cls[c].len, cls[c].ifindex,
						  1, cls[c].want);
			qsort(d, k, sizeof(double), cmp_d);
			cls[c].v[r] = d[k / 2];
		}
	for (int c = 0; c < n; c++)
		qsort(cls[c].v, rounds, sizeof(double), cmp_d);
}

void set_class(struct cls *c, const char *name, const struct pkt_spec *s, int prog,
		      int ifindex, int want)
{
	c->name = name;
	c->len = pkt_build(c->pkt, PKT_MAX, s);
	c->prog = prog;
	c->ifindex = ifindex;
	c->want = want;
	c->per_call = false;
}

/* Same node: the floor, the allowed path and two denials, 47-byte frames. */
static int bench_same_node(int repeat, int rounds)
{
	struct floor_bpf *fl = floor_bpf__open_and_load();
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	/* the floor finds its entry, as the allowed path does */
	struct xchan_chan_id id = { .local_part = ntohl(IP_B), .remote_part = ntohl(IP_A),
				    .local_ep = 5000, .remote_ep = 6000, .dir = XCHAN_DIR_OUT };
	struct xchan_channel k = {};
	static struct cls cls[4];

	if (!fl) {
		fprintf(stderr, "xchan-bench-testrun: the floor program failed to load\n");
		return -1;
	}
	fixture_reset();
	bpf_map_update_elem(bpf_map__fd(fl->maps.floor_keys), &id, &k, BPF_ANY);
	set_class(&cls[0], "floor (parse + 1 lookup)", &s, bpf_program__fd(fl->progs.xchan_floor),
		  if_b, XDP_PASS);
	set_class(&cls[1], "cmm allowed", &s, fx.cmm.prog_fd, if_b, XDP_REDIRECT);
	s.sport = 5001;
	set_class(&cls[2], "cmm denied (no channel)", &s, fx.cmm.prog_fd, if_b, XDP_DROP);
	s.sport = 5000;
	s.saddr = IP_C;
	set_class(&cls[3], "cmm denied (spoofed source)", &s, fx.cmm.prog_fd, if_b, XDP_DROP);
	measure(cls, 4, repeat, rounds);
	if (!json_out) {
		printf("# ns/packet through BPF_PROG_TEST_RUN, %d x %d runs, %zu-byte frame\n",
		       rounds, repeat, cls[0].len);
		printf("# %-30s %8s %8s %8s %8s\n", "class", "min", "median", "max", "x floor");
	}
	for (int c = 0; c < 4; c++)
		print_class(&cls[c], repeat, rounds, cls[0].v[rounds / 2]);
	floor_bpf__destroy(fl);
	return 0;
}

/* The NIC path: tagging and encapsulating (sender), and verifying a tag plus the
 * window (receiver; measured on a replayed frame, which is checked in full and then
 * dropped, since an accepted sequence number cannot be accepted twice). */
static void bench_nic(int repeat, int rounds)
{
	static const size_t sizes[] = { 64, 1400 };
	static const char *const send[] = { "nic send 64B payload", "nic send 1400B payload" };
	static const char *const verify[] = { "nic verify 64B payload", "nic verify 1400B payload" };
	static uint8_t pl[PKT_MAX];
	static struct cls cls[5];
	struct pkt_spec s = udp_from_b(IP_R, 5000, 6000);

	fixture_reset();
	fixture_nic();
	memset(pl, 'q', sizeof(pl));
	s.payload = pl;
	for (int i = 0; i < 2; i++) {
		struct cls *v = &cls[2 + i];

		s.payload_len = sizes[i];
		set_class(&cls[i], send[i], &s, fx.cmm.prog_fd, if_b, XDP_REDIRECT);
		cls[i].per_call = true;
		v->name = verify[i];
		v->len = nic_frame(v->pkt, 1 + i, sizes[i], NODE2, false);
		v->prog = fx.cmm.prog_fd;
		v->ifindex = if_up;
		v->want = XDP_DROP;
		ns_per_run(fx.cmm.prog_fd, v->pkt, v->len, if_up, 1, XDP_REDIRECT); /* accept it once */
	}
	/* the same-node allowed path timed like the send classes, for comparison */
	s = udp_from_b(IP_A, 5000, 6000);
	set_class(&cls[4], "same-node allowed, one run per call", &s, fx.cmm.prog_fd, if_b,
		  XDP_REDIRECT);
	cls[4].per_call = true;
	measure(cls, 5, repeat, rounds);
	for (int c = 0; c < 5; c++)
		print_class(&cls[c], repeat, rounds, 0);
	fixture_reset();
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

/* Channel i (1..n-1) is B:(10000 + i % 50000) -> A:(7000 + i / 50000), established:
 * its OUT entry (the key as CONNECT stores it, no slot: the receiver is on this node)
 * and its IN entry (the same key, slot i: the fixture's channel took slot 0, and a
 * random channel's slot is cold too, as the library would hand them out); channel
 * 0 is the fixture's B:5000 -> A:6000. */
static int fill_channels(uint32_t n)
{
	size_t m = 2 * (size_t)(n - 1);
	struct xchan_chan_id *ids = calloc(m + 1, sizeof(*ids));
	struct xchan_channel *ch = calloc(m + 1, sizeof(*ch));
	uint32_t cnt = m;
	int err = 0;

	if (!ids || !ch) {
		free(ids);
		free(ch);
		return -ENOMEM;
	}
	for (uint32_t i = 1; i < n; i++) {
		uint16_t sp = 10000 + i % 50000, dp = 7000 + i / 50000;
		struct xchan_channel *o = &ch[2 * (i - 1)], *in = &ch[2 * (i - 1) + 1];

		xchan_chan_id_make(&ids[2 * (i - 1)], P_B, sp, P_A, dp, XCHAN_DIR_OUT);
		xchan_chan_id_make(&ids[2 * (i - 1) + 1], P_A, dp, P_B, sp, XCHAN_DIR_IN);
		memcpy(o->key[0], KEY, 16);
		o->key[0][0] = i;
		o->key[0][1] = i >> 8;
		o->key[0][2] = i >> 16;
		o->valid = 1;
		*in = *o;
		o->ctl = XCHAN_CTL(XCHAN_S_ESTABLISHED, XCHAN_OWNER_REMOTE, XCHAN_NO_SLOT);
		in->ctl = XCHAN_CTL(XCHAN_S_ESTABLISHED, XCHAN_OWNER_LOCAL, i);
		fx.cmm.flowslots[XCHAN_FLOWSLOT_BITS + i / 64] |= 1ULL << (i % 64);
	}
	if (cnt && bpf_map_update_batch(fx.cmm.map_fd[M_CHANNELS], ids, ch, &cnt, NULL))
		err = -errno;
	explicit_bzero(ch, (m + 1) * sizeof(*ch));
	free(ids);
	free(ch);
	return err;
}

static double median_of(int prog, const uint8_t *pkt, size_t len, int repeat, int rounds,
			double *lo, double *hi)
{
	double v[MAX_ROUNDS];

	for (int r = 0; r < rounds; r++)
		v[r] = ns_per_run(prog, pkt, len, if_b, repeat, XDP_REDIRECT);
	qsort(v, rounds, sizeof(double), cmp_d);
	*lo = v[0];
	*hi = v[rounds - 1];
	return v[rounds / 2];
}

/* n established channels B:sport -> A:dport: cost of the allowed path for one
 * repeated frame and for a random channel per packet (a copy of the CMM that picks
 * it, bench_spread), and the memory of every per-channel map over n. */
static int scale(uint32_t n, int repeat, int rounds)
{
	static const int maps[] = { M_CHANNELS, M_COUNTS, M_REPLAY, M_SLOTS };
	enum { NMAPS = sizeof(maps) / sizeof(maps[0]) };
	struct cmm_sizes sz = { .partitions = 64, .channels = n + 64 };	/* --max-channels n */
	uint32_t i = n / 2;	/* a channel from the middle of the table */
	struct pkt_spec s = udp_from_b(IP_A, i ? 10000 + i % 50000 : 5000, i ? 7000 + i / 50000 : 6000);
	uint8_t pkt[PKT_MAX];
	size_t len = pkt_build(pkt, sizeof(pkt), &s);
	uint64_t mem[NMAPS], total = 0;
	double lo, med, hi, rlo = 0, rmed = 0, rhi = 0;
	int err, rnd;

	xc_close(&fx);
	if (n < 1 || fixture_open(&sz)) {
		fprintf(stderr, "xchan-bench-testrun: cannot load with %u channels\n", n);
		return 1;
	}
	fixture_reset();	/* partitions and channel B:5000 -> A:6000 */
	err = fill_channels(n);
	if (err) {
		fprintf(stderr, "xchan-bench-testrun: filling %u channels: %s (channels %lu bytes)\n",
			n, strerror(-err), memlock_of(fx.cmm.map_fd[M_CHANNELS]));
		return 1;
	}
	med = median_of(fx.cmm.prog_fd, pkt, len, repeat, rounds, &lo, &hi);
	if (n > 1) {
		rnd = cmm_variant(0, n, 0);
		if (rnd < 0)
			return 1;
		rmed = median_of(rnd, pkt, len, repeat, rounds, &rlo, &rhi);
		cmm_variants_free();
	}
	for (int m = 0; m < NMAPS; m++)
		total += mem[m] = memlock_of(fx.cmm.map_fd[maps[m]]);
	printf("{\"bench\":\"scale\",\"channels\":%u,\"min\":%.1f,\"median\":%.1f,\"max\":%.1f,"
	       "\"random_min\":%.1f,\"random_median\":%.1f,\"random_max\":%.1f,"
	       "\"map_bytes\":%lu,\"bytes_per_channel\":%.1f,\"channels_bytes\":%lu,"
	       "\"counts_bytes\":%lu,\"replay_bytes\":%lu,\"slots_bytes\":%lu,\"ncpu\":%d}\n",
	       n, lo, med, hi, rlo, rmed, rhi, total, (double)total / n, mem[0], mem[1], mem[2],
	       mem[3], libbpf_num_possible_cpus());
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: xchan-bench-testrun classes [REPEAT [ROUNDS]] [--json]\n"
			"       xchan-bench-testrun scale CHANNELS [REPEAT [ROUNDS]]\n");
	return 2;
}

int main(int argc, char **argv)
{
	bool classes = argc > 1 && !strcmp(argv[1], "classes");
	bool do_scale = argc > 2 && !strcmp(argv[1], "scale");
	int a = do_scale ? 3 : 2, repeat, rounds, err;

	if (argc > 1 && !strcmp(argv[argc - 1], "--json")) {
		json_out = true;
		argc--;
	}
	if (!classes && !do_scale)
		return usage();
	repeat = argc > a ? atoi(argv[a]) : 1000000;
	rounds = argc > a + 1 ? atoi(argv[a + 1]) : 5;
	if (repeat < 1 || rounds < 1)
		return usage();
	if (rounds > MAX_ROUNDS)
		rounds = MAX_ROUNDS;
	setvbuf(stdout, NULL, _IOLBF, 0);
	err = fixture_netns();
	if (!err)
		err = fixture_open(NULL);
	if (err) {
		fprintf(stderr, "xchan-bench-testrun: fixture: %s (run as root)\n", strerror(-err));
		return 1;
	}
	if (do_scale)
		err = scale(strtoul(argv[2], NULL, 10), repeat, rounds);
	else if (!(err = bench_same_node(repeat, rounds))) {
		bench_nic(repeat, rounds);
		err = bench_stages(repeat, rounds) || bench_macs(repeat, rounds);
	}
	xc_close(&fx);
	return err || failed ? 1 : 0;
}
