// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* serve.c: one request socket per partition, bound inside the partition's netns, and
 * the connections on it. Which socket a request arrives on is the only thing that
 * says who asks; nothing a client sends can block the agent or outgrow a buffer. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include "xchan_req.h"
#include "agent.h"

/* Per partition, at most AUDIT_BURST per-request log lines at once and AUDIT_PER_SEC
 * a second after that: a partition flooding refused requests must not flood the log.
 * The counters (metrics) still count every request. */
#define AUDIT_BURST	20
#define AUDIT_PER_SEC	5
/* Offers, asks and lists read the node's whole channel table (a policy of limits, a
 * list); a partition repeating them would keep the one-threaded agent from everyone
 * else. An application opening its channels at start makes a burst of them (the
 * bench's 51 offers and asks, each a round trip): 200 at once, then 50 a second.
 * What waits for its channel asks its state, which costs one lookup. */
#define WALK_BURST	200
#define WALK_PER_SEC	50

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A token bucket in thousandths of a token, *t its last refill (ms): burst at once,
 * per_sec after that; full at first (its time 0 is long ago). */
static bool bucket_take(uint64_t *t, uint64_t *mtok, uint64_t burst, uint64_t per_sec)
{
	uint64_t now = mono_ms();

	*mtok += (now - *t) * per_sec;
	if (*mtok > burst * 1000)
		*mtok = burst * 1000;
	*t = now;
	if (*mtok < 1000)
		return false;
	*mtok -= 1000;
	return true;
}

static bool audit_ok(struct served *sv)
{
	if (bucket_take(&sv->audit_t, &sv->audit_mtok, AUDIT_BURST, AUDIT_PER_SEC))
		return true;
	sv->suppressed++;
	return false;
}

static bool walk_ok(struct served *sv)
{
	return bucket_take(&sv->walk_t, &sv->walk_mtok, WALK_BURST, WALK_PER_SEC);
}

static void audit_summary(struct served *sv)
{
	if (!sv->suppressed)
		return;
	agent_log(LOG_NOTE, "partition %u: %llu audit lines suppressed", sv->id,
		  (unsigned long long)sv->suppressed);
	sv->suppressed = 0;
}

static int watch(struct agent *a, int fd, struct ep *ep)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ep };

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* The socket is created while this thread is in the partition's netns: an abstract
 * Unix socket belongs to the netns it was made in, so only that netns can reach it. */
static int bind_in(struct agent *a, int nsfd, struct xc_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t nlen = strlen(a->cfg->socket);
	int fd, err = 0;

	if (setns(nsfd, CLONE_NEWNET))
		return xc_fail(e, -errno, "cannot enter its netns: %s", strerror(errno));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path + 1, a->cfg->socket, nlen);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + 1 + nlen) ||
	    listen(fd, 16))
		err = xc_fail(e, -errno, "cannot bind @%s there: %s", a->cfg->socket, strerror(errno));
	if (setns(a->selfns, CLONE_NEWNET)) {
		/* every later socket would land in the partition: never go on like that */
		agent_log(LOG_ERR, "cannot return to the agent's netns: %s", strerror(errno));
		abort();
	}
	if (err && fd >= 0)
		close(fd);
	return err ? err : fd;
}

static void conn_close(struct agent *a, struct conn *c)
{
	for (struct conn **p = &a->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	close(c->fd);	/* also leaves the epoll set */
	c->sv->nconn--;
	free(c);
}

static void served_drop(struct agent *a, size_t i, const char *why)
{
	struct served *sv = a->sv[i];

	for (struct conn *c = a->conns, *next; c; c = next) {
		next = c->next;
		if (c->sv == sv)
			conn_close(a, c);
	}
	audit_summary(sv);
	if (sv->lfd >= 0) {
		close(sv->lfd);
		count_add(&a->n.served, -1);
		agent_log(LOG_INFO, "partition %u: request socket closed (%s)", sv->id, why);
	}
	free(sv);
	a->sv[i] = a->sv[--a->nsv];
}

static void served_bind(struct agent *a, struct served *sv)
{
	struct xc_err e = {};
	int nsfd, fd;

	fd = xc_part_netns_open(a->xc, sv->id, &nsfd, &e);
	if (!fd) {
		fd = bind_in(a, nsfd, &e);
		close(nsfd);
	}
	if (fd >= 0 && watch(a, fd, &sv->ep)) {
		xc_fail(&e, -errno, "epoll: %s", strerror(errno));
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		count_add(&a->n.reconcile_errors, 1);
		if (strcmp(sv->last_err, e.msg))
			agent_log(LOG_WARN, "partition %u: no request socket: %s", sv->id, e.msg);
		snprintf(sv->last_err, sizeof(sv->last_err), "%s", e.msg);
		return;
	}
	sv->lfd = fd;
	sv->last_err[0] = '\0';
	count_add(&a->n.served, 1);
	agent_log(LOG_INFO, "partition %u: request socket @%s bound in %s", sv->id, a->cfg->socket,
		  sv->netns);
}

static struct served *served_find(struct agent *a, uint32_t id, size_t *idx)
{
	for (size_t i = 0; i < a->nsv; i++)
		if (a->sv[i]->id == id) {
			*idx = i;
			return a->sv[i];
		}
	return NULL;
}

static void served_add(struct agent *a, const struct xc_part_info *pi)
{
	struct served *sv = calloc(1, sizeof(*sv));
	struct served **slot = sv ? xc_grow((void **)&a->sv, &a->nsv, &a->capsv, sizeof(*slot)) : NULL;

	if (!slot) {
		free(sv);
		return;
	}
	sv->ep.kind = EP_LISTEN;
	sv->id = pi->id;
	sv->ifindex = pi->meta.ifindex;
	sv->peer_ifindex = pi->meta.peer_ifindex;
	memcpy(sv->netns, pi->meta.netns, sizeof(sv->netns));
	sv->netns[sizeof(sv->netns) - 1] = '\0';
	sv->lfd = -1;
	sv->seen = true;
	sv->audit_t = mono_ms();
	sv->audit_mtok = AUDIT_BURST * 1000;
	*slot = sv;
}

/* The partition table is the truth: a socket for each local partition, none for a
 * partition that went, a new one for a partition whose veth or netns changed. */
void serve_reconcile(struct agent *a)
{
	struct xc_part_info *pi = NULL;
	struct xc_err e = {};
	size_t n = 0, idx;

	if (xc_part_list(a->xc, &pi, &n, &e)) {
		count_add(&a->n.reconcile_errors, 1);
		agent_log(LOG_WARN, "cannot read the partition table: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < a->nsv; i++)
		a->sv[i]->seen = false;
	for (size_t i = 0; i < n; i++) {
		struct served *sv = served_find(a, pi[i].id, &idx);

		if (pi[i].meta.node_id)
			continue;
		if (sv && (sv->ifindex != pi[i].meta.ifindex || sv->peer_ifindex != pi[i].meta.peer_ifindex ||
			   strncmp(sv->netns, pi[i].meta.netns, sizeof(sv->netns) - 1))) {
			served_drop(a, idx, "its interfaces changed");
			sv = NULL;
		}
		if (!sv)
			served_add(a, &pi[i]);
		else
			sv->seen = true;
	}
	free(pi);
	a->recheck = false;
	serve_spare();
	for (size_t i = 0; i < a->nsv; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &a->sv[i]->ep };

		if (a->sv[i]->paused && !epoll_ctl(a->epfd, EPOLL_CTL_MOD, a->sv[i]->lfd, &ev))
			a->sv[i]->paused = false;
	}
	for (size_t i = a->nsv; i-- > 0;)
		if (!a->sv[i]->seen)
			served_drop(a, i, "partition removed");
	for (size_t i = 0; i < a->nsv; i++) {
		audit_summary(a->sv[i]);
		if (a->sv[i]->lfd < 0)
			served_bind(a, a->sv[i]);
	}
}

void serve_stop_all(struct agent *a)
{
	while (a->nsv)
		served_drop(a, a->nsv - 1, "agent stopping");
}

static void send_answer(struct agent *a, struct conn *c, const struct xchan_resp *r, size_t len)
{
	/* never wait for a client: one that does not read its answers loses its connection */
	if (send(c->fd, r, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
		conn_close(a, c);
}

/* One descriptor held in reserve. With the table full, accept4 fails and the
 * listening socket stays readable, so the loop would come back to it at once, for
 * ever: the spare is given up for a moment to take the connection and close it. */
static int spare_fd = -1;

void serve_spare(void)
{
	if (spare_fd < 0)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void shed(struct agent *a, struct served *sv)
{
	int fd;

	if (spare_fd >= 0) {
		close(spare_fd);
		spare_fd = -1;
	}
	fd = accept4(sv->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	serve_spare();
	/* another thread took the freed slot (metrics, the store): the socket waits,
	 * unwatched, for the next reconcile rather than wake the loop for ever */
	if (fd < 0 || spare_fd < 0) {
		struct epoll_event ev = { .events = 0, .data.ptr = &sv->ep };

		if (!epoll_ctl(a->epfd, EPOLL_CTL_MOD, sv->lfd, &ev))
			sv->paused = true;
	}
	count_add(&a->n.busy, 1);
	if (audit_ok(sv))
		agent_log(LOG_WARN, "partition %u: a connection refused: the agent has no file descriptor left (raise its limit: LimitNOFILE)",
			  sv->id);
}

void serve_listen_ready(struct agent *a, struct served *sv)
{
	struct ucred cr = {};
	socklen_t crlen = sizeof(cr);
	struct xchan_resp r;
	struct conn *c;
	int fd;

	fd = accept4(sv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE))
		shed(a, sv);
	if (fd < 0)
		return;
	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen);
	c = sv->nconn < a->cfg->max_conns ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		count_add(&a->n.busy, 1);
		if (audit_ok(sv))
			agent_log(LOG_NOTE, "partition %u pid %d uid %u: refused: more than %u connections",
				  sv->id, cr.pid, cr.uid, a->cfg->max_conns);
		xc_req_reject(&r, 0, XS_BUSY, EBUSY, "too many connections from this partition");
		send(fd, &r, XCHAN_RESP_HEAD, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	*c = (struct conn){ .ep.kind = EP_CONN, .fd = fd, .sv = sv, .pid = cr.pid, .uid = cr.uid,
			    .next = a->conns };
	if (watch(a, fd, &c->ep)) {
		close(fd);
		free(c);
		return;
	}
	a->conns = c;
	sv->nconn++;
}

static const char *const op_names[XQ__MAX] = {
	[XQ_OFFER] = "offer", [XQ_ASK] = "ask", [XQ_CLOSE] = "close", [XQ_LIST] = "list",
	[XQ_STATE] = "state",
};

/* Every answer is counted; every one that is not a plain yes is an audit line. */
static void account(struct agent *a, struct conn *c, const struct xchan_resp *r)
{
	static const char *const verdicts[] = { "granted", "pending", "refused", "malformed",
						"failed", "busy" };
	uint64_t *ctr[] = { &a->n.granted, &a->n.pending, &a->n.refused, &a->n.malformed,
			    &a->n.failed, &a->n.busy };
	const char *op = r->op && r->op < XQ__MAX ? op_names[r->op] : "?";

	if (r->status > XS_BUSY)
		return;
	count_add(ctr[r->status], 1);
	if (r->op == XQ_LIST || r->op == XQ_STATE)
		if (r->status == XS_OK || r->status == XS_PENDING)
			return;	/* reading one's own channels is not news */
	if (audit_ok(c->sv))
		agent_log(r->status == XS_OK || r->status == XS_PENDING ? LOG_INFO : LOG_NOTE,
			  "partition %u pid %d uid %u: %s %s: %s", c->sv->id, c->pid, c->uid, op,
			  verdicts[r->status], r->msg);
}

/* Whether the partition this socket was bound for is still there, with the same veth
 * and netns: a request on a removed partition's socket must not act under its id,
 * which a later partition may get. Checked at every request, not only at each poll. */
static bool still_ours(struct agent *a, const struct served *sv)
{
	struct xchan_part_meta m;
	char num[12];
	uint32_t id;

	snprintf(num, sizeof(num), "%u", sv->id);
	if (xc_part_find(a->xc, num, &id, &m))
		return false;
	m.netns[sizeof(m.netns) - 1] = '\0';
	return !m.node_id && m.ifindex == sv->ifindex && m.peer_ifindex == sv->peer_ifindex &&
	       !strncmp(m.netns, sv->netns, sizeof(sv->netns) - 1);
}

void serve_conn_ready(struct agent *a, struct conn *c, uint32_t events)
{
	/* one byte more than a request, so that a longer one shows as longer */
	unsigned char buf[sizeof(struct xchan_req) + 1];
	struct xchan_resp r;
	struct xchan_req q;
	struct xc_err e = {};
	size_t len;
	ssize_t n;

	n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {	/* the client closed, or the connection broke */
		conn_close(a, c);
		return;
	}
	if (xc_req_check(buf, (size_t)n, &q, &e)) {
		len = xc_req_reject(&r, n >= 2 ? buf[1] : 0, XS_MALFORMED, EINVAL, e.msg);
		if (r.op >= XQ__MAX)
			r.op = 0;
	} else if (!still_ours(a, c->sv)) {
		len = xc_req_reject(&r, q.op, XS_REFUSED, ENOENT, "this partition is gone");
		a->recheck = true;	/* its socket closes once this batch of events is done */
	} else if ((q.op == XQ_OFFER || q.op == XQ_ASK || q.op == XQ_LIST) && !walk_ok(c->sv)) {
		len = xc_req_reject(&r, q.op, XS_BUSY, EAGAIN,
				    "too many offers, asks and lists from this partition: try again");
	} else {
		len = xc_req_serve(a->xc, a->pol, a->cfg->max_pending, a->cfg->max_sides, c->sv->id,
				   &q, &r);
	}
	account(a, c, &r);
	send_answer(a, c, &r, len);
}
