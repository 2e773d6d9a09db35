// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Interface and socket queries. See device.h. */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static int ifreq_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr))
		err = -errno;
	close(fd);
	return err;
}

uint32_t dev_rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { .ifr_data = (void *)&ch };
	char path[128];
	uint32_t n = 0;
	int i;

	if (!ifreq_ioctl(ifname, SIOCETHTOOL, &ifr) && ch.rx_count + ch.combined_count)
		return ch.rx_count + ch.combined_count;
	for (i = 0; i < 4096; i++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/queues/rx-%d", ifname, i);
		if (access(path, F_OK))
			break;
		n++;
	}
	return n;
}

uint32_t dev_mtu(const char *ifname)
{
	struct ifreq ifr = { 0 };

	return ifreq_ioctl(ifname, SIOCGIFMTU, &ifr) ? 0 : (uint32_t)ifr.ifr_mtu;
}

bool xsk_zerocopy(int fd)
{
	struct xdp_options o = { 0 };
	socklen_t len = sizeof(o);

	return fd >= 0 && !getsockopt(fd, SOL_XDP, XDP_OPTIONS, &o, &len) &&
	       (o.flags & XDP_OPTIONS_ZEROCOPY);
}
