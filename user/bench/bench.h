/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* xfrag-bench subcommands and small shared helpers. */
#ifndef XFRAG_BENCH_H
#define XFRAG_BENCH_H

#include <stdint.h>
#include <time.h>

#include <xfrag/common.h>

struct opt_table;

/* One subcommand: main.c dispatches on the name, man.c documents it. */
struct bench_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary; /* one line for the command list */
	const struct opt_table *table;
};

int cmd_alloc(int argc, char **argv);
int cmd_rx(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_xdpdrop(int argc, char **argv);
int cmd_restore(int argc, char **argv);
extern const struct opt_table alloc_table, rx_table, gen_table, xdpdrop_table,
	restore_table;

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void sleep_ms(unsigned int ms);

/* Route the library's messages up to @max_level to stderr as "CMD: ...". */
void bench_set_log(const char *cmd, enum xfrag_log_level max_level);

/*
 * An idle consumer thread (capture writer, worker): spin a little, then
 * sleep 20 us, since on 2 CPUs it shares one with the rx thread or the
 * softirq. @idle counts the empty rounds; a busy round resets it to 0.
 */
static inline void idle_backoff(unsigned int *idle)
{
	if (++*idle < 256) {
		cpu_relax();
	} else {
		const struct timespec nap = { 0, 20000 };

		nanosleep(&nap, NULL);
	}
}
/* Pin the calling thread to @cpu (-1: leave it). Returns 0 or -errno. */
int pin_cpu(int cpu);

#endif
