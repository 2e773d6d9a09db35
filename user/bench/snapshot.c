// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Stats snapshots taken by a queue's owner thread. See snapshot.h. */
#include <unistd.h>

#include "device.h"
#include "snapshot.h"

void __attribute__((noinline)) snapshot_serve(struct rx_thread *t, uint32_t req)
{
	t->snap.sz = sizeof(t->snap);
	xfrag_rxq__stats(t->q, &t->snap);
	t->snap_served = req;
	atomic_store_explicit(&t->snap_seq, req, memory_order_release);
}

void snapshot_take(struct rx_thread *t, struct xfrag_rxq_stats *s)
{
	uint32_t req;
	int i;

	if (!t->started) {
		s->sz = sizeof(*s);
		xfrag_rxq__stats(t->q, s);
		s->zerocopy = xsk_zerocopy(xfrag_rxq__fd(t->q));
		return;
	}
	req = atomic_load_explicit(&t->snap_seq, memory_order_relaxed) + 1;
	atomic_store_explicit(&t->snap_req, req, memory_order_release);
	for (i = 0; i < 1000; i++) {
		if (atomic_load_explicit(&t->snap_seq, memory_order_acquire) == req)
			break;
		usleep(100);
	}
	if (atomic_load_explicit(&t->snap_seq, memory_order_acquire) == req)
		t->last_snap = t->snap;
	*s = t->last_snap;
	/* The kernel's word on the mode, whatever was asked for. */
	s->zerocopy = xsk_zerocopy(xfrag_rxq__fd(t->q));
}
