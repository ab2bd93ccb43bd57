// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmm.c: opening, creating and pinning a CMM instance, and its trusted path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/magic.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cmm.h"
#include "siphash.h"
#include "xchan.skel.h"

const char *const cmm_map_names[M__N] = {
	[M_PARTITION] = "xchan_partition", [M_ADDRS] = "xchan_addrs",
	[M_CHANNELS] = "xchan_channels",
	[M_COUNTS] = "xchan_counts", [M_STATS] = "xchan_stats",
	[M_DEVMAP] = "xchan_devmap", [M_EVENTS] = "xchan_events",
	[M_PARTMETA] = "xchan_partmeta", [M_CONFIG] = "xchan_config",
	[M_NODES] = "xchan_nodes", [M_REPLAY] = "xchan_replay", [M_MACS] = "xchan_macs",
	[M_NEXTHOP] = "xchan_nexthop", [M_NONCE] = "xchan_nonce",
	[M_EVLIMIT] = "xchan_evlimit", [M_EVPEER] = "xchan_evpeer", [M_GWMAC] = "xchan_gwmac",
	[M_PEERNONCE] = "xchan_peernonce",
	[M_IFPART] = "xchan_ifpart", [M_PARTSTATS] = "xchan_partstats",
	[M_SLOTS] = "xchan_slotalloc", [M_NHKEYS] = "xchan_nhkeys",
};

const char *const xchan_reason_names[XR__MAX] = XCHAN_REASON_NAMES;

/* Pins of the layouts before xchan_counts (per-CPU counter rows by channel id, flow
 * entries and their per-CPU slots; keys in a table of their own): an instance of
 * those is refused (-EUCLEAN: its
 * program counts and passes by tables this agent does not keep), and they are
 * removed with it. */
static const char *const old_names[] = {
	"xchan_chancount", "xchan_chanstats", "xchan_flows", "xchan_flowstats",
	"xchan_flowalloc", "xchan_flowslots", "xchan_keys",
};

static void pin_path(char *buf, size_t len, const char *root, const char *name)
{
	snprintf(buf, len, "%s/%s", root, name);
}

/* Maps the slot bitmap (the agent's; include/xchan.h), sized from the counters'
 * array. */
static int map_flowslots(struct cmm *c)
{
	struct bpf_map_info st = {}, sl = {};
	uint32_t len = sizeof(st);
	void *m;

	if (bpf_obj_get_info_by_fd(c->map_fd[M_COUNTS], &st, &len))
		return -errno;
	len = sizeof(sl);
	if (bpf_obj_get_info_by_fd(c->map_fd[M_SLOTS], &sl, &len))
		return -errno;
	if (sl.value_size != 8 || sl.max_entries < XCHAN_FLOWSLOT_WORDS(st.max_entries) ||
	    st.value_size != sizeof(struct xchan_chan_counter) || st.max_entries > XCHAN_NO_SLOT ||
	    !(st.map_flags & BPF_F_MMAPABLE))
		return -EUCLEAN;
	m = mmap(NULL, (size_t)sl.max_entries * 8, PROT_READ | PROT_WRITE, MAP_SHARED,
		 c->map_fd[M_SLOTS], 0);
	if (m == MAP_FAILED)
		return -errno;
	c->flowslots = m;
	c->nflowslots = st.max_entries;
	c->flowslots_len = (size_t)sl.max_entries * 8;
	c->counts_len = (size_t)st.max_entries * sizeof(struct xchan_chan_counter);
	m = mmap(NULL, c->counts_len, PROT_READ | PROT_WRITE, MAP_SHARED, c->map_fd[M_COUNTS], 0);
	if (m == MAP_FAILED)
		return -errno;
	c->counts = m;
	return 0;
}

bool cmm_exists(const char *root)
{
	char p[600];

	pin_path(p, sizeof(p), root, XCHAN_PROG_PIN);
	return access(p, F_OK) == 0;
}

/* What makes a pin root safe, said of st, the object at root: a directory of ours that
 * group and others cannot reach. */
static int root_verdict(const struct stat *st, const char *root, char *why, size_t whylen)
{
	if (!S_ISDIR(st->st_mode)) {
		snprintf(why, whylen, "pin root %s exists and is not a directory", root);
		return -ENOTDIR;
	}
	if (st->st_uid != geteuid()) {
		snprintf(why, whylen, "pin root %s is owned by uid %u, not by us: refusing it",
			 root, st->st_uid);
		return -EPERM;
	}
	if (st->st_mode & 077) {
		snprintf(why, whylen, "pin root %s has mode %03o: group/other may reach the maps; "
			 "it must be 0700", root, st->st_mode & 0777);
		return -EPERM;
	}
	return 0;
}

int cmm_check_root(const char *root, char *why, size_t whylen)
{
	struct statfs sfs;
	struct stat st;
	char parent[512], *slash;

	snprintf(parent, sizeof(parent), "%s", root);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent || strlen(root) >= 400) {
		snprintf(why, whylen, "pin root %s must be an absolute path below a bpffs mount", root);
		return -EINVAL;
	}
	*slash = '\0';
	if (statfs(parent, &sfs) || sfs.f_type != BPF_FS_MAGIC) {
		snprintf(why, whylen, "%s is not on a bpf filesystem (mount -t bpf bpf %s)",
			 parent, parent);
		return -ENOENT;
	}
	/* What is checked below stays what is used only if nobody else can rename or
	 * remove the root's entry: a parent of root's or ours, and sticky if others may
	 * write to it (/sys/fs/bpf is often 1777). */
	if (stat(parent, &st)) {
		snprintf(why, whylen, "%s: %s", parent, strerror(errno));
		return -errno;
	}
	if ((st.st_uid && st.st_uid != geteuid()) || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))) {
		snprintf(why, whylen, "%s (mode %03o, owner %u) lets others replace the pin root: "
			 "refusing it", parent, st.st_mode & 01777, st.st_uid);
		return -EPERM;
	}
	if (lstat(root, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "pin root %s: %s", root, strerror(errno));
		return -errno;
	}
	return root_verdict(&st, root, why, whylen);
}

/* An fd on the pin root, made 0700 first with create. Whatever is at the path once
 * made (by us or by anyone racing us between cmm_check_root and here: a symlink to a
 * file we would chmod, a directory of theirs we would pin into) is checked through
 * the fd, never the path again; *st is what was checked. */
static int root_open(const char *root, bool create, struct stat *st, char *why, size_t whylen)
{
	int err, fd;

	if (create && mkdir(root, 0700) && errno != EEXIST) {
		err = -errno;
		snprintf(why, whylen, "cannot make pin root %s: %s", root, strerror(-err));
		return err;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		/* a symlink: ELOOP, or ENOTDIR for one to a non-directory */
		if (err == -ELOOP || err == -ENOTDIR)
			snprintf(why, whylen, "pin root %s exists and is not a directory", root);
		else
			snprintf(why, whylen, "pin root %s: %s", root, strerror(-err));
		return err == -ELOOP ? -ENOTDIR : err;
	}
	if (fstat(fd, st)) {
		err = -errno;
		snprintf(why, whylen, "pin root %s: %s", root, strerror(-err));
		close(fd);
		return err;
	}
	/* mkdir gives no group/other bits; only a umask can leave ours out: put them
	 * back, on the object checked as ours */
	err = root_verdict(st, root, why, whylen);
	if (!err && (st->st_mode & 0700) != 0700 && fchmod(fd, 0700)) {
		err = -errno;
		snprintf(why, whylen, "pin root %s: %s", root, strerror(-err));
	}
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* Whether the program uses a map of that name: what the instance's version is, where
 * its pins alone could mislead (some removed by hand). -errno if it cannot tell. */
static int prog_has_map(int prog_fd, const char *name)
{
	struct bpf_prog_info pi = {};
	uint32_t ids[64], len = sizeof(pi);
	int found = 0;

	pi.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	pi.map_ids = (uint64_t)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &pi, &len))
		return -errno;
	for (uint32_t i = 0; i < pi.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]) && !found; i++) {
		struct bpf_map_info mi = {};
		uint32_t mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		found = !bpf_obj_get_info_by_fd(fd, &mi, &mlen) && !strcmp(mi.name, name);
		close(fd);
	}
	return found;
}

/* -EUCLEAN: pins that no one version of xchan made together, or an instance of an
 * older layout. Lenient (for down) opens whatever is there instead: a missing map's
 * fd is -1. */
static int open_pinned(struct cmm *c, bool lenient)
{
	char p[600];

	pin_path(p, sizeof(p), c->root, XCHAN_PROG_PIN);
	c->prog_fd = bpf_obj_get(p);
	if (c->prog_fd < 0)
		return -errno;
	pin_path(p, sizeof(p), c->root, XCHAN_RX_PROG_PIN);
	c->rx_fd = bpf_obj_get(p);	/* absent in an instance older than the receive side */
	for (size_t i = 0; i < sizeof(old_names) / sizeof(old_names[0]); i++) {
		pin_path(p, sizeof(p), c->root, old_names[i]);
		if (!lenient && !access(p, F_OK))
			return -EUCLEAN;
	}
	for (int i = 0; i < M__N; i++) {
		pin_path(p, sizeof(p), c->root, cmm_map_names[i]);
		c->map_fd[i] = bpf_obj_get(p);
		/* an instance older than these maps runs a program that does without them:
		 * the nonce in xchan_nodes, the sender by the hash only, no counters by
		 * partition, no NH tags between nodes */
		if (c->map_fd[i] < 0 && (i == M_PEERNONCE || i == M_IFPART || i == M_PARTSTATS ||
					 i == M_NHKEYS) && errno == ENOENT)
			continue;
		if (c->map_fd[i] < 0 && lenient && errno == ENOENT)
			continue;
		if (c->map_fd[i] < 0)
			return errno == ENOENT && (i == M_COUNTS || i == M_SLOTS) ? -EUCLEAN : -errno;
	}
	/* pins removed by hand, which would leave the agent never moving keys the
	 * program still reads */
	if (!lenient && c->map_fd[M_NHKEYS] < 0 && prog_has_map(c->prog_fd, "xchan_nhkeys") != 0)
		return -EUCLEAN;
	if (c->map_fd[M_COUNTS] < 0 || c->map_fd[M_SLOTS] < 0)
		return 0;	/* lenient: taken down without them */
	return lenient ? (map_flowslots(c), 0) : map_flowslots(c);
}

/* The pin root's lock, for whoever creates or removes the instance: an fd on the
 * directory that is at the path (a waiter whose directory was removed meanwhile
 * takes the new one's), checked as cmm_check_root does, or -errno and why. */
int cmm_lock_root(const char *root, bool create, char *why, size_t whylen)
{
	for (int tries = 0; tries < 8; tries++) {
		struct stat a, b;
		int fd = root_open(root, create, &a, why, whylen);

		/* removed by a down between our mkdir and open: made again */
		if (fd == -ENOENT && create)
			continue;
		if (fd < 0)
			return fd;
		if (flock(fd, LOCK_EX)) {
			int err = -errno;

			snprintf(why, whylen, "cannot lock %s: %s", root, strerror(-err));
			close(fd);
			return err;
		}
		/* lstat: a symlink put where a down removed ours is not our directory */
		if (!lstat(root, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			if (whylen)
				why[0] = '\0';	/* a try before may have said something */
			return fd;
		}
		close(fd);
	}
	snprintf(why, whylen, "pin root %s keeps being replaced: cannot lock it", root);
	return -EAGAIN;
}

int cmm_open_lenient(struct cmm *c, const char *root)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->prog_fd = -1;
	c->rx_fd = -1;
	for (int i = 0; i < M__N; i++)
		c->map_fd[i] = -1;
	snprintf(c->root, sizeof(c->root), "%s", root);
	err = open_pinned(c, true);
	if (err)
		cmm_close(c);
	return err;
}

static int load(struct cmm *c, const struct cmm_sizes *sz)
{
	struct xchan_bpf *skel;
	struct bpf_map *m;
	char p[600];
	int err;

	skel = xchan_bpf__open();
	if (!skel)
		return -errno;
	c->skel = skel;
	if (sz && sz->partitions) {
		bpf_map__set_max_entries(skel->maps.xchan_partition, sz->partitions);
		bpf_map__set_max_entries(skel->maps.xchan_addrs, sz->partitions);
		bpf_map__set_max_entries(skel->maps.xchan_devmap, sz->partitions);
		bpf_map__set_max_entries(skel->maps.xchan_partmeta, sz->partitions);
		bpf_map__set_max_entries(skel->maps.xchan_macs, sz->partitions);
		/* a budget per partition as sender and as receiver, plus the host's */
		bpf_map__set_max_entries(skel->maps.xchan_evlimit, 2 * sz->partitions + 8);
		/* room for every reason of every partition (not preallocated: rows cost
		 * only when made), so that no partition can fill it for another */
		bpf_map__set_max_entries(skel->maps.xchan_partstats,
					 XCHAN_PARTSTATS_PER_PART * sz->partitions);
	}
	if (sz && sz->channels) {
		/* N channels: on one node a channel is an IN and an OUT entry, and one
		 * counter slot and (between nodes) one window */
		bpf_map__set_max_entries(skel->maps.xchan_channels, 2 * sz->channels);
		bpf_map__set_max_entries(skel->maps.xchan_counts, sz->channels);
		bpf_map__set_max_entries(skel->maps.xchan_replay, sz->channels);
		bpf_map__set_max_entries(skel->maps.xchan_slotalloc,
					 XCHAN_FLOWSLOT_WORDS(sz->channels));
	}
	/* The program's settings come from the named constants both sides share, so
	 * that what the agent assumes and what the CMM checks cannot drift apart. */
	skel->rodata->trusted_ifindex = XCHAN_TRUSTED_IFINDEX;
	skel->rodata->ctrl_port = XCHAN_UDP_PORT;
	skel->rodata->drop_sample_shift = XCHAN_DROP_SAMPLE_SHIFT;
	skel->rodata->fwd_redirect = !(sz && sz->fwd_pass);
	/* The flow cache reads the change sequence before the tables and relies
	 * on the CPU to keep those loads in order (bpf/flow.h): x86 does. This is the
	 * host the program is loaded on, not the one its object was compiled on. */
#if defined(__x86_64__)
	skel->rodata->flow_cache_on = 1;
#endif
	/* where each frame's copy goes in the flow cache: no partition may know it */
	if (getrandom((void *)&skel->rodata->flow_cache_seed, sizeof(skel->rodata->flow_cache_seed),
		      0) != sizeof(skel->rodata->flow_cache_seed))
		return -EAGAIN;
	if (c->root[0]) {
		bpf_object__for_each_map(m, skel->obj) {
			/* the flow cache is the program's alone (bpf/maps.h): unpinned, no
			 * process reads or writes it */
			if (bpf_map__is_internal(m) || m == skel->maps.xchan_flowcache)
				continue;
			pin_path(p, sizeof(p), c->root, bpf_map__name(m));
			bpf_map__set_pin_path(m, p);
		}
	}
	err = xchan_bpf__load(skel);
	if (err)
		return err;
	c->prog_fd = bpf_program__fd(skel->progs.xchan_cmm);
	c->rx_fd = bpf_program__fd(skel->progs.xchan_rx);
	for (int i = 0; i < M__N; i++) {
		m = bpf_object__find_map_by_name(skel->obj, cmm_map_names[i]);
		c->map_fd[i] = m ? bpf_map__fd(m) : -1;
		if (c->map_fd[i] < 0)
			return -ENOENT;
	}
	err = map_flowslots(c);
	if (err)
		return err;
	if (c->root[0]) {
		/* the CMM's pin last: whoever sees it finds everything else pinned */
		pin_path(p, sizeof(p), c->root, XCHAN_RX_PROG_PIN);
		if (bpf_obj_pin(c->rx_fd, p))
			return -errno;
		pin_path(p, sizeof(p), c->root, XCHAN_PROG_PIN);
		if (bpf_obj_pin(c->prog_fd, p))
			return -errno;
	}
	return 0;
}

int cmm_open(struct cmm *c, const char *root, bool create, const struct cmm_sizes *sz,
	     char *why, size_t whylen)
{
	char p[600];
	int err, lock;

	memset(c, 0, sizeof(*c));
	c->prog_fd = -1;
	c->rx_fd = -1;
	for (int i = 0; i < M__N; i++)
		c->map_fd[i] = -1;
	if (!root)
		return load(c, sz);
	snprintf(c->root, sizeof(c->root), "%s", root);
	err = cmm_check_root(root, why, whylen);
	if (err)
		return err;
	if (cmm_exists(root)) {
		err = open_pinned(c, false);
		if (err)
			cmm_close(c);
		return err;
	}
	if (!create)
		return -ENOENT;
	/* Two processes creating at once (xchan-cni for two containers, say): one loads,
	 * the other waits on the root's lock and opens what the first pinned, instead of
	 * unlinking its pins below. The program is pinned last, so its pin means done.
	 * The lock makes the root and checks it: nothing is pinned before. */
	lock = cmm_lock_root(root, true, why, whylen);
	if (lock < 0)
		return lock;
	if (cmm_exists(root)) {
		err = open_pinned(c, false);
		if (err)
			cmm_close(c);
		close(lock);
		return err;
	}
	/* a new instance starts from empty maps: a `down` older than a map leaves its pin
	 * (xchan_partstats...), which load() would reuse with whatever it held */
	for (int i = 0; i < M__N; i++) {
		pin_path(p, sizeof(p), root, cmm_map_names[i]);
		unlink(p);
	}
	for (size_t i = 0; i < sizeof(old_names) / sizeof(old_names[0]); i++) {
		pin_path(p, sizeof(p), root, old_names[i]);
		unlink(p);
	}
	err = load(c, sz);
	if (err) {
		cmm_unpin(c);
		cmm_close(c);
	}
	close(lock);
	return err;
}

int cmm_unpin(struct cmm *c)
{
	char p[600];
	int err = 0;

	if (!c->root[0])
		return 0;
	pin_path(p, sizeof(p), c->root, XCHAN_PROG_PIN);
	if (unlink(p) && errno != ENOENT)
		err = -errno;
	if (rx_unpin_all(c->root))
		err = -EBUSY;
	for (int i = 0; i < M__N; i++) {
		pin_path(p, sizeof(p), c->root, cmm_map_names[i]);
		if (unlink(p) && errno != ENOENT)
			err = -errno;
	}
	for (size_t i = 0; i < sizeof(old_names) / sizeof(old_names[0]); i++) {
		pin_path(p, sizeof(p), c->root, old_names[i]);
		if (unlink(p) && errno != ENOENT)
			err = -errno;
	}
	if (rmdir(c->root) && errno != ENOENT)
		err = -errno;
	return err;
}

void cmm_close(struct cmm *c)
{
	if (c->flowslots)
		munmap(c->flowslots, c->flowslots_len);
	c->flowslots = NULL;
	c->nflowslots = 0;
	if (c->counts)
		munmap(c->counts, c->counts_len);
	c->counts = NULL;
	if (c->skel) {
		xchan_bpf__destroy(c->skel);	/* closes the fds it owns */
		c->skel = NULL;
	} else {
		if (c->prog_fd >= 0)
			close(c->prog_fd);
		if (c->rx_fd >= 0)
			close(c->rx_fd);
		for (int i = 0; i < M__N; i++)
			if (c->map_fd[i] >= 0)
				close(c->map_fd[i]);
	}
	c->prog_fd = -1;
	c->rx_fd = -1;
	for (int i = 0; i < M__N; i++)
		c->map_fd[i] = -1;
}

/* The one frame of the trusted path: loopback to loopback on the control port. The
 * CMM answers in place, so the reply sits where the request's xchan header was. */
struct ctrl_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	struct xchan_hdr xh;
} __attribute__((packed));

static uint16_t ip_csum(const void *data, size_t len)
{
	const uint16_t *w = data;
	uint32_t sum = 0;

	for (size_t i = 0; i < len / 2; i++)
		sum += w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static void ctrl_frame_build(struct ctrl_frame *f, const struct xchan_hdr *req)
{
	static const uint8_t mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 1 };

	memset(f, 0, sizeof(*f));
	memcpy(f->eth.h_source, mac, ETH_ALEN);
	memcpy(f->eth.h_dest, mac, ETH_ALEN);
	f->eth.h_proto = htons(ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.ttl = XCHAN_IP_TTL;
	f->ip.protocol = IPPROTO_UDP;
	f->ip.tot_len = htons(sizeof(*f) - sizeof(f->eth));
	f->ip.saddr = htonl(INADDR_LOOPBACK);
	f->ip.daddr = htonl(INADDR_LOOPBACK);
	f->ip.check = ip_csum(&f->ip, sizeof(f->ip));
	f->udp.source = htons(XCHAN_UDP_PORT);
	f->udp.dest = htons(XCHAN_UDP_PORT);
	f->udp.len = htons(sizeof(f->udp) + sizeof(f->xh));
	/* UDP checksum 0: none, as IPv4 allows; the CMM does not check it */
	f->xh = *req;
}

int cmm_ctrl(struct cmm *c, const struct xchan_hdr *req, struct xchan_hdr *reply)
{
	struct ctrl_frame in, out;
	int err;

	ctrl_frame_build(&in, req);
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = &in, .data_size_in = sizeof(in),
		.data_out = &out, .data_size_out = sizeof(out),
		.repeat = 1);
	err = bpf_prog_test_run_opts(c->prog_fd, &o);
	/* The request held the key: wipe both frames before looking at the answer. */
	explicit_bzero(&in, sizeof(in));
	if (err) {
		err = -errno;
		goto out;
	}
	if (o.retval != XDP_TX || o.data_size_out < sizeof(out)) {
		err = -EPROTO;
		goto out;
	}
	*reply = out.xh;
out:
	explicit_bzero(&out, sizeof(out));
	return err;
}

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *m = data;
	uint64_t last = 0;
	struct sip s;
	size_t i;

	sip_init(&s, sip_le64(key), sip_le64(key + 8));
	for (i = 0; i + 8 <= len; i += 8)
		sip_word(&s, sip_le64(m + i));
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)m[i + j] << (8 * j);
	return sip_final(&s, last, len);
}

int cmm_percpu_sum(int fd, const void *key, void *out, size_t sz)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (sz + 7) & ~7UL;
	uint64_t *acc = out;
	uint8_t *vals;

	if (ncpu < 1)
		return -EINVAL;
	vals = calloc(ncpu, stride);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	memset(out, 0, sz);
	for (int cpu = 0; cpu < ncpu; cpu++) {
		const uint64_t *v = (const uint64_t *)(vals + cpu * stride);

		for (size_t f = 0; f < sz / 8; f++)
			acc[f] += v[f];
	}
	free(vals);
	return 0;
}
