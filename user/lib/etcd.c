// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* etcd.c: requests to etcd v3's JSON gateway: kv (put, range, delete, txn) and leases,
 * each one POST with a bounded answer and timeouts, keys and values in base64. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include "etcd_int.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- shared with etcd_watch.c ---- */

size_t ebuf_write(char *ptr, size_t size, size_t n, void *ctx)
{
	struct ebuf *b = ctx;
	size_t len = size * n, cap;
	char *p;

	if (b->len + len + 1 > ETCD_MAX_BODY) {
		b->overflow = true;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, ptr, len);
	b->len += len;
	b->p[b->len] = 0;
	return len;
}

void ebuf_free(struct ebuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

struct json_object *j_add(struct json_object *r, const char *name, struct json_object *v)
{
	if (!r || !v) {
		json_object_put(r);
		json_object_put(v);
		return NULL;
	}
	json_object_object_add(r, name, v);
	return r;
}

struct json_object *j_b64(const void *p, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	struct json_object *o;
	char *s = malloc(n);

	if (!s)
		return NULL;
	sodium_bin2base64(s, n, p, len, sodium_base64_VARIANT_ORIGINAL);
	o = json_object_new_string(s);
	free(s);
	return o;
}

struct json_object *j_key(const struct etcd *d, const char *key)
{
	char k[ETCD_MAX_KEY];
	int n = snprintf(k, sizeof(k), "%s/%s", d->prefix, key);

	if (n < 0 || (size_t)n >= sizeof(k))
		return NULL;
	return j_b64(k, n);
}

struct json_object *j_key_after(const struct etcd *d, const char *key)
{
	char k[ETCD_MAX_KEY + 1];
	int n = snprintf(k, ETCD_MAX_KEY, "%s/%s", d->prefix, key);

	if (n < 0 || n >= ETCD_MAX_KEY)
		return NULL;
	return j_b64(k, n + 1);	/* the NUL too */
}

struct json_object *j_key_end(const struct etcd *d, const char *sub)
{
	char k[ETCD_MAX_KEY];
	int n = snprintf(k, sizeof(k), "%s/%s", d->prefix, sub);

	if (n < 0 || (size_t)n >= sizeof(k))
		return NULL;
	/* the prefix is never empty and ends in no 0xff byte in practice; still, carry */
	while (n > 0 && (unsigned char)k[n - 1] == 0xff)
		n--;
	if (!n)
		return j_b64("\0", 1);	/* every key */
	k[n - 1]++;
	return j_b64(k, n);
}

struct json_object *j_raw_after(const char *raw, size_t len)
{
	struct json_object *o;
	char *k = malloc(len + 1);

	if (!k)
		return NULL;
	memcpy(k, raw, len);
	k[len] = 0;
	o = j_b64(k, len + 1);
	free(k);
	return o;
}

int j_get(struct json_object *o, const char *name, enum json_type type, struct json_object **v)
{
	*v = NULL;
	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	if (!json_object_object_get_ex(o, name, v))
		return 0;
	/* json-c's null is a NULL object: is_type sees json_type_null, get_string NULL */
	if (!json_object_is_type(*v, type)) {
		*v = NULL;
		return -EPROTO;
	}
	return 0;
}

int j_bool(struct json_object *o, const char *name, bool *v)
{
	struct json_object *m;
	int err = j_get(o, name, json_type_boolean, &m);

	*v = m && json_object_get_boolean(m);
	return err;
}

int j_i64(struct json_object *o, const char *name, int64_t *v)
{
	struct json_object *m;
	const char *s;
	char *end;

	*v = 0;
	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	if (!json_object_object_get_ex(o, name, &m))
		return 0;
	if (json_object_is_type(m, json_type_int)) {
		/* json-c clamps what does not fit to the ends of the range */
		*v = json_object_get_int64(m);
		if (*v == INT64_MAX || *v == INT64_MIN) {
			*v = 0;
			return -EPROTO;
		}
		return 0;
	}
	if (!json_object_is_type(m, json_type_string))
		return -EPROTO;
	/* strtoll alone would take " 12", "+12", "12abc", "" and clamp "9...9" */
	s = json_object_get_string(m);
	if (!isdigit((unsigned char)s[s[0] == '-']))
		return -EPROTO;
	errno = 0;
	*v = strtoll(s, &end, 10);
	if (errno || (size_t)(end - s) != (size_t)json_object_get_string_len(m)) {
		*v = 0;
		return -EPROTO;
	}
	return 0;
}

int j_rev(struct json_object *o, const char *name, int64_t *v)
{
	int err = j_i64(o, name, v);

	if (!err && (*v < 0 || *v == INT64_MAX)) {
		*v = 0;
		return -EPROTO;
	}
	return err;
}

int j_unb64(struct json_object *o, const char *name, size_t max, char **out, size_t *len)
{
	struct json_object *v;
	const char *s = "";
	size_t slen = 0, blen;
	char *b;
	int err = j_get(o, name, json_type_string, &v);

	if (err)
		return err;
	if (v) {
		/* the length json-c parsed, not strlen: a \u0000 inside is bad base64 */
		s = json_object_get_string(v);
		slen = json_object_get_string_len(v);
	}
	if (slen / 4 * 3 > max + 3)
		return -EINVAL;
	b = malloc(slen / 4 * 3 + 4);
	if (!b)
		return -ENOMEM;
	if (sodium_base642bin((unsigned char *)b, slen / 4 * 3 + 3, s, slen, NULL, &blen,
			      NULL, sodium_base64_VARIANT_ORIGINAL) || blen > max) {
		free(b);
		return -EINVAL;
	}
	b[blen] = 0;
	*out = b;
	*len = blen;
	return 0;
}

int j_kv(const struct etcd *d, struct json_object *o, struct etcd_kv *kv)
{
	struct json_object *ko;
	size_t klen;
	char *k;
	int err;

	memset(kv, 0, sizeof(*kv));
	/* what only a forged answer has first, so that a skipped kv still has its revision */
	if (j_rev(o, "create_revision", &kv->create_rev) || j_rev(o, "mod_revision", &kv->mod_rev) ||
	    j_rev(o, "lease", &kv->lease) || j_get(o, "key", json_type_string, &ko) || !ko)
		return -EPROTO;
	err = j_unb64(o, "key", ETCD_MAX_KEY, &k, &klen);
	if (err)
		return err;
	if (klen <= d->plen || memcmp(k, d->prefix, d->plen) || k[d->plen] != '/') {
		free(k);
		return -EINVAL;	/* not ours: etcd answered outside the range asked */
	}
	/* keys become C strings: "ids/2\0x" would be read as "ids/2"; no control bytes */
	for (size_t i = 0; i < klen; i++) {
		if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f) {
			free(k);
			return -EINVAL;
		}
	}
	memmove(k, k + d->plen + 1, klen - d->plen);
	kv->key = k;
	err = j_unb64(o, "value", ETCD_MAX_VALUE, &kv->value, &kv->vlen);
	if (err)
		etcd_kv_free(kv);
	return err;
}

int etcd_malformed(const struct etcd *d, const char *what, const char *why, struct xc_err *e)
{
	return xc_fail(e, -EPROTO, "etcd at %s: %s: a malformed answer (%s)", d->url, what, why);
}

void etcd_kv_free(struct etcd_kv *kv)
{
	free(kv->key);
	if (kv->value)
		sodium_memzero(kv->value, kv->vlen);
	free(kv->value);
	kv->key = kv->value = NULL;
}

/* Notices a peer that went away without a word in seconds, not in hours. */
static int sockopt_cb(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
	int cnt = 3;

	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	return CURL_SOCKOPT_OK;
}

void etcd_curl_setup(const struct etcd *d, CURL *c, bool stream)
{
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)d->connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, stream ? 0L : (long)d->request_ms);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 3L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 1L);
	curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ebuf_write);
}

int etcd_curl_err(const struct etcd *d, CURLcode rc, const char *what, struct xc_err *e)
{
	int err = -EIO;

	if (rc == CURLE_OPERATION_TIMEDOUT)
		err = -ETIMEDOUT;
	else if (rc == CURLE_COULDNT_CONNECT)
		err = -ECONNREFUSED;
	else if (rc == CURLE_OUT_OF_MEMORY)
		err = -ENOMEM;
	else if (rc == CURLE_WRITE_ERROR)
		err = -EMSGSIZE;
	return xc_fail(e, err, "etcd at %s: %s: %s", d->url, what, curl_easy_strerror(rc));
}

/* ---- the handle ---- */

int etcd_url_check(const char *url, struct xc_err *e)
{
	const char *h = url && !strncmp(url, "http://", 7) ? url + 7 : NULL;

	if (!h || !*h || strlen(url) >= sizeof(((struct etcd *)0)->url) ||
	    strpbrk(h, "/?#@ \t\r\n") || !strchr(h, ':'))
		return xc_bad(e, "etcd URL must be http://HOST:PORT, not '%s'", url ? url : "");
	return 0;
}

struct etcd *etcd_open(const char *url, const char *prefix, struct xc_err *e)
{
	struct etcd *d;

	if (!prefix)
		prefix = ETCD_DEFAULT_PREFIX;
	if (etcd_url_check(url, e))
		return NULL;
	if (prefix[0] != '/' || strlen(prefix) < 2 || prefix[strlen(prefix) - 1] == '/' ||
	    strlen(prefix) >= sizeof(d->prefix) || strpbrk(prefix, " \t\r\n")) {
		xc_bad(e, "etcd prefix must be absolute without a trailing slash, like %s, not '%s'",
		       ETCD_DEFAULT_PREFIX, prefix);
		return NULL;
	}
	pthread_once(&curl_once, curl_init);
	if (sodium_init() < 0 || !(d = calloc(1, sizeof(*d)))) {
		xc_fail(e, -ENOMEM, "cannot set up an etcd client");
		return NULL;
	}
	snprintf(d->url, sizeof(d->url), "%s", url);
	snprintf(d->prefix, sizeof(d->prefix), "%s", prefix);
	d->plen = strlen(d->prefix);
	d->connect_ms = 1000;
	d->request_ms = 3000;
	d->c = curl_easy_init();
	if (!d->c) {
		free(d);
		if (curl_dl_error())
			xc_fail(e, -ENOENT, "cannot set up an etcd client: %s", curl_dl_error());
		else
			xc_fail(e, -ENOMEM, "cannot set up an etcd client");
		return NULL;
	}
	return d;
}

void etcd_close(struct etcd *d)
{
	if (!d)
		return;
	curl_easy_cleanup(d->c);
	free(d);
}

void etcd_set_timeouts(struct etcd *d, unsigned int connect_ms, unsigned int request_ms)
{
	d->connect_ms = connect_ms;
	d->request_ms = request_ms;
}

const char *etcd_url(const struct etcd *d) { return d->url; }
const char *etcd_prefix(const struct etcd *d) { return d->prefix; }

int etcd_post(struct etcd *d, const char *path, struct json_object *req,
	      struct json_object **resp, struct xc_err *e)
{
	char url[320];
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct ebuf b = { 0 };
	long code = 0;
	CURLcode rc;
	int err = 0;

	*resp = NULL;
	if (!req || !h) {
		json_object_put(req);
		curl_slist_free_all(h);
		return xc_fail(e, -ENOMEM, "etcd request: out of memory");
	}
	snprintf(url, sizeof(url), "%s%s", d->url, path);
	curl_easy_reset(d->c);
	etcd_curl_setup(d, d->c, false);
	curl_easy_setopt(d->c, CURLOPT_URL, url);
	curl_easy_setopt(d->c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(d->c, CURLOPT_COPYPOSTFIELDS, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	curl_easy_setopt(d->c, CURLOPT_WRITEDATA, &b);
	json_object_put(req);
	rc = curl_easy_perform(d->c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		err = etcd_curl_err(d, b.overflow ? CURLE_WRITE_ERROR : rc, path, e);
		goto out;
	}
	curl_easy_getinfo(d->c, CURLINFO_RESPONSE_CODE, &code);
	*resp = b.p ? json_tokener_parse(b.p) : NULL;
	if (!json_object_is_type(*resp, json_type_object)) {
		/* every answer is an object: callers may take members of it, nothing else */
		err = xc_fail(e, -EPROTO, "etcd at %s: %s: HTTP %ld, not a JSON object", d->url,
			      path, code);
	} else if (code != 200) {
		struct json_object *m;
		int64_t grpc = 0;

		j_get(*resp, "message", json_type_string, &m);
		j_i64(*resp, "code", &grpc);
		err = xc_fail(e, grpc == 5 ? -ENOENT : -EIO, "etcd at %s: %s: HTTP %ld: %.120s",
			      d->url, path, code, m ? json_object_get_string(m) : "no reason given");
	}
	if (err) {
		json_object_put(*resp);
		*resp = NULL;
	}
out:
	if (b.p)
		sodium_memzero(b.p, b.len);
	ebuf_free(&b);
	return err;
}

static struct json_object *put_req(struct etcd *d, const char *key, const char *val,
				   size_t vlen, int64_t lease)
{
	struct json_object *r = j_add(json_object_new_object(), "key", j_key(d, key));

	r = j_add(r, "value", vlen <= ETCD_MAX_VALUE ? j_b64(val, vlen) : NULL);
	if (lease)
		r = j_add(r, "lease", json_object_new_int64(lease));
	return r;
}

int etcd_put(struct etcd *d, const char *key, const char *val, size_t vlen, int64_t lease,
	     struct xc_err *e)
{
	struct json_object *resp, *req = put_req(d, key, val, vlen, lease);
	int err;

	if (!req)
		return xc_bad(e, "etcd put %s: key or value too long", key);
	err = etcd_post(d, "/v3/kv/put", req, &resp, e);
	json_object_put(resp);
	return err;
}
