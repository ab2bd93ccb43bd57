// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* doctor.c: can a partition's processes reach the pinned maps? On this kernel BPF_OBJ_GET needs no capability: only
 * the pin's mode guards a map, so any host-uid-0 process that can see the bpffs
 * holding the pins (shared mount namespace, a bind mount, or /proc/<pid>/root of a
 * host process) can read and write keys. This checks each partition's processes
 * for exactly that, and for what would let them get there. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>
#include "xc_int.h"

const char *const verdict_names[] = {
	[V_EMPTY] = "empty", [V_OK] = "ok", [V_AT_RISK] = "at-risk", [V_EXPOSED] = "exposed",
};

#define CAP_NET_ADMIN_BIT	12
#define CAP_SYS_PTRACE_BIT	19
#define CAP_SYS_ADMIN_BIT	21
#define CAP_BPF_BIT		39

static bool same_ns(pid_t pid, const char *ns)
{
	char p[64], q[64];
	struct stat a, b;

	snprintf(p, sizeof(p), "/proc/%d/ns/%s", pid, ns);
	snprintf(q, sizeof(q), "/proc/self/ns/%s", ns);
	return !stat(p, &a) && !stat(q, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static bool status_field(pid_t pid, const char *field, char *out, size_t len)
{
	char p[64], line[256];
	size_t fl = strlen(field);
	bool found = false;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	f = fopen(p, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, fl) && line[fl] == ':') {
			snprintf(out, len, "%s", line + fl + 1);
			found = true;
			break;
		}
	fclose(f);
	return found;
}

/* Is there a bpf filesystem with the pins' device among the process's mounts? */
static bool sees_bpffs(pid_t pid, dev_t pins_dev)
{
	char p[64], line[1024];
	bool found = false;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/mountinfo", pid);
	f = fopen(p, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2)
			continue;
		if (!strncmp(dash + 3, "bpf ", 4) && makedev(maj, min) == pins_dev)
			found = true;
	}
	fclose(f);
	return found;
}

static void add_reason(struct diagnosis *d, const char *fmt, const char *arg, pid_t pid)
{
	char r[200];
	size_t l = strlen(d->reasons);

	snprintf(r, sizeof(r), fmt, arg, pid);
	if (strstr(d->reasons, r))
		return;
	snprintf(d->reasons + l, sizeof(d->reasons) - l, "%s%s", l ? "; " : "", r);
}

/* What one process of the partition could do with the pins, raising d's verdict. */
static void judge_process(pid_t pid, const char *pin_root, dev_t pins_dev, struct diagnosis *d)
{
	unsigned long long capeff = 0;
	bool host_userns, reach, uid0;
	unsigned int uid = ~0u;
	char buf[256];

	host_userns = same_ns(pid, "user");
	if (status_field(pid, "Uid", buf, sizeof(buf)))
		sscanf(buf, "%*u %u", &uid);	/* effective uid, as the host sees it */
	if (status_field(pid, "CapEff", buf, sizeof(buf)))
		capeff = strtoull(buf, NULL, 16);
	uid0 = uid == 0;
	reach = same_ns(pid, "mnt") || sees_bpffs(pid, pins_dev) ||
		(same_ns(pid, "pid") && uid0);	/* /proc/<host pid>/root */
	if (reach && uid0) {
		bool filtered = status_field(pid, "Seccomp", buf, sizeof(buf)) && atoi(buf) == 2;

		d->v = V_EXPOSED;
		add_reason(d, filtered ?
			   "pid %2$d runs as host uid 0 and sees the bpffs of %1$s: only its seccomp filter stands between it and every key" :
			   "pid %2$d runs as host uid 0 and sees the bpffs of %1$s: it can read and write every key",
			   pin_root, pid);
		return;
	}
	if (reach)
		add_reason(d, "pid %2$d sees the bpffs%1$s, but is not host uid 0: 0600 pins refuse it", "", pid);
	if (uid0) {
		if (d->v < V_AT_RISK)
			d->v = V_AT_RISK;
		add_reason(d, "pid %2$d runs as host uid 0 (uid 0 not mapped away%1$s): a mount of the host bpffs would expose every key", "", pid);
	}
	if (host_userns && (capeff & (1ULL << CAP_SYS_ADMIN_BIT | 1ULL << CAP_BPF_BIT |
				      1ULL << CAP_NET_ADMIN_BIT))) {
		if (d->v < V_AT_RISK)
			d->v = V_AT_RISK;
		add_reason(d, "pid %2$d holds%1$s CAP_SYS_ADMIN, CAP_BPF or CAP_NET_ADMIN in the host user namespace", "", pid);
	}
	if (d->v < V_OK)
		d->v = V_OK;
}

int doctor_netns(const char *nspath, const char *pin_root, struct diagnosis *d)
{
	struct stat ns, pins;
	struct dirent *de;
	DIR *proc;

	memset(d, 0, sizeof(*d));
	if (stat(nspath, &ns))
		return -errno;
	if (stat(pin_root, &pins)) {
		char parent[512], *s;

		/* before the first add: the bpffs that will hold the pins */
		snprintf(parent, sizeof(parent), "%s", pin_root);
		s = strrchr(parent, '/');
		if (s && s != parent)
			*s = '\0';
		if (stat(parent, &pins))
			return -errno;
	}
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((de = readdir(proc))) {
		char p[64];
		struct stat st;
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (pid == getpid())
			continue;
		snprintf(p, sizeof(p), "/proc/%d/ns/net", pid);
		if (stat(p, &st) || st.st_ino != ns.st_ino || st.st_dev != ns.st_dev)
			continue;
		/* a process this netns's own, seen from the host */
		d->nproc++;
		judge_process(pid, pin_root, pins.st_dev, d);
	}
	closedir(proc);
	if (d->v == V_OK && !d->reasons[0])
		snprintf(d->reasons, sizeof(d->reasons),
			 "user-namespaced, no host capabilities, pins out of reach");
	if (d->v == V_EMPTY)
		snprintf(d->reasons, sizeof(d->reasons), "no process in this netns");
	return 0;
}

struct doctor_list {
	struct xc *x;
	struct xc_doctor_row *v;
	size_t n, cap;
};

static int doctor_one(const void *key, void *ctx)
{
	struct doctor_list *l = ctx;
	struct xchan_part_meta m;
	struct xc_doctor_row *row;
	int err;

	if (bpf_map_lookup_elem(XC_FD(l->x, M_PARTMETA), key, &m) || m.node_id)
		return 0;	/* another node's doctor judges its partitions */
	row = xc_grow((void **)&l->v, &l->n, &l->cap, sizeof(*row));
	if (!row)
		return -ENOMEM;
	row->id = *(const uint32_t *)key;
	snprintf(row->name, sizeof(row->name), "%s", m.name);
	row->rx = xc_rx_state(l->x, row->id, m.ifindex);
	err = doctor_netns(m.netns, l->x->pin_root, &row->d);
	if (err) {
		row->d.v = V_AT_RISK;
		snprintf(row->d.reasons, sizeof(row->d.reasons), "cannot inspect %s: %s", m.netns,
			 strerror(-err));
	}
	return 0;
}

int xc_doctor(struct xc *x, struct xc_doctor_row **out, size_t *n, struct xc_err *e)
{
	struct doctor_list l = { .x = x };
	int err = xc_map_each(XC_FD(x, M_PARTMETA), sizeof(uint32_t), doctor_one, &l);

	if (err) {
		free(l.v);
		return xc_fail(e, err, "cannot inspect the partitions: %s", strerror(-err));
	}
	*out = l.v;
	*n = l.n;
	return 0;
}
