// SPDX-License-Identifier: MIT
/*
 * AVX2 attention tiles (the avx2 table's attn_qk / attn_pv): up to two
 * (query, output) pairs share each key or value row, loaded and converted
 * from F16 once for both (16 ymm registers hold no more).
 *
 * Batch invariance: a score is one 8-lane accumulator over the head
 * dimension in order, the tail lanes zero, reduced by the same hadd tree
 * whichever of the four key slots it sits in; keys past n are computed
 * from a repeated row and not stored. An output element is one fused
 * multiply-add per key, in key order, from what out held. So a pair's
 * bits depend neither on np nor on where its keys start or stop.
 */
#include <math.h>
#include <string.h>

#include "exec_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INLINE inline __attribute__((always_inline))

TARGET static INLINE __m256 load8_full(const void *row, size_t i, int f16)
{
	if (f16)
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + i)));
	return _mm256_loadu_ps((const float *)row + i);
}

/* elements i..i+7 of a row (zeros past hd: a copy, only for odd head sizes) */
TARGET static INLINE __m256 load8(const void *row, size_t i, size_t hd, int f16)
{
	if (hd - i >= 8) {
		if (f16)
			return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)
							       ((const uint16_t *)row + i)));
		return _mm256_loadu_ps((const float *)row + i);
	}
	if (f16) {
		uint16_t t[8] = { 0 };

		memcpy(t, (const uint16_t *)row + i, (hd - i) * 2);
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)t));
	}
	float t[8] = { 0 };

	memcpy(t, (const float *)row + i, (hd - i) * 4);
	return _mm256_loadu_ps(t);
}

TARGET static INLINE void store8(float *y, __m256 v, size_t n)
{
	float t[8];

	if (n >= 8) {
		_mm256_storeu_ps(y, v);
		return;
	}
	_mm256_storeu_ps(t, v);
	memcpy(y, t, n * 4);
}

/* four accumulators to their four sums, the same tree for each */
TARGET static INLINE __m128 reduce4(__m256 a, __m256 b, __m256 c, __m256 d)
{
	__m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));

	return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

TARGET static __attribute__((noinline)) void qk_tail(const float *const *q, unsigned int PG,
						     const uint8_t *const *kr, size_t i, size_t hd,
						     __m256 acc[][4], int f16)
{
	__m256 k0 = load8(kr[0], i, hd, f16), k1 = load8(kr[1], i, hd, f16);
	__m256 k2 = load8(kr[2], i, hd, f16), k3 = load8(kr[3], i, hd, f16);

	for (unsigned int p = 0; p < PG; p++) {
		__m256 qv = load8(q[p], i, hd, 0);

		acc[p][0] = _mm256_fmadd_ps(k0, qv, acc[p][0]);
		acc[p][1] = _mm256_fmadd_ps(k1, qv, acc[p][1]);
		acc[p][2] = _mm256_fmadd_ps(k2, qv, acc[p][2]);
		acc[p][3] = _mm256_fmadd_ps(k3, qv, acc[p][3]);
	}
}

/* PG (1..2) pairs against keys j0..j0+3 (rows past n - 1 repeat the last) */
TARGET static INLINE void qk_group(const float *const *q, unsigned int PG, const void *k,
				   size_t stride, size_t n, size_t j0, size_t hd,
				   float scale, float *const *s, int f16)
{
	const uint8_t *kr[4];
	__m256 acc[2][4];

	#pragma GCC unroll 4
	for (int t = 0; t < 4; t++)
		kr[t] = (const uint8_t *)k + (j0 + t < n ? j0 + t : n - 1) * stride;
	#pragma GCC unroll 4
	for (unsigned int p = 0; p < PG; p++)
		#pragma GCC unroll 4
		for (int t = 0; t < 4; t++)
			acc[p][t] = _mm256_setzero_ps();
	size_t i = 0;

	for (; i + 8 <= hd; i += 8) {
		__m256 k0 = load8_full(kr[0], i, f16), k1 = load8_full(kr[1], i, f16);
		__m256 k2 = load8_full(kr[2], i, f16), k3 = load8_full(kr[3], i, f16);

#pragma GCC unroll 4
		for (unsigned int p = 0; p < PG; p++) {
			__m256 qv = _mm256_loadu_ps(q[p] + i);

			acc[p][0] = _mm256_fmadd_ps(k0, qv, acc[p][0]);
			acc[p][1] = _mm256_fmadd_ps(k1, qv, acc[p][1]);
			acc[p][2] = _mm256_fmadd_ps(k2, qv, acc[p][2]);
			acc[p][3] = _mm256_fmadd_ps(k3, qv, acc[p][3]);
		}
	}
	if (i < hd)	/* the same step over the last hd % 8, zeros after them */
		qk_tail(q, PG, kr, i, hd, acc, f16);
	for (unsigned int p = 0; p < PG; p++) {
		__m128 d = _mm_mul_ps(_mm_set1_ps(scale),
				      reduce4(acc[p][0], acc[p][1], acc[p][2], acc[p][3]));
		float t[4];

		if (n - j0 >= 4) {
			_mm_storeu_ps(s[p] + j0, d);
			continue;
		}
		_mm_storeu_ps(t, d);
		memcpy(s[p] + j0, t, (n - j0) * 4);
	}
}

TARGET static INLINE void qk(const float *const *q, unsigned int np, const void *k,
			     size_t stride, size_t n, size_t hd, float scale,
			     float *const *s, int f16)
{
	if (!n)
		return;
	unsigned int p = 0;

	for (; p + 2 <= np; p += 2)
		for (size_t j = 0; j < n; j += 4)
			qk_group(q + p, 2, k, stride, n, j, hd, scale, s + p, f16);
	if (p < np)
		for (size_t j = 0; j < n; j += 4)
			qk_group(q + p, 1, k, stride, n, j, hd, scale, s + p, f16);
}

/* PG (1..2) pairs, columns c0..c0+8*NT-1 of hd (NT whole vectors, or one partial) */
TARGET static INLINE void pv_block(const float *const *prob, unsigned int PG, unsigned int NT,
				   const void *v, size_t stride, size_t n, size_t hd, size_t c0,
				   float *const *out, int f16)
{
	__m256 acc[2][4];

#pragma GCC unroll 4
	for (unsigned int p = 0; p < PG; p++)
#pragma GCC unroll 4
		for (unsigned int t = 0; t < NT; t++)
			acc[p][t] = NT == 4 ? _mm256_loadu_ps(out[p] + c0 + 8 * t) :
				    load8(out[p], c0 + 8 * t, hd, 0);
	for (size_t j = 0; j < n; j++) {
		const uint8_t *vj = (const uint8_t *)v + j * stride;
		__m256 vv[4];

#pragma GCC unroll 4
		for (unsigned int t = 0; t < NT; t++)
			vv[t] = NT == 4 ? load8_full(vj, c0 + 8 * t, f16) :
				load8(vj, c0 + 8 * t, hd, f16);
#pragma GCC unroll 4
		for (unsigned int p = 0; p < PG; p++) {
			__m256 b = _mm256_set1_ps(prob[p][j]);

#pragma GCC unroll 4
			for (unsigned int t = 0; t < NT; t++)
				acc[p][t] = _mm256_fmadd_ps(b, vv[t], acc[p][t]);
		}
	}
#pragma GCC unroll 4
	for (unsigned int p = 0; p < PG; p++)
#pragma GCC unroll 4
		for (unsigned int t = 0; t < NT; t++)
			if (NT == 4)
				_mm256_storeu_ps(out[p] + c0 + 8 * t, acc[p][t]);
			else
				store8(out[p] + c0 + 8 * t, acc[p][t], hd - c0 - 8 * t);
}

/* the columns in blocks of 32, then one vector at a time (the last maybe partial) */
TARGET static INLINE void pv_pairs(const float *const *prob, unsigned int PG, const void *v,
				   size_t stride, size_t n, size_t hd, float *const *out,
				   int f16)
{
	size_t c0 = 0;

	for (; c0 + 32 <= hd; c0 += 32)
		pv_block(prob, PG, 4, v, stride, n, hd, c0, out, f16);
	for (; c0 < hd; c0 += 8)
		pv_block(prob, PG, 1, v, stride, n, hd, c0, out, f16);
}

TARGET static INLINE void pv(const float *const *prob, unsigned int np, const void *v,
			     size_t stride, size_t n, size_t hd, float *const *out, int f16)
{
	unsigned int p = 0;

	for (; p + 2 <= np; p += 2)
		pv_pairs(prob + p, 2, v, stride, n, hd, out + p, f16);
	if (p < np)
		pv_pairs(prob + p, 1, v, stride, n, hd, out + p, f16);
}

/*
 * max(s, acc) keeps acc where s is NaN, so NaNs are ignored as in the
 * scalar loop; which maximum is found does not depend on the order
 * (zeros of either sign aside, and s - max is the same for both)
 */
TARGET float lumen_attn_max_avx2(const float *s, size_t n)
{
	__m256 m = _mm256_set1_ps(-INFINITY);
	size_t j = 0;

	for (; j + 8 <= n; j += 8)
		m = _mm256_max_ps(_mm256_loadu_ps(s + j), m);
	__m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));

	h = _mm_max_ps(h, _mm_movehl_ps(h, h));
	h = _mm_max_ss(h, _mm_movehdup_ps(h));
	float max = _mm_cvtss_f32(h);

	for (; j < n; j++)
		max = s[j] > max ? s[j] : max;
	return max;
}

TARGET void lumen_attn_scale_avx2(float *s, size_t n, float c)
{
	__m256 cv = _mm256_set1_ps(c);
	size_t j = 0;

	for (; j + 8 <= n; j += 8)
		_mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), cv));
	for (; j < n; j++)
		s[j] *= c;
}

TARGET void lumen_attn_qk_f32_avx2(const float *const *q, unsigned int np, const void *k,
				   size_t stride, size_t n, size_t hd, float scale,
				   float *const *s)
{
	qk(q, np, k, stride, n, hd, scale, s, 0);
}

TARGET void lumen_attn_qk_f16_avx2(const float *const *q, unsigned int np, const void *k,
				   size_t stride, size_t n, size_t hd, float scale,
				   float *const *s)
{
	qk(q, np, k, stride, n, hd, scale, s, 1);
}

TARGET void lumen_attn_pv_f32_avx2(const float *const *prob, unsigned int np, const void *v,
				   size_t stride, size_t n, size_t hd, float *const *out)
{
	pv(prob, np, v, stride, n, hd, out, 0);
}

TARGET void lumen_attn_pv_f16_avx2(const float *const *prob, unsigned int np, const void *v,
				   size_t stride, size_t n, size_t hd, float *const *out)
{
	pv(prob, np, v, stride, n, hd, out, 1);
}

#endif
