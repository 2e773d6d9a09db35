// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* gen's token-bucket pacing. See pacer.h. */
#include <math.h>
#include <time.h>

#include "bench.h"
#include "pacer.h"

void pacer_init(struct pacer *p, uint64_t rate, uint32_t batch, uint64_t now)
{
	p->rate = rate;
	p->burst = batch;
	p->group = floor((double)rate * 50e-6);
	if (p->group < 1)
		p->group = 1;
	if (p->group > batch)
		p->group = batch;
	p->tokens = 1;
	p->last = now;
}

unsigned int pacer_take(struct pacer *p, unsigned int want, uint64_t now)
{
	unsigned int n = 0;
	double need;

	if (!p->rate)
		return want;
	p->tokens += (double)(now - p->last) * (double)p->rate * 1e-9;
	p->last = now;
	if (p->tokens > p->burst)
		p->tokens = p->burst;
	need = want < p->group ? want : p->group;
	if (want && p->tokens >= need) {
		n = p->tokens < want ? (unsigned int)p->tokens : want;
		p->tokens -= n;
	}
	if (!n && want) {
		double wait_ns = (need - p->tokens) * 1e9 / (double)p->rate;

		if (wait_ns > 100e3) {
			struct timespec ts = { 0, (long)(wait_ns - 50e3) };

			if (wait_ns - 50e3 >= 1e9)
				ts = (struct timespec){ 0, 999999999 };
			nanosleep(&ts, NULL);
		} else {
			cpu_relax();
		}
	}
	return n;
}

void pacer_return(struct pacer *p, unsigned int n)
{
	if (p->rate)
		p->tokens += n;
}
