// SPDX-License-Identifier: MIT
/*
 * A hand-built one-layer transformer (embed, rmsnorm, q/k/v, rope,
 * kv_write, attention, o-proj + residual, rmsnorm, gate/up, swiglu,
 * down + residual, final norm of the last row, logits, argmax) run for a
 * prefill chunk then greedy decode steps, against a naive forward pass in
 * double that processes one token at a time. With quantized weights the
 * reference rounds matmul inputs to Q8_0 the way the executor does.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_exec.h"
#include "lumen_test.h"

enum { D = 64, N_HEAD = 4, N_KV = 2, HD = D / N_HEAD, KVD = N_KV * HD, H = 96, V = 50,
       CTX = 16, CAP = 6 };
enum { R_W, R_KV, R_ACT, R_ARGS, R_OUT, R_COUNT };
#define EPS 1e-5f
#define ROPE_BASE 10000.0f

struct model {
	uint32_t wt, cache_t;
	int neox;
	/* weight offsets in R_W */
	uint64_t tok, attn_norm, wq, wk, wv, wo, ffn_norm, wg, wu, wd, out_norm, wout;
};

/* activation offsets in R_ACT */
enum { A_X = 0, A_XN = A_X + 4 * D * CAP, A_Q = A_XN + 4 * D * CAP, A_K = A_Q + 4 * D * CAP,
       A_V = A_K + 4 * KVD * CAP, A_ATT = A_V + 4 * KVD * CAP, A_G = A_ATT + 4 * D * CAP,
       A_U = A_G + 4 * H * CAP, A_XL = A_U + 4 * H * CAP, A_END = A_XL + 4 * D };

static uint64_t put_matrix(struct regions *r, uint64_t *off, uint32_t dtype, uint32_t k,
			   uint32_t n, float lo, float hi)
{
	uint64_t at = *off, row = pb_bytes(dtype, k, 1);
	float *tmp = malloc(4ull * k);

	for (uint32_t j = 0; j < n; j++) {
		rng_fill(tmp, k, lo, hi);
		ref_encode_row(dtype, tmp, r->mem[R_W] + at + j * row, k);
	}
	*off += row * n;
	free(tmp);
	return at;
}

static void build_weights(struct model *m, struct regions *r)
{
	uint64_t off = 0;
	float s = 1.0f / sqrtf(D);

	reg_alloc(r, R_W, 1 << 20, 0);
	m->tok = put_matrix(r, &off, m->wt, D, V, -1, 1);
	m->attn_norm = put_matrix(r, &off, LUMEN_DTYPE_F32, D, 1, 0.8f, 1.2f);
	m->wq = put_matrix(r, &off, m->wt, D, D, -2 * s, 2 * s);
	m->wk = put_matrix(r, &off, m->wt, D, KVD, -2 * s, 2 * s);
	m->wv = put_matrix(r, &off, m->wt, D, KVD, -2 * s, 2 * s);
	m->wo = put_matrix(r, &off, m->wt, D, D, -s, s);
	m->ffn_norm = put_matrix(r, &off, LUMEN_DTYPE_F32, D, 1, 0.8f, 1.2f);
	m->wg = put_matrix(r, &off, m->wt, D, H, -2 * s, 2 * s);
	m->wu = put_matrix(r, &off, m->wt, D, H, -2 * s, 2 * s);
	m->wd = put_matrix(r, &off, m->wt, H, D, -s, s);
	m->out_norm = put_matrix(r, &off, LUMEN_DTYPE_F32, D, 1, 0.8f, 1.2f);
	m->wout = put_matrix(r, &off, m->wt, D, V, -3 * s, 3 * s);
}

static struct lumen_tensor act(uint64_t off, uint32_t d0, uint32_t d1)
{
	return pb_tensor(LUMEN_DTYPE_F32, R_ACT, off, d0, d1);
}

static struct lumen_op *row_op(struct prog_builder *pb, uint16_t opcode)
{
	struct lumen_op *op = pb_op(pb, opcode);

	op->rows_arg = 0;
	return op;
}

static void op_matmul(struct prog_builder *pb, const struct model *m, uint64_t w,
		      uint32_t k, uint32_t n, uint64_t x, uint64_t y, int residual)
{
	struct lumen_op *op = row_op(pb, LUMEN_OP_MATMUL);

	op->src[0] = pb_tensor(m->wt, R_W, w, k, n);
	op->src[1] = act(x, k, CAP);
	op->dst = act(y, n, CAP);
	if (residual) {
		op->flags = LUMEN_OPF_RESIDUAL;
		op->src[2] = op->dst;
	}
}

static void op_rmsnorm(struct prog_builder *pb, uint64_t w, uint64_t x, uint64_t y, int last)
{
	struct lumen_op *op = row_op(pb, LUMEN_OP_RMSNORM);

	op->src[0] = act(x, D, CAP);
	op->src[1] = pb_tensor(LUMEN_DTYPE_F32, R_W, w, D, 1);
	op->dst = act(y, D, last ? 1 : CAP);
	op->params[LUMEN_P_EPS] = pb_f32_bits(EPS);
	if (last)
		op->flags = LUMEN_OPF_LAST_ROW;
}

static void op_rope(struct prog_builder *pb, const struct model *m, uint64_t x, uint32_t heads)
{
	struct lumen_op *op = row_op(pb, LUMEN_OP_ROPE);

	op->src[0] = act(x, heads * HD, CAP);
	op->dst = op->src[0];
	op->pos_arg = 1;
	op->params[LUMEN_P_N_HEAD] = heads;
	op->params[LUMEN_P_N_ROT] = HD;
	op->params[LUMEN_P_FREQ_BASE] = pb_f32_bits(ROPE_BASE);
	op->flags = m->neox ? LUMEN_OPF_ROPE_NEOX : 0;
}

static uint64_t cache_bytes(const struct model *m)
{
	return pb_bytes(m->cache_t, KVD, CTX);
}

static void build_program(struct prog_builder *pb, const struct model *m)
{
	struct lumen_op *op;

	pb_init(pb, R_COUNT, R_ARGS);
	op = row_op(pb, LUMEN_OP_EMBED);
	op->src[0] = pb_tensor(m->wt, R_W, m->tok, D, V);
	op->src[1] = pb_tensor(LUMEN_DTYPE_I32, R_ARGS, 16, CAP, 1);
	op->dst = act(A_X, D, CAP);
	op_rmsnorm(pb, m->attn_norm, A_X, A_XN, 0);
	op_matmul(pb, m, m->wq, D, D, A_XN, A_Q, 0);
	op_matmul(pb, m, m->wk, D, KVD, A_XN, A_K, 0);
	op_matmul(pb, m, m->wv, D, KVD, A_XN, A_V, 0);
	op_rope(pb, m, A_Q, N_HEAD);
	op_rope(pb, m, A_K, N_KV);
	for (int i = 0; i < 2; i++) {
		op = row_op(pb, LUMEN_OP_KV_WRITE);
		op->src[0] = act(i ? A_V : A_K, KVD, CAP);
		op->dst = pb_tensor(m->cache_t, R_KV, i * cache_bytes(m), KVD, CTX);
		op->pos_arg = 1;
	}
	op = row_op(pb, LUMEN_OP_ATTENTION);
	op->src[0] = act(A_Q, D, CAP);
	op->src[1] = pb_tensor(m->cache_t, R_KV, 0, KVD, CTX);
	op->src[2] = pb_tensor(m->cache_t, R_KV, cache_bytes(m), KVD, CTX);
	op->dst = act(A_ATT, D, CAP);
	op->pos_arg = 1;
	op->params[LUMEN_P_N_HEAD] = N_HEAD;
	op->params[LUMEN_P_N_KV_HEAD] = N_KV;
	op->params[LUMEN_P_SCALE] = pb_f32_bits(1.0f / sqrtf(HD));
	op_matmul(pb, m, m->wo, D, D, A_ATT, A_X, 1);
	op_rmsnorm(pb, m->ffn_norm, A_X, A_XN, 0);
	op_matmul(pb, m, m->wg, D, H, A_XN, A_G, 0);
	op_matmul(pb, m, m->wu, D, H, A_XN, A_U, 0);
	op = row_op(pb, LUMEN_OP_SWIGLU);
	op->src[0] = act(A_G, H, CAP);
	op->src[1] = act(A_U, H, CAP);
	op->dst = op->src[0];
	op_matmul(pb, m, m->wd, H, D, A_G, A_X, 1);
	op_rmsnorm(pb, m->out_norm, A_X, A_XL, 1);
	op = pb_op(pb, LUMEN_OP_MATMUL);	/* one row: no rows arg */
	op->src[0] = pb_tensor(m->wt, R_W, m->wout, D, V);
	op->src[1] = act(A_XL, D, 1);
	op->dst = pb_tensor(LUMEN_DTYPE_F32, R_OUT, 0, V, 1);
	op = pb_op(pb, LUMEN_OP_ARGMAX);
	op->src[0] = pb_tensor(LUMEN_DTYPE_F32, R_OUT, 0, V, 1);
	op->dst = pb_tensor(LUMEN_DTYPE_I32, R_OUT, 4 * V, 1, 1);
}

/* ---- the naive forward pass, one token at a time ---- */
struct ref_state {
	double k[CTX][KVD], v[CTX][KVD];
};

static void ref_linear(const struct model *m, const struct regions *r, uint64_t w,
		       uint32_t k, uint32_t n, const double *x, double *y)
{
	double *in = malloc(8ull * k);

	if (m->wt == LUMEN_DTYPE_Q8_0 || m->wt == LUMEN_DTYPE_Q4_0) {
		float *xf = malloc(4ull * k);

		for (uint32_t i = 0; i < k; i++)
			xf[i] = (float)x[i];
		ref_q8_round(xf, in, k);
		free(xf);
	} else {
		memcpy(in, x, 8ull * k);
		if (m->wt == LUMEN_DTYPE_F16)
			ref_round_f16(in, k);
	}
	ref_matmul(m->wt, r->mem[R_W] + w, pb_bytes(m->wt, k, 1), in, k, n, 1, y);
	free(in);
}

static void ref_norm(const struct regions *r, uint64_t w, const double *x, double *y)
{
	double wd[D];

	ref_dequant_row(LUMEN_DTYPE_F32, r->mem[R_W] + w, wd, D);
	ref_rmsnorm(x, wd, EPS, D, y);
}

static double cache_round(const struct model *m, double v)
{
	return m->cache_t == LUMEN_DTYPE_F16 ? ref_f16_to_double(ref_f32_to_f16((float)v)) : v;
}

static void ref_token(const struct model *m, const struct regions *r, struct ref_state *s,
		      uint32_t tok, uint32_t pos, double *logits)
{
	double x[D], xn[D], q[D], k[KVD], v[KVD], att[D], o[D], g[H], u[H];

	ref_dequant_row(m->wt, r->mem[R_W] + m->tok + tok * pb_bytes(m->wt, D, 1), x, D);
	ref_norm(r, m->attn_norm, x, xn);
	ref_linear(m, r, m->wq, D, D, xn, q);
	ref_linear(m, r, m->wk, D, KVD, xn, k);
	ref_linear(m, r, m->wv, D, KVD, xn, v);
	ref_rope(q, N_HEAD, HD, HD, ROPE_BASE, m->neox, pos, NULL);
	ref_rope(k, N_KV, HD, HD, ROPE_BASE, m->neox, pos, NULL);
	for (int i = 0; i < KVD; i++) {
		s->k[pos][i] = cache_round(m, k[i]);
		s->v[pos][i] = cache_round(m, v[i]);
	}
	ref_attention_row(q, &s->k[0][0], &s->v[0][0], pos + 1, N_HEAD, N_KV, HD,
			  1.0 / sqrt(HD), m->cache_t == LUMEN_DTYPE_F16, att);
	ref_linear(m, r, m->wo, D, D, att, o);
	for (int i = 0; i < D; i++)
		x[i] += o[i];
	ref_norm(r, m->ffn_norm, x, xn);
	ref_linear(m, r, m->wg, D, H, xn, g);
	ref_linear(m, r, m->wu, D, H, xn, u);
	for (int i = 0; i < H; i++)
		g[i] = ref_silu(g[i]) * u[i];
	ref_linear(m, r, m->wd, H, D, g, o);
	for (int i = 0; i < D; i++)
		x[i] += o[i];
	ref_norm(r, m->out_norm, x, xn);
	ref_linear(m, r, m->wout, D, V, xn, logits);
}

static void check_transformer(uint32_t wt, uint32_t cache_t, int neox, unsigned int threads,
			      int scalar, double tol)
{
	static const uint32_t prompt[] = { 3, 17, 42, 8, 25 };
	const uint32_t n_prompt = 5, n_decode = 4;
	struct model m = { .wt = wt, .cache_t = cache_t, .neox = neox };
	struct regions r = { 0 };
	struct prog_builder pb;
	struct lumen_fault f;
	struct ref_state *s = calloc(1, sizeof(*s));
	double logits[V], worst = 0;
	uint32_t pos = 0, tok = 0;
	int bad_tok = 0, bad_cache = 0;

	rng_seed(wt * 10 + cache_t + neox);
	build_weights(&m, &r);
	reg_alloc(&r, R_KV, 2 * cache_bytes(&m), 0);
	reg_alloc(&r, R_ACT, A_END, 0);
	reg_alloc(&r, R_ARGS, 16 + 4 * CAP, 0);
	reg_alloc(&r, R_OUT, 4 * V + 4, 0);
	build_program(&pb, &m);
	struct lumen_exec *ex = exec_new(threads, scalar);

	REQUIRE(ex);
	for (uint32_t step = 0; step <= n_decode; step++) {
		uint32_t rows = step ? 1 : n_prompt;
		uint32_t *args = (uint32_t *)r.mem[R_ARGS];

		args[0] = rows;
		args[1] = pos;
		for (uint32_t i = 0; i < rows; i++)
			args[4 + i] = step ? tok : prompt[i];
		REQUIRE_EQ(run_with(ex, &pb, &r, &f), 0);
		for (uint32_t i = 0; i < rows; i++)
			ref_token(&m, &r, s, args[4 + i], pos + i, logits);
		pos += rows;

		const float *got = (const float *)r.mem[R_OUT];
		int32_t got_tok;
		int best = 0, second = -1;

		memcpy(&got_tok, r.mem[R_OUT] + 4 * V, 4);
		for (int i = 0; i < V; i++) {
			worst = fmax(worst, fabs(got[i] - logits[i]));
			if (logits[i] > logits[best])
				best = i;
		}
		for (int i = 0; i < V; i++)
			if (i != best && (second < 0 || logits[i] > logits[second]))
				second = i;
		/* the argmax must be the reference's unless the top two are within tolerance */
		if (got_tok != best && !(logits[best] - logits[got_tok] <= 2 * tol))
			bad_tok++;
		if (logits[best] - logits[second] > 2 * tol)
			CHECK_EQ(got_tok, best);
		tok = (uint32_t)got_tok;
	}
	/* the caches hold what the reference stored, rows past pos untouched */
	for (uint32_t j = 0; j < CTX; j++) {
		double kr[KVD], vr[KVD];

		ref_dequant_row(cache_t, r.mem[R_KV] + j * pb_bytes(cache_t, KVD, 1), kr, KVD);
		ref_dequant_row(cache_t, r.mem[R_KV] + cache_bytes(&m) + j * pb_bytes(cache_t, KVD, 1),
				vr, KVD);
		for (int i = 0; i < KVD; i++) {
			double want_k = j < pos ? s->k[j][i] : 0, want_v = j < pos ? s->v[j][i] : 0;

			bad_cache += fabs(kr[i] - want_k) > tol * (1 + fabs(want_k)) ||
				     fabs(vr[i] - want_v) > tol * (1 + fabs(want_v));
		}
	}
	printf("# worst logit error %.3g (tolerance %.3g)\n", worst, tol);
	CHECK(worst <= tol);
	CHECK_EQ(bad_tok, 0);
	CHECK_EQ(bad_cache, 0);
	CHECK(reg_guards_intact(&r));
	lumen_exec_destroy(ex);
	pb_free(&pb);
	reg_free(&r);
	free(s);
}

/*
 * Tolerances: F32 weights over an F32 cache differ from the reference only
 * by float rounding. Elsewhere the reference applies the same roundings as
 * the ISA (Q8_0 activations for Q weights, F16 activations for F16 weights,
 * F16 query and probabilities over an F16 cache), but an input that differs
 * in its last float bit can round to the neighbouring Q8 or F16 step; each
 * such flip moves an output by one step times a weight, so a few
 * thousandths at these magnitudes.
 */
TEST(transformer_f32_weights_f32_cache) { check_transformer(LUMEN_DTYPE_F32, LUMEN_DTYPE_F32, 0, 1, 0, 1e-5); }
TEST(transformer_f16_weights_f16_cache_2_threads) { check_transformer(LUMEN_DTYPE_F16, LUMEN_DTYPE_F16, 0, 2, 0, 2e-3); }
TEST(transformer_q8_0_weights_f16_cache) { check_transformer(LUMEN_DTYPE_Q8_0, LUMEN_DTYPE_F16, 0, 2, 0, 2e-3); }
TEST(transformer_q4_0_weights_neox_rope) { check_transformer(LUMEN_DTYPE_Q4_0, LUMEN_DTYPE_F32, 1, 2, 0, 2e-3); }
TEST(transformer_q4_0_scalar_kernels) { check_transformer(LUMEN_DTYPE_Q4_0, LUMEN_DTYPE_F16, 0, 1, 1, 2e-3); }
TEST(transformer_f16_scalar_3_threads) { check_transformer(LUMEN_DTYPE_F16, LUMEN_DTYPE_F32, 1, 3, 1, 2e-3); }
