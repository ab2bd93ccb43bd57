// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libxchan.c: the client side of the request protocol: one request, one answer on a
 * SOCK_SEQPACKET connection to the partition's agent socket; waiting polls state. */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "libxchan.h"

#define ANSWER_WAIT_MS	5000	/* the agent answers at once; this is for a wedged one */
#define STATE_POLL_MS	50

struct xchan_client {
	int fd;
};

static int say(char *msg, size_t len, int err, const char *text)
{
	if (msg && len)
		snprintf(msg, len, "%s", text);
	return err;
}

/* The agent runs as root on the host, outside the container's pid namespace, where
 * SO_PEERCRED shows it as pid 0 (and, in a user namespace, as the overflow uid):
 * a socket of that name bound by a process of the partition itself, squatting it while
 * the agent was down, has a pid here. Without a pid namespace of its own (a bare
 * netns), the agent shows as uid 0 and only a squatter running as root passes. */
static bool agent_owns(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || len != sizeof(cr))
		return false;
	return cr.pid == 0 || cr.uid == 0;
}

int xchan_connect(struct xchan_client **out, const char *name, char *msg, size_t msglen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xchan_client *c;
	size_t n;

	if (!name)
		name = getenv("XCHAN_SOCKET");
	if (!name || !*name)
		name = XCHAN_REQ_SOCKET;
	n = strlen(name);
	if (n > sizeof(sa.sun_path) - 1)
		return say(msg, msglen, -EINVAL, "socket name too long");
	memcpy(sa.sun_path + 1, name, n);
	c = calloc(1, sizeof(*c));
	if (!c)
		return say(msg, msglen, -ENOMEM, "out of memory");
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + 1 + n)) {
		int err = -errno;

		if (msg && msglen)
			snprintf(msg, msglen, "cannot reach the agent at @%s: %s", name, strerror(-err));
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return err;
	}
	if (!agent_owns(c->fd)) {
		if (msg && msglen)
			snprintf(msg, msglen, "@%s is not the agent's: its owner is a process in here, not root", name);
		close(c->fd);
		free(c);
		return -EPERM;
	}
	*out = c;
	return 0;
}

void xchan_disconnect(struct xchan_client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

/* Sends len bytes, waits for the answer; 0 and *r, or -errno. */
static int transact(struct xchan_client *c, const void *req, size_t len, struct xchan_resp *r,
		    char *msg, size_t msglen)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	if (send(c->fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return say(msg, msglen, -errno, "cannot send to the agent");
	n = poll(&p, 1, ANSWER_WAIT_MS);
	if (n <= 0)
		return say(msg, msglen, n ? -errno : -ETIMEDOUT, "no answer from the agent");
	memset(r, 0, sizeof(*r));
	n = recv(c->fd, r, sizeof(*r), 0);
	if (n < (ssize_t)XCHAN_RESP_HEAD || r->version != XCHAN_REQ_VERSION ||
	    (size_t)n < XCHAN_RESP_HEAD + r->nchans * sizeof(r->chans[0]) || r->nchans > XCHAN_RESP_MAX_CHANS)
		return say(msg, msglen, n < 0 ? -errno : -EPROTO, "the agent's answer is malformed");
	r->msg[sizeof(r->msg) - 1] = '\0';
	for (unsigned int i = 0; i < r->nchans; i++)	/* strings from the socket end where we say */
		r->chans[i].peer[sizeof(r->chans[i].peer) - 1] = '\0';
	say(msg, msglen, 0, r->msg);
	return 0;
}

static int status_err(const struct xchan_resp *r)
{
	if (r->status == XS_OK)
		return 0;
	if (r->status == XS_PENDING)
		return 1;
	return r->err > 0 ? -r->err : -EACCES;
}

static int request(struct xchan_client *c, uint8_t op, uint8_t dir, uint16_t port,
		   const char *peer, uint16_t peer_port, struct xchan_resp *r, char *msg,
		   size_t msglen)
{
	struct xchan_req q = { .version = XCHAN_REQ_VERSION, .op = op, .dir = dir, .port = port,
			       .peer_port = peer_port };
	int err;

	if (peer && strlen(peer) >= sizeof(q.peer))
		return say(msg, msglen, -EINVAL, "peer name too long");
	if (peer)
		strncpy(q.peer, peer, sizeof(q.peer) - 1);
	err = transact(c, &q, sizeof(q), r, msg, msglen);
	return err ? err : status_err(r);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int side(struct xchan_client *c, uint8_t op, uint16_t port, const char *peer,
		uint16_t peer_port, int timeout_ms, char *msg, size_t msglen)
{
	uint8_t dir = op == XQ_OFFER ? XQ_DIR_IN : XQ_DIR_OUT;
	long long until = now_ms() + timeout_ms;
	struct xchan_resp r;
	int err;

	err = request(c, op, 0, port, peer, peer_port, &r, msg, msglen);
	while (err == 1 && timeout_ms != 0) {
		if (timeout_ms > 0 && now_ms() >= until)
			return say(msg, msglen, -ETIMEDOUT, "timed out waiting for the other side");
		usleep(STATE_POLL_MS * 1000);
		err = request(c, XQ_STATE, dir, port, peer, peer_port, &r, msg, msglen);
	}
	return err;
}

int xchan_offer(struct xchan_client *c, uint16_t port, const char *peer, uint16_t peer_port,
		int timeout_ms, char *msg, size_t msglen)
{
	return side(c, XQ_OFFER, port, peer, peer_port, timeout_ms, msg, msglen);
}

int xchan_ask(struct xchan_client *c, uint16_t port, const char *peer, uint16_t peer_port,
	      int timeout_ms, char *msg, size_t msglen)
{
	return side(c, XQ_ASK, port, peer, peer_port, timeout_ms, msg, msglen);
}

int xchan_close(struct xchan_client *c, uint8_t dir, uint16_t port, const char *peer,
		uint16_t peer_port, char *msg, size_t msglen)
{
	struct xchan_resp r;

	return request(c, XQ_CLOSE, dir, port, peer, peer_port, &r, msg, msglen);
}

int xchan_list(struct xchan_client *c, struct xchan_resp_chan *out, size_t max, size_t *n,
	       char *msg, size_t msglen)
{
	struct xchan_resp *r = malloc(sizeof(*r));
	int err;

	if (!r)
		return say(msg, msglen, -ENOMEM, "out of memory");
	err = request(c, XQ_LIST, 0, 0, NULL, 0, r, msg, msglen);
	*n = 0;
	for (size_t i = 0; !err && i < r->nchans && i < max; i++)
		out[(*n)++] = r->chans[i];
	free(r);
	return err;
}

int xchan_raw(struct xchan_client *c, const void *req, size_t len, char *msg, size_t msglen)
{
	struct xchan_resp r;
	int err = transact(c, req, len, &r, msg, msglen);

	return err ? err : r.status;
}
