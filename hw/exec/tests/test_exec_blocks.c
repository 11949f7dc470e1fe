// SPDX-License-Identifier: MIT
/*
 * GGUF's other block types outside MATMUL: lumen_dequantize_row against the
 * tests' own double decoder on random bytes (every bit pattern), the simple
 * quantizers' accuracy, BF16 rounding, Q8_K activations (SIMD bit-identical
 * with scalar and with the reference), and the kernel tables' entries.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec_internal.h"
#include "lumen_validate.h"
#include "ref_exec.h"
#include "lumen_test.h"

static const uint32_t blk_types[] = {
	LUMEN_DTYPE_Q4_1, LUMEN_DTYPE_Q5_0, LUMEN_DTYPE_Q5_1, LUMEN_DTYPE_Q4_K,
	LUMEN_DTYPE_Q5_K, LUMEN_DTYPE_Q6_K,
};
#define N_BLK_TYPES (sizeof(blk_types) / sizeof(blk_types[0]))

/* a finite half of magnitude in [2^-14, 2^-2) with random sign */
static uint16_t rand_half(void)
{
	return (uint16_t)((rng_u32() & 0x8000) | (1 + rng_u32() % 12) << 10 | (rng_u32() & 0x3ff));
}

static void put_half(uint8_t *p, uint16_t h)
{
	p[0] = (uint8_t)h;
	p[1] = (uint8_t)(h >> 8);
}

/* random bytes, with every F16 field of every block a sane half */
static void random_blocks(uint32_t dtype, uint8_t *p, size_t n)
{
	uint32_t size = lumen_type_size(dtype);

	for (size_t i = 0; i < n / lumen_type_block(dtype) * size; i++)
		p[i] = (uint8_t)rng_u32();
	for (size_t b = 0; b < n / lumen_type_block(dtype); b++, p += size) {
		switch (dtype) {
		case LUMEN_DTYPE_Q6_K:
			put_half(p + 208, rand_half());
			break;
		case LUMEN_DTYPE_Q5_0:
			put_half(p, rand_half());
			break;
		default:	/* d, then m or dmin */
			put_half(p, rand_half());
			put_half(p + 2, rand_half());
		}
	}
}

TEST(dequant_new_types_match_double_reference_random_bytes)
{
	const size_t n = 1024;
	uint8_t *raw = malloc(n * 2);
	float *got = malloc(sizeof(float) * n);
	double *want = malloc(sizeof(double) * n);

	rng_seed(2026);
	for (size_t t = 0; t < N_BLK_TYPES; t++) {
		uint32_t dt = blk_types[t];
		int bad = 0;

		for (int rep = 0; rep < 20; rep++) {
			random_blocks(dt, raw, n);
			lumen_dequantize_row(dt, raw, got, n);
			ref_dequant_row(dt, raw, want, n);
			for (size_t blk = 0; blk < n; blk += 32) {
				double mag = 0;

				for (size_t j = blk; j < blk + 32; j++)
					mag = fmax(mag, fabs(want[j]));
				for (size_t j = blk; j < blk + 32; j++) {
					/* float roundings of d*sc, dmin*m, the product and the sum */
					if (fabs(got[j] - want[j]) > 4e-7 * mag + 1e-30 * (mag == 0)) {
						if (bad < 3)
							printf("# %s [%zu]: %.9g vs %.9g\n",
							       lumen_isa_dtype_name(dt), j, got[j], want[j]);
						bad++;
					}
				}
			}
		}
		CHECK_MSG(bad == 0, "%s: %d values differ", lumen_isa_dtype_name(dt), bad);
	}
	free(raw);
	free(got);
	free(want);
}

TEST(quantizers_new_types_accuracy)
{
	/* rms error over rms signal: 4, 5 and 6 bits of resolution */
	static const double limit[] = { 0.12, 0.06, 0.06, 0.12, 0.06, 0.04 };
	const size_t n = 2048;
	float *x = malloc(sizeof(float) * n), *back = malloc(sizeof(float) * n);
	uint8_t *q = malloc(n * 2);

	rng_seed(7);
	for (size_t t = 0; t < N_BLK_TYPES; t++) {
		uint32_t dt = blk_types[t];
		double e2 = 0, s2 = 0;

		for (size_t i = 0; i < n; i++)	/* uneven ranges per block */
			x[i] = rng_float(-1, 1) * (float)(1 + (i / 64) % 5) + (i % 512 < 32 ? 3.0f : 0.0f);
		lumen_quantize_row(dt, x, q, n);
		lumen_dequantize_row(dt, q, back, n);
		for (size_t i = 0; i < n; i++) {
			e2 += (back[i] - x[i]) * (back[i] - x[i]);
			s2 += x[i] * x[i];
		}
		CHECK_MSG(sqrt(e2 / s2) < limit[t], "%s: relative rms error %.4f",
			  lumen_isa_dtype_name(dt), sqrt(e2 / s2));
	}
	/* all-zero rows stay zero */
	memset(x, 0, sizeof(float) * n);
	for (size_t t = 0; t < N_BLK_TYPES; t++) {
		int nz = 0;

		lumen_quantize_row(blk_types[t], x, q, 256);
		lumen_dequantize_row(blk_types[t], q, back, 256);
		for (int i = 0; i < 256; i++)
			nz += back[i] != 0;
		CHECK_EQ(nz, 0);
	}
	free(x);
	free(back);
	free(q);
}

TEST(bf16_round_to_nearest_even)
{
	uint16_t h;
	float back;

	CHECK_EQ(lumen_f32_to_bf16(1.0f), 0x3f80);
	CHECK_EQ(lumen_f32_to_bf16(-2.0f), 0xc000);
	/* 1 + 2^-8 is halfway between 1 and 1 + 2^-7: to even (1) */
	CHECK_EQ(lumen_f32_to_bf16(1.00390625f), 0x3f80);
	/* 1 + 3 * 2^-8 is halfway, rounds up to the even 1 + 2^-6 */
	CHECK_EQ(lumen_f32_to_bf16(1.01171875f), 0x3f82);
	CHECK_EQ(lumen_f32_to_bf16(INFINITY), 0x7f80);
	h = lumen_f32_to_bf16(NAN);
	CHECK((h & 0x7f80) == 0x7f80 && (h & 0x7f));
	h = lumen_f32_to_bf16(3.140625f);
	lumen_dequantize_row(LUMEN_DTYPE_BF16, &h, &back, 1);
	CHECK(back == 3.140625f);
}

/* x: 3 blocks of 256 with awkward values: ties, both signs of the max, zeros */
static void q8k_input(float *x)
{
	rng_fill(x, 768, -2, 2);
	x[5] = 2.5f;		/* the max magnitude twice: the first one wins */
	x[9] = -2.5f;
	for (int j = 256; j < 512; j++)
		x[j] = 0.0f;	/* an all-zero block */
	x[600] = -3.0f;		/* a negative max maps to -127 too */
	x[601] = 1.5f;		/* exactly -63.5 before rounding: ties to even */
}

TEST(q8_k_activations_simd_scalar_reference_identical)
{
	const struct lumen_kernels *avx = lumen_kernels_avx2();
	float x[768], d[2][3];
	int8_t qs[2][768];
	int16_t bs[2][48];
	double xq[768];

	rng_seed(31);
	q8k_input(x);
	lumen_kernels_scalar.quantize_act_k(x, qs[0], d[0], bs[0], 3);
	ref_q8_k_round(x, xq, 768);
	int bad = 0;

	for (int j = 0; j < 768; j++)
		bad += (double)d[0][j / 256] * qs[0][j] != xq[j];
	CHECK_EQ(bad, 0);
	CHECK_EQ(qs[0][5], -127);
	CHECK_EQ(qs[0][9], 127);
	CHECK_EQ(qs[0][600], -127);
	CHECK_EQ(qs[0][601], 64);	/* -127/-3 * 1.5 = 63.5: ties to even */
	CHECK(d[0][1] == 0.0f);
	for (int s = 0; s < 48; s++) {
		int sum = 0;

		for (int l = 0; l < 16; l++)
			sum += qs[0][16 * s + l];
		bad += bs[0][s] != sum;
	}
	CHECK_EQ(bad, 0);
	if (!avx)
		SKIP("no AVX2 on this CPU");
	avx->quantize_act_k(x, qs[1], d[1], bs[1], 3);
	CHECK(memcmp(qs[0], qs[1], sizeof(qs[0])) == 0);
	CHECK(memcmp(d[0], d[1], sizeof(d[0])) == 0);
	CHECK(memcmp(bs[0], bs[1], sizeof(bs[0])) == 0);
}

TEST(kernel_tables_cover_every_weight_dtype)
{
	const struct lumen_kernels *ks[LUMEN_KERNEL_LEVELS];
	size_t n_ks = lumen_kernels_available(ks, LUMEN_KERNEL_LEVELS);

	for (size_t i = 0; i < n_ks; i++) {
		for (size_t t = 0; t < N_BLK_TYPES; t++)
			CHECK_MSG(ks[i]->dot_blk[blk_types[t]], "%s: no %s kernel", ks[i]->name,
				  lumen_isa_dtype_name(blk_types[t]));
		CHECK(ks[i]->dot_bf16 && ks[i]->quantize_act_k);
	}
}

/* the integer kernels of both tables agree to float summation order */
TEST(matmul_simd_and_scalar_agree_new_types)
{
	const struct lumen_kernels *avx = lumen_kernels_avx2();
	const size_t k = 1024;
	float *x = malloc(sizeof(float) * k * 4), *wf = malloc(sizeof(float) * k);
	uint8_t *w = malloc(k * 2), *xq = malloc(k * 8);
	float xd[4][32];
	int8_t *qs = (int8_t *)xq;

	if (!avx) {
		free(x);
		free(wf);
		free(w);
		free(xq);
		SKIP("no AVX2 on this CPU");
	}
	rng_seed(77);
	rng_fill(x, k * 4, -1, 1);
	rng_fill(wf, k, -1, 1);
	for (size_t t = 0; t < N_BLK_TYPES; t++) {
		uint32_t dt = blk_types[t];
		int kq = ref_act_is_q8_k(dt);
		size_t nb = k / lumen_type_block(dt);
		struct lumen_qrow rows[4];
		float s[4], a[4], sums[4][32];
		int16_t bsums[4][64];

		lumen_quantize_row(dt, wf, w, k);
		for (int r = 0; r < 4; r++) {
			if (kq)
				lumen_kernels_scalar.quantize_act_k(x + r * k, qs + r * k, xd[r],
								    bsums[r], nb);
			else
				lumen_kernels_scalar.quantize_act(x + r * k, qs + r * k, xd[r],
								  sums[r], nb);
			rows[r] = (struct lumen_qrow){ qs + r * k, xd[r], sums[r], bsums[r], NULL, NULL };
		}
		lumen_kernels_scalar.dot_blk[dt](w, rows, 4, nb, s);
		avx->dot_blk[dt](w, rows, 4, nb, a);
		for (int r = 0; r < 4; r++)
			CHECK_MSG(fabsf(s[r] - a[r]) <= 1e-5f * (1 + fabsf(s[r])),
				  "%s row %d: %.9g vs %.9g", lumen_isa_dtype_name(dt), r, s[r], a[r]);
	}
	free(x);
	free(wf);
	free(w);
	free(xq);
}

/*
 * A row's result does not depend on how many rows share the weights: the
 * 4-row kernels equal the 1-row ones bit for bit (prefill == decode).
 */
TEST(dot_blk_four_rows_equal_one_row_bit_identical)
{
	const struct lumen_kernels *ks[LUMEN_KERNEL_LEVELS];
	size_t n_ks = lumen_kernels_available(ks, LUMEN_KERNEL_LEVELS);
	const size_t k = 768;
	float *x = malloc(sizeof(float) * k * 4), *wf = malloc(sizeof(float) * k);
	uint8_t *w = malloc(k * 2);
	int8_t *qs = malloc(k * 4);
	float xd[4][24], sums[4][24];
	int16_t bsums[4][48];

	rng_seed(91);
	rng_fill(x, k * 4, -1, 1);
	rng_fill(wf, k, -1, 1);
	for (size_t i = 0; i < n_ks; i++) {
		for (size_t t = 0; t < N_BLK_TYPES; t++) {
			uint32_t dt = blk_types[t];
			size_t nb = k / lumen_type_block(dt);
			struct lumen_qrow rows[4];
			float four[4], one[4];

			lumen_quantize_row(dt, wf, w, k);
			for (int r = 0; r < 4; r++) {
				if (ref_act_is_q8_k(dt))
					ks[i]->quantize_act_k(x + r * k, qs + r * k, xd[r], bsums[r], nb);
				else
					ks[i]->quantize_act(x + r * k, qs + r * k, xd[r], sums[r], nb);
				rows[r] = (struct lumen_qrow){ qs + r * k, xd[r], sums[r], bsums[r], NULL, NULL };
			}
			ks[i]->dot_blk[dt](w, rows, 4, nb, four);
			for (int r = 0; r < 4; r++)
				ks[i]->dot_blk[dt](w, &rows[r], 1, nb, &one[r]);
			CHECK_MSG(memcmp(four, one, sizeof(four)) == 0, "%s %s: %.9g %.9g",
				  ks[i]->name, lumen_isa_dtype_name(dt), four[0], one[0]);
		}
		/* BF16 too */
		uint16_t *wb = (uint16_t *)w;
		const float *xr[4] = { x, x + k, x + 2 * k, x + 3 * k };
		float four[4], one[4];

		lumen_quantize_row(LUMEN_DTYPE_BF16, wf, wb, k - 3);	/* a tail */
		ks[i]->dot_bf16(wb, xr, 4, k - 3, four);
		for (int r = 0; r < 4; r++)
			ks[i]->dot_bf16(wb, &xr[r], 1, k - 3, &one[r]);
		CHECK(memcmp(four, one, sizeof(four)) == 0);
	}
	free(x);
	free(wf);
	free(w);
	free(qs);
}

/* LUMEN_EXEC_KERNELS picks a level; one this CPU lacks falls back to the best */
TEST(kernel_level_env_picks_each_available_table)
{
	const struct lumen_kernels *ks[LUMEN_KERNEL_LEVELS];
	size_t n_ks = lumen_kernels_available(ks, LUMEN_KERNEL_LEVELS);

	REQUIRE(n_ks >= 1);
	CHECK(ks[0] == &lumen_kernels_scalar);
	unsetenv(LUMEN_EXEC_SCALAR_ENV);
	for (size_t i = 0; i < n_ks; i++) {
		setenv(LUMEN_EXEC_KERNELS_ENV, ks[i]->name, 1);
		CHECK_MSG(lumen_kernels_pick() == ks[i], "%s", ks[i]->name);
		CHECK(lumen_kernels_named(ks[i]->name) == ks[i]);
	}
	setenv(LUMEN_EXEC_KERNELS_ENV, "avx9000", 1);
	CHECK(lumen_kernels_pick() == ks[n_ks - 1]);
	CHECK(lumen_kernels_named("avx9000") == NULL);
	setenv(LUMEN_EXEC_SCALAR_ENV, "1", 1);
	CHECK(lumen_kernels_pick() == &lumen_kernels_scalar);
	unsetenv(LUMEN_EXEC_SCALAR_ENV);
	unsetenv(LUMEN_EXEC_KERNELS_ENV);
	CHECK(lumen_kernels_pick() == ks[n_ks - 1]);
}

/*
 * The AVX-512 Q4_0/Q8_0 kernels sum a row in one order whether it is a
 * matvec (gemv) or one of four activation rows (dot): prefill == decode.
 */
TEST(avx512_q4_0_q8_0_matvec_equals_four_row_dot)
{
	const struct lumen_kernels *k = lumen_kernels_named("avx512");
	const size_t kd = 32 * 11;	/* an odd block count */
	static const uint32_t dts[] = { LUMEN_DTYPE_Q4_0, LUMEN_DTYPE_Q8_0 };
	float x[4][32 * 11], wf[32 * 11], xd[4][11], xs[4][11];
	int8_t qs[4][32 * 11];
	int32_t bias[4][8 * 11];
	uint8_t w[34 * 11];

	if (!k)
		SKIP("no AVX-512 VNNI on this CPU");
	rng_seed(123);
	rng_fill(&x[0][0], 4 * kd, -1, 1);
	rng_fill(wf, kd, -1, 1);
	for (size_t t = 0; t < 2; t++) {
		struct lumen_qrow rows[4];
		float four[4], one[4];

		lumen_quantize_row(dts[t], wf, w, kd);
		for (int r = 0; r < 4; r++) {
			k->quantize_act(x[r], qs[r], xd[r], xs[r], 11);
			REQUIRE(k->prep_q4_0);
			k->prep_q4_0(qs[r], bias[r], 11);
			rows[r] = (struct lumen_qrow){ qs[r], xd[r], xs[r], NULL, bias[r], NULL };
		}
		if (dts[t] == LUMEN_DTYPE_Q4_0)
			k->dot_q4_0(w, rows, 4, 11, four);
		else
			k->dot_q8_0(w, rows, 4, 11, four);
		for (int r = 0; r < 4; r++) {
			if (dts[t] == LUMEN_DTYPE_Q4_0)
				k->gemv_q4_0(w, 0, 1, &rows[r], 11, &one[r]);
			else
				k->gemv_q8_0(w, 0, 1, &rows[r], 11, &one[r]);
		}
		CHECK_MSG(memcmp(four, one, sizeof(four)) == 0, "%s: %.9g vs %.9g",
			  lumen_isa_dtype_name(dts[t]), four[0], one[0]);
	}
}

/*
 * The VNNI build of the other block types and the K-quants sums the same
 * integers as the AVX2 one (vpdpbusd for maddubs + madd, vpdpwssd for
 * madd + add) and does the same float arithmetic: bit for bit equal.
 */
TEST(avx512_block_kernels_equal_avx2_bit_for_bit)
{
	const struct lumen_kernels *v = lumen_kernels_named("avx512");
	const struct lumen_kernels *a = lumen_kernels_named("avx2");
	const size_t k = 768;
	float *x = malloc(sizeof(float) * k * 4), *wf = malloc(sizeof(float) * k);
	uint8_t *w = malloc(k * 2);
	int8_t *qs = malloc(k * 4);
	float xd[4][24], sums[4][24];
	int16_t bsums[4][48];

	if (!v || !a) {
		free(x);
		free(wf);
		free(w);
		free(qs);
		SKIP("no AVX-512 VNNI on this CPU");
	}
	rng_seed(57);
	rng_fill(x, k * 4, -1, 1);
	rng_fill(wf, k, -1, 1);
	for (size_t t = 0; t < N_BLK_TYPES; t++) {
		uint32_t dt = blk_types[t];
		size_t nb = k / lumen_type_block(dt);
		struct lumen_qrow rows[4];
		float fv[4], fa[4], ov, oa;

		lumen_quantize_row(dt, wf, w, k);
		for (int r = 0; r < 4; r++) {
			if (ref_act_is_q8_k(dt))
				v->quantize_act_k(x + r * k, qs + r * k, xd[r], bsums[r], nb);
			else
				v->quantize_act(x + r * k, qs + r * k, xd[r], sums[r], nb);
			rows[r] = (struct lumen_qrow){ qs + r * k, xd[r], sums[r], bsums[r], NULL, NULL };
		}
		v->dot_blk[dt](w, rows, 4, nb, fv);
		a->dot_blk[dt](w, rows, 4, nb, fa);
		v->dot_blk[dt](w, rows, 1, nb, &ov);
		a->dot_blk[dt](w, rows, 1, nb, &oa);
		CHECK_MSG(memcmp(fv, fa, sizeof(fv)) == 0 && ov == oa, "%s: %.9g vs %.9g",
			  lumen_isa_dtype_name(dt), fv[0], fa[0]);
	}
	free(x);
	free(wf);
	free(w);
	free(qs);
}
