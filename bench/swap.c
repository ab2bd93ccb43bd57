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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include <sys/random.h>
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

/* Sets variable name (size bytes) of the object's .rodata before load: 0, or -1
 * where the object has no such variable. */
static int rodata_set(struct bpf_object *obj, const char *name, const void *v, size_t size)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, ".rodata");
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *t;
	const void *cur;
	int id, err = -1;
	size_t len;
	char *data;

	if (!m || !btf || !(cur = bpf_map__initial_value(m, &len)))
		return -1;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(t);
	for (int i = 0; i < btf_vlen(t); i++, vs++) {
		if (strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off), name))
			continue;
		if (vs->size != size || vs->offset + size > len || !(data = malloc(len)))
			return -1;
		memcpy(data, cur, len);
		memcpy(data + vs->offset, v, size);
		err = bpf_map__set_initial_value(m, data, len) ? -1 : 0;
		free(data);
		break;
	}
	return err;
}

/* The flow cache as cmm.c loads an instance's program (on where loads keep their
 * order, a seed no partition knows), so that another build over the instance's maps
 * runs what the instance runs: without, every frame would skip the cache's probe. */
static void flow_cache_as_instance(struct bpf_object *obj)
{
	uint32_t seed;

#if defined(__x86_64__)
	rodata_set(obj, "flow_cache_on", &(uint8_t){ 1 }, 1);
#endif
	if (getrandom(&seed, sizeof(seed), 0) == sizeof(seed))
		rodata_set(obj, "flow_cache_seed", &seed, sizeof(seed));
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
	flow_cache_as_instance(obj);
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
