// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xfrag-bench: the benchmark and lab CLI. One subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "man.h"

static const struct bench_cmd cmds[] = {
	{ "alloc", cmd_alloc, "frag allocator micro-benchmark against a free-frame stack",
	  &alloc_table },
#ifdef XFRAG_BENCH_XSK
	{ "rx", cmd_rx, "receive on an interface through AF_XDP, report rates, capture to pcap",
	  &rx_table },
	{ "gen", cmd_gen, "generate test traffic (AF_XDP TX, or AF_PACKET)", &gen_table },
	{ "xdp-drop", cmd_xdpdrop, "measure the XDP_DROP ceiling of an interface",
	  &xdpdrop_table },
	{ "restore", cmd_restore, "restore NAPI settings a killed rx --busy-poll left",
	  &restore_table },
#endif
};
#define NCMDS ((unsigned int)(sizeof(cmds) / sizeof(cmds[0])))

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: xfrag-bench COMMAND [options]   (COMMAND --help for its options)\n\ncommands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].summary);
}

int main(int argc, char **argv)
{
	unsigned int i;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	/* Not in the usage: the build runs it to make the man page from
	 * the same tables as --help. */
	if (!strcmp(argv[1], "--man"))
		return man_page(stdout, cmds, NCMDS) ? 1 : 0;
	for (i = 0; i < NCMDS; i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "xfrag-bench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
