// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Per-queue frag cache: the slow paths. The fast path is in xfrag/frag.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct xfrag_cache *xfrag_cache__create(struct xfrag_umem *umem,
					const struct xfrag_cache_opts *opts)
{
	struct xfrag_cache *c;

	if (!umem || (opts && !OPTS_VALID(opts, xfrag_cache_opts))) {
		errno = EINVAL;
		return NULL;
	}
	c = aligned_alloc(XFRAG_CACHELINE, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->umem = umem;
	c->block = XFRAG_NO_BLOCK;
	c->spare = XFRAG_NO_BLOCK;
	c->id = OPTS_GET(opts, id, 0);
	c->debug = umem->hot.debug;
	c->max_size = umem->block_size;
	if (OPTS_GET(opts, no_page_cross, 0)) {
		c->page_mask = ~(uint32_t)4095;
		if (c->max_size > 4096)
			c->max_size = 4096;
	}
	if (xfrag_cache_register(umem, c)) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

/* Hand back the references the cache holds; returns the count left. */
static int32_t cache_drain(struct xfrag_cache *c)
{
	struct xfrag_block *b = &c->umem->hot.blocks[c->block];
	int32_t left;

	/*
	 * The one atomic of a block's life in the cache. Allocations were
	 * counted in `bias` and releases on `refcnt`; subtracting the bias we
	 * still hold reconciles them. Zero means every frag was released.
	 */
	c->allocs += (uint64_t)((int64_t)XFRAG_BIAS - (int64_t)c->bias +
				(int64_t)c->given_back);
	c->given_back = 0;
	c->drains++;
	left = atomic_fetch_sub_explicit(&b->refcnt, (int32_t)c->bias,
					 memory_order_acq_rel) -
	       (int32_t)c->bias;
	c->bias = 0;
	return left;
}

static void cache_take(struct xfrag_cache *c, uint32_t blk)
{
	struct xfrag_umem *u = c->umem;

	/* We own every reference: a plain store is enough. */
	atomic_store_explicit(&u->hot.blocks[blk].refcnt, XFRAG_BIAS,
			      memory_order_relaxed);
	atomic_store_explicit(&u->hot.blocks[blk].owner, c->id,
			      memory_order_relaxed);
	c->block = blk;
	c->base = (uint64_t)blk << u->hot.block_shift;
	c->offset = u->block_size;
	c->bias = XFRAG_BIAS;
}

__attribute__((noinline)) int __xfrag_cache_refill(struct xfrag_cache *c)
{
	struct xfrag_umem *u = c->umem;
	uint32_t blk;

	if (c->block != XFRAG_NO_BLOCK) {
		struct xfrag_block *b = &u->hot.blocks[c->block];
		int32_t left;

		c->refills++;
		/*
		 * If the count equals our bias, no frag of the block is live:
		 * nobody else can touch it, so skip the atomic drain (the
		 * page_pool shortcut again) and reuse it in place.
		 */
		if (atomic_load_explicit(&b->refcnt, memory_order_acquire) ==
		    (int32_t)c->bias) {
			c->allocs += (uint64_t)((int64_t)XFRAG_BIAS - (int64_t)c->bias +
						(int64_t)c->given_back);
			c->given_back = 0;
			left = 0;
		} else {
			left = cache_drain(c);
		}
		if (left == 0) {
			/* Reuse in place: the hottest block there is. */
			c->reuse_in_place++;
			if (xfrag_unlikely(c->debug))
				xfrag_debug_recycled(u, c->block);
			cache_take(c, c->block);
			return 0;
		}
		if (xfrag_unlikely(left < 0))
			__xfrag_block_bad(u, c->base, 0, left);
		/* Still pinned by live frags: their last release frees it. */
		c->block = XFRAG_NO_BLOCK;
		c->offset = 0;
	}
	if (c->spare != XFRAG_NO_BLOCK) {
		blk = c->spare;
		c->spare = XFRAG_NO_BLOCK;
	} else {
		blk = xfrag_pool_pop(u);
		if (blk == XFRAG_NO_BLOCK) {
			c->pool_empty++;
			return -ENOBUFS;
		}
		c->pool_takes++;
	}
	cache_take(c, blk);
	return 0;
}

void xfrag_cache__flush(struct xfrag_cache *c)
{
	if (!c)
		return;
	if (c->spare != XFRAG_NO_BLOCK) {
		__xfrag_block_recycle(c->umem, c->spare);
		c->spare = XFRAG_NO_BLOCK;
	}
	if (c->block == XFRAG_NO_BLOCK)
		return;
	if (cache_drain(c) == 0)
		__xfrag_block_recycle(c->umem, c->block);
	c->block = XFRAG_NO_BLOCK;
	c->offset = 0;
}

void xfrag_cache__destroy(struct xfrag_cache *c)
{
	if (!c)
		return;
	xfrag_cache__flush(c);
	xfrag_cache_unregister(c->umem, c);
	free(c);
}

/* The census must see every cache's blocks: keep a list per UMEM. */
int xfrag_cache_register(struct xfrag_umem *u, struct xfrag_cache *c)
{
	int err = 0;

	pthread_mutex_lock(&u->caches_lock);
	if (u->ncaches == u->caches_cap) {
		uint32_t cap = u->caches_cap ? 2 * u->caches_cap : 8;
		struct xfrag_cache **a = realloc(u->caches, cap * sizeof(*a));

		if (!a) {
			err = -ENOMEM;
			goto out;
		}
		u->caches = a;
		u->caches_cap = cap;
	}
	u->caches[u->ncaches++] = c;
out:
	pthread_mutex_unlock(&u->caches_lock);
	return err;
}

void xfrag_cache_unregister(struct xfrag_umem *u, struct xfrag_cache *c)
{
	uint32_t i;

	pthread_mutex_lock(&u->caches_lock);
	for (i = 0; i < u->ncaches; i++)
		if (u->caches[i] == c) {
			u->caches[i] = u->caches[--u->ncaches];
			break;
		}
	pthread_mutex_unlock(&u->caches_lock);
}

int xfrag_cache__alloc_bulk(struct xfrag_cache *c, uint32_t size,
			    uint64_t *addrs, unsigned int n)
{
	int got = xfrag_cache__alloc_burst(c, size, addrs, n);

	if (got < 0 || (unsigned int)got == n)
		return got < 0 ? got : 0;
	xfrag_umem__release_bulk(c->umem, addrs, (unsigned int)got);
	return -ENOBUFS;
}
