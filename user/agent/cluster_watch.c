// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_watch.c: the watch thread. It lists the prefix, hands the list over as a
 * reset, then watches from the list's revision + 1 and hands over each event. When the
 * watch ends (compaction, a broken stream, etcd gone) it lists again, with backoff
 * while etcd does not answer. The reconcile thread drains what it queued. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agent.h"
#include "cluster.h"
#include "etcd.h"

static void push(struct cluster *c, struct wev *w)
{
	pthread_mutex_lock(&c->mu);
	*c->qtail = w;
	c->qtail = &w->next;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static struct wev *wev_new(bool reset, bool del, const char *key, const char *val, int64_t rev,
			   int64_t lease)
{
	struct wev *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->reset = reset;
	w->del = del;
	w->rev = rev;
	w->lease = lease;
	w->key = key ? strdup(key) : NULL;
	w->val = val ? strdup(val) : NULL;
	if ((key && !w->key) || (val && !w->val)) {
		free(w->key);
		free(w->val);
		free(w);
		return NULL;
	}
	return w;
}

static int on_event(void *ctx, const struct etcd_event *ev)
{
	struct cluster *c = ctx;
	struct wev *w = wev_new(false, ev->type == ETCD_EV_DELETE, ev->key, ev->value, ev->mod_rev,
				 ev->lease);

	if (!w)
		return -ENOMEM;	/* stop: the next list catches up */
	push(c, w);
	return 0;
}

static void wev_free_all(struct wev *w)
{
	for (struct wev *n; w; w = n) {
		n = w->next;
		free(w->key);
		free(w->val);
		free(w);
	}
}

/* One list, handed over whole (a reset, then every key): its revision, or -errno. */
static int64_t list(struct cluster *c, struct etcd *d, struct xc_err *e)
{
	struct etcd_range r = {};
	struct wev *head, *last;
	int64_t rev;
	int err = etcd_range(d, "", &r, e);

	if (err)
		return err;
	rev = r.rev;
	head = last = wev_new(true, false, NULL, NULL, rev, 0);
	for (size_t i = 0; last && i < r.n; i++) {
		last->next = wev_new(false, false, r.kvs[i].key, r.kvs[i].value, r.kvs[i].mod_rev,
					    r.kvs[i].lease);
		last = last->next;
	}
	etcd_range_free(&r);
	if (!last) {
		wev_free_all(head);
		return xc_fail(e, -ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&c->mu);
	*c->qtail = head;
	c->qtail = &last->next;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return rev;
}

static void nap(struct cluster *c, unsigned int ms)
{
	for (unsigned int t = 0; t < ms && !c->stop; t += 100)
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000000 }, NULL);
}

static void *watcher(void *arg)
{
	struct cluster *c = arg;
	struct etcd *d = etcd_open(c->url, c->prefix, &(struct xc_err){});
	char last[256] = "";
	unsigned int backoff = 0;

	while (d && !c->stop) {
		struct xc_err e = {};
		struct etcd_watch *w = NULL;
		enum etcd_watch_state s;
		int64_t rev = list(c, d, &e);

		if (rev >= 0 && etcd_watch_start(d, "", rev + 1, on_event, c, &w, &e))
			rev = -1;
		if (rev < 0) {
			/* once per outage: the reason changes as etcd goes away */
			if (!last[0])
				agent_log(LOG_WARN, "cluster: cannot watch the store, retrying: %s", e.msg);
			snprintf(last, sizeof(last), "%s", e.msg[0] ? e.msg : "?");
			backoff = backoff ? (backoff * 2 > 5000 ? 5000 : backoff * 2) : 250;
			nap(c, backoff);
			continue;
		}
		if (last[0])
			agent_log(LOG_INFO, "cluster: watching the store again from revision %lld",
				  (long long)rev + 1);
		last[0] = '\0';
		backoff = 0;
		s = etcd_watch_run(w, &c->stop, &e);
		if (s == ETCD_WATCH_COMPACTED)
			agent_log(LOG_INFO, "cluster: watch revision compacted away: listing again");
		else if (s == ETCD_WATCH_LOST)
			snprintf(last, sizeof(last), "watch lost: %.200s", e.msg);
		etcd_watch_stop(w);
	}
	etcd_close(d);
	return NULL;
}

int watch_start(struct cluster *c, struct xc_err *e)
{
	int err = pthread_create(&c->watcher, NULL, watcher, c);

	if (err)
		return xc_fail(e, -err, "cannot start the watch thread: %s", strerror(err));
	c->watching = true;
	return 0;
}

void watch_stop(struct cluster *c)
{
	c->stop = true;
	if (c->watching)
		pthread_join(c->watcher, NULL);
	c->watching = false;
}

/* The reconcile thread's side: applies what was queued, in order. */
bool watch_drain(struct cluster *c)
{
	struct wev *w;
	bool changed = false;

	pthread_mutex_lock(&c->mu);
	w = c->q;
	c->q = NULL;
	c->qtail = &c->q;
	pthread_mutex_unlock(&c->mu);
	while (w) {
		struct wev *n = w->next;

		if (w->reset) {
			view_clear(&c->view);
			c->view.rev = w->rev;
		} else if (w->del) {
			view_del(&c->view, w->key);
			if (w->rev > c->view.rev)
				c->view.rev = w->rev;
		} else {
			view_set(&c->view, w->key, w->val, w->rev, w->lease);
		}
		changed = true;
		free(w->key);
		free(w->val);
		free(w);
		w = n;
	}
	return changed;
}
