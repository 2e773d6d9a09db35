// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Standalone driver for fuzz targets when libFuzzer is unavailable:
 * feeds N pseudo-random inputs (fixed seed), or the files named. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	static uint8_t buf[4096];
	unsigned long runs = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000, r;
	uint64_t x = 0x9E3779B97F4A7C15ULL;

	if (argc > 1 && runs == 0) {
		for (int i = 1; i < argc; i++) {
			FILE *f = fopen(argv[i], "rb");
			size_t n;

			if (!f)
				return 2;
			n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			LLVMFuzzerTestOneInput(buf, n);
		}
		return 0;
	}
	for (r = 0; r < runs; r++) {
		size_t n = 1 + (size_t)(x % sizeof(buf)), i;

		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%lu inputs ok\n", runs);
	return 0;
}
