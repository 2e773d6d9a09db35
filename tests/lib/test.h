/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A tiny test harness: expect_*() records a failure and continues,
 * assert_*() records it and stops the test. TEST_MAIN runs the listed
 * tests and exits 0, 1 (failures) or 77 (skipped, Meson's convention).
 */
#ifndef XFRAG_TEST_H
#define XFRAG_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static jmp_buf test_abort;

static inline void test_fail_(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void test_fail_(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: FAIL: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	test_failures++;
}

#define expect_true(c)                                                         \
	((c) ? 1 : (test_fail_(__FILE__, __LINE__, "%s", #c), 0))
#define expect_eq(a, b)                                                        \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_)                                                  \
			test_fail_(__FILE__, __LINE__, "%s == %s (%lld != %lld)", \
				   #a, #b, a_, b_);                            \
	} while (0)
#define expect_ne(a, b)                                                        \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ == b_)                                                  \
			test_fail_(__FILE__, __LINE__, "%s != %s (both %lld)", \
				   #a, #b, a_);                                \
	} while (0)
#define assert_true(c)                                                         \
	do {                                                                   \
		if (!expect_true(c))                                           \
			longjmp(test_abort, 1);                                \
	} while (0)
#define assert_eq(a, b)                                                        \
	do {                                                                   \
		int f_ = test_failures;                                        \
		expect_eq(a, b);                                               \
		if (f_ != test_failures)                                       \
			longjmp(test_abort, 1);                                \
	} while (0)

struct test_case {
	const char *name;
	void (*fn)(void);
};

static inline int test_run(const struct test_case *t, size_t n, int argc,
			   char **argv)
{
	volatile size_t i;
	volatile int failed = 0, ran = 0;

	for (i = 0; i < n; i++) {
		int before = test_failures;

		if (argc > 1 && !strstr(t[i].name, argv[1]))
			continue;
		ran++;
		if (!setjmp(test_abort))
			t[i].fn();
		printf("%s %s\n", test_failures == before ? "ok  " : "FAIL", t[i].name);
		if (test_failures != before)
			failed++;
	}
	printf("%d passed, %d failed\n", ran - failed, failed);
	return failed ? 1 : 0;
}

#define TEST(name) static void name(void)
#define TEST_MAIN(...)                                                         \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		static const struct test_case tests_[] = { __VA_ARGS__ };      \
		return test_run(tests_, sizeof(tests_) / sizeof(tests_[0]),    \
				argc, argv);                                   \
	}
#define T(fn) { #fn, fn }

#endif
