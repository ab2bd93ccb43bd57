// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdp.c: the CMM on an interface through libxdp: attach, detach, and how it runs. */
#include <errno.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>
#include "xc_int.h"

const char *xc_mode_name(enum xc_mode m)
{
	return m == XC_MODE_NATIVE ? "native" : m == XC_MODE_GENERIC ? "generic" : "none";
}

/* Through libxdp, so that xchan shares the hook with other XDP programs where the
 * dispatcher can load; native where the driver has it, else generic. */
int xdp_attach(struct xc *x, uint32_t ifindex, enum xc_mode want, enum xc_mode *got)
{
	struct xdp_program *p = xdp_program__from_fd(x->cmm.prog_fd);
	int err = -EOPNOTSUPP;

	if (libxdp_get_error(p))
		return -EINVAL;
	if (want != XC_MODE_GENERIC) {
		err = xdp_program__attach(p, ifindex, XDP_MODE_NATIVE, 0);
		*got = XC_MODE_NATIVE;
	}
	if (err && want != XC_MODE_NATIVE) {
		err = xdp_program__attach(p, ifindex, XDP_MODE_SKB, 0);
		*got = XC_MODE_GENERIC;
	}
	xdp_program__close(p);
	return err;
}

/* Detaches our program from ifindex, leaving other programs where they are. */
int xdp_detach(struct xc *x, uint32_t ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	int err = 0;

	if (libxdp_get_error(mp) || !mp)
		return 0;	/* nothing attached, or the interface is gone */
	p = xdp_program__from_fd(x->cmm.prog_fd);
	if (!libxdp_get_error(p)) {
		err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
		xdp_program__close(p);
	}
	xdp_multiprog__close(mp);
	return err == -ENOENT ? 0 : err;
}

const char *xc_attached_mode(struct xc *x, uint32_t ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	const char *res = "detached";
	struct xdp_program *p;

	if (libxdp_get_error(mp) || !mp)
		return res;
	if (bpf_obj_get_info_by_fd(x->cmm.prog_fd, &info, &len))
		goto out;
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
		if (xdp_program__id(p) == info.id)
			break;
	if (!p && xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && xdp_program__id(p) != info.id)
			p = NULL;
	}
	if (p)
		res = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ? "generic" : "native";
out:
	xdp_multiprog__close(mp);
	return res;
}
