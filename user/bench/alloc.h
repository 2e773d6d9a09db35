/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xfrag-bench alloc: what the rows share. alloc.c holds the command's flow
 * and the xfrag and free-stack rows; alloc_dpdk.c the DPDK mempool rows,
 * built only when DPDK is found.
 *
 * The cross-thread rows move batches of handles from a producer on CPU 0
 * to a consumer on CPU 1 through xring, a single-producer single-consumer
 * ring of whole batches: each side caches the other's index and reads the
 * other's line only when its cached view says full (producer) or empty
 * (consumer); one release-store per batch on each side.
 */
#ifndef XFRAG_BENCH_ALLOC_H
#define XFRAG_BENCH_ALLOC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench.h"

#define ALLOC_MAX_BATCH 256
#define XRING_SLOTS 64 /* batches in flight between the two threads */

struct alloc_opts {
	uint64_t ops;
	uint32_t batch, size, block_size;
	uint64_t umem_size;
	uint32_t repeat;
	bool json;
	const char *cases;
	const char *only;
};

/* One run of one row. */
struct sample {
	double ns;      /* per op: one buffer allocated and released */
	double atomics; /* atomic read-modify-writes per frag; < 0: not counted */
};

struct xring_slot {
	uint64_t n;
	uint64_t h[ALLOC_MAX_BATCH];
} __attribute__((aligned(64)));

struct xring {
	_Atomic uint64_t head __attribute__((aligned(64))); /* producer's */
	uint64_t tail_cache;
	_Atomic uint64_t tail __attribute__((aligned(64))); /* consumer's */
	uint64_t head_cache;
	struct xring_slot slot[XRING_SLOTS];
};

/* Producer: the next free slot; spins while the ring is full. */
static inline struct xring_slot *xring_wait_room(struct xring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	while (h - r->tail_cache >= XRING_SLOTS) {
		/* acquire: the consumer is done with the slots it gave back */
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (h - r->tail_cache >= XRING_SLOTS)
			cpu_relax();
	}
	return &r->slot[h % XRING_SLOTS];
}

static inline void xring_publish(struct xring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	/* release: the slot's contents before the consumer sees it */
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

/* Consumer: the oldest full slot; spins while the ring is empty. */
static inline struct xring_slot *xring_wait_full(struct xring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	while (r->head_cache == t) {
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (r->head_cache == t)
			cpu_relax();
	}
	return &r->slot[t % XRING_SLOTS];
}

static inline void xring_pop(struct xring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

struct xring *xring_new(void);

/* alloc_dpdk.c: 0 when the rows can run, -1 (after saying why) if not. */
int dpdk_setup(const struct alloc_opts *o);
void dpdk_teardown(void);
int dpdk_run_single(const struct alloc_opts *o, struct sample *s);
int dpdk_run_nocache(const struct alloc_opts *o, struct sample *s);
int dpdk_run_cross(const struct alloc_opts *o, struct sample *s);

#endif
