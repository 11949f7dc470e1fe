// SPDX-License-Identifier: MIT
/*
 * SentencePiece BPE ("llama" vocabularies): pieces merge while the merged
 * text is a token, the highest score first. Spaces are written "▁" (U+2581)
 * as in the vocabulary, and one is put in front of the text, since
 * SentencePiece sees every word, the first too, as preceded by a space.
 */
#include <stdlib.h>
#include <string.h>

#include "lumen_fail.h"
#include "tokenizer_impl.h"
#include "unicode.h"

static const char spm_space[3] = { '\xe2', '\x96', '\x81' };	/* ▁ */

static bool spm_pair(const struct lumen_tokenizer *t, const char *text,
		     const struct lumen_merge_sym *l,
		     const struct lumen_merge_sym *r, float *prio, int32_t *id)
{
	*id = lumen_vocab_find(t, text + l->start, l->len + r->len);
	if (!lumen_tok_mergeable(t, *id))
		return false;
	*prio = t->scores[*id];
	return true;
}

int lumen_spm_encode(const struct lumen_tokenizer *t, const char *text,
		     size_t len, bool space_prefix, struct lumen_tok_out *out)
{
	/* each input byte (and the prefix) makes at most one symbol */
	size_t max_syms = len + 1;
	char *buf = malloc(3 * max_syms);
	struct lumen_merge_sym *syms = malloc(max_syms * sizeof(*syms));
	struct lumen_merge_pair *heap = malloc(3 * max_syms * sizeof(*heap));
	size_t n = 0;
	uint32_t n_syms = 0;

	if (!buf || !syms || !heap) {
		free(buf);
		free(syms);
		free(heap);
		return lumen_fail(LUMEN_E_NOMEM, "tokenize: out of memory");
	}
	if (space_prefix) {
		memcpy(buf, spm_space, sizeof(spm_space));
		n = sizeof(spm_space);
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ') {
			memcpy(buf + n, spm_space, sizeof(spm_space));
			n += sizeof(spm_space);
		} else {
			buf[n++] = text[i];
		}
	}
	/*
	 * One symbol per character, or per byte of invalid UTF-8. (llama.cpp
	 * goes by the lead byte alone, so a stray byte can swallow the "▁"
	 * after it and a space comes back as three bytes; valid text splits
	 * the same either way.) A barrier byte ends a segment.
	 */
	for (size_t i = 0; i < n;) {
		uint32_t cpt, l = (uint32_t)lumen_utf8_decode(buf + i, n - i, &cpt);
		struct lumen_merge_sym *s = &syms[n_syms];
		bool barrier = l == 1 && t->spm_barrier[(uint8_t)buf[i]];

		s->start = (uint32_t)i;
		s->len = l;
		s->prev = (int32_t)n_syms - 1;
		s->next = (int32_t)n_syms + 1;
		s->id = lumen_vocab_find(t, buf + i, l);
		if (!lumen_tok_mergeable(t, s->id))
			s->id = LUMEN_TOKEN_NONE;
		n_syms++;
		i += l;
		if (barrier || i == n) {
			s->next = -1;
			lumen_merge_run(t, buf, syms, n_syms, heap, spm_pair, out);
			n_syms = 0;
		}
	}
	free(buf);
	free(syms);
	free(heap);
	return 0;
}
