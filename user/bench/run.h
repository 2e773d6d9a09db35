/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The state of one `xfrag-bench rx` run, shared by its modules: the
 * configuration the options produce, one rx thread per queue, the workers
 * of the workers workload, and what the run owns (program, UMEM, path).
 *
 * Threads: each rx thread owns its queue (receive, release, its counters);
 * the main thread reads the counters (relaxed loads) and asks the owner for
 * library stats snapshots (snapshot.h); workers and the capture writer
 * take batches through SPSC rings (spsc.h).
 */
#ifndef XFRAG_BENCH_RUN_H
#define XFRAG_BENCH_RUN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "attach.h"
#include "hist.h"
#include "xfrag/rxq.h"
#include "xfrag/xfrag.h"

#define RX_MAX_QUEUES 16
#define RX_MAX_BATCH 256
#define RX_MAX_WORKERS 16
#define RX_DEFAULT_RING 2048

enum rx_workload {
	WL_DROP,    /* release at once */
	WL_TOUCH,   /* read and verify every frame, then release */
	WL_HOLD,    /* keep the newest N packets, release the oldest */
	WL_WORKERS, /* hand batches to K threads that release them */
	WL_CAPTURE, /* hand them to the pcap writer (-w), which releases them */
};

struct rx_cfg {
	const char *ifname;
	int ifindex;
	uint32_t mtu;
	uint32_t dev_queues; /* rx queues of the device, 0 if unknown */
	uint32_t queues[RX_MAX_QUEUES];
	unsigned int nq;
	int cpus[RX_MAX_QUEUES];
	unsigned int ncpus;
	uint32_t frame_size; /* 0: from the MTU (xfrag), 4096 (fixed) */
	uint32_t headroom;
	uint32_t block_size;
	uint32_t ring_size; /* fill and rx ring entries */
	uint32_t batch;
	uint32_t copybreak;
	uint32_t fill_target; /* chunks in the kernel's hands; 0: adaptive */
	uint64_t umem_size; /* 0: derived */
	struct prog_cfg prog;
	uint32_t bind_mode; /* enum xfrag_bind_mode */
	uint32_t busy_poll_us;
	double duration; /* seconds, 0: until stopped */
	uint64_t count;  /* stop after this many frames, 0: no limit */
	enum rx_workload wl;
	uint32_t wl_arg; /* hold: N packets; workers: K threads */
	bool wl_given;   /* --workload was on the command line */
	bool fixed;
	bool json;
	bool latency;    /* XDP stamps and the latency histogram */
	uint32_t latency_every; /* the program stamps one frame in this many */
	bool no_devtune; /* --busy-poll without touching the device's settings */
	bool quiet;
	const char *timeline;
	const char *hist_file;
	uint32_t interval_ms;
	/* capture (-w) */
	const char *write_path; /* "-": stdout */
	uint32_t snaplen;       /* 0: whole frames */
	uint32_t write_queue;   /* frames each rx queue may have waiting */
	int write_cpu;          /* the writer thread's CPU, -1: any */
};

/* The program stamps one frame in this many: capture stamps every frame
 * it writes, the latency histogram needs a sample only. */
static inline uint32_t rx_stamp_every(const struct rx_cfg *c)
{
	return c->wl == WL_CAPTURE ? 1 : c->latency_every;
}

/* One rx queue and its thread. Counters are written by the owner only. */
struct rx_thread {
	struct rx_run *run;
	unsigned int idx;
	uint32_t queue;
	int cpu;
	pthread_t th;
	bool started;
	struct xfrag_rxq *q;    /* xfrag path */
	struct fixed_q *fq;     /* fixed-frame path */
	/* published once per batch (relaxed) for the progress line */
	_Atomic uint64_t packets, bytes;
	_Atomic uint64_t corrupt, verified, foreign; /* touch workload */
	_Atomic uint64_t first_ns, last_ns;
	/* hold workload */
	struct xfrag_pkt *held;
	uint32_t held_head, held_n;
	/* workers workload: one SPSC ring per worker */
	struct spsc **rings;
	unsigned int next_worker;
	uint64_t ring_stalls;
	struct hist lat;
	int err;
	/*
	 * Stats snapshots (snapshot.h): xfrag_rxq__stats() reads the owner's
	 * ring state, so the owner takes it when the main thread asks
	 * (snap_req != the last seq served) and publishes it with snap_seq.
	 */
	_Atomic uint32_t snap_req __attribute__((aligned(64)));
	_Atomic uint32_t snap_seq;
	uint32_t snap_served; /* owner's copy of snap_seq */
	struct xfrag_rxq_stats snap;
	struct xfrag_rxq_stats last_snap; /* main thread's: the last one it got */
} __attribute__((aligned(64)));

struct rx_worker {
	struct rx_run *run;
	unsigned int idx;
	pthread_t th;
	bool started;
	_Atomic uint64_t packets;
} __attribute__((aligned(64)));

struct rx_run {
	struct rx_cfg *cfg;
	struct xfrag_xdp *xdp;
	const struct rx_path *path; /* path.h: xfrag frags or fixed frames */
	struct xfrag_umem *umem;    /* xfrag path */
	struct fixed *fx;           /* fixed-frame path */
	struct capture *cap;        /* -w */
	struct xfrag_devtune *tune; /* --busy-poll's device settings */
	struct rx_thread *t;
	struct rx_worker *w;
	_Atomic uint64_t total; /* frames delivered, for --count */
	atomic_bool rx_done;    /* rx threads have stopped: workers drain */
};

#endif
