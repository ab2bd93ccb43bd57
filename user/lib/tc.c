// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tc.c: the receive side on a partition's host-side veth: a TCX egress link of the
 * xchan_rx program, pinned under the pin root so that it outlives the agent. */
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "xc_int.h"

/* Kernel 6.6+ (include/uapi/linux/bpf.h); the uapi headers of libbpf 1.1's era lack
 * them, and libbpf 1.1 has no bpf_program__attach_tcx(): bpf_link_create passes an
 * attach type it does not know straight to the kernel. */
#define XC_BPF_TCX_EGRESS	47
/* bpf_link_info.tcx.ifindex: the first field of the union, which older headers know */
#define XC_LINK_INFO_TCX_OFF	offsetof(struct bpf_link_info, raw_tracepoint)

static void link_pin(char *buf, size_t len, const char *root, uint32_t part)
{
	snprintf(buf, len, "%s/%s%u", root, XCHAN_RX_LINK_PIN, part);
}

/* A link's MAC and its master's ifindex (0: none), by RTM_GETLINK. */
static int link_mac(int ifindex, uint8_t mac[6], int *master)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
	};
	char buf[8192];
	struct nlmsghdr *nh = (void *)buf;
	struct rtattr *a;
	int fd, n, len, err = -ENOENT;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0 || (n = recv(fd, buf, sizeof(buf), 0)) < 0) {
		err = -errno;
		goto out;
	}
	if (!NLMSG_OK(nh, (unsigned int)n) || nh->nlmsg_type != RTM_NEWLINK)
		goto out;
	*master = 0;
	len = IFLA_PAYLOAD(nh);
	for (a = IFLA_RTA(NLMSG_DATA(nh)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == 6) {
			memcpy(mac, RTA_DATA(a), 6);
			err = 0;
		} else if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) == 4) {
			memcpy(master, RTA_DATA(a), 4);
		}
	}
out:
	close(fd);
	return err;
}

/* The host's MACs on the way out of partition veth ifindex: the veth's, its bridge's.
 * An instance made before the map has none: --forward pass then takes only frames
 * addressed to the receiver's own MAC. */
static void gwmac_write(struct xc *x, uint32_t ifindex)
{
	struct xchan_gwmac g = {};
	int master = 0, up;

	if (link_mac(ifindex, g.veth, &master))
		return;
	if (master && link_mac(master, g.master, &up))
		memset(g.master, 0, sizeof(g.master));
	bpf_map_update_elem(XC_FD(x, M_GWMAC), &ifindex, &g, BPF_ANY);
}

int rx_attach(struct xc *x, uint32_t part, uint32_t ifindex)
{
	char p[600];
	int fd, err = 0;

	if (x->cmm.rx_fd < 0)
		return -ENOPROTOOPT;
	fd = bpf_link_create(x->cmm.rx_fd, ifindex, XC_BPF_TCX_EGRESS, NULL);
	if (fd < 0)
		return -errno;
	link_pin(p, sizeof(p), x->pin_root, part);
	if (bpf_obj_pin(fd, p)) {
		err = -errno;
		bpf_link_detach(fd);
	}
	close(fd);
	if (!err)
		gwmac_write(x, ifindex);
	return err;
}

/* Detached explicitly: a process still holding the link's fd would keep it alive. */
static int unpin_link(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd >= 0) {
		bpf_link_detach(fd);
		close(fd);
	}
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int rx_detach(struct xc *x, uint32_t part)
{
	struct xchan_part_meta m;
	char p[600];

	if (!bpf_map_lookup_elem(XC_FD(x, M_PARTMETA), &part, &m))
		bpf_map_delete_elem(XC_FD(x, M_GWMAC), &m.ifindex);

	link_pin(p, sizeof(p), x->pin_root, part);
	return unpin_link(p);
}

int rx_unpin_all(const char *root)
{
	char p[600];
	struct dirent *d;
	int failed = 0;
	DIR *dir = opendir(root);

	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, XCHAN_RX_LINK_PIN, strlen(XCHAN_RX_LINK_PIN)))
			continue;
		snprintf(p, sizeof(p), "%s/%s", root, d->d_name);
		failed += unpin_link(p) != 0;
	}
	closedir(dir);
	snprintf(p, sizeof(p), "%s/%s", root, XCHAN_RX_PROG_PIN);
	if (unlink(p) && errno != ENOENT)
		failed++;
	return failed;
}

const char *xc_rx_state(struct xc *x, uint32_t part, uint32_t ifindex)
{
	struct bpf_prog_info pi = {};
	struct bpf_link_info li = {};
	uint32_t plen = sizeof(pi), llen = sizeof(li), link_if;
	const char *res = "detached";
	char p[600];
	int fd;

	link_pin(p, sizeof(p), x->pin_root, part);
	fd = bpf_obj_get(p);
	if (fd < 0)
		return x->cmm.rx_fd < 0 ? "unsupported" : res;
	if (!bpf_obj_get_info_by_fd(fd, &li, &llen) && x->cmm.rx_fd >= 0 &&
	    !bpf_obj_get_info_by_fd(x->cmm.rx_fd, &pi, &plen) && li.prog_id == pi.id) {
		memcpy(&link_if, (char *)&li + XC_LINK_INFO_TCX_OFF, sizeof(link_if));
		/* a link whose device is gone (or was moved) is defunct: ifindex 0 */
		res = link_if == ifindex ? "tcx" : "defunct";
	}
	close(fd);
	return res;
}
