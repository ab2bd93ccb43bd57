// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_etcd_malformed.c: the etcd client against a fake gateway of its own on 127.0.0.1
 * that answers what no etcd sends (nulls, lists that are none, numbers that are none):
 * every call must return an error, or skip the kv and count it, and a watch must end
 * with none of the message's events handed over; a crash ends the run (etcd.t counts it). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "etcd.h"
#include "test_etcd.h"

/* base64 of /xchan-test/v1/k and /xchan-test/v1/w */
#define K	"\"L3hjaGFuLXRlc3QvdjEvaw==\""
#define KW	"\"L3hjaGFuLXRlc3QvdjEvdw==\""
#define HDR	"\"header\":{\"revision\":\"9\"}"
#define CREATED	"{\"result\":{" HDR ",\"created\":true}}\n"

/* What every request gets until it is set again. */
static struct {
	pthread_mutex_t mu;
	int status;
	const char *body;
	int lfd;
	pthread_t t;
} fake = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void fake_answer(int status, const char *body)
{
	pthread_mutex_lock(&fake.mu);
	fake.status = status;
	fake.body = body;
	pthread_mutex_unlock(&fake.mu);
}

/* One read after the have bytes buf holds, waiting up to 3 s: how many it holds now
 * (have: nothing came, or the peer closed), NUL-terminated. */
static size_t read_some(int fd, char *buf, size_t len, size_t have)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	buf[have] = 0;
	if (have + 1 >= len || poll(&p, 1, 3000) != 1)
		return have;
	n = read(fd, buf + have, len - 1 - have);
	if (n > 0)
		have += n;
	buf[have] = 0;
	return have;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return;
		p += n;
		len -= n;
	}
}

/* One request, one answer, then close; a watch's stream is held open (as etcd does)
 * until the client closes it, so that what ends it is the client's reading. */
static void serve_one(int fd)
{
	char req[16384], head[256];
	const char *body, *hend = NULL, *cl;
	size_t have = 0, prev = 1, want;
	int status, hlen;
	bool watch;

	while (!hend && have < prev) {
		prev = have + 1;
		have = read_some(fd, req, sizeof(req), have);
		hend = strstr(req, "\r\n\r\n");
	}
	if (!hend)
		return;
	cl = strcasestr(req, "\r\nContent-Length:");
	want = (hend + 4 - req) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
	for (prev = 0; have < want && have > prev; ) {
		prev = have;
		have = read_some(fd, req, sizeof(req), have);
	}
	watch = !strncmp(req, "POST /v3/watch ", 15);
	pthread_mutex_lock(&fake.mu);
	status = fake.status;
	body = fake.body;
	pthread_mutex_unlock(&fake.mu);
	hlen = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
			"Connection: close\r\n", status);
	if (!watch)
		hlen += snprintf(head + hlen, sizeof(head) - hlen, "Content-Length: %zu\r\n",
				 strlen(body));
	hlen += snprintf(head + hlen, sizeof(head) - hlen, "\r\n");
	write_all(fd, head, hlen);
	write_all(fd, body, strlen(body));
	while (watch && read_some(fd, req, sizeof(req), 0) > 0)
		;
}

static void *serve(void *arg)
{
	int fd;

	while ((fd = accept(fake.lfd, NULL, NULL)) >= 0 || errno == EINTR) {
		if (fd >= 0) {
			serve_one(fd);
			close(fd);
		}
	}
	return NULL;
}

/* The fake on an ephemeral port of 127.0.0.1: its URL in url, or -1. */
static int fake_start(char *url, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	fake.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fake.lfd < 0 || bind(fake.lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fake.lfd, 8) || getsockname(fake.lfd, (struct sockaddr *)&a, &alen) ||
	    pthread_create(&fake.t, NULL, serve, NULL))
		return -1;
	snprintf(url, len, "http://127.0.0.1:%u", ntohs(a.sin_port));
	return 0;
}

static void fake_stop(void)
{
	shutdown(fake.lfd, SHUT_RDWR);	/* wakes accept */
	pthread_join(fake.t, NULL);
	close(fake.lfd);
}

/* -EPROTO and one line that names etcd */
static bool malformed(int err, const struct xc_err *e)
{
	return err == -EPROTO && strstr(e->msg, "etcd at ") && !strchr(e->msg, '\n');
}

static const char *const bad_kvs[] = {
	"{" HDR ",\"kvs\":null}",
	"{" HDR ",\"kvs\":{}}",
	"{" HDR ",\"kvs\":5}",
	"{" HDR ",\"kvs\":\"x\"}",
	"{" HDR ",\"kvs\":[5]}",
	"{" HDR ",\"kvs\":[null]}",
	"{" HDR ",\"kvs\":[{\"value\":\"djE=\"}]}",			/* no key */
	"{" HDR ",\"kvs\":[{\"key\":5}]}",
	"{" HDR ",\"kvs\":[{\"key\":null}]}",
	"{" HDR ",\"kvs\":[{\"key\":{}}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"value\":5}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"value\":null}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"mod_revision\":\"12abc\"}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"mod_revision\":\"\"}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"mod_revision\":\" 12\"}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"mod_revision\":\"-3\"}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"mod_revision\":\"99999999999999999999\"}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"mod_revision\":\"9223372036854775807\"}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"mod_revision\":1.5}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"mod_revision\":null}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"create_revision\":{}}]}",
	"{" HDR ",\"kvs\":[{\"key\":" K ",\"lease\":\"x\"}]}",
	"[]", "5", "\"x\"", "null", "{",
};

static const char *const bad_range_only[] = {
	"{\"kvs\":[]}",					/* no header: no revision */
	"{\"header\":\"x\",\"kvs\":[]}",
	"{\"header\":{\"revision\":\"x\"}}",
	"{\"header\":{\"revision\":\"0\"}}",
	"{\"header\":{\"revision\":null}}",
	"{" HDR ",\"kvs\":[],\"more\":\"yes\"}",
	"{" HDR ",\"kvs\":[],\"more\":null}",
};

static void kv_answers(struct etcd *d)
{
	struct etcd_range r;
	struct etcd_kv kv;
	struct xc_err e = { 0 };
	char what[160];
	int err;

	for (size_t i = 0; i < sizeof(bad_kvs) / sizeof(bad_kvs[0]); i++) {
		fake_answer(200, bad_kvs[i]);
		err = etcd_range(d, "", &r, &e);
		snprintf(what, sizeof(what), "range of %s: EPROTO, nothing kept", bad_kvs[i]);
		check(malformed(err, &e) && !r.n && !r.kvs, what, "%d %s", err, e.msg);
		err = etcd_get(d, "k", &kv, &e);
		snprintf(what, sizeof(what), "get of %s: EPROTO", bad_kvs[i]);
		check(malformed(err, &e) && !kv.key, what, "%d %s", err, e.msg);
	}
	for (size_t i = 0; i < sizeof(bad_range_only) / sizeof(bad_range_only[0]); i++) {
		fake_answer(200, bad_range_only[i]);
		err = etcd_range(d, "", &r, &e);
		snprintf(what, sizeof(what), "range of %s: EPROTO", bad_range_only[i]);
		check(malformed(err, &e) && !r.n, what, "%d %s", err, e.msg);
	}
	printf("# last: %s\n", e.msg);

	fake_answer(200, "{" HDR ",\"kvs\":[{\"key\":" K ",\"value\":\"djE=\",\"mod_revision\":\"7\","
		    "\"create_revision\":7}],\"more\":false}");
	err = etcd_range(d, "", &r, &e);
	check(!err && r.n == 1 && r.rev == 9 && !strcmp(r.kvs[0].key, "k") &&
	      !strcmp(r.kvs[0].value, "v1") && r.kvs[0].mod_rev == 7 && r.kvs[0].create_rev == 7,
	      "a well-formed answer still reads (revisions as strings and as numbers)",
	      "%d %s %zu", err, e.msg, r.n);
	etcd_range_free(&r);
	/* the same page again and again, each saying there is more: etcd's pages go on
	 * after the last key, so this is none of etcd's, and must end */
	fake_answer(200, "{" HDR ",\"kvs\":[{\"key\":" K ",\"value\":\"djE=\",\"mod_revision\":\"7\"}],"
		    "\"more\":true}");
	err = etcd_range(d, "", &r, &e);
	check(malformed(err, &e) && !r.n, "a page that repeats the last one's end, with more: EPROTO",
	      "%d %s %zu", err, e.msg, r.n);
	/* base64 that is none is a value someone could not have written, but is documented
	 * as skipped: a kv, not the answer */
	fake_answer(200, "{" HDR ",\"kvs\":[{\"key\":" K ",\"value\":\"!!\",\"mod_revision\":\"7\"}]}");
	err = etcd_range(d, "", &r, &e);
	check(!err && r.n == 0 && r.skipped == 1, "a value that is no base64: skipped and counted",
	      "%d %s %zu %zu", err, e.msg, r.n, r.skipped);
	etcd_range_free(&r);
	err = etcd_get(d, "k", &kv, &e);
	check(err == -EBADMSG, "and get of it: EBADMSG", "%d %s", err, e.msg);
}

static const char *const bad_create[] = {
	"{\"succeeded\":\"false\"}",
	"{\"succeeded\":null}",
	"{\"succeeded\":false}",
	"{\"succeeded\":false,\"responses\":null}",
	"{\"succeeded\":false,\"responses\":{}}",
	"{\"succeeded\":false,\"responses\":[5]}",
	"{\"succeeded\":false,\"responses\":[{\"response_range\":5}]}",
	"{\"succeeded\":false,\"responses\":[{\"response_range\":{\"kvs\":null}}]}",
	"{\"succeeded\":false,\"responses\":[{\"response_range\":{\"kvs\":[{\"key\":null}]}}]}",
};

static void other_answers(struct etcd *d)
{
	struct etcd_kv kv;
	struct xc_err e = { 0 };
	int64_t id = 0, ttl = 0, n = -1;
	int err;

	fake_answer(200, "{\"ID\":null}");
	err = etcd_lease_grant(d, 5, &id, &e);
	check(err == -EPROTO, "lease grant, ID null: EPROTO", "%d %s", err, e.msg);
	fake_answer(200, "{\"ID\":\"12ab\"}");
	err = etcd_lease_grant(d, 5, &id, &e);
	check(err == -EPROTO, "lease grant, ID 12ab: EPROTO", "%d %s", err, e.msg);
	fake_answer(200, "{\"ID\":\"123\",\"TTL\":\"5\"}");
	err = etcd_lease_grant(d, 5, &id, &e);
	check(!err && id == 123, "lease grant, well-formed", "%d %lld", err, (long long)id);

	fake_answer(200, "{\"result\":5}");
	err = etcd_lease_keepalive(d, 1, &ttl, &e);
	check(malformed(err, &e), "keepalive, result 5: EPROTO", "%d %s", err, e.msg);
	fake_answer(200, "{\"result\":{\"TTL\":\"x\"}}");
	err = etcd_lease_keepalive(d, 1, &ttl, &e);
	check(malformed(err, &e), "keepalive, TTL x: EPROTO", "%d %s", err, e.msg);
	fake_answer(200, "{\"result\":{\"ID\":\"1\",\"TTL\":\"7\"}}");
	err = etcd_lease_keepalive(d, 1, &ttl, &e);
	check(!err && ttl == 7, "keepalive, well-formed", "%d %lld", err, (long long)ttl);
	fake_answer(200, "{\"TTL\":{}}");
	err = etcd_lease_ttl(d, 1, &ttl, NULL, &e);
	check(malformed(err, &e), "time to live, TTL {}: EPROTO", "%d %s", err, e.msg);
	fake_answer(200, "{\"TTL\":\"3\",\"grantedTTL\":null}");
	err = etcd_lease_ttl(d, 1, &ttl, &n, &e);
	check(malformed(err, &e), "time to live, grantedTTL null: EPROTO", "%d %s", err, e.msg);

	fake_answer(200, "{\"deleted\":\"x\"}");
	err = etcd_delete(d, "k", &n, &e);
	check(malformed(err, &e), "delete, deleted x: EPROTO", "%d %s", err, e.msg);
	fake_answer(200, "{\"deleted\":\"-1\"}");
	err = etcd_delete(d, "k", NULL, &e);
	check(malformed(err, &e), "delete, deleted -1 (and no one asked): EPROTO", "%d %s", err, e.msg);

	for (size_t i = 0; i < sizeof(bad_create) / sizeof(bad_create[0]); i++) {
		char what[160];

		fake_answer(200, bad_create[i]);
		err = etcd_create(d, "k", "v", 1, 0, &kv, &e);
		snprintf(what, sizeof(what), "create, %s: EPROTO, nothing given", bad_create[i]);
		check(malformed(err, &e) && !kv.key && !kv.value, what, "%d %s", err, e.msg);
	}
	fake_answer(200, "{\"succeeded\":false,\"responses\":[{\"response_range\":{" HDR ",\"kvs\":"
		    "[{\"key\":" K ",\"value\":\"djE=\"}]}}]}");
	err = etcd_create(d, "k", "v", 1, 0, &kv, &e);
	check(err == -EEXIST && kv.value && !strcmp(kv.value, "v1"),
	      "create, well-formed failed compare: EEXIST and what is there", "%d %s", err, e.msg);
	etcd_kv_free(&kv);

	fake_answer(500, "{\"message\":null,\"code\":null}");
	err = etcd_put(d, "k", "v", 1, 0, &e);
	check(err == -EIO && strstr(e.msg, "no reason given"),
	      "an error answer with message and code null: EIO, no reason given", "%d %s", err, e.msg);
	fake_answer(404, "{\"message\":\"gone\",\"code\":5}");
	err = etcd_put(d, "k", "v", 1, 0, &e);
	check(err == -ENOENT && strstr(e.msg, "gone"), "an error answer with code 5: ENOENT",
	      "%d %s", err, e.msg);
}

struct got {
	int n, deletes;
};

static int count(void *ctx, const struct etcd_event *ev)
{
	struct got *g = ctx;

	g->n++;
	g->deletes += ev->type == ETCD_EV_DELETE;
	return 0;
}

/* A watch on a stream of these lines, polled until it ends (at most about 1 s). */
static enum etcd_watch_state watch_lines(struct etcd *d, const char *lines, struct got *g,
					 int *start_err, size_t *skipped, int64_t *rev,
					 struct xc_err *e)
{
	struct etcd_watch *w = NULL;
	enum etcd_watch_state st = ETCD_WATCH_LOST;

	memset(g, 0, sizeof(*g));
	fake_answer(200, lines);
	*start_err = etcd_watch_start(d, "", 0, count, g, &w, e);
	for (int i = 0; !*start_err && i < 10 && (st = etcd_watch_poll(w, 100, e)) ==
	     ETCD_WATCH_RUNNING; i++)
		;
	if (w) {
		*skipped = etcd_watch_skipped(w);
		*rev = etcd_watch_rev(w);
	}
	etcd_watch_stop(w);
	return st;
}

#define EV(type, key, rev) "{" type "\"kv\":{\"key\":" key ",\"value\":\"djE=\",\"mod_revision\":\"" rev "\"}}"
#define GOOD	EV("", KW, "10")

static const char *const bad_watch[] = {
	CREATED "{\"result\":{\"events\":[" EV("\"type\":null,", KW, "10") "]}}\n",
	CREATED "{\"result\":{\"events\":[" EV("\"type\":5,", KW, "10") "]}}\n",
	CREATED "{\"result\":{\"events\":[" EV("\"type\":\"FOO\",", KW, "10") "]}}\n",
	CREATED "{\"result\":{\"events\":[" EV("\"type\":\"DELETE\\u0000x\",", KW, "10") "]}}\n",
	CREATED "{\"result\":{\"events\":null}}\n",
	CREATED "{\"result\":{\"events\":{}}}\n",
	CREATED "{\"result\":{\"events\":5}}\n",
	CREATED "{\"result\":{\"events\":\"x\"}}\n",
	CREATED "{\"result\":{\"events\":[5]}}\n",
	CREATED "{\"result\":{\"events\":[null]}}\n",
	CREATED "{\"result\":{\"events\":[{\"type\":\"PUT\"}]}}\n",
	CREATED "{\"result\":{\"events\":[{\"kv\":null}]}}\n",
	CREATED "{\"result\":{\"events\":[{\"kv\":5}]}}\n",
	CREATED "{\"result\":{\"events\":[{\"kv\":{\"value\":\"djE=\"}}]}}\n",
	CREATED "{\"result\":{\"events\":[{\"kv\":{\"key\":5}}]}}\n",
	CREATED "{\"result\":{\"events\":[" EV("", KW, "x") "]}}\n",
	/* the first is good: not handed over either */
	CREATED "{\"result\":{\"events\":[" GOOD "," EV("\"type\":null,", KW, "11") "]}}\n",
	CREATED "{\"result\":5}\n",
	CREATED "{\"result\":{\"created\":\"yes\"}}\n",
	CREATED "{\"result\":{\"header\":5}}\n",
	CREATED "{\"result\":{\"canceled\":true,\"cancel_reason\":null}}\n",
	CREATED "{\"result\":{\"canceled\":true,\"compact_revision\":\"x\"}}\n",
	CREATED "{\"result\":{\"canceled\":\"true\"}}\n",
};

static const char *const bad_created[] = {
	"{\"result\":{\"created\":\"yes\"}}\n",
	"{\"result\":{\"header\":{\"revision\":\"x\"},\"created\":true}}\n",
	"{\"result\":{\"header\":{\"revision\":\"-5\"},\"created\":true}}\n",
	"{\"result\":5}\n",
	"{\"result\":null}\n",
	"[1]\n",
	"null\n",
};

static void watch_answers(struct etcd *d)
{
	struct xc_err e = { 0 };
	enum etcd_watch_state st;
	struct got g;
	size_t skipped = 0;
	int64_t rev = 0;
	char what[200];
	int err;

	for (size_t i = 0; i < sizeof(bad_watch) / sizeof(bad_watch[0]); i++) {
		st = watch_lines(d, bad_watch[i], &g, &err, &skipped, &rev, &e);
		snprintf(what, sizeof(what), "watch, %.*s: lost, no event",
			 (int)(strlen(bad_watch[i]) - strlen(CREATED) - 1),
			 bad_watch[i] + strlen(CREATED));
		check(!err && st == ETCD_WATCH_LOST && strstr(e.msg, "malformed") && !g.n &&
		      !strchr(e.msg, '\n'), what, "%d state %d, %d events: %s", err, st, g.n, e.msg);
	}
	printf("# last: %s\n", e.msg);

	for (size_t i = 0; i < sizeof(bad_created) / sizeof(bad_created[0]); i++) {
		st = watch_lines(d, bad_created[i], &g, &err, &skipped, &rev, &e);
		snprintf(what, sizeof(what), "watch answered %.*s: start fails",
			 (int)strlen(bad_created[i]) - 1, bad_created[i]);
		check(err < 0 && !g.n && !strchr(e.msg, '\n'), what, "%d %s", err, e.msg);
	}

	st = watch_lines(d, CREATED "{\"result\":{" HDR ",\"events\":[" GOOD "," EV("\"type\":\"DELETE\",",
			 KW, "11") "]}}\n", &g, &err, &skipped, &rev, &e);
	check(!err && st == ETCD_WATCH_RUNNING && g.n == 2 && g.deletes == 1 && rev == 11,
	      "watch, well-formed PUT (no type) and DELETE: both, running", "%d state %d, %d events %s",
	      err, st, g.n, e.msg);
	st = watch_lines(d, CREATED "{\"result\":{\"events\":[{\"kv\":{\"key\":" KW ",\"value\":\"!!\","
			 "\"mod_revision\":\"10\"}}," EV("", KW, "11") "]}}\n", &g, &err, &skipped,
			 &rev, &e);
	check(!err && st == ETCD_WATCH_RUNNING && g.n == 1 && skipped == 1 && rev == 11,
	      "watch, a value that is no base64: skipped and counted, the next handed over",
	      "%d state %d, %d events, %zu skipped %s", err, st, g.n, skipped, e.msg);
}

int mode_malformed(void)
{
	struct xc_err e = { 0 };
	struct etcd *d;
	char url[64];

	if (!check(!fake_start(url, sizeof(url)), "a fake gateway on 127.0.0.1", "%s",
		   strerror(errno)))
		return 1;
	d = etcd_open(url, "/xchan-test/v1", &e);
	if (check(d != NULL, "open", "%s", e.msg)) {
		etcd_set_timeouts(d, 1000, 2000);
		kv_answers(d);
		other_answers(d);
		watch_answers(d);
	}
	etcd_close(d);
	fake_stop();
	return checks_failed() != 0;
}
