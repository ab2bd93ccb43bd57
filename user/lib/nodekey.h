/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* nodekey.h: a node's own keys (libsodium; in nodecrypto.c): its Ed25519 identity and its X25519 key
 * exchange key with an epoch, both kept in the state directory (0700, files 0600), the
 * signatures over store records and the pair keys derived for each peer. Never prints;
 * secrets are locked in memory where that is cheap and wiped after use. */
#ifndef XCHAN_NODEKEY_H
#define XCHAN_NODEKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "xc.h"

#define NK_DEFAULT_STATE_DIR	"/var/lib/xchan"
#define NK_IDENTITY_FILE	"identity.key"	/* Ed25519 secret key (64 bytes, raw) */
#define NK_KX_FILE		"kx.key"	/* "xchan-kx-v1 EPOCH TIME HEX(secret)\n" */
#define NK_PUB_LEN	32
#define NK_SIG_LEN	64
#define NK_PUB_HEX	(2 * NK_PUB_LEN + 1)	/* hex with the NUL */
#define NK_SIG_HEX	(2 * NK_SIG_LEN + 1)
#define NK_FPR_LEN	17			/* 16 hex digits (64 bits) and the NUL */

struct nk_identity {
	uint8_t pk[NK_PUB_LEN];
	uint8_t sk[64];			/* secret: locked, wiped by nk_identity_wipe */
};

struct nk_kx {
	uint32_t epoch;			/* 1 for the first key, +1 per rotation */
	uint64_t key_time;		/* unix seconds it was made */
	uint8_t pk[NK_PUB_LEN];
	uint8_t sk[32];			/* secret: locked, wiped by nk_kx_wipe */
};

/* libsodium's own initialisation; every other call makes it too. */
int nk_init(struct xc_err *e);

/* The state directory: with create, made 0700 if absent. Refused if it is not a
 * directory, not owned by this euid, or open to group or others. */
int nk_state_dir(const char *dir, bool create, struct xc_err *e);

/* Loads identity.key; with create, makes one if absent (*created, may be NULL). A file
 * that group or others may read is refused, like a pair key file. */
int nk_identity_load(const char *dir, bool create, struct nk_identity *id, bool *created,
		     struct xc_err *e);
void nk_identity_wipe(struct nk_identity *id);

/* Loads kx.key; with create, makes epoch 1 if absent. */
int nk_kx_load(const char *dir, bool create, struct nk_kx *kx, bool *created,
	       struct xc_err *e);
/* A new key pair with epoch kx->epoch + 1 replaces kx.key atomically (temporary file,
 * fsync, rename, fsync of the directory); kx holds it on success and is unchanged on
 * failure. */
int nk_kx_rotate(const char *dir, struct nk_kx *kx, struct xc_err *e);
void nk_kx_wipe(struct nk_kx *kx);

void nk_hex(const uint8_t *b, size_t n, char *out);	/* out: 2n + 1 */
/* Exactly 2n hex digits: 0, else -EINVAL. */
int nk_unhex(const char *s, uint8_t *b, size_t n);
/* The first 8 hex digits of BLAKE2b(pk): how people tell identities apart. */
void nk_fingerprint(const uint8_t pk[NK_PUB_LEN], char out[NK_FPR_LEN]);

/* Ed25519 over msg (a record's canonical string), as hex. */
void nk_sign(const struct nk_identity *id, const char *msg, size_t len,
	     char sig_hex[NK_SIG_HEX]);
/* 0 when sig_hex is a valid signature of msg by pk, else -EBADMSG. */
int nk_verify(const uint8_t pk[NK_PUB_LEN], const char *msg, size_t len, const char *sig_hex);

/* ---- pair keys ---- */
/* The key id both nodes give the pair's keys: ((epoch of the lower id & 0x0f) << 4) |
 * (epoch of the higher id & 0x0f). */
uint8_t nk_pair_key_id(uint32_t self, uint32_t self_epoch, uint32_t peer, uint32_t peer_epoch);
/* The keys this node (self, its kx) shares with peer (its public key and epoch), as
 * xc_node_key_install takes them (struct xc_node_key, xc.h): libsodium crypto_kx, the
 * lower node id as client, the higher as server, so that self's tx is peer's rx and the
 * other way round. -EINVAL for peer == self or 0, or a public key crypto_kx refuses.
 * The caller wipes out. */
int nk_pair_key(uint32_t self, const struct nk_kx *kx, uint32_t peer,
		const uint8_t peer_pk[NK_PUB_LEN], uint32_t peer_epoch,
		struct xc_node_key *out, struct xc_err *e);

#endif
