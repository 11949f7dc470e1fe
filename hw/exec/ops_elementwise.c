// SPDX-License-Identifier: MIT
/*
 * Row-wise and element-wise ops. They touch a few KiB per token, so they
 * run on the calling thread: handing them out would cost more.
 */
#include <math.h>
#include <string.h>

#include "exec_internal.h"

static const uint8_t *row_of(const uint8_t *base, const struct lumen_tensor *t,
			     uint64_t r)
{
	return base + r * t->strides[1];
}

void lumen_op_embed(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	const struct lumen_tensor *table = &op->src[0];
	/* the executor's checked snapshot of the ids, not the region */
	const int32_t *ids = (const int32_t *)c->src[1];

	for (uint32_t r = 0; r < c->rows; r++) {
		const uint8_t *src = c->src[0] + (uint64_t)ids[r] * table->strides[1];
		float *dst = (float *)(c->dst + r * op->dst.strides[1]);

		/* a tied output projection's interleaved rows: the row of its group */
		if (lumen_r8_base(table->dtype) != table->dtype) {
			uint32_t in_group = (uint32_t)ids[r] % LUMEN_ROW_GROUP;

			lumen_dequantize_row_r8(table->dtype, src - in_group * table->strides[1],
						in_group, dst, table->dims[0]);
			continue;
		}

		/*
		 * The table and the dst may be the same memory bound to two
		 * slots (the validator sees slots, not addresses): copy F32
		 * rows with memmove, never memcpy on overlapping bytes.
		 */
		if (table->dtype == LUMEN_DTYPE_F32)
			memmove(dst, src, (size_t)table->dims[0] * sizeof(float));
		else if (table->dtype == LUMEN_DTYPE_F16)
			c->ex->k->f16_to_f32((const uint16_t *)src, dst, table->dims[0]);
		else
			lumen_dequantize_row(table->dtype, src, dst, table->dims[0]);
	}
}

void lumen_op_rmsnorm(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	uint32_t groups = op->params[LUMEN_P_N_GROUP] ? op->params[LUMEN_P_N_GROUP] : 1;
	uint32_t n = op->src[0].dims[0] / groups;
	float eps = lumen_bits_f32(op->params[LUMEN_P_EPS]);
	const float *w = (const float *)c->src[1];

	for (uint32_t r = 0; r < c->rows; r++) {
		const float *xr = (const float *)row_of(c->src[0], &op->src[0], r);
		float *yr = (float *)(c->dst + r * op->dst.strides[1]);

		/* a group is one head of a q/k row, or the whole row */
		for (uint32_t g = 0; g < groups; g++) {
			const float *x = xr + (size_t)g * n;
			float *y = yr + (size_t)g * n;
			double ss = 0.0;

			for (uint32_t i = 0; i < n; i++)
				ss += (double)x[i] * x[i];
			float scale = 1.0f / sqrtf((float)(ss / n) + eps);

			for (uint32_t i = 0; i < n; i++)
				y[i] = x[i] * scale * w[i];
		}
	}
}

void lumen_op_swiglu(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	uint32_t n = op->src[0].dims[0];

	for (uint32_t r = 0; r < c->rows; r++) {
		const float *g = (const float *)row_of(c->src[0], &op->src[0], r);
		const float *u = (const float *)row_of(c->src[1], &op->src[1], r);
		float *y = (float *)(c->dst + r * op->dst.strides[1]);

		for (uint32_t i = 0; i < n; i++)
			y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
	}
}

/*
 * GELU as an NPU evaluates it, and as ggml does: the input rounded to F16
 * indexes a table of F16 results of the tanh approximation; saturated
 * beyond +-10.
 */
static float gelu_f16(float x)
{
	const float sqrt_2_over_pi = 0.79788456080286535587989211986876f;
	float h, v;

	if (x <= -10.0f)
		return 0.0f;
	if (x >= 10.0f)
		return x;
	h = lumen_f16_to_f32(lumen_f32_to_f16(x));
	v = 0.5f * h * (1.0f + tanhf(sqrt_2_over_pi * h * (1.0f + 0.044715f * h * h)));
	return lumen_f16_to_f32(lumen_f32_to_f16(v));
}

void lumen_op_geglu(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	uint32_t n = op->src[0].dims[0];

	for (uint32_t r = 0; r < c->rows; r++) {
		const float *g = (const float *)row_of(c->src[0], &op->src[0], r);
		const float *u = (const float *)row_of(c->src[1], &op->src[1], r);
		float *y = (float *)(c->dst + r * op->dst.strides[1]);

		for (uint32_t i = 0; i < n; i++)
			y[i] = gelu_f16(g[i]) * u[i];
	}
}

/* ADD and MUL over up to four dims; src1 broadcasts where its dim is 1 */
void lumen_op_binary(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	const struct lumen_tensor *a = &op->src[0], *b = &op->src[1], *d = &op->dst;
	int mul = op->opcode == LUMEN_OP_MUL;
	uint32_t n0 = a->dims[0];
	int bcast0 = b->dims[0] == 1;

	for (uint32_t i3 = 0; i3 < a->dims[3]; i3++)
	for (uint32_t i2 = 0; i2 < a->dims[2]; i2++)
	for (uint32_t r = 0; r < c->rows; r++) {
		const float *x = (const float *)(c->src[0] + i3 * a->strides[3] +
						 i2 * a->strides[2] + r * a->strides[1]);
		const float *y = (const float *)(c->src[1] +
			(b->dims[3] == 1 ? 0 : i3 * b->strides[3]) +
			(b->dims[2] == 1 ? 0 : i2 * b->strides[2]) +
			(b->dims[1] == 1 ? 0 : r * b->strides[1]));
		float *z = (float *)(c->dst + i3 * d->strides[3] +
				     i2 * d->strides[2] + r * d->strides[1]);

		for (uint32_t i = 0; i < n0; i++) {
			float yv = y[bcast0 ? 0 : i];

			z[i] = mul ? x[i] * yv : x[i] + yv;
		}
	}
}

void lumen_op_copy(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	const struct lumen_tensor *s = &op->src[0], *d = &op->dst;
	const struct lumen_kernels *k = c->ex->k;
	uint32_t n = s->dims[0];

	for (uint32_t i3 = 0; i3 < s->dims[3]; i3++)
	for (uint32_t i2 = 0; i2 < s->dims[2]; i2++)
	for (uint32_t r = 0; r < c->rows; r++) {
		const uint8_t *x = c->src[0] + i3 * s->strides[3] + i2 * s->strides[2] +
				   r * s->strides[1];
		uint8_t *y = c->dst + i3 * d->strides[3] + i2 * d->strides[2] +
			     r * d->strides[1];

		if (s->dtype == d->dtype)
			memmove(y, x, (size_t)n * lumen_type_size(s->dtype));
		else if (s->dtype == LUMEN_DTYPE_F16)
			k->f16_to_f32((const uint16_t *)x, (float *)y, n);
		else
			k->f32_to_f16((const float *)x, (uint16_t *)y, n);
	}
}

void lumen_op_softmax(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	uint32_t n = op->src[0].dims[0];
	float scale = lumen_bits_f32(op->params[LUMEN_P_SCALE]);

	for (uint32_t r = 0; r < c->rows; r++) {
		const float *x = (const float *)row_of(c->src[0], &op->src[0], r);
		float *y = (float *)(c->dst + r * op->dst.strides[1]);
		float max = -INFINITY, sum = 0.0f;

		for (uint32_t i = 0; i < n; i++)
			max = fmaxf(max, scale * x[i]);
		for (uint32_t i = 0; i < n; i++) {
			y[i] = expf(scale * x[i] - max);
			sum += y[i];
		}
		for (uint32_t i = 0; i < n; i++)
			y[i] /= sum;
	}
}

void lumen_op_argmax(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	uint32_t n = op->src[0].dims[0];

	for (uint32_t r = 0; r < c->rows; r++) {
		const float *x = (const float *)row_of(c->src[0], &op->src[0], r);
		int32_t best = 0;

		/* strictly greater keeps the lowest index on ties */
		for (uint32_t i = 1; i < n; i++)
			if (x[i] > x[best])
				best = (int32_t)i;
		*(int32_t *)(c->dst + r * op->dst.strides[1]) = best;
	}
}

void lumen_op_topk(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	uint32_t n = op->src[0].dims[0];
	uint32_t k = op->params[LUMEN_P_K];

	for (uint32_t r = 0; r < c->rows; r++) {
		const float *x = (const float *)row_of(c->src[0], &op->src[0], r);
		int32_t *ids = (int32_t *)(c->dst + r * op->dst.strides[1]);
		float *vals = (float *)(ids + k);
		int32_t top[LUMEN_MAX_TOPK];
		uint32_t have = 0;

		/* insertion into a list sorted by value, earlier ids first on ties */
		for (uint32_t i = 0; i < n; i++) {
			if (have == k && !(x[i] > x[top[k - 1]]))
				continue;
			uint32_t j = have < k ? have++ : k - 1;

			while (j > 0 && x[i] > x[top[j - 1]]) {
				top[j] = top[j - 1];
				j--;
			}
			top[j] = (int32_t)i;
		}
		for (uint32_t j = 0; j < k; j++) {
			ids[j] = top[j];
			vals[j] = x[top[j]];
		}
	}
}
