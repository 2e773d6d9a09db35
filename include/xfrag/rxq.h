/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xfrag rx queues: one AF_XDP socket per (interface, queue), all sharing one
 * UMEM (XDP_SHARED_UMEM), each with its own fill/completion ring and frag
 * cache. xfrag_rxq__recv() first tops the fill ring up with chunks carved by
 * the queue's frag cache, then returns a batch of packet views. A view stays
 * valid until released; releasing (from any thread, one by one or in bulk)
 * drops the reference on the chunk's block, and a block whose count reaches
 * zero goes back to the pool and from there to a fill ring.
 *
 * Typical loop:
 *
 *	struct xfrag_pkt pkts[64];
 *	int n = xfrag_rxq__recv(q, pkts, 64);
 *	for (i = 0; i < n; i++) handle(pkts[i].data, pkts[i].len);
 *	xfrag_rxq__release(q, pkts, n);        // same thread, fewest atomics
 *	// or, from any thread: xfrag_pkt__release_bulk(umem, pkts, n);
 */
#ifndef XFRAG_RXQ_H
#define XFRAG_RXQ_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "frag.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xfrag_rxq;
struct xfrag_xdp;

/* The kernel puts frames at chunk + XDP_PACKET_HEADROOM + headroom. */
#define XFRAG_XDP_PACKET_HEADROOM 256
#define XFRAG_FRAME_MIN 2048
#define XFRAG_FRAME_MAX 4096
/* Measured on 6.18: headroom may be at most chunk_size - 704. */
#define XFRAG_HEADROOM_SLACK 704

enum xfrag_bind_mode {
	XFRAG_BIND_AUTO = 0,     /* zero-copy, else copy mode */
	XFRAG_BIND_COPY = 1,
	XFRAG_BIND_ZEROCOPY = 2, /* fail if the driver cannot */
};

struct xfrag_rxq_opts {
	size_t sz;
	uint32_t queue_id;
	uint32_t frame_size;  /* chunk bytes in [2048, 4096]; 0: from the MTU */
	uint32_t headroom;    /* bytes before the frame, after the kernel's 256 */
	uint32_t fill_size;   /* ring entries, powers of two; 0: 4096 */
	uint32_t comp_size;   /* 0: 2048 */
	uint32_t rx_size;     /* 0: 4096 */
	uint32_t tx_size;     /* 0: no TX ring */
	uint32_t bind_mode;   /* enum xfrag_bind_mode */
	uint32_t busy_poll_us;     /* SO_BUSY_POLL; 0: off */
	uint32_t busy_poll_budget; /* SO_BUSY_POLL_BUDGET; 0: 64 when busy-polling */
	uint32_t copybreak;   /* frames <= this many bytes are copied; 0: off */
	bool multi_buffer;    /* XDP_USE_SG: frames larger than a chunk arrive as
			       * chains; on by itself when the MTU needs it */
	bool no_wakeup;       /* do not bind with XDP_USE_NEED_WAKEUP */
	uint8_t pad[2];
};
#define xfrag_rxq_opts__last_field pad

/*
 * One received packet. Do not modify `addr` or `chain`: they are what a
 * release gives back. A multi-buffer frame (nsegs > 1) arrives as a chain of
 * chunks: `data` is its first segment and `len` the whole frame; the
 * segments are listed in a small frag, see xfrag_pkt__chain().
 */
struct xfrag_pkt {
	uint8_t *data;
	uint32_t len;      /* total length (all segments of a chain) */
	uint8_t meta_len;  /* bytes of metadata just before data (0: none) */
	uint8_t flags;     /* XFRAG_PKT_F_* */
	uint16_t nsegs;    /* 1, or the chunks of a multi-buffer chain */
	uint64_t addr;     /* release handle (first chunk / the copy) */
	uint64_t chain;    /* handle of the struct xfrag_chain, or XFRAG_NO_ADDR */
}; /* 32 bytes: two views per cache line */

/* One segment of a chain: the RX descriptor's address and length. */
struct xfrag_seg {
	uint64_t addr; /* chunk handle, data offset in bits 48..63 */
	uint32_t len;
	uint32_t pad;
};

/* The chain of a multi-buffer frame, carved from the UMEM itself. */
struct xfrag_chain {
	uint32_t nsegs;
	uint32_t len;
	struct xfrag_seg seg[];
};

#define XFRAG_CHAIN_MAX_SEGS 32

/**
 * xfrag_pkt__chain() - the segments of a multi-buffer packet
 * @umem: the packet's UMEM
 * @pkt: a packet with nsegs > 1
 *
 * Return: the chain (valid until the packet is released), or NULL for a
 * single-buffer packet.
 */
static inline const struct xfrag_chain *
xfrag_pkt__chain(const struct xfrag_umem *umem, const struct xfrag_pkt *pkt)
{
	if (pkt->nsegs < 2)
		return NULL;
	return (const struct xfrag_chain *)xfrag_umem__ptr(umem, pkt->chain);
}

/* Segment @i of @pkt (0 is the first), also for single-buffer packets. */
static inline uint8_t *xfrag_pkt__seg(const struct xfrag_umem *umem,
				      const struct xfrag_pkt *pkt, unsigned int i,
				      uint32_t *len)
{
	const struct xfrag_chain *c = xfrag_pkt__chain(umem, pkt);

	if (!c) {
		*len = i ? 0 : pkt->len;
		return i ? NULL : pkt->data;
	}
	if (i >= c->nsegs) {
		*len = 0;
		return NULL;
	}
	*len = c->seg[i].len;
	return (uint8_t *)xfrag_umem__ptr(umem, c->seg[i].addr) +
	       (c->seg[i].addr >> 48);
}

#define XFRAG_PKT_F_COPY (1u << 0) /* data is a copybreak copy (in the UMEM) */

struct xfrag_rxq_stats {
	size_t sz;
	/* XDP program (this queue's slot, all CPUs) */
	uint64_t xdp_seen, xdp_redirected, xdp_passed, xdp_dropped;
	uint64_t xdp_redirect_failed, xdp_malformed;
	/* kernel, XDP_STATISTICS */
	uint64_t rx_dropped;          /* no chunk (includes rx_fill_ring_empty in copy
				       * mode) or frame larger than a chunk */
	uint64_t rx_invalid_descs;
	uint64_t rx_ring_full;        /* RX ring had no room */
	uint64_t rx_fill_ring_empty;  /* fill ring had no chunk (a subset of rx_dropped) */
	uint64_t tx_invalid_descs;
	/* library */
	uint64_t rx_packets, rx_bytes;
	uint64_t fill_posted;     /* chunks put on the fill ring */
	uint64_t fill_short;      /* refills that could not fill the ring */
	uint64_t wakeups;         /* recvfrom() kicks */
	uint64_t copies, copy_bytes; /* copybreak */
	uint64_t chains;          /* multi-buffer frames delivered */
	uint64_t chain_drops;     /* frames whose chain could not be delivered */
	uint32_t fill_level;      /* chunks now on the fill ring */
	uint32_t fill_capacity;
	uint32_t frame_size, headroom;
	uint32_t chunks_per_block;
	uint32_t zerocopy;        /* bound in zero-copy mode */
	uint32_t multi_buffer;    /* bound with XDP_USE_SG */
	uint32_t page_cross_ok;   /* chunks may cross 4 KiB pages (hugetlb UMEM) */
};

/**
 * xfrag_rxq__create() - open an AF_XDP socket on one queue of an interface
 * @umem: the shared UMEM (its first queue registers it with the kernel)
 * @xdp: the attached XDP program whose XSKMAP gets this socket
 * @opts: queue id, geometry, ring sizes; NULL for defaults on queue 0
 *
 * Validates the geometry against the limits measured on the kernel
 * (frame size in [2048, 4096], headroom <= frame - 704, the frame fitting
 * MTU + headers unless multi_buffer) and says why a value is refused.
 *
 * Return: the queue, or NULL with errno: EINVAL (bad geometry or ring size,
 * UMEM too small for the rings), ERANGE (queue id beyond the device's),
 * EOPNOTSUPP (zero-copy forced but unsupported), EPERM, EBUSY (after
 * retries), or what bind() says.
 */
XFRAG_API struct xfrag_rxq *xfrag_rxq__create(struct xfrag_umem *umem,
					      struct xfrag_xdp *xdp,
					      const struct xfrag_rxq_opts *opts);

/** xfrag_rxq__destroy() - close the socket; packets not yet released stay valid */
XFRAG_API void xfrag_rxq__destroy(struct xfrag_rxq *q);

/**
 * xfrag_rxq__recv() - top the fill ring up, then take up to @max packets
 * @q: the queue (owner thread only)
 * @pkts: receives the packet views
 * @max: capacity of @pkts
 *
 * Never blocks; makes a syscall only when the kernel asks for a wakeup.
 *
 * Return: packets received (0 if none), or a negative errno.
 */
XFRAG_API int xfrag_rxq__recv(struct xfrag_rxq *q, struct xfrag_pkt *pkts,
			      unsigned int max);

/**
 * xfrag_rxq__refill() - top the fill ring up without receiving
 * @q: the queue (owner thread only)
 *
 * Return: chunks posted.
 */
XFRAG_API int xfrag_rxq__refill(struct xfrag_rxq *q);

/**
 * xfrag_rxq__check() - is the queue's interface still there and up?
 * @q: the queue
 *
 * Cheap enough to call once a second from the receive loop, too costly
 * for every empty poll (two syscalls). A link that goes down and up again
 * keeps the socket bound: reception resumes by itself. A deleted interface
 * unbinds it for good: destroy the queue.
 *
 * Return: 0; -ENETDOWN (link down), -ENODEV (interface deleted), or the
 * socket's pending error.
 */
XFRAG_API int xfrag_rxq__check(struct xfrag_rxq *q);

/** xfrag_rxq__fd() - the socket, for poll() */
XFRAG_API int xfrag_rxq__fd(const struct xfrag_rxq *q);

/**
 * xfrag_rxq__stats() - merge the XDP, kernel and library counters
 * @q: the queue
 * @s: filled in up to its sz
 *
 * Context: any thread, also while the owner receives.
 * Return: 0, or -EINVAL.
 */
XFRAG_API int xfrag_rxq__stats(struct xfrag_rxq *q, struct xfrag_rxq_stats *s);

/** xfrag_rxq__umem() - the UMEM the queue receives into */
XFRAG_API struct xfrag_umem *xfrag_rxq__umem(const struct xfrag_rxq *q);

/**
 * xfrag_frame_size_for_mtu() - the chunk size a queue derives from an MTU
 * @mtu: interface MTU
 * @headroom: requested headroom
 *
 * 256 + headroom + MTU + 14 (Ethernet) + 8 (two VLAN tags), rounded up to
 * a cache line and clamped to [2048, 4096].
 */
XFRAG_API uint32_t xfrag_frame_size_for_mtu(uint32_t mtu, uint32_t headroom);

/**
 * xfrag_pkt__release_bulk() - release @n packet views
 * @umem: their UMEM
 * @pkts: the views
 * @n: count
 *
 * A chain is released whole: every segment's chunk and the chain itself.
 *
 * Context: any thread.
 */
XFRAG_API void xfrag_pkt__release_bulk(struct xfrag_umem *umem,
				       const struct xfrag_pkt *pkts,
				       unsigned int n);

/**
 * xfrag_rxq__release() - release packets on the queue's own thread
 * @q: the queue that received them (or any queue of the same UMEM)
 * @pkts: the views
 * @n: count
 *
 * Like xfrag_pkt__release_bulk(), but chunks of the block the queue is
 * carving go back to its frag cache without an atomic operation, and a
 * block freed here is kept as the cache's spare instead of a trip through
 * the shared pool: the receive-process-release loop of one thread.
 *
 * Context: the owner thread of @q only.
 */
XFRAG_API void xfrag_rxq__release(struct xfrag_rxq *q,
				  const struct xfrag_pkt *pkts, unsigned int n);

#ifdef __cplusplus
}
#endif
#endif /* XFRAG_RXQ_H */
