// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verdicts_race.c: concurrency: racers send CONNECT for one entry at once, round
 * after round; exactly one may win, every other is refused and audited. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "verdicts.h"

#define RACERS 8
#define RACE_ROUNDS 200

struct racer {
	pthread_t t;
	int id, acks, nacks_exists, other;
	pthread_barrier_t *start;
};

static void *race_connect(void *arg)
{
	struct racer *r = arg;
	uint8_t key[16];

	memcpy(key, KEY, 16);
	key[0] = r->id;		/* every racer offers its own key */
	pthread_barrier_wait(r->start);
	{
		uint8_t pkt[PKT_MAX];
		size_t len = ctrl_frame(pkt, XCHAN_T_CONNECT, P_A, 6000, P_B, 5000, key, MAC_GW);
		struct run x = run_raw(fx.cmm.prog_fd, pkt, len, 1);
		const struct xchan_hdr *xh = (const void *)(x.out + PKT_OFF_XCHAN);

		if (x.ret == XDP_TX && xh->type == XCHAN_T_CONNECT_ACK)
			r->acks++;
		else if (x.ret == XDP_TX && xh->reason == XR_NACK_EXISTS)
			r->nacks_exists++;
		else
			r->other++;
	}
	return NULL;
}

void test_connect_race(void)
{
	int bad_rounds = 0, events_ok = 1;

	tap_begin();
	for (int round = 0; round < RACE_ROUNDS; round++) {
		struct racer rs[RACERS] = {};
		pthread_barrier_t start;
		int acks = 0, nacks = 0, other = 0, excl = 0;
		struct xchan_channel k;

		reset();
		del_out_key();
		pthread_barrier_init(&start, NULL, RACERS);
		for (int i = 0; i < RACERS; i++) {
			rs[i].id = i + 1;
			rs[i].start = &start;
			pthread_create(&rs[i].t, NULL, race_connect, &rs[i]);
		}
		for (int i = 0; i < RACERS; i++) {
			pthread_join(rs[i].t, NULL);
			acks += rs[i].acks;
			nacks += rs[i].nacks_exists;
			other += rs[i].other;
		}
		pthread_barrier_destroy(&start);
		ring_buffer__consume(rb);
		for (int i = 0; i < n_events; i++)
			excl += events[i].kind == XCHAN_E_EXCLUSION;
		/* the stored key is the one whose CONNECT was acknowledged: some racer's */
		if (acks != 1 || nacks != RACERS - 1 || other ||
		    bpf_map_lookup_elem(fx.cmm.map_fd[M_CHANNELS], &OUT_BA, &k) ||
		    k.valid != 1 || k.key[0][0] < 1 || k.key[0][0] > RACERS || XCHAN_CTL_OWNER(k.ctl) != XCHAN_OWNER_REMOTE)
			bad_rounds++;
		if (excl != RACERS - 1) {
			if (events_ok)
				printf("#   round %d: %d exclusion events of %d events\n", round, excl, n_events);
			events_ok = 0;
		}
	}
	ASSERT_EQ(bad_rounds, 0, "rounds without exactly one ACK and one stored key");
	ASSERT_TRUE(events_ok, "every refused racer audited as an exclusion conflict");
	tap_end("8 simultaneous CONNECTs for one entry, 200 rounds: one key, 7 refusals, 7 audit events");
}
