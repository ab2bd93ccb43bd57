// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_nodekey.c: node keys (user/lib/nodekey.h) and the store's signed records
 * (user/lib/store.h) without etcd: files and their modes, rotation, the pair keys two
 * nodes derive, signatures over every field. TAP. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sodium.h>
#include <json-c/json.h>
#include "tap.h"
#include "nodekey.h"
#include "store.h"

int tap_n, tap_failed;
bool tap_row_ok;

static char root[] = "/tmp/xchan-nk.XXXXXX";

static const char *dir_of(const char *name, char *buf)
{
	sprintf(buf, "%s/%s", root, name);
	return buf;
}

static mode_t mode_of(const char *dir, const char *file)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return stat(p, &st) ? 0 : st.st_mode & 0777;
}

/* Writes len bytes of buf to path (0600) and loads the identity of d from it. */
static int load_from(const char *d, const char *p, const void *buf, size_t len,
		     struct xc_err *e)
{
	struct nk_identity b;
	FILE *f = fopen(p, "w");
	int err;

	if (!f)
		return -errno;
	fwrite(buf, 1, len, f);
	fclose(f);
	err = nk_identity_load(d, false, &b, NULL, e);
	nk_identity_wipe(&b);
	return err;
}

/* identity.key is seed || public key: only the seed counts, the file must agree. */
static void t_identity_file(const char *d, const char *p, const struct nk_identity *a)
{
	struct xc_err e = { 0 };
	uint8_t buf[65];

	memcpy(buf, a->sk, 64);
	buf[64] = '\n';
	ASSERT_EQ(load_from(d, p, buf, 65, &e), -EINVAL, "an identity.key of 65 bytes is refused");
	ASSERT_TRUE(strstr(e.msg, "longer than 64") != NULL, "saying it is too long");
	buf[40] ^= 1;
	ASSERT_EQ(load_from(d, p, buf, 64, &e), -EINVAL, "a public half that is not the seed's is refused");
	ASSERT_TRUE(strstr(e.msg, "not its seed's") != NULL, "saying so");
	buf[40] ^= 1;
	ASSERT_EQ(load_from(d, p, buf, 64, &e), 0, "the file put back loads");
}

static void t_identity(void)
{
	struct nk_identity a, b;
	struct xc_err e = { 0 };
	char d[256], p[512];
	bool created = false;
	int err;

	tap_begin();
	dir_of("a", d);
	ASSERT_EQ(nk_state_dir(d, true, &e), 0, "state dir made");
	ASSERT_EQ(mode_of(root, "a"), 0700, "state dir mode");
	ASSERT_EQ(nk_identity_load(d, false, &a, NULL, &e), -ENOENT, "no identity yet, no create");
	ASSERT_EQ(nk_identity_load(d, true, &a, &created, &e), 0, "identity made");
	ASSERT_TRUE(created, "said it made it");
	ASSERT_EQ(mode_of(d, NK_IDENTITY_FILE), 0600, "identity.key mode");
	ASSERT_EQ(nk_identity_load(d, true, &b, &created, &e), 0, "identity loaded again");
	ASSERT_TRUE(!created && !memcmp(a.pk, b.pk, NK_PUB_LEN), "the same one, not a new one");
	nk_identity_wipe(&b);
	snprintf(p, sizeof(p), "%s/%s", d, NK_IDENTITY_FILE);
	chmod(p, 0640);
	err = nk_identity_load(d, true, &b, NULL, &e);
	ASSERT_EQ(err, -EPERM, "a group-readable identity.key is refused");
	ASSERT_TRUE(strstr(e.msg, "readable by others") && strstr(e.msg, p), "and the message says why and where");
	chmod(p, 0600);
	chmod(d, 0755);
	ASSERT_EQ(nk_state_dir(d, false, &e), -EPERM, "a state dir open to others is refused");
	chmod(d, 0700);
	t_identity_file(d, p, &a);
	nk_identity_wipe(&a);
	tap_end("identity: made once, 0600, loaded again, loose modes, long files, halves that disagree refused");
}

static void t_kx(void)
{
	struct nk_kx k, again, old;
	struct xc_err e = { 0 };
	char d[256], p[512];
	bool created;

	tap_begin();
	dir_of("a", d);
	ASSERT_EQ(nk_kx_load(d, true, &k, &created, &e), 0, "kx made");
	ASSERT_TRUE(created && k.epoch == 1 && k.key_time > 0, "epoch 1, a time");
	ASSERT_EQ(mode_of(d, NK_KX_FILE), 0600, "kx.key mode");
	old = k;
	ASSERT_EQ(nk_kx_rotate(d, &k, &e), 0, "rotate");
	ASSERT_TRUE(k.epoch == 2 && memcmp(k.pk, old.pk, NK_PUB_LEN), "epoch 2, a new key");
	ASSERT_EQ(nk_kx_load(d, false, &again, &created, &e), 0, "load after rotate");
	ASSERT_TRUE(!created && again.epoch == 2 && !memcmp(again.pk, k.pk, NK_PUB_LEN) &&
		    !memcmp(again.sk, k.sk, 32), "the file holds the rotated key");
	snprintf(p, sizeof(p), "%s/%s.tmp", d, NK_KX_FILE);
	ASSERT_TRUE(access(p, F_OK) != 0, "no temporary file left");
	ASSERT_EQ(mode_of(d, NK_KX_FILE), 0600, "kx.key mode after rotate");
	snprintf(p, sizeof(p), "%s/%s", d, NK_KX_FILE);
	chmod(p, 0644);
	ASSERT_EQ(nk_kx_load(d, false, &again, NULL, &e), -EPERM, "a world-readable kx.key is refused");
	chmod(p, 0600);
	nk_kx_wipe(&again);
	nk_kx_wipe(&k);
	tap_end("kx key: epoch 1, rotation replaces the file with epoch 2, modes checked");
}

static void pair(uint32_t ida, struct nk_kx *a, uint32_t idb, struct nk_kx *b,
		 struct xc_node_key *ab, struct xc_node_key *ba)
{
	struct xc_err e = { 0 };

	ASSERT_EQ(nk_pair_key(ida, a, idb, b->pk, b->epoch, ab, &e), 0, "derive on a");
	ASSERT_EQ(nk_pair_key(idb, b, ida, a->pk, a->epoch, ba, &e), 0, "derive on b");
}

static void t_pair(void)
{
	struct nk_kx a, b;
	struct xc_node_key ab, ba, ab2, ba2;
	struct xc_err e = { 0 };
	char da[256], db[256];

	tap_begin();
	nk_state_dir(dir_of("b", db), true, &e);
	dir_of("a", da);
	nk_kx_load(da, false, &a, NULL, &e);	/* epoch 2 */
	nk_kx_load(db, true, &b, NULL, &e);	/* epoch 1 */
	pair(3, &a, 10, &b, &ab, &ba);
	ASSERT_TRUE(!memcmp(ab.tx, ba.rx, 32), "a's tx for b is b's rx from a");
	ASSERT_TRUE(!memcmp(ab.rx, ba.tx, 32), "a's rx from b is b's tx for a");
	ASSERT_TRUE(memcmp(ab.rx, ab.tx, 32), "the two directions differ");
	ASSERT_EQ(ab.id, ba.id, "both nodes give the pair key the same id");
	{	/* the convention, not only the symmetry: the lower id (3) is crypto_kx's client */
		uint8_t rx[32], tx[32];

		ASSERT_EQ(crypto_kx_client_session_keys(rx, tx, a.pk, a.sk, b.pk), 0, "crypto_kx");
		ASSERT_TRUE(!memcmp(ab.rx, rx, 32) && !memcmp(ab.tx, tx, 32),
			    "node 3 (lower) took crypto_kx's client side for node 10");
		sodium_memzero(rx, 32);
		sodium_memzero(tx, 32);
	}
	ASSERT_EQ(ab.id, 0x21, "id: lower node's epoch (2) high nibble, higher's (1) low");
	ASSERT_EQ(nk_pair_key_id(10, 1, 3, 2), 0x21, "the id from the other side");
	ASSERT_EQ(nk_pair_key_id(3, 17, 10, 33), 0x11, "epochs count mod 16 in the id");
	nk_kx_rotate(db, &b, &e);
	pair(3, &a, 10, &b, &ab2, &ba2);
	ASSERT_TRUE(!memcmp(ab2.tx, ba2.rx, 32) && !memcmp(ab2.rx, ba2.tx, 32), "after b rotates: still matched");
	ASSERT_TRUE(memcmp(ab2.tx, ab.tx, 32) && memcmp(ab2.rx, ab.rx, 32), "different epochs give different keys");
	ASSERT_TRUE(ab2.id == 0x22 && ab2.id != ab.id, "and a different id");
	ASSERT_EQ(nk_pair_key(3, &a, 3, b.pk, b.epoch, &ab2, &e), -EINVAL, "a node has no pair key with itself");
	ASSERT_EQ(nk_pair_key(0, &a, 3, b.pk, b.epoch, &ab2, &e), -EINVAL, "nor node 0");
	nk_kx_wipe(&a);
	nk_kx_wipe(&b);
	tap_end("pair keys: crypto_kx by id order, tx = peer's rx, one id, new epoch new keys");
}

/* Replaces the first "field":value in json by "field":repl and checks decoding fails. */
static bool tampered(const char *json, const char *field, const char *repl, const uint8_t *pk,
		     bool part)
{
	char buf[ST_RECORD_MAX], pat[64];
	const char *p, *end;
	struct st_node n;
	struct st_part pp;
	struct xc_err e = { 0 };
	int err;

	snprintf(pat, sizeof(pat), "\"%s\":", field);
	p = strstr(json, pat);
	if (!p)
		return false;
	p += strlen(pat);
	end = strpbrk(p + 1, ",}");
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - json), json, repl, end);
	err = part ? st_part_decode(buf, strlen(buf), pk, &pp, &e) :
		     st_node_decode(buf, strlen(buf), pk, &n, &e);
	if (err != -EBADMSG)
		printf("#   %s=%s: %d %s\n", field, repl, err, e.msg);
	return err == -EBADMSG;
}

static void t_records(void)
{
	struct nk_identity id, other;
	struct nk_kx kx;
	struct st_node n = { .id = 3, .epoch = 2, .key_time = 1800000000, .lease = 7668682518410470672LL }, got;
	struct st_part p = { .id = 9, .node = 3, .name = "alice", .isolated = true }, gotp;
	struct xc_err e = { 0 };
	char d[256], o[256], json[ST_RECORD_MAX], pj[ST_RECORD_MAX], hex[129];

	tap_begin();
	nk_identity_load(dir_of("a", d), false, &id, NULL, &e);
	nk_state_dir(dir_of("o", o), true, &e);
	nk_identity_load(o, true, &other, NULL, &e);
	nk_kx_load(d, false, &kx, NULL, &e);
	inet_pton(AF_INET, "10.99.0.3", &n.addr);
	inet_pton(AF_INET, "10.101.0.9", &p.addr);
	memcpy(n.kx_pub, kx.pk, NK_PUB_LEN);
	ASSERT_EQ(st_node_encode(&n, &id, json, sizeof(json), &e), 0, "node record made");
	printf("# %s\n", json);
	ASSERT_EQ(st_node_decode(json, strlen(json), id.pk, &got, &e), 0, "and verifies");
	ASSERT_TRUE(!memcmp(&got, &n, sizeof(n)), "every field comes back");
	ASSERT_EQ(st_node_decode(json, strlen(json), other.pk, &got, &e), -EBADMSG, "not under another identity");
	ASSERT_TRUE(tampered(json, "addr", "\"10.99.0.4\"", id.pk, false), "changed addr refused");
	ASSERT_TRUE(tampered(json, "epoch", "3", id.pk, false), "changed epoch refused");
	ASSERT_TRUE(tampered(json, "key_time", "1800000001", id.pk, false), "changed key_time refused");
	ASSERT_TRUE(tampered(json, "lease", "\"1\"", id.pk, false), "changed lease refused");
	ASSERT_TRUE(tampered(json, "id", "4", id.pk, false), "changed id refused");
	nk_hex(other.pk, NK_PUB_LEN, hex);
	sprintf(pj, "\"%s\"", hex);
	ASSERT_TRUE(tampered(json, "kx_pub", pj, id.pk, false), "changed kx_pub refused");
	nk_hex(id.sk, 64, hex);
	ASSERT_TRUE(!strstr(json, hex) && !strstr(json, hex + 64), "no identity secret in the record");
	nk_hex(kx.sk, 32, hex);
	ASSERT_TRUE(!strstr(json, hex), "no kx secret in the record");
	ASSERT_EQ(st_node_decode("{\"id\":3}", 8, NULL, &got, &e), -EINVAL, "a malformed record is EINVAL");
	ASSERT_EQ(st_part_encode(&p, &id, pj, sizeof(pj), &e), 0, "partition record made");
	printf("# %s\n", pj);
	ASSERT_EQ(st_part_decode(pj, strlen(pj), id.pk, &gotp, &e), 0, "and verifies");
	ASSERT_TRUE(!memcmp(&gotp, &p, sizeof(p)), "every field comes back");
	ASSERT_TRUE(tampered(pj, "isolated", "false", id.pk, true), "changed isolated refused");
	ASSERT_TRUE(tampered(pj, "node", "4", id.pk, true), "changed node refused");
	ASSERT_TRUE(tampered(pj, "name", "\"bob\"", id.pk, true), "changed name refused");
	strcpy(p.name, "a|b");
	ASSERT_EQ(st_part_encode(&p, &id, pj, sizeof(pj), &e), -EINVAL, "a name with '|' is refused");
	nk_identity_wipe(&id);
	nk_identity_wipe(&other);
	nk_kx_wipe(&kx);
	tap_end("records: signed over every field, verified under the right identity only");
}

/* json (with field set to repl, when field is given) decodes under pk, its caps
 * ignored: not nh, and said why. */
static bool caps_ignored(const char *json, const char *field, const char *repl, const uint8_t *pk)
{
	char buf[ST_RECORD_MAX], pat[64];
	const char *p, *end;
	struct st_node n;
	struct xc_err e = { 0 };
	int err;

	snprintf(buf, sizeof(buf), "%s", json);
	if (field) {
		snprintf(pat, sizeof(pat), "\"%s\":", field);
		if (!(p = strstr(json, pat)))
			return false;
		p += strlen(pat);
		end = strpbrk(p + 1, ",}");
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - json), json, repl, end);
	}
	err = st_node_decode(buf, strlen(buf), pk, &n, &e);
	if (err || n.nh || !n.caps_ignored || !e.msg[0])
		printf("#   %s: %d nh %d ignored %d %s\n", buf, err, n.nh, n.caps_ignored, e.msg);
	return !err && !n.nh && n.caps_ignored && e.msg[0];
}

/* json with its members in del removed, and with caps set to caps and signed by id
 * over what caps_sig signs (NULL: left as is), into out. */
static void caps_edit(const char *json, const char *del, const char *caps,
		      const struct st_node *n, const struct nk_identity *id, char *out, size_t len)
{
	struct json_object *o = json_tokener_parse(json);
	char canon[ST_RECORD_MAX + ST_CAPS_MAX], sig[NK_SIG_HEX];
	int c;

	for (const char *k = del; k && *k; k += strlen(k) + 1)
		json_object_object_del(o, k);
	if (caps) {
		c = st_node_canon(n, canon, sizeof(canon));
		c += snprintf(canon + c, sizeof(canon) - c, "|caps=%s", caps);
		nk_sign(id, canon, c, sig);
		json_object_object_add(o, "caps", json_object_new_string(caps));
		json_object_object_add(o, "caps_sig", json_object_new_string(sig));
	}
	snprintf(out, len, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* caps: signed apart from the fields an older agent verifies, so that it still
 * verifies the record; a list that is not signed is refused; names not known are
 * ignored; caps removed altogether look like a node from before them. */
static void t_records_caps(void)
{
	struct nk_identity id, other;
	struct st_node n = { .id = 5, .epoch = 7, .key_time = 1800000000, .lease = 42, .nh = true }, got;
	struct xc_err e = { 0 };
	char d[256], o[256], json[ST_RECORD_MAX], ed[ST_RECORD_MAX], canon[ST_RECORD_MAX];
	const char *sig;
	struct json_object *jo;
	int cl;

	tap_begin();
	nk_identity_load(dir_of("a", d), false, &id, NULL, &e);
	nk_identity_load(dir_of("o", o), false, &other, NULL, &e);
	inet_pton(AF_INET, "10.99.0.5", &n.addr);
	memset(n.kx_pub, 0x33, NK_PUB_LEN);
	ASSERT_EQ(st_node_encode(&n, &id, json, sizeof(json), &e), 0, "node record with caps made");
	printf("# %s\n", json);
	ASSERT_TRUE(strstr(json, "\"caps\":\"nh\"") != NULL, "caps says nh");
	ASSERT_EQ(st_node_decode(json, strlen(json), id.pk, &got, &e), 0, "and verifies");
	ASSERT_TRUE(got.nh && got.id == 5 && got.epoch == 7 && got.lease == 42, "nh comes back");
	/* what an agent from before caps checks: sig over the v1 canon, unchanged */
	jo = json_tokener_parse(json);
	sig = json_object_get_string(json_object_object_get(jo, "sig"));
	cl = st_node_canon(&n, canon, sizeof(canon));
	ASSERT_EQ(nk_verify(id.pk, canon, cl, sig), 0, "an older agent still verifies the record");
	json_object_put(jo);
	ASSERT_TRUE(tampered(json, "epoch", "8", id.pk, false), "the caps' signature does not make a changed field pass");
	/* a list that is not as signed: ignored, the record stands (as one without caps) */
	ASSERT_TRUE(caps_ignored(json, "caps", "\"nh,zz\"", id.pk), "a changed list is ignored");
	ASSERT_TRUE(caps_ignored(json, "caps", "\"\"", id.pk), "an emptied list is ignored");
	ASSERT_TRUE(caps_ignored(json, "caps", "\"nh\\u0000x\"", id.pk), "a list with a NUL is ignored");
	ASSERT_TRUE(caps_ignored(json, "caps", "7", id.pk), "a list that is no string is ignored");
	ASSERT_TRUE(caps_ignored(json, "caps_sig", "7", id.pk), "a caps_sig that is no string: ignored");
	caps_edit(json, "caps_sig\0", NULL, &n, &id, ed, sizeof(ed));
	ASSERT_TRUE(caps_ignored(ed, NULL, NULL, id.pk), "caps without caps_sig: ignored");
	caps_edit(json, NULL, "nh", &n, &other, ed, sizeof(ed));
	ASSERT_TRUE(caps_ignored(ed, NULL, NULL, id.pk), "caps signed by another identity: ignored");
	{	/* sig and caps_sig swapped */
		struct json_object *sw = json_tokener_parse(json);
		char a[NK_SIG_HEX], b[NK_SIG_HEX];

		snprintf(a, sizeof(a), "%s", json_object_get_string(json_object_object_get(sw, "sig")));
		snprintf(b, sizeof(b), "%s", json_object_get_string(json_object_object_get(sw, "caps_sig")));
		json_object_object_add(sw, "sig", json_object_new_string(b));
		json_object_object_add(sw, "caps_sig", json_object_new_string(a));
		snprintf(ed, sizeof(ed), "%s", json_object_to_json_string_ext(sw, JSON_C_TO_STRING_PLAIN));
		json_object_put(sw);
		ASSERT_EQ(st_node_decode(ed, strlen(ed), id.pk, &got, &e), -EBADMSG, "sig and caps_sig swapped: refused");
	}
	caps_edit(json, NULL, "zz,nh,q-1,new_cap", &n, &id, ed, sizeof(ed));
	ASSERT_EQ(st_node_decode(ed, strlen(ed), id.pk, &got, &e), 0, "names not known beside nh: verifies");
	ASSERT_TRUE(got.nh && !got.caps_ignored, "... and says nh");
	caps_edit(json, NULL, "nhx,n", &n, &id, ed, sizeof(ed));
	ASSERT_EQ(st_node_decode(ed, strlen(ed), id.pk, &got, &e), 0, "names not known only: verifies");
	ASSERT_TRUE(!got.nh && !got.caps_ignored, "... and does not say nh");
	{
		char longc[ST_CAPS_MAX + 8];

		memset(longc, 'a', sizeof(longc));
		memcpy(longc, "nh,", 3);
		longc[ST_CAPS_MAX - 1] = 0;	/* the longest list */
		caps_edit(json, NULL, longc, &n, &id, ed, sizeof(ed));
		ASSERT_EQ(st_node_decode(ed, strlen(ed), id.pk, &got, &e), 0, "the longest list verifies");
		ASSERT_TRUE(got.nh && !got.caps_ignored, "... and says nh");
		longc[ST_CAPS_MAX - 1] = 'a';
		longc[ST_CAPS_MAX] = 0;		/* one more */
		caps_edit(json, NULL, longc, &n, &id, ed, sizeof(ed));
		ASSERT_TRUE(caps_ignored(ed, NULL, NULL, id.pk), "one character more: ignored");
	}
	caps_edit(json, NULL, "NH", &n, &id, ed, sizeof(ed));
	ASSERT_TRUE(caps_ignored(ed, NULL, NULL, id.pk), "a list of other characters: ignored");
	caps_edit(json, "caps\0caps_sig\0", NULL, &n, &id, ed, sizeof(ed));
	ASSERT_EQ(st_node_decode(ed, strlen(ed), id.pk, &got, &e), 0, "caps removed altogether: verifies");
	ASSERT_TRUE(!got.nh, "... as a node from before them (SipHash-2-4 tags to it)");
	n.nh = false;
	ASSERT_EQ(st_node_encode(&n, &id, json, sizeof(json), &e), 0, "a record without nh");
	ASSERT_TRUE(!strstr(json, "caps"), "... has no caps");
	nk_identity_wipe(&id);
	nk_identity_wipe(&other);
	tap_end("records: caps signed apart, so older agents verify them; an unsigned or changed list refused");
}

/* cluster.json names the store this node trusts: not through a symlink, nor writable
 * by others. */
static void t_conf_trust(const char *d)
{
	struct st_conf c;
	struct xc_err e = { 0 };
	char p[512], q[512];

	snprintf(p, sizeof(p), "%s/%s", d, ST_CONF_FILE);
	snprintf(q, sizeof(q), "%s/other.json", d);
	chmod(p, 0620);
	ASSERT_EQ(st_conf_load(d, &c, &e), -EPERM, "a group-writable cluster.json is refused");
	ASSERT_TRUE(strstr(e.msg, "only its owner may write") != NULL, "saying why");
	chmod(p, 0600);
	rename(p, q);
	ASSERT_EQ(symlink(q, p), 0, "cluster.json as a symlink");
	ASSERT_EQ(st_conf_load(d, &c, &e), -ELOOP, "is not followed");
	unlink(p);
	rename(q, p);
	ASSERT_EQ(st_conf_load(d, &c, &e), 0, "the file put back loads");
}

static void t_fpr_conf(void)
{
	struct nk_identity a, o;
	struct st_conf c = { .url = "http://10.0.0.1:2379", .prefix = "/xchan/v1", .node = 3,
			     .lease = 7668682518410470672LL }, c2;
	struct xc_err e = { 0 };
	char d[256], fa[NK_FPR_LEN], fo[NK_FPR_LEN];

	tap_begin();
	nk_identity_load(dir_of("a", d), false, &a, NULL, &e);
	nk_identity_load(dir_of("o", d), false, &o, NULL, &e);
	nk_fingerprint(a.pk, fa);
	nk_fingerprint(o.pk, fo);
	ASSERT_TRUE(strlen(fa) == 16 && strspn(fa, "0123456789abcdef") == 16, "fingerprint: 16 hex digits (64 bits)");
	ASSERT_TRUE(strcmp(fa, fo), "two identities, two fingerprints");
	inet_pton(AF_INET, "10.99.0.3", &c.addr);
	ASSERT_EQ(st_conf_load(dir_of("b", d), &c2, &e), -ENOENT, "no cluster.json: ENOENT");
	ASSERT_EQ(st_conf_save(d, &c, &e), 0, "cluster.json written");
	ASSERT_EQ(mode_of(d, ST_CONF_FILE), 0600, "cluster.json mode");
	ASSERT_EQ(st_conf_load(d, &c2, &e), 0, "and read");
	ASSERT_TRUE(!memcmp(&c, &c2, sizeof(c)), "the same settings");
	t_conf_trust(d);
	nk_identity_wipe(&a);
	nk_identity_wipe(&o);
	tap_end("fingerprints, cluster.json");
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	t_identity();
	t_kx();
	t_pair();
	t_records();
	t_records_caps();
	t_fpr_conf();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		printf("# could not remove %s\n", root);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
