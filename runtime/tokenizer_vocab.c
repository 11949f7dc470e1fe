// SPDX-License-Identifier: MIT
/*
 * The vocabulary the encoders work on: the token texts, their hash
 * lookup, the BPE merge ranks, and the token of each byte (byte fallback
 * or GPT-2's byte alphabet). Calls nothing above it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lumen_fail.h"
#include "tokenizer_impl.h"
#include "unicode.h"

static int oom(void)
{
	return lumen_fail(LUMEN_E_NOMEM, "tokenizer: out of memory");
}

/* FNV-1a: short keys, no need for more */
static uint32_t hash_bytes(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static uint32_t hash_pair(int32_t a, int32_t b)
{
	uint64_t x = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;

	/* MurmurHash3's finaliser: every key bit reaches the low bits */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)x;
}

/* a power of two at least twice @n, so probes stay short */
static uint32_t table_size(uint32_t n)
{
	uint32_t size = 16;

	while (size < 2 * (uint64_t)n)
		size *= 2;
	return size;
}

static bool same_text(const struct lumen_tokenizer *t, int32_t id,
		      const char *s, size_t len)
{
	uint32_t tlen;
	const char *text = lumen_tok_text(t, id, &tlen);

	return tlen == len && !memcmp(text, s, len);
}

int32_t lumen_vocab_find(const struct lumen_tokenizer *t, const char *s,
			 size_t len)
{
	uint32_t h = hash_bytes(s, len);

	for (uint32_t i = h & t->map_mask;; i = (i + 1) & t->map_mask) {
		const struct lumen_map_slot *slot = &t->map[i];

		if (slot->id < 0 ||
		    (slot->hash == h && same_text(t, slot->id, s, len)))
			return slot->id;
	}
}

const struct lumen_merge_slot *lumen_merge_find(const struct lumen_tokenizer *t,
						int32_t left, int32_t right)
{
	if (!t->merges || left < 0 || right < 0)
		return NULL;
	for (uint32_t i = hash_pair(left, right) & t->merges_mask;;
	     i = (i + 1) & t->merges_mask) {
		const struct lumen_merge_slot *m = &t->merges[i];

		if (m->left < 0)
			return NULL;
		if (m->left == left && m->right == right)
			return m;
	}
}

static int copy_texts(struct lumen_tokenizer *t,
		      const struct lumen_vocab_desc *d)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < d->n_tokens; i++) {
		if (d->token_lens[i] && !d->tokens[i]) {
			return lumen_fail(LUMEN_E_FORMAT,
					  "token %u: text is NULL", i);
		}
		total += d->token_lens[i];
	}
	/* pieces can be 3 bytes longer a token: keep their offsets in range */
	if (total > UINT32_MAX / 2) {
		return lumen_fail(LUMEN_E_FORMAT,
				  "token texts: %llu bytes, too many",
				  (unsigned long long)total);
	}
	t->text = malloc(total ? total : 1);
	if (!t->text)
		return oom();
	total = 0;
	for (uint32_t i = 0; i < d->n_tokens; i++) {
		t->text_off[i] = (uint32_t)total;
		if (d->token_lens[i])
			memcpy(t->text + total, d->tokens[i], d->token_lens[i]);
		total += d->token_lens[i];
	}
	t->text_off[d->n_tokens] = (uint32_t)total;
	return 0;
}

static int build_map(struct lumen_tokenizer *t)
{
	uint32_t size = table_size(t->n_tokens);

	t->map = malloc(size * sizeof(*t->map));
	if (!t->map)
		return oom();
	for (uint32_t i = 0; i < size; i++)
		t->map[i].id = -1;
	t->map_mask = size - 1;
	for (uint32_t id = 0; id < t->n_tokens; id++) {
		uint32_t len;
		const char *s = lumen_tok_text(t, (int32_t)id, &len);
		uint32_t h = hash_bytes(s, len), i = h & t->map_mask;

		/* a text twice in the vocabulary means its last id, as in
		 * llama.cpp */
		while (t->map[i].id >= 0 && !same_text(t, t->map[i].id, s, len))
			i = (i + 1) & t->map_mask;
		t->map[i].hash = h;
		t->map[i].id = (int32_t)id;
	}
	return 0;
}

static int build_merges(struct lumen_tokenizer *t,
			const struct lumen_vocab_desc *d)
{
	uint32_t size = table_size(d->n_merges), longest = 0;
	char *joined;

	for (uint32_t rank = 0; rank < d->n_merges; rank++)
		if (d->merge_lens[rank] > longest)
			longest = d->merge_lens[rank];
	t->merges = malloc(size * sizeof(*t->merges));
	joined = malloc(longest + 1);
	if (!t->merges || !joined) {
		free(joined);
		return oom();
	}
	for (uint32_t i = 0; i < size; i++)
		t->merges[i].left = -1;
	t->merges_mask = size - 1;
	for (uint32_t rank = 0; rank < d->n_merges; rank++) {
		const char *m = d->merges[rank];
		uint32_t len = d->merge_lens[rank];
		const char *sp = len > 1 && m ? memchr(m + 1, ' ', len - 1) : NULL;
		int32_t l, r;
		uint32_t i;

		if (!sp) {
			free(joined);
			return lumen_fail(LUMEN_E_FORMAT,
					  "merge %u: not two tokens separated by a space",
					  rank);
		}
		l = lumen_vocab_find(t, m, (size_t)(sp - m));
		r = lumen_vocab_find(t, sp + 1, len - (size_t)(sp - m) - 1);
		/* a merge of a non-token can never apply */
		if (l < 0 || r < 0 || lumen_merge_find(t, l, r))
			continue;
		for (i = hash_pair(l, r) & t->merges_mask; t->merges[i].left >= 0;
		     i = (i + 1) & t->merges_mask)
			;
		t->merges[i].left = l;
		t->merges[i].right = r;
		t->merges[i].rank = (int32_t)rank;
		/* the merged text: the merge without its space */
		memcpy(joined, m, (size_t)(sp - m));
		memcpy(joined + (sp - m), sp + 1, len - (size_t)(sp - m) - 1);
		t->merges[i].result = lumen_vocab_find(t, joined, len - 1);
	}
	free(joined);
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Token texts are not NUL-terminated: no sscanf() here, which would read
 * on past the token (valgrind's out-of-bounds reads at every model load).
 */
int lumen_parse_byte_token(const char *s, size_t len)
{
	int hi, lo;

	if (len != 6 || memcmp(s, "<0x", 3) || s[5] != '>')
		return -1;
	hi = hex_digit(s[3]);
	lo = hex_digit(s[4]);
	return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

/*
 * Byte-level BPE: the normal token of each byte's character. A vocabulary
 * can have the same text twice, once as a user-defined token (as
 * deepseek-coder's "ý"): that one renders as its text, not as the byte.
 */
static void find_normal_byte_tokens(struct lumen_tokenizer *t)
{
	for (uint32_t id = 0; id < t->n_tokens; id++) {
		uint32_t len, cpt;
		const char *s = lumen_tok_text(t, (int32_t)id, &len);
		int b;

		if (!len || len > 2 || t->types[id] != LUMEN_TOKEN_NORMAL ||
		    lumen_utf8_decode(s, len, &cpt) != len)
			continue;
		b = lumen_cpt_to_byte(cpt);
		if (b >= 0 && t->byte_token[b] < 0)
			t->byte_token[b] = (int32_t)id;
	}
}

static void find_byte_tokens(struct lumen_tokenizer *t)
{
	if (t->type == LUMEN_VOCAB_BPE && t->byte_level) {
		for (unsigned b = 0; b < 256; b++)
			t->byte_token[b] = LUMEN_TOKEN_NONE;
		find_normal_byte_tokens(t);
	}
	for (unsigned b = 0; b < 256; b++) {
		char s[8];
		size_t n;

		if (t->type == LUMEN_VOCAB_BPE && t->byte_level) {
			n = lumen_utf8_encode(lumen_byte_to_cpt((uint8_t)b), s);
			if (t->byte_token[b] < 0)
				t->byte_token[b] = lumen_vocab_find(t, s, n);
			continue;
		}
		snprintf(s, sizeof(s), "<0x%02X>", b);
		t->byte_token[b] = lumen_vocab_find(t, s, 6);
		if (t->byte_token[b] < 0) {
			s[0] = (char)b;
			t->byte_token[b] = lumen_vocab_find(t, s, 1);
		}
		if (t->byte_token[b] < 0)
			t->byte_token[b] = t->unk;
	}
}

static void find_barriers(struct lumen_tokenizer *t)
{
	memset(t->spm_barrier, true, sizeof(t->spm_barrier));
	for (uint32_t id = 0; id < t->n_tokens; id++) {
		uint32_t len;
		const char *s = lumen_tok_text(t, (int32_t)id, &len);

		if (len < 2 || !lumen_tok_mergeable(t, (int32_t)id))
			continue;
		for (uint32_t i = 0; i < len; i++)
			t->spm_barrier[(uint8_t)s[i]] = false;
	}
}

int lumen_vocab_build(struct lumen_tokenizer *t,
		      const struct lumen_vocab_desc *d)
{
	int ret = copy_texts(t, d);

	if (!ret)
		ret = build_map(t);
	if (!ret && d->type == LUMEN_VOCAB_BPE)
		ret = build_merges(t, d);
	if (ret)
		return ret;
	find_byte_tokens(t);
	find_barriers(t);
	return 0;
}
