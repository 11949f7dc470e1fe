/* SPDX-License-Identifier: MIT */
/*
 * Test-only: a GGUF file's vocabulary, read by the one extraction every
 * tool uses (formats/gguf_vocab.h), as a struct lumen_vocab_desc. The
 * runtime itself reads vocabularies from .lnpu files; the reference
 * vocabularies of ../shared/tokenizer are GGUF files with no tensors,
 * which lumenc does not compile.
 */
#ifndef LUMEN_TEST_VOCAB_GGUF_H
#define LUMEN_TEST_VOCAB_GGUF_H

#include "gguf.h"
#include "gguf_vocab.h"
#include <lumen/tokenizer.h>

struct vocab_gguf {
	struct lumen_vocab_desc desc;
	struct gguf_file file;	/* mapped; the strings point into it */
	struct gguf_vocab vocab;
	const char **tokens, **merges;
	uint32_t *token_lens, *merge_lens;
};

/* 0, or -1 with a message naming the file offset and the field in @err */
int vocab_gguf_load(struct vocab_gguf *v, const char *path, char *err,
		    size_t errlen);
void vocab_gguf_free(struct vocab_gguf *v);

#endif /* LUMEN_TEST_VOCAB_GGUF_H */
