/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* json.h: a small streaming JSON writer for -j output (one document per command). */
#ifndef XCHAN_JSON_H
#define XCHAN_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jw {
	FILE *f;
	int depth;
	bool first[16];
};

void jw_init(struct jw *w, FILE *f);
void jw_obj(struct jw *w, const char *key);	/* key NULL inside arrays / at top */
void jw_arr(struct jw *w, const char *key);
void jw_end_obj(struct jw *w);
void jw_end_arr(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *v);
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_done(struct jw *w);			/* newline after the document */

#endif
