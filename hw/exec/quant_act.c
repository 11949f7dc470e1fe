// SPDX-License-Identifier: MIT
/* The executor's quantization of activations for its integer dot products. */
#include <math.h>

#include "exec_internal.h"

/*
 * float -> int8 with every input defined (isa.rst, "Numerics"): a NaN
 * product becomes 0 and values saturate at +-127, so NaN and Inf
 * activations never reach an out-of-range conversion. The AVX2 kernels
 * do the same with an ordered-compare mask and min/max.
 */
static inline int8_t sat_i8(float v)
{
	if (v != v)
		return 0;
	v = nearbyintf(v);	/* ties to even */
	return (int8_t)(v < -127.0f ? -127.0f : v > 127.0f ? 127.0f : v);
}

/*
 * Activations for the integer dot products: Q8_0 the way ggml's x86 code
 * quantizes matmul inputs (multiplier 127 / amax, ties to even), so our
 * results track llama.cpp's; the scale kept as the float of its F16 value,
 * values in a separate array.
 */
void lumen_quantize_act_scalar(const float *x, int8_t *qs, float *d, float *s,
			       size_t nb)
{
	for (size_t i = 0; i < nb; i++, x += LUMEN_QK, qs += LUMEN_QK) {
		float amax = 0.0f;
		int sum = 0;

		for (int j = 0; j < LUMEN_QK; j++)
			amax = fmaxf(amax, fabsf(x[j]));	/* NaNs ignored */
		float id = amax != 0.0f ? 127.0f / amax : 0.0f;

		d[i] = lumen_f16_to_f32(lumen_f32_to_f16(amax / 127.0f));
		for (int j = 0; j < LUMEN_QK; j++) {
			qs[j] = sat_i8(x[j] * id);
			sum += qs[j];
		}
		s[i] = d[i] * (float)sum;
	}
}

/*
 * Q8_K as ggml's quantize_row_q8_K: the signed value of largest magnitude
 * (the first one met) maps to -127, multiplier -127 / max, ties to even,
 * at most 127; the scale is the float 1 / multiplier (not rounded to F16).
 */
void lumen_quantize_act_k_scalar(const float *x, int8_t *qs, float *d,
				 int16_t *bsums, size_t nb)
{
	for (size_t i = 0; i < nb; i++, x += LUMEN_QK_K, qs += LUMEN_QK_K,
	     bsums += LUMEN_QK_K / 16) {
		float amax = 0.0f, max = 0.0f;

		for (int j = 0; j < LUMEN_QK_K; j++) {
			if (fabsf(x[j]) > amax) {	/* a NaN never is */
				amax = fabsf(x[j]);
				max = x[j];
			}
		}
		if (amax == 0.0f) {
			d[i] = 0.0f;
			for (int j = 0; j < LUMEN_QK_K; j++)
				qs[j] = 0;
			for (int j = 0; j < LUMEN_QK_K / 16; j++)
				bsums[j] = 0;
			continue;
		}
		float iscale = -127.0f / max;

		for (int j = 0; j < LUMEN_QK_K; j++) {
			qs[j] = sat_i8(iscale * x[j]);
		}
		for (int j = 0; j < LUMEN_QK_K / 16; j++) {
			int sum = 0;

			for (int l = 0; l < 16; l++)
				sum += qs[16 * j + l];
			bsums[j] = (int16_t)sum;
		}
		d[i] = 1.0f / iscale;
	}
}
