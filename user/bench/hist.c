// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The latency histogram. See hist.h. */
#include <math.h>

#include "hist.h"

void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned int i;

	for (i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* The middle of bucket @idx. */
static uint64_t hist_value(unsigned int idx)
{
	unsigned int shift;
	uint64_t lo;

	if (idx < (1u << HIST_SUB))
		return idx;
	shift = (idx >> HIST_SUB) - 1;
	lo = ((uint64_t)(idx & ((1u << HIST_SUB) - 1)) + (1u << HIST_SUB)) << shift;
	return lo + (shift ? (1ull << shift) / 2 : 0);
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;
	unsigned int i;

	if (!h->n)
		return 0;
	want = (uint64_t)ceil(q * (double)h->n);
	if (want < 1)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t v = hist_value(i);

			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

void hist_write(const struct hist *h, FILE *f)
{
	unsigned int i;

	for (i = 0; i < HIST_BUCKETS; i++)
		if (h->b[i])
			fprintf(f, "%llu %llu\n", (unsigned long long)hist_value(i),
				(unsigned long long)h->b[i]);
}
