/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xfrag-bench rx internals shared by rx.c (the CLI, the xfrag path, the
 * workloads, the report) and fixed.c (the classic fixed-frame baseline).
 */
#ifndef XFRAG_BENCH_RX_H
#define XFRAG_BENCH_RX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "xfrag/rxq.h"
#include "xfrag/xfrag.h"

#define RX_MAX_QUEUES 16
#define RX_MAX_BATCH 256
#define RX_MAX_WORKERS 16

enum rx_workload {
	WL_DROP,    /* release at once */
	WL_TOUCH,   /* read and verify every frame, then release */
	WL_HOLD,    /* keep the newest N packets, release the oldest */
	WL_WORKERS, /* hand batches to K threads that release them */
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
	uint64_t umem_size; /* 0: derived */
	struct xfrag_xdp_filter filter;
	bool filter_all;
	const char *filter_str;
	enum xfrag_xdp_mode xdp_mode;
	uint32_t bind_mode; /* enum xfrag_bind_mode */
	uint32_t busy_poll_us;
	double duration; /* seconds, 0: until stopped */
	uint64_t count;  /* stop after this many frames, 0: no limit */
	enum rx_workload wl;
	uint32_t wl_arg; /* hold: N packets; workers: K threads */
	bool fixed;
	bool json;
	bool replace;
	bool latency;
	bool quiet;
	const char *timeline;
	const char *hist_file;
	uint32_t interval_ms;
};

/*
 * Log-linear latency histogram (HdrHistogram's layout): values below
 * 2^HIST_SUB go in their own bucket; above, each power of two is split in
 * 2^HIST_SUB linear buckets, so any value is known to within 1/32.
 */
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
	 * Stats snapshots: xfrag_rxq__stats() reads the owner's ring state,
	 * so the owner takes it when the main thread asks (snap_req != the
	 * last seq served) and publishes it with snap_seq (release).
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
	struct xfrag_umem *umem; /* xfrag path */
	struct fixed *fx;        /* fixed-frame path */
	struct rx_thread *t;
	struct rx_worker *w;
	_Atomic uint64_t total; /* frames delivered, for --count */
	atomic_bool rx_done;    /* rx threads have stopped: workers drain */
};

/* Set by SIGINT/SIGTERM, --duration, --count or an error; threads poll it. */
extern atomic_bool rx_stop;

static inline bool rx_should_stop(void)
{
	return atomic_load_explicit(&rx_stop, memory_order_relaxed);
}

/*
 * The frame checks and bookkeeping every path does per batch: latency from
 * the XDP metadata, frame_verify() for the touch workload, counters.
 */
void rx_account(struct rx_thread *t, const struct xfrag_pkt *pkts,
		unsigned int n, uint64_t now);

/* Helpers of rx.c that xdpdrop.c shares. */
/* all | [ipv4|ipv6][:](udp|tcp)[:PORT[-PORT]] | ipv4 | ipv6; -1 if malformed. */
int parse_filter(const char *s, struct xfrag_xdp_filter *f, bool *all);
/* The device's rx queues (ethtool channels, else sysfs); 0 if unknown. */
uint32_t dev_rx_queues(const char *ifname);

/*
 * On a crash (SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE), detach program
 * @prog_id from @ifindex if it is still the one attached, then die of the
 * signal: no stale program is left behind but for SIGKILL.
 */
void fatal_detach_arm(int ifindex, uint32_t prog_id, bool skb);
void fatal_detach_disarm(void);

/* True if the AF_XDP socket @fd is bound in zero-copy mode (XDP_OPTIONS). */
bool xsk_zerocopy(int fd);

/* fixed.c: fixed 4096-byte frames, aligned mode, RX recycled to fill. */
struct fixed;
struct fixed_q;
int fixed_setup(struct rx_run *r);
void *fixed_thread(void *arg);
/* Merge the XDP, kernel and loop counters of queue @i like xfrag_rxq__stats(). */
void fixed_stats(struct rx_run *r, unsigned int i, struct xfrag_rxq_stats *s);
/* Frames left in the RX rings after the program stopped redirecting. */
uint64_t fixed_drain(struct rx_run *r, unsigned int i, uint64_t *bytes);
void fixed_umem_usage(struct rx_run *r, uint64_t *size, uint64_t *in_use);
void fixed_teardown(struct rx_run *r);

#endif
