// SPDX-License-Identifier: MIT
/*
 * llama2.c checkpoints (the legacy format: seven int32 of config, then F32
 * weights) with their tokenizer.bin. The weights are used as they are:
 * llama2.c rotates adjacent pairs, which is the normal (non-NeoX) RoPE
 * ordering, so no permutation of Q/K is needed, exactly as llama.cpp's
 * convert-llama2c-to-ggml copies them. The vocabulary is rewritten the way
 * that converter does (special token texts, byte tokens, ▁ for spaces) so
 * both routes produce the same model.
 */
#include "model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format_util.h"

static void *slurp(const char *path, size_t *size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	long n;
	void *buf;

	if (!f) {
		lc_fail(err, errlen, "%s: cannot open: %m", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		lc_fail(err, errlen, "%s: cannot size the file", path);
		return NULL;
	}
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		lc_fail(err, errlen, "%s: cannot read", path);
		return NULL;
	}
	fclose(f);
	*size = n;
	return buf;
}

static int32_t rd_i32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static const uint8_t *take(const uint8_t **p, uint64_t elems)
{
	const uint8_t *at = *p;

	*p += elems * 4;
	return at;
}

/* *acc += a * b * c; -1 when any step leaves 64 bits */
static int add_term(uint64_t *acc, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t t;

	if (__builtin_mul_overflow(a, b, &t) || __builtin_mul_overflow(t, c, &t) ||
	    __builtin_add_overflow(*acc, t, acc))
		return -1;
	return 0;
}

/*
 * The bytes a checkpoint of this config holds: 28 of config, then F32
 * tensors. Each config field is at most 2^20, but products of them are
 * not bounded: every step is overflow-checked, or a config whose size
 * wraps modulo 2^64 (to 28, say) would pass the size check and the
 * weights would point far past the file.
 */
static int checkpoint_bytes(uint64_t dim, uint64_t hid, uint64_t L, uint64_t kvd,
			    uint64_t V, uint64_t seq, uint64_t hd, int shared,
			    uint64_t *need)
{
	uint64_t elems = 0;

	if (add_term(&elems, V, dim, 1) ||			/* token_embd */
	    add_term(&elems, L, dim, 2) ||			/* the two norms */
	    add_term(&elems, L, dim, dim + 2 * kvd) ||		/* wq, wk, wv */
	    add_term(&elems, L, dim, dim) ||			/* wo */
	    add_term(&elems, L, hid, 3 * dim) ||		/* w1, w2, w3 */
	    add_term(&elems, dim, 1, 1) ||			/* output norm */
	    add_term(&elems, seq, hd, 1) ||			/* RoPE tables */
	    add_term(&elems, shared ? 0 : V, dim, 1) ||		/* output */
	    __builtin_mul_overflow(elems, 4, need) ||
	    __builtin_add_overflow(*need, 28, need))
		return -1;
	return 0;
}

static void set_weight(struct lm_weight *w, const char *name, const uint8_t *data,
		       uint64_t d0, uint64_t d1)
{
	w->name = strdup(name);
	w->dtype = 0;	/* F32 */
	w->dims[0] = d0;
	w->dims[1] = d1;
	w->data = data;
	w->size = d0 * d1 * 4;
}

static int read_tokenizer(struct lm_model *m, const char *path, char *err,
			  size_t errlen)
{
	struct gguf_vocab *v = &m->vocab;
	size_t size, off = 4, out = 0;
	uint8_t *file = slurp(path, &size, err, errlen);
	char *text;

	if (!file)
		return -1;
	m->owned[1] = NULL;
	/* each token grows by at most 3x (a space becomes "▁"), plus specials */
	text = malloc(size * 3 + 32);
	if (!text || gguf_vocab_alloc(v, m->n_vocab)) {
		free(file);
		free(text);
		return lc_fail(err, errlen, "out of memory");
	}
	m->owned[1] = text;
	if (size < 4) {
		free(file);
		return lc_fail(err, errlen, "%s: offset 0: max_token_length: truncated", path);
	}
	for (uint32_t i = 0; i < v->n_tokens; i++) {
		int32_t len;
		uint32_t bits;
		char *t = text + out;
		size_t tl = 0;

		if (size - off < 8) {
			free(file);
			return lc_fail(err, errlen, "%s: offset %zu: token %u: truncated",
				    path, off, i);
		}
		bits = (uint32_t)rd_i32(file + off);
		memcpy(&v->scores[i], &bits, 4);
		len = rd_i32(file + off + 4);
		if (len < 0 || (size_t)len > size - off - 8) {
			free(file);
			return lc_fail(err, errlen,
				    "%s: offset %zu: token %u: length %d runs past the end of the file",
				    path, off + 4, i, len);
		}
		off += 8;
		v->types[i] = 1;
		if (i <= 2) {
			static const char *const special[] = { "<unk>", "<s>", "</s>" };

			tl = strlen(special[i]);
			memcpy(t, special[i], tl);
			v->types[i] = i == 0 ? 2 : 3;
		} else {
			for (int32_t k = 0; k < len; k++) {
				if (file[off + k] == ' ') {
					memcpy(t + tl, "\xe2\x96\x81", 3);
					tl += 3;
				} else {
					t[tl++] = (char)file[off + k];
				}
			}
			if (tl == 6 && !memcmp(t, "<0x", 3) &&
			    isxdigit((unsigned char)t[3]) &&
			    isxdigit((unsigned char)t[4]) && t[5] == '>')
				v->types[i] = 6;	/* byte */
		}
		v->tokens[i].ptr = t;
		v->tokens[i].len = tl;
		out += tl;
		off += len;
	}
	free(file);
	strcpy(v->model, "llama");
	v->bos = 1;
	v->eos = 2;
	v->unk = 0;
	v->pad = -1;
	v->add_bos = true;
	v->add_space_prefix = true;	/* llama2.c's tokenizer is SentencePiece's */
	return 0;
}

int lm_from_llama2c(struct lm_model *m, const char *ckpt,
		    const char *tokenizer, char *err, size_t errlen)
{
	int32_t cfg[7];
	size_t size;
	uint64_t need, dim, hid, L, kvd, V, seq, hd;
	const uint8_t *p;
	uint8_t *file;
	char name[64];
	int shared;

	memset(m, 0, sizeof(*m));
	file = slurp(ckpt, &size, err, errlen);
	if (!file)
		return -1;
	m->owned[0] = file;
	if (size < sizeof(cfg)) {
		lm_free(m);
		return lc_fail(err, errlen, "%s: offset 0: config: truncated", ckpt);
	}
	for (int i = 0; i < 7; i++)
		cfg[i] = rd_i32(file + 4 * i);
	shared = cfg[5] > 0;
	if (cfg[5] < 0 && cfg[5] != INT32_MIN)	/* -INT32_MIN is UB; refused below */
		cfg[5] = -cfg[5];
	for (int i = 0; i < 7; i++) {
		static const char *const field[] = {
			"dim", "hidden_dim", "n_layers", "n_heads",
			"n_kv_heads", "vocab_size", "seq_len",
		};

		if (cfg[i] <= 0 || cfg[i] > (1 << 20)) {
			lm_free(m);
			return lc_fail(err, errlen, "%s: offset %d: config.%s: %d out of range",
				    ckpt, 4 * i, field[i], cfg[i]);
		}
	}
	dim = cfg[0];
	hid = cfg[1];
	L = cfg[2];
	V = cfg[5];
	seq = cfg[6];
	if (dim % cfg[3] || cfg[3] % cfg[4] || (dim / cfg[3]) % 2) {
		lm_free(m);
		return lc_fail(err, errlen, "%s: config: dim %d, %d heads, %d kv heads do not agree",
			    ckpt, cfg[0], cfg[3], cfg[4]);
	}
	hd = dim / cfg[3];
	kvd = hd * cfg[4];
	if (checkpoint_bytes(dim, hid, L, kvd, V, seq, hd, shared, &need)) {
		lm_free(m);
		return lc_fail(err, errlen,
			    "%s: offset 0: config: the weights it implies exceed 2^64 bytes "
			    "(file has %zu)", ckpt, size);
	}
	if (size != need) {
		lm_free(m);
		return lc_fail(err, errlen,
			    "%s: offset %zu: weights: file has %zu bytes, the config implies %llu",
			    ckpt, size < need ? size : (size_t)need, size,
			    (unsigned long long)need);
	}
	strcpy(m->arch, "llama");
	m->a = lm_find_arch((struct gguf_str){ "llama", 5 });
	snprintf(m->name, sizeof(m->name), "llama2.c");
	m->n_embd = dim;
	m->n_ff = hid;
	m->n_layer = L;
	m->n_head = cfg[3];
	m->n_head_kv = cfg[4];
	m->n_vocab = V;
	m->ctx_train = seq;
	m->head_dim = hd;
	m->n_rot = hd;
	m->rope_base = 10000.0f;
	m->rms_eps = 1e-5f;
	m->attn_scale = 1.0f / sqrtf((float)hd);
	m->layers = calloc(L, sizeof(*m->layers));
	if (!m->layers) {
		lm_free(m);
		return lc_fail(err, errlen, "out of memory");
	}
	for (uint64_t l = 0; l < L; l++)
		m->layers[l].rope_base = m->rope_base;
	p = file + 28;
	set_weight(&m->tok_embd, "token_embd.weight", take(&p, V * dim), dim, V);
#define PER_LAYER(field, gname, d0, d1)					\
	for (uint64_t l = 0; l < L; l++) {				\
		snprintf(name, sizeof(name), "blk.%llu." gname ".weight",	\
			 (unsigned long long)l);				\
		set_weight(&m->layers[l].field, name, take(&p, (d0) * (d1)), \
			   d0, d1);					\
	}
	PER_LAYER(attn_norm, "attn_norm", dim, 1)
	PER_LAYER(wq, "attn_q", dim, dim)
	PER_LAYER(wk, "attn_k", dim, kvd)
	PER_LAYER(wv, "attn_v", dim, kvd)
	PER_LAYER(wo, "attn_output", dim, dim)
	PER_LAYER(ffn_norm, "ffn_norm", dim, 1)
	PER_LAYER(gate, "ffn_gate", dim, hid)
	PER_LAYER(down, "ffn_down", hid, dim)
	PER_LAYER(up, "ffn_up", dim, hid)
#undef PER_LAYER
	set_weight(&m->out_norm, "output_norm.weight", take(&p, dim), dim, 1);
	take(&p, seq * hd);	/* the precomputed RoPE tables, unused */
	m->tied = shared;
	if (shared)
		m->output = m->tok_embd;
	else
		set_weight(&m->output, "output.weight", take(&p, V * dim), dim, V);
	if (read_tokenizer(m, tokenizer, err, errlen)) {
		lm_free(m);
		return -1;
	}
	return 0;
}
