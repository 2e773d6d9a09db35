/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Library stats of a queue while its thread runs: xfrag_rxq__stats() reads
 * ring state that only the owner thread may touch, so the main thread asks
 * (bumps snap_req) and the owner, between batches, takes the snapshot and
 * publishes it (snap_seq, release). A thread that does not answer within
 * 100 ms leaves the previous snapshot.
 */
#ifndef XFRAG_BENCH_SNAPSHOT_H
#define XFRAG_BENCH_SNAPSHOT_H

#include "run.h"

/* Owner: serve the request (out of line: it is rare). */
void snapshot_serve(struct rx_thread *t, uint32_t req);

/* Owner, once per loop: one acquire-load when nobody asks. */
static inline void snapshot_maybe(struct rx_thread *t)
{
	/* Acquire: the main thread is done reading the previous snapshot. */
	uint32_t req = atomic_load_explicit(&t->snap_req, memory_order_acquire);

	if (xfrag_unlikely(req != t->snap_served))
		snapshot_serve(t, req);
}

/* Main thread: the stats of @t's queue, from the owner if it runs. */
void snapshot_take(struct rx_thread *t, struct xfrag_rxq_stats *s);

#endif
