/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Internal declarations shared by the library's .c files. Not installed. */
#ifndef XFRAG_INTERNAL_H
#define XFRAG_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xfrag/frag.h"

#define XFRAG_HIDDEN __attribute__((visibility("hidden")))

__attribute__((format(printf, 2, 3))) XFRAG_HIDDEN void
xfrag_log(enum xfrag_log_level level, const char *fmt, ...);
#define pr_err(...) xfrag_log(XFRAG_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) xfrag_log(XFRAG_LOG_WARN, __VA_ARGS__)
#define pr_info(...) xfrag_log(XFRAG_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) xfrag_log(XFRAG_LOG_DEBUG, __VA_ARGS__)

/* Zeroed memory on cache lines of its own, @size rounded up to whole lines:
 * for state one CPU writes and others read, which must share a line with
 * nothing else on the heap. NULL when out of memory. */
static inline void *xfrag_zalloc_lines(size_t size)
{
	size_t n = (size + XFRAG_CACHELINE - 1) & ~(size_t)(XFRAG_CACHELINE - 1);
	void *p = aligned_alloc(XFRAG_CACHELINE, n ? n : XFRAG_CACHELINE);

	if (p)
		memset(p, 0, n);
	return p;
}

/*
 * Lock-free LIFO of free blocks (a Treiber stack). The head packs the top
 * block index (low 32 bits) with a tag bumped on every push and pop, so a
 * pop that read a stale `next` fails its CAS instead of corrupting the list
 * (ABA). LIFO on purpose: the block freed last is the one most likely still
 * in cache when the kernel copies the next frame into it.
 * No free-block counter: it would cost two more atomics per block;
 * xfrag_umem__stats() counts blocks with count zero and no owner instead.
 */
struct xfrag_pool {
	_Atomic uint64_t head __attribute__((aligned(XFRAG_CACHELINE)));
	/* The newest free block, in front of the list: one exchange to put
	 * it there or take it, for the block that a release frees and the
	 * next refill takes back (the common case), instead of a CAS loop
	 * on each side that relinks it. On the head's line: one line either
	 * way. */
	_Atomic uint32_t top;
	/* Statistics, off the CAS line: a pop that finds the pool empty
	 * must not slow down the pushes and pops of other queues. */
	_Atomic uint64_t empty __attribute__((aligned(XFRAG_CACHELINE)));
	_Atomic uint64_t bad_release;
};

/*
 * Batched release (release.c). A releaser (one per releasing thread) does
 * not touch the counts of other caches' blocks: it finds each run's block
 * and the inbox slot of the cache that carved it (slot_of, written when a
 * cache takes a block: read-mostly), and appends (block, count) to its own
 * ring towards that cache. The cache applies its rings' runs when it
 * refills, on its own thread and lines: a run of its current block goes
 * back into the bias, a detached block's last references free it into the
 * cache's stock. One ring per (releaser, cache slot), single producer and
 * single consumer; a cache's leftovers when it dies are taken under
 * caches_lock, by the dying cache, the next owner of the slot, or the
 * releaser that put them there (it looks when `deaths` moves).
 */
#define XFRAG_SLOTS 128     /* caches with an inbox; more carve without one */
#define XFRAG_NO_SLOT 0xff
#define XFRAG_RELEASERS 64  /* releasers with rings; more release directly */
#define XFRAG_RRING 64      /* runs in flight per (releaser, cache) */

/*
 * A run in a ring entry: count (> 0) in the high half, the block in the
 * low half; 0 is an empty entry. Each entry says by itself whether it is
 * full (the FastForward queue): the cache's visit reads no index of the
 * releaser's, so it misses on the entries' lines only. The releaser finds
 * room from the cache's tail, read once a lap (lim), not from the entry
 * it is about to write: that line is the one the cache last emptied.
 */
#define XFRAG_RUN(blk, count) ((uint64_t)(uint32_t)(count) << 32 | (uint32_t)(blk))
#define XFRAG_RUN_BLK(m) ((uint32_t)(m))
#define XFRAG_RUN_COUNT(m) ((int32_t)((m) >> 32))

struct xfrag_rring {
	/* the releaser's line */
	uint32_t prod __attribute__((aligned(XFRAG_CACHELINE))); /* runs written */
	/* entries below this are known empty: the last tail read, plus the
	 * ring's size (why: above) */
	uint32_t lim;
	/* the consumer's line: the next entry to read; release: the entries
	 * below it read and emptied */
	_Atomic uint32_t tail __attribute__((aligned(XFRAG_CACHELINE)));
	_Atomic uint64_t msg[XFRAG_RRING] __attribute__((aligned(XFRAG_CACHELINE)));
};

/* One releaser row's rings, one per slot (NULL until both exist). */
struct xfrag_ring_row {
	struct xfrag_rring *_Atomic ring[XFRAG_SLOTS];
} __attribute__((aligned(XFRAG_CACHELINE)));

struct xfrag_releaser {
	struct xfrag_umem *umem;
	struct xfrag_ring_row *rings; /* umem->rows[row]: one ring per slot */
	uint32_t row;
	uint32_t deaths_seen; /* umem->deaths when it last looked */
	uint8_t bound;        /* some thread's binding names it */
	uint64_t runs_sent, runs_direct; /* to rings; released directly */
	uint64_t runs_rescued;           /* from its rings of dead slots */
} __attribute__((aligned(XFRAG_CACHELINE)));

struct xfrag_debug;      /* debug.c */
struct xfrag_xsk_ops;    /* xsk_ops.h */
struct xfrag_sock;       /* xsk_internal.h */
struct xfrag_quarantine; /* xsk_internal.h */

struct xfrag_umem {
	struct xfrag_umem_hot hot; /* must stay first: see xfrag_umem__hot() */
	struct xfrag_pool pool;
	uint64_t map_len;
	uint32_t block_size;
	uint32_t backing;
	struct xfrag_debug *dbg;
	/*
	 * The user's reference and one per rx/tx queue: destroying the UMEM
	 * while queues live defers the unmap until the last one is gone.
	 */
	_Atomic uint32_t refs;
	/* Control plane (xsk.c, quarantine.c): everything below, u->lock. */
	pthread_mutex_t lock;
	const struct xfrag_xsk_ops *ops;
	void *ops_ctx;
	struct xfrag_sock *socks; /* live, bound sockets */
	uint32_t nsockets;
	/* Fixed by the registration (the first live socket), inherited by
	 * every socket that shares the UMEM after it. */
	uint32_t frame_size, headroom;
	bool no_wakeup, multi_buffer, zerocopy;
	struct xfrag_quarantine *quarantine;
	uint64_t quarantined; /* chunks waiting for their queue's teardown */
	uint64_t reclaimed;   /* chunks the quarantine has returned */
	/* Every live frag cache of this UMEM, for the block census. Control
	 * plane only: caches register on create and leave on destroy. */
	pthread_mutex_t caches_lock;
	struct xfrag_cache **caches;
	uint32_t ncaches, caches_cap;
	/* Batched release (release.c). slot_of and slot_live are read by
	 * releasers on any thread; the rest changes under caches_lock. */
	_Atomic uint8_t *slot_of;              /* per block */
	_Atomic uint8_t slot_live[XFRAG_SLOTS]; /* a cache consumes the slot */
	struct xfrag_cache *slot_cache[XFRAG_SLOTS];
	_Atomic uint32_t deaths;               /* slots that lost their cache */
	_Atomic uint32_t nrows;                /* releaser rows ever used */
	_Atomic uint32_t nreleasers;           /* live releasers: caches retire
						* blocks only while runs can come */
	_Atomic uint32_t nslots;               /* slots ever used */
	uint8_t row_used[XFRAG_RELEASERS];
	struct xfrag_ring_row *_Atomic rows[XFRAG_RELEASERS]; /* made with their row */
};

struct xfrag_xdp;
XFRAG_HIDDEN void xfrag_xdp_get(struct xfrag_xdp *x);
XFRAG_HIDDEN void xfrag_xdp_put(struct xfrag_xdp *x);
/* The program puts struct xfrag_meta in front of (some) frames. */
XFRAG_HIDDEN bool xfrag_xdp_annotates(const struct xfrag_xdp *x);
XFRAG_HIDDEN void xfrag_umem_get(struct xfrag_umem *u);
XFRAG_HIDDEN void xfrag_umem_put(struct xfrag_umem *u);

XFRAG_HIDDEN void xfrag_pool_init(struct xfrag_umem *u);
XFRAG_HIDDEN void xfrag_pool_push(struct xfrag_umem *u, uint32_t blk);
XFRAG_HIDDEN uint32_t xfrag_pool_pop(struct xfrag_umem *u);

/* bind.c: a new generation for @u's thread bindings (ends them all). */
XFRAG_HIDDEN void xfrag_bind_renew(struct xfrag_umem *u);
/* Cache or releaser @obj of @u, whose flag is *@bound, is going: end the
 * bindings that may name it. */
XFRAG_HIDDEN void xfrag_bind_forget(struct xfrag_umem *u, void *obj, uint8_t *bound);

XFRAG_HIDDEN int xfrag_cache_register(struct xfrag_umem *u, struct xfrag_cache *c);
XFRAG_HIDDEN void xfrag_cache_unregister(struct xfrag_umem *u, struct xfrag_cache *c);

/* release.c */
XFRAG_HIDDEN int xfrag_release_init(struct xfrag_umem *u);
XFRAG_HIDDEN void xfrag_release_free(struct xfrag_umem *u);
/* Give @c an inbox slot (XFRAG_NO_SLOT if none is left); caches_lock held. */
XFRAG_HIDDEN void xfrag_slot_claim(struct xfrag_umem *u, struct xfrag_cache *c);
/* @c is going: apply what is left for it; caches_lock held. */
XFRAG_HIDDEN void xfrag_slot_release(struct xfrag_umem *u, struct xfrag_cache *c);
/* The owner applies the runs sent to it; returns how many. */
XFRAG_HIDDEN unsigned int xfrag_inbox_drain(struct xfrag_cache *c);
/* A block a cache freed or took back: its spare, its stock, or the pool. */
XFRAG_HIDDEN void xfrag_cache_keep(struct xfrag_cache *c, uint32_t blk);
/* Retired blocks found whole (count back to their bias): spare, stock. */
XFRAG_HIDDEN void xfrag_cache_retired_reclaim(struct xfrag_cache *c);
/* Census: add each block's references still in rings to @pending
 * (nblocks entries); quiescent UMEM, caches_lock held. */
XFRAG_HIDDEN void xfrag_rings_pending(struct xfrag_umem *u, int64_t *pending);

XFRAG_HIDDEN int xfrag_debug_init(struct xfrag_umem *u);
XFRAG_HIDDEN void xfrag_debug_free(struct xfrag_umem *u);
XFRAG_HIDDEN void xfrag_debug_ref(struct xfrag_umem *u, uint64_t addr);
XFRAG_HIDDEN void xfrag_debug_recycled(struct xfrag_umem *u, uint32_t blk);
/* Check @n releases (no count changes: the caller releases them). */
XFRAG_HIDDEN void xfrag_debug_check_bulk(struct xfrag_umem *u, const uint64_t *addrs,
					 unsigned int n);
XFRAG_HIDDEN int64_t xfrag_debug_block_refs(struct xfrag_umem *u, uint32_t blk);
XFRAG_HIDDEN __attribute__((noreturn, format(printf, 1, 2))) void
xfrag_debug_fail(const char *fmt, ...);

/*
 * Block census (census.c): where every block of a UMEM is. Each place a
 * block can be in is one enum value and one walk in xfrag_census(); a new
 * place (say, per-cache return lists) is one more of each. A block must be
 * found in exactly one place.
 */
enum xfrag_place {
	XFRAG_PLACE_NONE = 0, /* found nowhere: the block is lost */
	XFRAG_PLACE_POOL,     /* on the pool's free list */
	XFRAG_PLACE_CURRENT,  /* the block a cache is carving */
	XFRAG_PLACE_SPARE,    /* a cache's spare, kept back for its next refill */
	XFRAG_PLACE_PINNED,   /* detached, held by live frags (count > 0) */
	XFRAG_PLACE_STOCK,    /* freed by runs a cache took from its inbox,
			       * kept for its next refills */
	XFRAG_PLACE_RETIRED,  /* carved to the end, frags out, the cache's
			       * bias still on it */
	XFRAG_PLACE_NR,
	XFRAG_PLACE_MANY = 0xff, /* where[]: found in more than one place */
};

struct xfrag_census {
	uint32_t nblocks;
	uint32_t caches;                 /* live caches registered with the UMEM */
	uint32_t blocks[XFRAG_PLACE_NR]; /* per place: blocks found there
					  * ([NONE]: lost ones); a duplicate
					  * counts in each place it is found */
	uint32_t lost;        /* = blocks[XFRAG_PLACE_NONE] */
	uint32_t duplicated;  /* blocks found more than once (twice in the
			       * pool's list, or in two places) */
	uint32_t bad_counts;  /* blocks whose count or owner contradicts their
			       * place: pool 0 and no owner, spare 0 and an
			       * owner, current >= bias and the cache's id) */
	uint32_t bad_links;   /* pool links or cache fields naming no block */
	uint32_t debug_mismatch; /* debug_frags: blocks whose tracked frag
				  * references differ from live_refs' share */
	uint32_t first_bad;   /* lowest block lost, duplicated or miscounted,
			       * or XFRAG_NO_BLOCK */
	uint64_t live_refs;   /* frag references outstanding: refcnt - bias on
			       * current and retired blocks, refcnt on pinned
			       * ones, less
			       * the references in transit */
	uint64_t in_transit;  /* references released through a releaser whose
			       * runs wait in a ring for their cache */
};

/*
 * xfrag_census() - find every block of @u; fills @cs, and @where (if not
 * NULL, nblocks entries) with each block's enum xfrag_place.
 * Context: a quiescent UMEM only (a test's checkpoint): it reads the
 * caches' owner-only fields. Takes the cache registry's lock.
 * Return: 0 if every block is in exactly one place with a count that fits
 * it, -EUCLEAN if not (details in @cs), -ENOMEM.
 */
XFRAG_HIDDEN int xfrag_census(struct xfrag_umem *u, struct xfrag_census *cs,
			      uint8_t *where);
XFRAG_HIDDEN const char *xfrag_place_name(unsigned int place);
/* One line for a test's failure message: "pool 60 current 2 ... lost 0". */
XFRAG_HIDDEN int xfrag_census_format(const struct xfrag_census *cs, char *buf,
				     size_t len);

/*
 * Options structs (libbpf style): a field is present if the caller's sz
 * covers it; bytes beyond the caller's sz must be zero when sz is larger
 * than ours (a newer caller asking for something this library lacks).
 */
#define OPTS_HAS(opts, field)                                                 \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) +      \
				     sizeof((opts)->field))
#define OPTS_GET(opts, field, fallback)                                       \
	(OPTS_HAS(opts, field) ? (opts)->field : (fallback))
#define OPTS_VALID(opts, type)                                                \
	xfrag_opts_valid((opts), (opts)->sz, sizeof(struct type), #type)
XFRAG_HIDDEN bool xfrag_opts_valid(const void *opts, size_t user_sz,
				   size_t our_sz, const char *name);

static inline bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

#endif
