/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xc.h: the agent's library: a handle on one xchan instance and every operation on it
 * (partitions, channels, nodes, reading the maps, apply). Functions return 0 or -errno
 * and say why in a struct xc_err; nothing here prints, exits or keeps global state, so
 * the CLI, a daemon and the tests can all sit on top of it. */
#ifndef XCHAN_XC_H
#define XCHAN_XC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include "cmm.h"
#include "doctor.h"

struct xc_err {
	char msg[256];		/* for people; never holds key material */
	bool usage;		/* the request itself is malformed, rather than refused */
};

/* Fills e and returns err (a negative errno). */
int xc_fail(struct xc_err *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a malformed request: sets e->usage, returns -EINVAL. */
int xc_bad(struct xc_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Room for one more element of size elem at the end of *v (*n used of *cap): the new
 * slot, counted in *n, or NULL when out of memory (*v stays as it was). The one
 * growable array of the library, the agent and the CLI. */
void *xc_grow(void **v, size_t *n, size_t *cap, size_t elem);

struct xc {
	char pin_root[400];
	struct cmm_sizes sizes;	/* used only when this handle creates the instance */
	struct cmm cmm;
	bool opened;
};

void xc_init(struct xc *x, const char *pin_root, const struct cmm_sizes *sizes);
/* Opens the instance; with create, loads and pins it (mounting bpffs) on first use. */
int xc_open(struct xc *x, bool create, struct xc_err *e);
/* Loads an instance of its own that is pinned nowhere and goes with the handle: for
 * the packet-level tests and the benchmarks. */
int xc_open_private(struct xc *x, const struct cmm_sizes *sizes, struct xc_err *e);
bool xc_exists(const struct xc *x);
void xc_close(struct xc *x);

int xc_parse_u32(const char *s, uint32_t *out);
const char *xc_ip_str(uint32_t be, char *buf);	/* buf: INET_ADDRSTRLEN */

/* Calls fn for every key of map fd; fn may delete the key it is given. fn returns 0 to
 * go on, > 0 to stop, < 0 to fail; xc_map_each returns what stopped it, else 0. */
typedef int (*xc_key_fn)(const void *key, void *ctx);
int xc_map_each(int fd, size_t key_size, xc_key_fn fn, void *ctx);

/* ---- partitions ---- */
enum xc_src { XC_SRC_NONE, XC_SRC_DEV, XC_SRC_NETNS, XC_SRC_PID, XC_SRC_PODMAN, XC_SRC_REMOTE };
enum xc_mode { XC_MODE_ANY, XC_MODE_NATIVE, XC_MODE_GENERIC };

struct xc_part_spec {
	uint32_t id;
	const char *name;	/* NULL: none */
	enum xc_src src;
	const char *src_name;	/* --dev, --netns, --podman */
	uint32_t pid;		/* --pid */
	uint32_t node;		/* --remote */
	const char *ip;		/* picks among several veths; the address of a remote one */
	bool isolated, strict;
	enum xc_mode mode;
};

struct xc_part_added {
	uint32_t id, node, ip;
	char name[XCHAN_NAME_LEN];
	char host_dev[IF_NAMESIZE], peer_dev[IF_NAMESIZE];
	enum xc_mode mode;
	struct diagnosis diag;	/* at-risk or exposed: the caller warns */
};

int xc_part_add(struct xc *x, const struct xc_part_spec *s, struct xc_part_added *out,
		struct xc_err *e);
/* A partition of this node whose interfaces the caller knows already (a CNI plugin,
 * the test fixture): checked and written exactly as partition add does after it has
 * found the veth, but not attached; the caller attaches (or runs the CMM by test_run). */
struct xc_part_reg {
	uint32_t id;
	const char *name;		/* NULL: none */
	uint32_t host_ifindex;		/* the host-side veth: where the CMM runs */
	uint32_t peer_ifindex;		/* the partition's own end, in its netns */
	uint32_t ip;			/* network order */
	uint8_t mac[6];
	bool isolated;
	const char *netns;		/* as recorded in partmeta; NULL: none */
};
int xc_part_register(struct xc *x, const struct xc_part_reg *r, struct xc_err *e);
/* An id or a registered name: 0 and *id, or -ENOENT. meta may be NULL. */
int xc_part_find(struct xc *x, const char *s, uint32_t *id, struct xchan_part_meta *meta);
/* Removes channels, keys, the attachment and the rows; *detach_err gets a failure to
 * detach (the rest is removed anyway); detach_err may be NULL. */
int xc_part_remove(struct xc *x, uint32_t id, int *detach_err);
const char *xc_part_name(struct xc *x, uint32_t id, char *buf, size_t len);
/* A listing's memo of partition names, for printing many rows of few partitions:
 * xc_part_name looked up again only for an id the memo does not hold. It is not told
 * of renames made meanwhile; keep one for the length of one listing. Zero it to
 * start; NULL is no memo. */
#define XC_NAMES	16
struct xc_names {
	struct {
		uint32_t id;
		bool have;
		char name[40];	/* a name (at most 31) or an id */
	} e[XC_NAMES];
};
const char *xc_part_name_memo(struct xc *x, struct xc_names *nm, uint32_t id, char *buf,
			      size_t len);
const char *xc_mode_name(enum xc_mode m);
/* "native", "generic" or "detached": how our program runs on ifindex. */
const char *xc_attached_mode(struct xc *x, uint32_t ifindex);
/* The receive side on partition part's host-side veth ifindex: "tcx" (attached),
 * "detached", "defunct" (its device went away) or "unsupported" (an instance made
 * before the receive side existed: xchan down and recreate it). */
const char *xc_rx_state(struct xc *x, uint32_t part, uint32_t ifindex);

struct xc_part_info {
	uint32_t id;
	struct xchan_part_meta meta;
	struct xchan_partition row;	/* for a remote one: ip only */
	char host_dev[IF_NAMESIZE + 8];
	const char *xdp;		/* native, generic, detached, remote */
	const char *rx;			/* xc_rx_state(); "remote" for a remote one */
};
/* Every partition, sorted by id; *out is malloc'ed. */
int xc_part_list(struct xc *x, struct xc_part_info **out, size_t *n, struct xc_err *e);

/* ---- channels ---- */
struct xc_ep {
	uint32_t part;
	uint16_t port;
};

/* "PART:PORT", PART an id or a name (a bare id of another node's partition is taken
 * unless must_be_local). */
int xc_ep_parse(struct xc *x, const char *s, struct xc_ep *ep, bool must_be_local,
		struct xc_err *e);
const char *xc_ep_str(struct xc *x, const struct xc_ep *ep, char *buf, size_t len);
const char *xc_ep_str_memo(struct xc *x, struct xc_names *nm, const struct xc_ep *ep, char *buf,
			   size_t len);
int xc_chan_authorize(struct xc *x, const struct xc_ep *local, const struct xc_ep *remote,
		      uint8_t dir, struct xc_err *e);
int xc_chan_connect(struct xc *x, const struct xc_ep *local, const struct xc_ep *remote,
		    struct xc_err *e);
int xc_chan_open(struct xc *x, const struct xc_ep *src, const struct xc_ep *dst,
		 struct xc_err *e);
/* *unacked: the sender's CMM did not confirm CLOSE (its key was dropped here anyway). */
int xc_chan_close(struct xc *x, const struct xc_ep *src, const struct xc_ep *dst,
		  bool *unacked, struct xc_err *e);
/* Run on the receiver's node (dst local): a new key for channel src -> dst. Driven by
 * the IN entry, so stateless and restartable: with both slots valid a rekey is
 * pending and its REKEY is sent again; else a new key (id + 1) goes into the other
 * slot and becomes the newest (IN accepts both), REKEY goes to the sender's CMM, and
 * on its ACK the old key is retired grace_ms later (messages in flight). On a NACK
 * or no answer both keys stay and it fails with the reason; calling again resends. */
int xc_chan_rekey(struct xc *x, const struct xc_ep *src, const struct xc_ep *dst,
		  unsigned int grace_ms, struct xc_err *e);
/* Rekeys of one instance run one at a time (a lock on the pin root). A nack_bad_key_id
 * for a pending key (the sender moved on under another rekey) moves IN to the sender's
 * id + 1, which the NACK names, and sends that. grace_ms above the bound is refused.
 * XC_REKEY_KEPT_OLD: the sender took the new key but IN changed meanwhile (closed,
 * rekeyed), so the old key was not retired; e says why, and a next call retires it. */
#define XC_REKEY_GRACE_MAX_MS	60000
#define XC_REKEY_KEPT_OLD	1
/* How many of the six parts of channel src -> dst exist (entries, states, keys). */
int xc_chan_parts(struct xc *x, const struct xc_ep *src, const struct xc_ep *dst);

struct xc_chan_info {
	struct xchan_chan_id id;
	struct {			/* the entry, but its key bytes */
		uint32_t state;		/* enum xchan_chan_state */
		uint32_t slot;		/* its counters' (XCHAN_NO_SLOT: none) */
		uint64_t key_ns;	/* IN: when its newest key was made (0: unknown) */
	} ch;
	uint32_t key_owner;		/* 0: no key */
	uint8_t key_id;			/* the current key's id (OUT: sends with; IN: newest) */
	uint8_t key_slots;		/* how many keys the entry holds (2: a rekey overlaps) */
	struct xchan_chan_counter c;	/* those of its slot (OUT towards another node:
					 * what it sent, packets = the sequence) */
};
int xc_chan_list(struct xc *x, struct xc_chan_info **out, size_t *n, struct xc_err *e);
const char *xc_state_name(uint32_t state);

/* ---- nodes ---- */
int xc_pair_key_read(const char *path, uint8_t key[XCHAN_PAIR_KEY_LEN], struct xc_err *e);
int xc_node_self(struct xc *x, uint32_t id, uint32_t addr, struct xc_err *e);
/* A peer with a key file's pair key: node key id 0 in slot 0, rx = tx = key. */
int xc_node_add(struct xc *x, uint32_t id, uint32_t addr,
		const uint8_t key[XCHAN_PAIR_KEY_LEN], struct xc_err *e);
/* A directional node key: rx verifies and unwraps what that node sends us, tx signs
 * and wraps what we send it (our tx is its rx). XC_HAVE_NODE_KEY: code written before
 * this API existed can tell. */
#define XC_HAVE_NODE_KEY 1
struct xc_node_key {
	uint8_t id;
	uint8_t rx[XCHAN_PAIR_KEY_LEN];
	uint8_t tx[XCHAN_PAIR_KEY_LEN];
};
/* Makes the node entry if absent (and resolves its next hop, best effort), else
 * updates its address; puts k in the slot already holding k->id, else the slot not in
 * use, makes it the newest and keeps the previous one valid (the overlap). */
int xc_node_key_install(struct xc *x, uint32_t node, uint32_t addr,
			const struct xc_node_key *k, struct xc_err *e);
/* Clears every slot but the one holding key id keep_id (-ENOENT if none does). */
int xc_node_key_retire(struct xc *x, uint32_t node, uint8_t keep_id, struct xc_err *e);
/* Removes the peer and its next hop: its control and DATA are then refused
 * (drop_bad_origin_node). Not node 0 nor this node. */
int xc_node_del(struct xc *x, uint32_t node, struct xc_err *e);
/* Whether DATA to node goes with NH tags (XCHAN_T_DATA_NH, include/nh.h) or
 * SipHash-2-4 ones: only towards a node that verifies them (an xchan with NH tags;
 * every such node accepts both). -EOPNOTSUPP in an instance from before them. */
int xc_node_data_mac(struct xc *x, uint32_t node, bool nh, struct xc_err *e);
/* Whether the open instance verifies NH tags (has xchan_nhkeys). */
bool xc_nh_tags(struct xc *x);
struct xc_node_key_info {
	bool valid, cur;	/* cur: the newest, what this node tries first */
	uint8_t id;
	uint64_t installed_ns;	/* CLOCK_MONOTONIC */
};
struct xc_node_info {
	uint32_t id, addr;
	bool data_nh;		/* DATA to it goes with NH tags (xc_node_data_mac) */
	uint32_t nh_ifindex;	/* 0: next hop unresolved (its DATA: drop_no_neighbour) */
	uint8_t nh_mac[6];
	struct xc_node_key_info key[2];	/* by slot; never the key bytes */
};
int xc_node_list(struct xc *x, struct xc_node_info **out, size_t *n, struct xc_err *e);
int xc_config_read(struct xc *x, struct xchan_config *cfg);
int xc_uplink_attach(struct xc *x, const char *ifname, enum xc_mode want,
		     enum xc_mode *got, struct xc_err *e);
void xc_uplink_detach(struct xc *x);
/* Resolves how to reach node id at addr (route, interface, neighbour MAC, asking the
 * kernel to ARP if needed) into xchan_nexthop; on failure the entry is removed and
 * the CMM counts drop_no_neighbour. xc_node_refresh does it for every peer. */
int xc_node_refresh_one(struct xc *x, uint32_t id, uint32_t addr, struct xc_err *e);
int xc_node_refresh(struct xc *x, struct xc_err *e);
/* CONNECT/REKEY/CLOSE to the CMM of node node_id: wrapped, signed with our newest
 * node key towards it (retries alternate with the older one), retried; *reply is its
 * signed answer (reply->key_id: the node key used). req->key_id is the channel key id. */
int xc_node_ctrl(struct xc *x, uint32_t node_id, const struct xchan_hdr *req,
		 struct xchan_hdr *reply, struct xc_err *e);

/* ---- reading ---- */
/* Per-reason counters; have[r] false where the map had nothing to say. */
void xc_stats_reasons(struct xc *x, struct xchan_counter out[XR__MAX], bool have[XR__MAX]);
struct xc_chan_stat {
	struct xchan_chan_id id;	/* the receiver's IN entry */
	struct xchan_chan_counter c;
};
int xc_stats_channels(struct xc *x, struct xc_chan_stat **out, size_t *n, struct xc_err *e);
/* Verdicts by partition and reason (xchan_partstats), sorted by partition, then
 * reason: the sender's on the send side, the receiver's on the receive side, never
 * pass_channel or pass_rx_channel (xc_stats_part_channels has those). None from an
 * instance older than the map. */
struct xc_part_stat {
	uint32_t part, reason;
	struct xchan_counter c;
};
int xc_stats_partitions(struct xc *x, struct xc_part_stat **out, size_t *n, struct xc_err *e);
/* Channel traffic by partition, sorted by partition, summed from the channels' own
 * counters (their IN entries): received as the receiver (local_part), sent as the
 * sender (remote_part; it may be another node's partition). */
struct xc_part_chan_stat {
	uint32_t part;
	struct xchan_counter received, sent;
};
int xc_stats_part_channels(struct xc *x, struct xc_part_chan_stat **out, size_t *n,
			   struct xc_err *e);

const char *xc_event_kind_name(uint32_t kind);
const char *xc_reason_name(uint32_t reason);
typedef int (*xc_event_fn)(void *ctx, const struct xchan_event *ev);
struct xc_events;
int xc_events_open(struct xc *x, xc_event_fn fn, void *ctx, struct xc_events **out,
		   struct xc_err *e);
/* Waits up to ms for events and hands them to fn; returns how many, or -errno. */
int xc_events_poll(struct xc_events *ev, int ms);
void xc_events_close(struct xc_events *ev);

/* Each source's event budget: what it emitted, had suppressed (over its lifetime;
 * an event carries how many went just before it) and lost to a full ring. */
struct xc_evsource {
	struct xchan_src_key src;
	struct xchan_evlimit l;
};
int xc_evsources(struct xc *x, struct xc_evsource **out, size_t *n, struct xc_err *e);
const char *xc_src_kind_name(uint32_t kind);

struct xc_map_status {
	const char *name;
	uint32_t id, max_entries, entries;
	bool countable;		/* a hash: entries is meaningful */
};
struct xc_attach_status {
	uint32_t part, ifindex;
	char dev[IF_NAMESIZE];
	const char *mode;
	const char *rx;		/* xc_rx_state() */
};
struct xc_status {
	uint32_t prog_id;
	struct xc_map_status maps[M__N];
	struct xchan_config cfg;
	char uplink[IF_NAMESIZE];
	const char *uplink_xdp;
	struct xc_attach_status *att;	/* malloc'ed */
	size_t natt;
};
int xc_status(struct xc *x, struct xc_status *st, struct xc_err *e);
void xc_status_free(struct xc_status *st);

struct xc_doctor_row {
	uint32_t id;
	char name[XCHAN_NAME_LEN];
	struct diagnosis d;
	const char *rx;		/* the receive side: xc_rx_state() */
};
int xc_doctor(struct xc *x, struct xc_doctor_row **out, size_t *n, struct xc_err *e);

struct xc_down_result {
	bool existed;
	bool unusable;		/* pins removed, nothing detached: it could not be opened */
	uint32_t nparts;
	int detach_err;		/* the first failure to detach, if any */
	uint32_t detach_ifindex;
};
int xc_down(struct xc *x, struct xc_down_result *r, struct xc_err *e);

/* ---- apply: a list of statements made true with the fewest changes ---- */
struct xc_stmt {
	bool is_chan;
	struct xc_part_spec part;
	uint32_t node;		/* partitions, apply --etcd: the node hosting it */
	const char *src, *dst;	/* channels: PART:PORT as written */
};

enum xc_change_kind { XC_CH_PART_ADDED, XC_CH_CHAN_OPENED, XC_CH_CHAN_PRUNED };
struct xc_change {
	enum xc_change_kind kind;
	size_t stmt;			/* the statement that made it (not for pruned) */
	struct xc_ep src, dst;		/* channels */
	struct xc_part_added part;	/* partitions, with doctor's verdict */
};

struct xc_apply_result {
	struct xc_change *changes;	/* malloc'ed; kept on failure (they were undone) */
	size_t nchanges, unchanged;
	bool failed_at_stmt;		/* the error is statement failed_stmt's */
	size_t failed_stmt;
};
/* All or nothing: a failure undoes this run's changes. With prune, channels no
 * statement names are closed. */
int xc_apply(struct xc *x, const struct xc_stmt *st, size_t n, bool prune,
	     struct xc_apply_result *r, struct xc_err *e);
void xc_apply_result_free(struct xc_apply_result *r);
/* apply --etcd: the statements as the cluster's desired state in the store at url
 * under prefix (NULL: the default): spec/parts/<id> (each partition needs its node)
 * and chans/.../{out,in}; names in channels are those of the file's partitions. Only
 * keys that differ are put; a failure puts back what this run changed. r counts keys;
 * *written (NULL-terminated, malloc'ed, may be NULL) names the keys put. */
int xc_apply_store(const char *url, const char *prefix, const struct xc_stmt *st, size_t n,
		   struct xc_apply_result *r, char ***written, struct xc_err *e);

/* ---- requests from processes in partitions (the agent's request sockets) ---- */
/* Removes one side's authorization of a channel that is not established. */
void xc_chan_withdraw(struct xc *x, const struct xc_ep *local, const struct xc_ep *remote,
		      uint8_t dir);

/* The policy file (format in the README): what may be authorized on whose behalf. */
struct xc_policy;
int xc_policy_load(const char *path, struct xc_policy **out, struct xc_err *e);
void xc_policy_free(struct xc_policy *p);
size_t xc_policy_rules(const struct xc_policy *p);
struct xc_pol_query {
	uint32_t me, peer;
	const char *me_name, *peer_name;	/* "" when unnamed */
	uint8_t dir;				/* the side me authorizes */
	uint16_t port, peer_port;
};
/* The line of the first rule that allows q, or 0: refused. */
unsigned int xc_policy_allows(const struct xc_policy *p, const struct xc_pol_query *q);

struct xchan_req;
struct xchan_resp;
/* A request as it arrived (len bytes, from an untrusted process): 0 and *out, or
 * -EINVAL with the reason. */
int xc_req_check(const void *buf, size_t len, struct xchan_req *out, struct xc_err *e);
/* Serves a checked request of partition me (known from the socket it came on, never
 * from the request); fills r and returns its length to send. A new side is refused
 * while me has max_pending sides waiting, or max_sides in all (0: no limit). */
size_t xc_req_serve(struct xc *x, const struct xc_policy *p, unsigned int max_pending,
		    unsigned int max_sides, uint32_t me, const struct xchan_req *q,
		    struct xchan_resp *r);
/* The netns of local partition id, checked to hold the partition's veth: an fd. */
int xc_part_netns_open(struct xc *x, uint32_t id, int *fd, struct xc_err *e);
/* The answer to a request that never got as far as serving (malformed, busy). */
size_t xc_req_reject(struct xchan_resp *r, uint8_t op, uint8_t status, int err,
		     const char *msg);

#endif
