// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* apply.c: making the tables say what a list of statements says, with the fewest
 * changes: idempotent, and all or nothing (a failure undoes this run's changes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "xc_int.h"

struct run {
	struct xc *x;
	const struct xc_stmt *st;
	size_t n;
	struct xc_apply_result *r;
	size_t cap;			/* of r->changes */
	struct xchan_chan_id *named;	/* OUT ids of the channels the statements name */
	size_t nnamed;
	/* the last source and destination resolved (a name costs a walk of the
	 * partitions); forgotten when this run adds a partition, and checked again
	 * (ep_of) before each use */
	struct { char part[XC_PART_STR]; uint32_t id; bool set; } seen[2];
};

/* PART:PORT of statement side k (0 source, 1 destination), its PART resolved once
 * for a run of statements that name it. */
static int ep_of(struct run *u, const char *s, int k, struct xc_ep *ep, struct xc_err *e)
{
	char part[XC_PART_STR];
	struct xchan_part_meta m;
	uint16_t port;
	uint32_t v;
	int err = xc_ep_split(s, part, &port, e);

	if (err)
		return err;
	/* A name must still name that id: another process (the CNI plugin, the cluster
	 * agent) may have removed the partition and given its id to another since. One
	 * lookup, not a walk; a bare id names itself. */
	if (u->seen[k].set && !strcmp(u->seen[k].part, part) && xc_parse_u32(part, &v) &&
	    (bpf_map_lookup_elem(XC_FD(u->x, M_PARTMETA), &u->seen[k].id, &m) ||
	     strcmp(m.name, part)))
		u->seen[k].set = false;
	if (!u->seen[k].set || strcmp(u->seen[k].part, part)) {
		err = xc_part_resolve(u->x, part, false, &u->seen[k].id, e);
		u->seen[k].set = !err;
		if (err)
			return err;
		memcpy(u->seen[k].part, part, sizeof(part));
	}
	ep->part = u->seen[k].id;
	ep->port = port;
	return 0;
}

static int apply_part(struct run *u, size_t i, struct xc_err *e)
{
	const struct xc_part_spec *s = &u->st[i].part;
	struct xc_change *c = &u->r->changes[u->r->nchanges];
	struct xchan_part_meta m;
	int err;

	if (!bpf_map_lookup_elem(XC_FD(u->x, M_PARTMETA), &s->id, &m)) {
		if (strcmp(m.name, s->name ? s->name : ""))
			return xc_fail(e, -EEXIST, "partition %u exists as '%s'; delete it first to rename it",
				       s->id, m.name);
		u->r->unchanged++;
		return 0;
	}
	memset(c, 0, sizeof(*c));
	err = xc_part_add(u->x, s, &c->part, e);
	if (err)
		return err;
	u->seen[0].set = u->seen[1].set = false;	/* a name may mean it now */
	c->kind = XC_CH_PART_ADDED;
	c->stmt = i;
	u->r->nchanges++;
	return 0;
}

static int apply_chan(struct run *u, size_t i, struct xc_err *e)
{
	struct xc_change *c = &u->r->changes[u->r->nchanges];
	struct xc_err ignored;
	struct xc_ep src, dst;
	bool unacked;
	int err, parts;

	err = ep_of(u, u->st[i].src, 0, &src, e);
	if (!err)
		err = ep_of(u, u->st[i].dst, 1, &dst, e);
	if (err)
		return err;
	xchan_chan_id_make(&u->named[u->nnamed++], src.part, src.port, dst.part, dst.port,
			   XCHAN_DIR_OUT);
	/* both entries, both established, both keys: anything less is a channel an
	 * interrupted run left half-made, which starts over */
	parts = xc_chan_parts(u->x, &src, &dst);
	if (parts == 6) {
		u->r->unchanged++;
		return 0;
	}
	if (parts)
		xc_chan_close(u->x, &src, &dst, &unacked, &ignored);
	err = xc_chan_open(u->x, &src, &dst, e);
	if (err)
		return err;
	memset(c, 0, sizeof(*c));
	c->kind = XC_CH_CHAN_OPENED;
	c->stmt = i;
	c->src = src;
	c->dst = dst;
	u->r->nchanges++;
	return 0;
}

/* Newest first, so that the tables are as they were. */
static void undo(struct run *u)
{
	struct xc_err ignored;
	bool unacked;
	int derr;

	for (size_t i = u->r->nchanges; i--;) {
		const struct xc_change *c = &u->r->changes[i];

		if (c->kind == XC_CH_CHAN_OPENED)
			xc_chan_close(u->x, &c->src, &c->dst, &unacked, &ignored);
		else if (c->kind == XC_CH_PART_ADDED)
			xc_part_remove(u->x, c->part.id, &derr);
	}
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xchan_chan_id));
}

struct victims {
	struct run *u;
	struct xchan_chan_id *v;
	size_t n, cap;
};

/* Every channel the statements do not name, whichever of its entries exist (an
 * authorization alone counts), as its OUT id. */
static int victim_one(const void *key, void *ctx)
{
	struct victims *vs = ctx;
	struct xchan_chan_id o = *(const struct xchan_chan_id *)key, *slot;

	if (o.dir == XCHAN_DIR_IN)
		xchan_chan_id_make(&o, o.remote_part, o.remote_ep, o.local_part, o.local_ep,
				   XCHAN_DIR_OUT);
	if (bsearch(&o, vs->u->named, vs->u->nnamed, sizeof(o), cmp_id))
		return 0;
	slot = xc_grow((void **)&vs->v, &vs->n, &vs->cap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	*slot = o;
	return 0;
}

/* Plans first (every allocation), then closes: no allocation can fail halfway. */
static int prune(struct run *u, struct xc_err *e)
{
	struct victims vs = { .u = u };
	struct xc_err ignored;
	struct xc_change *bigger;
	bool unacked;
	int err;

	if (u->nnamed)	/* qsort wants a real array, even for nothing */
		qsort(u->named, u->nnamed, sizeof(*u->named), cmp_id);
	err = xc_map_each(XC_FD(u->x, M_CHANNELS), sizeof(struct xchan_chan_id), victim_one, &vs);
	if (!err && vs.n) {
		bigger = realloc(u->r->changes, (u->r->nchanges + vs.n) * sizeof(*bigger));
		if (bigger)
			u->r->changes = bigger;
		else
			err = -ENOMEM;
	}
	if (err) {
		free(vs.v);
		return xc_fail(e, err, "cannot plan --prune: %s; nothing changed", strerror(-err));
	}
	/* an IN and an OUT entry of one channel name the same victim */
	if (vs.n)
		qsort(vs.v, vs.n, sizeof(*vs.v), cmp_id);
	for (size_t i = 0; i < vs.n; i++) {
		struct xc_change *c = &u->r->changes[u->r->nchanges];

		if (i && !cmp_id(&vs.v[i], &vs.v[i - 1]))
			continue;
		memset(c, 0, sizeof(*c));
		c->kind = XC_CH_CHAN_PRUNED;
		c->src = (struct xc_ep){ vs.v[i].local_part, vs.v[i].local_ep };
		c->dst = (struct xc_ep){ vs.v[i].remote_part, vs.v[i].remote_ep };
		xc_chan_close(u->x, &c->src, &c->dst, &unacked, &ignored);
		u->r->nchanges++;
	}
	free(vs.v);
	return 0;
}

int xc_apply(struct xc *x, const struct xc_stmt *st, size_t n, bool prune_others,
	     struct xc_apply_result *r, struct xc_err *e)
{
	struct run u = { .x = x, .st = st, .n = n, .r = r };
	int err;

	memset(r, 0, sizeof(*r));
	err = xc_open(x, true, e);
	if (err)
		return err;
	/* Everything a statement may need is allocated before the first change. */
	r->changes = calloc(n + 1, sizeof(*r->changes));
	u.named = calloc(n + 1, sizeof(*u.named));
	if (!r->changes || !u.named) {
		err = xc_fail(e, -ENOMEM, "cannot apply: out of memory; nothing changed");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		err = st[i].is_chan ? apply_chan(&u, i, e) : apply_part(&u, i, e);
		if (err) {
			r->failed_at_stmt = true;
			r->failed_stmt = i;
			goto undo;
		}
	}
	if (prune_others && (err = prune(&u, e)))
		goto undo;
	goto out;
undo:
	undo(&u);
out:
	free(u.named);
	return err;
}

void xc_apply_result_free(struct xc_apply_result *r)
{
	free(r->changes);
	r->changes = NULL;
	r->nchanges = 0;
}
