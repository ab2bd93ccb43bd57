// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* partition.c: registering a partition (a container of this node, or one another
 * node hosts), removing it with its channels, and listing them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "xc_int.h"

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

static int spec_check(const struct xc_part_spec *s, struct xc_err *e)
{
	uint32_t v;

	if (!s->id)
		return xc_bad(e, "partition add: ID must be a number from 1 to 4294967295");
	if (s->src == XC_SRC_NONE)
		return xc_bad(e, "partition add: give exactly one of --dev, --netns, --pid, --podman, --remote");
	/* names go into log lines, metrics labels and the policy: nothing that could
	 * break a line, a label or a rule */
	if (s->name && (!*s->name || strlen(s->name) >= XCHAN_NAME_LEN ||
			!xc_parse_u32(s->name, &v) || s->name[strspn(s->name, NAME_CHARS)]))
		return xc_bad(e, "partition add: a name must be 1-31 of A-Za-z0-9._- and not a number");
	if (s->src == XC_SRC_NETNS && (strchr(s->src_name, '/') || strlen(s->src_name) > 52))
		return xc_bad(e, "partition add: '%s' is not a netns name", s->src_name);
	if (s->src == XC_SRC_REMOTE && !s->ip)
		return xc_bad(e, "partition add --remote: --ip IPV4 is required");
	return 0;
}

/* A partition that lives on another node: known by address and node, so that the
 * CMM can encapsulate towards it and check where its traffic comes from. */
static int add_remote(struct xc *x, const struct xc_part_spec *s, struct xc_part_added *out,
		      struct xc_err *e)
{
	struct part_rows r;
	struct xchan_node n;
	uint32_t ip;
	int err;

	if (inet_pton(AF_INET, s->ip, &ip) != 1)
		return xc_bad(e, "partition add --remote: --ip IPV4 is required");
	err = xc_open(x, true, e);
	if (err)
		return err;
	if (bpf_map_lookup_elem(XC_FD(x, M_NODES), &s->node, &n))
		return xc_fail(e, -ENOENT, "node %u is not known here (xchan node add)", s->node);
	explicit_bzero(&n, sizeof(n));
	part_rows_remote(&r, s->id, s->name, s->node, ip);
	err = part_rows_add(x, &r, e);
	out->node = s->node;
	out->ip = ip;
	return err;
}

/* Can the container reach the pins? Refused with --strict, else the caller warns. */
static int judge(struct xc *x, const struct xc_part_spec *s, const struct veth *v,
		 struct xc_part_added *out, struct xc_err *e)
{
	struct diagnosis d;

	if (doctor_netns(v->nspath, x->pin_root, &d) || d.v < V_AT_RISK)
		return 0;
	if (s->strict && d.v == V_EXPOSED)
		return xc_fail(e, -EACCES, "partition %u is exposed, refusing (--strict): %s", s->id,
			       d.reasons);
	out->diag = d;
	return 0;
}

static int add_local(struct xc *x, const struct xc_part_spec *s, struct xc_part_added *out,
		     struct xc_err *e)
{
	struct part_rows r;
	struct veth v;
	int err;

	err = veth_find(s, &v, e);
	if (!err)
		err = judge(x, s, &v, out, e);
	if (!err)
		err = xc_open(x, true, e);
	if (err)
		return err;
	if (!strcmp(v.host.name, "lo") || v.host.ifindex == XCHAN_TRUSTED_IFINDEX)
		return xc_fail(e, -EPERM, "refusing to attach to loopback: it is the CMM's trusted path");
	part_rows_local(&r, s->id, s->name, s->isolated ? XCHAN_PART_ISOLATED : 0, &v.host,
			&v.peer, v.nspath);
	err = part_rows_add(x, &r, e);
	if (err)
		return err;
	err = nl_prepare_peer(v.nspath, v.peer.name);
	if (err) {
		xc_fail(e, err, "cannot set GRO/checksum offload of %s in %s: %s", v.peer.name,
			v.nspath, strerror(-err));
		goto undo;
	}
	err = xdp_attach(x, r.meta.ifindex, s->mode, &out->mode);
	if (err) {
		xc_fail(e, err, "cannot attach the CMM to %s: %s", v.host.name, strerror(-err));
		goto undo;
	}
	err = rx_attach(x, r.id, r.meta.ifindex);
	if (err) {
		xc_fail(e, err, "cannot attach the receive side to %s: %s", v.host.name,
			err == -ENOPROTOOPT ? "this instance predates it (xchan down, then add again)" :
			strerror(-err));
		xdp_detach(x, r.meta.ifindex);
		goto undo;
	}
	r.meta.attach_mode = out->mode;
	bpf_map_update_elem(XC_FD(x, M_PARTMETA), &r.id, &r.meta, BPF_EXIST);
	out->ip = v.peer.ip;
	snprintf(out->host_dev, sizeof(out->host_dev), "%s", v.host.name);
	snprintf(out->peer_dev, sizeof(out->peer_dev), "%s", v.peer.name);
	return 0;
undo:
	part_rows_remove(x, r.id, &r.meta);
	return err;
}

int xc_part_add(struct xc *x, const struct xc_part_spec *s, struct xc_part_added *out,
		struct xc_err *e)
{
	int err;

	memset(out, 0, sizeof(*out));
	out->id = s->id;
	snprintf(out->name, sizeof(out->name), "%s", s->name ? s->name : "");
	err = spec_check(s, e);
	if (err)
		return err;
	return s->src == XC_SRC_REMOTE ? add_remote(x, s, out, e) : add_local(x, s, out, e);
}

int xc_part_register(struct xc *x, const struct xc_part_reg *reg, struct xc_err *e)
{
	struct nl_link host = { .ifindex = reg->host_ifindex };
	struct nl_link peer = { .ifindex = reg->peer_ifindex, .ip = reg->ip };
	struct xc_part_spec s = { .id = reg->id, .name = reg->name, .src = XC_SRC_DEV };
	struct part_rows r;
	int err;

	err = spec_check(&s, e);
	if (err)
		return err;
	if (!reg->host_ifindex || reg->host_ifindex == XCHAN_TRUSTED_IFINDEX || !reg->ip)
		return xc_bad(e, "partition %u: a host interface other than loopback and an IPv4 address are required",
			      reg->id);
	err = xc_open(x, true, e);
	if (err)
		return err;
	memcpy(peer.mac, reg->mac, sizeof(peer.mac));
	if (!if_indextoname(reg->host_ifindex, host.name))
		snprintf(host.name, sizeof(host.name), "%u", reg->host_ifindex);
	part_rows_local(&r, reg->id, reg->name, reg->isolated ? XCHAN_PART_ISOLATED : 0, &host,
			&peer, reg->netns ? reg->netns : "");
	return part_rows_add(x, &r, e);
}

struct purge {
	struct xc *x;
	int fd;
	uint32_t id;
	bool locked;	/* slots are freed only under the lock (flow.c) */
};

static int purge_one(const void *key, void *ctx)
{
	const struct xchan_chan_id *id = key;
	struct purge *p = ctx;

	if (id->local_part == p->id || id->remote_part == p->id)
		bpf_map_delete_elem(p->fd, key);
	return 0;
}

/* An entry's slot is freed as the entry goes, with the cache off and the lock held
 * (the purge runs between chg_begin and chg_end): no copy counts into it, and no
 * rebuild of the bitmap runs meanwhile. Without the lock the slot stays taken until
 * the next rebuild finds it free. */
static int purge_slot(const void *key, void *ctx)
{
	const struct xchan_chan_id *id = key;
	struct purge *p = ctx;
	uint32_t ctl;

	if ((id->local_part == p->id || id->remote_part == p->id) &&
	    !chan_ctl_read(p->x, id, &ctl) && !bpf_map_delete_elem(p->fd, key) &&
	    p->locked && XCHAN_CTL_SLOT(ctl) != XCHAN_NO_SLOT)
		slot_free(p->x, XCHAN_CTL_SLOT(ctl));
	return 0;
}

static void purge_chans(struct xc *x, uint32_t id)
{
	static const enum cmm_map chan_maps[] = { M_REPLAY };
	struct purge p = { .x = x, .id = id };
	int lock = chg_begin(x);	/* the cache off until every entry and slot went */

	p.locked = lock != FLOW_NOLOCK;

	for (size_t i = 0; i < sizeof(chan_maps) / sizeof(chan_maps[0]); i++) {
		p.fd = XC_FD(x, chan_maps[i]);
		xc_map_each(p.fd, sizeof(struct xchan_chan_id), purge_one, &p);
	}
	p.fd = XC_FD(x, M_CHANNELS);
	xc_map_each(p.fd, sizeof(struct xchan_chan_id), purge_slot, &p);
	chg_end(x, lock);
}

int xc_part_remove(struct xc *x, uint32_t id, int *detach_err)
{
	struct xchan_part_meta meta;
	int derr = 0;

	if (bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &id, &meta))
		return -ENOENT;
	/* First stop the traffic: keys go before the program and the tables. */
	purge_chans(x, id);
	if (!meta.node_id) {
		int rerr = rx_detach(x, id);

		derr = xdp_detach(x, meta.ifindex);
		derr = derr ? derr : rerr;
	}
	evlimit_forget(x, id);
	partstats_forget(x, id);
	if (detach_err)
		*detach_err = derr;
	part_rows_remove(x, id, &meta);
	/* again: an entry made for id while it was being removed must not outlive it
	 * (a frame identified before its rows went counts after them) */
	purge_chans(x, id);
	partstats_forget(x, id);
	return 0;
}

struct id_list {
	uint32_t *ids;
	size_t n, cap;
};

static int collect_id(const void *key, void *ctx)
{
	struct id_list *l = ctx;
	uint32_t *slot = xc_grow((void **)&l->ids, &l->n, &l->cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	*slot = *(const uint32_t *)key;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void part_info(struct xc *x, uint32_t id, const struct xchan_part_meta *m,
		      struct xc_part_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	pi->id = id;
	pi->meta = *m;
	if (m->node_id) {
		pi->row.ip = part_remote_ip(x, id);
		snprintf(pi->host_dev, sizeof(pi->host_dev), "node:%u", m->node_id);
		pi->xdp = "remote";
		pi->rx = "remote";
		return;
	}
	bpf_map_lookup_elem(XC_FD(x, M_PARTITION), &m->ifindex, &pi->row);
	if (!if_indextoname(m->ifindex, pi->host_dev))
		snprintf(pi->host_dev, sizeof(pi->host_dev), "(gone:%u)", m->ifindex);
	pi->xdp = xc_attached_mode(x, m->ifindex);
	pi->rx = xc_rx_state(x, id, m->ifindex);
}

int xc_part_list(struct xc *x, struct xc_part_info **out, size_t *n, struct xc_err *e)
{
	struct id_list l = {};
	struct xc_part_info *pi = NULL;
	size_t k = 0;
	int err;

	err = xc_map_each(XC_FD(x, M_PARTMETA), sizeof(uint32_t), collect_id, &l);
	if (!err && l.n && !(pi = calloc(l.n, sizeof(*pi))))
		err = -ENOMEM;
	if (err) {
		free(l.ids);
		return xc_fail(e, err, "cannot list partitions: %s", strerror(-err));
	}
	/* sorted by id, for people and for diffs */
	if (l.n)	/* qsort wants a real array, even for nothing */
		qsort(l.ids, l.n, sizeof(*l.ids), cmp_u32);
	for (size_t i = 0; i < l.n; i++) {
		struct xchan_part_meta m;

		if (!bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &l.ids[i], &m))
			part_info(x, l.ids[i], &m, &pi[k++]);
	}
	free(l.ids);
	*out = pi;
	*n = k;
	return 0;
}
