// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* curl_dl.c: libcurl, loaded on first use. Linked, libcurl and the libraries it
 * pulls in (TLS, Kerberos, LDAP, ...) cost every `xchan` process about 4 ms at start
 * here (their constructors), though only the store's client (etcd*.c) uses it: a
 * one-shot `channel open` took 7 ms where starting a process takes 1.4. These are the
 * libcurl calls etcd*.c makes, under their own names, each loading libcurl.so.4 once
 * (dlopen) and calling through; without the library they fail as libcurl fails
 * (CURLE_FAILED_INIT, NULL), and the store's errors say so. */
#define CURL_DISABLE_TYPECHECK	/* the type-checking macros would rename these */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <curl/curl.h>
#include "etcd_int.h"

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
	CURLMcode (*multi_fdset)(CURLM *, fd_set *, fd_set *, fd_set *, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cf;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char why[256];	/* the loader's reason, when it failed */

#define SYM(field, name) \
	do { if (!(*(void **)&cf.field = dlsym(h, name))) { keep_why(); return; } } while (0)

static void keep_why(void)
{
	const char *w = dlerror();

	snprintf(why, sizeof(why), "%s", w ? w : "libcurl.so.4 cannot be loaded");
}

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		keep_why();
		return;
	}
	SYM(global_init, "curl_global_init");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_reset, "curl_easy_reset");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(multi_init, "curl_multi_init");
	SYM(multi_cleanup, "curl_multi_cleanup");
	SYM(multi_add_handle, "curl_multi_add_handle");
	SYM(multi_remove_handle, "curl_multi_remove_handle");
	SYM(multi_perform, "curl_multi_perform");
	SYM(multi_poll, "curl_multi_poll");
	SYM(multi_fdset, "curl_multi_fdset");
	SYM(multi_info_read, "curl_multi_info_read");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	loaded = true;
}

static bool have(void)
{
	pthread_once(&once, load);
	return loaded;
}

const char *curl_dl_error(void)
{
	return have() ? NULL : why;
}

CURLcode curl_global_init(long flags)
{
	return have() ? cf.global_init(flags) : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
	return have() ? cf.easy_init() : NULL;
}

void curl_easy_cleanup(CURL *c)
{
	if (have())
		cf.easy_cleanup(c);
}

void curl_easy_reset(CURL *c)
{
	if (have())
		cf.easy_reset(c);
}

CURLcode curl_easy_perform(CURL *c)
{
	return have() ? cf.easy_perform(c) : CURLE_FAILED_INIT;
}

/* The option's number says its argument's type (curl.h, CURLOPTTYPE_*). */
CURLcode curl_easy_setopt(CURL *c, CURLoption o, ...)
{
	CURLcode r;
	va_list ap;

	if (!have())
		return CURLE_FAILED_INIT;
	va_start(ap, o);
	if (o < CURLOPTTYPE_OBJECTPOINT)
		r = cf.easy_setopt(c, o, va_arg(ap, long));
	else if (o < CURLOPTTYPE_FUNCTIONPOINT || o >= CURLOPTTYPE_BLOB)
		r = cf.easy_setopt(c, o, va_arg(ap, void *));
	else if (o < CURLOPTTYPE_OFF_T)
		r = cf.easy_setopt(c, o, va_arg(ap, void (*)(void)));
	else
		r = cf.easy_setopt(c, o, va_arg(ap, curl_off_t));
	va_end(ap);
	return r;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *c, CURLINFO i, ...)
{
	CURLcode r;
	va_list ap;

	if (!have())
		return CURLE_FAILED_INIT;
	va_start(ap, i);
	r = cf.easy_getinfo(c, i, va_arg(ap, void *));
	va_end(ap);
	return r;
}

const char *curl_easy_strerror(CURLcode code)
{
	return have() ? cf.easy_strerror(code) : "libcurl.so.4 cannot be loaded";
}

CURLM *curl_multi_init(void)
{
	return have() ? cf.multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
	return have() ? cf.multi_cleanup(m) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *c)
{
	return have() ? cf.multi_add_handle(m, c) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *c)
{
	return have() ? cf.multi_remove_handle(m, c) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM *m, int *running)
{
	return have() ? cf.multi_perform(m, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd *fds, unsigned int n, int timeout_ms,
			  int *ret)
{
	return have() ? cf.multi_poll(m, fds, n, timeout_ms, ret) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_fdset(CURLM *m, fd_set *r, fd_set *w, fd_set *ex, int *max)
{
	return have() ? cf.multi_fdset(m, r, w, ex, max) : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
	return have() ? cf.multi_info_read(m, left) : NULL;
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
	return have() ? cf.slist_append(l, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *l)
{
	if (have())
		cf.slist_free_all(l);
}
