// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* main.c: the xchan command's entry: global options, dispatch through the command
 * tables, and the one place where a failure becomes a line on stderr and an exit code. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "cli.h"

/* Exit codes (documented in the README). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* the operation was refused or failed; nothing changed */
	EXIT_USAGE = 2,		/* malformed command line or input file */
};

void cli_info(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (c->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("xchan: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct globals {
	const char *pin_root;
	bool json, verbose;
	uint32_t max_parts, max_chans;
	int forward;
};

static const char *const forwards[] = { "pass", "redirect", NULL };

static const struct opt global_opts[] = {
	{ "--pin-root", 0, "DIR", OPT_STR, offsetof(struct globals, pin_root), 0, NULL,
	  "the instance's bpffs directory (default " CMM_DEFAULT_ROOT ")" },
	{ "--json", 'j', NULL, OPT_FLAG, offsetof(struct globals, json), 0, NULL,
	  "JSON output for read commands" },
	{ "--verbose", 'v', NULL, OPT_FLAG, offsetof(struct globals, verbose), 0, NULL,
	  "libbpf/libxdp diagnostics on stderr" },
	{ "--max-partitions", 0, "N", OPT_U32, offsetof(struct globals, max_parts), OPT_NONZERO,
	  NULL, "table size, used when the instance is created" },
	{ "--max-channels", 0, "N", OPT_U32, offsetof(struct globals, max_chans), OPT_NONZERO,
	  NULL, "channels the instance holds (default 32768), at creation" },
	{ "--forward", 0, "pass|redirect", OPT_ENUM, offsetof(struct globals, forward), 0, forwards,
	  "how allowed frames leave (default redirect), at creation" },
	OPT_END,
};

static const struct cmd root[] = {
	{ "partition", .subs = cmds_partition }, { "channel", .subs = cmds_channel },
	{ "stats", .leaf = &cmd_stats }, { "monitor", .leaf = &cmd_monitor },
	{ "status", .leaf = &cmd_status }, { "apply", .leaf = &cmd_apply },
	{ "down", .leaf = &cmd_down }, { "doctor", .leaf = &cmd_doctor },
	{ "node", .subs = cmds_node }, { "attach", .leaf = &cmd_attach }, { "demo", .leaf = &cmd_demo },
	{ "agent", .leaf = &cmd_agent }, { "cluster", .subs = cmds_cluster },
	{ NULL },
};

static void help(FILE *f)
{
	fputs("usage: xchan [--pin-root DIR] [-j|--json] [-v] COMMAND [ARGS]\n\n", f);
	for (const struct cmd *c = root; c->name; c++) {
		if (c->leaf) {
			fprintf(f, "  %s", c->name);
			params_synopsis(f, c->leaf->opts);
			fputc('\n', f);
		}
		for (const struct cmd *s = c->subs; s && s->name; s++) {
			fprintf(f, "  %s %s", c->name, s->name);
			params_synopsis(f, s->opts);
			fputc('\n', f);
		}
	}
	fputs("\noptions:\n", f);
	for (const struct opt *o = global_opts; o->name; o++) {
		char left[48];

		snprintf(left, sizeof(left), "%s%c%s%s%s%s", o->short_name ? "-" : "",
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "", o->name,
			 o->metavar ? " " : "", o->metavar ? o->metavar : "");
		fprintf(f, "  %-30s %s\n", left + !o->short_name, o->help);
	}
	fputs("\n`xchan COMMAND -h` shows a command's options.\n"
	      "exit status: 0 done, 1 refused or failed (nothing changed), 2 usage error\n", f);
}

static void family_help(const struct cmd *c)
{
	for (const struct cmd *s = c->subs; s->name; s++) {
		printf("usage: xchan %s %s", c->name, s->name);
		params_synopsis(stdout, s->opts);
		putchar('\n');
	}
}

/* Finds the command argv names (a family's own -h: the family itself); *path gets "xchan partition add" for messages. */
static const struct cmd *dispatch(int argc, char **argv, int *used, char *path, size_t len,
				  struct xc_err *e)
{
	const struct cmd *c = params_find(root, "command", argv[0], e), *s;

	if (!c)
		return NULL;
	*used = 1;
	if (c->leaf) {
		snprintf(path, len, "xchan %s", c->name);
		return c->leaf;
	}
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		family_help(c);
		return c;	/* *used 1: nothing left to run */
	}
	if (argc < 2) {
		char subs[64] = "";

		for (s = c->subs; s->name; s++)
			snprintf(subs + strlen(subs), sizeof(subs) - strlen(subs), "%s%s",
				 s == c->subs ? "" : "|", s->name);
		xc_bad(e, "usage: xchan %s %s ... (xchan %s SUBCOMMAND -h)", c->name, subs, c->name);
		return NULL;
	}
	s = params_find(c->subs, "subcommand", argv[1], e);
	if (s) {
		*used = 2;
		snprintf(path, len, "xchan %s %s", c->name, s->name);
	}
	return s;
}

static void quiet_libs(bool verbose);

static int run(struct cli *c, int argc, char **argv)
{
	struct globals g = { .pin_root = CMM_DEFAULT_ROOT };
	struct cmm_sizes sz = {};
	const struct cmd *cmd;
	char path[64];
	bool want_help;
	void *cfg;
	int i, n, err;

	i = params_parse("", global_opts, argc, argv, &g, true, &want_help, &c->err);
	if (i < 0)
		return i;
	if (want_help) {
		help(stdout);
		return 0;
	}
	if (i >= argc) {
		help(stderr);
		return xc_bad(&c->err, "%s", "");
	}
	if (g.pin_root[0] != '/')
		return xc_bad(&c->err, "--pin-root must be an absolute path");
	if (g.max_chans > XC_MAX_CHANNELS)	/* the key table holds twice as many */
		return xc_bad(&c->err, "--max-channels: at most %u", XC_MAX_CHANNELS);
	cmd = dispatch(argc - i, argv + i, &n, path, sizeof(path), &c->err);
	if (!cmd)
		return -EINVAL;
	if (cmd->subs)
		return 0;	/* its -h was answered */
	i += n;
	cfg = calloc(1, cmd->cfg_size + 1);
	if (!cfg)
		return xc_fail(&c->err, -ENOMEM, "out of memory");
	err = params_parse(path + 6, cmd->opts, argc - i, argv + i, cfg, false, &want_help, &c->err);
	if (err >= 0 && want_help) {
		params_usage(stdout, path, cmd);
		err = 0;
		goto out;
	}
	if (err < 0)
		goto out;
	c->json = g.json;
	c->verbose = g.verbose;
	quiet_libs(g.verbose);
	sz = (struct cmm_sizes){ g.max_parts, g.max_chans, g.forward == 1 };
	xc_init(&c->xc, g.pin_root, &sz);
	jw_init(&c->jw, stdout);
	err = cmd->needs_instance ? xc_open(&c->xc, false, &c->err) : 0;
	if (!err)
		err = cmd->fn(c, cfg);
	xc_close(&c->xc);
out:
	free(cfg);
	return err;
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int xdp_quiet(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static void quiet_libs(bool verbose)
{
	if (verbose)
		return;
	libbpf_set_print(quiet_print);
	libxdp_set_print(xdp_quiet);
}

int main(int argc, char **argv)
{
	struct cli c = {};
	int err;

	/* Keys pass through this process: no core dumps, no ptrace by others. */
	prctl(PR_SET_DUMPABLE, 0);
	err = run(&c, argc - 1, argv + 1);
	if (!err)
		return EXIT_OK;
	if (c.err.msg[0])
		fprintf(stderr, "xchan: %s\n", c.err.msg);
	return c.err.usage ? EXIT_USAGE : EXIT_FAIL;
}
