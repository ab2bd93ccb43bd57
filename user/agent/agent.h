/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* agent.h: the xchan agent daemon: its settings, its state (the partitions it serves,
 * their request sockets and connections, its counters) and the parts' entry points. */
#ifndef XCHAN_AGENT_H
#define XCHAN_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "xc.h"
#include "cluster.h"

struct agent_cfg {
	const char *policy;	/* the policy file; NULL in cluster mode: no request sockets */
	const char *metrics;	/* ADDR:PORT or NULL */
	const char *socket;	/* abstract name in each netns; default XCHAN_REQ_SOCKET */
	uint32_t poll_ms;	/* how often the partition table is read */
	uint32_t max_conns;	/* connections per partition */
	uint32_t max_pending;	/* waiting (authorized, not established) sides per partition */
	uint32_t max_sides;	/* sides per partition, waiting or established */
	struct cluster_cfg cl;	/* cluster mode: with --etcd, or cluster.json in the state dir */
};

enum ep_kind { EP_SIGNAL, EP_LISTEN, EP_CONN };

/* What epoll hands back: the first member of each watched thing. */
struct ep {
	enum ep_kind kind;
};

/* A partition of this node and its request socket (lfd -1: binding failed). */
struct served {
	struct ep ep;
	uint32_t id, ifindex, peer_ifindex;
	char netns[64];
	int lfd;
	unsigned int nconn;
	char last_err[256];	/* logged once, not at every poll */
	uint64_t audit_t;	/* token bucket for its per-request log lines: last refill (ms), */
	uint64_t audit_mtok;	/* tokens in thousandths, */
	uint64_t suppressed;	/* lines not written since the last summary */
	uint64_t walk_t;	/* token bucket for requests that read the whole channel */
	uint64_t walk_mtok;	/* table (offer, ask, list): last refill (ms), thousandths */
	bool seen;		/* in this reconcile's table */
	bool paused;		/* its listening socket unwatched until the next reconcile:
				 * out of descriptors, and no spare to shed with */
};

struct conn {
	struct ep ep;
	int fd;
	struct served *sv;
	pid_t pid;		/* SO_PEERCRED: for the log only, never for a decision */
	uid_t uid;
	struct conn *next;
};

/* Counters the metrics endpoint reads from its own thread. */
struct agent_counts {
	uint64_t granted, pending, refused, malformed, failed, busy;
	uint64_t reconcile_errors;
	uint64_t served;	/* partitions with a bound request socket (a gauge) */
};

struct agent {
	struct xc *xc;
	const struct agent_cfg *cfg;
	struct xc_policy *pol;
	int epfd, selfns;
	struct ep sig;
	int sigfd;
	struct served **sv;
	size_t nsv, capsv;
	struct conn *conns;
	bool recheck;		/* a served partition went: reconcile after this batch */
	struct agent_counts n;
	void *metrics;		/* struct MHD_Daemon */
	struct cluster *cluster;	/* NULL: a node on its own */
};

enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_NOTE = 5, LOG_INFO = 6 };
/* One line on stderr with a syslog priority prefix, which the journal understands. */
void agent_log(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void count_add(uint64_t *c, int64_t d);

int agent_run(struct xc *x, const struct agent_cfg *cfg, struct xc_err *e);

/* serve.c: partitions' sockets and their connections */
void serve_reconcile(struct agent *a);
void serve_listen_ready(struct agent *a, struct served *sv);
void serve_spare(void);
void serve_conn_ready(struct agent *a, struct conn *c, uint32_t events);
void serve_stop_all(struct agent *a);

/* metrics.c */
int metrics_start(struct agent *a, const char *addr, struct xc_err *e);
void metrics_stop(struct agent *a);

#endif
