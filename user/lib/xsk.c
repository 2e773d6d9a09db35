// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * AF_XDP sockets on an xfrag UMEM: registration, sharing, bind modes.
 *
 * The first live socket registers the region (XDP_UMEM_REG, unaligned-chunk
 * mode); every later one binds with XDP_SHARED_UMEM against any live socket
 * of the UMEM, with fill and completion rings of its own (the kernel then
 * gives it a buffer pool of its own on its queue). When the last socket
 * closes, the next one registers again, possibly with another geometry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "internal.h"
#include "xsk_internal.h"

/*
 * How long a bind of a busy queue is retried (backoff 2, 4, ... 64 ms): a
 * socket that just closed holds its queue until the kernel has torn its
 * pool down, after an RCU grace period and a work item, which a loaded
 * machine can take hundreds of milliseconds to run. Bounded by time, not
 * by a count of tries, so that a slow machine waits as long as a fast one.
 */
#define BIND_WAIT_NS 3000000000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int xfrag_sock_getopt(struct xfrag_sock *s, int level, int name, void *val,
		      socklen_t len)
{
	return s->umem->ops->getsockopt(s->umem->ops_ctx, s->fd, level, name,
					val, &len);
}

int xfrag_sock_setopt(struct xfrag_sock *s, int level, int name,
		      const void *val, socklen_t len)
{
	return s->umem->ops->setsockopt(s->umem->ops_ctx, s->fd, level, name,
					val, len);
}

void xfrag_sock_unmap(struct xfrag_sock *s)
{
	const struct xfrag_xsk_ops *ops = s->umem->ops;
	int i;

	for (i = 0; i < XFRAG_NRINGS; i++) {
		if (s->map[i])
			ops->munmap(s->umem->ops_ctx, s->map[i], s->map_len[i]);
		s->map[i] = NULL;
	}
}

/* Point a ring's fields at its mapping, as the kernel laid it out. */
static void ring_init(struct xsk_ring_prod *r, void *map,
		      const struct xdp_ring_offset *off, uint32_t size,
		      bool producer)
{
	r->mask = size - 1;
	r->size = size;
	r->producer = (uint32_t *)((char *)map + off->producer);
	r->consumer = (uint32_t *)((char *)map + off->consumer);
	r->flags = (uint32_t *)((char *)map + off->flags);
	r->ring = (char *)map + off->desc;
	r->cached_prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	r->cached_cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
	/* A producer keeps cached_cons one ring ahead (see xsk_prod_nb_free). */
	if (producer)
		r->cached_cons += size;
}

static int map_ring(struct xfrag_sock *s, int which, off_t pgoff,
		    const struct xdp_ring_offset *off, uint32_t size,
		    size_t entry)
{
	size_t len = off->desc + (size_t)size * entry;
	int err;

	err = s->umem->ops->mmap(s->umem->ops_ctx, s->fd, len, pgoff, &s->map[which]);
	if (err)
		return err;
	s->map_len[which] = len;
	/* struct xsk_ring_cons has the same layout as xsk_ring_prod. */
	ring_init(which == XFRAG_RING_FILL ? &s->fill :
		  which == XFRAG_RING_TX ? &s->tx :
		  which == XFRAG_RING_COMP ? (struct xsk_ring_prod *)&s->comp :
					     (struct xsk_ring_prod *)&s->rx,
		  s->map[which], off, size,
		  which == XFRAG_RING_FILL || which == XFRAG_RING_TX);
	return 0;
}

/* socket(), registration or not, ring sizes, mappings: everything but bind. */
static int sock_prepare(struct xfrag_umem *u, const struct xfrag_sock_params *p,
			struct xfrag_sock *s, bool reg)
{
	const struct xfrag_xsk_ops *ops = u->ops;
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);
	int fd, err;

	fd = ops->socket(u->ops_ctx);
	if (fd < 0)
		return fd;
	s->fd = fd;
	if (reg) {
		struct xdp_umem_reg mr;

		/* Padding and fields newer kernels added must be zero. */
		memset(&mr, 0, sizeof(mr));
		mr.addr = (uint64_t)(uintptr_t)u->hot.area;
		mr.len = u->hot.size;
		mr.chunk_size = p->frame_size;
		mr.headroom = p->headroom;
		mr.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG;
		err = xfrag_sock_setopt(s, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr));
		if (err) {
			pr_err("registering the UMEM (%llu bytes, frame %u, headroom %u) failed: %s",
			       (unsigned long long)u->hot.size, p->frame_size,
			       p->headroom, strerror(-err));
			return err;
		}
		s->registered = true;
	}
	if ((err = xfrag_sock_setopt(s, SOL_XDP, XDP_UMEM_FILL_RING, &p->fill_size, sizeof(int))) ||
	    (err = xfrag_sock_setopt(s, SOL_XDP, XDP_UMEM_COMPLETION_RING, &p->comp_size, sizeof(int))) ||
	    (p->rx_size && (err = xfrag_sock_setopt(s, SOL_XDP, XDP_RX_RING, &p->rx_size, sizeof(int)))) ||
	    (p->tx_size && (err = xfrag_sock_setopt(s, SOL_XDP, XDP_TX_RING, &p->tx_size, sizeof(int))))) {
		pr_err("%s queue %u: sizing the AF_XDP rings failed: %s",
		       p->ifname, p->queue_id, strerror(-err));
		return err;
	}
	err = ops->getsockopt(u->ops_ctx, fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len);
	if (err)
		return err;
	if ((err = map_ring(s, XFRAG_RING_FILL, XDP_UMEM_PGOFF_FILL_RING, &off.fr,
			    p->fill_size, sizeof(uint64_t))) ||
	    (err = map_ring(s, XFRAG_RING_COMP, XDP_UMEM_PGOFF_COMPLETION_RING, &off.cr,
			    p->comp_size, sizeof(uint64_t))) ||
	    (p->rx_size && (err = map_ring(s, XFRAG_RING_RX, XDP_PGOFF_RX_RING, &off.rx,
					   p->rx_size, sizeof(struct xdp_desc)))) ||
	    (p->tx_size && (err = map_ring(s, XFRAG_RING_TX, XDP_PGOFF_TX_RING, &off.tx,
					   p->tx_size, sizeof(struct xdp_desc))))) {
		pr_err("%s queue %u: mapping the AF_XDP rings failed: %s",
		       p->ifname, p->queue_id, strerror(-err));
		return err;
	}
	return 0;
}

static void sock_discard(struct xfrag_sock *s)
{
	xfrag_sock_unmap(s);
	if (s->fd >= 0)
		s->umem->ops->close(s->umem->ops_ctx, s->fd);
	s->fd = -1;
	s->registered = false;
}

static int bind_flags(const struct xfrag_sock_params *p, bool zc)
{
	return (p->no_wakeup ? 0 : XDP_USE_NEED_WAKEUP) |
	       (p->multi_buffer ? XDP_USE_SG : 0) |
	       (zc ? XDP_ZEROCOPY : XDP_COPY);
}

static int do_bind(struct xfrag_sock *s, const struct xfrag_sock_params *p,
		   uint16_t flags, int shared_fd)
{
	struct sockaddr_xdp sxdp;

	memset(&sxdp, 0, sizeof(sxdp));
	sxdp.sxdp_family = AF_XDP;
	sxdp.sxdp_ifindex = (uint32_t)p->ifindex;
	sxdp.sxdp_queue_id = p->queue_id;
	sxdp.sxdp_flags = flags;
	sxdp.sxdp_shared_umem_fd = shared_fd >= 0 ? (uint32_t)shared_fd : 0;
	return s->umem->ops->bind(s->umem->ops_ctx, s->fd, &sxdp);
}

/*
 * The first socket of a UMEM picks the mode. AUTO tries zero-copy, and on
 * any failure tries copy mode on the same socket (a failed bind leaves the
 * socket's registration and rings intact): if copy mode works, the failure
 * was zero-copy's own (EOPNOTSUPP: no driver support, as on veth or with
 * multi-buffer the driver cannot chain; EINVAL: the MTU does not fit the
 * chunk, or the driver refuses the geometry; ENOMEM/ENOSPC: DMA mapping;
 * EBUSY from a queue held by a memory provider), and it is logged.
 *
 * EBUSY is ambiguous: it is also what a queue still held by the pool of a
 * socket that just closed says, and that pool may be torn down between the
 * two binds; the copy bind would then succeed and fix the UMEM in copy mode
 * on a zero-copy device. So EBUSY goes back to the caller's retry loop,
 * which starts again with zero-copy, and falls back only on the @last try.
 */
static int bind_first(struct xfrag_sock *s, const struct xfrag_sock_params *p,
		      bool last)
{
	int err, zerr;

	if (p->bind_mode == XFRAG_BIND_COPY)
		return do_bind(s, p, (uint16_t)bind_flags(p, false), -1);
	zerr = do_bind(s, p, (uint16_t)bind_flags(p, true), -1);
	if (!zerr || p->bind_mode == XFRAG_BIND_ZEROCOPY || (zerr == -EBUSY && !last))
		return zerr;
	err = do_bind(s, p, (uint16_t)bind_flags(p, false), -1);
	if (!err && zerr != -EOPNOTSUPP)
		pr_warn("%s queue %u: zero-copy bind failed (%s): using copy mode",
			p->ifname, p->queue_id, strerror(-zerr));
	else if (!err)
		pr_info("%s queue %u: no zero-copy support, binding in copy mode",
			p->ifname, p->queue_id);
	return err;
}

static bool sock_queue_used(const struct xfrag_umem *u, int ifindex,
			    uint32_t queue_id)
{
	const struct xfrag_sock *o;

	for (o = u->socks; o; o = o->next)
		if (o->ifindex == ifindex && o->queue_id == queue_id)
			return true;
	return false;
}

/* A later socket must ask for what the UMEM's registration fixed. */
static int check_shared(const struct xfrag_umem *u,
			const struct xfrag_sock_params *p)
{
	if (u->frame_size != p->frame_size || u->headroom != p->headroom) {
		pr_err("%s queue %u wants frame %u / headroom %u, but the shared UMEM is registered with %u / %u",
		       p->ifname, p->queue_id, p->frame_size, p->headroom,
		       u->frame_size, u->headroom);
		return -EINVAL;
	}
	if (u->no_wakeup != p->no_wakeup || u->multi_buffer != p->multi_buffer) {
		/*
		 * The kernel binds a shared socket with the wakeup and
		 * multi-buffer settings of the UMEM: a different request
		 * would be silently ignored (and a queue believing it needs
		 * no wakeup could stall). Refuse it instead.
		 */
		pr_err("%s queue %u: sockets sharing a UMEM inherit its wakeup (%s) and multi-buffer (%s) settings; this one asks otherwise",
		       p->ifname, p->queue_id, u->no_wakeup ? "off" : "on",
		       u->multi_buffer ? "on" : "off");
		return -EINVAL;
	}
	if (p->bind_mode == XFRAG_BIND_ZEROCOPY && !u->zerocopy) {
		pr_err("%s queue %u: zero-copy was required, but the shared UMEM is in copy mode (its first socket's mode binds every later one)",
		       p->ifname, p->queue_id);
		return -EOPNOTSUPP;
	}
	if (p->bind_mode == XFRAG_BIND_COPY && u->zerocopy) {
		pr_err("%s queue %u: copy mode was required, but the shared UMEM is in zero-copy mode (its first socket's mode binds every later one)",
		       p->ifname, p->queue_id);
		return -EINVAL;
	}
	return 0;
}

int xfrag_sock_open(struct xfrag_umem *u, const struct xfrag_sock_params *p,
		    struct xfrag_sock *s)
{
	unsigned int delay = 2;
	uint64_t deadline = mono_ns() + BIND_WAIT_NS;
	bool last;
	bool shared = false;
	int err;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->umem = u;
	s->ifindex = p->ifindex;
	s->queue_id = p->queue_id;

	pthread_mutex_lock(&u->lock);
	for (;;) {
		/* The last try if the next backoff would pass the deadline. */
		last = mono_ns() + (uint64_t)delay * 1000000ull > deadline;
		if (sock_queue_used(u, p->ifindex, p->queue_id)) {
			/* The kernel would make them share one fill ring. */
			pr_err("%s queue %u already has a socket on this UMEM (an rx or tx queue): use another queue or UMEM",
			       p->ifname, p->queue_id);
			err = -EEXIST;
			break;
		}
		shared = u->socks != NULL;
		if (shared && (err = check_shared(u, p)))
			break;
		err = sock_prepare(u, p, s, !shared);
		if (!err)
			err = shared ? do_bind(s, p, XDP_SHARED_UMEM, u->socks->fd) :
				       bind_first(s, p, last);
		if (!err)
			break;
		sock_discard(s);
		/* A queue whose socket just closed stays busy for a while. */
		if (err != -EBUSY || last) {
			if (err == -EBUSY)
				pr_err("%s queue %u is busy: another AF_XDP socket is bound to it (or its last one is still being torn down)",
				       p->ifname, p->queue_id);
			else if (err == -EOPNOTSUPP && p->bind_mode == XFRAG_BIND_ZEROCOPY)
				pr_err("%s queue %u: zero-copy was required but the driver does not support it",
				       p->ifname, p->queue_id);
			else
				pr_err("%s queue %u: binding the AF_XDP socket failed: %s",
				       p->ifname, p->queue_id, strerror(-err));
			break;
		}
		pthread_mutex_unlock(&u->lock);
		sleep_ms(delay);
		delay = delay < 64 ? delay * 2 : 64;
		pthread_mutex_lock(&u->lock);
	}
	if (err) {
		pthread_mutex_unlock(&u->lock);
		return err;
	}
	{
		/* Ask the kernel which mode it gave us. */
		struct xdp_options xo = { 0 };

		s->zerocopy = !xfrag_sock_getopt(s, SOL_XDP, XDP_OPTIONS, &xo, sizeof(xo)) &&
			      (xo.flags & XDP_OPTIONS_ZEROCOPY);
	}
	if (!shared) {
		u->frame_size = p->frame_size;
		u->headroom = p->headroom;
		u->no_wakeup = p->no_wakeup;
		u->multi_buffer = p->multi_buffer;
		u->zerocopy = s->zerocopy;
	}
	s->next = u->socks;
	u->socks = s;
	u->nsockets++;
	/* Bound: the queue's previous pool has left the device. */
	xfrag_quarantine_release_locked(u, p->ifindex, p->queue_id);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

void xfrag_sock_close(struct xfrag_sock *s)
{
	struct xfrag_umem *u = s->umem;
	struct xfrag_sock **pp;

	if (!u || s->fd < 0)
		return;
	pthread_mutex_lock(&u->lock);
	for (pp = &u->socks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			u->nsockets--;
			break;
		}
	}
	/*
	 * Under the lock: a concurrent open must not share against it. The
	 * ring mappings hold the socket's file too: the kernel releases the
	 * socket (unbinds it, waits out the receive path, drops its pool)
	 * only when the fd is closed *and* the rings are unmapped, and then
	 * before munmap() returns (the final fput runs on the way back to
	 * user space).
	 */
	u->ops->close(u->ops_ctx, s->fd);
	s->fd = -1;
	xfrag_sock_unmap(s);
	pthread_mutex_unlock(&u->lock);
}

bool xfrag_page_cross_ok(const struct xfrag_umem *u, bool zerocopy, uint8_t dma,
			 uint32_t policy)
{
	bool contiguous = u->backing == XFRAG_BACKING_HUGETLB;

	if (policy == XFRAG_PAGE_CROSS_NEVER)
		return false;
	/* The kernel checks DMA contiguity only in zero-copy mode. */
	if (!zerocopy)
		return true;
	if (policy == XFRAG_PAGE_CROSS_FORCE)
		return contiguous;
	return contiguous && (dma == XFRAG_DMA_DIRECT || dma == XFRAG_DMA_IDENTITY);
}

int xfrag_umem_set_xsk_ops(struct xfrag_umem *u, const struct xfrag_xsk_ops *ops,
			   void *ctx)
{
	int err = 0;

	pthread_mutex_lock(&u->lock);
	if (u->socks)
		err = -EBUSY;
	else {
		u->ops = ops ? ops : &xfrag_kernel_ops;
		u->ops_ctx = ctx;
	}
	pthread_mutex_unlock(&u->lock);
	return err;
}

