// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* bench.c: xchan-bench, the benchmark's traffic tools. A live-frames generator
 * (BPF_PROG_RUN, BPF_F_TEST_XDP_LIVE_FRAMES, XDP_TX out of a partition's eth0), an
 * XDP count-and-drop sink, a bare XDP redirect, UDP sockets (sendmmsg/recvmmsg),
 * and the token-checking userspace relay the scheme replaces. Results are JSON. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pkt.h"
#include "bench.skel.h"

#define GEN_HDR 42	/* as bench.bpf.c: eth + ipv4 + udp */
#define GEN_CPUS 8

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double tv_s(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

/* The machine's CPU time so far, from /proc/stat's first line, in seconds: user
 * (user + nice), system, softirq, and busy (all but idle and iowait). */
struct cpu_time {
	double user, sys, softirq, busy;
};

static void cpu_time(struct cpu_time *t)
{
	unsigned long long v[10] = {};
	double hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			 &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) < 8)
		memset(v, 0, sizeof(v));
	if (f)
		fclose(f);
	t->user = (v[0] + v[1]) / hz;
	t->sys = v[2] / hz;
	t->softirq = v[6] / hz;
	t->busy = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
}

/* The last occurrence wins, so that a caller can override a shared option list. */
static const char *opt(int argc, char **argv, const char *name, const char *dflt)
{
	const char *v = dflt;

	for (int i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			v = argv[i + 1];
	return v;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ? 0 : -1;
}

static int ifindex_of(const char *dev)
{
	int i = if_nametoindex(dev);

	if (!i)
		fprintf(stderr, "xchan-bench: no interface %s\n", dev);
	return i;
}

static uint64_t percpu_total(int fd, uint32_t key)
{
	int n = libbpf_num_possible_cpus();
	uint64_t v[n > 0 ? n : 1], sum = 0;

	if (bpf_map_lookup_elem(fd, &key, v))
		return 0;
	for (int i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

/* ---- gen ---- */

struct gen_thread {
	pthread_t t;
	int cpu, prog_fd, ifindex;
	const uint8_t *frame;
	size_t len;
	double until;
	int err;
};

static void *gen_run(void *arg)
{
	struct gen_thread *g = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(g->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	while (now_s() < g->until) {
		struct xdp_md ctx = { .data_end = g->len, .ingress_ifindex = g->ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o,
			.data_in = g->frame, .data_size_in = g->len,
			.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			.repeat = 1 << 18, .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			.batch_size = 64);

		if (bpf_prog_test_run_opts(g->prog_fd, &o)) {
			g->err = -errno;
			break;
		}
	}
	return NULL;
}

static int build_frame(int argc, char **argv, uint8_t *buf, size_t cap)
{
	struct pkt_spec s = {};
	size_t size = atoi(opt(argc, argv, "--size", "64"));
	static uint8_t payload[PKT_MAX];
	const char *token = opt(argc, argv, "--token", NULL);
	size_t len;

	if (parse_mac(opt(argc, argv, "--src-mac", ""), s.src_mac) ||
	    parse_mac(opt(argc, argv, "--dst-mac", ""), s.dst_mac) ||
	    inet_pton(AF_INET, opt(argc, argv, "--src", ""), &s.saddr) != 1 ||
	    inet_pton(AF_INET, opt(argc, argv, "--dst", ""), &s.daddr) != 1) {
		fprintf(stderr, "xchan-bench gen: need --src-mac --dst-mac --src --dst\n");
		return -1;
	}
	s.sport = atoi(opt(argc, argv, "--sport", "5000"));
	s.dport = atoi(opt(argc, argv, "--dport", "6000"));
	/* frame size without FCS: 14 + 20 + 8 + payload */
	s.payload_len = size > 42 ? size - 42 : 0;
	memset(payload, 'x', sizeof(payload));
	if (token)
		memcpy(payload, token, strlen(token) < s.payload_len ? strlen(token) : s.payload_len);
	s.payload = payload;
	len = pkt_build(buf, cap, &s);
	return len ? (int)len : -1;
}

static int do_gen(int argc, char **argv)
{
	const char *dev = opt(argc, argv, "--dev", NULL);
	double secs = atof(opt(argc, argv, "--secs", "1"));
	uint64_t pps = strtoull(opt(argc, argv, "--pps", "0"), NULL, 10);
	int threads = atoi(opt(argc, argv, "--threads", "1"));
	/* thread i sends from sport + i * step: one channel per thread, or one for all */
	int step = atoi(opt(argc, argv, "--sport-step", "0"));
	int ncpu = libbpf_num_possible_cpus();
	struct rusage ru0, ru1;
	struct gen_thread g[8];
	struct bench_bpf *skel;
	uint8_t frame[PKT_MAX];
	int len, ifindex, fd;
	uint64_t p0, p1;
	double t0, t1;

	if (!dev || !(ifindex = ifindex_of(dev)) || (len = build_frame(argc, argv, frame, sizeof(frame))) < 0)
		return 2;
	if (threads < 1 || threads > 8)
		threads = 1;
	skel = bench_bpf__open();
	if (!skel)
		return 1;
	if (pps)
		skel->rodata->interval_ns = 1000000000ULL * threads / pps;
	if (len < GEN_HDR) {
		fprintf(stderr, "xchan-bench gen: frames are at least 42 bytes\n");
		return 2;
	}
	for (int c = 0; c < GEN_CPUS; c++) {
		uint16_t sp = htons(atoi(opt(argc, argv, "--sport", "5000")) + (c % threads) * step);

		memcpy(skel->bss->gen_hdr[c], frame, GEN_HDR);
		memcpy(skel->bss->gen_hdr[c] + 34, &sp, 2);	/* eth 14 + ipv4 20: UDP source */
	}
	if (bench_bpf__load(skel)) {
		fprintf(stderr, "xchan-bench: cannot load the generator\n");
		return 1;
	}
	fd = bpf_map__fd(skel->maps.bench_count);
	p0 = percpu_total(fd, 0);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_s();
	for (int i = 0; i < threads; i++) {
		g[i] = (struct gen_thread){ .cpu = i % ncpu,
			.prog_fd = bpf_program__fd(skel->progs.bench_gen), .ifindex = ifindex,
			.frame = frame, .len = len, .until = t0 + secs };
		pthread_create(&g[i].t, NULL, gen_run, &g[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(g[i].t, NULL);
	t1 = now_s();
	getrusage(RUSAGE_SELF, &ru1);
	p1 = percpu_total(fd, 0);
	for (int i = 0; i < threads; i++)
		if (g[i].err) {
			fprintf(stderr, "xchan-bench gen: BPF_PROG_RUN: %s\n", strerror(-g[i].err));
			bench_bpf__destroy(skel);
			return 1;
		}
	/* the generator's own CPU: BPF_PROG_RUN is system time, and so is what the
	 * frames it sends cost on the way while it waits in the kernel */
	printf("{\"tool\":\"gen\",\"frame\":%d,\"threads\":%d,\"sent\":%llu,\"secs\":%.3f,\"pps\":%.0f,"
	       "\"cpu_secs\":%.3f}\n", len, threads, (unsigned long long)(p1 - p0), t1 - t0,
	       (p1 - p0) / (t1 - t0), tv_s(&ru1.ru_utime) + tv_s(&ru1.ru_stime) -
	       tv_s(&ru0.ru_utime) - tv_s(&ru0.ru_stime));
	bench_bpf__destroy(skel);
	return 0;
}

/* ---- sink, fwd: XDP on an interface for the time of a measurement ---- */

static volatile sig_atomic_t stop;
static void on_sig(int s) { stop = 1; }

static int attach(int ifindex, int prog_fd)
{
	int err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);

	if (err)
		err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_SKB_MODE, NULL);
	return err;
}

static void detach(int ifindex)
{
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
}

/* Counts what reaches dev from --warmup on, for --secs; prints the rate. */
static int do_sink(int argc, char **argv)
{
	const char *dev = opt(argc, argv, "--dev", NULL);
	double secs = atof(opt(argc, argv, "--secs", "1"));
	double warm = atof(opt(argc, argv, "--warmup", "0.2"));
	int wait_first = atoi(opt(argc, argv, "--wait-first", "1"));	/* 0: a flood nothing passes */
	struct bench_bpf *skel;
	int ifindex, fd;
	uint64_t p0, p1, b0, b1;
	struct cpu_time c0, c1;
	double t0, t1, w;

	if (!dev || !(ifindex = ifindex_of(dev)))
		return 2;
	skel = bench_bpf__open_and_load();
	if (!skel || attach(ifindex, bpf_program__fd(skel->progs.bench_sink))) {
		fprintf(stderr, "xchan-bench sink: cannot attach to %s\n", dev);
		return 1;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	/* tell the caller we are in place */
	fprintf(stderr, "sink ready\n");
	fd = bpf_map__fd(skel->maps.bench_count);
	/* the window opens --warmup after the first frame, not after our own start: on a
	 * loaded machine the generator may take a while to begin */
	for (t0 = now_s(); wait_first && !stop && !percpu_total(fd, 0) && now_s() < t0 + 5;)
		usleep(1000);
	usleep(warm * 1e6);
	p0 = percpu_total(fd, 0);
	b0 = percpu_total(fd, 1);
	cpu_time(&c0);
	t0 = now_s();
	while (!stop && now_s() < t0 + secs)
		usleep(10000);
	p1 = percpu_total(fd, 0);
	b1 = percpu_total(fd, 1);
	cpu_time(&c1);
	t1 = now_s();
	detach(ifindex);
	w = t1 - t0;
	/* CPUs busy over the window (machine-wide: other work on the machine counts too) */
	printf("{\"tool\":\"sink\",\"packets\":%llu,\"bytes\":%llu,\"secs\":%.3f,\"pps\":%.0f,"
	       "\"cpu\":{\"busy\":%.3f,\"user\":%.3f,\"sys\":%.3f,\"softirq\":%.3f}}\n",
	       (unsigned long long)(p1 - p0), (unsigned long long)(b1 - b0), w, (p1 - p0) / w,
	       (c1.busy - c0.busy) / w, (c1.user - c0.user) / w, (c1.sys - c0.sys) / w,
	       (c1.softirq - c0.softirq) / w);
	bench_bpf__destroy(skel);
	return 0;
}

/* Bare redirect from dev to --to with the receiver's MAC: XDP with no checks. With
 * --mac keep (or none), MACs stay as they came: a two-port XDP fabric. */
static int do_fwd(int argc, char **argv)
{
	const char *dev = opt(argc, argv, "--dev", NULL), *to = opt(argc, argv, "--to", NULL);
	struct bench_bpf *skel;
	int ifindex, to_ifindex;
	uint32_t k = 0;
	uint8_t mac[6];

	bool keep = !strcmp(opt(argc, argv, "--mac", "keep"), "keep");

	if (!dev || !to || !(ifindex = ifindex_of(dev)) || !(to_ifindex = ifindex_of(to)) ||
	    (!keep && parse_mac(opt(argc, argv, "--mac", ""), mac)))
		return 2;
	skel = bench_bpf__open();
	if (!skel)
		return 1;
	if (keep)
		skel->rodata->fwd_keep_mac = 1;
	else
		memcpy((void *)skel->rodata->fwd_mac, mac, 6);
	if (bench_bpf__load(skel) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.bench_tx), &k, &to_ifindex, BPF_ANY) ||
	    attach(ifindex, bpf_program__fd(skel->progs.bench_fwd))) {
		fprintf(stderr, "xchan-bench fwd: cannot set up on %s\n", dev);
		return 1;
	}
	bench_bpf__destroy(skel);	/* the attachment keeps program and devmap */
	return 0;
}

static int do_pass(int argc, char **argv)
{
	const char *dev = opt(argc, argv, "--dev", NULL);
	struct bench_bpf *skel;
	int ifindex;

	if (!dev || !(ifindex = ifindex_of(dev)))
		return 2;
	skel = bench_bpf__open_and_load();
	if (!skel || attach(ifindex, bpf_program__fd(skel->progs.bench_pass))) {
		fprintf(stderr, "xchan-bench pass: cannot attach to %s\n", dev);
		return 1;
	}
	bench_bpf__destroy(skel);
	return 0;
}

static int do_detach(int argc, char **argv)
{
	const char *dev = opt(argc, argv, "--dev", NULL);
	int ifindex;

	if (!dev || !(ifindex = ifindex_of(dev)))
		return 2;
	detach(ifindex);
	return 0;
}

/* ---- UDP sockets ---- */

#define BATCH 64

static int udp_bound(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, sz = 8 << 20, fd = socket(AF_INET, SOCK_DGRAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	if (fd < 0 || bind(fd, (void *)&a, sizeof(a))) {
		perror("xchan-bench: bind");
		return -1;
	}
	return fd;
}

static int do_udp_send(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(atoi(opt(argc, argv, "--dport", "6000"))) };
	double secs = atof(opt(argc, argv, "--secs", "1"));
	size_t size = atoi(opt(argc, argv, "--size", "22"));
	const char *token = opt(argc, argv, "--token", "");
	int fd = udp_bound(atoi(opt(argc, argv, "--sport", "5000")));
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	char payload[1500];
	uint64_t sent = 0;
	double t0, end;

	if (fd < 0 || inet_pton(AF_INET, opt(argc, argv, "--dst", ""), &to.sin_addr) != 1)
		return 2;
	memset(payload, 'x', sizeof(payload));
	memcpy(payload, token, strlen(token) < size ? strlen(token) : size);
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ payload, size };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof(to),
							 .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	t0 = now_s();
	end = t0 + secs;
	while (now_s() < end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			sent += n;
	}
	printf("{\"tool\":\"udp-send\",\"sent\":%llu,\"secs\":%.3f,\"pps\":%.0f}\n",
	       (unsigned long long)sent, now_s() - t0, sent / (now_s() - t0));
	return 0;
}

static int do_udp_recv(int argc, char **argv)
{
	double secs = atof(opt(argc, argv, "--secs", "1"));
	double warm = atof(opt(argc, argv, "--warmup", "0.2"));
	int fd = udp_bound(atoi(opt(argc, argv, "--port", "6000")));
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	static char bufs[BATCH][2048];
	struct timeval tv = { .tv_usec = 100000 };
	uint64_t got = 0;
	double t0, end;

	if (fd < 0)
		return 2;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	fprintf(stderr, "udp-recv ready\n");
	end = now_s() + warm;
	while (now_s() < end)
		recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
	t0 = now_s();
	end = t0 + secs;
	while (now_s() < end) {
		int n = recvmmsg(fd, msgs, BATCH, 0, NULL);

		if (n > 0)
			got += n;
	}
	printf("{\"tool\":\"udp-recv\",\"received\":%llu,\"secs\":%.3f,\"pps\":%.0f}\n",
	       (unsigned long long)got, now_s() - t0, got / (now_s() - t0));
	return 0;
}

/* The alternative the scheme replaces: every message through a trusted process
 * that checks a per-message token (constant time) and forwards it. */
static int do_relay(int argc, char **argv)
{
	double secs = atof(opt(argc, argv, "--secs", "1"));
	const char *token = opt(argc, argv, "--token", "");
	size_t tl = strlen(token);
	int fd = udp_bound(atoi(opt(argc, argv, "--port", "7000")));
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(atoi(opt(argc, argv, "--to-port", "6000"))) };
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iov[BATCH], oiov[BATCH];
	static char bufs[BATCH][2048];
	struct timeval tv = { .tv_usec = 100000 };
	uint64_t fwd = 0, bad = 0;
	double t0, end;

	if (fd < 0 || inet_pton(AF_INET, opt(argc, argv, "--to", ""), &to.sin_addr) != 1)
		return 2;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		in[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	fprintf(stderr, "relay ready\n");
	t0 = now_s();
	end = t0 + secs;
	while (now_s() < end) {
		int n = recvmmsg(fd, in, BATCH, 0, NULL), m = 0;

		for (int i = 0; i < n; i++) {
			unsigned char diff = in[i].msg_len < tl;

			for (size_t j = 0; j < tl && j < in[i].msg_len; j++)
				diff |= bufs[i][j] ^ token[j];
			if (diff) {
				bad++;
				continue;
			}
			oiov[m] = (struct iovec){ bufs[i], in[i].msg_len };
			out[m] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof(to),
								.msg_iov = &oiov[m], .msg_iovlen = 1 } };
			m++;
		}
		if (m > 0) {
			int s = sendmmsg(fd, out, m, 0);

			if (s > 0)
				fwd += s;
		}
	}
	printf("{\"tool\":\"relay\",\"forwarded\":%llu,\"refused\":%llu,\"secs\":%.3f,\"pps\":%.0f}\n",
	       (unsigned long long)fwd, (unsigned long long)bad, now_s() - t0, fwd / (now_s() - t0));
	return 0;
}

/* The same frame as gen builds, in trafgen's configuration syntax. */
static int do_frame(int argc, char **argv)
{
	uint8_t frame[PKT_MAX];
	int len = build_frame(argc, argv, frame, sizeof(frame));

	if (len < 0)
		return 2;
	printf("{ ");
	for (int i = 0; i < len; i++)
		printf("0x%02x%s", frame[i], i + 1 < len ? ", " : " }\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
		{ "gen", do_gen }, { "sink", do_sink }, { "fwd", do_fwd }, { "detach", do_detach }, { "pass", do_pass },
		{ "frame", do_frame }, { "udp-send", do_udp_send }, { "udp-recv", do_udp_recv }, { "relay", do_relay },
	};

	libbpf_set_print(NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "usage: xchan-bench gen|frame|sink|fwd|detach|udp-send|udp-recv|relay [options]\n");
	return 2;
}
