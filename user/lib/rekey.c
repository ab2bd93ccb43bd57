// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* rekey.c: the receiver's side of a channel key rotation. The IN entry is the only
 * state: a new key goes into its free slot beside the old one (IN accepts both),
 * REKEY hands it to the sender's CMM, and once that answers the old key is retired
 * after a grace period for messages already in flight. A failed or interrupted
 * rekey leaves both keys, and the next call sends the same REKEY again. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "xc_int.h"

static void sleep_ms(unsigned int ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/* The key IN should hand over: the pending one (both slots valid: a REKEY not known
 * to have arrived), else a new one, id + 1, stored in the other slot as the newest.
 * k holds IN's value; on return its cur slot is the key to send. */
static int rekey_prepare(struct xc *x, const struct xchan_chan_id *id, struct xchan_key *k,
			 const char *what, struct xc_err *e)
{
	struct xchan_channel ch;
	uint8_t c = k->cur & 1, n = c ^ 1;

	if (!(k->valid & (1U << c)))
		return xc_fail(e, -EPROTO, "channel %s: the receiver's key entry has no current key", what);
	if (k->valid & (1U << n))
		return 0;
	if (getrandom(k->key[n], sizeof(k->key[n]), 0) != sizeof(k->key[n]))
		return xc_fail(e, -errno, "getrandom failed: %s", strerror(errno));
	k->kid[n] = k->kid[c] + 1;
	k->valid |= 1U << n;
	k->cur = n;
	if (bpf_map_update_elem(XC_FD(x, M_KEYS), id, k, BPF_EXIST))
		return xc_fail(e, -errno, "channel %s: cannot store the new key: %s", what,
			       errno == ENOENT ? "the channel was closed meanwhile" : strerror(errno));
	if (!bpf_map_lookup_elem(XC_FD(x, M_CHANNELS), id, &ch)) {
		ch.key_ns = xc_mono_ns();
		bpf_map_update_elem(XC_FD(x, M_CHANNELS), id, &ch, BPF_EXIST);
	}
	return 0;
}

/* The sender has the new key: after the grace period IN keeps it alone, unless the
 * entry changed meanwhile (closed, or another rekey). */
static void rekey_retire(struct xc *x, const struct xchan_chan_id *id, uint8_t kid,
			 unsigned int grace_ms)
{
	struct xchan_key k;
	uint8_t c;

	sleep_ms(grace_ms);
	if (bpf_map_lookup_elem(XC_FD(x, M_KEYS), id, &k))
		return;
	c = k.cur & 1;
	if (k.valid == 3 && k.kid[c] == kid) {
		explicit_bzero(k.key[c ^ 1], sizeof(k.key[0]));
		k.kid[c ^ 1] = 0;
		k.valid = 1U << c;
		bpf_map_update_elem(XC_FD(x, M_KEYS), id, &k, BPF_EXIST);
	}
	explicit_bzero(&k, sizeof(k));
}

int xc_chan_rekey(struct xc *x, const struct xc_ep *src, const struct xc_ep *dst,
		  unsigned int grace_ms, struct xc_err *e)
{
	struct xchan_hdr req = {
		.version = XCHAN_VERSION, .type = XCHAN_T_REKEY,
		.src_part = htonl(dst->part), .dst_part = htonl(src->part),
		.src_ep = htons(dst->port), .dst_ep = htons(src->port),
	}, reply = {};
	struct xchan_chan_id id;
	struct xchan_key k;
	char b1[64], b2[64], what[140];
	uint8_t kid;
	int err;

	xchan_chan_id_make(&id, dst->part, dst->port, src->part, src->port, XCHAN_DIR_IN);
	snprintf(what, sizeof(what), "%s -> %s", xc_ep_str(x, src, b1, sizeof(b1)),
		 xc_ep_str(x, dst, b2, sizeof(b2)));
	if (bpf_map_lookup_elem(XC_FD(x, M_KEYS), &id, &k))
		return xc_fail(e, -ENOENT, "channel %s has no key on this node (rekey runs where the receiver is, once connected)",
			       what);
	err = rekey_prepare(x, &id, &k, what, e);
	if (err)
		goto out;
	kid = req.key_id = k.kid[k.cur & 1];
	memcpy(req.auth, k.key[k.cur & 1], sizeof(req.auth));
	explicit_bzero(&k, sizeof(k));
	err = chan_to_sender(x, src->part, &req, &reply, e);
	explicit_bzero(&req, sizeof(req));
	if (err) {	/* no answer: the sender may have switched; say what stays */
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", e->msg);
		xc_fail(e, err, "REKEY for %s (key %u): %s; both keys stay, run it again", what,
			kid, why);
	} else if (reply.type != XCHAN_T_CONNECT_ACK)
		err = xc_fail(e, -EACCES, "the sender's CMM refused REKEY for %s (key %u): %s; both keys stay, run it again",
			      what, kid, xc_reason_name(reply.reason));
	if (!err)
		rekey_retire(x, &id, kid, grace_ms);
out:
	explicit_bzero(&k, sizeof(k));
	explicit_bzero(&req, sizeof(req));
	return err;
}
