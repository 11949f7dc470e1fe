// SPDX-License-Identifier: MIT
/*
 * Faults: for every op and every operand, a region one byte too small
 * stops the op before it writes anything (guards and dst unchanged) while
 * the op before it has run; unbound regions, bad arg values, bad token ids
 * and invalid programs report what and where.
 */
#include <stdlib.h>
#include <string.h>

#include "ref_exec.h"
#include "lumen_test.h"

/* slots: 0 dst, 1..3 src0..2, 4 args, 5 the marker the first op writes */
enum { S_DST = 0, S_ARGS = 4, S_MARK = 5, S_COUNT = 6 };

static struct lumen_tensor t(uint32_t dtype, uint32_t slot, uint32_t d0, uint32_t d1)
{
	return pb_tensor(dtype, slot, 0, d0, d1);
}

/* one valid op of each kind, every operand in its own slot */
static void make_op(struct lumen_op *op, uint16_t opcode)
{
	const uint32_t F = LUMEN_DTYPE_F32;

	switch (opcode) {
	case LUMEN_OP_EMBED:
		op->src[0] = t(F, 1, 8, 5);
		op->src[1] = t(LUMEN_DTYPE_I32, 2, 3, 1);
		op->dst = t(F, S_DST, 8, 3);
		break;
	case LUMEN_OP_MATMUL:
		op->src[0] = t(LUMEN_DTYPE_Q4_0, 1, 64, 6);
		op->src[1] = t(F, 2, 64, 3);
		op->src[2] = t(F, 3, 6, 3);
		op->dst = t(F, S_DST, 6, 3);
		op->flags = LUMEN_OPF_RESIDUAL;
		break;
	case LUMEN_OP_RMSNORM:
		op->src[0] = t(F, 1, 16, 3);
		op->src[1] = t(F, 2, 16, 1);
		op->dst = t(F, S_DST, 16, 3);
		op->params[LUMEN_P_EPS] = pb_f32_bits(1e-5f);
		break;
	case LUMEN_OP_ROPE:
		op->src[0] = t(F, 1, 16, 3);
		op->dst = t(F, S_DST, 16, 3);
		op->params[LUMEN_P_N_HEAD] = 2;
		op->params[LUMEN_P_N_ROT] = 8;
		op->params[LUMEN_P_FREQ_BASE] = pb_f32_bits(10000.0f);
		break;
	case LUMEN_OP_KV_WRITE:
		op->src[0] = t(F, 1, 16, 3);
		op->dst = t(LUMEN_DTYPE_F16, S_DST, 16, 8);
		break;
	case LUMEN_OP_ATTENTION:
		op->src[0] = t(F, 1, 16, 3);
		op->src[1] = t(LUMEN_DTYPE_F16, 2, 8, 6);
		op->src[2] = t(LUMEN_DTYPE_F16, 3, 8, 6);
		op->dst = t(F, S_DST, 16, 3);
		op->params[LUMEN_P_N_HEAD] = 2;
		op->params[LUMEN_P_N_KV_HEAD] = 1;
		op->params[LUMEN_P_SCALE] = pb_f32_bits(0.35f);
		break;
	case LUMEN_OP_SWIGLU:
	case LUMEN_OP_GEGLU:
		op->src[0] = t(F, 1, 16, 3);
		op->src[1] = t(F, 2, 16, 3);
		op->dst = t(F, S_DST, 16, 3);
		break;
	case LUMEN_OP_ADD:
	case LUMEN_OP_MUL:
		op->src[0] = t(F, 1, 16, 3);
		op->src[1] = t(F, 2, 16, 1);
		op->dst = t(F, S_DST, 16, 3);
		break;
	case LUMEN_OP_COPY:
		op->src[0] = t(F, 1, 16, 3);
		op->dst = t(LUMEN_DTYPE_F16, S_DST, 16, 3);
		break;
	case LUMEN_OP_SOFTMAX:
		op->src[0] = t(F, 1, 16, 3);
		op->dst = t(F, S_DST, 16, 3);
		op->params[LUMEN_P_SCALE] = pb_f32_bits(1.0f);
		break;
	case LUMEN_OP_ARGMAX:
		op->src[0] = t(F, 1, 16, 3);
		op->dst = t(LUMEN_DTYPE_I32, S_DST, 1, 3);
		break;
	case LUMEN_OP_TOPK:
		op->src[0] = t(F, 1, 16, 3);
		op->dst = t(LUMEN_DTYPE_I32, S_DST, 8, 3);
		op->params[LUMEN_P_K] = 4;
		break;
	}
}

/* program: op 0 copies slot 5 onto itself's neighbour (the marker), op 1 is the op under test */
static void make_prog(struct prog_builder *pb, uint16_t opcode)
{
	pb_init(pb, S_COUNT, S_ARGS);
	struct lumen_op *mark = pb_op(pb, LUMEN_OP_ADD);

	mark->src[0] = pb_tensor(LUMEN_DTYPE_F32, S_MARK, 0, 4, 1);
	mark->src[1] = pb_tensor(LUMEN_DTYPE_F32, S_MARK, 0, 4, 1);
	mark->dst = pb_tensor(LUMEN_DTYPE_F32, S_MARK, 16, 4, 1);
	make_op(pb_op(pb, opcode), opcode);
}

/* regions exactly as large as the validator says, filled with small valid values */
static void fill_regions(struct prog_builder *pb, struct regions *r)
{
	struct lumen_validation v;

	REQUIRE_EQ(lumen_validate(pb->buf, pb->size, &v), 0);
	for (unsigned int s = 0; s < S_COUNT; s++) {
		uint64_t size = v.region_size[s] ? v.region_size[s] : 4 * LUMEN_MAX_ARG_SLOTS;

		reg_alloc(r, s, size, 0);
		/* 0x3c3c is 1.07 as F16, 0x3c3c3c3c 0.0115 as F32; ids get set below */
		memset(r->mem[s], s == S_ARGS ? 0 : 0x3c, size);
	}
	((float *)r->mem[S_MARK])[0] = 1.5f;
	if (pb_op_at(pb, 1)->opcode == LUMEN_OP_EMBED)
		memset(r->mem[2], 0, r->size[2]);	/* token ids 0 */
}

static void check_bounds_faults(uint16_t opcode)
{
	struct prog_builder pb;
	struct lumen_fault f;
	int variants = 0;

	make_prog(&pb, opcode);
	const struct lumen_op *op = pb_op_at(&pb, 1);

	/* sanity: with full-size regions the program runs */
	{
		struct regions r = { 0 };

		fill_regions(&pb, &r);
		REQUIRE_EQ(run_prog(&pb, &r, 2, 0, &f), 0);
		reg_free(&r);
	}
	for (unsigned int slot = 0; slot <= 3; slot++) {
		const struct lumen_tensor *tt = slot ? &op->src[slot - 1] : &op->dst;
		struct regions r = { 0 };
		uint8_t *before;

		if (!tt->dims[0])
			continue;	/* operand unused */
		fill_regions(&pb, &r);
		uint64_t size = r.size[slot] - 1;

		reg_alloc(&r, slot, size, 0x3c);
		if (opcode == LUMEN_OP_EMBED && slot == 2)
			memset(r.mem[2], 0, size);
		before = malloc(r.size[S_DST]);
		memcpy(before, r.mem[S_DST], r.size[S_DST]);
		REQUIRE_EQ(run_prog(&pb, &r, 2, 0, &f), LUMEN_FAULT_REGION_BOUNDS);
		CHECK_EQ(f.code, LUMEN_FAULT_REGION_BOUNDS);
		CHECK_EQ(f.op_index, 1);
		CHECK_EQ(f.region, slot);
		CHECK_EQ(f.offset, size);
		CHECK_MSG(memcmp(before, r.mem[S_DST], r.size[S_DST]) == 0, "slot %u: dst written", slot);
		CHECK(reg_guards_intact(&r));
		CHECK(((float *)r.mem[S_MARK])[4] == 3.0f);	/* op 0 ran */
		variants++;
		free(before);
		reg_free(&r);
	}
	CHECK(variants >= 2);
	pb_free(&pb);
}

TEST(fault_bounds_embed) { check_bounds_faults(LUMEN_OP_EMBED); }
TEST(fault_bounds_matmul) { check_bounds_faults(LUMEN_OP_MATMUL); }
TEST(fault_bounds_rmsnorm) { check_bounds_faults(LUMEN_OP_RMSNORM); }
TEST(fault_bounds_rope) { check_bounds_faults(LUMEN_OP_ROPE); }
TEST(fault_bounds_kv_write) { check_bounds_faults(LUMEN_OP_KV_WRITE); }
TEST(fault_bounds_attention) { check_bounds_faults(LUMEN_OP_ATTENTION); }
TEST(fault_bounds_swiglu) { check_bounds_faults(LUMEN_OP_SWIGLU); }
TEST(fault_bounds_geglu) { check_bounds_faults(LUMEN_OP_GEGLU); }
TEST(fault_bounds_add) { check_bounds_faults(LUMEN_OP_ADD); }
TEST(fault_bounds_mul) { check_bounds_faults(LUMEN_OP_MUL); }
TEST(fault_bounds_copy) { check_bounds_faults(LUMEN_OP_COPY); }
TEST(fault_bounds_softmax) { check_bounds_faults(LUMEN_OP_SOFTMAX); }
TEST(fault_bounds_argmax) { check_bounds_faults(LUMEN_OP_ARGMAX); }
TEST(fault_bounds_topk) { check_bounds_faults(LUMEN_OP_TOPK); }

/* run op 1 of make_prog(opcode) after tweak(); returns the fault, checks dst untouched */
static void run_tweaked_into(uint16_t opcode, void (*tweak)(struct lumen_op *, struct regions *),
			     struct lumen_fault *f, int *retp)
{
	struct prog_builder pb;
	struct regions r = { 0 };
	uint8_t *before;
	int ret;

	make_prog(&pb, opcode);
	fill_regions(&pb, &r);
	tweak(pb_op_at(&pb, 1), &r);
	before = malloc(r.size[S_DST]);
	memcpy(before, r.mem[S_DST], r.size[S_DST]);
	ret = run_prog(&pb, &r, 2, 0, f);
	if (ret) {
		CHECK_MSG(memcmp(before, r.mem[S_DST], r.size[S_DST]) == 0, "dst written by a faulting op");
		CHECK_EQ(f->op_index, 1);
	}
	CHECK(reg_guards_intact(&r));
	free(before);
	pb_free(&pb);
	reg_free(&r);
	*retp = ret;
}

static int run_tweaked(uint16_t opcode, void (*tweak)(struct lumen_op *, struct regions *),
		       struct lumen_fault *f)
{
	int ret = -1;

	run_tweaked_into(opcode, tweak, f, &ret);
	return ret;
}

static void set_arg(struct regions *r, unsigned int slot, uint32_t value)
{
	memcpy(r->mem[S_ARGS] + 4 * slot, &value, 4);
}

static void rows_zero(struct lumen_op *op, struct regions *r)
{
	op->rows_arg = 9;
	set_arg(r, 9, 0);
}

static void rows_above_capacity(struct lumen_op *op, struct regions *r)
{
	op->rows_arg = 9;
	set_arg(r, 9, 4);
}

static void pos_past_cache(struct lumen_op *op, struct regions *r)
{
	op->pos_arg = 2;
	set_arg(r, 2, 6);	/* 6 + 3 rows > 8 (kv_write) and > 6 (attention) */
}

static void pos_fits_exactly(struct lumen_op *op, struct regions *r)
{
	op->pos_arg = 2;
	set_arg(r, 2, 5);	/* kv_write: 5 + 3 == 8 */
}

TEST(fault_arg_range_rows_zero)
{
	struct lumen_fault f;

	CHECK_EQ(run_tweaked(LUMEN_OP_MATMUL, rows_zero, &f), LUMEN_FAULT_ARG_RANGE);
	CHECK_EQ(f.offset, 0);
	CHECK_EQ(run_tweaked(LUMEN_OP_SOFTMAX, rows_zero, &f), LUMEN_FAULT_ARG_RANGE);
}

TEST(fault_arg_range_rows_above_capacity)
{
	struct lumen_fault f;

	CHECK_EQ(run_tweaked(LUMEN_OP_RMSNORM, rows_above_capacity, &f), LUMEN_FAULT_ARG_RANGE);
	CHECK_EQ(f.offset, 4);
	CHECK_EQ(run_tweaked(LUMEN_OP_EMBED, rows_above_capacity, &f), LUMEN_FAULT_ARG_RANGE);
	CHECK_EQ(run_tweaked(LUMEN_OP_ATTENTION, rows_above_capacity, &f), LUMEN_FAULT_ARG_RANGE);
}

TEST(fault_arg_range_kv_write_past_cache)
{
	struct lumen_fault f;

	CHECK_EQ(run_tweaked(LUMEN_OP_KV_WRITE, pos_past_cache, &f), LUMEN_FAULT_ARG_RANGE);
	CHECK_EQ(f.offset, 6);
	CHECK_EQ(run_tweaked(LUMEN_OP_KV_WRITE, pos_fits_exactly, &f), 0);
}

TEST(fault_arg_range_attention_past_cache)
{
	struct lumen_fault f;

	CHECK_EQ(run_tweaked(LUMEN_OP_ATTENTION, pos_past_cache, &f), LUMEN_FAULT_ARG_RANGE);
	CHECK_EQ(f.code, LUMEN_FAULT_ARG_RANGE);
}

static void args_region_small(struct lumen_op *op, struct regions *r)
{
	op->rows_arg = 9;
	reg_alloc(r, S_ARGS, 36, 0);	/* slot 9 needs 40 bytes */
}

static void args_region_unbound(struct lumen_op *op, struct regions *r)
{
	op->pos_arg = 0;
	reg_alloc(r, S_ARGS, 4, 0);
	free(r->mem[S_ARGS] - GUARD_BYTES);
	r->mem[S_ARGS] = NULL;
}

TEST(fault_args_region_too_small)
{
	struct lumen_fault f;

	CHECK_EQ(run_tweaked(LUMEN_OP_TOPK, args_region_small, &f), LUMEN_FAULT_REGION_BOUNDS);
	CHECK_EQ(f.region, S_ARGS);
	CHECK_EQ(f.offset, 36);
}

TEST(fault_args_region_unbound)
{
	struct lumen_fault f;

	CHECK_EQ(run_tweaked(LUMEN_OP_ROPE, args_region_unbound, &f), LUMEN_FAULT_REGION_UNBOUND);
	CHECK_EQ(f.region, S_ARGS);
}

static void unbind_src1(struct lumen_op *op, struct regions *r)
{
	free(r->mem[2] - GUARD_BYTES);
	r->mem[2] = NULL;
}

TEST(fault_region_unbound)
{
	struct lumen_fault f;

	CHECK_EQ(run_tweaked(LUMEN_OP_SWIGLU, unbind_src1, &f), LUMEN_FAULT_REGION_UNBOUND);
	CHECK_EQ(f.region, 2);
	CHECK_EQ(run_tweaked(LUMEN_OP_ATTENTION, unbind_src1, &f), LUMEN_FAULT_REGION_UNBOUND);
}

static void id_too_big(struct lumen_op *op, struct regions *r)
{
	((int32_t *)r->mem[2])[2] = 5;	/* table has 5 rows */
}

static void id_negative(struct lumen_op *op, struct regions *r)
{
	((int32_t *)r->mem[2])[1] = -1;
}

TEST(fault_index_embed)
{
	struct lumen_fault f;

	CHECK_EQ(run_tweaked(LUMEN_OP_EMBED, id_too_big, &f), LUMEN_FAULT_INDEX);
	CHECK_EQ(f.offset, 5);
	CHECK_EQ(f.region, 2);
	CHECK_EQ(run_tweaked(LUMEN_OP_EMBED, id_negative, &f), LUMEN_FAULT_INDEX);
	CHECK_EQ(f.offset, 0xffffffffu);
}

static void id_past_rows(struct lumen_op *op, struct regions *r)
{
	op->rows_arg = 9;
	set_arg(r, 9, 2);
	((int32_t *)r->mem[2])[2] = 99;	/* not read: only 2 rows */
}

TEST(embed_ignores_ids_past_rows)
{
	struct lumen_fault f;

	CHECK_EQ(run_tweaked(LUMEN_OP_EMBED, id_past_rows, &f), 0);
}

TEST(fault_invalid_program)
{
	struct prog_builder pb;
	struct regions r = { 0 };
	struct lumen_region bound[LUMEN_MAX_REGIONS];
	struct lumen_fault f;
	struct lumen_exec *ex = exec_new(1, 0);

	make_prog(&pb, LUMEN_OP_ADD);
	fill_regions(&pb, &r);
	reg_bind(&r, bound);
	pb_header(&pb)->magic ^= 1;
	CHECK_EQ(lumen_exec_run(ex, pb.buf, pb.size, bound, S_COUNT, &f), LUMEN_FAULT_INVALID_PROGRAM);
	CHECK_EQ(f.detail, LUMEN_VERR_BAD_MAGIC);
	pb_header(&pb)->magic ^= 1;
	pb_op_at(&pb, 1)->opcode = 200;
	CHECK_EQ(lumen_exec_run(ex, pb.buf, pb.size, bound, S_COUNT, &f), LUMEN_FAULT_INVALID_PROGRAM);
	CHECK_EQ(f.detail, LUMEN_VERR_BAD_OPCODE);
	CHECK_EQ(f.op_index, 1);
	CHECK_EQ(r.mem[S_MARK][16], 0x3c);	/* nothing ran */
	/* the executor is still usable */
	pb_op_at(&pb, 1)->opcode = LUMEN_OP_ADD;
	CHECK_EQ(lumen_exec_run(ex, pb.buf, pb.size, bound, S_COUNT, &f), 0);
	lumen_exec_destroy(ex);
	pb_free(&pb);
	reg_free(&r);
}

TEST(fault_fewer_regions_than_program)
{
	struct prog_builder pb;
	struct regions r = { 0 };
	struct lumen_region bound[LUMEN_MAX_REGIONS];
	struct lumen_fault f;
	struct lumen_exec *ex = exec_new(2, 0);

	make_prog(&pb, LUMEN_OP_COPY);
	fill_regions(&pb, &r);
	reg_bind(&r, bound);
	/* only slots 0..4 passed: op 0 names slot 5 */
	CHECK_EQ(lumen_exec_run(ex, pb.buf, pb.size, bound, 5, &f), LUMEN_FAULT_REGION_UNBOUND);
	CHECK_EQ(f.op_index, 0);
	CHECK_EQ(f.region, S_MARK);
	lumen_exec_destroy(ex);
	pb_free(&pb);
	reg_free(&r);
}

TEST(stats_count_matmul_work)
{
	struct prog_builder pb;
	struct regions r = { 0 };
	struct lumen_fault f;
	struct lumen_exec_stats st;
	struct lumen_exec *ex = exec_new(2, 0);

	make_prog(&pb, LUMEN_OP_MATMUL);
	fill_regions(&pb, &r);
	REQUIRE_EQ(run_with(ex, &pb, &r, &f), 0);
	REQUIRE_EQ(run_with(ex, &pb, &r, &f), 0);
	lumen_exec_get_stats(ex, &st);
	CHECK_EQ(st.jobs, 2);
	CHECK_EQ(st.ops, 4);
	/* per run: 2*64*6*3 flops of matmul plus the 4 adds of op 0 */
	CHECK_EQ(st.flops, 2 * (2 * 64 * 6 * 3 + 4));
	/* weights 2*18*6, x 64*4*3, residual 6*4*3, marker 2*16 */
	CHECK_EQ(st.bytes_read, 2 * (2 * 18 * 6 + 64 * 4 * 3 + 6 * 4 * 3 + 32));
	CHECK_EQ(st.bytes_written, 2 * (6 * 4 * 3 + 16));
	/* a faulting run adds neither a job nor the faulting op */
	reg_alloc(&r, 1, 10, 0);
	CHECK_EQ(run_with(ex, &pb, &r, &f), LUMEN_FAULT_REGION_BOUNDS);
	lumen_exec_get_stats(ex, &st);
	CHECK_EQ(st.jobs, 2);
	CHECK_EQ(st.ops, 5);
	lumen_exec_destroy(ex);
	pb_free(&pb);
	reg_free(&r);
}
