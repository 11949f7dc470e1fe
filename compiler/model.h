/* SPDX-License-Identifier: MIT */
/*
 * The llama-family model graph lumenc compiles: hyperparameters, the
 * weights of each layer (pointing into the source file) and the
 * vocabulary. Filled from a GGUF file or a llama2.c checkpoint.
 */
#ifndef LUMENC_MODEL_H
#define LUMENC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "gguf_vocab.h"

/* A weight matrix [dims[0] = row length, dims[1] = rows] in the source. */
struct lm_weight {
	const char *name;	/* GGUF tensor name, for messages */
	uint32_t dtype;		/* ggml type */
	uint64_t dims[2];
	const uint8_t *data;
	uint64_t size;
};

/*
 * One block. The optional weights have data == NULL when the architecture
 * has none: q/k/v biases (qwen2), per-head q/k norms (qwen3, gemma3),
 * norms after attention and FFN (gemma3).
 */
struct lm_layer {
	struct lm_weight attn_norm, wq, wk, wv, wo;
	struct lm_weight ffn_norm, gate, up, down;
	struct lm_weight bq, bk, bv;
	struct lm_weight q_norm, k_norm;
	struct lm_weight post_attn_norm, post_ffn_norm;
	float rope_base;	/* gemma3's local layers have their own */
	uint32_t window;	/* sliding-window attention, 0 for none */
};

/* What differs between the architectures lumenc compiles. */
struct lm_arch {
	const char *name;	/* general.architecture */
	int rope_neox;		/* RoPE pairs (i, i + n_rot/2) */
	int qkv_bias;		/* attn_{q,k,v}.bias */
	int qk_norm;		/* attn_{q,k}_norm per head, before RoPE */
	int fused_qkv;		/* one attn_qkv (rows Q|K|V), ffn_up (rows gate|up) */
	int gemma;		/* GELU FFN, post-norms, sqrt(n_embd) embedding scale, SWA */
};


struct lm_model {
	char arch[16];
	const struct lm_arch *a;
	char name[64];
	uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff;
	uint32_t head_dim, n_rot, ctx_train;
	float rope_base, rms_eps;
	int rope_neox;
	/*
	 * RoPE scaling as per-pair divisors of the angles (n_rot/2 F32), the
	 * product of rope_freqs.weight (llama3) and the linear factor; its
	 * data is @rope_factor_buf. data == NULL: no scaling.
	 */
	struct lm_weight rope_factors;
	float *rope_factor_buf;
	float attn_scale;	/* the query scale, 1/sqrt(head_dim) for most */
	/* gemma: embeddings times sqrt(n_embd), a [1, 1] F32 weight */
	struct lm_weight embd_scale;
	float embd_scale_value;
	int tied;		/* no output.weight: the embedding is reused */
	struct lm_weight tok_embd, out_norm, output;
	struct lm_layer *layers;
	struct gguf_vocab vocab;
	void *owned[2];		/* buffers of a llama2.c model */
};

/* the architecture called @name, or NULL when lumenc does not compile it */
const struct lm_arch *lm_find_arch(struct gguf_str name);
/* the supported architectures, for messages */
const char *lm_arch_names(void);

int lm_from_gguf(struct lm_model *m, const struct gguf_file *g, char *err,
		 size_t errlen);
/* @ckpt: llama2.c model file; @tokenizer: its tokenizer.bin */
int lm_from_llama2c(struct lm_model *m, const char *ckpt,
		    const char *tokenizer, char *err, size_t errlen);
void lm_free(struct lm_model *m);

/* parameters (elements of all weights) */
uint64_t lm_param_count(const struct lm_model *m);

#endif /* LUMENC_MODEL_H */
