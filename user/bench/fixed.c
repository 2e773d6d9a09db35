// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xfrag-bench rx --fixed-frames: the classic AF_XDP receive loop that every
 * example uses (xdpsock's rxdrop), as the baseline for the frag allocator.
 *
 * The UMEM is cut into fixed frames (4096 or 2048 bytes) in aligned mode;
 * each queue owns a slice of them. The loop peeks a batch of RX
 * descriptors, reserves as many fill-ring slots and writes each RX address
 * straight back: no allocator at all. The hold workload keeps the newest N
 * frames out of circulation and posts a spare (or the frame it lets go)
 * instead. Same XDP program, same per-batch accounting as the xfrag path.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "account.h"
#include "bench.h"
#include "device.h"
#include "path.h"
#include "signals.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

struct fixed_q {
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_socket *xsk;
	int fd;
	bool zerocopy;
	bool busy_poll;
	uint64_t *spare; /* free frames (the hold workload's reserve) */
	uint32_t nspare;
	uint32_t nframes;
	uint64_t wakeups;
	uint64_t fill_posted;
};

struct fixed {
	uint8_t *area;
	uint64_t size;
	uint32_t frame_size;
	struct xsk_umem *umem;
	struct fixed_q q[RX_MAX_QUEUES];
};

static int open_socket(struct fixed *fx, const struct rx_cfg *c, unsigned int i)
{
	struct fixed_q *q = &fx->q[i];
	struct xsk_socket_config cfg = {
		.rx_size = c->ring_size,
		.tx_size = 0,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	};
	bool zc = c->bind_mode != XFRAG_BIND_COPY;
	unsigned int tries, delay = 2;
	int err;

	for (tries = 0;; tries++) {
		if (i)
			memset(&q->fill, 0, sizeof(q->fill)), memset(&q->comp, 0, sizeof(q->comp));
		memset(&q->rx, 0, sizeof(q->rx));
		cfg.bind_flags = XDP_USE_NEED_WAKEUP | (zc ? XDP_ZEROCOPY : XDP_COPY);
		err = xsk_socket__create_shared(&q->xsk, c->ifname, c->queues[i], fx->umem,
						&q->rx, NULL, &q->fill, &q->comp, &cfg);
		if (!err)
			break;
		if (zc && c->bind_mode == XFRAG_BIND_AUTO &&
		    (err == -EOPNOTSUPP || err == -EINVAL || err == -EPROTONOSUPPORT)) {
			zc = false;
			continue;
		}
		/* A queue whose socket just closed stays busy for ~40 ms. */
		if (err == -EBUSY && tries < 12) {
			sleep_ms(delay);
			delay *= 2;
			if (delay > 200)
				delay = 200;
			continue;
		}
		if (zc && err == -EOPNOTSUPP)
			fprintf(stderr, "rx: zero-copy was required (-z) but %s does not support it\n",
				c->ifname);
		else
			fprintf(stderr, "rx: cannot bind an AF_XDP socket to %s queue %u (%s mode): %s\n",
				c->ifname, c->queues[i], zc ? "zero-copy" : "copy", strerror(-err));
		return err;
	}
	q->fd = xsk_socket__fd(q->xsk);
	/* Ask the kernel: a socket sharing the UMEM is bound without flags
	 * (libxdp drops them) and takes the first socket's mode. */
	q->zerocopy = xsk_zerocopy(q->fd);
	if (c->busy_poll_us) {
		int v = 1, us = (int)c->busy_poll_us, budget = (int)c->batch;

		if (setsockopt(q->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &v, sizeof(v)) ||
		    setsockopt(q->fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) ||
		    setsockopt(q->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget))) {
			err = -errno;
			fprintf(stderr, "rx: queue %u: enabling busy polling failed: %s\n",
				c->queues[i], strerror(errno));
			return err;
		}
		q->busy_poll = true;
	}
	return 0;
}

static int fixed_setup(struct rx_run *r)
{
	struct rx_cfg *c = r->cfg;
	struct fixed *fx;
	uint32_t fs = c->frame_size, per, posted, k;
	uint64_t frames;
	unsigned int i;
	int err;

	fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -ENOMEM;
	r->fx = fx;
	for (i = 0; i < RX_MAX_QUEUES; i++)
		fx->q[i].fd = -1;
	per = c->ring_size + (c->wl == WL_HOLD ? c->wl_arg : 0);
	frames = c->umem_size ? c->umem_size / fs : (uint64_t)c->nq * per;
	per = (uint32_t)(frames / c->nq);
	fx->frame_size = fs;
	fx->size = (uint64_t)per * c->nq * fs;
	c->umem_size = fx->size;
	fx->area = mmap(NULL, fx->size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (fx->area == MAP_FAILED) {
		fx->area = NULL;
		fprintf(stderr, "rx: cannot map %llu bytes for the UMEM: %s\n",
			(unsigned long long)fx->size, strerror(errno));
		return -ENOMEM;
	}
	{
		struct xsk_umem_config ucfg = {
			.fill_size = c->ring_size,
			.comp_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
			.frame_size = fs,
			.frame_headroom = c->headroom,
			.flags = 0,
		};

		/* libxdp 1.3.1 leaves the rings' cached counters unset. */
		memset(&fx->q[0].fill, 0, sizeof(fx->q[0].fill));
		memset(&fx->q[0].comp, 0, sizeof(fx->q[0].comp));
		err = xsk_umem__create(&fx->umem, fx->area, fx->size, &fx->q[0].fill,
				       &fx->q[0].comp, &ucfg);
		if (err) {
			fprintf(stderr, "rx: registering the UMEM (%llu bytes, %u-byte frames) failed: %s\n",
				(unsigned long long)fx->size, fs, strerror(-err));
			return err;
		}
	}
	for (i = 0; i < c->nq; i++) {
		struct fixed_q *q = &fx->q[i];
		uint64_t base = (uint64_t)i * per * fs;

		err = open_socket(fx, c, i);
		if (err)
			return err;
		q->nframes = per;
		q->spare = malloc(sizeof(uint64_t) * per);
		if (!q->spare)
			return -ENOMEM;
		/* The fill ring takes the first frames, the rest wait as spares. */
		posted = per < c->ring_size ? per : c->ring_size;
		if (xsk_ring_prod__reserve(&q->fill, posted, &k) != posted) {
			fprintf(stderr, "rx: queue %u: cannot stock the fill ring\n", c->queues[i]);
			return -ENOSPC;
		}
		for (uint32_t j = 0; j < posted; j++)
			*xsk_ring_prod__fill_addr(&q->fill, k + j) = base + (uint64_t)j * fs;
		xsk_ring_prod__submit(&q->fill, posted);
		q->fill_posted = posted;
		for (uint32_t j = per; j > posted; j--)
			q->spare[q->nspare++] = base + (uint64_t)(j - 1) * fs;
		r->t[i].fq = q;
		err = xfrag_xdp__set_xsk(r->xdp, c->queues[i], q->fd);
		if (err) {
			fprintf(stderr, "rx: cannot route queue %u to its socket: %s\n",
				c->queues[i], strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Owner-written counters the main thread reads: relaxed atomic words. */
#define bump(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define peek(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

static inline void wake(struct fixed_q *q)
{
	if (q->busy_poll || xsk_ring_prod__needs_wakeup(&q->fill)) {
		recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		bump(q->wakeups, 1);
	}
}

static void *fixed_thread(void *arg)
{
	struct rx_thread *t = arg;
	struct rx_run *r = t->run;
	const struct rx_cfg *c = r->cfg;
	struct fixed_q *q = t->fq;
	uint8_t *area = r->fx->area;
	struct xfrag_pkt pkts[RX_MAX_BATCH];
	uint64_t mine = 0;
	uint32_t idx_rx, idx_fq, n, i, cap = c->wl_arg;

	pin_cpu(t->cpu);
	while (!stop_requested()) {
		uint32_t max = c->batch;

		if (c->count && c->nq == 1 && c->count - mine < max)
			max = (uint32_t)(c->count - mine);
		n = xsk_ring_cons__peek(&q->rx, max, &idx_rx);
		if (!n) {
			wake(q);
			continue;
		}
		for (i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx_rx + i);
			uint8_t *data = xsk_umem__get_data(area, xsk_umem__add_offset_to_addr(d->addr));
			const struct xfrag_meta *m = (const void *)(data - sizeof(*m));

			/* Only rx_account() and the hold ring read these views. */
			pkts[i] = (struct xfrag_pkt){
				.data = data,
				.len = d->len,
				.addr = xsk_umem__extract_addr(d->addr),
				.meta_len = (m->flags & XFRAG_META_MAGIC_MASK) == XFRAG_META_MAGIC ?
					    sizeof(*m) : 0,
				.nsegs = 1,
			};
		}
		rx_account(t, pkts, n, now_ns());
		/*
		 * The program stamps a sample of the frames; a frame it did not
		 * stamp finds the previous occupant's stamp in the headroom. The
		 * baseline's frames all pass through here before they are
		 * posted again, so clearing the mark once read is enough.
		 */
		for (i = 0; i < n; i++)
			if (pkts[i].meta_len)
				((struct xfrag_meta *)(pkts[i].data - sizeof(struct xfrag_meta)))->flags = 0;

		/* Fill slots for as many frames as we took. */
		while (xsk_ring_prod__reserve(&q->fill, n, &idx_fq) != n) {
			if (stop_requested())
				goto out;
			wake(q);
		}
		if (c->wl != WL_HOLD) {
			for (i = 0; i < n; i++)
				*xsk_ring_prod__fill_addr(&q->fill, idx_fq + i) = pkts[i].addr;
		} else {
			for (i = 0; i < n; i++) {
				uint64_t give;

				if (t->held_n < cap) {
					give = q->spare[q->nspare - 1];
					bump(q->nspare, -1);
					t->held_n++;
				} else {
					give = t->held[t->held_head].addr;
					t->held_head = (t->held_head + 1) % cap;
				}
				t->held[(t->held_head + t->held_n - 1) % cap] = pkts[i];
				*xsk_ring_prod__fill_addr(&q->fill, idx_fq + i) = give;
			}
		}
		xsk_ring_prod__submit(&q->fill, n);
		xsk_ring_cons__release(&q->rx, n);
		bump(q->fill_posted, n);
		mine += n;
		if (c->count && atomic_fetch_add(&r->total, n) + n >= c->count)
			stop_request();
	}
out:
	/* Held frames go back to the spares: nothing else owns them. */
	while (t->held_n) {
		q->spare[q->nspare] = t->held[t->held_head].addr;
		bump(q->nspare, 1);
		t->held_head = (t->held_head + 1) % (cap ? cap : 1);
		t->held_n--;
	}
	return NULL;
}

static void fixed_stats(struct rx_run *r, unsigned int i, struct xfrag_rxq_stats *s)
{
	struct fixed_q *q = &r->fx->q[i];
	struct xdp_statistics xs = { 0 };
	socklen_t len = sizeof(xs);
	XFRAG_OPTS(xfrag_xdp_counters, x);
	uint32_t prod, cons;

	memset((char *)s + sizeof(size_t), 0, sizeof(*s) - sizeof(size_t));
	if (!xfrag_xdp__counters(r->xdp, r->cfg->queues[i], &x)) {
		s->xdp_seen = x.seen;
		s->xdp_redirected = x.redirected;
		s->xdp_passed = x.passed;
		s->xdp_dropped = x.dropped;
		s->xdp_redirect_failed = x.redirect_failed;
		s->xdp_malformed = x.malformed;
	}
	if (q->fd >= 0 && !getsockopt(q->fd, SOL_XDP, XDP_STATISTICS, &xs, &len)) {
		s->rx_dropped = xs.rx_dropped;
		s->rx_invalid_descs = xs.rx_invalid_descs;
		s->rx_ring_full = xs.rx_ring_full;
		s->rx_fill_ring_empty = xs.rx_fill_ring_empty_descs;
		s->tx_invalid_descs = xs.tx_invalid_descs;
	}
	if (q->fill.producer) {
		/* Shared ring words, read without touching the owner's cache. */
		prod = __atomic_load_n(q->fill.producer, __ATOMIC_ACQUIRE);
		cons = __atomic_load_n(q->fill.consumer, __ATOMIC_ACQUIRE);
		s->fill_level = prod - cons;
	}
	s->fill_capacity = r->cfg->ring_size;
	s->fill_posted = peek(q->fill_posted);
	s->wakeups = peek(q->wakeups);
	s->frame_size = r->fx->frame_size;
	s->headroom = r->cfg->headroom;
	s->chunks_per_block = 1;
	s->zerocopy = q->zerocopy;
}

static uint64_t fixed_drain(struct rx_run *r, unsigned int i, uint64_t *bytes)
{
	struct fixed_q *q = &r->fx->q[i];
	uint64_t total = 0;
	uint32_t idx, n, k;

	while ((n = xsk_ring_cons__peek(&q->rx, RX_MAX_BATCH, &idx))) {
		for (k = 0; k < n; k++)
			*bytes += xsk_ring_cons__rx_desc(&q->rx, idx + k)->len;
		xsk_ring_cons__release(&q->rx, n);
		total += n;
	}
	return total;
}

static void fixed_umem_usage(struct rx_run *r, uint64_t *size, uint64_t *in_use)
{
	struct fixed *fx = r->fx;
	uint64_t spare = 0;
	unsigned int i;

	*size = fx ? fx->size : 0;
	if (!fx) {
		*in_use = 0;
		return;
	}
	for (i = 0; i < r->cfg->nq; i++)
		spare += peek(fx->q[i].nspare);
	/* Every frame not in the spare stack circulates (fill, RX, held). */
	*in_use = fx->size - spare * fx->frame_size;
}

static void fixed_teardown(struct rx_run *r)
{
	struct fixed *fx = r->fx;
	unsigned int i;

	if (!fx)
		return;
	for (i = 0; i < RX_MAX_QUEUES; i++) {
		if (fx->q[i].xsk) {
			xfrag_xdp__clear_xsk(r->xdp, r->cfg->queues[i]);
			xsk_socket__delete(fx->q[i].xsk);
		}
		free(fx->q[i].spare);
	}
	if (fx->umem)
		xsk_umem__delete(fx->umem);
	if (fx->area)
		munmap(fx->area, fx->size);
	free(fx);
	r->fx = NULL;
}

const struct rx_path rx_path_fixed = {
	.name = "fixed",
	.setup = fixed_setup,
	.thread = fixed_thread,
	.stats = fixed_stats,
	.drain = fixed_drain,
	.umem_usage = fixed_umem_usage,
	.teardown = fixed_teardown,
};
