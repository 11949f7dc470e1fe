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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#include "../../uapi/drm/lumen_isa.h"

/*
 * One reason per distinct way a program can be malformed; the numbers are
 * ABI (the kernel reports them), so new ones go at the end.
 */
enum lumen_verr {
	LUMEN_VERR_OK = 0,
	LUMEN_VERR_TOO_SMALL = 1,
	LUMEN_VERR_BAD_MAGIC = 2,
	LUMEN_VERR_BAD_VERSION = 3,
	LUMEN_VERR_BAD_HEADER_SIZE = 4,
	LUMEN_VERR_BAD_OP_SIZE = 5,
	LUMEN_VERR_BAD_OP_COUNT = 6,
	LUMEN_VERR_SIZE_MISMATCH = 7,
	LUMEN_VERR_BAD_REGION_COUNT = 8,
	LUMEN_VERR_BAD_ARGS_REGION = 9,
	LUMEN_VERR_HEADER_RESERVED = 10,
	LUMEN_VERR_BAD_OPCODE = 11,
	LUMEN_VERR_BAD_FLAGS = 12,
	LUMEN_VERR_OP_PAD = 13,
	LUMEN_VERR_BAD_ARG_SLOT = 14,
	LUMEN_VERR_ARG_NOT_ALLOWED = 15,
	LUMEN_VERR_UNUSED_TENSOR = 16,
	LUMEN_VERR_TENSOR_PAD = 17,
	LUMEN_VERR_BAD_REGION = 18,
	LUMEN_VERR_BAD_DTYPE = 19,
	LUMEN_VERR_ZERO_DIM = 20,
	LUMEN_VERR_BLOCK_ALIGN = 21,
	LUMEN_VERR_BAD_STRIDE0 = 22,
	LUMEN_VERR_DST_OVERLAP = 23,
	LUMEN_VERR_SHAPE = 24,
	LUMEN_VERR_BAD_PARAM = 25,
	LUMEN_VERR_OVERFLOW = 26,
	LUMEN_VERR_ALIAS = 27,
	LUMEN_VERR_MISALIGNED = 28,
	LUMEN_VERR_COUNT
};

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
