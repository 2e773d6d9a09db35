/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The options of xfrag-bench gen (gen_table in bench.h): the configuration they fill. */
#ifndef XFRAG_BENCH_GEN_OPTS_H
#define XFRAG_BENCH_GEN_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"

#define GEN_MAX_BATCH 256
#define GEN_DEFAULT_DURATION_S 10
#define GEN_DEFAULT_DURATION ((double)GEN_DEFAULT_DURATION_S)

enum gen_mode { GEN_AUTO, GEN_XDP, GEN_PACKET };

struct gen_cfg {
	const char *ifname;
	int ifindex;
	uint32_t mtu;
	uint32_t queue;
	bool queue_set;
	uint64_t count;       /* 0: none */
	double duration;      /* 0: none */
	uint64_t rate;        /* pps, 0: unlimited */
	struct frame_sizes sizes;
	const char *size_spec;
	uint32_t flows;
	struct frame_params fp;
	bool src_mac_set, dst_ip_set, src_ip_set;
	enum gen_mode mode;
	int cpu;
	uint32_t batch;
	uint32_t frame_size;
	uint32_t ring;
	uint64_t umem_size;
	uint32_t bind_mode;
	bool json, quiet;
};

/* After parsing: the interface, and the values against each other. 0, or
 * the exit code after a message. */
int gen_check(struct gen_cfg *c);

#endif
