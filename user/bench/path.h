/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A receive path behind `xfrag-bench rx`: xfrag's frag-carved chunks
 * (xfrag_path.c) or the classic fixed-frame loop it is compared with
 * (fixed.c, --fixed-frames). rx.c runs either through these calls and
 * knows nothing else of them.
 */
#ifndef XFRAG_BENCH_PATH_H
#define XFRAG_BENCH_PATH_H

#include "run.h"

struct rx_path {
	const char *name; /* the JSON's "impl" */
	/* Sockets on every queue, fill rings stocked, XSKMAP set. 0 or < 0
	 * after a message; teardown() undoes a partial setup too. */
	int (*setup)(struct rx_run *r);
	/* The receive loop of one queue: pthread start routine, arg = rx_thread */
	void *(*thread)(void *arg);
	/* Queue @i's counters in the library's words (any thread) */
	void (*stats)(struct rx_run *r, unsigned int i, struct xfrag_rxq_stats *s);
	/* After the threads stopped and the XSKMAP was cleared: take what is
	 * left in queue @i's RX ring; returns frames, adds their bytes */
	uint64_t (*drain)(struct rx_run *r, unsigned int i, uint64_t *bytes);
	/* UMEM bytes in all, and in use (fill ring, RX ring, held) */
	void (*umem_usage)(struct rx_run *r, uint64_t *size, uint64_t *in_use);
	/* Close the sockets (the XDP program is detached after this) */
	void (*teardown)(struct rx_run *r);
};

extern const struct rx_path rx_path_xfrag;
extern const struct rx_path rx_path_fixed;

#endif
