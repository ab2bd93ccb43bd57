// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_pin.c: what this agent accepted once, kept in its state directory so that a
 * later store (anyone who can write etcd) cannot change it: each node's identity
 * (known/<node>, first sight, with the newest key epoch its records had), each
 * partition's node (bound/<part>) and the node each partition address belongs to
 * (addrs/<a.b.c.d>). A change is refused and logged once until an operator runs
 * `xchan cluster forget`. Also the strict parse of numbers in store keys (one
 * spelling per number). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
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

static struct pin *pin_get(struct cluster *c, enum pin_kind kind, uint32_t id)
{
	struct pin *p;

	for (size_t i = 0; i < c->npins; i++)
		if (c->pins[i].id == id && c->pins[i].kind == kind)
			return &c->pins[i];
	p = xc_grow((void **)&c->pins, &c->npins, &c->cappins, sizeof(*p));
	if (p)
		*p = (struct pin){ .id = id, .kind = kind };
	return p;
}

static const char *pin_dir(enum pin_kind kind)
{
	return kind == PIN_IDENT ? ST_PIN_IDS : kind == PIN_PART ? ST_PIN_PARTS : ST_PIN_ADDRS;
}

static void pin_path(struct cluster *c, const struct pin *p, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];

	if (p->kind == PIN_ADDR)
		snprintf(buf, len, "%s/%s/%s", c->state_dir, pin_dir(p->kind),
			 inet_ntop(AF_INET, &p->id, a, sizeof(a)));
	else
		snprintf(buf, len, "%s/%s/%u", c->state_dir, pin_dir(p->kind), p->id);
}

/* The pin's file into p (once per round: `cluster forget` takes effect at the next).
 * An identity's second line is the newest key epoch seen (absent in pins written
 * before it was kept, which read it as 0; an agent from then reads the first line
 * only), so that a record replayed after a restart cannot bring a retired key back. */
static void pin_load(struct cluster *c, struct pin *p)
{
	char path[320], buf[80] = "", ep[16] = "";
	uint32_t epoch = 0;
	FILE *f;
	bool had = p->has;

	p->loaded = true;
	p->has = false;
	pin_path(c, p, path, sizeof(path));
	if (!(f = fopen(path, "r")))
		goto out;
	if (fgets(buf, sizeof(buf), f))
		buf[strcspn(buf, "\n")] = 0;
	if (p->kind != PIN_PART && fgets(ep, sizeof(ep), f))
		ep[strcspn(ep, "\n")] = 0;
	fclose(f);
	if (p->kind == PIN_IDENT)
		p->has = !nk_unhex(buf, p->pk, NK_PUB_LEN) &&
			 (!ep[0] || !strcmp(ep, "0") || !cl_num(ep, strlen(ep), UINT32_MAX, &epoch));
	else
		p->has = !cl_num(buf, strlen(buf), UINT32_MAX, &p->node);
	/* an address's partition (none in a pin from before it was kept) */
	if (p->kind == PIN_ADDR && (!ep[0] || cl_num(ep, strlen(ep), UINT32_MAX, &p->part)))
		p->part = 0;
	if (!p->has)
		agent_log(LOG_WARN, "cluster: %s is malformed: treated as absent", path);
	else if (epoch > p->max_epoch)
		p->max_epoch = epoch;
out:
	if (had && !p->has)
		p->max_epoch = 0;	/* forgotten: a reinstalled node starts anew */
}

/* Atomic: a temporary file, fsync, rename; mode 0600. */
static int pin_write(struct cluster *c, struct pin *p)
{
	char dir[300], path[320], tmp[330], buf[96];
	int fd, len, err = 0;

	snprintf(dir, sizeof(dir), "%s/%s", c->state_dir, pin_dir(p->kind));
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	pin_path(c, p, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (p->kind == PIN_ADDR) {
		len = snprintf(buf, sizeof(buf), "%u\n%u\n", p->node, p->part);
	} else if (p->kind == PIN_PART) {
		len = snprintf(buf, sizeof(buf), "%u\n", p->node);
	} else {
		nk_hex(p->pk, NK_PUB_LEN, buf);
		len = (int)strlen(buf);
		len += snprintf(buf + len, sizeof(buf) - (size_t)len, "\n%u\n", p->max_epoch);
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
	struct pin *p = pin_get(c, PIN_IDENT, id);
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

static int pin_node(struct cluster *c, enum pin_kind kind, uint32_t id, uint32_t node,
		    uint32_t part, bool write)
{
	struct pin *p = pin_get(c, kind, id);
	char a[INET_ADDRSTRLEN];

	if (!p)
		return -ENOMEM;
	if (!p->loaded)
		pin_load(c, p);
	if (p->has && p->node != node)
		return -EPERM;
	/* an address another partition of the same node holds now: said so */
	if (!write || (p->has && (kind != PIN_ADDR || p->part == part)))
		return 0;
	p->node = node;
	p->part = part;
	p->has = true;
	if (pin_write(c, p)) {
		if (kind == PIN_PART)
			agent_log(LOG_WARN, "cluster: cannot pin partition %u to node %u in %s", id,
				  node, c->state_dir);
		else
			agent_log(LOG_WARN, "cluster: cannot pin address %s to node %u in %s",
				  inet_ntop(AF_INET, &id, a, sizeof(a)), node, c->state_dir);
	}
	return 0;
}

static uint32_t pin_node_of(struct cluster *c, enum pin_kind kind, uint32_t id)
{
	struct pin *p = pin_get(c, kind, id);

	if (!p)
		return 0;
	if (!p->loaded)
		pin_load(c, p);
	return p->has ? p->node : 0;
}

int pin_part(struct cluster *c, uint32_t part, uint32_t node, bool write)
{
	return pin_node(c, PIN_PART, part, node, 0, write);
}

/* The bound node of part, 0 if none. */
uint32_t pin_part_node(struct cluster *c, uint32_t part)
{
	return pin_node_of(c, PIN_PART, part);
}

/* Addresses are bound to nodes, not to partitions: a node's partitions come and go
 * and reuse its addresses (CNI's IPAM does), but another node's record naming one
 * would take it over here while its own partition is away (its node down, say). */
int pin_addr(struct cluster *c, uint32_t addr, uint32_t node, uint32_t part, bool write)
{
	return pin_node(c, PIN_ADDR, addr, node, part, write);
}

uint32_t pin_addr_node(struct cluster *c, uint32_t addr)
{
	return pin_node_of(c, PIN_ADDR, addr);
}

/* Whether this agent accepted node id's identity once (its pin is there). */
bool pin_ident_has(struct cluster *c, uint32_t id)
{
	struct pin *p = pin_get(c, PIN_IDENT, id);

	if (p && !p->loaded)
		pin_load(c, p);
	return p && p->has;
}

/* L2: a node's records never go back to an older key epoch. */
int pin_epoch(struct cluster *c, uint32_t id, uint32_t epoch)
{
	struct pin *p = pin_get(c, PIN_IDENT, id);

	if (!p)
		return -ENOMEM;
	if (!p->loaded)
		pin_load(c, p);
	if (epoch < p->max_epoch)
		return -ESTALE;
	if (epoch == p->max_epoch)
		return 0;
	p->max_epoch = epoch;
	/* kept across restarts; an agent that cannot write it keeps it for this run */
	if (p->has && pin_write(c, p))
		agent_log(LOG_WARN, "cluster: cannot keep node %u's key epoch in %s", id,
			  c->state_dir);
	return 0;
}

void pins_round(struct cluster *c)
{
	for (size_t i = 0; i < c->npins; i++)
		c->pins[i].loaded = false;
	c->host_read = false;
}
