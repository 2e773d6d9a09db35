/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What rx does with a batch once it is accounted for (--workload, -w):
 * release it at once (drop, touch), keep the newest N packets (hold), hand
 * it to worker threads that release it (workers), or to the pcap writer
 * (capture, capture.h). The xfrag path calls workload_batch() per batch;
 * the fixed-frame path does drop, touch and hold on its own ring.
 */
#ifndef XFRAG_BENCH_WORKLOAD_H
#define XFRAG_BENCH_WORKLOAD_H

#include "run.h"

/* --workload: drop | touch | hold:N | workers:K (field: the rx_cfg) */
int opt_workload(void *field, const char *arg, char *why, size_t len);
/* "drop", "hold:3000", ... */
const char *workload_name(const struct rx_cfg *c, char *buf, size_t len);
/* Chunks per queue the workload may keep out of the fill ring. */
uint64_t workload_chunks(const struct rx_cfg *c);

/* Before the rx threads start: hold rings, worker rings and threads, the
 * capture writer. 0, or -1 after a message. */
int workload_setup(struct rx_run *r);
/* An rx thread's batch (xfrag path). */
void workload_batch(struct rx_thread *t, const struct xfrag_pkt *pkts, unsigned int n);
/* An rx thread's last act: give back what hold kept. */
void workload_thread_end(struct rx_thread *t);
/* Frames taken from queue @t's RX ring after the stop (main thread). */
void workload_drained(struct rx_thread *t, const struct xfrag_pkt *pkts, unsigned int n);
/* The rx threads stopped: workers release what is queued and exit. */
void workload_stop(struct rx_run *r);
/* The books are closed: the capture writer writes the rest and closes the
 * file. 0, or -1 if the capture failed (said why). */
int workload_finish(struct rx_run *r);
/* Every exit path: join what still runs, release what is held, free. */
void workload_teardown(struct rx_run *r);
/* The workers' producer waited on a full ring this often. */
uint64_t workload_stalls(const struct rx_run *r);

#endif
