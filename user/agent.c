// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* agent.c: what every command shares: errors, endpoint and partition lookups,
 * opening the instance (and mounting bpffs for it). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "agent.h"

char xerr_where[96];

void xerr(const char *fmt, ...)
{
	va_list ap;

	fputs("xchan: ", stderr);
	if (xerr_where[0])
		fprintf(stderr, "%s: ", xerr_where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void xinfo(struct agent *a, const char *fmt, ...)
{
	va_list ap;

	if (a->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

const char *ip_str(uint32_t be, char *buf)
{
	return inet_ntop(AF_INET, &be, buf, INET_ADDRSTRLEN);
}

/* The default pin root's bpffs is mounted for the operator when missing. */
static int ensure_bpffs(const char *root)
{
	struct statfs sfs;

	if (strncmp(root, "/sys/fs/bpf/", 12))
		return 0;
	if (!statfs("/sys/fs/bpf", &sfs) && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		xerr("cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int agent_open(struct agent *a, bool create)
{
	char why[256];
	int err;

	if (a->opened)
		return 0;
	if (cmm_check_root(a->pin_root, why, sizeof(why))) {
		xerr("%s", why);
		return EXIT_FAIL;
	}
	if (create && ensure_bpffs(a->pin_root))
		return EXIT_FAIL;
	if (!create && !cmm_exists(a->pin_root)) {
		xerr("no xchan instance at %s (nothing registered yet)", a->pin_root);
		return EXIT_FAIL;
	}
	err = cmm_open(&a->cmm, a->pin_root, create, &a->sizes);
	if (err) {
		if (err == -ENOENT && !create)
			xerr("xchan instance at %s is incomplete: run 'xchan down' and start again",
			     a->pin_root);
		else
			xerr("cannot %s xchan instance at %s: %s", create ? "create" : "open",
			     a->pin_root, strerror(-err));
		return EXIT_FAIL;
	}
	a->opened = true;
	return 0;
}

uint32_t part_lookup(struct agent *a, const char *s, struct xchan_part_meta *meta)
{
	struct xchan_part_meta m;
	uint32_t id, next;
	int fd = a->cmm.map_fd[M_PARTMETA];

	if (!parse_u32(s, &id)) {
		if (!bpf_map_lookup_elem(fd, &id, &m)) {
			if (meta)
				*meta = m;
			return id;
		}
		return 0;
	}
	for (int err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &next, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &m) && !strcmp(m.name, s)) {
			if (meta)
				*meta = m;
			return next;
		}
	}
	return 0;
}

const char *part_name(struct agent *a, uint32_t id, char *buf, size_t len)
{
	struct xchan_part_meta m;

	if (!bpf_map_lookup_elem(a->cmm.map_fd[M_PARTMETA], &id, &m) && m.name[0])
		snprintf(buf, len, "%s", m.name);
	else
		snprintf(buf, len, "%u", id);
	return buf;
}

int parse_endpoint(struct agent *a, const char *s, struct endpoint *ep, bool must_be_local)
{
	char part[64];
	const char *colon = strrchr(s, ':');
	uint32_t port, id;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(part) ||
	    parse_u32(colon + 1, &port) || port == 0 || port > 65535) {
		xerr("'%s' is not PART:PORT (PART an id or a name, PORT 1-65535)", s);
		return EXIT_USAGE;
	}
	memcpy(part, s, colon - s);
	part[colon - s] = '\0';
	id = part_lookup(a, part, NULL);
	if (!id) {
		/* a bare id of a partition this node does not host is a remote one */
		if (must_be_local || parse_u32(part, &id) || id == 0) {
			xerr("no partition '%s' registered here", part);
			return EXIT_FAIL;
		}
	}
	ep->part = id;
	ep->port = port;
	return 0;
}

