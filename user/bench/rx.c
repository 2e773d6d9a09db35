// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xfrag-bench rx: receive on one or more queues of an interface through
 * AF_XDP and report rates, drops by cause, UMEM use and latency; with -w,
 * capture what it receives to a pcap file.
 *
 * One rx queue and one thread per queue, all on one UMEM. The default path
 * is xfrag's (frag-carved chunks, xfrag_path.c); --fixed-frames runs the
 * classic baseline instead (fixed.c) behind the same XDP program. This file
 * holds the flow: options, checks, start, the progress loop, the stop.
 *
 * Every frame the program redirects ends up counted exactly once: delivered
 * here, or dropped by the kernel (rx_dropped, rx_ring_full,
 * rx_invalid_descs). On stop the program's XSKMAP slots are cleared first,
 * then the RX rings are drained, then the counters are read, so that the
 * books balance; the summary prints the balance.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "capture.h"
#include "params.h"
#include "path.h"
#include "report.h"
#include "rx_opts.h"
#include "signals.h"
#include "stats.h"
#include "workload.h"

/* The files the run writes besides its reports. */
struct rx_files {
	FILE *timeline, *hist;
};

static int open_files(const struct rx_cfg *c, struct rx_files *f)
{
	if (c->timeline) {
		f->timeline = fopen(c->timeline, "w");
		if (!f->timeline) {
			fprintf(stderr, "rx: cannot write the timeline to '%s': %s\n",
				c->timeline, strerror(errno));
			return -1;
		}
		fprintf(f->timeline, "# t_s pps mbit_s rx_packets drops fill_level blocks_in_use umem_in_use_bytes\n");
	}
	if (c->hist_file) {
		f->hist = fopen(c->hist_file, "w");
		if (!f->hist) {
			fprintf(stderr, "rx: cannot write the latency histogram to '%s': %s\n",
				c->hist_file, strerror(errno));
			return -1;
		}
		fprintf(f->hist, "# latency_ns count (log-linear buckets, 1/32 resolution)\n");
	}
	return 0;
}

/* Threads, program, sockets, workload; then the rx threads run. */
static int rx_start(struct rx_run *r)
{
	const struct rx_cfg *c = r->cfg;
	unsigned int i;

	r->t = aligned_alloc(64, sizeof(*r->t) * c->nq);
	if (!r->t) {
		fprintf(stderr, "rx: out of memory\n");
		return -1;
	}
	memset(r->t, 0, sizeof(*r->t) * c->nq);
	for (i = 0; i < c->nq; i++) {
		r->t[i].run = r;
		r->t[i].idx = i;
		r->t[i].queue = c->queues[i];
		r->t[i].cpu = c->ncpus ? c->cpus[i % c->ncpus] : -1;
	}
	/* Busy polling moves NAPI to our CPU only with the device's help. */
	if (c->busy_poll_us && !c->no_devtune) {
		XFRAG_OPTS(xfrag_devtune_opts, dto, .ifname = c->ifname);

		r->tune = xfrag_devtune__busy_poll(&dto);
		if (!r->tune) {
			fprintf(stderr, "rx: cannot tune %s for busy polling (--no-devtune to busy-poll without)\n",
				c->ifname);
			return -1;
		}
	}
	/* The program, then the sockets: each queue's socket enters the
	 * XSKMAP only once its fill ring is stocked. Capture asks for the
	 * stamps whatever --no-latency says. */
	r->xdp = prog_attach("rx", c->ifname, &c->prog, XFRAG_XDP_REDIRECT,
			     c->latency || c->wl == WL_CAPTURE, rx_stamp_every(c));
	if (!r->xdp || r->path->setup(r) || workload_setup(r))
		return -1;
	for (i = 0; i < c->nq; i++) {
		if (pthread_create(&r->t[i].th, NULL, r->path->thread, &r->t[i])) {
			fprintf(stderr, "rx: cannot start the thread of queue %u\n", c->queues[i]);
			return -1;
		}
		r->t[i].started = true;
	}
	return 0;
}

/* Progress lines until a stop: a signal, --duration, --count, an error. */
static void rx_loop(struct rx_run *r, struct rx_files *f, struct totals *prev,
		    uint64_t *t0, uint64_t *last, uint64_t *peak)
{
	const struct rx_cfg *c = r->cfg;
	uint64_t next, count_check = 0;
	struct totals cur;
	unsigned int i;

	*t0 = *last = now_ns();
	next = *t0 + (uint64_t)c->interval_ms * 1000000ull;
	while (!stop_requested()) {
		uint64_t now, delivered = 0;

		/* Light ticks: the counters the threads publish and the block
		 * table; the syscalls (program and socket counters) only once a
		 * period, or every 100 ms to close a --count run. */
		sleep_ms(c->count ? 5 : 20);
		now = now_ns();
		if (c->duration && (double)(now - *t0) >= c->duration * 1e9)
			break;
		peak_sample(r, peak);
		for (i = 0; i < c->nq; i++)
			delivered += atomic_load_explicit(&r->t[i].packets, memory_order_relaxed);
		if (c->count && delivered >= c->count)
			break;
		if (now >= next) {
			gather(r, &cur);
			report_progress(r, &cur, prev, (double)(now - *t0) / 1e9,
					(double)(now - *last) / 1e9, f->timeline);
			*prev = cur;
			*last = now;
			next += (uint64_t)c->interval_ms * 1000000ull;
			if (next < now)
				next = now + (uint64_t)c->interval_ms * 1000000ull;
		}
		/* --count: stop once every frame is delivered or dropped. */
		if (c->count && now - count_check >= 100000000ull) {
			count_check = now;
			gather(r, &cur);
			if (cur.packets + kernel_drops(&cur.s) >= c->count)
				break;
		}
	}
	stop_request();
}

/* Join the rx threads, then the workers (they finish what is queued). */
static void rx_join(struct rx_run *r)
{
	unsigned int i;

	for (i = 0; r->t && i < r->cfg->nq; i++)
		if (r->t[i].started) {
			pthread_join(r->t[i].th, NULL);
			r->t[i].started = false;
		}
	workload_stop(r);
}

/* Did a queue fail? Says which. */
static int rx_errors(const struct rx_run *r)
{
	unsigned int i;
	int rc = 0;

	for (i = 0; i < r->cfg->nq; i++)
		if (r->t[i].err) {
			fprintf(stderr, "rx: queue %u: receive failed: %s\n", r->cfg->queues[i],
				xfrag_strerror(r->t[i].err));
			rc = -1;
		}
	return rc;
}

/*
 * Close the books: stop redirecting, let frames in flight land, take what
 * is left in the RX rings (the capture writes them too), then read the
 * counters.
 */
static int close_books(struct rx_run *r, struct rx_result *res, struct hist *lat)
{
	const struct rx_cfg *c = r->cfg;
	uint64_t drained_bytes = 0, first = 0, lastpkt = 0;
	unsigned int i;
	int rc;

	for (i = 0; i < c->nq; i++)
		xfrag_xdp__clear_xsk(r->xdp, c->queues[i]);
	sleep_ms(20);
	for (i = 0; i < c->nq; i++)
		res->drained += r->path->drain(r, i, &drained_bytes);
	rc = workload_finish(r);
	if (r->cap) {
		res->capture = true;
		capture_get_stats(r->cap, &res->cap);
	}
	gather(r, &res->fin);
	res->fin.packets += res->drained;
	res->fin.bytes += drained_bytes;
	if (res->fin.umem_in_use > res->peak)
		res->peak = res->fin.umem_in_use;
	for (i = 0; i < c->nq; i++) {
		uint64_t f = atomic_load(&r->t[i].first_ns), l = atomic_load(&r->t[i].last_ns);

		if (f && (!first || f < first))
			first = f;
		if (l > lastpkt)
			lastpkt = l;
		hist_merge(lat, &r->t[i].lat);
	}
	res->lat = lat;
	res->stalls = workload_stalls(r);
	/* The rate is over the time traffic flowed, first to last frame. */
	res->secs = res->fin.packets > 1 && lastpkt > first ? (double)(lastpkt - first) / 1e9 :
							      res->wall;
	return rc;
}

static void rx_ready(const struct rx_run *r, const struct totals *now)
{
	const struct rx_cfg *c = r->cfg;
	unsigned int i;

	fprintf(stderr, "rx: ready: %s queue%s", c->ifname, c->nq == 1 ? "" : "s");
	for (i = 0; i < c->nq; i++)
		fprintf(stderr, "%s%u", i ? "," : " ", c->queues[i]);
	fprintf(stderr, ", %s, %s mode, %s XDP, frame %u, %s filter%s%s\n",
		c->fixed ? "fixed frames" : "xfrag", now->zerocopy ? "zero-copy" : "copy",
		prog_mode_name(r->xdp), c->frame_size, c->prog.filter_str,
		r->cap ? ", writing to " : "", r->cap ? capture_name(r->cap) : "");
}

/*
 * Every queue closed and every thread joined: every frag the run carved has
 * been released (workers, the capture writer and held frames included) and
 * every chunk the kernel held has come back, so no block may stay in use.
 * A release path that loses frames would otherwise only show as drops,
 * which the books count as balanced. Zero-copy chunks still quarantined
 * (the driver may hold them a little longer) are exempt.
 */
static bool leaked_blocks(struct xfrag_umem *u)
{
	XFRAG_OPTS(xfrag_umem_xsk_stats, xs);
	struct xfrag_umem_stats us;

	if (!u || xfrag_umem__stats(u, &us))
		return false;
	if (!us.blocks_in_use)
		return false;
	if (!xfrag_umem__xsk_stats(u, &xs) && xs.quarantined) {
		fprintf(stderr, "rx: %u UMEM blocks still in use, %llu chunks quarantined\n",
			us.blocks_in_use, (unsigned long long)xs.quarantined);
		return false;
	}
	fprintf(stderr, "rx: %u UMEM blocks still in use after every queue closed: frames leaked\n",
		us.blocks_in_use);
	return true;
}

int cmd_rx(int argc, char **argv)
{
	struct rx_cfg c = {
		.block_size = XFRAG_BLOCK_DEFAULT,
		.ring_size = RX_DEFAULT_RING,
		.batch = 64,
		.bind_mode = XFRAG_BIND_AUTO,
		.latency = true,
		.latency_every = 64,
		.interval_ms = 1000,
		.write_cpu = -1,
	};
	struct rx_run run = { .cfg = &c };
	struct rx_files files = { 0 };
	struct rx_result res = { 0 };
	struct totals prev;
	struct hist *lat = NULL;
	uint64_t t0, last;
	FILE *out = stdout;
	bool capture_failed;
	int rc;

	prog_cfg_init(&c.prog);
	rc = params_parse(&rx_table, argc, argv, &c);
	if (rc)
		return rc == 1 ? 0 : rc;
	rc = rx_validate(&c);
	if (rc)
		return rc;
	run.path = c.fixed ? &rx_path_fixed : &rx_path_xfrag;
	/* Keep the main thread off the other CPUs (the generator's). */
	if (c.ncpus)
		pin_cpu(c.cpus[0]);

	stop_on_signals();
	bench_set_log("rx", XFRAG_LOG_WARN);
	rc = 1;
	lat = calloc(1, sizeof(*lat));
	if (!lat) {
		fprintf(stderr, "rx: out of memory\n");
		goto out;
	}
	if (open_files(&c, &files))
		goto out;
	if (c.write_path) {
		run.cap = capture_open(&c);
		if (!run.cap)
			goto out;
		/* The capture owns stdout: the reports go to stderr. */
		if (!strcmp(c.write_path, "-"))
			out = stderr;
	}
	if (rx_start(&run))
		goto out;

	gather(&run, &prev);
	rx_ready(&run, &prev);
	rx_loop(&run, &files, &prev, &t0, &last, &res.peak);
	res.wall = (double)(now_ns() - t0) / 1e9;
	rx_join(&run);
	if (rx_errors(&run))
		goto out;
	/* A failed capture is reported with the rest, then exit 1. */
	capture_failed = close_books(&run, &res, lat) != 0;
	if (files.timeline)
		report_progress(&run, &res.fin, &prev, (double)(now_ns() - t0) / 1e9,
				(double)(now_ns() - last) / 1e9, files.timeline);
	if (files.hist)
		hist_write(lat, files.hist);
	report_summary(&run, &res, out);
	if (c.json)
		report_json(&run, &res, out);
	fflush(out);
	rc = capture_failed ? 1 : 0;
out:
	stop_request();
	rx_join(&run);
	workload_teardown(&run);
	if (run.path)
		run.path->teardown(&run);
	xfrag_xdp__detach(run.xdp);
	fatal_detach_disarm();
	if (run.tune && xfrag_devtune__restore(run.tune))
		fprintf(stderr, "rx: restoring %s's NAPI settings failed; xfrag-bench restore -i %s retries\n",
			c.ifname, c.ifname);
	if (!rc && leaked_blocks(run.umem))
		rc = 1;
	xfrag_umem__destroy(run.umem);
	free(run.t);
	free(lat);
	if (files.timeline)
		fclose(files.timeline);
	if (files.hist)
		fclose(files.hist);
	return rc;
}
