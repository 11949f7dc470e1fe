// SPDX-License-Identifier: MIT
/* ROPE (both orderings), KV_WRITE (F32/F16 caches) and causal GQA ATTENTION. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec_internal.h"
#include "lumen_ops.h"
#include "ref_exec.h"
#include "lumen_test.h"

/* ---- ROPE ---- */
static void check_rope_factors(uint32_t n_head, uint32_t hd, uint32_t n_rot,
			       uint32_t c, int neox, uint32_t pos, int in_place,
			       int scalar, int factors)
{
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	uint32_t d = n_head * hd;
	const float base = 10000.0f;

	rng_seed(d + n_rot + pos);
	float *x = reg_random_f32(&r, OP_A, (size_t)d * c, -2, 2);
	float *x0 = malloc(4ull * d * c);
	/* llama3-like: high frequencies kept, low ones divided up to 32x */
	float *factor = factors ? reg_random_f32(&r, OP_B, n_rot / 2, 1, 32) : NULL;

	memcpy(x0, x, 4ull * d * c);
	reg_alloc(&r, OP_DST, 4ull * d * c, 0);
	reg_set_arg(&r, 1, c);
	reg_set_arg(&r, 5, pos);
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	struct lumen_op *op = pb_op(&pb, LUMEN_OP_ROPE);

	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, OP_A, 0, d, c);
	op->dst = in_place ? op->src[0] : pb_tensor(LUMEN_DTYPE_F32, OP_DST, 0, d, c);
	op->params[LUMEN_P_N_HEAD] = n_head;
	op->params[LUMEN_P_N_ROT] = n_rot;
	op->params[LUMEN_P_FREQ_BASE] = pb_f32_bits(base);
	op->flags = neox ? LUMEN_OPF_ROPE_NEOX : 0;
	if (factors) {
		op->flags |= LUMEN_OPF_ROPE_FACTORS;
		op->src[1] = pb_tensor(LUMEN_DTYPE_F32, OP_B, 0, n_rot / 2, 1);
	}
	op->rows_arg = 1;
	op->pos_arg = 5;
	REQUIRE_EQ(run_prog(&pb, &r, 1, scalar, &f), 0);
	const float *y = in_place ? x : reg_f32(&r, OP_DST, 0);
	double *want = malloc(8ull * d);
	int bad = 0;

	for (uint32_t row = 0; row < c; row++) {
		for (uint32_t i = 0; i < d; i++)
			want[i] = x0[(size_t)row * d + i];
		ref_rope(want, n_head, hd, n_rot, base, neox, (double)pos + row, factor);
		for (uint32_t i = 0; i < d; i++)
			bad += fabs(y[(size_t)row * d + i] - want[i]) > 2e-6 * (1 + pos);
	}
	CHECK_EQ(bad, 0);
	CHECK(reg_guards_intact(&r));
	free(x0);
	free(want);
	pb_free(&pb);
	reg_free(&r);
}

static void check_rope(uint32_t n_head, uint32_t hd, uint32_t n_rot, uint32_t c,
		       int neox, uint32_t pos, int in_place, int scalar)
{
	check_rope_factors(n_head, hd, n_rot, c, neox, pos, in_place, scalar, 0);
}

TEST(rope_normal_pos0) { check_rope(4, 16, 16, 3, 0, 0, 0, 0); }
TEST(rope_normal_pos_arg) { check_rope(4, 16, 16, 3, 0, 37, 0, 0); }
TEST(rope_neox_pos_arg) { check_rope(4, 16, 16, 3, 1, 37, 0, 0); }
TEST(rope_partial_rotation_copies_rest) { check_rope(3, 12, 8, 2, 0, 5, 0, 0); }
TEST(rope_neox_partial_in_place) { check_rope(3, 12, 6, 4, 1, 1000, 1, 0); }
TEST(rope_in_place_scalar) { check_rope(2, 48, 48, 5, 0, 250, 1, 1); }
TEST(rope_factors_normal) { check_rope_factors(4, 16, 16, 3, 0, 900, 0, 0, 1); }
TEST(rope_factors_neox_partial_in_place)
{
	check_rope_factors(3, 12, 8, 4, 1, 4000, 1, 1, 1);
}

/* ---- KV_WRITE ---- */
static void check_kv_write(uint32_t dtype, uint32_t kvd, uint32_t ctx, uint32_t c,
			   uint32_t rows, uint32_t pos, int scalar)
{
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	uint64_t row = pb_bytes(dtype, kvd, 1);

	rng_seed(kvd + pos);
	float *x = reg_random_f32(&r, OP_A, (size_t)kvd * c, -30, 30);

	x[0] = 1.0f + 3 * 0x1p-11f;	/* a tie that rounds up */
	reg_alloc(&r, OP_DST, row * ctx, 0x9c);
	reg_set_arg(&r, 0, rows);
	reg_set_arg(&r, 1, pos);
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	struct lumen_op *op = pb_op(&pb, LUMEN_OP_KV_WRITE);

	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, OP_A, 0, kvd, c);
	op->dst = pb_tensor(dtype, OP_DST, 0, kvd, ctx);
	op->rows_arg = 0;
	op->pos_arg = 1;
	REQUIRE_EQ(run_prog(&pb, &r, 2, scalar, &f), 0);
	double *got = malloc(8ull * kvd);
	int bad = 0;

	for (uint32_t j = 0; j < ctx; j++) {
		const uint8_t *cr = r.mem[OP_DST] + j * row;

		if (j < pos || j >= pos + rows) {	/* other rows untouched */
			for (uint64_t b = 0; b < row; b++)
				bad += cr[b] != 0x9c;
			continue;
		}
		ref_dequant_row(dtype, cr, got, kvd);
		for (uint32_t i = 0; i < kvd; i++) {
			float s = x[(size_t)(j - pos) * kvd + i];
			double want = dtype == LUMEN_DTYPE_F16 ? ref_f16_to_double(ref_f32_to_f16(s)) : s;

			bad += got[i] != want;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(reg_guards_intact(&r));
	free(got);
	pb_free(&pb);
	reg_free(&r);
}

TEST(kv_write_f32_pos0) { check_kv_write(LUMEN_DTYPE_F32, 32, 8, 3, 3, 0, 0); }
TEST(kv_write_f16_pos_arg) { check_kv_write(LUMEN_DTYPE_F16, 40, 16, 4, 3, 9, 0); }
TEST(kv_write_f16_scalar_to_the_end) { check_kv_write(LUMEN_DTYPE_F16, 36, 10, 2, 2, 8, 1); }

/* ---- ATTENTION ---- */
struct att_case {
	uint32_t dtype, n_head, n_kv, hd, ctx, c, rows, pos;
	unsigned int threads;
	int scalar;
	uint32_t window;	/* sliding window, 0 for none */
};

static void check_attention_on(struct lumen_exec *ex, const struct att_case *tc);

static void check_attention(const struct att_case *tc)
{
	check_attention_on(NULL, tc);
}

/* on ex when given, else on a new executor of tc's threads and level */
static void check_attention_on(struct lumen_exec *ex, const struct att_case *tc)
{
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	uint32_t d = tc->n_head * tc->hd, kvd = tc->n_kv * tc->hd;
	uint64_t crow = pb_bytes(tc->dtype, kvd, 1);
	float scale = 1.0f / sqrtf((float)tc->hd);
	float *tmp = malloc(4ull * kvd);
	double *k = malloc(8ull * kvd * tc->ctx), *v = malloc(8ull * kvd * tc->ctx);

	rng_seed(d + kvd + tc->ctx + tc->pos);
	float *q = reg_random_f32(&r, OP_A, (size_t)d * tc->c, -1, 1);

	/* slot 1: K cache then V cache; random everywhere, also past pos + r */
	reg_alloc(&r, OP_B, 2 * crow * tc->ctx, 0);
	for (uint32_t j = 0; j < 2 * tc->ctx; j++) {
		rng_fill(tmp, kvd, -1.5f, 1.5f);
		ref_encode_row(tc->dtype, tmp, r.mem[OP_B] + j * crow, kvd);
		ref_dequant_row(tc->dtype, r.mem[OP_B] + j * crow,
				j < tc->ctx ? k + (size_t)j * kvd : v + (size_t)(j - tc->ctx) * kvd, kvd);
	}
	reg_alloc(&r, OP_DST, 4ull * d * tc->c, 0x66);
	reg_set_arg(&r, 3, tc->rows);
	reg_set_arg(&r, 4, tc->pos);
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	struct lumen_op *op = pb_op(&pb, LUMEN_OP_ATTENTION);

	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, OP_A, 0, d, tc->c);
	op->src[1] = pb_tensor(tc->dtype, OP_B, 0, kvd, tc->ctx);
	op->src[2] = pb_tensor(tc->dtype, OP_B, crow * tc->ctx, kvd, tc->ctx);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, OP_DST, 0, d, tc->c);
	op->params[LUMEN_P_N_HEAD] = tc->n_head;
	op->params[LUMEN_P_N_KV_HEAD] = tc->n_kv;
	op->params[LUMEN_P_SCALE] = pb_f32_bits(scale);
	op->params[LUMEN_P_WINDOW] = tc->window;
	op->rows_arg = 3;
	op->pos_arg = 4;
	if (ex)
		REQUIRE_EQ(run_with(ex, &pb, &r, &f), 0);
	else
		REQUIRE_EQ(run_prog(&pb, &r, tc->threads, tc->scalar, &f), 0);
	double *qd = malloc(8ull * d), *want = malloc(8ull * d);
	int bad = 0;

	for (uint32_t row = 0; row < tc->c; row++) {
		const float *y = reg_f32(&r, OP_DST, 4ull * d * row);

		if (row >= tc->rows) {
			bad += r.mem[OP_DST][4ull * d * row] != 0x66;
			continue;
		}
		for (uint32_t i = 0; i < d; i++)
			qd[i] = q[(size_t)row * d + i];
		/* causal: row r sees keys 0..pos+r only, the last window of them */
		uint32_t n_keys = tc->pos + row + 1, first = 0;

		if (tc->window && n_keys > tc->window)
			first = n_keys - tc->window;
		ref_attention_row(qd, k + (size_t)first * kvd, v + (size_t)first * kvd,
				  n_keys - first, tc->n_head, tc->n_kv, tc->hd, scale,
				  tc->dtype == LUMEN_DTYPE_F16, want);
		for (uint32_t i = 0; i < d; i++) {
			if (fabs(y[i] - want[i]) > 2e-5 * (1 + fabs(want[i]))) {
				if (bad < 3)
					printf("# row %u elt %u: %.8g vs %.8g\n", row, i, y[i], want[i]);
				bad++;
			}
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(reg_guards_intact(&r));
	free(tmp);
	free(k);
	free(v);
	free(qd);
	free(want);
	pb_free(&pb);
	reg_free(&r);
}

#define ATT(name, ...) TEST(name) { struct att_case tc = { __VA_ARGS__ }; check_attention(&tc); }

ATT(attention_f32_mha_pos0_one_row, LUMEN_DTYPE_F32, 4, 4, 16, 8, 1, 1, 0, 1, 0, 0)
ATT(attention_f32_gqa_prefill_rows, LUMEN_DTYPE_F32, 6, 2, 16, 12, 5, 5, 0, 1, 0, 0)
ATT(attention_f16_gqa_prefill_at_pos, LUMEN_DTYPE_F16, 6, 2, 16, 20, 4, 4, 7, 2, 0, 0)
ATT(attention_f16_decode_full_context, LUMEN_DTYPE_F16, 8, 2, 32, 64, 1, 1, 63, 2, 0, 0)
ATT(attention_f32_mqa_hd_odd, LUMEN_DTYPE_F32, 3, 1, 13, 9, 3, 3, 2, 3, 0, 0)
ATT(attention_f16_rows_arg_below_capacity, LUMEN_DTYPE_F16, 4, 2, 24, 16, 6, 3, 5, 2, 0, 0)
ATT(attention_f32_scalar_gqa, LUMEN_DTYPE_F32, 6, 3, 20, 10, 3, 3, 4, 1, 1, 0)
ATT(attention_f16_scalar_2_threads, LUMEN_DTYPE_F16, 4, 2, 40, 32, 2, 2, 20, 2, 1, 0)
ATT(attention_f16_long_context, LUMEN_DTYPE_F16, 4, 1, 64, 300, 2, 2, 250, 2, 0, 0)
/* Gemma 3's local layers: only the last 16 positions */
ATT(attention_f16_sliding_window_prefill, LUMEN_DTYPE_F16, 4, 2, 32, 40, 6, 6, 20, 2, 0, 16)
ATT(attention_f32_sliding_window_decode_scalar, LUMEN_DTYPE_F32, 4, 2, 16, 64, 1, 1, 50, 1, 1, 7)
ATT(attention_window_wider_than_context_is_causal, LUMEN_DTYPE_F16, 4, 2, 16, 12, 3, 3, 4, 1, 0, 100)

/*
 * Batch invariance: the M rows of one ATTENTION (a prefill or a
 * speculative verify) against each row alone at its position (a decode),
 * compared bit for bit, over contexts that cross the K/V tiles (64) and
 * the chunks whose sums are added in order (128), at 1 and 2 threads —
 * a decode with few KV heads splits its keys across the threads, a
 * prefill shares K/V tiles between rows and heads.
 */
struct inv_case {
	uint32_t n_head, n_kv, hd, pos, m, window;
};

static int rows_match_decode(uint32_t dtype, const struct inv_case *ic, int level,
			     struct lumen_exec *ex[2])
{
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	uint32_t d = ic->n_head * ic->hd, kvd = ic->n_kv * ic->hd, ctx = ic->pos + ic->m;
	uint64_t crow = pb_bytes(dtype, kvd, 1), y_bytes = 4ull * d * ic->m;
	float *tmp = malloc(4ull * kvd), *first = malloc(2 * y_bytes);
	int mismatch = 0;

	rng_seed(d * 31u + kvd + ctx * 7u + ic->window);
	reg_random_f32(&r, OP_A, (size_t)d * ic->m, -2, 2);
	reg_alloc(&r, OP_B, 2 * crow * ctx, 0);
	for (uint32_t j = 0; j < 2 * ctx; j++) {
		rng_fill(tmp, kvd, -1.5f, 1.5f);
		ref_encode_row(dtype, tmp, r.mem[OP_B] + j * crow, kvd);
	}
	reg_alloc(&r, OP_DST, 2 * y_bytes, 0x55);
	reg_set_arg(&r, 0, ic->m);
	reg_set_arg(&r, 1, ic->pos);
	reg_set_arg(&r, 2, 1);
	pb_init(&pb, OP_REGIONS, OP_ARGS);
	for (uint32_t i = 0; i <= ic->m; i++) {
		struct lumen_op *op = pb_op(&pb, LUMEN_OP_ATTENTION);
		uint32_t rows = i ? 1 : ic->m;

		op->src[0] = pb_tensor(LUMEN_DTYPE_F32, OP_A, i ? (i - 1) * 4ull * d : 0, d, rows);
		op->src[1] = pb_tensor(dtype, OP_B, 0, kvd, ctx);
		op->src[2] = pb_tensor(dtype, OP_B, crow * ctx, kvd, ctx);
		op->dst = pb_tensor(LUMEN_DTYPE_F32, OP_DST, i ? y_bytes + (i - 1) * 4ull * d : 0,
				    d, rows);
		op->params[LUMEN_P_N_HEAD] = ic->n_head;
		op->params[LUMEN_P_N_KV_HEAD] = ic->n_kv;
		op->params[LUMEN_P_SCALE] = pb_f32_bits(1.0f / sqrtf((float)ic->hd));
		op->params[LUMEN_P_WINDOW] = ic->window;
		op->rows_arg = i ? 2 : 0;
		op->pos_arg = i ? 2 + i : 1;
		if (i)
			reg_set_arg(&r, 2 + i, ic->pos + i - 1);
	}
	for (unsigned int threads = 1; threads <= 2; threads++) {
		if (run_with(ex[threads - 1], &pb, &r, &f) != 0) {
			mismatch = -1;
			break;
		}
		if (threads == 1)
			memcpy(first, r.mem[OP_DST], 2 * y_bytes);
		for (uint64_t e = 0; e < (uint64_t)d * ic->m; e++) {
			float got, want;

			memcpy(&got, r.mem[OP_DST] + 4 * e, 4);
			memcpy(&want, r.mem[OP_DST] + y_bytes + 4 * e, 4);
			if (memcmp(&got, &want, 4) != 0) {
				if (!mismatch)
					printf("# %s heads %u/%u hd %u pos %u M %u window %u, %s, "
					       "%u threads: row %u elt %u: %.9g against the "
					       "decode's %.9g\n", lumen_isa_dtype_name(dtype),
					       ic->n_head, ic->n_kv, ic->hd, ic->pos, ic->m,
					       ic->window, kernel_level_name(level), threads,
					       (uint32_t)(e / d), (uint32_t)(e % d),
					       (double)got, (double)want);
				mismatch++;
			}
		}
		/* and the thread count changes nothing */
		if (memcmp(first, r.mem[OP_DST], 2 * y_bytes) != 0) {
			if (!mismatch)
				printf("# %s heads %u/%u pos %u M %u, %s: 2 threads differ from 1\n",
				       lumen_isa_dtype_name(dtype), ic->n_head, ic->n_kv,
				       ic->pos, ic->m, kernel_level_name(level));
			mismatch++;
		}
	}
	mismatch += !reg_guards_intact(&r);
	pb_free(&pb);
	reg_free(&r);
	free(tmp);
	free(first);
	return mismatch;
}

TEST(attention_rows_equal_single_row_bit_for_bit_every_kernel_level_threads_cache_gqa_context)
{
	static const uint32_t heads[][3] = {	/* n_head, n_kv, hd */
		{ 8, 2, 64 },	/* groups of 4, as Llama-3.2-1B */
		{ 9, 3, 64 },	/* of 3, SmolLM2-135M */
		{ 14, 2, 64 },	/* of 7, Qwen2.5-0.5B */
		{ 6, 1, 20 },	/* one KV head, a head size of no whole vector */
		{ 4, 4, 24 },	/* no grouping */
	};
	static const uint32_t ctxs[][3] = {	/* pos, M, window */
		{ 0, 9, 0 }, { 58, 9, 0 }, { 121, 12, 0 }, { 250, 11, 0 },
		{ 300, 5, 100 }, { 700, 3, 0 }, { 1020, 6, 0 },
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
		for (int f16 = 0; f16 < 2; f16++)
			for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++)
				for (size_t c = 0; c < sizeof(ctxs) / sizeof(ctxs[0]); c++) {
					struct inv_case ic = {
						heads[h][0], heads[h][1], heads[h][2],
						ctxs[c][0], ctxs[c][1], ctxs[c][2],
					};
					uint32_t dtype = f16 ? LUMEN_DTYPE_F16 : LUMEN_DTYPE_F32;
					int bad = rows_match_decode(dtype, &ic, lv, ex);

					CHECK_MSG(bad == 0, "%s heads %u/%u hd %u pos %u M %u, "
						  "%s kernels: %d values differ from the decode",
						  lumen_isa_dtype_name(dtype), ic.n_head, ic.n_kv,
						  ic.hd, ic.pos, ic.m, kernel_level_name(lv), bad);
				}
		lumen_exec_destroy(ex[0]);
		lumen_exec_destroy(ex[1]);
	}
	CHECK(levels >= 1);
}

/*
 * The tiles and split-K against the double-precision reference at every
 * kernel level: long contexts, several tiles and chunks, odd head sizes,
 * windows, a decode whose keys two threads split.
 */
TEST(attention_tiles_and_split_keys_match_reference_every_kernel_level)
{
	static const struct att_case cases[] = {
		/* dtype, n_head, n_kv, hd, ctx, c, rows, pos, threads, -, window */
		{ LUMEN_DTYPE_F16, 9, 3, 64, 1100, 1, 1, 1099, 2, 0, 0 },
		{ LUMEN_DTYPE_F32, 8, 1, 64, 600, 1, 1, 520, 2, 0, 0 },
		{ LUMEN_DTYPE_F16, 8, 2, 64, 400, 13, 13, 300, 2, 0, 0 },
		{ LUMEN_DTYPE_F32, 14, 2, 20, 300, 9, 9, 200, 1, 0, 0 },
		{ LUMEN_DTYPE_F16, 6, 1, 13, 500, 2, 2, 400, 2, 0, 150 },
		{ LUMEN_DTYPE_F16, 4, 4, 40, 200, 70, 70, 0, 2, 0, 0 },
	};

	for (int lv = KL_SCALAR; lv < KL_COUNT; lv++) {
		if (!kernel_level_available(lv))
			continue;
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct att_case tc = cases[i];

			tc.scalar = lv;
			check_attention(&tc);
		}
	}
}

/*
 * What lumen_attention_scratch() promises is all the op uses: each case
 * on an executor whose scratch limit is exactly that (so its block is that
 * size, rounded to a page, and the ASan build sees a byte past it), over
 * the tiled prefill, the split-K decode and 1, 2 and 4 threads.
 */
TEST(attention_uses_no_more_scratch_than_it_asks_for)
{
	static const struct att_case cases[] = {
		/* dtype, n_head, n_kv, hd, ctx, c, rows, pos, threads, -, window */
		{ LUMEN_DTYPE_F16, 9, 3, 64, 3000, 1, 1, 2999, 2, 0, 0 },	/* split */
		{ LUMEN_DTYPE_F32, 6, 1, 20, 2500, 3, 3, 2490, 4, 0, 0 },	/* split, 3 rows */
		{ LUMEN_DTYPE_F16, 8, 2, 64, 2100, 40, 40, 2000, 2, 0, 0 },	/* tiles */
		{ LUMEN_DTYPE_F32, 14, 2, 64, 4000, 16, 16, 3900, 2, 0, 0 },
		{ LUMEN_DTYPE_F16, 32, 1, 16, 2200, 2, 2, 2100, 4, 0, 300 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct att_case *tc = &cases[i];
		struct lumen_exec *ex = exec_new(tc->threads, 0);
		struct lumen_op op = { .opcode = LUMEN_OP_ATTENTION };
		size_t need;

		REQUIRE(ex);
		op.src[0].dims[0] = tc->n_head * tc->hd;
		op.params[LUMEN_P_N_HEAD] = tc->n_head;
		op.params[LUMEN_P_N_KV_HEAD] = tc->n_kv;
		need = lumen_attention_scratch(&op, tc->pos + tc->rows, tc->threads);
		/* larger than the executor's first block, so the limit sizes it */
		CHECK(need > (256u << 10));
		lumen_exec_set_scratch_limit(ex, need);
		check_attention_on(ex, tc);
		CHECK(lumen_exec_scratch_bytes(ex) <= ((need + 4095) & ~(size_t)4095));
		lumen_exec_destroy(ex);
	}
}
