// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xfrag-bench xdp-drop: attach the xfrag program with action DROP and
 * report the rate of dropped frames: the XDP_DROP ceiling of a setup, what
 * any AF_XDP receiver on it is compared with. The same filter as rx, so
 * the program does the same work per frame up to the verdict.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "rx.h"

static atomic_bool drop_stop;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&drop_stop, true);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: xfrag-bench xdp-drop -i IFACE [options]\n"
"  -i, --iface IF       interface (required)\n"
"  -d, --duration S     stop after S seconds (default: until SIGINT/SIGTERM)\n"
"      --filter F       frames to drop, as for rx (default udp); others pass\n"
"      --xdp-mode M     native, skb or auto (default auto); -N / -S\n"
"      --interval MS    progress line period (default 1000)\n"
"      --quiet          no progress lines\n"
"      --timeline FILE  write one line per progress period (t_s pps) to FILE\n"
"      --json           one JSON object on the last line of stdout\n"
"      --replace        replace a stale xfrag XDP program\n");
}

__attribute__((format(printf, 2, 0))) static void
log_cb(enum xfrag_log_level level, const char *fmt, va_list ap)
{
	if (level > XFRAG_LOG_WARN)
		return;
	fprintf(stderr, "xdp-drop: %s", level == XFRAG_LOG_ERROR ? "" : "warning: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cmd_xdpdrop(int argc, char **argv)
{
	enum { O_FILTER = 256, O_XDPMODE, O_JSON, O_REPLACE, O_INTERVAL, O_QUIET, O_TIMELINE };
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "filter", required_argument, NULL, O_FILTER },
		{ "xdp-mode", required_argument, NULL, O_XDPMODE },
		{ "json", no_argument, NULL, O_JSON },
		{ "replace", no_argument, NULL, O_REPLACE },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "timeline", required_argument, NULL, O_TIMELINE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *ifname = NULL, *filter_str = "udp", *timeline = NULL;
	FILE *tl = NULL;
	struct xfrag_xdp_filter filter;
	bool all = false, json = false, replace = false, quiet = false;
	enum xfrag_xdp_mode mode = XFRAG_XDP_MODE_AUTO;
	struct sigaction sa = { .sa_handler = on_signal };
	XFRAG_OPTS(xfrag_xdp_counters, prev);
	XFRAG_OPTS(xfrag_xdp_counters, cur);
	struct xfrag_xdp *xdp;
	double duration = 0, secs, wall, pps;
	uint64_t interval_ms = 1000, t0, tlast, next, first = 0, lastmove = 0;
	uint64_t base_dropped = 0, first_val = 0, last_val = 0, tick = 0, v;
	enum xfrag_xdp_mode used;
	int opt;

	parse_filter(filter_str, &filter, &all);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "i:d:NSh", lo, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'd':
			if (parse_seconds(optarg, &duration)) {
				fprintf(stderr, "xdp-drop: bad duration '%s' (seconds > 0)\n", optarg);
				return 2;
			}
			break;
		case O_FILTER:
			if (parse_filter(optarg, &filter, &all)) {
				fprintf(stderr, "xdp-drop: bad filter '%s': use all, udp, udp:PORT, udp:LO-HI, tcp, tcp:PORT, ipv4, ipv6\n",
					optarg);
				return 2;
			}
			filter_str = optarg;
			break;
		case O_XDPMODE:
			if (!strcmp(optarg, "native"))
				mode = XFRAG_XDP_MODE_NATIVE;
			else if (!strcmp(optarg, "skb"))
				mode = XFRAG_XDP_MODE_SKB;
			else if (!strcmp(optarg, "auto"))
				mode = XFRAG_XDP_MODE_AUTO;
			else {
				fprintf(stderr, "xdp-drop: bad XDP mode '%s': native, skb or auto\n", optarg);
				return 2;
			}
			break;
		case 'N':
			mode = XFRAG_XDP_MODE_NATIVE;
			break;
		case 'S':
			mode = XFRAG_XDP_MODE_SKB;
			break;
		case O_JSON:
			json = true;
			break;
		case O_REPLACE:
			replace = true;
			break;
		case O_INTERVAL:
			if (parse_size(optarg, &v) || v < 10 || v > 3600000) {
				fprintf(stderr, "xdp-drop: bad interval '%s' (10..3600000 ms)\n", optarg);
				return 2;
			}
			interval_ms = v;
			break;
		case O_QUIET:
			quiet = true;
			break;
		case O_TIMELINE:
			timeline = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xdp-drop: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!ifname) {
		fprintf(stderr, "xdp-drop: an interface is required (-i IFACE)\n");
		usage(stderr);
		return 2;
	}
	if (!if_nametoindex(ifname)) {
		fprintf(stderr, "xdp-drop: unknown interface '%s'\n", ifname);
		return 1;
	}

	if (timeline) {
		tl = fopen(timeline, "w");
		if (!tl) {
			fprintf(stderr, "xdp-drop: cannot write the timeline to '%s': %s\n",
				timeline, strerror(errno));
			return 1;
		}
		fprintf(tl, "# t_s pps\n");
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	xfrag_set_log(log_cb, XFRAG_LOG_WARN);
	{
		XFRAG_OPTS(xfrag_xdp_opts, xo, .ifname = ifname, .mode = mode,
			   .filter = all ? NULL : &filter, .action = XFRAG_XDP_DROP,
			   .replace = replace);

		xdp = xfrag_xdp__attach(&xo);
	}
	if (!xdp) {
		int err = errno;

		if (err == EEXIST)
			fprintf(stderr, "xdp-drop: %s has a stale xfrag XDP program: rerun with --replace\n",
				ifname);
		else
			fprintf(stderr, "xdp-drop: cannot attach the XDP program to %s: %s\n",
				ifname, xfrag_strerror(-err));
		if (tl)
			fclose(tl);
		return 1;
	}
	fprintf(stderr, "xdp-drop: ready: %s, %s XDP, %s filter\n", ifname,
		xfrag_xdp__mode(xdp) == XFRAG_XDP_MODE_SKB ? "skb" : "native", filter_str);

	xfrag_xdp__counters(xdp, XFRAG_XDP_ALL_QUEUES, &prev);
	base_dropped = prev.dropped;
	used = xfrag_xdp__mode(xdp);
	fatal_detach_arm((int)if_nametoindex(ifname), xfrag_xdp__prog_id(xdp),
			 used == XFRAG_XDP_MODE_SKB);
	t0 = tlast = tick = now_ns();
	next = t0 + interval_ms * 1000000ull;
	while (!atomic_load(&drop_stop)) {
		struct timespec ts = { 0, 20 * 1000000L };
		uint64_t now, d;

		nanosleep(&ts, NULL);
		now = now_ns();
		if (duration && (double)(now - t0) >= duration * 1e9)
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
			if (!quiet)
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
			next += interval_ms * 1000000ull;
		}
	}
	wall = (double)(now_ns() - t0) / 1e9;
	if (tl)
		fclose(tl);
	xfrag_xdp__counters(xdp, XFRAG_XDP_ALL_QUEUES, &cur);
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
	       ifname, (unsigned long long)cur.dropped, (unsigned long long)cur.seen_bytes, secs, pps);
	printf("  xdp seen %llu, matched %llu, dropped %llu, passed %llu, malformed %llu; wall %.3f s\n",
	       (unsigned long long)cur.seen, (unsigned long long)cur.matched,
	       (unsigned long long)cur.dropped, (unsigned long long)cur.passed,
	       (unsigned long long)cur.malformed, wall);
	if (json)
		printf("{\"cmd\":\"xdp-drop\",\"iface\":\"%s\",\"filter\":\"%s\",\"xdp_mode\":\"%s\","
		       "\"dropped\":%llu,\"seen\":%llu,\"matched\":%llu,\"passed\":%llu,\"malformed\":%llu,"
		       "\"seen_bytes\":%llu,\"seconds\":%.6f,\"wall_seconds\":%.6f,\"drop_pps\":%.1f,\"rx_pps\":%.1f}\n",
		       ifname, filter_str,
		       used == XFRAG_XDP_MODE_SKB ? "skb" : "native",
		       (unsigned long long)cur.dropped, (unsigned long long)cur.seen,
		       (unsigned long long)cur.matched, (unsigned long long)cur.passed,
		       (unsigned long long)cur.malformed, (unsigned long long)cur.seen_bytes,
		       secs, wall, pps, pps);
	return 0;
}
