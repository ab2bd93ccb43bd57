/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* doctor.h: can the processes of a partition reach xchan's pinned maps? */
#ifndef XCHAN_DOCTOR_H
#define XCHAN_DOCTOR_H

#include <stdbool.h>

enum verdict {
	V_EMPTY,	/* no process lives in the netns: nothing to inspect */
	V_OK,		/* user-namespaced, no host capabilities, pins out of reach */
	V_AT_RISK,	/* host uid 0 or host capabilities, but the bpffs is not visible */
	V_EXPOSED,	/* a host-root process sees the bpffs that holds the pins */
};

struct diagnosis {
	enum verdict v;
	int nproc;
	char reasons[1024];	/* "; "-separated, for people */
};

extern const char *const verdict_names[];

/* Inspects the processes whose netns is nspath, against the bpffs of pin_root. */
int doctor_netns(const char *nspath, const char *pin_root, struct diagnosis *d);

#endif
