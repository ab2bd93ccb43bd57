// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flow.c: what the agent owes the same-node fast path (bpf/flow.h) and the channels'
 * counter slots (include/xchan.h).
 *
 * The CMM's flow cache keeps, per CPU, what the full path found for a frame's key; a
 * copy counts only while the change sequence (word 1 of xchan_slotalloc) holds the
 * value read before the full path's lookups, and none is made or used while the
 * sequence is odd. A writer that removes or changes a key, or removes a channel
 * entry, does so under the lock between two increments by one (chg_begin, chg_end):
 * a copy made from a key that is going is no longer used once it is gone, and a
 * process that dies between the two leaves the cache off (odd) rather than stale,
 * until the next holder of the lock makes it even. Other moves are by two
 * (cache_forget, the CMM's own REKEY and CLOSE), which keeps the parity.
 *
 * Every IN entry, and every OUT entry towards another node, names a slot of
 * xchan_counts, where the CMM counts the channel's frames (atomically, one slot for
 * all CPUs). Slots are bits of xchan_slotalloc, taken under an flock on that map's
 * pin together with the insert of the entry that names them, zeroed when taken, and
 * cleared after the entry is removed (and the sequence moved, so that no copy still
 * counts into it). A slot lost by a process killed between taking it and the
 * insert, or between the removal and the clear, is found again when none is left:
 * the bitmap is then made again, under the lock, from the entries. The same lock
 * serializes the agent's writes of IN entries (connect, close, rekey): each reads
 * the entry and writes it back whole. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xc_int.h"

static void seq_add(struct xc *x, uint64_t n)
{
	if (x->cmm.flowslots)
		__atomic_fetch_add(&x->cmm.flowslots[1], n, __ATOMIC_ACQ_REL);
}

void cache_forget(struct xc *x)
{
	seq_add(x, 2);
}

int flow_lock(struct xc *x)
{
	char p[600];
	int fd = FLOW_UNLOCKED;

	if (x->cmm.root[0]) {
		snprintf(p, sizeof(p), "%s/%s", x->cmm.root, cmm_map_names[M_SLOTS]);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX)) {
			close(fd);
			fd = -1;
		}
		if (fd < 0)
			return FLOW_NOLOCK;
	}
	/* odd with the lock free: its last holder died in a change, which is done or
	 * harmless by now; copies from before it carry the value before the odd one */
	if (x->cmm.flowslots && (__atomic_load_n(&x->cmm.flowslots[1], __ATOMIC_ACQUIRE) & 1))
		seq_add(x, 1);
	return fd;
}

/* The signals that end a process the usual ways wait while a change runs: a Ctrl-C
 * then cannot leave the sequence odd (the cache off) behind a quick change. */
static __thread sigset_t chg_saved;

int chg_begin(struct xc *x)
{
	sigset_t stop;
	int lock;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &stop, &chg_saved);
	lock = flow_lock(x);
	if (lock != FLOW_NOLOCK)
		seq_add(x, 1);
	return lock;
}

void chg_end(struct xc *x, int lock)
{
	seq_add(x, lock != FLOW_NOLOCK ? 1 : 2);
	flow_unlock(lock);
	pthread_sigmask(SIG_SETMASK, &chg_saved, NULL);
}

void flow_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static uint64_t *slot_words(struct cmm *c)
{
	return c->flowslots + XCHAN_FLOWSLOT_BITS;
}

/* A free slot, its bit set; -ENOSPC when every slot is taken. */
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

void slot_free(struct xc *x, uint32_t slot)
{
	struct cmm *c = &x->cmm;

	if (c->flowslots && slot < c->nflowslots)
		__atomic_fetch_and(&slot_words(c)[slot / 64], ~(1ULL << (slot % 64)),
				   __ATOMIC_ACQ_REL);
}

int chan_ctl_read(struct xc *x, const struct xchan_chan_id *id, uint32_t *ctl)
{
	struct xchan_channel ch;
	int err = bpf_map_lookup_elem(XC_FD(x, M_CHANNELS), id, &ch) ? -errno : 0;

	if (!err)
		*ctl = ch.ctl;
	explicit_bzero(&ch, sizeof(ch));	/* only the word is wanted */
	return err;
}

void slot_key_time(struct xc *x, uint32_t slot, uint64_t ns)
{
	if (x->cmm.counts && slot < x->cmm.nflowslots)
		__atomic_store_n(&x->cmm.counts[slot].key_ns, ns, __ATOMIC_RELEASE);
}

static int mark_used(const void *key, void *ctx)
{
	struct xc *x = ctx;
	uint32_t ctl, slot;

	if (!chan_ctl_read(x, key, &ctl) && (slot = XCHAN_CTL_SLOT(ctl)) < x->cmm.nflowslots)
		__atomic_fetch_or(&slot_words(&x->cmm)[slot / 64], 1ULL << (slot % 64),
				  __ATOMIC_ACQ_REL);
	return 0;
}

int slot_alloc(struct xc *x, uint32_t *slot)
{
	struct cmm *c = &x->cmm;
	struct xchan_chan_counter zero = {};

	if (!c->flowslots)
		return -ENOENT;
	if (slot_take(c, slot)) {
		memset(slot_words(c), 0, ((c->nflowslots + 63) / 64) * 8);
		xc_map_each(XC_FD(x, M_CHANNELS), sizeof(struct xchan_chan_id), mark_used, x);
		if (slot_take(c, slot))
			return -ENOSPC;
	}
	if (bpf_map_update_elem(XC_FD(x, M_COUNTS), slot, &zero, BPF_ANY)) {
		int err = -errno;

		slot_free(x, *slot);
		return err;
	}
	return 0;
}

int chan_counted(struct xc *x, const struct xchan_chan_id *id, struct xchan_chan_counter *c)
{
	uint32_t ctl;

	memset(c, 0, sizeof(*c));
	if (chan_ctl_read(x, id, &ctl))
		return -ENOENT;
	return chan_counted_ctl(x, id, ctl, c);
}

int chan_counted_ctl(struct xc *x, const struct xchan_chan_id *id, uint32_t ctl,
		     struct xchan_chan_counter *c)
{
	uint32_t slot = XCHAN_CTL_SLOT(ctl);
	struct xchan_replay w;

	memset(c, 0, sizeof(*c));
	if (slot < x->cmm.nflowslots && bpf_map_lookup_elem(XC_FD(x, M_COUNTS), &slot, c))
		return -errno;
	/* a channel from another node: what its window accepted (bpf/node_data.h) */
	if (id->dir == XCHAN_DIR_IN &&
	    !bpf_map_lookup_elem_flags(XC_FD(x, M_REPLAY), id, &w, BPF_F_LOCK)) {
		c->packets += w.packets;
		c->bytes += w.bytes;
	}
	return 0;
}
