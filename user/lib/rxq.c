// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rx queues: an AF_XDP socket per (interface, queue) on the shared UMEM,
 * whose fill ring is fed by the queue's frag cache.
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/*
 * Counters only the owner thread writes, any thread may read: a relaxed
 * atomic store of the owner's own value (a plain mov on x86) keeps
 * xfrag_rxq__stats() race-free without a locked instruction.
 */
#define STAT_ADD(field, n) \
	__atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define STAT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* Refill only when this many slots are free: one carve per block run. */
#define REFILL_MIN 32
#define COPY_BATCH 256

struct xfrag_rxq {
	/* hot, owner thread */
	struct xfrag_xsk_rings r;
	struct xfrag_umem *umem;
	struct xfrag_cache *cache;  /* RX chunks */
	struct xfrag_cache *small;  /* copybreak copies, chain descriptors */
	uint8_t *area;
	uint32_t frame_size;
	uint32_t copybreak;
	int fd;
	bool wakeup;
	bool busy_poll;
	bool mb;
	uint64_t rx_packets, rx_bytes, fill_posted, fill_short, wakeups;
	uint64_t copies, copy_bytes;
	uint64_t chains, chain_drops;
	/* cold */
	struct xsk_socket *xsk;
	struct xfrag_xdp *xdp;
	uint32_t queue_id;
	uint32_t headroom;
	uint32_t fill_size;
	uint32_t chunks_per_block;
	bool page_cross_ok;
};

static void return_ring_chunks(struct xfrag_rxq *q);

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

static int read_sysfs_u32(const char *ifname, const char *attr, uint32_t *v)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "%u", v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

/* Real rx queues of the device: what `ethtool -l` calls channels. */
static int count_rx_queues(const char *ifname)
{
	char path[128];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, "rx-", 3);
	closedir(d);
	return n;
}

static bool pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* Chunks of @fs one block yields, as the cache carves them. */
static uint32_t chunks_per_block(uint32_t block, uint32_t fs, bool page_cross_ok)
{
	if (page_cross_ok || block < 4096)
		return block / fs;
	return (block / 4096) * (4096 / fs);
}

static int check_geometry(struct xfrag_rxq *q, const char *ifname,
			  bool *mb, uint32_t mtu)
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
	if (mtu && !*mb && XFRAG_XDP_PACKET_HEADROOM + hr + mtu + 14 + 8 > fs) {
		/* A full-MTU frame needs several chunks: receive chains. */
		pr_info("%s: MTU %u does not fit a %u-byte chunk with headroom %u: binding with XDP_USE_SG (multi-buffer)",
			ifname, mtu, fs, hr);
		*mb = true;
	}
	return 0;
}

static int check_ring(const char *what, uint32_t v)
{
	if (!pow2(v) || v > (1u << 20)) {
		pr_err("%s ring size %u: must be a power of two up to 1M", what, v);
		return -EINVAL;
	}
	return 0;
}

struct xfrag_rxq *xfrag_rxq__create(struct xfrag_umem *umem,
				    struct xfrag_xdp *xdp,
				    const struct xfrag_rxq_opts *opts)
{
	struct xfrag_xsk_params p = { 0 };
	char ifname[IF_NAMESIZE];
	struct xfrag_rxq *q;
	uint32_t mtu = 0, nchunks;
	int err, nq;

	if (!umem || !xdp || (opts && !OPTS_VALID(opts, xfrag_rxq_opts))) {
		pr_err("xfrag_rxq__create: %s", !umem ? "no UMEM" : !xdp ? "no XDP program" : "bad options");
		errno = EINVAL;
		return NULL;
	}
	p.ifindex = xfrag_xdp__ifindex(xdp);
	if (!if_indextoname((unsigned int)p.ifindex, ifname)) {
		pr_err("interface %d has gone", p.ifindex);
		errno = ENODEV;
		return NULL;
	}
	q = aligned_alloc(XFRAG_CACHELINE,
			  (sizeof(*q) + XFRAG_CACHELINE - 1) & ~(size_t)(XFRAG_CACHELINE - 1));
	if (!q) {
		errno = ENOMEM;
		return NULL;
	}
	memset(q, 0, sizeof(*q));
	q->umem = umem;
	q->xdp = xdp;
	q->area = umem->hot.area;
	q->fd = -1;
	q->queue_id = OPTS_GET(opts, queue_id, 0);
	q->headroom = OPTS_GET(opts, headroom, 0);
	q->copybreak = OPTS_GET(opts, copybreak, 0);
	read_sysfs_u32(ifname, "mtu", &mtu);
	q->frame_size = OPTS_GET(opts, frame_size, 0);
	if (!q->frame_size)
		q->frame_size = umem->xsk_umem ? umem->frame_size :
			xfrag_frame_size_for_mtu(mtu, q->headroom);
	p.multi_buffer = OPTS_GET(opts, multi_buffer, false);
	err = check_geometry(q, ifname, &p.multi_buffer, mtu);
	if (err)
		goto err_free;

	nq = count_rx_queues(ifname);
	if (nq > 0 && q->queue_id >= (uint32_t)nq) {
		pr_err("queue %u is out of range: %s has %d rx queue%s (see ethtool -l %s)",
		       q->queue_id, ifname, nq, nq == 1 ? "" : "s", ifname);
		err = -ERANGE;
		goto err_free;
	}
	if (q->queue_id >= XFRAG_XDP_MAX_QUEUES) {
		pr_err("queue %u is beyond the %d queues the XDP program serves",
		       q->queue_id, XFRAG_XDP_MAX_QUEUES);
		err = -ERANGE;
		goto err_free;
	}

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
	if (p.bind_mode > XFRAG_BIND_ZEROCOPY) {
		pr_err("bind mode %u unknown", p.bind_mode);
		err = -EINVAL;
		goto err_free;
	}
	/*
	 * Zero-copy drivers reject chunks that span physically non-contiguous
	 * pages; only explicit hugepages make every block contiguous.
	 */
	q->page_cross_ok = umem->backing == XFRAG_BACKING_HUGETLB;
	q->chunks_per_block = chunks_per_block(umem->block_size, q->frame_size,
					       q->page_cross_ok);
	nchunks = q->chunks_per_block * umem->hot.nblocks;
	if (q->chunks_per_block == 0 || nchunks < p.fill_size + p.rx_size) {
		pr_err("UMEM too small for the rings: %llu bytes hold %u chunks of %u bytes, but queue %u's fill (%u) and rx (%u) rings need %u; use a larger UMEM or smaller rings",
		       (unsigned long long)umem->hot.size, nchunks, q->frame_size,
		       q->queue_id, p.fill_size, p.rx_size, p.fill_size + p.rx_size);
		err = -EINVAL;
		goto err_free;
	}
	q->fill_size = p.fill_size;

	{
		XFRAG_OPTS(xfrag_cache_opts, co, .id = (uint16_t)q->queue_id,
			   .no_page_cross = !q->page_cross_ok);
		q->cache = xfrag_cache__create(umem, &co);
		if (!q->cache) {
			err = -errno;
			goto err_free;
		}
		if (q->copybreak > q->frame_size) {
			pr_err("copybreak %u exceeds the frame size %u", q->copybreak, q->frame_size);
			err = -EINVAL;
			goto err_cache;
		}
		if (q->copybreak || q->mb) {
			co.no_page_cross = 0; /* copies are never DMA targets */
			q->small = xfrag_cache__create(umem, &co);
			if (!q->small) {
				err = -errno;
				goto err_cache;
			}
		}
	}

	err = xfrag_xsk_open(umem, &p, &q->r, &q->xsk);
	if (err)
		goto err_cache;
	q->fd = xsk_socket__fd(q->xsk);
	if (!q->r.fill.ring || !q->r.rx.ring) {
		/* libxdp reuses an existing (ifindex, queue) context of this
		 * UMEM and hands us no rings: a tx queue holds this queue. */
		pr_err("%s queue %u already has a socket on this UMEM (a tx queue?): use another queue or UMEM",
		       ifname, q->queue_id);
		err = -EEXIST;
		goto err_sock;
	}
	q->wakeup = !p.no_wakeup;

	if (OPTS_GET(opts, busy_poll_us, 0)) {
		int v = 1, us = (int)OPTS_GET(opts, busy_poll_us, 0);
		int budget = (int)(OPTS_GET(opts, busy_poll_budget, 0) ?: 64);

		if (setsockopt(q->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &v, sizeof(v)) ||
		    setsockopt(q->fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) ||
		    setsockopt(q->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget))) {
			err = -errno;
			pr_err("queue %u: enabling busy polling failed: %s", q->queue_id, strerror(errno));
			goto err_sock;
		}
		q->busy_poll = true;
	}

	/* Chunks first, then the socket into the XSKMAP: no frame finds an
	 * empty fill ring at the start. */
	xfrag_rxq__refill(q);
	err = xfrag_xdp__set_xsk(xdp, q->queue_id, q->fd);
	if (err) {
		return_ring_chunks(q); /* the posted chunks are ours again */
		goto err_sock;
	}
	pr_info("%s queue %u: frame %u, headroom %u, %u chunks/block, %s, %s",
		ifname, q->queue_id, q->frame_size, q->headroom,
		q->chunks_per_block, q->page_cross_ok ? "chunks may cross pages" : "no chunk crosses a 4 KiB page",
		q->r.zerocopy ? "zero-copy" : "copy mode");
	return q;

err_sock:
	xfrag_xsk_close(umem, q->xsk);
err_cache:
	xfrag_cache__destroy(q->small);
	xfrag_cache__destroy(q->cache);
err_free:
	free(q);
	errno = -err;
	return NULL;
}

/*
 * Give back the references of every chunk the socket still holds: frames
 * waiting in the RX ring and chunks posted to the fill ring but not taken.
 * Called once the XSKMAP slot is cleared and in-flight polls are over.
 */
static void return_ring_chunks(struct xfrag_rxq *q)
{
	uint32_t idx, n, cons, prod;
	uint64_t addrs[256];

	while ((n = xsk_ring_cons__peek(&q->r.rx, 256, &idx))) {
		for (uint32_t i = 0; i < n; i++)
			addrs[i] = xsk_umem__extract_addr(
				xsk_ring_cons__rx_desc(&q->r.rx, idx + i)->addr);
		xsk_ring_cons__release(&q->r.rx, n);
		xfrag_umem__release_bulk(q->umem, addrs, n);
	}
	/* Fill entries between the kernel's consumer and our producer. */
	cons = __atomic_load_n(q->r.fill.consumer, __ATOMIC_ACQUIRE);
	prod = *q->r.fill.producer;
	for (; cons != prod; cons++)
		xfrag_umem__release(q->umem, *xsk_ring_prod__fill_addr(&q->r.fill, cons));
}

/*
 * In copy mode the kernel takes a fill entry only for a frame redirected
 * to this socket. Once the XSKMAP slot is cleared, a NAPI poll that had
 * already redirected may still be copying: wait it out (an RCU grace
 * period is far shorter) before handing the chunks back.
 */
static void unhook(struct xfrag_rxq *q)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	xfrag_xdp__clear_xsk(q->xdp, q->queue_id);
	nanosleep(&ts, NULL);
	return_ring_chunks(q);
}

void xfrag_rxq__destroy(struct xfrag_rxq *q)
{
	if (!q)
		return;
	unhook(q);
	xfrag_xsk_close(q->umem, q->xsk);
	xfrag_cache__destroy(q->small);
	xfrag_cache__destroy(q->cache);
	free(q);
}

int xfrag_rxq__refill(struct xfrag_rxq *q)
{
	struct xsk_ring_prod *fill = &q->r.fill;
	uint32_t nfree = xsk_prod_nb_free(fill, q->fill_size), idx, done = 0;

	/* Small rings refill at half, not at a fixed 32 they never reach. */
	if (nfree < REFILL_MIN && nfree < q->fill_size / 2)
		return 0;
	if (!nfree)
		return 0;
	if (xsk_ring_prod__reserve(fill, nfree, &idx) != nfree)
		return 0;
	/*
	 * Carve straight into the ring: at most two contiguous spans (the
	 * ring wraps), one burst each, no copy of the addresses.
	 */
	while (done < nfree) {
		uint32_t pos = (idx + done) & fill->mask;
		uint32_t span = fill->size - pos;
		int got;

		if (span > nfree - done)
			span = nfree - done;
		got = xfrag_cache__alloc_burst(q->cache, q->frame_size,
					       (uint64_t *)fill->ring + pos, span);
		if (got <= 0)
			break;
		done += (uint32_t)got;
		if ((uint32_t)got < span)
			break;
	}
	if (done < nfree) {
		/* Pool ran dry: un-reserve what we could not carve. */
		fill->cached_prod -= nfree - done;
		STAT_ADD(q->fill_short, 1);
	}
	if (done)
		xsk_ring_prod__submit(fill, done);
	STAT_ADD(q->fill_posted, done);
	return (int)done;
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
	if (nc)
		xfrag_umem__release_bulk(q->umem, chunks, nc);
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
	/* The program marks frames it annotated; the check reads bytes the
	 * kernel always leaves in the chunk's headroom. */
	pk->meta_len = (m->flags & XFRAG_META_MAGIC_MASK) == XFRAG_META_MAGIC ?
			       sizeof(*m) : 0;
	pk->nsegs = 1;
	pk->flags = 0;
}

/*
 * Descriptors [i, j] form one frame (all but the last carry XDP_PKT_CONTD).
 * Record the segments in a chain frag so that any thread can release the
 * whole frame from the view alone. Returns false if the frame was dropped.
 */
static bool make_chain(struct xfrag_rxq *q, struct xfrag_pkt *pk,
		       uint32_t idx, uint32_t nseg)
{
	struct xsk_ring_cons *rx = &q->r.rx;
	struct xfrag_chain *c;
	uint64_t a;
	uint32_t k;

	if (nseg > XFRAG_CHAIN_MAX_SEGS ||
	    xfrag_cache__alloc(q->small, (uint32_t)(sizeof(*c) + nseg * sizeof(c->seg[0])),
			       8, &a)) {
		/* Counted, and not a chunk leaks. */
		for (k = 0; k < nseg; k++)
			xfrag_umem__release(q->umem, xsk_ring_cons__rx_desc(rx, idx + k)->addr);
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
	}
	fill_pkt(q, pk, xsk_ring_cons__rx_desc(rx, idx));
	pk->len = c->len;
	pk->nsegs = (uint16_t)nseg;
	pk->chain = a;
	STAT_ADD(q->chains, 1);
	return true;
}

int xfrag_rxq__recv(struct xfrag_rxq *q, struct xfrag_pkt *pkts,
		    unsigned int max)
{
	struct xsk_ring_cons *rx;
	uint32_t idx, n, i, np = 0, done;
	uint64_t bytes = 0;

	if (xfrag_unlikely(!q || (!pkts && max)))
		return -EINVAL;
	rx = &q->r.rx;
	xfrag_rxq__refill(q);
	if (max > COPY_BATCH && q->copybreak)
		max = COPY_BATCH;
	/* With chains, peek a little further so the last frame completes. */
	n = xsk_ring_cons__peek(rx, q->mb ? max + XFRAG_CHAIN_MAX_SEGS : max, &idx);
	if (!n) {
		/* A syscall only when the kernel asks (or to busy-poll). */
		if (q->busy_poll || (q->wakeup && xsk_ring_prod__needs_wakeup(&q->r.fill))) {
			recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
			STAT_ADD(q->wakeups, 1);
		}
		return 0;
	}
	if (!q->mb) {
		for (i = 0; i < n; i++) {
			fill_pkt(q, &pkts[i], xsk_ring_cons__rx_desc(rx, idx + i));
			bytes += pkts[i].len;
		}
		np = done = n;
	} else {
		for (i = 0, done = 0; i < n && np < max; i = done) {
			uint32_t j = i;

			while (j < n && (xsk_ring_cons__rx_desc(rx, idx + j)->options & XDP_PKT_CONTD))
				j++;
			if (j == n)
				break; /* the rest of this frame is not peeked yet */
			done = j + 1;
			if (j == i)
				fill_pkt(q, &pkts[np], xsk_ring_cons__rx_desc(rx, idx + i));
			else if (!make_chain(q, &pkts[np], idx + i, j - i + 1))
				continue;
			bytes += pkts[np++].len;
		}
		if (done < n)
			xsk_ring_cons__cancel(rx, n - done);
	}
	xsk_ring_cons__release(rx, done);
	STAT_ADD(q->rx_packets, np);
	STAT_ADD(q->rx_bytes, bytes);
	if (q->copybreak && np)
		copy_small(q, pkts, np);
	return (int)np;
}

/* Gather the handles of @pkts (chains: every segment and the chain frag)
 * and release them in batches, through @c when on the carving thread. */
static void release_pkts(struct xfrag_umem *umem, struct xfrag_cache *c,
			 const struct xfrag_pkt *pkts, unsigned int n)
{
	uint64_t addrs[256];
	unsigned int i, k = 0, s;

	for (i = 0; i < n; i++) {
		const struct xfrag_chain *ch = xfrag_pkt__chain(umem, &pkts[i]);

		if (k + 1 + (ch ? ch->nsegs : 0) > 256) {
			if (c)
				xfrag_cache__release_bulk(c, addrs, k);
			else
				xfrag_umem__release_bulk(umem, addrs, k);
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
	if (c)
		xfrag_cache__release_bulk(c, addrs, k);
	else
		xfrag_umem__release_bulk(umem, addrs, k);
}

void xfrag_pkt__release_bulk(struct xfrag_umem *umem,
			     const struct xfrag_pkt *pkts, unsigned int n)
{
	release_pkts(umem, NULL, pkts, n);
}

void xfrag_rxq__release(struct xfrag_rxq *q, const struct xfrag_pkt *pkts,
			unsigned int n)
{
	release_pkts(q->umem, q->cache, pkts, n);
}

int xfrag_rxq__fd(const struct xfrag_rxq *q)
{
	return q ? q->fd : -EINVAL;
}

int xfrag_rxq__check(struct xfrag_rxq *q)
{
	char name[IF_NAMESIZE];
	struct ifreq ifr = { 0 };
	socklen_t len = sizeof(int);
	int err = 0, ret = 0, s;

	if (!q)
		return -EINVAL;
	if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
		ret = -err; /* e.g. ENETDOWN when the device was unregistered */
	if (!if_indextoname((unsigned int)xfrag_xdp__ifindex(q->xdp), name))
		return -ENODEV;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	/* AF_XDP sockets do not answer SIOCGIFFLAGS; a datagram socket does. */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s >= 0) {
		if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
			ret = -ENETDOWN;
		close(s);
	}
	return ret;
}

struct xfrag_umem *xfrag_rxq__umem(const struct xfrag_rxq *q)
{
	return q->umem;
}

int xfrag_rxq__stats(struct xfrag_rxq *q, struct xfrag_rxq_stats *out)
{
	struct xfrag_rxq_stats s = { .sz = sizeof(s) };
	struct xdp_statistics xs = { 0 };
	socklen_t len = sizeof(xs);
	XFRAG_OPTS(xfrag_xdp_counters, c);
	size_t usz;

	if (!q || !out || out->sz < sizeof(size_t))
		return -EINVAL;
	if (!xfrag_xdp__counters(q->xdp, q->queue_id, &c)) {
		s.xdp_seen = c.seen;
		s.xdp_redirected = c.redirected;
		s.xdp_passed = c.passed;
		s.xdp_dropped = c.dropped;
		s.xdp_redirect_failed = c.redirect_failed;
		s.xdp_malformed = c.malformed;
	}
	if (!getsockopt(q->fd, SOL_XDP, XDP_STATISTICS, &xs, &len)) {
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
	s.multi_buffer = q->mb;
	s.fill_capacity = q->fill_size;
	/* The ring's shared words, not the owner's cached view. */
	s.fill_level = __atomic_load_n(q->r.fill.producer, __ATOMIC_ACQUIRE) -
		       __atomic_load_n(q->r.fill.consumer, __ATOMIC_ACQUIRE);
	s.frame_size = q->frame_size;
	s.headroom = q->headroom;
	s.chunks_per_block = q->chunks_per_block;
	s.zerocopy = q->r.zerocopy;
	s.page_cross_ok = q->page_cross_ok;
	/* Copy only what the caller's struct has room for. */
	usz = out->sz < sizeof(s) ? out->sz : sizeof(s);
	memcpy((char *)out + sizeof(size_t), (char *)&s + sizeof(size_t),
	       usz - sizeof(size_t));
	return 0;
}
