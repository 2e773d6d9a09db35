// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The zero-copy chunk lifecycle (issue 10) on the AF_XDP double: a driver
 * that takes fill entries ahead of traffic into a hardware ring, keeps
 * them (and keeps writing into them) after the socket is closed until its
 * pool's teardown, and never gives them back through a ring. The library's
 * real socket, ring, ledger and quarantine code runs against it.
 */
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#include "zc_env.h"

#define BLOCK (64u << 10)

static struct xdbl_dev zc_dev(const char *name)
{
	struct xdbl_dev v = {
		.name = name,
		.rx_queues = 2,
		.zerocopy = true,
		.dma = XFRAG_DMA_DIRECT,
		.zc_max_segs = 8,
		.hw_ring = 64,
		.refill_batch = 16,
		.complete_batch = 16,
		.scribble = true,
	};

	return v;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct xfrag_rxq *make_rxq(struct env *e, uint32_t qid)
{
	struct xfrag_rxq_opts o = env_qopts(e, qid);

	return xfrag_rxq__create(e->u, NULL, &o);
}

static void pump(struct env *e, unsigned int polls)
{
	while (polls--)
		xdbl_poll(e->d);
}

static int send_frame(struct env *e, uint32_t queue, uint64_t seq)
{
	uint8_t buf[FRAME_MAX];
	uint32_t len = make_frame(buf, queue, seq);

	return xdbl_rx(e->d, e->ifindex, queue, buf, len);
}

/*
 * @count frames to @queue, received and checked on @q, in rounds: up to 16
 * sent, one driver poll (which scribbles what every zero-copy driver
 * holds, released ones included), then received. Frames arrive in order,
 * so any frame out of sequence, broken or missing is counted. Bounded in
 * rounds, not time. With @hold, the packets are kept there (up to @count)
 * instead of released: the queue's cache must then take fresh blocks from
 * the pool.
 */
static uint32_t traffic_hold(struct env *e, struct xfrag_rxq *q, uint32_t queue,
			     uint64_t *seq, uint32_t count, struct xfrag_pkt *hold)
{
	uint64_t expect = *seq;
	struct xfrag_pkt pk[64];
	uint32_t sent = 0, got = 0, bad = 0, round, i;

	for (round = 0; got < count && round < 8 * count + 64; round++) {
		for (i = 0; i < 16 && sent < count; i++) {
			if (send_frame(e, queue, *seq))
				break; /* no chunk or no room yet: the next round */
			(*seq)++;
			sent++;
		}
		xdbl_poll(e->d);
		for (;;) {
			int n = xfrag_rxq__recv(q, pk, 64), k; /* refills too */

			if (n <= 0)
				break;
			for (k = 0; k < n; k++) {
				uint64_t s;

				if (!frame_ok(pk[k].data, pk[k].len, queue, &s) || s != expect)
					bad++;
				expect++;
			}
			if (hold && got + (uint32_t)n <= count)
				memcpy(hold + got, pk, (size_t)n * sizeof(*pk));
			else
				xfrag_rxq__release(q, pk, (unsigned int)n);
			got += (uint32_t)n;
		}
	}
	return bad + (count - got);
}

static uint32_t traffic(struct env *e, struct xfrag_rxq *q, uint32_t queue,
			uint64_t *seq, uint32_t count)
{
	return traffic_hold(e, q, queue, seq, count, NULL);
}

/*
 * Take every block the pool will give, as whole-block frags through a
 * cache of the test's own, and count those that overlap a chunk a released
 * pool of the double still holds. Write @fill over all of them (someone
 * reusing the memory), then give them back.
 */
static uint32_t grab_all(struct env *e, uint8_t fill, uint32_t *nblocks)
{
	struct xfrag_cache *c = xfrag_cache__create(e->u, NULL);
	uint32_t n = 0, overlap = 0, i;
	uint64_t a[512];

	assert_true(c);
	while (n < 512 && !xfrag_cache__alloc(c, BLOCK, 0, &a[n]))
		n++;
	for (i = 0; i < n; i++) {
		overlap += xdbl_held(e->d, e->u, a[i], BLOCK);
		memset(xfrag_umem__ptr(e->u, a[i]), fill, BLOCK);
	}
	xfrag_umem__release_bulk(e->u, a, n);
	xfrag_cache__destroy(c);
	*nblocks = n;
	return overlap;
}

/* The ledger against the kernel side: chunks the queue posted and has not
 * seen back are in the driver, on the fill ring, on the RX ring or parked. */
#define expect_ledger(e, q, qid)                                              \
	do {                                                                   \
		struct xdbl_queue_info qi_ = env_qinfo((e), (qid));            \
		expect_eq(rxq_stats(q).kernel_chunks,                          \
			  qi_.hw_rx + qi_.fill_level + qi_.rx_level + qi_.parked); \
	} while (0)

/* The destroy of a zero-copy queue probes its queue until the pool is torn
 * down: let the first probe find it so (no 250 ms wait in the test). */
static void teardown_on_first_probe(struct env *e, struct xdbl_dev *dev)
{
	dev->teardown_binds = 1;
	xdbl_set_dev(e->d, e->ifindex, dev);
}

/* ------------------------------------------------ 1: destroy, held -- */

TEST(zc_destroy_keeps_driver_chunks_until_teardown)
{
	static struct xfrag_pkt hold[640];
	struct xdbl_dev dev = zc_dev("zc0");
	struct xdbl_queue_info qi;
	struct xfrag_rxq *q0, *q1;
	uint64_t s0 = 0, s1 = 0, held;
	uint32_t i, nblk, nbad;
	struct env e;

	env_up(&e, &dev, 4 << 20, false);
	q0 = make_rxq(&e, 0);
	q1 = make_rxq(&e, 1);
	assert_true(q0 && q1);
	assert_eq(rxq_stats(q0).zerocopy, 1);
	assert_eq(rxq_stats(q1).zerocopy, 1);
	expect_eq(traffic(&e, q0, 0, &s0, 300), 0);
	expect_eq(traffic(&e, q1, 1, &s1, 300), 0);

	/* Queue 0 at destroy: a full hardware ring, a stocked fill ring, ten
	 * frames nobody received. */
	pump(&e, 8);
	for (i = 0; i < 10; i++)
		assert_eq(send_frame(&e, 0, s0++), 0);
	qi = env_qinfo(&e, 0);
	expect_true(qi.hw_rx > 0 && qi.fill_level > 0);
	expect_eq(qi.rx_level, 10);
	held = rxq_stats(q0).kernel_chunks;
	expect_eq(held, qi.hw_rx + qi.fill_level + qi.rx_level);
	xfrag_rxq__destroy(q0);

	/* Teardown pending: the queue is busy and every chunk of the ledger
	 * waits in quarantine. */
	qi = env_qinfo(&e, 0);
	expect_true(qi.busy && qi.released && qi.hw_rx > 0);
	expect_eq(env_xsk(&e).quarantined, held);
	/* The dead queue's driver keeps taking fill entries and DMA-ing:
	 * frames for queue 0 land in its chunks and are dropped. */
	for (i = 0; i < 20; i++)
		expect_eq(send_frame(&e, 0, s0++), -ENXIO);
	pump(&e, 4);

	/* Queue 1 receives intact meanwhile, while the dead driver scribbles
	 * over what it holds on every poll. It holds 640 frames (20 blocks of
	 * chunks), so its cache carves fresh blocks from the pool. */
	expect_eq(traffic_hold(&e, q1, 1, &s1, 640, hold), 0);
	/* ... and stay so while held (the dead driver keeps writing). */
	pump(&e, 4);
	for (i = 0, nbad = 0; i < 640; i++) {
		uint64_t s;

		nbad += !frame_ok(hold[i].data, hold[i].len, 1, &s);
	}
	expect_eq(nbad, 0);
	xfrag_rxq__release(q1, hold, 640);
	/* Nothing the pool gives out is memory the dead driver holds. */
	expect_eq(grab_all(&e, 0x5a, &nblk), 0);
	expect_true(nblk > 0);
	expect_eq(traffic(&e, q1, 1, &s1, 300), 0);

	/* Not before the teardown; all of them after it. */
	expect_eq(xfrag_umem__reclaim(e.u, 0), (int64_t)held);
	expect_eq(xdbl_teardown(e.d, e.ifindex, 0), 1);
	expect_eq(xfrag_umem__reclaim(e.u, 0), 0);
	expect_eq(env_xsk(&e).reclaimed, held);
	expect_eq(traffic(&e, q1, 1, &s1, 300), 0);

	teardown_on_first_probe(&e, &dev);
	xfrag_rxq__destroy(q1);
	expect_eq(env_xsk(&e).quarantined, 0);
	expect_eq(xdbl_queue_info(e.d, e.ifindex, 1, &qi), 0);
	expect_true(!qi.busy);
	env_down(&e);
}

/* ------------------------------------- 2: restart one queue under load -- */

struct load {
	struct env *e;
	struct xfrag_rxq *q1;
	atomic_bool stop;        /* main: stop sending */
	atomic_bool sent_all;    /* main: the sender has stopped, q1_sent is final */
	_Atomic uint64_t q1_sent; /* frames the double put on queue 1's ring */
	_Atomic uint64_t q1_seen; /* frames queue 1 has received so far */
	uint64_t q1_got, q1_bad; /* the receiver's, read after join */
	bool q1_timeout;
};

/* The wire and the NIC: frames to both queues, a driver poll after each.
 * Queue 1's frames are offered until taken, so none is lost; queue 0's
 * are fire and forget (the queue comes and goes). */
static void *traffic_thread(void *arg)
{
	struct load *l = arg;
	uint64_t s0 = 0, s1 = 0;

	while (!atomic_load(&l->stop)) {
		int r = send_frame(l->e, 1, s1);

		if (!r)
			atomic_store(&l->q1_sent, ++s1);
		send_frame(l->e, 0, s0++);
		xdbl_poll(l->e->d);
		if (r)
			sched_yield();
	}
	return NULL;
}

/* Queue 1's owner: every frame, in order, intact. Bounded by a count of
 * empty polls and by time, only to fail instead of hanging. */
static void *q1_thread(void *arg)
{
	struct load *l = arg;
	uint64_t next = 0, deadline = now_ms() + 120000, idle = 0;
	struct xfrag_pkt pk[64];

	for (;;) {
		int n = xfrag_rxq__recv(l->q1, pk, 64), k;

		for (k = 0; k < n; k++) {
			uint64_t s;

			if (!frame_ok(pk[k].data, pk[k].len, 1, &s) || s != next)
				l->q1_bad++;
			next++;
		}
		if (n > 0) {
			xfrag_rxq__release(l->q1, pk, (unsigned int)n);
			atomic_store(&l->q1_seen, next);
			idle = 0;
			continue;
		}
		if (atomic_load(&l->sent_all) && next >= atomic_load(&l->q1_sent))
			break;
		if (++idle > 100000000 || now_ms() > deadline) {
			l->q1_timeout = true;
			break;
		}
		sched_yield();
	}
	l->q1_got = next;
	return NULL;
}

/* Frames for queue 0 on the main thread: intact, increasing (queue 0's
 * are not retried, so gaps are fine). */
static uint32_t q0_receive(struct xfrag_rxq *q0, uint32_t want, uint32_t *bad)
{
	uint64_t last = 0, deadline = now_ms() + 60000;
	struct xfrag_pkt pk[64];
	uint32_t got = 0, idle = 0;
	bool first = true;

	while (got < want && idle < 100000000 && now_ms() < deadline) {
		int n = xfrag_rxq__recv(q0, pk, 64), k;

		for (k = 0; k < n; k++) {
			uint64_t s;

			if (!frame_ok(pk[k].data, pk[k].len, 0, &s) || (!first && s <= last))
				(*bad)++;
			else
				last = s, first = false;
		}
		if (n > 0) {
			xfrag_rxq__release(q0, pk, (unsigned int)n);
			got += (uint32_t)n;
		} else {
			idle++;
			sched_yield();
		}
	}
	return got;
}

/* Until queue 1 has received @n more frames: the restart overlaps a
 * known amount of its traffic, however fast the machine. */
static bool q1_progress(struct load *l, uint64_t n)
{
	uint64_t goal = atomic_load(&l->q1_seen) + n, deadline = now_ms() + 60000;
	uint32_t spins = 0;

	while (atomic_load(&l->q1_seen) < goal) {
		if (++spins > 100000000 || now_ms() > deadline)
			return false;
		sched_yield();
	}
	return true;
}

#define CYCLES 6

TEST(zc_restart_one_queue_under_load)
{
	struct xdbl_dev dev = zc_dev("zc2");
	struct load l = { 0 };
	pthread_t tt, rt;
	struct xfrag_rxq_opts o;
	struct xfrag_rxq *q0;
	uint32_t cycle, bad0 = 0;
	struct env e;

	env_up(&e, &dev, 8 << 20, false);
	l.e = &e;
	/*
	 * No need_wakeup: the double would write the fill ring's flags word
	 * from the traffic thread while libxdp reads it with a plain load,
	 * which ThreadSanitizer cannot tell from a bug (the kernel's writes
	 * are invisible to it). Refill then happens on driver polls only.
	 */
	o = env_qopts(&e, 0);
	o.no_wakeup = true;
	q0 = xfrag_rxq__create(e.u, NULL, &o);
	o.queue_id = 1;
	l.q1 = xfrag_rxq__create(e.u, NULL, &o);
	assert_true(q0 && l.q1);
	assert_eq(pthread_create(&tt, NULL, traffic_thread, &l), 0);
	assert_eq(pthread_create(&rt, NULL, q1_thread, &l), 0);

	for (cycle = 0; cycle < CYCLES; cycle++) {
		/* Odd cycles: the test tears the pool down after destroy, so the
		 * re-create's bind is what releases the quarantine. Even ones:
		 * the driver's polls do, while destroy still waits. */
		bool manual = cycle & 1;
		uint64_t reclaimed;

		expect_true(q0_receive(q0, 200, &bad0) >= 200);
		expect_true(q1_progress(&l, 200));
		dev.teardown_polls = manual ? 0 : 2;
		xdbl_set_dev(e.d, e.ifindex, &dev);
		xfrag_rxq__destroy(q0);
		reclaimed = env_xsk(&e).reclaimed;
		expect_true(q1_progress(&l, 100));
		if (manual) {
			expect_true(env_xsk(&e).quarantined > 0);
			expect_true(env_qinfo(&e, 0).released);
			expect_eq(xdbl_teardown(e.d, e.ifindex, 0), 1);
		}
		o.queue_id = 0;
		q0 = xfrag_rxq__create(e.u, NULL, &o);
		assert_true(q0);
		expect_eq(rxq_stats(q0).zerocopy, 1);
		if (manual) {
			/* Its bind proved the old pool gone. */
			expect_eq(env_xsk(&e).quarantined, 0);
			expect_true(env_xsk(&e).reclaimed > reclaimed);
		}
	}
	expect_true(q0_receive(q0, 200, &bad0) >= 200);
	expect_eq(bad0, 0);

	atomic_store(&l.stop, true);
	pthread_join(tt, NULL);
	atomic_store(&l.sent_all, true);
	pthread_join(rt, NULL);
	expect_true(!l.q1_timeout);
	expect_eq(l.q1_bad, 0);
	expect_eq(l.q1_got, atomic_load(&l.q1_sent));
	expect_true(l.q1_got > 0);
	printf("# queue 1: %llu frames in order and intact across %d restarts of queue 0\n",
	       (unsigned long long)l.q1_got, CYCLES);

	teardown_on_first_probe(&e, &dev);
	xfrag_rxq__destroy(q0);
	xfrag_rxq__destroy(l.q1);
	env_down(&e);
}

/* ---------------------------------------------- 3: TX in flight -- */

TEST(zc_tx_in_flight_at_destroy)
{
	struct xdbl_dev dev = zc_dev("zctx");
	uint32_t lens[40], i, nblk;
	struct xfrag_txq *tq;
	struct xdbl_stats ds;
	uint64_t a[40];
	struct env e;

	dev.rx_queues = 1;
	dev.complete_batch = 8;
	dev.scribble = false;
	env_up(&e, &dev, 4 << 20, false);
	{
		XFRAG_OPTS(xfrag_txq_opts, to, .ifindex = e.ifindex, .tx_size = 64,
			   .comp_size = 64, .frame_size = 2048);
		XFRAG_OPTS(xfrag_txq_stats, ts);

		tq = xfrag_txq__create(e.u, &to);
		assert_true(tq);
		xfrag_txq__stats(tq, &ts);
		assert_eq(ts.zerocopy, 1);
	}
	for (i = 0; i < 40; i++) {
		assert_eq(xfrag_txq__alloc(tq, FRAME_MAX, &a[i]), 0);
		lens[i] = make_frame(xfrag_umem__ptr(e.u, a[i]), 0, i);
	}
	assert_eq(xfrag_txq__send(tq, a, lens, 40), 40);
	/* The kick handed them to the driver; one poll completes 8. */
	expect_eq(env_qinfo(&e, 0).hw_tx, 40);
	xdbl_poll(e.d);
	expect_eq(xfrag_txq__complete(tq), 8);
	expect_eq(xfrag_txq__outstanding(tq), 32);

	/* Destroy waits for completions that do not come, then closes. */
	xfrag_txq__destroy(tq);
	expect_eq(env_xsk(&e).quarantined, 32);
	for (i = 0; i < 40; i++)
		expect_eq(xdbl_held(e.d, e.u, a[i], lens[i]), i >= 8);
	/* Out of the pool: whoever takes memory now cannot get them, and
	 * what they write does not reach the frames the driver still reads. */
	expect_eq(grab_all(&e, 0x55, &nblk), 0);
	expect_true(nblk > 0);
	pump(&e, 3);
	expect_eq(xfrag_umem__reclaim(e.u, 0), 32);
	/* The teardown is the driver's last read of them. */
	expect_eq(xdbl_teardown(e.d, e.ifindex, 0), 1);
	xdbl_stats(e.d, &ds);
	expect_eq(ds.tx_corrupt, 0);
	expect_eq(ds.tx_frames, 8);
	expect_eq(xfrag_umem__reclaim(e.u, 0), 0);
	env_down(&e);
}

/* ------------------------------------------- 4: invalid fill entries -- */

/*
 * One queue with 3072-byte chunks (three of four would cross a page if
 * allowed) on a device with DMA kind @dma, over a UMEM that is hugetlb or
 * not. Returns the fill entries the double found invalid after traffic;
 * *cross says whether the library let chunks cross pages.
 */
static uint64_t fill_run(uint8_t dma, bool hugetlb, uint32_t policy, bool *cross,
			 uint64_t *lost)
{
	struct xdbl_dev dev = zc_dev("nic");
	struct xfrag_rxq_stats st;
	struct xdbl_queue_info qi;
	struct xfrag_rxq_opts o;
	struct xdbl_stats ds;
	struct xfrag_rxq *q;
	uint64_t seq = 0;
	struct env e;

	dev.dma = dma;
	dev.scribble = false;
	env_up(&e, &dev, 4 << 20, hugetlb);
	o = env_qopts(&e, 0);
	o.frame_size = 3072;
	o.page_cross = policy;
	q = xfrag_rxq__create(e.u, NULL, &o);
	assert_true(q);
	st = rxq_stats(q);
	assert_eq(st.zerocopy, 1);
	*cross = st.page_cross_ok;
	expect_eq(st.chunks_per_block, st.page_cross_ok ? 21 : 16);
	pump(&e, 8);
	if (!st.page_cross_ok)
		expect_eq(traffic(&e, q, 0, &seq, 300), 0);
	/* What the library counts as the kernel's minus what the kernel
	 * side has: the chunks dropped silently. */
	st = rxq_stats(q);
	qi = env_qinfo(&e, 0);
	*lost = st.kernel_chunks - (qi.hw_rx + qi.fill_level + qi.rx_level);
	expect_eq(st.fill_invalid, 0);
	teardown_on_first_probe(&e, &dev);
	xfrag_rxq__destroy(q);
	xdbl_stats(e.d, &ds);
	env_down(&e); /* the ledger counted the dropped ones: all come back */
	return ds.fill_invalid;
}

TEST(zc_fill_entries_valid_for_the_dma_mapping)
{
	uint64_t invalid, lost;
	bool cross;

	/* Translating IOMMU, hugetlb UMEM: no chunk may cross a page, and
	 * the double finds none invalid. */
	invalid = fill_run(XFRAG_DMA_TRANSLATED, true, XFRAG_PAGE_CROSS_AUTO, &cross, &lost);
	expect_true(!cross);
	expect_eq(invalid, 0);
	expect_eq(lost, 0);
	/* Forced page crossing there: the double drops (and counts) what the
	 * kernel would, and those chunks are gone from the kernel side. */
	invalid = fill_run(XFRAG_DMA_TRANSLATED, true, XFRAG_PAGE_CROSS_FORCE, &cross, &lost);
	expect_true(cross);
	expect_true(invalid > 0);
	expect_eq(lost, invalid);
	/* Passthrough IOMMU (and no IOMMU), hugetlb: crossing is safe. */
	invalid = fill_run(XFRAG_DMA_IDENTITY, true, XFRAG_PAGE_CROSS_AUTO, &cross, &lost);
	expect_true(cross);
	expect_eq(invalid, 0);
	invalid = fill_run(XFRAG_DMA_DIRECT, true, XFRAG_PAGE_CROSS_AUTO, &cross, &lost);
	expect_true(cross);
	expect_eq(invalid, 0);
	/* 4 KiB pages: never. */
	invalid = fill_run(XFRAG_DMA_DIRECT, false, XFRAG_PAGE_CROSS_AUTO, &cross, &lost);
	expect_true(!cross);
	expect_eq(invalid, 0);
}

/* ------------------------------------------------------ 5: bind modes -- */

TEST(bind_modes)
{
	struct xdbl_dev zdev = zc_dev("zc5"), cdev = { .name = "cp5", .rx_queues = 2 };
	struct xfrag_rxq_opts o;
	struct xfrag_rxq *q0, *q1;
	int cp_ifindex;
	struct env e;

	xfrag_set_log(log_capture, XFRAG_LOG_DEBUG);

	/* AUTO on a zero-copy device: zero-copy; a later ZEROCOPY socket
	 * inherits it. */
	zdev.teardown_binds = 1;
	env_up(&e, &zdev, 4 << 20, false);
	q0 = make_rxq(&e, 0);
	assert_true(q0);
	expect_eq(env_xsk(&e).zerocopy, 1);
	expect_eq(rxq_stats(q0).zerocopy, 1);
	o = env_qopts(&e, 1);
	o.bind_mode = XFRAG_BIND_ZEROCOPY;
	q1 = xfrag_rxq__create(e.u, NULL, &o);
	assert_true(q1);
	expect_eq(rxq_stats(q1).zerocopy, 1);
	xfrag_rxq__destroy(q1);
	/* A later socket on a device that cannot do zero-copy: the kernel
	 * binds it in the UMEM's mode, and refuses. */
	cp_ifindex = xdbl_add_dev(e.d, &cdev);
	o = env_qopts(&e, 0);
	o.ifindex = cp_ifindex;
	log_reset();
	errno = 0;
	expect_true(!xfrag_rxq__create(e.u, NULL, &o));
	expect_eq(errno, EOPNOTSUPP);
	xfrag_rxq__destroy(q0);
	env_down(&e);

	/* AUTO on a copy-only device: copy mode. A later socket asking for
	 * zero-copy is refused with a message; AUTO is given copy mode. */
	env_up(&e, &cdev, 4 << 20, false);
	q0 = make_rxq(&e, 0);
	assert_true(q0);
	expect_eq(env_xsk(&e).zerocopy, 0);
	expect_eq(rxq_stats(q0).zerocopy, 0);
	o = env_qopts(&e, 1);
	o.bind_mode = XFRAG_BIND_ZEROCOPY;
	log_reset();
	errno = 0;
	expect_true(!xfrag_rxq__create(e.u, NULL, &o));
	expect_eq(errno, EOPNOTSUPP);
	expect_true(log_has("zero-copy was required, but the shared UMEM is in copy mode"));
	o.bind_mode = XFRAG_BIND_AUTO;
	q1 = xfrag_rxq__create(e.u, NULL, &o);
	assert_true(q1);
	expect_eq(rxq_stats(q1).zerocopy, 0);
	xfrag_rxq__destroy(q1);
	xfrag_rxq__destroy(q0);
	env_down(&e);

	/* ZEROCOPY forced on a copy-only device: EOPNOTSUPP, a message, and
	 * nothing left on the kernel side. */
	env_up(&e, &cdev, 4 << 20, false);
	o = env_qopts(&e, 0);
	o.bind_mode = XFRAG_BIND_ZEROCOPY;
	log_reset();
	errno = 0;
	expect_true(!xfrag_rxq__create(e.u, NULL, &o));
	expect_eq(errno, EOPNOTSUPP);
	expect_true(log_has("zero-copy was required but the driver does not support it"));
	expect_true(!env_qinfo(&e, 0).busy);
	env_down(&e);

	/* A zero-copy device whose driver refuses the geometry (MTU 1768 + 26
	 * does not fit 1792 bytes rounded down to 128): AUTO falls back to
	 * copy mode with a warning, ZEROCOPY fails with the kernel's EINVAL. */
	zdev.mtu = 1768;
	env_up(&e, &zdev, 4 << 20, false);
	o = env_qopts(&e, 0);
	o.bind_mode = XFRAG_BIND_ZEROCOPY;
	errno = 0;
	expect_true(!xfrag_rxq__create(e.u, NULL, &o));
	expect_eq(errno, EINVAL);
	log_reset();
	o.bind_mode = XFRAG_BIND_AUTO;
	q0 = xfrag_rxq__create(e.u, NULL, &o);
	assert_true(q0);
	expect_eq(rxq_stats(q0).zerocopy, 0);
	expect_true(log_has("zero-copy bind failed (Invalid argument): using copy mode"));
	xfrag_rxq__destroy(q0);
	env_down(&e);
	xfrag_set_log(NULL, XFRAG_LOG_WARN);
}

/*
 * Another process's zero-copy socket on (@ifindex, @qid), closed: its pool
 * stays on the queue until its teardown. Driven through the ops as any
 * AF_XDP user would; *area is its UMEM, to unmap after the teardown.
 */
static void foreign_socket_closed(struct env *e, uint32_t qid, void **area)
{
	const struct xfrag_xsk_ops *ops = &xdbl_ops;
	struct xdp_umem_reg mr = { 0 };
	struct sockaddr_xdp sx = { 0 };
	int fd, n = 64;

	*area = mmap(NULL, BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(*area != MAP_FAILED);
	fd = ops->socket(e->d);
	assert_true(fd >= 0);
	mr.addr = (uint64_t)(uintptr_t)*area;
	mr.len = BLOCK;
	mr.chunk_size = 2048;
	mr.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG;
	assert_eq(ops->setsockopt(e->d, fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)), 0);
	assert_eq(ops->setsockopt(e->d, fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)), 0);
	assert_eq(ops->setsockopt(e->d, fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof(n)), 0);
	assert_eq(ops->setsockopt(e->d, fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n)), 0);
	sx.sxdp_family = AF_XDP;
	sx.sxdp_ifindex = (uint32_t)e->ifindex;
	sx.sxdp_queue_id = qid;
	sx.sxdp_flags = XDP_ZEROCOPY;
	assert_eq(ops->bind(e->d, fd, &sx), 0);
	assert_eq(ops->close(e->d, fd), 0);
	assert_true(env_qinfo(e, qid).released);
}

TEST(bind_retries_while_queue_busy)
{
	struct xdbl_dev dev = zc_dev("zcb");
	struct xdbl_stats before, after;
	struct xfrag_rxq *q;
	struct env e;
	void *area;

	xfrag_set_log(log_capture, XFRAG_LOG_DEBUG);
	/* The old pool goes after three binds found the queue busy: the
	 * library's fourth try succeeds. */
	dev.teardown_binds = 3;
	env_up(&e, &dev, 4 << 20, false);
	foreign_socket_closed(&e, 0, &area);
	xdbl_stats(e.d, &before);
	q = make_rxq(&e, 0);
	assert_true(q);
	xdbl_stats(e.d, &after);
	expect_eq(after.busy_binds - before.busy_binds, 3);
	expect_eq(rxq_stats(q).zerocopy, 1);
	dev.teardown_binds = 1;
	xdbl_set_dev(e.d, e.ifindex, &dev);
	xfrag_rxq__destroy(q);
	munmap(area, BLOCK);

	/* It never goes: the create gives up with EBUSY and says why. */
	dev.teardown_binds = 0;
	xdbl_set_dev(e.d, e.ifindex, &dev);
	foreign_socket_closed(&e, 0, &area);
	log_reset();
	errno = 0;
	expect_true(!make_rxq(&e, 0));
	expect_eq(errno, EBUSY);
	expect_true(log_has("is busy"));
	/* Once it has gone, the queue binds at once. */
	expect_eq(xdbl_teardown(e.d, e.ifindex, 0), 1);
	munmap(area, BLOCK);
	xdbl_stats(e.d, &before);
	q = make_rxq(&e, 0);
	assert_true(q);
	xdbl_stats(e.d, &after);
	expect_eq(after.busy_binds, before.busy_binds);
	dev.teardown_binds = 1;
	xdbl_set_dev(e.d, e.ifindex, &dev);
	xfrag_rxq__destroy(q);
	env_down(&e);
	xfrag_set_log(NULL, XFRAG_LOG_WARN);
}

/* ------------------------------------ the caller's XDP program's XSKMAP -- */

TEST(xskmap_of_the_callers_program)
{
	struct xdbl_dev dev = zc_dev("zcm");
	struct xfrag_rxq_opts o;
	struct xdbl_stats ds;
	struct xfrag_rxq *q;
	uint64_t seq = 0;
	struct env e;
	int map;

	dev.rx_queues = 8;
	dev.teardown_binds = 1;
	env_up(&e, &dev, 4 << 20, false);
	/* A program of the caller's redirects by rx queue into its map. */
	map = xdbl_map_create(e.d, 4);
	assert_true(map > 0);
	assert_eq(xdbl_dev_set_map(e.d, e.ifindex, map), 0);
	o = env_qopts(&e, 1);
	o.xsks_map_fd = map;
	q = xfrag_rxq__create(e.u, NULL, &o);
	assert_true(q);
	expect_eq(xdbl_map_lookup(e.d, map, 1), xfrag_rxq__fd(q));
	expect_eq(xdbl_map_lookup(e.d, map, 0), -ENOENT);
	expect_eq(traffic(&e, q, 1, &seq, 200), 0);
	expect_eq(send_frame(&e, 0, 0), -ENXIO); /* nobody in slot 0 */
	xfrag_rxq__destroy(q);
	expect_eq(xdbl_map_lookup(e.d, map, 1), -ENOENT);
	expect_eq(send_frame(&e, 1, seq), -ENXIO);

	/* A slot the map does not have: the create fails cleanly. */
	xdbl_stats(e.d, &ds);
	o.queue_id = 6;
	errno = 0;
	expect_true(!xfrag_rxq__create(e.u, NULL, &o));
	expect_eq(errno, E2BIG);
	expect_true(!env_qinfo(&e, 6).busy);
	expect_eq(env_xsk(&e).quarantined, 0);
	env_down(&e);
}

/* ------------------------------------------ 7: the ledger, step by step -- */

TEST(ledger_matches_kernel_side)
{
	static uint8_t big[5000], chain[40 * 1000];
	struct xdbl_dev dev = zc_dev("zcl");
	struct xdbl_desc ds[40];
	struct xfrag_rxq_opts o;
	struct xfrag_pkt pk[64];
	struct xfrag_rxq *q;
	uint64_t seq = 0, kc;
	uint32_t i, full = 0, calls;
	struct env e;
	int n, r;

	dev.refill_batch = 8;
	dev.scribble = false;
	env_up(&e, &dev, 4 << 20, false);
	o = env_qopts(&e, 0);
	o.fill_size = 128;
	o.rx_size = 64;
	o.multi_buffer = true;
	q = xfrag_rxq__create(e.u, NULL, &o);
	assert_true(q);
	assert_eq(rxq_stats(q).zerocopy, 1);
	expect_ledger(&e, q, 0); /* all of it on the fill ring */
	expect_eq(env_qinfo(&e, 0).fill_level, 128);
	xdbl_poll(e.d);
	expect_eq(env_qinfo(&e, 0).hw_rx, 8);
	expect_ledger(&e, q, 0);
	pump(&e, 7);
	expect_eq(env_qinfo(&e, 0).hw_rx, 64);
	expect_ledger(&e, q, 0);

	for (i = 0; i < 10; i++)
		assert_eq(send_frame(&e, 0, seq++), 0);
	expect_ledger(&e, q, 0);
	n = xfrag_rxq__recv(q, pk, 4);
	assert_eq(n, 4);
	expect_ledger(&e, q, 0);
	xfrag_rxq__release(q, pk, 4);
	n = xfrag_rxq__recv(q, pk, 64); /* refills, then the other six */
	expect_eq(n, 6);
	expect_ledger(&e, q, 0);
	xfrag_rxq__release(q, pk, (unsigned int)n);

	/* Fill the 64-entry RX ring until frames are refused for room. */
	for (i = 0; i < 200 && !full; i++) {
		r = send_frame(&e, 0, seq);
		if (r == -ENOSPC)
			full = 1;
		else if (!r)
			seq++;
		else
			xdbl_poll(e.d);
		expect_ledger(&e, q, 0);
	}
	expect_true(full);
	expect_eq(env_qinfo(&e, 0).rx_level, 64);
	expect_true(rxq_stats(q).rx_ring_full > 0);
	while ((n = xfrag_rxq__recv(q, pk, 64)) > 0) {
		expect_ledger(&e, q, 0);
		xfrag_rxq__release(q, pk, (unsigned int)n);
	}
	expect_ledger(&e, q, 0);

	/* The driver's ring runs dry without polls: frames are missed. */
	for (i = 0; i < 100 && send_frame(&e, 0, seq) == 0; i++)
		seq++;
	expect_eq(env_qinfo(&e, 0).hw_rx, 0);
	expect_ledger(&e, q, 0);
	while ((n = xfrag_rxq__recv(q, pk, 64)) > 0)
		xfrag_rxq__release(q, pk, (unsigned int)n);

	/* A chain too long to deliver, dropped over calls, and a normal one. */
	pump(&e, 16);
	for (i = 0; i < 40; i++) {
		ds[i].data = chain + i * 1000;
		ds[i].len = 1000;
		ds[i].options = i < 39 ? XDP_PKT_CONTD : 0;
	}
	assert_eq(xdbl_rx_raw(e.d, xfrag_rxq__fd(q), ds, 40), 40);
	for (calls = 0, n = 0; calls < 8 && !n; calls++) {
		n = xfrag_rxq__recv(q, pk, 1);
		expect_ledger(&e, q, 0);
	}
	expect_eq(n, 0);
	expect_eq(rxq_stats(q).chain_drops, 1);
	pump(&e, 16);
	memset(big, 0x42, sizeof(big));
	assert_eq(xdbl_rx(e.d, e.ifindex, 0, big, sizeof(big)), 0);
	expect_ledger(&e, q, 0);
	assert_eq(xfrag_rxq__recv(q, pk, 64), 1);
	expect_eq(pk[0].nsegs, 3);
	expect_ledger(&e, q, 0);
	xfrag_rxq__release(q, pk, 1);

	/* Destroy: the quarantine holds exactly the ledger. */
	pump(&e, 4);
	kc = rxq_stats(q).kernel_chunks;
	expect_ledger(&e, q, 0);
	dev.teardown_binds = 0;
	xdbl_set_dev(e.d, e.ifindex, &dev);
	xfrag_rxq__destroy(q);
	expect_eq(env_xsk(&e).quarantined, kc);
	env_down(&e);
}

TEST_MAIN(T(zc_destroy_keeps_driver_chunks_until_teardown),
	  T(zc_restart_one_queue_under_load), T(zc_tx_in_flight_at_destroy),
	  T(zc_fill_entries_valid_for_the_dma_mapping), T(bind_modes),
	  T(bind_retries_while_queue_busy), T(xskmap_of_the_callers_program),
	  T(ledger_matches_kernel_side))
