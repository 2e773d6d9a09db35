// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The XDP program on hand-built frames, through BPF_PROG_TEST_RUN: no NIC,
 * but root (BPF program load). Skipped (77) without root or BPF.
 *
 * What test_run allows, found on kernel 6.18:
 * - Frames shorter than ETH_HLEN are refused (EINVAL), also when ctx_in.data
 *   declares leading bytes of data_in as metadata (tried: every metadata
 *   size 4..32 with a 0..13-byte frame). bpf_xdp_adjust_head/_tail refuse
 *   to go below ETH_HLEN too, so XDP never sees such a runt in its linear
 *   part. The runt paths of the classifier (xfrag_rx_parse.h) are therefore
 *   tested on a host build of the same code (parse_* tests); through
 *   test_run, "runts" are 14-byte frames with nothing after the header.
 * - Without BPF_F_TEST_XDP_LIVE_FRAMES the program's verdict is reported,
 *   nothing is redirected. bpf_redirect_map() into an empty XSKMAP slot
 *   returns its fallback, XDP_PASS (counted as redirect_failed). To see
 *   XDP_REDIRECT we put an AF_XDP socket in slot 0 that has a UMEM and an
 *   RX ring but no fill ring: the kernel accepts such a socket in an
 *   XSKMAP without a bind, and no interface is involved.
 * - data_out starts at data_meta, so the metadata the program prepends is
 *   the first bytes of data_out.
 * - The device-bound variant (xfrag_rx_hash) cannot be test-run (EINVAL);
 *   it is exercised by the integration test.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/libbpf.h>

#include "test.h"
#include "xfrag/xdp.h"
#include "xfrag_rx.h"
#include "xfrag_rx_parse.h" /* the classifier, built for the host */
#include "xfrag_rx.skel.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static struct xfrag_rx_bpf *skel;
static int prog_fd, ncpus;

__attribute__((format(printf, 2, 0))) static int
quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void skip(const char *why)
{
	printf("skipped: %s\n", why);
	exit(77);
}

/* Load once; each test rewrites the config and zeroes the counters. */
__attribute__((constructor)) static void setup(void)
{
	int err;

	if (geteuid() != 0)
		skip("needs root");
	libbpf_set_print(quiet_libbpf);
	skel = xfrag_rx_bpf__open();
	if (!skel)
		skip("cannot open the BPF object");
	bpf_program__set_autoload(skel->progs.xfrag_rx_hash, false);
	err = xfrag_rx_bpf__load(skel);
	if (err == -EPERM || err == -ENOSYS || err == -EOPNOTSUPP)
		skip("BPF unavailable");
	if (err) {
		fprintf(stderr, "loading xfrag_rx failed: %d\n", err);
		exit(1);
	}
	prog_fd = bpf_program__fd(skel->progs.xfrag_rx);
	ncpus = libbpf_num_possible_cpus();
}

static void configure(uint32_t action, uint32_t flags, uint16_t ethertype,
		      uint8_t ipver, uint8_t l4, uint16_t lo, uint16_t hi)
{
	struct xfrag_rx_cfg cfg = {
		.action = action, .flags = flags, .ethertype = ethertype,
		.ip_version = ipver, .l4_proto = l4, .port_lo = lo, .port_hi = hi,
	};
	struct xfrag_rx_counters *zero = calloc(ncpus, sizeof(*zero));
	uint32_t q;
	int key = 0;

	assert_true(zero);
	assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.data), &key, &cfg, 0), 0);
	for (q = 0; q < XFRAG_RX_MAX_QUEUES; q++)
		expect_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.xfrag_counters),
					      &q, zero, 0), 0);
	free(zero);
}

static struct xfrag_rx_counters counters(void)
{
	struct xfrag_rx_counters *per = calloc(ncpus, sizeof(*per)), sum = { 0 };
	uint32_t q = 0;
	int cpu;

	if (!per)
		abort();
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.xfrag_counters), &q, per))
		test_fail_(__FILE__, __LINE__, "counters lookup: %s", strerror(errno));
	for (cpu = 0; cpu < ncpus; cpu++) {
		sum.seen += per[cpu].seen;
		sum.matched += per[cpu].matched;
		sum.redirected += per[cpu].redirected;
		sum.passed += per[cpu].passed;
		sum.dropped += per[cpu].dropped;
		sum.redirect_failed += per[cpu].redirect_failed;
		sum.malformed += per[cpu].malformed;
		sum.seen_bytes += per[cpu].seen_bytes;
		sum.redirected_bytes += per[cpu].redirected_bytes;
		sum.meta_failed += per[cpu].meta_failed;
	}
	free(per);
	return sum;
}

/* Run one frame; return the verdict, or -errno if test_run failed. */
static int run_out(const void *frame, size_t len, void *out, uint32_t *out_len)
{
	int err;

	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = frame, .data_size_in = (uint32_t)len,
		.data_out = out, .data_size_out = out ? *out_len : 0,
		.repeat = 1);
	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (err)
		return -errno;
	if (out_len)
		*out_len = o.data_size_out;
	return (int)o.retval;
}

static int run(const void *frame, size_t len)
{
	return run_out(frame, len, NULL, NULL);
}

/* --- frame builders ----------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Ethernet header, then a VLAN tag per extra entry of @types. */
static size_t mk_eth(uint8_t *b, int n, const uint16_t *types)
{
	size_t len = 12;
	int i;

	memset(b, 0x02, 6);
	memset(b + 6, 0x04, 6);
	for (i = 0; i < n; i++) {
		put16(b + len, types[i]);
		len += 2;
		if (i + 1 < n) { /* a tag: TCI, then the next type */
			put16(b + len, 100 + i);
			len += 2;
		}
	}
	return len;
}

static size_t mk_ip4(uint8_t *b, uint8_t proto, unsigned int ihl,
		     uint16_t frag_off)
{
	memset(b, 0, ihl * 4);
	b[0] = 0x40 | (ihl & 0xf);
	put16(b + 2, 100);
	put16(b + 6, frag_off);
	b[8] = 64;
	b[9] = proto;
	b[12] = 198, b[13] = 18, b[14] = 0, b[15] = 1;
	b[16] = 198, b[17] = 18, b[18] = 0, b[19] = 2;
	if (ihl > 5)
		memset(b + 20, 1, ihl * 4 - 20); /* NOP options */
	return ihl * 4;
}

static size_t mk_ip6(uint8_t *b, uint8_t nexthdr)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	put16(b + 4, 100);
	b[6] = nexthdr;
	b[7] = 64;
	b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8, b[23] = 1;
	b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8, b[39] = 2;
	return 40;
}

static size_t mk_l4(uint8_t *b, uint8_t proto, uint16_t dport)
{
	size_t len = proto == IPPROTO_TCP ? 20 : 8;

	memset(b, 0, len);
	put16(b, 40000);
	put16(b + 2, dport);
	if (proto == IPPROTO_TCP)
		b[12] = 5 << 4;
	else
		put16(b + 4, 8 + 32);
	return len;
}

#define PAYLOAD 32

/* eth [+vlans] + IPv4 + UDP/TCP + payload */
static size_t udp4(uint8_t *b, uint8_t proto, uint16_t dport)
{
	static const uint16_t t[] = { ETH_P_IP };
	size_t n = mk_eth(b, 1, t);

	n += mk_ip4(b + n, proto, 5, 0);
	n += mk_l4(b + n, proto, dport);
	memset(b + n, 0xab, PAYLOAD);
	return n + PAYLOAD;
}

static size_t udp6(uint8_t *b, uint8_t proto, uint16_t dport)
{
	static const uint16_t t[] = { ETH_P_IPV6 };
	size_t n = mk_eth(b, 1, t);

	n += mk_ip6(b + n, proto);
	n += mk_l4(b + n, proto, dport);
	memset(b + n, 0xab, PAYLOAD);
	return n + PAYLOAD;
}

static size_t arp(uint8_t *b)
{
	static const uint16_t t[] = { ETH_P_ARP };
	size_t n = mk_eth(b, 1, t);

	memset(b + n, 0, 28);
	return n + 28;
}

static size_t vlan_udp4(uint8_t *b, int tags, uint16_t dport)
{
	static const uint16_t t1[] = { ETH_P_8021Q, ETH_P_IP };
	static const uint16_t t2[] = { 0x88a8, ETH_P_8021Q, ETH_P_IP };
	size_t n = tags == 2 ? mk_eth(b, 3, t2) : mk_eth(b, 2, t1);

	n += mk_ip4(b + n, IPPROTO_UDP, 5, 0);
	n += mk_l4(b + n, IPPROTO_UDP, dport);
	memset(b + n, 0xab, PAYLOAD);
	return n + PAYLOAD;
}

/* IPv4 with @ihl (5..15) and the UDP header right after the options. */
static size_t udp4_ihl(uint8_t *b, unsigned int ihl, uint16_t dport,
		       uint16_t frag_off)
{
	static const uint16_t t[] = { ETH_P_IP };
	size_t n = mk_eth(b, 1, t);

	n += mk_ip4(b + n, IPPROTO_UDP, ihl, frag_off);
	n += mk_l4(b + n, IPPROTO_UDP, dport);
	return n;
}

/* --- tests -------------------------------------------------------------- */

/* --- the classifier on the host: runts and every truncation ---------- */

static int parse(const uint8_t *f, size_t len, struct xfrag_rx_pkt *p)
{
	/*
	 * A copy that ends exactly at len, so a read past it is a heap
	 * overflow for ASan; 2 bytes in, as drivers place frames (NET_IP_ALIGN),
	 * so the IP header is 4-byte aligned for UBSan.
	 */
	uint8_t *buf = malloc(len + 2);
	int ret;

	if (!buf)
		abort();
	memcpy(buf + 2, f, len);
	memset(p, 0, sizeof(*p));
	ret = xfrag_rx_parse(buf + 2, buf + 2 + len, p);
	free(buf);
	return ret;
}

TEST(parse_runts)
{
	uint8_t f[256];
	struct xfrag_rx_pkt p;
	size_t n;

	udp4(f, IPPROTO_UDP, 9000);
	for (n = 0; n < ETH_HLEN; n++)
		expect_eq(parse(f, n, &p), -1);
	arp(f);
	for (n = 0; n < ETH_HLEN; n++)
		expect_eq(parse(f, n, &p), -1);
	expect_eq(parse(f, ETH_HLEN, &p), 0); /* non-IP: the header is all */
	expect_eq(p.ethertype, ETH_P_ARP);
}

/* Every prefix of a frame shorter than its headers is malformed. */
static void every_truncation(const uint8_t *f, size_t len, size_t hdrs)
{
	struct xfrag_rx_pkt p;
	size_t n;

	for (n = 0; n <= len; n++)
		if (parse(f, n, &p) != (n < hdrs ? -1 : 0))
			test_fail_(__FILE__, __LINE__, "length %zu of %zu (headers %zu)",
				   n, len, hdrs);
}

TEST(parse_truncations)
{
	uint8_t f[256];
	struct xfrag_rx_pkt p;
	size_t len;

	len = udp4(f, IPPROTO_UDP, 9000);
	every_truncation(f, len, ETH_HLEN + 20 + 8);
	expect_eq(parse(f, len, &p), 0);
	expect_eq(p.ethertype, ETH_P_IP);
	expect_eq(p.ip_version, 4);
	expect_eq(p.l4_proto, IPPROTO_UDP);
	expect_eq(p.has_ports, 1);
	expect_eq(p.dport, 9000);

	len = udp6(f, IPPROTO_TCP, 443);
	every_truncation(f, len, ETH_HLEN + 40 + 20);
	expect_eq(parse(f, len, &p), 0);
	expect_eq(p.ip_version, 6);
	expect_eq(p.l4_proto, IPPROTO_TCP);
	expect_eq(p.dport, 443);

	len = vlan_udp4(f, 2, 53);
	every_truncation(f, len, ETH_HLEN + 8 + 20 + 8);
	expect_eq(parse(f, len, &p), 0);
	expect_eq(p.ethertype, ETH_P_IP);
	expect_eq(p.dport, 53);

	len = udp4_ihl(f, 15, 9000, 0);
	every_truncation(f, len, ETH_HLEN + 60 + 8);
	len = udp4_ihl(f, 5, 9000, 0x20); /* later fragment: no L4 needed */
	every_truncation(f, len, ETH_HLEN + 20);
	expect_eq(parse(f, len, &p), 0);
	expect_eq(p.has_ports, 0);

	/* Bad IHL and bad versions, complete frames. */
	len = udp4(f, IPPROTO_UDP, 9000);
	f[ETH_HLEN] = 0x44;
	expect_eq(parse(f, len, &p), -1);
	f[ETH_HLEN] = 0x65;
	expect_eq(parse(f, len, &p), -1);
	len = udp6(f, IPPROTO_UDP, 9000);
	f[ETH_HLEN] = 0x40;
	expect_eq(parse(f, len, &p), -1);
}

/* --- the program, through BPF_PROG_TEST_RUN ---------------------------- */

TEST(udp4_port_filter)
{
	uint8_t f[256];
	size_t len, bytes = 0;

	configure(XFRAG_RX_REDIRECT, 0, 0, 4, IPPROTO_UDP, 9000, 9001);

	/* Match, but no socket in slot 0: bpf_redirect_map's fallback. */
	len = udp4(f, IPPROTO_UDP, 9000), bytes += len;
	expect_eq(run(f, len), XDP_PASS);
	len = udp4(f, IPPROTO_UDP, 9001), bytes += len;
	expect_eq(run(f, len), XDP_PASS);
	struct xfrag_rx_counters c = counters();
	expect_eq(c.matched, 2);
	expect_eq(c.redirect_failed, 2);

	len = udp4(f, IPPROTO_UDP, 53), bytes += len;     /* port */
	expect_eq(run(f, len), XDP_PASS);
	len = udp4(f, IPPROTO_UDP, 9002), bytes += len;   /* port */
	expect_eq(run(f, len), XDP_PASS);
	len = udp4(f, IPPROTO_TCP, 9000), bytes += len;   /* L4 */
	expect_eq(run(f, len), XDP_PASS);
	len = udp6(f, IPPROTO_UDP, 9000), bytes += len;   /* IP version */
	expect_eq(run(f, len), XDP_PASS);
	len = arp(f), bytes += len;
	expect_eq(run(f, len), XDP_PASS);
	len = vlan_udp4(f, 1, 9000), bytes += len;        /* match */
	expect_eq(run(f, len), XDP_PASS);
	len = vlan_udp4(f, 2, 9001), bytes += len;        /* match (QinQ) */
	expect_eq(run(f, len), XDP_PASS);
	len = udp4_ihl(f, 6, 9000, 0), bytes += len;      /* options: match */
	expect_eq(run(f, len), XDP_PASS);
	len = udp4_ihl(f, 15, 9000, 0), bytes += len;     /* max options */
	expect_eq(run(f, len), XDP_PASS);
	len = udp4_ihl(f, 5, 9000, 10), bytes += len;     /* later fragment */
	expect_eq(run(f, len), XDP_PASS);

	c = counters();
	expect_eq(c.seen, 12);
	expect_eq(c.matched, 6);
	expect_eq(c.redirect_failed, 6);
	expect_eq(c.redirected, 0);
	expect_eq(c.passed, 12);
	expect_eq(c.dropped, 0);
	expect_eq(c.malformed, 0);
	expect_eq(c.seen_bytes, bytes);
}

static void malformed(const void *frame, size_t len, size_t *count)
{
	expect_eq(run(frame, len), XDP_PASS);
	(*count)++;
}

TEST(malformed_frames)
{
	uint8_t f[256], full[256];
	size_t len, n, k = 0;

	configure(XFRAG_RX_REDIRECT, 0, 0, 0, IPPROTO_UDP, 0, 0);

	/* The shortest frames test_run takes: a bare Ethernet header. */
	len = udp4(full, IPPROTO_UDP, 9000);
	malformed(full, ETH_HLEN, &k);
	len = udp6(f, IPPROTO_UDP, 9000);
	malformed(f, ETH_HLEN, &k);
	/* Truncated IPv4 header, truncated UDP header. */
	malformed(full, ETH_HLEN + 10, &k);
	malformed(full, ETH_HLEN + 20 + 4, &k);
	/* IHL 15 (60 bytes) with only 30 bytes of IP present. */
	n = udp4_ihl(f, 15, 9000, 0);
	malformed(f, ETH_HLEN + 30, &k);
	/* IHL says options, UDP header cut short after them. */
	malformed(f, n - 2, &k);
	/* Bad IHL (< 5) and a bad version in an IPv4 frame. */
	len = udp4(f, IPPROTO_UDP, 9000);
	f[ETH_HLEN] = 0x44;
	malformed(f, len, &k);
	f[ETH_HLEN] = 0x65;
	malformed(f, len, &k);
	/* Truncated IPv6 header; truncated TCP header over IPv6. */
	len = udp6(f, IPPROTO_TCP, 80);
	malformed(f, ETH_HLEN + 39, &k);
	malformed(f, ETH_HLEN + 40 + 19, &k);
	/* A VLAN tag cut in the middle. */
	len = vlan_udp4(f, 1, 9000);
	malformed(f, ETH_HLEN + 2, &k);

	struct xfrag_rx_counters c = counters();
	expect_eq(c.seen, k);
	expect_eq(c.malformed, k);
	expect_eq(c.matched, 0);
	expect_eq(c.passed, k);

	/* The same frame, complete, is fine. */
	len = udp4(full, IPPROTO_UDP, 9000);
	expect_eq(run(full, len), XDP_PASS);
	c = counters();
	expect_eq(c.malformed, k);
	expect_eq(c.matched, 1);
}

TEST(match_all_takes_malformed)
{
	uint8_t f[256];
	size_t len = udp4(f, IPPROTO_UDP, 1);

	configure(XFRAG_RX_DROP, XFRAG_RX_F_ALL, 0, 0, 0, 0, 0);
	expect_eq(run(f, len), XDP_DROP);
	expect_eq(run(f, ETH_HLEN), XDP_DROP);      /* truncated IPv4 */
	expect_eq(run(f, ETH_HLEN + 25), XDP_DROP); /* truncated UDP */
	len = arp(f);
	expect_eq(run(f, len), XDP_DROP);

	struct xfrag_rx_counters c = counters();
	expect_eq(c.seen, 4);
	expect_eq(c.matched, 4);
	expect_eq(c.dropped, 4);
	expect_eq(c.malformed, 2);
	expect_eq(c.passed, 0);
}

TEST(drop_mode)
{
	uint8_t f[256];
	size_t len;

	configure(XFRAG_RX_DROP, 0, 0, 0, IPPROTO_UDP, 0, 0);
	len = udp4(f, IPPROTO_UDP, 7);
	expect_eq(run(f, len), XDP_DROP);
	len = udp6(f, IPPROTO_UDP, 7);
	expect_eq(run(f, len), XDP_DROP);
	len = udp4(f, IPPROTO_TCP, 22);   /* SSH keeps flowing */
	expect_eq(run(f, len), XDP_PASS);
	len = arp(f);
	expect_eq(run(f, len), XDP_PASS);

	struct xfrag_rx_counters c = counters();
	expect_eq(c.seen, 4);
	expect_eq(c.matched, 2);
	expect_eq(c.dropped, 2);
	expect_eq(c.passed, 2);
	expect_eq(c.redirected + c.redirect_failed, 0);
}

TEST(pass_mode)
{
	uint8_t f[256];
	size_t len = udp4(f, IPPROTO_UDP, 9000);

	configure(XFRAG_RX_PASS, 0, 0, 0, IPPROTO_UDP, 9000, 9000);
	expect_eq(run(f, len), XDP_PASS);
	expect_eq(run(f, len), XDP_PASS);
	len = udp4(f, IPPROTO_UDP, 9);
	expect_eq(run(f, len), XDP_PASS);

	struct xfrag_rx_counters c = counters();
	expect_eq(c.seen, 3);
	expect_eq(c.matched, 2);
	expect_eq(c.passed, 3);
	expect_eq(c.dropped + c.redirect_failed + c.redirected, 0);
}

TEST(tcp_and_ipv6_filters)
{
	uint8_t f[256];
	size_t len;

	configure(XFRAG_RX_DROP, 0, 0, 0, IPPROTO_TCP, 80, 443);
	len = udp4(f, IPPROTO_TCP, 443);
	expect_eq(run(f, len), XDP_DROP);
	len = udp6(f, IPPROTO_TCP, 80);
	expect_eq(run(f, len), XDP_DROP);
	len = udp4(f, IPPROTO_TCP, 444);
	expect_eq(run(f, len), XDP_PASS);
	len = udp4(f, IPPROTO_UDP, 443);
	expect_eq(run(f, len), XDP_PASS);

	/* IPv6 UDP, also behind a hop-by-hop and a first-fragment header. */
	configure(XFRAG_RX_DROP, 0, 0, 6, IPPROTO_UDP, 5000, 5000);
	len = udp6(f, IPPROTO_UDP, 5000);
	expect_eq(run(f, len), XDP_DROP);
	len = udp4(f, IPPROTO_UDP, 5000);
	expect_eq(run(f, len), XDP_PASS);
	{
		static const uint16_t t[] = { ETH_P_IPV6 };
		size_t n = mk_eth(f, 1, t);

		n += mk_ip6(f + n, 0 /* hop-by-hop */);
		memset(f + n, 0, 16);
		f[n] = 44;    /* next: fragment */
		f[n + 1] = 1; /* 16 bytes */
		n += 16;
		memset(f + n, 0, 8);
		f[n] = IPPROTO_UDP;
		n += 8;       /* offset 0: the first fragment has the ports */
		n += mk_l4(f + n, IPPROTO_UDP, 5000);
		expect_eq(run(f, n), XDP_DROP);
		/* A later fragment: no ports, no match, not malformed. */
		put16(f + n - 8 - 8 + 2, 0x0100);
		expect_eq(run(f, n), XDP_PASS);
	}
	struct xfrag_rx_counters c = counters();
	expect_eq(c.seen, 4);
	expect_eq(c.dropped, 2);
	expect_eq(c.malformed, 0);
}

TEST(ethertype_filter)
{
	uint8_t f[256];
	size_t len;

	configure(XFRAG_RX_DROP, 0, ETH_P_ARP, 0, 0, 0, 0);
	len = arp(f);
	expect_eq(run(f, len), XDP_DROP);
	len = udp4(f, IPPROTO_UDP, 1);
	expect_eq(run(f, len), XDP_PASS);

	configure(XFRAG_RX_DROP, 0, ETH_P_IP, 0, 0, 0, 0);
	len = vlan_udp4(f, 1, 1); /* the tag is skipped */
	expect_eq(run(f, len), XDP_DROP);
	len = udp6(f, IPPROTO_UDP, 1);
	expect_eq(run(f, len), XDP_PASS);
}

/*
 * An AF_XDP socket with a UMEM and an RX ring, unbound and without a fill
 * ring: enough for the kernel to accept it in an XSKMAP.
 */
static int xsk_for_map(void **area)
{
	const size_t size = 16 * 4096;
	int fd, ring = 64;

	fd = socket(AF_XDP, SOCK_RAW, 0);
	if (fd < 0)
		return -errno;
	*area = mmap(NULL, size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct xdp_umem_reg reg = {
		.addr = (uintptr_t)*area, .len = size, .chunk_size = 4096,
	};
	if (*area == MAP_FAILED ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &ring, sizeof(ring))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

TEST(redirect_to_socket)
{
	int xsks = bpf_map__fd(skel->maps.xsks_map), fd;
	uint32_t q = 0;
	void *area = NULL;
	uint8_t f[256];
	size_t len, bytes = 0;

	fd = xsk_for_map(&area);
	assert_true(fd >= 0);
	assert_eq(bpf_map_update_elem(xsks, &q, &fd, 0), 0);

	configure(XFRAG_RX_REDIRECT, 0, 0, 4, IPPROTO_UDP, 9000, 9000);
	len = udp4(f, IPPROTO_UDP, 9000), bytes += len;
	expect_eq(run(f, len), XDP_REDIRECT);
	len = vlan_udp4(f, 1, 9000), bytes += len;
	expect_eq(run(f, len), XDP_REDIRECT);
	len = arp(f);
	expect_eq(run(f, len), XDP_PASS);

	struct xfrag_rx_counters c = counters();
	expect_eq(c.seen, 3);
	expect_eq(c.matched, 2);
	expect_eq(c.redirected, 2);
	expect_eq(c.redirected_bytes, bytes);
	expect_eq(c.redirect_failed, 0);
	expect_eq(c.passed, 1);

	/* Match-all redirects malformed frames too. */
	configure(XFRAG_RX_REDIRECT, XFRAG_RX_F_ALL, 0, 0, 0, 0, 0);
	len = udp4(f, IPPROTO_UDP, 1);
	expect_eq(run(f, ETH_HLEN + 3), XDP_REDIRECT);
	c = counters();
	expect_eq(c.malformed, 1);
	expect_eq(c.redirected, 1);

	/* Empty the slot again: back to the fallback. */
	expect_eq(bpf_map_delete_elem(xsks, &q), 0);
	expect_eq(run(f, len), XDP_PASS);
	c = counters();
	expect_eq(c.redirect_failed, 1);
	close(fd);
	munmap(area, 16 * 4096);
}

TEST(metadata)
{
	uint8_t f[256], out[512];
	struct xfrag_rx_meta m;
	struct timespec ts;
	uint32_t out_len = sizeof(out);
	uint64_t before, after;
	size_t len = udp4(f, IPPROTO_UDP, 9000);

	configure(XFRAG_RX_REDIRECT, XFRAG_RX_F_ALL | XFRAG_RX_F_META, 0, 0, 0, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	before = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	expect_eq(run_out(f, len, out, &out_len), XDP_PASS); /* empty slot */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	after = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

	/* data_out begins at data_meta: the metadata, then the frame. */
	assert_eq(out_len, sizeof(m) + len);
	memcpy(&m, out, sizeof(m));
	expect_eq(m.flags & XFRAG_META_MAGIC_MASK, XFRAG_META_MAGIC);
	expect_true(m.flags & XFRAG_META_F_TS);
	expect_true(!(m.flags & XFRAG_META_F_HASH));
	expect_eq(m.rx_hash, 0);
	expect_true(m.xdp_ts_ns >= before && m.xdp_ts_ns <= after);
	expect_eq(memcmp(out + sizeof(m), f, len), 0);
	expect_eq(counters().meta_failed, 0);

	/* Not in DROP mode, nor for frames the filter does not take. */
	configure(XFRAG_RX_REDIRECT, XFRAG_RX_F_META, 0, 0, IPPROTO_TCP, 0, 0);
	out_len = sizeof(out);
	expect_eq(run_out(f, len, out, &out_len), XDP_PASS);
	expect_eq(out_len, len);
}

TEST(library_rejects_bad_input)
{
	/* No interface is touched: the options are refused first. */
	XFRAG_OPTS(xfrag_xdp_filter, bad_ver, .ip_version = 5);
	XFRAG_OPTS(xfrag_xdp_filter, bad_range, .port_lo = 10, .port_hi = 5);
	XFRAG_OPTS(xfrag_xdp_filter, bad_mix, .ethertype = 0x86dd, .ip_version = 4);
	XFRAG_OPTS(xfrag_xdp_opts, o, .ifname = "lo");
	XFRAG_OPTS(xfrag_xdp_opts, nodev, .ifname = "xfrag-no-such0");

	xfrag_log_fn old = xfrag_set_log(NULL, XFRAG_LOG_ERROR);

	o.filter = &bad_ver;
	errno = 0;
	expect_true(!xfrag_xdp__attach(&o));
	expect_eq(errno, EINVAL);
	o.filter = &bad_range;
	expect_true(!xfrag_xdp__attach(&o));
	expect_eq(errno, EINVAL);
	o.filter = &bad_mix;
	expect_true(!xfrag_xdp__attach(&o));
	expect_eq(errno, EINVAL);
	o.filter = NULL;
	o.mode = (enum xfrag_xdp_mode)7;
	expect_true(!xfrag_xdp__attach(&o));
	expect_eq(errno, EINVAL);
	expect_true(!xfrag_xdp__attach(NULL));
	expect_eq(errno, EINVAL);
	expect_true(!xfrag_xdp__attach(&nodev));
	expect_eq(errno, ENODEV);
	expect_eq(xfrag_xdp__detach_stale("xfrag-no-such0"), -ENODEV);
	xfrag_xdp__detach(NULL);
	xfrag_set_log(old, XFRAG_LOG_WARN);
}

TEST_MAIN(T(parse_runts), T(parse_truncations), T(udp4_port_filter), T(malformed_frames), T(match_all_takes_malformed),
	  T(drop_mode), T(pass_mode), T(tcp_and_ipv6_filters), T(ethertype_filter),
	  T(redirect_to_socket), T(metadata),
	  T(library_rejects_bad_input))
