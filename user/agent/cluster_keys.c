// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_keys.c: pair keys with each live peer (derived from its announced X25519
 * key and ours, installed as the newest slot, the previous one retired --key-overlap
 * after the peer can have it), this node's own key rotation (--node-key-interval) and the channel
 * keys it receives under (--chan-key-interval, xc_chan_rekey). Never logs a key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "agent.h"
#include "xc_int.h"
#include "cluster.h"
#include "store.h"

/* This node's own record as the watch brought it back: the epoch of the newest one
 * seen and since when. A peer can derive a pair key from our new X25519 key only once
 * the record is in the store, so rotating and retiring go by this, not by the clock
 * alone. Here, not in struct cluster (cluster.h is another's file): one cluster per
 * agent. */
static struct {
	uint32_t epoch;
	uint64_t seen_ms;
	bool waiting;		/* a rotation is due and waits: logged once */
} own;

static void own_record_seen(struct cluster *c, uint64_t now)
{
	char key[32];
	const struct view_kv *kv = view_get(&c->view, st_key_node(key, sizeof(key), c->self));
	struct node_rec r;

	if (!kv || node_rec_parse(c, kv, &r) || r.epoch != c->kx.epoch ||
	    memcmp(r.pub, c->kx.pk, sizeof(r.pub)) || own.epoch == r.epoch)
		return;
	own.epoch = r.epoch;
	own.seen_ms = now;
}

struct peer *peer_find(struct cluster *c, uint32_t id)
{
	for (size_t i = 0; i < c->npeers; i++)
		if (c->peers[i].id == id)
			return &c->peers[i];
	return NULL;
}

static struct peer *peer_get(struct cluster *c, uint32_t id)
{
	struct peer *p = peer_find(c, id);

	if (p)
		return p;
	p = xc_grow((void **)&c->peers, &c->npeers, &c->cappeers, sizeof(*p));
	if (p) {
		memset(p, 0, sizeof(*p));
		p->id = id;
	}
	return p;
}

static bool peer_current(const struct peer *p, const struct node_rec *r, uint32_t my_epoch)
{
	return p->installed_ms && p->addr == r->addr && p->epoch == r->epoch &&
	       p->my_epoch == my_epoch && !memcmp(p->pub, r->pub, sizeof(p->pub));
}

static void peer_installed(struct cluster *c, struct peer *p, const struct node_rec *r, uint8_t kid)
{
	uint64_t now = cl_now_ms();
	char ip[16];

	/* the slot before is kept for the overlap: requests in flight, and a peer that
	 * has not derived the new key yet. After a restart of this agent, whatever an
	 * earlier run left in the other slot goes the same way. */
	if (!p->installed_ms || p->kid != kid) {
		p->prev_kid = p->installed_ms ? p->kid : kid;
		p->has_prev = true;
		p->retire_ms = now + c->cfg.key_overlap * 1000ULL;
	}
	agent_log(LOG_INFO, "cluster: node %u at %s: pair key id 0x%02x installed (epochs %u here, %u there)",
		  r->id, xc_ip_str(r->addr, ip), kid, c->kx.epoch, r->epoch);
	p->kid = kid;
	p->addr = r->addr;
	p->epoch = r->epoch;
	p->my_epoch = c->kx.epoch;
	memcpy(p->pub, r->pub, sizeof(p->pub));
	p->installed_ms = now;
}

bool keys_nh_local(struct cluster *c)
{
	return c->cfg.data_mac != CL_DATA_MAC_SIPHASH && xc_nh_tags(c->xc);
}

/* DATA to the peer with NH tags when both records say they verify them, else
 * SipHash-2-4 tags; set when that changes, and once per entry this agent made (an
 * operator's `node set` holds until then). A node key's slots carry no flags, so
 * installing and retiring keep it. */
static void peer_data_mac(struct cluster *c, struct peer *p, const struct node_rec *r)
{
	bool nh = r->nh && keys_nh_local(c);
	struct xc_err e = {};
	char what[48];
	int err;

	if (p->mac_set && p->nh == nh)
		return;
	snprintf(what, sizeof(what), "DATA tags to node %u", r->id);
	if (!fail_due(c, what))
		return;
	err = xc_node_data_mac(c->xc, r->id, nh, &e);
	if (err == -ENOENT && !p->installed_ms)
		return;		/* no entry yet: set once the pair key makes it */
	if (err) {
		fail_set(c, what, e.msg);
		return;
	}
	fail_clear(c, what);
	if (nh || p->mac_set)
		agent_log(LOG_INFO, "cluster: node %u: DATA to it with %s tags", r->id,
			  nh ? "NH" : "SipHash-2-4");
	p->mac_set = true;
	p->nh = nh;
}

bool keys_peer(struct cluster *c, const struct node_rec *r, bool may_install)
{
	struct peer *p = peer_get(c, r->id);
	struct xc_node_key k;
	struct xc_err e = {};
	char what[48];
	int err;

	if (!p)
		return false;
	p->seen = p->live = true;
	if (peer_current(p, r, c->kx.epoch)) {
		peer_data_mac(c, p, r);
		return false;
	}
	/* an entry an earlier run left (its install may wait here): tagged as this run
	 * says, not as that one did */
	if (!p->mac_set)
		peer_data_mac(c, p, r);
	snprintf(what, sizeof(what), "pair key of node %u", r->id);
	if (!fail_due(c, what) || !may_install)
		return false;
	err = nk_pair_key(c->self, &c->kx, r->id, r->pub, r->epoch, &k, &e);
	if (!err)
		err = xc_node_key_install(c->xc, r->id, r->addr, &k, &e);
	sodium_memzero(&k.rx, sizeof(k.rx));
	sodium_memzero(&k.tx, sizeof(k.tx));
	if (err) {
		fail_set(c, what, e.msg);
		return true;
	}
	fail_clear(c, what);
	peer_installed(c, p, r, k.id);
	peer_data_mac(c, p, r);
	return true;
}

void keys_peer_forget(struct cluster *c, uint32_t id)
{
	struct peer *p = peer_find(c, id);

	if (p)
		*p = c->peers[--c->npeers];
}

/* The peer tags DATA to us with NH tags only under a node key its CMM saw us use
 * (XCHAN_NH_HELD): a control message of ours, verified there. After a rotation that
 * would be the next rekey of a channel it sends us on, up to --chan-key-interval
 * away; so once we keep only the new key, the rekeyer renews one such channel now
 * (the peer has had the overlap to install the key; if not, the rekey fails and the
 * periodic one tries again). Only when our record says we verify NH tags. */
static void show_later(struct cluster *c, uint32_t node)
{
	uint32_t *slot;

	if (!keys_nh_local(c))
		return;
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->nshown; i++)
		if (c->shown[i] == node)
			node = 0;
	if (node && (slot = xc_grow((void **)&c->shown, &c->nshown, &c->capshown, sizeof(*slot))))
		*slot = node;
	pthread_mutex_unlock(&c->mu);
}

/* The rekeyer's part: one established channel we receive on from each node waiting. */
static void show_held(struct cluster *c)
{
	struct xc_chan_info *ci = NULL;
	struct xc_part_info *pi = NULL;
	size_t n = 0, np = 0, nw;
	uint32_t *want;
	struct xc_err e = {};

	pthread_mutex_lock(&c->mu);
	want = c->shown;
	nw = c->nshown;
	c->shown = NULL;
	c->nshown = c->capshown = 0;
	pthread_mutex_unlock(&c->mu);
	if (!nw)
		return;
	if (xc_part_list(c->xc, &pi, &np, &e) || xc_chan_list(c->xc, &ci, &n, &e)) {
		agent_log(LOG_WARN, "cluster: no channel renewed after a pair key retired: %s", e.msg);
		goto out;
	}
	for (size_t i = 0; i < n && !c->stop; i++) {
		struct xc_ep dst = { ci[i].id.local_part, ci[i].id.local_ep };
		struct xc_ep src = { ci[i].id.remote_part, ci[i].id.remote_ep };
		uint32_t node = 0;
		size_t k;

		if (ci[i].id.dir != XCHAN_DIR_IN || ci[i].ch.state != XCHAN_S_ESTABLISHED)
			continue;
		for (size_t j = 0; j < np && !node; j++)
			if (pi[j].id == src.part)
				node = pi[j].meta.node_id;
		for (k = 0; k < nw && (!node || want[k] != node); k++)
			;
		if (k == nw)
			continue;
		want[k] = 0;	/* one channel a node */
		int r = xc_chan_rekey(c->xc, &src, &dst, c->cfg.chan_key_grace_ms, &e);

		if (r && r != XC_REKEY_KEPT_OLD)
			agent_log(LOG_INFO, "cluster: channel %u:%u -> %u:%u not renewed (to show node %u the new pair key; the periodic rekey will): %s",
				  src.part, src.port, dst.part, dst.port, node, e.msg);
	}
out:
	free(ci);
	free(pi);
	free(want);
}

static void retire_due(struct cluster *c, uint64_t now)
{
	for (size_t i = 0; i < c->npeers; i++) {
		struct peer *p = &c->peers[i];
		struct xc_err e = {};

		if (!p->has_prev || now < p->retire_ms)
			continue;
		/* the key came from our epoch my_epoch: the peer has it only once our record
		 * of that epoch is in the store, and then after the overlap */
		if (own.epoch != p->my_epoch || now < own.seen_ms + c->cfg.key_overlap * 1000ULL)
			continue;
		if (xc_node_key_retire(c->xc, p->id, p->kid, &e)) {
			agent_log(LOG_WARN, "cluster: node %u: cannot retire the previous pair key: %s",
				  p->id, e.msg);
			p->retire_ms = now + 1000;
			continue;
		}
		p->has_prev = false;
		if (p->prev_kid != p->kid) {
			agent_log(LOG_INFO, "cluster: node %u: pair key id 0x%02x retired, 0x%02x stays",
				  p->id, p->prev_kid, p->kid);
			show_later(c, p->id);
		}
	}
}

/* Why a due rotation waits, or NULL: a new key nobody can see is a key no peer can
 * derive, and the one after it would retire what they still use. */
static const char *rotate_blocked(struct cluster *c)
{
	int64_t lease;

	pthread_mutex_lock(&c->mu);
	lease = c->lease;
	pthread_mutex_unlock(&c->mu);
	if (c->store_down || !lease)
		return "the store is unreachable or this node's lease is not known yet";
	if (c->pub_failing || c->republish)
		return "this node's records are not published";
	if (own.epoch != c->kx.epoch)
		return "this node's current record has not come back through the watch yet";
	return NULL;
}

static void node_key_rotate(struct cluster *c, uint64_t now)
{
	struct xc_err e = {};
	const char *why;

	if (!c->cfg.node_key_interval ||
	    now < c->kx_rotated_ms + c->cfg.node_key_interval * 1000ULL)
		return;
	why = rotate_blocked(c);
	if (why) {
		if (!own.waiting)
			agent_log(LOG_WARN, "cluster: node key rotation due, waiting: %s", why);
		own.waiting = true;
		return;
	}
	own.waiting = false;
	c->kx_rotated_ms = now;
	if (nk_kx_rotate(c->state_dir, &c->kx, &e)) {
		agent_log(LOG_ERR, "cluster: node key not rotated: %s", e.msg);
		return;
	}
	/* published by the next pub_tick, re-derived for every peer by the next round */
	agent_log(LOG_NOTE, "cluster: node key rotated: epoch %u", c->kx.epoch);
	c->dirty = true;
}

/* Every established IN channel of this node gets a new key from its receiver: us. A
 * failure is counted and logged; the next round resends (xc_chan_rekey is restartable). */
static void chan_rekey_all(struct cluster *c)
{
	struct xc_chan_info *ci;
	size_t n, done = 0, failed = 0;
	struct xc_err e = {};

	if (xc_chan_list(c->xc, &ci, &n, &e)) {
		agent_log(LOG_WARN, "cluster: channel keys not renewed: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < n && !c->stop; i++) {
		struct xc_ep dst = { ci[i].id.local_part, ci[i].id.local_ep };
		struct xc_ep src = { ci[i].id.remote_part, ci[i].id.remote_ep };

		if (ci[i].id.dir != XCHAN_DIR_IN || ci[i].ch.state != XCHAN_S_ESTABLISHED)
			continue;
		int r = xc_chan_rekey(c->xc, &src, &dst, c->cfg.chan_key_grace_ms, &e);

		if (r == XC_REKEY_KEPT_OLD) {	/* renewed; the old key waits for the next round */
			agent_log(LOG_INFO, "cluster: channel %u:%u -> %u:%u renewed, old key kept: %s",
				  src.part, src.port, dst.part, dst.port, e.msg);
			done++;
			continue;
		}
		if (r) {
			count_add(&c->a->n.reconcile_errors, 1);
			agent_log(LOG_WARN, "cluster: channel %u:%u -> %u:%u rekey failed, the next round retries: %s",
				  src.part, src.port, dst.part, dst.port, e.msg);
			failed++;
			continue;
		}
		done++;
	}
	free(ci);
	if (failed)
		agent_log(LOG_INFO, "cluster: channel keys renewed: %zu, failed: %zu", done, failed);
}

static void *rekeyer(void *arg)
{
	struct cluster *c = arg;

	while (!c->stop) {
		uint64_t until = cl_now_ms() + c->cfg.chan_key_interval * 1000ULL;

		while (!c->stop && cl_now_ms() < until) {
			nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000000 }, NULL);
			show_held(c);
		}
		if (!c->stop)
			chan_rekey_all(c);
	}
	return NULL;
}

int rekey_start(struct cluster *c, struct xc_err *e)
{
	int err = pthread_create(&c->rekeyer, NULL, rekeyer, c);

	if (err)
		return xc_fail(e, -err, "cannot start the rekey thread: %s", strerror(err));
	c->rekeying = true;
	return 0;
}

void rekey_stop(struct cluster *c)
{
	c->stop = true;
	if (c->rekeying)
		pthread_join(c->rekeyer, NULL);
	c->rekeying = false;
}

void keys_tick(struct cluster *c)
{
	uint64_t now = cl_now_ms();

	own_record_seen(c, now);
	retire_due(c, now);
	node_key_rotate(c, now);
}
