/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The thread hand-off ring: packet views from one producer thread (an rx
 * thread) to one consumer (a worker, the capture writer), who releases them.
 *
 * A power-of-two ring of struct xfrag_pkt with the producer's and the
 * consumer's index on cache lines of their own, each side caching the
 * other's index so that it reads the shared line only when its cached view
 * says the ring is full (producer) or empty (consumer). Batches in both
 * directions: one release-store per push and per pop, as libxdp's rings do.
 * The consumer pops only after it is done with the views (the release-store
 * of tail hands the slots back).
 */
#ifndef XFRAG_BENCH_SPSC_H
#define XFRAG_BENCH_SPSC_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "xfrag/rxq.h"

struct spsc {
	_Atomic uint32_t head __attribute__((aligned(64))); /* producer */
	uint32_t tail_cache;
	_Atomic uint32_t tail __attribute__((aligned(64))); /* consumer */
	uint32_t head_cache;
	uint32_t mask __attribute__((aligned(64)));
	struct xfrag_pkt slot[];
};

/*
 * The consumer's release context: a releaser bound to its thread, so that
 * its xfrag_pkt__release_bulk() calls send the views' runs in batches to
 * the carving rx thread's cache. NULL (all 64 are taken) leaves them on
 * the shared path. xfrag_releaser__destroy() ends the binding.
 */
static inline struct xfrag_releaser *spsc_consumer_releaser(struct xfrag_umem *u)
{
	struct xfrag_releaser *rel = xfrag_releaser__create(u, NULL);

	if (rel)
		xfrag_releaser__bind(rel);
	return rel;
}

/* A ring of at least @frames views (rounded up to a power of two); NULL if no memory. */
struct spsc *spsc_new(uint32_t frames);
void spsc_free(struct spsc *r);

static inline uint32_t spsc_capacity(const struct spsc *r)
{
	return r->mask + 1;
}

/* Producer: free slots now (reads the consumer's index only when needed). */
static inline uint32_t spsc_room(struct spsc *r, uint32_t want)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t room = r->mask + 1 - (h - r->tail_cache);

	if (room < want) {
		/* Acquire: the consumer is done with the slots it gave back. */
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		room = r->mask + 1 - (h - r->tail_cache);
	}
	return room;
}

/* Producer: copy in up to @n views; returns how many went in. */
static inline unsigned int spsc_push(struct spsc *r, const struct xfrag_pkt *pkts,
				     unsigned int n)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t room = spsc_room(r, n), pos = h & r->mask, span;

	if (n > room)
		n = room;
	span = r->mask + 1 - pos;
	if (span > n)
		span = n;
	memcpy(&r->slot[pos], pkts, span * sizeof(*pkts));
	memcpy(&r->slot[0], pkts + span, (n - span) * sizeof(*pkts));
	/* Release: the views are in place before the consumer sees them. */
	atomic_store_explicit(&r->head, h + n, memory_order_release);
	return n;
}

/* Consumer: the oldest waiting views as one contiguous span; 0 if none. */
static inline unsigned int spsc_peek(struct spsc *r, struct xfrag_pkt **first)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t n = r->head_cache - t, pos = t & r->mask;

	if (!n) {
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		n = r->head_cache - t;
	}
	if (n > r->mask + 1 - pos)
		n = r->mask + 1 - pos;
	*first = &r->slot[pos];
	return n;
}

/* Consumer: give back the @n oldest slots (after using their views). */
static inline void spsc_pop(struct spsc *r, unsigned int n)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->tail, t + n, memory_order_release);
}

#endif
