// SPDX-License-Identifier: MIT
/*
 * The vocabulary (texts, hash lookup, merges, the pieces tokens render as)
 * and the entry points; the merging itself is in tokenizer_spm.c and
 * tokenizer_bpe.c.
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

int32_t lumen_tokenizer_find(const struct lumen_tokenizer *t, const char *s,
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
		l = lumen_tokenizer_find(t, m, (size_t)(sp - m));
		r = lumen_tokenizer_find(t, sp + 1, len - (size_t)(sp - m) - 1);
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
		t->merges[i].result = lumen_tokenizer_find(t, joined, len - 1);
	}
	free(joined);
	return 0;
}

/* "<0xAB>" -> 0xAB, or -1 */
static int parse_byte_token(const char *s, uint32_t len)
{
	unsigned v;
	char tail;

	if (len != 6 || memcmp(s, "<0x", 3) || s[5] != '>')
		return -1;
	if (sscanf(s + 3, "%2x%c", &v, &tail) != 2 || tail != '>')
		return -1;
	return (int)v;
}

static void find_byte_tokens(struct lumen_tokenizer *t)
{
	for (unsigned b = 0; b < 256; b++) {
		char s[8];
		size_t n;

		if (t->type == LUMEN_VOCAB_BPE) {
			n = lumen_utf8_encode(lumen_byte_to_cpt((uint8_t)b), s);
			t->byte_token[b] = lumen_tokenizer_find(t, s, n);
			continue;
		}
		snprintf(s, sizeof(s), "<0x%02X>", b);
		t->byte_token[b] = lumen_tokenizer_find(t, s, 6);
		if (t->byte_token[b] < 0) {
			s[0] = (char)b;
			t->byte_token[b] = lumen_tokenizer_find(t, s, 1);
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

/* what token @id shows as in generated text (without DETOK_SPECIAL) */
static size_t render_piece(const struct lumen_tokenizer *t, int32_t id,
			   char *out)
{
	uint32_t len, n = 0;
	const char *s = lumen_tok_text(t, id, &len);
	int byte;

	switch (t->types[id]) {
	case LUMEN_TOKEN_CONTROL:
	case LUMEN_TOKEN_UNUSED:
		return 0;
	case LUMEN_TOKEN_UNKNOWN:
		memcpy(out, "\xe2\x96\x85", 3);	/* ▅, as llama.cpp shows it */
		return 3;
	case LUMEN_TOKEN_BYTE:
		byte = parse_byte_token(s, len);
		if (byte < 0)
			break;
		out[0] = (char)byte;
		return 1;
	case LUMEN_TOKEN_NORMAL:
		if (t->type == LUMEN_VOCAB_SPM) {
			for (uint32_t i = 0; i < len; i++) {
				if (i + 3 <= len && !memcmp(s + i, "\xe2\x96\x81", 3)) {
					out[n++] = ' ';
					i += 2;
				} else {
					out[n++] = s[i];
				}
			}
			return n;
		}
		for (uint32_t i = 0; i < len;) {
			uint32_t cpt;
			size_t l = lumen_utf8_decode(s + i, len - i, &cpt);
			int b = cpt == LUMEN_CPT_INVALID ? -1 : lumen_cpt_to_byte(cpt);

			/* a character outside the byte alphabet stays as it is */
			if (b >= 0) {
				out[n++] = (char)b;
			} else {
				memcpy(out + n, s + i, l);
				n += (uint32_t)l;
			}
			i += (uint32_t)l;
		}
		return n;
	default:
		break;
	}
	memcpy(out, s, len);
	return len;
}

static int build_pieces(struct lumen_tokenizer *t)
{
	/* a piece is never longer than its text, but ▅ is 3 bytes */
	size_t cap = t->text_off[t->n_tokens] + 3 * (size_t)t->n_tokens;
	size_t n = 0;

	t->piece = malloc(cap ? cap : 1);
	t->piece_off = malloc((t->n_tokens + 1) * sizeof(*t->piece_off));
	if (!t->piece || !t->piece_off)
		return oom();
	for (uint32_t id = 0; id < t->n_tokens; id++) {
		t->piece_off[id] = (uint32_t)n;
		n += render_piece(t, (int32_t)id, t->piece + n);
	}
	t->piece_off[t->n_tokens] = (uint32_t)n;
	return 0;
}

static bool is_special(const struct lumen_tokenizer *t, uint32_t id)
{
	uint8_t type = t->types[id];

	return t->text_off[id + 1] > t->text_off[id] &&
	       (type == LUMEN_TOKEN_CONTROL || type == LUMEN_TOKEN_UNKNOWN ||
		type == LUMEN_TOKEN_USER_DEFINED);
}

struct special_key {
	uint8_t first;
	uint32_t len;
	int32_t id;
};

/* by first byte, then longest first, so the first match is the longest */
static int cmp_special(const void *a, const void *b)
{
	const struct special_key *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int build_specials(struct lumen_tokenizer *t)
{
	struct special_key *keys;
	uint32_t n = 0;

	for (uint32_t id = 0; id < t->n_tokens; id++)
		n += is_special(t, id);
	keys = malloc((n ? n : 1) * sizeof(*keys));
	t->specials = malloc((n ? n : 1) * sizeof(*t->specials));
	if (!keys || !t->specials) {
		free(keys);
		return oom();
	}
	n = 0;
	for (uint32_t id = 0; id < t->n_tokens; id++) {
		if (!is_special(t, id))
			continue;
		keys[n].first = (uint8_t)t->text[t->text_off[id]];
		keys[n].len = t->text_off[id + 1] - t->text_off[id];
		keys[n++].id = (int32_t)id;
	}
	qsort(keys, n, sizeof(*keys), cmp_special);
	memset(t->special_start, 0, sizeof(t->special_start));
	for (uint32_t i = 0; i < n; i++) {
		t->specials[i] = keys[i].id;
		t->special_start[keys[i].first + 1]++;
	}
	for (unsigned b = 0; b < 256; b++)
		t->special_start[b + 1] += t->special_start[b];
	free(keys);
	return 0;
}

/* far above any real vocabulary; keeps the hash tables' sizes in range */
#define LUMEN_MAX_TOKENS (1u << 26)
#define LUMEN_MAX_MERGES (1u << 24)

static int check_desc(const struct lumen_vocab_desc *d)
{
	const int32_t ids[4] = { d->bos_id, d->eos_id, d->unk_id, d->pad_id };
	static const char *const names[4] = { "bos", "eos", "unk", "pad" };

	if (d->type != LUMEN_VOCAB_SPM && d->type != LUMEN_VOCAB_BPE)
		return lumen_fail(LUMEN_E_FORMAT, "vocabulary type %d unknown",
				  d->type);
	if (!d->n_tokens || !d->tokens || !d->token_lens)
		return lumen_fail(LUMEN_E_FORMAT, "tokens: none given");
	if (d->n_tokens > LUMEN_MAX_TOKENS)
		return lumen_fail(LUMEN_E_FORMAT, "tokens: %u, more than %u",
				  d->n_tokens, LUMEN_MAX_TOKENS);
	/* merge ranks become float priorities, exact below 2^24 */
	if (d->n_merges > LUMEN_MAX_MERGES)
		return lumen_fail(LUMEN_E_FORMAT, "merges: %u, more than %u",
				  d->n_merges, LUMEN_MAX_MERGES);
	if (d->type == LUMEN_VOCAB_BPE && (!d->merges || !d->merge_lens) &&
	    d->n_merges)
		return lumen_fail(LUMEN_E_FORMAT,
				  "merges: %u announced, none given",
				  d->n_merges);
	for (int i = 0; i < 4; i++) {
		if (ids[i] != LUMEN_TOKEN_NONE &&
		    (ids[i] < 0 || (uint32_t)ids[i] >= d->n_tokens))
			return lumen_fail(LUMEN_E_FORMAT,
					  "%s token id %d out of range (%u tokens)",
					  names[i], ids[i], d->n_tokens);
	}
	for (uint32_t i = 0; d->token_types && i < d->n_tokens; i++) {
		if (d->token_types[i] < LUMEN_TOKEN_NORMAL ||
		    d->token_types[i] > LUMEN_TOKEN_BYTE)
			return lumen_fail(LUMEN_E_FORMAT,
					  "token %u: type %d unknown", i,
					  d->token_types[i]);
	}
	return 0;
}

int lumen_tokenizer_create(const struct lumen_vocab_desc *d,
			   struct lumen_tokenizer **out)
{
	struct lumen_tokenizer *t;
	int ret;

	if (!out)
		return lumen_fail(LUMEN_E_INVAL, "tokenizer: no place for it");
	*out = NULL;
	if (!d)
		return lumen_fail(LUMEN_E_INVAL, "tokenizer: no vocabulary");
	ret = check_desc(d);
	if (ret)
		return ret;
	t = calloc(1, sizeof(*t));
	if (!t)
		return oom();
	t->type = d->type;
	t->n_tokens = d->n_tokens;
	t->bos = d->bos_id;
	t->eos = d->eos_id;
	t->unk = d->unk_id;
	t->pad = d->pad_id;
	t->add_bos = d->add_bos;
	t->add_space_prefix = d->add_space_prefix;
	t->text_off = malloc((d->n_tokens + 1) * sizeof(*t->text_off));
	t->scores = calloc(d->n_tokens, sizeof(*t->scores));
	t->types = malloc(d->n_tokens);
	if (!t->text_off || !t->scores || !t->types) {
		ret = oom();
		goto fail;
	}
	for (uint32_t i = 0; i < d->n_tokens; i++) {
		t->types[i] = d->token_types ? (uint8_t)d->token_types[i]
					     : LUMEN_TOKEN_NORMAL;
		if (d->scores)
			t->scores[i] = d->scores[i];
	}
	ret = copy_texts(t, d);
	if (!ret)
		ret = build_map(t);
	if (!ret && d->type == LUMEN_VOCAB_BPE)
		ret = build_merges(t, d);
	if (ret)
		goto fail;
	find_byte_tokens(t);
	find_barriers(t);
	ret = build_pieces(t);
	if (!ret)
		ret = build_specials(t);
	if (ret)
		goto fail;
	*out = t;
	return 0;
fail:
	lumen_tokenizer_destroy(t);
	return ret;
}

void lumen_tokenizer_destroy(struct lumen_tokenizer *t)
{
	if (!t)
		return;
	free(t->text);
	free(t->text_off);
	free(t->scores);
	free(t->types);
	free(t->piece);
	free(t->piece_off);
	free(t->map);
	free(t->merges);
	free(t->specials);
	free(t);
}

uint32_t lumen_tokenizer_n_tokens(const struct lumen_tokenizer *t)
{
	return t->n_tokens;
}

int32_t lumen_tokenizer_bos(const struct lumen_tokenizer *t)
{
	return t->bos;
}

int32_t lumen_tokenizer_eos(const struct lumen_tokenizer *t)
{
	return t->eos;
}

bool lumen_tokenizer_add_bos(const struct lumen_tokenizer *t)
{
	return t->add_bos;
}

enum lumen_token_type lumen_token_type(const struct lumen_tokenizer *t,
				       int32_t id)
{
	if (id < 0 || (uint32_t)id >= t->n_tokens)
		return LUMEN_TOKEN_UNUSED;
	return (enum lumen_token_type)t->types[id];
}

/* the special token whose text starts @s, longest first, or NONE */
static int32_t match_special(const struct lumen_tokenizer *t, const char *s,
			     size_t n, unsigned flags, uint32_t *len)
{
	uint8_t b = (uint8_t)s[0];

	for (uint32_t i = t->special_start[b]; i < t->special_start[b + 1]; i++) {
		int32_t id = t->specials[i];
		const char *text = lumen_tok_text(t, id, len);

		if (t->types[id] != LUMEN_TOKEN_USER_DEFINED &&
		    !(flags & LUMEN_TOKENIZE_SPECIAL))
			continue;
		if (*len <= n && !memcmp(text, s, *len))
			return id;
	}
	return LUMEN_TOKEN_NONE;
}

static int encode_text(const struct lumen_tokenizer *t, const char *text,
		       size_t len, bool space_prefix, struct lumen_tok_out *out)
{
	if (t->type == LUMEN_VOCAB_SPM)
		return lumen_spm_encode(t, text, len, space_prefix, out);
	return lumen_bpe_encode(t, text, len, out);
}

long lumen_tokenize(const struct lumen_tokenizer *t, const char *text,
		    size_t len, unsigned flags, int32_t *ids, size_t cap)
{
	struct lumen_tok_out out = { ids, cap, 0 };
	/* SentencePiece sees each run of text, the first and those after a
	 * special token, as starting a word */
	bool space_prefix = t->add_space_prefix;
	size_t start = 0;
	int ret;

	if (len > UINT32_MAX / 4)
		return lumen_fail(LUMEN_E_INVAL,
				  "tokenize: %zu bytes, more than %u", len,
				  UINT32_MAX / 4);
	if ((!text && len) || (!ids && cap))
		return lumen_fail(LUMEN_E_INVAL, "tokenize: NULL %s",
				  text || !len ? "ids" : "text");
	if ((flags & LUMEN_TOKENIZE_BOS) && t->bos >= 0)
		lumen_tok_push(&out, t->bos);
	for (size_t pos = 0; pos < len;) {
		uint32_t slen;
		int32_t id = match_special(t, text + pos, len - pos, flags, &slen);

		if (id < 0) {
			pos++;
			continue;
		}
		if (pos > start) {
			ret = encode_text(t, text + start, pos - start,
					  space_prefix, &out);
			if (ret)
				return ret;
		}
		lumen_tok_push(&out, id);
		space_prefix = t->add_space_prefix;
		pos += slen;
		start = pos;
	}
	if (len > start) {
		ret = encode_text(t, text + start, len - start, space_prefix,
				  &out);
		if (ret)
			return ret;
	}
	return (long)out.n;
}

/* what @id renders as, without copying */
static const char *piece_of(const struct lumen_tokenizer *t, int32_t id,
			    unsigned flags, uint32_t *len)
{
	if ((flags & LUMEN_DETOK_SPECIAL) &&
	    (t->types[id] == LUMEN_TOKEN_CONTROL ||
	     t->types[id] == LUMEN_TOKEN_UNKNOWN))
		return lumen_tok_text(t, id, len);
	*len = t->piece_off[id + 1] - t->piece_off[id];
	return t->piece + t->piece_off[id];
}

static void copy_out(char *buf, size_t cap, size_t at, const char *s,
		     size_t n)
{
	if (at < cap)
		memcpy(buf + at, s, n < cap - at ? n : cap - at);
}

long lumen_token_to_piece(const struct lumen_tokenizer *t, int32_t id,
			  unsigned flags, char *buf, size_t cap)
{
	uint32_t len;
	const char *s;

	if (id < 0 || (uint32_t)id >= t->n_tokens)
		return lumen_fail(LUMEN_E_INVAL,
				  "token id %d out of range (%u tokens)", id,
				  t->n_tokens);
	s = piece_of(t, id, flags, &len);
	copy_out(buf, cap, 0, s, len);
	return len;
}

long lumen_detokenize(const struct lumen_tokenizer *t, const int32_t *ids,
		      size_t n, unsigned flags, char *buf, size_t cap)
{
	bool strip = (flags & LUMEN_DETOK_STRIP_SPACE) && t->add_space_prefix;
	size_t total = 0;

	if (strip && n && ids[0] == t->bos) {
		ids++;
		n--;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t len;
		const char *s;

		if (ids[i] < 0 || (uint32_t)ids[i] >= t->n_tokens)
			return lumen_fail(LUMEN_E_INVAL,
					  "ids[%zu]: token id %d out of range (%u tokens)",
					  i, ids[i], t->n_tokens);
		s = piece_of(t, ids[i], flags, &len);
		if (strip && len) {
			strip = false;
			if (s[0] == ' ') {
				s++;
				len--;
			}
		}
		copy_out(buf, cap, total, s, len);
		total += len;
	}
	return (long)total;
}
