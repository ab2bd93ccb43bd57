// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* partstats.c: counters by partition: its verdicts by reason (xchan_partstats, made
 * by the datapath) and its channel traffic, summed from the channels' own counters
 * (the same-node fast path counts only those); and forgetting a partition's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "xc_int.h"

struct ps_list {
	int fd;
	struct xc_part_stat *v;
	size_t n, cap;
};

static int ps_one(const void *key, void *ctx)
{
	const struct xchan_partstat_key *k = key;
	struct ps_list *l = ctx;
	struct xc_part_stat *s = xc_grow((void **)&l->v, &l->n, &l->cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->part = k->part_id;
	s->reason = k->reason;
	if (cmm_percpu_sum(l->fd, key, &s->c, sizeof(s->c)))
		l->n--;		/* gone meanwhile */
	return 0;
}

static int cmp_ps(const void *a, const void *b)
{
	const struct xc_part_stat *x = a, *y = b;

	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

int xc_stats_partitions(struct xc *x, struct xc_part_stat **out, size_t *n, struct xc_err *e)
{
	struct ps_list l = { .fd = XC_FD(x, M_PARTSTATS) };
	int err = 0;

	if (l.fd >= 0)	/* else an older instance: no counters by partition */
		err = xc_map_each(l.fd, sizeof(struct xchan_partstat_key), ps_one, &l);
	if (err) {
		free(l.v);
		return xc_fail(e, err, "cannot read the counters by partition: %s", strerror(-err));
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_ps);
	*out = l.v;
	*n = l.n;
	return 0;
}

static int cmp_pc(const void *a, const void *b)
{
	const struct xc_part_chan_stat *x = a, *y = b;

	return x->part < y->part ? -1 : x->part > y->part;
}

static void add(struct xchan_counter *to, const struct xchan_chan_counter *c)
{
	to->packets += c->packets;
	to->bytes += c->bytes;
}

/* Two rows per channel (its receiver's and its sender's), sorted, then merged. */
int xc_stats_part_channels(struct xc *x, struct xc_part_chan_stat **out, size_t *n,
			   struct xc_err *e)
{
	struct xc_chan_stat *cs;
	struct xc_part_chan_stat *v;
	size_t ncs, k = 0;
	int err = xc_stats_channels(x, &cs, &ncs, e);

	if (err)
		return err;
	v = calloc(2 * ncs + 1, sizeof(*v));
	if (!v) {
		free(cs);
		return xc_fail(e, -ENOMEM, "cannot read channel counters: %s", strerror(ENOMEM));
	}
	for (size_t i = 0; i < ncs; i++) {
		v[2 * i].part = cs[i].id.local_part;
		add(&v[2 * i].received, &cs[i].c);
		v[2 * i + 1].part = cs[i].id.remote_part;
		add(&v[2 * i + 1].sent, &cs[i].c);
	}
	free(cs);
	if (ncs)
		qsort(v, 2 * ncs, sizeof(*v), cmp_pc);
	for (size_t i = 0; i < 2 * ncs; i++) {
		if (k && v[k - 1].part == v[i].part) {
			v[k - 1].received.packets += v[i].received.packets;
			v[k - 1].received.bytes += v[i].received.bytes;
			v[k - 1].sent.packets += v[i].sent.packets;
			v[k - 1].sent.bytes += v[i].sent.bytes;
		} else {
			v[k++] = v[i];
		}
	}
	*out = v;
	*n = k;
	return 0;
}

/* Every reason's row: a fixed number of deletes, whatever the map holds. */
void partstats_forget(struct xc *x, uint32_t part)
{
	struct xchan_partstat_key k = { .part_id = part };

	if (XC_FD(x, M_PARTSTATS) < 0)
		return;
	for (k.reason = 0; k.reason < XR__MAX; k.reason++)
		bpf_map_delete_elem(XC_FD(x, M_PARTSTATS), &k);
}
