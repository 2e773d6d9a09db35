/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xfrag: a fast, memory-frugal AF_XDP receive path whose UMEM is carved
 * into variable-size, reference-counted frags by per-queue frag caches.
 *
 *   frag.h   the UMEM, frag caches, release / bulk release / drain
 *   xdp.h    the XDP program: attach, XSKMAP, filter, counters
 *   rxq.h    rx queues: AF_XDP sockets fed by the frag caches
 *   txq.h    tx queues: frames carved at their length, bulk-released on completion
 *   devtune.h device settings for busy polling, saved and restored
 */
#ifndef XFRAG_XFRAG_H
#define XFRAG_XFRAG_H

#include "common.h"
#include "frag.h"
#include "xdp.h"
#include "rxq.h"
#include "txq.h"
#include "devtune.h"

#endif
