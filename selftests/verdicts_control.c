// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_control.c: the trusted path (BPF_PROG_RUN with ingress on loopback):
 * CONNECT establishes or is refused with a reason, CLOSE removes the sender's key,
 * control messages from a partition and malformed ones are dropped, and no answer
 * carries a key. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "verdicts.h"

static void check_reply(const struct run *r, uint8_t type, uint16_t reason,
			uint32_t from_part, uint16_t from_ep)
{
	const struct xchan_hdr *xh = (const void *)(r->out + PKT_OFF_XCHAN);
	static const uint8_t zero[16];

	if (!ASSERT_TRUE(r->out_len >= PKT_OFF_XCHAN + sizeof(*xh), "reply length"))
		return;
	ASSERT_EQ(xh->type, type, "reply type");
	ASSERT_EQ(xh->reason, reason, "reply reason");
	ASSERT_EQ(ntohl(xh->src_part), from_part, "reply src_part");
	ASSERT_EQ(ntohs(xh->src_ep), from_ep, "reply src_ep");
	ASSERT_TRUE(!memcmp(xh->auth, zero, 16), "reply carries no key");
}

/* A (receiver) has its IN key; B authorized OUT but holds no key yet. */
static void connect_establishes(void)
{
	struct pkt_spec s = udp_from_b(IP_A, 5000, 6000);
	uint8_t pkt[PKT_MAX];
	struct xchan_channel ch;
	struct run r;
	size_t len;

	tap_begin();
	reset();
	del_out_key();
	len = ctrl_frame(pkt, XCHAN_T_CONNECT, P_A, 6000, P_B, 5000, KEY, MAC_GW);
	r = expect(pkt, len, 1, XDP_TX, XR_CTRL_ACK);
	check_reply(&r, XCHAN_T_CONNECT_ACK, 0, P_B, 5000);
	ASSERT_TRUE(key_is(&OUT_BA, KEY, XCHAN_OWNER_REMOTE), "key stored as remote");
	ASSERT_TRUE(!bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &OUT_BA, &ch) &&
		    XCHAN_CTL_STATE(ch.ctl) == XCHAN_S_ESTABLISHED, "OUT entry established");
	ASSERT_TRUE(has_event(XCHAN_E_ESTABLISHED, XR_CTRL_ACK), "established event");
	len = pkt_build(pkt, sizeof(pkt), &s);
	expect(pkt, len, if_b, XDP_REDIRECT, XR_PASS_CHANNEL);
	tap_end("CONNECT on the trusted path establishes the channel");
}

static void connect_refused(void)
{
	uint8_t pkt[PKT_MAX], key2[16];
	struct xchan_chan_id id;
	struct run r;
	size_t len;

	memcpy(key2, KEY, 16);
	key2[0] ^= 0xff;

	tap_begin();
	reset();
	len = ctrl_frame(pkt, XCHAN_T_CONNECT, P_A, 6001, P_B, 5001, KEY, MAC_GW);
	r = expect(pkt, len, 1, XDP_TX, XR_NACK_NO_OUT);
	check_reply(&r, XCHAN_T_CONNECT_NACK, XR_NACK_NO_OUT, P_B, 5001);
	xchan_chan_id_make(&id, P_B, 5001, P_A, 6001, XCHAN_DIR_OUT);
	ASSERT_TRUE(key_absent(&id), "no key stored");
	ASSERT_TRUE(has_event(XCHAN_E_CONNECT_REFUSED, XR_NACK_NO_OUT), "refusal audited");
	tap_end("CONNECT without OUT authorization is NACKed");

	tap_begin();
	reset();
	len = ctrl_frame(pkt, XCHAN_T_CONNECT, P_A, 6000, P_B, 5000, key2, MAC_GW);
	r = expect(pkt, len, 1, XDP_TX, XR_NACK_EXISTS);
	check_reply(&r, XCHAN_T_CONNECT_NACK, XR_NACK_EXISTS, P_B, 5000);
	ASSERT_TRUE(key_is(&OUT_BA, KEY, XCHAN_OWNER_REMOTE), "stored key unchanged");
	ASSERT_TRUE(has_event(XCHAN_E_EXCLUSION, XR_NACK_EXISTS), "exclusion audited");
	tap_end("second CONNECT for a set key is refused and audited");

	tap_begin();
	len = ctrl_frame(pkt, XCHAN_T_CONNECT, P_A, 6000, P_B, 5000, KEY, MAC_GW);
	r = expect(pkt, len, 1, XDP_TX, XR_CTRL_ACK);
	check_reply(&r, XCHAN_T_CONNECT_ACK, 0, P_B, 5000);
	ASSERT_TRUE(key_is(&OUT_BA, KEY, XCHAN_OWNER_REMOTE), "stored key unchanged");
	tap_end("the same CONNECT again (its ACK lost) is ACKed as the first was");

	tap_begin();
	{
		struct xchan_channel mine = { .ctl = XCHAN_CTL(XCHAN_S_ESTABLISHED, XCHAN_OWNER_LOCAL, XCHAN_NO_SLOT) };
		int err;

		memcpy(mine.key[0], key2, 16);
		mine.valid = 1;
		err = bpf_map_update_elem(fx.cmm.map_fd[M_CHANNELS], &OUT_BA, &mine, BPF_NOEXIST);
		ASSERT_EQ(err ? errno : 0, EEXIST, "agent insert errno");
		ASSERT_TRUE(key_is(&OUT_BA, KEY, XCHAN_OWNER_REMOTE), "stored key unchanged");
	}
	tap_end("agent-side insert over a key set by CONNECT gets EEXIST");
}

static void close_removes_key(void)
{
	struct xchan_hdr req = {
		.version = XCHAN_VERSION, .type = XCHAN_T_CLOSE,
		.src_part = htonl(P_A), .dst_part = htonl(P_B),
		.src_ep = htons(6000), .dst_ep = htons(5000),
	}, reply;
	struct xchan_channel ch;

	tap_begin();
	reset();
	ASSERT_EQ(cmm_ctrl(&fx.cmm, &req, &reply), 0, "cmm_ctrl");
	ASSERT_EQ(reply.type, XCHAN_T_CLOSE_ACK, "reply type");
	ASSERT_TRUE(key_absent(&OUT_BA), "OUT key removed");
	ASSERT_TRUE(!bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &OUT_BA, &ch) &&
		    XCHAN_CTL_STATE(ch.ctl) == XCHAN_S_AUTHORIZED && !ch.valid,
		    "OUT entry back to authorized, no key valid");
	tap_end("CLOSE through the agent's trusted path removes the sender's key");
}

/* Control messages of any type from a partition's interface. */
static void control_from_partition(void)
{
	uint8_t pkt[PKT_MAX], key2[16];
	size_t len;

	memcpy(key2, KEY, 16);
	key2[0] ^= 0xff;
	for (uint8_t t = XCHAN_T_DATA; t <= XCHAN_T_CLOSE_ACK; t++) {
		char name[96];

		tap_begin();
		reset();
		del_out_key();
		len = ctrl_frame(pkt, t, P_A, 6000, P_B, 5000, key2, MAC_B);
		memcpy(pkt + PKT_OFF_IP + 12, &(uint32_t){ IP_B }, 4);
		/* recompute the IP checksum for the new source */
		pkt[PKT_OFF_IP + 10] = pkt[PKT_OFF_IP + 11] = 0;
		memcpy(pkt + PKT_OFF_IP + 10, &(uint16_t){ pkt_csum(pkt + PKT_OFF_IP, 20, 0) }, 2);
		expect(pkt, len, if_b, XDP_DROP, XR_DROP_CTRL_UNTRUSTED);
		ASSERT_TRUE(has_event(XCHAN_E_CTRL_UNTRUSTED, XR_DROP_CTRL_UNTRUSTED), "audited");
		ASSERT_TRUE(key_absent(&OUT_BA), "no key stored");
		ASSERT_TRUE(key_is(&IN_AB, KEY, XCHAN_OWNER_LOCAL), "receiver key untouched");
		snprintf(name, sizeof(name), "control type %u from a partition interface is dropped", t);
		tap_end(name);
	}
}

/* Truncated or wrong control frames on the trusted path. */
static void control_malformed(void)
{
	uint8_t pkt[PKT_MAX], p2[PKT_MAX];
	size_t len;

	tap_begin();
	reset();
	del_out_key();
	len = ctrl_frame(pkt, XCHAN_T_CONNECT, P_A, 6000, P_B, 5000, KEY, MAC_GW);
	for (size_t cut = PKT_OFF_XCHAN; cut < len; cut++) {
		memcpy(p2, pkt, cut);
		p2[PKT_OFF_IP + 2] = 0;
		p2[PKT_OFF_IP + 3] = cut - PKT_OFF_IP;
		p2[PKT_OFF_IP + 10] = p2[PKT_OFF_IP + 11] = 0;
		p2[PKT_OFF_UDP + 4] = 0;
		p2[PKT_OFF_UDP + 5] = cut - PKT_OFF_UDP;
		expect(p2, cut, 1, XDP_DROP, XR_DROP_CTRL_MALFORMED);
	}
	ASSERT_TRUE(key_absent(&OUT_BA), "no key stored");
	tap_end("truncation at every byte offset of the xchan header");

	/* A datagram too short for the header, with the header's bytes in the padding. */
	tap_begin();
	memcpy(p2, pkt, len);
	p2[PKT_OFF_IP + 2] = 0;
	p2[PKT_OFF_IP + 3] = 28;	/* IPv4 20 + UDP 8: no payload */
	p2[PKT_OFF_UDP + 4] = 0;
	p2[PKT_OFF_UDP + 5] = 8;
	expect(p2, len, 1, XDP_DROP, XR_DROP_CTRL_MALFORMED);
	ASSERT_TRUE(key_absent(&OUT_BA), "no key stored");
	tap_end("CONNECT whose header lies beyond the UDP length is dropped");

	tap_begin();
	pkt[PKT_OFF_XCHAN] = 2;	/* version */
	expect(pkt, len, 1, XDP_DROP, XR_DROP_CTRL_MALFORMED);
	pkt[PKT_OFF_XCHAN] = 1;
	pkt[PKT_OFF_XCHAN + 1] = XCHAN_T_CONNECT_ACK;	/* an answer is not a request */
	expect(pkt, len, 1, XDP_DROP, XR_DROP_CTRL_MALFORMED);
	ASSERT_TRUE(key_absent(&OUT_BA), "no key stored");
	tap_end("wrong version or type on the trusted path is dropped");
}

void test_control(void)
{
	connect_establishes();
	connect_refused();
	close_removes_key();
	control_from_partition();
	control_malformed();
}
