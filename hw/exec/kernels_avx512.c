// SPDX-License-Identifier: MIT
/*
 * AVX-512 VNNI kernels (with AVX-512 BW/VL, AVX2, FMA, F16C), compiled for
 * that target whatever the build flags and picked at run time when the
 * CPU has them. Every AVX2 kernel is compiled again here with VNNI (the
 * byte dot products of the other block types and the K-quants on
 * vpdpbusd / vpdpwssd, same integer sums); the Q4_0 and Q8_0 matvec and
 * matmul, which decode spends most of its time in, are this file's own.
 * The interleaved Q4_0x8 / Q8_0x8 kernels come from kernels_avx2.c's
 * source, their byte dot products on vpdpbusd.
 *
 * vpdpbusd sums four unsigned x signed byte products straight into int32
 * lanes: one instruction where AVX2 needs maddubs + madd, and no int16
 * intermediate that could saturate. The operands are as in the AVX2
 * kernels: Q4_0 nibbles unsigned against the signed activations, Q8_0 |w|
 * against x * sign(w).
 */
#include <pthread.h>
#include <string.h>

#include "exec_internal.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
/* every AVX2 kernel again, its byte dot products on vpdpbusd / vpdpwssd */
#define LUMEN_X86_VNNI 1
#include "kernels_avx2.c"

/* the F16 scale a block starts with, as 8 floats */
TARGET static INLINE __m256 vnni_scale8(const void *blk)
{
	uint16_t d;

	memcpy(&d, blk, sizeof(d));
	return _mm256_cvtph_ps(_mm_set1_epi16((short)d));
}

/* unsigned a times signed b, four byte pairs summed per int32 lane, as floats */
TARGET static INLINE __m256 vnni_dot_u8_i8(__m256i a, __m256i b)
{
	return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), a, b));
}

/*
 * Q4_0: d_w d_x sum_i (q_i - 8) x_i with the sum exact in int32: vpdpbusd
 * of the unsigned nibbles starts from the row's q4_bias (-8 x each 4
 * values' sum, made once per activation row by prep_q4_0), so a block's
 * product is rounded once, as in the scalar kernels; taking 8 s_x off in
 * float instead (the AVX2 kernels) loses bits to cancellation on small
 * models. The fused multiply-add is spelled out so matvec and matmul round
 * alike.
 */
TARGET static INLINE __m256 vnni_q4_0_acc(const struct lumen_blk_q4_0 *w, __m256i xv,
					  const int32_t *bias, __m256 dx, __m256 acc)
{
	__m256i sum = _mm256_dpbusd_epi32(_mm256_loadu_si256((const __m256i *)bias),
					  q4_nibbles(w->qs), xv);

	return _mm256_fmadd_ps(_mm256_mul_ps(vnni_scale8(w), dx), _mm256_cvtepi32_ps(sum), acc);
}

/* q4_bias: -8 times the sum of each 4 values, a vpdpbusd of ones against x */
TARGET static void vnni_prep_q4_0(const int8_t *qs, int32_t *bias, size_t nb)
{
	for (size_t b = 0; b < nb; b++) {
		__m256i sum4 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1),
						   load_i8(qs + b * LUMEN_QK));

		_mm256_storeu_si256((__m256i *)(bias + 8 * b),
				    _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sum4, 3)));
	}
}

/* Q8_0: w's sign moves to x, so |w| is the unsigned operand */
TARGET static INLINE __m256 vnni_q8_0_acc(const struct lumen_blk_q8_0 *w, __m256i xv,
				     __m256 dx, __m256 acc)
{
	__m256i q = load_i8(w->qs);

	return _mm256_fmadd_ps(_mm256_mul_ps(vnni_scale8(w), dx),
			       vnni_dot_u8_i8(_mm256_abs_epi8(q), _mm256_sign_epi8(xv, q)), acc);
}

/*
 * One weight row at a time, so the weights stream through memory in
 * order. Several rows per pass over the activation row (sharing its loads)
 * measured no faster in thread CPU time on Zen 4 and 2-5x slower in wall
 * time from L3/DRAM on the shared machine, as the AVX2 kernels found too.
 * Blocks go round four accumulators (the adds' latency), the order the
 * M > 1 kernels below sum in, so prefill equals decode bit for bit.
 */
#define GEMV(name, BLK, STEP)							\
TARGET static void name(const void *wv, size_t ws, size_t n,			\
			const struct lumen_qrow *x, size_t nb, float *y)	\
{										\
	for (size_t j = 0; j < n; j++) {					\
		const BLK *w = (const void *)((const uint8_t *)wv + j * ws);	\
		__m256 a = _mm256_setzero_ps(), o = a, a2 = a, o2 = a;		\
		size_t b = 0;							\
										\
		for (; b + 4 <= nb; b += 4) {					\
			a = STEP(b, a);						\
			o = STEP(b + 1, o);					\
			a2 = STEP(b + 2, a2);					\
			o2 = STEP(b + 3, o2);					\
		}								\
		for (; b < nb; b++)						\
			a = STEP(b, a);						\
		y[j] = hsum(_mm256_add_ps(_mm256_add_ps(a, a2),		\
					  _mm256_add_ps(o, o2)));		\
	}									\
}

#define Q4_0_STEP(i, acc) vnni_q4_0_acc(&w[i], load_i8(x->qs + (i) * LUMEN_QK),	\
					  x->q4_bias + 8 * (i),			\
					  _mm256_broadcast_ss(&x->d[i]), acc)
#define Q8_0_STEP(i, acc) vnni_q8_0_acc(&w[i], load_i8(x->qs + (i) * LUMEN_QK),	\
				     _mm256_broadcast_ss(&x->d[i]), acc)

GEMV(vnni_gemv_q4_0, struct lumen_blk_q4_0, Q4_0_STEP)
GEMV(vnni_gemv_q8_0, struct lumen_blk_q8_0, Q8_0_STEP)

/*
 * M > 1: one weight row against nx activation rows, the weight block
 * decoded once. Each row's sum runs in the order of the matvec above
 * (four accumulators by block number mod 4), so prefill equals decode.
 */
TARGET static INLINE void vnni_q4_0_xrows(const struct lumen_blk_q4_0 *w,
				     const struct lumen_qrow *x, unsigned int nx,
				     size_t nb, float *out)
{
	__m256 acc[4][LUMEN_MR];
	size_t b = 0;

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		acc[0][r] = acc[1][r] = acc[2][r] = acc[3][r] = _mm256_setzero_ps();
	for (; b + 4 <= nb; b += 4) {
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++) {
#pragma GCC unroll 4
			for (unsigned int i = 0; i < 4; i++)
				acc[i][r] = vnni_q4_0_acc(&w[b + i], load_i8(x[r].qs + (b + i) * LUMEN_QK),
							  x[r].q4_bias + 8 * (b + i),
							  _mm256_broadcast_ss(&x[r].d[b + i]), acc[i][r]);
		}
	}
	for (; b < nb; b++) {
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			acc[0][r] = vnni_q4_0_acc(&w[b], load_i8(x[r].qs + b * LUMEN_QK),
						  x[r].q4_bias + 8 * b,
						  _mm256_broadcast_ss(&x[r].d[b]), acc[0][r]);
	}
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		out[r] = hsum(_mm256_add_ps(_mm256_add_ps(acc[0][r], acc[2][r]),
					    _mm256_add_ps(acc[1][r], acc[3][r])));
}

TARGET static INLINE void vnni_q8_0_xrows(const struct lumen_blk_q8_0 *w,
				     const struct lumen_qrow *x, unsigned int nx,
				     size_t nb, float *out)
{
	__m256 acc[4][LUMEN_MR];
	size_t b = 0;

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		acc[0][r] = acc[1][r] = acc[2][r] = acc[3][r] = _mm256_setzero_ps();
	for (; b + 4 <= nb; b += 4) {
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++) {
#pragma GCC unroll 4
			for (unsigned int i = 0; i < 4; i++)
				acc[i][r] = vnni_q8_0_acc(&w[b + i], load_i8(x[r].qs + (b + i) * LUMEN_QK),
							_mm256_broadcast_ss(&x[r].d[b + i]), acc[i][r]);
		}
	}
	for (; b < nb; b++) {
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			acc[0][r] = vnni_q8_0_acc(&w[b], load_i8(x[r].qs + b * LUMEN_QK),
					     _mm256_broadcast_ss(&x[r].d[b]), acc[0][r]);
	}
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		out[r] = hsum(_mm256_add_ps(_mm256_add_ps(acc[0][r], acc[2][r]),
					    _mm256_add_ps(acc[1][r], acc[3][r])));
}

TARGET static void vnni_dot_q4_0(const void *w, const struct lumen_qrow *x,
			    unsigned int nx, size_t nb, float *out)
{
	if (nx == LUMEN_MR) {
		vnni_q4_0_xrows(w, x, LUMEN_MR, nb, out);
		return;
	}
	for (unsigned int r = 0; r < nx; r++)
		vnni_q4_0_xrows(w, &x[r], 1, nb, &out[r]);
}

TARGET static void vnni_dot_q8_0(const void *w, const struct lumen_qrow *x,
			    unsigned int nx, size_t nb, float *out)
{
	if (nx == LUMEN_MR) {
		vnni_q8_0_xrows(w, x, LUMEN_MR, nb, out);
		return;
	}
	for (unsigned int r = 0; r < nx; r++)
		vnni_q8_0_xrows(w, &x[r], 1, nb, &out[r]);
}

/*
 * M > 1, a tile of LUMEN_NR weight rows times LUMEN_MR activation rows:
 * each activation block loaded once for the four weight rows and each
 * weight block decoded once for the four activation rows, so a block
 * product costs about one load instead of three and a half. Every output
 * keeps the matvec's sum: its four chains (blocks by number mod 4, the
 * tail blocks at the end of chain 0) are run one after another, so one
 * accumulator per output is live (16, not the 64 four chains at once
 * would need) and the chains meet as in the matvec.
 */
#define VNNI_TILE(name, BLK, STEP)						\
TARGET static void name(const void *wv, size_t ws, const struct lumen_qrow *x,	\
			size_t nb, float *out)					\
{										\
	const BLK *w[LUMEN_NR];							\
	__m256 part[4][LUMEN_NR][LUMEN_MR];					\
	size_t nb4 = nb & ~(size_t)3;						\
										\
	for (unsigned int j = 0; j < LUMEN_NR; j++)				\
		w[j] = (const void *)((const uint8_t *)wv + j * ws);		\
	for (unsigned int c = 0; c < 4; c++) {					\
		__m256 acc[LUMEN_NR][LUMEN_MR];					\
										\
		_Pragma("GCC unroll 4")						\
		for (unsigned int j = 0; j < LUMEN_NR; j++)			\
			_Pragma("GCC unroll 4")					\
			for (unsigned int r = 0; r < LUMEN_MR; r++)		\
				acc[j][r] = _mm256_setzero_ps();		\
		for (size_t b = c; b < nb4; b += 4) {				\
			_Pragma("GCC unroll 4")					\
			for (unsigned int j = 0; j < LUMEN_NR; j++)		\
				_Pragma("GCC unroll 4")				\
				for (unsigned int r = 0; r < LUMEN_MR; r++)	\
					acc[j][r] = STEP(w[j], &x[r], b, acc[j][r]); \
		}								\
		for (size_t b = nb4; c == 0 && b < nb; b++) {			\
			_Pragma("GCC unroll 4")					\
			for (unsigned int j = 0; j < LUMEN_NR; j++)		\
				_Pragma("GCC unroll 4")				\
				for (unsigned int r = 0; r < LUMEN_MR; r++)	\
					acc[j][r] = STEP(w[j], &x[r], b, acc[j][r]); \
		}								\
		memcpy(part[c], acc, sizeof(acc));				\
	}									\
	for (unsigned int j = 0; j < LUMEN_NR; j++)				\
		for (unsigned int r = 0; r < LUMEN_MR; r++)			\
			out[j * LUMEN_MR + r] = hsum(_mm256_add_ps(		\
				_mm256_add_ps(part[0][j][r], part[2][j][r]),	\
				_mm256_add_ps(part[1][j][r], part[3][j][r])));	\
}

#define Q4_0_TILE_STEP(wj, xr, b, acc)						\
	vnni_q4_0_acc(&(wj)[b], load_i8((xr)->qs + (b) * LUMEN_QK),		\
		      (xr)->q4_bias + 8 * (b), _mm256_broadcast_ss(&(xr)->d[b]), acc)

VNNI_TILE(vnni_tile_q4_0, struct lumen_blk_q4_0, Q4_0_TILE_STEP)

static struct lumen_kernels kernels_avx512;
static int avx512_usable;

/* AVX-512 state saved by the OS: XCR0 bits 1, 2 (SSE, AVX) and 5-7 (opmask, ZMM) */
static int os_saves_avx512(void)
{
	unsigned int a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 0xe6) == 0xe6;
}

static void init_avx512(void)
{
	__builtin_cpu_init();
	if (!lumen_kernels_avx2() || !os_saves_avx512() ||
	    !__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
	    !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni"))
		return;
	/* this file's copy of the AVX2 table, whose dot products use VNNI */
	kernels_avx512 = kernels_avx2;
	kernels_avx512.name = "avx512";
	kernels_avx512.gemv_q4_0 = vnni_gemv_q4_0;
	kernels_avx512.gemv_q8_0 = vnni_gemv_q8_0;
	kernels_avx512.dot_q4_0 = vnni_dot_q4_0;
	kernels_avx512.prep_q4_0 = vnni_prep_q4_0;
	kernels_avx512.dot_q8_0 = vnni_dot_q8_0;
	kernels_avx512.tile_q4_0 = vnni_tile_q4_0;
	/* the AVX2 Q8_0 tile sums as the AVX2 matvec, not as this file's */
	kernels_avx512.tile_q8_0 = NULL;
	avx512_usable = 1;
}

const struct lumen_kernels *lumen_kernels_avx512(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, init_avx512);
	return avx512_usable ? &kernels_avx512 : NULL;
}

#else

const struct lumen_kernels *lumen_kernels_avx512(void)
{
	return NULL;
}

#endif
