// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* audit.c: the event budgets the datapath keeps per source (xchan_evlimit,
 * xchan_evpeer): reading what each source emitted, had suppressed or lost, and
 * forgetting a partition's when it goes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "xc_int.h"

static const char *const src_kinds[] = {
	[XCHAN_SRC_HOST] = "host", [XCHAN_SRC_PART] = "partition",
	[XCHAN_SRC_TO_PART] = "to_partition", [XCHAN_SRC_PEER] = "peer",
	[XCHAN_SRC_IFACE] = "interface",
};

const char *xc_src_kind_name(uint32_t kind)
{
	return kind < sizeof(src_kinds) / sizeof(src_kinds[0]) && src_kinds[kind] ?
	       src_kinds[kind] : "unknown";
}

struct src_list {
	int fd;
	struct xc_evsource *v;
	size_t n, cap;
};

static int src_one(const void *key, void *ctx)
{
	struct src_list *l = ctx;
	struct xc_evsource *s = xc_grow((void **)&l->v, &l->n, &l->cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	memcpy(&s->src, key, sizeof(s->src));
	if (bpf_map_lookup_elem(l->fd, key, &s->l))
		l->n--;		/* gone meanwhile */
	return 0;
}

int xc_evsources(struct xc *x, struct xc_evsource **out, size_t *n, struct xc_err *e)
{
	static const enum cmm_map maps[] = { M_EVLIMIT, M_EVPEER };
	struct src_list l = {};
	int err = 0;

	for (size_t i = 0; i < 2 && !err; i++) {
		l.fd = XC_FD(x, maps[i]);
		err = xc_map_each(l.fd, sizeof(struct xchan_src_key), src_one, &l);
	}
	if (err) {
		free(l.v);
		return xc_fail(e, err, "cannot read the event budgets: %s", strerror(-err));
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

void evlimit_forget(struct xc *x, uint32_t part)
{
	struct xchan_src_key k = { .id = part, .kind = XCHAN_SRC_PART };

	bpf_map_delete_elem(XC_FD(x, M_EVLIMIT), &k);
	k.kind = XCHAN_SRC_TO_PART;
	bpf_map_delete_elem(XC_FD(x, M_EVLIMIT), &k);
}
