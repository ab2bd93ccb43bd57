// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* etcd_watch.c: a streaming watch on the JSON gateway (POST /v3/watch): one curl easy
 * handle in a multi handle of its own, so that the caller's loop decides when to read;
 * the answer is a stream of JSON messages, one a line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/select.h>
#include <sodium.h>
#include "etcd_int.h"

struct etcd_watch {
	struct etcd d;			/* a copy of the settings; d.c unused */
	CURLM *m;
	CURL *c;
	struct curl_slist *h;
	struct ebuf in;			/* what arrived and is not a whole line yet */
	size_t done;			/* bytes of in already handled */
	etcd_watch_fn fn;
	void *ctx;
	int64_t rev, compact_rev;
	bool created;
	size_t skipped;			/* malformed events left out */
	enum etcd_watch_state end;
	char why[200];			/* LOST: the reason, for e */
};

static struct json_object *watch_req(const struct etcd *d, const char *sub, int64_t from)
{
	struct json_object *c = j_add(json_object_new_object(), "key", j_key(d, sub));

	c = j_add(c, "range_end", j_key_end(d, sub));
	if (from)
		c = j_add(c, "start_revision", json_object_new_int64(from));
	return j_add(json_object_new_object(), "create_request", c);
}

static void lost(struct etcd_watch *w, const char *fmt, const char *what)
{
	if (w->end)
		return;
	w->end = ETCD_WATCH_LOST;
	snprintf(w->why, sizeof(w->why), fmt, what);
}

/* An event decoded: one_message hands events over only once the whole message is. */
struct wev {
	enum etcd_ev_type type;
	struct etcd_kv kv;
	bool skip;		/* a kv j_kv refuses: counted, not handed over */
};

/* The string member is exactly s (a \u0000 inside is not cut off by strcmp). */
static bool j_str_is(struct json_object *v, const char *s)
{
	return (size_t)json_object_get_string_len(v) == strlen(s) &&
	       !memcmp(json_object_get_string(v), s, strlen(s));
}

/* One event of a message: 0, -EPROTO (no event etcd sends) or -ENOMEM. */
static int take_event(struct etcd_watch *w, struct json_object *ev, struct wev *out)
{
	struct json_object *t, *kvo;
	int err;

	memset(out, 0, sizeof(*out));
	if (j_get(ev, "type", json_type_string, &t) || j_get(ev, "kv", json_type_object, &kvo) ||
	    !kvo)
		return -EPROTO;
	/* PUT is the enum's zero, which the gateway leaves out */
	if (t && j_str_is(t, "DELETE"))
		out->type = ETCD_EV_DELETE;
	else if (t && !j_str_is(t, "PUT"))
		return -EPROTO;
	err = j_kv(&w->d, kvo, &out->kv);
	if (err == -EINVAL) {
		/* a key or value someone else wrote that we cannot take: not a reason to
		 * stop watching every other key (the relist would meet it again) */
		out->skip = true;
		return 0;
	}
	return err;
}

/* Hands the decoded events to fn in order, until fn or a stop ends the watch. */
static void hand_over(struct etcd_watch *w, struct wev *ev, size_t n)
{
	for (size_t i = 0; i < n && !w->end; i++) {
		struct etcd_event out = {
			.type = ev[i].type, .key = ev[i].kv.key, .value = ev[i].kv.value,
			.vlen = ev[i].kv.vlen, .mod_rev = ev[i].kv.mod_rev, .lease = ev[i].kv.lease,
		};

		if (ev[i].skip)
			w->skipped++;
		else if (w->fn(w->ctx, &out))
			w->end = ETCD_WATCH_STOPPED;
		if (ev[i].kv.mod_rev > w->rev)
			w->rev = ev[i].kv.mod_rev;
	}
}

/* The events of a message, all decoded before the first is handed over: a malformed
 * one ends the watch (list again) with none of the others applied, so that a caller
 * never holds half of a message etcd applied whole. */
static void take_events(struct etcd_watch *w, struct json_object *evs)
{
	size_t i, n = json_object_array_length(evs);
	struct wev *ev = n ? calloc(n, sizeof(*ev)) : NULL;
	int err = 0;

	if (n && !ev) {
		lost(w, "out of memory reading a watch message%s", "");
		return;
	}
	for (i = 0; i < n && !err; i++)
		err = take_event(w, json_object_array_get_idx(evs, i), &ev[i]);
	if (err == -EPROTO)
		lost(w, "a malformed watch message (%s)", "an event that is no etcd event");
	else if (err)
		lost(w, "out of memory reading a watch message%s", "");
	else
		hand_over(w, ev, n);
	for (i = 0; i < n; i++)
		etcd_kv_free(&ev[i].kv);
	free(ev);
}

/* One message of the stream: created, events, a progress notice, canceled or an error.
 * Every member is checked before any is acted on. */
static void one_message(struct etcd_watch *w, const char *line)
{
	struct json_object *o = json_tokener_parse(line), *res, *v, *h, *why, *evs;
	int64_t hrev = 0, crev = 0;
	bool created, canceled;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "result", NULL)) {
		lost(w, "watch refused by etcd: %.150s", json_object_object_get_ex(o, "error", &v) ?
		     json_object_to_json_string(v) : line);
		json_object_put(o);
		return;
	}
	if (j_get(o, "result", json_type_object, &res) || j_bool(res, "created", &created) ||
	    j_bool(res, "canceled", &canceled) || j_get(res, "header", json_type_object, &h) ||
	    (h && j_rev(h, "revision", &hrev)) || j_rev(res, "compact_revision", &crev) ||
	    j_get(res, "cancel_reason", json_type_string, &why) ||
	    j_get(res, "events", json_type_array, &evs)) {
		lost(w, "a malformed watch message (%s)", "a member of the wrong type");
		json_object_put(o);
		return;
	}
	if (created) {
		w->created = true;
		if (!w->rev)
			w->rev = hrev;
	}
	if (canceled) {
		w->compact_rev = crev;
		if (w->compact_rev && !w->end)
			w->end = ETCD_WATCH_COMPACTED;
		else
			lost(w, "etcd canceled the watch: %.150s",
			     why ? json_object_get_string(why) : "no reason given");
	}
	if (!w->end && evs)
		take_events(w, evs);
	json_object_put(o);
}

/* Handles whole lines of what arrived; with until_created, stops after the "created"
 * message so that no event reaches fn before etcd_watch_start has returned. */
static void take_lines(struct etcd_watch *w, bool until_created)
{
	char *nl;

	while (!w->end && w->in.p && (nl = memchr(w->in.p + w->done, '\n', w->in.len - w->done))) {
		*nl = 0;
		if (nl > w->in.p + w->done)
			one_message(w, w->in.p + w->done);
		w->done = nl + 1 - w->in.p;
		if (until_created && w->created)
			return;
	}
	if (w->done && w->done == w->in.len) {
		w->in.len = w->done = 0;	/* everything handled: start the buffer again */
	} else if (w->done > w->in.cap / 2) {
		memmove(w->in.p, w->in.p + w->done, w->in.len - w->done);
		w->in.len -= w->done;
		w->done = 0;
	}
}

/* Runs curl, then handles what came; notices the end of the transfer. */
static void pump(struct etcd_watch *w, int timeout_ms, bool until_created)
{
	int running = 0, left;
	CURLMsg *msg;

	if (timeout_ms > 0)
		curl_multi_poll(w->m, NULL, 0, timeout_ms, NULL);
	curl_multi_perform(w->m, &running);
	take_lines(w, until_created);
	while ((msg = curl_multi_info_read(w->m, &left))) {
		long code = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(w->c, CURLINFO_RESPONSE_CODE, &code);
		take_lines(w, until_created);
		/* not skipped: its good events would be lost with it; a list (paged small
		 * enough) and a watch from its revision have no backlog to batch */
		if (w->in.overflow)
			lost(w, "a watch message over %s bytes (list again)", "16 MiB");
		else if (msg->data.result != CURLE_OK)
			lost(w, "watch connection lost: %s", curl_easy_strerror(msg->data.result));
		else if (code != 200)
			lost(w, "watch refused by etcd: HTTP %s", code == 404 ? "404" : "error");
		else
			lost(w, "etcd ended the watch stream%s", "");
	}
}

static int watch_setup(struct etcd_watch *w, const char *sub, int64_t from)
{
	char url[320];
	struct json_object *req = watch_req(&w->d, sub, from);

	w->m = curl_multi_init();
	w->c = curl_easy_init();
	w->h = curl_slist_append(NULL, "Content-Type: application/json");
	if (!req || !w->m || !w->c || !w->h) {
		json_object_put(req);
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "%s/v3/watch", w->d.url);
	etcd_curl_setup(&w->d, w->c, true);
	curl_easy_setopt(w->c, CURLOPT_URL, url);
	curl_easy_setopt(w->c, CURLOPT_HTTPHEADER, w->h);
	curl_easy_setopt(w->c, CURLOPT_COPYPOSTFIELDS,
			 json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	curl_easy_setopt(w->c, CURLOPT_WRITEDATA, &w->in);
	json_object_put(req);
	return curl_multi_add_handle(w->m, w->c) == CURLM_OK ? 0 : -ENOMEM;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int etcd_watch_start(struct etcd *d, const char *sub, int64_t from_rev, etcd_watch_fn fn,
		     void *ctx, struct etcd_watch **out, struct xc_err *e)
{
	struct etcd_watch *w = calloc(1, sizeof(*w));
	uint64_t until = now_ms() + d->request_ms;
	int err;

	*out = NULL;
	if (!w)
		return xc_fail(e, -ENOMEM, "etcd watch: out of memory");
	w->d = *d;
	w->d.c = NULL;
	w->fn = fn;
	w->ctx = ctx;
	w->rev = from_rev > 0 ? from_rev - 1 : 0;
	err = watch_setup(w, sub, from_rev);
	if (err) {
		etcd_watch_stop(w);
		return xc_fail(e, err, "etcd watch: out of memory");
	}
	while (!w->created && !w->end && now_ms() < until)
		pump(w, 50, true);
	if (!w->created) {
		if (!w->end)
			lost(w, "no answer to the watch within %s", "the request timeout");
		err = xc_fail(e, w->end == ETCD_WATCH_COMPACTED ? -ESTALE : -ECONNREFUSED,
			      "etcd at %s: %s", d->url, w->why);
		etcd_watch_stop(w);
		return err;
	}
	*out = w;
	return 0;
}

/* The one transfer's socket is the only one, so the highest curl waits on. */
int etcd_watch_fd(const struct etcd_watch *w)
{
	fd_set r, wr, ex;
	int max = -1;

	FD_ZERO(&r);
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	if (curl_multi_fdset(w->m, &r, &wr, &ex, &max) != CURLM_OK)
		return -1;
	return max;
}

enum etcd_watch_state etcd_watch_poll(struct etcd_watch *w, int timeout_ms, struct xc_err *e)
{
	if (!w->end)
		pump(w, timeout_ms, false);
	if (!w->end && w->done < w->in.len)
		take_lines(w, false);
	if (w->end == ETCD_WATCH_LOST)
		xc_fail(e, -ECONNRESET, "etcd at %s: %s", w->d.url, w->why);
	else if (w->end == ETCD_WATCH_COMPACTED)
		xc_fail(e, -ESTALE, "etcd at %s: revision %lld is compacted (now from %lld): list again",
			w->d.url, (long long)w->rev + 1, (long long)w->compact_rev);
	return w->end;
}

enum etcd_watch_state etcd_watch_run(struct etcd_watch *w, volatile bool *stop,
				     struct xc_err *e)
{
	enum etcd_watch_state s = ETCD_WATCH_RUNNING;

	while (s == ETCD_WATCH_RUNNING && !(stop && *stop))
		s = etcd_watch_poll(w, 200, e);
	return s == ETCD_WATCH_RUNNING ? ETCD_WATCH_STOPPED : s;
}

int64_t etcd_watch_rev(const struct etcd_watch *w) { return w->rev; }
int64_t etcd_watch_compact_rev(const struct etcd_watch *w) { return w->compact_rev; }
size_t etcd_watch_skipped(const struct etcd_watch *w) { return w->skipped; }

void etcd_watch_stop(struct etcd_watch *w)
{
	if (!w)
		return;
	if (w->m && w->c)
		curl_multi_remove_handle(w->m, w->c);
	curl_easy_cleanup(w->c);
	curl_multi_cleanup(w->m);
	curl_slist_free_all(w->h);
	if (w->in.p)
		sodium_memzero(w->in.p, w->in.cap);
	ebuf_free(&w->in);
	free(w);
}
