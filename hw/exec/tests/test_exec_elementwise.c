// SPDX-License-Identifier: MIT
/*
 * Row-wise and element-wise ops against naive double references:
 * EMBED, RMSNORM, SWIGLU, ADD, MUL, COPY, SOFTMAX, ARGMAX, TOPK.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_exec.h"
#include "lumen_test.h"

static struct lumen_tensor f32(uint32_t region, uint32_t d0, uint32_t d1)
{
	return pb_tensor(LUMEN_DTYPE_F32, region, 0, d0, d1);
}

/* ---- RMSNORM ---- */
static void check_rmsnorm_groups(uint32_t d, uint32_t c, int in_place,
				 uint32_t rows_arg, int last,
				 unsigned int threads, uint32_t groups)
{
	uint32_t gw = d / (groups ? groups : 1);	/* a group's width */
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	uint32_t R = rows_arg ? rows_arg : c, out_rows = last ? 1 : c;
	const float eps = 1e-5f;

	rng_seed(d * 31 + c);
	float *x = reg_random_f32(&r, OP_A, (size_t)d * c, -2, 2);
	float *w = reg_random_f32(&r, OP_B, gw, 0.5f, 1.5f);
	float *x0 = malloc(4ull * d * c);

	memcpy(x0, x, 4ull * d * c);
	reg_alloc(&r, OP_DST, 4ull * d * out_rows, 0x5a);
	reg_set_arg(&r, 7, R);
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	struct lumen_op *op = pb_op(&pb, LUMEN_OP_RMSNORM);

	op->src[0] = f32(OP_A, d, c);
	op->src[1] = f32(OP_B, gw, 1);
	op->dst = in_place ? op->src[0] : f32(OP_DST, d, out_rows);
	op->params[LUMEN_P_EPS] = pb_f32_bits(eps);
	op->params[LUMEN_P_N_GROUP] = groups;
	op->flags = last ? LUMEN_OPF_LAST_ROW : 0;
	op->rows_arg = rows_arg ? 7 : LUMEN_ARG_NONE;
	REQUIRE_EQ(run_prog(&pb, &r, threads, 0, &f), 0);
	CHECK(reg_guards_intact(&r));

	double *xd = malloc(8ull * d), *wd = malloc(8ull * d), *y = malloc(8ull * d);
	int bad = 0;

	for (uint32_t i = 0; i < gw; i++)
		wd[i] = w[i];
	for (uint32_t o = 0; o < out_rows; o++) {
		uint32_t row = last ? R - 1 : o;
		const float *got = in_place ? x + (size_t)o * d : reg_f32(&r, OP_DST, 4ull * d * o);

		if (row >= R) {		/* not processed */
			bad += in_place ? memcmp(got, x0 + (size_t)o * d, 4ull * d) != 0
					: r.mem[OP_DST][4ull * d * o] != 0x5a;
			continue;
		}
		for (uint32_t i = 0; i < d; i++)
			xd[i] = x0[(size_t)row * d + i];
		for (uint32_t g = 0; g < d / gw; g++)	/* each group apart */
			ref_rmsnorm(xd + (size_t)g * gw, wd, eps, gw, y + (size_t)g * gw);
		for (uint32_t i = 0; i < d; i++)
			bad += fabs(got[i] - y[i]) > 1e-5 * (1 + fabs(y[i]));
	}
	CHECK_EQ(bad, 0);
	free(x0);
	free(xd);
	free(wd);
	free(y);
	pb_free(&pb);
	reg_free(&r);
}

static void check_rmsnorm(uint32_t d, uint32_t c, int in_place, uint32_t rows_arg,
			  int last, unsigned int threads)
{
	check_rmsnorm_groups(d, c, in_place, rows_arg, last, threads, 0);
}

TEST(rmsnorm_d172_rows5) { check_rmsnorm(172, 5, 0, 0, 0, 1); }
TEST(rmsnorm_in_place) { check_rmsnorm(96, 3, 1, 0, 0, 2); }
TEST(rmsnorm_rows_arg) { check_rmsnorm(64, 6, 0, 4, 0, 1); }
TEST(rmsnorm_last_row) { check_rmsnorm(172, 6, 0, 4, 1, 1); }
/* per-head q/k norms (Qwen 3, Gemma 3): 4 heads of 64, one weight */
TEST(rmsnorm_per_head_groups) { check_rmsnorm_groups(256, 3, 0, 0, 0, 1, 4); }
TEST(rmsnorm_groups_in_place_rows_arg) { check_rmsnorm_groups(96, 5, 1, 3, 0, 2, 6); }
TEST(rmsnorm_one_group_is_the_whole_row) { check_rmsnorm_groups(64, 2, 0, 0, 0, 1, 1); }

/* ---- SWIGLU ---- */
/* GELU as isa.rst defines it: F16 in, tanh approximation, F16 out */
static double ref_gelu_f16(double x)
{
	double h, v;

	if (x <= -10.0)
		return 0.0;
	if (x >= 10.0)
		return x;
	h = ref_f16_to_double(ref_f32_to_f16((float)x));
	v = 0.5 * h * (1.0 + tanh(sqrt(2.0 / M_PI) * h * (1.0 + 0.044715 * h * h)));
	return ref_f16_to_double(ref_f32_to_f16((float)v));
}

static void check_gated(uint16_t opcode, uint32_t d, uint32_t c, int alias)
{
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;

	rng_seed(d + c + alias);
	float *g = reg_random_f32(&r, OP_A, (size_t)d * c, -12, 12);
	float *u = reg_random_f32(&r, OP_B, (size_t)d * c, -2, 2);
	float *g0 = malloc(4ull * d * c), *u0 = malloc(4ull * d * c);

	memcpy(g0, g, 4ull * d * c);
	memcpy(u0, u, 4ull * d * c);
	reg_alloc(&r, OP_DST, 4ull * d * c, 0);
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	struct lumen_op *op = pb_op(&pb, opcode);

	op->src[0] = f32(OP_A, d, c);
	op->src[1] = f32(OP_B, d, c);
	op->dst = alias == 1 ? op->src[0] : alias == 2 ? op->src[1] : f32(OP_DST, d, c);
	REQUIRE_EQ(run_prog(&pb, &r, 1, 0, &f), 0);
	const float *y = alias == 1 ? g : alias == 2 ? u : reg_f32(&r, OP_DST, 0);
	int bad = 0;

	for (size_t i = 0; i < (size_t)d * c; i++) {
		double want = (opcode == LUMEN_OP_SWIGLU ? ref_silu(g0[i]) :
			       ref_gelu_f16(g0[i])) * u0[i];
		/*
		 * GELU's F16 result can round the other way when tanhf and tanh
		 * straddle a half-ulp boundary: one F16 ulp (2^-10) relative
		 */
		double tol = opcode == LUMEN_OP_SWIGLU ? 1e-6 : 1e-3;

		bad += fabs(y[i] - want) > tol * (1 + fabs(want));
	}
	CHECK_EQ(bad, 0);
	CHECK(reg_guards_intact(&r));
	free(g0);
	free(u0);
	pb_free(&pb);
	reg_free(&r);
}

TEST(swiglu_d172) { check_gated(LUMEN_OP_SWIGLU, 172, 3, 0); }
TEST(swiglu_in_place_gate) { check_gated(LUMEN_OP_SWIGLU, 96, 2, 1); }
TEST(swiglu_in_place_up) { check_gated(LUMEN_OP_SWIGLU, 33, 4, 2); }
TEST(geglu_d172_saturating) { check_gated(LUMEN_OP_GEGLU, 172, 3, 0); }
TEST(geglu_in_place_gate) { check_gated(LUMEN_OP_GEGLU, 96, 2, 1); }
TEST(geglu_in_place_up) { check_gated(LUMEN_OP_GEGLU, 33, 4, 2); }

/* ---- ADD / MUL with broadcasting, up to 4-D ---- */
static void check_binary(uint16_t opcode, const uint32_t a_dims[4], const uint32_t b_dims[4],
			 int in_place, uint32_t rows_arg)
{
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	size_t na = (size_t)a_dims[0] * a_dims[1] * a_dims[2] * a_dims[3];
	size_t nb = (size_t)b_dims[0] * b_dims[1] * b_dims[2] * b_dims[3];
	uint32_t R = rows_arg ? rows_arg : a_dims[1];

	rng_seed(na + nb + opcode);
	float *a = reg_random_f32(&r, OP_A, na, -3, 3);
	float *b = reg_random_f32(&r, OP_B, nb, -3, 3);
	float *a0 = malloc(4 * na);

	memcpy(a0, a, 4 * na);
	reg_alloc(&r, OP_DST, 4 * na, 0x11);
	reg_set_arg(&r, 0, R);
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	struct lumen_op *op = pb_op(&pb, opcode);
	struct lumen_tensor ta = f32(OP_A, a_dims[0], a_dims[1]), tb = f32(OP_B, b_dims[0], b_dims[1]);

	ta.dims[2] = a_dims[2];
	ta.dims[3] = a_dims[3];
	ta.strides[3] = ta.strides[2] * a_dims[2];
	tb.dims[2] = b_dims[2];
	tb.dims[3] = b_dims[3];
	tb.strides[3] = tb.strides[2] * b_dims[2];
	op->src[0] = ta;
	op->src[1] = tb;
	op->dst = ta;
	if (!in_place)
		op->dst.region = OP_DST;
	op->rows_arg = rows_arg ? 0 : LUMEN_ARG_NONE;
	REQUIRE_EQ(run_prog(&pb, &r, 1, 0, &f), 0);
	const float *y = in_place ? a : reg_f32(&r, OP_DST, 0);
	int bad = 0;

	for (uint32_t i3 = 0; i3 < a_dims[3]; i3++)
	for (uint32_t i2 = 0; i2 < a_dims[2]; i2++)
	for (uint32_t i1 = 0; i1 < a_dims[1]; i1++)
	for (uint32_t i0 = 0; i0 < a_dims[0]; i0++) {
		size_t ia = ((i3 * a_dims[2] + i2) * (size_t)a_dims[1] + i1) * a_dims[0] + i0;
		size_t ib = (((b_dims[3] > 1 ? i3 : 0) * b_dims[2] + (b_dims[2] > 1 ? i2 : 0)) *
			     (size_t)b_dims[1] + (b_dims[1] > 1 ? i1 : 0)) * b_dims[0] +
			    (b_dims[0] > 1 ? i0 : 0);
		double want = opcode == LUMEN_OP_ADD ? (double)a0[ia] + b[ib] : (double)a0[ia] * b[ib];

		if (i1 >= R)	/* rows past the arg untouched */
			bad += in_place ? y[ia] != a0[ia] : r.mem[OP_DST][4 * ia] != 0x11;
		else
			bad += fabs(y[ia] - want) > 1e-6 * (1 + fabs(want));
	}
	CHECK_EQ(bad, 0);
	CHECK(reg_guards_intact(&r));
	free(a0);
	pb_free(&pb);
	reg_free(&r);
}

static const uint32_t D5x3[4] = { 37, 5, 1, 1 };
TEST(add_same_shape) { check_binary(LUMEN_OP_ADD, D5x3, D5x3, 0, 0); }
TEST(add_broadcast_row) { check_binary(LUMEN_OP_ADD, D5x3, (const uint32_t[4]){ 37, 1, 1, 1 }, 0, 0); }
TEST(add_broadcast_scalar) { check_binary(LUMEN_OP_ADD, D5x3, (const uint32_t[4]){ 1, 1, 1, 1 }, 0, 0); }
TEST(add_in_place_rows_arg) { check_binary(LUMEN_OP_ADD, D5x3, D5x3, 1, 3); }
TEST(add_4d_broadcast_dims) { check_binary(LUMEN_OP_ADD, (const uint32_t[4]){ 7, 3, 4, 2 }, (const uint32_t[4]){ 7, 1, 4, 1 }, 0, 0); }
TEST(mul_same_shape) { check_binary(LUMEN_OP_MUL, D5x3, D5x3, 0, 0); }
TEST(mul_broadcast_row_in_place) { check_binary(LUMEN_OP_MUL, D5x3, (const uint32_t[4]){ 37, 1, 1, 1 }, 1, 0); }
TEST(mul_4d_full) { check_binary(LUMEN_OP_MUL, (const uint32_t[4]){ 5, 2, 3, 2 }, (const uint32_t[4]){ 5, 2, 3, 2 }, 0, 2); }

/* ---- COPY between F32 and F16 ---- */
static void check_copy(uint32_t st, uint32_t dt, uint32_t d, uint32_t c, uint32_t d2,
		       int last, uint32_t rows_arg)
{
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	size_t n = (size_t)d * c * d2;
	uint32_t R = rows_arg ? rows_arg : c, out_rows = last ? 1 : c;
	float *x = malloc(4 * n);

	rng_seed(n + st * 3 + dt);
	rng_fill(x, n, -100, 100);
	x[0] = 1.0f + 0x1p-11f;	/* a rounding tie */
	reg_alloc(&r, OP_A, pb_bytes(st, d, c) * d2, 0);
	ref_encode_row(st, x, r.mem[OP_A], n);
	reg_alloc(&r, OP_DST, pb_bytes(dt, d, out_rows) * d2, 0x33);
	reg_set_arg(&r, 0, R);
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	struct lumen_op *op = pb_op(&pb, LUMEN_OP_COPY);

	op->src[0] = pb_tensor(st, OP_A, 0, d, c);
	op->src[0].dims[2] = d2;
	op->src[0].strides[3] = op->src[0].strides[2] * d2;
	op->dst = pb_tensor(dt, OP_DST, 0, d, out_rows);
	op->dst.dims[2] = d2;
	op->dst.strides[3] = op->dst.strides[2] * d2;
	op->flags = last ? LUMEN_OPF_LAST_ROW : 0;
	op->rows_arg = rows_arg ? 0 : LUMEN_ARG_NONE;
	REQUIRE_EQ(run_prog(&pb, &r, 1, 0, &f), 0);
	double *src = malloc(8 * n), *got = malloc(8 * (size_t)d);
	int bad = 0;

	ref_dequant_row(st, r.mem[OP_A], src, n);
	for (uint32_t p = 0; p < d2; p++)
	for (uint32_t o = 0; o < out_rows; o++) {
		uint32_t row = last ? R - 1 : o;
		const uint8_t *y = r.mem[OP_DST] + pb_bytes(dt, d, out_rows) * p + pb_bytes(dt, d, o);

		if (row >= R) {
			bad += y[0] != 0x33;
			continue;
		}
		ref_dequant_row(dt, y, got, d);
		for (uint32_t i = 0; i < d; i++) {
			double s = src[((size_t)p * c + row) * d + i];
			/* to F16 must be the nearest-even half of the F32 value */
			double want = dt == LUMEN_DTYPE_F16 ? ref_f16_to_double(ref_f32_to_f16((float)s)) : s;

			bad += got[i] != want;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(reg_guards_intact(&r));
	free(x);
	free(src);
	free(got);
	pb_free(&pb);
	reg_free(&r);
}

TEST(copy_f32_to_f16) { check_copy(LUMEN_DTYPE_F32, LUMEN_DTYPE_F16, 37, 3, 1, 0, 0); }
TEST(copy_f16_to_f32) { check_copy(LUMEN_DTYPE_F16, LUMEN_DTYPE_F32, 37, 3, 1, 0, 0); }
TEST(copy_f32_to_f32_3d) { check_copy(LUMEN_DTYPE_F32, LUMEN_DTYPE_F32, 20, 3, 2, 0, 0); }
TEST(copy_f16_to_f16_rows_arg) { check_copy(LUMEN_DTYPE_F16, LUMEN_DTYPE_F16, 24, 4, 1, 0, 2); }
TEST(copy_last_row_f32_to_f16) { check_copy(LUMEN_DTYPE_F32, LUMEN_DTYPE_F16, 40, 5, 1, 1, 3); }

/* ---- SOFTMAX ---- */
static void check_softmax(uint32_t d, uint32_t c, float scale, float range, int in_place,
			  int last)
{
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	uint32_t out_rows = last ? 1 : c;

	rng_seed(d * c);
	float *x = reg_random_f32(&r, OP_A, (size_t)d * c, -range, range);
	float *x0 = malloc(4ull * d * c);

	memcpy(x0, x, 4ull * d * c);
	reg_alloc(&r, OP_DST, 4ull * d * out_rows, 0);
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	struct lumen_op *op = pb_op(&pb, LUMEN_OP_SOFTMAX);

	op->src[0] = f32(OP_A, d, c);
	op->dst = in_place ? op->src[0] : f32(OP_DST, d, out_rows);
	op->params[LUMEN_P_SCALE] = pb_f32_bits(scale);
	op->flags = last ? LUMEN_OPF_LAST_ROW : 0;
	REQUIRE_EQ(run_prog(&pb, &r, 1, 0, &f), 0);
	double *xd = malloc(8ull * d), *y = malloc(8ull * d);
	int bad = 0;

	for (uint32_t o = 0; o < out_rows; o++) {
		uint32_t row = last ? c - 1 : o;
		const float *got = in_place ? x + (size_t)o * d : reg_f32(&r, OP_DST, 4ull * d * o);
		double sum = 0;

		for (uint32_t i = 0; i < d; i++)
			xd[i] = x0[(size_t)row * d + i];
		ref_softmax(xd, d, scale, y);
		for (uint32_t i = 0; i < d; i++) {
			bad += !(fabs(got[i] - y[i]) <= 1e-6 + 1e-5 * y[i]);
			sum += got[i];
		}
		CHECK_NEAR(sum, 1.0, 1e-5, 0);
	}
	CHECK_EQ(bad, 0);
	free(x0);
	free(xd);
	free(y);
	pb_free(&pb);
	reg_free(&r);
}

TEST(softmax_rows) { check_softmax(172, 3, 1.0f, 4, 0, 0); }
TEST(softmax_scaled_in_place) { check_softmax(37, 4, 0.125f, 10, 1, 0); }
TEST(softmax_large_logits_no_overflow) { check_softmax(50, 2, 1.0f, 500, 0, 0); }
TEST(softmax_last_row) { check_softmax(64, 5, 2.0f, 3, 0, 1); }

/* ---- ARGMAX / TOPK ---- */
static int run_select(uint16_t opcode, const float *x, uint32_t d, uint32_t c, uint32_t k,
		      int last, uint32_t rows_arg, struct regions *r)
{
	struct prog_builder pb;
	struct lumen_fault f;
	uint32_t out_rows = last ? 1 : c;
	uint32_t width = opcode == LUMEN_OP_TOPK ? 2 * k : 1;
	int ret;

	memcpy(reg_alloc(r, OP_A, 4ull * d * c, 0), x, 4ull * d * c);
	reg_alloc(r, OP_DST, 4ull * width * out_rows, 0xee);
	reg_set_arg(r, 2, rows_arg);
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	struct lumen_op *op = pb_op(&pb, opcode);

	op->src[0] = f32(OP_A, d, c);
	op->dst = pb_tensor(LUMEN_DTYPE_I32, OP_DST, 0, width, out_rows);
	op->params[LUMEN_P_K] = opcode == LUMEN_OP_TOPK ? k : 0;
	op->flags = last ? LUMEN_OPF_LAST_ROW : 0;
	op->rows_arg = rows_arg ? 2 : LUMEN_ARG_NONE;
	ret = run_prog(&pb, r, 1, 0, &f);
	pb_free(&pb);
	return ret;
}

static int32_t naive_argmax(const float *x, uint32_t d)
{
	int32_t best = 0;

	for (uint32_t i = 0; i < d; i++)
		if (x[i] > x[best])
			best = (int32_t)i;
	return best;
}

TEST(argmax_rows_with_ties)
{
	struct regions r = { 0 };
	float x[3 * 41];

	rng_seed(5);
	rng_fill(x, 3 * 41, -5, -1);	/* all negative */
	x[10] = x[30] = 2;		/* tie: lowest index wins */
	x[41 + 40] = 1;			/* maximum at the end */
	x[82 + 0] = 0;			/* maximum at the start */
	REQUIRE_EQ(run_select(LUMEN_OP_ARGMAX, x, 41, 3, 0, 0, 0, &r), 0);
	const int32_t *got = (const int32_t *)r.mem[OP_DST];

	CHECK_EQ(got[0], 10);
	CHECK_EQ(got[1], 40);
	CHECK_EQ(got[2], 0);
	CHECK_EQ(got[0], naive_argmax(x, 41));
	reg_free(&r);
}

TEST(argmax_last_row_rows_arg)
{
	struct regions r = { 0 };
	float x[5 * 300];

	rng_seed(6);
	rng_fill(x, 5 * 300, -1, 1);
	REQUIRE_EQ(run_select(LUMEN_OP_ARGMAX, x, 300, 5, 0, 1, 3, &r), 0);
	CHECK_EQ(*(const int32_t *)r.mem[OP_DST], naive_argmax(x + 2 * 300, 300));
	reg_free(&r);
}

static void check_topk(uint32_t d, uint32_t c, uint32_t k, int last, uint32_t rows_arg, int ties)
{
	struct regions r = { 0 };
	float *x = malloc(4ull * d * c);
	uint32_t R = rows_arg ? rows_arg : c, out_rows = last ? 1 : c;

	rng_seed(d + k);
	for (size_t i = 0; i < (size_t)d * c; i++)
		x[i] = ties ? (float)(rng_u32() % 7) : rng_float(-1, 1);
	REQUIRE_EQ(run_select(LUMEN_OP_TOPK, x, d, c, k, last, rows_arg, &r), 0);
	int bad = 0;

	for (uint32_t o = 0; o < out_rows && (last || o < R); o++) {
		const float *row = x + (size_t)(last ? R - 1 : o) * d;
		const int32_t *ids = (const int32_t *)r.mem[OP_DST] + 2ull * k * o;
		const float *vals = (const float *)(ids + k);
		char *used = calloc(d, 1);

		/* naive: k times, the first largest not taken yet */
		for (uint32_t j = 0; j < k; j++) {
			int32_t best = -1;

			for (uint32_t i = 0; i < d; i++)
				if (!used[i] && (best < 0 || row[i] > row[best]))
					best = (int32_t)i;
			used[best] = 1;
			bad += ids[j] != best || vals[j] != row[best];
		}
		free(used);
	}
	CHECK_EQ(bad, 0);
	CHECK(reg_guards_intact(&r));
	free(x);
	reg_free(&r);
}

TEST(topk_k5_d172) { check_topk(172, 3, 5, 0, 0, 0); }
TEST(topk_ties_lower_id_first) { check_topk(100, 2, 20, 0, 0, 1); }
TEST(topk_k_equals_d) { check_topk(9, 2, 9, 0, 0, 0); }
TEST(topk_k64_last_row) { check_topk(500, 4, 64, 1, 3, 0); }

/* ---- EMBED ---- */
/*
 * rtol 0: every value exactly the double reference's (products that fit a
 * float); else within rtol of the row's largest magnitude (GGUF's order of
 * float roundings for min-offset and K-quant types).
 */
static void check_embed_on(uint32_t dtype, uint32_t d, uint32_t v, uint32_t cap,
			   uint32_t rows, int scalar, double rtol)
{
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	uint64_t row = pb_bytes(dtype, d, 1);
	float *tmp = malloc(4ull * d);
	uint32_t ids[8];

	rng_seed(dtype + d + v);
	reg_alloc(&r, OP_A, row * v, 0);
	for (uint32_t j = 0; j < v; j++) {
		rng_fill(tmp, d, -1, 1);
		ref_encode_row(dtype, tmp, r.mem[OP_A] + j * row, d);
	}
	reg_alloc(&r, OP_DST, 4ull * d * cap, 0x44);
	reg_set_arg(&r, 0, rows);
	for (uint32_t i = 0; i < cap; i++) {
		ids[i] = i == 0 ? v - 1 : rng_u32() % v;
		reg_set_arg(&r, 4 + i, ids[i]);
	}
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	struct lumen_op *op = pb_op(&pb, LUMEN_OP_EMBED);

	op->src[0] = pb_tensor(dtype, OP_A, 0, d, v);
	op->src[1] = pb_tensor(LUMEN_DTYPE_I32, OP_ARGS, 16, cap, 1);
	op->dst = f32(OP_DST, d, cap);
	op->rows_arg = 0;
	REQUIRE_EQ(run_prog(&pb, &r, 1, scalar, &f), 0);
	double *want = malloc(8ull * d);
	int bad = 0;

	for (uint32_t i = 0; i < cap; i++) {
		const float *y = reg_f32(&r, OP_DST, 4ull * d * i);

		if (i >= rows) {
			bad += r.mem[OP_DST][4ull * d * i] != 0x44;
			continue;
		}
		ref_dequant_row(dtype, r.mem[OP_A] + ids[i] * row, want, d);
		double mag = 0;

		for (uint32_t j = 0; j < d; j++)
			mag = fmax(mag, fabs(want[j]));
		for (uint32_t j = 0; j < d; j++)
			bad += rtol ? fabs(y[j] - want[j]) > rtol * mag : y[j] != want[j];
	}
	CHECK_EQ(bad, 0);
	CHECK(reg_guards_intact(&r));
	free(tmp);
	free(want);
	pb_free(&pb);
	reg_free(&r);
}

static void check_embed(uint32_t dtype, uint32_t d, uint32_t v, uint32_t cap, uint32_t rows)
{
	check_embed_on(dtype, d, v, cap, rows, 0, 0);
}

TEST(embed_f32) { check_embed(LUMEN_DTYPE_F32, 37, 11, 4, 4); }
TEST(embed_f16) { check_embed(LUMEN_DTYPE_F16, 172, 11, 5, 3); }
TEST(embed_q8_0) { check_embed(LUMEN_DTYPE_Q8_0, 96, 7, 3, 3); }
TEST(embed_q4_0_rows_arg) { check_embed(LUMEN_DTYPE_Q4_0, 64, 9, 6, 2); }

/*
 * A tied output projection interleaved (Q4_0x8, Q8_0x8) is also the token
 * table: EMBED gives row id, found in group id / 8, exactly as the row of
 * the GGUF type.
 */
static void embed_r8_equals_base(uint32_t dt)
{
	uint32_t base = lumen_r8_base(dt);
	const uint32_t d = lumen_type_block(base) == LUMEN_QK_K ? 512 : 96, v = 24, n = 8;
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	uint64_t row = pb_bytes(base, d, 1);
	float tmp[512];
	double want[512];
	uint32_t ids[8] = { 0, 7, 8, 23, 13, 5, 16, 10 };
	int bad = 0;

	rng_seed(6464 + dt);
	uint8_t *plain = malloc(row * v);

	for (uint32_t j = 0; j < v; j++) {
		rng_fill(tmp, d, -1, 1);
		ref_encode_row(base, tmp, plain + j * row, d);
	}
	reg_alloc(&r, OP_A, row * v, 0);
	for (uint32_t g = 0; g < v / LUMEN_ROW_GROUP; g++)
		lumen_repack_r8(dt, plain + g * LUMEN_ROW_GROUP * row, row,
				r.mem[OP_A] + g * LUMEN_ROW_GROUP * row, d);
	reg_alloc(&r, OP_DST, 4ull * d * n, 0x44);
	reg_set_arg(&r, 0, n);
	for (uint32_t i = 0; i < n; i++)
		reg_set_arg(&r, 4 + i, ids[i]);
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	struct lumen_op *op = pb_op(&pb, LUMEN_OP_EMBED);

	op->src[0] = pb_tensor(dt, OP_A, 0, d, v);
	op->src[1] = pb_tensor(LUMEN_DTYPE_I32, OP_ARGS, 16, n, 1);
	op->dst = f32(OP_DST, d, n);
	op->rows_arg = 0;
	REQUIRE_EQ(run_prog(&pb, &r, 1, 0, &f), 0);
	for (uint32_t i = 0; i < n; i++) {
		const float *y = reg_f32(&r, OP_DST, 4ull * d * i);

		ref_dequant_row(base, plain + ids[i] * row, want, d);
		for (uint32_t j = 0; j < d; j++)
			bad += y[j] != want[j];
	}
	CHECK_EQ(bad, 0);
	CHECK(reg_guards_intact(&r));
	free(plain);
	pb_free(&pb);
	reg_free(&r);
}

TEST(embed_q4_0x8_row_of_its_group_equals_q4_0)
{
	embed_r8_equals_base(LUMEN_DTYPE_Q4_0_R8);
}

TEST(embed_q8_0x8_row_of_its_group_equals_q8_0)
{
	embed_r8_equals_base(LUMEN_DTYPE_Q8_0_R8);
}

TEST(embed_q4_kx8_row_of_its_group_equals_q4_k)
{
	embed_r8_equals_base(LUMEN_DTYPE_Q4_K_R8);
}

TEST(embed_q5_0x8_row_of_its_group_equals_q5_0)
{
	embed_r8_equals_base(LUMEN_DTYPE_Q5_0_R8);
}

TEST(embed_q6_kx8_row_of_its_group_equals_q6_k)
{
	embed_r8_equals_base(LUMEN_DTYPE_Q6_K_R8);
}

TEST(nop_does_nothing)
{
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	struct lumen_exec_stats st;

	reg_alloc(&r, 0, 16, 0x12);
	pb_init(&pb, 1, 0);
	pb_op(&pb, LUMEN_OP_NOP);
	pb_op(&pb, LUMEN_OP_NOP);
	struct lumen_exec *ex = exec_new(1, 0);

	REQUIRE_EQ(run_with(ex, &pb, &r, &f), 0);
	REQUIRE_EQ(run_with(ex, &pb, &r, &f), 0);
	lumen_exec_get_stats(ex, &st);
	CHECK_EQ(st.jobs, 2);
	CHECK_EQ(st.ops, 4);
	CHECK_EQ(st.bytes_written, 0);
	CHECK_EQ(r.mem[0][15], 0x12);
	CHECK_EQ(lumen_exec_threads(ex), 1);
	lumen_exec_destroy(ex);
	pb_free(&pb);
	reg_free(&r);
}

/* GGUF's other block types, SIMD and scalar executors */
TEST(embed_q4_1) { check_embed_on(LUMEN_DTYPE_Q4_1, 96, 7, 3, 3, 0, 1e-6); }
TEST(embed_q4_1_scalar) { check_embed_on(LUMEN_DTYPE_Q4_1, 96, 7, 3, 3, 1, 1e-6); }
/* Q5_0: d * (q - 16) fits a float: exact */
TEST(embed_q5_0) { check_embed_on(LUMEN_DTYPE_Q5_0, 96, 7, 3, 3, 0, 0); }
TEST(embed_q5_0_scalar) { check_embed_on(LUMEN_DTYPE_Q5_0, 96, 7, 3, 3, 1, 0); }
TEST(embed_q5_1_rows_arg) { check_embed_on(LUMEN_DTYPE_Q5_1, 64, 9, 6, 2, 0, 1e-6); }
TEST(embed_q5_1_scalar) { check_embed_on(LUMEN_DTYPE_Q5_1, 64, 9, 6, 2, 1, 1e-6); }
TEST(embed_q4_k) { check_embed_on(LUMEN_DTYPE_Q4_K, 512, 7, 3, 3, 0, 1e-6); }
TEST(embed_q4_k_scalar) { check_embed_on(LUMEN_DTYPE_Q4_K, 512, 7, 3, 3, 1, 1e-6); }
TEST(embed_q5_k_rows_arg) { check_embed_on(LUMEN_DTYPE_Q5_K, 256, 9, 6, 2, 0, 1e-6); }
TEST(embed_q5_k_scalar) { check_embed_on(LUMEN_DTYPE_Q5_K, 256, 9, 6, 2, 1, 1e-6); }
TEST(embed_q6_k) { check_embed_on(LUMEN_DTYPE_Q6_K, 768, 5, 4, 4, 0, 1e-6); }
TEST(embed_q6_k_scalar) { check_embed_on(LUMEN_DTYPE_Q6_K, 768, 5, 4, 4, 1, 1e-6); }
/* BF16 widens exactly */
TEST(embed_bf16) { check_embed_on(LUMEN_DTYPE_BF16, 100, 7, 3, 3, 0, 0); }
TEST(embed_bf16_scalar) { check_embed_on(LUMEN_DTYPE_BF16, 100, 7, 3, 3, 1, 0); }
