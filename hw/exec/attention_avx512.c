// SPDX-License-Identifier: MIT
/*
 * AVX-512 attention tiles (the avx512 table's attn_qk / attn_pv): up to
 * four (query, output) pairs share each key or value row, loaded and
 * converted from F16 once for all of them.
 *
 * Batch invariance: a score is one 16-lane accumulator over the head
 * dimension in order (a masked load for the tail), reduced by the same
 * tree whichever of the four key slots it sits in; keys past n are
 * computed from a repeated row and not stored. An output element is one
 * fused multiply-add per key, in key order, from what out held. So a
 * pair's bits depend neither on np nor on where its keys start or stop.
 */
#include <math.h>

#include "exec_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define INLINE inline __attribute__((always_inline))

TARGET static INLINE __mmask16 tail_mask(size_t left)
{
	return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

TARGET static INLINE __m512 load16(const void *row, size_t i, __mmask16 m, int f16)
{
	if (f16)
		return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)row + i));
	return _mm512_maskz_loadu_ps(m, (const float *)row + i);
}

/*
 * Four accumulators to their four sums, the same tree for each: quarters
 * (0 + 2) + (1 + 3), then within the quarter lanes (0 + 2) + (1 + 3).
 */
TARGET static INLINE __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d)
{
	__m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
				  _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
	__m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(1, 0, 1, 0)),
				  _mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(3, 2, 3, 2)));
	__m512 v = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(2, 0, 2, 0)),
				 _mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(3, 1, 3, 1)));

	v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
	v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
	return _mm512_castps512_ps128(_mm512_permutexvar_ps(
		_mm512_setr_epi32(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12), v));
}

/* PG (1..4) pairs against keys j0..j0+3 (rows past n - 1 repeat the last) */
TARGET static INLINE void qk_group(const float *const *q, unsigned int PG, const void *k,
				   size_t stride, size_t n, size_t j0, size_t hd,
				   float scale, float *const *s, int f16)
{
	const uint8_t *kr[4];
	__m512 acc[4][4];

	#pragma GCC unroll 4
	for (int t = 0; t < 4; t++)
		kr[t] = (const uint8_t *)k + (j0 + t < n ? j0 + t : n - 1) * stride;
	#pragma GCC unroll 4
	for (unsigned int p = 0; p < PG; p++)
		#pragma GCC unroll 4
		for (int t = 0; t < 4; t++)
			acc[p][t] = _mm512_setzero_ps();
	for (size_t i = 0; i < hd; i += 16) {
		__mmask16 m = tail_mask(hd - i);
		__m512 k0 = load16(kr[0], i, m, f16), k1 = load16(kr[1], i, m, f16);
		__m512 k2 = load16(kr[2], i, m, f16), k3 = load16(kr[3], i, m, f16);

		#pragma GCC unroll 4
		for (unsigned int p = 0; p < PG; p++) {
			__m512 qv = _mm512_maskz_loadu_ps(m, q[p] + i);

			acc[p][0] = _mm512_fmadd_ps(k0, qv, acc[p][0]);
			acc[p][1] = _mm512_fmadd_ps(k1, qv, acc[p][1]);
			acc[p][2] = _mm512_fmadd_ps(k2, qv, acc[p][2]);
			acc[p][3] = _mm512_fmadd_ps(k3, qv, acc[p][3]);
		}
	}
	__mmask8 keep = (__mmask8)(n - j0 >= 4 ? 0xf : (1u << (n - j0)) - 1);

	#pragma GCC unroll 4
	for (unsigned int p = 0; p < PG; p++) {
		__m128 d = reduce4(acc[p][0], acc[p][1], acc[p][2], acc[p][3]);

		_mm_mask_storeu_ps(s[p] + j0, keep, _mm_mul_ps(_mm_set1_ps(scale), d));
	}
}

TARGET static INLINE void qk_pairs(const float *const *q, unsigned int PG, const void *k,
				   size_t stride, size_t n, size_t hd, float scale,
				   float *const *s, int f16)
{
	for (size_t j = 0; j < n; j += 4)
		qk_group(q, PG, k, stride, n, j, hd, scale, s, f16);
}

TARGET static INLINE void qk(const float *const *q, unsigned int np, const void *k,
			     size_t stride, size_t n, size_t hd, float scale,
			     float *const *s, int f16)
{
	if (!n)
		return;
	for (unsigned int p = 0; p < np; p += 4) {
		switch (np - p) {
		case 1:
			qk_pairs(q + p, 1, k, stride, n, hd, scale, s + p, f16);
			break;
		case 2:
			qk_pairs(q + p, 2, k, stride, n, hd, scale, s + p, f16);
			break;
		case 3:
			qk_pairs(q + p, 3, k, stride, n, hd, scale, s + p, f16);
			break;
		default:
			qk_pairs(q + p, 4, k, stride, n, hd, scale, s + p, f16);
		}
	}
}

/* PG (1..4) pairs, columns c0..c0+63 of hd */
TARGET static INLINE void pv_block(const float *const *prob, unsigned int PG, const void *v,
				   size_t stride, size_t n, size_t hd, size_t c0,
				   float *const *out, int f16)
{
	__mmask16 m[4];
	__m512 acc[4][4];

	#pragma GCC unroll 4
	for (int t = 0; t < 4; t++)
		m[t] = c0 + 16 * t < hd ? tail_mask(hd - c0 - 16 * t) : 0;
	#pragma GCC unroll 4
	for (unsigned int p = 0; p < PG; p++)
		#pragma GCC unroll 4
		for (int t = 0; t < 4; t++)
			acc[p][t] = _mm512_maskz_loadu_ps(m[t], out[p] + c0 + 16 * t);
	for (size_t j = 0; j < n; j++) {
		const uint8_t *vj = (const uint8_t *)v + j * stride;
		__m512 v0 = load16(vj, c0, m[0], f16), v1 = load16(vj, c0 + 16, m[1], f16);
		__m512 v2 = load16(vj, c0 + 32, m[2], f16), v3 = load16(vj, c0 + 48, m[3], f16);

		#pragma GCC unroll 4
		for (unsigned int p = 0; p < PG; p++) {
			__m512 b = _mm512_set1_ps(prob[p][j]);

			acc[p][0] = _mm512_fmadd_ps(b, v0, acc[p][0]);
			acc[p][1] = _mm512_fmadd_ps(b, v1, acc[p][1]);
			acc[p][2] = _mm512_fmadd_ps(b, v2, acc[p][2]);
			acc[p][3] = _mm512_fmadd_ps(b, v3, acc[p][3]);
		}
	}
	#pragma GCC unroll 4
	for (unsigned int p = 0; p < PG; p++)
		#pragma GCC unroll 4
		for (int t = 0; t < 4; t++)
			_mm512_mask_storeu_ps(out[p] + c0 + 16 * t, m[t], acc[p][t]);
}

TARGET static INLINE void pv_pairs(const float *const *prob, unsigned int PG, const void *v,
				   size_t stride, size_t n, size_t hd, float *const *out,
				   int f16)
{
	for (size_t c0 = 0; c0 < hd; c0 += 64)
		pv_block(prob, PG, v, stride, n, hd, c0, out, f16);
}

TARGET static INLINE void pv(const float *const *prob, unsigned int np, const void *v,
			     size_t stride, size_t n, size_t hd, float *const *out, int f16)
{
	for (unsigned int p = 0; p < np; p += 4) {
		switch (np - p) {
		case 1:
			pv_pairs(prob + p, 1, v, stride, n, hd, out + p, f16);
			break;
		case 2:
			pv_pairs(prob + p, 2, v, stride, n, hd, out + p, f16);
			break;
		case 3:
			pv_pairs(prob + p, 3, v, stride, n, hd, out + p, f16);
			break;
		default:
			pv_pairs(prob + p, 4, v, stride, n, hd, out + p, f16);
		}
	}
}

/* NaNs ignored as in the scalar loop (max(s, m) keeps m where s is NaN) */
TARGET float lumen_attn_max_avx512(const float *s, size_t n)
{
	__m512 ninf = _mm512_set1_ps(-INFINITY), m = ninf;

	for (size_t j = 0; j < n; j += 16)
		m = _mm512_max_ps(_mm512_mask_loadu_ps(ninf, tail_mask(n - j), s + j), m);
	return _mm512_reduce_max_ps(m);
}

TARGET void lumen_attn_scale_avx512(float *s, size_t n, float c)
{
	__m512 cv = _mm512_set1_ps(c);

	for (size_t j = 0; j < n; j += 16) {
		__mmask16 k = tail_mask(n - j);

		_mm512_mask_storeu_ps(s + j, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, s + j), cv));
	}
}

TARGET void lumen_attn_qk_f32_avx512(const float *const *q, unsigned int np, const void *k,
				     size_t stride, size_t n, size_t hd, float scale,
				     float *const *s)
{
	qk(q, np, k, stride, n, hd, scale, s, 0);
}

TARGET void lumen_attn_qk_f16_avx512(const float *const *q, unsigned int np, const void *k,
				     size_t stride, size_t n, size_t hd, float scale,
				     float *const *s)
{
	qk(q, np, k, stride, n, hd, scale, s, 1);
}

TARGET void lumen_attn_pv_f32_avx512(const float *const *prob, unsigned int np,
				     const void *v, size_t stride, size_t n, size_t hd,
				     float *const *out)
{
	pv(prob, np, v, stride, n, hd, out, 0);
}

TARGET void lumen_attn_pv_f16_avx512(const float *const *prob, unsigned int np,
				     const void *v, size_t stride, size_t n, size_t hd,
				     float *const *out)
{
	pv(prob, np, v, stride, n, hd, out, 1);
}

#endif
