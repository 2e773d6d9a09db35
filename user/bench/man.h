/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The xfrag-bench(8) man page, written in troff from the subcommands'
 * option tables (params.h): `xfrag-bench --man`, which the build runs, so
 * that the page and --help cannot drift apart.
 */
#ifndef XFRAG_BENCH_MAN_H
#define XFRAG_BENCH_MAN_H

#include <stdio.h>

#include "bench.h"

/* Return: 0, or -1 if writing to @f failed. */
int man_page(FILE *f, const struct bench_cmd *cmds, unsigned int n);

#endif
