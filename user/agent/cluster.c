// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster.c: the agent's cluster mode: who this node is (cluster.json, its keys in the
 * state directory), and the reconcile thread's schedule: drain the watch, keep the
 * lease and own keys in the store, rotate keys, reconcile when the view changed or a
 * failed item is due. The request sockets stay on the agent's main thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "agent.h"
#include "cluster.h"
#include "store.h"

#define SYNC_EVERY_MS	10000	/* a full round even when nothing changed: local drift */
#define TICK_MS		500

uint64_t cl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

bool cluster_configured(const struct cluster_cfg *cfg)
{
	struct st_conf sc;
	struct xc_err e = {};

	return cfg->etcd || !st_conf_load(cfg->state_dir ? cfg->state_dir : NK_DEFAULT_STATE_DIR,
					  &sc, &e);
}

/* cluster.json (from join), overridden by --etcd/--prefix; else this instance's node. */
static int whoami(struct cluster *c, struct xc_err *e)
{
	struct st_conf sc = {};
	struct xchan_config xcfg = {};
	int err = st_conf_load(c->state_dir, &sc, e);

	if (err && err != -ENOENT)
		return err;
	xc_config_read(c->xc, &xcfg);
	snprintf(c->url, sizeof(c->url), "%s", c->cfg.etcd ? c->cfg.etcd : sc.url);
	snprintf(c->prefix, sizeof(c->prefix), "%s",
		 c->cfg.prefix ? c->cfg.prefix : sc.prefix[0] ? sc.prefix : ETCD_DEFAULT_PREFIX);
	c->self = err ? xcfg.self_node : sc.node;
	c->self_addr = err ? xcfg.self_addr : sc.addr;
	c->lease = err ? 0 : sc.lease;
	if (!c->self || !c->self_addr)
		return xc_fail(e, -ENOENT, "this node is no cluster member: run xchan cluster join first");
	if (xcfg.self_node != c->self)
		return xc_fail(e, -EINVAL, "the instance is node %u but %s/%s says %u: run xchan cluster join again",
			       xcfg.self_node, c->state_dir, ST_CONF_FILE, c->self);
	return etcd_url_check(c->url, e);
}

static int keys_load(struct cluster *c, struct xc_err *e)
{
	int err = nk_state_dir(c->state_dir, false, e);
	if (!err)
		err = nk_identity_load(c->state_dir, false, &c->ident, NULL, e);
	if (!err)
		err = nk_kx_load(c->state_dir, false, &c->kx, NULL, e);
	return err;
}

static void wait_work(struct cluster *c, uint64_t until)
{
	struct timespec ts;
	uint64_t now = cl_now_ms();

	if (until <= now)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (until - now) / 1000;
	ts.tv_nsec += ((until - now) % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->mu);
	while (!c->q && !c->stop && !pthread_cond_timedwait(&c->cv, &c->mu, &ts))
		;
	pthread_mutex_unlock(&c->mu);
}

static void reset_if_regranted(struct cluster *c)
{
	uint64_t r;

	pthread_mutex_lock(&c->mu);
	r = c->regrants;
	pthread_mutex_unlock(&c->mu);
	if (r == c->reset_seen || !c->view.rev)	/* the view says who the members are */
		return;
	c->reset_seen = r;
	sync_reset_remote(c);
	c->dirty = true;
}

static void *reconciler(void *arg)
{
	struct cluster *c = arg;
	uint64_t last_sync = 0;

	while (!c->stop) {
		uint64_t now, until;

		if (watch_drain(c))
			c->dirty = true;
		reset_if_regranted(c);
		pub_tick(c);
		keys_tick(c);
		now = cl_now_ms();
		if (c->view.rev && (c->dirty || now >= last_sync + SYNC_EVERY_MS ||
				    (c->next_reconcile_ms && now >= c->next_reconcile_ms))) {
			c->dirty = false;
			sync_all(c);
			last_sync = now;
		}
		until = cl_now_ms() + (c->dirty ? 0 : TICK_MS);
		if (c->next_reconcile_ms && c->next_reconcile_ms < until)
			until = c->next_reconcile_ms;
		wait_work(c, until);
	}
	return NULL;
}

static void cluster_free(struct cluster *c)
{
	if (c->st)
		etcd_close(c->st);
	watch_drain(c);
	view_clear(&c->view);
	free(c->view.kv);
	free(c->peers);
	free(c->fails);
	free(c->shown);
	free(c->mine);
	for (size_t i = 0; i < c->nbad; i++)
		free(c->bad_sigs[i]);
	free(c->bad_sigs);
	free(c->pins);
	free(c->refused);
	free(c->host_addrs);
	nk_identity_wipe(&c->ident);
	nk_kx_wipe(&c->kx);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	sodium_free(c);
}

int cluster_start(struct agent *a, const struct cluster_cfg *cfg, struct cluster **out,
		  struct xc_err *e)
{
	struct cluster *c;
	int err = nk_init(e);

	if (err)
		return err;
	/* sodium_malloc: the keys inside sit on a guarded page, locked, wiped on free */
	c = sodium_malloc(sizeof(*c));
	if (!c)
		return xc_fail(e, -ENOMEM, "out of memory");
	memset(c, 0, sizeof(*c));
	c->a = a;
	c->xc = a->xc;
	c->cfg = *cfg;
	c->qtail = &c->q;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", cfg->state_dir ? cfg->state_dir : NK_DEFAULT_STATE_DIR);
	err = whoami(c, e);
	if (!err)
		err = keys_load(c, e);
	if (!err && !(c->st = etcd_open(c->url, c->prefix, e)))
		err = -EINVAL;
	if (!err) {
		c->kx_rotated_ms = cl_now_ms();
		err = lease_start(c, e);
	}
	if (!err)
		err = watch_start(c, e);
	if (!err)
		err = rekey_start(c, e);
	if (!err && (err = -pthread_create(&c->thread, NULL, reconciler, c)))
		xc_fail(e, err, "cannot start the reconcile thread: %s", strerror(-err));
	if (err) {
		rekey_stop(c);
		watch_stop(c);
		lease_stop(c);
		cluster_free(c);
		return err;
	}
	agent_log(LOG_INFO, "cluster: node %u, store %s prefix %s, key epoch %u, lease TTL %u s",
		  c->self, c->url, c->prefix, c->kx.epoch, cfg->lease_ttl);
	*out = c;
	return 0;
}

/* The lease is not revoked: peers see this node go only when it expires, and traffic
 * on and between nodes goes on meanwhile. */
void cluster_stop(struct cluster *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	rekey_stop(c);
	watch_stop(c);
	lease_stop(c);
	cluster_free(c);
}
