// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* discover.c: finding a container's veth and its host-side peer, from a named netns,
 * a pid, a podman container, or the host-side interface itself. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "xc_int.h"

static int podman_pid(const char *name, uint32_t *pid, struct xc_err *e)
{
	char cmd[256], out[64] = "";
	FILE *f;

	/* the name goes through a shell: nothing but what container names hold, and
	 * podman's rule for the first character, so that it cannot read as an option
	 * (`-l`: the latest container) */
	if (!isalnum((unsigned char)name[0]))
		return xc_bad(e, "'%s' is not a container name", name);
	for (const char *p = name; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.'))
			return xc_bad(e, "'%s' is not a container name", name);
	snprintf(cmd, sizeof(cmd), "podman inspect --format '{{.State.Pid}}' -- %s 2>/dev/null", name);
	f = popen(cmd, "r");
	if (!f)
		return xc_fail(e, -errno, "podman container '%s' not found", name);
	if (!fgets(out, sizeof(out), f)) {
		pclose(f);
		return xc_fail(e, -ENOENT, "podman container '%s' not found", name);
	}
	pclose(f);
	out[strcspn(out, "\n")] = '\0';
	if (xc_parse_u32(out, pid) || *pid == 0)
		return xc_fail(e, -ESRCH, "podman container '%s' is not running", name);
	return 0;
}

struct links {
	struct nl_link *l;
	int n;
};

/* Pairs the netns's veths with their host-side peers; want (an address) picks one.
 * Returns how many veths had a peer here. */
static int match_veth(const struct links *in, const struct links *host, uint32_t want,
		      struct veth *v)
{
	int cand = 0;

	for (int i = 0; i < in->n; i++) {
		const struct nl_link *p = &in->l[i];

		if (strcmp(p->kind, "veth") || !p->has_link_netns)
			continue;
		for (int j = 0; j < host->n; j++) {
			const struct nl_link *h = &host->l[j];

			if (h->ifindex != p->link || strcmp(h->kind, "veth") || h->link != p->ifindex)
				continue;
			cand++;
			if (want && p->ip != want)
				continue;
			if (!want && !p->ip && v->host.ifindex)
				continue;
			v->peer = *p;
			v->host = *h;
		}
	}
	return cand;
}

static int in_netns(const char *nspath, const char *ip, uint32_t want,
		    const struct links *host, struct veth *v, struct xc_err *e)
{
	struct links in = {};
	int cand, err = 0;

	in.n = nl_links_in(nspath, &in.l);
	if (in.n < 0) {
		err = xc_fail(e, in.n, "cannot enter netns %s: %s", nspath, strerror(-in.n));
		goto out;
	}
	snprintf(v->nspath, sizeof(v->nspath), "%s", nspath);
	cand = match_veth(&in, host, want, v);
	if (!cand)
		err = xc_fail(e, -ENODEV, "netns %s has no veth whose peer is in this netns", nspath);
	else if (!v->host.ifindex)
		err = xc_fail(e, -ENODEV, "netns %s has no veth with address %s", nspath, ip);
	else if (!v->peer.ip)
		err = xc_fail(e, -EADDRNOTAVAIL, "the partition's interface %s has no IPv4 address",
			      v->peer.name);
out:
	free(in.l);
	return err;
}

/* --dev: the netns of the peer is found among the named ones. */
static int by_dev(const char *dev, const char *ip, uint32_t want, const struct links *host,
		  struct veth *v, struct xc_err *e)
{
	unsigned int ifindex = if_nametoindex(dev);
	struct dirent *de;
	struct xc_err quiet;
	DIR *d;

	if (!ifindex)
		return xc_fail(e, -ENODEV, "no interface '%s' here", dev);
	d = opendir("/run/netns");
	while (d && (de = readdir(d))) {
		char path[64];
		struct veth t = {};

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%.50s", de->d_name);
		if (!in_netns(path, ip, want, host, &t, &quiet) && t.host.ifindex == (int)ifindex) {
			*v = t;
			closedir(d);
			return 0;
		}
	}
	if (d)
		closedir(d);
	return xc_fail(e, -ENOENT, "cannot find the partition behind %s (use --netns, --pid or --podman)",
		       dev);
}

int veth_find(const struct xc_part_spec *s, struct veth *v, struct xc_err *e)
{
	struct links host = {};
	uint32_t want = 0, pid = s->pid;
	char path[64];
	int err;

	memset(v, 0, sizeof(*v));
	if (s->src == XC_SRC_PODMAN && (err = podman_pid(s->src_name, &pid, e)))
		return err;
	if (s->ip && inet_pton(AF_INET, s->ip, &want) != 1)
		return xc_bad(e, "'%s' is not an IPv4 address", s->ip);
	if (s->src == XC_SRC_NETNS)
		snprintf(path, sizeof(path), "/run/netns/%s", s->src_name);
	else
		snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	if (s->src != XC_SRC_DEV && access(path, F_OK))
		return xc_fail(e, -ENOENT, "%s %s does not exist",
			       s->src == XC_SRC_NETNS ? "netns" : "process",
			       s->src == XC_SRC_NETNS ? s->src_name : path);
	host.n = nl_links(&host.l);
	if (host.n < 0)
		return xc_fail(e, host.n, "cannot list links: %s", strerror(-host.n));
	if (s->src == XC_SRC_DEV)
		err = by_dev(s->src_name, s->ip, want, &host, v, e);
	else
		err = in_netns(path, s->ip, want, &host, v, e);
	free(host.l);
	return err;
}
