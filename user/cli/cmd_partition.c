// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_partition.c: `xchan partition add|del|list`: their tables and their output. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "cli.h"

static const char *const modes[] = { "native", "generic", NULL };

const struct opt part_add_opts[] = {
	{ NULL, 0, "ID", OPT_U32, offsetof(struct part_add_cfg, id), OPT_REQUIRED | OPT_NONZERO,
	  NULL, "partition id, 1-4294967295" },
	{ "--name", 0, "NAME", OPT_STR, offsetof(struct part_add_cfg, name), 0, NULL,
	  "a name to use instead of the id (not a number, no ':')" },
	{ "--dev", 0, "HOSTIF", OPT_STR, offsetof(struct part_add_cfg, dev), 0, NULL,
	  "the host side of its veth" },
	{ "--netns", 0, "NAME", OPT_STR, offsetof(struct part_add_cfg, netns), 0, NULL,
	  "its network namespace, /run/netns/NAME" },
	{ "--pid", 0, "PID", OPT_U32, offsetof(struct part_add_cfg, pid), OPT_NONZERO, NULL,
	  "a process in its network namespace" },
	{ "--podman", 0, "CONTAINER", OPT_STR, offsetof(struct part_add_cfg, podman), 0, NULL,
	  "a running podman container" },
	{ "--remote", 0, "NODE", OPT_U32, offsetof(struct part_add_cfg, remote), OPT_NONZERO, NULL,
	  "it lives on node NODE (needs --ip)" },
	{ "--ip", 0, "ADDR", OPT_STR, offsetof(struct part_add_cfg, ip), 0, NULL,
	  "picks among several veths; the address of a remote one" },
	{ "--isolated", 0, NULL, OPT_FLAG, offsetof(struct part_add_cfg, isolated), 0, NULL,
	  "drop its traffic to non-partition addresses" },
	{ "--mode", 0, "native|generic", OPT_ENUM, offsetof(struct part_add_cfg, mode), 0, modes,
	  "force an XDP mode" },
	{ "--strict", 0, NULL, OPT_FLAG, offsetof(struct part_add_cfg, strict), 0, NULL,
	  "refuse a partition doctor finds exposed" },
	OPT_END,
};

int part_spec_from(const struct part_add_cfg *a, struct xc_part_spec *s, struct xc_err *e)
{
	int nsrc = !!a->dev + !!a->netns + !!a->pid + !!a->podman + !!a->remote;

	if (nsrc != 1)
		return xc_bad(e, "partition add: give exactly one of --dev, --netns, --pid, --podman, --remote");
	*s = (struct xc_part_spec){
		.id = a->id, .name = a->name, .pid = a->pid, .node = a->remote, .ip = a->ip,
		.isolated = a->isolated, .strict = a->strict, .mode = a->mode,
	};
	s->src = a->dev ? XC_SRC_DEV : a->netns ? XC_SRC_NETNS : a->pid ? XC_SRC_PID :
		 a->podman ? XC_SRC_PODMAN : XC_SRC_REMOTE;
	s->src_name = a->dev ? a->dev : a->netns ? a->netns : a->podman;
	return 0;
}

void part_warn(const struct xc_part_added *p)
{
	if (p->diag.v >= V_AT_RISK)
		cli_warn("warning: partition %u is %s: %s", p->id, verdict_names[p->diag.v],
			 p->diag.reasons);
}

static int do_add(struct cli *c, void *cfg)
{
	struct xc_part_spec s;
	struct xc_part_added p;
	char ip[INET_ADDRSTRLEN];
	const char *name = ((struct part_add_cfg *)cfg)->name;
	int err;

	err = part_spec_from(cfg, &s, &c->err);
	if (err)
		return err;
	err = xc_part_add(&c->xc, &s, &p, &c->err);
	part_warn(&p);
	if (err)
		return err;
	xc_ip_str(p.ip, ip);
	if (s.src == XC_SRC_REMOTE) {
		cli_info(c, "partition %u%s%s: %s on node %u", p.id, name ? " " : "", name ? name : "",
			 ip, p.node);
	} else if (c->json) {
		jw_obj(&c->jw, NULL);
		jw_u64(&c->jw, "id", p.id);
		jw_str(&c->jw, "name", p.name);
		jw_str(&c->jw, "host_dev", p.host_dev);
		jw_str(&c->jw, "ip", ip);
		jw_str(&c->jw, "mode", xc_mode_name(p.mode));
		jw_end_obj(&c->jw);
		jw_done(&c->jw);
	} else {
		cli_info(c, "partition %u%s%s: %s (%s) behind %s, CMM attached (%s)", p.id,
			 name ? " " : "", name ? name : "", p.peer_dev, ip, p.host_dev,
			 xc_mode_name(p.mode));
	}
	return 0;
}

struct del_cfg {
	const char *part;
};

static const struct opt del_opts[] = {
	{ NULL, 0, "ID|NAME", OPT_STR, offsetof(struct del_cfg, part), OPT_REQUIRED, NULL,
	  "the partition" },
	OPT_END,
};

static int do_del(struct cli *c, void *cfg)
{
	const char *which = ((struct del_cfg *)cfg)->part;
	uint32_t id;
	int err, derr;
	struct xchan_part_meta m;

	err = xc_open(&c->xc, false, &c->err);
	if (err)
		return err;
	if (xc_part_find(&c->xc, which, &id, &m))
		return xc_fail(&c->err, -ENOENT, "no partition '%s'", which);
	xc_part_remove(&c->xc, id, &derr);
	if (derr)
		cli_warn("warning: cannot detach from ifindex %u: %s", m.ifindex, strerror(-derr));
	cli_info(c, "partition %u removed", id);
	return 0;
}

static void list_row(struct cli *c, const struct xc_part_info *p)
{
	char ip[INET_ADDRSTRLEN], mac[18];
	const uint8_t *m = p->row.mac;
	bool iso = p->row.flags & XCHAN_PART_ISOLATED;

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	xc_ip_str(p->row.ip, ip);
	if (!c->json) {
		printf("%-6u %-16s %-15s %-17s %-16s %-8s %-9s %s\n", p->id,
		       p->meta.name[0] ? p->meta.name : "-", ip, mac, p->host_dev, p->xdp, p->rx,
		       iso ? "isolated" : "-");
		return;
	}
	jw_obj(&c->jw, NULL);
	jw_u64(&c->jw, "id", p->id);
	jw_str(&c->jw, "name", p->meta.name);
	jw_str(&c->jw, "ip", ip);
	jw_str(&c->jw, "mac", mac);
	jw_str(&c->jw, "host_dev", p->host_dev);
	jw_u64(&c->jw, "ifindex", p->meta.ifindex);
	jw_str(&c->jw, "netns", p->meta.netns);
	jw_str(&c->jw, "xdp", p->xdp);
	jw_str(&c->jw, "rx", p->rx);
	jw_u64(&c->jw, "node", p->meta.node_id);
	jw_bool(&c->jw, "isolated", iso);
	jw_end_obj(&c->jw);
}

static int do_list(struct cli *c, void *cfg)
{
	struct xc_part_info *v;
	size_t n;
	int err;

	if (!xc_exists(&c->xc)) {
		if (c->json)
			fputs("[]\n", stdout);
		return 0;
	}
	err = xc_open(&c->xc, false, &c->err);
	if (!err)
		err = xc_part_list(&c->xc, &v, &n, &c->err);
	if (err)
		return err;
	if (c->json)
		jw_arr(&c->jw, NULL);
	else
		printf("%-6s %-16s %-15s %-17s %-16s %-8s %-9s %s\n", "ID", "NAME", "IP", "MAC",
		       "HOSTDEV", "XDP", "RX", "FLAGS");
	for (size_t i = 0; i < n; i++)
		list_row(c, &v[i]);
	if (c->json) {
		jw_end_arr(&c->jw);
		jw_done(&c->jw);
	}
	free(v);
	return 0;
}

const struct cmd cmds_partition[] = {
	CMD("add", part_add_opts, sizeof(struct part_add_cfg), do_add, false,
	  "Registers a container (exactly one of --dev, --netns, --pid, --podman) or another\n"
	  "node's partition (--remote NODE --ip ADDR) and attaches the CMM to its veth."),
	CMD("del", del_opts, sizeof(struct del_cfg), do_del, false,
	  "Removes a partition, its channels and keys, and detaches the CMM."),
	CMD("list", opts_none, 0, do_list, false, "Lists the partitions."),
	{ NULL },
};
