// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Quarantine: chunks a closed socket's queue may still write into.
 *
 * close() on an AF_XDP socket unbinds it at once (after synchronize_net, no
 * copy-mode receive touches its chunks again), but its buffer pool leaves
 * the device later, from a workqueue (xp_release_deferred -> xp_clear_dev):
 * until then a zero-copy driver keeps DMA-ing into the chunks of its
 * hardware ring and may still take fill entries, and a transmit in flight
 * may still read its frame. Those chunks come back to the pool only when
 * the queue can be bound again, which the kernel allows only after the old
 * pool is cleared from the device: a copy-mode probe bind (which never
 * touches the driver, unlike a zero-copy bind that resets the queue) on a
 * one-page throwaway UMEM tells. A later xfrag bind of the same queue tells
 * too, so a queue that is restarted never accumulates quarantined blocks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "internal.h"
#include "xsk_internal.h"

void xfrag_return_held(struct xfrag_umem *u, const uint32_t *held)
{
	uint32_t b;

	for (b = 0; b < u->hot.nblocks; b++)
		if (held[b])
			xfrag_umem__drain(u, (uint64_t)b << u->hot.block_shift,
					  (int32_t)held[b]);
}

/*
 * 0: nothing of ours is on (ifindex, queue) any more; -EBUSY: a pool still
 * is (ours being torn down, or another socket's); other errors: cannot tell.
 */
static int probe_queue(struct xfrag_umem *u, int ifindex, uint32_t queue_id)
{
	const struct xfrag_xsk_ops *ops = u->ops;
	struct xdp_umem_reg mr;
	struct sockaddr_xdp sxdp;
	int fd, err, two = 2;
	void *page;

	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return -errno;
	fd = ops->socket(u->ops_ctx);
	if (fd < 0) {
		munmap(page, 4096);
		return fd;
	}
	memset(&mr, 0, sizeof(mr));
	mr.addr = (uint64_t)(uintptr_t)page;
	mr.len = 4096;
	mr.chunk_size = 2048;
	memset(&sxdp, 0, sizeof(sxdp));
	sxdp.sxdp_family = AF_XDP;
	sxdp.sxdp_ifindex = (uint32_t)ifindex;
	sxdp.sxdp_queue_id = queue_id;
	sxdp.sxdp_flags = XDP_COPY;
	if (!(err = ops->setsockopt(u->ops_ctx, fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr))) &&
	    !(err = ops->setsockopt(u->ops_ctx, fd, SOL_XDP, XDP_UMEM_FILL_RING, &two, sizeof(two))) &&
	    !(err = ops->setsockopt(u->ops_ctx, fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &two, sizeof(two))) &&
	    !(err = ops->setsockopt(u->ops_ctx, fd, SOL_XDP, XDP_TX_RING, &two, sizeof(two))))
		err = ops->bind(u->ops_ctx, fd, &sxdp);
	ops->close(u->ops_ctx, fd);
	munmap(page, 4096);
	/* The device is gone: the kernel cleared its pools when it left. */
	if (err == -ENODEV || err == -ENXIO)
		err = 0;
	return err;
}

void xfrag_quarantine_add(struct xfrag_umem *u, int ifindex, uint32_t queue_id,
			  uint32_t *held, uint64_t chunks)
{
	struct xfrag_quarantine *q;

	if (!chunks) {
		free(held);
		return;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		/*
		 * Cannot remember them: keeping them out of the pool for good
		 * is the only safe choice. Their blocks stay pinned.
		 */
		pr_err("quarantine: out of memory; %llu chunks stay out of the pool",
		       (unsigned long long)chunks);
		free(held);
		return;
	}
	q->ifindex = ifindex;
	q->queue_id = queue_id;
	q->held = held;
	q->chunks = chunks;
	pthread_mutex_lock(&u->lock);
	q->next = u->quarantine;
	u->quarantine = q;
	u->quarantined += chunks;
	pthread_mutex_unlock(&u->lock);
}

/* Unlink and return @q's chunks. u->lock held. */
static void release_locked(struct xfrag_umem *u, struct xfrag_quarantine **pp)
{
	struct xfrag_quarantine *q = *pp;

	*pp = q->next;
	u->quarantined -= q->chunks;
	u->reclaimed += q->chunks;
	xfrag_return_held(u, q->held);
	pr_debug("queue %u: %llu quarantined chunks back in the pool",
		 q->queue_id, (unsigned long long)q->chunks);
	free(q->held);
	free(q);
}

void xfrag_quarantine_release_locked(struct xfrag_umem *u, int ifindex,
				     uint32_t queue_id)
{
	struct xfrag_quarantine **pp = &u->quarantine;

	while (*pp) {
		if ((*pp)->ifindex == ifindex && (*pp)->queue_id == queue_id)
			release_locked(u, pp);
		else
			pp = &(*pp)->next;
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t xfrag_quarantine_poll(struct xfrag_umem *u, unsigned int wait_ms)
{
	uint64_t deadline = now_ms() + wait_ms, left;
	unsigned int delay = 1;

	pthread_mutex_lock(&u->lock);
	for (;;) {
		struct xfrag_quarantine **pp = &u->quarantine;

		while (*pp) {
			/*
			 * A live socket of ours on the queue (a re-created
			 * queue) proved it free when it bound; the probe
			 * would only see that socket.
			 */
			if (!probe_queue(u, (*pp)->ifindex, (*pp)->queue_id))
				release_locked(u, pp);
			else
				pp = &(*pp)->next;
		}
		left = u->quarantined;
		if (!left || now_ms() >= deadline)
			break;
		pthread_mutex_unlock(&u->lock);
		{
			struct timespec ts = { 0, (long)delay * 1000000L };

			nanosleep(&ts, NULL);
		}
		delay = delay < 16 ? delay * 2 : 16;
		pthread_mutex_lock(&u->lock);
	}
	pthread_mutex_unlock(&u->lock);
	return left;
}

int64_t xfrag_umem__reclaim(struct xfrag_umem *u, unsigned int timeout_ms)
{
	if (!u)
		return -EINVAL;
	return (int64_t)xfrag_quarantine_poll(u, timeout_ms);
}

int xfrag_umem__xsk_stats(struct xfrag_umem *u, struct xfrag_umem_xsk_stats *out)
{
	struct xfrag_umem_xsk_stats s = { .sz = sizeof(s) };
	size_t usz;

	if (!u || !out || out->sz < sizeof(size_t))
		return -EINVAL;
	pthread_mutex_lock(&u->lock);
	s.sockets = u->nsockets;
	s.zerocopy = u->nsockets && u->zerocopy;
	s.frame_size = u->nsockets ? u->frame_size : 0;
	s.headroom = u->nsockets ? u->headroom : 0;
	s.quarantined = u->quarantined;
	s.reclaimed = u->reclaimed;
	pthread_mutex_unlock(&u->lock);
	usz = out->sz < sizeof(s) ? out->sz : sizeof(s);
	memcpy((char *)out + sizeof(size_t), (char *)&s + sizeof(size_t),
	       usz - sizeof(size_t));
	return 0;
}
