// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* rows.c: the one place that knows a partition's rows: building them, checking them
 * against what is registered, writing them in order and removing them in reverse. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "xc_int.h"

void part_rows_local(struct part_rows *r, uint32_t id, const char *name, uint32_t flags,
		     const struct nl_link *host, const struct nl_link *peer, const char *nspath)
{
	uint32_t ifindex = host->ifindex;

	memset(r, 0, sizeof(*r));
	snprintf(r->host_dev, sizeof(r->host_dev), "%s", host->name);
	snprintf(r->peer_dev, sizeof(r->peer_dev), "%s", peer->name);
	r->id = id;
	snprintf(r->meta.name, sizeof(r->meta.name), "%s", name ? name : "");
	r->meta.ifindex = ifindex;
	r->meta.peer_ifindex = peer->ifindex;
	r->meta.flags = flags;
	snprintf(r->meta.netns, sizeof(r->meta.netns), "%s", nspath);
	r->part.part_id = id;
	r->part.ip = peer->ip;
	memcpy(r->part.mac, peer->mac, 6);
	r->part.flags = flags;
	r->addr.part_id = id;
	r->addr.ifindex = ifindex;
	memcpy(r->addr.mac, peer->mac, 6);
	r->addr.flags = flags;
	r->ip = peer->ip;
}

void part_rows_remote(struct part_rows *r, uint32_t id, const char *name, uint32_t node,
		      uint32_t ip)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	snprintf(r->meta.name, sizeof(r->meta.name), "%s", name ? name : "");
	r->meta.node_id = node;
	r->addr.part_id = id;
	r->addr.node_id = node;
	r->ip = ip;
}

static int nrows(const struct part_rows *r)
{
	return r->meta.node_id ? 2 : 5;
}

/* The partition row: the hash by ifindex and, for the ifindexes it covers, the CMM's
 * array of the same rows (xchan_ifpart; none in an instance older than it). The CMM
 * trusts the array where it covers: written last, removed first. */
static int part_row_op(struct xc *x, const struct part_rows *r, bool del)
{
	struct xchan_partition none = {};
	struct bpf_map_info mi = {};
	uint32_t ifx = r->meta.ifindex, ml = sizeof(mi);
	int afd = XC_FD(x, M_IFPART), err;
	bool arr = afd >= 0 && !bpf_obj_get_info_by_fd(afd, &mi, &ml) && ifx < mi.max_entries;

	if (del) {
		if (arr && bpf_map_update_elem(afd, &ifx, &none, BPF_ANY))
			return -1;
		return bpf_map_delete_elem(XC_FD(x, M_PARTITION), &ifx);
	}
	err = bpf_map_update_elem(XC_FD(x, M_PARTITION), &ifx, &r->part, BPF_NOEXIST);
	if (err || !arr)
		return err;
	if (bpf_map_update_elem(afd, &ifx, &r->part, BPF_ANY)) {
		err = errno;
		bpf_map_delete_elem(XC_FD(x, M_PARTITION), &ifx);
		errno = err;
		return -1;
	}
	return 0;
}

/* Row i of r: written (BPF_NOEXIST where a clash is a conflict) or deleted. */
static int row_op(struct xc *x, const struct part_rows *r, int i, bool del)
{
	struct xchan_mac_key mk = {};
	uint32_t ifx = r->meta.ifindex;

	memcpy(mk.mac, r->part.mac, 6);
	switch (i) {
	case 0:
		return del ? bpf_map_delete_elem(XC_FD(x, M_PARTMETA), &r->id) :
		       bpf_map_update_elem(XC_FD(x, M_PARTMETA), &r->id, &r->meta, BPF_NOEXIST);
	case 1:
		return del ? bpf_map_delete_elem(XC_FD(x, M_ADDRS), &r->ip) :
		       bpf_map_update_elem(XC_FD(x, M_ADDRS), &r->ip, &r->addr, BPF_NOEXIST);
	case 2:
		return del ? bpf_map_delete_elem(XC_FD(x, M_DEVMAP), &ifx) :
		       bpf_map_update_elem(XC_FD(x, M_DEVMAP), &ifx, &ifx, BPF_ANY);
	case 3:
		return del ? bpf_map_delete_elem(XC_FD(x, M_MACS), &mk) :
		       bpf_map_update_elem(XC_FD(x, M_MACS), &mk, &r->id, BPF_NOEXIST);
	default:
		return part_row_op(x, r, del);
	}
}

static int part_rows_write(struct xc *x, const struct part_rows *r, struct xc_err *e)
{
	int n = nrows(r);

	/* no copy in the flow cache from an earlier partition of this id counts */
	cache_forget(x);
	for (int i = 0; i < n; i++) {
		if (!row_op(x, r, i, false))
			continue;
		xc_fail(e, -errno, "cannot register partition %u: %s", r->id, strerror(errno));
		while (i--)
			row_op(x, r, i, true);
		return -EIO;
	}
	return 0;
}

static int has_part(const void *key, void *ctx)
{
	const struct xchan_chan_id *id = key;
	uint32_t part = *(const uint32_t *)ctx;

	return id->local_part == part || id->remote_part == part;
}

/* Entries naming id in a channel table, left by a removed partition of that id. */
static bool id_has_entries(struct xc *x, uint32_t id)
{
	static const enum cmm_map maps[] = { M_REPLAY, M_CHANNELS };

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (xc_map_each(XC_FD(x, maps[i]), sizeof(struct xchan_chan_id), has_part, &id) > 0)
			return true;
	return false;
}

/* Every conflict with what is registered, before anything is written. */
static int part_rows_check(struct xc *x, const struct part_rows *r, struct xc_err *e)
{
	struct xchan_part_meta meta;
	struct xchan_address addr;
	struct xchan_mac_key mk = {};
	struct xchan_partition p;
	char buf[INET_ADDRSTRLEN];
	uint32_t id, ifx = r->meta.ifindex;

	if (!bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &r->id, &meta))
		return xc_fail(e, -EEXIST, "partition %u exists already (%s)", r->id, meta.name);
	if (id_has_entries(x, r->id))	/* never hand them to a new partition */
		return xc_fail(e, -ENOTEMPTY, "partition id %u still has channel entries of a removed partition: use another id",
			       r->id);
	if (r->meta.name[0] && !xc_part_find(x, r->meta.name, &id, NULL))
		return xc_fail(e, -EEXIST, "partition name '%s' is taken", r->meta.name);
	if (!r->meta.node_id && !bpf_map_lookup_elem(XC_FD(x, M_PARTITION), &ifx, &p))
		return xc_fail(e, -EEXIST, "interface %s is registered already", r->host_dev);
	if (!bpf_map_lookup_elem(XC_FD(x, M_ADDRS), &r->ip, &addr))
		return xc_fail(e, -EEXIST, "address %s belongs to partition %u already",
			       xc_ip_str(r->ip, buf), addr.part_id);
	memcpy(mk.mac, r->part.mac, 6);
	if (!r->meta.node_id && !bpf_map_lookup_elem(XC_FD(x, M_MACS), &mk, &id))
		return xc_fail(e, -EEXIST, "MAC of %s belongs to partition %u already", r->peer_dev, id);
	return 0;
}

int part_rows_add(struct xc *x, const struct part_rows *r, struct xc_err *e)
{
	int err = part_rows_check(x, r, e);

	return err ? err : part_rows_write(x, r, e);
}

struct addr_of {
	struct xc *x;
	uint32_t id, ip;
};

static int match_addr(const void *key, void *ctx)
{
	struct addr_of *a = ctx;
	struct xchan_address ad;

	if (bpf_map_lookup_elem(XC_FD(a->x, M_ADDRS), key, &ad) || ad.part_id != a->id)
		return 0;
	a->ip = *(const uint32_t *)key;
	return 1;
}

/* A remote partition is known by its address only: find it (0 if none). */
uint32_t part_remote_ip(struct xc *x, uint32_t id)
{
	struct addr_of a = { .x = x, .id = id };

	xc_map_each(XC_FD(x, M_ADDRS), sizeof(uint32_t), match_addr, &a);
	return a.ip;
}

void part_rows_remove(struct xc *x, uint32_t id, const struct xchan_part_meta *meta)
{
	struct part_rows r = { .id = id, .meta = *meta };
	int n = nrows(&r);

	if (meta->node_id) {
		r.ip = part_remote_ip(x, id);
	} else if (!bpf_map_lookup_elem(XC_FD(x, M_PARTITION), &meta->ifindex, &r.part)) {
		r.ip = r.part.ip;
	} else {
		n = 3;	/* half-registered: no partition row to say its address and MAC */
		r.ip = 0;
	}
	for (int i = n - 1; i >= 0; i--)
		if (i != 1 || r.ip)
			row_op(x, &r, i, true);
}
