/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* etcd_int.h: what etcd.c (requests) and etcd_watch.c (the stream) share: the handle,
 * base64 keys and values, etcd's int64-as-string numbers, curl's settings. */
#ifndef XCHAN_ETCD_INT_H
#define XCHAN_ETCD_INT_H

#include <curl/curl.h>
#include <json-c/json.h>
#include "etcd.h"

struct etcd {
	char url[256];
	char prefix[128];
	size_t plen;
	unsigned int connect_ms, request_ms;
	CURL *c;		/* one connection, reused by every request */
};

/* A response body being read, at most ETCD_MAX_BODY. */
struct ebuf {
	char *p;
	size_t len, cap;
	bool overflow;
};
size_t ebuf_write(char *ptr, size_t size, size_t n, void *ctx);
void ebuf_free(struct ebuf *b);

/* r with member name = v; when either is NULL, NULL and both freed: a request is built
 * as a chain of these and checked once at the end. */
struct json_object *j_add(struct json_object *r, const char *name, struct json_object *v);
/* base64 of len bytes as a json string object; NULL when out of memory. */
struct json_object *j_b64(const void *p, size_t len);
/* The prefix + key, base64: NULL when too long or out of memory. */
struct json_object *j_key(const struct etcd *d, const char *key);
/* The first key after prefix + key: the same bytes and a NUL (where a page ends). */
struct json_object *j_key_after(const struct etcd *d, const char *key);
/* The first key after the absolute key raw (len bytes, any bytes): raw and a NUL. */
struct json_object *j_raw_after(const char *raw, size_t len);
/* The first byte string after every key starting with prefix + sub (range_end). */
struct json_object *j_key_end(const struct etcd *d, const char *sub);
/* Every member of an answer is checked before use: etcd is reached without TLS and the
 * records' signatures do not cover the envelope, so anyone on the path can send any
 * JSON. These return -EPROTO for a member of the wrong type (null included), which the
 * caller reports as a malformed answer; a missing member is the default, as the
 * gateway leaves out zeros, false and empty bytes. */
/* The member of that type, or *v NULL when it is missing. */
int j_get(struct json_object *o, const char *name, enum json_type type, struct json_object **v);
/* false when missing. */
int j_bool(struct json_object *o, const char *name, bool *v);
/* etcd's int64s come as JSON strings (a JSON integer is taken too): a whole decimal
 * number in range, nothing else; missing: 0. */
int j_i64(struct json_object *o, const char *name, int64_t *v);
/* A revision, a lease id or a count: j_i64 in 0..INT64_MAX - 1 (a revision + 1 is
 * where a watch goes on). */
int j_rev(struct json_object *o, const char *name, int64_t *v);
/* Decodes base64 member name of o into a malloc'ed NUL-terminated string (*len bytes);
 * a missing member is "". 0, -EPROTO (not a string), -EINVAL (bad base64, too long) or
 * -ENOMEM. */
int j_unb64(struct json_object *o, const char *name, size_t max, char **out, size_t *len);
/* Fills kv from an etcd KeyValue object, the prefix taken off the key. -EPROTO for an
 * answer no etcd sends (kv not an object, no key, a member of the wrong type, a
 * revision that is no number): the caller fails the whole answer. -EINVAL for a kv the
 * caller skips: a key outside the prefix, over ETCD_MAX_KEY or with a control byte (NUL
 * included), a value over ETCD_MAX_VALUE, bad base64; kv's revisions and lease are
 * filled then (a watch goes on past it). */
int j_kv(const struct etcd *d, struct json_object *o, struct etcd_kv *kv);
/* -EPROTO and "etcd at URL: what: a malformed answer (why)". */
int etcd_malformed(const struct etcd *d, const char *what, const char *why, struct xc_err *e);

/* POSTs req (consumed) to path; *resp is the parsed answer of a 200. etcd's own
 * refusals: -ENOENT for "not found" (gRPC code 5), else -EIO with its message. */
int etcd_post(struct etcd *d, const char *path, struct json_object *req,
	      struct json_object **resp, struct xc_err *e);
/* Timeouts, keepalive and a quiet curl on a handle. */
void etcd_curl_setup(const struct etcd *d, CURL *c, bool stream);
/* A curl failure as -errno and a sentence naming the url. */
int etcd_curl_err(const struct etcd *d, CURLcode rc, const char *what, struct xc_err *e);

/* Why libcurl could not be loaded (curl_dl.c), NULL once it is. */
const char *curl_dl_error(void);

#endif
