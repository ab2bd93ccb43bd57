// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* swap.c: xchan-bench-swap PIN_ROOT OBJECT DEV...: loads another build of the CMM
 * (e.g. build/xchan_sip13.bpf.o) over a running instance's pinned maps and attaches
 * it in place of the instance's program on each DEV of the caller's netns, so that
 * the bench can measure a variant on the live path with the channels the agent made.
 * The instance's own program stays pinned; `xchan-bench detach` removes the variant. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

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

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *rx;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: xchan-bench-swap PIN_ROOT OBJECT DEV...\n");
		return 2;
	}
	libbpf_set_print(NULL);
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
	for (int i = 3; i < argc; i++) {
		int ifindex = if_nametoindex(argv[i]);

		if (!ifindex || (bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL) &&
				 bpf_xdp_attach(ifindex, fd, XDP_FLAGS_SKB_MODE, NULL))) {
			fprintf(stderr, "xchan-bench-swap: cannot attach to %s\n", argv[i]);
			return 1;
		}
	}
	bpf_object__close(obj);	/* the attachments keep the program */
	return 0;
}
