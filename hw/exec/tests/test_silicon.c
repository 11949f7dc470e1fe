// SPDX-License-Identifier: MIT
/*
 * The silicon model against figures worked out by hand from the presets:
 * a decode matvec is DRAM-bound, a prefill matmul compute-bound, attention
 * reads only the cached positions, activations that do not fit SRAM go
 * to DRAM, and energy is the sum of its parts.
 */
#include <math.h>
#include <string.h>

#include "lumen_build.h"
#include "lumen_test.h"
#include "silicon.h"

#define CLOSE(a, b) (fabs((a) - (b)) <= 1e-9 * fabs(b) + 1e-15)

static struct lumen_op matmul(uint32_t dtype, uint32_t k, uint32_t n,
			      uint32_t rows)
{
	struct lumen_op op = { .opcode = LUMEN_OP_MATMUL,
			       .rows_arg = LUMEN_ARG_NONE,
			       .pos_arg = LUMEN_ARG_NONE };

	op.src[0] = lumen_tensor_2d(dtype, 0, 0, k, n, 0);
	op.src[1] = lumen_tensor_2d(LUMEN_DTYPE_F32, 2, 0, k, rows, 0);
	op.dst = lumen_tensor_2d(LUMEN_DTYPE_F32, 2, 0, n, rows, 0);
	return op;
}

TEST(silicon_presets_are_found_by_name)
{
	REQUIRE(lumen_silicon_find("glasses"));
	REQUIRE(lumen_silicon_find("phone"));
	CHECK(!lumen_silicon_find("tv"));
	CHECK(lumen_silicon_find("glasses")->memory_bytes <
	      lumen_silicon_find("phone")->memory_bytes);
}

TEST(silicon_decode_matvec_is_dram_bound)
{
	const struct lumen_silicon *si = lumen_silicon_find("glasses");
	struct lumen_op op = matmul(LUMEN_DTYPE_Q4_0, 2048, 8192, 1);
	struct lumen_silicon_cost c = { 0 };
	double weights = 2048.0 / 32 * 18 * 8192;	/* Q4_0: 18 bytes per 32 */
	double act = 2048.0 * 4 + 8192.0 * 4;
	double cycles = weights * si->clock_hz / si->dram_bytes_per_s;

	lumen_silicon_op(si, &op, 1, 0, &c);
	CHECK(CLOSE(c.dram_bytes, weights));
	CHECK(CLOSE(c.sram_bytes, act));
	CHECK(CLOSE(c.macs, 2048.0 * 8192));
	/* DRAM time beats the MACs at the int8 rate by far */
	CHECK(cycles > c.macs / si->macs_int8);
	CHECK(CLOSE(c.seconds, (cycles + si->op_overhead_cycles) / si->clock_hz));
	CHECK(CLOSE(c.joules, 1e-12 * (c.macs * si->pj_mac_int8 +
				       weights * si->pj_dram_byte +
				       act * si->pj_sram_byte) +
			      1e-3 * si->static_mw * c.seconds));
}

TEST(silicon_prefill_matmul_is_compute_bound_at_the_dtype_rate)
{
	const struct lumen_silicon *si = lumen_silicon_find("glasses");
	struct lumen_op q = matmul(LUMEN_DTYPE_Q8_0, 512, 512, 64);
	struct lumen_op h = matmul(LUMEN_DTYPE_F16, 512, 512, 64);
	struct lumen_silicon_cost cq = { 0 }, ch = { 0 };
	double macs = 512.0 * 512 * 64;

	lumen_silicon_op(si, &q, 64, 0, &cq);
	lumen_silicon_op(si, &h, 64, 0, &ch);
	CHECK(CLOSE(cq.seconds, (macs / si->macs_int8 + si->op_overhead_cycles) /
				si->clock_hz));
	CHECK(CLOSE(ch.seconds, (macs / si->macs_fp16 + si->op_overhead_cycles) /
				si->clock_hz));
}

TEST(silicon_attention_reads_only_cached_positions)
{
	const struct lumen_silicon *si = lumen_silicon_find("phone");
	struct lumen_op op = { .opcode = LUMEN_OP_ATTENTION,
			       .rows_arg = LUMEN_ARG_NONE, .pos_arg = 1 };
	struct lumen_silicon_cost at10 = { 0 }, at100 = { 0 };
	double row = 256.0 * 2;	/* kv dim 256 in F16 */

	op.params[LUMEN_P_N_HEAD] = 8;
	op.src[0] = lumen_tensor_2d(LUMEN_DTYPE_F32, 2, 0, 512, 1, 0);
	op.src[1] = lumen_tensor_2d(LUMEN_DTYPE_F16, 1, 0, 256, 4096, 0);
	op.src[2] = lumen_tensor_2d(LUMEN_DTYPE_F16, 1, 0, 256, 4096, 0);
	op.dst = lumen_tensor_2d(LUMEN_DTYPE_F32, 2, 0, 512, 1, 0);
	lumen_silicon_op(si, &op, 1, 10, &at10);
	lumen_silicon_op(si, &op, 1, 100, &at100);
	CHECK(CLOSE(at10.dram_bytes, 2 * 11 * row));
	CHECK(CLOSE(at100.dram_bytes, 2 * 101 * row));
	CHECK(CLOSE(at10.macs, 2.0 * 512 * 11));
}

TEST(silicon_activations_beyond_sram_go_to_dram)
{
	const struct lumen_silicon *si = lumen_silicon_find("glasses");
	struct lumen_op op = matmul(LUMEN_DTYPE_Q8_0, 4096, 4096, 128);
	struct lumen_silicon_cost c = { 0 };
	double act = 4096.0 * 4 * 128 * 2;

	REQUIRE(act > si->sram_bytes);
	lumen_silicon_op(si, &op, 128, 0, &c);
	CHECK_EQ(c.sram_bytes, 0.0);
	CHECK(CLOSE(c.dram_bytes, 4096.0 / 32 * 34 * 4096 + act));
}

TEST(silicon_program_reads_rows_and_pos_from_the_args)
{
	const struct lumen_silicon *si = lumen_silicon_find("glasses");
	struct {
		struct lumen_prog_header h;
		struct lumen_op op;
	} prog = { .h = { .magic = LUMEN_PROG_MAGIC, .isa_version = LUMEN_ISA_VERSION,
			  .header_size = sizeof(struct lumen_prog_header),
			  .op_size = sizeof(struct lumen_op), .op_count = 1,
			  .region_count = 4, .args_region = 3 } };
	struct lumen_silicon_cost whole = { 0 }, three = { 0 }, direct = { 0 };
	uint32_t args[2] = { 3, 0 };

	prog.op = matmul(LUMEN_DTYPE_Q8_0, 256, 256, 16);
	prog.op.rows_arg = 0;
	lumen_silicon_program(si, &prog, NULL, 0, &whole);
	lumen_silicon_program(si, &prog, args, 2, &three);
	lumen_silicon_op(si, &prog.op, 3, 0, &direct);
	CHECK(CLOSE(three.seconds, direct.seconds));
	CHECK(CLOSE(three.macs, 256.0 * 256 * 3));
	CHECK(CLOSE(whole.macs, 256.0 * 256 * 16));
}
