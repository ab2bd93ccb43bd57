/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cluster.h: the agent's cluster mode: its settings, the store as this node last saw
 * it (the view), the peers whose pair keys it installed, and the parts' entry points
 * (lease and publishing, the watch thread, reconcile, key rotation). */
#ifndef XCHAN_AGENT_CLUSTER_H
#define XCHAN_AGENT_CLUSTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "xc.h"
#include "nodekey.h"

struct agent;
struct etcd;

struct cluster_cfg {
	const char *etcd;	/* URL; NULL: from cluster.json */
	const char *prefix;	/* NULL: from cluster.json or the default */
	const char *state_dir;	/* NULL: XCHAN_STATE_DIR */
	uint32_t lease_ttl;	/* s */
	uint32_t node_key_interval, key_overlap, chan_key_interval;	/* s */
	uint32_t chan_key_grace_ms;
	int data_mac;		/* --data-mac: 0 or CL_DATA_MAC_NH: NH tags between nodes that
				 * both say they verify them; CL_DATA_MAC_SIPHASH: never */
};
#define CL_DATA_MAC_NH		1
#define CL_DATA_MAC_SIPHASH	2

/* One key of the store (relative to the prefix) and its value. */
struct view_kv {
	char *key, *val;
	int64_t mod_rev;
	int64_t lease;		/* the lease etcd holds the key on, 0: none */
};

/* The store under the prefix as the watch delivered it: sorted by key. */
struct view {
	struct view_kv *kv;
	size_t n, cap;
	int64_t rev;
};

/* What the watch thread hands over: a fresh list (reset) or events, in order. */
struct wev {
	bool reset, del;
	char *key, *val;
	int64_t rev, lease;
	struct wev *next;
};

/* A peer whose pair key this node installed. */
struct peer {
	uint32_t id, addr;
	uint8_t kid, prev_kid;
	bool has_prev, live, seen;
	uint64_t installed_ms, retire_ms;	/* retire_ms: when prev_kid goes */
	uint8_t pub[32];			/* its X25519 key the pair key came from */
	uint32_t epoch, my_epoch;
	bool mac_set, nh;			/* nh: DATA to it with NH tags, as set */
};

/* A pin (cluster_pin.c): a node's identity (and the newest key epoch of its records
 * seen here), a partition's node, or an address's node, as the state directory keeps
 * them. */
enum pin_kind { PIN_IDENT, PIN_PART, PIN_ADDR };

struct pin {
	uint32_t id;		/* node id, partition id, or IPv4 address (network order) */
	uint8_t kind;		/* enum pin_kind */
	bool loaded, has;
	uint8_t pk[32];
	uint32_t node, max_epoch;
	uint32_t part;		/* PIN_ADDR: the partition that holds it (a second line), so
				 * that forgetting a partition that moved frees its address */
};

/* A store key refused (an identity or a partition's binding), logged once per reason. */
struct refusal {
	char what[48];
	char msg[200];
};

/* An item reconcile could not make true: retried with backoff, logged once per change. */
struct failure {
	char what[96];		/* "chan 1:5000/2:6000 connect", "part 7", "peer 3" */
	char msg[200];
	uint64_t next_ms;
	uint32_t backoff_ms;
	bool seen;		/* still failing in this round */
};

struct cluster {
	struct agent *a;
	struct xc *xc;
	struct cluster_cfg cfg;
	char url[256], prefix[256], state_dir[256];
	uint32_t self, self_addr;
	struct etcd *st;		/* this thread's connection */
	/* node keys: identity and the current X25519 pair (see nodekey.h) */
	struct nk_identity ident;
	struct nk_kx kx;
	uint64_t kx_rotated_ms;
	/* the lease (cluster_lease.c, its own thread) */
	pthread_t leaser;
	bool leasing;
	volatile bool lease_stop;
	int64_t lease;			/* under mu; 0 until it is known to live */
	uint64_t regrants;		/* under mu: times it expired and was granted again */
	uint64_t regrant_seen, reset_seen;
	volatile bool store_down;	/* logged once */
	bool republish;			/* own keys must be put again */
	bool pub_failing;
	/* channel keys (cluster_keys.c, its own thread: a rekey may wait for a peer) */
	pthread_t rekeyer;
	bool rekeying;
	/* under mu: peers whose previous pair key this node retired, for the rekeyer to
	 * rekey one channel from each (so that they see the new key in use: NH tags) */
	uint32_t *shown;
	size_t nshown, capshown;
	pthread_t thread;		/* reconcile */
	/* the watch thread and what it hands over */
	pthread_t watcher;
	bool watching;
	volatile bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct wev *q, **qtail;
	struct view view;
	bool dirty;			/* the view changed since the last reconcile */
	uint64_t next_reconcile_ms;	/* a failed item's retry, or the periodic one */
	struct peer *peers;
	size_t npeers, cappeers;
	struct failure *fails;
	size_t nfails, capfails;
	/* channels this run connected from the store (both ends local are left alone
	 * otherwise: they may be the operator's or a request's) */
	struct {
		uint32_t sp, dp;
		uint16_t sport, dport;
	} *mine;
	size_t nmine, capmine;
	struct pin *pins;
	size_t npins, cappins;
	struct refusal *refused;
	size_t nrefused, caprefused;
	uint32_t *host_addrs;		/* this host's IPv4 addresses, read once a round */
	size_t nhost, caphost;
	bool host_read;
	char **bad_sigs;		/* keys whose signature failed, logged once */
	size_t nbad, capbad;
};

/* cluster.c: the thread and its schedule */
int cluster_start(struct agent *a, const struct cluster_cfg *cfg, struct cluster **out,
		  struct xc_err *e);
void cluster_stop(struct cluster *c);
bool cluster_configured(const struct cluster_cfg *cfg);
uint64_t cl_now_ms(void);

/* cluster_view.c */
void view_set(struct view *v, const char *key, const char *val, int64_t rev, int64_t lease);
void view_del(struct view *v, const char *key);
void view_clear(struct view *v);
const struct view_kv *view_get(const struct view *v, const char *key);
/* The entries under sub ("nodes/"): [*first, *first + return) */
size_t view_under(const struct view *v, const char *sub, size_t *first);

/* cluster_watch.c: list + watch on its own thread, into c->q */
int watch_start(struct cluster *c, struct xc_err *e);
void watch_stop(struct cluster *c);
/* Moves what the watcher queued into the view; true if anything changed. */
bool watch_drain(struct cluster *c);

/* cluster_lease.c */
int lease_start(struct cluster *c, struct xc_err *e);
void lease_stop(struct cluster *c);

/* cluster_pub.c: this node's own records */
void pub_tick(struct cluster *c);
/* Signed JSON of nodes/<self> on lease into a malloc'ed string. */
char *pub_node_json(struct cluster *c, int64_t lease);

/* cluster_sync.c: reconcile the maps with the view */
void sync_all(struct cluster *c);
/* After this node's lease expired: every remote partition and its channels go, to be
 * made anew from the store (the peers dropped their half meanwhile). */
void sync_reset_remote(struct cluster *c);
/* A peer's announcement, checked: 0 and its fields, or -errno. */
struct node_rec {
	uint32_t id, addr, epoch;
	uint8_t pub[32];
	int64_t key_time;
	bool nh;		/* its signed caps say it verifies NH tags */
};
int node_rec_parse(struct cluster *c, const struct view_kv *kv, struct node_rec *r);
bool node_live(struct cluster *c, uint32_t id);
bool node_member(struct cluster *c, uint32_t id);
/* A node the store speaks for here: a member, or one whose identity this agent pinned
 * (its ids/ key deleted since: it is treated as down, not left alone). */
bool node_managed(struct cluster *c, uint32_t id);

/* cluster_fail.c: failures, retried with backoff and logged once per change */
bool fail_due(struct cluster *c, const char *what);
void fail_set(struct cluster *c, const char *what, const char *msg);
void fail_clear(struct cluster *c, const char *what);
void fails_begin(struct cluster *c);
void fails_end(struct cluster *c);
/* Logs once per key whose signature does not verify. */
void bad_sig_once(struct cluster *c, const char *key, const char *why);
void bad_sig_forget(struct cluster *c, const char *key);

/* cluster_pin.c: pins in the state directory, strict key numbers */
int cl_num(const char *s, size_t len, uint32_t max, uint32_t *out);
/* The number after prefix in key, canonical only (a non-canonical one is logged once). */
int cl_key_num(struct cluster *c, const char *key, const char *prefix, uint32_t *out);
/* Node id's identity into pk: the pinned one (pk pinned now if none was); another
 * in the store is refused and logged once (pk is replaced by the pinned one). */
int pin_ident(struct cluster *c, uint32_t id, uint8_t pk[NK_PUB_LEN]);
/* 0: part may be node's (pinned now with write); -EPERM: bound to another node. */
int pin_part(struct cluster *c, uint32_t part, uint32_t node, bool write);
/* The same for a partition's address: the node whose partitions may hold it. */
int pin_addr(struct cluster *c, uint32_t addr, uint32_t node, uint32_t part, bool write);
uint32_t pin_addr_node(struct cluster *c, uint32_t addr);
uint32_t pin_part_node(struct cluster *c, uint32_t part);
bool pin_ident_has(struct cluster *c, uint32_t id);
int pin_epoch(struct cluster *c, uint32_t id, uint32_t epoch);
void pins_round(struct cluster *c);
void refuse_once(struct cluster *c, const char *what, const char *msg);
void refuse_clear(struct cluster *c, const char *what);

/* cluster_keys.c: pair keys, node-key and channel-key rotation */
/* Installs the pair key for a live peer unless it is in place; with !may_install
 * only notes the peer as live. true: an install was tried. */
bool keys_peer(struct cluster *c, const struct node_rec *r, bool may_install);
/* This node verifies NH tags and says so in its record: its instance has them and
 * --data-mac is not siphash. */
bool keys_nh_local(struct cluster *c);
void keys_peer_forget(struct cluster *c, uint32_t id);
void keys_tick(struct cluster *c);
int rekey_start(struct cluster *c, struct xc_err *e);
void rekey_stop(struct cluster *c);
struct peer *peer_find(struct cluster *c, uint32_t id);

#endif
