/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xfrag frag allocator: a UMEM carved into reference-counted fragments.
 *
 * The UMEM is one mapped region split into power-of-two *blocks*. A per-queue
 * *frag cache* owns one block at a time and carves frags of any size and
 * alignment from its end downwards, counting them in a local `bias` instead
 * of touching the block's atomic count (the kernel's page_frag_cache trick).
 * Frags are named by their *handle*: the byte offset of the frag in the UMEM,
 * the same number AF_XDP descriptors carry. Any thread may release a frag;
 * releases drop the block's atomic count, and the party that brings it to
 * zero returns the block to the lock-free pool, from which caches refill.
 *
 * The fast paths (alloc, burst alloc, release, bulk release) are inline
 * below. The structs they use are visible for that reason only: do not
 * access their members directly, they change between versions.
 */
#ifndef XFRAG_FRAG_H
#define XFRAG_FRAG_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The fast paths below are few and hot: inline them whatever the
 * compiler's size heuristics think of the callers. */
#define __xfrag_always_inline inline __attribute__((always_inline))

struct xfrag_umem;

/*
 * A block's count while a cache owns it starts here. Allocations from one
 * block never exceed its size in bytes (at most 2 MiB), so the bias cannot
 * run out, and extra references (xfrag_umem__ref) have 2^30 of headroom.
 */
#define XFRAG_BIAS (1 << 30)
/*
 * Reuse in place keeps the bias it has (no write to the block's line);
 * each life of the block spends at most a block's worth of it, and a
 * refill tops it up again below this.
 */
#define XFRAG_BIAS_LOW (1u << 22)
#define XFRAG_NO_BLOCK UINT32_MAX
#define XFRAG_NO_OWNER UINT16_MAX
#define XFRAG_NO_ADDR UINT64_MAX

/* AF_XDP unaligned-mode descriptors keep the data offset in bits 48..63. */
#define XFRAG_ADDR_MASK ((1ULL << 48) - 1)

#define XFRAG_BLOCK_MIN (4u << 10)
#define XFRAG_BLOCK_MAX (2u << 20)
#define XFRAG_BLOCK_DEFAULT (64u << 10)

/*
 * One block table entry, kept off the packet memory. One cache line each:
 * the counts of blocks that different queues carve and release must not
 * share a line (their RMWs would bounce it between the queues' CPUs).
 */
struct xfrag_block {
	_Atomic int32_t refcnt;  /* 0 while in the pool */
	_Atomic uint32_t next;   /* pool free-list link */
	_Atomic uint16_t owner;  /* queue id of the carving cache; NO_OWNER in the pool */
	uint16_t flags;
	uint32_t pad;
} __attribute__((aligned(XFRAG_CACHELINE)));

/* Free blocks a cache keeps for its next refills besides its spare. */
#define XFRAG_STOCK 4

/*
 * Blocks a cache carved to the end while frags of them were still out. It
 * keeps its bias on them (outstanding frags = refcnt - bias, as for the
 * current block), so the frags that come back through its inbox or its own
 * releases free the block with a plain add, not the drain's atomic. When
 * all are taken an old one is drained (the atomic), and left to its last
 * release as before. Only while releasers exist: without them frags come
 * back by the shared path, which frees a block at count zero only.
 */
#define XFRAG_RETIRED 8

struct xfrag_retired {
	uint32_t block;
	uint32_t bias; /* the cache's references still on it */
};

/* The part of struct xfrag_umem the inline fast paths read. Do not touch. */
struct xfrag_umem_hot {
	uint8_t *area;
	struct xfrag_block *blocks;
	uint64_t size;
	uint32_t block_shift;
	uint32_t nblocks;
	uint32_t debug; /* built with -Ddebug_frags: track every frag */
	/* Thread bindings to this UMEM are valid while they carry this
	 * value: a new one (from a process-wide serial) ends them all. */
	_Atomic uint64_t bind_gen;
};

/*
 * The per-queue frag cache. Single owner: no locks, no atomics on the fast
 * path. Do not touch the members; they are visible so alloc can inline.
 * What the fast paths use fits the first cache line.
 */
struct xfrag_cache {
	uint64_t base;      /* UMEM offset of the current block */
	uint32_t offset;    /* carve point: live frags lie in [offset, block) */
	uint32_t bias;      /* references this cache still holds on the block */
	uint32_t block;     /* index of the current block, or XFRAG_NO_BLOCK */
	uint32_t page_mask; /* ~(4096-1) if frags may not cross 4 KiB pages */
	uint32_t max_size;  /* largest frag: the block size, or 4096 */
	uint32_t debug;
	uint32_t spare;     /* a free block kept back by owner releases, or NO_BLOCK */
	uint32_t memo_size; /* alloc_burst: the last size that started a block */
	uint32_t memo_cnt;  /* ... and how many of it a whole block holds */
	uint16_t id;
	uint8_t slot;       /* inbox slot for batched release, or 0xff */
	uint8_t nstock;
	uint8_t nretired;
	uint8_t bound;      /* some thread's binding names it (xfrag_cache__bind) */
	struct xfrag_umem *umem;
	uint32_t stock[XFRAG_STOCK]; /* freed blocks kept back, newest last */
	struct xfrag_retired retired[XFRAG_RETIRED]; /* [0]: an old one */
	/* statistics, owner-written only; see xfrag_cache__allocs() */
	uint64_t allocs;         /* from blocks given up; the bias counts the rest */
	uint64_t given_back;     /* references owner releases returned to the bias */
	uint64_t refills;        /* block ran out */
	uint64_t drains;         /* ... and the bias went back with an atomic */
	uint64_t reuse_in_place; /* ... and every frag was already released */
	uint64_t pool_takes;     /* ... so a block came from the pool */
	uint64_t pool_empty;     /* ... and the pool had none */
	uint64_t inbox_runs;     /* runs releasers sent, applied here */
	uint64_t inbox_freed;    /* ... blocks they freed */
	uint64_t inbox_atomics;  /* ... atomic RMWs that took (counts, pool) */
	uint64_t retired_freed;  /* retired blocks whose frags all came back */
} __attribute__((aligned(XFRAG_CACHELINE)));

/*
 * A thread's binding (xfrag_cache__bind(), xfrag_releaser__bind()): the
 * cache or the releaser (one of them) the any-thread release calls of this
 * thread use for frags of @umem, while @gen is the UMEM's bind_gen.
 * Compared, never followed, until it matches: a stale one (its UMEM gone,
 * another at the same address) cannot match the new UMEM's serial.
 */
struct xfrag_releaser;
struct __xfrag_binding {
	const struct xfrag_umem *umem;
	struct xfrag_cache *cache;
	struct xfrag_releaser *releaser;
	uint64_t gen;
};
extern XFRAG_API _Thread_local struct __xfrag_binding __xfrag_bound;

/* ---------------------------------------------------------------- UMEM -- */

enum xfrag_backing {
	XFRAG_BACKING_HUGETLB = 0, /* explicit 2 MiB hugepages (MAP_HUGETLB) */
	XFRAG_BACKING_THP = 1,     /* 4 KiB pages advised MADV_HUGEPAGE */
	XFRAG_BACKING_PAGES = 2,   /* plain 4 KiB pages */
};

enum xfrag_huge_policy {
	XFRAG_HUGE_AUTO = 0,    /* hugetlb, else THP, else 4 KiB pages */
	XFRAG_HUGE_REQUIRE = 1, /* hugetlb or fail with -ENOMEM */
	XFRAG_HUGE_NEVER = 2,   /* 4 KiB pages with MADV_HUGEPAGE */
};

struct xfrag_umem_opts {
	size_t sz;
	uint64_t size;        /* bytes; rounded up to whole blocks (and 2 MiB for hugetlb) */
	uint32_t block_size;  /* power of two in [4 KiB, 2 MiB]; 0 = 64 KiB */
	uint32_t hugepages;   /* enum xfrag_huge_policy */
	uint32_t debug_frags; /* track frags even if the library was not built so */
	uint32_t pad;
};
#define xfrag_umem_opts__last_field pad

struct xfrag_umem_stats {
	uint64_t size;
	uint32_t block_size;
	uint32_t nblocks;
	uint32_t blocks_free;    /* in the pool; a cache's spare is not free */
	uint32_t blocks_in_use;  /* the others: caches' current, retired, spare
				  * and stock blocks, detached blocks pinned
				  * by live frags or by runs in releasers'
				  * rings */
	uint32_t backing;        /* enum xfrag_backing */
	uint32_t hugepages_needed; /* 2 MiB pages it takes to back the area */
	uint64_t pool_empty;     /* pops that found the pool empty */
	uint64_t bad_release;    /* releases of foreign addresses / underflows */
};

/**
 * xfrag_umem__create() - map a UMEM region and build its block table
 * @opts: sizes and backing policy; NULL for 16 MiB in 64 KiB blocks
 *
 * Every block starts in the pool. The region is page-aligned, as
 * XDP_UMEM_REG requires; see xfrag_umem__stats() for the backing in use.
 *
 * Return: the UMEM, or NULL with errno set: EINVAL (size 0 or not a whole
 * number of chunks, block size not a power of two in range), ENOMEM
 * (mapping failed; hugetlb required but not available).
 */
XFRAG_API struct xfrag_umem *xfrag_umem__create(const struct xfrag_umem_opts *opts);

/**
 * xfrag_umem__destroy() - unmap the region; frags must no longer be used
 * @umem: the UMEM, or NULL
 *
 * With rx or tx queues still open on it, the unmap is deferred until the
 * last of them is destroyed (they hold references); the caller must not
 * use @umem any more either way.
 */
XFRAG_API void xfrag_umem__destroy(struct xfrag_umem *umem);

/**
 * xfrag_umem__stats() - snapshot the block accounting
 * @umem: the UMEM
 * @stats: filled in
 *
 * One pass over the block table, no lock: a block is free when its count
 * is zero and it has no owner. A cache's spare and stock have count zero
 * but keep their owner, so they are in use: only that cache will carve
 * them.
 *
 * Context: any thread; the counts are read without a lock and may be a
 * moment apart.
 * Return: 0, or -EINVAL for a NULL argument.
 */
XFRAG_API int xfrag_umem__stats(const struct xfrag_umem *umem,
				 struct xfrag_umem_stats *stats);

/** xfrag_backing_name() - "hugetlb", "thp" or "4k" */
XFRAG_API const char *xfrag_backing_name(uint32_t backing);

static inline const struct xfrag_umem_hot *
xfrag_umem__hot(const struct xfrag_umem *umem)
{
	/* struct xfrag_umem begins with its hot part. */
	return (const struct xfrag_umem_hot *)umem;
}

/** xfrag_umem__area() - the start of the mapped region (NULL for a NULL @umem) */
static inline void *xfrag_umem__area(const struct xfrag_umem *umem)
{
	return umem ? xfrag_umem__hot(umem)->area : NULL;
}

/**
 * xfrag_umem__ptr() - the address of a frag
 * @umem: the UMEM
 * @addr: a handle (bits 48..63, an unaligned-mode offset, are ignored)
 *
 * Return: the frag's address; NULL for a NULL @umem.
 */
static inline void *xfrag_umem__ptr(const struct xfrag_umem *umem,
				    uint64_t addr)
{
	if (xfrag_unlikely(!umem))
		return NULL;
	return xfrag_umem__hot(umem)->area + (addr & XFRAG_ADDR_MASK);
}

/**
 * xfrag_umem__block_of() - the index of the block holding @addr
 * Return: the index (not checked against the UMEM's size);
 * XFRAG_NO_BLOCK for a NULL @umem.
 */
static inline uint32_t xfrag_umem__block_of(const struct xfrag_umem *umem,
					    uint64_t addr)
{
	if (xfrag_unlikely(!umem))
		return XFRAG_NO_BLOCK;
	return (uint32_t)((addr & XFRAG_ADDR_MASK) >>
			  xfrag_umem__hot(umem)->block_shift);
}

/* Out-of-line slow paths. */
XFRAG_API void __xfrag_block_recycle(struct xfrag_umem *umem, uint32_t block);
XFRAG_API unsigned int __xfrag_block_bad(struct xfrag_umem *umem,
					 uint64_t addr, int32_t count,
					 int32_t after);
XFRAG_API unsigned int __xfrag_debug_put(struct xfrag_umem *umem,
					 uint64_t addr, int32_t count,
					 bool drain);
XFRAG_API unsigned int __xfrag_debug_put_bulk(struct xfrag_umem *umem,
					     const uint64_t *addrs,
					     unsigned int n);
XFRAG_API unsigned int __xfrag_debug_cache_put_bulk(struct xfrag_cache *c,
						   const uint64_t *addrs,
						   unsigned int n);
XFRAG_API void __xfrag_debug_alloc(struct xfrag_cache *c, uint64_t addr,
				   uint32_t size);
XFRAG_API int __xfrag_cache_refill(struct xfrag_cache *c);
XFRAG_API int __xfrag_cache_refill_slow(struct xfrag_cache *c);
XFRAG_API int __xfrag_cache_alloc_burst(struct xfrag_cache *c, uint32_t size,
					uint64_t *addrs, unsigned int n);
XFRAG_API bool __xfrag_cache_put_retired(struct xfrag_cache *c, uint32_t blk,
					 int32_t count);

/*
 * Drop @count references of the block holding @addr. Returns the number of
 * atomic read-modify-write operations it took (0 or 1), so callers and
 * benchmarks can count them for free.
 */
static __xfrag_always_inline unsigned int __xfrag_block_put(struct xfrag_umem *umem,
					     uint64_t addr, int32_t count)
{
	const struct xfrag_umem_hot *h = xfrag_umem__hot(umem);
	uint64_t blk = (addr & XFRAG_ADDR_MASK) >> h->block_shift;
	struct xfrag_block *b;
	int32_t v;

	if (xfrag_unlikely(blk >= h->nblocks))
		return __xfrag_block_bad(umem, addr, count, -1);
	b = &h->blocks[blk];
	/*
	 * page_pool's shortcut: if the count equals what we drop, we hold
	 * every reference left (an owning cache always holds >= 1), so no
	 * one else can race with us and the atomic RMW can be skipped.
	 */
	v = atomic_load_explicit(&b->refcnt, memory_order_acquire);
	if (v == count) {
		atomic_store_explicit(&b->refcnt, 0, memory_order_relaxed);
		__xfrag_block_recycle(umem, (uint32_t)blk);
		return 0;
	}
	/* acq_rel: our writes to the frag happen before its reuse, and the
	 * party that sees zero sees everyone else's writes. */
	v = atomic_fetch_sub_explicit(&b->refcnt, count, memory_order_acq_rel) -
	    count;
	if (xfrag_unlikely(v <= 0)) {
		if (v == 0)
			__xfrag_block_recycle(umem, (uint32_t)blk);
		else
			__xfrag_block_bad(umem, addr, count, v);
	}
	return 1;
}

/*
 * Drop the references of one run. With @c, frags of the block that cache
 * is carving right now go back into its bias with a plain add (outstanding
 * frags = refcnt - bias either way): no atomic at all, page_pool's "direct
 * recycling" for the thread that carves.
 */
static __xfrag_always_inline unsigned int __xfrag_put_run(struct xfrag_umem *umem,
					   void *cache, uint64_t addr,
					   int32_t count)
{
	struct xfrag_cache *c = (struct xfrag_cache *)cache;

	if (c) {
		const struct xfrag_umem_hot *h = xfrag_umem__hot(umem);
		uint64_t blk = (addr & XFRAG_ADDR_MASK) >> h->block_shift;

		if (blk == c->block) {
			c->bias += (uint32_t)count;
			c->given_back += (uint32_t)count;
			return 0;
		}
		/* A block it carved before, its bias still on it. */
		if (c->nretired && __xfrag_cache_put_retired(c, (uint32_t)blk, count))
			return 0;
		/*
		 * The last references of a detached block: keep it as the
		 * cache's spare instead of a CAS on the shared pool (and
		 * another to take it back at the next refill).
		 */
		if (c->spare == XFRAG_NO_BLOCK && blk < h->nblocks &&
		    atomic_load_explicit(&h->blocks[blk].refcnt,
					 memory_order_acquire) == count) {
			atomic_store_explicit(&h->blocks[blk].refcnt, 0,
					      memory_order_relaxed);
			c->spare = (uint32_t)blk;
			return 0;
		}
	}
	return __xfrag_block_put(umem, addr, count);
}

/*
 * The calling thread's binding for @umem, or NULL: two loads and compares
 * of thread-local data and one load of the UMEM's hot line.
 */
static __xfrag_always_inline const struct __xfrag_binding *
__xfrag_binding_of(const struct xfrag_umem *umem)
{
	const struct __xfrag_binding *b = &__xfrag_bound;

	if (b->umem != umem ||
	    b->gen != atomic_load_explicit(&xfrag_umem__hot(umem)->bind_gen,
					   memory_order_relaxed))
		return NULL;
	return b;
}

/* The cache the calling thread is bound to for @umem, or NULL. */
static __xfrag_always_inline struct xfrag_cache *
__xfrag_bound_cache(const struct xfrag_umem *umem)
{
	const struct __xfrag_binding *b = __xfrag_binding_of(umem);

	return b ? b->cache : NULL;
}

/* For the bound path (documented with the releaser, below). */
XFRAG_API unsigned int xfrag_releaser__release_bulk(struct xfrag_releaser *r,
						    const uint64_t *addrs,
						    unsigned int n);

/* One frag, on the thread of @c: into its bias if it carves the block. */
static __xfrag_always_inline unsigned int __xfrag_cache_release(struct xfrag_cache *c,
								uint64_t addr)
{
	if (xfrag_unlikely(c->debug))
		return __xfrag_debug_cache_put_bulk(c, &addr, 1);
	return __xfrag_put_run(c->umem, c, addr, 1);
}

/**
 * xfrag_umem__release() - drop one reference to a frag
 * @umem: the UMEM the frag was carved from (NULL: nothing happens)
 * @addr: the frag's handle
 *
 * The last reference to a block returns it to the pool. On a thread bound
 * to a cache of @umem (xfrag_cache__bind()), the cache's own path; bound
 * to a releaser (xfrag_releaser__bind()), the releaser's.
 *
 * Context: any thread.
 * Return: the number of atomic operations performed (0 or 1).
 */
static inline unsigned int xfrag_umem__release(struct xfrag_umem *umem,
					       uint64_t addr)
{
	const struct __xfrag_binding *b;

	if (xfrag_unlikely(!umem))
		return 0;
	b = __xfrag_binding_of(umem);
	if (b) {
		if (b->cache)
			return __xfrag_cache_release(b->cache, addr);
		return xfrag_releaser__release_bulk(b->releaser, &addr, 1);
	}
	if (xfrag_unlikely(xfrag_umem__hot(umem)->debug))
		return __xfrag_debug_put(umem, addr, 1, false);
	return __xfrag_block_put(umem, addr, 1);
}

/*
 * Two handles at a time, for the run scan below: GCC and clang vector
 * extensions, so that the scan needs no target-specific intrinsics (SSE2
 * or NEON code where the target has it, plain pairs where it does not).
 */
typedef uint64_t __xfrag_u64x2 __attribute__((vector_size(16)));

/* Nonzero above the block bits iff one of a[0..@n-1] (@n even) is in
 * another block than the run @r holds twice, or has other unaligned-mode
 * offset bits (which RX batches share). One load, XOR and OR per two
 * handles. */
static __xfrag_always_inline uint64_t __xfrag_diff(const uint64_t *a, __xfrag_u64x2 r,
				    unsigned int n)
{
	__xfrag_u64x2 x = { 0, 0 }, v;
	unsigned int k;

	_Pragma("GCC unroll 16")
	for (k = 0; k < n; k += 2) {
		memcpy(&v, a + k, sizeof(v)); /* unaligned load */
		x |= v ^ r;
	}
	return x[0] | x[1];
}

/* What a scan does with each run: the shared path, the carving cache's
 * path (__xfrag_put_run) or a releaser's (release.c). */
typedef unsigned int (*__xfrag_put_fn)(struct xfrag_umem *umem, void *ctx,
				       uint64_t addr, int32_t count);

/*
 * Find runs of handles in one block and hand each run to @put at once.
 * XOR against the run's first handle is zero above `shift` for the same
 * block. Thirty-two handles per test, then sixteen: the common batch is
 * one or two runs, so almost every group passes; a group that does not is
 * walked to its block change, and the scan resumes there with the new run.
 * A change right at a group's start (batches of whole blocks) is seen
 * before the group is read. @put is a constant at every call site, so it
 * inlines.
 */
static __xfrag_always_inline unsigned int
__xfrag_scan_runs(struct xfrag_umem *umem, const uint64_t *addrs,
		  unsigned int n, __xfrag_put_fn put, void *ctx)
{
	const uint32_t shift = xfrag_umem__hot(umem)->block_shift;
	const uint64_t *p = addrs, *start = addrs, *const end = addrs + n;
	uint64_t run = addrs[0];
	__xfrag_u64x2 r = { run, run };
	unsigned int atomics = 0;

#define __XFRAG_SCAN(G)                                                        \
	while (end - p >= (G)) {                                               \
		if (xfrag_likely(!((*p ^ run) >> shift))) {                    \
			if (xfrag_likely(!(__xfrag_diff(p, r, (G)) >> shift))) { \
				p += (G);                                      \
				continue;                                      \
			}                                                      \
			while (!((*p ^ run) >> shift))                         \
				p++;                                           \
		}                                                              \
		atomics += put(umem, ctx, run, (int32_t)(p - start));          \
		start = p;                                                     \
		run = *p;                                                      \
		r = (__xfrag_u64x2){ run, run };                               \
	}
	__XFRAG_SCAN(32)
	__XFRAG_SCAN(16)
#undef __XFRAG_SCAN
	for (; p < end; p++) {
		if (!((*p ^ run) >> shift))
			continue;
		atomics += put(umem, ctx, run, (int32_t)(p - start));
		start = p;
		run = *p;
	}
	return atomics + put(umem, ctx, run, (int32_t)(end - start));
}

/* Bulk release through the shared path (@c NULL) or the carving cache's. */
static __xfrag_always_inline unsigned int
__xfrag_release_runs(struct xfrag_umem *umem, struct xfrag_cache *c,
		     const uint64_t *addrs, unsigned int n)
{
	return __xfrag_scan_runs(umem, addrs, n, __xfrag_put_run, c);
}

/**
 * xfrag_umem__release_bulk() - drop one reference to each of @n frags
 * @umem: the UMEM (NULL: nothing happens)
 * @addrs: handles; order them by block (as RX batches naturally are) to
 *         get the most out of coalescing
 * @n: count
 *
 * Runs of consecutive handles in the same block are released with one
 * atomic subtraction per run, not one per frag. On a thread bound to a
 * cache of @umem (xfrag_cache__bind()), xfrag_cache__release_bulk() with
 * that cache: the frags of the blocks it carves go back to its bias; bound
 * to a releaser (xfrag_releaser__bind()), xfrag_releaser__release_bulk().
 *
 * Context: any thread.
 * Return: the number of atomic operations performed.
 */
static __xfrag_always_inline unsigned int xfrag_umem__release_bulk(struct xfrag_umem *umem,
						    const uint64_t *addrs,
						    unsigned int n)
{
	const struct __xfrag_binding *b;
	struct xfrag_cache *c = NULL;

	if (xfrag_unlikely(!umem || !addrs || !n))
		return 0;
	/* A bound thread takes its cache's path (xfrag_cache__release_bulk())
	 * or its releaser's. */
	b = __xfrag_binding_of(umem);
	if (b) {
		if (!b->cache)
			return xfrag_releaser__release_bulk(b->releaser, addrs, n);
		c = b->cache;
	}
	/* debug_frags: each frag is checked, then all released as below. */
	if (xfrag_unlikely(xfrag_umem__hot(umem)->debug))
		return c ? __xfrag_debug_cache_put_bulk(c, addrs, n) :
			   __xfrag_debug_put_bulk(umem, addrs, n);
	return __xfrag_release_runs(umem, c, addrs, n);
}

/**
 * xfrag_cache__release_bulk() - bulk release on the carving cache's thread
 * @c: a cache of the frags' UMEM, used by the calling thread (NULL:
 *     nothing happens)
 * @addrs: handles
 * @n: count
 *
 * Like xfrag_umem__release_bulk(), but frags of the block @c is carving
 * right now go back to its bias without an atomic operation. For the
 * common loop of one thread: receive, process, release.
 *
 * Context: the cache's owner thread only.
 * Return: the number of atomic operations performed.
 */
static __xfrag_always_inline unsigned int xfrag_cache__release_bulk(struct xfrag_cache *c,
						     const uint64_t *addrs,
						     unsigned int n)
{
	if (xfrag_unlikely(!c || !addrs || !n))
		return 0;
	if (xfrag_unlikely(c->debug))
		return __xfrag_debug_cache_put_bulk(c, addrs, n);
	return __xfrag_release_runs(c->umem, c, addrs, n);
}

/**
 * xfrag_umem__drain() - drop @count references of one block in one call
 * @umem: the UMEM (NULL: nothing happens)
 * @addr: any handle in the block
 * @count: references to drop, > 0
 *
 * The __page_frag_cache_drain() analogue: for a holder of many references
 * to one block (a chain, a batch, a cache giving up its block).
 *
 * Context: any thread.
 * Return: atomic operations performed (0 or 1), or 0 for @count <= 0.
 */
static inline unsigned int xfrag_umem__drain(struct xfrag_umem *umem,
					     uint64_t addr, int32_t count)
{
	if (xfrag_unlikely(!umem || count <= 0))
		return 0;
	if (xfrag_unlikely(xfrag_umem__hot(umem)->debug))
		return __xfrag_debug_put(umem, addr, count, true);
	return __xfrag_block_put(umem, addr, count);
}

/**
 * xfrag_umem__ref() - take one more reference to a frag
 * @umem: the UMEM
 * @addr: a handle the caller already holds a reference to
 *
 * For frags with several holders (a packet queued to two consumers); each
 * holder then releases once.
 *
 * Context: any thread.
 * Return: 0, or -EINVAL for an address outside the UMEM.
 */
XFRAG_API int xfrag_umem__ref(struct xfrag_umem *umem, uint64_t addr);

/* ------------------------------------------------------------ releaser -- */

/*
 * A releaser batches the releases of one thread that is not the frags'
 * carving thread (a worker the rx thread hands packets to): it touches no
 * count of the carving cache's blocks, but sends each run (block, number
 * of references) through a ring of its own to the cache that carved the
 * block, which applies the runs on its own thread when it next refills:
 * into its bias for the block it is carving, and a detached block whose
 * last references arrive stays with that cache (the blocks it freed most
 * recently are the ones it carves next). So a block costs its carving and
 * releasing threads a few ring entries, not a round trip of its count's
 * cache line. Runs of blocks whose cache has no inbox (beyond 128 caches),
 * or whose ring is full (64 runs in flight), are released as
 * xfrag_umem__release_bulk() does.
 */
struct xfrag_releaser;

struct xfrag_releaser_opts {
	size_t sz;
	uint64_t pad;
};
#define xfrag_releaser_opts__last_field pad

/**
 * xfrag_releaser__create() - a release context for the calling thread
 * @umem: the UMEM whose frags it will release
 * @opts: NULL (reserved for options)
 *
 * Context: any thread; the releaser is then used by one thread at a time.
 * Return: the releaser, or NULL with errno EINVAL (NULL @umem, bad @opts),
 * ENOSPC (64 releasers exist already: release with
 * xfrag_umem__release_bulk()) or ENOMEM.
 */
XFRAG_API struct xfrag_releaser *
xfrag_releaser__create(struct xfrag_umem *umem,
		       const struct xfrag_releaser_opts *opts);

/**
 * xfrag_releaser__destroy() - publish what is pending and free @r
 * @r: the releaser, or NULL
 *
 * Runs still in its rings are applied by their caches as usual (or here,
 * for a cache that is gone).
 */
XFRAG_API void xfrag_releaser__destroy(struct xfrag_releaser *r);

/**
 * xfrag_releaser__release_bulk() - drop one reference to each of @n frags
 * @r: the calling thread's releaser (NULL: nothing happens)
 * @addrs: handles, in any order; runs in one block coalesce
 * @n: count
 *
 * The frags must not be used after the call, as with any release. Their
 * blocks' counts drop when the carving cache takes the runs from its ring
 * (its next refill, or xfrag_cache__reclaim()), or at once for runs the
 * rings cannot take. A cache that is destroyed takes what it was sent; what
 * reaches its ring after that is applied by @r's next call, flush or
 * destroy.
 *
 * Context: the releaser's thread.
 * Return: atomic read-modify-write operations performed (runs released
 * directly); 0 when every run went to a ring.
 */
XFRAG_API unsigned int xfrag_releaser__release_bulk(struct xfrag_releaser *r,
						    const uint64_t *addrs,
						    unsigned int n);

/**
 * xfrag_releaser__flush() - apply what @r left for caches that are gone
 * @r: the releaser (NULL: nothing happens)
 *
 * Runs waiting for live caches stay in their rings: only their cache may
 * take them (xfrag_cache__reclaim() on its thread).
 *
 * Context: the releaser's thread.
 */
XFRAG_API void xfrag_releaser__flush(struct xfrag_releaser *r);

/**
 * xfrag_releaser__bind() - make @r the calling thread's release context
 * @r: the calling thread's releaser
 *
 * The any-thread calls on this thread (xfrag_umem__release(),
 * xfrag_umem__release_bulk(), xfrag_pkt__release_bulk()) then release the
 * frags of @r's UMEM through @r, as xfrag_releaser__release_bulk() does:
 * a worker's code keeps its release calls and gets the batched path,
 * DPDK's registered worker thread. The rules of xfrag_cache__bind() hold:
 * one binding per thread (this one replaces a cache's), ended by
 * xfrag_releaser__unbind(), by xfrag_releaser__destroy() on this thread,
 * or with the thread; a destroy on another thread ends every binding to
 * the UMEM.
 *
 * Context: the releaser's thread.
 * Return: 0, or -EINVAL for a NULL @r.
 */
XFRAG_API int xfrag_releaser__bind(struct xfrag_releaser *r);

/**
 * xfrag_releaser__unbind() - end the calling thread's binding to @r
 * @r: the releaser (NULL, or not this thread's binding: nothing happens)
 *
 * Context: the thread that bound it.
 */
XFRAG_API void xfrag_releaser__unbind(struct xfrag_releaser *r);

/* ---------------------------------------------------------- frag cache -- */

struct xfrag_cache_opts {
	size_t sz;
	uint16_t id;            /* owner id recorded in the block table */
	uint8_t no_page_cross;  /* never carve a frag across a 4 KiB boundary */
	uint8_t pad[5];
};
#define xfrag_cache_opts__last_field pad

/**
 * xfrag_cache__create() - a frag cache carving from @umem
 * @umem: the UMEM
 * @opts: owner id and carving rules, or NULL
 *
 * The cache takes no block until its first allocation. The id is recorded
 * in the block table as the owner of the blocks the cache carves; 0xFFFF
 * (XFRAG_NO_OWNER) marks free blocks and is refused.
 *
 * Return: the cache (cache-line aligned), or NULL with errno EINVAL (NULL
 * @umem, bad @opts, id 0xFFFF) or ENOMEM.
 */
XFRAG_API struct xfrag_cache *
xfrag_cache__create(struct xfrag_umem *umem,
		    const struct xfrag_cache_opts *opts);

/**
 * xfrag_cache__destroy() - give the current block up and free the cache
 * @c: the cache, or NULL
 *
 * Frags carved by the cache stay valid until released.
 */
XFRAG_API void xfrag_cache__destroy(struct xfrag_cache *c);

/**
 * xfrag_cache__allocs() - frags carved by this cache so far
 * @c: the cache (NULL: 0)
 *
 * Allocation does not count: the bias already does, and is folded in here.
 */
static inline uint64_t xfrag_cache__allocs(const struct xfrag_cache *c)
{
	if (!c)
		return 0;
	/* bias = BIAS - allocs + given_back, in the current block's life
	 * (reuse in place continues it) */
	return c->allocs + (c->block != XFRAG_NO_BLOCK ?
		(uint64_t)((int64_t)XFRAG_BIAS - (int64_t)c->bias + (int64_t)c->given_back) : 0);
}

/**
 * xfrag_cache__flush() - give the current block up (drain the bias)
 * @c: the cache (NULL: nothing happens)
 *
 * The block returns to the pool at once if no frag of it is live, else on
 * the last release; so do its retired blocks, and its spare and stock go
 * to the pool. The next allocation takes a fresh block.
 */
XFRAG_API void xfrag_cache__flush(struct xfrag_cache *c);

/**
 * xfrag_cache__reclaim() - apply the runs releasers sent to @c
 * @c: the cache (owner thread only)
 *
 * A refill does this by itself; a cache that does not allocate for a
 * while (an rx queue whose fill ring is full) calls it so that the blocks
 * its packets pinned are free again. Retired blocks whose frags all came
 * back (by the runs, or by the shared path) are freed too. Freed blocks
 * become the cache's spare and stock, the oldest beyond those go to the
 * pool.
 *
 * Context: the cache's owner thread.
 * Return: the number of runs applied, or -EINVAL for a NULL @c.
 */
XFRAG_API int xfrag_cache__reclaim(struct xfrag_cache *c);

/**
 * xfrag_cache__bind() - make @c the calling thread's cache for its UMEM
 * @c: a cache the calling thread owns from now on
 *
 * DPDK's lcore cache for a thread that cannot pass its cache at every
 * release: the any-thread calls on this thread (xfrag_umem__release(),
 * xfrag_umem__release_bulk(), xfrag_pkt__release_bulk()) then release the
 * frags of @c's UMEM as xfrag_cache__release_bulk(@c, ...) does, the frags
 * of the blocks @c carves into its bias, without an atomic operation. On
 * other threads, and for other UMEMs, they are unchanged.
 *
 * One binding per thread: a new one (of a cache or a releaser) replaces
 * it. It ends with xfrag_cache__unbind() or xfrag_cache__destroy() on this
 * thread, or with the thread. Until then @c is this thread's alone: no other thread may
 * allocate from it or pass it to xfrag_cache__release_bulk(). Another
 * thread may destroy it once this thread has exited or makes no release
 * call for the UMEM during the destroy; that ends every binding to the
 * UMEM (their threads release by the shared path until they bind again).
 *
 * Context: the cache's owner thread.
 * Return: 0, or -EINVAL for a NULL @c.
 */
XFRAG_API int xfrag_cache__bind(struct xfrag_cache *c);

/**
 * xfrag_cache__unbind() - end the calling thread's binding to @c
 * @c: the cache (NULL, or not this thread's binding: nothing happens)
 *
 * Context: the thread that bound it.
 */
XFRAG_API void xfrag_cache__unbind(struct xfrag_cache *c);

/*
 * __xfrag_cache_carve() - the unchecked carve step; returns false when the
 * current block cannot hold the frag. @mask is align - 1.
 */
static inline bool __xfrag_cache_carve(struct xfrag_cache *c, uint32_t size,
				       uint32_t mask, uint64_t *addr)
{
	uint32_t off = c->offset;

	if (xfrag_unlikely(off < size))
		return false;
	off = (off - size) & ~mask;
	if (c->page_mask && ((off ^ (off + size - 1)) & c->page_mask)) {
		/* Would straddle a page: end the frag at that page's start. */
		off = (off + size - 1) & c->page_mask;
		if (off < size)
			return false;
		off = (off - size) & ~mask;
	}
	c->offset = off;
	c->bias--;
	*addr = c->base + off;
	return true;
}

/**
 * xfrag_cache__alloc() - carve one frag
 * @c: the cache (owner thread only)
 * @size: bytes, 1 .. block size (.. 4096 with no_page_cross)
 * @align: power of two <= block size, or 0 for no alignment
 * @addr: the handle of the new frag (XFRAG_NO_ADDR on error)
 *
 * Context: the cache's owner thread.
 * Return: 0; -EINVAL for a NULL @c or @addr, size 0, size too large or a
 * bad alignment; -ENOBUFS when the pool has no free block (retry after
 * releases).
 */
static inline int xfrag_cache__alloc(struct xfrag_cache *c, uint32_t size,
				     uint32_t align, uint64_t *addr)
{
	uint32_t mask = align ? align - 1 : 0;
	int err;

	if (xfrag_unlikely(!c || !addr || size - 1 >= c->max_size ||
			   (align & mask) || align > c->max_size)) {
		if (addr)
			*addr = XFRAG_NO_ADDR;
		return -EINVAL;
	}
	while (!__xfrag_cache_carve(c, size, mask, addr)) {
		err = __xfrag_cache_refill(c);
		if (err) {
			*addr = XFRAG_NO_ADDR;
			return err;
		}
	}
	if (xfrag_unlikely(c->debug))
		__xfrag_debug_alloc(c, *addr, size);
	return 0;
}

/*
 * The refill of the carving loop, when every frag of the block already
 * came back (its count equals our bias): nobody else can touch the block,
 * so carve it again from the end (reuse in place, the hottest block there
 * is) without an atomic and without writing the block's line. A cache
 * without a block has a bias of 0, so one comparison covers that too. The
 * rest is __xfrag_cache_refill_slow(); a bias run low also goes there,
 * whose drain then finds the count at zero and takes the block anew.
 */
static __xfrag_always_inline bool __xfrag_cache_reuse(struct xfrag_cache *c)
{
	const struct xfrag_umem_hot *h = xfrag_umem__hot(c->umem);

	if (c->bias < XFRAG_BIAS_LOW ||
	    atomic_load_explicit(&h->blocks[c->block].refcnt,
				 memory_order_acquire) != (int32_t)c->bias)
		return false;
	c->offset = c->max_size;
	c->refills++;
	c->reuse_in_place++;
	return true;
}

/* @cnt handles @size apart, downwards from @top: two per vector store. */
static __xfrag_always_inline void __xfrag_carve_run(uint64_t *addrs, uint64_t top,
						    uint32_t size, uint32_t cnt)
{
	const uint64_t s2 = 2 * (uint64_t)size;
	const __xfrag_u64x2 d = { s2, s2 };
	__xfrag_u64x2 v = { top - size, top - s2 };
	uint64_t *p = addrs, *const end = addrs + (cnt & ~1u);

	XFRAG_UNROLL8
	for (; p != end; p += 2) {
		memcpy(p, &v, sizeof(v)); /* unaligned store */
		v -= d;
	}
	if (cnt & 1)
		*p = v[0];
}

/**
 * xfrag_cache__alloc_burst() - carve up to @n frags of @size bytes
 * @c: the cache (owner thread only)
 * @size: bytes each, as for xfrag_cache__alloc(); no alignment beyond what
 *        @size gives (frags are carved back to back from a block's end)
 * @addrs: receives the handles, in carving order
 * @n: how many are wanted
 *
 * The fill-ring path: one bias update per block, not per frag.
 *
 * Context: the cache's owner thread.
 * Return: the number carved (less than @n only if the pool ran dry), or
 * -EINVAL for a NULL @c or @addrs or a bad size.
 */
static __xfrag_always_inline int xfrag_cache__alloc_burst(struct xfrag_cache *c, uint32_t size,
					   uint64_t *addrs, unsigned int n)
{
	unsigned int i = 0;

	if (xfrag_unlikely(!c || !addrs || size - 1 >= c->max_size))
		return -EINVAL;
	/* Page-bounded carving and frag tracking: out of line. */
	if (xfrag_unlikely(c->page_mask | c->debug))
		return __xfrag_cache_alloc_burst(c, size, addrs, n);
	while (i < n) {
		uint32_t off = c->offset, cnt = n - i;

		if ((uint64_t)cnt * size > off) {
			/* The block runs out in this burst. */
			if (off < size) {
				if (!__xfrag_cache_reuse(c) &&
				    __xfrag_cache_refill_slow(c))
					break;
				off = c->max_size; /* a refill leaves a whole block */
			}
			/* A whole block's count is remembered: no division per
			 * refill. */
			if ((uint64_t)cnt * size <= off) {
				/* the rest fits */
			} else if (off == c->max_size && size == c->memo_size) {
				cnt = c->memo_cnt;
			} else {
				cnt = off / size;
				if (off == c->max_size) {
					c->memo_size = size;
					c->memo_cnt = cnt;
				}
			}
		}
		__xfrag_carve_run(addrs + i, c->base + off, size, cnt);
		c->offset = off - cnt * size;
		c->bias -= cnt;
		i += cnt;
	}
	return (int)i;
}

/**
 * xfrag_cache__alloc_bulk() - carve exactly @n frags or none
 * @c: the cache (owner thread only)
 * @size: bytes each
 * @addrs: receives the handles
 * @n: how many
 *
 * Return: 0, -EINVAL for a NULL @c or @addrs or a bad size, -ENOBUFS if the
 * pool could not supply all @n (what was carved is released again).
 */
XFRAG_API int xfrag_cache__alloc_bulk(struct xfrag_cache *c, uint32_t size,
				      uint64_t *addrs, unsigned int n);

#ifdef __cplusplus
}
#endif
#endif /* XFRAG_FRAG_H */
