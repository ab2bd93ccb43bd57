// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_etcd.c: the etcd client (user/lib/etcd.h) against a real etcd that etcd.t
 * starts, stops and compacts. One mode per step of etcd.t; each check prints one line,
 * "PASS what" or "FAIL what: why", which etcd.t turns into TAP. The modes about nodes'
 * records and keys in the store are in test_etcd_nodes.c; answers no etcd sends, from a
 * fake gateway, in test_etcd_malformed.c. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <bpf/bpf.h>
#include "etcd.h"
#include "xc.h"
#include "nodekey.h"
#include "store.h"
#include "test_etcd.h"

static int failed;

int checks_failed(void)
{
	return failed;
}

bool check(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS %s\n", what);
	} else {
		failed++;
		printf("FAIL %s: ", what);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
	}
	fflush(stdout);
	return ok;
}

double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

struct seen {
	int n, disorder;	/* events; those whose revision was not above the last one's */
	int64_t last;
	enum etcd_ev_type type[16];
	char key[16][64], val[16][64];
	int64_t rev[16];
};

static int on_event(void *ctx, const struct etcd_event *ev)
{
	struct seen *s = ctx;

	if (ev->mod_rev <= s->last)
		s->disorder++;
	s->last = ev->mod_rev;
	if (s->n < 16) {
		s->type[s->n] = ev->type;
		snprintf(s->key[s->n], 64, "%s", ev->key);
		snprintf(s->val[s->n], 64, "%s", ev->value);
		s->rev[s->n] = ev->mod_rev;
	}
	s->n++;
	return 0;
}

/* Polls w until want events came or it ended (at most secs). */
static enum etcd_watch_state wait_events(struct etcd_watch *w, struct seen *s, int want,
					 double secs, struct xc_err *e)
{
	double until = now_s() + secs;
	enum etcd_watch_state st = ETCD_WATCH_RUNNING;

	while (s->n < want && st == ETCD_WATCH_RUNNING && now_s() < until)
		st = etcd_watch_poll(w, 100, e);
	return st;
}

static void basic_kv(struct etcd *d)
{
	const char val[] = "a \"value\"\nwith\tbytes \x01\xff";
	struct etcd_kv kv;
	struct xc_err e = { 0 };
	int64_t del = -1;
	int err;

	err = etcd_put(d, "k/one", val, sizeof(val) - 1, 0, &e);
	check(!err, "put", "%s", e.msg);
	err = etcd_get(d, "k/one", &kv, &e);
	if (check(!err, "get what was put", "%s", e.msg)) {
		check(kv.vlen == sizeof(val) - 1 && !memcmp(kv.value, val, kv.vlen) &&
		      !strcmp(kv.key, "k/one") && kv.mod_rev > 0,
		      "get: key relative, value byte for byte, a revision",
		      "key %s, %zu bytes, rev %lld", kv.key, kv.vlen, (long long)kv.mod_rev);
		etcd_kv_free(&kv);
	}
	err = etcd_get(d, "k/none", &kv, &e);
	check(err == -ENOENT, "get of an absent key is ENOENT", "%d %s", err, e.msg);
	err = etcd_delete(d, "k/one", &del, &e);
	check(!err && del == 1, "delete says one key went", "%d %lld %s", err, (long long)del, e.msg);
	err = etcd_delete(d, "k/one", &del, &e);
	check(!err && del == 0, "delete again: none", "%d %lld", err, (long long)del);
	err = etcd_get(d, "k/one", &kv, &e);
	check(err == -ENOENT, "deleted key is gone", "%d", err);
}

static void range_paged(struct etcd *d, struct etcd *other)
{
	struct etcd_range r;
	struct etcd_watch *w = NULL;
	struct seen s = { 0 };
	struct xc_err e = { 0 };
	char k[32], v[32];
	int i, n = ETCD_RANGE_PAGE + 150, bad = 0, err = 0;

	/* a watch on r/ meanwhile: many events, many messages, lines split across reads */
	if (etcd_watch_start(d, "r/", 0, on_event, &s, &w, &e))
		w = NULL;
	for (i = 0; i < n && !err; i++) {
		snprintf(k, sizeof(k), "r/%05d", i);
		snprintf(v, sizeof(v), "v%d", i);
		err = etcd_put(d, k, v, strlen(v), 0, &e);
	}
	check(!err, "put keys for a range of more than one page", "%s", e.msg);
	if (w)
		wait_events(w, &s, n, 10, &e);
	check(w && s.n == n && !s.disorder && !strcmp(s.key[0], "r/00000") &&
	      !strcmp(s.key[15], "r/00015"), "a watch saw each of those puts once, in order",
	      "%d of %d events, %d out of order", s.n, n, s.disorder);
	etcd_watch_stop(w);
	/* the same name under a prefix that only shares a beginning with ours */
	etcd_put(other, "r/00001", "x", 1, 0, &e);
	etcd_put(d, "rr", "x", 1, 0, &e);
	etcd_delete(d, "persist", NULL, &e);
	err = etcd_range(d, "", &r, &e);
	if (!check(!err, "range of the whole prefix", "%s", e.msg))
		return;
	for (i = 0; i < (int)r.n && i < n; i++) {
		snprintf(k, sizeof(k), "r/%05d", i);
		snprintf(v, sizeof(v), "v%d", i);
		bad += strcmp(r.kvs[i].key, k) || strcmp(r.kvs[i].value, v);
	}
	check((int)r.n == n + 1 && !bad && !strcmp(r.kvs[n].key, "rr") &&
	      r.rev >= r.kvs[n].mod_rev,
	      "range: every key once, in order, across pages, none of another prefix",
	      "%zu keys of %d, %d wrong, rev %lld", r.n, n + 1, bad, (long long)r.rev);
	etcd_range_free(&r);
	etcd_delete(d, "rr", NULL, &e);
	err = etcd_delete_prefix(d, "r/", NULL, &e);
	err = err ?: etcd_range(d, "r/", &r, &e);
	check(!err && r.n == 0, "delete_prefix empties it", "%d %zu", err, r.n);
	etcd_range_free(&r);
}

static void create_absent(struct etcd *d)
{
	struct etcd_kv kv;
	struct xc_err e = { 0 };
	int err;

	etcd_delete(d, "c/1", NULL, &e);
	err = etcd_create(d, "c/1", "first", 5, 0, NULL, &e);
	check(!err, "create-if-absent of a new key", "%s", e.msg);
	err = etcd_create(d, "c/1", "second", 6, 0, &kv, &e);
	if (check(err == -EEXIST, "create-if-absent of an existing key: EEXIST", "%d %s", err, e.msg)) {
		check(kv.value && !strcmp(kv.value, "first"), "it gives the value there", "%s",
		      kv.value ? kv.value : "(none)");
		etcd_kv_free(&kv);
	}
	err = etcd_get(d, "c/1", &kv, &e);
	check(!err && !strcmp(kv.value, "first"), "the existing value is unchanged", "%d", err);
	if (!err)
		etcd_kv_free(&kv);
}

static void leases(struct etcd *d)
{
	struct etcd_kv kv;
	struct xc_err e = { 0 };
	int64_t id = 0, id2 = 0, ttl = 0, granted = 0;
	double t0;
	int err;

	err = etcd_lease_grant(d, 2, &id, &e);
	check(!err && id, "lease grant", "%s", e.msg);
	err = etcd_put(d, "l/a", "x", 1, id, &e);
	check(!err, "put on the lease", "%s", e.msg);
	err = etcd_lease_ttl(d, id, &ttl, &granted, &e);
	check(!err && ttl > 0 && ttl <= 2 && granted == 2, "lease ttl", "%d ttl %lld of %lld",
	      err, (long long)ttl, (long long)granted);
	err = etcd_lease_keepalive(d, id, &ttl, &e);
	check(!err && ttl == 2, "lease keepalive renews it", "%d ttl %lld %s", err, (long long)ttl, e.msg);
	t0 = now_s();
	while (!(err = etcd_get(d, "l/a", &kv, &e)) && now_s() < t0 + 6) {
		etcd_kv_free(&kv);
		usleep(200000);
	}
	check(err == -ENOENT && now_s() - t0 > 1.5, "an expired lease takes its key with it",
	      "%d after %.1f s", err, now_s() - t0);
	err = etcd_lease_keepalive(d, id, &ttl, &e);
	check(err == -ENOENT, "keepalive of an expired lease: ENOENT", "%d %s", err, e.msg);
	err = etcd_lease_ttl(d, id, &ttl, NULL, &e);
	check(err == -ENOENT, "ttl of an expired lease: ENOENT", "%d", err);
	err = etcd_put(d, "l/b", "x", 1, id, &e);
	check(err == -ENOENT, "put on an expired lease: ENOENT", "%d %s", err, e.msg);
	err = etcd_lease_grant(d, 60, &id2, &e);
	err = err ?: etcd_put(d, "l/c", "x", 1, id2, &e);
	err = err ?: etcd_lease_revoke(d, id2, &e);
	check(!err && etcd_get(d, "l/c", &kv, &e) == -ENOENT, "revoke takes the key at once",
	      "%d %s", err, e.msg);
}

static void watch_events(struct etcd *d)
{
	struct etcd_watch *w;
	struct etcd_kv kv;
	struct seen s = { 0 };
	struct xc_err e = { 0 };
	struct pollfd pfd = { .events = POLLIN };
	enum etcd_watch_state st;
	int err;

	etcd_put(d, "w/before", "old", 3, 0, &e);
	err = etcd_get(d, "w/before", &kv, &e);
	if (!check(!err, "a key before the watch", "%s", e.msg))
		return;
	/* from the revision of that put: it is replayed first */
	err = etcd_watch_start(d, "w/", kv.mod_rev, on_event, &s, &w, &e);
	etcd_kv_free(&kv);
	if (!check(!err && etcd_watch_fd(w) >= 0, "watch started, with a socket", "%s", e.msg))
		return;
	check(s.n == 0, "no event before start returned", "%d", s.n);
	wait_events(w, &s, 1, 3, &e);	/* the replayed put */
	pfd.fd = etcd_watch_fd(w);
	check(poll(&pfd, 1, 300) == 0, "its socket is quiet while nothing changes", "%d", pfd.revents);
	etcd_put(d, "w/a", "1", 1, 0, &e);
	check(poll(&pfd, 1, 3000) == 1 && (pfd.revents & POLLIN),
	      "a put makes the socket readable (for the daemon's epoll)", "revents %d", pfd.revents);
	etcd_put(d, "x/outside", "1", 1, 0, &e);
	etcd_put(d, "w/b", "2", 1, 0, &e);
	etcd_delete(d, "w/a", NULL, &e);
	st = wait_events(w, &s, 4, 5, &e);
	check(st == ETCD_WATCH_RUNNING && s.n == 4, "four events", "state %d, %d events %s", st, s.n, e.msg);
	check(s.n >= 4 && s.type[0] == ETCD_EV_PUT && !strcmp(s.key[0], "w/before") &&
	      s.type[1] == ETCD_EV_PUT && !strcmp(s.key[1], "w/a") && !strcmp(s.val[1], "1") &&
	      s.type[2] == ETCD_EV_PUT && !strcmp(s.key[2], "w/b") && !strcmp(s.val[2], "2") &&
	      s.type[3] == ETCD_EV_DELETE && !strcmp(s.key[3], "w/a"),
	      "the watch sees the replay, PUT, PUT, DELETE in order, nothing outside w/",
	      "%s %s %s %s", s.key[0], s.key[1], s.key[2], s.key[3]);
	check(s.n >= 4 && etcd_watch_rev(w) == s.rev[3] && s.rev[3] > s.rev[2],
	      "watch revision is the last event's", "%lld %lld", (long long)etcd_watch_rev(w),
	      (long long)s.rev[3]);
	etcd_watch_stop(w);
}

static void bad_input(void)
{
	struct xc_err e = { 0 };
	const char *urls[] = { "localhost:2379", "http://", "http://h:1/v3", "ftp://h:1", "http://h" };

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		struct etcd *d = etcd_open(urls[i], NULL, &e);

		check(!d && e.usage && strchr(e.msg, '\n') == NULL, "a malformed URL is a usage error",
		      "%s", urls[i]);
		etcd_close(d);
	}
	check(!etcd_open("http://127.0.0.1:2379", "xchan/", &e) && e.usage,
	      "a relative prefix is a usage error", "%s", e.msg);
}

static int mode_ops(const char *url)
{
	struct xc_err e = { 0 };
	struct etcd *d = etcd_open(url, "/xchan-test/v1", &e);
	struct etcd *other = etcd_open(url, "/xchan-test/v10", &e);

	if (!check(d && other, "open", "%s", e.msg))
		return 1;
	etcd_delete_prefix(d, "", NULL, &e);	/* a store used before */
	basic_kv(d);
	range_paged(d, other);
	create_absent(d);
	leases(d);
	watch_events(d);
	bad_input();
	etcd_put(d, "persist", "kept", 4, 0, &e);
	etcd_close(other);
	etcd_close(d);
	return failed != 0;
}

/* Writes and deletes under c/ and prints the revision to compact at. */
static int mode_compact_prep(const char *url)
{
	struct xc_err e = { 0 };
	struct etcd *d = etcd_open(url, "/xchan-test/v1", &e);
	struct etcd_range r;
	int err = !d;

	for (int i = 0; i < 5 && !err; i++)
		err = etcd_put(d, "c/x", "v", 1, 0, &e);
	err = err ?: etcd_range(d, "", &r, &e);
	if (err) {
		fprintf(stderr, "compact-prep: %s\n", e.msg);
		return 1;
	}
	printf("%lld\n", (long long)r.rev);
	etcd_range_free(&r);
	etcd_close(d);
	return 0;
}

/* A watch from a revision etcd compacted away says "relist"; a relist and a watch from
 * its revision then see what comes next. */
static int mode_compacted(const char *url, int64_t old_rev, int64_t compacted)
{
	struct xc_err e = { 0 };
	struct etcd *d = etcd_open(url, "/xchan-test/v1", &e);
	struct etcd_watch *w = NULL;
	struct etcd_range r;
	struct seen s = { 0 };
	enum etcd_watch_state st = ETCD_WATCH_LOST;
	int err = etcd_watch_start(d, "", old_rev, on_event, &s, &w, &e);

	if (!err)
		st = wait_events(w, &s, 1, 5, &e);
	check(st == ETCD_WATCH_COMPACTED && etcd_watch_compact_rev(w) == compacted && s.n == 0,
	      "a watch from a compacted revision reports compacted (relist), with no event",
	      "err %d state %d compact_rev %lld events %d %s", err, st,
	      w ? (long long)etcd_watch_compact_rev(w) : 0LL, s.n, e.msg);
	check(st == ETCD_WATCH_COMPACTED && strstr(e.msg, "compacted") && !strchr(e.msg, '\n'),
	      "and says so in one line", "%s", e.msg);
	etcd_watch_stop(w);
	err = etcd_range(d, "", &r, &e);
	check(!err && r.rev >= compacted, "relist: the list's revision is past the compaction",
	      "%d %lld", err, (long long)r.rev);
	err = err ?: etcd_watch_start(d, "", r.rev + 1, on_event, &s, &w, &e);
	etcd_range_free(&r);
	if (!check(!err, "watch from the list's revision + 1", "%s", e.msg))
		return 1;
	etcd_put(d, "c/after", "new", 3, 0, &e);
	st = wait_events(w, &s, 1, 5, &e);
	check(st == ETCD_WATCH_RUNNING && s.n == 1 && !strcmp(s.key[0], "c/after"),
	      "the new watch sees only what came after the list", "state %d, %d events, %s",
	      st, s.n, s.key[0]);
	etcd_watch_stop(w);
	etcd_close(d);
	return failed != 0;
}

/* Every call fails cleanly, within the timeout, when etcd is not there or hangs. */
static int mode_down(const char *url, double limit)
{
	struct xc_err e = { 0 };
	struct etcd *d = etcd_open(url, "/xchan-test/v1", &e);
	struct etcd_watch *w = NULL;
	struct etcd_range r;
	struct etcd_kv kv;
	int64_t id;
	int errs[5];
	double t0 = now_s(), t;

	etcd_set_timeouts(d, 1000, 1000);
	errs[0] = etcd_put(d, "k", "v", 1, 0, &e);
	check(errs[0] < 0 && e.msg[0] && !strchr(e.msg, '\n') && strstr(e.msg, url),
	      "put fails with one line naming etcd", "%d %s", errs[0], e.msg);
	printf("# %s\n", e.msg);
	errs[1] = etcd_get(d, "k", &kv, &e);
	errs[2] = etcd_range(d, "", &r, &e);
	errs[3] = etcd_lease_grant(d, 5, &id, &e);
	errs[4] = etcd_watch_start(d, "", 0, on_event, NULL, &w, &e);
	t = now_s() - t0;
	check(errs[1] < 0 && errs[1] != -ENOENT && errs[2] < 0 && errs[3] < 0 && errs[4] < 0,
	      "get, range, lease grant and watch fail too", "%d %d %d %d", errs[1], errs[2],
	      errs[3], errs[4]);
	check(t < limit, "all five within their timeouts", "%.1f s (limit %.1f)", t, limit);
	etcd_close(d);
	return failed != 0;
}

/* Starts a watch, touches flag, then expects the stream to be lost (etcd killed). */
static int mode_watch_lost(const char *url, const char *flag)
{
	struct xc_err e = { 0 };
	struct etcd *d = etcd_open(url, "/xchan-test/v1", &e);
	struct etcd_watch *w = NULL;
	enum etcd_watch_state st = ETCD_WATCH_RUNNING;
	double t0;
	FILE *f;
	int err = etcd_watch_start(d, "", 0, on_event, NULL, &w, &e);

	if (!check(!err, "watch started before etcd is stopped", "%s", e.msg))
		return 1;
	f = fopen(flag, "w");
	if (f)
		fclose(f);
	t0 = now_s();
	while (st == ETCD_WATCH_RUNNING && now_s() < t0 + 20)
		st = etcd_watch_poll(w, 200, &e);
	check(st == ETCD_WATCH_LOST && !strchr(e.msg, '\n'), "etcd stopped: the watch says lost",
	      "state %d %s", st, e.msg);
	printf("# %s\n", e.msg);
	etcd_watch_stop(w);
	etcd_close(d);
	return failed != 0;
}

/* After a restart: what was written before is there, and writes work. */
static int mode_again(const char *url)
{
	struct xc_err e = { 0 };
	struct etcd *d = etcd_open(url, "/xchan-test/v1", &e);
	struct etcd_kv kv;
	int err = etcd_get(d, "persist", &kv, &e);

	check(!err && !strcmp(kv.value, "kept"), "after the restart: the data is there", "%d %s",
	      err, e.msg);
	if (!err)
		etcd_kv_free(&kv);
	err = etcd_put(d, "k/again", "1", 1, 0, &e);
	check(!err, "and a put works again", "%s", e.msg);
	etcd_close(d);
	return failed != 0;
}

static bool file_at(const char *base, const char *ext)
{
	char p[512];

	snprintf(p, sizeof(p), "%s.%s", base, ext);
	return !access(p, F_OK);
}

/* A watch on b/ while etcd.t puts b/first and then nbad keys this client cannot take (a
 * NUL or a newline in the key, a key over 512 bytes, 1 MiB values: over 16 MiB in one
 * page), flag.watching and flag.done the handshake: the watch and a range skip them and
 * go on; a watch from before them gets them in one message over 16 MiB: lost, not stuck. */
static int mode_bad(const char *url, const char *flag, size_t nbad)
{
	struct xc_err e = { 0 };
	struct etcd *d = etcd_open(url, "/xchan-test/v1", &e);
	struct etcd_watch *w = NULL;
	struct seen s = { 0 };
	struct etcd_range r = { 0 };
	struct etcd_kv kv = { 0 };
	enum etcd_watch_state st = ETCD_WATCH_RUNNING;
	double until = now_s() + 20;
	int err = !d || etcd_watch_start(d, "b/", 0, on_event, &s, &w, &e);

	if (!check(!err, "watch b/", "%s", e.msg) || fclose(fopen(flag, "w")))
		return 1;
	while (st == ETCD_WATCH_RUNNING && !file_at(flag, "done") && now_s() < until)
		st = etcd_watch_poll(w, 100, &e);
	err = etcd_put(d, "b/last", "2", 1, 0, &e);
	wait_events(w, &s, 2, 5, &e);
	check(!err && s.n == 2 && !strcmp(s.key[0], "b/first") && !strcmp(s.key[1], "b/last") &&
	      etcd_watch_poll(w, 0, &e) == ETCD_WATCH_RUNNING && etcd_watch_skipped(w) == nbad,
	      "a watch meanwhile: the two good events, the bad ones counted, still running",
	      "%d events, %zu skipped of %zu: %s", s.n, etcd_watch_skipped(w), nbad, e.msg);
	etcd_watch_stop(w);
	err = etcd_range(d, "b/", &r, &e);
	check(!err && r.n == 2 && !strcmp(r.kvs[0].key, "b/first") &&
	      !strcmp(r.kvs[1].key, "b/last") && r.skipped == nbad,
	      "range past them and a page over 16 MiB: the two good keys, the bad counted",
	      "%d %s: %zu keys, %zu skipped of %zu", err, e.msg, r.n, r.skipped, nbad);
	etcd_range_free(&r);
	st = ETCD_WATCH_LOST;
	if (!etcd_watch_start(d, "b/", s.rev[0], on_event, &s, &w, &e))
		st = etcd_watch_run(w, NULL, &e);
	check(st == ETCD_WATCH_LOST && strstr(e.msg, "16 MiB") && !strchr(e.msg, '\n'),
	      "a watch from before them: over 16 MiB in one message, lost (list again)",
	      "state %d: %s", st, e.msg);
	etcd_watch_stop(w);
	err = etcd_get(d, "b/last", &kv, &e) ?: etcd_delete_prefix(d, "b/", NULL, &e);
	etcd_kv_free(&kv);
	check(!err, "get and delete around them", "%s", e.msg);
	etcd_close(d);
	return failed != 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 2 && !strcmp(argv[1], "malformed"))
		return mode_malformed();
	if (argc == 3 && !strcmp(argv[2], "ops"))
		return mode_ops(argv[1]);
	if (argc == 3 && !strcmp(argv[2], "compact-prep"))
		return mode_compact_prep(argv[1]);
	if (argc == 5 && !strcmp(argv[2], "compacted"))
		return mode_compacted(argv[1], atoll(argv[3]), atoll(argv[4]));
	if (argc == 4 && !strcmp(argv[2], "down"))
		return mode_down(argv[1], atof(argv[3]));
	if (argc == 4 && !strcmp(argv[2], "watch-lost"))
		return mode_watch_lost(argv[1], argv[3]);
	if (argc == 3 && !strcmp(argv[2], "again"))
		return mode_again(argv[1]);
	if (argc == 7 && !strcmp(argv[2], "pair"))
		return mode_pair(argv[1], argv[3], argv[4], argv[5], argv[6]);
	if (argc == 5 && !strcmp(argv[2], "bad"))
		return mode_bad(argv[1], argv[3], atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[2], "rotate"))
		return mode_rotate(argv[3]);
	if (argc == 5 && !strcmp(argv[2], "publish"))
		return mode_publish(argv[1], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: test_etcd URL ops|compact-prep|compacted OLD REV|down SECS|"
		"watch-lost FLAG|again|publish STATE_DIR TTL|pair DIR_A PIN_A DIR_B PIN_B|\n"
		"rotate DIR|bad FLAG NBAD\n       test_etcd malformed\n");
	return 2;
}
