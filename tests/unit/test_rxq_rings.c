// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The rx queue's multi-buffer ring logic on rings the test fills itself
 * (issue 9, item 6), through the AF_XDP double in copy mode: chains
 * delivered whole, frames split across recv calls (one chain per call, a
 * chain cut by the peek window), and frames longer than the peek window dropped and counted
 * instead of wedging the RX ring. After each test every chunk is
 * accounted for: the ledger matches what the kernel side holds, and every
 * block is back in the pool.
 */
#include "zc_env.h"

static const struct xdbl_dev copy_dev = { .name = "cp0", .rx_queues = 1 };

static struct xfrag_rxq *mb_queue(struct env *e)
{
	struct xfrag_rxq_opts o = env_qopts(e, 0);
	struct xfrag_rxq *q;

	o.multi_buffer = true;
	o.bind_mode = XFRAG_BIND_COPY;
	q = xfrag_rxq__create(e->u, NULL, &o);
	assert_true(q);
	assert_eq(rxq_stats(q).multi_buffer, 1);
	return q;
}

/* Byte @k of chain @tag. */
static uint8_t chain_byte(uint32_t tag, uint32_t k)
{
	return (uint8_t)(k * 13 + tag * 7 + 1);
}

/* Descriptors for a chain of @nseg segments of @seglen bytes (the last
 * @last bytes), CONTD on all but the last unless @open. */
static void chain_descs(struct xdbl_desc *ds, uint8_t *buf, uint32_t tag,
			uint32_t nseg, uint32_t seglen, uint32_t last, bool open)
{
	uint32_t i, k, total = (nseg - 1) * seglen + last;

	for (k = 0; k < total; k++)
		buf[k] = chain_byte(tag, k);
	for (i = 0; i < nseg; i++) {
		ds[i].data = buf + i * seglen;
		ds[i].len = i + 1 < nseg ? seglen : last;
		ds[i].options = i + 1 < nseg || open ? XDP_PKT_CONTD : 0;
	}
}

/* The packet is chain @tag of @len bytes, in @nseg segments, byte for byte. */
static bool chain_ok(struct env *e, const struct xfrag_pkt *pk, uint32_t tag,
		     uint32_t nseg, uint32_t len)
{
	uint32_t i, k = 0, sl, j;

	if (pk->nsegs != nseg || pk->len != len)
		return false;
	for (i = 0; i < nseg; i++) {
		const uint8_t *p = xfrag_pkt__seg(e->u, pk, i, &sl);

		if (!p)
			return false;
		for (j = 0; j < sl; j++, k++)
			if (p[j] != chain_byte(tag, k))
				return false;
	}
	return k == len;
}

/* The ledger: every chunk the queue posted and has not seen back is on the
 * fill ring, on the RX ring, or parked by the kernel. */
static void expect_ledger(struct env *e, struct xfrag_rxq *q)
{
	struct xdbl_queue_info qi = env_qinfo(e, 0);

	expect_eq(rxq_stats(q).kernel_chunks, qi.fill_level + qi.rx_level + qi.parked + qi.hw_rx);
}

static void finish(struct env *e, struct xfrag_rxq *q)
{
	expect_ledger(e, q);
	xfrag_rxq__destroy(q);
	/* Copy mode: every chunk comes back at destroy. */
	expect_eq(env_xsk(e).quarantined, 0);
	env_down(e);
}

TEST(chain_delivered_intact)
{
	static uint8_t frame[5000];
	struct xfrag_pkt pk[64];
	struct xfrag_rxq *q;
	struct env e;
	uint32_t k;

	env_up(&e, &copy_dev, 4 << 20, false);
	q = mb_queue(&e);
	for (k = 0; k < sizeof(frame); k++)
		frame[k] = chain_byte(9, k);
	/* 1792 data bytes per 2048-byte chunk: three segments. */
	assert_eq(xdbl_rx(e.d, e.ifindex, 0, frame, sizeof(frame)), 0);
	expect_ledger(&e, q);
	assert_eq(xfrag_rxq__recv(q, pk, 64), 1);
	expect_true(chain_ok(&e, &pk[0], 9, 3, sizeof(frame)));
	expect_eq(rxq_stats(q).chains, 1);
	xfrag_rxq__release(q, pk, 1);
	finish(&e, q);
}

TEST(long_frame_dropped_not_wedged)
{
	static uint8_t buf[64 * 1024], small[FRAME_MAX];
	struct xdbl_desc ds[48];
	struct xfrag_rxq_stats st;
	struct xfrag_pkt pk[1];
	struct xfrag_rxq *q;
	uint32_t calls, got = 0, i;
	struct env e;
	uint64_t seq;

	env_up(&e, &copy_dev, 4 << 20, false);
	q = mb_queue(&e);
	/* 40 descriptors: more than max (1) + XFRAG_CHAIN_MAX_SEGS (32). */
	chain_descs(ds, buf, 1, 40, 1000, 1000, false);
	assert_eq(xdbl_rx_raw(e.d, xfrag_rxq__fd(q), ds, 40), 40);
	/* Then an ordinary frame behind it. */
	ds[0].data = small;
	ds[0].len = make_frame(small, 0, 77);
	ds[0].options = 0;
	assert_eq(xdbl_rx_raw(e.d, xfrag_rxq__fd(q), ds, 1), 1);
	expect_ledger(&e, q);
	/* The peek window is 33 descriptors: two calls get past the frame. */
	for (calls = 0; calls < 8 && !got; calls++) {
		int n = xfrag_rxq__recv(q, pk, 1);

		assert_true(n >= 0);
		got = (uint32_t)n;
		expect_ledger(&e, q);
	}
	assert_eq(got, 1);
	expect_true(frame_ok(pk[0].data, pk[0].len, 0, &seq) && seq == 77);
	xfrag_rxq__release(q, pk, 1);
	st = rxq_stats(q);
	expect_eq(st.chain_drops, 1);
	expect_eq(st.rx_packets, 1);
	expect_eq(env_qinfo(&e, 0).rx_level, 0);
	/* Not wedged: the ring keeps delivering. */
	for (i = 0; i < 5; i++) {
		make_frame(buf, 0, 100 + i);
		assert_eq(xdbl_rx(e.d, e.ifindex, 0, buf, frame_len_for(100 + i)), 0);
		assert_eq(xfrag_rxq__recv(q, pk, 1), 1);
		expect_true(frame_ok(pk[0].data, pk[0].len, 0, &seq) && seq == 100 + i);
		xfrag_rxq__release(q, pk, 1);
	}
	finish(&e, q);
}

/* With max 1 the window is 33: 32 segments are a chain, 33 too many to
 * describe (dropped whole), 34 longer than the window (dropped over calls). */
TEST(chain_length_boundaries)
{
	static uint8_t buf[3][48 * 1000];
	static const uint32_t nseg[3] = { 32, 33, 34 };
	struct xdbl_desc ds[48];
	struct xfrag_pkt pk[1];
	struct xfrag_rxq *q;
	uint32_t f, calls, got = 0;
	struct env e;

	env_up(&e, &copy_dev, 4 << 20, false);
	q = mb_queue(&e);
	for (f = 0; f < 3; f++) {
		chain_descs(ds, buf[f], f, nseg[f], 1000, 500, false);
		assert_eq(xdbl_rx_raw(e.d, xfrag_rxq__fd(q), ds, nseg[f]), (int)nseg[f]);
	}
	for (calls = 0; calls < 12; calls++) {
		int n = xfrag_rxq__recv(q, pk, 1);

		assert_true(n >= 0);
		if (n) {
			expect_true(chain_ok(&e, &pk[0], 0, 32, 31 * 1000 + 500));
			xfrag_rxq__release(q, pk, 1);
			got++;
		}
	}
	expect_eq(got, 1);
	expect_eq(rxq_stats(q).chain_drops, 2);
	expect_eq(env_qinfo(&e, 0).rx_level, 0);
	finish(&e, q);
}

/*
 * Frames split across calls: four 5-segment chains and max 1. Each call
 * peeks past the chain it returns and gives the rest back (cancel); the
 * next call starts at the next chain. And the double, like the kernel,
 * never publishes half a chain.
 */
TEST(one_chain_per_call)
{
	static uint8_t buf[4][5 * 1000];
	struct xdbl_desc ds[20];
	struct xfrag_pkt pk[1];
	struct xfrag_rxq *q;
	uint32_t f;
	struct env e;

	env_up(&e, &copy_dev, 4 << 20, false);
	q = mb_queue(&e);
	chain_descs(ds, buf[0], 3, 5, 1000, 700, true);
	expect_eq(xdbl_rx_raw(e.d, xfrag_rxq__fd(q), ds, 5), -EINVAL);
	for (f = 0; f < 4; f++)
		chain_descs(ds + 5 * f, buf[f], 20 + f, 5, 1000, 700, false);
	assert_eq(xdbl_rx_raw(e.d, xfrag_rxq__fd(q), ds, 20), 20);
	for (f = 0; f < 4; f++) {
		assert_eq(xfrag_rxq__recv(q, pk, 1), 1);
		expect_true(chain_ok(&e, &pk[0], 20 + f, 5, 4 * 1000 + 700));
		xfrag_rxq__release(q, pk, 1);
		expect_eq(env_qinfo(&e, 0).rx_level, 15 - 5 * f);
		expect_ledger(&e, q);
	}
	expect_eq(xfrag_rxq__recv(q, pk, 1), 0);
	expect_eq(rxq_stats(q).chain_drops, 0);
	finish(&e, q);
}

/* Three 20-segment chains and a window of 34: the second straddles the
 * window's end, so the call stops after the first; the next calls pick it
 * up whole. */
TEST(chains_straddle_the_window)
{
	static uint8_t buf[3][20 * 900];
	struct xdbl_desc ds[60];
	struct xfrag_pkt pk[2];
	struct xfrag_rxq *q;
	uint32_t f, calls, got = 0;
	struct env e;

	env_up(&e, &copy_dev, 4 << 20, false);
	q = mb_queue(&e);
	for (f = 0; f < 3; f++)
		chain_descs(ds + 20 * f, buf[f], 10 + f, 20, 900, 333, false);
	assert_eq(xdbl_rx_raw(e.d, xfrag_rxq__fd(q), ds, 60), 60);
	for (calls = 0; calls < 10 && got < 3; calls++) {
		int n = xfrag_rxq__recv(q, pk, 2), i;

		assert_true(n >= 0 && n <= 2);
		for (i = 0; i < n; i++, got++)
			expect_true(chain_ok(&e, &pk[i], 10 + got, 20, 19 * 900 + 333));
		xfrag_rxq__release(q, pk, (unsigned int)n);
		expect_ledger(&e, q);
	}
	expect_eq(got, 3);
	expect_eq(rxq_stats(q).chain_drops, 0);
	finish(&e, q);
}

TEST_MAIN(T(chain_delivered_intact), T(long_frame_dropped_not_wedged),
	  T(chain_length_boundaries), T(one_chain_per_call),
	  T(chains_straddle_the_window))
