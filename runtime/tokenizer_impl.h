/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the tokenizer's files; not an API. The files, from
 * the top down (each calls only those below it):
 *
 *   tokenizer.c         the entry points: creation, special tokens,
 *                       dispatch to an encoder, pieces, detokenizing
 *   tokenizer_spm.c     SentencePiece encoder
 *   tokenizer_bpe.c     BPE encoder (byte-level, or with byte fallback)
 *   tokenizer_merge.c   the merge loop both encoders share
 *   tokenizer_vocab.c   token texts, lookup, merge ranks, byte tokens
 *   pretok.c            BPE pre-tokenizers (tokenizer.ggml.pre)
 *   unicode.c           UTF-8, code point classes, GPT-2's byte alphabet
 */
#ifndef LUMEN_TOKENIZER_IMPL_H
#define LUMEN_TOKENIZER_IMPL_H

#include <lumen/tokenizer.h>

#include "pretok.h"

/* a BPE merge: the pair (left, right) of token ids merges into @result */
struct lumen_merge_slot {
	int32_t left, right;	/* left < 0: empty slot */
	int32_t rank, result;	/* result may be LUMEN_TOKEN_NONE */
};

struct lumen_tokenizer {
	enum lumen_vocab_type type;
	uint32_t n_tokens;
	char *text;		/* all token texts, back to back */
	uint32_t *text_off;	/* n_tokens + 1 offsets into @text */
	float *scores;
	uint8_t *types;
	char *piece;		/* what each token renders as (see pieces) */
	uint32_t *piece_off;	/* n_tokens + 1 offsets into @piece */

	/* open addressing: token text -> id; the hash spares most compares */
	struct lumen_map_slot {
		uint32_t hash;
		int32_t id;	/* -1: empty */
	} *map;
	uint32_t map_mask;
	struct lumen_merge_slot *merges;
	uint32_t merges_mask;

	/*
	 * SentencePiece and Gemma's BPE: the <0xXX> token of each byte (else
	 * the one-byte token, else unk); byte-level BPE: the (normal, if
	 * there is one) token of the byte's code point in GPT-2's alphabet.
	 */
	int32_t byte_token[256];

	/*
	 * SentencePiece: bytes in no mergeable token longer than one byte
	 * (as '\n' in Llama's vocabulary). Merges never cross them, so the
	 * text is merged a line at a time, which keeps the heap small.
	 */
	bool spm_barrier[256];

	/* tokens matched as a whole in the text, by first byte, longest first */
	int32_t *specials;
	uint32_t special_start[257];

	int32_t bos, eos, unk, pad;
	bool add_bos, add_space_prefix;

	/* BPE: the pre-tokenizer, and whether it is GPT-2's byte-level kind */
	const struct lumen_pretok_def *pre;
	struct lumen_pretok *pretok;
	bool byte_level;
};

/* ids written to the caller's buffer, counted beyond its end */
struct lumen_tok_out {
	int32_t *ids;
	size_t cap, n;
};

static inline void lumen_tok_push(struct lumen_tok_out *o, int32_t id)
{
	if (o->n < o->cap)
		o->ids[o->n] = id;
	o->n++;
}

static inline const char *lumen_tok_text(const struct lumen_tokenizer *t,
					 int32_t id, uint32_t *len)
{
	*len = t->text_off[id + 1] - t->text_off[id];
	return t->text + t->text_off[id];
}

/* may the merging produce token @id from plain text? */
static inline bool lumen_tok_mergeable(const struct lumen_tokenizer *t,
				       int32_t id)
{
	return id >= 0 && (t->types[id] == LUMEN_TOKEN_NORMAL ||
			   t->types[id] == LUMEN_TOKEN_USER_DEFINED);
}

/*
 * The merge engine of both vocabulary types: symbols are spans of a text
 * in a doubly linked list; the adjacent pair of highest priority merges
 * first (leftmost on ties) until no pair has one. @pair says whether two
 * neighbours may merge, with which priority and into which token.
 */
struct lumen_merge_sym {
	uint32_t start, len;	/* len 0: merged into its left neighbour */
	int32_t prev, next;	/* -1 at the ends */
	int32_t id;		/* token, or LUMEN_TOKEN_NONE */
};

struct lumen_merge_pair {
	float prio;
	int32_t left, right;
	uint32_t len;		/* of the merged span, to spot stale pairs */
	int32_t id;		/* the merged token */
};

typedef bool (*lumen_pair_fn)(const struct lumen_tokenizer *t, const char *text,
			      const struct lumen_merge_sym *l,
			      const struct lumen_merge_sym *r,
			      float *prio, int32_t *id);

/*
 * Merge the @n symbols (linked 0..n-1) using @heap (room for 3 * @n pairs)
 * and emit the result: a symbol without a token as its bytes' tokens.
 */
void lumen_merge_run(const struct lumen_tokenizer *t, const char *text,
		     struct lumen_merge_sym *syms, uint32_t n,
		     struct lumen_merge_pair *heap, lumen_pair_fn pair,
		     struct lumen_tok_out *out);

/* the encoders: append the ids of @len bytes of plain text to @out */
int lumen_spm_encode(const struct lumen_tokenizer *t, const char *text,
		     size_t len, bool space_prefix, struct lumen_tok_out *out);
int lumen_bpe_encode(const struct lumen_tokenizer *t, const char *text,
		     size_t len, struct lumen_tok_out *out);

/* tokenizer_vocab.c: fill @t's vocabulary from @d (checked by the caller) */
int lumen_vocab_build(struct lumen_tokenizer *t,
		      const struct lumen_vocab_desc *d);
/* the id of the token whose text is exactly @s, or LUMEN_TOKEN_NONE */
int32_t lumen_vocab_find(const struct lumen_tokenizer *t, const char *s,
			 size_t len);
/* BPE: the merge of tokens (@left, @right), or NULL */
const struct lumen_merge_slot *lumen_merge_find(const struct lumen_tokenizer *t,
						int32_t left, int32_t right);
/* "<0xAB>" -> 0xAB, else -1 (@s need not be NUL-terminated) */
int lumen_parse_byte_token(const char *s, size_t len);

#endif /* LUMEN_TOKENIZER_IMPL_H */
