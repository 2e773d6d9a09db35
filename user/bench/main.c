// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xfrag-bench: the benchmark and lab CLI. One subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "bench.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "alloc", cmd_alloc, "frag allocator micro-benchmark against a free-frame stack" },
#ifdef XFRAG_BENCH_XSK
	{ "rx", cmd_rx, "receive on an interface through AF_XDP and report rates" },
	{ "gen", cmd_gen, "generate test traffic (AF_XDP TX, or AF_PACKET)" },
	{ "xdp-drop", cmd_xdpdrop, "measure the XDP_DROP ceiling of an interface" },
#endif
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: xfrag-bench COMMAND [options]   (COMMAND --help for its options)\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "xfrag-bench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
