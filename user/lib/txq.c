// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TX queues: an AF_XDP TX ring whose frames are frags of the UMEM, carved
 * at their exact length by the queue's frag cache and released in bulk when
 * they complete.
 *
 * Every frame on the TX ring is also recorded in an in-flight FIFO. It
 * lets completions be checked against what was sent (a completion for an
 * address not in flight is counted and not released: releasing it would
 * corrupt a block's count) and lets destroy release the frames that never
 * complete.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "xsk_internal.h"
#include "xfrag/txq.h"

#define COMP_BATCH 256

struct xfrag_txq {
	/* hot: send and complete */
	struct xfrag_sock s; /* rings first */
	struct xfrag_cache *cache;
	struct xfrag_umem *umem;
	uint64_t *inflight; /* FIFO of addresses on the ring or in flight */
	uint32_t inflight_mask;
	uint32_t head, tail; /* FIFO indices, free running */
	uint32_t frame_size;
	bool wakeup;
	/* statistics, owner-written */
	uint64_t sent, sent_bytes, completed, kicks, eagain, ebusy, errors;
	uint64_t alloc_fail, comp_unknown;
	int last_error;
	/* cold */
	uint32_t queue_id;
	int ifindex;
	char ifname[IF_NAMESIZE];
	uint64_t batch[COMP_BATCH];
};

static int check_ring(const char *what, uint32_t v)
{
	if (!is_pow2(v) || v > (1u << 20)) {
		pr_err("%s ring size %u: must be a power of two up to 1M", what, v);
		return -EINVAL;
	}
	return 0;
}

struct xfrag_txq *xfrag_txq__create(struct xfrag_umem *umem,
				    const struct xfrag_txq_opts *opts)
{
	struct xfrag_sock_params p = { 0 };
	struct xfrag_dev_info di;
	const char *name;
	struct xfrag_txq *q;
	uint32_t fifo;
	int err;

	if (!umem || !opts || !OPTS_VALID(opts, xfrag_txq_opts)) {
		pr_err("xfrag_txq__create: %s", !umem ? "no UMEM" : "bad options");
		errno = EINVAL;
		return NULL;
	}
	name = OPTS_GET(opts, ifname, NULL);
	err = umem->ops->dev_info(umem->ops_ctx, name, OPTS_GET(opts, ifindex, 0), &di);
	if (err) {
		if (name)
			pr_err("interface '%s' not found", name);
		else
			pr_err("interface %d not found", OPTS_GET(opts, ifindex, 0));
		errno = ENODEV;
		return NULL;
	}
	p.ifindex = di.ifindex;
	p.queue_id = OPTS_GET(opts, queue_id, 0);
	p.tx_size = OPTS_GET(opts, tx_size, 0) ?: 2048;
	p.comp_size = OPTS_GET(opts, comp_size, 0) ?: 2048;
	p.fill_size = 2048; /* the kernel wants one; never posted to */
	p.rx_size = 0;
	p.headroom = OPTS_GET(opts, headroom, 0);
	p.frame_size = OPTS_GET(opts, frame_size, 0);
	if (!p.frame_size) {
		pthread_mutex_lock(&umem->lock);
		p.frame_size = umem->nsockets ? umem->frame_size : 4096;
		pthread_mutex_unlock(&umem->lock);
	}
	p.bind_mode = OPTS_GET(opts, bind_mode, XFRAG_BIND_AUTO);
	p.no_wakeup = OPTS_GET(opts, no_wakeup, false);
	if ((err = check_ring("tx", p.tx_size)) ||
	    (err = check_ring("completion", p.comp_size)))
		goto err_out;
	if (p.frame_size < XFRAG_FRAME_MIN || p.frame_size > XFRAG_FRAME_MAX) {
		pr_err("frame size %u out of range: unaligned-mode chunks are %u..%u bytes",
		       p.frame_size, XFRAG_FRAME_MIN, XFRAG_FRAME_MAX);
		err = -EINVAL;
		goto err_out;
	}
	if (p.headroom > p.frame_size - XFRAG_HEADROOM_SLACK) {
		pr_err("headroom %u too large for frame size %u (at most %u)",
		       p.headroom, p.frame_size, p.frame_size - XFRAG_HEADROOM_SLACK);
		err = -EINVAL;
		goto err_out;
	}
	if (p.bind_mode > XFRAG_BIND_ZEROCOPY) {
		pr_err("bind mode %u unknown", p.bind_mode);
		err = -EINVAL;
		goto err_out;
	}
	if (di.tx_queues && p.queue_id >= di.tx_queues) {
		pr_err("queue %u is out of range: %s has %u tx queue%s (see ethtool -l %s)",
		       p.queue_id, di.name, di.tx_queues, di.tx_queues == 1 ? "" : "s",
		       di.name);
		err = -ERANGE;
		goto err_out;
	}

	q = xfrag_zalloc_lines(sizeof(*q));
	if (!q) {
		err = -ENOMEM;
		goto err_out;
	}
	q->s.fd = -1;
	q->umem = umem;
	q->ifindex = p.ifindex;
	memcpy(q->ifname, di.name, sizeof(q->ifname));
	p.ifname = q->ifname;
	q->queue_id = p.queue_id;
	q->frame_size = p.frame_size;
	q->wakeup = !p.no_wakeup;
	/* Frames on the TX ring plus those the kernel holds until completion. */
	for (fifo = 1; fifo < p.tx_size + p.comp_size; fifo <<= 1)
		;
	q->inflight = calloc(fifo, sizeof(*q->inflight));
	if (!q->inflight) {
		err = -ENOMEM;
		goto err_free;
	}
	q->inflight_mask = fifo - 1;

	err = xfrag_sock_open(umem, &p, &q->s);
	if (err)
		goto err_free;
	{
		/*
		 * The kernel validates TX descriptors as it does fill entries:
		 * in zero-copy mode a frame may cross a 4 KiB page only where
		 * the DMA mapping is contiguous.
		 */
		XFRAG_OPTS(xfrag_cache_opts, co, .id = (uint16_t)(0x8000 | p.queue_id),
			   .no_page_cross = !xfrag_page_cross_ok(umem, q->s.zerocopy, di.dma,
								 XFRAG_PAGE_CROSS_AUTO));
		q->cache = xfrag_cache__create(umem, &co);
		if (!q->cache) {
			err = -errno;
			goto err_sock;
		}
	}
	xfrag_umem_get(umem);
	pr_info("%s queue %u: tx ring %u, completion ring %u, frames up to %u bytes, %s",
		q->ifname, p.queue_id, p.tx_size, p.comp_size, p.frame_size,
		q->s.zerocopy ? "zero-copy" : "copy mode");
	return q;

err_sock:
	xfrag_sock_close(&q->s);
err_free:
	free(q->inflight);
	free(q);
err_out:
	errno = -err;
	return NULL;
}

int xfrag_txq__alloc(struct xfrag_txq *q, uint32_t len, uint64_t *addr)
{
	int err;

	if (xfrag_unlikely(!q || !addr))
		return -EINVAL;
	if (xfrag_unlikely(len - 1 >= q->frame_size)) {
		*addr = XFRAG_NO_ADDR;
		return -EINVAL;
	}
	err = xfrag_cache__alloc(q->cache, len, XFRAG_TXQ_ALIGN, addr);
	if (xfrag_unlikely(err == -ENOBUFS))
		q->alloc_fail++;
	return err;
}

int xfrag_txq__alloc_burst(struct xfrag_txq *q, uint32_t len, uint64_t *addrs,
			   unsigned int n)
{
	/* Back-to-back frames of a multiple of 64 bytes, carved down from a
	 * block's end, all start 64-byte aligned. */
	uint32_t size = (len + XFRAG_TXQ_ALIGN - 1) & ~(uint32_t)(XFRAG_TXQ_ALIGN - 1);
	int got;

	if (xfrag_unlikely(!q || (!addrs && n) || len - 1 >= q->frame_size))
		return -EINVAL;
	got = xfrag_cache__alloc_burst(q->cache, size, addrs, n);
	if (xfrag_unlikely(got >= 0 && (unsigned int)got < n))
		q->alloc_fail++;
	return got;
}

/* Entries on the TX ring the kernel has not taken yet. */
static inline uint32_t tx_pending(const struct xfrag_txq *q)
{
	return q->s.tx.cached_prod -
	       __atomic_load_n(q->s.tx.consumer, __ATOMIC_ACQUIRE);
}

/*
 * One kick takes at most the kernel's per-call budget (32 frames in copy
 * mode) and says EAGAIN if more remain; EBUSY means the device dropped one
 * frame and the call stopped there. Kick until the ring is empty, within a
 * bound: a completion ring with no room also reads as EAGAIN, and only
 * draining it helps.
 */
static int kick(struct xfrag_txq *q, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < max; i++) {
		int err;

		q->kicks++;
		/* Success: copy mode took everything; zero-copy woke the driver. */
		err = xfrag_sock_kick(&q->s, true);
		switch (err) {
		case 0:
			return 0;
		case -EAGAIN:
			q->eagain++;
			if (!tx_pending(q))
				return 0;
			if (i & 1)
				xfrag_txq__complete(q);
			break;
		case -EBUSY:
			q->ebusy++;
			break;
		case -EINTR:
			break;
		default:
			q->errors++;
			q->last_error = err;
			return err;
		}
	}
	return 0;
}

int xfrag_txq__kick(struct xfrag_txq *q)
{
	uint32_t pending;

	if (!q)
		return -EINVAL;
	pending = tx_pending(q);
	if (!pending || (q->wakeup && !xsk_ring_prod__needs_wakeup(&q->s.tx)))
		return 0;
	return kick(q, pending / 16 + 4);
}

int xfrag_txq__send(struct xfrag_txq *q, const uint64_t *addrs,
		    const uint32_t *lens, unsigned int n)
{
	uint32_t idx, room, i;
	uint64_t bytes = 0;

	if (!q || (n && (!addrs || !lens)))
		return -EINVAL;
	room = xsk_prod_nb_free(&q->s.tx, n);
	if (room < n)
		n = room;
	room = q->inflight_mask + 1 - (q->tail - q->head);
	if (room < n)
		n = room;
	if (n && xsk_ring_prod__reserve(&q->s.tx, n, &idx) == n) {
		for (i = 0; i < n; i++) {
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&q->s.tx, idx + i);

			/* Options stay 0: an unknown bit wedges the ring. */
			d->addr = addrs[i];
			d->len = lens[i];
			d->options = 0;
			q->inflight[(q->tail + i) & q->inflight_mask] = addrs[i];
			bytes += lens[i];
		}
		xsk_ring_prod__submit(&q->s.tx, n);
		q->tail += n;
		q->sent += n;
		q->sent_bytes += bytes;
	} else {
		n = 0;
	}
	if (!q->wakeup || xsk_ring_prod__needs_wakeup(&q->s.tx)) {
		uint32_t pending = tx_pending(q);

		if (pending)
			kick(q, pending / 16 + 4);
	}
	return (int)n;
}

/* A completion that is not the oldest frame in flight: find it. */
static bool __attribute__((noinline)) match_slow(struct xfrag_txq *q, uint64_t addr)
{
	uint32_t i, m = q->inflight_mask;

	for (i = q->head + 1; i != q->tail; i++) {
		if (q->inflight[i & m] == addr) {
			q->inflight[i & m] = q->inflight[q->head & m];
			q->inflight[q->head & m] = addr;
			return true;
		}
	}
	return false;
}

int xfrag_txq__complete(struct xfrag_txq *q)
{
	uint32_t idx, n, i, k, m;
	int total = 0;

	if (!q)
		return -EINVAL;
	m = q->inflight_mask;
	while ((n = xsk_ring_cons__peek(&q->s.comp, COMP_BATCH, &idx))) {
		for (i = 0, k = 0; i < n; i++) {
			uint64_t a = *xsk_ring_cons__comp_addr(&q->s.comp, idx + i);

			/* Completions normally come back in send order. */
			if (xfrag_unlikely(q->head == q->tail ||
					   (q->inflight[q->head & m] != a &&
					    !match_slow(q, a)))) {
				q->comp_unknown++;
				continue;
			}
			q->head++;
			q->batch[k++] = a;
		}
		xsk_ring_cons__release(&q->s.comp, n);
		if (k)
			xfrag_umem__release_bulk(q->umem, q->batch, k);
		q->completed += k;
		total += (int)k;
	}
	return total;
}

uint32_t xfrag_txq__outstanding(const struct xfrag_txq *q)
{
	return q ? q->tail - q->head : 0;
}

int xfrag_txq__fd(const struct xfrag_txq *q)
{
	return q ? q->s.fd : -EINVAL;
}

struct xfrag_umem *xfrag_txq__umem(const struct xfrag_txq *q)
{
	return q ? q->umem : NULL;
}

static void sleep_us(unsigned int us)
{
	struct timespec ts = { 0, (long)us * 1000 };

	nanosleep(&ts, NULL);
}

/* How long destroy waits for the queue's pool to leave the device. */
#define TEARDOWN_WAIT_MS 250

void xfrag_txq__destroy(struct xfrag_txq *q)
{
	struct xfrag_umem *u;
	uint32_t *held, m;
	uint64_t left;
	unsigned int i;

	if (!q)
		return;
	u = q->umem;
	/* Up to ~200 ms for frames in flight to complete. */
	for (i = 0; i < 200 && q->head != q->tail; i++) {
		if (tx_pending(q))
			kick(q, tx_pending(q) / 16 + 4);
		if (!xfrag_txq__complete(q))
			sleep_us(1000);
	}
	xfrag_sock_close(&q->s);
	/*
	 * Frames that never completed may still be read: by a zero-copy
	 * driver until the kernel has torn the queue's pool down, and in copy
	 * mode by an skb that references the UMEM pages (devices without a
	 * linear skb) until it is freed, which comes before the teardown too.
	 * Quarantine them until the queue is free.
	 */
	left = q->tail - q->head;
	held = left ? calloc(u->hot.nblocks, sizeof(*held)) : NULL;
	if (held) {
		m = q->inflight_mask;
		for (; q->head != q->tail; q->head++)
			held[(q->inflight[q->head & m] & XFRAG_ADDR_MASK) >> u->hot.block_shift]++;
		pr_info("tx queue %u: %llu frames did not complete; they return to the pool when the kernel has released the queue",
			q->queue_id, (unsigned long long)left);
		xfrag_quarantine_add(u, q->ifindex, q->queue_id, held, left);
		if (xfrag_quarantine_poll(u, TEARDOWN_WAIT_MS))
			pr_info("tx queue %u: still held by the kernel; in quarantine (xfrag_umem__reclaim)",
				q->queue_id);
	} else if (left) {
		pr_err("tx queue %u: out of memory; %llu in-flight frames stay out of the pool",
		       q->queue_id, (unsigned long long)left);
	}
	xfrag_cache__destroy(q->cache);
	free(q->inflight);
	free(q);
	xfrag_umem_put(u);
}

int xfrag_txq__stats(struct xfrag_txq *q, struct xfrag_txq_stats *out)
{
	struct xfrag_txq_stats s = { .sz = sizeof(s) };
	struct xdp_statistics xs = { 0 };
	size_t usz;

	if (!q || !out || out->sz < sizeof(size_t))
		return -EINVAL;
	if (!xfrag_sock_getopt(&q->s, SOL_XDP, XDP_STATISTICS, &xs, sizeof(xs))) {
		s.tx_invalid_descs = xs.tx_invalid_descs;
		s.tx_ring_empty_descs = xs.tx_ring_empty_descs;
	}
	s.sent = q->sent;
	s.sent_bytes = q->sent_bytes;
	s.completed = q->completed;
	s.kicks = q->kicks;
	s.eagain = q->eagain;
	s.ebusy = q->ebusy;
	s.errors = q->errors;
	s.alloc_fail = q->alloc_fail;
	s.comp_unknown = q->comp_unknown;
	s.outstanding = q->tail - q->head;
	s.frame_size = q->frame_size;
	s.last_error = q->last_error;
	s.zerocopy = q->s.zerocopy;
	/* Copy only what the caller's struct has room for. */
	usz = out->sz < sizeof(s) ? out->sz : sizeof(s);
	memcpy((char *)out + sizeof(size_t), (char *)&s + sizeof(size_t),
	       usz - sizeof(size_t));
	return 0;
}
