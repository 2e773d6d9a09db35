/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Log-linear latency histogram (HdrHistogram's layout): values below
 * 2^HIST_SUB go in their own bucket; above, each power of two is split in
 * 2^HIST_SUB linear buckets, so any value is known to within 1/32. Adding
 * a sample is a few instructions and no sorting is ever needed.
 */
#ifndef XFRAG_BENCH_HIST_H
#define XFRAG_BENCH_HIST_H

#include <stdint.h>
#include <stdio.h>

#define HIST_SUB 5
#define HIST_BUCKETS ((64 - HIST_SUB + 1) << HIST_SUB)

struct hist {
	uint64_t n;
	uint64_t max;
	uint64_t b[HIST_BUCKETS];
};

static inline unsigned int hist_idx(uint64_t v)
{
	unsigned int msb, shift;

	if (v < (1u << HIST_SUB))
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - HIST_SUB;
	return ((shift + 1) << HIST_SUB) +
	       (unsigned int)((v >> shift) - (1u << HIST_SUB));
}

static inline void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_idx(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src);
/* The value below which a fraction @q of the samples lie (bucket middle). */
uint64_t hist_quantile(const struct hist *h, double q);
/* One "value_ns count" line per non-empty bucket. */
void hist_write(const struct hist *h, FILE *f);

#endif
