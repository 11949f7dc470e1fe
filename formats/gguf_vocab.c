// SPDX-License-Identifier: MIT
#include "gguf_vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format_util.h"

#define TOKEN_TYPE_NORMAL	1

static int32_t token_id(const struct gguf_file *g, const char *key,
			uint32_t n_tokens)
{
	int64_t v;

	if (gguf_get_int(g, key, &v) || v < 0 || v >= n_tokens)
		return -1;
	return (int32_t)v;
}

static bool flag(const struct gguf_file *g, const char *key, bool dflt)
{
	int64_t v;

	return gguf_get_int(g, key, &v) ? dflt : v != 0;
}

/*
 * BPE vocabularies whose files may omit add_bos_token and still want BOS:
 * llama.cpp sets it for its LLAMA3 pre-tokenizer type (Llama 3 GGUFs from
 * older converters have no key)
 */
static bool bos_by_default(const char *pre)
{
	static const char *const llama3[] = {
		"llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral",
	};

	for (size_t i = 0; i < sizeof(llama3) / sizeof(llama3[0]); i++)
		if (!strcmp(pre, llama3[i]))
			return true;
	return false;
}

static void copy_str(char *dst, size_t n, struct gguf_str s)
{
	size_t len = s.len < n - 1 ? s.len : n - 1;

	memcpy(dst, s.ptr, len);
	dst[len] = 0;
}

static int fail_kv(char *err, size_t errlen, const struct gguf_kv *kv,
		   const char *what)
{
	return lc_fail(err, errlen, "offset %llu: %.*s: %s",
		       (unsigned long long)kv->offset, (int)kv->key.len,
		       kv->key.ptr, what);
}

int gguf_vocab_alloc(struct gguf_vocab *v, uint32_t n_tokens)
{
	v->n_tokens = n_tokens;
	v->tokens = calloc(n_tokens ? n_tokens : 1, sizeof(*v->tokens));
	v->scores = calloc(n_tokens ? n_tokens : 1, sizeof(*v->scores));
	v->types = calloc(n_tokens ? n_tokens : 1, sizeof(*v->types));
	if (!v->tokens || !v->scores || !v->types)
		return -1;
	for (uint32_t i = 0; i < n_tokens; i++)
		v->types[i] = TOKEN_TYPE_NORMAL;
	return 0;
}

static int read_tokens(struct gguf_vocab *v, const struct gguf_file *g,
		       uint32_t n_vocab, char *err, size_t errlen)
{
	const struct gguf_kv *tok = gguf_find_kv(g, "tokenizer.ggml.tokens");
	const struct gguf_kv *sc = gguf_find_kv(g, "tokenizer.ggml.scores");
	const struct gguf_kv *ty = gguf_find_kv(g, "tokenizer.ggml.token_type");

	if (!tok || tok->type != GGUF_T_ARRAY || tok->arr_type != GGUF_T_STRING)
		return lc_fail(err, errlen,
			       "metadata 'tokenizer.ggml.tokens' missing or not an array of strings");
	if (tok->arr_n > INT32_MAX)
		return fail_kv(err, errlen, tok, "too many tokens");
	if (n_vocab && tok->arr_n != n_vocab)
		return lc_fail(err, errlen,
			       "offset %llu: tokenizer.ggml.tokens: %llu tokens, the embedding has %u rows",
			       (unsigned long long)tok->offset,
			       (unsigned long long)tok->arr_n, n_vocab);
	if (gguf_vocab_alloc(v, (uint32_t)tok->arr_n))
		return lc_fail(err, errlen, "out of memory");
	for (uint32_t i = 0; i < v->n_tokens; i++)
		v->tokens[i] = gguf_arr_str(g, tok, i);
	if (sc) {
		if (sc->type != GGUF_T_ARRAY || sc->arr_type != GGUF_T_F32 ||
		    sc->arr_n != v->n_tokens)
			return lc_fail(err, errlen,
				       "offset %llu: tokenizer.ggml.scores: not %u f32 values",
				       (unsigned long long)sc->offset, v->n_tokens);
		for (uint32_t i = 0; i < v->n_tokens; i++)
			v->scores[i] = (float)gguf_arr_num(g, sc, i);
	}
	if (ty) {
		if (ty->type != GGUF_T_ARRAY || ty->arr_type != GGUF_T_I32 ||
		    ty->arr_n != v->n_tokens)
			return lc_fail(err, errlen,
				       "offset %llu: tokenizer.ggml.token_type: not %u i32 values",
				       (unsigned long long)ty->offset, v->n_tokens);
		for (uint32_t i = 0; i < v->n_tokens; i++)
			v->types[i] = (int32_t)gguf_arr_num(g, ty, i);
	}
	return 0;
}

static int read_merges(struct gguf_vocab *v, const struct gguf_file *g,
		       char *err, size_t errlen)
{
	const struct gguf_kv *me = gguf_find_kv(g, "tokenizer.ggml.merges");

	if (!me)
		return 0;
	if (me->type != GGUF_T_ARRAY || me->arr_type != GGUF_T_STRING ||
	    me->arr_n > INT32_MAX)
		return lc_fail(err, errlen,
			       "offset %llu: tokenizer.ggml.merges: not an array of strings",
			       (unsigned long long)me->offset);
	v->n_merges = (uint32_t)me->arr_n;
	v->merges = calloc(v->n_merges ? v->n_merges : 1, sizeof(*v->merges));
	if (!v->merges)
		return lc_fail(err, errlen, "out of memory");
	for (uint32_t i = 0; i < v->n_merges; i++)
		v->merges[i] = gguf_arr_str(g, me, i);
	return 0;
}

int gguf_vocab_read(struct gguf_vocab *v, const struct gguf_file *g,
		    uint32_t n_vocab, char *err, size_t errlen)
{
	struct gguf_str s;
	bool spm;

	memset(v, 0, sizeof(*v));
	if (gguf_get_str(g, "tokenizer.ggml.model", &s))
		return lc_fail(err, errlen, "metadata 'tokenizer.ggml.model' is missing");
	copy_str(v->model, sizeof(v->model), s);
	spm = !strcmp(v->model, "llama");
	if (!spm && strcmp(v->model, "gpt2"))
		return fail_kv(err, errlen, gguf_find_kv(g, "tokenizer.ggml.model"),
			       "tokenizer model not supported (llama and gpt2 are)");
	if (!gguf_get_str(g, "tokenizer.ggml.pre", &s))
		copy_str(v->pre, sizeof(v->pre), s);
	if (read_tokens(v, g, n_vocab, err, errlen) ||
	    read_merges(v, g, err, errlen))
		return -1;
	v->bos = token_id(g, "tokenizer.ggml.bos_token_id", v->n_tokens);
	v->eos = token_id(g, "tokenizer.ggml.eos_token_id", v->n_tokens);
	v->unk = token_id(g, "tokenizer.ggml.unknown_token_id", v->n_tokens);
	v->pad = token_id(g, "tokenizer.ggml.padding_token_id", v->n_tokens);
	v->add_bos = flag(g, "tokenizer.ggml.add_bos_token",
			  spm || bos_by_default(v->pre));
	v->add_eos = flag(g, "tokenizer.ggml.add_eos_token", false);
	v->add_space_prefix = flag(g, "tokenizer.ggml.add_space_prefix", spm);
	if (gguf_get_str(g, "tokenizer.chat_template", &v->chat_template))
		memset(&v->chat_template, 0, sizeof(v->chat_template));
	return 0;
}

/*
 * Exactly the names runtime/pretok.c implements (runtime/tests checks both
 * ways), as llama.cpp spells them; "" is "default", as in llama.cpp.
 */
const char *const gguf_vocab_bpe_pre_types[] = {
	"", "default",
	"gpt-2", "phi-2", "mpt", "olmo", "jais", "gpt-neox",
	"llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "dbrx",
	"smaug-bpe",
	"qwen2", "deepseek-r1-qwen", "stablelm2",
	"deepseek-llm", "deepseek-coder", "falcon",
	"starcoder", "refact", "smollm", "command-r", "codeshell", "exaone",
	"minerva-7b",
	"poro-chat", "bloom", "gpt3-finnish", "viking",
	"gemma4", "granite-embed-multi-311m",
	NULL,
};

int gguf_vocab_check_supported(const struct gguf_vocab *v, char *err,
			       size_t errlen)
{
	char names[1024] = "";

	if (strcmp(v->model, "gpt2"))
		return 0;
	for (size_t i = 0; gguf_vocab_bpe_pre_types[i]; i++) {
		if (!strcmp(v->pre, gguf_vocab_bpe_pre_types[i]))
			return 0;
		if (gguf_vocab_bpe_pre_types[i][0] && strlen(names) + 32 < sizeof(names))
			snprintf(names + strlen(names), sizeof(names) - strlen(names),
				 "%s'%s'", names[0] ? ", " : "", gguf_vocab_bpe_pre_types[i]);
	}
	return lc_fail(err, errlen,
		       "tokenizer.ggml.pre: pre-tokenizer '%s' is not implemented (%s are): prompts would be split differently from llama.cpp; use a model with one of those, or a SentencePiece vocabulary",
		       v->pre, names);
}

void gguf_vocab_free(struct gguf_vocab *v)
{
	free(v->tokens);
	free(v->scores);
	free(v->types);
	free(v->merges);
	memset(v, 0, sizeof(*v));
}
