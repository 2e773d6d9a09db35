// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>

#include "bench.h"

static const char *log_cmd = "xfrag-bench";

/* Library messages on stderr, prefixed with the subcommand so users know
 * where they come from; the library filters by level already. */
__attribute__((format(printf, 2, 0))) static void
log_cb(enum xfrag_log_level level, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", log_cmd, level == XFRAG_LOG_WARN ? "warning: " : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void bench_set_log(const char *cmd, enum xfrag_log_level max_level)
{
	log_cmd = cmd;
	xfrag_set_log(log_cb, max_level);
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}
