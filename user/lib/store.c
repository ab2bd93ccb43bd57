// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* store.c: the cluster store's records: key names, canonical strings and signatures
 * of nodes/ and parts/, the JSON they travel as, ids/ registration and cluster.json. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "store.h"

const char *st_key_id(char *buf, size_t len, uint32_t node)
{
	snprintf(buf, len, ST_IDS "%u", node);
	return buf;
}

const char *st_key_node(char *buf, size_t len, uint32_t node)
{
	snprintf(buf, len, ST_NODES "%u", node);
	return buf;
}

const char *st_key_part(char *buf, size_t len, uint32_t part)
{
	snprintf(buf, len, ST_PARTS "%u", part);
	return buf;
}

int st_key_num(const char *key, const char *prefix, uint32_t *out)
{
	size_t n = strlen(prefix);

	if (strncmp(key, prefix, n) || xc_parse_u32(key + n, out) || !*out)
		return -EINVAL;
	return 0;
}

int st_node_canon(const struct st_node *n, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN], pub[NK_PUB_HEX];
	int r;

	nk_hex(n->kx_pub, NK_PUB_LEN, pub);
	r = snprintf(buf, len, "xchan-node-v1|%u|%s|%s|%u|%" PRIu64 "|%" PRId64, n->id,
		     xc_ip_str(n->addr, ip), pub, n->epoch, n->key_time, n->lease);
	return r < 0 || (size_t)r >= len ? -ENOSPC : r;
}

/* The string caps_sig signs: the record's canon, then "|caps=" and the list. */
static int caps_canon(const struct st_node *n, const char *caps, char *buf, size_t len)
{
	int c = st_node_canon(n, buf, len), r;

	if (c < 0)
		return c;
	r = snprintf(buf + c, len - c, "|caps=%s", caps);
	return r < 0 || (size_t)r >= len - c ? -ENOSPC : c + r;
}

/* Whether the comma-separated list caps names cap. */
static bool caps_has(const char *caps, const char *cap)
{
	size_t n = strlen(cap);

	for (const char *p = caps; *p; p += strcspn(p, ","), p += *p == ',')
		if (!strncmp(p, cap, n) && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

static bool name_ok(const char *s)
{
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

int st_part_canon(const struct st_part *p, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];
	int r;

	if (!name_ok(p->name))
		return -EINVAL;	/* a '|' would make two records sign alike */
	r = snprintf(buf, len, "xchan-part-v1|%u|%s|%u|%s|%d", p->id, p->name, p->node,
		     xc_ip_str(p->addr, ip), p->isolated);
	return r < 0 || (size_t)r >= len ? -ENOSPC : r;
}

/* Signs canon into o's "sig" and writes o as JSON into buf; consumes o. */
static int finish(struct json_object *o, const struct nk_identity *id, const char *canon,
		  int clen, char *buf, size_t len, struct xc_err *e)
{
	char sig[NK_SIG_HEX];
	const char *s;
	int err = 0;

	nk_sign(id, canon, clen, sig);
	json_object_object_add(o, "sig", json_object_new_string(sig));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s || strlen(s) >= len)
		err = xc_fail(e, -ENOSPC, "store record too long");
	else
		strcpy(buf, s);
	json_object_put(o);
	return err;
}

int st_node_encode(const struct st_node *n, const struct nk_identity *id, char *buf,
		   size_t len, struct xc_err *e)
{
	char canon[ST_RECORD_MAX], ip[INET_ADDRSTRLEN], pub[NK_PUB_HEX], lease[24];
	struct json_object *o = json_object_new_object();
	int clen = st_node_canon(n, canon, sizeof(canon));

	if (!o || clen < 0) {
		json_object_put(o);
		return xc_fail(e, -ENOMEM, "cannot make the node record");
	}
	nk_hex(n->kx_pub, NK_PUB_LEN, pub);
	json_object_object_add(o, "id", json_object_new_int64(n->id));
	json_object_object_add(o, "addr", json_object_new_string(xc_ip_str(n->addr, ip)));
	json_object_object_add(o, "kx_pub", json_object_new_string(pub));
	json_object_object_add(o, "epoch", json_object_new_int64(n->epoch));
	json_object_object_add(o, "key_time", json_object_new_int64(n->key_time));
	/* a string: lease ids use all 63 bits, more than a double carries */
	snprintf(lease, sizeof(lease), "%" PRId64, n->lease);
	json_object_object_add(o, "lease", json_object_new_string(lease));
	if (n->nh) {
		char ccanon[ST_RECORD_MAX + ST_CAPS_MAX], sig[NK_SIG_HEX];
		int cl = caps_canon(n, "nh", ccanon, sizeof(ccanon));

		if (cl < 0) {
			json_object_put(o);
			return xc_fail(e, -ENOMEM, "cannot make the node record");
		}
		nk_sign(id, ccanon, cl, sig);
		json_object_object_add(o, "caps", json_object_new_string("nh"));
		json_object_object_add(o, "caps_sig", json_object_new_string(sig));
	}
	return finish(o, id, canon, clen, buf, len, e);
}

int st_part_encode(const struct st_part *p, const struct nk_identity *id, char *buf,
		   size_t len, struct xc_err *e)
{
	char canon[ST_RECORD_MAX], ip[INET_ADDRSTRLEN];
	struct json_object *o = json_object_new_object();
	int clen = st_part_canon(p, canon, sizeof(canon));

	if (!o || clen < 0) {
		json_object_put(o);
		return clen == -EINVAL ? xc_bad(e, "partition name '%s' is not [A-Za-z0-9._-]", p->name) :
		       xc_fail(e, -ENOMEM, "cannot make the partition record");
	}
	json_object_object_add(o, "id", json_object_new_int64(p->id));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "node", json_object_new_int64(p->node));
	json_object_object_add(o, "addr", json_object_new_string(xc_ip_str(p->addr, ip)));
	json_object_object_add(o, "isolated", json_object_new_boolean(p->isolated));
	return finish(o, id, canon, clen, buf, len, e);
}

/* Field helpers for decoding: each fails on a missing or mistyped member. */
static int get_u32(struct json_object *o, const char *k, uint32_t *v)
{
	struct json_object *m;
	int64_t x;

	if (!json_object_object_get_ex(o, k, &m) || !json_object_is_type(m, json_type_int))
		return -EINVAL;
	x = json_object_get_int64(m);
	if (x < 0 || x > UINT32_MAX)
		return -EINVAL;
	*v = x;
	return 0;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *m;

	if (!json_object_object_get_ex(o, k, &m) || !json_object_is_type(m, json_type_string))
		return NULL;
	return json_object_get_string(m);
}

static int get_ip(struct json_object *o, const char *k, uint32_t *ip)
{
	const char *s = get_str(o, k);

	return s && inet_pton(AF_INET, s, ip) == 1 ? 0 : -EINVAL;
}

static struct json_object *parse(const char *json, size_t len)
{
	struct json_tokener *t = json_tokener_new();
	struct json_object *o;

	if (!t)
		return NULL;
	o = json_tokener_parse_ex(t, json, len);
	if (o && (json_tokener_get_error(t) != json_tokener_success ||
		  json_tokener_get_parse_end(t) != len || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(t);
	return o;
}

/* sig of o must verify over canon under pk (when pk is given). */
static int check_sig(struct json_object *o, const uint8_t *pk, const char *canon, int clen,
		     const char *what, struct xc_err *e)
{
	if (pk && nk_verify(pk, canon, clen, get_str(o, "sig")))
		return xc_fail(e, -EBADMSG, "%s: signature does not verify under its node's identity", what);
	return 0;
}

static int node_fields(struct json_object *o, struct st_node *n)
{
	const char *pub = get_str(o, "kx_pub"), *lease = get_str(o, "lease");
	struct json_object *t;
	char *end;

	memset(n, 0, sizeof(*n));
	if (get_u32(o, "id", &n->id) || !n->id || get_ip(o, "addr", &n->addr) ||
	    get_u32(o, "epoch", &n->epoch) || !json_object_object_get_ex(o, "key_time", &t) ||
	    !json_object_is_type(t, json_type_int) || json_object_get_int64(t) < 0 || !pub ||
	    !lease || nk_unhex(pub, n->kx_pub, NK_PUB_LEN))
		return -EINVAL;
	n->key_time = json_object_get_int64(t);
	errno = 0;
	n->lease = strtoll(lease, &end, 10);
	return errno || *end || end == lease ? -EINVAL : 0;
}

/* "caps" and "caps_sig", if there: n->nh if the list names "nh" and is signed. A
 * list that is malformed or not signed is ignored, not the record: that is what
 * removing it would do, and a later version's list must not make this one take the
 * node for down (caps_ignored, e says why). */
static void node_caps(struct json_object *o, const uint8_t *pk, struct st_node *n,
		      struct xc_err *e)
{
	char ccanon[ST_RECORD_MAX + ST_CAPS_MAX];
	struct json_object *m;
	const char *caps;
	int cl;

	if (!json_object_object_get_ex(o, "caps", &m))
		return;		/* a node from before them */
	caps = get_str(o, "caps");
	n->caps_ignored = true;
	if (!caps || strlen(caps) != (size_t)json_object_get_string_len(m) ||
	    strlen(caps) >= ST_CAPS_MAX || !get_str(o, "caps_sig")) {
		xc_fail(e, -EINVAL, "its caps are malformed or unsigned: ignored");
		return;
	}
	for (const char *p = caps; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == ',' ||
		      *p == '-' || *p == '_')) {
			xc_fail(e, -EINVAL, "its caps are malformed: ignored");
			return;
		}
	cl = caps_canon(n, caps, ccanon, sizeof(ccanon));
	if (cl < 0) {
		xc_fail(e, -EINVAL, "its caps are malformed: ignored");
		return;
	}
	if (pk && nk_verify(pk, ccanon, cl, get_str(o, "caps_sig"))) {
		xc_fail(e, -EBADMSG, "the signature of its caps does not verify under its node's identity: ignored");
		return;
	}
	n->caps_ignored = false;
	n->nh = caps_has(caps, "nh");
}

int st_node_decode(const char *json, size_t len, const uint8_t *pk, struct st_node *n,
		   struct xc_err *e)
{
	char canon[ST_RECORD_MAX];
	struct json_object *o = len < ST_RECORD_MAX ? parse(json, len) : NULL;
	int clen, err;

	if (!o || node_fields(o, n)) {
		json_object_put(o);
		return xc_fail(e, -EINVAL, "malformed node record");
	}
	clen = st_node_canon(n, canon, sizeof(canon));
	err = clen < 0 ? xc_fail(e, -EINVAL, "malformed node record") :
	      check_sig(o, pk, canon, clen, "node record", e);
	if (!err)
		node_caps(o, pk, n, e);
	json_object_put(o);
	return err;
}

int st_part_decode(const char *json, size_t len, const uint8_t *pk, struct st_part *p,
		   struct xc_err *e)
{
	char canon[ST_RECORD_MAX];
	struct json_object *o = len < ST_RECORD_MAX ? parse(json, len) : NULL, *iso;
	const char *name = o ? get_str(o, "name") : NULL;
	int clen = -EINVAL, err;

	memset(p, 0, sizeof(*p));
	if (o && name && strlen(name) < sizeof(p->name) && !get_u32(o, "id", &p->id) && p->id &&
	    !get_u32(o, "node", &p->node) && p->node && !get_ip(o, "addr", &p->addr) &&
	    json_object_object_get_ex(o, "isolated", &iso) &&
	    json_object_is_type(iso, json_type_boolean)) {
		strcpy(p->name, name);
		p->isolated = json_object_get_boolean(iso);
		clen = st_part_canon(p, canon, sizeof(canon));
	}
	err = clen < 0 ? xc_fail(e, -EINVAL, "malformed partition record") :
	      check_sig(o, pk, canon, clen, "partition record", e);
	json_object_put(o);
	return err;
}

int st_id_get(struct etcd *d, uint32_t node, uint8_t pk[NK_PUB_LEN], struct xc_err *e)
{
	struct etcd_kv kv;
	char key[32];
	int err = etcd_get(d, st_key_id(key, sizeof(key), node), &kv, e);

	if (err == -ENOENT)
		return xc_fail(e, -ENOENT, "node id %u is not registered", node);
	if (err)
		return err;
	err = nk_unhex(kv.value, pk, NK_PUB_LEN);
	etcd_kv_free(&kv);
	return err ? xc_fail(e, -EINVAL, "%s/%s holds no identity key", etcd_prefix(d), key) : 0;
}

int st_id_register(struct etcd *d, uint32_t node, const uint8_t pk[NK_PUB_LEN],
		   struct xc_err *e)
{
	uint8_t there[NK_PUB_LEN];
	char key[32], hex[NK_PUB_HEX], fpr[NK_FPR_LEN];
	struct etcd_kv kv;
	int err;

	nk_hex(pk, NK_PUB_LEN, hex);
	err = etcd_create(d, st_key_id(key, sizeof(key), node), hex, strlen(hex), 0, &kv, e);
	if (err != -EEXIST)
		return err;
	err = kv.value && !nk_unhex(kv.value, there, NK_PUB_LEN) ? 0 : -EINVAL;
	etcd_kv_free(&kv);
	if (!err && !memcmp(there, pk, NK_PUB_LEN))
		return 0;	/* this identity registered it before: join again */
	if (err)
		return xc_fail(e, -EEXIST, "node id %u is registered to something that is no identity key (%s/%s); remove it or choose another id",
			       node, etcd_prefix(d), key);
	nk_fingerprint(there, fpr);
	return xc_fail(e, -EEXIST, "node id %u is registered to another identity (fingerprint %s); choose another id, or remove %s/%s if that node is gone for good",
		       node, fpr, etcd_prefix(d), key);
}

/* cluster.json's text (at most 4 KiB), read only if nobody but root or us could have
 * written it: not through a symlink, a regular file, owned by root or the euid, not
 * group or other writable (it names the store and the lease this node trusts).
 * O_NONBLOCK: a FIFO there is refused below, not waited on. */
static int conf_read(const char *path, char *buf, size_t len, struct xc_err *e)
{
	struct stat st;
	ssize_t n;
	int err, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return errno == ENOENT ? -ENOENT :
		       xc_fail(e, -errno, "cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return xc_fail(e, err, "cannot stat %s: %s", path, strerror(-err));
	}
	if (!S_ISREG(st.st_mode) || (st.st_uid && st.st_uid != geteuid()) || (st.st_mode & 022)) {
		close(fd);
		return xc_fail(e, -EPERM, "%s is not a file of root or uid %u that only its owner may write (mode %03o, owner %u)",
			       path, geteuid(), st.st_mode & 0777, st.st_uid);
	}
	n = read(fd, buf, len - 1);
	err = -errno;
	close(fd);
	if (n < 0)
		return xc_fail(e, err, "cannot read %s: %s", path, strerror(-err));
	if ((size_t)n == len - 1)
		return xc_fail(e, -EINVAL, "%s is longer than %zu bytes: run xchan cluster join again",
			       path, len - 1);
	buf[n] = 0;
	return 0;
}

int st_conf_load(const char *dir, struct st_conf *c, struct xc_err *e)
{
	char path[512], text[4096];
	struct json_object *o;
	const char *url, *prefix, *lease;
	int err;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/" ST_CONF_FILE, dir);
	err = conf_read(path, text, sizeof(text), e);
	if (err)
		return err;
	o = json_tokener_parse(text);
	url = o ? get_str(o, "etcd") : NULL;
	prefix = o ? get_str(o, "prefix") : NULL;
	lease = o ? get_str(o, "lease") : NULL;
	if (!url || !prefix || !lease || strlen(url) >= sizeof(c->url) ||
	    strlen(prefix) >= sizeof(c->prefix) || get_u32(o, "node", &c->node) || !c->node ||
	    get_ip(o, "addr", &c->addr)) {
		json_object_put(o);
		return xc_fail(e, -EINVAL, "%s is malformed: run xchan cluster join again", path);
	}
	strcpy(c->url, url);
	strcpy(c->prefix, prefix);
	c->lease = strtoll(lease, NULL, 10);
	json_object_put(o);
	return 0;
}

int st_conf_save(const char *dir, const struct st_conf *c, struct xc_err *e)
{
	char path[512], tmp[520], ip[INET_ADDRSTRLEN], lease[24];
	struct json_object *o = json_object_new_object();
	const char *s;
	int fd, err = 0;

	if (!o)
		return xc_fail(e, -ENOMEM, "cannot write cluster.json");
	snprintf(lease, sizeof(lease), "%" PRId64, c->lease);
	json_object_object_add(o, "etcd", json_object_new_string(c->url));
	json_object_object_add(o, "prefix", json_object_new_string(c->prefix));
	json_object_object_add(o, "node", json_object_new_int64(c->node));
	json_object_object_add(o, "addr", json_object_new_string(xc_ip_str(c->addr, ip)));
	json_object_object_add(o, "lease", json_object_new_string(lease));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(path, sizeof(path), "%s/" ST_CONF_FILE, dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s) || write(fd, "\n", 1) != 1 ||
	    fsync(fd) || rename(tmp, path))
		err = -(errno ? errno : EIO);
	if (fd >= 0)
		close(fd);
	json_object_put(o);
	if (err) {
		unlink(tmp);
		return xc_fail(e, err, "cannot write %s: %s", path, strerror(-err));
	}
	/* the rename is durable only once the directory is */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}
