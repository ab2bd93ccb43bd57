/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* test_etcd.h: what the files of test_etcd share: the PASS/FAIL line, the clock, and
 * the modes main() dispatches to in test_etcd_nodes.c and test_etcd_malformed.c. */
#ifndef XCHAN_TEST_ETCD_H
#define XCHAN_TEST_ETCD_H

#include <stdbool.h>

/* Prints "PASS what", or "FAIL what: why" and counts the failure; returns ok. */
bool check(bool ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int checks_failed(void);
double now_s(void);

int mode_publish(const char *url, const char *dir, unsigned int ttl);
int mode_pair(const char *url, const char *da, const char *pa, const char *db, const char *pb);
int mode_rotate(const char *dir);
/* test_etcd_malformed.c: a fake gateway of its own, no etcd. */
int mode_malformed(void);

#endif
