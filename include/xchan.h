/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xchan.h: everything the CMM (BPF) and the agent (userspace) share: wire header,
 * map keys and values, verdict reasons. One definition of each; both compilers see it.
 */
#ifndef XCHAN_H
#define XCHAN_H

#include <linux/types.h>
#include <linux/bpf.h>	/* struct bpf_spin_lock */

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define XCHAN_VERSION		1
#define XCHAN_UDP_PORT		7420	/* default outer/control UDP port */
#define XCHAN_KEY_LEN		16

/* Named numbers of the packet path, for the CMM, the agent and the tests alike. */
#define XCHAN_TRUSTED_IFINDEX	1	/* loopback: only BPF_PROG_RUN arrives "from" it */
#define XCHAN_DROP_SAMPLE_SHIFT	10	/* one drop event per 2^n drops of a reason, per CPU */
#define XCHAN_AF_INET		2	/* AF_INET, for bpf_fib_lookup (no libc in BPF) */
#define XCHAN_IP_FRAG_MASK	0x3fff	/* frag_off: MF flag and fragment offset (host order) */
#define XCHAN_IP_DF		0x4000	/* frag_off: don't fragment (host order) */
#define XCHAN_IP_TTL		64	/* TTL of what the CMM originates */
#define XCHAN_DHCP_SERVER_PORT	67
#define XCHAN_DHCP_CLIENT_PORT	68
#define XCHAN_ARP_HW_ETHER	1	/* ARPHRD_ETHER (<linux/if_arp.h> needs libc) */
#define XCHAN_FABRIC_MTU	1500	/* the MTU assumed between nodes */
#define XCHAN_ARP_REQUEST	1
#define XCHAN_ARP_REPLY		2
#define XCHAN_ARP_BODY_LEN	28	/* Ethernet/IPv4 ARP, after the Ethernet header */
#define XCHAN_ARP_FRAME_LEN	(14 + XCHAN_ARP_BODY_LEN)	/* Ethernet + the body, unpadded */
#define XCHAN_ARP_PAD_LEN	18	/* up to the 60-byte minimum frame */
#define XCHAN_ICMPV6		58	/* IPPROTO_ICMPV6 */
#define XCHAN_ND_RA		134	/* router advertisement */
#define XCHAN_ND_NS		135	/* neighbour solicitation */
#define XCHAN_ND_NA		136	/* neighbour advertisement; 137, redirect, never */
#define XCHAN_ND_MAX_LEN	(14 + 40 + 256)	/* Ethernet + IPv6 + an RA with a few options */
#define XCHAN_ND_HOP_LIMIT	255	/* ND from off-link arrives with less */

/* Wire message types (xchan_hdr.type). */
enum xchan_msg_type {
	XCHAN_T_DATA		= 1,
	XCHAN_T_CONNECT		= 2,
	XCHAN_T_CONNECT_ACK	= 3,
	XCHAN_T_CONNECT_NACK	= 4,
	XCHAN_T_CLOSE		= 5,
	XCHAN_T_CLOSE_ACK	= 6,
	XCHAN_T_REKEY		= 7,	/* receiver's agent -> sender's CMM: replace the OUT key */
	XCHAN_T_DATA_NH		= 8,	/* DATA whose tag is NH-Toeplitz under SipHash-2-4
					 * (include/nh.h); reason: the node key id whose NH
					 * key made it */
};

/* The xchan header, network byte order. CONNECT and REKEY carry the key in auth;
 * DATA carries a SipHash-2-4 tag in auth[0..7] (inter-node path). */
struct xchan_hdr {
	__u8	version;
	__u8	type;
	__u8	key_id;		/* DATA: the channel key that made the tag; CONNECT/REKEY on the
				 * trusted path: the key carried; between nodes, requests and
				 * answers: the node key that wraps and signs */
	__u8	reason;		/* NACK: enum xchan_reason; a request between nodes: the
				 * channel key id of CONNECT/REKEY (key_id names the node key) */
	__be32	src_part;
	__be32	dst_part;
	__be16	src_ep;
	__be16	dst_ep;
	__be64	seq;
	__u8	auth[16];
};
_Static_assert(sizeof(struct xchan_hdr) == 40, "xchan_hdr is 40 bytes on the wire");
_Static_assert(__builtin_offsetof(struct xchan_hdr, key_id) == 2, "key_id at offset 2");
_Static_assert(__builtin_offsetof(struct xchan_hdr, reason) == 3, "reason at offset 3");
_Static_assert(__builtin_offsetof(struct xchan_hdr, src_part) == 4, "src_part at offset 4");

enum xchan_dir {
	XCHAN_DIR_IN	= 1,	/* local receives from remote */
	XCHAN_DIR_OUT	= 2,	/* local sends to remote */
};

/* Channel id: key of xchan_channels, xchan_keys, xchan_chancount. Host order. */
struct xchan_chan_id {
	__u32	local_part;
	__u32	remote_part;
	__u16	local_ep;
	__u16	remote_ep;
	__u8	dir;		/* enum xchan_dir */
	__u8	pad[3];		/* always zero: part of the hash key */
};
_Static_assert(sizeof(struct xchan_chan_id) == 16, "chan id is a 16-byte hash key");

/* The one builder of channel ids, for the CMM and the agent: the entry of the
 * partition `local` for its endpoint with `remote`, in direction dir. */
static __always_inline void xchan_chan_id_make(struct xchan_chan_id *id, __u32 local_part,
					       __u16 local_ep, __u32 remote_part,
					       __u16 remote_ep, __u8 dir)
{
	id->local_part = local_part;
	id->remote_part = remote_part;
	id->local_ep = local_ep;
	id->remote_ep = remote_ep;
	id->dir = dir;
	id->pad[0] = id->pad[1] = id->pad[2] = 0;
}

enum xchan_chan_state {
	XCHAN_S_AUTHORIZED	= 1,	/* entry made by the agent, no key yet */
	XCHAN_S_ESTABLISHED	= 2,	/* key present */
};

enum xchan_owner {
	XCHAN_OWNER_LOCAL	= 1,	/* created by this node's agent (receiving side) */
	XCHAN_OWNER_REMOTE	= 2,	/* stored by the CMM from a CONNECT */
};

/* xchan_channels value: one entry per side of a channel (IN: the receiver's, OUT:
 * the sender's), its authorization and its keys together (40 bytes, preallocated).
 * Two key slots so that a rekey overlaps: the key with id k lives in slot k & 1, if
 * bit k & 1 of valid is set. OUT sends with slot cur; IN accepts each valid slot
 * whose id matches the message's, and cur is its newest. The keys count only in
 * state ESTABLISHED.
 *
 * ctl is the word the exclusion turns on (XCHAN_CTL_*): the state, who set the key,
 * a busy bit, a generation the CMM moves at each write, and the counter slot. The agent creates entries (AUTHORIZED, no key)
 * and removes them, and is the only writer of IN entries (whole values, under the
 * slot bitmap's flock: user/lib/flow.c). The CMM is the only writer of an OUT
 * entry's key once it exists, in place: CONNECT takes ctl from AUTHORIZED to
 * AUTHORIZED|BUSY by compare-and-swap, writes the key, then ESTABLISHED; REKEY and
 * CLOSE take BUSY the same way from ESTABLISHED. Whoever loses the swap has not
 * written anything: a key, once set, is replaced only by the receiver's REKEY
 * (bpf/control.h). */
struct xchan_channel {
	__u8	key[2][XCHAN_KEY_LEN];
	__u8	kid[2];		/* the id of the key in each slot */
	__u8	valid;		/* bit s: slot s holds a key */
	__u8	cur;		/* the slot in use (OUT) or newest (IN) */
	__u32	ctl;		/* XCHAN_CTL_* */
};
_Static_assert(sizeof(struct xchan_channel) == 40, "channel entry: keys, ids, valid, cur, ctl");
_Static_assert(__builtin_offsetof(struct xchan_channel, cur) ==
	       __builtin_offsetof(struct xchan_channel, valid) + 1 &&
	       __builtin_offsetof(struct xchan_channel, valid) % 2 == 0,
	       "valid and cur: one aligned 16-bit word (REKEY stores them at once)");
#define XCHAN_CTL_STATE(c)	((c) & 3U)		/* enum xchan_chan_state */
#define XCHAN_CTL_OWNER(c)	(((c) >> 2) & 3U)	/* enum xchan_owner of the key */
#define XCHAN_CTL_BUSY		(1U << 4)		/* the CMM is writing the key */
#define XCHAN_CTL_GEN(c)	(((c) >> 5) & 7U)	/* moved by each of the CMM's writes */
#define XCHAN_CTL_SLOT(c)	((c) >> 8)		/* xchan_counts slot, XCHAN_NO_SLOT */
#define XCHAN_CTL(state, owner, slot)	((__u32)(state) | (__u32)(owner) << 2 | (__u32)(slot) << 8)
#define XCHAN_NO_SLOT		0xffffffU	/* no counters: an OUT entry within the node */
#define XCHAN_KEY_SLOT(kid)	((kid) & 1)

/* The same-node fast path (bpf/flow.h): each CPU keeps, by a keyed hash of what a
 * sender's frame carries, the receiver and counter slot that the full path found for
 * it the last time it passed (keys found present and equal, constant time). A copy
 * counts only while the change sequence (word 1 of xchan_slotalloc) holds the value
 * read before the full path's lookups: whoever changes a key or removes a channel
 * entry moves it afterwards, the agent (user/lib/flow.c) and the CMM (REKEY, CLOSE).
 * The key of a copy: */
struct xchan_flow_key {
	__u32	src_part;	/* the sender, identified by its interface */
	__be32	daddr;		/* the receiver's address, as in the frame */
	__be16	sport;		/* as in the frame */
	__be16	dport;
};
_Static_assert(sizeof(struct xchan_flow_key) == 12, "flow key: no padding");

/* xchan_slotalloc: which slots of xchan_counts belong to an entry, one bit each.
 * Word 0: the word the last allocation took from, where the next one starts; word
 * 1: the change sequence (above: odd while the agent changes entries, moved by two
 * by the CMM); then the bits, taken by the agent under the pin's flock with the
 * entry that names the slot, cleared under it after the entry is removed. */
#define XCHAN_FLOWSLOT_BITS	2
#define XCHAN_FLOWSLOT_WORDS(n)	(XCHAN_FLOWSLOT_BITS + ((n) + 63) / 64)

#define XCHAN_PART_ISOLATED	(1U << 0)	/* drop traffic to non-partition addresses */

/* xchan_partition: host-side ifindex -> partition. */
struct xchan_partition {
	__u32	part_id;
	__be32	ip;
	__u8	mac[6];
	__u16	flags;		/* XCHAN_PART_* */
};

/* xchan_addrs: IPv4 (network order) -> where that partition lives. */
struct xchan_address {
	__u32	part_id;
	__u32	ifindex;	/* host-side veth of the partition (local node) */
	__u32	node_id;	/* 0: this node */
	__u8	mac[6];		/* the partition's own MAC, for redirect */
	__u16	flags;
};

#define XCHAN_NAME_LEN	32

/* xchan_partmeta: partition id -> what the agent needs to find it again (the
 * datapath never reads it; it keeps the agent stateless across restarts). */
struct xchan_part_meta {
	char	name[XCHAN_NAME_LEN];
	__u32	ifindex;	/* host-side veth */
	__u32	peer_ifindex;	/* the partition's own interface, in its netns */
	__u32	attach_mode;	/* 1 native, 2 generic (skb) */
	__u32	flags;
	char	netns[64];	/* path of its netns, as registered */
	__u32	node_id;	/* 0: this node */
	__u32	pad;
};

/* xchan_gwmac: a partition's host-side ifindex -> the host's MACs a channel message
 * from that partition may be addressed to in --forward pass mode. */
struct xchan_gwmac {
	__u8	veth[6];	/* the host-side veth's own */
	__u8	master[6];	/* its bridge's; zero when none */
};

/* xchan_macs key: a partition's MAC, padded; value: its partition id. */
struct xchan_mac_key {
	__u8	mac[6];
	__u16	pad;
};

struct xchan_counter {
	__u64	packets;
	__u64	bytes;
};

/* xchan_partstats key: a partition's verdicts by reason (per-CPU xchan_counter). The
 * sender's on the send side, the receiver's on the receive side; never pass_channel
 * (nor pass_rx_channel): the channel's own counters have those. */
struct xchan_partstat_key {
	__u32	part_id;
	__u32	reason;		/* enum xchan_reason */
};
#define XCHAN_PARTSTATS_PER_PART XR__MAX	/* xchan_partstats: every reason, per --max-partitions: no partition can fill it for another */

/* xchan_counts: a channel's counters, in the slot its entry names (every IN entry
 * has one, and every OUT entry towards another node, whose packets are also its
 * sequence numbers), one slot for every CPU (added to atomically: 32 bytes a channel
 * whatever the number of CPUs). key_ns: when the IN entry's newest key was made
 * (CLOCK_MONOTONIC), written by the agent through its mapping. */
struct xchan_chan_counter {
	__u64	packets;
	__u64	bytes;
	__u64	drops;
	__u64	key_ns;
};

/* Verdict reasons: index of xchan_stats, reason of events and NACKs.
 * Names in XCHAN_REASON_NAMES below, in the same order. */
#define XCHAN_REASONS(X)					\
	X(PASS_CHANNEL,		"pass_channel")			\
	X(PASS_EXTERNAL,	"pass_external")		\
	X(PASS_ARP,		"pass_arp")			\
	X(PASS_IPV6,		"pass_ipv6")			\
	X(CTRL_ACK,		"ctrl_connect_ack")		\
	X(CTRL_CLOSE,		"ctrl_close")			\
	X(DROP_MALFORMED_ETH,	"drop_malformed_eth")		\
	X(DROP_MALFORMED_IP,	"drop_malformed_ip")		\
	X(DROP_IP_OPTIONS,	"drop_ip_options")		\
	X(DROP_FRAGMENT,	"drop_fragment")		\
	X(DROP_TTL,		"drop_ttl_zero")		\
	X(DROP_MALFORMED_UDP,	"drop_malformed_udp")		\
	X(DROP_MALFORMED_ARP,	"drop_malformed_arp")		\
	X(DROP_UNKNOWN_IFACE,	"drop_unknown_iface")		\
	X(DROP_SPOOF_IP,	"drop_spoof_src_ip")		\
	X(DROP_SPOOF_MAC,	"drop_spoof_src_mac")		\
	X(DROP_SPOOF_ARP,	"drop_spoof_arp")		\
	X(DROP_ISOLATED,	"drop_isolated")		\
	X(DROP_IPV6,		"drop_ipv6")			\
	X(DROP_NOT_UDP,		"drop_not_udp")			\
	X(DROP_BCAST,		"drop_broadcast")		\
	X(DROP_NO_OUT,		"drop_no_out_channel")		\
	X(DROP_NO_IN,		"drop_no_in_channel")		\
	X(DROP_KEY_MISMATCH,	"drop_key_mismatch")		\
	X(DROP_CTRL_UNTRUSTED,	"drop_ctrl_untrusted")		\
	X(DROP_CTRL_MALFORMED,	"drop_ctrl_malformed")		\
	X(DROP_OTHER_L3,	"drop_other_l3")		\
	X(DROP_TO_PART_MAC,	"drop_to_partition_mac")	\
	X(NACK_NO_OUT,		"nack_no_out_entry")		\
	X(NACK_EXISTS,		"nack_key_exists")		\
	X(NACK_INTERNAL,	"nack_internal")		\
	X(PASS_ENCAP,		"pass_encap_to_node")		\
	X(PASS_DECAP,		"pass_decap_from_node")		\
	X(PASS_UPLINK,		"pass_uplink_other")		\
	X(DROP_NO_ROUTE,	"drop_no_route_to_node")	\
	X(DROP_TOO_BIG,		"drop_too_big_to_encap")	\
	X(DROP_BAD_TAG,		"drop_bad_tag")			\
	X(DROP_REPLAY,		"drop_replay")			\
	X(DROP_TOO_OLD,		"drop_seq_too_old")		\
	X(DROP_BAD_ORIGIN,	"drop_bad_origin_node")		\
	X(DROP_MALFORMED_INNER,	"drop_malformed_inner")		\
	X(DROP_CTRL_BAD_AUTH,	"drop_ctrl_bad_auth")		\
	X(CTRL_REPLY,		"ctrl_reply_to_agent")		\
	X(EVENT_LOST,		"event_lost")			\
	X(DROP_NO_NEIGH,	"drop_no_neighbour")		\
	X(PASS_RX_CHANNEL,	"pass_rx_channel")		\
	X(PASS_RX_EXTERNAL,	"pass_rx_external")		\
	X(PASS_RX_ARP,		"pass_rx_arp")			\
	X(PASS_RX_ND,		"pass_rx_nd")			\
	X(DROP_RX_MALFORMED,	"drop_rx_malformed")		\
	X(DROP_RX_ISOLATED,	"drop_rx_isolated")		\
	X(DROP_RX_BCAST,	"drop_rx_broadcast")		\
	X(DROP_RX_NOT_CHANNEL,	"drop_rx_not_channel")		\
	X(DROP_RX_NO_CHANNEL,	"drop_rx_no_channel")		\
	X(DROP_RX_KEY_MISMATCH,	"drop_rx_key_mismatch")		\
	X(DROP_RX_NAT,		"drop_rx_nat")			\
	X(DROP_RX_IPV6,		"drop_rx_ipv6")			\
	X(DROP_RX_ARP,		"drop_rx_arp")			\
	X(DROP_RX_OTHER_L3,	"drop_rx_other_l3")		\
	X(EVENT_SUPPRESSED,	"event_suppressed")		\
	X(DROP_RX_FRAGMENT,	"drop_rx_fragment")		\
	X(DROP_CHANNEL_DMAC,	"drop_channel_dest_mac")		\
	X(DROP_KEY_RETIRED,	"drop_key_retired")		\
	X(NACK_NO_KEY,		"nack_no_key")			\
	X(NACK_BAD_KEY_ID,	"nack_bad_key_id")		\
	X(DROP_NH_NO_KEY,	"drop_nh_key_not_held")		\
	X(DROP_IP_TUNNEL,	"drop_ip_tunnel")

#define XCHAN_R_ENUM(n, s) XR_##n,
enum xchan_reason {
	XCHAN_REASONS(XCHAN_R_ENUM)
	XR__MAX
};
#undef XCHAN_R_ENUM
/* NACKs carry the reason in one byte on the wire. */
_Static_assert(XR__MAX <= 256, "reasons fit xchan_hdr.reason");

#define XCHAN_R_NAME(n, s) s,
#define XCHAN_REASON_NAMES { XCHAN_REASONS(XCHAN_R_NAME) }

/* Audit events (xchan_events ring buffer). Never key bytes. */
enum xchan_event_kind {
	XCHAN_E_DROP		= 1,	/* sampled drop */
	XCHAN_E_SPOOF		= 2,	/* source IP/MAC/ARP of someone else */
	XCHAN_E_CONNECT_REFUSED	= 3,	/* CONNECT without OUT entry */
	XCHAN_E_EXCLUSION	= 4,	/* CONNECT for a key already set */
	XCHAN_E_CTRL_UNTRUSTED	= 5,	/* control message from a partition */
	XCHAN_E_ESTABLISHED	= 6,
	XCHAN_E_CLOSED		= 7,
	XCHAN_E_BAD_ORIGIN	= 8,	/* traffic or CONNECT claiming a partition another node hosts */
	XCHAN_E_BAD_AUTH	= 9,	/* inter-node control that fails authentication */
	XCHAN_E_REPLAY		= 10,	/* sampled: replayed or stale DATA */
	XCHAN_E_RX_REFUSED	= 11,	/* the receive side refused what a partition sent */
	XCHAN_E_REKEYED		= 12,	/* CMM replaced an OUT key on the receiver's REKEY */
};

/* Who an event is charged to: each source has its own budget of events, so that
 * one partition's flood cannot crowd out another's (xchan_evlimit, xchan_evpeer). */
enum xchan_src_kind {
	XCHAN_SRC_HOST		= 1,	/* the trusted path, an unknown interface */
	XCHAN_SRC_PART		= 2,	/* sent by (or originated in) partition id */
	XCHAN_SRC_TO_PART	= 3,	/* from outside, refused on its way into partition id */
	XCHAN_SRC_PEER		= 4,	/* on the uplink, from IPv4 address id */
	XCHAN_SRC_IFACE		= 5,	/* receive side: claims a partition's MAC or address,
					 * entered the host on interface id (0: the host's) */
};

#define XCHAN_EVENT_BURST	64		/* events a quiet source may emit at once */
#define XCHAN_EVENT_NS_PER_TOKEN 10000000ULL	/* then one per 10 ms: 100/s per source */

struct xchan_src_key {
	__u32	id;		/* partition id, or IPv4 (network order) for a peer */
	__u32	kind;		/* enum xchan_src_kind */
};

/* A source's event budget (token bucket) and what it cost it. Updated without a
 * lock: concurrent CPUs may let a token or two more through, never fewer. */
struct xchan_evlimit {
	__u64	last_ns;	/* when the bucket was last refilled */
	__u64	tokens;
	__u64	emitted;
	__u64	suppressed;	/* over the source's lifetime */
	__u64	pending;	/* suppressed since its last emitted event */
	__u64	lost;		/* emitted into a full ring */
};

/* xchan_config[0]: this node. */
struct xchan_config {
	__u32	self_node;
	__be32	self_addr;
	__u32	uplink_ifindex;	/* 0: no uplink attached */
	__u32	flags;
};

#define XCHAN_PAIR_KEY_LEN	32	/* a directional node key (and a key file's pair key) */
#define XCHAN_PAIR_ENC_OFF	0	/* first half: wraps channel keys */
#define XCHAN_PAIR_AUTH_OFF	16	/* second half: signs control headers */

/* One node key, both directions: rx is what that node sends us (its requests' wrap
 * and signature, its answers to our agent), tx what we send it (our agent's requests,
 * our CMM's answers). Our tx for node B is B's rx for us. A key file gives rx = tx. */
struct xchan_node_slot {
	__u8	rx[XCHAN_PAIR_KEY_LEN];
	__u8	tx[XCHAN_PAIR_KEY_LEN];
};

/* xchan_nodes: node id -> its address and up to two node keys (slots, so that a
 * rotation overlaps: a message names its key by id, xchan_hdr.key_id). */
/* xchan_node.flags */
#define XCHAN_NODE_F_NH		(1U << 0)	/* DATA to this node goes with NH tags
						 * (XCHAN_T_DATA_NH): it verifies them */

struct xchan_node {
	__be32	addr;
	__u32	flags;
	__u64	rsvd;		/* was last_nonce: now xchan_peernonce, which outlives the entry */
	__u8	kid[2];		/* the id of the key in each slot */
	__u8	valid;		/* bit s: slot s holds a key */
	__u8	cur;		/* the newest slot: what our agent tries first */
	__u32	pad;
	__u64	installed_ns[2];	/* CLOCK_MONOTONIC when each slot was written */
	struct xchan_node_slot slot[2];
};
_Static_assert(sizeof(struct xchan_node) == 168, "xchan_nodes value");

/* xchan_nexthop: node id -> how to reach it, resolved by the agent (route and
 * neighbour over netlink) so that the CMM needs no FIB lookup per packet: that lookup
 * depends on IPv4 forwarding, and the encapsulated packet is the node's own. */
struct xchan_nexthop {
	__be32	addr;		/* the node's address: the outer destination */
	__u32	ifindex;	/* where the route to it leaves */
	__u8	smac[6];	/* that interface's MAC */
	__u8	dmac[6];	/* the next hop's MAC (the node's, or its gateway's) */
};

/* xchan_nonce[0]: the last control nonce this node used. The agent maps the array
 * and takes the next one with an atomic add: it only grows, whatever the clock does
 * and however many agent processes run. */
struct xchan_nonce {
	__u64	last;
};

/* xchan_peernonce: node id -> the highest control nonce accepted from that node. Apart
 * from xchan_nodes so that replacing or removing a node entry never lowers it: made
 * by the agent (BPF_NOEXIST) when a node is added or a key installed, seeded from the
 * wall clock minus XCHAN_NONCE_SKEW_NS, then only raised by the CMM (compare-and-swap). */
struct xchan_peernonce {
	__u64	last;
};
/* How far behind this node's wall clock a new peer's first nonce may be: its
 * counter follows its own wall clock (nodectl.c), and clocks differ a little. */
#define XCHAN_NONCE_SKEW_NS	(60ULL * 1000000000ULL)

/* Inter-node control messages carry this after the xchan header. */
struct xchan_ctrl_trailer {
	__u8	tag[8];		/* SipHash-2-4 (second half of a node key) over the header */
};

/* Outer headers the NIC path adds: IPv4 20 + UDP 8 + xchan 40. */
#define XCHAN_ENCAP_LEN		(20 + 8 + (int)sizeof(struct xchan_hdr))
#define XCHAN_MAX_INNER		(XCHAN_FABRIC_MTU - XCHAN_ENCAP_LEN)	/* 1432 */
_Static_assert(XCHAN_MAX_INNER == 1432, "inner packets of at most 1432 bytes between nodes");
#define XCHAN_REPLAY_WORDS	32	/* 2048 bits, at least 1984 usable */

/* xchan_replay: IN channel id -> the receiver's sliding window, and the channel's
 * packets and bytes accepted through it: counted under the window's lock, which
 * every frame takes anyway, instead of in the counter slot, so that a channel driven
 * from several CPUs moves one cache line between them, not two (bench 7c). */
struct xchan_replay {
	struct bpf_spin_lock lock;
	__u32	pad;
	__u64	top;		/* highest sequence number accepted */
	__u64	packets;	/* accepted (kept when a new key resets the window) */
	__u64	bytes;		/* their inner bytes */
	__u64	bits[XCHAN_REPLAY_WORDS];
};

struct xchan_event {
	__u64	ts_ns;
	__u32	kind;		/* enum xchan_event_kind */
	__u32	reason;		/* enum xchan_reason */
	__u32	ifindex;
	__be32	saddr;
	__be32	daddr;
	__u8	msg_type;	/* xchan_hdr.type where relevant */
	__u8	pad[3];
	struct xchan_chan_id id;
	struct xchan_src_key src;	/* whose budget the event came from */
	__u32	suppressed;	/* events of that source suppressed just before this one */
	__u32	pad2;
};

/* Map names as bpftool shows them (<= 15 chars). */
#define XCHAN_PROG_PIN		"xchan_cmm"
#define XCHAN_RX_PROG_PIN	"xchan_rx"	/* the receive side (TC egress) */
#define XCHAN_RX_LINK_PIN	"xchan_rx_"	/* + partition id: its TCX link */

#endif /* XCHAN_H */
