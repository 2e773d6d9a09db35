// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xfrag-bench gen: a traffic generator for the lab and benchmarks.
 *
 * AF_XDP mode carves every TX frame from a frag cache at exactly the
 * frame's length (xfrag_txq__alloc), builds a test frame (frame.h) in it,
 * puts batches on the TX ring and gives completed frames back through the
 * frag allocator's bulk release. AF_PACKET mode (sendmmsg, qdisc bypass)
 * serves where AF_XDP TX is unavailable and for frames larger than an
 * AF_XDP chunk (4096 bytes), since multi-buffer TX is not done yet.
 *
 * --count N means N frames accepted by the device: a frame the device drops
 * (AF_XDP EBUSY, AF_PACKET ENOBUFS) is counted in "dropped" and replaced.
 * A run always ends: at --count, at --duration (10 s if neither is given),
 * or on SIGINT/SIGTERM, with a summary either way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "frame.h"
#include "gen_opts.h"
#include "pacer.h"
#include "params.h"
#include "signals.h"
#include "xfrag/txq.h"
#include "xfrag/xfrag.h"

struct gen_result {
	const char *mode;
	uint64_t sent;      /* accepted by the device */
	uint64_t bytes;
	uint64_t dropped;   /* refused by the device (and replaced) */
	uint64_t errors;    /* other send errors */
	uint64_t kicks, eagain, ebusy, tx_invalid, completed, alloc_fail;
	double seconds;
	const char *stopped; /* count, duration, signal, error */
	int last_error;
	uint32_t blocks_in_use; /* AF_XDP: UMEM blocks pinned after the end */
};

/* ------------------------------------------------------------- progress -- */

struct progress {
	uint64_t start, next, last_t, last_sent, last_bytes;
	bool quiet;
};

static void progress_tick(struct progress *pr, uint64_t now, uint64_t sent,
			  uint64_t bytes, uint64_t dropped)
{
	double dt;

	if (now < pr->next)
		return;
	dt = (double)(now - pr->last_t) * 1e-9;
	if (!pr->quiet && dt > 0)
		fprintf(stderr, "gen: %6.1f s  sent %llu  %.3f Mpps  %.3f Gbit/s  dropped %llu\n",
			(double)(now - pr->start) * 1e-9, (unsigned long long)sent,
			(double)(sent - pr->last_sent) / dt * 1e-6,
			(double)(bytes - pr->last_bytes) * 8 / dt * 1e-9,
			(unsigned long long)dropped);
	pr->last_t = now;
	pr->last_sent = sent;
	pr->last_bytes = bytes;
	while (pr->next <= now)
		pr->next += 1000000000ull;
}

/* Should the run stop? Sets r->stopped. */
static bool time_to_stop(const struct gen_cfg *c, struct gen_result *r,
			 uint64_t now, uint64_t deadline)
{
	if (stop_requested()) {
		r->stopped = "signal";
		return true;
	}
	if (deadline && now >= deadline) {
		r->stopped = "duration";
		return true;
	}
	(void)c;
	return false;
}

/* Ends a run in which the device accepted nothing for 5 s. */
struct stall {
	uint64_t last_sent, since;
};

static bool stalled(struct stall *st, struct gen_result *r, uint64_t now)
{
	if (r->sent != st->last_sent) {
		st->last_sent = r->sent;
		st->since = now;
		return false;
	}
	if (now - st->since < 5000000000ull)
		return false;
	fprintf(stderr, "gen: no frame accepted by the device for 5 s (dropped %llu, errors %llu, last error: %s); giving up\n",
		(unsigned long long)r->dropped, (unsigned long long)r->errors,
		r->last_error ? strerror(-r->last_error) : "none");
	r->stopped = "error";
	return true;
}

/* --------------------------------------------------------------- AF_XDP -- */

static void txq_stats_to_result(struct xfrag_txq *q, struct gen_result *r)
{
	XFRAG_OPTS(xfrag_txq_stats, s);

	xfrag_txq__stats(q, &s);
	r->kicks = s.kicks;
	r->eagain = s.eagain;
	r->ebusy = s.ebusy;
	r->tx_invalid = s.tx_invalid_descs;
	r->completed = s.completed;
	r->alloc_fail = s.alloc_fail;
	r->errors = s.errors;
	r->last_error = s.last_error;
	/* Dropped frames still complete; they are not sent. */
	r->dropped = s.ebusy + s.tx_invalid_descs;
	r->sent = s.sent > r->dropped ? s.sent - r->dropped : 0;
	/* The dropped frames' lengths are not known one by one: with mixed
	 * sizes, take the mean. */
	r->bytes = s.sent ? s.sent_bytes - (uint64_t)((double)s.sent_bytes / (double)s.sent *
						      (double)r->dropped) : 0;
}

static uint64_t xdp_umem_size(const struct gen_cfg *c)
{
	uint64_t frame = (c->sizes.max + 63u) & ~63u;
	/* Everything in flight (TX + completion rings) plus slack for the
	 * partly carved blocks. */
	uint64_t need = (uint64_t)c->ring * 2 * frame * 5 / 4 + (1u << 20);

	if (c->umem_size)
		return c->umem_size;
	need = (need + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
	return need < (4u << 20) ? (4u << 20) : need;
}

/*
 * Returns 0 when the run happened (r filled in), or a negative errno when
 * AF_XDP could not be set up (nothing was sent).
 */
static int run_xdp(struct gen_cfg *c, struct gen_result *r)
{
	XFRAG_OPTS(xfrag_umem_opts, uo, .size = xdp_umem_size(c));
	XFRAG_OPTS(xfrag_txq_opts, to, .ifindex = c->ifindex, .queue_id = c->queue,
		   .tx_size = c->ring, .comp_size = c->ring,
		   .frame_size = c->frame_size, .bind_mode = c->bind_mode);
	static uint64_t addrs[GEN_MAX_BATCH];
	static uint32_t lens[GEN_MAX_BATCH];
	struct xfrag_umem *umem;
	struct xfrag_txq *q;
	struct progress pr = { .quiet = c->quiet };
	struct pacer pc;
	uint64_t seq = 0, start, now, deadline = 0, target = c->count;
	struct stall st;
	uint32_t saved_len = 0;
	unsigned int npend = 0;
	int err;

	umem = xfrag_umem__create(&uo);
	if (!umem) {
		err = -errno;
		fprintf(stderr, "gen: creating a %llu-byte UMEM failed: %s\n",
			(unsigned long long)uo.size, strerror(errno));
		return err;
	}
	q = xfrag_txq__create(umem, &to);
	if (!q) {
		err = -errno;
		xfrag_umem__destroy(umem);
		return err;
	}
	r->mode = "xdp";
	start = now = now_ns();
	if (c->duration > 0)
		deadline = start + (uint64_t)(c->duration * 1e9);
	pr.start = pr.last_t = start;
	pr.next = start + 1000000000ull;
	pacer_init(&pc, c->rate, c->batch, start);
	st = (struct stall){ .last_sent = 0, .since = start };

	for (;;) {
		unsigned int want, i, k;

		now = now_ns();
		if (time_to_stop(c, r, now, deadline))
			break;
		if (now >= pr.next) {
			txq_stats_to_result(q, r);
			progress_tick(&pr, now, r->sent, r->bytes, r->dropped);
			if (stalled(&st, r, now))
				break;
		}

		want = c->batch - npend;
		if (c->count) {
			/* Build the count, plus a replacement for each frame the
			 * device dropped; drops are final once nothing is in
			 * flight (one getsockopt per drain, not per batch). */
			if (seq >= target) {
				want = 0;
				if (!npend && !xfrag_txq__outstanding(q)) {
					txq_stats_to_result(q, r);
					target = c->count + r->dropped;
					if (seq >= target) {
						r->stopped = "count";
						break;
					}
				}
			} else if (target - seq < want) {
				want = (unsigned int)(target - seq);
			}
		}
		want = pacer_take(&pc, want, now);
		if (c->sizes.n == 1) {
			/* One size: carve the batch in one step. */
			uint32_t len = c->sizes.size[0];
			int got = xfrag_txq__alloc_burst(q, len, addrs + npend, want);

			for (i = 0; i < (unsigned int)(got > 0 ? got : 0); i++) {
				frame_build(xfrag_umem__ptr(umem, addrs[npend]), len,
					    &c->fp, seq, (uint16_t)(seq % c->flows));
				seq++;
				lens[npend++] = len;
			}
		} else {
			for (i = 0; i < want; i++) {
				uint32_t len = saved_len ? saved_len : frame_sizes_next(&c->sizes);
				uint64_t a;

				err = xfrag_txq__alloc(q, len, &a);
				if (err) {
					/* Pool empty: completions will refill it. */
					saved_len = len;
					break;
				}
				saved_len = 0;
				frame_build(xfrag_umem__ptr(umem, a), len, &c->fp, seq,
					    (uint16_t)(seq % c->flows));
				seq++;
				addrs[npend] = a;
				lens[npend] = len;
				npend++;
			}
		}
		pacer_return(&pc, want - i);
		if (npend) {
			k = (unsigned int)xfrag_txq__send(q, addrs, lens, npend);
			if (k && k < npend) {
				memmove(addrs, addrs + k, (npend - k) * sizeof(addrs[0]));
				memmove(lens, lens + k, (npend - k) * sizeof(lens[0]));
			}
			npend -= k;
		} else if (xfrag_txq__outstanding(q)) {
			xfrag_txq__kick(q);
		}
		xfrag_txq__complete(q);
	}

	/* Frames built but never queued: give them back (their seqs are skipped). */
	for (unsigned int i = 0; i < npend; i++)
		xfrag_umem__release(umem, addrs[i]);
	/* Let what is in flight go out and complete (up to a second). */
	for (int i = 0; i < 1000 && xfrag_txq__outstanding(q); i++) {
		xfrag_txq__kick(q);
		if (!xfrag_txq__complete(q)) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	now = now_ns();
	txq_stats_to_result(q, r);
	r->seconds = (double)(now - start) * 1e-9;
	xfrag_txq__destroy(q);
	{
		/* Every frame came back through a completion (or destroy):
		 * no block may stay pinned. */
		struct xfrag_umem_stats us;

		xfrag_umem__stats(umem, &us);
		r->blocks_in_use = us.blocks_in_use;
		if (us.blocks_in_use)
			fprintf(stderr, "gen: %u UMEM blocks still in use after the tx queue closed: frames leaked\n",
				us.blocks_in_use);
	}
	xfrag_umem__destroy(umem);
	return 0;
}

/* ------------------------------------------------------------- AF_PACKET -- */

static int packet_socket(const struct gen_cfg *c)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = c->ifindex,
		.sll_protocol = 0, /* send only: receive nothing */
	};
	int fd, one = 1, sndbuf = 4 << 20;

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		fprintf(stderr, "gen: AF_PACKET socket: %s%s\n", strerror(errno),
			errno == EPERM ? " (needs CAP_NET_RAW: run as root)" : "");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "gen: binding AF_PACKET to %s: %s\n", c->ifname, strerror(errno));
		close(fd);
		return -1;
	}
	/* Straight to the driver, like AF_XDP: no qdisc. */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		fprintf(stderr, "gen: note: PACKET_QDISC_BYPASS: %s\n", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return fd;
}

static int run_packet(struct gen_cfg *c, struct gen_result *r)
{
	static struct mmsghdr msgs[GEN_MAX_BATCH];
	static struct iovec iov[GEN_MAX_BATCH];
	size_t slot = ((size_t)c->sizes.max + 63) & ~(size_t)63;
	struct progress pr = { .quiet = c->quiet };
	struct pacer pc;
	struct stall st;
	uint64_t seq = 0, start, now, deadline = 0;
	unsigned int npend = 0, head = 0; /* built, unsent: msgs[head..head+npend) */
	uint8_t *bufs;
	int fd;

	fd = packet_socket(c);
	if (fd < 0)
		return -1;
	bufs = aligned_alloc(64, slot * GEN_MAX_BATCH);
	if (!bufs) {
		close(fd);
		fprintf(stderr, "gen: out of memory\n");
		return -1;
	}
	for (unsigned int i = 0; i < GEN_MAX_BATCH; i++) {
		iov[i].iov_base = bufs + i * slot;
		msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	r->mode = "packet";
	start = now_ns();
	if (c->duration > 0)
		deadline = start + (uint64_t)(c->duration * 1e9);
	pr.start = pr.last_t = start;
	pr.next = start + 1000000000ull;
	pacer_init(&pc, c->rate, c->batch, start);
	st = (struct stall){ .last_sent = 0, .since = start };

	for (;;) {
		unsigned int want, i;
		int k;

		now = now_ns();
		if (time_to_stop(c, r, now, deadline))
			break;
		if (now >= pr.next) {
			progress_tick(&pr, now, r->sent, r->bytes, r->dropped);
			if (stalled(&st, r, now))
				break;
		}
		if (c->count && r->sent >= c->count) {
			r->stopped = "count";
			break;
		}
		if (!npend) {
			head = 0;
			want = c->batch;
			if (c->count && c->count - r->sent < want)
				want = (unsigned int)(c->count - r->sent);
			want = pacer_take(&pc, want, now);
			for (i = 0; i < want; i++) {
				uint32_t len = frame_sizes_next(&c->sizes);

				frame_build(iov[i].iov_base, len, &c->fp, seq,
					    (uint16_t)(seq % c->flows));
				iov[i].iov_len = len;
				seq++;
			}
			npend = want;
			if (!npend)
				continue;
		}
		k = sendmmsg(fd, msgs + head, npend, 0);
		if (k > 0) {
			for (i = 0; i < (unsigned int)k; i++)
				r->bytes += iov[head + i].iov_len;
			r->sent += (unsigned int)k;
			head += (unsigned int)k;
			npend -= (unsigned int)k;
			continue;
		}
		/* The first frame failed (a later failure returns a short count,
		 * and that frame is tried again first thing). */
		switch (errno) {
		case ENOBUFS:
			/* The device dropped it; its seq is skipped. */
			r->dropped++;
			head++;
			npend--;
			break;
		case EINTR:
		case EAGAIN:
			break;
		default:
			r->errors++;
			r->last_error = -errno;
			fprintf(stderr, "gen: sendmmsg on %s: %s%s\n", c->ifname, strerror(errno),
				errno == EMSGSIZE ? " (frame larger than the MTU allows)" :
				errno == ENETDOWN ? " (the interface is down)" : "");
			r->stopped = "error";
			goto out;
		}
	}
out:
	r->seconds = (double)(now_ns() - start) * 1e-9;
	free(bufs);
	close(fd);
	return 0;
}

/* --------------------------------------------------------------- report -- */

static void report(const struct gen_cfg *c, const struct gen_result *r)
{
	double pps = r->seconds > 0 ? (double)r->sent / r->seconds : 0;
	double bps = r->seconds > 0 ? (double)r->bytes * 8 / r->seconds : 0;
	FILE *f = c->json ? stderr : stdout;

	fprintf(f, "gen: %s on %s: sent %llu frames, %llu bytes in %.3f s: %.0f pps, %.1f Mbit/s; dropped %llu, errors %llu (stopped: %s)\n",
		r->mode, c->ifname, (unsigned long long)r->sent,
		(unsigned long long)r->bytes, r->seconds, pps, bps * 1e-6,
		(unsigned long long)r->dropped, (unsigned long long)r->errors,
		r->stopped);
	if (!strcmp(r->mode, "xdp"))
		fprintf(f, "gen: AF_XDP: %llu completed, %llu kicks, %llu EAGAIN, %llu EBUSY, %llu invalid descriptors, %llu pool-empty waits\n",
			(unsigned long long)r->completed, (unsigned long long)r->kicks,
			(unsigned long long)r->eagain, (unsigned long long)r->ebusy,
			(unsigned long long)r->tx_invalid, (unsigned long long)r->alloc_fail);
	if (!c->json)
		return;
	printf("{\"cmd\":\"gen\",\"mode\":\"%s\",\"iface\":\"%s\",\"queue\":%u,"
	       "\"size\":\"%s\",\"mean_size\":%.1f,\"flows\":%u,\"rate\":%llu,\"batch\":%u,"
	       "\"sent\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"pps\":%.1f,\"bps\":%.1f,"
	       "\"dropped\":%llu,\"errors\":%llu,\"last_error\":%d,\"stopped\":\"%s\"",
	       r->mode, c->ifname, c->queue, c->size_spec, frame_sizes_mean(&c->sizes),
	       c->flows, (unsigned long long)c->rate, c->batch,
	       (unsigned long long)r->sent, (unsigned long long)r->bytes, r->seconds,
	       pps, bps, (unsigned long long)r->dropped, (unsigned long long)r->errors,
	       r->last_error, r->stopped);
	if (!strcmp(r->mode, "xdp"))
		printf(",\"completed\":%llu,\"kicks\":%llu,\"eagain\":%llu,\"ebusy\":%llu,"
		       "\"tx_invalid_descs\":%llu,\"alloc_fail\":%llu,\"umem_blocks_in_use\":%u",
		       (unsigned long long)r->completed, (unsigned long long)r->kicks,
		       (unsigned long long)r->eagain, (unsigned long long)r->ebusy,
		       (unsigned long long)r->tx_invalid, (unsigned long long)r->alloc_fail,
		       r->blocks_in_use);
	printf("}\n");
	fflush(stdout);
}

/* ---------------------------------------------------------------- setup -- */

/* MTU, MAC, IPv4 address and state of the interface. */
static int probe_iface(struct gen_cfg *c)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, "gen: socket: %s\n", strerror(errno));
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		fprintf(stderr, "gen: interface %s is down (ip link set dev %s up)\n",
			c->ifname, c->ifname);
		close(fd);
		return 1;
	}
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		c->mtu = (uint32_t)ifr.ifr_mtu;
	if (!c->src_mac_set && ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(c->fp.src_mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFADDR, &ifr) == 0) {
		uint32_t addr = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr;

		if (!c->src_ip_set)
			c->fp.src_ip = addr;
		if (!c->dst_ip_set && ioctl(fd, SIOCGIFNETMASK, &ifr) == 0) {
			uint32_t mask = ntohl(((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr);
			uint32_t net = ntohl(addr) & mask, dst = net | 1;

			if (dst == ntohl(addr))
				dst = net | 2;
			if (mask && mask != 0xffffffffu)
				c->fp.dst_ip = htonl(dst);
		}
	}
	close(fd);
	return 0;
}

int cmd_gen(int argc, char **argv)
{
	struct gen_cfg c = {
		.flows = 1, .cpu = -1, .batch = 64, .frame_size = 4096, .ring = 2048,
		.mode = GEN_AUTO, .size_spec = "64", .bind_mode = XFRAG_BIND_AUTO,
	};
	struct gen_result r = { .stopped = "count" };
	uint32_t max_frame;
	char err[128];
	int rc;

	frame_params_init(&c.fp);
	frame_sizes_parse(&c.sizes, "64", err, sizeof(err));
	rc = params_parse(&gen_table, argc, argv, &c);
	if (rc)
		return rc == 1 ? 0 : rc;
	rc = gen_check(&c);
	if (rc)
		return rc;
	if (probe_iface(&c))
		return 1;

	/* What the interface carries: MTU plus the Ethernet header. */
	max_frame = c.mtu ? c.mtu + 14 : FRAME_MAX_LEN;
	if (c.sizes.max > max_frame) {
		if (!c.sizes.imix) {
			fprintf(stderr, "gen: size %u exceeds what %s carries: MTU %u + 14 = %u bytes; raise the MTU (ip link set dev %s mtu %u, or lab_up -m %u)\n",
				c.sizes.max, c.ifname, c.mtu, max_frame, c.ifname,
				c.sizes.max - 14, c.sizes.max - 14);
			return 2;
		}
		if (!c.quiet)
			fprintf(stderr, "gen: note: imix's %u-byte frames are sent as %u (MTU %u)\n",
				c.sizes.max, max_frame, c.mtu);
		frame_sizes_clamp(&c.sizes, (uint16_t)max_frame);
	}
	if (c.sizes.max > c.frame_size) {
		if (c.mode == GEN_XDP) {
			fprintf(stderr, "gen: %u-byte frames exceed the AF_XDP frame size (%u): use --mode packet (AF_XDP multi-buffer TX is not done yet)\n",
				c.sizes.max, c.frame_size);
			return 2;
		}
		if (c.mode == GEN_AUTO) {
			if (!c.quiet)
				fprintf(stderr, "gen: note: %u-byte frames exceed the AF_XDP frame size (%u): using AF_PACKET\n",
					c.sizes.max, c.frame_size);
			c.mode = GEN_PACKET;
		}
	}
	if (c.mode == GEN_PACKET && c.queue_set && c.queue && !c.quiet)
		fprintf(stderr, "gen: note: AF_PACKET does not bind a queue; --queue %u is ignored (steer with --cpu)\n",
			c.queue);
	if (c.cpu >= 0 && (rc = pin_cpu(c.cpu))) {
		fprintf(stderr, "gen: cannot pin to CPU %d: %s\n", c.cpu, strerror(-rc));
		return 2;
	}
	stop_on_signals();

	if (c.mode != GEN_PACKET) {
		rc = run_xdp(&c, &r);
		if (rc && c.mode == GEN_XDP) {
			fprintf(stderr, "gen: AF_XDP TX on %s queue %u failed: %s\n",
				c.ifname, c.queue, strerror(-rc));
			return 1;
		}
		if (rc) {
			if (!c.quiet)
				fprintf(stderr, "gen: note: AF_XDP TX unavailable (%s): using AF_PACKET\n",
					strerror(-rc));
			c.mode = GEN_PACKET;
		}
	}
	if (c.mode == GEN_PACKET && run_packet(&c, &r))
		return 1;
	report(&c, &r);
	if (!strcmp(r.stopped, "error"))
		return 1;
	if (c.count && r.sent < c.count && !c.quiet)
		fprintf(stderr, "gen: note: %llu of %llu frames sent (stopped by %s)\n",
			(unsigned long long)r.sent, (unsigned long long)c.count, r.stopped);
	return 0;
}
