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

struct lumen_blk_q4_1 {
	uint16_t d;
	uint16_t m;
	uint8_t qs[LUMEN_QK / 2];
} __attribute__((packed));

struct lumen_blk_q5_0 {
	uint16_t d;
	uint8_t qh[4];		/* bit j: fifth bit of weight j */
	uint8_t qs[LUMEN_QK / 2];
} __attribute__((packed));

struct lumen_blk_q5_1 {
	uint16_t d;
	uint16_t m;
	uint8_t qh[4];
	uint8_t qs[LUMEN_QK / 2];
} __attribute__((packed));

/* K-quants: super-blocks of LUMEN_QK_K weights */
#define LUMEN_K_SCALE_SIZE 12

struct lumen_blk_q4_k {
	uint16_t d;		/* scale of the 6-bit sub-block scales */
	uint16_t dmin;		/* scale of the 6-bit sub-block mins */
	uint8_t scales[LUMEN_K_SCALE_SIZE];
	uint8_t qs[LUMEN_QK_K / 2];
} __attribute__((packed));

struct lumen_blk_q5_k {
	uint16_t d;
	uint16_t dmin;
	uint8_t scales[LUMEN_K_SCALE_SIZE];
	uint8_t qh[LUMEN_QK_K / 8];
	uint8_t qs[LUMEN_QK_K / 2];
} __attribute__((packed));

struct lumen_blk_q6_k {
	uint8_t ql[LUMEN_QK_K / 2];	/* low 4 bits */
	uint8_t qh[LUMEN_QK_K / 4];	/* high 2 bits */
	int8_t scales[LUMEN_QK_K / 16];
	uint16_t d;
} __attribute__((packed));

_Static_assert(sizeof(struct lumen_blk_q8_0) == 34, "GGUF block_q8_0");
_Static_assert(sizeof(struct lumen_blk_q4_0) == 18, "GGUF block_q4_0");
_Static_assert(sizeof(struct lumen_blk_q4_1) == 20, "GGUF block_q4_1");
_Static_assert(sizeof(struct lumen_blk_q5_0) == 22, "GGUF block_q5_0");
_Static_assert(sizeof(struct lumen_blk_q5_1) == 24, "GGUF block_q5_1");
_Static_assert(sizeof(struct lumen_blk_q4_k) == 144, "GGUF block_q4_K");
_Static_assert(sizeof(struct lumen_blk_q5_k) == 176, "GGUF block_q5_K");
_Static_assert(sizeof(struct lumen_blk_q6_k) == 210, "GGUF block_q6_K");

/*
 * Sub-block j (0..7) scale and min of a Q4_K/Q5_K super-block: 6 bits
 * each, packed in 12 bytes (isa.rst, "Q4_K").
 */
static inline void lumen_k4_scale_min(const uint8_t *q, int j, uint8_t *sc,
				      uint8_t *m)
{
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (q[j + 4] & 0xf) | (q[j - 4] >> 6) << 4;
		*m = (q[j + 4] >> 4) | (q[j] >> 6) << 4;
	}
}

#ifndef __KERNEL__
float lumen_f16_to_f32(uint16_t h);
uint16_t lumen_f32_to_f16(float f);	/* round to nearest even */

/* Quantize n floats (n a multiple of LUMEN_QK) as ggml's reference does. */
void lumen_quantize_row_q8_0(const float *x, void *blocks, size_t n);
void lumen_quantize_row_q4_0(const float *x, void *blocks, size_t n);
/*
 * Simple quantizers of the other block types (n a multiple of the block),
 * for tests and the model generator: valid blocks of decent accuracy, not
 * ggml's search-based quantizations.
 */
void lumen_quantize_row(uint32_t dtype, const float *x, void *blocks, size_t n);
uint16_t lumen_f32_to_bf16(float f);	/* round to nearest even */

/* Dequantize n elements (n a multiple of the block size) of any dtype. */
void lumen_dequantize_row(uint32_t dtype, const void *src, float *dst,
			  size_t n);

/*
 * Q4_0x8 (LUMEN_DTYPE_Q4_0_R8, isa.rst "Q4_0x8"): LUMEN_ROW_GROUP Q4_0
 * rows of k elements, src_stride bytes apart, interleaved into one group
 * of 8 * k / 32 * 18 bytes, and back. A group's row is not contiguous, so
 * its dequantization names the group and the row in it.
 */
void lumen_repack_q4_0_r8(const void *src, size_t src_stride, void *group,
			  size_t k);
void lumen_unpack_q4_0_r8(const void *group, unsigned int row, void *dst,
			  size_t k);
void lumen_dequantize_row_q4_0_r8(const void *group, unsigned int row,
				  float *dst, size_t k);
/* the same for Q8_0x8 (LUMEN_DTYPE_Q8_0_R8): 8 chunks of 4 int8 a row */
void lumen_repack_q8_0_r8(const void *src, size_t src_stride, void *group,
			  size_t k);
void lumen_unpack_q8_0_r8(const void *group, unsigned int row, void *dst,
			  size_t k);
/*
 * Q4_Kx8 (LUMEN_DTYPE_Q4_K_R8, isa.rst "Q4_Kx8"): per super-block of 256
 * columns the 8 rows' d, their dmin, their 12 scale bytes (3 chunks of 32,
 * row i's bytes 4k..4k+3 at 4i of chunk k) and 32 chunks of nibbles (row
 * i's qs[4c..4c+3] at 4i of chunk c): 1152 bytes, the size of 8 Q4_K.
 */
void lumen_repack_q4_k_r8(const void *src, size_t src_stride, void *group,
			  size_t k);
void lumen_unpack_q4_k_r8(const void *group, unsigned int row, void *dst,
			  size_t k);
/*
 * Q6_Kx8 (LUMEN_DTYPE_Q6_K_R8, isa.rst "Q6_Kx8"): per super-block the 8
 * rows' d, their scales (4 chunks), ql (32 chunks), qh (16 chunks), row
 * i's bytes 4c..4c+3 at 4i of chunk c: 1680 bytes, the size of 8 Q6_K.
 */
void lumen_repack_q6_k_r8(const void *src, size_t src_stride, void *group,
			  size_t k);
void lumen_unpack_q6_k_r8(const void *group, unsigned int row, void *dst,
			  size_t k);
/*
 * Q5_0x8 (LUMEN_DTYPE_Q5_0_R8, isa.rst "Q5_0x8"): per block the 8 scales,
 * the rows' fifth bits (row i's at 16 + 4i, bit 8l + c the high bit of
 * column 4c + l, bit 8l + 4 + c of column 16 + 4c + l), 4 chunks of
 * nibbles as Q4_0x8's: 176 bytes, the size of 8 Q5_0.
 */
void lumen_repack_q5_0_r8(const void *src, size_t src_stride, void *group,
			  size_t k);
void lumen_unpack_q5_0_r8(const void *group, unsigned int row, void *dst,
			  size_t k);
/* any interleaved dtype: 8 plain rows into a group */
void lumen_repack_r8(uint32_t dtype, const void *src, size_t src_stride,
		     void *group, size_t k);
/* any interleaved dtype: its row of a group, as floats */
void lumen_dequantize_row_r8(uint32_t dtype, const void *group,
			     unsigned int row, float *dst, size_t k);
/* the GGUF type an interleaved dtype interleaves (itself for the others) */
uint32_t lumen_r8_base(uint32_t dtype);
#endif

#endif /* LUMEN_DTYPE_H */
