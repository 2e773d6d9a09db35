// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Batched release across threads: releasers, their rings, the caches'
 * inboxes (see internal.h for the layout and frag.h for the contract).
 *
 * Who writes what: a releaser fills its rings' empty entries with runs; a
 * cache reads its rings' full entries and empties them, and is the only
 * one to touch the counts of the blocks it carves for those runs. So a run
 * costs a ring entry on each side, in lines that move once per few runs,
 * instead of an atomic on a count whose line the carving thread writes
 * too.
 *
 * The rings live as long as the UMEM: a releaser or a cache that goes
 * leaves its rings behind, full or not, for the next one of its row or
 * slot. Runs in a dead slot's rings (sent while the cache died) are applied
 * through the shared path under caches_lock: by the dying cache, by the
 * slot's next cache, or by their releaser when it sees `deaths` move.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int xfrag_release_init(struct xfrag_umem *u)
{
	uint32_t i;

	/* Lines of its own: releasers read it for every run. */
	u->slot_of = xfrag_zalloc_lines(u->hot.nblocks);
	if (!u->slot_of)
		return -ENOMEM;
	for (i = 0; i < u->hot.nblocks; i++)
		atomic_init(&u->slot_of[i], XFRAG_NO_SLOT);
	for (i = 0; i < XFRAG_SLOTS; i++)
		atomic_init(&u->slot_live[i], 0);
	for (i = 0; i < XFRAG_RELEASERS; i++)
		atomic_init(&u->rows[i], NULL);
	atomic_init(&u->deaths, 0);
	atomic_init(&u->nrows, 0);
	atomic_init(&u->nreleasers, 0);
	atomic_init(&u->nslots, 0);
	return 0;
}

void xfrag_release_free(struct xfrag_umem *u)
{
	uint32_t r, s;

	for (r = 0; r < XFRAG_RELEASERS; r++) {
		struct xfrag_ring_row *w = atomic_load_explicit(&u->rows[r],
								memory_order_relaxed);

		if (!w)
			continue;
		for (s = 0; s < XFRAG_SLOTS; s++)
			free(atomic_load_explicit(&w->ring[s], memory_order_relaxed));
		free(w);
	}
	free(u->slot_of);
}

/* The ring of @row towards @slot, or NULL. */
static struct xfrag_rring *ring_at(struct xfrag_umem *u, uint32_t row,
				   uint32_t slot)
{
	/* acquire: the row's and the ring's zeroed memory with the pointers */
	struct xfrag_ring_row *w = atomic_load_explicit(&u->rows[row],
							memory_order_acquire);

	return w ? atomic_load_explicit(&w->ring[slot], memory_order_acquire) : NULL;
}

/* @row's table of rings, made if need be; caches_lock held. */
static struct xfrag_ring_row *row_ensure(struct xfrag_umem *u, uint32_t row)
{
	struct xfrag_ring_row *w = atomic_load_explicit(&u->rows[row],
							memory_order_relaxed);

	if (!w) {
		/* Its own lines: cache lookups read it next to nothing written. */
		w = xfrag_zalloc_lines(sizeof(*w));
		if (w)
			atomic_store_explicit(&u->rows[row], w, memory_order_release);
	}
	return w;
}

/* The ring of @row towards @slot, made if need be; caches_lock held. */
static struct xfrag_rring *ring_ensure(struct xfrag_umem *u, uint32_t row,
				       uint32_t slot)
{
	struct xfrag_ring_row *w = row_ensure(u, row);
	struct xfrag_rring *q;

	if (!w)
		return NULL;
	q = atomic_load_explicit(&w->ring[slot], memory_order_relaxed);
	if (q)
		return q;
	q = xfrag_zalloc_lines(sizeof(*q));
	if (!q)
		return NULL;
	/* release: the zeroed ring before the pointer */
	atomic_store_explicit(&w->ring[slot], q, memory_order_release);
	return q;
}

/* The run in the entry at @t, or 0; acquire: the releaser's run and
 * everything it did before it. */
static inline uint64_t ring_peek(struct xfrag_rring *q, uint32_t t)
{
	return atomic_load_explicit(&q->msg[t % XFRAG_RRING], memory_order_acquire);
}

/* Done with the entry at @t; release: our reads of it before its reuse. */
static inline void ring_empty(struct xfrag_rring *q, uint32_t t)
{
	atomic_store_explicit(&q->msg[t % XFRAG_RRING], 0, memory_order_release);
}

/* Apply what @q holds through the shared path: for rings nobody consumes
 * (a dead slot's); caches_lock held. */
static unsigned int ring_drain_shared(struct xfrag_umem *u, struct xfrag_rring *q)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed), t0 = t;
	uint64_t m;

	while ((m = ring_peek(q, t))) {
		__xfrag_block_put(u, (uint64_t)XFRAG_RUN_BLK(m) << u->hot.block_shift,
				  XFRAG_RUN_COUNT(m));
		ring_empty(q, t++);
	}
	atomic_store_explicit(&q->tail, t, memory_order_release);
	return t - t0;
}

static void slot_drain_shared(struct xfrag_umem *u, uint32_t slot)
{
	uint32_t r, rows = atomic_load_explicit(&u->nrows, memory_order_relaxed);

	for (r = 0; r < rows; r++) {
		struct xfrag_rring *q = ring_at(u, r, slot);

		if (q)
			ring_drain_shared(u, q);
	}
}

void xfrag_slot_claim(struct xfrag_umem *u, struct xfrag_cache *c)
{
	uint32_t s, r, rows = atomic_load_explicit(&u->nrows, memory_order_relaxed);

	c->slot = XFRAG_NO_SLOT;
	for (s = 0; s < XFRAG_SLOTS && u->slot_cache[s]; s++)
		;
	if (s == XFRAG_SLOTS)
		return; /* releasers release this cache's frags directly */
	for (r = 0; r < rows; r++)
		if (u->row_used[r])
			ring_ensure(u, r, s); /* none: that releaser goes direct */
	/* What its last cache was sent after it went. */
	slot_drain_shared(u, s);
	u->slot_cache[s] = c;
	atomic_store_explicit(&u->slot_live[s], 1, memory_order_release);
	if (s >= atomic_load_explicit(&u->nslots, memory_order_relaxed))
		atomic_store_explicit(&u->nslots, s + 1, memory_order_relaxed);
	c->slot = (uint8_t)s;
}

void xfrag_slot_release(struct xfrag_umem *u, struct xfrag_cache *c)
{
	uint32_t s = c->slot;

	if (s == XFRAG_NO_SLOT)
		return;
	/*
	 * From now on releasers release directly. One that saw the slot live
	 * just before may still publish a run: what comes in before the drain
	 * below is applied here, what comes after by that releaser, which
	 * looks again when `deaths` moves (its next call).
	 */
	atomic_store_explicit(&u->slot_live[s], 0, memory_order_relaxed);
	u->slot_cache[s] = NULL;
	slot_drain_shared(u, s);
	atomic_store_explicit(&u->deaths,
			      atomic_load_explicit(&u->deaths, memory_order_relaxed) + 1,
			      memory_order_release);
	c->slot = XFRAG_NO_SLOT;
}

void xfrag_cache_keep(struct xfrag_cache *c, uint32_t blk)
{
	/* The spare is the newest; the stock holds the ones before it, and
	 * the oldest goes to the pool when it is full. */
	if (c->spare != XFRAG_NO_BLOCK) {
		if (c->nstock == XFRAG_STOCK) {
			c->inbox_atomics++; /* the pool's CAS */
			__xfrag_block_recycle(c->umem, c->stock[0]);
			memmove(c->stock, c->stock + 1,
				(XFRAG_STOCK - 1) * sizeof(c->stock[0]));
			c->nstock--;
		}
		c->stock[c->nstock++] = c->spare;
	}
	c->spare = blk;
}

/* One run for @c's slot, on @c's thread. */
static void apply(struct xfrag_cache *c, uint32_t blk, int32_t count)
{
	struct xfrag_umem *u = c->umem;
	struct xfrag_block *b;
	int32_t v;

	if (blk == c->block) {
		/* Outstanding frags are refcnt - bias either way. */
		c->bias += (uint32_t)count;
		c->given_back += (uint32_t)count;
		return;
	}
	/* Retired: back into that block's bias. */
	if (c->nretired && __xfrag_cache_put_retired(c, blk, count))
		return;
	/* Detached (a run pins its block: nobody can have taken it since).
	 * The last references come here: the shortcut, or the atomic. */
	b = &u->hot.blocks[blk];
	v = atomic_load_explicit(&b->refcnt, memory_order_acquire);
	if (v == count) {
		atomic_store_explicit(&b->refcnt, 0, memory_order_relaxed);
	} else {
		v = atomic_fetch_sub_explicit(&b->refcnt, count,
					      memory_order_acq_rel) - count;
		c->inbox_atomics++;
		if (xfrag_likely(v > 0))
			return;
		if (v < 0) {
			__xfrag_block_bad(u, (uint64_t)blk << u->hot.block_shift,
					  count, v);
			return;
		}
	}
	c->inbox_freed++;
	if (xfrag_unlikely(c->debug))
		xfrag_debug_recycled(u, blk);
	xfrag_cache_keep(c, blk);
}

unsigned int xfrag_inbox_drain(struct xfrag_cache *c)
{
	struct xfrag_umem *u = c->umem;
	uint32_t r, rows = atomic_load_explicit(&u->nrows, memory_order_acquire);
	unsigned int n = 0;

	if (c->slot == XFRAG_NO_SLOT)
		return 0;
	for (r = 0; r < rows; r++) {
		struct xfrag_rring *q = ring_at(u, r, c->slot);
		uint32_t t, t0;
		uint64_t m;

		if (!q)
			continue;
		t = t0 = atomic_load_explicit(&q->tail, memory_order_relaxed);
		while ((m = ring_peek(q, t))) {
			apply(c, XFRAG_RUN_BLK(m), XFRAG_RUN_COUNT(m));
			ring_empty(q, t++);
		}
		if (t != t0)
			atomic_store_explicit(&q->tail, t, memory_order_release);
		n += t - t0;
	}
	c->inbox_runs += n;
	return n;
}

int xfrag_cache__reclaim(struct xfrag_cache *c)
{
	int n;

	if (!c)
		return -EINVAL;
	n = (int)xfrag_inbox_drain(c);
	/* and retired blocks freed by the shared path since the last refill */
	xfrag_cache_retired_reclaim(c);
	return n;
}

void xfrag_rings_pending(struct xfrag_umem *u, int64_t *pending)
{
	uint32_t r, s, rows = atomic_load_explicit(&u->nrows, memory_order_acquire);
	uint32_t slots = atomic_load_explicit(&u->nslots, memory_order_relaxed);

	for (r = 0; r < rows; r++)
		for (s = 0; s < slots; s++) {
			struct xfrag_rring *q = ring_at(u, r, s);
			uint32_t t, k;
			uint64_t m;

			if (!q)
				continue;
			t = atomic_load_explicit(&q->tail, memory_order_relaxed);
			for (k = 0; k < XFRAG_RRING && (m = ring_peek(q, t + k)); k++)
				if (XFRAG_RUN_BLK(m) < u->hot.nblocks)
					pending[XFRAG_RUN_BLK(m)] += XFRAG_RUN_COUNT(m);
		}
}

/* ------------------------------------------------------------ releaser -- */

struct xfrag_releaser *xfrag_releaser__create(struct xfrag_umem *u,
					      const struct xfrag_releaser_opts *opts)
{
	struct xfrag_releaser *r;
	uint32_t row, s;

	if (!u || (opts && !OPTS_VALID(opts, xfrag_releaser_opts))) {
		errno = EINVAL;
		return NULL;
	}
	/* Its own lines: it is written at every call. */
	r = xfrag_zalloc_lines(sizeof(*r));
	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	r->umem = u;
	pthread_mutex_lock(&u->caches_lock);
	for (row = 0; row < XFRAG_RELEASERS && u->row_used[row]; row++)
		;
	if (row == XFRAG_RELEASERS) {
		pthread_mutex_unlock(&u->caches_lock);
		free(r);
		pr_warn("%u releasers exist on this UMEM: release with xfrag_umem__release_bulk()",
			XFRAG_RELEASERS);
		errno = ENOSPC;
		return NULL;
	}
	r->rings = row_ensure(u, row);
	if (!r->rings) {
		pthread_mutex_unlock(&u->caches_lock);
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	for (s = 0; s < XFRAG_SLOTS; s++)
		if (u->slot_cache[s])
			ring_ensure(u, row, s); /* none: direct for that slot */
	u->row_used[row] = 1;
	atomic_fetch_add_explicit(&u->nreleasers, 1, memory_order_relaxed);
	if (row >= atomic_load_explicit(&u->nrows, memory_order_relaxed))
		/* release: the rings before a cache scans their row */
		atomic_store_explicit(&u->nrows, row + 1, memory_order_release);
	r->row = row;
	r->deaths_seen = atomic_load_explicit(&u->deaths, memory_order_relaxed);
	pthread_mutex_unlock(&u->caches_lock);
	xfrag_umem_get(u);
	return r;
}

/* Apply what this row left in dead slots' rings (see xfrag_slot_release). */
static void rel_rescue(struct xfrag_releaser *r)
{
	struct xfrag_umem *u = r->umem;
	uint32_t s;

	pthread_mutex_lock(&u->caches_lock);
	r->deaths_seen = atomic_load_explicit(&u->deaths, memory_order_relaxed);
	for (s = 0; s < atomic_load_explicit(&u->nslots, memory_order_relaxed); s++) {
		struct xfrag_rring *q = ring_at(u, r->row, s);

		if (q && !u->slot_cache[s])
			r->runs_rescued += ring_drain_shared(u, q);
	}
	pthread_mutex_unlock(&u->caches_lock);
}

void xfrag_releaser__flush(struct xfrag_releaser *r)
{
	if (r)
		rel_rescue(r);
}

void xfrag_releaser__destroy(struct xfrag_releaser *r)
{
	struct xfrag_umem *u;

	if (!r)
		return;
	u = r->umem;
	xfrag_bind_forget(u, r, &r->bound);
	rel_rescue(r);
	pthread_mutex_lock(&u->caches_lock);
	u->row_used[r->row] = 0;
	atomic_fetch_sub_explicit(&u->nreleasers, 1, memory_order_relaxed);
	pthread_mutex_unlock(&u->caches_lock);
	free(r);
	xfrag_umem_put(u);
}

/*
 * One run, on the releaser's thread: to the ring of the cache that carved
 * the block, or (no inbox, dead slot, ring full) through the shared path.
 * The run's references pin the block, so its slot cannot change under us.
 */
static __xfrag_always_inline unsigned int rel_put_run(struct xfrag_umem *u,
						      void *ctx, uint64_t addr,
						      int32_t count)
{
	struct xfrag_releaser *r = ctx;
	uint64_t blk = (addr & XFRAG_ADDR_MASK) >> u->hot.block_shift;
	struct xfrag_rring *q;
	uint32_t s;

	if (xfrag_unlikely(blk >= u->hot.nblocks))
		return __xfrag_block_bad(u, addr, count, -1);
	s = atomic_load_explicit(&u->slot_of[blk], memory_order_relaxed);
	if (xfrag_unlikely(s == XFRAG_NO_SLOT ||
			   !atomic_load_explicit(&u->slot_live[s], memory_order_relaxed)))
		goto direct;
	/* acquire: a ring made after us (its slot's cache came later) is
	 * zeroed before its pointer shows */
	q = atomic_load_explicit(&r->rings->ring[s], memory_order_acquire);
	if (xfrag_unlikely(!q))
		goto direct;
	/* Full while the cache has not moved its tail a lap behind us
	 * (acquire: it is done reading the entries below its tail). */
	if (xfrag_unlikely((int32_t)(q->prod - q->lim) >= 0)) {
		q->lim = atomic_load_explicit(&q->tail, memory_order_acquire) +
			 XFRAG_RRING;
		if ((int32_t)(q->prod - q->lim) >= 0)
			goto direct;
	}
	/* release: the frags' last uses before the run that frees them */
	atomic_store_explicit(&q->msg[q->prod % XFRAG_RRING],
			      XFRAG_RUN(blk, count), memory_order_release);
	q->prod++;
	r->runs_sent++;
	return 0;
direct:
	r->runs_direct++;
	return __xfrag_block_put(u, addr, count);
}

unsigned int xfrag_releaser__release_bulk(struct xfrag_releaser *r,
					  const uint64_t *addrs, unsigned int n)
{
	struct xfrag_umem *u;

	if (xfrag_unlikely(!r || !addrs || !n))
		return 0;
	u = r->umem;
	/* A cache went since we last looked: what we may have sent it. */
	if (xfrag_unlikely(atomic_load_explicit(&u->deaths, memory_order_acquire) !=
			   r->deaths_seen))
		rel_rescue(r);
	/* debug_frags: every frag checked, then released as below. */
	if (xfrag_unlikely(u->hot.debug))
		xfrag_debug_check_bulk(u, addrs, n);
	return __xfrag_scan_runs(u, addrs, n, rel_put_run, r);
}
