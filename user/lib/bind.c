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

/* Make the calling thread's binding name @c or @r (one of them), whose
 * flag is *@bound. */
static void bind_to(struct xfrag_umem *u, struct xfrag_cache *c, struct xfrag_releaser *r,
		    uint8_t *bound)
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
	*bound = 1;
}

/* End the calling thread's binding if it names @obj (flag *@bound). */
static bool unbind_if(const void *obj, uint8_t *bound)
{
	if (__xfrag_bound.cache != obj && __xfrag_bound.releaser != obj)
		return false;
	__xfrag_bound = (struct __xfrag_binding){ 0 };
	*bound = 0;
	return true;
}

int xfrag_cache__bind(struct xfrag_cache *c)
{
	if (!c)
		return -EINVAL;
	bind_to(c->umem, c, NULL, &c->bound);
	return 0;
}

void xfrag_cache__unbind(struct xfrag_cache *c)
{
	if (c)
		unbind_if(c, &c->bound);
}

int xfrag_releaser__bind(struct xfrag_releaser *r)
{
	if (!r)
		return -EINVAL;
	bind_to(r->umem, NULL, r, &r->bound);
	return 0;
}

void xfrag_releaser__unbind(struct xfrag_releaser *r)
{
	if (r)
		unbind_if(r, &r->bound);
}

void xfrag_bind_forget(struct xfrag_umem *u, void *obj, uint8_t *bound)
{
	if (*bound && !unbind_if(obj, bound))
		xfrag_bind_renew(u); /* bound on another thread */
}
