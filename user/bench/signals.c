// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Stop requests and crash cleanup. See signals.h. */
#include <linux/if_link.h>
#include <signal.h>
#include <stddef.h>

#include <bpf/libbpf.h>

#include "signals.h"

atomic_bool bench_stop;

/* For the fatal-signal path: detach our program, and only ours. */
static volatile int fatal_ifindex;
static volatile uint32_t fatal_prog_id;
static volatile uint32_t fatal_xdp_flags;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_request();
}

static void on_fatal_signal(int sig)
{
	uint32_t id = 0;

	/* Syscalls only: no locks, no allocation. */
	if (fatal_ifindex && fatal_prog_id &&
	    !bpf_xdp_query_id(fatal_ifindex, (int)fatal_xdp_flags, &id) &&
	    id == fatal_prog_id)
		bpf_xdp_detach(fatal_ifindex, (int)fatal_xdp_flags, NULL);
	signal(sig, SIG_DFL);
	raise(sig);
}

void stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A closed pipe is an error of the write, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
}

void fatal_detach_arm(int ifindex, uint32_t prog_id, bool skb)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE };
	struct sigaction sa = { .sa_handler = on_fatal_signal, .sa_flags = SA_RESETHAND };
	size_t i;

	fatal_ifindex = ifindex;
	fatal_xdp_flags = skb ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fatal_prog_id = prog_id;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
}

void fatal_detach_disarm(void)
{
	fatal_prog_id = 0;
}
