/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* xfrag-bench subcommands and small shared helpers. */
#ifndef XFRAG_BENCH_H
#define XFRAG_BENCH_H

#include <stdint.h>
#include <time.h>

int cmd_alloc(int argc, char **argv);
int cmd_rx(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_xdpdrop(int argc, char **argv);

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Parse a size with an optional K/M/G suffix (powers of 1024); -1 on error. */
int parse_size(const char *s, uint64_t *out);
/* Parse a duration in seconds (> 0, finite, at most 1e7); -1 on error. */
int parse_seconds(const char *s, double *out);
/* Pin the calling thread to @cpu (-1: leave it). Returns 0 or -errno. */
int pin_cpu(int cpu);

#endif
