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
	/* The block table says "free" with this id: stats would count the
	 * cache's spare as a free block. */
	if (OPTS_GET(opts, id, 0) == XFRAG_NO_OWNER) {
		pr_err("frag cache id %u is reserved (XFRAG_NO_OWNER marks free blocks)",
		       XFRAG_NO_OWNER);
		errno = EINVAL;
		return NULL;
	}
	c = xfrag_zalloc_lines(sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->umem = umem;
	c->block = XFRAG_NO_BLOCK;
	c->spare = XFRAG_NO_BLOCK;
	c->slot = XFRAG_NO_SLOT;
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

/* Fold the current block's carving into the totals: bias = BIAS - allocs
 * + given_back over the block's life (reuse in place continues it). */
static inline void fold_allocs(struct xfrag_cache *c)
{
	c->allocs += (uint64_t)((int64_t)XFRAG_BIAS - (int64_t)c->bias +
				(int64_t)c->given_back);
	c->given_back = 0;
}

/* Hand back the references the cache holds; returns the count left. */
static inline int32_t cache_drain(struct xfrag_cache *c)
{
	struct xfrag_block *b = &c->umem->hot.blocks[c->block];
	int32_t left;

	/*
	 * The one atomic of a block's life in the cache. Allocations were
	 * counted in `bias` and releases on `refcnt`; subtracting the bias we
	 * still hold reconciles them. Zero means every frag was released.
	 */
	fold_allocs(c);
	c->drains++;
	left = atomic_fetch_sub_explicit(&b->refcnt, (int32_t)c->bias,
					 memory_order_acq_rel) -
	       (int32_t)c->bias;
	c->bias = 0;
	return left;
}

static inline void cache_take(struct xfrag_cache *c, uint32_t blk)
{
	struct xfrag_umem *u = c->umem;
	struct xfrag_block *b = &u->hot.blocks[blk];

	/* We own every reference: plain stores are enough. */
	atomic_store_explicit(&b->refcnt, XFRAG_BIAS, memory_order_relaxed);
	atomic_store_explicit(&b->owner, c->id, memory_order_relaxed);
	/* Releasers read it for every run: write it only when it changes. */
	if (atomic_load_explicit(&u->slot_of[blk], memory_order_relaxed) != c->slot)
		atomic_store_explicit(&u->slot_of[blk], c->slot, memory_order_relaxed);
	c->block = blk;
	c->base = (uint64_t)blk << u->hot.block_shift;
	c->offset = u->block_size;
	c->bias = XFRAG_BIAS;
}

/* ------------------------------------------------------------- retired -- */

/* The last one fills the hole: two stores, not a move of the list (this
 * runs once per block on the carving thread, whose stores queue behind
 * the ones it just made for other CPUs). Order is only a hint. */
static void retired_remove(struct xfrag_cache *c, uint32_t k)
{
	/*
	 * Often the one just retired, its entry still in the store buffer:
	 * no copy then (an 8-byte load of what two 4-byte stores wrote cannot
	 * be forwarded, and waits for them to drain behind the handles).
	 */
	if (k != --c->nretired)
		c->retired[k] = c->retired[c->nretired];
}

/* Free block @blk (count 0) goes to the spare/stock (@keep) or the pool;
 * its old frags are stale from now on. */
static void give_back(struct xfrag_cache *c, uint32_t blk, bool keep)
{
	if (xfrag_unlikely(c->debug))
		xfrag_debug_recycled(c->umem, blk);
	if (keep)
		xfrag_cache_keep(c, blk);
	else
		__xfrag_block_recycle(c->umem, blk);
}

/* Retired block @k has every frag back (its count is our bias): it is ours
 * alone, free for a plain store. */
static void retired_free(struct xfrag_cache *c, uint32_t k, bool keep)
{
	uint32_t blk = c->retired[k].block;

	retired_remove(c, k);
	atomic_store_explicit(&c->umem->hot.blocks[blk].refcnt, 0, memory_order_relaxed);
	c->retired_freed++;
	give_back(c, blk, keep);
}

/* Give retired block @k up: free if every frag is back, else drain our
 * bias with the atomic and leave the block to its last release. */
static void retired_drain(struct xfrag_cache *c, uint32_t k, bool keep)
{
	struct xfrag_umem *u = c->umem;
	struct xfrag_retired r = c->retired[k];
	struct xfrag_block *b = &u->hot.blocks[r.block];
	int32_t left;

	if (atomic_load_explicit(&b->refcnt, memory_order_acquire) == (int32_t)r.bias) {
		retired_free(c, k, keep);
		return;
	}
	retired_remove(c, k);
	c->drains++;
	left = atomic_fetch_sub_explicit(&b->refcnt, (int32_t)r.bias,
					 memory_order_acq_rel) - (int32_t)r.bias;
	if (left > 0)
		return;
	if (xfrag_unlikely(left < 0)) {
		__xfrag_block_bad(u, (uint64_t)r.block << u->hot.block_shift, 0, left);
		return;
	}
	/* The last frag came back between our look and the atomic. */
	give_back(c, r.block, keep);
}

/* The current block ran out with frags still out: keep our bias on it
 * (no atomic now); an old retired block makes room if need be. */
static void retire(struct xfrag_cache *c, uint32_t blk)
{
	/*
	 * One 4-byte load of the bias, the one the carving loop just stored:
	 * a wider load across it and the block (what the vectorizer makes of
	 * a struct copy) cannot be forwarded from the store buffer and waits
	 * for it to drain, behind whatever stores miss there (the handles
	 * just written for another CPU).
	 */
	uint32_t bias = *(volatile uint32_t *)&c->bias;
	struct xfrag_retired *r;

	if (c->nretired == XFRAG_RETIRED)
		retired_drain(c, 0, true);
	fold_allocs(c);
	r = &c->retired[c->nretired++];
	*r = (struct xfrag_retired){ .block = blk, .bias = bias }; /* one store */
	c->block = XFRAG_NO_BLOCK;
	c->bias = 0;
	c->offset = 0;
}

bool __xfrag_cache_put_retired(struct xfrag_cache *c, uint32_t blk, int32_t count)
{
	uint32_t k;

	for (k = 0; k < c->nretired; k++) {
		struct xfrag_retired *r = &c->retired[k];

		if (r->block != blk)
			continue;
		r->bias += (uint32_t)count;
		/* acquire: the frags' last users are done before its reuse */
		if (atomic_load_explicit(&c->umem->hot.blocks[blk].refcnt,
					 memory_order_acquire) == (int32_t)r->bias)
			retired_free(c, k, true);
		return true;
	}
	return false;
}

/* Retired blocks whose last frags came back another way (the shared path
 * drops the count, not our bias): free them into the spare and stock. */
void xfrag_cache_retired_reclaim(struct xfrag_cache *c)
{
	const struct xfrag_block *blocks = c->umem->hot.blocks;
	uint32_t k = 0;

	while (k < c->nretired) {
		if (atomic_load_explicit(&blocks[c->retired[k].block].refcnt,
					 memory_order_acquire) == (int32_t)c->retired[k].bias)
			retired_free(c, k, true); /* k now holds another one */
		else
			k++;
	}
}

/* Every frag of the current block @blk is back and its bias folded: ours
 * alone, carve it again with a fresh bias. */
static void take_anew(struct xfrag_cache *c, uint32_t blk)
{
	c->reuse_in_place++;
	if (xfrag_unlikely(c->debug))
		xfrag_debug_recycled(c->umem, blk);
	cache_take(c, blk);
}

/* Out of line: the refill without releasers keeps its few registers. True
 * if the block was whole after all (the inline reuse declined a low bias):
 * ours alone, taken anew. Else it is retired. */
static __attribute__((noinline)) bool retire_or_keep(struct xfrag_cache *c, uint32_t blk)
{
	struct xfrag_umem *u = c->umem;

	if (atomic_load_explicit(&u->hot.blocks[blk].refcnt, memory_order_acquire) ==
	    (int32_t)c->bias) {
		fold_allocs(c);
		take_anew(c, blk);
		return true;
	}
	retire(c, blk);
	return false;
}

/* ---------------------------------------------------------------- refill -- */

/* The block is left with live frags (or there is none): retire it, and
 * take the spare, the stock, a retired block whose frags all came back,
 * or a block from the pool. A block found whole after all is kept. */
__attribute__((noinline)) int __xfrag_cache_refill_slow(struct xfrag_cache *c)
{
	struct xfrag_umem *u = c->umem;
	uint32_t blk = c->block;

	/*
	 * Runs releasers sent: the current block's go back into the bias (it
	 * may be whole again: reuse in place), detached blocks whose last
	 * references they carry become our spare and stock. Only when the
	 * spare and the stock are used up: reading the rings costs a miss or
	 * two on lines the releasers write, so take many runs at a time.
	 */
	if (atomic_load_explicit(&u->nrows, memory_order_relaxed) &&
	    c->slot != XFRAG_NO_SLOT && c->spare == XFRAG_NO_BLOCK && !c->nstock &&
	    xfrag_inbox_drain(c) && blk != XFRAG_NO_BLOCK &&
	    c->bias >= XFRAG_BIAS_LOW &&
	    atomic_load_explicit(&u->hot.blocks[blk].refcnt, memory_order_acquire) ==
		    (int32_t)c->bias) {
		c->refills++;
		c->reuse_in_place++;
		c->offset = u->block_size;
		if (xfrag_unlikely(c->debug))
			xfrag_debug_recycled(u, blk);
		return 0;
	}
	if (blk != XFRAG_NO_BLOCK) {
		c->refills++;
		/*
		 * Frags still out. While releasers may send them back to
		 * our inbox, keep our bias on the block (retire it: no
		 * atomic now, none when its runs come back). Otherwise they
		 * come back by the shared path, which frees a block only at
		 * count zero: drain our bias for that.
		 */
		if (atomic_load_explicit(&u->nreleasers, memory_order_relaxed) &&
		    c->slot != XFRAG_NO_SLOT) {
			if (retire_or_keep(c, blk))
				return 0;
		} else {
			int32_t left = cache_drain(c);

			if (left == 0) {
				/* Released while we looked: reuse in place. */
				take_anew(c, blk);
				return 0;
			}
			if (xfrag_unlikely(left < 0))
				__xfrag_block_bad(u, c->base, 0, left);
			/* Pinned by live frags: their last release frees it. */
			c->block = XFRAG_NO_BLOCK;
			c->offset = 0;
		}
	}
	/* The most recently freed first: the spare, then the stock, then a
	 * retired block whose frags came back by the shared path. */
	if (c->nretired && c->spare == XFRAG_NO_BLOCK && !c->nstock)
		xfrag_cache_retired_reclaim(c);
	if (c->spare != XFRAG_NO_BLOCK) {
		blk = c->spare;
		c->spare = XFRAG_NO_BLOCK;
	} else if (c->nstock) {
		blk = c->stock[--c->nstock];
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

/*
 * The current block ran out. The reuse in place of alloc_burst's inline
 * check again, for the other callers and for what it leaves here: a
 * bias to top up (with no frag live the count is ours alone, a plain
 * store) and debug_frags' bookkeeping.
 */
__attribute__((noinline)) int __xfrag_cache_refill(struct xfrag_cache *c)
{
	uint32_t blk = c->block;

	if (blk == XFRAG_NO_BLOCK)
		return __xfrag_cache_refill_slow(c);
	/*
	 * If the count equals our bias, no frag of the block is live: nobody
	 * else can touch it, so skip the atomic drain (the page_pool shortcut
	 * again) and carve it again (reuse in place: the hottest block there
	 * is). The count and the bias stay as they are: no write to the
	 * block's line.
	 */
	if (atomic_load_explicit(&c->umem->hot.blocks[blk].refcnt,
				 memory_order_acquire) != (int32_t)c->bias)
		return __xfrag_cache_refill_slow(c);
	c->refills++;
	c->reuse_in_place++;
	c->offset = c->umem->block_size;
	if (xfrag_unlikely(c->bias < XFRAG_BIAS_LOW || c->debug)) {
		if (c->bias < XFRAG_BIAS_LOW) {
			fold_allocs(c);
			cache_take(c, blk);
		}
		if (c->debug)
			xfrag_debug_recycled(c->umem, blk);
	}
	return 0;
}

/*
 * alloc_burst's loop for page-bounded caches (no chunk may straddle a 4 KiB
 * page: zero-copy without hugepages) and for debug_frags, out of line so
 * that the common loop stays small. One bias update per block here too.
 */
int __xfrag_cache_alloc_burst(struct xfrag_cache *c, uint32_t size,
			      uint64_t *addrs, unsigned int n)
{
	unsigned int i = 0, start, k;

	while (i < n) {
		uint32_t off = c->offset;
		const uint64_t base = c->base;

		start = i;
		if (!c->page_mask) {
			uint32_t cnt = off / size;

			if (cnt > n - i)
				cnt = n - i;
			__xfrag_carve_run(addrs + i, base + off, size, cnt);
			i += cnt;
			off -= cnt * size;
		} else {
			while (i < n && off >= size) {
				uint32_t o = off - size;

				if ((o ^ (off - 1)) & c->page_mask) {
					o = (off - 1) & c->page_mask;
					if (o < size)
						break;
					o -= size;
				}
				off = o;
				addrs[i++] = base + off;
			}
		}
		c->offset = off;
		c->bias -= i - start;
		if (i < n && __xfrag_cache_refill(c))
			break;
	}
	if (xfrag_unlikely(c->debug))
		for (k = 0; k < i; k++)
			__xfrag_debug_alloc(c, addrs[k], size);
	return (int)i;
}

void xfrag_cache__flush(struct xfrag_cache *c)
{
	if (!c)
		return;
	xfrag_inbox_drain(c);
	if (c->spare != XFRAG_NO_BLOCK) {
		__xfrag_block_recycle(c->umem, c->spare);
		c->spare = XFRAG_NO_BLOCK;
	}
	while (c->nstock)
		__xfrag_block_recycle(c->umem, c->stock[--c->nstock]);
	while (c->nretired)
		retired_drain(c, 0, false);
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
	xfrag_bind_forget(c->umem, c, &c->bound);
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
	xfrag_slot_claim(u, c);
out:
	pthread_mutex_unlock(&u->caches_lock);
	return err;
}

void xfrag_cache_unregister(struct xfrag_umem *u, struct xfrag_cache *c)
{
	uint32_t i;

	pthread_mutex_lock(&u->caches_lock);
	xfrag_slot_release(u, c);
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
	int got;

	if (!c || !addrs)
		return -EINVAL;
	got = xfrag_cache__alloc_burst(c, size, addrs, n);

	if (got < 0 || (unsigned int)got == n)
		return got < 0 ? got : 0;
	xfrag_umem__release_bulk(c->umem, addrs, (unsigned int)got);
	return -ENOBUFS;
}
