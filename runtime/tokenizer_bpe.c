// SPDX-License-Identifier: MIT
/*
 * Byte-level BPE ("gpt2" vocabularies). The GPT-2 pre-tokenizer splits the
 * text into words with the regular expression
 *
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *
 * (implemented by hand below: a regex engine is not worth its weight, and
 * no alternative but \s+(?!\S) ever needs to backtrack). Each word's bytes
 * then merge pairwise by the rank of the merge list, lowest rank first.
 */
#include <stdlib.h>

#include "lumen_fail.h"
#include "tokenizer_impl.h"
#include "unicode.h"

/* class of the code point at @pos, and its length in *@len */
static enum lumen_cpt_class class_at(const char *s, size_t n, size_t pos,
				     size_t *len)
{
	uint32_t cpt;

	*len = lumen_utf8_decode(s + pos, n - pos, &cpt);
	return cpt == LUMEN_CPT_INVALID ? LUMEN_CPT_OTHER : lumen_cpt_class(cpt);
}

static size_t contraction_len(const char *s, size_t n, size_t pos)
{
	if (s[pos] != '\'' || pos + 1 >= n)
		return 0;
	char a = s[pos + 1], b = pos + 2 < n ? s[pos + 2] : 0;

	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return 2;
	if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
	    (a == 'l' && b == 'l'))
		return 3;
	return 0;
}

size_t lumen_gpt2_word_end(const char *s, size_t n, size_t pos)
{
	size_t len, clen = contraction_len(s, n, pos);
	enum lumen_cpt_class cls;

	if (clen)
		return pos + clen;
	cls = class_at(s, n, pos, &len);
	/* " ?X+" for X a letter, a number or anything else but space */
	if (s[pos] == ' ' && pos + 1 < n) {
		enum lumen_cpt_class next = class_at(s, n, pos + 1, &len);

		if (next != LUMEN_CPT_SPACE) {
			cls = next;
			pos++;
		}
	}
	if (cls != LUMEN_CPT_SPACE) {
		while (pos < n && class_at(s, n, pos, &len) == cls)
			pos += len;
		return pos;
	}
	/* \s+(?!\S): a run of spaces but the last, if a non-space follows */
	size_t start = pos, last = pos;

	while (pos < n && class_at(s, n, pos, &len) == LUMEN_CPT_SPACE) {
		last = pos;
		pos += len;
	}
	return pos < n && last > start ? last : pos;
}

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

int lumen_bpe_encode(const struct lumen_tokenizer *t, const char *text,
		     size_t len, struct lumen_tok_out *out)
{
	struct lumen_merge_sym *syms = malloc((len + 1) * sizeof(*syms));
	struct lumen_merge_pair *heap = malloc(3 * (len + 1) * sizeof(*heap));

	if (!syms || !heap) {
		free(syms);
		free(heap);
		return lumen_fail(LUMEN_E_NOMEM, "tokenize: out of memory");
	}
	for (size_t pos = 0, end; pos < len; pos = end) {
		uint32_t n = 0;

		end = lumen_gpt2_word_end(text, len, pos);
		for (size_t i = pos; i < end; i++, n++) {
			syms[n].start = (uint32_t)(i - pos);
			syms[n].len = 1;
			syms[n].prev = (int32_t)n - 1;
			syms[n].next = i + 1 < end ? (int32_t)n + 1 : -1;
			syms[n].id = t->byte_token[(uint8_t)text[i]];
		}
		lumen_merge_run(t, text + pos, syms, n, heap, bpe_pair, out);
	}
	free(syms);
	free(heap);
	return 0;
}
