// SPDX-License-Identifier: MIT
/*
 * Sampling tests: each filter against a hand-computed candidate set, the
 * penalties' arithmetic, determinism of the seed, and the frequencies of
 * plain sampling against softmax by a chi-square bound (with fixed seeds,
 * so the test cannot flake).
 */
#include <stdlib.h>

#include <lumen/sampling.h>
#include "lumen_test.h"

static struct lumen_sampler_params plain(float temperature, uint64_t seed)
{
	struct lumen_sampler_params p = {
		.temperature = temperature, .top_k = 0, .top_p = 1.0f,
		.min_p = 0.0f, .repeat_penalty = 1.0f, .repeat_last_n = 64,
		.seed = seed,
	};
	return p;
}

static void random_logits(float *l, int n, uint64_t *x)
{
	for (int i = 0; i < n; i++) {
		*x = *x * 6364136223846793005ull + 1442695040888963407ull;
		l[i] = (float)((*x >> 40) % 20000) / 1000.0f - 10.0f;
	}
}

static int argmax(const float *l, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (l[i] > l[best])
			best = i;
	return best;
}

/* a sampler, or NULL (the test REQUIREs it) */
static struct lumen_sampler *new_sampler(uint32_t n_vocab,
					 const struct lumen_sampler_params *p)
{
	struct lumen_sampler *s;

	if (lumen_sampler_create(n_vocab, p, &s))
		printf("# %s\n", lumen_last_error());
	return s;
}

TEST(greedy_is_argmax)
{
	struct lumen_sampler_params p = plain(0.0f, 1);
	struct lumen_sampler *s = new_sampler(1000, &p);
	float l[1000];
	uint64_t x = 7;

	REQUIRE(s);
	for (int round = 0; round < 50; round++) {
		random_logits(l, 1000, &x);
		CHECK_EQ(lumen_sampler_sample(s, l), argmax(l, 1000));
	}
	/* ties go to the lowest id */
	for (int i = 0; i < 1000; i++)
		l[i] = i == 500 || i == 20 ? 3.0f : 1.0f;
	CHECK_EQ(lumen_sampler_sample(s, l), 20);
	lumen_sampler_destroy(s);
}

/* temperature -> 0 and top-k 1 both leave only the argmax */
static void check_always_argmax(struct lumen_sampler_params p)
{
	struct lumen_sampler *s = new_sampler(512, &p);
	float l[512];
	uint64_t x = 99;

	REQUIRE(s);
	for (int round = 0; round < 200; round++) {
		random_logits(l, 512, &x);
		int best = argmax(l, 512);

		l[best] += 0.5f;	/* a clear winner */
		CHECK_EQ(lumen_sampler_sample(s, l), best);
	}
	lumen_sampler_destroy(s);
}

TEST(tiny_temperature_equals_greedy)
{
	check_always_argmax(plain(1e-3f, 5));
}

TEST(top_k_1_equals_greedy)
{
	struct lumen_sampler_params p = plain(1.0f, 5);

	p.top_k = 1;
	check_always_argmax(p);
}

/* probabilities @prob placed on ids @ids of a vocabulary of @n */
static void logits_of(float *l, int n, const int *ids, const double *prob, int k)
{
	for (int i = 0; i < n; i++)
		l[i] = -1e4f;
	for (int i = 0; i < k; i++)
		l[ids[i]] = (float)log(prob[i]);
}

/* the candidates must be @want (ids, most likely first) with @prob renormalised */
static void check_candidates(struct lumen_sampler_params p, const float *l, int n,
			     const int *want, const double *prob, int k)
{
	struct lumen_sampler *s = new_sampler((uint32_t)n, &p);
	const int32_t *ids;
	const float *probs;
	double total = 0;

	REQUIRE(s);
	size_t got = lumen_sampler_candidates(s, l, &ids, &probs);

	CHECK_EQ(got, k);
	for (int i = 0; i < k; i++)
		total += prob[i];
	for (int i = 0; i < k && i < (int)got; i++) {
		CHECK_EQ(ids[i], want[i]);
		CHECK_NEAR(probs[i], prob[i] / total, 1e-5, 0);
	}
	lumen_sampler_destroy(s);
}

TEST(top_p_keeps_the_minimal_nucleus)
{
	const int ids[] = { 17, 3, 250, 41, 8 };
	const double prob[] = { 0.4, 0.3, 0.15, 0.1, 0.05 };
	float l[256];
	struct lumen_sampler_params p = plain(1.0f, 1);

	logits_of(l, 256, ids, prob, 5);
	p.top_p = 0.3f;		/* 0.4 alone reaches it */
	check_candidates(p, l, 256, ids, prob, 1);
	p.top_p = 0.65f;	/* 0.4 + 0.3 */
	check_candidates(p, l, 256, ids, prob, 2);
	p.top_p = 0.8f;		/* 0.4 + 0.3 + 0.15 = 0.85 */
	check_candidates(p, l, 256, ids, prob, 3);
	p.top_p = 0.9f;		/* 0.95 */
	check_candidates(p, l, 256, ids, prob, 4);
	p.top_p = 0.0f;		/* never empty */
	check_candidates(p, l, 256, ids, prob, 1);
	/* with top-k 2 first, the nucleus is taken of what is left */
	p.top_k = 2;
	p.top_p = 0.5f;		/* 0.4/0.7 = 0.57 */
	check_candidates(p, l, 256, ids, prob, 1);
}

TEST(top_k_keeps_the_k_largest)
{
	const int ids[] = { 9, 200, 4, 77, 130, 1 };
	const double prob[] = { 0.3, 0.25, 0.2, 0.15, 0.06, 0.04 };
	float l[256];
	struct lumen_sampler_params p = plain(1.0f, 1);

	logits_of(l, 256, ids, prob, 6);
	for (int k = 1; k <= 6; k++) {
		p.top_k = k;
		check_candidates(p, l, 256, ids, prob, k);
	}
}

TEST(min_p_drops_the_unlikely)
{
	const int ids[] = { 5, 60, 2, 31 };
	const double prob[] = { 0.5, 0.25, 0.15, 0.1 };
	float l[64];
	struct lumen_sampler_params p = plain(1.0f, 1);

	logits_of(l, 64, ids, prob, 4);
	p.min_p = 0.35f;	/* at least 0.175 */
	check_candidates(p, l, 64, ids, prob, 2);
	p.min_p = 0.25f;	/* at least 0.125 */
	check_candidates(p, l, 64, ids, prob, 3);
	p.min_p = 0.9f;
	check_candidates(p, l, 64, ids, prob, 1);
}

TEST(temperature_scales_the_logits)
{
	const int ids[] = { 0, 1, 2 };
	const float l[3] = { 2.0f, 1.0f, -0.5f };
	double prob[3], t = 0.7;

	for (int i = 0; i < 3; i++)
		prob[i] = exp(l[i] / t);
	check_candidates(plain((float)t, 1), l, 3, ids, prob, 3);
}

TEST(repetition_penalty_arithmetic)
{
	const float l[4] = { 2.0f, -2.0f, 1.0f, 0.5f };
	struct lumen_sampler_params p = plain(1.0f, 1);
	const int32_t *ids;
	const float *probs;
	double want[4], sum = 0;

	p.repeat_penalty = 2.0f;
	p.frequency_penalty = 0.25f;
	p.presence_penalty = 0.125f;
	p.repeat_last_n = 3;
	struct lumen_sampler *s = new_sampler(4, &p);

	REQUIRE(s);
	/* the window keeps the last 3: 0 0 1 (the first 2 slid out) */
	lumen_sampler_accept(s, 2);
	lumen_sampler_accept(s, 0);
	lumen_sampler_accept(s, 0);
	lumen_sampler_accept(s, 1);
	/* positive logits are divided, negative multiplied; then count *
	 * frequency + presence is subtracted; each token once */
	want[0] = 2.0 / 2 - 2 * 0.25 - 0.125;
	want[1] = -2.0 * 2 - 1 * 0.25 - 0.125;
	want[2] = 1.0;
	want[3] = 0.5;
	for (int i = 0; i < 4; i++)
		sum += exp(want[i]);
	size_t n = lumen_sampler_candidates(s, l, &ids, &probs);

	REQUIRE_EQ(n, 4);
	for (size_t i = 0; i < n; i++)
		CHECK_NEAR(probs[i], exp(want[ids[i]]) / sum, 1e-6, 0);
	/* and greedy sees the penalised logits: token 2 now leads */
	struct lumen_sampler_params g = p;

	g.temperature = 0;
	g.frequency_penalty = g.presence_penalty = 0;
	struct lumen_sampler *gs = new_sampler(4, &g);

	REQUIRE(gs);
	CHECK_EQ(lumen_sampler_sample(gs, l), 0);
	lumen_sampler_accept(gs, 0);	/* 2.0 / 2 = 1.0 ties token 2: lower id */
	CHECK_EQ(lumen_sampler_sample(gs, l), 0);
	lumen_sampler_accept(gs, 0);	/* counted once: still 1.0 */
	CHECK_EQ(lumen_sampler_sample(gs, l), 0);
	lumen_sampler_destroy(gs);
	g.repeat_penalty = 2.5f;
	gs = new_sampler(4, &g);
	REQUIRE(gs);
	lumen_sampler_accept(gs, 0);	/* 0.8 < 1.0 */
	CHECK_EQ(lumen_sampler_sample(gs, l), 2);
	lumen_sampler_reset(gs, 1);	/* forgets the window */
	CHECK_EQ(lumen_sampler_sample(gs, l), 0);
	lumen_sampler_destroy(gs);
	lumen_sampler_destroy(s);
}

/* 2000 draws at temperature 1 over near-uniform logits */
static void draw_sequence(uint64_t seed, int32_t *out, int n)
{
	struct lumen_sampler_params p = plain(1.0f, seed);
	struct lumen_sampler *s = new_sampler(100, &p);
	float l[100];
	uint64_t x = 3;

	random_logits(l, 100, &x);
	for (int i = 0; i < 100; i++)
		l[i] *= 0.1f;
	for (int i = 0; s && i < n; i++)
		out[i] = lumen_sampler_sample(s, l);
	lumen_sampler_destroy(s);
}

TEST(same_seed_same_choices)
{
	static int32_t a[2000], b[2000], c[2000];
	int differ = 0;

	draw_sequence(1234, a, 2000);
	draw_sequence(1234, b, 2000);
	draw_sequence(1235, c, 2000);
	CHECK(!memcmp(a, b, sizeof(a)));
	for (int i = 0; i < 2000; i++)
		differ += a[i] != c[i];
	/* two independent streams over ~100 choices agree ~1% of the time */
	CHECK_MSG(differ > 1800, "seeds 1234 and 1235 differ in %d of 2000", differ);
}

TEST(reset_replays_the_draws)
{
	struct lumen_sampler_params p = plain(1.0f, 77);
	struct lumen_sampler *s = new_sampler(16, &p);
	double first[100];

	REQUIRE(s);
	for (int i = 0; i < 100; i++)
		first[i] = lumen_sampler_uniform(s);
	lumen_sampler_reset(s, 77);
	for (int i = 0; i < 100; i++) {
		double u = lumen_sampler_uniform(s);

		CHECK(u == first[i]);
		CHECK(u >= 0.0 && u < 1.0);
	}
	lumen_sampler_destroy(s);
}

/* chi-square of @count draws against probabilities @prob, over @n bins */
static double chi_square(const long *count, const double *prob, int n, long draws)
{
	double chi = 0;

	for (int i = 0; i < n; i++) {
		double e = prob[i] * (double)draws;

		chi += (count[i] - e) * (count[i] - e) / e;
	}
	return chi;
}

static void softmax(const float *l, int n, double t, double *out)
{
	double sum = 0;

	for (int i = 0; i < n; i++)
		sum += out[i] = exp(l[i] / t);
	for (int i = 0; i < n; i++)
		out[i] /= sum;
}

/*
 * 100000 draws at temperature @t over 8 tokens; 7 degrees of freedom have
 * a 0.1% critical value of 24.32. A wrong temperature must exceed it.
 */
static void check_frequencies(float t, uint64_t seed)
{
	const float l[8] = { 1.0f, 0.5f, 0.0f, -0.3f, 2.0f, -1.0f, 0.2f, 1.5f };
	struct lumen_sampler_params p = plain(t, seed);
	struct lumen_sampler *s = new_sampler(8, &p);
	long count[8] = { 0 };
	double prob[8], wrong[8];
	const long draws = 100000;

	REQUIRE(s);
	for (long i = 0; i < draws; i++) {
		int32_t id = lumen_sampler_sample(s, l);

		REQUIRE(id >= 0 && id < 8);
		count[id]++;
	}
	softmax(l, 8, t, prob);
	softmax(l, 8, t * 1.1, wrong);
	double chi = chi_square(count, prob, 8, draws);

	CHECK_MSG(chi < 24.32, "temperature %g: chi-square %.2f >= 24.32", t, chi);
	CHECK_MSG(chi_square(count, wrong, 8, draws) > 24.32,
		  "temperature %g: the draws fit temperature %g as well", t, t * 1.1);
	lumen_sampler_destroy(s);
}

TEST(frequencies_follow_softmax)
{
	check_frequencies(1.0f, 42);
	check_frequencies(0.6f, 43);
}

TEST(odd_logits)
{
	struct lumen_sampler_params p = plain(1.0f, 3);
	struct lumen_sampler *s = new_sampler(4, &p);
	float nan_l[4] = { NAN, 0.0f, NAN, -1.0f };
	float inf_l[4] = { 0.0f, INFINITY, 5.0f, -INFINITY };
	float none[4] = { -INFINITY, -INFINITY, -INFINITY, -INFINITY };

	REQUIRE(s);
	for (int i = 0; i < 100; i++) {
		int32_t id = lumen_sampler_sample(s, nan_l);

		CHECK(id == 1 || id == 3);
		CHECK_EQ(lumen_sampler_sample(s, inf_l), 1);
		CHECK_EQ(lumen_sampler_sample(s, none), 0);
	}
	lumen_sampler_destroy(s);
}

/* the public error convention (<lumen/error.h>) */
TEST(sampler_errors_are_negative_codes_with_a_message)
{
	struct lumen_sampler_params p = plain(1.0f, 3);
	struct lumen_sampler *s = (void *)1;

	CHECK_EQ(lumen_sampler_create(0, &p, &s), LUMEN_E_INVAL);
	CHECK(s == NULL);
	CHECK_MSG(strstr(lumen_last_error(), "sampler: 0 tokens"), "%s",
		  lumen_last_error());
	CHECK_EQ(lumen_sampler_create(0x80000000u, &p, &s), LUMEN_E_INVAL);
	CHECK_EQ(lumen_sampler_create(4, NULL, &s), LUMEN_E_INVAL);
	CHECK_MSG(strstr(lumen_last_error(), "no parameters"), "%s",
		  lumen_last_error());
	CHECK_EQ(lumen_sampler_create(4, &p, NULL), LUMEN_E_INVAL);
	REQUIRE_EQ(lumen_sampler_create(4, &p, &s), 0);
	CHECK(s != NULL);
	lumen_sampler_destroy(s);
}

TEST(defaults_are_llama_cpp_s)
{
	struct lumen_sampler_params p = lumen_sampler_default_params();

	CHECK_NEAR(p.temperature, 0.8, 1e-6, 0);
	CHECK_EQ(p.top_k, 40);
	CHECK_NEAR(p.top_p, 0.95, 1e-6, 0);
	CHECK_NEAR(p.min_p, 0.05, 1e-6, 0);
	CHECK_NEAR(p.repeat_penalty, 1.0, 0, 0);
}

struct ref_cand {
	float logit;
	int32_t id;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref_cand *x = a, *y = b;

	if (x->logit != y->logit)
		return x->logit > y->logit ? -1 : 1;
	return x->id - y->id;
}

/*
 * The filters by their definitions: sort everything, take a prefix for
 * top-k, accumulate for top-p, cut by min-p. The sampler selects without
 * sorting; both must keep the same tokens.
 */
static int reference_filter(const float *l, int n, const struct lumen_sampler_params *p,
			    int32_t *out)
{
	struct ref_cand *c = malloc((size_t)n * sizeof(*c));
	double sum = 0, cum = 0;
	int m = n, kept = 0;

	for (int i = 0; i < n; i++)
		c[i] = (struct ref_cand){ l[i], i };
	qsort(c, (size_t)n, sizeof(*c), ref_cmp);
	if (p->top_k > 0 && p->top_k < m)
		m = p->top_k;
	for (int i = 0; i < m; i++)
		sum += expf(c[i].logit - c[0].logit);
	if (p->top_p < 1.0f) {
		for (int i = 0; i < m; i++) {
			cum += expf(c[i].logit - c[0].logit);
			if (cum >= p->top_p * sum) {
				m = i + 1;
				break;
			}
		}
	}
	for (int i = 0; i < m; i++)
		if (p->min_p <= 0 || c[i].logit >= c[0].logit + logf(p->min_p))
			out[kept++] = c[i].id;
	free(c);
	return kept;
}

TEST(filters_match_a_sorting_reference)
{
	static float l[3000];
	static int32_t want[3000];
	uint64_t x = 2024;

	for (int round = 0; round < 300; round++) {
		struct lumen_sampler_params p = plain(1.0f, 1);
		const int32_t *ids;
		const float *probs;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		int n = 1 + (int)((x >> 33) % 3000);

		random_logits(l, n, &x);
		/* some ties, and a flat or a peaked distribution */
		for (int i = 0; i < n; i += 7)
			l[i] = l[n / 2];
		float scale = round % 2 ? 0.05f : 1.0f;

		for (int i = 0; i < n; i++)
			l[i] *= scale;
		p.top_k = round % 3 ? (int32_t)((x >> 20) % (uint64_t)(n + 5)) : 0;
		p.top_p = round % 5 ? (float)((x >> 40) % 1000) / 1000.0f : 1.0f;
		p.min_p = round % 4 ? 0.0f : (float)((x >> 50) % 100) / 400.0f;
		struct lumen_sampler *s = new_sampler((uint32_t)n, &p);

		REQUIRE(s);
		int nw = reference_filter(l, n, &p, want);
		size_t got = lumen_sampler_candidates(s, l, &ids, &probs);

		CHECK_MSG(got == (size_t)nw && !memcmp(ids, want, got * sizeof(*ids)),
			  "round %d (n %d, top-k %d, top-p %g, min-p %g): %zu kept, expected %d",
			  round, n, p.top_k, p.top_p, p.min_p, got, nw);
		lumen_sampler_destroy(s);
	}
}
