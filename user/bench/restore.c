// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xfrag-bench restore: put back the NAPI settings (napi_defer_hard_irqs,
 * gro_flush_timeout) a `rx --busy-poll` run changed and could not restore
 * because it was killed (SIGKILL, a crash). They are kept in a state file
 * that this reads; the next --busy-poll start on the interface does the
 * same by itself.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "params.h"
#include "xfrag/devtune.h"

struct restore_cfg {
	const char *ifname;
	const char *state_dir;
};

#define O(member) OPT_FIELD(struct restore_cfg, member)
static const struct opt restore_opts[] = {
	{ .name = "iface", .short_opt = 'i', .type = OPT_STR, O(ifname), .metavar = "IF",
	  .missing = "an interface is required (-i IFACE)", .help = "interface (required)" },
	{ .name = "state-dir", .type = OPT_STR, O(state_dir), .metavar = "DIR",
	  .help = "where the saved settings are (default /run/xfrag)" },
};
#undef O

const struct opt_table restore_table = {
	.cmd = "restore",
	.synopsis = "-i IFACE [options]",
	.about = "Restore the interface's napi_defer_hard_irqs and gro_flush_timeout\n"
		 "that an `rx --busy-poll` run changed but could not put back because\n"
		 "it was killed. A run that ends normally (or on SIGINT, SIGTERM,\n"
		 "SIGHUP) restores them itself.",
	.opts = restore_opts,
	.n = OPT_TABLE_LEN(restore_opts),
	.notes = "Exit status: 0 restored or nothing to restore, 1 failed (e.g. the\n"
		 "run that changed them is still going).",
};

int cmd_restore(int argc, char **argv)
{
	struct restore_cfg c = { 0 };
	int rc = params_parse(&restore_table, argc, argv, &c);

	if (rc)
		return rc == 1 ? 0 : rc;
	bench_set_log("restore", XFRAG_LOG_INFO);
	rc = xfrag_devtune__restore_saved(c.ifname, c.state_dir);
	if (rc < 0) {
		fprintf(stderr, "restore: %s: %s\n", c.ifname, strerror(-rc));
		return 1;
	}
	if (!rc)
		fprintf(stderr, "restore: %s: nothing to restore\n", c.ifname);
	return 0;
}
