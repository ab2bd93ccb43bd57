// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* apply_store.c: `apply --etcd`: a file's statements as the cluster's desired state,
 * spec/parts/<id> for each partition (the statement as JSON, with the node that hosts
 * it) and chans/<src>:<sport>/<dst>:<dport>/{out,in} for each channel. Every key is
 * planned and read first; only those that differ are put, and a failure puts back what
 * this run changed, newest first. The node agents make it true. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "xc_int.h"
#include "etcd.h"
#include "store.h"

struct put {
	char key[96];
	char *val;
	size_t stmt;
	struct etcd_kv old;	/* what was there */
	bool existed, done;
};

static const char *mode_name(enum xc_mode m)
{
	return m == XC_MODE_NATIVE ? "native" : m == XC_MODE_GENERIC ? "generic" : NULL;
}

/* The statement as the agent of its node reads it (cluster_chans.c, spec_parse). */
static char *spec_json(const struct xc_stmt *st)
{
	const struct xc_part_spec *s = &st->part;
	static const char *const src[] = { [XC_SRC_DEV] = "dev", [XC_SRC_NETNS] = "netns",
					   [XC_SRC_PODMAN] = "podman" };
	struct json_object *o = json_object_new_object();
	char *out;

	json_object_object_add(o, "id", json_object_new_int64(s->id));
	json_object_object_add(o, "node", json_object_new_int64(st->node));
	if (s->name)
		json_object_object_add(o, "name", json_object_new_string(s->name));
	if (s->src == XC_SRC_PID)
		json_object_object_add(o, "pid", json_object_new_int64(s->pid));
	else
		json_object_object_add(o, src[s->src], json_object_new_string(s->src_name));
	if (s->ip)
		json_object_object_add(o, "ip", json_object_new_string(s->ip));
	json_object_object_add(o, "isolated", json_object_new_boolean(s->isolated));
	json_object_object_add(o, "strict", json_object_new_boolean(s->strict));
	if (mode_name(s->mode))
		json_object_object_add(o, "mode", json_object_new_string(mode_name(s->mode)));
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

/* PART:PORT with PART an id or the name of one of the file's partitions. */
static int ep_resolve(const struct xc_stmt *st, size_t n, const char *s, struct xc_ep *ep,
		      struct xc_err *e)
{
	const char *colon = strrchr(s, ':');
	char part[64];
	uint32_t port;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(part) ||
	    xc_parse_u32(colon + 1, &port) || !port || port > 65535)
		return xc_bad(e, "'%.64s': expected PART:PORT, port 1-65535", s);
	snprintf(part, sizeof(part), "%.*s", (int)(colon - s), s);
	ep->port = (uint16_t)port;
	if (!xc_parse_u32(part, &ep->part) && ep->part)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!st[i].is_chan && st[i].part.name && !strcmp(st[i].part.name, part)) {
			ep->part = st[i].part.id;
			return 0;
		}
	return xc_bad(e, "'%.64s': no partition of that name in the file (with --etcd, a name must be defined by a partition statement, else use the id)",
		      part);
}

/* Every key this file wants, before the store is asked anything. */
static int plan(const struct xc_stmt *st, size_t n, struct put **out, size_t *nput,
		struct xc_apply_result *r, struct xc_err *e)
{
	struct put *p = calloc(2 * n + 1, sizeof(*p));
	size_t k = 0;

	if (!p)
		return xc_fail(e, -ENOMEM, "out of memory; nothing changed");
	*out = p;
	for (size_t i = 0; i < n; i++) {
		struct xc_ep src, dst;
		int err;

		r->failed_stmt = i;
		if (!st[i].is_chan) {
			if (!st[i].node || st[i].part.src == XC_SRC_REMOTE)
				return xc_bad(e, "with --etcd a partition needs --node N (the node hosting it) and no --remote");
			snprintf(p[k].key, sizeof(p[k].key), ST_SPEC_PARTS "%u", st[i].part.id);
			p[k].stmt = i;
			if (!(p[k++].val = spec_json(&st[i])))
				return xc_fail(e, -ENOMEM, "out of memory; nothing changed");
			continue;
		}
		err = ep_resolve(st, n, st[i].src, &src, e);
		if (!err)
			err = ep_resolve(st, n, st[i].dst, &dst, e);
		if (!err && src.part == dst.part)
			err = xc_bad(e, "a channel joins two partitions; both ends are %u", src.part);
		if (err)
			return err;
		for (int side = 0; side < 2; side++) {
			snprintf(p[k].key, sizeof(p[k].key), ST_CHANS "%u:%u/%u:%u/%s", src.part,
				 src.port, dst.part, dst.port, side ? "in" : "out");
			p[k].stmt = i;
			if (!(p[k++].val = strdup("{}")))
				return xc_fail(e, -ENOMEM, "out of memory; nothing changed");
		}
	}
	*nput = k;
	return 0;
}

/* Newest first: back to what was there. */
static void undo(struct etcd *d, struct put *p, size_t n)
{
	struct xc_err ignored;

	for (size_t i = n; i--;) {
		if (!p[i].done)
			continue;
		if (p[i].existed)
			etcd_put(d, p[i].key, p[i].old.value, p[i].old.vlen, 0, &ignored);
		else
			etcd_delete(d, p[i].key, NULL, &ignored);
	}
}

static int write_all(struct etcd *d, struct put *p, size_t n, struct xc_apply_result *r,
		     struct xc_err *e)
{
	int err = 0;

	for (size_t i = 0; !err && i < n; i++) {
		err = etcd_get(d, p[i].key, &p[i].old, e);
		p[i].existed = !err;
		if (err == -ENOENT)
			err = 0;
	}
	if (err)
		return err;	/* nothing changed yet */
	for (size_t i = 0; i < n; i++) {
		if (p[i].existed && !strcmp(p[i].old.value, p[i].val)) {
			r->unchanged++;
			continue;
		}
		err = etcd_put(d, p[i].key, p[i].val, strlen(p[i].val), 0, e);
		if (err) {
			r->failed_at_stmt = true;
			r->failed_stmt = p[i].stmt;
			undo(d, p, i);
			return err;
		}
		p[i].done = true;
		r->nchanges++;
	}
	return 0;
}

int xc_apply_store(const char *url, const char *prefix, const struct xc_stmt *st, size_t n,
		   struct xc_apply_result *r, char ***written, struct xc_err *e)
{
	struct put *p = NULL;
	size_t np = 0;
	struct etcd *d;
	int err;

	memset(r, 0, sizeof(*r));
	*written = NULL;
	err = plan(st, n, &p, &np, r, e);
	r->failed_at_stmt = err && e->usage;
	if (err)
		goto out;
	d = etcd_open(url, prefix, e);
	if (!d) {
		err = -EINVAL;
		goto out;
	}
	err = write_all(d, p, np, r, e);
	etcd_close(d);
	if (!err && (*written = calloc(np + 1, sizeof(char *))))
		for (size_t i = 0, k = 0; i < np; i++)
			if (p[i].done)
				(*written)[k++] = strdup(p[i].key);
out:
	for (size_t i = 0; p && i < 2 * n + 1; i++) {
		free(p[i].val);
		if (p[i].existed)
			etcd_kv_free(&p[i].old);
	}
	free(p);
	return err;
}
