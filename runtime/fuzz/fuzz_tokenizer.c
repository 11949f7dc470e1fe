// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the tokenizers with fuzzed vocabularies and texts
 * (review 2026-12, item 5), through the public API only
 * (<lumen/tokenizer.h>): a .lnpu carries its vocabulary, so a model file
 * is untrusted input to lumen_tokenizer_create().
 *
 * Input: 4 header bytes (flags: type, add_bos, add_space_prefix, scores,
 * types, tokenize flags; the token count; bos; eos), then per token a
 * length byte (0..31), its bytes, a type byte and a score byte; then per
 * merge (BPE) two token indices, written "left right" from those tokens'
 * texts (or raw bytes); the rest is the text.
 * Invariants: creation succeeds or fails cleanly; tokenizing writes at
 * most cap ids, all in range, and needs at most LUMEN_TOKENIZE_MAX(len);
 * the ids detokenize; every id has a piece.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lumen/tokenizer.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define MAX_TOKENS 96
#define MAX_MERGES 64

struct src {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct src *s)
{
	uint8_t b = s->n ? *s->p : 0;

	if (s->n) {
		s->p++;
		s->n--;
	}
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s = { data, size };
	const char *tokens[MAX_TOKENS], *merges[MAX_MERGES];
	uint32_t lens[MAX_TOKENS], mlens[MAX_MERGES];
	char tbuf[MAX_TOKENS][32], mbuf[MAX_MERGES][66];
	float scores[MAX_TOKENS];
	int32_t types[MAX_TOKENS];
	struct lumen_vocab_desc d = { 0 };
	struct lumen_tokenizer *tok;
	uint8_t flags = byte(&s), n = byte(&s) % MAX_TOKENS, bos = byte(&s), eos = byte(&s);
	unsigned tflags = flags >> 5 & 3;
	int32_t *ids;
	char *back;
	long got, cap, len;

	d.type = flags & 1 ? LUMEN_VOCAB_BPE : LUMEN_VOCAB_SPM;
	d.add_bos = flags & 2;
	d.add_space_prefix = flags & 4;
	d.n_tokens = n;
	d.tokens = tokens;
	d.token_lens = lens;
	d.scores = flags & 8 ? scores : NULL;
	d.token_types = flags & 16 ? types : NULL;
	d.bos_id = bos < n ? bos : LUMEN_TOKEN_NONE;
	d.eos_id = eos < n ? eos : LUMEN_TOKEN_NONE;
	d.unk_id = flags & 0x80 ? 0 : LUMEN_TOKEN_NONE;
	d.pad_id = LUMEN_TOKEN_NONE;
	for (uint32_t i = 0; i < n; i++) {
		lens[i] = byte(&s) % 32;
		for (uint32_t k = 0; k < lens[i]; k++)
			tbuf[i][k] = (char)byte(&s);
		tokens[i] = tbuf[i];
		types[i] = byte(&s) % 8;	/* 0 and 7 are out of range */
		scores[i] = (float)(int8_t)byte(&s);
	}
	if (d.type == LUMEN_VOCAB_BPE) {
		d.n_merges = byte(&s) % MAX_MERGES;
		d.merges = merges;
		d.merge_lens = mlens;
		for (uint32_t i = 0; i < d.n_merges; i++) {
			uint8_t l = byte(&s), r = byte(&s);

			if (n && !(l & 0x80)) {	/* "left right" of two tokens */
				uint32_t a = l % n, b = r % n;

				memcpy(mbuf[i], tbuf[a], lens[a]);
				mbuf[i][lens[a]] = ' ';
				memcpy(mbuf[i] + lens[a] + 1, tbuf[b], lens[b]);
				mlens[i] = lens[a] + 1 + lens[b];
			} else {		/* raw bytes */
				mlens[i] = r % 8;
				for (uint32_t k = 0; k < mlens[i]; k++)
					mbuf[i][k] = (char)byte(&s);
			}
			merges[i] = mbuf[i];
		}
	}
	if (lumen_tokenizer_create(&d, &tok))
		return 0;

	len = (long)s.n;
	cap = (long)LUMEN_TOKENIZE_MAX((size_t)len);
	ids = malloc(sizeof(*ids) * (size_t)cap);
	if (!ids)
		abort();
	got = lumen_tokenize(tok, (const char *)s.p, (size_t)len, tflags, ids, (size_t)cap);
	if (got < 0 || got > cap) {
		fprintf(stderr, "tokenize: %ld ids for %ld bytes\n", got, len);
		abort();
	}
	for (long i = 0; i < got; i++)
		if (ids[i] < 0 || (uint32_t)ids[i] >= n)
			abort();
	/* a short buffer: snprintf-like, never more than cap written */
	if (got > 1 && lumen_tokenize(tok, (const char *)s.p, (size_t)len, tflags,
				      ids, 1) != got)
		abort();
	{
		char none;
		long want = lumen_detokenize(tok, ids, (size_t)got, LUMEN_DETOK_SPECIAL, &none, 0);

		if (want < 0)
			abort();
		back = malloc((size_t)want + 1);
		if (!back || lumen_detokenize(tok, ids, (size_t)got, LUMEN_DETOK_SPECIAL,
					      back, (size_t)want + 1) != want)
			abort();
		free(back);
	}
	for (uint32_t i = 0; i < n; i++) {
		char piece[8];

		if (lumen_token_to_piece(tok, (int32_t)i, LUMEN_DETOK_SPECIAL, piece,
					 sizeof(piece)) < 0)
			abort();
	}
	free(ids);
	lumen_tokenizer_destroy(tok);
	return 0;
}
