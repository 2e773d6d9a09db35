/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The numbers of a run at one moment, summed over its queues: the library's
 * and the kernel's counters (through the path), the XDP program's, the rx
 * threads', the UMEM's. The progress line, the summary and the JSON are
 * printed from these (report.h).
 */
#ifndef XFRAG_BENCH_STATS_H
#define XFRAG_BENCH_STATS_H

#include "run.h"

struct totals {
	struct xfrag_rxq_stats s;          /* summed over queues */
	struct xfrag_xdp_counters x;       /* the program, our queues */
	uint64_t packets, bytes, corrupt, verified, foreign;
	uint64_t fill_level, fill_capacity;
	uint64_t umem_size, umem_in_use, blocks_in_use;
	uint32_t zerocopy;
};

void gather(struct rx_run *r, struct totals *tt);

/* Frames the kernel dropped after the program redirected them. */
uint64_t kernel_drops(const struct xfrag_rxq_stats *s);

/* Raise *@peak to the UMEM in use now (cheap: no syscall). */
void peak_sample(struct rx_run *r, uint64_t *peak);

#endif
