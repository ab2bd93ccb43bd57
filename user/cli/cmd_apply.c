// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_apply.c: `xchan apply FILE [--prune]`: the file is parsed here, whole, before
 * anything changes (errors FILE:LINE); the library plans and makes the changes. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "etcd.h"

/* File format, one statement per line, '#' starts a comment:
 *   partition ID [--node N] [options of partition add]   (--node: only with --etcd)
 *   channel SRC DST          (SRC, DST as PART:PORT) */
#define MAX_TOK 16

struct apply_cfg {
	const char *file;
	bool prune;
	const char *etcd, *prefix;
};

struct line {
	int lineno, ntok;
	char *text;			/* the copy tok points into */
	char *tok[MAX_TOK + 1];
	struct part_add_cfg part;
};

struct parsed {
	const char *path;
	bool store;			/* apply --etcd: partitions name their node */
	struct line *l;
	struct xc_stmt *st;
	size_t n, cap;
};

static int tokenize(char *s, char **tok)
{
	int n = 0;

	for (char *t = strtok(s, " \t\r\n"); t; t = strtok(NULL, " \t\r\n")) {
		if (*t == '#')
			break;
		if (n == MAX_TOK)
			return -1;
		tok[n++] = t;
	}
	return n;
}

static int where(struct cli *c, const char *path, int lineno)
{
	char msg[sizeof(c->err.msg)];

	snprintf(msg, sizeof(msg), "%s", c->err.msg);
	snprintf(c->err.msg, sizeof(c->err.msg), "%.80s:%d: %.160s", path, lineno, msg);
	return -EINVAL;
}

/* --node N out of a partition statement's words (apply --etcd only). */
static int take_node(struct cli *c, struct line *l, int *ntok, bool store, uint32_t *node)
{
	for (int i = 1; i < *ntok; i++) {
		if (strcmp(l->tok[i], "--node"))
			continue;
		if (!store)
			return xc_bad(&c->err, "--node: only with apply --etcd (the store says where a partition lives)");
		if (i + 1 >= *ntok || xc_parse_u32(l->tok[i + 1], node) || !*node)
			return xc_bad(&c->err, "--node: expected a node id, 1-4294967295");
		memmove(&l->tok[i], &l->tok[i + 2], (*ntok - i - 1) * sizeof(l->tok[0]));
		*ntok -= 2;
		return 0;
	}
	return 0;
}

/* One statement into l and st; 0, or -EINVAL with the error in c->err. */
static int parse_stmt(struct cli *c, struct line *l, int ntok, bool store, struct xc_stmt *st)
{
	bool help;
	int used;

	memset(st, 0, sizeof(*st));
	if (ntok > 0 && !strcmp(l->tok[0], "partition") && take_node(c, l, &ntok, store, &st->node))
		return -EINVAL;
	if (ntok < 0)
		return xc_bad(&c->err, "more than %d words", MAX_TOK);
	if ((strcmp(l->tok[0], "partition") && strcmp(l->tok[0], "channel")) ||
	    (!strcmp(l->tok[0], "channel") && ntok != 3) ||
	    (!strcmp(l->tok[0], "partition") && ntok < 3))
		return xc_bad(&c->err, "expected 'partition ID ...' or 'channel SRC DST'");
	if (!strcmp(l->tok[0], "channel")) {
		st->is_chan = true;
		st->src = l->tok[1];
		st->dst = l->tok[2];
		return 0;
	}
	memset(&l->part, 0, sizeof(l->part));
	used = params_parse("partition", part_add_opts, ntok - 1, l->tok + 1, &l->part, false,
			    &help, &c->err);
	if (used >= 0 && help)
		return xc_bad(&c->err, "partition: -h has no place in a file");
	return used < 0 ? used : part_spec_from(&l->part, &st->part, &c->err);
}

static int read_file(struct cli *c, FILE *f, struct parsed *p)
{
	char *buf = NULL;
	size_t blen = 0;
	int lineno = 0, err = 0;

	while (!err && getline(&buf, &blen, f) > 0) {
		struct line *l;
		int ntok;

		lineno++;
		l = xc_grow((void **)&p->l, &p->n, &p->cap, sizeof(*l));
		if (!l) {
			err = xc_fail(&c->err, -ENOMEM, "cannot read %s: out of memory", p->path);
			break;
		}
		l->lineno = lineno;
		l->text = strdup(buf);
		if (!l->text) {
			p->n--;
			err = xc_fail(&c->err, -ENOMEM, "cannot read %s: out of memory", p->path);
			break;
		}
		ntok = tokenize(l->text, l->tok);
		if (ntok < 0)
			l->tok[0] = NULL;
		if (ntok == 0) {		/* blank or a comment: the slot is reused */
			free(l->text);
			p->n--;
			continue;
		}
		/* the statement is filled in once every line is in: p->l may move */
		l->tok[ntok < 0 ? 0 : ntok] = NULL;
		l->ntok = ntok;
	}
	free(buf);
	return err;
}

/* Parses every line: a syntax error changes nothing. */
static int parse_all(struct cli *c, struct parsed *p)
{
	p->st = calloc(p->n + 1, sizeof(*p->st));
	if (!p->st)
		return xc_fail(&c->err, -ENOMEM, "cannot read %s: out of memory", p->path);
	for (size_t i = 0; i < p->n; i++) {
		if (parse_stmt(c, &p->l[i], p->l[i].ntok, p->store, &p->st[i]))
			return where(c, p->path, p->l[i].lineno);
	}
	return 0;
}

static void change_out(struct cli *c, const struct parsed *p, const struct xc_change *ch)
{
	char desc[160];

	if (ch->kind == XC_CH_PART_ADDED) {
		part_warn(&ch->part);
		snprintf(desc, sizeof(desc), "partition %u added", ch->part.id);
	} else if (ch->kind == XC_CH_CHAN_OPENED) {
		snprintf(desc, sizeof(desc), "channel %s -> %s opened", p->st[ch->stmt].src,
			 p->st[ch->stmt].dst);
	} else {
		snprintf(desc, sizeof(desc), "channel %u:%u -> %u:%u closed (pruned)", ch->src.part,
			 ch->src.port, ch->dst.part, ch->dst.port);
	}
	if (c->json)
		jw_str(&c->jw, NULL, desc);
	else
		printf("%s\n", desc);
}

/* What changed, as it was made (on a failure: made, then undone). */
static void report(struct cli *c, const struct parsed *p, const struct xc_apply_result *r,
		   bool ok)
{
	size_t made = 0;

	if (c->json) {
		jw_obj(&c->jw, NULL);
		jw_arr(&c->jw, "changed");
	}
	for (size_t i = 0; i < r->nchanges; i++) {
		change_out(c, p, &r->changes[i]);
		made += r->changes[i].kind != XC_CH_CHAN_PRUNED;
	}
	if (c->json) {
		jw_end_arr(&c->jw);
		if (ok)
			jw_u64(&c->jw, "unchanged", r->unchanged);
		jw_end_obj(&c->jw);
		jw_done(&c->jw);
	} else if (ok) {
		printf("%zu change(s), %zu unchanged\n", made, r->unchanged);
	}
}

/* apply --etcd: the keys written, then the count. */
static int to_store(struct cli *c, const struct apply_cfg *k, struct parsed *p)
{
	struct xc_apply_result r;
	char **written = NULL;
	int err;

	if (k->prune)
		return xc_bad(&c->err, "--prune: not with --etcd (delete keys from the store instead)");
	if (etcd_url_check(k->etcd, &c->err))
		return -EINVAL;
	err = xc_apply_store(k->etcd, k->prefix, p->st, p->n, &r, &written, &c->err);
	if (err && r.failed_at_stmt)
		where(c, p->path, p->l[r.failed_stmt].lineno);
	if (!err) {
		if (c->json) {
			jw_obj(&c->jw, NULL);
			jw_arr(&c->jw, "written");
		}
		for (size_t i = 0; written && written[i]; i++) {
			if (c->json)
				jw_str(&c->jw, NULL, written[i]);
			else
				printf("%s written\n", written[i]);
		}
		if (c->json) {
			jw_end_arr(&c->jw);
			jw_u64(&c->jw, "unchanged", r.unchanged);
			jw_end_obj(&c->jw);
			jw_done(&c->jw);
		} else {
			printf("%zu key(s) written, %zu unchanged\n", r.nchanges, r.unchanged);
		}
	}
	for (size_t i = 0; written && written[i]; i++)
		free(written[i]);
	free(written);
	return err;
}

static int do_apply(struct cli *c, void *cfg)
{
	struct apply_cfg *k = cfg;
	struct parsed p = { .path = k->file, .store = !!k->etcd };
	struct xc_apply_result r = {};
	FILE *f = strcmp(k->file, "-") ? fopen(k->file, "r") : stdin;
	int err;

	if (!f)
		return xc_bad(&c->err, "cannot read %s: %s", k->file, strerror(errno));
	err = read_file(c, f, &p);
	if (!err)
		err = parse_all(c, &p);
	if (err)
		goto out;
	if (k->etcd) {
		err = to_store(c, k, &p);
		goto out;
	}
	err = xc_apply(&c->xc, p.st, p.n, k->prune, &r, &c->err);
	if (err && r.failed_at_stmt)
		where(c, p.path, p.l[r.failed_stmt].lineno);
	if (!err || r.changes)
		report(c, &p, &r, !err);
out:
	xc_apply_result_free(&r);
	for (size_t i = 0; i < p.n; i++)
		free(p.l[i].text);
	free(p.l);
	free(p.st);
	if (f != stdin)
		fclose(f);
	return err;
}

static const struct opt apply_opts[] = {
	{ NULL, 0, "FILE", OPT_STR, offsetof(struct apply_cfg, file), OPT_REQUIRED, NULL,
	  "statements, one a line: 'partition ID ...' or 'channel SRC DST' ('-': stdin)" },
	{ "--prune", 0, NULL, OPT_FLAG, offsetof(struct apply_cfg, prune), 0, NULL,
	  "close the channels the file does not name" },
	{ "--etcd", 0, "URL", OPT_STR, offsetof(struct apply_cfg, etcd), 0, NULL,
	  "write the file to the cluster store instead (partitions need --node N)" },
	{ "--prefix", 0, "PREFIX", OPT_STR, offsetof(struct apply_cfg, prefix), 0, NULL,
	  "the store's key prefix (default " ETCD_DEFAULT_PREFIX ")" },
	OPT_END,
};

const struct cmd cmd_apply = CMD("apply", apply_opts, sizeof(struct apply_cfg), do_apply, false,
	"Makes the tables say what FILE says with the fewest changes, and prints them.\n"
	"A syntax error changes nothing; a failure halfway undoes this run's changes.\n"
	"With --etcd the file becomes the cluster's desired state; the agents make it true.");
