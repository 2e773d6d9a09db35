/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layouts shared by the XDP program (xfrag_rx.bpf.c) and user space
 * (user/lib/xdp.c, tests). Plain fixed-width types only: this header is
 * compiled both with `clang -target bpf` and with the host compiler.
 *
 * The program's configuration lives in its .data section (struct
 * xfrag_rx_cfg xfrag_cfg): user space writes it before load through the
 * skeleton and at run time with one bpf_map_update_elem() on the .data map.
 */
#ifndef XFRAG_RX_H
#define XFRAG_RX_H

#include <linux/types.h>

#define XFRAG_RX_PROG_NAME "xfrag_rx"           /* kernel name: <= 15 chars */
#define XFRAG_RX_HASH_PROG_NAME "xfrag_rx_hash" /* device-bound variant */
#define XFRAG_RX_MAX_QUEUES 64                  /* XSKMAP and counters */

/* What the program does with a frame the filter matched. */
enum xfrag_rx_action {
	XFRAG_RX_REDIRECT = 0, /* to the XSK of the frame's rx queue */
	XFRAG_RX_DROP = 1,     /* XDP_DROP: measures the XDP_DROP ceiling */
	XFRAG_RX_PASS = 2,     /* count, then XDP_PASS */
};

/* xfrag_rx_cfg.flags */
#define XFRAG_RX_F_ALL (1u << 0)  /* match every frame, malformed ones too */
#define XFRAG_RX_F_META (1u << 1) /* prepend struct xfrag_rx_meta */

/*
 * The filter. Every criterion that is zero is a wildcard; a frame matches
 * when it is well formed and meets all the others. VLAN tags (802.1Q and
 * 802.1ad, up to two) are skipped before the EtherType is compared.
 */
struct xfrag_rx_cfg {
	__u32 action;     /* enum xfrag_rx_action */
	__u32 flags;      /* XFRAG_RX_F_* */
	__u16 ethertype;  /* host order; 0: any */
	__u8 ip_version;  /* 4, 6; 0: any */
	__u8 l4_proto;    /* IPPROTO_UDP, IPPROTO_TCP; 0: any */
	__u16 port_lo;    /* destination port range, host order, inclusive; */
	__u16 port_hi;    /* port_hi == 0: any port (and any L4 protocol) */
	/* With XFRAG_RX_F_META: stamp the frames whose per-CPU `seen` count
	 * has these bits clear (0: every frame; 63: one in 64). */
	__u32 meta_mask;
};

/*
 * Per-queue counters, one PERCPU_ARRAY slot per rx queue. Every frame is
 * `seen` and ends in exactly one of redirected, passed, dropped: passed
 * includes non-matching, PASS-mode and redirect_failed frames. The ones a
 * redirected frame updates come first, so that they share one cache line.
 */
struct xfrag_rx_counters {
	__u64 seen;
	__u64 seen_bytes;      /* whole frame, all fragments */
	__u64 matched;
	__u64 redirected;
	__u64 redirected_bytes;
	__u64 passed;
	__u64 dropped;
	__u64 redirect_failed; /* no XSK in the queue's slot: XDP_PASS */
	__u64 malformed;       /* runt or truncated/invalid L3/L4 header */
	__u64 meta_failed;     /* bpf_xdp_adjust_meta refused */
};

/*
 * xfrag_rx_meta.flags: bits 8..15 hold a magic byte so that a reader can
 * tell metadata from stale headroom; the RSS hash type (enum
 * xdp_rss_hash_type) is in bits 16..31.
 */
#define XFRAG_RX_META_F_TS (1u << 0)   /* xdp_ts_ns is valid */
#define XFRAG_RX_META_F_HASH (1u << 1) /* rx_hash is valid */
#define XFRAG_RX_META_MAGIC 0xa500u
#define XFRAG_RX_META_RSS_SHIFT 16

/* Written just before the frame (data_meta) when XFRAG_RX_F_META is set. */
struct xfrag_rx_meta {
	__u64 xdp_ts_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) at XDP time */
	__u32 rx_hash;
	__u32 flags;
};

#endif
