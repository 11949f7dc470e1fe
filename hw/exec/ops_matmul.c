// SPDX-License-Identifier: MIT
/*
 * MATMUL: dst[r][n] = W[n] . x[r] (+ residual). Work items are chunks of
 * weight rows, handed out to the threads. With one activation row (decode)
 * the GEMV kernels stream each chunk once. With several, a chunk stays in
 * L1/L2 while every activation row passes LUMEN_MR at a time (each weight
 * block decoded once per LUMEN_MR rows), so the weights still come from
 * memory once per op. Quantized weights meet activations quantized into
 * scratch first, as fast CPU runtimes do: Q8_0 for the 32-blocks (Q4_0,
 * Q4_1, Q5_0, Q5_1, Q8_0), Q8_K for the K-quants; F16 weights meet
 * activations rounded to F16 (the NPU's F16 multipliers: isa.rst,
 * "Numerics"); F32 and BF16 weights meet them as they are.
 */
#include "exec_internal.h"
#include "lumen_validate.h"

/* most weight rows in one work item */
#define MAX_CHUNK 64
/*
 * M > 1: activation rows per work item (a multiple of LUMEN_MR, so rows
 * group as without it and results do not change). It bounds an item's
 * work, which is how quickly a cancelled run stops (lumen_exec_cancel()).
 */
#define ROW_BLOCK 256

/* what the activations become for each weight dtype */
enum act { ACT_F32, ACT_F16, ACT_Q8_0, ACT_Q8_K };

static enum act act_of(uint32_t dtype)
{
	switch (dtype) {
	case LUMEN_DTYPE_F16:
		return ACT_F16;
	case LUMEN_DTYPE_Q4_0:
	case LUMEN_DTYPE_Q4_0_R8:
	case LUMEN_DTYPE_Q8_0_R8:
	case LUMEN_DTYPE_Q5_0_R8:
	case LUMEN_DTYPE_Q4_1:
	case LUMEN_DTYPE_Q5_0:
	case LUMEN_DTYPE_Q5_1:
	case LUMEN_DTYPE_Q8_0:
		return ACT_Q8_0;
	case LUMEN_DTYPE_Q4_K:
	case LUMEN_DTYPE_Q4_K_R8:
	case LUMEN_DTYPE_Q5_K:
	case LUMEN_DTYPE_Q6_K:
	case LUMEN_DTYPE_Q6_K_R8:
		return ACT_Q8_K;
	default:		/* F32, BF16: float activations as they are */
		return ACT_F32;
	}
}

static int is_quant(uint32_t dtype)
{
	return act_of(dtype) >= ACT_Q8_0;
}

/* Lumen's row-interleaved weights: whole groups of LUMEN_ROW_GROUP rows */
static int is_r8(uint32_t dtype)
{
	return dtype == LUMEN_DTYPE_Q4_0_R8 || dtype == LUMEN_DTYPE_Q8_0_R8 ||
	       dtype == LUMEN_DTYPE_Q4_K_R8 || dtype == LUMEN_DTYPE_Q6_K_R8 ||
	       dtype == LUMEN_DTYPE_Q5_0_R8;
}

/* the interleaved dtypes meeting Q8_0 rows, whose blocks start at rbias */
static int has_rbias(uint32_t dtype)
{
	return dtype == LUMEN_DTYPE_Q4_0_R8 || dtype == LUMEN_DTYPE_Q8_0_R8 ||
	       dtype == LUMEN_DTYPE_Q5_0_R8;
}

/*
 * bytes of one quantized activation row: int8 values, then Q8_0's block
 * scales and sums (and for Q4_0 the kernels' q4_bias, 8 int32 a block), or
 * Q8_K's block scales and 16-sums
 */
static size_t qrow_stride(uint32_t dtype, uint32_t k)
{
	size_t bytes = act_of(dtype) == ACT_Q8_K ?
		       k + (size_t)k / LUMEN_QK_K * sizeof(float) + (size_t)k / 16 * sizeof(int16_t) :
		       k + 2 * ((size_t)k / LUMEN_QK) * sizeof(float);

	if (dtype == LUMEN_DTYPE_Q4_0)
		bytes += (size_t)k / LUMEN_QK * 8 * sizeof(int32_t);
	if (has_rbias(dtype))
		bytes += (size_t)k / LUMEN_QK * sizeof(int32_t);

	return (bytes + 63) & ~(size_t)63;
}

/* bytes of one F16-rounded activation row, kept as floats for the kernels */
static size_t hrow_stride(uint32_t k)
{
	return ((size_t)k * sizeof(float) + 63) & ~(size_t)63;
}

size_t lumen_matmul_scratch(const struct lumen_op *op, uint32_t rows)
{
	if (op->src[0].dtype == LUMEN_DTYPE_F16)
		return hrow_stride(op->src[1].dims[0]) * rows;
	if (!is_quant(op->src[0].dtype))
		return 0;
	return qrow_stride(op->src[0].dtype, op->src[1].dims[0]) * rows;
}

struct matmul {
	const struct lumen_kernels *k;
	uint32_t dtype;
	uint32_t kdim, n, rows;
	uint32_t nb;		/* weight blocks in a row */
	const uint8_t *w;
	uint64_t w_stride;
	const uint8_t *x;
	uint64_t x_stride;
	uint8_t *xq;
	size_t xq_stride;
	uint8_t *dst;
	uint64_t dst_stride;
	const uint8_t *res;	/* NULL without RESIDUAL */
	uint64_t res_stride;
	size_t chunk;		/* weight rows per work item */
	size_t n_chunks;	/* M > 1: items are n_chunks per ROW_BLOCK rows */
};

static void quantize_row(void *p, size_t r, unsigned int ith)
{
	struct matmul *m = p;
	uint8_t *q = m->xq + r * m->xq_stride;
	float *d = (float *)(q + m->kdim);
	const float *x = (const float *)(m->x + r * m->x_stride);

	if (act_of(m->dtype) == ACT_Q8_K)
		m->k->quantize_act_k(x, (int8_t *)q, d, (int16_t *)(d + m->nb),
				     m->nb);
	else
		m->k->quantize_act(x, (int8_t *)q, d, d + m->nb, m->nb);
	if (m->dtype == LUMEN_DTYPE_Q4_0 && m->k->prep_q4_0)
		m->k->prep_q4_0((const int8_t *)q, (int32_t *)(d + 2 * m->nb), m->nb);
	if (has_rbias(m->dtype)) {
		int32_t *bias = (int32_t *)(d + 2 * m->nb);
		const int8_t *v = (const int8_t *)q;
		int32_t f = m->dtype == LUMEN_DTYPE_Q4_0_R8 ? -8 :
			    m->dtype == LUMEN_DTYPE_Q5_0_R8 ? -16 : m->k->q8_r8_bias;

		for (uint32_t b = 0; b < m->nb; b++, v += LUMEN_QK) {
			int32_t sum = 0;

			for (int j = 0; j < LUMEN_QK; j++)
				sum += v[j];
			bias[b] = f * sum;
		}
	}
}

static void round_row_f16(void *p, size_t r, unsigned int ith)
{
	struct matmul *m = p;
	const float *x = (const float *)(m->x + r * m->x_stride);
	float *y = (float *)(m->xq + r * m->xq_stride);

	for (uint32_t i = 0; i < m->kdim; i++)
		y[i] = lumen_f16_to_f32(lumen_f32_to_f16(x[i]));
}

static struct lumen_qrow qrow(const struct matmul *m, size_t r)
{
	const uint8_t *base = m->xq + r * m->xq_stride;
	const float *d = (const float *)(base + m->kdim);
	struct lumen_qrow q = { .qs = (const int8_t *)base, .d = d };

	if (act_of(m->dtype) == ACT_Q8_K)
		q.bsums = (const int16_t *)(d + m->nb);
	else
		q.s = d + m->nb;
	if (m->dtype == LUMEN_DTYPE_Q4_0)
		q.q4_bias = (const int32_t *)(d + 2 * m->nb);
	if (has_rbias(m->dtype))
		q.rbias = (const int32_t *)(d + 2 * m->nb);
	return q;
}

/* rows [r0, r0 + nx) of the product with one weight row, into out */
static void dot_rows(const struct matmul *m, const uint8_t *wrow, size_t r0,
		     unsigned int nx, float *out)
{
	if (is_quant(m->dtype)) {
		struct lumen_qrow q[LUMEN_MR];

		for (unsigned int i = 0; i < nx; i++)
			q[i] = qrow(m, r0 + i);
		if (m->dtype == LUMEN_DTYPE_Q8_0)
			m->k->dot_q8_0(wrow, q, nx, m->nb, out);
		else if (m->dtype == LUMEN_DTYPE_Q4_0)
			m->k->dot_q4_0(wrow, q, nx, m->nb, out);
		else
			m->k->dot_blk[m->dtype](wrow, q, nx, m->nb, out);
		return;
	}
	const float *xs[LUMEN_MR];

	for (unsigned int i = 0; i < nx; i++)
		xs[i] = (const float *)(m->x + (r0 + i) * m->x_stride);
	if (m->dtype == LUMEN_DTYPE_F16)
		m->k->dot_f16((const uint16_t *)wrow, xs, nx, m->kdim, out);
	else if (m->dtype == LUMEN_DTYPE_BF16)
		m->k->dot_bf16((const uint16_t *)wrow, xs, nx, m->kdim, out);
	else
		m->k->dot_f32((const float *)wrow, xs, nx, m->kdim, out);
}

static void store(const struct matmul *m, size_t r, size_t n, float v)
{
	float *d = (float *)(m->dst + r * m->dst_stride) + n;

	/* the residual may be dst itself: it is read before the store */
	if (m->res)
		v += ((const float *)(m->res + r * m->res_stride))[n];
	*d = v;
}

typedef void (*gemm_r8_fn)(const void *w, size_t gs, size_t ng,
			   const struct lumen_qrow *x, unsigned int nx, size_t nb,
			   float *y, size_t ys);

static gemm_r8_fn gemm_r8(const struct matmul *m)
{
	switch (m->dtype) {
	case LUMEN_DTYPE_Q4_0_R8:
		return m->k->gemm_q4_0_r8;
	case LUMEN_DTYPE_Q8_0_R8:
		return m->k->gemm_q8_0_r8;
	case LUMEN_DTYPE_Q5_0_R8:
		return m->k->gemm_q5_0_r8;
	case LUMEN_DTYPE_Q4_K_R8:
		return m->k->gemm_q4_k_r8;
	default:
		return m->k->gemm_q6_k_r8;
	}
}

/* M = 1: rows [n, n + cnt), cnt <= MAX_CHUNK, streamed once */
static void matvec_rows(const struct matmul *m, size_t n, size_t cnt)
{
	const uint8_t *w = m->w + n * m->w_stride;
	struct lumen_qrow q = { 0 };
	float out[MAX_CHUNK];

	switch (m->dtype) {
	case LUMEN_DTYPE_Q4_0_R8:	/* chunks are whole groups: chunk_rows() */
	case LUMEN_DTYPE_Q8_0_R8:
	case LUMEN_DTYPE_Q5_0_R8:
	case LUMEN_DTYPE_Q4_K_R8:
	case LUMEN_DTYPE_Q6_K_R8:
		q = qrow(m, 0);
		gemm_r8(m)(w, LUMEN_ROW_GROUP * m->w_stride, cnt / LUMEN_ROW_GROUP,
			   &q, 1, m->nb, out, 0);
		break;
	case LUMEN_DTYPE_Q4_0:
		q = qrow(m, 0);
		m->k->gemv_q4_0(w, m->w_stride, cnt, &q, m->kdim / LUMEN_QK, out);
		break;
	case LUMEN_DTYPE_Q8_0:
		q = qrow(m, 0);
		m->k->gemv_q8_0(w, m->w_stride, cnt, &q, m->kdim / LUMEN_QK, out);
		break;
	case LUMEN_DTYPE_F16:
		m->k->gemv_f16(w, m->w_stride, cnt, (const float *)m->x, m->kdim, out);
		break;
	case LUMEN_DTYPE_F32:
		m->k->gemv_f32(w, m->w_stride, cnt, (const float *)m->x, m->kdim, out);
		break;
	default:	/* the other types: one row at a time, streamed in order */
		for (size_t i = 0; i < cnt; i++)
			dot_rows(m, w + i * m->w_stride, 0, 1, out + i);
	}
	for (size_t i = 0; i < cnt; i++)
		store(m, 0, n + i, out[i]);
}

/* M = 1: an item is a chunk of weight rows, streamed once */
static void matvec_chunk(void *p, size_t item, unsigned int ith)
{
	struct matmul *m = p;
	size_t n = item * m->chunk;
	size_t end = m->n - n < m->chunk ? m->n : n + m->chunk;

	for (; n < end; n += MAX_CHUNK)
		matvec_rows(m, n, end - n < MAX_CHUNK ? end - n : MAX_CHUNK);
}

/*
 * M > 1 with Q4_0x8 or Q8_0x8 weights: the groups of the chunk against LUMEN_MR
 * activation rows at a time, each weight block unpacked once for them.
 * An output's arithmetic does not depend on the rows beside it.
 */
static void matmul_chunk_r8(const struct matmul *m, size_t n0, size_t n1,
			    size_t r0, size_t r1)
{
	for (size_t r = r0; r < r1; r += LUMEN_R8_MR) {
		unsigned int nx = r1 - r < LUMEN_R8_MR ? r1 - r : LUMEN_R8_MR;
		float out[LUMEN_R8_MR][MAX_CHUNK];
		struct lumen_qrow q[LUMEN_R8_MR];

		for (unsigned int i = 0; i < nx; i++)
			q[i] = qrow(m, r + i);
		gemm_r8(m)(m->w + n0 * m->w_stride, LUMEN_ROW_GROUP * m->w_stride,
			   (n1 - n0) / LUMEN_ROW_GROUP, q, nx, m->nb, out[0], MAX_CHUNK);
		for (unsigned int i = 0; i < nx; i++)
			for (size_t n = n0; n < n1; n++)
				store(m, r + i, n, out[i][n - n0]);
	}
}

/*
 * M > 1: an item is a chunk of weight rows times a block of activation
 * rows; the chunk stays in L1/L2 while the activation rows pass
 * LUMEN_MR at a time, so the weights come from memory once for all
 * rows. A group's quantized rows are looked up once and the kernel is
 * called straight, its outputs stored after the chunk: in a small
 * model's prefill (rows of 576, 18 blocks) building the rows per weight
 * row took a tenth of the time. Each output is still the one kernel call
 * a matvec makes for it, so the arithmetic is the same.
 */
static void matmul_chunk(void *p, size_t item, unsigned int ith)
{
	struct matmul *m = p;
	size_t n0 = item % m->n_chunks * m->chunk;
	size_t n1 = n0 + m->chunk < m->n ? n0 + m->chunk : m->n;
	size_t r0 = item / m->n_chunks * ROW_BLOCK;
	size_t r1 = r0 + ROW_BLOCK < m->rows ? r0 + ROW_BLOCK : m->rows;
	void (*dot_q)(const void *w, const struct lumen_qrow *x, unsigned int nx,
		      size_t nb, float *out) = NULL;
	void (*tile)(const void *w, size_t ws, const struct lumen_qrow *x,
		     size_t nb, float *out) = NULL;

	if (is_r8(m->dtype)) {	/* no dot_blk[] entry: their numbers are 64 and up */
		matmul_chunk_r8(m, n0, n1, r0, r1);
		return;
	}
	if (m->dtype == LUMEN_DTYPE_Q8_0) {
		dot_q = m->k->dot_q8_0;
		tile = m->k->tile_q8_0;
	} else if (m->dtype == LUMEN_DTYPE_Q4_0) {
		dot_q = m->k->dot_q4_0;
		tile = m->k->tile_q4_0;
	} else if (is_quant(m->dtype)) {
		dot_q = m->k->dot_blk[m->dtype];
	}
	for (size_t r = r0; r < r1; r += LUMEN_MR) {
		unsigned int nx = r1 - r < LUMEN_MR ? r1 - r : LUMEN_MR;
		float out[MAX_CHUNK][LUMEN_MR];

		if (dot_q) {
			struct lumen_qrow q[LUMEN_MR];
			const uint8_t *w = m->w + n0 * m->w_stride;

			size_t n = n0;

			for (unsigned int i = 0; i < nx; i++)
				q[i] = qrow(m, r + i);
			if (tile && nx == LUMEN_MR)
				for (; n + LUMEN_NR <= n1; n += LUMEN_NR, w += LUMEN_NR * m->w_stride)
					tile(w, m->w_stride, q, m->nb, out[n - n0]);
			for (; n < n1; n++, w += m->w_stride)
				dot_q(w, q, nx, m->nb, out[n - n0]);
		} else {
			for (size_t n = n0; n < n1; n++)
				dot_rows(m, m->w + n * m->w_stride, r, nx, out[n - n0]);
		}
		for (unsigned int i = 0; i < nx; i++)
			for (size_t n = n0; n < n1; n++)
				store(m, r + i, n, out[n - n0][i]);
	}
}

/* weight rows per item: enough work to amortize the hand-out, enough items to balance */
static size_t chunk_rows(const struct matmul *m, unsigned int threads)
{
	/* M = 1: ~64K weights, a few microseconds; M > 1: ~256 KiB of weights in L2 */
	size_t chunk = m->rows == 1 ? (64u << 10) / m->kdim
				    : (256u << 10) / (m->w_stride ? m->w_stride : 1);

	if (chunk > m->n / (4 * threads))
		chunk = m->n / (4 * threads);
	if (chunk < 4)
		chunk = 4;
	if (chunk > MAX_CHUNK)
		chunk = MAX_CHUNK;
	/* interleaved weights split in whole groups (MAX_CHUNK is a multiple) */
	if (is_r8(m->dtype))
		chunk = (chunk + LUMEN_ROW_GROUP - 1) / LUMEN_ROW_GROUP * LUMEN_ROW_GROUP;
	return chunk;
}

void lumen_op_matmul(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	struct lumen_pool *pool = c->ex->pool;
	struct matmul m = {
		.k = c->ex->k,
		.dtype = op->src[0].dtype,
		.kdim = op->src[0].dims[0],
		.n = op->src[0].dims[1],
		.rows = c->rows,
		.w = c->src[0],
		.w_stride = op->src[0].strides[1],
		.x = c->src[1],
		.x_stride = op->src[1].strides[1],
		.xq = c->ex->scratch,
		.nb = op->src[0].dims[0] / lumen_type_block(op->src[0].dtype),
		.xq_stride = qrow_stride(op->src[0].dtype, op->src[0].dims[0]),
		.dst = c->dst,
		.dst_stride = op->dst.strides[1],
	};

	if (op->flags & LUMEN_OPF_RESIDUAL) {
		m.res = c->src[2];
		m.res_stride = op->src[2].strides[1];
	}
	uint64_t x_bytes = (uint64_t)m.rows * m.kdim * sizeof(float);
	/* the weights once per LUMEN_MR activation rows: a measure of the work */
	uint64_t w_bytes = (uint64_t)m.n * m.w_stride * ((m.rows + LUMEN_MR - 1) / LUMEN_MR);

	if (is_quant(m.dtype)) {
		lumen_pool_for_bytes(pool, m.rows, quantize_row, &m, x_bytes);
	} else if (m.dtype == LUMEN_DTYPE_F16) {
		m.xq_stride = hrow_stride(m.kdim);
		lumen_pool_for_bytes(pool, m.rows, round_row_f16, &m, x_bytes);
		m.x = m.xq;
		m.x_stride = m.xq_stride;
	}
	m.chunk = chunk_rows(&m, lumen_pool_threads(pool));
	m.n_chunks = (m.n + m.chunk - 1) / m.chunk;
	if (m.rows == 1)
		lumen_pool_for_bytes(pool, m.n_chunks, matvec_chunk, &m, w_bytes);
	else
		lumen_pool_for_bytes(pool, m.n_chunks * ((m.rows + ROW_BLOCK - 1) / ROW_BLOCK),
				     matmul_chunk, &m, w_bytes);
}
