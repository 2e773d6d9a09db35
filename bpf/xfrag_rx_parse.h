/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The frame classifier of xfrag_rx, in a header so that the unit tests can
 * also build it for the host: the kernel refuses frames shorter than
 * ETH_HLEN in BPF_PROG_TEST_RUN (and in adjust_head/adjust_tail), so the
 * runt paths can only be exercised that way. In the BPF build the verifier
 * proves every access below is bounds-checked.
 *
 * Include <linux/if_ether.h>, <linux/in.h> (or <netinet/in.h>), <linux/ip.h>,
 * <linux/ipv6.h>, <linux/tcp.h>, <linux/udp.h>, <bpf/bpf_endian.h> and
 * xfrag_rx.h first.
 */
#ifndef XFRAG_RX_PARSE_H
#define XFRAG_RX_PARSE_H

#include <stdbool.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifdef __clang__
#define XFRAG_UNROLL _Pragma("unroll")
#else
#define XFRAG_UNROLL
#endif
#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#define XFRAG_IP_FRAG_OFFSET 0x1fff
#define XFRAG_IPV6_EXT_MAX 4 /* extension headers skipped before giving up on L4 */
#define XFRAG_VLAN_MAX 2     /* 802.1ad outer + 802.1Q inner */

struct xfrag_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct xfrag_ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen; /* in 8-byte units, not counting the first 8 */
	__be16 frag_off; /* fragment header only */
	__be32 pad;
};

struct xfrag_rx_pkt {
	__u16 ethertype; /* host order, after VLAN tags */
	__u8 ip_version;
	__u8 l4_proto;
	__u16 dport; /* host order; valid if has_ports */
	__u8 has_ports;
};

/* Return 0 if the headers we looked at are complete and valid, else -1. */
static __always_inline int xfrag_rx_parse(__u8 *data, __u8 *end,
					  struct xfrag_rx_pkt *p)
{
	struct ethhdr *eth = (struct ethhdr *)data;
	__u8 *pos, *l4;
	__be16 proto;
	__u8 nexthdr;
	int i;

	if ((__u8 *)(eth + 1) > end)
		return -1;
	proto = eth->h_proto;
	pos = (__u8 *)(eth + 1);

	XFRAG_UNROLL
	for (i = 0; i < XFRAG_VLAN_MAX; i++) {
		struct xfrag_vlan_hdr *vh = (struct xfrag_vlan_hdr *)pos;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((__u8 *)(vh + 1) > end)
			return -1;
		proto = vh->proto;
		pos = (__u8 *)(vh + 1);
	}
	p->ethertype = bpf_ntohs(proto);

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (struct iphdr *)pos;
		__u32 hl;

		if ((__u8 *)(iph + 1) > end)
			return -1;
		if (iph->version != 4 || iph->ihl < 5)
			return -1;
		hl = iph->ihl * 4;
		if (pos + hl > end)
			return -1;
		p->ip_version = 4;
		p->l4_proto = iph->protocol;
		/* A non-first fragment carries no L4 header: no ports. */
		if (iph->frag_off & bpf_htons(XFRAG_IP_FRAG_OFFSET))
			return 0;
		l4 = pos + hl;
		nexthdr = iph->protocol;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)pos;

		if ((__u8 *)(ip6 + 1) > end)
			return -1;
		if (ip6->version != 6)
			return -1;
		p->ip_version = 6;
		nexthdr = ip6->nexthdr;
		l4 = (__u8 *)(ip6 + 1);

	XFRAG_UNROLL
		for (i = 0; i < XFRAG_IPV6_EXT_MAX; i++) {
			struct xfrag_ipv6_ext *x = (struct xfrag_ipv6_ext *)l4;

			if (nexthdr != IPPROTO_HOPOPTS &&
			    nexthdr != IPPROTO_ROUTING &&
			    nexthdr != IPPROTO_DSTOPTS &&
			    nexthdr != IPPROTO_FRAGMENT)
				break;
			if ((__u8 *)(x + 1) > end)
				return -1;
			if (nexthdr == IPPROTO_FRAGMENT &&
			    (x->frag_off & bpf_htons(0xfff8))) {
				/* non-first fragment: no L4 header */
				p->l4_proto = x->nexthdr;
				return 0;
			}
			/* The fragment header's length byte is reserved: 8. */
			l4 += nexthdr == IPPROTO_FRAGMENT ? 8 :
							    (x->hdrlen + 1) * 8;
			nexthdr = x->nexthdr;
		}
		p->l4_proto = nexthdr;
	} else {
		return 0; /* not IP: nothing more to check */
	}

	if (nexthdr == IPPROTO_UDP) {
		struct udphdr *udp = (struct udphdr *)l4;

		if ((__u8 *)(udp + 1) > end)
			return -1;
		p->dport = bpf_ntohs(udp->dest);
		p->has_ports = 1;
	} else if (nexthdr == IPPROTO_TCP) {
		struct tcphdr *tcp = (struct tcphdr *)l4;

		if ((__u8 *)(tcp + 1) > end)
			return -1;
		p->dport = bpf_ntohs(tcp->dest);
		p->has_ports = 1;
	}
	return 0;
}

static __always_inline bool
xfrag_rx_match(const struct xfrag_rx_pkt *p, const volatile struct xfrag_rx_cfg *cfg)
{
	__u16 ethertype = cfg->ethertype, lo = cfg->port_lo, hi = cfg->port_hi;
	__u8 ip_version = cfg->ip_version, l4 = cfg->l4_proto;

	if (ethertype && p->ethertype != ethertype)
		return false;
	if (ip_version && p->ip_version != ip_version)
		return false;
	if (l4 && p->l4_proto != l4)
		return false;
	if (hi && (!p->has_ports || p->dport < lo || p->dport > hi))
		return false;
	return true;
}

#endif
