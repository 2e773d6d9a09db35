// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Per-batch accounting of received frames. See account.h. */
#include <sys/uio.h>

#include "account.h"
#include "frame.h"

/* Owner-only counters: a plain add, published for the progress line. */
static inline void bump(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

void rx_account(struct rx_thread *t, const struct xfrag_pkt *pkts,
		unsigned int n, uint64_t now)
{
	const struct rx_cfg *c = t->run->cfg;
	uint64_t bytes = 0, corrupt = 0, verified = 0, foreign = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct xfrag_pkt *p = &pkts[i];

		bytes += p->len;
		if (c->latency && p->meta_len >= sizeof(struct xfrag_meta)) {
			const struct xfrag_meta *m =
				(const void *)(p->data - sizeof(*m));

			if (m->flags & XFRAG_META_F_TS)
				hist_add(&t->lat, now > m->xdp_ts_ns ?
					 now - m->xdp_ts_ns : 0);
		}
		if (c->wl == WL_TOUCH) {
			/* Reads every byte: headers, then the payload checksum;
			 * a multi-buffer frame segment by segment. */
			int e;

			if (p->nsegs > 1 && t->run->umem) {
				struct iovec iov[XFRAG_CHAIN_MAX_SEGS];
				uint32_t sl;
				int k;

				for (k = 0; k < p->nsegs && k < XFRAG_CHAIN_MAX_SEGS; k++) {
					iov[k].iov_base = xfrag_pkt__seg(t->run->umem, p,
									 (unsigned int)k, &sl);
					iov[k].iov_len = sl;
				}
				e = frame_verify_segments(iov, k, NULL, NULL);
			} else {
				e = frame_verify(p->data, p->len, NULL, NULL);
			}

			if (e == FRAME_OK)
				verified++;
			else if (e == FRAME_E_CSUM || e == FRAME_E_IPCSUM || e == FRAME_E_LEN)
				corrupt++;
			else
				foreign++;
		}
	}
	bump(&t->packets, n);
	bump(&t->bytes, bytes);
	if (c->wl == WL_TOUCH) {
		bump(&t->corrupt, corrupt);
		bump(&t->verified, verified);
		bump(&t->foreign, foreign);
	}
	if (!atomic_load_explicit(&t->first_ns, memory_order_relaxed))
		atomic_store_explicit(&t->first_ns, now, memory_order_relaxed);
	atomic_store_explicit(&t->last_ns, now, memory_order_relaxed);
}
