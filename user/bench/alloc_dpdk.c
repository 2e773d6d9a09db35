// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xfrag-bench alloc: the DPDK rte_mempool rows, measured in the same
 * process and the same way as xfrag's. EAL without hugepages or devices
 * (--no-huge --no-pci --in-memory); a mempool of as many 2048-byte objects
 * as the UMEM has chunks, with a 256-entry per-lcore cache, used through
 * rte_mempool_get_bulk()/put_bulk() in batches. The cross-thread consumer
 * registers with rte_thread_register() so that it has an lcore cache too,
 * as a DPDK worker would. One row goes without the cache, as a thread
 * without an lcore id does: straight to the pool's ring. Built only when
 * DPDK is found.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "alloc.h"

#define DPDK_CACHE 256

static struct rte_mempool *mp;
static bool eal_up;
static uint64_t sink;

int dpdk_setup(const struct alloc_opts *o)
{
	char *argv[] = { "xfrag-bench", "--no-huge", "--no-pci", "--no-shconf",
			 "--no-telemetry", "-l", "0",
			 "--log-level=error", NULL };
	unsigned int nobj = (unsigned int)(o->umem_size / o->size);
	cpu_set_t saved;

	if (mp)
		return 0;
	if (!eal_up) {
		/* EAL pins the thread that initialises it to lcore 0's CPU:
		 * give the other rows their affinity back. */
		pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved);
		if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0) {
			fprintf(stderr, "alloc: DPDK EAL init failed: %s\n",
				rte_strerror(rte_errno));
			return -1;
		}
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
		eal_up = true;
	}
	mp = rte_mempool_create("xfrag-bench-alloc", nobj, o->size, DPDK_CACHE, 0,
				NULL, NULL, NULL, NULL, SOCKET_ID_ANY, 0);
	if (!mp) {
		fprintf(stderr, "alloc: rte_mempool_create(%u x %u B, cache %u): %s\n",
			nobj, o->size, DPDK_CACHE, rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

void dpdk_teardown(void)
{
	rte_mempool_free(mp);
	mp = NULL;
	if (eal_up)
		rte_eal_cleanup();
	eal_up = false;
}

/* The measured loops, on their own for callgrind: get a batch, put it
 * back; through the lcore cache as get_bulk/put_bulk find it (dpdk_loop),
 * or through no cache, as on a thread without an lcore id
 * (dpdk_ring_loop). Two loops, not a parameter: the cached one stays the
 * code DPDK's own callers get. */
__attribute__((noinline)) static int dpdk_loop(const struct alloc_opts *o,
					       uint64_t iters)
{
	void *objs[ALLOC_MAX_BATCH];
	uintptr_t acc = 0;
	uint64_t i;

	for (i = 0; i < iters; i++) {
		if (rte_mempool_get_bulk(mp, objs, o->batch))
			return -1;
		acc += (uintptr_t)objs[o->batch - 1];
		rte_mempool_put_bulk(mp, objs, o->batch);
	}
	sink += acc;
	return 0;
}

__attribute__((noinline)) static int dpdk_ring_loop(const struct alloc_opts *o,
						    uint64_t iters)
{
	void *objs[ALLOC_MAX_BATCH];
	uintptr_t acc = 0;
	uint64_t i;

	for (i = 0; i < iters; i++) {
		if (rte_mempool_generic_get(mp, objs, o->batch, NULL))
			return -1;
		acc += (uintptr_t)objs[o->batch - 1];
		rte_mempool_generic_put(mp, objs, o->batch, NULL);
	}
	sink += acc;
	return 0;
}

static int run_single(const struct alloc_opts *o, struct sample *s, bool ring)
{
	int (*loop)(const struct alloc_opts *, uint64_t) = ring ? dpdk_ring_loop : dpdk_loop;
	uint64_t iters = o->ops / o->batch, t0, t1;

	if (loop(o, 1000)) /* warm the lcore cache */
		return -1;
	t0 = now_ns();
	if (loop(o, iters))
		return -1;
	t1 = now_ns();
	s->ns = (double)(t1 - t0) / (double)(iters * o->batch);
	s->atomics = -1;
	return 0;
}

int dpdk_run_single(const struct alloc_opts *o, struct sample *s)
{
	return run_single(o, s, false);
}

/* A thread with no lcore id: the pool's ring, a CAS each way per batch. */
int dpdk_run_nocache(const struct alloc_opts *o, struct sample *s)
{
	return run_single(o, s, true);
}

struct cross {
	struct xring *r;
	uint64_t batches;
	int err;
};

static void *consumer(void *arg)
{
	struct cross *x = arg;
	uint64_t b;

	pin_cpu(1);
	/* A registered non-EAL thread gets an lcore id, hence a cache. */
	if (rte_thread_register()) {
		fprintf(stderr, "alloc: rte_thread_register: %s\n", rte_strerror(rte_errno));
		x->err = -1;
	}
	for (b = 0; b < x->batches; b++) {
		struct xring_slot *sl = xring_wait_full(x->r);

		rte_mempool_put_bulk(mp, (void *const *)sl->h, (unsigned int)sl->n);
		xring_pop(x->r);
	}
	if (!x->err)
		rte_thread_unregister();
	return NULL;
}

int dpdk_run_cross(const struct alloc_opts *o, struct sample *s)
{
	struct cross x = { .r = xring_new(), .batches = o->ops / o->batch };
	uint64_t b, t0, t1;
	pthread_t th;

	if (!x.r)
		return -1;
	pin_cpu(0);
	pthread_create(&th, NULL, consumer, &x);
	t0 = now_ns();
	for (b = 0; b < x.batches; b++) {
		struct xring_slot *sl = xring_wait_room(x.r);

		/* The pool can run dry while the consumer's cache holds a
		 * flush threshold of objects: retry. */
		while (rte_mempool_get_bulk(mp, (void **)sl->h, o->batch))
			cpu_relax();
		sl->n = o->batch;
		xring_publish(x.r);
	}
	pthread_join(th, NULL);
	t1 = now_ns();
	free(x.r);
	if (x.err)
		return -1;
	s->ns = (double)(t1 - t0) / (double)(x.batches * o->batch);
	s->atomics = -1;
	return 0;
}
