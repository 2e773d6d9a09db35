// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The smallest useful xfrag receiver: attach the XDP program to an
 * interface, open an rx queue on the shared UMEM, receive, release.
 *
 *   rx_min IFNAME [QUEUE] [MAX_PACKETS] [SECONDS]
 *
 * Build against an installed xfrag:  cc rx_min.c $(pkg-config --cflags --libs xfrag)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <xfrag/xfrag.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	unsigned long max = argc > 3 ? strtoul(argv[3], NULL, 0) : 0, got = 0;
	time_t end = time(NULL) + (argc > 4 ? atoi(argv[4]) : 10);
	struct xfrag_pkt pkts[64];
	struct xfrag_umem *umem;
	struct xfrag_xdp *xdp;
	struct xfrag_rxq *q;
	int i, n, rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: %s IFNAME [QUEUE] [MAX_PACKETS] [SECONDS]\n", argv[0]);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	/* 1. The UMEM: 16 MiB in 64 KiB blocks, carved by the frag caches. */
	umem = xfrag_umem__create(NULL);
	if (!umem)
		return 1;

	/* 2. The XDP program: UDP only, so ARP and SSH still reach the stack. */
	XFRAG_OPTS(xfrag_xdp_filter, udp, .l4_proto = 17);
	XFRAG_OPTS(xfrag_xdp_opts, xo, .ifname = argv[1], .filter = &udp,
		   .mode = XFRAG_XDP_MODE_AUTO);
	xdp = xfrag_xdp__attach(&xo);
	if (!xdp)
		goto out_umem;

	/* 3. One rx queue; the frame size follows the interface MTU. */
	XFRAG_OPTS(xfrag_rxq_opts, qo, .queue_id = argc > 2 ? (uint32_t)atoi(argv[2]) : 0);
	q = xfrag_rxq__create(umem, xdp, &qo);
	if (!q)
		goto out_xdp;

	/* 4. Receive and release in batches. On the receiving thread the chunks
	 *    go straight back to the queue's frag cache. A worker thread that
	 *    releases many creates an xfrag_releaser once and calls
	 *    xfrag_releaser__release_pkts(rel, ...): the runs go back to this
	 *    queue's cache in batches; xfrag_pkt__release_bulk(umem, ...) works
	 *    from any thread with no set-up, one atomic per block run. */
	while (!stop && (!max || got < max) && time(NULL) < end) {
		n = xfrag_rxq__recv(q, pkts, 64);
		for (i = 0; i < n; i++)
			got++; /* pkts[i].data, pkts[i].len: the frame */
		xfrag_rxq__release(q, pkts, (unsigned int)(n > 0 ? n : 0));
	}
	printf("received %lu packets\n", got);
	rc = 0;

	xfrag_rxq__destroy(q);
out_xdp:
	xfrag_xdp__detach(xdp); /* on every exit path: no program is left behind */
out_umem:
	xfrag_umem__destroy(umem);
	return rc;
}
