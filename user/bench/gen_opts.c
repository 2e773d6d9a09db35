// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The options of xfrag-bench gen: the table, its parsers, the checks. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "gen_opts.h"
#include "params.h"
#include "xfrag/txq.h"
#include "xfrag/xfrag.h"

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char extra;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &extra) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

/* -q Q: remembered, so that AF_PACKET can say it ignores it */
static int opt_queue(void *field, const char *arg, char *why, size_t len)
{
	struct gen_cfg *c = field;
	uint64_t v;

	if (parse_size(arg, &v) || v > 65535)
		return -1;
	c->queue = (uint32_t)v;
	c->queue_set = true;
	return 0;
}

static int opt_size(void *field, const char *arg, char *why, size_t len)
{
	struct gen_cfg *c = field;

	if (frame_sizes_parse(&c->sizes, arg, why, len))
		return -1;
	c->size_spec = arg;
	return 0;
}

static int opt_src_mac(void *field, const char *arg, char *why, size_t len)
{
	struct gen_cfg *c = field;

	if (parse_mac(arg, c->fp.src_mac))
		return -1;
	c->src_mac_set = true;
	return 0;
}

static int opt_dst_mac(void *field, const char *arg, char *why, size_t len)
{
	return parse_mac(arg, field);
}

static int opt_ip(const char *arg, uint32_t *ip, bool *set)
{
	struct in_addr a;

	if (inet_pton(AF_INET, arg, &a) != 1)
		return -1;
	*ip = a.s_addr;
	*set = true;
	return 0;
}

static int opt_src_ip(void *field, const char *arg, char *why, size_t len)
{
	struct gen_cfg *c = field;

	return opt_ip(arg, &c->fp.src_ip, &c->src_ip_set);
}

static int opt_dst_ip(void *field, const char *arg, char *why, size_t len)
{
	struct gen_cfg *c = field;

	return opt_ip(arg, &c->fp.dst_ip, &c->dst_ip_set);
}

static int opt_mode(void *field, const char *arg, char *why, size_t len)
{
	enum gen_mode *m = field;

	if (!strcmp(arg, "xdp") || !strcmp(arg, "af_xdp"))
		*m = GEN_XDP;
	else if (!strcmp(arg, "packet") || !strcmp(arg, "af_packet"))
		*m = GEN_PACKET;
	else if (!strcmp(arg, "auto"))
		*m = GEN_AUTO;
	else
		return -1;
	return 0;
}

#define STR(x) #x
#define XSTR(x) STR(x)
#define O(member) OPT_FIELD(struct gen_cfg, member)
static const struct opt gen_opts[] = {
	{ .name = "iface", .short_opt = 'i', .type = OPT_STR, O(ifname), .metavar = "IF",
	  .missing = "no interface: -i IFACE is required (see --help)",
	  .help = "interface to send on (required)" },
	{ .name = "queue", .short_opt = 'q', .type = OPT_FUNC, .parse = opt_queue, .metavar = "Q",
	  .help = "AF_XDP queue to bind (default 0); on veth, frames land\n"
		  "in the peer's rx queue Q. AF_PACKET picks the queue\n"
		  "itself (by CPU: use --cpu)" },
	{ .name = "count", .short_opt = 'n', .type = OPT_SI, O(count), .metavar = "N",
	  .positive = true, .hint = " (frames, > 0)",
	  .help = "stop once the device accepted N frames (k/M/G suffixes)" },
	{ .name = "duration", .short_opt = 'd', .type = OPT_SECONDS, O(duration),
	  .metavar = "S", .hint = " (seconds, > 0)",
	  .help = "stop after S seconds (default " XSTR(GEN_DEFAULT_DURATION_S) " if no --count)" },
	{ .name = "rate", .short_opt = 'R', .type = OPT_SI, O(rate), .metavar = "PPS",
	  .hint = " (frames per second; 0 = unlimited)",
	  .help = "frames per second, token-bucket paced; 0 = as fast as\n"
		  "possible (default; k/M suffixes)" },
	{ .name = "size", .short_opt = 's', .type = OPT_FUNC, .parse = opt_size, .metavar = "SPEC",
	  .help = "frame bytes without FCS, 62..9216: 64 (default), imix\n"
		  "(64/594/1518 at 7:4:1; 1518 is clamped to MTU + 14),\n"
		  "or a comma list cycled in order (64,1500,9000)" },
	{ .name = "flows", .type = OPT_UINT, O(flows), .metavar = "N", .what = "flow count",
	  .lo = 1, .hi = 65535,
	  .help = "UDP source ports src-port .. src-port+N-1 (default 1)" },
	{ .name = "src-mac", .type = OPT_FUNC, .parse = opt_src_mac, .metavar = "MAC",
	  .what = "MAC address", .hint = " (aa:bb:cc:dd:ee:ff)",
	  .help = "default: the interface's" },
	{ .name = "dst-mac", .type = OPT_FUNC, O(fp.dst_mac), .parse = opt_dst_mac,
	  .metavar = "MAC", .what = "MAC address", .hint = " (aa:bb:cc:dd:ee:ff)",
	  .help = "default: ff:ff:ff:ff:ff:ff (pass the peer's for unicast)" },
	{ .name = "src-ip", .type = OPT_FUNC, .parse = opt_src_ip, .metavar = "IP",
	  .what = "IPv4 address",
	  .help = "default: the interface's IPv4 address, else 198.18.0.2" },
	{ .name = "dst-ip", .type = OPT_FUNC, .parse = opt_dst_ip, .metavar = "IP",
	  .what = "IPv4 address",
	  .help = "default: the .1 of the interface's subnet (.2 if that is\n"
		  "the interface), else 198.18.0.1" },
	{ .name = "src-port", .type = OPT_UINT, O(fp.src_port), .metavar = "P", .what = "port",
	  .lo = 1, .hi = 65535,
	  .help = "first UDP source port (default " XSTR(FRAME_SRC_PORT) ")" },
	{ .name = "dst-port", .type = OPT_UINT, O(fp.dst_port), .metavar = "P", .what = "port",
	  .lo = 1, .hi = 65535,
	  .help = "UDP destination port (default " XSTR(FRAME_DST_PORT) ")" },
	{ .name = "mode", .short_opt = 'm', .type = OPT_FUNC, O(mode), .parse = opt_mode,
	  .metavar = "MODE", .hint = " (xdp, packet or auto)",
	  .help = "xdp: AF_XDP TX with frag-carved frames; packet:\n"
		  "AF_PACKET sendmmsg; auto (default): xdp, else packet.\n"
		  "Frames above the AF_XDP frame size (--frame-size,\n"
		  "4096) need packet mode: multi-buffer TX is not done" },
	{ .name = "cpu", .type = OPT_CPU, O(cpu), .metavar = "C", .what = "CPU",
	  .help = "pin the sending thread to CPU C" },
	{ .name = "batch", .short_opt = 'b', .type = OPT_UINT, O(batch), .metavar = "N",
	  .lo = 1, .hi = GEN_MAX_BATCH,
	  .help = "frames per send, 1.." XSTR(GEN_MAX_BATCH) " (default 64)" },
	{ .name = "frame-size", .short_opt = 'F', .type = OPT_UINT, O(frame_size),
	  .metavar = "B", .what = "frame size", .lo = 2048, .hi = 4096,
	  .help = "AF_XDP chunk size, 2048..4096 (default 4096)" },
	{ .name = "ring-size", .short_opt = 'r', .type = OPT_UINT, O(ring), .metavar = "N",
	  .what = "ring size", .pow2 = true, .lo = 64, .hi = 1u << 20,
	  .help = "AF_XDP TX and completion ring entries (default 2048)" },
	{ .name = "umem-size", .short_opt = 'u', .type = OPT_UINT, O(umem_size),
	  .metavar = "SIZE", .what = "UMEM size", .positive = true,
	  .help = "AF_XDP UMEM bytes (default: what the rings need)" },
	{ .name = "zerocopy", .short_opt = 'z', .type = OPT_SET, O(bind_mode),
	  .set = XFRAG_BIND_ZEROCOPY, .help = "AF_XDP: require zero-copy" },
	{ .name = "copy", .short_opt = 'c', .type = OPT_SET, O(bind_mode),
	  .set = XFRAG_BIND_COPY, .help = "AF_XDP: copy mode" },
	{ .name = "json", .type = OPT_BOOL, O(json),
	  .help = "print one JSON object as the last stdout line" },
	{ .name = "quiet", .type = OPT_BOOL, O(quiet), .help = "no progress lines on stderr" },
};
#undef O

const struct opt_table gen_table = {
	.cmd = "gen",
	.synopsis = "-i IFACE [options]",
	.about = "Send test frames (Ethernet/IPv4/UDP with a sequence number and a\n"
		 "checksummed payload, see user/bench/frame.h) out of IFACE.",
	.opts = gen_opts,
	.n = OPT_TABLE_LEN(gen_opts),
	.notes = "Progress goes to stderr once a second. SIGINT/SIGTERM stop the run with a\n"
		 "summary. Exit status: 0 done, 1 failure, 2 bad usage.",
};

/* What the table cannot check: the interface, sizes against each other. */
int gen_check(struct gen_cfg *c)
{
	c->ifindex = (int)if_nametoindex(c->ifname);
	if (!c->ifindex) {
		fprintf(stderr, "gen: interface '%s' not found in this network namespace\n",
			c->ifname);
		return 2;
	}
	if (c->umem_size) {
		/* A batch of the largest frames and the block being carved. */
		uint64_t need = (uint64_t)c->batch * ((c->sizes.max + 63u) & ~63u) +
				XFRAG_BLOCK_DEFAULT;

		if (need < 2 * XFRAG_BLOCK_DEFAULT)
			need = 2 * XFRAG_BLOCK_DEFAULT;
		if (c->umem_size < need) {
			fprintf(stderr, "gen: UMEM size %llu is too small: batches of %u frames of up to %u bytes need at least %llu bytes\n",
				(unsigned long long)c->umem_size, c->batch, c->sizes.max,
				(unsigned long long)need);
			return 2;
		}
	}
	if (!c->count && !(c->duration > 0))
		c->duration = GEN_DEFAULT_DURATION;
	if ((uint32_t)c->fp.src_port + c->flows - 1 > 65535) {
		fprintf(stderr, "gen: src-port %u + %u flows runs past port 65535\n",
			c->fp.src_port, c->flows);
		return 2;
	}
	return 0;
}
