/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* agent.h: what every subcommand of the xchan agent shares: its context, error
 * reporting, and lookups of partitions and channel endpoints in the pinned maps. */
#ifndef XCHAN_AGENT_H
#define XCHAN_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include "cmm.h"
#include "json.h"

/* Exit codes (documented in the README). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* the operation was refused or failed; nothing changed */
	EXIT_USAGE = 2,		/* malformed command line or input file */
};

struct agent {
	const char *pin_root;
	bool json, verbose;
	struct cmm_sizes sizes;
	struct cmm cmm;
	bool opened;
	struct jw jw;
};

/* Where the error is (FILE:LINE of an apply file), printed before the message. */
extern char xerr_where[96];
void xerr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xinfo(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the pinned instance; with create, loads it on first use. */
int agent_open(struct agent *a, bool create);

struct endpoint {
	uint32_t part;
	uint16_t port;
};

/* "PART:PORT", PART an id or a registered name. Prints its own error. */
int parse_endpoint(struct agent *a, const char *s, struct endpoint *ep, bool must_be_local);
/* id or name -> id; 0 if absent. */
uint32_t part_lookup(struct agent *a, const char *s, struct xchan_part_meta *meta);
const char *part_name(struct agent *a, uint32_t id, char *buf, size_t len);
int parse_u32(const char *s, uint32_t *out);
const char *ip_str(uint32_t be, char *buf);

int do_partition(struct agent *a, int argc, char **argv);
int do_channel(struct agent *a, int argc, char **argv);
int do_stats(struct agent *a, int argc, char **argv);
int do_monitor(struct agent *a, int argc, char **argv);
int do_status(struct agent *a, int argc, char **argv);
int do_down(struct agent *a, int argc, char **argv);
int do_apply(struct agent *a, int argc, char **argv);
int do_demo(struct agent *a, int argc, char **argv);
int do_doctor(struct agent *a, int argc, char **argv);
int do_node(struct agent *a, int argc, char **argv);
int do_attach(struct agent *a, int argc, char **argv);
void uplink_detach(struct agent *a);
/* Inter-node CONNECT/CLOSE through the peer node's CMM (node.c). */
int node_ctrl_send(struct agent *a, uint32_t node_id, const struct xchan_hdr *req,
		   struct xchan_hdr *reply);

int part_add(struct agent *a, int argc, char **argv);
/* Shared by partition del and down. */
int part_detach(struct agent *a, uint32_t ifindex);
int part_remove(struct agent *a, uint32_t id, bool quiet);
/* channel helpers shared with apply */
int chan_authorize(struct agent *a, const struct endpoint *local, const struct endpoint *remote,
		   uint8_t dir);
int chan_connect(struct agent *a, const struct endpoint *local, const struct endpoint *remote);
int chan_open(struct agent *a, const struct endpoint *src, const struct endpoint *dst);
int chan_close(struct agent *a, const struct endpoint *src, const struct endpoint *dst);

#endif
