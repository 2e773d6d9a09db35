// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Gathering a run's counters. See stats.h. */
#include <string.h>

#include "path.h"
#include "stats.h"

static void add_stats(struct xfrag_rxq_stats *d, const struct xfrag_rxq_stats *s)
{
	d->xdp_seen += s->xdp_seen;
	d->xdp_redirected += s->xdp_redirected;
	d->xdp_passed += s->xdp_passed;
	d->xdp_dropped += s->xdp_dropped;
	d->xdp_redirect_failed += s->xdp_redirect_failed;
	d->xdp_malformed += s->xdp_malformed;
	d->rx_dropped += s->rx_dropped;
	d->rx_invalid_descs += s->rx_invalid_descs;
	d->rx_ring_full += s->rx_ring_full;
	d->rx_fill_ring_empty += s->rx_fill_ring_empty;
	d->rx_packets += s->rx_packets;
	d->rx_bytes += s->rx_bytes;
	d->fill_posted += s->fill_posted;
	d->fill_short += s->fill_short;
	d->wakeups += s->wakeups;
	d->copies += s->copies;
	d->copy_bytes += s->copy_bytes;
	d->fill_level += s->fill_level;
	d->fill_capacity += s->fill_capacity;
	d->fill_target += s->fill_target;
	d->kernel_chunks += s->kernel_chunks;
	d->fill_invalid += s->fill_invalid;
	d->frame_size = s->frame_size;
	d->headroom = s->headroom;
	d->chunks_per_block = s->chunks_per_block;
	d->zerocopy |= s->zerocopy;
	d->page_cross_ok = s->page_cross_ok;
}

static void add_counters(struct xfrag_xdp_counters *d, const struct xfrag_xdp_counters *x)
{
	d->seen += x->seen;
	d->matched += x->matched;
	d->redirected += x->redirected;
	d->passed += x->passed;
	d->dropped += x->dropped;
	d->redirect_failed += x->redirect_failed;
	d->malformed += x->malformed;
	d->seen_bytes += x->seen_bytes;
	d->redirected_bytes += x->redirected_bytes;
	d->meta_failed += x->meta_failed;
}

void gather(struct rx_run *r, struct totals *tt)
{
	const struct rx_cfg *c = r->cfg;
	unsigned int i;

	memset(tt, 0, sizeof(*tt));
	tt->x.sz = sizeof(tt->x);
	for (i = 0; i < c->nq; i++) {
		struct rx_thread *t = &r->t[i];
		struct xfrag_rxq_stats s = { .sz = sizeof(s) };
		XFRAG_OPTS(xfrag_xdp_counters, x);

		r->path->stats(r, i, &s);
		add_stats(&tt->s, &s);
		if (!xfrag_xdp__counters(r->xdp, t->queue, &x))
			add_counters(&tt->x, &x);
		tt->packets += atomic_load_explicit(&t->packets, memory_order_relaxed);
		tt->bytes += atomic_load_explicit(&t->bytes, memory_order_relaxed);
		tt->corrupt += atomic_load_explicit(&t->corrupt, memory_order_relaxed);
		tt->verified += atomic_load_explicit(&t->verified, memory_order_relaxed);
		tt->foreign += atomic_load_explicit(&t->foreign, memory_order_relaxed);
	}
	tt->fill_level = tt->s.fill_level;
	tt->fill_capacity = tt->s.fill_capacity;
	tt->zerocopy = tt->s.zerocopy;
	r->path->umem_usage(r, &tt->umem_size, &tt->umem_in_use);
	/* A fixed frame is its own block. */
	tt->blocks_in_use = tt->umem_in_use / (c->fixed ? c->frame_size : c->block_size);
}

uint64_t kernel_drops(const struct xfrag_rxq_stats *s)
{
	/*
	 * In copy mode a frame that finds the fill ring empty counts in both
	 * rx_dropped and rx_fill_ring_empty: the latter is a cause, not an
	 * extra drop, so it is not added here.
	 */
	return s->rx_dropped + s->rx_ring_full + s->rx_invalid_descs;
}

void peak_sample(struct rx_run *r, uint64_t *peak)
{
	uint64_t size, in_use;

	r->path->umem_usage(r, &size, &in_use);
	if (in_use > *peak)
		*peak = in_use;
}
