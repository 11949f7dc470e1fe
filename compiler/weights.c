// SPDX-License-Identifier: MIT
/*
 * The weights blob: which dtype each weight gets on the NPU, and the
 * conversion of source rows into it. Every dtype the NPU executes is kept
 * as it is (GGUF's block layouts are the NPU's); only --quant, the norms
 * (F32) and rows --quant cannot block (F16) are converted.
 */
#include <stdlib.h>
#include <string.h>

#include "lumen_dtype.h"
#include "lumen_validate.h"
#include "lower.h"
#include "weights.h"

uint32_t lc_matrix_dtype(const struct lm_weight *w, uint32_t quant,
			 int *kept_f16)
{
	*kept_f16 = 0;
	if (quant != LC_KEEP_DTYPE) {
		if (w->dims[0] % LUMEN_QK == 0)
			return quant;
		*kept_f16 = 1;
		return LUMEN_DTYPE_F16;
	}
	return w->dtype;	/* ggml's type numbers are lumen's */
}

uint32_t lc_stored_dtype(uint32_t dtype, uint64_t rows, int no_repack)
{
	if (no_repack || rows % LUMEN_ROW_GROUP)
		return dtype;
	if (dtype == LUMEN_DTYPE_Q4_0)
		return LUMEN_DTYPE_Q4_0_R8;
	if (dtype == LUMEN_DTYPE_Q8_0)
		return LUMEN_DTYPE_Q8_0_R8;
	if (dtype == LUMEN_DTYPE_Q4_K)
		return LUMEN_DTYPE_Q4_K_R8;
	if (dtype == LUMEN_DTYPE_Q6_K)
		return LUMEN_DTYPE_Q6_K_R8;
	if (dtype == LUMEN_DTYPE_Q5_0)
		return LUMEN_DTYPE_Q5_0_R8;
	return dtype;
}

static uint64_t row_bytes(uint32_t dtype, uint64_t n)
{
	return n / lumen_type_block(dtype) * lumen_type_size(dtype);
}

static void to_f32(const struct lm_weight *src, uint64_t row, float *dst)
{
	uint64_t n = src->dims[0];
	const uint8_t *p = src->data + row * row_bytes(src->dtype, n);

	lumen_dequantize_row(src->dtype, p, dst, n);
}

static void from_f32(uint32_t dtype, const float *src, uint8_t *dst,
		     uint64_t n)
{
	switch (dtype) {
	case LUMEN_DTYPE_F32:
		memcpy(dst, src, n * 4);
		break;
	case LUMEN_DTYPE_F16:
		for (uint64_t i = 0; i < n; i++) {
			uint16_t h = lumen_f32_to_f16(src[i]);

			dst[2 * i] = (uint8_t)h;
			dst[2 * i + 1] = (uint8_t)(h >> 8);
		}
		break;
	case LUMEN_DTYPE_Q8_0:
		lumen_quantize_row_q8_0(src, dst, n);
		break;
	case LUMEN_DTYPE_Q4_0:
		lumen_quantize_row_q4_0(src, dst, n);
		break;
	default:	/* not reached: other types are only ever kept as they are */
		lumen_quantize_row(dtype, src, dst, n);
	}
}

/*
 * Q4_0x8 / Q8_0x8 / Q4_Kx8: each group of 8 rows made as plain rows, then
 * interleaved. first and n are whole groups (lnpu_write.c splits them so).
 */
static void convert_rows_r8(const struct lc_weight *w, uint64_t first,
			    uint64_t n, uint8_t *dst, float *tmp)
{
	struct lc_weight plain = *w;
	uint64_t group = LUMEN_ROW_GROUP * row_bytes(w->dtype, w->row_len);
	uint8_t *buf = (uint8_t *)(tmp + w->row_len);	/* LC_CONVERT_SCRATCH */

	plain.dtype = lumen_r8_base(w->dtype);
	for (uint64_t g = 0; g < n / LUMEN_ROW_GROUP; g++, dst += group) {
		lc_convert_rows(&plain, first + g * LUMEN_ROW_GROUP, LUMEN_ROW_GROUP, buf, tmp);
		lumen_repack_r8(w->dtype, buf, group / LUMEN_ROW_GROUP, dst, w->row_len);
	}
}

void lc_convert_rows(const struct lc_weight *w, uint64_t first, uint64_t n,
		     uint8_t *dst, float *tmp)
{
	if (lumen_r8_base(w->dtype) != w->dtype) {
		convert_rows_r8(w, first, n, dst, tmp);
		return;
	}
	uint64_t out_row = row_bytes(w->dtype, w->row_len);
	uint64_t base = 0;

	for (uint32_t i = 0; i < w->n_parts && n; i++) {
		const struct lm_weight *s = w->parts[i];
		uint64_t in_row = row_bytes(s->dtype, s->dims[0]);
		uint64_t r, take;

		if (first >= base + s->dims[1]) {
			base += s->dims[1];
			continue;
		}
		r = first - base;
		take = s->dims[1] - r < n ? s->dims[1] - r : n;
		if (s->dtype == w->dtype) {	/* same layout: copy as is */
			memcpy(dst, s->data + r * in_row, take * in_row);
			dst += take * in_row;
		} else {
			for (uint64_t k = 0; k < take; k++) {
				to_f32(s, r + k, tmp);
				from_f32(w->dtype, tmp, dst, w->row_len);
				dst += out_row;
			}
		}
		first += take;
		n -= take;
		base += s->dims[1];
	}
}

void lc_source_spans(const struct lc_weight *w, uint64_t first, uint64_t n,
		     void (*fn)(const void *p, uint64_t len))
{
	uint64_t base = 0;

	for (uint32_t i = 0; i < w->n_parts; i++) {
		const struct lm_weight *s = w->parts[i];
		uint64_t in_row = row_bytes(s->dtype, s->dims[0]);
		uint64_t lo = first > base ? first : base;
		uint64_t hi = first + n < base + s->dims[1] ? first + n :
			      base + s->dims[1];

		if (lo < hi)
			fn(s->data + (lo - base) * in_row, (hi - lo) * in_row);
		base += s->dims[1];
	}
}

uint64_t lc_weight_bytes(uint32_t dtype, uint64_t row_len, uint64_t rows)
{
	return row_bytes(dtype, row_len) * rows;
}

uint64_t lc_row_unit(const struct lc_weight *w)
{
	return lumen_r8_base(w->dtype) != w->dtype ? LUMEN_ROW_GROUP : 1;
}
