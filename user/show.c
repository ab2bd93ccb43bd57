// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* show.c: the read side of the agent: stats, monitor, status; and down, which
 * takes an instance apart. All of it from the pinned maps alone. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"

const char *part_attached_mode(struct agent *a, uint32_t ifindex);

int do_stats(struct agent *a, int argc, char **argv)
{
	bool channels = argc == 1 && !strcmp(argv[0], "--channels");

	if (argc && !channels) {
		xerr("usage: xchan stats [--channels]");
		return EXIT_USAGE;
	}
	if (a->json) {
		jw_obj(&a->jw, NULL);
		jw_arr(&a->jw, "reasons");
	} else {
		printf("%-24s %14s %16s\n", "REASON", "PACKETS", "BYTES");
	}
	for (uint32_t r = 0; r < XR__MAX; r++) {
		struct xchan_counter c;

		if (cmm_percpu_sum(a->cmm.map_fd[M_STATS], &r, &c, sizeof(c)))
			continue;
		if (a->json) {
			jw_obj(&a->jw, NULL);
			jw_str(&a->jw, "reason", xchan_reason_names[r]);
			jw_u64(&a->jw, "packets", c.packets);
			jw_u64(&a->jw, "bytes", c.bytes);
			jw_end_obj(&a->jw);
		} else if (c.packets) {
			printf("%-24s %14llu %16llu\n", xchan_reason_names[r],
			       (unsigned long long)c.packets, (unsigned long long)c.bytes);
		}
	}
	if (a->json)
		jw_end_arr(&a->jw);
	if (channels) {
		int fd = a->cmm.map_fd[M_CHANSTATS];
		struct xchan_chan_id id;
		char l[40], r[40];

		if (a->json)
			jw_arr(&a->jw, "channels");
		else
			printf("\n%-22s %-22s %12s %14s %10s\n", "SRC", "DST", "PACKETS", "BYTES", "DROPS");
		for (int err = bpf_map_get_next_key(fd, NULL, &id); !err;
		     err = bpf_map_get_next_key(fd, &id, &id)) {
			struct xchan_chan_counter c;

			if (cmm_percpu_sum(fd, &id, &c, sizeof(c)))
				continue;
			/* The counters are the receiver's IN entry: remote is the source. */
			if (a->json) {
				jw_obj(&a->jw, NULL);
				jw_u64(&a->jw, "src_part", id.remote_part);
				jw_u64(&a->jw, "src_ep", id.remote_ep);
				jw_u64(&a->jw, "dst_part", id.local_part);
				jw_u64(&a->jw, "dst_ep", id.local_ep);
				jw_u64(&a->jw, "packets", c.packets);
				jw_u64(&a->jw, "bytes", c.bytes);
				jw_u64(&a->jw, "drops", c.drops);
				jw_end_obj(&a->jw);
			} else {
				char s[64], d[64];

				snprintf(s, sizeof(s), "%s:%u", part_name(a, id.remote_part, l, sizeof(l)), id.remote_ep);
				snprintf(d, sizeof(d), "%s:%u", part_name(a, id.local_part, r, sizeof(r)), id.local_ep);
				printf("%-22s %-22s %12llu %14llu %10llu\n", s, d,
				       (unsigned long long)c.packets, (unsigned long long)c.bytes,
				       (unsigned long long)c.drops);
			}
		}
		if (a->json)
			jw_end_arr(&a->jw);
	}
	if (a->json) {
		jw_end_obj(&a->jw);
		jw_done(&a->jw);
	}
	return EXIT_OK;
}

static const char *const event_kinds[] = {
	[XCHAN_E_DROP] = "drop", [XCHAN_E_SPOOF] = "spoof",
	[XCHAN_E_CONNECT_REFUSED] = "connect_refused", [XCHAN_E_EXCLUSION] = "exclusion_conflict",
	[XCHAN_E_CTRL_UNTRUSTED] = "control_from_partition", [XCHAN_E_ESTABLISHED] = "established",
	[XCHAN_E_CLOSED] = "closed", [XCHAN_E_BAD_ORIGIN] = "bad_origin",
	[XCHAN_E_BAD_AUTH] = "bad_auth", [XCHAN_E_REPLAY] = "replay",
};

struct mon {
	struct agent *a;
	long count, seen;
};

static volatile sig_atomic_t stop;

static void on_sig(int sig)
{
	stop = 1;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct mon *m = ctx;
	struct agent *a = m->a;
	const struct xchan_event *e = data;
	const char *kind = e->kind < sizeof(event_kinds) / sizeof(event_kinds[0]) &&
			   event_kinds[e->kind] ? event_kinds[e->kind] : "unknown";
	const char *reason = e->reason < XR__MAX ? xchan_reason_names[e->reason] : "unknown";
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	if (len < sizeof(*e) || (m->count && m->seen >= m->count))
		return 0;
	m->seen++;
	if (a->json) {
		/* JSON lines: one document per event */
		struct jw w;

		jw_init(&w, stdout);
		jw_obj(&w, NULL);
		jw_u64(&w, "ts_ns", e->ts_ns);
		jw_str(&w, "kind", kind);
		jw_str(&w, "reason", reason);
		jw_u64(&w, "ifindex", e->ifindex);
		jw_str(&w, "saddr", ip_str(e->saddr, s));
		jw_str(&w, "daddr", ip_str(e->daddr, d));
		jw_u64(&w, "msg_type", e->msg_type);
		jw_u64(&w, "local_part", e->id.local_part);
		jw_u64(&w, "local_ep", e->id.local_ep);
		jw_u64(&w, "remote_part", e->id.remote_part);
		jw_u64(&w, "remote_ep", e->id.remote_ep);
		jw_end_obj(&w);
		jw_done(&w);
	} else {
		printf("%llu.%09llu %-22s %-22s if=%u %s -> %s", (unsigned long long)e->ts_ns / 1000000000,
		       (unsigned long long)e->ts_ns % 1000000000, kind, reason, e->ifindex,
		       ip_str(e->saddr, s), ip_str(e->daddr, d));
		if (e->id.dir)
			printf(" chan %u:%u %s %u:%u", e->id.local_part, e->id.local_ep,
			       e->id.dir == XCHAN_DIR_IN ? "<-" : "->", e->id.remote_part, e->id.remote_ep);
		putchar('\n');
		fflush(stdout);
	}
	return 0;
}

int do_monitor(struct agent *a, int argc, char **argv)
{
	struct mon m = { .a = a };
	struct ring_buffer *rb;
	uint32_t v, timeout = 0;
	struct timespec t0, t;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc && !parse_u32(argv[i + 1], &v)) {
			m.count = v;
			i++;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc && !parse_u32(argv[i + 1], &v)) {
			timeout = v;
			i++;
		} else {
			xerr("usage: xchan monitor [--count N] [--timeout S]");
			return EXIT_USAGE;
		}
	}
	rb = ring_buffer__new(a->cmm.map_fd[M_EVENTS], on_event, &m, NULL);
	if (!rb) {
		xerr("cannot read the event ring: %s", strerror(errno));
		return EXIT_FAIL;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop && (!m.count || m.seen < m.count)) {
		int err = ring_buffer__poll(rb, 100);

		if (err < 0 && err != -EINTR) {
			xerr("reading events: %s", strerror(-err));
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (timeout && t.tv_sec - t0.tv_sec >= (time_t)timeout)
			break;
	}
	ring_buffer__free(rb);
	return EXIT_OK;
}

static uint32_t map_count(int fd)
{
	uint8_t k[64];
	uint32_t n = 0;

	for (int err = bpf_map_get_next_key(fd, NULL, k); !err; err = bpf_map_get_next_key(fd, k, k))
		n++;
	return n;
}

int do_status(struct agent *a, int argc, char **argv)
{
	struct bpf_prog_info pi = {};
	uint32_t len = sizeof(pi), id;
	int ret, fd;

	if (argc) {
		xerr("usage: xchan status");
		return EXIT_USAGE;
	}
	if (!cmm_exists(a->pin_root)) {
		if (a->json)
			printf("{\"pin_root\":\"%s\",\"loaded\":false}\n", a->pin_root);
		else
			printf("xchan: no instance at %s\n", a->pin_root);
		return EXIT_OK;
	}
	ret = agent_open(a, false);
	if (ret)
		return ret;
	bpf_obj_get_info_by_fd(a->cmm.prog_fd, &pi, &len);
	if (a->json) {
		jw_obj(&a->jw, NULL);
		jw_str(&a->jw, "pin_root", a->pin_root);
		jw_bool(&a->jw, "loaded", true);
		jw_u64(&a->jw, "prog_id", pi.id);
		jw_arr(&a->jw, "maps");
	} else {
		printf("pin root   %s\nprogram    %s id %u\n\nmaps:\n", a->pin_root, XCHAN_PROG_PIN, pi.id);
	}
	for (int i = 0; i < M__N; i++) {
		struct bpf_map_info mi = {};
		uint32_t ml = sizeof(mi);

		bpf_obj_get_info_by_fd(a->cmm.map_fd[i], &mi, &ml);
		bool countable = mi.type == BPF_MAP_TYPE_HASH || mi.type == BPF_MAP_TYPE_PERCPU_HASH ||
				 mi.type == BPF_MAP_TYPE_DEVMAP_HASH;
		uint32_t n = countable ? map_count(a->cmm.map_fd[i]) : 0;

		if (a->json) {
			jw_obj(&a->jw, NULL);
			jw_str(&a->jw, "name", cmm_map_names[i]);
			jw_u64(&a->jw, "id", mi.id);
			jw_u64(&a->jw, "max_entries", mi.max_entries);
			if (countable)
				jw_u64(&a->jw, "entries", n);
			jw_end_obj(&a->jw);
		} else if (countable) {
			printf("  %-16s id %-6u %8u / %u entries\n", cmm_map_names[i], mi.id, n, mi.max_entries);
		} else {
			printf("  %-16s id %-6u %8s   %u max\n", cmm_map_names[i], mi.id, "", mi.max_entries);
		}
	}
	{
		struct xchan_config cfg = {};
		uint32_t zero = 0;
		char ifn[IF_NAMESIZE] = "-", ab[INET_ADDRSTRLEN];

		bpf_map_lookup_elem(a->cmm.map_fd[M_CONFIG], &zero, &cfg);
		if (cfg.uplink_ifindex)
			if_indextoname(cfg.uplink_ifindex, ifn);
		if (a->json) {
			jw_end_arr(&a->jw);
			jw_u64(&a->jw, "node", cfg.self_node);
			jw_str(&a->jw, "node_addr", ip_str(cfg.self_addr, ab));
			jw_str(&a->jw, "uplink", ifn);
			jw_str(&a->jw, "uplink_xdp", cfg.uplink_ifindex ?
			       part_attached_mode(a, cfg.uplink_ifindex) : "none");
			jw_arr(&a->jw, "attachments");
		} else {
			printf("\nnode %u at %s, uplink %s (xdp %s)\n\nattachments:\n", cfg.self_node,
			       ip_str(cfg.self_addr, ab), ifn,
			       cfg.uplink_ifindex ? part_attached_mode(a, cfg.uplink_ifindex) : "none");
		}
	}
	fd = a->cmm.map_fd[M_PARTMETA];
	for (int err = bpf_map_get_next_key(fd, NULL, &id); !err; err = bpf_map_get_next_key(fd, &id, &id)) {
		struct xchan_part_meta m;
		char ifname[IF_NAMESIZE] = "?";

		if (bpf_map_lookup_elem(fd, &id, &m) || m.node_id)
			continue;	/* another node's partitions are attached there */
		if_indextoname(m.ifindex, ifname);
		if (a->json) {
			jw_obj(&a->jw, NULL);
			jw_u64(&a->jw, "partition", id);
			jw_str(&a->jw, "dev", ifname);
			jw_u64(&a->jw, "ifindex", m.ifindex);
			jw_str(&a->jw, "mode", part_attached_mode(a, m.ifindex));
			jw_end_obj(&a->jw);
		} else {
			printf("  partition %-6u %-16s xdp %s\n", id, ifname, part_attached_mode(a, m.ifindex));
		}
	}
	if (a->json) {
		jw_end_arr(&a->jw);
		jw_end_obj(&a->jw);
		jw_done(&a->jw);
	}
	return EXIT_OK;
}

/* Detaches from every interface this instance attached to, then removes every pin
 * and the pin root. The programs and maps go when their last reference does. */
int do_down(struct agent *a, int argc, char **argv)
{
	uint32_t ids[65536], n = 0, id;
	int ret, fd;

	if (argc) {
		xerr("usage: xchan down");
		return EXIT_USAGE;
	}
	if (!cmm_exists(a->pin_root)) {
		/* a pin root left half-made by a crash still goes */
		if (!access(a->pin_root, F_OK)) {
			struct cmm c = {};

			snprintf(c.root, sizeof(c.root), "%s", a->pin_root);
			cmm_unpin(&c);
		}
		xinfo(a, "nothing to take down at %s", a->pin_root);
		return EXIT_OK;
	}
	ret = agent_open(a, false);
	if (ret)
		return ret;
	fd = a->cmm.map_fd[M_PARTMETA];
	for (int err = bpf_map_get_next_key(fd, NULL, &id); !err && n < 65536;
	     err = bpf_map_get_next_key(fd, &id, &id))
		ids[n++] = id;
	for (uint32_t i = 0; i < n; i++)
		part_remove(a, ids[i], false);
	uplink_detach(a);
	ret = cmm_unpin(&a->cmm);
	if (ret) {
		xerr("cannot remove every pin under %s: %s", a->pin_root, strerror(-ret));
		return EXIT_FAIL;
	}
	xinfo(a, "down: %u partition(s) detached, %s removed", n, a->pin_root);
	return EXIT_OK;
}

/* The demo is a script beside the binary (build tree) or in the installed share
 * directory; it drives this very binary. */
int do_demo(struct agent *a, int argc, char **argv)
{
	static const char *const rel[] = { "/../scripts/demo.sh", "/../share/xchan/scripts/demo.sh" };
	char exe[PATH_MAX], script[PATH_MAX + 64], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (argc) {
		xerr("usage: xchan demo");
		return EXIT_USAGE;
	}
	if (n <= 0) {
		xerr("cannot find my own binary: %s", strerror(errno));
		return EXIT_FAIL;
	}
	exe[n] = '\0';
	setenv("XCHAN", exe, 1);
	slash = strrchr(exe, '/');
	*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(script, sizeof(script), "%s%s", exe, rel[i]);
		if (!access(script, R_OK)) {
			execl("/bin/bash", "bash", script, (char *)NULL);
			xerr("cannot run %s: %s", script, strerror(errno));
			return EXIT_FAIL;
		}
	}
	xerr("demo script not found next to %s", exe);
	return EXIT_FAIL;
}
