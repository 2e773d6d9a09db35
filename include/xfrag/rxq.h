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

/*
 * How a queue's socket binds. The first socket of a UMEM chooses the mode;
 * every later socket sharing the UMEM inherits it (the kernel binds shared
 * sockets in the UMEM's mode), so ZEROCOPY or COPY asked for a later socket
 * of a UMEM in the other mode is refused.
 */
enum xfrag_bind_mode {
	XFRAG_BIND_AUTO = 0,     /* zero-copy; copy mode if zero-copy fails
				  * where copy mode would not */
	XFRAG_BIND_COPY = 1,
	XFRAG_BIND_ZEROCOPY = 2, /* fail if the driver cannot */
};

/*
 * May RX chunks cross a 4 KiB page? In zero-copy mode the kernel checks
 * that the DMA addresses behind a chunk are contiguous and silently drops
 * fill entries that are not (no counter tells).
 */
enum xfrag_page_cross {
	/* Copy mode: yes (the kernel copies through a virtually contiguous
	 * mapping). Zero-copy: only on a hugetlb UMEM (physically contiguous
	 * per 2 MiB) whose device maps it untranslated: no IOMMU, or an
	 * IOMMU in passthrough (/sys/class/net/IF/device/iommu_group/type
	 * "identity"). Behind a translating IOMMU ("DMA", "DMA-FQ") no. */
	XFRAG_PAGE_CROSS_AUTO = 0,
	XFRAG_PAGE_CROSS_NEVER = 1,
	/* Zero-copy on hugetlb whatever the IOMMU type says: for an IOMMU
	 * known to map the UMEM contiguously. Wrong, it drains the pool. */
	XFRAG_PAGE_CROSS_FORCE = 2,
};

struct xfrag_rxq_opts {
	size_t sz;
	uint32_t queue_id;
	uint32_t frame_size;  /* chunk bytes in [2048, 4096]; 0: from the MTU */
	uint32_t headroom;    /* bytes before the frame, after the kernel's 256 */
	uint32_t fill_size;   /* ring entries, powers of two; 0: 2048 */
	uint32_t comp_size;   /* 0: 2048 */
	uint32_t rx_size;     /* 0: 2048 */
	uint32_t tx_size;     /* 0: no TX ring */
	uint32_t bind_mode;   /* enum xfrag_bind_mode */
	uint32_t busy_poll_us;     /* SO_BUSY_POLL; 0: off. Every recv then runs
				    * one NAPI poll of the queue on the calling
				    * CPU, if the driver links the queue to a NAPI
				    * instance (veth does not: a warning, and no
				    * busy polling) */
	uint32_t busy_poll_budget; /* SO_BUSY_POLL_BUDGET; 0: 64 when busy-polling */
	uint32_t copybreak;   /* frames <= this many bytes are copied; 0: off */
	bool multi_buffer;    /* XDP_USE_SG: frames larger than a chunk arrive as
			       * chains; on by itself when the MTU needs it */
	bool no_wakeup;       /* do not bind with XDP_USE_NEED_WAKEUP */
	uint8_t pad[2];
	/*
	 * Without an xfrag XDP program (xdp NULL in xfrag_rxq__create): the
	 * interface, by name or index, and the XSKMAP of the caller's own
	 * program. The queue puts its socket in slot queue_id and removes it
	 * on destroy; with no map (0) the caller inserts xfrag_rxq__fd()
	 * where its program redirects.
	 */
	const char *ifname;
	int ifindex;
	int xsks_map_fd;
	uint32_t page_cross;  /* enum xfrag_page_cross */
	/*
	 * Chunks to keep in the kernel's hands (on the fill ring and taken
	 * from it): 0 adapts to the rate between eight NAPI polls' worth (plus
	 * the driver's RX ring in zero-copy mode) and fill_size; N keeps N.
	 */
	uint32_t fill_target;
	size_t : 0;
};
#define xfrag_rxq_opts__last_field fill_target

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
	uint32_t page_cross_ok;   /* chunks may cross 4 KiB pages (enum xfrag_page_cross) */
	/*
	 * The chunk ledger: chunks in the kernel's hands for this queue,
	 * posted to the fill ring and not yet back on the RX ring (on the
	 * fill ring, in a zero-copy driver's hardware ring, or parked by the
	 * kernel). fill_posted - kernel_chunks have come back.
	 */
	uint64_t kernel_chunks;
	uint64_t fill_invalid;    /* carved chunks refused before posting: the
				   * kernel would have dropped them silently */
	uint32_t dma;             /* how the device reaches the UMEM: 0 unknown
				   * (software device), 1 no IOMMU, 2 IOMMU
				   * passthrough, 3 translating IOMMU */
	uint32_t has_xdp;         /* stats of an xfrag XDP program are included */
	uint32_t fill_target;     /* chunks the queue keeps in the kernel's hands now */
	uint32_t busy_poll_napi;  /* the NAPI instance busy polling runs (0: none;
				   * a driver that does not link its queues to
				   * NAPI, as veth, leaves nothing to poll) */
};

/**
 * xfrag_rxq__create() - open an AF_XDP socket on one queue of an interface
 * @umem: the shared UMEM (its first live queue registers it with the kernel)
 * @xdp: the attached xfrag XDP program whose XSKMAP gets this socket; or
 *       NULL to receive through a program of the caller's (opts: ifname or
 *       ifindex, and xsks_map_fd or nothing)
 * @opts: queue id, geometry, ring sizes; NULL for defaults on queue 0
 *
 * Validates the geometry against the limits measured on the kernel
 * (frame size in [2048, 4096], headroom <= frame - 704, the frame fitting
 * MTU + headers unless multi_buffer) and says why a value is refused. The
 * queue holds references on @umem and @xdp: they stay valid until it is
 * destroyed, whatever order the caller tears things down in.
 *
 * Context: a control thread. Creating and destroying queues is safe while
 * other queues of the same UMEM receive and release on their own threads;
 * calls that create or destroy queues of one UMEM serialize on it.
 * Return: the queue, or NULL with errno: EINVAL (bad geometry, ring size or
 * option; a mode or setting that differs from the shared UMEM's), ENODEV
 * (no such interface), ERANGE (queue id beyond the device's or the XDP
 * program's), EEXIST (a socket of this UMEM already has the queue),
 * EOPNOTSUPP (zero-copy required but unavailable), EPERM, EBUSY (another
 * socket holds the queue), or what bind() says.
 */
XFRAG_API struct xfrag_rxq *xfrag_rxq__create(struct xfrag_umem *umem,
					      struct xfrag_xdp *xdp,
					      const struct xfrag_rxq_opts *opts);

/**
 * xfrag_rxq__destroy() - close the socket and take its chunks back
 * @q: the queue, or NULL
 *
 * Removes the socket from the XSKMAP, closes it, and returns every chunk
 * the kernel held for the queue (the chunk ledger says which): at once in
 * copy mode, where nothing writes a chunk after close() returns; in
 * zero-copy mode only when the kernel has torn the queue's buffer pool
 * down, so the driver can no longer DMA into them. That takes a few
 * milliseconds, and destroy waits up to 250 ms for it; chunks still held
 * then stay in quarantine (xfrag_umem__stats().quarantined) until
 * xfrag_umem__reclaim() or a new queue on the same interface queue finds
 * it free. Packets the application has not released stay valid.
 *
 * Context: as xfrag_rxq__create(); not while the queue's owner is in
 * xfrag_rxq__recv().
 */
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

/* The UMEM's AF_XDP side. Declare with XFRAG_OPTS(xfrag_umem_xsk_stats, s). */
struct xfrag_umem_xsk_stats {
	size_t sz;
	uint32_t sockets;     /* rx and tx queue sockets bound on the UMEM now */
	uint32_t zerocopy;    /* they are in zero-copy mode */
	uint32_t frame_size;  /* the registration's chunk size (0: none now) */
	uint32_t headroom;
	/* Chunks a closed queue's kernel side may still write, held out of
	 * the pool until the kernel has torn the queue down. */
	uint64_t quarantined;
	uint64_t reclaimed;   /* chunks that came back from quarantine */
};

/**
 * xfrag_umem__xsk_stats() - sockets, mode and quarantine of a UMEM
 * @umem: the UMEM
 * @s: filled in up to its sz
 *
 * Context: any thread.
 * Return: 0, or -EINVAL.
 */
XFRAG_API int xfrag_umem__xsk_stats(struct xfrag_umem *umem,
				    struct xfrag_umem_xsk_stats *s);

/**
 * xfrag_umem__reclaim() - return quarantined chunks whose queue is free
 * @umem: the UMEM
 * @timeout_ms: how long to keep probing while some remain (0: once)
 *
 * A zero-copy queue's chunks stay out of the pool after destroy until the
 * kernel has torn the queue's buffer pool down (the driver may DMA into
 * them until then). Destroy waits a little for it; this tries again.
 *
 * Context: a control thread.
 * Return: chunks still in quarantine, or -EINVAL.
 */
XFRAG_API int64_t xfrag_umem__reclaim(struct xfrag_umem *umem,
				      unsigned int timeout_ms);

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
 * xfrag_releaser__release_pkts() - release @n packet views through a releaser
 * @r: the calling thread's releaser (xfrag_releaser__create(); NULL:
 *     nothing happens)
 * @pkts: the views
 * @n: count
 *
 * Like xfrag_pkt__release_bulk(), for a thread the rx queue handed its
 * packets to (a worker, a capture writer): the runs travel to the carving
 * queue's cache in batches instead of each block's count being written by
 * both threads (see xfrag_releaser__release_bulk()).
 *
 * Context: the releaser's thread.
 */
XFRAG_API void xfrag_releaser__release_pkts(struct xfrag_releaser *r,
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

/**
 * xfrag_rxq__bind() - bind the calling thread to the queue's frag cache
 * @q: the queue this thread receives on
 *
 * xfrag_cache__bind() for the cache @q carves its fill ring from: this
 * thread's xfrag_pkt__release_bulk(), xfrag_umem__release_bulk() and
 * xfrag_umem__release() calls then release like xfrag_rxq__release(),
 * for code that releases without the queue at hand. The binding ends
 * with xfrag_rxq__destroy() (or the cache's unbind, or the thread).
 *
 * Context: the owner thread of @q only.
 * Return: 0, or -EINVAL for a NULL @q.
 */
XFRAG_API int xfrag_rxq__bind(struct xfrag_rxq *q);

#ifdef __cplusplus
}
#endif
#endif /* XFRAG_RXQ_H */
