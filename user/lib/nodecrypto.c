// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* nodecrypto.c: what nodekey.h declares (the name nodekey.c holds the key slots in the
 * maps): the node's identity and key exchange keys in the state directory, record
 * signatures, fingerprints and the pair keys derived per peer (libsodium). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include "nodekey.h"

int nk_init(struct xc_err *e)
{
	if (sodium_init() < 0)
		return xc_fail(e, -EIO, "libsodium cannot initialise");
	return 0;
}

int nk_state_dir(const char *dir, bool create, struct xc_err *e)
{
	struct stat st;
	int err = nk_init(e);

	if (err)
		return err;
	if (create && mkdir(dir, 0700) && errno != EEXIST)
		return xc_fail(e, -errno, "cannot make state directory %s: %s", dir, strerror(errno));
	if (lstat(dir, &st))
		return xc_fail(e, -errno, "state directory %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return xc_fail(e, -ENOTDIR, "state directory %s is not a directory", dir);
	if (st.st_uid != geteuid())
		return xc_fail(e, -EPERM, "state directory %s is not owned by uid %u", dir, geteuid());
	if (st.st_mode & 077)
		return xc_fail(e, -EPERM, "state directory %s is open to others (mode %03o): make it 0700",
			       dir, st.st_mode & 0777);
	return 0;
}

static int path_of(char *buf, size_t len, const char *dir, const char *name, struct xc_err *e)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len)
		return xc_bad(e, "state directory path too long: %s", dir);
	return 0;
}

/* Reads a secret file of at most len bytes into buf: refused when group or others may
 * read it, it is not a regular file (O_NONBLOCK: a FIFO is refused, not waited on),
 * not ours, or it is longer. *got: bytes read. */
static int read_secret(const char *path, void *buf, size_t len, size_t *got, struct xc_err *e)
{
	struct stat st;
	ssize_t n;
	char more;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return errno == ENOENT ? -ENOENT :
		       xc_fail(e, -errno, "cannot read key file %s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		n = -errno;
		close(fd);
		return xc_fail(e, n, "cannot stat key file %s: %s", path, strerror(-n));
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		close(fd);
		return xc_fail(e, -EPERM, "key file %s is readable by others or not a file (mode %03o): make it a 0600 file",
			       path, st.st_mode & 0777);
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		return xc_fail(e, -EPERM, "key file %s is owned by uid %u, not by us: refusing it",
			       path, st.st_uid);
	}
	n = read(fd, buf, len);
	if (n == (ssize_t)len && read(fd, &more, 1) == 1)
		n = -2;
	close(fd);
	if (n == -2)
		return xc_fail(e, -EINVAL, "key file %s is longer than %zu bytes", path, len);
	if (n < 0)
		return xc_fail(e, -errno, "cannot read key file %s: %s", path, strerror(errno));
	*got = n;
	return 0;
}

/* Replaces dir/name with len bytes, atomically and durably: a temporary file (0600),
 * fsync, rename, fsync of the directory. */
static int write_secret(const char *dir, const char *name, const void *buf, size_t len,
			struct xc_err *e)
{
	char path[512], tmp[520];
	int fd, dfd, err = path_of(path, sizeof(path), dir, name, e);

	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return xc_fail(e, -errno, "cannot write %s: %s", tmp, strerror(errno));
	if (write(fd, buf, len) != (ssize_t)len || fsync(fd))
		err = -(errno ? errno : EIO);
	close(fd);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return xc_fail(e, err, "cannot write %s: %s", path, strerror(-err));
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* identity.key is seed || public key: the public key is what the seed makes, never
 * what the file says (a file whose halves disagree would sign as one key and announce
 * another). */
static int check_pair(struct nk_identity *id, const char *path, struct xc_err *e)
{
	uint8_t pk[sizeof(id->pk)], sk[sizeof(id->sk)];
	int err = 0;

	crypto_sign_seed_keypair(pk, sk, id->sk);
	if (sodium_memcmp(sk, id->sk, sizeof(sk)))
		err = xc_fail(e, -EINVAL, "identity file %s: its public half is not its seed's", path);
	else
		memcpy(id->pk, pk, sizeof(pk));
	sodium_memzero(sk, sizeof(sk));
	return err;
}

int nk_identity_load(const char *dir, bool create, struct nk_identity *id, bool *created,
		     struct xc_err *e)
{
	char path[512];
	size_t got = 0;
	int err = nk_init(e);

	if (created)
		*created = false;
	err = err ?: path_of(path, sizeof(path), dir, NK_IDENTITY_FILE, e);
	if (err)
		return err;
	sodium_mlock(id, sizeof(*id));
	err = read_secret(path, id->sk, sizeof(id->sk), &got, e);
	if (err == -ENOENT && create) {
		crypto_sign_keypair(id->pk, id->sk);
		err = write_secret(dir, NK_IDENTITY_FILE, id->sk, sizeof(id->sk), e);
		if (!err && created)
			*created = true;
		if (err)
			nk_identity_wipe(id);
		return err;
	}
	if (err == -ENOENT)
		return xc_fail(e, -ENOENT, "no identity in %s: run xchan cluster join", dir);
	if (!err && got != sizeof(id->sk))
		err = xc_fail(e, -EINVAL, "identity file %s must hold 64 bytes", path);
	if (!err)
		err = check_pair(id, path, e);
	if (err)
		nk_identity_wipe(id);
	return err;
}

void nk_identity_wipe(struct nk_identity *id)
{
	sodium_munlock(id, sizeof(*id));	/* zeroes it, locked or not */
}

void nk_kx_wipe(struct nk_kx *kx)
{
	sodium_munlock(kx, sizeof(*kx));
}

/* "xchan-kx-v1 EPOCH TIME HEX\n" into kx (pk computed). */
static int kx_parse(char *s, struct nk_kx *kx)
{
	unsigned long long ep, t;
	char hex[65];
	int n = 0;

	if (sscanf(s, "xchan-kx-v1 %llu %llu %64[0-9a-f]%n", &ep, &t, hex, &n) != 3 || !n ||
	    strcmp(s + n, "\n") || !ep || ep > UINT32_MAX || nk_unhex(hex, kx->sk, 32)) {
		sodium_memzero(hex, sizeof(hex));
		return -EINVAL;
	}
	sodium_memzero(hex, sizeof(hex));
	kx->epoch = ep;
	kx->key_time = t;
	crypto_scalarmult_base(kx->pk, kx->sk);
	return 0;
}

static int kx_save(const char *dir, const struct nk_kx *kx, struct xc_err *e)
{
	char line[128], hex[65];
	int n, err;

	nk_hex(kx->sk, 32, hex);
	n = snprintf(line, sizeof(line), "xchan-kx-v1 %u %llu %s\n", kx->epoch,
		     (unsigned long long)kx->key_time, hex);
	err = write_secret(dir, NK_KX_FILE, line, n, e);
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(line, sizeof(line));
	return err;
}

static void kx_new(struct nk_kx *kx, uint32_t epoch)
{
	crypto_kx_keypair(kx->pk, kx->sk);
	kx->epoch = epoch;
	kx->key_time = time(NULL);
}

int nk_kx_load(const char *dir, bool create, struct nk_kx *kx, bool *created,
	       struct xc_err *e)
{
	char path[512], buf[160] = { 0 };
	size_t got = 0;
	int err = nk_init(e);

	if (created)
		*created = false;
	err = err ?: path_of(path, sizeof(path), dir, NK_KX_FILE, e);
	if (err)
		return err;
	sodium_mlock(kx, sizeof(*kx));
	err = read_secret(path, buf, sizeof(buf) - 1, &got, e);
	if (err == -ENOENT && create) {
		kx_new(kx, 1);
		err = kx_save(dir, kx, e);
		if (!err && created)
			*created = true;
	} else if (err == -ENOENT) {
		err = xc_fail(e, -ENOENT, "no key exchange key in %s: run xchan cluster join", dir);
	} else if (!err && kx_parse(buf, kx)) {
		err = xc_fail(e, -EINVAL, "key file %s is malformed", path);
	}
	sodium_memzero(buf, sizeof(buf));
	if (err)
		nk_kx_wipe(kx);
	return err;
}

int nk_kx_rotate(const char *dir, struct nk_kx *kx, struct xc_err *e)
{
	struct nk_kx next;
	int err;

	sodium_mlock(&next, sizeof(next));
	kx_new(&next, kx->epoch + 1);
	if (!next.epoch)
		next.epoch = 1;	/* 2^32 rotations: start again rather than 0 */
	err = kx_save(dir, &next, e);
	if (!err)
		memcpy(kx, &next, sizeof(next));
	sodium_munlock(&next, sizeof(next));
	return err;
}

void nk_hex(const uint8_t *b, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, b, n);
}

int nk_unhex(const char *s, uint8_t *b, size_t n)
{
	size_t got = 0;
	const char *end = NULL;

	if (strlen(s) != 2 * n ||
	    sodium_hex2bin(b, n, s, 2 * n, NULL, &got, &end) || got != n || *end)
		return -EINVAL;
	return 0;
}

void nk_fingerprint(const uint8_t pk[NK_PUB_LEN], char out[NK_FPR_LEN])
{
	uint8_t h[32];
	char hex[65];

	crypto_generichash(h, sizeof(h), pk, NK_PUB_LEN, NULL, 0);
	nk_hex(h, sizeof(h), hex);
	memcpy(out, hex, NK_FPR_LEN - 1);
	out[NK_FPR_LEN - 1] = 0;
}

void nk_sign(const struct nk_identity *id, const char *msg, size_t len,
	     char sig_hex[NK_SIG_HEX])
{
	uint8_t sig[NK_SIG_LEN];

	crypto_sign_detached(sig, NULL, (const uint8_t *)msg, len, id->sk);
	nk_hex(sig, sizeof(sig), sig_hex);
}

int nk_verify(const uint8_t pk[NK_PUB_LEN], const char *msg, size_t len, const char *sig_hex)
{
	uint8_t sig[NK_SIG_LEN];

	if (!sig_hex || nk_unhex(sig_hex, sig, sizeof(sig)) ||
	    crypto_sign_verify_detached(sig, (const uint8_t *)msg, len, pk))
		return -EBADMSG;
	return 0;
}

uint8_t nk_pair_key_id(uint32_t self, uint32_t self_epoch, uint32_t peer, uint32_t peer_epoch)
{
	uint32_t lo = self < peer ? self_epoch : peer_epoch;
	uint32_t hi = self < peer ? peer_epoch : self_epoch;

	return ((lo & 0x0f) << 4) | (hi & 0x0f);
}

int nk_pair_key(uint32_t self, const struct nk_kx *kx, uint32_t peer,
		const uint8_t peer_pk[NK_PUB_LEN], uint32_t peer_epoch,
		struct xc_node_key *out, struct xc_err *e)
{
	int err;

	if (!self || !peer || self == peer)
		return xc_bad(e, "pair key: node ids %u and %u must differ and be non-zero", self, peer);
	err = nk_init(e);
	if (err)
		return err;
	if (self < peer)	/* the lower id is the client */
		err = crypto_kx_client_session_keys(out->rx, out->tx, kx->pk, kx->sk, peer_pk);
	else
		err = crypto_kx_server_session_keys(out->rx, out->tx, kx->pk, kx->sk, peer_pk);
	if (err) {
		sodium_memzero(out, sizeof(*out));
		return xc_fail(e, -EINVAL, "node %u's key exchange key is unusable", peer);
	}
	out->id = nk_pair_key_id(self, kx->epoch, peer, peer_epoch);
	return 0;
}
