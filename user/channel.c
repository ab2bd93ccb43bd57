// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* channel.c: `xchan channel ...`: authorizations, key creation and CONNECT on the
 * receiving side, close, and the channel table as operators read it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the clock of bpf_ktime_get_ns() */
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static const char *ep_str(struct agent *a, const struct endpoint *e, char *buf, size_t len)
{
	char n[40];

	snprintf(buf, len, "%s:%u", part_name(a, e->part, n, sizeof(n)), e->port);
	return buf;
}

int chan_authorize(struct agent *a, const struct endpoint *local, const struct endpoint *remote,
		   uint8_t dir)
{
	struct xchan_channel ch = { .state = XCHAN_S_AUTHORIZED, .created_ns = now_ns() };
	struct xchan_chan_counter *zero;
	struct xchan_chan_id id;
	char b1[64], b2[64];
	int ncpu = libbpf_num_possible_cpus();

	if (local->part == remote->part) {
		xerr("a channel joins two partitions; %s and %s are one",
		     ep_str(a, local, b1, sizeof(b1)), ep_str(a, remote, b2, sizeof(b2)));
		return EXIT_USAGE;
	}
	chan_id_make(&id, local->part, local->port, remote->part, remote->port, dir);
	if (bpf_map_update_elem(a->cmm.map_fd[M_CHANNELS], &id, &ch, BPF_NOEXIST)) {
		int e = errno;

		if (e == EEXIST)
			xerr("channel %s %s %s is authorized already", ep_str(a, local, b1, sizeof(b1)),
			     dir == XCHAN_DIR_IN ? "<-" : "->", ep_str(a, remote, b2, sizeof(b2)));
		else if (e == E2BIG || e == ENOMEM)
			xerr("channel table is full (--max-channels at creation sets its size)");
		else
			xerr("cannot authorize channel: %s", strerror(e));
		return EXIT_FAIL;
	}
	if (dir == XCHAN_DIR_IN) {
		/* The receiver's counters exist from authorization on; the datapath never
		 * creates entries, so a flood cannot fill this map. */
		zero = calloc(ncpu > 0 ? ncpu : 1, sizeof(*zero));
		if (!zero || bpf_map_update_elem(a->cmm.map_fd[M_CHANSTATS], &id, zero, BPF_NOEXIST)) {
			int e = errno;

			free(zero);
			bpf_map_delete_elem(a->cmm.map_fd[M_CHANNELS], &id);
			xerr("cannot create channel counters: %s", e == E2BIG ? "table full" : strerror(e));
			return EXIT_FAIL;
		}
		free(zero);
	}
	return EXIT_OK;
}

static void chan_unauthorize(struct agent *a, const struct endpoint *local,
			     const struct endpoint *remote, uint8_t dir)
{
	struct xchan_chan_id id;

	chan_id_make(&id, local->part, local->port, remote->part, remote->port, dir);
	bpf_map_delete_elem(a->cmm.map_fd[M_CHANNELS], &id);
	if (dir == XCHAN_DIR_IN)
		bpf_map_delete_elem(a->cmm.map_fd[M_CHANSTATS], &id);
}

/* A control message for the CMM of the sending partition: this node's (the trusted
 * path) or the node that hosts it (over the fabric, wrapped and signed). */
static int to_sender_cmm(struct agent *a, uint32_t sender, const struct xchan_hdr *req,
			 struct xchan_hdr *reply)
{
	struct xchan_part_meta m = {};

	bpf_map_lookup_elem(a->cmm.map_fd[M_PARTMETA], &sender, &m);
	return m.node_id ? node_ctrl_send(a, m.node_id, req, reply) : cmm_ctrl(&a->cmm, req, reply);
}

/* The receiving side (local) creates the key, keeps it insert-if-absent, and sends it
 * to the sender's CMM in a CONNECT over the trusted path. The key lives in this
 * process only between getrandom() and the explicit_bzero() below. */
int chan_connect(struct agent *a, const struct endpoint *local, const struct endpoint *remote)
{
	struct xchan_hdr req = {
		.version = XCHAN_VERSION, .type = XCHAN_T_CONNECT,
		.src_part = htonl(local->part), .dst_part = htonl(remote->part),
		.src_ep = htons(local->port), .dst_ep = htons(remote->port),
	}, reply;
	struct xchan_key k = { .owner = XCHAN_OWNER_LOCAL };
	struct xchan_channel ch;
	struct xchan_chan_id id;
	char b1[64], b2[64];
	int err, e;

	chan_id_make(&id, local->part, local->port, remote->part, remote->port, XCHAN_DIR_IN);
	if (bpf_map_lookup_elem(a->cmm.map_fd[M_CHANNELS], &id, &ch)) {
		xerr("channel %s <- %s is not authorized on the receiving side (channel authorize --in)",
		     ep_str(a, local, b1, sizeof(b1)), ep_str(a, remote, b2, sizeof(b2)));
		return EXIT_FAIL;
	}
	if (getrandom(k.key, sizeof(k.key), 0) != sizeof(k.key)) {
		xerr("getrandom failed: %s", strerror(errno));
		return EXIT_FAIL;
	}
	err = bpf_map_update_elem(a->cmm.map_fd[M_KEYS], &id, &k, BPF_NOEXIST);
	e = errno;
	if (err) {
		explicit_bzero(&k, sizeof(k));
		if (e == EEXIST)
			xerr("channel %s <- %s is connected already", ep_str(a, local, b1, sizeof(b1)),
			     ep_str(a, remote, b2, sizeof(b2)));
		else
			xerr("cannot store the channel key: %s", e == E2BIG ? "key table full" : strerror(e));
		return EXIT_FAIL;
	}
	memcpy(req.auth, k.key, sizeof(req.auth));
	explicit_bzero(&k, sizeof(k));
	err = to_sender_cmm(a, remote->part, &req, &reply);
	explicit_bzero(&req, sizeof(req));
	if (err || reply.type != XCHAN_T_CONNECT_ACK) {
		uint16_t r = ntohs(reply.reason);

		bpf_map_delete_elem(a->cmm.map_fd[M_KEYS], &id);	/* no half-open channel */
		if (err)
			xerr("CONNECT failed: %s", strerror(-err));
		else
			xerr("the sender's CMM refused CONNECT for %s -> %s: %s",
			     ep_str(a, remote, b2, sizeof(b2)), ep_str(a, local, b1, sizeof(b1)),
			     r < XR__MAX ? xchan_reason_names[r] : "unknown reason");
		return EXIT_FAIL;
	}
	ch.state = XCHAN_S_ESTABLISHED;
	ch.established_ns = now_ns();
	bpf_map_update_elem(a->cmm.map_fd[M_CHANNELS], &id, &ch, BPF_EXIST);
	return EXIT_OK;
}

int chan_open(struct agent *a, const struct endpoint *src, const struct endpoint *dst)
{
	int ret;

	ret = chan_authorize(a, src, dst, XCHAN_DIR_OUT);
	if (ret)
		return ret;
	ret = chan_authorize(a, dst, src, XCHAN_DIR_IN);
	if (ret) {
		chan_unauthorize(a, src, dst, XCHAN_DIR_OUT);
		return ret;
	}
	ret = chan_connect(a, dst, src);
	if (ret) {
		chan_unauthorize(a, dst, src, XCHAN_DIR_IN);
		chan_unauthorize(a, src, dst, XCHAN_DIR_OUT);
	}
	return ret;
}

/* Stops delivery first (the receiver's key), then asks the sender's CMM over the
 * trusted path to drop its copy, then removes the authorizations. */
int chan_close(struct agent *a, const struct endpoint *src, const struct endpoint *dst)
{
	struct xchan_hdr req = {
		.version = XCHAN_VERSION, .type = XCHAN_T_CLOSE,
		.src_part = htonl(dst->part), .dst_part = htonl(src->part),
		.src_ep = htons(dst->port), .dst_ep = htons(src->port),
	}, reply;
	struct xchan_chan_id in_id, out_id;
	struct xchan_channel ch;
	bool any = false;
	char b1[64], b2[64];
	int err;

	chan_id_make(&in_id, dst->part, dst->port, src->part, src->port, XCHAN_DIR_IN);
	chan_id_make(&out_id, src->part, src->port, dst->part, dst->port, XCHAN_DIR_OUT);
	any |= !bpf_map_lookup_elem(a->cmm.map_fd[M_CHANNELS], &in_id, &ch);
	any |= !bpf_map_lookup_elem(a->cmm.map_fd[M_CHANNELS], &out_id, &ch);
	if (!any) {
		xerr("no channel %s -> %s", ep_str(a, src, b1, sizeof(b1)), ep_str(a, dst, b2, sizeof(b2)));
		return EXIT_FAIL;
	}
	bpf_map_delete_elem(a->cmm.map_fd[M_KEYS], &in_id);
	err = to_sender_cmm(a, src->part, &req, &reply);
	if (err || reply.type != XCHAN_T_CLOSE_ACK)
		xerr("warning: the sender's CMM did not acknowledge CLOSE; its key was dropped locally");
	bpf_map_delete_elem(a->cmm.map_fd[M_KEYS], &out_id);
	chan_unauthorize(a, dst, src, XCHAN_DIR_IN);
	chan_unauthorize(a, src, dst, XCHAN_DIR_OUT);
	return EXIT_OK;
}

static int two_endpoints(struct agent *a, int argc, char **argv, struct endpoint *x,
			 struct endpoint *y, bool x_local, bool y_local, const char *usage)
{
	int ret;

	if (argc < 2) {
		xerr("usage: xchan channel %s", usage);
		return EXIT_USAGE;
	}
	ret = parse_endpoint(a, argv[0], x, x_local);
	if (!ret)
		ret = parse_endpoint(a, argv[1], y, y_local);
	return ret;
}

static const char *state_name(uint32_t s)
{
	return s == XCHAN_S_ESTABLISHED ? "established" : s == XCHAN_S_AUTHORIZED ? "authorized" : "?";
}

static int chan_list(struct agent *a)
{
	int fd = a->cmm.map_fd[M_CHANNELS];
	struct xchan_chan_id id;
	char lb[40], rb[40];

	if (a->json)
		jw_arr(&a->jw, NULL);
	else
		printf("%-5s %-22s %-22s %-12s %-4s %10s %12s %8s\n", "DIR", "LOCAL", "REMOTE", "STATE",
		       "KEY", "PACKETS", "BYTES", "DROPS");
	for (int err = bpf_map_get_next_key(fd, NULL, &id); !err;
	     err = bpf_map_get_next_key(fd, &id, &id)) {
		struct xchan_channel ch;
		struct xchan_key k;
		struct xchan_chan_counter c = {};
		bool keyed;
		const char *owner;
		char l[64], r[64];

		if (bpf_map_lookup_elem(fd, &id, &ch))
			continue;
		keyed = !bpf_map_lookup_elem(a->cmm.map_fd[M_KEYS], &id, &k);
		owner = !keyed ? "none" : k.owner == XCHAN_OWNER_LOCAL ? "local" : "remote";
		explicit_bzero(&k, sizeof(k));	/* the listing needs only its presence */
		if (id.dir == XCHAN_DIR_IN)
			cmm_percpu_sum(a->cmm.map_fd[M_CHANSTATS], &id, &c, sizeof(c));
		snprintf(l, sizeof(l), "%s:%u", part_name(a, id.local_part, lb, sizeof(lb)), id.local_ep);
		snprintf(r, sizeof(r), "%s:%u", part_name(a, id.remote_part, rb, sizeof(rb)), id.remote_ep);
		if (a->json) {
			jw_obj(&a->jw, NULL);
			jw_str(&a->jw, "dir", id.dir == XCHAN_DIR_IN ? "in" : "out");
			jw_u64(&a->jw, "local_part", id.local_part);
			jw_u64(&a->jw, "local_ep", id.local_ep);
			jw_u64(&a->jw, "remote_part", id.remote_part);
			jw_u64(&a->jw, "remote_ep", id.remote_ep);
			jw_str(&a->jw, "state", state_name(ch.state));
			jw_str(&a->jw, "key", owner);
			jw_u64(&a->jw, "created_ns", ch.created_ns);
			jw_u64(&a->jw, "established_ns", ch.established_ns);
			if (id.dir == XCHAN_DIR_IN) {
				jw_u64(&a->jw, "packets", c.packets);
				jw_u64(&a->jw, "bytes", c.bytes);
				jw_u64(&a->jw, "drops", c.drops);
			}
			jw_end_obj(&a->jw);
		} else {
			printf("%-5s %-22s %-22s %-12s %-4s", id.dir == XCHAN_DIR_IN ? "in" : "out", l, r,
			       state_name(ch.state), keyed ? "yes" : "no");
			if (id.dir == XCHAN_DIR_IN)
				printf(" %10llu %12llu %8llu\n", (unsigned long long)c.packets,
				       (unsigned long long)c.bytes, (unsigned long long)c.drops);
			else
				printf(" %10s %12s %8s\n", "-", "-", "-");
		}
	}
	if (a->json) {
		jw_end_arr(&a->jw);
		jw_done(&a->jw);
	}
	return EXIT_OK;
}

int do_channel(struct agent *a, int argc, char **argv)
{
	struct endpoint x, y;
	const char *sub = argc ? argv[0] : "";
	int ret;

	argc--, argv++;
	if (!strcmp(sub, "authorize")) {
		uint8_t dir = 0;

		if (argc == 3 && !strcmp(argv[2], "--in"))
			dir = XCHAN_DIR_IN;
		else if (argc == 3 && !strcmp(argv[2], "--out"))
			dir = XCHAN_DIR_OUT;
		if (!dir) {
			xerr("usage: xchan channel authorize LOCAL REMOTE --in|--out");
			return EXIT_USAGE;
		}
		ret = two_endpoints(a, argc, argv, &x, &y, true, false, "authorize LOCAL REMOTE --in|--out");
		if (!ret)
			ret = chan_authorize(a, &x, &y, dir);
	} else if (!strcmp(sub, "connect") && argc == 2) {
		ret = two_endpoints(a, argc, argv, &x, &y, true, false, "connect LOCAL REMOTE");
		if (!ret)
			ret = chan_connect(a, &x, &y);
	} else if (!strcmp(sub, "open") && argc == 2) {
		ret = two_endpoints(a, argc, argv, &x, &y, true, true, "open SRC DST");
		if (!ret)
			ret = chan_open(a, &x, &y);
	} else if (!strcmp(sub, "close") && argc == 2) {
		ret = two_endpoints(a, argc, argv, &x, &y, false, false, "close SRC DST");
		if (!ret)
			ret = chan_close(a, &x, &y);
	} else if (!strcmp(sub, "list") && argc == 0) {
		return chan_list(a);
	} else {
		xerr("usage: xchan channel authorize|connect|open|close|list ...");
		return EXIT_USAGE;
	}
	if (!ret && !a->json)
		xinfo(a, "channel %s %s %s: %s", argv[0],
		      !strcmp(sub, "connect") ? "<-" : "->", argv[1],
		      !strcmp(sub, "close") ? "closed" : !strcmp(sub, "authorize") ? "authorized" :
		      "established");
	return ret;
}
