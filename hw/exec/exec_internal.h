/* SPDX-License-Identifier: MIT */
/*
 * Internals of the hw/core executor shared by its files: the thread pool,
 * the kernel table (scalar or AVX2, chosen once per executor) and the
 * context an op implementation receives after its operands were checked.
 */
#ifndef LUMEN_EXEC_INTERNAL_H
#define LUMEN_EXEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lumen_exec.h"
#include "lumen_dtype.h"
#include "lumen_ops.h"

/* Environment variable that forces the portable kernels (tests use it). */
#define LUMEN_EXEC_SCALAR_ENV "LUMEN_EXEC_SCALAR"
/* ... and one that names the level: scalar, avx2 or avx512 */
#define LUMEN_EXEC_KERNELS_ENV "LUMEN_EXEC_KERNELS"

/* ---- thread pool (threadpool.c) ---- */
struct lumen_pool;
/* one item of a parallel loop, run by thread ith (0 is the caller) */
typedef void (*lumen_item_fn)(void *ctx, size_t item, unsigned int ith);

struct lumen_pool *lumen_pool_create(unsigned int threads);
void lumen_pool_destroy(struct lumen_pool *pool);
unsigned int lumen_pool_threads(const struct lumen_pool *pool);
/* runs fn for every item in [0, n_items) across the threads; returns when all are done */
void lumen_pool_for(struct lumen_pool *pool, size_t n_items, lumen_item_fn fn,
		    void *ctx);
/*
 * The same for a loop over about bytes bytes of data: below
 * LUMEN_POOL_SERIAL_BYTES the caller runs every item itself, as waking a
 * worker and waiting for it (about a microsecond between two cores) costs
 * more than the second core saves.
 */
#define LUMEN_POOL_SERIAL_BYTES (64u << 10)
void lumen_pool_for_bytes(struct lumen_pool *pool, size_t n_items, lumen_item_fn fn,
			  void *ctx, uint64_t bytes);
/* another threshold (0: every loop is shared, as the tests of small ops need) */
void lumen_pool_set_serial_bytes(struct lumen_pool *pool, uint64_t bytes);
/*
 * While *flag is non-zero, lumen_pool_for() claims no further item (items
 * running finish); the loop still returns once every item is claimed.
 */
void lumen_pool_set_cancel(struct lumen_pool *pool, const uint32_t *flag);
/*
 * How lumen_pool_for() splits n_items: claims of *chunk items each, the
 * return value the number of claims (the last may be short). It stays at
 * most LUMEN_POOL_MAX_CLAIMS, so the 16-bit ends of a thread's span of
 * claims never wrap whatever size_t n_items is.
 */
#define LUMEN_POOL_MAX_CLAIMS 0xffffu
uint32_t lumen_pool_split(size_t n_items, size_t *chunk);

/*
 * An activation row quantized to Q8_0 for the integer dot products: the
 * int8 values contiguous and the block scales as floats (the F16-rounded
 * scale GGUF would store), so kernels need no per-block conversion. s[b]
 * = d[b] * sum of block b's values lets Q4_0 kernels multiply unsigned
 * nibbles and subtract 8 * s once per block instead of sign-fixing them.
 */
struct lumen_qrow {
	const int8_t *qs;
	const float *d;
	const float *s;
	const int16_t *bsums;	/* Q8_K rows: sum of each 16 values */
	/*
	 * Q4_0 rows for kernels with prep_q4_0: -8 times the sum of each 4
	 * values (8 int32 per block), where a vpdpbusd of the unsigned nibbles
	 * starts, so (q - 8) . x comes out exact in one instruction
	 */
	const int32_t *q4_bias;
	/*
	 * Q4_0x8 / Q5_0x8 / Q8_0x8 rows: where each block's integer sum
	 * starts, -8 (Q4_0x8's nibbles, unsigned), -16 (Q5_0x8's) or -128 (Q8_0x8's values with VNNI,
	 * taken as unsigned w + 128) times the block's sum of values
	 */
	const int32_t *rbias;
};

/*
 * Q8_K, the activations of the K-quant dot products: blocks of 256 int8
 * values with a float scale d (the value of largest magnitude maps to
 * -127, as ggml's quantize_row_q8_K does) and the int16 sum of each 16
 * values, so the K-quants' per-sub-block mins (Q4_K, Q5_K) and Q6_K's
 * offset of 32 cost one multiply per sub-block instead of one per weight.
 */

/* dot_blk[] covers dtypes below this (every block type but Q8_0/Q4_0) */
#define LUMEN_DOT_BLK_TYPES (LUMEN_DTYPE_Q6_K + 1)

/* Most activation rows one weight row is multiplied with at a time. */
#define LUMEN_MR 4
/* weight rows of a tile_* kernel */
#define LUMEN_NR 4
/* most activation rows a gemm_*_r8 call takes */
#define LUMEN_R8_MR 8

/*
 * The compute kernels. gemv_* compute y[j] = W row j . x for n weight rows
 * ws bytes apart (decode: M = 1). dot_* multiply one weight row with nx
 * (1..LUMEN_MR) activation rows, so M > 1 decodes each weight block once.
 */
struct lumen_kernels {
	const char *name;
	void (*gemv_f32)(const void *w, size_t ws, size_t n, const float *x,
			 size_t k, float *y);
	void (*gemv_f16)(const void *w, size_t ws, size_t n, const float *x,
			 size_t k, float *y);
	void (*gemv_q8_0)(const void *w, size_t ws, size_t n,
			  const struct lumen_qrow *x, size_t nb, float *y);
	void (*gemv_q4_0)(const void *w, size_t ws, size_t n,
			  const struct lumen_qrow *x, size_t nb, float *y);
	void (*dot_f32)(const float *w, const float *const *x, unsigned int nx,
			size_t n, float *out);
	void (*dot_f16)(const uint16_t *w, const float *const *x,
			unsigned int nx, size_t n, float *out);
	void (*dot_q8_0)(const void *w, const struct lumen_qrow *x,
			 unsigned int nx, size_t nb, float *out);
	void (*dot_q4_0)(const void *w, const struct lumen_qrow *x,
			 unsigned int nx, size_t nb, float *out);
	/*
	 * NULL, or: LUMEN_NR Q4_0 (Q8_0) weight rows ws bytes apart times
	 * LUMEN_MR activation rows, out[j * LUMEN_MR + r]; each output bit
	 * for bit what the table's matvec gives for it
	 */
	void (*tile_q4_0)(const void *w, size_t ws, const struct lumen_qrow *x,
			  size_t nb, float *out);
	void (*tile_q8_0)(const void *w, size_t ws, const struct lumen_qrow *x,
			  size_t nb, float *out);
	/* quantize nb blocks of x to Q8_0: values to qs, scales to d, sums to s */
	void (*quantize_act)(const float *x, int8_t *qs, float *d, float *s,
			     size_t nb);
	/* NULL, or: fill a Q4_0 row's q4_bias from its values (nb blocks) */
	void (*prep_q4_0)(const int8_t *qs, int32_t *bias, size_t nb);
	/* quantize nb blocks of 256 of x to Q8_K: values, scales, 16-sums */
	void (*quantize_act_k)(const float *x, int8_t *qs, float *d,
			       int16_t *bsums, size_t nb);
	/*
	 * One weight row of GGUF's other block types times nx (1..LUMEN_MR)
	 * activation rows, indexed by dtype: Q4_1, Q5_0, Q5_1 meet Q8_0 rows
	 * (nb blocks of 32), Q4_K, Q5_K, Q6_K meet Q8_K rows (nb blocks of
	 * 256). Exact integer sums per (sub-)block, float per block.
	 */
	void (*dot_blk[LUMEN_DOT_BLK_TYPES])(const void *w,
					     const struct lumen_qrow *x,
					     unsigned int nx, size_t nb,
					     float *out);
	/* BF16 weights times F32 activations, float accumulation */
	void (*dot_bf16)(const uint16_t *w, const float *const *x,
			 unsigned int nx, size_t n, float *out);
	/* s[j] = exp(s[j] - max); returns the sum */
	float (*exp_sum)(float *s, size_t n, float max);
	void (*f16_to_f32)(const uint16_t *x, float *y, size_t n);
	void (*f32_to_f16)(const float *x, uint16_t *y, size_t n);
	/*
	 * Q4_0x8 (LUMEN_DTYPE_Q4_0_R8): ng groups of 8 weight rows, gs bytes
	 * apart, times nx (1..LUMEN_R8_MR) activation rows with rbias;
	 * y[r * ys + 8 * g + i] for row i of group g. Every level has one,
	 * and every output is the same: per block an exact int32 sum, then
	 * acc = fma(d_w * d_x, (float)sum, acc) in block order.
	 */
	void (*gemm_q4_0_r8)(const void *w, size_t gs, size_t ng,
			     const struct lumen_qrow *x, unsigned int nx,
			     size_t nb, float *y, size_t ys);
	/* the same for Q8_0x8 (LUMEN_DTYPE_Q8_0_R8), exact integer sums alike */
	void (*gemm_q8_0_r8)(const void *w, size_t gs, size_t ng,
			     const struct lumen_qrow *x, unsigned int nx,
			     size_t nb, float *y, size_t ys);
	/*
	 * Q4_Kx8 (LUMEN_DTYPE_Q4_K_R8) times Q8_K rows (nb super-blocks):
	 * per super-block and row exact isum and msum, then acc =
	 * fma(d * dx, isum, acc), acc = fma(-(dmin * dx), msum, acc)
	 */
	void (*gemm_q4_k_r8)(const void *w, size_t gs, size_t ng,
			     const struct lumen_qrow *x, unsigned int nx,
			     size_t nb, float *y, size_t ys);
	/*
	 * Q6_Kx8 (LUMEN_DTYPE_Q6_K_R8) times Q8_K rows: per super-block and
	 * row the exact isum = sum_s sc_s sum (q - 32) x, acc = fma(d * dx,
	 * isum, acc)
	 */
	void (*gemm_q6_k_r8)(const void *w, size_t gs, size_t ng,
			     const struct lumen_qrow *x, unsigned int nx,
			     size_t nb, float *y, size_t ys);
	/*
	 * Q5_0x8 (LUMEN_DTYPE_Q5_0_R8) times Q8_0 rows whose rbias is -16
	 * times each block's sum: Q4_0x8's numerics with 5-bit values
	 */
	void (*gemm_q5_0_r8)(const void *w, size_t gs, size_t ng,
			     const struct lumen_qrow *x, unsigned int nx,
			     size_t nb, float *y, size_t ys);
	/* Q8_0x8's rbias factor: -128 where w + 128 meets x, 0 where w does */
	int32_t q8_r8_bias;
	/*
	 * Attention tiles (ops_attention.c), F32 or F16 keys/values (index 0
	 * or 1), for np (query, output) pairs sharing n keys/values stride
	 * bytes apart, so a tile of K or V is loaded (and converted) once for
	 * all of them: s[p][j] = scale * q[p] . K[j]; out[p][i] += sum_j
	 * prob[p][j] V[j][i], j in order. A pair's result never depends on np
	 * nor on how its keys are cut into calls (batch invariance).
	 */
	void (*attn_qk[2])(const float *const *q, unsigned int np, const void *k,
			   size_t stride, size_t n, size_t hd, float scale,
			   float *const *s);
	void (*attn_pv[2])(const float *const *prob, unsigned int np, const void *v,
			   size_t stride, size_t n, size_t hd, float *const *out);
	/* the largest of n scores, NaNs ignored (-inf if none); s[j] *= c */
	float (*attn_max)(const float *s, size_t n);
	void (*attn_scale)(float *s, size_t n, float c);
};

/* attention_{scalar,avx2,avx512}.c: the tables' attn_qk and attn_pv */
void lumen_attn_qk_f32_scalar(const float *const *q, unsigned int np, const void *k,
			      size_t stride, size_t n, size_t hd, float scale,
			      float *const *s);
void lumen_attn_qk_f16_scalar(const float *const *q, unsigned int np, const void *k,
			      size_t stride, size_t n, size_t hd, float scale,
			      float *const *s);
void lumen_attn_pv_f32_scalar(const float *const *prob, unsigned int np, const void *v,
			      size_t stride, size_t n, size_t hd, float *const *out);
void lumen_attn_pv_f16_scalar(const float *const *prob, unsigned int np, const void *v,
			      size_t stride, size_t n, size_t hd, float *const *out);
float lumen_attn_max_scalar(const float *s, size_t n);
void lumen_attn_scale_scalar(float *s, size_t n, float c);
#if defined(__x86_64__) || defined(__i386__)
void lumen_attn_qk_f32_avx2(const float *const *q, unsigned int np, const void *k,
			    size_t stride, size_t n, size_t hd, float scale,
			    float *const *s);
void lumen_attn_qk_f16_avx2(const float *const *q, unsigned int np, const void *k,
			    size_t stride, size_t n, size_t hd, float scale,
			    float *const *s);
void lumen_attn_pv_f32_avx2(const float *const *prob, unsigned int np, const void *v,
			    size_t stride, size_t n, size_t hd, float *const *out);
void lumen_attn_pv_f16_avx2(const float *const *prob, unsigned int np, const void *v,
			    size_t stride, size_t n, size_t hd, float *const *out);
float lumen_attn_max_avx2(const float *s, size_t n);
void lumen_attn_scale_avx2(float *s, size_t n, float c);
void lumen_attn_qk_f32_avx512(const float *const *q, unsigned int np, const void *k,
			      size_t stride, size_t n, size_t hd, float scale,
			      float *const *s);
void lumen_attn_qk_f16_avx512(const float *const *q, unsigned int np, const void *k,
			      size_t stride, size_t n, size_t hd, float scale,
			      float *const *s);
void lumen_attn_pv_f32_avx512(const float *const *prob, unsigned int np, const void *v,
			      size_t stride, size_t n, size_t hd, float *const *out);
void lumen_attn_pv_f16_avx512(const float *const *prob, unsigned int np, const void *v,
			      size_t stride, size_t n, size_t hd, float *const *out);
float lumen_attn_max_avx512(const float *s, size_t n);
void lumen_attn_scale_avx512(float *s, size_t n, float c);
#endif

extern const struct lumen_kernels lumen_kernels_scalar;
/* NULL when the CPU lacks AVX2, FMA or F16C */
const struct lumen_kernels *lumen_kernels_avx2(void);
/* NULL when it also lacks AVX-512 F/BW/VL/VNNI (or the OS does not save ZMM) */
const struct lumen_kernels *lumen_kernels_avx512(void);

/* kernels_select.c: the tables this CPU runs, slowest first (scalar always) */
#define LUMEN_KERNEL_LEVELS 3
size_t lumen_kernels_available(const struct lumen_kernels **out, size_t max);
/* the table of that name ("scalar", "avx2", "avx512"), NULL if unavailable */
const struct lumen_kernels *lumen_kernels_named(const char *name);
/* the fastest table, or the one LUMEN_EXEC_KERNELS / LUMEN_EXEC_SCALAR ask for */
const struct lumen_kernels *lumen_kernels_pick(void);

/* scalar pieces reused by the SIMD kernels for tails */
void lumen_quantize_act_scalar(const float *x, int8_t *qs, float *d, float *s,
			       size_t nb);
void lumen_quantize_act_k_scalar(const float *x, int8_t *qs, float *d,
				 int16_t *bsums, size_t nb);

struct lumen_exec {
	unsigned int threads;
	struct lumen_pool *pool;
	const struct lumen_kernels *k;
	uint8_t *scratch;	/* shared by the threads of one op */
	size_t scratch_size;
	size_t scratch_peak;	/* most any op of the current run needed */
	uint64_t scratch_limit;	/* an op needing more faults NO_MEMORY */
	uint32_t cancel;	/* atomic: lumen_exec_cancel() was called */
	uint64_t cost_limit;	/* most work per run; 0: none */
	uint64_t run_cost;	/* work of the current run's ops so far */
	struct lumen_exec_stats stats;
};

/*
 * One op, its operands checked. Source pointers of the row operand already
 * point at its first row read (row R-1 under LAST_ROW); rows is the number
 * of rows to produce (1 under LAST_ROW).
 */
struct lumen_op_ctx {
	struct lumen_exec *ex;
	const struct lumen_op *op;
	uint8_t *dst;
	const uint8_t *src[LUMEN_MAX_SRCS];
	uint32_t rows;		/* rows written */
	uint32_t pos;
};

/* scratch bytes an op needs for this run (lumen_exec.c grows it beforehand) */
size_t lumen_matmul_scratch(const struct lumen_op *op, uint32_t rows);
size_t lumen_attention_scratch(const struct lumen_op *op, uint32_t n_keys,
			       unsigned int threads);
size_t lumen_rope_scratch(const struct lumen_op *op);

void lumen_op_embed(struct lumen_op_ctx *c);
void lumen_op_matmul(struct lumen_op_ctx *c);
void lumen_op_rmsnorm(struct lumen_op_ctx *c);
void lumen_op_rope(struct lumen_op_ctx *c);
void lumen_op_kv_write(struct lumen_op_ctx *c);
void lumen_op_attention(struct lumen_op_ctx *c);
void lumen_op_swiglu(struct lumen_op_ctx *c);
void lumen_op_geglu(struct lumen_op_ctx *c);
void lumen_op_binary(struct lumen_op_ctx *c);	/* ADD, MUL */
void lumen_op_copy(struct lumen_op_ctx *c);
void lumen_op_softmax(struct lumen_op_ctx *c);
void lumen_op_argmax(struct lumen_op_ctx *c);
void lumen_op_topk(struct lumen_op_ctx *c);

static inline float lumen_bits_f32(uint32_t u)
{
	union { uint32_t u; float f; } v = { .u = u };

	return v.f;
}

#endif /* LUMEN_EXEC_INTERNAL_H */
