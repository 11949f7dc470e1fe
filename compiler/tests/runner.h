/* SPDX-License-Identifier: MIT */
/*
 * Running a compiled .lnpu in-process through hw/core, as the runtime's CPU
 * backend will: regions allocated per the region table, the weights region
 * bound to the mapped file, args written per submission.
 */
#ifndef LUMENC_RUNNER_H
#define LUMENC_RUNNER_H

#include <stdint.h>

#include "lnpu_read.h"
#include "lumen_exec.h"

struct runner {
	struct lnpu_file f;
	struct lumen_exec *ex;
	struct lumen_region reg[LNPU_SLOT_COUNT];
	void *mem[LNPU_SLOT_COUNT];
	uint32_t pos;		/* tokens in the KV cache */
	struct lumen_fault fault;
};

int runner_open(struct runner *r, const char *path, char *err, size_t errlen);
void runner_close(struct runner *r);
/* prompt through the prefill program, in chunks; logits of the last token */
int runner_prefill(struct runner *r, const int32_t *ids, uint32_t n);
/* one token through the decode program */
int runner_decode(struct runner *r, int32_t id);
const float *runner_logits(const struct runner *r);
int32_t runner_argmax(const struct runner *r);

#endif /* LUMENC_RUNNER_H */
