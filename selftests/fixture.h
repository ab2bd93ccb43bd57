/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* fixture.h: the CMM instance the packet-level tests and the fuzzer share: a
 * private netns whose veths stand for host-side interfaces, three partitions
 * (C isolated) and the channel B:5000 -> A:6000 established. */
#ifndef XCHAN_FIXTURE_H
#define XCHAN_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <arpa/inet.h>
#include "xc.h"
#include "pkt.h"

enum { P_A = 10, P_B = 20, P_C = 30 };
extern const uint8_t MAC_A[6], MAC_B[6], MAC_C[6], MAC_GW[6];
extern uint8_t KEY[16];
#define IP_A htonl(0x0a000001)
#define IP_B htonl(0x0a000002)
#define IP_C htonl(0x0a000003)
#define IP_EXT htonl(0xc0a80101)

extern struct xc fx;	/* the agent's library over a private (unpinned) instance */
extern int if_a, if_b, if_c, if_unreg, if_up;
extern struct xchan_chan_id OUT_BA, IN_AB;

/* Enters a private netns and makes the veths; everything goes with the process. */
int fixture_netns(void);
/* Loads the private instance into fx; 0 or -errno (the reason on stderr). */
int fixture_open(const struct cmm_sizes *sizes);
/* A, B, C registered and B:5000 -> A:6000 opened through the library; KEY is its key. */
void fixture_reset(void);
void clear_map(int fd);
void put_key(const struct xchan_chan_id *id, const uint8_t *key, uint32_t owner);
void put_entry(const struct xchan_chan_id *id, uint8_t valid, uint8_t cur, const uint8_t *k0,
	       uint8_t kid0, const uint8_t *k1, uint8_t kid1, uint32_t owner);
void drop_keys(const struct xchan_chan_id *id);
/* After a test wrote or removed a key of B -> A itself: the flow entry follows. */
void keys_changed(void);
/* Between nodes: this instance is node 1 (uplink if_up); partition R (id 40) lives on
 * node 2; channels R:5000 -> A:6000 (A receives here) and B:5000 -> R:6000. */
enum { P_R = 40 };
#define IP_R htonl(0x0a000028)
#define NODE1 htonl(0x0a630001)
#define NODE2 htonl(0x0a630002)
extern const uint8_t PAIR[32], MAC_N2[6];
void fixture_nic(void);
/* An encapsulated DATA frame R:5000 -> A:6000 with the given sequence number, tagged
 * in userspace (or wrongly, with bad_tag). */
size_t nic_frame(uint8_t *f, uint64_t seq, size_t payload, uint32_t outer_src, bool bad_tag);
/* The same under channel key `key` with id kid (nic_frame: KEY, id 0). */
/* Node 2's request for the channel B:5000 -> R:6000 (R receives, so node 2 asks),
 * under its node key node_kid (bytes k32), the channel key id in the reason byte
 * (key16: the channel key, wrapped; NULL for none); nonce ++node2_nonce. */
extern uint64_t node2_nonce;
size_t node2_req(uint8_t *f, uint8_t type, uint8_t node_kid, uint8_t chan_kid,
		 const uint8_t *key16, const uint8_t *k32);
size_t nic_frame_key(uint8_t *f, uint64_t seq, size_t payload, uint32_t outer_src, bool bad_tag,
		     const uint8_t *key, uint8_t kid);
/* The same frame of type XCHAN_T_DATA_NH: tagged with NH-Toeplitz under SipHash-2-4
 * with the NH key nk_ref derives from node key nkey (node key id nkid, in reason). */
size_t nic_frame_nh(uint8_t *f, uint64_t seq, size_t payload, bool bad_tag, const uint8_t *key,
		    uint8_t kid, const uint8_t nkey[XCHAN_PAIR_KEY_LEN], uint8_t nkid);
/* include/nh.h's tag (hdr: H', the header with auth zero) and the agent's NH key
 * derivation (DESIGN 4), written again from their definitions, for the tests and the
 * bench to check the CMM and the agent by. */
uint64_t nh_tag_ref(const uint8_t key[16], const uint64_t *k64, const uint8_t *hdr,
		    const uint8_t *p, size_t len);
void nh_key_ref(const uint8_t nkey[XCHAN_PAIR_KEY_LEN], uint64_t *k64);

/* A UDP frame from B to daddr:dport. */
struct pkt_spec udp_from_b(uint32_t daddr, uint16_t sport, uint16_t dport);

#endif
