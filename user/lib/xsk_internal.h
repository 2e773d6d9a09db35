/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* AF_XDP socket plumbing shared by rxq.c and txq.c. Not installed. */
#ifndef XFRAG_XSK_INTERNAL_H
#define XFRAG_XSK_INTERNAL_H

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "xfrag/rxq.h"

/* Newer UAPI than the 6.1 headers carry. */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#define XFRAG_XDP_USE_SG XDP_USE_SG
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

struct xfrag_xsk_params {
	int ifindex;
	uint32_t queue_id;
	uint32_t frame_size, headroom;
	uint32_t fill_size, comp_size, rx_size, tx_size;
	uint32_t bind_mode; /* enum xfrag_bind_mode */
	bool multi_buffer, no_wakeup;
};

struct xfrag_xsk_rings {
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	bool zerocopy;
};

/*
 * Open a socket on (ifindex, queue) over @u, registering @u on first use.
 * Retries EBUSY with backoff, falls back from zero-copy as @p asks.
 */
XFRAG_HIDDEN int xfrag_xsk_open(struct xfrag_umem *u,
				const struct xfrag_xsk_params *p,
				struct xfrag_xsk_rings *r, struct xsk_socket **out);
XFRAG_HIDDEN void xfrag_xsk_close(struct xfrag_umem *u, struct xsk_socket *xsk);

#endif
