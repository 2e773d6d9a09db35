/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Helpers for the unit tests on the AF_XDP double (tests/lib/xsk_double.h):
 * a UMEM routed through a fresh double with one device, self-checking
 * frames, and the end-of-test accounting every such test repeats.
 */
#ifndef XFRAG_ZC_ENV_H
#define XFRAG_ZC_ENV_H

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"
#include "test.h"
#include "xfrag/xfrag.h"
#include "xsk_double.h"

/* ------------------------------------------------------------ frames -- */

/*
 * A frame says which queue it was sent to and its sequence number; every
 * byte after the header is a function of both, so a scribble, a short copy
 * or a frame landing on the wrong queue all fail the check.
 */
#define FRAME_MAGIC 0x5846524du
#define FRAME_MAX 1500

struct frame_hdr {
	uint32_t magic;
	uint16_t queue;
	uint16_t len;
	uint64_t seq;
};

static inline uint32_t frame_len_for(uint64_t seq)
{
	return 64 + (uint32_t)(seq * 37 % (FRAME_MAX - 64));
}

static inline uint8_t frame_byte(uint32_t queue, uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31 + i * 7 + queue * 101);
}

static inline uint32_t make_frame(uint8_t *buf, uint32_t queue, uint64_t seq)
{
	uint32_t len = frame_len_for(seq), i;
	struct frame_hdr h = { FRAME_MAGIC, (uint16_t)queue, (uint16_t)len, seq };

	memcpy(buf, &h, sizeof(h));
	for (i = sizeof(h); i < len; i++)
		buf[i] = frame_byte(queue, seq, i);
	return len;
}

/* Intact and for @queue? Its sequence number in *seq. */
static inline bool frame_ok(const uint8_t *p, uint32_t len, uint32_t queue,
			    uint64_t *seq)
{
	struct frame_hdr h;
	uint32_t i;

	if (len < sizeof(h))
		return false;
	memcpy(&h, p, sizeof(h));
	if (h.magic != FRAME_MAGIC || h.queue != queue || h.len != len ||
	    frame_len_for(h.seq) != len)
		return false;
	for (i = sizeof(h); i < len; i++)
		if (p[i] != frame_byte(queue, h.seq, i))
			return false;
	*seq = h.seq;
	return true;
}

/* -------------------------------------------------------------- env -- */

struct env {
	struct xdbl *d;
	struct xfrag_umem *u;
	int ifindex;
};

/*
 * A fresh double with @dev, and a UMEM of @size bytes (64 KiB blocks, 4 KiB
 * pages) routed through it. @hugetlb pretends the UMEM is hugetlb-backed
 * on both sides: the double judges DMA contiguity per 2 MiB, and the
 * library's backing field says hugetlb (these machines reserve no
 * hugepages; the library reads nothing else from the backing).
 */
static inline void env_up(struct env *e, const struct xdbl_dev *dev,
			  uint64_t size, bool hugetlb)
{
	XFRAG_OPTS(xfrag_umem_opts, uo, .size = size, .hugepages = XFRAG_HUGE_NEVER);

	memset(e, 0, sizeof(*e));
	e->d = xdbl_new();
	assert_true(e->d);
	e->ifindex = xdbl_add_dev(e->d, dev);
	assert_true(e->ifindex > 0);
	e->u = xfrag_umem__create(&uo);
	assert_true(e->u);
	if (hugetlb) {
		xdbl_set_hugetlb(e->d, true);
		e->u->backing = XFRAG_BACKING_HUGETLB;
	}
	assert_eq(xdbl_attach(e->d, e->u), 0);
}

/* Queue options most tests use: 2048-byte chunks, 256-entry rings. */
static inline struct xfrag_rxq_opts env_qopts(const struct env *e, uint32_t qid)
{
	XFRAG_OPTS(xfrag_rxq_opts, o, .ifindex = e->ifindex, .queue_id = qid,
		   .frame_size = 2048, .fill_size = 256, .rx_size = 256);
	return o;
}

static inline uint32_t env_blocks_free(const struct env *e)
{
	struct xfrag_umem_stats s;

	xfrag_umem__stats(e->u, &s);
	return s.blocks_free;
}

static inline struct xfrag_umem_xsk_stats env_xsk(const struct env *e)
{
	XFRAG_OPTS(xfrag_umem_xsk_stats, s);

	xfrag_umem__xsk_stats(e->u, &s);
	return s;
}

static inline struct xfrag_rxq_stats rxq_stats(struct xfrag_rxq *q)
{
	XFRAG_OPTS(xfrag_rxq_stats, s);

	xfrag_rxq__stats(q, &s);
	return s;
}

static inline struct xdbl_queue_info env_qinfo(const struct env *e, uint32_t qid)
{
	struct xdbl_queue_info qi;

	xdbl_queue_info(e->d, e->ifindex, qid, &qi);
	return qi;
}

/* Every queue gone: after the double's teardown nothing stays in
 * quarantine, every block is in the pool, no socket or pool is left. */
static inline void env_down(struct env *e)
{
	struct xfrag_umem_stats us;
	struct xdbl_stats ds;

	xdbl_teardown(e->d, 0, 0);
	expect_eq(xfrag_umem__reclaim(e->u, 0), 0);
	xfrag_umem__stats(e->u, &us);
	expect_eq(us.blocks_free, us.nblocks);
	xdbl_stats(e->d, &ds);
	expect_eq(ds.sockets, 0);
	expect_eq(ds.pools, 0);
	expect_eq(ds.bad_calls, 0);
	xfrag_umem__destroy(e->u);
	xdbl_free(e->d);
}

/* ------------------------------------------------------- messages -- */

/* The library's last error or warning, for tests that check the text. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_last[512];

__attribute__((format(printf, 2, 0))) static inline void
log_capture(enum xfrag_log_level level, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (level <= XFRAG_LOG_WARN) {
		pthread_mutex_lock(&log_lock);
		memcpy(log_last, buf, sizeof(buf));
		pthread_mutex_unlock(&log_lock);
	}
	if (getenv("XFRAG_TEST_LOG"))
		fprintf(stderr, "xfrag: %s\n", buf);
}

static inline bool log_has(const char *s)
{
	bool r;

	pthread_mutex_lock(&log_lock);
	r = strstr(log_last, s) != NULL;
	pthread_mutex_unlock(&log_lock);
	return r;
}

static inline void log_reset(void)
{
	pthread_mutex_lock(&log_lock);
	log_last[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}

#endif
