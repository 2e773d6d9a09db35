// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The global free-block pool: a tagged lock-free LIFO behind a one-block
 * slot for the newest, see internal.h. */
#include "internal.h"

#define HEAD(tag, idx) (((uint64_t)(tag) << 32) | (idx))
#define HEAD_IDX(h) ((uint32_t)(h))
#define HEAD_TAG(h) ((uint32_t)((h) >> 32))

void xfrag_pool_init(struct xfrag_umem *u)
{
	struct xfrag_block *b = u->hot.blocks;
	uint32_t i, n = u->hot.nblocks;

	/* Block 0 on top: the first carves start at the region's start. */
	for (i = 0; i < n; i++) {
		atomic_init(&b[i].refcnt, 0);
		atomic_init(&b[i].next, i + 1 < n ? i + 1 : XFRAG_NO_BLOCK);
		atomic_init(&b[i].owner, XFRAG_NO_OWNER);
	}
	atomic_init(&u->pool.head, HEAD(0, n ? 0 : XFRAG_NO_BLOCK));
	atomic_init(&u->pool.top, XFRAG_NO_BLOCK);
	atomic_init(&u->pool.empty, 0);
	atomic_init(&u->pool.bad_release, 0);
}

void xfrag_pool_push(struct xfrag_umem *u, uint32_t blk)
{
	struct xfrag_block *b = &u->hot.blocks[blk];
	uint64_t old;

	atomic_store_explicit(&b->owner, XFRAG_NO_OWNER, memory_order_relaxed);
	/* acq_rel: the block's contents go with it; the one it displaces
	 * (pushed by another thread) comes with its own. */
	blk = atomic_exchange_explicit(&u->pool.top, blk, memory_order_acq_rel);
	if (blk == XFRAG_NO_BLOCK)
		return;
	/* The block it displaced goes onto the list, still newest-first. */
	b = &u->hot.blocks[blk];
	old = atomic_load_explicit(&u->pool.head, memory_order_relaxed);
	do {
		atomic_store_explicit(&b->next, HEAD_IDX(old),
				      memory_order_relaxed);
		/* release: the block's contents and link are published with it */
	} while (!atomic_compare_exchange_weak_explicit(
		&u->pool.head, &old, HEAD(HEAD_TAG(old) + 1, blk),
		memory_order_release, memory_order_relaxed));
}

uint32_t xfrag_pool_pop(struct xfrag_umem *u)
{
	uint64_t old;
	uint32_t idx, next;

	/* The newest first; a plain look before the exchange, so that an
	 * empty slot costs no locked instruction. */
	if (atomic_load_explicit(&u->pool.top, memory_order_relaxed) != XFRAG_NO_BLOCK) {
		idx = atomic_exchange_explicit(&u->pool.top, XFRAG_NO_BLOCK,
					       memory_order_acq_rel);
		if (idx != XFRAG_NO_BLOCK)
			return idx;
	}
	old = atomic_load_explicit(&u->pool.head, memory_order_acquire);
	do {
		idx = HEAD_IDX(old);
		if (idx == XFRAG_NO_BLOCK) {
			atomic_fetch_add_explicit(&u->pool.empty, 1,
						  memory_order_relaxed);
			return XFRAG_NO_BLOCK;
		}
		/* May read a link a concurrent pop/push is rewriting; the
		 * tag makes the CAS below fail in that case. */
		next = atomic_load_explicit(&u->hot.blocks[idx].next,
					    memory_order_relaxed);
	} while (!atomic_compare_exchange_weak_explicit(
		&u->pool.head, &old, HEAD(HEAD_TAG(old) + 1, next),
		memory_order_acquire, memory_order_acquire));
	return idx;
}
