// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz the XDP program's frame classifier (bpf/xfrag_rx_parse.h), built for
 * the host. Each input is copied into a buffer that ends exactly at its
 * length, so any read past the frame is an ASan heap overflow; 2 bytes in
 * (NET_IP_ALIGN) so UBSan sees drivers' alignment. Checks that a frame the
 * parser calls well formed has self-consistent results.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>

#include "xfrag_rx.h"
#include "xfrag_rx_parse.h"

/* Valid headers to start from, so random inputs reach L3/L4 parsing. */
static const uint8_t tmpl_v4[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, 0x00, 0x05, /* VLAN */
	0x08, 0x00, 0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 17, 0, 0,
	198, 18, 0, 2, 198, 18, 0, 1, 0x27, 0x10, 0x23, 0x83, 0, 40, 0, 0,
};
static const uint8_t tmpl_v6[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd,
	0x60, 0, 0, 0, 0, 8, 0, 64, /* next header 0: hop-by-hop */
	0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	17, 0, 0, 0, 0, 0, 0, 0, /* hop-by-hop -> UDP */
	0x27, 0x10, 0x23, 0x83, 0, 8, 0, 0,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xfrag_rx_pkt p;
	uint8_t *buf;
	int ret;

	/*
	 * Byte 0 picks raw bytes, or a template XOR-ed with the rest and cut
	 * to a length byte 1 chooses (every truncation point is a case).
	 */
	if (size >= 2 && (data[0] & 3)) {
		const uint8_t *t = (data[0] & 3) == 1 ? tmpl_v4 : tmpl_v6;
		size_t tl = (data[0] & 3) == 1 ? sizeof(tmpl_v4) : sizeof(tmpl_v6);
		size_t n = data[1] % (tl + 16), i;
		uint8_t frame[256];

		for (i = 0; i < n; i++)
			frame[i] = (i < tl ? t[i] : 0) ^ (i + 2 < size && (data[0] & 4) ? data[i + 2] : 0);
		if (!(data[0] & 4) && size > 3)
			frame[data[2] % (n ? n : 1)] ^= data[3];
		buf = malloc(n + 2);
		if (!buf)
			abort();
		memcpy(buf + 2, frame, n);
		size = n;
	} else {
		buf = malloc(size + 2);
		if (!buf)
			abort();
		memcpy(buf + 2, data, size);
	}
	memset(&p, 0, sizeof(p));
	ret = xfrag_rx_parse(buf + 2, buf + 2 + size, &p);
	if (ret == 0) {
		/* Well formed: at least an Ethernet header, and ports only
		 * for UDP/TCP on IPv4/IPv6. */
		if (size < ETH_HLEN)
			abort();
		if (p.has_ports && p.l4_proto != IPPROTO_UDP && p.l4_proto != IPPROTO_TCP)
			abort();
		if (p.ip_version && p.ip_version != 4 && p.ip_version != 6)
			abort();
	} else if (ret != -1) {
		abort();
	}
	free(buf);
	return 0;
}
