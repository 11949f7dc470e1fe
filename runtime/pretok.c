// SPDX-License-Identifier: MIT
/*
 * The BPE pre-tokenizers (see pretok.h): the table of tokenizer.ggml.pre
 * names and a small regular-expression engine for their expressions.
 *
 * The engine knows what the expressions use: literals, classes [..] and
 * [^..] with ranges, \s \S \d \r \n \t \p{L} \p{N} \p{P} \p{M} \p{S},
 * groups (..) and (?:..) (quantified by ? only), lookaheads (?!..) and
 * (?=..), $, alternation, and the quantifiers ? * + {m} {m,} {m,n} on
 * single characters. It backtracks; the recursion depth is bounded by the
 * expression, never by the text.
 */
#include <stdlib.h>
#include <string.h>

#include "lumen_fail.h"
#include "pretok.h"
#include "unicode.h"

/* ---- the pre-tokenizers, as llama.cpp's llm_tokenizer_bpe has them ---- */

#define RX_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RX_CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"

static const char *const rx_default[] = {
	"[\\p{P}\\$\\+<=>\\^~\\|]+",
	RX_GPT2,
	"\\p{N}+",
	"[0-9][0-9][0-9]",
	NULL,
};

static const char *const rx_gpt2[] = { RX_GPT2, NULL };

static const char *const rx_llama3[] = {
	RX_CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
	NULL,
};

static const char *const rx_qwen2[] = {
	RX_CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
	NULL,
};

/*
 * The letters' class holds Unicode singletons (OHM SIGN, KELVIN SIGN,
 * GREEK PROSGEGRAMMENI, ...) that NFC would turn into other characters:
 * those are written as universal character names, so that no editor's
 * normalisation changes the ranges.
 */
static const char *const rx_deepseek_llm[] = {
	"[\r\n]",
	"\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-" "\u1F7D" "ᾀ-ᾴᾶ-ᾼ" "\u1FBE" "ῂ-ῄῆ-ῌῐ-" "\u1FD3" "ῖ-" "\u1FDB" "ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ" "\u2126" "ℨ" "\u212A" "-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
	"\\s?[!-/:-~！-／：-～‘-‟　-。]+",
	"\\s+$",
	"[一-龥ࠀ-一가-퟿]+",
	"\\p{N}+",
	NULL,
};

static const char *const rx_deepseek_coder[] = {
	"[\r\n]",
	"\\s?\\p{L}+",
	"\\s?\\p{P}+",
	"[一-龥ࠀ-一가-퟿]+",
	"\\p{N}",
	NULL,
};

static const char *const rx_falcon[] = {
	"[\\p{P}\\$\\+<=>\\^~\\|`]+",
	RX_GPT2,
	"[0-9][0-9][0-9]",
	NULL,
};

static const char *const rx_starcoder[] = { "\\p{N}", RX_GPT2, NULL };

static const char *const rx_poro[] = { " ?[^(\\s|.,!?…。，、।۔،)]+", NULL };

static const char *const rx_viking[] = {
	" ?[^(\\s|.,!?…。，、।۔،)]+",
	"\\p{N}",
	NULL,
};

/* Gemma: only newlines split; the rest is SentencePiece-like */
static const char *const rx_lines[] = { "[^\\n]+|[\\n]+", NULL };

static const struct lumen_pretok_def pretok_defs[] = {
	{ "default", rx_default, false, true },
	{ "gpt-2", rx_gpt2, false, true },
	{ "phi-2", rx_gpt2, false, true },
	{ "mpt", rx_gpt2, false, true },
	{ "olmo", rx_gpt2, false, true },
	{ "jais", rx_gpt2, false, true },
	/* not a llama.cpp name: GPT-NeoX's ByteLevel pre-tokenizer is GPT-2's */
	{ "gpt-neox", rx_gpt2, false, true },
	{ "llama3", rx_llama3, true, true },
	{ "llama-v3", rx_llama3, true, true },
	{ "llama-bpe", rx_llama3, true, true },
	{ "falcon3", rx_llama3, true, true },
	{ "pixtral", rx_llama3, true, true },
	{ "dbrx", rx_llama3, false, true },
	{ "smaug-bpe", rx_llama3, false, true },
	{ "qwen2", rx_qwen2, false, true },
	{ "deepseek-r1-qwen", rx_qwen2, false, true },
	{ "stablelm2", rx_qwen2, false, true },
	{ "deepseek-llm", rx_deepseek_llm, false, true },
	{ "deepseek-coder", rx_deepseek_coder, false, true },
	{ "falcon", rx_falcon, false, true },
	{ "starcoder", rx_starcoder, false, true },
	{ "refact", rx_starcoder, false, true },
	{ "smollm", rx_starcoder, false, true },
	{ "command-r", rx_starcoder, false, true },
	{ "codeshell", rx_starcoder, false, true },
	{ "exaone", rx_starcoder, false, true },
	{ "minerva-7b", rx_starcoder, false, true },
	{ "poro-chat", rx_poro, false, true },
	{ "bloom", rx_poro, false, true },
	{ "gpt3-finnish", rx_poro, false, true },
	{ "viking", rx_viking, false, true },
	{ "gemma4", rx_lines, false, false },
	{ "granite-embed-multi-311m", rx_lines, false, false },
};

#define N_DEFS (sizeof(pretok_defs) / sizeof(pretok_defs[0]))

const struct lumen_pretok_def *lumen_pretok_find(const char *name)
{
	if (!name || !*name)
		name = "default";
	for (size_t i = 0; i < N_DEFS; i++)
		if (!strcmp(pretok_defs[i].name, name))
			return &pretok_defs[i];
	return NULL;
}

const char *lumen_pretok_name(size_t i)
{
	return i < N_DEFS ? pretok_defs[i].name : NULL;
}

/* ---- the expressions, compiled ---- */

enum rx_kind { RX_CLASS, RX_GROUP, RX_NOT_AHEAD, RX_AHEAD, RX_END };

#define RX_INF UINT32_MAX	/* no upper bound */
#define RX_MAX_ITEMS 128
#define RX_MAX_SEQS 64
#define RX_MAX_ALTS 64
#define RX_MAX_GROUPS 32
#define RX_MAX_RANGES 512

struct rx_item {
	uint8_t kind;
	bool neg;		/* RX_CLASS: [^..] */
	uint32_t min, max;
	uint16_t first, n;	/* RX_CLASS: ranges; else the group */
};

struct rx_range {
	uint32_t lo, hi;
};

struct rx_seq {
	uint16_t first, n;	/* items */
};

struct rx_group {
	uint16_t first, n;	/* entries of alts[] */
};

struct lumen_rx {
	bool collapsed;		/* uses \p{..}: non-ASCII as categories */
	uint16_t n_items, n_seqs, n_alts, n_groups, n_ranges;
	struct rx_item items[RX_MAX_ITEMS];
	struct rx_seq seqs[RX_MAX_SEQS];
	uint16_t alts[RX_MAX_ALTS];	/* sequence indices */
	struct rx_group groups[RX_MAX_GROUPS];
	struct rx_range ranges[RX_MAX_RANGES];
};

/*
 * What a non-ASCII code point looks like to a collapsed expression, as in
 * llama.cpp's unicode_regex_split(): one stand-in per category.
 */
enum {
	RX_VT = 0x0B,		/* any White_Space */
	RX_OTHER = 0xD0,
	RX_NUMBER = 0xD1,
	RX_LETTER = 0xD2,
	RX_PUNCT = 0xD3,
	RX_MARK = 0xD4,
	RX_SYMBOL = 0xD5,
};

struct rx_parser {
	struct lumen_rx *rx;
	const char *s;
	size_t pos, len;
	const char *err;
};

static uint32_t rx_next_cpt(struct rx_parser *p)
{
	uint32_t c;

	p->pos += lumen_utf8_decode(p->s + p->pos, p->len - p->pos, &c);
	return c;
}

static bool rx_add_range(struct rx_parser *p, uint32_t lo, uint32_t hi)
{
	if (p->rx->n_ranges >= RX_MAX_RANGES) {
		p->err = "too many ranges";
		return false;
	}
	p->rx->ranges[p->rx->n_ranges++] = (struct rx_range){ lo, hi };
	return true;
}

/* the ranges of \p{X} as llama.cpp's collapsed expressions have them */
static bool rx_add_category(struct rx_parser *p, char cat)
{
	switch (cat) {
	case 'L':
		return rx_add_range(p, 'A', 'Z') && rx_add_range(p, 'a', 'z') &&
		       rx_add_range(p, RX_LETTER, RX_LETTER);
	case 'N':
		return rx_add_range(p, '0', '9') &&
		       rx_add_range(p, RX_NUMBER, RX_NUMBER);
	case 'P':	/* !-#%-*,-/:-;?-@[-]_{} */
		return rx_add_range(p, '!', '#') && rx_add_range(p, '%', '*') &&
		       rx_add_range(p, ',', '/') && rx_add_range(p, ':', ';') &&
		       rx_add_range(p, '?', '@') && rx_add_range(p, '[', ']') &&
		       rx_add_range(p, '_', '_') && rx_add_range(p, '{', '{') &&
		       rx_add_range(p, '}', '}') &&
		       rx_add_range(p, RX_PUNCT, RX_PUNCT);
	case 'M':
		return rx_add_range(p, RX_MARK, RX_MARK);
	case 'S':	/* $+<=>^`| */
		return rx_add_range(p, '$', '$') && rx_add_range(p, '+', '+') &&
		       rx_add_range(p, '<', '>') && rx_add_range(p, '^', '^') &&
		       rx_add_range(p, '`', '`') && rx_add_range(p, '|', '|') &&
		       rx_add_range(p, RX_SYMBOL, RX_SYMBOL);
	}
	p->err = "unknown \\p category";
	return false;
}

/*
 * The escape after a backslash, into ranges. *@neg is set for \S (only
 * outside brackets); returns false on error. *@lit gets a literal.
 */
static bool rx_escape(struct rx_parser *p, bool *neg, bool *is_lit,
		      uint32_t *lit)
{
	uint32_t c;

	*is_lit = false;
	if (p->pos >= p->len) {
		p->err = "trailing backslash";
		return false;
	}
	c = rx_next_cpt(p);
	switch (c) {
	case 'S':
		if (!neg) {
			p->err = "\\S in a class";
			return false;
		}
		*neg = true;
		/* fall through */
	case 's':
		return rx_add_range(p, 0x09, 0x0D) && rx_add_range(p, ' ', ' ');
	case 'd':
		return rx_add_range(p, '0', '9');
	case 'p':
		if (p->pos + 3 > p->len || p->s[p->pos] != '{' ||
		    p->s[p->pos + 2] != '}') {
			p->err = "\\p{..} of more than one letter";
			return false;
		}
		c = (uint32_t)p->s[p->pos + 1];
		p->pos += 3;
		p->rx->collapsed = true;
		return rx_add_category(p, (char)c);
	case 'r':
		c = '\r';
		break;
	case 'n':
		c = '\n';
		break;
	case 't':
		c = '\t';
		break;
	default:
		if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
			p->err = "unknown escape";
			return false;
		}
		break;
	}
	*is_lit = true;
	*lit = c;
	return true;
}

static bool rx_class(struct rx_parser *p, struct rx_item *it)
{
	it->kind = RX_CLASS;
	it->first = p->rx->n_ranges;
	if (p->pos < p->len && p->s[p->pos] == '^') {
		it->neg = true;
		p->pos++;
	}
	while (p->pos < p->len && p->s[p->pos] != ']') {
		uint32_t lo, hi;
		bool lit = true;

		if (p->s[p->pos] == '\\') {
			p->pos++;
			if (!rx_escape(p, NULL, &lit, &lo))
				return false;
			if (!lit)
				continue;
		} else {
			lo = rx_next_cpt(p);
		}
		hi = lo;
		if (p->pos + 1 < p->len && p->s[p->pos] == '-' &&
		    p->s[p->pos + 1] != ']') {
			p->pos++;
			if (p->s[p->pos] == '\\') {
				p->pos++;
				if (!rx_escape(p, NULL, &lit, &hi) || !lit) {
					p->err = "bad range";
					return false;
				}
			} else {
				hi = rx_next_cpt(p);
			}
		}
		if (!rx_add_range(p, lo, hi))
			return false;
	}
	if (p->pos >= p->len) {
		p->err = "unterminated class";
		return false;
	}
	p->pos++;
	it->n = (uint16_t)(p->rx->n_ranges - it->first);
	return true;
}

static int rx_group(struct rx_parser *p);

static bool rx_quantifier(struct rx_parser *p, struct rx_item *it)
{
	char c = p->pos < p->len ? p->s[p->pos] : 0;
	char *end;

	it->min = it->max = 1;
	if (c == '?') {
		it->min = 0;
	} else if (c == '*') {
		it->min = 0;
		it->max = RX_INF;
	} else if (c == '+') {
		it->max = RX_INF;
	} else if (c == '{') {
		unsigned long lo = strtoul(p->s + p->pos + 1, &end, 10), hi = lo;

		if (*end == ',' && end[1] == '}') {
			hi = RX_INF;
			end++;
		} else if (*end == ',') {
			hi = strtoul(end + 1, &end, 10);
		}
		if (*end != '}' || lo > hi || lo > 1000 || (hi > 1000 && hi != RX_INF)) {
			p->err = "bad {m,n}";
			return false;
		}
		it->min = (uint32_t)lo;
		it->max = (uint32_t)hi;
		p->pos = (size_t)(end - p->s);
	} else {
		return true;
	}
	p->pos++;
	if (it->kind != RX_CLASS && (it->min != 0 || it->max != 1)) {
		p->err = "only ? quantifies a group";
		return false;
	}
	return true;
}

/* a sequence of items up to '|', ')' or the end; its index, or -1 */
static int rx_seq(struct rx_parser *p)
{
	struct lumen_rx *rx = p->rx;
	struct rx_item items[32];
	uint16_t n = 0;
	int seq;

	while (p->pos < p->len && p->s[p->pos] != '|' && p->s[p->pos] != ')') {
		struct rx_item *it = &items[n];
		char c = p->s[p->pos++];

		if (n == 32) {
			p->err = "sequence too long";
			return -1;
		}
		memset(it, 0, sizeof(*it));
		if (c == '(') {
			it->kind = RX_GROUP;
			if (p->pos + 1 < p->len && p->s[p->pos] == '?') {
				char k = p->s[p->pos + 1];

				it->kind = k == '!' ? RX_NOT_AHEAD :
					   k == '=' ? RX_AHEAD : RX_GROUP;
				if (k != ':' && k != '!' && k != '=') {
					p->err = "unknown (?";
					return -1;
				}
				p->pos += 2;
			}
			int g = rx_group(p);

			if (g < 0)
				return -1;
			if (p->pos >= p->len || p->s[p->pos] != ')') {
				p->err = "unbalanced (";
				return -1;
			}
			p->pos++;
			it->first = (uint16_t)g;
		} else if (c == '[') {
			if (!rx_class(p, it))
				return -1;
		} else if (c == '$') {
			it->kind = RX_END;
		} else {
			bool lit = true;
			uint32_t cpt;

			it->kind = RX_CLASS;
			it->first = rx->n_ranges;
			if (c == '\\') {
				if (!rx_escape(p, &it->neg, &lit, &cpt))
					return -1;
			} else {
				p->pos--;
				cpt = rx_next_cpt(p);
			}
			if (lit && !rx_add_range(p, cpt, cpt))
				return -1;
			it->n = (uint16_t)(rx->n_ranges - it->first);
		}
		if (it->kind != RX_END && !rx_quantifier(p, it))
			return -1;
		n++;
	}
	if (rx->n_seqs >= RX_MAX_SEQS || rx->n_items + n > RX_MAX_ITEMS) {
		p->err = "expression too long";
		return -1;
	}
	seq = rx->n_seqs++;
	rx->seqs[seq].first = rx->n_items;
	rx->seqs[seq].n = n;
	memcpy(&rx->items[rx->n_items], items, n * sizeof(*items));
	rx->n_items += n;
	return seq;
}

/* alternatives up to ')' or the end; the group's index, or -1 */
static int rx_group(struct rx_parser *p)
{
	struct lumen_rx *rx = p->rx;
	uint16_t alts[RX_MAX_ALTS], n = 0;
	int g;

	for (;;) {
		int seq = rx_seq(p);

		if (seq < 0)
			return -1;
		if (n == RX_MAX_ALTS) {
			p->err = "too many alternatives";
			return -1;
		}
		alts[n++] = (uint16_t)seq;
		if (p->pos >= p->len || p->s[p->pos] != '|')
			break;
		p->pos++;
	}
	if (rx->n_groups >= RX_MAX_GROUPS || rx->n_alts + n > RX_MAX_ALTS) {
		p->err = "too many groups";
		return -1;
	}
	g = rx->n_groups++;
	rx->groups[g].first = rx->n_alts;
	rx->groups[g].n = n;
	memcpy(&rx->alts[rx->n_alts], alts, n * sizeof(*alts));
	rx->n_alts += n;
	return g;
}

/* group 0 is the whole expression (it is compiled last, so moved) */
static int rx_compile(struct lumen_rx *rx, const char *s)
{
	struct rx_parser p = { rx, s, 0, strlen(s), NULL };
	int g;

	memset(rx, 0, sizeof(*rx));
	rx->n_groups = 1;	/* room for the top group */
	g = rx_group(&p);
	if (g >= 0 && p.pos != p.len)
		p.err = "unbalanced )";
	if (g < 0 || p.err)
		return lumen_fail(LUMEN_E_FORMAT,
				  "pre-tokenizer expression at %zu: %s: %s",
				  p.pos, p.err ? p.err : "?", s);
	rx->groups[0] = rx->groups[g];
	return 0;
}

/* ---- matching ---- */

struct rx_ctx {
	const struct lumen_rx *rx;
	const uint32_t *v;	/* the text as this expression sees it */
	uint32_t end;
};

/* the rest of the match: items from @idx of @seq, then @next */
struct rx_cont {
	uint16_t seq, idx;
	const struct rx_cont *next;
};

static bool rx_in_class(const struct lumen_rx *rx, const struct rx_item *it,
			uint32_t v)
{
	const struct rx_range *r = &rx->ranges[it->first];

	for (uint16_t i = 0; i < it->n; i++)
		if (v >= r[i].lo && v <= r[i].hi)
			return !it->neg;
	return it->neg;
}

static long rx_match_seq(const struct rx_ctx *c, uint16_t seq, uint16_t idx,
			 uint32_t pos, const struct rx_cont *k);

static long rx_match_group(const struct rx_ctx *c, uint16_t g, uint32_t pos,
			   const struct rx_cont *k)
{
	const struct rx_group *gr = &c->rx->groups[g];

	for (uint16_t i = 0; i < gr->n; i++) {
		long r = rx_match_seq(c, c->rx->alts[gr->first + i], 0, pos, k);

		if (r >= 0)
			return r;
	}
	return -1;
}

/* the end of the match of the items from @idx of @seq then @k, or -1 */
static long rx_match_seq(const struct rx_ctx *c, uint16_t seq, uint16_t idx,
			 uint32_t pos, const struct rx_cont *k)
{
	const struct lumen_rx *rx = c->rx;

	for (;;) {
		const struct rx_item *it;
		struct rx_cont kk;
		uint32_t n;

		if (idx == rx->seqs[seq].n) {
			if (!k)
				return pos;
			seq = k->seq;
			idx = k->idx;
			k = k->next;
			continue;
		}
		it = &rx->items[rx->seqs[seq].first + idx];
		switch (it->kind) {
		case RX_CLASS:
			for (n = 0; n < it->max && pos + n < c->end &&
				    rx_in_class(rx, it, c->v[pos + n]); n++)
				;
			if (n < it->min)
				return -1;
			if (idx + 1 == rx->seqs[seq].n && !k)
				return pos + n;
			for (;; n--) {
				long r = rx_match_seq(c, seq, idx + 1, pos + n, k);

				if (r >= 0)
					return r;
				if (n == it->min)
					return -1;
			}
		case RX_GROUP: {
			long r;

			kk = (struct rx_cont){ seq, (uint16_t)(idx + 1), k };
			r = rx_match_group(c, it->first, pos, &kk);
			if (r >= 0 || it->min)
				return r;
			break;	/* (..)? without the group */
		}
		case RX_NOT_AHEAD:
			if (rx_match_group(c, it->first, pos, NULL) >= 0)
				return -1;
			break;
		case RX_AHEAD:
			if (rx_match_group(c, it->first, pos, NULL) < 0)
				return -1;
			break;
		case RX_END:
			if (pos != c->end)
				return -1;
			break;
		}
		idx++;
	}
}

/* ---- splitting ---- */

struct lumen_pretok {
	size_t n_rx;
	struct lumen_rx rx[];
};

int lumen_pretok_create(const struct lumen_pretok_def *def,
			struct lumen_pretok **out)
{
	struct lumen_pretok *p;
	size_t n = 0;

	while (def->regex[n])
		n++;
	p = calloc(1, sizeof(*p) + n * sizeof(p->rx[0]));
	*out = NULL;
	if (!p)
		return lumen_fail(LUMEN_E_NOMEM, "tokenizer: out of memory");
	p->n_rx = n;
	for (size_t i = 0; i < n; i++) {
		int ret = rx_compile(&p->rx[i], def->regex[i]);

		if (ret) {
			free(p);
			return ret;
		}
	}
	*out = p;
	return 0;
}

void lumen_pretok_destroy(struct lumen_pretok *p)
{
	free(p);
}

static uint32_t rx_view(bool collapsed, uint32_t cpt)
{
	unsigned cls;

	if (cpt < 0x80)
		return cpt;
	cls = lumen_cpt_class(cpt);
	if (cls & LUMEN_CPT_SPACE)
		return RX_VT;
	if (!collapsed)
		return cpt == LUMEN_CPT_INVALID ? 0xFFFD : cpt;
	switch (cls & LUMEN_CPT_CATEGORY) {
	case LUMEN_CPT_LETTER:
		return RX_LETTER;
	case LUMEN_CPT_NUMBER:
		return RX_NUMBER;
	case LUMEN_CPT_PUNCT:
		return RX_PUNCT;
	case LUMEN_CPT_MARK:
		return RX_MARK;
	case LUMEN_CPT_SYMBOL:
		return RX_SYMBOL;
	default:
		return RX_OTHER;
	}
}

/*
 * Split the pieces ending at @in[0..@n_in) (code point indices) with @rx
 * into @out; returns the new count. Text between matches is a piece too.
 */
static size_t rx_split(const struct lumen_rx *rx, const uint32_t *v,
		       const uint32_t *in, size_t n_in, uint32_t *out)
{
	size_t n = 0;
	uint32_t start = 0;

	for (size_t i = 0; i < n_in; start = in[i++]) {
		struct rx_ctx c = { rx, v, in[i] };
		uint32_t gap = start;

		for (uint32_t pos = start; pos < c.end;) {
			long e = rx_match_group(&c, 0, pos, NULL);

			if (e <= (long)pos) {
				pos++;
				continue;
			}
			if (pos > gap)
				out[n++] = pos;
			out[n++] = (uint32_t)e;
			pos = gap = (uint32_t)e;
		}
		if (c.end > gap)
			out[n++] = c.end;
	}
	return n;
}

int lumen_pretok_split(const struct lumen_pretok *p, const char *text,
		       size_t len, uint32_t **ends, size_t *n)
{
	/* code points, their views, byte offsets, two lists of piece ends */
	uint32_t *cpt = malloc((len + 1) * sizeof(*cpt));
	uint32_t *v = malloc((len + 1) * sizeof(*v));
	uint32_t *off = malloc((len + 1) * sizeof(*off));
	uint32_t *a = malloc((len + 1) * sizeof(*a));
	uint32_t *b = malloc((len + 1) * sizeof(*b));
	size_t n_cpt = 0, n_a = 0;

	*ends = NULL;
	*n = 0;
	if (!cpt || !v || !off || !a || !b) {
		free(cpt);
		free(v);
		free(off);
		free(a);
		free(b);
		return lumen_fail(LUMEN_E_NOMEM, "tokenize: out of memory");
	}
	for (size_t i = 0; i < len; n_cpt++) {
		off[n_cpt] = (uint32_t)i;
		i += lumen_utf8_decode(text + i, len - i, &cpt[n_cpt]);
	}
	off[n_cpt] = (uint32_t)len;
	if (n_cpt)
		a[n_a++] = (uint32_t)n_cpt;
	for (size_t r = 0; r < p->n_rx; r++) {
		uint32_t *t;

		for (size_t i = 0; i < n_cpt; i++)
			v[i] = rx_view(p->rx[r].collapsed, cpt[i]);
		n_a = rx_split(&p->rx[r], v, a, n_a, b);
		t = a;
		a = b;
		b = t;
	}
	/* code point ends to byte ends, in place */
	for (size_t i = 0; i < n_a; i++)
		a[i] = off[a[i]];
	free(cpt);
	free(v);
	free(off);
	free(b);
	*ends = a;
	*n = n_a;
	return 0;
}
