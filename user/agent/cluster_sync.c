// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_sync.c: reconcile, the maps made to say what the view says: live peers and
 * their pair keys, peers gone, their partitions, the partitions specified for this node
 * and the channels (cluster_chans.c). Every step is idempotent: it compares first and
 * changes only what differs, so a round after a round changes nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <json-c/json.h>
#include "agent.h"
#include "xc_int.h"
#include "cluster.h"
#include "cluster_sync.h"
#include "store.h"

/* ids/<id>: the identity pinned here for that node (pinned at first sight); another
 * one is refused (-EPERM). ids/<self> must be this node's own identity. */
static int ident_of(struct cluster *c, uint32_t id, uint8_t pk[NK_PUB_LEN])
{
	char key[32];
	const struct view_kv *kv = view_get(&c->view, st_key_id(key, sizeof(key), id));

	if (!kv || nk_unhex(kv->val, pk, NK_PUB_LEN))
		return -ENOENT;
	if (id == c->self) {
		memcpy(pk, c->ident.pk, NK_PUB_LEN);
		return 0;
	}
	return pin_ident(c, id, pk);
}

bool node_member(struct cluster *c, uint32_t id)
{
	char key[32];

	return id == c->self || view_get(&c->view, st_key_id(key, sizeof(key), id));
}

bool node_managed(struct cluster *c, uint32_t id)
{
	return node_member(c, id) || pin_ident_has(c, id);
}

/* nodes/<id> of a live node: signed by its identity, and on the lease it names (a
 * signed record replayed onto no lease, or another one, would outlive the node). */
int node_rec_parse(struct cluster *c, const struct view_kv *kv, struct node_rec *r)
{
	const char *key = kv->key, *val = kv->val;
	uint8_t pk[NK_PUB_LEN];
	char ckey[64];
	struct st_node n;
	struct xc_err e = {};
	uint32_t id;
	int err;

	if (cl_key_num(c, key, ST_NODES, &id))
		return -EINVAL;
	if (ident_of(c, id, pk)) {
		bad_sig_once(c, key, "no identity registered under ids/ for that node");
		return -ENOENT;
	}
	err = st_node_decode(val, strlen(val), pk, &n, &e);
	if (!err && n.id != id)
		err = xc_fail(&e, -EINVAL, "it names node %u", n.id);
	if (!err && (!kv->lease || n.lease != kv->lease))
		err = xc_fail(&e, -EINVAL, "it names lease %llx but is on %llx",
			      (unsigned long long)n.lease, (unsigned long long)kv->lease);
	if (!err && pin_epoch(c, id, n.epoch))
		err = xc_fail(&e, -ESTALE, "key epoch %u is older than one seen before (xchan cluster forget --node %u if its keys were restored from an older copy)",
			      n.epoch, id);
	if (err) {
		bad_sig_once(c, key, e.msg);
		return err;
	}
	bad_sig_forget(c, key);
	snprintf(ckey, sizeof(ckey), "%s caps", key);
	if (n.caps_ignored)
		bad_sig_once(c, ckey, e.msg);
	else
		bad_sig_forget(c, ckey);
	*r = (struct node_rec){ .id = id, .addr = n.addr, .epoch = n.epoch,
				.key_time = (int64_t)n.key_time, .nh = n.nh };
	memcpy(r->pub, n.kx_pub, sizeof(r->pub));
	return 0;
}

bool node_live(struct cluster *c, uint32_t id)
{
	char key[32];
	const struct view_kv *kv;
	struct node_rec r;

	if (id == c->self)
		return true;
	kv = view_get(&c->view, st_key_node(key, sizeof(key), id));
	return kv && !node_rec_parse(c, kv, &r);
}

/* The node spec/parts/<part> names (the operator's word), 0 if none. */
static uint32_t spec_node(struct cluster *c, uint32_t part)
{
	char key[48];
	const struct view_kv *kv;
	struct json_object *o, *v;
	uint32_t node = 0;

	snprintf(key, sizeof(key), ST_SPEC_PARTS "%u", part);
	if (!(kv = view_get(&c->view, key)) || !(o = json_tokener_parse(kv->val)))
		return 0;
	if (json_object_object_get_ex(o, "node", &v) && json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) > 0 && json_object_get_int64(v) <= UINT32_MAX)
		node = (uint32_t)json_object_get_int64(v);
	json_object_put(o);
	return node;
}

/* This host's IPv4 addresses (in the agent's netns), read once a round. */
static bool host_addr(struct cluster *c, uint32_t addr)
{
	struct ifaddrs *ifa;

	if (!c->host_read && !getifaddrs(&ifa)) {
		c->nhost = 0;
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			uint32_t *a;

			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
				continue;
			a = xc_grow((void **)&c->host_addrs, &c->nhost, &c->caphost, sizeof(*a));
			if (a)
				*a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		}
		freeifaddrs(ifa);
		c->host_read = true;
	}
	for (size_t i = 0; i < c->nhost; i++)
		if (c->host_addrs[i] == addr)
			return true;
	return false;
}

/* A remote partition's address must not be a node's (any nodes/ record's, this
 * node's) nor one of this host's own: it would black-hole that address here. */
static bool addr_taken(struct cluster *c, uint32_t addr)
{
	size_t first, n = view_under(&c->view, ST_NODES, &first);

	if (addr == c->self_addr || host_addr(c, addr))
		return true;
	for (size_t k = first; k < first + n; k++) {
		struct st_node nr;
		struct xc_err ign;

		if (!st_node_decode(c->view.kv[k].val, strlen(c->view.kv[k].val), NULL, &nr, &ign) &&
		    nr.addr == addr)
			return true;
	}
	return false;
}

/* Whom part may belong to: the spec's node if the operator named one, else the node
 * it is bound to here (-EPERM: another node's claim). */
static int part_bound(struct cluster *c, const struct st_part *p, struct xc_err *e)
{
	uint32_t want = spec_node(c, p->id);

	if (pin_part(c, p->id, p->node, false))
		return xc_fail(e, -EPERM, "partition %u is bound to node %u here; node %u's claim refused",
			       p->id, pin_part_node(c, p->id), p->node);
	if (want && want != p->node)
		return xc_fail(e, -EPERM, "partition %u is specified for node %u; node %u's claim refused",
			       p->id, want, p->node);
	if (p->node != c->self && addr_taken(c, p->addr))
		return xc_fail(e, -EPERM, "node %u claims an address of a node or of this host",
			       p->node);
	if (pin_addr(c, p->addr, p->node, p->id, false)) {
		char a[INET_ADDRSTRLEN];

		return xc_fail(e, -EPERM, "address %s is bound to node %u here; node %u's claim refused",
			       xc_ip_str(p->addr, a), pin_addr_node(c, p->addr), p->node);
	}
	return 0;
}

/* parts/<id> of a live peer, its signature checked under that peer's identity, its
 * node the one it is bound to (-EPERM otherwise). */
static int part_rec(struct cluster *c, const struct view_kv *kv, struct st_part *p)
{
	uint8_t pk[NK_PUB_LEN];
	struct xc_err e = {};
	uint32_t id;
	int err;

	if (cl_key_num(c, kv->key, ST_PARTS, &id))
		return -EINVAL;
	err = st_part_decode(kv->val, strlen(kv->val), NULL, p, &e);
	if (!err && (p->id != id || !p->node))
		err = xc_fail(&e, -EINVAL, "malformed record");
	if (!err && ident_of(c, p->node, pk))
		err = xc_fail(&e, -ENOENT, "node %u has no identity accepted here", p->node);
	if (!err)
		err = st_part_decode(kv->val, strlen(kv->val), pk, p, &e);
	if (!err)
		err = part_bound(c, p, &e);
	if (err == -EPERM)
		refuse_once(c, kv->key, e.msg);
	else if (err)
		bad_sig_once(c, kv->key, e.msg);
	if (err)
		return err;
	bad_sig_forget(c, kv->key);
	refuse_clear(c, kv->key);
	return 0;
}

static void nexthop_retry(struct cluster *c, const struct xc_node_info *n)
{
	struct xc_err e = {};
	char what[48];

	snprintf(what, sizeof(what), "next hop of node %u", n->id);
	if (xc_node_refresh_one(c->xc, n->id, n->addr, &e))
		fail_set(c, what, e.msg);
	else
		fail_clear(c, what);
}

/* A live peer without a next hop (its ARP timed out when its key was installed): its
 * DATA would be drop_no_neighbour until something resolves it again, and on the
 * sender's node nothing else would (only the receiver's exchanges refresh it). Last in
 * the round and a few per round: each try may wait 1.5 s for ARP. */
#define NEXTHOP_TRIES_PER_ROUND	4

static void nexthops_sync(struct cluster *c, struct snap *s)
{
	int tries = 0;

	for (size_t i = 0; i < s->nnodes; i++) {
		char what[48];

		if (s->nodes[i].nh_ifindex || !node_live(c, s->nodes[i].id))
			continue;
		snprintf(what, sizeof(what), "next hop of node %u", s->nodes[i].id);
		/* every pending item is looked at (fail_due keeps it), a few are tried */
		if (!fail_due(c, what) || tries >= NEXTHOP_TRIES_PER_ROUND)
			continue;
		nexthop_retry(c, &s->nodes[i]);
		tries++;
	}
}

/* An install may wait up to 1.5 s for the peer's ARP: a round installs a few, and the
 * next round (at once) goes on, so that partitions and channels are not held up. */
#define INSTALLS_PER_ROUND	8

static void peers_sync(struct cluster *c, struct snap *s)
{
	size_t first, n = view_under(&c->view, ST_NODES, &first);
	int installs = 0;

	for (size_t i = 0; i < c->npeers; i++)
		c->peers[i].seen = false;
	for (size_t i = first; i < first + n; i++) {
		struct node_rec r;

		if (node_rec_parse(c, &c->view.kv[i], &r) || r.id == c->self)
			continue;
		installs += keys_peer(c, &r, installs < INSTALLS_PER_ROUND);
	}
	if (installs >= INSTALLS_PER_ROUND)
		c->dirty = true;	/* more may be waiting: another round right away */
	/* gone: a member that is not live, whether this run installed it or a past one */
	for (size_t i = 0; i < s->nnodes; i++) {
		uint32_t id = s->nodes[i].id;

		if (node_managed(c, id) && !node_live(c, id))
			peer_down(c, id, s);
	}
	for (size_t i = 0; i < c->npeers;) {
		if (!c->peers[i].seen) {
			c->peers[i] = c->peers[--c->npeers];
			continue;
		}
		i++;
	}
}

static void remote_part_ensure(struct cluster *c, struct snap *s, const struct st_part *p)
{
	const struct xc_part_info *have = snap_part(s, p->id);
	struct xc_part_spec spec = { .id = p->id, .name = p->name[0] ? p->name : NULL,
				     .src = XC_SRC_REMOTE, .node = p->node, .isolated = p->isolated };
	struct xc_part_added added;
	struct xc_err e = {};
	char what[48], ip[INET_ADDRSTRLEN];

	snprintf(what, sizeof(what), "partition %u of node %u", p->id, p->node);
	if (have && !have->meta.node_id) {
		fail_set(c, what, "a local partition has that id here");
		return;
	}
	if (have && have->meta.node_id == p->node && have->row.ip == p->addr &&
	    !strcmp(have->meta.name, p->name) &&
	    !!(have->meta.flags & XCHAN_PART_ISOLATED) == p->isolated)
		return;
	if (!fail_due(c, what))
		return;
	if (have) {
		xc_part_remove(c->xc, p->id, NULL);
		agent_log(LOG_INFO, "cluster: partition %u changed on node %u: rows replaced", p->id,
			  p->node);
	}
	spec.ip = xc_ip_str(p->addr, ip);
	if (xc_part_add(c->xc, &spec, &added, &e)) {
		fail_set(c, what, e.msg);
		return;
	}
	fail_clear(c, what);
	agent_log(LOG_INFO, "cluster: partition %u%s%s (%s) of node %u added", p->id,
		  p->name[0] ? " " : "", p->name, ip, p->node);
}

static void parts_sync(struct cluster *c, struct snap *s)
{
	size_t first, n = view_under(&c->view, ST_PARTS, &first);

	for (size_t i = first; i < first + n; i++) {
		struct st_part p;

		if (part_rec(c, &c->view.kv[i], &p) || !node_live(c, p.node))
			continue;
		pin_part(c, p.id, p.node, true);
		pin_addr(c, p.addr, p.node, p.id, true);
		if (p.node == c->self)
			continue;
		/* its node's key not installed yet (a later round's): not an error */
		if (!snap_node(s, p.node))
			continue;
		remote_part_ensure(c, s, &p);
	}
	/* a member's partition no live record announces any more: removed */
	for (size_t i = 0; i < s->nparts; i++) {
		const struct xc_part_info *pi = &s->parts[i];
		char key[32];
		const struct view_kv *kv;
		struct st_part p;

		if (!pi->meta.node_id || !node_managed(c, pi->meta.node_id))
			continue;
		kv = view_get(&c->view, st_key_part(key, sizeof(key), pi->id));
		if (kv && !part_rec(c, kv, &p) && p.node == pi->meta.node_id &&
		    node_live(c, p.node))
			continue;
		/* a claim refused: the partition stays with the node it is bound to */
		if (pin_part_node(c, pi->id) == pi->meta.node_id && node_live(c, pi->meta.node_id))
			continue;
		xc_part_remove(c->xc, pi->id, NULL);
		agent_log(LOG_INFO, "cluster: partition %u of node %u removed: %s", pi->id,
			  pi->meta.node_id, node_live(c, pi->meta.node_id) ? "no longer announced" :
			  "its node is down");
	}
}

/* ids/<self> must hold this node's identity: else the store is not trusted this round
 * (this node's own records are still published). */
static int self_check(struct cluster *c)
{
	char key[32];
	const struct view_kv *kv = view_get(&c->view, st_key_id(key, sizeof(key), c->self));
	uint8_t pk[NK_PUB_LEN];

	if (!kv)
		return 0;	/* not in the view yet (or deleted: join registers it again) */
	if (!nk_unhex(kv->val, pk, NK_PUB_LEN) && !memcmp(pk, c->ident.pk, NK_PUB_LEN)) {
		refuse_clear(c, key);
		return 0;
	}
	for (size_t i = 0; i < c->nrefused; i++)
		if (!strcmp(c->refused[i].what, key))
			return -EPERM;
	agent_log(LOG_ERR, "cluster: %s is not this node's identity: peers and partitions are not synced until it is put right",
		  key);
	refuse_once(c, key, "not this node's identity");
	return -EPERM;
}

void sync_all(struct cluster *c)
{
	struct snap s = {};
	struct xc_err e = {};

	fails_begin(c);
	pins_round(c);
	if (snap_take(c, &s, &e)) {
		fail_set(c, "reading the maps", e.msg);
		fails_end(c);
		return;
	}
	/* this node's own partitions first, announced at once: installing N-1 pair keys
	 * waits for N-1 next hops (ARP), and the peers need not wait for that */
	specs_sync(c, &s);
	pub_tick(c);
	if (self_check(c)) {
		snap_free(&s);
		goto out;
	}
	peers_sync(c, &s);
	snap_free(&s);
	if (!snap_take(c, &s, &e)) {
		parts_sync(c, &s);
		snap_free(&s);
	}
	if (!snap_take(c, &s, &e)) {
		chans_sync(c, &s);
		nexthops_sync(c, &s);
		snap_free(&s);
	}
out:
	fails_end(c);
}

void sync_reset_remote(struct cluster *c)
{
	struct snap s = {};
	struct xc_err e = {};
	int n = 0;

	if (snap_take(c, &s, &e))
		return;
	for (size_t i = 0; i < s.nparts; i++)
		if (s.parts[i].meta.node_id && node_managed(c, s.parts[i].meta.node_id)) {
			xc_part_remove(c->xc, s.parts[i].id, NULL);
			n++;
		}
	snap_free(&s);
	agent_log(LOG_NOTE, "cluster: this node's lease was granted anew: %d remote partition(s) and their channels are made again from the store",
		  n);
}
