// SPDX-License-Identifier: MIT
/* F16 conversions and GGUF block (de)quantization against naive references. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_exec.h"
#include "lumen_test.h"

static uint32_t bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static float from_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

TEST(f16_to_f32_all_65536)
{
	int bad = 0;

	for (uint32_t h = 0; h < 65536; h++) {
		float got = lumen_f16_to_f32((uint16_t)h);
		double want = ref_f16_to_double((uint16_t)h);

		if (isnan(want) ? !isnan(got) : (got != want || !signbit(got) != !signbit(want)))
			bad++;
	}
	CHECK_EQ(bad, 0);
}

TEST(f32_to_f16_roundtrip_all_halves)
{
	int bad = 0;

	for (uint32_t h = 0; h < 65536; h++) {
		if (((h >> 10) & 31) == 31 && (h & 1023))
			continue;	/* NaN payloads checked separately */
		if (lumen_f32_to_f16(lumen_f16_to_f32((uint16_t)h)) != h)
			bad++;
	}
	CHECK_EQ(bad, 0);
}

TEST(f32_to_f16_random_bit_patterns_match_reference)
{
	int bad = 0;

	rng_seed(7);
	for (int i = 0; i < 2000000; i++) {
		float f = from_bits(rng_u32() ^ (rng_u32() << 21));

		if (isnan(f))
			continue;
		if (lumen_f32_to_f16(f) != ref_f32_to_f16(f))
			bad++;
	}
	CHECK_EQ(bad, 0);
}

TEST(f32_to_f16_ties_round_to_even)
{
	/* 1 + 2^-11 is halfway between 1 and 1 + 2^-10: stays at the even 1 */
	CHECK_EQ(lumen_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
	/* 1 + 3*2^-11 is halfway between odd and even mantissas: goes up */
	CHECK_EQ(lumen_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
	/* just above a tie rounds up */
	CHECK_EQ(lumen_f32_to_f16(from_bits(bits(1.0f + 0x1p-11f) + 1)), 0x3c01);
	/* subnormal tie: 2^-25 rounds to zero, 3*2^-25 to 2*2^-24 */
	CHECK_EQ(lumen_f32_to_f16(0x1p-25f), 0x0000);
	CHECK_EQ(lumen_f32_to_f16(3 * 0x1p-25f), 0x0002);
	CHECK_EQ(lumen_f32_to_f16(-0x1p-24f), 0x8001);
}

TEST(f32_to_f16_overflow_infinity_nan)
{
	CHECK_EQ(lumen_f32_to_f16(65504.0f), 0x7bff);
	CHECK_EQ(lumen_f32_to_f16(65519.99f), 0x7bff);
	CHECK_EQ(lumen_f32_to_f16(65520.0f), 0x7c00);
	CHECK_EQ(lumen_f32_to_f16(-1e30f), 0xfc00);
	CHECK_EQ(lumen_f32_to_f16(INFINITY), 0x7c00);
	CHECK_EQ(lumen_f32_to_f16(-0.0f), 0x8000);
	uint16_t n = lumen_f32_to_f16(NAN);

	CHECK((n & 0x7c00) == 0x7c00 && (n & 0x3ff) != 0);
	CHECK(isnan(lumen_f16_to_f32(0x7e01)));
	CHECK(isinf(lumen_f16_to_f32(0xfc00)) && lumen_f16_to_f32(0xfc00) < 0);
}

/* GGUF's reference Q8_0 written out plainly */
static void naive_q8_0(const float *x, uint8_t *out, size_t n)
{
	for (size_t b = 0; b < n / 32; b++) {
		float amax = 0;

		for (int j = 0; j < 32; j++)
			if (fabsf(x[b * 32 + j]) > amax)
				amax = fabsf(x[b * 32 + j]);
		float d = amax / 127, id = d ? 1 / d : 0;
		uint16_t h = ref_f32_to_f16(d);

		memcpy(out + 34 * b, &h, 2);
		for (int j = 0; j < 32; j++)
			out[34 * b + 2 + j] = (uint8_t)(int8_t)roundf(x[b * 32 + j] * id);
	}
}

static void naive_q4_0(const float *x, uint8_t *out, size_t n)
{
	for (size_t b = 0; b < n / 32; b++) {
		float amax = 0, max = 0;

		for (int j = 0; j < 32; j++)
			if (fabsf(x[b * 32 + j]) > amax) {
				amax = fabsf(x[b * 32 + j]);
				max = x[b * 32 + j];
			}
		float d = max / -8, id = d ? 1 / d : 0;
		uint16_t h = ref_f32_to_f16(d);

		memcpy(out + 18 * b, &h, 2);
		for (int j = 0; j < 16; j++) {
			int lo = (int8_t)(x[b * 32 + j] * id + 8.5f);
			int hi = (int8_t)(x[b * 32 + 16 + j] * id + 8.5f);

			out[18 * b + 2 + j] = (uint8_t)((lo > 15 ? 15 : lo) | (hi > 15 ? 15 : hi) << 4);
		}
	}
}

static void check_quant(uint32_t dtype, size_t n, float lo, float hi)
{
	size_t bs = dtype == LUMEN_DTYPE_Q8_0 ? 34 : 18;
	float *x = malloc(n * sizeof(float));
	uint8_t *got = malloc(n / 32 * bs), *want = malloc(n / 32 * bs);
	double *deq = malloc(n * sizeof(double));
	float *back = malloc(n * sizeof(float));

	rng_fill(x, n, lo, hi);
	x[3] = 0;
	if (dtype == LUMEN_DTYPE_Q8_0) {
		lumen_quantize_row_q8_0(x, got, n);
		naive_q8_0(x, want, n);
	} else {
		lumen_quantize_row_q4_0(x, got, n);
		naive_q4_0(x, want, n);
	}
	CHECK(memcmp(got, want, n / 32 * bs) == 0);
	/* and dequantization agrees with the independent decoder, exactly */
	ref_dequant_row(dtype, got, deq, n);
	lumen_dequantize_row(dtype, got, back, n);
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		if ((double)back[i] != deq[i])
			bad++;
	CHECK_EQ(bad, 0);
	/* quantization error stays within half a step (plus F16 scale rounding) */
	double worst = 0;

	for (size_t b = 0; b < n / 32; b++) {
		double amax = 0;

		for (int j = 0; j < 32; j++)
			amax = fmax(amax, fabs(x[b * 32 + j]));
		double step = dtype == LUMEN_DTYPE_Q8_0 ? amax / 127 : amax / 8;

		for (int j = 0; j < 32; j++)
			worst = fmax(worst, fabs(deq[b * 32 + j] - x[b * 32 + j]) / step);
	}
	CHECK_MSG(worst <= (dtype == LUMEN_DTYPE_Q8_0 ? 0.57 : 1.01), "worst error %.3f steps", worst);
	free(x);
	free(got);
	free(want);
	free(deq);
	free(back);
}

TEST(quantize_q8_0_bit_exact_gguf)
{
	rng_seed(11);
	check_quant(LUMEN_DTYPE_Q8_0, 32 * 64, -3, 3);
	check_quant(LUMEN_DTYPE_Q8_0, 32, -1e-3f, 1e-3f);
}

TEST(quantize_q4_0_bit_exact_gguf)
{
	rng_seed(12);
	check_quant(LUMEN_DTYPE_Q4_0, 32 * 64, -3, 3);
	check_quant(LUMEN_DTYPE_Q4_0, 96, -0.5f, 2.0f);
}

TEST(quantize_all_zero_block)
{
	float x[32] = { 0 };
	uint8_t q8[34], q4[18];
	float back[32];

	memset(q8, 0xff, sizeof(q8));
	memset(q4, 0xff, sizeof(q4));
	lumen_quantize_row_q8_0(x, q8, 32);
	lumen_quantize_row_q4_0(x, q4, 32);
	CHECK_EQ(q8[0] | q8[1], 0);
	CHECK_EQ(q8[2], 0);
	CHECK_EQ(q4[2], 0x88);	/* zero is nibble 8 */
	lumen_dequantize_row(LUMEN_DTYPE_Q4_0, q4, back, 32);
	CHECK(back[0] == 0 && back[31] == 0);
}

TEST(q4_0_nibble_order)
{
	/* weights 0..15 in low nibbles, 16..31 in high nibbles */
	uint8_t blk[18];
	uint16_t one = 0x3c00;
	float out[32];

	memcpy(blk, &one, 2);
	for (int j = 0; j < 16; j++)
		blk[2 + j] = (uint8_t)((j & 15) | (15 - j) << 4);
	lumen_dequantize_row(LUMEN_DTYPE_Q4_0, blk, out, 32);
	CHECK(out[0] == -8 && out[15] == 7);
	CHECK(out[16] == 7 && out[31] == -8);
}

TEST(dequantize_f16_f32_rows)
{
	uint16_t h[5] = { 0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000 };
	float f[5], src[3] = { 1.5f, -2, 3 }, dst[3];

	lumen_dequantize_row(LUMEN_DTYPE_F16, h, f, 5);
	CHECK(f[0] == 1 && f[1] == -2 && f[2] == 0x1p-24f && f[3] == 65504 && signbit(f[4]));
	lumen_dequantize_row(LUMEN_DTYPE_F32, src, dst, 3);
	CHECK(memcmp(src, dst, sizeof(dst)) == 0);
}
