// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_agent.c: `xchan agent`, the foreground daemon: its options, then user/agent/. */
#include <stddef.h>
#include <string.h>
#include "cli.h"
#include "xchan_req.h"
#include "../agent/agent.h"

static const struct opt agent_opts[] = {
	{ "--policy", 0, "FILE", OPT_STR, offsetof(struct agent_cfg, policy), OPT_REQUIRED, NULL,
	  "which partitions may ask for which channels (format in the README)" },
	{ "--metrics", 0, "ADDR:PORT", OPT_STR, offsetof(struct agent_cfg, metrics), 0, NULL,
	  "serve Prometheus metrics on http://ADDR:PORT/metrics" },
	{ "--socket", 0, "NAME", OPT_STR, offsetof(struct agent_cfg, socket), 0, NULL,
	  "abstract socket name in each partition (default " XCHAN_REQ_SOCKET ")" },
	{ "--poll-ms", 0, "MS", OPT_U32, offsetof(struct agent_cfg, poll_ms), OPT_NONZERO, NULL,
	  "how often the partition table is read (default 1000)" },
	{ "--max-conns", 0, "N", OPT_U32, offsetof(struct agent_cfg, max_conns), OPT_NONZERO, NULL,
	  "connections per partition (default 8)" },
	{ "--max-pending", 0, "N", OPT_U32, offsetof(struct agent_cfg, max_pending), OPT_NONZERO, NULL,
	  "waiting (authorized, not established) sides per partition (default 64)" },
	OPT_END,
};

static int do_agent(struct cli *c, void *cfg)
{
	struct agent_cfg *k = cfg;
	int err;

	if (!k->socket)
		k->socket = XCHAN_REQ_SOCKET;
	if (!*k->socket || strlen(k->socket) > 100)
		return xc_bad(&c->err, "--socket: 1-100 characters");
	if (!k->poll_ms)
		k->poll_ms = 1000;
	if (!k->max_conns)
		k->max_conns = 8;
	if (!k->max_pending)
		k->max_pending = 64;
	err = xc_open(&c->xc, true, &c->err);
	return err ? err : agent_run(&c->xc, k, &c->err);
}

const struct cmd cmd_agent = CMD("agent", agent_opts, sizeof(struct agent_cfg), do_agent, false,
				 "the daemon: request sockets in partitions, policy, metrics");
