// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The Lumen program validator. The kernel driver, the device model, the
 * compiler and the executor all run this one file, so a program the
 * kernel accepts is exactly a program the executor can run. Every field
 * is untrusted; every sum and product of them is overflow-checked.
 *
 * Rules: Documentation/accel/lumen/isa.rst.
 */
#include "lumen_validate.h"
#include "lumen_ops.h"

#ifndef __KERNEL__
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
#endif

#define LV_NONE		(~0U)
#define LV_U64_MAX	(~(u64)0)

#define LV_BIT(n)	(1U << (n))

/* Operand numbers as reported in &lumen_validation.error_operand. */
#define OPND_DST	0
#define OPND_SRC(n)	(1 + (n))
#define OPND_COUNT	LUMEN_OPERANDS

static const char * const verr_text[LUMEN_VERR_COUNT] = {
	[LUMEN_VERR_OK] = "valid",
	[LUMEN_VERR_TOO_SMALL] = "program smaller than its header",
	[LUMEN_VERR_BAD_MAGIC] = "bad magic",
	[LUMEN_VERR_BAD_VERSION] = "unsupported ISA version",
	[LUMEN_VERR_BAD_HEADER_SIZE] = "header_size unknown",
	[LUMEN_VERR_BAD_OP_SIZE] = "op_size unknown",
	[LUMEN_VERR_BAD_OP_COUNT] = "op_count zero or above LUMEN_MAX_OPS",
	[LUMEN_VERR_SIZE_MISMATCH] = "program size is not header + op_count ops",
	[LUMEN_VERR_BAD_REGION_COUNT] = "region_count zero or above LUMEN_MAX_REGIONS",
	[LUMEN_VERR_BAD_ARGS_REGION] = "args_region not below region_count",
	[LUMEN_VERR_HEADER_RESERVED] = "header flags or reserved not zero",
	[LUMEN_VERR_BAD_OPCODE] = "unknown opcode",
	[LUMEN_VERR_BAD_FLAGS] = "flag not valid for this opcode",
	[LUMEN_VERR_OP_PAD] = "op pad or unused param not zero",
	[LUMEN_VERR_BAD_ARG_SLOT] = "arg slot above LUMEN_MAX_ARG_SLOTS",
	[LUMEN_VERR_ARG_NOT_ALLOWED] = "op does not take this arg",
	[LUMEN_VERR_UNUSED_TENSOR] = "unused tensor not all zero",
	[LUMEN_VERR_TENSOR_PAD] = "tensor pad not zero",
	[LUMEN_VERR_BAD_REGION] = "tensor region not below region_count",
	[LUMEN_VERR_BAD_DTYPE] = "dtype not allowed for this operand",
	[LUMEN_VERR_ZERO_DIM] = "dimension of zero elements",
	[LUMEN_VERR_BLOCK_ALIGN] = "quantized row not a multiple of the block size",
	[LUMEN_VERR_BAD_STRIDE0] = "strides[0] is not the element or block size",
	[LUMEN_VERR_DST_OVERLAP] = "dst strides make elements overlap",
	[LUMEN_VERR_SHAPE] = "operand shapes do not agree",
	[LUMEN_VERR_BAD_PARAM] = "op parameter out of range",
	[LUMEN_VERR_OVERFLOW] = "tensor extent overflows 64 bits",
	[LUMEN_VERR_ALIAS] = "dst overlaps a source it may not alias",
	[LUMEN_VERR_MISALIGNED] = "offset or stride not a multiple of the alignment",
	[LUMEN_VERR_ROW_GROUP] = "interleaved weight rows not in whole, packed groups of 8",
};

const char *lumen_verr_str(uint32_t err)
{
	if (err >= LUMEN_VERR_COUNT)
		return "unknown validation error";
	return verr_text[err];
}

static u32 dtype_class(u32 dtype)
{
	switch (dtype) {
	case LUMEN_DTYPE_F32:
		return LUMEN_DT_F32;
	case LUMEN_DTYPE_F16:
		return LUMEN_DT_F16;
	case LUMEN_DTYPE_Q4_0:
		return LUMEN_DT_Q4_0;
	case LUMEN_DTYPE_Q4_1:
		return LUMEN_DT_Q4_1;
	case LUMEN_DTYPE_Q5_0:
		return LUMEN_DT_Q5_0;
	case LUMEN_DTYPE_Q5_1:
		return LUMEN_DT_Q5_1;
	case LUMEN_DTYPE_Q8_0:
		return LUMEN_DT_Q8_0;
	case LUMEN_DTYPE_Q4_K:
		return LUMEN_DT_Q4_K;
	case LUMEN_DTYPE_Q5_K:
		return LUMEN_DT_Q5_K;
	case LUMEN_DTYPE_Q6_K:
		return LUMEN_DT_Q6_K;
	case LUMEN_DTYPE_I32:
		return LUMEN_DT_I32;
	case LUMEN_DTYPE_BF16:
		return LUMEN_DT_BF16;
	case LUMEN_DTYPE_Q4_0_R8:
		return LUMEN_DT_Q4_0_R8;
	case LUMEN_DTYPE_Q8_0_R8:
		return LUMEN_DT_Q8_0_R8;
	case LUMEN_DTYPE_Q4_K_R8:
		return LUMEN_DT_Q4_K_R8;
	case LUMEN_DTYPE_Q6_K_R8:
		return LUMEN_DT_Q6_K_R8;
	case LUMEN_DTYPE_Q5_0_R8:
		return LUMEN_DT_Q5_0_R8;
	default:
		return 0;
	}
}

/* bytes of one block, GGUF's sizes (isa.rst lays each one out) */
uint32_t lumen_type_size(uint32_t dtype)
{
	switch (dtype) {
	case LUMEN_DTYPE_F32:
	case LUMEN_DTYPE_I32:
		return 4;
	case LUMEN_DTYPE_F16:
	case LUMEN_DTYPE_BF16:
		return 2;
	case LUMEN_DTYPE_Q4_0:
	case LUMEN_DTYPE_Q4_0_R8:	/* a row's share of a group's block */
		return 2 + LUMEN_QK / 2;
	case LUMEN_DTYPE_Q4_1:
		return 4 + LUMEN_QK / 2;
	case LUMEN_DTYPE_Q5_0:
	case LUMEN_DTYPE_Q5_0_R8:
		return 2 + 4 + LUMEN_QK / 2;
	case LUMEN_DTYPE_Q5_1:
		return 4 + 4 + LUMEN_QK / 2;
	case LUMEN_DTYPE_Q8_0:
	case LUMEN_DTYPE_Q8_0_R8:
		return 2 + LUMEN_QK;
	case LUMEN_DTYPE_Q4_K:
	case LUMEN_DTYPE_Q4_K_R8:
		return 4 + 12 + LUMEN_QK_K / 2;
	case LUMEN_DTYPE_Q5_K:
		return 4 + 12 + LUMEN_QK_K / 8 + LUMEN_QK_K / 2;
	case LUMEN_DTYPE_Q6_K:
	case LUMEN_DTYPE_Q6_K_R8:
		return LUMEN_QK_K / 2 + LUMEN_QK_K / 4 + LUMEN_QK_K / 16 + 2;
	default:
		return 0;
	}
}

uint32_t lumen_type_block(uint32_t dtype)
{
	switch (dtype) {
	case LUMEN_DTYPE_Q4_0:
	case LUMEN_DTYPE_Q4_0_R8:
	case LUMEN_DTYPE_Q4_1:
	case LUMEN_DTYPE_Q5_0:
	case LUMEN_DTYPE_Q5_0_R8:
	case LUMEN_DTYPE_Q5_1:
	case LUMEN_DTYPE_Q8_0:
	case LUMEN_DTYPE_Q8_0_R8:
		return LUMEN_QK;
	case LUMEN_DTYPE_Q4_K:
	case LUMEN_DTYPE_Q4_K_R8:
	case LUMEN_DTYPE_Q5_K:
	case LUMEN_DTYPE_Q6_K:
	case LUMEN_DTYPE_Q6_K_R8:
		return LUMEN_QK_K;
	default:
		return 1;
	}
}

/* (n - 1) * stride added to *acc; 0, or -1 on overflow. n >= 1. */
static int add_span(u64 *acc, u32 n, u64 stride)
{
	u64 span;

	if (__builtin_mul_overflow((u64)(n - 1), stride, &span))
		return -1;
	return __builtin_add_overflow(*acc, span, acc) ? -1 : 0;
}

static int tensor_end(const struct lumen_tensor *t, u32 rows, u64 *end)
{
	u32 size = lumen_type_size(t->dtype);
	u32 block = lumen_type_block(t->dtype);
	u64 acc = t->offset;
	int i;

	/* Checked rather than trusted: callers pass unvalidated tensors too. */
	if (!size || !t->dims[0] || t->dims[0] % block)
		return -1;
	if (!rows || rows > t->dims[1] || !t->dims[2] || !t->dims[3])
		return -1;
	if (__builtin_add_overflow(acc, (u64)(t->dims[0] / block) * size, &acc))
		return -1;
	if (add_span(&acc, rows, t->strides[1]))
		return -1;
	for (i = 2; i < LUMEN_MAX_DIMS; i++)
		if (add_span(&acc, t->dims[i], t->strides[i]))
			return -1;
	*end = acc;
	return 0;
}

int lumen_tensor_extent(const struct lumen_tensor *t, uint32_t rows,
			uint64_t *end)
{
	u64 e;

	if (tensor_end(t, rows, &e))
		return -1;
	*end = e;
	return 0;
}

static int tensor_is_zero(const struct lumen_tensor *t)
{
	const u8 *b = (const u8 *)t;
	u8 any = 0;
	size_t i;

	for (i = 0; i < sizeof(*t); i++)
		any |= b[i];
	return !any;
}

static int tensors_identical(const struct lumen_tensor *a,
			     const struct lumen_tensor *b)
{
	int i;

	if (a->dtype != b->dtype || a->region != b->region ||
	    a->offset != b->offset)
		return 0;
	for (i = 0; i < LUMEN_MAX_DIMS; i++)
		if (a->dims[i] != b->dims[i] || a->strides[i] != b->strides[i])
			return 0;
	return 1;
}

/* Positive, finite binary32 (subnormals included). */
static int f32_bits_positive(u32 bits)
{
	return !(bits >> 31) && bits && ((bits >> 23) & 0xff) != 0xff;
}

static int f32_bits_finite(u32 bits)
{
	return ((bits >> 23) & 0xff) != 0xff;
}

/*
 * No two elements of a dst may share a byte: each dimension of more than
 * one index must step over everything the inner dimensions span. A
 * dimension of one index does not count, so a stray stride of it cannot
 * hide an overlap of the dimensions around it.
 */
static int dst_overlaps(const struct lumen_tensor *t, u64 row_bytes)
{
	u64 need = row_bytes, span;
	int i;

	for (i = 1; i < LUMEN_MAX_DIMS; i++) {
		if (t->dims[i] > 1 && t->strides[i] < need)
			return 1;
		if (__builtin_mul_overflow(t->strides[i], (u64)t->dims[i],
					   &span))
			span = LV_U64_MAX;
		if (span > need)
			need = span;
	}
	return 0;
}

/**
 * struct op_check - an op being validated.
 * @op: the op.
 * @rule: its opcode's rules.
 * @region_count: slots the program declares.
 * @used: bit n set when operand n (0 dst, 1..3 sources) is read or written.
 * @end: extent of each used operand.
 * @operand: the operand the error is about, or %LV_NONE.
 */
struct op_check {
	const struct lumen_op *op;
	const struct lumen_op_info *rule;
	u32 region_count;
	u32 used;
	u64 end[OPND_COUNT];
	u32 operand;
};

static const struct lumen_tensor *operand(const struct lumen_op *op, u32 n)
{
	return n == OPND_DST ? &op->dst : &op->src[n - 1];
}

static int fail(struct op_check *c, u32 n, int err)
{
	c->operand = n;
	return err;
}

static int check_op_fields(struct op_check *c)
{
	const struct lumen_op *op = c->op;
	const struct lumen_op_info *r = c->rule;
	int i;

	if (op->flags & ~r->flags)
		return LUMEN_VERR_BAD_FLAGS;
	if (op->pad[0] || op->pad[1])
		return LUMEN_VERR_OP_PAD;
	for (i = 0; i < LUMEN_MAX_PARAMS; i++)
		if (!(r->params & LV_BIT(i)) && op->params[i])
			return LUMEN_VERR_OP_PAD;
	if ((op->rows_arg != LUMEN_ARG_NONE &&
	     op->rows_arg >= LUMEN_MAX_ARG_SLOTS) ||
	    (op->pos_arg != LUMEN_ARG_NONE &&
	     op->pos_arg >= LUMEN_MAX_ARG_SLOTS))
		return LUMEN_VERR_BAD_ARG_SLOT;
	if ((op->rows_arg != LUMEN_ARG_NONE && !r->rows) ||
	    (op->pos_arg != LUMEN_ARG_NONE && !r->pos))
		return LUMEN_VERR_ARG_NOT_ALLOWED;
	return LUMEN_VERR_OK;
}

/*
 * Hardware loads elements naturally aligned: 4 bytes for F32/I32, 2 for
 * F16 and for the f16 scale that starts every Q4_0/Q8_0 block.
 */
static bool misaligned(const struct lumen_tensor *t)
{
	u64 align = t->dtype == LUMEN_DTYPE_F32 || t->dtype == LUMEN_DTYPE_I32 ?
		    4 : 2;
	int i;

	if (t->offset & (align - 1))
		return true;
	for (i = 1; i < LUMEN_MAX_DIMS; i++)
		if (t->strides[i] & (align - 1))
			return true;
	return false;
}

static int check_tensor(struct op_check *c, u32 n)
{
	const struct lumen_tensor *t = operand(c->op, n);
	u32 block = lumen_type_block(t->dtype);
	u64 row_bytes;
	int i;

	if (t->pad || t->pad2)
		return fail(c, n, LUMEN_VERR_TENSOR_PAD);
	if (t->region >= c->region_count)
		return fail(c, n, LUMEN_VERR_BAD_REGION);
	if (!(dtype_class(t->dtype) & c->rule->dtypes[n]))
		return fail(c, n, LUMEN_VERR_BAD_DTYPE);
	for (i = 0; i < LUMEN_MAX_DIMS; i++)
		if (!t->dims[i])
			return fail(c, n, LUMEN_VERR_ZERO_DIM);
	if (t->dims[0] % block)
		return fail(c, n, LUMEN_VERR_BLOCK_ALIGN);
	if (t->strides[0] != lumen_type_size(t->dtype))
		return fail(c, n, LUMEN_VERR_BAD_STRIDE0);
	if (misaligned(t))
		return fail(c, n, LUMEN_VERR_MISALIGNED);
	if (tensor_end(t, t->dims[1], &c->end[n]))
		return fail(c, n, LUMEN_VERR_OVERFLOW);
	row_bytes = (u64)(t->dims[0] / block) * t->strides[0];
	/* a group's 8 rows are one run of bytes: no row stands alone */
	if ((dtype_class(t->dtype) & LUMEN_DT_R8) &&
	    (t->dims[1] % LUMEN_ROW_GROUP || t->strides[1] != row_bytes))
		return fail(c, n, LUMEN_VERR_ROW_GROUP);
	if (n == OPND_DST && dst_overlaps(t, row_bytes))
		return fail(c, n, LUMEN_VERR_DST_OVERLAP);
	/*
	 * A source read whole (a weight, an embedding table, a KV cache) must
	 * not have rows that share bytes: with strides[1] 0 a few bytes of
	 * memory would declare 2^32 rows, and an op's work (MATMUL's MACs,
	 * ATTENTION's keys and scratch) would no longer be bounded by the
	 * memory the job maps. One-row sources and the broadcast rows of ADD
	 * and MUL (dims[1] 1) keep any stride.
	 */
	if (n != OPND_DST && c->rule->row_kind[n] == LUMEN_ROWS_ALL &&
	    t->dims[1] > 1 && t->strides[1] < row_bytes)
		return fail(c, n, LUMEN_VERR_BAD_STRIDE0);
	return LUMEN_VERR_OK;
}

static int check_operands(struct op_check *c)
{
	const struct lumen_op *op = c->op;
	u32 srcs = c->rule->srcs, n;
	int err;

	if (op->flags & c->rule->extra_src_flag)
		srcs++;
	for (n = 0; n < OPND_COUNT; n++)
		c->end[n] = 0;
	c->used = c->rule->dtypes[OPND_DST] ? LV_BIT(OPND_DST) : 0;
	for (n = 0; n < srcs; n++)
		c->used |= LV_BIT(OPND_SRC(n));

	for (n = 0; n < OPND_COUNT; n++) {
		if (!(c->used & LV_BIT(n))) {
			if (!tensor_is_zero(operand(op, n)))
				return fail(c, n, LUMEN_VERR_UNUSED_TENSOR);
			continue;
		}
		err = check_tensor(c, n);
		if (err)
			return err;
	}
	return LUMEN_VERR_OK;
}

/* @t has @ref's dims except dims[1], which is @rows. */
static int dims_like(const struct lumen_tensor *t,
		     const struct lumen_tensor *ref, u32 rows)
{
	return t->dims[0] == ref->dims[0] && t->dims[1] == rows &&
	       t->dims[2] == ref->dims[2] && t->dims[3] == ref->dims[3];
}

static int dims_are(const struct lumen_tensor *t, u32 d0, u32 d1)
{
	return t->dims[0] == d0 && t->dims[1] == d1;
}

/* Only ADD, MUL and COPY see dims[2] and dims[3]. */
static int check_2d(struct op_check *c)
{
	u32 n;

	for (n = 0; n < OPND_COUNT; n++) {
		const struct lumen_tensor *t = operand(c->op, n);

		if ((c->used & LV_BIT(n)) && (t->dims[2] != 1 || t->dims[3] != 1))
			return fail(c, n, LUMEN_VERR_SHAPE);
	}
	return LUMEN_VERR_OK;
}

static int check_shapes(struct op_check *c)
{
	const struct lumen_op *op = c->op;
	const struct lumen_tensor *dst = &op->dst, *s0 = &op->src[0];
	const struct lumen_tensor *s1 = &op->src[1], *s2 = &op->src[2];
	u32 last = op->flags & LUMEN_OPF_LAST_ROW;
	int i;

	if (op->opcode != LUMEN_OP_ADD && op->opcode != LUMEN_OP_MUL &&
	    op->opcode != LUMEN_OP_COPY && check_2d(c))
		return LUMEN_VERR_SHAPE;

	switch (op->opcode) {
	case LUMEN_OP_EMBED:
		if (s1->dims[1] != 1)
			return fail(c, OPND_SRC(1), LUMEN_VERR_SHAPE);
		if (!dims_are(dst, s0->dims[0], s1->dims[0]))
			return fail(c, OPND_DST, LUMEN_VERR_SHAPE);
		break;
	case LUMEN_OP_MATMUL:
		if (s1->dims[0] != s0->dims[0])
			return fail(c, OPND_SRC(1), LUMEN_VERR_SHAPE);
		if (!dims_are(dst, s0->dims[1], last ? 1 : s1->dims[1]))
			return fail(c, OPND_DST, LUMEN_VERR_SHAPE);
		if ((op->flags & LUMEN_OPF_RESIDUAL) &&
		    !dims_like(s2, dst, dst->dims[1]))
			return fail(c, OPND_SRC(2), LUMEN_VERR_SHAPE);
		break;
	case LUMEN_OP_RMSNORM:
		/* the weight's width depends on the groups: see check_params() */
		if (!dims_like(dst, s0, last ? 1 : s0->dims[1]))
			return fail(c, OPND_DST, LUMEN_VERR_SHAPE);
		break;
	case LUMEN_OP_KV_WRITE:
		if (dst->dims[0] != s0->dims[0])
			return fail(c, OPND_DST, LUMEN_VERR_SHAPE);
		break;
	case LUMEN_OP_ATTENTION:
		/* the cache widths depend on the heads: see check_params() */
		if (s2->dtype != s1->dtype)
			return fail(c, OPND_SRC(2), LUMEN_VERR_BAD_DTYPE);
		if (!dims_like(s2, s1, s1->dims[1]))
			return fail(c, OPND_SRC(2), LUMEN_VERR_SHAPE);
		if (!dims_like(dst, s0, s0->dims[1]))
			return fail(c, OPND_DST, LUMEN_VERR_SHAPE);
		break;
	case LUMEN_OP_ADD:
	case LUMEN_OP_MUL:
		for (i = 0; i < LUMEN_MAX_DIMS; i++)
			if (s1->dims[i] != 1 && s1->dims[i] != s0->dims[i])
				return fail(c, OPND_SRC(1), LUMEN_VERR_SHAPE);
		if (!dims_like(dst, s0, s0->dims[1]))
			return fail(c, OPND_DST, LUMEN_VERR_SHAPE);
		break;
	case LUMEN_OP_SWIGLU:
	case LUMEN_OP_GEGLU:
		if (!dims_like(s1, s0, s0->dims[1]))
			return fail(c, OPND_SRC(1), LUMEN_VERR_SHAPE);
		if (!dims_like(dst, s0, s0->dims[1]))
			return fail(c, OPND_DST, LUMEN_VERR_SHAPE);
		break;
	case LUMEN_OP_ROPE:
	case LUMEN_OP_COPY:
	case LUMEN_OP_SOFTMAX:
		if (!dims_like(dst, s0, last ? 1 : s0->dims[1]))
			return fail(c, OPND_DST, LUMEN_VERR_SHAPE);
		break;
	case LUMEN_OP_ARGMAX:
		if (!dims_are(dst, 1, last ? 1 : s0->dims[1]))
			return fail(c, OPND_DST, LUMEN_VERR_SHAPE);
		break;
	default:
		/* NOP has no operands; TOPK's dst depends on k */
		break;
	}
	return LUMEN_VERR_OK;
}

static int check_heads(u32 width, u32 n_head)
{
	return n_head && !(width % n_head);
}

static int check_params(struct op_check *c)
{
	const struct lumen_op *op = c->op;
	const struct lumen_tensor *s0 = &op->src[0];
	const u32 *p = op->params;
	u32 last = op->flags & LUMEN_OPF_LAST_ROW;
	u32 hd, groups;

	switch (op->opcode) {
	case LUMEN_OP_RMSNORM:
		if (!f32_bits_positive(p[LUMEN_P_EPS]))
			return LUMEN_VERR_BAD_PARAM;
		groups = p[LUMEN_P_N_GROUP] ? p[LUMEN_P_N_GROUP] : 1;
		if (s0->dims[0] % groups)
			return LUMEN_VERR_BAD_PARAM;
		if (!dims_are(&op->src[1], s0->dims[0] / groups, 1))
			return fail(c, OPND_SRC(1), LUMEN_VERR_SHAPE);
		break;
	case LUMEN_OP_ROPE:
		if (!check_heads(s0->dims[0], p[LUMEN_P_N_HEAD]))
			return LUMEN_VERR_BAD_PARAM;
		hd = s0->dims[0] / p[LUMEN_P_N_HEAD];
		if ((p[LUMEN_P_N_ROT] & 1) || p[LUMEN_P_N_ROT] < 2 ||
		    p[LUMEN_P_N_ROT] > hd ||
		    !f32_bits_positive(p[LUMEN_P_FREQ_BASE]))
			return LUMEN_VERR_BAD_PARAM;
		if ((op->flags & LUMEN_OPF_ROPE_FACTORS) &&
		    !dims_are(&op->src[1], p[LUMEN_P_N_ROT] / 2, 1))
			return fail(c, OPND_SRC(1), LUMEN_VERR_SHAPE);
		break;
	case LUMEN_OP_ATTENTION:
		if (!check_heads(s0->dims[0], p[LUMEN_P_N_HEAD]) ||
		    !check_heads(p[LUMEN_P_N_HEAD], p[LUMEN_P_N_KV_HEAD]) ||
		    !f32_bits_finite(p[LUMEN_P_SCALE]))
			return LUMEN_VERR_BAD_PARAM;
		hd = s0->dims[0] / p[LUMEN_P_N_HEAD];
		/* n_kv * hd <= n_head * hd = dims[0]: no overflow */
		if (op->src[1].dims[0] != p[LUMEN_P_N_KV_HEAD] * hd)
			return fail(c, OPND_SRC(1), LUMEN_VERR_SHAPE);
		break;
	case LUMEN_OP_SOFTMAX:
		if (!f32_bits_finite(p[LUMEN_P_SCALE]))
			return LUMEN_VERR_BAD_PARAM;
		break;
	case LUMEN_OP_TOPK:
		if (!p[LUMEN_P_K] || p[LUMEN_P_K] > LUMEN_MAX_TOPK ||
		    p[LUMEN_P_K] > s0->dims[0])
			return LUMEN_VERR_BAD_PARAM;
		if (!dims_are(&op->dst, 2 * p[LUMEN_P_K],
			      last ? 1 : s0->dims[1]))
			return fail(c, OPND_DST, LUMEN_VERR_SHAPE);
		break;
	default:
		break;
	}
	return LUMEN_VERR_OK;
}

/*
 * The dst may only be a source marked in place, and then exactly that
 * source; any other shared byte would make the result depend on the order
 * the executor walks elements in.
 */
static int check_alias(struct op_check *c)
{
	const struct lumen_tensor *dst = &c->op->dst, *s;
	u32 n;

	for (n = OPND_SRC(0); n < OPND_COUNT; n++) {
		if (!(c->used & LV_BIT(n)))
			continue;
		s = operand(c->op, n);
		if (s->region != dst->region)
			continue;
		if ((c->rule->in_place & LV_BIT(n - 1)) && tensors_identical(s, dst))
			continue;
		if (s->offset < c->end[OPND_DST] && dst->offset < c->end[n])
			return fail(c, n, LUMEN_VERR_ALIAS);
	}
	return LUMEN_VERR_OK;
}

static int check_op(struct op_check *c)
{
	int err;

	if (c->op->opcode >= LUMEN_OP_COUNT)
		return LUMEN_VERR_BAD_OPCODE;
	c->rule = &lumen_op_info[c->op->opcode];
	err = check_op_fields(c);
	if (!err)
		err = check_operands(c);
	if (!err)
		err = check_shapes(c);
	if (!err)
		err = check_params(c);
	if (!err && (c->used & LV_BIT(OPND_DST)))
		err = check_alias(c);
	return err;
}

static void account(const struct op_check *c, struct lumen_validation *v,
		    u32 *max_slot)
{
	const struct lumen_op *op = c->op;
	const struct lumen_tensor *t;
	u32 n;

	for (n = 0; n < OPND_COUNT; n++) {
		if (!(c->used & LV_BIT(n)))
			continue;
		t = operand(op, n);
		v->regions_used |= LV_BIT(t->region);
		if (n == OPND_DST)
			v->regions_written |= LV_BIT(t->region);
		if (c->end[n] > v->region_size[t->region])
			v->region_size[t->region] = c->end[n];
	}
	if (op->rows_arg != LUMEN_ARG_NONE && op->rows_arg >= *max_slot)
		*max_slot = op->rows_arg + 1U;
	if (op->pos_arg != LUMEN_ARG_NONE && op->pos_arg >= *max_slot)
		*max_slot = op->pos_arg + 1U;
}

static int check_header(const struct lumen_prog_header *h, size_t size)
{
	u64 want;
	int i;

	if (h->magic != LUMEN_PROG_MAGIC)
		return LUMEN_VERR_BAD_MAGIC;
	if (h->isa_version != LUMEN_ISA_VERSION)
		return LUMEN_VERR_BAD_VERSION;
	/* v1 reads exactly v1 structs; a later version grows these */
	if (h->header_size != sizeof(struct lumen_prog_header))
		return LUMEN_VERR_BAD_HEADER_SIZE;
	if (h->op_size != sizeof(struct lumen_op))
		return LUMEN_VERR_BAD_OP_SIZE;
	if (!h->op_count || h->op_count > LUMEN_MAX_OPS)
		return LUMEN_VERR_BAD_OP_COUNT;
	if (__builtin_mul_overflow((u64)h->op_count, (u64)h->op_size, &want) ||
	    __builtin_add_overflow(want, (u64)h->header_size, &want) ||
	    want != (u64)size)
		return LUMEN_VERR_SIZE_MISMATCH;
	if (!h->region_count || h->region_count > LUMEN_MAX_REGIONS)
		return LUMEN_VERR_BAD_REGION_COUNT;
	if (h->args_region >= h->region_count)
		return LUMEN_VERR_BAD_ARGS_REGION;
	if (h->flags)
		return LUMEN_VERR_HEADER_RESERVED;
	for (i = 0; i < 8; i++)
		if (h->reserved[i])
			return LUMEN_VERR_HEADER_RESERVED;
	return LUMEN_VERR_OK;
}

/* The region fields of a rejected program are zero: none may be trusted. */
static int set_result(struct lumen_validation *v, int err, u32 op, u32 opnd)
{
	int i;

	for (i = 0; i < LUMEN_MAX_REGIONS; i++)
		v->region_size[i] = 0;
	v->regions_used = 0;
	v->regions_written = 0;
	v->error = err;
	v->error_op = op;
	v->error_operand = opnd;
	return err;
}

int lumen_validate(const void *prog, size_t size, struct lumen_validation *v)
{
	const struct lumen_prog_header *h = prog;
	const struct lumen_op *ops;
	struct op_check c;
	u32 i, max_slot = 0;	/* slots the args region must hold */
	u64 args_bytes;
	int err;

	set_result(v, LUMEN_VERR_OK, LV_NONE, LV_NONE);
	v->op_count = 0;
	if (!prog || size < sizeof(*h))
		return set_result(v, LUMEN_VERR_TOO_SMALL, LV_NONE, LV_NONE);
	err = check_header(h, size);
	if (err)
		return set_result(v, err, LV_NONE, LV_NONE);
	v->op_count = h->op_count;

	ops = (const struct lumen_op *)((const u8 *)prog + h->header_size);
	for (i = 0; i < h->op_count; i++) {
		c.op = &ops[i];
		c.region_count = h->region_count;
		c.used = 0;
		c.operand = LV_NONE;
		err = check_op(&c);
		if (err)
			return set_result(v, err, i, c.operand);
		account(&c, v, &max_slot);
	}

	if (max_slot) {
		args_bytes = (u64)max_slot * 4;
		v->regions_used |= LV_BIT(h->args_region);
		if (args_bytes > v->region_size[h->args_region])
			v->region_size[h->args_region] = args_bytes;
	}
	return LUMEN_VERR_OK;
}
