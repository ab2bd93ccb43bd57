// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* json.c: the JSON writer behind -j. */
#include <inttypes.h>
#include "json.h"

void jw_init(struct jw *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->first[0] = true;
}

static void put_str(FILE *f, const char *v)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* Comma before every member but the first; then the key, if in an object. */
static void sep(struct jw *w, const char *key)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
	if (key) {
		put_str(w->f, key);
		fputc(':', w->f);
	}
}

static void open_(struct jw *w, const char *key, char c)
{
	sep(w, key);
	fputc(c, w->f);
	if (w->depth < 15)
		w->depth++;
	w->first[w->depth] = true;
}

void jw_obj(struct jw *w, const char *key) { open_(w, key, '{'); }
void jw_arr(struct jw *w, const char *key) { open_(w, key, '['); }
void jw_end_obj(struct jw *w) { fputc('}', w->f); w->depth--; }
void jw_end_arr(struct jw *w) { fputc(']', w->f); w->depth--; }

void jw_str(struct jw *w, const char *key, const char *v)
{
	sep(w, key);
	put_str(w->f, v);
}

void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	sep(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	sep(w, key);
	fputs(v ? "true" : "false", w->f);
}

void jw_done(struct jw *w)
{
	fputc('\n', w->f);
	fflush(w->f);
}
