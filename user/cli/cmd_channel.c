// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_channel.c: `xchan channel authorize|connect|open|rekey|close|list`. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "cli.h"

struct chan_cfg {
	const char *a, *b;
	bool in, out;
	uint32_t grace_ms;
};

#define REKEY_GRACE_MS	200	/* DATA in flight under the old key still arrives */

#define EP_OPT(field, name, help) \
	{ NULL, 0, name, OPT_STR, offsetof(struct chan_cfg, field), OPT_REQUIRED, NULL, help }

static const struct opt auth_opts[] = {
	EP_OPT(a, "LOCAL", "PART:PORT, a partition of this node"),
	EP_OPT(b, "REMOTE", "PART:PORT"),
	{ "--in", 0, NULL, OPT_FLAG, offsetof(struct chan_cfg, in), 0, NULL,
	  "the receiver's entry: LOCAL receives from REMOTE" },
	{ "--out", 0, NULL, OPT_FLAG, offsetof(struct chan_cfg, out), 0, NULL,
	  "the sender's entry: LOCAL sends to REMOTE" },
	OPT_END,
};
static const struct opt connect_opts[] = {
	EP_OPT(a, "LOCAL", "PART:PORT, the receiver, of this node"),
	EP_OPT(b, "REMOTE", "PART:PORT, the sender"),
	OPT_END,
};
static const struct opt open_opts[] = {
	EP_OPT(a, "SRC", "PART:PORT, the sender"),
	EP_OPT(b, "DST", "PART:PORT, the receiver"),
	OPT_END,
};

static const struct opt rekey_opts[] = {
	EP_OPT(a, "SRC", "PART:PORT, the sender"),
	EP_OPT(b, "DST", "PART:PORT, the receiver, of this node"),
	{ "--grace-ms", 0, "N", OPT_U32, offsetof(struct chan_cfg, grace_ms), OPT_NONZERO, NULL,
	  "how long the receiver keeps accepting the old key after the sender switched (1-60000, default 200)" },
	OPT_END,
};

/* The two endpoints; which of them must be partitions of this node. */
static int two_eps(struct cli *c, const struct chan_cfg *k, struct xc_ep *x, struct xc_ep *y,
		   bool x_local, bool y_local)
{
	int err = xc_ep_parse(&c->xc, k->a, x, x_local, &c->err);

	return err ? err : xc_ep_parse(&c->xc, k->b, y, y_local, &c->err);
}

static void done(struct cli *c, const struct chan_cfg *k, const char *arrow, const char *what)
{
	cli_info(c, "channel %s %s %s: %s", k->a, arrow, k->b, what);
}

static int do_authorize(struct cli *c, void *cfg)
{
	struct chan_cfg *k = cfg;
	struct xc_ep x, y;
	int err;

	if (k->in == k->out)
		return xc_bad(&c->err, "usage: xchan channel authorize LOCAL REMOTE --in|--out");
	err = two_eps(c, k, &x, &y, true, false);
	if (!err)
		err = xc_chan_authorize(&c->xc, &x, &y, k->in ? XCHAN_DIR_IN : XCHAN_DIR_OUT, &c->err);
	if (!err)
		done(c, k, "->", "authorized");
	return err;
}

static int do_connect(struct cli *c, void *cfg)
{
	struct xc_ep x, y;
	int err = two_eps(c, cfg, &x, &y, true, false);

	if (!err)
		err = xc_chan_connect(&c->xc, &x, &y, &c->err);
	if (!err)
		done(c, cfg, "<-", "established");
	return err;
}

static int do_open(struct cli *c, void *cfg)
{
	struct xc_ep x, y;
	int err = two_eps(c, cfg, &x, &y, true, true);

	if (!err)
		err = xc_chan_open(&c->xc, &x, &y, &c->err);
	if (!err)
		done(c, cfg, "->", "established");
	return err;
}

static int do_rekey(struct cli *c, void *cfg)
{
	struct chan_cfg *k = cfg;
	struct xc_ep x, y;
	int err;

	if (k->grace_ms > XC_REKEY_GRACE_MAX_MS)
		return xc_bad(&c->err, "channel rekey: --grace-ms %u is more than %u", k->grace_ms,
			      XC_REKEY_GRACE_MAX_MS);
	err = two_eps(c, k, &x, &y, false, true);
	if (!err)
		err = xc_chan_rekey(&c->xc, &x, &y, k->grace_ms ? k->grace_ms : REKEY_GRACE_MS,
				    &c->err);
	if (err == XC_REKEY_KEPT_OLD) {	/* the sender switched: done, but not all of it */
		cli_warn("warning: %s", c->err.msg);
		done(c, k, "->", "new key in use, the old one still accepted");
		return 0;
	}
	if (!err)
		done(c, k, "->", "new key in use, the old one retired");
	return err;
}

static int do_close(struct cli *c, void *cfg)
{
	struct xc_ep x, y;
	bool unacked = false;
	int err = two_eps(c, cfg, &x, &y, false, false);

	if (!err)
		err = xc_chan_close(&c->xc, &x, &y, &unacked, &c->err);
	if (unacked)
		cli_warn("warning: the sender's CMM did not acknowledge CLOSE: delivery stopped here (the receiver's key is gone), the sender's copy may remain");
	if (!err)
		done(c, cfg, "->", "closed");
	return err;
}

static uint64_t key_age_ms(const struct xc_chan_info *ci)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the maps' clock */
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	return ci->ch.key_ns && now > ci->ch.key_ns ? (now - ci->ch.key_ns) / 1000000 : 0;
}

static void list_json(struct cli *c, const struct xc_chan_info *ci, const char *owner)
{
	jw_obj(&c->jw, NULL);
	jw_str(&c->jw, "dir", ci->id.dir == XCHAN_DIR_IN ? "in" : "out");
	jw_u64(&c->jw, "local_part", ci->id.local_part);
	jw_u64(&c->jw, "local_ep", ci->id.local_ep);
	jw_u64(&c->jw, "remote_part", ci->id.remote_part);
	jw_u64(&c->jw, "remote_ep", ci->id.remote_ep);
	jw_str(&c->jw, "state", xc_state_name(ci->ch.state));
	jw_str(&c->jw, "key", owner);
	if (ci->key_owner) {	/* which key and how old, never its bytes */
		jw_u64(&c->jw, "key_id", ci->key_id);
		jw_u64(&c->jw, "key_slots", ci->key_slots);
		if (ci->ch.key_ns)	/* known for IN entries: their agent made the key */
			jw_u64(&c->jw, "key_age_ms", key_age_ms(ci));
	}
	if (ci->ch.slot != XCHAN_NO_SLOT) {	/* IN, and OUT towards another node */
		jw_u64(&c->jw, "packets", ci->c.packets);
		jw_u64(&c->jw, "bytes", ci->c.bytes);
		jw_u64(&c->jw, "drops", ci->c.drops);
	}
	jw_end_obj(&c->jw);
}

static void list_text(struct cli *c, struct xc_names *nm, const struct xc_chan_info *ci)
{
	struct xc_ep l = { ci->id.local_part, ci->id.local_ep };
	struct xc_ep r = { ci->id.remote_part, ci->id.remote_ep };
	char lb[64], rb[64], kb[16] = "-", ab[24] = "-";

	if (ci->key_owner) {	/* the id in use, "+" while a rekey overlaps; its age */
		snprintf(kb, sizeof(kb), "%u%s", ci->key_id, ci->key_slots > 1 ? "+" : "");
		if (ci->ch.key_ns)
			snprintf(ab, sizeof(ab), "%.1fs", key_age_ms(ci) / 1000.0);
	}
	printf("%-5s %-22s %-22s %-12s %-4s %-7s", ci->id.dir == XCHAN_DIR_IN ? "in" : "out",
	       xc_ep_str_memo(&c->xc, nm, &l, lb, sizeof(lb)),
	       xc_ep_str_memo(&c->xc, nm, &r, rb, sizeof(rb)),
	       xc_state_name(ci->ch.state), kb, ab);
	if (ci->id.dir == XCHAN_DIR_IN)
		printf(" %10llu %12llu %8llu\n", (unsigned long long)ci->c.packets,
		       (unsigned long long)ci->c.bytes, (unsigned long long)ci->c.drops);
	else
		printf(" %10s %12s %8s\n", "-", "-", "-");
}

static int do_list(struct cli *c, void *cfg)
{
	struct xc_names nm = {};
	struct xc_chan_info *v;
	size_t n;
	int err = xc_chan_list(&c->xc, &v, &n, &c->err);

	if (err)
		return err;
	if (c->json)
		jw_arr(&c->jw, NULL);
	else
		printf("%-5s %-22s %-22s %-12s %-4s %-7s %10s %12s %8s\n", "DIR", "LOCAL", "REMOTE",
		       "STATE", "KEY", "KEY AGE", "PACKETS", "BYTES", "DROPS");
	for (size_t i = 0; i < n; i++) {
		const char *owner = !v[i].key_owner ? "none" :
				    v[i].key_owner == XCHAN_OWNER_LOCAL ? "local" : "remote";

		if (c->json)
			list_json(c, &v[i], owner);
		else
			list_text(c, &nm, &v[i]);
	}
	if (c->json) {
		jw_end_arr(&c->jw);
		jw_done(&c->jw);
	}
	free(v);
	return 0;
}

const struct cmd cmds_channel[] = {
	CMD("authorize", auth_opts, sizeof(struct chan_cfg), do_authorize, true,
	  "One side's authorization (exactly one of --in, --out)."),
	CMD("connect", connect_opts, sizeof(struct chan_cfg), do_connect, true,
	  "On the receiving side: creates the key and sends CONNECT to the sender's CMM."),
	CMD("open", open_opts, sizeof(struct chan_cfg), do_open, true,
	  "On one node: authorizes both ends and connects; on failure nothing stays."),
	CMD("rekey", rekey_opts, sizeof(struct chan_cfg), do_rekey, true,
	  "On the receiving side: a new key to the sender's CMM, the old one retired after --grace-ms."),
	CMD("close", open_opts, sizeof(struct chan_cfg), do_close, true,
	  "Removes the receiver's key, the sender's copy, then both authorizations."),
	CMD("list", opts_none, 0, do_list, true,
	  "Every entry: direction, state, key owner, id and age, the receiver's counters."),
	{ NULL },
};
