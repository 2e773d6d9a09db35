// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * RX path on a real kernel: xfrag rx queues on the host side of a veth pair,
 * a sender (AF_PACKET, in the lab's namespace) on the other. Driven by
 * test_rx.sh, which creates and deletes the lab. Every scenario checks
 * conservation: frames the XDP program redirected = delivered + named drops.
 *
 *   rx-test SCENARIO HOST_IF NS NS_IF [frame_size [headroom]]
 *   scenarios: intact bound arp queues hold frame sigterm badargs ...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "test.h"
#include "xfrag/rxq.h"
#include "xfrag/txq.h"
#include "xfrag/xdp.h"

#define PORT 9091
#define MAGIC 0x58465254u /* "XFRT" */

static const char *host_if, *ns_name, *ns_if;
static uint32_t frame_size;
static uint32_t lab_copybreak; /* lab_open uses it for new queues */
static uint32_t lab_headroom;  /* ... and this */
static uint32_t lab_meta_every; /* the program stamps one frame in this many */
static volatile sig_atomic_t stop;

struct hdr {
	uint32_t magic;
	uint32_t seq;
	uint16_t len;
	uint16_t flow;
	uint32_t sum;
} __attribute__((packed));

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int read_mac(const char *ifname, uint8_t mac[6])
{
	char path[128];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fscanf(f, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		   &mac[2], &mac[3], &mac[4], &mac[5]);
	fclose(f);
	return n == 6 ? 0 : -1;
}

static uint32_t payload_sum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* Ethernet + IPv4 + UDP to PORT, payload: hdr then a seq-derived pattern. */
static size_t build_udp(uint8_t *buf, size_t len, const uint8_t dst[6],
			const uint8_t src[6], uint32_t seq, uint16_t flow)
{
	struct ether_header *eh = (void *)buf;
	struct iphdr *ip = (void *)(eh + 1);
	struct udphdr *uh = (void *)(ip + 1);
	struct hdr *h = (void *)(uh + 1);
	uint8_t *pl = (uint8_t *)(h + 1);
	size_t plen = len - (size_t)(pl - buf), i;
	uint32_t csum = 0;
	uint16_t *w = (uint16_t *)ip;

	memcpy(eh->ether_dhost, dst, 6);
	memcpy(eh->ether_shost, src, 6);
	eh->ether_type = htons(ETHERTYPE_IP);
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)(len - sizeof(*eh)));
	ip->saddr = htonl(0xC6120002); /* 198.18.0.2 */
	ip->daddr = htonl(0xC6120001); /* 198.18.0.1 */
	for (i = 0; i < 10; i++)
		csum += w[i];
	csum = (csum & 0xffff) + (csum >> 16);
	ip->check = (uint16_t)~((csum & 0xffff) + (csum >> 16));
	uh->source = htons((uint16_t)(10000 + flow));
	uh->dest = htons(PORT);
	uh->len = htons((uint16_t)(len - sizeof(*eh) - sizeof(*ip)));
	uh->check = 0;
	for (i = 0; i < plen; i++)
		pl[i] = (uint8_t)(seq * 31 + i);
	h->magic = MAGIC;
	h->seq = seq;
	h->len = (uint16_t)len;
	h->flow = flow;
	h->sum = payload_sum(pl, plen);
	return len;
}

/* 0 if intact; sets *seq. */
static int verify(const uint8_t *buf, uint32_t len, uint32_t *seq)
{
	const size_t off = sizeof(struct ether_header) + sizeof(struct iphdr) +
			   sizeof(struct udphdr);
	const struct hdr *h = (const void *)(buf + off);

	if (len < off + sizeof(*h) || h->magic != MAGIC)
		return -1;
	if (h->len != len)
		return -2;
	if (payload_sum(buf + off + sizeof(*h), len - off - sizeof(*h)) != h->sum)
		return -3;
	*seq = h->seq;
	return 0;
}

/* ------------------------------------------------------------- sender -- */

struct send_spec {
	const uint32_t *sizes;
	int nsizes;
	uint32_t count;
	int arp_every; /* send an ARP request after every N UDP frames; 0: none */
	int cpu;       /* pin (AF_PACKET TX queue = CPU on veth) */
	uint32_t seq0;
};

static void send_frames(const struct send_spec *sp)
{
	uint8_t dst[6], src[6], buf[9100];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	char path[256];
	int nsfd, fd;
	uint32_t i;

	if (read_mac(host_if, dst))
		_exit(10);
	snprintf(path, sizeof(path), "/var/run/netns/%s", ns_name);
	nsfd = open(path, O_RDONLY);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET)) {
		perror("setns");
		_exit(11);
	}
	if (sp->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(sp->cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	{
		/* sysfs still shows the old namespace after setns(): ask the socket. */
		struct ifreq ifr = { 0 };

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ns_if);
		if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr))
			_exit(12);
		memcpy(src, ifr.ifr_hwaddr.sa_data, 6);
	}
	sll.sll_ifindex = (int)if_nametoindex(ns_if);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, dst, 6);
	if (fd < 0 || !sll.sll_ifindex) {
		perror("AF_PACKET");
		_exit(13);
	}
	for (i = 0; i < sp->count; i++) {
		size_t len = build_udp(buf, sp->sizes[i % (uint32_t)sp->nsizes], dst,
				       src, sp->seq0 + i, (uint16_t)(i % 4));

		while (sendto(fd, buf, len, 0, (void *)&sll, sizeof(sll)) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN) {
				perror("sendto");
				_exit(14);
			}
			usleep(100);
		}
		if (sp->arp_every && i % (uint32_t)sp->arp_every == 0) {
			struct ether_header *eh = (void *)buf;

			memset(buf, 0, 60);
			memset(eh->ether_dhost, 0xff, 6);
			memcpy(eh->ether_shost, src, 6);
			eh->ether_type = htons(ETHERTYPE_ARP);
			if (sendto(fd, buf, 60, 0, (void *)&sll, sizeof(sll)) < 0)
				_exit(15);
		}
		/* Pace: veth drops silently when its ring is full. */
		if (i % 16 == 15)
			usleep(200);
	}
	close(fd);
	_exit(0);
}

static pid_t start_sender(const struct send_spec *sp)
{
	pid_t pid = fork();

	if (pid == 0)
		send_frames(sp);
	return pid;
}

static int wait_sender(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

/* ------------------------------------------------------------ receiver -- */

#define MAX_BLOCKS 1024

struct lab {
	struct xfrag_umem *umem;
	struct xfrag_xdp *xdp;
	struct xfrag_rxq *q[2];
	int nq;
	/* Geometry the chunks must have (lab_geometry()), and what they had. */
	uint32_t fs, block_size, nblocks;
	bool page_cross_ok;
	uint64_t chunks_seen[MAX_BLOCKS]; /* per block: chunk slots that held a frame */
	uint8_t queues_seen[MAX_BLOCKS];  /* per block: queues it delivered to */
};

/* What the chunks of this lab must look like: from the queue's frame size
 * and the UMEM's blocks; the received addresses are then checked. */
static void lab_geometry(struct lab *l)
{
	XFRAG_OPTS(xfrag_rxq_stats, s);
	struct xfrag_umem_stats us;

	xfrag_rxq__stats(l->q[0], &s);
	xfrag_umem__stats(l->umem, &us);
	l->fs = s.frame_size;
	l->page_cross_ok = s.page_cross_ok;
	l->block_size = us.block_size;
	l->nblocks = us.nblocks;
	if (l->nblocks > MAX_BLOCKS) {
		test_fail_(__FILE__, __LINE__, "a UMEM of %u blocks: the test tracks %d",
			   us.nblocks, MAX_BLOCKS);
		l->fs = 0; /* no geometry checks */
		l->nblocks = MAX_BLOCKS;
	}
}

/* Chunks per block as the carving rule gives them: packed down from the
 * block's end, or from each 4 KiB page's end when chunks may not cross one. */
static uint32_t expected_chunks_per_block(const struct lab *l)
{
	return l->page_cross_ok ? l->block_size / l->fs :
				  (l->block_size / 4096) * (4096 / l->fs);
}

/* Slot of a chunk at @off in its block, or -1 where no chunk can start. */
static int chunk_slot(const struct lab *l, uint32_t off)
{
	uint32_t span = l->page_cross_ok ? l->block_size : 4096;
	uint32_t end = l->page_cross_ok ? l->block_size : (off / 4096 + 1) * 4096;
	uint32_t j = (end - off) / l->fs;

	if ((end - off) % l->fs || j == 0 || j > span / l->fs)
		return -1;
	return (int)((l->page_cross_ok ? 0 : off / 4096 * (4096 / l->fs)) + j - 1);
}

static int lab_open(struct lab *l, int nq, uint64_t umem_size, uint32_t fs,
		    uint32_t fill, bool udp_only)
{
	XFRAG_OPTS(xfrag_umem_opts, uo, .size = umem_size, .hugepages = XFRAG_HUGE_NEVER);
	XFRAG_OPTS(xfrag_xdp_filter, f, .ethertype = 0x0800, .l4_proto = IPPROTO_UDP,
		   .port_lo = PORT, .port_hi = PORT);
	XFRAG_OPTS(xfrag_xdp_opts, xo, .ifname = host_if, .mode = XFRAG_XDP_MODE_NATIVE,
		   .filter = udp_only ? &f : NULL, .meta = true, .meta_every = lab_meta_every);
	int i;

	memset(l, 0, sizeof(*l));
	l->umem = xfrag_umem__create(&uo);
	if (!l->umem)
		return -errno;
	l->xdp = xfrag_xdp__attach(&xo);
	if (!l->xdp)
		return -errno;
	for (i = 0; i < nq; i++) {
		XFRAG_OPTS(xfrag_rxq_opts, qo, .queue_id = (uint32_t)i, .frame_size = fs,
			   .fill_size = fill, .rx_size = fill, .copybreak = lab_copybreak,
			   .headroom = lab_headroom);
		l->q[i] = xfrag_rxq__create(l->umem, l->xdp, &qo);
		if (!l->q[i])
			return -errno;
		l->nq++;
	}
	lab_geometry(l);
	return 0;
}

static void lab_close(struct lab *l)
{
	for (int i = 0; i < l->nq; i++)
		xfrag_rxq__destroy(l->q[i]);
	if (l->umem) {
		/* Every chunk, copy and chain has come home: nothing leaked. */
		struct xfrag_umem_stats s;

		struct xfrag_census cs;
		char m[320];

		xfrag_umem__stats(l->umem, &s);
		expect_eq(s.blocks_free, s.nblocks);
		expect_eq(s.bad_release, 0);
		/* ... and each block is in the pool exactly once. */
		if (xfrag_census(l->umem, &cs, NULL) || cs.blocks[XFRAG_PLACE_POOL] != cs.nblocks) {
			xfrag_census_format(&cs, m, sizeof(m));
			test_fail_(__FILE__, __LINE__, "census after close: %s", m);
		}
	}
	xfrag_xdp__detach(l->xdp);
	xfrag_umem__destroy(l->umem);
	memset(l, 0, sizeof(*l));
}

struct tally {
	uint64_t delivered[2], bad, dup, chains;
	uint64_t wrong_queue;  /* frames in a block another queue's cache carved */
	uint64_t bad_geometry; /* data not at chunk + 256 + headroom, or a chunk
				* where the carving rule puts none */
	uint8_t *seen; /* by seq */
	uint32_t nseq;
};

/*
 * Where the kernel put a frame: the chunk is one the carving rule makes,
 * in a block queue @k's cache carved, and the data starts at chunk + 256 +
 * headroom (XDP_PACKET_HEADROOM + ours).
 */
static void check_chunk(struct lab *l, struct tally *t, int k, uint64_t desc,
			const uint8_t *data)
{
	uint64_t a = desc & XFRAG_ADDR_MASK;
	uint32_t blk = (uint32_t)(a / l->block_size);
	int slot = chunk_slot(l, (uint32_t)(a % l->block_size));

	if (blk >= l->nblocks) {
		t->bad_geometry++;
		return;
	}
	if (atomic_load(&xfrag_umem__hot(l->umem)->blocks[blk].owner) != k)
		t->wrong_queue++;
	if (slot < 0 || data != (uint8_t *)xfrag_umem__ptr(l->umem, a) +
				       XFRAG_XDP_PACKET_HEADROOM + lab_headroom)
		t->bad_geometry++;
	else
		l->chunks_seen[blk] |= 1ull << slot;
	l->queues_seen[blk] |= (uint8_t)(1u << k);
}

/* A copybreak copy: a cache-line frag of the queue's own small cache. */
static void check_copy(struct lab *l, struct tally *t, int k, const struct xfrag_pkt *p)
{
	uint32_t blk = (uint32_t)(p->addr / l->block_size);

	if (blk >= l->nblocks || p->addr % 64 ||
	    p->data != (uint8_t *)xfrag_umem__ptr(l->umem, p->addr) + p->meta_len)
		t->bad_geometry++;
	else if (atomic_load(&xfrag_umem__hot(l->umem)->blocks[blk].owner) != k)
		t->wrong_queue++;
}

static void check_where(struct lab *l, struct tally *t, int k, const struct xfrag_pkt *p)
{
	const struct xfrag_chain *ch = xfrag_pkt__chain(l->umem, p);
	uint32_t len;

	if (!l->fs)
		return;
	if (p->flags & XFRAG_PKT_F_COPY) {
		check_copy(l, t, k, p);
	} else if (!ch) {
		check_chunk(l, t, k, p->addr, p->data);
	} else {
		for (unsigned int g = 0; g < ch->nsegs; g++)
			check_chunk(l, t, k, ch->seg[g].addr,
				    xfrag_pkt__seg(l->umem, p, g, &len));
	}
}

/* Verify and count @n packets of queue @k (not released here). */
static void tally_pkts(struct lab *l, struct tally *t, int k, struct xfrag_pkt *pk, int n)
{
	static uint8_t flat[16384];

	for (int i = 0; i < n; i++) {
		const uint8_t *buf = pk[i].data;
		uint32_t seq;

		if (pk[i].nsegs > 1) {
			uint32_t off = 0, sl;
			uint8_t *sp;

			for (unsigned int g = 0; (sp = xfrag_pkt__seg(l->umem, &pk[i], g, &sl)); g++) {
				if (off + sl > sizeof(flat))
					break;
				memcpy(flat + off, sp, sl);
				off += sl;
			}
			t->chains++;
			buf = off == pk[i].len ? flat : NULL;
		}
		check_where(l, t, k, &pk[i]);
		if (!buf || verify(buf, pk[i].len, &seq) || seq >= t->nseq)
			t->bad++; /* damaged, or never sent */
		else
			t->dup += t->seen[seq]++ > 0;
	}
	t->delivered[k] += (uint64_t)n;
}

/* Receive until @want frames or @ms elapse (one pass at least); verify and
 * release each. */
static void receive(struct lab *l, struct tally *t, uint64_t want, uint64_t ms)
{
	struct xfrag_pkt pk[64];
	uint64_t end = now_ms() + ms, got = 0;
	int n, k;

	do {
		int idle = 1;

		for (k = 0; k < l->nq; k++) {
			n = xfrag_rxq__recv(l->q[k], pk, 64);
			if (n <= 0)
				continue;
			idle = 0;
			tally_pkts(l, t, k, pk, n);
			got += (uint64_t)n;
			xfrag_pkt__release_bulk(l->umem, pk, (unsigned int)n);
		}
		if (idle)
			usleep(50);
	} while (got < want && now_ms() < end && !stop);
}

struct acct {
	uint64_t redirected, seen, passed, dropped_named, delivered;
};

/* Sum the counters of every queue: redirected must equal delivered + drops. */
static void books(struct lab *l, const struct tally *t, struct acct *a, bool print)
{
	memset(a, 0, sizeof(*a));
	for (int k = 0; k < l->nq; k++) {
		XFRAG_OPTS(xfrag_rxq_stats, s);

		xfrag_rxq__stats(l->q[k], &s);
		a->redirected += s.xdp_redirected;
		a->seen += s.xdp_seen;
		a->passed += s.xdp_passed;
		/* rx_dropped already includes the fill-ring-empty drops. */
		a->dropped_named += s.rx_dropped + s.rx_ring_full + s.rx_invalid_descs;
		a->delivered += t->delivered[k];
		if (!print)
			continue;
		printf("queue %d: seen %llu redirected %llu passed %llu failed %llu | delivered %llu rx_dropped %llu ring_full %llu fill_empty %llu invalid %llu | fill %u/%u frame %u\n",
		       k, (unsigned long long)s.xdp_seen,
		       (unsigned long long)s.xdp_redirected,
		       (unsigned long long)s.xdp_passed,
		       (unsigned long long)s.xdp_redirect_failed,
		       (unsigned long long)t->delivered[k],
		       (unsigned long long)s.rx_dropped,
		       (unsigned long long)s.rx_ring_full,
		       (unsigned long long)s.rx_fill_ring_empty,
		       (unsigned long long)s.rx_invalid_descs, s.fill_level,
		       s.fill_capacity, s.frame_size);
	}
}

static void account(struct lab *l, const struct tally *t, struct acct *a)
{
	books(l, t, a, true);
	expect_eq(t->wrong_queue, 0);
	expect_eq(t->bad_geometry, 0);
}

static uint32_t blocks_free(struct lab *l, uint32_t *nblocks)
{
	struct xfrag_umem_stats s;

	xfrag_umem__stats(l->umem, &s);
	*nblocks = s.nblocks;
	return s.blocks_free;
}

/* ----------------------------------------------------------- scenarios -- */

static struct lab L;
static struct tally T;

/* A failed assertion must not leave the program attached. */
static void cleanup(void)
{
	lab_close(&L);
}

static void tally_init(uint32_t nseq)
{
	free(T.seen);
	memset(&T, 0, sizeof(T));
	T.nseq = nseq;
	T.seen = calloc(nseq, 1);
}

/*
 * Receive until the books balance: the program has seen all @sent frames
 * and every one it redirected is delivered or a named drop. Bounded by
 * 5 s and 50,000 polls; a frame still in flight then shows in the books.
 */
static void settle(uint64_t sent)
{
	uint64_t end = now_ms() + 5000;
	struct acct a;
	int polls;

	for (polls = 0; polls < 50000 && now_ms() < end; polls++) {
		books(&L, &T, &a, false);
		if (a.seen >= sent && a.redirected == a.delivered + a.dropped_named)
			return;
		receive(&L, &T, 1, 1);
		usleep(50);
	}
	printf("settle: books still open after %d polls: seen %llu of %llu sent, redirected %llu, delivered %llu + drops %llu\n",
	       polls, (unsigned long long)a.seen, (unsigned long long)sent,
	       (unsigned long long)a.redirected, (unsigned long long)a.delivered,
	       (unsigned long long)a.dropped_named);
}

/*
 * Send @sp from the lab's namespace into queue 0, receive until every frame
 * arrived (20 s at most) and any stragglers, and check the books: each
 * frame delivered once and intact, redirected = delivered + named drops.
 */
static void traffic(const struct send_spec *sp, struct acct *a)
{
	uint32_t i, missing = 0;
	pid_t pid;

	tally_init(sp->seq0 + sp->count);
	pid = start_sender(sp);
	receive(&L, &T, sp->count, 20000);
	expect_eq(wait_sender(pid), 0);
	/* every UDP frame, and an ARP request after each arp_every-th */
	settle(sp->count + (sp->arp_every ? (sp->count + sp->arp_every - 1) / sp->arp_every : 0));
	account(&L, &T, a);
	for (i = sp->seq0; i < sp->seq0 + sp->count; i++)
		missing += !T.seen[i];
	expect_eq(T.bad, 0);
	expect_eq(T.dup, 0);
	expect_eq(missing, 0);
	expect_eq(a->delivered, sp->count);
	expect_eq(a->redirected, a->delivered + a->dropped_named);
}

/* Frames of 64, 512 and 1500 bytes arrive intact, each once. */
TEST(intact)
{
	static const uint32_t sizes[] = { 64, 512, 1500 };
	struct send_spec sp = { sizes, 3, 3000, 0, 0, 0 };
	struct acct a;

	assert_eq(lab_open(&L, 1, 16 << 20, frame_size, 2048, true), 0);
	traffic(&sp, &a);
	lab_close(&L);
}

/* A worker that releases @n held packets with xfrag_pkt__release_bulk(),
 * bound to a releaser of its own. */
struct bound_worker {
	struct xfrag_umem *umem;
	const struct xfrag_pkt *pkts;
	uint64_t n;
	int err;
};

static void *bound_worker(void *arg)
{
	struct bound_worker *w = arg;
	struct xfrag_releaser *r = xfrag_releaser__create(w->umem, NULL);

	if (!r || xfrag_releaser__bind(r)) {
		w->err = -1;
		return NULL;
	}
	for (uint64_t i = 0; i < w->n; i += 64)
		xfrag_pkt__release_bulk(w->umem, w->pkts + i,
					(unsigned int)(w->n - i < 64 ? w->n - i : 64));
	/* Its runs stay in the rings for the live cache to apply. */
	xfrag_releaser__destroy(r);
	return NULL;
}

/*
 * The receiving thread bound to its queue's cache (xfrag_rxq__bind): the
 * same xfrag_pkt__release_bulk() calls then release like
 * xfrag_rxq__release(), and a block they free becomes the cache's spare,
 * which its next refill takes, instead of a trip through the shared pool.
 * Frames arrive intact either way; the count of pool takes tells the paths
 * apart (unbound, every new block comes from the pool).
 */
TEST(bound)
{
	static const uint32_t sizes[] = { 64, 1500 };
	struct send_spec sp = { sizes, 2, 3000, 0, 0, 0 };
	uint64_t takes[2], refills[2];
	struct xfrag_cache *c;
	struct acct a;

	expect_eq(xfrag_rxq__bind(NULL), -EINVAL);
	for (int pass = 0; pass < 2; pass++) {
		assert_eq(lab_open(&L, 1, 16 << 20, frame_size, 2048, true), 0);
		assert_eq(xfrag_rxq__bind(L.q[0]), 0);
		c = __xfrag_bound_cache(L.umem);
		assert_true(c != NULL);
		if (!pass) {
			xfrag_cache__unbind(c);
			expect_true(__xfrag_bound_cache(L.umem) == NULL);
		}
		takes[pass] = c->pool_takes;
		refills[pass] = c->refills;
		traffic(&sp, &a);
		takes[pass] = c->pool_takes - takes[pass];
		refills[pass] = c->refills - refills[pass];
		expect_true(__xfrag_bound_cache(L.umem) == (pass ? c : NULL));
		lab_close(&L); /* the queue's destroy ends a binding */
		expect_true(__xfrag_bound.cache == NULL);
	}
	printf("unbound: %llu refills, %llu pool takes; bound: %llu refills, %llu pool takes\n",
	       (unsigned long long)refills[0], (unsigned long long)takes[0],
	       (unsigned long long)refills[1], (unsigned long long)takes[1]);
	expect_true(refills[0] >= 50 && refills[1] >= 50); /* 3000 chunks, 32 a block */
	expect_true(takes[0] * 10 >= refills[0] * 9);
	expect_true(takes[1] * 4 <= takes[0]);

	/*
	 * A worker bound to its releaser: the frames this thread received and
	 * held go back through the same xfrag_pkt__release_bulk() calls as
	 * runs to the queue's cache, which applies them on this thread.
	 */
	{
		struct send_spec sh = { sizes, 2, 1000, 0, 0, 0 };
		struct xfrag_pkt *held = calloc(1024, sizeof(*held));
		struct bound_worker w = { .pkts = held };
		uint64_t runs, end;
		pthread_t th;
		pid_t pid;
		int n;

		assert_true(held != NULL);
		assert_eq(lab_open(&L, 1, 16 << 20, frame_size, 2048, true), 0);
		assert_eq(xfrag_rxq__bind(L.q[0]), 0);
		c = __xfrag_bound_cache(L.umem);
		xfrag_cache__unbind(c);
		tally_init(sh.count);
		pid = start_sender(&sh);
		end = now_ms() + 20000;
		while (w.n < sh.count && now_ms() < end) {
			n = xfrag_rxq__recv(L.q[0], held + w.n, 64);
			if (n > 0)
				w.n += (uint64_t)n;
			else
				usleep(50);
		}
		expect_eq(wait_sender(pid), 0);
		expect_eq(w.n, sh.count);
		tally_pkts(&L, &T, 0, held, (int)w.n);
		expect_eq(T.bad, 0);
		runs = c->inbox_runs;
		w.umem = L.umem;
		assert_eq(pthread_create(&th, NULL, bound_worker, &w), 0);
		assert_eq(pthread_join(th, NULL), 0);
		expect_eq(w.err, 0);
		expect_true(xfrag_cache__reclaim(c) > 0);
		runs = c->inbox_runs - runs;
		printf("bound worker: %llu frames back as %llu runs, %llu atomics in the cache\n",
		       (unsigned long long)w.n, (unsigned long long)runs,
		       (unsigned long long)c->inbox_atomics);
		/* One run per block at least: 1000 chunks, 32 a block. */
		expect_true(runs >= w.n / 32);
		expect_true(runs < w.n);
		settle(sh.count);
		account(&L, &T, &a);
		expect_eq(a.delivered, sh.count);
		lab_close(&L);
		free(held);
	}
}

/* ARP goes to the stack, matching UDP to the socket. */
TEST(arp)
{
	static const uint32_t sizes[] = { 128 };
	struct send_spec sp = { sizes, 1, 1000, 5, 0, 0 };
	struct acct a;

	assert_eq(lab_open(&L, 1, 16 << 20, frame_size, 2048, true), 0);
	traffic(&sp, &a);
	expect_true(a.passed >= 200); /* the 200 ARP requests */
	lab_close(&L);
}

/* Two queues share one UMEM; a sender on each CPU feeds each queue. */
TEST(queues)
{
	static const uint32_t sizes[] = { 64, 1000 };
	struct send_spec s0 = { sizes, 2, 1500, 0, 0, 0 };
	struct send_spec s1 = { sizes, 2, 1500, 0, 1, 100000 };
	struct acct a;
	pid_t p0, p1;

	assert_eq(lab_open(&L, 2, 32 << 20, frame_size, 2048, true), 0);
	tally_init(200000);
	p0 = start_sender(&s0);
	p1 = start_sender(&s1);
	receive(&L, &T, 3000, 20000);
	expect_eq(wait_sender(p0), 0);
	expect_eq(wait_sender(p1), 0);
	settle(3000);
	account(&L, &T, &a);
	expect_eq(a.delivered, 3000);
	expect_true(T.delivered[0] > 0);
	expect_true(T.delivered[1] > 0);
	expect_eq(T.bad, 0);
	expect_eq(a.redirected, a.delivered + a.dropped_named);
	/*
	 * Both queues carve from the one pool: each frame came in a block its
	 * own queue's cache carved (account() checks), and every block is in
	 * the pool or held for one of the two queues, exactly once, enough for
	 * what each queue posted. With every frame released, only the chunks
	 * posted to the fill rings pin memory. (Blocks seldom change queues:
	 * the LIFO pool hands a queue back the block it freed last.)
	 */
	{
		struct xfrag_census cs;
		struct xfrag_umem_stats us;
		uint32_t held[2] = { 0, 0 }, other = 0, both = 0, level[2];
		uint32_t cpb = expected_chunks_per_block(&L);
		uint64_t posted = 0;
		uint8_t *where;

		xfrag_umem__stats(L.umem, &us);
		where = calloc(us.nblocks, 1);
		assert_true(where);
		expect_eq(xfrag_census(L.umem, &cs, where), 0);
		for (uint32_t b = 0; b < L.nblocks; b++) {
			uint16_t o = atomic_load(&xfrag_umem__hot(L.umem)->blocks[b].owner);

			if (where[b] != XFRAG_PLACE_POOL) {
				if (o < 2)
					held[o]++;
				else
					other++;
			}
			both += L.queues_seen[b] == 3;
		}
		for (int k = 0; k < 2; k++) {
			XFRAG_OPTS(xfrag_rxq_stats, st);

			xfrag_rxq__stats(L.q[k], &st);
			level[k] = st.fill_level;
			posted += st.fill_level;
		}
		printf("blocks held for queue 0: %u, queue 1: %u, other: %u, pool %u; %u blocks carried frames of both queues; %llu chunk refs, %llu posted\n",
		       held[0], held[1], other, cs.blocks[XFRAG_PLACE_POOL], both,
		       (unsigned long long)cs.live_refs, (unsigned long long)posted);
		expect_true(level[0] > 0 && held[0] >= (level[0] + cpb - 1) / cpb);
		expect_true(level[1] > 0 && held[1] >= (level[1] + cpb - 1) / cpb);
		expect_eq(other, 0);
		expect_eq(held[0] + held[1] + cs.blocks[XFRAG_PLACE_POOL], L.nblocks);
		expect_true(cs.live_refs <= posted + a.dropped_named);
		free(where);
	}
	lab_close(&L);
}

/*
 * An application that holds every packet starves the fill ring: the
 * kernel counts the drops. After release, reception recovers.
 */
TEST(hold)
{
	static const uint32_t sizes[] = { 64 };
	struct send_spec sp = { sizes, 1, 3000, 0, 0, 0 };
	struct xfrag_pkt *held = calloc(8192, sizeof(*held));
	struct xfrag_rxq_stats s = { .sz = sizeof(s) };
	uint64_t nheld = 0, end;
	uint32_t nb, nf;
	struct acct a;
	pid_t pid;
	int n;

	/* 2 MiB of 2048-byte chunks: 1024 chunks, fill ring 256. */
	assert_eq(lab_open(&L, 1, 2 << 20, 2048, 256, true), 0);
	tally_init(100000);
	pid = start_sender(&sp);
	end = now_ms() + 20000;
	while (now_ms() < end) {
		n = xfrag_rxq__recv(L.q[0], held + nheld,
				    (unsigned int)(8192 - nheld < 64 ? 8192 - nheld : 64));

		if (n > 0)
			nheld += (uint64_t)n;
		else if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		else
			usleep(50);
	}
	/* Until the program saw all 3000 and each redirected frame is held
	 * or a named drop (bounded: 5 s). */
	end = now_ms() + 5000;
	do {
		while (nheld < 8192 - 64 && (n = xfrag_rxq__recv(L.q[0], held + nheld, 64)) > 0)
			nheld += (uint64_t)n;
		xfrag_rxq__stats(L.q[0], &s);
	} while ((s.xdp_seen < 3000 ||
		  s.xdp_redirected != nheld + s.rx_ring_full + s.rx_dropped) &&
		 now_ms() < end && !usleep(1000));
	printf("held %llu, fill-ring-empty drops %llu, redirected %llu\n",
	       (unsigned long long)nheld, (unsigned long long)s.rx_fill_ring_empty,
	       (unsigned long long)s.xdp_redirected);
	expect_true(nheld <= 1024);
	expect_true(s.rx_fill_ring_empty > 0);
	expect_true(s.rx_dropped >= s.rx_fill_ring_empty);
	expect_eq(s.xdp_redirected, nheld + s.rx_ring_full + s.rx_dropped);
	nf = blocks_free(&L, &nb);
	expect_eq(nf, 0);
	/* Release everything: blocks recycle, the ring refills, traffic flows. */
	xfrag_pkt__release_bulk(L.umem, held, (unsigned int)nheld);
	T.delivered[0] = nheld;
	{
		struct send_spec sp2 = { sizes, 1, 500, 0, 0, 50000 };
		uint64_t before = T.delivered[0];

		pid = start_sender(&sp2);
		receive(&L, &T, 500, 20000);
		expect_eq(wait_sender(pid), 0);
		settle(3500);
		expect_eq(T.delivered[0] - before, 500);
	}
	account(&L, &T, &a);
	expect_eq(a.redirected, a.delivered + a.dropped_named);
	lab_close(&L);
	free(held);
}

/* Some block held a frame in every chunk slot it has: the carving packs
 * as many chunks into a block as the rule says, and no more. */
static void expect_full_blocks(const struct lab *l)
{
	uint32_t most = 0;

	for (uint32_t b = 0; b < l->nblocks; b++) {
		uint32_t c = (uint32_t)__builtin_popcountll(l->chunks_seen[b]);

		if (c > most)
			most = c;
	}
	printf("frame %u in %u-byte blocks%s: up to %u chunks of a block carried frames, %u expected\n",
	       l->fs, l->block_size, l->page_cross_ok ? " (chunks may cross pages)" : "",
	       most, expected_chunks_per_block(l));
	expect_eq(most, expected_chunks_per_block(l));
}

/*
 * frame_size (and headroom) given on the command line: 1500-byte frames
 * still fit, each frame sits at chunk + 256 + headroom, the chunks lie where
 * the carving rule puts them (traffic() checks every one), and a block
 * holds as many as the queue says.
 */
TEST(frame)
{
	static const uint32_t sizes[] = { 64, 1500 };
	struct send_spec sp = { sizes, 2, 1000, 0, 0, 0 };
	XFRAG_OPTS(xfrag_rxq_stats, s);
	struct acct a;

	assert_eq(lab_open(&L, 1, 16 << 20, frame_size, 1024, true), 0);
	xfrag_rxq__stats(L.q[0], &s);
	expect_eq(s.frame_size, frame_size);
	expect_eq(s.headroom, lab_headroom);
	expect_eq(s.chunks_per_block, expected_chunks_per_block(&L));
	traffic(&sp, &a);
	expect_full_blocks(&L);
	lab_close(&L);
}

/* Impossible geometry is refused before anything is attached to a socket. */
TEST(badargs)
{
	static const uint32_t bad_fs[] = { 2047, 4097, 1024, 8192 };
	XFRAG_OPTS(xfrag_umem_opts, uo, .size = 1 << 20, .hugepages = XFRAG_HUGE_NEVER);
	XFRAG_OPTS(xfrag_xdp_opts, xo, .ifname = host_if);
	struct xfrag_umem *u = L.umem = xfrag_umem__create(&uo);
	struct xfrag_xdp *x = L.xdp = xfrag_xdp__attach(&xo);
	unsigned int i;

	assert_true(u && x);
	for (i = 0; i < 4; i++) {
		XFRAG_OPTS(xfrag_rxq_opts, qo, .frame_size = bad_fs[i]);
		errno = 0;
		expect_true(!xfrag_rxq__create(u, x, &qo) && errno == EINVAL);
	}
	{
		XFRAG_OPTS(xfrag_rxq_opts, qo, .frame_size = 2048, .headroom = 2048 - 703);
		errno = 0;
		expect_true(!xfrag_rxq__create(u, x, &qo) && errno == EINVAL);
	}
	{
		XFRAG_OPTS(xfrag_rxq_opts, qo, .queue_id = 7);
		errno = 0;
		expect_true(!xfrag_rxq__create(u, x, &qo) && errno == ERANGE);
	}
	{
		/* 1 MiB holds 512 chunks: not enough for 2048 + 2048 ring slots. */
		XFRAG_OPTS(xfrag_rxq_opts, qo, .frame_size = 2048);
		errno = 0;
		expect_true(!xfrag_rxq__create(u, x, &qo) && errno == EINVAL);
	}
	{
		XFRAG_OPTS(xfrag_rxq_opts, qo, .fill_size = 1000);
		errno = 0;
		expect_true(!xfrag_rxq__create(u, x, &qo) && errno == EINVAL);
	}
	{
		struct xfrag_umem_stats s;

		xfrag_umem__stats(u, &s);
		expect_eq(s.blocks_free, s.nblocks);
	}
	{
		/* A tx queue already holds queue 0 of this UMEM: refused, not a
		 * crash on the rings libxdp does not hand out twice. */
		XFRAG_OPTS(xfrag_umem_opts, uo2, .size = 8 << 20, .hugepages = XFRAG_HUGE_NEVER);
		struct xfrag_umem *u2 = xfrag_umem__create(&uo2);
		XFRAG_OPTS(xfrag_txq_opts, to, .ifname = host_if, .frame_size = 2048,
			   .tx_size = 512, .comp_size = 512);
		struct xfrag_txq *tq;
		XFRAG_OPTS(xfrag_rxq_opts, qo, .frame_size = 2048, .fill_size = 2048,
			   .comp_size = 512, .rx_size = 512);

		assert_true(u2 != NULL);
		tq = xfrag_txq__create(u2, &to);
		expect_true(tq != NULL);
		errno = 0;
		expect_true(!xfrag_rxq__create(u2, x, &qo) && errno == EEXIST);
		xfrag_txq__destroy(tq);
		xfrag_umem__destroy(u2);
	}
	lab_close(&L);
}

/* Distinct blocks pinned by a set of handles. */
static uint32_t blocks_pinned(struct xfrag_umem *u, const struct xfrag_pkt *p, uint64_t n)
{
	static uint8_t mark[65536];
	uint32_t k = 0;

	memset(mark, 0, sizeof(mark));
	for (uint64_t i = 0; i < n; i++) {
		uint32_t b = xfrag_umem__block_of(u, p[i].addr);

		k += !mark[b];
		mark[b] = 1;
	}
	return k;
}

/* Hold @want packets of @size bytes; report UMEM pinned per held packet. */
static double hold_and_measure(uint32_t cb, uint32_t size, uint64_t want,
			       uint64_t *copied, uint64_t *fill_empty)
{
	uint32_t sizes[1] = { size };
	struct send_spec sp = { sizes, 1, (uint32_t)want, 0, 0, 0 };
	struct xfrag_pkt *held = calloc(want + 64, sizeof(*held));
	XFRAG_OPTS(xfrag_rxq_stats, s);
	uint64_t nheld = 0, end = now_ms() + 20000, c = 0;
	uint32_t pinned;
	pid_t pid;

	lab_copybreak = cb;
	assert_eq(lab_open(&L, 1, 32 << 20, 2048, 1024, true), 0);
	pid = start_sender(&sp);
	while (nheld < want && now_ms() < end) {
		int n = xfrag_rxq__recv(L.q[0], held + nheld, 64);

		if (n <= 0)
			usleep(50);
		else
			nheld += (uint64_t)n;
	}
	expect_eq(wait_sender(pid), 0);
	expect_eq(nheld, want);
	for (uint64_t i = 0; i < nheld; i++)
		c += (held[i].flags & XFRAG_PKT_F_COPY) != 0;
	xfrag_rxq__stats(L.q[0], &s);
	pinned = blocks_pinned(L.umem, held, nheld);
	printf("copybreak %u, %u-byte frames: held %llu, copied %llu, %u blocks pinned = %.1f bytes/packet, fill-empty %llu\n",
	       cb, size, (unsigned long long)nheld, (unsigned long long)c, pinned,
	       (double)pinned * 65536 / (double)nheld, (unsigned long long)s.rx_fill_ring_empty);
	*copied = c;
	*fill_empty = s.rx_fill_ring_empty;
	expect_eq(s.copies, c);
	xfrag_pkt__release_bulk(L.umem, held, (unsigned int)nheld);
	lab_close(&L);
	lab_copybreak = 0;
	free(held);
	return (double)pinned * 65536 / (double)nheld;
}

/*
 * Copybreak: held 64-byte frames pin a cache-line-sized copy, not a chunk;
 * frames above the threshold are not copied.
 */
TEST(copybreak)
{
	uint64_t copied, fe;
	double with, without;

	with = hold_and_measure(256, 64, 4000, &copied, &fe);
	expect_eq(copied, 4000);
	expect_eq(fe, 0); /* the fill ring never starved */
	expect_true(with <= 140.0); /* 128-byte frags, plus a partly used block */
	without = hold_and_measure(0, 64, 1000, &copied, &fe);
	expect_eq(copied, 0);
	expect_true(without >= 2000.0); /* a whole 2 KiB chunk each */
	printf("UMEM per held 64-byte packet: %.1f bytes with copybreak, %.1f without (%.1fx less)\n",
	       with, without, without / with);
	hold_and_measure(256, 512, 500, &copied, &fe);
	expect_eq(copied, 0);
}

/* MTU 9000: jumbo frames arrive as chains, intact; mixed sizes conserve. */
TEST(jumbo)
{
	static const uint32_t sizes[] = { 64, 1500, 9000, 9000, 4000 };
	struct send_spec sp = { sizes, 5, 2000, 0, 0, 0 };
	XFRAG_OPTS(xfrag_rxq_stats, s);
	struct acct a;

	assert_eq(lab_open(&L, 1, 32 << 20, 4096, 2048, true), 0);
	xfrag_rxq__stats(L.q[0], &s);
	expect_eq(s.multi_buffer, 1);
	traffic(&sp, &a);
	xfrag_rxq__stats(L.q[0], &s);
	printf("chains %llu (seen by the test %llu), chain drops %llu\n",
	       (unsigned long long)s.chains, (unsigned long long)T.chains,
	       (unsigned long long)s.chain_drops);
	expect_eq(T.chains, 1200); /* 9000 x 2 and 4000 (> 4096 - 256) per 5 */
	expect_eq(s.chain_drops, 0);
	lab_close(&L);
}

/* ip link set dev IF VERB / ip link del dev IF */
static void run(const char *verb, const char *ifname)
{
	char cmd[256];

	if (!strcmp(verb, "del"))
		snprintf(cmd, sizeof(cmd), "ip link del dev %s", ifname);
	else
		snprintf(cmd, sizeof(cmd), "ip link set dev %s %s", ifname, verb);
	if (system(cmd) != 0)
		fprintf(stderr, "command failed: %s\n", cmd);
}

/* The link goes down and up under a running receiver: it is told, then recovers. */
TEST(ifdown)
{
	static const uint32_t sizes[] = { 256 };
	struct send_spec sp = { sizes, 1, 500, 0, 0, 0 };
	struct acct a;
	pid_t pid;

	assert_eq(lab_open(&L, 1, 16 << 20, 0, 2048, true), 0);
	tally_init(100000);
	expect_eq(xfrag_rxq__check(L.q[0]), 0);
	pid = start_sender(&sp);
	receive(&L, &T, 500, 20000);
	expect_eq(wait_sender(pid), 0);
	run("down", host_if);
	expect_eq(xfrag_rxq__check(L.q[0]), -ENETDOWN);
	expect_eq(xfrag_rxq__recv(L.q[0], NULL, 0), 0);
	run("up", host_if);
	usleep(200000);
	expect_eq(xfrag_rxq__check(L.q[0]), 0);
	sp.seq0 = 1000;
	pid = start_sender(&sp);
	receive(&L, &T, 500, 20000);
	expect_eq(wait_sender(pid), 0);
	settle(1000);
	account(&L, &T, &a);
	expect_eq(a.delivered, 1000);
	expect_eq(a.redirected, a.delivered + a.dropped_named);
	lab_close(&L);
}

/*
 * The interface is deleted under the receiver, with frames still in the RX
 * ring: an error from check, no crash, no leak. The frames the kernel had
 * put in the ring are in memory we own: the queue hands out all of them,
 * intact and once, or none (it may refuse once the device is gone) - and
 * then nothing more, ever.
 */
TEST(ifdel)
{
	static const uint32_t sizes[] = { 256 };
	struct send_spec sp = { sizes, 1, 200, 0, 0, 0 };
	XFRAG_OPTS(xfrag_rxq_stats, s);
	struct xfrag_pkt pk[64];
	uint64_t end, after = 0;
	int err = 0, n, i;
	pid_t pid;

	assert_eq(lab_open(&L, 1, 16 << 20, 0, 2048, true), 0);
	tally_init(100000);
	pid = start_sender(&sp);
	expect_eq(wait_sender(pid), 0);
	end = now_ms() + 5000;
	do
		xfrag_rxq__stats(L.q[0], &s);
	while (s.xdp_redirected < 200 && now_ms() < end && !usleep(1000));
	expect_eq(s.xdp_redirected, 200);
	n = xfrag_rxq__recv(L.q[0], pk, 50);
	assert_eq(n, 50);
	tally_pkts(&L, &T, 0, pk, n);
	xfrag_pkt__release_bulk(L.umem, pk, (unsigned int)n);
	run("del", host_if);
	for (i = 0; i < 100 && !(err = xfrag_rxq__check(L.q[0])); i++)
		usleep(10000);
	printf("check after delete: %d (%s)\n", err, strerror(-err));
	expect_true(err == -ENODEV || err == -ENETDOWN);
	for (i = 0; i < 100 && (n = xfrag_rxq__recv(L.q[0], pk, 64)) > 0; i++) {
		tally_pkts(&L, &T, 0, pk, n);
		after += (uint64_t)n;
		xfrag_pkt__release_bulk(L.umem, pk, (unsigned int)n);
	}
	printf("after delete: %llu frames from the ring, then recv %d\n",
	       (unsigned long long)after, n);
	expect_true(after == 150 || after == 0);
	for (i = 0; i < 3; i++)
		expect_true(xfrag_rxq__recv(L.q[0], pk, 64) <= 0);
	expect_eq(T.bad, 0);
	expect_eq(T.dup, 0);
	expect_eq(T.delivered[0], 50 + after);
	lab_close(&L); /* must not crash; blocks all come home */
}

/*
 * A hugetlb-backed UMEM (test_rx.sh reserves the pages): chunks may cross
 * 4 KiB pages, so 3072-byte chunks pack 21 to a 64 KiB block instead of 16.
 */
TEST(huge)
{
	static const uint32_t sizes[] = { 64, 1500 };
	struct send_spec sp = { sizes, 2, 2000, 0, 0, 0 };
	XFRAG_OPTS(xfrag_umem_opts, uo, .size = 16 << 20, .hugepages = XFRAG_HUGE_REQUIRE);
	XFRAG_OPTS(xfrag_xdp_opts, xo, .ifname = host_if, .meta = true);
	XFRAG_OPTS(xfrag_rxq_opts, qo, .frame_size = 3072, .fill_size = 1024, .rx_size = 1024);
	XFRAG_OPTS(xfrag_rxq_stats, s);
	struct xfrag_umem_stats us;
	struct acct a;

	L.umem = xfrag_umem__create(&uo);
	assert_true(L.umem != NULL);
	xfrag_umem__stats(L.umem, &us);
	expect_eq(us.backing, XFRAG_BACKING_HUGETLB);
	expect_eq(us.hugepages_needed, 8);
	expect_eq((uintptr_t)xfrag_umem__area(L.umem) % (2 << 20), 0);
	L.xdp = xfrag_xdp__attach(&xo);
	assert_true(L.xdp != NULL);
	L.q[0] = xfrag_rxq__create(L.umem, L.xdp, &qo);
	assert_true(L.q[0] != NULL);
	L.nq = 1;
	lab_geometry(&L);
	xfrag_rxq__stats(L.q[0], &s);
	expect_eq(s.page_cross_ok, 1);
	expect_eq(s.chunks_per_block, 21);
	expect_eq(expected_chunks_per_block(&L), 21);
	traffic(&sp, &a);
	expect_full_blocks(&L);
	lab_close(&L);
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

/*
 * Open and close the whole stack many times, with traffic in between:
 * no file descriptor, mapping or attachment may accumulate.
 */
TEST(cycles)
{
	static const uint32_t sizes[] = { 64, 1500 };
	int fds0, fds1, c;

	/* One warm-up cycle: libbpf/libxdp keep a few fds of their own. */
	assert_eq(lab_open(&L, 1, 4 << 20, 0, 512, true), 0);
	lab_close(&L);
	fds0 = count_fds();
	for (c = 0; c < 20; c++) {
		struct send_spec sp = { sizes, 2, 100, 0, 0, (uint32_t)c * 100 };
		struct acct a;
		pid_t pid;

		assert_eq(lab_open(&L, 1, 4 << 20, c % 2 ? 2048 : 4096, 512, true), 0);
		tally_init(100000);
		pid = start_sender(&sp);
		receive(&L, &T, 100, 20000);
		expect_eq(wait_sender(pid), 0);
		account(&L, &T, &a);
		expect_eq(a.delivered, 100);
		expect_eq(a.redirected, a.delivered + a.dropped_named);
		lab_close(&L);
	}
	fds1 = count_fds();
	printf("fds before %d after 20 cycles %d\n", fds0, fds1);
	if (fds1 != fds0)
		system("ls -l /proc/$PPID/fd 2>/dev/null | tail -5; ls -l /proc/self/fd | tail -3");
	expect_eq(fds1, fds0);
}

/* Busy polling: the socket options are accepted and reception works. */
TEST(busypoll)
{
	static const uint32_t sizes[] = { 64, 1500 };
	struct send_spec sp = { sizes, 2, 1000, 0, 0, 0 };
	XFRAG_OPTS(xfrag_umem_opts, uo, .size = 16 << 20, .hugepages = XFRAG_HUGE_NEVER);
	XFRAG_OPTS(xfrag_xdp_opts, xo, .ifname = host_if, .meta = true);
	XFRAG_OPTS(xfrag_rxq_opts, qo, .fill_size = 1024, .rx_size = 1024,
		   .busy_poll_us = 20, .busy_poll_budget = 64);
	XFRAG_OPTS(xfrag_rxq_stats, s);
	struct acct a;

	L.umem = xfrag_umem__create(&uo);
	L.xdp = xfrag_xdp__attach(&xo);
	assert_true(L.umem && L.xdp);
	L.q[0] = xfrag_rxq__create(L.umem, L.xdp, &qo);
	assert_true(L.q[0] != NULL);
	L.nq = 1;
	lab_geometry(&L);
	traffic(&sp, &a);
	xfrag_rxq__stats(L.q[0], &s);
	/*
	 * veth does not link its queues to its NAPI instances, so the kernel
	 * gives the socket NAPI id 0 and a busy-poll recvfrom() would poll
	 * nothing: the queue says so and makes none. A driver that links
	 * them gets a poll on every recv.
	 */
	if (s.busy_poll_napi)
		expect_true(s.wakeups > 0);
	else
		expect_eq(s.wakeups, 0);
	{
		unsigned int id = 1;
		socklen_t len = sizeof(id);

		expect_eq(getsockopt(xfrag_rxq__fd(L.q[0]), SOL_SOCKET, 56 /* SO_INCOMING_NAPI_ID */,
				     &id, &len), 0);
		expect_eq(id, s.busy_poll_napi);
	}
	lab_close(&L);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Send @n frames; count the ones with metadata, and the stale ones. */
static void stamp_round(uint32_t n, uint32_t seq0, uint64_t *stamped,
			uint64_t *stale, uint64_t *delivered)
{
	static const uint32_t sizes[] = { 64 };
	struct send_spec sp = { sizes, 1, n, 0, 0, seq0 };
	struct xfrag_pkt pkts[64];
	uint64_t t0 = mono_ns(), end = now_ms() + 10000;
	pid_t pid = start_sender(&sp);

	*stamped = *stale = *delivered = 0;
	while (*delivered < n && now_ms() < end) {
		int k = xfrag_rxq__recv(L.q[0], pkts, 64), i;

		for (i = 0; i < k; i++) {
			const struct xfrag_meta *m = (const void *)(pkts[i].data - sizeof(*m));

			if (!pkts[i].meta_len)
				continue;
			++*stamped;
			/* A stamp of this round, taken before we saw the frame. */
			if (m->xdp_ts_ns < t0 || m->xdp_ts_ns > mono_ns())
				++*stale;
		}
		if (k > 0) {
			xfrag_rxq__release(L.q[0], pkts, (unsigned int)k);
			*delivered += (uint64_t)k;
		}
	}
	expect_eq(wait_sender(pid), 0);
}

/*
 * The program stamps one frame in 64; the others leave in the chunk's
 * headroom what its previous occupant left, stamp included. A first round
 * with every frame stamped fills every chunk slot of the UMEM with stamps;
 * a second round on the same UMEM (same geometry, so the same slots) must
 * report exactly the sampled frames, all of them fresh.
 */
TEST(stamps)
{
	XFRAG_OPTS(xfrag_xdp_opts, xo, .ifname = host_if, .meta = true);
	XFRAG_OPTS(xfrag_rxq_opts, qo, .frame_size = 2048, .fill_size = 1024, .rx_size = 1024);
	XFRAG_OPTS(xfrag_rxq_stats, s);
	uint64_t stamped, stale, delivered, lost;

	lab_meta_every = 1;
	assert_eq(lab_open(&L, 1, 4 << 20, 2048, 1024, true), 0);
	stamp_round(4000, 0, &stamped, &stale, &delivered);
	xfrag_rxq__stats(L.q[0], &s);
	printf("stamps: every frame: %llu delivered, %llu stamped, %llu stale; "
	       "%llu seen by the program, %llu dropped by the kernel\n",
	       (unsigned long long)delivered, (unsigned long long)stamped,
	       (unsigned long long)stale, (unsigned long long)s.xdp_seen,
	       (unsigned long long)(s.rx_dropped + s.rx_ring_full));
	/* Every frame the program redirected is delivered or counted (a
	 * loaded machine may delay the receiver or the sender's softirq: the
	 * round is a burst), and enough arrive to stamp a fill ring's worth
	 * of chunks for the next round. */
	expect_eq(delivered + s.rx_dropped + s.rx_ring_full, s.xdp_redirected);
	expect_true(delivered >= 1024);
	expect_eq(stamped, delivered);
	expect_eq(stale, 0);
	/* The same UMEM, a program that stamps one frame in 64. */
	xfrag_rxq__destroy(L.q[0]);
	xfrag_xdp__detach(L.xdp);
	xo.meta_every = 64;
	L.xdp = xfrag_xdp__attach(&xo);
	assert_true(L.xdp != NULL);
	L.q[0] = xfrag_rxq__create(L.umem, L.xdp, &qo);
	assert_true(L.q[0] != NULL);
	stamp_round(6400, 4000, &stamped, &stale, &delivered);
	xfrag_rxq__stats(L.q[0], &s);
	lost = s.xdp_redirected - delivered;
	printf("stamps: one in 64: %llu delivered, %llu stamped, %llu stale, %llu lost\n",
	       (unsigned long long)delivered, (unsigned long long)stamped,
	       (unsigned long long)stale, (unsigned long long)lost);
	/* The program stamps the 64th, 128th, ... frame it sees on one CPU:
	 * seen / 64 of them (all 6400 but for frames a loaded veth drops
	 * before the program), delivered or lost to a counted drop. */
	expect_true(s.xdp_seen > 6400 / 2 && s.xdp_seen <= 6400);
	expect_true(stamped <= s.xdp_seen / 64 && stamped + lost >= s.xdp_seen / 64);
	expect_eq(lost, s.rx_dropped + s.rx_ring_full);
	expect_eq(stale, 0);
	lab_close(&L);
	lab_meta_every = 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Receive until SIGTERM; the shell checks that nothing stays attached. */
TEST(sigterm)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	assert_eq(lab_open(&L, 1, 16 << 20, 0, 2048, true), 0);
	printf("ready\n");
	fflush(stdout);
	tally_init(1);
	receive(&L, &T, UINT64_MAX, 30000);
	expect_true(stop);
	lab_close(&L);
}

int main(int argc, char **argv)
{
	static const struct test_case all[] = { T(intact), T(bound), T(arp), T(queues), T(hold),
						T(frame), T(badargs), T(sigterm),
						T(copybreak), T(jumbo), T(ifdown), T(ifdel), T(huge), T(cycles), T(busypoll),
						T(stamps) };
	size_t i;

	if (argc < 5) {
		fprintf(stderr, "usage: rx-test SCENARIO HOST_IF NS NS_IF [frame_size [headroom]]\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "rx-test: needs root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN)\n");
		return 1;
	}
	host_if = argv[2];
	ns_name = argv[3];
	ns_if = argv[4];
	frame_size = argc > 5 ? (uint32_t)atoi(argv[5]) : 0;
	lab_headroom = argc > 6 ? (uint32_t)atoi(argv[6]) : 0;
	atexit(cleanup);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i].name, argv[1]))
			return test_run(&all[i], 1, 1, argv);
	fprintf(stderr, "rx-test: unknown scenario %s\n", argv[1]);
	return 2;
}
