// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* macs.bpf.c: a MAC the CMM does not use on the wire, timed through BPF_PROG_TEST_RUN
 * beside the SipHash rows of bench.bpf.c: NH-Toeplitz under SipHash-2-4 (include/nh.h,
 * bpf/nhtag.h) over what node_data.h's tag covers, a 40-byte header and the inner
 * packet (here the frame from its IPv4 header to its end). Built with -mcpu=v3. The
 * tag goes to nh_out, which the bench compares with its userspace definition.
 */
#include "nhtag.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u8 nh_chan_key[16];
struct xchan_hdr nh_hdr;
__u64 nh_key[NH_KEY_WORDS];
__u64 nh_out;

SEC("xdp")
int mac_nh(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data + ETH_HLEN, *end = (void *)(long)ctx->data_end;
	struct xchan_hdr h;
	__u32 len;

	nh_out = 0;
	if ((void *)p > (void *)end)
		return XDP_PASS;
	len = (void *)end - (void *)p;
	if (len > XCHAN_MAX_INNER)
		return XDP_PASS;
	__builtin_memcpy(&h, &nh_hdr, sizeof(h));
	nh_out = nh_tag(nh_chan_key, nh_key, &h, p, len, end);
	return XDP_PASS;
}
