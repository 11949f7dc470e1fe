// SPDX-License-Identifier: MIT
#include "vocab_gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int split(const struct gguf_str *in, uint32_t n, const char ***out,
		 uint32_t **lens)
{
	*out = calloc(n ? n : 1, sizeof(**out));
	*lens = calloc(n ? n : 1, sizeof(**lens));
	if (!*out || !*lens)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (in[i].len > UINT32_MAX)
			return -1;
		(*out)[i] = in[i].ptr;
		(*lens)[i] = (uint32_t)in[i].len;
	}
	return 0;
}

static int32_t id_or_none(int32_t id)
{
	return id < 0 ? LUMEN_TOKEN_NONE : id;
}

int vocab_gguf_load(struct vocab_gguf *v, const char *path, char *err,
		    size_t errlen)
{
	struct lumen_vocab_desc *d = &v->desc;
	const struct gguf_vocab *gv = &v->vocab;

	memset(v, 0, sizeof(*v));
	if (gguf_open(&v->file, path, err, errlen))
		return -1;
	if (gguf_vocab_read(&v->vocab, &v->file, 0, err, errlen))
		goto fail;
	if (split(gv->tokens, gv->n_tokens, &v->tokens, &v->token_lens) ||
	    split(gv->merges, gv->n_merges, &v->merges, &v->merge_lens)) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	d->type = !strcmp(gv->model, "llama") ? LUMEN_VOCAB_SPM : LUMEN_VOCAB_BPE;
	d->n_tokens = gv->n_tokens;
	d->tokens = v->tokens;
	d->token_lens = v->token_lens;
	d->scores = gv->scores;
	d->token_types = gv->types;
	d->n_merges = gv->n_merges;
	d->merges = v->merges;
	d->merge_lens = v->merge_lens;
	d->bos_id = id_or_none(gv->bos);
	d->eos_id = id_or_none(gv->eos);
	d->unk_id = id_or_none(gv->unk);
	d->pad_id = id_or_none(gv->pad);
	d->add_bos = gv->add_bos;
	d->add_space_prefix = gv->add_space_prefix;
	d->pre = gv->pre;
	return 0;
fail:
	vocab_gguf_free(v);
	return -1;
}

void vocab_gguf_free(struct vocab_gguf *v)
{
	gguf_vocab_free(&v->vocab);
	gguf_close(&v->file);
	free(v->tokens);
	free(v->merges);
	free(v->token_lens);
	free(v->merge_lens);
	memset(v, 0, sizeof(*v));
}
