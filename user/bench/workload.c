// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* rx workloads: drop, touch, hold, workers, capture. See workload.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "capture.h"
#include "signals.h"
#include "snapshot.h"
#include "spsc.h"
#include "workload.h"

/* Batches a worker's ring holds from each rx thread. */
#define WORKER_RING_BATCHES 64

int opt_workload(void *field, const char *arg, char *why, size_t len)
{
	struct rx_cfg *c = field;
	uint64_t v;

	c->wl_given = true;
	if (!strcmp(arg, "drop")) {
		c->wl = WL_DROP;
		return 0;
	}
	if (!strcmp(arg, "touch")) {
		c->wl = WL_TOUCH;
		return 0;
	}
	if (!strncmp(arg, "hold:", 5)) {
		if (parse_size(arg + 5, &v) || v < 1 || v > (1u << 24))
			return -1;
		c->wl = WL_HOLD;
		c->wl_arg = (uint32_t)v;
		return 0;
	}
	if (!strncmp(arg, "workers:", 8)) {
		if (parse_size(arg + 8, &v) || v < 1 || v > RX_MAX_WORKERS)
			return -1;
		c->wl = WL_WORKERS;
		c->wl_arg = (uint32_t)v;
		return 0;
	}
	return -1;
}

const char *workload_name(const struct rx_cfg *c, char *buf, size_t len)
{
	switch (c->wl) {
	case WL_DROP: return "drop";
	case WL_TOUCH: return "touch";
	case WL_HOLD: snprintf(buf, len, "hold:%u", c->wl_arg); return buf;
	case WL_WORKERS: snprintf(buf, len, "workers:%u", c->wl_arg); return buf;
	case WL_CAPTURE: return "capture";
	}
	return "?";
}

static uint32_t worker_ring_frames(const struct rx_cfg *c)
{
	return WORKER_RING_BATCHES * c->batch;
}

uint64_t workload_chunks(const struct rx_cfg *c)
{
	switch (c->wl) {
	case WL_HOLD:
		return c->wl_arg;
	case WL_WORKERS:
		return (uint64_t)c->wl_arg * worker_ring_frames(c);
	case WL_CAPTURE:
		return c->write_queue;
	default:
		return 0;
	}
}

/* -------------------------------------------------------------- hold -- */

/* Keep the newest N packets; release what falls out of the window. */
static void hold_batch(struct rx_thread *t, const struct xfrag_pkt *pkts, unsigned int n)
{
	uint32_t cap = t->run->cfg->wl_arg, keep, ev, pos, span;

	keep = n < cap ? n : cap;
	if (n > keep)
		xfrag_rxq__release(t->q, pkts, n - keep);
	pkts += n - keep;
	ev = t->held_n + keep > cap ? t->held_n + keep - cap : 0;
	while (ev) {
		span = cap - t->held_head;
		if (span > ev)
			span = ev;
		xfrag_rxq__release(t->q, t->held + t->held_head, span);
		t->held_head = (t->held_head + span) % cap;
		t->held_n -= span;
		ev -= span;
	}
	while (keep) {
		pos = (t->held_head + t->held_n) % cap;
		span = cap - pos;
		if (span > keep)
			span = keep;
		memcpy(t->held + pos, pkts, span * sizeof(*pkts));
		t->held_n += span;
		pkts += span;
		keep -= span;
	}
}

static void hold_release_all(struct rx_thread *t, struct xfrag_umem *u)
{
	uint32_t cap = t->run->cfg->wl_arg, span;

	while (t->held_n) {
		span = cap - t->held_head;
		if (span > t->held_n)
			span = t->held_n;
		xfrag_pkt__release_bulk(u, t->held + t->held_head, span);
		t->held_head = (t->held_head + span) % cap;
		t->held_n -= span;
	}
}

/* ----------------------------------------------------------- workers -- */

/* Hand a batch to the next worker; wait while its ring is full. */
static void to_worker(struct rx_thread *t, const struct xfrag_pkt *pkts, unsigned int n)
{
	struct spsc *r = t->rings[t->next_worker];

	t->next_worker = (t->next_worker + 1) % t->run->cfg->wl_arg;
	while (spsc_room(r, n) < n) {
		if (stop_requested()) {
			xfrag_pkt__release_bulk(t->run->umem, pkts, n);
			return;
		}
		t->ring_stalls++;
		snapshot_maybe(t);
		cpu_relax();
	}
	spsc_push(r, pkts, n);
}

static void *worker_thread(void *arg)
{
	struct rx_worker *w = arg;
	struct rx_run *run = w->run;
	struct xfrag_umem *u = run->umem;
	unsigned int i, nq = run->cfg->nq, idle = 0, n;
	struct xfrag_pkt *p;
	uint64_t done = 0;
	/* The frames' way back: see spsc_consumer_releaser(). */
	struct xfrag_releaser *rel = spsc_consumer_releaser(u);

	for (;;) {
		bool any = false, finished = atomic_load_explicit(&run->rx_done,
								   memory_order_acquire);

		for (i = 0; i < nq; i++) {
			struct spsc *r = run->t[i].rings[w->idx];

			while ((n = spsc_peek(r, &p))) {
				xfrag_pkt__release_bulk(u, p, n);
				spsc_pop(r, n);
				done += n;
				any = true;
			}
		}
		atomic_store_explicit(&w->packets, done, memory_order_relaxed);
		if (any)
			idle = 0;
		else if (finished)
			break;
		else
			idle_backoff(&idle);
	}
	xfrag_releaser__destroy(rel);
	return NULL;
}

static int workers_start(struct rx_run *r)
{
	const struct rx_cfg *c = r->cfg;
	unsigned int i, k;

	r->w = aligned_alloc(64, sizeof(*r->w) * c->wl_arg);
	if (!r->w)
		goto nomem;
	memset(r->w, 0, sizeof(*r->w) * c->wl_arg);
	for (i = 0; i < c->nq; i++) {
		r->t[i].rings = calloc(c->wl_arg, sizeof(struct spsc *));
		if (!r->t[i].rings)
			goto nomem;
		for (k = 0; k < c->wl_arg; k++)
			if (!(r->t[i].rings[k] = spsc_new(worker_ring_frames(c))))
				goto nomem;
	}
	for (i = 0; i < c->wl_arg; i++) {
		r->w[i].run = r;
		r->w[i].idx = i;
		if (pthread_create(&r->w[i].th, NULL, worker_thread, &r->w[i])) {
			fprintf(stderr, "rx: cannot start worker %u\n", i);
			return -1;
		}
		r->w[i].started = true;
	}
	return 0;
nomem:
	fprintf(stderr, "rx: out of memory for the worker rings\n");
	return -1;
}

/* ---------------------------------------------------------- dispatch -- */

int workload_setup(struct rx_run *r)
{
	const struct rx_cfg *c = r->cfg;
	unsigned int i;

	switch (c->wl) {
	case WL_HOLD:
		for (i = 0; i < c->nq; i++) {
			r->t[i].held = calloc(c->wl_arg, sizeof(struct xfrag_pkt));
			if (!r->t[i].held) {
				fprintf(stderr, "rx: out of memory for hold:%u\n", c->wl_arg);
				return -1;
			}
		}
		return 0;
	case WL_WORKERS:
		return workers_start(r);
	case WL_CAPTURE:
		return capture_start(r->cap, r);
	default:
		return 0;
	}
}

void workload_batch(struct rx_thread *t, const struct xfrag_pkt *pkts, unsigned int n)
{
	switch (t->run->cfg->wl) {
	case WL_DROP:
	case WL_TOUCH:
		/* Same thread: the queue's cache takes them back. */
		xfrag_rxq__release(t->q, pkts, n);
		break;
	case WL_HOLD:
		hold_batch(t, pkts, n);
		break;
	case WL_WORKERS:
		to_worker(t, pkts, n);
		break;
	case WL_CAPTURE:
		capture_push(t->run->cap, t, pkts, n);
		break;
	}
}

void workload_thread_end(struct rx_thread *t)
{
	if (t->held_n && t->run->umem)
		hold_release_all(t, t->run->umem);
}

void workload_drained(struct rx_thread *t, const struct xfrag_pkt *pkts, unsigned int n)
{
	if (t->run->cfg->wl == WL_CAPTURE)
		capture_push_wait(t->run->cap, t, pkts, n);
	else
		xfrag_pkt__release_bulk(t->run->umem, pkts, n);
}

void workload_stop(struct rx_run *r)
{
	unsigned int i;

	atomic_store(&r->rx_done, true);
	if (r->w)
		for (i = 0; i < r->cfg->wl_arg; i++)
			if (r->w[i].started) {
				pthread_join(r->w[i].th, NULL);
				r->w[i].started = false;
			}
}

int workload_finish(struct rx_run *r)
{
	return r->cap ? capture_finish(r->cap) : 0;
}

void workload_teardown(struct rx_run *r)
{
	const struct rx_cfg *c = r->cfg;
	unsigned int i, k;

	workload_stop(r);
	capture_close(r->cap);
	r->cap = NULL;
	for (i = 0; r->t && i < c->nq; i++) {
		workload_thread_end(&r->t[i]);
		if (r->t[i].rings)
			for (k = 0; k < c->wl_arg; k++)
				spsc_free(r->t[i].rings[k]);
		free(r->t[i].rings);
		r->t[i].rings = NULL;
		free(r->t[i].held);
		r->t[i].held = NULL;
	}
	free(r->w);
	r->w = NULL;
}

uint64_t workload_stalls(const struct rx_run *r)
{
	uint64_t s = 0;
	unsigned int i;

	for (i = 0; i < r->cfg->nq; i++)
		s += r->t[i].ring_stalls;
	return s;
}
