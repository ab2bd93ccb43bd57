// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* nodekey.c: node keys with ids in two slots, so that a rotation overlaps: install
 * (a new key becomes the newest, the previous one stays valid), retire (all but one
 * go), and removing a peer node altogether. Key bytes are never logged or returned. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <bpf/bpf.h>
#include <sodium.h>
#include "xc_int.h"
#include "nh.h"

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

int peer_nonce_make(struct xc *x, uint32_t node, struct xc_err *e)
{
	struct xchan_peernonce pn = { .last = xc_real_ns() - XCHAN_NONCE_SKEW_NS };

	if (XC_FD(x, M_PEERNONCE) < 0)	/* an older instance: the nonce is in the entry */
		return 0;
	if (!bpf_map_update_elem(XC_FD(x, M_PEERNONCE), &node, &pn, BPF_NOEXIST) || errno == EEXIST)
		return 0;
	return xc_fail(e, -errno, "cannot record node %u's nonce: %s", node,
		       errno == E2BIG ? "nonce table full (xchan down and a new instance)" :
		       strerror(errno));
}

/* One direction's NH key (include/nh.h) from that direction's node key: BLAKE2b-512
 * keyed by the node key, of a label that no other use of it has and a block number.
 * Independent of the node key's SipHash uses (wrapping with bytes 0-15, signing with
 * 16-31) as long as keyed BLAKE2b and SipHash under the key's halves do not interact
 * (no attack known; DESIGN 4). Both nodes derive the same bytes. */
static void nh_derive(const uint8_t nk[XCHAN_PAIR_KEY_LEN], struct xchan_nh_key *out)
{
	static const char label[] = "xchan nh-toeplitz v1";
	uint8_t msg[sizeof(label)], o[NH_KEY_BLOCKS * 64];

	memcpy(msg, label, sizeof(label) - 1);
	for (size_t i = 0; i < NH_KEY_BLOCKS; i++) {
		msg[sizeof(label) - 1] = i;
		crypto_generichash(o + 64 * i, 64, msg, sizeof(msg), nk, XCHAN_PAIR_KEY_LEN);
	}
	memcpy(out->w, o, sizeof(out->w));
	out->flags = 0;
	explicit_bzero(o, sizeof(o));
}

int nh_keys_put(struct xc *x, uint32_t node, uint8_t kid, const struct xchan_node_slot *sl)
{
	struct xchan_nh_id id = { .node = node, .kid = kid };
	struct xchan_nh_key k, was;
	int err = 0;

	if (XC_FD(x, M_NHKEYS) < 0)	/* an instance from before NH tags */
		return 0;
	if (sodium_init() < 0)
		return -EIO;
	for (id.dir = XCHAN_NH_RX; id.dir <= XCHAN_NH_TX && !err; id.dir++) {
		nh_derive(id.dir == XCHAN_NH_RX ? sl->rx : sl->tx, &k);
		/* the same key again (a daemon's restart, a reconcile) keeps what the CMM
		 * learnt of it: that the peer holds it */
		if (!bpf_map_lookup_elem(XC_FD(x, M_NHKEYS), &id, &was) &&
		    !sodium_memcmp(was.w, k.w, sizeof(k.w)))
			k.flags = was.flags;
		if (bpf_map_update_elem(XC_FD(x, M_NHKEYS), &id, &k, BPF_ANY))
			err = -errno;
	}
	explicit_bzero(&k, sizeof(k));
	explicit_bzero(&was, sizeof(was));
	return err;
}

static int nh_key_one(const void *key, void *ctx)
{
	const struct xchan_nh_id *id = key;
	const struct { struct xc *x; uint32_t node; } *w = ctx;

	if (id->node == w->node)
		bpf_map_delete_elem(XC_FD(w->x, M_NHKEYS), id);
	return 0;
}

void nh_keys_del(struct xc *x, uint32_t node, int kid)
{
	struct xchan_nh_id id = { .node = node, .kid = kid };
	struct { struct xc *x; uint32_t node; } w = { x, node };

	if (XC_FD(x, M_NHKEYS) < 0)
		return;
	if (kid < 0) {	/* every id: also what a failed install left */
		xc_map_each(XC_FD(x, M_NHKEYS), sizeof(id), nh_key_one, &w);
		return;
	}
	for (id.dir = XCHAN_NH_RX; id.dir <= XCHAN_NH_TX; id.dir++)
		bpf_map_delete_elem(XC_FD(x, M_NHKEYS), &id);
}

/* An exclusive flock on the xchan_nodes pin: install, retire and node set read the
 * entry, change it and write it whole, so two of them (the cluster daemon's and an
 * operator's) must not interleave, or one would put back what the other removed. An
 * fd to close, or -1 (a private instance, or a pin that cannot be opened: as before). */
static int nodes_lock(struct xc *x)
{
	char p[600];
	int fd;

	if (!x->cmm.root[0])
		return -1;
	snprintf(p, sizeof(p), "%s/%s", x->cmm.root, cmm_map_names[M_NODES]);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void nodes_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

bool xc_nh_tags(struct xc *x)
{
	return XC_FD(x, M_NHKEYS) >= 0;
}

int xc_node_data_mac(struct xc *x, uint32_t node, bool nh, struct xc_err *e)
{
	struct xchan_node n;
	int lock, err = xc_open(x, false, e);

	if (!err)
		err = peer_id_check(x, node, e);
	if (err)
		return err;
	if (nh && XC_FD(x, M_NHKEYS) < 0)
		return xc_fail(e, -EOPNOTSUPP, "this instance predates NH tags (xchan down, then a new one)");
	lock = nodes_lock(x);
	if (bpf_map_lookup_elem(XC_FD(x, M_NODES), &node, &n)) {
		nodes_unlock(lock);
		return xc_fail(e, -ENOENT, "node %u is not known here", node);
	}
	n.flags = nh ? n.flags | XCHAN_NODE_F_NH : n.flags & ~XCHAN_NODE_F_NH;
	if (bpf_map_update_elem(XC_FD(x, M_NODES), &node, &n, BPF_EXIST))
		err = xc_fail(e, -errno, "cannot change node %u: %s", node,
			      errno == ENOENT ? "it was removed meanwhile" : strerror(errno));
	explicit_bzero(&n, sizeof(n));
	nodes_unlock(lock);
	return err;
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

/* The entry is replaced whole (the kernel swaps the element); the nonce is not in it
 * (xchan_peernonce), so nothing the CMM writes is lost. */
int xc_node_key_install(struct xc *x, uint32_t node, uint32_t addr,
			const struct xc_node_key *k, struct xc_err *e)
{
	struct xchan_node n = {};
	struct xchan_node_slot was;
	bool fresh, moved, had;
	int s, lock, gone, err = xc_open(x, true, e);

	if (!err)
		err = peer_id_check(x, node, e);
	if (!err && !addr)
		err = xc_bad(e, "node %u: 0.0.0.0 is no node address", node);
	if (!err)
		err = peer_nonce_make(x, node, e);
	if (err)
		return err;
	lock = nodes_lock(x);
	fresh = bpf_map_lookup_elem(XC_FD(x, M_NODES), &node, &n) != 0;
	if (fresh)
		memset(&n, 0, sizeof(n));
	moved = fresh || n.addr != addr;
	n.addr = addr;
	s = fresh ? 0 : slot_for(&n, k->id);
	/* what the slot held: the same id (its bytes change), or another one, whose NH
	 * keys go once the entry no longer names it */
	had = (n.valid & (1U << s)) && n.kid[s] == k->id;
	gone = (n.valid & (1U << s)) && n.kid[s] != k->id ? n.kid[s] : -1;
	memcpy(&was, &n.slot[s], sizeof(was));
	slot_put(&n, s, k);
	/* before the entry: a peer may tag with it as soon as it has it */
	err = nh_keys_put(x, node, k->id, &n.slot[s]);
	if (!err && bpf_map_update_elem(XC_FD(x, M_NODES), &node, &n, fresh ? BPF_NOEXIST : BPF_EXIST)) {
		err = -errno;
		xc_fail(e, err, "cannot install a key for node %u: %s", node,
			err == -EEXIST || err == -ENOENT ? "the node entry changed meanwhile, try again" :
			err == -E2BIG ? "node table full" : strerror(-err));
	} else if (err) {
		xc_fail(e, err, "cannot install node %u's NH keys: %s", node, strerror(-err));
	}
	if (err && had)		/* the entry still names the id with its old bytes */
		nh_keys_put(x, node, k->id, &was);
	else if (err)
		nh_keys_del(x, node, k->id);
	else if (gone >= 0)
		nh_keys_del(x, node, gone);
	explicit_bzero(&n, sizeof(n));
	explicit_bzero(&was, sizeof(was));
	nodes_unlock(lock);
	if (!err && moved)	/* best effort, as node add: attach and refresh retry */
		xc_node_refresh_one(x, node, addr, &(struct xc_err){ 0 });
	return err;
}

int xc_node_key_retire(struct xc *x, uint32_t node, uint8_t keep_id, struct xc_err *e)
{
	struct xchan_node n;
	int keep = -1, gone, lock, err = xc_open(x, false, e);

	if (!err)
		err = peer_id_check(x, node, e);
	if (err)
		return err;
	lock = nodes_lock(x);
	if (bpf_map_lookup_elem(XC_FD(x, M_NODES), &node, &n)) {
		nodes_unlock(lock);
		return xc_fail(e, -ENOENT, "node %u is not known here", node);
	}
	for (int s = 0; s < 2; s++)
		if ((n.valid & (1U << s)) && n.kid[s] == keep_id)
			keep = s;
	if (keep < 0) {
		explicit_bzero(&n, sizeof(n));
		nodes_unlock(lock);
		return xc_fail(e, -ENOENT, "node %u has no key with id %u; nothing retired", node,
			       keep_id);
	}
	gone = (n.valid & (1U << (keep ^ 1))) && n.kid[keep ^ 1] != keep_id ? n.kid[keep ^ 1] : -1;
	explicit_bzero(&n.slot[keep ^ 1], sizeof(n.slot[0]));
	n.kid[keep ^ 1] = 0;
	n.installed_ns[keep ^ 1] = 0;
	n.valid = 1U << keep;
	n.cur = keep;
	if (bpf_map_update_elem(XC_FD(x, M_NODES), &node, &n, BPF_EXIST))
		err = xc_fail(e, -errno, "cannot retire node %u's keys: %s", node, strerror(errno));
	else if (gone >= 0)	/* after the entry, which no longer names it */
		nh_keys_del(x, node, gone);
	explicit_bzero(&n, sizeof(n));
	nodes_unlock(lock);
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
	nh_keys_del(x, node, -1);
	return 0;
}
