// SPDX-License-Identifier: MIT
/* The llama-family graph from GGUF metadata and tensors. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <drm/lumen_isa.h>

#include "format_util.h"

/*
 * Types the NPU executes (ggml's type numbers are lumen's): kept in place,
 * never requantized unless the user asks for --quant.
 */
static int dtype_supported(uint32_t t)
{
	switch (t) {
	case LUMEN_DTYPE_F32: case LUMEN_DTYPE_F16: case LUMEN_DTYPE_BF16:
	case LUMEN_DTYPE_Q4_0: case LUMEN_DTYPE_Q4_1: case LUMEN_DTYPE_Q5_0:
	case LUMEN_DTYPE_Q5_1: case LUMEN_DTYPE_Q8_0: case LUMEN_DTYPE_Q4_K:
	case LUMEN_DTYPE_Q5_K: case LUMEN_DTYPE_Q6_K:
		return 1;
	default:
		return 0;
	}
}

static int get_weight(const struct gguf_file *g, const char *name,
		      uint64_t d0, uint64_t d1, int optional,
		      struct lm_weight *w, char *err, size_t errlen)
{
	const struct gguf_tensor *t = gguf_find_tensor(g, name);

	memset(w, 0, sizeof(*w));
	if (!t) {
		if (optional)
			return 0;
		return lc_fail(err, errlen, "tensor '%s' is missing", name);
	}
	if (t->dims[0] != d0 || t->dims[1] != d1 || t->dims[2] != 1 ||
	    t->dims[3] != 1)
		return lc_fail(err, errlen,
			    "offset %llu: tensor '%s': shape [%llu, %llu, %llu, %llu], expected [%llu, %llu]",
			    (unsigned long long)t->info_offset, name,
			    (unsigned long long)t->dims[0],
			    (unsigned long long)t->dims[1],
			    (unsigned long long)t->dims[2],
			    (unsigned long long)t->dims[3],
			    (unsigned long long)d0, (unsigned long long)d1);
	if (!dtype_supported(t->type))
		return lc_fail(err, errlen,
			    "offset %llu: tensor '%s' has type %s, which lumenc cannot convert (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K can be)",
			    (unsigned long long)t->info_offset, name,
			    gguf_dtype_name(t->type));
	w->name = strndup(t->name.ptr, t->name.len);	/* not NUL-terminated */
	w->dtype = t->type;
	w->dims[0] = d0;
	w->dims[1] = d1;
	w->data = t->data;
	w->size = t->size;
	return 0;
}

static const struct lm_arch archs[] = {
	{ .name = "llama" },
	{ .name = "qwen2", .rope_neox = 1, .qkv_bias = 1 },
	{ .name = "qwen3", .rope_neox = 1, .qk_norm = 1 },
	{ .name = "gemma3", .rope_neox = 1, .qk_norm = 1, .gemma = 1 },
	{ .name = "phi3", .rope_neox = 1, .fused_qkv = 1 },
};

const struct lm_arch *lm_find_arch(struct gguf_str name)
{
	for (size_t i = 0; i < sizeof(archs) / sizeof(archs[0]); i++)
		if (gguf_str_eq(name, archs[i].name))
			return &archs[i];
	return NULL;
}

const char *lm_arch_names(void)
{
	return "llama, qwen2, qwen3, gemma3 and phi3";
}

static int get_u32(const struct gguf_file *g, const char *key, int required,
		   uint32_t def, uint32_t max, uint32_t *out, char *err,
		   size_t errlen)
{
	const struct gguf_kv *kv = gguf_find_kv(g, key);
	int64_t v;

	if (!kv) {
		if (required)
			return lc_fail(err, errlen, "metadata '%s' is missing", key);
		*out = def;
		return 0;
	}
	if (gguf_get_int(g, key, &v))
		return lc_fail(err, errlen,
			    "offset %llu: metadata '%s': type %s, expected an integer",
			    (unsigned long long)kv->val_offset, key,
			    gguf_vtype_name(kv->type));
	if (v < 1 || v > max)
		return lc_fail(err, errlen,
			    "offset %llu: metadata '%s': %lld out of range 1..%u",
			    (unsigned long long)kv->val_offset, key,
			    (long long)v, max);
	*out = (uint32_t)v;
	return 0;
}

static int get_f32(const struct gguf_file *g, const char *key, float def,
		   float *out, char *err, size_t errlen)
{
	const struct gguf_kv *kv = gguf_find_kv(g, key);
	double v;

	if (!kv) {
		*out = def;
		return 0;
	}
	if (gguf_get_float(g, key, &v) || !(v > 0) || !isfinite(v))
		return lc_fail(err, errlen,
			    "offset %llu: metadata '%s': not a positive number",
			    (unsigned long long)kv->val_offset, key);
	*out = (float)v;
	return 0;
}

static void copy_str(char *dst, size_t n, struct gguf_str s)
{
	size_t len = s.len < n - 1 ? s.len : n - 1;

	memcpy(dst, s.ptr, len);
	dst[len] = 0;
}

/* rows [row0, row0 + rows) of a fused matrix, as a weight of their own */
static int get_weight_rows(const struct gguf_file *g, const char *name,
			   uint64_t d0, uint64_t total, uint64_t row0,
			   uint64_t rows, struct lm_weight *w, char *err,
			   size_t errlen)
{
	uint64_t row_bytes;

	if (get_weight(g, name, d0, total, 0, w, err, errlen))
		return -1;
	row_bytes = w->size / total;
	w->data += row0 * row_bytes;
	w->size = rows * row_bytes;
	w->dims[1] = rows;
	return 0;
}

static int get_layer_weight(const struct gguf_file *g, uint32_t l,
			    const char *suffix, uint64_t d0, uint64_t d1,
			    int optional, struct lm_weight *w, char *err,
			    size_t errlen)
{
	char name[96];

	snprintf(name, sizeof(name), "blk.%u.%s", l, suffix);
	return get_weight(g, name, d0, d1, optional, w, err, errlen);
}

static int read_layer(struct lm_model *m, const struct gguf_file *g,
		      uint32_t l, char *err, size_t errlen)
{
	const struct lm_arch *a = m->a;
	struct lm_layer *y = &m->layers[l];
	uint64_t d = m->n_embd, q = (uint64_t)m->n_head * m->head_dim;
	uint64_t kv = (uint64_t)m->n_head_kv * m->head_dim, ff = m->n_ff;
	char name[96];

	if (get_layer_weight(g, l, "attn_norm.weight", d, 1, 0, &y->attn_norm, err, errlen) ||
	    get_layer_weight(g, l, "attn_output.weight", q, d, 0, &y->wo, err, errlen) ||
	    get_layer_weight(g, l, "ffn_norm.weight", d, 1, 0, &y->ffn_norm, err, errlen) ||
	    get_layer_weight(g, l, "ffn_down.weight", ff, d, 0, &y->down, err, errlen))
		return -1;
	if (a->fused_qkv) {
		snprintf(name, sizeof(name), "blk.%u.attn_qkv.weight", l);
		if (get_weight_rows(g, name, d, q + 2 * kv, 0, q, &y->wq, err, errlen) ||
		    get_weight_rows(g, name, d, q + 2 * kv, q, kv, &y->wk, err, errlen) ||
		    get_weight_rows(g, name, d, q + 2 * kv, q + kv, kv, &y->wv, err, errlen))
			return -1;
		snprintf(name, sizeof(name), "blk.%u.ffn_up.weight", l);
		if (get_weight_rows(g, name, d, 2 * ff, 0, ff, &y->gate, err, errlen) ||
		    get_weight_rows(g, name, d, 2 * ff, ff, ff, &y->up, err, errlen))
			return -1;
	} else if (get_layer_weight(g, l, "attn_q.weight", d, q, 0, &y->wq, err, errlen) ||
		   get_layer_weight(g, l, "attn_k.weight", d, kv, 0, &y->wk, err, errlen) ||
		   get_layer_weight(g, l, "attn_v.weight", d, kv, 0, &y->wv, err, errlen) ||
		   get_layer_weight(g, l, "ffn_gate.weight", d, ff, 0, &y->gate, err, errlen) ||
		   get_layer_weight(g, l, "ffn_up.weight", d, ff, 0, &y->up, err, errlen)) {
		return -1;
	}
	if (a->qkv_bias &&
	    (get_layer_weight(g, l, "attn_q.bias", q, 1, 0, &y->bq, err, errlen) ||
	     get_layer_weight(g, l, "attn_k.bias", kv, 1, 0, &y->bk, err, errlen) ||
	     get_layer_weight(g, l, "attn_v.bias", kv, 1, 0, &y->bv, err, errlen)))
		return -1;
	if (a->qk_norm &&
	    (get_layer_weight(g, l, "attn_q_norm.weight", m->head_dim, 1, 0,
			      &y->q_norm, err, errlen) ||
	     get_layer_weight(g, l, "attn_k_norm.weight", m->head_dim, 1, 0,
			      &y->k_norm, err, errlen)))
		return -1;
	if (a->gemma &&
	    (get_layer_weight(g, l, "post_attention_norm.weight", d, 1, 0,
			      &y->post_attn_norm, err, errlen) ||
	     get_layer_weight(g, l, "post_ffw_norm.weight", d, 1, 0,
			      &y->post_ffn_norm, err, errlen)))
		return -1;
	return 0;
}

/*
 * Tensors an architecture may carry that lumenc has no place for: refused
 * by name rather than ignored, since ignoring them would run silently wrong.
 */
static int refuse_unknown_tensors(const struct lm_model *m,
				  const struct gguf_file *g, char *err,
				  size_t errlen)
{
	static const char *const extra[] = {
		"attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.bias",
		"attn_qkv.bias", "ffn_up.bias", "ffn_down.bias", "ffn_gate.bias",
		"attn_q_norm.weight", "attn_k_norm.weight",
	};
	char name[96];

	for (uint32_t l = 0; l < m->n_layer; l++) {
		for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
			int used = (m->a->qkv_bias && i < 3) ||
				   (m->a->qk_norm && i >= 8);

			snprintf(name, sizeof(name), "blk.%u.%s", l, extra[i]);
			if (!used && gguf_find_tensor(g, name))
				return lc_fail(err, errlen,
					       "tensor '%s' is not part of the %s architecture as lumenc compiles it",
					       name, m->a->name);
		}
	}
	if (gguf_find_tensor(g, "rope_factors_long.weight") ||
	    gguf_find_tensor(g, "rope_factors_short.weight"))
		return lc_fail(err, errlen,
			       "'longrope' RoPE scaling (rope_factors_long/short.weight, Phi-3 128k models) is not supported: use a 4k-context variant of the model");
	return 0;
}

static int read_layers(struct lm_model *m, const struct gguf_file *g,
		       char *err, size_t errlen)
{
	m->layers = calloc(m->n_layer, sizeof(*m->layers));
	if (!m->layers)
		return lc_fail(err, errlen, "out of memory");
	for (uint32_t l = 0; l < m->n_layer; l++)
		if (read_layer(m, g, l, err, errlen))
			return -1;
	return refuse_unknown_tensors(m, g, err, errlen);
}

/* "<arch>.<key>" */
static const char *akey(const struct lm_model *m, const char *key)
{
	static char buf[4][96];
	static unsigned int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s.%s", m->a->name, key);
	return p;
}

/*
 * gemma3: every sliding_window_pattern-th layer is global, the others
 * see the last sliding_window positions with their own RoPE base.
 */
static int read_sliding_window(struct lm_model *m, const struct gguf_file *g,
			       char *err, size_t errlen)
{
	uint32_t window = 0, pattern = 6;
	float base_swa = 10000.0f;

	for (uint32_t l = 0; l < m->n_layer; l++)
		m->layers[l].rope_base = m->rope_base;
	if (!m->a->gemma)
		return 0;
	if (get_u32(g, akey(m, "attention.sliding_window"), 0, 0, 1U << 30, &window,
		    err, errlen) ||
	    get_u32(g, akey(m, "attention.sliding_window_pattern"), 0, 6, 4096,
		    &pattern, err, errlen) ||
	    get_f32(g, akey(m, "rope.freq_base_swa"), 10000.0f, &base_swa, err,
		    errlen))
		return -1;
	for (uint32_t l = 0; l < m->n_layer; l++) {
		if (window && l % pattern < pattern - 1) {
			m->layers[l].window = window;
			m->layers[l].rope_base = base_swa;
		}
	}
	return 0;
}

static int read_hparams(struct lm_model *m, const struct gguf_file *g,
			char *err, size_t errlen)
{
	const uint32_t big = 1U << 20;
	uint32_t key_len = 0, value_len = 0, experts = 0;

	if (get_u32(g, akey(m, "embedding_length"), 1, 0, big, &m->n_embd, err, errlen) ||
	    get_u32(g, akey(m, "block_count"), 1, 0, 4096, &m->n_layer, err, errlen) ||
	    get_u32(g, akey(m, "feed_forward_length"), 1, 0, big, &m->n_ff, err, errlen) ||
	    get_u32(g, akey(m, "attention.head_count"), 1, 0, 4096, &m->n_head, err, errlen) ||
	    get_u32(g, akey(m, "attention.head_count_kv"), 0, m->n_head, 4096,
		    &m->n_head_kv, err, errlen) ||
	    get_u32(g, akey(m, "context_length"), 0, 2048, big, &m->ctx_train, err, errlen) ||
	    get_u32(g, akey(m, "attention.key_length"), 0, 0, big, &key_len, err, errlen) ||
	    get_u32(g, akey(m, "attention.value_length"), 0, 0, big, &value_len, err, errlen) ||
	    get_u32(g, akey(m, "expert_count"), 0, 0, big, &experts, err, errlen) ||
	    get_f32(g, akey(m, "rope.freq_base"), 10000.0f, &m->rope_base, err, errlen) ||
	    get_f32(g, akey(m, "attention.layer_norm_rms_epsilon"), 1e-5f,
		    &m->rms_eps, err, errlen))
		return -1;
	if (experts > 1)
		return lc_fail(err, errlen,
			    "mixture-of-experts models (%u experts) are not supported",
			    experts);
	if (m->n_head % m->n_head_kv)
		return lc_fail(err, errlen,
			    "%u heads are not a multiple of %u key/value heads",
			    m->n_head, m->n_head_kv);
	if (!key_len && m->n_embd % m->n_head)
		return lc_fail(err, errlen, "embedding %u not divisible by %u heads",
			    m->n_embd, m->n_head);
	m->head_dim = key_len ? key_len : m->n_embd / m->n_head;
	if (value_len && value_len != m->head_dim)
		return lc_fail(err, errlen,
			    "%s: value heads of %u differ from key heads of %u, which lumenc does not support",
			    akey(m, "attention.value_length"), value_len, m->head_dim);
	if (get_u32(g, akey(m, "rope.dimension_count"), 0, m->head_dim, big,
		    &m->n_rot, err, errlen))
		return -1;
	if (m->n_rot % 2 || m->n_rot > m->head_dim)
		return lc_fail(err, errlen,
			    "rope dimension count %u must be even and at most the head size %u",
			    m->n_rot, m->head_dim);
	m->rope_neox = m->a->rope_neox;
	/* llama.cpp: Gemma 3 27B (62 layers) scales by n_embd / n_head */
	m->attn_scale = 1.0f / sqrtf((float)(m->a->gemma && m->n_layer == 62 ?
					     m->n_embd / m->n_head : m->head_dim));
	return 0;
}

/*
 * RoPE scaling the way llama.cpp reads it: rope.scaling.type (default
 * "linear"; "none" never scales) with rope.scaling.factor (or the older
 * rope.scale_linear), and the llama3 per-pair factors of rope_freqs.weight.
 * Both become one divisor per rotated pair; anything else is refused.
 */
static int read_rope_scaling(struct lm_model *m, const struct gguf_file *g,
			     char *err, size_t errlen)
{
	const struct gguf_tensor *t = gguf_find_tensor(g, "rope_freqs.weight");
	const char *type_key = akey(m, "rope.scaling.type");
	const struct gguf_kv *type_kv = gguf_find_kv(g, type_key);
	uint32_t half = m->n_rot / 2;
	float factor = 0.0f;
	struct gguf_str type = { "linear", 6 };

	if (type_kv && gguf_get_str(g, type_key, &type))
		return lc_fail(err, errlen,
			       "offset %llu: %s: not a string",
			       (unsigned long long)type_kv->offset, type_key);
	if (!gguf_str_eq(type, "linear") && !gguf_str_eq(type, "none"))
		return lc_fail(err, errlen,
			       "offset %llu: %s: '%.*s' RoPE scaling is not supported (linear, none and llama3's rope_freqs are); use a model without it or with a linear factor",
			       (unsigned long long)type_kv->offset, type_key,
			       (int)(type.len > 32 ? 32 : type.len), type.ptr);
	if (gguf_find_kv(g, akey(m, "rope.scale_linear"))) {
		if (get_f32(g, akey(m, "rope.scale_linear"), 0.0f, &factor, err, errlen))
			return -1;
	} else if (get_f32(g, akey(m, "rope.scaling.factor"), 0.0f, &factor, err,
			   errlen)) {
		return -1;
	}
	if (gguf_str_eq(type, "none") || factor == 1.0f)
		factor = 0.0f;	/* llama.cpp: "none" never scales */
	if (!t && factor == 0.0f)
		return 0;
	if (t && (t->type != 0 || t->dims[0] != half || t->dims[1] != 1))
		return lc_fail(err, errlen,
			       "offset %llu: tensor 'rope_freqs.weight': expected %u F32 factors (half the rotated dimensions)",
			       (unsigned long long)t->info_offset, half);
	m->rope_factor_buf = malloc(sizeof(float) * half);
	if (!m->rope_factor_buf)
		return lc_fail(err, errlen, "out of memory");
	for (uint32_t i = 0; i < half; i++) {
		float f = 1.0f;

		if (t)
			memcpy(&f, t->data + 4 * (size_t)i, 4);
		if (!(f > 0.0f) || f > 1e30f)
			return lc_fail(err, errlen,
				       "offset %llu: tensor 'rope_freqs.weight': factor %u is %g, not a positive number",
				       (unsigned long long)t->info_offset, i, f);
		m->rope_factor_buf[i] = factor ? f * factor : f;
	}
	m->rope_factors.name = strdup("rope_freqs.weight");
	m->rope_factors.dtype = 0;	/* F32 */
	m->rope_factors.dims[0] = half;
	m->rope_factors.dims[1] = 1;
	m->rope_factors.data = (const uint8_t *)m->rope_factor_buf;
	m->rope_factors.size = sizeof(float) * half;
	return 0;
}

int lm_from_gguf(struct lm_model *m, const struct gguf_file *g, char *err,
		 size_t errlen)
{
	const struct gguf_tensor *emb;
	struct gguf_str s;

	memset(m, 0, sizeof(*m));
	if (gguf_get_str(g, "general.architecture", &s))
		return lc_fail(err, errlen, "metadata 'general.architecture' is missing");
	copy_str(m->arch, sizeof(m->arch), s);
	m->a = lm_find_arch(s);
	if (!m->a)
		return lc_fail(err, errlen,
			    "architecture '%.*s' is not supported (lumenc compiles %s)",
			    (int)(s.len > 64 ? 64 : s.len), s.ptr, lm_arch_names());
	if (!gguf_get_str(g, "general.name", &s))
		copy_str(m->name, sizeof(m->name), s);
	if (read_hparams(m, g, err, errlen))
		goto out;
	emb = gguf_find_tensor(g, "token_embd.weight");
	if (!emb)
		return lc_fail(err, errlen, "tensor 'token_embd.weight' is missing");
	if (emb->dims[1] > INT32_MAX)
		return lc_fail(err, errlen, "offset %llu: token_embd.weight: too many rows",
			    (unsigned long long)emb->info_offset);
	m->n_vocab = (uint32_t)emb->dims[1];
	if (get_weight(g, "token_embd.weight", m->n_embd, m->n_vocab, 0,
		       &m->tok_embd, err, errlen) ||
	    get_weight(g, "output_norm.weight", m->n_embd, 1, 0, &m->out_norm,
		       err, errlen) ||
	    get_weight(g, "output.weight", m->n_embd, m->n_vocab, 1,
		       &m->output, err, errlen))
		goto out;
	m->tied = !m->output.data;
	if (m->tied)
		m->output = m->tok_embd;
	if (read_layers(m, g, err, errlen) ||
	    read_sliding_window(m, g, err, errlen) ||
	    gguf_vocab_read(&m->vocab, g, m->n_vocab, err, errlen) ||
	    gguf_vocab_check_supported(&m->vocab, err, errlen) ||
	    read_rope_scaling(m, g, err, errlen))
		goto out;
	if (m->a->gemma) {
		/* llama.cpp scales the embeddings by sqrt(n_embd) in F32 */
		m->embd_scale_value = sqrtf((float)m->n_embd);
		m->embd_scale.name = strdup("embedding scale");
		m->embd_scale.dtype = 0;	/* F32 */
		m->embd_scale.dims[0] = 1;
		m->embd_scale.dims[1] = 1;
		m->embd_scale.data = (const uint8_t *)&m->embd_scale_value;
		m->embd_scale.size = sizeof(float);
	}
	return 0;
out:
	lm_free(m);
	return -1;
}

static void free_weight(struct lm_weight *w)
{
	free((void *)w->name);
	w->name = NULL;
}

void lm_free(struct lm_model *m)
{
	if (m->layers) {
		for (uint32_t l = 0; l < m->n_layer; l++) {
			struct lm_layer *y = &m->layers[l];
			struct lm_weight *all[] = {
				&y->attn_norm, &y->wq, &y->wk, &y->wv, &y->wo,
				&y->ffn_norm, &y->gate, &y->up, &y->down,
				&y->bq, &y->bk, &y->bv, &y->q_norm, &y->k_norm,
				&y->post_attn_norm, &y->post_ffn_norm,
			};

			for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
				free_weight(all[i]);
		}
	}
	if (!m->tied)
		free_weight(&m->output);
	free_weight(&m->tok_embd);
	free_weight(&m->rope_factors);
	free(m->rope_factor_buf);
	free_weight(&m->embd_scale);
	free_weight(&m->out_norm);
	free(m->layers);
	gguf_vocab_free(&m->vocab);
	free(m->owned[0]);
	free(m->owned[1]);
	memset(m, 0, sizeof(*m));
}

uint64_t lm_param_count(const struct lm_model *m)
{
	uint64_t n = m->tok_embd.dims[0] * m->tok_embd.dims[1] + m->n_embd;

	if (!m->tied)
		n += m->output.dims[0] * m->output.dims[1];
	for (uint32_t l = 0; l < m->n_layer; l++) {
		const struct lm_layer *y = &m->layers[l];
		const struct lm_weight *all[] = {
			&y->attn_norm, &y->wq, &y->wk, &y->wv, &y->wo,
			&y->ffn_norm, &y->gate, &y->up, &y->down,
			&y->bq, &y->bk, &y->bv, &y->q_norm, &y->k_norm,
			&y->post_attn_norm, &y->post_ffn_norm,
		};

		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			n += all[i]->dims[0] * all[i]->dims[1];
	}
	return n;
}
