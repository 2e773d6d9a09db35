/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xfrag tx queues: an AF_XDP socket with a TX ring on one queue of an
 * interface, over an xfrag UMEM (shared with rx queues or not). TX frames
 * are frags carved by the queue's own frag cache at exactly the frame's
 * length; the completion ring hands them back through the frag allocator's
 * coalesced bulk release, so transmitted memory returns to the pool block
 * by block, like received memory does.
 *
 * Typical loop:
 *
 *	uint64_t addrs[64]; uint32_t lens[64];
 *	for (i = 0; i < 64; i++) {
 *		if (xfrag_txq__alloc(q, len, &addrs[i]))
 *			break;                      // -ENOBUFS: complete, retry
 *		build(xfrag_umem__ptr(umem, addrs[i]), len);
 *		lens[i] = len;
 *	}
 *	sent = xfrag_txq__send(q, addrs, lens, i); // keep addrs[sent..i) for later
 *	xfrag_txq__complete(q);
 *
 * Copy mode (veth, drivers without AF_XDP support): the kernel transmits
 * only inside the sendto() "kick" that xfrag_txq__send() makes, at most a
 * small budget of frames per call; the queue kicks again while the kernel
 * reports that its budget ran out.
 *
 * A queue belongs to one thread. A tx queue cannot share its (interface,
 * queue id) with an rx queue of the same UMEM.
 */
#ifndef XFRAG_TXQ_H
#define XFRAG_TXQ_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "frag.h"
#include "rxq.h" /* enum xfrag_bind_mode */

#ifdef __cplusplus
extern "C" {
#endif

struct xfrag_txq;

/*
 * TX frames start 64-byte aligned. Besides being cache friendly, this keeps
 * their addresses even: copy-mode completions clear bit 0 of odd addresses.
 */
#define XFRAG_TXQ_ALIGN 64

/* Declare with XFRAG_OPTS(xfrag_txq_opts, o, .ifname = "eth0"). */
struct xfrag_txq_opts {
	size_t sz;
	const char *ifname;  /* the interface; or */
	int ifindex;         /* used when ifname is NULL */
	uint32_t queue_id;
	uint32_t tx_size;    /* TX ring entries, a power of two; 0: 2048 */
	uint32_t comp_size;  /* completion ring entries; 0: 2048 */
	uint32_t frame_size; /* chunk size the UMEM is registered with, in
			      * [2048, 4096], and the largest TX frame; 0: the
			      * UMEM's if already registered, else 4096 */
	uint32_t bind_mode;  /* enum xfrag_bind_mode */
	uint32_t headroom;   /* registration headroom, for a UMEM that rx
			      * queues will share; 0 otherwise */
	bool no_wakeup;      /* do not bind with XDP_USE_NEED_WAKEUP: kick on
			      * every send */
	size_t : 0;
};
#define xfrag_txq_opts__last_field no_wakeup

/* Declare with XFRAG_OPTS(xfrag_txq_stats, s): fields beyond sz are not written. */
struct xfrag_txq_stats {
	size_t sz;
	uint64_t sent;          /* frames put on the TX ring */
	uint64_t sent_bytes;
	uint64_t completed;     /* frames back from the completion ring */
	uint64_t kicks;         /* sendto() calls */
	uint64_t eagain;        /* kicks that ran out of kernel budget */
	uint64_t ebusy;         /* frames the device dropped (they still complete) */
	uint64_t errors;        /* kicks failing otherwise (ENOBUFS, ENETDOWN, ...) */
	uint64_t alloc_fail;    /* xfrag_txq__alloc() found the pool empty */
	uint64_t comp_unknown;  /* completions of addresses not in flight (ignored) */
	uint64_t tx_invalid_descs;    /* kernel, XDP_STATISTICS */
	uint64_t tx_ring_empty_descs; /* kernel, XDP_STATISTICS */
	uint32_t outstanding;   /* sent, not yet completed */
	uint32_t frame_size;
	int32_t last_error;     /* the last kick error (negative errno), or 0 */
	uint32_t zerocopy;
};

/**
 * xfrag_txq__create() - open an AF_XDP socket with a TX ring on one queue
 * @umem: the UMEM to carve TX frames from; registered with the kernel here
 *        if no socket uses it yet (unaligned-chunk mode)
 * @opts: interface (required), queue and ring sizes
 *
 * The socket has no RX ring and the queue never posts to its fill ring; no
 * XDP program is needed. The queue owns a frag cache on @umem.
 *
 * Return: the queue, or NULL with errno: EINVAL (bad options or ring
 * sizes, frame size out of range or different from the UMEM's
 * registration), ENODEV (no such interface), ERANGE (queue id beyond the
 * device's tx queues), EEXIST (an rx queue of @umem already uses this
 * interface queue), EOPNOTSUPP (zero-copy forced but unsupported), EPERM,
 * EBUSY (after retries), ENOMEM, or what bind() says.
 */
XFRAG_API struct xfrag_txq *xfrag_txq__create(struct xfrag_umem *umem,
					      const struct xfrag_txq_opts *opts);

/**
 * xfrag_txq__destroy() - close the socket and free the queue
 * @q: the queue, or NULL
 *
 * Kicks and drains completions for up to ~200 ms while frames are in
 * flight, then closes the socket and releases the frames that never
 * completed. Frames allocated but not sent are the caller's to release.
 */
XFRAG_API void xfrag_txq__destroy(struct xfrag_txq *q);

/**
 * xfrag_txq__alloc() - carve a TX frame of exactly @len bytes
 * @q: the queue (owner thread only)
 * @len: frame length, 1 .. the queue's frame size
 * @addr: its UMEM address (XFRAG_NO_ADDR on error); write the frame at
 *        xfrag_umem__ptr(umem, *addr)
 *
 * The frame starts XFRAG_TXQ_ALIGN-aligned. Release it with
 * xfrag_umem__release() if it is not sent; once sent, the completion
 * releases it.
 *
 * Return: 0; -EINVAL (@len 0 or above the frame size); -ENOBUFS (the pool
 * has no free block: call xfrag_txq__complete() and retry).
 */
XFRAG_API int xfrag_txq__alloc(struct xfrag_txq *q, uint32_t len,
			       uint64_t *addr);

/**
 * xfrag_txq__alloc_burst() - carve up to @n TX frames of @len bytes
 * @q: the queue (owner thread only)
 * @len: frame length, as for xfrag_txq__alloc()
 * @addrs: receives the addresses
 * @n: how many are wanted
 *
 * Frames are XFRAG_TXQ_ALIGN-aligned, one bias update per block.
 *
 * Return: the number carved (fewer than @n when the pool ran dry), or
 * -EINVAL.
 */
XFRAG_API int xfrag_txq__alloc_burst(struct xfrag_txq *q, uint32_t len,
				     uint64_t *addrs, unsigned int n);

/**
 * xfrag_txq__send() - queue frames for transmission and kick the kernel
 * @q: the queue (owner thread only)
 * @addrs: frame addresses from xfrag_txq__alloc()
 * @lens: their lengths
 * @n: count
 *
 * Puts as many of the frames as the TX ring has room for on it, in order,
 * with descriptor options 0, then (if the kernel asks for a wakeup, which
 * copy mode always does) calls sendto() until the kernel has taken them or
 * reports an error. EAGAIN (budget ran out; kicked again) and EBUSY (the
 * device dropped a frame, which still completes) are counted in the stats,
 * as are other kick errors (ENOBUFS, ENETDOWN, ...: see last_error). The
 * queue owns the frames it queued; the caller keeps the rest.
 *
 * Return: the number of frames queued, 0 .. @n (0 when the ring is full:
 * call xfrag_txq__complete() and retry).
 */
XFRAG_API int xfrag_txq__send(struct xfrag_txq *q, const uint64_t *addrs,
			      const uint32_t *lens, unsigned int n);

/**
 * xfrag_txq__kick() - have the kernel transmit what is on the TX ring
 * @q: the queue (owner thread only)
 *
 * For frames left on the ring when a kick in xfrag_txq__send() failed.
 *
 * Return: 0 (also when there was nothing to do), or the kick's negative
 * errno other than EAGAIN and EBUSY.
 */
XFRAG_API int xfrag_txq__kick(struct xfrag_txq *q);

/**
 * xfrag_txq__complete() - release every frame the kernel has completed
 * @q: the queue (owner thread only)
 *
 * Drains the completion ring in batches and releases each batch with
 * xfrag_umem__release_bulk() (one atomic per run of frames in one block).
 *
 * Return: the number of frames completed.
 */
XFRAG_API int xfrag_txq__complete(struct xfrag_txq *q);

/** xfrag_txq__outstanding() - frames sent and not yet completed */
XFRAG_API uint32_t xfrag_txq__outstanding(const struct xfrag_txq *q);

/** xfrag_txq__fd() - the socket, for poll() */
XFRAG_API int xfrag_txq__fd(const struct xfrag_txq *q);

/** xfrag_txq__umem() - the UMEM the queue carves frames from */
XFRAG_API struct xfrag_umem *xfrag_txq__umem(const struct xfrag_txq *q);

/**
 * xfrag_txq__stats() - the library's and the kernel's TX counters
 * @q: the queue
 * @out: filled in up to @out->sz (use XFRAG_OPTS)
 *
 * Return: 0, or -EINVAL.
 */
XFRAG_API int xfrag_txq__stats(struct xfrag_txq *q, struct xfrag_txq_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* XFRAG_TXQ_H */
