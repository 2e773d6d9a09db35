// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * frame-craft: send hand-made frames out of an interface with AF_PACKET and
 * write the same frames to a reference pcap file, so that a capture of
 * them can be compared byte for byte (tests/integration/test_capture.sh).
 *
 *   frame-craft IFACE DST_MAC REF.pcap SPEC...
 *
 * SPEC is KIND:LEN, LEN the frame's bytes without FCS:
 *   ipv4:LEN  Ethernet / IPv4 / UDP to port 9091, LEN >= 42
 *   ipv6:LEN  Ethernet / IPv6 / UDP to port 9091, LEN >= 62
 *   vlan:LEN  Ethernet / 802.1Q (VID 7) / IPv4 / UDP, LEN >= 46
 *   qinq:LEN  Ethernet / 802.1ad / 802.1Q / IPv4 / UDP, LEN >= 50
 *   raw:LEN   Ethernet (type 0x88b5, local experimental) and a pattern,
 *             LEN 14..; the short frames a capture must keep as they are
 *   raw:A-B   one raw frame of each length A..B
 * The payload of frame i is a pattern of i and the offset: no two alike.
 * Prints "sent N frames, B bytes".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FRAME 9216

static uint8_t dst[6], src[6];

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet header and tags; returns the offset of the L3 header. */
static size_t eth(uint8_t *f, const char *kind, uint16_t type)
{
	size_t off = 12;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (!strcmp(kind, "qinq")) {
		put16(f + off, 0x88a8);
		put16(f + off + 2, 3);
		off += 4;
	}
	if (!strcmp(kind, "vlan") || !strcmp(kind, "qinq")) {
		put16(f + off, 0x8100);
		put16(f + off + 2, 7);
		off += 4;
	}
	put16(f + off, type);
	return off + 2;
}

/* One frame of @len bytes into @f; 0 if @len is too short for @kind. */
static size_t build(uint8_t *f, const char *kind, size_t len, unsigned int idx)
{
	size_t l3, l4, i;

	for (i = 0; i < len; i++)
		f[i] = (uint8_t)(idx * 31 + i * 7 + (i >> 8));
	if (!strcmp(kind, "raw")) {
		if (len < 14)
			return 0;
		eth(f, kind, 0x88b5);
		return len;
	}
	if (!strcmp(kind, "ipv6")) {
		l3 = eth(f, kind, 0x86dd);
		if (len < l3 + 48)
			return 0;
		f[l3] = 0x60;
		f[l3 + 1] = f[l3 + 2] = f[l3 + 3] = 0;
		put16(f + l3 + 4, (uint16_t)(len - l3 - 40)); /* payload length */
		f[l3 + 6] = 17; /* UDP */
		f[l3 + 7] = 64;
		memset(f + l3 + 8, 0, 32);
		f[l3 + 8] = 0xfd; /* fd00::2 -> fd00::1 */
		f[l3 + 23] = 2;
		f[l3 + 24] = 0xfd;
		f[l3 + 39] = 1;
		l4 = l3 + 40;
	} else if (!strcmp(kind, "ipv4") || !strcmp(kind, "vlan") || !strcmp(kind, "qinq")) {
		l3 = eth(f, kind, 0x0800);
		if (len < l3 + 28)
			return 0;
		f[l3] = 0x45;
		f[l3 + 1] = 0;
		put16(f + l3 + 2, (uint16_t)(len - l3));
		put16(f + l3 + 4, (uint16_t)idx);
		put16(f + l3 + 6, 0x4000);
		f[l3 + 8] = 64;
		f[l3 + 9] = 17;
		put16(f + l3 + 10, 0);
		f[l3 + 12] = 198, f[l3 + 13] = 18, f[l3 + 14] = 0, f[l3 + 15] = 2;
		f[l3 + 16] = 198, f[l3 + 17] = 18, f[l3 + 18] = 0, f[l3 + 19] = 1;
		put16(f + l3 + 10, ip_csum(f + l3, 20));
		l4 = l3 + 20;
	} else {
		return 0;
	}
	put16(f + l4, 10000);
	put16(f + l4 + 2, 9091);
	put16(f + l4 + 4, (uint16_t)(len - l4));
	put16(f + l4 + 6, 0); /* no checksum (IPv4); IPv6 receivers do not check here */
	return len;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t f[MAX_FRAME];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct pcap_pkthdr h = { 0 };
	unsigned long long bytes = 0;
	unsigned int n = 0;
	pcap_dumper_t *d;
	struct ifreq ifr;
	pcap_t *p;
	int fd, i;

	if (argc < 5 || parse_mac(argv[2], dst)) {
		fprintf(stderr, "usage: frame-craft IFACE DST_MAC REF.pcap KIND:LEN...\n");
		return 2;
	}
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "frame-craft: no interface '%s'\n", argv[1]);
		return 1;
	}
	memcpy(sll.sll_addr, dst, 6);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		fprintf(stderr, "frame-craft: AF_PACKET: %s\n", strerror(errno));
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (!ioctl(fd, SIOCGIFHWADDR, &ifr))
		memcpy(src, ifr.ifr_hwaddr.sa_data, 6);
	p = pcap_open_dead(DLT_EN10MB, 262144);
	d = p ? pcap_dump_open(p, argv[3]) : NULL;
	if (!d) {
		fprintf(stderr, "frame-craft: cannot write %s\n", argv[3]);
		return 1;
	}
	for (i = 4; i < argc; i++) {
		char kind[16];
		unsigned int a, b, len;

		if (sscanf(argv[i], "%15[a-z0-9]:%u-%u", kind, &a, &b) == 3) {
		} else if (sscanf(argv[i], "%15[a-z0-9]:%u", kind, &a) == 2) {
			b = a;
		} else {
			fprintf(stderr, "frame-craft: bad spec '%s'\n", argv[i]);
			return 2;
		}
		for (len = a; len <= b; len++) {
			if (len > MAX_FRAME || !build(f, kind, len, n)) {
				fprintf(stderr, "frame-craft: cannot build %s of %u bytes\n", kind, len);
				return 2;
			}
			if (sendto(fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)len) {
				fprintf(stderr, "frame-craft: send %s:%u: %s\n", kind, len, strerror(errno));
				return 1;
			}
			h.caplen = h.len = len;
			pcap_dump((u_char *)d, &h, f);
			bytes += len;
			n++;
			/* veth's peer ring holds 256 frames: let the receiver keep up */
			if (n % 64 == 0)
				usleep(2000);
		}
	}
	pcap_dump_close(d);
	pcap_close(p);
	close(fd);
	printf("sent %u frames, %llu bytes\n", n, bytes);
	return 0;
}
