// SPDX-License-Identifier: MIT
/*
 * The tokenizer's entry points, the top of its files (tokenizer_impl.h
 * lists them): creation, the special tokens of a prompt, dispatch of the
 * text between them to the vocabulary type's encoder (tokenizer_spm.c,
 * tokenizer_bpe.c), and the pieces tokens render as.
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

/* SentencePiece's and Gemma's texts: "▁" for a space */
static bool escaped_spaces(const struct lumen_tokenizer *t)
{
	return t->type == LUMEN_VOCAB_SPM || !t->byte_level;
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
		byte = lumen_parse_byte_token(s, len);
		if (byte < 0)
			break;
		out[0] = (char)byte;
		return 1;
	case LUMEN_TOKEN_NORMAL:
		/* Gemma's BPE vocabulary types its byte tokens normal */
		byte = t->byte_level ? -1 : lumen_parse_byte_token(s, len);
		if (byte >= 0) {
			out[0] = (char)byte;
			return 1;
		}
		if (escaped_spaces(t)) {
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
	if (d->type == LUMEN_VOCAB_BPE && !lumen_pretok_find(d->pre))
		return lumen_fail(LUMEN_E_FORMAT,
				  "tokenizer.ggml.pre: pre-tokenizer '%.64s' is not implemented",
				  d->pre);
	t = calloc(1, sizeof(*t));
	if (!t)
		return oom();
	t->type = d->type;
	if (d->type == LUMEN_VOCAB_BPE) {
		t->pre = lumen_pretok_find(d->pre);
		t->byte_level = t->pre->byte_level;
	}
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
	ret = lumen_vocab_build(t, d);
	if (!ret && t->pre)
		ret = lumen_pretok_create(t->pre, &t->pretok);
	if (!ret)
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
	lumen_pretok_destroy(t->pretok);
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

int32_t lumen_tokenizer_find(const struct lumen_tokenizer *t, const char *s,
			     size_t len)
{
	return lumen_vocab_find(t, s, len);
}

/* an occurrence of a special token in the text */
struct special_hit {
	uint32_t pos, len;
	int32_t id;
};

/* longest first (ties by id), then leftmost */
static int cmp_hit(const void *a, const void *b)
{
	const struct special_hit *x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cmp_hit_pos(const void *a, const void *b)
{
	const struct special_hit *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* is @id matched in text under @flags? */
static bool special_enabled(const struct lumen_tokenizer *t, int32_t id,
			    unsigned flags)
{
	return t->types[id] == LUMEN_TOKEN_USER_DEFINED ||
	       (flags & LUMEN_TOKENIZE_PARSE_SPECIAL);
}

/*
 * The special tokens in @text, as llama.cpp's tokenizer_st_partition()
 * finds them: the longest token first cuts the text, then the next
 * longest cuts what is left, and so on; a token is found only within
 * text no longer token cut. *@hits (malloc()ed) gets them in text order;
 * returns their count, or -1 out of memory.
 */
static long find_specials(const struct lumen_tokenizer *t, const char *text,
			  size_t len, unsigned flags, struct special_hit **hits)
{
	struct special_hit *h = NULL;
	size_t n = 0, cap = 0, kept = 0;
	uint8_t *taken;

	*hits = NULL;
	for (size_t pos = 0; pos < len; pos++) {
		uint8_t b = (uint8_t)text[pos];

		for (uint32_t i = t->special_start[b]; i < t->special_start[b + 1]; i++) {
			int32_t id = t->specials[i];
			uint32_t slen;
			const char *s = lumen_tok_text(t, id, &slen);

			if (slen > len - pos || !special_enabled(t, id, flags) ||
			    memcmp(s, text + pos, slen))
				continue;
			if (n == cap) {
				struct special_hit *nh;

				cap = cap ? 2 * cap : 16;
				nh = realloc(h, cap * sizeof(*h));
				if (!nh) {
					free(h);
					return -1;
				}
				h = nh;
			}
			h[n++] = (struct special_hit){ (uint32_t)pos, slen, id };
		}
	}
	if (!n)
		return 0;
	taken = calloc(len, 1);
	if (!taken) {
		free(h);
		return -1;
	}
	qsort(h, n, sizeof(*h), cmp_hit);
	for (size_t i = 0; i < n; i++) {
		bool free_span = true;

		for (uint32_t j = 0; j < h[i].len && free_span; j++)
			free_span = !taken[h[i].pos + j];
		if (!free_span)
			continue;
		memset(taken + h[i].pos, 1, h[i].len);
		h[kept++] = h[i];
	}
	free(taken);
	qsort(h, kept, sizeof(*h), cmp_hit_pos);
	*hits = h;
	return (long)kept;
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
	struct special_hit *hits;
	size_t start = 0;
	long n_hits;
	int ret = 0;

	if (len > UINT32_MAX / 4)
		return lumen_fail(LUMEN_E_INVAL,
				  "tokenize: %zu bytes, more than %u", len,
				  UINT32_MAX / 4);
	if ((!text && len) || (!ids && cap))
		return lumen_fail(LUMEN_E_INVAL, "tokenize: NULL %s",
				  text || !len ? "ids" : "text");
	if ((flags & LUMEN_TOKENIZE_BOS) && t->bos >= 0)
		lumen_tok_push(&out, t->bos);
	n_hits = find_specials(t, text, len, flags, &hits);
	if (n_hits < 0)
		return oom();
	for (long i = 0; i < n_hits && !ret; i++) {
		if (hits[i].pos > start)
			ret = encode_text(t, text + start, hits[i].pos - start,
					  space_prefix, &out);
		lumen_tok_push(&out, hits[i].id);
		space_prefix = t->add_space_prefix;
		start = hits[i].pos + hits[i].len;
	}
	free(hits);
	if (!ret && len > start)
		ret = encode_text(t, text + start, len - start, space_prefix,
				  &out);
	return ret ? ret : (long)out.n;
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
