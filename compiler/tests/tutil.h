/* SPDX-License-Identifier: MIT */
/* Helpers shared by the compiler's tests. */
#ifndef LUMENC_TUTIL_H
#define LUMENC_TUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "lower.h"

/* $SHARED/<rel> (default ../shared beside the checkout) */
const char *shared_path(const char *rel);
/* a fresh path for a scratch file: $LUMENC_TEST_TMP (or /tmp)/lumenc-<pid>-<n>-<name> */
const char *scratch_path(const char *name);
/* default compile options (F16 KV, keep dtypes) */
struct lc_options default_options(void);
/* compile with no report; returns 0 or -1, message in @err */
int compile_quiet(const char *in, const char *tokenizer, const char *out,
		  const struct lc_options *opt, char *err, size_t errlen);
/* read a whole file into malloc'd memory */
void *read_file(const char *path, size_t *size);
int write_file(const char *path, const void *data, size_t size);

#endif /* LUMENC_TUTIL_H */
