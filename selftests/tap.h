/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* tap.h: Test Anything Protocol output and ASSERT_* helpers that print actual
 * against expected and return bool, for prove(1). */
#ifndef XCHAN_TAP_H
#define XCHAN_TAP_H

#include <stdbool.h>
#include <stdio.h>

extern int tap_n, tap_failed;
extern bool tap_row_ok;

#define ASSERT_EQ(a, b, what) ({						\
	long long _a = (long long)(a), _b = (long long)(b);			\
	bool _ok = _a == _b;							\
	if (!_ok) {								\
		printf("#   %s: got %lld, want %lld\n", what, _a, _b);		\
		tap_row_ok = false;						\
	}									\
	_ok; })

#define ASSERT_TRUE(c, what) ({							\
	bool _ok = !!(c);							\
	if (!_ok) {								\
		printf("#   %s: false\n", what);				\
		tap_row_ok = false;						\
	}									\
	_ok; })

static inline void tap_begin(void) { tap_row_ok = true; }
static inline void tap_end(const char *name)
{
	tap_n++;
	if (!tap_row_ok)
		tap_failed++;
	printf("%sok %d - %s\n", tap_row_ok ? "" : "not ", tap_n, name);
	fflush(stdout);
}

#endif
