// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Logging through an application callback; the library never prints on its own. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

__attribute__((format(printf, 2, 0))) static void
default_log(enum xfrag_log_level level, const char *fmt,
			va_list ap)
{
	fprintf(stderr, "xfrag: %s", level == XFRAG_LOG_ERROR ? "error: " :
				     level == XFRAG_LOG_WARN  ? "warning: " : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static _Atomic(xfrag_log_fn) log_fn = default_log;
static _Atomic int log_max = XFRAG_LOG_WARN;

xfrag_log_fn xfrag_set_log(xfrag_log_fn fn, enum xfrag_log_level max_level)
{
	atomic_store(&log_max, (int)max_level);
	return atomic_exchange(&log_fn, fn);
}

void xfrag_log(enum xfrag_log_level level, const char *fmt, ...)
{
	xfrag_log_fn fn = atomic_load(&log_fn);
	va_list ap;

	if (!fn || (int)level > atomic_load(&log_max))
		return;
	va_start(ap, fmt);
	fn(level, fmt, ap);
	va_end(ap);
}

const char *xfrag_strerror(int err)
{
	switch (-err) {
	case ENOBUFS:
		return "frag pool empty: no free block (release frags, or use a larger UMEM)";
	case EINVAL:
		return "invalid argument";
	case EPERM:
		return "operation not permitted (needs CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN or root)";
	case ENODEV:
		return "no such network interface";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

bool xfrag_opts_valid(const void *opts, size_t user_sz, size_t our_sz,
		      const char *name)
{
	const char *p = opts;
	size_t i;

	if (user_sz < sizeof(size_t)) {
		pr_err("%s: sz %zu is too small", name, user_sz);
		return false;
	}
	for (i = our_sz; i < user_sz; i++)
		if (p[i]) {
			pr_err("%s: caller sets fields this library (sz %zu) does not know",
			       name, our_sz);
			return false;
		}
	return true;
}
