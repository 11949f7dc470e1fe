/* SPDX-License-Identifier: MIT */
/*
 * Test-only: the reference outputs of $(SHARED)/golden/ (the .jsonl files), see the
 * README there; one prompt a line.
 */
#ifndef LUMEN_TEST_GOLDEN_H
#define LUMEN_TEST_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#define GOLDEN_MAX_IDS 256
#define GOLDEN_MAX_STEPS 128

struct golden_step {
	int32_t id;
	int32_t top_id[5];
	double top_logit[5];
};

struct golden {
	char prompt[1024];
	size_t prompt_len;
	int32_t prompt_ids[GOLDEN_MAX_IDS];
	size_t n_prompt_ids;
	struct golden_step steps[GOLDEN_MAX_STEPS];
	size_t n_steps;
};

/* line @index (0-based) of @path; 0, or -1 with a message in @err */
int golden_load(struct golden *g, const char *path, unsigned int index,
		char *err, size_t errlen);

#endif /* LUMEN_TEST_GOLDEN_H */
