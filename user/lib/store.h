/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* store.h: the cluster store's layout (docs/DESIGN.md section 9): key names, the signed
 * records nodes/<id> and parts/<id> with their canonical strings, node registration
 * under ids/<id>, and cluster.json, this node's membership in the state directory. */
#ifndef XCHAN_STORE_H
#define XCHAN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "etcd.h"
#include "nodekey.h"

/* Key names, relative to the prefix. */
#define ST_IDS		"ids/"		/* ids/<node>: identity public key, hex; never leased */
#define ST_NODES	"nodes/"	/* nodes/<node>: struct st_node, on the node's lease */
#define ST_PARTS	"parts/"	/* parts/<part>: struct st_part, on the host's lease */
#define ST_SPEC_PARTS	"spec/parts/"	/* spec/parts/<part>: desired partitions (apply) */
#define ST_CHANS	"chans/"	/* chans/<src>:<sport>/<dst>:<dport>/{in,out} */
#define ST_CONF_FILE	"cluster.json"
#define ST_RECORD_MAX	1024		/* a node or partition record as JSON */
/* Pins in the state directory (the agent writes them on first sight, `cluster forget`
 * removes them): known/<node> its identity public key hex (and, on a second line, the
 * newest key epoch of its records), bound/<part> its node id, addrs/<a.b.c.d> the node
 * whose partitions may hold that address. */
#define ST_PIN_IDS	"known"
#define ST_PIN_PARTS	"bound"
#define ST_PIN_ADDRS	"addrs"

/* "nodes/7" into buf (at least 32 bytes); the same for the others. */
const char *st_key_id(char *buf, size_t len, uint32_t node);
const char *st_key_node(char *buf, size_t len, uint32_t node);
const char *st_key_part(char *buf, size_t len, uint32_t part);
/* The number after a prefix ("nodes/7" and ST_NODES: 0 and 7), else -EINVAL. */
int st_key_num(const char *key, const char *prefix, uint32_t *out);

/* nodes/<id>: what a node announces. */
struct st_node {
	uint32_t id;
	uint32_t addr;			/* network order */
	uint8_t kx_pub[NK_PUB_LEN];
	uint32_t epoch;
	uint64_t key_time;		/* unix seconds */
	int64_t lease;
	bool nh;			/* it verifies DATA with NH tags (caps "nh") */
	bool caps_ignored;		/* decoded: caps there, but malformed or not signed */
};
/* "xchan-node-v1|id|addr|kx_pub hex|epoch|key_time|lease": what sig signs. */
int st_node_canon(const struct st_node *n, char *buf, size_t len);
/* A record's capabilities travel beside the fields above, signed apart ("caps", a
 * comma-separated list, and "caps_sig" over the canon above, "|caps=" and the list),
 * so that an agent from before them still verifies the record it knows; one that
 * knows them ignores a list that is malformed or whose signature does not verify
 * (caps_ignored, e says why; the record stands, as one from before them), and a name
 * it does not know. Removing both is possible for whoever writes the store anyway:
 * it makes the node look like one from before them (DATA to it with SipHash-2-4
 * tags), which is secure too. Names: [a-z0-9_-], comma-separated. */
#define ST_CAPS_MAX	256
/* The record as JSON, signed by id, into buf. */
int st_node_encode(const struct st_node *n, const struct nk_identity *id, char *buf,
		   size_t len, struct xc_err *e);
/* Parses json; with pk non-NULL, also checks sig under pk (-EBADMSG: bad signature,
 * -EINVAL: malformed; e says which field). */
int st_node_decode(const char *json, size_t len, const uint8_t *pk, struct st_node *n,
		   struct xc_err *e);

/* parts/<id>: a partition a node hosts. */
struct st_part {
	uint32_t id, node;
	uint32_t addr;			/* network order */
	char name[32];			/* XCHAN_NAME_LEN; "" for none */
	bool isolated;
};
/* "xchan-part-v1|id|name|node|addr|isolated" */
int st_part_canon(const struct st_part *p, char *buf, size_t len);
int st_part_encode(const struct st_part *p, const struct nk_identity *id, char *buf,
		   size_t len, struct xc_err *e);
int st_part_decode(const char *json, size_t len, const uint8_t *pk, struct st_part *p,
		   struct xc_err *e);

/* ids/<node>: registers identity pk for node, once (create-if-absent). 0 when it is
 * registered to pk now or was already; -EEXIST when another identity holds the id:
 * "node id N is registered to another identity (fingerprint XXXXXXXXXXXXXXXX); ...". */
int st_id_register(struct etcd *d, uint32_t node, const uint8_t pk[NK_PUB_LEN],
		   struct xc_err *e);
/* The identity registered for node: -ENOENT if none. */
int st_id_get(struct etcd *d, uint32_t node, uint8_t pk[NK_PUB_LEN], struct xc_err *e);

/* cluster.json in the state directory: written by `cluster join`, read by the agent. */
struct st_conf {
	char url[256];
	char prefix[128];
	uint32_t node;
	uint32_t addr;			/* network order */
	int64_t lease;			/* 0: none yet */
};
/* -ENOENT when the file is absent (not a cluster member). */
int st_conf_load(const char *dir, struct st_conf *c, struct xc_err *e);
/* Atomic replace (temporary file, fsync, rename), mode 0600. */
int st_conf_save(const char *dir, const struct st_conf *c, struct xc_err *e);

#endif
