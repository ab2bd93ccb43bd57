/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cmm.h: the agent's handle on one CMM instance: its pin root, program and maps,
 * and the trusted path (BPF_PROG_RUN of the CMM with the trusted ingress ifindex). */
#ifndef XCHAN_CMM_H
#define XCHAN_CMM_H

#include <stdbool.h>
#include <stdint.h>
#include "xchan.h"

enum cmm_map {
	M_PARTITION, M_ADDRS, M_CHANNELS, M_COUNTS, M_STATS, M_DEVMAP, M_EVENTS,
	M_PARTMETA, M_CONFIG, M_NODES, M_REPLAY, M_MACS, M_NEXTHOP, M_NONCE, M_EVLIMIT,
	M_EVPEER, M_GWMAC, M_PEERNONCE, M_IFPART, M_PARTSTATS, M_SLOTS, M_NHKEYS,
	M__N
};
extern const char *const cmm_map_names[M__N];

struct cmm_sizes {
	uint32_t partitions;	/* xchan_partition, xchan_addrs, xchan_devmap; 16 times
				 * that: xchan_partstats */
	uint32_t channels;	/* channels: 2 entries each in xchan_channels (IN and OUT),
				 * 1 in xchan_counts and xchan_replay */
	bool fwd_pass;		/* allowed frames go up the stack instead of devmap redirect */
};

struct cmm {
	char root[512];		/* empty: not pinned (tests) */
	int prog_fd;
	int rx_fd;		/* the receive side (TC); -1 in an instance made before it */
	int map_fd[M__N];
	struct xchan_bpf *skel;	/* set only when this handle loaded the program */
	uint64_t *flowslots;	/* xchan_slotalloc, mapped (NULL only when opened leniently) */
	uint32_t nflowslots;	/* slots in xchan_counts */
	size_t flowslots_len;
	struct xchan_chan_counter *counts;	/* xchan_counts, mapped (key_ns) */
	size_t counts_len;
};

#define XC_MAX_CHANNELS		((1U << 24) - 1)	/* --max-channels: slots are 24 bits */
#define CMM_DEFAULT_ROOT "/sys/fs/bpf/xchan"

/* Opens the instance pinned at root; with create, loads and pins it if absent.
 * root NULL loads a private unpinned instance. Returns 0 or -errno; why says what
 * was wrong with the pin root, if that was it (else it is left as it was). */
int cmm_open(struct cmm *c, const char *root, bool create, const struct cmm_sizes *sz,
	     char *why, size_t whylen);
void cmm_close(struct cmm *c);
/* The instance at root for taking it down: whatever is pinned (a missing map's fd is
 * -1), also an instance of an older layout (-EUCLEAN for cmm_open). */
int cmm_open_lenient(struct cmm *c, const char *root);
/* An exclusive lock on the pin root (creating or removing the instance), an fd to
 * close, or -errno and why; with create, a root removed meanwhile is made again. The
 * directory locked is the one checked (cmm_check_root's rules, on the fd). */
int cmm_lock_root(const char *root, bool create, char *why, size_t whylen);
bool cmm_exists(const char *root);
/* Removes every pin of the instance (receive-side links included) and the root. */
int cmm_unpin(struct cmm *c);

/* Detaches and unpins every receive-side link and the receive program under root
 * (user/lib/tc.c); 0, or how many could not be removed. */
int rx_unpin_all(const char *root);

/* Checks that root is safe to use: a directory we own, not writable by others. */
int cmm_check_root(const char *root, char *why, size_t whylen);

/* Sends a control message over the trusted path; *reply gets the CMM's answer. */
int cmm_ctrl(struct cmm *c, const struct xchan_hdr *req, struct xchan_hdr *reply);

/* SipHash-2-4 of a buffer (include/siphash.h), as the CMM computes it. */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

/* Sum of a per-CPU value of size sz (u64 fields) into out. */
int cmm_percpu_sum(int fd, const void *key, void *out, size_t sz);

extern const char *const xchan_reason_names[XR__MAX];

#endif
