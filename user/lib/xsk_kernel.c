// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel behind struct xfrag_xsk_ops: plain system calls, and the
 * device facts read from sysfs.
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "xsk_ops.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

static int read_sysfs(const char *ifname, const char *attr, char *buf,
		      size_t len)
{
	char path[160];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return -EIO;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Real queues of the device: what `ethtool -l` calls channels. */
static uint32_t count_queues(const char *ifname, const char *prefix)
{
	char path[160];
	struct dirent *de;
	uint32_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

/*
 * /sys/class/net/IF/device/iommu_group/type: "identity" is passthrough
 * (DMA address = physical), "DMA"/"DMA-FQ" translate page by page. A device
 * without an IOMMU group has none; an interface without a device (veth) is
 * software and never does zero-copy DMA.
 */
static uint8_t dma_kind(const char *ifname)
{
	char buf[64];
	int err;

	if (read_sysfs(ifname, "device/uevent", buf, sizeof(buf)) == -ENOENT)
		return XFRAG_DMA_UNKNOWN;
	err = read_sysfs(ifname, "device/iommu_group/type", buf, sizeof(buf));
	if (err == -ENOENT)
		return XFRAG_DMA_DIRECT;
	if (err)
		return XFRAG_DMA_TRANSLATED; /* cannot tell: assume the worst */
	return strcmp(buf, "identity") ? XFRAG_DMA_TRANSLATED : XFRAG_DMA_IDENTITY;
}

/* ethtool -g: how many buffers a zero-copy driver keeps posted. */
static uint32_t rx_ring_size(const char *ifname)
{
	struct ethtool_ringparam rp = { .cmd = ETHTOOL_GRINGPARAM };
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint32_t n = 0;

	if (s < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&rp;
	if (!ioctl(s, SIOCETHTOOL, &ifr))
		n = rp.rx_pending;
	close(s);
	return n;
}

static int k_dev_info(void *ctx, const char *ifname, int ifindex,
		      struct xfrag_dev_info *di)
{
	char buf[64];
	unsigned long flags = 0;

	memset(di, 0, sizeof(*di));
	if (ifname) {
		if (strlen(ifname) >= IF_NAMESIZE)
			return -ENODEV;
		ifindex = (int)if_nametoindex(ifname);
		if (!ifindex)
			return -ENODEV;
	}
	if (ifindex <= 0 || !if_indextoname((unsigned int)ifindex, di->name))
		return -ENODEV;
	di->ifindex = ifindex;
	if (!read_sysfs(di->name, "mtu", buf, sizeof(buf)))
		di->mtu = (uint32_t)strtoul(buf, NULL, 10);
	if (!read_sysfs(di->name, "flags", buf, sizeof(buf)))
		flags = strtoul(buf, NULL, 16);
	di->up = flags & IFF_UP;
	di->rx_queues = count_queues(di->name, "rx-");
	di->tx_queues = count_queues(di->name, "tx-");
	di->dma = dma_kind(di->name);
	di->rx_ring = rx_ring_size(di->name);
	return 0;
}

static int k_socket(void *ctx)
{
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

static int k_setsockopt(void *ctx, int fd, int level, int name,
			const void *val, socklen_t len)
{
	return setsockopt(fd, level, name, val, len) ? -errno : 0;
}

static int k_getsockopt(void *ctx, int fd, int level, int name, void *val,
			socklen_t *len)
{
	return getsockopt(fd, level, name, val, len) ? -errno : 0;
}

static int k_mmap(void *ctx, int fd, size_t len, off_t pgoff, void **out)
{
	/* MAP_POPULATE: the ring pages are touched on every batch anyway. */
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, pgoff);

	if (p == MAP_FAILED)
		return -errno;
	/* A forked child must not inherit the rings: its mapping would keep
	 * the socket alive after we close it. */
	madvise(p, len, MADV_DONTFORK);
	*out = p;
	return 0;
}

static int k_munmap(void *ctx, void *addr, size_t len)
{
	return munmap(addr, len) ? -errno : 0;
}

static int k_bind(void *ctx, int fd, const struct sockaddr_xdp *sxdp)
{
	return bind(fd, (const struct sockaddr *)sxdp, sizeof(*sxdp)) ? -errno : 0;
}

static int k_close(void *ctx, int fd)
{
	return close(fd) ? -errno : 0;
}

static int k_kick(void *ctx, int fd, bool tx)
{
	ssize_t r = tx ? sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) :
			 recvfrom(fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);

	return r < 0 ? -errno : 0;
}

static int k_map_update(void *ctx, int map_fd, uint32_t key, int fd)
{
	return bpf_map_update_elem(map_fd, &key, &fd, BPF_ANY) ? -errno : 0;
}

static int k_map_delete(void *ctx, int map_fd, uint32_t key)
{
	if (bpf_map_delete_elem(map_fd, &key) && errno != ENOENT)
		return -errno;
	return 0;
}

const struct xfrag_xsk_ops xfrag_kernel_ops = {
	.dev_info = k_dev_info,
	.socket = k_socket,
	.setsockopt = k_setsockopt,
	.getsockopt = k_getsockopt,
	.mmap = k_mmap,
	.munmap = k_munmap,
	.bind = k_bind,
	.close = k_close,
	.kick = k_kick,
	.map_update = k_map_update,
	.map_delete = k_map_delete,
};
