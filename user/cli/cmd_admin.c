// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_admin.c: the instance as a whole: `xchan status`, `doctor`, `down`, `demo`. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static void status_maps(struct cli *c, const struct xc_status *st)
{
	for (int i = 0; i < M__N; i++) {
		const struct xc_map_status *m = &st->maps[i];

		if (c->json) {
			jw_obj(&c->jw, NULL);
			jw_str(&c->jw, "name", m->name);
			jw_u64(&c->jw, "id", m->id);
			jw_u64(&c->jw, "max_entries", m->max_entries);
			if (m->countable)
				jw_u64(&c->jw, "entries", m->entries);
			jw_end_obj(&c->jw);
		} else if (m->countable) {
			printf("  %-16s id %-6u %8u / %u entries\n", m->name, m->id, m->entries,
			       m->max_entries);
		} else {
			printf("  %-16s id %-6u %8s   %u max\n", m->name, m->id, "", m->max_entries);
		}
	}
}

static void status_node(struct cli *c, const struct xc_status *st)
{
	char ab[INET_ADDRSTRLEN];

	xc_ip_str(st->cfg.self_addr, ab);
	if (!c->json) {
		printf("\nnode %u at %s, uplink %s (xdp %s)\n\nattachments:\n", st->cfg.self_node, ab,
		       st->uplink, st->uplink_xdp);
		return;
	}
	jw_end_arr(&c->jw);
	jw_u64(&c->jw, "node", st->cfg.self_node);
	jw_str(&c->jw, "node_addr", ab);
	jw_str(&c->jw, "uplink", st->uplink);
	jw_str(&c->jw, "uplink_xdp", st->uplink_xdp);
	jw_arr(&c->jw, "attachments");
}

static void status_attachments(struct cli *c, const struct xc_status *st)
{
	for (size_t i = 0; i < st->natt; i++) {
		const struct xc_attach_status *a = &st->att[i];

		if (!c->json) {
			printf("  partition %-6u %-16s xdp %-9s rx %s\n", a->part, a->dev, a->mode,
			       a->rx);
			continue;
		}
		jw_obj(&c->jw, NULL);
		jw_u64(&c->jw, "partition", a->part);
		jw_str(&c->jw, "dev", a->dev);
		jw_u64(&c->jw, "ifindex", a->ifindex);
		jw_str(&c->jw, "mode", a->mode);
		jw_str(&c->jw, "rx", a->rx);
		jw_end_obj(&c->jw);
	}
}

static int do_status(struct cli *c, void *cfg)
{
	const char *root = c->xc.pin_root;
	struct xc_status st;
	int err;

	if (!xc_exists(&c->xc)) {
		if (c->json)
			printf("{\"pin_root\":\"%s\",\"loaded\":false}\n", root);
		else
			printf("xchan: no instance at %s\n", root);
		return 0;
	}
	err = xc_open(&c->xc, false, &c->err);
	if (!err)
		err = xc_status(&c->xc, &st, &c->err);
	if (err)
		return err;
	if (c->json) {
		jw_obj(&c->jw, NULL);
		jw_str(&c->jw, "pin_root", root);
		jw_bool(&c->jw, "loaded", true);
		jw_u64(&c->jw, "prog_id", st.prog_id);
		jw_u64(&c->jw, "max_channels", st.maps[M_COUNTS].max_entries);
		jw_arr(&c->jw, "maps");
	} else {
		/* --max-channels counts channels; the entry and key tables hold two rows
		 * (IN, OUT) per channel, the counters one */
		printf("pin root   %s\nprogram    %s id %u\nchannels   at most %u (--max-channels)\n\nmaps:\n",
		       root, XCHAN_PROG_PIN, st.prog_id, st.maps[M_COUNTS].max_entries);
	}
	status_maps(c, &st);
	status_node(c, &st);
	status_attachments(c, &st);
	if (c->json) {
		jw_end_arr(&c->jw);
		jw_end_obj(&c->jw);
		jw_done(&c->jw);
	}
	xc_status_free(&st);
	return 0;
}

const struct cmd cmd_status = CMD("status", opts_none, 0, do_status, false,
	"The pin root, the program, each map with its entries, each partition's attachments (XDP, receive side).");

static int do_doctor(struct cli *c, void *cfg)
{
	struct xc_doctor_row *v;
	enum verdict worst = V_EMPTY;
	size_t n;
	int err = xc_open(&c->xc, false, &c->err);

	if (!err)
		err = xc_doctor(&c->xc, &v, &n, &c->err);
	if (err)
		return err;
	if (c->json)
		jw_arr(&c->jw, NULL);
	for (size_t i = 0; i < n; i++) {
		const struct diagnosis *d = &v[i].d;

		if (d->v > worst)
			worst = d->v;
		if (!c->json) {
			printf("partition %u %s: %s (%d process%s)\n  %s\n  receive side: %s\n",
			       v[i].id, v[i].name[0] ? v[i].name : "-", verdict_names[d->v], d->nproc,
			       d->nproc == 1 ? "" : "es", d->reasons, v[i].rx);
			continue;
		}
		jw_obj(&c->jw, NULL);
		jw_u64(&c->jw, "id", v[i].id);
		jw_str(&c->jw, "name", v[i].name);
		jw_str(&c->jw, "verdict", verdict_names[d->v]);
		jw_u64(&c->jw, "processes", d->nproc);
		jw_str(&c->jw, "reasons", d->reasons);
		jw_str(&c->jw, "rx", v[i].rx);
		jw_end_obj(&c->jw);
	}
	if (c->json) {
		jw_end_arr(&c->jw);
		jw_done(&c->jw);
	}
	free(v);
	/* the verdicts said it all: exit 1 without another line */
	return worst == V_EXPOSED ? xc_fail(&c->err, -EACCES, "%s", "") : 0;
}

const struct cmd cmd_doctor = CMD("doctor", opts_none, 0, do_doctor, false,
	"Can each partition's processes reach this instance's pinned maps? Exit 1 if one is exposed.");

static int do_down(struct cli *c, void *cfg)
{
	struct xc_down_result r;
	int err = xc_down(&c->xc, &r, &c->err);

	if (r.detach_err)
		cli_warn("warning: cannot detach from ifindex %u: %s", r.detach_ifindex,
			 strerror(-r.detach_err));
	if (err)
		return err;
	if (!r.existed)
		cli_info(c, "nothing to take down at %s", c->xc.pin_root);
	else if (r.unusable)
		cli_warn("warning: %s could not be opened (%s): its pins are removed, but programs it "
			 "attached stay until detached (ip link set dev DEV xdp off)",
			 c->xc.pin_root, c->err.msg);
	else
		cli_info(c, "down: %u partition(s) detached, %s removed", r.nparts, c->xc.pin_root);
	return 0;
}

const struct cmd cmd_down = CMD("down", opts_none, 0, do_down, false,
	"Detaches the CMM everywhere this instance attached it, removes every pin and the pin root.");

/* The demo is a script beside the binary (build tree) or in the installed share
 * directory; it drives this very binary. */
static int do_demo(struct cli *c, void *cfg)
{
	static const char *const rel[] = { "/../scripts/demo.sh", "/../share/xchan/scripts/demo.sh" };
	char exe[PATH_MAX], script[PATH_MAX + 64], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return xc_fail(&c->err, -errno, "cannot find my own binary: %s", strerror(errno));
	exe[n] = '\0';
	setenv("XCHAN", exe, 1);
	slash = strrchr(exe, '/');
	*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(script, sizeof(script), "%s%s", exe, rel[i]);
		if (!access(script, R_OK)) {
			xc_close(&c->xc);
			execl("/bin/bash", "bash", script, (char *)NULL);
			return xc_fail(&c->err, -errno, "cannot run %s: %s", script, strerror(errno));
		}
	}
	return xc_fail(&c->err, -ENOENT, "demo script not found next to %s", exe);
}

const struct cmd cmd_demo = CMD("demo", opts_none, 0, do_demo, false,
	"Three partitions, one channel, traffic allowed and refused, then everything down.");
