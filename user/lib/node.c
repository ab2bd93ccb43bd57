// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* node.c: this node's identity, its peers with their key-file pair keys, and the CMM
 * on the uplink (node keys by id: nodekey.c; the agent's half of CONNECT/REKEY/CLOSE
 * between nodes: nodectl.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "xchan_auth.h"
#include "xc_int.h"

static int hex_key(const char *buf, uint8_t key[XCHAN_PAIR_KEY_LEN])
{
	for (int i = 0; i < XCHAN_PAIR_KEY_LEN; i++)
		if (sscanf(buf + 2 * i, "%2hhx", &key[i]) != 1)
			return -EINVAL;
	return 0;
}

/* 32 bytes, raw or as 64 hex digits; the file must be root's alone: named itself (not
 * a symlink that another user could point elsewhere), a regular file (a FIFO would
 * block the command, a device read anything), ours and not readable by others. */
int xc_pair_key_read(const char *path, uint8_t key[XCHAN_PAIR_KEY_LEN], struct xc_err *e)
{
	char buf[130];
	struct stat st;
	ssize_t n;
	int err = 0, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0 && errno == ELOOP)
		return xc_fail(e, -ELOOP, "key file %s is a symlink: name the file itself", path);
	if (fd < 0)
		return xc_fail(e, -errno, "cannot read key file %s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return xc_fail(e, err, "cannot stat key file %s: %s", path, strerror(-err));
	}
	if (!S_ISREG(st.st_mode))
		err = xc_fail(e, -EPERM, "key file %s is not a regular file", path);
	else if (st.st_uid != geteuid())
		err = xc_fail(e, -EPERM, "key file %s is owned by uid %u, not by us: refusing it",
			      path, st.st_uid);
	else if (st.st_mode & 077)
		err = xc_fail(e, -EPERM, "key file %s is readable by others (mode %03o): make it 0600",
			      path, st.st_mode & 0777);
	if (err) {
		close(fd);
		return err;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == XCHAN_PAIR_KEY_LEN)
		memcpy(key, buf, XCHAN_PAIR_KEY_LEN);
	else if (n < 64 || hex_key(buf, key))
		err = -EINVAL;
	explicit_bzero(buf, sizeof(buf));
	if (err) {
		explicit_bzero(key, XCHAN_PAIR_KEY_LEN);
		return xc_fail(e, err, "key file %s must hold 32 bytes, raw or as 64 hex digits", path);
	}
	return 0;
}

int xc_node_self(struct xc *x, uint32_t id, uint32_t addr, struct xc_err *e)
{
	struct xchan_config cfg;
	int err = xc_open(x, true, e);

	if (err)
		return err;
	xc_config_read(x, &cfg);
	cfg.self_node = id;
	cfg.self_addr = addr;
	err = config_write(x, &cfg);
	return err ? xc_fail(e, err, "cannot record this node: %s", strerror(-err)) : 0;
}

int xc_node_add(struct xc *x, uint32_t id, uint32_t addr,
		const uint8_t key[XCHAN_PAIR_KEY_LEN], struct xc_err *e)
{
	struct xchan_node n = { .addr = addr, .valid = 1, .cur = 0 };
	int err = xc_open(x, true, e);

	if (!err)	/* before the entry: the CMM refuses a node with no nonce record */
		err = peer_nonce_make(x, id, e);
	if (err)
		return err;
	/* a key file: one key, both directions, id 0; both nodes read the same file */
	memcpy(n.slot[0].rx, key, XCHAN_PAIR_KEY_LEN);
	memcpy(n.slot[0].tx, key, XCHAN_PAIR_KEY_LEN);
	n.installed_ns[0] = xc_mono_ns();
	if (bpf_map_update_elem(XC_FD(x, M_NODES), &id, &n, BPF_NOEXIST)) {
		err = -errno;
		if (err == -EEXIST)
			xc_fail(e, err, "node %u exists already", id);
		else
			xc_fail(e, err, "cannot add node %u: %s", id, strerror(-err));
	} else {
		/* after the entry (NOEXIST: another node's keys are not overwritten), before
		 * anything sends this node NH tags (xc_node_data_mac) */
		err = nh_keys_put(x, id, 0, &n.slot[0]);
		if (err) {
			bpf_map_delete_elem(XC_FD(x, M_NODES), &id);
			nh_keys_del(x, id, 0);
			xc_fail(e, err, "cannot add node %u's NH keys: %s", id, strerror(-err));
		}
	}
	explicit_bzero(&n, sizeof(n));
	if (!err) {
		struct xc_err later;

		/* best effort: the uplink may not be up yet; attach and refresh retry */
		xc_node_refresh_one(x, id, addr, &later);
	}
	return err;
}

struct node_list {
	struct xc *x;
	struct xc_node_info *v;
	size_t n, cap;
};

static int node_one(const void *key, void *ctx)
{
	struct node_list *l = ctx;
	struct xc_node_info *slot;
	struct xchan_nexthop nh = {};
	struct xchan_node n;

	if (bpf_map_lookup_elem(XC_FD(l->x, M_NODES), key, &n))
		return 0;
	explicit_bzero(n.slot, sizeof(n.slot));	/* a listing never holds a key */
	slot = xc_grow((void **)&l->v, &l->n, &l->cap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	memset(slot, 0, sizeof(*slot));
	slot->id = *(const uint32_t *)key;
	slot->addr = n.addr;
	slot->data_nh = n.flags & XCHAN_NODE_F_NH;
	for (int s = 0; s < 2; s++) {
		slot->key[s].valid = n.valid & (1U << s);
		slot->key[s].cur = slot->key[s].valid && (n.cur & 1) == s;
		slot->key[s].id = n.kid[s];
		slot->key[s].installed_ns = n.installed_ns[s];
	}
	bpf_map_lookup_elem(XC_FD(l->x, M_NEXTHOP), key, &nh);
	slot->nh_ifindex = nh.ifindex;
	memcpy(slot->nh_mac, nh.dmac, sizeof(nh.dmac));
	return 0;
}

int xc_node_list(struct xc *x, struct xc_node_info **out, size_t *n, struct xc_err *e)
{
	struct node_list l = { .x = x };
	int err = xc_map_each(XC_FD(x, M_NODES), sizeof(uint32_t), node_one, &l);

	if (err) {
		free(l.v);
		return xc_fail(e, err, "cannot list nodes: %s", strerror(-err));
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

int xc_uplink_attach(struct xc *x, const char *ifname, enum xc_mode want,
		     enum xc_mode *got, struct xc_err *e)
{
	uint32_t ifindex = if_nametoindex(ifname);
	struct xchan_config cfg;
	struct xchan_partition p;
	int err;

	if (!ifindex)
		return xc_fail(e, -ENODEV, "no interface '%s' here", ifname);
	if (ifindex == XCHAN_TRUSTED_IFINDEX)
		return xc_fail(e, -EPERM, "refusing to attach to loopback: it is the CMM's trusted path");
	err = xc_open(x, true, e);
	if (err)
		return err;
	xc_config_read(x, &cfg);
	if (cfg.uplink_ifindex && cfg.uplink_ifindex != ifindex)
		return xc_fail(e, -EBUSY, "an uplink is attached already (ifindex %u)", cfg.uplink_ifindex);
	if (!bpf_map_lookup_elem(XC_FD(x, M_PARTITION), &ifindex, &p))
		return xc_fail(e, -EEXIST, "%s is a partition's interface", ifname);
	cfg.uplink_ifindex = ifindex;
	err = config_write(x, &cfg);
	if (err)
		return xc_fail(e, err, "cannot record the uplink: %s", strerror(-err));
	err = xdp_attach(x, ifindex, want, got);
	if (err) {
		cfg.uplink_ifindex = 0;
		config_write(x, &cfg);
		return xc_fail(e, err, "cannot attach the CMM to %s: %s", ifname, strerror(-err));
	}
	/* best effort: a peer that does not answer yet is `node refresh`'s to retry,
	 * and until then its traffic is counted as drop_no_neighbour */
	xc_node_refresh(x, &(struct xc_err){ 0 });
	return 0;
}

void xc_uplink_detach(struct xc *x)
{
	struct xchan_config cfg;

	if (!xc_config_read(x, &cfg) && cfg.uplink_ifindex) {
		xdp_detach(x, cfg.uplink_ifindex);
		cfg.uplink_ifindex = 0;
		config_write(x, &cfg);
	}
}
