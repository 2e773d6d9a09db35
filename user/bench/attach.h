/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The XDP program as rx and xdp-drop attach it: its options (--filter,
 * --xdp-mode, -N, -S, --replace), the attach with one set of messages for
 * what can go wrong, and the crash-time detach armed right after.
 */
#ifndef XFRAG_BENCH_ATTACH_H
#define XFRAG_BENCH_ATTACH_H

#include <stdbool.h>

#include "params.h"
#include "xfrag/xdp.h"

struct prog_cfg {
	struct xfrag_xdp_filter filter;
	bool all;               /* --filter all: every frame, malformed ones too */
	const char *filter_str; /* as given, for the reports */
	enum xfrag_xdp_mode mode;
	bool replace;
};

/* The default: UDP, native mode with an skb fallback. */
void prog_cfg_init(struct prog_cfg *p);

/* all | [ipv4|ipv6][:](udp|tcp)[:PORT[-PORT]] | ipv4 | ipv6; -1 if malformed */
int parse_filter(const char *s, struct xfrag_xdp_filter *f, bool *all);

int opt_filter(void *field, const char *arg, char *why, size_t len);
int opt_xdp_mode(void *field, const char *arg, char *why, size_t len);

#define FILTER_HINT ": use all, udp, udp:PORT, udp:LO-HI, tcp, tcp:PORT, ipv4, ipv6, ipv6:udp:PORT"

/*
 * The rows of the program's options, for a table whose config type
 * @cfg_type holds a struct prog_cfg in @m; @filter_help says what the
 * filter picks.
 */
#define PROG_OPTS(cfg_type, m, filter_help)                                        \
	{ .name = "filter", .type = OPT_FUNC, OPT_FIELD(cfg_type, m),              \
	  .parse = opt_filter, .metavar = "F", .hint = FILTER_HINT,            \
	  .help = filter_help },                                               \
	{ .name = "xdp-mode", .type = OPT_FUNC, OPT_FIELD(cfg_type, m.mode),       \
	  .parse = opt_xdp_mode, .metavar = "M", .what = "XDP mode",           \
	  .hint = ": native, skb or auto",                                     \
	  .help = "native, skb or auto (default auto: native, else skb)" },    \
	{ .short_opt = 'N', .type = OPT_SET, OPT_FIELD(cfg_type, m.mode),          \
	  .set = XFRAG_XDP_MODE_NATIVE, .help = "the same as --xdp-mode native" }, \
	{ .short_opt = 'S', .type = OPT_SET, OPT_FIELD(cfg_type, m.mode),          \
	  .set = XFRAG_XDP_MODE_SKB, .help = "the same as --xdp-mode skb" },   \
	{ .name = "replace", .type = OPT_BOOL, OPT_FIELD(cfg_type, m.replace),     \
	  .help = "take the interface over from another xfrag XDP program\n"  \
		  "(a stale one, or one a running process holds)" }

/**
 * prog_attach() - attach the xfrag program, or say why not
 * @cmd: the subcommand, for the messages
 * @ifname: the interface
 * @p: filter, mode, replace
 * @action: XFRAG_XDP_REDIRECT or XFRAG_XDP_DROP
 * @meta: put struct xfrag_meta in front of redirected frames
 * @meta_every: ... one frame in this many (0 or 1: every frame)
 *
 * Arms fatal_detach_arm() for the program it attached.
 * Return: the attachment, or NULL after a message naming the cause.
 */
struct xfrag_xdp *prog_attach(const char *cmd, const char *ifname,
			      const struct prog_cfg *p, enum xfrag_xdp_action action,
			      bool meta, uint32_t meta_every);

/* "skb" or "native": the mode the program runs in */
const char *prog_mode_name(const struct xfrag_xdp *xdp);

#endif
