/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* nl.h: the few rtnetlink and netns facts the agent needs about a partition's veth. */
#ifndef XCHAN_NL_H
#define XCHAN_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

struct nl_link {
	int ifindex;
	int link;		/* IFLA_LINK: the veth peer's ifindex (in the peer's netns) */
	bool has_link_netns;	/* the peer lives in another netns */
	int link_netnsid;	/* IFLA_LINK_NETNSID: that netns's nsid here (if has_link_netns) */
	char name[IF_NAMESIZE];
	char kind[16];		/* IFLA_INFO_KIND, "veth" for ours */
	uint8_t mac[6];
	uint32_t ip;		/* first IPv4 address, network order; 0 if none */
	bool up;
};

/* Lists the links of the current netns with their first IPv4 address into *out
 * (malloc'ed, the caller frees it). Returns the count, or -errno. */
int nl_links(struct nl_link **out);
/* Runs nl_links in the netns of the file nspath (/run/netns/X, /proc/P/ns/net). */
int nl_links_in(const char *nspath, struct nl_link **out);
/* Readies a partition's own veth (in netns nspath) to receive XDP redirects:
 * GRO on (NAPI), TX checksum offload off. */
/* The nsid the current netns gives the netns of the open file nsfd (RTM_GETNSID with
 * NETNSA_FD), or -errno; -ENOENT if it has none. */
int nl_netnsid(int nsfd);
int nl_prepare_peer(const char *nspath, const char *ifname);

#endif
