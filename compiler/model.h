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

struct lm_layer {
	struct lm_weight attn_norm, wq, wk, wv, wo;
	struct lm_weight ffn_norm, gate, up, down;
};


struct lm_model {
	char arch[16];
	char name[64];
	uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff;
	uint32_t head_dim, n_rot, ctx_train;
	float rope_base, rms_eps;
	int rope_neox;
	int tied;		/* no output.weight: the embedding is reused */
	struct lm_weight tok_embd, out_norm, output;
	struct lm_layer *layers;
	struct gguf_vocab vocab;
	void *owned[2];		/* buffers of a llama2.c model */
};

int lm_from_gguf(struct lm_model *m, const struct gguf_file *g, char *err,
		 size_t errlen);
/* @ckpt: llama2.c model file; @tokenizer: its tokenizer.bin */
int lm_from_llama2c(struct lm_model *m, const char *ckpt,
		    const char *tokenizer, char *err, size_t errlen);
void lm_free(struct lm_model *m);

/* parameters (elements of all weights) */
uint64_t lm_param_count(const struct lm_model *m);

#endif /* LUMENC_MODEL_H */
