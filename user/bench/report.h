/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What rx says: a progress line per period (stderr, and the --timeline
 * file), the summary at the end and the --json object on the last line.
 * The summary and the JSON go to stdout, or to stderr when the capture
 * itself goes to stdout (-w -).
 */
#ifndef XFRAG_BENCH_REPORT_H
#define XFRAG_BENCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "capture.h"
#include "stats.h"

/* The end of a run, as the summary and the JSON tell it. */
struct rx_result {
	struct totals fin;
	const struct hist *lat;
	double secs;       /* first to last frame: the rates' denominator */
	double wall;
	uint64_t peak;     /* UMEM in use, bytes */
	uint64_t drained;  /* delivered from the RX rings after the stop */
	uint64_t stalls;   /* workers: the producer waited on a full ring */
	bool capture;
	struct capture_stats cap;
};

void report_progress(const struct rx_run *r, const struct totals *now,
		     const struct totals *prev, double t, double dt, FILE *tl);
void report_summary(const struct rx_run *r, const struct rx_result *res, FILE *out);
void report_json(const struct rx_run *r, const struct rx_result *res, FILE *out);

#endif
