/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The NPU's tensor element types as bytes: GGUF's block layouts, and the
 * row code (F16 conversion, quantization, dequantization) that the
 * compiler, the synthetic-model generator, the executor and the tests all
 * use, so a value means the same thing on every floor.
 *
 * The block structs are kernel-compatible; the row code uses floating
 * point and is userspace only (lumen_dtype.c).
 */
#ifndef LUMEN_DTYPE_H
#define LUMEN_DTYPE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

#include <drm/lumen_isa.h>

/* GGUF block layouts, bit for bit: a block is used in place, never copied. */
struct lumen_blk_q8_0 {
	uint16_t d;
	int8_t qs[LUMEN_QK];
} __attribute__((packed));

struct lumen_blk_q4_0 {
	uint16_t d;
	uint8_t qs[LUMEN_QK / 2];
} __attribute__((packed));

#ifndef __KERNEL__
float lumen_f16_to_f32(uint16_t h);
uint16_t lumen_f32_to_f16(float f);	/* round to nearest even */

/* Quantize n floats (n a multiple of LUMEN_QK) as ggml's reference does. */
void lumen_quantize_row_q8_0(const float *x, void *blocks, size_t n);
void lumen_quantize_row_q4_0(const float *x, void *blocks, size_t n);

/* Dequantize n elements (n a multiple of the block size) of any dtype. */
void lumen_dequantize_row(uint32_t dtype, const void *src, float *dst,
			  size_t n);
#endif

#endif /* LUMEN_DTYPE_H */
