// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The UMEM region, its block table and the out-of-line release paths. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#ifdef XFRAG_HAVE_XSK
#include "xsk_internal.h"
#endif

#define HUGE_2M (2ULL << 20)
#define DEFAULT_UMEM_SIZE (16ULL << 20)

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

const char *xfrag_backing_name(uint32_t backing)
{
	switch (backing) {
	case XFRAG_BACKING_HUGETLB:
		return "hugetlb";
	case XFRAG_BACKING_THP:
		return "thp";
	case XFRAG_BACKING_PAGES:
		return "4k";
	}
	return "?";
}

static long free_hugepages(void)
{
	char line[128];
	long n = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* AnonHugePages of the mapping that starts at @p, in bytes (0 if unknown). */
static uint64_t anon_huge_bytes(const void *p)
{
	char line[256];
	unsigned long start, end;
	unsigned long long kb = 0;
	bool ours = false;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			if (ours)
				break;
			ours = start == (unsigned long)p;
		} else if (ours && sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) {
			break;
		}
	}
	fclose(f);
	return ours ? kb << 10 : 0;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/*
 * 4 KiB pages that transparent hugepages may back: map 2 MiB-aligned,
 * advise MADV_HUGEPAGE *before* touching (pages faulted in before the advice
 * stay small, and the UMEM registration pins them, so khugepaged cannot
 * collapse them later), then fault everything in. The backing reported is
 * what the kernel actually gave (AnonHugePages), not what was asked.
 */
static int map_thp(struct xfrag_umem *u, uint64_t size)
{
	uint64_t len = size + HUGE_2M, head, hp;
	uint8_t *p, *a;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	a = (uint8_t *)(((uintptr_t)p + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
	head = (uint64_t)(a - p);
	if (head)
		munmap(p, head);
	if (len - head > size)
		munmap(a + size, len - head - size);
	u->hot.area = a;
	u->map_len = size;
	madvise(a, size, MADV_HUGEPAGE); /* best effort: THP may be off */
	if (madvise(a, size, MADV_POPULATE_WRITE)) {
		for (uint64_t off = 0; off < size; off += 4096)
			a[off] = 0; /* kernels before 5.14 */
	}
	hp = anon_huge_bytes(a);
	u->backing = hp * 2 >= size ? XFRAG_BACKING_THP : XFRAG_BACKING_PAGES;
	pr_info("UMEM: %llu of %llu bytes on transparent hugepages",
		(unsigned long long)hp, (unsigned long long)size);
	return 0;
}

static int map_area(struct xfrag_umem *u, uint64_t size, uint32_t policy)
{
	void *p;

	if (policy != XFRAG_HUGE_NEVER) {
		uint64_t len = (size + HUGE_2M - 1) & ~(HUGE_2M - 1);

		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB |
				 MAP_POPULATE,
			 -1, 0);
		if (p != MAP_FAILED) {
			u->hot.area = p;
			u->map_len = len;
			u->backing = XFRAG_BACKING_HUGETLB;
			return 0;
		}
		if (policy == XFRAG_HUGE_REQUIRE) {
			pr_err("UMEM of %llu bytes needs %llu free 2 MiB hugepages, %ld are free (raise vm.nr_hugepages)",
			       (unsigned long long)size,
			       (unsigned long long)(len / HUGE_2M),
			       free_hugepages());
			return -ENOMEM;
		}
		pr_info("no hugetlb pages for the UMEM (%llu x 2 MiB needed, %ld free): using 4 KiB pages",
			(unsigned long long)(len / HUGE_2M), free_hugepages());
	}
	return map_thp(u, size);
}

struct xfrag_umem *xfrag_umem__create(const struct xfrag_umem_opts *opts)
{
	uint64_t size = DEFAULT_UMEM_SIZE;
	uint32_t block_size = XFRAG_BLOCK_DEFAULT, policy = XFRAG_HUGE_AUTO;
	bool debug = XFRAG_DEBUG_FRAGS_DEFAULT;
	struct xfrag_umem *u;
	int err;

	if (opts && !OPTS_VALID(opts, xfrag_umem_opts)) {
		errno = EINVAL;
		return NULL;
	}
	if (OPTS_GET(opts, size, 0))
		size = OPTS_GET(opts, size, 0);
	if (OPTS_GET(opts, block_size, 0))
		block_size = OPTS_GET(opts, block_size, 0);
	policy = OPTS_GET(opts, hugepages, XFRAG_HUGE_AUTO);
	if (OPTS_GET(opts, debug_frags, 0))
		debug = true;
	if (!is_pow2(block_size) || block_size < XFRAG_BLOCK_MIN ||
	    block_size > XFRAG_BLOCK_MAX) {
		pr_err("block size %u: must be a power of two from 4 KiB to 2 MiB",
		       block_size);
		errno = EINVAL;
		return NULL;
	}
	if (policy > XFRAG_HUGE_NEVER) {
		pr_err("hugepage policy %u unknown", policy);
		errno = EINVAL;
		return NULL;
	}
	if (size < block_size || size > (1ULL << 46)) {
		pr_err("UMEM size %llu: must hold at least one %u-byte block and stay below 64 TiB",
		       (unsigned long long)size, block_size);
		errno = EINVAL;
		return NULL;
	}
	size = (size + block_size - 1) & ~(uint64_t)(block_size - 1);
	if ((size >> __builtin_ctz(block_size)) >= XFRAG_NO_BLOCK) {
		pr_err("UMEM size %llu: more than 2^32 - 1 blocks of %u bytes; use larger blocks",
		       (unsigned long long)size, block_size);
		errno = EINVAL;
		return NULL;
	}

	u = xfrag_zalloc_lines(sizeof(*u));
	if (!u) {
		errno = ENOMEM;
		return NULL;
	}
	u->block_size = block_size;
	u->hot.size = size;
	u->hot.block_shift = (uint32_t)__builtin_ctz(block_size);
	u->hot.nblocks = (uint32_t)(size >> u->hot.block_shift);
	u->hot.blocks = aligned_alloc(XFRAG_CACHELINE,
				      ((size_t)u->hot.nblocks * sizeof(struct xfrag_block) +
				       XFRAG_CACHELINE - 1) & ~(size_t)(XFRAG_CACHELINE - 1));
	if (!u->hot.blocks) {
		err = -ENOMEM;
		goto err_free;
	}
	err = map_area(u, size, policy);
	if (err)
		goto err_blocks;
	/*
	 * A fork() must not share or copy the packet memory: the kernel (or a
	 * NIC) writes it behind the page tables' back, and private hugetlb
	 * pages cannot even be duplicated without a reserve (fork fails).
	 */
	madvise(u->hot.area, u->map_len, MADV_DONTFORK);
	xfrag_pool_init(u);
	xfrag_bind_renew(u); /* no stale binding matches a new UMEM */
	atomic_init(&u->refs, 1);
	pthread_mutex_init(&u->lock, NULL);
#ifdef XFRAG_HAVE_XSK
	u->ops = &xfrag_kernel_ops;
#endif
	pthread_mutex_init(&u->caches_lock, NULL);
	err = xfrag_release_init(u);
	if (err)
		goto err_unmap;
	if (debug) {
		err = xfrag_debug_init(u);
		if (err)
			goto err_release;
	}
	pr_debug("UMEM %llu bytes, %u blocks of %u, backing %s",
		 (unsigned long long)size, u->hot.nblocks, block_size,
		 xfrag_backing_name(u->backing));
	return u;

err_release:
	xfrag_release_free(u);
err_unmap:
	pthread_mutex_destroy(&u->lock);
	pthread_mutex_destroy(&u->caches_lock);
	munmap(u->hot.area, u->map_len);
err_blocks:
	free(u->hot.blocks);
err_free:
	free(u);
	errno = -err;
	return NULL;
}

static void umem_free(struct xfrag_umem *u)
{
#ifdef XFRAG_HAVE_XSK
	struct xfrag_quarantine *q, *next;

	/*
	 * Chunks still in quarantine: the kernel may still write them, but
	 * it pinned the pages; unmapping ours is safe, reusing them is not.
	 */
	for (q = u->quarantine; q; q = next) {
		next = q->next;
		free(q->held);
		free(q);
	}
#endif
	xfrag_debug_free(u);
	xfrag_release_free(u);
	pthread_mutex_destroy(&u->lock);
	pthread_mutex_destroy(&u->caches_lock);
	free(u->caches); /* caches still alive are the caller's bug */
	munmap(u->hot.area, u->map_len);
	free(u->hot.blocks);
	free(u);
}

void xfrag_umem_get(struct xfrag_umem *u)
{
	atomic_fetch_add_explicit(&u->refs, 1, memory_order_relaxed);
}

void xfrag_umem_put(struct xfrag_umem *u)
{
	/* acq_rel: every queue's last writes happen before the unmap. */
	if (atomic_fetch_sub_explicit(&u->refs, 1, memory_order_acq_rel) == 1)
		umem_free(u);
}

void xfrag_umem__destroy(struct xfrag_umem *u)
{
	uint32_t refs;

	if (!u)
		return;
	refs = atomic_load_explicit(&u->refs, memory_order_relaxed);
	if (refs > 1)
		pr_info("UMEM destroy deferred: %u queue(s) still use it; the last one to be destroyed unmaps it",
			refs - 1);
	xfrag_umem_put(u);
}

int xfrag_umem__stats(const struct xfrag_umem *cu, struct xfrag_umem_stats *s)
{
	struct xfrag_umem *u = (struct xfrag_umem *)cu;
	uint32_t i, nfree = 0;

	if (!u || !s)
		return -EINVAL;
	/*
	 * In the pool <=> count zero and no owner (but for a moment around a
	 * push or pop). A spare has count zero too, but push has not cleared
	 * the owner of its last carving.
	 */
	for (i = 0; i < u->hot.nblocks; i++)
		nfree += atomic_load_explicit(&u->hot.blocks[i].refcnt,
					      memory_order_relaxed) == 0 &&
			 atomic_load_explicit(&u->hot.blocks[i].owner,
					      memory_order_relaxed) == XFRAG_NO_OWNER;

	memset(s, 0, sizeof(*s));
	s->size = u->hot.size;
	s->block_size = u->block_size;
	s->nblocks = u->hot.nblocks;
	s->blocks_free = nfree;
	s->blocks_in_use = u->hot.nblocks - nfree;
	s->backing = u->backing;
	s->hugepages_needed = (uint32_t)((u->hot.size + HUGE_2M - 1) / HUGE_2M);
	s->pool_empty = atomic_load_explicit(&u->pool.empty, memory_order_relaxed);
	s->bad_release = atomic_load_explicit(&u->pool.bad_release,
					      memory_order_relaxed);
	return 0;
}

int xfrag_umem__ref(struct xfrag_umem *u, uint64_t addr)
{
	uint64_t blk;

	if (!u)
		return -EINVAL;
	blk = (addr & XFRAG_ADDR_MASK) >> u->hot.block_shift;
	if (blk >= u->hot.nblocks)
		return -EINVAL;
	if (u->hot.debug)
		xfrag_debug_ref(u, addr);
	atomic_fetch_add_explicit(&u->hot.blocks[blk].refcnt, 1,
				  memory_order_relaxed);
	return 0;
}

void __xfrag_block_recycle(struct xfrag_umem *u, uint32_t blk)
{
	if (xfrag_unlikely(u->hot.debug))
		xfrag_debug_recycled(u, blk);
	xfrag_pool_push(u, blk);
}

unsigned int __xfrag_block_bad(struct xfrag_umem *u, uint64_t addr,
			       int32_t count, int32_t after)
{
	atomic_fetch_add_explicit(&u->pool.bad_release, 1, memory_order_relaxed);
	if (u->hot.debug) {
		if (after < 0 && (addr & XFRAG_ADDR_MASK) >> u->hot.block_shift >=
					 u->hot.nblocks)
			xfrag_debug_fail("release of address 0x%llx outside the UMEM (%llu bytes)",
					 (unsigned long long)addr,
					 (unsigned long long)u->hot.size);
		xfrag_debug_fail("refcount underflow on block %llu: releasing %d reference(s) at 0x%llx left %d",
				 (unsigned long long)((addr & XFRAG_ADDR_MASK) >>
						      u->hot.block_shift),
				 count, (unsigned long long)addr, after);
	}
	/* Release builds cannot stop here; the count says it happened. */
	return after < 0 && (addr & XFRAG_ADDR_MASK) >> u->hot.block_shift >=
				    u->hot.nblocks ? 0 : 1;
}
