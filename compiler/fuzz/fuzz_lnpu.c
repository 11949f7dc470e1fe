// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the .lnpu reader. Built with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which makes the reader report
 * checksum mismatches but go on, so inputs reach the structure checks.
 */
#include <stddef.h>
#include <stdint.h>

#include "lnpu_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lnpu_file f;
	char err[256];
	volatile uint32_t sink = 0;
	uint32_t len;

	if (lnpu_parse(&f, data, size, 0, err, sizeof(err)))
		return 0;
	for (uint32_t i = 0; i < f.vocab.n_tokens; i++) {
		const char *t = lnpu_token(&f, i, &len);

		sink ^= len ? (uint8_t)t[len - 1] : 0;
		sink ^= (uint32_t)lnpu_token_type(&f, i);
		sink ^= lnpu_token_score(&f, i) > 0;
	}
	for (uint32_t i = 0; i < f.vocab.n_merges; i++)
		sink ^= (uintptr_t)lnpu_merge(&f, i, &len) + len;
	if (f.weights_size)
		sink ^= f.weights[f.weights_size - 1];
	lnpu_close(&f);
	(void)sink;
	return 0;
}
