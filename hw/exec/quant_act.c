// SPDX-License-Identifier: MIT
/* The executor's quantization of activations for its integer dot products. */
#include <math.h>

#include "exec_internal.h"

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
			amax = fmaxf(amax, fabsf(x[j]));
		float id = amax != 0.0f ? 127.0f / amax : 0.0f;

		d[i] = lumen_f16_to_f32(lumen_f32_to_f16(amax / 127.0f));
		for (int j = 0; j < LUMEN_QK; j++) {
			qs[j] = (int8_t)nearbyintf(x[j] * id);	/* ties to even */
			sum += qs[j];
		}
		s[i] = d[i] * (float)sum;
	}
}
