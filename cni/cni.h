/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cni.h: what xchan-cni's files share: the runtime's call (environment and network
 * configuration) as the plugin reads it, and the answers it writes. */
#ifndef XCHAN_CNI_H
#define XCHAN_CNI_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "xc.h"

/* CNI error codes (spec 1.0, "Error" section) and the plugin's own from 100. */
enum {
	CNI_E_VERSION = 1, CNI_E_ENV = 4, CNI_E_IO = 5, CNI_E_DECODE = 6, CNI_E_CONFIG = 7,
	CNI_E_XCHAN = 100,
};

struct cni_call {
	const char *command, *netns, *ifname, *container;
	const char *version;		/* the configuration's cniVersion */
	const char *pin_root;		/* "pinRoot", default /sys/fs/bpf/xchan */
	uint32_t id_base;		/* "idBase": first id to allocate, default 1000 */
	bool isolated;			/* "isolated" */
	struct json_object *conf, *prev;	/* prev: prevResult or NULL */
	/* from CNI_ARGS (XCHAN_ID, XCHAN_NAME, XCHAN_ISOLATED) or args.cni, else allocated
	 * and the runtime's name (K8S_POD_NAME, which podman sets to the container's) */
	uint32_t id;
	char name[XCHAN_NAME_LEN];
	char pod[64], pod_ns[64];	/* K8S_POD_NAME, K8S_POD_NAMESPACE as given (cut
					 * at 63: too long for a name anyway) */
	char msg[300];			/* why it failed */
	int code;
};

/* Parses stdin and the environment into c; 0, or a CNI error code with c->msg. */
int cni_read(struct cni_call *c);
/* The container interface's IPv4 address in prevResult, dotted, into ip (16 bytes). */
int cni_prev_ip(struct cni_call *c, char *ip);
void cni_print_error(const struct cni_call *c);
void cni_print_version(void);
/* ADD's output: prevResult as it came, with the configuration's cniVersion. */
void cni_print_prev(const struct cni_call *c);
int cni_fail(struct cni_call *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
