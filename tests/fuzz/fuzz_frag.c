// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz the frag allocator against a shadow model: random alloc / burst /
 * release / bulk release / release through a releaser / ref / drain /
 * flush / reclaim / cache restart / thread binding sequences on two caches
 * over a tiny UMEM (while bound, the any-thread releases take the cache's
 * or the releaser's path).
 * Checks: no two live frags overlap, every frag stays inside its block,
 * alignment holds, each block's count equals the references the model says
 * are live (plus the owning cache's bias, plus the references a releaser's
 * runs still carry to their cache), the census finds every block once,
 * errors happen exactly for bad arguments or an empty pool, and all blocks
 * return at the end.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "xfrag/xfrag.h"

#define BLK 4096u
#define NBLK 4u
#define UMEM (BLK * NBLK)
#define MAXLIVE 512

struct frag {
	uint64_t addr;
	uint32_t size;
	int32_t refs;
};

static struct frag live[MAXLIVE];
static int nlive;

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_frag: check failed: %s (line %d)\n", #c, __LINE__); \
			abort();                                              \
		}                                                             \
	} while (0)

static void add_frag(uint64_t addr, uint32_t size)
{
	CHECK(addr + size <= UMEM);
	CHECK(addr / BLK == (addr + size - 1) / BLK);
	/* no byte of it in a live frag */
	for (int i = 0; i < nlive; i++)
		CHECK(addr + size <= live[i].addr || live[i].addr + live[i].size <= addr);
	live[nlive++] = (struct frag){ addr, size, 1 };
}

static void drop_slot(int k)
{
	if (k != --nlive)
		live[k] = live[nlive];
}

/* Up to @want references of random live frags into @a, for a release;
 * the input bytes at *@p choose which. */
static int pick_refs(uint64_t *a, int want, const uint8_t *data, size_t size, size_t *p)
{
	int n = 0;

	while (n < want && nlive) {
		int k = (*p < size ? data[(*p)++] : 0) % nlive;

		a[n++] = live[k].addr;
		if (--live[k].refs == 0)
			drop_slot(k);
	}
	return n;
}

static void check_counts(struct xfrag_umem *u, struct xfrag_cache **c, bool census)
{
	int64_t want[NBLK] = { 0 }, transit[NBLK] = { 0 };
	struct xfrag_census cs;

	for (int i = 0; i < nlive; i++)
		want[live[i].addr / BLK] += live[i].refs;
	pthread_mutex_lock(&u->caches_lock);
	xfrag_rings_pending(u, transit);
	pthread_mutex_unlock(&u->caches_lock);
	for (uint32_t b = 0; b < NBLK; b++) {
		int64_t have = atomic_load(&xfrag_umem__hot(u)->blocks[b].refcnt);

		for (int k = 0; k < 2; k++) {
			if (c[k]->block == b)
				have -= c[k]->bias;
			for (uint32_t j = 0; j < c[k]->nretired; j++)
				if (c[k]->retired[j].block == b)
					have -= c[k]->retired[j].bias;
		}
		CHECK(have - transit[b] == want[b]);
	}
	if (!census)
		return;
	CHECK(xfrag_census(u, &cs, NULL) == 0);
	CHECK(cs.live_refs == (uint64_t)(want[0] + want[1] + want[2] + want[3]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	XFRAG_OPTS(xfrag_umem_opts, o, .size = UMEM, .block_size = BLK,
		   .hugepages = XFRAG_HUGE_NEVER);
	struct xfrag_umem *u = xfrag_umem__create(&o);
	struct xfrag_cache *c[2];
	struct xfrag_releaser *rel;
	struct xfrag_umem_stats st;
	size_t p = 0;

	CHECK(u);
	c[0] = xfrag_cache__create(u, NULL);
	XFRAG_OPTS(xfrag_cache_opts, co, .id = 1, .no_page_cross = 1);
	c[1] = xfrag_cache__create(u, &co);
	rel = xfrag_releaser__create(u, NULL);
	CHECK(c[0] && c[1] && rel);
	nlive = 0;

#define NEXT() (p < size ? data[p++] : 0)
	while (p < size) {
		uint8_t op = NEXT();
		struct xfrag_cache *cc = c[op >> 7];

		switch (op % 12) {
		case 0:
		case 1:
		case 2: { /* alloc */
			uint32_t hi = NEXT();
			uint32_t sz = hi << 5 | (NEXT() & 31);
			uint32_t al = (NEXT() % 16);
			uint32_t align = al < 13 ? (al ? 1u << (al - 1) : 0) : 3 * al;
			uint64_t a;
			int err, bad;

			if (nlive >= MAXLIVE)
				break;
			err = xfrag_cache__alloc(cc, sz, align, &a);
			bad = sz == 0 || sz > cc->max_size ||
			      (align & (align - 1)) || align > cc->max_size;
			if (bad) {
				CHECK(err == -EINVAL);
				break;
			}
			CHECK(err == 0 || err == -ENOBUFS);
			if (err)
				break;
			if (align)
				CHECK(a % align == 0);
			if (cc->page_mask)
				CHECK(a / 4096 == (a + sz - 1) / 4096);
			add_frag(a, sz);
			break;
		}
		case 3: { /* burst */
			uint64_t a[16];
			uint32_t sz = 64u * (1 + NEXT() % 64);
			unsigned int n = 1 + NEXT() % 16;
			int got;

			if (nlive + 16 >= MAXLIVE)
				break;
			got = xfrag_cache__alloc_burst(cc, sz, a, n);
			if (sz > cc->max_size) {
				CHECK(got == -EINVAL);
				break;
			}
			CHECK(got >= 0 && (unsigned int)got <= n);
			for (int i = 0; i < got; i++)
				add_frag(a[i], sz);
			break;
		}
		case 4: /* release one */
			if (nlive) {
				int k = NEXT() % nlive;

				xfrag_umem__release(u, live[k].addr);
				if (--live[k].refs == 0)
					drop_slot(k);
			}
			break;
		case 5: { /* bulk release of several distinct frags */
			uint64_t a[32];
			int n = pick_refs(a, NEXT() % 32, data, size, &p);

			/* Half of them on a cache's thread: bias and spare paths. */
			if (op & 0x40)
				xfrag_cache__release_bulk(cc, a, (unsigned int)n);
			else
				xfrag_umem__release_bulk(u, a, (unsigned int)n);
			break;
		}
		case 6: /* extra reference */
			if (nlive) {
				int k = NEXT() % nlive;

				CHECK(xfrag_umem__ref(u, live[k].addr) == 0);
				live[k].refs++;
			}
			break;
		case 7: { /* drain every reference of one block's frags */
			if (!nlive)
				break;
			uint64_t blk = live[NEXT() % nlive].addr / BLK;
			int32_t refs = 0;

			for (int k = 0; k < nlive;) {
				if (live[k].addr / BLK == blk) {
					refs += live[k].refs;
					drop_slot(k);
				} else {
					k++;
				}
			}
			xfrag_umem__drain(u, blk * BLK, refs);
			break;
		}
		case 8: {
			const struct __xfrag_binding *b = __xfrag_binding_of(u);

			if (!(op & 0x40))
				xfrag_cache__flush(cc);
			else if (b && b->cache)
				xfrag_cache__unbind(b->cache);
			else if (b)
				xfrag_releaser__unbind(b->releaser);
			else if (op & 0x20)
				CHECK(xfrag_releaser__bind(rel) == 0);
			else
				CHECK(xfrag_cache__bind(cc) == 0);
			break;
		}
		case 9: { /* through the releaser: runs to the carving caches */
			uint64_t a[32];
			int n = pick_refs(a, NEXT() % 32, data, size, &p);

			xfrag_releaser__release_bulk(rel, a, (unsigned int)n);
			break;
		}
		case 10: /* the owner takes them now, or the releaser flushes */
			if (op & 0x40)
				xfrag_releaser__flush(rel);
			else
				CHECK(xfrag_cache__reclaim(cc) >= 0);
			break;
		case 11: /* a new cache where the old one was; its frags live on
			  * (now and then: ASan's quarantine keeps what is freed) */
			if (NEXT() % 8)
				break;
			if (op & 0x40) {
				xfrag_cache__destroy(cc);
				cc = xfrag_cache__create(u, op >> 7 ? &co : NULL);
				CHECK(cc);
				c[op >> 7] = cc;
			} else {
				xfrag_releaser__destroy(rel);
				rel = xfrag_releaser__create(u, NULL);
				CHECK(rel);
			}
			break;
		}
		/* the census (slow) now and then, and after restarts */
		check_counts(u, c, op % 12 == 11 || p % 32 == 0);
	}
	/* Release everything; every block must come home. */
	while (nlive) {
		xfrag_umem__release(u, live[0].addr);
		if (--live[0].refs == 0)
			drop_slot(0);
	}
	/* Either order: runs for live caches wait in the rings either way. */
	if (size & 1)
		xfrag_releaser__destroy(rel);
	xfrag_cache__destroy(c[0]);
	xfrag_cache__destroy(c[1]);
	if (!(size & 1))
		xfrag_releaser__destroy(rel);
	/* The destroys ended any binding. */
	CHECK(__xfrag_binding_of(u) == NULL);
	xfrag_umem__stats(u, &st);
	CHECK(st.blocks_free == st.nblocks);
	CHECK(st.bad_release == 0);
	xfrag_umem__destroy(u);
	return 0;
}
