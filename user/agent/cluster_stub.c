// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_stub.c: TEMPORARY, until branch keys lands the two-slot node keys and
 * channel rekey in the library: one symmetric pair key per peer (the lower id's tx,
 * which is the higher id's rx), no second slot, no rekey. Goes with the merge. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include "xc_int.h"
#include "cluster.h"

#ifndef XC_HAVE_NODE_KEY
int xc_node_key_install(struct xc *x, uint32_t node, uint32_t addr, const struct xc_node_key *k,
			struct xc_err *e)
{
	struct xchan_config cfg = {};
	struct xchan_node n = { .addr = addr };
	struct xchan_node old;

	xc_config_read(x, &cfg);
	if (!bpf_map_lookup_elem(XC_FD(x, M_NODES), &node, &old))
		n.last_nonce = old.last_nonce;
	memcpy(n.pair_key, cfg.self_node < node ? k->tx : k->rx, sizeof(n.pair_key));
	if (bpf_map_update_elem(XC_FD(x, M_NODES), &node, &n, BPF_ANY)) {
		explicit_bzero(&n, sizeof(n));
		return xc_fail(e, -errno, "cannot install node %u's key: %s", node, strerror(errno));
	}
	explicit_bzero(&n, sizeof(n));
	explicit_bzero(&old, sizeof(old));
	xc_node_refresh_one(x, node, addr, &(struct xc_err){});
	return 0;
}

int xc_node_key_retire(struct xc *x, uint32_t node, uint8_t keep_id, struct xc_err *e)
{
	return 0;
}

int xc_node_del(struct xc *x, uint32_t node, struct xc_err *e)
{
	bpf_map_delete_elem(XC_FD(x, M_NEXTHOP), &node);
	if (bpf_map_delete_elem(XC_FD(x, M_NODES), &node) && errno != ENOENT)
		return xc_fail(e, -errno, "cannot remove node %u: %s", node, strerror(errno));
	return 0;
}

int xc_chan_rekey(struct xc *x, const struct xc_ep *src, const struct xc_ep *dst,
		  unsigned int grace_ms, struct xc_err *e)
{
	return xc_fail(e, -EOPNOTSUPP, "channel rekey needs the keys branch");
}
#endif
