// SPDX-License-Identifier: MIT
/*
 * Regressions of the 2026-12 security review (issue 10, host side): region
 * memory changing under the executor, work and scratch a program controls,
 * NaN/Inf quantization, slots aliasing the same memory, and the thread
 * pool's counter width. Run under ASan/UBSan in hw-exec-asan.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec_internal.h"
#include "ref_exec.h"
#include "lumen_test.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- review #1: EMBED token ids flipped while the executor runs ---- */

#define E_D0 64
#define E_ROWS 4
#define E_NIDS 256
#define E_RUNS 20000

struct flipper {
	volatile int32_t *ids;
	int stop;
};

static void *flip_ids(void *p)
{
	struct flipper *f = p;

	/* one id at a time is -1 for a moment: most runs see valid ids */
	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < E_NIDS; i++) {
			f->ids[i] = -1;
			for (volatile int spin = 0; spin < 64; spin++)
				;
			f->ids[i] = (i & 3);
			for (volatile int spin = 0; spin < 512; spin++)
				;
		}
	}
	return NULL;
}

TEST(embed_ids_flipped_during_runs_give_valid_rows_or_fault)
{
	struct prog_builder pb;
	struct lumen_op *op;
	struct lumen_validation v;
	struct lumen_region regs[3];
	struct lumen_fault f;
	struct flipper fl = { 0 };
	struct lumen_exec *ex = lumen_exec_create(1);
	long ok = 0, faulted = 0, bad = 0;
	pthread_t th;

	REQUIRE(ex);
	pb_init(&pb, 3, 1);
	op = pb_op(&pb, LUMEN_OP_EMBED);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, 2, 0, E_D0, E_NIDS);
	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, 0, 0, E_D0, E_ROWS);
	op->src[1] = pb_tensor(LUMEN_DTYPE_I32, 1, 0, E_NIDS, 1);
	REQUIRE_EQ(lumen_validate(pb.buf, pb.size, &v), 0);
	/* exactly sized regions: a row read out of the table is an ASan report */
	regs[0].size = pb_bytes(LUMEN_DTYPE_F32, E_D0, E_ROWS);
	regs[0].base = malloc(regs[0].size);
	regs[1].size = 4 * E_NIDS;
	regs[1].base = calloc(1, regs[1].size);
	regs[2].size = pb_bytes(LUMEN_DTYPE_F32, E_D0, E_NIDS);
	regs[2].base = malloc(regs[2].size);
	for (int r = 0; r < E_ROWS; r++)
		for (int i = 0; i < E_D0; i++)
			((float *)regs[0].base)[r * E_D0 + i] = (float)(r + 1);
	fl.ids = regs[1].base;
	REQUIRE(pthread_create(&th, NULL, flip_ids, &fl) == 0);
	for (int run = 0; run < E_RUNS; run++) {
		const float *out = regs[2].base;
		int err;

		memset(regs[2].base, 0, regs[2].size);
		err = lumen_exec_run_validated(ex, pb.buf, &v, regs, 3, &f);
		if (err) {
			if (err != LUMEN_FAULT_INDEX || f.offset != 0xffffffffu)
				bad++;
			faulted++;
			continue;
		}
		ok++;
		/* every row is one row of the table, whole */
		for (int r = 0; r < E_NIDS; r++) {
			float x = out[r * E_D0];

			if (!(x >= 1.0f && x <= (float)E_ROWS && x == (int)x))
				bad++;
			for (int i = 1; i < E_D0; i++)
				if (out[r * E_D0 + i] != x)
					bad++;
		}
	}
	__atomic_store_n(&fl.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	printf("# %ld runs completed, %ld faulted on an id\n", ok, faulted);
	CHECK_EQ(bad, 0);
	CHECK(ok + faulted == E_RUNS);
	CHECK(ok > 0);
	for (int i = 0; i < 3; i++)
		free(regs[i].base);
	pb_free(&pb);
	lumen_exec_destroy(ex);
}

/* ---- review #2: stride-0 rows of sources read whole; cancellation ---- */

static int validate_op(struct prog_builder *pb, struct lumen_validation *v)
{
	return lumen_validate(pb->buf, pb->size, v);
}

TEST(validate_refuses_stride0_weight_table_and_cache_rows)
{
	struct prog_builder pb;
	struct lumen_validation v;
	struct lumen_op *op;

	/* MATMUL over a 1 GiB-of-rows weight declared in one 256-byte row */
	pb_init(&pb, 3, 2);
	op = pb_op(&pb, LUMEN_OP_MATMUL);
	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, 0, 0, 64, 1u << 24);
	op->src[0].strides[1] = 0;
	op->src[0].strides[2] = op->src[0].strides[3] = 0;
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, 1, 0, 64, 1);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, 1, 256, 1u << 24, 1);
	CHECK_EQ(validate_op(&pb, &v), LUMEN_VERR_BAD_STRIDE0);
	CHECK_EQ(v.error_operand, 1);	/* src[0], the weight */
	CHECK_EQ(v.error_op, 0);
	/* rows that overlap without being 0 apart are refused as well */
	op = pb_op_at(&pb, 0);
	op->src[0].strides[1] = 4;
	CHECK_EQ(validate_op(&pb, &v), LUMEN_VERR_BAD_STRIDE0);
	CHECK_EQ(v.error_operand, 1);
	/* the same weight laid out for real is fine */
	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, 0, 0, 64, 16);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, 1, 256, 16, 1);
	CHECK_EQ(validate_op(&pb, &v), 0);
	pb_free(&pb);

	/* EMBED over a stride-0 table */
	pb_init(&pb, 3, 1);
	op = pb_op(&pb, LUMEN_OP_EMBED);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, 2, 0, 64, 1);
	op->src[0] = pb_tensor(LUMEN_DTYPE_Q8_0, 0, 0, 64, 1000);
	op->src[0].strides[1] = 0;
	op->src[1] = pb_tensor(LUMEN_DTYPE_I32, 1, 0, 1, 1);
	CHECK_EQ(validate_op(&pb, &v), LUMEN_VERR_BAD_STRIDE0);
	CHECK_EQ(v.error_operand, 1);
	pb_free(&pb);

	/* ATTENTION over stride-0 caches: the review's attn_scratch.c shape */
	pb_init(&pb, 3, 2);
	op = pb_op(&pb, LUMEN_OP_ATTENTION);
	op->pos_arg = 0;
	op->params[LUMEN_P_N_HEAD] = 1;
	op->params[LUMEN_P_N_KV_HEAD] = 1;
	op->params[LUMEN_P_SCALE] = pb_f32_bits(1.0f);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, 0, 0, 2, 1);
	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, 0, 64, 2, 1);
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, 1, 0, 2, 0xffffffffu);
	op->src[1].strides[1] = op->src[1].strides[2] = op->src[1].strides[3] = 0;
	op->src[2] = op->src[1];
	CHECK_EQ(validate_op(&pb, &v), LUMEN_VERR_BAD_STRIDE0);
	CHECK_EQ(v.error_operand, 2);	/* src[1], the K cache */
	pb_free(&pb);
}

TEST(validate_keeps_stride0_broadcast_and_single_rows)
{
	struct prog_builder pb;
	struct lumen_validation v;
	struct lumen_op *op;

	/* ADD's broadcast src1 of one row, any stride */
	pb_init(&pb, 2, 1);
	op = pb_op(&pb, LUMEN_OP_ADD);
	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, 0, 0, 16, 8);
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, 0, 1024, 16, 1);
	op->src[1].strides[1] = 0;
	op->dst = pb_tensor(LUMEN_DTYPE_F32, 0, 2048, 16, 8);
	CHECK_EQ(validate_op(&pb, &v), 0);
	pb_free(&pb);

	/* a one-row weight (RMSNORM's) with stride 0 */
	pb_init(&pb, 2, 1);
	op = pb_op(&pb, LUMEN_OP_RMSNORM);
	op->params[LUMEN_P_EPS] = pb_f32_bits(1e-5f);
	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, 0, 0, 16, 8);
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, 0, 1024, 16, 1);
	op->src[1].strides[1] = 0;
	op->dst = pb_tensor(LUMEN_DTYPE_F32, 0, 2048, 16, 8);
	CHECK_EQ(validate_op(&pb, &v), 0);
	pb_free(&pb);
}

/*
 * Cancels once the run has visibly started: when the first row of the
 * first op's output no longer holds the canary. What the tests then check
 * is where the run stopped, never how long it took (the machine may be
 * loaded).
 */
struct canceller {
	struct lumen_exec *ex;
	const volatile uint32_t *watch;
	double at;
};

#define CANARY 0x7fc0dead	/* a NaN no matmul of ones writes */

static void *cancel_when_started(void *p)
{
	struct canceller *c = p;
	struct timespec ts = { 0, 100000 };

	while (*c->watch == CANARY)
		nanosleep(&ts, NULL);
	c->at = now_s();
	lumen_exec_cancel(c->ex);
	return NULL;
}

/* @n_ops MATMULs of an n x n F32 weight of ones over @rows rows of ones */
static void long_program(struct prog_builder *pb, struct regions *r, uint32_t n_ops,
			 uint32_t n, uint32_t rows)
{
	uint64_t in = pb_bytes(LUMEN_DTYPE_F32, n, rows);
	float *w, *x;
	uint32_t *y;

	pb_init(pb, 3, 2);
	for (uint32_t i = 0; i < n_ops; i++) {
		struct lumen_op *op = pb_op(pb, LUMEN_OP_MATMUL);

		op->src[0] = pb_tensor(LUMEN_DTYPE_F32, 0, 0, n, n);
		op->src[1] = pb_tensor(LUMEN_DTYPE_F32, 1, 0, n, rows);
		op->dst = pb_tensor(LUMEN_DTYPE_F32, 1, in, n, rows);
	}
	memset(r, 0, sizeof(*r));
	w = (float *)reg_alloc(r, 0, pb_bytes(LUMEN_DTYPE_F32, n, n), 0);
	x = (float *)reg_alloc(r, 1, 2 * in, 0);
	y = (uint32_t *)(x + (size_t)n * rows);
	for (size_t i = 0; i < (size_t)n * n; i++)
		w[i] = 1.0f;
	for (size_t i = 0; i < (size_t)n * rows; i++) {
		x[i] = 1.0f;
		y[i] = CANARY;
	}
	reg_alloc(r, 2, 64, 0);
}

/* rows of the output still holding the canary */
static uint32_t rows_untouched(struct regions *r, uint32_t n, uint32_t rows)
{
	const uint32_t *y = (const uint32_t *)reg_f32(r, 1, pb_bytes(LUMEN_DTYPE_F32, n, rows));
	uint32_t left = 0;

	for (uint32_t i = 0; i < rows; i++)
		left += y[(size_t)i * n] == CANARY;
	return left;
}

/*
 * Cancel @n_ops ops of n x n over @rows rows once the first has written;
 * 1 op: the op itself must stop part way, leaving rows unwritten.
 */
static void check_cancel(uint32_t n_ops, uint32_t n, uint32_t rows,
			 unsigned int threads)
{
	struct prog_builder pb;
	struct regions r;
	struct lumen_region regs[LUMEN_MAX_REGIONS];
	struct lumen_validation v;
	struct lumen_fault f;
	struct lumen_exec *ex = exec_new(threads, 1);
	struct canceller c = { .ex = ex };
	pthread_t th;
	double t0, end;
	int err;

	long_program(&pb, &r, n_ops, n, rows);
	reg_bind(&r, regs);
	c.watch = (const volatile uint32_t *)reg_f32(&r, 1, pb_bytes(LUMEN_DTYPE_F32, n, rows));
	REQUIRE_EQ(lumen_validate(pb.buf, pb.size, &v), 0);
	REQUIRE(pthread_create(&th, NULL, cancel_when_started, &c) == 0);
	t0 = now_s();
	err = lumen_exec_run_validated(ex, pb.buf, &v, regs, 3, &f);
	end = now_s();
	if (err != LUMEN_FAULT_CANCELLED)	/* the canceller would wait forever */
		lumen_exec_cancel(ex);
	pthread_join(th, NULL);
	printf("# ran %.3f s, stopped %.3f s after the cancel, at op %u of %u\n",
	       end - t0, end - c.at, f.op_index, n_ops);
	CHECK_EQ(err, LUMEN_FAULT_CANCELLED);
	CHECK_EQ(f.code, LUMEN_FAULT_CANCELLED);
	CHECK(f.op_index < n_ops);
	if (n_ops == 1)
		CHECK_MSG(rows_untouched(&r, n, rows) > 0,
			  "the op ran to its end after the cancel");
	CHECK(reg_guards_intact(&r));
	/* the request was consumed: the next run is not cancelled */
	pb_free(&pb);
	pb_init(&pb, 3, 2);
	pb_op(&pb, LUMEN_OP_MATMUL)->src[0] = pb_tensor(LUMEN_DTYPE_F32, 0, 0, n, 1);
	pb_op_at(&pb, 0)->src[1] = pb_tensor(LUMEN_DTYPE_F32, 1, 0, n, 1);
	pb_op_at(&pb, 0)->dst = pb_tensor(LUMEN_DTYPE_F32, 1, 4 * n, 1, 1);
	CHECK_EQ(run_with(ex, &pb, &r, &f), 0);
	pb_free(&pb);
	reg_free(&r);
	lumen_exec_destroy(ex);
}

/* thousands of ops: the run stops between ops */
TEST(cancel_stops_a_long_program_between_ops)
{
	check_cancel(20000, 128, 64, 1);
}

/* one op of seconds on two threads: the pool stops handing out items */
TEST(cancel_stops_a_long_parallel_op)
{
	check_cancel(1, 2048, 2048, 2);
}

TEST(cancel_before_a_run_cancels_that_run_once)
{
	struct prog_builder pb;
	struct regions r;
	struct lumen_fault f;
	struct lumen_exec *ex = exec_new(1, 1);

	long_program(&pb, &r, 3, 32, 2);
	lumen_exec_cancel(ex);
	CHECK_EQ(run_with(ex, &pb, &r, &f), LUMEN_FAULT_CANCELLED);
	CHECK_EQ(f.op_index, 0);
	CHECK_EQ(run_with(ex, &pb, &r, &f), 0);
	pb_free(&pb);
	reg_free(&r);
	lumen_exec_destroy(ex);
}

/* ---- review #6: ATTENTION scratch grows with pos read at run time ---- */

static long rss_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(fp);
	return kb;
}

/* ATTENTION of one head of 2 over real F16 caches of ctx rows */
static void attention_prog(struct prog_builder *pb, struct regions *r, uint32_t ctx)
{
	struct lumen_op *op;

	pb_init(pb, 3, 2);
	op = pb_op(pb, LUMEN_OP_ATTENTION);
	op->pos_arg = 0;
	op->params[LUMEN_P_N_HEAD] = 1;
	op->params[LUMEN_P_N_KV_HEAD] = 1;
	op->params[LUMEN_P_SCALE] = pb_f32_bits(1.0f);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, 0, 0, 2, 1);
	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, 0, 64, 2, 1);
	op->src[1] = pb_tensor(LUMEN_DTYPE_F16, 1, 0, 2, ctx);
	op->src[2] = pb_tensor(LUMEN_DTYPE_F16, 1, pb_bytes(LUMEN_DTYPE_F16, 2, ctx), 2, ctx);
	memset(r, 0, sizeof(*r));
	reg_alloc(r, 0, 128, 0);
	reg_alloc(r, 1, 2 * pb_bytes(LUMEN_DTYPE_F16, 2, ctx), 0);
	reg_alloc(r, 2, 4, 0);
}

TEST(attention_scratch_is_capped_and_given_back)
{
	const uint32_t ctx = 1u << 21;
	struct prog_builder pb;
	struct regions r;
	struct lumen_fault f;
	struct lumen_exec *ex = exec_new(4, 0);
	uint32_t *pos;
	long before;

	attention_prog(&pb, &r, ctx);
	pos = (uint32_t *)r.mem[2];

	/* under a 1 MiB limit, pos near 2^21 needs 8 * 4 MiB: a clean fault */
	lumen_exec_set_scratch_limit(ex, 1u << 20);
	*pos = ctx - 1;
	before = rss_kb();
	CHECK_EQ(run_with(ex, &pb, &r, &f), LUMEN_FAULT_NO_MEMORY);
	CHECK_EQ(f.code, LUMEN_FAULT_NO_MEMORY);
	CHECK_EQ(f.op_index, 0);
	CHECK(f.offset > (1u << 20));
	CHECK(lumen_exec_scratch_bytes(ex) <= (1u << 20));
	CHECK_MSG(rss_kb() - before < 8 * 1024, "RSS grew %ld KiB", rss_kb() - before);
	CHECK(reg_guards_intact(&r));
	/* a position that fits runs */
	*pos = 1000;
	CHECK_EQ(run_with(ex, &pb, &r, &f), 0);

	/* the default limit lets it run; the 32 MiB it needed is given back */
	lumen_exec_set_scratch_limit(ex, 0);
	*pos = ctx - 1;
	CHECK_EQ(run_with(ex, &pb, &r, &f), 0);
	CHECK_MSG(lumen_exec_scratch_bytes(ex) <= (16u << 20), "kept %zu bytes",
		  lumen_exec_scratch_bytes(ex));
	/* and a small job afterwards shrinks it to what small jobs need */
	*pos = 10;
	CHECK_EQ(run_with(ex, &pb, &r, &f), 0);
	CHECK(lumen_exec_scratch_bytes(ex) <= (256u << 10));
	pb_free(&pb);
	reg_free(&r);
	lumen_exec_destroy(ex);
}

/* ---- review #10: NaN and Inf activations quantized to int8 ---- */

static void special_block(float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (float)((int)(i % 13) - 6) * 0.37f;
	x[1] = NAN;
	x[5] = -NAN;
	x[9] = INFINITY;
	x[17] = -INFINITY;
	x[30] = 1e30f;
}

static int same_float(float a, float b)
{
	return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof(a));
}

/* NaN where the other is NaN, the same infinity, or finite and close */
static int close_float(float a, float b)
{
	if (isnan(a) || isnan(b) || isinf(a) || isinf(b))
		return same_float(a, b);
	return fabsf(a - b) <= 1e-3f + 1e-3f * fabsf(b);
}

TEST(quantize_act_nan_inf_defined_and_scalar_avx2_agree)
{
	const struct lumen_kernels *ks[2] = { &lumen_kernels_scalar, lumen_kernels_avx2() };
	float x[4 * LUMEN_QK_K], d[2][8], s[2][8];
	int8_t qs[2][4 * LUMEN_QK_K];
	int16_t bsums[2][4 * LUMEN_QK_K / 16];
	const size_t nb = 4 * LUMEN_QK_K / LUMEN_QK;

	special_block(x, LUMEN_QK);			/* block 0: NaN, Inf, huge */
	for (int i = 0; i < LUMEN_QK; i++)		/* block 1: NaN only and finite */
		x[LUMEN_QK + i] = i == 3 ? NAN : (float)i - 16.0f;
	for (int i = 0; i < LUMEN_QK; i++)		/* block 2: all NaN */
		x[2 * LUMEN_QK + i] = NAN;
	rng_seed(10);
	rng_fill(x + 3 * LUMEN_QK, (nb - 3) * LUMEN_QK, -4.0f, 4.0f);
	x[7 * LUMEN_QK + 4] = -INFINITY;

	for (int k = 0; k < 2; k++) {
		if (!ks[k])
			continue;
		ks[k]->quantize_act(x, qs[k], d[k], s[k], 8);
		/* the defined values: NaN -> 0, everything in [-127, 127] */
		CHECK_EQ(qs[k][1], 0);
		CHECK_EQ(qs[k][5], 0);
		CHECK_EQ(qs[k][LUMEN_QK + 3], 0);
		for (int i = 0; i < LUMEN_QK; i++)
			CHECK_EQ(qs[k][2 * LUMEN_QK + i], 0);
		CHECK(d[k][2] == 0.0f);
		/* finite values next to a NaN quantize as if it were 0 */
		CHECK_EQ(qs[k][LUMEN_QK + 31], 127 * 15 / 16 + 0);
		for (size_t i = 0; i < 8 * LUMEN_QK; i++)
			CHECK(qs[k][i] >= -127 && qs[k][i] <= 127);
	}
	if (!ks[1])
		SKIP("no AVX2: scalar checked only");
	CHECK(!memcmp(qs[0], qs[1], 8 * LUMEN_QK));
	for (int b = 0; b < 8; b++) {
		CHECK_MSG(same_float(d[0][b], d[1][b]), "d[%d] %g vs %g", b, d[0][b], d[1][b]);
		CHECK_MSG(same_float(s[0][b], s[1][b]), "s[%d] %g vs %g", b, s[0][b], s[1][b]);
	}

	/* Q8_K: blocks of 256 with NaN and Inf */
	special_block(x, LUMEN_QK_K);
	x[100] = NAN;
	x[LUMEN_QK_K + 7] = NAN;			/* block 1: NaN, no Inf */
	x[2 * LUMEN_QK_K + 200] = -INFINITY;
	for (int k = 0; k < 2; k++) {
		ks[k]->quantize_act_k(x, qs[k], d[k], bsums[k], 4);
		CHECK_EQ(qs[k][1], 0);
		CHECK_EQ(qs[k][LUMEN_QK_K + 7], 0);
		for (size_t i = 0; i < 4 * LUMEN_QK_K; i++)
			CHECK(qs[k][i] >= -127 && qs[k][i] <= 127);
	}
	CHECK(!memcmp(qs[0], qs[1], 4 * LUMEN_QK_K));
	CHECK(!memcmp(bsums[0], bsums[1], sizeof(bsums[0])));
	for (int b = 0; b < 4; b++)
		CHECK_MSG(same_float(d[0][b], d[1][b]), "d[%d] %g vs %g", b, d[0][b], d[1][b]);
}

/*
 * A MATMUL over Q8_0/Q4_0/Q4_K weights with NaN/Inf activations: no UB,
 * every kernel level this CPU runs agrees with the scalar one.
 */
TEST(matmul_nan_inf_activations_agree_scalar_avx2)
{
	static const uint32_t wtypes[] = { LUMEN_DTYPE_Q8_0, LUMEN_DTYPE_Q4_0, LUMEN_DTYPE_Q4_K };
	static const int levels[] = { KL_SCALAR, KL_AVX2, KL_AVX512 };
	const uint32_t k = 256, n = 8, rows = 2;

	for (size_t t = 0; t < sizeof(wtypes) / sizeof(wtypes[0]); t++) {
		struct prog_builder pb;
		struct regions r[3];
		struct lumen_fault f;
		struct lumen_op *op;
		float *outs[3];

		pb_init(&pb, 3, 2);
		op = pb_op(&pb, LUMEN_OP_MATMUL);
		op->src[0] = pb_tensor(wtypes[t], 0, 0, k, n);
		op->src[1] = pb_tensor(LUMEN_DTYPE_F32, 1, 0, k, rows);
		op->dst = pb_tensor(LUMEN_DTYPE_F32, 1, pb_bytes(LUMEN_DTYPE_F32, k, rows), n, rows);
		for (int s = 0; s < 3; s++) {
			float *x;

			memset(&r[s], 0, sizeof(r[s]));
			if (!kernel_level_available(levels[s]))
				continue;
			reg_alloc(&r[s], 0, pb_bytes(wtypes[t], k, n), 0x11);
			reg_alloc(&r[s], 1, pb_bytes(LUMEN_DTYPE_F32, k, rows) +
					    pb_bytes(LUMEN_DTYPE_F32, n, rows), 0);
			reg_alloc(&r[s], 2, 4, 0);
			x = reg_f32(&r[s], 1, 0);
			special_block(x, k * rows);
			CHECK_EQ(run_prog(&pb, &r[s], 1, levels[s], &f), 0);
			outs[s] = reg_f32(&r[s], 1, pb_bytes(LUMEN_DTYPE_F32, k, rows));
			for (uint32_t i = 0; s && i < n * rows; i++)
				CHECK_MSG(close_float(outs[0][i], outs[s][i]), "dtype %u %s y[%u] %g vs %g",
					  wtypes[t], kernel_level_name(levels[s]), i, outs[0][i],
					  outs[s][i]);
		}
		for (int s = 0; s < 3; s++)
			reg_free(&r[s]);
		pb_free(&pb);
	}
}

TEST(weight_quantizers_define_nan_and_inf)
{
	float x[LUMEN_QK];
	struct lumen_blk_q8_0 q8;
	struct lumen_blk_q4_0 q4;

	special_block(x, LUMEN_QK);
	lumen_quantize_row_q8_0(x, &q8, LUMEN_QK);
	CHECK_EQ(q8.qs[1], 0);
	CHECK_EQ(q8.qs[5], 0);
	for (int i = 0; i < LUMEN_QK; i++)
		CHECK(q8.qs[i] >= -127 && q8.qs[i] <= 127);
	lumen_quantize_row_q4_0(x, &q4, LUMEN_QK);
	CHECK_EQ(q4.qs[1] & 0xf, 8);	/* NaN is the zero point */
	CHECK_EQ(q4.qs[5] & 0xf, 8);
}

/* ---- review #11: two slots bound to overlapping memory ---- */

TEST(embed_and_rope_across_aliased_slots)
{
	struct prog_builder pb;
	struct lumen_op *op;
	struct lumen_validation v;
	struct lumen_region regs[3];
	struct lumen_fault f;
	struct lumen_exec *ex = lumen_exec_create(1);
	float *shared = calloc(1, 4096);
	int32_t *ids = calloc(1, 64);

	REQUIRE(ex && shared && ids);
	/* EMBED: the table in slot 0, the dst 16 bytes into the same memory (alias.c) */
	pb_init(&pb, 3, 1);
	op = pb_op(&pb, LUMEN_OP_EMBED);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, 2, 0, 64, 1);
	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, 0, 0, 64, 2);
	op->src[1] = pb_tensor(LUMEN_DTYPE_I32, 1, 0, 1, 1);
	REQUIRE_EQ(lumen_validate(pb.buf, pb.size, &v), 0);
	for (int i = 0; i < 128; i++)
		shared[i] = (float)i;
	regs[0] = (struct lumen_region){ shared, 4096 };
	regs[1] = (struct lumen_region){ ids, 64 };
	regs[2] = (struct lumen_region){ (char *)shared + 16, 4096 - 16 };
	CHECK_EQ(lumen_exec_run_validated(ex, pb.buf, &v, regs, 3, &f), 0);
	/* memmove semantics: row 0 as it was before the copy, 4 floats later */
	for (int i = 0; i < 64; i++)
		CHECK_EQ(shared[4 + i], i);
	pb_free(&pb);

	/* ROPE whose dst overlaps its src through another slot: the tail copy
	 * (dst 4 floats below src, so the rotated pair does not feed the tail) */
	pb_init(&pb, 3, 2);
	op = pb_op(&pb, LUMEN_OP_ROPE);
	op->params[LUMEN_P_N_HEAD] = 1;
	op->params[LUMEN_P_N_ROT] = 2;
	op->params[LUMEN_P_FREQ_BASE] = pb_f32_bits(10000.0f);
	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, 0, 0, 64, 1);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, 1, 0, 64, 1);
	REQUIRE_EQ(lumen_validate(pb.buf, pb.size, &v), 0);
	for (int i = 0; i < 128; i++)
		shared[i] = (float)i;
	regs[0] = (struct lumen_region){ (char *)shared + 16, 4096 - 16 };
	regs[1] = (struct lumen_region){ shared, 4096 };
	regs[2] = (struct lumen_region){ ids, 64 };	/* pos 0: the rotation is the identity */
	CHECK_EQ(lumen_exec_run_validated(ex, pb.buf, &v, regs, 3, &f), 0);
	CHECK_EQ(shared[0], 4);
	CHECK_EQ(shared[1], 5);
	for (int i = 2; i < 64; i++)
		CHECK_EQ(shared[i], i + 4);
	pb_free(&pb);
	free(shared);
	free(ids);
	lumen_exec_destroy(ex);
}

/* ---- review #17: item counts beyond 32 bits ---- */

TEST(pool_split_covers_item_counts_beyond_32_bits)
{
	static const size_t counts[] = {
		0, 1, 2, 1000, LUMEN_POOL_MAX_CLAIMS - 1, LUMEN_POOL_MAX_CLAIMS,
		(size_t)LUMEN_POOL_MAX_CLAIMS + 1, (1ull << 32) - 1, 1ull << 32,
		(1ull << 32) + 1, (1ull << 32) + 12345, 3ull << 33, (1ull << 40) + 7,
		SIZE_MAX / 2, SIZE_MAX,
	};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		size_t n = counts[i], chunk;
		uint32_t claims = lumen_pool_split(n, &chunk);

		/* fits the 32-bit claim counter with room: never wraps */
		CHECK_MSG(claims <= LUMEN_POOL_MAX_CLAIMS, "n=%zu: %u claims", n, claims);
		CHECK(chunk >= 1);
		/* the claims cover [0, n) exactly: the last one is short, not empty */
		CHECK_MSG((unsigned __int128)claims * chunk >= n, "n=%zu: %u x %zu", n, claims, chunk);
		if (claims)
			CHECK_MSG((unsigned __int128)(claims - 1) * chunk < n, "n=%zu", n);
		else
			CHECK_EQ(n, 0);
		if (n <= LUMEN_POOL_MAX_CLAIMS)
			CHECK_EQ(chunk, 1);	/* as before: one item per claim */
	}
}

struct count_ctx {
	size_t n;
	uint64_t sum;
	uint64_t calls;
};

static void count_item(void *p, size_t item, unsigned int ith)
{
	struct count_ctx *c = p;

	__atomic_add_fetch(&c->sum, item, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->calls, 1, __ATOMIC_RELAXED);
}

TEST(pool_for_runs_every_item_once)
{
	struct lumen_pool *pool = lumen_pool_create(2);
	static const size_t ns[] = { 0, 1, 2, 3, 1000, 100003 };

	REQUIRE(pool);
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		struct count_ctx c = { ns[i], 0, 0 };

		lumen_pool_for(pool, ns[i], count_item, &c);
		CHECK_EQ(c.calls, ns[i]);
		CHECK_EQ(c.sum, ns[i] ? (uint64_t)ns[i] * (ns[i] - 1) / 2 : 0);
	}
	lumen_pool_destroy(pool);
}
