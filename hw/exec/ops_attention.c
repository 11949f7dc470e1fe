// SPDX-License-Identifier: MIT
/*
 * The attention block: ROPE, KV_WRITE and ATTENTION (causal, grouped-query,
 * softmax fused). Threads split ATTENTION by (row, head) pairs.
 */
#include <math.h>
#include <string.h>

#include "exec_internal.h"
#include "lumen_validate.h"

size_t lumen_rope_scratch(const struct lumen_op *op)
{
	return (size_t)op->params[LUMEN_P_N_ROT] * sizeof(float);	/* cos, sin */
}

void lumen_op_rope(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	uint32_t n_head = op->params[LUMEN_P_N_HEAD];
	uint32_t n_rot = op->params[LUMEN_P_N_ROT];
	uint32_t hd = op->src[0].dims[0] / n_head;
	double base = lumen_bits_f32(op->params[LUMEN_P_FREQ_BASE]);
	int neox = !!(op->flags & LUMEN_OPF_ROPE_NEOX);
	const float *factor = op->flags & LUMEN_OPF_ROPE_FACTORS ?
			      (const float *)c->src[1] : NULL;
	uint32_t half = n_rot / 2;
	float *cs = (float *)c->ex->scratch, *sn = cs + half;

	for (uint32_t r = 0; r < c->rows; r++) {
		const float *x = (const float *)(c->src[0] + r * op->src[0].strides[1]);
		float *y = (float *)(c->dst + r * op->dst.strides[1]);
		double p = (double)c->pos + r;

		/* every head rotates by the same angles */
		for (uint32_t i = 0; i < half; i++) {
			double theta = p * pow(base, -2.0 * i / n_rot);

			if (factor)
				theta /= factor[i];

			cs[i] = (float)cos(theta);
			sn[i] = (float)sin(theta);
		}
		for (uint32_t h = 0; h < n_head; h++) {
			const float *xh = x + (size_t)h * hd;
			float *yh = y + (size_t)h * hd;

			for (uint32_t i = 0; i < half; i++) {
				uint32_t i0 = neox ? i : 2 * i;
				uint32_t i1 = neox ? i + half : 2 * i + 1;
				float a = xh[i0], b = xh[i1];

				yh[i0] = a * cs[i] - b * sn[i];
				yh[i1] = a * sn[i] + b * cs[i];
			}
			/* src and dst may alias through two slots: memmove */
			if (yh != xh)
				memmove(yh + n_rot, xh + n_rot, (hd - n_rot) * sizeof(float));
		}
	}
}

void lumen_op_kv_write(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	uint32_t n = op->src[0].dims[0];

	for (uint32_t r = 0; r < c->rows; r++) {
		const float *x = (const float *)(c->src[0] + r * op->src[0].strides[1]);
		uint8_t *y = c->dst + ((uint64_t)c->pos + r) * op->dst.strides[1];

		if (op->dst.dtype == LUMEN_DTYPE_F16)
			c->ex->k->f32_to_f16(x, (uint16_t *)y, n);
		else
			memmove(y, x, n * sizeof(float));
	}
}

/*
 * per thread: the scores of one query, its output accumulator, and the
 * query rounded to F16 when the cache is F16
 */
size_t lumen_attention_scratch(const struct lumen_op *op, uint32_t n_keys,
			       unsigned int threads)
{
	uint32_t hd = op->src[0].dims[0] / op->params[LUMEN_P_N_HEAD];
	size_t per = ((size_t)n_keys + 2 * hd) * sizeof(float);

	per = (per + 63) & ~(size_t)63;
	return per * threads;
}

struct attention {
	const struct lumen_op_ctx *c;
	uint32_t n_head, group, hd, max_keys, window;
	uint32_t heads_per_item;	/* 1, or a whole group sharing its keys and values */
	float scale;
	size_t per_thread;
};

/*
 * y = x rounded to F16 and back, through the kernels' conversions (F16C
 * where there is one: in a prefill the scalar ones took 4% of the time)
 */
static void round_f16(const struct lumen_kernels *k, const float *x, float *y, size_t n)
{
	uint16_t h[64];

	for (size_t i = 0; i < n; i += 64) {
		size_t c = n - i < 64 ? n - i : 64;

		k->f32_to_f16(x + i, h, c);
		k->f16_to_f32(h, y + i, c);
	}
}

/*
 * Over an F16 cache the NPU multiplies in F16 (isa.rst, "Numerics"): the
 * query is rounded to F16 before Q.K, and the normalized probabilities
 * before P.V; sums stay F32.
 */
static void attend(const struct attention *a, uint32_t r, uint32_t h, float *s,
		   float *acc, float *q16)
{
	const struct lumen_op *op = a->c->op;
	const struct lumen_kernels *k = a->c->ex->k;
	const float *q = (const float *)(a->c->src[0] + r * op->src[0].strides[1]) +
			 (size_t)h * a->hd;
	float *out = (float *)(a->c->dst + r * op->dst.strides[1]) + (size_t)h * a->hd;
	int f16 = op->src[1].dtype == LUMEN_DTYPE_F16;
	size_t hoff = (size_t)(h / a->group) * a->hd * (f16 ? 2 : 4);
	uint32_t n_keys = a->c->pos + r + 1;	/* causal */
	uint32_t first = a->window && n_keys > a->window ? n_keys - a->window : 0;
	float max = -INFINITY, sum;

	if (f16) {
		round_f16(k, q, q16, a->hd);
		q = q16;
	}
	/* a sliding window starts the keys later: the same code over fewer */
	const uint8_t *keys = a->c->src[1] + hoff + (size_t)first * op->src[1].strides[1];
	const uint8_t *values = a->c->src[2] + hoff + (size_t)first * op->src[2].strides[1];

	n_keys -= first;
	k->attn_scores[f16](q, keys, op->src[1].strides[1], n_keys,
			    a->hd, a->scale, s);
	for (uint32_t j = 0; j < n_keys; j++)
		max = s[j] > max ? s[j] : max;
	sum = k->exp_sum(s, n_keys, max);
	if (f16) {
		float inv = 1.0f / sum;

		for (uint32_t j = 0; j < n_keys; j++)
			s[j] *= inv;
		round_f16(k, s, s, n_keys);
		sum = 1.0f;
	}
	k->attn_values[f16](s, values, op->src[2].strides[1], n_keys,
			    a->hd, acc);
	for (uint32_t i = 0; i < a->hd; i++)
		out[i] = acc[i] / sum;
}

/*
 * An item is one row and heads_per_item heads: one head, or the heads of
 * a GQA group one after another, so the group's keys and values come from
 * memory once and from L1/L2 for the other heads. Scratch is per thread.
 */
static void attention_item(void *p, size_t item, unsigned int ith)
{
	const struct attention *a = p;
	float *s = (float *)(a->c->ex->scratch + ith * a->per_thread);
	uint32_t per_row = a->n_head / a->heads_per_item;
	uint32_t h0 = (uint32_t)(item % per_row) * a->heads_per_item;

	for (uint32_t h = h0; h < h0 + a->heads_per_item; h++)
		attend(a, (uint32_t)(item / per_row), h, s, s + a->max_keys,
		       s + a->max_keys + a->hd);
}

void lumen_op_attention(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	struct attention a = {
		.c = c,
		.n_head = op->params[LUMEN_P_N_HEAD],
		.group = op->params[LUMEN_P_N_HEAD] / op->params[LUMEN_P_N_KV_HEAD],
		.hd = op->src[0].dims[0] / op->params[LUMEN_P_N_HEAD],
		.scale = lumen_bits_f32(op->params[LUMEN_P_SCALE]),
		.max_keys = c->pos + c->rows,
		.window = op->params[LUMEN_P_WINDOW],
	};

	a.per_thread = lumen_attention_scratch(op, a.max_keys, 1);
	/* whole groups per item while that leaves two items a thread to balance */
	a.heads_per_item = (uint64_t)c->rows * op->params[LUMEN_P_N_KV_HEAD] >=
			   2ull * lumen_pool_threads(c->ex->pool) ? a.group : 1;

	/* keys and values read per query row and KV head (more with GQA, from cache) */
	uint64_t kv_bytes = (uint64_t)c->rows * op->params[LUMEN_P_N_KV_HEAD] * a.max_keys *
			    a.hd * 2 * lumen_type_size(op->src[1].dtype);

	lumen_pool_for_bytes(c->ex->pool, (size_t)c->rows * (a.n_head / a.heads_per_item),
			     attention_item, &a, kv_bytes);
}
