// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xfrag-bench rx: receive on one or more queues of an interface through
 * AF_XDP and report rates, drops by cause, UMEM use and latency.
 *
 * One rx queue and one thread per queue, all on one UMEM. The default path
 * is xfrag's (frag-carved chunks, xfrag_rxq__recv); --fixed-frames runs the
 * classic baseline instead (fixed.c: 4096-byte frames in aligned mode, RX
 * addresses recycled straight to the fill ring) behind the same XDP program.
 *
 * Every frame the program redirects ends up counted exactly once: delivered
 * here, or dropped by the kernel (rx_dropped, rx_ring_full,
 * rx_invalid_descs). On stop the program's XSKMAP slots are cleared first,
 * then the RX rings are drained, then the counters are read, so that the
 * books balance; the summary prints the balance.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bench.h"
#include "frame.h"
#include "rx.h"

#define SPSC_SLOTS 64
#define DEFAULT_RING 2048

atomic_bool rx_stop;

/* For the fatal-signal path: detach our program, and only ours. */
static volatile int fatal_ifindex;
static volatile uint32_t fatal_prog_id;
static volatile uint32_t fatal_xdp_flags;

static void on_stop_signal(int sig)
{
	(void)sig;
	atomic_store(&rx_stop, true);
}

static void on_fatal_signal(int sig)
{
	uint32_t id = 0;

	/* Syscalls only: no locks, no allocation. */
	if (fatal_ifindex && fatal_prog_id &&
	    !bpf_xdp_query_id(fatal_ifindex, (int)fatal_xdp_flags, &id) &&
	    id == fatal_prog_id)
		bpf_xdp_detach(fatal_ifindex, (int)fatal_xdp_flags, NULL);
	signal(sig, SIG_DFL);
	raise(sig);
}

void fatal_detach_arm(int ifindex, uint32_t prog_id, bool skb)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE };
	struct sigaction sa = { .sa_handler = on_fatal_signal, .sa_flags = SA_RESETHAND };
	size_t i;

	fatal_ifindex = ifindex;
	fatal_xdp_flags = skb ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fatal_prog_id = prog_id;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
}

void fatal_detach_disarm(void)
{
	fatal_prog_id = 0;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ------------------------------------------------------------ histogram -- */

void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned int i;

	for (i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
	if (src->max > dst->max)
		dst->max = src->max;
}

static uint64_t hist_value(unsigned int idx)
{
	unsigned int shift;
	uint64_t lo;

	if (idx < (1u << HIST_SUB))
		return idx;
	shift = (idx >> HIST_SUB) - 1;
	lo = ((uint64_t)(idx & ((1u << HIST_SUB) - 1)) + (1u << HIST_SUB)) << shift;
	return lo + (shift ? (1ull << shift) / 2 : 0);
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;
	unsigned int i;

	if (!h->n)
		return 0;
	want = (uint64_t)ceil(q * (double)h->n);
	if (want < 1)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t v = hist_value(i);

			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

/* ------------------------------------------------------------ SPSC ring -- */

/* Batches of packet views from one rx thread to one worker. */
struct spsc {
	_Atomic uint32_t head __attribute__((aligned(64))); /* producer */
	_Atomic uint32_t tail __attribute__((aligned(64))); /* consumer */
	uint32_t n[SPSC_SLOTS] __attribute__((aligned(64)));
	struct xfrag_pkt *slot[SPSC_SLOTS];
};

static struct spsc *spsc_new(uint32_t batch)
{
	struct spsc *r = aligned_alloc(64, sizeof(*r));
	unsigned int i;

	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	for (i = 0; i < SPSC_SLOTS; i++) {
		r->slot[i] = calloc(batch, sizeof(struct xfrag_pkt));
		if (!r->slot[i]) {
			while (i--)
				free(r->slot[i]);
			free(r);
			return NULL;
		}
	}
	return r;
}

static void spsc_free(struct spsc *r)
{
	unsigned int i;

	if (!r)
		return;
	for (i = 0; i < SPSC_SLOTS; i++)
		free(r->slot[i]);
	free(r);
}

/* ---------------------------------------------------------- per batch -- */

void rx_account(struct rx_thread *t, const struct xfrag_pkt *pkts,
		unsigned int n, uint64_t now)
{
	const struct rx_cfg *c = t->run->cfg;
	uint64_t bytes = 0, corrupt = 0, verified = 0, foreign = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct xfrag_pkt *p = &pkts[i];

		bytes += p->len;
		if (c->latency && p->meta_len >= sizeof(struct xfrag_meta)) {
			const struct xfrag_meta *m =
				(const void *)(p->data - sizeof(*m));

			if (m->flags & XFRAG_META_F_TS)
				hist_add(&t->lat, now > m->xdp_ts_ns ?
					 now - m->xdp_ts_ns : 0);
		}
		if (c->wl == WL_TOUCH) {
			/* Reads every byte: headers, then the payload checksum;
			 * a multi-buffer frame segment by segment. */
			int e;

			if (p->nsegs > 1 && t->run->umem) {
				struct iovec iov[XFRAG_CHAIN_MAX_SEGS];
				uint32_t sl;
				int k;

				for (k = 0; k < p->nsegs && k < XFRAG_CHAIN_MAX_SEGS; k++) {
					iov[k].iov_base = xfrag_pkt__seg(t->run->umem, p,
									 (unsigned int)k, &sl);
					iov[k].iov_len = sl;
				}
				e = frame_verify_segments(iov, k, NULL, NULL);
			} else {
				e = frame_verify(p->data, p->len, NULL, NULL);
			}

			if (e == FRAME_OK)
				verified++;
			else if (e == FRAME_E_CSUM || e == FRAME_E_IPCSUM || e == FRAME_E_LEN)
				corrupt++;
			else
				foreign++;
		}
	}
	/* Owner-only counters, published for the progress line. */
	atomic_store_explicit(&t->packets,
			      atomic_load_explicit(&t->packets, memory_order_relaxed) + n,
			      memory_order_relaxed);
	atomic_store_explicit(&t->bytes,
			      atomic_load_explicit(&t->bytes, memory_order_relaxed) + bytes,
			      memory_order_relaxed);
	if (c->wl == WL_TOUCH) {
		atomic_store_explicit(&t->corrupt,
				      atomic_load_explicit(&t->corrupt, memory_order_relaxed) + corrupt,
				      memory_order_relaxed);
		atomic_store_explicit(&t->verified,
				      atomic_load_explicit(&t->verified, memory_order_relaxed) + verified,
				      memory_order_relaxed);
		atomic_store_explicit(&t->foreign,
				      atomic_load_explicit(&t->foreign, memory_order_relaxed) + foreign,
				      memory_order_relaxed);
	}
	if (!atomic_load_explicit(&t->first_ns, memory_order_relaxed))
		atomic_store_explicit(&t->first_ns, now, memory_order_relaxed);
	atomic_store_explicit(&t->last_ns, now, memory_order_relaxed);
}

/* --------------------------------------------------------- xfrag path -- */

/* Keep the newest N packets; release what falls out of the window. */
static void hold_batch(struct rx_thread *t, struct xfrag_umem *u,
		       const struct xfrag_pkt *pkts, unsigned int n)
{
	uint32_t cap = t->run->cfg->wl_arg, keep, ev, pos, span;

	keep = n < cap ? n : cap;
	if (n > keep)
		xfrag_rxq__release(t->q, pkts, n - keep);
	pkts += n - keep;
	ev = t->held_n + keep > cap ? t->held_n + keep - cap : 0;
	while (ev) {
		span = cap - t->held_head;
		if (span > ev)
			span = ev;
		xfrag_rxq__release(t->q, t->held + t->held_head, span);
		t->held_head = (t->held_head + span) % cap;
		t->held_n -= span;
		ev -= span;
	}
	while (keep) {
		pos = (t->held_head + t->held_n) % cap;
		span = cap - pos;
		if (span > keep)
			span = keep;
		memcpy(t->held + pos, pkts, span * sizeof(*pkts));
		t->held_n += span;
		pkts += span;
		keep -= span;
	}
}

static void hold_release_all(struct rx_thread *t, struct xfrag_umem *u)
{
	uint32_t cap = t->run->cfg->wl_arg, span;

	while (t->held_n) {
		span = cap - t->held_head;
		if (span > t->held_n)
			span = t->held_n;
		xfrag_pkt__release_bulk(u, t->held + t->held_head, span);
		t->held_head = (t->held_head + span) % cap;
		t->held_n -= span;
	}
}

/* The owner's side of a stats snapshot (see struct rx_thread). */
static void __attribute__((noinline)) serve_snapshot(struct rx_thread *t, uint32_t req)
{
	t->snap.sz = sizeof(t->snap);
	xfrag_rxq__stats(t->q, &t->snap);
	t->snap_served = req;
	atomic_store_explicit(&t->snap_seq, req, memory_order_release);
}

static inline void maybe_snapshot(struct rx_thread *t)
{
	/* Acquire: the main thread is done reading the previous snapshot. */
	uint32_t req = atomic_load_explicit(&t->snap_req, memory_order_acquire);

	if (xfrag_unlikely(req != t->snap_served))
		serve_snapshot(t, req);
}

/* Hand a batch to the next worker; wait while its ring is full. */
static void to_worker(struct rx_thread *t, struct xfrag_umem *u,
		      const struct xfrag_pkt *pkts, unsigned int n)
{
	struct spsc *r = t->rings[t->next_worker];
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	t->next_worker = (t->next_worker + 1) % t->run->cfg->wl_arg;
	while (h - atomic_load_explicit(&r->tail, memory_order_acquire) >= SPSC_SLOTS) {
		if (rx_should_stop()) {
			xfrag_pkt__release_bulk(u, pkts, n);
			return;
		}
		t->ring_stalls++;
		maybe_snapshot(t);
		__builtin_ia32_pause();
	}
	memcpy(r->slot[h % SPSC_SLOTS], pkts, n * sizeof(*pkts));
	r->n[h % SPSC_SLOTS] = n;
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

static void *worker_thread(void *arg)
{
	struct rx_worker *w = arg;
	struct rx_run *run = w->run;
	struct xfrag_umem *u = run->umem;
	const struct timespec nap = { 0, 20000 };
	unsigned int i, nq = run->cfg->nq, idle = 0;
	uint64_t done = 0;

	for (;;) {
		bool any = false, finished = atomic_load_explicit(&run->rx_done,
								   memory_order_acquire);

		for (i = 0; i < nq; i++) {
			struct spsc *r = run->t[i].rings[w->idx];
			uint32_t tl = atomic_load_explicit(&r->tail, memory_order_relaxed);

			while (atomic_load_explicit(&r->head, memory_order_acquire) != tl) {
				uint32_t n = r->n[tl % SPSC_SLOTS];

				xfrag_pkt__release_bulk(u, r->slot[tl % SPSC_SLOTS], n);
				done += n;
				atomic_store_explicit(&r->tail, ++tl, memory_order_release);
				any = true;
			}
		}
		atomic_store_explicit(&w->packets, done, memory_order_relaxed);
		if (any) {
			idle = 0;
		} else {
			if (finished)
				break;
			/* Spin a little, then give the CPU to the rx thread and
			 * the softirq: on a 2-core box they share it with us. */
			if (++idle < 256)
				__builtin_ia32_pause();
			else
				nanosleep(&nap, NULL);
		}
	}
	return NULL;
}

static void *xfrag_thread(void *arg)
{
	struct rx_thread *t = arg;
	struct rx_run *run = t->run;
	const struct rx_cfg *c = run->cfg;
	struct xfrag_umem *u = run->umem;
	struct xfrag_pkt pkts[RX_MAX_BATCH];
	uint64_t mine = 0;
	int n;

	pin_cpu(t->cpu);
	while (!rx_should_stop()) {
		unsigned int max = c->batch;

		/* One queue: stop at exactly --count frames. */
		if (c->count && c->nq == 1 && c->count - mine < max)
			max = (unsigned int)(c->count - mine);
		maybe_snapshot(t);
		n = xfrag_rxq__recv(t->q, pkts, max);
		if (xfrag_unlikely(n <= 0)) {
			if (n < 0) {
				t->err = n;
				atomic_store(&rx_stop, true);
			}
			continue;
		}
		rx_account(t, pkts, (unsigned int)n, now_ns());
		switch (c->wl) {
		case WL_DROP:
		case WL_TOUCH:
			/* Same thread: the queue's cache takes them back. */
			xfrag_rxq__release(t->q, pkts, (unsigned int)n);
			break;
		case WL_HOLD:
			hold_batch(t, u, pkts, (unsigned int)n);
			break;
		case WL_WORKERS:
			to_worker(t, u, pkts, (unsigned int)n);
			break;
		}
		mine += (uint64_t)n;
		if (c->count && atomic_fetch_add(&run->total, (uint64_t)n) + (uint64_t)n >= c->count)
			atomic_store(&rx_stop, true);
	}
	if (c->wl == WL_HOLD)
		hold_release_all(t, u);
	return NULL;
}

/* ------------------------------------------------------------- parsing -- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: xfrag-bench rx -i IFACE [options]\n"
"  -i, --iface IF         interface to receive on (required)\n"
"  -q, --queue Q          rx queue; repeat for more (one thread each, one UMEM)\n"
"      --queues LIST      queues as a list, e.g. 0,1 (default: 0)\n"
"  -F, --frame-size B     chunk size, 2048..4096 (default: from the MTU; 4096\n"
"                         with --fixed-frames, which accepts 2048 or 4096)\n"
"      --headroom B       bytes before the frame, after the kernel's 256 (default 0)\n"
"      --block-size B     UMEM block, power of two 4K..2M (default 64K)\n"
"  -u, --umem-size B      UMEM bytes (default: enough for the rings and workload)\n"
"  -r, --ring-size N      fill and rx ring entries, power of two (default %d)\n"
"  -b, --batch N          frames per recv, 1..%d (default 64)\n"
"      --copybreak B      copy frames <= B bytes into compact frags (default off)\n"
"      --filter F         frames to take: all, udp, udp:PORT, udp:LO-HI, tcp,\n"
"                         tcp:PORT, ipv4, ipv6, ipv4:udp:PORT... (default udp)\n"
"      --xdp-mode M       native, skb or auto (default auto)\n"
"  -N, -S                 the same as --xdp-mode native / skb\n"
"  -z, -c                 force zero-copy / copy bind (default: zero-copy if able)\n"
"      --busy-poll[=US]   SO_PREFER_BUSY_POLL with SO_BUSY_POLL=US (default 20)\n"
"  -d, --duration S       stop after S seconds (default: until SIGINT/SIGTERM)\n"
"      --count N          stop after N frames (or when N are delivered or dropped)\n"
"      --workload W       drop | touch | hold:N | workers:K (default drop)\n"
"      --fixed-frames     the classic baseline: fixed frames, aligned mode,\n"
"                         every RX address recycled straight to the fill ring\n"
"      --cpu LIST         pin queue i's thread to the i-th CPU of LIST\n"
"      --no-latency       do not ask the XDP program for timestamps\n"
"      --interval MS      progress line period (default 1000)\n"
"      --timeline FILE    write one line per progress period to FILE\n"
"      --latency-hist FILE  write the latency histogram (value_ns count) to FILE\n"
"      --quiet            no progress lines\n"
"      --json             one JSON object on the last line of stdout\n"
"      --replace          replace a stale xfrag XDP program on the interface\n",
		DEFAULT_RING, RX_MAX_BATCH);
}

static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (parse_size(s, &v) || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_list(const char *s, uint32_t *out, unsigned int max,
		      unsigned int *n)
{
	char buf[256], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t v;

		if (*n >= max || parse_u32(tok, &v))
			return -1;
		out[(*n)++] = v;
	}
	return 0;
}

static int parse_ports(const char *s, struct xfrag_xdp_filter *f)
{
	char *end;
	unsigned long lo, hi;

	errno = 0;
	lo = strtoul(s, &end, 10);
	if (errno || end == s || lo < 1 || lo > 65535)
		return -1;
	hi = lo;
	if (*end == '-') {
		s = end + 1;
		hi = strtoul(s, &end, 10);
		if (errno || end == s || hi < lo || hi > 65535)
			return -1;
	}
	if (*end)
		return -1;
	f->port_lo = (uint16_t)lo;
	f->port_hi = (uint16_t)hi;
	return 0;
}

int parse_filter(const char *s, struct xfrag_xdp_filter *f, bool *all)
{
	char buf[64], *tok, *save = NULL;

	memset(f, 0, sizeof(*f));
	f->sz = sizeof(*f);
	*all = false;
	if (!strcmp(s, "all")) {
		*all = true;
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	tok = strtok_r(buf, ":", &save);
	if (tok && (!strcmp(tok, "ipv4") || !strcmp(tok, "ip") || !strcmp(tok, "ipv6"))) {
		f->ip_version = tok[3] == '6' ? 6 : 4;
		tok = strtok_r(NULL, ":", &save);
	}
	if (tok && (!strcmp(tok, "udp") || !strcmp(tok, "tcp"))) {
		f->l4_proto = tok[0] == 'u' ? IPPROTO_UDP : IPPROTO_TCP;
		tok = strtok_r(NULL, ":", &save);
		if (tok && parse_ports(tok, f))
			return -1;
		if (tok)
			tok = strtok_r(NULL, ":", &save);
	}
	if (tok || (!f->ip_version && !f->l4_proto))
		return -1;
	return 0;
}

static int parse_workload(const char *s, struct rx_cfg *c)
{
	uint32_t v;

	if (!strcmp(s, "drop")) {
		c->wl = WL_DROP;
		return 0;
	}
	if (!strcmp(s, "touch")) {
		c->wl = WL_TOUCH;
		return 0;
	}
	if (!strncmp(s, "hold:", 5)) {
		if (parse_u32(s + 5, &v) || v < 1 || v > (1u << 24))
			return -1;
		c->wl = WL_HOLD;
		c->wl_arg = v;
		return 0;
	}
	if (!strncmp(s, "workers:", 8)) {
		if (parse_u32(s + 8, &v) || v < 1 || v > RX_MAX_WORKERS)
			return -1;
		c->wl = WL_WORKERS;
		c->wl_arg = v;
		return 0;
	}
	return -1;
}

static const char *workload_name(const struct rx_cfg *c, char *buf, size_t len)
{
	switch (c->wl) {
	case WL_DROP: return "drop";
	case WL_TOUCH: return "touch";
	case WL_HOLD: snprintf(buf, len, "hold:%u", c->wl_arg); return buf;
	case WL_WORKERS: snprintf(buf, len, "workers:%u", c->wl_arg); return buf;
	}
	return "?";
}

/* ------------------------------------------------------- device checks -- */

static int ifreq_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr))
		err = -errno;
	close(fd);
	return err;
}

/* The device's rx queues: ethtool channels, else /sys/class/net/IF/queues. */
uint32_t dev_rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { .ifr_data = (void *)&ch };
	char path[128];
	uint32_t n = 0;
	int i;

	if (!ifreq_ioctl(ifname, SIOCETHTOOL, &ifr) && ch.rx_count + ch.combined_count)
		return ch.rx_count + ch.combined_count;
	for (i = 0; i < 4096; i++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/queues/rx-%d", ifname, i);
		if (access(path, F_OK))
			break;
		n++;
	}
	return n;
}

static uint32_t dev_mtu(const char *ifname)
{
	struct ifreq ifr = { 0 };

	return ifreq_ioctl(ifname, SIOCGIFMTU, &ifr) ? 0 : (uint32_t)ifr.ifr_mtu;
}

static bool pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* ---------------------------------------------------------------- stats -- */

bool xsk_zerocopy(int fd)
{
	struct xdp_options o = { 0 };
	socklen_t len = sizeof(o);

	return fd >= 0 && !getsockopt(fd, SOL_XDP, XDP_OPTIONS, &o, &len) &&
	       (o.flags & XDP_OPTIONS_ZEROCOPY);
}

struct totals {
	struct xfrag_rxq_stats s;          /* summed over queues */
	struct xfrag_xdp_counters x;       /* the program, our queues */
	uint64_t packets, bytes, corrupt, verified, foreign;
	uint64_t fill_level, fill_capacity;
	uint64_t umem_size, umem_in_use, blocks_in_use;
	uint32_t zerocopy;
};

static void add_stats(struct xfrag_rxq_stats *d, const struct xfrag_rxq_stats *s)
{
	d->xdp_seen += s->xdp_seen;
	d->xdp_redirected += s->xdp_redirected;
	d->xdp_passed += s->xdp_passed;
	d->xdp_dropped += s->xdp_dropped;
	d->xdp_redirect_failed += s->xdp_redirect_failed;
	d->xdp_malformed += s->xdp_malformed;
	d->rx_dropped += s->rx_dropped;
	d->rx_invalid_descs += s->rx_invalid_descs;
	d->rx_ring_full += s->rx_ring_full;
	d->rx_fill_ring_empty += s->rx_fill_ring_empty;
	d->rx_packets += s->rx_packets;
	d->rx_bytes += s->rx_bytes;
	d->fill_posted += s->fill_posted;
	d->fill_short += s->fill_short;
	d->wakeups += s->wakeups;
	d->copies += s->copies;
	d->copy_bytes += s->copy_bytes;
	d->fill_level += s->fill_level;
	d->fill_capacity += s->fill_capacity;
	d->frame_size = s->frame_size;
	d->headroom = s->headroom;
	d->chunks_per_block = s->chunks_per_block;
	d->zerocopy |= s->zerocopy;
	d->page_cross_ok = s->page_cross_ok;
}

/*
 * The stats of an xfrag queue: straight from the library once its thread
 * has stopped, else a snapshot the thread takes on request (it owns the
 * ring state xfrag_rxq__stats() reads). A thread that does not answer
 * within 100 ms leaves the previous snapshot.
 */
static void rxq_stats(struct rx_thread *t, struct xfrag_rxq_stats *s)
{
	uint32_t req;
	int i;

	if (!t->started) {
		s->sz = sizeof(*s);
		xfrag_rxq__stats(t->q, s);
		return;
	}
	req = atomic_load_explicit(&t->snap_seq, memory_order_relaxed) + 1;
	atomic_store_explicit(&t->snap_req, req, memory_order_release);
	for (i = 0; i < 1000; i++) {
		if (atomic_load_explicit(&t->snap_seq, memory_order_acquire) == req)
			break;
		usleep(100);
	}
	if (atomic_load_explicit(&t->snap_seq, memory_order_acquire) == req)
		t->last_snap = t->snap;
	*s = t->last_snap;
	/* Ours: the thread counts in its own words; the rest is the kernel's. */
	s->zerocopy = xsk_zerocopy(xfrag_rxq__fd(t->q));
}

static void gather(struct rx_run *r, struct totals *tt)
{
	const struct rx_cfg *c = r->cfg;
	unsigned int i;

	memset(tt, 0, sizeof(*tt));
	tt->x.sz = sizeof(tt->x);
	for (i = 0; i < c->nq; i++) {
		struct rx_thread *t = &r->t[i];
		struct xfrag_rxq_stats s = { .sz = sizeof(s) };
		XFRAG_OPTS(xfrag_xdp_counters, x);

		if (c->fixed)
			fixed_stats(r, i, &s);
		else if (t->q)
			rxq_stats(t, &s);
		/* The kernel's word on the mode, whatever was asked for. */
		if (t->q && !t->started)
			s.zerocopy = xsk_zerocopy(xfrag_rxq__fd(t->q));
		add_stats(&tt->s, &s);
		if (!xfrag_xdp__counters(r->xdp, t->queue, &x)) {
			tt->x.seen += x.seen;
			tt->x.matched += x.matched;
			tt->x.redirected += x.redirected;
			tt->x.passed += x.passed;
			tt->x.dropped += x.dropped;
			tt->x.redirect_failed += x.redirect_failed;
			tt->x.malformed += x.malformed;
			tt->x.seen_bytes += x.seen_bytes;
			tt->x.redirected_bytes += x.redirected_bytes;
			tt->x.meta_failed += x.meta_failed;
		}
		tt->packets += atomic_load_explicit(&t->packets, memory_order_relaxed);
		tt->bytes += atomic_load_explicit(&t->bytes, memory_order_relaxed);
		tt->corrupt += atomic_load_explicit(&t->corrupt, memory_order_relaxed);
		tt->verified += atomic_load_explicit(&t->verified, memory_order_relaxed);
		tt->foreign += atomic_load_explicit(&t->foreign, memory_order_relaxed);
	}
	tt->fill_level = tt->s.fill_level;
	tt->fill_capacity = tt->s.fill_capacity;
	tt->zerocopy = tt->s.zerocopy;
	if (c->fixed) {
		fixed_umem_usage(r, &tt->umem_size, &tt->umem_in_use);
		/* A fixed frame is its own block. */
		tt->blocks_in_use = tt->umem_in_use / c->frame_size;
	} else if (r->umem) {
		struct xfrag_umem_stats us;

		xfrag_umem__stats(r->umem, &us);
		tt->umem_size = us.size;
		tt->blocks_in_use = us.blocks_in_use;
		tt->umem_in_use = (uint64_t)us.blocks_in_use * us.block_size;
	}
}

/* Frames the kernel dropped after the program redirected them. */
static uint64_t kernel_drops(const struct xfrag_rxq_stats *s)
{
	/*
	 * In copy mode a frame that finds the fill ring empty counts in both
	 * rx_dropped and rx_fill_ring_empty: the latter is a cause, not an
	 * extra drop, so it is not added here.
	 */
	return s->rx_dropped + s->rx_ring_full + s->rx_invalid_descs;
}

static void fmt_bytes(char *buf, size_t len, double v)
{
	if (v >= 1 << 30)
		snprintf(buf, len, "%.2f GiB", v / (1 << 30));
	else if (v >= 1 << 20)
		snprintf(buf, len, "%.1f MiB", v / (1 << 20));
	else
		snprintf(buf, len, "%.0f KiB", v / 1024);
}

static void progress(struct rx_run *r, const struct totals *now,
		     const struct totals *prev, double t, double dt, FILE *tl)
{
	const struct rx_cfg *c = r->cfg;
	double pps = (double)(now->packets - prev->packets) / dt;
	double mbps = (double)(now->bytes - prev->bytes) * 8 / dt / 1e6;
	char umem[32], extra[48] = "";

	fmt_bytes(umem, sizeof(umem), (double)now->umem_in_use);
	if (c->wl == WL_TOUCH)
		snprintf(extra, sizeof(extra), " | corrupt %llu",
			 (unsigned long long)now->corrupt);
	if (!c->quiet)
		fprintf(stderr,
			"rx %6.1fs %9.0f pps %8.1f Mbit/s | drops: dropped %llu ring_full %llu fill_empty %llu invalid %llu redirect_failed %llu | fill %llu/%llu | %llu blocks | umem %s%s\n",
			t, pps, mbps, (unsigned long long)now->s.rx_dropped,
			(unsigned long long)now->s.rx_ring_full,
			(unsigned long long)now->s.rx_fill_ring_empty,
			(unsigned long long)now->s.rx_invalid_descs,
			(unsigned long long)now->x.redirect_failed,
			(unsigned long long)now->fill_level,
			(unsigned long long)now->fill_capacity,
			(unsigned long long)now->blocks_in_use, umem, extra);
	if (tl) {
		fprintf(tl, "%.3f %.0f %.3f %llu %llu %llu %llu %llu\n", t, pps, mbps,
			(unsigned long long)now->packets,
			(unsigned long long)kernel_drops(&now->s),
			(unsigned long long)now->fill_level,
			(unsigned long long)now->blocks_in_use,
			(unsigned long long)now->umem_in_use);
		fflush(tl);
	}
}

/* ---------------------------------------------------------------- setup -- */

static int setup_xfrag(struct rx_run *r)
{
	struct rx_cfg *c = r->cfg;
	struct xfrag_umem_stats us;
	uint32_t fs = c->frame_size, cpb;
	uint64_t chunks, need;
	unsigned int i;

	if (!fs)
		fs = xfrag_frame_size_for_mtu(c->mtu, c->headroom);
	/* Chunks the queues need: rings, then what the workload keeps. */
	chunks = (uint64_t)c->nq * 2 * c->ring_size;
	if (c->wl == WL_HOLD)
		chunks += (uint64_t)c->nq * c->wl_arg;
	if (c->wl == WL_WORKERS)
		chunks += (uint64_t)c->nq * c->wl_arg * SPSC_SLOTS * c->batch;
	if (!c->umem_size) {
		/* Conservative: chunks never cross 4 KiB pages. */
		cpb = c->block_size >= 4096 ? (c->block_size / 4096) * (4096 / fs) : 0;
		if (!cpb)
			cpb = 1;
		need = ((chunks + cpb - 1) / cpb + 2ull * c->nq) * c->block_size;
		c->umem_size = need < (16u << 20) ? (16u << 20) : need;
	}
	{
		XFRAG_OPTS(xfrag_umem_opts, uo, .size = c->umem_size,
			   .block_size = c->block_size);
		r->umem = xfrag_umem__create(&uo);
	}
	if (!r->umem) {
		fprintf(stderr, "rx: cannot create a UMEM of %llu bytes in %u-byte blocks: %s\n",
			(unsigned long long)c->umem_size, c->block_size, strerror(errno));
		return -1;
	}
	xfrag_umem__stats(r->umem, &us);
	cpb = us.backing == XFRAG_BACKING_HUGETLB || c->block_size < 4096 ?
		c->block_size / fs : (c->block_size / 4096) * (4096 / fs);
	if ((uint64_t)cpb * us.nblocks < (uint64_t)c->nq * 2 * c->ring_size) {
		fprintf(stderr,
			"rx: UMEM too small for the rings: %llu bytes (%u blocks of %u) hold %llu chunks of %u bytes, but %u queue%s with %u-entry fill and rx rings need %llu; use -u %lluM or smaller rings (-r)\n",
			(unsigned long long)us.size, us.nblocks, us.block_size,
			(unsigned long long)cpb * us.nblocks, fs, c->nq, c->nq == 1 ? "" : "s",
			c->ring_size, (unsigned long long)c->nq * 2 * c->ring_size,
			(unsigned long long)((((uint64_t)c->nq * 2 * c->ring_size + cpb - 1) / cpb + 2ull * c->nq) *
					     c->block_size + (1 << 20) - 1) >> 20);
		return -1;
	}
	if ((uint64_t)cpb * us.nblocks < chunks)
		fprintf(stderr, "rx: warning: the UMEM holds %llu chunks, the rings and the %s workload may want %llu: expect fill-ring drops\n",
			(unsigned long long)cpb * us.nblocks,
			c->wl == WL_HOLD ? "hold" : "workers", (unsigned long long)chunks);
	for (i = 0; i < c->nq; i++) {
		XFRAG_OPTS(xfrag_rxq_opts, o, .queue_id = c->queues[i],
			   .frame_size = fs, .headroom = c->headroom,
			   .fill_size = c->ring_size, .rx_size = c->ring_size,
			   .bind_mode = c->bind_mode, .busy_poll_us = c->busy_poll_us,
			   .busy_poll_budget = c->busy_poll_us ? c->batch : 0,
			   .copybreak = c->copybreak);

		r->t[i].q = xfrag_rxq__create(r->umem, r->xdp, &o);
		if (!r->t[i].q) {
			int e = errno;

			fprintf(stderr, "rx: cannot open queue %u of %s: %s\n",
				c->queues[i], c->ifname,
				e == ERANGE ? "queue out of range" : xfrag_strerror(-e));
			return -1;
		}
	}
	c->frame_size = fs;
	return 0;
}

static void peak_sample(struct rx_run *r, uint64_t *peak)
{
	uint64_t size, in_use;

	if (r->cfg->fixed) {
		fixed_umem_usage(r, &size, &in_use);
	} else {
		struct xfrag_umem_stats us;

		xfrag_umem__stats(r->umem, &us);
		in_use = (uint64_t)us.blocks_in_use * us.block_size;
	}
	if (in_use > *peak)
		*peak = in_use;
}

/* ------------------------------------------------------------- reports -- */

static void print_summary(struct rx_run *r, const struct totals *tt,
			  const struct hist *lat, double secs, double wall,
			  uint64_t peak, uint64_t drained, uint64_t stalls)
{
	const struct rx_cfg *c = r->cfg;
	const struct xfrag_rxq_stats *s = &tt->s;
	uint64_t drops = kernel_drops(s), acc = tt->packets + drops;
	char wl[32], b1[32], b2[32];
	unsigned int i;

	fmt_bytes(b1, sizeof(b1), (double)tt->umem_size);
	fmt_bytes(b2, sizeof(b2), (double)peak);
	printf("xfrag-bench rx: %s queue%s", c->ifname, c->nq == 1 ? "" : "s");
	for (i = 0; i < c->nq; i++)
		printf("%s%u", i ? "," : " ", c->queues[i]);
	printf(", %s, %s mode, %s XDP, frame %u, headroom %u, workload %s\n",
	       c->fixed ? "fixed frames (aligned, recycled to fill)" : "xfrag frags",
	       tt->zerocopy ? "zero-copy" : "copy",
	       xfrag_xdp__mode(r->xdp) == XFRAG_XDP_MODE_SKB ? "skb" : "native",
	       c->frame_size, c->headroom, workload_name(c, wl, sizeof(wl)));
	printf("  received   %llu frames, %llu bytes in %.3f s: %.0f pps, %.1f Mbit/s\n",
	       (unsigned long long)tt->packets, (unsigned long long)tt->bytes, secs,
	       secs > 0 ? (double)tt->packets / secs : 0,
	       secs > 0 ? (double)tt->bytes * 8 / secs / 1e6 : 0);
	printf("  xdp        seen %llu, matched %llu, redirected %llu, redirect_failed %llu, passed %llu, malformed %llu\n",
	       (unsigned long long)tt->x.seen, (unsigned long long)tt->x.matched,
	       (unsigned long long)tt->x.redirected,
	       (unsigned long long)tt->x.redirect_failed,
	       (unsigned long long)tt->x.passed, (unsigned long long)tt->x.malformed);
	printf("  drops      rx_dropped %llu (fill ring empty %llu), rx_ring_full %llu, rx_invalid_descs %llu\n",
	       (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_fill_ring_empty,
	       (unsigned long long)s->rx_ring_full, (unsigned long long)s->rx_invalid_descs);
	printf("  accounting redirected %llu = delivered %llu + dropped %llu%s%s\n",
	       (unsigned long long)tt->x.redirected, (unsigned long long)tt->packets,
	       (unsigned long long)drops,
	       acc == tt->x.redirected ? ": balanced" : "",
	       acc == tt->x.redirected ? "" : ": MISMATCH");
	if (drained)
		printf("             (%llu of the delivered were drained from the RX rings at stop)\n",
		       (unsigned long long)drained);
	printf("  umem       %s, peak in use %s", b1, b2);
	if (!c->fixed)
		printf(" (%llu-byte blocks, %u chunks each)", (unsigned long long)c->block_size,
		       s->chunks_per_block);
	printf("\n");
	if (c->latency)
		printf("  latency    XDP to user space: p50 %llu ns, p99 %llu ns, p99.9 %llu ns, max %llu ns (%llu samples)\n",
		       (unsigned long long)hist_quantile(lat, 0.5),
		       (unsigned long long)hist_quantile(lat, 0.99),
		       (unsigned long long)hist_quantile(lat, 0.999),
		       (unsigned long long)lat->max, (unsigned long long)lat->n);
	if (c->wl == WL_TOUCH)
		printf("  verified   %llu test frames intact, %llu corrupt, %llu not test frames\n",
		       (unsigned long long)tt->verified, (unsigned long long)tt->corrupt,
		       (unsigned long long)tt->foreign);
	if (c->wl == WL_WORKERS)
		printf("  workers    %u, producer waited on a full ring %llu times\n",
		       c->wl_arg, (unsigned long long)stalls);
	if (!c->fixed)
		printf("  fill ring  %llu chunks posted, %llu short refills, %llu wakeups, %llu copybreak copies\n",
		       (unsigned long long)s->fill_posted, (unsigned long long)s->fill_short,
		       (unsigned long long)s->wakeups, (unsigned long long)s->copies);
	if (wall > 0)
		printf("  wall       %.3f s\n", wall);
}

static void print_json(struct rx_run *r, const struct totals *tt,
		       const struct hist *lat, double secs, double wall,
		       uint64_t peak, uint64_t drained, uint64_t stalls)
{
	const struct rx_cfg *c = r->cfg;
	const struct xfrag_rxq_stats *s = &tt->s;
	uint64_t drops = kernel_drops(s);
	char wl[32];
	unsigned int i;

	printf("{\"cmd\":\"rx\",\"iface\":\"%s\",\"queues\":[", c->ifname);
	for (i = 0; i < c->nq; i++)
		printf("%s%u", i ? "," : "", c->queues[i]);
	printf("],\"impl\":\"%s\",\"workload\":\"%s\",\"filter\":\"%s\",\"mode\":\"%s\",\"xdp_mode\":\"%s\",",
	       c->fixed ? "fixed" : "xfrag", workload_name(c, wl, sizeof(wl)),
	       c->filter_str, tt->zerocopy ? "zerocopy" : "copy",
	       xfrag_xdp__mode(r->xdp) == XFRAG_XDP_MODE_SKB ? "skb" : "native");
	printf("\"frame_size\":%u,\"geometry\":{\"frame_size\":%u,\"headroom\":%u,\"block_size\":%u,"
	       "\"chunks_per_block\":%u,\"fill_size\":%u,\"rx_size\":%u,\"batch\":%u,\"umem_size\":%llu,"
	       "\"aligned\":%s,\"copybreak\":%u},",
	       c->frame_size, c->frame_size, c->headroom, c->fixed ? c->frame_size : c->block_size,
	       c->fixed ? 1 : s->chunks_per_block, c->ring_size, c->ring_size, c->batch,
	       (unsigned long long)tt->umem_size, c->fixed ? "true" : "false", c->copybreak);
	printf("\"rx_packets\":%llu,\"rx_bytes\":%llu,\"seconds\":%.6f,\"wall_seconds\":%.6f,"
	       "\"rx_pps\":%.1f,\"rx_mbps\":%.3f,",
	       (unsigned long long)tt->packets, (unsigned long long)tt->bytes, secs, wall,
	       secs > 0 ? (double)tt->packets / secs : 0,
	       secs > 0 ? (double)tt->bytes * 8 / secs / 1e6 : 0);
	printf("\"drops\":{\"rx_dropped\":%llu,\"rx_ring_full\":%llu,\"rx_fill_ring_empty\":%llu,"
	       "\"rx_invalid_descs\":%llu,\"xdp_redirect_failed\":%llu,\"xdp_malformed\":%llu,"
	       "\"xdp_meta_failed\":%llu},",
	       (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_ring_full,
	       (unsigned long long)s->rx_fill_ring_empty, (unsigned long long)s->rx_invalid_descs,
	       (unsigned long long)tt->x.redirect_failed, (unsigned long long)tt->x.malformed,
	       (unsigned long long)tt->x.meta_failed);
	printf("\"xdp\":{\"seen\":%llu,\"matched\":%llu,\"redirected\":%llu,\"passed\":%llu,"
	       "\"dropped\":%llu,\"redirect_failed\":%llu,\"malformed\":%llu,\"meta_failed\":%llu,"
	       "\"seen_bytes\":%llu,\"redirected_bytes\":%llu},",
	       (unsigned long long)tt->x.seen, (unsigned long long)tt->x.matched,
	       (unsigned long long)tt->x.redirected, (unsigned long long)tt->x.passed,
	       (unsigned long long)tt->x.dropped, (unsigned long long)tt->x.redirect_failed,
	       (unsigned long long)tt->x.malformed, (unsigned long long)tt->x.meta_failed,
	       (unsigned long long)tt->x.seen_bytes, (unsigned long long)tt->x.redirected_bytes);
	printf("\"accounting\":{\"redirected\":%llu,\"delivered\":%llu,\"dropped\":%llu,"
	       "\"drained_at_stop\":%llu,\"balanced\":%s},",
	       (unsigned long long)tt->x.redirected, (unsigned long long)tt->packets,
	       (unsigned long long)drops, (unsigned long long)drained,
	       tt->packets + drops == tt->x.redirected ? "true" : "false");
	printf("\"umem_bytes\":%llu,\"umem_peak_bytes\":%llu,\"block_size\":%u,",
	       (unsigned long long)tt->umem_size, (unsigned long long)peak,
	       c->fixed ? c->frame_size : c->block_size);
	if (c->wl == WL_HOLD) {
		/*
		 * What each held packet costs: the peak UMEM in use less what
		 * the fill rings pin anyway, over the packets held at the peak.
		 */
		uint64_t held = (uint64_t)c->wl_arg * c->nq, ring = 0;

		if (held > tt->packets)
			held = tt->packets;
		ring = (uint64_t)c->nq * c->ring_size * c->frame_size;
		printf("\"hold\":{\"packets\":%llu,\"umem_bytes_per_held\":%.1f},",
		       (unsigned long long)held,
		       held && peak > ring ? (double)(peak - ring) / (double)held : 0.0);
	}
	if (c->latency)
		printf("\"latency_ns\":{\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu,\"samples\":%llu},",
		       (unsigned long long)hist_quantile(lat, 0.5),
		       (unsigned long long)hist_quantile(lat, 0.99),
		       (unsigned long long)hist_quantile(lat, 0.999),
		       (unsigned long long)lat->max, (unsigned long long)lat->n);
	else
		printf("\"latency_ns\":null,");
	printf("\"corrupt\":%llu,\"verified\":%llu,\"foreign\":%llu,\"fill_posted\":%llu,\"fill_short\":%llu,"
	       "\"wakeups\":%llu,\"copies\":%llu,\"worker_ring_stalls\":%llu}\n",
	       (unsigned long long)tt->corrupt, (unsigned long long)tt->verified,
	       (unsigned long long)tt->foreign, (unsigned long long)s->fill_posted, (unsigned long long)s->fill_short,
	       (unsigned long long)s->wakeups, (unsigned long long)s->copies,
	       (unsigned long long)stalls);
}

/* ----------------------------------------------------------------- main -- */

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int parse_args(int argc, char **argv, struct rx_cfg *c)
{
	enum { O_QUEUES = 256, O_HEADROOM, O_BLOCK, O_FILTER, O_XDPMODE, O_BUSY,
	       O_COUNT, O_WORKLOAD, O_FIXED, O_CPU, O_JSON, O_REPLACE, O_NOLAT,
	       O_INTERVAL, O_TIMELINE, O_QUIET, O_COPYBREAK, O_HIST };
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "queue", required_argument, NULL, 'q' },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "frame-size", required_argument, NULL, 'F' },
		{ "headroom", required_argument, NULL, O_HEADROOM },
		{ "block-size", required_argument, NULL, O_BLOCK },
		{ "umem-size", required_argument, NULL, 'u' },
		{ "ring-size", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "copybreak", required_argument, NULL, O_COPYBREAK },
		{ "filter", required_argument, NULL, O_FILTER },
		{ "xdp-mode", required_argument, NULL, O_XDPMODE },
		{ "zerocopy", no_argument, NULL, 'z' },
		{ "copy", no_argument, NULL, 'c' },
		{ "busy-poll", optional_argument, NULL, O_BUSY },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, O_COUNT },
		{ "workload", required_argument, NULL, O_WORKLOAD },
		{ "fixed-frames", no_argument, NULL, O_FIXED },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "json", no_argument, NULL, O_JSON },
		{ "replace", no_argument, NULL, O_REPLACE },
		{ "no-latency", no_argument, NULL, O_NOLAT },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "timeline", required_argument, NULL, O_TIMELINE },
		{ "latency-hist", required_argument, NULL, O_HIST },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint32_t cpus[RX_MAX_QUEUES];
	uint64_t v;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "i:q:F:u:r:b:d:SNzch", lo, NULL)) != -1) {
		switch (opt) {
		case 'i':
			c->ifname = optarg;
			break;
		case 'q':
			if (c->nq >= RX_MAX_QUEUES || parse_u32(optarg, &c->queues[c->nq])) {
				fprintf(stderr, "rx: bad queue '%s' (a number; at most %d queues)\n",
					optarg, RX_MAX_QUEUES);
				return 2;
			}
			c->nq++;
			break;
		case O_QUEUES:
			if (parse_list(optarg, c->queues, RX_MAX_QUEUES, &c->nq) || !c->nq) {
				fprintf(stderr, "rx: bad queue list '%s' (e.g. 0,1; at most %d)\n",
					optarg, RX_MAX_QUEUES);
				return 2;
			}
			break;
		case 'F':
			if (parse_u32(optarg, &c->frame_size) || !c->frame_size) {
				fprintf(stderr, "rx: bad frame size '%s'\n", optarg);
				return 2;
			}
			break;
		case O_HEADROOM:
			if (parse_u32(optarg, &c->headroom)) {
				fprintf(stderr, "rx: bad headroom '%s'\n", optarg);
				return 2;
			}
			break;
		case O_BLOCK:
			if (parse_u32(optarg, &c->block_size)) {
				fprintf(stderr, "rx: bad block size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'u':
			if (parse_size(optarg, &c->umem_size) || !c->umem_size) {
				fprintf(stderr, "rx: bad UMEM size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			if (parse_u32(optarg, &c->ring_size)) {
				fprintf(stderr, "rx: bad ring size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'b':
			if (parse_u32(optarg, &c->batch)) {
				fprintf(stderr, "rx: bad batch '%s'\n", optarg);
				return 2;
			}
			break;
		case O_COPYBREAK:
			if (parse_u32(optarg, &c->copybreak)) {
				fprintf(stderr, "rx: bad copybreak '%s'\n", optarg);
				return 2;
			}
			break;
		case O_FILTER:
			if (parse_filter(optarg, &c->filter, &c->filter_all)) {
				fprintf(stderr, "rx: bad filter '%s': use all, udp, udp:PORT, udp:LO-HI, tcp, tcp:PORT, ipv4, ipv6, ipv6:udp:PORT\n",
					optarg);
				return 2;
			}
			c->filter_str = optarg;
			break;
		case O_XDPMODE:
			if (!strcmp(optarg, "native") || !strcmp(optarg, "drv"))
				c->xdp_mode = XFRAG_XDP_MODE_NATIVE;
			else if (!strcmp(optarg, "skb") || !strcmp(optarg, "generic"))
				c->xdp_mode = XFRAG_XDP_MODE_SKB;
			else if (!strcmp(optarg, "auto"))
				c->xdp_mode = XFRAG_XDP_MODE_AUTO;
			else {
				fprintf(stderr, "rx: bad XDP mode '%s': native, skb or auto\n", optarg);
				return 2;
			}
			break;
		case 'S':
			c->xdp_mode = XFRAG_XDP_MODE_SKB;
			break;
		case 'N':
			c->xdp_mode = XFRAG_XDP_MODE_NATIVE;
			break;
		case 'z':
			c->bind_mode = XFRAG_BIND_ZEROCOPY;
			break;
		case 'c':
			c->bind_mode = XFRAG_BIND_COPY;
			break;
		case O_BUSY:
			c->busy_poll_us = 20;
			if (optarg && (parse_u32(optarg, &c->busy_poll_us) || !c->busy_poll_us)) {
				fprintf(stderr, "rx: bad busy-poll time '%s' (microseconds)\n", optarg);
				return 2;
			}
			break;
		case 'd':
			if (parse_seconds(optarg, &c->duration)) {
				fprintf(stderr, "rx: bad duration '%s' (seconds > 0)\n", optarg);
				return 2;
			}
			break;
		case O_COUNT:
			if (parse_size(optarg, &c->count) || !c->count) {
				fprintf(stderr, "rx: bad count '%s' (frames > 0)\n", optarg);
				return 2;
			}
			break;
		case O_WORKLOAD:
			if (parse_workload(optarg, c)) {
				fprintf(stderr, "rx: bad workload '%s': drop, touch, hold:N (N >= 1) or workers:K (1..%d)\n",
					optarg, RX_MAX_WORKERS);
				return 2;
			}
			break;
		case O_FIXED:
			c->fixed = true;
			break;
		case O_CPU:
			c->ncpus = 0;
			if (parse_list(optarg, cpus, RX_MAX_QUEUES, &c->ncpus) || !c->ncpus) {
				fprintf(stderr, "rx: bad CPU list '%s'\n", optarg);
				return 2;
			}
			for (unsigned int i = 0; i < c->ncpus; i++) {
				if (cpus[i] >= CPU_SETSIZE) {
					fprintf(stderr, "rx: bad CPU %u\n", cpus[i]);
					return 2;
				}
				c->cpus[i] = (int)cpus[i];
			}
			break;
		case O_JSON:
			c->json = true;
			break;
		case O_REPLACE:
			c->replace = true;
			break;
		case O_NOLAT:
			c->latency = false;
			break;
		case O_INTERVAL:
			if (parse_size(optarg, &v) || v < 10 || v > 3600000) {
				fprintf(stderr, "rx: bad interval '%s' (10..3600000 ms)\n", optarg);
				return 2;
			}
			c->interval_ms = (uint32_t)v;
			break;
		case O_TIMELINE:
			c->timeline = optarg;
			break;
		case O_HIST:
			c->hist_file = optarg;
			break;
		case O_QUIET:
			c->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rx: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!c->ifname) {
		fprintf(stderr, "rx: an interface is required (-i IFACE)\n");
		usage(stderr);
		return 2;
	}
	return -1;
}

/* Checks that need no privileges and attach nothing. */
static int validate(struct rx_cfg *c)
{
	unsigned int i, j;

	c->ifindex = (int)if_nametoindex(c->ifname);
	if (!c->ifindex) {
		fprintf(stderr, "rx: unknown interface '%s'\n", c->ifname);
		return 1;
	}
	c->mtu = dev_mtu(c->ifname);
	if (!c->nq)
		c->queues[c->nq++] = 0;
	c->dev_queues = dev_rx_queues(c->ifname);
	for (i = 0; i < c->nq; i++) {
		if ((c->dev_queues && c->queues[i] >= c->dev_queues) ||
		    c->queues[i] >= XFRAG_XDP_MAX_QUEUES) {
			fprintf(stderr, "rx: queue %u is out of range: %s has %u rx queue%s (ethtool -l %s)\n",
				c->queues[i], c->ifname, c->dev_queues,
				c->dev_queues == 1 ? "" : "s", c->ifname);
			return 1;
		}
		for (j = 0; j < i; j++)
			if (c->queues[j] == c->queues[i]) {
				fprintf(stderr, "rx: queue %u given twice\n", c->queues[i]);
				return 2;
			}
	}
	if (c->fixed) {
		if (!c->frame_size)
			c->frame_size = 4096;
		if (c->frame_size != 2048 && c->frame_size != 4096) {
			fprintf(stderr, "rx: frame size %u out of range: fixed frames (aligned mode) are 2048 or 4096 bytes\n",
				c->frame_size);
			return 1;
		}
		if (c->wl == WL_WORKERS) {
			fprintf(stderr, "rx: --fixed-frames supports the drop, touch and hold workloads, not workers\n");
			return 2;
		}
		if (c->copybreak) {
			fprintf(stderr, "rx: --copybreak needs the frag allocator; not with --fixed-frames\n");
			return 2;
		}
	} else if (c->frame_size && (c->frame_size < XFRAG_FRAME_MIN ||
				     c->frame_size > XFRAG_FRAME_MAX)) {
		fprintf(stderr, "rx: frame size %u out of range: AF_XDP chunks are %u..%u bytes\n",
			c->frame_size, XFRAG_FRAME_MIN, XFRAG_FRAME_MAX);
		return 1;
	}
	if (c->frame_size && c->headroom > c->frame_size - XFRAG_HEADROOM_SLACK) {
		fprintf(stderr, "rx: headroom %u too large for frame size %u: at most %u\n",
			c->headroom, c->frame_size, c->frame_size - XFRAG_HEADROOM_SLACK);
		return 1;
	}
	if (!pow2(c->block_size) || c->block_size < XFRAG_BLOCK_MIN ||
	    c->block_size > XFRAG_BLOCK_MAX) {
		fprintf(stderr, "rx: block size %u is not a power of two in %u..%u\n",
			c->block_size, XFRAG_BLOCK_MIN, XFRAG_BLOCK_MAX);
		return 1;
	}
	if (c->frame_size && c->block_size < c->frame_size) {
		fprintf(stderr, "rx: block size %u is smaller than the frame size %u\n",
			c->block_size, c->frame_size);
		return 1;
	}
	if (!pow2(c->ring_size) || c->ring_size < 64 || c->ring_size > (1u << 16)) {
		fprintf(stderr, "rx: ring size %u is not a power of two in 64..65536\n", c->ring_size);
		return 1;
	}
	if (c->batch < 1 || c->batch > RX_MAX_BATCH) {
		fprintf(stderr, "rx: batch %u out of range 1..%d\n", c->batch, RX_MAX_BATCH);
		return 1;
	}
	if (c->copybreak && (c->copybreak < 14 || c->copybreak > 2048)) {
		fprintf(stderr, "rx: copybreak %u out of range 14..2048\n", c->copybreak);
		return 1;
	}
	if (c->fixed && c->umem_size) {
		uint64_t per = (uint64_t)c->ring_size + (c->wl == WL_HOLD ? c->wl_arg : 0);
		uint64_t frames = c->umem_size / c->frame_size;

		if (frames < (uint64_t)c->nq * c->ring_size) {
			fprintf(stderr, "rx: UMEM too small for the rings: %llu bytes hold %llu frames of %u, but %u queue%s with %u-entry fill rings need %llu\n",
				(unsigned long long)c->umem_size, (unsigned long long)frames,
				c->frame_size, c->nq, c->nq == 1 ? "" : "s", c->ring_size,
				(unsigned long long)c->nq * c->ring_size);
			return 1;
		}
		if (frames < (uint64_t)c->nq * per) {
			fprintf(stderr, "rx: UMEM too small: fixed frames need %llu frames per queue for the fill ring and hold:%u\n",
				(unsigned long long)per, c->wl_arg);
			return 1;
		}
	}
	return 0;
}

/* Log callback: prefix library messages so users know where they come from. */
__attribute__((format(printf, 2, 0))) static void
log_cb(enum xfrag_log_level level, const char *fmt, va_list ap)
{
	if (level > XFRAG_LOG_WARN)
		return;
	fprintf(stderr, "rx: %s", level == XFRAG_LOG_ERROR ? "" : "warning: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cmd_rx(int argc, char **argv)
{
	struct rx_cfg c = {
		.block_size = XFRAG_BLOCK_DEFAULT,
		.ring_size = DEFAULT_RING,
		.batch = 64,
		.filter_str = "udp",
		.xdp_mode = XFRAG_XDP_MODE_AUTO,
		.bind_mode = XFRAG_BIND_AUTO,
		.latency = true,
		.interval_ms = 1000,
	};
	struct rx_run run = { .cfg = &c };
	struct totals prev, cur, fin;
	struct hist *lat = NULL;
	FILE *tl = NULL, *hf = NULL;
	uint64_t t0, last, next, peak = 0, drained = 0, drained_bytes = 0, stalls = 0;
	uint64_t first = 0, lastpkt = 0, tend, count_check = 0;
	double secs, wall;
	int rc = 1, err;
	unsigned int i;

	parse_filter("udp", &c.filter, &c.filter_all);
	err = parse_args(argc, argv, &c);
	if (err >= 0)
		return err;
	err = validate(&c);
	if (err)
		return err;
	/* Keep the main thread off the other CPUs (the generator's). */
	if (c.ncpus)
		pin_cpu(c.cpus[0]);

	install_signals();
	xfrag_set_log(log_cb, XFRAG_LOG_WARN);
	if (c.timeline) {
		tl = fopen(c.timeline, "w");
		if (!tl) {
			fprintf(stderr, "rx: cannot write the timeline to '%s': %s\n",
				c.timeline, strerror(errno));
			return 1;
		}
		fprintf(tl, "# t_s pps mbit_s rx_packets drops fill_level blocks_in_use umem_in_use_bytes\n");
	}
	if (c.hist_file) {
		hf = fopen(c.hist_file, "w");
		if (!hf) {
			fprintf(stderr, "rx: cannot write the latency histogram to '%s': %s\n",
				c.hist_file, strerror(errno));
			goto out;
		}
		fprintf(hf, "# latency_ns count (log-linear buckets, 1/32 resolution)\n");
	}
	run.t = aligned_alloc(64, sizeof(*run.t) * c.nq);
	lat = calloc(1, sizeof(*lat));
	if (!run.t || !lat) {
		fprintf(stderr, "rx: out of memory\n");
		goto out;
	}
	memset(run.t, 0, sizeof(*run.t) * c.nq);
	for (i = 0; i < c.nq; i++) {
		run.t[i].run = &run;
		run.t[i].idx = i;
		run.t[i].queue = c.queues[i];
		run.t[i].cpu = c.ncpus ? c.cpus[i % c.ncpus] : -1;
		if (c.wl == WL_HOLD) {
			run.t[i].held = calloc(c.wl_arg, sizeof(struct xfrag_pkt));
			if (!run.t[i].held) {
				fprintf(stderr, "rx: out of memory for hold:%u\n", c.wl_arg);
				goto out;
			}
		}
	}

	/* The program, then the sockets: each queue's socket enters the
	 * XSKMAP only once its fill ring is stocked. */
	{
		XFRAG_OPTS(xfrag_xdp_opts, xo, .ifname = c.ifname, .mode = c.xdp_mode,
			   .filter = c.filter_all ? NULL : &c.filter,
			   .action = XFRAG_XDP_REDIRECT, .meta = c.latency,
			   .replace = c.replace);

		run.xdp = xfrag_xdp__attach(&xo);
		if (!run.xdp) {
			err = errno;
			if (err == EEXIST)
				fprintf(stderr, "rx: %s has a stale xfrag XDP program: rerun with --replace\n",
					c.ifname);
			else if (err == EPERM)
				fprintf(stderr, "rx: attaching XDP needs root (CAP_NET_ADMIN, CAP_BPF)\n");
			else
				fprintf(stderr, "rx: cannot attach the XDP program to %s: %s\n",
					c.ifname, xfrag_strerror(-err));
			goto out;
		}
		fatal_detach_arm(c.ifindex, xfrag_xdp__prog_id(run.xdp),
				 xfrag_xdp__mode(run.xdp) == XFRAG_XDP_MODE_SKB);
	}
	if (c.fixed ? fixed_setup(&run) : setup_xfrag(&run))
		goto out;

	if (c.wl == WL_WORKERS) {
		run.w = aligned_alloc(64, sizeof(*run.w) * c.wl_arg);
		if (!run.w)
			goto out;
		memset(run.w, 0, sizeof(*run.w) * c.wl_arg);
		for (i = 0; i < c.nq; i++) {
			run.t[i].rings = calloc(c.wl_arg, sizeof(struct spsc *));
			if (!run.t[i].rings)
				goto out;
			for (unsigned int k = 0; k < c.wl_arg; k++)
				if (!(run.t[i].rings[k] = spsc_new(c.batch))) {
					fprintf(stderr, "rx: out of memory for the worker rings\n");
					goto out;
				}
		}
		for (i = 0; i < c.wl_arg; i++) {
			run.w[i].run = &run;
			run.w[i].idx = i;
			if (pthread_create(&run.w[i].th, NULL, worker_thread, &run.w[i])) {
				fprintf(stderr, "rx: cannot start worker %u\n", i);
				goto out;
			}
			run.w[i].started = true;
		}
	}
	for (i = 0; i < c.nq; i++) {
		if (pthread_create(&run.t[i].th, NULL, c.fixed ? fixed_thread : xfrag_thread,
				   &run.t[i])) {
			fprintf(stderr, "rx: cannot start the thread of queue %u\n", c.queues[i]);
			goto out;
		}
		run.t[i].started = true;
	}

	gather(&run, &prev);
	fprintf(stderr, "rx: ready: %s queue%s", c.ifname, c.nq == 1 ? "" : "s");
	for (i = 0; i < c.nq; i++)
		fprintf(stderr, "%s%u", i ? "," : " ", c.queues[i]);
	fprintf(stderr, ", %s, %s mode, %s XDP, frame %u, %s filter\n",
		c.fixed ? "fixed frames" : "xfrag", prev.zerocopy ? "zero-copy" : "copy",
		xfrag_xdp__mode(run.xdp) == XFRAG_XDP_MODE_SKB ? "skb" : "native",
		c.frame_size, c.filter_str);

	t0 = last = now_ns();
	next = t0 + (uint64_t)c.interval_ms * 1000000ull;
	while (!rx_should_stop()) {
		uint64_t now, delivered = 0;

		/* Light ticks: the counters the threads publish and the block
		 * table; the syscalls (program and socket counters) only once a
		 * period, or every 100 ms to close a --count run. */
		sleep_ms(c.count ? 5 : 20);
		now = now_ns();
		if (c.duration && (double)(now - t0) >= c.duration * 1e9)
			break;
		peak_sample(&run, &peak);
		for (i = 0; i < c.nq; i++)
			delivered += atomic_load_explicit(&run.t[i].packets, memory_order_relaxed);
		if (c.count && delivered >= c.count)
			break;
		if (now >= next) {
			gather(&run, &cur);
			progress(&run, &cur, &prev, (double)(now - t0) / 1e9,
				 (double)(now - last) / 1e9, tl);
			prev = cur;
			last = now;
			next += (uint64_t)c.interval_ms * 1000000ull;
			if (next < now)
				next = now + (uint64_t)c.interval_ms * 1000000ull;
		}
		/* --count: stop once every frame is delivered or dropped. */
		if (c.count && now - count_check >= 100000000ull) {
			count_check = now;
			gather(&run, &cur);
			if (cur.packets + kernel_drops(&cur.s) >= c.count)
				break;
		}
	}
	atomic_store(&rx_stop, true);
	tend = now_ns();

	/* Stop the threads; workers finish what is queued to them. */
	for (i = 0; i < c.nq; i++)
		if (run.t[i].started) {
			pthread_join(run.t[i].th, NULL);
			run.t[i].started = false;
			stalls += run.t[i].ring_stalls;
		}
	atomic_store(&run.rx_done, true);
	if (run.w)
		for (i = 0; i < c.wl_arg; i++)
			if (run.w[i].started) {
				pthread_join(run.w[i].th, NULL);
				run.w[i].started = false;
			}
	for (i = 0; i < c.nq; i++)
		if (run.t[i].err) {
			fprintf(stderr, "rx: queue %u: receive failed: %s\n", c.queues[i],
				xfrag_strerror(run.t[i].err));
			rc = 1;
			goto out;
		}

	/*
	 * Close the books: stop redirecting, let frames in flight land, take
	 * what is left in the RX rings, then read the counters.
	 */
	for (i = 0; i < c.nq; i++)
		xfrag_xdp__clear_xsk(run.xdp, c.queues[i]);
	sleep_ms(20);
	for (i = 0; i < c.nq; i++) {
		struct rx_thread *t = &run.t[i];

		if (c.fixed) {
			drained += fixed_drain(&run, i, &drained_bytes);
		} else {
			struct xfrag_pkt pkts[RX_MAX_BATCH];
			int n, idle = 0;

			while (idle < 2) {
				n = xfrag_rxq__recv(t->q, pkts, RX_MAX_BATCH);
				if (n <= 0) {
					idle++;
					continue;
				}
				for (int k = 0; k < n; k++)
					drained_bytes += pkts[k].len;
				drained += (uint64_t)n;
				xfrag_pkt__release_bulk(run.umem, pkts, (unsigned int)n);
			}
		}
	}
	gather(&run, &fin);
	fin.packets += drained;
	fin.bytes += drained_bytes;
	if (fin.umem_in_use > peak)
		peak = fin.umem_in_use;
	for (i = 0; i < c.nq; i++) {
		uint64_t f = atomic_load(&run.t[i].first_ns), l = atomic_load(&run.t[i].last_ns);

		if (f && (!first || f < first))
			first = f;
		if (l > lastpkt)
			lastpkt = l;
		hist_merge(lat, &run.t[i].lat);
	}
	wall = (double)(tend - t0) / 1e9;
	/* The rate is over the time traffic flowed, first to last frame. */
	secs = fin.packets > 1 && lastpkt > first ? (double)(lastpkt - first) / 1e9 : wall;
	if (tl)
		progress(&run, &fin, &prev, (double)(now_ns() - t0) / 1e9,
			 (double)(now_ns() - last) / 1e9, tl);
	if (hf) {
		for (i = 0; i < HIST_BUCKETS; i++)
			if (lat->b[i])
				fprintf(hf, "%llu %llu\n", (unsigned long long)hist_value(i),
					(unsigned long long)lat->b[i]);
	}
	print_summary(&run, &fin, lat, secs, wall, peak, drained, stalls);
	if (c.json)
		print_json(&run, &fin, lat, secs, wall, peak, drained, stalls);
	fflush(stdout);
	rc = 0;
out:
	atomic_store(&rx_stop, true);
	atomic_store(&run.rx_done, true);
	if (run.t)
		for (i = 0; i < c.nq; i++)
			if (run.t[i].started)
				pthread_join(run.t[i].th, NULL);
	if (run.w)
		for (i = 0; i < c.wl_arg; i++)
			if (run.w[i].started)
				pthread_join(run.w[i].th, NULL);
	if (run.t) {
		for (i = 0; i < c.nq; i++) {
			if (run.t[i].held && run.umem)
				hold_release_all(&run.t[i], run.umem);
			xfrag_rxq__destroy(run.t[i].q);
			if (run.t[i].rings)
				for (unsigned int k = 0; k < c.wl_arg; k++)
					spsc_free(run.t[i].rings[k]);
			free(run.t[i].rings);
			free(run.t[i].held);
		}
	}
	if (c.fixed)
		fixed_teardown(&run);
	xfrag_xdp__detach(run.xdp);
	fatal_detach_disarm();
	xfrag_umem__destroy(run.umem);
	free(run.t);
	free(run.w);
	free(lat);
	if (tl)
		fclose(tl);
	if (hf)
		fclose(hf);
	return rc;
}
