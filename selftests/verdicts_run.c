// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_run.c: the verdict tests' runner: test runs of the CMM, reason-counter
 * deltas, the audit event ring, and small map and frame helpers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "xc_int.h"
#include "verdicts.h"

struct ring_buffer *rb;
struct xchan_event events[MAX_EVENTS];
int n_events;

static int on_event(void *ctx, void *data, size_t len)
{
	if (n_events < MAX_EVENTS && len >= sizeof(struct xchan_event))
		memcpy(&events[n_events++], data, sizeof(struct xchan_event));
	/* Audit events must never carry key bytes. */
	if (memmem(data, len, KEY, 8) || memmem(data, len, KEY + 8, 8)) {
		printf("#   event carries key bytes\n");
		tap_row_ok = false;
	}
	return 0;
}

int events_open(void)
{
	rb = ring_buffer__new(fx.cmm.map_fd[M_EVENTS], on_event, NULL, NULL);
	return rb ? 0 : -errno;
}

void events_close(void)
{
	ring_buffer__free(rb);
	rb = NULL;
}

void reset(void)
{
	fixture_reset();
	ring_buffer__consume(rb);
	n_events = 0;
}

struct run run_raw(int prog_fd, const uint8_t *pkt, size_t len, int ifindex)
{
	struct run r = {};
	struct xdp_md ctx = { .data = 0, .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt, .data_size_in = len,
		.data_out = r.out, .data_size_out = sizeof(r.out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		r.ret = -errno;
	else
		r.ret = o.retval;
	r.out_len = o.data_size_out;
	return r;
}

struct run run_prog(int prog_fd, const uint8_t *pkt, size_t len, int ifindex)
{
	struct run r = run_raw(prog_fd, pkt, len, ifindex);

	ring_buffer__consume(rb);
	return r;
}

static void read_stats(struct xchan_counter *s)
{
	for (uint32_t i = 0; i < XR__MAX; i++)
		cmm_percpu_sum(fx.cmm.map_fd[M_STATS], &i, &s[i], sizeof(s[i]));
}

/* Exactly `reason` was counted once between before and after. */
static void check_counted(const struct xchan_counter *before, const struct xchan_counter *after,
			  int reason)
{
	for (int i = 0; i < XR__MAX; i++) {
		char what[64];

		if (i == XR_EVENT_LOST || i == XR_EVENT_SUPPRESSED)
			continue;
		snprintf(what, sizeof(what), "reason %s delta", xchan_reason_names[i]);
		ASSERT_EQ(after[i].packets - before[i].packets, i == reason, what);
	}
}

struct run expect(const uint8_t *pkt, size_t len, int ifindex, int action, int reason)
{
	struct xchan_counter before[XR__MAX], after[XR__MAX];
	struct run r;

	read_stats(before);
	r = run_prog(fx.cmm.prog_fd, pkt, len, ifindex);
	read_stats(after);
	ASSERT_EQ(r.ret, action, "verdict");
	check_counted(before, after, reason);
	return r;
}

struct run run_rx(const uint8_t *pkt, size_t len, int ifindex, int ingress)
{
	struct __sk_buff ctx = { .ifindex = ifindex, .ingress_ifindex = ingress };
	struct run r = {};
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt, .data_size_in = len,
		.data_out = r.out, .data_size_out = sizeof(r.out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	r.ret = bpf_prog_test_run_opts(fx.cmm.rx_fd, &o) ? -errno : (int)o.retval;
	r.out_len = o.data_size_out;
	ring_buffer__consume(rb);
	return r;
}

struct run expect_rx(const uint8_t *pkt, size_t len, int ifindex, int ingress, int action,
		     int reason)
{
	struct xchan_counter before[XR__MAX], after[XR__MAX];
	struct run r;

	read_stats(before);
	r = run_rx(pkt, len, ifindex, ingress);
	read_stats(after);
	ASSERT_EQ(r.ret, action, "verdict");
	check_counted(before, after, reason);
	return r;
}

bool has_event(uint32_t kind, uint32_t reason)
{
	for (int i = 0; i < n_events; i++)
		if (events[i].kind == kind && events[i].reason == reason)
			return true;
	return false;
}

void chan_counts(struct xchan_chan_counter *c)
{
	memset(c, 0, sizeof(*c));
	chan_counted(&fx, &IN_AB, c);	/* the IN entry's slot */
}

bool key_absent(const struct xchan_chan_id *id)
{
	struct xchan_channel k;
	bool none = bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], id, &k) ||
		    (XCHAN_CTL_STATE(k.ctl) != XCHAN_S_ESTABLISHED && !k.valid);

	explicit_bzero(&k, sizeof(k));
	return none;
}

bool key_is(const struct xchan_chan_id *id, const uint8_t *key, uint32_t owner)
{
	struct xchan_channel k;

	if (bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], id, &k))
		return false;
	/* the one key, id 0 in slot 0, as CONNECT stores a channel's first key */
	return XCHAN_CTL_STATE(k.ctl) == XCHAN_S_ESTABLISHED && k.valid == 1 && k.cur == 0 &&
	       k.kid[0] == 0 && !memcmp(k.key[0], key, 16) && XCHAN_CTL_OWNER(k.ctl) == owner;
}

void del_in_key(void) { drop_keys(&IN_AB); }
void del_out_key(void) { drop_keys(&OUT_BA); }

size_t ctrl_frame(uint8_t *pkt, uint8_t type, uint32_t from_part, uint16_t from_ep,
		  uint32_t to_part, uint16_t to_ep, const uint8_t *key, const uint8_t *src_mac)
{
	struct xchan_hdr xh = {
		.version = XCHAN_VERSION, .type = type,
		.src_part = htonl(from_part), .dst_part = htonl(to_part),
		.src_ep = htons(from_ep), .dst_ep = htons(to_ep),
	};
	struct pkt_spec s = { .saddr = htonl(0x7f000001), .daddr = htonl(0x7f000001),
			      .sport = XCHAN_UDP_PORT, .dport = XCHAN_UDP_PORT, .xh = &xh };

	if (key)
		memcpy(xh.auth, key, 16);
	memcpy(s.src_mac, src_mac, 6);
	memcpy(s.dst_mac, MAC_GW, 6);
	return pkt_build(pkt, PKT_MAX, &s);
}
