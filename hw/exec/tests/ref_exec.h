/* SPDX-License-Identifier: MIT */
/*
 * Test side of the executor tests: guarded regions, a one-call runner, and
 * deliberately naive references (plain loops, double accumulation, their
 * own F16 and block decoding) that share no code with hw/core.
 */
#ifndef LUMEN_REF_EXEC_H
#define LUMEN_REF_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "lumen_dtype.h"
#include "lumen_exec.h"
#include "prog_builder.h"

/* ---- random numbers (deterministic per seed) ---- */
void rng_seed(uint64_t seed);
uint32_t rng_u32(void);
float rng_float(float lo, float hi);
void rng_fill(float *x, size_t n, float lo, float hi);

/* ---- regions with guard bytes on both sides ---- */
#define GUARD_BYTES 64
#define GUARD_BYTE 0xa5

struct regions {
	unsigned int n;
	uint8_t *mem[LUMEN_MAX_REGIONS];	/* NULL: unbound */
	uint64_t size[LUMEN_MAX_REGIONS];
};

/* (re)allocate slot as @size bytes filled with @fill, guards around */
uint8_t *reg_alloc(struct regions *r, unsigned int slot, uint64_t size, uint8_t fill);
void reg_free(struct regions *r);
/* guard bytes of every bound region untouched */
int reg_guards_intact(const struct regions *r);
void reg_bind(const struct regions *r, struct lumen_region *out);
float *reg_f32(struct regions *r, unsigned int slot, uint64_t offset);

/* ---- running ---- */
/*
 * The kernel level an executor runs, the "scalar" argument of exec_new()
 * and run_prog(): the best the CPU has (0), the portable kernels (1), or a
 * named level (KL_AVX2, KL_AVX512), so each path is tested on a machine
 * that has a faster one.
 */
enum { KL_BEST, KL_SCALAR, KL_AVX2, KL_AVX512, KL_COUNT };
/* the kernel table name of a level ("best" for KL_BEST) */
const char *kernel_level_name(int level);
/* whether this CPU runs that level */
int kernel_level_available(int level);
/* an executor with the kernels of that level */
struct lumen_exec *exec_new(unsigned int threads, int scalar);
/* validate and run pb over r; the fault is returned */
int run_prog(struct prog_builder *pb, struct regions *r, unsigned int threads,
	     int scalar, struct lumen_fault *fault);
int run_with(struct lumen_exec *ex, struct prog_builder *pb, struct regions *r,
	     struct lumen_fault *fault);

/* ---- independent numerics ---- */
double ref_f16_to_double(uint16_t h);
uint16_t ref_f32_to_f16(float f);	/* nearest, ties to even, via double */
/* dequantize a row of any dtype from its raw bytes */
void ref_dequant_row(uint32_t dtype, const uint8_t *src, double *dst, size_t n);
/* encode n floats (n % 32 == 0 for Q types) as @dtype; returns bytes written */
size_t ref_encode_row(uint32_t dtype, const float *x, uint8_t *dst, size_t n);
/* Q8_0 rounding of activations as ggml's x86 code (and the executor) does it */
void ref_q8_round(const float *x, double *xq, size_t n);
/* per-element bound of |x - q8(x)|: half a step plus F16 scale rounding */
void ref_q8_error_bound(const float *x, double *err, size_t n);
/* MATMUL's activations for K-quant weights: Q8_K (blocks of 256, float d) */
int ref_act_is_q8_k(uint32_t dtype);
/* the weight dtype makes MATMUL quantize its activations (Q8_0 or Q8_K) */
int ref_act_is_quant(uint32_t dtype);
void ref_q8_k_round(const float *x, double *xq, size_t n);
void ref_q8_k_error_bound(const float *x, double *err, size_t n);

/* dst[r][n] = sum_k W[n][k] x[r][k] in double; W as raw rows of dtype */
void ref_matmul(uint32_t dtype, const uint8_t *w, uint64_t w_stride,
		const double *x, uint32_t k, uint32_t n, uint32_t rows,
		double *dst);
void ref_rmsnorm(const double *x, const double *w, double eps, uint32_t n,
		 double *y);
/* @factor: n_rot/2 divisors of the angles (ROPE_FACTORS), or NULL */
void ref_rope(double *x, uint32_t n_head, uint32_t hd, uint32_t n_rot,
	      double base, int neox, double pos, const float *factor);
/* one query row (n_head*hd) against n_keys rows of k/v (n_kv*hd) */
/* @f16: the cache is F16, so q and the probabilities are rounded to F16 */
void ref_attention_row(const double *q, const double *k, const double *v,
		       uint32_t n_keys, uint32_t n_head, uint32_t n_kv,
		       uint32_t hd, double scale, int f16, double *out);
/* round each value to the nearest F16 (MATMUL with F16 weights does) */
void ref_round_f16(double *x, size_t n);
void ref_softmax(const double *x, uint32_t n, double scale, double *y);
double ref_silu(double x);

#endif

/* ---- single-op tests: slots 0, 1 sources, 2 dst, 3 args ---- */
enum { OP_A = 0, OP_B = 1, OP_DST = 2, OP_ARGS = 3, OP_REGIONS = 4 };
/* a region of n random floats in [lo, hi) */
float *reg_random_f32(struct regions *r, unsigned int slot, size_t n, float lo,
		      float hi);
void reg_set_arg(struct regions *r, unsigned int slot, uint32_t value);
