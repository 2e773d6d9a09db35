// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Queue life cycle on a real kernel path (AF_XDP on veth), through the
 * public API only:
 *
 *   restart  two queues on one UMEM; queue 0 is destroyed and re-created
 *            again and again while queue 1 keeps receiving on its own
 *            thread; then 1,000 frames are delivered on each; at the end
 *            every block is back in the pool and no fd is left.
 *   byo      receive through an XDP program the test loads itself with
 *            libbpf (its own XSKMAP): the queue inserts its socket there,
 *            or the test does; conservation is checked from the socket's
 *            side (frames sent = delivered + the socket's drop counters).
 *
 *   lifecycle-test SCENARIO HOST_IF NS NS_IF XFRAG_BENCH
 *
 * Frames come from `xfrag-bench gen` in the namespace (AF_XDP on queue Q
 * of the namespace's end lands on rx queue Q here); each carries a
 * sequence number and a payload checksum that frame_verify() checks.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "frame.h"
#include "test.h"
#include "xfrag/xfrag.h"

static const char *host_if, *ns_name, *ns_if, *bench;
static char host_mac[32];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int count_fds(void)
{
	char path[64];
	int n = 0;

	for (int fd = 0; fd < 4096; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* xfrag-bench gen in the namespace: @count frames to rx queue @queue. */
static pid_t start_gen(uint32_t queue, uint32_t count, const char *rate)
{
	char q[16], n[16];
	pid_t pid;

	snprintf(q, sizeof(q), "%u", queue);
	snprintf(n, sizeof(n), "%u", count);
	pid = fork();
	if (pid == 0) {
		execlp("ip", "ip", "netns", "exec", ns_name, bench, "gen", "-i", ns_if,
		       "-q", q, "--count", n, "--rate", rate, "--dst-mac", host_mac,
		       "--quiet", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int wait_gen(pid_t pid)
{
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct rx_count {
	_Atomic uint64_t delivered, bad;
};

/* Take what is there now; verify and release every frame. */
static unsigned int drain(struct xfrag_rxq *q, struct rx_count *c)
{
	struct xfrag_pkt pkts[64];
	int n = xfrag_rxq__recv(q, pkts, 64), i;

	for (i = 0; i < n; i++) {
		uint64_t seq;
		uint16_t flow;

		if (frame_verify(pkts[i].data, pkts[i].len, &seq, &flow) != FRAME_OK)
			atomic_fetch_add(&c->bad, 1);
	}
	if (n > 0) {
		xfrag_rxq__release(q, pkts, (unsigned int)n);
		atomic_fetch_add(&c->delivered, (uint64_t)n);
	}
	return n > 0 ? (unsigned int)n : 0;
}

/* Frames redirected to the queue but neither delivered nor counted yet. */
static int64_t in_flight(struct xfrag_rxq *q, const struct rx_count *c)
{
	XFRAG_OPTS(xfrag_rxq_stats, s);

	xfrag_rxq__stats(q, &s);
	return (int64_t)s.xdp_redirected -
	       (int64_t)(atomic_load(&c->delivered) + s.rx_dropped +
			 s.rx_ring_full + s.rx_invalid_descs);
}

/* Receive until @want frames came or everything redirected is accounted. */
static void receive(struct xfrag_rxq *q, struct rx_count *c, uint64_t want,
		    unsigned int ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end) {
		if (!drain(q, c) && atomic_load(&c->delivered) >= want && in_flight(q, c) <= 0)
			break;
	}
}

/* ---------------------------------------------------------- restart -- */

struct q1_thread {
	struct xfrag_rxq *q;
	struct rx_count c;
	_Atomic int stop;
};

static void *q1_main(void *arg)
{
	struct q1_thread *t = arg;

	/* The owner thread of queue 1: receive and release, nothing else. */
	while (!atomic_load(&t->stop))
		drain(t->q, &t->c);
	return NULL;
}

static struct xfrag_rxq *make_queue(struct xfrag_umem *u, struct xfrag_xdp *x,
				    uint32_t id)
{
	/* The whole fill ring posted, and both rings deeper than the 1,000
	 * frames of the last check: none may be lost however long the
	 * scheduler keeps the receiving thread off its CPU on a loaded
	 * machine (this test counts every one). */
	XFRAG_OPTS(xfrag_rxq_opts, o, .queue_id = id, .fill_size = 1024, .rx_size = 1024,
		   .fill_target = 1024);

	return xfrag_rxq__create(u, x, &o);
}

TEST(restart)
{
	XFRAG_OPTS(xfrag_umem_opts, uo, .size = 8 << 20, .hugepages = XFRAG_HUGE_NEVER);
	XFRAG_OPTS(xfrag_xdp_filter, f, .ethertype = 0x0800, .l4_proto = 17,
		   .port_lo = FRAME_DST_PORT, .port_hi = FRAME_DST_PORT);
	XFRAG_OPTS(xfrag_xdp_opts, xo, .ifname = host_if, .filter = &f);
	XFRAG_OPTS(xfrag_rxq_stats, s0);
	XFRAG_OPTS(xfrag_rxq_stats, s1);
	XFRAG_OPTS(xfrag_umem_xsk_stats, xs);
	static struct q1_thread t1;
	struct xfrag_umem_stats us;
	struct rx_count c0 = { 0 };
	struct xfrag_umem *u;
	struct xfrag_xdp *x;
	struct xfrag_rxq *q0;
	pthread_t th;
	uint64_t before, q1_during = 0;
	int fds0 = count_fds(), k, restarts = 0;
	pid_t g0, g1;

	u = xfrag_umem__create(&uo);
	assert_true(u != NULL);
	x = xfrag_xdp__attach(&xo);
	assert_true(x != NULL);
	q0 = make_queue(u, x, 0);
	t1.q = make_queue(u, x, 1);
	assert_true(q0 && t1.q);
	pthread_create(&th, NULL, q1_main, &t1);

	/* Traffic to both queues while queue 0 comes and goes. */
	g0 = start_gen(0, 20000, "10k");
	g1 = start_gen(1, 20000, "10k");
	for (k = 0; k < 8; k++) {
		receive(q0, &c0, UINT64_MAX, 100);
		before = atomic_load(&t1.c.delivered);
		xfrag_rxq__destroy(q0);
		sleep_ms(30); /* frames for queue 0 now go to the stack */
		/* Queue 1's thread may be off its CPU on a loaded machine:
		 * give it up to 300 ms more to show it goes on receiving. */
		for (int w = 0; w < 60 && atomic_load(&t1.c.delivered) == before; w++)
			sleep_ms(5);
		q0 = make_queue(u, x, 0);
		if (!expect_true(q0 != NULL))
			break;
		restarts++;
		/* Queue 1 kept receiving through the restart. */
		q1_during += atomic_load(&t1.c.delivered) > before;
	}
	expect_eq(wait_gen(g0), 0);
	expect_eq(wait_gen(g1), 0);
	printf("restart: %d restarts of queue 0; queue 1 received during %llu of them, %llu frames\n",
	       restarts, (unsigned long long)q1_during,
	       (unsigned long long)atomic_load(&t1.c.delivered));
	expect_eq(restarts, 8);
	expect_true(q1_during >= 6);
	if (!q0)
		goto out;

	/* Afterwards: 1,000 frames on each, every one delivered intact. */
	receive(q0, &c0, UINT64_MAX, 200);
	{
		uint64_t base0 = atomic_load(&c0.delivered), base1, drops0, drops1;
		uint64_t redir0, redir1, got0, got1;

		for (k = 0; k < 200 && in_flight(t1.q, &t1.c) > 0; k++)
			sleep_ms(5);
		base1 = atomic_load(&t1.c.delivered);
		xfrag_rxq__stats(q0, &s0);
		xfrag_rxq__stats(t1.q, &s1);
		drops0 = s0.rx_dropped + s0.rx_ring_full;
		drops1 = s1.rx_dropped + s1.rx_ring_full;
		redir0 = s0.xdp_redirected;
		redir1 = s1.xdp_redirected;
		/* 5k/s: the sending veth's 256-frame ring covers 50 ms of a
		 * softirq delayed by a loaded machine. */
		g0 = start_gen(0, 1000, "5k");
		g1 = start_gen(1, 1000, "5k");
		/* Queue 0's owner is this thread: receive while gen sends. */
		receive(q0, &c0, base0 + 1000, 3000);
		expect_eq(wait_gen(g0), 0);
		expect_eq(wait_gen(g1), 0);
		for (k = 0; k < 600 && atomic_load(&t1.c.delivered) < base1 + 1000; k++)
			sleep_ms(5);
		xfrag_rxq__stats(q0, &s0);
		xfrag_rxq__stats(t1.q, &s1);
		got0 = atomic_load(&c0.delivered) - base0;
		got1 = atomic_load(&t1.c.delivered) - base1;
		redir0 = s0.xdp_redirected - redir0;
		redir1 = s1.xdp_redirected - redir1;
		drops0 = s0.rx_dropped + s0.rx_ring_full - drops0;
		drops1 = s1.rx_dropped + s1.rx_ring_full - drops1;
		printf("restart: afterwards queue 0 got %llu, queue 1 got %llu of 1000; "
		       "redirected %llu and %llu, dropped %llu and %llu\n",
		       (unsigned long long)got0, (unsigned long long)got1,
		       (unsigned long long)redir0, (unsigned long long)redir1,
		       (unsigned long long)drops0, (unsigned long long)drops1);
		/* Every frame the program redirected is delivered, and the rings
		 * are deeper than the burst: none is dropped. */
		expect_eq(got0, redir0);
		expect_eq(got1, redir1);
		expect_eq(drops0 + drops1, 0);
		/* Fewer than 1000 redirected is a loss before the program runs
		 * (the sending veth's ring overflows while its softirq waits for
		 * a CPU): not the queues' doing, but both must still receive. */
		expect_true(redir0 > 500 && redir1 > 500);
	}
	/* Queue 1 lost nothing it was given: every frame is accounted. */
	expect_eq(in_flight(t1.q, &t1.c), 0);
	xfrag_rxq__stats(t1.q, &s1);
	xfrag_rxq__stats(q0, &s0);
	expect_eq(atomic_load(&t1.c.bad) + atomic_load(&c0.bad), 0);
	expect_eq(s1.kernel_chunks, s1.fill_level);
	expect_eq(xfrag_umem__xsk_stats(u, &xs), 0);
	expect_eq(xs.sockets, 2);
	expect_eq(xs.quarantined, 0);
out:
	atomic_store(&t1.stop, 1);
	pthread_join(th, NULL);
	xfrag_rxq__destroy(q0);
	xfrag_rxq__destroy(t1.q);
	xfrag_umem__stats(u, &us);
	expect_eq(us.blocks_free, us.nblocks);
	expect_eq(us.bad_release, 0);
	xfrag_xdp__detach(x);
	xfrag_umem__destroy(u);
	expect_eq(count_fds(), fds0);
}

/* -------------------------------------------------------------- byo -- */

/* xdp_md.rx_queue_index; a redirect to slot rx_queue_index, else PASS. */
static int load_redirect_prog(int map_fd)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_1, .off = 16 },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "byo_redirect", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

/* Sent = delivered + what the socket counted; nothing else to ask. */
static void byo_round(struct xfrag_rxq *q, uint32_t count)
{
	XFRAG_OPTS(xfrag_rxq_stats, s);
	struct rx_count c = { 0 };
	uint64_t end;
	pid_t g = start_gen(0, count, "20k");

	expect_eq(wait_gen(g), 0);
	end = now_ms() + 3000;
	for (;;) {
		drain(q, &c);
		xfrag_rxq__stats(q, &s);
		if (atomic_load(&c.delivered) + s.rx_dropped + s.rx_ring_full +
			    s.rx_invalid_descs >= count || now_ms() > end)
			break;
	}
	printf("byo: sent %u, delivered %llu, rx_dropped %llu, rx_ring_full %llu\n",
	       count, (unsigned long long)atomic_load(&c.delivered),
	       (unsigned long long)s.rx_dropped, (unsigned long long)s.rx_ring_full);
	expect_eq(atomic_load(&c.delivered) + s.rx_dropped + s.rx_ring_full +
			  s.rx_invalid_descs, count);
	expect_eq(atomic_load(&c.bad), 0);
	expect_eq(s.has_xdp, 0);
	expect_eq(s.xdp_redirected, 0);
	expect_eq(s.kernel_chunks, s.fill_level);
}

TEST(byo)
{
	XFRAG_OPTS(xfrag_umem_opts, uo, .size = 4 << 20, .hugepages = XFRAG_HUGE_NEVER);
	struct xfrag_umem_stats us;
	struct xfrag_umem *u;
	struct xfrag_rxq *q;
	int map_fd, prog_fd, ifindex = (int)if_nametoindex(host_if), fds0, zero = 0;

	map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "byo_xsks", 4, 4, 1, NULL);
	assert_true(map_fd >= 0);
	prog_fd = load_redirect_prog(map_fd);
	assert_true(prog_fd >= 0);
	assert_eq(bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL), 0);
	fds0 = count_fds();
	u = xfrag_umem__create(&uo);
	assert_true(u != NULL);

	/* The queue puts its socket in the caller's XSKMAP, and takes it out. */
	{
		XFRAG_OPTS(xfrag_rxq_opts, o, .ifname = host_if, .xsks_map_fd = map_fd,
			   .fill_size = 1024, .rx_size = 1024);

		q = xfrag_rxq__create(u, NULL, &o);
		assert_true(q != NULL);
		byo_round(q, 2000);
		xfrag_rxq__destroy(q);
	}
	/* No map: the caller inserts the socket where its program looks. */
	{
		XFRAG_OPTS(xfrag_rxq_opts, o, .ifindex = ifindex, .fill_size = 1024,
			   .rx_size = 1024);
		int fd;

		q = xfrag_rxq__create(u, NULL, &o);
		assert_true(q != NULL);
		fd = xfrag_rxq__fd(q);
		expect_eq(bpf_map_update_elem(map_fd, &zero, &fd, BPF_ANY), 0);
		byo_round(q, 1000);
		xfrag_rxq__destroy(q);
	}
	/* Without a program, without an interface: refused with a reason. */
	{
		XFRAG_OPTS(xfrag_rxq_opts, o, .queue_id = 0);

		errno = 0;
		expect_true(xfrag_rxq__create(u, NULL, &o) == NULL && errno == EINVAL);
		o.ifname = "nosuch0";
		expect_true(xfrag_rxq__create(u, NULL, &o) == NULL && errno == ENODEV);
	}
	xfrag_umem__stats(u, &us);
	expect_eq(us.blocks_free, us.nblocks);
	xfrag_umem__destroy(u);
	expect_eq(count_fds(), fds0);
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	close(prog_fd);
	close(map_fd);
}

int main(int argc, char **argv)
{
	static const struct test_case tests[] = { T(restart), T(byo) };
	FILE *f;
	char path[128];

	if (argc != 6) {
		fprintf(stderr, "usage: %s restart|byo HOST_IF NS NS_IF XFRAG_BENCH\n", argv[0]);
		return 2;
	}
	host_if = argv[2];
	ns_name = argv[3];
	ns_if = argv[4];
	bench = argv[5];
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", host_if);
	f = fopen(path, "r");
	if (!f || !fgets(host_mac, sizeof(host_mac), f)) {
		fprintf(stderr, "cannot read the MAC of %s\n", host_if);
		return 2;
	}
	fclose(f);
	host_mac[strcspn(host_mac, "\n")] = '\0';
	return test_run(tests, sizeof(tests) / sizeof(tests[0]), 2, argv);
}
