/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * gen --rate: a token bucket holding at most one batch, so the rate is kept
 * over any interval longer than a batch takes. Frames leave in groups of
 * what accrues in 50 us (at least 1, at most a batch): one frame per send
 * would cost a syscall per frame and cap the rate well below what batches
 * reach.
 */
#ifndef XFRAG_BENCH_PACER_H
#define XFRAG_BENCH_PACER_H

#include <stdint.h>

struct pacer {
	uint64_t rate; /* frames per second, 0: unlimited */
	double tokens, burst, group;
	uint64_t last;
};

void pacer_init(struct pacer *p, uint64_t rate, uint32_t batch, uint64_t now);
/* Up to @want frames may go now; sleeps or spins briefly if none may. */
unsigned int pacer_take(struct pacer *p, unsigned int want, uint64_t now);
/* Give back @n frames taken but not sent. */
void pacer_return(struct pacer *p, unsigned int n);

#endif
