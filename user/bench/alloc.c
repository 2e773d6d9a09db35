// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xfrag-bench alloc: the frag allocator against the fixed-frame free stack
 * that every AF_XDP example uses, side by side in one run.
 *
 * Cases (each reports ns per alloc+release pair, for xfrag and the baseline):
 *   single  one thread: carve a batch of chunks, bulk-release it
 *   owner   the same, released through the carving cache (no atomic for
 *           frags of the block it is carving)
 *   cross   one thread carves batches and passes them through an SPSC ring
 *           to another that bulk-releases them (the page_frag selftest shape)
 *   mixed   one thread: frags of random sizes 64 B .. 4 KiB, one alloc call
 *           each, bulk release per batch
 * Speed claims are ratios within the run; wall-clock numbers are context.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "params.h"
#include "xfrag/xfrag.h"

#define MAX_BATCH 256
#define RING_SLOTS 64 /* batches in flight between the two threads */

struct opts {
	uint64_t ops;
	uint32_t batch, size, block_size;
	uint64_t umem_size;
	uint32_t repeat;
	bool json;
	const char *cases;
};

struct result {
	const char *name;
	double ns, base_ns;
	double atomics_per_frag;
	double instr, base_instr; /* per op, < 0 when not measurable */
	double umem_bytes_per_frag, base_umem_bytes_per_frag;
};

/* ------------------------------------------------- instruction counter -- */

static int perf_fd = -1;

static void perf_open(void)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_HARDWARE,
		.size = sizeof(a),
		.config = PERF_COUNT_HW_INSTRUCTIONS,
		.disabled = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};

	perf_fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static void perf_start(void)
{
	if (perf_fd >= 0) {
		ioctl(perf_fd, PERF_EVENT_IOC_RESET, 0);
		ioctl(perf_fd, PERF_EVENT_IOC_ENABLE, 0);
	}
}

static double perf_stop(uint64_t ops)
{
	uint64_t n = 0;

	if (perf_fd < 0)
		return -1;
	ioctl(perf_fd, PERF_EVENT_IOC_DISABLE, 0);
	if (read(perf_fd, &n, sizeof(n)) != sizeof(n) || !n)
		return -1;
	return (double)n / (double)ops;
}

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

/* ------------------------------------------------------- single thread -- */

static uint64_t sink;

static double run_single_xfrag(struct xfrag_umem *u, const struct opts *o,
			       double *atomics, double *instr, bool owner)
{
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t addrs[MAX_BATCH], acc = 0, natomic = 0, t0, t1, i, iters;

	iters = o->ops / o->batch;
	/* warm up: take the block, fault the table in */
	for (i = 0; i < 1000; i++) {
		xfrag_cache__alloc_burst(c, o->size, addrs, o->batch);
		xfrag_umem__release_bulk(u, addrs, o->batch);
	}
	perf_start();
	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		int n = xfrag_cache__alloc_burst(c, o->size, addrs, o->batch);

		/* cmd_alloc() sized the UMEM for a batch: a dry pool is a bug. */
		if (n <= 0) {
			fprintf(stderr, "alloc: the pool ran dry after %llu batches\n",
				(unsigned long long)i);
			xfrag_cache__destroy(c);
			return -1;
		}
		acc += addrs[n - 1];
		natomic += owner ? xfrag_cache__release_bulk(c, addrs, (unsigned int)n) :
				   xfrag_umem__release_bulk(u, addrs, (unsigned int)n);
	}
	t1 = now_ns();
	*instr = perf_stop(iters * o->batch);
	/* drains give the bias back (1 atomic); a pool pop and its matching
	 * push are one CAS each. */
	natomic += c->drains + 2 * c->pool_takes;
	*atomics = (double)natomic / (double)(iters * o->batch);
	sink += acc;
	xfrag_cache__destroy(c);
	return (double)(t1 - t0) / (double)(iters * o->batch);
}

static double run_single_stack(const struct opts *o, double *instr)
{
	struct frame_stack s;
	uint64_t addrs[MAX_BATCH], acc = 0, t0, t1, i, iters;
	uint32_t j;

	if (stack_init(&s, o->umem_size, o->size >= 2048 ? 4096 : 2048))
		return -1;
	iters = o->ops / o->batch;
	perf_start();
	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		for (j = 0; j < o->batch; j++)
			addrs[j] = stack_pop(&s);
		acc += addrs[o->batch - 1];
		for (j = 0; j < o->batch; j++)
			stack_push(&s, addrs[j]);
	}
	t1 = now_ns();
	*instr = perf_stop(iters * o->batch);
	sink += acc;
	free(s.addrs);
	return (double)(t1 - t0) / (double)(iters * o->batch);
}

/* ---------------------------------------------------------- cross thread -- */

struct xring {
	_Atomic uint64_t head __attribute__((aligned(64))); /* producer */
	_Atomic uint64_t tail __attribute__((aligned(64))); /* consumer */
	uint64_t slot[RING_SLOTS][MAX_BATCH] __attribute__((aligned(64)));
	uint32_t count[RING_SLOTS];
};

struct cross_ctx {
	struct xring *r;
	struct xfrag_umem *u;       /* xfrag case */
	struct frame_stack *stack;  /* baseline case */
	pthread_spinlock_t *lock;
	uint64_t batches;
	uint64_t atomics;
};

static void *cross_consumer(void *arg)
{
	struct cross_ctx *x = arg;
	struct xring *r = x->r;
	uint64_t b, t;
	uint32_t j;

	pin_cpu(1);
	for (b = 0; b < x->batches; b++) {
		t = atomic_load_explicit(&r->tail, memory_order_relaxed);
		while (atomic_load_explicit(&r->head, memory_order_acquire) == t)
			;
		uint64_t *slot = r->slot[t % RING_SLOTS];
		uint32_t n = r->count[t % RING_SLOTS];

		if (x->u) {
			x->atomics += xfrag_umem__release_bulk(x->u, slot, n);
		} else {
			pthread_spin_lock(x->lock);
			for (j = 0; j < n; j++)
				stack_push(x->stack, slot[j]);
			pthread_spin_unlock(x->lock);
		}
		atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	}
	return NULL;
}

static double run_cross(struct xfrag_umem *u, const struct opts *o,
			double *atomics)
{
	struct xring *r = aligned_alloc(64, sizeof(*r));
	struct frame_stack s = { 0 };
	pthread_spinlock_t lock;
	struct cross_ctx x = { .r = r, .u = u, .stack = &s, .lock = &lock };
	struct xfrag_cache *c = NULL;
	pthread_t th;
	uint64_t b, h, t0, t1, stalls = 0;
	uint32_t j;

	if (!r)
		return -1;
	memset(r, 0, sizeof(*r));
	pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE);
	if (u)
		c = xfrag_cache__create(u, NULL);
	else if (stack_init(&s, o->umem_size, o->size >= 2048 ? 4096 : 2048))
		return -1;
	x.batches = o->ops / o->batch;
	pin_cpu(0);
	pthread_create(&th, NULL, cross_consumer, &x);
	t0 = now_ns();
	for (b = 0; b < x.batches;) {
		h = atomic_load_explicit(&r->head, memory_order_relaxed);
		while (h - atomic_load_explicit(&r->tail, memory_order_acquire) >=
		       RING_SLOTS)
			;
		uint64_t *slot = r->slot[h % RING_SLOTS];
		uint32_t n = 0;

		if (c) {
			int got;

			/* The pool may run dry while the consumer lags. */
			while ((got = xfrag_cache__alloc_burst(c, o->size, slot,
							       o->batch)) <= 0)
				stalls++;
			n = (uint32_t)got;
		} else {
			pthread_spin_lock(&lock);
			for (j = 0; j < o->batch && s.n; j++)
				slot[n++] = stack_pop(&s);
			pthread_spin_unlock(&lock);
			if (!n) {
				stalls++;
				continue;
			}
		}
		r->count[h % RING_SLOTS] = n;
		atomic_store_explicit(&r->head, h + 1, memory_order_release);
		b++;
	}
	pthread_join(th, NULL);
	t1 = now_ns();
	pin_cpu(-1);
	if (c) {
		*atomics = (double)(x.atomics + c->drains + 2 * c->pool_takes) /
			   (double)(x.batches * o->batch);
		xfrag_cache__destroy(c);
	}
	free(s.addrs);
	free(r);
	(void)stalls;
	return (double)(t1 - t0) / (double)(x.batches * o->batch);
}

/* ---------------------------------------------------------------- mixed -- */

static double run_mixed_xfrag(struct xfrag_umem *u, const struct opts *o,
			      const uint32_t *sizes, double *atomics,
			      double *instr, double *bytes_per_frag)
{
	struct xfrag_cache *c = xfrag_cache__create(u, NULL);
	uint64_t addrs[MAX_BATCH], natomic = 0, t0, t1, i, iters, k = 0;
	uint32_t j;

	iters = o->ops / o->batch;
	perf_start();
	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		for (j = 0; j < o->batch; j++)
			if (xfrag_cache__alloc(c, sizes[k++ & 4095], 64, &addrs[j])) {
				fprintf(stderr, "alloc: the pool ran dry after %llu batches\n",
					(unsigned long long)i);
				xfrag_umem__release_bulk(u, addrs, j);
				xfrag_cache__destroy(c);
				return -1;
			}
		natomic += xfrag_umem__release_bulk(u, addrs, o->batch);
	}
	t1 = now_ns();
	*instr = perf_stop(iters * o->batch);
	natomic += c->drains + 2 * c->pool_takes;
	*atomics = (double)natomic / (double)(iters * o->batch);
	/* UMEM actually consumed per frag: blocks carved / frags carved. */
	*bytes_per_frag = (double)(c->refills + 1) * (double)o->block_size /
			  (double)xfrag_cache__allocs(c);
	xfrag_cache__destroy(c);
	return (double)(t1 - t0) / (double)(iters * o->batch);
}

static double run_mixed_stack(const struct opts *o, const uint32_t *sizes,
			      double *instr)
{
	struct frame_stack s;
	uint64_t addrs[MAX_BATCH], acc = 0, t0, t1, i, iters, k = 0;
	uint32_t j;

	/* Fixed frames must be as large as the largest frag. */
	if (stack_init(&s, o->umem_size, 4096))
		return -1;
	iters = o->ops / o->batch;
	perf_start();
	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		for (j = 0; j < o->batch; j++) {
			addrs[j] = stack_pop(&s);
			acc += sizes[k++ & 4095];
		}
		for (j = 0; j < o->batch; j++)
			stack_push(&s, addrs[j]);
	}
	t1 = now_ns();
	*instr = perf_stop(iters * o->batch);
	sink += acc;
	free(s.addrs);
	return (double)(t1 - t0) / (double)(iters * o->batch);
}

/* ----------------------------------------------------------------- main -- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/*
 * The smallest UMEM every case can run in: the free stack must hold a
 * batch of its frames, and xfrag a batch of the largest frags (mixed: 4096)
 * in whole blocks plus the block its cache is carving.
 */
static uint64_t umem_needed(const struct opts *o)
{
	uint32_t frame = o->size >= 2048 ? 4096 : 2048, largest = o->size;
	uint64_t per_block, blocks, stack, frags;

	if (strstr(o->cases, "mixed"))
		frame = largest = 4096;
	per_block = o->block_size / largest;
	blocks = (o->batch + per_block - 1) / per_block + 1;
	stack = (uint64_t)o->batch * frame;
	frags = blocks * o->block_size;
	return stack > frags ? stack : frags;
}

#define O(member) OPT_FIELD(struct opts, member)
static const struct opt alloc_opts[] = {
	{ .name = "case", .short_opt = 'c', .type = OPT_STR, O(cases), .metavar = "LIST",
	  .help = "single,owner,cross,mixed (default: all)" },
	{ .name = "ops", .short_opt = 'n', .type = OPT_UINT, O(ops), .metavar = "N",
	  .what = "op count", .positive = true,
	  .help = "alloc+release pairs per run (default 20M)" },
	{ .name = "batch", .short_opt = 'b', .type = OPT_UINT, O(batch), .metavar = "N",
	  .lo = 1, .hi = MAX_BATCH, .help = "frags per batch, 1..256 (default 64)" },
	{ .name = "size", .short_opt = 's', .type = OPT_UINT, O(size), .metavar = "BYTES",
	  .positive = true, .help = "frag size for single/owner/cross, at most 4096\nand the block size (default 2048)" },
	{ .name = "block-size", .short_opt = 'B', .type = OPT_UINT, O(block_size),
	  .metavar = "BYTES", .what = "block size", .pow2 = true, .lo = XFRAG_BLOCK_MIN,
	  .hi = XFRAG_BLOCK_MAX, .help = "power of two, 4K..2M (default 64K)" },
	{ .name = "umem-size", .short_opt = 'u', .type = OPT_UINT, O(umem_size),
	  .metavar = "BYTES", .what = "UMEM size", .positive = true,
	  .help = "(default 16M; at least what a batch of every case needs)" },
	{ .name = "repeat", .short_opt = 'r', .type = OPT_UINT, O(repeat), .metavar = "N",
	  .lo = 1, .hi = 99, .help = "interleaved runs; medians reported (default 5)" },
	{ .name = "json", .short_opt = 'j', .type = OPT_BOOL, O(json),
	  .help = "one JSON object on the last line of stdout" },
};
#undef O

const struct opt_table alloc_table = {
	.cmd = "alloc",
	.synopsis = "[options]",
	.about = "The frag allocator against the fixed-frame free stack of the AF_XDP\n"
		 "examples, side by side in one run: ns per alloc+release pair, atomics\n"
		 "and instructions per frag. Cases: single (carve a batch, bulk-release\n"
		 "it), owner (release through the carving cache), cross (carve on CPU 0,\n"
		 "release on CPU 1 through an SPSC ring), mixed (random sizes 64 B..4 KiB).",
	.opts = alloc_opts,
	.n = OPT_TABLE_LEN(alloc_opts),
	.notes = "Speed claims are ratios within the run; wall-clock numbers are context.",
};

int cmd_alloc(int argc, char **argv)
{
	struct opts o = { .ops = 20000000, .batch = 64, .size = 2048,
			  .block_size = 64 << 10, .umem_size = 16 << 20,
			  .repeat = 5, .cases = "single,owner,cross,mixed" };
	struct result res[4];
	int nres = 0, rc, i;
	uint64_t need;
	uint32_t sizes[4096];

	rc = params_parse(&alloc_table, argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (o.size > o.block_size || o.size > 4096) {
		fprintf(stderr, "alloc: size %u too large: at most the block size and 4096\n", o.size);
		return 2;
	}
	if (o.ops < o.batch)
		o.ops = o.batch;
	need = umem_needed(&o);
	if (o.umem_size < need) {
		fprintf(stderr, "alloc: UMEM size %llu is too small for batches of %u: the cases need at least %llu bytes (-u %lluK)\n",
			(unsigned long long)o.umem_size, o.batch, (unsigned long long)need,
			(unsigned long long)(need + 1023) >> 10);
		return 2;
	}

	XFRAG_OPTS(xfrag_umem_opts, uo, .size = o.umem_size,
		   .block_size = o.block_size);
	struct xfrag_umem *u = xfrag_umem__create(&uo);
	if (!u) {
		fprintf(stderr, "alloc: cannot create UMEM: %s\n", strerror(errno));
		return 1;
	}
	if ((uint64_t)o.batch * RING_SLOTS * o.size * 2 > o.umem_size)
		fprintf(stderr, "alloc: note: UMEM smaller than the cross case's ring; it will stall on the pool\n");

	srand(42);
	for (i = 0; i < 4096; i++)
		sizes[i] = 64 + (uint32_t)(rand() % (4096 - 64 + 1));
	perf_open();

	for (const char *p = o.cases; *p;) {
		size_t len = strcspn(p, ",");
		double ns[99], bns[99], at[99], in[99], bin[99], bpf = 0;
		struct result *r = &res[nres];
		int which = !strncmp(p, "single", len) ? 0 :
			    !strncmp(p, "cross", len)  ? 1 :
			    !strncmp(p, "mixed", len)  ? 2 :
			    !strncmp(p, "owner", len)  ? 3 : -1;

		if (which < 0 || nres == 4) {
			fprintf(stderr, "alloc: unknown case '%.*s' (single, owner, cross, mixed)\n",
				(int)len, p);
			xfrag_umem__destroy(u);
			return 2;
		}
		memset(r, 0, sizeof(*r));
		r->name = which == 0 ? "single" : which == 1 ? "cross" :
			  which == 2 ? "mixed" : "owner";
		for (i = 0; i < (int)o.repeat; i++) {
			in[i] = bin[i] = -1;
			at[i] = 0;
			/* interleave: baseline and xfrag alternate */
			if (which == 0 || which == 3) {
				bns[i] = run_single_stack(&o, &bin[i]);
				ns[i] = run_single_xfrag(u, &o, &at[i], &in[i], which == 3);
			} else if (which == 1) {
				bns[i] = run_cross(NULL, &o, &at[i]);
				ns[i] = run_cross(u, &o, &at[i]);
			} else {
				bns[i] = run_mixed_stack(&o, sizes, &bin[i]);
				ns[i] = run_mixed_xfrag(u, &o, sizes, &at[i], &in[i], &bpf);
			}
			if (ns[i] < 0 || bns[i] < 0) {
				fprintf(stderr, "alloc: the %s case failed\n", r->name);
				xfrag_umem__destroy(u);
				return 1;
			}
		}
		r->ns = median(ns, (int)o.repeat);
		r->base_ns = median(bns, (int)o.repeat);
		r->atomics_per_frag = median(at, (int)o.repeat);
		r->instr = median(in, (int)o.repeat);
		r->base_instr = median(bin, (int)o.repeat);
		r->umem_bytes_per_frag = which == 2 ? bpf : o.size;
		r->base_umem_bytes_per_frag = which == 2 ? 4096 : (o.size >= 2048 ? 4096 : 2048);
		nres++;
		p += len;
		if (*p == ',')
			p++;
	}

	struct xfrag_umem_stats st;
	xfrag_umem__stats(u, &st);
	if (st.blocks_free != st.nblocks) {
		fprintf(stderr, "alloc: LEAK: %u of %u blocks not back in the pool\n",
			st.nblocks - st.blocks_free, st.nblocks);
		xfrag_umem__destroy(u);
		return 1;
	}

	printf("%-7s %10s %12s %7s %10s %11s %12s %10s\n", "case", "ns/op",
	       "baseline ns", "ratio", "atomics/op", "instr/op", "base instr", "B/frag");
	for (i = 0; i < nres; i++) {
		struct result *r = &res[i];

		printf("%-7s %10.2f %12.2f %7.2f %10.3f %11.1f %12.1f %10.0f\n",
		       r->name, r->ns, r->base_ns, r->ns / r->base_ns,
		       r->atomics_per_frag, r->instr, r->base_instr,
		       r->umem_bytes_per_frag);
	}
	if (res[0].instr < 0)
		printf("(instructions: perf counters unavailable here; use valgrind --tool=callgrind)\n");
	printf("blocks %u x %u B, backing %s, batch %u, %u runs, medians\n",
	       st.nblocks, st.block_size, xfrag_backing_name(st.backing),
	       o.batch, o.repeat);

	if (o.json) {
		struct result *r0 = &res[0];

		printf("{\"ns_per_op\":%.3f,\"baseline_ns_per_op\":%.3f,\"ratio\":%.3f,"
		       "\"atomics_per_frag\":%.4f,",
		       r0->ns, r0->base_ns, r0->ns / r0->base_ns, r0->atomics_per_frag);
		if (r0->instr >= 0)
			printf("\"instructions_hint\":%.1f,", r0->instr);
		else
			printf("\"instructions_hint\":null,");
		printf("\"batch\":%u,\"size\":%u,\"block_size\":%u,\"repeat\":%u,\"cases\":{",
		       o.batch, o.size, o.block_size, o.repeat);
		for (i = 0; i < nres; i++) {
			struct result *r = &res[i];

			printf("%s\"%s\":{\"ns_per_op\":%.3f,\"baseline_ns_per_op\":%.3f,"
			       "\"ratio\":%.3f,\"atomics_per_frag\":%.4f,",
			       i ? "," : "", r->name, r->ns, r->base_ns,
			       r->ns / r->base_ns, r->atomics_per_frag);
			if (r->instr >= 0)
				printf("\"instructions_hint\":%.1f,", r->instr);
			else
				printf("\"instructions_hint\":null,");
			printf("\"umem_bytes_per_frag\":%.1f,\"baseline_umem_bytes_per_frag\":%.0f}",
			       r->umem_bytes_per_frag, r->base_umem_bytes_per_frag);
		}
		printf("}}\n");
	}
	xfrag_umem__destroy(u);
	return 0;
}
