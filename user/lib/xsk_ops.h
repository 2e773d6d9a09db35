/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The seam between xfrag's socket code and the kernel: every system call the
 * rx and tx queues make on an AF_XDP socket, its rings or its device goes
 * through one of these operations. The library uses xfrag_kernel_ops; the
 * unit tests install a model of the kernel (tests/lib/xsk_double.c) that
 * behaves like a zero-copy driver, so the library's real ring, ledger and
 * teardown code can be driven on rings in ordinary memory.
 *
 * Conventions: 0 (or an fd) on success, a negative errno on failure; errno
 * is not used. @ctx is the pointer given with the ops.
 */
#ifndef XFRAG_XSK_OPS_H
#define XFRAG_XSK_OPS_H

#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* How the device reaches the UMEM: what decides whether a chunk may cross
 * a 4 KiB page in zero-copy mode (the kernel checks DMA contiguity). */
enum xfrag_dma {
	XFRAG_DMA_UNKNOWN = 0,    /* no device behind the interface (veth, ...) */
	XFRAG_DMA_DIRECT = 1,     /* no IOMMU group: DMA address = physical */
	XFRAG_DMA_IDENTITY = 2,   /* IOMMU in passthrough (type "identity") */
	XFRAG_DMA_TRANSLATED = 3, /* translating IOMMU ("DMA", "DMA-FQ") */
};

struct xfrag_dev_info {
	int ifindex;
	char name[IF_NAMESIZE];
	uint32_t mtu;
	uint32_t rx_queues; /* 0: unknown, do not judge */
	uint32_t tx_queues;
	uint32_t rx_ring;   /* the driver's RX ring entries (ethtool -g); 0: unknown */
	bool up;
	uint8_t dma; /* enum xfrag_dma */
};

struct xfrag_xsk_ops {
	/* Resolve @ifname (if not NULL) or @ifindex and describe the device. */
	int (*dev_info)(void *ctx, const char *ifname, int ifindex,
			struct xfrag_dev_info *out);
	/* socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0) */
	int (*socket)(void *ctx);
	int (*setsockopt)(void *ctx, int fd, int level, int name,
			  const void *val, socklen_t len);
	int (*getsockopt)(void *ctx, int fd, int level, int name, void *val,
			  socklen_t *len);
	/* Map ring @pgoff (XDP_PGOFF_RX_RING, ...) of socket @fd. */
	int (*mmap)(void *ctx, int fd, size_t len, off_t pgoff, void **out);
	int (*munmap)(void *ctx, void *addr, size_t len);
	int (*bind)(void *ctx, int fd, const struct sockaddr_xdp *sxdp);
	int (*close)(void *ctx, int fd);
	/* The wakeup: recvfrom() (@tx false) or sendto() with MSG_DONTWAIT. */
	int (*kick)(void *ctx, int fd, bool tx);
	/* XSKMAP slot @key := socket @fd, or cleared. */
	int (*map_update)(void *ctx, int map_fd, uint32_t key, int fd);
	int (*map_delete)(void *ctx, int map_fd, uint32_t key);
};

extern const struct xfrag_xsk_ops xfrag_kernel_ops __attribute__((visibility("hidden")));

struct xfrag_umem;
/*
 * Route every socket of @u through @ops (tests). Only before the UMEM's
 * first socket; returns -EBUSY after.
 */
__attribute__((visibility("hidden"))) int
xfrag_umem_set_xsk_ops(struct xfrag_umem *u, const struct xfrag_xsk_ops *ops,
		       void *ctx);

#endif
