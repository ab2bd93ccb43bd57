// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* rekey.c: the receiver's side of a channel key rotation. The IN entry is the only
 * state: a new key goes into its free slot beside the old one (IN accepts both),
 * REKEY hands it to the sender's CMM, and once that answers the old key is retired
 * after a grace period for messages already in flight. A failed or interrupted
 * rekey leaves both keys, and the next call sends the same REKEY again. Rekeys of one
 * instance run one at a time (flock on the pin root): each reads IN, writes it back
 * whole and retires from it, so two at once could leave IN and OUT apart. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "xc_int.h"

struct rekey {
	struct xchan_chan_id id;
	struct xchan_hdr req, reply;
	uint8_t sent[XCHAN_KEY_LEN];	/* the key REKEY carried: what retire looks for */
	uint8_t kid;
	char what[140];
};

static void sleep_ms(unsigned int ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/* The IN entry at id, established (a key there), into *k; -ENOENT otherwise (closed
 * meanwhile). The caller zeroes *k. */
static int in_get(struct xc *x, const struct xchan_chan_id *id, struct xchan_channel *k)
{
	if (bpf_map_lookup_elem(XC_FD(x, M_CHANNELS), id, k))
		return -ENOENT;
	return XCHAN_CTL_STATE(k->ctl) == XCHAN_S_ESTABLISHED ? 0 : -ENOENT;
}

/* IN changed: the key's time for `channel list`, in the channel's counter slot. */
static void key_time(struct xc *x, const struct xchan_channel *k)
{
	slot_key_time(x, XCHAN_CTL_SLOT(k->ctl), xc_mono_ns());
}

/* A new key with id kid in its slot, the newest; IN replaced (a close meanwhile wins). */
static int key_new(struct xc *x, struct rekey *r, struct xchan_channel *k, uint8_t kid,
		   struct xc_err *e)
{
	uint8_t n = XCHAN_KEY_SLOT(kid);

	if (getrandom(k->key[n], sizeof(k->key[n]), 0) != sizeof(k->key[n]))
		return xc_fail(e, -errno, "getrandom failed: %s", strerror(errno));
	k->kid[n] = kid;
	k->valid |= 1U << n;
	k->cur = n;
	if (bpf_map_update_elem(XC_FD(x, M_CHANNELS), &r->id, k, BPF_EXIST))
		return xc_fail(e, -errno, "channel %s: cannot store the new key: %s", r->what,
			       errno == ENOENT ? "the channel was closed meanwhile" : strerror(errno));
	key_time(x, k);
	return 0;
}

/* The key IN should hand over: the pending one (both slots valid: a REKEY not known
 * to have arrived), else a new one, id + 1, stored in the other slot as the newest.
 * k holds IN's value; on return its cur slot is the key to send. */
static int rekey_prepare(struct xc *x, struct rekey *r, struct xchan_channel *k, struct xc_err *e)
{
	uint8_t c = k->cur & 1;

	if (!(k->valid & (1U << c)))
		return xc_fail(e, -EPROTO, "channel %s: the receiver's key entry has no current key",
			       r->what);
	if (k->valid & (1U << (c ^ 1)))
		return 0;
	return key_new(x, r, k, k->kid[c] + 1, e);
}

/* The sender refused the pending key's id (nack_bad_key_id): it sends with id cur (the
 * NACK's auth[0]), so the pending key is dead (another rekey got there first, or an
 * IN entry went back). The next key is cur + 1 in its slot; the other slot stays only
 * if it holds cur, the key the sender's messages still use. */
static int rekey_recover(struct xc *x, struct rekey *r, uint8_t cur, struct xc_err *e)
{
	struct xchan_channel k;
	uint8_t o = XCHAN_KEY_SLOT(cur);
	int err, lock = chg_begin(x);	/* no close between the read and the write */

	if (lock == FLOW_NOLOCK) {
		chg_end(x, lock);
		return xc_fail(e, -ENOLCK, "channel %s: cannot lock %s/%s: both keys stay, run it again",
			       r->what, x->cmm.root, cmm_map_names[M_SLOTS]);
	}
	if (in_get(x, &r->id, &k)) {
		chg_end(x, lock);
		explicit_bzero(&k, sizeof(k));
		return xc_fail(e, -ENOENT, "channel %s was closed meanwhile", r->what);
	}
	if (!(k.valid & (1U << o)) || k.kid[o] != cur) {
		explicit_bzero(k.key[o], sizeof(k.key[o]));
		k.kid[o] = 0;
		k.valid &= ~(1U << o);
	}
	k.valid &= 1U << o;	/* the dead pending key goes: its slot gets the next one */
	err = key_new(x, r, &k, cur + 1, e);
	chg_end(x, lock);	/* the dead pending key went */
	if (!err) {
		r->kid = r->req.key_id = cur + 1;
		memcpy(r->sent, k.key[k.cur & 1], sizeof(r->sent));
	}
	explicit_bzero(&k, sizeof(k));
	return err;
}

/* The sender has the new key: after the grace period IN keeps it alone if the entry
 * still has it as the newest, with the bytes sent. 0, or XC_REKEY_KEPT_OLD with e
 * saying why not (the entry changed: closed, or rekeyed again). */
static int rekey_retire(struct xc *x, struct rekey *r, unsigned int grace_ms, struct xc_err *e)
{
	struct xchan_channel k;
	int ret = XC_REKEY_KEPT_OLD, lock;
	uint8_t c;

	sleep_ms(grace_ms);
	lock = chg_begin(x);	/* no close between the read and the write */
	if (lock == FLOW_NOLOCK) {
		chg_end(x, lock);
		xc_fail(e, -ENOLCK, "channel %s: the sender took key %u, but %s/%s could not be locked: the old key was not retired",
			r->what, r->kid, x->cmm.root, cmm_map_names[M_SLOTS]);
		return ret;
	}
	if (in_get(x, &r->id, &k)) {
		chg_end(x, lock);
		explicit_bzero(&k, sizeof(k));
		xc_fail(e, -ENOENT, "channel %s: the sender took key %u, but the channel was closed before the old key could be retired",
			r->what, r->kid);
		return ret;
	}
	c = k.cur & 1;
	if ((k.valid & (1U << c)) && k.kid[c] == r->kid &&
	    !memcmp(k.key[c], r->sent, sizeof(r->sent))) {
		explicit_bzero(k.key[c ^ 1], sizeof(k.key[0]));
		k.kid[c ^ 1] = 0;
		ret = k.valid == 1U << c ? 0 : XC_REKEY_KEPT_OLD;	/* alone already: done */
		k.valid = 1U << c;
		if (ret && !bpf_map_update_elem(XC_FD(x, M_CHANNELS), &r->id, &k, BPF_EXIST))
			ret = 0;
	}
	chg_end(x, lock);	/* the old key went: no copy made with it counts */
	if (ret)
		xc_fail(e, -EAGAIN, "channel %s: the sender took key %u, but the receiver's entry changed meanwhile: the old key was not retired",
			r->what, r->kid);
	explicit_bzero(&k, sizeof(k));
	return ret;
}

/* REKEY with the key in r->sent, id r->kid; 0 on ACK, else fails naming the reason. */
static int rekey_send(struct xc *x, struct rekey *r, uint32_t sender, struct xc_err *e)
{
	int err;

	r->req.key_id = r->kid;
	memcpy(r->req.auth, r->sent, sizeof(r->req.auth));
	err = chan_to_sender(x, sender, &r->req, &r->reply, e);
	explicit_bzero(r->req.auth, sizeof(r->req.auth));
	if (err) {	/* no answer: the sender may have switched; say what stays */
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", e->msg);
		return xc_fail(e, err, "REKEY for %s (key %u): %s; both keys stay, run it again",
			       r->what, r->kid, why);
	}
	if (r->reply.type != XCHAN_T_CONNECT_ACK)
		return xc_fail(e, -EACCES, "the sender's CMM refused REKEY for %s (key %u): %s; both keys stay, run it again",
			       r->what, r->kid, xc_reason_name(r->reply.reason));
	return 0;
}

/* One rekey of one instance at a time: an exclusive flock on the pin root (flock
 * works on bpffs inodes), held until *fd is closed. A private instance has no root
 * and one process: *fd -1, no lock. */
static int rekey_lock(struct xc *x, int *fd, struct xc_err *e)
{
	*fd = -1;
	if (!x->cmm.root[0])
		return 0;
	*fd = open(x->cmm.root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0 || flock(*fd, LOCK_EX)) {
		int err = -errno;

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return xc_fail(e, err, "cannot lock %s for a rekey: %s", x->cmm.root, strerror(-err));
	}
	return 0;
}

static int rekey_run(struct xc *x, struct rekey *r, uint32_t sender, unsigned int grace_ms,
		     struct xc_err *e)
{
	struct xchan_channel k;
	int err, lock = flow_lock(x);	/* no close between the read and the write */

	if (lock == FLOW_NOLOCK)
		return xc_fail(e, -ENOLCK, "cannot lock %s/%s for the rekey", x->cmm.root,
			       cmm_map_names[M_SLOTS]);
	if (in_get(x, &r->id, &k)) {
		flow_unlock(lock);
		explicit_bzero(&k, sizeof(k));
		return xc_fail(e, -ENOENT, "channel %s has no key on this node (rekey runs where the receiver is, once connected)",
			       r->what);
	}
	err = rekey_prepare(x, r, &k, e);
	flow_unlock(lock);
	r->kid = k.kid[k.cur & 1];
	memcpy(r->sent, k.key[k.cur & 1], sizeof(r->sent));
	explicit_bzero(&k, sizeof(k));
	if (!err)
		err = rekey_send(x, r, sender, e);
	if (err == -EACCES && r->reply.reason == XR_NACK_BAD_KEY_ID) {
		err = rekey_recover(x, r, r->reply.auth[0], e);
		if (!err)
			err = rekey_send(x, r, sender, e);
	}
	if (err)
		return err;
	return rekey_retire(x, r, grace_ms, e);
}

int xc_chan_rekey(struct xc *x, const struct xc_ep *src, const struct xc_ep *dst,
		  unsigned int grace_ms, struct xc_err *e)
{
	struct rekey r = { .req = {
		.version = XCHAN_VERSION, .type = XCHAN_T_REKEY,
		.src_part = htonl(dst->part), .dst_part = htonl(src->part),
		.src_ep = htons(dst->port), .dst_ep = htons(src->port),
	} };
	char b1[64], b2[64];
	int lock, err;

	if (grace_ms > XC_REKEY_GRACE_MAX_MS)
		return xc_bad(e, "rekey: a grace period of %u ms is more than %u", grace_ms,
			      XC_REKEY_GRACE_MAX_MS);
	xchan_chan_id_make(&r.id, dst->part, dst->port, src->part, src->port, XCHAN_DIR_IN);
	snprintf(r.what, sizeof(r.what), "%s -> %s", xc_ep_str(x, src, b1, sizeof(b1)),
		 xc_ep_str(x, dst, b2, sizeof(b2)));
	err = rekey_lock(x, &lock, e);
	if (err)
		return err;
	err = rekey_run(x, &r, src->part, grace_ms, e);
	cache_forget(x);	/* the keys changed */
	if (lock >= 0)
		close(lock);
	explicit_bzero(&r, sizeof(r));
	return err;
}
