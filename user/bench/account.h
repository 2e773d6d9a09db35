/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-batch bookkeeping every receive path does: bytes, latency from
 * the XDP metadata stamp, frame_verify() for the touch workload, and the
 * counters the progress line reads (owner-written, published relaxed).
 */
#ifndef XFRAG_BENCH_ACCOUNT_H
#define XFRAG_BENCH_ACCOUNT_H

#include "run.h"

void rx_account(struct rx_thread *t, const struct xfrag_pkt *pkts,
		unsigned int n, uint64_t now);

#endif
