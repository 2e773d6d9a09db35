/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Internal declarations shared by the library's .c files. Not installed. */
#ifndef XFRAG_INTERNAL_H
#define XFRAG_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "xfrag/frag.h"

#define XFRAG_HIDDEN __attribute__((visibility("hidden")))

__attribute__((format(printf, 2, 3))) XFRAG_HIDDEN void
xfrag_log(enum xfrag_log_level level, const char *fmt, ...);
#define pr_err(...) xfrag_log(XFRAG_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) xfrag_log(XFRAG_LOG_WARN, __VA_ARGS__)
#define pr_info(...) xfrag_log(XFRAG_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) xfrag_log(XFRAG_LOG_DEBUG, __VA_ARGS__)

/*
 * Lock-free LIFO of free blocks (a Treiber stack). The head packs the top
 * block index (low 32 bits) with a tag bumped on every push and pop, so a
 * pop that read a stale `next` fails its CAS instead of corrupting the list
 * (ABA). LIFO on purpose: the block freed last is the one most likely still
 * in cache when the kernel copies the next frame into it.
 * No free-block counter: it would cost two more atomics per block;
 * xfrag_umem__stats() counts blocks whose refcount is zero instead.
 */
struct xfrag_pool {
	_Atomic uint64_t head __attribute__((aligned(XFRAG_CACHELINE)));
	_Atomic uint64_t empty;
	_Atomic uint64_t bad_release __attribute__((aligned(XFRAG_CACHELINE)));
};

struct xfrag_debug;      /* debug.c */
struct xfrag_xsk_ops;    /* xsk_ops.h */
struct xfrag_sock;       /* xsk_internal.h */
struct xfrag_quarantine; /* xsk_internal.h */

struct xfrag_umem {
	struct xfrag_umem_hot hot; /* must stay first: see xfrag_umem__hot() */
	struct xfrag_pool pool;
	uint64_t map_len;
	uint32_t block_size;
	uint32_t backing;
	struct xfrag_debug *dbg;
	/*
	 * The user's reference and one per rx/tx queue: destroying the UMEM
	 * while queues live defers the unmap until the last one is gone.
	 */
	_Atomic uint32_t refs;
	/* Control plane (xsk.c, quarantine.c): everything below, u->lock. */
	pthread_mutex_t lock;
	const struct xfrag_xsk_ops *ops;
	void *ops_ctx;
	struct xfrag_sock *socks; /* live, bound sockets */
	uint32_t nsockets;
	/* Fixed by the registration (the first live socket), inherited by
	 * every socket that shares the UMEM after it. */
	uint32_t frame_size, headroom;
	bool no_wakeup, multi_buffer, zerocopy;
	struct xfrag_quarantine *quarantine;
	uint64_t quarantined; /* chunks waiting for their queue's teardown */
	uint64_t reclaimed;   /* chunks the quarantine has returned */
};

struct xfrag_xdp;
XFRAG_HIDDEN void xfrag_xdp_get(struct xfrag_xdp *x);
XFRAG_HIDDEN void xfrag_xdp_put(struct xfrag_xdp *x);
/* The program puts struct xfrag_meta in front of (some) frames. */
XFRAG_HIDDEN bool xfrag_xdp_annotates(const struct xfrag_xdp *x);
XFRAG_HIDDEN void xfrag_umem_get(struct xfrag_umem *u);
XFRAG_HIDDEN void xfrag_umem_put(struct xfrag_umem *u);

XFRAG_HIDDEN void xfrag_pool_init(struct xfrag_umem *u);
XFRAG_HIDDEN void xfrag_pool_push(struct xfrag_umem *u, uint32_t blk);
XFRAG_HIDDEN uint32_t xfrag_pool_pop(struct xfrag_umem *u);

XFRAG_HIDDEN int xfrag_debug_init(struct xfrag_umem *u);
XFRAG_HIDDEN void xfrag_debug_free(struct xfrag_umem *u);
XFRAG_HIDDEN void xfrag_debug_ref(struct xfrag_umem *u, uint64_t addr);
XFRAG_HIDDEN void xfrag_debug_recycled(struct xfrag_umem *u, uint32_t blk);
XFRAG_HIDDEN __attribute__((noreturn, format(printf, 1, 2))) void
xfrag_debug_fail(const char *fmt, ...);

/*
 * Options structs (libbpf style): a field is present if the caller's sz
 * covers it; bytes beyond the caller's sz must be zero when sz is larger
 * than ours (a newer caller asking for something this library lacks).
 */
#define OPTS_HAS(opts, field)                                                 \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) +      \
				     sizeof((opts)->field))
#define OPTS_GET(opts, field, fallback)                                       \
	(OPTS_HAS(opts, field) ? (opts)->field : (fallback))
#define OPTS_VALID(opts, type)                                                \
	xfrag_opts_valid((opts), (opts)->sz, sizeof(struct type), #type)
XFRAG_HIDDEN bool xfrag_opts_valid(const void *opts, size_t user_sz,
				   size_t our_sz, const char *name);

static inline bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

#endif
