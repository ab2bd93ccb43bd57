// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_pin.c: what this agent accepted once, kept in its state directory so that a
 * later store (anyone who can write etcd) cannot change it: each node's identity
 * (known/<node>, first sight) and each partition's node (bound/<part>). A change is
 * refused and logged once until an operator runs `xchan cluster forget`. Also the
 * strict parse of numbers in store keys (one spelling per number). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "agent.h"
#include "xc_int.h"
#include "cluster.h"
#include "store.h"

/* Digits only, no leading zero, fits u32 (and max); 0 refused. */
int cl_num(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!len || len > 10 || (s[0] == '0' && len > 1))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (!v || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int cl_key_num(struct cluster *c, const char *key, const char *prefix, uint32_t *out)
{
	size_t n = strlen(prefix);

	if (!strncmp(key, prefix, n) && !cl_num(key + n, strlen(key + n), UINT32_MAX, out))
		return 0;
	if (!strncmp(key, prefix, n))
		bad_sig_once(c, key, "not a canonical key (digits only, no leading zero, a 32-bit id)");
	return -EINVAL;
}

static struct pin *pin_get(struct cluster *c, bool part, uint32_t id)
{
	struct pin *p;

	for (size_t i = 0; i < c->npins; i++)
		if (c->pins[i].id == id && c->pins[i].part == part)
			return &c->pins[i];
	p = xc_grow((void **)&c->pins, &c->npins, &c->cappins, sizeof(*p));
	if (p)
		*p = (struct pin){ .id = id, .part = part };
	return p;
}

static void pin_path(struct cluster *c, bool part, uint32_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%u", c->state_dir, part ? ST_PIN_PARTS : ST_PIN_IDS, id);
}

/* The pin's file into p (once per round: `cluster forget` takes effect at the next). */
static void pin_load(struct cluster *c, struct pin *p)
{
	char path[320], buf[80] = "";
	FILE *f;
	bool had = p->has;

	p->loaded = true;
	p->has = false;
	pin_path(c, p->part, p->id, path, sizeof(path));
	if (!(f = fopen(path, "r")))
		goto out;
	if (fgets(buf, sizeof(buf), f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
	if (p->part)
		p->has = !cl_num(buf, strlen(buf), UINT32_MAX, &p->node);
	else
		p->has = !nk_unhex(buf, p->pk, NK_PUB_LEN);
	if (!p->has)
		agent_log(LOG_WARN, "cluster: %s is malformed: treated as absent", path);
out:
	if (had && !p->has)
		p->max_epoch = 0;	/* forgotten: a reinstalled node starts anew */
}

/* Atomic: a temporary file, fsync, rename; mode 0600. */
static int pin_write(struct cluster *c, struct pin *p)
{
	char dir[300], path[320], tmp[330], buf[80];
	int fd, len, err = 0;

	snprintf(dir, sizeof(dir), "%s/%s", c->state_dir, p->part ? ST_PIN_PARTS : ST_PIN_IDS);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	pin_path(c, p->part, p->id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (p->part)
		len = snprintf(buf, sizeof(buf), "%u\n", p->node);
	else {
		nk_hex(p->pk, NK_PUB_LEN, buf);
		len = (int)strlen(buf);
		buf[len++] = '\n';
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)len) != len || fsync(fd))
		err = -errno ?: -EIO;
	close(fd);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* A refusal, logged when its reason for that key changes (not at every round). */
void refuse_once(struct cluster *c, const char *what, const char *msg)
{
	struct refusal *r = NULL;

	for (size_t i = 0; i < c->nrefused && !r; i++)
		if (!strcmp(c->refused[i].what, what))
			r = &c->refused[i];
	if (r && !strcmp(r->msg, msg))
		return;
	agent_log(LOG_WARN, "cluster: %s refused: %s", what, msg);
	if (!r && !(r = xc_grow((void **)&c->refused, &c->nrefused, &c->caprefused, sizeof(*r))))
		return;
	snprintf(r->what, sizeof(r->what), "%s", what);
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

void refuse_clear(struct cluster *c, const char *what)
{
	for (size_t i = 0; i < c->nrefused; i++)
		if (!strcmp(c->refused[i].what, what)) {
			c->refused[i] = c->refused[--c->nrefused];
			return;
		}
}

int pin_ident(struct cluster *c, uint32_t id, uint8_t pk[NK_PUB_LEN])
{
	struct pin *p = pin_get(c, false, id);
	char key[64], msg[200], a[NK_PUB_HEX], b[NK_PUB_HEX];

	if (!p)
		return -ENOMEM;
	if (!p->loaded)
		pin_load(c, p);
	snprintf(key, sizeof(key), "%s%u", ST_IDS, id);
	if (!p->has) {
		memcpy(p->pk, pk, NK_PUB_LEN);
		p->has = true;
		if (pin_write(c, p))
			agent_log(LOG_WARN, "cluster: cannot pin node %u's identity in %s", id,
				  c->state_dir);
		else
			agent_log(LOG_INFO, "cluster: node %u's identity pinned", id);
		return 0;
	}
	if (!memcmp(p->pk, pk, NK_PUB_LEN)) {
		refuse_clear(c, key);
		return 0;
	}
	/* fingerprints (8 hex digits of public keys) only */
	nk_hex(p->pk, NK_PUB_LEN, a);
	nk_hex(pk, NK_PUB_LEN, b);
	snprintf(msg, sizeof(msg), "node %u is pinned here to identity %.8s, the store names %.8s (xchan cluster forget --node %u if it was reinstalled)",
		 id, a, b, id);
	refuse_once(c, key, msg);
	memcpy(pk, p->pk, NK_PUB_LEN);	/* records verify under the pinned one */
	return 0;
}

int pin_part(struct cluster *c, uint32_t part, uint32_t node, bool write)
{
	struct pin *p = pin_get(c, true, part);

	if (!p)
		return -ENOMEM;
	if (!p->loaded)
		pin_load(c, p);
	if (p->has && p->node != node)
		return -EPERM;
	if (p->has || !write)
		return 0;
	p->node = node;
	p->has = true;
	if (pin_write(c, p))
		agent_log(LOG_WARN, "cluster: cannot pin partition %u to node %u in %s", part, node,
			  c->state_dir);
	return 0;
}

/* The bound node of part, 0 if none. */
uint32_t pin_part_node(struct cluster *c, uint32_t part)
{
	struct pin *p = pin_get(c, true, part);

	if (!p)
		return 0;
	if (!p->loaded)
		pin_load(c, p);
	return p->has ? p->node : 0;
}

/* Whether this agent accepted node id's identity once (its pin is there). */
bool pin_ident_has(struct cluster *c, uint32_t id)
{
	struct pin *p = pin_get(c, false, id);

	if (p && !p->loaded)
		pin_load(c, p);
	return p && p->has;
}

/* L2: a node's records never go back to an older key epoch. */
int pin_epoch(struct cluster *c, uint32_t id, uint32_t epoch)
{
	struct pin *p = pin_get(c, false, id);

	if (!p)
		return -ENOMEM;
	if (epoch < p->max_epoch)
		return -ESTALE;
	p->max_epoch = epoch;
	return 0;
}

void pins_round(struct cluster *c)
{
	for (size_t i = 0; i < c->npins; i++)
		c->pins[i].loaded = false;
	c->host_read = false;
}
