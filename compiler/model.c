// SPDX-License-Identifier: MIT
/* The llama-family graph from GGUF metadata and tensors. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format_util.h"

/* Types the NPU or the compiler's converters handle. */
static int dtype_supported(uint32_t t)
{
	return t == 0 || t == 1 || t == 2 || t == 8 || t == 30;
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
			    "offset %llu: tensor '%s' has type %s, which lumenc cannot convert (F32, F16, BF16, Q8_0 and Q4_0 can be)",
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

static int read_layers(struct lm_model *m, const struct gguf_file *g,
		       char *err, size_t errlen)
{
	uint64_t d = m->n_embd, q = (uint64_t)m->n_head * m->head_dim;
	uint64_t kv = (uint64_t)m->n_head_kv * m->head_dim, ff = m->n_ff;
	char name[96];

	m->layers = calloc(m->n_layer, sizeof(*m->layers));
	if (!m->layers)
		return lc_fail(err, errlen, "out of memory");
	for (uint32_t l = 0; l < m->n_layer; l++) {
		struct lm_layer *y = &m->layers[l];
		const struct {
			const char *suffix;
			struct lm_weight *w;
			uint64_t d0, d1;
		} want[] = {
			{ "attn_norm", &y->attn_norm, d, 1 },
			{ "attn_q", &y->wq, d, q },
			{ "attn_k", &y->wk, d, kv },
			{ "attn_v", &y->wv, d, kv },
			{ "attn_output", &y->wo, q, d },
			{ "ffn_norm", &y->ffn_norm, d, 1 },
			{ "ffn_gate", &y->gate, d, ff },
			{ "ffn_up", &y->up, d, ff },
			{ "ffn_down", &y->down, ff, d },
		};

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			snprintf(name, sizeof(name), "blk.%u.%s.weight", l,
				 want[i].suffix);
			if (get_weight(g, name, want[i].d0, want[i].d1, 0,
				       want[i].w, err, errlen))
				return -1;
			snprintf(name, sizeof(name), "blk.%u.%s.bias", l,
				 want[i].suffix);
			if (gguf_find_tensor(g, name))
				return lc_fail(err, errlen,
					    "tensor '%s': biases are not part of the llama architecture lumenc compiles",
					    name);
		}
	}
	return 0;
}

static int read_hparams(struct lm_model *m, const struct gguf_file *g,
			char *err, size_t errlen)
{
	const uint32_t big = 1U << 20;
	uint32_t key_len = 0, experts = 0;

	if (get_u32(g, "llama.embedding_length", 1, 0, big, &m->n_embd, err, errlen) ||
	    get_u32(g, "llama.block_count", 1, 0, 4096, &m->n_layer, err, errlen) ||
	    get_u32(g, "llama.feed_forward_length", 1, 0, big, &m->n_ff, err, errlen) ||
	    get_u32(g, "llama.attention.head_count", 1, 0, 4096, &m->n_head, err, errlen) ||
	    get_u32(g, "llama.attention.head_count_kv", 0, m->n_head, 4096,
		    &m->n_head_kv, err, errlen) ||
	    get_u32(g, "llama.context_length", 0, 2048, big, &m->ctx_train, err, errlen) ||
	    get_u32(g, "llama.attention.key_length", 0, 0, big, &key_len, err, errlen) ||
	    get_u32(g, "llama.expert_count", 0, 0, big, &experts, err, errlen) ||
	    get_f32(g, "llama.rope.freq_base", 10000.0f, &m->rope_base, err, errlen) ||
	    get_f32(g, "llama.attention.layer_norm_rms_epsilon", 1e-5f,
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
	if (get_u32(g, "llama.rope.dimension_count", 0, m->head_dim, big,
		    &m->n_rot, err, errlen))
		return -1;
	if (m->n_rot % 2 || m->n_rot > m->head_dim)
		return lc_fail(err, errlen,
			    "rope dimension count %u must be even and at most the head size %u",
			    m->n_rot, m->head_dim);
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
	if (!gguf_str_eq(s, "llama"))
		return lc_fail(err, errlen,
			    "architecture '%.*s' is not supported: lumenc compiles the llama family (general.architecture = llama)",
			    (int)(s.len > 64 ? 64 : s.len), s.ptr);
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
	if (read_layers(m, g, err, errlen) || gguf_vocab_read(&m->vocab, g, m->n_vocab, err, errlen))
		goto out;
	if (gguf_find_tensor(g, "rope_freqs.weight"))
		fprintf(stderr,
			"lumenc: warning: rope_freqs.weight (long-context RoPE factors) ignored; positions beyond the original context may degrade\n");
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
			};

			for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
				free_weight(all[i]);
		}
	}
	if (!m->tied)
		free_weight(&m->output);
	free_weight(&m->tok_embd);
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
		};

		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			n += all[i]->dims[0] * all[i]->dims[1];
	}
	return n;
}
