// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Standalone driver for the fuzz targets when libFuzzer is unavailable.
 *
 *   fuzz-x [-t SECONDS] [-n MIN] [-N MAX]   pseudo-random inputs (fixed seed)
 *   fuzz-x FILE...                          replay the files named
 *
 * A run is bounded by time, not by count: inputs are fed until SECONDS have
 * passed, but at least MIN of them (so that a slow machine still runs some)
 * and at most MAX (0: no limit). The same seed gives the same sequence, so
 * a failure at input k is reproduced by any run that reaches k.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf[4096];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_num(const char *opt, const char *s, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > max) {
		fprintf(stderr, "fuzz driver: bad %s '%s'\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int replay(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;

		if (!f) {
			fprintf(stderr, "fuzz driver: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%d file(s) replayed\n", argc);
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = 10, min = 100, max = 0, t0, dt;
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	uint64_t x = 0x9E3779B97F4A7C15ULL, r;
	int c;

	while ((c = getopt(argc, argv, "t:n:N:")) != -1) {
		switch (c) {
		case 't':
			if (parse_num("time budget (-t)", optarg, 1e6, &seconds))
				return 2;
			break;
		case 'n':
			if (parse_num("minimum count (-n)", optarg, 1e15, &min))
				return 2;
			break;
		case 'N':
			if (parse_num("maximum count (-N)", optarg, 1e15, &max))
				return 2;
			break;
		default:
			fprintf(stderr, "usage: %s [-t SECONDS] [-n MIN] [-N MAX] | FILE...\n", name);
			return 2;
		}
	}
	if (optind < argc)
		return replay(argc - optind, argv + optind);
	if (max && max < min) {
		fprintf(stderr, "%s: maximum count %.0f is below the minimum %.0f\n", name, max, min);
		return 2;
	}

	t0 = now();
	for (r = 0;; r++) {
		size_t n, i;

		/* The clock is read once per input: one input costs at most a few
		 * ms even under ASan, so the budget is overrun by no more. */
		if (max && r >= (uint64_t)max)
			break;
		if (r >= (uint64_t)min && now() - t0 >= seconds)
			break;
		n = 1 + (size_t)(x % sizeof(buf));
		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	dt = now() - t0;
	printf("%s: %" PRIu64 " inputs ok in %.1f s (budget %g s, at least %.0f)\n",
	       name, r, dt, seconds, min);
	return 0;
}
