// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_lease.c: the lease thread. This node is live for its peers while its lease
 * is: kept alive every TTL/3 on a connection of its own, so that nothing the reconcile
 * thread waits for (a peer's CMM answers after up to 6 s) can let it expire. A saved
 * lease is reused while etcd still has it; an expired one is granted again, and then
 * every own record is put again and the channels with other nodes are made anew (the
 * peers dropped this node's partitions and their half of those channels meanwhile).
 * While etcd does not answer it logs once and retries: the maps stay as they are. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "agent.h"
#include "cluster.h"
#include "store.h"

static void lease_save(struct cluster *c, int64_t lease)
{
	struct st_conf sc;
	struct xc_err e = {};

	if (st_conf_load(c->state_dir, &sc, &e))
		return;
	sc.lease = lease;
	if (st_conf_save(c->state_dir, &sc, &e))
		agent_log(LOG_WARN, "cluster: cannot save the lease id: %s", e.msg);
}

static void lease_set(struct cluster *c, int64_t lease, bool regranted)
{
	pthread_mutex_lock(&c->mu);
	c->lease = lease;
	if (regranted)
		c->regrants++;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* 0 while the lease lives (granted again if it had expired), else -errno. */
static int lease_beat(struct cluster *c, struct etcd *d, int64_t *lease, struct xc_err *e)
{
	int64_t ttl = 0, granted;
	bool had = *lease != 0;
	int err;

	if (had) {
		err = etcd_lease_keepalive(d, *lease, &ttl, e);
		if (!err && ttl > 0)
			return 0;
		if (err && err != -ENOENT)
			return err;
		agent_log(LOG_NOTE, "cluster: lease %llx expired: peers took this node for down; granting a new one",
			  (unsigned long long)*lease);
	}
	err = etcd_lease_grant(d, c->cfg.lease_ttl, &granted, e);
	if (err)
		return err;
	*lease = granted;
	agent_log(LOG_INFO, "cluster: lease %llx granted, TTL %u s", (unsigned long long)granted,
		  c->cfg.lease_ttl);
	lease_save(c, granted);
	lease_set(c, granted, had);
	return 0;
}

static void nap_ms(struct cluster *c, unsigned int ms)
{
	for (unsigned int t = 0; t < ms && !c->lease_stop; t += 50)
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000000 }, NULL);
}

static void *leaser(void *arg)
{
	struct cluster *c = arg;
	struct etcd *d = etcd_open(c->url, c->prefix, &(struct xc_err){});
	int64_t lease = c->lease;
	unsigned int backoff = 0;

	/* the saved lease is not handed to the others before it is known to live */
	lease_set(c, 0, false);
	while (d && !c->lease_stop) {
		struct xc_err e = {};

		if (lease_beat(c, d, &lease, &e)) {
			if (!c->store_down)
				agent_log(LOG_WARN, "cluster: store unreachable (%s); the maps stay as they are, retrying",
					  e.msg);
			c->store_down = true;
			backoff = backoff ? (backoff * 2 > 2000 ? 2000 : backoff * 2) : 250;
			nap_ms(c, backoff);
			continue;
		}
		if (c->store_down)
			agent_log(LOG_INFO, "cluster: store reachable again");
		if (!c->lease)
			lease_set(c, lease, false);
		c->store_down = false;
		backoff = 0;
		/* in 64 bits: a ttl above 4294967 s would wrap to a short nap */
		nap_ms(c, (unsigned int)(c->cfg.lease_ttl * 1000ULL / 3));
	}
	etcd_close(d);
	return NULL;
}

int lease_start(struct cluster *c, struct xc_err *e)
{
	int err = pthread_create(&c->leaser, NULL, leaser, c);

	if (err)
		return xc_fail(e, -err, "cannot start the lease thread: %s", strerror(err));
	c->leasing = true;
	return 0;
}

/* Last: the lease lives while the other threads finish what they were doing (a rekey
 * may wait 6 s for a peer), so stopping never makes this node look down. */
void lease_stop(struct cluster *c)
{
	c->lease_stop = true;
	if (c->leasing)
		pthread_join(c->leaser, NULL);
	c->leasing = false;
}
