// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* main.c: the xchan agent's entry: global options and command dispatch. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "agent.h"

static const char usage_text[] =
"usage: xchan [--pin-root DIR] [-j|--json] [-v] COMMAND [ARGS]\n"
"\n"
"  partition add ID [--name NAME] (--dev HOSTIF | --netns NAME | --pid PID | --podman CONTAINER)\n"
"                   [--ip ADDR] [--isolated] [--mode native|generic] [--strict]\n"
"  partition del ID|NAME          partition list\n"
"  channel authorize LOCAL REMOTE --in|--out   (LOCAL/REMOTE are PART:PORT)\n"
"  channel connect LOCAL REMOTE   (receiving side: create key, CONNECT)\n"
"  channel open SRC DST           channel close SRC DST        channel list\n"
"  stats [--channels]             monitor [--count N] [--timeout S]\n"
"  status                         apply FILE [--prune]\n"
"  node self ID --addr IP         node add ID --addr IP --key-file FILE     node list\n"
"  attach IFACE --uplink [--mode native|generic]\n"
"  partition add ID --remote NODE --ip ADDR [--name NAME]\n"
"  doctor                         down                         demo\n"
"\n"
"options:\n"
"  --pin-root DIR     the instance's bpffs directory (default " CMM_DEFAULT_ROOT ")\n"
"  -j, --json         JSON output for read commands\n"
"  -v, --verbose      libbpf/libxdp diagnostics on stderr\n"
"  --max-partitions N, --max-channels N   table sizes, used when the instance is created\n"
"  --forward pass|redirect   how allowed frames leave (default redirect), at creation\n"
"\n"
"exit status: 0 done, 1 refused or failed (nothing changed), 2 usage error\n";

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int xdp_quiet(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

struct cmd {
	const char *name;
	int (*fn)(struct agent *, int, char **);
	bool needs_instance;
};

static const struct cmd cmds[] = {
	{ "partition", do_partition, false },
	{ "channel", do_channel, true },
	{ "stats", do_stats, true },
	{ "monitor", do_monitor, true },
	{ "status", do_status, false },
	{ "apply", do_apply, false },
	{ "down", do_down, false },
	{ "doctor", do_doctor, false },
	{ "node", do_node, false },
	{ "attach", do_attach, false },
	{ "demo", do_demo, false },
};

int main(int argc, char **argv)
{
	struct agent a = { .pin_root = CMM_DEFAULT_ROOT };
	const struct cmd *cmd = NULL;
	int i, ret, nmatch = 0;

	/* Keys pass through this process: no core dumps, no ptrace by others. */
	prctl(PR_SET_DUMPABLE, 0);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];
		uint32_t v;

		if (!strcmp(o, "-j") || !strcmp(o, "--json")) {
			a.json = true;
		} else if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) {
			a.verbose = true;
		} else if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		} else if (!strcmp(o, "--pin-root") && i + 1 < argc) {
			a.pin_root = argv[++i];
		} else if (!strcmp(o, "--max-partitions") && i + 1 < argc && !parse_u32(argv[i + 1], &v) && v) {
			a.sizes.partitions = v;
			i++;
		} else if (!strcmp(o, "--max-channels") && i + 1 < argc && !parse_u32(argv[i + 1], &v) && v) {
			a.sizes.channels = v;
			i++;
		} else if (!strcmp(o, "--forward") && i + 1 < argc &&
			   (!strcmp(argv[i + 1], "pass") || !strcmp(argv[i + 1], "redirect"))) {
			a.sizes.fwd_pass = !strcmp(argv[++i], "pass");
		} else {
			xerr("unknown or incomplete option '%s' (see xchan --help)", o);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	/* unique prefixes, as ip(8) takes them */
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		if (!strcmp(cmds[c].name, argv[i])) {
			cmd = &cmds[c];
			nmatch = 1;
			break;
		}
		if (!strncmp(cmds[c].name, argv[i], strlen(argv[i]))) {
			cmd = &cmds[c];
			nmatch++;
		}
	}
	if (nmatch != 1) {
		xerr("%s command '%s' (see xchan --help)", nmatch ? "ambiguous" : "unknown", argv[i]);
		return EXIT_USAGE;
	}
	if (!a.verbose) {
		libbpf_set_print(quiet_print);
		libxdp_set_print(xdp_quiet);
	}
	if (a.pin_root[0] != '/') {
		xerr("--pin-root must be an absolute path");
		return EXIT_USAGE;
	}
	jw_init(&a.jw, stdout);
	if (cmd->needs_instance) {
		ret = agent_open(&a, false);
		if (ret)
			return ret;
	}
	ret = cmd->fn(&a, argc - i - 1, argv + i + 1);
	if (a.opened)
		cmm_close(&a.cmm);
	return ret;
}
