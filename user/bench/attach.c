// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The xfrag XDP program's options and attach, for rx and xdp-drop. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "signals.h"

void prog_cfg_init(struct prog_cfg *p)
{
	memset(p, 0, sizeof(*p));
	parse_filter("udp", &p->filter, &p->all);
	p->filter_str = "udp";
	p->mode = XFRAG_XDP_MODE_AUTO;
}

static int parse_ports(const char *s, struct xfrag_xdp_filter *f)
{
	char *end;
	unsigned long lo, hi;

	errno = 0;
	lo = strtoul(s, &end, 10);
	if (errno || end == s || lo < 1 || lo > 65535)
		return -1;
	hi = lo;
	if (*end == '-') {
		s = end + 1;
		hi = strtoul(s, &end, 10);
		if (errno || end == s || hi < lo || hi > 65535)
			return -1;
	}
	if (*end)
		return -1;
	f->port_lo = (uint16_t)lo;
	f->port_hi = (uint16_t)hi;
	return 0;
}

int parse_filter(const char *s, struct xfrag_xdp_filter *f, bool *all)
{
	char buf[64], *tok, *save = NULL;

	memset(f, 0, sizeof(*f));
	f->sz = sizeof(*f);
	*all = false;
	if (!strcmp(s, "all")) {
		*all = true;
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	tok = strtok_r(buf, ":", &save);
	if (tok && (!strcmp(tok, "ipv4") || !strcmp(tok, "ip") || !strcmp(tok, "ipv6"))) {
		f->ip_version = tok[3] == '6' ? 6 : 4;
		tok = strtok_r(NULL, ":", &save);
	}
	if (tok && (!strcmp(tok, "udp") || !strcmp(tok, "tcp"))) {
		f->l4_proto = tok[0] == 'u' ? IPPROTO_UDP : IPPROTO_TCP;
		tok = strtok_r(NULL, ":", &save);
		if (tok && parse_ports(tok, f))
			return -1;
		if (tok)
			tok = strtok_r(NULL, ":", &save);
	}
	if (tok || (!f->ip_version && !f->l4_proto))
		return -1;
	return 0;
}

int opt_filter(void *field, const char *arg, char *why, size_t len)
{
	struct prog_cfg *p = field;

	if (parse_filter(arg, &p->filter, &p->all))
		return -1;
	p->filter_str = arg;
	return 0;
}

int opt_xdp_mode(void *field, const char *arg, char *why, size_t len)
{
	enum xfrag_xdp_mode *m = field;

	if (!strcmp(arg, "native") || !strcmp(arg, "drv"))
		*m = XFRAG_XDP_MODE_NATIVE;
	else if (!strcmp(arg, "skb") || !strcmp(arg, "generic"))
		*m = XFRAG_XDP_MODE_SKB;
	else if (!strcmp(arg, "auto"))
		*m = XFRAG_XDP_MODE_AUTO;
	else
		return -1;
	return 0;
}

struct xfrag_xdp *prog_attach(const char *cmd, const char *ifname,
			      const struct prog_cfg *p, enum xfrag_xdp_action action,
			      bool meta, uint32_t meta_every)
{
	XFRAG_OPTS(xfrag_xdp_opts, xo, .ifname = ifname, .mode = p->mode,
		   .filter = p->all ? NULL : &p->filter, .action = action,
		   .meta = meta, .replace = p->replace, .meta_every = meta_every);
	struct xfrag_xdp *xdp = xfrag_xdp__attach(&xo);
	int err = errno;

	if (!xdp) {
		if (err == EEXIST)
			fprintf(stderr, "%s: %s has a stale xfrag XDP program: rerun with --replace\n",
				cmd, ifname);
		else if (err == EPERM)
			fprintf(stderr, "%s: attaching XDP needs root (CAP_NET_ADMIN, CAP_BPF)\n", cmd);
		else
			fprintf(stderr, "%s: cannot attach the XDP program to %s: %s\n",
				cmd, ifname, xfrag_strerror(-err));
		return NULL;
	}
	fatal_detach_arm(xfrag_xdp__ifindex(xdp), xfrag_xdp__prog_id(xdp),
			 xfrag_xdp__mode(xdp) == XFRAG_XDP_MODE_SKB);
	return xdp;
}

const char *prog_mode_name(const struct xfrag_xdp *xdp)
{
	return xfrag_xdp__mode(xdp) == XFRAG_XDP_MODE_SKB ? "skb" : "native";
}
