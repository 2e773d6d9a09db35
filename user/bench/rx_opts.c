// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The options of xfrag-bench rx: the table, its parsers, the checks. */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "capture.h"
#include "device.h"
#include "params.h"
#include "rx_opts.h"
#include "workload.h"

#define STR(x) #x
#define XSTR(x) STR(x)

/* -q Q: one more queue */
static int opt_queue(void *field, const char *arg, char *why, size_t len)
{
	struct rx_cfg *c = field;
	uint64_t v;

	if (c->nq >= RX_MAX_QUEUES || parse_size(arg, &v) || v > UINT32_MAX)
		return -1;
	c->queues[c->nq++] = (uint32_t)v;
	return 0;
}

/* --queues 0,1 */
static int opt_queues(void *field, const char *arg, char *why, size_t len)
{
	struct rx_cfg *c = field;

	return parse_u32_list(arg, c->queues, RX_MAX_QUEUES, &c->nq) || !c->nq ? -1 : 0;
}

/* --cpu 0,1: every CPU must be one this process may run on */
static int opt_cpus(void *field, const char *arg, char *why, size_t len)
{
	struct rx_cfg *c = field;
	uint32_t cpus[RX_MAX_QUEUES];
	unsigned int i, n = 0;

	if (parse_u32_list(arg, cpus, RX_MAX_QUEUES, &n) || !n)
		return -1;
	for (i = 0; i < n; i++) {
		if (cpu_check(cpus[i], why, len))
			return -1;
		c->cpus[i] = (int)cpus[i];
	}
	c->ncpus = n;
	return 0;
}

/* --busy-poll[=US] */
static int opt_busy_poll(void *field, const char *arg, char *why, size_t len)
{
	uint32_t *us = field;
	uint64_t v = 50;

	if (arg && (parse_size(arg, &v) || !v || v > UINT32_MAX))
		return -1;
	*us = (uint32_t)v;
	return 0;
}

#define O(member) OPT_FIELD(struct rx_cfg, member)
static const struct opt rx_opts[] = {
	{ .name = "iface", .short_opt = 'i', .type = OPT_STR, O(ifname), .metavar = "IF",
	  .missing = "an interface is required (-i IFACE)",
	  .help = "interface to receive on (required)" },
	{ .name = "queue", .short_opt = 'q', .type = OPT_FUNC, .parse = opt_queue, .metavar = "Q",
	  .hint = " (a number; at most " XSTR(RX_MAX_QUEUES) " queues)",
	  .help = "rx queue; repeat for more (one thread each, one UMEM)" },
	{ .name = "queues", .type = OPT_FUNC, .parse = opt_queues, .metavar = "LIST",
	  .what = "queue list", .hint = " (e.g. 0,1; at most " XSTR(RX_MAX_QUEUES) ")",
	  .help = "queues as a list, e.g. 0,1 (default: 0)" },
	{ .name = "frame-size", .short_opt = 'F', .type = OPT_UINT, O(frame_size),
	  .metavar = "B", .what = "frame size", .positive = true,
	  .help = "chunk size, 2048..4096 (default: from the MTU; 4096\n"
		  "with --fixed-frames, which accepts 2048 or 4096)" },
	{ .name = "headroom", .type = OPT_UINT, O(headroom), .metavar = "B",
	  .help = "bytes before the frame, after the kernel's 256 (default 0)" },
	{ .name = "block-size", .type = OPT_UINT, O(block_size), .metavar = "B",
	  .what = "block size", .pow2 = true, .lo = XFRAG_BLOCK_MIN, .hi = XFRAG_BLOCK_MAX,
	  .help = "UMEM block, power of two 4K..2M (default 64K)" },
	{ .name = "umem-size", .short_opt = 'u', .type = OPT_UINT, O(umem_size),
	  .metavar = "B", .what = "UMEM size", .positive = true,
	  .help = "UMEM bytes (default: enough for the rings and workload)" },
	{ .name = "ring-size", .short_opt = 'r', .type = OPT_UINT, O(ring_size),
	  .metavar = "N", .what = "ring size", .pow2 = true, .lo = 64, .hi = 65536,
	  .help = "fill and rx ring entries, power of two (default " XSTR(RX_DEFAULT_RING) ")" },
	{ .name = "batch", .short_opt = 'b', .type = OPT_UINT, O(batch), .metavar = "N",
	  .lo = 1, .hi = RX_MAX_BATCH,
	  .help = "frames per recv, 1.." XSTR(RX_MAX_BATCH) " (default 64)" },
	{ .name = "fill-target", .type = OPT_UINT, O(fill_target), .metavar = "N",
	  .what = "fill target", .lo = 1, .hi = 65536,
	  .help = "keep N chunks in the kernel's hands, at most the ring size\n"
		  "(default: adapt to the rate between 512 and the ring)" },
	{ .name = "copybreak", .type = OPT_UINT, O(copybreak), .metavar = "B",
	  .help = "copy frames <= B bytes (14..2048) into compact frags\n(default off)" },
	PROG_OPTS(struct rx_cfg, prog,
		  "frames to take: all, udp, udp:PORT, udp:LO-HI, tcp,\n"
		  "tcp:PORT, ipv4, ipv6, ipv4:udp:PORT... (default udp);\n"
		  "the rest goes on to the kernel stack"),
	{ .name = "zerocopy", .short_opt = 'z', .type = OPT_SET, O(bind_mode),
	  .set = XFRAG_BIND_ZEROCOPY, .help = "require a zero-copy bind (default: zero-copy if able)" },
	{ .name = "copy", .short_opt = 'c', .type = OPT_SET, O(bind_mode),
	  .set = XFRAG_BIND_COPY, .help = "bind in copy mode" },
	{ .name = "busy-poll", .type = OPT_FUNC, O(busy_poll_us), .parse = opt_busy_poll,
	  .metavar = "US", .optional = true, .what = "busy-poll time", .hint = " (microseconds)",
	  .help = "busy polling: SO_PREFER_BUSY_POLL with SO_BUSY_POLL=US\n"
		  "(default 50) and a NAPI poll on every receive call, so the\n"
		  "RX work runs on the receiver's CPU; sets the interface's\n"
		  "napi_defer_hard_irqs (2) and gro_flush_timeout (50 us) for\n"
		  "the run and restores them on exit (after a crash or\n"
		  "SIGKILL: the next --busy-poll start, or xfrag-bench restore)" },
	{ .name = "no-devtune", .type = OPT_BOOL, O(no_devtune),
	  .help = "with --busy-poll: leave the interface's NAPI settings alone" },
	{ .name = "duration", .short_opt = 'd', .type = OPT_SECONDS, O(duration),
	  .metavar = "S", .hint = " (seconds > 0)",
	  .help = "stop after S seconds (default: until SIGINT/SIGTERM)" },
	{ .name = "count", .type = OPT_UINT, O(count), .metavar = "N", .positive = true,
	  .hint = " (frames > 0)",
	  .help = "stop after N frames (or when N are delivered or dropped)" },
	{ .name = "workload", .type = OPT_FUNC, .parse = opt_workload, .metavar = "W",
	  .hint = ": drop, touch, hold:N (N >= 1) or workers:K (1.." XSTR(RX_MAX_WORKERS) ")",
	  .help = "drop | touch | hold:N | workers:K (default drop)" },
	{ .name = "write", .short_opt = 'w', .type = OPT_STR, O(write_path), .metavar = "FILE",
	  .help = "capture: write every delivered frame to the pcap file\n"
		  "FILE ('-': stdout; the reports then go to stderr).\n"
		  "The frames are consumed: they do not reach the kernel\n"
		  "stack; --filter decides what is captured" },
	{ .name = "snaplen", .type = OPT_UINT, O(snaplen), .metavar = "N",
	  .hi = CAPTURE_SNAPLEN_MAX,
	  .help = "capture: write at most N bytes of each frame\n(default, or 0: the whole frame)" },
	{ .name = "write-queue", .type = OPT_UINT, O(write_queue), .metavar = "N",
	  .what = "write queue", .pow2 = true, .lo = 64, .hi = 1u << 20,
	  .help = "capture: frames each rx queue may have waiting for\n"
		  "the writer, power of two (default " XSTR(CAPTURE_QUEUE_DEFAULT) "); when full,\n"
		  "frames are dropped and counted, never waited for" },
	{ .name = "write-cpu", .type = OPT_CPU, O(write_cpu), .metavar = "CPU",
	  .what = "CPU", .help = "capture: pin the writer thread to CPU (default: where\n"
				 "the main thread runs: the first CPU of --cpu)" },
	{ .name = "fixed-frames", .type = OPT_BOOL, O(fixed),
	  .help = "the classic baseline: fixed frames, aligned mode,\n"
		  "every RX address recycled straight to the fill ring" },
	{ .name = "cpu", .type = OPT_FUNC, .parse = opt_cpus, .metavar = "LIST",
	  .what = "CPU list", .help = "pin queue i's thread to the i-th CPU of LIST" },
	{ .name = "latency-every", .type = OPT_UINT, O(latency_every), .metavar = "N",
	  .lo = 1, .hi = 32768, .pow2 = true, .what = "latency sample rate",
	  .help = "the program stamps one frame in N for the latency histogram\n"
		  "(a power of two, default 64; 1: every frame)" },
	{ .name = "no-latency", .type = OPT_SET, O(latency), .set = false,
	  .help = "do not ask the XDP program for timestamps\n(capture asks for them all the same)" },
	{ .name = "interval", .type = OPT_UINT, O(interval_ms), .metavar = "MS",
	  .lo = 10, .hi = 3600000, .help = "progress line period (default 1000)" },
	{ .name = "timeline", .type = OPT_STR, O(timeline), .metavar = "FILE",
	  .help = "write one line per progress period to FILE" },
	{ .name = "latency-hist", .type = OPT_STR, O(hist_file), .metavar = "FILE",
	  .help = "write the latency histogram (value_ns count) to FILE" },
	{ .name = "quiet", .type = OPT_BOOL, O(quiet), .help = "no progress lines" },
	{ .name = "json", .type = OPT_BOOL, O(json),
	  .help = "one JSON object on the last line of stdout" },
};
#undef O

const struct opt_table rx_table = {
	.cmd = "rx",
	.synopsis = "-i IFACE [options]",
	.about = "Receive on one or more queues of IFACE through AF_XDP and report rates,\n"
		 "drops by cause, UMEM use and latency. Every frame the XDP program\n"
		 "redirects is delivered or counted under a named drop.\n"
		 "\n"
		 "With -w FILE every delivered frame is written to a pcap file that tcpdump\n"
		 "and Wireshark read, with the XDP program's time stamp at nanosecond\n"
		 "precision. Unlike tcpdump, AF_XDP capture consumes the frames it takes:\n"
		 "they do not reach the kernel stack. The --filter decides what is\n"
		 "captured; everything else passes on.",
	.opts = rx_opts,
	.n = OPT_TABLE_LEN(rx_opts),
	.notes = "A progress line goes to stderr every --interval. SIGINT, SIGTERM,\n"
		 "--duration and --count stop the run (a capture file is complete then)\n"
		 "with a summary. Exit status: 0 done, 1 failure, 2 bad usage.",
};

int rx_validate(struct rx_cfg *c)
{
	unsigned int i, j;

	c->ifindex = (int)if_nametoindex(c->ifname);
	if (!c->ifindex) {
		fprintf(stderr, "rx: unknown interface '%s'\n", c->ifname);
		return 1;
	}
	c->mtu = dev_mtu(c->ifname);
	if (!c->nq)
		c->queues[c->nq++] = 0;
	c->dev_queues = dev_rx_queues(c->ifname);
	for (i = 0; i < c->nq; i++) {
		if ((c->dev_queues && c->queues[i] >= c->dev_queues) ||
		    c->queues[i] >= XFRAG_XDP_MAX_QUEUES) {
			fprintf(stderr, "rx: queue %u is out of range: %s has %u rx queue%s (ethtool -l %s)\n",
				c->queues[i], c->ifname, c->dev_queues,
				c->dev_queues == 1 ? "" : "s", c->ifname);
			return 1;
		}
		for (j = 0; j < i; j++)
			if (c->queues[j] == c->queues[i]) {
				fprintf(stderr, "rx: queue %u given twice\n", c->queues[i]);
				return 2;
			}
	}
	if (c->write_path) {
		if (c->wl_given && c->wl != WL_DROP) {
			char wl[32];

			fprintf(stderr, "rx: --write is a workload of its own: it does not combine with --workload %s\n",
				workload_name(c, wl, sizeof(wl)));
			return 2;
		}
		if (c->fixed) {
			fprintf(stderr, "rx: --write needs the frag allocator; not with --fixed-frames\n");
			return 2;
		}
		c->wl = WL_CAPTURE;
		if (!c->write_queue)
			c->write_queue = CAPTURE_QUEUE_DEFAULT;
	} else if (c->snaplen || c->write_queue || c->write_cpu >= 0) {
		fprintf(stderr, "rx: --snaplen, --write-queue and --write-cpu need --write FILE\n");
		return 2;
	}
	if (c->fixed) {
		if (!c->frame_size)
			c->frame_size = 4096;
		if (c->frame_size != 2048 && c->frame_size != 4096) {
			fprintf(stderr, "rx: frame size %u out of range: fixed frames (aligned mode) are 2048 or 4096 bytes\n",
				c->frame_size);
			return 1;
		}
		if (c->wl == WL_WORKERS) {
			fprintf(stderr, "rx: --fixed-frames supports the drop, touch and hold workloads, not workers\n");
			return 2;
		}
		if (c->copybreak) {
			fprintf(stderr, "rx: --copybreak needs the frag allocator; not with --fixed-frames\n");
			return 2;
		}
		if (c->fill_target) {
			fprintf(stderr, "rx: --fill-target needs the frag allocator; not with --fixed-frames\n");
			return 2;
		}
	} else if (c->frame_size && (c->frame_size < XFRAG_FRAME_MIN ||
				     c->frame_size > XFRAG_FRAME_MAX)) {
		fprintf(stderr, "rx: frame size %u out of range: AF_XDP chunks are %u..%u bytes\n",
			c->frame_size, XFRAG_FRAME_MIN, XFRAG_FRAME_MAX);
		return 1;
	}
	if (c->frame_size && c->headroom > c->frame_size - XFRAG_HEADROOM_SLACK) {
		fprintf(stderr, "rx: headroom %u too large for frame size %u: at most %u\n",
			c->headroom, c->frame_size, c->frame_size - XFRAG_HEADROOM_SLACK);
		return 1;
	}
	if (c->frame_size && c->block_size < c->frame_size) {
		fprintf(stderr, "rx: block size %u is smaller than the frame size %u\n",
			c->block_size, c->frame_size);
		return 1;
	}
	if (c->fill_target > c->ring_size) {
		fprintf(stderr, "rx: fill target %u is larger than the ring (%u entries)\n",
			c->fill_target, c->ring_size);
		return 1;
	}
	if (c->copybreak && (c->copybreak < 14 || c->copybreak > 2048)) {
		fprintf(stderr, "rx: copybreak %u out of range 14..2048\n", c->copybreak);
		return 1;
	}
	if (c->fixed && c->umem_size) {
		uint64_t per = (uint64_t)c->ring_size + (c->wl == WL_HOLD ? c->wl_arg : 0);
		uint64_t frames = c->umem_size / c->frame_size;

		if (frames < (uint64_t)c->nq * c->ring_size) {
			fprintf(stderr, "rx: UMEM too small for the rings: %llu bytes hold %llu frames of %u, but %u queue%s with %u-entry fill rings need %llu\n",
				(unsigned long long)c->umem_size, (unsigned long long)frames,
				c->frame_size, c->nq, c->nq == 1 ? "" : "s", c->ring_size,
				(unsigned long long)c->nq * c->ring_size);
			return 1;
		}
		if (frames < (uint64_t)c->nq * per) {
			fprintf(stderr, "rx: UMEM too small: fixed frames need %llu frames per queue for the fill ring and hold:%u\n",
				(unsigned long long)per, c->wl_arg);
			return 1;
		}
	}
	return 0;
}
