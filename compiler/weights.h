/* SPDX-License-Identifier: MIT */
/* Dtype choice and sizes of the weights blob (internal to lumenc). */
#ifndef LUMENC_WEIGHTS_H
#define LUMENC_WEIGHTS_H

#include <stdint.h>

#include "model.h"

/* the NPU dtype of a matrix under --quant @quant (LC_KEEP_DTYPE: as stored) */
uint32_t lc_matrix_dtype(const struct lm_weight *w, uint32_t quant,
			 int *kept_f16);
/*
 * The dtype a matrix of @rows rows is stored in: Q4_0 becomes Q4_0x8,
 * Q5_0 Q5_0x8, Q8_0 Q8_0x8, Q4_K Q4_Kx8 and Q6_K Q6_Kx8 (rows
 * interleaved in groups of 8) when the rows make whole groups.
 */
uint32_t lc_stored_dtype(uint32_t dtype, uint64_t rows, int no_repack);
uint64_t lc_weight_bytes(uint32_t dtype, uint64_t row_len, uint64_t rows);

#endif /* LUMENC_WEIGHTS_H */
