// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Cross-thread stress. Two producers carve frags on their own caches, stamp
 * them and hand batches through SPSC rings to two consumers, which verify
 * the stamps and release them every way there is, concurrently:
 *
 *   bulk, single   xfrag_umem__release_bulk() / xfrag_umem__release()
 *   drain          one block's frags with xfrag_umem__drain()
 *   home           sent back to the carving thread, which releases them
 *                  through its cache (bias give-back, spare block) while
 *                  the consumers release other frags of the same blocks
 *   split          half released by the consumer, half sent home
 *   shared         the batch goes to both consumers, one reference each:
 *                  one releases it, the other sends it home
 *   releaser       through the consumer's releaser: the runs travel to the
 *                  carving cache's inbox, which applies them at its refills
 *                  while the other modes release frags of the same blocks
 *
 * A producer is now and then bound to its cache (xfrag_cache__bind): its own
 * xfrag_umem__release() and _release_bulk() calls then take the cache's
 * path while the consumers' same calls take the shared one. Consumer 0 is
 * bound to its releaser (xfrag_releaser__bind): its any-thread calls, in
 * every mode, send runs to the inboxes; consumer 1's stay shared.
 *
 * Producers sometimes destroy their cache and make a new one while frags of
 * the old one are everywhere (rings, releasers' rings, on their way home):
 * releases reach a dead inbox slot, or its next cache.
 *
 * The producer sometimes takes an extra reference on frags before it
 * publishes them and drops it after, while the consumer releases; a consumer
 * sometimes takes one on a frag it holds and drops it after releasing the
 * batch. A small UMEM keeps the pool running dry.
 *
 * Checkpoints stop every thread at a safe point now and then: the block
 * census must find every block exactly once, the live references must be
 * exactly those the rings carry, and stats' free count must match the
 * census. At the end, with the caches alive and again after destroying
 * them, the same; and every reference handed out came back exactly once.
 * Bounded by time (XFRAG_STRESS_SECONDS, default 5) and by frags carved
 * (XFRAG_STRESS_OPS, default no bound), whichever comes first: the summary
 * line says which, and how many operations ran. Meant for ThreadSanitizer
 * too (scripts/test.sh builds it with TSan).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "test.h"
#include "xfrag/xfrag.h"

#define NPROD 2
#define NCONS 2
#define BATCH 32
#define SLOTS 16
#define CHECKPOINT_MS 100

enum mode { M_BULK, M_SINGLE, M_DRAIN, M_HOME, M_SPLIT, M_SHARED, M_RELEASER, M_NR };
static const char *const mode_name[M_NR] = { "bulk", "single", "drain", "home",
					     "split", "shared", "releaser" };

struct batch {
	uint64_t addr[BATCH];
	uint32_t size[BATCH];
	uint32_t n;
	uint32_t mode;
	uint32_t home; /* the consumer sends these frags to the carving thread */
};

struct ring {
	_Atomic uint64_t head __attribute__((aligned(64)));
	_Atomic uint64_t tail __attribute__((aligned(64)));
	struct batch b[SLOTS];
};

static struct xfrag_umem *u;
static struct xfrag_cache *caches[NPROD];
static struct ring fwd[NPROD][NCONS];  /* producer -> consumer */
static struct ring back[NCONS][NPROD]; /* consumer -> carving producer */
static uint64_t max_ops = UINT64_MAX;
static _Atomic uint64_t carved_total;
static _Atomic int stop, prod_done, cons_done;
/* Checkpoints: main raises pause_req, threads park at a safe point. */
static _Atomic int pause_req, parked;

/* Totals, added by each thread as it ends. */
static _Atomic uint64_t corrupt, carved, released, refs_taken, owner_released;
static _Atomic uint64_t given_back, spares, skipped_home, modes[M_NR], bound_released,
	rel_bound_released;
static _Atomic uint64_t restarts, inbox_runs, inbox_freed, retired_freed, runs_sent, runs_rescued;

static uint64_t stamp_of(uint64_t addr, uint32_t size)
{
	return (addr * 0x9E3779B97F4A7C15ULL) ^ size;
}

static void stamp(uint64_t addr, uint32_t size)
{
	uint8_t *p = xfrag_umem__ptr(u, addr);
	uint64_t s = stamp_of(addr, size);

	if (size >= 16) {
		memcpy(p, &s, 8);
		memcpy(p + size - 8, &s, 8);
	} else {
		memset(p, (int)(s & 0xff), size);
	}
}

static int check(uint64_t addr, uint32_t size)
{
	uint8_t *p = xfrag_umem__ptr(u, addr);
	uint64_t s = stamp_of(addr, size), x, y;
	uint32_t i;

	if (size >= 16) {
		memcpy(&x, p, 8);
		memcpy(&y, p + size - 8, 8);
		return x == s && y == s;
	}
	for (i = 0; i < size; i++)
		if (p[i] != (uint8_t)(s & 0xff))
			return 0;
	return 1;
}

static uint64_t next_rnd(uint64_t *r)
{
	*r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
	return *r >> 11;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Park while main takes a census; the caller holds no frag the rings
 * do not account for. */
static void safe_point(void)
{
	if (!atomic_load_explicit(&pause_req, memory_order_acquire))
		return;
	atomic_fetch_add_explicit(&parked, 1, memory_order_acq_rel);
	while (atomic_load_explicit(&pause_req, memory_order_acquire))
		sched_yield();
	atomic_fetch_sub_explicit(&parked, 1, memory_order_acq_rel);
}

static bool ring_full(struct ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_relaxed) -
		       atomic_load_explicit(&r->tail, memory_order_acquire) >=
	       SLOTS;
}

static struct batch *ring_slot(struct ring *r)
{
	return &r->b[atomic_load_explicit(&r->head, memory_order_relaxed) % SLOTS];
}

static void ring_publish(struct ring *r)
{
	atomic_store_explicit(&r->head,
			      atomic_load_explicit(&r->head, memory_order_relaxed) + 1,
			      memory_order_release);
}

/* ----------------------------------------------------------- producer -- */

struct prod {
	int id;
	struct xfrag_cache *c;
	uint64_t rnd;
	uint64_t carved, released, refs, owner_released, given_back, spares;
	uint64_t corrupt, modes[M_NR], waits, restarts, inbox_runs, inbox_freed;
	uint64_t retired_freed, bound_released;
	bool bound;
};

static struct xfrag_cache *new_cache(int id)
{
	XFRAG_OPTS(xfrag_cache_opts, co, .id = (uint16_t)id, .no_page_cross = id == 1);
	struct xfrag_cache *c = xfrag_cache__create(u, &co);

	if (!c)
		abort();
	return c;
}

/* Bind the carving thread to its cache every other cache (producer 0: the
 * even ones, producer 1: the odd ones), so both ways run at once. */
static void maybe_bind(struct prod *p)
{
	p->bound = (p->restarts + (uint64_t)p->id) % 2 == 0;
	if (p->bound && xfrag_cache__bind(p->c))
		abort();
}

/* Give the cache up while its frags are everywhere, and carve on with a
 * new one: the old one's inbox slot dies (or goes to the new cache). */
static void restart(struct prod *p)
{
	p->inbox_runs += p->c->inbox_runs;
	p->inbox_freed += p->c->inbox_freed;
	p->retired_freed += p->c->retired_freed;
	xfrag_cache__destroy(p->c); /* and the binding */
	p->c = caches[p->id] = new_cache(p->id);
	p->restarts++;
	maybe_bind(p);
}

/* Release through the cache, as the carving thread does (bound: through
 * the any-thread call for odd counts): count what the bias got back and
 * whether a block became the spare. */
static void owner_release(struct prod *p, const uint64_t *addrs, unsigned int n)
{
	uint64_t gb = p->c->given_back;
	uint32_t spare = p->c->spare;

	if (p->bound && (n & 1)) {
		xfrag_umem__release_bulk(u, addrs, n);
		p->bound_released += n;
	} else {
		xfrag_cache__release_bulk(p->c, addrs, n);
	}
	p->given_back += p->c->given_back - gb;
	p->spares += spare == XFRAG_NO_BLOCK && p->c->spare != XFRAG_NO_BLOCK;
	p->owner_released += n;
	p->released += n;
}

/* Frags the consumers sent home, released here in random-sized pieces. */
static void take_returns(struct prod *p)
{
	for (int k = 0; k < NCONS; k++) {
		struct ring *r = &back[k][p->id];
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

		while (atomic_load_explicit(&r->head, memory_order_acquire) != t) {
			struct batch *b = &r->b[t % SLOTS];
			uint32_t i = 0;

			for (uint32_t j = 0; j < b->n; j++)
				if (!check(b->addr[j], b->size[j]))
					p->corrupt++;
			while (i < b->n) {
				uint32_t m = 1 + (uint32_t)(next_rnd(&p->rnd) % b->n);

				if (m > b->n - i)
					m = b->n - i;
				owner_release(p, b->addr + i, m);
				i += m;
			}
			atomic_store_explicit(&r->tail, ++t, memory_order_release);
		}
	}
}

/* Waiting for the pool or for ring room: serve returns, take what the
 * releasers sent, park if asked, and leave the CPU to the consumers (two
 * cores, five threads). */
static void wait_a_bit(struct prod *p)
{
	take_returns(p);
	if (p->waits % 4 == 0)
		xfrag_cache__reclaim(p->c);
	safe_point();
	if (++p->waits % 64 == 0)
		sched_yield();
}

/* Carve one batch for @mode; false if stopped before anything was carved. */
static bool carve(struct prod *p, struct batch *b, uint32_t mode)
{
	uint64_t r = next_rnd(&p->rnd);

	b->n = 0;
	if (mode == M_DRAIN) {
		uint32_t size = 512u << (r % 3); /* a few per 16 KiB block */
		int got;

		while ((got = xfrag_cache__alloc_burst(p->c, size, b->addr, BATCH)) <= 0) {
			wait_a_bit(p);
			if (atomic_load(&stop))
				return false;
		}
		/* One block's worth: cut the batch at a block change. */
		b->n = (uint32_t)got;
		for (uint32_t i = 0; i < b->n; i++) {
			if (xfrag_umem__block_of(u, b->addr[i]) !=
			    xfrag_umem__block_of(u, b->addr[0])) {
				owner_release(p, b->addr + i, b->n - i);
				p->carved += b->n - i;
				atomic_fetch_add(&carved_total, b->n - i);
				b->n = i;
				break;
			}
			b->size[i] = size;
		}
		return true;
	}
	if (r & 1) {
		/* The fill-ring shape: a burst of one size. */
		uint32_t size = 64 + (uint32_t)((r >> 1) % 4033);
		uint32_t want = 1 + (uint32_t)((r >> 20) % BATCH);
		int got;

		while ((got = xfrag_cache__alloc_burst(p->c, size, b->addr, want)) <= 0) {
			wait_a_bit(p);
			if (atomic_load(&stop))
				return false;
		}
		b->n = (uint32_t)got;
		for (uint32_t i = 0; i < b->n; i++)
			b->size[i] = size;
		return true;
	}
	while (b->n < BATCH) {
		uint64_t q = next_rnd(&p->rnd);
		uint32_t sz = 1 + (uint32_t)(q % 4096);
		uint32_t al = 1u << ((q >> 12) % 7);
		int err = xfrag_cache__alloc(p->c, sz, al, &b->addr[b->n]);

		if (err == -ENOBUFS) {
			if (b->n)
				break;
			wait_a_bit(p);
			if (atomic_load(&stop))
				return false;
			continue;
		}
		if (err)
			abort();
		b->size[b->n++] = sz;
	}
	return true;
}

static void *producer(void *arg)
{
	struct prod *p = arg;
	uint64_t extra[BATCH];

	p->c = caches[p->id] = new_cache(p->id);
	maybe_bind(p);
	while (!atomic_load(&stop)) {
		uint64_t r = next_rnd(&p->rnd);
		uint32_t mode = (uint32_t)(r % M_NR), k = (uint32_t)((r >> 8) % NCONS);
		uint32_t nextra = 0;
		struct batch *b, *b2 = NULL;

		take_returns(p);
		safe_point();
		if ((r >> 40) % 512 == 0)
			restart(p);
		if (atomic_load(&carved_total) >= max_ops) {
			atomic_store(&stop, 1);
			break;
		}
		/* Room first: carved frags are always published. */
		while (!atomic_load(&stop) &&
		       (ring_full(&fwd[p->id][k]) ||
			(mode == M_SHARED && ring_full(&fwd[p->id][k ^ 1]))))
			wait_a_bit(p);
		if (atomic_load(&stop))
			break;
		b = ring_slot(&fwd[p->id][k]);
		b->mode = mode;
		if (!carve(p, b, mode))
			break;
		for (uint32_t i = 0; i < b->n; i++)
			stamp(b->addr[i], b->size[i]);
		b->home = mode == M_HOME;
		if (mode == M_SHARED) {
			/* One reference per consumer: take the second here. */
			b2 = ring_slot(&fwd[p->id][k ^ 1]);
			*b2 = *b;
			b2->home = 1;
			for (uint32_t i = 0; i < b->n; i++)
				xfrag_umem__ref(u, b->addr[i]);
			p->refs += b->n;
		}
		/* An extra reference on some frags, dropped once published:
		 * the drop races the consumer's release of the same frags. */
		if ((r >> 16) & 1) {
			nextra = 1 + (uint32_t)((r >> 17) % b->n);
			for (uint32_t i = 0; i < nextra; i++) {
				xfrag_umem__ref(u, b->addr[i]);
				extra[i] = b->addr[i];
			}
			p->refs += nextra;
		}
		p->carved += b->n;
		p->modes[mode]++;
		atomic_fetch_add(&carved_total, b->n);
		ring_publish(&fwd[p->id][k]);
		if (b2)
			ring_publish(&fwd[p->id][k ^ 1]);
		if (nextra) {
			if ((r >> 24) & 1) {
				owner_release(p, extra, nextra);
			} else {
				for (uint32_t i = 0; i < nextra; i++)
					xfrag_umem__release(u, extra[i]);
				p->released += nextra;
			}
		}
	}
	atomic_fetch_add(&prod_done, 1);
	/* Serve what comes home until every consumer is done. */
	while (atomic_load(&cons_done) < NCONS)
		take_returns(p);
	take_returns(p);
	return NULL;
}

/* ----------------------------------------------------------- consumer -- */

struct cons {
	int id;
	uint64_t rnd;
	struct xfrag_releaser *rel;
	uint64_t released, refs, corrupt, skipped_home, idle, bound_released;
};

/* Process one batch; false (and nothing consumed) if it must go home and
 * the way home is full. */
static bool consume(struct cons *k, int p, struct batch *b)
{
	struct ring *home = &back[k->id][p];
	uint32_t half = b->mode == M_SPLIT ? b->n / 2 : b->home ? 0 : b->n;
	uint64_t r = next_rnd(&k->rnd);
	int32_t mine = -1;

	if (half < b->n && ring_full(home)) {
		k->skipped_home++;
		return false;
	}
	for (uint32_t i = 0; i < b->n; i++)
		if (!check(b->addr[i], b->size[i]))
			k->corrupt++;
	/* A reference of our own on a frag we hold, while others release
	 * frags of its block; dropped after the batch. */
	if (b->n && (r & 3) == 0) {
		mine = (int32_t)((r >> 2) % b->n);
		xfrag_umem__ref(u, b->addr[mine]);
		k->refs++;
	}
	if (b->mode == M_SINGLE) {
		for (uint32_t i = 0; i < half; i++)
			xfrag_umem__release(u, b->addr[i]);
	} else if (b->mode == M_RELEASER) {
		/* in random pieces, so that runs of one block go to the ring
		 * in several calls, and sometimes a flush in between */
		for (uint32_t i = 0, m; i < half; i += m) {
			m = 1 + (uint32_t)(next_rnd(&k->rnd) % half);
			if (m > half - i)
				m = half - i;
			/* bound: the same call any code on this thread makes */
			if (k->id == 0 && (m & 1)) {
				xfrag_umem__release_bulk(u, b->addr + i, m);
				k->bound_released += m;
			} else {
				xfrag_releaser__release_bulk(k->rel, b->addr + i, m);
			}
		}
		if ((r >> 8) % 16 == 0)
			xfrag_releaser__flush(k->rel);
	} else if (b->mode == M_DRAIN) {
		if (half)
			xfrag_umem__drain(u, b->addr[0], (int32_t)half);
	} else if (half) {
		xfrag_umem__release_bulk(u, b->addr, half);
	}
	k->released += half;
	if (half < b->n) {
		struct batch *h = ring_slot(home);

		h->n = b->n - half;
		memcpy(h->addr, b->addr + half, h->n * sizeof(h->addr[0]));
		memcpy(h->size, b->size + half, h->n * sizeof(h->size[0]));
		ring_publish(home);
	}
	if (mine >= 0) {
		xfrag_umem__release(u, b->addr[mine]);
		k->released++;
	}
	return true;
}

static void *consumer(void *arg)
{
	struct cons *k = arg;

	k->rel = xfrag_releaser__create(u, NULL);
	if (!k->rel || (k->id == 0 && xfrag_releaser__bind(k->rel)))
		abort();
	for (;;) {
		int idle = 1, left = 0;

		for (int p = 0; p < NPROD; p++) {
			struct ring *r = &fwd[p][k->id];
			uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

			if (atomic_load_explicit(&r->head, memory_order_acquire) == t)
				continue;
			left = 1;
			if (!consume(k, p, &r->b[t % SLOTS]))
				continue;
			idle = 0;
			atomic_store_explicit(&r->tail, t + 1, memory_order_release);
		}
		if (!idle)
			continue;
		safe_point();
		if (++k->idle % 64 == 0)
			sched_yield();
		if (!left && atomic_load(&prod_done) == NPROD) {
			/* Nothing left, and nothing more will come. */
			for (int p = 0; p < NPROD; p++)
				left |= atomic_load(&fwd[p][k->id].head) !=
					atomic_load(&fwd[p][k->id].tail);
			if (!left)
				break;
		}
	}
	xfrag_releaser__flush(k->rel);
	atomic_fetch_add(&runs_sent, k->rel->runs_sent);
	atomic_fetch_add(&runs_rescued, k->rel->runs_rescued);
	xfrag_releaser__destroy(k->rel); /* and its binding */
	if (__xfrag_binding_of(u))
		abort();
	atomic_fetch_add(&cons_done, 1);
	return NULL;
}

/* ------------------------------------------------------------- checks -- */

/* References the rings carry: every batch slot in flight, both ways. */
static uint64_t refs_in_flight(void)
{
	uint64_t n = 0;

	for (int a = 0; a < NPROD; a++)
		for (int b = 0; b < NCONS; b++) {
			struct ring *rs[2] = { &fwd[a][b], &back[b][a] };

			for (int s = 0; s < 2; s++) {
				uint64_t h = atomic_load(&rs[s]->head);

				for (uint64_t t = atomic_load(&rs[s]->tail); t != h; t++)
					n += rs[s]->b[t % SLOTS].n;
			}
		}
	return n;
}

/* Every block once; live references = @refs; stats agrees with the census. */
static int census_check(const char *when, uint64_t refs, bool caches_alive)
{
	struct xfrag_census cs;
	struct xfrag_umem_stats s;
	char msg[400];
	int err = xfrag_census(u, &cs, NULL), bad = 0;

	xfrag_umem__stats(u, &s);
	xfrag_census_format(&cs, msg, sizeof(msg));
	bad = err || cs.live_refs != refs || s.blocks_free != cs.blocks[XFRAG_PLACE_POOL] ||
	      s.blocks_in_use != s.nblocks - cs.blocks[XFRAG_PLACE_POOL] ||
	      cs.caches != (caches_alive ? NPROD : 0);
	if (bad)
		fprintf(stderr, "census %s: %s; want %llu refs; stats free %u in use %u\n",
			when, msg, (unsigned long long)refs, s.blocks_free, s.blocks_in_use);
	return bad;
}

/* Stop every thread at a safe point, take the census, let them go. */
static int checkpoint(uint64_t *taken)
{
	int bad;

	while (atomic_load(&parked))
		sched_yield(); /* the last checkpoint's stragglers */
	atomic_store_explicit(&pause_req, 1, memory_order_release);
	while (atomic_load_explicit(&parked, memory_order_acquire) < NPROD + NCONS) {
		if (atomic_load(&stop)) { /* threads are winding down */
			atomic_store_explicit(&pause_req, 0, memory_order_release);
			return 0;
		}
		sched_yield();
	}
	bad = census_check("at a checkpoint", refs_in_flight(), true);
	(*taken)++;
	atomic_store_explicit(&pause_req, 0, memory_order_release);
	return bad;
}

static double env_double(const char *name, double dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtod(v, NULL) : dflt;
}

TEST(cross_thread_release_returns_every_block)
{
	XFRAG_OPTS(xfrag_umem_opts, o, .size = 1 << 20, .block_size = 16 << 10,
		   .hugepages = XFRAG_HUGE_NEVER);
	static struct prod pr[NPROD];
	static struct cons cr[NCONS];
	pthread_t pt[NPROD], ct[NCONS];
	struct xfrag_umem_stats s;
	double seconds = env_double("XFRAG_STRESS_SECONDS", 5.0), took;
	const char *env = getenv("XFRAG_STRESS_OPS");
	uint64_t t0, deadline, next_cp, checkpoints = 0, bad_cp = 0;
	int i;

	if (env && *env)
		max_ops = strtoull(env, NULL, 0);
	u = xfrag_umem__create(&o);
	assert_true(u);
	for (i = 0; i < NCONS; i++) {
		cr[i] = (struct cons){ .id = i, .rnd = 0xabcdefull * (uint64_t)(i + 7) };
		pthread_create(&ct[i], NULL, consumer, &cr[i]);
	}
	for (i = 0; i < NPROD; i++) {
		pr[i] = (struct prod){ .id = i, .rnd = 0x1234567ull * (uint64_t)(i + 1) };
		pthread_create(&pt[i], NULL, producer, &pr[i]);
	}
	t0 = now_ns();
	deadline = t0 + (uint64_t)(seconds * 1e9);
	next_cp = t0 + CHECKPOINT_MS * 1000000ull;
	while (!atomic_load(&stop) && now_ns() < deadline) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		if (now_ns() >= next_cp && atomic_load(&prod_done) == 0) {
			bad_cp += checkpoint(&checkpoints);
			next_cp = now_ns() + CHECKPOINT_MS * 1000000ull;
		}
	}
	atomic_store(&stop, 1);
	for (i = 0; i < NPROD; i++)
		pthread_join(pt[i], NULL);
	for (i = 0; i < NCONS; i++)
		pthread_join(ct[i], NULL);
	took = (double)(now_ns() - t0) / 1e9;

	for (i = 0; i < NPROD; i++) {
		carved += pr[i].carved;
		released += pr[i].released;
		refs_taken += pr[i].refs;
		owner_released += pr[i].owner_released;
		bound_released += pr[i].bound_released;
		given_back += pr[i].given_back;
		spares += pr[i].spares;
		restarts += pr[i].restarts;
		corrupt += pr[i].corrupt;
		for (int m = 0; m < M_NR; m++)
			modes[m] += pr[i].modes[m];
	}
	for (i = 0; i < NCONS; i++) {
		released += cr[i].released;
		refs_taken += cr[i].refs;
		corrupt += cr[i].corrupt;
		skipped_home += cr[i].skipped_home;
		rel_bound_released += cr[i].bound_released;
	}

	/* Quiescent, caches alive: their current blocks, spares and stock,
	 * and runs still in the rings of the releasers (gone by now). */
	expect_eq(census_check("at the end", 0, true), 0);
	for (i = 0; i < NPROD; i++) {
		inbox_runs += pr[i].inbox_runs + caches[i]->inbox_runs;
		inbox_freed += pr[i].inbox_freed + caches[i]->inbox_freed;
		retired_freed += pr[i].retired_freed + caches[i]->retired_freed;
		xfrag_cache__destroy(caches[i]);
	}
	expect_eq(census_check("after destroying the caches", 0, false), 0);
	xfrag_umem__stats(u, &s);

	printf("frags %llu, corrupt %llu, ops %llu (allocs + refs + releases) in %.2f s (stopped by %s), %llu checkpoints, pool-empty %llu, blocks free %u/%u, bad %llu\n",
	       (unsigned long long)atomic_load(&carved),
	       (unsigned long long)atomic_load(&corrupt),
	       (unsigned long long)(atomic_load(&carved) + atomic_load(&refs_taken) +
				    atomic_load(&released)), took,
	       atomic_load(&carved_total) >= max_ops ? "XFRAG_STRESS_OPS" : "time",
	       (unsigned long long)checkpoints, (unsigned long long)s.pool_empty,
	       s.blocks_free, s.nblocks, (unsigned long long)s.bad_release);
	printf("batches:");
	for (int m = 0; m < M_NR; m++)
		printf(" %s %llu", mode_name[m], (unsigned long long)atomic_load(&modes[m]));
	printf("; refs taken %llu, owner-path releases %llu (%llu by a bound thread's umem__release_bulk, %llu into the bias, %llu spares), home waits %llu\n",
	       (unsigned long long)atomic_load(&refs_taken),
	       (unsigned long long)atomic_load(&owner_released),
	       (unsigned long long)atomic_load(&bound_released),
	       (unsigned long long)atomic_load(&given_back),
	       (unsigned long long)atomic_load(&spares),
	       (unsigned long long)atomic_load(&skipped_home));
	printf("releasers: %llu runs sent (frags of %llu by a bound consumer's umem__release_bulk), %llu applied by inboxes (%llu detached blocks freed there, %llu retired ones freed without an atomic), %llu by their releaser after the cache went; %llu cache restarts\n",
	       (unsigned long long)atomic_load(&runs_sent),
	       (unsigned long long)atomic_load(&rel_bound_released),
	       (unsigned long long)atomic_load(&inbox_runs),
	       (unsigned long long)atomic_load(&inbox_freed),
	       (unsigned long long)atomic_load(&retired_freed),
	       (unsigned long long)atomic_load(&runs_rescued),
	       (unsigned long long)atomic_load(&restarts));

	expect_eq(atomic_load(&corrupt), 0);
	expect_eq(bad_cp, 0);
	/* Every reference handed out came back exactly once. */
	expect_eq(atomic_load(&released), atomic_load(&carved) + atomic_load(&refs_taken));
	expect_eq(s.blocks_free, s.nblocks);
	expect_eq(s.bad_release, 0);
	expect_true(atomic_load(&carved) > 0);
	/* A run of this size that never took a path did not test it. */
	if (atomic_load(&carved) >= 20000) {
		for (int m = 0; m < M_NR; m++)
			expect_true(atomic_load(&modes[m]) > 0);
		expect_true(atomic_load(&given_back) > 0);
		expect_true(atomic_load(&bound_released) > 0);
		expect_true(atomic_load(&rel_bound_released) > 0);
		expect_true(atomic_load(&spares) > 0);
		expect_true(atomic_load(&runs_sent) > 0);
		expect_true(atomic_load(&inbox_runs) > 0);
		expect_true(atomic_load(&inbox_freed) > 0);
		expect_true(atomic_load(&retired_freed) > 0);
		expect_true(atomic_load(&restarts) > 0);
	}
	if (took >= 0.5)
		expect_true(checkpoints > 0);
	xfrag_umem__destroy(u);
}

TEST_MAIN(T(cross_thread_release_returns_every_block))
