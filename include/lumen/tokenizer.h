/* SPDX-License-Identifier: MIT */
/*
 * Tokenizers of GGUF vocabularies (tokenizer.ggml.*):
 *
 * - "llama": SentencePiece BPE with scores. The text gets a space prefix,
 *   spaces become U+2581 "▁", and adjacent pieces merge, best score first
 *   (leftmost on ties), while the merged piece is in the vocabulary;
 *   characters outside it fall back to byte tokens <0xXX>.
 * - "gpt2": BPE. The pre-tokenizer named by tokenizer.ggml.pre (llama.cpp's:
 *   "gpt-2", "llama-bpe", "qwen2", "deepseek-coder", ...) splits the text
 *   into words; the bytes of each word merge by the rank of
 *   tokenizer.ggml.merges. Byte-level vocabularies spell bytes in GPT-2's
 *   alphabet; Gemma's ("gemma4", "granite-embed-multi-311m") holds UTF-8
 *   with "▁" for a space and falls back to <0xXX> byte tokens.
 *
 * The vocabulary is copied at creation; the tokenizer is then read-only and
 * may be shared between threads.
 *
 * Valid UTF-8 tokenizes as llama.cpp does (its test vectors are ours).
 * Where it differs, on purpose: invalid UTF-8 stays as its bytes (llama.cpp
 * substitutes U+FFFD for BPE, and for SentencePiece can let a stray byte
 * swallow the "▁" after it), so any bytes round-trip; merging only forms
 * normal and user-defined tokens, never a control or byte token whose text
 * happens to be typed ("<0x0A>"), as in SentencePiece itself; unassigned
 * code points are "other" in every pre-tokenizer expression; overlapping
 * special tokens of equal length are tried in id order.
 */
#ifndef LUMEN_TOKENIZER_H
#define LUMEN_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lumen/error.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lumen_vocab_type {
	LUMEN_VOCAB_SPM = 1,	/* tokenizer.ggml.model "llama" */
	LUMEN_VOCAB_BPE = 2,	/* tokenizer.ggml.model "gpt2" */
};

/* tokenizer.ggml.token_type */
enum lumen_token_type {
	LUMEN_TOKEN_NORMAL = 1,
	LUMEN_TOKEN_UNKNOWN = 2,
	LUMEN_TOKEN_CONTROL = 3,
	LUMEN_TOKEN_USER_DEFINED = 4,
	LUMEN_TOKEN_UNUSED = 5,
	LUMEN_TOKEN_BYTE = 6,
};

#define LUMEN_TOKEN_NONE (-1)

/**
 * struct lumen_vocab_desc - a vocabulary as GGUF stores it.
 * @tokens, @token_lens: @n_tokens strings (not NUL-terminated).
 * @scores: SentencePiece scores; NULL means all 0.
 * @token_types: enum lumen_token_type per token; NULL means all normal.
 * @merges, @merge_lens: BPE merges "left right", best first (BPE only).
 * @bos_id, @eos_id, @unk_id, @pad_id: LUMEN_TOKEN_NONE if absent.
 * @add_bos: tokenizer.ggml.add_bos_token (the model expects BOS).
 * @add_space_prefix: tokenizer.ggml.add_space_prefix (GGUF default: true
 *	for SentencePiece, false for byte-level BPE).
 * @pre: tokenizer.ggml.pre, NUL-terminated; NULL or "" is "default". BPE
 *	only: lumen_tokenizer_create() refuses a name it does not implement,
 *	naming it.
 */
struct lumen_vocab_desc {
	enum lumen_vocab_type type;
	uint32_t n_tokens;
	const char *const *tokens;
	const uint32_t *token_lens;
	const float *scores;
	const int32_t *token_types;
	uint32_t n_merges;
	const char *const *merges;
	const uint32_t *merge_lens;
	int32_t bos_id, eos_id, unk_id, pad_id;
	bool add_bos;
	bool add_space_prefix;
	const char *pre;
};

struct lumen_tokenizer;

/*
 * A tokenizer of the vocabulary @d (copied) in *@tok. Returns 0, or
 * LUMEN_E_FORMAT for a bad vocabulary (lumen_last_error() names the field,
 * or the BPE pre-tokenizer that is not implemented),
 * LUMEN_E_INVAL for a NULL argument, LUMEN_E_NOMEM; *@tok is NULL then.
 */
int lumen_tokenizer_create(const struct lumen_vocab_desc *d,
			   struct lumen_tokenizer **tok);
void lumen_tokenizer_destroy(struct lumen_tokenizer *tok);

uint32_t lumen_tokenizer_n_tokens(const struct lumen_tokenizer *tok);
int32_t lumen_tokenizer_bos(const struct lumen_tokenizer *tok);
int32_t lumen_tokenizer_eos(const struct lumen_tokenizer *tok);
bool lumen_tokenizer_add_bos(const struct lumen_tokenizer *tok);
/* the id of the token whose text is exactly @s, or LUMEN_TOKEN_NONE (a
 * lookup: not finding one is not a failure) */
int32_t lumen_tokenizer_find(const struct lumen_tokenizer *tok,
			     const char *s, size_t len);
/* LUMEN_TOKEN_UNUSED for an id outside the vocabulary */
enum lumen_token_type lumen_token_type(const struct lumen_tokenizer *tok,
				       int32_t id);

enum {
	LUMEN_TOKENIZE_BOS = 1 << 0,	 /* prepend BOS (if the vocab has one) */
	/*
	 * llama.cpp's parse_special: the text of a control (or unknown)
	 * token, e.g. "<|im_start|>", becomes that token. Without it, such
	 * text is tokenized as plain text (a prompt's user part should be).
	 */
	LUMEN_TOKENIZE_PARSE_SPECIAL = 1 << 1,
	LUMEN_TOKENIZE_SPECIAL = LUMEN_TOKENIZE_PARSE_SPECIAL, /* old name */
};


/*
 * A text of @len bytes never needs more ids than this (a space can become
 * the three byte tokens of "▁", and each run of text after a special token
 * gets its own space prefix); prose needs about a quarter of @len.
 */
#define LUMEN_TOKENIZE_MAX(len) (4 * (len) + 4)

/*
 * Tokenize @len bytes of @text (any bytes; invalid UTF-8 is kept through
 * byte tokens). Special tokens are cut out of the text first, as llama.cpp
 * does: the longest first, each in what longer ones left; user-defined
 * tokens always, control tokens with LUMEN_TOKENIZE_PARSE_SPECIAL. The
 * text between them goes to the vocabulary's encoder. Writes
 * at most @cap ids and returns how many the text has, like snprintf: a
 * result above @cap means the output was cut. LUMEN_E_NOMEM if out of
 * memory, LUMEN_E_INVAL for a text too long (above 1 GiB) or NULL with a
 * length; lumen_last_error() says which.
 */
long lumen_tokenize(const struct lumen_tokenizer *tok, const char *text,
		    size_t len, unsigned flags, int32_t *ids, size_t cap);

enum {
	/* render control tokens' text (llama-cli's --special); without it
	 * they render as nothing, as llama-cli shows them */
	LUMEN_DETOK_SPECIAL = 1 << 0,
	LUMEN_DETOK_STRIP_SPACE = 1 << 1, /* drop the leading space that
					     tokenizing added */
};

/*
 * The bytes token @id stands for, for streaming output: SentencePiece "▁"
 * becomes a space, <0xAB> the byte 0xAB, byte-level BPE characters their
 * bytes; control and unused tokens are empty (unless LUMEN_DETOK_SPECIAL);
 * an unknown token renders as "▅". A piece can be part of one UTF-8
 * character. Returns the length (snprintf-like, may exceed @cap, nothing
 * is NUL-terminated), or LUMEN_E_INVAL for an id out of range.
 */
long lumen_token_to_piece(const struct lumen_tokenizer *tok, int32_t id,
			  unsigned flags, char *buf, size_t cap);

/*
 * The text of @n ids: their pieces concatenated. With
 * LUMEN_DETOK_STRIP_SPACE and a space-prefixing vocabulary, one leading
 * space is dropped (the one tokenizing adds) and a leading BOS is skipped,
 * so that detokenize(tokenize(s)) == s. Returns the length as
 * lumen_token_to_piece(), or LUMEN_E_INVAL if an id is out of range
 * (lumen_last_error() names it).
 */
long lumen_detokenize(const struct lumen_tokenizer *tok, const int32_t *ids,
		      size_t n, unsigned flags, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* LUMEN_TOKENIZER_H */
