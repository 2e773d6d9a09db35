// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rx's xfrag path: one UMEM carved into frags for every queue, one
 * xfrag_rxq per queue, the receive loop that accounts for each batch and
 * hands it to the workload. See path.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "bench.h"
#include "path.h"
#include "signals.h"
#include "snapshot.h"
#include "workload.h"

static int xfrag_setup(struct rx_run *r)
{
	struct rx_cfg *c = r->cfg;
	struct xfrag_umem_stats us;
	uint32_t fs = c->frame_size, cpb;
	uint64_t chunks, need;
	unsigned int i;

	if (!fs)
		fs = xfrag_frame_size_for_mtu(c->mtu, c->headroom);
	/* Chunks the queues need: rings, then what the workload keeps. */
	chunks = (uint64_t)c->nq * (2ull * c->ring_size + workload_chunks(c));
	if (!c->umem_size) {
		/* Conservative: chunks never cross 4 KiB pages. */
		cpb = c->block_size >= 4096 ? (c->block_size / 4096) * (4096 / fs) : 0;
		if (!cpb)
			cpb = 1;
		need = ((chunks + cpb - 1) / cpb + 2ull * c->nq) * c->block_size;
		c->umem_size = need < (16u << 20) ? (16u << 20) : need;
	}
	{
		XFRAG_OPTS(xfrag_umem_opts, uo, .size = c->umem_size,
			   .block_size = c->block_size);
		r->umem = xfrag_umem__create(&uo);
	}
	if (!r->umem) {
		fprintf(stderr, "rx: cannot create a UMEM of %llu bytes in %u-byte blocks: %s\n",
			(unsigned long long)c->umem_size, c->block_size, strerror(errno));
		return -1;
	}
	xfrag_umem__stats(r->umem, &us);
	cpb = us.backing == XFRAG_BACKING_HUGETLB || c->block_size < 4096 ?
		c->block_size / fs : (c->block_size / 4096) * (4096 / fs);
	if ((uint64_t)cpb * us.nblocks < (uint64_t)c->nq * 2 * c->ring_size) {
		fprintf(stderr,
			"rx: UMEM too small for the rings: %llu bytes (%u blocks of %u) hold %llu chunks of %u bytes, but %u queue%s with %u-entry fill and rx rings need %llu; use -u %lluM or smaller rings (-r)\n",
			(unsigned long long)us.size, us.nblocks, us.block_size,
			(unsigned long long)cpb * us.nblocks, fs, c->nq, c->nq == 1 ? "" : "s",
			c->ring_size, (unsigned long long)c->nq * 2 * c->ring_size,
			(unsigned long long)((((uint64_t)c->nq * 2 * c->ring_size + cpb - 1) / cpb + 2ull * c->nq) *
					     c->block_size + (1 << 20) - 1) >> 20);
		return -1;
	}
	if ((uint64_t)cpb * us.nblocks < chunks) {
		char wl[32];

		fprintf(stderr, "rx: warning: the UMEM holds %llu chunks, the rings and the %s workload may want %llu: expect fill-ring drops\n",
			(unsigned long long)cpb * us.nblocks, workload_name(c, wl, sizeof(wl)),
			(unsigned long long)chunks);
	}
	for (i = 0; i < c->nq; i++) {
		XFRAG_OPTS(xfrag_rxq_opts, o, .queue_id = c->queues[i],
			   .frame_size = fs, .headroom = c->headroom,
			   .fill_size = c->ring_size, .rx_size = c->ring_size,
			   .bind_mode = c->bind_mode, .busy_poll_us = c->busy_poll_us,
			   .busy_poll_budget = c->busy_poll_us ? c->batch : 0,
			   .copybreak = c->copybreak, .fill_target = c->fill_target);

		r->t[i].q = xfrag_rxq__create(r->umem, r->xdp, &o);
		if (!r->t[i].q) {
			int e = errno;

			fprintf(stderr, "rx: cannot open queue %u of %s: %s\n",
				c->queues[i], c->ifname,
				e == ERANGE ? "queue out of range" : xfrag_strerror(-e));
			return -1;
		}
	}
	c->frame_size = fs;
	return 0;
}

static void *xfrag_thread(void *arg)
{
	struct rx_thread *t = arg;
	struct rx_run *run = t->run;
	const struct rx_cfg *c = run->cfg;
	struct xfrag_pkt pkts[RX_MAX_BATCH];
	uint64_t mine = 0;
	int n;

	pin_cpu(t->cpu);
	while (!stop_requested()) {
		unsigned int max = c->batch;

		/* One queue: stop at exactly --count frames. */
		if (c->count && c->nq == 1 && c->count - mine < max)
			max = (unsigned int)(c->count - mine);
		snapshot_maybe(t);
		n = xfrag_rxq__recv(t->q, pkts, max);
		if (xfrag_unlikely(n <= 0)) {
			if (n < 0) {
				t->err = n;
				stop_request();
			}
			continue;
		}
		rx_account(t, pkts, (unsigned int)n, now_ns());
		workload_batch(t, pkts, (unsigned int)n);
		mine += (uint64_t)n;
		if (c->count && atomic_fetch_add(&run->total, (uint64_t)n) + (uint64_t)n >= c->count)
			stop_request();
	}
	workload_thread_end(t);
	return NULL;
}

static void xfrag_stats(struct rx_run *r, unsigned int i, struct xfrag_rxq_stats *s)
{
	if (r->t[i].q)
		snapshot_take(&r->t[i], s);
}

static uint64_t xfrag_drain(struct rx_run *r, unsigned int i, uint64_t *bytes)
{
	struct rx_thread *t = &r->t[i];
	struct xfrag_pkt pkts[RX_MAX_BATCH];
	uint64_t total = 0;
	int n, k, idle = 0;

	while (idle < 2) {
		n = xfrag_rxq__recv(t->q, pkts, RX_MAX_BATCH);
		if (n <= 0) {
			idle++;
			continue;
		}
		for (k = 0; k < n; k++)
			*bytes += pkts[k].len;
		total += (uint64_t)n;
		workload_drained(t, pkts, (unsigned int)n);
	}
	return total;
}

static void xfrag_umem_usage(struct rx_run *r, uint64_t *size, uint64_t *in_use)
{
	struct xfrag_umem_stats us;

	if (!r->umem || xfrag_umem__stats(r->umem, &us)) {
		*size = *in_use = 0;
		return;
	}
	*size = us.size;
	*in_use = (uint64_t)us.blocks_in_use * us.block_size;
}

static void xfrag_teardown(struct rx_run *r)
{
	unsigned int i;

	for (i = 0; r->t && i < r->cfg->nq; i++) {
		xfrag_rxq__destroy(r->t[i].q);
		r->t[i].q = NULL;
	}
}

const struct rx_path rx_path_xfrag = {
	.name = "xfrag",
	.setup = xfrag_setup,
	.thread = xfrag_thread,
	.stats = xfrag_stats,
	.drain = xfrag_drain,
	.umem_usage = xfrag_umem_usage,
	.teardown = xfrag_teardown,
};
