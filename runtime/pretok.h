/* SPDX-License-Identifier: MIT */
/*
 * BPE pre-tokenizers, chosen by tokenizer.ggml.pre as in llama.cpp: each
 * is a list of regular expressions applied one after the other, every one
 * splitting the pieces the previous one left (a match and the text between
 * two matches are both pieces). Internal to the tokenizer; not an API.
 *
 * The expressions are llama.cpp's, matched by a small backtracking engine
 * of our own (pretok.c) with std::regex's ECMAScript semantics (leftmost
 * match, ordered alternation, greedy quantifiers) and llama.cpp's view of
 * Unicode: an expression that uses \p{..} sees each non-ASCII code point
 * as its category (letter, number, punctuation, mark, symbol, other) or,
 * if White_Space, as a vertical tab; other expressions see non-ASCII
 * code points as themselves, White_Space again as a vertical tab.
 */
#ifndef LUMEN_PRETOK_H
#define LUMEN_PRETOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lumen_pretok_def {
	const char *name;		/* tokenizer.ggml.pre */
	const char *const *regex;	/* NULL-terminated */
	/* a word that is a token as a whole is that token (llama.cpp's
	 * ignore_merges, Llama 3) */
	bool ignore_merges;
	/*
	 * false: SentencePiece-style BPE (Gemma): no GPT-2 byte alphabet, the
	 * vocabulary holds UTF-8 with "▁" for a space, spaces become "▁"
	 * before splitting, bytes outside the vocabulary become <0xXX>.
	 */
	bool byte_level;
};

/* the pre-tokenizer called @name ("" is "default"), or NULL */
const struct lumen_pretok_def *lumen_pretok_find(const char *name);
/* the @i-th implemented name, NULL past the last */
const char *lumen_pretok_name(size_t i);

struct lumen_pretok;

/* 0, or a negative enum lumen_error with lumen_last_error() set */
int lumen_pretok_create(const struct lumen_pretok_def *def,
			struct lumen_pretok **out);
void lumen_pretok_destroy(struct lumen_pretok *p);

/*
 * Split the @len bytes of @text into words: *@ends (malloc()ed, the
 * caller frees it) gets the byte offset where each word ends, *@n their
 * count. Invalid UTF-8 is classified as U+FFFD but kept as its bytes.
 * 0, or LUMEN_E_NOMEM.
 */
int lumen_pretok_split(const struct lumen_pretok *p, const char *text,
		       size_t len, uint32_t **ends, size_t *n);

#endif /* LUMEN_PRETOK_H */
