/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cluster_sync.h: what one reconcile round reads of the maps once (partitions,
 * channels, nodes) and the steps that share it. */
#ifndef XCHAN_AGENT_CLUSTER_SYNC_H
#define XCHAN_AGENT_CLUSTER_SYNC_H

#include "cluster.h"

struct snap {
	struct xc_part_info *parts;
	size_t nparts;
	struct xc_chan_info *chans;
	size_t nchans;
	struct xc_node_info *nodes;
	size_t nnodes;
};
int snap_take(struct cluster *c, struct snap *s, struct xc_err *e);
void snap_free(struct snap *s);
const struct xc_part_info *snap_part(const struct snap *s, uint32_t id);
const struct xc_node_info *snap_node(const struct snap *s, uint32_t id);
/* The entry of channel local <-dir-> remote, or NULL. */
const struct xc_chan_info *snap_chan(const struct snap *s, const struct xc_ep *local,
				     const struct xc_ep *remote, uint8_t dir);

void specs_sync(struct cluster *c, struct snap *s);
void chans_sync(struct cluster *c, struct snap *s);
/* A peer is down: its node entry, its pair keys and its partitions go. */
void peer_down(struct cluster *c, uint32_t id, struct snap *s);

#endif
