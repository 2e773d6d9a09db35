// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rx queues: an AF_XDP socket per (interface, queue) on the shared UMEM,
 * whose fill ring is fed by the queue's frag cache.
 *
 * The chunk ledger: q->held[b] counts the chunks of block b that are in the
 * kernel's hands for this queue, posted to the fill ring and not yet seen on
 * the RX ring. It is kept per run of one block (a burst of fill entries, a
 * batch of RX descriptors spans one to three blocks), by the owner thread
 * only: no atomics. Destroy returns exactly those chunks once the kernel can
 * no longer write into them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"
#include "xfrag/rxq.h"
#include "xfrag/xdp.h"
#include "xsk_internal.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif
#ifndef SO_INCOMING_NAPI_ID
#define SO_INCOMING_NAPI_ID 56
#endif

/*
 * Counters only the owner thread writes, any thread may read: a relaxed
 * atomic store of the owner's own value (a plain mov on x86) keeps
 * xfrag_rxq__stats() race-free without a locked instruction.
 */
#define STAT_ADD(field, n) \
	__atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define STAT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* Refill only when this many chunks came back: one carve per block run. */
#define REFILL_MIN 32
/* The kernel's NAPI budget: a poll takes up to this many fill entries. */
#define NAPI_BUDGET 64
/*
 * The least the kernel gets, in NAPI polls' worth: the kernel takes a poll's
 * budget at a time, and the receiver refills only between its batches, so
 * two polls can land while it works on one (measured: at two polls a
 * steady 64-byte flood on veth lost frames to an empty fill ring; at four,
 * a receiver the VM's host preempts for a millisecond still did, four
 * times as many as at eight, which also ran faster).
 */
#define FLOOR_POLLS 8
/* Refills in a row with a comfortable fill level before the target shrinks. */
#define CALM_REFILLS 64
#define COPY_BATCH 256
/* How long destroy waits for a zero-copy queue's pool to leave the device. */
#define TEARDOWN_WAIT_MS 250

struct xfrag_rxq {
	/* hot, owner thread */
	struct xfrag_sock s; /* rings first */
	struct xfrag_umem *umem;
	struct xfrag_cache *cache;  /* RX chunks */
	struct xfrag_cache *small;  /* copybreak copies, chain descriptors */
	uint8_t *area;
	uint32_t *held;             /* the chunk ledger, per block */
	uint64_t *epoch;            /* per block: when its current life's first
				     * chunk was posted (CLOCK_MONOTONIC ns) */
	uint64_t chunk_limit;       /* highest valid chunk address */
	uint64_t page_mask;         /* ~4095 if chunks may not cross pages, else 0 */
	uint32_t block_shift;
	uint32_t block_mask;
	uint32_t top_off;           /* where a fresh block's first chunk sits */
	uint32_t frame_size;
	uint32_t copybreak;
	uint32_t fill_target;       /* chunks to keep in the kernel's hands */
	uint32_t fill_floor, fill_max, refill_batch;
	uint32_t calm;
	bool adaptive;
	bool meta;                  /* the XDP program annotates (some) frames */
	bool wakeup;
	bool busy_poll;             /* kick every recv: a NAPI poll on this CPU */
	bool mb;
	bool dropping;              /* inside a frame too long to deliver */
	uint64_t rx_packets, rx_bytes, fill_posted, fill_short, wakeups;
	uint64_t copies, copy_bytes;
	uint64_t chains, chain_drops;
	uint64_t returned;          /* descriptors seen back on the RX ring */
	uint64_t fill_invalid;
	/* cold */
	struct xfrag_xdp *xdp;      /* a reference, or NULL */
	int map_fd;                 /* XSKMAP holding the socket, or -1 */
	int ifindex;
	char ifname[IF_NAMESIZE];
	uint32_t queue_id;
	uint32_t headroom;
	uint32_t fill_size;
	uint32_t chunks_per_block;
	uint32_t busy_poll_napi;    /* the NAPI id busy polling polls, 0: none */
	uint8_t dma;
	bool page_cross_ok;
};

uint32_t xfrag_frame_size_for_mtu(uint32_t mtu, uint32_t headroom)
{
	uint64_t need = XFRAG_XDP_PACKET_HEADROOM + (uint64_t)headroom + mtu +
			14 + 8;

	need = (need + 63) & ~63ull;
	if (need < XFRAG_FRAME_MIN)
		need = XFRAG_FRAME_MIN;
	if (need > XFRAG_FRAME_MAX)
		need = XFRAG_FRAME_MAX;
	return (uint32_t)need;
}

/* Chunks of @fs one block yields, as the cache carves them. */
static uint32_t chunks_per_block(uint32_t block, uint32_t fs, bool page_cross_ok)
{
	if (page_cross_ok || block < 4096)
		return block / fs;
	return (block / 4096) * (4096 / fs);
}

static int check_geometry(struct xfrag_rxq *q, bool *mb, uint32_t mtu)
{
	uint32_t fs = q->frame_size, hr = q->headroom;

	if (fs < XFRAG_FRAME_MIN || fs > XFRAG_FRAME_MAX) {
		pr_err("frame size %u is out of range: AF_XDP unaligned chunks must be %u..%u bytes",
		       fs, XFRAG_FRAME_MIN, XFRAG_FRAME_MAX);
		return -EINVAL;
	}
	if (hr > fs - XFRAG_HEADROOM_SLACK) {
		pr_err("headroom %u is too large for frame size %u: at most %u (the kernel keeps %u bytes of a chunk)",
		       hr, fs, fs - XFRAG_HEADROOM_SLACK, XFRAG_HEADROOM_SLACK);
		return -EINVAL;
	}
	if (q->copybreak > fs) {
		pr_err("copybreak %u exceeds the frame size %u", q->copybreak, fs);
		return -EINVAL;
	}
	if (mtu && !*mb && XFRAG_XDP_PACKET_HEADROOM + hr + mtu + 14 + 8 > fs) {
		/* A full-MTU frame needs several chunks: receive chains. */
		pr_info("%s: MTU %u does not fit a %u-byte chunk with headroom %u: binding with XDP_USE_SG (multi-buffer)",
			q->ifname, mtu, fs, hr);
		*mb = true;
	}
	return 0;
}

static int check_ring(const char *what, uint32_t v)
{
	if (!is_pow2(v) || v > (1u << 20)) {
		pr_err("%s ring size %u: must be a power of two up to 1M", what, v);
		return -EINVAL;
	}
	return 0;
}

/* Where the socket goes, and which program's counters the stats read. */
static int resolve_target(struct xfrag_rxq *q, struct xfrag_xdp *xdp,
			  const struct xfrag_rxq_opts *opts,
			  struct xfrag_dev_info *di)
{
	const char *name = OPTS_GET(opts, ifname, NULL);
	int ifindex = OPTS_GET(opts, ifindex, 0);
	int map_fd = OPTS_GET(opts, xsks_map_fd, 0);
	struct xfrag_umem *u = q->umem;
	int err;

	if (xdp) {
		if (map_fd) {
			pr_err("xfrag_rxq__create: xsks_map_fd is for a program of your own; with an xfrag XDP program its XSKMAP is used");
			return -EINVAL;
		}
		if (name || ifindex) {
			struct xfrag_dev_info want;

			err = u->ops->dev_info(u->ops_ctx, name, ifindex, &want);
			if (err || want.ifindex != xfrag_xdp__ifindex(xdp)) {
				pr_err("xfrag_rxq__create: the XDP program is attached to interface %d, not to %s",
				       xfrag_xdp__ifindex(xdp), name ? name : "the one the options name");
				return -EINVAL;
			}
		}
		ifindex = xfrag_xdp__ifindex(xdp);
		name = NULL;
		map_fd = xfrag_xdp__xsks_map_fd(xdp);
	} else if (!name && !ifindex) {
		pr_err("xfrag_rxq__create: no XDP program and no interface (set ifname or ifindex)");
		return -EINVAL;
	}
	err = u->ops->dev_info(u->ops_ctx, name, ifindex, di);
	if (err) {
		if (name)
			pr_err("interface '%s' not found", name);
		else
			pr_err("interface %d not found (has it gone?)", ifindex);
		return -ENODEV;
	}
	q->ifindex = di->ifindex;
	memcpy(q->ifname, di->name, sizeof(q->ifname));
	q->map_fd = map_fd > 0 ? map_fd : -1;
	return 0;
}

static int set_busy_poll(struct xfrag_rxq *q, const struct xfrag_rxq_opts *opts)
{
	int v = 1, us = (int)OPTS_GET(opts, busy_poll_us, 0);
	int budget = (int)(OPTS_GET(opts, busy_poll_budget, 0) ?: 64);
	int err;

	if (!us)
		return 0;
	if ((err = xfrag_sock_setopt(&q->s, SOL_SOCKET, SO_PREFER_BUSY_POLL, &v, sizeof(v))) ||
	    (err = xfrag_sock_setopt(&q->s, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us))) ||
	    (err = xfrag_sock_setopt(&q->s, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)))) {
		pr_err("queue %u: enabling busy polling failed: %s", q->queue_id, strerror(-err));
		return err;
	}
	/*
	 * The kernel busy-polls the NAPI instance bind() found for the
	 * queue, which the driver must have linked to it
	 * (netif_queue_set_napi). veth does not: its sockets get NAPI id 0
	 * and a busy-poll recvfrom() polls nothing, so do not make one.
	 */
	{
		unsigned int id = 0;

		if (!xfrag_sock_getopt(&q->s, SOL_SOCKET, SO_INCOMING_NAPI_ID, &id, sizeof(id)) &&
		    !id) {
			pr_warn("%s queue %u: busy polling cannot run here: the kernel knows no NAPI instance for the queue (the driver does not link its queues to NAPI, as veth); receiving without it",
				q->ifname, q->queue_id);
			q->busy_poll_napi = 0;
			return 0;
		}
		q->busy_poll_napi = id;
	}
	q->busy_poll = true;
	return 0;
}

/*
 * How many chunks the kernel gets. A deep fill ring cycles its whole depth
 * through the kernel's copy (or the NIC's DMA), so every frame lands in a
 * cold line; keeping only what the rate needs keeps them warm. The floor is
 * FLOOR_POLLS NAPI polls' worth (plus, in zero-copy mode, the driver's own RX ring,
 * which it fills from the fill ring ahead of traffic); the ceiling is the
 * fill ring. Without a fixed target the queue adapts between the two.
 */
static void set_fill_target(struct xfrag_rxq *q, uint32_t fixed, uint32_t hw_ring)
{
	q->fill_max = q->fill_size;
	q->fill_floor = FLOOR_POLLS * NAPI_BUDGET + (q->s.zerocopy ? hw_ring : 0);
	if (q->fill_floor > q->fill_max)
		q->fill_floor = q->fill_max;
	q->adaptive = !fixed;
	/*
	 * Adaptive: start with the whole ring and shrink while the kernel
	 * never eats far into it. A light or short flow keeps a deep buffer
	 * against a receiver the scheduler delays; a steady flood, where
	 * cold lines cost the copy, soon runs lean.
	 */
	q->fill_target = fixed && fixed < q->fill_max ? fixed : q->fill_max;
	/* Small rings refill at half, not at a fixed 32 they never reach. */
	q->refill_batch = q->fill_target / 2 < REFILL_MIN ? q->fill_target / 2 : REFILL_MIN;
	if (!q->refill_batch)
		q->refill_batch = 1;
}

static int make_caches(struct xfrag_rxq *q)
{
	XFRAG_OPTS(xfrag_cache_opts, co, .id = (uint16_t)q->queue_id,
		   .no_page_cross = !q->page_cross_ok);

	q->cache = xfrag_cache__create(q->umem, &co);
	if (!q->cache)
		return -errno;
	if (q->copybreak || q->mb) {
		co.no_page_cross = 0; /* copies are never DMA targets */
		q->small = xfrag_cache__create(q->umem, &co);
		if (!q->small)
			return -errno;
	}
	return 0;
}

static void close_and_give_back(struct xfrag_rxq *q);

struct xfrag_rxq *xfrag_rxq__create(struct xfrag_umem *umem,
				    struct xfrag_xdp *xdp,
				    const struct xfrag_rxq_opts *opts)
{
	struct xfrag_sock_params p = { 0 };
	struct xfrag_dev_info di;
	struct xfrag_rxq *q;
	uint32_t nchunks;
	int err;

	if (!umem || (opts && !OPTS_VALID(opts, xfrag_rxq_opts))) {
		pr_err("xfrag_rxq__create: %s", !umem ? "no UMEM" : "bad options");
		errno = EINVAL;
		return NULL;
	}
	q = xfrag_zalloc_lines(sizeof(*q));
	if (!q) {
		errno = ENOMEM;
		return NULL;
	}
	q->s.fd = -1;
	q->umem = umem;
	q->area = umem->hot.area;
	q->block_shift = umem->hot.block_shift;
	q->queue_id = OPTS_GET(opts, queue_id, 0);
	q->headroom = OPTS_GET(opts, headroom, 0);
	q->copybreak = OPTS_GET(opts, copybreak, 0);
	err = resolve_target(q, xdp, opts, &di);
	if (err)
		goto err_free;
	q->dma = di.dma;
	q->frame_size = OPTS_GET(opts, frame_size, 0);
	if (!q->frame_size) {
		pthread_mutex_lock(&umem->lock);
		q->frame_size = umem->nsockets ? umem->frame_size :
			xfrag_frame_size_for_mtu(di.mtu, q->headroom);
		pthread_mutex_unlock(&umem->lock);
	}
	p.multi_buffer = OPTS_GET(opts, multi_buffer, false);
	err = check_geometry(q, &p.multi_buffer, di.mtu);
	if (err)
		goto err_free;
	if (di.rx_queues && q->queue_id >= di.rx_queues) {
		pr_err("queue %u is out of range: %s has %u rx queue%s (see ethtool -l %s)",
		       q->queue_id, q->ifname, di.rx_queues, di.rx_queues == 1 ? "" : "s",
		       q->ifname);
		err = -ERANGE;
		goto err_free;
	}
	if (xdp && q->queue_id >= XFRAG_XDP_MAX_QUEUES) {
		pr_err("queue %u is beyond the %d queues the XDP program serves",
		       q->queue_id, XFRAG_XDP_MAX_QUEUES);
		err = -ERANGE;
		goto err_free;
	}
	p.ifindex = q->ifindex;
	p.ifname = q->ifname;
	p.queue_id = q->queue_id;
	p.frame_size = q->frame_size;
	p.headroom = q->headroom;
	p.fill_size = OPTS_GET(opts, fill_size, 0) ?: 2048;
	p.comp_size = OPTS_GET(opts, comp_size, 0) ?: 2048;
	p.rx_size = OPTS_GET(opts, rx_size, 0) ?: 2048;
	p.tx_size = OPTS_GET(opts, tx_size, 0);
	p.bind_mode = OPTS_GET(opts, bind_mode, XFRAG_BIND_AUTO);
	p.no_wakeup = OPTS_GET(opts, no_wakeup, false);
	q->mb = p.multi_buffer;
	if ((err = check_ring("fill", p.fill_size)) || (err = check_ring("completion", p.comp_size)) ||
	    (err = check_ring("rx", p.rx_size)) || (p.tx_size && (err = check_ring("tx", p.tx_size))))
		goto err_free;
	if (p.bind_mode > XFRAG_BIND_ZEROCOPY || OPTS_GET(opts, page_cross, 0) > XFRAG_PAGE_CROSS_FORCE) {
		pr_err("%s %u unknown", p.bind_mode > XFRAG_BIND_ZEROCOPY ? "bind mode" : "page_cross policy",
		       p.bind_mode > XFRAG_BIND_ZEROCOPY ? p.bind_mode : OPTS_GET(opts, page_cross, 0));
		err = -EINVAL;
		goto err_free;
	}
	/* Worst case first (no chunk crosses a page): refuse before binding. */
	nchunks = chunks_per_block(umem->block_size, q->frame_size, false) * umem->hot.nblocks;
	if (nchunks < p.fill_size + p.rx_size &&
	    chunks_per_block(umem->block_size, q->frame_size, true) * umem->hot.nblocks <
		    p.fill_size + p.rx_size) {
		pr_err("UMEM too small for the rings: %llu bytes hold %u chunks of %u bytes, but queue %u's fill (%u) and rx (%u) rings need %u; use a larger UMEM or smaller rings",
		       (unsigned long long)umem->hot.size,
		       chunks_per_block(umem->block_size, q->frame_size, true) * umem->hot.nblocks,
		       q->frame_size, q->queue_id, p.fill_size, p.rx_size,
		       p.fill_size + p.rx_size);
		err = -EINVAL;
		goto err_free;
	}
	q->fill_size = p.fill_size;
	q->held = calloc(umem->hot.nblocks, sizeof(*q->held));
	q->epoch = calloc(umem->hot.nblocks, sizeof(*q->epoch));
	if (!q->held || !q->epoch) {
		err = -ENOMEM;
		goto err_free;
	}
	q->block_mask = umem->block_size - 1;
	/* Carving runs down from a block's end; the last page holds the
	 * first chunk whole whatever the page rule (fs <= 4096). */
	q->top_off = umem->block_size - q->frame_size;

	err = xfrag_sock_open(umem, &p, &q->s);
	if (err)
		goto err_free;
	/* The mode is known only now: it decides how chunks are carved. */
	q->page_cross_ok = xfrag_page_cross_ok(umem, q->s.zerocopy, q->dma,
					       OPTS_GET(opts, page_cross, 0));
	q->page_mask = q->page_cross_ok ? 0 : ~(uint64_t)4095;
	q->chunk_limit = umem->hot.size - q->frame_size;
	q->chunks_per_block = chunks_per_block(umem->block_size, q->frame_size,
					       q->page_cross_ok);
	nchunks = q->chunks_per_block * umem->hot.nblocks;
	if (q->chunks_per_block == 0 || nchunks < p.fill_size + p.rx_size) {
		pr_err("UMEM too small for the rings: %llu bytes hold %u chunks of %u bytes (no chunk may cross a 4 KiB page in zero-copy mode here), but queue %u's fill (%u) and rx (%u) rings need %u",
		       (unsigned long long)umem->hot.size, nchunks, q->frame_size,
		       q->queue_id, p.fill_size, p.rx_size, p.fill_size + p.rx_size);
		err = -EINVAL;
		goto err_sock;
	}
	err = make_caches(q);
	if (err)
		goto err_sock;
	q->wakeup = !p.no_wakeup;
	set_fill_target(q, OPTS_GET(opts, fill_target, 0), di.rx_ring);
	err = set_busy_poll(q, opts);
	if (err)
		goto err_sock;

	/* Chunks first, then the socket into the XSKMAP: no frame finds an
	 * empty fill ring at the start. */
	xfrag_rxq__refill(q);
	if (q->map_fd >= 0) {
		err = umem->ops->map_update(umem->ops_ctx, q->map_fd, q->queue_id, q->s.fd);
		if (err) {
			pr_err("cannot put the socket of queue %u in the XSKMAP: %s",
			       q->queue_id, strerror(-err));
			goto err_sock;
		}
	}
	if (xdp)
		xfrag_xdp_get(xdp);
	q->xdp = xdp;
	q->meta = xdp && xfrag_xdp_annotates(xdp);
	xfrag_umem_get(umem);
	pr_info("%s queue %u: frame %u, headroom %u, %u chunks/block, %s, %s%s",
		q->ifname, q->queue_id, q->frame_size, q->headroom,
		q->chunks_per_block, q->page_cross_ok ? "chunks may cross pages" : "no chunk crosses a 4 KiB page",
		q->s.zerocopy ? "zero-copy" : "copy mode",
		xdp ? "" : q->map_fd >= 0 ? ", caller's XSKMAP" : ", no XSKMAP (caller inserts the socket)");
	return q;

err_sock:
	/* Copy or zero-copy: nothing was redirected to the socket yet, but a
	 * zero-copy driver may already have taken fill entries. */
	close_and_give_back(q);
	xfrag_cache__destroy(q->small);
	xfrag_cache__destroy(q->cache);
err_free:
	free(q->held);
	free(q->epoch);
	free(q);
	errno = -err;
	return NULL;
}

/*
 * Close the socket and give its chunks back. Frames still on the RX ring
 * and every other chunk of the ledger go back once the kernel cannot write
 * them: in copy mode as soon as the socket is released (close() plus the
 * unmap of its rings: the kernel unbinds it and waits out the receive path
 * with synchronize_net), in zero-copy mode only after the kernel has torn
 * the queue's pool down, which the quarantine waits for.
 */
static void close_and_give_back(struct xfrag_rxq *q)
{
	uint64_t chunks = 0, fill_left = 0, rx_left = 0;
	uint32_t b, *held = q->held;

	/* For the record only: the kernel may still move them until close. */
	if (q->s.rx.ring)
		rx_left = __atomic_load_n(q->s.rx.producer, __ATOMIC_ACQUIRE) - *q->s.rx.consumer;
	if (q->s.fill.ring)
		fill_left = *q->s.fill.producer -
			    __atomic_load_n(q->s.fill.consumer, __ATOMIC_ACQUIRE);
	xfrag_sock_close(&q->s);
	for (b = 0; b < q->umem->hot.nblocks; b++)
		chunks += held[b];
	if (!chunks)
		return;
	if (!q->s.zerocopy) {
		xfrag_return_held(q->umem, held);
		memset(held, 0, q->umem->hot.nblocks * sizeof(*held));
		/* Chunks the kernel took from the fill ring and never delivered
		 * (multi-buffer frames it dropped half-way) are in neither. */
		pr_debug("%s queue %u: %llu chunks back from the kernel (%llu on the fill ring, %llu on the RX ring, about %lld kept by the kernel)",
			 q->ifname, q->queue_id, (unsigned long long)chunks,
			 (unsigned long long)fill_left, (unsigned long long)rx_left,
			 (long long)(chunks - fill_left - rx_left));
		return;
	}
	xfrag_quarantine_add(q->umem, q->ifindex, q->queue_id, held, chunks);
	q->held = NULL;
	if (xfrag_quarantine_poll(q->umem, TEARDOWN_WAIT_MS))
		pr_info("%s queue %u: the kernel has not released the queue yet; its chunks stay in quarantine (xfrag_umem__reclaim)",
			q->ifname, q->queue_id);
}

void xfrag_rxq__destroy(struct xfrag_rxq *q)
{
	struct xfrag_umem *u;

	if (!q)
		return;
	u = q->umem;
	/* No new redirects: frames then go to the stack (redirect_failed). */
	if (q->map_fd >= 0)
		u->ops->map_delete(u->ops_ctx, q->map_fd, q->queue_id);
	close_and_give_back(q);
	xfrag_cache__destroy(q->small);
	xfrag_cache__destroy(q->cache);
	if (q->xdp)
		xfrag_xdp_put(q->xdp);
	free(q->held);
	free(q->epoch);
	free(q);
	xfrag_umem_put(u);
}

/*
 * Count @n carved chunks into the ledger and check them as the kernel will
 * (xp_check_unaligned: inside the UMEM, and across a 4 KiB page only where
 * the DMA mapping allows). Returns how many are bad: never, unless the
 * carving rules are broken; the kernel would drop those silently.
 */
static uint64_t clock_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC is the clock of bpf_ktime_get_ns(). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A run of chunks starts at a fresh block's top: its new life begins. */
static __attribute__((noinline)) void new_epoch(struct xfrag_rxq *q, uint64_t blk)
{
	q->epoch[blk] = clock_ns();
}

static uint32_t post_chunks(struct xfrag_rxq *q, const uint64_t *a, uint32_t n)
{
	const uint32_t shift = q->block_shift, fs1 = q->frame_size - 1;
	const uint64_t lim = q->chunk_limit, pm = q->page_mask;
	uint64_t blk = a[0] >> shift, bad = 0;
	uint32_t i, start = 0;

	if (xfrag_unlikely((a[0] & q->block_mask) == q->top_off))
		new_epoch(q, blk);
	for (i = 0; i < n; i++) {
		uint64_t x = a[i];

		bad |= (x > lim) | ((x ^ (x + fs1)) & pm);
		if (xfrag_unlikely((x >> shift) != blk)) {
			q->held[blk] += i - start;
			start = i;
			blk = x >> shift;
			if ((x & q->block_mask) == q->top_off)
				new_epoch(q, blk);
		}
	}
	q->held[blk] += n - start;
	if (xfrag_likely(!bad))
		return 0;
	for (i = 0, bad = 0; i < n; i++)
		bad += (a[i] > lim) || ((a[i] ^ (a[i] + fs1)) & pm);
	return (uint32_t)bad;
}

/* Never expected: drop the bad entries of a reserved span, keep the rest. */
static __attribute__((noinline)) uint32_t
purge_invalid(struct xfrag_rxq *q, uint32_t idx, uint32_t n)
{
	struct xsk_ring_prod *fill = &q->s.fill;
	const uint64_t lim = q->chunk_limit, pm = q->page_mask;
	const uint32_t fs1 = q->frame_size - 1;
	uint32_t i, k = 0;

	for (i = 0; i < n; i++) {
		uint64_t a = *xsk_ring_prod__fill_addr(fill, idx + i);

		if (a > lim || ((a ^ (a + fs1)) & pm)) {
			pr_err("queue %u: carved chunk 0x%llx (%u bytes) would be an invalid fill entry; not posted",
			       q->queue_id, (unsigned long long)a, q->frame_size);
			if ((a >> q->block_shift) < q->umem->hot.nblocks)
				q->held[a >> q->block_shift]--;
			xfrag_umem__release(q->umem, a);
			continue;
		}
		*xsk_ring_prod__fill_addr(fill, idx + k++) = a;
	}
	STAT_ADD(q->fill_invalid, n - k);
	return k;
}

/*
 * Grow when the kernel ate nearly all it had since the last refill (the
 * fill level seen now is what was left), shrink a step after a long calm.
 * rx_fill_ring_empty would say the same too late: it counts lost frames.
 */
static void adapt_target(struct xfrag_rxq *q, uint32_t level)
{
	uint32_t t = q->fill_target;

	if (level < NAPI_BUDGET) {
		t = t * 2 < q->fill_max ? t * 2 : q->fill_max;
		q->calm = 0;
	} else if (level > t / 2 && ++q->calm >= CALM_REFILLS) {
		t -= t / 8;
		if (t < q->fill_floor)
			t = q->fill_floor;
		q->calm = 0;
	} else if (level <= t / 2) {
		q->calm = 0;
	}
	__atomic_store_n(&q->fill_target, t, __ATOMIC_RELAXED);
}

int xfrag_rxq__refill(struct xfrag_rxq *q)
{
	struct xsk_ring_prod *fill;
	uint32_t want, level, cons, idx = 0, done = 0, bad = 0;
	uint64_t have;

	if (xfrag_unlikely(!q))
		return -EINVAL;
	fill = &q->s.fill;
	/*
	 * The ledger says how many chunks the kernel holds without reading
	 * anything it writes: the consumer index (a line the kernel's CPU
	 * owns) is read only when a refill is due.
	 */
	have = q->fill_posted - q->returned;
	if (have + q->refill_batch > q->fill_target)
		return 0;
	cons = __atomic_load_n(fill->consumer, __ATOMIC_ACQUIRE);
	level = fill->cached_prod - cons;
	/* (The first refill finds an empty ring because it is the first.) */
	if (q->adaptive && q->fill_posted)
		adapt_target(q, level);
	if (have >= q->fill_target)
		return 0;
	/* The fill ring holds at most what the kernel holds: room enough. */
	want = (uint32_t)(q->fill_target - have);
	fill->cached_cons = cons + fill->size;
	if (xsk_ring_prod__reserve(fill, want, &idx) != want)
		return 0;
	/*
	 * Carve straight into the ring: at most two contiguous spans (the
	 * ring wraps), one burst each, no copy of the addresses.
	 */
	while (done < want) {
		uint32_t pos = (idx + done) & fill->mask;
		uint32_t span = fill->size - pos;
		uint64_t *slot = (uint64_t *)fill->ring + pos;
		int got;

		if (span > want - done)
			span = want - done;
		got = xfrag_cache__alloc_burst(q->cache, q->frame_size, slot, span);
		if (got <= 0)
			break;
		bad += post_chunks(q, slot, (uint32_t)got);
		done += (uint32_t)got;
		if ((uint32_t)got < span)
			break;
	}
	if (xfrag_unlikely(bad))
		done = purge_invalid(q, idx, done);
	if (done < want) {
		/* Pool ran dry: un-reserve what we could not carve. */
		fill->cached_prod -= want - done;
		STAT_ADD(q->fill_short, 1);
	}
	if (done)
		xsk_ring_prod__submit(fill, done);
	STAT_ADD(q->fill_posted, done);
	return (int)done;
}

/* One chunk back from the kernel, outside the batched fast path. */
static inline void ledger_take_one(struct xfrag_rxq *q, uint64_t addr)
{
	q->held[(addr & XFRAG_ADDR_MASK) >> q->block_shift]--;
	STAT_ADD(q->returned, 1);
}

/* A batch of single-buffer views: one ledger update per block run. */
static inline void ledger_take(struct xfrag_rxq *q, const struct xfrag_pkt *pk,
			       uint32_t n)
{
	const uint32_t shift = q->block_shift;
	uint64_t blk = pk[0].addr >> shift;
	uint32_t i, start = 0;

	for (i = 1; i < n; i++) {
		if (xfrag_unlikely((pk[i].addr >> shift) != blk)) {
			q->held[blk] -= i - start;
			start = i;
			blk = pk[i].addr >> shift;
		}
	}
	q->held[blk] -= n - start;
	STAT_ADD(q->returned, n);
}

/* Copybreak: move small frames into compact frags, free their chunks. */
static void copy_small(struct xfrag_rxq *q, struct xfrag_pkt *pkts,
		       unsigned int n)
{
	uint64_t chunks[COPY_BATCH];
	unsigned int i, nc = 0;

	for (i = 0; i < n; i++) {
		struct xfrag_pkt *pk = &pkts[i];
		uint32_t sz = pk->len + pk->meta_len;
		uint64_t a;

		if (pk->len > q->copybreak || pk->nsegs > 1)
			continue;
		/* Cache-line granularity: a 64 B frame pins 64 B, not a chunk. */
		if (xfrag_cache__alloc(q->small, (sz + 63) & ~63u, 64, &a))
			continue; /* pool empty: keep the chunk */
		memcpy(q->area + a, pk->data - pk->meta_len, sz);
		chunks[nc++] = pk->addr;
		pk->addr = a;
		pk->data = q->area + a + pk->meta_len;
		pk->flags |= XFRAG_PKT_F_COPY;
		STAT_ADD(q->copies, 1);
		STAT_ADD(q->copy_bytes, pk->len);
	}
	/* Through the carving cache: the chunks' block is most likely the one
	 * it carves now, and they go back to its bias without an atomic. */
	if (nc)
		xfrag_cache__release_bulk(q->cache, chunks, nc);
}

static void fill_pkt(struct xfrag_rxq *q, struct xfrag_pkt *pk,
		     const struct xdp_desc *d)
{
	uint8_t *data = q->area + xsk_umem__add_offset_to_addr(d->addr);
	const struct xfrag_meta *m = (const void *)(data - sizeof(*m));

	pk->data = data;
	pk->len = d->len;
	pk->addr = xsk_umem__extract_addr(d->addr);
	pk->chain = XFRAG_NO_ADDR;
	/*
	 * The program marks frames it annotated (confirmed by check_stamps).
	 * Without an annotating program the bytes before the data are the
	 * chunk's old contents: not even looked at.
	 */
	pk->meta_len = q->meta && (m->flags & XFRAG_META_MAGIC_MASK) == XFRAG_META_MAGIC ?
			       sizeof(*m) : 0;
	pk->nsegs = 1;
	pk->flags = 0;
}

/*
 * The program stamps a sample of the frames; the others leave the chunk's
 * headroom as its previous occupant left it, stamp included. A stamp is
 * this frame's only if it is newer than the block's current life (the
 * previous occupant was received before the block was freed and carved
 * again) and not in the future. Rare: one frame in the sample rate.
 */
static __attribute__((noinline)) void check_stamps(struct xfrag_rxq *q,
						   struct xfrag_pkt *pkts,
						   uint32_t n)
{
	uint64_t now = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		const struct xfrag_meta *m;

		if (!pkts[i].meta_len)
			continue;
		if (!now)
			now = clock_ns();
		m = (const void *)(pkts[i].data - sizeof(*m));
		if (m->xdp_ts_ns < q->epoch[pkts[i].addr >> q->block_shift] ||
		    m->xdp_ts_ns > now)
			pkts[i].meta_len = 0;
	}
}

/* Descriptors [i, i + n) of a frame that will not be delivered. */
static void drop_descs(struct xfrag_rxq *q, uint32_t idx, uint32_t n)
{
	uint32_t k;

	for (k = 0; k < n; k++) {
		uint64_t a = xsk_umem__extract_addr(xsk_ring_cons__rx_desc(&q->s.rx, idx + k)->addr);

		ledger_take_one(q, a);
		xfrag_umem__release(q->umem, a);
	}
}

/*
 * Descriptors [i, j] form one frame (all but the last carry XDP_PKT_CONTD).
 * Record the segments in a chain frag so that any thread can release the
 * whole frame from the view alone. Returns false if the frame was dropped.
 */
static bool make_chain(struct xfrag_rxq *q, struct xfrag_pkt *pk,
		       uint32_t idx, uint32_t nseg)
{
	struct xsk_ring_cons *rx = &q->s.rx;
	struct xfrag_chain *c;
	uint64_t a;
	uint32_t k;

	if (nseg > XFRAG_CHAIN_MAX_SEGS ||
	    xfrag_cache__alloc(q->small, (uint32_t)(sizeof(*c) + nseg * sizeof(c->seg[0])),
			       8, &a)) {
		/* Counted, and not a chunk leaks. */
		drop_descs(q, idx, nseg);
		STAT_ADD(q->chain_drops, 1);
		return false;
	}
	c = (struct xfrag_chain *)(q->area + a);
	c->nsegs = nseg;
	c->len = 0;
	for (k = 0; k < nseg; k++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(rx, idx + k);

		c->seg[k].addr = d->addr;
		c->seg[k].len = d->len;
		c->seg[k].pad = 0;
		c->len += d->len;
		ledger_take_one(q, d->addr);
	}
	fill_pkt(q, pk, xsk_ring_cons__rx_desc(rx, idx));
	pk->len = c->len;
	pk->nsegs = (uint16_t)nseg;
	pk->chain = a;
	STAT_ADD(q->chains, 1);
	return true;
}

/*
 * Multi-buffer receive. The kernel publishes a frame's descriptors
 * together, so a frame whose end is missing from the peeked window is
 * longer than the window: with more than XFRAG_CHAIN_MAX_SEGS segments it
 * can never be delivered, and it is dropped (counted in chain_drops) over
 * as many calls as it takes, instead of wedging the ring.
 */
static uint32_t recv_chains(struct xfrag_rxq *q, struct xfrag_pkt *pkts,
			    unsigned int max, uint32_t idx, uint32_t n,
			    uint64_t *bytes)
{
	struct xsk_ring_cons *rx = &q->s.rx;
	uint32_t i = 0, np = 0, done = 0;

	if (q->dropping) {
		while (i < n) {
			bool last = !(xsk_ring_cons__rx_desc(rx, idx + i)->options & XDP_PKT_CONTD);

			drop_descs(q, idx + i, 1);
			i++;
			if (last) {
				q->dropping = false;
				STAT_ADD(q->chain_drops, 1);
				break;
			}
		}
		done = i;
	}
	while (i < n && np < max) {
		uint32_t j = i;

		while (j < n && (xsk_ring_cons__rx_desc(rx, idx + j)->options & XDP_PKT_CONTD))
			j++;
		if (j == n) {
			if (j - i <= XFRAG_CHAIN_MAX_SEGS)
				break; /* the next call peeks it whole */
			drop_descs(q, idx + i, j - i);
			q->dropping = true;
			done = j;
			break;
		}
		done = j + 1;
		if (j == i) {
			fill_pkt(q, &pkts[np], xsk_ring_cons__rx_desc(rx, idx + i));
			ledger_take_one(q, pkts[np].addr);
		} else if (!make_chain(q, &pkts[np], idx + i, j - i + 1)) {
			i = done;
			continue;
		}
		*bytes += pkts[np++].len;
		i = done;
	}
	if (done < n)
		xsk_ring_cons__cancel(rx, n - done);
	xsk_ring_cons__release(rx, done);
	return np;
}

int xfrag_rxq__recv(struct xfrag_rxq *q, struct xfrag_pkt *pkts,
		    unsigned int max)
{
	struct xsk_ring_cons *rx;
	uint32_t idx, n, i, np, meta = 0;
	uint64_t bytes = 0;

	if (xfrag_unlikely(!q || (!pkts && max)))
		return -EINVAL;
	rx = &q->s.rx;
	if (max > COPY_BATCH && q->copybreak)
		max = COPY_BATCH;
	/*
	 * Busy polling: every call runs one NAPI poll of the queue on this
	 * CPU (recvfrom -> sk_busy_loop), then takes what it delivered. A
	 * poller that kicked only on an empty ring would leave NAPI to the
	 * softirq of the sending CPU whenever frames were waiting.
	 */
	if (q->busy_poll) {
		xfrag_sock_kick(&q->s, false);
		STAT_ADD(q->wakeups, 1);
	}
	/* With chains, peek a little further so the last frame completes. */
	n = xsk_ring_cons__peek(rx, q->mb ? max + XFRAG_CHAIN_MAX_SEGS : max, &idx);
	if (!n) {
		xfrag_rxq__refill(q);
		/* Otherwise a syscall only when the kernel asks. */
		if (!q->busy_poll && q->wakeup && xsk_ring_prod__needs_wakeup(&q->s.fill)) {
			xfrag_sock_kick(&q->s, false);
			STAT_ADD(q->wakeups, 1);
		}
		return 0;
	}
	if (!q->mb) {
		for (i = 0; i < n; i++) {
			fill_pkt(q, &pkts[i], xsk_ring_cons__rx_desc(rx, idx + i));
			bytes += pkts[i].len;
			meta |= pkts[i].meta_len;
		}
		xsk_ring_cons__release(rx, n);
		ledger_take(q, pkts, n);
		np = n;
	} else {
		np = recv_chains(q, pkts, max, idx, n, &bytes);
		for (i = 0; i < np; i++)
			meta |= pkts[i].meta_len;
	}
	if (meta)
		check_stamps(q, pkts, np);
	STAT_ADD(q->rx_packets, np);
	STAT_ADD(q->rx_bytes, bytes);
	/* Refill after taking the batch: the ledger then counts only what
	 * the kernel really holds. */
	xfrag_rxq__refill(q);
	if (q->copybreak && np)
		copy_small(q, pkts, np);
	return (int)np;
}

/* One batch of handles, to whichever release path the caller has. */
static void release_addrs(struct xfrag_umem *umem, struct xfrag_cache *c,
			  struct xfrag_releaser *r, const uint64_t *addrs,
			  unsigned int k)
{
	if (c)
		xfrag_cache__release_bulk(c, addrs, k);
	else if (r)
		xfrag_releaser__release_bulk(r, addrs, k);
	else
		xfrag_umem__release_bulk(umem, addrs, k);
}

/* Gather the handles of @pkts (chains: every segment and the chain frag)
 * and release them in batches: through @c on the carving thread, through
 * @r on a thread with a releaser, else through the shared path. */
static void release_pkts(struct xfrag_umem *umem, struct xfrag_cache *c,
			 struct xfrag_releaser *r, const struct xfrag_pkt *pkts,
			 unsigned int n)
{
	uint64_t addrs[256];
	unsigned int i, k = 0, s;

	for (i = 0; i < n; i++) {
		const struct xfrag_chain *ch = xfrag_pkt__chain(umem, &pkts[i]);

		if (k + 1 + (ch ? ch->nsegs : 0) > 256) {
			release_addrs(umem, c, r, addrs, k);
			k = 0;
		}
		if (!ch) {
			addrs[k++] = pkts[i].addr;
			continue;
		}
		/* Read the chain before it is released with its segments. */
		for (s = 0; s < ch->nsegs; s++)
			addrs[k++] = ch->seg[s].addr;
		addrs[k++] = pkts[i].chain;
	}
	release_addrs(umem, c, r, addrs, k);
}

void xfrag_pkt__release_bulk(struct xfrag_umem *umem,
			     const struct xfrag_pkt *pkts, unsigned int n)
{
	if (!umem || !pkts)
		return;
	release_pkts(umem, NULL, NULL, pkts, n);
}

void xfrag_releaser__release_pkts(struct xfrag_releaser *r,
				  const struct xfrag_pkt *pkts, unsigned int n)
{
	if (!r || !pkts)
		return;
	release_pkts(r->umem, NULL, r, pkts, n);
}

void xfrag_rxq__release(struct xfrag_rxq *q, const struct xfrag_pkt *pkts,
			unsigned int n)
{
	if (!q || !pkts)
		return;
	release_pkts(q->umem, q->cache, NULL, pkts, n);
}

int xfrag_rxq__bind(struct xfrag_rxq *q)
{
	return q ? xfrag_cache__bind(q->cache) : -EINVAL;
}

int xfrag_rxq__fd(const struct xfrag_rxq *q)
{
	return q ? q->s.fd : -EINVAL;
}

int xfrag_rxq__check(struct xfrag_rxq *q)
{
	struct xfrag_dev_info di;
	int err = 0, ret = 0;

	if (!q)
		return -EINVAL;
	if (!xfrag_sock_getopt(&q->s, SOL_SOCKET, SO_ERROR, &err, sizeof(err)) && err)
		ret = -err; /* e.g. ENETDOWN when the device was unregistered */
	if (q->umem->ops->dev_info(q->umem->ops_ctx, NULL, q->ifindex, &di))
		return -ENODEV;
	if (!di.up)
		ret = -ENETDOWN;
	return ret;
}

struct xfrag_umem *xfrag_rxq__umem(const struct xfrag_rxq *q)
{
	return q ? q->umem : NULL;
}

int xfrag_rxq__stats(struct xfrag_rxq *q, struct xfrag_rxq_stats *out)
{
	struct xfrag_rxq_stats s = { .sz = sizeof(s) };
	struct xdp_statistics xs = { 0 };
	size_t usz;

	if (!q || !out || out->sz < sizeof(size_t))
		return -EINVAL;
	if (q->xdp) {
		XFRAG_OPTS(xfrag_xdp_counters, c);

		if (!xfrag_xdp__counters(q->xdp, q->queue_id, &c)) {
			s.xdp_seen = c.seen;
			s.xdp_redirected = c.redirected;
			s.xdp_passed = c.passed;
			s.xdp_dropped = c.dropped;
			s.xdp_redirect_failed = c.redirect_failed;
			s.xdp_malformed = c.malformed;
		}
		s.has_xdp = 1;
	}
	if (!xfrag_sock_getopt(&q->s, SOL_XDP, XDP_STATISTICS, &xs, sizeof(xs))) {
		s.rx_dropped = xs.rx_dropped;
		s.rx_invalid_descs = xs.rx_invalid_descs;
		s.tx_invalid_descs = xs.tx_invalid_descs;
		s.rx_ring_full = xs.rx_ring_full;
		s.rx_fill_ring_empty = xs.rx_fill_ring_empty_descs;
	}
	s.rx_packets = STAT_GET(q->rx_packets);
	s.rx_bytes = STAT_GET(q->rx_bytes);
	s.fill_posted = STAT_GET(q->fill_posted);
	s.fill_short = STAT_GET(q->fill_short);
	s.wakeups = STAT_GET(q->wakeups);
	s.copies = STAT_GET(q->copies);
	s.copy_bytes = STAT_GET(q->copy_bytes);
	s.chains = STAT_GET(q->chains);
	s.chain_drops = STAT_GET(q->chain_drops);
	s.fill_invalid = STAT_GET(q->fill_invalid);
	/* Posted minus returned, each read once: a moment apart at most. */
	s.kernel_chunks = s.fill_posted - STAT_GET(q->returned);
	s.multi_buffer = q->mb;
	s.fill_capacity = q->fill_size;
	/* The ring's shared words, not the owner's cached view. */
	s.fill_level = __atomic_load_n(q->s.fill.producer, __ATOMIC_ACQUIRE) -
		       __atomic_load_n(q->s.fill.consumer, __ATOMIC_ACQUIRE);
	s.frame_size = q->frame_size;
	s.headroom = q->headroom;
	s.chunks_per_block = q->chunks_per_block;
	s.zerocopy = q->s.zerocopy;
	s.page_cross_ok = q->page_cross_ok;
	s.dma = q->dma;
	s.fill_target = __atomic_load_n(&q->fill_target, __ATOMIC_RELAXED);
	s.busy_poll_napi = q->busy_poll_napi;
	/* Copy only what the caller's struct has room for. */
	usz = out->sz < sizeof(s) ? out->sz : sizeof(s);
	memcpy((char *)out + sizeof(size_t), (char *)&s + sizeof(size_t),
	       usz - sizeof(size_t));
	return 0;
}
