/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * rx -w FILE: every delivered frame written to a pcap file by a writer
 * thread, through libpcap, with the XDP-time stamp of the frame at
 * nanosecond precision.
 *
 * Each rx thread hands its batches to the writer through an SPSC ring of
 * --write-queue frames (spsc.h). The ring is the bound: when it is full the
 * rx thread releases the batch at once and counts it in `dropped`, it never
 * waits for the writer. The writer copies a multi-buffer chain into one
 * buffer (pcap_dump() takes one), writes, and releases what it wrote in bulk.
 * Frames held in the ring pin their chunks (with copybreak: their compact
 * copies), so the UMEM is sized for the rings plus a full writer queue.
 */
#ifndef XFRAG_BENCH_CAPTURE_H
#define XFRAG_BENCH_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "run.h"

#define CAPTURE_SNAPLEN_MAX 262144 /* libpcap's MAXIMUM_SNAPLEN */
#define CAPTURE_QUEUE_DEFAULT 4096

struct capture;

struct capture_stats {
	uint64_t frames;    /* written */
	uint64_t bytes;     /* frame bytes written (each frame's captured length) */
	uint64_t dropped;   /* delivered, not written: the writer's queue was full */
	uint64_t unstamped; /* written with the receive time: no XDP stamp */
	uint64_t failed;    /* delivered, not written: a write had failed */
	uint64_t queued;    /* waiting for the writer now */
	int writer_cpu;     /* the one CPU the writer runs on; -1: several */
};

/*
 * Open the output (before anything is attached, so that a bad path costs
 * nothing): @c->write_path, "-" for stdout. NULL after a message.
 */
struct capture *capture_open(const struct rx_cfg *c);

/* The rings to the writer and the writer thread. 0, or -1 after a message. */
int capture_start(struct capture *cap, struct rx_run *r);

/* rx thread @t: queue a batch for the writer; what does not fit is released
 * and counted as dropped. Never waits. */
void capture_push(struct capture *cap, struct rx_thread *t,
		  const struct xfrag_pkt *pkts, unsigned int n);

/* The main thread, after the stop: queue frames drained from @t's RX ring,
 * waiting for room (the rx thread has exited: nothing else produces). */
void capture_push_wait(struct capture *cap, struct rx_thread *t,
		       const struct xfrag_pkt *pkts, unsigned int n);

/* The writer writes what is queued, flushes and closes the file; 0, or -1
 * if a write failed (said why). */
int capture_finish(struct capture *cap);

void capture_get_stats(const struct capture *cap, struct capture_stats *s);

/* "stdout" or the path */
const char *capture_name(const struct capture *cap);

/* Every exit path: finish if still running, free. NULL is fine. */
void capture_close(struct capture *cap);

#endif
