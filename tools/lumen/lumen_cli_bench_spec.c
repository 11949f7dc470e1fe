// SPDX-License-Identifier: MIT
/*
 * lumen bench --spec: a tg row as plain decode and as speculative
 * decoding of the same prompt, side by side in one run. Both go through
 * lumen_speculator_step() (plain = a speculator without a drafter: one
 * decode per round), so the two differ only in the drafting; repetitions
 * alternate so both see the same machine. Greedy: the speculative tokens
 * must be the plain ones, and the row says whether they were.
 *
 * Timed: from the prompt's first token (prefilled, not timed) to the
 * n_gen-th token after it. A draft model's session catches up with the
 * prompt in the first round: that prefill is part of what speculation
 * costs, so it is inside the timing and the modeled figures.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lumen_cli_bench_spec.h"

struct tokens {
	int32_t *ids;
	uint32_t n, want;
};

static int collect(void *data, int32_t id)
{
	struct tokens *t = data;

	t->ids[t->n++] = id;
	return t->n >= t->want;
}

/* one generation of @n_gen tokens after the prompt's; its tok/s */
static int run_once(struct lumen_session *s, const struct lumen_spec_params *spec,
		    const int32_t *ids, uint32_t n_depth, uint32_t n_gen,
		    int32_t *out, double *ts, struct bench_spec_side *side)
{
	struct lumen_sampler_params greedy = lumen_sampler_default_params();
	struct tokens t = { .ids = out, .want = n_gen + 1 };
	struct lumen_speculator *sp = NULL;
	struct lumen_modeled m0, m1;
	struct lumen_spec_stats st;
	uint64_t t0;
	int ret;

	greedy.temperature = 0;
	lumen_session_reset(s);
	ret = lumen_speculator_create(s, spec, &greedy, &sp);
	if (ret)
		return cli_lib_error("speculator", ret);
	ret = lumen_speculator_start(sp, ids, n_depth, collect, &t);
	lumen_session_get_modeled(s, &m0);
	t0 = lumen_now_ns();
	while (ret >= 0 && t.n < t.want)
		ret = lumen_speculator_step(sp, t.want - t.n, collect, &t);
	*ts = (double)n_gen * 1e9 / (double)(lumen_now_ns() - t0);
	lumen_session_get_modeled(s, &m1);
	lumen_speculator_get_stats(sp, &st);
	lumen_speculator_free(sp);
	if (ret < 0)
		return cli_lib_error(spec ? "speculative tg" : "tg", ret);
	if (side) {
		side->st.n_rounds += st.n_rounds;
		side->st.n_verify += st.n_verify;
		side->st.n_drafted += st.n_drafted;
		side->st.n_accepted += st.n_accepted;
		side->st.n_tokens += st.n_tokens;
		side->st.draft_submissions += st.draft_submissions;
		/* borrowed as running sums; turned into rates by finish() */
		side->modeled_ts += (double)(m1.decode_ns - m0.decode_ns);
		side->modeled_mj += (double)(m1.energy_nj - m0.energy_nj);
	}
	return 0;
}

static void finish(struct bench_spec_side *side, uint32_t reps, uint32_t n_gen)
{
	double sum = 0, sq = 0, tokens = (double)reps * n_gen;

	for (uint32_t i = 0; i < reps; i++)
		sum += side->samples[i];
	side->mean = sum / reps;
	for (uint32_t i = 0; i < reps; i++)
		sq += (side->samples[i] - side->mean) * (side->samples[i] - side->mean);
	side->sd = reps > 1 ? sqrt(sq / (reps - 1)) : 0;
	side->modeled_ts = side->modeled_ts > 0 ? tokens * 1e9 / side->modeled_ts : 0;
	side->modeled_mj = side->modeled_mj / 1e6 / tokens;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int bench_spec_measure(struct lumen_session *s,
		       const struct lumen_spec_params *spec,
		       const int32_t *ids, uint32_t n_depth, uint32_t n_gen,
		       uint32_t reps, struct bench_spec_result *r)
{
	int32_t *plain = malloc(4ull * (n_gen + 1));
	int32_t *mine = malloc(4ull * (n_gen + 1));
	double *ratio = calloc(reps, sizeof(double));
	double ts;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	r->n_depth = n_depth;
	r->n_gen = n_gen;
	r->reps = reps;
	r->same_tokens = true;
	r->plain.samples = calloc(reps, sizeof(double));
	r->spec.samples = calloc(reps, sizeof(double));
	if (!plain || !mine || !ratio || !r->plain.samples || !r->spec.samples) {
		cli_error("out of memory");
		goto out;
	}
	/* warm-up, both ways */
	if (run_once(s, NULL, ids, n_depth, n_gen, plain, &ts, NULL) ||
	    run_once(s, spec, ids, n_depth, n_gen, mine, &ts, NULL))
		goto out;
	for (uint32_t i = 0; i < reps; i++) {
		if (run_once(s, NULL, ids, n_depth, n_gen, plain,
			     &r->plain.samples[i], &r->plain) ||
		    run_once(s, spec, ids, n_depth, n_gen, mine,
			     &r->spec.samples[i], &r->spec))
			goto out;
		if (memcmp(plain, mine, 4ull * (n_gen + 1)))
			r->same_tokens = false;
		ratio[i] = r->spec.samples[i] / r->plain.samples[i];
	}
	finish(&r->plain, reps, n_gen);
	finish(&r->spec, reps, n_gen);
	qsort(ratio, reps, sizeof(double), cmp_double);
	r->speedup = reps % 2 ? ratio[reps / 2] :
		     (ratio[reps / 2 - 1] + ratio[reps / 2]) / 2;
	ret = 0;
out:
	free(plain);
	free(mine);
	free(ratio);
	return ret;
}

void bench_spec_free(struct bench_spec_result *r)
{
	free(r->plain.samples);
	free(r->spec.samples);
	r->plain.samples = r->spec.samples = NULL;
}
