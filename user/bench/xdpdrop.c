// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xfrag-bench xdp-drop: attach the xfrag program with action DROP and
 * report the rate of dropped frames: the XDP_DROP ceiling of a setup, what
 * any AF_XDP receiver on it is compared with. The same filter as rx, so
 * the program does the same work per frame up to the verdict.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "bench.h"
#include "params.h"
#include "signals.h"

struct drop_cfg {
	const char *ifname;
	double duration;
	struct prog_cfg prog;
	uint32_t interval_ms;
	bool json, quiet;
	const char *timeline;
};

#define O(member) OPT_FIELD(struct drop_cfg, member)
static const struct opt drop_opts[] = {
	{ .name = "iface", .short_opt = 'i', .type = OPT_STR, O(ifname), .metavar = "IF",
	  .missing = "an interface is required (-i IFACE)", .help = "interface (required)" },
	{ .name = "duration", .short_opt = 'd', .type = OPT_SECONDS, O(duration),
	  .metavar = "S", .hint = " (seconds > 0)",
	  .help = "stop after S seconds (default: until SIGINT/SIGTERM)" },
	PROG_OPTS(struct drop_cfg, prog, "frames to drop, as for rx (default udp); others pass"),
	{ .name = "interval", .type = OPT_UINT, O(interval_ms), .metavar = "MS",
	  .lo = 10, .hi = 3600000, .help = "progress line period (default 1000)" },
	{ .name = "quiet", .type = OPT_BOOL, O(quiet), .help = "no progress lines" },
	{ .name = "timeline", .type = OPT_STR, O(timeline), .metavar = "FILE",
	  .help = "write one line per progress period (t_s pps) to FILE" },
	{ .name = "json", .type = OPT_BOOL, O(json),
	  .help = "one JSON object on the last line of stdout" },
};
#undef O

const struct opt_table xdpdrop_table = {
	.cmd = "xdp-drop",
	.synopsis = "-i IFACE [options]",
	.about = "Attach the xfrag XDP program with action DROP and report the rate of\n"
		 "dropped frames: the XDP_DROP ceiling that AF_XDP receivers on the same\n"
		 "setup are compared with. Frames the filter does not take pass on to\n"
		 "the kernel stack.",
	.opts = drop_opts,
	.n = OPT_TABLE_LEN(drop_opts),
	.notes = "The rate is over the time frames were dropped: from the 20 ms tick\n"
		 "before the first drop to the one after the last.",
};

int cmd_xdpdrop(int argc, char **argv)
{
	struct drop_cfg c = { .interval_ms = 1000 };
	XFRAG_OPTS(xfrag_xdp_counters, prev);
	XFRAG_OPTS(xfrag_xdp_counters, cur);
	struct xfrag_xdp *xdp;
	FILE *tl = NULL;
	double secs, wall, pps;
	uint64_t t0, tlast, next, first = 0, lastmove = 0;
	uint64_t base_dropped = 0, first_val = 0, last_val = 0, tick = 0;
	int rc;

	prog_cfg_init(&c.prog);
	rc = params_parse(&xdpdrop_table, argc, argv, &c);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (!if_nametoindex(c.ifname)) {
		fprintf(stderr, "xdp-drop: unknown interface '%s'\n", c.ifname);
		return 1;
	}

	if (c.timeline) {
		tl = fopen(c.timeline, "w");
		if (!tl) {
			fprintf(stderr, "xdp-drop: cannot write the timeline to '%s': %s\n",
				c.timeline, strerror(errno));
			return 1;
		}
		fprintf(tl, "# t_s pps\n");
	}
	stop_on_signals();
	bench_set_log("xdp-drop", XFRAG_LOG_WARN);
	xdp = prog_attach("xdp-drop", c.ifname, &c.prog, XFRAG_XDP_DROP, false, 0);
	if (!xdp) {
		if (tl)
			fclose(tl);
		return 1;
	}
	fprintf(stderr, "xdp-drop: ready: %s, %s XDP, %s filter\n", c.ifname,
		prog_mode_name(xdp), c.prog.filter_str);

	xfrag_xdp__counters(xdp, XFRAG_XDP_ALL_QUEUES, &prev);
	base_dropped = prev.dropped;
	t0 = tlast = tick = now_ns();
	next = t0 + c.interval_ms * 1000000ull;
	while (!stop_requested()) {
		uint64_t now, d;

		sleep_ms(20);
		now = now_ns();
		if (c.duration && (double)(now - t0) >= c.duration * 1e9)
			break;
		if (xfrag_xdp__counters(xdp, XFRAG_XDP_ALL_QUEUES, &cur))
			continue;
		/*
		 * The window: from the last tick before the first drop to the
		 * first tick after the last one (20 ms ticks: <= 0.4 % of 10 s).
		 */
		if (cur.dropped != base_dropped) {
			if (!first) {
				first = tick;
				first_val = base_dropped;
			}
			lastmove = now;
			last_val = cur.dropped;
			base_dropped = cur.dropped;
		}
		tick = now;
		if (now >= next) {
			d = cur.dropped - prev.dropped;
			if (!c.quiet)
				fprintf(stderr, "xdp-drop %6.1fs %9.0f pps dropped, %9.0f pps seen, passed %llu, malformed %llu\n",
					(double)(now - t0) / 1e9, (double)d * 1e9 / (double)(now - tlast),
					(double)(cur.seen - prev.seen) * 1e9 / (double)(now - tlast),
					(unsigned long long)cur.passed, (unsigned long long)cur.malformed);
			if (tl) {
				fprintf(tl, "%.3f %.0f\n", (double)(now - t0) / 1e9,
					(double)d * 1e9 / (double)(now - tlast));
				fflush(tl);
			}
			prev = cur;
			tlast = now;
			next += c.interval_ms * 1000000ull;
		}
	}
	wall = (double)(now_ns() - t0) / 1e9;
	if (tl)
		fclose(tl);
	xfrag_xdp__counters(xdp, XFRAG_XDP_ALL_QUEUES, &cur);
	{
		const char *mode = prog_mode_name(xdp);

		xfrag_xdp__detach(xdp);
		fatal_detach_disarm();
		if (first && lastmove > first) {
			secs = (double)(lastmove - first) / 1e9;
			pps = (double)(last_val - first_val) / secs;
		} else {
			secs = wall;
			pps = secs > 0 ? (double)cur.dropped / secs : 0;
		}
		printf("xfrag-bench xdp-drop: %s: dropped %llu frames (%llu bytes seen) in %.3f s: %.0f pps\n",
		       c.ifname, (unsigned long long)cur.dropped,
		       (unsigned long long)cur.seen_bytes, secs, pps);
		printf("  xdp seen %llu, matched %llu, dropped %llu, passed %llu, malformed %llu; wall %.3f s\n",
		       (unsigned long long)cur.seen, (unsigned long long)cur.matched,
		       (unsigned long long)cur.dropped, (unsigned long long)cur.passed,
		       (unsigned long long)cur.malformed, wall);
		if (c.json)
			printf("{\"cmd\":\"xdp-drop\",\"iface\":\"%s\",\"filter\":\"%s\",\"xdp_mode\":\"%s\","
			       "\"dropped\":%llu,\"seen\":%llu,\"matched\":%llu,\"passed\":%llu,\"malformed\":%llu,"
			       "\"seen_bytes\":%llu,\"seconds\":%.6f,\"wall_seconds\":%.6f,\"drop_pps\":%.1f,\"rx_pps\":%.1f}\n",
			       c.ifname, c.prog.filter_str, mode,
			       (unsigned long long)cur.dropped, (unsigned long long)cur.seen,
			       (unsigned long long)cur.matched, (unsigned long long)cur.passed,
			       (unsigned long long)cur.malformed, (unsigned long long)cur.seen_bytes,
			       secs, wall, pps, pps);
	}
	return 0;
}
