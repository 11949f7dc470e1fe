// SPDX-License-Identifier: MIT
/*
 * Portable kernels: the fallback on CPUs without AVX2 and the path tests
 * force to check it. Same block arithmetic as the SIMD kernels (exact
 * integer sums per block, then one float multiply-add per block).
 */
#include <math.h>
#include <string.h>

#include "exec_internal.h"

static void dot_f32(const float *w, const float *const *x, unsigned int nx,
		    size_t n, float *out)
{
	for (unsigned int r = 0; r < nx; r++) {
		float s = 0.0f;

		for (size_t i = 0; i < n; i++)
			s += w[i] * x[r][i];
		out[r] = s;
	}
}

static void dot_f16(const uint16_t *w, const float *const *x, unsigned int nx,
		    size_t n, float *out)
{
	for (unsigned int r = 0; r < nx; r++)
		out[r] = 0.0f;
	for (size_t i = 0; i < n; i++) {
		float wi = lumen_f16_to_f32(w[i]);

		for (unsigned int r = 0; r < nx; r++)
			out[r] += wi * x[r][i];
	}
}

static void dot_q8_0(const void *wv, const struct lumen_qrow *x,
		     unsigned int nx, size_t nb, float *out)
{
	const struct lumen_blk_q8_0 *w = wv;

	for (unsigned int r = 0; r < nx; r++)
		out[r] = 0.0f;
	for (size_t b = 0; b < nb; b++) {
		float d = lumen_f16_to_f32(w[b].d);

		for (unsigned int r = 0; r < nx; r++) {
			const int8_t *q = x[r].qs + b * LUMEN_QK;
			int32_t s = 0;

			for (int j = 0; j < LUMEN_QK; j++)
				s += w[b].qs[j] * q[j];
			out[r] += d * x[r].d[b] * (float)s;
		}
	}
}

static void dot_q4_0(const void *wv, const struct lumen_qrow *x,
		     unsigned int nx, size_t nb, float *out)
{
	const struct lumen_blk_q4_0 *w = wv;

	for (unsigned int r = 0; r < nx; r++)
		out[r] = 0.0f;
	for (size_t b = 0; b < nb; b++) {
		float d = lumen_f16_to_f32(w[b].d);

		for (unsigned int r = 0; r < nx; r++) {
			const int8_t *q = x[r].qs + b * LUMEN_QK;
			int32_t s = 0;

			for (int j = 0; j < LUMEN_QK / 2; j++) {
				s += ((w[b].qs[j] & 0xf) - 8) * q[j];
				s += ((w[b].qs[j] >> 4) - 8) * q[j + LUMEN_QK / 2];
			}
			out[r] += d * x[r].d[b] * (float)s;
		}
	}
}

static void gemv_f32(const void *w, size_t ws, size_t n, const float *x,
		     size_t k, float *y)
{
	for (size_t j = 0; j < n; j++)
		dot_f32((const float *)((const uint8_t *)w + j * ws), &x, 1, k, y + j);
}

static void gemv_f16(const void *w, size_t ws, size_t n, const float *x,
		     size_t k, float *y)
{
	for (size_t j = 0; j < n; j++)
		dot_f16((const uint16_t *)((const uint8_t *)w + j * ws), &x, 1, k, y + j);
}

static void gemv_q8_0(const void *w, size_t ws, size_t n,
		      const struct lumen_qrow *x, size_t nb, float *y)
{
	for (size_t j = 0; j < n; j++)
		dot_q8_0((const uint8_t *)w + j * ws, x, 1, nb, y + j);
}

static void gemv_q4_0(const void *w, size_t ws, size_t n,
		      const struct lumen_qrow *x, size_t nb, float *y)
{
	for (size_t j = 0; j < n; j++)
		dot_q4_0((const uint8_t *)w + j * ws, x, 1, nb, y + j);
}

static float load_elt(const uint8_t *row, size_t i, int f16)
{
	return f16 ? lumen_f16_to_f32(((const uint16_t *)row)[i]) : ((const float *)row)[i];
}

static void scores(const float *q, const void *k, size_t stride, size_t n,
		   size_t hd, float scale, float *s, int f16)
{
	for (size_t j = 0; j < n; j++) {
		const uint8_t *kj = (const uint8_t *)k + j * stride;
		float d = 0.0f;

		for (size_t i = 0; i < hd; i++)
			d += q[i] * load_elt(kj, i, f16);
		s[j] = scale * d;
	}
}

static void values(const float *p, const void *v, size_t stride, size_t n,
		   size_t hd, float *out, int f16)
{
	for (size_t i = 0; i < hd; i++)
		out[i] = 0.0f;
	for (size_t j = 0; j < n; j++) {
		const uint8_t *vj = (const uint8_t *)v + j * stride;

		for (size_t i = 0; i < hd; i++)
			out[i] += p[j] * load_elt(vj, i, f16);
	}
}

static void scores_f32(const float *q, const void *k, size_t stride, size_t n,
		       size_t hd, float scale, float *s)
{
	scores(q, k, stride, n, hd, scale, s, 0);
}

static void scores_f16(const float *q, const void *k, size_t stride, size_t n,
		       size_t hd, float scale, float *s)
{
	scores(q, k, stride, n, hd, scale, s, 1);
}

static void values_f32(const float *p, const void *v, size_t stride, size_t n,
		       size_t hd, float *out)
{
	values(p, v, stride, n, hd, out, 0);
}

static void values_f16(const float *p, const void *v, size_t stride, size_t n,
		       size_t hd, float *out)
{
	values(p, v, stride, n, hd, out, 1);
}

static float exp_sum(float *s, size_t n, float max)
{
	float sum = 0.0f;

	for (size_t j = 0; j < n; j++) {
		s[j] = expf(s[j] - max);
		sum += s[j];
	}
	return sum;
}

static void f16_to_f32(const uint16_t *x, float *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] = lumen_f16_to_f32(x[i]);
}

static void f32_to_f16(const float *x, uint16_t *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] = lumen_f32_to_f16(x[i]);
}

const struct lumen_kernels lumen_kernels_scalar = {
	.name = "scalar",
	.gemv_f32 = gemv_f32,
	.gemv_f16 = gemv_f16,
	.gemv_q8_0 = gemv_q8_0,
	.gemv_q4_0 = gemv_q4_0,
	.dot_f32 = dot_f32,
	.dot_f16 = dot_f16,
	.dot_q8_0 = dot_q8_0,
	.dot_q4_0 = dot_q4_0,
	.quantize_act = lumen_quantize_act_scalar,
	.attn_scores = { scores_f32, scores_f16 },
	.attn_values = { values_f32, values_f16 },
	.exp_sum = exp_sum,
	.f16_to_f32 = f16_to_f32,
	.f32_to_f16 = f32_to_f16,
};
