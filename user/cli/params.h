/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* params.h: option tables, as xdp-tools' lib/util/params does it: one table per
 * command gives its parsing, its usage text and its errors. */
#ifndef XCHAN_PARAMS_H
#define XCHAN_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "xc.h"

enum opt_type {
	OPT_FLAG,	/* bool */
	OPT_STR,	/* const char * */
	OPT_U32,	/* uint32_t */
	OPT_ENUM,	/* int: 1 + the index of the value in values[] */
};

#define OPT_REQUIRED	(1U << 0)
#define OPT_NONZERO	(1U << 1)	/* OPT_U32: 0 is not a value */

struct opt {
	const char *name;	/* "--name"; NULL: the next positional argument */
	char short_name;	/* 'j' for -j, or 0 */
	const char *metavar;
	enum opt_type type;
	size_t off;		/* of the field in the command's config struct */
	unsigned int flags;
	const char *const *values;	/* OPT_ENUM, NULL-terminated */
	const char *help;
};

struct cli;

struct cmd {
	const char *name;
	const struct cmd *subs;		/* a family: subcommands, ended by { NULL } */
	const struct opt *opts;		/* ended by { NULL, 0, NULL } with no metavar */
	size_t cfg_size;
	int (*fn)(struct cli *c, void *cfg);
	bool needs_instance;		/* main opens it first */
	const char *help;
	const struct cmd *leaf;		/* in the table of commands: this one's entry */
};

#define CMD(n, o, size, f, inst, h) \
	{ .name = n, .opts = o, .cfg_size = size, .fn = f, .needs_instance = inst, .help = h }
#define OPT_END { .name = NULL, .metavar = NULL }

/* The table of a command that takes nothing. */
extern const struct opt opts_none[];

/* Parses argv into cfg. With stop_at_word, the first word that is not an option ends
 * the parse (global options). Returns the words used, or -EINVAL with e filled;
 * *help is set when -h or --help was given. */
int params_parse(const char *path, const struct opt *opts, int argc, char **argv, void *cfg,
		 bool stop_at_word, bool *help, struct xc_err *e);
/* The entry of list whose name word is, or a unique prefix of; NULL with e filled. */
const struct cmd *params_find(const struct cmd *list, const char *what, const char *word,
			      struct xc_err *e);
/* "ID [--name NAME] ..." */
void params_synopsis(FILE *f, const struct opt *opts);
void params_usage(FILE *f, const char *path, const struct cmd *cmd);

#endif
