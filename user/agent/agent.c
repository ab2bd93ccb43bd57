// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* agent.c: `xchan agent`'s main loop: signals, the periodic reconcile of request
 * sockets with the partition table, and the log. State lives in the pinned maps, so
 * stopping the agent stops no traffic and a restart finds everything again. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include "agent.h"

void agent_log(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { [LOG_ERR] = "error", [LOG_WARN] = "warning",
					     [LOG_NOTE] = "audit", [LOG_INFO] = "info" };
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Strings from the store, a spec or an error text end up here: a control byte
	 * (a newline, an escape) could start a forged journal line with a priority of its
	 * own, so each one becomes '?' and a line stays one line. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	/* one write per line: lines of the agent and of its threads never interleave */
	dprintf(STDERR_FILENO, "<%d>%s: %s\n", lvl, names[lvl], line);
}

void count_add(uint64_t *c, int64_t d)
{
	__atomic_add_fetch(c, d, __ATOMIC_RELAXED);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int signals_open(struct agent *a, struct xc_err *e)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &a->sig };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a client that went away is an error return */
	a->sig.kind = EP_SIGNAL;
	a->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->sigfd < 0 || epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->sigfd, &ev))
		return xc_fail(e, -errno, "signalfd: %s", strerror(errno));
	return 0;
}

/* SIGHUP: the new policy replaces the old only if all of it parses. */
static void policy_reload(struct agent *a)
{
	struct xc_policy *p;
	struct xc_err e = {};

	if (!a->cfg->policy) {
		agent_log(LOG_INFO, "no policy to reload (no --policy: no request sockets)");
		return;
	}
	if (xc_policy_load(a->cfg->policy, &p, &e)) {
		agent_log(LOG_ERR, "policy not reloaded, the old one stays: %s", e.msg);
		return;
	}
	xc_policy_free(a->pol);
	a->pol = p;
	agent_log(LOG_INFO, "policy reloaded: %zu rules from %s", xc_policy_rules(p), a->cfg->policy);
}

/* Returns true when the agent must stop. */
static bool on_signal(struct agent *a)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			policy_reload(a);
		else
			stop = true;
	}
	return stop;
}

static void loop(struct agent *a)
{
	uint64_t next = 0;

	for (;;) {
		struct epoll_event evs[32];
		uint64_t t = now_ms(), wait;
		int n;

		if (a->pol && (t >= next || a->recheck)) {
			serve_reconcile(a);
			next = t + a->cfg->poll_ms;
		}
		t = now_ms();
		/* at most an hour (the CLI's bound on poll_ms): as an int, a longer wait
		 * could turn negative, which epoll_wait takes as for ever. Without a
		 * policy (cluster mode) nothing here is due: only signals wake it (a
		 * timeout of 0 made the agent spin a CPU). */
		wait = next > t ? next - t : 0;
		n = epoll_wait(a->epfd, evs, 32, !a->pol ? -1 : wait < 3600000 ? (int)wait : 3600000);
		for (int i = 0; i < n; i++) {
			struct ep *ep = evs[i].data.ptr;

			if (ep->kind == EP_SIGNAL && on_signal(a))
				return;
			if (ep->kind == EP_LISTEN)
				serve_listen_ready(a, (struct served *)ep);
			else if (ep->kind == EP_CONN)
				serve_conn_ready(a, (struct conn *)ep, evs[i].events);
		}
	}
}

static void started(struct agent *a)
{
	const struct agent_cfg *cfg = a->cfg;

	if (a->pol)
		agent_log(LOG_INFO, "agent started: instance %s, policy %s (%zu rules), socket @%s in each partition%s%s",
			  a->xc->pin_root, cfg->policy, xc_policy_rules(a->pol), cfg->socket,
			  cfg->metrics ? ", metrics on " : "", cfg->metrics ? cfg->metrics : "");
	else
		agent_log(LOG_INFO, "agent started: instance %s, no policy: no request sockets%s%s",
			  a->xc->pin_root, cfg->metrics ? ", metrics on " : "",
			  cfg->metrics ? cfg->metrics : "");
}

/* Each partition may hold a listening socket and --max-conns connections, so the
 * usual soft limit (1024) ends near a hundred partitions; the hard limit is the
 * operator's word (LimitNOFILE). */
static void nofile_raise(void)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int agent_run(struct xc *x, const struct agent_cfg *cfg, struct xc_err *e)
{
	struct agent a = { .xc = x, .cfg = cfg, .sigfd = -1 };

	bool cl = cluster_configured(&cfg->cl);
	int err = 0;

	if (!cfg->policy && !cl)
		return xc_bad(e, "--policy is required unless this node is in a cluster (cluster join, --etcd)");
	if (cfg->policy && (err = xc_policy_load(cfg->policy, &a.pol, e)))
		return err;
	nofile_raise();
	serve_spare();
	a.epfd = epoll_create1(EPOLL_CLOEXEC);
	a.selfns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (a.epfd < 0 || a.selfns < 0)
		err = xc_fail(e, -errno, "agent: %s", strerror(errno));
	if (!err)
		err = signals_open(&a, e);
	if (!err && cfg->metrics)
		err = metrics_start(&a, cfg->metrics, e);
	if (!err && cl)
		err = cluster_start(&a, &cfg->cl, &a.cluster, e);
	if (!err) {
		started(&a);
		loop(&a);
		agent_log(LOG_INFO, "agent stopping: channels and partitions stay as they are%s",
			  a.cluster ? "; the lease is left to expire" : "");
	}
	cluster_stop(a.cluster);
	serve_stop_all(&a);
	metrics_stop(&a);
	free(a.sv);
	xc_policy_free(a.pol);
	if (a.sigfd >= 0)
		close(a.sigfd);
	if (a.selfns >= 0)
		close(a.selfns);
	if (a.epfd >= 0)
		close(a.epfd);
	return err;
}
