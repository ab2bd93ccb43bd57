// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_fail.c: what reconcile could not make true. Each item is retried with its own
 * backoff (1 s doubling to 30 s), counted in reconcile_errors at every failed try, and
 * logged when its reason changes or it recovers, never at every poll. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "xc_int.h"
#include "cluster.h"

#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	30000

static struct failure *fail_find(struct cluster *c, const char *what)
{
	for (size_t i = 0; i < c->nfails; i++)
		if (!strcmp(c->fails[i].what, what))
			return &c->fails[i];
	return NULL;
}

/* true: try the item now (it never failed, or its backoff is over). An item that is
 * not due counts as still failing in this round. */
bool fail_due(struct cluster *c, const char *what)
{
	struct failure *f = fail_find(c, what);

	if (!f)
		return true;
	f->seen = true;
	return cl_now_ms() >= f->next_ms;
}

void fail_set(struct cluster *c, const char *what, const char *msg)
{
	struct failure *f = fail_find(c, what);
	uint64_t now = cl_now_ms();

	count_add(&c->a->n.reconcile_errors, 1);
	if (!f) {
		f = xc_grow((void **)&c->fails, &c->nfails, &c->capfails, sizeof(*f));
		if (!f) {
			agent_log(LOG_ERR, "cluster: %s: %s", what, msg);
			return;
		}
		memset(f, 0, sizeof(*f));
		snprintf(f->what, sizeof(f->what), "%s", what);
	}
	if (strcmp(f->msg, msg)) {
		agent_log(LOG_WARN, "cluster: %s failed, will retry: %s", what, msg);
		snprintf(f->msg, sizeof(f->msg), "%s", msg);
	}
	f->backoff_ms = f->backoff_ms ? f->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (f->backoff_ms > BACKOFF_MAX_MS)
		f->backoff_ms = BACKOFF_MAX_MS;
	f->next_ms = now + f->backoff_ms;
	f->seen = true;
	if (!c->next_reconcile_ms || f->next_ms < c->next_reconcile_ms)
		c->next_reconcile_ms = f->next_ms;
}

void fail_clear(struct cluster *c, const char *what)
{
	struct failure *f = fail_find(c, what);

	if (!f)
		return;
	agent_log(LOG_INFO, "cluster: %s: done after retries", what);
	*f = c->fails[--c->nfails];
}

void fails_begin(struct cluster *c)
{
	for (size_t i = 0; i < c->nfails; i++)
		c->fails[i].seen = false;
}

/* Items no round tried any more (their store key went): forgotten quietly. The next
 * retry is the earliest pending one. */
void fails_end(struct cluster *c)
{
	c->next_reconcile_ms = 0;
	for (size_t i = 0; i < c->nfails;) {
		if (!c->fails[i].seen) {
			c->fails[i] = c->fails[--c->nfails];
			continue;
		}
		if (!c->next_reconcile_ms || c->fails[i].next_ms < c->next_reconcile_ms)
			c->next_reconcile_ms = c->fails[i].next_ms;
		i++;
	}
}

void bad_sig_once(struct cluster *c, const char *key, const char *why)
{
	char **slot;

	for (size_t i = 0; i < c->nbad; i++)
		if (!strcmp(c->bad_sigs[i], key))
			return;
	agent_log(LOG_WARN, "cluster: ignoring %s: %s", key, why);
	slot = xc_grow((void **)&c->bad_sigs, &c->nbad, &c->capbad, sizeof(*slot));
	if (slot && !(*slot = strdup(key)))
		c->nbad--;
}

void bad_sig_forget(struct cluster *c, const char *key)
{
	for (size_t i = 0; i < c->nbad; i++)
		if (!strcmp(c->bad_sigs[i], key)) {
			free(c->bad_sigs[i]);
			c->bad_sigs[i] = c->bad_sigs[--c->nbad];
			return;
		}
}
