// SPDX-License-Identifier: MIT
/*
 * The validator: every opcode's valid form is accepted, the bytes each
 * region must hold match sizes worked out by hand below, and each way a
 * program can be malformed is rejected with its own reason, op and operand.
 */
#include <stdlib.h>

#include "lumen_test.h"

#include "lumen_ops.h"
#include "lumen_validate.h"
#include "validate_fixtures.h"

#define NO_OP		(~0U)
#define NO_OPERAND	(~0U)
#define DST		0U
#define SRC(n)		(1U + (n))

static struct lumen_validation validate(const struct prog_builder *pb)
{
	struct lumen_validation v;
	int ret;

	memset(&v, 0xa5, sizeof(v));
	ret = lumen_validate(pb->buf, pb->size, &v);
	/* the return and v.error must always agree */
	if (ret != (int)v.error)
		v.error = LUMEN_VERR_COUNT;
	return v;
}

#define EXPECT_REJECT(pb, err, op, opnd) do {				\
	struct lumen_validation v_ = validate(pb);			\
	CHECK_MSG(v_.error == (err), "error %u (%s), want %u (%s)",	\
		  v_.error, lumen_verr_str(v_.error), (uint32_t)(err),	\
		  lumen_verr_str(err));					\
	CHECK_EQ(v_.error_op, (op));					\
	CHECK_EQ(v_.error_operand, (opnd));				\
} while (0)

#define EXPECT_VALID(pb) do {						\
	struct lumen_validation v_ = validate(pb);			\
	CHECK_MSG(v_.error == LUMEN_VERR_OK, "error %u (%s) op %u operand %u", \
		  v_.error, lumen_verr_str(v_.error), v_.error_op,	\
		  v_.error_operand);					\
	CHECK_EQ(v_.error_op, NO_OP);					\
	CHECK_EQ(v_.error_operand, NO_OPERAND);				\
} while (0)

static void accept_opcode(uint16_t opcode)
{
	struct prog_builder pb;
	struct lumen_validation v;

	fx_prog(&pb, opcode);
	v = validate(&pb);
	CHECK_MSG(v.error == LUMEN_VERR_OK, "opcode %u: %s (op %u operand %u)",
		  opcode, lumen_verr_str(v.error), v.error_op,
		  v.error_operand);
	CHECK_EQ(v.op_count, 2);
	CHECK_EQ(v.error_op, NO_OP);
	pb_free(&pb);
}

TEST(valid_nop) { accept_opcode(LUMEN_OP_NOP); }
TEST(valid_embed) { accept_opcode(LUMEN_OP_EMBED); }
TEST(valid_matmul) { accept_opcode(LUMEN_OP_MATMUL); }
TEST(valid_rmsnorm) { accept_opcode(LUMEN_OP_RMSNORM); }
TEST(valid_rope) { accept_opcode(LUMEN_OP_ROPE); }
TEST(valid_kv_write) { accept_opcode(LUMEN_OP_KV_WRITE); }
TEST(valid_attention) { accept_opcode(LUMEN_OP_ATTENTION); }
TEST(valid_swiglu) { accept_opcode(LUMEN_OP_SWIGLU); }
TEST(valid_add) { accept_opcode(LUMEN_OP_ADD); }
TEST(valid_mul) { accept_opcode(LUMEN_OP_MUL); }
TEST(valid_copy) { accept_opcode(LUMEN_OP_COPY); }
TEST(valid_softmax) { accept_opcode(LUMEN_OP_SOFTMAX); }
TEST(valid_argmax) { accept_opcode(LUMEN_OP_ARGMAX); }
TEST(valid_topk) { accept_opcode(LUMEN_OP_TOPK); }
TEST(valid_geglu) { accept_opcode(LUMEN_OP_GEGLU); }

TEST(valid_every_opcode_in_one_program)
{
	struct prog_builder pb;
	struct lumen_validation v;
	uint16_t opc;

	fx_init(&pb);
	for (opc = 0; opc < LUMEN_OP_COUNT; opc++)
		fx_add_op(&pb, opc);
	v = validate(&pb);
	CHECK_EQ(v.error, LUMEN_VERR_OK);
	CHECK_EQ(v.op_count, LUMEN_OP_COUNT);
	pb_free(&pb);
}

TEST(valid_variants)
{
	struct prog_builder pb;
	struct lumen_op *op;

	/* MATMUL with every weight dtype, residual in place, last row */
	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->flags = LUMEN_OPF_RESIDUAL | LUMEN_OPF_LAST_ROW;
	op->src[0] = pb_tensor(LUMEN_DTYPE_Q8_0, FX_WEIGHTS, 0, FX_D, FX_N);
	op->dst.dims[1] = 1;
	op->src[2] = op->dst;
	EXPECT_VALID(&pb);
	op->src[0] = pb_tensor(LUMEN_DTYPE_F16, FX_WEIGHTS, 0, FX_D, FX_N);
	EXPECT_VALID(&pb);
	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 0, FX_D, FX_N);
	EXPECT_VALID(&pb);
	pb_free(&pb);

	/* SWIGLU in place on up instead of gate; ROPE NeoX, partial n_rot */
	op = fx_prog(&pb, LUMEN_OP_SWIGLU);
	op->dst = op->src[1];
	EXPECT_VALID(&pb);
	pb_free(&pb);
	op = fx_prog(&pb, LUMEN_OP_ROPE);
	op->flags = LUMEN_OPF_ROPE_NEOX;
	op->params[LUMEN_P_N_ROT] = 2;
	EXPECT_VALID(&pb);
	pb_free(&pb);

	/* ROPE with per-pair frequency factors (llama3 / linear scaling) */
	op = fx_prog(&pb, LUMEN_OP_ROPE);
	op->flags = LUMEN_OPF_ROPE_FACTORS;
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 0, FX_HD / 2, 1);
	EXPECT_VALID(&pb);
	pb_free(&pb);

	/* F32 KV cache and F32 caches for attention */
	op = fx_prog(&pb, LUMEN_OP_KV_WRITE);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, FX_KV, 0, FX_KV_DIM, FX_CTX);
	EXPECT_VALID(&pb);
	pb_free(&pb);

	/* the same bytes in two regions do not alias */
	op = fx_prog(&pb, LUMEN_OP_COPY);
	op->dst = op->src[0];
	op->dst.region = FX_KV;
	EXPECT_VALID(&pb);
	pb_free(&pb);

	/* TOPK with the largest k, over a row exactly that long */
	op = fx_prog(&pb, LUMEN_OP_TOPK);
	op->params[LUMEN_P_K] = LUMEN_MAX_TOPK;
	op->src[0].dims[0] = LUMEN_MAX_TOPK;
	op->dst = pb_tensor(LUMEN_DTYPE_I32, FX_ACT, FX_SLOT,
			    2 * LUMEN_MAX_TOPK, FX_ROWS);
	EXPECT_VALID(&pb);
	pb_free(&pb);
}

/* ---- sizes and extents ---- */

TEST(type_sizes)
{
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_F32), 4);
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_F16), 2);
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_Q4_0), 18);
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_Q8_0), 34);
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_I32), 4);
	CHECK_EQ(lumen_type_size(4), 0);	/* GGUF's removed Q4_2 */
	CHECK_EQ(lumen_type_size(255), 0);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_F32), 1);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_F16), 1);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_Q4_0), 32);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_Q8_0), 32);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_I32), 1);
}

TEST(tensor_extent)
{
	struct lumen_tensor t = pb_tensor(LUMEN_DTYPE_F32, 0, 10, 64, 4);
	uint64_t end = 0;

	/* 10 + 3 rows of 256 + one row of 256 */
	REQUIRE_EQ(lumen_tensor_extent(&t, 4, &end), 0);
	CHECK_EQ(end, 10 + 4 * 256);
	REQUIRE_EQ(lumen_tensor_extent(&t, 2, &end), 0);
	CHECK_EQ(end, 10 + 2 * 256);
	/* padded rows: the last row ends at its data, not at its stride */
	t.strides[1] = 1000;
	REQUIRE_EQ(lumen_tensor_extent(&t, 4, &end), 0);
	CHECK_EQ(end, 10 + 3 * 1000 + 256);
	/* broadcast: stride 0 reads one row however many there are */
	t.strides[1] = 0;
	REQUIRE_EQ(lumen_tensor_extent(&t, 4, &end), 0);
	CHECK_EQ(end, 10 + 256);

	CHECK_EQ(lumen_tensor_extent(&t, 0, &end), -1);
	CHECK_EQ(lumen_tensor_extent(&t, 5, &end), -1);
	t.dtype = 4;
	CHECK_EQ(lumen_tensor_extent(&t, 1, &end), -1);
	t = pb_tensor(LUMEN_DTYPE_Q4_0, 0, 0, 64, 2);
	t.offset = ~0ULL - 71;	/* 2 rows of 36 bytes end one past 2^64 */
	CHECK_EQ(lumen_tensor_extent(&t, 2, &end), -1);
	t.offset = ~0ULL - 72;
	REQUIRE_EQ(lumen_tensor_extent(&t, 2, &end), 0);
	CHECK_EQ(end, ~0ULL);
}

TEST(region_sizes_matmul_q4_0)
{
	struct prog_builder pb;
	struct lumen_validation v;

	fx_prog(&pb, LUMEN_OP_MATMUL);
	v = validate(&pb);
	REQUIRE_EQ(v.error, LUMEN_VERR_OK);
	/* W: 96 rows of 64/32 = 2 blocks of 18 bytes */
	CHECK_EQ(v.region_size[FX_WEIGHTS], 96 * 2 * 18);
	/* dst at 4096, 4 rows of 96 floats; x below it */
	CHECK_EQ(v.region_size[FX_ACT], 4096 + 4 * 96 * 4);
	/* rows_arg slot 0 */
	CHECK_EQ(v.region_size[FX_ARGS], 4);
	CHECK_EQ(v.region_size[FX_KV], 0);
	CHECK_EQ(v.regions_used, (1 << FX_WEIGHTS) | (1 << FX_ACT) |
				 (1 << FX_ARGS));
	CHECK_EQ(v.regions_written, 1 << FX_ACT);
	pb_free(&pb);
}

TEST(region_sizes_q8_0_embed_and_arg_slots)
{
	struct prog_builder pb;
	struct lumen_validation v;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_EMBED);
	op->src[0] = pb_tensor(LUMEN_DTYPE_Q8_0, FX_WEIGHTS, 6, 64, 10);
	op->rows_arg = 9;
	v = validate(&pb);
	REQUIRE_EQ(v.error, LUMEN_VERR_OK);
	/* 6 + 10 rows of 2 blocks of 34 bytes */
	CHECK_EQ(v.region_size[FX_WEIGHTS], 6 + 10 * 2 * 34);
	/* ids at 64 in the args region: 4 I32 = 80 > 10 slots = 40 */
	CHECK_EQ(v.region_size[FX_ARGS], 80);
	CHECK_EQ(v.regions_written, 1 << FX_ACT);

	op = fx_add_op(&pb, LUMEN_OP_ROPE);
	op->rows_arg = 7;
	op->pos_arg = 200;
	v = validate(&pb);
	REQUIRE_EQ(v.error, LUMEN_VERR_OK);
	/* slot 200 is the highest read: 201 words */
	CHECK_EQ(v.region_size[FX_ARGS], 201 * 4);
	pb_free(&pb);
}

TEST(region_sizes_args_unused_without_slots)
{
	struct prog_builder pb;
	struct lumen_validation v;

	fx_prog(&pb, LUMEN_OP_ADD);
	v = validate(&pb);
	REQUIRE_EQ(v.error, LUMEN_VERR_OK);
	CHECK_EQ(v.region_size[FX_ARGS], 0);
	CHECK_EQ(v.regions_used, (1 << FX_WEIGHTS) | (1 << FX_ACT));
	pb_free(&pb);
}

TEST(region_sizes_broadcast_stride0)
{
	struct prog_builder pb;
	struct lumen_validation v;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ADD);
	/* a full-shape src1 whose rows all read the same 64 floats */
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 100, FX_D, FX_ROWS);
	op->src[1].strides[1] = 0;
	v = validate(&pb);
	REQUIRE_EQ(v.error, LUMEN_VERR_OK);
	CHECK_EQ(v.region_size[FX_WEIGHTS], 100 + 64 * 4);
	pb_free(&pb);
}

TEST(region_sizes_last_row)
{
	struct prog_builder pb;
	struct lumen_validation v;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->flags = LUMEN_OPF_LAST_ROW;
	op->dst = pb_tensor(LUMEN_DTYPE_F32, FX_ACT, 8000, FX_N, 1);
	v = validate(&pb);
	REQUIRE_EQ(v.error, LUMEN_VERR_OK);
	/* one row of logits */
	CHECK_EQ(v.region_size[FX_ACT], 8000 + 96 * 4);
	pb_free(&pb);
}

TEST(region_sizes_4d_strided)
{
	struct prog_builder pb;
	struct lumen_validation v;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_MUL);
	/* dst [8, 4, 2, 3] with padded rows and planes */
	op->dst.offset = 5000;
	op->dst.strides[1] = 64;
	op->dst.strides[2] = 512;
	op->dst.strides[3] = 1024;
	v = validate(&pb);
	REQUIRE_EQ(v.error, LUMEN_VERR_OK);
	CHECK_EQ(v.region_size[FX_ACT], 5000 + 3 * 64 + 1 * 512 + 2 * 1024 + 32);
	/* src1 [8, 1, 2, 1]: 2 rows of 32 bytes */
	CHECK_EQ(v.region_size[FX_WEIGHTS], 64);
	pb_free(&pb);
}

TEST(region_sizes_max_over_ops)
{
	struct prog_builder pb;
	struct lumen_validation v;
	struct lumen_op *op;

	fx_prog(&pb, LUMEN_OP_KV_WRITE);
	op = fx_add_op(&pb, LUMEN_OP_ATTENTION);
	(void)op;
	v = validate(&pb);
	REQUIRE_EQ(v.error, LUMEN_VERR_OK);
	/* V cache at 4096: 16 rows of 32 halfs */
	CHECK_EQ(v.region_size[FX_KV], 4096 + 16 * 32 * 2);
	CHECK_EQ(v.regions_written, (1 << FX_ACT) | (1 << FX_KV));
	/* rows_arg 0 and pos_arg 1 */
	CHECK_EQ(v.region_size[FX_ARGS], 8);
	pb_free(&pb);
}

/* ---- header errors ---- */

TEST(reject_truncated_header)
{
	struct prog_builder pb;
	struct lumen_validation v;

	fx_prog(&pb, LUMEN_OP_NOP);
	memset(&v, 0, sizeof(v));
	CHECK_EQ(lumen_validate(pb.buf, sizeof(struct lumen_prog_header) - 1, &v),
		 LUMEN_VERR_TOO_SMALL);
	CHECK_EQ(v.error, LUMEN_VERR_TOO_SMALL);
	CHECK_EQ(v.error_op, NO_OP);
	CHECK_EQ(lumen_validate(NULL, 0, &v), LUMEN_VERR_TOO_SMALL);
	pb_free(&pb);
}

TEST(reject_bad_magic)
{
	struct prog_builder pb;

	fx_prog(&pb, LUMEN_OP_NOP);
	pb_header(&pb)->magic = 0x47504e4d;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_MAGIC, NO_OP, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_bad_version)
{
	struct prog_builder pb;

	fx_prog(&pb, LUMEN_OP_NOP);
	pb_header(&pb)->isa_version = 2;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_VERSION, NO_OP, NO_OPERAND);
	pb_header(&pb)->isa_version = 0;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_VERSION, NO_OP, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_bad_header_size)
{
	struct prog_builder pb;

	fx_prog(&pb, LUMEN_OP_NOP);
	/* a larger header of a later version is not v1 */
	pb_header(&pb)->header_size = sizeof(struct lumen_prog_header) + 8;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_HEADER_SIZE, NO_OP, NO_OPERAND);
	pb_header(&pb)->header_size = 0;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_HEADER_SIZE, NO_OP, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_bad_op_size)
{
	struct prog_builder pb;

	fx_prog(&pb, LUMEN_OP_NOP);
	pb_header(&pb)->op_size = sizeof(struct lumen_op) - 8;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_OP_SIZE, NO_OP, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_op_count_zero)
{
	struct prog_builder pb;

	fx_init(&pb);
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_OP_COUNT, NO_OP, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_op_count_huge)
{
	struct prog_builder pb;

	fx_prog(&pb, LUMEN_OP_NOP);
	pb_header(&pb)->op_count = LUMEN_MAX_OPS + 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_OP_COUNT, NO_OP, NO_OPERAND);
	/* a count whose byte size wraps 32 bits is refused, not multiplied */
	pb_header(&pb)->op_count = 0xffffffff;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_OP_COUNT, NO_OP, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_size_mismatch)
{
	struct prog_builder pb;
	struct lumen_validation v;

	fx_prog(&pb, LUMEN_OP_MATMUL);
	/* the last op cut short */
	CHECK_EQ(lumen_validate(pb.buf, pb.size - 1, &v),
		 LUMEN_VERR_SIZE_MISMATCH);
	CHECK_EQ(v.error_op, NO_OP);
	/* trailing bytes after the last op */
	pb.buf = realloc(pb.buf, pb.size + 8);
	REQUIRE(pb.buf != NULL);
	memset(pb.buf + pb.size, 0, 8);
	CHECK_EQ(lumen_validate(pb.buf, pb.size + 8, &v),
		 LUMEN_VERR_SIZE_MISMATCH);
	CHECK_EQ(lumen_validate(pb.buf, pb.size, &v), LUMEN_VERR_OK);
	pb_header(&pb)->op_count = 3;
	EXPECT_REJECT(&pb, LUMEN_VERR_SIZE_MISMATCH, NO_OP, NO_OPERAND);
	pb_header(&pb)->op_count = 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_SIZE_MISMATCH, NO_OP, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_region_count_zero)
{
	struct prog_builder pb;

	fx_prog(&pb, LUMEN_OP_NOP);
	pb_header(&pb)->region_count = 0;
	pb_header(&pb)->args_region = 0;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_REGION_COUNT, NO_OP, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_region_count_17)
{
	struct prog_builder pb;

	fx_prog(&pb, LUMEN_OP_NOP);
	pb_header(&pb)->region_count = LUMEN_MAX_REGIONS + 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_REGION_COUNT, NO_OP, NO_OPERAND);
	pb_header(&pb)->region_count = LUMEN_MAX_REGIONS;
	EXPECT_VALID(&pb);
	pb_free(&pb);
}

TEST(reject_args_region_out_of_range)
{
	struct prog_builder pb;

	fx_prog(&pb, LUMEN_OP_NOP);
	pb_header(&pb)->args_region = FX_REGIONS;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_ARGS_REGION, NO_OP, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_header_reserved)
{
	struct prog_builder pb;

	fx_prog(&pb, LUMEN_OP_NOP);
	pb_header(&pb)->reserved[7] = 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_HEADER_RESERVED, NO_OP, NO_OPERAND);
	pb_header(&pb)->reserved[7] = 0;
	pb_header(&pb)->flags = 0x80000000;
	EXPECT_REJECT(&pb, LUMEN_VERR_HEADER_RESERVED, NO_OP, NO_OPERAND);
	pb_free(&pb);
}

/* ---- op errors: the op under test is op 1 ---- */

TEST(reject_bad_opcode)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_NOP);
	op->opcode = LUMEN_OP_COUNT;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_OPCODE, 1, NO_OPERAND);
	op->opcode = 0xffff;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_OPCODE, 1, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_flag_not_allowed)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->flags = LUMEN_OPF_ROPE_NEOX;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_FLAGS, 1, NO_OPERAND);
	op->flags = 1U << 15;	/* no flag of this ISA */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_FLAGS, 1, NO_OPERAND);
	pb_free(&pb);

	/* LAST_ROW only where the semantics define it */
	op = fx_prog(&pb, LUMEN_OP_ROPE);
	op->flags = LUMEN_OPF_LAST_ROW;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_FLAGS, 1, NO_OPERAND);
	pb_free(&pb);
	op = fx_prog(&pb, LUMEN_OP_EMBED);
	op->flags = LUMEN_OPF_LAST_ROW;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_FLAGS, 1, NO_OPERAND);
	pb_free(&pb);
}

TEST(rmsnorm_groups_must_divide_the_row_and_size_the_weight)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_RMSNORM);
	op->params[LUMEN_P_N_GROUP] = 4;
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 0, FX_D / 4, 1);
	EXPECT_VALID(&pb);
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 0, FX_D, 1);
	EXPECT_REJECT(&pb, LUMEN_VERR_SHAPE, 1, 2);
	op->params[LUMEN_P_N_GROUP] = FX_D + 1;	/* does not divide the row */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	pb_free(&pb);
}

TEST(attention_window_is_any_length)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ATTENTION);
	op->params[LUMEN_P_WINDOW] = 1;
	EXPECT_VALID(&pb);
	op->params[LUMEN_P_WINDOW] = 0xffffffffu;
	EXPECT_VALID(&pb);
	pb_free(&pb);
}

TEST(reject_rope_factors_of_the_wrong_shape_or_absent)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ROPE);
	op->flags = LUMEN_OPF_ROPE_FACTORS;
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 0, FX_HD / 2 + 1, 1);
	EXPECT_REJECT(&pb, LUMEN_VERR_SHAPE, 1, 2);
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 0, FX_HD / 2, 2);
	EXPECT_REJECT(&pb, LUMEN_VERR_SHAPE, 1, 2);
	op->src[1] = pb_tensor(LUMEN_DTYPE_F16, FX_WEIGHTS, 0, FX_HD / 2, 1);
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, 2);
	memset(&op->src[1], 0, sizeof(op->src[1]));	/* the flag needs src1 */
	EXPECT_REJECT(&pb, LUMEN_VERR_ZERO_DIM, 1, 2);
	/* and without the flag src1 must stay all zero */
	op->flags = 0;
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 0, FX_HD / 2, 1);
	EXPECT_REJECT(&pb, LUMEN_VERR_UNUSED_TENSOR, 1, 2);
	pb_free(&pb);
}

TEST(reject_op_pad)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ADD);
	op->pad[1] = 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_OP_PAD, 1, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_unused_param_nonzero)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ROPE);
	op->params[3] = 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_OP_PAD, 1, NO_OPERAND);
	pb_free(&pb);
	/* SOFTMAX's scale is params[2]: params[0] means nothing */
	op = fx_prog(&pb, LUMEN_OP_SOFTMAX);
	op->params[0] = 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_OP_PAD, 1, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_arg_slot_too_big)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ROPE);
	op->pos_arg = LUMEN_MAX_ARG_SLOTS;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_ARG_SLOT, 1, NO_OPERAND);
	op->pos_arg = LUMEN_MAX_ARG_SLOTS - 1;
	op->rows_arg = 0xfffe;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_ARG_SLOT, 1, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_pos_arg_on_add)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ADD);
	op->pos_arg = 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_ARG_NOT_ALLOWED, 1, NO_OPERAND);
	pb_free(&pb);
	op = fx_prog(&pb, LUMEN_OP_NOP);
	op->rows_arg = 0;
	EXPECT_REJECT(&pb, LUMEN_VERR_ARG_NOT_ALLOWED, 1, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_unused_tensor_nonzero)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ADD);
	((uint8_t *)&op->src[2])[sizeof(op->src[2]) - 1] = 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_UNUSED_TENSOR, 1, SRC(2));
	pb_free(&pb);
	/* src2 is the residual only with the flag */
	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->src[2] = op->dst;
	EXPECT_REJECT(&pb, LUMEN_VERR_UNUSED_TENSOR, 1, SRC(2));
	pb_free(&pb);
	op = fx_prog(&pb, LUMEN_OP_NOP);
	op->dst.dims[0] = 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_UNUSED_TENSOR, 1, DST);
	pb_free(&pb);
}

TEST(reject_tensor_pad)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_RMSNORM);
	op->src[1].pad2 = 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_TENSOR_PAD, 1, SRC(1));
	op->src[1].pad2 = 0;
	op->dst.pad = 0x100;
	EXPECT_REJECT(&pb, LUMEN_VERR_TENSOR_PAD, 1, DST);
	pb_free(&pb);
}

TEST(reject_region_out_of_range)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_SWIGLU);
	op->src[1].region = FX_REGIONS;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_REGION, 1, SRC(1));
	op->src[1].region = 255;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_REGION, 1, SRC(1));
	pb_free(&pb);
}

TEST(reject_dtype_wrong_for_operand)
{
	struct prog_builder pb;
	struct lumen_op *op;

	/* activations are F32: a quantized x is not */
	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->src[1] = pb_tensor(LUMEN_DTYPE_Q8_0, FX_ACT, 0, FX_D, FX_ROWS);
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, SRC(1));
	/* dtype 4 is not a type (GGUF's removed Q4_2) */
	op->src[0].dtype = 4;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, SRC(0));
	pb_free(&pb);

	op = fx_prog(&pb, LUMEN_OP_EMBED);
	op->src[1].dtype = LUMEN_DTYPE_F32;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, SRC(1));
	pb_free(&pb);

	op = fx_prog(&pb, LUMEN_OP_ARGMAX);
	op->dst.dtype = LUMEN_DTYPE_F32;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, DST);
	pb_free(&pb);
}

TEST(reject_attention_mixed_cache_dtypes)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ATTENTION);
	op->src[2] = pb_tensor(LUMEN_DTYPE_F32, FX_KV, FX_SLOT, FX_KV_DIM,
			       FX_CTX);
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, SRC(2));
	pb_free(&pb);
}

TEST(reject_zero_dim)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ADD);
	op->src[0].dims[3] = 0;
	EXPECT_REJECT(&pb, LUMEN_VERR_ZERO_DIM, 1, SRC(0));
	pb_free(&pb);
}

TEST(reject_q4_0_row_of_172)
{
	struct prog_builder pb;
	struct lumen_op *op;

	/* stories260K's ffn_down: rows of 172 cannot be Q4_0 */
	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->src[0].dims[0] = 172;
	op->src[1].dims[0] = 172;
	EXPECT_REJECT(&pb, LUMEN_VERR_BLOCK_ALIGN, 1, SRC(0));
	/* kept F16 by the compiler, it is fine */
	op->src[0] = pb_tensor(LUMEN_DTYPE_F16, FX_WEIGHTS, 0, 172, FX_N);
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_ACT, 0, 172, FX_ROWS);
	EXPECT_VALID(&pb);
	pb_free(&pb);
}

TEST(reject_strides0_wrong)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->src[0].strides[0] = 1;	/* an element, not the 18-byte block */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_STRIDE0, 1, SRC(0));
	pb_free(&pb);
}

TEST(reject_misaligned_offset)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->src[1].offset += 2;		/* F32 activations at a 2-byte boundary */
	EXPECT_REJECT(&pb, LUMEN_VERR_MISALIGNED, 1, SRC(1));
	pb_free(&pb);
}

TEST(reject_misaligned_stride)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->src[0].strides[1] += 1;	/* Q rows must keep the f16 scale aligned */
	EXPECT_REJECT(&pb, LUMEN_VERR_MISALIGNED, 1, SRC(0));
	pb_free(&pb);
}

TEST(reject_dst_overlap_rows)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_SOFTMAX);
	op->dst.offset = FX_SLOT;
	op->dst.strides[1] = FX_D * 4 - 4;
	EXPECT_REJECT(&pb, LUMEN_VERR_DST_OVERLAP, 1, DST);
	/* a source may overlap itself: all rows read one */
	op->dst.strides[1] = FX_D * 4;
	op->src[0].strides[1] = 0;
	EXPECT_VALID(&pb);
	pb_free(&pb);
}

TEST(reject_dst_overlap_planes)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_MUL);
	/* planes must step over all 4 rows of 32 bytes */
	op->dst.strides[2] = 4 * 32 - 4;
	EXPECT_REJECT(&pb, LUMEN_VERR_DST_OVERLAP, 1, DST);
	pb_free(&pb);

	/*
	 * dims[1] == 1 with a stride of 0 must not let dims[2] collapse
	 * onto the same row (the rule applied to strides[1] * dims[1] alone
	 * would pass it).
	 */
	op = fx_prog(&pb, LUMEN_OP_ADD);
	op->src[0].dims[1] = 1;
	op->src[0].dims[2] = 2;
	op->src[1].dims[1] = 1;
	op->dst = op->src[0];
	op->dst.offset = FX_SLOT;
	op->dst.strides[1] = 0;
	op->dst.strides[2] = 0;
	EXPECT_REJECT(&pb, LUMEN_VERR_DST_OVERLAP, 1, DST);
	op->dst.strides[2] = FX_D * 4;
	EXPECT_VALID(&pb);
	pb_free(&pb);
}

TEST(reject_shape_matmul_k)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->src[1].dims[0] = FX_D + 32;
	op->src[1].strides[1] = (FX_D + 32) * 4;
	EXPECT_REJECT(&pb, LUMEN_VERR_SHAPE, 1, SRC(1));
	pb_free(&pb);
}

TEST(reject_shape_rows_disagree)
{
	struct prog_builder pb;
	struct lumen_op *op;

	/* dst capacity differs from the row operand's */
	op = fx_prog(&pb, LUMEN_OP_SWIGLU);
	op->src[1].dims[1] = FX_ROWS - 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_SHAPE, 1, SRC(1));
	pb_free(&pb);

	/* LAST_ROW writes one row: a dst of 4 is refused */
	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->flags = LUMEN_OPF_LAST_ROW;
	EXPECT_REJECT(&pb, LUMEN_VERR_SHAPE, 1, DST);
	op->dst.dims[1] = 1;
	EXPECT_VALID(&pb);
	pb_free(&pb);
}

TEST(reject_shape_3d_on_2d_op)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_RMSNORM);
	op->src[0].dims[2] = 2;
	EXPECT_REJECT(&pb, LUMEN_VERR_SHAPE, 1, SRC(0));
	pb_free(&pb);
}

TEST(reject_shape_broadcast)
{
	struct prog_builder pb;
	struct lumen_op *op;

	/* src1 dims are 1 or src0's: 2 of 4 rows is neither */
	op = fx_prog(&pb, LUMEN_OP_ADD);
	op->src[1].dims[1] = 2;
	EXPECT_REJECT(&pb, LUMEN_VERR_SHAPE, 1, SRC(1));
	pb_free(&pb);
}

TEST(reject_n_head_not_dividing)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ROPE);
	op->params[LUMEN_P_N_HEAD] = 3;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	op->params[LUMEN_P_N_HEAD] = 0;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	pb_free(&pb);

	op = fx_prog(&pb, LUMEN_OP_ATTENTION);
	op->params[LUMEN_P_N_KV_HEAD] = 3;	/* 4 % 3 */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_attention_cache_width)
{
	struct prog_builder pb;
	struct lumen_op *op;

	/* n_kv = 4 heads of 16 need a 64-wide cache, not 32 */
	op = fx_prog(&pb, LUMEN_OP_ATTENTION);
	op->params[LUMEN_P_N_KV_HEAD] = FX_HEADS;
	EXPECT_REJECT(&pb, LUMEN_VERR_SHAPE, 1, SRC(1));
	pb_free(&pb);
}

TEST(reject_n_rot_odd)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ROPE);
	op->params[LUMEN_P_N_ROT] = 15;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	op->params[LUMEN_P_N_ROT] = FX_HD + 2;	/* beyond the head */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	op->params[LUMEN_P_N_ROT] = 0;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_float_params)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_RMSNORM);
	op->params[LUMEN_P_EPS] = 0;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	op->params[LUMEN_P_EPS] = 0x80000000;	/* -0 */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	op->params[LUMEN_P_EPS] = pb_f32_bits(-1e-5f);
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	op->params[LUMEN_P_EPS] = 0x7f800000;	/* +inf */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	op->params[LUMEN_P_EPS] = 0x7fc00000;	/* NaN */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	op->params[LUMEN_P_EPS] = 1;		/* smallest subnormal */
	EXPECT_VALID(&pb);
	pb_free(&pb);

	op = fx_prog(&pb, LUMEN_OP_ROPE);
	op->params[LUMEN_P_FREQ_BASE] = 0;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	pb_free(&pb);

	op = fx_prog(&pb, LUMEN_OP_SOFTMAX);
	op->params[LUMEN_P_SCALE] = 0xff800000;	/* -inf */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	pb_free(&pb);
}

TEST(reject_topk_k_0_and_65)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_TOPK);
	op->params[LUMEN_P_K] = 0;
	op->dst.dims[0] = 2;	/* so only k is wrong */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	op->params[LUMEN_P_K] = LUMEN_MAX_TOPK + 1;
	op->src[0].dims[0] = 256;
	op->src[0].strides[1] = 256 * 4;
	op->dst.dims[0] = 2 * (LUMEN_MAX_TOPK + 1);
	op->dst.strides[1] = op->dst.dims[0] * 4;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	pb_free(&pb);

	/* k above the row length */
	op = fx_prog(&pb, LUMEN_OP_TOPK);
	op->src[0].dims[0] = FX_TOPK - 1;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_PARAM, 1, NO_OPERAND);
	pb_free(&pb);

	/* dst must hold 2k per row */
	op = fx_prog(&pb, LUMEN_OP_TOPK);
	op->dst.dims[0] = FX_TOPK;
	EXPECT_REJECT(&pb, LUMEN_VERR_SHAPE, 1, DST);
	pb_free(&pb);
}

TEST(reject_extent_overflow_u64)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_ADD);
	op->src[1].offset = ~0ULL - 103;	/* 256 bytes do not fit */
	EXPECT_REJECT(&pb, LUMEN_VERR_OVERFLOW, 1, SRC(1));
	op->src[1].offset = 0;
	op->src[0].strides[1] = 1ULL << 63;	/* 3 * 2^63 */
	EXPECT_REJECT(&pb, LUMEN_VERR_OVERFLOW, 1, SRC(0));
	pb_free(&pb);
}

TEST(reject_illegal_alias_partial)
{
	struct prog_builder pb;
	struct lumen_op *op;

	/* dst one float into x: neither identical nor disjoint */
	op = fx_prog(&pb, LUMEN_OP_RMSNORM);
	op->dst = op->src[0];
	op->dst.offset = 4;
	EXPECT_REJECT(&pb, LUMEN_VERR_ALIAS, 1, SRC(0));
	/* identical is the in-place form RMSNORM allows */
	op->dst.offset = 0;
	EXPECT_VALID(&pb);
	pb_free(&pb);
}

TEST(reject_illegal_alias_not_in_place_op)
{
	struct prog_builder pb;
	struct lumen_op *op;

	/* MATMUL may not write over its x, even exactly */
	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->src[0] = pb_tensor(LUMEN_DTYPE_Q4_0, FX_WEIGHTS, 0, FX_D, FX_D);
	op->dst = op->src[1];
	EXPECT_REJECT(&pb, LUMEN_VERR_ALIAS, 1, SRC(1));
	pb_free(&pb);

	/* ATTENTION's dst must not touch q */
	op = fx_prog(&pb, LUMEN_OP_ATTENTION);
	op->dst = op->src[0];
	EXPECT_REJECT(&pb, LUMEN_VERR_ALIAS, 1, SRC(0));
	pb_free(&pb);

	/* COPY has no in-place form */
	op = fx_prog(&pb, LUMEN_OP_COPY);
	op->dst = op->src[0];
	EXPECT_REJECT(&pb, LUMEN_VERR_ALIAS, 1, SRC(0));
	pb_free(&pb);
}

TEST(reject_illegal_alias_in_place_needs_identity)
{
	struct prog_builder pb;
	struct lumen_op *op;

	/* same bytes, other strides: the residual is not the dst */
	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->flags = LUMEN_OPF_RESIDUAL;
	op->src[2] = op->dst;
	EXPECT_VALID(&pb);
	op->src[2].strides[2] = 0;
	EXPECT_REJECT(&pb, LUMEN_VERR_ALIAS, 1, SRC(2));
	pb_free(&pb);
}

TEST(error_points_at_the_failing_op)
{
	struct prog_builder pb;
	struct lumen_validation v;
	struct lumen_op *op;

	fx_prog(&pb, LUMEN_OP_MATMUL);
	fx_add_op(&pb, LUMEN_OP_SOFTMAX);
	op = fx_add_op(&pb, LUMEN_OP_COPY);
	op->dst.dims[0] = 1;
	op = fx_add_op(&pb, LUMEN_OP_NOP);
	op->opcode = 99;
	v = validate(&pb);
	CHECK_EQ(v.error, LUMEN_VERR_SHAPE);
	CHECK_EQ(v.error_op, 3);
	CHECK_EQ(v.error_operand, DST);
	CHECK_EQ(v.op_count, 5);
	/* nothing half-computed is reported for a rejected program */
	CHECK_EQ(v.regions_used, 0);
	CHECK_EQ(v.regions_written, 0);
	CHECK_EQ(v.region_size[FX_ACT], 0);
	pb_free(&pb);
}

TEST(verr_strings_distinct)
{
	uint32_t i, j;

	for (i = 0; i < LUMEN_VERR_COUNT; i++) {
		const char *s = lumen_verr_str(i);

		REQUIRE(s != NULL);
		CHECK_MSG(s[0] != '\0', "error %u has no text", i);
		for (j = 0; j < i; j++)
			CHECK_MSG(strcmp(s, lumen_verr_str(j)) != 0,
				  "errors %u and %u share \"%s\"", j, i, s);
	}
	REQUIRE(lumen_verr_str(LUMEN_VERR_COUNT) != NULL);
	CHECK(lumen_verr_str(LUMEN_VERR_COUNT)[0] != '\0');
	CHECK(lumen_verr_str(~0U) != NULL);
}

/* ---- GGUF's other block types, used in place ---- */

static const uint32_t new_dtypes[] = {
	LUMEN_DTYPE_Q4_1, LUMEN_DTYPE_Q5_0, LUMEN_DTYPE_Q5_1, LUMEN_DTYPE_Q4_K,
	LUMEN_DTYPE_Q5_K, LUMEN_DTYPE_Q6_K, LUMEN_DTYPE_BF16,
};

TEST(type_sizes_gguf_blocks)
{
	/* ggml's ggml_type numbers and block_* sizes */
	CHECK_EQ(LUMEN_DTYPE_Q4_1, 3);
	CHECK_EQ(LUMEN_DTYPE_Q5_0, 6);
	CHECK_EQ(LUMEN_DTYPE_Q5_1, 7);
	CHECK_EQ(LUMEN_DTYPE_Q4_K, 12);
	CHECK_EQ(LUMEN_DTYPE_Q5_K, 13);
	CHECK_EQ(LUMEN_DTYPE_Q6_K, 14);
	CHECK_EQ(LUMEN_DTYPE_BF16, 30);
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_Q4_1), 20);
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_Q5_0), 22);
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_Q5_1), 24);
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_Q4_K), 144);
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_Q5_K), 176);
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_Q6_K), 210);
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_BF16), 2);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_Q4_1), 32);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_Q5_0), 32);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_Q5_1), 32);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_Q4_K), 256);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_Q5_K), 256);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_Q6_K), 256);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_BF16), 1);
	/* types GGUF has and the NPU does not */
	CHECK_EQ(lumen_type_size(9), 0);	/* Q8_1 */
	CHECK_EQ(lumen_type_size(10), 0);	/* Q2_K */
	CHECK_EQ(lumen_type_size(15), 0);	/* Q8_K */
}

/* a MATMUL and an EMBED of @dtype with rows of @k */
static void weight_progs(struct prog_builder *pb, uint32_t dtype, uint32_t k,
			 int embed)
{
	struct lumen_op *op;

	if (embed) {
		op = fx_prog(pb, LUMEN_OP_EMBED);
		op->src[0] = pb_tensor(dtype, FX_WEIGHTS, 0, k, FX_VOCAB);
		op->dst = pb_tensor(LUMEN_DTYPE_F32, FX_ACT, 0, k, FX_ROWS);
	} else {
		op = fx_prog(pb, LUMEN_OP_MATMUL);
		op->src[0] = pb_tensor(dtype, FX_WEIGHTS, 0, k, FX_N);
		op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_ACT, 0, k, FX_ROWS);
		op->dst = pb_tensor(LUMEN_DTYPE_F32, FX_ACT, 4ull * k * FX_ROWS,
				    FX_N, FX_ROWS);
	}
}

TEST(accept_new_weight_dtypes_matmul_embed)
{
	struct prog_builder pb;
	struct lumen_validation v;

	for (size_t i = 0; i < sizeof(new_dtypes) / sizeof(new_dtypes[0]); i++) {
		uint32_t dt = new_dtypes[i], k = 512;

		for (int embed = 0; embed < 2; embed++) {
			weight_progs(&pb, dt, k, embed);
			CHECK_MSG(lumen_validate(pb.buf, pb.size, &v) == 0,
				  "%s %s: %s", lumen_isa_dtype_name(dt),
				  embed ? "EMBED" : "MATMUL", lumen_verr_str(v.error));
			/* the weights region holds exactly the rows of blocks */
			CHECK_EQ(v.region_size[FX_WEIGHTS],
				 (uint64_t)k / lumen_type_block(dt) * lumen_type_size(dt) *
				 (embed ? FX_VOCAB : FX_N));
			pb_free(&pb);
		}
	}
}

TEST(reject_new_dtypes_outside_weights)
{
	struct prog_builder pb;
	struct lumen_op *op;

	for (size_t i = 0; i < sizeof(new_dtypes) / sizeof(new_dtypes[0]); i++) {
		/* activations, norms and caches stay F32/F16 */
		op = fx_prog(&pb, LUMEN_OP_MATMUL);
		op->src[1].dtype = new_dtypes[i];
		op->src[1].strides[0] = lumen_type_size(new_dtypes[i]);
		EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, SRC(1));
		pb_free(&pb);
		op = fx_prog(&pb, LUMEN_OP_RMSNORM);
		op->src[1].dtype = new_dtypes[i];
		EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, SRC(1));
		pb_free(&pb);
	}
}

TEST(reject_k_quant_rows_not_multiple_of_256)
{
	static const uint32_t kq[] = { LUMEN_DTYPE_Q4_K, LUMEN_DTYPE_Q5_K,
				       LUMEN_DTYPE_Q6_K };
	struct prog_builder pb;

	for (size_t i = 0; i < 3; i++) {
		for (int embed = 0; embed < 2; embed++) {
			/* 288 = 9 blocks of 32: fine for Q4_0, not for a K-quant */
			weight_progs(&pb, kq[i], 288, embed);
			EXPECT_REJECT(&pb, LUMEN_VERR_BLOCK_ALIGN, 1, SRC(0));
			pb_free(&pb);
			weight_progs(&pb, kq[i], 768, embed);
			EXPECT_VALID(&pb);
			pb_free(&pb);
		}
	}
	/* the fallback types llama-quantize uses for such rows take them */
	weight_progs(&pb, LUMEN_DTYPE_Q5_1, 288, 0);
	EXPECT_VALID(&pb);
	pb_free(&pb);
	weight_progs(&pb, LUMEN_DTYPE_Q5_0, 288, 1);
	EXPECT_VALID(&pb);
	pb_free(&pb);
	/* 32-blocks reject rows of 48 */
	weight_progs(&pb, LUMEN_DTYPE_Q4_1, 48, 0);
	EXPECT_REJECT(&pb, LUMEN_VERR_BLOCK_ALIGN, 1, SRC(0));
	pb_free(&pb);
}

TEST(reject_new_dtype_strides0_wrong)
{
	struct prog_builder pb;
	struct lumen_op *op;

	weight_progs(&pb, LUMEN_DTYPE_Q6_K, 256, 0);
	op = pb_op_at(&pb, 1);
	op->src[0].strides[0] = 208;	/* Q6_K blocks are 210 bytes */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_STRIDE0, 1, SRC(0));
	pb_free(&pb);
}

/*
 * Q4_0x8 (Lumen's interleaved Q4_0): a MATMUL weight or an EMBED table of
 * whole groups of 8 packed rows, nothing else.
 */
TEST(q4_0x8_weight_of_whole_packed_groups)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->src[0].dtype = LUMEN_DTYPE_Q4_0_R8;
	EXPECT_VALID(&pb);
	/* a last group of 4 rows */
	op->src[0].dims[1] = FX_N - 4;
	op->dst.dims[0] = FX_N - 4;
	EXPECT_REJECT(&pb, LUMEN_VERR_ROW_GROUP, 1, SRC(0));
	op->src[0].dims[1] = FX_N;
	op->dst.dims[0] = FX_N;
	/* rows apart: a group's rows are one run of bytes */
	op->src[0].strides[1] += 18;
	EXPECT_REJECT(&pb, LUMEN_VERR_ROW_GROUP, 1, SRC(0));
	/* Q8_0x8: the same rules over 34-byte blocks */
	op->src[0].dtype = LUMEN_DTYPE_Q8_0_R8;
	op->src[0].strides[0] = 34;
	op->src[0].strides[1] = 34 * (FX_D / 32);
	op->src[0].strides[2] = op->src[0].strides[3] = op->src[0].strides[1] * FX_N;
	EXPECT_VALID(&pb);
	op->src[0].strides[1] += 34;
	EXPECT_REJECT(&pb, LUMEN_VERR_ROW_GROUP, 1, SRC(0));
	pb_free(&pb);

	op = fx_prog(&pb, LUMEN_OP_EMBED);
	op->src[0].dtype = LUMEN_DTYPE_Q4_0;
	op->src[0].strides[0] = 18;
	op->src[0].strides[1] = 18 * (FX_D / 32);
	EXPECT_VALID(&pb);
	op->src[0].dtype = LUMEN_DTYPE_Q4_0_R8;
	/* FX_VOCAB (10) rows: not whole groups */
	EXPECT_REJECT(&pb, LUMEN_VERR_ROW_GROUP, 1, SRC(0));
	pb_free(&pb);
}

TEST(reject_q4_0x8_outside_matmul_and_embed)
{
	struct prog_builder pb;
	struct lumen_op *op;

	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->src[1].dtype = LUMEN_DTYPE_Q4_0_R8;	/* activations */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, SRC(1));
	pb_free(&pb);
	op = fx_prog(&pb, LUMEN_OP_KV_WRITE);
	op->dst.dtype = LUMEN_DTYPE_Q8_0_R8;	/* a cache */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, DST);
	pb_free(&pb);
	op = fx_prog(&pb, LUMEN_OP_COPY);
	op->dst.dtype = LUMEN_DTYPE_Q4_0_R8;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, DST);
	pb_free(&pb);
	CHECK(!strcmp(lumen_isa_dtype_name(LUMEN_DTYPE_Q4_0_R8), "Q4_0x8"));
	CHECK(!strcmp(lumen_isa_dtype_name(LUMEN_DTYPE_Q8_0_R8), "Q8_0x8"));
}

/*
 * Q4_Kx8: Q4_K's block rules (rows of whole super-blocks, 144 bytes a
 * row's share) plus the interleaving's (whole packed groups), MATMUL
 * weights and EMBED tables only.
 */
TEST(q4_kx8_weight_of_whole_packed_groups_of_super_blocks)
{
	struct prog_builder pb;
	struct lumen_validation v;
	struct lumen_op *op;

	weight_progs(&pb, LUMEN_DTYPE_Q4_K_R8, 512, 0);
	CHECK_MSG(lumen_validate(pb.buf, pb.size, &v) == 0, "%s", lumen_verr_str(v.error));
	CHECK_EQ(v.region_size[FX_WEIGHTS], 2ull * 144 * FX_N);
	op = pb_op_at(&pb, 1);
	op->src[0].strides[1] += 144;	/* rows apart */
	EXPECT_REJECT(&pb, LUMEN_VERR_ROW_GROUP, 1, SRC(0));
	pb_free(&pb);
	weight_progs(&pb, LUMEN_DTYPE_Q4_K_R8, 288, 0);	/* 9 blocks of 32 */
	EXPECT_REJECT(&pb, LUMEN_VERR_BLOCK_ALIGN, 1, SRC(0));
	pb_free(&pb);
	weight_progs(&pb, LUMEN_DTYPE_Q4_K_R8, 512, 1);	/* FX_VOCAB rows */
	EXPECT_REJECT(&pb, LUMEN_VERR_ROW_GROUP, 1, SRC(0));
	pb_free(&pb);
	weight_progs(&pb, LUMEN_DTYPE_Q4_K_R8, 256, 0);
	op = pb_op_at(&pb, 1);
	op->src[0].strides[0] = 18;	/* a row's share of a super-block is 144 */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_STRIDE0, 1, SRC(0));
	pb_free(&pb);
	op = fx_prog(&pb, LUMEN_OP_COPY);
	op->dst.dtype = LUMEN_DTYPE_Q4_K_R8;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, DST);
	pb_free(&pb);
	op = fx_prog(&pb, LUMEN_OP_MATMUL);
	op->src[1].dtype = LUMEN_DTYPE_Q4_K_R8;	/* activations */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, SRC(1));
	pb_free(&pb);
	CHECK(!strcmp(lumen_isa_dtype_name(LUMEN_DTYPE_Q4_K_R8), "Q4_Kx8"));
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_Q4_K_R8), 144);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_Q4_K_R8), 256);
}

/* Q5_0x8: Q5_0's block rules (22 bytes a row's share) plus the interleaving's */
TEST(q5_0x8_weight_of_whole_packed_groups)
{
	struct prog_builder pb;
	struct lumen_validation v;
	struct lumen_op *op;

	weight_progs(&pb, LUMEN_DTYPE_Q5_0_R8, 96, 0);
	CHECK_MSG(lumen_validate(pb.buf, pb.size, &v) == 0, "%s", lumen_verr_str(v.error));
	CHECK_EQ(v.region_size[FX_WEIGHTS], 3ull * 22 * FX_N);
	op = pb_op_at(&pb, 1);
	op->src[0].strides[1] += 22;
	EXPECT_REJECT(&pb, LUMEN_VERR_ROW_GROUP, 1, SRC(0));
	pb_free(&pb);
	weight_progs(&pb, LUMEN_DTYPE_Q5_0_R8, 96, 1);	/* FX_VOCAB rows */
	EXPECT_REJECT(&pb, LUMEN_VERR_ROW_GROUP, 1, SRC(0));
	pb_free(&pb);
	op = fx_prog(&pb, LUMEN_OP_COPY);
	op->dst.dtype = LUMEN_DTYPE_Q5_0_R8;
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, DST);
	pb_free(&pb);
	CHECK(!strcmp(lumen_isa_dtype_name(LUMEN_DTYPE_Q5_0_R8), "Q5_0x8"));
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_Q5_0_R8), 22);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_Q5_0_R8), 32);
}

/* Q6_Kx8: Q6_K's block rules (210 bytes a row's share) plus the interleaving's */
TEST(q6_kx8_weight_of_whole_packed_groups_of_super_blocks)
{
	struct prog_builder pb;
	struct lumen_validation v;
	struct lumen_op *op;

	weight_progs(&pb, LUMEN_DTYPE_Q6_K_R8, 512, 0);
	CHECK_MSG(lumen_validate(pb.buf, pb.size, &v) == 0, "%s", lumen_verr_str(v.error));
	CHECK_EQ(v.region_size[FX_WEIGHTS], 2ull * 210 * FX_N);
	op = pb_op_at(&pb, 1);
	op->src[0].strides[1] += 210;	/* rows apart */
	EXPECT_REJECT(&pb, LUMEN_VERR_ROW_GROUP, 1, SRC(0));
	pb_free(&pb);
	weight_progs(&pb, LUMEN_DTYPE_Q6_K_R8, 288, 0);
	EXPECT_REJECT(&pb, LUMEN_VERR_BLOCK_ALIGN, 1, SRC(0));
	pb_free(&pb);
	weight_progs(&pb, LUMEN_DTYPE_Q6_K_R8, 512, 1);	/* FX_VOCAB rows */
	EXPECT_REJECT(&pb, LUMEN_VERR_ROW_GROUP, 1, SRC(0));
	pb_free(&pb);
	op = fx_prog(&pb, LUMEN_OP_KV_WRITE);
	op->dst.dtype = LUMEN_DTYPE_Q6_K_R8;	/* a cache */
	EXPECT_REJECT(&pb, LUMEN_VERR_BAD_DTYPE, 1, DST);
	pb_free(&pb);
	CHECK(!strcmp(lumen_isa_dtype_name(LUMEN_DTYPE_Q6_K_R8), "Q6_Kx8"));
	CHECK_EQ(lumen_type_size(LUMEN_DTYPE_Q6_K_R8), 210);
	CHECK_EQ(lumen_type_block(LUMEN_DTYPE_Q6_K_R8), 256);
}
