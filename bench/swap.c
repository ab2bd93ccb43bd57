// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* swap.c: xchan-bench-swap PIN_ROOT OBJECT|--full-path|--pinned DEV...: loads another build of
 * the CMM (e.g. build/xchan_sip13.bpf.o) over a running instance's pinned maps and
 * attaches it in place of the instance's program on each DEV of the caller's netns,
 * so that the bench can measure a variant on the live path with the channels the
 * agent made. --full-path: the instance's program with its flow cache left out
 * (bench_no_flow), i.e. every frame through the full path. The instance's own
 * program stays pinned; --pinned puts it back
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
#include "xchan.skel.h"

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

/* The instance's own program built with the flow cache left out (bench_no_flow,
 * bpf/flow.h): the full path, for the row beside the fast path. Its fd or -1. */
static int load_full_path(const char *root)
{
	struct xchan_bpf *p = xchan_bpf__open();

	if (!p || reuse_pins(p->obj, root))
		return -1;
	p->rodata->bench_no_flow = 1;
	bpf_program__set_autoload(p->progs.xchan_rx, false);
	if (xchan_bpf__load(p))
		return -1;
	return bpf_program__fd(p->progs.xchan_cmm);	/* kept until exit */
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *rx;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: xchan-bench-swap PIN_ROOT OBJECT|--full-path|--pinned DEV...\n");
		return 2;
	}
	libbpf_set_print(NULL);
	if (!strcmp(argv[2], "--pinned")) {
		fd = pin_fd(argv[1], XCHAN_PROG_PIN);
		return fd < 0 ? 1 : attach_all(fd, argc - 3, argv + 3);
	}
	if (!strcmp(argv[2], "--full-path")) {
		fd = load_full_path(argv[1]);
		if (fd < 0) {
			fprintf(stderr, "xchan-bench-swap: cannot load the full-path CMM over %s\n", argv[1]);
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
