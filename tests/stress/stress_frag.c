// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Cross-thread stress: producers carve frags on their own caches, stamp
 * them, and hand batches through SPSC rings to consumers that verify the
 * stamps and release them (bulk, one by one, or by drain), sometimes after
 * an extra reference taken by the producer. A small UMEM keeps the pool
 * running dry. At the end every block must be back in the pool.
 * Meant for ThreadSanitizer too (scripts/test.sh builds it with TSan).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "xfrag/xfrag.h"

#define NPROD 2
#define NCONS 2
#define BATCH 32
#define SLOTS 16

struct batch {
	uint64_t addr[BATCH];
	uint32_t size[BATCH];
	uint32_t n;
	uint32_t mode; /* 0 bulk, 1 single, 2 drain (all in one block) */
	uint32_t extra_ref; /* addr[0] carries one more reference */
};

struct ring {
	_Atomic uint64_t head __attribute__((aligned(64)));
	_Atomic uint64_t tail __attribute__((aligned(64)));
	struct batch b[SLOTS];
};

static struct xfrag_umem *u;
static struct ring rings[NPROD][NCONS];
static uint64_t ops_per_prod = 400000;
static _Atomic int prod_done;
static _Atomic uint64_t corrupt, released;

static uint64_t stamp_of(uint64_t addr, uint32_t size)
{
	return (addr * 0x9E3779B97F4A7C15ULL) ^ size;
}

static void stamp(uint64_t addr, uint32_t size)
{
	uint8_t *p = xfrag_umem__ptr(u, addr);
	uint64_t s = stamp_of(addr, size);

	if (size >= 16) {
		memcpy(p, &s, 8);
		memcpy(p + size - 8, &s, 8);
	} else {
		memset(p, (int)(s & 0xff), size);
	}
}

static int check(uint64_t addr, uint32_t size)
{
	uint8_t *p = xfrag_umem__ptr(u, addr);
	uint64_t s = stamp_of(addr, size), x, y;
	uint32_t i;

	if (size >= 16) {
		memcpy(&x, p, 8);
		memcpy(&y, p + size - 8, 8);
		return x == s && y == s;
	}
	for (i = 0; i < size; i++)
		if (p[i] != (uint8_t)(s & 0xff))
			return 0;
	return 1;
}

static void *producer(void *arg)
{
	int id = (int)(intptr_t)arg;
	XFRAG_OPTS(xfrag_cache_opts, co, .id = (uint16_t)id);
	struct xfrag_cache *c = xfrag_cache__create(u, &co);
	uint64_t done = 0, rnd = 0x1234567ull * (uint64_t)(id + 1);
	uint32_t k = 0;

	while (done < ops_per_prod) {
		struct ring *r = &rings[id][k++ % NCONS];
		uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

		if (h - atomic_load_explicit(&r->tail, memory_order_acquire) >= SLOTS)
			continue;
		struct batch *b = &r->b[h % SLOTS];

		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		b->mode = (uint32_t)(rnd >> 60) % 3;
		b->extra_ref = (rnd >> 50) & 1;
		b->n = 0;
		if (b->mode == 2) {
			/* One block's worth for a drain: cut the batch at a block change. */
			int got;

			while ((got = xfrag_cache__alloc_burst(c, 1024, b->addr, BATCH)) <= 0)
				;
			b->n = (uint32_t)got;
			for (uint32_t i = 0; i < b->n; i++) {
				if (xfrag_umem__block_of(u, b->addr[i]) !=
				    xfrag_umem__block_of(u, b->addr[0])) {
					xfrag_umem__release_bulk(u, b->addr + i, b->n - i);
					b->n = i;
					break;
				}
				b->size[i] = 1024;
			}
		} else {
			while (b->n < BATCH) {
				uint32_t sz = 1 + (uint32_t)((rnd >> 20) % 4096);
				uint32_t al = 1u << ((rnd >> 40) % 7);
				int err;

				rnd = rnd * 6364136223846793005ULL + 1;
				err = xfrag_cache__alloc(c, sz, al, &b->addr[b->n]);
				if (err == -ENOBUFS) {
					if (b->n)
						break;
					continue; /* wait for consumers to release */
				}
				if (err)
					abort();
				b->size[b->n++] = sz;
			}
		}
		for (uint32_t i = 0; i < b->n; i++)
			stamp(b->addr[i], b->size[i]);
		if (b->extra_ref && b->mode != 2) {
			xfrag_umem__ref(u, b->addr[0]);
			/* drop the extra one here, racing the consumer */
			xfrag_umem__release(u, b->addr[0]);
		}
		done += b->n;
		atomic_store_explicit(&r->head, h + 1, memory_order_release);
	}
	xfrag_cache__destroy(c);
	atomic_fetch_add(&prod_done, 1);
	return NULL;
}

static void *consumer(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (;;) {
		int idle = 1, p;

		for (p = 0; p < NPROD; p++) {
			struct ring *r = &rings[p][id];
			uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

			if (atomic_load_explicit(&r->head, memory_order_acquire) == t)
				continue;
			struct batch *b = &r->b[t % SLOTS];

			idle = 0;
			for (uint32_t i = 0; i < b->n; i++)
				if (!check(b->addr[i], b->size[i]))
					atomic_fetch_add(&corrupt, 1);
			if (b->mode == 0)
				xfrag_umem__release_bulk(u, b->addr, b->n);
			else if (b->mode == 1)
				for (uint32_t i = 0; i < b->n; i++)
					xfrag_umem__release(u, b->addr[i]);
			else if (b->n)
				xfrag_umem__drain(u, b->addr[0], (int32_t)b->n);
			atomic_fetch_add(&released, b->n);
			atomic_store_explicit(&r->tail, t + 1, memory_order_release);
		}
		if (idle && atomic_load(&prod_done) == NPROD) {
			/* drain what is left, then stop */
			int left = 0;

			for (p = 0; p < NPROD; p++)
				left |= atomic_load(&rings[p][id].head) !=
					atomic_load(&rings[p][id].tail);
			if (!left)
				return NULL;
		}
	}
}

TEST(cross_thread_release_returns_every_block)
{
	XFRAG_OPTS(xfrag_umem_opts, o, .size = 1 << 20, .block_size = 16 << 10,
		   .hugepages = XFRAG_HUGE_NEVER);
	pthread_t pt[NPROD], ct[NCONS];
	struct xfrag_umem_stats s;
	const char *env = getenv("XFRAG_STRESS_OPS");
	int i;

	if (env)
		ops_per_prod = strtoull(env, NULL, 0);
	u = xfrag_umem__create(&o);
	assert_true(u);
	for (i = 0; i < NCONS; i++)
		pthread_create(&ct[i], NULL, consumer, (void *)(intptr_t)i);
	for (i = 0; i < NPROD; i++)
		pthread_create(&pt[i], NULL, producer, (void *)(intptr_t)i);
	for (i = 0; i < NPROD; i++)
		pthread_join(pt[i], NULL);
	for (i = 0; i < NCONS; i++)
		pthread_join(ct[i], NULL);
	xfrag_umem__stats(u, &s);
	printf("frags %llu, corrupt %llu, pool-empty %llu, blocks free %u/%u, bad %llu\n",
	       (unsigned long long)atomic_load(&released),
	       (unsigned long long)atomic_load(&corrupt),
	       (unsigned long long)s.pool_empty, s.blocks_free, s.nblocks,
	       (unsigned long long)s.bad_release);
	expect_eq(atomic_load(&corrupt), 0);
	expect_true(atomic_load(&released) >= ops_per_prod * NPROD);
	expect_eq(s.blocks_free, s.nblocks);
	expect_eq(s.bad_release, 0);
	xfrag_umem__destroy(u);
}

TEST_MAIN(T(cross_thread_release_returns_every_block))
