// SPDX-License-Identifier: MIT
/*
 * Tokenizer tests: llama.cpp's reference tokenizations in $SHARED/tokenizer
 * (one TAP subtest line per string), the stories260K prompts of the golden
 * outputs, round trips, and small crafted vocabularies whose answers follow
 * from the algorithm by hand.
 */
#include <stdlib.h>
#include <unistd.h>

#include "vocab_gguf.h"
#include <lumen/tokenizer.h>
#include "pretok.h"
#include "tokenizer_impl.h"
#include "unicode.h"
#include "lumen_test.h"

static char *shared_path(const char *rel)
{
	const char *dir = getenv("SHARED");
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "../shared", rel);
	return path;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 > cap) {
			char *nb = realloc(buf, cap = 2 * cap + 4096);

			if (!nb)
				break;
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		if (!got)
			break;
		n += got;
	}
	fclose(f);
	if (buf)
		buf[n] = 0;
	*len = n;
	return buf;
}

static struct lumen_tokenizer *load_vocab(const char *rel)
{
	struct vocab_gguf v;
	char err[256];
	struct lumen_tokenizer *tok;

	if (vocab_gguf_load(&v, shared_path(rel), err, sizeof(err))) {
		printf("# %s: %s\n", shared_path(rel), err);
		return NULL;
	}
	if (lumen_tokenizer_create(&v.desc, &tok))
		printf("# %s: %s\n", rel, lumen_last_error());
	vocab_gguf_free(&v);
	return tok;
}

/* a string for a TAP line: C escapes, cut at @max bytes */
static const char *escaped(const char *s, size_t n, size_t max)
{
	static char out[512];
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < sizeof(out); i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == max) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "...");
			break;
		}
		if (c == '\n')
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\n");
		else if (c == '\t')
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\t");
		else if (c < 0x20 || c == '"' || c == '\\' || c == '#')
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = 0;
	return out;
}

static void format_ids(char *out, size_t cap, const int32_t *ids, long n)
{
	size_t o = 0;

	out[0] = 0;
	for (long i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%d", i ? " " : "",
				      ids[i]);
}

/* the test strings of llama.cpp's test-tokenizer-0 and expected ids */
struct vectors {
	char *inp, *out;
	char *str[128];
	size_t len[128];
	char *ids[128];		/* a line of the .out file */
	int n;
};

static const char vector_sep[] = "\n__ggml_vocab_test__\n";

static int load_vectors(struct vectors *v, const char *rel)
{
	char path[4200];
	size_t ilen, olen;

	memset(v, 0, sizeof(*v));
	snprintf(path, sizeof(path), "%s.inp", shared_path(rel));
	v->inp = read_all(path, &ilen);
	snprintf(path, sizeof(path), "%s.out", shared_path(rel));
	v->out = read_all(path, &olen);
	if (!v->inp || !v->out)
		return -1;
	/* strings are separated by the separator, which may end the file */
	char *s = v->inp;

	for (char *sep; (sep = strstr(s, vector_sep)) && v->n < 128;
	     s = sep + strlen(vector_sep)) {
		v->str[v->n] = s;
		v->len[v->n++] = (size_t)(sep - s);
	}
	if (*s && v->n < 128) {
		v->str[v->n] = s;
		v->len[v->n++] = strlen(s);
	}
	int lines = 0;

	for (char *nl = NULL; (nl = strchr(s = nl ? nl + 1 : v->out, '\n')) && lines < 128;) {
		*nl = 0;
		v->ids[lines++] = s;
	}
	return lines == v->n && v->n > 0 ? 0 : -1;
}

static void free_vectors(struct vectors *v)
{
	free(v->inp);
	free(v->out);
}

static long parse_ids(const char *line, int32_t *ids, long cap)
{
	long n = 0;

	for (char *end; *line && n < cap; line = end) {
		long v = strtol(line, &end, 10);

		if (end == line)
			break;
		ids[n++] = (int32_t)v;
	}
	return n;
}

/*
 * Tokenize every string as llama.cpp's test does (no BOS, special tokens
 * parsed) and compare; one indented TAP line per string.
 */
static void check_vectors(const char *rel)
{
	struct lumen_tokenizer *tok = load_vocab(rel);
	struct vectors v;
	static int32_t want[4096], got[4096];
	char ws[4096], gs[4096];

	REQUIRE_MSG(tok, "vocabulary %s", rel);
	REQUIRE_MSG(!load_vectors(&v, rel), "%s.inp/.out unreadable or of different counts", rel);
	printf("    # Subtest: %s\n    1..%d\n", rel, v.n);
	for (int i = 0; i < v.n; i++) {
		long nw = parse_ids(v.ids[i], want, 4096);
		long ng = lumen_tokenize(tok, v.str[i], v.len[i],
					 LUMEN_TOKENIZE_SPECIAL, got, 4096);
		int ok = ng == nw && !memcmp(got, want, (size_t)nw * sizeof(*got));

		format_ids(ws, sizeof(ws), want, nw);
		format_ids(gs, sizeof(gs), got, ng);
		printf("    %s %d - \"%s\"\n", ok ? "ok" : "not ok", i + 1,
		       escaped(v.str[i], v.len[i], 60));
		CHECK_MSG(ok, "\"%s\": expected [%s], got [%s]",
			  escaped(v.str[i], v.len[i], 400), ws, gs);
	}
	free_vectors(&v);
	lumen_tokenizer_destroy(tok);
}

TEST(vectors_llama_spm)
{
	check_vectors("tokenizer/ggml-vocab-llama-spm.gguf");
}

TEST(vectors_gpt2)
{
	check_vectors("tokenizer/ggml-vocab-gpt-2.gguf");
}

TEST(vectors_llama_bpe)
{
	check_vectors("tokenizer/ggml-vocab-llama-bpe.gguf");
}

TEST(vectors_qwen2)
{
	check_vectors("tokenizer/ggml-vocab-qwen2.gguf");
}

TEST(vectors_deepseek_coder)
{
	check_vectors("tokenizer/ggml-vocab-deepseek-coder.gguf");
}

TEST(vectors_gemma3)
{
	check_vectors("tokenizer/ggml-vocab-gemma3.gguf");
}

/* detokenize(tokenize(s)) == s: both tokenizers lose nothing */
static void check_round_trips(const char *rel)
{
	struct lumen_tokenizer *tok = load_vocab(rel);
	struct vectors v;
	static int32_t ids[4096];
	static char text[8192];

	REQUIRE(tok);
	REQUIRE(!load_vectors(&v, rel));
	for (int i = 0; i < v.n; i++) {
		long n = lumen_tokenize(tok, v.str[i], v.len[i],
					LUMEN_TOKENIZE_BOS, ids, 4096);
		long len = lumen_detokenize(tok, ids, (size_t)n,
					    LUMEN_DETOK_STRIP_SPACE, text,
					    sizeof(text));

		CHECK_MSG(len == (long)v.len[i] && !memcmp(text, v.str[i], v.len[i]),
			  "\"%s\" came back as %ld bytes", escaped(v.str[i], v.len[i], 80), len);
	}
	free_vectors(&v);
	lumen_tokenizer_destroy(tok);
}

TEST(round_trip_llama_spm)
{
	check_round_trips("tokenizer/ggml-vocab-llama-spm.gguf");
}

TEST(round_trip_gpt2)
{
	check_round_trips("tokenizer/ggml-vocab-gpt-2.gguf");
}

TEST(round_trip_llama_bpe)
{
	check_round_trips("tokenizer/ggml-vocab-llama-bpe.gguf");
}

TEST(round_trip_qwen2)
{
	check_round_trips("tokenizer/ggml-vocab-qwen2.gguf");
}

TEST(round_trip_deepseek_coder)
{
	check_round_trips("tokenizer/ggml-vocab-deepseek-coder.gguf");
}

TEST(round_trip_gemma3)
{
	check_round_trips("tokenizer/ggml-vocab-gemma3.gguf");
}

/* the JSON string starting at the quote @s into @out; the end, or NULL */
static const char *json_string(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	if (*s++ != '"')
		return NULL;
	while (*s && *s != '"' && n + 4 < cap) {
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'r': out[n++] = '\r'; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'u': {
			unsigned cp = 0, lo = 0;

			if (sscanf(s + 1, "%4x", &cp) != 1)
				return NULL;
			s += 4;
			/* a surrogate pair */
			if (cp >= 0xD800 && cp < 0xDC00 && s[1] == '\\' &&
			    s[2] == 'u' && sscanf(s + 3, "%4x", &lo) == 1) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				s += 6;
			}
			n += lumen_utf8_encode(cp, out + n);
			break;
		}
		default: out[n++] = *s; break;
		}
		s++;
	}
	out[n] = 0;
	return *s == '"' ? s + 1 : NULL;
}

TEST(stories260k_golden_prompts)
{
	struct lumen_tokenizer *tok = load_vocab("models/stories260K-f32.gguf");
	size_t len;
	char *jsonl = read_all(shared_path("golden/stories260K-f32.jsonl"), &len);
	int lines = 0;

	REQUIRE(tok);
	REQUIRE_MSG(jsonl, "golden/stories260K-f32.jsonl unreadable");
	CHECK(lumen_tokenizer_add_bos(tok));
	for (char *line = jsonl, *next; *line; line = next) {
		static char prompt[4096], text[65536], got_text[65536];
		int32_t want[512], got[512], steps[512];
		long nw = 0, ns = 0, ng;
		const char *p;

		char *nl = strchr(line, '\n');

		next = nl ? nl + 1 : line + strlen(line);
		if (nl)
			*nl = 0;
		p = strstr(line, "\"prompt\":");
		REQUIRE_MSG(p && json_string(p + 9, prompt, sizeof(prompt)),
			    "line %d: no prompt", lines + 1);
		p = strstr(line, "\"prompt_ids\":[");
		REQUIRE(p);
		for (p += 14; *p && *p != ']' && nw < 512;) {
			char *end;
			long id = strtol(p, &end, 10);

			if (end == p) {
				p++;	/* a comma */
				continue;
			}
			want[nw++] = (int32_t)id;
			p = end;
		}
		for (p = line; (p = strstr(p, "\"id\":")) && ns < 512; p += 5)
			steps[ns++] = (int32_t)atoi(p + 5);
		p = strstr(line, "\"text\":");
		REQUIRE(p && json_string(p + 7, text, sizeof(text)));

		ng = lumen_tokenize(tok, prompt, strlen(prompt),
				    LUMEN_TOKENIZE_BOS, got, 512);
		char ws[2048], gs[2048];

		format_ids(ws, sizeof(ws), want, nw);
		format_ids(gs, sizeof(gs), got, ng);
		CHECK_MSG(ng == nw && !memcmp(got, want, (size_t)nw * sizeof(*got)),
			  "\"%s\": expected [%s], got [%s]", prompt, ws, gs);
		/* the reference text is the steps' pieces, back to back */
		CHECK_EQ(ns, 64);
		long tl = lumen_detokenize(tok, steps, (size_t)ns, 0, got_text,
					   sizeof(got_text) - 1);

		CHECK_MSG(tl == (long)strlen(text) && !memcmp(got_text, text, strlen(text)),
			  "continuation of \"%s\": expected \"%s\", got \"%s\"",
			  prompt, text, escaped(got_text, tl > 0 ? (size_t)tl : 0, 400));
		lines++;
	}
	CHECK_EQ(lines, 5);
	free(jsonl);
	lumen_tokenizer_destroy(tok);
}

/* ---- small vocabularies, answers by hand ---- */

struct mini {
	const char *text[64];
	float score[64];
	int32_t type[64];
	uint32_t len[64];
	uint32_t n;
	const char *merges[64];
	uint32_t merge_len[64];
	uint32_t n_merges;
};

static int32_t mini_add(struct mini *m, const char *text, float score, int32_t type)
{
	m->text[m->n] = text;
	m->len[m->n] = (uint32_t)strlen(text);
	m->score[m->n] = score;
	m->type[m->n] = type;
	return (int32_t)m->n++;
}

static struct lumen_tokenizer *mini_create(struct mini *m, enum lumen_vocab_type type)
{
	struct lumen_vocab_desc d = {
		.type = type, .n_tokens = m->n, .tokens = m->text,
		.token_lens = m->len, .scores = m->score, .token_types = m->type,
		.n_merges = m->n_merges, .merges = m->merges, .merge_lens = m->merge_len,
		.bos_id = 1, .eos_id = 2, .unk_id = 0, .pad_id = LUMEN_TOKEN_NONE,
		.add_bos = true, .add_space_prefix = type == LUMEN_VOCAB_SPM,
		.pre = type == LUMEN_VOCAB_BPE ? "gpt-2" : NULL,
	};
	struct lumen_tokenizer *tok;

	if (lumen_tokenizer_create(&d, &tok))
		printf("# %s\n", lumen_last_error());
	return tok;
}

/* <unk> <s> </s>, then byte tokens for 'A'..'C' only */
static void mini_spm_base(struct mini *m)
{
	memset(m, 0, sizeof(*m));
	mini_add(m, "<unk>", 0, LUMEN_TOKEN_UNKNOWN);
	mini_add(m, "<s>", 0, LUMEN_TOKEN_CONTROL);
	mini_add(m, "</s>", 0, LUMEN_TOKEN_CONTROL);
	mini_add(m, "<0x41>", 0, LUMEN_TOKEN_BYTE);
	mini_add(m, "<0x42>", 0, LUMEN_TOKEN_BYTE);
	mini_add(m, "<0x43>", 0, LUMEN_TOKEN_BYTE);
}

static long tokenize_str(struct lumen_tokenizer *tok, const char *s,
			 unsigned flags, int32_t *ids)
{
	return lumen_tokenize(tok, s, strlen(s), flags, ids, 64);
}

TEST(spm_merges_best_score_first)
{
	struct mini m;
	int32_t ids[64];

	mini_spm_base(&m);
	int32_t sp = mini_add(&m, "\xe2\x96\x81", -1, 1);	/* ▁ */
	mini_add(&m, "a", -2, 1);
	int32_t b = mini_add(&m, "b", -3, 1);
	int32_t ab = mini_add(&m, "ab", -5, 1);
	int32_t ba = mini_add(&m, "ba", -4, 1);
	int32_t spa = mini_add(&m, "\xe2\x96\x81" "a", -6, 1);
	struct lumen_tokenizer *tok = mini_create(&m, LUMEN_VOCAB_SPM);

	REQUIRE(tok);
	/* "▁aba": ba (-4) beats ab (-5), then ▁a (-6) */
	REQUIRE_EQ(tokenize_str(tok, "aba", 0, ids), 2);
	CHECK_EQ(ids[0], spa);
	CHECK_EQ(ids[1], ba);
	/* "▁ab": ab (-5) beats ▁a (-6), which then cannot happen */
	REQUIRE_EQ(tokenize_str(tok, "ab", 0, ids), 2);
	CHECK_EQ(ids[0], sp);
	CHECK_EQ(ids[1], ab);
	/* "▁abab": ba in the middle takes both a b pairs' places */
	REQUIRE_EQ(tokenize_str(tok, "abab", LUMEN_TOKENIZE_BOS, ids), 4);
	CHECK_EQ(ids[0], 1);
	CHECK_EQ(ids[1], spa);
	CHECK_EQ(ids[2], ba);
	CHECK_EQ(ids[3], b);
	/* "▁b": ▁b is no token, nor is ▁a here */
	REQUIRE_EQ(tokenize_str(tok, "b", 0, ids), 2);
	CHECK_EQ(ids[0], sp);
	CHECK_EQ(ids[1], b);
	lumen_tokenizer_destroy(tok);
}

TEST(spm_equal_scores_merge_leftmost)
{
	struct mini m;
	int32_t ids[64];

	mini_spm_base(&m);
	mini_add(&m, "\xe2\x96\x81", -1, 1);
	int32_t a = mini_add(&m, "a", -1, 1);
	int32_t aa = mini_add(&m, "aa", -2, 1);
	struct lumen_tokenizer *tok = mini_create(&m, LUMEN_VOCAB_SPM);

	REQUIRE(tok);
	/* "▁aaa": the two aa pairs score alike; the left one wins */
	REQUIRE_EQ(lumen_tokenize(tok, "aaa", 3, 0, ids, 64), 3);
	CHECK_EQ(ids[1], aa);
	CHECK_EQ(ids[2], a);
	lumen_tokenizer_destroy(tok);
}

TEST(spm_byte_fallback_and_unknown)
{
	struct mini m;
	int32_t ids[64];
	char text[64];

	mini_spm_base(&m);
	int32_t sp = mini_add(&m, "\xe2\x96\x81", -1, 1);
	struct lumen_tokenizer *tok = mini_create(&m, LUMEN_VOCAB_SPM);

	REQUIRE(tok);
	/* A and B have byte tokens; 'z' has none, so it is unknown */
	REQUIRE_EQ(tokenize_str(tok, "ABz", 0, ids), 4);
	CHECK_EQ(ids[0], sp);
	CHECK_EQ(ids[1], 3);
	CHECK_EQ(ids[2], 4);
	CHECK_EQ(ids[3], 0);
	long n = lumen_detokenize(tok, ids, 4, LUMEN_DETOK_STRIP_SPACE, text, sizeof(text));
	CHECK_EQ(n, 5);
	CHECK(!memcmp(text, "AB\xe2\x96\x85", 5));
	lumen_tokenizer_destroy(tok);
}

TEST(special_tokens_in_text)
{
	struct mini m;
	int32_t ids[64];

	mini_spm_base(&m);
	int32_t sp = mini_add(&m, "\xe2\x96\x81", -1, 1);
	int32_t x = mini_add(&m, "x", -1, 1);
	int32_t ud = mini_add(&m, "<tool>", 0, LUMEN_TOKEN_USER_DEFINED);
	int32_t lt = mini_add(&m, "<", -1, 1);
	int32_t s = mini_add(&m, "s", -1, 1);
	int32_t gt = mini_add(&m, ">", -1, 1);
	struct lumen_tokenizer *tok = mini_create(&m, LUMEN_VOCAB_SPM);

	REQUIRE(tok);
	/* parsed: "x", </s>, then a new word "x" gets its own space prefix */
	REQUIRE_EQ(tokenize_str(tok, "x</s>x", LUMEN_TOKENIZE_SPECIAL, ids), 5);
	CHECK_EQ(ids[0], sp);
	CHECK_EQ(ids[1], x);
	CHECK_EQ(ids[2], 2);
	CHECK_EQ(ids[3], sp);
	CHECK_EQ(ids[4], x);
	/* not parsed: the characters, never the control token */
	REQUIRE_EQ(tokenize_str(tok, "<s>", 0, ids), 4);
	CHECK_EQ(ids[1], lt);
	CHECK_EQ(ids[2], s);
	CHECK_EQ(ids[3], gt);
	/* user-defined tokens are always whole; no text, no space prefix */
	REQUIRE_EQ(tokenize_str(tok, "<tool>", 0, ids), 1);
	CHECK_EQ(ids[0], ud);
	lumen_tokenizer_destroy(tok);
}

TEST(pieces)
{
	struct mini m;
	char buf[16];

	mini_spm_base(&m);
	int32_t w = mini_add(&m, "\xe2\x96\x81hi\xe2\x96\x81", -1, 1);
	struct lumen_tokenizer *tok = mini_create(&m, LUMEN_VOCAB_SPM);

	REQUIRE(tok);
	CHECK_EQ(lumen_token_to_piece(tok, w, 0, buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, " hi ", 4));
	CHECK_EQ(lumen_token_to_piece(tok, 3, 0, buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'A');
	CHECK_EQ(lumen_token_to_piece(tok, 1, 0, buf, sizeof(buf)), 0);
	CHECK_EQ(lumen_token_to_piece(tok, 2, LUMEN_DETOK_SPECIAL, buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "</s>", 4));
	CHECK_EQ(lumen_token_to_piece(tok, 99, 0, buf, sizeof(buf)), LUMEN_E_INVAL);
	CHECK_MSG(strstr(lumen_last_error(), "token id 99 out of range"), "%s",
		  lumen_last_error());
	/* a short buffer: the full length, and only what fits written */
	memset(buf, '#', sizeof(buf));
	CHECK_EQ(lumen_token_to_piece(tok, w, 0, buf, 2), 4);
	CHECK(!memcmp(buf, " h##", 4));
	lumen_tokenizer_destroy(tok);
}

TEST(output_cap_counts_like_snprintf)
{
	struct lumen_tokenizer *tok = load_vocab("tokenizer/ggml-vocab-llama-spm.gguf");
	int32_t ids[64], few[3] = { -7, -7, -7 };

	REQUIRE(tok);
	long n = tokenize_str(tok, "Hello world, how are you?", LUMEN_TOKENIZE_BOS, ids);

	CHECK(n > 3);
	CHECK_EQ(lumen_tokenize(tok, "Hello world, how are you?", 25,
				LUMEN_TOKENIZE_BOS, few, 2), n);
	CHECK_EQ(few[0], ids[0]);
	CHECK_EQ(few[1], ids[1]);
	CHECK_EQ(few[2], -7);
	CHECK_EQ(lumen_tokenize(tok, "", 0, 0, NULL, 0), 0);
	CHECK_EQ(lumen_tokenize(tok, "", 0, LUMEN_TOKENIZE_BOS, ids, 64), 1);
	lumen_tokenizer_destroy(tok);
}

/* the words of pre-tokenizer @pre, "|"-separated */
static const char *words(const char *pre, const char *s)
{
	static char out[512];
	struct lumen_pretok *p;
	size_t n = strlen(s), o = 0, n_words;
	uint32_t *ends;

	if (lumen_pretok_create(lumen_pretok_find(pre), &p))
		return "(no pre-tokenizer)";
	if (lumen_pretok_split(p, s, n, &ends, &n_words)) {
		lumen_pretok_destroy(p);
		return "(out of memory)";
	}
	for (size_t i = 0, pos = 0; i < n_words; pos = ends[i++]) {
		if (ends[i] <= pos || ends[i] > n) {
			o = 0;
			memcpy(out, "(bad word)", 11);
			break;
		}
		if (pos)
			out[o++] = '|';
		memcpy(out + o, s + pos, ends[i] - pos);
		o += ends[i] - pos;
	}
	if (o)
		out[o] = 0;
	else if (!n_words)
		out[0] = 0;
	free(ends);
	lumen_pretok_destroy(p);
	return out;
}

#define CHECK_PRE(pre, s, want) CHECK_MSG(!strcmp(words(pre, s), want), \
	"%s: \"%s\": expected \"%s\", got \"%s\"", pre, escaped(s, strlen(s), 99), \
	want, words(pre, s))
#define CHECK_WORDS(s, want) CHECK_PRE("gpt-2", s, want)

TEST(gpt2_pretokenizer)
{
	CHECK_WORDS("Hello world", "Hello| world");
	CHECK_WORDS("I'm here, they'll", "I|'m| here|,| they|'ll");
	CHECK_WORDS("I'M", "I|'|M");
	CHECK_WORDS("a  b", "a| | b");
	CHECK_WORDS("a   ", "a|   ");
	CHECK_WORDS("x\n\ny", "x|\n|\n|y");
	CHECK_WORDS(" \n y", " \n| y");
	CHECK_WORDS("abc123 456!! ?", "abc|123| 456|!!| ?");
	CHECK_WORDS("\xd0\xbd\xd0\xb5 \xc2\xbd\xc2\xbd", "\xd0\xbd\xd0\xb5| \xc2\xbd\xc2\xbd");
	/* U+3000 ideographic space is \s; U+00A0 too */
	CHECK_WORDS("a\xe3\x80\x80" "b", "a|\xe3\x80\x80|b");
	/* only U+0020 joins the word after it */
	CHECK_WORDS("a\xc2\xa0\xc2\xa0" "b", "a|\xc2\xa0|\xc2\xa0|b");
	/* an invalid byte is neither letter, number nor space */
	CHECK_WORDS("ab\xff\xfe!c", "ab|\xff\xfe!|c");
	CHECK_WORDS("'", "'");
	CHECK_WORDS("'s", "'s");
}

/* llama.cpp's expressions, by hand on small texts */
TEST(bpe_pretokenizers)
{
	CHECK_PRE("llama-bpe", "Hello  world 12345\n\n  x",
		  "Hello| | world| |123|45|\n\n| | x");
	CHECK_PRE("llama-bpe", "I'M here\r\n!!\n", "I|'M| here|\r\n|!!\n");
	CHECK_PRE("qwen2", "Hello  world 12345\n\n  x",
		  "Hello| | world| |1|2|3|4|5|\n\n| | x");
	CHECK_PRE("gpt-2", "x 12345", "x| 12345");
	CHECK_PRE("default", "x 12345", "x| |123|45");
	CHECK_PRE("deepseek-coder", "a1b 23,x", "a|1|b| |2|3|,|x");
	CHECK_PRE("deepseek-llm", "Hi \xe4\xb8\xad\xe6\x96\x87 42!",
		  "Hi| |\xe4\xb8\xad\xe6\x96\x87| |42|!");
	/*
	 * its letters: KELVIN SIGN and OHM SIGN are, '~' is not; then
	 * [\u0800-\u4E00]+ takes them from their space
	 */
	CHECK_PRE("deepseek-llm", "a~b \u212A\u2126 9", "a|~|b| |\u212A\u2126| |9");
	CHECK_PRE("deepseek-llm", "x  \n", "x|  |\n");
	CHECK_PRE("starcoder", "ab 12 c", "ab| |1|2| c");
	CHECK_PRE("smollm", "ab 12 c", "ab| |1|2| c");
	CHECK_PRE("falcon", "a+b=1234!", "a|+|b|=|123|4|!");
	CHECK_PRE("bloom", "Hello, world!", "Hello|,| world|!");
	CHECK_PRE("gemma4", "a b\n\nc", "a b|\n\n|c");
	CHECK_PRE("gpt-2", "", "");
}

/* the words of one expression */
static const char *rx_words(const char *rx, const char *s)
{
	static char out[256];
	const char *list[2] = { rx, NULL };
	struct lumen_pretok_def def = { "test", list, false, true };
	struct lumen_pretok *p;
	uint32_t *ends;
	size_t n, o = 0;

	if (lumen_pretok_create(&def, &p))
		return "(does not compile)";
	if (lumen_pretok_split(p, s, strlen(s), &ends, &n)) {
		lumen_pretok_destroy(p);
		return "(out of memory)";
	}
	for (size_t i = 0, pos = 0; i < n && o + 64 < sizeof(out); pos = ends[i++]) {
		if (i)
			out[o++] = '|';
		memcpy(out + o, s + pos, ends[i] - pos);
		o += ends[i] - pos;
	}
	out[o] = 0;
	free(ends);
	lumen_pretok_destroy(p);
	return out;
}

#define CHECK_RX(rx, s, want) CHECK_MSG(!strcmp(rx_words(rx, s), want), \
	"/%s/ on \"%s\": expected \"%s\", got \"%s\"", rx, s, want, rx_words(rx, s))

/* the engine: a match and the text between matches are both words */
TEST(pretokenizer_regex_engine)
{
	const char *list[2] = { NULL, NULL };
	struct lumen_pretok_def def = { "test", list, false, true };
	static const char *const bad[] = { "(", "a)", "[a", "\\q", "a{3,2}", "(?<a)", "(ab)+" };
	struct lumen_pretok *p;

	CHECK_RX("a{2,3}", "aaaaaaa", "aaa|aaa|a");
	CHECK_RX("\\s+(?!\\S)", "a   b", "a|  | b");
	CHECK_RX("x(?:yz)?", "xyzxy", "xyz|x|y");
	CHECK_RX("b$", "abab", "aba|b");
	CHECK_RX("[^a-c]+", "abxyc", "ab|xy|c");
	CHECK_RX("a(?=b)", "aab", "a|a|b");
	CHECK_RX("x|xy", "xy", "x|y");		/* the first alternative wins */
	CHECK_RX("\\p{L}+", "ab\xc3\xa9\xe4\xb8\xad" "1c", "ab\xc3\xa9\xe4\xb8\xad|1|c");
	CHECK_RX("[\\p{P}\\$]+", "a$!b~", "a|$!|b~");	/* '~' is in neither, as in llama.cpp */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		list[0] = bad[i];
		CHECK_MSG(lumen_pretok_create(&def, &p) == LUMEN_E_FORMAT, "/%s/ compiled", bad[i]);
		CHECK_MSG(strstr(lumen_last_error(), bad[i]), "%s", lumen_last_error());
	}
}

/* one list of names: formats/ (what lumenc accepts) and the runtime agree */
TEST(pretokenizer_names_match_gguf_vocab)
{
	size_t n_gguf = 0, n_rt = 0;

	for (size_t i = 0; gguf_vocab_bpe_pre_types[i]; i++) {
		const char *name = gguf_vocab_bpe_pre_types[i];
		const struct lumen_pretok_def *def = lumen_pretok_find(name);
		struct lumen_pretok *p = NULL;

		CHECK_MSG(def, "'%s' is in gguf_vocab_bpe_pre_types, not in the runtime", name);
		/* every expression compiles */
		CHECK_MSG(def && !lumen_pretok_create(def, &p), "%s: %s", name,
			  lumen_last_error());
		lumen_pretok_destroy(p);
		n_gguf += name[0] != 0;
	}
	for (const char *name; (name = lumen_pretok_name(n_rt)); n_rt++) {
		bool found = false;

		for (size_t i = 0; gguf_vocab_bpe_pre_types[i] && !found; i++)
			found = !strcmp(gguf_vocab_bpe_pre_types[i], name);
		CHECK_MSG(found, "the runtime implements '%s', gguf_vocab_bpe_pre_types lacks it",
			  name);
	}
	CHECK_EQ(n_gguf, n_rt);
}

TEST(unknown_pretokenizer_is_refused_by_name)
{
	struct mini m;
	struct lumen_tokenizer *tok = (void *)1;

	memset(&m, 0, sizeof(m));
	mini_add(&m, "a", 0, 1);
	mini_add(&m, "b", 0, 1);
	mini_add(&m, "c", 0, 1);
	struct lumen_vocab_desc d = {
		.type = LUMEN_VOCAB_BPE, .n_tokens = m.n, .tokens = m.text,
		.token_lens = m.len, .bos_id = LUMEN_TOKEN_NONE,
		.eos_id = LUMEN_TOKEN_NONE, .unk_id = LUMEN_TOKEN_NONE,
		.pad_id = LUMEN_TOKEN_NONE, .pre = "tekken",
	};

	CHECK_EQ(lumen_tokenizer_create(&d, &tok), LUMEN_E_FORMAT);
	CHECK(tok == NULL);
	CHECK_MSG(strstr(lumen_last_error(), "'tekken'") &&
		  strstr(lumen_last_error(), "tokenizer.ggml.pre"), "%s", lumen_last_error());
	d.pre = "qwen2";
	CHECK_EQ(lumen_tokenizer_create(&d, &tok), 0);
	lumen_tokenizer_destroy(tok);
	/* SentencePiece has no pre-tokenizer: the name is not looked at */
	d.type = LUMEN_VOCAB_SPM;
	d.pre = "tekken";
	CHECK_EQ(lumen_tokenizer_create(&d, &tok), 0);
	lumen_tokenizer_destroy(tok);
}

/* control tokens in a prompt: parsed with the flag, plain text without */
TEST(special_tokens_qwen2_chat)
{
	struct lumen_tokenizer *tok = load_vocab("tokenizer/ggml-vocab-qwen2.gguf");
	const char *prompt = "<|im_start|>user\nhi<|im_end|>";
	int32_t ids[64], plain[64];
	char text[256];

	REQUIRE(tok);
	int32_t start = lumen_tokenizer_find(tok, "<|im_start|>", 12);
	int32_t end = lumen_tokenizer_find(tok, "<|im_end|>", 10);

	REQUIRE(start >= 0 && end >= 0);
	CHECK_EQ(lumen_token_type(tok, start), LUMEN_TOKEN_CONTROL);
	long n = tokenize_str(tok, prompt, LUMEN_TOKENIZE_PARSE_SPECIAL, ids);

	REQUIRE(n >= 4);
	CHECK_EQ(ids[0], start);
	CHECK_EQ(ids[n - 1], end);
	/* "user\nhi" between them, as the plain text alone */
	long nm = tokenize_str(tok, "user\nhi", 0, plain);

	CHECK_EQ(n, nm + 2);
	CHECK(!memcmp(ids + 1, plain, (size_t)nm * sizeof(*ids)));
	/* without the flag: no control token, and the text comes back */
	long np = tokenize_str(tok, prompt, 0, plain);

	REQUIRE(np > n);
	for (long i = 0; i < np; i++)
		CHECK(lumen_token_type(tok, plain[i]) != LUMEN_TOKEN_CONTROL);
	long tl = lumen_detokenize(tok, plain, (size_t)np, 0, text, sizeof(text));

	CHECK(tl == (long)strlen(prompt) && !memcmp(text, prompt, strlen(prompt)));
	/* control tokens render only with LUMEN_DETOK_SPECIAL, as llama-cli */
	tl = lumen_detokenize(tok, ids, (size_t)n, 0, text, sizeof(text));
	CHECK(tl == 7 && !memcmp(text, "user\nhi", 7));
	tl = lumen_detokenize(tok, ids, (size_t)n, LUMEN_DETOK_SPECIAL, text, sizeof(text));
	CHECK(tl == (long)strlen(prompt) && !memcmp(text, prompt, strlen(prompt)));
	CHECK_EQ(LUMEN_TOKENIZE_SPECIAL, LUMEN_TOKENIZE_PARSE_SPECIAL);
	lumen_tokenizer_destroy(tok);
}

/* SentencePiece with and without tokenizer.ggml.add_space_prefix */
TEST(spm_space_prefix_is_optional)
{
	struct mini m;
	int32_t ids[64];
	char text[64];

	mini_spm_base(&m);
	int32_t sp = mini_add(&m, "\xe2\x96\x81", -1, 1);	/* ▁ */
	int32_t a = mini_add(&m, "a", -2, 1);
	int32_t spa = mini_add(&m, "\xe2\x96\x81" "a", -3, 1);
	struct lumen_vocab_desc d = {
		.type = LUMEN_VOCAB_SPM, .n_tokens = m.n, .tokens = m.text,
		.token_lens = m.len, .scores = m.score, .token_types = m.type,
		.bos_id = 1, .eos_id = 2, .unk_id = 0, .pad_id = LUMEN_TOKEN_NONE,
		.add_space_prefix = true,
	};
	struct lumen_tokenizer *tok;

	REQUIRE_EQ(lumen_tokenizer_create(&d, &tok), 0);
	REQUIRE_EQ(tokenize_str(tok, "a a", 0, ids), 2);
	CHECK_EQ(ids[0], spa);
	CHECK_EQ(ids[1], spa);
	lumen_tokenizer_destroy(tok);
	d.add_space_prefix = false;
	REQUIRE_EQ(lumen_tokenizer_create(&d, &tok), 0);
	REQUIRE_EQ(tokenize_str(tok, "a a", 0, ids), 2);
	CHECK_EQ(ids[0], a);
	CHECK_EQ(ids[1], spa);
	REQUIRE_EQ(tokenize_str(tok, " a", 0, ids), 1);
	CHECK_EQ(ids[0], spa);
	/* nothing to strip on the way back */
	CHECK_EQ(lumen_detokenize(tok, ids, 1, LUMEN_DETOK_STRIP_SPACE, text, sizeof(text)), 2);
	CHECK(!memcmp(text, " a", 2));
	(void)sp;
	lumen_tokenizer_destroy(tok);
}

/* the longest special token cuts first, then shorter ones in what is left */
TEST(special_tokens_longest_first)
{
	struct mini m;
	int32_t ids[64];

	mini_spm_base(&m);
	int32_t ab = mini_add(&m, "AB", 0, LUMEN_TOKEN_USER_DEFINED);
	int32_t bcd = mini_add(&m, "BCD", 0, LUMEN_TOKEN_CONTROL);
	int32_t sp = mini_add(&m, "\xe2\x96\x81", 0, 1);
	int32_t d = mini_add(&m, "D", 0, 1);
	struct lumen_tokenizer *tok = mini_create(&m, LUMEN_VOCAB_SPM);

	REQUIRE(tok);
	/* BCD wins over the leftmost AB: "A" (with its prefix), BCD */
	REQUIRE_EQ(tokenize_str(tok, "ABCD", LUMEN_TOKENIZE_PARSE_SPECIAL, ids), 3);
	CHECK_EQ(ids[0], sp);
	CHECK_EQ(ids[1], 3);	/* <0x41> */
	CHECK_EQ(ids[2], bcd);
	/* control tokens are text without the flag; user-defined ones are not */
	REQUIRE_EQ(tokenize_str(tok, "ABCD", 0, ids), 4);
	CHECK_EQ(ids[0], ab);
	CHECK_EQ(ids[1], sp);
	CHECK_EQ(ids[2], 5);	/* <0x43> */
	CHECK_EQ(ids[3], d);
	lumen_tokenizer_destroy(tok);
}

TEST(unicode_classes)
{
	CHECK_EQ(lumen_cpt_class('A'), LUMEN_CPT_LETTER);
	CHECK_EQ(lumen_cpt_class(0xE9), LUMEN_CPT_LETTER);	/* é */
	CHECK_EQ(lumen_cpt_class(0x4E2D), LUMEN_CPT_LETTER);	/* 中 */
	CHECK_EQ(lumen_cpt_class(0x0663), LUMEN_CPT_NUMBER);	/* Arabic-Indic 3 */
	CHECK_EQ(lumen_cpt_class(0xBD), LUMEN_CPT_NUMBER);	/* ½ */
	CHECK_EQ(lumen_cpt_class(0x2167), LUMEN_CPT_NUMBER);	/* Ⅷ */
	CHECK_EQ(lumen_cpt_class(0x3000), LUMEN_CPT_SEPARATOR | LUMEN_CPT_SPACE);
	CHECK_EQ(lumen_cpt_class(0x85), LUMEN_CPT_CONTROL | LUMEN_CPT_SPACE);
	CHECK_EQ(lumen_cpt_class(' '), LUMEN_CPT_SEPARATOR | LUMEN_CPT_SPACE);
	CHECK_EQ(lumen_cpt_class('\n'), LUMEN_CPT_CONTROL | LUMEN_CPT_SPACE);
	CHECK_EQ(lumen_cpt_class(0x200B), LUMEN_CPT_CONTROL);	/* zero width space: Cf */
	CHECK_EQ(lumen_cpt_class('!'), LUMEN_CPT_PUNCT);
	CHECK_EQ(lumen_cpt_class('$'), LUMEN_CPT_SYMBOL);
	CHECK_EQ(lumen_cpt_class('~'), LUMEN_CPT_SYMBOL);
	CHECK_EQ(lumen_cpt_class(0x1F999), LUMEN_CPT_SYMBOL);	/* 🦙 */
	CHECK_EQ(lumen_cpt_class(0x0301), LUMEN_CPT_MARK);	/* combining acute: Mn */
	CHECK_EQ(lumen_cpt_class(0x0378), LUMEN_CPT_UNDEFINED);	/* unassigned */
	CHECK_EQ(lumen_cpt_class(0xE000), LUMEN_CPT_CONTROL);	/* private use */
	/* ASCII's shortcut agrees with the table */
	for (uint32_t c = 0; c < 0x80; c++) {
		unsigned want = LUMEN_CPT_UNDEFINED;

		for (unsigned i = 0; i < lumen_cpt_ranges_len; i++)
			if (c >= lumen_cpt_ranges[i].lo && c <= lumen_cpt_ranges[i].hi)
				want = lumen_cpt_ranges[i].cls;
		CHECK_MSG(lumen_cpt_class(c) == want, "U+%04X: %u, the table says %u",
			  c, lumen_cpt_class(c), want);
	}
	/* the table is sorted and its ranges disjoint, or the search lies */
	for (unsigned i = 1; i < lumen_cpt_ranges_len; i++)
		CHECK(lumen_cpt_ranges[i].lo > lumen_cpt_ranges[i - 1].hi);
}

TEST(utf8_decode)
{
	uint32_t c;

	CHECK_EQ(lumen_utf8_decode("\xe2\x96\x81", 3, &c), 3);
	CHECK_EQ(c, 0x2581);
	CHECK_EQ(lumen_utf8_decode("\xf0\x9f\xa6\x99", 4, &c), 4);
	CHECK_EQ(c, 0x1F999);
	CHECK_EQ(lumen_utf8_decode("\xe2\x96", 2, &c), 1);	/* truncated */
	CHECK_EQ(c, LUMEN_CPT_INVALID);
	CHECK_EQ(lumen_utf8_decode("\xc0\x80", 2, &c), 1);	/* overlong */
	CHECK_EQ(c, LUMEN_CPT_INVALID);
	CHECK_EQ(lumen_utf8_decode("\xed\xa0\x80", 3, &c), 1);	/* surrogate */
	CHECK_EQ(c, LUMEN_CPT_INVALID);
	CHECK_EQ(lumen_utf8_decode("\x80", 1, &c), 1);
	CHECK_EQ(c, LUMEN_CPT_INVALID);
}

TEST(byte_level_alphabet_is_a_bijection)
{
	int seen[0x200] = { 0 };

	for (unsigned b = 0; b < 256; b++) {
		uint32_t c = lumen_byte_to_cpt((uint8_t)b);

		REQUIRE(c < 0x200);
		CHECK(!seen[c]++);
		CHECK_EQ(lumen_cpt_to_byte(c), b);
		/* the printable bytes stand for themselves, space does not */
		if (b == '!' || b == 'a' || b == 0xE9)
			CHECK_EQ(c, b);
	}
	CHECK_EQ(lumen_byte_to_cpt(' '), 0x120);	/* Ġ */
	CHECK_EQ(lumen_byte_to_cpt('\n'), 0x10A);	/* Ċ */
	CHECK_EQ(lumen_cpt_to_byte(0x2581), -1);
}

/* any bytes at all come back unchanged, and nothing crashes */
static void check_random_bytes(const char *rel)
{
	struct lumen_tokenizer *tok = load_vocab(rel);
	static int32_t ids[LUMEN_TOKENIZE_MAX(256)];
	char text[256], back[2048];
	uint64_t x = 42;

	REQUIRE(tok);
	for (int round = 0; round < 300; round++) {
		size_t len = (size_t)(round % 97) + 1;

		for (size_t i = 0; i < len; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			/* mostly ASCII and spaces, some high bytes */
			text[i] = (char)(x >> 59 < 4 ? (x >> 33) & 0xff : ' ' + (x >> 40) % 95);
		}
		long n = lumen_tokenize(tok, text, len, 0, ids, LUMEN_TOKENIZE_MAX(256));

		REQUIRE(n >= 0 && n <= (long)LUMEN_TOKENIZE_MAX(len));
		long b = lumen_detokenize(tok, ids, (size_t)n, LUMEN_DETOK_STRIP_SPACE,
					  back, sizeof(back));
		CHECK_MSG(b == (long)len && !memcmp(back, text, len),
			  "round %d: \"%s\" came back different", round, escaped(text, len, 200));
	}
	lumen_tokenizer_destroy(tok);
}

/*
 * Valid UTF-8 comes back unchanged for every vocabulary, whatever the
 * characters: ASCII, spaces and newlines mostly, and code points of every
 * plane (but U+2581, which SentencePiece-style vocabularies cannot tell
 * from a space).
 */
static void check_random_utf8(const char *rel)
{
	struct lumen_tokenizer *tok = load_vocab(rel);
	static int32_t ids[LUMEN_TOKENIZE_MAX(512)];
	char text[512], back[4096];
	uint64_t x = 7;

	REQUIRE(tok);
	for (int round = 0; round < 300; round++) {
		size_t len = 0, chars = (size_t)(round % 61) + 1;

		for (size_t i = 0; i < chars; i++) {
			uint32_t c, kind;

			x = x * 6364136223846793005ull + 1442695040888963407ull;
			kind = (uint32_t)(x >> 60);
			c = (uint32_t)(x >> 20);
			if (kind < 8)
				c = ' ' + c % 95;
			else if (kind < 10)
				c = " \n\t\r"[c % 4];
			else if (kind < 12)
				c = 0x80 + c % 0x780;
			else if (kind < 14)
				c = 0x800 + c % 0xF800;
			else
				c = 0x10000 + c % 0x100000;
			if ((c >= 0xD800 && c <= 0xDFFF) || c == 0x2581)
				c = 'x';
			len += lumen_utf8_encode(c, text + len);
		}
		long n = lumen_tokenize(tok, text, len, 0, ids, LUMEN_TOKENIZE_MAX(512));

		REQUIRE(n >= 0 && n <= (long)LUMEN_TOKENIZE_MAX(len));
		long b = lumen_detokenize(tok, ids, (size_t)n, LUMEN_DETOK_STRIP_SPACE,
					  back, sizeof(back));
		CHECK_MSG(b == (long)len && !memcmp(back, text, len),
			  "round %d: \"%s\" came back different", round, escaped(text, len, 200));
	}
	lumen_tokenizer_destroy(tok);
}

TEST(random_utf8_round_trips)
{
	static const char *const vocabs[] = {
		"llama-spm", "gpt-2", "llama-bpe", "qwen2", "deepseek-coder", "gemma3",
	};
	char rel[128];

	for (size_t i = 0; i < sizeof(vocabs) / sizeof(vocabs[0]); i++) {
		snprintf(rel, sizeof(rel), "tokenizer/ggml-vocab-%s.gguf", vocabs[i]);
		check_random_utf8(rel);
	}
}

TEST(random_bytes_round_trip_llama_spm)
{
	check_random_bytes("tokenizer/ggml-vocab-llama-spm.gguf");
}

TEST(random_bytes_round_trip_gpt2)
{
	check_random_bytes("tokenizer/ggml-vocab-gpt-2.gguf");
}

TEST(random_bytes_round_trip_llama_bpe)
{
	check_random_bytes("tokenizer/ggml-vocab-llama-bpe.gguf");
}

TEST(random_bytes_round_trip_qwen2)
{
	check_random_bytes("tokenizer/ggml-vocab-qwen2.gguf");
}

/*
 * No random_bytes_round_trip_deepseek_coder: that vocabulary's byte
 * alphabet lacks the bytes that never occur in UTF-8 (0xF5..0xFF, ...) as
 * normal tokens; it has their characters ("ý") only as user-defined
 * tokens, which render as their text. Valid UTF-8 round-trips (above).
 */

TEST(random_bytes_round_trip_gemma3)
{
	check_random_bytes("tokenizer/ggml-vocab-gemma3.gguf");
}

TEST(bpe_merges_by_rank)
{
	struct mini m;
	int32_t ids[64];

	memset(&m, 0, sizeof(m));
	int32_t a = mini_add(&m, "a", 0, 1);
	int32_t b = mini_add(&m, "b", 0, 1);
	mini_add(&m, "c", 0, 1);
	int32_t ab = mini_add(&m, "ab", 0, 1);
	mini_add(&m, "bc", 0, 1);
	int32_t abc = mini_add(&m, "abc", 0, 1);
	int32_t sp = mini_add(&m, "\xc4\xa0", 0, 1);	/* Ġ: the space */
	int32_t spa = mini_add(&m, "\xc4\xa0" "a", 0, 1);
	m.merges[m.n_merges++] = "b c";
	m.merges[m.n_merges++] = "a bc";
	m.merges[m.n_merges++] = "a b";
	m.merges[m.n_merges++] = "\xc4\xa0 a";
	for (uint32_t i = 0; i < m.n_merges; i++)
		m.merge_len[i] = (uint32_t)strlen(m.merges[i]);
	struct lumen_tokenizer *tok = mini_create(&m, LUMEN_VOCAB_BPE);

	REQUIRE(tok);
	/* "bc" ranks before "ab", so "abc" is a+bc, then a+bc -> abc */
	REQUIRE_EQ(tokenize_str(tok, "abc", 0, ids), 1);
	CHECK_EQ(ids[0], abc);
	REQUIRE_EQ(tokenize_str(tok, "abab", 0, ids), 2);
	CHECK_EQ(ids[0], ab);
	CHECK_EQ(ids[1], ab);
	REQUIRE_EQ(tokenize_str(tok, "ba", 0, ids), 2);
	CHECK_EQ(ids[0], b);
	CHECK_EQ(ids[1], a);
	/* " a" is one word; "  a" is " " and " a" */
	REQUIRE_EQ(tokenize_str(tok, "  a", 0, ids), 2);
	CHECK_EQ(ids[0], sp);
	CHECK_EQ(ids[1], spa);
	lumen_tokenizer_destroy(tok);
}

TEST(bad_vocabularies_are_refused)
{
	const char *text[2] = { "a", "b" };
	uint32_t len[2] = { 1, 1 };
	const char *merge[1] = { "ab" };
	uint32_t merge_len[1] = { 2 };
	int32_t types[2] = { 1, 9 };
	struct lumen_vocab_desc d = {
		.type = LUMEN_VOCAB_BPE, .n_tokens = 2, .tokens = text,
		.token_lens = len, .n_merges = 1, .merges = merge,
		.merge_lens = merge_len, .bos_id = LUMEN_TOKEN_NONE,
		.eos_id = LUMEN_TOKEN_NONE, .unk_id = LUMEN_TOKEN_NONE,
		.pad_id = LUMEN_TOKEN_NONE,
	};
	struct lumen_tokenizer *tok = (void *)1;

	/* the error convention: a negative enum lumen_error, *tok NULL, and
	 * lumen_last_error() naming the bad field */
	CHECK_EQ(lumen_tokenizer_create(&d, &tok), LUMEN_E_FORMAT);
	CHECK(tok == NULL);
	CHECK_MSG(strstr(lumen_last_error(), "merge 0"), "%s", lumen_last_error());
	d.n_merges = 0;
	d.bos_id = 2;
	CHECK_EQ(lumen_tokenizer_create(&d, &tok), LUMEN_E_FORMAT);
	CHECK_MSG(strstr(lumen_last_error(), "bos token id 2"), "%s",
		  lumen_last_error());
	d.bos_id = LUMEN_TOKEN_NONE;
	d.token_types = types;
	CHECK_EQ(lumen_tokenizer_create(&d, &tok), LUMEN_E_FORMAT);
	CHECK_MSG(strstr(lumen_last_error(), "token 1: type 9"), "%s",
		  lumen_last_error());
	d.token_types = NULL;
	d.type = 7;
	CHECK_EQ(lumen_tokenizer_create(&d, &tok), LUMEN_E_FORMAT);
	CHECK_MSG(strstr(lumen_last_error(), "vocabulary type 7"), "%s",
		  lumen_last_error());
	CHECK_EQ(lumen_tokenizer_create(NULL, &tok), LUMEN_E_INVAL);
	CHECK(tok == NULL);
	CHECK_EQ(lumen_tokenizer_create(&d, NULL), LUMEN_E_INVAL);
	d.type = LUMEN_VOCAB_BPE;
	CHECK_EQ(lumen_tokenizer_create(&d, &tok), 0);
	CHECK(tok);
	lumen_tokenizer_destroy(tok);
}

TEST(gguf_loader_rejects_truncated_files)
{
	size_t len;
	char *file = read_all(shared_path("models/stories260K-f32.gguf"), &len);
	char path[] = "/tmp/lumen-vocab-XXXXXX", err[256];
	struct vocab_gguf v;
	int fd;

	REQUIRE(file && len > 4096);
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	FILE *f = fdopen(fd, "wb");

	REQUIRE(f);
	fwrite(file, 1, 3000, f);	/* in the middle of the token strings */
	fclose(f);
	CHECK_EQ(vocab_gguf_load(&v, path, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "offset") && strstr(err, "tokenizer.ggml.tokens"), "%s", err);
	unlink(path);
	free(file);
}

TEST(tokenize_max_is_a_bound)
{
	struct mini m;
	static int32_t ids[1024];
	char text[200];

	/* the worst case: a one-byte special token before each space, and
	 * no "▁" in the vocabulary, nor byte tokens for its three bytes */
	mini_spm_base(&m);
	int32_t bar = mini_add(&m, "|", 0, LUMEN_TOKEN_USER_DEFINED);
	struct lumen_tokenizer *tok = mini_create(&m, LUMEN_VOCAB_SPM);

	REQUIRE(tok);
	for (int i = 0; i < 200; i += 2) {
		text[i] = '|';
		text[i + 1] = ' ';
	}
	/* "|" then the prefixed "▁▁" as six unknown bytes, a hundred times */
	long n = lumen_tokenize(tok, text, sizeof(text), LUMEN_TOKENIZE_BOS, ids, 1024);

	CHECK_EQ(n, 1 + 100 * 7);
	CHECK(n <= (long)LUMEN_TOKENIZE_MAX(sizeof(text)));
	CHECK_EQ(ids[1], bar);
	CHECK_EQ(ids[2], 0);
	lumen_tokenizer_destroy(tok);
}

/* the public error convention (<lumen/error.h>) for the tokenizer calls */
TEST(tokenizer_errors_are_negative_codes_with_a_message)
{
	struct mini m;
	int32_t ids[8], bad[2] = { 1, 4242 };
	char buf[16];

	mini_spm_base(&m);
	struct lumen_tokenizer *tok = mini_create(&m, LUMEN_VOCAB_SPM);

	REQUIRE(tok);
	CHECK_EQ(lumen_tokenize(tok, NULL, 5, 0, ids, 8), LUMEN_E_INVAL);
	CHECK_MSG(strstr(lumen_last_error(), "NULL text"), "%s", lumen_last_error());
	CHECK_EQ(lumen_tokenize(tok, "AB", 2, 0, NULL, 8), LUMEN_E_INVAL);
	CHECK_MSG(strstr(lumen_last_error(), "NULL ids"), "%s", lumen_last_error());
	CHECK_EQ(lumen_tokenize(tok, "AB", (size_t)UINT32_MAX, 0, ids, 8),
		 LUMEN_E_INVAL);
	CHECK_MSG(strstr(lumen_last_error(), "more than"), "%s", lumen_last_error());
	CHECK_EQ(lumen_detokenize(tok, bad, 2, 0, buf, sizeof(buf)), LUMEN_E_INVAL);
	CHECK_MSG(strstr(lumen_last_error(), "ids[1]: token id 4242"), "%s",
		  lumen_last_error());
	CHECK_EQ(lumen_token_to_piece(tok, -3, 0, buf, sizeof(buf)), LUMEN_E_INVAL);
	CHECK(!strcmp(lumen_strerror(LUMEN_E_INVAL), "invalid argument"));
	/* a lookup that finds nothing is not a failure: no message */
	CHECK_EQ(lumen_tokenize(tok, NULL, 0, 0, NULL, 0), 0);
	CHECK_EQ(lumen_tokenizer_find(tok, "zz", 2), LUMEN_TOKEN_NONE);
	CHECK_EQ(lumen_token_type(tok, 4242), LUMEN_TOKEN_UNUSED);
	CHECK_MSG(strstr(lumen_last_error(), "token id -3"), "%s",
		  lumen_last_error());
	lumen_tokenizer_destroy(tok);
}
