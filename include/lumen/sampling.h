/* SPDX-License-Identifier: MIT */
/*
 * Choosing the next token from the logits, with llama.cpp's semantics and
 * order: repetition penalties -> top-k -> top-p -> min-p -> temperature ->
 * a draw. top-p and min-p look at the distribution at temperature 1.
 * A temperature <= 0 is greedy: the largest (penalised) logit, the lowest
 * id on ties.
 *
 * Draws come from xoshiro256** seeded through splitmix64 (both by Blackman
 * and Vigna, public domain algorithms): the same seed gives the same
 * choices on every machine. The sampler owns buffers sized to the
 * vocabulary at creation and allocates nothing per token.
 */
#ifndef LUMEN_SAMPLING_H
#define LUMEN_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

#include <lumen/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct lumen_sampler_params - what to sample with; see
 * lumen_sampler_default_params().
 * @temperature: logits are divided by it; <= 0 means greedy.
 * @top_k: keep the k largest logits; <= 0 keeps all.
 * @top_p: keep the fewest most likely tokens whose probability reaches
 *	top_p; >= 1 keeps all.
 * @min_p: drop tokens less likely than min_p times the most likely one;
 *	<= 0 keeps all.
 * @repeat_penalty: a logit of a token among the last @repeat_last_n
 *	accepted ones is divided by it when positive, multiplied when not;
 *	1 is off.
 * @frequency_penalty, @presence_penalty: subtract count * frequency +
 *	presence from the logit of a token seen count > 0 times in that window.
 * @repeat_last_n: size of that window; 0 is off.
 * @seed: of the random draws.
 */
struct lumen_sampler_params {
	float temperature;
	int32_t top_k;
	float top_p;
	float min_p;
	float repeat_penalty;
	float frequency_penalty;
	float presence_penalty;
	int32_t repeat_last_n;
	uint64_t seed;
};

/* llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05,
 * no penalties over a window of 64, seed 0 */
struct lumen_sampler_params lumen_sampler_default_params(void);

struct lumen_sampler;

/*
 * A sampler over @n_vocab logits in *@s. Returns 0, or LUMEN_E_INVAL
 * (@n_vocab 0 or above INT32_MAX, @p NULL), LUMEN_E_NOMEM; *@s is NULL
 * then.
 */
int lumen_sampler_create(uint32_t n_vocab, const struct lumen_sampler_params *p,
			 struct lumen_sampler **s);
void lumen_sampler_destroy(struct lumen_sampler *s);

/* choose a token from @logits (n_vocab of them; left unchanged) */
int32_t lumen_sampler_sample(struct lumen_sampler *s, const float *logits);

/* note a token of the context (prompt or generated) for the penalties */
void lumen_sampler_accept(struct lumen_sampler *s, int32_t token);

/* forget the accepted tokens and restart the draws from @seed */
void lumen_sampler_reset(struct lumen_sampler *s, uint64_t seed);

/*
 * The candidates the next draw chooses among, after every filter and the
 * temperature, with their probabilities (summing to 1), most likely first.
 * Valid until the next call on @s. Returns how many.
 */
size_t lumen_sampler_candidates(struct lumen_sampler *s, const float *logits,
				const int32_t **ids, const float **probs);

/* the PRNG, exposed for tests: a uniform double in [0, 1) */
double lumen_sampler_uniform(struct lumen_sampler *s);

#ifdef __cplusplus
}
#endif

#endif /* LUMEN_SAMPLING_H */
