/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cli.h: what the xchan command's files share: the run's context, the command
 * families main dispatches to, and the few output helpers. */
#ifndef XCHAN_CLI_H
#define XCHAN_CLI_H

#include <stdbool.h>
#include <arpa/inet.h>
#include "xc.h"
#include "json.h"
#include "params.h"

struct cli {
	struct xc xc;
	bool json, verbose;
	struct jw jw;
	struct xc_err err;	/* what main prints, if a command fails */
};

/* A line on stdout, unless the output is JSON. */
void cli_info(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning on stderr: the command goes on. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

extern const struct cmd cmds_partition[], cmds_channel[], cmds_node[], cmds_cluster[];
extern const struct cmd cmd_stats, cmd_monitor, cmd_status, cmd_apply, cmd_down,
	cmd_doctor, cmd_demo, cmd_attach, cmd_agent;

/* Shared by partition add and apply. */
extern const struct opt part_add_opts[];
struct part_add_cfg {
	uint32_t id, pid, remote;
	const char *name, *dev, *netns, *podman, *ip;
	bool isolated, strict;
	int mode;
};
int part_spec_from(const struct part_add_cfg *a, struct xc_part_spec *s, struct xc_err *e);
void part_warn(const struct xc_part_added *p);

#endif
