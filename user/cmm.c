// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmm.c: opening, creating and pinning a CMM instance, and its trusted path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <arpa/inet.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cmm.h"
#include "pkt.h"
#include "siphash.h"
#include "xchan.skel.h"

const char *const cmm_map_names[M__N] = {
	[M_PARTITION] = "xchan_partition", [M_ADDRS] = "xchan_addrs",
	[M_CHANNELS] = "xchan_channels", [M_KEYS] = "xchan_keys",
	[M_CHANSTATS] = "xchan_chanstats", [M_STATS] = "xchan_stats",
	[M_DEVMAP] = "xchan_devmap", [M_EVENTS] = "xchan_events",
	[M_PARTMETA] = "xchan_partmeta", [M_CONFIG] = "xchan_config",
	[M_NODES] = "xchan_nodes", [M_REPLAY] = "xchan_replay", [M_MACS] = "xchan_macs",
};

const char *const xchan_reason_names[XR__MAX] = XCHAN_REASON_NAMES;

void chan_id_make(struct xchan_chan_id *id, uint32_t lp, uint16_t le, uint32_t rp,
		  uint16_t re, uint8_t dir)
{
	memset(id, 0, sizeof(*id));
	id->local_part = lp;
	id->local_ep = le;
	id->remote_part = rp;
	id->remote_ep = re;
	id->dir = dir;
}

static void pin_path(char *buf, size_t len, const char *root, const char *name)
{
	snprintf(buf, len, "%s/%s", root, name);
}

bool cmm_exists(const char *root)
{
	char p[600];

	pin_path(p, sizeof(p), root, XCHAN_PROG_PIN);
	return access(p, F_OK) == 0;
}

int cmm_check_root(const char *root, char *why, size_t whylen)
{
	struct statfs sfs;
	struct stat st;
	char parent[512], *slash;

	snprintf(parent, sizeof(parent), "%s", root);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent || strlen(root) >= 400) {
		snprintf(why, whylen, "pin root %s must be an absolute path below a bpffs mount", root);
		return -EINVAL;
	}
	*slash = '\0';
	if (statfs(parent, &sfs) || sfs.f_type != BPF_FS_MAGIC) {
		snprintf(why, whylen, "%s is not on a bpf filesystem (mount -t bpf bpf %s)",
			 parent, parent);
		return -ENOENT;
	}
	if (lstat(root, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "pin root %s: %s", root, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "pin root %s exists and is not a directory", root);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, whylen, "pin root %s is owned by uid %u, not by us: refusing it",
			 root, st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & 077) {
		snprintf(why, whylen, "pin root %s has mode %03o: group/other may reach the maps; "
			 "it must be 0700", root, st.st_mode & 0777);
		return -EPERM;
	}
	return 0;
}

static int open_pinned(struct cmm *c)
{
	char p[600];

	pin_path(p, sizeof(p), c->root, XCHAN_PROG_PIN);
	c->prog_fd = bpf_obj_get(p);
	if (c->prog_fd < 0)
		return -errno;
	for (int i = 0; i < M__N; i++) {
		pin_path(p, sizeof(p), c->root, cmm_map_names[i]);
		c->map_fd[i] = bpf_obj_get(p);
		if (c->map_fd[i] < 0)
			return -errno;
	}
	return 0;
}

static int load(struct cmm *c, const struct cmm_sizes *sz)
{
	struct xchan_bpf *skel;
	struct bpf_map *m;
	char p[600];
	int err;

	skel = xchan_bpf__open();
	if (!skel)
		return -errno;
	c->skel = skel;
	if (sz && sz->partitions) {
		bpf_map__set_max_entries(skel->maps.xchan_partition, sz->partitions);
		bpf_map__set_max_entries(skel->maps.xchan_addrs, sz->partitions);
		bpf_map__set_max_entries(skel->maps.xchan_devmap, sz->partitions);
		bpf_map__set_max_entries(skel->maps.xchan_partmeta, sz->partitions);
		bpf_map__set_max_entries(skel->maps.xchan_macs, sz->partitions);
	}
	if (sz && sz->channels) {
		bpf_map__set_max_entries(skel->maps.xchan_channels, sz->channels);
		bpf_map__set_max_entries(skel->maps.xchan_keys, sz->channels);
		/* counters exist for IN entries only: at most half the entries */
		bpf_map__set_max_entries(skel->maps.xchan_chanstats, sz->channels / 2 + 1);
		bpf_map__set_max_entries(skel->maps.xchan_replay, sz->channels / 2 + 1);
	}
	if (sz && sz->fwd_pass)
		skel->rodata->fwd_redirect = 0;
	if (c->root[0]) {
		bpf_object__for_each_map(m, skel->obj) {
			if (bpf_map__is_internal(m))
				continue;
			pin_path(p, sizeof(p), c->root, bpf_map__name(m));
			bpf_map__set_pin_path(m, p);
		}
	}
	err = xchan_bpf__load(skel);
	if (err)
		return err;
	c->prog_fd = bpf_program__fd(skel->progs.xchan_cmm);
	for (int i = 0; i < M__N; i++) {
		m = bpf_object__find_map_by_name(skel->obj, cmm_map_names[i]);
		c->map_fd[i] = m ? bpf_map__fd(m) : -1;
		if (c->map_fd[i] < 0)
			return -ENOENT;
	}
	if (c->root[0]) {
		pin_path(p, sizeof(p), c->root, XCHAN_PROG_PIN);
		err = bpf_obj_pin(c->prog_fd, p);
		if (err)
			return -errno;
	}
	return 0;
}

int cmm_open(struct cmm *c, const char *root, bool create, const struct cmm_sizes *sz)
{
	char why[256];
	int err;

	memset(c, 0, sizeof(*c));
	c->prog_fd = -1;
	for (int i = 0; i < M__N; i++)
		c->map_fd[i] = -1;
	if (!root)
		return load(c, sz);
	snprintf(c->root, sizeof(c->root), "%s", root);
	err = cmm_check_root(root, why, sizeof(why));
	if (err)
		return err;
	if (cmm_exists(root))
		return open_pinned(c);
	if (!create)
		return -ENOENT;
	if (mkdir(root, 0700) && errno != EEXIST)
		return -errno;
	chmod(root, 0700);
	err = load(c, sz);
	if (err) {
		cmm_unpin(c);
		cmm_close(c);
	}
	return err;
}

int cmm_unpin(struct cmm *c)
{
	char p[600];
	int err = 0;

	if (!c->root[0])
		return 0;
	pin_path(p, sizeof(p), c->root, XCHAN_PROG_PIN);
	if (unlink(p) && errno != ENOENT)
		err = -errno;
	for (int i = 0; i < M__N; i++) {
		pin_path(p, sizeof(p), c->root, cmm_map_names[i]);
		if (unlink(p) && errno != ENOENT)
			err = -errno;
	}
	if (rmdir(c->root) && errno != ENOENT)
		err = -errno;
	return err;
}

void cmm_close(struct cmm *c)
{
	if (c->skel) {
		xchan_bpf__destroy(c->skel);	/* closes the fds it owns */
		c->skel = NULL;
	} else {
		if (c->prog_fd >= 0)
			close(c->prog_fd);
		for (int i = 0; i < M__N; i++)
			if (c->map_fd[i] >= 0)
				close(c->map_fd[i]);
	}
	c->prog_fd = -1;
	for (int i = 0; i < M__N; i++)
		c->map_fd[i] = -1;
}

int cmm_ctrl(struct cmm *c, const struct xchan_hdr *req, struct xchan_hdr *reply)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 1 };
	uint8_t in[128], out[128];
	struct pkt_spec s = {
		.saddr = htonl(0x7f000001), .daddr = htonl(0x7f000001),
		.sport = XCHAN_UDP_PORT, .dport = XCHAN_UDP_PORT, .xh = req,
	};
	size_t len;
	int err;

	memcpy(s.src_mac, mac, 6);
	memcpy(s.dst_mac, mac, 6);
	len = pkt_build(in, sizeof(in), &s);
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = in, .data_size_in = len,
		.data_out = out, .data_size_out = sizeof(out),
		.repeat = 1);
	err = bpf_prog_test_run_opts(c->prog_fd, &o);
	/* The request held the key: wipe both buffers before looking at the answer. */
	explicit_bzero(in, sizeof(in));
	if (err) {
		explicit_bzero(out, sizeof(out));
		return -errno;
	}
	if (o.retval != XDP_TX || o.data_size_out < PKT_OFF_XCHAN + sizeof(*reply)) {
		explicit_bzero(out, sizeof(out));
		return -EPROTO;
	}
	memcpy(reply, out + PKT_OFF_XCHAN, sizeof(*reply));
	explicit_bzero(out, sizeof(out));
	return 0;
}

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *m = data;
	uint64_t last = 0;
	struct sip s;
	size_t i;

	sip_init(&s, sip_le64(key), sip_le64(key + 8));
	for (i = 0; i + 8 <= len; i += 8)
		sip_word(&s, sip_le64(m + i));
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)m[i + j] << (8 * j);
	return sip_final(&s, last, len);
}

int cmm_percpu_sum(int fd, const void *key, void *out, size_t sz)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (sz + 7) & ~7UL;
	uint64_t *acc = out;
	uint8_t *vals;

	if (ncpu < 1)
		return -EINVAL;
	vals = calloc(ncpu, stride);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	memset(out, 0, sz);
	for (int cpu = 0; cpu < ncpu; cpu++) {
		const uint64_t *v = (const uint64_t *)(vals + cpu * stride);

		for (size_t f = 0; f < sz / 8; f++)
			acc[f] += v[f];
	}
	free(vals);
	return 0;
}
