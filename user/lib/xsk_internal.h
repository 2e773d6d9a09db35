/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * AF_XDP sockets on an xfrag UMEM, shared by rxq.c and txq.c. Not installed.
 *
 * xfrag binds its sockets itself (libxdp's xsk.h is used only for its
 * inline ring helpers): libxdp names the first socket of a shared UMEM as
 * the one every later socket shares against and keeps it open until the
 * last one closes, and its delete unmaps rings the teardown still reads.
 * Here no socket is special: a new socket shares against any live one.
 */
#ifndef XFRAG_XSK_INTERNAL_H
#define XFRAG_XSK_INTERNAL_H

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "xfrag/rxq.h"
#include "xsk_ops.h"

/* Newer UAPI than the 6.1 headers carry. */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

struct xfrag_sock_params {
	int ifindex;
	const char *ifname; /* for messages */
	uint32_t queue_id;
	uint32_t frame_size, headroom;
	uint32_t fill_size, comp_size, rx_size, tx_size; /* 0: no such ring */
	uint32_t bind_mode; /* enum xfrag_bind_mode */
	bool multi_buffer, no_wakeup;
};

enum { XFRAG_RING_FILL, XFRAG_RING_COMP, XFRAG_RING_RX, XFRAG_RING_TX, XFRAG_NRINGS };

struct xfrag_sock {
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	int fd;
	int ifindex;
	uint32_t queue_id;
	bool zerocopy;
	bool registered; /* this socket registered the UMEM with the kernel */
	struct xfrag_umem *umem;
	struct xfrag_sock *next; /* the UMEM's live sockets (u->lock) */
	void *map[XFRAG_NRINGS];
	size_t map_len[XFRAG_NRINGS];
};

/*
 * Open and bind a socket on (ifindex, queue) over @u: the first live socket
 * registers the UMEM, later ones share it. Retries EBUSY (a queue whose
 * socket just closed stays busy while the kernel tears its pool down), and
 * falls back from zero-copy as the bind mode allows. On success a
 * quarantine waiting for this queue is released: the bind proves the old
 * pool is gone from the device.
 */
XFRAG_HIDDEN int xfrag_sock_open(struct xfrag_umem *u,
				 const struct xfrag_sock_params *p,
				 struct xfrag_sock *s);
/*
 * Close the socket and unmap its rings: when this returns, the kernel has
 * released the socket (in copy mode nothing writes its chunks any more; a
 * zero-copy driver may until the queue's pool is torn down, later).
 */
XFRAG_HIDDEN void xfrag_sock_close(struct xfrag_sock *s);
XFRAG_HIDDEN void xfrag_sock_unmap(struct xfrag_sock *s);

static inline int xfrag_sock_kick(struct xfrag_sock *s, bool tx)
{
	return s->umem->ops->kick(s->umem->ops_ctx, s->fd, tx);
}

XFRAG_HIDDEN int xfrag_sock_getopt(struct xfrag_sock *s, int level, int name,
				   void *val, socklen_t len);
XFRAG_HIDDEN int xfrag_sock_setopt(struct xfrag_sock *s, int level, int name,
				   const void *val, socklen_t len);

/*
 * May chunks handed to this socket's device cross a 4 KiB page? Always in
 * copy mode (the kernel copies); in zero-copy mode only when the UMEM is
 * physically contiguous per 2 MiB (hugetlb) and the device maps it
 * without translation. @policy is enum xfrag_page_cross.
 */
XFRAG_HIDDEN bool xfrag_page_cross_ok(const struct xfrag_umem *u, bool zerocopy,
				      uint8_t dma, uint32_t policy);

/* -------------------------------------------------------- quarantine -- */

/*
 * Chunks the kernel (or a zero-copy driver) held when a socket closed.
 * They return to the pool once (ifindex, queue) can be bound again: the
 * kernel clears the queue's buffer pool from the device only after the
 * driver has stopped using it (xp_clear_dev), from a workqueue.
 */
struct xfrag_quarantine {
	struct xfrag_quarantine *next;
	int ifindex;
	uint32_t queue_id;
	uint64_t chunks;
	uint32_t *held; /* per block */
};

/* Take over @held (per-block counts, @chunks in all): u->lock not held. */
XFRAG_HIDDEN void xfrag_quarantine_add(struct xfrag_umem *u, int ifindex,
				       uint32_t queue_id, uint32_t *held,
				       uint64_t chunks);
/* Probe every quarantined queue for up to @wait_ms; returns chunks left. */
XFRAG_HIDDEN uint64_t xfrag_quarantine_poll(struct xfrag_umem *u,
					    unsigned int wait_ms);
/* The queue is free again: return its chunks. u->lock held. */
XFRAG_HIDDEN void xfrag_quarantine_release_locked(struct xfrag_umem *u,
						  int ifindex,
						  uint32_t queue_id);
/* Return per-block references @held to the blocks (u->lock not needed). */
XFRAG_HIDDEN void xfrag_return_held(struct xfrag_umem *u, const uint32_t *held);

#endif
