/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The xfrag test frame, shared by `xfrag-bench gen` (which builds it) and
 * `xfrag-bench rx --workload touch` (which verifies it):
 *
 *   offset  0  Ethernet   dst, src, type 0x0800
 *          14  IPv4       20 bytes, no options, DF, TTL 64, header checksum
 *          34  UDP        src port = base + flow, dst port (9091), length,
 *                         checksum 0 (none, as IPv4 allows)
 *          42  test header, 20 bytes, big-endian:
 *                magic u32 ("XFRG"), seq u64, flow u16,
 *                len u16 (the whole frame's length), csum u32
 *          62  pattern    len - 62 bytes derived from seq (frame_fill)
 *
 * Frame lengths are the bytes handed to the device (no FCS), 62 .. 9216:
 * 62 is the smallest frame that holds the test header.
 *
 * csum is frame_csum() of the pattern bytes: a Fletcher-style pair of
 * 64-bit sums over the payload read as little-endian 64-bit words (the last
 * one zero-padded), no modular reduction,
 *	a = 0x9e3779b97f4a7c15, b = number of bytes
 *	for each word w: a += w, b += a
 *	x = a * 0x9e3779b97f4a7c15 + b * 0xc2b2ae3d27d4eb4e
 *	csum = (uint32_t)fmix64(x)          (murmur3's 64-bit finalizer)
 * About a cycle per 8 bytes, so verifying 1500-byte frames at line rate is
 * cheap. Any change confined to one 8-byte word changes x (a * odd + b *
 * even cannot cancel it); b makes the sum sensitive to word order.
 */
#ifndef XFRAG_BENCH_FRAME_H
#define XFRAG_BENCH_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define FRAME_MAGIC 0x58465247u /* "XFRG" */
#define FRAME_HDR_OFF 42        /* Ethernet + IPv4 + UDP */
#define FRAME_HDR_LEN 20
#define FRAME_PAYLOAD_OFF (FRAME_HDR_OFF + FRAME_HDR_LEN)
#define FRAME_MIN_LEN FRAME_PAYLOAD_OFF
#define FRAME_MAX_LEN 9216
#define FRAME_DST_PORT 9091
#define FRAME_SRC_PORT 10000

/* frame_verify() results */
enum {
	FRAME_OK = 0,
	FRAME_E_SHORT = -1,  /* shorter than a test frame's headers */
	FRAME_E_PROTO = -2,  /* not IPv4 / UDP with a 20-byte IP header */
	FRAME_E_MAGIC = -3,  /* no test header */
	FRAME_E_LEN = -4,    /* header, IP or UDP length != frame length */
	FRAME_E_CSUM = -5,   /* payload checksum mismatch: corrupt data */
	FRAME_E_IPCSUM = -6, /* IPv4 header checksum mismatch */
};

struct frame_params {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint32_t src_ip;   /* network byte order */
	uint32_t dst_ip;   /* network byte order */
	uint16_t src_port; /* flow f sends from src_port + f */
	uint16_t dst_port;
};

/* frame_params_init() - broadcast dst, zero src MAC, 198.18.0.2 -> .1, ports */
void frame_params_init(struct frame_params *p);

/**
 * frame_build() - write a test frame of @len bytes at @buf
 * @buf: room for @len bytes
 * @len: FRAME_MIN_LEN .. FRAME_MAX_LEN
 * @p: addresses and ports
 * @seq: sequence number; also seeds the payload pattern
 * @flow: flow number (UDP source port offset)
 *
 * Return: @len, or 0 if @len is out of range.
 */
size_t frame_build(uint8_t *buf, size_t len, const struct frame_params *p,
		   uint64_t seq, uint16_t flow);

/**
 * frame_verify() - check a received test frame
 * @buf: the frame, from its Ethernet header
 * @len: its length
 * @seq: receives the sequence number (may be NULL)
 * @flow: receives the flow (may be NULL)
 *
 * Return: FRAME_OK (0) or a negative FRAME_E_* code.
 */
int frame_verify(const uint8_t *buf, size_t len, uint64_t *seq, uint16_t *flow);

/**
 * frame_verify_segments() - frame_verify() for a frame split across buffers
 * @segs: the buffers in order (a multi-buffer chain); any split is fine
 * @nsegs: their number
 * @seq: as for frame_verify()
 * @flow: as for frame_verify()
 */
int frame_verify_segments(const struct iovec *segs, int nsegs, uint64_t *seq,
			  uint16_t *flow);

/** frame_strerror() - a word for a FRAME_E_* code */
const char *frame_strerror(int err);

/* The payload checksum, streamed (for segments) or in one call. */
struct frame_csum {
	uint64_t a, b;
	uint64_t pend;      /* bytes of a word not yet complete */
	unsigned int npend;
};
void frame_csum_init(struct frame_csum *c, size_t total_len);
void frame_csum_update(struct frame_csum *c, const uint8_t *p, size_t n);
uint32_t frame_csum_final(struct frame_csum *c);
uint32_t frame_csum(const uint8_t *p, size_t n);

/*
 * A sequence of frame sizes, cycled: "64", "imix" (64, 594 and 1518 in the
 * proportion 7:4:1, interleaved over a 12-frame cycle), or a comma list
 * "64,1500,9000".
 */
#define FRAME_SIZES_MAX 64
struct frame_sizes {
	uint16_t size[FRAME_SIZES_MAX];
	unsigned int n, next;
	uint16_t min, max;
	int imix;
};

/**
 * frame_sizes_parse() - parse a --size argument
 * @s: filled in
 * @spec: "64", "imix" or "a,b,c"
 * @err: a message on failure
 * @errlen: its size
 *
 * Return: 0, or -1 with @err set (empty, not a number, out of
 * FRAME_MIN_LEN .. FRAME_MAX_LEN, too many entries).
 */
int frame_sizes_parse(struct frame_sizes *s, const char *spec, char *err,
		      size_t errlen);

/* Clamp every size to @max (e.g. imix's 1518 to a 1500 MTU's 1514). */
void frame_sizes_clamp(struct frame_sizes *s, uint16_t max);

static inline uint32_t frame_sizes_next(struct frame_sizes *s)
{
	uint32_t v = s->size[s->next];

	if (++s->next == s->n)
		s->next = 0;
	return v;
}

/* Average size over a cycle. */
double frame_sizes_mean(const struct frame_sizes *s);

#endif
