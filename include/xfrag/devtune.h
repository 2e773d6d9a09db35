/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xfrag device tuning for busy polling. This changes a device-wide setting
 * that outlives the process: call xfrag_devtune__restore() on every exit
 * path (signal handlers included). A process killed with SIGKILL cannot;
 * its saved state is restored by the next xfrag_devtune__busy_poll() on the
 * interface, or by xfrag_devtune__restore_saved() (`xfrag-bench restore`).
 *
 * The recipe (with the rx queue's busy_poll_us): the interface's
 * napi_defer_hard_irqs and gro_flush_timeout keep the kernel from
 * scheduling the queue's NAPI on another CPU while the poller owns it, so
 * the RX work runs on the poller's CPU.
 */
#ifndef XFRAG_DEVTUNE_H
#define XFRAG_DEVTUNE_H

#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xfrag_devtune;

/* Declare with XFRAG_OPTS(xfrag_devtune_opts, o, .ifname = "eth0"). */
struct xfrag_devtune_opts {
	size_t sz;
	const char *ifname;            /* the interface; or */
	int ifindex;                   /* used when ifname is NULL */
	uint32_t defer_hard_irqs;      /* napi_defer_hard_irqs; 0: 2 */
	uint32_t gro_flush_timeout_ns; /* gro_flush_timeout; 0: 50000 (50 us) */
	const char *state_dir;         /* where the old values are saved; NULL: /run/xfrag */
	size_t : 0;
};

/**
 * xfrag_devtune__busy_poll() - tune an interface for busy polling
 * @opts: the interface and the values
 *
 * Saves the current napi_defer_hard_irqs and gro_flush_timeout in a state
 * file, then sets the new ones. A state file left by a dead process is
 * restored first.
 *
 * Context: a control thread; needs CAP_NET_ADMIN (writes sysfs).
 * Return: a handle for xfrag_devtune__restore(), or NULL with errno:
 * ENODEV, EBUSY (a running process has tuned the interface), EACCES/EPERM,
 * EINVAL.
 */
XFRAG_API struct xfrag_devtune *
xfrag_devtune__busy_poll(const struct xfrag_devtune_opts *opts);

/**
 * xfrag_devtune__restore() - put the saved values back
 * @t: the handle, or NULL
 *
 * Return: 0, or the negative errno of a write that failed (the state file
 * is then kept for a later restore).
 */
XFRAG_API int xfrag_devtune__restore(struct xfrag_devtune *t);

/**
 * xfrag_devtune__restore_saved() - restore what a killed process left
 * @ifname: the interface
 * @state_dir: as in the options; NULL: /run/xfrag
 *
 * Return: 1 restored, 0 nothing to restore, -EBUSY (its process still
 * runs), -ENODEV, or another negative errno.
 */
XFRAG_API int xfrag_devtune__restore_saved(const char *ifname, const char *state_dir);

#ifdef __cplusplus
}
#endif
#endif /* XFRAG_DEVTUNE_H */
