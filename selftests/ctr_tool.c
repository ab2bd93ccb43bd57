// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ctr_tool.c: a static program that runs inside test containers (whose rootfs is
 * busybox-static and this): UDP send/receive, forged xchan control messages, and
 * attempts on pinned BPF objects, each answering with its exit code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include "xchan.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: ctr_tool recv PORT SECONDS            print each datagram as 'SRCIP SPORT PAYLOAD'\n"
		"       ctr_tool send SPORT DSTIP DPORT COUNT TAG [SRCIP]\n"
		"       ctr_tool forge DSTIP                   every control type, to port 7420\n"
		"       ctr_tool bpf PATH                      open a pin, read and write through it\n"
		"       ctr_tool xdpoff IFNAME                 detach any XDP program from IFNAME\n");
	return 2;
}

static int udp_socket(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ip && inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		return -1;
	if (bind(fd, (void *)&a, sizeof(a))) {
		perror("bind");
		return -1;
	}
	return fd;
}

static int do_recv(int port, int secs)
{
	struct timeval tv = { .tv_sec = secs };
	int fd = udp_socket(NULL, port);
	char buf[2048], ip[INET_ADDRSTRLEN];

	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fprintf(stderr, "ready\n");	/* bound: the test may send now */
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (void *)&from, &fl);

		if (n < 0)
			return 0;	/* the time is up */
		buf[n] = '\0';
		printf("%s %u %s\n", inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip)),
		       ntohs(from.sin_port), buf);
		fflush(stdout);
	}
}

static int do_send(int sport, const char *dst, int dport, int count, const char *tag,
		   const char *src)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(dport) };
	int fd = udp_socket(src, sport);
	char buf[128];

	if (fd < 0 || inet_pton(AF_INET, dst, &to.sin_addr) != 1)
		return 1;
	for (int i = 0; i < count; i++) {
		int n = snprintf(buf, sizeof(buf), "%s-%d", tag, i);

		sendto(fd, buf, n, 0, (void *)&to, sizeof(to));
		usleep(2000);
	}
	return 0;
}

/* Every message type, claiming the ids of channels that exist and that do not. */
static int do_forge(const char *dst)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(XCHAN_UDP_PORT) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int sent = 0;

	if (fd < 0 || inet_pton(AF_INET, dst, &to.sin_addr) != 1)
		return 1;
	for (int t = XCHAN_T_DATA; t <= XCHAN_T_CLOSE_ACK; t++)
		for (uint32_t sp = 1; sp <= 3; sp++)
			for (uint32_t dp = 1; dp <= 3; dp++) {
				struct xchan_hdr h = {
					.version = XCHAN_VERSION, .type = t,
					.src_part = htonl(sp), .dst_part = htonl(dp),
					.src_ep = htons(6000), .dst_ep = htons(5000),
				};

				memset(h.auth, 'K', sizeof(h.auth));
				if (sendto(fd, &h, sizeof(h), 0, (void *)&to, sizeof(to)) == sizeof(h))
					sent++;
				usleep(500);
			}
	printf("sent %d\n", sent);
	return 0;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Exit 0: could read a value; 3: opened but nothing readable; 4: open refused. */
static int do_bpf(const char *path)
{
	union bpf_attr a = {};
	struct bpf_map_info info = {};
	unsigned char key[64] = {}, next[64], val[4096];
	int fd;

	a.pathname = (unsigned long)path;
	fd = sys_bpf(BPF_OBJ_GET, &a);
	if (fd < 0) {
		printf("open %s: %s\n", path, strerror(errno));
		return 4;
	}
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info = (unsigned long)&info;
	a.info.info_len = sizeof(info);
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) || info.key_size > sizeof(key) ||
	    info.value_size > sizeof(val)) {
		printf("opened %s, no map info: %s\n", path, strerror(errno));
		return 3;
	}
	memset(&a, 0, sizeof(a));
	a.map_fd = fd;
	a.key = 0;
	a.next_key = (unsigned long)next;
	if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &a)) {
		printf("opened %s, empty or unreadable: %s\n", path, strerror(errno));
		return 3;
	}
	memset(&a, 0, sizeof(a));
	a.map_fd = fd;
	a.key = (unsigned long)next;
	a.value = (unsigned long)val;
	if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a)) {
		printf("opened %s, lookup refused: %s\n", path, strerror(errno));
		return 3;
	}
	printf("read an entry of %s\n", path);	/* never its bytes */
	(void)key;
	return 0;
}

/* RTM_SETLINK with IFLA_XDP_FD = -1, what `ip link set dev X xdp off` sends. */
static int do_xdpoff(const char *ifname)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[64];
	} req = {};
	struct rtattr *xdp, *fd;
	int s, ifindex = if_nametoindex(ifname), ret = 0;
	char buf[512];

	if (!ifindex)
		return 1;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.nh.nlmsg_type = RTM_SETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	xdp = (void *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	xdp->rta_type = NLA_F_NESTED | IFLA_XDP;
	fd = RTA_DATA(xdp);
	fd->rta_type = IFLA_XDP_FD;
	fd->rta_len = RTA_LENGTH(sizeof(int));
	*(int *)RTA_DATA(fd) = -1;
	xdp->rta_len = RTA_LENGTH(RTA_ALIGN(fd->rta_len));
	req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(xdp->rta_len);
	s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (s < 0 || send(s, &req, req.nh.nlmsg_len, 0) < 0 || recv(s, buf, sizeof(buf), 0) < 0)
		return 1;
	if (((struct nlmsghdr *)buf)->nlmsg_type == NLMSG_ERROR)
		ret = ((struct nlmsgerr *)NLMSG_DATA((struct nlmsghdr *)buf))->error;
	printf("xdp off %s: %s\n", ifname, ret ? strerror(-ret) : "done");
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]), atoi(argv[3]));
	if ((argc == 7 || argc == 8) && !strcmp(argv[1], "send"))
		return do_send(atoi(argv[2]), argv[3], atoi(argv[4]), atoi(argv[5]), argv[6],
			       argc == 8 ? argv[7] : NULL);
	if (argc == 3 && !strcmp(argv[1], "forge"))
		return do_forge(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "xdpoff"))
		return do_xdpoff(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "bpf"))
		return do_bpf(argv[2]);
	return usage();
}
