/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xc_int.h: what the library's files share and its users need not see: the rows
 * of a partition, attaching with libxdp, finding a container's veth, the config row. */
#ifndef XCHAN_XC_INT_H
#define XCHAN_XC_INT_H

#include <time.h>
#include "xc.h"
#include "nl.h"

#define XC_FD(x, m) ((x)->cmm.map_fd[m])

/* A partition is these rows: partmeta, addrs, devmap, macs, partition (a remote one:
 * partmeta and addrs). Written in that order, undone in reverse. */
struct part_rows {
	uint32_t id;
	struct xchan_part_meta meta;
	struct xchan_partition part;	/* local only */
	struct xchan_address addr;
	uint32_t ip;			/* key of addrs */
	char host_dev[IF_NAMESIZE], peer_dev[IF_NAMESIZE];	/* for messages */
};
void part_rows_local(struct part_rows *r, uint32_t id, const char *name, uint32_t flags,
		     const struct nl_link *host, const struct nl_link *peer, const char *nspath);
void part_rows_remote(struct part_rows *r, uint32_t id, const char *name, uint32_t node,
		      uint32_t ip);
/* Every conflict with what is registered checked before anything is written; then
 * the rows in order, those written undone when one fails. */
int part_rows_add(struct xc *x, const struct part_rows *r, struct xc_err *e);
void part_rows_remove(struct xc *x, uint32_t id, const struct xchan_part_meta *meta);
uint32_t part_remote_ip(struct xc *x, uint32_t id);

/* The container's veth: its own end (peer, in nspath) and the host's end. */
struct veth {
	struct nl_link host, peer;
	char nspath[64];
};
int veth_find(const struct xc_part_spec *s, struct veth *v, struct xc_err *e);

int xdp_attach(struct xc *x, uint32_t ifindex, enum xc_mode want, enum xc_mode *got);
int xdp_detach(struct xc *x, uint32_t ifindex);
/* The receive side (tc.c): a pinned TCX egress link per partition. */
int rx_attach(struct xc *x, uint32_t part, uint32_t ifindex);
int rx_detach(struct xc *x, uint32_t part);
/* Removes partition part's event budgets (audit.c). */
void evlimit_forget(struct xc *x, uint32_t part);
/* Removes partition part's verdict counters (partstats.c). */
void partstats_forget(struct xc *x, uint32_t part);

int config_write(struct xc *x, const struct xchan_config *cfg);

/* CONNECT/REKEY/CLOSE for the CMM of partition sender: this node's by the trusted
 * path, or its node's by node control (channel.c). */
int chan_to_sender(struct xc *x, uint32_t sender, const struct xchan_hdr *req,
		   struct xchan_hdr *reply, struct xc_err *e);

/* xc_ep_parse in two steps, for a caller that resolves a name once (apply): PART:PORT
 * split (a usage error), then PART (an id or a name) to an id. */
#define XC_PART_STR	64
int xc_ep_split(const char *s, char part[XC_PART_STR], uint16_t *port, struct xc_err *e);
int xc_part_resolve(struct xc *x, const char *part, bool must_be_local, uint32_t *id,
		    struct xc_err *e);

/* The same-node fast path and the counter slots (flow.c). A key's removal or change,
 * or a channel entry's removal, runs between chg_begin (the lock taken, the change
 * sequence made odd: the CMM's flow cache off) and chg_end (even again: no copy made
 * before counts; the lock released). Without the lock (FLOW_NOLOCK) the sequence
 * moves by two at the end. cache_forget: a move by two, for a change that needs no
 * lock. */
int chg_begin(struct xc *x);
void chg_end(struct xc *x, int lock);
void cache_forget(struct xc *x);
/* The slot bitmap's lock (an fd to close with flow_unlock, or one of these), held
 * from slot_alloc until the entry naming the slot is inserted, and around every
 * read-and-write of an IN entry. */
#define FLOW_UNLOCKED	(-1)	/* a private instance: nothing to lock */
#define FLOW_NOLOCK	(-2)	/* the pin could not be locked */
int flow_lock(struct xc *x);
void flow_unlock(int fd);
/* A zeroed counter slot (its bit taken), or -errno; slot_free clears it, after the
 * entry naming it is gone and cache_forget. */
int slot_alloc(struct xc *x, uint32_t *slot);
void slot_free(struct xc *x, uint32_t slot);
/* The counters of the entry at id (its slot, zero where it has none; and for an IN
 * entry of a channel from another node, what its window accepted): 0, or -ENOENT
 * when there is no such entry. */
int chan_counted(struct xc *x, const struct xchan_chan_id *id, struct xchan_chan_counter *c);
/* The same for an entry whose word the caller read already (a listing). */
int chan_counted_ctl(struct xc *x, const struct xchan_chan_id *id, uint32_t ctl,
		     struct xchan_chan_counter *c);
/* The control word of the entry at id (include/xchan.h), without its keys: 0 or
 * -errno. */
int chan_ctl_read(struct xc *x, const struct xchan_chan_id *id, uint32_t *ctl);
/* When the newest key of the IN entry with that slot was made (its counters). */
void slot_key_time(struct xc *x, uint32_t slot, uint64_t ns);

/* The nonce record of peer node (xchan_peernonce), made if absent and never
 * replaced: seeded a little behind the wall clock, so that what was recorded
 * before this instance existed is stale. 0 or -errno with e filled. */
int peer_nonce_make(struct xc *x, uint32_t node, struct xc_err *e);
/* The NH keys (include/nh.h) of node key kid of node, from its directional keys
 * (nodekey.c): written before the node key is used, removed after it is retired. */
int nh_keys_put(struct xc *x, uint32_t node, uint8_t kid, const struct xchan_node_slot *sl);
void nh_keys_del(struct xc *x, uint32_t node, int kid);	/* kid -1: every one of node's */

/* CLOCK_REALTIME in ns: what control nonces follow (nodectl.c, peer_nonce_make). */
static inline uint64_t xc_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(), for the maps' timestamps. */
static inline uint64_t xc_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#endif
