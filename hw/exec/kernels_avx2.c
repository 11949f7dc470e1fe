// SPDX-License-Identifier: MIT
/*
 * AVX2 + FMA + F16C kernels, compiled for that target whatever the build
 * flags and picked at run time when the CPU has them.
 *
 * Integer dot products use the usual maddubs trick: the unsigned operand
 * is |w| and the signed one x * sign(w), so int8 x int8 products sum into
 * int16 pairs without saturating (|w| <= 128, |x| <= 127).
 */
#include <math.h>
#include <string.h>

#include "exec_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

/*
 * kernels_avx512.c compiles this file a second time with LUMEN_X86_VNNI
 * and its own TARGET: the byte dot products below then use vpdpbusd and
 * vpdpwssd, and the table and lumen_kernels_avx2() are left to this copy.
 */
#ifndef TARGET
#define TARGET __attribute__((target("avx2,fma,f16c")))
#endif

TARGET static inline float hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v),
			      _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

TARGET static inline __m256 load_f16(const uint16_t *p)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/* 8 floats of an F32 (f16 = 0) or F16 row */
TARGET static inline __m256 load_row(const void *row, size_t i, int f16)
{
	return f16 ? load_f16((const uint16_t *)row + i) : _mm256_loadu_ps((const float *)row + i);
}

TARGET static inline float elt(const void *row, size_t i, int f16)
{
	return f16 ? _cvtsh_ss(((const uint16_t *)row)[i]) : ((const float *)row)[i];
}

/*
 * F32/F16 dot products. Every kernel sums a row in the same order (8-wide
 * chunks alternately into two accumulators, then the scalar tail), so a
 * row's result does not depend on how many rows are computed together:
 * prefill equals token-by-token decode bit for bit.
 */
TARGET static inline __attribute__((always_inline)) void
dot_rows(const void *w, const float *const *x,
				   unsigned int nx, size_t n, float *out, int f16)
{
	__m256 e[LUMEN_MR], o[LUMEN_MR];
	size_t i = 0;

#pragma GCC unroll 4
	for (unsigned int r = 0; r < LUMEN_MR; r++)
		e[r] = o[r] = _mm256_setzero_ps();
	for (; i + 16 <= n; i += 16) {
		__m256 w0 = load_row(w, i, f16), w1 = load_row(w, i + 8, f16);

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++) {
			e[r] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[r] + i), e[r]);
			o[r] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[r] + i + 8), o[r]);
		}
	}
	if (i + 8 <= n) {
		__m256 w0 = load_row(w, i, f16);

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			e[r] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[r] + i), e[r]);
		i += 8;
	}
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		float s = hsum(_mm256_add_ps(e[r], o[r]));

		for (size_t t = i; t < n; t++)
			s += elt(w, t, f16) * x[r][t];
		out[r] = s;
	}
}

/* constant nx: the row loops unroll and the accumulators stay in registers */
TARGET static void dot_f32_1(const float *w, const float *x, size_t n, float *out)
{
	dot_rows(w, &x, 1, n, out, 0);
}

TARGET static void dot_f16_1(const uint16_t *w, const float *x, size_t n, float *out)
{
	dot_rows(w, &x, 1, n, out, 1);
}

TARGET static void dot_f32(const float *w, const float *const *x,
			   unsigned int nx, size_t n, float *out)
{
	if (nx == LUMEN_MR)
		dot_rows(w, x, LUMEN_MR, n, out, 0);
	else
		for (unsigned int r = 0; r < nx; r++)
			dot_rows(w, &x[r], 1, n, out + r, 0);
}

TARGET static void dot_f16(const uint16_t *w, const float *const *x,
			   unsigned int nx, size_t n, float *out)
{
	if (nx == LUMEN_MR)
		dot_rows(w, x, LUMEN_MR, n, out, 1);
	else
		for (unsigned int r = 0; r < nx; r++)
			dot_rows(w, &x[r], 1, n, out + r, 1);
}

/* int32 sums of byte pairs of a (unsigned) times b (signed), as 8 floats */
TARGET static inline __m256 sum_u8_i8(__m256i a, __m256i b)
{
#ifdef LUMEN_X86_VNNI
	return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), a, b));
#else
	return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(a, b),
						    _mm256_set1_epi16(1)));
#endif
}

/* signed weights w times signed activations x */
TARGET static inline __m256 sum_i8_i8(__m256i w, __m256i wabs, __m256i x)
{
	return sum_u8_i8(wabs, _mm256_sign_epi8(x, w));
}

/*
 * The 32 nibbles of a Q4_0 block, unsigned 0..15, in weight order: the 16
 * bytes in both lanes, the high lane shifted by 4 (no cross-lane shuffle).
 */
TARGET static inline __m256i q4_nibbles(const uint8_t *qs)
{
	__m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));

	v = _mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
	return _mm256_and_si256(v, _mm256_set1_epi8(0xf));
}

TARGET static inline __m256i load_i8(const int8_t *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

/*
 * Q4_0: sum_i d_w (q_i - 8) d_x x_i = d_w (d_x sum_i q_i x_i - 8 s_x), so
 * nibbles go to maddubs unsigned. Each of the 8 lanes subtracts s_x once:
 * after the final horizontal sum that is the 8 s_x. Weight scales by
 * F16C: a table lookup misses cache once the weights stream.
 */
#define Q4_STEP(wr, xr, acc, i) do {						\
	__m256 t_ = _mm256_fmsub_ps(_mm256_broadcast_ss(&(xr)->d[i]),		\
				    sum_u8_i8(q4_nibbles(wr[i].qs), load_i8((xr)->qs + (i) * LUMEN_QK)), \
				    _mm256_broadcast_ss(&(xr)->s[i]));		\
	acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(wr[i].d)), t_, acc);	\
} while (0)

#define Q8_STEP(wr, xr, acc, i) do {						\
	__m256i q_ = load_i8(wr[i].qs);						\
	__m256 t_ = _mm256_mul_ps(_mm256_broadcast_ss(&(xr)->d[i]),		\
				  sum_i8_i8(q_, _mm256_sign_epi8(q_, q_),	\
					    load_i8((xr)->qs + (i) * LUMEN_QK)));	\
	acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(wr[i].d)), t_, acc);	\
} while (0)

/*
 * One weight row times nx (1 or 2) activation rows. Every row is summed
 * in one order whatever nx is: blocks round four accumulators by block
 * number mod 4 (hiding the FMA latency), the tail into the first, then
 * (a0 + a1) + (a2 + a3). So the M = 1 matvec and the M > 1 products agree
 * bit for bit (prefill, speculative verification and decode). Two rows
 * is what 16 ymm registers hold: eight accumulators beside the block's
 * values.
 */
#define XROWS_Q(name, BLK, STEP)						\
TARGET static inline __attribute__((always_inline)) void			\
name(const void *wv, const struct lumen_qrow *x, unsigned int nx, size_t nb,	\
     float *out)								\
{										\
	const BLK *w0 = wv;							\
	__m256 acc[4][2];							\
	size_t b = 0;								\
										\
	_Pragma("GCC unroll 2")							\
	for (unsigned int r = 0; r < nx; r++)					\
		acc[0][r] = acc[1][r] = acc[2][r] = acc[3][r] = _mm256_setzero_ps(); \
	for (; b + 4 <= nb; b += 4) {						\
		_Pragma("GCC unroll 2")						\
		for (unsigned int r = 0; r < nx; r++) {				\
			STEP(w0, &x[r], acc[0][r], b);				\
			STEP(w0, &x[r], acc[1][r], b + 1);			\
			STEP(w0, &x[r], acc[2][r], b + 2);			\
			STEP(w0, &x[r], acc[3][r], b + 3);			\
		}								\
	}									\
	for (; b < nb; b++) {							\
		_Pragma("GCC unroll 2")						\
		for (unsigned int r = 0; r < nx; r++)				\
			STEP(w0, &x[r], acc[0][r], b);				\
	}									\
	_Pragma("GCC unroll 2")							\
	for (unsigned int r = 0; r < nx; r++)					\
		out[r] = hsum(_mm256_add_ps(_mm256_add_ps(acc[0][r], acc[1][r]), \
					    _mm256_add_ps(acc[2][r], acc[3][r]))); \
}

XROWS_Q(q4_0_xrows, struct lumen_blk_q4_0, Q4_STEP)
XROWS_Q(q8_0_xrows, struct lumen_blk_q8_0, Q8_STEP)

/*
 * GEMV one weight row at a time, so the weights stream through memory in
 * order: one stream keeps the hardware prefetcher ahead (four interleaved
 * rows measured 2-3x slower from DRAM). The activation row sits in L1.
 */
#define GEMV_Q(name, XROWS)							\
TARGET static void name(const void *wv, size_t ws, size_t n,			\
			const struct lumen_qrow *x, size_t nb, float *y)	\
{										\
	for (size_t j = 0; j < n; j++)						\
		XROWS((const uint8_t *)wv + j * ws, x, 1, nb, &y[j]);		\
}

GEMV_Q(gemv_q4_0, q4_0_xrows)
GEMV_Q(gemv_q8_0, q8_0_xrows)

TARGET static void gemv_f32(const void *w, size_t ws, size_t n, const float *x,
			    size_t k, float *y)
{
	for (size_t j = 0; j < n; j++)
		dot_f32_1((const float *)((const uint8_t *)w + j * ws), x, k, y + j);
}

TARGET static void gemv_f16(const void *w, size_t ws, size_t n, const float *x,
			    size_t k, float *y)
{
	for (size_t j = 0; j < n; j++)
		dot_f16_1((const uint16_t *)((const uint8_t *)w + j * ws), x, k, y + j);
}

/* M > 1: the weight block decoded once per two activation rows */
#define DOT_Q(name, XROWS)							\
TARGET static void name(const void *w, const struct lumen_qrow *x,		\
			unsigned int nx, size_t nb, float *out)			\
{										\
	unsigned int r = 0;							\
										\
	for (; r + 2 <= nx; r += 2)						\
		XROWS(w, &x[r], 2, nb, &out[r]);				\
	if (r < nx)								\
		XROWS(w, &x[r], 1, nb, &out[r]);				\
}

DOT_Q(dot_q4_0, q4_0_xrows)
DOT_Q(dot_q8_0, q8_0_xrows)

/*
 * M > 1, a tile of LUMEN_NR weight rows times LUMEN_MR activation rows,
 * taken as two halves of two activation rows: each activation block
 * loaded once for the four weight rows, each weight block decoded once
 * for two activation rows. Every output keeps the matvec's sum: its four
 * chains (blocks by number mod 4, the tail blocks at the end of chain 0)
 * run one after another, so eight accumulators are live (what 16 ymm
 * registers hold beside the blocks) and the chains meet as in XROWS_Q.
 */
#define TILE_Q(name, BLK, STEP)							\
TARGET static void name(const void *wv, size_t ws, const struct lumen_qrow *x,	\
			size_t nb, float *out)					\
{										\
	const BLK *w[LUMEN_NR];							\
	size_t nb4 = nb & ~(size_t)3;						\
										\
	for (unsigned int j = 0; j < LUMEN_NR; j++)				\
		w[j] = (const void *)((const uint8_t *)wv + j * ws);		\
	for (unsigned int r0 = 0; r0 < LUMEN_MR; r0 += 2) {			\
		__m256 part[4][LUMEN_NR][2];					\
										\
		for (unsigned int c = 0; c < 4; c++) {				\
			__m256 acc[LUMEN_NR][2];				\
										\
			_Pragma("GCC unroll 4")					\
			for (unsigned int j = 0; j < LUMEN_NR; j++)		\
				acc[j][0] = acc[j][1] = _mm256_setzero_ps();	\
			for (size_t b = c; b < nb4; b += 4) {			\
				_Pragma("GCC unroll 4")				\
				for (unsigned int j = 0; j < LUMEN_NR; j++) {	\
					STEP(w[j], &x[r0], acc[j][0], b);	\
					STEP(w[j], &x[r0 + 1], acc[j][1], b);	\
				}						\
			}							\
			for (size_t b = nb4; c == 0 && b < nb; b++) {		\
				_Pragma("GCC unroll 4")				\
				for (unsigned int j = 0; j < LUMEN_NR; j++) {	\
					STEP(w[j], &x[r0], acc[j][0], b);	\
					STEP(w[j], &x[r0 + 1], acc[j][1], b);	\
				}						\
			}							\
			memcpy(part[c], acc, sizeof(acc));			\
		}								\
		for (unsigned int j = 0; j < LUMEN_NR; j++)			\
			for (unsigned int r = 0; r < 2; r++)			\
				out[j * LUMEN_MR + r0 + r] = hsum(_mm256_add_ps( \
					_mm256_add_ps(part[0][j][r], part[1][j][r]), \
					_mm256_add_ps(part[2][j][r], part[3][j][r]))); \
	}									\
}

TILE_Q(tile_q4_0, struct lumen_blk_q4_0, Q4_STEP)
TILE_Q(tile_q8_0, struct lumen_blk_q8_0, Q8_STEP)

/* NaN lanes to 0 (an ordered compare of a lane with itself is false for NaN) */
TARGET static inline __m256 nan_to_zero(__m256 v)
{
	return _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
}

/* as quant_act.c's sat_i8 before rounding: NaN to 0, then clamp to +-127 */
TARGET static inline __m256 sat127(__m256 v)
{
	v = nan_to_zero(v);
	return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-127.0f)),
			     _mm256_set1_ps(127.0f));
}

TARGET static void quantize_act(const float *x, int8_t *qs, float *d, float *sum,
			       size_t nb)
{
	const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));

	for (size_t b = 0; b < nb; b++, x += LUMEN_QK, qs += LUMEN_QK) {
		__m256 v[4], m;

		/* NaNs count as 0, as fmaxf ignores them in the scalar code */
		for (int j = 0; j < 4; j++)
			v[j] = nan_to_zero(_mm256_loadu_ps(x + 8 * j));
		m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], abs_mask),
						_mm256_and_ps(v[1], abs_mask)),
				  _mm256_max_ps(_mm256_and_ps(v[2], abs_mask),
						_mm256_and_ps(v[3], abs_mask)));
		__m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));

		h = _mm_max_ps(h, _mm_movehl_ps(h, h));
		h = _mm_max_ss(h, _mm_movehdup_ps(h));
		float amax = _mm_cvtss_f32(h);
		float id = amax != 0.0f ? 127.0f / amax : 0.0f;

		d[b] = _cvtsh_ss(_cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT));
		__m256i q[4];

		for (int j = 0; j < 4; j++)
			q[j] = _mm256_cvtps_epi32(sat127(_mm256_mul_ps(v[j], _mm256_set1_ps(id))));	/* ties to even */
		__m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
					       _mm256_packs_epi32(q[2], q[3]));

		p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
		_mm256_storeu_si256((__m256i *)qs, p);
		/* sum of the 32 values: maddubs with ones, then madd with ones */
		__m256 t = sum_u8_i8(_mm256_set1_epi8(1), p);

		sum[b] = d[b] * hsum(t);
	}
}

/* ---- GGUF's other block types ----
 *
 * Each kernel decodes a weight block once and multiplies it with nx
 * activation rows (4, or 1 for matvec and remainders; always_inline with a
 * constant nx, so the row loops unroll and accumulators stay in
 * registers). A row's arithmetic is the same whatever nx is, so prefill
 * and token-by-token decode agree bit for bit.
 */
#define INLINE __attribute__((always_inline)) inline

/* byte i of the result is 0xff when bit i of the 32 bits at p is set */
TARGET static INLINE __m256i bits_to_bytes(const uint8_t *p)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		     (uint32_t)p[3] << 24;
	const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0,
						1, 1, 1, 1, 1, 1, 1, 1,
						2, 2, 2, 2, 2, 2, 2, 2,
						3, 3, 3, 3, 3, 3, 3, 3);
	const __m256i bit = _mm256_set1_epi64x(0x8040201008040201LL);
	__m256i t = _mm256_shuffle_epi8(_mm256_set1_epi32((int)v), spread);

	return _mm256_cmpeq_epi8(_mm256_and_si256(t, bit), bit);
}

/* the 32 unsigned 5-bit values of a Q5_0/Q5_1 block, in weight order */
TARGET static INLINE __m256i q5_values(const uint8_t *qs, const uint8_t *qh)
{
	return _mm256_or_si256(q4_nibbles(qs),
			       _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
}

/*
 * The 32-blocks with Q8_0 rows. kind 0: Q4_1, 1: Q5_1 (d q + m: d dx
 * sum q x + m s), 2: Q5_0 (d (dx sum q x - 16 s), q unsigned; each of the
 * 8 lanes takes off 2 s). Even and odd blocks go to separate accumulators
 * to hide the FMA latency.
 */
TARGET static INLINE void blk32_one(const uint8_t *w, int kind,
				    const struct lumen_qrow *x, unsigned int nx,
				    size_t b, __m256 *acc, float *sm)
{
	uint16_t d16, m16 = 0;
	__m256i q;

	memcpy(&d16, w, 2);
	if (kind == 2) {
		q = q5_values(w + 6, w + 2);
	} else {
		memcpy(&m16, w + 2, 2);
		q = kind ? q5_values(w + 8, w + 4) : q4_nibbles(w + 4);
	}
	/* F16C: a table lookup misses cache once the weights stream */
	float d = _cvtsh_ss(d16), m = _cvtsh_ss(m16);

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		__m256 t = sum_u8_i8(q, load_i8(x[r].qs + b * LUMEN_QK));

		if (kind == 2) {
			t = _mm256_fmsub_ps(_mm256_set1_ps(x[r].d[b]), t,
					    _mm256_set1_ps(2.0f * x[r].s[b]));
			acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), t, acc[r]);
		} else {
			acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * x[r].d[b]), t, acc[r]);
			sm[r] += m * x[r].s[b];
		}
	}
}

TARGET static INLINE void blk32_rows(const uint8_t *w, size_t bsize, int kind,
				     const struct lumen_qrow *x, unsigned int nx,
				     size_t nb, float *out)
{
	__m256 a0[LUMEN_MR], a1[LUMEN_MR];
	float s0[LUMEN_MR], s1[LUMEN_MR];	/* the m s terms, even and odd blocks */
	size_t b = 0;

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		a0[r] = a1[r] = _mm256_setzero_ps();
		s0[r] = s1[r] = 0.0f;
	}
	for (; b + 2 <= nb; b += 2) {
		blk32_one(w + b * bsize, kind, x, nx, b, a0, s0);
		blk32_one(w + (b + 1) * bsize, kind, x, nx, b + 1, a1, s1);
	}
	if (b < nb)
		blk32_one(w + b * bsize, kind, x, nx, b, a0, s0);
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		out[r] = hsum(_mm256_add_ps(a0[r], a1[r])) + (s0[r] + s1[r]);
}

/*
 * Q4_K / Q5_K sub-block scales and mins, 6 bits each in 12 bytes, as
 * bytes: sc[0..7] then mn[0..7] (the layout of isa.rst, "Q4_K", by words:
 * bytes 0-3 hold sc0-3 and the top bits of sc4-7, bytes 4-7 mn0-3 and the
 * top bits of mn4-7, bytes 8-11 the low nibbles of sc4-7 and mn4-7).
 */
TARGET static INLINE __m128i k4_scales_mins(const uint8_t *s)
{
	const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, top2 = 0x03030303;
	uint32_t u0, u1, u2;

	memcpy(&u0, s, 4);
	memcpy(&u1, s + 4, 4);
	memcpy(&u2, s + 8, 4);
	return _mm_setr_epi32((int)(u0 & low6),
			      (int)((u2 & low4) | ((u0 >> 6) & top2) << 4),
			      (int)(u1 & low6),
			      (int)(((u2 >> 4) & low4) | ((u1 >> 6) & top2) << 4));
}

/* int16 lane j (0..7) of both 128-bit halves of v in all 16 lanes */
TARGET static INLINE __m256i bcast_i16(__m256i v, int j)
{
	return _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)(0x0202 * j + 0x0100)));
}

/*
 * acc plus the int32 lanes of (u8 q times i8 x, pairs summed) times the
 * int16 scales sc: one vpdpwssd with VNNI
 */
TARGET static INLINE __m256i scaled_dot_add(__m256i acc, __m256i q, const int8_t *x, __m256i sc)
{
#ifdef LUMEN_X86_VNNI
	return _mm256_dpwssd_epi32(acc, _mm256_maddubs_epi16(q, load_i8(x)), sc);
#else
	return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(q, load_i8(x)), sc));
#endif
}

/*
 * Q4_K (q5 = 0) and Q5_K with Q8_K rows: per super-block the exact
 * integer sum_j sc_j sum_i q_i x_i in 8 int32 lanes, and the mins as
 * sum_j mn_j (16-sum 2j + 16-sum 2j+1), one madd of the 16-sums with the
 * doubled mins: dx (d isum - dmin msum).
 */
TARGET static INLINE void k45_rows(const uint8_t *w, size_t bsize, int q5,
				   const struct lumen_qrow *x, unsigned int nx,
				   size_t nb, float *out)
{
	const __m256i low4 = _mm256_set1_epi8(0xf), one = _mm256_set1_epi8(1);
	const __m128i dup = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11,
					  12, 12, 13, 13, 14, 14, 15, 15);
	__m256 acc[LUMEN_MR];

	#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (size_t b = 0; b < nb; b++, w += bsize) {
		const uint8_t *qs = w + (q5 ? 48 : 16);
		__m256i qh = q5 ? _mm256_loadu_si256((const __m256i *)(w + 16)) :
				  _mm256_setzero_si256();
		__m128i scm = k4_scales_mins(w + 4);
		/* mins doubled up against the 16-sums: mn0 mn0 mn1 mn1 ... */
		__m256i mdup = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scm, dup));
		/* the 8 scales as int16, in both halves */
		__m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scm));
		__m256i sumi[LUMEN_MR];
		uint16_t d16, dmin16;

		memcpy(&d16, w, 2);
		memcpy(&dmin16, w + 2, 2);
		#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			sumi[r] = _mm256_setzero_si256();
#pragma GCC unroll 4
		for (int p = 0; p < 4; p++) {
			__m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * p));
			__m256i lo = _mm256_and_si256(v, low4);
			__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);

			if (q5) {
				lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(qh, one), 4));
				hi = _mm256_or_si256(hi, _mm256_slli_epi16(
					_mm256_and_si256(_mm256_srli_epi16(qh, 1), one), 4));
				qh = _mm256_srli_epi16(qh, 2);
			}
			__m256i s0 = bcast_i16(sc16, 2 * p), s1 = bcast_i16(sc16, 2 * p + 1);

			#pragma GCC unroll 4
			for (unsigned int r = 0; r < nx; r++) {
				const int8_t *xq = x[r].qs + b * LUMEN_QK_K + 64 * p;

				sumi[r] = scaled_dot_add(scaled_dot_add(sumi[r], lo, xq, s0),
							 hi, xq + 32, s1);
			}
		}
		float d = _cvtsh_ss(d16), dmin = _cvtsh_ss(dmin16);

		#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++) {
			__m256i bs = _mm256_loadu_si256((const __m256i *)(x[r].bsums + b * 16));
			__m256i msum = _mm256_madd_epi16(bs, mdup);

			acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(x[r].d[b] * d),
						 _mm256_cvtepi32_ps(sumi[r]), acc[r]);
			acc[r] = _mm256_fnmadd_ps(_mm256_set1_ps(x[r].d[b] * dmin),
						  _mm256_cvtepi32_ps(msum), acc[r]);
		}
	}
	#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		out[r] = hsum(acc[r]);
}

/*
 * Q6_K with Q8_K rows: q unsigned 0..63 into maddubs, each 32 values
 * spanning two sub-blocks (one int16 scale per 128-bit lane); the offset
 * of 32 comes off in the integer domain as 32 sum_s sc_s (16-sum s), one
 * madd of the 16-sums with the scales.
 */
TARGET static INLINE void q6_k_rows(const struct lumen_blk_q6_k *w,
				    const struct lumen_qrow *x, unsigned int nx,
				    size_t nb, float *out)
{
	const __m256i low4 = _mm256_set1_epi8(0xf), three = _mm256_set1_epi8(3);
	__m256 acc[LUMEN_MR];

	#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (size_t b = 0; b < nb; b++) {
		__m128i sc8 = _mm_loadu_si128((const __m128i *)w[b].scales);
		__m256i sc16 = _mm256_cvtepi8_epi16(sc8);
		/* scales 0..7 and 8..15 as int16, each in both halves */
		__m256i half[2] = { _mm256_permute2x128_si256(sc16, sc16, 0x00),
				    _mm256_permute2x128_si256(sc16, sc16, 0x11) };
		__m256i sumi[LUMEN_MR];

		#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++) {
			__m256i bs = _mm256_loadu_si256((const __m256i *)(x[r].bsums + b * 16));

			/* start from -32 sum_s sc_s bsum_s */
			sumi[r] = _mm256_sub_epi32(_mm256_setzero_si256(),
						   _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5));
		}
#pragma GCC unroll 2
		for (int h = 0; h < 2; h++) {
			__m256i l0 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h));
			__m256i l1 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h + 32));
			__m256i qh = _mm256_loadu_si256((const __m256i *)(w[b].qh + 32 * h));

#pragma GCC unroll 4
			for (int k = 0; k < 4; k++) {
				__m256i lq = (k & 1) ? l1 : l0;

				if (k >= 2)
					lq = _mm256_srli_epi16(lq, 4);
				__m256i g = _mm256_or_si256(_mm256_and_si256(lq, low4),
					_mm256_slli_epi16(_mm256_and_si256(
						_mm256_srli_epi16(qh, 2 * k), three), 4));
				/* low half: scale 8h + 2k, high half: 8h + 2k + 1 */
				__m256i scv = _mm256_shuffle_epi8(half[h], _mm256_setr_epi8(
					4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1,
					4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1,
					4 * k, 4 * k + 1, 4 * k, 4 * k + 1,
					4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
					4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
					4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3));

				#pragma GCC unroll 4
				for (unsigned int r = 0; r < nx; r++)
					sumi[r] = scaled_dot_add(sumi[r], g,
						x[r].qs + b * LUMEN_QK_K + 128 * h + 32 * k, scv);
			}
		}
		float d = _cvtsh_ss(w[b].d);

		#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(x[r].d[b] * d),
						 _mm256_cvtepi32_ps(sumi[r]), acc[r]);
	}
	#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		out[r] = hsum(acc[r]);
}

TARGET static INLINE void q4_1_rows(const void *w, const struct lumen_qrow *x,
				    unsigned int nx, size_t nb, float *out)
{
	blk32_rows(w, sizeof(struct lumen_blk_q4_1), 0, x, nx, nb, out);
}

TARGET static INLINE void q5_1_rows(const void *w, const struct lumen_qrow *x,
				    unsigned int nx, size_t nb, float *out)
{
	blk32_rows(w, sizeof(struct lumen_blk_q5_1), 1, x, nx, nb, out);
}

TARGET static INLINE void q5_0_rows(const void *w, const struct lumen_qrow *x,
				    unsigned int nx, size_t nb, float *out)
{
	blk32_rows(w, sizeof(struct lumen_blk_q5_0), 2, x, nx, nb, out);
}

TARGET static INLINE void q4_k_rows(const void *w, const struct lumen_qrow *x,
				    unsigned int nx, size_t nb, float *out)
{
	k45_rows(w, sizeof(struct lumen_blk_q4_k), 0, x, nx, nb, out);
}

TARGET static INLINE void q5_k_rows(const void *w, const struct lumen_qrow *x,
				    unsigned int nx, size_t nb, float *out)
{
	k45_rows(w, sizeof(struct lumen_blk_q5_k), 1, x, nx, nb, out);
}

TARGET static INLINE void q6_k_rows_v(const void *w, const struct lumen_qrow *x,
				      unsigned int nx, size_t nb, float *out)
{
	q6_k_rows(w, x, nx, nb, out);
}

/* four rows with the weights decoded once, else one row at a time */
#define DOT_BLK(name, ROWS)							\
TARGET static void name(const void *w, const struct lumen_qrow *x,		\
			unsigned int nx, size_t nb, float *out)			\
{										\
	if (nx == LUMEN_MR) {							\
		ROWS(w, x, LUMEN_MR, nb, out);					\
		return;								\
	}									\
	for (unsigned int r = 0; r < nx; r++)					\
		ROWS(w, &x[r], 1, nb, &out[r]);					\
}

DOT_BLK(dot_q4_1, q4_1_rows)
DOT_BLK(dot_q5_0, q5_0_rows)
DOT_BLK(dot_q5_1, q5_1_rows)
DOT_BLK(dot_q4_k, q4_k_rows)
DOT_BLK(dot_q5_k, q5_k_rows)
DOT_BLK(dot_q6_k, q6_k_rows_v)

/* 8 BF16 as floats: the bits are the top half of a binary32 */
TARGET static INLINE __m256 load_bf16(const uint16_t *p)
{
	return _mm256_castsi256_ps(_mm256_slli_epi32(
		_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

/* BF16 rows: 16 weights at a time into two accumulators per row, then the tail */
TARGET static INLINE void bf16_rows(const uint16_t *w, const float *const *x,
				    unsigned int nx, size_t n, float *out)
{
	__m256 e[LUMEN_MR], o[LUMEN_MR];
	size_t i = 0;

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		e[r] = o[r] = _mm256_setzero_ps();
	for (; i + 16 <= n; i += 16) {
		__m256 w0 = load_bf16(w + i), w1 = load_bf16(w + i + 8);

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++) {
			e[r] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[r] + i), e[r]);
			o[r] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[r] + i + 8), o[r]);
		}
	}
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		float s = hsum(_mm256_add_ps(e[r], o[r]));

		for (size_t t = i; t < n; t++)
			s += lumen_bits_f32((uint32_t)w[t] << 16) * x[r][t];
		out[r] = s;
	}
}

/* weights widened once for four rows, else one row at a time: same sums */
TARGET static void dot_bf16(const uint16_t *w, const float *const *x,
			    unsigned int nx, size_t n, float *out)
{
	if (nx == LUMEN_MR) {
		bf16_rows(w, x, LUMEN_MR, n, out);
		return;
	}
	for (unsigned int r = 0; r < nx; r++)
		bf16_rows(w, &x[r], 1, n, &out[r]);
}

/* Q8_K with the scalar code's arithmetic, bit for bit (isa.rst, "Q8_K") */
TARGET static void quantize_act_k(const float *x, int8_t *qs, float *d,
				  int16_t *bsums, size_t nb)
{
	const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));

	for (size_t b = 0; b < nb; b++, x += LUMEN_QK_K, qs += LUMEN_QK_K,
	     bsums += LUMEN_QK_K / 16) {
		__m256 m = _mm256_setzero_ps();

		for (int j = 0; j < LUMEN_QK_K; j += 8)
			m = _mm256_max_ps(m, _mm256_and_ps(nan_to_zero(_mm256_loadu_ps(x + j)),
							   abs_mask));
		__m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));

		h = _mm_max_ps(h, _mm_movehl_ps(h, h));
		h = _mm_max_ss(h, _mm_movehdup_ps(h));
		float amax = _mm_cvtss_f32(h), max = 0.0f;

		if (amax == 0.0f) {
			lumen_quantize_act_k_scalar(x, qs, d + b, bsums, 1);
			continue;
		}
		/* the first value of that magnitude, as the scalar loop picks it */
		for (int j = 0; j < LUMEN_QK_K; j++) {
			if (fabsf(x[j]) == amax) {
				max = x[j];
				break;
			}
		}
		float iscale = -127.0f / max;
		__m256 is = _mm256_set1_ps(iscale);
		const __m256i top = _mm256_set1_epi32(127);

		for (int j = 0; j < LUMEN_QK_K; j += 32) {
			__m256i q[4];

			for (int t = 0; t < 4; t++)	/* ties to even */
				q[t] = _mm256_min_epi32(top, _mm256_cvtps_epi32(sat127(
					_mm256_mul_ps(is, _mm256_loadu_ps(x + j + 8 * t)))));
			__m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
						       _mm256_packs_epi32(q[2], q[3]));

			p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
			_mm256_storeu_si256((__m256i *)(qs + j), p);
			/* the two 16-sums of these 32 values */
			__m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), p);
			__m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
			int32_t t8[8];

			_mm256_storeu_si256((__m256i *)t8, s32);
			bsums[j / 16] = (int16_t)(t8[0] + t8[1] + t8[2] + t8[3]);
			bsums[j / 16 + 1] = (int16_t)(t8[4] + t8[5] + t8[6] + t8[7]);
		}
		d[b] = 1.0f / iscale;
	}
}

/*
 * exp(x) for x <= 0 as 2^n * e^r, |r| <= ln2/2, e^r by a degree-7 series
 * (Cephes' coefficients); relative error about 2e-7.
 */
TARGET static inline __m256 exp_neg(__m256 x)
{
	x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
	__m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
				   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);

	r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
	__m256 p = _mm256_set1_ps(1.9875691500e-4f);

	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
	p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
	__m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n),
						       _mm256_set1_epi32(127)), 23);

	return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

TARGET static float exp_sum(float *s, size_t n, float max)
{
	__m256 acc = _mm256_setzero_ps(), m = _mm256_set1_ps(max);
	size_t j = 0;

	for (; j + 8 <= n; j += 8) {
		__m256 e = exp_neg(_mm256_sub_ps(_mm256_loadu_ps(s + j), m));

		_mm256_storeu_ps(s + j, e);
		acc = _mm256_add_ps(acc, e);
	}
	float sum = hsum(acc);

	for (; j < n; j++) {
		s[j] = expf(s[j] - max);
		sum += s[j];
	}
	return sum;
}

TARGET static void f16_to_f32(const uint16_t *x, float *y, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, load_f16(x + i));
	for (; i < n; i++)
		y[i] = _cvtsh_ss(x[i]);
}

TARGET static void f32_to_f16(const float *x, uint16_t *y, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm_storeu_si128((__m128i *)(y + i),
				 _mm256_cvtps_ph(_mm256_loadu_ps(x + i),
						 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	for (; i < n; i++)
		y[i] = lumen_f32_to_f16(x[i]);
}

/*
 * Q4_0x8 (isa.rst, "Q4_0x8"): a 32-byte chunk of a block holds 8 rows x 4
 * columns of nibbles, a row per int32 lane, so 4 activation bytes
 * broadcast against it sum into each row's own lane and a block ends as
 * one exact int32 per row: one conversion, one scale multiply and one FMA
 * then serve 8 rows. The integer adds are exact in any order; the float
 * chain per row is one FMA per block in block order, as the scalar kernel.
 */
TARGET static INLINE __m256i r8_dot(__m256i acc, __m256i w, __m256i x)
{
#ifdef LUMEN_X86_VNNI
	return _mm256_dpbusd_epi32(acc, w, x);
#else
	/* nibbles <= 15 times |x| <= 127: the int16 pairs cannot saturate */
	return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(w, x),
						       _mm256_set1_epi16(1)));
#endif
}

TARGET static INLINE __m256i bcast4(const int8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return _mm256_set1_epi32(v);
}

/*
 * One block of a group against one activation row: 8 rows' exact sums.
 * lo[c] holds chunk c's low nibbles; hi[c] its high nibbles, which with
 * VNNI stay in place (times 16: vpdpbusd has no int16 step to saturate,
 * and a sum of multiples of 16 shifts back exactly), saving a shift per
 * chunk; maddubs would saturate on them, so AVX2 shifts them down.
 */
TARGET static INLINE __m256i r8_block_sum(const __m256i *lo, const __m256i *hi,
					  const int8_t *xq, int32_t bias, int hi_x16)
{
	__m256i a0 = _mm256_set1_epi32(bias), a1 = _mm256_setzero_si256();

	a0 = r8_dot(a0, lo[0], bcast4(xq));
	a1 = r8_dot(a1, hi[0], bcast4(xq + 16));
	a0 = r8_dot(a0, lo[1], bcast4(xq + 4));
	a1 = r8_dot(a1, hi[1], bcast4(xq + 20));
	a0 = r8_dot(a0, lo[2], bcast4(xq + 8));
	a1 = r8_dot(a1, hi[2], bcast4(xq + 24));
	a0 = r8_dot(a0, lo[3], bcast4(xq + 12));
	a1 = r8_dot(a1, hi[3], bcast4(xq + 28));
#ifdef LUMEN_X86_VNNI
	if (hi_x16)
		a1 = _mm256_srai_epi32(a1, 4);
#endif
	return _mm256_add_epi32(a0, a1);
}

TARGET static INLINE void r8_unpack(const uint8_t *chunk, __m256i *lo, __m256i *hi)
{
	__m256i v = _mm256_loadu_si256((const __m256i *)chunk);

	*lo = _mm256_and_si256(v, _mm256_set1_epi8(0xf));
#ifdef LUMEN_X86_VNNI
	*hi = _mm256_and_si256(v, _mm256_set1_epi8((char)0xf0));
#else
	*hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0xf));
#endif
}

/*
 * Q5_0x8: a chunk's nibbles with their fifth bits, which the layout keeps
 * so that one shift of the rows' bit vector and a mask set bit 4 of each
 * byte (isa.rst, "Q5_0x8"); the high nibbles come down (5 bits do not fit
 * in place).
 */
TARGET static INLINE void r5_unpack(const uint8_t *chunk, __m256i qh, int c,
				    __m256i *lo, __m256i *hi)
{
	__m256i v = _mm256_loadu_si256((const __m256i *)chunk);
	const __m256i m4 = _mm256_set1_epi8(0xf), b4 = _mm256_set1_epi8(0x10);

	*lo = _mm256_or_si256(_mm256_and_si256(v, m4),
			      _mm256_and_si256(_mm256_slli_epi32(qh, 4 - c), b4));
	*hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4),
			      _mm256_and_si256(_mm256_srli_epi32(qh, c), b4));
}

#define R8_BLOCK_BYTES (LUMEN_ROW_GROUP * 18)

/*
 * One block of a Q8_0x8 group against one activation row. With VNNI the
 * values go in as unsigned w + 128 (w ^ 0x80) from rbias = -128 sum(x);
 * AVX2 moves w's sign onto x so |w| is maddubs' unsigned operand
 * (|w| <= 128, |x| <= 127: the int16 pairs cannot saturate).
 */
TARGET static INLINE __m256i r8_q8_block_sum(const uint8_t *chunks, const int8_t *xq,
					     int32_t bias)
{
	__m256i a0 = _mm256_set1_epi32(bias), a1 = _mm256_setzero_si256();

#pragma GCC unroll 8
	for (int c = 0; c < 8; c += 2) {
		__m256i w0 = _mm256_loadu_si256((const __m256i *)(chunks + 32 * c));
		__m256i w1 = _mm256_loadu_si256((const __m256i *)(chunks + 32 * c + 32));
#ifdef LUMEN_X86_VNNI
		const __m256i flip = _mm256_set1_epi8((char)0x80);

		a0 = _mm256_dpbusd_epi32(a0, _mm256_xor_si256(w0, flip), bcast4(xq + 4 * c));
		a1 = _mm256_dpbusd_epi32(a1, _mm256_xor_si256(w1, flip), bcast4(xq + 4 * c + 4));
#else
		a0 = r8_dot(a0, _mm256_abs_epi8(w0), _mm256_sign_epi8(bcast4(xq + 4 * c), w0));
		a1 = r8_dot(a1, _mm256_abs_epi8(w1), _mm256_sign_epi8(bcast4(xq + 4 * c + 4), w1));
#endif
	}
	return _mm256_add_epi32(a0, a1);
}

/*
 * One group of 8 rows times nx activation rows, Q4_0x8 (q8 = 0) or
 * Q8_0x8; each output's arithmetic is the same whatever nx. One group at
 * a time: two at once (two weight streams) measured as fast from L2 but
 * 4-5x slower from DRAM (576 x 49152, 16 MiB).
 */
enum { R8_Q4_0, R8_Q8_0, R8_Q5_0 };

TARGET static INLINE void r8_group(const uint8_t *grp, int kind, const struct lumen_qrow *x,
				   unsigned int nx, size_t nb, float *y, size_t ys)
{
	const int q8 = kind == R8_Q8_0;
	const size_t blk_bytes = LUMEN_ROW_GROUP * (q8 ? 34 : kind == R8_Q5_0 ? 22 : 18);
	__m256 acc[LUMEN_R8_MR];

#pragma GCC unroll 8
	for (unsigned int r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (size_t b = 0; b < nb; b++) {
		const uint8_t *blk = grp + b * blk_bytes;
		__m256i lo[4], hi[4];
		__m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));

		if (kind == R8_Q4_0) {
#pragma GCC unroll 4
			for (int c = 0; c < 4; c++)
				r8_unpack(blk + 16 + 32 * c, &lo[c], &hi[c]);
		} else if (kind == R8_Q5_0) {
			__m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 16));

			r5_unpack(blk + 48, qh, 0, &lo[0], &hi[0]);
			r5_unpack(blk + 80, qh, 1, &lo[1], &hi[1]);
			r5_unpack(blk + 112, qh, 2, &lo[2], &hi[2]);
			r5_unpack(blk + 144, qh, 3, &lo[3], &hi[3]);
		}
#pragma GCC unroll 8
		for (unsigned int r = 0; r < nx; r++) {
			const int8_t *xq = x[r].qs + b * LUMEN_QK;
			__m256i sum = q8 ? r8_q8_block_sum(blk + 16, xq, x[r].rbias[b]) :
				      r8_block_sum(lo, hi, xq, x[r].rbias[b], kind == R8_Q4_0);

			acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_broadcast_ss(&x[r].d[b])),
						 _mm256_cvtepi32_ps(sum), acc[r]);
		}
	}
#pragma GCC unroll 8
	for (unsigned int r = 0; r < nx; r++)
		_mm256_storeu_ps(y + r * ys, acc[r]);
}

/* constant q8 and nx: the loops unroll, accumulators in registers */
TARGET static INLINE void r8_gemm(int kind, const void *wv, size_t gs, size_t ng,
				  const struct lumen_qrow *x, unsigned int nx, size_t nb,
				  float *y, size_t ys)
{
	for (size_t g = 0; g < ng; g++) {
		const uint8_t *grp = (const uint8_t *)wv + g * gs;
		float *yg = y + g * LUMEN_ROW_GROUP;

		unsigned int r = 0;

#ifdef LUMEN_X86_VNNI
		/* 32 ymm registers: 8 rows' accumulators beside a block's 8 vectors */
		for (; r + LUMEN_R8_MR <= nx; r += LUMEN_R8_MR)
			r8_group(grp, kind, x + r, LUMEN_R8_MR, nb, yg + r * ys, ys);
#endif
		for (; r + LUMEN_MR <= nx; r += LUMEN_MR)
			r8_group(grp, kind, x + r, LUMEN_MR, nb, yg + r * ys, ys);
		for (; r < nx; r++)
			r8_group(grp, kind, &x[r], 1, nb, yg + r * ys, ys);
	}
}

TARGET static void gemm_q4_0_r8(const void *wv, size_t gs, size_t ng,
				const struct lumen_qrow *x, unsigned int nx, size_t nb,
				float *y, size_t ys)
{
	r8_gemm(R8_Q4_0, wv, gs, ng, x, nx, nb, y, ys);
}

TARGET static void gemm_q8_0_r8(const void *wv, size_t gs, size_t ng,
				const struct lumen_qrow *x, unsigned int nx, size_t nb,
				float *y, size_t ys)
{
	r8_gemm(R8_Q8_0, wv, gs, ng, x, nx, nb, y, ys);
}

TARGET static void gemm_q5_0_r8(const void *wv, size_t gs, size_t ng,
				const struct lumen_qrow *x, unsigned int nx, size_t nb,
				float *y, size_t ys)
{
	r8_gemm(R8_Q5_0, wv, gs, ng, x, nx, nb, y, ys);
}

/*
 * Q4_Kx8 (isa.rst, "Q4_Kx8"): the 8 rows' 6-bit scales and mins of a
 * super-block come out of its 3 scale chunks (row i's 12 bytes in lane i)
 * as int32 lanes: sc[j] for sub-block j, and the mins as int16 pairs
 * mp[k] = (m_2k, m_2k+1) for one vpmaddwd with x's sums per two sub-blocks.
 */
#define K4_R8_SUPER (LUMEN_ROW_GROUP * 144)

/*
 * The K-quant groups' weights are prefetched into L2 this many bytes
 * ahead, one super-block's lines per super-block. Q6_Kx8 reads a
 * super-block's ql and qh chunks out of order, which the hardware
 * prefetcher does not follow: from DRAM (bench-hw, 2048x8192 cold, 1
 * thread) it ran at 21-43% of the read bandwidth without, 53-89% with.
 * Into L1 (T0) it did not help; 4-16 KiB ahead measured alike, 8 KiB kept.
 * A prefetch never faults, so running past the matrix's end is harmless.
 */
#define KQ_PREFETCH_AHEAD 8192

TARGET static INLINE void prefetch_l2(const uint8_t *p, size_t n)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)63, e = (uintptr_t)p + n;

	for (; a < e; a += 64)
		_mm_prefetch((const char *)a, _MM_HINT_T1);
}

TARGET static INLINE void k4_r8_scales(const uint8_t *s, __m256i *sc, __m256i *mp)
{
	const __m256i s0 = _mm256_loadu_si256((const __m256i *)s);
	const __m256i s1 = _mm256_loadu_si256((const __m256i *)(s + 32));
	const __m256i s2 = _mm256_loadu_si256((const __m256i *)(s + 64));
	const __m256i m6 = _mm256_set1_epi8(63), m4 = _mm256_set1_epi8(15);
	const __m256i top = _mm256_set1_epi8(0x30);
	/*
	 * Bytes first, a lane's 4 values in its 4 bytes: scales and mins of
	 * sub-blocks 0-3 are bytes 0-3 and 4-7 masked; those of 4-7 take the
	 * nibbles of bytes 8-11 and bits 6-7 of bytes 0-3 / 4-7 (the 16-bit
	 * shift's stray bits fall outside the masks).
	 */
	const __m256i sa = _mm256_and_si256(s0, m6), ma = _mm256_and_si256(s1, m6);
	const __m256i sb = _mm256_or_si256(_mm256_and_si256(s2, m4),
					   _mm256_and_si256(_mm256_srli_epi16(s0, 2), top));
	const __m256i mb = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(s2, 4), m4),
					   _mm256_and_si256(_mm256_srli_epi16(s1, 2), top));
	/* then one byte shuffle each: byte j of a lane to an int32, bytes 2k, 2k+1 to int16s */
#define K4_BYTE(j) _mm256_setr_epi8(j, -1, -1, -1, 4 + (j), -1, -1, -1, 8 + (j), -1, -1, -1, \
				    12 + (j), -1, -1, -1, j, -1, -1, -1, 4 + (j), -1, -1, -1, \
				    8 + (j), -1, -1, -1, 12 + (j), -1, -1, -1)
#define K4_PAIR(j) _mm256_setr_epi8(j, -1, (j) + 1, -1, 4 + (j), -1, 5 + (j), -1, \
				    8 + (j), -1, 9 + (j), -1, 12 + (j), -1, 13 + (j), -1, \
				    j, -1, (j) + 1, -1, 4 + (j), -1, 5 + (j), -1, \
				    8 + (j), -1, 9 + (j), -1, 12 + (j), -1, 13 + (j), -1)
#pragma GCC unroll 4
	for (int j = 0; j < 4; j++) {
		sc[j] = _mm256_shuffle_epi8(sa, K4_BYTE(j));
		sc[j + 4] = _mm256_shuffle_epi8(sb, K4_BYTE(j));
	}
	mp[0] = _mm256_shuffle_epi8(ma, K4_PAIR(0));
	mp[1] = _mm256_shuffle_epi8(ma, K4_PAIR(2));
	mp[2] = _mm256_shuffle_epi8(mb, K4_PAIR(0));
	mp[3] = _mm256_shuffle_epi8(mb, K4_PAIR(2));
#undef K4_BYTE
#undef K4_PAIR
}

/*
 * One Q4_Kx8 group times nx activation rows: per super-block and row the
 * exact isum = sum_j sc_j S_j (S_j from 8 chunks of 4 columns, a row per
 * lane) and msum = sum_j m_j sum(x over j), then two FMAs in the scalar
 * kernel's order. A chunk's nibbles are unpacked once for the nx rows.
 */
TARGET static INLINE void k4_r8_group(const uint8_t *grp, const struct lumen_qrow *x,
				      unsigned int nx, size_t nb, float *y, size_t ys)
{
	__m256 acc[LUMEN_MR];

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (size_t b = 0; b < nb; b++) {
		const uint8_t *blk = grp + b * K4_R8_SUPER;
		__m256i sc[8], mp[4], isum[LUMEN_MR];

		prefetch_l2(blk + KQ_PREFETCH_AHEAD, K4_R8_SUPER);

		k4_r8_scales(blk + 32, sc, mp);
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			isum[r] = _mm256_setzero_si256();
#pragma GCC unroll 4
		for (int p = 0; p < 4; p++) {
			__m256i lo[8], hi[8];

#pragma GCC unroll 8
			for (int c = 0; c < 8; c++)
				r8_unpack(blk + 128 + 32 * (8 * p + c), &lo[c], &hi[c]);
#ifndef LUMEN_X86_VNNI
			/* the scales as int16 pairs: maddubs' pairs times them in one vpmaddwd */
			const __m256i s0 = _mm256_or_si256(sc[2 * p], _mm256_slli_epi32(sc[2 * p], 16));
			const __m256i s1 = _mm256_or_si256(sc[2 * p + 1],
							   _mm256_slli_epi32(sc[2 * p + 1], 16));
#endif
#pragma GCC unroll 4
			for (unsigned int r = 0; r < nx; r++) {
				const int8_t *xq = x[r].qs + b * LUMEN_QK_K + 64 * p;
				__m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();

#ifdef LUMEN_X86_VNNI
#pragma GCC unroll 8
				for (int c = 0; c < 8; c++) {
					a0 = r8_dot(a0, lo[c], bcast4(xq + 4 * c));
					a1 = r8_dot(a1, hi[c], bcast4(xq + 32 + 4 * c));
				}
				a1 = _mm256_srai_epi32(a1, 4);	/* exact: multiples of 16 */
				a0 = _mm256_mullo_epi32(a0, sc[2 * p]);
				a1 = _mm256_mullo_epi32(a1, sc[2 * p + 1]);
#else
				/*
				 * nibble x |x| pairs <= 3810, times a scale <= 63 and
				 * summed in pairs: exact in int32, no vpmulld
				 */
#pragma GCC unroll 8
				for (int c = 0; c < 8; c++) {
					a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(
						_mm256_maddubs_epi16(lo[c], bcast4(xq + 4 * c)), s0));
					a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(
						_mm256_maddubs_epi16(hi[c], bcast4(xq + 32 + 4 * c)), s1));
				}
#endif
				isum[r] = _mm256_add_epi32(isum[r], _mm256_add_epi32(a0, a1));
			}
		}
		__m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
		__m256 dm = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16)));

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++) {
			/*
			 * x's 32-sums (|s| <= 32 * 127: int16) from its 16-sums in
			 * one vpmaddwd, packed to int16 pairs (s_2k, s_2k+1): dwords
			 * 0, 1 of the low half, 4, 5 of the high half; each pair to
			 * every lane by one vpermd, against the mins' pairs mp[k]
			 */
			const __m256i s32 = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)
					(x[r].bsums + b * (LUMEN_QK_K / 16))), _mm256_set1_epi16(1));
			const __m256i sp = _mm256_packs_epi32(s32, s32);
			__m256i msum = _mm256_setzero_si256();
			__m256 dx = _mm256_broadcast_ss(&x[r].d[b]);

#pragma GCC unroll 4
			for (int k = 0; k < 4; k++)
				msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mp[k],
					_mm256_permutevar8x32_epi32(sp, _mm256_set1_epi32(k + (k & 2)))));
			acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(dw, dx), _mm256_cvtepi32_ps(isum[r]),
						 acc[r]);
			acc[r] = _mm256_fnmadd_ps(_mm256_mul_ps(dm, dx), _mm256_cvtepi32_ps(msum),
						  acc[r]);
		}
	}
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		_mm256_storeu_ps(y + r * ys, acc[r]);
}

/*
 * A K-quant group kernel over ng groups: LUMEN_MR activation rows at a
 * time (constant nx: its loops unroll, accumulators in registers), then
 * the rest one by one.
 */
#define K_R8_GEMM(name, group)							\
TARGET static void name(const void *wv, size_t gs, size_t ng,			\
			const struct lumen_qrow *x, unsigned int nx, size_t nb,	\
			float *y, size_t ys)					\
{										\
	for (size_t g = 0; g < ng; g++) {					\
		const uint8_t *grp = (const uint8_t *)wv + g * gs;		\
		float *yg = y + g * LUMEN_ROW_GROUP;				\
		unsigned int r = 0;						\
										\
		for (; r + LUMEN_MR <= nx; r += LUMEN_MR)			\
			group(grp, x + r, LUMEN_MR, nb, yg + r * ys, ys);	\
		for (; r < nx; r++)						\
			group(grp, &x[r], 1, nb, yg + r * ys, ys);		\
	}									\
}

K_R8_GEMM(gemm_q4_k_r8, k4_r8_group)

/*
 * Q6_Kx8 (isa.rst, "Q6_Kx8"): per super-block 4 scale chunks (row i's 16
 * int8 scales in lane i, 4 a chunk), 32 ql chunks, 16 qh chunks. For half
 * h and chunk column c (0..7), ql chunks 16h + c and 16h + 8 + c with qh
 * chunk 8h + c make 4 vectors of 6-bit values: columns 128h + 32q + 4c..
 * (q = 0..3) of sub-blocks 8h + 2q + c / 4. The offset 32 comes off each
 * sub-block's sum, which starts at -32 sum(x over it) (the Q8_K 16-sum):
 * isum = sum_s sc_s (S_s - 32 bsum_s), the same exact integer as any
 * other order. A sub-block's scale is taken from its chunk where it is
 * used: 16 scales held across the super-block spilled registers.
 */
#define K6_R8_SUPER (LUMEN_ROW_GROUP * 210)

/* sub-block s's 8 scales (int8, one per row) as int32 lanes */
TARGET static INLINE __m256i k6_r8_scale(const uint8_t *blk, int s)
{
	__m256i v = _mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * (s / 4)));

	return _mm256_srai_epi32(_mm256_slli_epi32(v, 24 - 8 * (s % 4)), 24);
}

TARGET static INLINE void k6_r8_group(const uint8_t *grp, const struct lumen_qrow *x,
				      unsigned int nx, size_t nb, float *y, size_t ys)
{
	const __m256i m4 = _mm256_set1_epi8(0xf), m2 = _mm256_set1_epi8(0x30);
	__m256 acc[LUMEN_MR];

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (size_t b = 0; b < nb; b++) {
		const uint8_t *blk = grp + b * K6_R8_SUPER;
		__m256i isum[LUMEN_MR];

		prefetch_l2(blk + KQ_PREFETCH_AHEAD, K6_R8_SUPER);
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			isum[r] = _mm256_setzero_si256();
#pragma GCC unroll 2
		for (int h = 0; h < 2; h++) {
#pragma GCC unroll 2
			for (int k = 0; k < 2; k++) {	/* chunk columns 4k..4k+3: sub-blocks 8h + 2q + k */
				__m256i q[4][4];

#pragma GCC unroll 4
				for (int c = 0; c < 4; c++) {
					int cc = 4 * k + c;
					__m256i la = _mm256_loadu_si256((const __m256i *)
							(blk + 144 + 32 * (16 * h + cc)));
					__m256i lb = _mm256_loadu_si256((const __m256i *)
							(blk + 144 + 32 * (16 * h + 8 + cc)));
					__m256i qh = _mm256_loadu_si256((const __m256i *)
							(blk + 1168 + 32 * (8 * h + cc)));

					q[0][c] = _mm256_or_si256(_mm256_and_si256(la, m4),
						_mm256_and_si256(_mm256_slli_epi16(qh, 4), m2));
					q[1][c] = _mm256_or_si256(_mm256_and_si256(lb, m4),
						_mm256_and_si256(_mm256_slli_epi16(qh, 2), m2));
					q[2][c] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(la, 4), m4),
						_mm256_and_si256(qh, m2));
					q[3][c] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lb, 4), m4),
						_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2));
				}
#pragma GCC unroll 4
				for (unsigned int r = 0; r < nx; r++) {
					const int8_t *xq = x[r].qs + b * LUMEN_QK_K + 128 * h + 16 * k;
					const int16_t *bs = x[r].bsums + b * (LUMEN_QK_K / 16);

#pragma GCC unroll 4
					for (int qq = 0; qq < 4; qq++) {
						int sub = 8 * h + 2 * qq + k;
						__m256i s = _mm256_set1_epi32(-32 * bs[sub]);

#pragma GCC unroll 4
						for (int c = 0; c < 4; c++)
							s = r8_dot(s, q[qq][c], bcast4(xq + 32 * qq + 4 * c));
						isum[r] = _mm256_add_epi32(isum[r],
							_mm256_mullo_epi32(s, k6_r8_scale(blk, sub)));
					}
				}
			}
		}
		__m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_broadcast_ss(&x[r].d[b])),
						 _mm256_cvtepi32_ps(isum[r]), acc[r]);
	}
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		_mm256_storeu_ps(y + r * ys, acc[r]);
}

K_R8_GEMM(gemm_q6_k_r8, k6_r8_group)

static const struct lumen_kernels kernels_avx2 = {
	.name = "avx2",
	.gemv_f32 = gemv_f32,
	.gemv_f16 = gemv_f16,
	.gemv_q8_0 = gemv_q8_0,
	.gemv_q4_0 = gemv_q4_0,
	.dot_f32 = dot_f32,
	.dot_f16 = dot_f16,
	.dot_q8_0 = dot_q8_0,
	.dot_q4_0 = dot_q4_0,
	.tile_q4_0 = tile_q4_0,
	.tile_q8_0 = tile_q8_0,
	.quantize_act = quantize_act,
	.quantize_act_k = quantize_act_k,
	.dot_blk = {
		[LUMEN_DTYPE_Q4_1] = dot_q4_1,
		[LUMEN_DTYPE_Q5_0] = dot_q5_0,
		[LUMEN_DTYPE_Q5_1] = dot_q5_1,
		[LUMEN_DTYPE_Q4_K] = dot_q4_k,
		[LUMEN_DTYPE_Q5_K] = dot_q5_k,
		[LUMEN_DTYPE_Q6_K] = dot_q6_k,
	},
	.dot_bf16 = dot_bf16,
	.exp_sum = exp_sum,
	.f16_to_f32 = f16_to_f32,
	.f32_to_f16 = f32_to_f16,
	.gemm_q4_0_r8 = gemm_q4_0_r8,
	.gemm_q8_0_r8 = gemm_q8_0_r8,
	.gemm_q4_k_r8 = gemm_q4_k_r8,
	.gemm_q6_k_r8 = gemm_q6_k_r8,
	.gemm_q5_0_r8 = gemm_q5_0_r8,
#ifdef LUMEN_X86_VNNI	/* attention_avx512.c / attention_avx2.c */
	.q8_r8_bias = -128,
	.attn_qk = { lumen_attn_qk_f32_avx512, lumen_attn_qk_f16_avx512 },
	.attn_pv = { lumen_attn_pv_f32_avx512, lumen_attn_pv_f16_avx512 },
	.attn_max = lumen_attn_max_avx512,
	.attn_scale = lumen_attn_scale_avx512,
#else
	.attn_qk = { lumen_attn_qk_f32_avx2, lumen_attn_qk_f16_avx2 },
	.attn_pv = { lumen_attn_pv_f32_avx2, lumen_attn_pv_f16_avx2 },
	.attn_max = lumen_attn_max_avx2,
	.attn_scale = lumen_attn_scale_avx2,
#endif
};

#ifndef LUMEN_X86_VNNI
/* F16C from CPUID leaf 1 (clang before 15 has no __builtin_cpu_supports("f16c")) */
static int has_f16c(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}

const struct lumen_kernels *lumen_kernels_avx2(void)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ||
	    !has_f16c())
		return NULL;
	return &kernels_avx2;
}
#endif /* LUMEN_X86_VNNI */

#else

const struct lumen_kernels *lumen_kernels_avx2(void)
{
	return NULL;
}

#endif
