// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* nodekey.c: node keys with ids in two slots, so that a rotation overlaps: install
 * (a new key becomes the newest, the previous one stays valid), retire (all but one
 * go), and removing a peer node altogether. Key bytes are never logged or returned. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include "xc_int.h"

/* A peer id: not 0 (this node in the maps), not this node's own. */
static int peer_id_check(struct xc *x, uint32_t node, struct xc_err *e)
{
	struct xchan_config cfg = {};

	xc_config_read(x, &cfg);
	if (!node)
		return xc_bad(e, "node id 0 is this node, not a peer");
	if (node == cfg.self_node)
		return xc_bad(e, "node %u is this node (node self), not a peer", node);
	return 0;
}

/* Slot s of n holds k and is the newest. The same key installed again (a daemon's
 * reconcile does that) keeps its age. */
static void slot_put(struct xchan_node *n, int s, const struct xc_node_key *k)
{
	bool same = (n->valid & (1U << s)) && n->kid[s] == k->id &&
		    !memcmp(n->slot[s].rx, k->rx, sizeof(k->rx)) &&
		    !memcmp(n->slot[s].tx, k->tx, sizeof(k->tx));

	memcpy(n->slot[s].rx, k->rx, sizeof(n->slot[s].rx));
	memcpy(n->slot[s].tx, k->tx, sizeof(n->slot[s].tx));
	n->kid[s] = k->id;
	n->valid |= 1U << s;
	n->cur = s;
	if (!same)
		n->installed_ns[s] = xc_mono_ns();
}

/* Where k goes in an existing entry: the slot already holding its id (installing it
 * again changes nothing but the bytes), else the slot not in use. */
static int slot_for(const struct xchan_node *n, uint8_t id)
{
	for (int s = 0; s < 2; s++)
		if ((n->valid & (1U << s)) && n->kid[s] == id)
			return s;
	return (n->valid & (1U << (n->cur & 1))) ? (n->cur & 1) ^ 1 : n->cur & 1;
}

/* The entry is replaced whole (the kernel swaps the element), so a concurrent CMM's
 * nonce advance on the old element between our read and our write is lost: the
 * window is this function's few microseconds (DESIGN 3.5). */
int xc_node_key_install(struct xc *x, uint32_t node, uint32_t addr,
			const struct xc_node_key *k, struct xc_err *e)
{
	struct xchan_node n = {};
	bool fresh, moved;
	int err = xc_open(x, true, e);

	if (!err)
		err = peer_id_check(x, node, e);
	if (!err && !addr)
		err = xc_bad(e, "node %u: 0.0.0.0 is no node address", node);
	if (err)
		return err;
	fresh = bpf_map_lookup_elem(XC_FD(x, M_NODES), &node, &n) != 0;
	if (fresh)
		memset(&n, 0, sizeof(n));
	moved = fresh || n.addr != addr;
	n.addr = addr;
	slot_put(&n, fresh ? 0 : slot_for(&n, k->id), k);
	if (bpf_map_update_elem(XC_FD(x, M_NODES), &node, &n, fresh ? BPF_NOEXIST : BPF_EXIST)) {
		err = -errno;
		xc_fail(e, err, "cannot install a key for node %u: %s", node,
			err == -EEXIST || err == -ENOENT ? "the node entry changed meanwhile, try again" :
			err == -E2BIG ? "node table full" : strerror(-err));
	}
	explicit_bzero(&n, sizeof(n));
	if (!err && moved)	/* best effort, as node add: attach and refresh retry */
		xc_node_refresh_one(x, node, addr, &(struct xc_err){ 0 });
	return err;
}

int xc_node_key_retire(struct xc *x, uint32_t node, uint8_t keep_id, struct xc_err *e)
{
	struct xchan_node n;
	int keep = -1, err = xc_open(x, false, e);

	if (!err)
		err = peer_id_check(x, node, e);
	if (err)
		return err;
	if (bpf_map_lookup_elem(XC_FD(x, M_NODES), &node, &n))
		return xc_fail(e, -ENOENT, "node %u is not known here", node);
	for (int s = 0; s < 2; s++)
		if ((n.valid & (1U << s)) && n.kid[s] == keep_id)
			keep = s;
	if (keep < 0) {
		explicit_bzero(&n, sizeof(n));
		return xc_fail(e, -ENOENT, "node %u has no key with id %u; nothing retired", node,
			       keep_id);
	}
	explicit_bzero(&n.slot[keep ^ 1], sizeof(n.slot[0]));
	n.kid[keep ^ 1] = 0;
	n.installed_ns[keep ^ 1] = 0;
	n.valid = 1U << keep;
	n.cur = keep;
	if (bpf_map_update_elem(XC_FD(x, M_NODES), &node, &n, BPF_EXIST))
		err = xc_fail(e, -errno, "cannot retire node %u's keys: %s", node, strerror(errno));
	explicit_bzero(&n, sizeof(n));
	return err;
}

int xc_node_del(struct xc *x, uint32_t node, struct xc_err *e)
{
	int err = xc_open(x, false, e);

	if (!err)
		err = peer_id_check(x, node, e);
	if (err)
		return err;
	if (bpf_map_delete_elem(XC_FD(x, M_NODES), &node))
		return xc_fail(e, -errno, errno == ENOENT ? "node %u is not known here" :
			       "cannot remove node %u", node);
	bpf_map_delete_elem(XC_FD(x, M_NEXTHOP), &node);
	return 0;
}
