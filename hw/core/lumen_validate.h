/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The one validator of Lumen programs, compiled by the kernel driver, the
 * device model, the compiler and the executor alike. It checks structure,
 * opcodes, flags, dtypes, dims, strides and arg slots, and computes the
 * bytes each region must hold. No allocation, no floating point, no libc:
 * kernel-compatible C with overflow-checked arithmetic.
 */
#ifndef LUMEN_VALIDATE_H
#define LUMEN_VALIDATE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

#include "../../uapi/drm/lumen_isa.h"

/* One reason per distinct way a program can be malformed. */
#define LUMEN_VERRORS(X)						\
	X(OK, "valid")							\
	X(TOO_SMALL, "program smaller than its header")			\
	X(BAD_MAGIC, "bad magic")					\
	X(BAD_VERSION, "unsupported ISA version")			\
	X(BAD_HEADER_SIZE, "header_size unknown")			\
	X(BAD_OP_SIZE, "op_size unknown")				\
	X(BAD_OP_COUNT, "op_count zero or above LUMEN_MAX_OPS")		\
	X(SIZE_MISMATCH, "program size is not header + op_count ops")	\
	X(BAD_REGION_COUNT, "region_count zero or above LUMEN_MAX_REGIONS") \
	X(BAD_ARGS_REGION, "args_region not below region_count")	\
	X(HEADER_RESERVED, "header flags or reserved not zero")		\
	X(BAD_OPCODE, "unknown opcode")					\
	X(BAD_FLAGS, "flag not valid for this opcode")			\
	X(OP_PAD, "op pad or unused param not zero")			\
	X(BAD_ARG_SLOT, "arg slot above LUMEN_MAX_ARG_SLOTS")		\
	X(ARG_NOT_ALLOWED, "op does not take this arg")			\
	X(UNUSED_TENSOR, "unused tensor not all zero")			\
	X(TENSOR_PAD, "tensor pad not zero")				\
	X(BAD_REGION, "tensor region not below region_count")		\
	X(BAD_DTYPE, "dtype not allowed for this operand")		\
	X(ZERO_DIM, "dimension of zero elements")			\
	X(BLOCK_ALIGN, "quantized row not a multiple of the block size") \
	X(BAD_STRIDE0, "strides[0] is not the element or block size")	\
	X(DST_OVERLAP, "dst strides make elements overlap")		\
	X(SHAPE, "operand shapes do not agree")				\
	X(BAD_PARAM, "op parameter out of range")			\
	X(OVERFLOW, "tensor extent overflows 64 bits")			\
	X(ALIAS, "dst overlaps a source it may not alias")

#define LUMEN_VERR_ENUM(name, text) LUMEN_VERR_##name,
enum lumen_verr {
	LUMEN_VERRORS(LUMEN_VERR_ENUM)
	LUMEN_VERR_COUNT
};
#undef LUMEN_VERR_ENUM

/**
 * struct lumen_validation - what the validator learnt of a program.
 * @region_size: bytes each region slot must hold at least.
 * @regions_used: bit n set when slot n is named by a tensor or is the args.
 * @regions_written: bit n set when slot n is some op's dst.
 * @op_count: ops in the program.
 * @error: &enum lumen_verr, LUMEN_VERR_OK when valid.
 * @error_op: index of the op that failed, or ~0 for a header error.
 * @error_operand: 0 for dst, 1..3 for src[0..2], ~0 when not a tensor.
 */
struct lumen_validation {
	uint64_t region_size[LUMEN_MAX_REGIONS];
	uint32_t regions_used;
	uint32_t regions_written;
	uint32_t op_count;
	uint32_t error;
	uint32_t error_op;
	uint32_t error_operand;
};

/**
 * lumen_validate() - check a whole program.
 * @prog: the program bytes, in memory the caller owns (kernel: a copy).
 * @size: their count.
 * @v: filled in, also on error.
 *
 * Return: 0 when valid, else the &enum lumen_verr also left in @v->error.
 */
int lumen_validate(const void *prog, size_t size, struct lumen_validation *v);

/** lumen_verr_str() - a person's words for an &enum lumen_verr. */
const char *lumen_verr_str(uint32_t err);

/**
 * lumen_type_size() - bytes of one element, or of one block for Q4_0/Q8_0.
 * Return: 0 for an unknown dtype.
 */
uint32_t lumen_type_size(uint32_t dtype);

/** lumen_type_block() - elements per unit of lumen_type_size() (1 or 32). */
uint32_t lumen_type_block(uint32_t dtype);

/**
 * lumen_tensor_extent() - one past the last byte a tensor touches when its
 * dims[1] is @rows instead of its capacity.
 * @t: the tensor.
 * @rows: rows to count, at most t->dims[1].
 * @end: the result.
 *
 * Return: 0, or -1 on overflow or an unknown dtype.
 */
int lumen_tensor_extent(const struct lumen_tensor *t, uint32_t rows,
			uint64_t *end);

#endif /* LUMEN_VALIDATE_H */
