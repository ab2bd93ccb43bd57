/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* etcd.h: a small client of etcd v3's JSON gateway (libcurl, json-c): put, get, range,
 * delete, create-if-absent, leases and a streaming watch, all under one key prefix.
 * Like the rest of the library it never prints: 0 or -errno and a reason in xc_err.
 *
 * Keys given to and returned by these calls are relative to the prefix ("nodes/3" under
 * "/xchan/v1" is "/xchan/v1/nodes/3" in etcd). Values are bytes (NUL-terminated for
 * convenience, at most ETCD_MAX_VALUE). Every request has a connect timeout (1 s) and a
 * total timeout (3 s) unless etcd_set_timeouts says otherwise. etcd is reached without
 * TLS, so every answer is checked member by member: one no etcd sends (a member of the
 * wrong type or null, a list that is none, a number that is none) is -EPROTO, and in a
 * watch ETCD_WATCH_LOST with none of that message's events handed over.
 *
 * The watch runs on a connection of its own and is driven by its caller: etcd_watch_start
 * returns once etcd has created the watch; then etcd_watch_fd gives the socket to add to
 * an epoll set (EPOLLIN), and etcd_watch_poll reads what arrived and hands each event to
 * the callback (call it when the fd is readable, and on a timer of about a second so
 * that curl's own timers run). etcd_watch_run does
 * the same in a blocking loop, for a thread. Not thread-safe: one struct etcd, one
 * struct etcd_watch per thread. */
#ifndef XCHAN_ETCD_H
#define XCHAN_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "xc.h"

#define ETCD_DEFAULT_PREFIX	"/xchan/v1"
#define ETCD_MAX_KEY		512		/* prefix + key, bytes */
#define ETCD_MAX_VALUE		(64 * 1024)	/* one value */
#define ETCD_MAX_BODY		(16 * 1024 * 1024)	/* one answer, base64 included */
#define ETCD_RANGE_PAGE		1000		/* kvs asked for per range request */
#define ETCD_RANGE_MAX		(4 << 20)	/* kvs in one range read: a store of 1M channels
						 * (two keys each) and its partitions fits; a
						 * gateway that pages on for ever does not */

struct etcd;

/* url: "http://HOST:PORT" (no trailing path); prefix: NULL for ETCD_DEFAULT_PREFIX, else
 * absolute, without a trailing slash. Opens no connection yet. */
struct etcd *etcd_open(const char *url, const char *prefix, struct xc_err *e);
void etcd_close(struct etcd *d);
void etcd_set_timeouts(struct etcd *d, unsigned int connect_ms, unsigned int request_ms);
const char *etcd_url(const struct etcd *d);
const char *etcd_prefix(const struct etcd *d);

struct etcd_kv {
	char *key;		/* relative to the prefix */
	char *value;		/* NUL-terminated; vlen bytes before the NUL */
	size_t vlen;
	int64_t create_rev, mod_rev, lease;
};
void etcd_kv_free(struct etcd_kv *kv);	/* frees the members, not kv */

/* lease 0: none. */
int etcd_put(struct etcd *d, const char *key, const char *val, size_t vlen, int64_t lease,
	     struct xc_err *e);
/* -ENOENT when the key is absent; out is filled otherwise (etcd_kv_free it). */
int etcd_get(struct etcd *d, const char *key, struct etcd_kv *out, struct xc_err *e);

struct etcd_range {
	struct etcd_kv *kvs;	/* sorted by key */
	size_t n;
	int64_t rev;		/* the store's revision the list was read at */
	size_t skipped;		/* kvs left out: malformed (see below) */
};
/* Every key that starts with sub (relative; "" for the whole prefix), paging through
 * ETCD_RANGE_PAGE keys at a time, all pages at the first page's revision. A kv this
 * client cannot take (key over ETCD_MAX_KEY or with a control byte, NUL included; value
 * over ETCD_MAX_VALUE; bad base64) is left out and counted in skipped, so that one bad
 * key written by anyone does not hide the rest; a page over ETCD_MAX_BODY is asked for
 * again with fewer keys, and a single kv over it is skipped too. etcd_get of such a key:
 * -EBADMSG. */
int etcd_range(struct etcd *d, const char *sub, struct etcd_range *out, struct xc_err *e);
void etcd_range_free(struct etcd_range *r);

/* *deleted (may be NULL): how many keys went (0 or 1). */
int etcd_delete(struct etcd *d, const char *key, int64_t *deleted, struct xc_err *e);
/* Deletes every key that starts with sub (relative). */
int etcd_delete_prefix(struct etcd *d, const char *sub, int64_t *deleted, struct xc_err *e);

/* Puts key only if it does not exist (a txn on create_revision == 0). -EEXIST when it
 * did: then *existing (may be NULL) holds what is there (etcd_kv_free it). */
int etcd_create(struct etcd *d, const char *key, const char *val, size_t vlen, int64_t lease,
		struct etcd_kv *existing, struct xc_err *e);

/* Leases (ids are etcd's int64). keepalive and ttl return -ENOENT when the lease is gone
 * (expired or revoked); *ttl is the seconds left. */
int etcd_lease_grant(struct etcd *d, unsigned int ttl_s, int64_t *id, struct xc_err *e);
int etcd_lease_keepalive(struct etcd *d, int64_t id, int64_t *ttl, struct xc_err *e);
int etcd_lease_revoke(struct etcd *d, int64_t id, struct xc_err *e);
int etcd_lease_ttl(struct etcd *d, int64_t id, int64_t *ttl, int64_t *granted,
		   struct xc_err *e);

/* ---- watch ---- */
enum etcd_ev_type { ETCD_EV_PUT, ETCD_EV_DELETE };

struct etcd_event {
	enum etcd_ev_type type;
	const char *key;	/* relative to the prefix */
	const char *value;	/* PUT: NUL-terminated, vlen bytes; DELETE: "" */
	size_t vlen;
	int64_t mod_rev;	/* DELETE: the revision of the deletion */
	int64_t lease;
};
/* Valid only during the call. Nonzero: stop the watch (etcd_watch_poll returns
 * ETCD_WATCH_STOPPED). */
typedef int (*etcd_watch_fn)(void *ctx, const struct etcd_event *ev);

/* What etcd_watch_poll and etcd_watch_run return (never negative). */
enum etcd_watch_state {
	ETCD_WATCH_RUNNING = 0,	/* nothing ended; call again */
	ETCD_WATCH_COMPACTED,	/* from_rev was compacted away: list again, watch from the
				 * list's revision + 1 */
	ETCD_WATCH_LOST,	/* connection lost or refused by etcd (e says why): list
				 * again or watch again from etcd_watch_rev() + 1 */
	ETCD_WATCH_STOPPED,	/* the callback asked, or etcd_watch_stop was called */
};

struct etcd_watch;
/* Watches every key under sub (relative; "" for all) from revision from_rev (0: from
 * now). Returns once etcd confirmed the watch (within the request timeout), or -errno.
 * etcd confirms a watch from a compacted revision too, and cancels it right after: the
 * first etcd_watch_poll then says ETCD_WATCH_COMPACTED. No event reaches fn before this
 * returns; events that came with the confirmation wait in w's buffer, not in the socket,
 * so call etcd_watch_poll(w, 0, e) once right after, before waiting on the fd. Uses its own connection and d's url, prefix and timeouts; d itself stays
 * free for other calls (fn may use it). */
int etcd_watch_start(struct etcd *d, const char *sub, int64_t from_rev, etcd_watch_fn fn,
		     void *ctx, struct etcd_watch **out, struct xc_err *e);
/* The stream's socket, for epoll (EPOLLIN); -1 if there is none. */
int etcd_watch_fd(const struct etcd_watch *w);
/* Reads what arrived, waiting up to timeout_ms (0: not at all), and calls fn per event
 * in revision order. A peer that died without closing the connection is noticed by TCP
 * keepalive (idle 3 s, then 3 probes 1 s apart): ETCD_WATCH_LOST within about 6 s. */
enum etcd_watch_state etcd_watch_poll(struct etcd_watch *w, int timeout_ms, struct xc_err *e);
/* Blocking: polls until something ends the watch or *stop becomes true (checked at least
 * every 200 ms; may be NULL). */
enum etcd_watch_state etcd_watch_run(struct etcd_watch *w, volatile bool *stop,
				     struct xc_err *e);
/* Every event up to and including this revision has been handed to fn. */
int64_t etcd_watch_rev(const struct etcd_watch *w);
/* The compaction revision etcd reported (ETCD_WATCH_COMPACTED), else 0. */
int64_t etcd_watch_compact_rev(const struct etcd_watch *w);
/* Events left out so far: a kv etcd_range would skip (see there); the watch goes on. */
size_t etcd_watch_skipped(const struct etcd_watch *w);
void etcd_watch_stop(struct etcd_watch *w);	/* closes the connection and frees w */

/* ---- helpers shared by the cluster code ---- */
/* "http://HOST:PORT" with nothing else: 0, or -EINVAL with e filled (usage). */
int etcd_url_check(const char *url, struct xc_err *e);

#endif
