// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* partition.c: `xchan partition add|del|list`: finding a container's veth and its
 * host-side peer, registering it in the maps and attaching the CMM there. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "agent.h"
#include "nl.h"
#include "doctor.h"

#define MAX_LINKS 256

enum { MODE_NATIVE = 1, MODE_GENERIC = 2 };

static const char *mode_name(uint32_t m)
{
	return m == MODE_NATIVE ? "native" : m == MODE_GENERIC ? "generic" : "none";
}

/* Attach with libxdp so that xchan shares the hook with other XDP programs where
 * the dispatcher can load; native where the driver has it, else generic. */
static int part_attach(struct agent *a, uint32_t ifindex, const char *want, uint32_t *mode)
{
	struct xdp_program *p = xdp_program__from_fd(a->cmm.prog_fd);
	int err = -EOPNOTSUPP;

	if (libxdp_get_error(p))
		return -EINVAL;
	if (!want || !strcmp(want, "native")) {
		err = xdp_program__attach(p, ifindex, XDP_MODE_NATIVE, 0);
		*mode = MODE_NATIVE;
	}
	if (err && (!want || !strcmp(want, "generic"))) {
		err = xdp_program__attach(p, ifindex, XDP_MODE_SKB, 0);
		*mode = MODE_GENERIC;
	}
	xdp_program__close(p);
	return err;
}

int part_attach_dev(struct agent *a, uint32_t ifindex, const char *want, uint32_t *mode)
{
	return part_attach(a, ifindex, want, mode);
}

/* Detaches our program from ifindex, leaving other programs where they are. */
int part_detach(struct agent *a, uint32_t ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	struct xdp_program *p;
	int err = 0;

	if (libxdp_get_error(mp) || !mp)
		return 0;	/* nothing attached, or the interface is gone */
	if (bpf_obj_get_info_by_fd(a->cmm.prog_fd, &info, &len)) {
		xdp_multiprog__close(mp);
		return -errno;
	}
	p = xdp_program__from_fd(a->cmm.prog_fd);
	if (!libxdp_get_error(p)) {
		enum xdp_attach_mode m = xdp_multiprog__attach_mode(mp);

		err = xdp_program__detach(p, ifindex, m, 0);
		xdp_program__close(p);
	}
	xdp_multiprog__close(mp);
	return err == -ENOENT ? 0 : err;
}

/* Is our program the one running on ifindex, and how? */
static const char *attached_mode(struct agent *a, uint32_t ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	struct xdp_program *p;
	const char *res = "detached";

	if (libxdp_get_error(mp) || !mp)
		return res;
	if (bpf_obj_get_info_by_fd(a->cmm.prog_fd, &info, &len))
		goto out;
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
		if (xdp_program__id(p) == info.id)
			break;
	if (!p && xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && xdp_program__id(p) != info.id)
			p = NULL;
	}
	if (p)
		res = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ? "generic" : "native";
out:
	xdp_multiprog__close(mp);
	return res;
}

static int podman_pid(const char *name, uint32_t *pid)
{
	char cmd[256], out[64] = "";
	FILE *f;

	for (const char *p = name; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.')) {
			xerr("'%s' is not a container name", name);
			return EXIT_USAGE;
		}
	snprintf(cmd, sizeof(cmd), "podman inspect --format '{{.State.Pid}}' %s 2>/dev/null", name);
	f = popen(cmd, "r");
	if (!f || !fgets(out, sizeof(out), f)) {
		if (f)
			pclose(f);
		xerr("podman container '%s' not found", name);
		return EXIT_FAIL;
	}
	pclose(f);
	out[strcspn(out, "\n")] = '\0';
	if (parse_u32(out, pid) || *pid == 0) {
		xerr("podman container '%s' is not running", name);
		return EXIT_FAIL;
	}
	return 0;
}

/* A host-side veth whose peer lives in the netns at nspath. */
struct found {
	struct nl_link host, peer;
	char nspath[64];
};

static int find_in_netns(const char *nspath, const char *ip, struct found *f, bool quiet)
{
	struct nl_link in[MAX_LINKS], host[MAX_LINKS];
	int n, nh, cand = 0;
	uint32_t want = 0;

	if (ip && inet_pton(AF_INET, ip, &want) != 1) {
		xerr("'%s' is not an IPv4 address", ip);
		return EXIT_USAGE;
	}
	n = nl_links_in(nspath, in, MAX_LINKS);
	if (n < 0) {
		if (!quiet)
			xerr("cannot enter netns %s: %s", nspath, strerror(-n));
		return EXIT_FAIL;
	}
	nh = nl_links(host, MAX_LINKS);
	if (nh < 0) {
		xerr("cannot list links: %s", strerror(-nh));
		return EXIT_FAIL;
	}
	for (int i = 0; i < n; i++) {
		if (strcmp(in[i].kind, "veth") || !in[i].has_link_netns)
			continue;
		for (int j = 0; j < nh; j++) {
			if (host[j].ifindex != in[i].link || strcmp(host[j].kind, "veth") ||
			    host[j].link != in[i].ifindex)
				continue;
			cand++;
			if (want && in[i].ip != want)
				continue;
			if (!want && !in[i].ip && f->host.ifindex)
				continue;
			f->peer = in[i];
			f->host = host[j];
			snprintf(f->nspath, sizeof(f->nspath), "%s", nspath);
		}
	}
	if (!cand) {
		if (!quiet)
			xerr("netns %s has no veth whose peer is in this netns", nspath);
		return EXIT_FAIL;
	}
	if (!f->host.ifindex) {
		if (!quiet)
			xerr("netns %s has no veth with address %s", nspath, ip);
		return EXIT_FAIL;
	}
	if (!f->peer.ip) {
		if (!quiet)
			xerr("the partition's interface %s has no IPv4 address", f->peer.name);
		return EXIT_FAIL;
	}
	return 0;
}

/* --dev: the netns of the peer is found among the named ones. */
static int find_by_dev(const char *dev, const char *ip, struct found *f)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	unsigned int ifindex = if_nametoindex(dev);

	if (!ifindex) {
		xerr("no interface '%s' here", dev);
		if (d)
			closedir(d);
		return EXIT_FAIL;
	}
	while (d && (de = readdir(d))) {
		char path[64];
		struct found t = {};

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%.50s", de->d_name);
		if (!find_in_netns(path, ip, &t, true) && t.host.ifindex == (int)ifindex) {
			*f = t;
			closedir(d);
			return 0;
		}
	}
	if (d)
		closedir(d);
	xerr("cannot find the partition behind %s (use --netns, --pid or --podman)", dev);
	return EXIT_FAIL;
}

static bool id_or_name_taken(struct agent *a, uint32_t id, const char *name)
{
	struct xchan_part_meta meta;

	if (!bpf_map_lookup_elem(a->cmm.map_fd[M_PARTMETA], &id, &meta)) {
		xerr("partition %u exists already (%s)", id, meta.name);
		return true;
	}
	if (name && part_lookup(a, name, NULL)) {
		xerr("partition name '%s' is taken", name);
		return true;
	}
	return false;
}

/* A partition that lives on another node: known by address and node, so that the
 * CMM can encapsulate towards it and check where its traffic comes from. */
static int part_add_remote(struct agent *a, uint32_t id, const char *name, uint32_t node,
			   const char *ip)
{
	struct xchan_part_meta meta = { .node_id = node };
	struct xchan_address addr = { .part_id = id, .node_id = node };
	struct xchan_node n;
	uint32_t be;
	char buf[INET_ADDRSTRLEN];
	int ret;

	if (!ip || inet_pton(AF_INET, ip, &be) != 1) {
		xerr("partition add --remote: --ip IPV4 is required");
		return EXIT_USAGE;
	}
	ret = agent_open(a, true);
	if (ret)
		return ret;
	if (bpf_map_lookup_elem(a->cmm.map_fd[M_NODES], &node, &n)) {
		xerr("node %u is not known here (xchan node add)", node);
		return EXIT_FAIL;
	}
	explicit_bzero(&n, sizeof(n));
	if (id_or_name_taken(a, id, name))
		return EXIT_FAIL;
	if (!bpf_map_lookup_elem(a->cmm.map_fd[M_ADDRS], &be, &addr)) {
		xerr("address %s belongs to partition %u already", ip_str(be, buf), addr.part_id);
		return EXIT_FAIL;
	}
	memset(&meta, 0, sizeof(meta));
	meta.node_id = node;
	snprintf(meta.name, sizeof(meta.name), "%s", name ? name : "");
	addr = (struct xchan_address){ .part_id = id, .node_id = node };
	if (bpf_map_update_elem(a->cmm.map_fd[M_PARTMETA], &id, &meta, BPF_NOEXIST)) {
		xerr("cannot register partition %u: %s", id, strerror(errno));
		return EXIT_FAIL;
	}
	if (bpf_map_update_elem(a->cmm.map_fd[M_ADDRS], &be, &addr, BPF_NOEXIST)) {
		xerr("cannot register partition %u: %s", id, strerror(errno));
		bpf_map_delete_elem(a->cmm.map_fd[M_PARTMETA], &id);
		return EXIT_FAIL;
	}
	xinfo(a, "partition %u%s%s: %s on node %u", id, name ? " " : "", name ? name : "", ip, node);
	return EXIT_OK;
}

int part_add(struct agent *a, int argc, char **argv)
{
	const char *name = NULL, *dev = NULL, *netns = NULL, *ip = NULL, *mode = NULL;
	const char *podman = NULL;
	uint32_t remote = 0;
	bool strict = false;
	struct diagnosis diag;
	uint32_t id, pid = 0, v, attach_mode = 0;
	struct xchan_part_meta meta = {};
	struct xchan_partition part = {};
	struct xchan_address addr = {};
	struct found f = {};
	struct xchan_mac_key mk = {};
	uint32_t ifx;
	int ret, step = 0, nsrc = 0, err;
	char path[64], buf[INET_ADDRSTRLEN];

	if (argc < 1 || parse_u32(argv[0], &id) || id == 0) {
		xerr("partition add: ID must be a number from 1 to 4294967295");
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--isolated")) {
			part.flags |= XCHAN_PART_ISOLATED;
			continue;
		}
		if (!strcmp(o, "--strict")) {
			strict = true;
			continue;
		}
		if (!val) {
			xerr("partition add: %s needs a value", o);
			return EXIT_USAGE;
		}
		i++;
		if (!strcmp(o, "--name"))
			name = val;
		else if (!strcmp(o, "--dev"))
			dev = val, nsrc++;
		else if (!strcmp(o, "--netns"))
			netns = val, nsrc++;
		else if (!strcmp(o, "--podman"))
			podman = val, nsrc++;
		else if (!strcmp(o, "--pid")) {
			if (parse_u32(val, &pid) || !pid) {
				xerr("partition add: --pid needs a process id");
				return EXIT_USAGE;
			}
			nsrc++;
		} else if (!strcmp(o, "--remote")) {
			if (parse_u32(val, &remote) || !remote) {
				xerr("partition add: --remote needs a node id");
				return EXIT_USAGE;
			}
			nsrc++;
		} else if (!strcmp(o, "--ip"))
			ip = val;
		else if (!strcmp(o, "--mode")) {
			if (strcmp(val, "native") && strcmp(val, "generic")) {
				xerr("partition add: --mode is native or generic");
				return EXIT_USAGE;
			}
			mode = val;
		} else {
			xerr("partition add: unknown option '%s'", o);
			return EXIT_USAGE;
		}
	}
	if (nsrc != 1) {
		xerr("partition add: give exactly one of --dev, --netns, --pid, --podman, --remote");
		return EXIT_USAGE;
	}
	if (name && (!*name || strlen(name) >= XCHAN_NAME_LEN || !parse_u32(name, &v) ||
		     strchr(name, ':'))) {
		xerr("partition add: name '%s' must be 1-31 characters, not a number, without ':'", name);
		return EXIT_USAGE;
	}
	if (netns && (strchr(netns, '/') || strlen(netns) > 40)) {
		xerr("partition add: '%s' is not a netns name", netns);
		return EXIT_USAGE;
	}
	if (podman && (ret = podman_pid(podman, &pid)))
		return ret;
	if (remote)
		return part_add_remote(a, id, name, remote, ip);

	if (dev)
		ret = find_by_dev(dev, ip, &f);
	else {
		if (netns)
			snprintf(path, sizeof(path), "/run/netns/%s", netns);
		else
			snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
		if (access(path, F_OK)) {
			xerr("%s %s does not exist", netns ? "netns" : "process", netns ? netns : path);
			return EXIT_FAIL;
		}
		ret = find_in_netns(path, ip, &f, false);
	}
	if (ret)
		return ret;

	/* Can the container reach the pins? Refused with --strict, else a warning. */
	if (!doctor_netns(f.nspath, a->pin_root, &diag) && diag.v >= V_AT_RISK) {
		if (strict && diag.v == V_EXPOSED) {
			xerr("partition %u is exposed, refusing (--strict): %s", id, diag.reasons);
			return EXIT_FAIL;
		}
		xerr("warning: partition %u is %s: %s", id, verdict_names[diag.v], diag.reasons);
	}
	ret = agent_open(a, true);
	if (ret)
		return ret;
	if (!strcmp(f.host.name, "lo") || f.host.ifindex == 1) {
		xerr("refusing to attach to loopback: it is the CMM's trusted path");
		return EXIT_FAIL;
	}
	/* Every conflict is found before anything is written. */
	if (id_or_name_taken(a, id, name))
		return EXIT_FAIL;
	ifx = f.host.ifindex;
	if (!bpf_map_lookup_elem(a->cmm.map_fd[M_PARTITION], &ifx, &(struct xchan_partition){})) {
		xerr("interface %s is registered already", f.host.name);
		return EXIT_FAIL;
	}
	if (!bpf_map_lookup_elem(a->cmm.map_fd[M_ADDRS], &f.peer.ip, &addr)) {
		xerr("address %s belongs to partition %u already", ip_str(f.peer.ip, buf), addr.part_id);
		return EXIT_FAIL;
	}
	memcpy(mk.mac, f.peer.mac, 6);
	if (!bpf_map_lookup_elem(a->cmm.map_fd[M_MACS], &mk, &v)) {
		xerr("MAC of %s belongs to partition %u already", f.peer.name, v);
		return EXIT_FAIL;
	}

	memset(&meta, 0, sizeof(meta));
	snprintf(meta.name, sizeof(meta.name), "%s", name ? name : "");
	meta.ifindex = ifx;
	meta.peer_ifindex = f.peer.ifindex;
	meta.flags = part.flags;
	snprintf(meta.netns, sizeof(meta.netns), "%s", f.nspath);
	part.part_id = id;
	part.ip = f.peer.ip;
	memcpy(part.mac, f.peer.mac, 6);
	addr.part_id = id;
	addr.ifindex = ifx;
	addr.node_id = 0;
	memcpy(addr.mac, f.peer.mac, 6);
	addr.flags = part.flags;

	/* Writes in order, undone in reverse on any failure. */
	err = bpf_map_update_elem(a->cmm.map_fd[M_PARTMETA], &id, &meta, BPF_NOEXIST);
	if (err)
		goto fail;
	step = 1;
	err = bpf_map_update_elem(a->cmm.map_fd[M_ADDRS], &f.peer.ip, &addr, BPF_NOEXIST);
	if (err)
		goto fail;
	step = 2;
	err = bpf_map_update_elem(a->cmm.map_fd[M_DEVMAP], &ifx, &ifx, BPF_ANY);
	if (err)
		goto fail;
	step = 3;
	err = bpf_map_update_elem(a->cmm.map_fd[M_MACS], &mk, &id, BPF_NOEXIST);
	if (err)
		goto fail;
	step = 4;
	err = bpf_map_update_elem(a->cmm.map_fd[M_PARTITION], &ifx, &part, BPF_NOEXIST);
	if (err)
		goto fail;
	step = 5;
	err = nl_prepare_peer(f.nspath, f.peer.name);
	if (err) {
		xerr("cannot set GRO/checksum offload of %s in %s: %s", f.peer.name, f.nspath,
		     strerror(-err));
		goto undo;
	}
	err = part_attach(a, ifx, mode, &attach_mode);
	if (err) {
		xerr("cannot attach the CMM to %s: %s", f.host.name, strerror(-err));
		goto undo;
	}
	meta.attach_mode = attach_mode;
	bpf_map_update_elem(a->cmm.map_fd[M_PARTMETA], &id, &meta, BPF_EXIST);
	if (a->json) {
		jw_obj(&a->jw, NULL);
		jw_u64(&a->jw, "id", id);
		jw_str(&a->jw, "name", meta.name);
		jw_str(&a->jw, "host_dev", f.host.name);
		jw_str(&a->jw, "ip", ip_str(f.peer.ip, buf));
		jw_str(&a->jw, "mode", mode_name(attach_mode));
		jw_end_obj(&a->jw);
		jw_done(&a->jw);
	} else {
		xinfo(a, "partition %u%s%s: %s (%s) behind %s, CMM attached (%s)", id,
		      name ? " " : "", name ? name : "", f.peer.name, ip_str(f.peer.ip, buf),
		      f.host.name, mode_name(attach_mode));
	}
	return EXIT_OK;
fail:
	xerr("cannot register partition %u: %s", id, strerror(errno));
undo:
	if (step >= 5)
		bpf_map_delete_elem(a->cmm.map_fd[M_PARTITION], &ifx);
	if (step >= 4)
		bpf_map_delete_elem(a->cmm.map_fd[M_MACS], &mk);
	if (step >= 3)
		bpf_map_delete_elem(a->cmm.map_fd[M_DEVMAP], &ifx);
	if (step >= 2)
		bpf_map_delete_elem(a->cmm.map_fd[M_ADDRS], &f.peer.ip);
	if (step >= 1)
		bpf_map_delete_elem(a->cmm.map_fd[M_PARTMETA], &id);
	return EXIT_FAIL;
}

/* A remote partition is known by its address only: find it (0 if none). */
static uint32_t remote_ip(struct agent *a, uint32_t id)
{
	int fd = a->cmm.map_fd[M_ADDRS];
	struct xchan_address ad;
	uint32_t ip;

	for (int e = bpf_map_get_next_key(fd, NULL, &ip); !e; e = bpf_map_get_next_key(fd, &ip, &ip))
		if (!bpf_map_lookup_elem(fd, &ip, &ad) && ad.part_id == id)
			return ip;
	return 0;
}

/* Deletes every entry of map fd whose chan id names partition id. */
static void purge_chans(int fd, uint32_t id)
{
	struct xchan_chan_id k, next;
	bool have = false;

	for (int err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, have ? &k : NULL, &next)) {
		if (next.local_part == id || next.remote_part == id) {
			bpf_map_delete_elem(fd, &next);
			continue;	/* restart from the last kept key */
		}
		k = next;
		have = true;
	}
}

int part_remove(struct agent *a, uint32_t id, bool quiet)
{
	struct xchan_part_meta meta;
	struct xchan_partition part;
	int err;

	if (bpf_map_lookup_elem(a->cmm.map_fd[M_PARTMETA], &id, &meta))
		return -ENOENT;
	/* First stop the traffic: keys go before the program and the tables. */
	purge_chans(a->cmm.map_fd[M_KEYS], id);
	purge_chans(a->cmm.map_fd[M_CHANNELS], id);
	purge_chans(a->cmm.map_fd[M_CHANSTATS], id);
	err = meta.node_id ? 0 : part_detach(a, meta.ifindex);
	if (err && !quiet)
		xerr("warning: cannot detach from ifindex %u: %s", meta.ifindex, strerror(-err));
	if (meta.node_id) {
		uint32_t ip = remote_ip(a, id);

		if (ip)
			bpf_map_delete_elem(a->cmm.map_fd[M_ADDRS], &ip);
	} else if (!bpf_map_lookup_elem(a->cmm.map_fd[M_PARTITION], &meta.ifindex, &part)) {
		struct xchan_mac_key mk = {};

		memcpy(mk.mac, part.mac, 6);
		bpf_map_delete_elem(a->cmm.map_fd[M_MACS], &mk);
		bpf_map_delete_elem(a->cmm.map_fd[M_ADDRS], &part.ip);
		bpf_map_delete_elem(a->cmm.map_fd[M_PARTITION], &meta.ifindex);
	}
	if (!meta.node_id)
		bpf_map_delete_elem(a->cmm.map_fd[M_DEVMAP], &meta.ifindex);
	bpf_map_delete_elem(a->cmm.map_fd[M_PARTMETA], &id);
	return 0;
}

static int part_del(struct agent *a, int argc, char **argv)
{
	uint32_t id;
	int ret;

	if (argc != 1) {
		xerr("usage: xchan partition del ID|NAME");
		return EXIT_USAGE;
	}
	ret = agent_open(a, false);
	if (ret)
		return ret;
	id = part_lookup(a, argv[0], NULL);
	if (!id) {
		xerr("no partition '%s'", argv[0]);
		return EXIT_FAIL;
	}
	part_remove(a, id, false);
	xinfo(a, "partition %u removed", id);
	return EXIT_OK;
}

static int part_list(struct agent *a)
{
	uint32_t ids[4096], next;
	int n = 0, fd, ret;
	char buf[INET_ADDRSTRLEN], ifname[IF_NAMESIZE];

	if (!cmm_exists(a->pin_root)) {
		if (a->json) {
			fputs("[]\n", stdout);
			return EXIT_OK;
		}
		return EXIT_OK;
	}
	ret = agent_open(a, false);
	if (ret)
		return ret;
	fd = a->cmm.map_fd[M_PARTMETA];
	for (int err = bpf_map_get_next_key(fd, NULL, &next); !err && n < 4096;
	     err = bpf_map_get_next_key(fd, &next, &next))
		ids[n++] = next;
	/* sorted by id, for people and for diffs */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			uint32_t t = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	if (a->json)
		jw_arr(&a->jw, NULL);
	else
		printf("%-6s %-16s %-15s %-17s %-16s %-8s %s\n", "ID", "NAME", "IP", "MAC",
		       "HOSTDEV", "XDP", "FLAGS");
	for (int i = 0; i < n; i++) {
		struct xchan_part_meta m;
		struct xchan_partition p = {};
		char mac[18];

		if (bpf_map_lookup_elem(fd, &ids[i], &m))
			continue;
		if (m.node_id) {
			p.ip = remote_ip(a, ids[i]);
		} else {
			bpf_map_lookup_elem(a->cmm.map_fd[M_PARTITION], &m.ifindex, &p);
		}
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", p.mac[0], p.mac[1],
			 p.mac[2], p.mac[3], p.mac[4], p.mac[5]);
		if (m.node_id)
			snprintf(ifname, sizeof(ifname), "node:%u", m.node_id);
		else if (!if_indextoname(m.ifindex, ifname))
			snprintf(ifname, sizeof(ifname), "(gone:%u)", m.ifindex);
		if (a->json) {
			jw_obj(&a->jw, NULL);
			jw_u64(&a->jw, "id", ids[i]);
			jw_str(&a->jw, "name", m.name);
			jw_str(&a->jw, "ip", ip_str(p.ip, buf));
			jw_str(&a->jw, "mac", mac);
			jw_str(&a->jw, "host_dev", ifname);
			jw_u64(&a->jw, "ifindex", m.ifindex);
			jw_str(&a->jw, "netns", m.netns);
			jw_str(&a->jw, "xdp", m.node_id ? "remote" : attached_mode(a, m.ifindex));
			jw_u64(&a->jw, "node", m.node_id);
			jw_bool(&a->jw, "isolated", p.flags & XCHAN_PART_ISOLATED);
			jw_end_obj(&a->jw);
		} else {
			printf("%-6u %-16s %-15s %-17s %-16s %-8s %s\n", ids[i], m.name[0] ? m.name : "-",
			       ip_str(p.ip, buf), mac, ifname, m.node_id ? "remote" : attached_mode(a, m.ifindex),
			       p.flags & XCHAN_PART_ISOLATED ? "isolated" : "-");
		}
	}
	if (a->json) {
		jw_end_arr(&a->jw);
		jw_done(&a->jw);
	}
	return EXIT_OK;
}

const char *part_attached_mode(struct agent *a, uint32_t ifindex)
{
	return attached_mode(a, ifindex);
}

int do_partition(struct agent *a, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "add"))
		return part_add(a, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "del"))
		return part_del(a, argc - 1, argv + 1);
	if (argc == 1 && !strcmp(argv[0], "list"))
		return part_list(a);
	xerr("usage: xchan partition add|del|list ...");
	return EXIT_USAGE;
}
