// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* instance.c: the library's handle on an instance (open, create, take down), its
 * errors, the one map walk, and looking partitions and endpoints up by name. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "xc_int.h"

int xc_fail(struct xc_err *e, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->usage = false;
	return err < 0 ? err : -EINVAL;
}

int xc_bad(struct xc_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->usage = true;
	return -EINVAL;
}

void xc_init(struct xc *x, const char *pin_root, const struct cmm_sizes *sizes)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->pin_root, sizeof(x->pin_root), "%s", pin_root ? pin_root : CMM_DEFAULT_ROOT);
	if (sizes)
		x->sizes = *sizes;
}

bool xc_exists(const struct xc *x)
{
	return cmm_exists(x->pin_root);
}

/* The default pin root's bpffs is mounted for the operator when missing. */
static int ensure_bpffs(const char *root, struct xc_err *e)
{
	struct statfs sfs;

	if (strncmp(root, "/sys/fs/bpf/", 12))
		return 0;
	if (!statfs("/sys/fs/bpf", &sfs) && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return xc_fail(e, -errno, "cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
	return 0;
}

int xc_open(struct xc *x, bool create, struct xc_err *e)
{
	char why[256] = "";
	int err;

	if (x->opened)
		return 0;
	err = cmm_check_root(x->pin_root, e->msg, sizeof(e->msg));
	if (err) {
		e->usage = false;
		return err;
	}
	if (create && (err = ensure_bpffs(x->pin_root, e)))
		return err;
	if (!create && !cmm_exists(x->pin_root))
		return xc_fail(e, -ENOENT, "no xchan instance at %s (nothing registered yet)",
			       x->pin_root);
	err = cmm_open(&x->cmm, x->pin_root, create, &x->sizes, why, sizeof(why));
	/* the pin root changed since it was checked above: it is what made it fail */
	if (err && why[0])
		return xc_fail(e, err, "%s", why);
	if (err == -ENOENT && !create)
		return xc_fail(e, err, "xchan instance at %s is incomplete: run 'xchan down' and start again",
			       x->pin_root);
	if (err == -EUCLEAN)
		return xc_fail(e, err, "xchan instance at %s was made by another xchan version, or holds "
			       "pins of several (or some were removed by hand): run 'xchan down' and start again",
			       x->pin_root);
	if (err)
		return xc_fail(e, err, "cannot %s xchan instance at %s: %s", create ? "create" : "open",
			       x->pin_root, strerror(-err));
	x->opened = true;
	return 0;
}

int xc_open_private(struct xc *x, const struct cmm_sizes *sizes, struct xc_err *e)
{
	int err;

	if (x->opened)
		return xc_fail(e, -EBUSY, "this handle has an instance open already");
	x->pin_root[0] = '\0';
	err = cmm_open(&x->cmm, NULL, true, sizes ? sizes : &x->sizes, NULL, 0);
	if (err)
		return xc_fail(e, err, "cannot load a private xchan instance: %s", strerror(-err));
	x->opened = true;
	return 0;
}

void xc_close(struct xc *x)
{
	if (x->opened)
		cmm_close(&x->cmm);
	x->opened = false;
}

int xc_parse_u32(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

const char *xc_ip_str(uint32_t be, char *buf)
{
	return inet_ntop(AF_INET, &be, buf, INET_ADDRSTRLEN);
}

int xc_map_each(int fd, size_t key_size, xc_key_fn fn, void *ctx)
{
	uint8_t cur[64], next[64];
	int more, ret;

	if (key_size > sizeof(cur))
		return -EINVAL;
	more = !bpf_map_get_next_key(fd, NULL, cur);
	while (more) {
		/* The next key is taken before fn may delete this one: after a deleted
		 * key, get_next_key starts over from the first. */
		more = !bpf_map_get_next_key(fd, cur, next);
		ret = fn(cur, ctx);
		if (ret)
			return ret;
		memcpy(cur, next, key_size);
	}
	return 0;
}

void *xc_grow(void **v, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t want = *cap ? 2 * *cap : 16;
		void *bigger = realloc(*v, want * elem);

		if (!bigger)
			return NULL;
		*v = bigger;
		*cap = want;
	}
	return (char *)*v + elem * (*n)++;
}

int config_write(struct xc *x, const struct xchan_config *cfg)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(XC_FD(x, M_CONFIG), &zero, cfg, BPF_ANY) ? -errno : 0;
}

int xc_config_read(struct xc *x, struct xchan_config *cfg)
{
	uint32_t zero = 0;

	memset(cfg, 0, sizeof(*cfg));
	return bpf_map_lookup_elem(XC_FD(x, M_CONFIG), &zero, cfg) ? -errno : 0;
}

struct by_name {
	struct xc *x;
	const char *name;
	uint32_t id;
	struct xchan_part_meta meta;
};

static int match_name(const void *key, void *ctx)
{
	struct by_name *b = ctx;

	if (bpf_map_lookup_elem(XC_FD(b->x, M_PARTMETA), key, &b->meta) ||
	    strcmp(b->meta.name, b->name))
		return 0;
	b->id = *(const uint32_t *)key;
	return 1;
}

int xc_part_find(struct xc *x, const char *s, uint32_t *id, struct xchan_part_meta *meta)
{
	struct by_name b = { .x = x, .name = s };

	if (!xc_parse_u32(s, &b.id)) {
		if (bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &b.id, &b.meta))
			return -ENOENT;
	} else if (xc_map_each(XC_FD(x, M_PARTMETA), sizeof(uint32_t), match_name, &b) <= 0) {
		return -ENOENT;
	}
	*id = b.id;
	if (meta)
		*meta = b.meta;
	return 0;
}

const char *xc_part_name(struct xc *x, uint32_t id, char *buf, size_t len)
{
	struct xchan_part_meta m;

	if (!bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &id, &m) && m.name[0])
		snprintf(buf, len, "%s", m.name);
	else
		snprintf(buf, len, "%u", id);
	return buf;
}

int xc_ep_split(const char *s, char part[XC_PART_STR], uint16_t *port, struct xc_err *e)
{
	const char *colon = strrchr(s, ':');
	uint32_t p;

	if (!colon || colon == s || (size_t)(colon - s) >= XC_PART_STR ||
	    xc_parse_u32(colon + 1, &p) || p == 0 || p > 65535)
		return xc_bad(e, "'%s' is not PART:PORT (PART an id or a name, PORT 1-65535)", s);
	memcpy(part, s, colon - s);
	part[colon - s] = '\0';
	*port = p;
	return 0;
}

int xc_part_resolve(struct xc *x, const char *part, bool must_be_local, uint32_t *id,
		    struct xc_err *e)
{
	/* a bare id of a partition this node does not host is a remote one */
	if (xc_part_find(x, part, id, NULL) &&
	    (must_be_local || xc_parse_u32(part, id) || *id == 0))
		return xc_fail(e, -ENOENT, "no partition '%s' registered here", part);
	return 0;
}

int xc_ep_parse(struct xc *x, const char *s, struct xc_ep *ep, bool must_be_local,
		struct xc_err *e)
{
	char part[XC_PART_STR];
	uint16_t port;
	uint32_t id;
	int err = xc_ep_split(s, part, &port, e);

	if (!err)
		err = xc_part_resolve(x, part, must_be_local, &id, e);
	if (err)
		return err;
	ep->part = id;
	ep->port = port;
	return 0;
}

const char *xc_part_name_memo(struct xc *x, struct xc_names *nm, uint32_t id, char *buf,
			      size_t len)
{
	unsigned int i = id % XC_NAMES;

	if (!nm)
		return xc_part_name(x, id, buf, len);
	if (!nm->e[i].have || nm->e[i].id != id) {
		xc_part_name(x, id, nm->e[i].name, sizeof(nm->e[i].name));
		nm->e[i].id = id;
		nm->e[i].have = true;
	}
	snprintf(buf, len, "%s", nm->e[i].name);
	return buf;
}

const char *xc_ep_str_memo(struct xc *x, struct xc_names *nm, const struct xc_ep *ep, char *buf,
			   size_t len)
{
	char n[40];

	snprintf(buf, len, "%s:%u", xc_part_name_memo(x, nm, ep->part, n, sizeof(n)), ep->port);
	return buf;
}

const char *xc_ep_str(struct xc *x, const struct xc_ep *ep, char *buf, size_t len)
{
	return xc_ep_str_memo(x, NULL, ep, buf, len);
}

struct down_ctx {
	struct xc *x;
	struct xc_down_result *r;
};

static int down_one(const void *key, void *ctx)
{
	struct down_ctx *d = ctx;
	struct xchan_part_meta m = {};
	int derr = 0;

	bpf_map_lookup_elem(XC_FD(d->x, M_PARTMETA), key, &m);
	xc_part_remove(d->x, *(const uint32_t *)key, &derr);
	if (derr && !d->r->detach_err) {
		d->r->detach_err = derr;
		d->r->detach_ifindex = m.ifindex;
	}
	d->r->nparts++;
	return 0;
}

static int down_locked(struct xc *x, struct xc_down_result *r, struct xc_err *e)
{
	struct down_ctx ctx = { x, r };
	int err;

	if (!cmm_exists(x->pin_root)) {
		/* a pin root left half-made by a crash still goes */
		struct cmm c = {};

		snprintf(c.root, sizeof(c.root), "%s", x->pin_root);
		cmm_unpin(&c);
		return 0;
	}
	r->existed = true;
	err = xc_open(x, false, e);
	if (err == -EUCLEAN || err == -ENOENT) {
		/* pins of two versions, or a map missing: opened as they are (the fast
		 * path's maps left out), it still goes the whole way, partitions detached
		 * and then every pin, as long as the partitions' table is there */
		err = cmm_open_lenient(&x->cmm, x->pin_root);
		if (!err && XC_FD(x, M_PARTMETA) < 0) {
			cmm_close(&x->cmm);
			err = -ENOENT;
		}
		if (!err)
			x->opened = true;
	}
	if (err == -ENOENT) {
		/* not even the partitions' table: the pins go, the programs on the
		 * interfaces stay, which the caller is told */
		struct cmm c = {};

		snprintf(c.root, sizeof(c.root), "%s", x->pin_root);
		r->unusable = true;
		snprintf(e->msg, sizeof(e->msg), "it has no readable xchan_partmeta, so which "
			 "interfaces it attached to is unknown");
		err = cmm_unpin(&c);
		return err ? xc_fail(e, err, "cannot remove every pin under %s: %s", x->pin_root,
				     strerror(-err)) : 0;
	}
	if (err)
		return err;
	/* removal deletes the key the walk stands on, which xc_map_each allows */
	xc_map_each(XC_FD(x, M_PARTMETA), sizeof(uint32_t), down_one, &ctx);
	xc_uplink_detach(x);
	err = cmm_unpin(&x->cmm);
	if (err)
		return xc_fail(e, err, "cannot remove every pin under %s: %s", x->pin_root,
			       strerror(-err));
	return 0;
}

/* Under the pin root's lock, as creation: a down never unlinks a creation's pins
 * half-way, nor a creation a down's. */
int xc_down(struct xc *x, struct xc_down_result *r, struct xc_err *e)
{
	int lock, err;

	memset(r, 0, sizeof(*r));
	if (access(x->pin_root, F_OK))
		return 0;
	err = cmm_check_root(x->pin_root, e->msg, sizeof(e->msg));
	if (err) {
		e->usage = false;
		return err;
	}
	lock = cmm_lock_root(x->pin_root, false, e->msg, sizeof(e->msg));
	if (lock == -ENOENT)
		return 0;
	if (lock < 0) {
		e->usage = false;
		return lock;
	}
	err = down_locked(x, r, e);
	close(lock);
	return err;
}
