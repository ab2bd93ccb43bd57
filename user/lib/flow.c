// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flow.c: the entries of the same-node fast path (xchan_flows, include/xchan.h,
 * bpf/flow.h). A flow entry copies a channel's two keys and names its receiver; the
 * CMM passes a frame on it alone. So that no entry outlives a key, whoever removes a
 * key removes the entry before and again after (flow_drop), and whoever writes one
 * (flow_sync) reads both keys again after writing and takes the entry back if they
 * changed: an entry written from keys that are going is then removed by one side or
 * the other, whichever runs last. A key that changes without going (a rekey) leaves
 * copies that still agree with each other until the next flow_sync. All of it runs
 * under an exclusive flock on the map's pin, so that a process that dies between its
 * write and its second read cannot leave an entry behind a removal: the removal's
 * second drop waits for the lock, which the dead process released. A removal holds
 * the lock from its first drop until the key is gone (flow_lock, the _held calls), so
 * that no sync fits between them and a removal killed half-way leaves no entry. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "xc_int.h"

/* The flows pin's lock, not the pin root's: a rekey holds that one through its grace
 * period and syncs inside it. -1 (no lock) for a private instance, which one process
 * owns, or when the pin cannot be locked: the second read still holds then. */
int flow_lock(struct xc *x)
{
	char p[600];
	int fd;

	if (!x->cmm.root[0])
		return -1;
	snprintf(p, sizeof(p), "%s/%s", x->cmm.root, cmm_map_names[M_FLOWS]);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void flow_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* The entry's key and the receiver's interface, if sender and receiver are both
 * partitions of this node; -ENOENT otherwise (or in an instance without the table). */
static int flow_key(struct xc *x, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		    struct xchan_flow_key *k, uint32_t *dst_ifindex)
{
	struct xchan_part_meta ms, md;
	struct xchan_partition p;

	if (XC_FD(x, M_FLOWS) < 0 ||
	    bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &src, &ms) || ms.node_id ||
	    bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &dst, &md) || md.node_id ||
	    bpf_map_lookup_elem(XC_FD(x, M_PARTITION), &md.ifindex, &p) || p.part_id != dst)
		return -ENOENT;
	memset(k, 0, sizeof(*k));
	k->src_part = src;
	k->daddr = p.ip;
	k->sport = htons(sport);
	k->dport = htons(dport);
	*dst_ifindex = md.ifindex;
	return 0;
}

void flow_drop_held(struct xc *x, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct xchan_flow_key k;
	uint32_t ifx;

	if (!flow_key(x, src, sport, dst, dport, &k, &ifx))
		bpf_map_delete_elem(XC_FD(x, M_FLOWS), &k);
}

void flow_drop(struct xc *x, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	int lock = flow_lock(x);

	flow_drop_held(x, src, sport, dst, dport);
	flow_unlock(lock);
}

/* Both keys of the channel as they are now; false if either is missing. */
static bool keys_now(struct xc *x, const struct xchan_chan_id *out, const struct xchan_chan_id *in,
		     struct xchan_flow *f)
{
	return !bpf_map_lookup_elem(XC_FD(x, M_KEYS), out, &f->out) &&
	       !bpf_map_lookup_elem(XC_FD(x, M_KEYS), in, &f->in);
}

void flow_sync(struct xc *x, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct xchan_chan_id out, in;
	struct xchan_flow f = {}, now = {};
	struct xchan_flow_key k;
	uint32_t ifx;
	bool done = false;
	int lock;

	if (flow_key(x, src, sport, dst, dport, &k, &ifx))
		return;
	lock = flow_lock(x);
	xchan_chan_id_make(&out, src, sport, dst, dport, XCHAN_DIR_OUT);
	xchan_chan_id_make(&in, dst, dport, src, sport, XCHAN_DIR_IN);
	for (int tries = 0; tries < 3 && !done; tries++) {
		if (!keys_now(x, &out, &in, &f))
			break;
		f.dst_part = dst;
		f.dst_ifindex = ifx;
		/* a full table leaves the channel to the full path, which is all it costs */
		if (bpf_map_update_elem(XC_FD(x, M_FLOWS), &k, &f, BPF_ANY))
			break;
		now.dst_part = dst;
		now.dst_ifindex = ifx;
		done = keys_now(x, &out, &in, &now) && !memcmp(&now, &f, sizeof(f));
	}
	if (!done)
		bpf_map_delete_elem(XC_FD(x, M_FLOWS), &k);
	flow_unlock(lock);
	explicit_bzero(&f, sizeof(f));
	explicit_bzero(&now, sizeof(now));
}

struct flow_purge {
	struct xc *x;
	uint32_t part;
};

static int purge_one(const void *key, void *ctx)
{
	const struct xchan_flow_key *k = key;
	struct flow_purge *p = ctx;
	struct xchan_flow f;

	if (k->src_part == p->part ||
	    (!bpf_map_lookup_elem(XC_FD(p->x, M_FLOWS), key, &f) && f.dst_part == p->part))
		bpf_map_delete_elem(XC_FD(p->x, M_FLOWS), key);
	explicit_bzero(&f, sizeof(f));
	return 0;
}

void flow_purge_held(struct xc *x, uint32_t part)
{
	struct flow_purge p = { x, part };

	if (XC_FD(x, M_FLOWS) >= 0)
		xc_map_each(XC_FD(x, M_FLOWS), sizeof(struct xchan_flow_key), purge_one, &p);
}

void flow_purge(struct xc *x, uint32_t part)
{
	int lock = flow_lock(x);

	flow_purge_held(x, part);
	flow_unlock(lock);
}
