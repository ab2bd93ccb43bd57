/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xchan_req.h: the request protocol between a process in a partition and the agent:
 * one fixed-size request per SOCK_SEQPACKET message on an abstract Unix socket in the
 * partition's netns, one fixed-size answer back. Shared by the agent and libxchan. */
#ifndef XCHAN_REQ_H
#define XCHAN_REQ_H

#include <stddef.h>
#include <linux/types.h>

#define XCHAN_REQ_VERSION	1
/* The abstract socket's name (without the leading NUL): one per netns, so the same
 * name in every partition; which socket a request arrives on names the partition. */
#define XCHAN_REQ_SOCKET	"xchan"
#define XCHAN_REQ_PEER_LEN	32	/* a partition name (31 + NUL) or a decimal id */
#define XCHAN_RESP_MSG_LEN	160
#define XCHAN_RESP_MAX_CHANS	32	/* a list answer holds at most this many */

enum xchan_req_op {
	XQ_OFFER = 1,	/* receiver: accept from peer:peer_port on my port */
	XQ_ASK = 2,	/* sender: from my port to peer:peer_port */
	XQ_CLOSE = 3,	/* my side (dir) of port <-> peer:peer_port */
	XQ_LIST = 4,	/* my channels */
	XQ_STATE = 5,	/* is my side (dir) of port <-> peer:peer_port established? */
	XQ__MAX
};

/* The side of a channel a request is about; the values of XCHAN_DIR_* in xchan.h. */
enum xchan_req_dir {
	XQ_DIR_IN = 1,		/* I receive */
	XQ_DIR_OUT = 2,		/* I send */
};

/* Every request is exactly this long; anything else is refused as malformed. */
struct xchan_req {
	__u8	version;
	__u8	op;		/* enum xchan_req_op */
	__u8	dir;		/* XQ_CLOSE, XQ_STATE: XQ_DIR_IN or XQ_DIR_OUT; else 0 */
	__u8	pad;		/* 0 */
	__u16	port;		/* mine, host order; 0 only for XQ_LIST */
	__u16	peer_port;	/* host order */
	char	peer[XCHAN_REQ_PEER_LEN];	/* NUL-terminated, NUL-padded */
};
_Static_assert(sizeof(struct xchan_req) == 40, "xchan_req is part of the protocol");

enum xchan_resp_status {
	XS_OK = 0,		/* done; for offer/ask/state: the channel is established */
	XS_PENDING = 1,		/* my side is authorized, the other side has not asked yet */
	XS_REFUSED = 2,		/* the policy or the state of things says no: msg says why */
	XS_MALFORMED = 3,	/* the request itself is wrong */
	XS_ERROR = 4,		/* the agent failed: err and msg */
	XS_BUSY = 5,		/* too many connections from this partition */
};

struct xchan_resp_chan {
	char	peer[XCHAN_REQ_PEER_LEN];	/* the peer's name, or its id in decimal */
	__u32	peer_id;
	__u16	port, peer_port;
	__u8	dir;		/* XQ_DIR_IN: I receive; XQ_DIR_OUT: I send */
	__u8	established;
	__u16	pad;
	__u64	packets, bytes, drops;	/* my IN side only */
};

struct xchan_resp {
	__u8	version;
	__u8	op;		/* the request's */
	__u8	status;		/* enum xchan_resp_status */
	__u8	nchans;		/* XQ_LIST: entries used in chans[] */
	__s32	err;		/* a positive errno when not XS_OK/XS_PENDING */
	__u8	more;		/* XQ_LIST: there were more than XCHAN_RESP_MAX_CHANS */
	__u8	pad[7];
	char	msg[XCHAN_RESP_MSG_LEN];	/* for people, NUL-terminated */
	struct xchan_resp_chan chans[XCHAN_RESP_MAX_CHANS];
};
/* The answer's fixed head: every answer is at least this long, a list answer adds
 * nchans entries. */
#define XCHAN_RESP_HEAD	offsetof(struct xchan_resp, chans)

#endif
