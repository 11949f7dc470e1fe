// SPDX-License-Identifier: MIT
/*
 * The speculative-sampling acceptance rule keeps the model's distribution:
 * over a small vocabulary, tokens drafted from a q far from p and passed
 * through spec_accept() must follow p by a chi-square test (fixed seeds:
 * the test cannot flake, and it fails for the wrong rules tried below).
 */
#include <math.h>
#include <stdio.h>

#include "speculative.h"
#include "lumen_test.h"

#define V 6
#define TRIALS 60000
/* chi-square, 5 degrees of freedom, p = 0.001 */
#define CHI2_CRIT 20.52

static const float p_model[V] = { 0.35f, 0.25f, 0.15f, 0.12f, 0.08f, 0.05f };
static const float q_draft[V] = { 0.05f, 0.10f, 0.40f, 0.05f, 0.30f, 0.10f };

static double chi2(const unsigned *count, const float *p, unsigned n)
{
	double x = 0;

	for (int i = 0; i < V; i++) {
		double e = (double)n * p[i];

		x += (count[i] - e) * (count[i] - e) / e;
	}
	return x;
}

static struct lumen_sampler *rng(uint64_t seed)
{
	struct lumen_sampler_params sp = lumen_sampler_default_params();
	struct lumen_sampler *s = NULL;

	sp.seed = seed;
	lumen_sampler_create(V, &sp, &s);
	return s;
}

TEST(acceptance_rule_keeps_the_model_distribution_draft_model)
{
	struct lumen_sampler *r = rng(42);
	unsigned out[V] = { 0 }, drafted[V] = { 0 }, kept = 0;
	double expect_kept = 0, x;

	REQUIRE(r);
	for (int i = 0; i < V; i++)
		expect_kept += fmin(p_model[i], q_draft[i]);
	for (unsigned t = 0; t < TRIALS; t++) {
		int32_t d = spec_draw(q_draft, V, lumen_sampler_uniform(r));
		double u1 = lumen_sampler_uniform(r), u2 = lumen_sampler_uniform(r);
		bool acc;
		int32_t tok = spec_accept(p_model, q_draft, V, d, u1, u2, &acc);

		REQUIRE(tok >= 0 && tok < V);
		CHECK(!acc || tok == d);
		drafted[d]++;
		out[tok]++;
		kept += acc;
	}
	x = chi2(out, p_model, TRIALS);
	printf("# chi2 of the output against p: %.2f (critical %.2f); kept %.4f, expected %.4f\n",
	       x, CHI2_CRIT, (double)kept / TRIALS, expect_kept);
	CHECK(x < CHI2_CRIT);
	/* acceptance is sum min(p, q) */
	CHECK(fabs((double)kept / TRIALS - expect_kept) < 0.01);
	/* the test has power: the drafts themselves are far from p */
	CHECK(chi2(drafted, p_model, TRIALS) > 100 * CHI2_CRIT);
	lumen_sampler_destroy(r);
}

/* n-gram lookup: q is a point mass on the drafted token */
TEST(acceptance_rule_keeps_the_model_distribution_point_mass)
{
	struct lumen_sampler *r = rng(7);
	unsigned out[V] = { 0 };
	double x;

	REQUIRE(r);
	for (unsigned t = 0; t < TRIALS; t++) {
		int32_t d = (int32_t)(t % V);	/* whatever was looked up */
		bool acc;
		int32_t tok = spec_accept(p_model, NULL, V, d,
					  lumen_sampler_uniform(r),
					  lumen_sampler_uniform(r), &acc);

		REQUIRE(tok >= 0 && tok < V);
		CHECK(acc == (tok == d));
		out[tok]++;
	}
	x = chi2(out, p_model, TRIALS);
	printf("# point mass: chi2 %.2f (critical %.2f)\n", x, CHI2_CRIT);
	CHECK(x < CHI2_CRIT);
	lumen_sampler_destroy(r);
}

/*
 * A plausible wrong rule (redraw from p itself after a rejection) fails
 * the same test: the chi-square bound is tight enough to tell.
 */
TEST(a_wrong_acceptance_rule_fails_the_test)
{
	struct lumen_sampler *r = rng(42);
	unsigned out[V] = { 0 };
	double x;

	REQUIRE(r);
	for (unsigned t = 0; t < TRIALS; t++) {
		int32_t d = spec_draw(q_draft, V, lumen_sampler_uniform(r));
		double u1 = lumen_sampler_uniform(r), u2 = lumen_sampler_uniform(r);
		bool acc;
		int32_t tok = spec_accept(p_model, q_draft, V, d, u1, u2, &acc);

		if (!acc)
			tok = spec_draw(p_model, V, u2);
		out[tok]++;
	}
	x = chi2(out, p_model, TRIALS);
	printf("# wrong rule: chi2 %.2f\n", x);
	CHECK(x > 10 * CHI2_CRIT);
	lumen_sampler_destroy(r);
}

TEST(draw_follows_its_distribution_and_skips_empty_tokens)
{
	const float p[V] = { 0, 0.5f, 0, 0.5f, 0, 0 };

	CHECK_EQ(spec_draw(p, V, 0.0), 1);
	CHECK_EQ(spec_draw(p, V, 0.49), 1);
	CHECK_EQ(spec_draw(p, V, 0.51), 3);
	CHECK_EQ(spec_draw(p, V, 0.999999), 3);
}

/* n-gram lookup: the latest earlier occurrence of the longest suffix */
TEST(ngram_lookup_proposes_what_followed_the_latest_match)
{
	struct lumen_spec_params p = { .kind = LUMEN_SPEC_NGRAM };
	const int32_t hist[] = { 1, 2, 3, 9, 4, 1, 2, 3, 7, 5, 6, 1, 2, 3 };
	const int32_t none[] = { 10, 11, 12, 13, 14 };
	struct spec_drafter *d;
	int32_t out[8];
	uint32_t n = 99;

	REQUIRE_EQ(spec_ngram_create(&p, &d), 0);
	REQUIRE_EQ(d->draft(d, hist, 14, 3, out, &n), 0);
	REQUIRE_EQ(n, 3);	/* "1 2 3" last seen at 5: then 7 5 6 */
	CHECK_EQ(out[0], 7);
	CHECK_EQ(out[1], 5);
	CHECK_EQ(out[2], 6);
	CHECK(d->q == NULL);	/* a point mass */
	REQUIRE_EQ(d->draft(d, hist, 14, 8, out, &n), 0);
	CHECK_EQ(n, 6);		/* up to the end of the context */
	REQUIRE_EQ(d->draft(d, none, 5, 8, out, &n), 0);
	CHECK_EQ(n, 0);		/* nothing repeats: nothing proposed */
	REQUIRE_EQ(d->draft(d, hist, 1, 8, out, &n), 0);
	CHECK_EQ(n, 0);
	d->destroy(d);
	p.ngram_min = 5;
	p.ngram_max = 2;
	CHECK_EQ(spec_ngram_create(&p, &d), LUMEN_E_INVAL);
}
