// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* rx -w: the pcap writer thread and the queues to it. See capture.h. */
#include <errno.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "capture.h"
#include "signals.h"
#include "spsc.h"

#define CAPTURE_STDIO_BUF (1u << 20)
/* The longest frame a chain can carry. */
#define CAPTURE_CHAIN_MAX (XFRAG_CHAIN_MAX_SEGS * XFRAG_FRAME_MAX)

/* One rx queue's way to the writer. */
struct capq {
	struct spsc *ring;
	_Atomic uint64_t dropped; /* written by the rx thread (then by main) */
} __attribute__((aligned(64)));

struct capture {
	const struct rx_cfg *cfg;
	struct rx_run *run;
	const char *name;
	FILE *f;
	char *iobuf;  /* f's buffer: glibc takes setvbuf()'s size only with one */
	pcap_t *dead;
	pcap_dumper_t *dumper;
	uint32_t snaplen;
	int64_t mono_to_real; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	struct capq q[RX_MAX_QUEUES];
	unsigned int nq;
	uint8_t *buf; /* a chain copied into one piece */
	uint32_t buf_size;
	pthread_t th;
	bool started, finished;
	atomic_bool done; /* main: nothing more will be queued */
	/* the writer's, read by the others */
	_Atomic uint64_t frames, bytes, unstamped, failed;
	_Atomic int err;  /* errno of the first failed write */
	_Atomic int cpu;  /* the CPU the writer is pinned to, -1: several */
};

const char *capture_name(const struct capture *cap)
{
	return cap->name;
}

struct capture *capture_open(const struct rx_cfg *c)
{
	struct capture *cap = calloc(1, sizeof(*cap));
	bool to_stdout = !strcmp(c->write_path, "-");

	if (!cap) {
		fprintf(stderr, "rx: out of memory\n");
		return NULL;
	}
	cap->cfg = c;
	cap->name = to_stdout ? "stdout" : c->write_path;
	cap->snaplen = c->snaplen ? c->snaplen : CAPTURE_SNAPLEN_MAX;
	atomic_init(&cap->cpu, -1);
	cap->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)cap->snaplen,
							 PCAP_TSTAMP_PRECISION_NANO);
	if (!cap->dead) {
		fprintf(stderr, "rx: libpcap cannot make a nanosecond Ethernet capture\n");
		goto fail;
	}
	cap->f = to_stdout ? stdout : fopen(c->write_path, "wb");
	if (!cap->f) {
		fprintf(stderr, "rx: cannot write the capture to '%s': %s\n", c->write_path,
			strerror(errno));
		goto fail;
	}
	/* Before the first byte: pcap_dump() writes through this FILE, and
	 * a write(2) per 4 KiB (tmpfs' st_blksize) would cost more than the
	 * copies. */
	cap->iobuf = malloc(CAPTURE_STDIO_BUF);
	if (cap->iobuf)
		setvbuf(cap->f, cap->iobuf, _IOFBF, CAPTURE_STDIO_BUF);
	cap->dumper = pcap_dump_fopen(cap->dead, cap->f);
	if (!cap->dumper) {
		fprintf(stderr, "rx: cannot write the capture to '%s': %s\n", cap->name,
			pcap_geterr(cap->dead));
		if (!to_stdout) {
			fclose(cap->f);
		} else {
			/* stdout lives on: it must not keep a buffer we free */
			fflush(stdout);
			cap->iobuf = NULL;
		}
		cap->f = NULL;
		goto fail;
	}
	return cap;
fail:
	capture_close(cap);
	return NULL;
}

/*
 * XDP stamps are CLOCK_MONOTONIC (bpf_ktime_get_ns), pcap wants the wall
 * clock: the offset from the tightest of a few (mono, real, mono) samples.
 */
static int64_t mono_to_real(void)
{
	int64_t best = 0, gap = INT64_MAX;
	int i;

	for (i = 0; i < 5; i++) {
		struct timespec m1, r, m2;
		int64_t a, b, w;

		clock_gettime(CLOCK_MONOTONIC, &m1);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &m2);
		a = (int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec;
		b = (int64_t)m2.tv_sec * 1000000000 + m2.tv_nsec;
		w = (int64_t)r.tv_sec * 1000000000 + r.tv_nsec;
		if (b - a < gap) {
			gap = b - a;
			best = w - (a + (b - a) / 2);
		}
	}
	return best;
}

/* Write @n frames; a failed write stops the run (the frames still go back). */
static void write_frames(struct capture *cap, const struct xfrag_pkt *p, unsigned int n)
{
	struct xfrag_umem *u = cap->run->umem;
	uint64_t bytes = 0, unstamped = 0, now = 0;
	unsigned int i;

	if (atomic_load_explicit(&cap->err, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&cap->failed, n, memory_order_relaxed);
		return;
	}
	errno = 0;
	for (i = 0; i < n; i++) {
		const struct xfrag_meta *m = (const void *)(p[i].data - sizeof(*m));
		uint32_t caplen = p[i].len < cap->snaplen ? p[i].len : cap->snaplen;
		const uint8_t *data = p[i].data;
		struct pcap_pkthdr h;
		uint64_t ts;

		if (p[i].meta_len >= sizeof(*m) && (m->flags & XFRAG_META_F_TS)) {
			ts = m->xdp_ts_ns;
		} else {
			/* No stamp (the program had no room): the time we see it. */
			if (!now)
				now = now_ns();
			ts = now;
			unstamped++;
		}
		ts += (uint64_t)cap->mono_to_real;
		if (p[i].nsegs > 1) {
			/* pcap_dump() takes one buffer: gather the chain. */
			uint32_t off = 0, sl;
			unsigned int k;

			if (caplen > cap->buf_size)
				caplen = cap->buf_size;
			for (k = 0; off < caplen; k++) {
				const uint8_t *seg = xfrag_pkt__seg(u, &p[i], k, &sl);

				if (!seg)
					break;
				if (sl > caplen - off)
					sl = caplen - off;
				memcpy(cap->buf + off, seg, sl);
				off += sl;
			}
			caplen = off;
			data = cap->buf;
		}
		h.ts.tv_sec = (time_t)(ts / 1000000000u);
		/* A nanosecond dumper takes nanoseconds in tv_usec. */
		h.ts.tv_usec = (suseconds_t)(ts % 1000000000u);
		h.caplen = caplen;
		h.len = p[i].len;
		pcap_dump((u_char *)cap->dumper, &h, data);
		bytes += caplen;
	}
	if (ferror(cap->f)) {
		int e = errno ? errno : EIO;

		atomic_store(&cap->err, e);
		atomic_fetch_add_explicit(&cap->failed, n, memory_order_relaxed);
		stop_request();
		return;
	}
	atomic_fetch_add_explicit(&cap->frames, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&cap->bytes, bytes, memory_order_relaxed);
	if (unstamped)
		atomic_fetch_add_explicit(&cap->unstamped, unstamped, memory_order_relaxed);
}

static int single_cpu(void)
{
	cpu_set_t set;
	int c, found = -1;

	if (pthread_getaffinity_np(pthread_self(), sizeof(set), &set))
		return -1;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			if (found >= 0)
				return -1;
			found = c;
		}
	return found;
}

static void *writer_thread(void *arg)
{
	struct capture *cap = arg;
	struct xfrag_umem *u = cap->run->umem;
	unsigned int i, n, idle = 0;
	struct xfrag_pkt *p;
	/* The frames' way back: see spsc_consumer_releaser(). */
	struct xfrag_releaser *rel = spsc_consumer_releaser(u);

	pin_cpu(cap->cfg->write_cpu);
	atomic_store(&cap->cpu, single_cpu());
	for (;;) {
		/* Read before the scan: once done is seen, nothing more comes. */
		bool done = atomic_load_explicit(&cap->done, memory_order_acquire), any = false;

		for (i = 0; i < cap->nq; i++) {
			struct spsc *r = cap->q[i].ring;

			while ((n = spsc_peek(r, &p))) {
				write_frames(cap, p, n);
				xfrag_pkt__release_bulk(u, p, n);
				spsc_pop(r, n);
				any = true;
			}
		}
		if (any)
			idle = 0;
		else if (done)
			break;
		else
			idle_backoff(&idle);
	}
	xfrag_releaser__destroy(rel);
	return NULL;
}

int capture_start(struct capture *cap, struct rx_run *r)
{
	const struct rx_cfg *c = cap->cfg;
	unsigned int i;

	cap->run = r;
	cap->nq = c->nq;
	cap->buf_size = cap->snaplen < CAPTURE_CHAIN_MAX ? cap->snaplen : CAPTURE_CHAIN_MAX;
	cap->buf = malloc(cap->buf_size);
	if (!cap->buf)
		goto nomem;
	for (i = 0; i < cap->nq; i++) {
		cap->q[i].ring = spsc_new(c->write_queue);
		if (!cap->q[i].ring)
			goto nomem;
	}
	cap->mono_to_real = mono_to_real();
	if (pthread_create(&cap->th, NULL, writer_thread, cap)) {
		fprintf(stderr, "rx: cannot start the capture writer\n");
		return -1;
	}
	cap->started = true;
	return 0;
nomem:
	fprintf(stderr, "rx: out of memory for the capture queues\n");
	return -1;
}

void capture_push(struct capture *cap, struct rx_thread *t,
		  const struct xfrag_pkt *pkts, unsigned int n)
{
	struct capq *q = &cap->q[t->idx];
	unsigned int k = spsc_push(q->ring, pkts, n);

	if (xfrag_unlikely(k < n)) {
		/* The writer is behind: drop and count, never wait. */
		xfrag_rxq__release(t->q, pkts + k, n - k);
		atomic_store_explicit(&q->dropped,
				      atomic_load_explicit(&q->dropped, memory_order_relaxed) + (n - k),
				      memory_order_relaxed);
	}
}

void capture_push_wait(struct capture *cap, struct rx_thread *t,
		       const struct xfrag_pkt *pkts, unsigned int n)
{
	struct capq *q = &cap->q[t->idx];
	unsigned int k;

	while (n) {
		k = spsc_push(q->ring, pkts, n);
		pkts += k;
		n -= k;
		if (n && atomic_load(&cap->err)) {
			/* The writer has given up: nothing will make room. */
			xfrag_pkt__release_bulk(cap->run->umem, pkts, n);
			atomic_fetch_add(&cap->failed, n);
			return;
		}
		if (n)
			sleep_ms(1);
	}
}

int capture_finish(struct capture *cap)
{
	int err;

	if (cap->finished)
		return 0;
	cap->finished = true;
	if (cap->started) {
		atomic_store_explicit(&cap->done, true, memory_order_release);
		pthread_join(cap->th, NULL);
		cap->started = false;
	}
	err = atomic_load(&cap->err);
	if (cap->dumper && (pcap_dump_flush(cap->dumper) || ferror(cap->f)) && !err)
		err = errno ? errno : EIO;
	if (cap->dumper) {
		/* Closes the FILE, stdout too: the reports go to stderr then. */
		pcap_dump_close(cap->dumper);
		cap->dumper = NULL;
		cap->f = NULL;
	}
	if (err) {
		atomic_store(&cap->err, err);
		fprintf(stderr, "rx: writing the capture to %s failed: %s\n", cap->name,
			strerror(err));
		return -1;
	}
	return 0;
}

void capture_get_stats(const struct capture *cap, struct capture_stats *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->frames = atomic_load_explicit(&cap->frames, memory_order_relaxed);
	s->bytes = atomic_load_explicit(&cap->bytes, memory_order_relaxed);
	s->unstamped = atomic_load_explicit(&cap->unstamped, memory_order_relaxed);
	s->failed = atomic_load_explicit(&cap->failed, memory_order_relaxed);
	s->writer_cpu = atomic_load_explicit(&cap->cpu, memory_order_relaxed);
	for (i = 0; i < cap->nq; i++) {
		struct spsc *r = cap->q[i].ring;

		s->dropped += atomic_load_explicit(&cap->q[i].dropped, memory_order_relaxed);
		s->queued += atomic_load_explicit(&r->head, memory_order_relaxed) -
			     atomic_load_explicit(&r->tail, memory_order_relaxed);
	}
}

void capture_close(struct capture *cap)
{
	unsigned int i;

	if (!cap)
		return;
	/* The writer releases what is still queued: before the UMEM goes. */
	capture_finish(cap);
	for (i = 0; i < cap->nq; i++)
		spsc_free(cap->q[i].ring);
	if (cap->dead)
		pcap_close(cap->dead);
	/* capture_finish() closed the FILE that used it */
	free(cap->iobuf);
	free(cap->buf);
	free(cap);
}
