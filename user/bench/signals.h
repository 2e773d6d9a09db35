/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How a run ends: SIGINT, SIGTERM and SIGHUP (or --duration, --count, an
 * error) raise one flag that every thread polls; a crash detaches the XDP
 * program on its way out, so that only SIGKILL leaves one behind.
 */
#ifndef XFRAG_BENCH_SIGNALS_H
#define XFRAG_BENCH_SIGNALS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

extern atomic_bool bench_stop;

static inline bool stop_requested(void)
{
	return atomic_load_explicit(&bench_stop, memory_order_relaxed);
}

static inline void stop_request(void)
{
	atomic_store(&bench_stop, true);
}

/* SIGINT, SIGTERM and SIGHUP call stop_request(); SIGPIPE is ignored. */
void stop_on_signals(void);

/*
 * On SIGSEGV, SIGBUS, SIGABRT, SIGILL or SIGFPE, detach program @prog_id
 * from @ifindex if it is still the one attached, then die of the signal.
 */
void fatal_detach_arm(int ifindex, uint32_t prog_id, bool skb);
void fatal_detach_disarm(void);

#endif
