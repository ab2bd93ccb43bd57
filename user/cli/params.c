// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* params.c: the one parser of every command's options and positionals, and the
 * usage text made from the same tables. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "params.h"

/* "partition add: " before a message, nothing for the global options */
static const char *sep(const char *path)
{
	return *path ? ": " : "";
}

const struct opt opts_none[] = { OPT_END };

static bool is_end(const struct opt *o)
{
	return !o->name && !o->metavar;
}

static bool is_help(const char *w)
{
	return !strcmp(w, "-h") || !strcmp(w, "--help");
}

static bool matches(const struct opt *o, const char *w)
{
	if (!o->name)
		return false;
	if (!strcmp(o->name, w))
		return true;
	return o->short_name && w[0] == '-' && w[1] == o->short_name && !w[2];
}

static int store(const char *path, const struct opt *o, const char *val, void *cfg,
		 struct xc_err *e)
{
	void *field = (char *)cfg + o->off;
	const char *what = o->name ? o->name : o->metavar;
	uint32_t v;

	switch (o->type) {
	case OPT_FLAG:
		*(bool *)field = true;
		return 0;
	case OPT_STR:
		*(const char **)field = val;
		return 0;
	case OPT_U32:
		if (xc_parse_u32(val, &v) || (!v && (o->flags & OPT_NONZERO)))
			return xc_bad(e, "%s%s%s must be a number from %d to 4294967295, not '%s'", path,
				      sep(path), what, !!(o->flags & OPT_NONZERO), val);
		*(uint32_t *)field = v;
		return 0;
	case OPT_ENUM:
		for (int i = 0; o->values[i]; i++)
			if (!strcmp(o->values[i], val)) {
				*(int *)field = i + 1;
				return 0;
			}
		return xc_bad(e, "%s%s%s is %s%s%s, not '%s'", path, sep(path), what, o->values[0],
			      o->values[1] ? " or " : "", o->values[1] ? o->values[1] : "", val);
	}
	return -EINVAL;
}

/* The option word names, or NULL. */
static const struct opt *find_opt(const struct opt *opts, const char *w)
{
	for (const struct opt *o = opts; !is_end(o); o++)
		if (matches(o, w))
			return o;
	return NULL;
}

static const struct opt *nth_positional(const struct opt *opts, int n)
{
	for (const struct opt *o = opts; !is_end(o); o++)
		if (!o->name && n-- == 0)
			return o;
	return NULL;
}

static int check_required(const char *path, const struct opt *opts, uint64_t seen,
			  struct xc_err *e)
{
	int i = 0;

	for (const struct opt *o = opts; !is_end(o); o++, i++)
		if ((o->flags & OPT_REQUIRED) && !(seen & (1ULL << i)))
			return xc_bad(e, "%s%s%s is required (see -h)", path, sep(path),
				      o->name ? o->name : o->metavar);
	return 0;
}

int params_parse(const char *path, const struct opt *opts, int argc, char **argv, void *cfg,
		 bool stop_at_word, bool *help, struct xc_err *e)
{
	uint64_t seen = 0;
	int i, npos = 0, err;

	*help = false;
	for (i = 0; i < argc; i++) {
		const char *w = argv[i];
		const struct opt *o = NULL;

		if (is_help(w)) {
			*help = true;
			return i + 1;
		}
		if (w[0] == '-' && w[1]) {
			o = find_opt(opts, w);
			if (!o)
				return xc_bad(e, "%s%sunknown option '%s' (see -h)", path, sep(path), w);
			if (o->type != OPT_FLAG && ++i >= argc)
				return xc_bad(e, "%s%s%s needs a value", path, sep(path), w);
		} else if (stop_at_word) {
			break;
		} else if (!(o = nth_positional(opts, npos++))) {
			return xc_bad(e, "%s%sunexpected argument '%s' (see -h)", path, sep(path), w);
		}
		err = store(path, o, o->type == OPT_FLAG ? NULL : argv[i], cfg, e);
		if (err)
			return err;
		seen |= 1ULL << (o - opts);
	}
	err = check_required(path, opts, seen, e);
	return err ? err : i;
}

const struct cmd *params_find(const struct cmd *list, const char *what, const char *word,
			      struct xc_err *e)
{
	const struct cmd *found = NULL;
	int n = 0;

	/* unique prefixes, as ip(8) takes them */
	for (const struct cmd *c = list; c->name; c++) {
		if (!strcmp(c->name, word))
			return c;
		if (!strncmp(c->name, word, strlen(word))) {
			found = c;
			n++;
		}
	}
	if (n == 1)
		return found;
	xc_bad(e, "%s %s '%s' (see xchan --help)", n ? "ambiguous" : "unknown", what, word);
	return NULL;
}

void params_synopsis(FILE *f, const struct opt *opts)
{
	for (const struct opt *o = opts; !is_end(o); o++) {
		bool opt = !(o->flags & OPT_REQUIRED) && o->name;

		fprintf(f, " %s", opt ? "[" : "");
		if (o->name)
			fprintf(f, "%s%s", o->name, o->type == OPT_FLAG ? "" : " ");
		if (o->type != OPT_FLAG)
			fputs(o->metavar, f);
		fputs(opt ? "]" : "", f);
	}
}

void params_usage(FILE *f, const char *path, const struct cmd *cmd)
{
	fprintf(f, "usage: %s", path);
	params_synopsis(f, cmd->opts);
	fprintf(f, "\n\n%s\n", cmd->help);
	for (const struct opt *o = cmd->opts; !is_end(o); o++) {
		char left[48];

		snprintf(left, sizeof(left), "%s%s%s", o->name ? o->name : "",
			 o->name && o->type != OPT_FLAG ? " " : "",
			 o->type != OPT_FLAG ? o->metavar : "");
		fprintf(f, "  %-22s %s\n", left, o->help);
	}
}
