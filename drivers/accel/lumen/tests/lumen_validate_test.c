// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * The shared validator as the driver builds it: a valid program and its
 * region sizes worked out by hand from the extent rule of isa.rst, then one
 * corruption at a time, each of which must be rejected with its reason.
 */

#include <kunit/test.h>
#include <linux/string.h>

#include <drm/lumen_isa.h>

#include "../lumen_program.h"
#include "../lumen_validate.h"

/* A NOP, then dst(r0) = src0(r1) + src1(r1, broadcast row); args in r2. */
struct test_prog {
	struct lumen_prog_header h;
	struct lumen_op op[2];
};

static void f32_tensor(struct lumen_tensor *t, u8 region, u64 offset,
		       u32 d0, u32 d1)
{
	memset(t, 0, sizeof(*t));
	t->dtype = LUMEN_DTYPE_F32;
	t->region = region;
	t->dims[0] = d0;
	t->dims[1] = d1;
	t->dims[2] = 1;
	t->dims[3] = 1;
	t->strides[0] = 4;
	t->strides[1] = 4ULL * d0;
	t->strides[2] = 4ULL * d0 * d1;
	t->strides[3] = 4ULL * d0 * d1;
	t->offset = offset;
}

static void build(struct test_prog *p)
{
	memset(p, 0, sizeof(*p));
	p->h.magic = LUMEN_PROG_MAGIC;
	p->h.isa_version = LUMEN_ISA_VERSION;
	p->h.header_size = sizeof(p->h);
	p->h.op_size = sizeof(p->op[0]);
	p->h.op_count = 2;
	p->h.region_count = 3;
	p->h.args_region = 2;

	p->op[0].opcode = LUMEN_OP_NOP;
	p->op[0].rows_arg = LUMEN_ARG_NONE;
	p->op[0].pos_arg = LUMEN_ARG_NONE;

	p->op[1].opcode = LUMEN_OP_ADD;
	p->op[1].rows_arg = 5;
	p->op[1].pos_arg = LUMEN_ARG_NONE;
	f32_tensor(&p->op[1].dst, 0, 0, 8, 4);
	f32_tensor(&p->op[1].src[0], 1, 256, 8, 4);
	f32_tensor(&p->op[1].src[1], 1, 1024, 8, 1);
}

static void validate_accepts_and_sizes(struct kunit *test)
{
	struct lumen_validation v;
	struct test_prog p;
	int i;

	build(&p);
	KUNIT_ASSERT_EQ(test, lumen_validate(&p, sizeof(p), &v), 0);
	KUNIT_EXPECT_EQ(test, v.error, LUMEN_VERR_OK);
	KUNIT_EXPECT_EQ(test, v.op_count, 2);
	/* extent = offset + (rows - 1) * strides[1] + row bytes */
	KUNIT_EXPECT_EQ(test, v.region_size[0], 0 + 3 * 32 + 32);
	KUNIT_EXPECT_EQ(test, v.region_size[1], max(256 + 3 * 32 + 32, 1024 + 32));
	/* args: slot 5 read, so six 32-bit words */
	KUNIT_EXPECT_EQ(test, v.region_size[2], 6 * 4);
	for (i = 3; i < LUMEN_MAX_REGIONS; i++)
		KUNIT_EXPECT_EQ(test, v.region_size[i], 0);
	KUNIT_EXPECT_EQ(test, v.regions_used, 0x7);
	KUNIT_EXPECT_EQ(test, v.regions_written, 0x1);
}

static void validate_in_place_ok(struct kunit *test)
{
	struct lumen_validation v;
	struct test_prog p;

	build(&p);
	p.op[1].dst = p.op[1].src[0];	/* ADD may run in place */
	KUNIT_EXPECT_EQ(test, lumen_validate(&p, sizeof(p), &v), 0);
	KUNIT_EXPECT_EQ(test, v.regions_written, 0x2);
}

static void validate_overflow(struct kunit *test)
{
	struct lumen_validation v;
	struct test_prog p;

	build(&p);
	p.op[1].dst.offset = U64_MAX - 63;	/* aligned, but + 128 wraps */
	KUNIT_EXPECT_EQ(test, lumen_validate(&p, sizeof(p), &v),
			LUMEN_VERR_OVERFLOW);
	KUNIT_EXPECT_EQ(test, v.error_op, 1);
	KUNIT_EXPECT_EQ(test, v.error_operand, 0);

	build(&p);
	p.op[1].src[1].dims[1] = 4;
	p.op[1].src[1].strides[1] = 1ULL << 63;	/* 3 * 2^63 wraps */
	KUNIT_EXPECT_EQ(test, lumen_validate(&p, sizeof(p), &v),
			LUMEN_VERR_OVERFLOW);
	KUNIT_EXPECT_EQ(test, v.error_operand, 2);

	build(&p);
	p.op[1].src[1].strides[1] = 1ULL << 62;
	p.op[1].src[1].dims[1] = 4;	/* 3 * 2^62 + 32 still fits */
	KUNIT_EXPECT_EQ(test, lumen_validate(&p, sizeof(p), &v), 0);
	KUNIT_EXPECT_EQ(test, v.region_size[1], 1024 + 3 * (1ULL << 62) + 32);
}

struct corruption {
	const char *what;
	void (*apply)(struct test_prog *p);
	int err;
	u32 op;		/* HDR for a header error */
	u32 operand;	/* HDR when not a tensor; for ALIAS the source */
};

#define HDR	(~0U)

static void corrupt_magic(struct test_prog *p)
{
	p->h.magic ^= 1;
}

static void corrupt_version(struct test_prog *p)
{
	p->h.isa_version = 2;
}

static void corrupt_header_size(struct test_prog *p)
{
	p->h.header_size += 8;
}

static void corrupt_op_size(struct test_prog *p)
{
	p->h.op_size -= 8;
}

static void corrupt_op_count_zero(struct test_prog *p)
{
	p->h.op_count = 0;
}

static void corrupt_region_count_zero(struct test_prog *p)
{
	p->h.region_count = 0;
}

static void corrupt_region_count_big(struct test_prog *p)
{
	p->h.region_count = LUMEN_MAX_REGIONS + 1;
}

static void corrupt_args_region(struct test_prog *p)
{
	p->h.args_region = 3;
}

static void corrupt_header_flags(struct test_prog *p)
{
	p->h.flags = 1;
}

static void corrupt_header_reserved(struct test_prog *p)
{
	p->h.reserved[7] = 1;
}

static void corrupt_opcode(struct test_prog *p)
{
	p->op[1].opcode = LUMEN_OP_COUNT;
}

static void corrupt_flags(struct test_prog *p)
{
	p->op[1].flags = LUMEN_OPF_ROPE_NEOX;
}

static void corrupt_unknown_flag(struct test_prog *p)
{
	p->op[1].flags = 0x8000;
}

static void corrupt_op_pad(struct test_prog *p)
{
	p->op[1].pad[1] = 1;
}

static void corrupt_unused_param(struct test_prog *p)
{
	p->op[1].params[5] = 1;
}

static void corrupt_arg_slot(struct test_prog *p)
{
	p->op[1].rows_arg = LUMEN_MAX_ARG_SLOTS;
}

static void corrupt_pos_not_taken(struct test_prog *p)
{
	p->op[1].pos_arg = 0;
}

static void corrupt_nop_with_tensor(struct test_prog *p)
{
	p->op[0].dst.dims[0] = 1;
}

static void corrupt_unused_src(struct test_prog *p)
{
	p->op[1].src[2].offset = 4;
}

static void corrupt_tensor_pad(struct test_prog *p)
{
	p->op[1].src[0].pad = 1;
}

static void corrupt_tensor_pad2(struct test_prog *p)
{
	p->op[1].dst.pad2 = 1;
}

static void corrupt_region(struct test_prog *p)
{
	p->op[1].src[1].region = 3;
}

static void corrupt_dtype(struct test_prog *p)
{
	p->op[1].dst.dtype = LUMEN_DTYPE_I32;
}

static void corrupt_dtype_unknown(struct test_prog *p)
{
	p->op[1].src[0].dtype = 99;
}

static void corrupt_zero_dim(struct test_prog *p)
{
	p->op[1].src[1].dims[0] = 0;
}

static void corrupt_stride0(struct test_prog *p)
{
	p->op[1].src[0].strides[0] = 8;
}

static void corrupt_dst_overlap(struct test_prog *p)
{
	p->op[1].dst.strides[1] = 16;
}

static void corrupt_shape(struct test_prog *p)
{
	p->op[1].src[1].dims[0] = 4;
}

static void corrupt_alias(struct test_prog *p)
{
	p->op[1].dst.region = 1;
	p->op[1].dst.offset = 300;
}

static void corrupt_misaligned(struct test_prog *p)
{
	p->op[1].src[0].offset = 258;	/* F32 loads are 4-byte aligned */
}

static void corrupt_misaligned_stride(struct test_prog *p)
{
	p->op[1].src[1].strides[2] = 34;
}

static const struct corruption corruptions[] = {
	{ "magic", corrupt_magic, LUMEN_VERR_BAD_MAGIC, HDR, HDR },
	{ "version", corrupt_version, LUMEN_VERR_BAD_VERSION, HDR, HDR },
	{ "header_size", corrupt_header_size, LUMEN_VERR_BAD_HEADER_SIZE, HDR, HDR },
	{ "op_size", corrupt_op_size, LUMEN_VERR_BAD_OP_SIZE, HDR, HDR },
	{ "op_count_zero", corrupt_op_count_zero, LUMEN_VERR_BAD_OP_COUNT, HDR, HDR },
	{ "region_count_zero", corrupt_region_count_zero, LUMEN_VERR_BAD_REGION_COUNT, HDR, HDR },
	{ "region_count_big", corrupt_region_count_big, LUMEN_VERR_BAD_REGION_COUNT, HDR, HDR },
	{ "args_region", corrupt_args_region, LUMEN_VERR_BAD_ARGS_REGION, HDR, HDR },
	{ "header_flags", corrupt_header_flags, LUMEN_VERR_HEADER_RESERVED, HDR, HDR },
	{ "header_reserved", corrupt_header_reserved, LUMEN_VERR_HEADER_RESERVED, HDR, HDR },
	{ "opcode", corrupt_opcode, LUMEN_VERR_BAD_OPCODE, 1, HDR },
	{ "flags", corrupt_flags, LUMEN_VERR_BAD_FLAGS, 1, HDR },
	{ "unknown_flag", corrupt_unknown_flag, LUMEN_VERR_BAD_FLAGS, 1, HDR },
	{ "op_pad", corrupt_op_pad, LUMEN_VERR_OP_PAD, 1, HDR },
	{ "unused_param", corrupt_unused_param, LUMEN_VERR_OP_PAD, 1, HDR },
	{ "arg_slot", corrupt_arg_slot, LUMEN_VERR_BAD_ARG_SLOT, 1, HDR },
	{ "pos_not_taken", corrupt_pos_not_taken, LUMEN_VERR_ARG_NOT_ALLOWED, 1, HDR },
	{ "nop_with_tensor", corrupt_nop_with_tensor, LUMEN_VERR_UNUSED_TENSOR, 0, 0 },
	{ "unused_src", corrupt_unused_src, LUMEN_VERR_UNUSED_TENSOR, 1, 3 },
	{ "tensor_pad", corrupt_tensor_pad, LUMEN_VERR_TENSOR_PAD, 1, 1 },
	{ "tensor_pad2", corrupt_tensor_pad2, LUMEN_VERR_TENSOR_PAD, 1, 0 },
	{ "region", corrupt_region, LUMEN_VERR_BAD_REGION, 1, 2 },
	{ "dtype", corrupt_dtype, LUMEN_VERR_BAD_DTYPE, 1, 0 },
	{ "dtype_unknown", corrupt_dtype_unknown, LUMEN_VERR_BAD_DTYPE, 1, 1 },
	{ "zero_dim", corrupt_zero_dim, LUMEN_VERR_ZERO_DIM, 1, 2 },
	{ "stride0", corrupt_stride0, LUMEN_VERR_BAD_STRIDE0, 1, 1 },
	{ "dst_overlap", corrupt_dst_overlap, LUMEN_VERR_DST_OVERLAP, 1, 0 },
	{ "shape", corrupt_shape, LUMEN_VERR_SHAPE, 1, 2 },
	{ "alias", corrupt_alias, LUMEN_VERR_ALIAS, 1, 1 },
	{ "misaligned", corrupt_misaligned, LUMEN_VERR_MISALIGNED, 1, 1 },
	{ "misaligned_stride", corrupt_misaligned_stride, LUMEN_VERR_MISALIGNED, 1, 2 },
};

static void corruption_desc(const struct corruption *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(corruption, corruptions, corruption_desc);

static void validate_rejects(struct kunit *test)
{
	const struct corruption *c = test->param_value;
	struct lumen_validation v;
	struct test_prog p;
	int r;

	build(&p);
	c->apply(&p);
	memset(&v, 0xa5, sizeof(v));
	KUNIT_EXPECT_EQ_MSG(test, lumen_validate(&p, sizeof(p), &v), c->err,
			    "got: enum lumen_verr %u", v.error);
	KUNIT_EXPECT_EQ(test, v.error, c->err);
	KUNIT_EXPECT_EQ(test, v.error_op, c->op);
	KUNIT_EXPECT_EQ(test, v.error_operand, c->operand);
	/* Nothing of a rejected program may be trusted. */
	for (r = 0; r < LUMEN_MAX_REGIONS; r++)
		KUNIT_EXPECT_EQ(test, v.region_size[r], 0);
	KUNIT_EXPECT_EQ(test, v.regions_used, 0);
}

static void validate_rejects_sizes(struct kunit *test)
{
	struct lumen_validation v;
	struct test_prog p;

	build(&p);
	KUNIT_EXPECT_EQ(test, lumen_validate(&p, sizeof(p) - 1, &v),
			LUMEN_VERR_SIZE_MISMATCH);
	KUNIT_EXPECT_EQ(test, lumen_validate(&p, sizeof(p.h) - 1, &v),
			LUMEN_VERR_TOO_SMALL);
	KUNIT_EXPECT_EQ(test, lumen_validate(NULL, 0, &v), LUMEN_VERR_TOO_SMALL);
	p.h.op_count = 1;
	KUNIT_EXPECT_EQ(test, lumen_validate(&p, sizeof(p), &v),
			LUMEN_VERR_SIZE_MISMATCH);
	/* op_count * op_size + header must not wrap into a match. */
	p.h.op_count = LUMEN_MAX_OPS + 1;
	KUNIT_EXPECT_EQ(test, lumen_validate(&p, sizeof(p), &v),
			LUMEN_VERR_BAD_OP_COUNT);
}

/*
 * The shared validator accepts every dtype of the ISA; the driver then
 * refuses, as BAD_DTYPE at the op and operand, one the device does not
 * report: a device without DTYPES_EXT and Q4_0x8 weights, or a GGUF type
 * missing from its 32-bit mask.
 */
static void check_dtypes_against_the_device(struct kunit *test)
{
	const u32 all = BIT(LUMEN_DTYPE_F32) | BIT(LUMEN_DTYPE_F16);
	struct lumen_validation v;
	struct test_prog p;

	build(&p);
	KUNIT_ASSERT_EQ(test, lumen_validate(&p, sizeof(p), &v), LUMEN_VERR_OK);
	lumen_program_check_dtypes(&p, all, 0, &v);
	KUNIT_EXPECT_EQ(test, v.error, LUMEN_VERR_OK);

	/* an F32 device that lacks F16: op 1's second source */
	p.op[1].src[1].dtype = LUMEN_DTYPE_F16;
	lumen_program_check_dtypes(&p, BIT(LUMEN_DTYPE_F32), 0, &v);
	KUNIT_EXPECT_EQ(test, v.error, LUMEN_VERR_BAD_DTYPE);
	KUNIT_EXPECT_EQ(test, v.error_op, 1);
	KUNIT_EXPECT_EQ(test, v.error_operand, 2);

	/* Q4_0x8 (64) is bit 0 of DTYPES_EXT */
	v.error = LUMEN_VERR_OK;
	p.op[1].src[1].dtype = LUMEN_DTYPE_F32;
	p.op[1].src[0].dtype = LUMEN_DTYPE_Q4_0_R8;
	lumen_program_check_dtypes(&p, all, BIT_ULL(1), &v);
	KUNIT_EXPECT_EQ(test, v.error, LUMEN_VERR_BAD_DTYPE);
	KUNIT_EXPECT_EQ(test, v.error_op, 1);
	KUNIT_EXPECT_EQ(test, v.error_operand, 1);
	v.error = LUMEN_VERR_OK;
	lumen_program_check_dtypes(&p, all, BIT_ULL(0), &v);
	KUNIT_EXPECT_EQ(test, v.error, LUMEN_VERR_OK);
}

static struct kunit_case lumen_validate_cases[] = {
	KUNIT_CASE(check_dtypes_against_the_device),
	KUNIT_CASE(validate_accepts_and_sizes),
	KUNIT_CASE(validate_in_place_ok),
	KUNIT_CASE(validate_overflow),
	KUNIT_CASE_PARAM(validate_rejects, corruption_gen_params),
	KUNIT_CASE(validate_rejects_sizes),
	{}
};

static struct kunit_suite lumen_validate_suite = {
	.name = "lumen_validate",
	.test_cases = lumen_validate_cases,
};

kunit_test_suite(lumen_validate_suite);
