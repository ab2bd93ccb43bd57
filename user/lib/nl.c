// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* nl.c: link and address dumps over rtnetlink, and entering a netns to make them. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include "nl.h"

static int nl_dump(int type, int (*cb)(struct nlmsghdr *, void *), void *arg)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;	/* same size prefix as ifaddrmsg's use here */
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = type,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
	};
	char buf[32768];
	int fd, err = 0;

	if (type == RTM_GETADDR)
		((struct ifaddrmsg *)&req.ifi)->ifa_family = AF_INET;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0) {
			err = -errno;
			goto out;
		}
		for (nh = (void *)buf; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				goto out;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				goto out;
			}
			err = cb(nh, arg);
			if (err)
				goto out;
		}
	}
out:
	close(fd);
	return err;
}

struct links_ctx {
	struct nl_link *out;
	int n, cap;
};

static int link_cb(struct nlmsghdr *nh, void *arg)
{
	struct links_ctx *lc = arg;
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	struct nl_link *l;
	struct rtattr *rta;

	if (nh->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (lc->n == lc->cap) {
		int cap = lc->cap ? 2 * lc->cap : 16;
		struct nl_link *bigger = realloc(lc->out, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		lc->out = bigger;
		lc->cap = cap;
	}
	l = &lc->out[lc->n++];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		switch (rta->rta_type) {
		case IFLA_IFNAME:
			snprintf(l->name, sizeof(l->name), "%s", (char *)RTA_DATA(rta));
			break;
		case IFLA_LINK:
			l->link = *(int *)RTA_DATA(rta);
			break;
		case IFLA_LINK_NETNSID:
			l->has_link_netns = true;
			l->link_netnsid = *(int *)RTA_DATA(rta);
			break;
		case IFLA_ADDRESS:
			if (RTA_PAYLOAD(rta) == 6)
				memcpy(l->mac, RTA_DATA(rta), 6);
			break;
		case IFLA_LINKINFO: {
			struct rtattr *i = RTA_DATA(rta);
			int ilen = RTA_PAYLOAD(rta);

			for (; RTA_OK(i, ilen); i = RTA_NEXT(i, ilen))
				if (i->rta_type == IFLA_INFO_KIND)
					snprintf(l->kind, sizeof(l->kind), "%s", (char *)RTA_DATA(i));
			break;
		}
		}
	}
	return 0;
}

static int addr_cb(struct nlmsghdr *nh, void *arg)
{
	struct links_ctx *lc = arg;
	struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa));
	struct rtattr *rta;

	if (nh->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET)
		return 0;
	for (rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type != IFA_LOCAL && rta->rta_type != IFA_ADDRESS)
			continue;
		for (int i = 0; i < lc->n; i++)
			if (lc->out[i].ifindex == (int)ifa->ifa_index && !lc->out[i].ip)
				memcpy(&lc->out[i].ip, RTA_DATA(rta), 4);
	}
	return 0;
}

int nl_links(struct nl_link **out)
{
	struct links_ctx lc = {};
	int err;

	err = nl_dump(RTM_GETLINK, link_cb, &lc);
	if (!err)
		err = nl_dump(RTM_GETADDR, addr_cb, &lc);
	if (err) {
		free(lc.out);
		return err;
	}
	*out = lc.out;
	return lc.n;
}

static int nsid_cb(struct nlmsghdr *nh, void *arg)
{
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(struct rtgenmsg));
	struct rtattr *rta = (void *)((char *)NLMSG_DATA(nh) + NLMSG_ALIGN(sizeof(struct rtgenmsg)));

	if (nh->nlmsg_type != RTM_NEWNSID)
		return 0;
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == NETNSA_NSID && RTA_PAYLOAD(rta) >= 4) {
			*(int *)arg = *(int *)RTA_DATA(rta);
			return 0;
		}
	return 0;
}

int nl_netnsid(int nsfd)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
		char pad[3];
		struct rtattr fa;
		uint32_t fd;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETNSID,
			.nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.g = { .rtgen_family = AF_UNSPEC },
		.fa = { .rta_len = RTA_LENGTH(sizeof(uint32_t)), .rta_type = NETNSA_FD },
		.fd = (uint32_t)nsfd,
	};
	char buf[4096];
	struct nlmsghdr *nh;
	int fd, nsid = -1, err = 0;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0 || (n = recv(fd, buf, sizeof(buf), 0)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	close(fd);
	for (nh = (void *)buf; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_ERROR && ((struct nlmsgerr *)NLMSG_DATA(nh))->error)
			return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
		nsid_cb(nh, &nsid);
	}
	return nsid < 0 ? -ENOENT : nsid;
}

/* Runs fn in the netns at nspath and comes back, whatever fn returned. */
static int in_netns(const char *nspath, int (*fn)(void *), void *arg)
{
	int self, target, ret;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	target = open(nspath, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		ret = -errno;
		close(self);
		return ret;
	}
	if (setns(target, CLONE_NEWNET)) {
		ret = -errno;
		goto out;
	}
	ret = fn(arg);
	if (setns(self, CLONE_NEWNET))
		ret = -errno;	/* cannot happen short of a kernel bug; do not go on */
out:
	close(target);
	close(self);
	return ret;
}

static int links_fn(void *arg)
{
	return nl_links(arg);
}

int nl_links_in(const char *nspath, struct nl_link **out)
{
	*out = NULL;
	return in_netns(nspath, links_fn, out);
}

static int ethtool_set(int fd, const char *ifname, uint32_t cmd, uint32_t val)
{
	struct ethtool_value ev = { .cmd = cmd, .data = val };
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

static int prepare_fn(void *arg)
{
	const char *ifname = arg;
	int fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* GRO gives the veth NAPI, without which frames redirected into it are lost;
	 * a partial TX checksum would reach the receiver's stack unfinished after a
	 * redirect (UdpInCsumErrors), so the partition computes it in full. */
	err = ethtool_set(fd, ifname, ETHTOOL_SGRO, 1);
	if (!err)
		err = ethtool_set(fd, ifname, ETHTOOL_STXCSUM, 0);
	close(fd);
	return err;
}

int nl_prepare_peer(const char *nspath, const char *ifname)
{
	return in_netns(nspath, prepare_fn, (void *)ifname);
}
