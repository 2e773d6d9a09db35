// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Thread bindings (xfrag_cache__bind(), xfrag_releaser__bind()): which cache
 * or releaser the any-thread release calls of a thread use, DPDK's lcore
 * cache without an lcore id.
 *
 * A binding is thread-local and only the thread itself writes it, so the
 * release path reads it without a lock or an atomic. What another thread
 * can do to it is end it: a cache destroyed elsewhere, or its UMEM
 * destroyed and another made at the same address, must not be found
 * through a stale binding. The release path compares the binding's
 * generation with its UMEM's, which is drawn from one serial for the whole
 * process: the new UMEM's differs, and the destroy of a bound cache or
 * releaser off its thread draws a new one for its UMEM (every binding to
 * it ends; that is a teardown, rare enough).
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

/* Make the calling thread's binding name @c or @r (one of them). */
static void bind_to(struct xfrag_umem *u, struct xfrag_cache *c, struct xfrag_releaser *r)
{
	/*
	 * What the binding this one replaces named keeps its flag: that
	 * binding may be stale (its object or UMEM gone), so it is not
	 * followed. A flag left set only makes that object's destroy on
	 * another thread end its UMEM's bindings for nothing.
	 */
	__xfrag_bound = (struct __xfrag_binding){
		.umem = u, .cache = c, .releaser = r,
		.gen = atomic_load_explicit(&u->hot.bind_gen, memory_order_relaxed),
	};
}

static void unbind(void)
{
	__xfrag_bound = (struct __xfrag_binding){ 0 };
}

int xfrag_cache__bind(struct xfrag_cache *c)
{
	if (!c)
		return -EINVAL;
	bind_to(c->umem, c, NULL);
	c->bound = 1;
	return 0;
}

void xfrag_cache__unbind(struct xfrag_cache *c)
{
	if (!c || __xfrag_bound.cache != c)
		return;
	unbind();
	c->bound = 0;
}

int xfrag_releaser__bind(struct xfrag_releaser *r)
{
	if (!r)
		return -EINVAL;
	bind_to(r->umem, NULL, r);
	r->bound = 1;
	return 0;
}

void xfrag_releaser__unbind(struct xfrag_releaser *r)
{
	if (!r || __xfrag_bound.releaser != r)
		return;
	unbind();
	r->bound = 0;
}

void xfrag_bind_forget(struct xfrag_umem *u, void *obj, uint8_t *bound)
{
	if (!*bound)
		return;
	if (__xfrag_bound.cache == obj || __xfrag_bound.releaser == obj) {
		unbind();
		*bound = 0;
	} else {
		xfrag_bind_renew(u); /* bound on another thread */
	}
}
