// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_chans.c: reconcile's steps for what the store specifies: partitions for this
 * node (spec/parts/), channels (chans/<src>:<sport>/<dst>:<dport>/{out,in}), and a peer
 * that went down. The receiver's node connects once both sides are in the store and
 * the sender's node is live; a key deleted closes the channel on the receiver's node
 * and withdraws the OUT side on the sender's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "agent.h"
#include "xc_int.h"
#include "cluster_sync.h"
#include "store.h"

int snap_take(struct cluster *c, struct snap *s, struct xc_err *e)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = xc_part_list(c->xc, &s->parts, &s->nparts, e);
	if (!err)
		err = xc_chan_list(c->xc, &s->chans, &s->nchans, e);
	if (!err)
		err = xc_node_list(c->xc, &s->nodes, &s->nnodes, e);
	if (err)
		snap_free(s);
	return err;
}

void snap_free(struct snap *s)
{
	free(s->parts);
	free(s->chans);
	free(s->nodes);
	memset(s, 0, sizeof(*s));
}

const struct xc_part_info *snap_part(const struct snap *s, uint32_t id)
{
	for (size_t i = 0; i < s->nparts; i++)
		if (s->parts[i].id == id)
			return &s->parts[i];
	return NULL;
}

const struct xc_node_info *snap_node(const struct snap *s, uint32_t id)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].id == id)
			return &s->nodes[i];
	return NULL;
}

const struct xc_chan_info *snap_chan(const struct snap *s, const struct xc_ep *local,
				     const struct xc_ep *remote, uint8_t dir)
{
	struct xchan_chan_id id;

	xchan_chan_id_make(&id, local->part, local->port, remote->part, remote->port, dir);
	for (size_t i = 0; i < s->nchans; i++)
		if (!memcmp(&s->chans[i].id, &id, sizeof(id)))
			return &s->chans[i];
	return NULL;
}

void peer_down(struct cluster *c, uint32_t id, struct snap *s)
{
	struct xc_err e = {};
	int nparts = 0;

	for (size_t i = 0; i < s->nparts; i++)
		if (s->parts[i].meta.node_id == id) {
			xc_part_remove(c->xc, s->parts[i].id, NULL);
			nparts++;
		}
	if (xc_node_del(c->xc, id, &e) && e.msg[0])
		agent_log(LOG_WARN, "cluster: node %u: %s", id, e.msg);
	keys_peer_forget(c, id);
	agent_log(LOG_NOTE, "cluster: node %u is down (its lease expired): its pair keys and %d partition(s) removed, its channels refused",
		  id, nparts);
}

/* ---- spec/parts/<id> ---- */

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

static bool jbool(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

/* A whole number in 1..max, else 0 (no cast that wraps: 2^32+1 is not 1). */
static uint32_t jid(struct json_object *o, const char *k, uint32_t max)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	x = json_object_get_int64(v);
	return x > 0 && x <= (int64_t)max ? (uint32_t)x : 0;
}

/* The apply statement as apply --etcd wrote it (see cmd_apply.c). */
static int spec_parse(struct json_object *o, struct xc_part_spec *s)
{
	const char *mode = jstr(o, "mode");
	struct json_object *v;

	memset(s, 0, sizeof(*s));
	s->id = jid(o, "id", UINT32_MAX);
	s->name = jstr(o, "name");
	s->ip = jstr(o, "ip");
	s->isolated = jbool(o, "isolated");
	s->strict = jbool(o, "strict");
	s->mode = !mode ? XC_MODE_ANY : !strcmp(mode, "native") ? XC_MODE_NATIVE :
		  !strcmp(mode, "generic") ? XC_MODE_GENERIC : XC_MODE_ANY;
	if ((s->src_name = jstr(o, "dev")))
		s->src = XC_SRC_DEV;
	else if ((s->src_name = jstr(o, "netns")))
		s->src = XC_SRC_NETNS;
	else if ((s->src_name = jstr(o, "podman")))
		s->src = XC_SRC_PODMAN;
	else if (json_object_object_get_ex(o, "pid", &v)) {
		/* a pid is at most 2^22 (PID_MAX_LIMIT); never 1 by wrapping */
		if (!(s->pid = jid(o, "pid", 4194304)))
			return -EINVAL;
		s->src = XC_SRC_PID;
	}
	return s->id && s->src ? 0 : -EINVAL;
}

static void spec_one(struct cluster *c, struct snap *s, const struct view_kv *kv)
{
	struct json_object *o;
	struct xc_part_spec spec;
	struct xc_part_added added;
	struct xc_err e = {};
	char what[48];
	uint32_t key_id;

	if (cl_key_num(c, kv->key, ST_SPEC_PARTS, &key_id))
		return;
	o = json_tokener_parse(kv->val);
	if (!o || jid(o, "node", UINT32_MAX) != c->self)
		goto out;
	snprintf(what, sizeof(what), "%s", kv->key);
	if (spec_parse(o, &spec) || spec.id != key_id) {
		bad_sig_once(c, kv->key, "malformed partition spec (or its id is not the key's)");
		goto out;
	}
	if (snap_part(s, spec.id) || !fail_due(c, what))
		goto out;
	if (xc_part_add(c->xc, &spec, &added, &e)) {
		fail_set(c, what, e.msg);
		goto out;
	}
	fail_clear(c, what);
	agent_log(LOG_INFO, "cluster: partition %u%s%s added as specified in the store", spec.id,
		  spec.name ? " " : "", spec.name ? spec.name : "");
out:
	json_object_put(o);
}

void specs_sync(struct cluster *c, struct snap *s)
{
	size_t first, n = view_under(&c->view, ST_SPEC_PARTS, &first);

	for (size_t i = first; i < first + n; i++)
		spec_one(c, s, &c->view.kv[i]);
}

/* ---- chans/<src>:<sport>/<dst>:<dport>/{out,in} ---- */

struct want {
	struct xc_ep src, dst;
	bool in, out;
};

/* One number of a channel key, canonical, up to its separator; the rest in *end. */
static int key_field(const char **p, char sep, uint32_t max, uint32_t *out)
{
	const char *end = strchr(*p, sep);

	if (!end)
		return -EINVAL;
	if (max == 65535 && end - *p == 1 && **p == '0')
		*out = 0;	/* a port may be 0 */
	else if (cl_num(*p, (size_t)(end - *p), max, out))
		return -EINVAL;
	*p = end + 1;
	return 0;
}

/* chans/<src>:<sport>/<dst>:<dport>/{in,out}, each number in one spelling only. */
static int chan_key_parse(struct cluster *c, const char *key, struct want *w, bool *is_in)
{
	const char *p = key + strlen(ST_CHANS);
	uint32_t sp, sport, dp, dport;

	if (strncmp(key, ST_CHANS, strlen(ST_CHANS)) || key_field(&p, ':', UINT32_MAX, &sp) ||
	    key_field(&p, '/', 65535, &sport) || key_field(&p, ':', UINT32_MAX, &dp) ||
	    key_field(&p, '/', 65535, &dport) || (strcmp(p, "in") && strcmp(p, "out"))) {
		bad_sig_once(c, key, "not a canonical channel key");
		return -EINVAL;
	}
	memset(w, 0, sizeof(*w));
	w->src.part = sp;
	w->src.port = (uint16_t)sport;
	w->dst.part = dp;
	w->dst.port = (uint16_t)dport;
	*is_in = !strcmp(p, "in");
	return 0;
}

static bool ep_eq(const struct xc_ep *a, const struct xc_ep *b)
{
	return a->part == b->part && a->port == b->port;
}

static bool is_local(const struct snap *s, uint32_t part)
{
	const struct xc_part_info *pi = snap_part(s, part);

	return pi && !pi->meta.node_id;
}

static bool mine_has(struct cluster *c, const struct xc_ep *src, const struct xc_ep *dst, bool del)
{
	for (size_t i = 0; i < c->nmine; i++)
		if (c->mine[i].sp == src->part && c->mine[i].sport == src->port &&
		    c->mine[i].dp == dst->part && c->mine[i].dport == dst->port) {
			if (del)
				c->mine[i] = c->mine[--c->nmine];
			return true;
		}
	return false;
}

static void mine_add(struct cluster *c, const struct xc_ep *src, const struct xc_ep *dst)
{
	typeof(c->mine) m;

	if (mine_has(c, src, dst, false))
		return;
	m = xc_grow((void **)&c->mine, &c->nmine, &c->capmine, sizeof(*c->mine));
	if (m)
		*m = (typeof(*m)){ src->part, dst->part, src->port, dst->port };
}

static void chan_what(char *buf, size_t len, const struct want *w, const char *step)
{
	snprintf(buf, len, "channel %u:%u -> %u:%u %s", w->src.part, w->src.port, w->dst.part,
		 w->dst.port, step);
}

static void authorize(struct cluster *c, const struct want *w, bool in)
{
	struct xc_err e = {};
	char what[96];
	int err;

	chan_what(what, sizeof(what), w, in ? "authorize in" : "authorize out");
	if (!fail_due(c, what))
		return;
	err = in ? xc_chan_authorize(c->xc, &w->dst, &w->src, XCHAN_DIR_IN, &e) :
		   xc_chan_authorize(c->xc, &w->src, &w->dst, XCHAN_DIR_OUT, &e);
	if (err && err != -EEXIST)
		fail_set(c, what, e.msg);
	else
		fail_clear(c, what);
}

/* The receiver's node: connects once both sides are specified and the sender's node
 * is live (NACK no_out_entry while its agent has not authorized yet: retried). */
static void connect_one(struct cluster *c, struct snap *s, const struct want *w)
{
	const struct xc_part_info *src = snap_part(s, w->src.part);
	struct xc_err e = {};
	char what[96];
	int err;

	if (!src || (src->meta.node_id && !node_live(c, src->meta.node_id)))
		return;		/* its partition is not announced yet, or its node is down */
	chan_what(what, sizeof(what), w, "connect");
	if (!fail_due(c, what))
		return;
	err = xc_chan_connect(c->xc, &w->dst, &w->src, &e);
	if (err == -EEXIST && src->meta.node_id) {
		/* The sender's node still holds a key from an earlier connect of ours that
		 * this node lost (it took the sender's node down meanwhile, or its maps
		 * were reset). Only this node can have put it there (origin check), so
		 * CLOSE it; the next round authorizes and connects anew. */
		bool unacked;
		struct xc_err e2 = {};

		xc_chan_close(c->xc, &w->src, &w->dst, &unacked, &e2);
		agent_log(LOG_WARN, "cluster: channel %u:%u -> %u:%u: node %u's CMM held a stale key, "
			  "closed it there%s; connecting again", w->src.part, w->src.port, w->dst.part,
			  w->dst.port, src->meta.node_id, unacked ? " (CLOSE unanswered)" : "");
	}
	if (err) {
		fail_set(c, what, e.msg);
		return;
	}
	fail_clear(c, what);
	if (!src->meta.node_id)
		mine_add(c, &w->src, &w->dst);
	agent_log(LOG_NOTE, "cluster: channel %u:%u -> %u:%u established", w->src.part, w->src.port,
		  w->dst.part, w->dst.port);
}

static void want_apply(struct cluster *c, struct snap *s, const struct want *w)
{
	const struct xc_chan_info *in;

	/* an entry naming a partition not registered here yet would keep it from being
	 * registered (partition add refuses ids that channel entries still name) */
	if (!snap_part(s, w->src.part) || !snap_part(s, w->dst.part))
		return;
	if (w->out && is_local(s, w->src.part) && !snap_chan(s, &w->src, &w->dst, XCHAN_DIR_OUT))
		authorize(c, w, false);
	if (!w->in || !is_local(s, w->dst.part))
		return;
	in = snap_chan(s, &w->dst, &w->src, XCHAN_DIR_IN);
	if (!in)
		authorize(c, w, true);
	if (w->out && (!in || in->ch.state != XCHAN_S_ESTABLISHED))
		connect_one(c, s, w);
}

/* Whether the store speaks for this entry: its other end is a cluster member's
 * partition, or both ends are here and this run connected it from the store. */
static bool managed(struct cluster *c, struct snap *s, const struct xc_ep *src,
		    const struct xc_ep *dst, const struct xc_ep *remote)
{
	const struct xc_part_info *pi = snap_part(s, remote->part);

	if (!pi)
		return false;
	if (pi->meta.node_id)
		return node_managed(c, pi->meta.node_id);
	return mine_has(c, src, dst, false);
}

static void unwanted_one(struct cluster *c, struct snap *s, const struct xc_chan_info *ci)
{
	bool in = ci->id.dir == XCHAN_DIR_IN, est = ci->ch.state == XCHAN_S_ESTABLISHED;
	struct xc_ep local = { ci->id.local_part, ci->id.local_ep };
	struct xc_ep remote = { ci->id.remote_part, ci->id.remote_ep };
	const struct xc_ep *src = in ? &remote : &local, *dst = in ? &local : &remote;
	char key[96];
	bool has_in, has_out, unacked;
	struct xc_err e = {};

	if (!managed(c, s, src, dst, &remote))
		return;
	snprintf(key, sizeof(key), ST_CHANS "%u:%u/%u:%u/in", src->part, src->port, dst->part, dst->port);
	has_in = view_get(&c->view, key);
	strcpy(key + strlen(key) - 2, "out");
	has_out = view_get(&c->view, key);
	if (in ? (has_in && (has_out || !est)) : has_out)
		return;
	if (!est) {
		xc_chan_withdraw(c->xc, &local, &remote, ci->id.dir);
		return;
	}
	xc_chan_close(c->xc, src, dst, &unacked, &e);
	mine_has(c, src, dst, true);
	agent_log(LOG_NOTE, "cluster: channel %u:%u -> %u:%u closed: its %s side left the store%s",
		  src->part, src->port, dst->part, dst->port, !has_in ? "receiving" : "sending",
		  unacked ? " (the sender's CMM did not acknowledge CLOSE)" : "");
}

void chans_sync(struct cluster *c, struct snap *s)
{
	size_t first, n = view_under(&c->view, ST_CHANS, &first);
	struct want w = {}, next;
	bool is_in, have = false;

	for (size_t i = first; i < first + n; i++) {
		if (chan_key_parse(c, c->view.kv[i].key, &next, &is_in))
			continue;
		if (have && !(ep_eq(&w.src, &next.src) && ep_eq(&w.dst, &next.dst))) {
			want_apply(c, s, &w);
			have = false;
		}
		if (!have) {
			w = next;
			w.in = w.out = false;
		}
		have = true;
		*(is_in ? &w.in : &w.out) = true;
	}
	if (have)
		want_apply(c, s, &w);
	for (size_t i = 0; i < s->nchans; i++)
		unwanted_one(c, s, &s->chans[i]);
}
