// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* swap.c: xchan-bench-swap PIN_ROOT OBJECT|--flows DEV...: loads another build of
 * the CMM (e.g. build/xchan_sip13.bpf.o) over a running instance's pinned maps and
 * attaches it in place of the instance's program on each DEV of the caller's netns,
 * so that the bench can measure a variant on the live path with the channels the
 * agent made. --flows: the prototype with one flow entry per channel (bpf/proto.h),
 * its entries made from the instance's established same-node channels as CONNECT
 * would make them. The instance's own program stays pinned; --pinned puts it back
 * (or `xchan-bench detach` removes the variant). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xchan.h"
#include "xchan_proto.h"
#include "xchan_proto.skel.h"

static int reuse_pins(struct bpf_object *obj, const char *root)
{
	struct bpf_map *m;
	char path[512];

	bpf_object__for_each_map(m, obj) {
		int fd;

		if (bpf_map__is_internal(m))
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, bpf_map__name(m));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;	/* not one of the instance's: the variant's own */
		if (bpf_map__reuse_fd(m, fd)) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static int attach_all(int fd, int n, char **devs)
{
	for (int i = 0; i < n; i++) {
		int ifindex = if_nametoindex(devs[i]);

		if (!ifindex || (bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL) &&
				 bpf_xdp_attach(ifindex, fd, XDP_FLAGS_SKB_MODE, NULL))) {
			fprintf(stderr, "xchan-bench-swap: cannot attach to %s\n", devs[i]);
			return 1;
		}
	}
	return 0;
}

static int pin_fd(const char *root, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	return bpf_obj_get(path);
}

/* The flow entry of OUT key id, if its IN key is on this node too (same node). */
static int flow_of(int keys, int meta, int parts, int addrs, const struct xchan_chan_id *id,
		   const struct xchan_key *kout, struct proto_flow_key *fk, struct proto_flow *f)
{
	struct xchan_chan_id in;
	struct xchan_key kin;
	struct xchan_part_meta m;
	struct xchan_partition p;
	struct xchan_address a;

	xchan_chan_id_make(&in, id->remote_part, id->remote_ep, id->local_part, id->local_ep,
			   XCHAN_DIR_IN);
	if (bpf_map_lookup_elem(keys, &in, &kin) || bpf_map_lookup_elem(meta, &id->remote_part, &m) ||
	    m.node_id || bpf_map_lookup_elem(parts, &m.ifindex, &p) ||
	    bpf_map_lookup_elem(addrs, &p.ip, &a))
		return -1;
	*fk = (struct proto_flow_key){ id->local_part, p.ip, htons(id->local_ep), htons(id->remote_ep) };
	*f = (struct proto_flow){ .part_id = a.part_id, .ifindex = a.ifindex, .slot = 1 };
	memcpy(f->out_key, kout->key, 16);
	memcpy(f->in_key, kin.key, 16);
	memcpy(f->mac, a.mac, 6);
	explicit_bzero(&kin, sizeof(kin));
	return 0;
}

static int fill_flows(const char *root, int flows)
{
	int keys = pin_fd(root, "xchan_keys"), meta = pin_fd(root, "xchan_partmeta");
	int parts = pin_fd(root, "xchan_partition"), addrs = pin_fd(root, "xchan_addrs");
	struct xchan_chan_id id, *cur = NULL;
	struct xchan_key k;
	int n = 0;

	while (keys >= 0 && !bpf_map_get_next_key(keys, cur, &id)) {
		struct proto_flow_key fk;
		struct proto_flow f;

		cur = &(struct xchan_chan_id){};
		*cur = id;
		if (id.dir != XCHAN_DIR_OUT || bpf_map_lookup_elem(keys, &id, &k) ||
		    flow_of(keys, meta, parts, addrs, &id, &k, &fk, &f))
			continue;
		if (!bpf_map_update_elem(flows, &fk, &f, BPF_ANY))
			n++;
		explicit_bzero(&f, sizeof(f));
	}
	explicit_bzero(&k, sizeof(k));
	close(keys), close(meta), close(parts), close(addrs);
	return n;
}

/* The one-lookup prototype over the instance's maps; its program fd or -1. */
static int load_flows(const char *root)
{
	struct xchan_proto_bpf *p = xchan_proto_bpf__open();
	int n;

	if (!p || reuse_pins(p->obj, root))
		return -1;
	p->rodata->proto_mode = 2;
	bpf_program__set_autoload(p->progs.xchan_rx, false);
	if (xchan_proto_bpf__load(p))
		return -1;
	n = fill_flows(root, bpf_map__fd(p->maps.proto_flows));
	fprintf(stderr, "xchan-bench-swap: %d flow entries\n", n);
	return n > 0 ? bpf_program__fd(p->progs.xchan_cmm) : -1;	/* kept until exit */
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *rx;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: xchan-bench-swap PIN_ROOT OBJECT|--flows|--pinned DEV...\n");
		return 2;
	}
	libbpf_set_print(NULL);
	if (!strcmp(argv[2], "--pinned")) {
		fd = pin_fd(argv[1], XCHAN_PROG_PIN);
		return fd < 0 ? 1 : attach_all(fd, argc - 3, argv + 3);
	}
	if (!strcmp(argv[2], "--flows")) {
		fd = load_flows(argv[1]);
		if (fd < 0) {
			fprintf(stderr, "xchan-bench-swap: cannot load the flow prototype over %s\n", argv[1]);
			return 1;
		}
		return attach_all(fd, argc - 3, argv + 3);
	}
	obj = bpf_object__open_file(argv[2], NULL);
	if (!obj || reuse_pins(obj, argv[1])) {
		fprintf(stderr, "xchan-bench-swap: cannot open %s over %s\n", argv[2], argv[1]);
		return 1;
	}
	rx = bpf_object__find_program_by_name(obj, "xchan_rx");
	if (rx)
		bpf_program__set_autoload(rx, false);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "xchan-bench-swap: cannot load %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "xchan_cmm"));
	return attach_all(fd, argc - 3, argv + 3);	/* the attachments keep the program */
}
