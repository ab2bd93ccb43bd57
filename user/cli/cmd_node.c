// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_node.c: `xchan node self|add|set|del|key-install|key-retire|list|refresh` and
 * `xchan attach IFACE --uplink`. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include "cli.h"

struct node_cfg {
	uint32_t id, key_id;
	const char *addr, *key_file, *rx_file, *tx_file;
	int data_mac;		/* 0: not said, else 1 + index in data_macs */
};

/* DATA's tag towards a node (xc_node_data_mac): SipHash-2-4, or NH-Toeplitz under it */
static const char *const data_macs[] = { "siphash", "nh", NULL };
#define DATA_MAC_NH	2

static const struct opt self_opts[] = {
	{ NULL, 0, "ID", OPT_U32, offsetof(struct node_cfg, id), OPT_REQUIRED | OPT_NONZERO, NULL,
	  "this node's id" },
	{ "--addr", 0, "IPV4", OPT_STR, offsetof(struct node_cfg, addr), OPT_REQUIRED, NULL,
	  "its address, the outer source of what it sends" },
	OPT_END,
};
static const struct opt add_opts[] = {
	{ NULL, 0, "ID", OPT_U32, offsetof(struct node_cfg, id), OPT_REQUIRED | OPT_NONZERO, NULL,
	  "the peer's id" },
	{ "--addr", 0, "IPV4", OPT_STR, offsetof(struct node_cfg, addr), OPT_REQUIRED, NULL,
	  "its address" },
	{ "--key-file", 0, "FILE", OPT_STR, offsetof(struct node_cfg, key_file), OPT_REQUIRED,
	  NULL, "the node-pair key: 32 bytes raw or 64 hex digits, mode 0600" },
	{ "--data-mac", 0, "siphash|nh", OPT_ENUM, offsetof(struct node_cfg, data_mac), 0, data_macs,
	  "the tag of DATA sent to it (default siphash; nh only if it runs an xchan with NH tags)" },
	OPT_END,
};
static const struct opt set_opts[] = {
	{ NULL, 0, "ID", OPT_U32, offsetof(struct node_cfg, id), OPT_REQUIRED | OPT_NONZERO, NULL,
	  "the peer's id" },
	{ "--data-mac", 0, "siphash|nh", OPT_ENUM, offsetof(struct node_cfg, data_mac), OPT_REQUIRED,
	  data_macs, "the tag of DATA sent to it: nh only if it runs an xchan with NH tags" },
	OPT_END,
};

static const struct opt del_opts[] = {
	{ NULL, 0, "ID", OPT_U32, offsetof(struct node_cfg, id), OPT_REQUIRED | OPT_NONZERO, NULL,
	  "the peer's id" },
	OPT_END,
};
static const struct opt install_opts[] = {
	{ NULL, 0, "ID", OPT_U32, offsetof(struct node_cfg, id), OPT_REQUIRED | OPT_NONZERO, NULL,
	  "the peer's id" },
	{ "--addr", 0, "IPV4", OPT_STR, offsetof(struct node_cfg, addr), OPT_REQUIRED, NULL,
	  "its address" },
	{ "--id", 0, "K", OPT_U32, offsetof(struct node_cfg, key_id), OPT_REQUIRED, NULL,
	  "the key's id, 0-255, as both nodes name it" },
	{ "--rx-file", 0, "FILE", OPT_STR, offsetof(struct node_cfg, rx_file), OPT_REQUIRED, NULL,
	  "what the peer sends this node: 32 bytes raw or 64 hex digits, mode 0600" },
	{ "--tx-file", 0, "FILE", OPT_STR, offsetof(struct node_cfg, tx_file), OPT_REQUIRED, NULL,
	  "what this node sends the peer (the peer's rx), the same format" },
	OPT_END,
};
static const struct opt retire_opts[] = {
	{ NULL, 0, "ID", OPT_U32, offsetof(struct node_cfg, id), OPT_REQUIRED | OPT_NONZERO, NULL,
	  "the peer's id" },
	{ "--keep", 0, "K", OPT_U32, offsetof(struct node_cfg, key_id), OPT_REQUIRED, NULL,
	  "the id of the one key that stays" },
	OPT_END,
};

static int addr_of(struct cli *c, const struct node_cfg *k, uint32_t *ip)
{
	if (inet_pton(AF_INET, k->addr, ip) != 1)
		return xc_bad(&c->err, "node: '%s' is not an IPv4 address", k->addr);
	return 0;
}

static int do_self(struct cli *c, void *cfg)
{
	struct node_cfg *k = cfg;
	uint32_t ip;
	int err = addr_of(c, k, &ip);

	if (!err)
		err = xc_node_self(&c->xc, k->id, ip, &c->err);
	if (!err)
		cli_info(c, "this node is %u at %s", k->id, k->addr);
	return err;
}

static int do_add(struct cli *c, void *cfg)
{
	uint8_t key[XCHAN_PAIR_KEY_LEN];
	struct node_cfg *k = cfg;
	uint32_t ip;
	int err = addr_of(c, k, &ip);

	if (!err)
		err = xc_pair_key_read(k->key_file, key, &c->err);
	if (err)
		return err;
	err = xc_node_add(&c->xc, k->id, ip, key, &c->err);
	explicit_bzero(key, sizeof(key));
	if (!err && k->data_mac == DATA_MAC_NH &&
	    (err = xc_node_data_mac(&c->xc, k->id, true, &c->err)))
		xc_node_del(&c->xc, k->id, &(struct xc_err){ 0 });	/* all or nothing */
	if (!err)
		cli_info(c, "node %u at %s%s", k->id, k->addr,
			 k->data_mac == DATA_MAC_NH ? ", DATA to it with NH tags" : "");
	return err;
}

static int do_set(struct cli *c, void *cfg)
{
	struct node_cfg *k = cfg;
	int err = xc_node_data_mac(&c->xc, k->id, k->data_mac == DATA_MAC_NH, &c->err);

	if (!err)
		cli_info(c, "node %u: DATA to it with %s tags", k->id, data_macs[k->data_mac - 1]);
	return err;
}

static int do_del(struct cli *c, void *cfg)
{
	struct node_cfg *k = cfg;
	int err = xc_node_del(&c->xc, k->id, &c->err);

	if (!err)
		cli_info(c, "node %u removed", k->id);
	return err;
}

static int key_id_of(struct cli *c, const struct node_cfg *k)
{
	if (k->key_id > 255)
		return xc_bad(&c->err, "node: key id %u is not in 0-255", k->key_id);
	return 0;
}

static int do_key_install(struct cli *c, void *cfg)
{
	struct node_cfg *k = cfg;
	struct xc_node_key nk = {};
	uint32_t ip;
	int err = addr_of(c, k, &ip);

	if (!err)
		err = key_id_of(c, k);
	if (!err)
		err = xc_pair_key_read(k->rx_file, nk.rx, &c->err);
	if (!err)
		err = xc_pair_key_read(k->tx_file, nk.tx, &c->err);
	nk.id = k->key_id;
	/* one key both ways is a key file's pair key: both nodes' nonces then wrap under
	 * one k_enc; installed as a directional key it is a mistake */
	if (!err && !memcmp(nk.rx, nk.tx, sizeof(nk.rx)))
		err = xc_fail(&c->err, -EINVAL, "node key-install: %s and %s hold the same key; each direction needs its own (one key for both: node add --key-file)",
			      k->rx_file, k->tx_file);
	if (!err)
		err = xc_node_key_install(&c->xc, k->id, ip, &nk, &c->err);
	explicit_bzero(&nk, sizeof(nk));
	if (!err)
		cli_info(c, "node %u at %s: key %u installed and in use", k->id, k->addr, k->key_id);
	return err;
}

static int do_key_retire(struct cli *c, void *cfg)
{
	struct node_cfg *k = cfg;
	int err = key_id_of(c, k);

	if (!err)
		err = xc_node_key_retire(&c->xc, k->id, k->key_id, &c->err);
	if (!err)
		cli_info(c, "node %u: every key but %u retired", k->id, k->key_id);
	return err;
}

/* Each slot's key id and age, never a key. */
static void list_keys(struct cli *c, const struct xc_node_info *v)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the clock of installed_ns */
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (c->json)
		jw_arr(&c->jw, "keys");
	for (int s = 0; s < 2; s++) {
		const struct xc_node_key_info *k = &v->key[s];
		uint64_t age = now > k->installed_ns ? (now - k->installed_ns) / 1000000 : 0;

		if (!k->valid)
			continue;
		if (!c->json) {
			printf("%s key %u%s (%.1fs old)", s && v->key[0].valid ? "," : "", k->id,
			       k->cur ? " newest" : "", age / 1000.0);
			continue;
		}
		jw_obj(&c->jw, NULL);
		jw_u64(&c->jw, "slot", s);
		jw_u64(&c->jw, "id", k->id);
		jw_bool(&c->jw, "newest", k->cur);
		jw_u64(&c->jw, "age_ms", age);
		jw_end_obj(&c->jw);
	}
	if (c->json)
		jw_end_arr(&c->jw);
}

static int do_list(struct cli *c, void *cfg)
{
	struct xchan_config cfgrow;
	struct xc_node_info *v;
	char b[INET_ADDRSTRLEN], ifn[IF_NAMESIZE] = "-";
	size_t n;
	int err = xc_open(&c->xc, false, &c->err);

	if (!err)
		err = xc_node_list(&c->xc, &v, &n, &c->err);
	if (err)
		return err;
	xc_config_read(&c->xc, &cfgrow);
	if (cfgrow.uplink_ifindex)
		if_indextoname(cfgrow.uplink_ifindex, ifn);
	if (c->json) {
		jw_obj(&c->jw, NULL);
		jw_u64(&c->jw, "self", cfgrow.self_node);
		jw_str(&c->jw, "self_addr", xc_ip_str(cfgrow.self_addr, b));
		jw_str(&c->jw, "uplink", ifn);
		jw_arr(&c->jw, "peers");
	} else {
		printf("this node: %u at %s, uplink %s\n", cfgrow.self_node,
		       xc_ip_str(cfgrow.self_addr, b), ifn);
	}
	for (size_t i = 0; i < n; i++) {
		char via[IF_NAMESIZE + 32] = "unresolved", dev[IF_NAMESIZE] = "?";
		const uint8_t *m = v[i].nh_mac;

		if (v[i].nh_ifindex) {
			if_indextoname(v[i].nh_ifindex, dev);
			snprintf(via, sizeof(via), "%s %02x:%02x:%02x:%02x:%02x:%02x", dev,
				 m[0], m[1], m[2], m[3], m[4], m[5]);
		}
		if (!c->json) {
			printf("peer %u at %s, next hop %s, data mac %s,", v[i].id,
			       xc_ip_str(v[i].addr, b), via, data_macs[v[i].data_nh]);
			list_keys(c, &v[i]);
			printf("\n");
			continue;
		}
		jw_obj(&c->jw, NULL);
		jw_u64(&c->jw, "id", v[i].id);
		jw_str(&c->jw, "addr", xc_ip_str(v[i].addr, b));
		jw_str(&c->jw, "next_hop", via);
		jw_str(&c->jw, "data_mac", data_macs[v[i].data_nh]);
		list_keys(c, &v[i]);
		jw_end_obj(&c->jw);
	}
	if (c->json) {
		jw_end_arr(&c->jw);
		jw_end_obj(&c->jw);
		jw_done(&c->jw);
	}
	free(v);
	return 0;
}

static int do_refresh(struct cli *c, void *cfg)
{
	int err = xc_node_refresh(&c->xc, &c->err);

	if (!err)
		cli_info(c, "next hops of every peer resolved");
	return err;
}

const struct cmd cmds_node[] = {
	CMD("self", self_opts, sizeof(struct node_cfg), do_self, false,
	  "This node's id and address."),
	CMD("add", add_opts, sizeof(struct node_cfg), do_add, false,
	  "A peer node and the key this node shares with it."),
	CMD("set", set_opts, sizeof(struct node_cfg), do_set, false,
	  "Changes how DATA to a peer is tagged (--data-mac)."),
	CMD("del", del_opts, sizeof(struct node_cfg), do_del, false,
	  "Removes a peer and its next hop: its control and DATA are refused from then on."),
	CMD("key-install", install_opts, sizeof(struct node_cfg), do_key_install, false,
	  "A node key by id, one file per direction: the newest, the previous one stays valid."),
	CMD("key-retire", retire_opts, sizeof(struct node_cfg), do_key_retire, false,
	  "Removes every key of the peer but --keep K."),
	CMD("list", opts_none, 0, do_list, false,
	  "This node, its uplink and its peers with next hops, key ids and ages (never a key)."),
	CMD("refresh", opts_none, 0, do_refresh, false,
	  "Resolves again how each peer is reached (route, neighbour MAC) for the CMM."),
	{ NULL },
};

struct attach_cfg {
	const char *dev;
	bool uplink;
	int mode;
};

static const char *const modes[] = { "native", "generic", NULL };

static const struct opt attach_opts[] = {
	{ NULL, 0, "IFACE", OPT_STR, offsetof(struct attach_cfg, dev), OPT_REQUIRED, NULL,
	  "the node's NIC" },
	{ "--uplink", 0, NULL, OPT_FLAG, offsetof(struct attach_cfg, uplink), OPT_REQUIRED, NULL,
	  "where messages from other nodes arrive" },
	{ "--mode", 0, "native|generic", OPT_ENUM, offsetof(struct attach_cfg, mode), 0, modes,
	  "force an XDP mode" },
	OPT_END,
};

static int do_attach(struct cli *c, void *cfg)
{
	struct attach_cfg *k = cfg;
	enum xc_mode got;
	int err = xc_uplink_attach(&c->xc, k->dev, k->mode, &got, &c->err);

	if (!err)
		cli_info(c, "CMM attached to uplink %s (%s)", k->dev, xc_mode_name(got));
	return err;
}

const struct cmd cmd_attach = CMD("attach", attach_opts, sizeof(struct attach_cfg), do_attach, false,
	"The CMM on the node's NIC; `down` detaches it.");
