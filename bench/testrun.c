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
	struct xchan_key k = {};
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

/* The flow entries of channels 1..n-1 (keys: their OUT, IN pairs in k), as the
 * library's flow_sync makes them for a channel within the node. */
static int fill_flows(uint32_t n, const struct xchan_key *k)
{
	struct xchan_flow_key *fk = calloc(n, sizeof(*fk));
	struct xchan_flow *f = calloc(n, sizeof(*f));
	uint32_t cnt = n - 1;
	int err = 0;

	if (!fk || !f) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 1; i < n; i++) {
		fk[i - 1] = (struct xchan_flow_key){ P_B, IP_A, htons(10000 + i % 50000),
						     htons(7000 + i / 50000) };
		memcpy(f[i - 1].out_key, k[2 * (i - 1)].key[0], XCHAN_KEY_LEN);
		memcpy(f[i - 1].in_key, k[2 * (i - 1) + 1].key[0], XCHAN_KEY_LEN);
		f[i - 1].dst_part = P_A;
		f[i - 1].dst_ifindex = if_a;
		/* the fixture's channel took slot 0: channel i counts in slot i, as the
		 * library would hand them out, so that a random channel's slot is cold too */
		f[i - 1].slot = i;
		fx.cmm.flowslots[XCHAN_FLOWSLOT_BITS + i / 64] |= 1ULL << (i % 64);
	}
	if (cnt && bpf_map_update_batch(fx.cmm.map_fd[M_FLOWS], fk, f, &cnt, NULL))
		err = -errno;
out:
	free(fk);
	free(f);
	return err;
}

/* Channel i (1..n-1) is B:(10000 + i % 50000) -> A:(7000 + i / 50000), established,
 * with keys and the receiver's counters; channel 0 is the fixture's B:5000 -> A:6000. */
static int fill_channels(uint32_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t m = 2 * (size_t)(n - 1);
	struct xchan_chan_id *ids = calloc(m + 1, sizeof(*ids));
	size_t vsz = sizeof(struct xchan_chan_counter) * (ncpu > 0 ? ncpu : 1);
	struct xchan_channel *ch;
	struct xchan_key *k;
	uint32_t cnt;
	void *vals;

	/* one buffer for the three batches: as large as the largest value */
	if (vsz < sizeof(struct xchan_key))
		vsz = sizeof(struct xchan_key);
	if (vsz < sizeof(struct xchan_channel))
		vsz = sizeof(struct xchan_channel);
	vals = calloc(m + 1, vsz);
	ch = vals;
	k = vals;
	int err = 0;

	if (!ids || !vals) {
		free(ids);
		free(vals);
		return -ENOMEM;
	}
	for (uint32_t i = 1; i < n; i++) {
		uint16_t sp = 10000 + i % 50000, dp = 7000 + i / 50000;

		xchan_chan_id_make(&ids[2 * (i - 1)], P_B, sp, P_A, dp, XCHAN_DIR_OUT);
		xchan_chan_id_make(&ids[2 * (i - 1) + 1], P_A, dp, P_B, sp, XCHAN_DIR_IN);
	}
	for (size_t i = 0; i < m; i++)
		ch[i] = (struct xchan_channel){ .state = XCHAN_S_ESTABLISHED };
	cnt = m;
	if (cnt && bpf_map_update_batch(fx.cmm.map_fd[M_CHANNELS], ids, vals, &cnt, NULL))
		err = -errno;
	for (size_t i = 0; i < m; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		memcpy(k[i].key[0], KEY, 16);
		k[i].key[0][0] = i / 2;
		k[i].valid = 1;
		k[i].owner = i % 2 ? XCHAN_OWNER_LOCAL : XCHAN_OWNER_REMOTE;
	}
	cnt = m;
	if (!err && cnt && bpf_map_update_batch(fx.cmm.map_fd[M_KEYS], ids, vals, &cnt, NULL))
		err = -errno;
	if (!err)
		err = fill_flows(n, k);
	/* counters for the IN entries only: every other id */
	for (uint32_t i = 0; i + 1 < n; i++)
		ids[i] = ids[2 * i + 1];
	memset(vals, 0, (size_t)n * sizeof(struct xchan_chan_counter) * ncpu);
	cnt = n - 1;
	if (!err && cnt && bpf_map_update_batch(fx.cmm.map_fd[M_CHANCOUNT], ids, vals, &cnt, NULL))
		err = -errno;
	free(ids);
	free(vals);
	return err;
}

/* The memory of a proposed layout for n channels: one entry per side holding the
 * authorization and the key together (value_size bytes, preallocated like
 * xchan_keys), plus counters in an array slot per channel: per CPU (LAYOUT_PERCPU),
 * shared by the CPUs (LAYOUT_SHARED, added to atomically), or none (inline in the
 * value). Filled as n established channels would fill it; memlock per channel, or -1. */
enum { LAYOUT_INLINE, LAYOUT_PERCPU, LAYOUT_SHARED };

static double layout_bytes(uint32_t n, uint32_t value_size, int counters)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xb_merged", sizeof(struct xchan_chan_id),
				value_size, 2 * n, &o), cfd = -1;
	struct xchan_chan_id *ids = calloc(2 * (size_t)n, sizeof(*ids));
	void *vals = calloc(2 * (size_t)n, value_size);
	uint32_t cnt = 2 * n;
	double r = -1;

	if (fd < 0 || !ids || !vals)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		xchan_chan_id_make(&ids[2 * i], P_B, 10000 + i % 50000, P_A, 7000 + i / 50000, XCHAN_DIR_OUT);
		xchan_chan_id_make(&ids[2 * i + 1], P_A, 7000 + i / 50000, P_B, 10000 + i % 50000, XCHAN_DIR_IN);
	}
	if (bpf_map_update_batch(fd, ids, vals, &cnt, NULL))
		goto out;
	if (counters != LAYOUT_INLINE) {
		cfd = bpf_map_create(counters == LAYOUT_PERCPU ? BPF_MAP_TYPE_PERCPU_ARRAY :
				     BPF_MAP_TYPE_ARRAY, "xb_counters", 4,
				     counters == LAYOUT_PERCPU ? sizeof(struct xchan_chan_counter) :
				     sizeof(struct xchan_counter), n, &o);
		if (cfd < 0)
			goto out;
	}
	r = (double)(memlock_of(fd) + (cfd >= 0 ? memlock_of(cfd) : 0)) / n;
out:
	if (fd >= 0)
		close(fd);
	if (cfd >= 0)
		close(cfd);
	free(ids);
	free(vals);
	return r;
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
	static const int maps[] = { M_CHANNELS, M_KEYS, M_CHANCOUNT, M_REPLAY, M_FLOWS,
				     M_FLOWSTATS, M_FLOWSLOTS };
	enum { NMAPS = sizeof(maps) / sizeof(maps[0]) };
	struct cmm_sizes sz = { .partitions = 64, .channels = n + 64 };	/* --max-channels n */
	uint32_t i = n / 2;	/* a channel from the middle of the table */
	struct pkt_spec s = udp_from_b(IP_A, i ? 10000 + i % 50000 : 5000, i ? 7000 + i / 50000 : 6000);
	uint8_t pkt[PKT_MAX];
	size_t len = pkt_build(pkt, sizeof(pkt), &s);
	uint64_t mem[NMAPS], total = 0;
	double lo, med, hi, rlo = 0, rmed = 0, rhi = 0, lay48, lay64, lay72, lay56;
	int err, rnd;

	xc_close(&fx);
	if (n < 1 || fixture_open(&sz)) {
		fprintf(stderr, "xchan-bench-testrun: cannot load with %u channels\n", n);
		return 1;
	}
	fixture_reset();	/* partitions and channel B:5000 -> A:6000 */
	err = fill_channels(n);
	if (err) {
		fprintf(stderr, "xchan-bench-testrun: filling %u channels: %s (channels %lu keys %lu "
			"chancount %lu bytes so far)\n", n, strerror(-err),
			memlock_of(fx.cmm.map_fd[M_CHANNELS]), memlock_of(fx.cmm.map_fd[M_KEYS]),
			memlock_of(fx.cmm.map_fd[M_CHANCOUNT]));
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
	/* the proposal (docs/BENCHMARKS.md): authorization and key in one entry per side
	 * (48 bytes: key, state, owner, slot, established, seq), counters per CPU in an
	 * array slot, or (64 bytes) inline; windows only for channels between nodes */
	lay48 = layout_bytes(n, 48, LAYOUT_PERCPU);
	lay64 = layout_bytes(n, 64, LAYOUT_INLINE);
	/* the same keeping what the 64 bytes give up: both key slots (a rekey's overlap:
	 * 2 x 16 bytes, their ids, valid, cur), state, owner and flags, the established
	 * and key times as 32-bit seconds, seq, packets and bytes inline: 72 bytes */
	lay72 = layout_bytes(n, 72, LAYOUT_INLINE);
	/* and the least that keeps both slots: 56 bytes without the counters, which go
	 * to a slot of an array the CPUs share (packets and bytes, 16 bytes) */
	lay56 = layout_bytes(n, 56, LAYOUT_SHARED);
	printf("{\"bench\":\"scale\",\"channels\":%u,\"min\":%.1f,\"median\":%.1f,\"max\":%.1f,"
	       "\"random_min\":%.1f,\"random_median\":%.1f,\"random_max\":%.1f,"
	       "\"map_bytes\":%lu,\"bytes_per_channel\":%.1f,\"channels_bytes\":%lu,\"keys_bytes\":%lu,"
	       "\"chanstats_bytes\":%lu,\"replay_bytes\":%lu,\"flows_bytes\":%lu,\"flowstats_bytes\":%lu,\"proposed_percpu_slot_bpc\":%.1f,"
	       "\"proposed_inline_counters_bpc\":%.1f,\"proposed_two_keys_bpc\":%.1f,\"proposed_two_keys_shared_bpc\":%.1f,\"ncpu\":%d}\n", n, lo, med, hi,
	       rlo, rmed, rhi, total, (double)total / n, mem[0], mem[1], mem[2], mem[3], mem[4], mem[5] + mem[6], lay48, lay64, lay72, lay56,
	       libbpf_num_possible_cpus());
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
