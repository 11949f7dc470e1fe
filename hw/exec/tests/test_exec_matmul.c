// SPDX-License-Identifier: MIT
/*
 * MATMUL for every weight dtype, matvec and matmul, odd sizes, 1..3
 * threads, SIMD and scalar kernels, residual, rows_arg and LAST_ROW.
 * Quantized weights are checked twice: against the exact product with a
 * bound derived from Q8_0 activation rounding, and against a reference
 * that applies the same rounding, to float accumulation accuracy.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lumen_ops.h"
#include "ref_exec.h"
#include "lumen_test.h"

enum { W_REG, X_REG, Y_REG, ARGS_REG, N_REG };

struct mm_case {
	uint32_t dtype, k, n, m;	/* m = capacity rows of x */
	unsigned int threads;
	int scalar;
	int residual;		/* 1: in place (src2 == dst), 2: own region */
	uint32_t rows_arg;	/* 0: none, else R */
	int last_row;
	uint32_t w_pad, x_pad;	/* extra bytes between rows */
};

static int is_q(uint32_t dtype)
{
	return ref_act_is_quant(dtype);
}

/* Q4_0x8 / Q8_0x8 weights are Q4_0 / Q8_0 rows interleaved: the references read the rows */
static uint32_t ref_dtype(uint32_t dtype)
{
	return lumen_r8_base(dtype);
}

static int is_r8(uint32_t dtype)
{
	return ref_dtype(dtype) != dtype;
}

/*
 * n weight rows of random values into w as the op reads them (rows
 * stride bytes apart); the same rows as the references read them into
 * plain (ref_dtype()), which is w itself unless the dtype is interleaved.
 */
static uint8_t *encode_weights(uint32_t dtype, uint8_t *w, uint64_t stride,
			       uint32_t k, uint32_t n)
{
	uint32_t rdt = ref_dtype(dtype);
	uint8_t *plain = rdt == dtype ? w : malloc(stride * n);
	float *wf = malloc(sizeof(float) * k);

	for (uint32_t j = 0; j < n; j++) {
		rng_fill(wf, k, -1, 1);
		ref_encode_row(rdt, wf, plain + j * stride, k);
	}
	for (uint32_t g = 0; is_r8(dtype) && g < n / LUMEN_ROW_GROUP; g++)
		lumen_repack_r8(dtype, plain + g * LUMEN_ROW_GROUP * stride, stride,
			w + g * LUMEN_ROW_GROUP * stride, k);
	free(wf);
	return plain;
}

static void check_matmul(const struct mm_case *tc)
{
	if (!kernel_level_available(tc->scalar))
		SKIP("this CPU lacks that kernel level");

	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	uint32_t k = tc->k, n = tc->n, m = tc->m;
	uint32_t R = tc->rows_arg ? tc->rows_arg : m;
	uint32_t out_rows = tc->last_row ? 1 : m;
	uint32_t rdt = ref_dtype(tc->dtype);
	uint64_t wrow = pb_bytes(tc->dtype, k, 1), w_stride = wrow + tc->w_pad;
	uint64_t x_stride = 4ull * k + tc->x_pad;
	float *x = malloc(sizeof(float) * k * m);
	float *res = malloc(sizeof(float) * n * m);
	double *xd = malloc(sizeof(double) * k * m), *xq = malloc(sizeof(double) * k * m);
	double *err = malloc(sizeof(double) * k * m);
	double *want = malloc(sizeof(double) * n * m), *want_q = malloc(sizeof(double) * n * m);
	double *wabs = malloc(sizeof(double) * k);
	uint8_t *w, *wq;

	rng_seed(tc->dtype * 1000003u + k * 101u + n * 7u + m);
	w = reg_alloc(&r, W_REG, w_stride * n, 0x3c);
	wq = encode_weights(tc->dtype, w, w_stride, k, n);
	reg_alloc(&r, X_REG, x_stride * m, 0);
	rng_fill(x, (size_t)k * m, -1, 1);
	for (uint32_t i = 0; i < m; i++) {
		memcpy(r.mem[X_REG] + i * x_stride, x + (size_t)i * k, 4ull * k);
		for (uint32_t j = 0; j < k; j++)
			xd[(size_t)i * k + j] = x[(size_t)i * k + j];
		if (tc->dtype == LUMEN_DTYPE_F16)	/* F16 weights meet F16 activations */
			ref_round_f16(xd + (size_t)i * k, k);
		if (ref_act_is_q8_k(tc->dtype)) {	/* K-quants meet Q8_K */
			ref_q8_k_round(x + (size_t)i * k, xq + (size_t)i * k, k);
			ref_q8_k_error_bound(x + (size_t)i * k, err + (size_t)i * k, k);
		} else if (is_q(rdt)) {
			ref_q8_round(x + (size_t)i * k, xq + (size_t)i * k, k);
			ref_q8_error_bound(x + (size_t)i * k, err + (size_t)i * k, k);
		} else {	/* F32 weights meet the activations unrounded */
			memcpy(xq + (size_t)i * k, xd + (size_t)i * k, sizeof(double) * k);
			memset(err + (size_t)i * k, 0, sizeof(double) * k);
		}
	}
	reg_alloc(&r, Y_REG, 4ull * n * out_rows, 0x77);
	rng_fill(res, (size_t)n * m, -2, 2);
	if (tc->residual == 1)
		memcpy(r.mem[Y_REG], res, 4ull * n * out_rows);
	reg_alloc(&r, ARGS_REG, 16, 0);
	if (tc->residual == 2) {
		reg_alloc(&r, 4, 4ull * n * out_rows, 0);
		memcpy(r.mem[4], res, 4ull * n * out_rows);
	}
	((uint32_t *)r.mem[ARGS_REG])[1] = R;

	pb_init(&pb, tc->residual == 2 ? 5 : N_REG, ARGS_REG);
	struct lumen_op *op = pb_op(&pb, LUMEN_OP_MATMUL);

	op->src[0] = pb_tensor(tc->dtype, W_REG, 0, k, n);
	op->src[0].strides[1] = w_stride;
	op->src[0].strides[2] = op->src[0].strides[3] = w_stride * n;
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, X_REG, 0, k, m);
	op->src[1].strides[1] = x_stride;
	op->src[1].strides[2] = op->src[1].strides[3] = x_stride * m;
	op->dst = pb_tensor(LUMEN_DTYPE_F32, Y_REG, 0, n, out_rows);
	if (tc->residual) {
		op->flags |= LUMEN_OPF_RESIDUAL;
		op->src[2] = tc->residual == 1 ? op->dst :
			     pb_tensor(LUMEN_DTYPE_F32, 4, 0, n, out_rows);
	}
	if (tc->last_row)
		op->flags |= LUMEN_OPF_LAST_ROW;
	if (tc->rows_arg)
		op->rows_arg = 1;

	REQUIRE_EQ(run_prog(&pb, &r, tc->threads, tc->scalar, &f), 0);
	CHECK(reg_guards_intact(&r));

	ref_matmul(rdt, wq, w_stride, xd, k, n, m, want);
	ref_matmul(rdt, wq, w_stride, xq, k, n, m, want_q);
	int bad = 0, bad_q = 0, untouched = 1;

	for (uint32_t o = 0; o < out_rows; o++) {
		uint32_t i = tc->last_row ? R - 1 : o;
		const float *y = reg_f32(&r, Y_REG, 4ull * n * o);

		if (o >= R) {	/* rows past the arg stay as they were */
			for (uint32_t j = 0; j < n; j++)
				untouched &= tc->residual == 1 ? y[j] == res[(size_t)o * n + j]
							       : r.mem[Y_REG][4ull * n * o + 4 * j] == 0x77;
			continue;
		}
		for (uint32_t j = 0; j < n; j++) {
			double bound = 0, mag = 0, add = tc->residual ? res[(size_t)o * n + j] : 0;

			ref_dequant_row(rdt, wq + j * w_stride, wabs, k);
			for (uint32_t t = 0; t < k; t++) {
				bound += fabs(wabs[t]) * err[(size_t)i * k + t];
				mag += fabs(wabs[t] * xd[(size_t)i * k + t]);
			}
			double acc = 2e-6 * mag + 1e-6 * fabs(add) + 1e-6;
			double got = y[j], exact = want[(size_t)i * n + j] + add;

			if (is_q(rdt)) {
				if (fabs(got - exact) > bound + acc)
					bad++;
				if (fabs(got - (want_q[(size_t)i * n + j] + add)) > acc)
					bad_q++;
			} else if (fabs(got - exact) > acc) {
				if (bad < 3)
					printf("# row %u col %u: %.9g vs %.9g\n", o, j, got, exact);
				bad++;
			}
		}
	}
	CHECK_MSG(bad == 0 && bad_q == 0, "%s k=%u n=%u m=%u, %s kernels, %u threads: %d outside "
		  "the bound, %d off the rounded reference", lumen_isa_dtype_name(tc->dtype), k, n,
		  m, kernel_level_name(tc->scalar), tc->threads, bad, bad_q);
	CHECK(untouched);
	pb_free(&pb);
	reg_free(&r);
	free(x);
	free(res);
	free(xd);
	free(xq);
	free(err);
	free(want);
	free(want_q);
	free(wabs);
	if (wq != w)
		free(wq);
}

#define MM(name, ...) TEST(name) { struct mm_case tc = { __VA_ARGS__ }; check_matmul(&tc); }

/* matvec, odd N, every dtype, SIMD */
MM(matmul_f32_matvec_k96_n37, LUMEN_DTYPE_F32, 96, 37, 1, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_f16_matvec_k172_n37, LUMEN_DTYPE_F16, 172, 37, 1, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q8_0_matvec_k96_n37, LUMEN_DTYPE_Q8_0, 96, 37, 1, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_0_matvec_k96_n37, LUMEN_DTYPE_Q4_0, 96, 37, 1, 1, 0, 0, 0, 0, 0, 0)
/* the same on the scalar kernels */
MM(matmul_f32_matvec_scalar, LUMEN_DTYPE_F32, 96, 37, 1, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_f16_matvec_scalar, LUMEN_DTYPE_F16, 172, 37, 1, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q8_0_matvec_scalar, LUMEN_DTYPE_Q8_0, 96, 37, 1, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q4_0_matvec_scalar, LUMEN_DTYPE_Q4_0, 96, 37, 1, 1, 1, 0, 0, 0, 0, 0)
/* M > 1: 7 rows = one group of four plus a remainder */
MM(matmul_f32_m7, LUMEN_DTYPE_F32, 96, 37, 7, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_f16_m7_k172, LUMEN_DTYPE_F16, 172, 37, 7, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q8_0_m7, LUMEN_DTYPE_Q8_0, 96, 37, 7, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_0_m7, LUMEN_DTYPE_Q4_0, 96, 37, 7, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_f16_m7_scalar, LUMEN_DTYPE_F16, 172, 37, 7, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q8_0_m7_scalar, LUMEN_DTYPE_Q8_0, 96, 37, 7, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q4_0_m7_scalar, LUMEN_DTYPE_Q4_0, 96, 37, 7, 1, 1, 0, 0, 0, 0, 0)
/* threads split N unevenly */
MM(matmul_f16_matvec_2_threads, LUMEN_DTYPE_F16, 172, 37, 1, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q8_0_matvec_2_threads, LUMEN_DTYPE_Q8_0, 96, 37, 1, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_0_matvec_3_threads, LUMEN_DTYPE_Q4_0, 96, 37, 1, 3, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_0_m9_2_threads, LUMEN_DTYPE_Q4_0, 128, 37, 9, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q8_0_m9_2_threads_scalar, LUMEN_DTYPE_Q8_0, 128, 37, 9, 2, 1, 0, 0, 0, 0, 0)
MM(matmul_f32_m6_3_threads, LUMEN_DTYPE_F32, 100, 41, 6, 3, 0, 0, 0, 0, 0, 0)
/* long rows: unrolled loops, many blocks */
MM(matmul_q4_0_k2048, LUMEN_DTYPE_Q4_0, 2048, 48, 1, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q8_0_k2048, LUMEN_DTYPE_Q8_0, 2048, 48, 1, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_f16_k2056, LUMEN_DTYPE_F16, 2056, 48, 1, 2, 0, 0, 0, 0, 0, 0)
/* more activation rows than one cache block holds */
MM(matmul_q8_0_m120_row_blocks, LUMEN_DTYPE_Q8_0, 2048, 24, 120, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_f16_m21_row_blocks, LUMEN_DTYPE_F16, 4096, 16, 21, 2, 0, 0, 0, 0, 0, 0)
/* residual add, in place and from another region */
MM(matmul_q4_0_residual_in_place, LUMEN_DTYPE_Q4_0, 96, 37, 5, 2, 0, 1, 0, 0, 0, 0)
MM(matmul_f16_residual_other_region, LUMEN_DTYPE_F16, 96, 37, 5, 1, 0, 2, 0, 0, 0, 0)
/* rows from the args region: rows past R are not written */
MM(matmul_q8_0_rows_arg, LUMEN_DTYPE_Q8_0, 96, 37, 8, 2, 0, 0, 5, 0, 0, 0)
MM(matmul_f32_rows_arg_residual, LUMEN_DTYPE_F32, 64, 20, 6, 1, 0, 1, 3, 0, 0, 0)
/* LAST_ROW: only row R-1 is multiplied, into dst row 0 */
MM(matmul_q4_0_last_row, LUMEN_DTYPE_Q4_0, 96, 37, 6, 2, 0, 0, 4, 1, 0, 0)
MM(matmul_f16_last_row_residual, LUMEN_DTYPE_F16, 96, 37, 6, 1, 0, 1, 0, 1, 0, 0)
/* padded strides between weight rows and activation rows */
MM(matmul_q4_0_strided, LUMEN_DTYPE_Q4_0, 64, 13, 3, 1, 0, 0, 0, 0, 6, 12)
MM(matmul_f16_strided, LUMEN_DTYPE_F16, 40, 13, 3, 2, 0, 0, 0, 0, 2, 4)

/*
 * GGUF's other block types, in place: Q4_1/Q5_0/Q5_1 with Q8_0 activations,
 * the K-quants with Q8_K ones, BF16 with F32. Matvec, M > 1 (a group of
 * four plus a remainder), SIMD and scalar, threads, residual, LAST_ROW,
 * rows_arg, padded strides, long rows.
 */
#define MM_NEW(tag, DT, K)								\
MM(matmul_##tag##_matvec, DT, K, 37, 1, 1, 0, 0, 0, 0, 0, 0)				\
MM(matmul_##tag##_matvec_scalar, DT, K, 37, 1, 1, 1, 0, 0, 0, 0, 0)			\
MM(matmul_##tag##_m7, DT, K, 37, 7, 1, 0, 0, 0, 0, 0, 0)				\
MM(matmul_##tag##_m7_scalar, DT, K, 37, 7, 1, 1, 0, 0, 0, 0, 0)			\
MM(matmul_##tag##_m9_2_threads_residual, DT, K, 37, 9, 2, 0, 1, 0, 0, 0, 0)		\
MM(matmul_##tag##_last_row_rows_arg_scalar, DT, K, 19, 6, 2, 1, 2, 4, 1, 0, 0)		\
MM(matmul_##tag##_strided, DT, K, 13, 3, 1, 0, 0, 0, 0, 6, 12)

MM_NEW(q4_1, LUMEN_DTYPE_Q4_1, 96)
MM_NEW(q5_0, LUMEN_DTYPE_Q5_0, 96)
MM_NEW(q5_1, LUMEN_DTYPE_Q5_1, 96)
MM_NEW(q4_k, LUMEN_DTYPE_Q4_K, 512)
MM_NEW(q5_k, LUMEN_DTYPE_Q5_K, 512)
MM_NEW(q6_k, LUMEN_DTYPE_Q6_K, 512)
MM_NEW(bf16, LUMEN_DTYPE_BF16, 100)
/* long rows */
MM(matmul_q4_k_k2048, LUMEN_DTYPE_Q4_K, 2048, 48, 1, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q6_k_k2048_m5, LUMEN_DTYPE_Q6_K, 2048, 24, 5, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q5_k_k2048_scalar, LUMEN_DTYPE_Q5_K, 2048, 24, 2, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q5_1_k2048, LUMEN_DTYPE_Q5_1, 2048, 48, 1, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_bf16_k2056_m5, LUMEN_DTYPE_BF16, 2056, 16, 5, 2, 0, 0, 0, 0, 0, 0)

/*
 * Q4_0x8, Q4_0 rows interleaved in groups of 8 (N a multiple of 8, rows
 * packed): matvec, M > 1 with a remainder, scalar, threads splitting the
 * groups, residual, LAST_ROW with rows_arg, long rows, several chunks.
 */
#define R8 LUMEN_DTYPE_Q4_0_R8
MM(matmul_q4_0x8_matvec, R8, 96, 40, 1, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_0x8_matvec_scalar, R8, 96, 40, 1, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q4_0x8_m7, R8, 96, 40, 7, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_0x8_m7_scalar, R8, 96, 40, 7, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q4_0x8_matvec_3_threads, R8, 96, 40, 1, 3, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_0x8_m9_2_threads_residual, R8, 128, 40, 9, 2, 0, 1, 0, 0, 0, 0)
MM(matmul_q4_0x8_last_row_rows_arg, R8, 96, 16, 6, 2, 0, 2, 4, 1, 0, 0)
MM(matmul_q4_0x8_k2048, R8, 2048, 48, 1, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_0x8_n520_m5_chunks, R8, 256, 520, 5, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_0x8_m120_row_blocks, R8, 512, 24, 120, 2, 0, 0, 0, 0, 0, 0)
/* Q8_0x8, Q8_0 rows interleaved the same way */
#define Q8R8 LUMEN_DTYPE_Q8_0_R8
MM(matmul_q8_0x8_matvec, Q8R8, 96, 40, 1, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q8_0x8_matvec_scalar, Q8R8, 96, 40, 1, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q8_0x8_m7, Q8R8, 96, 40, 7, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q8_0x8_m7_scalar, Q8R8, 96, 40, 7, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q8_0x8_m9_2_threads_residual, Q8R8, 128, 40, 9, 2, 0, 1, 0, 0, 0, 0)
MM(matmul_q8_0x8_last_row_rows_arg, Q8R8, 96, 16, 6, 2, 0, 2, 4, 1, 0, 0)
MM(matmul_q8_0x8_k2048, Q8R8, 2048, 48, 1, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q8_0x8_n520_m5_chunks, Q8R8, 256, 520, 5, 2, 0, 0, 0, 0, 0, 0)
/* Q4_Kx8, Q4_K rows interleaved by super-blocks of 256 */
#define Q4KR8 LUMEN_DTYPE_Q4_K_R8
MM(matmul_q4_kx8_matvec, Q4KR8, 512, 40, 1, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_kx8_matvec_scalar, Q4KR8, 512, 40, 1, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q4_kx8_m7, Q4KR8, 768, 40, 7, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_kx8_m7_scalar, Q4KR8, 768, 40, 7, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q4_kx8_matvec_3_threads, Q4KR8, 512, 40, 1, 3, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_kx8_m9_2_threads_residual, Q4KR8, 512, 40, 9, 2, 0, 1, 0, 0, 0, 0)
MM(matmul_q4_kx8_last_row_rows_arg, Q4KR8, 256, 16, 6, 2, 0, 2, 4, 1, 0, 0)
MM(matmul_q4_kx8_k2048, Q4KR8, 2048, 48, 1, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q4_kx8_n520_m5_chunks, Q4KR8, 256, 520, 5, 2, 0, 0, 0, 0, 0, 0)
/* Q5_0x8, Q5_0 rows interleaved as Q4_0x8 with their fifth bits */
#define Q5R8 LUMEN_DTYPE_Q5_0_R8
MM(matmul_q5_0x8_matvec, Q5R8, 96, 40, 1, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q5_0x8_matvec_scalar, Q5R8, 96, 40, 1, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q5_0x8_m7, Q5R8, 96, 40, 7, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q5_0x8_m7_scalar, Q5R8, 96, 40, 7, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q5_0x8_matvec_3_threads, Q5R8, 96, 40, 1, 3, 0, 0, 0, 0, 0, 0)
MM(matmul_q5_0x8_m9_2_threads_residual, Q5R8, 128, 40, 9, 2, 0, 1, 0, 0, 0, 0)
MM(matmul_q5_0x8_last_row_rows_arg, Q5R8, 96, 16, 6, 2, 0, 2, 4, 1, 0, 0)
MM(matmul_q5_0x8_k2048, Q5R8, 2048, 48, 1, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q5_0x8_n520_m5_chunks, Q5R8, 256, 520, 5, 2, 0, 0, 0, 0, 0, 0)
/* Q6_Kx8, Q6_K rows interleaved the same way */
#define Q6KR8 LUMEN_DTYPE_Q6_K_R8
MM(matmul_q6_kx8_matvec, Q6KR8, 512, 40, 1, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q6_kx8_matvec_scalar, Q6KR8, 512, 40, 1, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q6_kx8_m7, Q6KR8, 768, 40, 7, 1, 0, 0, 0, 0, 0, 0)
MM(matmul_q6_kx8_m7_scalar, Q6KR8, 768, 40, 7, 1, 1, 0, 0, 0, 0, 0)
MM(matmul_q6_kx8_matvec_3_threads, Q6KR8, 512, 40, 1, 3, 0, 0, 0, 0, 0, 0)
MM(matmul_q6_kx8_m9_2_threads_residual, Q6KR8, 512, 40, 9, 2, 0, 1, 0, 0, 0, 0)
MM(matmul_q6_kx8_last_row_rows_arg, Q6KR8, 256, 16, 6, 2, 0, 2, 4, 1, 0, 0)
MM(matmul_q6_kx8_k2048, Q6KR8, 2048, 48, 1, 2, 0, 0, 0, 0, 0, 0)
MM(matmul_q6_kx8_n520_m5_chunks, Q6KR8, 256, 520, 5, 2, 0, 0, 0, 0, 0, 0)

/*
 * Every weight dtype on every kernel level this CPU runs (scalar, AVX2,
 * AVX-512 VNNI), matvec and M > 1 with a remainder row group, one and two
 * threads, against the double-precision references.
 */
TEST(matmul_every_dtype_every_kernel_level)
{
	static const uint32_t dtypes[] = {
		LUMEN_DTYPE_F32, LUMEN_DTYPE_F16, LUMEN_DTYPE_BF16, LUMEN_DTYPE_Q8_0,
		LUMEN_DTYPE_Q4_0, LUMEN_DTYPE_Q4_1, LUMEN_DTYPE_Q5_0, LUMEN_DTYPE_Q5_1,
		LUMEN_DTYPE_Q4_K, LUMEN_DTYPE_Q5_K, LUMEN_DTYPE_Q6_K, LUMEN_DTYPE_Q4_0_R8,
		LUMEN_DTYPE_Q8_0_R8, LUMEN_DTYPE_Q4_K_R8, LUMEN_DTYPE_Q6_K_R8,
		LUMEN_DTYPE_Q5_0_R8,
	};
	unsigned int levels = 0;

	for (int lv = KL_SCALAR; lv < KL_COUNT; lv++) {
		if (!kernel_level_available(lv))
			continue;
		levels++;
		for (size_t d = 0; d < sizeof(dtypes) / sizeof(dtypes[0]); d++) {
			uint32_t blk = lumen_type_block(dtypes[d]);
			/* an odd block count: the kernels' tail block */
			uint32_t k = blk == 1 ? 200 : blk * (blk == LUMEN_QK_K ? 3 : 9);

			for (uint32_t m = 1; m <= 7; m += 6) {
				struct mm_case tc = {
					.dtype = dtypes[d], .k = k, .m = m,
					/* interleaved weights: whole groups of 8 rows */
					.n = is_r8(dtypes[d]) ? 24 : 21,
					.threads = m == 1 ? 1 : 2, .scalar = lv,
				};

				check_matmul(&tc);
			}
		}
	}
	/* scalar and AVX2 run on any x86-64 CPU this suite runs on */
	CHECK(levels >= 1);
}

TEST(matmul_simd_and_scalar_agree_q4_0)
{
	/* identical integer block sums: only float summation order differs */
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	const uint32_t k = 256, n = 16;
	float x[256], wf[256], out[2][16];

	rng_seed(99);
	reg_alloc(&r, 0, pb_bytes(LUMEN_DTYPE_Q4_0, k, n), 0);
	for (uint32_t j = 0; j < n; j++) {
		rng_fill(wf, k, -1, 1);
		ref_encode_row(LUMEN_DTYPE_Q4_0, wf, r.mem[0] + j * pb_bytes(LUMEN_DTYPE_Q4_0, k, 1), k);
	}
	reg_alloc(&r, 1, sizeof(x), 0);
	rng_fill(x, k, -1, 1);
	memcpy(r.mem[1], x, sizeof(x));
	reg_alloc(&r, 2, 4 * n, 0);
	pb_init(&pb, 3, 1);
	struct lumen_op *op = pb_op(&pb, LUMEN_OP_MATMUL);

	op->src[0] = pb_tensor(LUMEN_DTYPE_Q4_0, 0, 0, k, n);
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, 1, 0, k, 1);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, 2, 0, n, 1);
	for (int s = 0; s < 2; s++) {
		REQUIRE_EQ(run_prog(&pb, &r, 1, s, &f), 0);
		memcpy(out[s], r.mem[2], sizeof(out[s]));
	}
	for (uint32_t j = 0; j < n; j++)
		CHECK_NEAR(out[0][j], out[1][j], 1e-5, 1e-5);
	pb_free(&pb);
	reg_free(&r);
}

/*
 * Q4_0x8's and Q8_0x8's numerics are stated exactly (isa.rst): per block an exact int32
 * sum, then acc = fma(d_w * d_x, (float)sum, acc) in block order. So the
 * SIMD levels equal the scalar kernel bit for bit, matvec and M > 1.
 */
static void r8_levels_equal_scalar(uint32_t dt)
{
	/* odd block counts; M = 11: 8 + 3 (Q4_0x8), 4 + 4 + 3 rows (Q4_Kx8) */
	const uint32_t k = lumen_type_block(dt) == LUMEN_QK_K ? 5 * LUMEN_QK_K : 35 * LUMEN_QK;
	const uint32_t n = 48, m = 11;
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	uint64_t y_bytes = 4ull * n * (m + 1);
	uint8_t *scalar = malloc(y_bytes);
	int levels = 0;

	rng_seed(808 + dt);
	reg_alloc(&r, W_REG, pb_bytes(dt, k, n), 0);
	uint8_t *plain = encode_weights(dt, r.mem[W_REG], pb_bytes(dt, k, 1), k, n);

	free(plain);
	reg_random_f32(&r, X_REG, (size_t)k * m, -3, 3);
	reg_alloc(&r, Y_REG, y_bytes, 0);
	reg_alloc(&r, ARGS_REG, 16, 0);
	pb_init(&pb, N_REG, ARGS_REG);
	for (int i = 0; i < 2; i++) {	/* M = 11, then the matvec of row 10 */
		struct lumen_op *op = pb_op(&pb, LUMEN_OP_MATMUL);

		op->src[0] = pb_tensor(dt, W_REG, 0, k, n);
		op->src[1] = pb_tensor(LUMEN_DTYPE_F32, X_REG, i ? 4ull * k * (m - 1) : 0, k,
				       i ? 1 : m);
		op->dst = pb_tensor(LUMEN_DTYPE_F32, Y_REG, i ? 4ull * n * m : 0, n, i ? 1 : m);
	}
	for (int lv = KL_SCALAR; lv < KL_COUNT; lv++) {
		if (!kernel_level_available(lv))
			continue;
		levels++;
		memset(r.mem[Y_REG], 0, y_bytes);
		REQUIRE_EQ(run_prog(&pb, &r, 2, lv, &f), 0);
		if (lv == KL_SCALAR)
			memcpy(scalar, r.mem[Y_REG], y_bytes);
		CHECK_MSG(memcmp(scalar, r.mem[Y_REG], y_bytes) == 0,
			  "%s: the %s kernels differ from the scalar ones", lumen_isa_dtype_name(dt),
			  kernel_level_name(lv));
	}
	CHECK(levels >= 1);
	free(scalar);
	pb_free(&pb);
	reg_free(&r);
}

TEST(matmul_q4_0x8_every_level_equals_scalar_bit_for_bit)
{
	r8_levels_equal_scalar(LUMEN_DTYPE_Q4_0_R8);
}

TEST(matmul_q8_0x8_every_level_equals_scalar_bit_for_bit)
{
	r8_levels_equal_scalar(LUMEN_DTYPE_Q8_0_R8);
}

TEST(matmul_q4_kx8_every_level_equals_scalar_bit_for_bit)
{
	r8_levels_equal_scalar(LUMEN_DTYPE_Q4_K_R8);
}

TEST(matmul_q6_kx8_every_level_equals_scalar_bit_for_bit)
{
	r8_levels_equal_scalar(LUMEN_DTYPE_Q6_K_R8);
}

TEST(matmul_q5_0x8_every_level_equals_scalar_bit_for_bit)
{
	r8_levels_equal_scalar(LUMEN_DTYPE_Q5_0_R8);
}

TEST(matmul_pool_many_runs_4_threads_bit_identical)
{
	/* 4 threads on 2 cores, thousands of back-to-back dispatches of loops of
	 * different lengths: every run must produce the same bits (each row is
	 * computed whole by one thread); a lost or stray item would hang (the
	 * alarm fails the case) or change the output */
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	const uint32_t k = 128, n = 300, m = 3;
	float wf[128], first[300 * 3];
	int differ = 0;

	rng_seed(4242);
	reg_alloc(&r, 0, pb_bytes(LUMEN_DTYPE_Q4_0, k, n), 0);
	for (uint32_t j = 0; j < n; j++) {
		rng_fill(wf, k, -1, 1);
		ref_encode_row(LUMEN_DTYPE_Q4_0, wf, r.mem[0] + j * pb_bytes(LUMEN_DTYPE_Q4_0, k, 1), k);
	}
	reg_random_f32(&r, 1, (size_t)k * m, -1, 1);
	reg_alloc(&r, 2, 4ull * n * m, 0);
	reg_alloc(&r, 3, 16, 0);
	pb_init(&pb, 4, 3);
	for (uint32_t rows = 1; rows <= m; rows += m - 1) {
		struct lumen_op *op = pb_op(&pb, LUMEN_OP_MATMUL);

		op->src[0] = pb_tensor(LUMEN_DTYPE_Q4_0, 0, 0, k, n);
		op->src[1] = pb_tensor(LUMEN_DTYPE_F32, 1, 0, k, rows);
		op->dst = pb_tensor(LUMEN_DTYPE_F32, 2, 0, n, rows);
	}
	struct lumen_exec *ex = exec_new(4, 0);

	REQUIRE(ex);
	CHECK_EQ(lumen_exec_threads(ex), 4);
	alarm(120);
	for (int run = 0; run < 2000; run++) {
		REQUIRE_EQ(run_with(ex, &pb, &r, &f), 0);
		if (run == 0)
			memcpy(first, r.mem[2], sizeof(first));
		else
			differ += memcmp(first, r.mem[2], sizeof(first)) != 0;
	}
	CHECK_EQ(differ, 0);
	CHECK(reg_guards_intact(&r));
	lumen_exec_destroy(ex);
	pb_free(&pb);
	reg_free(&r);
}

/*
 * Batch invariance: row i of an M-row MATMUL (prefill, speculative
 * verification) is bit for bit the M = 1 matvec of that row (decode), at
 * every kernel level and thread count, for every weight dtype. Greedy
 * speculative decoding is token-for-token identical to plain decode only
 * if this holds. Odd block counts reach every kernel's tail blocks; M runs
 * through full groups of LUMEN_MR rows and every remainder.
 */
static int rows_match_matvec(uint32_t dtype, uint32_t k, uint32_t m, int level,
			     struct lumen_exec *const ex[2])
{
	/* interleaved weights come in groups of 8 rows */
	const uint32_t n = is_r8(dtype) ? 40 : 37;
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	uint64_t w_stride = pb_bytes(dtype, k, 1), x_stride = 4ull * k;
	uint64_t y_bytes = 4ull * n * m;
	float *first = malloc(y_bytes * 2);
	int mismatch = 0;

	rng_seed(dtype * 7919u + k * 31u + m);
	reg_alloc(&r, W_REG, w_stride * n, 0);
	uint8_t *plain = encode_weights(dtype, r.mem[W_REG], w_stride, k, n);

	if (plain != r.mem[W_REG])
		free(plain);
	reg_random_f32(&r, X_REG, (size_t)k * m, -1, 1);
	/* the M-row product, then each row alone after it */
	reg_alloc(&r, Y_REG, 2 * y_bytes, 0x77);
	reg_alloc(&r, ARGS_REG, 16, 0);
	pb_init(&pb, N_REG, ARGS_REG);
	for (uint32_t i = 0; i <= m; i++) {
		struct lumen_op *op = pb_op(&pb, LUMEN_OP_MATMUL);
		uint32_t rows = i == 0 ? m : 1;

		op->src[0] = pb_tensor(dtype, W_REG, 0, k, n);
		op->src[1] = pb_tensor(LUMEN_DTYPE_F32, X_REG, i == 0 ? 0 : (i - 1) * x_stride,
				       k, rows);
		op->dst = pb_tensor(LUMEN_DTYPE_F32, Y_REG, i == 0 ? 0 : y_bytes + (i - 1) * 4ull * n,
				    n, rows);
	}
	for (unsigned int threads = 1; threads <= 2; threads++) {
		if (run_with(ex[threads - 1], &pb, &r, &f) != 0) {
			mismatch = -1;
			break;
		}
		/* the matvecs of both thread counts equal too */
		if (threads == 1)
			memcpy(first, r.mem[Y_REG], 2 * y_bytes);
		for (uint32_t e = 0; e < n * m; e++) {
			float got, want;

			memcpy(&got, r.mem[Y_REG] + 4ull * e, 4);
			memcpy(&want, (const uint8_t *)first + y_bytes + 4ull * e, 4);
			if (memcmp(&got, &want, 4) != 0) {
				if (!mismatch)
					printf("# %s k=%u M=%u %s, %u threads: row %u col %u: "
					       "%.9g against the matvec's %.9g\n",
					       lumen_isa_dtype_name(dtype), k, m,
					       kernel_level_name(level), threads, e / n, e % n,
					       (double)got, (double)want);
				mismatch++;
			}
		}
		mismatch += memcmp(first, r.mem[Y_REG], 2 * y_bytes) != 0;
	}
	pb_free(&pb);
	reg_free(&r);
	free(first);
	return mismatch;
}

TEST(matmul_rows_equal_matvec_bit_for_bit_every_dtype_every_kernel_level)
{
	static const uint32_t dtypes[] = {
		LUMEN_DTYPE_F32, LUMEN_DTYPE_F16, LUMEN_DTYPE_BF16, LUMEN_DTYPE_Q8_0,
		LUMEN_DTYPE_Q4_0, LUMEN_DTYPE_Q4_1, LUMEN_DTYPE_Q5_0, LUMEN_DTYPE_Q5_1,
		LUMEN_DTYPE_Q4_K, LUMEN_DTYPE_Q5_K, LUMEN_DTYPE_Q6_K, LUMEN_DTYPE_Q4_0_R8,
		LUMEN_DTYPE_Q8_0_R8, LUMEN_DTYPE_Q4_K_R8, LUMEN_DTYPE_Q6_K_R8,
		LUMEN_DTYPE_Q5_0_R8,
	};
	unsigned int levels = 0;

	for (int lv = KL_SCALAR; lv < KL_COUNT; lv++) {
		struct lumen_exec *ex[2];

		if (!kernel_level_available(lv))
			continue;
		levels++;
		ex[0] = exec_new(1, lv);
		ex[1] = exec_new(2, lv);
		REQUIRE(ex[0] && ex[1]);
		for (size_t d = 0; d < sizeof(dtypes) / sizeof(dtypes[0]); d++) {
			uint32_t blk = lumen_type_block(dtypes[d]);

			for (int v = 0; v < 2; v++) {
				/* odd block counts: 9 / 11 blocks of 32, 3 / 5 of 256 */
				uint32_t k = blk == 1 ? 200u + 3u * v :
					     blk * (blk == LUMEN_QK_K ? 3u + 2u * v : 9u + 2u * v);

				for (uint32_t m = 2; m <= 9; m++) {
					int bad = rows_match_matvec(dtypes[d], k, m, lv, ex);

					CHECK_MSG(bad == 0, "%s k=%u M=%u, %s kernels: %d values "
						  "differ from the M = 1 matvec",
						  lumen_isa_dtype_name(dtypes[d]), k, m,
						  kernel_level_name(lv), bad);
				}
			}
		}
		lumen_exec_destroy(ex[0]);
		lumen_exec_destroy(ex[1]);
	}
	CHECK(levels >= 1);
}

/*
 * Long rows through the M > 1 tiles (four weight rows by four activation
 * rows, each output's four block chains one after another): 67 blocks of
 * 32, a tail of three, eight rows and a remainder group, against the
 * double-precision references and bit for bit against the matvec, at
 * every kernel level.
 */
TEST(matmul_q4_0_q8_0_long_rows_tiles_every_kernel_level)
{
	static const uint32_t dtypes[] = {
		LUMEN_DTYPE_Q4_0, LUMEN_DTYPE_Q8_0, LUMEN_DTYPE_Q4_0_R8, LUMEN_DTYPE_Q8_0_R8,
		LUMEN_DTYPE_Q5_0_R8,
	};

	for (int lv = KL_SCALAR; lv < KL_COUNT; lv++) {
		struct lumen_exec *ex[2];

		if (!kernel_level_available(lv))
			continue;
		ex[0] = exec_new(1, lv);
		ex[1] = exec_new(2, lv);
		REQUIRE(ex[0] && ex[1]);
		for (size_t d = 0; d < sizeof(dtypes) / sizeof(dtypes[0]); d++) {
			struct mm_case tc = {
				.dtype = dtypes[d], .k = 67 * LUMEN_QK, .m = 11,
				.n = is_r8(dtypes[d]) ? 40 : 41,
				.threads = 1, .scalar = lv,
			};

			check_matmul(&tc);
			CHECK_EQ(rows_match_matvec(dtypes[d], 67 * LUMEN_QK, 8, lv, ex), 0);
		}
		lumen_exec_destroy(ex[0]);
		lumen_exec_destroy(ex[1]);
	}
}
