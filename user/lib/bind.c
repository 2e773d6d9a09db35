// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Thread bindings (xfrag_cache__bind()): which cache the any-thread release
 * calls of a thread use, DPDK's lcore cache without an lcore id.
 *
 * A binding is thread-local and only the thread itself writes it, so the
 * release path reads it without a lock or an atomic. What another thread
 * can do to it is end it: a cache destroyed elsewhere, or its UMEM
 * destroyed and another made at the same address, must not be found
 * through a stale binding. The release path compares the binding's
 * generation with its UMEM's, which is drawn from one serial for the whole
 * process: the new UMEM's differs, and the destroy of a bound cache off
 * its thread draws a new one for its UMEM (every binding to it ends; that
 * is a teardown, rare enough).
 */
#include <errno.h>

#include "internal.h"

_Thread_local struct __xfrag_binding __xfrag_bound;

static _Atomic uint64_t bind_serial;

void xfrag_bind_renew(struct xfrag_umem *u)
{
	atomic_store_explicit(&u->hot.bind_gen,
			      atomic_fetch_add_explicit(&bind_serial, 1,
							memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

int xfrag_cache__bind(struct xfrag_cache *c)
{
	struct __xfrag_binding *b = &__xfrag_bound;

	if (!c)
		return -EINVAL;
	/*
	 * The cache of the binding this one replaces keeps its flag: that
	 * binding may be stale (its cache or UMEM gone), so it is not
	 * followed. A flag left set only makes that cache's destroy on
	 * another thread end its UMEM's bindings for nothing.
	 */
	b->umem = c->umem;
	b->cache = c;
	b->gen = atomic_load_explicit(&c->umem->hot.bind_gen, memory_order_relaxed);
	c->bound = 1;
	return 0;
}

void xfrag_cache__unbind(struct xfrag_cache *c)
{
	struct __xfrag_binding *b = &__xfrag_bound;

	if (!c || b->cache != c)
		return;
	b->umem = NULL;
	b->cache = NULL;
	b->gen = 0;
	c->bound = 0;
}

void xfrag_bind_forget(struct xfrag_cache *c)
{
	if (!c->bound)
		return;
	if (__xfrag_bound.cache == c)
		xfrag_cache__unbind(c);
	else
		xfrag_bind_renew(c->umem); /* bound on another thread */
}
