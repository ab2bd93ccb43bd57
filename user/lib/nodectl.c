// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* nodectl.c: CONNECT, REKEY and CLOSE to another node's CMM: the channel key wrapped
 * and the header signed with our node key towards it (tx of a slot;
 * include/xchan_auth.h, as the CMM does it), sent over UDP with retries, and only an
 * answer to our own nonce signed with the same slot's rx accepted. */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "xchan_auth.h"
#include "xc_int.h"

#define CTRL_TRIES	5
#define CTRL_WAIT_MS	200	/* the first wait; doubled at each try */

struct ctrl_msg {
	struct xchan_hdr h;
	struct xchan_ctrl_trailer t;
};
_Static_assert(sizeof(struct ctrl_msg) == 48, "header and tag back to back, as on the wire");

/* The instance's nonce counter (xchan_nonce[0]), mapped into this process: shared
 * by every agent process of this node and kept across their restarts. */
static uint64_t *nonce_map(struct xc *x, struct xc_err *e)
{
	void *p = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		       XC_FD(x, M_NONCE), 0);

	if (p == MAP_FAILED) {
		xc_fail(e, -errno, "cannot map the nonce counter: %s", strerror(errno));
		return NULL;
	}
	return p;
}

/* The next control nonce: a fetch-and-add, so it only grows, whatever the clock does
 * and however many agents run at once (the peer refuses anything not newer than what
 * it accepted, and a repeated nonce would repeat the key wrap's keystream). The first
 * use seeds it with the wall clock in ns: peers that accepted nonces of the older,
 * clock-based scheme then accept these too. */
static uint64_t next_nonce(uint64_t *ctr)
{
	uint64_t zero = 0;
	struct timespec ts;

	if (!__atomic_load_n(ctr, __ATOMIC_SEQ_CST)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		__atomic_compare_exchange_n(ctr, &zero, ts.tv_sec * 1000000000ULL + ts.tv_nsec,
					    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	return __atomic_add_fetch(ctr, 1, __ATOMIC_SEQ_CST);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A socket of its own on an ephemeral port of this node's address: the peer's CMM
 * answers to the port the request came from, so concurrent requests (several agent
 * processes) each get their own answer, and the outer source is the address the peer
 * knows this node by. */
static int ctrl_socket(struct xc *x, struct xc_err *e)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct xchan_config cfg = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char ab[INET_ADDRSTRLEN];

	xc_config_read(x, &cfg);
	me.sin_addr.s_addr = cfg.self_addr;
	if (fd < 0 || bind(fd, (void *)&me, sizeof(me))) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		return xc_fail(e, err, "cannot bind a UDP socket to this node's address %s: %s",
			       xc_ip_str(cfg.self_addr, ab), strerror(-err));
	}
	return fd;
}

/* The slots holding a key towards the node, newest (cur) first: attempt i uses
 * order[i % n], so a retry tries the older key when the peer has not installed the
 * newest yet. Returns n. */
static int key_order(const struct xchan_node *n, uint8_t order[2])
{
	uint8_t c = n->cur & 1;
	int k = 0;

	if (n->valid & (1U << c))
		order[k++] = c;
	if (n->valid & (1U << (c ^ 1)))
		order[k++] = c ^ 1;
	return k;
}

/* The request as it travels: key_id names our node key (slot s), the channel key id
 * moves to the reason byte, a CONNECT's or REKEY's key is wrapped, the header signed. */
static void ctrl_seal(struct ctrl_msg *m, const struct xchan_hdr *req,
		      const struct xchan_node *n, int s, uint64_t nonce)
{
	m->h = *req;
	m->h.seq = htobe64(nonce);
	m->h.reason = req->key_id;
	m->h.key_id = n->kid[s];
	if (req->type == XCHAN_T_CONNECT || req->type == XCHAN_T_REKEY)
		xchan_key_wrap(m->h.auth, n->slot[s].tx, nonce);
	xchan_put_le64(m->t.tag, xchan_hdr_mac(n->slot[s].tx, &m->h));
}

/* Whether h answers q: an answer type for q's type, the partitions and ports swapped.
 * A reflected request (same seq, a valid tag, but q itself) is no answer. */
static bool answers(const struct xchan_hdr *h, const struct xchan_hdr *q)
{
	bool type = q->type == XCHAN_T_CONNECT || q->type == XCHAN_T_REKEY ?
		    h->type == XCHAN_T_CONNECT_ACK || h->type == XCHAN_T_CONNECT_NACK :
		    q->type == XCHAN_T_CLOSE && h->type == XCHAN_T_CLOSE_ACK;

	return type && h->src_part == q->dst_part && h->dst_part == q->src_part &&
	       h->src_ep == q->dst_ep && h->dst_ep == q->src_ep && h->key_id == q->key_id;
}

/* Waits up to wait_ms for the node's answer to m, signed with the rx half of slot s. */
static int ctrl_await(int fd, const struct ctrl_msg *m, const struct xchan_node *n, int s,
		      long wait_ms, struct xchan_hdr *reply)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec t0;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((left = wait_ms - ms_since(&t0)) > 0 && poll(&pfd, 1, left) > 0) {
		struct ctrl_msg r;
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t got = recvfrom(fd, &r, sizeof(r), 0, (void *)&from, &fl);

		if (got < (ssize_t)sizeof(r) || from.sin_addr.s_addr != n->addr ||
		    from.sin_port != htons(XCHAN_UDP_PORT) || r.h.seq != m->h.seq ||
		    sip_le64(r.t.tag) != xchan_hdr_mac(n->slot[s].rx, &r.h) ||
		    !answers(&r.h, &m->h))
			continue;
		*reply = r.h;
		explicit_bzero(&r, sizeof(r));
		return 0;
	}
	return -ETIMEDOUT;
}

int xc_node_ctrl(struct xc *x, uint32_t node_id, const struct xchan_hdr *req,
		 struct xchan_hdr *reply, struct xc_err *e)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(XCHAN_UDP_PORT) };
	struct xchan_node n;
	struct ctrl_msg m = {};
	char ab[INET_ADDRSTRLEN];
	long wait_ms = CTRL_WAIT_MS;
	int fd, nkeys, err = -ETIMEDOUT;
	uint8_t order[2];
	uint64_t *ctr;

	if (bpf_map_lookup_elem(XC_FD(x, M_NODES), &node_id, &n))
		return xc_fail(e, -ENOENT, "node %u is not known here (xchan node add)", node_id);
	nkeys = key_order(&n, order);
	if (!nkeys) {
		explicit_bzero(&n, sizeof(n));
		return xc_fail(e, -ENOKEY, "node %u has no node key installed", node_id);
	}
	to.sin_addr.s_addr = n.addr;
	ctr = nonce_map(x, e);
	fd = ctr ? ctrl_socket(x, e) : -ENOMEM;
	if (fd < 0) {
		err = fd;
		goto out;
	}
	for (int i = 0; i < CTRL_TRIES && err; i++, wait_ms *= 2) {
		int s = order[i % nkeys];

		ctrl_seal(&m, req, &n, s, next_nonce(ctr));
		if (sendto(fd, &m, sizeof(m), 0, (void *)&to, sizeof(to)) != sizeof(m))
			continue;
		err = ctrl_await(fd, &m, &n, s, wait_ms, reply);
	}
	if (err)
		xc_fail(e, err, "no answer from node %u at %s after %d tries", node_id,
			xc_ip_str(n.addr, ab), CTRL_TRIES);
	else	/* the exchange just resolved the neighbour: keep DATA's next hop current */
		xc_node_refresh_one(x, node_id, n.addr, &(struct xc_err){ 0 });
	close(fd);
out:
	if (ctr)
		munmap(ctr, sysconf(_SC_PAGESIZE));
	explicit_bzero(&m, sizeof(m));
	explicit_bzero(&n, sizeof(n));
	return err;
}
