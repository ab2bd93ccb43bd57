// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_etcd_nodes.c: test_etcd's modes about nodes in the store: a node's signed record
 * published as its agent would, pair keys derived on two nodes from each other's
 * records, a node's kx key rotated. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "etcd.h"
#include "xc.h"
#include "nodekey.h"
#include "store.h"
#include "test_etcd.h"

/* Announces the node of state dir dir as its agent would: nodes/<id>, signed, on a lease
 * of ttl seconds that nobody keeps alive (so that status sees it live, then down). */
int mode_publish(const char *url, const char *dir, unsigned int ttl)
{
	struct xc_err e = { 0 };
	struct st_conf sc;
	struct nk_identity id = { 0 };
	struct nk_kx kx = { 0 };
	struct st_node n = { 0 };
	struct etcd *d = NULL;
	char key[32], rec[ST_RECORD_MAX];
	int err = st_conf_load(dir, &sc, &e);

	err = err ?: nk_identity_load(dir, false, &id, NULL, &e);
	err = err ?: nk_kx_load(dir, false, &kx, NULL, &e);
	if (!err && !(d = etcd_open(url, sc.prefix, &e)))
		err = -EINVAL;
	err = err ?: etcd_lease_grant(d, ttl, &n.lease, &e);
	if (!err) {
		n.id = sc.node;
		n.addr = sc.addr;
		n.epoch = kx.epoch;
		n.key_time = kx.key_time;
		memcpy(n.kx_pub, kx.pk, NK_PUB_LEN);
		err = st_node_encode(&n, &id, rec, sizeof(rec), &e);
	}
	err = err ?: etcd_put(d, st_key_node(key, sizeof(key), n.id), rec, strlen(rec), n.lease, &e);
	nk_identity_wipe(&id);
	nk_kx_wipe(&kx);
	etcd_close(d);
	if (err)
		fprintf(stderr, "publish: %s\n", e.msg);
	return err != 0;
}

/* The node of state dir dir: its conf, identity and kx key. */
static int node_load(const char *dir, struct st_conf *sc, struct nk_kx *kx, struct xc_err *e)
{
	int err = st_conf_load(dir, sc, e);

	return err ?: nk_kx_load(dir, false, kx, NULL, e);
}

/* Derives the pair keys of the nodes of state dirs a and b, each from its own kx key and
 * the other's record in the store (verified under its identity), installs each in its
 * own instance, then checks in the maps that a's tx is b's rx and the other way round. */
int mode_pair(const char *url, const char *da, const char *pa, const char *db,
		     const char *pb)
{
	const char *dirs[2] = { da, db }, *pins[2] = { pa, pb };
	struct st_conf sc[2];
	struct nk_kx kx[2] = { 0 };
	struct xc x[2];
	struct xc_node_key k = { 0 };
	struct xchan_node n[2];
	struct xc_err e = { 0 };
	struct etcd *d = etcd_open(url, NULL, &e);
	int err = d ? 0 : -EINVAL;

	for (int i = 0; i < 2; i++)
		xc_init(&x[i], pins[i], NULL);
	for (int i = 0; i < 2 && !err; i++)
		err = node_load(dirs[i], &sc[i], &kx[i], &e);
	for (int i = 0; i < 2 && !err; i++) {
		uint8_t pk[NK_PUB_LEN];
		struct st_node peer;
		struct etcd_kv kv;
		char key[32];
		uint32_t other = sc[!i].node;

		err = st_id_get(d, other, pk, &e);
		err = err ?: etcd_get(d, st_key_node(key, sizeof(key), other), &kv, &e);
		if (err)
			break;
		err = st_node_decode(kv.value, kv.vlen, pk, &peer, &e);
		etcd_kv_free(&kv);
		err = err ?: nk_pair_key(sc[i].node, &kx[i], other, peer.kx_pub, peer.epoch, &k, &e);
		err = err ?: xc_node_key_install(&x[i], other, peer.addr, &k, &e);
		err = err ?: (bpf_map_lookup_elem(x[i].cmm.map_fd[M_NODES], &other, &n[i]) ? -errno : 0);
		memset(&k, 0, sizeof(k));
	}
	check(!err, "pair keys derived from the store and installed on both nodes", "%s", e.msg);
	if (!err) {
		const struct xchan_node_slot *a = &n[0].slot[n[0].cur], *b = &n[1].slot[n[1].cur];

		check(!memcmp(a->tx, b->rx, 32) && !memcmp(a->rx, b->tx, 32) && memcmp(a->tx, a->rx, 32),
		      "in the maps: a's tx is b's rx and a's rx is b's tx", "they differ");
		check(n[0].kid[n[0].cur] == n[1].kid[n[1].cur], "both installed the same key id",
		      "%u %u", n[0].kid[n[0].cur], n[1].kid[n[1].cur]);
	}
	for (int i = 0; i < 2; i++) {
		nk_kx_wipe(&kx[i]);
		xc_close(&x[i]);
	}
	memset(n, 0, sizeof(n));
	etcd_close(d);
	return checks_failed() != 0;
}

/* A new kx key for the node of state dir dir (what its agent does every interval). */
int mode_rotate(const char *dir)
{
	struct xc_err e = { 0 };
	struct nk_kx kx = { 0 };
	int err = nk_kx_load(dir, false, &kx, NULL, &e);

	err = err ?: nk_kx_rotate(dir, &kx, &e);
	nk_kx_wipe(&kx);
	if (err)
		fprintf(stderr, "rotate: %s\n", e.msg);
	return err != 0;
}
