/* SPDX-License-Identifier: MIT */
/* The whole compilation, shared by the lumenc CLI and the tests. */
#ifndef LUMENC_COMPILE_H
#define LUMENC_COMPILE_H

#include <stdio.h>

#include "lower.h"

/*
 * Compile @in (GGUF, or a llama2.c checkpoint with its @tokenizer) into
 * @out. @report: where to say what was decided (NULL: nowhere);
 * @progress: show weight conversion progress on stderr.
 */
int lc_compile_file(const char *in, const char *tokenizer, const char *out,
		    const struct lc_options *opt, FILE *report, int progress,
		    char *err, size_t errlen);

#endif /* LUMENC_COMPILE_H */
