/* SPDX-License-Identifier: MIT */
/*
 * Lowering of a llama-family graph to two Lumen programs sharing one set
 * of regions: decode (one token) and prefill (a chunk of tokens). Also
 * lays out the weights blob and plans activation memory.
 */
#ifndef LUMENC_LOWER_H
#define LUMENC_LOWER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lnpu.h"
#include "model.h"
#include <drm/lumen_isa.h>

#define LC_KEEP_DTYPE	0xffffffffU	/* --quant not given */

struct lc_options {
	uint32_t ctx;		/* 0: the model's training context, at most 4096 */
	uint32_t prefill_chunk;	/* rows of the prefill program */
	uint32_t kv_dtype;	/* LUMEN_DTYPE_F16 or LUMEN_DTYPE_F32 */
	uint32_t quant;		/* LUMEN_DTYPE_Q8_0, LUMEN_DTYPE_Q4_0 or LC_KEEP_DTYPE */
	/*
	 * draft tokens the verify program scores with the one before them
	 * (rows = draft_max + 1); 0: LC_DRAFT_MAX_DEFAULT; LC_NO_VERIFY: no
	 * verify program (lumenc --draft-max 0)
	 */
	uint32_t draft_max;
	/*
	 * the verify program also writes each row's top verify_topk logits
	 * (ids and values), for sampled verification; 0:
	 * LC_VERIFY_TOPK_DEFAULT (at most the vocabulary); LC_NO_VERIFY: none
	 */
	uint32_t verify_topk;
	/*
	 * keep Q4_0, Q5_0, Q8_0, Q4_K and Q6_K matrices as GGUF lays them out
	 * instead of interleaving their rows in groups of 8 (Q4_0x8, Q5_0x8,
	 * Q8_0x8, Q4_Kx8, Q6_Kx8; lumenc --no-repack): for A/B benchmarks, tests of the plain
	 * kernels, and devices that predate the interleaved dtypes
	 */
	int no_repack;
};

#define LC_DRAFT_MAX_DEFAULT	8
/* llama.cpp's default top-k: a sampler at top_k <= 40 needs no full row */
#define LC_VERIFY_TOPK_DEFAULT	40
#define LC_NO_VERIFY		0xffffffffU

/* One tensor of the weights blob: rows of up to three source weights stacked. */
struct lc_weight {
	char name[48];
	uint32_t dtype;		/* lumen dtype */
	uint64_t row_len;
	uint64_t rows;
	uint64_t offset;	/* in the blob */
	uint64_t size;
	const struct lm_weight *parts[3];
	uint32_t n_parts;
	int kept_f16;		/* --quant asked, rows not a multiple of 32 */
};

/* A virtual activation buffer: placed by liveness after lowering. */
struct lc_vbuf {
	uint64_t size;
	uint32_t first, last;	/* ops using it */
	uint64_t offset;	/* in the activations region */
};

struct lc_program {
	uint8_t *buf;		/* header then ops */
	size_t size, cap;
	uint32_t n_ops;
	struct lc_vbuf *vb;
	uint32_t n_vb, cap_vb;
	int32_t (*vref)[4];	/* per op: vbuf of dst, src0..2, or -1 */
	uint32_t cap_vref;
	uint64_t act_naive, act_planned;
	uint32_t rows;		/* capacity: 1, the prefill chunk or draft_max + 1 */
};

/* LC_VERIFY: every row's logits and argmax, for speculative decoding */
enum { LC_DECODE = 0, LC_PREFILL = 1, LC_VERIFY = 2 };

struct lc_out {
	const struct lm_model *m;
	struct lc_options opt;
	struct lc_weight *w;
	uint32_t n_w, cap_w;
	uint64_t weights_size;
	uint32_t fused_qkv, fused_gate_up;	/* layers fused */
	uint32_t matrix_dtype;		/* dtype of layer 0's Q/K/V */
	struct lc_program prog[3];
	uint32_t n_prog;		/* 3 with a verify program, else 2 */
	uint64_t region_size[LNPU_SLOT_COUNT];
	uint32_t out_logits, out_argmax;
	uint32_t verify_rows, out_verify_logits, out_verify_argmax;
	uint32_t verify_topk, out_verify_topk;
};

int lc_lower(struct lc_out *o, const struct lm_model *m,
	     const struct lc_options *opt, char *err, size_t errlen);
void lc_free(struct lc_out *o);
/* what the compiler decided: regions, activation plan, kept-F16 rows */
void lc_report(const struct lc_out *o, FILE *f);

/*
 * Convert rows [@first, @first + @n) of a weight of the blob into @dst;
 * for Q4_0x8 whole groups of LUMEN_ROW_GROUP rows (lc_row_unit()).
 * @tmp: scratch of at least LC_CONVERT_SCRATCH(w->row_len) bytes.
 */
#define LC_CONVERT_SCRATCH(row_len) \
	((row_len) * sizeof(float) + (row_len) / 32 * 34 * 8)
/* rows a conversion of @w is split in: 8 for the interleaved dtypes, else 1 */
uint64_t lc_row_unit(const struct lc_weight *w);
void lc_convert_rows(const struct lc_weight *w, uint64_t first, uint64_t n,
		     uint8_t *dst, float *tmp);
/* call @fn on the source bytes of rows [@first, @first + @n) of @w */
void lc_source_spans(const struct lc_weight *w, uint64_t first, uint64_t n,
		     void (*fn)(const void *p, uint64_t len));

#endif /* LUMENC_LOWER_H */
