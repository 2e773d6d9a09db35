// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests of the frag allocator: carving, reuse, pool, release, drain. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "test.h"
#include "xfrag/xfrag.h"

#define BLK (64u << 10)

static struct xfrag_umem *mk_umem(uint32_t nblocks, uint32_t block)
{
	XFRAG_OPTS(xfrag_umem_opts, o, .size = (uint64_t)nblocks * block,
		   .block_size = block, .hugepages = XFRAG_HUGE_NEVER);
	struct xfrag_umem *u = xfrag_umem__create(&o);

	if (!u) {
		perror("xfrag_umem__create");
		abort();
	}
	return u;
}

static uint32_t blocks_free(struct xfrag_umem *u)
{
	struct xfrag_umem_stats s;

	xfrag_umem__stats(u, &s);
	return s.blocks_free;
}

/* debug_frags builds track every frag on top of the same release paths;
 * misuse aborts (tests/unit/test_debug_frags.c checks the messages). */
static bool debug_on(struct xfrag_umem *u)
{
	return xfrag_umem__hot(u)->debug;
}

/* Release @addr in a child process: did it die of SIGABRT? */
static bool release_aborts(struct xfrag_umem *u, uint64_t addr)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 2);
		xfrag_umem__release(u, addr);
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static int32_t refcnt(struct xfrag_umem *u, uint32_t blk)
{
	return atomic_load(&xfrag_umem__hot(u)->blocks[blk].refcnt);
}

/* Blocks caches retired (carved to the end, frags out, bias kept). */
#define expect_retired(u, n)                                                   \
	do {                                                                   \
		struct xfrag_census cs_;                                       \
		char m_[400];                                                  \
		int r_ = xfrag_census((u), &cs_, NULL);                        \
                                                                               \
		xfrag_census_format(&cs_, m_, sizeof(m_));                     \
		if (r_ || cs_.blocks[XFRAG_PLACE_RETIRED] != (n))              \
			test_fail_(__FILE__, __LINE__, "census %d: %s; want %u retired", \
				   r_, m_, (n));                               \
	} while (0)

/* Every block in exactly one place, and this many in each. */
#define expect_census(u, pool, current, spare, pinned, refs)                   \
	do {                                                                   \
		struct xfrag_census cs_;                                       \
		char m_[320];                                                  \
		int r_ = xfrag_census((u), &cs_, NULL);                        \
                                                                               \
		xfrag_census_format(&cs_, m_, sizeof(m_));                     \
		if (r_ || cs_.blocks[XFRAG_PLACE_POOL] != (pool) ||            \
		    cs_.blocks[XFRAG_PLACE_CURRENT] != (current) ||            \
		    cs_.blocks[XFRAG_PLACE_SPARE] != (spare) ||                \
		    cs_.blocks[XFRAG_PLACE_PINNED] != (pinned) ||              \
		    cs_.live_refs != (refs))                                   \
			test_fail_(__FILE__, __LINE__,                         \
				   "census %d: %s; want pool %u current %u spare %u pinned %u, %u refs", \
				   r_, m_, (pool), (current), (spare), (pinned), (refs)); \
	} while (0)

/* The same, with the places batched release adds: blocks a cache's inbox
 * freed (stock) and references still in releasers' rings. */
#define expect_census_rel(u, pool, current, spare, stock, pinned, refs, transit) \
	do {                                                                   \
		struct xfrag_census cs_;                                       \
		char m_[400];                                                  \
		int r_ = xfrag_census((u), &cs_, NULL);                        \
                                                                               \
		xfrag_census_format(&cs_, m_, sizeof(m_));                     \
		if (r_ || cs_.blocks[XFRAG_PLACE_POOL] != (pool) ||            \
		    cs_.blocks[XFRAG_PLACE_CURRENT] != (current) ||            \
		    cs_.blocks[XFRAG_PLACE_SPARE] != (spare) ||                \
		    cs_.blocks[XFRAG_PLACE_STOCK] != (stock) ||                \
		    cs_.blocks[XFRAG_PLACE_PINNED] != (pinned) ||              \
		    cs_.live_refs != (refs) || cs_.in_transit != (transit))    \
			test_fail_(__FILE__, __LINE__,                         \
				   "census %d: %s; want pool %u current %u spare %u stock %u pinned %u, %u refs, %u in transit", \
				   r_, m_, (pool), (current), (spare), (stock), (pinned), (refs), (transit)); \
	} while (0)

TEST(carve_order_and_alignment)
{
	struct xfrag_umem *u = mk_umem(4, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t a, b, d;

	assert_true(c);
	/* The first block is block 0; carving runs down from its end. */
	assert_eq(xfrag_cache__alloc(c, 100, 0, &a), 0);
	expect_eq(a, BLK - 100);
	assert_eq(xfrag_cache__alloc(c, 64, 64, &b), 0);
	expect_eq(b, (BLK - 100 - 64) & ~63ull);
	expect_true(b + 64 <= a);
	assert_eq(xfrag_cache__alloc(c, 1, 4096, &d), 0);
	expect_eq(d, BLK - 4096);
	expect_eq(d % 4096, 0);
	/* Pointers land inside the mapped area. */
	expect_true((uint8_t *)xfrag_umem__ptr(u, a) ==
		    (uint8_t *)xfrag_umem__area(u) + a);
	expect_eq(c->bias, XFRAG_BIAS - 3);
	expect_eq(refcnt(u, 0), XFRAG_BIAS); /* no atomic on the fast path */
	expect_eq(blocks_free(u), 3);
	expect_census(u, 3u, 1u, 0u, 0u, 3u);
	xfrag_umem__release(u, a);
	xfrag_umem__release(u, b);
	xfrag_umem__release(u, d);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 4);
	expect_census(u, 4u, 0u, 0u, 0u, 0u);
	xfrag_umem__destroy(u);
}

TEST(variable_sizes_never_overlap)
{
	struct xfrag_umem *u = mk_umem(8, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	static uint64_t addr[2000];
	static uint32_t size[2000];
	int i, j, n = 0;

	for (i = 0; i < 2000; i++) {
		uint32_t sz = 1 + (uint32_t)((i * 7919) % 3000);
		uint32_t al = 1u << (i % 8);

		if (xfrag_cache__alloc(c, sz, al, &addr[n]))
			break;
		expect_eq(addr[n] % al, 0);
		/* every frag stays inside one block */
		expect_eq(addr[n] / BLK, (addr[n] + sz - 1) / BLK);
		size[n++] = sz;
	}
	expect_true(n > 100);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n && j < i + 50; j++)
			expect_true(addr[i] + size[i] <= addr[j] ||
				    addr[j] + size[j] <= addr[i]);
	xfrag_umem__release_bulk(u, addr, (unsigned int)n);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 8);
	xfrag_umem__destroy(u);
}

TEST(reuse_in_place_when_all_released)
{
	struct xfrag_umem *u = mk_umem(4, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t a[16], x;
	int i;

	for (i = 0; i < 16; i++)
		assert_eq(xfrag_cache__alloc(c, 4096, 0, &a[i]), 0);
	expect_eq(c->offset, 0);
	/* Release every frag before the block runs out... */
	for (i = 0; i < 16; i++)
		xfrag_umem__release(u, a[i]);
	expect_eq(refcnt(u, 0), XFRAG_BIAS - 16);
	/* ...so the drain at refill finds zero and keeps the block. */
	assert_eq(xfrag_cache__alloc(c, 4096, 0, &x), 0);
	expect_eq(x, BLK - 4096);
	expect_eq(c->reuse_in_place, 1);
	expect_eq(c->pool_takes, 1);
	expect_eq(c->refills, 1);
	expect_eq(blocks_free(u), 3);
	xfrag_umem__release(u, x);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 4);
	xfrag_umem__destroy(u);
}

TEST(refill_from_pool_and_last_release_recycles)
{
	struct xfrag_umem *u = mk_umem(4, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t a[16], x;
	int i;

	for (i = 0; i < 16; i++)
		assert_eq(xfrag_cache__alloc(c, 4096, 0, &a[i]), 0);
	/* Frags still live: the cache moves on to the next pool block. */
	assert_eq(xfrag_cache__alloc(c, 4096, 0, &x), 0);
	expect_eq(x, 2 * BLK - 4096);
	expect_eq(c->pool_takes, 2);
	expect_eq(c->reuse_in_place, 0);
	/* The old block is detached: its count is exactly its live frags. */
	expect_eq(refcnt(u, 0), 16);
	expect_eq(blocks_free(u), 2);
	expect_census(u, 2u, 1u, 0u, 1u, 17u);
	for (i = 0; i < 15; i++)
		xfrag_umem__release(u, a[i]);
	expect_eq(blocks_free(u), 2);
	xfrag_umem__release(u, a[15]); /* last one: back to the pool */
	expect_eq(blocks_free(u), 3);
	expect_eq(refcnt(u, 0), 0);
	/* LIFO: the block just freed is the next one handed out. */
	xfrag_cache__flush(c);
	xfrag_umem__release(u, x);
	{
		struct xfrag_cache *c2 = xfrag_cache__create(u, NULL);

		assert_eq(xfrag_cache__alloc(c2, 64, 0, &x), 0);
		expect_eq(x / BLK, 1); /* block 1 was freed last */
		expect_census(u, 3u, 1u, 0u, 0u, 1u); /* c2's block; c has none */
		xfrag_umem__release(u, x);
		xfrag_cache__destroy(c2);
	}
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 4);
	expect_census(u, 4u, 0u, 0u, 0u, 0u);
	xfrag_umem__destroy(u);
}

TEST(drain_drops_many_references)
{
	struct xfrag_umem *u = mk_umem(2, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t a[10];
	int i;

	for (i = 0; i < 10; i++)
		assert_eq(xfrag_cache__alloc(c, 256, 0, &a[i]), 0);
	xfrag_cache__flush(c); /* block detached: count = 10 live frags */
	expect_eq(refcnt(u, 0), 10);
	expect_eq(xfrag_umem__drain(u, a[3], 0), 0);
	expect_eq(xfrag_umem__drain(u, a[3], -5), 0);
	expect_eq(refcnt(u, 0), 10);
	expect_eq(xfrag_umem__drain(u, a[3], 4), 1); /* one atomic */
	expect_eq(refcnt(u, 0), 6);
	expect_eq(blocks_free(u), 1);
	/* Holding all that is left: the shortcut skips the atomic. */
	expect_eq(xfrag_umem__drain(u, a[0], 6), 0);
	expect_eq(blocks_free(u), 2);
	xfrag_cache__destroy(c);
	xfrag_umem__destroy(u);
}

TEST(bulk_release_coalesces_per_block)
{
	struct xfrag_umem *u = mk_umem(8, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t a[96];
	unsigned int atomics;

	/* 2048-byte chunks: 32 per 64 KiB block; 96 span blocks 0, 1, 2. */
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 96), 96);
	expect_eq(a[0], BLK - 2048);
	expect_eq(a[31], 0);
	expect_eq(a[32], 2 * BLK - 2048);
	expect_eq(c->pool_takes, 3);
	expect_eq(c->bias, XFRAG_BIAS - 32);
	/* Blocks 0 and 1 are detached (count 32 each), block 2 owned. */
	expect_eq(refcnt(u, 0), 32);
	atomics = xfrag_umem__release_bulk(u, a, 96);
	/* Blocks 0 and 1: we held every reference, so no atomic at all;
	 * block 2: one subtraction for its 32 frags. */
	expect_eq(atomics, 1);
	expect_eq(refcnt(u, 2), XFRAG_BIAS - 32);
	expect_eq(blocks_free(u), 7);

	/* Interleaved handles are runs of one: one atomic per run. */
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 64), 64);
	{
		uint64_t mixed[6] = { a[0], a[40], a[1], a[41], a[2], a[42] };
		uint64_t rest[58];
		int i, k = 0;

		unsigned int at = xfrag_umem__release_bulk(u, mixed, 6);

		expect_eq(at, 6);
		for (i = 0; i < 64; i++)
			if (i > 2 && !(i >= 40 && i <= 42))
				rest[k++] = a[i];
		expect_eq(k, 58);
		at = xfrag_umem__release_bulk(u, rest, 58);
		expect_true(at <= 2);
	}
	expect_eq(xfrag_umem__release_bulk(u, a, 0), 0);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 8);
	xfrag_umem__destroy(u);
}

/*
 * Releases on the carving thread: the current block's frags go back into
 * the bias, a detached block whose last frags come back becomes the spare,
 * and the next refill takes it without touching the pool.
 */
TEST(owner_release_without_atomics)
{
	struct xfrag_umem *u = mk_umem(8, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t a[64], b[64];
	unsigned int at;

	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 64), 64); /* blocks 0, 1 */
	expect_eq(c->drains, 1); /* block 0 detached with 32 live frags */
	at = xfrag_cache__release_bulk(c, a, 64);
	expect_eq(xfrag_cache__allocs(c), 64); /* give-backs do not hide allocs */
	expect_eq(at, 0);
	expect_eq(c->spare, 0);        /* block 0 kept back */
	expect_eq(c->bias, XFRAG_BIAS); /* block 1 whole again */
	expect_eq(refcnt(u, 1), XFRAG_BIAS);
	expect_eq(blocks_free(u), 6);   /* the spare is not free */
	expect_census(u, 6u, 1u, 1u, 0u, 0u);
	/* Block 1 is reused in place without a drain; then the spare. */
	assert_eq(xfrag_cache__alloc_burst(c, 2048, b, 64), 64);
	expect_eq(b[0], 2 * BLK - 2048);
	expect_eq(b[32], BLK - 2048);
	expect_eq(c->reuse_in_place, 1);
	expect_eq(c->drains, 2);
	expect_eq(c->pool_takes, 2);    /* blocks 0 and 1 only, ever */
	expect_eq(c->spare, XFRAG_NO_BLOCK);
	expect_census(u, 6u, 1u, 0u, 1u, 64u);
	/* Another thread's view: the same frags through the shared path. */
	at = xfrag_umem__release_bulk(u, b, 64);
	expect_eq(at, 1); /* the owned block 0; block 1 by the shortcut */
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 8);
	expect_census(u, 8u, 0u, 0u, 0u, 0u);
	xfrag_umem__destroy(u);
}

/*
 * The census itself: each way a block can go astray is reported, with the
 * block, so that a green census means every block is where it should be.
 */
TEST(census_finds_lost_duplicated_and_miscounted_blocks)
{
	struct xfrag_umem *u = mk_umem(4, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	struct xfrag_census cs;
	uint8_t where[4];
	uint32_t blk;
	uint64_t a;

	assert_true(c);
	assert_eq(xfrag_cache__alloc(c, 100, 0, &a), 0); /* block 0 current */
	expect_eq(xfrag_census(u, &cs, where), 0);
	expect_eq(cs.caches, 1);
	expect_eq(where[0], XFRAG_PLACE_CURRENT);
	expect_eq(where[1], XFRAG_PLACE_POOL);
	expect_eq(cs.live_refs, 1);

	/* A block taken off the list and put nowhere is lost. */
	blk = xfrag_pool_pop(u);
	expect_eq(blk, 1);
	expect_eq(xfrag_census(u, &cs, where), -EUCLEAN);
	expect_eq(cs.lost, 1);
	expect_eq(where[1], XFRAG_PLACE_NONE);
	expect_eq(cs.first_bad, 1);
	/* ... and a pool block with a count is two places at once. */
	xfrag_pool_push(u, blk);
	expect_eq(xfrag_census(u, &cs, NULL), 0);
	atomic_store(&xfrag_umem__hot(u)->blocks[2].refcnt, 3);
	expect_eq(xfrag_census(u, &cs, where), -EUCLEAN);
	expect_eq(cs.duplicated, 1);
	expect_eq(where[2], XFRAG_PLACE_MANY);
	atomic_store(&xfrag_umem__hot(u)->blocks[2].refcnt, 0);

	/* A spare has count 0 (no frag live) and keeps an owner, which tells
	 * it from a free block; a current block has a count >= its bias. */
	blk = xfrag_pool_pop(u);
	c->spare = blk;
	expect_eq(xfrag_census(u, &cs, NULL), -EUCLEAN); /* no owner */
	expect_eq(cs.bad_counts, 1);
	atomic_store(&xfrag_umem__hot(u)->blocks[blk].owner, 0);
	expect_eq(xfrag_census(u, &cs, where), 0);
	expect_eq(where[blk], XFRAG_PLACE_SPARE);
	expect_eq(blocks_free(u), 2); /* the spare is not free */
	atomic_store(&xfrag_umem__hot(u)->blocks[blk].refcnt, -1);
	expect_eq(xfrag_census(u, &cs, NULL), -EUCLEAN);
	expect_eq(cs.bad_counts, 1);
	atomic_store(&xfrag_umem__hot(u)->blocks[blk].refcnt, 0);
	c->bias += 2; /* more references back than were handed out */
	expect_eq(xfrag_census(u, &cs, NULL), -EUCLEAN);
	expect_eq(cs.bad_counts, 1);
	c->bias -= 2;

	/* Two caches carving one block. */
	{
		struct xfrag_cache *c2 = xfrag_cache__create(u, NULL);
		uint64_t b;

		assert_eq(xfrag_cache__alloc(c2, 100, 0, &b), 0);
		expect_eq(xfrag_census(u, &cs, NULL), 0);
		expect_eq(cs.caches, 2);
		blk = c2->block;
		c2->block = c->block;
		expect_eq(xfrag_census(u, &cs, NULL), -EUCLEAN);
		expect_eq(cs.duplicated, 1);
		/* ... and c2's own block looks detached (count > 0). */
		expect_eq(cs.blocks[XFRAG_PLACE_PINNED], 1);
		c2->block = blk;
		xfrag_umem__release(u, b);
		xfrag_cache__destroy(c2);
	}
	xfrag_umem__release(u, a);
	xfrag_cache__destroy(c);
	expect_census(u, 4u, 0u, 0u, 0u, 0u);

	/* A block pushed twice: the list loops back on itself. */
	xfrag_pool_push(u, 0);
	expect_eq(xfrag_census(u, &cs, NULL), -EUCLEAN);
	expect_eq(cs.duplicated, 1);
	xfrag_umem__destroy(u);
}

TEST(unaligned_descriptor_addresses_release)
{
	struct xfrag_umem *u = mk_umem(2, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t a;

	assert_eq(xfrag_cache__alloc(c, 3000, 0, &a), 0);
	xfrag_cache__flush(c);
	/* An RX descriptor carries the data offset in bits 48..63. */
	xfrag_umem__release(u, a | (256ull << 48));
	expect_eq(blocks_free(u), 2);
	expect_true(xfrag_umem__ptr(u, a | (256ull << 48)) ==
		    xfrag_umem__ptr(u, a));
	xfrag_cache__destroy(c);
	xfrag_umem__destroy(u);
}

TEST(pool_exhaustion_is_clean_and_recovers)
{
	struct xfrag_umem *u = mk_umem(2, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	struct xfrag_umem_stats s;
	uint64_t a[40], x;
	int i;

	for (i = 0; i < 32; i++)
		assert_eq(xfrag_cache__alloc(c, 4096, 0, &a[i]), 0);
	expect_eq(xfrag_cache__alloc(c, 4096, 0, &x), -ENOBUFS);
	expect_eq(xfrag_cache__alloc(c, 64, 0, &x), -ENOBUFS);
	expect_eq(c->pool_empty, 2);
	xfrag_umem__stats(u, &s);
	expect_eq(s.blocks_free, 0);
	expect_eq(s.blocks_in_use, 2);
	expect_true(s.pool_empty >= 2);
	/* burst: best effort returns 0, bulk: all or nothing */
	expect_eq(xfrag_cache__alloc_burst(c, 2048, a + 32, 4), 0);
	expect_eq(xfrag_cache__alloc_bulk(c, 2048, a + 32, 4), -ENOBUFS);
	/* Releasing one block's frags lets allocation resume. */
	xfrag_umem__release_bulk(u, a, 16);
	expect_eq(blocks_free(u), 1);
	assert_eq(xfrag_cache__alloc(c, 4096, 0, &x), 0);
	expect_eq(x / BLK, 0);
	xfrag_umem__release(u, x);
	xfrag_umem__release_bulk(u, a + 16, 16);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 2);
	xfrag_umem__destroy(u);
}

TEST(alloc_bulk_all_or_nothing)
{
	struct xfrag_umem *u = mk_umem(1, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t a[64];

	expect_eq(xfrag_cache__alloc_bulk(c, 2048, a, 40), -ENOBUFS);
	xfrag_cache__flush(c);
	expect_eq(blocks_free(u), 1); /* the partial carve was given back */
	expect_eq(xfrag_cache__alloc_bulk(c, 2048, a, 32), 0);
	xfrag_umem__release_bulk(u, a, 32);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 1);
	xfrag_umem__destroy(u);
}

TEST(extra_references)
{
	struct xfrag_umem *u = mk_umem(2, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t a;

	assert_eq(xfrag_cache__alloc(c, 512, 64, &a), 0);
	xfrag_cache__flush(c);
	expect_eq(xfrag_umem__ref(u, a), 0);
	expect_eq(refcnt(u, 0), 2);
	xfrag_umem__release(u, a);
	expect_eq(blocks_free(u), 1);
	xfrag_umem__release(u, a);
	expect_eq(blocks_free(u), 2);
	expect_eq(xfrag_umem__ref(u, 2 * BLK), -EINVAL);
	xfrag_cache__destroy(c);
	xfrag_umem__destroy(u);
}

TEST(no_page_cross_carving)
{
	struct xfrag_umem *u = mk_umem(4, BLK);
	XFRAG_OPTS(xfrag_cache_opts, co, .no_page_cross = 1, .id = 7);
	struct xfrag_cache *c = xfrag_cache__create(u, &co);
	uint64_t a[64], x;
	int n, i;

	assert_true(c);
	n = xfrag_cache__alloc_burst(c, 3000, a, 64);
	assert_eq(n, 64);
	for (i = 0; i < n; i++)
		expect_eq(a[i] / 4096, (a[i] + 3000 - 1) / 4096);
	/* One 3000-byte chunk per page: 16 in a 64 KiB block. */
	expect_eq(a[15] / BLK, 0);
	expect_eq(a[16] / BLK, 1);
	expect_eq(atomic_load(&xfrag_umem__hot(u)->blocks[1].owner), 7);
	/* 2048-byte chunks pack two per page exactly. */
	xfrag_umem__release_bulk(u, a, 64);
	xfrag_cache__flush(c);
	n = xfrag_cache__alloc_burst(c, 2048, a, 64);
	assert_eq(n, 64);
	expect_eq(a[31] % BLK, 0);
	expect_ne(a[32] / BLK, a[0] / BLK);
	/* Single allocs obey it too, and nothing above a page is allowed. */
	assert_eq(xfrag_cache__alloc(c, 3000, 0, &x), 0);
	expect_eq(x / 4096, (x + 2999) / 4096);
	{
		uint64_t y = 0;

		expect_eq(xfrag_cache__alloc(c, 4097, 0, &y), -EINVAL);
		expect_eq(y, XFRAG_NO_ADDR);
	}
	xfrag_umem__release(u, x);
	xfrag_umem__release_bulk(u, a, 64);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 4);
	xfrag_umem__destroy(u);
}

TEST(bad_arguments)
{
	struct xfrag_umem *u = mk_umem(2, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	struct xfrag_umem_stats s;
	uint64_t a;

	expect_eq(xfrag_cache__alloc(c, 0, 0, &a), -EINVAL);
	expect_eq(xfrag_cache__alloc(c, BLK + 1, 0, &a), -EINVAL);
	expect_eq(xfrag_cache__alloc(c, BLK, 0, &a), 0); /* whole block ok */
	xfrag_umem__release(u, a);
	expect_eq(xfrag_cache__alloc(c, 64, 3, &a), -EINVAL);
	expect_eq(xfrag_cache__alloc(c, 64, 48, &a), -EINVAL);
	expect_eq(xfrag_cache__alloc(c, 64, 2 * BLK, &a), -EINVAL);
	expect_eq(xfrag_cache__alloc_burst(c, 0, &a, 1), -EINVAL);
	expect_eq(xfrag_cache__alloc_bulk(c, BLK + 1, &a, 1), -EINVAL);
	expect_eq(xfrag_cache__allocs(c), 1);

	/* A foreign address is counted, never written through; a debug
	 * build stops right there. */
	if (debug_on(u)) {
		expect_true(release_aborts(u, 5 * BLK));
	} else {
		xfrag_umem__release(u, 5 * BLK);
		xfrag_umem__stats(u, &s);
		expect_eq(s.bad_release, 1);
	}

	errno = 0;
	expect_true(!xfrag_cache__create(NULL, NULL) && errno == EINVAL);
	{
		XFRAG_OPTS(xfrag_umem_opts, o, .block_size = 3000);
		errno = 0;
		expect_true(!xfrag_umem__create(&o) && errno == EINVAL);
		o.block_size = 2048;
		expect_true(!xfrag_umem__create(&o) && errno == EINVAL);
		o.block_size = 4u << 20;
		expect_true(!xfrag_umem__create(&o) && errno == EINVAL);
		o.block_size = 64 << 10;
		o.size = 4096; /* less than one block */
		expect_true(!xfrag_umem__create(&o) && errno == EINVAL);
		o.size = 0;
		o.hugepages = 9;
		expect_true(!xfrag_umem__create(&o) && errno == EINVAL);
		o.hugepages = 0;
		o.sz = 2;
		expect_true(!xfrag_umem__create(&o) && errno == EINVAL);
	}
	{
		/* A newer caller's unknown non-zero field is refused. */
		struct {
			struct xfrag_umem_opts o;
			uint64_t future;
		} big = { .o = { .sz = sizeof(big) }, .future = 1 };
		errno = 0;
		expect_true(!xfrag_umem__create(&big.o) && errno == EINVAL);
		big.future = 0;
		struct xfrag_umem *u2 = xfrag_umem__create(&big.o);
		expect_true(u2 != NULL);
		xfrag_umem__destroy(u2);
	}
	xfrag_cache__destroy(NULL);
	xfrag_umem__destroy(NULL);
	xfrag_cache__destroy(c);
	xfrag_umem__destroy(u);
}

TEST(defaults_and_stats)
{
	struct xfrag_umem *u = xfrag_umem__create(NULL);
	struct xfrag_umem_stats s;

	assert_true(u);
	xfrag_umem__stats(u, &s);
	expect_eq(s.size, 16 << 20);
	expect_eq(s.block_size, 64 << 10);
	expect_eq(s.nblocks, 256);
	expect_eq(s.blocks_free, 256);
	expect_eq(s.hugepages_needed, 8);
	expect_true(s.backing <= XFRAG_BACKING_PAGES);
	expect_true(((uintptr_t)xfrag_umem__area(u) & 4095) == 0);
	xfrag_umem__destroy(u);

	/* Sizes round up to whole blocks; 2 MiB blocks are allowed. */
	XFRAG_OPTS(xfrag_umem_opts, o, .size = 3 * BLK + 1, .block_size = BLK,
		   .hugepages = XFRAG_HUGE_NEVER);
	u = xfrag_umem__create(&o);
	assert_true(u);
	xfrag_umem__stats(u, &s);
	expect_eq(s.nblocks, 4);
	expect_true(s.backing != XFRAG_BACKING_HUGETLB);
	xfrag_umem__destroy(u);
	o.block_size = 2u << 20;
	o.size = 4u << 20;
	u = xfrag_umem__create(&o);
	assert_true(u);
	xfrag_umem__destroy(u);
	expect_true(!strcmp(xfrag_backing_name(XFRAG_BACKING_HUGETLB), "hugetlb"));
	expect_true(xfrag_strerror(-ENOBUFS)[0] != 0);
}

/* No hugepages reserved: REQUIRE fails cleanly, AUTO falls back. */
TEST(hugepage_policy)
{
	XFRAG_OPTS(xfrag_umem_opts, o, .size = 4 << 20, .hugepages = XFRAG_HUGE_REQUIRE);
	struct xfrag_umem_stats s;
	struct xfrag_umem *u;
	long free_pages = -1;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &free_pages) == 1)
			break;
	if (f)
		fclose(f);
	u = xfrag_umem__create(&o);
	if (free_pages < 2) {
		expect_true(!u && errno == ENOMEM);
	} else {
		assert_true(u);
		xfrag_umem__stats(u, &s);
		expect_eq(s.backing, XFRAG_BACKING_HUGETLB);
	}
	xfrag_umem__destroy(u);
	o.hugepages = XFRAG_HUGE_AUTO;
	u = xfrag_umem__create(&o);
	assert_true(u);
	xfrag_umem__stats(u, &s);
	expect_eq(s.hugepages_needed, 2);
	if (free_pages < 2)
		expect_true(s.backing != XFRAG_BACKING_HUGETLB);
	xfrag_umem__destroy(u);
}

/*
 * Run detection in bulk release, at every place a block change can fall:
 * the vector groups (32, then 16 handles), their first and last pair, the
 * scalar tail. Blocks are detached and hold one extra reference each, so
 * no release is the last one: each run is exactly one atomic subtraction,
 * and each block's count comes back to where it was only if the runs gave
 * each block exactly its own frags.
 */
TEST(bulk_release_finds_every_block_change)
{
	enum { NB = 6, PER = 32, MAXN = 3 * 32 + 16 + 7 };
	struct xfrag_umem *u = mk_umem(NB, 64 << 10);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t frag[NB][PER], a[MAXN];
	uint64_t rnd = 0x2545F4914F6CDD1Dull;
	int b, i, round;

	assert_true(c);
	for (b = 0; b < NB; b++)
		assert_eq(xfrag_cache__alloc_burst(c, 2048, frag[b], PER), PER);
	xfrag_cache__flush(c); /* every block detached: count = its frags */
	for (b = 0; b < NB; b++)
		expect_eq(xfrag_umem__ref(u, frag[b][0]), 0);
	for (round = 0; round < 3000; round++) {
		int32_t want[NB] = { 0 };
		unsigned int n = 1 + (unsigned int)(round % MAXN), runs = 0, k = 0;
		int cur = -1;

		/* Pieces of random length from random blocks, each frag at
		 * most once per round; a piece from another block than the last
		 * one starts a run (a block may come back later: a new run).
		 * Capacity (NB * (PER - 1)) exceeds MAXN: it always ends. */
		while (k < n) {
			unsigned int len;
			int nb;

			rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
			len = 1 + (unsigned int)((rnd >> 33) % 40);
			nb = (int)((rnd >> 20) % NB);
			if (len > n - k)
				len = n - k;
			if (len > (unsigned int)(PER - 1 - want[nb]))
				len = (unsigned int)(PER - 1 - want[nb]);
			if (!len)
				continue;
			for (i = 0; i < (int)len; i++)
				a[k++] = frag[nb][1 + want[nb] + i];
			want[nb] += (int32_t)len;
			runs += nb != cur;
			cur = nb;
		}
		/* One more reference on each, for the release to drop. */
		for (i = 0; i < (int)n; i++)
			expect_eq(xfrag_umem__ref(u, a[i]), 0);
		expect_eq(xfrag_umem__release_bulk(u, a, n), runs);
		for (b = 0; b < NB; b++)
			expect_eq(refcnt(u, (uint32_t)(frag[b][0] / (64 << 10))), PER + 1);
		if (test_failures)
			break;
	}
	for (b = 0; b < NB; b++) {
		xfrag_umem__release(u, frag[b][0]);
		xfrag_umem__release_bulk(u, frag[b], PER);
	}
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), NB);
	xfrag_umem__destroy(u);
}

/*
 * The burst carve, in pieces of every length from one to three blocks and
 * with sizes changing between bursts (the per-size count of a whole block
 * is remembered): handles are back to back from each block's end, never
 * overlap, and the bias counts them.
 */
TEST(alloc_burst_pieces_and_sizes)
{
	struct xfrag_umem *u = mk_umem(16, 16 << 10);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	static const uint32_t sizes[] = { 2048, 3000, 2048, 64, 4096, 1000, 2048 };
	uint64_t a[40];
	unsigned int s, n, i;

	assert_true(c);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (n = 1; n <= 40; n += 3) {
			uint64_t allocs = xfrag_cache__allocs(c);
			int got = xfrag_cache__alloc_burst(c, sizes[s], a, n);

			assert_eq(got, (int)n);
			expect_eq(xfrag_cache__allocs(c), allocs + n);
			for (i = 0; i < n; i++) {
				/* inside one block, below the previous frag of
				 * the same block, or at the top of a new one */
				expect_eq(a[i] / (16 << 10), (a[i] + sizes[s] - 1) / (16 << 10));
				if (i && a[i] / (16 << 10) == a[i - 1] / (16 << 10))
					expect_eq(a[i], a[i - 1] - sizes[s]);
				else if (i)
					expect_eq((a[i] + sizes[s]) % (16 << 10), 0);
			}
			xfrag_cache__release_bulk(c, a, n);
			if (test_failures)
				goto out;
		}
	}
out:
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 16);
	expect_census(u, 16u, 0u, 0u, 0u, 0u);
	xfrag_umem__destroy(u);
}

/* Make the cache's bias @bias as if it had carved that much more (the
 * count follows; the allocation total is kept as it was). */
static void age_bias(struct xfrag_umem *u, struct xfrag_cache *c, uint32_t bias)
{
	c->given_back += (uint64_t)((int64_t)bias - (int64_t)c->bias);
	atomic_store(&xfrag_umem__hot(u)->blocks[c->block].refcnt, (int32_t)bias);
	c->bias = bias;
}

/*
 * Reuse in place neither drains nor writes the block: the count and the
 * bias carry on. Only when the bias runs low is it topped up (no frag
 * live: a plain store of a fresh count).
 */
TEST(reuse_in_place_keeps_the_count)
{
	struct xfrag_umem *u = mk_umem(2, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t a[32];

	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 32), 32); /* block 0 whole */
	xfrag_umem__release_bulk(u, a, 32);
	expect_eq(refcnt(u, 0), XFRAG_BIAS - 32);
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 32), 32); /* in place */
	expect_eq(a[0], BLK - 2048);
	expect_eq(c->reuse_in_place, 1);
	expect_eq(c->drains, 0);
	expect_eq(c->bias, XFRAG_BIAS - 64);
	expect_eq(refcnt(u, 0), XFRAG_BIAS - 32);
	expect_census(u, 1u, 1u, 0u, 0u, 32u);
	xfrag_umem__release_bulk(u, a, 32);
	/* Age the bias to the top-up mark, then below it. */
	age_bias(u, c, XFRAG_BIAS_LOW);
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 32), 32);
	expect_eq(c->bias, XFRAG_BIAS_LOW - 32);
	expect_eq(refcnt(u, 0), XFRAG_BIAS_LOW);
	xfrag_umem__release_bulk(u, a, 32);
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 32), 32);
	expect_eq(c->bias, XFRAG_BIAS - 32);
	expect_eq(refcnt(u, 0), XFRAG_BIAS);
	expect_eq(c->reuse_in_place, 3);
	expect_eq(xfrag_cache__allocs(c), 4 * 32);
	expect_census(u, 1u, 1u, 0u, 0u, 32u);
	/* The single-frag path tops it up the same way. */
	xfrag_umem__release_bulk(u, a, 32);
	age_bias(u, c, XFRAG_BIAS_LOW - 1);
	c->offset = 0;
	assert_eq(xfrag_cache__alloc(c, 2048, 0, &a[0]), 0);
	expect_eq(c->bias, XFRAG_BIAS - 1);
	expect_eq(refcnt(u, 0), XFRAG_BIAS);
	xfrag_umem__release(u, a[0]);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 2);
	xfrag_umem__destroy(u);
}

/* Every public call takes NULL without crashing (issue 10). */
TEST(null_arguments)
{
	struct xfrag_umem *u = mk_umem(2, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	struct xfrag_umem_stats s;
	uint64_t a = 0;

	assert_true(c);
	expect_eq(xfrag_cache__alloc(NULL, 64, 0, &a), -EINVAL);
	expect_eq(a, XFRAG_NO_ADDR);
	expect_eq(xfrag_cache__alloc(c, 64, 0, NULL), -EINVAL);
	expect_eq(xfrag_cache__alloc_burst(NULL, 64, &a, 1), -EINVAL);
	expect_eq(xfrag_cache__alloc_burst(c, 64, NULL, 1), -EINVAL);
	expect_eq(xfrag_cache__alloc_bulk(NULL, 64, &a, 1), -EINVAL);
	expect_eq(xfrag_cache__alloc_bulk(c, 64, NULL, 1), -EINVAL);
	expect_eq(xfrag_cache__allocs(c), 0);
	expect_eq(xfrag_cache__allocs(NULL), 0);
	assert_eq(xfrag_cache__alloc(c, 64, 0, &a), 0);
	expect_eq(xfrag_umem__release(NULL, a), 0);
	expect_eq(xfrag_umem__release_bulk(NULL, &a, 1), 0);
	expect_eq(xfrag_umem__release_bulk(u, NULL, 1), 0);
	expect_eq(xfrag_cache__release_bulk(NULL, &a, 1), 0);
	expect_eq(xfrag_cache__release_bulk(c, NULL, 1), 0);
	expect_eq(xfrag_umem__drain(NULL, a, 1), 0);
	expect_eq(xfrag_umem__ref(NULL, a), -EINVAL);
	expect_true(xfrag_umem__ptr(NULL, a) == NULL);
	expect_true(xfrag_umem__area(NULL) == NULL);
	expect_eq(xfrag_umem__block_of(NULL, a), XFRAG_NO_BLOCK);
	expect_eq(xfrag_umem__stats(NULL, &s), -EINVAL);
	expect_eq(xfrag_umem__stats(u, NULL), -EINVAL);
	xfrag_cache__flush(NULL);
	/* Nothing above touched the frag: one release frees it. */
	expect_eq(refcnt(u, 0), XFRAG_BIAS);
	xfrag_umem__release(u, a);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 2);
	xfrag_umem__destroy(u);
}

/* 0xFFFF is how the block table says "free": no cache may use it. */
TEST(cache_id_no_owner_refused)
{
	struct xfrag_umem *u = mk_umem(2, BLK);
	XFRAG_OPTS(xfrag_cache_opts, co, .id = XFRAG_NO_OWNER);
	struct xfrag_cache *c;

	errno = 0;
	c = xfrag_cache__create(u, &co);
	expect_true(c == NULL);
	expect_eq(errno, EINVAL);
	xfrag_cache__destroy(c);
	co.id = XFRAG_NO_OWNER - 1;
	c = xfrag_cache__create(u, &co);
	expect_true(c != NULL);
	xfrag_cache__destroy(c);
	xfrag_umem__destroy(u);
}

/*
 * A releaser touches no count: its runs wait in its ring until the carving
 * cache takes them, on its own thread. The current block's runs go back
 * into the bias; a block that ran out while its frags were out is retired
 * (the cache keeps its bias on it, no drain), and its runs free it into
 * the cache's spare without an atomic; the next burst carves both again
 * without the pool.
 */
TEST(releaser_runs_go_to_the_carving_cache)
{
	struct xfrag_umem *u = mk_umem(8, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	struct xfrag_releaser *r = xfrag_releaser__create(u, NULL);
	uint64_t a[64], b[64];

	assert_true(c && r);
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 64), 64); /* blocks 0, 1 */
	expect_eq(c->nretired, 1);
	expect_eq(c->retired[0].block, 0);
	expect_eq(c->retired[0].bias, XFRAG_BIAS - 32);
	expect_eq(c->drains, 0);
	expect_eq(xfrag_releaser__release_bulk(r, a, 64), 0);
	expect_eq(refcnt(u, 0), XFRAG_BIAS); /* retired: untouched */
	expect_eq(refcnt(u, 1), XFRAG_BIAS); /* current: untouched */
	expect_census_rel(u, 6u, 1u, 0u, 0u, 0u, 0u, 64u);
	expect_retired(u, 1u);
	expect_eq(blocks_free(u), 6);
	expect_eq(xfrag_cache__reclaim(c), 2);
	expect_eq(c->inbox_runs, 2);
	expect_eq(c->retired_freed, 1);
	expect_eq(c->inbox_atomics, 0);
	expect_eq(c->nretired, 0);
	expect_eq(c->spare, 0);
	expect_eq(c->bias, XFRAG_BIAS); /* block 1 whole again */
	expect_eq(refcnt(u, 0), 0);
	expect_census_rel(u, 6u, 1u, 1u, 0u, 0u, 0u, 0u);
	expect_eq(xfrag_cache__reclaim(c), 0);
	/* Block 1 in place, then the spare: no pool. */
	assert_eq(xfrag_cache__alloc_burst(c, 2048, b, 64), 64);
	expect_eq(b[0], 2 * BLK - 2048);
	expect_eq(b[32], BLK - 2048);
	expect_eq(c->pool_takes, 2);
	expect_eq(c->reuse_in_place, 1);
	/* Without reclaim, the refill applies the runs by itself. */
	expect_eq(xfrag_releaser__release_bulk(r, b, 64), 0);
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 64), 64);
	expect_eq(c->pool_takes, 2);
	expect_eq(c->inbox_runs, 4);
	expect_eq(xfrag_cache__allocs(c), 192);
	expect_eq(c->drains, 0); /* no atomic on any count so far */
	xfrag_releaser__release_bulk(r, a, 64);
	xfrag_releaser__destroy(r);
	/* Runs still in a live cache's ring are the cache's to apply. */
	expect_census_rel(u, 6u, 1u, 0u, 0u, 0u, 0u, 64u);
	expect_retired(u, 1u);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 8);
	expect_census_rel(u, 8u, 0u, 0u, 0u, 0u, 0u, 0u);
	xfrag_umem__destroy(u);
}

/*
 * Freed blocks pile up newest first: the spare, then a stock of four, the
 * oldest to the pool beyond that. Refills take the newest.
 */
TEST(releaser_stock_newest_first)
{
	struct xfrag_umem *u = mk_umem(12, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	struct xfrag_releaser *r = xfrag_releaser__create(u, NULL);
	uint64_t a[7][32], x;
	int i;

	assert_true(c && r);
	for (i = 0; i < 7; i++)
		assert_eq(xfrag_cache__alloc_burst(c, 2048, a[i], 32), 32);
	assert_eq(xfrag_cache__alloc(c, 64, 0, &x), 0); /* blocks 0..6 detached */
	for (i = 0; i < 7; i++)
		expect_eq(xfrag_releaser__release_bulk(r, a[i], 32), 0);
	expect_eq(xfrag_cache__reclaim(c), 7);
	/* 6 freed last: the spare; 2..5 the stock; 0 and 1 back to the pool */
	expect_eq(c->spare, 6);
	expect_eq(c->nstock, XFRAG_STOCK);
	expect_eq(c->stock[0], 2);
	expect_eq(c->stock[XFRAG_STOCK - 1], 5);
	expect_eq(c->inbox_atomics, 2);
	expect_census_rel(u, 6u, 1u, 1u, 4u, 0u, 1u, 0u);
	/* Whole-block frags, kept live: each refill takes the next one. */
	for (i = 6; i >= 2; i--) {
		assert_eq(xfrag_cache__alloc(c, BLK, 0, &a[i][0]), 0);
		expect_eq(a[i][0] / BLK, (uint64_t)i);
	}
	expect_eq(c->pool_takes, 8);
	for (i = 6; i >= 2; i--)
		xfrag_umem__release(u, a[i][0]);
	xfrag_umem__release(u, x);
	xfrag_releaser__destroy(r);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 12);
	expect_census(u, 12u, 0u, 0u, 0u, 0u);
	xfrag_umem__destroy(u);
}

/* A full ring (64 runs the cache did not take yet) releases directly. */
TEST(releaser_full_ring_releases_directly)
{
	struct xfrag_umem *u = mk_umem(4, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	struct xfrag_releaser *r = xfrag_releaser__create(u, NULL);
	uint64_t a[32], b[32], run[2];
	unsigned int i, at = 0;

	assert_true(c && r);
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 32), 32); /* block 0 */
	assert_eq(xfrag_cache__alloc_burst(c, 2048, b, 32), 32); /* block 1 */
	/* 80 runs of one frag each, alternating blocks, holding an extra
	 * reference on each so that none is a block's last. */
	for (i = 0; i < 40; i++) {
		run[0] = a[i % 32];
		run[1] = b[i % 32];
		xfrag_umem__ref(u, run[0]);
		xfrag_umem__ref(u, run[1]);
		at += xfrag_releaser__release_bulk(r, run, 2);
	}
	expect_eq(at, 80 - 64);
	/* Block 0 is retired: 8 of its runs went direct, onto the count. */
	expect_eq(refcnt(u, 0), XFRAG_BIAS + 40 - 8);
	expect_eq(xfrag_cache__reclaim(c), 64);
	expect_eq(refcnt(u, 0), XFRAG_BIAS + 32);
	expect_eq(c->nretired, 1);
	expect_eq(c->retired[0].bias, XFRAG_BIAS);
	/* Each block's 32 runs went back into its bias, its 8 direct ones
	 * off the count: 32 frags live on each either way. */
	expect_eq(c->bias, XFRAG_BIAS);
	expect_eq(refcnt(u, 1), XFRAG_BIAS + 32);
	/* The cache took the ring's runs: room again (the releaser reads
	 * the cache's tail only at the end of a lap). */
	expect_eq(r->runs_direct, 80 - 64);
	xfrag_releaser__release_bulk(r, a, 32);
	xfrag_releaser__release_bulk(r, b, 32);
	expect_eq(r->runs_sent, 64 + 2);
	expect_eq(r->runs_direct, 80 - 64);
	expect_eq(xfrag_cache__reclaim(c), 2);
	xfrag_releaser__destroy(r);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 4);
	expect_census(u, 4u, 0u, 0u, 0u, 0u);
	xfrag_umem__destroy(u);
}

/*
 * A cache that goes applies what it was sent; after that, its frags are
 * released directly. Runs that reach a dead slot's ring anyway (sent while
 * the cache died: made here by hand) are applied by the releaser when it
 * sees a cache went, by its flush, or by the slot's next cache.
 */
TEST(releaser_outlives_the_cache)
{
	struct xfrag_umem *u = mk_umem(8, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL), *c2;
	struct xfrag_releaser *r = xfrag_releaser__create(u, NULL);
	uint64_t a[64];
	uint8_t slot;
	int how;

	assert_true(c && r);
	slot = c->slot;
	expect_ne(slot, XFRAG_NO_SLOT);
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 64), 64);
	expect_eq(xfrag_releaser__release_bulk(r, a, 16), 0);
	xfrag_cache__destroy(c); /* applies the 16 */
	expect_census_rel(u, 6u, 0u, 0u, 0u, 2u, 48u, 0u);
	expect_eq(xfrag_releaser__release_bulk(r, a + 16, 8), 1); /* direct */
	expect_census_rel(u, 6u, 0u, 0u, 0u, 2u, 40u, 0u);
	/* A releaser that saw the slot live just before it died sends a[24],
	 * then a[25], then a[32] to the dead slot's ring. */
	for (how = 0; how < 3; how++) {
		static const int which[3] = { 24, 25, 32 };
		static const uint32_t live[3] = { 39, 38, 31 };
		uint32_t pool = how < 2 ? 6 : 7;

		atomic_store(&u->slot_live[slot], 1);
		expect_eq(xfrag_releaser__release_bulk(r, a + which[how], 1), 0);
		atomic_store(&u->slot_live[slot], 0);
		expect_census_rel(u, pool, 0u, 0u, 0u, 8u - pool, live[how], 1u);
		if (how == 0) {
			xfrag_releaser__flush(r);
		} else if (how == 1) {
			/* as if the cache died after our look; the next call
			 * applies a[25] before its own a[26..31], block 0's
			 * last (no atomic: the shortcut) */
			atomic_fetch_add(&u->deaths, 1);
			expect_eq(xfrag_releaser__release_bulk(r, a + 26, 6), 0);
			pool = 7;
		} else {
			c2 = xfrag_cache__create(u, NULL); /* takes the slot */
			expect_eq(c2->slot, slot);
			xfrag_cache__destroy(c2);
		}
		expect_census_rel(u, pool, 0u, 0u, 0u, 8u - pool, how == 1 ? 32u : live[how], 0u);
	}
	xfrag_umem__release_bulk(u, a + 33, 31);
	xfrag_releaser__destroy(r);
	expect_eq(blocks_free(u), 8);
	expect_census(u, 8u, 0u, 0u, 0u, 0u);
	xfrag_umem__destroy(u);
}

/* Beyond the inbox slots and the releaser rows, everything still works:
 * directly. */
TEST(releaser_and_slot_limits)
{
	struct xfrag_umem *u = mk_umem(4, BLK);
	static struct xfrag_cache *cs[XFRAG_SLOTS + 1];
	static struct xfrag_releaser *rs[XFRAG_RELEASERS + 1];
	uint64_t a;
	int i;

	for (i = 0; i <= XFRAG_SLOTS; i++)
		assert_true((cs[i] = xfrag_cache__create(u, NULL)) != NULL);
	expect_eq(cs[XFRAG_SLOTS - 1]->slot, XFRAG_SLOTS - 1);
	expect_eq(cs[XFRAG_SLOTS]->slot, XFRAG_NO_SLOT);
	for (i = 0; i < XFRAG_RELEASERS; i++)
		assert_true((rs[i] = xfrag_releaser__create(u, NULL)) != NULL);
	errno = 0;
	expect_true(xfrag_releaser__create(u, NULL) == NULL && errno == ENOSPC);
	/* No slot: the release is direct (the block's last: the shortcut). */
	assert_eq(xfrag_cache__alloc(cs[XFRAG_SLOTS], 64, 0, &a), 0);
	xfrag_cache__flush(cs[XFRAG_SLOTS]);
	expect_eq(xfrag_releaser__release_bulk(rs[0], &a, 1), 0);
	expect_eq(rs[0]->runs_direct, 1);
	expect_eq(blocks_free(u), 4);
	/* A slot freed is taken again; a row freed too. */
	xfrag_cache__destroy(cs[3]);
	cs[3] = xfrag_cache__create(u, NULL);
	expect_eq(cs[3]->slot, 3);
	xfrag_releaser__destroy(rs[5]);
	rs[5] = xfrag_releaser__create(u, NULL);
	expect_true(rs[5] != NULL);
	expect_eq(rs[5]->row, 5);
	/* A cache made after a releaser: the releaser finds its ring. */
	assert_eq(xfrag_cache__alloc(cs[3], 64, 0, &a), 0);
	expect_eq(xfrag_releaser__release_bulk(rs[0], &a, 1), 0);
	expect_eq(rs[0]->runs_sent, 1);
	for (i = 0; i < XFRAG_RELEASERS; i++)
		xfrag_releaser__destroy(rs[i]);
	for (i = 0; i <= XFRAG_SLOTS; i++)
		xfrag_cache__destroy(cs[i]);
	expect_eq(blocks_free(u), 4);
	expect_census(u, 4u, 0u, 0u, 0u, 0u);
	/* NULL everywhere. */
	expect_true(xfrag_releaser__create(NULL, NULL) == NULL && errno == EINVAL);
	expect_eq(xfrag_releaser__release_bulk(NULL, &a, 1), 0);
	expect_eq(xfrag_cache__reclaim(NULL), -EINVAL);
	xfrag_releaser__flush(NULL);
	xfrag_releaser__destroy(NULL);
	{
		struct {
			struct xfrag_releaser_opts o;
			uint64_t future;
		} big = { .o = { .sz = sizeof(big) }, .future = 1 };
		errno = 0;
		expect_true(!xfrag_releaser__create(u, &big.o) && errno == EINVAL);
	}
	xfrag_umem__destroy(u);
}

/*
 * While a releaser exists, a block that runs out with frags out is retired:
 * the cache keeps its bias on it. Frags back through the releaser or the
 * owner's release free it with no atomic; frags back by the shared path
 * leave its count at the bias, and the cache frees it at its next look.
 * A ninth retirement drains an old one (the atomic; it is pinned then, as
 * any detached block), flush drains them all, and without releasers
 * blocks are drained at once as before.
 */
TEST(retired_blocks_come_back_without_atomics)
{
	struct xfrag_umem *u = mk_umem(16, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	struct xfrag_releaser *r = xfrag_releaser__create(u, NULL);
	uint64_t a[10][32], x;
	uint32_t k, old;
	int i, at;

	assert_true(c && r);
	for (i = 0; i < 10; i++)
		assert_eq(xfrag_cache__alloc_burst(c, 2048, a[i], 32), 32);
	/* Blocks 0..8 ran out; block 9 is current and just as full. */
	expect_eq(c->nretired, XFRAG_RETIRED);
	expect_eq(c->drains, 1);
	old = XFRAG_NO_BLOCK; /* the one the ninth retirement drained */
	for (i = 0; i < 9; i++) {
		bool found = false;

		for (k = 0; k < c->nretired; k++)
			found |= c->retired[k].block == (uint32_t)i;
		if (!found)
			old = (uint32_t)i;
	}
	assert_true(old != XFRAG_NO_BLOCK);
	expect_eq(refcnt(u, old), 32); /* detached: its live frags */
	expect_census(u, 6u, 1u, 0u, 1u, 320u);
	expect_retired(u, 8u);
	/* The owner's own release: the retired block is free at once. */
	i = old == 0 ? 1 : 0;
	at = (int)xfrag_cache__release_bulk(c, a[i], 16);
	expect_eq(c->retired_freed, 0); /* half its frags still out */
	expect_eq(refcnt(u, (uint32_t)i), XFRAG_BIAS);
	at += (int)xfrag_cache__release_bulk(c, a[i] + 16, 16);
	expect_eq(at, 0);
	expect_eq(c->retired_freed, 1);
	expect_eq(c->spare, (uint32_t)i);
	expect_eq(refcnt(u, (uint32_t)i), 0);
	/* Through the releaser: free when the cache applies the run. */
	i = old == 2 ? 3 : 2;
	expect_eq(xfrag_releaser__release_bulk(r, a[i], 32), 0);
	expect_eq(refcnt(u, (uint32_t)i), XFRAG_BIAS);
	expect_eq(xfrag_cache__reclaim(c), 1);
	expect_eq(c->retired_freed, 2);
	expect_eq(c->inbox_atomics, 0);
	expect_eq(c->nstock, 1);
	/* By the shared path: one atomic on the count, which then equals the
	 * bias; the block waits for the cache to look (here, reclaim). */
	i = old == 4 ? 5 : 4;
	expect_eq(xfrag_umem__release_bulk(u, a[i], 32), 1);
	expect_eq(c->retired_freed, 2);
	expect_eq(blocks_free(u), 6);
	expect_eq(xfrag_cache__reclaim(c), 0);
	expect_eq(c->retired_freed, 3);
	expect_eq(c->nretired, XFRAG_RETIRED - 3);
	expect_census(u, 6u, 1u, 1u, 1u, 224u);
	expect_retired(u, 5u);
	/* Flush: the rest are drained, pinned by their frags, and each goes
	 * to the pool with its last release. */
	xfrag_cache__flush(c);
	expect_eq(c->nretired, 0);
	expect_eq(c->drains, 1 + 5 + 1);
	expect_retired(u, 0u);
	for (i = 0; i < 10; i++)
		if (i != (old == 0 ? 1 : 0) && i != (old == 2 ? 3 : 2) &&
		    i != (old == 4 ? 5 : 4))
			xfrag_umem__release_bulk(u, a[i], 32);
	expect_eq(blocks_free(u), 16);
	/* No releaser left: a block that runs out is drained at once. */
	xfrag_releaser__destroy(r);
	for (i = 0; i < 2; i++)
		assert_eq(xfrag_cache__alloc_burst(c, 2048, a[i], 32), 32);
	assert_eq(xfrag_cache__alloc(c, 64, 0, &x), 0);
	expect_eq(c->nretired, 0);
	expect_eq(c->drains, 1 + 5 + 1 + 2);
	xfrag_umem__release_bulk(u, a[0], 32);
	xfrag_umem__release_bulk(u, a[1], 32);
	xfrag_umem__release(u, x);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 16);
	expect_census(u, 16u, 0u, 0u, 0u, 0u);
	xfrag_umem__destroy(u);
}

/* Another thread's release of @n frags through the any-thread call. */
struct other_release {
	struct xfrag_umem *u;
	const uint64_t *a;
	unsigned int n, atomics;
	struct xfrag_cache *destroy; /* or: destroy this cache there */
	struct xfrag_cache *bound;   /* what that thread is bound to */
};

static void *other_thread(void *arg)
{
	struct other_release *o = arg;

	o->bound = __xfrag_bound_cache(o->u);
	if (o->destroy)
		xfrag_cache__destroy(o->destroy);
	else
		o->atomics = xfrag_umem__release_bulk(o->u, o->a, o->n);
	return NULL;
}

static void on_other_thread(struct other_release *o)
{
	pthread_t th;

	assert_eq(pthread_create(&th, NULL, other_thread, o), 0);
	assert_eq(pthread_join(th, NULL), 0);
}

/*
 * A thread bound to its cache: the any-thread calls take the cache's path
 * on that thread only, and the binding ends with unbind, with the cache's
 * destroy on this thread or on another, and never matches another UMEM.
 */
TEST(bound_thread_releases_through_its_cache)
{
	struct xfrag_umem *u = mk_umem(8, BLK), *u2;
	struct xfrag_cache *c = xfrag_cache__create(u, NULL), *c2;
	struct other_release o = { .u = u };
	struct __xfrag_binding stale;
	uint64_t a[64], b[64], x, gb;
	uint32_t drains;

	assert_true(c);
	expect_eq(xfrag_cache__bind(NULL), -EINVAL);
	expect_true(__xfrag_bound_cache(u) == NULL);
	expect_eq(xfrag_cache__bind(c), 0);
	expect_true(__xfrag_bound_cache(u) == c);
	/* What owner_release_without_atomics gets with cache__release_bulk. */
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 64), 64); /* blocks 0, 1 */
	expect_eq(xfrag_umem__release_bulk(u, a, 64), 0);
	expect_eq(c->spare, 0);         /* block 0 kept back */
	expect_eq(c->bias, XFRAG_BIAS); /* block 1 whole again */
	expect_eq(c->given_back, 32);
	expect_census(u, 6u, 1u, 1u, 0u, 0u);
	/* One at a time too (the block is carved again in place first). */
	assert_eq(xfrag_cache__alloc_burst(c, 2048, &x, 1), 1);
	gb = c->given_back;
	expect_eq(xfrag_umem__release(u, x), 0);
	expect_eq(c->given_back, gb + 1);
	expect_eq(refcnt(u, c->block), XFRAG_BIAS);
	expect_eq(c->bias, XFRAG_BIAS);
	/* On another thread the same call is the shared path: the count. */
	assert_eq(xfrag_cache__alloc_burst(c, 2048, b, 16), 16);
	o.a = b;
	o.n = 16;
	on_other_thread(&o);
	expect_true(o.bound == NULL);
	expect_eq(o.atomics, 1);
	expect_eq(c->given_back, gb + 1);
	expect_eq(refcnt(u, c->block), XFRAG_BIAS - 16);
	expect_eq(refcnt(u, c->block) - (int32_t)c->bias, 0);
	/* Unbound: the shared path here too. */
	assert_eq(xfrag_cache__alloc_burst(c, 2048, b, 8), 8);
	xfrag_cache__unbind(c);
	expect_true(__xfrag_bound_cache(u) == NULL);
	expect_eq(xfrag_umem__release_bulk(u, b, 8), 1);
	expect_eq(c->given_back, gb + 1);
	expect_eq(refcnt(u, c->block), XFRAG_BIAS - 24);
	xfrag_cache__unbind(c); /* not bound: nothing happens */
	xfrag_cache__unbind(NULL);
	/* A new binding replaces the old one. */
	c2 = xfrag_cache__create(u, NULL);
	assert_true(c2);
	xfrag_cache__bind(c);
	xfrag_cache__bind(c2);
	expect_true(__xfrag_bound_cache(u) == c2);
	xfrag_cache__unbind(c); /* not this thread's binding any more */
	expect_true(__xfrag_bound_cache(u) == c2);
	/* Destroyed here: the binding goes with it. */
	xfrag_cache__destroy(c2);
	expect_true(__xfrag_bound_cache(u) == NULL);
	/* Destroyed on another thread: every binding to the UMEM ends (under
	 * ASan a release through the stale one would be a use after free). */
	c2 = xfrag_cache__create(u, NULL);
	assert_true(c2);
	xfrag_cache__bind(c2);
	assert_eq(xfrag_cache__alloc_burst(c2, 2048, b, 8), 8);
	drains = (uint32_t)c->drains;
	o.destroy = c2;
	on_other_thread(&o);
	expect_true(o.bound == NULL);
	expect_true(__xfrag_bound_cache(u) == NULL);
	xfrag_umem__release_bulk(u, b, 8); /* c2's, detached by its flush */
	expect_eq(c->drains, drains);
	/* A binding made for one UMEM never matches another, even at the
	 * same address: each UMEM's generation is new. */
	xfrag_cache__bind(c);
	stale = __xfrag_bound;
	xfrag_cache__unbind(c);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 8);
	expect_census(u, 8u, 0u, 0u, 0u, 0u);
	xfrag_umem__destroy(u);
	u2 = mk_umem(8, BLK);
	__xfrag_bound = stale;
	__xfrag_bound.umem = u2;
	expect_true(__xfrag_bound_cache(u2) == NULL);
	__xfrag_bound = (struct __xfrag_binding){ 0 };
	xfrag_umem__destroy(u2);
}

/* A worker that binds a releaser and releases through the any-thread calls. */
struct worker {
	struct xfrag_umem *u;
	const uint64_t *a;
	unsigned int n, atomics;
	uint64_t one;
	bool destroy;              /* destroy the releaser before exiting */
	struct xfrag_releaser *r;  /* made and bound there */
	bool bound_after;          /* a binding left after its destroy */
};

static void *worker_thread(void *arg)
{
	struct worker *w = arg;

	w->r = xfrag_releaser__create(w->u, NULL);
	if (!w->r || xfrag_releaser__bind(w->r))
		return NULL;
	w->atomics = xfrag_umem__release_bulk(w->u, w->a, w->n);
	w->atomics += xfrag_umem__release(w->u, w->one);
	if (w->destroy) {
		xfrag_releaser__destroy(w->r);
		w->r = NULL;
		w->bound_after = __xfrag_binding_of(w->u) != NULL;
	}
	return NULL;
}

/*
 * A worker bound to its releaser: its xfrag_umem__release_bulk() and
 * xfrag_umem__release() calls send runs to the carving cache's inbox (no
 * atomic there), and the binding ends with the releaser's destroy, on the
 * worker or on another thread.
 */
TEST(bound_worker_releases_through_its_releaser)
{
	struct xfrag_umem *u = mk_umem(8, BLK);
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	struct worker w = { .u = u, .destroy = true };
	uint64_t a[64], x;
	pthread_t th;

	assert_true(c);
	expect_eq(xfrag_releaser__bind(NULL), -EINVAL);
	xfrag_releaser__unbind(NULL);
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 64), 64); /* blocks 0, 1 */
	assert_eq(xfrag_cache__alloc_burst(c, 2048, &x, 1), 1);  /* block 2 */
	w.a = a;
	w.n = 64;
	w.one = x;
	assert_eq(pthread_create(&th, NULL, worker_thread, &w), 0);
	assert_eq(pthread_join(th, NULL), 0);
	expect_eq(w.atomics, 0);
	expect_true(!w.bound_after);
	/* The three runs wait in the inbox until the cache takes them. */
	expect_census_rel(u, 5u, 1u, 0u, 0u, 2u, 0u, 65u); /* 0, 1 detached */
	expect_eq(xfrag_cache__reclaim(c), 3);
	expect_eq(c->inbox_atomics, 0);
	expect_census_rel(u, 5u, 1u, 1u, 1u, 0u, 0u, 0u);
	/* The worker exits bound; its releaser destroyed here ends every
	 * binding to the UMEM, this thread's too. */
	xfrag_cache__bind(c);
	assert_eq(xfrag_cache__alloc_burst(c, 2048, a, 8), 8);
	w = (struct worker){ .u = u, .a = a, .n = 7, .one = a[7] };
	assert_eq(pthread_create(&th, NULL, worker_thread, &w), 0);
	assert_eq(pthread_join(th, NULL), 0);
	assert_true(w.r != NULL);
	expect_true(__xfrag_bound_cache(u) == c);
	xfrag_releaser__destroy(w.r);
	expect_true(__xfrag_binding_of(u) == NULL);
	expect_eq(xfrag_cache__reclaim(c), 2);
	/* A releaser bound here, then a cache: the cache replaces it. */
	w.r = xfrag_releaser__create(u, NULL);
	assert_true(w.r != NULL);
	expect_eq(xfrag_releaser__bind(w.r), 0);
	expect_true(__xfrag_binding_of(u)->releaser == w.r);
	xfrag_cache__bind(c);
	expect_true(__xfrag_binding_of(u)->releaser == NULL);
	xfrag_releaser__unbind(w.r); /* not this thread's binding any more */
	expect_true(__xfrag_bound_cache(u) == c);
	xfrag_releaser__bind(w.r);
	xfrag_releaser__unbind(w.r);
	expect_true(__xfrag_binding_of(u) == NULL);
	xfrag_releaser__destroy(w.r);
	xfrag_cache__destroy(c);
	expect_eq(blocks_free(u), 8);
	expect_census(u, 8u, 0u, 0u, 0u, 0u);
	xfrag_umem__destroy(u);
}

TEST_MAIN(T(carve_order_and_alignment), T(variable_sizes_never_overlap),
	  T(reuse_in_place_when_all_released),
	  T(refill_from_pool_and_last_release_recycles),
	  T(drain_drops_many_references), T(bulk_release_coalesces_per_block),
	  T(owner_release_without_atomics),
	  T(census_finds_lost_duplicated_and_miscounted_blocks),
	  T(unaligned_descriptor_addresses_release),
	  T(pool_exhaustion_is_clean_and_recovers), T(alloc_bulk_all_or_nothing),
	  T(extra_references), T(no_page_cross_carving), T(bad_arguments),
	  T(defaults_and_stats), T(hugepage_policy),
	  T(bulk_release_finds_every_block_change), T(alloc_burst_pieces_and_sizes),
	  T(reuse_in_place_keeps_the_count), T(null_arguments),
	  T(cache_id_no_owner_refused), T(releaser_runs_go_to_the_carving_cache),
	  T(releaser_stock_newest_first), T(releaser_full_ring_releases_directly),
	  T(releaser_outlives_the_cache), T(releaser_and_slot_limits),
	  T(retired_blocks_come_back_without_atomics),
	  T(bound_thread_releases_through_its_cache),
	  T(bound_worker_releases_through_its_releaser))
