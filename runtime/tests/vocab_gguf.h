/* SPDX-License-Identifier: MIT */
/*
 * Test-only: the tokenizer.ggml.* metadata of a GGUF file as a
 * struct lumen_vocab_desc, read with the compiler's GGUF reader
 * (compiler/gguf.h). The runtime itself reads vocabularies from .lnpu
 * files; the reference vocabularies of ../shared/tokenizer are GGUF files
 * with no tensors, which lumenc does not compile.
 */
#ifndef LUMEN_TEST_VOCAB_GGUF_H
#define LUMEN_TEST_VOCAB_GGUF_H

#include "compiler/gguf.h"
#include "runtime/tokenizer.h"

struct vocab_gguf {
	struct lumen_vocab_desc desc;
	struct gguf_file file;	/* mapped; the strings point into it */
	const char **tokens, **merges;
	uint32_t *token_lens, *merge_lens;
	float *scores;
	int32_t *types;
};

/* 0, or -1 with a message naming the file offset and the field in @err */
int vocab_gguf_load(struct vocab_gguf *v, const char *path, char *err,
		    size_t errlen);
void vocab_gguf_free(struct vocab_gguf *v);

#endif /* LUMEN_TEST_VOCAB_GGUF_H */
