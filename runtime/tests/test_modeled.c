// SPDX-License-Identifier: MIT
/*
 * The modeled cost per job from a program's op shapes (runtime/modeled.c)
 * is what the silicon model says of the whole program, for any rows and
 * position; layers that differ only in their tensors' offsets share a
 * shape, anything else does not.
 */
#include <math.h>
#include <string.h>

#include "lumen_build.h"
#include "modeled.h"
#include "lumen_test.h"

#define LAYERS 6
#define N_OPS (3 * LAYERS + 1)

struct prog {
	struct lumen_prog_header h;
	struct lumen_op op[N_OPS];
};

static void matmul(struct lumen_op *op, uint32_t dtype, uint32_t k, uint32_t n,
		   uint64_t w_offset)
{
	lumen_op_init(op, LUMEN_OP_MATMUL);
	op->rows_arg = 0;
	op->dst = lumen_tensor_2d(LUMEN_DTYPE_F32, 2, 0, n, 16, 0);
	op->src[0] = lumen_tensor_2d(dtype, 0, w_offset, k, n, 0);
	op->src[1] = lumen_tensor_2d(LUMEN_DTYPE_F32, 2, 4096, k, 16, 0);
}

/* a layer: a matmul, a rope and an attention at position args[1] */
static void layer(struct lumen_op *op, uint64_t w_offset, uint64_t kv_offset)
{
	matmul(&op[0], LUMEN_DTYPE_Q8_0, 256, 256, w_offset);
	lumen_op_init(&op[1], LUMEN_OP_ROPE);
	op[1].rows_arg = 0;
	op[1].pos_arg = 1;
	op[1].dst = lumen_tensor_2d(LUMEN_DTYPE_F32, 2, 0, 256, 16, 0);
	op[1].src[0] = op[1].dst;
	lumen_op_init(&op[2], LUMEN_OP_ATTENTION);
	op[2].rows_arg = 0;
	op[2].pos_arg = 1;
	op[2].dst = lumen_tensor_2d(LUMEN_DTYPE_F32, 2, 0, 256, 16, 0);
	op[2].src[0] = op[2].dst;
	op[2].src[1] = lumen_tensor_2d(LUMEN_DTYPE_F16, 1, kv_offset, 64, 512, 0);
	op[2].src[2] = lumen_tensor_2d(LUMEN_DTYPE_F16, 1, kv_offset + 65536, 64,
				       512, 0);
}

static void build(struct prog *p)
{
	lumen_prog_header_init(&p->h, N_OPS, 4, 3);
	for (int l = 0; l < LAYERS; l++)
		layer(&p->op[3 * l], 8192ull * 256 * l, 131072ull * l);
	/* the output projection: another shape */
	matmul(&p->op[3 * LAYERS], LUMEN_DTYPE_Q8_0, 256, 1024, 1 << 24);
}

static int close_to(double a, double b)
{
	return fabs(a - b) <= 1e-12 * fabs(b) + 1e-300;
}

static void check_same(const struct lumen_modeled_plan *plan,
		       const struct prog *p, const uint32_t *args, size_t n)
{
	const struct lumen_silicon *si = lumen_silicon_find("glasses");
	struct lumen_silicon_cost whole = { 0 }, planned = { 0 };

	lumen_silicon_program(si, p, args, n, &whole);
	lumen_modeled_plan_cost(plan, si, args, n, &planned);
	CHECK(whole.seconds > 0);
	CHECK(close_to(planned.seconds, whole.seconds));
	CHECK(close_to(planned.joules, whole.joules));
	CHECK(close_to(planned.macs, whole.macs));
	CHECK(close_to(planned.dram_bytes, whole.dram_bytes));
	CHECK(close_to(planned.sram_bytes, whole.sram_bytes));
}

TEST(modeled_plan_equals_the_whole_program_at_any_rows_and_pos)
{
	static const uint32_t rows[] = { 1, 3, 16 }, pos[] = { 0, 5, 300 };
	struct lumen_modeled_plan plan;
	struct prog p;

	build(&p);
	REQUIRE_EQ(lumen_modeled_plan_init(&plan, &p), 0);
	/* a matmul, a rope, an attention shared by the layers; the output */
	CHECK_EQ(plan.n_shapes, 4);
	check_same(&plan, &p, NULL, 0);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
		for (size_t q = 0; q < sizeof(pos) / sizeof(pos[0]); q++) {
			uint32_t args[2] = { rows[r], pos[q] };

			check_same(&plan, &p, args, 2);
		}
	lumen_modeled_plan_free(&plan);
}

TEST(modeled_plan_keeps_ops_of_other_shapes_apart)
{
	const struct lumen_silicon *si = lumen_silicon_find("glasses");
	struct lumen_silicon_cost a = { 0 }, b = { 0 };
	struct lumen_modeled_plan plan;
	uint32_t args[2] = { 1, 100 };
	struct prog p;

	build(&p);
	/* layer 2 attends over a longer cache, layer 4 has F16 weights */
	p.op[3 * 2 + 2].src[1].dims[1] = 1024;
	p.op[3 * 4].src[0].dtype = LUMEN_DTYPE_F16;
	REQUIRE_EQ(lumen_modeled_plan_init(&plan, &p), 0);
	CHECK_EQ(plan.n_shapes, 6);
	check_same(&plan, &p, args, 2);
	/* the position reaches the attention ops' cost */
	lumen_modeled_plan_cost(&plan, si, args, 2, &a);
	args[1] = 400;
	lumen_modeled_plan_cost(&plan, si, args, 2, &b);
	CHECK(b.seconds > a.seconds);
	lumen_modeled_plan_free(&plan);
}
