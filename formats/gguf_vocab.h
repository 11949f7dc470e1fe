/* SPDX-License-Identifier: MIT */
/*
 * A model's vocabulary as GGUF's tokenizer.ggml.* metadata describes it:
 * the one extraction the compiler (GGUF -> .lnpu), the tests (reference
 * vocabularies) and any tool use, so every reader agrees on every flag
 * and default.
 */
#ifndef LUMEN_GGUF_VOCAB_H
#define LUMEN_GGUF_VOCAB_H

#include <stdbool.h>
#include <stdint.h>

#include "gguf.h"

/**
 * struct gguf_vocab - tokenizer.ggml.* of one file.
 * @model: "llama" (SentencePiece) or "gpt2" (byte-level BPE).
 * @pre: tokenizer.ggml.pre, the pre-tokenizer's name; may be empty.
 * @tokens: n_tokens strings, pointing into the mapped file (or a buffer
 *	the caller owns for other sources).
 * @scores: n_tokens scores, 0 when the file has none.
 * @types: n_tokens llama.cpp token types, 1 (normal) when the file has none.
 * @merges: n_merges "a b" strings of a BPE vocabulary.
 * @bos, @eos, @unk, @pad: token ids, -1 when absent or out of range.
 * @add_bos, @add_eos: tokenizer.ggml.add_{bos,eos}_token; add_bos defaults
 *	to true for SentencePiece and Llama 3's BPE pre-tokenizers, as
 *	llama.cpp does.
 * @add_space_prefix: tokenizer.ggml.add_space_prefix; defaults to true for
 *	SentencePiece, false otherwise.
 * @chat_template: tokenizer.chat_template (Jinja text in the file); len 0
 *	when absent.
 */
struct gguf_vocab {
	char model[16];
	char pre[32];
	uint32_t n_tokens;
	struct gguf_str *tokens;
	float *scores;
	int32_t *types;
	uint32_t n_merges;
	struct gguf_str *merges;
	int32_t bos, eos, unk, pad;
	bool add_bos, add_eos, add_space_prefix;
	struct gguf_str chat_template;
};

/*
 * Read @g's vocabulary. @n_vocab: the token count the model's embedding
 * needs, or 0 to accept any. 0, or -1 with a message naming the file
 * offset and the field in @err. The strings stay valid while @g is open.
 */
int gguf_vocab_read(struct gguf_vocab *v, const struct gguf_file *g,
		    uint32_t n_vocab, char *err, size_t errlen);

/*
 * The pre-tokenizers the runtime implements for BPE, by their
 * tokenizer.ggml.pre names ("" meaning "default", as in llama.cpp);
 * NULL-terminated. Exactly runtime/pretok.c's list. SentencePiece has none.
 */
extern const char *const gguf_vocab_bpe_pre_types[];

/*
 * 0 when the runtime tokenizes @v exactly as llama.cpp does, else -1 with
 * the reason and what to do in @err: a BPE vocabulary whose pre-tokenizer
 * is not implemented would split prompts differently, silently.
 */
int gguf_vocab_check_supported(const struct gguf_vocab *v, char *err,
			       size_t errlen);

/* Allocate the per-token arrays of an empty vocabulary of @n tokens. */
int gguf_vocab_alloc(struct gguf_vocab *v, uint32_t n_tokens);

void gguf_vocab_free(struct gguf_vocab *v);

#endif /* LUMEN_GGUF_VOCAB_H */
