// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xdbl: the kernel's side of AF_XDP and a zero-copy driver, in user space
 * (see xsk_double.h). Modelled on Linux 6.18: net/xdp/xsk.c (socket
 * options, bind, release), net/xdp/xsk_buff_pool.c (xp_assign_dev,
 * xp_check_unaligned, the deferred pool teardown), net/xdp/xsk_queue.h
 * (the ring protocol) and the zero-copy drivers' RX/TX loops. Read, not
 * copied: where the model simplifies, a comment says so.
 *
 * Sections: state; rings; UMEM registration; DMA contiguity and fill-entry
 * validation; devices and XSKMAPs; socket options; mmap/munmap; bind;
 * release and pool teardown; the driver (RX refill, RX, TX); kicks; the
 * test interface.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "xfrag/frag.h"
#include "xsk_double.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

/* UNALIGNED_CHUNK | TX_SW_CSUM | TX_METADATA_LEN */
#define UMEM_FLAGS_VALID 0x7u
#define PACKET_HEADROOM 256u   /* XDP_PACKET_HEADROOM */
#define PAGE 4096u
#define HUGE (2u << 20)
#define ETH_PAD_LEN (14 + 2 * 4 + 4) /* xp_assign_dev: MTU + this must fit */
#define MB_TAILROOM 320u       /* SKB_DATA_ALIGN(sizeof(skb_shared_info)) */
#define HEADROOM_SLACK 704u    /* measured on 6.18: headroom <= chunk - 704 */
#define TX_BUDGET 32u          /* copy-mode TX per sendto() (max_tx_budget) */
#define ADDR_MASK ((1ull << 48) - 1)
/* Our own fd numbers, far from real ones: a stray real close() of one
 * fails instead of closing something. Never reused: a stale fd is
 * ENOTSOCK/EBADF, never another socket. */
#define FD_BASE 100000

/*
 * The ring layout this "kernel" hands out (XDP_MMAP_OFFSETS): not the real
 * kernel's, so a library that hard-codes offsets breaks here.
 */
#define OFF_PROD 0
#define OFF_CONS 64
#define OFF_FLAGS 128
#define OFF_DESC 192

/* ------------------------------------------------------------- state -- */

struct xdbl;

/* One ring: what the kernel keeps of it. */
struct ring {
	uint8_t *mem;         /* storage: the mapping, or a private copy after munmap */
	uint8_t *map;         /* the pages handed out by mmap (NULL once unmapped) */
	size_t bytes, map_len;
	uint32_t entries, entry;
	uint32_t cached_prod, cached_cons; /* the kernel's private view */
	struct sock *mapped_by;            /* whose file the mapping holds */
	bool unmapped;
	uint64_t empty_descs, invalid_descs;
};

/* struct xdp_umem */
struct umem {
	int refs;
	uint8_t *area;
	uint64_t size;
	uint32_t chunk_size, headroom;
	bool unaligned, hugetlb;
	bool zc; /* set by the first zero-copy bind, inherited by shared ones */
	bool sg; /* XDP_UMEM_SG_FLAG */
};

struct tx_frame {
	uint64_t addr; /* the descriptor's, offset in bits 48..63 */
	uint32_t len;
	uint32_t sum;  /* of the bytes when the descriptor was read */
};

/* struct xsk_buff_pool: one per bound queue; outlives its sockets. */
struct pool {
	int users;
	struct umem *umem;
	struct dev *dev;
	uint32_t qid;
	struct ring *fq, *cq;
	bool zc, uses_need_wakeup, rx_wakeup, released;
	struct sock *socks;           /* bound sockets on the pool */
	uint64_t *hw;                 /* hardware RX ring: a FIFO of chunks */
	uint32_t hw_head, hw_n, hw_size;
	struct tx_frame *hwtx;        /* hardware TX ring */
	uint32_t tx_head, tx_n;
	uint64_t *parked;             /* the kernel's free list (copy mode) */
	uint32_t nparked, parked_size;
	uint32_t polls_left, binds_left; /* teardown clocks once released */
	struct pool *next;
};

enum sk_state { SK_READY, SK_BOUND, SK_UNBOUND };

struct sock {
	int fd;
	bool open;
	int nmaps;
	enum sk_state state;
	struct umem *umem;
	struct ring *rx, *tx, *fq_tmp, *cq_tmp;
	struct pool *pool;
	struct dev *dev;
	uint32_t qid;
	bool zc, sg;
	int sk_err;
	uint64_t rx_dropped, rx_queue_full;
	struct sock *next, *pool_next;
};

struct dev {
	struct xdbl_dev cfg;
	char name[IF_NAMESIZE];
	int ifindex;
	uint32_t nq;         /* max(rx, tx) queues */
	struct pool **qpool; /* dev->_rx[qid].pool */
	int map_fd;
	struct dev *next;
};

struct xmap {
	int fd;
	uint32_t entries;
	int *slot; /* socket fd, or -1 */
	struct xmap *next;
};

struct xdbl {
	pthread_mutex_t lock;
	struct dev *devs;
	struct sock *socks;
	struct pool *pools;
	struct xmap *maps;
	int next_fd, next_ifindex;
	bool hugetlb;
	struct xdbl_stats st;
};

static struct sock *sock_by_fd(struct xdbl *d, int fd)
{
	struct sock *s;

	for (s = d->socks; s; s = s->next)
		if (s->fd == fd && s->open)
			return s;
	return NULL;
}

static struct dev *dev_by_index(struct xdbl *d, int ifindex)
{
	struct dev *v;

	for (v = d->devs; v; v = v->next)
		if (v->ifindex == ifindex)
			return v;
	return NULL;
}

static struct xmap *map_by_fd(struct xdbl *d, int fd)
{
	struct xmap *m;

	for (m = d->maps; m; m = m->next)
		if (m->fd == fd)
			return m;
	return NULL;
}

/* ------------------------------------------------------------- rings -- */

static uint32_t *r_prod(struct ring *r) { return (uint32_t *)(r->mem + OFF_PROD); }
static uint32_t *r_cons(struct ring *r) { return (uint32_t *)(r->mem + OFF_CONS); }
static uint32_t *r_flags(struct ring *r) { return (uint32_t *)(r->mem + OFF_FLAGS); }

static uint64_t *r_addr(struct ring *r, uint32_t i)
{
	return (uint64_t *)(r->mem + OFF_DESC) + (i & (r->entries - 1));
}

static struct xdp_desc *r_desc(struct ring *r, uint32_t i)
{
	return (struct xdp_desc *)(r->mem + OFF_DESC) + (i & (r->entries - 1));
}

/*
 * The kernel as consumer (fill, TX rings): xskq_cons_peek() reads the
 * producer, then smp_rmb() (C) before the entries: an acquire load.
 */
static uint32_t kc_avail(struct ring *r)
{
	r->cached_prod = __atomic_load_n(r_prod(r), __ATOMIC_ACQUIRE);
	return r->cached_prod - r->cached_cons;
}

/* __xskq_cons_release(): smp_mb() (D) then the consumer: a release store,
 * so user space reuses a slot only after we have read it. */
static void kc_release(struct ring *r)
{
	__atomic_store_n(r_cons(r), r->cached_cons, __ATOMIC_RELEASE);
}

/*
 * The kernel as producer (RX, completion rings): xskq_prod_is_full() reads
 * the consumer, and the control dependency (A) orders it before our writes
 * of the slots; in C11 terms an acquire load.
 */
static uint32_t kp_free(struct ring *r)
{
	return r->entries - (r->cached_prod - __atomic_load_n(r_cons(r), __ATOMIC_ACQUIRE));
}

/* __xskq_prod_submit(): smp_wmb() (B) then the producer: a release store. */
static void kp_submit(struct ring *r)
{
	__atomic_store_n(r_prod(r), r->cached_prod, __ATOMIC_RELEASE);
}

/* xskq_create(): zeroed pages, mapped later by user space. */
static struct ring *ring_new(uint32_t entries, uint32_t entry)
{
	struct ring *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->entries = entries;
	r->entry = entry;
	r->bytes = OFF_DESC + (size_t)entries * entry;
	r->map_len = (r->bytes + PAGE - 1) & ~(size_t)(PAGE - 1);
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->map == MAP_FAILED) {
		free(r);
		return NULL;
	}
	r->mem = r->map;
	return r;
}

static void ring_free(struct ring *r)
{
	if (!r)
		return;
	if (r->map)
		munmap(r->map, r->map_len);
	else
		free(r->mem);
	free(r);
}

/* xsk_init_queue() */
static int init_queue(uint32_t entries, uint32_t entry, struct ring **q)
{
	if (!entries || *q || (entries & (entries - 1)))
		return -EINVAL;
	*q = ring_new(entries, entry);
	return *q ? 0 : -ENOMEM;
}

/* ----------------------------------------------------- UMEM registration -- */

static void umem_put(struct umem *m)
{
	if (m && --m->refs == 0)
		free(m);
}

/* xdp_umem_reg(), with the headroom bound measured on 6.18. */
static int umem_reg(struct xdbl *d, const void *val, socklen_t len,
		    struct umem **out)
{
	struct xdp_umem_reg mr;
	uint32_t tx_metadata_len = 0;
	struct umem *m;
	bool unaligned;
	uint64_t chunks;

	if (len < 24) /* struct xdp_umem_reg_v1 */
		return -EINVAL;
	memset(&mr, 0, sizeof(mr));
	memcpy(&mr, val, len < sizeof(mr) ? len : sizeof(mr));
	/* 6.18 reads bytes 28..31 as tx_metadata_len: the 6.1 header's
	 * padding there must be zero. */
	if (len >= 32)
		memcpy(&tx_metadata_len, (const char *)val + 28, sizeof(tx_metadata_len));
	unaligned = mr.flags & XDP_UMEM_UNALIGNED_CHUNK_FLAG;
	if (mr.chunk_size < 2048 || mr.chunk_size > PAGE)
		return -EINVAL;
	if (mr.flags & ~UMEM_FLAGS_VALID)
		return -EINVAL;
	if (!unaligned && (mr.chunk_size & (mr.chunk_size - 1)))
		return -EINVAL;
	if (mr.addr & (PAGE - 1))
		return -EINVAL;
	if (mr.addr + mr.len < mr.addr)
		return -EINVAL;
	if ((mr.len + PAGE - 1) / PAGE > UINT32_MAX)
		return -EINVAL;
	chunks = mr.len / mr.chunk_size;
	if (!chunks || (!unaligned && mr.len % mr.chunk_size))
		return -EINVAL;
	if (mr.headroom > mr.chunk_size - HEADROOM_SLACK)
		return -EINVAL;
	if (tx_metadata_len && !(mr.flags & (1u << 2)))
		return -EINVAL; /* not modelled: TX metadata */
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->refs = 1;
	m->area = (uint8_t *)(uintptr_t)mr.addr;
	m->size = mr.len;
	m->chunk_size = mr.chunk_size;
	m->headroom = mr.headroom;
	m->unaligned = unaligned;
	m->hugetlb = d->hugetlb;
	*out = m;
	return 0;
}

/* ------------------------------ DMA contiguity, fill-entry validation -- */

/*
 * Is 4 KiB page @pg of the UMEM DMA-contiguous with the next one, as the
 * device sees it (xp_check_dma_contiguity: dma[i] + PAGE == dma[i + 1])?
 * Only hugetlb backing is physically contiguous (per 2 MiB page), and only
 * an untranslated mapping (no IOMMU, or passthrough) keeps it so: a
 * translating IOMMU maps page by page.
 */
static bool next_page_contig(const struct pool *p, uint64_t pg)
{
	uint8_t dma = p->dev->cfg.dma;

	if (!p->umem->hugetlb)
		return false;
	if (dma != XFRAG_DMA_DIRECT && dma != XFRAG_DMA_IDENTITY)
		return false;
	return (pg + 1) % (HUGE / PAGE) != 0;
}

/* xp_desc_crosses_non_contig_pg(): only pools with DMA pages (zero-copy). */
static bool crosses_non_contig(const struct pool *p, uint64_t addr, uint64_t len)
{
	if (!p->zc || (addr & (PAGE - 1)) + len <= PAGE)
		return false;
	return !next_page_contig(p, addr / PAGE);
}

/* xp_check_unaligned() / xp_check_aligned(): @addr becomes the chunk. */
static bool fill_entry_ok(const struct pool *p, uint64_t *addr)
{
	const struct umem *m = p->umem;

	if (!m->unaligned) {
		*addr &= ~(uint64_t)(m->chunk_size - 1);
		return *addr < m->size;
	}
	*addr &= ADDR_MASK;
	return *addr < m->size && *addr + m->chunk_size <= m->size &&
	       !crosses_non_contig(p, *addr, m->chunk_size);
}

/* xp_unaligned_validate_desc() (TX), without TX metadata. */
static bool tx_desc_ok(const struct pool *p, const struct xdp_desc *dsc)
{
	const struct umem *m = p->umem;
	uint64_t a = (dsc->addr & ADDR_MASK) + (dsc->addr >> 48);

	if (!m->unaligned)
		a = dsc->addr;
	if (!dsc->len || dsc->len > m->chunk_size)
		return false;
	if (a >= m->size || a + dsc->len > m->size || crosses_non_contig(p, a, dsc->len))
		return false;
	return !(dsc->options & ~(uint32_t)XDP_PKT_CONTD);
}

/*
 * The next valid fill entry (__xp_alloc): invalid ones are consumed and
 * dropped without a word to user space; the double counts them.
 */
static bool fill_take(struct xdbl *d, struct pool *p, uint64_t *addr)
{
	struct ring *fq = p->fq;

	for (;;) {
		if (fq->cached_cons == fq->cached_prod && !kc_avail(fq))
			return false;
		*addr = *r_addr(fq, fq->cached_cons++);
		if (fill_entry_ok(p, addr))
			return true;
		fq->invalid_descs++;
		d->st.fill_invalid++;
	}
}

/* ------------------------------------------------- devices, XSKMAPs -- */

static void dev_defaults(struct xdbl_dev *c)
{
	if (!c->mtu)
		c->mtu = 1500;
	if (!c->rx_queues)
		c->rx_queues = 1;
	if (!c->tx_queues)
		c->tx_queues = c->rx_queues;
	if (!c->hw_ring)
		c->hw_ring = 64;
	if (!c->refill_batch)
		c->refill_batch = 16;
	if (!c->complete_batch)
		c->complete_batch = 16;
}

static int op_dev_info(void *ctx, const char *ifname, int ifindex,
		       struct xfrag_dev_info *out)
{
	struct xdbl *d = ctx;
	struct dev *v;
	int err = -ENODEV;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&d->lock);
	for (v = d->devs; v; v = v->next) {
		if (ifname ? strcmp(v->name, ifname) : v->ifindex != ifindex)
			continue;
		out->ifindex = v->ifindex;
		memcpy(out->name, v->name, sizeof(out->name));
		out->mtu = v->cfg.mtu;
		out->rx_queues = v->cfg.rx_queues;
		out->tx_queues = v->cfg.tx_queues;
		out->up = !v->cfg.down;
		out->dma = v->cfg.dma;
		/* ethtool -g: the hardware ring a zero-copy driver keeps full. */
		out->rx_ring = v->cfg.hw_ring;
		err = 0;
		break;
	}
	pthread_mutex_unlock(&d->lock);
	return err;
}

/* xsk_map_update_elem(): the socket needs an RX ring and a UMEM. */
static int op_map_update(void *ctx, int map_fd, uint32_t key, int fd)
{
	struct xdbl *d = ctx;
	struct xmap *m;
	struct sock *s;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	m = map_by_fd(d, map_fd);
	s = sock_by_fd(d, fd);
	if (!m || !s)
		err = -EBADF;
	else if (key >= m->entries)
		err = -E2BIG;
	else if (!s->rx || !s->umem)
		err = -EOPNOTSUPP;
	else
		m->slot[key] = fd;
	pthread_mutex_unlock(&d->lock);
	return err;
}

/* An empty slot is not an error at the seam (xfrag_kernel_ops hides the
 * kernel's ENOENT the same way). */
static int op_map_delete(void *ctx, int map_fd, uint32_t key)
{
	struct xdbl *d = ctx;
	struct xmap *m;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	m = map_by_fd(d, map_fd);
	if (!m)
		err = -EBADF;
	else if (key >= m->entries)
		err = -EINVAL;
	else
		m->slot[key] = -1;
	pthread_mutex_unlock(&d->lock);
	return err;
}

/* ---------------------------------------------------- socket options -- */

static int op_socket(void *ctx)
{
	struct xdbl *d = ctx;
	struct sock *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOBUFS;
	pthread_mutex_lock(&d->lock);
	s->fd = d->next_fd++;
	s->open = true;
	s->state = SK_READY;
	s->next = d->socks;
	d->socks = s;
	d->st.sockets++;
	pthread_mutex_unlock(&d->lock);
	return s->fd;
}

static int sol_socket_set(int name, const void *val, socklen_t len)
{
	int v;

	if (len < sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	switch (name) {
	case SO_PREFER_BUSY_POLL:
	case SO_BUSY_POLL:
		return v < 0 ? -EINVAL : 0; /* accepted, nothing to busy-poll */
	case SO_BUSY_POLL_BUDGET:
		return v < 0 || v > 65535 ? -EINVAL : 0;
	}
	return -ENOPROTOOPT; /* not modelled */
}

/* xsk_setsockopt() */
static int op_setsockopt(void *ctx, int fd, int level, int name,
			 const void *val, socklen_t len)
{
	struct xdbl *d = ctx;
	struct sock *s;
	int err, entries = 0;

	pthread_mutex_lock(&d->lock);
	s = sock_by_fd(d, fd);
	if (!s) {
		err = -EBADF;
		goto out;
	}
	if (level == SOL_SOCKET) {
		err = sol_socket_set(name, val, len);
		goto out;
	}
	if (level != SOL_XDP) {
		err = -ENOPROTOOPT;
		goto out;
	}
	switch (name) {
	case XDP_RX_RING:
	case XDP_TX_RING:
	case XDP_UMEM_FILL_RING:
	case XDP_UMEM_COMPLETION_RING:
		if (len < sizeof(int)) {
			err = -EINVAL;
			break;
		}
		memcpy(&entries, val, sizeof(entries));
		if (s->state != SK_READY) {
			err = -EBUSY;
			break;
		}
		if (name == XDP_RX_RING || name == XDP_TX_RING) {
			struct ring **q = name == XDP_TX_RING ? &s->tx : &s->rx;

			err = init_queue((uint32_t)entries, sizeof(struct xdp_desc), q);
			/* TX needs an explicit wakeup the first time. */
			if (!err && name == XDP_TX_RING)
				*r_flags(s->tx) = XDP_RING_NEED_WAKEUP;
		} else {
			err = init_queue((uint32_t)entries, sizeof(uint64_t),
					 name == XDP_UMEM_FILL_RING ? &s->fq_tmp : &s->cq_tmp);
		}
		break;
	case XDP_UMEM_REG:
		if (len < 24) {
			err = -EINVAL;
			break;
		}
		if (s->state != SK_READY || s->umem) {
			err = -EBUSY;
			break;
		}
		err = umem_reg(d, val, len, &s->umem);
		break;
	default:
		err = -ENOPROTOOPT;
	}
out:
	pthread_mutex_unlock(&d->lock);
	return err;
}

static void ring_offsets(struct xdp_ring_offset *o)
{
	o->producer = OFF_PROD;
	o->consumer = OFF_CONS;
	o->flags = OFF_FLAGS;
	o->desc = OFF_DESC;
}

/* xsk_getsockopt(), and SO_ERROR */
static int op_getsockopt(void *ctx, int fd, int level, int name, void *val,
			 socklen_t *len)
{
	struct xdbl *d = ctx;
	struct sock *s;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	s = sock_by_fd(d, fd);
	if (!s) {
		err = -EBADF;
		goto out;
	}
	if (level == SOL_SOCKET) {
		if (name != SO_ERROR)
			err = -ENOPROTOOPT;
		else if (*len < sizeof(int))
			err = -EINVAL;
		else {
			memcpy(val, &s->sk_err, sizeof(int));
			*len = sizeof(int);
			s->sk_err = 0; /* reading the error clears it */
		}
		goto out;
	}
	if (level != SOL_XDP) {
		err = -ENOPROTOOPT;
		goto out;
	}
	switch (name) {
	case XDP_STATISTICS: {
		struct xdp_statistics st = { 0 };
		size_t n = sizeof(st);

		if (*len < 3 * sizeof(uint64_t)) {
			err = -EINVAL;
			break;
		}
		st.rx_dropped = s->rx_dropped;
		if (*len < sizeof(st)) {
			/* v1: no ring-full field, so it counts as dropped */
			n = 3 * sizeof(uint64_t);
			st.rx_dropped += s->rx_queue_full;
		}
		st.rx_ring_full = s->rx_queue_full;
		st.rx_fill_ring_empty_descs = s->pool ? s->pool->fq->empty_descs : 0;
		st.tx_ring_empty_descs = s->tx ? s->tx->empty_descs : 0;
		st.rx_invalid_descs = s->rx ? s->rx->invalid_descs : 0;
		st.tx_invalid_descs = s->tx ? s->tx->invalid_descs : 0;
		memcpy(val, &st, n);
		*len = (socklen_t)n;
		break;
	}
	case XDP_MMAP_OFFSETS: {
		struct xdp_mmap_offsets off;

		if (*len < sizeof(off)) {
			/* v1 (no flags word) is not modelled */
			err = -EINVAL;
			break;
		}
		ring_offsets(&off.rx);
		ring_offsets(&off.tx);
		ring_offsets(&off.fr);
		ring_offsets(&off.cr);
		memcpy(val, &off, sizeof(off));
		*len = sizeof(off);
		break;
	}
	case XDP_OPTIONS: {
		struct xdp_options o = { s->zc ? XDP_OPTIONS_ZEROCOPY : 0 };

		if (*len < sizeof(o)) {
			err = -EINVAL;
			break;
		}
		memcpy(val, &o, sizeof(o));
		*len = sizeof(o);
		break;
	}
	default:
		err = -EOPNOTSUPP;
	}
out:
	pthread_mutex_unlock(&d->lock);
	return err;
}

/* ------------------------------------------------------- mmap/munmap -- */

static void sock_release(struct xdbl *d, struct sock *s);

/* xsk_mmap(): the fill and completion rings are the pool's once bound. */
static int op_mmap(void *ctx, int fd, size_t len, off_t pgoff, void **out)
{
	struct xdbl *d = ctx;
	struct ring *q = NULL;
	struct sock *s;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	s = sock_by_fd(d, fd);
	if (!s) {
		err = -EBADF;
		goto out;
	}
	if (s->state != SK_READY && s->state != SK_BOUND) {
		err = -EBUSY;
		goto out;
	}
	if ((unsigned long long)pgoff == XDP_PGOFF_RX_RING)
		q = s->rx;
	else if ((unsigned long long)pgoff == XDP_PGOFF_TX_RING)
		q = s->tx;
	else if ((unsigned long long)pgoff == XDP_UMEM_PGOFF_FILL_RING)
		q = s->state == SK_READY ? s->fq_tmp : s->pool->fq;
	else if ((unsigned long long)pgoff == XDP_UMEM_PGOFF_COMPLETION_RING)
		q = s->state == SK_READY ? s->cq_tmp : s->pool->cq;
	if (!q || len > q->map_len) {
		err = -EINVAL;
		goto out;
	}
	if (q->mapped_by || q->unmapped) {
		/* Not modelled: a ring mapped twice (xfrag maps each once). */
		d->st.bad_calls++;
		err = -EBUSY;
		goto out;
	}
	q->mapped_by = s;
	s->nmaps++;
	*out = q->map;
out:
	pthread_mutex_unlock(&d->lock);
	return err;
}

static struct ring *ring_by_map(struct xdbl *d, const void *addr)
{
	struct ring *rs[6];
	struct sock *s;
	struct pool *p;
	int i;

	for (s = d->socks; s; s = s->next) {
		rs[0] = s->rx, rs[1] = s->tx, rs[2] = s->fq_tmp, rs[3] = s->cq_tmp;
		for (i = 0; i < 4; i++)
			if (rs[i] && rs[i]->map == addr && rs[i]->mapped_by)
				return rs[i];
	}
	for (p = d->pools; p; p = p->next) {
		if (p->fq->map == addr && p->fq->mapped_by)
			return p->fq;
		if (p->cq->map == addr && p->cq->mapped_by)
			return p->cq;
	}
	return NULL;
}

/*
 * User space lets go of a ring. The kernel's ring lives on (the pool's
 * fill ring until teardown), so the double keeps a private copy and really
 * unmaps the pages: any later touch by the library faults. The last
 * mapping of a closed socket releases it.
 */
static int op_munmap(void *ctx, void *addr, size_t len)
{
	struct xdbl *d = ctx;
	struct ring *r;
	struct sock *s;
	uint8_t *copy;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	r = ring_by_map(d, addr);
	if (!r || len > r->map_len || len + PAGE <= r->map_len) {
		d->st.bad_calls++;
		err = -EINVAL;
		goto out;
	}
	copy = malloc(r->bytes);
	if (!copy) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(copy, r->map, r->bytes);
	munmap(r->map, r->map_len);
	r->map = NULL;
	r->mem = copy;
	r->unmapped = true;
	s = r->mapped_by;
	r->mapped_by = NULL;
	if (--s->nmaps == 0 && !s->open)
		sock_release(d, s);
out:
	pthread_mutex_unlock(&d->lock);
	return err;
}

/* ------------------------------------------------------------- bind -- */

static void driver_refill(struct xdbl *d, struct pool *p, uint32_t max);
static void pool_teardown(struct xdbl *d, struct pool *p);

static struct pool *pool_new(struct sock *s, struct umem *m)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->umem = m;
	p->fq = s->fq_tmp;
	p->cq = s->cq_tmp;
	return p;
}

/* The pool at a queue whose sockets are gone: one more bind found it busy. */
static void busy_tick(struct xdbl *d, struct pool *p)
{
	d->st.busy_binds++;
	if (p->released && p->binds_left && --p->binds_left == 0)
		pool_teardown(d, p);
}

/* xp_assign_dev() */
static int assign_dev(struct xdbl *d, struct pool *p, struct dev *v,
		      uint32_t qid, uint16_t flags)
{
	bool force_zc = flags & XDP_ZEROCOPY, force_copy = flags & XDP_COPY;
	bool mbuf = flags & XDP_USE_SG;
	uint32_t segs = 1, frame;
	int err;

	if (force_zc && force_copy)
		return -EINVAL;
	if (qid < v->nq && v->qpool[qid]) {
		struct pool *busy = v->qpool[qid];

		busy_tick(d, busy); /* may tear it down: still EBUSY now */
		return -EBUSY;
	}
	if (qid >= v->nq)
		return -EINVAL;
	p->dev = v;
	p->qid = qid;
	v->qpool[qid] = p;
	/* As the kernel does: set before the zero-copy checks. */
	if (mbuf)
		p->umem->sg = true;
	if (flags & XDP_USE_NEED_WAKEUP)
		p->uses_need_wakeup = true;
	if (force_copy)
		return 0;
	if (!v->cfg.zerocopy) {
		err = -EOPNOTSUPP;
		goto unreg;
	}
	if (mbuf) {
		if (v->cfg.zc_max_segs <= 1) {
			err = -EOPNOTSUPP;
			goto unreg;
		}
		segs = v->cfg.zc_max_segs;
	}
	frame = p->umem->chunk_size - PACKET_HEADROOM - p->umem->headroom -
		(mbuf ? MB_TAILROOM : 0);
	frame &= ~127u;
	if (v->cfg.mtu + ETH_PAD_LEN > frame * segs) {
		err = -EINVAL;
		goto unreg;
	}
	/* ndo_bpf(XDP_SETUP_XSK_POOL): the driver maps the UMEM for DMA and
	 * restarts the queue with a hardware ring of its own. */
	p->hw_size = v->cfg.hw_ring;
	p->hw = calloc(p->hw_size, sizeof(*p->hw));
	p->hwtx = calloc(p->hw_size, sizeof(*p->hwtx));
	if (!p->hw || !p->hwtx) {
		free(p->hw);
		free(p->hwtx);
		p->hw = NULL;
		p->hwtx = NULL;
		err = -ENOMEM;
		goto unreg;
	}
	p->zc = true;
	p->umem->zc = true;
	return 0;
unreg:
	if (!force_zc)
		return 0; /* the kernel's own fallback to copy mode */
	v->qpool[qid] = NULL;
	p->dev = NULL;
	return err;
}

/* xp_assign_dev_shared(): a later socket gets the UMEM's mode. */
static int assign_dev_shared(struct xdbl *d, struct pool *p, struct sock *umem_xs,
			     struct dev *v, uint32_t qid)
{
	uint16_t flags;

	if (!p->fq || !p->cq)
		return -EINVAL;
	flags = umem_xs->umem->zc ? XDP_ZEROCOPY : XDP_COPY;
	if (umem_xs->umem->sg)
		flags |= XDP_USE_SG;
	if (umem_xs->pool->uses_need_wakeup)
		flags |= XDP_USE_NEED_WAKEUP;
	return assign_dev(d, p, v, qid, flags);
}

/* xsk_bind(): the kernel's order of checks, and its errnos. */
static int do_bind(struct xdbl *d, struct sock *s, const struct sockaddr_xdp *sx)
{
	uint16_t flags = sx->sxdp_flags;
	uint32_t qid = sx->sxdp_queue_id;
	struct pool *p = NULL;
	struct umem *m;
	struct dev *v;
	int err;

	if (sx->sxdp_family != AF_XDP)
		return -EINVAL;
	if (flags & ~(XDP_SHARED_UMEM | XDP_COPY | XDP_ZEROCOPY |
		      XDP_USE_NEED_WAKEUP | XDP_USE_SG))
		return -EINVAL;
	if (s->state != SK_READY)
		return -EBUSY;
	v = dev_by_index(d, (int)sx->sxdp_ifindex);
	if (!v)
		return -ENODEV;
	if (!s->rx && !s->tx)
		return -EINVAL;
	if (flags & XDP_SHARED_UMEM) {
		struct sock *o;

		if (flags & (XDP_COPY | XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP | XDP_USE_SG))
			return -EINVAL; /* cannot specify flags for shared sockets */
		if (s->umem)
			return -EINVAL; /* we have our own */
		o = sock_by_fd(d, (int)sx->sxdp_shared_umem_fd);
		if (!o)
			return -ENOTSOCK;
		if (o->state != SK_BOUND)
			return -EBADF;
		if (o->qid != qid || o->dev != v) {
			p = pool_new(s, o->umem);
			if (!p)
				return -ENOMEM;
			err = assign_dev_shared(d, p, o, v, qid);
			if (err) {
				free(p);
				return err;
			}
			d->st.pools++;
			p->next = d->pools;
			d->pools = p;
			o->umem->refs++; /* the pool's */
		} else {
			if (s->fq_tmp || s->cq_tmp)
				return -EINVAL; /* no fill ring of one's own here */
			p = o->pool;
		}
		m = o->umem;
		m->refs++; /* the socket's */
		s->umem = m;
	} else if (!s->umem || !s->fq_tmp || !s->cq_tmp) {
		return -EINVAL;
	} else {
		m = s->umem;
		p = pool_new(s, m);
		if (!p)
			return -ENOMEM;
		err = assign_dev(d, p, v, qid, flags);
		if (err) {
			free(p);
			return err;
		}
		d->st.pools++;
		p->next = d->pools;
		d->pools = p;
		m->refs++; /* the pool's */
	}
	if (p->fq == s->fq_tmp)
		s->fq_tmp = NULL; /* owned by the pool now */
	if (p->cq == s->cq_tmp)
		s->cq_tmp = NULL;
	p->users++;
	s->pool = p;
	s->pool_next = p->socks;
	p->socks = s;
	s->dev = v;
	s->qid = qid;
	s->zc = m->zc;
	s->sg = m->sg;
	s->state = SK_BOUND;
	/* A zero-copy queue restarts and the driver fills its ring at once
	 * (empty now: it asks for a wakeup). */
	if (p->zc && p->users == 1)
		driver_refill(d, p, p->hw_size);
	return 0;
}

static int op_bind(void *ctx, int fd, const struct sockaddr_xdp *sx)
{
	struct xdbl *d = ctx;
	struct sock *s;
	int err;

	pthread_mutex_lock(&d->lock);
	s = sock_by_fd(d, fd);
	err = s ? do_bind(d, s, sx) : -EBADF;
	pthread_mutex_unlock(&d->lock);
	return err;
}

/* ------------------------------------------ release and pool teardown -- */

static uint32_t frame_sum(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261u, i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint8_t *tx_data(const struct pool *p, uint64_t addr)
{
	return p->umem->area + (addr & ADDR_MASK) + (addr >> 48);
}

/* The device reads a TX frame (DMA); it must still be what was queued. */
static void tx_read(struct xdbl *d, struct pool *p, const struct tx_frame *f)
{
	if (frame_sum(tx_data(p, f->addr), f->len) != f->sum)
		d->st.tx_corrupt++;
}

/*
 * xp_release_deferred() -> xp_clear_dev(): the driver lets the pool go (it
 * may read its TX frames up to here), the queue is free again, the rings
 * and what the driver held are gone. No ring returns those chunks.
 */
static void pool_teardown(struct xdbl *d, struct pool *p)
{
	struct pool **pp;
	uint32_t i;

	for (i = 0; i < p->tx_n; i++)
		tx_read(d, p, &p->hwtx[(p->tx_head + i) % p->hw_size]);
	if (p->dev && p->dev->qpool[p->qid] == p)
		p->dev->qpool[p->qid] = NULL;
	for (pp = &d->pools; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	ring_free(p->fq);
	ring_free(p->cq);
	umem_put(p->umem);
	free(p->hw);
	free(p->hwtx);
	free(p->parked);
	free(p);
	d->st.pools--;
	d->st.teardowns++;
}

/* xsk_destruct() -> xp_put_pool(): the last socket schedules the teardown. */
static void pool_put(struct xdbl *d, struct pool *p)
{
	const struct xdbl_dev *c = &p->dev->cfg;

	if (--p->users)
		return;
	p->released = true;
	p->polls_left = c->teardown_polls;
	p->binds_left = c->teardown_binds;
	/* Copy mode: no driver holds DMA, the work runs at once. */
	if (!p->zc && !c->copy_teardown_deferred)
		pool_teardown(d, p);
}

/*
 * xsk_release(), once the fd is closed and no ring is mapped: out of the
 * XSKMAPs, unbound (after synchronize_net no RX path touches it: here, the
 * lock), its own rings destroyed, its pool put.
 */
static void sock_release(struct xdbl *d, struct sock *s)
{
	struct sock **pp;
	struct xmap *m;
	uint32_t i;

	for (m = d->maps; m; m = m->next)
		for (i = 0; i < m->entries; i++)
			if (m->slot[i] == s->fd)
				m->slot[i] = -1;
	if (s->state == SK_BOUND) {
		s->state = SK_UNBOUND;
		for (pp = &s->pool->socks; *pp; pp = &(*pp)->pool_next) {
			if (*pp == s) {
				*pp = s->pool_next;
				break;
			}
		}
	}
	ring_free(s->rx);
	ring_free(s->tx);
	ring_free(s->fq_tmp);
	ring_free(s->cq_tmp);
	if (s->pool)
		pool_put(d, s->pool);
	umem_put(s->umem);
	for (pp = &d->socks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	free(s);
	d->st.sockets--;
}

static int op_close(void *ctx, int fd)
{
	struct xdbl *d = ctx;
	struct sock *s;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	s = sock_by_fd(d, fd);
	if (!s) {
		err = -EBADF;
	} else {
		s->open = false;
		/* The mappings hold the file: release waits for the last. */
		if (!s->nmaps)
			sock_release(d, s);
	}
	pthread_mutex_unlock(&d->lock);
	return err;
}

/* ------------------------------------------------------- the driver -- */

static uint32_t frame_len(const struct umem *m)
{
	return m->chunk_size - PACKET_HEADROOM - m->headroom;
}

static uint8_t *chunk_data(const struct umem *m, uint64_t chunk)
{
	return m->area + chunk + PACKET_HEADROOM + m->headroom;
}

/*
 * Zero-copy RX refill (xsk_buff_alloc_batch): take up to @max fill entries
 * into the hardware ring, at the driver's pace. need_wakeup as ice/i40e
 * set it: when the ring could not be filled.
 */
static void driver_refill(struct xdbl *d, struct pool *p, uint32_t max)
{
	uint32_t n = 0;
	uint64_t a;

	if (max > p->hw_size - p->hw_n)
		max = p->hw_size - p->hw_n;
	while (n < max && fill_take(d, p, &a)) {
		p->hw[(p->hw_head + p->hw_n++) % p->hw_size] = a;
		n++;
	}
	if (max && !n)
		p->fq->empty_descs++;
	kc_release(p->fq);
	if (p->uses_need_wakeup) {
		bool want = p->hw_n < p->hw_size;

		if (want != p->rx_wakeup) {
			/* The kernel writes the flag plainly; relaxed here. */
			__atomic_store_n(r_flags(p->fq), want ? XDP_RING_NEED_WAKEUP : 0,
					 __ATOMIC_RELAXED);
			p->rx_wakeup = want;
		}
	}
}

/* DMA of a frame into chunks, one segment per chunk. */
static void write_segs(const struct umem *m, const uint64_t *chunks,
		       uint32_t nseg, const uint8_t *frame, uint32_t len)
{
	uint32_t fl = frame_len(m), i, off = 0;

	for (i = 0; i < nseg; i++) {
		uint32_t n = len - off < fl ? len - off : fl;

		memcpy(chunk_data(m, chunks[i]), frame + off, n);
		off += n;
	}
}

/* Descriptors for the segments, published with one producer store. */
static void produce_rx(struct xdbl *d, struct sock *s, const uint64_t *chunks,
		       uint32_t nseg, uint32_t len)
{
	const struct umem *m = s->umem;
	uint32_t fl = frame_len(m), i, off = 0;

	for (i = 0; i < nseg; i++) {
		struct xdp_desc *dsc = r_desc(s->rx, s->rx->cached_prod++);
		uint32_t n = len - off < fl ? len - off : fl;

		dsc->addr = chunks[i] | ((uint64_t)(PACKET_HEADROOM + m->headroom) << 48);
		dsc->len = n;
		dsc->options = i + 1 < nseg ? XDP_PKT_CONTD : 0;
		off += n;
	}
	kp_submit(s->rx);
	d->st.rx_frames++;
}

/* Pop @n chunks from the front of the hardware ring. */
static void hw_pop(struct pool *p, uint64_t *chunks, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		chunks[i] = p->hw[(p->hw_head + i) % p->hw_size];
	p->hw_head = (p->hw_head + n) % p->hw_size;
	p->hw_n -= n;
}

/* The socket an arriving frame is redirected to, or NULL. */
static struct sock *rx_target(struct xdbl *d, struct dev *v, uint32_t queue)
{
	struct pool *p = v->qpool[queue];
	struct sock *s;

	if (v->map_fd) {
		struct xmap *m = map_by_fd(d, v->map_fd);

		if (!m || queue >= m->entries || m->slot[queue] < 0)
			return NULL;
		for (s = d->socks; s; s = s->next)
			if (s->fd == m->slot[queue])
				break;
		/* xsk_rcv_check(): bound, and to this very queue */
		if (!s || s->state != SK_BOUND || s->dev != v || s->qid != queue)
			return NULL;
		return s;
	}
	if (!p)
		return NULL;
	for (s = p->socks; s; s = s->pool_next)
		if (s->rx)
			return s;
	return NULL;
}

/* Take @n chunks for copy-mode RX: the free list first, then the fill
 * ring. All or nothing: a short take parks what it got. */
static bool copy_take(struct xdbl *d, struct pool *p, uint64_t *chunks, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (p->nparked)
			chunks[i] = p->parked[--p->nparked];
		else if (!fill_take(d, p, &chunks[i]))
			break;
	}
	kc_release(p->fq);
	if (i == n)
		return true;
	while (i)
		p->parked[p->nparked++] = chunks[--i];
	return false;
}

static uint32_t copy_avail(struct pool *p)
{
	return p->nparked + kc_avail(p->fq);
}

static int ensure_parked(struct pool *p)
{
	if (p->parked)
		return 0;
	p->parked_size = p->fq->entries;
	p->parked = calloc(p->parked_size, sizeof(*p->parked));
	return p->parked ? 0 : -ENOMEM;
}

/* __xsk_rcv(): copy the frame into chunks from the fill ring. */
static int rx_copy(struct xdbl *d, struct sock *s, const uint8_t *frame, uint32_t len)
{
	struct pool *p = s->pool;
	uint32_t fl = frame_len(s->umem), nseg;
	uint64_t chunks[64];

	if (len > fl && !s->sg) {
		s->rx_dropped++;
		return -EMSGSIZE;
	}
	nseg = len ? (len - 1) / fl + 1 : 1;
	if (nseg > 64 || ensure_parked(p))
		return -EMSGSIZE; /* beyond what an xdp_buff holds */
	if (nseg == 1) {
		/* The kernel allocates first and, on a full ring, parks the
		 * chunk for the next frame; checking first is equivalent. */
		if (kp_free(s->rx) < 1) {
			s->rx_queue_full++;
			return -ENOSPC;
		}
		if (!copy_take(d, p, chunks, 1)) {
			s->rx_dropped++;
			p->fq->empty_descs++;
			return -ENOBUFS;
		}
	} else {
		/* xsk_buff_can_alloc() counts entries, valid or not. */
		if (copy_avail(p) < nseg) {
			s->rx_dropped++;
			p->fq->empty_descs++;
			return -ENOBUFS;
		}
		if (kp_free(s->rx) < nseg) {
			s->rx_queue_full++;
			return -ENOSPC;
		}
		if (!copy_take(d, p, chunks, nseg)) {
			s->rx_dropped++; /* invalid entries made it short */
			return -ENOBUFS;
		}
	}
	write_segs(s->umem, chunks, nseg, frame, len);
	produce_rx(d, s, chunks, nseg, len);
	return 0;
}

/* A zero-copy NIC: DMA into hardware-ring chunks, then XDP redirects. */
static int rx_zc(struct xdbl *d, struct pool *p, struct sock *s,
		 const uint8_t *frame, uint32_t len)
{
	uint32_t fl = frame_len(p->umem), nseg = len ? (len - 1) / fl + 1 : 1;
	uint64_t chunks[64];
	uint32_t i;

	if (nseg > 1 && (!p->umem->sg || nseg > p->dev->cfg.zc_max_segs || nseg > 64)) {
		/* Longer than the driver chains: the NIC cannot take it. */
		if (s)
			s->rx_dropped++;
		return -EMSGSIZE;
	}
	if (p->hw_n < nseg) {
		d->st.hw_missed++;
		return -ENOBUFS;
	}
	for (i = 0; i < nseg; i++)
		chunks[i] = p->hw[(p->hw_head + i) % p->hw_size];
	write_segs(p->umem, chunks, nseg, frame, len);
	if (!s || s->pool != p) {
		/* The redirect fails; the buffers go back to the driver,
		 * written. */
		d->st.rx_dma_dropped++;
		return -ENXIO;
	}
	if (kp_free(s->rx) < nseg) {
		/* xsk_rcv_zc(): freed to the pool, reused by the driver */
		s->rx_queue_full++;
		return -ENOSPC;
	}
	hw_pop(p, chunks, nseg);
	produce_rx(d, s, chunks, nseg, len);
	return 0;
}

/* Zero-copy TX: take descriptors into the hardware TX ring. */
static void driver_tx_take(struct xdbl *d, struct pool *p, struct sock *s)
{
	struct ring *tx = s->tx;
	bool took = false;

	if (tx->cached_cons == tx->cached_prod && !kc_avail(tx)) {
		tx->empty_descs++;
		return;
	}
	while (p->tx_n < p->hw_size && tx->cached_cons != tx->cached_prod) {
		struct xdp_desc dsc = *r_desc(tx, tx->cached_cons++);
		struct tx_frame *f;

		took = true;
		if (!tx_desc_ok(p, &dsc)) {
			/* dropped from the batch: counted, never completed */
			tx->invalid_descs++;
			d->st.tx_invalid++;
			continue;
		}
		f = &p->hwtx[(p->tx_head + p->tx_n++) % p->hw_size];
		f->addr = dsc.addr;
		f->len = dsc.len;
		f->sum = frame_sum(tx_data(p, dsc.addr), dsc.len);
	}
	if (took)
		kc_release(tx);
}

/* Zero-copy TX completion, at the driver's pace, while the completion ring
 * has room: the device reads the frame, then its address is completed. */
static uint32_t driver_tx_complete(struct xdbl *d, struct pool *p, uint32_t max)
{
	uint32_t n = 0, room = kp_free(p->cq);

	while (n < max && n < room && p->tx_n) {
		struct tx_frame *f = &p->hwtx[p->tx_head];

		tx_read(d, p, f);
		d->st.tx_frames++;
		*r_addr(p->cq, p->cq->cached_prod++) = f->addr;
		p->tx_head = (p->tx_head + 1) % p->hw_size;
		p->tx_n--;
		n++;
	}
	if (n)
		kp_submit(p->cq);
	return n;
}

/*
 * Copy-mode TX (__xsk_generic_xmit): within sendto(), up to TX_BUDGET
 * frames, each completing as soon as the device has it. A full completion
 * ring, or frames beyond the budget, is EAGAIN. Invalid descriptors count
 * in tx_invalid_descs and still complete (measured on veth, 6.18).
 */
static int generic_xmit(struct xdbl *d, struct sock *s)
{
	struct pool *p = s->pool;
	struct ring *tx = s->tx;
	uint32_t budget = TX_BUDGET;
	int err = 0;

	if (tx->cached_cons == tx->cached_prod && !kc_avail(tx))
		tx->empty_descs++;
	while (tx->cached_cons != tx->cached_prod || kc_avail(tx)) {
		struct xdp_desc dsc;

		if (!budget--) {
			err = -EAGAIN;
			break;
		}
		if (!kp_free(p->cq)) {
			err = -EAGAIN;
			break;
		}
		dsc = *r_desc(tx, tx->cached_cons++);
		if (!tx_desc_ok(p, &dsc)) {
			tx->invalid_descs++;
			d->st.tx_invalid++;
		} else {
			d->st.tx_frames++;
		}
		*r_addr(p->cq, p->cq->cached_prod++) = dsc.addr;
	}
	kp_submit(p->cq);
	kc_release(tx);
	return err;
}

/* ------------------------------------------------------------- kicks -- */

/* recvfrom() / sendto() with MSG_DONTWAIT (__xsk_recvmsg, __xsk_sendmsg). */
static int op_kick(void *ctx, int fd, bool is_tx)
{
	struct xdbl *d = ctx;
	struct sock *s;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	s = sock_by_fd(d, fd);
	if (!s) {
		err = -EBADF;
		goto out;
	}
	if (s->state != SK_BOUND) {
		err = -ENXIO;
		goto out;
	}
	if (s->dev->cfg.down) {
		err = -ENETDOWN;
		goto out;
	}
	if (!is_tx) {
		if (!s->rx)
			err = -ENOBUFS;
		else if (s->zc && s->pool->rx_wakeup)
			driver_refill(d, s->pool, s->dev->cfg.refill_batch); /* ndo_xsk_wakeup */
		goto out;
	}
	if (!s->tx)
		err = -ENOBUFS;
	else if (s->zc)
		driver_tx_take(d, s->pool, s); /* completes on later polls */
	else
		err = generic_xmit(d, s);
out:
	pthread_mutex_unlock(&d->lock);
	return err;
}

const struct xfrag_xsk_ops xdbl_ops = {
	.dev_info = op_dev_info,
	.socket = op_socket,
	.setsockopt = op_setsockopt,
	.getsockopt = op_getsockopt,
	.mmap = op_mmap,
	.munmap = op_munmap,
	.bind = op_bind,
	.close = op_close,
	.kick = op_kick,
	.map_update = op_map_update,
	.map_delete = op_map_delete,
};

/* ---------------------------------------------------- test interface -- */

struct xdbl *xdbl_new(void)
{
	struct xdbl *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	pthread_mutex_init(&d->lock, NULL);
	d->next_fd = FD_BASE;
	d->next_ifindex = 1;
	return d;
}

void xdbl_free(struct xdbl *d)
{
	if (!d)
		return;
	while (d->socks) {
		struct sock *s = d->socks;

		/* Forget the mappings: user space is done with them. */
		s->nmaps = 0;
		s->open = false;
		sock_release(d, s);
	}
	while (d->pools)
		pool_teardown(d, d->pools);
	while (d->maps) {
		struct xmap *m = d->maps;

		d->maps = m->next;
		free(m->slot);
		free(m);
	}
	while (d->devs) {
		struct dev *v = d->devs;

		d->devs = v->next;
		free(v->qpool);
		free(v);
	}
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int xdbl_attach(struct xdbl *d, struct xfrag_umem *u)
{
	return xfrag_umem_set_xsk_ops(u, &xdbl_ops, d);
}

int xdbl_add_dev(struct xdbl *d, const struct xdbl_dev *cfg)
{
	struct dev *v;
	int ifindex;

	if (!cfg->name || strlen(cfg->name) >= IF_NAMESIZE)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->cfg = *cfg;
	dev_defaults(&v->cfg);
	snprintf(v->name, sizeof(v->name), "%s", cfg->name);
	v->cfg.name = v->name;
	v->nq = v->cfg.rx_queues > v->cfg.tx_queues ? v->cfg.rx_queues : v->cfg.tx_queues;
	v->qpool = calloc(v->nq, sizeof(*v->qpool));
	if (!v->qpool) {
		free(v);
		return -ENOMEM;
	}
	pthread_mutex_lock(&d->lock);
	v->ifindex = ifindex = d->next_ifindex++;
	v->next = d->devs;
	d->devs = v;
	pthread_mutex_unlock(&d->lock);
	return ifindex;
}

int xdbl_set_dev(struct xdbl *d, int ifindex, const struct xdbl_dev *cfg)
{
	struct dev *v;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	v = dev_by_index(d, ifindex);
	if (!v) {
		err = -ENODEV;
	} else {
		struct xdbl_dev c = *cfg;

		c.name = v->name;
		c.mtu = v->cfg.mtu;
		c.rx_queues = v->cfg.rx_queues;
		c.tx_queues = v->cfg.tx_queues;
		dev_defaults(&c);
		v->cfg = c;
	}
	pthread_mutex_unlock(&d->lock);
	return err;
}

int xdbl_set_link(struct xdbl *d, int ifindex, bool up)
{
	struct dev *v;

	pthread_mutex_lock(&d->lock);
	v = dev_by_index(d, ifindex);
	if (v)
		v->cfg.down = !up;
	pthread_mutex_unlock(&d->lock);
	return v ? 0 : -ENODEV;
}

void xdbl_set_hugetlb(struct xdbl *d, bool hugetlb)
{
	pthread_mutex_lock(&d->lock);
	d->hugetlb = hugetlb;
	pthread_mutex_unlock(&d->lock);
}

int xdbl_map_create(struct xdbl *d, uint32_t entries)
{
	struct xmap *m = calloc(1, sizeof(*m));
	uint32_t i;
	int fd;

	if (!m || !entries)
		goto err;
	m->slot = calloc(entries, sizeof(*m->slot));
	if (!m->slot)
		goto err;
	for (i = 0; i < entries; i++)
		m->slot[i] = -1;
	m->entries = entries;
	pthread_mutex_lock(&d->lock);
	m->fd = fd = d->next_fd++;
	m->next = d->maps;
	d->maps = m;
	d->st.maps++;
	pthread_mutex_unlock(&d->lock);
	return fd;
err:
	free(m);
	return -EINVAL;
}

int xdbl_map_lookup(struct xdbl *d, int map_fd, uint32_t key)
{
	struct xmap *m;
	int r;

	pthread_mutex_lock(&d->lock);
	m = map_by_fd(d, map_fd);
	r = !m ? -EBADF : key >= m->entries ? -EINVAL :
	    m->slot[key] < 0 ? -ENOENT : m->slot[key];
	pthread_mutex_unlock(&d->lock);
	return r;
}

int xdbl_dev_set_map(struct xdbl *d, int ifindex, int map_fd)
{
	struct dev *v;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	v = dev_by_index(d, ifindex);
	if (!v)
		err = -ENODEV;
	else if (map_fd && !map_by_fd(d, map_fd))
		err = -EBADF;
	else
		v->map_fd = map_fd;
	pthread_mutex_unlock(&d->lock);
	return err;
}

int xdbl_rx(struct xdbl *d, int ifindex, uint32_t queue, const void *frame,
	    uint32_t len)
{
	struct dev *v;
	struct pool *p;
	struct sock *s;
	int err;

	pthread_mutex_lock(&d->lock);
	v = dev_by_index(d, ifindex);
	if (!v || queue >= v->cfg.rx_queues) {
		err = v ? -EINVAL : -ENODEV;
		goto out;
	}
	p = v->qpool[queue];
	s = rx_target(d, v, queue);
	if (p && p->zc)
		err = rx_zc(d, p, s, frame, len);
	else if (s && s->pool->umem->unaligned)
		err = rx_copy(d, s, frame, len);
	else
		err = s ? -EOPNOTSUPP /* aligned mode: not modelled */ : -ENXIO;
out:
	pthread_mutex_unlock(&d->lock);
	return err;
}

int xdbl_rx_raw(struct xdbl *d, int fd, const struct xdbl_desc *descs,
		unsigned int n)
{
	uint64_t chunks[256];
	struct pool *p;
	struct sock *s;
	uint32_t i, fl;
	int err = (int)n;

	if (n > 256)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	s = sock_by_fd(d, fd);
	if (!s || s->state != SK_BOUND || !s->rx || !s->umem->unaligned) {
		err = s ? -EINVAL : -EBADF;
		goto out;
	}
	p = s->pool;
	fl = frame_len(s->umem);
	for (i = 0; i < n; i++)
		if (descs[i].len > fl) {
			err = -EINVAL;
			goto out;
		}
	/* The kernel publishes a frame's descriptors together (one submit per
	 * flush), never half a chain; user space may rely on it. */
	if (!n || (descs[n - 1].options & XDP_PKT_CONTD)) {
		err = -EINVAL;
		goto out;
	}
	if (kp_free(s->rx) < n) {
		s->rx_queue_full++;
		err = -ENOSPC;
		goto out;
	}
	if (p->zc) {
		if (p->hw_n < n) {
			err = -ENOBUFS;
			goto out;
		}
		hw_pop(p, chunks, n);
	} else if (ensure_parked(p) || !copy_take(d, p, chunks, n)) {
		err = -ENOBUFS;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct xdp_desc *dsc = r_desc(s->rx, s->rx->cached_prod++);
		uint8_t *dst = chunk_data(s->umem, chunks[i]);

		if (descs[i].data)
			memcpy(dst, descs[i].data, descs[i].len);
		else
			memset(dst, XDBL_SCRIBBLE ^ (int)(i & 0xff), descs[i].len);
		dsc->addr = chunks[i] | ((uint64_t)(PACKET_HEADROOM + s->umem->headroom) << 48);
		dsc->len = descs[i].len;
		dsc->options = descs[i].options;
	}
	kp_submit(s->rx);
	d->st.rx_frames++;
out:
	pthread_mutex_unlock(&d->lock);
	return err;
}

/* Write over the DMA area of every chunk the driver holds. */
static void scribble(struct xdbl *d, struct pool *p)
{
	uint32_t i, fl = frame_len(p->umem);

	for (i = 0; i < p->hw_n; i++) {
		memset(chunk_data(p->umem, p->hw[(p->hw_head + i) % p->hw_size]),
		       XDBL_SCRIBBLE, fl);
		d->st.scribbled++;
	}
}

int xdbl_poll(struct xdbl *d)
{
	struct pool *p, *next;
	int work = 0;

	pthread_mutex_lock(&d->lock);
	for (p = d->pools; p; p = next) {
		const struct xdbl_dev *c = &p->dev->cfg;
		uint32_t before = p->hw_n;

		next = p->next;
		if (!p->zc) {
			if (p->released && p->polls_left && --p->polls_left == 0)
				pool_teardown(d, p);
			continue;
		}
		/* A released pool's driver still fills its ring (the fill ring
		 * lives until teardown) and may still read its TX frames. */
		driver_refill(d, p, c->refill_batch);
		work += (int)(p->hw_n - before);
		if (!p->released) {
			struct sock *s;

			for (s = p->socks; s; s = s->pool_next)
				if (s->tx)
					driver_tx_take(d, p, s);
			work += (int)driver_tx_complete(d, p, c->complete_batch);
		} else {
			uint32_t i;

			for (i = 0; i < p->tx_n; i++)
				tx_read(d, p, &p->hwtx[(p->tx_head + i) % p->hw_size]);
		}
		if (c->scribble)
			scribble(d, p);
		if (p->released && p->polls_left && --p->polls_left == 0)
			pool_teardown(d, p);
	}
	pthread_mutex_unlock(&d->lock);
	return work;
}

int xdbl_teardown(struct xdbl *d, int ifindex, uint32_t queue)
{
	struct pool *p, *next;
	int n = 0;

	pthread_mutex_lock(&d->lock);
	for (p = d->pools; p; p = next) {
		next = p->next;
		if (!p->released)
			continue;
		if (ifindex && (p->dev->ifindex != ifindex || p->qid != queue))
			continue;
		pool_teardown(d, p);
		n++;
	}
	pthread_mutex_unlock(&d->lock);
	return n;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

bool xdbl_held(struct xdbl *d, struct xfrag_umem *u, uint64_t addr, uint64_t len)
{
	uint8_t *area = xfrag_umem__area(u);
	bool held = false;
	struct pool *p;
	uint32_t i;

	addr &= ADDR_MASK;
	pthread_mutex_lock(&d->lock);
	for (p = d->pools; p && !held; p = p->next) {
		const uint64_t cs = p->umem->chunk_size;
		struct ring *fq = p->fq;
		uint32_t prod, c;

		if (!p->released || p->umem->area != area)
			continue;
		for (i = 0; i < p->hw_n && !held; i++)
			held = overlaps(addr, len, p->hw[(p->hw_head + i) % p->hw_size], cs);
		for (i = 0; i < p->nparked && !held; i++)
			held = overlaps(addr, len, p->parked[i], cs);
		for (i = 0; i < p->tx_n && !held; i++) {
			const struct tx_frame *f = &p->hwtx[(p->tx_head + i) % p->hw_size];

			held = overlaps(addr, len, (f->addr & ADDR_MASK) + (f->addr >> 48), f->len);
		}
		/* Fill entries the driver may still take. */
		prod = __atomic_load_n(r_prod(fq), __ATOMIC_ACQUIRE);
		for (c = fq->cached_cons; c != prod && !held; c++)
			held = overlaps(addr, len, *r_addr(fq, c) & ADDR_MASK, cs);
	}
	pthread_mutex_unlock(&d->lock);
	return held;
}

int xdbl_queue_info(struct xdbl *d, int ifindex, uint32_t queue,
		    struct xdbl_queue_info *out)
{
	struct dev *v;
	struct pool *p;
	struct sock *s;
	int err = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&d->lock);
	v = dev_by_index(d, ifindex);
	if (!v || queue >= v->nq) {
		err = v ? -EINVAL : -ENODEV;
		goto out;
	}
	p = v->qpool[queue];
	if (!p)
		goto out;
	out->busy = true;
	out->released = p->released;
	out->zerocopy = p->zc;
	out->sockets = (uint32_t)p->users;
	out->hw_rx = p->hw_n;
	out->hw_tx = p->tx_n;
	out->fill_level = __atomic_load_n(r_prod(p->fq), __ATOMIC_ACQUIRE) - p->fq->cached_cons;
	out->parked = p->nparked;
	out->comp_level = p->cq->cached_prod - __atomic_load_n(r_cons(p->cq), __ATOMIC_ACQUIRE);
	out->need_wakeup = p->rx_wakeup;
	for (s = p->socks; s; s = s->pool_next)
		if (s->rx) {
			out->rx_level = s->rx->cached_prod -
					__atomic_load_n(r_cons(s->rx), __ATOMIC_ACQUIRE);
			break;
		}
out:
	pthread_mutex_unlock(&d->lock);
	return err;
}

void xdbl_stats(struct xdbl *d, struct xdbl_stats *out)
{
	pthread_mutex_lock(&d->lock);
	*out = d->st;
	pthread_mutex_unlock(&d->lock);
}
