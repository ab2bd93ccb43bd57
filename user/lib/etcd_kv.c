// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* etcd_kv.c: reading (get, paged range), deleting, create-if-absent and leases, on
 * the requests of etcd.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "etcd_int.h"
#include "xc_int.h"

/* The last absolute key of a page, whatever its bytes: where the next page starts. */
struct page_end {
	char *raw;
	size_t len;
	size_t seen;		/* kvs in the page, the skipped ones too */
};

static int note_end(struct json_object *kvo, struct page_end *pe)
{
	struct json_object *k;
	char *raw;
	size_t len;
	int err;

	/* no key at all would start the next page at the first key again */
	if (j_get(kvo, "key", json_type_string, &k) || !k)
		return -EPROTO;
	err = j_unb64(kvo, "key", ETCD_MAX_BODY, &raw, &len);
	if (err)
		return err;
	/* each page starts after the last one's end: a page that ends at or before it
	 * (a gateway answering the same page with "more" for ever) is no etcd's */
	if (pe->raw) {
		int c = memcmp(raw, pe->raw, len < pe->len ? len : pe->len);

		if (c < 0 || (c == 0 && len <= pe->len)) {
			free(raw);
			return -EPROTO;
		}
	}
	free(pe->raw);
	pe->raw = raw;
	pe->len = len;
	return 0;
}

/* The kvs of a range answer appended to out (which grows); a kv that j_kv refuses is
 * skipped and counted in out->skipped (one bad key must not hide the others). pe (may
 * be NULL) gets the page's last key. 0 or -errno. */
static int take_kvs(struct etcd *d, struct json_object *resp, struct etcd_range *out,
		    size_t *cap, struct page_end *pe, struct xc_err *e)
{
	struct json_object *kvs;
	size_t i, n;
	int err;

	/* json-c asserts (or reads past the object) on an array call on anything else */
	if (j_get(resp, "kvs", json_type_array, &kvs))
		return etcd_malformed(d, "range", "kvs is no list", e);
	n = kvs ? json_object_array_length(kvs) : 0;
	for (i = 0; i < n; i++) {
		struct etcd_kv *kv = xc_grow((void **)&out->kvs, &out->n, cap, sizeof(*kv));

		if (!kv)
			return xc_fail(e, -ENOMEM, "etcd range: out of memory");
		err = j_kv(d, json_object_array_get_idx(kvs, i), kv);
		if (err)
			out->n--;
		if (err == -EINVAL)
			out->skipped++;
		else if (err == -EPROTO)
			return etcd_malformed(d, "range", "a kv that is no etcd KeyValue", e);
		else if (err)
			return xc_fail(e, err, "etcd range: out of memory");
	}
	if (pe && n) {
		pe->seen = n;
		err = note_end(json_object_array_get_idx(kvs, n - 1), pe);
		if (err)
			return xc_fail(e, err, "etcd at %s: a page that ends in no key", d->url);
	}
	return 0;
}

int etcd_get(struct etcd *d, const char *key, struct etcd_kv *out, struct xc_err *e)
{
	struct json_object *resp, *req = j_add(json_object_new_object(), "key", j_key(d, key));
	struct etcd_range r = { 0 };
	size_t cap = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!req)
		return xc_bad(e, "etcd get: key too long");
	err = etcd_post(d, "/v3/kv/range", req, &resp, e);
	if (!err)
		err = take_kvs(d, resp, &r, &cap, NULL, e);
	json_object_put(resp);
	if (!err && r.skipped)
		err = xc_fail(e, -EBADMSG, "etcd at %s: %s/%s: a malformed key or value",
			      d->url, d->prefix, key);
	if (!err && r.n != 1)
		err = r.n ? xc_fail(e, -EPROTO, "etcd at %s: %zu keys for one", d->url, r.n) :
			    xc_fail(e, -ENOENT, "%s/%s is not in the store", d->prefix, key);
	if (!err) {
		*out = r.kvs[0];
		r.n = 0;
	}
	etcd_range_free(&r);
	return err;
}

/* One page: from the key after pe's (none yet: from sub), up to the end of sub. */
static struct json_object *range_req(struct etcd *d, const struct page_end *pe,
				     const char *sub, int64_t rev, int64_t limit, bool keys_only)
{
	struct json_object *r = json_object_new_object();

	r = j_add(r, "key", pe->raw ? j_raw_after(pe->raw, pe->len) : j_key(d, sub));
	r = j_add(r, "range_end", j_key_end(d, sub));
	r = j_add(r, "limit", json_object_new_int64(limit));
	if (rev)
		r = j_add(r, "revision", json_object_new_int64(rev));
	if (keys_only)
		r = j_add(r, "keys_only", json_object_new_boolean(true));
	return r;
}

/* A page too big for ETCD_MAX_BODY: half as many keys from now on; a single key that
 * still does not fit is skipped (its name read with keys_only). 0 to go on, or -errno. */
static int page_overflow(struct etcd *d, const char *sub, struct etcd_range *out,
			 int64_t *limit, struct page_end *pe, struct xc_err *e)
{
	struct json_object *resp, *kvs;
	int err;

	if (*limit > 1) {
		*limit /= 2;
		return 0;
	}
	err = etcd_post(d, "/v3/kv/range", range_req(d, pe, sub, out->rev, 1, true), &resp, e);
	if (err)
		return err;
	err = -EPROTO;
	if (!j_get(resp, "kvs", json_type_array, &kvs) && kvs && json_object_array_length(kvs) == 1)
		err = note_end(json_object_array_get_idx(kvs, 0), pe);
	json_object_put(resp);
	if (err)
		return xc_fail(e, err, "etcd at %s: a key over %d bytes and no name for it",
			       d->url, ETCD_MAX_BODY);
	out->skipped++;
	*limit = ETCD_RANGE_PAGE;	/* the big one is behind: full pages again */
	return 0;
}

int etcd_range(struct etcd *d, const char *sub, struct etcd_range *out, struct xc_err *e)
{
	struct json_object *resp = NULL;
	struct page_end pe = { 0 };
	int64_t limit = ETCD_RANGE_PAGE;
	size_t cap = 0;
	bool more;
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (;;) {
		struct json_object *h, *req = range_req(d, &pe, sub, out->rev, limit, false);

		if (!req) {
			err = xc_bad(e, "etcd range: key too long");
			break;
		}
		err = etcd_post(d, "/v3/kv/range", req, &resp, e);
		if (err == -EMSGSIZE && !(err = page_overflow(d, sub, out, &limit, &pe, e)))
			continue;
		if (err)
			break;
		/* the list's revision is where the caller's watch starts: etcd's start at 1 */
		if (!out->rev && (j_get(resp, "header", json_type_object, &h) ||
				  j_rev(h, "revision", &out->rev) || !out->rev)) {
			err = etcd_malformed(d, "range", "no revision", e);
			break;
		}
		pe.seen = 0;
		if (limit < ETCD_RANGE_PAGE)	/* back up, as long as the values are small */
			limit = limit * 2 < ETCD_RANGE_PAGE ? limit * 2 : ETCD_RANGE_PAGE;
		err = take_kvs(d, resp, out, &cap, &pe, e);
		if (!err && j_bool(resp, "more", &more))
			err = etcd_malformed(d, "range", "more is no boolean", e);
		/* every page at the first one's revision: "more" ends when the range does */
		if (err || !more || !pe.seen)
			break;
		if (out->n + out->skipped >= ETCD_RANGE_MAX) {
			err = xc_fail(e, -E2BIG, "etcd at %s: more than %d keys under %s%s",
				      d->url, ETCD_RANGE_MAX, d->prefix, sub);
			break;
		}
		json_object_put(resp);
		resp = NULL;
	}
	json_object_put(resp);
	free(pe.raw);
	if (err)
		etcd_range_free(out);
	return err;
}

void etcd_range_free(struct etcd_range *r)
{
	for (size_t i = 0; i < r->n; i++)
		etcd_kv_free(&r->kvs[i]);
	free(r->kvs);
	memset(r, 0, sizeof(*r));
}

static int del(struct etcd *d, const char *key, bool prefix, int64_t *deleted,
	       struct xc_err *e)
{
	struct json_object *resp, *req = j_add(json_object_new_object(), "key", j_key(d, key));
	int64_t n = 0;
	int err;

	if (prefix)
		req = j_add(req, "range_end", j_key_end(d, key));
	if (!req)
		return xc_bad(e, "etcd delete: key too long");
	err = etcd_post(d, "/v3/kv/deleterange", req, &resp, e);
	if (!err && j_rev(resp, "deleted", &n))
		err = etcd_malformed(d, "delete", "deleted is no count", e);
	if (!err && deleted)
		*deleted = n;
	json_object_put(resp);
	return err;
}

int etcd_delete(struct etcd *d, const char *key, int64_t *deleted, struct xc_err *e)
{
	return del(d, key, false, deleted, e);
}

int etcd_delete_prefix(struct etcd *d, const char *sub, int64_t *deleted, struct xc_err *e)
{
	return del(d, sub, true, deleted, e);
}

/* {"compare":[{CREATE key = 0}], "success":[put], "failure":[range key]} */
static struct json_object *create_req(struct etcd *d, const char *key, const char *val,
				      size_t vlen, int64_t lease)
{
	struct json_object *r = json_object_new_object(), *cmp = json_object_new_object();
	struct json_object *put = json_object_new_object(), *get = json_object_new_object();
	struct json_object *a[3] = { json_object_new_array(), json_object_new_array(),
				     json_object_new_array() };

	cmp = j_add(cmp, "key", j_key(d, key));
	cmp = j_add(cmp, "target", json_object_new_string("CREATE"));
	cmp = j_add(cmp, "result", json_object_new_string("EQUAL"));
	cmp = j_add(cmp, "create_revision", json_object_new_int64(0));
	put = j_add(put, "key", j_key(d, key));
	put = j_add(put, "value", vlen <= ETCD_MAX_VALUE ? j_b64(val, vlen) : NULL);
	if (lease)
		put = j_add(put, "lease", json_object_new_int64(lease));
	get = j_add(get, "key", j_key(d, key));
	if (a[0] && cmp)
		json_object_array_add(a[0], cmp);
	if (a[1])
		json_object_array_add(a[1], j_add(json_object_new_object(), "request_put", put));
	if (a[2])
		json_object_array_add(a[2], j_add(json_object_new_object(), "request_range", get));
	r = j_add(r, "compare", a[0]);
	r = j_add(r, "success", a[1]);
	r = j_add(r, "failure", a[2]);
	if (!r || !cmp || !put || !get) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

int etcd_create(struct etcd *d, const char *key, const char *val, size_t vlen, int64_t lease,
		struct etcd_kv *existing, struct xc_err *e)
{
	struct json_object *resp, *rs, *rr, *req = create_req(d, key, val, vlen, lease);
	struct etcd_range r = { 0 };
	size_t cap = 0;
	bool ok;
	int err;

	if (existing)
		memset(existing, 0, sizeof(*existing));
	if (!req)
		return xc_bad(e, "etcd create %s: key or value too long", key);
	err = etcd_post(d, "/v3/kv/txn", req, &resp, e);
	if (err)
		return err;
	if (j_bool(resp, "succeeded", &ok)) {
		err = etcd_malformed(d, "create", "succeeded is no boolean", e);
	} else if (ok) {
		json_object_put(resp);
		return 0;
	} else if (j_get(resp, "responses", json_type_array, &rs) || !rs ||
		   json_object_array_length(rs) != 1 ||
		   j_get(json_object_array_get_idx(rs, 0), "response_range", json_type_object, &rr) ||
		   !rr) {
		/* a failed compare runs the failure branch: its one range is always there */
		err = etcd_malformed(d, "create", "no range of what is there", e);
	} else {
		err = take_kvs(d, rr, &r, &cap, NULL, e);
	}
	json_object_put(resp);
	if (!err && existing && r.n == 1) {
		*existing = r.kvs[0];
		r.n = 0;
	}
	etcd_range_free(&r);
	return err ? err : xc_fail(e, -EEXIST, "%s/%s exists already", d->prefix, key);
}

int etcd_lease_grant(struct etcd *d, unsigned int ttl_s, int64_t *id, struct xc_err *e)
{
	struct json_object *resp, *req = j_add(json_object_new_object(), "TTL",
						 json_object_new_int64(ttl_s));
	int err = etcd_post(d, "/v3/lease/grant", req, &resp, e);

	if (!err && (j_rev(resp, "ID", id) || !*id))
		err = xc_fail(e, -EPROTO, "etcd at %s granted no lease", d->url);
	json_object_put(resp);
	return err;
}

static struct json_object *id_req(int64_t id)
{
	return j_add(json_object_new_object(), "ID", json_object_new_int64(id));
}

int etcd_lease_keepalive(struct etcd *d, int64_t id, int64_t *ttl, struct xc_err *e)
{
	struct json_object *resp, *res;
	int err = etcd_post(d, "/v3/lease/keepalive", id_req(id), &resp, e);
	int64_t t = 0;

	/* a stream of one answer: {"result": {..., "TTL": n}}; no TTL: the lease is gone */
	if (!err && (j_get(resp, "result", json_type_object, &res) ||
		     (res && j_i64(res, "TTL", &t))))
		err = etcd_malformed(d, "lease keepalive", "result or TTL", e);
	json_object_put(resp);
	if (!err && t <= 0)
		err = xc_fail(e, -ENOENT, "lease %llx is gone (expired or revoked)",
			      (unsigned long long)id);
	if (!err && ttl)
		*ttl = t;
	return err;
}

int etcd_lease_revoke(struct etcd *d, int64_t id, struct xc_err *e)
{
	struct json_object *resp;
	int err = etcd_post(d, "/v3/lease/revoke", id_req(id), &resp, e);

	json_object_put(resp);
	return err;
}

int etcd_lease_ttl(struct etcd *d, int64_t id, int64_t *ttl, int64_t *granted,
		   struct xc_err *e)
{
	struct json_object *resp;
	int err = etcd_post(d, "/v3/lease/timetolive", id_req(id), &resp, e);
	int64_t t = -1, g = 0;

	if (!err && (j_i64(resp, "TTL", &t) || j_i64(resp, "grantedTTL", &g)))
		err = etcd_malformed(d, "lease time to live", "TTL or grantedTTL", e);
	if (!err && granted)
		*granted = g;
	json_object_put(resp);
	if (!err && t < 0)
		err = xc_fail(e, -ENOENT, "lease %llx is gone (expired or revoked)",
			      (unsigned long long)id);
	if (!err && ttl)
		*ttl = t;
	return err;
}
