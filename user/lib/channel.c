// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* channel.c: channels: authorizations, the receiver's key and CONNECT to the sender's
 * CMM, close, and the channel table as operators read it. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xc_int.h"

static void id_of(struct xchan_chan_id *id, const struct xc_ep *local,
		  const struct xc_ep *remote, uint8_t dir)
{
	xchan_chan_id_make(id, local->part, local->port, remote->part, remote->port, dir);
}

/* A partition registered on this node. */
static bool part_is_here(struct xc *x, uint32_t part)
{
	struct xchan_part_meta m;

	return !bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &part, &m) && !m.node_id;
}

int xc_chan_authorize(struct xc *x, const struct xc_ep *local, const struct xc_ep *remote,
		      uint8_t dir, struct xc_err *e)
{
	struct xchan_channel ch = {};
	uint32_t slot = XCHAN_NO_SLOT;
	struct xchan_chan_id id;
	char b1[64], b2[64];
	int err, lock = FLOW_UNLOCKED;

	if (local->part == remote->part)
		return xc_bad(e, "a channel joins two partitions; %s and %s are one",
			      xc_ep_str(x, local, b1, sizeof(b1)), xc_ep_str(x, remote, b2, sizeof(b2)));
	id_of(&id, local, remote, dir);
	/* counters from authorization on, the receiver's and a sender's towards another
	 * node (its sequence): the datapath never creates entries, so a flood cannot
	 * fill this array */
	lock = flow_lock(x);
	/* without the lock a rebuild of the bitmap could free a slot another process
	 * took and has not written into its entry yet */
	if (lock == FLOW_NOLOCK)
		return xc_fail(e, -ENOLCK, "cannot lock %s/%s to take a counter slot", x->cmm.root,
			       cmm_map_names[M_SLOTS]);
	if (dir == XCHAN_DIR_IN || !part_is_here(x, remote->part)) {
		err = slot_alloc(x, &slot);
		if (err) {
			flow_unlock(lock);
			return xc_fail(e, err, "cannot give the channel counters: %s",
				       err == -ENOSPC ? "every slot is taken (--max-channels at creation sets their number)" :
				       strerror(-err));
		}
	}
	ch.ctl = XCHAN_CTL(XCHAN_S_AUTHORIZED, 0, slot);
	err = bpf_map_update_elem(XC_FD(x, M_CHANNELS), &id, &ch, BPF_NOEXIST) ? -errno : 0;
	if (err && slot != XCHAN_NO_SLOT)
		slot_free(x, slot);
	flow_unlock(lock);
	if (err) {
		if (err == -EEXIST)
			return xc_fail(e, err, "channel %s %s %s is authorized already",
				       xc_ep_str(x, local, b1, sizeof(b1)), dir == XCHAN_DIR_IN ? "<-" : "->",
				       xc_ep_str(x, remote, b2, sizeof(b2)));
		if (err == -E2BIG || err == -ENOMEM)
			return xc_fail(e, err, "channel table is full (--max-channels at creation sets its size)");
		return xc_fail(e, err, "cannot authorize channel: %s", strerror(-err));
	}
	return 0;
}

static void unauthorize(struct xc *x, const struct xc_ep *local, const struct xc_ep *remote,
			uint8_t dir)
{
	struct xchan_chan_id id;
	uint32_t ctl;
	int lock;

	id_of(&id, local, remote, dir);
	/* under the lock: the word read is the entry deleted, and no rebuild of the
	 * bitmap runs between the delete and the free; the cache off meanwhile, so
	 * that no copy counts into the slot once it is another's */
	lock = chg_begin(x);
	if (!chan_ctl_read(x, &id, &ctl) && !bpf_map_delete_elem(XC_FD(x, M_CHANNELS), &id) &&
	    XCHAN_CTL_SLOT(ctl) != XCHAN_NO_SLOT && lock != FLOW_NOLOCK)
		slot_free(x, XCHAN_CTL_SLOT(ctl));	/* without the lock: the next rebuild */
	chg_end(x, lock);
}

/* The receiver's replay window for a channel from another node lives with its IN
 * key: made (or reset: a new key starts a new sequence) right after the key is
 * stored, removed with it; the channel's packets and bytes it holds are kept across
 * a reset. Read and written under the window's lock. A full table is an error here,
 * not drops later. */
static int window_make(struct xc *x, const struct xchan_chan_id *id, struct xc_err *e)
{
	struct xchan_replay w = {}, old;

	if (!bpf_map_lookup_elem_flags(XC_FD(x, M_REPLAY), id, &old, BPF_F_LOCK)) {
		w.packets = old.packets;
		w.bytes = old.bytes;
	}
	if (!bpf_map_update_elem(XC_FD(x, M_REPLAY), id, &w, BPF_ANY | BPF_F_LOCK))
		return 0;
	if (errno == E2BIG || errno == ENOMEM)
		return xc_fail(e, -errno, "replay window table is full (--max-channels at creation sets its size)");
	return xc_fail(e, -errno, "cannot make the replay window: %s", strerror(errno));
}

static uint32_t node_of_part(struct xc *x, uint32_t part)
{
	struct xchan_part_meta m = {};

	bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &part, &m);
	return m.node_id;
}

/* A control message for the CMM of the sending partition: this node's (the trusted
 * path) or the node that hosts it (over the fabric, wrapped and signed). */
int chan_to_sender(struct xc *x, uint32_t sender, const struct xchan_hdr *req,
		   struct xchan_hdr *reply, struct xc_err *e)
{
	uint32_t node = node_of_part(x, sender);
	int err;

	if (node)
		return xc_node_ctrl(x, node, req, reply, e);
	err = cmm_ctrl(&x->cmm, req, reply);
	return err ? xc_fail(e, err, "the trusted path to this node's CMM failed: %s",
			     strerror(-err)) : 0;
}

/* The IN entry's first key (id 0, slot 0: CONNECT's key_id is 0), if it holds none:
 * read and written back under the lock, which every writer of IN entries takes (the
 * CMM never writes them), so that two agents cannot both store one. */
static int key_store(struct xc *x, const struct xchan_chan_id *id, struct xchan_hdr *req,
		     const char *what, struct xc_err *e)
{
	struct xchan_channel k;
	int err = 0, lock = flow_lock(x);

	if (lock == FLOW_NOLOCK) {
		memset(&k, 0, sizeof(k));
		err = xc_fail(e, -ENOLCK, "cannot lock %s/%s to store the key", x->cmm.root,
			      cmm_map_names[M_SLOTS]);
		goto out;
	}
	if (bpf_map_lookup_elem(XC_FD(x, M_CHANNELS), id, &k)) {
		err = xc_fail(e, -ENOENT, "channel %s is not authorized on the receiving side (channel authorize --in)",
			      what);
		goto out;
	}
	if (XCHAN_CTL_STATE(k.ctl) != XCHAN_S_AUTHORIZED) {
		err = xc_fail(e, -EEXIST, "channel %s is connected already", what);
		goto out;
	}
	memset(k.key, 0, sizeof(k.key));
	if (getrandom(k.key[0], sizeof(k.key[0]), 0) != sizeof(k.key[0])) {
		err = xc_fail(e, -errno, "getrandom failed: %s", strerror(errno));
		goto out;
	}
	k.kid[0] = k.kid[1] = 0;
	k.valid = 1;
	k.cur = 0;
	k.ctl = XCHAN_CTL(XCHAN_S_ESTABLISHED, XCHAN_OWNER_LOCAL, XCHAN_CTL_SLOT(k.ctl));
	if (bpf_map_update_elem(XC_FD(x, M_CHANNELS), id, &k, BPF_EXIST)) {
		err = -errno;
		xc_fail(e, err, "cannot store the channel key: %s",
			err == -ENOENT ? "the channel was withdrawn meanwhile" : strerror(-err));
		goto out;
	}
	slot_key_time(x, XCHAN_CTL_SLOT(k.ctl), xc_mono_ns());
	memcpy(req->auth, k.key[0], sizeof(req->auth));
out:
	flow_unlock(lock);
	explicit_bzero(&k, sizeof(k));
	return err;
}

/* The IN entry back to AUTHORIZED, its keys gone (the entry stays: it is the
 * authorization), then the change sequence: no copy passes on them any more. */
static void key_drop(struct xc *x, const struct xchan_chan_id *id)
{
	struct xchan_channel k;
	int lock = chg_begin(x);	/* a removal: it goes on without the lock too */

	if (!bpf_map_lookup_elem(XC_FD(x, M_CHANNELS), id, &k) &&
	    XCHAN_CTL_STATE(k.ctl) != XCHAN_S_AUTHORIZED) {
		memset(&k, 0, offsetof(struct xchan_channel, ctl));
		k.ctl = XCHAN_CTL(XCHAN_S_AUTHORIZED, 0, XCHAN_CTL_SLOT(k.ctl));
		bpf_map_update_elem(XC_FD(x, M_CHANNELS), id, &k, BPF_EXIST);
	}
	chg_end(x, lock);
	explicit_bzero(&k, sizeof(k));
}

/* The receiving side (local) creates the key, keeps it insert-if-absent, and sends it
 * to the sender's CMM in a CONNECT. The key lives in this process only between
 * getrandom() and the explicit_bzero()s. */
/* No answer at all: a CONNECT may still have reached the sender's CMM, which then
 * holds a key this side just threw away, and every later CONNECT would meet
 * nack_key_exists. CLOSE is idempotent: ask once more that it drop its copy. */
static void close_unanswered(struct xc *x, const struct xc_ep *local, const struct xc_ep *remote)
{
	struct xchan_hdr req = {
		.version = XCHAN_VERSION, .type = XCHAN_T_CLOSE,
		.src_part = htonl(local->part), .dst_part = htonl(remote->part),
		.src_ep = htons(local->port), .dst_ep = htons(remote->port),
	}, reply;
	struct xc_err ignored;

	chan_to_sender(x, remote->part, &req, &reply, &ignored);
}

int xc_chan_connect(struct xc *x, const struct xc_ep *local, const struct xc_ep *remote,
		    struct xc_err *e)
{
	struct xchan_hdr req = {
		.version = XCHAN_VERSION, .type = XCHAN_T_CONNECT,
		.src_part = htonl(local->part), .dst_part = htonl(remote->part),
		.src_ep = htons(local->port), .dst_ep = htons(remote->port),
	}, reply = {};
	struct xchan_chan_id id;
	char b1[64], b2[64], what[140];
	int err;

	id_of(&id, local, remote, XCHAN_DIR_IN);
	xc_ep_str(x, local, b1, sizeof(b1));
	xc_ep_str(x, remote, b2, sizeof(b2));
	snprintf(what, sizeof(what), "%s <- %s", b1, b2);
	err = key_store(x, &id, &req, what, e);
	if (!err && node_of_part(x, remote->part) && (err = window_make(x, &id, e)))
		key_drop(x, &id);
	if (err) {
		explicit_bzero(&req, sizeof(req));
		return err;
	}
	err = chan_to_sender(x, remote->part, &req, &reply, e);
	explicit_bzero(&req, sizeof(req));
	/* -EEXIST: the sender's CMM holds a key for the channel already (between nodes
	 * only the receiver's node can have put it there: a key this side lost) */
	if (!err && reply.type != XCHAN_T_CONNECT_ACK)
		err = xc_fail(e, reply.reason == XR_NACK_EXISTS ? -EEXIST : -EACCES,
			      "the sender's CMM refused CONNECT for %s -> %s: %s", b2, b1,
			      xc_reason_name(reply.reason));
	if (err) {
		key_drop(x, &id);	/* no half-open channel */
		bpf_map_delete_elem(XC_FD(x, M_REPLAY), &id);
		if (!reply.type)
			close_unanswered(x, local, remote);
		return err;
	}
	return 0;
}

int xc_chan_open(struct xc *x, const struct xc_ep *src, const struct xc_ep *dst,
		 struct xc_err *e)
{
	int err;

	err = xc_chan_authorize(x, src, dst, XCHAN_DIR_OUT, e);
	if (err)
		return err;
	err = xc_chan_authorize(x, dst, src, XCHAN_DIR_IN, e);
	if (err)
		goto out_src;
	err = xc_chan_connect(x, dst, src, e);
	if (!err)
		return 0;
	unauthorize(x, dst, src, XCHAN_DIR_IN);
out_src:
	unauthorize(x, src, dst, XCHAN_DIR_OUT);
	return err;
}

/* Stops delivery first (the receiver's key), then asks the sender's CMM to drop its
 * copy, then removes the authorizations. */
int xc_chan_close(struct xc *x, const struct xc_ep *src, const struct xc_ep *dst,
		  bool *unacked, struct xc_err *e)
{
	struct xchan_hdr req = {
		.version = XCHAN_VERSION, .type = XCHAN_T_CLOSE,
		.src_part = htonl(dst->part), .dst_part = htonl(src->part),
		.src_ep = htons(dst->port), .dst_ep = htons(src->port),
	}, reply = {};
	struct xchan_chan_id in_id, out_id;
	struct xc_err ignored;
	uint32_t ctl;
	char b1[64], b2[64];

	id_of(&in_id, dst, src, XCHAN_DIR_IN);
	id_of(&out_id, src, dst, XCHAN_DIR_OUT);
	if (chan_ctl_read(x, &in_id, &ctl) && chan_ctl_read(x, &out_id, &ctl))
		return xc_fail(e, -ENOENT, "no channel %s -> %s", xc_ep_str(x, src, b1, sizeof(b1)),
			       xc_ep_str(x, dst, b2, sizeof(b2)));
	key_drop(x, &in_id);	/* no CPU passes on a copy made before */
	bpf_map_delete_elem(XC_FD(x, M_REPLAY), &in_id);
	*unacked = chan_to_sender(x, src->part, &req, &reply, &ignored) ||
		   reply.type != XCHAN_T_CLOSE_ACK;
	unauthorize(x, dst, src, XCHAN_DIR_IN);
	unauthorize(x, src, dst, XCHAN_DIR_OUT);
	return 0;
}

int xc_chan_parts(struct xc *x, const struct xc_ep *src, const struct xc_ep *dst)
{
	struct xchan_chan_id in, out;
	uint32_t ctl;
	int n = 0;

	/* an entry, its state and its key: established is a key there */
	id_of(&out, src, dst, XCHAN_DIR_OUT);
	id_of(&in, dst, src, XCHAN_DIR_IN);
	if (!chan_ctl_read(x, &out, &ctl))
		n += 1 + 2 * (XCHAN_CTL_STATE(ctl) == XCHAN_S_ESTABLISHED);
	if (!chan_ctl_read(x, &in, &ctl))
		n += 1 + 2 * (XCHAN_CTL_STATE(ctl) == XCHAN_S_ESTABLISHED);
	return n;
}

const char *xc_state_name(uint32_t s)
{
	return s == XCHAN_S_ESTABLISHED ? "established" : s == XCHAN_S_AUTHORIZED ? "authorized" : "?";
}

struct chan_list {
	struct xc *x;
	struct xc_chan_info *v;
	size_t n, cap;
};

static int chan_one(const void *key, void *ctx)
{
	struct chan_list *l = ctx;
	struct xc_chan_info *ci;
	struct xchan_channel k;
	uint32_t ctl;

	ci = xc_grow((void **)&l->v, &l->n, &l->cap, sizeof(*ci));
	if (!ci)
		return -ENOMEM;
	memset(ci, 0, sizeof(*ci));
	memcpy(&ci->id, key, sizeof(ci->id));
	if (bpf_map_lookup_elem(XC_FD(l->x, M_CHANNELS), key, &k)) {
		explicit_bzero(&k, sizeof(k));
		l->n--;		/* gone meanwhile */
		return 0;
	}
	ci->ch.state = XCHAN_CTL_STATE(k.ctl);
	ci->ch.slot = XCHAN_CTL_SLOT(k.ctl);
	if (ci->ch.state == XCHAN_S_ESTABLISHED) {
		ci->key_owner = XCHAN_CTL_OWNER(k.ctl);
		ci->key_id = k.kid[k.cur & 1];
		ci->key_slots = (k.valid & 1) + !!(k.valid & 2);
	}
	ctl = k.ctl;
	explicit_bzero(&k, sizeof(k));	/* the listing shows owner, id and slots, never bytes */
	if (!chan_counted_ctl(l->x, key, ctl, &ci->c) && ci->id.dir == XCHAN_DIR_IN)
		ci->ch.key_ns = ci->c.key_ns;
	return 0;
}

int xc_chan_list(struct xc *x, struct xc_chan_info **out, size_t *n, struct xc_err *e)
{
	struct chan_list l = { .x = x };
	int err = xc_map_each(XC_FD(x, M_CHANNELS), sizeof(struct xchan_chan_id), chan_one, &l);

	if (err) {
		free(l.v);
		return xc_fail(e, err, "cannot list channels: %s", strerror(-err));
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

void xc_chan_withdraw(struct xc *x, const struct xc_ep *local, const struct xc_ep *remote,
		      uint8_t dir)
{
	unauthorize(x, local, remote, dir);
}
