// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* apply.c: `xchan apply FILE`: a declarative list of partitions and channels,
 * made true with the fewest changes. Idempotent; all-or-nothing per run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "agent.h"

/* File format, one statement per line, '#' starts a comment:
 *   partition ID [--name NAME] (--netns NS | --pid PID | --podman C | --dev IF) [--ip A] [--isolated]
 *   channel SRC DST          (SRC, DST as PART:PORT)
 */
#define MAX_TOK 16

struct stmt {
	int line;
	bool is_chan;
	int argc;
	char *argv[MAX_TOK];
	char *text;		/* the line's copy that argv points into */
	struct endpoint src, dst;	/* channels, resolved at apply time */
};

struct done {			/* what this run changed, to undo on failure */
	bool is_chan;
	uint32_t part;
	struct endpoint src, dst;
};

static int tokenize(char *line, char **tok, int max)
{
	int n = 0;

	for (char *t = strtok(line, " \t\r\n"); t; t = strtok(NULL, " \t\r\n")) {
		if (*t == '#')
			break;
		if (n == max)
			return -1;
		tok[n++] = t;
	}
	return n;
}

static bool chan_present(struct agent *a, const struct endpoint *s, const struct endpoint *d,
			 int *parts)
{
	struct xchan_chan_id in, out;
	struct xchan_channel ch;
	struct xchan_key k;
	int n = 0;

	chan_id_make(&out, s->part, s->port, d->part, d->port, XCHAN_DIR_OUT);
	chan_id_make(&in, d->part, d->port, s->part, s->port, XCHAN_DIR_IN);
	/* both entries, both established, both keys: anything less is a channel an
	 * interrupted run left half-made */
	n += !bpf_map_lookup_elem(a->cmm.map_fd[M_CHANNELS], &out, &ch);
	n += n == 1 && ch.state == XCHAN_S_ESTABLISHED;
	if (!bpf_map_lookup_elem(a->cmm.map_fd[M_CHANNELS], &in, &ch))
		n += 1 + (ch.state == XCHAN_S_ESTABLISHED);
	n += !bpf_map_lookup_elem(a->cmm.map_fd[M_KEYS], &out, &k);
	n += !bpf_map_lookup_elem(a->cmm.map_fd[M_KEYS], &in, &k);
	explicit_bzero(&k, sizeof(k));
	*parts = n;
	return n == 6;
}

static int cmp_id(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct xchan_chan_id));
}

int do_apply(struct agent *a, int argc, char **argv)
{
	bool prune = false;
	const char *path = NULL;
	struct stmt *st = NULL;
	struct done *done = NULL;
	size_t nst = 0, cap = 0, ndone = 0, unchanged = 0;
	char *buf = NULL;
	size_t blen = 0;
	FILE *f;
	int ret = EXIT_OK, lineno = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--prune"))
			prune = true;
		else if (!path)
			path = argv[i];
		else
			path = NULL, i = argc;
	}
	if (!path) {
		xerr("usage: xchan apply FILE [--prune]");
		return EXIT_USAGE;
	}
	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		xerr("cannot read %s: %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	/* Parse everything first: a syntax error changes nothing. */
	while (getline(&buf, &blen, f) > 0) {
		struct stmt s = { .line = ++lineno };
		char *copy, *tok[MAX_TOK + 1];
		int n;

		copy = strdup(buf);
		n = tokenize(copy, tok, MAX_TOK);
		if (n == 0) {
			free(copy);
			continue;
		}
		if (n < 0 || (strcmp(tok[0], "partition") && strcmp(tok[0], "channel")) ||
		    (!strcmp(tok[0], "channel") && n != 3) || (!strcmp(tok[0], "partition") && n < 3)) {
			xerr("%s:%d: expected 'partition ID ...' or 'channel SRC DST'", path, lineno);
			free(copy);
			ret = EXIT_USAGE;
			goto out;
		}
		s.is_chan = !strcmp(tok[0], "channel");
		s.text = copy;
		s.argc = n - 1;
		memcpy(s.argv, tok + 1, (n - 1) * sizeof(char *));
		s.argv[s.argc] = NULL;
		if (nst == cap) {
			struct stmt *bigger = realloc(st, (cap ? cap * 2 : 256) * sizeof(*st));

			if (!bigger) {
				free(copy);
				ret = EXIT_FAIL;
				goto out;
			}
			st = bigger;
			cap = cap ? cap * 2 : 256;
		}
		st[nst++] = s;
	}
	ret = agent_open(a, true);
	if (ret)
		goto out;
	done = calloc(nst + 1, sizeof(*done));
	if (!done) {
		ret = EXIT_FAIL;
		goto out;
	}
	if (a->json)
		jw_obj(&a->jw, NULL), jw_arr(&a->jw, "changed");
	for (size_t i = 0; i < nst; i++) {
		struct stmt *s = &st[i];
		char desc[160];

		snprintf(xerr_where, sizeof(xerr_where), "%s:%d", path, s->line);
		if (!s->is_chan) {
			struct xchan_part_meta m;
			uint32_t id;
			const char *name = "";

			for (int j = 1; j + 1 < s->argc; j++)
				if (!strcmp(s->argv[j], "--name"))
					name = s->argv[j + 1];
			if (parse_u32(s->argv[0], &id) || !id) {
				xerr("partition ID must be a positive number");
				ret = EXIT_USAGE;
				goto undo;
			}
			if (!bpf_map_lookup_elem(a->cmm.map_fd[M_PARTMETA], &id, &m)) {
				if (strcmp(m.name, name)) {
					xerr("partition %u exists as '%s'; delete it first to rename it",
					     id, m.name);
					ret = EXIT_FAIL;
					goto undo;
				}
				unchanged++;
				continue;
			}
			bool json = a->json;

			a->json = true;		/* part_add's own report is not wanted here */
			FILE *saved = a->jw.f;

			a->jw.f = fopen("/dev/null", "w");
			ret = part_add(a, s->argc, s->argv);
			fclose(a->jw.f);
			a->jw.f = saved;
			a->json = json;
			if (ret)
				goto undo;
			done[ndone++] = (struct done){ .part = id };
			snprintf(desc, sizeof(desc), "partition %u added", id);
		} else {
			int parts;

			ret = parse_endpoint(a, s->argv[0], &s->src, false);
			if (!ret)
				ret = parse_endpoint(a, s->argv[1], &s->dst, false);
			if (ret)
				goto undo;
			if (chan_present(a, &s->src, &s->dst, &parts)) {
				unchanged++;
				continue;
			}
			if (parts)	/* a half-made channel from an earlier failure: start over */
				chan_close(a, &s->src, &s->dst);
			ret = chan_open(a, &s->src, &s->dst);
			if (ret)
				goto undo;
			done[ndone++] = (struct done){ .is_chan = true, .src = s->src, .dst = s->dst };
			snprintf(desc, sizeof(desc), "channel %s -> %s opened", s->argv[0], s->argv[1]);
		}
		if (a->json)
			jw_str(&a->jw, NULL, desc);
		else
			printf("%s\n", desc);
	}
	xerr_where[0] = '\0';
	if (prune) {
		/* Every channel the file does not name is closed, whichever of its
		 * entries exist (an authorization alone counts). */
		struct xchan_chan_id *named = calloc(nst + 1, sizeof(*named)), id;
		struct xchan_chan_id *victims = NULL;
		size_t nn = 0, nv = 0, vcap = 0;
		int fd = a->cmm.map_fd[M_CHANNELS];

		for (size_t i = 0; named && i < nst; i++)
			if (st[i].is_chan)
				chan_id_make(&named[nn++], st[i].src.part, st[i].src.port,
					     st[i].dst.part, st[i].dst.port, XCHAN_DIR_OUT);
		qsort(named, nn, sizeof(*named), cmp_id);
		for (int err = bpf_map_get_next_key(fd, NULL, &id); !err;
		     err = bpf_map_get_next_key(fd, &id, &id)) {
			struct xchan_chan_id o = id;

			if (id.dir == XCHAN_DIR_IN)
				chan_id_make(&o, id.remote_part, id.remote_ep, id.local_part,
					     id.local_ep, XCHAN_DIR_OUT);
			if (bsearch(&o, named, nn, sizeof(o), cmp_id))
				continue;
			if (nv == vcap) {
				vcap = vcap ? vcap * 2 : 64;
				victims = realloc(victims, vcap * sizeof(*victims));
			}
			victims[nv++] = o;
		}
		/* an IN and an OUT entry of one channel name the same victim */
		qsort(victims, nv, sizeof(*victims), cmp_id);
		for (size_t i = 0; i < nv; i++) {
			if (i && !cmp_id(&victims[i], &victims[i - 1]))
				continue;
			struct endpoint s = { victims[i].local_part, victims[i].local_ep };
			struct endpoint d = { victims[i].remote_part, victims[i].remote_ep };
			char desc[96];

			chan_close(a, &s, &d);
			snprintf(desc, sizeof(desc), "channel %u:%u -> %u:%u closed (pruned)", s.part,
				 s.port, d.part, d.port);
			if (a->json)
				jw_str(&a->jw, NULL, desc);
			else
				printf("%s\n", desc);
		}
		free(named);
		free(victims);
	}
	if (a->json) {
		jw_end_arr(&a->jw);
		jw_u64(&a->jw, "unchanged", unchanged);
		jw_end_obj(&a->jw);
		jw_done(&a->jw);
	} else {
		printf("%zu change(s), %zu unchanged\n", ndone, unchanged);
	}
	ret = EXIT_OK;
	goto out;
undo:
	xerr_where[0] = '\0';
	/* Undo this run's changes, newest first: the tables are as they were. */
	while (ndone--) {
		if (done[ndone].is_chan)
			chan_close(a, &done[ndone].src, &done[ndone].dst);
		else
			part_remove(a, done[ndone].part, true);
	}
	if (a->json) {
		jw_end_arr(&a->jw);
		jw_end_obj(&a->jw);
		jw_done(&a->jw);
	}
out:
	for (size_t i = 0; i < nst; i++)
		free(st[i].text);
	free(st);
	free(done);
	free(buf);
	if (f && f != stdin)
		fclose(f);
	return ret;
}
