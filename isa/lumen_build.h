/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Builders for program pieces: a header, an op with no arg slots, a dense
 * 2-D tensor. Every writer of programs (the compiler, the benchmarks, the
 * tests) starts from these, so a field the ISA adds is set in one place.
 * Static inline and free of libc: kernel-compatible like the validator.
 */
#ifndef LUMEN_BUILD_H
#define LUMEN_BUILD_H

#include "lumen_validate.h"

/** lumen_row_bytes() - bytes of @n elements of @dtype (whole blocks). */
static inline __u64 lumen_row_bytes(__u32 dtype, __u64 n)
{
	return n / lumen_type_block(dtype) * lumen_type_size(dtype);
}

/**
 * lumen_tensor_2d() - a @d0 x @d1 tensor at @offset of region @region.
 * @row_stride: bytes from one row to the next; 0 for dense rows.
 */
static inline struct lumen_tensor lumen_tensor_2d(__u32 dtype,
						  __u32 region,
						  __u64 offset, __u32 d0,
						  __u32 d1,
						  __u64 row_stride)
{
	struct lumen_tensor t = { 0 };

	if (!row_stride)
		row_stride = lumen_row_bytes(dtype, d0);
	t.dtype = dtype;
	t.region = region;
	t.offset = offset;
	t.dims[0] = d0;
	t.dims[1] = d1;
	t.dims[2] = 1;
	t.dims[3] = 1;
	t.strides[0] = lumen_type_size(dtype);
	t.strides[1] = row_stride;
	t.strides[2] = row_stride * d1;
	t.strides[3] = t.strides[2];
	return t;
}

/** lumen_prog_header_init() - a header for @op_count ops of this ISA. */
static inline void lumen_prog_header_init(struct lumen_prog_header *h,
					  __u32 op_count,
					  __u32 region_count,
					  __u32 args_region)
{
	*h = (struct lumen_prog_header){ 0 };
	h->magic = LUMEN_PROG_MAGIC;
	h->isa_version = LUMEN_ISA_VERSION;
	h->header_size = sizeof(*h);
	h->op_size = sizeof(struct lumen_op);
	h->op_count = op_count;
	h->region_count = region_count;
	h->args_region = args_region;
}

/** lumen_op_init() - an op of @opcode with no operands and no arg slots. */
static inline void lumen_op_init(struct lumen_op *op, __u16 opcode)
{
	*op = (struct lumen_op){ 0 };
	op->opcode = opcode;
	op->rows_arg = LUMEN_ARG_NONE;
	op->pos_arg = LUMEN_ARG_NONE;
}

#endif /* LUMEN_BUILD_H */
