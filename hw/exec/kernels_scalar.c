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

/* the 32 unsigned values of a 32-block: nibbles, and fifth bits from qh */
static void unpack_32(const uint8_t *qs, const uint8_t *qh, int *q)
{
	uint32_t h = 0;

	if (qh)
		h = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
		    (uint32_t)qh[3] << 24;
	for (int j = 0; j < LUMEN_QK / 2; j++) {
		q[j] = (qs[j] & 0xf) | (int)(h >> j & 1) << 4;
		q[j + LUMEN_QK / 2] = (qs[j] >> 4) | (int)(h >> (j + 16) & 1) << 4;
	}
}

static int32_t idot(const int *q, const int8_t *x, int n)
{
	int32_t s = 0;

	for (int j = 0; j < n; j++)
		s += q[j] * x[j];
	return s;
}

/*
 * Q4_1 / Q5_1: sum_i (d q_i + m) dx x_i = d dx sum_i q_i x_i + m s_x;
 * Q5_0: d dx sum_i (q_i - 16) x_i.
 */
static void dot_q4_1(const void *wv, const struct lumen_qrow *x,
		     unsigned int nx, size_t nb, float *out)
{
	const struct lumen_blk_q4_1 *w = wv;
	int q[LUMEN_QK];

	for (unsigned int r = 0; r < nx; r++)
		out[r] = 0.0f;
	for (size_t b = 0; b < nb; b++) {
		float d = lumen_f16_to_f32(w[b].d), m = lumen_f16_to_f32(w[b].m);

		unpack_32(w[b].qs, NULL, q);
		for (unsigned int r = 0; r < nx; r++)
			out[r] += d * x[r].d[b] * (float)idot(q, x[r].qs + b * LUMEN_QK, LUMEN_QK) +
				  m * x[r].s[b];
	}
}

static void dot_q5_1(const void *wv, const struct lumen_qrow *x,
		     unsigned int nx, size_t nb, float *out)
{
	const struct lumen_blk_q5_1 *w = wv;
	int q[LUMEN_QK];

	for (unsigned int r = 0; r < nx; r++)
		out[r] = 0.0f;
	for (size_t b = 0; b < nb; b++) {
		float d = lumen_f16_to_f32(w[b].d), m = lumen_f16_to_f32(w[b].m);

		unpack_32(w[b].qs, w[b].qh, q);
		for (unsigned int r = 0; r < nx; r++)
			out[r] += d * x[r].d[b] * (float)idot(q, x[r].qs + b * LUMEN_QK, LUMEN_QK) +
				  m * x[r].s[b];
	}
}

static void dot_q5_0(const void *wv, const struct lumen_qrow *x,
		     unsigned int nx, size_t nb, float *out)
{
	const struct lumen_blk_q5_0 *w = wv;
	int q[LUMEN_QK];

	for (unsigned int r = 0; r < nx; r++)
		out[r] = 0.0f;
	for (size_t b = 0; b < nb; b++) {
		float d = lumen_f16_to_f32(w[b].d);

		unpack_32(w[b].qs, w[b].qh, q);
		for (int j = 0; j < LUMEN_QK; j++)
			q[j] -= 16;
		for (unsigned int r = 0; r < nx; r++)
			out[r] += d * x[r].d[b] * (float)idot(q, x[r].qs + b * LUMEN_QK, LUMEN_QK);
	}
}

/*
 * Q4_K / Q5_K super-block: sum over sub-blocks j of
 * dx (d sc_j sum_i q_i x_i - dmin m_j sum_i x_i), the sums of x from the
 * Q8_K 16-sums; qh NULL for Q4_K.
 */
static float k45_block(uint16_t d16, uint16_t dmin16, const uint8_t *scales,
		       const uint8_t *qh, const uint8_t *qs,
		       const struct lumen_qrow *x, size_t b)
{
	const int8_t *xq = x->qs + b * LUMEN_QK_K;
	const int16_t *bs = x->bsums + b * (LUMEN_QK_K / 16);
	int32_t isum = 0, msum = 0;
	int q[64];

	for (int p = 0; p < 4; p++) {
		uint8_t sc0, m0, sc1, m1;

		for (int l = 0; l < 32; l++) {
			q[l] = qs[32 * p + l] & 0xf;
			q[l + 32] = qs[32 * p + l] >> 4;
			if (qh) {
				q[l] |= (qh[l] >> (2 * p) & 1) << 4;
				q[l + 32] |= (qh[l] >> (2 * p + 1) & 1) << 4;
			}
		}
		lumen_k4_scale_min(scales, 2 * p, &sc0, &m0);
		lumen_k4_scale_min(scales, 2 * p + 1, &sc1, &m1);
		isum += sc0 * idot(q, xq + 64 * p, 32) + sc1 * idot(q + 32, xq + 64 * p + 32, 32);
		msum += m0 * (bs[4 * p] + bs[4 * p + 1]) + m1 * (bs[4 * p + 2] + bs[4 * p + 3]);
	}
	return x->d[b] * (lumen_f16_to_f32(d16) * (float)isum -
			  lumen_f16_to_f32(dmin16) * (float)msum);
}

static void dot_q4_k(const void *wv, const struct lumen_qrow *x,
		     unsigned int nx, size_t nb, float *out)
{
	const struct lumen_blk_q4_k *w = wv;

	for (unsigned int r = 0; r < nx; r++) {
		float s = 0.0f;

		for (size_t b = 0; b < nb; b++)
			s += k45_block(w[b].d, w[b].dmin, w[b].scales, NULL, w[b].qs, &x[r], b);
		out[r] = s;
	}
}

static void dot_q5_k(const void *wv, const struct lumen_qrow *x,
		     unsigned int nx, size_t nb, float *out)
{
	const struct lumen_blk_q5_k *w = wv;

	for (unsigned int r = 0; r < nx; r++) {
		float s = 0.0f;

		for (size_t b = 0; b < nb; b++)
			s += k45_block(w[b].d, w[b].dmin, w[b].scales, w[b].qh, w[b].qs, &x[r], b);
		out[r] = s;
	}
}

/* Q6_K: d dx sum over sub-blocks s of 16 of sc_s sum_i (q_i - 32) x_i */
static void dot_q6_k(const void *wv, const struct lumen_qrow *x,
		     unsigned int nx, size_t nb, float *out)
{
	const struct lumen_blk_q6_k *w = wv;
	int q[LUMEN_QK_K];

	for (unsigned int r = 0; r < nx; r++)
		out[r] = 0.0f;
	for (size_t b = 0; b < nb; b++) {
		for (int h = 0; h < 2; h++) {
			const uint8_t *ql = w[b].ql + 64 * h, *qh = w[b].qh + 32 * h;
			int *o = q + 128 * h;

			for (int l = 0; l < 32; l++) {
				o[l] = ((ql[l] & 0xf) | (qh[l] & 3) << 4) - 32;
				o[l + 32] = ((ql[l + 32] & 0xf) | (qh[l] >> 2 & 3) << 4) - 32;
				o[l + 64] = ((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4) - 32;
				o[l + 96] = ((ql[l + 32] >> 4) | (qh[l] >> 6 & 3) << 4) - 32;
			}
		}
		float d = lumen_f16_to_f32(w[b].d);

		for (unsigned int r = 0; r < nx; r++) {
			const int8_t *xq = x[r].qs + b * LUMEN_QK_K;
			int32_t isum = 0;

			for (int sb = 0; sb < 16; sb++)
				isum += w[b].scales[sb] * idot(q + 16 * sb, xq + 16 * sb, 16);
			out[r] += d * x[r].d[b] * (float)isum;
		}
	}
}

static void dot_bf16(const uint16_t *w, const float *const *x, unsigned int nx,
		     size_t n, float *out)
{
	for (unsigned int r = 0; r < nx; r++)
		out[r] = 0.0f;
	for (size_t i = 0; i < n; i++) {
		float wi = lumen_bits_f32((uint32_t)w[i] << 16);

		for (unsigned int r = 0; r < nx; r++)
			out[r] += wi * x[r][i];
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

/*
 * Q4_0x8 (isa.rst, "Q4_0x8"): byte 4i + l of chunk c is row i's Q4_0 byte
 * 4c + l, its low nibble column 4c + l, its high nibble 16 + 4c + l. fmaf
 * rounds once, as the SIMD kernels' vfmadd does, so all levels agree.
 */
static void gemm_q4_0_r8(const void *wv, size_t gs, size_t ng,
			 const struct lumen_qrow *x, unsigned int nx, size_t nb,
			 float *y, size_t ys)
{
	for (size_t g = 0; g < ng; g++) {
		const uint8_t *grp = (const uint8_t *)wv + g * gs;

		for (unsigned int r = 0; r < nx; r++) {
			float acc[LUMEN_ROW_GROUP] = { 0 };

			for (size_t b = 0; b < nb; b++) {
				const uint8_t *blk = grp + b * LUMEN_ROW_GROUP * 18;
				const int8_t *xq = x[r].qs + b * LUMEN_QK;

				for (unsigned int i = 0; i < LUMEN_ROW_GROUP; i++) {
					int32_t sum = x[r].rbias[b];
					uint16_t d;

					for (int c = 0; c < 4; c++) {
						for (int l = 0; l < 4; l++) {
							uint8_t q = blk[16 + 32 * c + 4 * i + l];

							sum += (q & 0xf) * xq[4 * c + l] +
							       (q >> 4) * xq[16 + 4 * c + l];
						}
					}
					memcpy(&d, blk + 2 * i, 2);
					acc[i] = fmaf(lumen_f16_to_f32(d) * x[r].d[b],
						      (float)sum, acc[i]);
				}
			}
			memcpy(y + r * ys + g * LUMEN_ROW_GROUP, acc, sizeof(acc));
		}
	}
}

/* Q8_0x8: chunk c (0..7) holds row i's values 4c..4c+3 at 4i; rbias is 0 here */
static void gemm_q8_0_r8(const void *wv, size_t gs, size_t ng,
			 const struct lumen_qrow *x, unsigned int nx, size_t nb,
			 float *y, size_t ys)
{
	for (size_t g = 0; g < ng; g++) {
		const uint8_t *grp = (const uint8_t *)wv + g * gs;

		for (unsigned int r = 0; r < nx; r++) {
			float acc[LUMEN_ROW_GROUP] = { 0 };

			for (size_t b = 0; b < nb; b++) {
				const uint8_t *blk = grp + b * LUMEN_ROW_GROUP * 34;
				const int8_t *xq = x[r].qs + b * LUMEN_QK;

				for (unsigned int i = 0; i < LUMEN_ROW_GROUP; i++) {
					int32_t sum = x[r].rbias[b];
					uint16_t d;

					for (int c = 0; c < 8; c++)
						for (int l = 0; l < 4; l++)
							sum += (int8_t)blk[16 + 32 * c + 4 * i + l] *
							       xq[4 * c + l];
					memcpy(&d, blk + 2 * i, 2);
					acc[i] = fmaf(lumen_f16_to_f32(d) * x[r].d[b],
						      (float)sum, acc[i]);
				}
			}
			memcpy(y + r * ys + g * LUMEN_ROW_GROUP, acc, sizeof(acc));
		}
	}
}

/*
 * Q4_Kx8 (isa.rst, "Q4_Kx8"): per super-block and row the exact integers
 * isum = sum_j sc_j S_j (S_j: sub-block j's nibbles . x) and msum = sum_j
 * m_j (x's sum over sub-block j), then two fmaf in this order, as the SIMD
 * kernels' vfmadd and vfnmadd.
 */
static void gemm_q4_k_r8(const void *wv, size_t gs, size_t ng,
			 const struct lumen_qrow *x, unsigned int nx, size_t nb,
			 float *y, size_t ys)
{
	for (size_t g = 0; g < ng; g++) {
		const uint8_t *grp = (const uint8_t *)wv + g * gs;

		for (unsigned int r = 0; r < nx; r++) {
			float acc[LUMEN_ROW_GROUP] = { 0 };

			for (size_t b = 0; b < nb; b++) {
				const uint8_t *blk = grp + b * LUMEN_ROW_GROUP * 144;
				const int8_t *xq = x[r].qs + b * LUMEN_QK_K;
				const int16_t *bs = x[r].bsums + b * (LUMEN_QK_K / 16);

				for (unsigned int i = 0; i < LUMEN_ROW_GROUP; i++) {
					int32_t isum = 0, msum = 0;
					uint8_t scales[12];
					uint16_t d, dmin;

					for (int c = 0; c < 3; c++)
						memcpy(scales + 4 * c, blk + 32 + 32 * c + 4 * i, 4);
					for (int j = 0; j < 8; j++) {
						int p = j / 2, shift = 4 * (j % 2);
						int32_t s = 0;
						uint8_t sc, m;

						for (int c = 8 * p; c < 8 * p + 8; c++)
							for (int l = 0; l < 4; l++)
								s += (blk[128 + 32 * c + 4 * i + l] >> shift & 0xf) *
								     xq[64 * p + 32 * (j % 2) + 4 * (c - 8 * p) + l];
						lumen_k4_scale_min(scales, j, &sc, &m);
						isum += sc * s;
						msum += m * (bs[2 * j] + bs[2 * j + 1]);
					}
					memcpy(&d, blk + 2 * i, 2);
					memcpy(&dmin, blk + 16 + 2 * i, 2);
					acc[i] = fmaf(lumen_f16_to_f32(d) * x[r].d[b],
						      (float)isum, acc[i]);
					acc[i] = fmaf(-(lumen_f16_to_f32(dmin) * x[r].d[b]),
						      (float)msum, acc[i]);
				}
			}
			memcpy(y + r * ys + g * LUMEN_ROW_GROUP, acc, sizeof(acc));
		}
	}
}

/*
 * Q6_Kx8 (isa.rst, "Q6_Kx8"): weight j's 6-bit value of row i of a
 * super-block: its ql nibble and qh bit pair, as Q6_K lays them out,
 * from the interleaved chunks.
 */
static int q6_k_r8_value(const uint8_t *blk, unsigned int i, int j)
{
	int h = j / 128, t = j % 128, l = t % 32, quarter = t / 32;
	int qli = 64 * h + 32 * (quarter & 1) + l, qhi = 32 * h + l;
	uint8_t ql = blk[144 + 32 * (qli / 4) + 4 * i + qli % 4];
	uint8_t qh = blk[1168 + 32 * (qhi / 4) + 4 * i + qhi % 4];

	return ((quarter < 2 ? ql & 0xf : ql >> 4) | (qh >> (2 * quarter) & 3) << 4);
}

/* per super-block and row the exact isum = sum_s sc_s sum (q - 32) x, one fmaf */
static void gemm_q6_k_r8(const void *wv, size_t gs, size_t ng,
			 const struct lumen_qrow *x, unsigned int nx, size_t nb,
			 float *y, size_t ys)
{
	for (size_t g = 0; g < ng; g++) {
		const uint8_t *grp = (const uint8_t *)wv + g * gs;

		for (unsigned int r = 0; r < nx; r++) {
			float acc[LUMEN_ROW_GROUP] = { 0 };

			for (size_t b = 0; b < nb; b++) {
				const uint8_t *blk = grp + b * LUMEN_ROW_GROUP * 210;
				const int8_t *xq = x[r].qs + b * LUMEN_QK_K;

				for (unsigned int i = 0; i < LUMEN_ROW_GROUP; i++) {
					int32_t isum = 0;
					uint16_t d;

					for (int s = 0; s < 16; s++) {
						int8_t sc = (int8_t)blk[16 + 32 * (s / 4) + 4 * i + s % 4];
						int32_t sum = 0;

						for (int j = 16 * s; j < 16 * s + 16; j++)
							sum += (q6_k_r8_value(blk, i, j) - 32) * xq[j];
						isum += sc * sum;
					}
					memcpy(&d, blk + 2 * i, 2);
					acc[i] = fmaf(lumen_f16_to_f32(d) * x[r].d[b],
						      (float)isum, acc[i]);
				}
			}
			memcpy(y + r * ys + g * LUMEN_ROW_GROUP, acc, sizeof(acc));
		}
	}
}

/*
 * Q5_0x8 (isa.rst, "Q5_0x8"): Q4_0x8's nibbles with each row's fifth bits
 * at 16 + 4i, bit 8l + c for column 4c + l, 8l + 4 + c for 16 + 4c + l;
 * rbias is -16 times the block's sum of x
 */
static void gemm_q5_0_r8(const void *wv, size_t gs, size_t ng,
			 const struct lumen_qrow *x, unsigned int nx, size_t nb,
			 float *y, size_t ys)
{
	for (size_t g = 0; g < ng; g++) {
		const uint8_t *grp = (const uint8_t *)wv + g * gs;

		for (unsigned int r = 0; r < nx; r++) {
			float acc[LUMEN_ROW_GROUP] = { 0 };

			for (size_t b = 0; b < nb; b++) {
				const uint8_t *blk = grp + b * LUMEN_ROW_GROUP * 22;
				const int8_t *xq = x[r].qs + b * LUMEN_QK;

				for (unsigned int i = 0; i < LUMEN_ROW_GROUP; i++) {
					const uint8_t *hb = blk + 16 + 4 * i;
					int32_t sum = x[r].rbias[b];
					uint16_t d;

					for (int c = 0; c < 4; c++) {
						for (int l = 0; l < 4; l++) {
							uint8_t q = blk[48 + 32 * c + 4 * i + l];
							int lo = (q & 0xf) | (hb[l] >> c & 1) << 4;
							int hi = (q >> 4) | (hb[l] >> (4 + c) & 1) << 4;

							sum += lo * xq[4 * c + l] + hi * xq[16 + 4 * c + l];
						}
					}
					memcpy(&d, blk + 2 * i, 2);
					acc[i] = fmaf(lumen_f16_to_f32(d) * x[r].d[b],
						      (float)sum, acc[i]);
				}
			}
			memcpy(y + r * ys + g * LUMEN_ROW_GROUP, acc, sizeof(acc));
		}
	}
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
	.quantize_act_k = lumen_quantize_act_k_scalar,
	.dot_blk = {
		[LUMEN_DTYPE_Q4_1] = dot_q4_1,
		[LUMEN_DTYPE_Q5_0] = dot_q5_0,
		[LUMEN_DTYPE_Q5_1] = dot_q5_1,
		[LUMEN_DTYPE_Q4_K] = dot_q4_k,
		[LUMEN_DTYPE_Q5_K] = dot_q5_k,
		[LUMEN_DTYPE_Q6_K] = dot_q6_k,
	},
	.dot_bf16 = dot_bf16,
	.exp_sum = exp_sum,
	.f16_to_f32 = f16_to_f32,
	.f32_to_f16 = f32_to_f16,
	.gemm_q4_0_r8 = gemm_q4_0_r8,
	.gemm_q8_0_r8 = gemm_q8_0_r8,
	.gemm_q4_k_r8 = gemm_q4_k_r8,
	.gemm_q6_k_r8 = gemm_q6_k_r8,
	.gemm_q5_0_r8 = gemm_q5_0_r8,
	.q8_r8_bias = 0,
	.attn_qk = { lumen_attn_qk_f32_scalar, lumen_attn_qk_f16_scalar },
	.attn_pv = { lumen_attn_pv_f32_scalar, lumen_attn_pv_f16_scalar },
	.attn_max = lumen_attn_max_scalar,
	.attn_scale = lumen_attn_scale_scalar,
};
