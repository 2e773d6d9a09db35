// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * debug_frags: misuse aborts with a message naming the address. Each case
 * runs in a child process; the parent checks for SIGABRT and the message.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "test.h"
#include "xfrag/xfrag.h"

#define BLK (64u << 10)

static struct xfrag_umem *u;
static struct xfrag_cache *c;

static void setup(void)
{
	XFRAG_OPTS(xfrag_umem_opts, o, .size = 4 * BLK, .block_size = BLK,
		   .hugepages = XFRAG_HUGE_NEVER, .debug_frags = 1);

	u = xfrag_umem__create(&o);
	c = xfrag_cache__create(u, NULL);
	if (!u || !c)
		abort();
}

/* Run fn in a child; return what it wrote to stderr if it aborted. */
static int dies_with(void (*fn)(void), const char *needle)
{
	int pfd[2], status;
	char buf[1024] = { 0 };
	ssize_t n, off = 0;
	pid_t pid;

	if (pipe(pfd))
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		setup();
		fn();
		_exit(0);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf + off, sizeof(buf) - 1 - (size_t)off)) > 0)
		off += n;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
		fprintf(stderr, "child did not abort (status %d), said: %s\n", status, buf);
		return 0;
	}
	if (!strstr(buf, needle)) {
		fprintf(stderr, "abort message lacks '%s': %s\n", needle, buf);
		return 0;
	}
	return 1;
}

/*
 * The messages must name the culprit's address. Carving is deterministic
 * (block 0 first, from its end down), so the parent knows each address;
 * a child whose frags land elsewhere exits instead of aborting.
 */
static void expect_at(uint64_t addr, uint64_t want)
{
	if (addr != want)
		_exit(3);
}

static void do_double_release(void)
{
	uint64_t a, b;

	xfrag_cache__alloc(c, 100, 0, &a);
	xfrag_cache__alloc(c, 100, 0, &b);
	expect_at(a, BLK - 100);
	xfrag_umem__release(u, a);
	xfrag_umem__release(u, a);
}

static void do_never_allocated(void)
{
	uint64_t a;

	xfrag_cache__alloc(c, 100, 0, &a);
	expect_at(a, BLK - 100);
	xfrag_umem__release(u, a + 8); /* inside a frag, but not its handle */
}

static void do_foreign(void)
{
	xfrag_umem__release(u, 100 * BLK);
}

static void do_underflow_drain(void)
{
	uint64_t a[3];

	xfrag_cache__alloc_burst(c, 2048, a, 3);
	expect_at(a[0], BLK - 2048);
	xfrag_cache__flush(c);
	xfrag_umem__drain(u, a[0], 4);
}

static void do_double_release_bulk(void)
{
	uint64_t a[4];

	xfrag_cache__alloc_burst(c, 2048, a, 4);
	expect_at(a[2], BLK - 3 * 2048);
	a[3] = a[2];
	xfrag_umem__release_bulk(u, a, 4);
}

static void do_stale_after_recycle(void)
{
	uint64_t a;

	xfrag_cache__alloc(c, 64, 0, &a);
	expect_at(a, BLK - 64);
	xfrag_cache__flush(c);
	xfrag_umem__release(u, a); /* block back in the pool */
	xfrag_umem__release(u, a);
}

/* The carving thread's release is checked too: a second release of a frag
 * of the current block would otherwise vanish into the bias. */
static void do_owner_double_release(void)
{
	uint64_t a[4] = { 0 };

	xfrag_cache__alloc_burst(c, 2048, a, 4);
	expect_at(a[1], BLK - 2 * 2048);
	xfrag_cache__release_bulk(c, a, 4);
	xfrag_cache__release_bulk(c, a + 1, 1);
}

/*
 * A block whose last frags come back on the carving thread becomes its
 * spare and is carved again: frags a drain dropped wholesale are stale from
 * then on, or a late release of one would eat a reference of the new frags.
 */
static void do_stale_after_spare(void)
{
	uint64_t a[33], b[32];

	xfrag_cache__alloc_burst(c, 2048, a, 33); /* block 0 whole, then block 1 */
	expect_at(a[1], BLK - 2 * 2048);
	xfrag_umem__drain(u, a[0], 2);           /* a holder of a[0] and a[1] */
	xfrag_cache__release_bulk(c, a + 2, 30); /* block 0: the spare */
	if (c->spare != 0)
		_exit(4);
	xfrag_cache__alloc_burst(c, 2048, b, 32); /* block 1's rest, then the spare */
	expect_at(b[31], BLK - 2048);
	xfrag_umem__release(u, a[1]);
}

/* A releaser's runs are checked when released, not when applied. */
static void do_releaser_double_release(void)
{
	struct xfrag_releaser *r = xfrag_releaser__create(u, NULL);
	uint64_t a[4] = { 0 };

	xfrag_cache__alloc_burst(c, 2048, a, 4);
	expect_at(a[1], BLK - 2 * 2048);
	xfrag_releaser__release_bulk(r, a, 4);
	xfrag_releaser__release_bulk(r, a + 1, 1);
}

/*
 * A block freed by the runs a cache took from its inbox becomes its spare
 * and is carved again: a late release of a frag a drain dropped is stale.
 */
static void do_stale_after_inbox(void)
{
	struct xfrag_releaser *r = xfrag_releaser__create(u, NULL);
	uint64_t a[33] = { 0 }, b[32];

	xfrag_cache__alloc_burst(c, 2048, a, 33); /* block 0 whole, then block 1 */
	expect_at(a[1], BLK - 2 * 2048);
	xfrag_umem__drain(u, a[0], 2);            /* a holder of a[0] and a[1] */
	xfrag_releaser__release_bulk(r, a + 2, 30);
	if (xfrag_cache__reclaim(c) != 1 || c->spare != 0)
		_exit(4);
	xfrag_cache__alloc_burst(c, 2048, b, 32); /* block 1's rest, then block 0 */
	expect_at(b[31], BLK - 2048);
	xfrag_releaser__release_bulk(r, a + 1, 1);
}

static void do_correct_use(void)
{
	uint64_t a[40], x;

	xfrag_cache__alloc_burst(c, 2048, a, 40);
	xfrag_umem__ref(u, a[5]);
	xfrag_umem__release_bulk(u, a, 40);
	xfrag_umem__release(u, a[5]);
	xfrag_cache__alloc(c, 64, 64, &x);
	xfrag_cache__alloc_burst(c, 256, a, 3);
	xfrag_cache__flush(c);
	xfrag_umem__drain(u, a[0], 3);
	xfrag_umem__release(u, x);
	/* The carving thread's path: give-back and spare, tracked. */
	xfrag_cache__alloc_burst(c, 2048, a, 40);
	xfrag_cache__release_bulk(c, a, 40);
	if (c->spare == XFRAG_NO_BLOCK)
		abort();
	xfrag_cache__alloc_burst(c, 2048, a, 40);
	xfrag_umem__ref(u, a[39]);
	xfrag_cache__release_bulk(c, a, 40);
	xfrag_umem__release(u, a[39]);
	{
		/* Drained and owner-released into the spare, carved again:
		 * no frag of it is live, so none is carved twice. */
		uint64_t d[33], e[32];

		xfrag_cache__flush(c);
		xfrag_cache__alloc_burst(c, 2048, d, 33);
		xfrag_umem__drain(u, d[0], 2);
		xfrag_cache__release_bulk(c, d + 2, 30);
		xfrag_cache__alloc_burst(c, 2048, e, 32);
		xfrag_cache__release_bulk(c, d + 32, 1);
		xfrag_cache__release_bulk(c, e, 32);
	}
	{
		/* Through a releaser: runs checked, applied by the cache. */
		struct xfrag_releaser *r = xfrag_releaser__create(u, NULL);
		struct xfrag_census cs;
		uint64_t f[64], held;

		xfrag_cache__alloc_burst(c, 2048, f, 64);
		held = f[7];
		xfrag_umem__ref(u, held);
		xfrag_releaser__release_bulk(r, f, 64);
		if (xfrag_census(u, &cs, NULL) || cs.in_transit != 64)
			abort();
		xfrag_cache__alloc_burst(c, 2048, f, 63); /* applies them */
		xfrag_releaser__release_bulk(r, &held, 1);
		xfrag_releaser__release_bulk(r, f, 63);
		xfrag_releaser__destroy(r);
		xfrag_cache__reclaim(c);
	}
	{
		struct xfrag_census cs;

		if (xfrag_census(u, &cs, NULL))
			abort();
	}
	xfrag_cache__destroy(c);
	struct xfrag_umem_stats s;
	xfrag_umem__stats(u, &s);
	if (s.blocks_free != s.nblocks)
		abort();
	fprintf(stderr, "clean\n");
}

/* "0x..." of @addr as the messages print it, after @what. */
static const char *at(const char *what, uint64_t addr)
{
	static char buf[4][96];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "%s0x%llx", what, (unsigned long long)addr);
	return b;
}

TEST(double_release_aborts)
{
	expect_true(dies_with(do_double_release, at("double release of ", BLK - 100)));
}

TEST(release_of_unallocated_address_aborts)
{
	expect_true(dies_with(do_never_allocated, at("release of ", BLK - 100 + 8)));
	expect_true(dies_with(do_never_allocated, "which was never allocated"));
}

TEST(foreign_address_aborts)
{
	expect_true(dies_with(do_foreign, at("address ", 100 * BLK)));
	expect_true(dies_with(do_foreign, "outside the UMEM"));
}

TEST(drain_underflow_aborts)
{
	expect_true(dies_with(do_underflow_drain,
			      at("refcount underflow: dropping 4 reference(s) at ", BLK - 2048)));
}

TEST(double_release_in_bulk_aborts)
{
	expect_true(dies_with(do_double_release_bulk,
			      at("double release of ", BLK - 3 * 2048)));
}

TEST(release_after_recycle_aborts)
{
	expect_true(dies_with(do_stale_after_recycle, at("stale release of ", BLK - 64)));
}

TEST(owner_double_release_aborts)
{
	expect_true(dies_with(do_owner_double_release,
			      at("double release of ", BLK - 2 * 2048)));
}

TEST(release_after_spare_reuse_aborts)
{
	expect_true(dies_with(do_stale_after_spare, at("stale release of ", BLK - 2 * 2048)));
}

TEST(releaser_double_release_aborts)
{
	expect_true(dies_with(do_releaser_double_release,
			      at("double release of ", BLK - 2 * 2048)));
}

TEST(release_after_inbox_reuse_aborts)
{
	expect_true(dies_with(do_stale_after_inbox, at("stale release of ", BLK - 2 * 2048)));
}

TEST(correct_use_passes)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		setup();
		do_correct_use();
		_exit(0);
	}
	waitpid(pid, &status, 0);
	expect_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_MAIN(T(double_release_aborts), T(release_of_unallocated_address_aborts),
	  T(foreign_address_aborts), T(drain_underflow_aborts),
	  T(double_release_in_bulk_aborts), T(release_after_recycle_aborts),
	  T(owner_double_release_aborts), T(release_after_spare_reuse_aborts),
	  T(releaser_double_release_aborts), T(release_after_inbox_reuse_aborts),
	  T(correct_use_passes))
