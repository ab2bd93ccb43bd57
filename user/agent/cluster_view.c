// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cluster_view.c: the store as the watch delivered it, a sorted array of keys and
 * values: a list replaces it whole, each event sets or removes one key. */
#include <stdlib.h>
#include <string.h>
#include "cluster.h"

/* Index of key, or of where it would go (*found false). */
static size_t find(const struct view *v, const char *key, bool *found)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(v->kv[mid].key, key);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

void view_set(struct view *v, const char *key, const char *val, int64_t rev, int64_t lease)
{
	bool found;
	size_t i = find(v, key, &found);
	char *nv = strdup(val), *nk = found ? NULL : strdup(key);

	if (!nv || (!found && !nk))
		goto oom;
	if (rev > v->rev)
		v->rev = rev;
	if (found) {
		free(v->kv[i].val);
		v->kv[i].val = nv;
		v->kv[i].mod_rev = rev;
		v->kv[i].lease = lease;
		return;
	}
	if (!xc_grow((void **)&v->kv, &v->n, &v->cap, sizeof(*v->kv)))
		goto oom;
	/* the new slot is the last: open one at i, where the key sorts */
	memmove(&v->kv[i + 1], &v->kv[i], (v->n - 1 - i) * sizeof(*v->kv));
	v->kv[i] = (struct view_kv){ .key = nk, .val = nv, .mod_rev = rev, .lease = lease };
	return;
oom:
	/* the key stays as it was; the next list puts it right */
	free(nv);
	free(nk);
}

void view_del(struct view *v, const char *key)
{
	bool found;
	size_t i = find(v, key, &found);

	if (!found)
		return;
	free(v->kv[i].key);
	free(v->kv[i].val);
	memmove(&v->kv[i], &v->kv[i + 1], (v->n - i - 1) * sizeof(*v->kv));
	v->n--;
}

void view_clear(struct view *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->kv[i].key);
		free(v->kv[i].val);
	}
	v->n = 0;
}

const struct view_kv *view_get(const struct view *v, const char *key)
{
	bool found;
	size_t i = find(v, key, &found);

	return found ? &v->kv[i] : NULL;
}

size_t view_under(const struct view *v, const char *sub, size_t *first)
{
	size_t len = strlen(sub), i;
	bool found;

	i = find(v, sub, &found);
	*first = i;
	while (i < v->n && !strncmp(v->kv[i].key, sub, len))
		i++;
	return i - *first;
}
