// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The dtype row code: IEEE binary16 <-> binary32 without relying on the CPU
 * having F16C, and GGUF's Q8_0 / Q4_0 quantization (bit-exact with ggml's
 * reference routines, so the files we write load anywhere) and
 * dequantization of any dtype to F32.
 */
#include <math.h>
#include <string.h>

#include "lumen_dtype.h"

static uint32_t f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static float bits_f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

float lumen_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t mant = h & 0x3ff;

	if (exp == 0) {
		/* zero or subnormal: mant * 2^-24 is exact in binary32 */
		float v = (float)mant * 0x1p-24f;

		return sign ? -v : v;
	}
	if (exp == 31)
		return bits_f32(sign | 0x7f800000 | mant << 13);
	return bits_f32(sign | (exp + 112) << 23 | mant << 13);
}

/* keep the bits above shift, rounding the rest to nearest, ties to even */
static uint32_t round_shift(uint32_t m, uint32_t shift)
{
	uint32_t r = m >> shift;
	uint32_t rem = m & ((1u << shift) - 1);
	uint32_t half = 1u << (shift - 1);

	if (rem > half || (rem == half && (r & 1)))
		r++;
	return r;
}

uint16_t lumen_f32_to_f16(float f)
{
	uint32_t x = f32_bits(f);
	uint16_t sign = (x >> 16) & 0x8000;
	uint32_t a = x & 0x7fffffff;
	uint32_t e = a >> 23;

	if (a > 0x7f800000)	/* NaN: stay a quiet NaN, keep the top payload */
		return sign | 0x7e00 | ((a >> 13) & 0x3ff);
	if (a >= 0x477ff000)	/* 65520 and above round to infinity */
		return sign | 0x7c00;
	if (a < 0x33000000)	/* at most 2^-25: rounds to zero */
		return sign;
	if (a < 0x38800000)	/* below 2^-14: a subnormal half */
		return sign | round_shift((a & 0x7fffff) | 0x800000, 126 - e);
	/* normal; a carry out of the mantissa correctly bumps the exponent */
	return sign | round_shift(a - (112u << 23), 13);
}

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
