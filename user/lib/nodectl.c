// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* nodectl.c: CONNECT and CLOSE to another node's CMM: the channel key wrapped and the
 * header signed with the node-pair key (include/xchan_auth.h, as the CMM does it),
 * sent over UDP with retries, and only a signed answer to our own nonce accepted. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
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

static uint64_t fresh_nonce(void)
{
	struct timespec ts;

	/* strictly increasing per node in practice; the peer refuses anything not newer */
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static int ctrl_socket(struct xc_err *e)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(XCHAN_UDP_PORT) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (void *)&me, sizeof(me))) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		return xc_fail(e, err, "cannot bind UDP port %u for CONNECT: %s", XCHAN_UDP_PORT,
			       strerror(-err));
	}
	return fd;
}

/* The request as it travels: a CONNECT's key wrapped, the header signed. */
static void ctrl_seal(struct ctrl_msg *m, const struct xchan_hdr *req,
		      const struct xchan_node *n, uint64_t nonce)
{
	m->h = *req;
	m->h.seq = htobe64(nonce);
	if (req->type == XCHAN_T_CONNECT)
		xchan_key_wrap(m->h.auth, n->pair_key, nonce);
	xchan_put_le64(m->t.tag, xchan_hdr_mac(n->pair_key, &m->h));
}

/* Waits up to wait_ms for the node's signed answer to m. */
static int ctrl_await(int fd, const struct ctrl_msg *m, const struct xchan_node *n,
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
		    r.h.seq != m->h.seq || sip_le64(r.t.tag) != xchan_hdr_mac(n->pair_key, &r.h))
			continue;
		*reply = r.h;
		return 0;
	}
	return -ETIMEDOUT;
}

int xc_node_ctrl(struct xc *x, uint32_t node_id, const struct xchan_hdr *req,
		 struct xchan_hdr *reply, struct xc_err *e)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(XCHAN_UDP_PORT) };
	struct xchan_node n;
	struct ctrl_msg m;
	char ab[INET_ADDRSTRLEN];
	long wait_ms = CTRL_WAIT_MS;
	int fd, err = -ETIMEDOUT;

	if (bpf_map_lookup_elem(XC_FD(x, M_NODES), &node_id, &n))
		return xc_fail(e, -ENOENT, "node %u is not known here (xchan node add)", node_id);
	to.sin_addr.s_addr = n.addr;
	fd = ctrl_socket(e);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	for (int i = 0; i < CTRL_TRIES && err; i++, wait_ms *= 2) {
		ctrl_seal(&m, req, &n, fresh_nonce());
		if (sendto(fd, &m, sizeof(m), 0, (void *)&to, sizeof(to)) != sizeof(m))
			continue;
		err = ctrl_await(fd, &m, &n, wait_ms, reply);
	}
	if (err)
		xc_fail(e, err, "no answer from node %u at %s after %d tries", node_id,
			xc_ip_str(n.addr, ab), CTRL_TRIES);
	close(fd);
out:
	explicit_bzero(&m, sizeof(m));
	explicit_bzero(&n, sizeof(n));
	return err;
}
