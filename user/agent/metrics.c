// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* metrics.c: the Prometheus text endpoint of `xchan agent --metrics`, served by
 * libmicrohttpd's own thread; it only reads the maps and the agent's counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include "agent.h"
#include "mhd_dl.h"

/* Per-channel series are bounded by the channel table; this caps a scrape anyway. */
#define METRICS_MAX_CHANNELS	4096

static uint64_t load(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void verdicts(FILE *f, struct agent *a)
{
	struct xchan_counter c[XR__MAX];
	bool have[XR__MAX];

	xc_stats_reasons(a->xc, c, have);
	help(f, "xchan_verdict_packets_total", "counter", "Frames the CMM judged, by verdict reason.");
	for (int r = 0; r < XR__MAX; r++)
		if (have[r])
			fprintf(f, "xchan_verdict_packets_total{reason=\"%s\"} %llu\n", xc_reason_name(r),
				(unsigned long long)c[r].packets);
	help(f, "xchan_verdict_bytes_total", "counter", "Bytes the CMM judged, by verdict reason.");
	for (int r = 0; r < XR__MAX; r++)
		if (have[r])
			fprintf(f, "xchan_verdict_bytes_total{reason=\"%s\"} %llu\n", xc_reason_name(r),
				(unsigned long long)c[r].bytes);
}

/* A label value as the text format wants it: backslash, quote and newline escaped
 * (partition names need none; interface names may hold anything but '/' and space). */
static const char *esc(char *buf, size_t len, const char *v)
{
	size_t k = 0;

	for (; *v && k + 3 < len; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n')
			buf[k++] = '\\';
		buf[k++] = *v == '\n' ? 'n' : *v;
	}
	buf[k] = '\0';
	return buf;
}

static const char *part_label(struct agent *a, uint32_t id, char *buf, size_t len)
{
	char name[XCHAN_NAME_LEN + 12];

	return esc(buf, len, xc_part_name(a->xc, id, name, sizeof(name)));
}

/* Verdicts by partition and reason: bounded by partitions x reasons. pass_channel is
 * not among them (the fast path does not count it there): the channel series below,
 * summed from the channels' counters, say what each partition received and sent. */
static void part_verdicts(FILE *f, struct agent *a)
{
	static const char *const what[] = { "packets", "bytes" };
	struct xc_part_stat *v = NULL;
	struct xc_err e = {};
	size_t n = 0;
	char l[2 * XCHAN_NAME_LEN + 32];

	if (xc_stats_partitions(a->xc, &v, &n, &e))
		count_add(&a->n.reconcile_errors, 1);
	for (int k = 0; k < 2; k++) {
		char name[64];

		snprintf(name, sizeof(name), "xchan_partition_verdict_%s_total", what[k]);
		help(f, name, "counter", "By partition (the sender's verdicts; the receive side's: the receiver's) and reason; pass_channel: see xchan_partition_channel_*.");
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s{partition=\"%s\",reason=\"%s\"} %llu\n", name,
				part_label(a, v[i].part, l, sizeof(l)), xc_reason_name(v[i].reason),
				(unsigned long long)(k ? v[i].c.bytes : v[i].c.packets));
	}
	free(v);
}

static void part_channels(FILE *f, struct agent *a)
{
	static const char *const what[] = { "packets", "bytes" };
	struct xc_part_chan_stat *v = NULL;
	struct xc_err e = {};
	size_t n = 0;
	char l[2 * XCHAN_NAME_LEN + 32];

	if (xc_stats_part_channels(a->xc, &v, &n, &e))
		count_add(&a->n.reconcile_errors, 1);
	for (int k = 0; k < 2; k++) {
		char name[64];

		snprintf(name, sizeof(name), "xchan_partition_channel_%s_total", what[k]);
		help(f, name, "counter", "Channel messages by partition, received as receiver and sent as sender, from the channels' counters.");
		for (size_t i = 0; i < n; i++) {
			part_label(a, v[i].part, l, sizeof(l));
			fprintf(f, "%s{partition=\"%s\",direction=\"received\"} %llu\n", name, l,
				(unsigned long long)(k ? v[i].received.bytes : v[i].received.packets));
			fprintf(f, "%s{partition=\"%s\",direction=\"sent\"} %llu\n", name, l,
				(unsigned long long)(k ? v[i].sent.bytes : v[i].sent.packets));
		}
	}
	free(v);
}

/* An event source as a label: a partition by name, a peer by address, an interface
 * by name (0, or the trusted path: "host"). */
static const char *src_label(struct agent *a, const struct xchan_src_key *s, char *buf, size_t len)
{
	char tmp[IF_NAMESIZE > INET_ADDRSTRLEN ? IF_NAMESIZE : INET_ADDRSTRLEN];

	switch (s->kind) {
	case XCHAN_SRC_PART:
	case XCHAN_SRC_TO_PART:
		return part_label(a, s->id, buf, len);
	case XCHAN_SRC_PEER:
		return esc(buf, len, inet_ntop(AF_INET, &s->id, tmp, sizeof(tmp)) ? tmp : "?");
	case XCHAN_SRC_IFACE:
		if (!s->id)		/* the host's own */
			break;
		if (if_indextoname(s->id, tmp))
			return esc(buf, len, tmp);
		snprintf(buf, len, "%u", s->id);
		return buf;
	default:
		break;
	}
	return esc(buf, len, "host");
}

/* Audit events by source: bounded by the partitions, the peer LRU and interfaces. */
static void event_sources(FILE *f, struct agent *a)
{
	static const char *const what[] = { "emitted", "suppressed", "lost" };
	static const char *const text[] = {
		"Audit events written by source.",
		"Audit events a source's budget did not allow (a flood).",
		"Audit events of a source that met a full ring.",
	};
	struct xc_evsource *v = NULL;
	struct xc_err e = {};
	size_t n = 0;
	char l[2 * IF_NAMESIZE + 2 * XCHAN_NAME_LEN];

	if (xc_evsources(a->xc, &v, &n, &e))
		count_add(&a->n.reconcile_errors, 1);
	for (int k = 0; k < 3; k++) {
		char name[64];

		snprintf(name, sizeof(name), "xchan_events_%s_total", what[k]);
		help(f, name, "counter", text[k]);
		for (size_t i = 0; i < n; i++) {
			uint64_t c = k == 0 ? v[i].l.emitted : k == 1 ? v[i].l.suppressed : v[i].l.lost;

			fprintf(f, "%s{source=\"%s\",kind=\"%s\"} %llu\n", name,
				src_label(a, &v[i].src, l, sizeof(l)), xc_src_kind_name(v[i].src.kind),
				(unsigned long long)c);
		}
	}
	free(v);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void chan_labels(char *buf, size_t len, struct agent *a, struct xc_names *nm,
			const struct xchan_chan_id *id)
{
	char rx[XCHAN_NAME_LEN + 12], tx[XCHAN_NAME_LEN + 12];

	/* names are 1-31 of [A-Za-z0-9._-] or ids: nothing to escape */
	snprintf(buf, len, "receiver=\"%s\",port=\"%u\",sender=\"%s\",sender_port=\"%u\"",
		 xc_part_name_memo(a->xc, nm, id->local_part, rx, sizeof(rx)), id->local_ep,
		 xc_part_name_memo(a->xc, nm, id->remote_part, tx, sizeof(tx)), id->remote_ep);
}

static void channels(FILE *f, struct agent *a)
{
	static const char *const what[] = { "packets", "bytes", "drops" };
	struct xc_chan_info *ci = NULL;
	struct xc_names nm = {};
	struct xc_err e = {};
	size_t n = 0;
	uint64_t now = mono_ns();
	char l[160];

	if (xc_chan_list(a->xc, &ci, &n, &e))
		count_add(&a->n.reconcile_errors, 1);
	for (int k = 0; k < 4; k++) {
		char name[64];

		snprintf(name, sizeof(name), k < 3 ? "xchan_channel_%s_total" : "xchan_channel_key_age_seconds",
			 k < 3 ? what[k] : "");
		help(f, name, k < 3 ? "counter" : "gauge",
		     k < 3 ? "Per channel, at the receiver's CMM." : "Since the channel's newest key was made.");
		for (size_t i = 0, shown = 0; i < n && shown < METRICS_MAX_CHANNELS; i++) {
			const struct xc_chan_info *c = &ci[i];
			uint64_t v[3] = { c->c.packets, c->c.bytes, c->c.drops };

			if (c->id.dir != XCHAN_DIR_IN || (k == 3 && c->ch.state != XCHAN_S_ESTABLISHED))
				continue;
			shown++;
			chan_labels(l, sizeof(l), a, &nm, &c->id);
			if (k < 3)
				fprintf(f, "%s{%s} %llu\n", name, l, (unsigned long long)v[k]);
			else
				fprintf(f, "%s{%s} %.3f\n", name, l,
					c->ch.key_ns && now > c->ch.key_ns ? (now - c->ch.key_ns) / 1e9 : 0.0);
		}
	}
	free(ci);
}

static void agent_counts(FILE *f, struct agent *a)
{
	const struct { const char *result; uint64_t *c; } req[] = {
		{ "granted", &a->n.granted }, { "pending", &a->n.pending },
		{ "refused", &a->n.refused }, { "malformed", &a->n.malformed },
		{ "failed", &a->n.failed }, { "busy", &a->n.busy },
	};

	help(f, "xchan_agent_requests_total", "counter", "Requests from processes, by answer.");
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		fprintf(f, "xchan_agent_requests_total{result=\"%s\"} %llu\n", req[i].result,
			(unsigned long long)load(req[i].c));
	help(f, "xchan_agent_reconcile_errors_total", "counter",
	     "Failures to read the maps or to bind a partition's request socket.");
	fprintf(f, "xchan_agent_reconcile_errors_total %llu\n",
		(unsigned long long)load(&a->n.reconcile_errors));
	help(f, "xchan_agent_partitions_served", "gauge", "Partitions with a bound request socket.");
	fprintf(f, "xchan_agent_partitions_served %llu\n", (unsigned long long)load(&a->n.served));
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	struct agent *a = cls;
	struct MHD_Response *resp;
	char *body = NULL;
	size_t len = 0;
	unsigned int code = MHD_HTTP_OK;
	enum MHD_Result ret;
	FILE *f;

	if (strcmp(method, "GET") || strcmp(url, "/metrics")) {
		static const char nf[] = "only GET /metrics here\n";

		resp = MHD_create_response_from_buffer(sizeof(nf) - 1, (void *)nf, MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_NOT_FOUND;
	} else {
		f = open_memstream(&body, &len);
		if (!f)
			return MHD_NO;
		verdicts(f, a);
		part_verdicts(f, a);
		part_channels(f, a);
		event_sources(f, a);
		channels(f, a);
		agent_counts(f, a);
		fclose(f);
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

int metrics_start(struct agent *a, const char *addr, struct xc_err *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *colon = strrchr(addr, ':');
	char host[INET_ADDRSTRLEN];
	uint32_t port;

	if (!colon || (size_t)(colon - addr) >= sizeof(host) || xc_parse_u32(colon + 1, &port) ||
	    !port || port > 65535)
		return xc_bad(e, "--metrics: '%s' is not IPV4:PORT", addr);
	memcpy(host, addr, colon - addr);
	host[colon - addr] = '\0';
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return xc_bad(e, "--metrics: '%s' is not IPV4:PORT", addr);
	sa.sin_port = htons(port);
	a->metrics = mhd_start(&sa, answer, a);	/* libmicrohttpd, loaded now (mhd_dl.c) */
	if (!a->metrics && mhd_dl_error())
		return xc_fail(e, -ENOENT, "--metrics: %s", mhd_dl_error());
	if (!a->metrics)
		return xc_fail(e, -EADDRNOTAVAIL, "--metrics: cannot listen on %s", addr);
	return 0;
}

void metrics_stop(struct agent *a)
{
	if (a->metrics)
		MHD_stop_daemon(a->metrics);
	a->metrics = NULL;
}
