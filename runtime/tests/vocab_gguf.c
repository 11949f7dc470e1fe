// SPDX-License-Identifier: MIT
#include "vocab_gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail_kv(char *err, size_t errlen, const struct gguf_kv *kv,
		   const char *what)
{
	snprintf(err, errlen, "offset %llu: %.*s: %s",
		 (unsigned long long)kv->offset, (int)kv->key.len, kv->key.ptr,
		 what);
	return -1;
}

static const struct gguf_kv *array_of(const struct gguf_file *g,
				      const char *key, uint32_t type)
{
	const struct gguf_kv *kv = gguf_find_kv(g, key);

	return kv && kv->type == GGUF_T_ARRAY && kv->arr_type == type ? kv : NULL;
}

static int strings(const struct gguf_file *g, const struct gguf_kv *kv,
		   const char ***out, uint32_t **lens, uint32_t *n,
		   char *err, size_t errlen)
{
	if (kv->arr_n > UINT32_MAX)
		return fail_kv(err, errlen, kv, "too many entries");
	*n = (uint32_t)kv->arr_n;
	*out = calloc(*n ? *n : 1, sizeof(**out));
	*lens = calloc(*n ? *n : 1, sizeof(**lens));
	if (!*out || !*lens)
		return fail_kv(err, errlen, kv, "out of memory");
	for (uint32_t i = 0; i < *n; i++) {
		struct gguf_str s = gguf_arr_str(g, kv, i);

		if (s.len > UINT32_MAX)
			return fail_kv(err, errlen, kv, "entry too long");
		(*out)[i] = s.ptr;
		(*lens)[i] = (uint32_t)s.len;
	}
	return 0;
}

static int32_t special_id(const struct gguf_file *g, const char *key)
{
	int64_t v;

	if (gguf_get_int(g, key, &v) || v < 0 || v > INT32_MAX)
		return LUMEN_TOKEN_NONE;
	return (int32_t)v;
}

/* GGUF readers' defaults when the flag is absent: on for SentencePiece */
static bool flag(const struct gguf_file *g, const char *key, bool dflt)
{
	int64_t v;

	return gguf_get_int(g, key, &v) ? dflt : v != 0;
}

static int fill(struct vocab_gguf *v, char *err, size_t errlen)
{
	const struct gguf_file *g = &v->file;
	struct lumen_vocab_desc *d = &v->desc;
	const struct gguf_kv *kv;
	struct gguf_str model;

	if (gguf_get_str(g, "tokenizer.ggml.model", &model)) {
		snprintf(err, errlen, "tokenizer.ggml.model missing");
		return -1;
	}
	if (gguf_str_eq(model, "llama"))
		d->type = LUMEN_VOCAB_SPM;
	else if (gguf_str_eq(model, "gpt2"))
		d->type = LUMEN_VOCAB_BPE;
	else
		return fail_kv(err, errlen, gguf_find_kv(g, "tokenizer.ggml.model"),
			       "unsupported model");
	kv = array_of(g, "tokenizer.ggml.tokens", GGUF_T_STRING);
	if (!kv) {
		snprintf(err, errlen, "tokenizer.ggml.tokens missing or not strings");
		return -1;
	}
	if (strings(g, kv, &v->tokens, &v->token_lens, &d->n_tokens, err, errlen))
		return -1;
	kv = array_of(g, "tokenizer.ggml.merges", GGUF_T_STRING);
	if (kv && strings(g, kv, &v->merges, &v->merge_lens, &d->n_merges, err,
			  errlen))
		return -1;
	kv = array_of(g, "tokenizer.ggml.scores", GGUF_T_F32);
	if (kv) {
		if (kv->arr_n != d->n_tokens)
			return fail_kv(err, errlen, kv, "not one score per token");
		v->scores = malloc(sizeof(float) * (d->n_tokens ? d->n_tokens : 1));
		if (!v->scores)
			return fail_kv(err, errlen, kv, "out of memory");
		for (uint32_t i = 0; i < d->n_tokens; i++)
			v->scores[i] = (float)gguf_arr_num(g, kv, i);
	}
	kv = array_of(g, "tokenizer.ggml.token_type", GGUF_T_I32);
	if (kv) {
		if (kv->arr_n != d->n_tokens)
			return fail_kv(err, errlen, kv, "not one type per token");
		v->types = malloc(sizeof(int32_t) * (d->n_tokens ? d->n_tokens : 1));
		if (!v->types)
			return fail_kv(err, errlen, kv, "out of memory");
		for (uint32_t i = 0; i < d->n_tokens; i++)
			v->types[i] = (int32_t)gguf_arr_num(g, kv, i);
	}
	d->bos_id = special_id(g, "tokenizer.ggml.bos_token_id");
	d->eos_id = special_id(g, "tokenizer.ggml.eos_token_id");
	d->unk_id = special_id(g, "tokenizer.ggml.unknown_token_id");
	d->pad_id = special_id(g, "tokenizer.ggml.padding_token_id");
	d->add_bos = flag(g, "tokenizer.ggml.add_bos_token", d->type == LUMEN_VOCAB_SPM);
	d->add_space_prefix = flag(g, "tokenizer.ggml.add_space_prefix",
				   d->type == LUMEN_VOCAB_SPM);
	d->tokens = v->tokens;
	d->token_lens = v->token_lens;
	d->scores = v->scores;
	d->token_types = v->types;
	d->merges = v->merges;
	d->merge_lens = v->merge_lens;
	return 0;
}

int vocab_gguf_load(struct vocab_gguf *v, const char *path, char *err,
		    size_t errlen)
{
	memset(v, 0, sizeof(*v));
	if (gguf_open(&v->file, path, err, errlen))
		return -1;
	if (fill(v, err, errlen)) {
		vocab_gguf_free(v);
		return -1;
	}
	return 0;
}

void vocab_gguf_free(struct vocab_gguf *v)
{
	gguf_close(&v->file);
	free(v->tokens);
	free(v->merges);
	free(v->token_lens);
	free(v->merge_lens);
	free(v->scores);
	free(v->types);
	memset(v, 0, sizeof(*v));
}
