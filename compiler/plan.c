// SPDX-License-Identifier: MIT
/*
 * Activation memory planning. Each virtual buffer lives from the first to
 * the last op naming it; buffers whose lives overlap get disjoint bytes.
 * Greedy by decreasing size, each at the lowest offset that fits between
 * the live neighbours already placed (the classic offset-assignment
 * heuristic: near optimal for the short, nested lives of a transformer).
 */
#include <stdlib.h>

#include "lower.h"
#include "plan.h"

#define PLAN_ALIGN 64

static const struct lc_vbuf *sort_vb;

static int by_size(const void *a, const void *b)
{
	const struct lc_vbuf *x = &sort_vb[*(const uint32_t *)a];
	const struct lc_vbuf *y = &sort_vb[*(const uint32_t *)b];

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return x->first < y->first ? -1 : x->first > y->first;
}

static int by_offset(const void *a, const void *b)
{
	const struct lc_vbuf *x = *(const struct lc_vbuf *const *)a;
	const struct lc_vbuf *y = *(const struct lc_vbuf *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static uint64_t align_up(uint64_t v)
{
	return (v + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
}

int lc_plan(struct lc_vbuf *vb, uint32_t n, uint64_t *total)
{
	uint32_t *order = malloc((n ? n : 1) * sizeof(*order));
	const struct lc_vbuf **live = malloc((n ? n : 1) * sizeof(*live));
	uint64_t end = 0;

	if (!order || !live) {
		free(order);
		free(live);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	sort_vb = vb;
	qsort(order, n, sizeof(*order), by_size);
	for (uint32_t k = 0; k < n; k++) {
		struct lc_vbuf *b = &vb[order[k]];
		uint32_t n_live = 0;
		uint64_t at = 0;

		for (uint32_t j = 0; j < k; j++) {
			const struct lc_vbuf *o = &vb[order[j]];

			if (o->first <= b->last && b->first <= o->last)
				live[n_live++] = o;
		}
		qsort(live, n_live, sizeof(*live), by_offset);
		for (uint32_t j = 0; j < n_live; j++) {
			if (live[j]->offset >= at + b->size)
				break;	/* fits in the gap before it */
			if (live[j]->offset + live[j]->size > at)
				at = align_up(live[j]->offset + live[j]->size);
		}
		b->offset = at;
		if (at + b->size > end)
			end = at + b->size;
	}
	free(order);
	free(live);
	*total = align_up(end);
	return 0;
}
