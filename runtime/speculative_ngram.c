// SPDX-License-Identifier: MIT
/*
 * Prompt / n-gram lookup: the context's last n tokens are looked for
 * earlier in the context (longest n first, latest occurrence first) and
 * the tokens that followed are proposed. No second model and no device
 * work: a miss costs one backwards scan of the context, microseconds
 * next to a decode submission, and then the loop decodes as usual.
 */
#include <stdlib.h>

#include "speculative.h"

#define NGRAM_MIN_DEFAULT 1
#define NGRAM_MAX_DEFAULT 4

struct ngram {
	struct spec_drafter base;
	uint32_t min, max;
};

/* the latest i < n - len with hist[i .. i + len) equal to the last len tokens */
static long find_earlier(const int32_t *hist, size_t n, size_t len)
{
	const int32_t *tail = hist + n - len;

	for (size_t i = n - len; i-- > 0;) {
		size_t j = 0;

		while (j < len && hist[i + j] == tail[j])
			j++;
		if (j == len)
			return (long)i;
	}
	return -1;
}

static int ngram_draft(struct spec_drafter *d, const int32_t *hist, size_t n,
		       uint32_t k, int32_t *out, uint32_t *n_out)
{
	struct ngram *g = (struct ngram *)d;

	*n_out = 0;
	for (size_t len = g->max; len >= g->min && len; len--) {
		long at;
		size_t from, take;

		if (len >= n)
			continue;
		at = find_earlier(hist, n, len);
		if (at < 0)
			continue;
		from = (size_t)at + len;	/* < n: the match ends before the tail */
		take = n - from < k ? n - from : k;
		for (size_t i = 0; i < take; i++)
			out[i] = hist[from + i];
		*n_out = (uint32_t)take;
		return 0;
	}
	return 0;
}

static void ngram_destroy(struct spec_drafter *d)
{
	free(d);
}

int spec_ngram_create(const struct lumen_spec_params *p,
		      struct spec_drafter **out)
{
	struct ngram *g;
	uint32_t min = p->ngram_min ? p->ngram_min : NGRAM_MIN_DEFAULT;
	uint32_t max = p->ngram_max ? p->ngram_max : NGRAM_MAX_DEFAULT;

	*out = NULL;
	if (min > max || max > 64)
		return lumen_fail(LUMEN_E_INVAL,
				  "n-gram lengths %u..%u: want 1 <= min <= max <= 64",
				  min, max);
	g = calloc(1, sizeof(*g));
	if (!g)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	g->base.draft = ngram_draft;
	g->base.destroy = ngram_destroy;
	g->min = min;
	g->max = max;
	*out = &g->base;
	return 0;
}
