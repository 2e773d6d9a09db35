// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The XDP program loader: open the embedded xfrag_rx object (a bpftool
 * skeleton), write its configuration, hand it to libxdp to load and attach.
 */
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "internal.h"
#include "xfrag/xdp.h"
#include "xfrag_rx.h"
#include "xfrag_rx.skel.h"

#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6) /* 6.3 UAPI; headers here are 6.1 */
#endif
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#define BPFFS_DIR "/sys/fs/bpf"

/* The public and the BPF-side layouts must agree. */
_Static_assert(sizeof(struct xfrag_meta) == sizeof(struct xfrag_rx_meta), "meta");
_Static_assert(sizeof(struct xfrag_meta) % 4 == 0 && sizeof(struct xfrag_meta) <= 32,
	       "adjust_meta wants a multiple of 4, at most 32 bytes here");
_Static_assert(XFRAG_META_MAGIC == XFRAG_RX_META_MAGIC, "magic");
_Static_assert(XFRAG_META_F_TS == XFRAG_RX_META_F_TS, "flags");
_Static_assert(XFRAG_META_F_HASH == XFRAG_RX_META_F_HASH, "flags");
_Static_assert(XFRAG_XDP_MAX_QUEUES == XFRAG_RX_MAX_QUEUES, "queues");
_Static_assert((int)XFRAG_XDP_REDIRECT == XFRAG_RX_REDIRECT &&
	       (int)XFRAG_XDP_DROP == XFRAG_RX_DROP &&
	       (int)XFRAG_XDP_PASS == XFRAG_RX_PASS, "actions");
_Static_assert(sizeof(struct xfrag_xdp_counters) ==
	       sizeof(size_t) + sizeof(struct xfrag_rx_counters), "counters");

struct xfrag_xdp {
	struct xfrag_rx_bpf *skel;
	struct xdp_program *prog; /* libxdp's view, on the dispatcher path only */
	int link_fd;              /* the bpf_link, on the link path; else -1 */
	uint32_t prog_id;
	/* The user's reference and one per rx queue using the XSKMAP: the
	 * maps outlive a detach until the last queue lets go. */
	_Atomic uint32_t refs;
	struct xfrag_rx_cfg cfg; /* what the program's .data holds */
	enum xdp_attach_mode attach_mode;
	int ifindex;
	int ncpus;
	bool rx_hash;
	bool attached;
	char ifname[IF_NAMESIZE];
};

/*
 * libbpf and libxdp print to stderr unless told otherwise; the library
 * never prints, so route them to our log while we call them. Their WARN
 * level is often noise we handle (no bpffs, dispatcher fallback, a kfunc
 * we retry without): it becomes INFO, and our own message says what failed.
 */
__attribute__((format(printf, 2, 0))) static void
log_va(enum xfrag_log_level level, const char *fmt, va_list ap)
{
	char *msg;
	size_t n;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	xfrag_log(level, "%s", msg);
	free(msg);
}

__attribute__((format(printf, 2, 0))) static int
log_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	log_va(level == LIBBPF_WARN ? XFRAG_LOG_INFO : XFRAG_LOG_DEBUG, fmt, ap);
	return 0;
}

__attribute__((format(printf, 2, 0))) static int
log_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBXDP_DEBUG)
		return 0;
	log_va(level == LIBXDP_WARN ? XFRAG_LOG_INFO : XFRAG_LOG_DEBUG, fmt, ap);
	return 0;
}

struct log_hooks {
	libbpf_print_fn_t bpf;
	libxdp_print_fn_t xdp;
};

static struct log_hooks hook_logs(void)
{
	struct log_hooks old = {
		.bpf = libbpf_set_print(log_libbpf),
		.xdp = libxdp_set_print(log_libxdp),
	};
	return old;
}

static void unhook_logs(struct log_hooks old)
{
	libbpf_set_print(old.bpf);
	libxdp_set_print(old.xdp);
}

static const char *mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "skb";
	case XDP_MODE_HW:
		return "hw";
	default:
		return "unspec";
	}
}

static int perm_error(const char *what)
{
	pr_err("%s: permission denied: needs CAP_NET_ADMIN and CAP_BPF "
	       "(or CAP_SYS_ADMIN / root)", what);
	return -EPERM;
}

static int resolve_ifindex(const char *ifname, int ifindex, char *name)
{
	if (ifname) {
		if (strlen(ifname) >= IF_NAMESIZE) {
			pr_err("interface '%s' not found (name too long)", ifname);
			return -ENODEV;
		}
		ifindex = (int)if_nametoindex(ifname);
		if (!ifindex) {
			pr_err("interface '%s' not found", ifname);
			return -ENODEV;
		}
		strcpy(name, ifname);
		return ifindex;
	}
	if (ifindex <= 0 || !if_indextoname((unsigned int)ifindex, name)) {
		pr_err("interface with index %d not found", ifindex);
		return -ENODEV;
	}
	return ifindex;
}

/*
 * libxdp keeps its dispatcher state and lock in bpffs. Without it the
 * program still attaches on its own, so a missing bpffs is not fatal.
 */
static void ensure_bpffs(void)
{
	struct statfs st;

	if (secure_getenv("LIBXDP_BPFFS"))
		return; /* libxdp looks there instead */
	if (!statfs(BPFFS_DIR, &st) && (unsigned long)st.f_type == BPF_FS_MAGIC)
		return;
	if (!mount("bpf", BPFFS_DIR, "bpf", 0, NULL)) {
		pr_info("mounted bpffs at " BPFFS_DIR " for libxdp");
		return;
	}
	pr_warn("no bpffs at " BPFFS_DIR " and mounting it failed (%s): libxdp "
		"cannot use its multi-program dispatcher; mount it with "
		"'mount -t bpf bpf " BPFFS_DIR "'", strerror(errno));
}

static bool is_xfrag_name(const char *name)
{
	return name && !strncmp(name, XFRAG_RX_PROG_NAME,
				sizeof(XFRAG_RX_PROG_NAME) - 1);
}

/*
 * The bpf_link that holds @ifindex's XDP program, as an fd, or -ENOENT. A
 * program attached through a link belongs to a process that is still
 * running: the kernel detaches it when the link's last fd closes.
 */
static int find_xdp_link(int ifindex)
{
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_LINK_TYPE_XDP && (int)info.xdp.ifindex == ifindex)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

enum stale_policy {
	STALE_FAIL,    /* attach without replace: -EEXIST */
	STALE_REPLACE, /* attach with replace: remove ours, refuse others */
	STALE_REMOVE,  /* detach_stale: remove ours, leave others */
};

/*
 * Look at what is attached to @ifindex and act on xfrag programs there as
 * @policy says. Return how many were removed (0 if nothing is in the way),
 * -EEXIST for one kept under STALE_FAIL, or -EBUSY if another program is
 * attached without a dispatcher we could join (not under STALE_REMOVE).
 */
static int check_attached(int ifindex, const char *ifname,
			  enum stale_policy policy)
{
	struct xdp_program *p;
	struct xdp_multiprog *mp;
	int err, removed = 0, link;
	long perr;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	perr = libxdp_get_error(mp);
	if (perr == -ENOENT || (!perr && !mp))
		return 0;
	if (perr) {
		if (perr == -EPERM)
			return perm_error("querying XDP programs");
		pr_err("cannot query XDP programs on '%s': %s", ifname,
		       strerror((int)-perr));
		return (int)perr;
	}

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (!is_xfrag_name(xdp_program__name(p))) {
			err = 0;
			if (policy == STALE_REMOVE) {
				pr_info("'%s': leaving XDP program '%s' (not xfrag's) alone",
					ifname, xdp_program__name(p));
				goto out;
			}
			pr_err("interface '%s' already has XDP program '%s' (id %u, "
			       "%s mode) attached without libxdp's dispatcher; "
			       "detach it first (ip link set dev %s xdp off)",
			       ifname, xdp_program__name(p), xdp_program__id(p),
			       mode_name(xdp_multiprog__attach_mode(mp)), ifname);
			err = -EBUSY;
			goto out;
		}
		link = find_xdp_link(ifindex);
		if (link >= 0) {
			/* Not stale: its process is alive and holds the link. */
			if (policy == STALE_REMOVE) {
				pr_info("'%s': xfrag program id %u is held by a running process (bpf_link); leaving it",
					ifname, xdp_program__id(p));
				err = 0;
			} else if (policy == STALE_FAIL) {
				pr_err("interface '%s' has an xfrag XDP program (id %u) attached "
				       "by another process that is still running (through a bpf_link, "
				       "it goes away when that process exits); stop it, or set "
				       "'replace' (--replace) to take the interface over",
				       ifname, xdp_program__id(p));
				err = -EBUSY;
			} else if (bpf_link_detach(link)) {
				err = -errno;
				pr_err("cannot detach the xfrag program's bpf_link from '%s': %s",
				       ifname, strerror(-err));
			} else {
				pr_info("detached xfrag program id %u (a running process's bpf_link) from '%s'",
					xdp_program__id(p), ifname);
				err = 1;
			}
			close(link);
			goto out;
		}
		if (policy == STALE_FAIL) {
			pr_err("interface '%s' has a stale xfrag XDP program (id %u) "
			       "attached; set the 'replace' option (--replace) to "
			       "replace it, or remove it with xfrag_xdp__detach_stale()",
			       ifname, xdp_program__id(p));
			err = -EEXIST;
			goto out;
		}
		/* Netlink-attached (an older xfrag, or the dispatcher-less
		 * libxdp path): a netlink detach removes it. */
		err = xdp_multiprog__detach(mp);
		if (err) {
			pr_err("cannot detach the stale xfrag program from '%s': %s",
			       ifname, strerror(-err));
			goto out;
		}
		pr_info("detached stale xfrag program id %u from '%s'",
			xdp_program__id(p), ifname);
		err = 1;
		goto out;
	}

	/* A libxdp dispatcher: foreign components can stay, ours cannot. */
	for (p = xdp_multiprog__next_prog(NULL, mp); p;
	     p = xdp_multiprog__next_prog(p, mp)) {
		if (!is_xfrag_name(xdp_program__name(p)))
			continue;
		if (policy == STALE_FAIL) {
			pr_err("interface '%s' has a stale xfrag XDP program (id %u) "
			       "in libxdp's dispatcher; set the 'replace' option "
			       "(--replace) to replace it", ifname,
			       xdp_program__id(p));
			err = -EEXIST;
			goto out;
		}
		err = xdp_program__detach(p, ifindex,
					  xdp_multiprog__attach_mode(mp), 0);
		if (err) {
			pr_err("cannot detach the stale xfrag program from '%s': %s",
			       ifname, strerror(-err));
			goto out;
		}
		pr_info("detached stale xfrag program id %u from '%s'",
			xdp_program__id(p), ifname);
		removed++;
	}
	err = removed;
out:
	xdp_multiprog__close(mp);
	return err;
}

/* Every zero field is a wildcard; no field at all means "every frame". */
static int filter_to_cfg(const struct xfrag_xdp_filter *f,
			 struct xfrag_rx_cfg *cfg)
{
	uint16_t ethertype, port_lo, port_hi;
	uint8_t ip_version, l4_proto;

	if (f && !OPTS_VALID(f, xfrag_xdp_filter))
		return -EINVAL;
	ethertype = OPTS_GET(f, ethertype, 0);
	ip_version = OPTS_GET(f, ip_version, 0);
	l4_proto = OPTS_GET(f, l4_proto, 0);
	port_lo = OPTS_GET(f, port_lo, 0);
	port_hi = OPTS_GET(f, port_hi, 0);

	if (ip_version && ip_version != 4 && ip_version != 6) {
		pr_err("filter: ip_version %u is not 4 or 6", ip_version);
		return -EINVAL;
	}
	if (ip_version && ethertype &&
	    ethertype != (ip_version == 4 ? 0x0800 : 0x86dd)) {
		pr_err("filter: ethertype 0x%04x contradicts ip_version %u",
		       ethertype, ip_version);
		return -EINVAL;
	}
	if (port_lo > port_hi) {
		pr_err("filter: port range %u-%u is empty%s", port_lo, port_hi,
		       port_hi ? "" : " (set port_hi; 0 means any port)");
		return -EINVAL;
	}
	if (port_hi && l4_proto && l4_proto != 6 && l4_proto != 17) {
		pr_err("filter: ports need l4_proto UDP (17) or TCP (6), not %u",
		       l4_proto);
		return -EINVAL;
	}

	cfg->flags &= ~XFRAG_RX_F_ALL;
	if (!ethertype && !ip_version && !l4_proto && !port_hi)
		cfg->flags |= XFRAG_RX_F_ALL;
	cfg->ethertype = ethertype;
	cfg->ip_version = ip_version;
	cfg->l4_proto = l4_proto;
	cfg->port_lo = port_lo;
	cfg->port_hi = port_hi;
	return 0;
}

static void unload(struct xfrag_xdp *x)
{
	if (x->link_fd >= 0)
		close(x->link_fd);
	x->link_fd = -1;
	xdp_program__close(x->prog); /* from_bpf_obj: does not close the obj */
	x->prog = NULL;
	xfrag_rx_bpf__destroy(x->skel);
	x->skel = NULL;
}

/*
 * libxdp's dispatcher needs freplace (BPF_PROG_TYPE_EXT) programs. Where the
 * kernel has them, or a dispatcher is already there to join, attach through
 * libxdp so that other XDP programs can coexist. Elsewhere libxdp 1.3.1
 * would attach alone by netlink, which outlives a crash; a bpf_link does
 * not: the kernel detaches the program when the process dies, SIGKILL
 * included.
 */
static bool use_dispatcher(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	bool joined = !libxdp_get_error(mp) && mp && !xdp_multiprog__is_legacy(mp);

	if (!libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	return joined || libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_EXT, NULL) > 0;
}

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Open the object, configure it, load it and attach it. */
static int load_attach(struct xfrag_xdp *x, enum xdp_attach_mode mode,
		       bool hash, bool link)
{
	const char *name = hash ? XFRAG_RX_HASH_PROG_NAME : XFRAG_RX_PROG_NAME;
	struct bpf_program *bp;
	long perr;
	int err;

	x->skel = xfrag_rx_bpf__open();
	if (!x->skel) {
		err = -errno;
		pr_err("cannot open the embedded XDP object: %s", strerror(-err));
		return err;
	}
	if (bpf_map__value_size(x->skel->maps.data) != sizeof(x->cfg)) {
		pr_err("XDP object: unexpected .data layout");
		err = -EINVAL;
		goto err_unload;
	}
	x->skel->data->xfrag_cfg = x->cfg;

	bpf_program__set_autoload(x->skel->progs.xfrag_rx, !hash);
	bpf_program__set_autoload(x->skel->progs.xfrag_rx_hash, hash);
	bp = hash ? x->skel->progs.xfrag_rx_hash : x->skel->progs.xfrag_rx;
	if (hash) {
		/* Metadata kfuncs are only allowed in device-bound programs. */
		bpf_program__set_ifindex(bp, (__u32)x->ifindex);
		bpf_program__set_flags(bp, bpf_program__flags(bp) |
					   BPF_F_XDP_DEV_BOUND_ONLY);
	}

	if (link) {
		LIBBPF_OPTS(bpf_link_create_opts, lo,
			    .flags = mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE :
							    XDP_FLAGS_DRV_MODE);
		int fd;

		err = xfrag_rx_bpf__load(x->skel);
		if (err)
			goto err_unload;
		fd = bpf_link_create(bpf_program__fd(bp), x->ifindex, BPF_XDP, &lo);
		if (fd < 0) {
			err = -errno;
			goto err_unload;
		}
		x->link_fd = fd;
		x->prog_id = prog_id_of(bpf_program__fd(bp));
	} else {
		DECLARE_LIBXDP_OPTS(xdp_program_opts, popts, .obj = x->skel->obj,
				    .prog_name = name);
		x->prog = xdp_program__create(&popts);
		perr = libxdp_get_error(x->prog);
		if (perr) {
			x->prog = NULL;
			err = (int)perr;
			pr_err("libxdp cannot use the XDP object: %s", strerror(-err));
			goto err_unload;
		}
		/* So that a dispatcher, where there is one, keeps frags support. */
		xdp_program__set_xdp_frags_support(x->prog, true);

		err = xdp_program__attach(x->prog, x->ifindex, mode, 0);
		if (err)
			goto err_unload;
		x->prog_id = xdp_program__id(x->prog);
	}
	x->attach_mode = mode;
	x->rx_hash = hash;
	return 0;

err_unload:
	unload(x);
	return err;
}

static int attach_mode(struct xfrag_xdp *x, enum xdp_attach_mode mode,
		       bool hash, bool link)
{
	int err;

	if (hash) {
		err = load_attach(x, mode, true, link);
		if (!err || err == -EPERM)
			return err;
		pr_warn("RX hash metadata unavailable on '%s' (%s): the device-"
			"bound program did not load or attach; going on without "
			"the hash", x->ifname, strerror(-err));
	}
	return load_attach(x, mode, false, link);
}

static void attach_error(const struct xfrag_xdp *x, int err, const char *mode)
{
	switch (err) {
	case -EPERM:
		perm_error("attaching the XDP program");
		break;
	case -ERANGE:
		pr_err("cannot attach the XDP program to '%s' in %s mode: the "
		       "MTU is too large for this device's XDP support",
		       x->ifname, mode);
		break;
	case -EOPNOTSUPP:
		pr_err("'%s' does not support %s XDP mode%s", x->ifname, mode,
		       strcmp(mode, "native") ? "" : " (try mode skb or auto)");
		break;
	case -EBUSY:
	case -EEXIST:
		pr_err("'%s' already has an XDP program that could not be "
		       "replaced (%s)", x->ifname, strerror(-err));
		break;
	default:
		pr_err("cannot attach the XDP program to '%s' in %s mode: %s "
		       "(raise the log level to INFO for libbpf's messages)",
		       x->ifname, mode, strerror(-err));
	}
}

struct xfrag_xdp *xfrag_xdp__attach(const struct xfrag_xdp_opts *opts)
{
	struct xfrag_xdp *x;
	struct log_hooks logs;
	enum xfrag_xdp_mode mode;
	enum xfrag_xdp_action action;
	bool hash, link;
	int err;

	if (!opts || !OPTS_VALID(opts, xfrag_xdp_opts)) {
		pr_err("xfrag_xdp__attach: options are required (ifname)");
		errno = EINVAL;
		return NULL;
	}
	mode = OPTS_GET(opts, mode, XFRAG_XDP_MODE_NATIVE);
	action = OPTS_GET(opts, action, XFRAG_XDP_REDIRECT);
	hash = OPTS_GET(opts, rx_hash, false);
	if ((unsigned int)mode > XFRAG_XDP_MODE_AUTO ||
	    (unsigned int)action > XFRAG_XDP_PASS) {
		pr_err("xfrag_xdp__attach: bad mode %d or action %d", mode, action);
		errno = EINVAL;
		return NULL;
	}

	x = calloc(1, sizeof(*x));
	if (!x) {
		errno = ENOMEM;
		return NULL;
	}
	x->link_fd = -1;
	atomic_init(&x->refs, 1);
	x->cfg.action = action;
	x->cfg.flags = OPTS_GET(opts, meta, false) ? XFRAG_RX_F_META : 0;
	{
		uint32_t every = OPTS_GET(opts, meta_every, 0);

		if (every > 32768 || (every && !is_pow2(every))) {
			pr_err("xfrag_xdp__attach: meta_every %u: must be a power of two up to 32768 (0 or 1: every frame)",
			       every);
			free(x);
			errno = EINVAL;
			return NULL;
		}
		x->cfg.meta_mask = every > 1 ? every - 1 : 0;
	}
	err = filter_to_cfg(OPTS_GET(opts, filter, NULL), &x->cfg);
	if (err)
		goto err_free;
	err = resolve_ifindex(OPTS_GET(opts, ifname, NULL),
			      OPTS_GET(opts, ifindex, 0), x->ifname);
	if (err < 0)
		goto err_free;
	x->ifindex = err;
	x->ncpus = libbpf_num_possible_cpus();
	if (x->ncpus <= 0) {
		err = x->ncpus ? x->ncpus : -EINVAL;
		goto err_free;
	}

	logs = hook_logs();
	ensure_bpffs();
	err = check_attached(x->ifindex, x->ifname,
			     OPTS_GET(opts, replace, false) ? STALE_REPLACE :
							      STALE_FAIL);
	if (err < 0)
		goto err_logs;
	link = !use_dispatcher(x->ifindex);

	if (hash && mode == XFRAG_XDP_MODE_SKB) {
		pr_warn("RX hash metadata needs native mode: going on without it");
		hash = false;
	}
	if (mode == XFRAG_XDP_MODE_SKB) {
		err = attach_mode(x, XDP_MODE_SKB, false, link);
		if (err)
			attach_error(x, err, "skb");
	} else {
		err = attach_mode(x, XDP_MODE_NATIVE, hash, link);
		if (err && mode == XFRAG_XDP_MODE_AUTO && err != -EPERM &&
		    err != -EBUSY && err != -EEXIST) {
			pr_warn("native XDP on '%s' failed (%s): falling back to "
				"skb (generic) mode, which is slower", x->ifname,
				strerror(-err));
			err = attach_mode(x, XDP_MODE_SKB, false, link);
			if (err)
				attach_error(x, err, "skb");
		} else if (err) {
			attach_error(x, err, "native");
		}
	}
	if (err)
		goto err_logs;
	unhook_logs(logs);
	x->attached = true;
	pr_info("attached XDP program %s (id %u) to '%s' in %s mode, %s",
		x->rx_hash ? XFRAG_RX_HASH_PROG_NAME : XFRAG_RX_PROG_NAME,
		x->prog_id, x->ifname, mode_name(x->attach_mode),
		link ? "through a bpf_link (detached by the kernel if the process dies)" :
		       "through libxdp's dispatcher");
	return x;

err_logs:
	unhook_logs(logs);
err_free:
	free(x);
	errno = -err;
	return NULL;
}

/*
 * Where the program is attached alone (no dispatcher, as on kernels without
 * freplace), detach it with libbpf, naming the program we expect so that a
 * replacement is never removed: libxdp 1.3.1's detach leaks a program fd
 * per call on that path (20 attach/detach cycles left 20 fds open).
 */
static int detach_prog(struct xfrag_xdp *x)
{
	__u32 flags = x->attach_mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE :
						       XDP_FLAGS_DRV_MODE;
	__u32 cur = 0;

	if (x->link_fd >= 0) {
		/* Detach even if a forked child still holds the link's fd. */
		if (bpf_link_detach(x->link_fd))
			return -errno;
		return 0;
	}
	if (!bpf_xdp_query_id(x->ifindex, (int)flags, &cur) &&
	    cur == xdp_program__id(x->prog)) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o,
			    .old_prog_fd = xdp_program__fd(x->prog));

		return bpf_xdp_detach(x->ifindex, flags | XDP_FLAGS_REPLACE, &o);
	}
	return xdp_program__detach(x->prog, x->ifindex, x->attach_mode, 0);
}

void xfrag_xdp_get(struct xfrag_xdp *x)
{
	atomic_fetch_add_explicit(&x->refs, 1, memory_order_relaxed);
}

void xfrag_xdp_put(struct xfrag_xdp *x)
{
	struct log_hooks logs;

	if (atomic_fetch_sub_explicit(&x->refs, 1, memory_order_acq_rel) != 1)
		return;
	logs = hook_logs();
	unload(x);
	unhook_logs(logs);
	free(x);
}

bool xfrag_xdp_annotates(const struct xfrag_xdp *x)
{
	return x->cfg.flags & XFRAG_RX_F_META;
}

void xfrag_xdp__detach(struct xfrag_xdp *x)
{
	struct log_hooks logs;
	int err;

	if (!x || !x->attached)
		return;
	logs = hook_logs();
	err = detach_prog(x);
	if (err)
		pr_warn("detaching the XDP program from '%s' failed: %s "
			"(was it replaced?)", x->ifname, strerror(-err));
	x->attached = false;
	unhook_logs(logs);
	/* Queues still using the XSKMAP keep the maps until they go. */
	xfrag_xdp_put(x);
}

int xfrag_xdp__detach_stale(const char *ifname)
{
	struct log_hooks logs;
	char name[IF_NAMESIZE];
	int ifindex, err;

	if (!ifname)
		return -EINVAL;
	ifindex = resolve_ifindex(ifname, 0, name);
	if (ifindex < 0)
		return ifindex;
	logs = hook_logs();
	err = check_attached(ifindex, name, STALE_REMOVE);
	unhook_logs(logs);
	return err;
}

int xfrag_xdp__set_xsk(struct xfrag_xdp *x, uint32_t queue, int xsk_fd)
{
	int err;

	if (!x || queue >= XFRAG_XDP_MAX_QUEUES || xsk_fd < 0)
		return -EINVAL;
	err = bpf_map_update_elem(bpf_map__fd(x->skel->maps.xsks_map), &queue,
				  &xsk_fd, BPF_ANY);
	if (err) {
		err = -errno;
		pr_err("cannot put socket fd %d in the XSKMAP slot of queue %u: %s",
		       xsk_fd, queue, strerror(-err));
	}
	return err;
}

int xfrag_xdp__clear_xsk(struct xfrag_xdp *x, uint32_t queue)
{
	if (!x || queue >= XFRAG_XDP_MAX_QUEUES)
		return -EINVAL;
	if (bpf_map_delete_elem(bpf_map__fd(x->skel->maps.xsks_map), &queue) &&
	    errno != ENOENT)
		return -errno;
	return 0;
}

int xfrag_xdp__counters(struct xfrag_xdp *x, uint32_t queue,
			struct xfrag_xdp_counters *out)
{
	struct xfrag_rx_counters *percpu, sum = { 0 };
	uint32_t q, first = queue, last = queue;
	int fd, cpu, err = 0;
	size_t n;

	if (!x || !out || out->sz < sizeof(size_t))
		return -EINVAL;
	if (queue == XFRAG_XDP_ALL_QUEUES) {
		first = 0;
		last = XFRAG_XDP_MAX_QUEUES - 1;
	} else if (queue >= XFRAG_XDP_MAX_QUEUES) {
		return -EINVAL;
	}
	percpu = calloc((size_t)x->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	fd = bpf_map__fd(x->skel->maps.xfrag_counters);
	for (q = first; q <= last; q++) {
		if (bpf_map_lookup_elem(fd, &q, percpu)) {
			err = -errno;
			goto out;
		}
		for (cpu = 0; cpu < x->ncpus; cpu++) {
			const __u64 *src = (const __u64 *)&percpu[cpu];
			__u64 *dst = (__u64 *)&sum;
			size_t i;

			for (i = 0; i < sizeof(sum) / sizeof(__u64); i++)
				dst[i] += src[i];
		}
	}
	{
		/* The program orders its counters for its cache line. */
		struct xfrag_xdp_counters pub = {
			.sz = sizeof(pub),
			.seen = sum.seen,
			.matched = sum.matched,
			.redirected = sum.redirected,
			.passed = sum.passed,
			.dropped = sum.dropped,
			.redirect_failed = sum.redirect_failed,
			.malformed = sum.malformed,
			.seen_bytes = sum.seen_bytes,
			.redirected_bytes = sum.redirected_bytes,
			.meta_failed = sum.meta_failed,
		};

		/* Fill what the caller's struct has room for, nothing beyond. */
		n = out->sz < sizeof(pub) ? out->sz : sizeof(pub);
		memcpy((char *)out + sizeof(size_t), (char *)&pub + sizeof(size_t),
		       n - sizeof(size_t));
	}
out:
	free(percpu);
	return err;
}

static int write_cfg(struct xfrag_xdp *x, const struct xfrag_rx_cfg *cfg)
{
	int zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.data), &zero, cfg,
				BPF_ANY)) {
		int err = -errno;

		pr_err("cannot update the XDP program's configuration: %s",
		       strerror(-err));
		return err;
	}
	x->cfg = *cfg;
	return 0;
}

int xfrag_xdp__set_filter(struct xfrag_xdp *x,
			  const struct xfrag_xdp_filter *filter)
{
	struct xfrag_rx_cfg cfg;
	int err;

	if (!x)
		return -EINVAL;
	cfg = x->cfg;
	err = filter_to_cfg(filter, &cfg);
	return err ? err : write_cfg(x, &cfg);
}

int xfrag_xdp__set_action(struct xfrag_xdp *x, enum xfrag_xdp_action action)
{
	struct xfrag_rx_cfg cfg;

	if (!x || (unsigned int)action > XFRAG_XDP_PASS)
		return -EINVAL;
	cfg = x->cfg;
	cfg.action = action;
	return write_cfg(x, &cfg);
}

int xfrag_xdp__ifindex(const struct xfrag_xdp *x)
{
	return x ? x->ifindex : -EINVAL;
}

enum xfrag_xdp_mode xfrag_xdp__mode(const struct xfrag_xdp *x)
{
	return x && x->attach_mode == XDP_MODE_SKB ? XFRAG_XDP_MODE_SKB :
						     XFRAG_XDP_MODE_NATIVE;
}

uint32_t xfrag_xdp__prog_id(const struct xfrag_xdp *x)
{
	return x ? x->prog_id : 0;
}

bool xfrag_xdp__rx_hash(const struct xfrag_xdp *x)
{
	return x && x->rx_hash;
}

int xfrag_xdp__xsks_map_fd(const struct xfrag_xdp *x)
{
	return x ? bpf_map__fd(x->skel->maps.xsks_map) : -EINVAL;
}
