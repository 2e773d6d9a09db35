// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tx queue API on a real interface (a lab veth end, run by test_gen.sh
 * inside the lab namespace): carving rules, send / complete accounting,
 * option errors, frames left in flight when the link goes down, and that
 * every UMEM block comes back once the queue is gone.
 *
 * usage: txq-test IFACE
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xfrag/txq.h"
#include "xfrag/xfrag.h"
#include "test.h"

static const char *ifname;

static void quiet_log(enum xfrag_log_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
}

static uint32_t blocks_in_use(struct xfrag_umem *u)
{
	struct xfrag_umem_stats s;

	xfrag_umem__stats(u, &s);
	return s.blocks_in_use;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Send @n frames of @len bytes and wait for their completions. */
static void send_and_complete(struct xfrag_txq *q, struct xfrag_umem *u,
			      unsigned int n, uint32_t len)
{
	uint64_t addrs[64];
	uint32_t lens[64];
	unsigned int i, done = 0, queued = 0;

	while (queued < n) {
		unsigned int k = n - queued > 64 ? 64 : n - queued;

		for (i = 0; i < k; i++) {
			assert_eq(xfrag_txq__alloc(q, len, &addrs[i]), 0);
			memset(xfrag_umem__ptr(u, addrs[i]), 0xff, len); /* broadcast */
			lens[i] = len;
		}
		i = 0;
		while (i < k) {
			int s = xfrag_txq__send(q, addrs + i, lens + i, k - i);

			assert_true(s >= 0);
			i += (unsigned int)s;
			done += (unsigned int)xfrag_txq__complete(q);
		}
		queued += k;
	}
	for (i = 0; i < 1000 && done < n; i++) {
		xfrag_txq__kick(q);
		done += (unsigned int)xfrag_txq__complete(q);
		if (done < n)
			sleep_ms(1);
	}
	expect_eq(done, n);
}

TEST(carving_and_accounting)
{
	XFRAG_OPTS(xfrag_umem_opts, uo, .size = 4 << 20);
	XFRAG_OPTS(xfrag_txq_opts, to, .ifname = ifname, .tx_size = 256, .comp_size = 256);
	XFRAG_OPTS(xfrag_txq_stats, s);
	struct xfrag_umem *u = xfrag_umem__create(&uo);
	struct xfrag_txq *q;
	uint64_t a, burst[10];
	int i, n;

	assert_true(u != NULL);
	q = xfrag_txq__create(u, &to);
	assert_true(q != NULL);
	expect_true(xfrag_txq__fd(q) >= 0);
	expect_true(xfrag_txq__umem(q) == u);

	/* Exact length, 64-byte aligned (so never odd), bounds. */
	expect_eq(xfrag_txq__alloc(q, 0, &a), -EINVAL);
	expect_eq(a, XFRAG_NO_ADDR);
	expect_eq(xfrag_txq__alloc(q, 4097, &a), -EINVAL);
	for (i = 1; i < 200; i += 13) {
		assert_eq(xfrag_txq__alloc(q, (uint32_t)i * 7, &a), 0);
		expect_eq(a % XFRAG_TXQ_ALIGN, 0);
		xfrag_umem__release(u, a);
	}
	assert_eq(xfrag_txq__alloc(q, 4096, &a), 0);
	expect_eq(a % XFRAG_TXQ_ALIGN, 0);
	xfrag_umem__release(u, a);
	n = xfrag_txq__alloc_burst(q, 100, burst, 10);
	assert_eq(n, 10);
	for (i = 0; i < n; i++) {
		expect_eq(burst[i] % XFRAG_TXQ_ALIGN, 0);
		if (i)
			expect_true(burst[i] + 100 <= burst[i - 1] ||
				    burst[i] >= burst[i - 1] + 100);
	}
	expect_eq(xfrag_txq__alloc_burst(q, 0, burst, 10), -EINVAL);
	for (i = 0; i < n; i++)
		xfrag_umem__release(u, burst[i]);

	send_and_complete(q, u, 1000, 60);
	send_and_complete(q, u, 300, 1514);
	expect_eq(xfrag_txq__outstanding(q), 0);
	assert_eq(xfrag_txq__stats(q, &s), 0);
	expect_eq(s.sent, 1300);
	expect_eq(s.completed, 1300);
	expect_eq(s.sent_bytes, 1000 * 60 + 300 * 1514);
	expect_eq(s.outstanding, 0);
	expect_eq(s.comp_unknown, 0);
	expect_eq(s.tx_invalid_descs, 0);
	expect_eq(s.frame_size, 4096);
	expect_true(s.kicks > 0);
	/* A caller with an older, smaller stats struct gets only its part. */
	{
		struct { size_t sz; uint64_t sent; uint64_t guard; } small = {
			.sz = sizeof(size_t) + sizeof(uint64_t), .guard = 77 };

		expect_eq(xfrag_txq__stats(q, (struct xfrag_txq_stats *)&small), 0);
		expect_eq(small.sent, 1300);
		expect_eq(small.guard, 77);
	}
	xfrag_txq__destroy(q);
	expect_eq(blocks_in_use(u), 0);
	xfrag_umem__destroy(u);
}

TEST(bad_options)
{
	XFRAG_OPTS(xfrag_umem_opts, uo, .size = 4 << 20);
	struct xfrag_umem *u = xfrag_umem__create(&uo);
	xfrag_log_fn old;

	assert_true(u != NULL);
	old = xfrag_set_log(quiet_log, XFRAG_LOG_DEBUG);
	{
		XFRAG_OPTS(xfrag_txq_opts, o, .ifname = "nosuch0");
		errno = 0;
		expect_true(xfrag_txq__create(u, &o) == NULL);
		expect_eq(errno, ENODEV);
	}
	{
		XFRAG_OPTS(xfrag_txq_opts, o, .ifname = ifname, .tx_size = 1000);
		errno = 0;
		expect_true(xfrag_txq__create(u, &o) == NULL);
		expect_eq(errno, EINVAL);
	}
	{
		XFRAG_OPTS(xfrag_txq_opts, o, .ifname = ifname, .frame_size = 8192);
		errno = 0;
		expect_true(xfrag_txq__create(u, &o) == NULL);
		expect_eq(errno, EINVAL);
	}
	{
		XFRAG_OPTS(xfrag_txq_opts, o, .ifname = ifname, .queue_id = 7);
		errno = 0;
		expect_true(xfrag_txq__create(u, &o) == NULL);
		expect_eq(errno, ERANGE);
	}
	errno = 0;
	expect_true(xfrag_txq__create(u, NULL) == NULL);
	expect_eq(errno, EINVAL);
	xfrag_txq__destroy(NULL);
	xfrag_set_log(old, XFRAG_LOG_WARN);
	expect_eq(blocks_in_use(u), 0);
	xfrag_umem__destroy(u);
}

/* The link goes down with frames on the TX ring: the kicks fail
 * (ENETDOWN), nothing completes, and destroy releases the frames. */
TEST(link_down_leaves_nothing_pinned)
{
	XFRAG_OPTS(xfrag_umem_opts, uo, .size = 4 << 20);
	XFRAG_OPTS(xfrag_txq_opts, to, .ifname = ifname);
	XFRAG_OPTS(xfrag_txq_stats, s);
	struct xfrag_umem *u = xfrag_umem__create(&uo);
	struct xfrag_txq *q;
	uint64_t addrs[32];
	uint32_t lens[32];
	char cmd[128];
	xfrag_log_fn old;
	int i;

	assert_true(u != NULL);
	q = xfrag_txq__create(u, &to);
	assert_true(q != NULL);
	snprintf(cmd, sizeof(cmd), "ip link set dev %s down", ifname);
	assert_eq(system(cmd), 0);
	for (i = 0; i < 32; i++) {
		assert_eq(xfrag_txq__alloc(q, 64, &addrs[i]), 0);
		memset(xfrag_umem__ptr(u, addrs[i]), 0xff, 64);
		lens[i] = 64;
	}
	expect_eq(xfrag_txq__send(q, addrs, lens, 32), 32);
	xfrag_txq__complete(q);
	xfrag_txq__stats(q, &s);
	expect_true(s.errors > 0);
	expect_eq(s.last_error, -ENETDOWN);
	expect_eq(s.outstanding, 32);
	expect_true(blocks_in_use(u) > 0);
	old = xfrag_set_log(quiet_log, XFRAG_LOG_DEBUG);
	xfrag_txq__destroy(q);
	xfrag_set_log(old, XFRAG_LOG_WARN);
	expect_eq(blocks_in_use(u), 0);
	snprintf(cmd, sizeof(cmd), "ip link set dev %s up", ifname);
	expect_eq(system(cmd), 0);
	xfrag_umem__destroy(u);
}

int main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		T(carving_and_accounting), T(bad_options),
		T(link_down_leaves_nothing_pinned),
	};

	if (argc != 2 || !if_nametoindex(argv[1])) {
		fprintf(stderr, "usage: %s IFACE (an existing interface)\n", argv[0]);
		return 2;
	}
	ifname = argv[1];
	return test_run(tests, sizeof(tests) / sizeof(tests[0]), 1, argv);
}
