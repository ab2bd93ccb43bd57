// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_agent.c: `xchan agent`, the foreground daemon: its options, then user/agent/. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "cli.h"
#include "xchan_req.h"
#include "etcd.h"
#include "../agent/agent.h"

static const char *const agent_macs[] = { "nh", "siphash", NULL };

/* --poll-ms ends up as epoll_wait's int timeout and --lease-ttl, times 1000, as an
 * unsigned int wait: past these a value wraps to a wait that never ends or to none
 * at all. An hour between reads of the table, a day before peers see this node go. */
#define POLL_MS_MAX	3600000U
#define LEASE_TTL_MAX	86400U

static const struct opt agent_opts[] = {
	{ "--policy", 0, "FILE", OPT_STR, offsetof(struct agent_cfg, policy), 0, NULL,
	  "which partitions may ask for which channels (format in the README); required\n"
	  "unless in a cluster, where without it there are no request sockets" },
	{ "--metrics", 0, "ADDR:PORT", OPT_STR, offsetof(struct agent_cfg, metrics), 0, NULL,
	  "serve Prometheus metrics on http://ADDR:PORT/metrics" },
	{ "--socket", 0, "NAME", OPT_STR, offsetof(struct agent_cfg, socket), 0, NULL,
	  "abstract socket name in each partition (default " XCHAN_REQ_SOCKET ")" },
	{ "--poll-ms", 0, "MS", OPT_U32, offsetof(struct agent_cfg, poll_ms), OPT_NONZERO, NULL,
	  "how often the partition table is read (default 1000, at most 3600000)" },
	{ "--max-conns", 0, "N", OPT_U32, offsetof(struct agent_cfg, max_conns), OPT_NONZERO, NULL,
	  "connections per partition (default 8)" },
	{ "--max-pending", 0, "N", OPT_U32, offsetof(struct agent_cfg, max_pending), OPT_NONZERO, NULL,
	  "waiting (authorized, not established) sides per partition (default 64)" },
	{ "--max-sides", 0, "N", OPT_U32, offsetof(struct agent_cfg, max_sides), OPT_NONZERO, NULL,
	  "channel sides per partition, waiting or established, made on request (default 1024)" },
	{ "--etcd", 0, "URL", OPT_STR, offsetof(struct agent_cfg, cl.etcd), 0, NULL,
	  "cluster mode with this store (default: the URL in STATE_DIR/cluster.json)" },
	{ "--prefix", 0, "PREFIX", OPT_STR, offsetof(struct agent_cfg, cl.prefix), 0, NULL,
	  "the store's key prefix (default: cluster.json's, else " ETCD_DEFAULT_PREFIX ")" },
	{ "--state-dir", 0, "DIR", OPT_STR, offsetof(struct agent_cfg, cl.state_dir), 0, NULL,
	  "this node's keys and cluster.json (default " NK_DEFAULT_STATE_DIR ")" },
	{ "--lease-ttl", 0, "S", OPT_U32, offsetof(struct agent_cfg, cl.lease_ttl), OPT_NONZERO, NULL,
	  "this node is down for its peers this long after its agent stops (default 15,\n"
	  "at most 86400)" },
	{ "--node-key-interval", 0, "S", OPT_U32, offsetof(struct agent_cfg, cl.node_key_interval),
	  OPT_NONZERO, NULL, "a new X25519 node key this often (default 600)" },
	{ "--key-overlap", 0, "S", OPT_U32, offsetof(struct agent_cfg, cl.key_overlap), OPT_NONZERO,
	  NULL, "the previous pair key is accepted this long after a new one (default 30)" },
	{ "--chan-key-interval", 0, "S", OPT_U32, offsetof(struct agent_cfg, cl.chan_key_interval),
	  OPT_NONZERO, NULL, "the channels this node receives on get new keys this often (default 600)" },
	{ "--data-mac", 0, "nh|siphash", OPT_ENUM, offsetof(struct agent_cfg, cl.data_mac), 0, agent_macs,
	  "DATA between nodes: nh (default) tags it with NH tags where both nodes' records\n"
	  "say they verify them; siphash: with SipHash-2-4 tags both ways, this node's\n"
	  "record says nothing" },
	OPT_END,
};

static void cluster_defaults(struct cluster_cfg *k)
{
	if (!k->lease_ttl)
		k->lease_ttl = 15;
	if (!k->node_key_interval)
		k->node_key_interval = 600;
	if (!k->key_overlap)
		k->key_overlap = 30;
	if (!k->chan_key_interval)
		k->chan_key_interval = 600;
	k->chan_key_grace_ms = 200;
}

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
	if (!k->max_sides)
		k->max_sides = 1024;
	cluster_defaults(&k->cl);
	if (k->poll_ms > POLL_MS_MAX)
		return xc_bad(&c->err, "agent: --poll-ms must be a number from 1 to %u, not '%u'",
			      POLL_MS_MAX, k->poll_ms);
	if (k->cl.lease_ttl > LEASE_TTL_MAX)
		return xc_bad(&c->err, "agent: --lease-ttl must be a number from 1 to %u, not '%u'",
			      LEASE_TTL_MAX, k->cl.lease_ttl);
	if (k->cl.etcd && etcd_url_check(k->cl.etcd, &c->err))
		return -EINVAL;
	err = xc_open(&c->xc, true, &c->err);
	return err ? err : agent_run(&c->xc, k, &c->err);
}

const struct cmd cmd_agent = CMD("agent", agent_opts, sizeof(struct agent_cfg), do_agent, false,
				 "the daemon: request sockets in partitions, policy, metrics; the cluster store");
