// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_pub.c: this node's own records in the store, nodes/<self> and parts/<id> of
 * its own partitions, on its lease (cluster_lease.c), signed by its identity, put
 * again where the view says they differ or the lease is new. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "cluster.h"
#include "store.h"

char *pub_node_json(struct cluster *c, int64_t lease)
{
	struct nk_kx *kx = &c->kx;
	struct st_node n = { .id = c->self, .addr = c->self_addr, .epoch = kx->epoch,
			     .key_time = kx->key_time, .lease = lease, .nh = keys_nh_local(c) };
	char buf[ST_RECORD_MAX];
	struct xc_err e = {};

	memcpy(n.kx_pub, kx->pk, sizeof(n.kx_pub));
	if (st_node_encode(&n, &c->ident, buf, sizeof(buf), &e))
		return NULL;
	return strdup(buf);
}

/* Puts key = val on the lease unless the view (or forced) says it is there already. */
static int put_own(struct cluster *c, const char *key, const char *val, int64_t lease,
		   struct xc_err *e)
{
	const struct view_kv *kv = view_get(&c->view, key);

	/* the same record on another lease (or none) is not ours: peers ignore it */
	if (!c->republish && kv && kv->lease == lease && !strcmp(kv->val, val))
		return 0;
	return etcd_put(c->st, key, val, strlen(val), lease, e);
}

static int pub_parts(struct cluster *c, int64_t lease, struct xc_err *e)
{
	struct xc_part_info *pi;
	size_t n, first, cnt;
	char key[48], buf[ST_RECORD_MAX];
	int err = xc_part_list(c->xc, &pi, &n, e);

	if (err)
		return err;
	for (size_t i = 0; !err && i < n; i++) {
		struct st_part p = { .id = pi[i].id, .node = c->self, .addr = pi[i].row.ip,
				     .isolated = pi[i].meta.flags & XCHAN_PART_ISOLATED };

		if (pi[i].meta.node_id)
			continue;
		snprintf(p.name, sizeof(p.name), "%s", pi[i].meta.name);
		err = st_part_encode(&p, &c->ident, buf, sizeof(buf), e);
		if (!err)
			err = put_own(c, st_key_part(key, sizeof(key), p.id), buf, lease, e);
	}
	/* a partition of ours that went: its record goes too */
	cnt = view_under(&c->view, ST_PARTS, &first);
	for (size_t i = first; !err && i < first + cnt; i++) {
		struct st_part p;
		uint32_t id;
		bool local = false;
		struct xc_err ign;

		if (st_key_num(c->view.kv[i].key, ST_PARTS, &id) ||
		    st_part_decode(c->view.kv[i].val, strlen(c->view.kv[i].val), NULL, &p, &ign) ||
		    p.node != c->self)
			continue;
		for (size_t j = 0; j < n; j++)
			local |= pi[j].id == id && !pi[j].meta.node_id;
		if (!local)
			err = etcd_delete(c->st, c->view.kv[i].key, NULL, e);
	}
	free(pi);
	return err;
}

static int pub_all(struct cluster *c, int64_t lease, struct xc_err *e)
{
	char key[32];
	char *node = pub_node_json(c, lease);
	int err;

	if (!node)
		return xc_fail(e, -ENOMEM, "cannot encode nodes/%u", c->self);
	err = put_own(c, st_key_node(key, sizeof(key), c->self), node, lease, e);
	free(node);
	if (!err)
		err = pub_parts(c, lease, e);
	if (!err)
		c->republish = false;
	return err;
}

/* Every tick: own keys where they differ from the view (all of them after a new
 * lease). A failure is logged once per streak and retried at the next tick. */
void pub_tick(struct cluster *c)
{
	struct xc_err e = {};
	bool reset_pending;
	int64_t lease;

	pthread_mutex_lock(&c->mu);
	lease = c->lease;
	if (c->regrant_seen != c->regrants) {
		c->republish = true;
		c->regrant_seen = c->regrants;
	}
	/* After a new lease the remote partitions and their channels are made anew
	 * (reset_if_regranted, once the view is listed). Publishing before that let a
	 * peer see this node again and connect, and the reset then took the fresh key
	 * of the sender's side away: the channel looked established at the receiver
	 * and carried nothing (cluster.t saw it now and then). */
	reset_pending = c->reset_seen != c->regrants;
	pthread_mutex_unlock(&c->mu);
	if (!lease || c->store_down || reset_pending)
		return;
	if (pub_all(c, lease, &e)) {
		if (!c->pub_failing)
			agent_log(LOG_WARN, "cluster: cannot publish this node's records, retrying: %s", e.msg);
		c->pub_failing = true;
		c->republish = true;
		return;
	}
	if (c->pub_failing)
		agent_log(LOG_INFO, "cluster: this node's records are published again");
	c->pub_failing = false;
}
