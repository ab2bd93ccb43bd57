/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* libxchan.h: libxchan, for processes inside a partition: ask this node's agent for
 * channels through the partition's request socket. Blocking, with timeouts; no
 * threads, no global state; every failure comes back as -errno and a sentence. */
#ifndef LIBXCHAN_H
#define LIBXCHAN_H

#include <stddef.h>
#include <stdint.h>
#include "xchan_req.h"

struct xchan_client;

/* Connects to the agent (socket: the abstract name, NULL for $XCHAN_SOCKET or
 * "xchan"). 0 and *out, or -errno (-ECONNREFUSED: no agent serves this partition). */
int xchan_connect(struct xchan_client **out, const char *socket, char *msg, size_t msglen);
void xchan_disconnect(struct xchan_client *c);

/* The receiver's side ("accept"): messages from peer:peer_port may arrive on my port.
 * The sender's side ("open"): from my port to peer:peer_port. Each waits up to
 * timeout_ms (-1: no limit) for the channel to be established, which needs both
 * sides to have asked: 0 established; with timeout_ms 0, 1 means my side is
 * authorized and waits for the other; -ETIMEDOUT when it did not come in time (my
 * side stays authorized until xchan_close); other -errno: refused or failed, msg
 * says why. */
int xchan_offer(struct xchan_client *c, uint16_t port, const char *peer, uint16_t peer_port,
		int timeout_ms, char *msg, size_t msglen);
int xchan_ask(struct xchan_client *c, uint16_t port, const char *peer, uint16_t peer_port,
	      int timeout_ms, char *msg, size_t msglen);
/* dir: XQ_DIR_IN (I receive) or XQ_DIR_OUT (I send). An established channel
 * is closed for both sides; a waiting side is withdrawn. */
int xchan_close(struct xchan_client *c, uint8_t dir, uint16_t port, const char *peer,
		uint16_t peer_port, char *msg, size_t msglen);
/* My channels, at most max (XCHAN_RESP_MAX_CHANS per answer); *n gets how many. */
int xchan_list(struct xchan_client *c, struct xchan_resp_chan *out, size_t max, size_t *n,
	       char *msg, size_t msglen);
/* One request exactly as given (len bytes), for tests of the agent: the status or
 * -errno, msg holds the answer's text. */
int xchan_raw(struct xchan_client *c, const void *req, size_t len, char *msg, size_t msglen);

#endif
