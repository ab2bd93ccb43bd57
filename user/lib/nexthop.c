// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* nexthop.c: how this node reaches a peer node (route, interface, neighbour MAC),
 * asked of the kernel over rtnetlink and written to xchan_nexthop for the CMM. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "xc_int.h"

#define NH_WAIT_MS	1500	/* how long an unresolved neighbour is given to answer ARP */
#define NH_POLL_MS	20

struct nl_req {
	struct nlmsghdr nh;
	union {
		struct rtmsg rt;
		struct ndmsg nd;
	};
	char attrs[64];
};

static void nl_attr(struct nl_req *r, int type, const void *data, int len)
{
	struct rtattr *a = (void *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* One request, one answer (or an error) into buf. Returns the answer's length or -errno. */
static int nl_call(struct nl_req *r, char *buf, size_t len)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), n;
	struct nlmsghdr *nh = (void *)buf;

	if (fd < 0)
		return -errno;
	r->nh.nlmsg_flags |= NLM_F_REQUEST;
	if (send(fd, r, r->nh.nlmsg_len, 0) < 0 || (n = recv(fd, buf, len, 0)) < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	if (!NLMSG_OK(nh, (unsigned)n))
		return -EPROTO;
	if (nh->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
	return n;
}

/* The kernel's output route to addr (no input interface: forwarding plays no part). */
static int route_get(uint32_t addr, uint32_t *oif, uint32_t *via)
{
	struct nl_req r = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
				    .nlmsg_type = RTM_GETROUTE },
			    .rt = { .rtm_family = AF_INET, .rtm_dst_len = 32 } };
	char buf[4096];
	struct nlmsghdr *nh = (void *)buf;
	struct rtmsg *rt = NLMSG_DATA(nh);
	struct rtattr *a;
	int n, alen;

	nl_attr(&r, RTA_DST, &addr, 4);
	n = nl_call(&r, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (rt->rtm_type != RTN_UNICAST)
		return -EADDRNOTAVAIL;	/* our own address, a blackhole, ... */
	*oif = 0;
	*via = addr;
	alen = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*rt));
	for (a = RTM_RTA(rt); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == RTA_OIF)
			memcpy(oif, RTA_DATA(a), 4);
		else if (a->rta_type == RTA_GATEWAY)
			memcpy(via, RTA_DATA(a), 4);
	}
	return *oif ? 0 : -ENETUNREACH;
}

/* The neighbour entry for addr on ifindex: 0 and its MAC if usable, -EAGAIN if not
 * (yet), with NTF_USE asking the kernel to resolve it as a sent packet would. */
static int neigh_get(uint32_t ifindex, uint32_t addr, bool kick, uint8_t mac[6])
{
	struct nl_req r = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
				    .nlmsg_type = kick ? RTM_NEWNEIGH : RTM_GETNEIGH,
				    .nlmsg_flags = kick ? NLM_F_CREATE | NLM_F_ACK : 0 },
			    .nd = { .ndm_family = AF_INET, .ndm_ifindex = ifindex,
				    .ndm_flags = kick ? NTF_USE : 0 } };
	char buf[1024];
	struct nlmsghdr *nh = (void *)buf;
	struct ndmsg *nd = NLMSG_DATA(nh);
	struct rtattr *a;
	int n, alen;

	nl_attr(&r, NDA_DST, &addr, 4);
	n = nl_call(&r, buf, sizeof(buf));
	if (kick || n == -ENOENT)
		return n < 0 && n != -ENOENT ? n : -EAGAIN;
	if (n < 0)
		return n;
	if (!(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)))
		return -EAGAIN;
	alen = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
	for (a = (void *)((char *)nd + NLMSG_ALIGN(sizeof(*nd))); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
		if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
			memcpy(mac, RTA_DATA(a), 6);
			return 0;
		}
	return -EAGAIN;
}

static int link_mac(uint32_t ifindex, uint8_t mac[6])
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	if (!if_indextoname(ifindex, ifr.ifr_name) || ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static int neigh_wait(uint32_t ifindex, uint32_t via, uint8_t mac[6])
{
	int err = neigh_get(ifindex, via, false, mac);

	if (err != -EAGAIN)
		return err;
	neigh_get(ifindex, via, true, mac);
	for (int waited = 0; waited < NH_WAIT_MS; waited += NH_POLL_MS) {
		poll(NULL, 0, NH_POLL_MS);
		err = neigh_get(ifindex, via, false, mac);
		if (err != -EAGAIN)
			return err;
	}
	return -EHOSTUNREACH;
}

/* Resolves node id (at addr) now and stores the result; on failure its entry goes, so
 * that the CMM counts drop_no_neighbour rather than sending to a stale MAC. */
int xc_node_refresh_one(struct xc *x, uint32_t id, uint32_t addr, struct xc_err *e)
{
	struct xchan_nexthop nh = { .addr = addr };
	char ab[INET_ADDRSTRLEN];
	uint32_t via;
	int err;

	err = route_get(addr, &nh.ifindex, &via);
	if (err) {
		bpf_map_delete_elem(XC_FD(x, M_NEXTHOP), &id);
		return xc_fail(e, err, "no route to node %u at %s: %s", id, xc_ip_str(addr, ab),
			       strerror(-err));
	}
	err = link_mac(nh.ifindex, nh.smac);
	if (!err)
		err = neigh_wait(nh.ifindex, via, nh.dmac);
	if (err) {
		bpf_map_delete_elem(XC_FD(x, M_NEXTHOP), &id);
		return xc_fail(e, err, "node %u at %s: next hop %s does not answer ARP", id,
			       xc_ip_str(addr, ab), xc_ip_str(via, (char[INET_ADDRSTRLEN]){ 0 }));
	}
	if (bpf_map_update_elem(XC_FD(x, M_NEXTHOP), &id, &nh, BPF_ANY))
		return xc_fail(e, -errno, "cannot store the next hop of node %u: %s", id,
			       strerror(errno));
	return 0;
}

struct refresh {
	struct xc *x;
	struct xc_err *e;
	int err;	/* the first failure */
};

static int refresh_cb(const void *key, void *ctx)
{
	struct refresh *r = ctx;
	struct xchan_node n;
	struct xc_err e;
	int err;

	if (bpf_map_lookup_elem(XC_FD(r->x, M_NODES), key, &n))
		return 0;
	err = xc_node_refresh_one(r->x, *(const uint32_t *)key, n.addr, &e);
	explicit_bzero(&n, sizeof(n));
	if (err && !r->err) {
		r->err = err;
		*r->e = e;
	}
	return 0;
}

int xc_node_refresh(struct xc *x, struct xc_err *e)
{
	struct refresh r = { .x = x, .e = e };
	int err = xc_open(x, false, e);

	if (err)
		return err;
	err = xc_map_each(XC_FD(x, M_NODES), sizeof(uint32_t), refresh_cb, &r);
	if (err)
		return xc_fail(e, err, "cannot list nodes: %s", strerror(-err));
	return r.err;
}
