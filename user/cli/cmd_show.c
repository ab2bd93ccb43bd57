// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_show.c: the read side: `xchan stats`, `monitor` and `status`. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

struct stats_cfg {
	bool channels, by_part;
};

static const struct opt stats_opts[] = {
	{ "--channels", 0, NULL, OPT_FLAG, offsetof(struct stats_cfg, channels), 0, NULL,
	  "per-channel packets, bytes and drops too" },
	{ "--by-partition", 0, NULL, OPT_FLAG, offsetof(struct stats_cfg, by_part), 0, NULL,
	  "verdicts by partition and reason, and channel messages each partition received and sent" },
	OPT_END,
};

static void reasons_out(struct cli *c)
{
	struct xchan_counter v[XR__MAX];
	bool have[XR__MAX];

	xc_stats_reasons(&c->xc, v, have);
	if (c->json) {
		jw_obj(&c->jw, NULL);
		jw_arr(&c->jw, "reasons");
	} else {
		printf("%-24s %14s %16s\n", "REASON", "PACKETS", "BYTES");
	}
	for (uint32_t r = 0; r < XR__MAX; r++) {
		if (!have[r])
			continue;
		if (c->json) {
			jw_obj(&c->jw, NULL);
			jw_str(&c->jw, "reason", xchan_reason_names[r]);
			jw_u64(&c->jw, "packets", v[r].packets);
			jw_u64(&c->jw, "bytes", v[r].bytes);
			jw_end_obj(&c->jw);
		} else if (v[r].packets) {
			printf("%-24s %14llu %16llu\n", xchan_reason_names[r],
			       (unsigned long long)v[r].packets, (unsigned long long)v[r].bytes);
		}
	}
	if (c->json)
		jw_end_arr(&c->jw);
}

/* The counters are the receiver's IN entry: remote is the source. */
static void chan_stat_out(struct cli *c, const struct xc_chan_stat *s)
{
	struct xc_ep src = { s->id.remote_part, s->id.remote_ep };
	struct xc_ep dst = { s->id.local_part, s->id.local_ep };
	char sb[64], db[64];

	if (!c->json) {
		printf("%-22s %-22s %12llu %14llu %10llu\n", xc_ep_str(&c->xc, &src, sb, sizeof(sb)),
		       xc_ep_str(&c->xc, &dst, db, sizeof(db)), (unsigned long long)s->c.packets,
		       (unsigned long long)s->c.bytes, (unsigned long long)s->c.drops);
		return;
	}
	jw_obj(&c->jw, NULL);
	jw_u64(&c->jw, "src_part", src.part);
	jw_u64(&c->jw, "src_ep", src.port);
	jw_u64(&c->jw, "dst_part", dst.part);
	jw_u64(&c->jw, "dst_ep", dst.port);
	jw_u64(&c->jw, "packets", s->c.packets);
	jw_u64(&c->jw, "bytes", s->c.bytes);
	jw_u64(&c->jw, "drops", s->c.drops);
	jw_end_obj(&c->jw);
}

/* Verdicts by partition and reason (never pass_channel), then channel messages by
 * partition, summed from the channels' counters. */
static void part_out(struct cli *c, const struct xc_part_stat *ps, size_t nps,
		     const struct xc_part_chan_stat *pc, size_t npc)
{
	char nb[XCHAN_NAME_LEN + 12];

	if (c->json)
		jw_arr(&c->jw, "partitions");
	else
		printf("\n%-20s %-24s %14s %16s\n", "PARTITION", "REASON", "PACKETS", "BYTES");
	for (size_t i = 0; i < nps; i++) {
		xc_part_name(&c->xc, ps[i].part, nb, sizeof(nb));
		if (!c->json) {
			printf("%-20s %-24s %14llu %16llu\n", nb, xc_reason_name(ps[i].reason),
			       (unsigned long long)ps[i].c.packets, (unsigned long long)ps[i].c.bytes);
			continue;
		}
		jw_obj(&c->jw, NULL);
		jw_u64(&c->jw, "part", ps[i].part);
		jw_str(&c->jw, "name", nb);
		jw_str(&c->jw, "reason", xc_reason_name(ps[i].reason));
		jw_u64(&c->jw, "packets", ps[i].c.packets);
		jw_u64(&c->jw, "bytes", ps[i].c.bytes);
		jw_end_obj(&c->jw);
	}
	if (c->json) {
		jw_end_arr(&c->jw);
		jw_arr(&c->jw, "partition_channels");
	} else {
		printf("\n%-20s %14s %16s %14s %16s\n", "PARTITION", "RECEIVED", "BYTES", "SENT", "BYTES");
	}
	for (size_t i = 0; i < npc; i++) {
		xc_part_name(&c->xc, pc[i].part, nb, sizeof(nb));
		if (!c->json) {
			printf("%-20s %14llu %16llu %14llu %16llu\n", nb,
			       (unsigned long long)pc[i].received.packets,
			       (unsigned long long)pc[i].received.bytes,
			       (unsigned long long)pc[i].sent.packets, (unsigned long long)pc[i].sent.bytes);
			continue;
		}
		jw_obj(&c->jw, NULL);
		jw_u64(&c->jw, "part", pc[i].part);
		jw_str(&c->jw, "name", nb);
		jw_u64(&c->jw, "received_packets", pc[i].received.packets);
		jw_u64(&c->jw, "received_bytes", pc[i].received.bytes);
		jw_u64(&c->jw, "sent_packets", pc[i].sent.packets);
		jw_u64(&c->jw, "sent_bytes", pc[i].sent.bytes);
		jw_end_obj(&c->jw);
	}
	if (c->json)
		jw_end_arr(&c->jw);
}

/* Everything is read before anything is printed: a failure prints nothing. */
static int stats_read(struct cli *c, const struct stats_cfg *sc, struct xc_chan_stat **v,
		      size_t *n, struct xc_part_stat **ps, size_t *nps,
		      struct xc_part_chan_stat **pc, size_t *npc)
{
	int err = 0;

	if (sc->channels)
		err = xc_stats_channels(&c->xc, v, n, &c->err);
	if (!err && sc->by_part)
		err = xc_stats_partitions(&c->xc, ps, nps, &c->err);
	if (!err && sc->by_part)
		err = xc_stats_part_channels(&c->xc, pc, npc, &c->err);
	return err;
}

static int do_stats(struct cli *c, void *cfg)
{
	struct xc_chan_stat *v = NULL;
	struct xc_part_stat *ps = NULL;
	struct xc_part_chan_stat *pc = NULL;
	size_t n = 0, nps = 0, npc = 0;
	int err = stats_read(c, cfg, &v, &n, &ps, &nps, &pc, &npc);

	if (err)
		goto out;
	reasons_out(c);
	if (((struct stats_cfg *)cfg)->by_part)
		part_out(c, ps, nps, pc, npc);
	if (((struct stats_cfg *)cfg)->channels) {
		if (c->json)
			jw_arr(&c->jw, "channels");
		else
			printf("\n%-22s %-22s %12s %14s %10s\n", "SRC", "DST", "PACKETS", "BYTES", "DROPS");
		for (size_t i = 0; i < n; i++)
			chan_stat_out(c, &v[i]);
		if (c->json)
			jw_end_arr(&c->jw);
	}
	if (c->json) {
		jw_end_obj(&c->jw);
		jw_done(&c->jw);
	}
out:
	free(v);
	free(ps);
	free(pc);
	return err;
}

const struct cmd cmd_stats = CMD("stats", stats_opts, sizeof(struct stats_cfg), do_stats, true,
	"Packets and bytes per verdict reason.");

struct mon_cfg {
	uint32_t count, timeout;
};

struct mon {
	struct cli *c;
	long count, seen;
};

static const struct opt mon_opts[] = {
	{ "--count", 0, "N", OPT_U32, offsetof(struct mon_cfg, count), 0, NULL,
	  "stop after N events" },
	{ "--timeout", 0, "S", OPT_U32, offsetof(struct mon_cfg, timeout), 0, NULL,
	  "stop after S seconds" },
	OPT_END,
};

static volatile sig_atomic_t stop;

static void on_sig(int sig)
{
	stop = 1;
}

static void event_json(const struct xchan_event *e, const char *kind, const char *reason)
{
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	struct jw w;

	/* JSON lines: one document per event */
	jw_init(&w, stdout);
	jw_obj(&w, NULL);
	jw_u64(&w, "ts_ns", e->ts_ns);
	jw_str(&w, "kind", kind);
	jw_str(&w, "reason", reason);
	jw_u64(&w, "ifindex", e->ifindex);
	jw_str(&w, "saddr", xc_ip_str(e->saddr, s));
	jw_str(&w, "daddr", xc_ip_str(e->daddr, d));
	jw_u64(&w, "msg_type", e->msg_type);
	jw_u64(&w, "local_part", e->id.local_part);
	jw_u64(&w, "local_ep", e->id.local_ep);
	jw_u64(&w, "remote_part", e->id.remote_part);
	jw_u64(&w, "remote_ep", e->id.remote_ep);
	jw_str(&w, "src_kind", xc_src_kind_name(e->src.kind));
	jw_u64(&w, "src_id", e->src.id);
	jw_u64(&w, "suppressed", e->suppressed);
	jw_end_obj(&w);
	jw_done(&w);
}

static int on_event(void *ctx, const struct xchan_event *e)
{
	struct mon *m = ctx;
	const char *kind = xc_event_kind_name(e->kind);
	const char *reason = e->reason < XR__MAX ? xchan_reason_names[e->reason] : "unknown";
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	if (m->count && m->seen >= m->count)
		return 0;
	m->seen++;
	if (m->c->json) {
		event_json(e, kind, reason);
		return 0;
	}
	printf("%llu.%09llu %-22s %-22s if=%u %s -> %s", (unsigned long long)e->ts_ns / 1000000000,
	       (unsigned long long)e->ts_ns % 1000000000, kind, reason, e->ifindex,
	       xc_ip_str(e->saddr, s), xc_ip_str(e->daddr, d));
	if (e->id.dir)
		printf(" chan %u:%u %s %u:%u", e->id.local_part, e->id.local_ep,
		       e->id.dir == XCHAN_DIR_IN ? "<-" : "->", e->id.remote_part, e->id.remote_ep);
	if (e->suppressed)
		printf(" (%u earlier events of %s %u suppressed)", e->suppressed,
		       xc_src_kind_name(e->src.kind), e->src.id);
	putchar('\n');
	fflush(stdout);
	return 0;
}

/* Sources whose events were suppressed while monitor ran: one line (a JSON line
 * of kind "suppressed") each, so that a flood shows as what it is. */
static void suppression_out(struct cli *c, const struct xc_evsource *before, size_t nbefore)
{
	struct xc_evsource *now = NULL;
	struct xc_err e;
	size_t n = 0;

	if (xc_evsources(&c->xc, &now, &n, &e))
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t was = 0, d;
		struct jw w;

		for (size_t j = 0; j < nbefore; j++)
			if (!memcmp(&before[j].src, &now[i].src, sizeof(now[i].src)))
				was = before[j].l.suppressed;
		d = now[i].l.suppressed - was;
		if (!d || now[i].l.suppressed < was)
			continue;
		if (!c->json) {
			printf("suppressed: %llu events of %s %u\n", (unsigned long long)d,
			       xc_src_kind_name(now[i].src.kind), now[i].src.id);
			continue;
		}
		jw_init(&w, stdout);
		jw_obj(&w, NULL);
		jw_str(&w, "kind", "suppressed");
		jw_str(&w, "src_kind", xc_src_kind_name(now[i].src.kind));
		jw_u64(&w, "src_id", now[i].src.id);
		jw_u64(&w, "suppressed", d);
		jw_end_obj(&w);
		jw_done(&w);
	}
	free(now);
}

static int do_monitor(struct cli *c, void *cfg)
{
	struct mon_cfg *k = cfg;
	struct mon m = { .c = c, .count = k->count };
	struct xc_evsource *before = NULL;
	struct xc_events *ev;
	struct timespec t0, t;
	size_t nbefore = 0;
	int err;

	err = xc_evsources(&c->xc, &before, &nbefore, &c->err);
	if (!err)
		err = xc_events_open(&c->xc, on_event, &m, &ev, &c->err);
	if (err) {
		free(before);
		return err;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop && (!m.count || m.seen < m.count)) {
		err = xc_events_poll(ev, 100);
		if (err < 0 && err != -EINTR) {
			/* what was read stands; the reading stops */
			cli_warn("reading events: %s", strerror(-err));
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (k->timeout && t.tv_sec - t0.tv_sec >= (time_t)k->timeout)
			break;
	}
	xc_events_close(ev);
	suppression_out(c, before, nbefore);
	free(before);
	return 0;
}

const struct cmd cmd_monitor = CMD("monitor", mon_opts, sizeof(struct mon_cfg), do_monitor, true,
	"Audit events with reason names and ids, until Ctrl-C, N events or S seconds.");
