// SPDX-License-Identifier: MIT
#include "ref_exec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec_internal.h"
#include "lumen_test.h"

static uint64_t rng_state = 1;

void rng_seed(uint64_t seed)
{
	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
}

uint32_t rng_u32(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

float rng_float(float lo, float hi)
{
	return lo + (hi - lo) * (float)(rng_u32() & 0xffffff) / (float)0x1000000;
}

void rng_fill(float *x, size_t n, float lo, float hi)
{
	for (size_t i = 0; i < n; i++)
		x[i] = rng_float(lo, hi);
}

uint8_t *reg_alloc(struct regions *r, unsigned int slot, uint64_t size, uint8_t fill)
{
	uint8_t *raw;

	if (r->mem[slot])
		free(r->mem[slot] - GUARD_BYTES);
	raw = malloc(size + 2 * GUARD_BYTES);
	if (!raw)
		abort();
	memset(raw, GUARD_BYTE, GUARD_BYTES);
	memset(raw + GUARD_BYTES, fill, size);
	memset(raw + GUARD_BYTES + size, GUARD_BYTE, GUARD_BYTES);
	r->mem[slot] = raw + GUARD_BYTES;
	r->size[slot] = size;
	if (slot >= r->n)
		r->n = slot + 1;
	return r->mem[slot];
}

void reg_free(struct regions *r)
{
	for (unsigned int i = 0; i < LUMEN_MAX_REGIONS; i++)
		if (r->mem[i])
			free(r->mem[i] - GUARD_BYTES);
	memset(r, 0, sizeof(*r));
}

int reg_guards_intact(const struct regions *r)
{
	for (unsigned int i = 0; i < r->n; i++) {
		if (!r->mem[i])
			continue;
		for (int j = 0; j < GUARD_BYTES; j++)
			if (r->mem[i][-1 - j] != GUARD_BYTE ||
			    r->mem[i][r->size[i] + j] != GUARD_BYTE)
				return 0;
	}
	return 1;
}

void reg_bind(const struct regions *r, struct lumen_region *out)
{
	for (unsigned int i = 0; i < LUMEN_MAX_REGIONS; i++) {
		out[i].base = r->mem[i];
		out[i].size = r->mem[i] ? r->size[i] : 0;
	}
}

float *reg_f32(struct regions *r, unsigned int slot, uint64_t offset)
{
	return (float *)(r->mem[slot] + offset);
}

const char *kernel_level_name(int level)
{
	static const char *const names[KL_COUNT] = { "best", "scalar", "avx2", "avx512" };

	return level >= 0 && level < KL_COUNT ? names[level] : "?";
}

int kernel_level_available(int level)
{
	return level == KL_BEST || lumen_kernels_named(kernel_level_name(level)) != NULL;
}

struct lumen_exec *exec_new(unsigned int threads, int scalar)
{
	unsetenv(LUMEN_EXEC_SCALAR_ENV);
	if (scalar == KL_BEST)
		unsetenv(LUMEN_EXEC_KERNELS_ENV);
	else
		setenv(LUMEN_EXEC_KERNELS_ENV, kernel_level_name(scalar), 1);
	struct lumen_exec *ex = lumen_exec_create(threads);

	/* the tests' small ops share out their items as large ones do */
	if (ex)
		lumen_pool_set_serial_bytes(ex->pool, 0);
	return ex;
}

int run_with(struct lumen_exec *ex, struct prog_builder *pb, struct regions *r,
	     struct lumen_fault *fault)
{
	struct lumen_region bound[LUMEN_MAX_REGIONS];
	struct lumen_validation v;

	if (lumen_validate(pb->buf, pb->size, &v)) {
		printf("# program invalid: %s at op %u operand %u\n",
		       lumen_verr_str(v.error), v.error_op, v.error_operand);
		fault->code = LUMEN_FAULT_INVALID_PROGRAM;
		return -1;
	}
	reg_bind(r, bound);
	return lumen_exec_run(ex, pb->buf, pb->size, bound, LUMEN_MAX_REGIONS, fault);
}

int run_prog(struct prog_builder *pb, struct regions *r, unsigned int threads,
	     int scalar, struct lumen_fault *fault)
{
	struct lumen_exec *ex = exec_new(threads, scalar);
	int ret;

	if (!ex)
		abort();
	ret = run_with(ex, pb, r, fault);
	lumen_exec_destroy(ex);
	return ret;
}

double ref_f16_to_double(uint16_t h)
{
	int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
	double v;

	if (exp == 31)
		v = mant ? NAN : INFINITY;
	else if (exp == 0)
		v = ldexp(mant, -24);
	else
		v = ldexp(1024 + mant, exp - 25);
	return sign ? -v : v;
}

uint16_t ref_f32_to_f16(float f)
{
	uint16_t sign = signbit(f) ? 0x8000 : 0;
	double a = fabs((double)f), m;
	int e;

	if (isnan(f))
		return 0x7e00 | sign;
	if (a >= 65520.0)
		return 0x7c00 | sign;
	if (a < ldexp(1, -14))	/* subnormal: multiples of 2^-24 */
		return sign | (uint16_t)nearbyint(a / ldexp(1, -24));
	frexp(a, &e);
	e -= 1;			/* a = 1.f * 2^e */
	m = nearbyint((a / ldexp(1, e) - 1.0) * 1024.0);
	if (m == 1024) {
		m = 0;
		e++;
	}
	return sign | (uint16_t)((e + 15) << 10) | (uint16_t)m;
}

static double le16_half(const uint8_t *p)
{
	return ref_f16_to_double((uint16_t)(p[0] | p[1] << 8));
}

/* 6-bit scale (what 0) or min (what 1) of sub-block j of a Q4_K/Q5_K block */
static int ref_k_scale(const uint8_t *s, int j, int what)
{
	/* bytes 0-3: scales 0-3 in bits 0-5, bits 4-5 of scales 4-7 on top;
	 * bytes 4-7: mins 0-3 likewise; bytes 8-11: low nibbles of scale and
	 * min 4-7 */
	if (j < 4)
		return s[j + 4 * what] & 63;
	return (s[j + 4] >> (4 * what) & 15) | (s[j - 4 + 4 * what] >> 6) << 4;
}

/* weight e (0..255) of one K-quant super-block, decoded from its bytes */
static double ref_k_weight(uint32_t dtype, const uint8_t *blk, int e)
{
	int sub = e / 32, chunk = e / 64, l = e % 32, upper = e % 64 >= 32;

	if (dtype == LUMEN_DTYPE_Q6_K) {
		int h = e / 128, g = (e % 128) / 32;
		uint8_t lo = blk[64 * h + 32 * (g & 1) + l];
		int nib = g < 2 ? lo & 15 : lo >> 4;
		int hi = blk[128 + 32 * h + l] >> (2 * g) & 3;
		int8_t sc = (int8_t)blk[192 + e / 16];

		return le16_half(blk + 208) * sc * ((nib | hi << 4) - 32);
	}
	const uint8_t *qs = blk + (dtype == LUMEN_DTYPE_Q5_K ? 48 : 16);
	int q = upper ? qs[32 * chunk + l] >> 4 : qs[32 * chunk + l] & 15;

	if (dtype == LUMEN_DTYPE_Q5_K)
		q |= (blk[16 + l] >> (2 * chunk + upper) & 1) << 4;
	return le16_half(blk) * ref_k_scale(blk + 4, sub, 0) * q -
	       le16_half(blk + 2) * ref_k_scale(blk + 4, sub, 1);
}

/* weight j of a 32-block of Q4_1 / Q5_0 / Q5_1 */
static double ref_32_weight(uint32_t dtype, const uint8_t *blk, int j)
{
	int has_m = dtype != LUMEN_DTYPE_Q5_0, has_h = dtype != LUMEN_DTYPE_Q4_1;
	const uint8_t *qh = blk + (has_m ? 4 : 2);
	const uint8_t *qs = qh + (has_h ? 4 : 0);
	int q = j < 16 ? qs[j] & 15 : qs[j - 16] >> 4;

	if (has_h)
		q |= (qh[j / 8] >> (j % 8) & 1) << 4;
	if (dtype == LUMEN_DTYPE_Q5_0)
		return le16_half(blk) * (q - 16);
	return le16_half(blk) * q + le16_half(blk + 2);
}

void ref_dequant_row(uint32_t dtype, const uint8_t *src, double *dst, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t b = i / 32, j = i % 32;
		uint16_t h;
		float f;

		switch (dtype) {
		case LUMEN_DTYPE_F32:
			memcpy(&f, src + 4 * i, 4);
			dst[i] = f;
			break;
		case LUMEN_DTYPE_F16:
			memcpy(&h, src + 2 * i, 2);
			dst[i] = ref_f16_to_double(h);
			break;
		case LUMEN_DTYPE_BF16: {
			uint32_t u = (uint32_t)(src[2 * i] | src[2 * i + 1] << 8) << 16;

			memcpy(&f, &u, 4);
			dst[i] = f;
			break;
		}
		case LUMEN_DTYPE_Q8_0:
			memcpy(&h, src + 34 * b, 2);
			dst[i] = ref_f16_to_double(h) * (int8_t)src[34 * b + 2 + j];
			break;
		case LUMEN_DTYPE_Q4_0: {
			const uint8_t *q = src + 18 * b + 2;
			int nib = j < 16 ? q[j] & 15 : q[j - 16] >> 4;

			memcpy(&h, src + 18 * b, 2);
			dst[i] = ref_f16_to_double(h) * (nib - 8);
			break;
		}
		case LUMEN_DTYPE_Q4_1:
			dst[i] = ref_32_weight(dtype, src + 20 * b, (int)j);
			break;
		case LUMEN_DTYPE_Q5_0:
			dst[i] = ref_32_weight(dtype, src + 22 * b, (int)j);
			break;
		case LUMEN_DTYPE_Q5_1:
			dst[i] = ref_32_weight(dtype, src + 24 * b, (int)j);
			break;
		case LUMEN_DTYPE_Q4_K:
			dst[i] = ref_k_weight(dtype, src + 144 * (i / 256), (int)(i % 256));
			break;
		case LUMEN_DTYPE_Q5_K:
			dst[i] = ref_k_weight(dtype, src + 176 * (i / 256), (int)(i % 256));
			break;
		case LUMEN_DTYPE_Q6_K:
			dst[i] = ref_k_weight(dtype, src + 210 * (i / 256), (int)(i % 256));
			break;
		}
	}
}

size_t ref_encode_row(uint32_t dtype, const float *x, uint8_t *dst, size_t n)
{
	switch (dtype) {
	case LUMEN_DTYPE_F32:
		memcpy(dst, x, 4 * n);
		return 4 * n;
	case LUMEN_DTYPE_F16:
		for (size_t i = 0; i < n; i++) {
			uint16_t h = ref_f32_to_f16(x[i]);

			memcpy(dst + 2 * i, &h, 2);
		}
		return 2 * n;
	case LUMEN_DTYPE_Q8_0:
		lumen_quantize_row_q8_0(x, dst, n);
		return n / 32 * 34;
	case LUMEN_DTYPE_Q4_0:
		lumen_quantize_row_q4_0(x, dst, n);
		return n / 32 * 18;
	default:	/* the other types: the shared simple quantizers */
		lumen_quantize_row(dtype, x, dst, n);
		return pb_bytes(dtype, (uint32_t)n, 1);
	}
}

int ref_act_is_q8_k(uint32_t dtype)
{
	dtype = lumen_r8_base(dtype);	/* interleaved rows meet what their rows meet */
	return dtype == LUMEN_DTYPE_Q4_K || dtype == LUMEN_DTYPE_Q5_K ||
	       dtype == LUMEN_DTYPE_Q6_K;
}

int ref_act_is_quant(uint32_t dtype)
{
	dtype = lumen_r8_base(dtype);
	return ref_act_is_q8_k(dtype) || dtype == LUMEN_DTYPE_Q4_0 ||
	       dtype == LUMEN_DTYPE_Q4_1 || dtype == LUMEN_DTYPE_Q5_0 ||
	       dtype == LUMEN_DTYPE_Q5_1 || dtype == LUMEN_DTYPE_Q8_0;
}

void ref_q8_k_round(const float *x, double *xq, size_t n)
{
	for (size_t b = 0; b < n; b += 256) {
		float amax = 0, max = 0;

		for (size_t j = b; j < b + 256; j++) {
			if (fabsf(x[j]) > amax) {
				amax = fabsf(x[j]);
				max = x[j];
			}
		}
		float iscale = amax ? -127.0f / max : 0.0f;
		float d = amax ? 1.0f / iscale : 0.0f;

		for (size_t j = b; j < b + 256; j++)
			xq[j] = (double)d * fmin(127, nearbyintf(iscale * x[j]));
	}
}

void ref_q8_k_error_bound(const float *x, double *err, size_t n)
{
	/* |x - d q| <= 1/(2 |iscale|) + |q| |d - 1/iscale|, d within 2^-24 relative */
	for (size_t b = 0; b < n; b += 256) {
		double amax = 0;

		for (size_t j = b; j < b + 256; j++)
			amax = fmax(amax, fabs(x[j]));
		for (size_t j = b; j < b + 256; j++)
			err[j] = amax / 127.0 * (0.5 + 127.0 / 8388608.0) * (1 + 1e-6) + 1e-30;
	}
}

static double block_amax(const float *x, size_t i)
{
	double amax = 0;

	for (size_t j = i / 32 * 32; j < i / 32 * 32 + 32; j++)
		amax = fmax(amax, fabs(x[j]));
	return amax;
}

void ref_q8_round(const float *x, double *xq, size_t n)
{
	for (size_t b = 0; b < n; b += 32) {
		float amax = (float)block_amax(x, b);
		float id = amax ? 127.0f / amax : 0.0f;
		double d16 = ref_f16_to_double(ref_f32_to_f16(amax / 127.0f));

		for (size_t j = b; j < b + 32; j++)
			xq[j] = d16 * nearbyintf(x[j] * id);
	}
}

void ref_q8_error_bound(const float *x, double *err, size_t n)
{
	/* |x - d16 q| <= |x - d q| + |d - d16| |q| <= d/2 + 2^-11 d 127, and a hair for float */
	for (size_t i = 0; i < n; i++)
		err[i] = block_amax(x, i) / 127.0 * (0.5 + 127.0 / 2048.0) * (1 + 1e-6) + 1e-30;
}

void ref_matmul(uint32_t dtype, const uint8_t *w, uint64_t w_stride,
		const double *x, uint32_t k, uint32_t n, uint32_t rows,
		double *dst)
{
	double *wr = malloc(sizeof(double) * k);

	for (uint32_t j = 0; j < n; j++) {
		ref_dequant_row(dtype, w + j * w_stride, wr, k);
		for (uint32_t r = 0; r < rows; r++) {
			double s = 0;

			for (uint32_t i = 0; i < k; i++)
				s += wr[i] * x[(size_t)r * k + i];
			dst[(size_t)r * n + j] = s;
		}
	}
	free(wr);
}

void ref_rmsnorm(const double *x, const double *w, double eps, uint32_t n,
		 double *y)
{
	double ss = 0;

	for (uint32_t i = 0; i < n; i++)
		ss += x[i] * x[i];
	double s = 1.0 / sqrt(ss / n + eps);

	for (uint32_t i = 0; i < n; i++)
		y[i] = x[i] * s * w[i];
}

void ref_rope(double *x, uint32_t n_head, uint32_t hd, uint32_t n_rot,
	      double base, int neox, double pos, const float *factor)
{
	for (uint32_t h = 0; h < n_head; h++) {
		double *v = x + (size_t)h * hd;

		for (uint32_t i = 0; i < n_rot / 2; i++) {
			double theta = pos * pow(base, -2.0 * i / n_rot) /
				       (factor ? factor[i] : 1.0);
			uint32_t a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
			double va = v[a], vb = v[b];

			v[a] = va * cos(theta) - vb * sin(theta);
			v[b] = va * sin(theta) + vb * cos(theta);
		}
	}
}

static double round_f16(double x)
{
	return ref_f16_to_double(ref_f32_to_f16((float)x));
}

void ref_round_f16(double *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = round_f16(x[i]);
}

void ref_attention_row(const double *q, const double *k, const double *v,
		       uint32_t n_keys, uint32_t n_head, uint32_t n_kv,
		       uint32_t hd, double scale, int f16, double *out)
{
	double *s = malloc(sizeof(double) * n_keys);
	uint32_t kvd = n_kv * hd;

	for (uint32_t h = 0; h < n_head; h++) {
		uint32_t g = h / (n_head / n_kv);
		double max = -INFINITY, sum = 0;

		for (uint32_t j = 0; j < n_keys; j++) {
			double d = 0;

			for (uint32_t i = 0; i < hd; i++)
				d += (f16 ? round_f16(q[h * hd + i]) : q[h * hd + i]) *
				     k[(size_t)j * kvd + g * hd + i];
			s[j] = scale * d;
			max = fmax(max, s[j]);
		}
		for (uint32_t j = 0; j < n_keys; j++) {
			s[j] = exp(s[j] - max);
			sum += s[j];
		}
		if (f16) {
			for (uint32_t j = 0; j < n_keys; j++)
				s[j] = round_f16(s[j] / sum);
			sum = 1;
		}
		for (uint32_t i = 0; i < hd; i++) {
			double o = 0;

			for (uint32_t j = 0; j < n_keys; j++)
				o += s[j] * v[(size_t)j * kvd + g * hd + i];
			out[h * hd + i] = o / sum;
		}
	}
	free(s);
}

void ref_softmax(const double *x, uint32_t n, double scale, double *y)
{
	double max = -INFINITY, sum = 0;

	for (uint32_t i = 0; i < n; i++)
		max = fmax(max, scale * x[i]);
	for (uint32_t i = 0; i < n; i++) {
		y[i] = exp(scale * x[i] - max);
		sum += y[i];
	}
	for (uint32_t i = 0; i < n; i++)
		y[i] /= sum;
}

double ref_silu(double x)
{
	return x / (1.0 + exp(-x));
}

float *reg_random_f32(struct regions *r, unsigned int slot, size_t n, float lo,
		      float hi)
{
	float *x = (float *)reg_alloc(r, slot, 4 * n, 0);

	rng_fill(x, n, lo, hi);
	return x;
}

void reg_set_arg(struct regions *r, unsigned int slot, uint32_t value)
{
	if (!r->mem[OP_ARGS])
		reg_alloc(r, OP_ARGS, 4 * LUMEN_MAX_ARG_SLOTS, 0);
	memcpy(r->mem[OP_ARGS] + 4 * slot, &value, 4);
}
