// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The rx queue's working set on the AF_XDP double: how many chunks it keeps
 * in the kernel's hands (fill_target), adapting to what the kernel eats
 * between refills, within [four NAPI polls (+ the driver's ring), fill ring].
 */
#include "zc_env.h"

#define FLOOR 512 /* eight NAPI polls of 64 */

static const struct xdbl_dev copy_dev = { .name = "cp0" };

/* Deliver @n frames to queue 0 (the kernel side), counting the ones taken. */
static uint32_t deliver(struct env *e, uint32_t n, uint64_t *seq)
{
	uint8_t buf[FRAME_MAX];
	uint32_t i, ok = 0;

	for (i = 0; i < n; i++) {
		uint32_t len = make_frame(buf, 0, *seq);

		if (!xdbl_rx(e->d, e->ifindex, 0, buf, len))
			ok++;
		++*seq;
	}
	return ok;
}

/* Take everything on the RX ring, verify and release it. */
static uint32_t drain(struct xfrag_rxq *q)
{
	struct xfrag_pkt pkts[64];
	uint32_t total = 0;
	int n, i;

	while ((n = xfrag_rxq__recv(q, pkts, 64)) > 0) {
		for (i = 0; i < n; i++) {
			uint64_t s;

			expect_true(frame_ok(pkts[i].data, pkts[i].len, 0, &s));
		}
		xfrag_rxq__release(q, pkts, (unsigned int)n);
		total += (uint32_t)n;
	}
	return total;
}

TEST(starts_full_and_shrinks_to_the_floor_when_calm)
{
	struct env e;
	struct xfrag_rxq_opts o;
	struct xfrag_rxq *q;
	struct xfrag_rxq_stats s;
	uint64_t seq = 0;
	int i;

	env_up(&e, &copy_dev, 16 << 20, false);
	o = env_qopts(&e, 0);
	o.fill_size = 2048;
	o.rx_size = 2048;
	q = xfrag_rxq__create(e.u, NULL, &o);
	assert_true(q);
	s = rxq_stats(q);
	/* A new queue posts its whole fill ring. */
	expect_eq(s.fill_target, 2048);
	expect_eq(s.kernel_chunks, 2048);
	expect_eq(s.fill_level, 2048);
	/* A receiver that keeps up: the kernel never eats far into the ring.
	 * About 18 steps of 1/8 and 64 refills each get to the floor. */
	for (i = 0; i < 8000 && rxq_stats(q).fill_target > FLOOR; i++) {
		expect_eq(deliver(&e, 32, &seq), 32);
		expect_eq(drain(q), 32);
	}
	/* ... and it stays there. */
	for (i = 0; i < 300; i++) {
		expect_eq(deliver(&e, 32, &seq), 32);
		expect_eq(drain(q), 32);
	}
	s = rxq_stats(q);
	expect_eq(s.fill_target, FLOOR);
	expect_true(s.kernel_chunks <= FLOOR);
	expect_eq(s.rx_dropped + s.rx_fill_ring_empty, 0);
	xfrag_rxq__destroy(q);
	env_down(&e);
}

TEST(grows_when_the_kernel_nearly_runs_dry)
{
	struct env e;
	struct xfrag_rxq_opts o;
	struct xfrag_rxq *q;
	struct xfrag_rxq_stats s;
	uint32_t t, want;
	uint64_t seq = 0;

	env_up(&e, &copy_dev, 16 << 20, false);
	o = env_qopts(&e, 0);
	o.fill_size = 1024;
	o.rx_size = 1024;
	o.fill_target = 0;
	q = xfrag_rxq__create(e.u, NULL, &o);
	assert_true(q);
	/* Calm first, down to the floor. */
	for (int i = 0; i < 8000 && rxq_stats(q).fill_target > FLOOR; i++) {
		expect_eq(deliver(&e, 32, &seq), 32);
		expect_eq(drain(q), 32);
	}
	expect_eq(rxq_stats(q).fill_target, FLOOR);
	/* A receiver that lags: the kernel takes all but a few entries. */
	for (want = 2 * FLOOR; want <= 2 * 1024; want *= 2) {
		t = rxq_stats(q).fill_target;
		expect_eq(deliver(&e, t - 8, &seq), t - 8);
		expect_eq(drain(q), t - 8);
		s = rxq_stats(q);
		expect_eq(s.fill_target, want > 1024 ? 1024 : want);
		expect_eq(s.kernel_chunks, s.fill_target);
	}
	/* Never beyond the fill ring. */
	expect_eq(rxq_stats(q).fill_target, 1024);
	expect_eq(rxq_stats(q).rx_dropped, 0);
	xfrag_rxq__destroy(q);
	env_down(&e);
}

TEST(a_fixed_target_stays)
{
	struct env e;
	struct xfrag_rxq_opts o;
	struct xfrag_rxq *q;
	uint64_t seq = 0;
	int i;

	env_up(&e, &copy_dev, 16 << 20, false);
	o = env_qopts(&e, 0);
	o.fill_size = 1024;
	o.rx_size = 1024;
	o.fill_target = 300;
	q = xfrag_rxq__create(e.u, NULL, &o);
	assert_true(q);
	expect_eq(rxq_stats(q).kernel_chunks, 300);
	for (i = 0; i < 100; i++) {
		deliver(&e, i % 2 ? 290 : 16, &seq);
		drain(q);
		expect_eq(rxq_stats(q).fill_target, 300);
	}
	expect_eq(rxq_stats(q).kernel_chunks, 300);
	xfrag_rxq__destroy(q);
	env_down(&e);
}

/* Zero-copy: the driver fills its own ring from the fill ring ahead of
 * traffic, so the floor counts that ring too. */
TEST(zero_copy_floor_includes_the_driver_ring)
{
	static const struct xdbl_dev zc = { .name = "zc0", .zerocopy = true,
					    .hw_ring = 64, .teardown_polls = 1 };
	struct env e;
	struct xfrag_rxq_opts o;
	struct xfrag_rxq *q;
	uint64_t seq = 0;
	int i;

	env_up(&e, &zc, 16 << 20, false);
	o = env_qopts(&e, 0);
	o.fill_size = 2048;
	o.rx_size = 2048;
	q = xfrag_rxq__create(e.u, NULL, &o);
	assert_true(q);
	expect_eq(rxq_stats(q).zerocopy, 1);
	expect_eq(rxq_stats(q).fill_target, 2048);
	/* Calm: down to the floor, which keeps the driver's ring full. */
	for (i = 0; i < 16000 && rxq_stats(q).fill_target > FLOOR + 64; i++) {
		xdbl_poll(e.d);
		deliver(&e, 16, &seq);
		drain(q);
	}
	for (i = 0; i < 300; i++) {
		xdbl_poll(e.d);
		deliver(&e, 16, &seq);
		drain(q);
	}
	expect_eq(rxq_stats(q).fill_target, FLOOR + 64);
	expect_eq(rxq_stats(q).rx_dropped, 0);
	xfrag_rxq__destroy(q);
	env_down(&e);
}

TEST_MAIN(T(starts_full_and_shrinks_to_the_floor_when_calm),
	  T(grows_when_the_kernel_nearly_runs_dry), T(a_fixed_target_stays),
	  T(zero_copy_floor_includes_the_driver_ring))
