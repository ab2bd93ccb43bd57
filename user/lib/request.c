// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* request.c: a process's request to the agent: checked byte by byte (its sender
 * controls every one), then served for the partition whose socket it came on:
 * policy, this side's authorization, and the channel once both sides have asked. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "xchan_req.h"
#include "xc_int.h"

_Static_assert((int)XQ_DIR_IN == (int)XCHAN_DIR_IN && (int)XQ_DIR_OUT == (int)XCHAN_DIR_OUT,
	       "the protocol's directions are the maps'");

static bool peer_ok(const char *peer, bool want_empty)
{
	size_t n = strnlen(peer, XCHAN_REQ_PEER_LEN);

	if (n == XCHAN_REQ_PEER_LEN || (n == 0) != want_empty)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((peer[i] >= 'a' && peer[i] <= 'z') || (peer[i] >= 'A' && peer[i] <= 'Z') ||
		      (peer[i] >= '0' && peer[i] <= '9') || strchr("._-", peer[i])))
			return false;
	for (size_t i = n; i < XCHAN_REQ_PEER_LEN; i++)	/* no hidden bytes after the NUL */
		if (peer[i])
			return false;
	return true;
}

int xc_req_check(const void *buf, size_t len, struct xchan_req *out, struct xc_err *e)
{
	struct xchan_req q;
	bool list, sided;

	if (len != sizeof(q))
		return xc_bad(e, "malformed: a request is %zu bytes, not %zu", sizeof(q), len);
	memcpy(&q, buf, sizeof(q));
	if (q.version != XCHAN_REQ_VERSION)
		return xc_bad(e, "malformed: protocol version %u (this agent speaks %u)", q.version,
			      XCHAN_REQ_VERSION);
	if (q.op == 0 || q.op >= XQ__MAX)
		return xc_bad(e, "malformed: unknown operation %u", q.op);
	if (q.pad)
		return xc_bad(e, "malformed: padding must be zero");
	list = q.op == XQ_LIST;
	sided = q.op == XQ_CLOSE || q.op == XQ_STATE;
	if (list && (q.dir || q.port || q.peer_port || !peer_ok(q.peer, true)))
		return xc_bad(e, "malformed: list takes no direction, ports or peer");
	if (list) {
		*out = q;
		return 0;
	}
	if (sided ? q.dir != XCHAN_DIR_IN && q.dir != XCHAN_DIR_OUT : q.dir != 0)
		return xc_bad(e, "malformed: direction %u", q.dir);
	if (!q.port || !q.peer_port)
		return xc_bad(e, "malformed: ports must be 1-65535");
	if (!peer_ok(q.peer, false))
		return xc_bad(e, "malformed: the peer must be a partition name or id (1-31 of A-Za-z0-9._-)");
	*out = q;
	return 0;
}

static size_t answer(struct xchan_resp *r, uint8_t op, uint8_t status, int err,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static size_t answer(struct xchan_resp *r, uint8_t op, uint8_t status, int err,
		     const char *fmt, ...)
{
	va_list ap;

	memset(r, 0, XCHAN_RESP_HEAD);
	r->version = XCHAN_REQ_VERSION;
	r->op = op;
	r->status = status;
	r->err = err < 0 ? -err : err;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return XCHAN_RESP_HEAD;
}

size_t xc_req_reject(struct xchan_resp *r, uint8_t op, uint8_t status, int err,
		     const char *msg)
{
	return answer(r, op, status, err, "%s", msg);
}

/* What one request is about, resolved: my side and the peer's, the channel's
 * receiver (IN) and sender (OUT) ends, and names for messages. */
struct job {
	struct xc_ep mine, peer;
	uint8_t dir;			/* my side */
	struct xc_ep rx, tx;		/* receiver, sender */
	char me_name[XCHAN_NAME_LEN], peer_name[XCHAN_NAME_LEN];
	char what[120];
};

static bool entry(struct xc *x, const struct xc_ep *local, const struct xc_ep *remote,
		  uint8_t dir, uint32_t *ctl)
{
	struct xchan_chan_id id;
	uint32_t tmp;

	xchan_chan_id_make(&id, local->part, local->port, remote->part, remote->port, dir);
	return !chan_ctl_read(x, &id, ctl ? ctl : &tmp);
}

static bool established(struct xc *x, const struct job *j)
{
	uint32_t ctl;

	return entry(x, &j->rx, &j->tx, XCHAN_DIR_IN, &ctl) &&
	       XCHAN_CTL_STATE(ctl) == XCHAN_S_ESTABLISHED;
}

static int job_make(struct xc *x, uint32_t me, const struct xchan_req *q, struct job *j,
		    struct xchan_resp *r, size_t *len)
{
	struct xchan_part_meta pm = {}, mm = {};
	uint32_t peer;

	memset(j, 0, sizeof(*j));
	j->dir = q->op == XQ_OFFER ? XCHAN_DIR_IN : q->op == XQ_ASK ? XCHAN_DIR_OUT : q->dir;
	if (xc_part_find(x, q->peer, &peer, &pm)) {
		*len = answer(r, q->op, XS_REFUSED, ENOENT, "no partition '%s' here", q->peer);
		return -1;
	}
	if (bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &me, &mm) || mm.node_id) {
		*len = answer(r, q->op, XS_REFUSED, ENOENT, "partition %u is not a partition of this node", me);
		return -1;
	}
	snprintf(j->me_name, sizeof(j->me_name), "%s", mm.name);
	snprintf(j->peer_name, sizeof(j->peer_name), "%s", pm.name);
	j->mine = (struct xc_ep){ me, q->port };
	j->peer = (struct xc_ep){ peer, q->peer_port };
	j->rx = j->dir == XCHAN_DIR_IN ? j->mine : j->peer;
	j->tx = j->dir == XCHAN_DIR_IN ? j->peer : j->mine;
	snprintf(j->what, sizeof(j->what), "%s:%u %s %s:%u", mm.name[0] ? mm.name : "me", q->port,
		 j->dir == XCHAN_DIR_IN ? "<-" : "->", q->peer, q->peer_port);
	if (peer == me) {
		*len = answer(r, q->op, XS_REFUSED, EINVAL, "%s: a channel joins two partitions", j->what);
		return -1;
	}
	if (pm.node_id) {	/* its side would be authorized by its own node's agent */
		*len = answer(r, q->op, XS_REFUSED, EOPNOTSUPP,
			      "%s: '%s' is on node %u; requests reach partitions of this node only so far",
			      j->what, q->peer, pm.node_id);
		return -1;
	}
	return 0;
}

/* Brings the channel up if the other side has asked too; else my side waits. */
static size_t bring_up(struct xc *x, const struct job *j, uint8_t op, bool made,
		       struct xchan_resp *r)
{
	struct xc_err e = {};

	if (established(x, j))
		return answer(r, op, XS_OK, 0, "%s: established", j->what);
	if (!entry(x, &j->rx, &j->tx, XCHAN_DIR_IN, NULL) ||
	    !entry(x, &j->tx, &j->rx, XCHAN_DIR_OUT, NULL))
		return answer(r, op, XS_PENDING, 0, "%s: authorized, waiting for the %s", j->what,
			      j->dir == XCHAN_DIR_IN ? "sender" : "receiver");
	if (!xc_chan_connect(x, &j->rx, &j->tx, &e))
		return answer(r, op, XS_OK, 0, "%s: established", j->what);
	if (made)	/* nothing half-applied: this request's authorization goes again */
		xc_chan_withdraw(x, &j->mine, &j->peer, j->dir);
	return answer(r, op, XS_ERROR, e.msg[0] ? 0 : EIO, "%s: cannot connect: %s", j->what, e.msg);
}

struct pending {
	struct xc *x;
	uint32_t me;
	unsigned int n, max, sides, max_sides;
};

static int count_pending(const void *key, void *ctx)
{
	const struct xchan_chan_id *id = key;
	struct pending *p = ctx;
	uint32_t ctl;

	if (id->local_part != p->me || chan_ctl_read(p->x, id, &ctl))
		return 0;
	p->sides++;
	if (XCHAN_CTL_STATE(ctl) != XCHAN_S_ESTABLISHED)
		p->n++;
	/* no need to count further */
	return (p->max && p->n >= p->max) || (p->max_sides && p->sides >= p->max_sides);
}

/* Whether partition me already has max sides waiting (authorized, not established),
 * 1, or max_sides in all, 2: one partition must not fill the node's channel table,
 * with sides that wait nor with channels a partition it colludes with completes. */
static int too_many_sides(struct xc *x, uint32_t me, unsigned int max, unsigned int max_sides)
{
	struct pending p = { x, me, 0, max, 0, max_sides };

	if (!max && !max_sides)
		return 0;
	xc_map_each(XC_FD(x, M_CHANNELS), sizeof(struct xchan_chan_id), count_pending, &p);
	if (max && p.n >= max)
		return 1;
	return max_sides && p.sides >= max_sides ? 2 : 0;
}

static size_t do_side(struct xc *x, const struct xc_policy *p, unsigned int max_pending,
		      unsigned int max_sides, const struct xchan_req *q, const struct job *j,
		      struct xchan_resp *r)
{
	struct xc_pol_query pq = {
		.me = j->mine.part, .peer = j->peer.part, .me_name = j->me_name,
		.peer_name = j->peer_name, .dir = j->dir, .port = j->mine.port,
		.peer_port = j->peer.port,
	};
	struct xc_err e = {};
	unsigned int line = xc_policy_allows(p, &pq);
	bool made;
	int err, many;

	if (!line)
		return answer(r, q->op, XS_REFUSED, EACCES, "%s: not allowed by the policy (no rule lets '%s' %s)",
			      j->what, j->me_name[0] ? j->me_name : "this partition",
			      j->dir == XCHAN_DIR_IN ? "receive from it on these ports" : "send to it on these ports");
	made = !entry(x, &j->mine, &j->peer, j->dir, NULL);
	many = made ? too_many_sides(x, j->mine.part, max_pending, max_sides) : 0;
	if (many == 1)
		return answer(r, q->op, XS_REFUSED, ENOSPC, "%s: too many pending requests (%u sides of this partition wait)",
			      j->what, max_pending);
	if (many == 2)
		return answer(r, q->op, XS_REFUSED, ENOSPC, "%s: too many channels (this partition has %u sides)",
			      j->what, max_sides);
	if (made && (err = xc_chan_authorize(x, &j->mine, &j->peer, j->dir, &e)))
		return answer(r, q->op, XS_ERROR, err, "%s: %s", j->what, e.msg);
	return bring_up(x, j, q->op, made, r);
}

static size_t do_close(struct xc *x, const struct xchan_req *q, const struct job *j,
		       struct xchan_resp *r)
{
	struct xc_err e = {};
	bool unacked = false;

	if (!entry(x, &j->mine, &j->peer, j->dir, NULL))
		return answer(r, q->op, XS_REFUSED, ENOENT, "%s: no such channel of yours", j->what);
	if (!established(x, j)) {
		xc_chan_withdraw(x, &j->mine, &j->peer, j->dir);
		return answer(r, q->op, XS_OK, 0, "%s: withdrawn", j->what);
	}
	if (xc_chan_close(x, &j->tx, &j->rx, &unacked, &e))
		return answer(r, q->op, XS_ERROR, EIO, "%s: %s", j->what, e.msg);
	return answer(r, q->op, XS_OK, 0, "%s: closed", j->what);
}

static void list_one(struct xc *x, const struct xc_chan_info *ci, struct xchan_resp_chan *c)
{
	memset(c, 0, sizeof(*c));
	xc_part_name(x, ci->id.remote_part, c->peer, sizeof(c->peer));
	c->peer_id = ci->id.remote_part;
	c->port = ci->id.local_ep;
	c->peer_port = ci->id.remote_ep;
	c->dir = ci->id.dir;
	c->established = ci->ch.state == XCHAN_S_ESTABLISHED;
	c->packets = ci->c.packets;
	c->bytes = ci->c.bytes;
	c->drops = ci->c.drops;
}

static size_t do_list(struct xc *x, uint32_t me, struct xchan_resp *r)
{
	struct xc_chan_info *ci = NULL;
	struct xc_err e = {};
	size_t n = 0, len;

	if (xc_chan_list(x, &ci, &n, &e))
		return answer(r, XQ_LIST, XS_ERROR, EIO, "%s", e.msg);
	len = answer(r, XQ_LIST, XS_OK, 0, "ok");
	for (size_t i = 0; i < n; i++) {
		if (ci[i].id.local_part != me)
			continue;
		if (r->nchans == XCHAN_RESP_MAX_CHANS) {
			r->more = 1;
			break;
		}
		list_one(x, &ci[i], &r->chans[r->nchans++]);
	}
	free(ci);
	snprintf(r->msg, sizeof(r->msg), "%u channel%s%s", r->nchans, r->nchans == 1 ? "" : "s",
		 r->more ? " (and more)" : "");
	return len + r->nchans * sizeof(r->chans[0]);
}

size_t xc_req_serve(struct xc *x, const struct xc_policy *p, unsigned int max_pending,
		    unsigned int max_sides, uint32_t me,
		    const struct xchan_req *q, struct xchan_resp *r)
{
	struct job j;
	size_t len;

	if (q->op == XQ_LIST)
		return do_list(x, me, r);
	if (job_make(x, me, q, &j, r, &len))
		return len;
	switch (q->op) {
	case XQ_OFFER:
	case XQ_ASK:
		return do_side(x, p, max_pending, max_sides, q, &j, r);
	case XQ_CLOSE:
		return do_close(x, q, &j, r);
	default:	/* XQ_STATE */
		if (!entry(x, &j.mine, &j.peer, j.dir, NULL))
			return answer(r, q->op, XS_REFUSED, ENOENT, "%s: no such channel of yours", j.what);
		return established(x, &j) ? answer(r, q->op, XS_OK, 0, "%s: established", j.what) :
		       answer(r, q->op, XS_PENDING, 0, "%s: waiting for the other side", j.what);
	}
}

/* Whether the netns open as ns is the one our host veth m->ifindex peers into: seen
 * from here (the node's netns, where the partition's host veth lives), that veth must
 * exist, be a veth, name m->peer_ifindex as its peer, and put that peer in a netns whose
 * nsid is ns's. Links and indexes inside ns prove nothing: its owner can forge them. */
static bool veth_peers_into(const struct xchan_part_meta *m, int ns)
{
	struct nl_link *l = NULL;
	int n, nsid, ok = 0;

	n = nl_links(&l);	/* first: reporting the peer's netns gives it an nsid */
	nsid = nl_netnsid(ns);
	for (int i = 0; i < n && nsid >= 0; i++)
		ok |= l[i].ifindex == (int)m->ifindex && !strcmp(l[i].kind, "veth") &&
		      l[i].link == (int)m->peer_ifindex && l[i].has_link_netns &&
		      l[i].link_netnsid == nsid;
	free(l);
	return ok;
}

/* The netns of local partition id, opened and checked to be the one whose veth peer
 * is the partition's host-side interface here: a stale path (a /proc/PID whose
 * process is gone and whose pid is reused) must not get another partition's socket. */
int xc_part_netns_open(struct xc *x, uint32_t id, int *fd, struct xc_err *e)
{
	struct xchan_part_meta m;
	int ns;

	if (bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &id, &m) || m.node_id)
		return xc_fail(e, -ENOENT, "partition %u is not a partition of this node", id);
	m.netns[sizeof(m.netns) - 1] = '\0';
	if (!m.netns[0])
		return xc_fail(e, -ENOENT, "partition %u has no netns recorded", id);
	ns = open(m.netns, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return xc_fail(e, -errno, "partition %u: cannot open %s: %s", id, m.netns, strerror(errno));
	if (!veth_peers_into(&m, ns)) {
		close(ns);
		return xc_fail(e, -ESTALE, "partition %u: %s is not the netns its host veth (ifindex %u) peers into",
			       id, m.netns, m.ifindex);
	}
	*fd = ns;
	return 0;
}
