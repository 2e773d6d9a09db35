/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What rx asks the kernel about an interface and a socket. */
#ifndef XFRAG_BENCH_DEVICE_H
#define XFRAG_BENCH_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

/* The device's rx queues (ethtool channels, else sysfs); 0 if unknown. */
uint32_t dev_rx_queues(const char *ifname);
/* The MTU; 0 if unknown. */
uint32_t dev_mtu(const char *ifname);
/* True if the AF_XDP socket @fd is bound in zero-copy mode (XDP_OPTIONS). */
bool xsk_zerocopy(int fd);

#endif
