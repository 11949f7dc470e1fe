// SPDX-License-Identifier: MIT
/*
 * BPE ("gpt2" vocabularies). The pre-tokenizer (pretok.c, chosen by
 * tokenizer.ggml.pre) splits the text into words; the symbols of each word
 * then merge pairwise by the rank of the merge list, lowest rank first
 * (leftmost on ties), and a symbol that is no token becomes the tokens of
 * its bytes. Two kinds, as in llama.cpp:
 *
 * - byte-level (GPT-2, Llama 3, Qwen 2, ...): the symbols are the word's
 *   bytes, as the tokens of GPT-2's byte alphabet; with ignore_merges
 *   (Llama 3) a word that is a token as a whole is that token;
 * - SentencePiece-like (Gemma): spaces become "▁", the symbols are UTF-8
 *   characters, bytes fall back to <0xXX> tokens; a run of newlines that
 *   is a token is that token.
 */
#include <stdlib.h>
#include <string.h>

#include "lumen_fail.h"
#include "pretok.h"
#include "tokenizer_impl.h"
#include "unicode.h"

static bool bpe_pair(const struct lumen_tokenizer *t, const char *text,
		     const struct lumen_merge_sym *l,
		     const struct lumen_merge_sym *r, float *prio, int32_t *id)
{
	const struct lumen_merge_slot *m = lumen_merge_find(t, l->id, r->id);

	if (!m)
		return false;
	/* ranks stay far below 2^24, so the float holds them exactly */
	*prio = -(float)m->rank;
	*id = m->result;
	return true;
}

/* the token a byte-level word is as a whole, or NONE; @buf: 2 * @n bytes */
static int32_t whole_word(const struct lumen_tokenizer *t, const char *w,
			  size_t n, char *buf)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += lumen_utf8_encode(lumen_byte_to_cpt((uint8_t)w[i]), buf + k);
	return lumen_vocab_find(t, buf, k);
}

static bool all_newlines(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (w[i] != '\n')
			return false;
	return true;
}

/* the symbols of word @w: bytes (byte-level) or characters; their count */
static uint32_t word_symbols(const struct lumen_tokenizer *t, const char *w,
			     size_t n, struct lumen_merge_sym *syms)
{
	uint32_t k = 0;

	for (size_t i = 0; i < n; k++) {
		uint32_t cpt;
		size_t l = t->byte_level ? 1 : lumen_utf8_decode(w + i, n - i, &cpt);

		syms[k].start = (uint32_t)i;
		syms[k].len = (uint32_t)l;
		syms[k].prev = (int32_t)k - 1;
		syms[k].next = i + l < n ? (int32_t)k + 1 : -1;
		syms[k].id = t->byte_level ? t->byte_token[(uint8_t)w[i]]
					   : lumen_vocab_find(t, w + i, l);
		i += l;
	}
	return k;
}

/* Gemma's normaliser: every space becomes "▁"; NULL if out of memory */
static char *escape_spaces(const char *text, size_t len, size_t *n)
{
	size_t spaces = 0, k = 0;
	char *s;

	for (size_t i = 0; i < len; i++)
		spaces += text[i] == ' ';
	s = malloc(len + 2 * spaces + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ') {
			memcpy(s + k, "\xe2\x96\x81", 3);
			k += 3;
		} else {
			s[k++] = text[i];
		}
	}
	*n = k;
	return s;
}

int lumen_bpe_encode(const struct lumen_tokenizer *t, const char *text,
		     size_t len, struct lumen_tok_out *out)
{
	struct lumen_merge_sym *syms = NULL;
	struct lumen_merge_pair *heap = NULL;
	char *escaped = NULL, *buf = NULL;
	uint32_t *ends = NULL;
	size_t n_words = 0, start = 0;
	int ret;

	if (!t->byte_level) {
		escaped = escape_spaces(text, len, &len);
		if (!escaped)
			goto oom;
		text = escaped;
	}
	ret = lumen_pretok_split(t->pretok, text, len, &ends, &n_words);
	if (ret) {
		free(escaped);
		return ret;
	}
	syms = malloc((len + 1) * sizeof(*syms));
	heap = malloc(3 * (len + 1) * sizeof(*heap));
	buf = malloc(2 * len + 1);
	if (!syms || !heap || !buf)
		goto oom;
	for (size_t i = 0; i < n_words; start = ends[i++]) {
		const char *w = text + start;
		size_t n = ends[i] - start;
		int32_t id = LUMEN_TOKEN_NONE;

		if (t->byte_level && t->pre->ignore_merges)
			id = whole_word(t, w, n, buf);
		else if (!t->byte_level && all_newlines(w, n))
			id = lumen_vocab_find(t, w, n);
		if (id >= 0) {
			lumen_tok_push(out, id);
			continue;
		}
		lumen_merge_run(t, w, syms, word_symbols(t, w, n, syms), heap,
				bpe_pair, out);
	}
	ret = 0;
	goto done;
oom:
	ret = lumen_fail(LUMEN_E_NOMEM, "tokenize: out of memory");
done:
	free(syms);
	free(heap);
	free(buf);
	free(ends);
	free(escaped);
	return ret;
}
