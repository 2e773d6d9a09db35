/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xdbl: a model of the kernel's side of AF_XDP (6.18) behind struct
 * xfrag_xsk_ops, with a driver that behaves like a zero-copy NIC.
 *
 * The library runs its real socket, ring, ledger and teardown code against
 * it: sockets are numbers in the double's own fd table, rings are ordinary
 * memory that the double produces and consumes with the kernel's
 * acquire/release protocol (net/xdp/xsk_queue.h), so a missing barrier on
 * the library's side is a data race ThreadSanitizer reports. No privileges,
 * no BPF, no network.
 *
 * What it models (see the sections of xsk_double.c):
 *  - devices: name, ifindex, MTU, queue counts, link, DMA kind, zero-copy
 *    support and the driver's pace;
 *  - setsockopt/getsockopt/mmap/bind/close as xsk.c and xsk_buff_pool.c
 *    check them, with the kernel's errnos;
 *  - release only once the fd is closed *and* every ring is unmapped;
 *  - a buffer pool per bound queue that outlives its socket: in zero-copy
 *    mode the driver keeps the chunks of its hardware ring, keeps DMA-ing
 *    into them and keeps taking fill entries until the pool's teardown, which
 *    the test triggers (xdbl_teardown()) or lets happen after a number of
 *    driver polls or of binds that found the queue busy. Until then the
 *    queue is busy (EBUSY). After it, what the driver held is simply gone;
 *  - fill-entry validation as xp_check_unaligned(): bounds, and in
 *    zero-copy mode DMA contiguity across 4 KiB pages, from the device's DMA
 *    kind and the UMEM's backing. Invalid entries are consumed silently, as
 *    the kernel does; the double counts them (xdbl_stats.fill_invalid).
 *
 * Thread safety: every function and op takes the double's one lock; any
 * thread may call them. The double never calls into the library.
 */
#ifndef XFRAG_XSK_DOUBLE_H
#define XFRAG_XSK_DOUBLE_H

#include <stdbool.h>
#include <stdint.h>

#include "xsk_ops.h"

/* Newer UAPI than the 6.1 headers carry. */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

struct xdbl;
struct xfrag_umem;

/* The ops; the ctx is the struct xdbl. */
extern const struct xfrag_xsk_ops xdbl_ops;

/* What the driver writes over the chunks it holds when scribbling. */
#define XDBL_SCRIBBLE 0xdb

/* A fake interface and its driver. Zero fields take the defaults shown. */
struct xdbl_dev {
	const char *name;        /* required, < IF_NAMESIZE */
	uint32_t mtu;            /* 1500 */
	uint32_t rx_queues;      /* 1 */
	uint32_t tx_queues;      /* rx_queues */
	bool down;               /* link down (kicks: ENETDOWN) */
	bool zerocopy;           /* the driver supports AF_XDP zero-copy */
	uint8_t dma;             /* enum xfrag_dma, reported by dev_info */
	uint32_t zc_max_segs;    /* buffers the driver chains in zero-copy;
				  * 0 or 1: no multi-buffer (EOPNOTSUPP) */
	/* The driver's pace, per queue, zero-copy only. */
	uint32_t hw_ring;        /* RX and TX hardware ring entries: 64 */
	uint32_t refill_batch;   /* fill entries taken per poll or kick: 16 */
	uint32_t complete_batch; /* TX completions per poll: 16 */
	/*
	 * When a released pool is torn down (both may be set; the first to
	 * run out wins): after this many xdbl_poll() calls, after this many
	 * binds that found its queue busy (user space retrying while the
	 * workqueue runs). 0 and 0: only when the test calls xdbl_teardown().
	 */
	uint32_t teardown_polls;
	uint32_t teardown_binds;
	/* Copy-mode pools wait for the same triggers (default: torn down at
	 * release, as the workqueue runs at once when no driver holds DMA). */
	bool copy_teardown_deferred;
	/* On every poll, write XDBL_SCRIBBLE over the DMA area of every chunk
	 * a zero-copy driver holds, as a NIC may: reuse shows as corruption. */
	bool scribble;
};

/* One raw RX descriptor for xdbl_rx_raw(). */
struct xdbl_desc {
	uint32_t len;            /* bytes written at chunk + 256 + headroom */
	uint32_t options;        /* e.g. XDP_PKT_CONTD */
	const void *data;        /* NULL: fill with XDBL_SCRIBBLE ^ index */
};

/* A queue of a device as the kernel sees it. */
struct xdbl_queue_info {
	bool busy;               /* a pool is registered at the queue */
	bool released;           /* ... whose sockets are gone, teardown pending */
	bool zerocopy;
	uint32_t sockets;        /* sockets bound on the queue, not released */
	uint32_t hw_rx;          /* chunks in the driver's hardware RX ring */
	uint32_t hw_tx;          /* TX frames the driver took, not completed */
	uint32_t fill_level;     /* fill entries the kernel has not consumed */
	uint32_t parked;         /* chunks taken from the fill ring and parked
				  * (a multi-buffer frame that could not be
				  * completed): reused for the next frame */
	uint32_t rx_level;       /* descriptors on the RX ring not consumed */
	uint32_t comp_level;     /* completions not consumed */
	bool need_wakeup;        /* the fill ring's XDP_RING_NEED_WAKEUP */
};

struct xdbl_stats {
	uint32_t sockets;        /* sockets not released (fd or a mapping left) */
	uint32_t pools;          /* pools not torn down */
	uint32_t maps;
	uint64_t fill_invalid;   /* fill entries the kernel would drop silently */
	uint64_t tx_invalid;
	uint64_t tx_frames;      /* frames transmitted (read by the device) */
	uint64_t tx_corrupt;     /* TX frames whose bytes changed between the
				  * descriptor read and the device's last read */
	uint64_t rx_frames;      /* frames put on an RX ring */
	uint64_t rx_dma_dropped; /* frames DMA'd into a chunk of a pool whose
				  * socket is gone (the XSKMAP redirect failed) */
	uint64_t hw_missed;      /* frames a zero-copy NIC had no buffer for */
	uint64_t scribbled;      /* chunk scribbles */
	uint64_t teardowns;
	uint64_t busy_binds;     /* binds refused with EBUSY */
	uint64_t bad_calls;      /* calls naming rings or fds the double never
				  * gave out (munmap of an unknown address, ...) */
};

/* Create / free the model kernel. xdbl_free() tears every pool down. */
struct xdbl *xdbl_new(void);
void xdbl_free(struct xdbl *d);

/* Route @u's sockets through the double (before its first socket). */
int xdbl_attach(struct xdbl *d, struct xfrag_umem *u);

/* Add an interface; returns its ifindex (> 0) or -errno. */
int xdbl_add_dev(struct xdbl *d, const struct xdbl_dev *dev);
/* Change a device's driver settings (name, queues and MTU stay). */
int xdbl_set_dev(struct xdbl *d, int ifindex, const struct xdbl_dev *dev);
int xdbl_set_link(struct xdbl *d, int ifindex, bool up);

/*
 * UMEMs registered from now on are backed by 2 MiB hugetlb pages (true) or
 * 4 KiB pages (false, the default): decides DMA contiguity in zero-copy
 * mode. Contiguity is judged on UMEM offsets: a hugetlb area starts on a
 * 2 MiB boundary, so offsets and addresses agree.
 */
void xdbl_set_hugetlb(struct xdbl *d, bool hugetlb);

/* XSKMAPs: create one, read a slot (socket fd, or -ENOENT). */
int xdbl_map_create(struct xdbl *d, uint32_t entries);
int xdbl_map_lookup(struct xdbl *d, int map_fd, uint32_t key);
/*
 * The device's "XDP program": redirect every frame to the socket in slot
 * (rx queue) of @map_fd, as bpf_redirect_map() does; 0: deliver to the
 * socket bound on the queue (no program modelled).
 */
int xdbl_dev_set_map(struct xdbl *d, int ifindex, int map_fd);

/*
 * A frame arrives on (@ifindex, @queue). Zero-copy: the NIC DMAs it into
 * chunks of the driver's hardware ring; copy mode: the kernel copies it
 * into chunks taken from the fill ring. Either way at chunk + 256 +
 * headroom, as one descriptor or (XDP_USE_SG) a chain with XDP_PKT_CONTD
 * on all but the last.
 * Return: 0 delivered; -ENXIO no socket takes it (it goes to the stack, or
 * was DMA'd into a released pool's chunk and dropped); -ENOBUFS no chunk
 * (rx_dropped / rx_fill_ring_empty_descs, or hw_missed in zero-copy);
 * -ENOSPC RX ring full (rx_ring_full); -EMSGSIZE longer than a chunk
 * without multi-buffer (rx_dropped), or than the driver can chain.
 */
int xdbl_rx(struct xdbl *d, int ifindex, uint32_t queue, const void *frame,
	    uint32_t len);

/*
 * Put @n descriptors on socket @fd's RX ring in one producer update, each
 * on a chunk taken as xdbl_rx() takes them, with the lengths and options
 * given (a test's way to build any chain). All or nothing. Like the
 * kernel, it publishes whole frames only: the last descriptor must not
 * carry XDP_PKT_CONTD.
 * Return: n, or -ENOBUFS / -ENOSPC / -EINVAL / -EBADF.
 */
int xdbl_rx_raw(struct xdbl *d, int fd, const struct xdbl_desc *descs,
		unsigned int n);

/*
 * One driver poll (NAPI) on every queue: refill hardware RX rings from the
 * fill rings, take TX descriptors, complete TX frames, scribble, advance
 * teardown clocks. Released pools keep refilling and scribbling, but
 * complete nothing. Returns fill entries taken plus frames completed.
 */
int xdbl_poll(struct xdbl *d);

/* Tear down the released pools of (@ifindex, @queue) now; @ifindex 0:
 * every released pool. Returns how many. */
int xdbl_teardown(struct xdbl *d, int ifindex, uint32_t queue);

/*
 * Does [@addr, @addr + @len) of a UMEM overlap a chunk that a released
 * pool (teardown pending) still holds: in its hardware RX ring, on its fill
 * ring, parked, or as a TX frame it has not completed? Addresses are
 * offsets in @u (upper 16 bits ignored).
 */
bool xdbl_held(struct xdbl *d, struct xfrag_umem *u, uint64_t addr,
	       uint64_t len);

int xdbl_queue_info(struct xdbl *d, int ifindex, uint32_t queue,
		    struct xdbl_queue_info *out);
void xdbl_stats(struct xdbl *d, struct xdbl_stats *out);

#endif
