// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The xfrag test frame: build, verify, checksum, size sequences. See frame.h. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define CSUM_SEED 0x9e3779b97f4a7c15ull
#define PATTERN_STEP 0x9e3779b97f4a7c15ull

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static inline void store_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* The pattern's first word: splitmix64 of seq, so neighbours differ. */
static inline uint64_t pattern_seed(uint64_t seq)
{
	uint64_t z = seq + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * a * odd + b * even: a single changed word (a += d, b += m * d) changes the
 * sum by d * (odd + m * even), never 0 mod 2^64. A bijective mixer (murmur3's
 * fmix64) then spreads that change over the 32 bits kept.
 */
static inline uint32_t csum_fold(uint64_t a, uint64_t b)
{
	uint64_t x = a * CSUM_SEED + b * 0xc2b2ae3d27d4eb4eull;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)x;
}

void frame_csum_init(struct frame_csum *c, size_t total_len)
{
	c->a = CSUM_SEED;
	c->b = total_len;
	c->pend = 0;
	c->npend = 0;
}

void frame_csum_update(struct frame_csum *c, const uint8_t *p, size_t n)
{
	uint64_t a = c->a, b = c->b;

	while (c->npend && n) {
		c->pend |= (uint64_t)*p++ << (8 * c->npend);
		n--;
		if (++c->npend == 8) {
			a += c->pend;
			b += a;
			c->pend = 0;
			c->npend = 0;
		}
	}
	for (; n >= 8; n -= 8, p += 8) {
		a += load_le64(p);
		b += a;
	}
	while (n--) {
		/* npend is 0 here whenever the word was left incomplete */
		c->pend |= (uint64_t)*p++ << (8 * c->npend);
		c->npend++;
	}
	c->a = a;
	c->b = b;
}

uint32_t frame_csum_final(struct frame_csum *c)
{
	if (c->npend) {
		c->a += c->pend;
		c->b += c->a;
		c->pend = 0;
		c->npend = 0;
	}
	return csum_fold(c->a, c->b);
}

uint32_t frame_csum(const uint8_t *p, size_t n)
{
	uint64_t a = CSUM_SEED, b = n, w;
	size_t r = n & 7;

	for (; n >= 8; n -= 8, p += 8) {
		a += load_le64(p);
		b += a;
	}
	if (r) {
		w = 0;
		memcpy(&w, p, r);
		a += le64toh(w);
		b += a;
	}
	return csum_fold(a, b);
}

static uint16_t ip_csum(const uint8_t *ip)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		sum += get16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void frame_params_init(struct frame_params *p)
{
	memset(p, 0, sizeof(*p));
	memset(p->dst_mac, 0xff, 6);
	p->src_ip = htobe32(0xc6120002); /* 198.18.0.2 */
	p->dst_ip = htobe32(0xc6120001); /* 198.18.0.1 */
	p->src_port = FRAME_SRC_PORT;
	p->dst_port = FRAME_DST_PORT;
}

size_t frame_build(uint8_t *buf, size_t len, const struct frame_params *p,
		   uint64_t seq, uint16_t flow)
{
	uint8_t *ip = buf + 14, *udp = buf + 34, *h = buf + FRAME_HDR_OFF;
	uint8_t *pl = buf + FRAME_PAYLOAD_OFF;
	size_t n, i, words, r;
	uint64_t a, b, w;

	if (len < FRAME_MIN_LEN || len > FRAME_MAX_LEN)
		return 0;
	n = len - FRAME_PAYLOAD_OFF;
	words = n / 8;
	r = n & 7;
	a = CSUM_SEED;
	b = n;
	w = pattern_seed(seq);
	memcpy(buf, p->dst_mac, 6);
	memcpy(buf + 6, p->src_mac, 6);
	put16(buf + 12, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(len - 14));
	put16(ip + 4, (uint16_t)seq); /* id */
	put16(ip + 6, 0x4000);        /* DF */
	ip[8] = 64;
	ip[9] = 17;
	put16(ip + 10, 0);
	memcpy(ip + 12, &p->src_ip, 4);
	memcpy(ip + 16, &p->dst_ip, 4);
	put16(ip + 10, ip_csum(ip));

	put16(udp, (uint16_t)(p->src_port + flow));
	put16(udp + 2, p->dst_port);
	put16(udp + 4, (uint16_t)(len - 34));
	put16(udp + 6, 0);

	/* Pattern and checksum in one pass: the frame is written once. */
	for (i = 0; i < words; i++, w += PATTERN_STEP) {
		store_le64(pl + 8 * i, w);
		a += w;
		b += a;
	}
	if (r) {
		uint64_t t = htole64(w);

		memcpy(pl + 8 * i, &t, r);
		a += w & ((1ull << (8 * r)) - 1);
		b += a;
	}

	put32(h, FRAME_MAGIC);
	put32(h + 4, (uint32_t)(seq >> 32));
	put32(h + 8, (uint32_t)seq);
	put16(h + 12, flow);
	put16(h + 14, (uint16_t)len);
	put32(h + 16, csum_fold(a, b));
	return len;
}

/* Checks everything up to the payload; @hdr holds the first 62 bytes. */
static int check_headers(const uint8_t *hdr, size_t len, uint64_t *seq,
			 uint16_t *flow, uint32_t *csum)
{
	const uint8_t *ip = hdr + 14, *h = hdr + FRAME_HDR_OFF;

	if (len < FRAME_MIN_LEN)
		return FRAME_E_SHORT;
	if (get16(hdr + 12) != 0x0800 || ip[0] != 0x45 || ip[9] != 17)
		return FRAME_E_PROTO;
	if (get32(h) != FRAME_MAGIC)
		return FRAME_E_MAGIC;
	if (get16(h + 14) != len || get16(ip + 2) != len - 14 ||
	    get16(hdr + 38) != len - 34)
		return FRAME_E_LEN;
	if (ip_csum(ip) != 0)
		return FRAME_E_IPCSUM;
	if (seq)
		*seq = (uint64_t)get32(h + 4) << 32 | get32(h + 8);
	if (flow)
		*flow = get16(h + 12);
	*csum = get32(h + 16);
	return FRAME_OK;
}

int frame_verify(const uint8_t *buf, size_t len, uint64_t *seq, uint16_t *flow)
{
	uint32_t csum;
	int err;

	if (len < FRAME_MIN_LEN)
		return FRAME_E_SHORT;
	err = check_headers(buf, len, seq, flow, &csum);
	if (err)
		return err;
	if (frame_csum(buf + FRAME_PAYLOAD_OFF, len - FRAME_PAYLOAD_OFF) != csum)
		return FRAME_E_CSUM;
	return FRAME_OK;
}

int frame_verify_segments(const struct iovec *segs, int nsegs, uint64_t *seq,
			  uint16_t *flow)
{
	uint8_t hdr[FRAME_PAYLOAD_OFF];
	struct frame_csum c;
	size_t len = 0, got = 0, off;
	uint32_t csum;
	int i, err;

	for (i = 0; i < nsegs; i++)
		len += segs[i].iov_len;
	if (len < FRAME_MIN_LEN)
		return FRAME_E_SHORT;
	/* The headers may themselves be split: gather them. */
	for (i = 0; i < nsegs && got < sizeof(hdr); i++) {
		size_t k = segs[i].iov_len;

		if (k > sizeof(hdr) - got)
			k = sizeof(hdr) - got;
		memcpy(hdr + got, segs[i].iov_base, k);
		got += k;
	}
	err = check_headers(hdr, len, seq, flow, &csum);
	if (err)
		return err;
	frame_csum_init(&c, len - FRAME_PAYLOAD_OFF);
	for (i = 0, off = 0; i < nsegs; off += segs[i].iov_len, i++) {
		const uint8_t *p = segs[i].iov_base;
		size_t n = segs[i].iov_len, skip = 0;

		if (off + n <= FRAME_PAYLOAD_OFF)
			continue;
		if (off < FRAME_PAYLOAD_OFF)
			skip = FRAME_PAYLOAD_OFF - off;
		frame_csum_update(&c, p + skip, n - skip);
	}
	if (frame_csum_final(&c) != csum)
		return FRAME_E_CSUM;
	return FRAME_OK;
}

const char *frame_strerror(int err)
{
	switch (err) {
	case FRAME_OK: return "ok";
	case FRAME_E_SHORT: return "frame too short";
	case FRAME_E_PROTO: return "not an IPv4/UDP test frame";
	case FRAME_E_MAGIC: return "bad magic";
	case FRAME_E_LEN: return "length mismatch";
	case FRAME_E_CSUM: return "payload checksum mismatch";
	case FRAME_E_IPCSUM: return "IPv4 header checksum mismatch";
	default: return "unknown error";
	}
}

int frame_sizes_parse(struct frame_sizes *s, const char *spec, char *err,
		      size_t errlen)
{
	/* 7 x 64, 4 x 594, 1 x 1518, spread over the cycle. */
	static const uint16_t imix[12] = { 64, 594, 64, 64, 594, 64,
					   1518, 64, 594, 64, 64, 594 };
	const char *p = spec;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	if (!spec || !*spec) {
		snprintf(err, errlen, "empty size");
		return -1;
	}
	if (!strcmp(spec, "imix") || !strcmp(spec, "IMIX")) {
		memcpy(s->size, imix, sizeof(imix));
		s->n = 12;
		s->imix = 1;
	} else {
		while (*p) {
			char *end;
			unsigned long v;

			if (*p < '0' || *p > '9') {
				snprintf(err, errlen, "bad size '%s': want a number, 'imix' or a comma list", spec);
				return -1;
			}
			errno = 0;
			v = strtoul(p, &end, 10);
			if (errno || (*end && *end != ',') || end == p) {
				snprintf(err, errlen, "bad size '%s': want a number, 'imix' or a comma list", spec);
				return -1;
			}
			if (v < FRAME_MIN_LEN || v > FRAME_MAX_LEN) {
				snprintf(err, errlen, "size %lu out of range: frames are %d..%d bytes (without FCS; %d holds the test header)",
					 v, FRAME_MIN_LEN, FRAME_MAX_LEN, FRAME_MIN_LEN);
				return -1;
			}
			if (s->n == FRAME_SIZES_MAX) {
				snprintf(err, errlen, "too many sizes (at most %d)", FRAME_SIZES_MAX);
				return -1;
			}
			s->size[s->n++] = (uint16_t)v;
			p = end;
			if (*p == ',' && !*++p) {
				snprintf(err, errlen, "bad size '%s': trailing comma", spec);
				return -1;
			}
		}
	}
	s->min = UINT16_MAX;
	for (i = 0; i < s->n; i++) {
		if (s->size[i] < s->min)
			s->min = s->size[i];
		if (s->size[i] > s->max)
			s->max = s->size[i];
	}
	return 0;
}

void frame_sizes_clamp(struct frame_sizes *s, uint16_t max)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->size[i] > max)
			s->size[i] = max;
	if (s->max > max)
		s->max = max;
	if (s->min > max)
		s->min = max;
}

double frame_sizes_mean(const struct frame_sizes *s)
{
	double sum = 0;
	unsigned int i;

	for (i = 0; i < s->n; i++)
		sum += s->size[i];
	return s->n ? sum / s->n : 0;
}
