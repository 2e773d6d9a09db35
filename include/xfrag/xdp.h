/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xfrag XDP program loader: attach the xfrag_rx program to an interface,
 * fill its XSKMAP with AF_XDP sockets, read its per-queue counters.
 *
 * The program (bpf/xfrag_rx.bpf.c) is embedded in the library; nothing is
 * looked up on disk. It is loaded and attached through libxdp, so it joins
 * libxdp's multi-program dispatcher where the kernel supports one and is
 * attached on its own otherwise. Frames the filter matches go to the socket
 * of their rx queue; everything else (ARP, SSH, ...) goes on to the kernel
 * stack. The program is in SEC("xdp.frags"), so it also attaches to links
 * with a jumbo MTU.
 *
 * The program stays attached if the process dies without
 * xfrag_xdp__detach(): the next attach then reports -EEXIST unless
 * xfrag_xdp_opts.replace is set, and xfrag_xdp__detach_stale() removes it.
 *
 * The loader routes libbpf's and libxdp's messages to the xfrag log
 * callback while it runs (their WARN level becomes xfrag INFO); do not call
 * it concurrently with other libbpf/libxdp users that set their own print
 * callbacks.
 */
#ifndef XFRAG_XDP_H
#define XFRAG_XDP_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xfrag_xdp;

/* Queues the XSKMAP and the counters cover: rx queue ids 0..63. */
#define XFRAG_XDP_MAX_QUEUES 64
/* xfrag_xdp__counters(): sum every queue. */
#define XFRAG_XDP_ALL_QUEUES UINT32_MAX

enum xfrag_xdp_mode {
	XFRAG_XDP_MODE_NATIVE = 0, /* driver mode (the default) */
	XFRAG_XDP_MODE_SKB = 1,    /* generic mode: any device, slower */
	XFRAG_XDP_MODE_AUTO = 2,   /* native, else generic with a warning */
};

enum xfrag_xdp_action {
	XFRAG_XDP_REDIRECT = 0, /* matched frames go to the queue's socket */
	XFRAG_XDP_DROP = 1,     /* matched frames are dropped and counted */
	XFRAG_XDP_PASS = 2,     /* matched frames are counted and passed on */
};

/*
 * Which frames the program takes. Each field left 0 is a wildcard. A frame
 * matches when it is well formed (no truncated or invalid header) and meets
 * every criterion set. With every field 0, every frame matches, malformed
 * ones included. One or two VLAN tags (802.1Q, 802.1ad) are skipped.
 * Declare with XFRAG_OPTS(xfrag_xdp_filter, f, ...).
 */
struct xfrag_xdp_filter {
	size_t sz;
	uint16_t ethertype;  /* e.g. 0x0800; host order */
	uint8_t ip_version;  /* 4 or 6 */
	uint8_t l4_proto;    /* IPPROTO_UDP or IPPROTO_TCP */
	uint16_t port_lo;    /* destination port range, inclusive; UDP or */
	uint16_t port_hi;    /* TCP only. port_hi 0: any port */
	size_t : 0;
};

/* Declare with XFRAG_OPTS(xfrag_xdp_opts, o, .ifname = "eth0"). */
struct xfrag_xdp_opts {
	size_t sz;
	const char *ifname; /* the interface; or */
	int ifindex;        /* used when ifname is NULL */
	enum xfrag_xdp_mode mode;
	const struct xfrag_xdp_filter *filter; /* NULL: every frame */
	enum xfrag_xdp_action action;
	bool meta;    /* put struct xfrag_meta in front of redirected frames */
	bool rx_hash; /* fill xfrag_meta.rx_hash: needs native mode and a
		       * driver with the rx_hash kfunc; else a warning and no
		       * hash (XFRAG_META_F_HASH clear) */
	bool replace; /* remove a stale xfrag program from the interface */
	/* With meta: stamp one frame in this many, a power of two up to
	 * 32768 (chosen per CPU by the program's frame count); 0 or 1: every
	 * frame. Sampling keeps the clock read and the metadata write off
	 * most frames: latency histograms need a sample, capture needs all. */
	uint32_t meta_every;
	size_t : 0;
};

/*
 * With xfrag_xdp_opts.meta, struct xfrag_meta sits right before the frame
 * data (the XDP metadata area; AF_XDP copies it into the chunk):
 *   const struct xfrag_meta *m = (const void *)((char *)data - sizeof(*m));
 * Check (m->flags & XFRAG_META_MAGIC_MASK) == XFRAG_META_MAGIC first: a
 * frame the program could not annotate carries no metadata.
 */
struct xfrag_meta {
	uint64_t xdp_ts_ns; /* CLOCK_MONOTONIC when the XDP program ran */
	uint32_t rx_hash;   /* valid if XFRAG_META_F_HASH */
	uint32_t flags;     /* XFRAG_META_*; RSS hash type in bits 16..31 */
};
#define XFRAG_META_F_TS (1u << 0)
#define XFRAG_META_F_HASH (1u << 1)
#define XFRAG_META_MAGIC_MASK 0xff00u
#define XFRAG_META_MAGIC 0xa500u
#define XFRAG_META_RSS_TYPE(flags) ((flags) >> 16) /* enum xdp_rss_hash_type */

/*
 * Per-queue program counters. Every frame seen ends in exactly one of
 * redirected, passed or dropped; passed includes frames the filter did not
 * take, PASS-mode frames and redirect_failed ones. Declare with
 * XFRAG_OPTS(xfrag_xdp_counters, c): fields beyond the caller's sz are not
 * written.
 */
struct xfrag_xdp_counters {
	size_t sz;
	uint64_t seen;
	uint64_t matched;
	uint64_t redirected;
	uint64_t passed;
	uint64_t dropped;         /* XFRAG_XDP_DROP mode */
	uint64_t redirect_failed; /* matched, but no socket on that queue */
	uint64_t malformed;       /* runts, truncated or invalid headers */
	uint64_t seen_bytes;
	uint64_t redirected_bytes;
	uint64_t meta_failed;     /* no room for the metadata */
};

/**
 * xfrag_xdp__attach() - load the xfrag XDP program and attach it
 * @opts: interface, mode, filter and action; ifname or ifindex is required
 *
 * Loads the embedded program through libxdp and attaches it. If libxdp's
 * dispatcher cannot be used (no bpffs, or a kernel without freplace
 * support), libxdp attaches the program on its own. Mounts bpffs at
 * /sys/fs/bpf if it is missing (libxdp needs it for the dispatcher); if that
 * fails, logs how to mount it and goes on.
 *
 * Context: process context; needs CAP_NET_ADMIN and CAP_BPF (or root).
 * Return: the attachment, or NULL with errno set: EINVAL (bad options),
 * ENODEV (no such interface), EEXIST (a stale xfrag program is attached:
 * set @opts->replace or call xfrag_xdp__detach_stale()), EBUSY (another
 * XDP program is attached without libxdp's dispatcher), EPERM (missing
 * capabilities), EOPNOTSUPP (mode not supported by the device), ERANGE
 * (MTU too large for the mode), ENOMEM; other errors from the kernel.
 */
XFRAG_API struct xfrag_xdp *xfrag_xdp__attach(const struct xfrag_xdp_opts *opts);

/**
 * xfrag_xdp__detach() - detach the program and free @xdp
 * @xdp: the attachment, or NULL
 *
 * Sockets in the XSKMAP stop receiving; close them after this.
 */
XFRAG_API void xfrag_xdp__detach(struct xfrag_xdp *xdp);

/**
 * xfrag_xdp__detach_stale() - remove xfrag programs left on an interface
 * @ifname: the interface
 *
 * Removes programs named "xfrag_rx*" (attached alone or through libxdp's
 * dispatcher), e.g. after a crash. Other programs are left alone.
 *
 * Return: the number of programs removed (0 if none), or -ENODEV, -EPERM
 * or another negative errno.
 */
XFRAG_API int xfrag_xdp__detach_stale(const char *ifname);

/**
 * xfrag_xdp__set_xsk() - route rx queue @queue to an AF_XDP socket
 * @xdp: the attachment
 * @queue: rx queue id, below XFRAG_XDP_MAX_QUEUES
 * @xsk_fd: a bound AF_XDP socket (created with
 *	XSK_LIBBPF_FLAGS__INHIBIT_PROG_LOAD, so that this program owns the map)
 *
 * Return: 0, -EINVAL (bad queue or fd), or the kernel's error
 * (-EOPNOTSUPP: the socket has no RX ring or UMEM).
 */
XFRAG_API int xfrag_xdp__set_xsk(struct xfrag_xdp *xdp, uint32_t queue,
				 int xsk_fd);

/**
 * xfrag_xdp__clear_xsk() - stop redirecting rx queue @queue
 * @xdp: the attachment
 * @queue: rx queue id
 *
 * Matched frames of @queue then pass to the stack (redirect_failed).
 *
 * Return: 0 (also if the slot was empty), or -EINVAL.
 */
XFRAG_API int xfrag_xdp__clear_xsk(struct xfrag_xdp *xdp, uint32_t queue);

/**
 * xfrag_xdp__counters() - read the program's counters of one queue
 * @xdp: the attachment
 * @queue: rx queue id, or XFRAG_XDP_ALL_QUEUES for the sum of all
 * @out: filled in up to @out->sz (set sz: use XFRAG_OPTS)
 *
 * Sums the per-CPU values. Context: any thread; counters of one CPU may be
 * a few frames apart from another's.
 *
 * Return: 0, -EINVAL (bad queue, @out->sz too small) or -errno.
 */
XFRAG_API int xfrag_xdp__counters(struct xfrag_xdp *xdp, uint32_t queue,
				  struct xfrag_xdp_counters *out);

/**
 * xfrag_xdp__set_filter() - change the filter of the running program
 * @xdp: the attachment
 * @filter: the new filter; NULL for every frame
 *
 * Context: frames being processed while the configuration is rewritten may
 * see a mix of the old and new filter.
 * Return: 0, -EINVAL (bad filter) or -errno.
 */
XFRAG_API int xfrag_xdp__set_filter(struct xfrag_xdp *xdp,
				    const struct xfrag_xdp_filter *filter);

/**
 * xfrag_xdp__set_action() - change what happens to matched frames
 * @xdp: the attachment
 * @action: XFRAG_XDP_REDIRECT, XFRAG_XDP_DROP or XFRAG_XDP_PASS
 *
 * Return: 0, -EINVAL or -errno.
 */
XFRAG_API int xfrag_xdp__set_action(struct xfrag_xdp *xdp,
				    enum xfrag_xdp_action action);

/** xfrag_xdp__ifindex() - the interface the program is attached to */
XFRAG_API int xfrag_xdp__ifindex(const struct xfrag_xdp *xdp);

/** xfrag_xdp__mode() - the mode in use: NATIVE or SKB, never AUTO */
XFRAG_API enum xfrag_xdp_mode xfrag_xdp__mode(const struct xfrag_xdp *xdp);

/** xfrag_xdp__prog_id() - the kernel's id of the attached program */
XFRAG_API uint32_t xfrag_xdp__prog_id(const struct xfrag_xdp *xdp);

/** xfrag_xdp__rx_hash() - true if the metadata carries the RX hash */
XFRAG_API bool xfrag_xdp__rx_hash(const struct xfrag_xdp *xdp);

/**
 * xfrag_xdp__xsks_map_fd() - the XSKMAP, for callers that fill it
 * themselves (e.g. xsk_socket__update_xskmap())
 * @xdp: the attachment
 */
XFRAG_API int xfrag_xdp__xsks_map_fd(const struct xfrag_xdp *xdp);

#ifdef __cplusplus
}
#endif
#endif /* XFRAG_XDP_H */
