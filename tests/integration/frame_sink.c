// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * frame-sink: receive test frames on an interface with an AF_PACKET socket
 * and check every one with frame_verify() (user/bench/frame.c): intact
 * payload, one copy of each sequence number. For test_gen.sh.
 *
 * usage: frame-sink IFACE COUNT TIMEOUT_MS
 *
 * Prints "ready" once the socket is bound, then, when COUNT test frames
 * arrived (plus a 200 ms grace period to catch extra ones) or TIMEOUT_MS
 * passed, one line:
 *   received=N ok=N bad=N dups=N distinct=N other=N sock_drops=N first_error=...
 * and exits 0 if exactly COUNT distinct intact frames arrived, else 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	static uint8_t buf[65536];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct tpacket_stats st = { 0 };
	socklen_t stlen = sizeof(st);
	uint64_t count, timeout, deadline, received = 0, ok = 0, bad = 0;
	uint64_t dups = 0, distinct = 0, other = 0, maxseq;
	char first_error[128] = "none";
	uint8_t *seen;
	int fd, one = 1, rcvbuf = 256 << 20;

	if (argc != 4) {
		fprintf(stderr, "usage: %s IFACE COUNT TIMEOUT_MS\n", argv[0]);
		return 2;
	}
	count = strtoull(argv[2], NULL, 0);
	timeout = strtoull(argv[3], NULL, 0);
	maxseq = count * 4 + 1024; /* gen replaces dropped frames: seqs run past count */
	seen = calloc(maxseq, 1);
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!seen || !sll.sll_ifindex) {
		fprintf(stderr, "frame-sink: %s\n", !seen ? "out of memory" : "no such interface");
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("frame-sink: AF_PACKET socket");
		return 2;
	}
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	printf("ready\n");
	fflush(stdout);

	deadline = now_ms() + timeout;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ms(), seq;
		uint16_t flow;
		ssize_t n;
		int err;

		if (now >= deadline)
			break;
		if (distinct >= count && deadline > now + 200)
			deadline = now + 200; /* grace period for extras */
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0)
			continue;
		if (n > (ssize_t)sizeof(buf))
			n = sizeof(buf);
		err = frame_verify(buf, (size_t)n, &seq, &flow);
		if (err == FRAME_E_PROTO || err == FRAME_E_MAGIC || err == FRAME_E_SHORT) {
			other++; /* not a test frame */
			continue;
		}
		received++;
		if (err) {
			if (!bad)
				snprintf(first_error, sizeof(first_error), "%s(len=%zd)",
					 frame_strerror(err), n);
			bad++;
			continue;
		}
		ok++;
		if (seq < maxseq && seen[seq]) {
			dups++;
			continue;
		}
		if (seq < maxseq)
			seen[seq] = 1;
		distinct++;
	}
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);
	printf("received=%llu ok=%llu bad=%llu dups=%llu distinct=%llu other=%llu sock_drops=%u first_error=%s\n",
	       (unsigned long long)received, (unsigned long long)ok,
	       (unsigned long long)bad, (unsigned long long)dups,
	       (unsigned long long)distinct, (unsigned long long)other,
	       st.tp_drops, first_error);
	close(fd);
	free(seen);
	return distinct == count && !bad && !dups && ok == count ? 0 : 1;
}
