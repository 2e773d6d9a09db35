/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xfrag common definitions: export macro, options-struct helpers, logging.
 *
 * Every options struct begins with `size_t sz` and only ever grows at its
 * end (the libbpf convention), so a program built against an older header
 * keeps working with a newer library. Declare one with XFRAG_OPTS().
 */
#ifndef XFRAG_COMMON_H
#define XFRAG_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef XFRAG_API
#define XFRAG_API __attribute__((visibility("default")))
#endif

#define XFRAG_VERSION_MAJOR 0
#define XFRAG_VERSION_MINOR 1

#ifndef XFRAG_CACHELINE
#define XFRAG_CACHELINE 64
#endif

/* Hot loops the compiler would leave rolled at -O2. */
#define XFRAG_UNROLL8 _Pragma("GCC unroll 8")
#define XFRAG_UNROLL4 _Pragma("GCC unroll 4")

#define xfrag_likely(x) __builtin_expect(!!(x), 1)
#define xfrag_unlikely(x) __builtin_expect(!!(x), 0)

/*
 * XFRAG_OPTS(xfrag_umem_opts, o, .size = 1 << 24) declares a zeroed options
 * struct with its sz field set, like libbpf's LIBBPF_OPTS.
 */
#define XFRAG_OPTS(TYPE, NAME, ...)                                        \
	struct TYPE NAME = ({                                              \
		memset(&NAME, 0, sizeof(struct TYPE));                     \
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };   \
	})

enum xfrag_log_level {
	XFRAG_LOG_ERROR = 0,
	XFRAG_LOG_WARN = 1,
	XFRAG_LOG_INFO = 2,
	XFRAG_LOG_DEBUG = 3,
};

typedef void (*xfrag_log_fn)(enum xfrag_log_level level, const char *fmt,
			     va_list ap);

/**
 * xfrag_set_log() - route the library's messages to @fn
 * @fn: callback, or NULL to silence the library
 * @max_level: messages above this level are not formatted at all
 *
 * The library never prints on its own initiative except through this
 * callback. The default callback writes WARN and ERROR to stderr.
 *
 * Return: the previous callback.
 */
XFRAG_API xfrag_log_fn xfrag_set_log(xfrag_log_fn fn,
				     enum xfrag_log_level max_level);

/**
 * xfrag_strerror() - describe an xfrag error code
 * @err: a negative errno returned by the library
 *
 * Return: a static string; xfrag-specific wording where the library gives a
 * code a narrower meaning than strerror() (e.g. -ENOBUFS: frag pool empty).
 */
XFRAG_API const char *xfrag_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif /* XFRAG_COMMON_H */
