// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Frag tracking for -Ddebug_frags=true builds (or xfrag_umem_opts.debug_frags):
 * every carved frag is recorded, and a release of an address that was never
 * carved, a second release, a release of a frag whose block was recycled
 * since, or a block count going below zero aborts with a message naming the
 * address. The checks run before the ordinary release path, which then
 * runs unchanged. Slow by design: one mutex, one hash table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct frag_rec {
	uint64_t addr; /* UINT64_MAX: empty slot */
	uint32_t gen;  /* block generation the frag was carved in */
	int32_t refs;
};

struct xfrag_debug {
	pthread_mutex_t lock;
	struct frag_rec *tab;
	size_t cap, used;
	uint32_t *gen;  /* per block, bumped on every recycle */
	int64_t *live;  /* per block, frag references outstanding */
};

void xfrag_debug_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("xfrag debug_frags: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

int xfrag_debug_init(struct xfrag_umem *u)
{
	struct xfrag_debug *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->cap = 1024;
	d->tab = malloc(d->cap * sizeof(*d->tab));
	d->gen = calloc(u->hot.nblocks, sizeof(*d->gen));
	d->live = calloc(u->hot.nblocks, sizeof(*d->live));
	if (!d->tab || !d->gen || !d->live) {
		free(d->tab);
		free(d->gen);
		free(d->live);
		free(d);
		return -ENOMEM;
	}
	memset(d->tab, 0xff, d->cap * sizeof(*d->tab));
	pthread_mutex_init(&d->lock, NULL);
	u->dbg = d;
	u->hot.debug = 1;
	return 0;
}

void xfrag_debug_free(struct xfrag_umem *u)
{
	struct xfrag_debug *d = u->dbg;

	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d->tab);
	free(d->gen);
	free(d->live);
	free(d);
	u->dbg = NULL;
}

static size_t slot_of(const struct xfrag_debug *d, uint64_t addr)
{
	size_t i = (size_t)((addr * 0x9E3779B97F4A7C15ULL) >> 20) & (d->cap - 1);

	while (d->tab[i].addr != UINT64_MAX && d->tab[i].addr != addr)
		i = (i + 1) & (d->cap - 1);
	return i;
}

static void grow(struct xfrag_debug *d)
{
	struct frag_rec *old = d->tab;
	size_t i, oldcap = d->cap;

	d->cap *= 2;
	d->tab = malloc(d->cap * sizeof(*d->tab));
	if (!d->tab)
		xfrag_debug_fail("out of memory tracking %zu frags", d->used);
	memset(d->tab, 0xff, d->cap * sizeof(*d->tab));
	for (i = 0; i < oldcap; i++)
		if (old[i].addr != UINT64_MAX)
			d->tab[slot_of(d, old[i].addr)] = old[i];
	free(old);
}

static uint32_t blk_of(struct xfrag_umem *u, uint64_t addr)
{
	uint64_t blk = (addr & XFRAG_ADDR_MASK) >> u->hot.block_shift;

	if (blk >= u->hot.nblocks)
		xfrag_debug_fail("address 0x%llx is outside the UMEM (%llu bytes)",
				 (unsigned long long)addr,
				 (unsigned long long)u->hot.size);
	return (uint32_t)blk;
}

void __xfrag_debug_alloc(struct xfrag_cache *c, uint64_t addr, uint32_t size)
{
	struct xfrag_umem *u = c->umem;
	struct xfrag_debug *d = u->dbg;
	uint32_t blk = blk_of(u, addr);
	struct frag_rec *r;

	if (!d)
		return;
	if ((addr + size - 1) >> u->hot.block_shift != blk)
		xfrag_debug_fail("frag 0x%llx+%u crosses its block", (unsigned long long)addr, size);
	pthread_mutex_lock(&d->lock);
	if ((d->used + 1) * 10 > d->cap * 7)
		grow(d);
	r = &d->tab[slot_of(d, addr)];
	if (r->addr == addr && r->refs > 0 && r->gen == d->gen[blk])
		xfrag_debug_fail("frag 0x%llx carved twice (still live with %d refs)",
				 (unsigned long long)addr, r->refs);
	if (r->addr != addr)
		d->used++;
	r->addr = addr;
	r->gen = d->gen[blk];
	r->refs = 1;
	d->live[blk]++;
	pthread_mutex_unlock(&d->lock);
}

void xfrag_debug_ref(struct xfrag_umem *u, uint64_t addr)
{
	struct xfrag_debug *d = u->dbg;
	uint32_t blk = blk_of(u, addr);
	struct frag_rec *r;

	addr &= XFRAG_ADDR_MASK;
	pthread_mutex_lock(&d->lock);
	r = &d->tab[slot_of(d, addr)];
	if (r->addr != addr || r->gen != d->gen[blk] || r->refs <= 0)
		xfrag_debug_fail("ref of 0x%llx, which is not a live frag",
				 (unsigned long long)addr);
	r->refs++;
	d->live[blk]++;
	pthread_mutex_unlock(&d->lock);
}

/* Check one release against the table and account it; under d->lock. */
static void check_put(struct xfrag_umem *u, struct xfrag_debug *d, uint64_t addr,
		      int32_t count, bool drain)
{
	uint32_t blk = blk_of(u, addr);
	struct frag_rec *r;
	int32_t rc;

	addr &= XFRAG_ADDR_MASK;
	if (!drain) {
		r = &d->tab[slot_of(d, addr)];
		if (r->addr != addr)
			xfrag_debug_fail("release of 0x%llx, which was never allocated",
					 (unsigned long long)addr);
		if (r->gen != d->gen[blk])
			xfrag_debug_fail("stale release of 0x%llx: block %u was recycled since the frag was carved",
					 (unsigned long long)addr, blk);
		if (r->refs <= 0)
			xfrag_debug_fail("double release of 0x%llx",
					 (unsigned long long)addr);
		r->refs -= count;
	}
	rc = atomic_load(&u->hot.blocks[blk].refcnt);
	if (d->live[blk] < count || rc < count)
		xfrag_debug_fail("refcount underflow: dropping %d reference(s) at 0x%llx, block %u has %lld frag refs (count %d)",
				 count, (unsigned long long)addr, blk,
				 (long long)d->live[blk], rc);
	d->live[blk] -= count;
}

/*
 * The checks come on top of the real release, not instead of it: a debug
 * build runs the same accounting (runs, bias give-back, spare) as any other.
 */
unsigned int __xfrag_debug_put(struct xfrag_umem *u, uint64_t addr,
			       int32_t count, bool drain)
{
	struct xfrag_debug *d = u->dbg;

	pthread_mutex_lock(&d->lock);
	check_put(u, d, addr, count, drain);
	pthread_mutex_unlock(&d->lock);
	return __xfrag_block_put(u, addr, count);
}

void xfrag_debug_check_bulk(struct xfrag_umem *u, const uint64_t *addrs,
			    unsigned int n)
{
	struct xfrag_debug *d = u->dbg;
	unsigned int i;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < n; i++)
		check_put(u, d, addrs[i], 1, false);
	pthread_mutex_unlock(&d->lock);
}

static unsigned int debug_put_bulk(struct xfrag_umem *u, struct xfrag_cache *c,
				   const uint64_t *addrs, unsigned int n)
{
	uint32_t spare = c ? c->spare : XFRAG_NO_BLOCK;
	unsigned int atomics;

	xfrag_debug_check_bulk(u, addrs, n);
	atomics = __xfrag_release_runs(u, c, addrs, n);
	/* A block that just became the spare will be carved again: its old
	 * frags (some perhaps dropped by a drain) are stale from now on. */
	if (c && spare == XFRAG_NO_BLOCK && c->spare != XFRAG_NO_BLOCK)
		xfrag_debug_recycled(u, c->spare);
	return atomics;
}

unsigned int __xfrag_debug_put_bulk(struct xfrag_umem *u, const uint64_t *addrs,
				    unsigned int n)
{
	return debug_put_bulk(u, NULL, addrs, n);
}

unsigned int __xfrag_debug_cache_put_bulk(struct xfrag_cache *c,
					  const uint64_t *addrs, unsigned int n)
{
	return debug_put_bulk(c->umem, c, addrs, n);
}

/* Frag references the table counts on @blk (for the census). */
int64_t xfrag_debug_block_refs(struct xfrag_umem *u, uint32_t blk)
{
	struct xfrag_debug *d = u->dbg;
	int64_t v;

	pthread_mutex_lock(&d->lock);
	v = d->live[blk];
	pthread_mutex_unlock(&d->lock);
	return v;
}

void xfrag_debug_recycled(struct xfrag_umem *u, uint32_t blk)
{
	struct xfrag_debug *d = u->dbg;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	/* Frags a drain dropped wholesale become stale here. */
	d->gen[blk]++;
	d->live[blk] = 0;
	pthread_mutex_unlock(&d->lock);
}
