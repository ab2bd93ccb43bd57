// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* node.c: `xchan node ...` and `xchan attach IFACE --uplink`: this node's identity,
 * its peers with their node-pair keys, the CMM on the uplink; and the agent's half of
 * inter-node CONNECT/CLOSE (wrap, sign, send, retry, check the signed answer). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "agent.h"

int part_attach_dev(struct agent *a, uint32_t ifindex, const char *want, uint32_t *mode);

static int read_config(struct agent *a, struct xchan_config *cfg)
{
	uint32_t zero = 0;

	memset(cfg, 0, sizeof(*cfg));
	return bpf_map_lookup_elem(a->cmm.map_fd[M_CONFIG], &zero, cfg) ? -errno : 0;
}

static int write_config(struct agent *a, const struct xchan_config *cfg)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(a->cmm.map_fd[M_CONFIG], &zero, cfg, BPF_ANY) ? -errno : 0;
}

/* 32 bytes, raw or as 64 hex digits; the file must be root's alone. */
static int read_pair_key(const char *path, uint8_t key[XCHAN_PAIR_KEY_LEN])
{
	char buf[130];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		xerr("cannot read key file %s: %s", path, strerror(errno));
		return EXIT_FAIL;
	}
	if (fstat(fd, &st) || (st.st_mode & 077)) {
		close(fd);
		xerr("key file %s is readable by others (mode %03o): make it 0600", path,
		     st.st_mode & 0777);
		return EXIT_FAIL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == XCHAN_PAIR_KEY_LEN) {
		memcpy(key, buf, XCHAN_PAIR_KEY_LEN);
	} else if (n >= 64) {
		for (int i = 0; i < XCHAN_PAIR_KEY_LEN; i++)
			if (sscanf(buf + 2 * i, "%2hhx", &key[i]) != 1) {
				n = -1;
				break;
			}
	} else {
		n = -1;
	}
	explicit_bzero(buf, sizeof(buf));
	if (n < 0) {
		explicit_bzero(key, XCHAN_PAIR_KEY_LEN);
		xerr("key file %s must hold 32 bytes, raw or as 64 hex digits", path);
		return EXIT_FAIL;
	}
	return 0;
}

static int node_set(struct agent *a, int argc, char **argv, bool self)
{
	const char *addr = NULL, *keyfile = NULL;
	struct xchan_node n = {};
	uint32_t id, ip;
	int ret;

	if (argc < 1 || parse_u32(argv[0], &id) || !id) {
		xerr("node: ID must be a number from 1 to 4294967295");
		return EXIT_USAGE;
	}
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--addr"))
			addr = argv[i + 1];
		else if (!strcmp(argv[i], "--key-file") && !self)
			keyfile = argv[i + 1];
		else {
			xerr("node: unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (argc % 2 == 0 || !addr || inet_pton(AF_INET, addr, &ip) != 1) {
		xerr("usage: xchan node %s ID --addr IPV4%s", self ? "self" : "add",
		     self ? "" : " --key-file FILE");
		return EXIT_USAGE;
	}
	if (!self && !keyfile) {
		xerr("node add: --key-file is required: CONNECT between nodes carries keys");
		return EXIT_USAGE;
	}
	if (keyfile && (ret = read_pair_key(keyfile, n.pair_key)))
		return ret;
	ret = agent_open(a, true);
	if (ret)
		goto out;
	if (self) {
		struct xchan_config cfg;

		read_config(a, &cfg);
		cfg.self_node = id;
		cfg.self_addr = ip;
		ret = write_config(a, &cfg) ? EXIT_FAIL : EXIT_OK;
		if (!ret)
			xinfo(a, "this node is %u at %s", id, addr);
		goto out;
	}
	n.addr = ip;
	if (bpf_map_update_elem(a->cmm.map_fd[M_NODES], &id, &n, BPF_NOEXIST)) {
		xerr(errno == EEXIST ? "node %u exists already" : "cannot add node %u: %s", id,
		     strerror(errno));
		ret = EXIT_FAIL;
		goto out;
	}
	xinfo(a, "node %u at %s", id, addr);
	ret = EXIT_OK;
out:
	explicit_bzero(&n, sizeof(n));
	return ret;
}

static int node_list(struct agent *a)
{
	struct xchan_config cfg;
	uint32_t id;
	char b[INET_ADDRSTRLEN], ifn[IF_NAMESIZE] = "-";
	int fd, ret = agent_open(a, false);

	if (ret)
		return ret;
	read_config(a, &cfg);
	if (cfg.uplink_ifindex)
		if_indextoname(cfg.uplink_ifindex, ifn);
	fd = a->cmm.map_fd[M_NODES];
	if (a->json) {
		jw_obj(&a->jw, NULL);
		jw_u64(&a->jw, "self", cfg.self_node);
		jw_str(&a->jw, "self_addr", ip_str(cfg.self_addr, b));
		jw_str(&a->jw, "uplink", ifn);
		jw_arr(&a->jw, "peers");
	} else {
		printf("this node: %u at %s, uplink %s\n", cfg.self_node, ip_str(cfg.self_addr, b), ifn);
	}
	for (int err = bpf_map_get_next_key(fd, NULL, &id); !err; err = bpf_map_get_next_key(fd, &id, &id)) {
		struct xchan_node n;

		if (bpf_map_lookup_elem(fd, &id, &n))
			continue;
		if (a->json) {
			jw_obj(&a->jw, NULL);
			jw_u64(&a->jw, "id", id);
			jw_str(&a->jw, "addr", ip_str(n.addr, b));
			jw_end_obj(&a->jw);
		} else {
			printf("peer %u at %s (pair key set)\n", id, ip_str(n.addr, b));
		}
		explicit_bzero(&n, sizeof(n));
	}
	if (a->json) {
		jw_end_arr(&a->jw);
		jw_end_obj(&a->jw);
		jw_done(&a->jw);
	}
	return EXIT_OK;
}

int do_node(struct agent *a, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "self"))
		return node_set(a, argc - 1, argv + 1, true);
	if (argc >= 1 && !strcmp(argv[0], "add"))
		return node_set(a, argc - 1, argv + 1, false);
	if (argc == 1 && !strcmp(argv[0], "list"))
		return node_list(a);
	xerr("usage: xchan node self|add|list ...");
	return EXIT_USAGE;
}

/* xchan attach IFACE --uplink [--mode native|generic] */
int do_attach(struct agent *a, int argc, char **argv)
{
	struct xchan_config cfg;
	uint32_t ifindex, mode;
	const char *want = NULL;
	int ret, err;

	if (argc < 2 || strcmp(argv[1], "--uplink") || (argc == 4 && strcmp(argv[2], "--mode")) ||
	    (argc != 2 && argc != 4)) {
		xerr("usage: xchan attach IFACE --uplink [--mode native|generic]");
		return EXIT_USAGE;
	}
	if (argc == 4)
		want = argv[3];
	ifindex = if_nametoindex(argv[0]);
	if (!ifindex) {
		xerr("no interface '%s' here", argv[0]);
		return EXIT_FAIL;
	}
	if (ifindex == 1) {
		xerr("refusing to attach to loopback: it is the CMM's trusted path");
		return EXIT_FAIL;
	}
	ret = agent_open(a, true);
	if (ret)
		return ret;
	read_config(a, &cfg);
	if (cfg.uplink_ifindex && cfg.uplink_ifindex != ifindex) {
		xerr("an uplink is attached already (ifindex %u)", cfg.uplink_ifindex);
		return EXIT_FAIL;
	}
	if (!bpf_map_lookup_elem(a->cmm.map_fd[M_PARTITION], &ifindex, &(struct xchan_partition){})) {
		xerr("%s is a partition's interface", argv[0]);
		return EXIT_FAIL;
	}
	cfg.uplink_ifindex = ifindex;
	if (write_config(a, &cfg)) {
		xerr("cannot record the uplink: %s", strerror(errno));
		return EXIT_FAIL;
	}
	err = part_attach_dev(a, ifindex, want, &mode);
	if (err) {
		cfg.uplink_ifindex = 0;
		write_config(a, &cfg);
		xerr("cannot attach the CMM to %s: %s", argv[0], strerror(-err));
		return EXIT_FAIL;
	}
	xinfo(a, "CMM attached to uplink %s (%s)", argv[0], mode == 1 ? "native" : "generic");
	return EXIT_OK;
}

/* Detaches the uplink (down). */
void uplink_detach(struct agent *a)
{
	struct xchan_config cfg;

	if (!read_config(a, &cfg) && cfg.uplink_ifindex) {
		part_detach(a, cfg.uplink_ifindex);
		cfg.uplink_ifindex = 0;
		write_config(a, &cfg);
	}
}

static uint64_t fresh_nonce(void)
{
	struct timespec ts;

	/* strictly increasing per node in practice; the peer refuses anything not newer */
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t keystream(const uint8_t *k_enc, uint64_t nonce, uint8_t i)
{
	uint8_t m[9];

	for (int b = 0; b < 8; b++)
		m[b] = nonce >> (8 * b);
	m[8] = i;
	return siphash24(k_enc, m, sizeof(m));
}

static void put_le64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = v >> (8 * i);
}

static uint64_t get_le64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* Sends req (for CONNECT: auth holds the plain key, wrapped here) to the CMM of node
 * node_id, with retries and backoff; *reply gets its signed answer. */
int node_ctrl_send(struct agent *a, uint32_t node_id, const struct xchan_hdr *req,
		   struct xchan_hdr *reply)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(XCHAN_UDP_PORT) };
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(XCHAN_UDP_PORT) };
	struct xchan_node n;
	uint8_t msg[sizeof(struct xchan_hdr) + sizeof(struct xchan_ctrl_trailer)];
	int fd, one = 1, ret = -ETIMEDOUT, wait_ms = 200;

	if (bpf_map_lookup_elem(a->cmm.map_fd[M_NODES], &node_id, &n)) {
		xerr("node %u is not known here (xchan node add)", node_id);
		return -ENOENT;
	}
	to.sin_addr.s_addr = n.addr;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (void *)&me, sizeof(me))) {
		ret = -errno;
		xerr("cannot bind UDP port %u for CONNECT: %s", XCHAN_UDP_PORT, strerror(errno));
		goto out;
	}
	for (int attempt = 0; attempt < 5; attempt++, wait_ms *= 2) {
		struct xchan_hdr *h = (void *)msg;
		struct xchan_ctrl_trailer *t = (void *)(h + 1);
		uint64_t nonce = fresh_nonce();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct timespec t0, t1;

		memcpy(h, req, sizeof(*h));
		h->seq = htobe64(nonce);
		if (req->type == XCHAN_T_CONNECT) {
			put_le64(h->auth, get_le64(req->auth) ^ keystream(n.pair_key, nonce, 1));
			put_le64(h->auth + 8, get_le64(req->auth + 8) ^ keystream(n.pair_key, nonce, 2));
		}
		put_le64(t->tag, siphash24(n.pair_key + 16, h, sizeof(*h)));
		if (sendto(fd, msg, sizeof(msg), 0, (void *)&to, sizeof(to)) != sizeof(msg)) {
			ret = -errno;
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			uint8_t in[256];
			struct xchan_hdr *r = (void *)in;
			struct xchan_ctrl_trailer *rt = (void *)(r + 1);
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			long left;
			ssize_t got;

			clock_gettime(CLOCK_MONOTONIC, &t1);
			left = wait_ms - ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0 || poll(&pfd, 1, left) <= 0)
				break;
			got = recvfrom(fd, in, sizeof(in), 0, (void *)&from, &fl);
			/* only a signed answer from that node to this very request counts */
			if (got < (ssize_t)sizeof(msg) || from.sin_addr.s_addr != n.addr ||
			    r->seq != h->seq || get_le64(rt->tag) != siphash24(n.pair_key + 16, r, sizeof(*r)))
				continue;
			memcpy(reply, r, sizeof(*reply));
			ret = 0;
			goto out;
		}
	}
	xerr("no answer from node %u at %s after 5 tries", node_id, inet_ntoa(to.sin_addr));
out:
	explicit_bzero(msg, sizeof(msg));
	explicit_bzero(&n, sizeof(n));
	if (fd >= 0)
		close(fd);
	return ret;
}
