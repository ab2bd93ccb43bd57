// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* stats.c: what the maps say, for reading: counters per reason and per channel,
 * audit events from the ring buffer, and the instance's status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xc_int.h"

static const char *const event_kinds[] = {
	[XCHAN_E_DROP] = "drop", [XCHAN_E_SPOOF] = "spoof",
	[XCHAN_E_CONNECT_REFUSED] = "connect_refused", [XCHAN_E_EXCLUSION] = "exclusion_conflict",
	[XCHAN_E_CTRL_UNTRUSTED] = "control_from_partition", [XCHAN_E_ESTABLISHED] = "established",
	[XCHAN_E_CLOSED] = "closed", [XCHAN_E_BAD_ORIGIN] = "bad_origin",
	[XCHAN_E_BAD_AUTH] = "bad_auth", [XCHAN_E_REPLAY] = "replay",
	[XCHAN_E_RX_REFUSED] = "receive_refused", [XCHAN_E_REKEYED] = "rekeyed",
};

const char *xc_event_kind_name(uint32_t kind)
{
	return kind < sizeof(event_kinds) / sizeof(event_kinds[0]) && event_kinds[kind] ?
	       event_kinds[kind] : "unknown";
}

const char *xc_reason_name(uint32_t reason)
{
	return reason < XR__MAX ? xchan_reason_names[reason] : "unknown reason";
}

void xc_stats_reasons(struct xc *x, struct xchan_counter out[XR__MAX], bool have[XR__MAX])
{
	for (uint32_t r = 0; r < XR__MAX; r++)
		have[r] = !cmm_percpu_sum(XC_FD(x, M_STATS), &r, &out[r], sizeof(out[r]));
}

struct stat_list {
	struct xc *x;
	struct xc_chan_stat *v;
	size_t n, cap;
};

static int stat_one(const void *key, void *ctx)
{
	struct stat_list *l = ctx;
	const struct xchan_chan_id *id = key;
	struct xc_chan_stat *s;

	if (id->dir != XCHAN_DIR_IN)
		return 0;	/* a channel is counted at its receiver */
	s = xc_grow((void **)&l->v, &l->n, &l->cap, sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(&s->id, key, sizeof(s->id));
	if (chan_counted(l->x, key, &s->c))
		l->n--;		/* gone meanwhile */
	return 0;
}

int xc_stats_channels(struct xc *x, struct xc_chan_stat **out, size_t *n, struct xc_err *e)
{
	struct stat_list l = { .x = x };
	int err = xc_map_each(XC_FD(x, M_CHANNELS), sizeof(struct xchan_chan_id), stat_one, &l);

	if (err) {
		free(l.v);
		return xc_fail(e, err, "cannot read channel counters: %s", strerror(-err));
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

struct xc_events {
	struct ring_buffer *rb;
	xc_event_fn fn;
	void *ctx;
};

static int on_sample(void *ctx, void *data, size_t len)
{
	struct xc_events *ev = ctx;

	if (len < sizeof(struct xchan_event))
		return 0;
	return ev->fn(ev->ctx, data);
}

int xc_events_open(struct xc *x, xc_event_fn fn, void *ctx, struct xc_events **out,
		   struct xc_err *e)
{
	struct xc_events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return xc_fail(e, -ENOMEM, "cannot read the event ring: %s", strerror(ENOMEM));
	ev->fn = fn;
	ev->ctx = ctx;
	ev->rb = ring_buffer__new(XC_FD(x, M_EVENTS), on_sample, ev, NULL);
	if (!ev->rb) {
		int err = -errno;

		free(ev);
		return xc_fail(e, err, "cannot read the event ring: %s", strerror(-err));
	}
	*out = ev;
	return 0;
}

int xc_events_poll(struct xc_events *ev, int ms)
{
	return ring_buffer__poll(ev->rb, ms);
}

void xc_events_close(struct xc_events *ev)
{
	if (!ev)
		return;
	ring_buffer__free(ev->rb);
	free(ev);
}

static int count_one(const void *key, void *ctx)
{
	(*(uint32_t *)ctx)++;
	return 0;
}

static void map_status(struct xc *x, int i, struct xc_map_status *ms)
{
	struct bpf_map_info mi = {};
	uint32_t ml = sizeof(mi);

	bpf_obj_get_info_by_fd(XC_FD(x, i), &mi, &ml);
	ms->name = cmm_map_names[i];
	ms->id = mi.id;
	ms->max_entries = mi.max_entries;
	ms->countable = mi.type == BPF_MAP_TYPE_HASH || mi.type == BPF_MAP_TYPE_PERCPU_HASH ||
			mi.type == BPF_MAP_TYPE_DEVMAP_HASH || mi.type == BPF_MAP_TYPE_LRU_HASH;
	ms->entries = 0;
	if (ms->countable)
		xc_map_each(XC_FD(x, i), mi.key_size, count_one, &ms->entries);
}

struct att_list {
	struct xc *x;
	struct xc_status *st;
	size_t cap;
};

static int attach_one(const void *key, void *ctx)
{
	struct att_list *l = ctx;
	struct xc *x = l->x;
	struct xc_attach_status *a;
	struct xchan_part_meta m;

	if (bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), key, &m) || m.node_id)
		return 0;	/* another node's partitions are attached there */
	a = xc_grow((void **)&l->st->att, &l->st->natt, &l->cap, sizeof(*a));
	if (!a)
		return -ENOMEM;
	memset(a, 0, sizeof(*a));
	a->part = *(const uint32_t *)key;
	a->ifindex = m.ifindex;
	if (!if_indextoname(m.ifindex, a->dev))
		snprintf(a->dev, sizeof(a->dev), "?");
	a->mode = xc_attached_mode(x, m.ifindex);
	a->rx = xc_rx_state(x, a->part, m.ifindex);
	return 0;
}

int xc_status(struct xc *x, struct xc_status *st, struct xc_err *e)
{
	struct bpf_prog_info pi = {};
	uint32_t len = sizeof(pi);
	struct att_list ctx = { .x = x, .st = st };
	int err;

	memset(st, 0, sizeof(*st));
	bpf_obj_get_info_by_fd(x->cmm.prog_fd, &pi, &len);
	st->prog_id = pi.id;
	for (int i = 0; i < M__N; i++)
		map_status(x, i, &st->maps[i]);
	xc_config_read(x, &st->cfg);
	snprintf(st->uplink, sizeof(st->uplink), "-");
	if (st->cfg.uplink_ifindex)
		if_indextoname(st->cfg.uplink_ifindex, st->uplink);
	st->uplink_xdp = st->cfg.uplink_ifindex ? xc_attached_mode(x, st->cfg.uplink_ifindex) : "none";
	err = xc_map_each(XC_FD(x, M_PARTMETA), sizeof(uint32_t), attach_one, &ctx);
	if (err) {
		xc_status_free(st);
		return xc_fail(e, err, "cannot read the attachments: %s", strerror(-err));
	}
	return 0;
}

void xc_status_free(struct xc_status *st)
{
	free(st->att);
	st->att = NULL;
	st->natt = 0;
}
