// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_pub.c: this node in the store: its lease (kept alive every TTL/3, reused
 * after a restart while it lives, granted again when it expired), nodes/<self> and
 * parts/<id> of its own partitions, all on the lease, all signed by its identity. While
 * the store does not answer, nothing here touches the maps: traffic goes on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "cluster.h"
#include "store.h"

static void store_down(struct cluster *c, const char *what, const struct xc_err *e)
{
	uint64_t now = cl_now_ms();

	if (!c->store_down)
		agent_log(LOG_WARN, "cluster: store unreachable (%s: %s); the maps stay as they are, retrying",
			  what, e->msg);
	c->store_down = true;
	c->store_backoff = c->store_backoff ? c->store_backoff * 2 : 500;
	if (c->store_backoff > 5000)
		c->store_backoff = 5000;
	c->retry_ms = now + c->store_backoff;
}

static void store_up(struct cluster *c)
{
	if (c->store_down)
		agent_log(LOG_INFO, "cluster: store reachable again");
	c->store_down = false;
	c->store_backoff = 0;
	c->retry_ms = 0;
}

static void lease_save(struct cluster *c)
{
	struct st_conf sc;
	struct xc_err e = {};

	/* a restarted agent reuses the lease while it lives: keeps its keys in place */
	if (st_conf_load(c->state_dir, &sc, &e))
		return;
	sc.lease = c->lease;
	if (st_conf_save(c->state_dir, &sc, &e))
		agent_log(LOG_WARN, "cluster: cannot save the lease id: %s", e.msg);
}

/* The lease this node's keys hang on: the saved one if etcd still has it, else a new
 * one (and every own key is put again). */
static int lease_ensure(struct cluster *c, struct xc_err *e)
{
	int64_t ttl = 0, granted;
	int err;

	if (c->lease) {
		err = etcd_lease_keepalive(c->st, c->lease, &ttl, e);
		if (!err && ttl > 0)
			return 0;
		if (err && err != -ENOENT)
			return err;
		agent_log(LOG_NOTE, "cluster: lease %llx expired; granting a new one",
			  (unsigned long long)c->lease);
	}
	err = etcd_lease_grant(c->st, c->cfg.lease_ttl, &granted, e);
	if (err)
		return err;
	c->lease = granted;
	c->republish = true;
	agent_log(LOG_INFO, "cluster: lease %llx granted, TTL %u s", (unsigned long long)granted,
		  c->cfg.lease_ttl);
	lease_save(c);
	return 0;
}

char *pub_node_json(struct cluster *c)
{
	struct nk_kx *kx = &c->kx;
	struct st_node n = { .id = c->self, .addr = c->self_addr, .epoch = kx->epoch,
			     .key_time = kx->key_time, .lease = c->lease };
	char buf[ST_RECORD_MAX];
	struct xc_err e = {};

	memcpy(n.kx_pub, kx->pk, sizeof(n.kx_pub));
	if (st_node_encode(&n, &c->ident, buf, sizeof(buf), &e))
		return NULL;
	return strdup(buf);
}

/* Puts key = val on the lease unless the view (or forced) says it is there already. */
static int put_own(struct cluster *c, const char *key, const char *val, struct xc_err *e)
{
	const struct view_kv *kv = view_get(&c->view, key);

	if (!c->republish && kv && !strcmp(kv->val, val))
		return 0;
	return etcd_put(c->st, key, val, strlen(val), c->lease, e);
}

static int pub_parts(struct cluster *c, struct xc_err *e)
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
			err = put_own(c, st_key_part(key, sizeof(key), p.id), buf, e);
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

static int pub_all(struct cluster *c, struct xc_err *e)
{
	char key[32];
	char *node = pub_node_json(c);
	int err;

	if (!node)
		return xc_fail(e, -ENOMEM, "cannot encode nodes/%u", c->self);
	err = put_own(c, st_key_node(key, sizeof(key), c->self), node, e);
	free(node);
	if (!err)
		err = pub_parts(c, e);
	if (!err)
		c->republish = false;
	return err;
}

/* Every tick: the lease when due, then own keys where they differ from the view. */
void pub_tick(struct cluster *c)
{
	uint64_t now = cl_now_ms();
	struct xc_err e = {};
	int err;

	if (c->store_down && now < c->retry_ms)
		return;
	if (!c->lease || now >= c->keepalive_ms || c->store_down) {
		err = lease_ensure(c, &e);
		if (err) {
			store_down(c, "lease", &e);
			return;
		}
		c->keepalive_ms = now + c->cfg.lease_ttl * 1000 / 3;
	}
	err = pub_all(c, &e);
	if (err) {
		store_down(c, "publish", &e);
		return;
	}
	store_up(c);
}
