// SPDX-License-Identifier: MIT
/* IEEE binary16 <-> binary32 without relying on the CPU having F16C. */
#include <string.h>

#include "lumen_exec.h"

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
