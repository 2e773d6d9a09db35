// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Helper for test_xdp_attach.sh: drives the public xfrag_xdp API and prints
 * key=value lines the script checks.
 *
 *   attach IF [--mode native|skb|auto] [--replace] [--keep] [--meta] [--hash]
 *             [--udp PORT] [--action redirect|drop|pass] [--listen PORT]
 *             [--set-drop-udp PORT] [--xsk] [--exec CMD]
 *       attach; run CMD (via sh) while attached; print the counters; detach
 *       unless --keep (which exits without detaching: where the program is
 *       attached through a bpf_link, the kernel detaches it). --listen
 *       binds a UDP socket first and prints how many datagrams reached it.
 *       --set-drop-udp changes filter and action of the running program.
 *       --xsk binds an AF_XDP socket (copy mode) to queue 0, puts it in the
 *       XSKMAP and prints how many frames (and valid metadata) it received.
 *   detach-stale IF       remove xfrag programs, print removed=N
 *   foreign IF            attach a minimal non-xfrag XDP program and exit
 *   legacy IF             attach a minimal program named xfrag_rx by netlink
 *                         and exit: the stale program an older xfrag, or
 *                         libxdp without a dispatcher, leaves after a crash
 *   send ADDR PORT N [SZ] send N UDP datagrams of SZ bytes, then wait
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <xdp/xsk.h>

#include "xfrag/xfrag.h"

static const char *errname(int err)
{
	switch (err < 0 ? -err : err) {
	case EEXIST: return "EEXIST";
	case EBUSY: return "EBUSY";
	case ENODEV: return "ENODEV";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ERANGE: return "ERANGE";
	default: return "other";
	}
}

static int listen_udp(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("listen");
		exit(2);
	}
	return fd;
}

#define XSK_FRAMES 256
#define XSK_FRAME 4096

struct xsk {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	/* Zeroed before creation: libxdp 1.3.1 leaves the cached counters. */
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq, rx;
};

static int xsk_open(struct xsk *k, const char *ifname)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = XSK_FRAMES, .comp_size = 64,
		.frame_size = XSK_FRAME,
	};
	const struct xsk_socket_config scfg = {
		.rx_size = XSK_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	__u32 idx, i;
	int err;

	memset(k, 0, sizeof(*k));
	k->area = mmap(NULL, XSK_FRAMES * XSK_FRAME, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k->area == MAP_FAILED)
		return -errno;
	err = xsk_umem__create(&k->umem, k->area, XSK_FRAMES * XSK_FRAME,
			       &k->fq, &k->cq, &ucfg);
	if (err)
		return err;
	err = xsk_socket__create(&k->sock, ifname, 0, k->umem, &k->rx, NULL,
				 &scfg);
	if (err)
		return err;
	if (xsk_ring_prod__reserve(&k->fq, XSK_FRAMES, &idx) != XSK_FRAMES)
		return -ENOSPC;
	for (i = 0; i < XSK_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&k->fq, idx + i) = (__u64)i * XSK_FRAME;
	xsk_ring_prod__submit(&k->fq, XSK_FRAMES);
	return 0;
}

static void xsk_drain(struct xsk *k)
{
	unsigned int n = 0, meta_ok = 0, hash_ok = 0, i;
	__u32 idx = 0; /* peek sets it only when it returns entries */

	n = xsk_ring_cons__peek(&k->rx, XSK_FRAMES, &idx);
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&k->rx, idx + i);
		const char *data = xsk_umem__get_data(k->area, d->addr);
		struct xfrag_meta m;

		memcpy(&m, data - sizeof(m), sizeof(m));
		if ((m.flags & XFRAG_META_MAGIC_MASK) == XFRAG_META_MAGIC &&
		    (m.flags & XFRAG_META_F_TS) && m.xdp_ts_ns)
			meta_ok++;
		if (m.flags & XFRAG_META_F_HASH)
			hash_ok++;
	}
	xsk_ring_cons__release(&k->rx, n);
	printf("xsk_rx=%u meta_ok=%u hash_ok=%u\n", n, meta_ok, hash_ok);
}

static void xsk_close(struct xsk *k)
{
	xsk_socket__delete(k->sock);
	xsk_umem__delete(k->umem);
	munmap(k->area, XSK_FRAMES * XSK_FRAME);
}

static int cmd_attach(int argc, char **argv)
{
	XFRAG_OPTS(xfrag_xdp_filter, filter, .l4_proto = 0);
	XFRAG_OPTS(xfrag_xdp_opts, o, .ifname = argv[0]);
	XFRAG_OPTS(xfrag_xdp_filter, refilter, .l4_proto = IPPROTO_UDP);
	XFRAG_OPTS(xfrag_xdp_counters, c);
	const char *cmd = NULL;
	struct xfrag_xdp *x;
	bool keep = false, use_xsk = false, set_drop = false;
	struct xsk k;
	int i, lfd = -1, rc = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";

		if (!strcmp(a, "--mode")) {
			o.mode = !strcmp(v, "skb") ? XFRAG_XDP_MODE_SKB :
				 !strcmp(v, "auto") ? XFRAG_XDP_MODE_AUTO :
						      XFRAG_XDP_MODE_NATIVE;
			i++;
		} else if (!strcmp(a, "--action")) {
			o.action = !strcmp(v, "drop") ? XFRAG_XDP_DROP :
				   !strcmp(v, "pass") ? XFRAG_XDP_PASS :
							XFRAG_XDP_REDIRECT;
			i++;
		} else if (!strcmp(a, "--udp")) {
			filter.l4_proto = IPPROTO_UDP;
			filter.port_lo = filter.port_hi = (uint16_t)atoi(v);
			o.filter = &filter;
			i++;
		} else if (!strcmp(a, "--listen")) {
			lfd = listen_udp(atoi(v));
			i++;
		} else if (!strcmp(a, "--exec")) {
			cmd = v;
			i++;
		} else if (!strcmp(a, "--set-drop-udp")) {
			refilter.port_lo = refilter.port_hi = (uint16_t)atoi(v);
			set_drop = true;
			i++;
		} else if (!strcmp(a, "--xsk")) {
			use_xsk = true;
		} else if (!strcmp(a, "--replace")) {
			o.replace = true;
		} else if (!strcmp(a, "--keep")) {
			keep = true;
		} else if (!strcmp(a, "--meta")) {
			o.meta = true;
		} else if (!strcmp(a, "--hash")) {
			o.meta = o.rx_hash = true;
		} else {
			fprintf(stderr, "unknown option %s\n", a);
			return 2;
		}
	}

	x = xfrag_xdp__attach(&o);
	if (!x) {
		printf("errno=%s\n", errname(errno));
		return 1;
	}
	printf("attached id=%u mode=%s rx_hash=%d ifindex=%d\n",
	       xfrag_xdp__prog_id(x),
	       xfrag_xdp__mode(x) == XFRAG_XDP_MODE_SKB ? "skb" : "native",
	       xfrag_xdp__rx_hash(x), xfrag_xdp__ifindex(x));
	fflush(stdout);
	if (set_drop && (xfrag_xdp__set_filter(x, &refilter) ||
			 xfrag_xdp__set_action(x, XFRAG_XDP_DROP))) {
		printf("set_filter=error\n");
		rc = 1;
	}
	if (use_xsk) {
		int err = xsk_open(&k, argv[0]);

		if (!err)
			err = xfrag_xdp__set_xsk(x, 0, xsk_socket__fd(k.sock));
		if (err) {
			printf("xsk=error %s\n", strerror(-err));
			use_xsk = false;
			rc = 1;
		}
	}
	if (cmd) {
		rc = system(cmd);
		printf("exec_rc=%d\n", rc);
	}
	if (lfd >= 0) {
		char buf[2048];
		int n = 0;

		while (recv(lfd, buf, sizeof(buf), 0) >= 0)
			n++;
		printf("stack_rx=%d\n", n);
	}
	if (use_xsk) {
		xsk_drain(&k);
		xfrag_xdp__clear_xsk(x, 0);
		xsk_close(&k);
	}
	if (xfrag_xdp__counters(x, XFRAG_XDP_ALL_QUEUES, &c)) {
		printf("counters=error\n");
		rc = 1;
	} else {
		printf("seen=%llu matched=%llu redirected=%llu passed=%llu "
		       "dropped=%llu redirect_failed=%llu malformed=%llu "
		       "meta_failed=%llu\n",
		       (unsigned long long)c.seen, (unsigned long long)c.matched,
		       (unsigned long long)c.redirected,
		       (unsigned long long)c.passed,
		       (unsigned long long)c.dropped,
		       (unsigned long long)c.redirect_failed,
		       (unsigned long long)c.malformed,
		       (unsigned long long)c.meta_failed);
	}
	if (keep) { /* die without detaching, like a crash: a stale program */
		fflush(stdout);
		_exit(rc ? 1 : 0);
	}
	xfrag_xdp__detach(x);
	return rc ? 1 : 0;
}

/* A pass-all program attached by netlink, which outlives its process. */
static int attach_netlink(const char *ifname, const char *name)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd, err;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", insns, 2, NULL);
	if (fd < 0) {
		perror("bpf_prog_load");
		return 1;
	}
	err = bpf_xdp_attach((int)if_nametoindex(ifname), fd,
			     XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "bpf_xdp_attach: %s\n", strerror(-err));
		return 1;
	}
	printf("%s attached\n", name);
	return 0;
}

static int cmd_send(const char *addr, int port, int count, size_t size)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), i;
	static char buf[65000];

	if (size > sizeof(buf))
		size = sizeof(buf);
	memset(buf, 'x', size);

	if (fd < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		perror("send");
		return 1;
	}
	for (i = 0; i < count; i++)
		if (sendto(fd, buf, size, 0, (struct sockaddr *)&a, sizeof(a)) < 0)
			perror("sendto");
	usleep(300 * 1000); /* ARP resolution, then the queued datagrams */
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "attach"))
		return cmd_attach(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "detach-stale")) {
		int n = xfrag_xdp__detach_stale(argv[2]);

		if (n < 0) {
			printf("errno=%s\n", errname(n));
			return 1;
		}
		printf("removed=%d\n", n);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "foreign"))
		return attach_netlink(argv[2], "foreign_pass");
	if (argc == 3 && !strcmp(argv[1], "legacy"))
		return attach_netlink(argv[2], "xfrag_rx");
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "send"))
		return cmd_send(argv[2], atoi(argv[3]), atoi(argv[4]),
				argc == 6 ? (size_t)atoi(argv[5]) : 5);
	fprintf(stderr, "usage: see the top of xdp_attach_tool.c\n");
	return 2;
}
