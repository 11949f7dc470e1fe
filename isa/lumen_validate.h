/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
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

#include <drm/lumen_isa.h>

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
	__u64 region_size[LUMEN_MAX_REGIONS];
	__u32 regions_used;
	__u32 regions_written;
	__u32 op_count;
	__u32 error;
	__u32 error_op;
	__u32 error_operand;
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

/**
 * lumen_verr_str() - a short text for an &enum lumen_verr.
 * @err: the code.
 *
 * Return: a static string, distinct for every code.
 */
const char *lumen_verr_str(uint32_t err);

/**
 * lumen_type_size() - bytes of one element, or of one block for Q4_0/Q8_0.
 * @dtype: &enum lumen_dtype.
 *
 * Return: 0 for an unknown dtype.
 */
uint32_t lumen_type_size(uint32_t dtype);

/**
 * lumen_type_block() - elements per unit of lumen_type_size().
 * @dtype: &enum lumen_dtype.
 *
 * Return: 32 for Q4_0 and Q8_0, else 1.
 */
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
