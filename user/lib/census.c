// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Block census: where every block of a UMEM is, for tests. A block is in
 * exactly one place at any quiescent moment; a count of zero on every block
 * cannot tell a block lost from the pool's list, or pushed twice onto it,
 * from a free one. The census walks each place, claims the blocks it finds
 * there, and reports blocks claimed never or more than once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct walk {
	struct xfrag_umem *u;
	struct xfrag_census *cs;
	uint8_t *claims; /* per block: how many times found (saturating) */
	uint8_t *where;
	int64_t *transit; /* per block: references in releasers' rings */
};

static void mark_bad(struct walk *w, uint32_t blk)
{
	if (blk < w->cs->first_bad)
		w->cs->first_bad = blk;
}

/* @blk was found in @place. */
static void claim(struct walk *w, uint32_t blk, enum xfrag_place place)
{
	if (blk >= w->cs->nblocks) {
		w->cs->bad_links++;
		return;
	}
	w->cs->blocks[place]++;
	if (w->claims[blk]++ == 0) {
		w->where[blk] = (uint8_t)place;
		return;
	}
	if (w->claims[blk] == 2)
		w->cs->duplicated++;
	if (w->claims[blk] == 255)
		w->claims[blk] = 254;
	w->where[blk] = XFRAG_PLACE_MANY;
	mark_bad(w, blk);
}

static int32_t count_of(struct walk *w, uint32_t blk)
{
	return atomic_load_explicit(&w->u->hot.blocks[blk].refcnt,
				    memory_order_acquire);
}

static void bad_count(struct walk *w, uint32_t blk)
{
	w->cs->bad_counts++;
	mark_bad(w, blk);
}

/* A free block: count 0, no owner. */
static void check_free(struct walk *w, uint32_t blk)
{
	if (count_of(w, blk) < 0 ||
	    atomic_load_explicit(&w->u->hot.blocks[blk].owner, memory_order_relaxed) !=
		    XFRAG_NO_OWNER)
		bad_count(w, blk);
}

/* The pool: its top slot, then its free list from the head. A repeat is a
 * cycle: stop there. */
static void walk_pool(struct walk *w)
{
	uint64_t head = atomic_load_explicit(&w->u->pool.head, memory_order_acquire);
	uint32_t blk = (uint32_t)head, steps = 0,
		 top = atomic_load_explicit(&w->u->pool.top, memory_order_acquire);

	if (top != XFRAG_NO_BLOCK) {
		claim(w, top, XFRAG_PLACE_POOL);
		if (top < w->cs->nblocks)
			check_free(w, top);
	}

	while (blk != XFRAG_NO_BLOCK && steps++ <= w->cs->nblocks) {
		bool seen;

		if (blk >= w->cs->nblocks) {
			w->cs->bad_links++;
			return;
		}
		seen = w->claims[blk] != 0;
		claim(w, blk, XFRAG_PLACE_POOL);
		if (seen)
			return;
		check_free(w, blk);
		blk = atomic_load_explicit(&w->u->hot.blocks[blk].next,
					   memory_order_relaxed);
	}
}

/*
 * A free block a cache keeps (its spare, its stock): count 0, nothing in
 * transit, and still the cache's (stats tells a kept block from a free
 * one by its owner).
 */
static void claim_kept(struct walk *w, uint8_t *held, uint32_t blk,
		       enum xfrag_place place)
{
	claim(w, blk, place);
	if (blk >= w->cs->nblocks)
		return;
	held[blk] = 1;
	if (count_of(w, blk) != 0 || w->transit[blk] ||
	    atomic_load_explicit(&w->u->hot.blocks[blk].owner, memory_order_relaxed) ==
		    XFRAG_NO_OWNER)
		bad_count(w, blk);
}

/*
 * A block a cache holds its bias on (its current block, a retired one):
 * count >= bias, the cache's id; the difference, less what is in transit
 * to the cache, is live frags.
 */
static void claim_biased(struct walk *w, uint8_t *held, const struct xfrag_cache *c,
			 uint32_t blk, uint32_t bias, enum xfrag_place place)
{
	int64_t live;

	claim(w, blk, place);
	if (blk >= w->cs->nblocks)
		return;
	held[blk] = 1;
	live = (int64_t)count_of(w, blk) - bias - w->transit[blk];
	if (live < 0 || atomic_load_explicit(&w->u->hot.blocks[blk].owner,
					     memory_order_relaxed) != c->id)
		bad_count(w, blk);
	else
		w->cs->live_refs += (uint64_t)live;
}

/* What each cache holds: its current block, its retired ones, its spare
 * and its stock. */
static void walk_caches(struct walk *w, uint8_t *held)
{
	struct xfrag_umem *u = w->u;
	uint32_t i;

	pthread_mutex_lock(&u->caches_lock);
	w->cs->caches = u->ncaches;
	for (i = 0; i < u->ncaches; i++) {
		const struct xfrag_cache *c = u->caches[i];
		uint32_t blk = c->block;

		if (blk != XFRAG_NO_BLOCK) {
			claim_biased(w, held, c, blk, c->bias, XFRAG_PLACE_CURRENT);
			if (blk < w->cs->nblocks &&
			    c->base != (uint64_t)blk << u->hot.block_shift)
				bad_count(w, blk);
		}
		for (uint32_t k = 0; k < c->nretired && k < XFRAG_RETIRED; k++)
			claim_biased(w, held, c, c->retired[k].block, c->retired[k].bias,
				     XFRAG_PLACE_RETIRED);
		if (c->nretired > XFRAG_RETIRED)
			w->cs->bad_links++;
		if (c->spare != XFRAG_NO_BLOCK)
			claim_kept(w, held, c->spare, XFRAG_PLACE_SPARE);
		/* Blocks its inbox freed, kept for its next refills. */
		for (uint32_t k = 0; k < c->nstock && k < XFRAG_STOCK; k++)
			claim_kept(w, held, c->stock[k], XFRAG_PLACE_STOCK);
		if (c->nstock > XFRAG_STOCK)
			w->cs->bad_links++;
	}
	pthread_mutex_unlock(&u->caches_lock);
}

/* Blocks no cache holds whose count says frags still pin them. */
static void walk_pinned(struct walk *w, const uint8_t *held)
{
	uint32_t blk;

	for (blk = 0; blk < w->cs->nblocks; blk++) {
		int32_t v;

		if (held[blk])
			continue;
		v = count_of(w, blk);
		if (v > 0) {
			/* Pinned by live frags, or by references on their way
			 * to its cache in a releaser's ring. */
			claim(w, blk, XFRAG_PLACE_PINNED);
			if (v < w->transit[blk])
				bad_count(w, blk);
			else
				w->cs->live_refs += (uint64_t)(v - w->transit[blk]);
		} else if ((v < 0 || w->transit[blk]) && w->claims[blk] == 0) {
			bad_count(w, blk); /* in no place, and below zero (or a
					    * free block with runs in transit) */
		}
	}
}

/* debug_frags: the tracked references of each block against its count. */
static void check_debug(struct walk *w)
{
	struct xfrag_umem *u = w->u;
	uint32_t blk, i;

	if (!u->dbg)
		return;
	pthread_mutex_lock(&u->caches_lock);
	for (blk = 0; blk < w->cs->nblocks; blk++) {
		int64_t want = 0;

		switch (w->where[blk]) {
		case XFRAG_PLACE_PINNED:
			want = count_of(w, blk) - w->transit[blk];
			break;
		case XFRAG_PLACE_CURRENT:
			for (i = 0; i < u->ncaches; i++)
				if (u->caches[i]->block == blk)
					want = (int64_t)count_of(w, blk) -
					       u->caches[i]->bias - w->transit[blk];
			break;
		case XFRAG_PLACE_RETIRED:
			for (i = 0; i < u->ncaches; i++)
				for (uint32_t k = 0; k < u->caches[i]->nretired; k++)
					if (u->caches[i]->retired[k].block == blk)
						want = (int64_t)count_of(w, blk) -
						       u->caches[i]->retired[k].bias -
						       w->transit[blk];
			break;
		default:
			break;
		}
		if (xfrag_debug_block_refs(u, blk) != want) {
			w->cs->debug_mismatch++;
			mark_bad(w, blk);
		}
	}
	pthread_mutex_unlock(&u->caches_lock);
}

/* Small UMEMs (tests, fuzzers taking a census every few operations) need
 * no allocation at all. */
#define CENSUS_STACK 256

int xfrag_census(struct xfrag_umem *u, struct xfrag_census *cs, uint8_t *where)
{
	struct walk w = { .u = u, .cs = cs };
	uint8_t small[3][CENSUS_STACK], *held;
	int64_t small_transit[CENSUS_STACK];
	uint32_t blk, n = u->hot.nblocks;
	bool heap = n > CENSUS_STACK;

	memset(cs, 0, sizeof(*cs));
	cs->nblocks = n;
	cs->first_bad = XFRAG_NO_BLOCK;
	if (heap) {
		w.claims = calloc(n, 1);
		held = calloc(n, 1);
		w.where = where ? where : calloc(n, 1);
		w.transit = calloc(n, sizeof(*w.transit));
	} else {
		w.claims = memset(small[0], 0, n);
		held = memset(small[1], 0, n);
		w.where = where ? where : small[2];
		w.transit = memset(small_transit, 0, n * sizeof(*w.transit));
	}
	if (!w.claims || !held || !w.where || !w.transit) {
		free(w.claims);
		free(held);
		free(w.transit);
		if (!where)
			free(w.where);
		return -ENOMEM;
	}
	memset(w.where, XFRAG_PLACE_NONE, n);

	/* References released through releasers, not yet applied by their
	 * caches: not live any more, still counted by the blocks. */
	pthread_mutex_lock(&u->caches_lock);
	xfrag_rings_pending(u, w.transit);
	pthread_mutex_unlock(&u->caches_lock);
	for (blk = 0; blk < n; blk++)
		cs->in_transit += (uint64_t)w.transit[blk];

	walk_pool(&w);
	walk_caches(&w, held);
	walk_pinned(&w, held);
	for (blk = 0; blk < n; blk++)
		if (!w.claims[blk]) {
			cs->blocks[XFRAG_PLACE_NONE]++;
			mark_bad(&w, blk);
		}
	cs->lost = cs->blocks[XFRAG_PLACE_NONE];
	check_debug(&w);

	if (heap) {
		free(w.claims);
		free(held);
		free(w.transit);
		if (!where)
			free(w.where);
	}
	return cs->lost || cs->duplicated || cs->bad_counts || cs->bad_links ||
			       cs->debug_mismatch ?
		       -EUCLEAN :
		       0;
}

const char *xfrag_place_name(unsigned int place)
{
	static const char *const names[] = {
		[XFRAG_PLACE_NONE] = "lost",       [XFRAG_PLACE_POOL] = "pool",
		[XFRAG_PLACE_CURRENT] = "current", [XFRAG_PLACE_SPARE] = "spare",
		[XFRAG_PLACE_PINNED] = "pinned",   [XFRAG_PLACE_STOCK] = "stock",
		[XFRAG_PLACE_RETIRED] = "retired",
	};

	if (place == XFRAG_PLACE_MANY)
		return "several";
	return place < XFRAG_PLACE_NR ? names[place] : "?";
}

int xfrag_census_format(const struct xfrag_census *cs, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "%u blocks, %u caches: pool %u current %u retired %u spare %u stock %u pinned %u (%llu frag refs, %llu in transit) | lost %u duplicated %u bad counts %u bad links %u debug mismatch %u",
			 cs->nblocks, cs->caches, cs->blocks[XFRAG_PLACE_POOL],
			 cs->blocks[XFRAG_PLACE_CURRENT], cs->blocks[XFRAG_PLACE_RETIRED],
			 cs->blocks[XFRAG_PLACE_SPARE],
			 cs->blocks[XFRAG_PLACE_STOCK], cs->blocks[XFRAG_PLACE_PINNED],
			 (unsigned long long)cs->live_refs,
			 (unsigned long long)cs->in_transit, cs->lost, cs->duplicated,
			 cs->bad_counts, cs->bad_links, cs->debug_mismatch);

	if (n >= 0 && (size_t)n < len && cs->first_bad != XFRAG_NO_BLOCK)
		n += snprintf(buf + n, len - (size_t)n, " (first: block %u)",
			      cs->first_bad);
	return n;
}
