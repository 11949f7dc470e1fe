/* SPDX-License-Identifier: MIT */
/*
 * lumen bench --spec: a tg row measured twice in one run, plainly and
 * with speculative decoding, through the same lumen_speculator_* loop
 * (lumen_cli_bench_spec.c).
 */
#ifndef LUMEN_CLI_BENCH_SPEC_H
#define LUMEN_CLI_BENCH_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "lumen_cli.h"

/* what one side (plain or speculative) of a row did over the repetitions */
struct bench_spec_side {
	double *samples;	/* tok/s of each repetition */
	double mean, sd;
	/* the same jobs on the modeled NPU: tokens/s and mJ per token */
	double modeled_ts, modeled_mj;
	struct lumen_spec_stats st;	/* summed over the repetitions */
};

struct bench_spec_result {
	uint32_t n_depth, n_gen, reps;
	struct bench_spec_side plain, spec;
	/* median over the repetitions of speculative / plain tok/s */
	double speedup;
	/* every speculative run generated the plain run's tokens */
	bool same_tokens;
};

/*
 * Time @n_gen tokens after the prompt @ids (@n_depth tokens, prefilled
 * and not timed, nor its first token), @reps times each way, plain then
 * speculative (@spec) alternating after one warm-up of each; greedy.
 * 0, or -1 with the error printed. bench_spec_free() in both cases.
 */
int bench_spec_measure(struct lumen_session *s,
		       const struct lumen_spec_params *spec,
		       const int32_t *ids, uint32_t n_depth, uint32_t n_gen,
		       uint32_t reps, struct bench_spec_result *r);
void bench_spec_free(struct bench_spec_result *r);

#endif /* LUMEN_CLI_BENCH_SPEC_H */
