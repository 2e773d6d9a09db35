// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xfrag-bench alloc: the frag allocator against DPDK's rte_mempool and the
 * fixed-frame free stack that every AF_XDP example uses, all in one
 * process, every row interleaved with the others in each repetition.
 *
 * An op is one buffer allocated and released. Rows, by case:
 *   single  xfrag: carve a batch (alloc_burst), release it through the
 *           any-thread path (umem__release_bulk) | the same on a thread
 *           bound to the cache (cache__bind) | the free stack | DPDK |
 *           DPDK on a thread without an lcore cache (the ring each way)
 *   owner   xfrag: the same, released through the carving cache
 *           (cache__release_bulk) | the free stack | DPDK
 *   cross   carve on CPU 0, release on CPU 1, batches through an SPSC ring
 *           (the page_frag selftest shape): xfrag with a releaser on CPU 1
 *           | xfrag with the shared release path | the ring alone (the
 *           floor) | DPDK (get_bulk -> ring -> put_bulk, the consumer
 *           registered for an lcore cache) | the free stack behind a
 *           spinlock
 *   mixed   xfrag: random sizes 64 B .. 4 KiB, one alloc call each | the
 *           free stack of 4 KiB frames
 * Instructions: scripts/callgrind-alloc.sh runs each row alone under
 * callgrind (--only ROW): counts that a shared machine does not disturb.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "params.h"
#include "xfrag/xfrag.h"

/* ------------------------------------------------- baseline free stack -- */

/* The classic AF_XDP frame allocator: a stack of free frame addresses. */
struct frame_stack {
	uint64_t *addrs;
	uint32_t n, cap;
};

static int stack_init(struct frame_stack *s, uint64_t umem, uint32_t frame)
{
	uint32_t i;

	s->cap = (uint32_t)(umem / frame);
	s->addrs = malloc(sizeof(uint64_t) * s->cap);
	if (!s->addrs)
		return -ENOMEM;
	for (i = 0; i < s->cap; i++)
		s->addrs[i] = (uint64_t)i * frame;
	s->n = s->cap;
	return 0;
}

static inline uint64_t stack_pop(struct frame_stack *s)
{
	return s->n ? s->addrs[--s->n] : UINT64_MAX;
}

static inline void stack_push(struct frame_stack *s, uint64_t a)
{
	s->addrs[s->n++] = a;
}

static uint32_t stack_frame(const struct alloc_opts *o)
{
	return o->size >= 2048 ? 4096 : 2048;
}

/* ------------------------------------------------------------ the rows -- */

struct bench {
	const struct alloc_opts *o;
	struct xfrag_umem *u;
	const uint32_t *sizes; /* mixed */
	double mixed_bytes_per_frag;
};

static uint64_t sink;

/* Atomic RMWs a cache's slow paths did: drains, a CAS for each pool pop
 * plus the one that pushed that block back, and what the runs releasers
 * sent took. */
static uint64_t cache_atomics(const struct xfrag_cache *c)
{
	return c->drains + 2 * c->pool_takes + c->inbox_atomics;
}

/* The measured loops stay out of line so that callgrind can name them. */
__attribute__((noinline)) static int xfrag_loop(struct xfrag_cache *c,
						uint32_t size, uint32_t batch,
						uint64_t iters, bool owner,
						uint64_t *atomics)
{
	struct xfrag_umem *u = c->umem;
	uint64_t addrs[ALLOC_MAX_BATCH], acc = 0, natomic = 0, i;

	for (i = 0; i < iters; i++) {
		int n = xfrag_cache__alloc_burst(c, size, addrs, batch);

		/* cmd_alloc() sized the UMEM for a batch: a dry pool is a bug. */
		if (n <= 0) {
			fprintf(stderr, "alloc: the pool ran dry after %llu batches\n",
				(unsigned long long)i);
			return -1;
		}
		acc += addrs[n - 1];
		natomic += owner ? xfrag_cache__release_bulk(c, addrs, (unsigned int)n) :
				   xfrag_umem__release_bulk(u, addrs, (unsigned int)n);
	}
	sink += acc;
	*atomics += natomic;
	return 0;
}

static int run_xfrag(struct bench *b, struct sample *s, bool owner, bool bind)
{
	const struct alloc_opts *o = b->o;
	struct xfrag_cache *c = xfrag_cache__create(b->u, NULL);
	uint64_t iters = o->ops / o->batch, natomic = 0, base, t0, t1;
	int err;

	if (!c)
		return -1;
	/* DPDK's row has its lcore cache: the bound row is the same model. */
	if (bind)
		xfrag_cache__bind(c);
	/* warm up: take the block, fault the table in */
	err = xfrag_loop(c, o->size, o->batch, 1000, owner, &natomic);
	natomic = 0;
	base = cache_atomics(c);
	t0 = now_ns();
	if (!err)
		err = xfrag_loop(c, o->size, o->batch, iters, owner, &natomic);
	t1 = now_ns();
	natomic += cache_atomics(c) - base;
	s->atomics = (double)natomic / (double)(iters * o->batch);
	s->ns = (double)(t1 - t0) / (double)(iters * o->batch);
	xfrag_cache__destroy(c); /* and its binding */
	return err;
}

static int run_single(struct bench *b, struct sample *s)
{
	return run_xfrag(b, s, false, false);
}

static int run_bound(struct bench *b, struct sample *s)
{
	return run_xfrag(b, s, false, true);
}

static int run_owner(struct bench *b, struct sample *s)
{
	return run_xfrag(b, s, true, false);
}

__attribute__((noinline)) static void stack_loop(struct frame_stack *st,
						 uint32_t batch, uint64_t iters)
{
	uint64_t addrs[ALLOC_MAX_BATCH], acc = 0, i;
	uint32_t j;

	for (i = 0; i < iters; i++) {
		for (j = 0; j < batch; j++)
			addrs[j] = stack_pop(st);
		acc += addrs[batch - 1];
		for (j = 0; j < batch; j++)
			stack_push(st, addrs[j]);
	}
	sink += acc;
}

static int run_stack(struct bench *b, struct sample *s)
{
	const struct alloc_opts *o = b->o;
	uint64_t iters = o->ops / o->batch, t0, t1;
	struct frame_stack st;

	if (stack_init(&st, o->umem_size, stack_frame(o)))
		return -1;
	t0 = now_ns();
	stack_loop(&st, o->batch, iters);
	t1 = now_ns();
	s->ns = (double)(t1 - t0) / (double)(iters * o->batch);
	s->atomics = 0;
	free(st.addrs);
	return 0;
}

/* ---------------------------------------------------------- cross thread -- */

struct xring *xring_new(void)
{
	struct xring *r = aligned_alloc(64, sizeof(*r));

	if (r)
		memset(r, 0, sizeof(*r));
	return r;
}

enum cross_kind { X_RELEASER, X_BOUND, X_SHARED, X_RING, X_STACK };

struct cross_ctx {
	struct xring *r;
	enum cross_kind kind;
	struct xfrag_umem *u;
	struct frame_stack *stack;
	pthread_spinlock_t *lock;
	uint64_t batches;
	uint64_t atomics, acc;
};

static void *cross_consumer(void *arg)
{
	struct cross_ctx *x = arg;
	struct xfrag_releaser *rel = NULL;
	uint64_t b, acc = 0, atomics = 0;
	uint32_t j;

	pin_cpu(1);
	/* The releasing thread's context, as a DPDK worker's lcore cache;
	 * bound, what the thread's any-thread calls use. */
	if ((x->kind == X_RELEASER || x->kind == X_BOUND) &&
	    !(rel = xfrag_releaser__create(x->u, NULL))) {
		perror("alloc: xfrag_releaser__create");
		abort();
	}
	if (x->kind == X_BOUND)
		xfrag_releaser__bind(rel);
	for (b = 0; b < x->batches; b++) {
		struct xring_slot *sl = xring_wait_full(x->r);
		uint32_t n = (uint32_t)sl->n;

		switch (x->kind) {
		case X_RELEASER:
			atomics += xfrag_releaser__release_bulk(rel, sl->h, n);
			break;
		case X_BOUND:
		case X_SHARED:
			atomics += xfrag_umem__release_bulk(x->u, sl->h, n);
			break;
		case X_RING:
			/* Read every handle, as a release does. */
			for (j = 0; j < n; j++)
				acc += sl->h[j];
			break;
		case X_STACK:
			pthread_spin_lock(x->lock);
			for (j = 0; j < n; j++)
				stack_push(x->stack, sl->h[j]);
			pthread_spin_unlock(x->lock);
			break;
		}
		xring_pop(x->r);
	}
	xfrag_releaser__destroy(rel);
	/* Written once: the producer reads this struct in its loop, and a
	 * line written per batch would be one more transfer per batch that
	 * the DPDK row does not pay. */
	x->acc = acc;
	x->atomics = atomics;
	return NULL;
}

static int run_cross_kind(struct bench *b, struct sample *s, enum cross_kind kind)
{
	const struct alloc_opts *o = b->o;
	struct frame_stack st = { 0 };
	pthread_spinlock_t lock;
	struct cross_ctx x = { .r = xring_new(), .kind = kind, .u = b->u,
			       .stack = &st, .lock = &lock,
			       .batches = o->ops / o->batch };
	struct xfrag_cache *c = NULL;
	uint64_t n, t0, t1, next = 0;
	pthread_t th;
	uint32_t j;

	if (!x.r)
		return -1;
	pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE);
	if (kind == X_RELEASER || kind == X_BOUND || kind == X_SHARED) {
		c = xfrag_cache__create(b->u, NULL);
		if (!c)
			goto fail;
	} else if (kind == X_STACK && stack_init(&st, o->umem_size, stack_frame(o))) {
		goto fail;
	}
	pin_cpu(0);
	pthread_create(&th, NULL, cross_consumer, &x);
	t0 = now_ns();
	for (n = 0; n < x.batches;) {
		struct xring_slot *sl = xring_wait_room(x.r);
		uint32_t got = 0;

		switch (kind) {
		case X_RELEASER:
		case X_BOUND:
		case X_SHARED: {
			int k;

			/* The pool may run dry while the consumer lags. */
			while ((k = xfrag_cache__alloc_burst(c, o->size, sl->h, o->batch)) <= 0)
				cpu_relax();
			got = (uint32_t)k;
			break;
		}
		case X_RING:
			/* Handles as a burst carves them: one store each. */
			for (j = 0; j < o->batch; j++)
				sl->h[j] = next + (uint64_t)j * o->size;
			next += 1ull << 20;
			got = o->batch;
			break;
		case X_STACK:
			pthread_spin_lock(&lock);
			for (j = 0; j < o->batch && st.n; j++)
				sl->h[got++] = stack_pop(&st);
			pthread_spin_unlock(&lock);
			if (!got) {
				cpu_relax();
				continue;
			}
			break;
		}
		sl->n = got;
		xring_publish(x.r);
		n++;
	}
	pthread_join(th, NULL);
	t1 = now_ns();
	sink += x.acc;
	s->ns = (double)(t1 - t0) / (double)(x.batches * o->batch);
	s->atomics = -1;
	if (c) {
		/* what the releaser's runs still hold back */
		xfrag_cache__reclaim(c);
		s->atomics = (double)(x.atomics + cache_atomics(c)) /
			     (double)(x.batches * o->batch);
		xfrag_cache__destroy(c);
	}
	free(st.addrs);
	free(x.r);
	return 0;
fail:
	free(x.r);
	return -1;
}

static int run_cross(struct bench *b, struct sample *s)
{
	return run_cross_kind(b, s, X_RELEASER);
}

static int run_cross_bound(struct bench *b, struct sample *s)
{
	return run_cross_kind(b, s, X_BOUND);
}

static int run_cross_shared(struct bench *b, struct sample *s)
{
	return run_cross_kind(b, s, X_SHARED);
}

static int run_ring(struct bench *b, struct sample *s)
{
	return run_cross_kind(b, s, X_RING);
}

static int run_stack_cross(struct bench *b, struct sample *s)
{
	return run_cross_kind(b, s, X_STACK);
}

/* ---------------------------------------------------------------- mixed -- */

__attribute__((noinline)) static int mixed_loop(struct xfrag_cache *c,
						const uint32_t *sizes,
						uint32_t batch, uint64_t iters,
						uint64_t *atomics)
{
	uint64_t addrs[ALLOC_MAX_BATCH], natomic = 0, i, k = 0;
	uint32_t j;

	for (i = 0; i < iters; i++) {
		for (j = 0; j < batch; j++)
			if (xfrag_cache__alloc(c, sizes[k++ & 4095], 64, &addrs[j])) {
				fprintf(stderr, "alloc: the pool ran dry after %llu batches\n",
					(unsigned long long)i);
				xfrag_umem__release_bulk(c->umem, addrs, j);
				return -1;
			}
		natomic += xfrag_umem__release_bulk(c->umem, addrs, batch);
	}
	*atomics += natomic;
	return 0;
}

static int run_mixed(struct bench *b, struct sample *s)
{
	const struct alloc_opts *o = b->o;
	struct xfrag_cache *c = xfrag_cache__create(b->u, NULL);
	uint64_t iters = o->ops / o->batch, natomic = 0, t0, t1;
	int err;

	if (!c)
		return -1;
	t0 = now_ns();
	err = mixed_loop(c, b->sizes, o->batch, iters, &natomic);
	t1 = now_ns();
	natomic += cache_atomics(c);
	s->atomics = (double)natomic / (double)(iters * o->batch);
	s->ns = (double)(t1 - t0) / (double)(iters * o->batch);
	/* UMEM actually consumed per frag: blocks carved / frags carved. */
	b->mixed_bytes_per_frag = (double)(c->refills + 1) * (double)o->block_size /
				  (double)xfrag_cache__allocs(c);
	xfrag_cache__destroy(c);
	return err;
}

__attribute__((noinline)) static void stack_mixed_loop(struct frame_stack *st,
						       const uint32_t *sizes,
						       uint32_t batch, uint64_t iters)
{
	uint64_t addrs[ALLOC_MAX_BATCH], acc = 0, i, k = 0;
	uint32_t j;

	for (i = 0; i < iters; i++) {
		for (j = 0; j < batch; j++) {
			addrs[j] = stack_pop(st);
			acc += sizes[k++ & 4095];
		}
		for (j = 0; j < batch; j++)
			stack_push(st, addrs[j]);
	}
	sink += acc;
}

static int run_stack_mixed(struct bench *b, struct sample *s)
{
	const struct alloc_opts *o = b->o;
	uint64_t iters = o->ops / o->batch, t0, t1;
	struct frame_stack st;

	/* Fixed frames must be as large as the largest frag. */
	if (stack_init(&st, o->umem_size, 4096))
		return -1;
	t0 = now_ns();
	stack_mixed_loop(&st, b->sizes, o->batch, iters);
	t1 = now_ns();
	s->ns = (double)(t1 - t0) / (double)(iters * o->batch);
	s->atomics = 0;
	free(st.addrs);
	return 0;
}

/* ----------------------------------------------------------------- DPDK -- */

#ifdef XFRAG_BENCH_DPDK
static int run_dpdk(struct bench *b, struct sample *s)
{
	return dpdk_setup(b->o) ? -1 : dpdk_run_single(b->o, s);
}

static int run_dpdk_nocache(struct bench *b, struct sample *s)
{
	return dpdk_setup(b->o) ? -1 : dpdk_run_nocache(b->o, s);
}

static int run_dpdk_cross(struct bench *b, struct sample *s)
{
	return dpdk_setup(b->o) ? -1 : dpdk_run_cross(b->o, s);
}
#endif

/* ----------------------------------------------------------------- main -- */

enum row_id {
	R_SINGLE, R_BOUND, R_OWNER, R_STACK, R_DPDK, R_DPDK_NOCACHE,
	R_CROSS, R_CROSS_BOUND, R_CROSS_SHARED, R_RING, R_DPDK_CROSS, R_STACK_CROSS,
	R_MIXED, R_STACK_MIXED, R_NR,
};

struct row {
	const char *name;
	const char *what;
	int (*run)(struct bench *b, struct sample *s);
	int vs; /* the row this one is compared with, or -1 */
};

static const struct row rows[R_NR] = {
	[R_SINGLE] = { "single", "xfrag: alloc_burst + umem__release_bulk", run_single, R_DPDK },
	[R_BOUND] = { "bound", "xfrag: the same, the thread bound to the cache", run_bound,
		      R_DPDK },
	[R_OWNER] = { "owner", "xfrag: alloc_burst + cache__release_bulk", run_owner, R_DPDK },
	[R_STACK] = { "stack", "free stack, one frame per call", run_stack, R_DPDK },
#ifdef XFRAG_BENCH_DPDK
	[R_DPDK] = { "dpdk", "DPDK mempool get_bulk + put_bulk", run_dpdk, -1 },
	[R_DPDK_NOCACHE] = { "dpdk-nocache", "DPDK, a thread without an lcore cache",
			     run_dpdk_nocache, R_DPDK },
#else
	[R_DPDK] = { "dpdk", "DPDK mempool (not built: no libdpdk)", NULL, -1 },
	[R_DPDK_NOCACHE] = { "dpdk-nocache", "DPDK (not built: no libdpdk)", NULL, -1 },
#endif
	[R_CROSS] = { "cross", "xfrag: CPU 0 alloc_burst, CPU 1 releaser__release_bulk",
		      run_cross, R_DPDK_CROSS },
	[R_CROSS_BOUND] = { "cross-bound", "xfrag: CPU 1 bound to a releaser, umem__release_bulk",
			    run_cross_bound, R_DPDK_CROSS },
	[R_CROSS_SHARED] = { "cross-shared", "xfrag: CPU 0 alloc_burst, CPU 1 umem__release_bulk",
			     run_cross_shared, R_DPDK_CROSS },
	[R_RING] = { "ring", "the SPSC ring alone (the floor)", run_ring, R_DPDK_CROSS },
#ifdef XFRAG_BENCH_DPDK
	[R_DPDK_CROSS] = { "dpdk-cross", "DPDK: CPU 0 get_bulk, CPU 1 put_bulk",
			   run_dpdk_cross, -1 },
#else
	[R_DPDK_CROSS] = { "dpdk-cross", "DPDK (not built: no libdpdk)", NULL, -1 },
#endif
	[R_STACK_CROSS] = { "stack-cross", "free stack behind a spinlock",
			    run_stack_cross, R_DPDK_CROSS },
	[R_MIXED] = { "mixed", "xfrag: 64 B..4 KiB, one alloc call each", run_mixed,
		      R_STACK_MIXED },
	[R_STACK_MIXED] = { "stack-mixed", "free stack of 4 KiB frames", run_stack_mixed, -1 },
};

/* The rows each case adds, in the order they are printed. */
static const struct {
	const char *name;
	int rows[8];
} cases[] = {
	{ "single", { R_SINGLE, R_BOUND, R_STACK, R_DPDK, R_DPDK_NOCACHE, -1 } },
	{ "owner", { R_OWNER, R_STACK, R_DPDK, -1 } },
	{ "cross", { R_CROSS, R_CROSS_BOUND, R_CROSS_SHARED, R_RING, R_DPDK_CROSS,
		     R_STACK_CROSS, -1 } },
	{ "mixed", { R_MIXED, R_STACK_MIXED, -1 } },
};

static int row_by_name(const char *s, size_t len)
{
	for (int i = 0; i < R_NR; i++)
		if (strlen(rows[i].name) == len && !strncmp(rows[i].name, s, len))
			return i;
	return -1;
}

/* Mark the rows of a comma-separated list of cases (or, with @as_rows,
 * of rows); 0, or -1 after naming the bad word. */
static int select_rows(const char *list, bool as_rows, bool *sel)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		int found = 0;

		if (as_rows) {
			int r = row_by_name(p, len);

			if (r >= 0) {
				sel[r] = true;
				found = 1;
			}
		} else {
			for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
				if (strlen(cases[c].name) != len || strncmp(cases[c].name, p, len))
					continue;
				for (int k = 0; cases[c].rows[k] >= 0; k++)
					sel[cases[c].rows[k]] = true;
				found = 1;
			}
		}
		if (!found) {
			fprintf(stderr, as_rows ?
				"alloc: unknown row '%.*s' (single, bound, owner, stack, dpdk, dpdk-nocache, cross, cross-bound, cross-shared, ring, dpdk-cross, stack-cross, mixed, stack-mixed)\n" :
				"alloc: unknown case '%.*s' (single, owner, cross, mixed)\n",
				(int)len, p);
			return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double t[99];

	memcpy(t, v, sizeof(*v) * (size_t)n);
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	return t[n / 2];
}

/* The median of the per-repetition ratios: rows of one repetition ran
 * side by side, so this cancels the machine's slower drifts. */
static double ratio(const double *v, const double *ref, int n)
{
	double q[99];

	for (int i = 0; i < n; i++)
		q[i] = v[i] / ref[i];
	return median(q, n);
}

static double vmin(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static double vmax(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

/*
 * The smallest UMEM every case can run in: the free stack must hold a
 * batch of its frames, and xfrag a batch of the largest frags (mixed: 4096)
 * in whole blocks plus the block its cache is carving.
 */
static uint64_t umem_needed(const struct alloc_opts *o, const bool *sel)
{
	uint32_t frame = stack_frame(o), largest = o->size;
	uint64_t per_block, blocks, stack, frags;

	if (sel[R_MIXED] || sel[R_STACK_MIXED])
		frame = largest = 4096;
	per_block = o->block_size / largest;
	blocks = (o->batch + per_block - 1) / per_block + 1;
	stack = (uint64_t)o->batch * frame;
	frags = blocks * o->block_size;
	return stack > frags ? stack : frags;
}

#define O(member) OPT_FIELD(struct alloc_opts, member)
static const struct opt alloc_opts[] = {
	{ .name = "case", .short_opt = 'c', .type = OPT_STR, O(cases), .metavar = "LIST",
	  .help = "single,owner,cross,mixed (default: all), each with\nits baselines" },
	{ .name = "only", .type = OPT_STR, O(only), .metavar = "ROWS",
	  .help = "just these rows: single, bound, owner, stack,\ndpdk, dpdk-nocache, cross, cross-bound,\ncross-shared, ring, dpdk-cross,\nstack-cross, mixed, stack-mixed (for callgrind)" },
	{ .name = "ops", .short_opt = 'n', .type = OPT_UINT, O(ops), .metavar = "N",
	  .what = "op count", .positive = true,
	  .help = "alloc+release pairs per run (default 20M)" },
	{ .name = "batch", .short_opt = 'b', .type = OPT_UINT, O(batch), .metavar = "N",
	  .lo = 1, .hi = ALLOC_MAX_BATCH, .help = "frags per batch, 1..256 (default 64)" },
	{ .name = "size", .short_opt = 's', .type = OPT_UINT, O(size), .metavar = "BYTES",
	  .positive = true, .help = "frag size for single/owner/cross, at most 4096\nand the block size (default 2048)" },
	{ .name = "block-size", .short_opt = 'B', .type = OPT_UINT, O(block_size),
	  .metavar = "BYTES", .what = "block size", .pow2 = true, .lo = XFRAG_BLOCK_MIN,
	  .hi = XFRAG_BLOCK_MAX, .help = "power of two, 4K..2M (default 64K)" },
	{ .name = "umem-size", .short_opt = 'u', .type = OPT_UINT, O(umem_size),
	  .metavar = "BYTES", .what = "UMEM size", .positive = true,
	  .help = "(default 16M; at least what a batch of every case\nneeds); DPDK's pool has as many objects" },
	{ .name = "repeat", .short_opt = 'r', .type = OPT_UINT, O(repeat), .metavar = "N",
	  .lo = 1, .hi = 99, .help = "interleaved runs; medians reported (default 7)" },
	{ .name = "json", .short_opt = 'j', .type = OPT_BOOL, O(json),
	  .help = "one JSON object on the last line of stdout" },
};
#undef O

const struct opt_table alloc_table = {
	.cmd = "alloc",
	.synopsis = "[options]",
	.about = "The frag allocator against DPDK's rte_mempool (when built with DPDK)\n"
		 "and the fixed-frame free stack of the AF_XDP examples, in one process:\n"
		 "ns per buffer allocated and released, atomics per frag. Cases: single\n"
		 "(carve a batch, bulk-release it), owner (release through the carving\n"
		 "cache), cross (carve on CPU 0, release on CPU 1 through an SPSC ring),\n"
		 "mixed (random sizes 64 B..4 KiB). Each repetition runs every row once,\n"
		 "in a rotating order.",
	.opts = alloc_opts,
	.n = OPT_TABLE_LEN(alloc_opts),
	.notes = "Wall-clock numbers move with the machine's load: compare rows of one run.\n"
		 "Instructions per op: scripts/callgrind-alloc.sh.",
};

static void print_load(FILE *f)
{
	double l[3];

	if (getloadavg(l, 3) == 3)
		fprintf(f, "load average %.2f %.2f %.2f", l[0], l[1], l[2]);
}

int cmd_alloc(int argc, char **argv)
{
	struct alloc_opts o = { .ops = 20000000, .batch = 64, .size = 2048,
				.block_size = 64 << 10, .umem_size = 16 << 20,
				.repeat = 7, .cases = "single,owner,cross,mixed" };
	static double ns[R_NR][99], at[R_NR][99];
	bool sel[R_NR] = { false };
	uint32_t sizes[4096];
	struct bench b = { .o = &o, .sizes = sizes };
	struct xfrag_umem_stats st;
	int rc, i, r, nsel = 0, order[R_NR];
	uint64_t need;

	rc = params_parse(&alloc_table, argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (select_rows(o.only ? o.only : o.cases, o.only != NULL, sel))
		return 2;
	if (o.size > o.block_size || o.size > 4096) {
		fprintf(stderr, "alloc: size %u too large: at most the block size and 4096\n", o.size);
		return 2;
	}
	if (o.ops < o.batch)
		o.ops = o.batch;
	need = umem_needed(&o, sel);
	if (o.umem_size < need) {
		fprintf(stderr, "alloc: UMEM size %llu is too small for batches of %u: the cases need at least %llu bytes (-u %lluK)\n",
			(unsigned long long)o.umem_size, o.batch, (unsigned long long)need,
			(unsigned long long)(need + 1023) >> 10);
		return 2;
	}
	for (r = 0; r < R_NR; r++) {
		if (sel[r] && !rows[r].run) {
			fprintf(stderr, "alloc: note: row %s skipped: built without DPDK\n",
				rows[r].name);
			sel[r] = false;
		}
		if (sel[r])
			order[nsel++] = r;
	}

	XFRAG_OPTS(xfrag_umem_opts, uo, .size = o.umem_size,
		   .block_size = o.block_size);
	b.u = xfrag_umem__create(&uo);
	if (!b.u) {
		fprintf(stderr, "alloc: cannot create UMEM: %s\n", strerror(errno));
		return 1;
	}
	if (sel[R_CROSS] && (uint64_t)o.batch * XRING_SLOTS * o.size * 2 > o.umem_size)
		fprintf(stderr, "alloc: note: UMEM smaller than the cross case's ring; it will stall on the pool\n");

	srand(42);
	for (i = 0; i < 4096; i++)
		sizes[i] = 64 + (uint32_t)(rand() % (4096 - 64 + 1));

	/* Interleave: every row once per repetition, starting one row later
	 * each time, so that slow drifts of the machine hit all rows alike. */
	for (i = 0; i < (int)o.repeat; i++) {
		for (int k = 0; k < nsel; k++) {
			struct sample s = { 0 };

			r = order[(k + i) % nsel];
			if (rows[r].run(&b, &s)) {
				fprintf(stderr, "alloc: the %s row failed\n", rows[r].name);
				xfrag_umem__destroy(b.u);
				return 1;
			}
			ns[r][i] = s.ns;
			at[r][i] = s.atomics;
		}
	}

	xfrag_umem__stats(b.u, &st);
	if (st.blocks_free != st.nblocks) {
		fprintf(stderr, "alloc: LEAK: %u of %u blocks not back in the pool\n",
			st.nblocks - st.blocks_free, st.nblocks);
		xfrag_umem__destroy(b.u);
		return 1;
	}

	printf("%-12s %-52s %7s %15s %8s %12s\n", "row", "what", "ns/op",
	       "min..max", "vs", "atomics/frag");
	/* vs: the median of per-repetition ratios to the row it is compared
	 * with (DPDK's, or the free stack's for mixed) */
	for (int k = 0; k < nsel; k++) {
		char vs[16] = "", atom[16] = "-";
		double m;

		r = order[k];
		m = median(ns[r], (int)o.repeat);
		if (rows[r].vs >= 0 && sel[rows[r].vs])
			snprintf(vs, sizeof(vs), "%.2fx", ratio(ns[r], ns[rows[r].vs], (int)o.repeat));
		if (median(at[r], (int)o.repeat) >= 0)
			snprintf(atom, sizeof(atom), "%.4f", median(at[r], (int)o.repeat));
		printf("%-12s %-52s %7.2f %7.2f..%-6.2f %8s %12s\n", rows[r].name,
		       rows[r].what, m, vmin(ns[r], (int)o.repeat),
		       vmax(ns[r], (int)o.repeat), vs, atom);
	}
	printf("blocks %u x %u B, backing %s, batch %u of %u B, %u interleaved runs, medians; ",
	       st.nblocks, st.block_size, xfrag_backing_name(st.backing), o.batch,
	       o.size, o.repeat);
	print_load(stdout);
	printf("\n");

	if (o.json) {
		printf("{\"batch\":%u,\"size\":%u,\"block_size\":%u,\"repeat\":%u,\"rows\":{",
		       o.batch, o.size, o.block_size, o.repeat);
		for (int k = 0; k < nsel; k++) {
			r = order[k];
			printf("%s\"%s\":{\"ns_per_op\":%.3f,\"min\":%.3f,\"max\":%.3f,",
			       k ? "," : "", rows[r].name, median(ns[r], (int)o.repeat),
			       vmin(ns[r], (int)o.repeat), vmax(ns[r], (int)o.repeat));
			if (rows[r].vs >= 0 && sel[rows[r].vs])
				printf("\"vs\":\"%s\",\"ratio\":%.3f,", rows[rows[r].vs].name,
				       ratio(ns[r], ns[rows[r].vs], (int)o.repeat));
			if (median(at[r], (int)o.repeat) >= 0)
				printf("\"atomics_per_frag\":%.4f", median(at[r], (int)o.repeat));
			else
				printf("\"atomics_per_frag\":null");
			if (r == R_MIXED)
				printf(",\"umem_bytes_per_frag\":%.1f", b.mixed_bytes_per_frag);
			printf("}");
		}
		printf("}}\n");
	}
#ifdef XFRAG_BENCH_DPDK
	dpdk_teardown();
#endif
	xfrag_umem__destroy(b.u);
	return 0;
}
