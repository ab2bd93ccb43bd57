/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pkt.h: a packet builder for eth/ipv4/udp/xchan frames and ARP, lengths and
 * checksums filled in; overrides for the malformed frames tests need. */
#ifndef XCHAN_PKT_H
#define XCHAN_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "xchan.h"

#define PKT_MAX 2048

struct pkt_spec {
	uint8_t  src_mac[6], dst_mac[6];
	uint16_t eth_proto;		/* host order; 0 means IPv4 */
	uint32_t saddr, daddr;		/* network order */
	uint8_t  proto;			/* 0 means UDP */
	uint8_t  ttl;			/* 0 means 64; use ttl_zero for a real 0 */
	bool     ttl_zero;
	uint16_t frag_off;		/* host order, flags and offset as on the wire */
	uint8_t  ip_opt_len;		/* bytes of IPv4 options (multiple of 4) */
	uint16_t sport, dport;		/* host order */
	const struct xchan_hdr *xh;	/* if set, the xchan header leads the payload */
	const void *payload;
	size_t   payload_len;
	/* raw mode: lie in these fields (0: compute the truth) */
	uint16_t ip_tot_len, udp_len;
	uint8_t  ihl;
};

/* Returns the frame length, or 0 when it does not fit in cap. */
size_t pkt_build(uint8_t *buf, size_t cap, const struct pkt_spec *s);
size_t pkt_build_arp(uint8_t *buf, size_t cap, const uint8_t src_mac[6],
		     const uint8_t sha[6], uint32_t spa, uint32_t tpa);
uint16_t pkt_csum(const void *data, size_t len, uint32_t sum);

/* Offsets of the headers pkt_build() writes (no options). */
#define PKT_OFF_IP	14
#define PKT_OFF_UDP	34
#define PKT_OFF_XCHAN	42

#endif
