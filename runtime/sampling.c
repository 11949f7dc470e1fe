// SPDX-License-Identifier: MIT
#include <lumen/sampling.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lumen_fail.h"

struct cand {
	float logit;
	int32_t id;
};

struct lumen_sampler {
	struct lumen_sampler_params p;
	uint32_t n_vocab;
	struct cand *cand;	/* n_vocab: the working set */
	int32_t *out_ids;	/* n_vocab: lumen_sampler_candidates() */
	float *out_probs;
	int32_t *window;	/* the last repeat_last_n accepted tokens */
	uint32_t window_len, window_pos;
	uint32_t *count;	/* n_vocab: occurrences in the window */
	uint32_t *stamp;	/* n_vocab: penalised in round @round */
	uint32_t round;
	uint64_t rng[4];
};

struct lumen_sampler_params lumen_sampler_default_params(void)
{
	return (struct lumen_sampler_params){
		.temperature = 0.8f, .top_k = 40, .top_p = 0.95f,
		.min_p = 0.05f, .repeat_penalty = 1.0f, .repeat_last_n = 64,
	};
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro256ss(uint64_t s[4])
{
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double lumen_sampler_uniform(struct lumen_sampler *s)
{
	/* the top 53 bits: every double in [0, 1) on a grid of 2^-53 */
	return (double)(xoshiro256ss(s->rng) >> 11) * 0x1.0p-53;
}

void lumen_sampler_reset(struct lumen_sampler *s, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		s->rng[i] = splitmix64(&seed);
	for (uint32_t i = 0; i < s->window_len; i++)
		s->count[s->window[i]] = 0;
	s->window_len = s->window_pos = 0;
}

int lumen_sampler_create(uint32_t n_vocab, const struct lumen_sampler_params *p,
			 struct lumen_sampler **out)
{
	struct lumen_sampler *s;

	if (!out)
		return lumen_fail(LUMEN_E_INVAL, "sampler: no place for it");
	*out = NULL;
	if (!p)
		return lumen_fail(LUMEN_E_INVAL, "sampler: no parameters");
	if (!n_vocab || n_vocab > INT32_MAX)
		return lumen_fail(LUMEN_E_INVAL,
				  "sampler: %u tokens, not 1 to %d", n_vocab,
				  INT32_MAX);
	s = calloc(1, sizeof(*s));
	if (!s)
		return lumen_fail(LUMEN_E_NOMEM, "sampler: out of memory");
	s->p = *p;
	if (s->p.repeat_last_n < 0)
		s->p.repeat_last_n = 0;
	s->n_vocab = n_vocab;
	s->cand = malloc(n_vocab * sizeof(*s->cand));
	s->out_ids = malloc(n_vocab * sizeof(*s->out_ids));
	s->out_probs = malloc(n_vocab * sizeof(*s->out_probs));
	s->count = calloc(n_vocab, sizeof(*s->count));
	s->stamp = calloc(n_vocab, sizeof(*s->stamp));
	s->window = malloc(((size_t)s->p.repeat_last_n + 1) * sizeof(*s->window));
	if (!s->cand || !s->out_ids || !s->out_probs || !s->count ||
	    !s->stamp || !s->window) {
		lumen_sampler_destroy(s);
		return lumen_fail(LUMEN_E_NOMEM, "sampler: out of memory");
	}
	lumen_sampler_reset(s, p->seed);
	*out = s;
	return 0;
}

void lumen_sampler_destroy(struct lumen_sampler *s)
{
	if (!s)
		return;
	free(s->cand);
	free(s->out_ids);
	free(s->out_probs);
	free(s->count);
	free(s->stamp);
	free(s->window);
	free(s);
}

void lumen_sampler_accept(struct lumen_sampler *s, int32_t token)
{
	uint32_t cap = (uint32_t)s->p.repeat_last_n;

	if (!cap || token < 0 || (uint32_t)token >= s->n_vocab)
		return;
	if (s->window_len == cap)
		s->count[s->window[s->window_pos]]--;
	else
		s->window_len++;
	s->window[s->window_pos] = token;
	s->window_pos = (s->window_pos + 1) % cap;
	s->count[token]++;
}

static bool penalties_on(const struct lumen_sampler_params *p)
{
	return p->repeat_penalty != 1.0f || p->frequency_penalty != 0.0f ||
	       p->presence_penalty != 0.0f;
}

/* cand[i] is token i here: each token in the window is penalised once */
static void apply_penalties(struct lumen_sampler *s)
{
	const struct lumen_sampler_params *p = &s->p;

	if (!s->window_len || !penalties_on(p))
		return;
	if (++s->round == 0) {
		memset(s->stamp, 0, s->n_vocab * sizeof(*s->stamp));
		s->round = 1;
	}
	for (uint32_t i = 0; i < s->window_len; i++) {
		int32_t t = s->window[i];
		float *l = &s->cand[t].logit;

		if (s->stamp[t] == s->round)
			continue;
		s->stamp[t] = s->round;
		*l = *l <= 0 ? *l * p->repeat_penalty : *l / p->repeat_penalty;
		*l -= (float)s->count[t] * p->frequency_penalty +
		      p->presence_penalty;
	}
}

/* the order of likelihood: larger logit first, then lower id */
static bool before(const struct cand *a, const struct cand *b)
{
	return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static void swap(struct cand *a, struct cand *b)
{
	struct cand t = *a;

	*a = *b;
	*b = t;
}

/* the root of a[0..n) is the least likely: sift a[i] down */
static void sift_least(struct cand *a, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			return;
		if (c + 1 < n && before(&a[c], &a[c + 1]))
			c++;
		if (!before(&a[i], &a[c]))
			return;
		swap(&a[c], &a[i]);
		i = c;
	}
}

/*
 * Keep the @k most likely of @n candidates in a[0..k), in no order: a
 * heap of the best k so far whose root is the weakest. Most candidates
 * lose the one comparison with the root, a branch the CPU predicts.
 */
static void keep_top_k(struct cand *a, size_t n, size_t k)
{
	for (size_t i = k / 2; i-- > 0;)
		sift_least(a, k, i);
	for (size_t i = k; i < n; i++) {
		if (before(&a[i], &a[0])) {
			a[0] = a[i];
			sift_least(a, k, 0);
		}
	}
}

/*
 * Partition a[lo..hi) (hi - lo >= 3) around the median of three: returns
 * the pivot's place, with the more likely before it. Keys are distinct
 * (ids break ties), so runs of equal logits cannot degrade it.
 */
static size_t partition(struct cand *a, size_t lo, size_t hi)
{
	size_t mid = lo + (hi - lo) / 2, store = lo;

	if (before(&a[mid], &a[lo]))
		swap(&a[mid], &a[lo]);
	if (before(&a[hi - 1], &a[lo]))
		swap(&a[hi - 1], &a[lo]);
	if (before(&a[hi - 1], &a[mid]))
		swap(&a[hi - 1], &a[mid]);
	swap(&a[mid], &a[hi - 1]);
	for (size_t i = lo; i < hi - 1; i++)
		if (before(&a[i], &a[hi - 1]))
			swap(&a[i], &a[store++]);
	swap(&a[store], &a[hi - 1]);
	return store;
}

static float weight(const struct cand *c, float max)
{
	return expf(c->logit - max);
}

/*
 * The fewest most likely candidates whose weights reach top_p of @sum,
 * moved to a[0..m) in no order; returns m. A quickselect that goes by
 * probability mass instead of rank: expected O(n), where sorting a flat
 * distribution's nucleus (a random model's) would cost O(n log n).
 */
static size_t nucleus(struct cand *a, size_t n, float top_p, float max,
		      double sum)
{
	double need = top_p * sum;
	size_t lo = 0, hi = n;

	/* a[0..lo) is in, a[hi..n) out, the boundary is in a[lo..hi) */
	while (hi - lo > 2) {
		size_t mid = partition(a, lo, hi);
		double left = 0;

		for (size_t i = lo; i < mid; i++)
			left += weight(&a[i], max);
		if (left >= need) {
			hi = mid;
			continue;
		}
		need -= left + weight(&a[mid], max);
		lo = mid + 1;
		if (need <= 0)
			return lo;
	}
	if (hi - lo == 2) {
		if (before(&a[lo + 1], &a[lo]))
			swap(&a[lo], &a[lo + 1]);
		if (need > weight(&a[lo], max))
			return lo + 2;
	}
	return hi > lo ? lo + 1 : (lo ? lo : 1);
}

/* heapsort, most likely first: the least likely pops to the back */
static void sort_by_likelihood(struct cand *a, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_least(a, n, i);
	for (size_t m = n; m > 1; m--) {
		swap(&a[0], &a[m - 1]);
		sift_least(a, m - 1, 0);
	}
}

/* Run the filters; the survivors are (*first)[0..n), in no order. */
static size_t filter(struct lumen_sampler *s, const float *logits,
		     struct cand **first)
{
	const struct lumen_sampler_params *p = &s->p;
	struct cand *a = s->cand;
	size_t n = s->n_vocab, best = 0;
	double sum = 0;
	float max;

	for (uint32_t i = 0; i < s->n_vocab; i++) {
		/* a NaN would break every comparison below */
		a[i].logit = isnan(logits[i]) ? -INFINITY : logits[i];
		a[i].id = (int32_t)i;
	}
	apply_penalties(s);
	for (size_t i = 1; i < n; i++)
		if (before(&a[i], &a[best]))
			best = i;
	max = a[best].logit;
	if (p->temperature <= 0 || max == -INFINITY || max == INFINITY) {
		/* greedy; or nothing to weigh against an infinite logit */
		*first = &a[best];
		return 1;
	}
	if (p->top_k > 0 && (size_t)p->top_k < n) {
		keep_top_k(a, n, (size_t)p->top_k);
		n = (size_t)p->top_k;
	}
	if (p->top_p < 1.0f) {
		for (size_t i = 0; i < n; i++)
			sum += weight(&a[i], max);
		n = nucleus(a, n, p->top_p, max, sum);
	}
	if (p->min_p > 0.0f) {
		float min_logit = max + logf(p->min_p);
		size_t kept = 0;

		for (size_t i = 0; i < n; i++)
			if (a[i].logit >= min_logit)
				a[kept++] = a[i];
		n = kept;
	}
	*first = a;
	return n;
}

/* the probability weights exp((logit - max) / T), into out_probs; the sum */
static double weigh(struct lumen_sampler *s, const struct cand *a, size_t n)
{
	float max = a[0].logit;
	double sum = 0;

	for (size_t i = 1; i < n; i++)
		if (a[i].logit > max)
			max = a[i].logit;
	for (size_t i = 0; i < n; i++) {
		float w = n == 1 ? 1.0f : expf((a[i].logit - max) / s->p.temperature);

		s->out_probs[i] = w;
		sum += w;
	}
	return sum;
}

int32_t lumen_sampler_sample(struct lumen_sampler *s, const float *logits)
{
	struct cand *a;
	size_t n = filter(s, logits, &a);
	double sum, r;

	if (n == 1)
		return a[0].id;
	sum = weigh(s, a, n);
	r = lumen_sampler_uniform(s) * sum;
	for (size_t i = 0; i < n; i++) {
		r -= s->out_probs[i];
		if (r < 0)
			return a[i].id;
	}
	/* rounding left r a hair above the total: the last one */
	return a[n - 1].id;
}

size_t lumen_sampler_candidates(struct lumen_sampler *s, const float *logits,
				const int32_t **ids, const float **probs)
{
	struct cand *a;
	size_t n = filter(s, logits, &a);
	double sum;

	/* only this inspection path pays for the order */
	sort_by_likelihood(a, n);
	sum = weigh(s, a, n);
	for (size_t i = 0; i < n; i++) {
		s->out_ids[i] = a[i].id;
		s->out_probs[i] = (float)(s->out_probs[i] / sum);
	}
	*ids = s->out_ids;
	*probs = s->out_probs;
	return n;
}
