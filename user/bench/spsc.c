// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The thread hand-off ring. See spsc.h. */
#include <stdlib.h>

#include "spsc.h"

struct spsc *spsc_new(uint32_t frames)
{
	uint32_t cap = 1;
	size_t size;
	struct spsc *r;

	while (cap < frames && cap < (1u << 30))
		cap <<= 1;
	size = sizeof(*r) + (size_t)cap * sizeof(struct xfrag_pkt);
	/* aligned_alloc() wants a multiple of the alignment */
	size = (size + 63) & ~(size_t)63;
	r = aligned_alloc(64, size);
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->mask = cap - 1;
	return r;
}

void spsc_free(struct spsc *r)
{
	free(r);
}
