/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The options of xfrag-bench rx (rx_table in bench.h) and the checks across them. */
#ifndef XFRAG_BENCH_RX_OPTS_H
#define XFRAG_BENCH_RX_OPTS_H

#include "run.h"

/*
 * After parsing: the interface and its queues, the values against each
 * other and the defaults that depend on them. Needs no privileges and
 * attaches nothing. 0, or the exit code after a message.
 */
int rx_validate(struct rx_cfg *c);

#endif
