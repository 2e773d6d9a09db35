// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * AF_XDP sockets on an xfrag UMEM. The first socket registers the region
 * with the kernel (XDP_UMEM_REG, unaligned-chunk mode); later ones share it
 * (XDP_SHARED_UMEM) with fill/completion rings of their own. Used by both
 * rx and tx queues.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "xsk_internal.h"

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int xfrag_xsk_open(struct xfrag_umem *u, const struct xfrag_xsk_params *p,
		   struct xfrag_xsk_rings *r, struct xsk_socket **out)
{
	struct xsk_socket_config cfg = {
		.rx_size = p->rx_size,
		.tx_size = p->tx_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = 0,
	};
	char ifname[IF_NAMESIZE];
	unsigned int tries, delay = 2;
	bool try_zc = p->bind_mode != XFRAG_BIND_COPY;
	int err;

	if (!if_indextoname((unsigned int)p->ifindex, ifname))
		return -ENODEV;
	/* libxdp 1.3.1 leaves the rings' cached producer/consumer unset. */
	memset(r, 0, sizeof(*r));
	if (!u->xsk_umem) {
		struct xsk_umem_config ucfg = {
			.fill_size = p->fill_size,
			.comp_size = p->comp_size,
			.frame_size = p->frame_size,
			.frame_headroom = p->headroom,
			.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG,
		};
		struct xsk_umem *xu;

		err = xsk_umem__create(&xu, u->hot.area, u->hot.size, &r->fill,
				       &r->comp, &ucfg);
		if (err) {
			pr_err("registering the UMEM (%llu bytes, frame %u, headroom %u) failed: %s",
			       (unsigned long long)u->hot.size, p->frame_size,
			       p->headroom, strerror(-err));
			return err;
		}
		u->xsk_umem = xu;
		u->frame_size = p->frame_size;
		u->headroom = p->headroom;
		u->fill_size = p->fill_size;
		u->comp_size = p->comp_size;
		u->no_wakeup = p->no_wakeup;
		u->multi_buffer = p->multi_buffer;
	} else if (u->frame_size != p->frame_size || u->headroom != p->headroom) {
		pr_err("queue %u wants frame %u / headroom %u, but the shared UMEM is registered with %u / %u",
		       p->queue_id, p->frame_size, p->headroom, u->frame_size,
		       u->headroom);
		return -EINVAL;
	} else if ((p->fill_size && u->fill_size != p->fill_size) ||
		   (p->comp_size && u->comp_size != p->comp_size) ||
		   u->no_wakeup != p->no_wakeup || u->multi_buffer != p->multi_buffer) {
		/*
		 * libxdp sizes a shared socket's rings like the first one's, and
		 * the kernel binds it with the first socket's flags: a request
		 * that differs would be silently ignored (and a queue believing
		 * it needs no wakeup could stall). Refuse it instead.
		 */
		pr_err("queue %u: sockets sharing a UMEM must use the first one's fill/completion ring sizes (%u/%u), wakeup and multi-buffer settings",
		       p->queue_id, u->fill_size, u->comp_size);
		return -EINVAL;
	}

	for (tries = 0;; tries++) {
		cfg.bind_flags = (uint16_t)((p->no_wakeup ? 0 : XDP_USE_NEED_WAKEUP) |
					    (p->multi_buffer ? XFRAG_XDP_USE_SG : 0) |
					    (try_zc ? XDP_ZEROCOPY : XDP_COPY));
		err = xsk_socket__create_shared(out, ifname, p->queue_id,
						u->xsk_umem, p->rx_size ? &r->rx : NULL,
						p->tx_size ? &r->tx : NULL,
						&r->fill, &r->comp, &cfg);
		if (!err)
			break;
		if (try_zc && p->bind_mode == XFRAG_BIND_AUTO &&
		    (err == -EOPNOTSUPP || err == -EPROTONOSUPPORT)) {
			pr_info("%s queue %u: no zero-copy support, binding in copy mode",
				ifname, p->queue_id);
			try_zc = false;
			continue;
		}
		if (err == -EOPNOTSUPP && p->bind_mode == XFRAG_BIND_ZEROCOPY) {
			pr_err("%s queue %u: zero-copy was required but the driver does not support it",
			       ifname, p->queue_id);
			break;
		}
		/* A queue whose socket just closed stays busy for ~40 ms. */
		if (err == -EBUSY && tries < 8) {
			sleep_ms(delay);
			delay *= 2;
			continue;
		}
		pr_err("%s queue %u: creating the AF_XDP socket failed: %s",
		       ifname, p->queue_id, strerror(-err));
		break;
	}
	if (err) {
		if (!u->nsockets) {
			xsk_umem__delete(u->xsk_umem);
			u->xsk_umem = NULL;
		}
		return err;
	}
	u->nsockets++;
	{
		/*
		 * Ask the kernel: libxdp drops the bind flags of sockets that
		 * share a UMEM, so a zero-copy request can "succeed" in copy mode.
		 */
		struct xdp_options xo = { 0 };
		socklen_t len = sizeof(xo);

		r->zerocopy = !getsockopt(xsk_socket__fd(*out), SOL_XDP, XDP_OPTIONS,
					  &xo, &len) && (xo.flags & XDP_OPTIONS_ZEROCOPY);
	}
	return 0;
}

void xfrag_xsk_close(struct xfrag_umem *u, struct xsk_socket *xsk)
{
	if (!xsk)
		return;
	xsk_socket__delete(xsk);
	if (--u->nsockets == 0 && u->xsk_umem) {
		xsk_umem__delete(u->xsk_umem);
		u->xsk_umem = NULL;
	}
}
