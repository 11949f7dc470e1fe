// SPDX-License-Identifier: MIT
/*
 * GGUF's Q8_0 and Q4_0 block formats: quantization (bit-exact with the
 * reference ggml routines, so files we write load anywhere) and
 * dequantization of any dtype to F32.
 */
#include <math.h>
#include <string.h>

#include "exec_internal.h"

void lumen_quantize_row_q8_0(const float *x, void *blocks, size_t n)
{
	struct lumen_blk_q8_0 *b = blocks;

	for (size_t i = 0; i < n / LUMEN_QK; i++, x += LUMEN_QK) {
		float amax = 0.0f;

		for (int j = 0; j < LUMEN_QK; j++)
			amax = fmaxf(amax, fabsf(x[j]));
		float d = amax / 127.0f;
		float id = d != 0.0f ? 1.0f / d : 0.0f;

		b[i].d = lumen_f32_to_f16(d);
		for (int j = 0; j < LUMEN_QK; j++)
			b[i].qs[j] = (int8_t)roundf(x[j] * id);
	}
}

void lumen_quantize_row_q4_0(const float *x, void *blocks, size_t n)
{
	struct lumen_blk_q4_0 *b = blocks;

	for (size_t i = 0; i < n / LUMEN_QK; i++, x += LUMEN_QK) {
		float amax = 0.0f, max = 0.0f;

		/* the signed value of largest magnitude maps to -8 */
		for (int j = 0; j < LUMEN_QK; j++) {
			if (amax < fabsf(x[j])) {
				amax = fabsf(x[j]);
				max = x[j];
			}
		}
		float d = max / -8.0f;
		float id = d != 0.0f ? 1.0f / d : 0.0f;

		b[i].d = lumen_f32_to_f16(d);
		for (int j = 0; j < LUMEN_QK / 2; j++) {
			int8_t lo = (int8_t)(x[j] * id + 8.5f);
			int8_t hi = (int8_t)(x[j + LUMEN_QK / 2] * id + 8.5f);

			lo = lo < 15 ? lo : 15;
			hi = hi < 15 ? hi : 15;
			b[i].qs[j] = (uint8_t)(lo | hi << 4);
		}
	}
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

void lumen_dequantize_row(uint32_t dtype, const void *src, float *dst, size_t n)
{
	switch (dtype) {
	case LUMEN_DTYPE_F32:
		memcpy(dst, src, n * sizeof(float));
		break;
	case LUMEN_DTYPE_F16: {
		const uint8_t *h = src;

		for (size_t i = 0; i < n; i++) {
			uint16_t v;

			memcpy(&v, h + 2 * i, 2);
			dst[i] = lumen_f16_to_f32(v);
		}
		break;
	}
	case LUMEN_DTYPE_Q8_0: {
		const struct lumen_blk_q8_0 *b = src;

		for (size_t i = 0; i < n / LUMEN_QK; i++) {
			float d = lumen_f16_to_f32(b[i].d);

			for (int j = 0; j < LUMEN_QK; j++)
				dst[i * LUMEN_QK + j] = d * b[i].qs[j];
		}
		break;
	}
	case LUMEN_DTYPE_Q4_0: {
		const struct lumen_blk_q4_0 *b = src;

		for (size_t i = 0; i < n / LUMEN_QK; i++) {
			float d = lumen_f16_to_f32(b[i].d);
			float *o = dst + i * LUMEN_QK;

			for (int j = 0; j < LUMEN_QK / 2; j++) {
				o[j] = d * ((b[i].qs[j] & 0xf) - 8);
				o[j + LUMEN_QK / 2] = d * ((b[i].qs[j] >> 4) - 8);
			}
		}
		break;
	}
	case LUMEN_DTYPE_I32: {
		const uint8_t *p = src;

		for (size_t i = 0; i < n; i++) {
			int32_t v;

			memcpy(&v, p + 4 * i, 4);
			dst[i] = (float)v;
		}
		break;
	}
	default:
		memset(dst, 0, n * sizeof(float));
	}
}
