// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flow.c: the entries of the same-node fast path (xchan_flows, include/xchan.h,
 * bpf/flow.h). A flow entry holds a channel's key as each side holds it, resolved
 * from its two key entries as the full path's keys_agree would, and names its
 * receiver; the CMM passes a frame on it alone. So that no entry outlives a key,
 * whoever removes a key removes the entry before and again after (flow_drop), and
 * whoever writes one (flow_sync) reads both keys again after writing and takes the
 * entry back if they changed: an entry written from keys that are going is then
 * removed by one side or the other, whichever runs last. A key that changes without
 * going (a rekey) leaves copies that still agree with each other until the next
 * flow_sync. All of it runs under an exclusive flock on the map's pin, so that a
 * process that dies between its write and its second read cannot leave an entry
 * behind a removal: the removal's second drop waits for the lock, which the dead
 * process released. A removal holds the lock from its first drop until the key is
 * gone (flow_lock, the _held calls), so that no sync fits between them and a removal
 * killed half-way leaves no entry.
 *
 * Each entry names a slot of xchan_flowstats, where the datapath counts the frames
 * it passes. Slots are bits of xchan_flowalloc, taken under the same lock and zeroed
 * when taken. When an entry goes, its slot's counts are first added to the
 * channel's xchan_chancount row, then the entry is deleted and the bit cleared: a
 * process killed in between leaves the channel counted twice, never less, so its
 * counters (row plus slot, flow_counted) only grow. Readers do not take the lock:
 * a sequence word, odd while a removal runs, tells them to read again. A slot lost
 * by a process killed between taking it and writing its entry is found again when
 * none is left: the bitmap is then rebuilt from the entries. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xc_int.h"

/* This thread holds the table's lock (or owns a private instance): a removal may
 * then fold counts and move the sequence; one without it only deletes. */
static __thread bool flows_held;

/* The removal's sequence (word 1): odd while it runs. A holder of the lock that finds
 * it odd took over from one that died in a removal, whose steps are all done or
 * harmless by then: it makes it even. */
static void seq_bump(struct cmm *c)
{
	if (c->flowslots)
		__atomic_fetch_add(&c->flowslots[1], 1, __ATOMIC_ACQ_REL);
}

/* The same word moved by two, after an entry is written, or removed without the
 * lock: its parity (a removal by the lock's holder running) unchanged, but no copy
 * that the CMM's flow cache made before counts any more (bpf/flow.h), and readers
 * read again. */
static void seq_move(struct cmm *c)
{
	if (c->flowslots)
		__atomic_fetch_add(&c->flowslots[1], 2, __ATOMIC_ACQ_REL);
}

static uint64_t seq_read(const struct cmm *c)
{
	return __atomic_load_n(&c->flowslots[1], __ATOMIC_ACQUIRE);
}

/* The flows pin's lock, not the pin root's: a rekey holds that one through its grace
 * period and syncs inside it. FLOW_UNLOCKED for a private instance, which one
 * process owns; FLOW_NOLOCK when the pin cannot be locked: a removal goes on
 * without it (its second drop still holds), a sync writes nothing (the channel keeps
 * the full path rather than risk an entry that a removal killed half-way misses). */
int flow_lock(struct xc *x)
{
	char p[600];
	int fd;

	if (x->cmm.root[0]) {
		snprintf(p, sizeof(p), "%s/%s", x->cmm.root, cmm_map_names[M_FLOWS]);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX)) {
			close(fd);
			fd = -1;
		}
		if (fd < 0)
			return FLOW_NOLOCK;
	} else {
		fd = FLOW_UNLOCKED;
	}
	/* only removals under the lock move it: odd here, one of them died mid-way */
	if (x->cmm.flowslots && (seq_read(&x->cmm) & 1))
		seq_bump(&x->cmm);
	flows_held = true;
	return fd;
}

void flow_unlock(int fd)
{
	flows_held = false;
	if (fd >= 0)
		close(fd);
}

/* Partition id: registered on this node (local), and, if need_row, whether its
 * host-side interface's row names it (row), with that interface and the address.
 * Through the listing's cache pc if any, which always looks the row up. */
static void part_here(struct xc *x, uint32_t id, bool need_row, bool *local, bool *row,
		      uint32_t *ifindex, __be32 *ip, struct flow_pcache *pc)
{
	struct xchan_part_meta m;
	struct xchan_partition p = {};
	unsigned int i = id % FLOW_PCACHE;

	if (pc && pc->e[i].have && pc->e[i].id == id) {
		*local = pc->e[i].local;
		*row = pc->e[i].row;
		*ifindex = pc->e[i].ifindex;
		*ip = pc->e[i].ip;
		return;
	}
	*local = !bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &id, &m) && !m.node_id;
	*row = *local && (need_row || pc) &&
	       !bpf_map_lookup_elem(XC_FD(x, M_PARTITION), &m.ifindex, &p) && p.part_id == id;
	*ifindex = *row ? m.ifindex : 0;
	*ip = *row ? p.ip : 0;
	if (pc) {
		pc->e[i].id = id;
		pc->e[i].have = true;
		pc->e[i].local = *local;
		pc->e[i].row = *row;
		pc->e[i].ifindex = *ifindex;
		pc->e[i].ip = *ip;
	}
}

/* The entry's key and the receiver's interface, if sender and receiver are both
 * partitions of this node; -ENOENT otherwise (or in an instance without the table). */
static int flow_key(struct xc *x, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		    struct xchan_flow_key *k, uint32_t *dst_ifindex, struct flow_pcache *pc)
{
	bool slocal, srow, dlocal, drow;
	uint32_t sifx;
	__be32 sip, dip;

	if (XC_FD(x, M_FLOWS) < 0)
		return -ENOENT;
	part_here(x, src, false, &slocal, &srow, &sifx, &sip, pc);
	if (!slocal)
		return -ENOENT;
	part_here(x, dst, true, &dlocal, &drow, dst_ifindex, &dip, pc);
	if (!dlocal || !drow)
		return -ENOENT;
	memset(k, 0, sizeof(*k));
	k->src_part = src;
	k->daddr = dip;
	k->sport = htons(sport);
	k->dport = htons(dport);
	return 0;
}

static uint64_t *slot_words(struct cmm *c)
{
	return c->flowslots + XCHAN_FLOWSLOT_BITS;
}

/* A free slot, its bit set; -ENOSPC when every slot is some entry's. Under the lock;
 * the bits change atomically all the same (a removal that could not take the lock
 * clears its bit without it). */
static int slot_take(struct cmm *c, uint32_t *slot)
{
	uint64_t *w = slot_words(c);
	uint32_t nw = (c->nflowslots + 63) / 64, start = c->flowslots[0] % nw;

	for (uint32_t i = 0; i < nw; i++) {
		uint32_t k = (start + i) % nw;
		uint64_t freebits = ~__atomic_load_n(&w[k], __ATOMIC_ACQUIRE);

		while (freebits) {
			uint32_t b = (uint32_t)__builtin_ctzll(freebits), s = k * 64 + b;

			freebits &= freebits - 1;
			if (s >= c->nflowslots)
				break;
			if (__atomic_fetch_or(&w[k], 1ULL << b, __ATOMIC_ACQ_REL) & (1ULL << b))
				continue;
			c->flowslots[0] = k;
			*slot = s;
			return 0;
		}
	}
	return -ENOSPC;
}

static void slot_give(struct cmm *c, uint32_t slot)
{
	if (c->flowslots && slot < c->nflowslots)
		__atomic_fetch_and(&slot_words(c)[slot / 64], ~(1ULL << (slot % 64)),
				   __ATOMIC_ACQ_REL);
}

static int mark_used(const void *key, void *ctx)
{
	struct xc *x = ctx;
	struct xchan_flow f;

	if (!bpf_map_lookup_elem(XC_FD(x, M_FLOWS), key, &f) && f.slot < x->cmm.nflowslots)
		__atomic_fetch_or(&slot_words(&x->cmm)[f.slot / 64], 1ULL << (f.slot % 64),
				  __ATOMIC_ACQ_REL);
	explicit_bzero(&f, sizeof(f));
	return 0;
}

/* A zeroed slot for a new entry. When none is free, the bitmap is made again from
 * the entries (slots leaked by a process that died holding one come back). */
static int slot_alloc(struct xc *x, uint32_t *slot)
{
	struct cmm *c = &x->cmm;
	int ncpu = libbpf_num_possible_cpus();
	void *zero;
	int err;

	if (!c->flowslots || ncpu < 1)
		return -ENOENT;
	if (slot_take(c, slot)) {
		memset(slot_words(c), 0, ((c->nflowslots + 63) / 64) * 8);
		xc_map_each(XC_FD(x, M_FLOWS), sizeof(struct xchan_flow_key), mark_used, x);
		if (slot_take(c, slot))
			return -ENOSPC;
	}
	zero = calloc(ncpu, sizeof(struct xchan_counter));
	err = zero && !bpf_map_update_elem(XC_FD(x, M_FLOWSTATS), slot, zero, BPF_ANY) ? 0 : -ENOMEM;
	free(zero);
	if (err)
		slot_give(c, *slot);
	return err;
}

/* The slot's counts go to the channel's row, per CPU (a read, the sum, a write: an
 * increment of the row by the full path in between is lost; the row is the full
 * path's, which a channel with an entry rarely takes). */
static void slot_fold(struct xc *x, const struct xchan_flow_key *k, const struct xchan_flow *f)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xchan_counter *sv = NULL;
	struct xchan_chan_counter *rv = NULL;
	struct xchan_chan_id in;

	xchan_chan_id_make(&in, f->dst_part, ntohs(k->dport), k->src_part, ntohs(k->sport),
			   XCHAN_DIR_IN);
	if (ncpu > 0 && (sv = calloc(ncpu, sizeof(*sv))) && (rv = calloc(ncpu, sizeof(*rv))) &&
	    !bpf_map_lookup_elem(XC_FD(x, M_FLOWSTATS), &f->slot, sv) &&
	    !bpf_map_lookup_elem(XC_FD(x, M_CHANCOUNT), &in, rv)) {
		for (int cpu = 0; cpu < ncpu; cpu++) {
			rv[cpu].packets += sv[cpu].packets;
			rv[cpu].bytes += sv[cpu].bytes;
		}
		bpf_map_update_elem(XC_FD(x, M_CHANCOUNT), &in, rv, BPF_EXIST);
	}
	free(sv);
	free(rv);
}

/* Removes the entry at k, if any: its counts into the row, then the entry, then its
 * bit. The frames the slot counts between the fold and the delete are not kept;
 * without the lock, nor are the slot's counts (the sequence is the lock holders').
 * In an instance made before the slots (another entry layout) it only deletes. */
static void entry_remove(struct xc *x, const struct xchan_flow_key *k)
{
	struct xchan_flow f;
	bool slotted;

	if (x->cmm.flows_vsize != sizeof(f)) {
		bpf_map_delete_elem(XC_FD(x, M_FLOWS), k);
		return;
	}
	memset(&f, 0, sizeof(f));
	if (bpf_map_lookup_elem(XC_FD(x, M_FLOWS), k, &f))
		return;
	slotted = x->cmm.flowslots && f.slot < x->cmm.nflowslots;
	if (slotted && flows_held) {
		seq_bump(&x->cmm);
		slot_fold(x, k, &f);
	}
	if (!bpf_map_delete_elem(XC_FD(x, M_FLOWS), k) && slotted)
		slot_give(&x->cmm, f.slot);
	if (slotted && flows_held)
		seq_bump(&x->cmm);
	else
		seq_move(&x->cmm);
	explicit_bzero(&f, sizeof(f));
}

void flow_drop_held(struct xc *x, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct xchan_flow_key k;
	uint32_t ifx;

	if (!flow_key(x, src, sport, dst, dport, &k, &ifx, NULL))
		entry_remove(x, &k);
	/* whether or not there was an entry: one may have gone without the sequence
	 * moving (a removal killed between its delete and the move, an operator's
	 * delete), and a CPU may still hold its copy; a removal runs this before and
	 * after its keys go, so the second moves it after they are gone */
	seq_move(&x->cmm);
}

void flow_drop(struct xc *x, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	int lock = flow_lock(x);

	flow_drop_held(x, src, sport, dst, dport);
	flow_unlock(lock);
}

/* The channel's key as both entries hold it now, as keys_agree (bpf/verify.h) finds
 * it: OUT's current slot, and IN's slot of that id holding that id; false if either
 * entry is missing, or they do not agree. */
static bool keys_now(struct xc *x, const struct xchan_chan_id *out, const struct xchan_chan_id *in,
		     struct xchan_flow *f)
{
	struct xchan_key ko, ki;
	unsigned int so, si;
	uint8_t diff = 0;
	bool ok = false;

	if (bpf_map_lookup_elem(XC_FD(x, M_KEYS), out, &ko) ||
	    bpf_map_lookup_elem(XC_FD(x, M_KEYS), in, &ki))
		goto out;
	so = ko.cur & 1;
	if (!(ko.valid & (1U << so)))
		goto out;
	f->kid = ko.kid[so];
	si = XCHAN_KEY_SLOT(f->kid);
	if (!(ki.valid & (1U << si)) || ki.kid[si] != f->kid)
		goto out;
	for (int i = 0; i < XCHAN_KEY_LEN; i++)
		diff |= ko.key[so][i] ^ ki.key[si][i];
	if (diff)
		goto out;
	memcpy(f->out_key, ko.key[so], XCHAN_KEY_LEN);
	memcpy(f->in_key, ki.key[si], XCHAN_KEY_LEN);
	ok = true;
out:
	explicit_bzero(&ko, sizeof(ko));
	explicit_bzero(&ki, sizeof(ki));
	return ok;
}

void flow_sync(struct xc *x, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct xchan_chan_id out, in;
	struct xchan_flow f = {}, now = {}, old;
	struct xchan_flow_key k;
	uint32_t ifx, slot;
	bool done = false, fresh = false, have;
	int lock;

	if (flow_key(x, src, sport, dst, dport, &k, &ifx, NULL))
		return;
	lock = flow_lock(x);
	/* an instance without the slots runs a program that reads entries of another
	 * layout: it gets none from this agent */
	if (!x->cmm.flowslots)
		goto out;
	if (lock == FLOW_NOLOCK) {
		entry_remove(x, &k);	/* what it held may be what changed */
		goto out;
	}
	/* a rekey keeps the entry's slot; an entry of another receiver at this key (a
	 * partition gone without its purge) is removed first */
	have = !bpf_map_lookup_elem(XC_FD(x, M_FLOWS), &k, &old);
	if (have && old.dst_part == dst && old.slot < x->cmm.nflowslots) {
		slot = old.slot;
	} else {
		if (have)
			entry_remove(x, &k);
		/* no slot left: the full path, which counts in the row */
		if (slot_alloc(x, &slot))
			goto out;
		fresh = true;
	}
	xchan_chan_id_make(&out, src, sport, dst, dport, XCHAN_DIR_OUT);
	xchan_chan_id_make(&in, dst, dport, src, sport, XCHAN_DIR_IN);
	for (int tries = 0; tries < 3 && !done; tries++) {
		if (!keys_now(x, &out, &in, &f))
			break;
		f.dst_part = dst;
		f.dst_ifindex = ifx;
		f.slot = slot;
		/* a full table leaves the channel to the full path, which is all it costs */
		if (bpf_map_update_elem(XC_FD(x, M_FLOWS), &k, &f, BPF_ANY))
			break;
		seq_move(&x->cmm);	/* no CPU keeps a copy of what it replaced */
		now.dst_part = dst;
		now.dst_ifindex = ifx;
		now.slot = slot;
		done = keys_now(x, &out, &in, &now) && !memcmp(&now, &f, sizeof(f));
	}
	if (!done) {
		if (!bpf_map_lookup_elem(XC_FD(x, M_FLOWS), &k, &old))
			entry_remove(x, &k);
		else if (fresh)
			slot_give(&x->cmm, slot);
	}
out:
	flow_unlock(lock);
	explicit_bzero(&f, sizeof(f));
	explicit_bzero(&now, sizeof(now));
	explicit_bzero(&old, sizeof(old));
}

struct flow_purge {
	struct xc *x;
	uint32_t part;
};

/* The receiver an entry names, in this layout or in the one before the slots (two
 * 40-byte key entries, then dst_part); false if it cannot be read. */
static bool entry_dst(struct xc *x, const void *key, uint32_t *dst)
{
	uint8_t v[128];
	size_t at = x->cmm.flows_vsize == sizeof(struct xchan_flow) ?
		    offsetof(struct xchan_flow, dst_part) : 2 * sizeof(struct xchan_key);
	bool ok = x->cmm.flows_vsize <= sizeof(v) && at + 4 <= x->cmm.flows_vsize &&
		  !bpf_map_lookup_elem(XC_FD(x, M_FLOWS), key, v);

	if (ok)
		memcpy(dst, v + at, 4);
	explicit_bzero(v, sizeof(v));
	return ok;
}

static int purge_one(const void *key, void *ctx)
{
	const struct xchan_flow_key *k = key;
	struct flow_purge *p = ctx;
	uint32_t dst;

	/* an entry it cannot read goes too: it is only a shortcut */
	if (k->src_part == p->part || !entry_dst(p->x, key, &dst) || dst == p->part)
		entry_remove(p->x, k);
	return 0;
}

void flow_purge_held(struct xc *x, uint32_t part)
{
	struct flow_purge p = { x, part };

	if (XC_FD(x, M_FLOWS) >= 0)
		xc_map_each(XC_FD(x, M_FLOWS), sizeof(struct xchan_flow_key), purge_one, &p);
	seq_move(&x->cmm);	/* as flow_drop_held */
}

void flow_purge(struct xc *x, uint32_t part)
{
	int lock = flow_lock(x);

	flow_purge_held(x, part);
	flow_unlock(lock);
}

/* Row plus slot, as they are. */
static int counted_now(struct xc *x, const struct xchan_chan_id *in, const struct xchan_flow_key *k,
		       struct xchan_chan_counter *c)
{
	struct xchan_counter sum = {};
	struct xchan_flow f;
	int err = cmm_percpu_sum(XC_FD(x, M_CHANCOUNT), in, c, sizeof(*c));

	if (!err && !bpf_map_lookup_elem(XC_FD(x, M_FLOWS), k, &f) &&
	    f.dst_part == in->local_part &&
	    !cmm_percpu_sum(XC_FD(x, M_FLOWSTATS), &f.slot, &sum, sizeof(sum))) {
		c->packets += sum.packets;
		c->bytes += sum.bytes;
	}
	explicit_bzero(&f, sizeof(f));
	return err;
}

/* A channel's counters: its IN entry's row, plus what its flow entry counted (its
 * slot). Read between two equal, even values of the removals' sequence, so that a
 * fold of the slot into the row is seen whole or not at all; under the lock if
 * removals keep coming. */
int flow_counted(struct xc *x, const struct xchan_chan_id *in, struct xchan_chan_counter *c,
		 struct flow_pcache *pc)
{
	struct xchan_flow_key k;
	uint32_t ifx;
	int lock, err;

	if (!x->cmm.flowslots || in->dir != XCHAN_DIR_IN ||
	    flow_key(x, in->remote_part, in->remote_ep, in->local_part, in->local_ep, &k, &ifx, pc))
		return cmm_percpu_sum(XC_FD(x, M_CHANCOUNT), in, c, sizeof(*c));
	for (int tries = 0; tries < 4; tries++) {
		uint64_t s0 = seq_read(&x->cmm);

		if (s0 & 1)
			continue;
		err = counted_now(x, in, &k, c);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (seq_read(&x->cmm) == s0)
			return err;
	}
	lock = flow_lock(x);
	err = counted_now(x, in, &k, c);
	flow_unlock(lock);
	return err;
}
