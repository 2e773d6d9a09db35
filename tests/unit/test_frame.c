// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The test frame format (user/bench/frame.c): build, verify, corrupt, segments. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "test.h"

static const size_t sizes[] = { 62, 63, 64, 65, 69, 70, 71, 128, 594, 1500,
				1514, 1518, 4096, 9000, FRAME_MAX_LEN };

static struct frame_params params(void)
{
	struct frame_params p;
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x02 };

	frame_params_init(&p);
	memcpy(p.dst_mac, dst, 6);
	memcpy(p.src_mac, src, 6);
	return p;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

TEST(build_and_verify)
{
	struct frame_params p = params();
	static uint8_t buf[FRAME_MAX_LEN];
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t seq = 0;
		uint16_t flow = 0;
		size_t len = sizes[i];

		memset(buf, 0xa5, sizeof(buf));
		assert_eq(frame_build(buf, len, &p, 0x123456789abcull + i, (uint16_t)(7 + i)), len);
		expect_eq(frame_verify(buf, len, &seq, &flow), FRAME_OK);
		expect_eq(seq, 0x123456789abcull + i);
		expect_eq(flow, 7 + i);
		/* Headers as the wire wants them. */
		expect_eq(get16(buf + 12), 0x0800);
		expect_eq(get16(buf + 14 + 2), len - 14);
		expect_eq(get16(buf + 34), FRAME_SRC_PORT + 7 + i);
		expect_eq(get16(buf + 36), FRAME_DST_PORT);
		expect_eq(get16(buf + 38), len - 34);
		expect_true(!memcmp(buf, p.dst_mac, 6));
		/* Nothing written past the end. */
		if (len < sizeof(buf))
			expect_eq(buf[len], 0xa5);
	}
}

TEST(ipv4_header_checksum)
{
	struct frame_params p = params();
	uint8_t buf[128];
	uint32_t sum = 0;
	int i;

	p.src_ip = inet_addr("198.18.7.2");
	p.dst_ip = inet_addr("198.18.7.1");
	frame_build(buf, sizeof(buf), &p, 42, 0);
	for (i = 0; i < 20; i += 2)
		sum += get16(buf + 14 + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	expect_eq(sum, 0xffff);
	expect_true(!memcmp(buf + 26, &p.src_ip, 4));
	expect_true(!memcmp(buf + 30, &p.dst_ip, 4));
}

TEST(out_of_range)
{
	struct frame_params p = params();
	static uint8_t buf[FRAME_MAX_LEN + 1];

	expect_eq(frame_build(buf, 61, &p, 1, 0), 0);
	expect_eq(frame_build(buf, 0, &p, 1, 0), 0);
	expect_eq(frame_build(buf, FRAME_MAX_LEN + 1, &p, 1, 0), 0);
	expect_eq(frame_verify(buf, 20, NULL, NULL), FRAME_E_SHORT);
}

TEST(patterns_differ_by_seq)
{
	struct frame_params p = params();
	uint8_t a[256], b[256];

	frame_build(a, sizeof(a), &p, 1, 0);
	frame_build(b, sizeof(b), &p, 2, 0);
	expect_true(memcmp(a + FRAME_PAYLOAD_OFF, b + FRAME_PAYLOAD_OFF,
			   sizeof(a) - FRAME_PAYLOAD_OFF) != 0);
	/* Deterministic. */
	frame_build(b, sizeof(b), &p, 1, 0);
	expect_true(!memcmp(a, b, sizeof(a)));
}

TEST(corruption_detected)
{
	struct frame_params p = params();
	static uint8_t buf[9000];
	size_t len, off;

	/* Every single payload byte, flipped in several ways, in two sizes. */
	for (len = 64; len <= 1500; len += 1436) {
		frame_build(buf, len, &p, 99, 3);
		for (off = FRAME_PAYLOAD_OFF; off < len; off++) {
			static const uint8_t flips[] = { 0x01, 0x80, 0xff };
			unsigned int k;

			for (k = 0; k < sizeof(flips); k++) {
				buf[off] ^= flips[k];
				if (frame_verify(buf, len, NULL, NULL) != FRAME_E_CSUM)
					test_fail_(__FILE__, __LINE__, "len %zu: flip 0x%02x at %zu not detected",
						   len, flips[k], off);
				buf[off] ^= flips[k];
			}
		}
		expect_eq(frame_verify(buf, len, NULL, NULL), FRAME_OK);
	}

	len = 9000;
	frame_build(buf, len, &p, 5, 0);
	/* Two words swapped: the order-sensitive sum notices. */
	{
		uint8_t t[8];

		memcpy(t, buf + 100, 8);
		memcpy(buf + 100, buf + 108, 8);
		memcpy(buf + 108, t, 8);
		expect_eq(frame_verify(buf, len, NULL, NULL), FRAME_E_CSUM);
		memcpy(buf + 108, buf + 100, 8);
		memcpy(buf + 100, t, 8);
		expect_eq(frame_verify(buf, len, NULL, NULL), FRAME_OK);
	}
	/* Header fields. */
	buf[FRAME_HDR_OFF] ^= 1;
	expect_eq(frame_verify(buf, len, NULL, NULL), FRAME_E_MAGIC);
	buf[FRAME_HDR_OFF] ^= 1;
	expect_eq(frame_verify(buf, len - 1, NULL, NULL), FRAME_E_LEN);
	buf[FRAME_HDR_OFF + 16] ^= 0x10; /* the stored checksum */
	expect_eq(frame_verify(buf, len, NULL, NULL), FRAME_E_CSUM);
	buf[FRAME_HDR_OFF + 16] ^= 0x10;
	buf[14 + 8] ^= 1; /* TTL: the IP header checksum */
	expect_eq(frame_verify(buf, len, NULL, NULL), FRAME_E_IPCSUM);
	buf[14 + 8] ^= 1;
	buf[12] = 0x86;
	expect_eq(frame_verify(buf, len, NULL, NULL), FRAME_E_PROTO);
	buf[12] = 0x08;
	expect_eq(frame_verify(buf, len, NULL, NULL), FRAME_OK);
	expect_true(strcmp(frame_strerror(FRAME_E_CSUM), "ok") != 0);
}

/* Split @buf at the offsets in @cuts and verify the segments. */
static int verify_split(const uint8_t *buf, size_t len, const size_t *cuts,
			int ncuts, uint64_t *seq)
{
	struct iovec v[16];
	size_t prev = 0;
	int i, n = 0;

	for (i = 0; i < ncuts; i++) {
		v[n].iov_base = (void *)(buf + prev);
		v[n++].iov_len = cuts[i] - prev;
		prev = cuts[i];
	}
	v[n].iov_base = (void *)(buf + prev);
	v[n++].iov_len = len - prev;
	return frame_verify_segments(v, n, seq, NULL);
}

TEST(segments)
{
	struct frame_params p = params();
	static uint8_t buf[9014];
	uint64_t seq = 0;
	size_t c;

	/* A jumbo frame as three 4096-byte chunks would carry it. */
	frame_build(buf, 9014, &p, 77, 1);
	{
		static const size_t cuts[] = { 3840, 7936 };

		expect_eq(verify_split(buf, 9014, cuts, 2, &seq), FRAME_OK);
		expect_eq(seq, 77);
	}
	/* Odd splits, including inside the headers and empty segments. */
	{
		static const size_t cuts[] = { 1, 13, 13, 50, 62, 63, 70, 71, 4097, 9013 };

		expect_eq(verify_split(buf, 9014, cuts, 10, NULL), FRAME_OK);
	}
	/* Every two-way split of a small frame. */
	frame_build(buf, 100, &p, 3, 0);
	for (c = 0; c <= 100; c++)
		if (verify_split(buf, 100, &c, 1, NULL) != FRAME_OK)
			test_fail_(__FILE__, __LINE__, "split at %zu fails", c);
	/* Corruption in a later segment. */
	frame_build(buf, 9014, &p, 78, 1);
	buf[8000] ^= 4;
	{
		static const size_t cuts[] = { 3840, 7936 };

		expect_eq(verify_split(buf, 9014, cuts, 2, NULL), FRAME_E_CSUM);
	}
	buf[8000] ^= 4;
	{
		static const size_t cuts[] = { 3840 };

		expect_eq(verify_split(buf, 9013, cuts, 1, NULL), FRAME_E_LEN);
	}
}

TEST(streaming_checksum_matches)
{
	uint8_t data[300];
	struct frame_csum c;
	size_t i, a, b;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (a = 0; a <= 40; a++)
		for (b = a; b <= 60; b += 3) {
			frame_csum_init(&c, sizeof(data));
			frame_csum_update(&c, data, a);
			frame_csum_update(&c, data + a, b - a);
			frame_csum_update(&c, data + b, sizeof(data) - b);
			if (frame_csum_final(&c) != frame_csum(data, sizeof(data)))
				test_fail_(__FILE__, __LINE__, "split %zu/%zu differs", a, b);
		}
}

TEST(size_specs)
{
	struct frame_sizes s;
	char err[200];
	unsigned int i, n64 = 0, n594 = 0, n1518 = 0;

	assert_eq(frame_sizes_parse(&s, "64", err, sizeof(err)), 0);
	expect_eq(s.n, 1);
	expect_eq(frame_sizes_next(&s), 64);
	expect_eq(frame_sizes_next(&s), 64);

	assert_eq(frame_sizes_parse(&s, "64,1500,9000", err, sizeof(err)), 0);
	expect_eq(s.n, 3);
	expect_eq(s.min, 64);
	expect_eq(s.max, 9000);
	expect_eq(frame_sizes_next(&s), 64);
	expect_eq(frame_sizes_next(&s), 1500);
	expect_eq(frame_sizes_next(&s), 9000);
	expect_eq(frame_sizes_next(&s), 64);

	assert_eq(frame_sizes_parse(&s, "imix", err, sizeof(err)), 0);
	expect_eq(s.n, 12);
	for (i = 0; i < 120; i++) {
		uint32_t v = frame_sizes_next(&s);

		n64 += v == 64;
		n594 += v == 594;
		n1518 += v == 1518;
	}
	expect_eq(n64, 70);
	expect_eq(n594, 40);
	expect_eq(n1518, 10);
	expect_eq(s.max, 1518);
	frame_sizes_clamp(&s, 1514);
	expect_eq(s.max, 1514);
	expect_true(frame_sizes_mean(&s) > 361 && frame_sizes_mean(&s) < 362);

	expect_eq(frame_sizes_parse(&s, "", err, sizeof(err)), -1);
	expect_eq(frame_sizes_parse(&s, "61", err, sizeof(err)), -1);
	expect_true(strstr(err, "out of range") != NULL);
	expect_eq(frame_sizes_parse(&s, "9217", err, sizeof(err)), -1);
	expect_eq(frame_sizes_parse(&s, "64,", err, sizeof(err)), -1);
	expect_eq(frame_sizes_parse(&s, "64,,128", err, sizeof(err)), -1);
	expect_eq(frame_sizes_parse(&s, "abc", err, sizeof(err)), -1);
	expect_eq(frame_sizes_parse(&s, "-64", err, sizeof(err)), -1);
	expect_eq(frame_sizes_parse(&s, "64x", err, sizeof(err)), -1);
}

TEST_MAIN(T(build_and_verify), T(ipv4_header_checksum), T(out_of_range),
	  T(patterns_differ_by_seq), T(corruption_detected), T(segments),
	  T(streaming_checksum_matches), T(size_specs))
