// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xfrag_rx: classify each frame, redirect the ones the filter matches to the
 * AF_XDP socket of their rx queue, let everything else (ARP, SSH, ...) go on
 * to the kernel stack, and count per queue.
 *
 * Built from the UAPI headers only (no vmlinux.h). The headers are read in
 * the first buffer of a multi-buffer frame; every access is bounds-checked
 * against data_end, so truncated frames are classified, never over-read.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stdbool.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xfrag_rx.h"
#include "xfrag_rx_parse.h"

/* Not UAPI (include/net/xdp.h); only the name and kind matter to libbpf. */
enum xdp_rss_hash_type { XFRAG_RSS_TYPE_NONE = 0 };

/*
 * Weak so that the object still opens and the plain program still loads on
 * a kernel without the kfunc; only xfrag_rx_hash calls it, and that program
 * must be device-bound (the verifier refuses metadata kfuncs otherwise).
 */
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash,
				    enum xdp_rss_hash_type *rss_type) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XFRAG_RX_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XFRAG_RX_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct xfrag_rx_counters);
} xfrag_counters SEC(".maps");

/*
 * In .data, not .rodata: user space may rewrite it after load. Volatile so
 * that every run reads the current value.
 */
volatile struct xfrag_rx_cfg xfrag_cfg SEC(".data") = {
	.action = XFRAG_RX_REDIRECT,
	.flags = XFRAG_RX_F_ALL,
};

/*
 * Put struct xfrag_rx_meta in front of the frame. On failure nothing is
 * written and the frame goes on without metadata: the timestamp is a
 * convenience, never a reason to lose a packet.
 */
static __always_inline void add_meta(struct xdp_md *ctx, bool hash,
				     struct xfrag_rx_counters *c)
{
	enum xdp_rss_hash_type rss = XFRAG_RSS_TYPE_NONE;
	__u32 flags = XFRAG_RX_META_MAGIC | XFRAG_RX_META_F_TS, rx_hash = 0;
	struct xfrag_rx_meta *m;
	void *data;

	if (hash && !bpf_xdp_metadata_rx_hash(ctx, &rx_hash, &rss))
		flags |= XFRAG_RX_META_F_HASH |
			 ((__u32)rss << XFRAG_RX_META_RSS_SHIFT);
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m))) {
		if (c)
			c->meta_failed++;
		return;
	}
	data = (void *)(long)ctx->data;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > data)
		return;
	m->xdp_ts_ns = bpf_ktime_get_ns();
	m->rx_hash = rx_hash;
	m->flags = flags;
}

static __always_inline int xfrag_rx_main(struct xdp_md *ctx, bool hash)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 queue = ctx->rx_queue_index;
	__u32 action = xfrag_cfg.action, flags = xfrag_cfg.flags;
	struct xfrag_rx_counters *c;
	struct xfrag_rx_pkt p = {};
	__u64 len, seen = 0;
	int bad, ret;

	/* Per-CPU slot: plain increments, no atomics. NULL past queue 63. */
	c = bpf_map_lookup_elem(&xfrag_counters, &queue);
	len = bpf_xdp_get_buff_len(ctx);
	if (c) {
		seen = ++c->seen;
		c->seen_bytes += len;
	}
	bad = xfrag_rx_parse(data, end, &p);
	if (bad && c)
		c->malformed++;
	if (!(flags & XFRAG_RX_F_ALL) && (bad || !xfrag_rx_match(&p, &xfrag_cfg))) {
		if (c)
			c->passed++;
		return XDP_PASS;
	}
	if (c)
		c->matched++;

	if (action == XFRAG_RX_DROP) {
		if (c)
			c->dropped++;
		return XDP_DROP;
	}
	if (action == XFRAG_RX_PASS) {
		if (c)
			c->passed++;
		return XDP_PASS;
	}

	/* A sample of the frames (or all): the clock read and the metadata
	 * write are most of the program's cost on the sender's CPU. */
	if ((flags & XFRAG_RX_F_META) && !(seen & xfrag_cfg.meta_mask))
		add_meta(ctx, hash, c);

	/* An empty slot (no socket bound on this queue) yields XDP_PASS. */
	ret = bpf_redirect_map(&xsks_map, queue, XDP_PASS);
	if (c) {
		if (ret == XDP_REDIRECT) {
			c->redirected++;
			c->redirected_bytes += len;
		} else {
			c->redirect_failed++;
			c->passed++;
		}
	}
	return ret;
}

SEC("xdp.frags")
int xfrag_rx(struct xdp_md *ctx)
{
	return xfrag_rx_main(ctx, false);
}

/* Same program plus the RX hash kfunc; load it device-bound, native mode. */
SEC("xdp.frags")
int xfrag_rx_hash(struct xdp_md *ctx)
{
	return xfrag_rx_main(ctx, true);
}

char _license[] SEC("license") = "Dual BSD/GPL";
