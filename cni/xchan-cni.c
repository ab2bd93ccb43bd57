// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xchan-cni.c: the chained CNI plugin: ADD makes the container a partition (through
 * the library's partition add, which attaches everything a partition needs), DEL
 * removes it and its channels, CHECK verifies, VERSION says which versions it speaks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "cni.h"

#define ALLOC_TRIES	64

/* ADDs and DELs of containers starting together are serialized on the pin root: the
 * id allocation reads the table and then writes it. */
static int lock_root(struct cni_call *c, int *fd)
{
	*fd = open(c->pin_root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0 || flock(*fd, LOCK_EX))
		return cni_fail(c, CNI_E_IO, "cannot lock %s: %s", c->pin_root, strerror(errno));
	return 0;
}

/* The partition registered for this container: by its netns path, which the runtime
 * made for this container alone. */
static int find_part(struct xc *x, const char *netns, uint32_t *id, struct xchan_part_meta *m)
{
	struct xc_part_info *pi = NULL;
	struct xc_err e;
	size_t n = 0;
	int found = -ENOENT;

	if (!netns || !*netns || xc_part_list(x, &pi, &n, &e))
		return -ENOENT;
	for (size_t i = 0; i < n && found; i++)
		if (!pi[i].meta.node_id && !strncmp(pi[i].meta.netns, netns, sizeof(pi[i].meta.netns))) {
			*id = pi[i].id;
			*m = pi[i].meta;
			found = 0;
		}
	free(pi);
	return found;
}

static int spec_netns(struct cni_call *c, struct xc_part_spec *s)
{
	unsigned int pid;
	char tail;

	if (!c->netns || !*c->netns)
		return cni_fail(c, CNI_E_ENV, "CNI_NETNS is required for %s", c->command);
	if (!strncmp(c->netns, "/run/netns/", 11) && c->netns[11] && !strchr(c->netns + 11, '/')) {
		s->src = XC_SRC_NETNS;
		s->src_name = c->netns + 11;
	} else if (sscanf(c->netns, "/proc/%u/ns/ne%c", &pid, &tail) == 2 && tail == 't') {
		s->src = XC_SRC_PID;
		s->pid = pid;
	} else {
		return cni_fail(c, CNI_E_ENV, "CNI_NETNS %s is neither /run/netns/NAME nor /proc/PID/ns/net",
				c->netns);
	}
	return 0;
}

/* The lowest free id from idBase, unless the runtime gave one. */
static int next_id(struct xc *x, struct cni_call *c, uint32_t from, uint32_t *id)
{
	char num[12];

	for (uint32_t i = from; i < from + 65536 && i >= from; i++) {
		snprintf(num, sizeof(num), "%u", i);
		if (xc_part_find(x, num, id, NULL)) {
			*id = i;
			return 0;
		}
	}
	return cni_fail(c, CNI_E_XCHAN, "no free partition id from %u", from);
}

static int add_part(struct xc *x, struct cni_call *c, struct xc_part_spec *s)
{
	struct xc_part_added out;
	struct xc_err e = {};
	uint32_t from = c->id_base, taken;
	char num[12];
	int err = -EEXIST;

	for (int i = 0; i < ALLOC_TRIES && err; i++) {
		if (c->id)
			s->id = c->id;
		else if ((err = next_id(x, c, from, &s->id)))
			return err;
		err = xc_part_add(x, s, &out, &e);
		snprintf(num, sizeof(num), "%u", s->id);
		if (c->id || !err || (err != -ENOTEMPTY && xc_part_find(x, num, &taken, NULL)))
			break;	/* done, or failed for another reason than the id */
		/* taken meanwhile by someone not holding the lock, or left with a removed
		 * partition's channel entries: the next one */
		from = s->id + 1;
	}
	return err ? cni_fail(c, CNI_E_XCHAN, "xchan: %s", e.msg) : 0;
}

static int do_add(struct xc *x, struct cni_call *c)
{
	struct xc_part_spec s = { .name = c->name[0] ? c->name : NULL, .isolated = c->isolated };
	struct xchan_part_meta m;
	struct xc_err e = {};
	char ip[16];
	uint32_t id;
	int err, lock = -1;

	err = cni_prev_ip(c, ip);
	if (!err)
		err = spec_netns(c, &s);
	if (err)
		return err;
	s.ip = ip;
	if (xc_open(x, true, &e))
		return cni_fail(c, CNI_E_XCHAN, "xchan: %s", e.msg);
	err = lock_root(c, &lock);
	/* a repeated ADD for the same container finds its partition and answers again */
	if (!err && find_part(x, c->netns, &id, &m))
		err = add_part(x, c, &s);
	if (lock >= 0)
		close(lock);
	if (!err)
		cni_print_prev(c);
	return err;
}

/* Removes the container's partition and its channels; nothing there is success. */
static int do_del(struct xc *x, struct cni_call *c)
{
	struct xchan_part_meta m;
	struct xc_err e = {};
	uint32_t id;
	int lock = -1, err;

	if (!xc_exists(x))
		return 0;
	if (xc_open(x, false, &e))
		return cni_fail(c, CNI_E_XCHAN, "xchan: %s", e.msg);
	err = lock_root(c, &lock);
	if (!err && !find_part(x, c->netns, &id, &m))
		xc_part_remove(x, id, NULL);
	/* the netns may be gone already: then its name, if its recorded netns is gone too */
	else if (!err && c->name[0] && !xc_part_find(x, c->name, &id, &m) && !m.node_id &&
		 access(m.netns, F_OK))
		xc_part_remove(x, id, NULL);
	if (lock >= 0)
		close(lock);
	return err;
}

static int do_check(struct xc *x, struct cni_call *c)
{
	struct xchan_part_meta m;
	struct xc_err e = {};
	char ip[16];
	uint32_t id;
	int err = cni_prev_ip(c, ip);

	if (err)
		return err;
	if (xc_open(x, false, &e))
		return cni_fail(c, CNI_E_XCHAN, "xchan: %s", e.msg);
	if (find_part(x, c->netns, &id, &m))
		return cni_fail(c, CNI_E_XCHAN, "xchan: container %.12s is not a partition", c->container);
	if (!strcmp(xc_attached_mode(x, m.ifindex), "detached"))
		return cni_fail(c, CNI_E_XCHAN, "xchan: partition %u: the CMM is not attached to its veth", id);
	return 0;
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int xdp_quiet(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int main(void)
{
	struct cni_call c = {};
	struct xc x;
	int err;

	prctl(PR_SET_DUMPABLE, 0);	/* keys pass through the library's processes */
	libbpf_set_print(quiet_print);	/* stdout is the runtime's: JSON only */
	libxdp_set_print(xdp_quiet);
	err = cni_read(&c);
	if (!err && !strcmp(c.command, "VERSION")) {
		cni_print_version();
		return 0;
	}
	if (!err) {
		xc_init(&x, c.pin_root, NULL);
		if (!strcmp(c.command, "ADD"))
			err = do_add(&x, &c);
		else if (!strcmp(c.command, "DEL"))
			err = do_del(&x, &c);
		else if (!strcmp(c.command, "CHECK"))
			err = do_check(&x, &c);
		else
			err = cni_fail(&c, CNI_E_ENV, "unknown CNI_COMMAND %s", c.command);
		xc_close(&x);
	}
	if (err)
		cni_print_error(&c);
	if (c.conf)
		json_object_put(c.conf);
	return err ? 1 : 0;
}
