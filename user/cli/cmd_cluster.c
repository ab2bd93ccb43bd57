// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_cluster.c: `xchan cluster join` (this node's keys, its id registered in the store,
 * node self, cluster.json) and `xchan cluster status` (the store and the local maps). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "cli.h"
#include "etcd.h"
#include "nodekey.h"
#include "store.h"

struct cluster_cfg {
	const char *etcd, *addr, *state_dir, *prefix;
	uint32_t node, part;
};

static const struct opt join_opts[] = {
	{ "--etcd", 0, "URL", OPT_STR, offsetof(struct cluster_cfg, etcd), OPT_REQUIRED, NULL,
	  "the cluster store, http://HOST:PORT" },
	{ "--node", 0, "ID", OPT_U32, offsetof(struct cluster_cfg, node), OPT_NONZERO, NULL,
	  "this node's id (default: the one it joined with before)" },
	{ "--addr", 0, "IPV4", OPT_STR, offsetof(struct cluster_cfg, addr), 0, NULL,
	  "its address on the fabric (default: as before)" },
	{ "--state-dir", 0, "DIR", OPT_STR, offsetof(struct cluster_cfg, state_dir), 0, NULL,
	  "this node's keys and cluster.json (default " NK_DEFAULT_STATE_DIR ")" },
	{ "--prefix", 0, "PATH", OPT_STR, offsetof(struct cluster_cfg, prefix), 0, NULL,
	  "the cluster's keys in the store (default " ETCD_DEFAULT_PREFIX ")" },
	OPT_END,
};

static const struct opt status_opts[] = {
	{ "--etcd", 0, "URL", OPT_STR, offsetof(struct cluster_cfg, etcd), 0, NULL,
	  "the cluster store (default: from cluster.json)" },
	{ "--state-dir", 0, "DIR", OPT_STR, offsetof(struct cluster_cfg, state_dir), 0, NULL,
	  "where cluster.json is (default " NK_DEFAULT_STATE_DIR ")" },
	{ "--prefix", 0, "PATH", OPT_STR, offsetof(struct cluster_cfg, prefix), 0, NULL,
	  "the cluster's keys in the store (default: from cluster.json)" },
	OPT_END,
};

static const struct opt forget_opts[] = {
	{ "--node", 0, "ID", OPT_U32, offsetof(struct cluster_cfg, node), OPT_NONZERO, NULL,
	  "forget the identity pinned for node ID (a node that was reinstalled)" },
	{ "--part", 0, "ID", OPT_U32, offsetof(struct cluster_cfg, part), OPT_NONZERO, NULL,
	  "forget which node partition ID is bound to (it moved to another node)" },
	{ "--addr", 0, "IPV4[/BITS]", OPT_STR, offsetof(struct cluster_cfg, addr), 0, NULL,
	  "forget which node's partitions may hold address IPV4, or every address of a prefix\n"
	  "(they moved to another node); --node and --part forget their addresses too" },
	{ "--state-dir", 0, "DIR", OPT_STR, offsetof(struct cluster_cfg, state_dir), 0, NULL,
	  "where the agent keeps its pins (default " NK_DEFAULT_STATE_DIR ")" },
	OPT_END,
};

/* What join made in this run, undone if a later step fails. */
struct join_run {
	const char *dir;
	bool made_dir, made_identity, made_kx, registered;
	uint32_t node;
};

/* The settings join runs with: options first, then what cluster.json says. */
static int join_settings(struct cli *c, struct cluster_cfg *k, struct st_conf *sc)
{
	struct st_conf old;
	int err = st_conf_load(k->state_dir, &old, &c->err);
	uint32_t ip;

	if (err && err != -ENOENT)
		return err;
	if (!err && k->node && k->node != old.node)
		return xc_fail(&c->err, -EEXIST, "state directory %s belongs to node %u; use another --state-dir for node %u",
			       k->state_dir, old.node, k->node);
	if (k->addr && inet_pton(AF_INET, k->addr, &ip) != 1)
		return xc_bad(&c->err, "cluster join: '%s' is not an IPv4 address", k->addr);
	if (err && (!k->node || !k->addr))
		return xc_bad(&c->err, "cluster join: --node and --addr are needed on the first join");
	memset(sc, 0, sizeof(*sc));
	sc->node = k->node ? k->node : old.node;
	sc->addr = k->addr ? ip : old.addr;
	sc->lease = err ? 0 : old.lease;	/* the agent's lease, if it still lives */
	snprintf(sc->url, sizeof(sc->url), "%s", k->etcd);
	snprintf(sc->prefix, sizeof(sc->prefix), "%s", k->prefix ? k->prefix :
		 !err ? old.prefix : ETCD_DEFAULT_PREFIX);
	return 0;
}

static void join_undo(struct join_run *r, struct etcd *d)
{
	char p[512], key[32];
	struct xc_err e;

	if (r->registered)
		etcd_delete(d, st_key_id(key, sizeof(key), r->node), NULL, &e);
	if (r->made_kx) {
		snprintf(p, sizeof(p), "%s/%s", r->dir, NK_KX_FILE);
		unlink(p);
	}
	if (r->made_identity) {
		snprintf(p, sizeof(p), "%s/%s", r->dir, NK_IDENTITY_FILE);
		unlink(p);
	}
	if (r->made_dir)
		rmdir(r->dir);
}

/* Keys (made if absent) and the registration; r says what this run made. */
static int join_keys(struct cli *c, struct etcd *d, const struct st_conf *sc,
		     struct join_run *r, struct nk_identity *id, struct nk_kx *kx)
{
	uint8_t there[NK_PUB_LEN];
	int err = st_id_get(d, sc->node, there, &c->err);

	if (err && err != -ENOENT)
		return err;	/* etcd unreachable: nothing made yet */
	r->registered = err == -ENOENT;
	r->made_dir = access(r->dir, F_OK) != 0;
	err = nk_state_dir(r->dir, true, &c->err);
	err = err ?: nk_identity_load(r->dir, true, id, &r->made_identity, &c->err);
	err = err ?: nk_kx_load(r->dir, true, kx, &r->made_kx, &c->err);
	if (err) {
		r->registered = false;
		return err;
	}
	err = st_id_register(d, sc->node, id->pk, &c->err);
	if (err)
		r->registered = false;	/* not ours to remove: someone else's, or not made */
	return err;
}

static void join_report(struct cli *c, const struct st_conf *sc, const struct nk_identity *id,
			const struct nk_kx *kx, const struct join_run *r)
{
	char fpr[NK_FPR_LEN], ip[INET_ADDRSTRLEN];

	nk_fingerprint(id->pk, fpr);
	xc_ip_str(sc->addr, ip);
	if (!c->json) {
		printf("node %u at %s joined %s%s: identity %s%s, key epoch %u\n", sc->node, ip,
		       sc->url, sc->prefix, fpr, r->made_identity ? " (new)" : "", kx->epoch);
		return;
	}
	jw_obj(&c->jw, NULL);
	jw_u64(&c->jw, "node", sc->node);
	jw_str(&c->jw, "addr", ip);
	jw_str(&c->jw, "etcd", sc->url);
	jw_str(&c->jw, "prefix", sc->prefix);
	jw_str(&c->jw, "fingerprint", fpr);
	jw_bool(&c->jw, "new_identity", r->made_identity);
	jw_bool(&c->jw, "registered_now", r->registered);
	jw_u64(&c->jw, "epoch", kx->epoch);
	jw_end_obj(&c->jw);
	jw_done(&c->jw);
}

static int do_join(struct cli *c, void *cfg)
{
	struct cluster_cfg *k = cfg;
	struct join_run r = { 0 };
	struct nk_identity id = { 0 };
	struct nk_kx kx = { 0 };
	struct st_conf sc;
	struct etcd *d;
	int err;

	if (!k->state_dir)
		k->state_dir = NK_DEFAULT_STATE_DIR;
	if (etcd_url_check(k->etcd, &c->err))
		return -EINVAL;
	err = join_settings(c, k, &sc);
	if (err)
		return err;
	d = etcd_open(sc.url, sc.prefix, &c->err);
	if (!d)
		return -EINVAL;
	r.dir = k->state_dir;
	r.node = sc.node;
	err = join_keys(c, d, &sc, &r, &id, &kx);
	err = err ?: xc_node_self(&c->xc, sc.node, sc.addr, &c->err);
	err = err ?: st_conf_save(k->state_dir, &sc, &c->err);
	if (err)
		join_undo(&r, d);
	else
		join_report(c, &sc, &id, &kx, &r);
	nk_identity_wipe(&id);
	nk_kx_wipe(&kx);
	etcd_close(d);
	return err;
}

/* One node as status shows it. */
struct srow {
	uint32_t id;
	bool registered, live, verified, self;
	struct st_node rec;		/* live only */
	int64_t ttl;			/* lease seconds left; -1 unknown */
	const struct xc_node_info *local;	/* this node's map entry for it, if any */
};

struct status {
	struct srow *rows;
	size_t n, cap;
	struct xc_node_info *nodes;	/* the local maps' peers */
	size_t nnodes;
	bool have_maps;
	uint32_t self, self_epoch;
};

static struct srow *row_of(struct status *st, uint32_t id)
{
	struct srow *r;

	for (size_t i = 0; i < st->n; i++)
		if (st->rows[i].id == id)
			return &st->rows[i];
	r = xc_grow((void **)&st->rows, &st->n, &st->cap, sizeof(*r));
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->ttl = -1;
	r->self = id == st->self;
	return r;
}

static int by_id(const void *a, const void *b)
{
	const struct srow *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* ids/ and nodes/ into rows: registered, live, the record checked under its identity. */
static int status_read(struct cli *c, struct etcd *d, struct status *st)
{
	struct etcd_range ids, nodes;
	int err = etcd_range(d, ST_IDS, &ids, &c->err);
	uint32_t id;

	if (err)
		return err;
	err = etcd_range(d, ST_NODES, &nodes, &c->err);
	for (size_t i = 0; !err && i < ids.n; i++) {
		struct srow *r = st_key_num(ids.kvs[i].key, ST_IDS, &id) ? NULL : row_of(st, id);

		if (r)
			r->registered = true;
	}
	for (size_t i = 0; !err && i < nodes.n; i++) {
		const struct etcd_kv *kv = &nodes.kvs[i];
		struct srow *r = st_key_num(kv->key, ST_NODES, &id) ? NULL : row_of(st, id);
		uint8_t pk[NK_PUB_LEN];
		struct xc_err e;

		if (!r)
			continue;
		r->live = true;
		/* the record names the lease it was written on: one replayed by a writer of
		 * the store onto another lease (or none) does not count */
		r->verified = !st_id_get(d, id, pk, &e) &&
			      !st_node_decode(kv->value, kv->vlen, pk, &r->rec, &e) && r->rec.id == id &&
			      r->rec.lease == kv->lease;
		if (!r->verified)
			st_node_decode(kv->value, kv->vlen, NULL, &r->rec, &e);
		if (!kv->lease || etcd_lease_ttl(d, kv->lease, &r->ttl, NULL, &e))
			r->ttl = -1;
		if (r->self && r->verified)
			st->self_epoch = r->rec.epoch;
	}
	etcd_range_free(&ids);
	etcd_range_free(&nodes);
	if (!err && st->n)
		qsort(st->rows, st->n, sizeof(*st->rows), by_id);
	return err;
}

/* The local maps' entry for each peer (no instance: nothing, and no error). */
static void status_maps(struct cli *c, struct status *st)
{
	struct xc_err e;

	if (xc_open(&c->xc, false, &e) || xc_node_list(&c->xc, &st->nodes, &st->nnodes, &e))
		return;
	st->have_maps = true;
	for (size_t i = 0; i < st->n; i++)
		for (size_t j = 0; j < st->nnodes; j++)
			if (st->nodes[j].id == st->rows[i].id)
				st->rows[i].local = &st->nodes[j];
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

/* This node's newest key for the peer in its maps, if any. */
static const struct xc_node_key_info *cur_key(const struct srow *r)
{
	for (int s = 0; r->local && s < 2; s++)
		if (r->local->key[s].valid && r->local->key[s].cur)
			return &r->local->key[s];
	return NULL;
}

static void row_json(struct cli *c, const struct status *st, const struct srow *r)
{
	const struct xc_node_key_info *k = cur_key(r);
	char ip[INET_ADDRSTRLEN];
	uint64_t now = time(NULL);

	jw_obj(&c->jw, NULL);
	jw_u64(&c->jw, "id", r->id);
	jw_str(&c->jw, "addr", r->live ? xc_ip_str(r->rec.addr, ip) : "");
	jw_bool(&c->jw, "live", r->live);
	jw_bool(&c->jw, "verified", r->verified);
	jw_bool(&c->jw, "registered", r->registered);
	jw_bool(&c->jw, "self", r->self);
	if (r->live) {
		jw_u64(&c->jw, "epoch", r->rec.epoch);
		jw_u64(&c->jw, "key_age_s", now > r->rec.key_time ? now - r->rec.key_time : 0);
		if (r->ttl >= 0)
			jw_u64(&c->jw, "lease_ttl_s", r->ttl);
		jw_bool(&c->jw, "verifies_nh", r->verified && r->rec.nh);
	}
	if (!r->self && st->have_maps) {
		jw_obj(&c->jw, "pair_key");
		jw_bool(&c->jw, "installed", k != NULL);
		if (r->local)
			jw_str(&c->jw, "data_mac", r->local->data_nh ? "nh" : "siphash");
		if (k) {
			jw_u64(&c->jw, "id", k->id);
			jw_u64(&c->jw, "age_s", (mono_ns() - k->installed_ns) / 1000000000ULL);
			jw_bool(&c->jw, "current", r->live && st->self_epoch && k->id ==
				nk_pair_key_id(st->self, st->self_epoch, r->id, r->rec.epoch));
		}
		jw_end_obj(&c->jw);
	}
	jw_end_obj(&c->jw);
}

static void row_text(const struct status *st, const struct srow *r)
{
	const struct xc_node_key_info *k = cur_key(r);
	char ip[INET_ADDRSTRLEN], lease[48] = "", pk[128] = "";
	uint64_t now = time(NULL);

	if (!r->live) {
		printf("node %u: down%s%s\n", r->id, r->registered ? "" : " (not registered)",
		       r->self ? " (this node)" : "");
		return;
	}
	if (r->ttl >= 0)
		snprintf(lease, sizeof(lease), ", lease %llds left", (long long)r->ttl);
	if (!r->self && st->have_maps && k)
		snprintf(pk, sizeof(pk), ", pair key id 0x%02x installed %llus ago%s, DATA to it with %s tags",
			 k->id, (unsigned long long)((mono_ns() - k->installed_ns) / 1000000000ULL),
			 st->self_epoch && k->id != nk_pair_key_id(st->self, st->self_epoch, r->id,
								   r->rec.epoch) ? " (not the current one)" : "",
			 r->local->data_nh ? "NH" : "SipHash-2-4");
	else if (!r->self && st->have_maps)
		snprintf(pk, sizeof(pk), ", no pair key installed");
	printf("node %u at %s: live%s, key epoch %u (%llus old)%s%s%s\n", r->id,
	       xc_ip_str(r->rec.addr, ip), r->verified ? "" : " but its record does not verify",
	       r->rec.epoch, (unsigned long long)(now > r->rec.key_time ? now - r->rec.key_time : 0),
	       lease, pk, r->self ? " (this node)" : "");
}

static void status_print(struct cli *c, const struct status *st, struct etcd *d)
{
	if (!c->json) {
		printf("cluster %s%s, this node %u%s\n", etcd_url(d), etcd_prefix(d), st->self,
		       st->have_maps ? "" : " (no local instance: no pair keys shown)");
		for (size_t i = 0; i < st->n; i++)
			row_text(st, &st->rows[i]);
		return;
	}
	jw_obj(&c->jw, NULL);
	jw_str(&c->jw, "etcd", etcd_url(d));
	jw_str(&c->jw, "prefix", etcd_prefix(d));
	jw_u64(&c->jw, "self", st->self);
	jw_arr(&c->jw, "nodes");
	for (size_t i = 0; i < st->n; i++)
		row_json(c, st, &st->rows[i]);
	jw_end_arr(&c->jw);
	jw_end_obj(&c->jw);
	jw_done(&c->jw);
}

static int do_status(struct cli *c, void *cfg)
{
	struct cluster_cfg *k = cfg;
	struct status st = { 0 };
	struct st_conf sc;
	struct etcd *d;
	int err;

	if (!k->state_dir)
		k->state_dir = NK_DEFAULT_STATE_DIR;
	err = st_conf_load(k->state_dir, &sc, &c->err);
	if (err == -ENOENT && !k->etcd)
		return xc_fail(&c->err, -ENOENT, "no %s in %s: run xchan cluster join, or give --etcd",
			       ST_CONF_FILE, k->state_dir);
	if (err && err != -ENOENT)
		return err;
	st.self = err ? 0 : sc.node;
	d = etcd_open(k->etcd ? k->etcd : sc.url, k->prefix ? k->prefix : err ? NULL : sc.prefix,
		      &c->err);
	if (!d)
		return -EINVAL;
	err = status_read(c, d, &st);
	if (!err) {
		status_maps(c, &st);
		status_print(c, &st, d);
	}
	free(st.rows);
	free(st.nodes);
	etcd_close(d);
	return err;
}

/* Addresses pinned to node, held by partition part (the pin's second line), or (both
 * 0) within net/bits, removed; how many, or -errno. A pin that cannot be read is left
 * alone. */
static int addrs_forget(const char *dir, uint32_t node, uint32_t part, uint32_t net,
			unsigned int bits)
{
	uint32_t mask = bits ? htonl(~0U << (32 - bits)) : 0;
	char path[600], buf[16], buf2[16];
	struct dirent *d;
	int n = 0;
	DIR *dh = opendir(dir);

	if (!dh)
		return errno == ENOENT ? 0 : -errno;
	while ((d = readdir(dh))) {
		struct in_addr a;
		uint32_t pinned;
		FILE *f;

		if (inet_pton(AF_INET, d->d_name, &a) != 1)
			continue;	/* . and .., a writer's .tmp */
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (node || part) {
			bool match;

			if (!(f = fopen(path, "r")))
				continue;
			buf2[0] = '\0';
			match = fgets(buf, sizeof(buf), f) && (part ? fgets(buf2, sizeof(buf2), f) != NULL : true);
			fclose(f);
			buf[strcspn(buf, "\n")] = '\0';
			buf2[strcspn(buf2, "\n")] = '\0';
			if (!match || xc_parse_u32(part ? buf2 : buf, &pinned) || pinned != (part ? part : node))
				continue;
		} else if ((a.s_addr & mask) != (net & mask)) {
			continue;
		}
		if (!unlink(path))
			n++;
	}
	closedir(dh);
	return n;
}

/* Removes what the agent pinned in its state directory (it re-reads the pins every
 * round and pins what the store says next). A node forgotten takes its addresses
 * with it: they were its partitions'; a partition that moved, the address it held. */
static int do_forget(struct cli *c, void *cfg)
{
	struct cluster_cfg *k = cfg;
	char path[512], what[64], dir[512], ip[INET_ADDRSTRLEN], *slash;
	unsigned int bits = 32;
	struct in_addr a;
	int err, n = 0;

	if (!!k->node + !!k->part + !!k->addr != 1)
		return xc_bad(&c->err, "give one of --node ID, --part ID or --addr IPV4[/BITS]");
	if (k->addr) {
		char s[32];

		snprintf(s, sizeof(s), "%s", k->addr);
		if ((slash = strchr(s, '/'))) {
			*slash = '\0';
			if (xc_parse_u32(slash + 1, &bits) || bits > 32)
				bits = 33;
		}
		if (strlen(k->addr) >= sizeof(s) || inet_pton(AF_INET, s, &a) != 1 || bits > 32)
			return xc_bad(&c->err, "--addr %s is not an IPv4 address or prefix", k->addr);
	}
	if (!k->state_dir)
		k->state_dir = NK_DEFAULT_STATE_DIR;
	snprintf(dir, sizeof(dir), "%s/%s", k->state_dir, ST_PIN_ADDRS);
	if (k->addr && bits < 32) {
		n = addrs_forget(dir, 0, 0, a.s_addr, bits);
		if (n < 0)
			return xc_fail(&c->err, n, "cannot read %s: %s", dir, strerror(-n));
		if (!n)
			return xc_fail(&c->err, -ENOENT, "no address in %s pinned in %s", k->addr,
				       k->state_dir);
		if (!c->json)
			printf("%d address(es) in %s forgotten: the agent pins what the store says next\n",
			       n, k->addr);
		return 0;
	}
	if (k->node) {
		snprintf(path, sizeof(path), "%s/%s/%u", k->state_dir, ST_PIN_IDS, k->node);
		snprintf(what, sizeof(what), "node %u", k->node);
	} else if (k->part) {
		snprintf(path, sizeof(path), "%s/%s/%u", k->state_dir, ST_PIN_PARTS, k->part);
		snprintf(what, sizeof(what), "partition %u", k->part);
	} else {
		/* the file's name is the address as inet_ntop writes it, whatever was typed */
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		snprintf(path, sizeof(path), "%s/%s/%s", k->state_dir, ST_PIN_ADDRS, ip);
		snprintf(what, sizeof(what), "address %s", ip);
	}
	if (unlink(path)) {
		err = errno;
		if (err == ENOENT)
			return xc_fail(&c->err, -ENOENT, "nothing pinned for %s in %s", what,
				       k->state_dir);
		return xc_fail(&c->err, -err, "cannot remove %s: %s", path, strerror(err));
	}
	if ((k->node || k->part) && (n = addrs_forget(dir, k->node, k->part, 0, 0)) < 0)
		return xc_fail(&c->err, n, "%s forgotten, but not its addresses: cannot read %s: %s",
			       what, dir, strerror(-n));
	if (!c->json)
		printf("%s forgotten%s: the agent pins what the store says next\n", what,
		       !n ? "" : k->node ? ", with its partitions' addresses" : ", with its address");
	return 0;
}

const struct cmd cmds_cluster[] = {
	CMD("join", join_opts, sizeof(struct cluster_cfg), do_join, false,
	  "Joins the cluster store: makes this node's keys if absent, registers its id, sets node self."),
	CMD("status", status_opts, sizeof(struct cluster_cfg), do_status, false,
	  "Every node in the store: live or down, key epoch and age, lease, this node's pair key (never a key)."),
	CMD("forget", forget_opts, sizeof(struct cluster_cfg), do_forget, false,
	  "Forgets a pinned node identity (for a node that was reinstalled), partition binding or address binding, so the agent accepts the store's next one."),
	{ NULL },
};
