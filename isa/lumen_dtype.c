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

/* float -> integer for the quantizers: NaN to @nan, else clamped (isa.rst, "Numerics") */
static int sat_int(float v, float lo, float hi, int nan)
{
	if (v != v)
		return nan;
	return (int)(v < lo ? lo : v > hi ? hi : v);
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
			b[i].qs[j] = (int8_t)sat_int(roundf(x[j] * id), -127.0f, 127.0f, 0);
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
			/* 8 is 0; the clamp keeps ggml's truncation of finite values */
			int8_t lo = (int8_t)sat_int(x[j] * id + 8.5f, 0.0f, 15.0f, 8);
			int8_t hi = (int8_t)sat_int(x[j + LUMEN_QK / 2] * id + 8.5f, 0.0f, 15.0f, 8);
			b[i].qs[j] = (uint8_t)(lo | hi << 4);
		}
	}
}

uint16_t lumen_f32_to_bf16(float f)
{
	uint32_t u = f32_bits(f);

	if ((u & 0x7fffffff) > 0x7f800000)	/* NaN: keep it quiet */
		return (uint16_t)(u >> 16 | 64);
	return (uint16_t)((u + 0x7fff + (u >> 16 & 1)) >> 16);
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* the signed value of largest magnitude of x[0..n) */
static float signed_max(const float *x, int n)
{
	float amax = 0.0f, max = 0.0f;

	for (int j = 0; j < n; j++) {
		if (amax < fabsf(x[j])) {
			amax = fabsf(x[j]);
			max = x[j];
		}
	}
	return max;
}

/* Q5_0 / Q5_1 / Q4_1 nibbles and fifth bits of 32 unsigned values */
static void pack_32(const int *q, uint8_t *qs, uint8_t *qh)
{
	uint32_t h = 0;

	for (int j = 0; j < LUMEN_QK / 2; j++) {
		qs[j] = (uint8_t)((q[j] & 0xf) | (q[j + LUMEN_QK / 2] & 0xf) << 4);
		h |= (uint32_t)(q[j] >> 4 & 1) << j;
		h |= (uint32_t)(q[j + LUMEN_QK / 2] >> 4 & 1) << (j + LUMEN_QK / 2);
	}
	if (qh)
		for (int i = 0; i < 4; i++)
			qh[i] = (uint8_t)(h >> 8 * i);
}

/* 32 values as d * q + m, q in 0..qmax; d and m F16 */
static void quant_min_32(const float *x, int qmax, uint16_t *dp, uint16_t *mp,
			 int *q)
{
	float lo = x[0], hi = x[0];

	for (int j = 1; j < LUMEN_QK; j++) {
		lo = fminf(lo, x[j]);
		hi = fmaxf(hi, x[j]);
	}
	*dp = lumen_f32_to_f16((hi - lo) / qmax);
	*mp = lumen_f32_to_f16(lo);
	float d = lumen_f16_to_f32(*dp), m = lumen_f16_to_f32(*mp);
	float id = d != 0.0f ? 1.0f / d : 0.0f;

	for (int j = 0; j < LUMEN_QK; j++)
		q[j] = clampi((int)lroundf((x[j] - m) * id), 0, qmax);
}

static void pack_k4_scales(uint8_t *out, const int *sc, const int *m)
{
	memset(out, 0, LUMEN_K_SCALE_SIZE);
	for (int j = 0; j < 8; j++) {
		if (j < 4) {
			out[j] |= (uint8_t)sc[j];
			out[j + 4] |= (uint8_t)m[j];
		} else {
			out[j + 4] = (uint8_t)((sc[j] & 0xf) | (m[j] & 0xf) << 4);
			out[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
			out[j] |= (uint8_t)((m[j] >> 4) << 6);
		}
	}
}

/*
 * One Q4_K (qmax 15) or Q5_K (qmax 31) super-block: each sub-block of 32
 * as scale * q - min with q in 0..qmax, min >= 0; scales and mins to 6
 * bits against the F16 d and dmin. q[] gets the 256 unsigned values.
 */
static void quant_k_super(const float *x, int qmax, uint16_t *dp, uint16_t *dmp,
			  uint8_t *scales, int *q)
{
	float scale[8], min[8], smax = 0.0f, mmax = 0.0f;
	int sc[8], m[8];

	for (int j = 0; j < 8; j++) {
		float lo = 0.0f, hi = 0.0f;

		for (int l = 0; l < 32; l++) {
			lo = fminf(lo, x[32 * j + l]);
			hi = fmaxf(hi, x[32 * j + l]);
		}
		scale[j] = (hi - lo) / qmax;
		min[j] = -lo;
		smax = fmaxf(smax, scale[j]);
		mmax = fmaxf(mmax, min[j]);
	}
	*dp = lumen_f32_to_f16(smax / 63);
	*dmp = lumen_f32_to_f16(mmax / 63);
	float d = lumen_f16_to_f32(*dp), dmin = lumen_f16_to_f32(*dmp);

	for (int j = 0; j < 8; j++) {
		/* round the scale up so the range still fits */
		sc[j] = d != 0.0f ? clampi((int)ceilf(scale[j] / d), 0, 63) : 0;
		m[j] = dmin != 0.0f ? clampi((int)lroundf(min[j] / dmin), 0, 63) : 0;
		float ds = d * sc[j], dm = dmin * m[j];
		float id = ds != 0.0f ? 1.0f / ds : 0.0f;

		for (int l = 0; l < 32; l++)
			q[32 * j + l] = clampi((int)lroundf((x[32 * j + l] + dm) * id), 0, qmax);
	}
	pack_k4_scales(scales, sc, m);
}

/* Q4_K / Q5_K element e's nibble position: chunk of 64, low or high half */
static void k_nibbles(const int *q, uint8_t *qs)
{
	for (int p = 0; p < 4; p++)
		for (int l = 0; l < 32; l++)
			qs[32 * p + l] = (uint8_t)((q[64 * p + l] & 0xf) |
						   (q[64 * p + 32 + l] & 0xf) << 4);
}

void lumen_quantize_row(uint32_t dtype, const float *x, void *blocks, size_t n)
{
	int q[LUMEN_QK_K];

	switch (dtype) {
	case LUMEN_DTYPE_Q8_0:
		lumen_quantize_row_q8_0(x, blocks, n);
		break;
	case LUMEN_DTYPE_Q4_0:
		lumen_quantize_row_q4_0(x, blocks, n);
		break;
	case LUMEN_DTYPE_Q4_1: {
		struct lumen_blk_q4_1 *b = blocks;

		for (size_t i = 0; i < n / LUMEN_QK; i++, x += LUMEN_QK) {
			uint16_t d, m;

			quant_min_32(x, 15, &d, &m, q);
			b[i].d = d;
			b[i].m = m;
			pack_32(q, b[i].qs, NULL);
		}
		break;
	}
	case LUMEN_DTYPE_Q5_1: {
		struct lumen_blk_q5_1 *b = blocks;

		for (size_t i = 0; i < n / LUMEN_QK; i++, x += LUMEN_QK) {
			uint16_t d, m;

			quant_min_32(x, 31, &d, &m, q);
			b[i].d = d;
			b[i].m = m;
			pack_32(q, b[i].qs, b[i].qh);
		}
		break;
	}
	case LUMEN_DTYPE_Q5_0: {
		struct lumen_blk_q5_0 *b = blocks;

		for (size_t i = 0; i < n / LUMEN_QK; i++, x += LUMEN_QK) {
			/* the signed value of largest magnitude maps to -16 */
			b[i].d = lumen_f32_to_f16(signed_max(x, LUMEN_QK) / -16.0f);
			float d = lumen_f16_to_f32(b[i].d);
			float id = d != 0.0f ? 1.0f / d : 0.0f;

			for (int j = 0; j < LUMEN_QK; j++)
				q[j] = clampi((int)lroundf(x[j] * id) + 16, 0, 31);
			pack_32(q, b[i].qs, b[i].qh);
		}
		break;
	}
	case LUMEN_DTYPE_Q4_K: {
		struct lumen_blk_q4_k *b = blocks;

		for (size_t i = 0; i < n / LUMEN_QK_K; i++, x += LUMEN_QK_K) {
			uint16_t d, dmin;

			quant_k_super(x, 15, &d, &dmin, b[i].scales, q);
			b[i].d = d;
			b[i].dmin = dmin;
			k_nibbles(q, b[i].qs);
		}
		break;
	}
	case LUMEN_DTYPE_Q5_K: {
		struct lumen_blk_q5_k *b = blocks;

		for (size_t i = 0; i < n / LUMEN_QK_K; i++, x += LUMEN_QK_K) {
			uint16_t d, dmin;

			quant_k_super(x, 31, &d, &dmin, b[i].scales, q);
			b[i].d = d;
			b[i].dmin = dmin;
			k_nibbles(q, b[i].qs);
			memset(b[i].qh, 0, sizeof(b[i].qh));
			for (int p = 0; p < 4; p++)
				for (int l = 0; l < 32; l++)
					b[i].qh[l] |= (uint8_t)((q[64 * p + l] >> 4 & 1) << (2 * p) |
								(q[64 * p + 32 + l] >> 4 & 1) << (2 * p + 1));
		}
		break;
	}
	case LUMEN_DTYPE_Q6_K: {
		struct lumen_blk_q6_k *b = blocks;

		for (size_t i = 0; i < n / LUMEN_QK_K; i++, x += LUMEN_QK_K) {
			float scale[16], smax = 0.0f, dmax = 0.0f;

			/* each sub-block of 16 as scale * (q - 32), q in 0..63 */
			for (int s = 0; s < 16; s++) {
				scale[s] = signed_max(x + 16 * s, 16) / -32.0f;
				if (fabsf(scale[s]) > smax) {
					smax = fabsf(scale[s]);
					dmax = scale[s];
				}
			}
			b[i].d = lumen_f32_to_f16(dmax / -128.0f);
			float d = lumen_f16_to_f32(b[i].d);
			float id = d != 0.0f ? 1.0f / d : 0.0f;

			for (int s = 0; s < 16; s++) {
				int sc = clampi((int)lroundf(scale[s] * id), -128, 127);
				float ds = d * sc, ids = ds != 0.0f ? 1.0f / ds : 0.0f;

				b[i].scales[s] = (int8_t)sc;
				for (int l = 0; l < 16; l++)
					q[16 * s + l] = clampi((int)lroundf(x[16 * s + l] * ids) + 32, 0, 63);
			}
			memset(b[i].qh, 0, sizeof(b[i].qh));
			for (int h = 0; h < 2; h++) {
				const int *qq = q + 128 * h;
				uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;

				for (int l = 0; l < 32; l++) {
					ql[l] = (uint8_t)((qq[l] & 0xf) | (qq[l + 64] & 0xf) << 4);
					ql[l + 32] = (uint8_t)((qq[l + 32] & 0xf) | (qq[l + 96] & 0xf) << 4);
					qh[l] = (uint8_t)((qq[l] >> 4) | (qq[l + 32] >> 4) << 2 |
							  (qq[l + 64] >> 4) << 4 | (qq[l + 96] >> 4) << 6);
				}
			}
		}
		break;
	}
	case LUMEN_DTYPE_BF16: {
		uint8_t *o = blocks;

		for (size_t i = 0; i < n; i++) {
			uint16_t h = lumen_f32_to_bf16(x[i]);

			memcpy(o + 2 * i, &h, 2);
		}
		break;
	}
	case LUMEN_DTYPE_F16: {
		uint8_t *o = blocks;

		for (size_t i = 0; i < n; i++) {
			uint16_t h = lumen_f32_to_f16(x[i]);

			memcpy(o + 2 * i, &h, 2);
		}
		break;
	}
	case LUMEN_DTYPE_F32:
		memcpy(blocks, x, n * sizeof(float));
		break;
	}
}

/*
 * Dequantization, the float operations in the order of GGUF's reference
 * code (ggml-quants.c), so every value is bit-identical with llama.cpp's:
 * w = (float)q * d (+ m) for the 32-blocks, (d * sc) * q - (dmin * m) for
 * Q4_K/Q5_K, (d * sc) * q for Q6_K. Each product is rounded to float before
 * the add (no fused multiply-add: the build targets baseline x86-64).
 */
static void dequant_q4_1(const struct lumen_blk_q4_1 *b, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, y += LUMEN_QK) {
		float d = lumen_f16_to_f32(b[i].d), m = lumen_f16_to_f32(b[i].m);

		for (int j = 0; j < LUMEN_QK / 2; j++) {
			y[j] = (float)(b[i].qs[j] & 0xf) * d + m;
			y[j + LUMEN_QK / 2] = (float)(b[i].qs[j] >> 4) * d + m;
		}
	}
}

static uint32_t load_qh(const uint8_t *qh)
{
	return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
	       (uint32_t)qh[3] << 24;
}

/* the 32 unsigned 5-bit values of a Q5_0/Q5_1 block */
static void q5_values(const uint8_t *qs, const uint8_t *qhb, int *q)
{
	uint32_t qh = load_qh(qhb);

	for (int j = 0; j < LUMEN_QK / 2; j++) {
		q[j] = (qs[j] & 0xf) | (int)(qh >> j & 1) << 4;
		q[j + LUMEN_QK / 2] = (qs[j] >> 4) | (int)(qh >> (j + 16) & 1) << 4;
	}
}

static void dequant_q5_0(const struct lumen_blk_q5_0 *b, float *y, size_t nb)
{
	int q[LUMEN_QK];

	for (size_t i = 0; i < nb; i++, y += LUMEN_QK) {
		float d = lumen_f16_to_f32(b[i].d);

		q5_values(b[i].qs, b[i].qh, q);
		for (int j = 0; j < LUMEN_QK; j++)
			y[j] = (float)(q[j] - 16) * d;
	}
}

static void dequant_q5_1(const struct lumen_blk_q5_1 *b, float *y, size_t nb)
{
	int q[LUMEN_QK];

	for (size_t i = 0; i < nb; i++, y += LUMEN_QK) {
		float d = lumen_f16_to_f32(b[i].d), m = lumen_f16_to_f32(b[i].m);

		q5_values(b[i].qs, b[i].qh, q);
		for (int j = 0; j < LUMEN_QK; j++)
			y[j] = (float)q[j] * d + m;
	}
}

/* Q4_K (qh NULL) and Q5_K: chunk p of 64 is sub-blocks 2p (low nibbles), 2p+1 */
static void dequant_k45(uint16_t dd, uint16_t dm, const uint8_t *scales,
			const uint8_t *qh, const uint8_t *qs, float *y)
{
	float d = lumen_f16_to_f32(dd), dmin = lumen_f16_to_f32(dm);

	for (int p = 0; p < 4; p++, qs += 32, y += 64) {
		uint8_t sc, m;

		lumen_k4_scale_min(scales, 2 * p, &sc, &m);
		float d1 = d * sc, m1 = dmin * m;

		lumen_k4_scale_min(scales, 2 * p + 1, &sc, &m);
		float d2 = d * sc, m2 = dmin * m;

		for (int l = 0; l < 32; l++) {
			int lo = qs[l] & 0xf, hi = qs[l] >> 4;

			if (qh) {
				lo |= (qh[l] >> (2 * p) & 1) << 4;
				hi |= (qh[l] >> (2 * p + 1) & 1) << 4;
			}
			y[l] = d1 * (float)lo - m1;
			y[l + 32] = d2 * (float)hi - m2;
		}
	}
}

static void dequant_q6_k(const struct lumen_blk_q6_k *b, float *y)
{
	float d = lumen_f16_to_f32(b->d);

	for (int h = 0; h < 2; h++, y += 128) {
		const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
		const int8_t *sc = b->scales + 8 * h;

		for (int l = 0; l < 32; l++) {
			int s = l / 16;
			int q1 = ((ql[l] & 0xf) | (qh[l] & 3) << 4) - 32;
			int q2 = ((ql[l + 32] & 0xf) | (qh[l] >> 2 & 3) << 4) - 32;
			int q3 = ((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4) - 32;
			int q4 = ((ql[l + 32] >> 4) | (qh[l] >> 6 & 3) << 4) - 32;

			y[l] = d * sc[s] * (float)q1;
			y[l + 32] = d * sc[s + 2] * (float)q2;
			y[l + 64] = d * sc[s + 4] * (float)q3;
			y[l + 96] = d * sc[s + 6] * (float)q4;
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
	case LUMEN_DTYPE_BF16: {
		const uint8_t *h = src;

		for (size_t i = 0; i < n; i++) {
			uint16_t v;

			memcpy(&v, h + 2 * i, 2);
			dst[i] = bits_f32((uint32_t)v << 16);
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
	case LUMEN_DTYPE_Q4_1:
		dequant_q4_1(src, dst, n / LUMEN_QK);
		break;
	case LUMEN_DTYPE_Q5_0:
		dequant_q5_0(src, dst, n / LUMEN_QK);
		break;
	case LUMEN_DTYPE_Q5_1:
		dequant_q5_1(src, dst, n / LUMEN_QK);
		break;
	case LUMEN_DTYPE_Q4_K: {
		const struct lumen_blk_q4_k *b = src;

		for (size_t i = 0; i < n / LUMEN_QK_K; i++)
			dequant_k45(b[i].d, b[i].dmin, b[i].scales, NULL, b[i].qs,
				    dst + i * LUMEN_QK_K);
		break;
	}
	case LUMEN_DTYPE_Q5_K: {
		const struct lumen_blk_q5_k *b = src;

		for (size_t i = 0; i < n / LUMEN_QK_K; i++)
			dequant_k45(b[i].d, b[i].dmin, b[i].scales, b[i].qh, b[i].qs,
				    dst + i * LUMEN_QK_K);
		break;
	}
	case LUMEN_DTYPE_Q6_K: {
		const struct lumen_blk_q6_k *b = src;

		for (size_t i = 0; i < n / LUMEN_QK_K; i++)
			dequant_q6_k(&b[i], dst + i * LUMEN_QK_K);
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

/*
 * Q4_0x8: per block of 32 columns, the 8 rows' F16 scales, then 4 chunks
 * of 32 bytes; chunk c holds, for row r at bytes 4r..4r+3, the row's Q4_0
 * bytes 4c..4c+3 (low nibbles columns 4c.., high nibbles 16 + 4c..). One
 * 32-byte load and a mask or shift give 8 rows x 4 columns of nibbles, a
 * lane per row, against 4 activation bytes broadcast.
 */
#define R8_BLOCK (LUMEN_ROW_GROUP * sizeof(struct lumen_blk_q4_0))

void lumen_repack_q4_0_r8(const void *src, size_t src_stride, void *group,
			  size_t k)
{
	uint8_t *g = group;

	for (size_t b = 0; b < k / LUMEN_QK; b++, g += R8_BLOCK) {
		for (unsigned int r = 0; r < LUMEN_ROW_GROUP; r++) {
			const struct lumen_blk_q4_0 *w =
				(const void *)((const uint8_t *)src + r * src_stride);

			memcpy(g + 2 * r, &w[b].d, 2);
			for (int c = 0; c < 4; c++)
				memcpy(g + 16 + 32 * c + 4 * r, &w[b].qs[4 * c], 4);
		}
	}
}

void lumen_unpack_q4_0_r8(const void *group, unsigned int row, void *dst,
			  size_t k)
{
	const uint8_t *g = group;
	struct lumen_blk_q4_0 *w = dst;

	for (size_t b = 0; b < k / LUMEN_QK; b++, g += R8_BLOCK) {
		memcpy(&w[b].d, g + 2 * row, 2);
		for (int c = 0; c < 4; c++)
			memcpy(&w[b].qs[4 * c], g + 16 + 32 * c + 4 * row, 4);
	}
}

void lumen_dequantize_row_q4_0_r8(const void *group, unsigned int row,
				  float *dst, size_t k)
{
	struct lumen_blk_q4_0 blk;
	const uint8_t *g = group;

	for (size_t b = 0; b < k / LUMEN_QK; b++) {
		lumen_unpack_q4_0_r8(g + b * R8_BLOCK, row, &blk, LUMEN_QK);
		lumen_dequantize_row(LUMEN_DTYPE_Q4_0, &blk, dst + b * LUMEN_QK, LUMEN_QK);
	}
}

/* Q8_0x8: per block the 8 scales, then chunk c (0..7) of row i's qs[4c..4c+3] at 4i */
#define R8_BLOCK_Q8 (LUMEN_ROW_GROUP * sizeof(struct lumen_blk_q8_0))

void lumen_repack_q8_0_r8(const void *src, size_t src_stride, void *group,
			  size_t k)
{
	uint8_t *g = group;

	for (size_t b = 0; b < k / LUMEN_QK; b++, g += R8_BLOCK_Q8) {
		for (unsigned int r = 0; r < LUMEN_ROW_GROUP; r++) {
			const struct lumen_blk_q8_0 *w =
				(const void *)((const uint8_t *)src + r * src_stride);

			memcpy(g + 2 * r, &w[b].d, 2);
			for (int c = 0; c < 8; c++)
				memcpy(g + 16 + 32 * c + 4 * r, &w[b].qs[4 * c], 4);
		}
	}
}

void lumen_unpack_q8_0_r8(const void *group, unsigned int row, void *dst,
			  size_t k)
{
	const uint8_t *g = group;
	struct lumen_blk_q8_0 *w = dst;

	for (size_t b = 0; b < k / LUMEN_QK; b++, g += R8_BLOCK_Q8) {
		memcpy(&w[b].d, g + 2 * row, 2);
		for (int c = 0; c < 8; c++)
			memcpy(&w[b].qs[4 * c], g + 16 + 32 * c + 4 * row, 4);
	}
}

/*
 * Q4_Kx8: a super-block of a group is d[8], dmin[8] (F16), 3 chunks of
 * the rows' scale bytes, 32 chunks of their nibbles, each chunk a row per
 * 4 bytes, so a 32-byte load gives 8 rows' 4 scale bytes or 4 x 2 columns
 * in int32 lanes. The 6-bit packing of the scales is kept: the kernels
 * unpack them once per super-block and group (a few shifts and masks on
 * three vectors), and the file keeps Q4_K's size.
 */
#define R8_SUPER_Q4_K (LUMEN_ROW_GROUP * sizeof(struct lumen_blk_q4_k))

void lumen_repack_q4_k_r8(const void *src, size_t src_stride, void *group,
			  size_t k)
{
	uint8_t *g = group;

	for (size_t b = 0; b < k / LUMEN_QK_K; b++, g += R8_SUPER_Q4_K) {
		for (unsigned int r = 0; r < LUMEN_ROW_GROUP; r++) {
			const struct lumen_blk_q4_k *w =
				(const void *)((const uint8_t *)src + r * src_stride);

			memcpy(g + 2 * r, &w[b].d, 2);
			memcpy(g + 16 + 2 * r, &w[b].dmin, 2);
			for (int c = 0; c < 3; c++)
				memcpy(g + 32 + 32 * c + 4 * r, &w[b].scales[4 * c], 4);
			for (int c = 0; c < LUMEN_QK_K / 8; c++)
				memcpy(g + 128 + 32 * c + 4 * r, &w[b].qs[4 * c], 4);
		}
	}
}

void lumen_unpack_q4_k_r8(const void *group, unsigned int row, void *dst,
			  size_t k)
{
	const uint8_t *g = group;
	struct lumen_blk_q4_k *w = dst;

	for (size_t b = 0; b < k / LUMEN_QK_K; b++, g += R8_SUPER_Q4_K) {
		memcpy(&w[b].d, g + 2 * row, 2);
		memcpy(&w[b].dmin, g + 16 + 2 * row, 2);
		for (int c = 0; c < 3; c++)
			memcpy(&w[b].scales[4 * c], g + 32 + 32 * c + 4 * row, 4);
		for (int c = 0; c < LUMEN_QK_K / 8; c++)
			memcpy(&w[b].qs[4 * c], g + 128 + 32 * c + 4 * row, 4);
	}
}

/*
 * Q6_Kx8: a super-block of a group is d[8] (F16), 4 chunks of the rows'
 * int8 scales, 32 chunks of ql, 16 of qh, a row per 4 bytes of a chunk.
 */
#define R8_SUPER_Q6_K (LUMEN_ROW_GROUP * sizeof(struct lumen_blk_q6_k))

void lumen_repack_q6_k_r8(const void *src, size_t src_stride, void *group,
			  size_t k)
{
	uint8_t *g = group;

	for (size_t b = 0; b < k / LUMEN_QK_K; b++, g += R8_SUPER_Q6_K) {
		for (unsigned int r = 0; r < LUMEN_ROW_GROUP; r++) {
			const struct lumen_blk_q6_k *w =
				(const void *)((const uint8_t *)src + r * src_stride);

			memcpy(g + 2 * r, &w[b].d, 2);
			for (int c = 0; c < 4; c++)
				memcpy(g + 16 + 32 * c + 4 * r, &w[b].scales[4 * c], 4);
			for (int c = 0; c < 32; c++)
				memcpy(g + 144 + 32 * c + 4 * r, &w[b].ql[4 * c], 4);
			for (int c = 0; c < 16; c++)
				memcpy(g + 1168 + 32 * c + 4 * r, &w[b].qh[4 * c], 4);
		}
	}
}

void lumen_unpack_q6_k_r8(const void *group, unsigned int row, void *dst,
			  size_t k)
{
	const uint8_t *g = group;
	struct lumen_blk_q6_k *w = dst;

	for (size_t b = 0; b < k / LUMEN_QK_K; b++, g += R8_SUPER_Q6_K) {
		memcpy(&w[b].d, g + 2 * row, 2);
		for (int c = 0; c < 4; c++)
			memcpy(&w[b].scales[4 * c], g + 16 + 32 * c + 4 * row, 4);
		for (int c = 0; c < 32; c++)
			memcpy(&w[b].ql[4 * c], g + 144 + 32 * c + 4 * row, 4);
		for (int c = 0; c < 16; c++)
			memcpy(&w[b].qh[4 * c], g + 1168 + 32 * c + 4 * row, 4);
	}
}

/*
 * Q5_0x8: a block of a group is d[8], the rows' fifth bits, 4 chunks of
 * nibbles. A row's 32 fifth bits are reordered within its 4 bytes so that
 * byte l holds, for chunk c, the bit of column 4c + l at bit c and that of
 * column 16 + 4c + l at bit 4 + c: one shift and a mask then put them at
 * bit 4 of each byte of a chunk's low and high nibbles.
 */
#define R8_BLOCK_Q5 (LUMEN_ROW_GROUP * sizeof(struct lumen_blk_q5_0))

static uint32_t q5_bit_pos(int j)	/* where GGUF's bit j goes */
{
	int half = j / 16, c = j % 16 / 4, l = j % 4;

	return 8 * l + 4 * half + c;
}

void lumen_repack_q5_0_r8(const void *src, size_t src_stride, void *group,
			  size_t k)
{
	uint8_t *g = group;

	for (size_t b = 0; b < k / LUMEN_QK; b++, g += R8_BLOCK_Q5) {
		for (unsigned int r = 0; r < LUMEN_ROW_GROUP; r++) {
			const struct lumen_blk_q5_0 *w =
				(const void *)((const uint8_t *)src + r * src_stride);
			uint8_t out[4] = { 0 };

			memcpy(g + 2 * r, &w[b].d, 2);
			for (int j = 0; j < LUMEN_QK; j++) {
				uint32_t p = q5_bit_pos(j);

				if (w[b].qh[j / 8] >> (j % 8) & 1)
					out[p / 8] |= (uint8_t)(1u << (p % 8));
			}
			memcpy(g + 16 + 4 * r, out, 4);
			for (int c = 0; c < 4; c++)
				memcpy(g + 48 + 32 * c + 4 * r, &w[b].qs[4 * c], 4);
		}
	}
}

void lumen_unpack_q5_0_r8(const void *group, unsigned int row, void *dst,
			  size_t k)
{
	const uint8_t *g = group;
	struct lumen_blk_q5_0 *w = dst;

	for (size_t b = 0; b < k / LUMEN_QK; b++, g += R8_BLOCK_Q5) {
		const uint8_t *in = g + 16 + 4 * row;

		memcpy(&w[b].d, g + 2 * row, 2);
		memset(w[b].qh, 0, sizeof(w[b].qh));
		for (int j = 0; j < LUMEN_QK; j++) {
			uint32_t p = q5_bit_pos(j);

			if (in[p / 8] >> (p % 8) & 1)
				w[b].qh[j / 8] |= (uint8_t)(1u << (j % 8));
		}
		for (int c = 0; c < 4; c++)
			memcpy(&w[b].qs[4 * c], g + 48 + 32 * c + 4 * row, 4);
	}
}

void lumen_repack_r8(uint32_t dtype, const void *src, size_t src_stride,
		     void *group, size_t k)
{
	switch (dtype) {
	case LUMEN_DTYPE_Q4_0_R8:
		lumen_repack_q4_0_r8(src, src_stride, group, k);
		break;
	case LUMEN_DTYPE_Q8_0_R8:
		lumen_repack_q8_0_r8(src, src_stride, group, k);
		break;
	case LUMEN_DTYPE_Q4_K_R8:
		lumen_repack_q4_k_r8(src, src_stride, group, k);
		break;
	case LUMEN_DTYPE_Q6_K_R8:
		lumen_repack_q6_k_r8(src, src_stride, group, k);
		break;
	case LUMEN_DTYPE_Q5_0_R8:
		lumen_repack_q5_0_r8(src, src_stride, group, k);
		break;
	}
}

uint32_t lumen_r8_base(uint32_t dtype)
{
	switch (dtype) {
	case LUMEN_DTYPE_Q4_0_R8:
		return LUMEN_DTYPE_Q4_0;
	case LUMEN_DTYPE_Q8_0_R8:
		return LUMEN_DTYPE_Q8_0;
	case LUMEN_DTYPE_Q4_K_R8:
		return LUMEN_DTYPE_Q4_K;
	case LUMEN_DTYPE_Q6_K_R8:
		return LUMEN_DTYPE_Q6_K;
	case LUMEN_DTYPE_Q5_0_R8:
		return LUMEN_DTYPE_Q5_0;
	default:
		return dtype;
	}
}

void lumen_dequantize_row_r8(uint32_t dtype, const void *group,
			     unsigned int row, float *dst, size_t k)
{
	struct lumen_blk_q8_0 blk;
	const uint8_t *g = group;

	if (dtype == LUMEN_DTYPE_Q4_0_R8) {
		lumen_dequantize_row_q4_0_r8(group, row, dst, k);
		return;
	}
	if (dtype == LUMEN_DTYPE_Q4_K_R8) {
		struct lumen_blk_q4_k kb;

		for (size_t b = 0; b < k / LUMEN_QK_K; b++) {
			lumen_unpack_q4_k_r8(g + b * R8_SUPER_Q4_K, row, &kb, LUMEN_QK_K);
			lumen_dequantize_row(LUMEN_DTYPE_Q4_K, &kb, dst + b * LUMEN_QK_K,
					     LUMEN_QK_K);
		}
		return;
	}
	if (dtype == LUMEN_DTYPE_Q5_0_R8) {
		struct lumen_blk_q5_0 b5;

		for (size_t b = 0; b < k / LUMEN_QK; b++) {
			lumen_unpack_q5_0_r8(g + b * R8_BLOCK_Q5, row, &b5, LUMEN_QK);
			lumen_dequantize_row(LUMEN_DTYPE_Q5_0, &b5, dst + b * LUMEN_QK, LUMEN_QK);
		}
		return;
	}
	if (dtype == LUMEN_DTYPE_Q6_K_R8) {
		struct lumen_blk_q6_k kb;

		for (size_t b = 0; b < k / LUMEN_QK_K; b++) {
			lumen_unpack_q6_k_r8(g + b * R8_SUPER_Q6_K, row, &kb, LUMEN_QK_K);
			lumen_dequantize_row(LUMEN_DTYPE_Q6_K, &kb, dst + b * LUMEN_QK_K,
					     LUMEN_QK_K);
		}
		return;
	}
	for (size_t b = 0; b < k / LUMEN_QK; b++) {
		lumen_unpack_q8_0_r8(g + b * R8_BLOCK_Q8, row, &blk, LUMEN_QK);
		lumen_dequantize_row(LUMEN_DTYPE_Q8_0, &blk, dst + b * LUMEN_QK, LUMEN_QK);
	}
}
