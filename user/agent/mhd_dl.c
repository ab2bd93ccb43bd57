// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* mhd_dl.c: libmicrohttpd, loaded when `--metrics` starts it. Linked, it and its TLS
 * library cost every `xchan` process about 1.4 ms at start here (see
 * user/lib/curl_dl.c for libcurl's 4 ms), though only the agent's metrics endpoint
 * uses it. The response calls metrics.c makes, under their own names, and
 * mhd_start() in place of the variadic MHD_start_daemon(), which cannot be
 * forwarded: the options metrics.c needs, fixed here. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include "agent.h"
#include "mhd_dl.h"

static struct {
	struct MHD_Daemon *(*start)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
				    MHD_AccessHandlerCallback, void *, ...);
	void (*stop)(struct MHD_Daemon *);
	struct MHD_Response *(*from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
	enum MHD_Result (*add_header)(struct MHD_Response *, const char *, const char *);
	enum MHD_Result (*queue)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
	void (*destroy)(struct MHD_Response *);
} mf;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char why[256];	/* the loader's reason, when it failed */

#define SYM(field, name) \
	do { if (!(*(void **)&mf.field = dlsym(h, name))) { keep_why(); return; } } while (0)

static void keep_why(void)
{
	const char *w = dlerror();

	snprintf(why, sizeof(why), "%s", w ? w : "libmicrohttpd.so.12 cannot be loaded");
}

static void load(void)
{
	void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		keep_why();
		return;
	}
	SYM(start, "MHD_start_daemon");
	SYM(stop, "MHD_stop_daemon");
	SYM(from_buffer, "MHD_create_response_from_buffer");
	SYM(add_header, "MHD_add_response_header");
	SYM(queue, "MHD_queue_response");
	SYM(destroy, "MHD_destroy_response");
	loaded = true;
}

static bool have(void)
{
	pthread_once(&once, load);
	return loaded;
}

const char *mhd_dl_error(void)
{
	return have() ? NULL : why;
}

struct MHD_Daemon *mhd_start(const struct sockaddr_in *sa, MHD_AccessHandlerCallback answer,
			     void *cls)
{
	if (!have())
		return NULL;
	/* AUTO: epoll or poll, not select, whose sets end at descriptor 1023 (the agent
	 * raises its limit past that: agent_run) */
	return mf.start(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, ntohs(sa->sin_port), NULL,
			NULL, answer,
			cls, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_CONNECTION_LIMIT, 16,
			MHD_OPTION_CONNECTION_TIMEOUT, 5, MHD_OPTION_END);
}

void MHD_stop_daemon(struct MHD_Daemon *d)
{
	if (have())
		mf.stop(d);
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
						     enum MHD_ResponseMemoryMode mode)
{
	return have() ? mf.from_buffer(size, buffer, mode) : NULL;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *header,
					const char *content)
{
	return have() ? mf.add_header(r, header, content) : MHD_NO;
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int status,
				   struct MHD_Response *r)
{
	return have() ? mf.queue(c, status, r) : MHD_NO;
}

void MHD_destroy_response(struct MHD_Response *r)
{
	if (have())
		mf.destroy(r);
}
