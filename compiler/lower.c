// SPDX-License-Identifier: MIT
/*
 * Lowering of the llama graph. Per layer, with x the residual stream:
 *
 *   xn  = RMSNORM(x) * attn_norm
 *   qkv = MATMUL(W_qkv, xn)              Q, K, V in one pass over xn
 *   ROPE q, k in place; KV_WRITE k, v
 *   att = ATTENTION(q, K cache, V cache)
 *   x   = MATMUL(W_o, att) + x           residual add in the epilogue
 *   xn  = RMSNORM(x) * ffn_norm
 *   gu  = MATMUL(W_gate_up, xn)          gate and up in one pass
 *   h   = SWIGLU(gu.gate, gu.up)
 *   x   = MATMUL(W_down, h) + x
 *
 * then RMSNORM of the last row, the output matmul and ARGMAX. The decode
 * program has one row and no rows arg; the prefill program has the chunk
 * as its capacity and reads the row count from args word 0. Both read the
 * position from word 1 and the token ids from word 2 on.
 *
 * The verify program (speculative decoding) is the prefill graph at a
 * capacity of draft_max + 1 rows whose head keeps every row: logits
 * [rows][n_vocab] and one argmax per row, so that greedy verification of
 * k drafted tokens is one submission and k + 1 words read back. Rejected
 * tokens need no undo: their K/V rows lie past the session's position
 * and the next job overwrites them before any query can reach them.
 */
#include "lower.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lumen_build.h"
#include "lumen_ops.h"
#include "plan.h"
#include "weights.h"
#include "format_util.h"

#define LC_MAX_CTX_DEFAULT 4096

static uint32_t f32_bits(float f)
{
	uint32_t b;

	memcpy(&b, &f, 4);
	return b;
}

/* ---- weights ---- */

static int add_weight(struct lc_out *o, const char *name, uint32_t dtype,
		      const struct lm_weight **parts, uint32_t n_parts,
		      int kept_f16)
{
	struct lc_weight *w;

	if (o->n_w == o->cap_w) {
		uint32_t cap = o->cap_w ? 2 * o->cap_w : 64;
		void *p = realloc(o->w, cap * sizeof(*o->w));

		if (!p)
			return -1;
		o->w = p;
		o->cap_w = cap;
	}
	w = &o->w[o->n_w];
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->dtype = dtype;
	w->row_len = parts[0]->dims[0];
	for (uint32_t i = 0; i < n_parts; i++) {
		w->parts[i] = parts[i];
		w->rows += parts[i]->dims[1];
	}
	w->n_parts = n_parts;
	w->kept_f16 = kept_f16;
	w->offset = lc_align_up(o->weights_size, LNPU_TENSOR_ALIGN);
	w->size = lc_weight_bytes(dtype, w->row_len, w->rows);
	o->weights_size = w->offset + w->size;
	return (int)o->n_w++;
}

static int add_norm(struct lc_out *o, const char *name,
		    const struct lm_weight *src)
{
	return add_weight(o, name, LUMEN_DTYPE_F32, &src, 1, 0);
}

/*
 * Add matrices stacked by rows when they end up with one dtype (one
 * matmul then reads the input once), else each alone. Returns the index
 * of the first; *fused says which happened.
 */
static int add_matrices(struct lc_out *o, const char *name,
			const struct lm_weight **parts, uint32_t n,
			int *fused)
{
	uint32_t dt[3];
	int kept[3], first = -1;

	for (uint32_t i = 0; i < n; i++)
		dt[i] = lc_matrix_dtype(parts[i], o->opt.quant, &kept[i]);
	*fused = 1;
	for (uint32_t i = 1; i < n; i++)
		if (dt[i] != dt[0])
			*fused = 0;
	if (*fused) {
		uint64_t rows = 0;

		for (uint32_t i = 0; i < n; i++)
			rows += parts[i]->dims[1];
		return add_weight(o, name, lc_stored_dtype(dt[0], rows, o->opt.no_repack),
				  parts, n, kept[0]);
	}
	for (uint32_t i = 0; i < n; i++) {
		int k = add_weight(o, parts[i]->name,
				   lc_stored_dtype(dt[i], parts[i]->dims[1], o->opt.no_repack),
				   &parts[i], 1, kept[i]);

		if (first < 0)
			first = k;
		if (k < 0)
			return -1;
	}
	return first;
}

/* indices into lc_out.w; -1 for the weights an architecture lacks */
struct layer_w {
	int attn_norm, qkv, wo, ffn_norm, gu, down;
	int fused_qkv, fused_gu;
	int bq, bk, bv, q_norm, k_norm, post_attn_norm, post_ffn_norm;
};

struct model_w {
	int tok, out_norm, output;
	int rope_factors;	/* -1 without RoPE scaling */
	int embd_scale;		/* -1 unless the embeddings are scaled */
	struct layer_w *l;
};

/* a small F32 vector (norm, bias, factors) when the model has it, else -1 */
static int add_optional(struct lc_out *o, const char *name,
			const struct lm_weight *src, int *failed)
{
	int i;

	if (!src->data)
		return -1;
	i = add_norm(o, name, src);
	if (i < 0)
		*failed = 1;
	return i;
}

static int layout_weights(struct lc_out *o, struct model_w *mw)
{
	const struct lm_model *m = o->m;
	int kept, fused, failed = 0;
	char name[48];
	uint32_t dt = lc_matrix_dtype(&m->tok_embd, o->opt.quant, &kept);

	/*
	 * A tied table is also the output projection, a fifth of a small
	 * model's decode: interleave it too (EMBED reads a row of a group),
	 * rather than keep a second copy of the largest matrix (16 MiB of
	 * SmolLM2-135M's 74 in Q4_0, 141 MiB of Llama-3.2-1B's).
	 */
	if (m->tied)
		dt = lc_stored_dtype(dt, m->tok_embd.dims[1], o->opt.no_repack);

	mw->tok = add_weight(o, "token_embd", dt,
			     (const struct lm_weight *[]){ &m->tok_embd }, 1, kept);
	if (mw->tok < 0)
		return -1;
	for (uint32_t l = 0; l < m->n_layer; l++) {
		const struct lm_layer *y = &m->layers[l];
		struct layer_w *lw = &mw->l[l];

		snprintf(name, sizeof(name), "blk.%u.attn_norm", l);
		lw->attn_norm = add_norm(o, name, &y->attn_norm);
		snprintf(name, sizeof(name), "blk.%u.attn_qkv", l);
		lw->qkv = add_matrices(o, name, (const struct lm_weight *[]){
				       &y->wq, &y->wk, &y->wv }, 3, &fused);
		lw->fused_qkv = fused;
		o->fused_qkv += fused;
		snprintf(name, sizeof(name), "blk.%u.attn_output", l);
		lw->wo = add_matrices(o, name, (const struct lm_weight *[]){ &y->wo },
				      1, &fused);
		snprintf(name, sizeof(name), "blk.%u.ffn_norm", l);
		lw->ffn_norm = add_norm(o, name, &y->ffn_norm);
		snprintf(name, sizeof(name), "blk.%u.ffn_gate_up", l);
		lw->gu = add_matrices(o, name, (const struct lm_weight *[]){
				      &y->gate, &y->up }, 2, &fused);
		lw->fused_gu = fused;
		o->fused_gate_up += fused;
		snprintf(name, sizeof(name), "blk.%u.ffn_down", l);
		lw->down = add_matrices(o, name, (const struct lm_weight *[]){ &y->down },
					1, &fused);
		if (lw->attn_norm < 0 || lw->qkv < 0 || lw->wo < 0 ||
		    lw->ffn_norm < 0 || lw->gu < 0 || lw->down < 0)
			return -1;
		lw->bq = add_optional(o, "attn_q.bias", &y->bq, &failed);
		lw->bk = add_optional(o, "attn_k.bias", &y->bk, &failed);
		lw->bv = add_optional(o, "attn_v.bias", &y->bv, &failed);
		lw->q_norm = add_optional(o, "attn_q_norm", &y->q_norm, &failed);
		lw->k_norm = add_optional(o, "attn_k_norm", &y->k_norm, &failed);
		lw->post_attn_norm = add_optional(o, "post_attention_norm",
						  &y->post_attn_norm, &failed);
		lw->post_ffn_norm = add_optional(o, "post_ffw_norm",
						 &y->post_ffn_norm, &failed);
		if (failed)
			return -1;
	}
	mw->embd_scale = add_optional(o, "embedding_scale", &m->embd_scale, &failed);
	if (failed)
		return -1;
	mw->rope_factors = -1;
	if (m->rope_factors.data) {
		mw->rope_factors = add_norm(o, "rope_freqs", &m->rope_factors);
		if (mw->rope_factors < 0)
			return -1;
	}
	mw->out_norm = add_norm(o, "output_norm", &m->out_norm);
	if (m->tied)
		mw->output = mw->tok;	/* the same bytes serve both */
	else
		mw->output = add_matrices(o, "output", (const struct lm_weight *[]){
					  &m->output }, 1, &fused);
	return mw->out_norm < 0 || mw->output < 0 ? -1 : 0;
}

/* ---- programs ---- */

static struct lumen_tensor weight(const struct lc_out *o, int i)
{
	const struct lc_weight *w = &o->w[i];
	uint64_t rb = lc_weight_bytes(w->dtype, w->row_len, 1);

	return lumen_tensor_2d(w->dtype, LNPU_SLOT_WEIGHTS, w->offset, w->row_len,
			       w->rows, rb);
}

/* an activation: @cols F32 of each row at @col of virtual buffer @vb */
struct act {
	int vb;
	struct lumen_tensor t;
};

struct emit {
	struct lc_out *o;
	struct lc_program *p;
	uint32_t rows;		/* capacity */
	uint16_t rows_arg;
	int oom;
};

static int new_vbuf(struct emit *e, uint64_t size)
{
	struct lc_program *p = e->p;

	if (p->n_vb == p->cap_vb) {
		uint32_t cap = p->cap_vb ? 2 * p->cap_vb : 64;
		void *n = realloc(p->vb, cap * sizeof(*p->vb));

		if (!n) {
			e->oom = 1;
			return 0;
		}
		p->vb = n;
		p->cap_vb = cap;
	}
	memset(&p->vb[p->n_vb], 0, sizeof(p->vb[0]));
	p->vb[p->n_vb].size = size;
	p->vb[p->n_vb].first = UINT32_MAX;
	p->act_naive += size;
	return (int)p->n_vb++;
}

/* a buffer of @width F32 per row, @rows rows */
static struct act new_act(struct emit *e, uint64_t width, uint32_t rows)
{
	struct act a;

	a.vb = new_vbuf(e, width * 4 * rows);
	a.t = lumen_tensor_2d(LUMEN_DTYPE_F32, LNPU_SLOT_ACT, 0, width, rows, width * 4);
	return a;
}

/* columns [col, col + width) of each row of @a */
static struct act cols(struct act a, uint64_t col, uint64_t width)
{
	a.t.offset += col * 4;
	a.t.dims[0] = width;
	return a;
}

static struct act not_act(struct lumen_tensor t)
{
	struct act a = { -1, t };

	return a;
}

static struct lumen_op *emit_op(struct emit *e, uint16_t opcode,
				struct act dst, const struct act *src,
				unsigned int n_src)
{
	struct lc_program *p = e->p;
	struct lumen_op *op;

	if (p->size + sizeof(*op) > p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64 * sizeof(*op);
		void *n = realloc(p->buf, cap);

		if (!n) {
			e->oom = 1;
			return NULL;
		}
		p->buf = n;
		p->cap = cap;
	}
	if (p->n_ops == p->cap_vref) {
		uint32_t cap = p->cap_vref ? 2 * p->cap_vref : 64;
		void *n = realloc(p->vref, cap * sizeof(*p->vref));

		if (!n) {
			e->oom = 1;
			return NULL;
		}
		p->vref = n;
		p->cap_vref = cap;
	}
	op = (struct lumen_op *)(p->buf + p->size);
	memset(op, 0, sizeof(*op));
	op->opcode = opcode;
	op->rows_arg = e->rows_arg;
	op->pos_arg = LUMEN_ARG_NONE;
	op->dst = dst.t;
	p->vref[p->n_ops][0] = dst.vb;
	for (unsigned int i = 0; i < LUMEN_MAX_SRCS; i++) {
		p->vref[p->n_ops][i + 1] = i < n_src ? src[i].vb : -1;
		if (i < n_src)
			op->src[i] = src[i].t;
	}
	for (unsigned int i = 0; i < 4; i++) {
		int vb = p->vref[p->n_ops][i];

		if (vb < 0)
			continue;
		if (p->vb[vb].first == UINT32_MAX)
			p->vb[vb].first = p->n_ops;
		p->vb[vb].last = p->n_ops;
	}
	p->size += sizeof(*op);
	p->n_ops++;
	return op;
}

#define EMIT(e, opcode, dst, ...)					\
	emit_op(e, opcode, dst, (const struct act[]){ __VA_ARGS__ },	\
		sizeof((const struct act[]){ __VA_ARGS__ }) / sizeof(struct act))

static void matmul(struct emit *e, struct lumen_tensor w, struct act x,
		   struct act dst, int residual)
{
	struct lumen_op *op;

	if (residual)
		op = EMIT(e, LUMEN_OP_MATMUL, dst, not_act(w), x, dst);
	else
		op = EMIT(e, LUMEN_OP_MATMUL, dst, not_act(w), x);
	if (op && residual)
		op->flags = LUMEN_OPF_RESIDUAL;
}

/* dst = RMSNORM(x) * w over @groups equal segments of each row */
static void rmsnorm_groups(struct emit *e, struct act x, int w, struct act dst,
			   uint32_t groups)
{
	struct lumen_op *op = EMIT(e, LUMEN_OP_RMSNORM, dst, x,
				   not_act(weight(e->o, w)));

	if (op) {
		op->params[LUMEN_P_EPS] = f32_bits(e->o->m->rms_eps);
		op->params[LUMEN_P_N_GROUP] = groups > 1 ? groups : 0;
	}
}

static void rmsnorm(struct emit *e, struct act x, int w, struct act dst)
{
	rmsnorm_groups(e, x, w, dst, 1);
}

/* x += w, w one row broadcast over the rows (biases) */
static void add_row(struct emit *e, struct act x, int w)
{
	EMIT(e, LUMEN_OP_ADD, x, x, not_act(weight(e->o, w)));
}

static void rope(struct emit *e, const struct model_w *mw,
		 const struct lm_layer *y, struct act x, uint32_t n_head)
{
	const struct lm_model *m = e->o->m;
	/* Gemma 3 scales the global layers only, as llama.cpp does */
	int scaled = mw->rope_factors >= 0 && !y->window;
	struct lumen_op *op = scaled ?
		EMIT(e, LUMEN_OP_ROPE, x, x, not_act(weight(e->o, mw->rope_factors))) :
		EMIT(e, LUMEN_OP_ROPE, x, x);

	if (!op)
		return;
	op->pos_arg = LNPU_ARG_POS;
	op->params[LUMEN_P_N_HEAD] = n_head;
	op->params[LUMEN_P_N_ROT] = m->n_rot;
	op->params[LUMEN_P_FREQ_BASE] = f32_bits(y->rope_base);
	if (m->rope_neox)
		op->flags = LUMEN_OPF_ROPE_NEOX;
	if (scaled)
		op->flags |= LUMEN_OPF_ROPE_FACTORS;
}

static struct lumen_tensor kv_cache(const struct lc_out *o, uint32_t layer,
				    int v)
{
	const struct lm_model *m = o->m;
	uint64_t kvd = (uint64_t)m->n_head_kv * m->head_dim;
	uint64_t es = lumen_type_size(o->opt.kv_dtype);
	uint64_t one = kvd * es * o->opt.ctx;

	return lumen_tensor_2d(o->opt.kv_dtype, LNPU_SLOT_KV,
			       (2 * (uint64_t)layer + v) * one, kvd, o->opt.ctx,
			       kvd * es);
}

static void layer(struct emit *e, const struct model_w *mw, uint32_t l,
		  struct act x)
{
	const struct lm_model *m = e->o->m;
	const struct lm_layer *y = &m->layers[l];
	const struct layer_w *lw = &mw->l[l];
	uint64_t D = m->n_embd, hd = m->head_dim;
	uint64_t qd = m->n_head * hd, kvd = m->n_head_kv * hd, H = m->n_ff;
	struct act xn, qkv, q, k, v, att, gu, h, t;
	struct lumen_op *op;

	xn = new_act(e, D, e->rows);
	rmsnorm(e, x, lw->attn_norm, xn);
	qkv = new_act(e, qd + 2 * kvd, e->rows);
	q = cols(qkv, 0, qd);
	k = cols(qkv, qd, kvd);
	v = cols(qkv, qd + kvd, kvd);
	if (lw->fused_qkv) {
		matmul(e, weight(e->o, lw->qkv), xn, qkv, 0);
	} else {
		matmul(e, weight(e->o, lw->qkv), xn, q, 0);
		matmul(e, weight(e->o, lw->qkv + 1), xn, k, 0);
		matmul(e, weight(e->o, lw->qkv + 2), xn, v, 0);
	}
	if (lw->bq >= 0) {
		add_row(e, q, lw->bq);
		add_row(e, k, lw->bk);
		add_row(e, v, lw->bv);
	}
	if (lw->q_norm >= 0) {		/* per head, before RoPE */
		rmsnorm_groups(e, q, lw->q_norm, q, m->n_head);
		rmsnorm_groups(e, k, lw->k_norm, k, m->n_head_kv);
	}
	rope(e, mw, y, q, m->n_head);
	rope(e, mw, y, k, m->n_head_kv);
	op = EMIT(e, LUMEN_OP_KV_WRITE, not_act(kv_cache(e->o, l, 0)), k);
	if (op)
		op->pos_arg = LNPU_ARG_POS;
	op = EMIT(e, LUMEN_OP_KV_WRITE, not_act(kv_cache(e->o, l, 1)), v);
	if (op)
		op->pos_arg = LNPU_ARG_POS;
	att = new_act(e, qd, e->rows);
	op = EMIT(e, LUMEN_OP_ATTENTION, att, q, not_act(kv_cache(e->o, l, 0)),
		  not_act(kv_cache(e->o, l, 1)));
	if (op) {
		op->pos_arg = LNPU_ARG_POS;
		op->params[LUMEN_P_N_HEAD] = m->n_head;
		op->params[LUMEN_P_N_KV_HEAD] = m->n_head_kv;
		op->params[LUMEN_P_SCALE] = f32_bits(m->attn_scale);
		op->params[LUMEN_P_WINDOW] = y->window;
	}
	if (lw->post_attn_norm >= 0) {	/* x += RMSNORM(W_o att) */
		t = new_act(e, D, e->rows);
		matmul(e, weight(e->o, lw->wo), att, t, 0);
		rmsnorm(e, t, lw->post_attn_norm, t);
		EMIT(e, LUMEN_OP_ADD, x, x, t);
	} else {
		matmul(e, weight(e->o, lw->wo), att, x, 1);
	}

	xn = new_act(e, D, e->rows);
	rmsnorm(e, x, lw->ffn_norm, xn);
	gu = new_act(e, 2 * H, e->rows);
	if (lw->fused_gu) {
		matmul(e, weight(e->o, lw->gu), xn, gu, 0);
	} else {
		matmul(e, weight(e->o, lw->gu), xn, cols(gu, 0, H), 0);
		matmul(e, weight(e->o, lw->gu + 1), xn, cols(gu, H, H), 0);
	}
	/* h is its own buffer: in place into gu.gate would overlap gu.up's range */
	h = new_act(e, H, e->rows);
	EMIT(e, m->a->gemma ? LUMEN_OP_GEGLU : LUMEN_OP_SWIGLU, h,
	     cols(gu, 0, H), cols(gu, H, H));
	if (lw->post_ffn_norm >= 0) {	/* x += RMSNORM(W_down h) */
		t = new_act(e, D, e->rows);
		matmul(e, weight(e->o, lw->down), h, t, 0);
		rmsnorm(e, t, lw->post_ffn_norm, t);
		EMIT(e, LUMEN_OP_ADD, x, x, t);
	} else {
		matmul(e, weight(e->o, lw->down), h, x, 1);
	}
}

/* @all_rows: every row's logits and argmax (verify), else the last row's */
static void head(struct emit *e, const struct model_w *mw, struct act x,
		 int all_rows)
{
	struct lc_out *o = e->o;
	const struct lm_model *m = o->m;
	uint32_t rows = all_rows ? e->rows : 1;
	struct act xf = new_act(e, m->n_embd, rows);
	struct act logits = not_act(lumen_tensor_2d(LUMEN_DTYPE_F32, LNPU_SLOT_OUT,
						    all_rows ? o->out_verify_logits :
						    o->out_logits, m->n_vocab, rows,
						    4 * (uint64_t)m->n_vocab));
	struct act best = not_act(lumen_tensor_2d(LUMEN_DTYPE_I32, LNPU_SLOT_OUT,
						  all_rows ? o->out_verify_argmax :
						  o->out_argmax, 1, rows, 4));
	struct lumen_op *op;

	op = EMIT(e, LUMEN_OP_RMSNORM, xf, x, not_act(weight(o, mw->out_norm)));
	if (op) {
		op->params[LUMEN_P_EPS] = f32_bits(m->rms_eps);
		if (e->rows > 1 && !all_rows)	/* only the last token's logits matter */
			op->flags = LUMEN_OPF_LAST_ROW;
	}
	if (!all_rows)
		e->rows_arg = LUMEN_ARG_NONE;	/* one row from here on */
	matmul(e, weight(o, mw->output), xf, logits, 0);
	EMIT(e, LUMEN_OP_ARGMAX, best, logits);
	if (all_rows && o->verify_topk) {
		struct act top = not_act(lumen_tensor_2d(LUMEN_DTYPE_I32, LNPU_SLOT_OUT,
							 o->out_verify_topk,
							 2 * o->verify_topk, rows,
							 8 * (uint64_t)o->verify_topk));

		op = EMIT(e, LUMEN_OP_TOPK, top, logits);
		if (op)
			op->params[LUMEN_P_K] = o->verify_topk;
	}
}

static void patch_offsets(struct lc_program *p)
{
	for (uint32_t i = 0; i < p->n_ops; i++) {
		struct lumen_op *op = (struct lumen_op *)
			(p->buf + sizeof(struct lumen_prog_header)) + i;
		struct lumen_tensor *t[4] = {
			&op->dst, &op->src[0], &op->src[1], &op->src[2],
		};

		for (int k = 0; k < 4; k++)
			if (p->vref[i][k] >= 0)
				t[k]->offset += p->vb[p->vref[i][k]].offset;
	}
}

static int build_program(struct lc_out *o, const struct model_w *mw,
			 struct lc_program *p, uint32_t rows, int all_rows)
{
	const struct lm_model *m = o->m;
	struct emit e = { o, p, rows, rows > 1 ? LNPU_ARG_ROWS : LUMEN_ARG_NONE, 0 };
	struct lumen_prog_header *h;
	struct act x, ids;

	p->rows = rows;
	p->cap = sizeof(*h) + 64 * sizeof(struct lumen_op);
	p->buf = calloc(1, p->cap);
	if (!p->buf)
		return -1;
	p->size = sizeof(*h);
	ids = not_act(lumen_tensor_2d(LUMEN_DTYPE_I32, LNPU_SLOT_ARGS,
				      4 * LNPU_ARG_IDS, rows, 1, 4 * (uint64_t)rows));
	x = new_act(&e, m->n_embd, rows);
	EMIT(&e, LUMEN_OP_EMBED, x, not_act(weight(o, mw->tok)), ids);
	if (mw->embd_scale >= 0)
		EMIT(&e, LUMEN_OP_MUL, x, x, not_act(weight(o, mw->embd_scale)));
	for (uint32_t l = 0; l < m->n_layer; l++)
		layer(&e, mw, l, x);
	head(&e, mw, x, all_rows);
	if (e.oom || lc_plan(p->vb, p->n_vb, &p->act_planned))
		return -1;
	patch_offsets(p);
	h = (struct lumen_prog_header *)p->buf;
	lumen_prog_header_init(h, p->n_ops, LNPU_SLOT_COUNT, LNPU_SLOT_ARGS);
	return 0;
}

static int check_options(struct lc_out *o, const struct lm_model *m,
			 char *err, size_t errlen)
{
	struct lc_options *opt = &o->opt;

	if (!opt->ctx)
		opt->ctx = m->ctx_train < LC_MAX_CTX_DEFAULT ? m->ctx_train :
			   LC_MAX_CTX_DEFAULT;
	if (opt->ctx > (1U << 20))
		return lc_fail(err, errlen, "--ctx %u is above 1048576", opt->ctx);
	if (!opt->prefill_chunk)
		opt->prefill_chunk = 64;
	if (opt->prefill_chunk < 2 || opt->prefill_chunk > 4096)
		return lc_fail(err, errlen, "--prefill-chunk %u: must be 2..4096",
			    opt->prefill_chunk);
	if (opt->prefill_chunk > opt->ctx)
		opt->prefill_chunk = opt->ctx < 2 ? 2 : opt->ctx;
	if (opt->kv_dtype != LUMEN_DTYPE_F16 && opt->kv_dtype != LUMEN_DTYPE_F32)
		return lc_fail(err, errlen, "KV cache dtype must be f16 or f32");
	if (opt->quant != LC_KEEP_DTYPE && opt->quant != LUMEN_DTYPE_Q8_0 &&
	    opt->quant != LUMEN_DTYPE_Q4_0)
		return lc_fail(err, errlen, "--quant must be q8_0 or q4_0");
	if (!opt->draft_max)
		opt->draft_max = LC_DRAFT_MAX_DEFAULT;
	if (opt->draft_max != LC_NO_VERIFY && opt->draft_max > 255)
		return lc_fail(err, errlen,
			       "--draft-max %u: must be 0..255 (0: no verify program)",
			       opt->draft_max);
	/* the verify rows are written to the cache by one op, as a chunk's */
	o->verify_rows = opt->draft_max == LC_NO_VERIFY ? 0 : opt->draft_max + 1;
	if (o->verify_rows > opt->ctx)
		o->verify_rows = opt->ctx < 2 ? 0 : opt->ctx;
	if (!opt->verify_topk)
		opt->verify_topk = LC_VERIFY_TOPK_DEFAULT;
	if (opt->verify_topk != LC_NO_VERIFY && opt->verify_topk > LUMEN_MAX_TOPK)
		return lc_fail(err, errlen,
			       "--verify-topk %u: must be 0..%u (0: none)",
			       opt->verify_topk, LUMEN_MAX_TOPK);
	o->verify_topk = !o->verify_rows || opt->verify_topk == LC_NO_VERIFY ? 0 :
			 opt->verify_topk < m->n_vocab ? opt->verify_topk : m->n_vocab;
	return 0;
}

int lc_lower(struct lc_out *o, const struct lm_model *m,
	     const struct lc_options *opt, char *err, size_t errlen)
{
	struct model_w mw = { 0 };
	struct lumen_validation v;
	uint64_t kvd = (uint64_t)m->n_head_kv * m->head_dim;

	memset(o, 0, sizeof(*o));
	o->m = m;
	o->opt = *opt;
	if (check_options(o, m, err, errlen))
		return -1;
	mw.l = calloc(m->n_layer, sizeof(*mw.l));
	if (!mw.l || layout_weights(o, &mw)) {
		free(mw.l);
		lc_free(o);
		return lc_fail(err, errlen, "out of memory");
	}
	o->out_logits = 0;
	o->out_argmax = lc_align_up(4 * (uint64_t)m->n_vocab, 64);
	o->region_size[LNPU_SLOT_WEIGHTS] = o->weights_size;
	o->region_size[LNPU_SLOT_KV] = 2 * (uint64_t)m->n_layer * o->opt.ctx *
				       kvd * lumen_type_size(o->opt.kv_dtype);
	o->region_size[LNPU_SLOT_ARGS] = 4 * (LNPU_ARG_IDS + (uint64_t)
					      (o->opt.prefill_chunk > o->verify_rows ?
					       o->opt.prefill_chunk : o->verify_rows));
	o->region_size[LNPU_SLOT_OUT] = o->out_argmax + 64;
	o->n_prog = o->verify_rows ? 3 : 2;
	if (o->verify_rows) {	/* after decode's and prefill's outputs */
		o->out_verify_logits = (uint32_t)o->region_size[LNPU_SLOT_OUT];
		o->out_verify_argmax = (uint32_t)lc_align_up(o->out_verify_logits +
					4 * (uint64_t)m->n_vocab * o->verify_rows, 64);
		o->region_size[LNPU_SLOT_OUT] = o->out_verify_argmax +
			lc_align_up(4 * (uint64_t)o->verify_rows, 64);
	}
	if (o->verify_topk) {	/* then the rows' top-k */
		o->out_verify_topk = (uint32_t)o->region_size[LNPU_SLOT_OUT];
		o->region_size[LNPU_SLOT_OUT] = o->out_verify_topk +
			lc_align_up(8 * (uint64_t)o->verify_topk * o->verify_rows, 64);
	}
	if (o->region_size[LNPU_SLOT_OUT] > UINT32_MAX ||
	    build_program(o, &mw, &o->prog[LC_DECODE], 1, 0) ||
	    build_program(o, &mw, &o->prog[LC_PREFILL], o->opt.prefill_chunk, 0) ||
	    (o->verify_rows &&
	     build_program(o, &mw, &o->prog[LC_VERIFY], o->verify_rows, 1))) {
		free(mw.l);
		lc_free(o);
		return lc_fail(err, errlen, "out of memory");
	}
	o->matrix_dtype = o->w[m->n_layer ? mw.l[0].qkv : mw.tok].dtype;
	free(mw.l);
	o->region_size[LNPU_SLOT_ACT] = 0;
	for (uint32_t i = 0; i < o->n_prog; i++)
		if (o->prog[i].act_planned > o->region_size[LNPU_SLOT_ACT])
			o->region_size[LNPU_SLOT_ACT] = o->prog[i].act_planned;
	/* a program the validator refuses is a compiler bug: say so now */
	for (uint32_t i = 0; i < o->n_prog; i++) {
		static const char *const name[] = { "decode", "prefill", "verify" };

		if (lumen_validate(o->prog[i].buf, o->prog[i].size, &v)) {
			lc_fail(err, errlen,
			     "internal error: %s program op %u operand %u: %s",
			     name[i], v.error_op,
			     v.error_operand, lumen_verr_str(v.error));
			lc_free(o);
			return -1;
		}
		for (int s = 0; s < LNPU_SLOT_COUNT; s++)
			if (v.region_size[s] > o->region_size[s]) {
				lc_fail(err, errlen,
				     "internal error: region %d needs %llu bytes, planned %llu",
				     s, (unsigned long long)v.region_size[s],
				     (unsigned long long)o->region_size[s]);
				lc_free(o);
				return -1;
			}
	}
	return 0;
}

void lc_free(struct lc_out *o)
{
	for (int i = 0; i < 3; i++) {
		free(o->prog[i].buf);
		free(o->prog[i].vb);
		free(o->prog[i].vref);
	}
	free(o->w);
	memset(o, 0, sizeof(*o));
}


void lc_report(const struct lc_out *o, FILE *f)
{
	const struct lm_model *m = o->m;
	static const char *const slot[] = { "weights", "kv", "act", "args", "out" };
	uint32_t kept = 0;

	fprintf(f, "model: %s, %u layers, dim %u, %u heads (%u kv), ff %u, vocab %u%s\n",
		m->name[0] ? m->name : m->arch, m->n_layer, m->n_embd,
		m->n_head, m->n_head_kv, m->n_ff, m->n_vocab,
		m->tied ? ", tied output" : "");
	fprintf(f, "context %u, prefill chunk %u, KV cache %s\n", o->opt.ctx,
		o->opt.prefill_chunk, lumen_isa_dtype_name(o->opt.kv_dtype));
	if (o->verify_rows)
		fprintf(f, "verify program: %u rows (up to %u draft tokens per submission)\n",
			o->verify_rows, o->verify_rows - 1);
	fprintf(f, "fused: Q/K/V in %u of %u layers, gate/up in %u of %u\n",
		o->fused_qkv, m->n_layer, o->fused_gate_up, m->n_layer);
	for (uint32_t i = 0; i < o->n_prog; i++)
		fprintf(f, "%s program: %u ops, activations %llu bytes planned by liveness (%llu without reuse)\n",
			(const char *[]){ "decode", "prefill", "verify" }[i],
			o->prog[i].n_ops,
			(unsigned long long)o->prog[i].act_planned,
			(unsigned long long)o->prog[i].act_naive);
	for (int s = 0; s < LNPU_SLOT_COUNT; s++)
		fprintf(f, "region %d %-8s %llu bytes\n", s, slot[s],
			(unsigned long long)o->region_size[s]);
	for (uint32_t i = 0; i < o->n_w; i++)
		kept += o->w[i].kept_f16;
	if (kept) {
		fprintf(f, "kept F16 (rows not a multiple of %d for %s):", LUMEN_QK,
			lumen_isa_dtype_name(o->opt.quant));
		for (uint32_t i = 0; i < o->n_w; i++)
			if (o->w[i].kept_f16)
				fprintf(f, " %s", o->w[i].name);
		fprintf(f, "\n");
	}
}
