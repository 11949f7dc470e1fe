// SPDX-License-Identifier: MIT
/*
 * The portable attention tiles: np query/output pairs over n keys and
 * values. Each score is one sum over the head dimension in order, each
 * output element one sum over the keys in order, so neither depends on
 * how many pairs share a call nor on where the caller cuts the keys.
 */
#include <math.h>

#include "exec_internal.h"

static float elt(const void *row, size_t i, int f16)
{
	return f16 ? lumen_f16_to_f32(((const uint16_t *)row)[i]) : ((const float *)row)[i];
}

static void qk(const float *const *q, unsigned int np, const void *k, size_t stride,
	       size_t n, size_t hd, float scale, float *const *s, int f16)
{
	for (size_t j = 0; j < n; j++) {
		const uint8_t *kj = (const uint8_t *)k + j * stride;

		for (unsigned int p = 0; p < np; p++) {
			float d = 0.0f;

			for (size_t i = 0; i < hd; i++)
				d += q[p][i] * elt(kj, i, f16);
			s[p][j] = scale * d;
		}
	}
}

static void pv(const float *const *prob, unsigned int np, const void *v, size_t stride,
	       size_t n, size_t hd, float *const *out, int f16)
{
	for (size_t j = 0; j < n; j++) {
		const uint8_t *vj = (const uint8_t *)v + j * stride;

		for (unsigned int p = 0; p < np; p++)
			for (size_t i = 0; i < hd; i++)
				out[p][i] += prob[p][j] * elt(vj, i, f16);
	}
}

void lumen_attn_qk_f32_scalar(const float *const *q, unsigned int np, const void *k,
			      size_t stride, size_t n, size_t hd, float scale,
			      float *const *s)
{
	qk(q, np, k, stride, n, hd, scale, s, 0);
}

void lumen_attn_qk_f16_scalar(const float *const *q, unsigned int np, const void *k,
			      size_t stride, size_t n, size_t hd, float scale,
			      float *const *s)
{
	qk(q, np, k, stride, n, hd, scale, s, 1);
}

void lumen_attn_pv_f32_scalar(const float *const *prob, unsigned int np, const void *v,
			      size_t stride, size_t n, size_t hd, float *const *out)
{
	pv(prob, np, v, stride, n, hd, out, 0);
}

void lumen_attn_pv_f16_scalar(const float *const *prob, unsigned int np, const void *v,
			      size_t stride, size_t n, size_t hd, float *const *out)
{
	pv(prob, np, v, stride, n, hd, out, 1);
}

float lumen_attn_max_scalar(const float *s, size_t n)
{
	float max = -INFINITY;

	for (size_t j = 0; j < n; j++)
		max = s[j] > max ? s[j] : max;
	return max;
}

void lumen_attn_scale_scalar(float *s, size_t n, float c)
{
	for (size_t j = 0; j < n; j++)
		s[j] *= c;
}
