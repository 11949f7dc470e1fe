// SPDX-License-Identifier: MIT
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int runner_open(struct runner *r, const char *path, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (lnpu_open(&r->f, path, 0, err, errlen))
		return -1;
	for (uint32_t i = 0; i < r->f.n_regions; i++) {
		const struct lnpu_region *g = &r->f.regions[i];
		uint32_t s = g->slot;

		if (s >= LNPU_SLOT_COUNT)
			continue;
		if (s == LNPU_SLOT_WEIGHTS) {	/* bound in place: never written */
			r->reg[s].base = (void *)r->f.weights;
			r->reg[s].size = r->f.weights_size;
			continue;
		}
		r->mem[s] = aligned_alloc(4096, (g->size + 4095) / 4096 * 4096);
		if (!r->mem[s]) {
			snprintf(err, errlen, "out of memory");
			runner_close(r);
			return -1;
		}
		memset(r->mem[s], 0, g->size);
		r->reg[s].base = r->mem[s];
		r->reg[s].size = g->size;
	}
	r->ex = lumen_exec_create(1);
	if (!r->ex) {
		snprintf(err, errlen, "cannot create an executor");
		runner_close(r);
		return -1;
	}
	return 0;
}

void runner_close(struct runner *r)
{
	if (r->ex)
		lumen_exec_destroy(r->ex);
	for (int i = 0; i < LNPU_SLOT_COUNT; i++)
		free(r->mem[i]);
	lnpu_close(&r->f);
	memset(r, 0, sizeof(*r));
}

static int run(struct runner *r, int which)
{
	return lumen_exec_run(r->ex, r->f.prog[which], r->f.prog_size[which],
			      r->reg, LNPU_SLOT_COUNT, &r->fault);
}

int runner_prefill(struct runner *r, const int32_t *ids, uint32_t n)
{
	uint32_t *args = r->mem[LNPU_SLOT_ARGS];
	uint32_t chunk = r->f.meta.prefill_chunk;

	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done < chunk ? n - done : chunk;

		args[LNPU_ARG_ROWS] = k;
		args[LNPU_ARG_POS] = r->pos;
		memcpy(&args[LNPU_ARG_IDS], ids + done, 4 * (size_t)k);
		if (run(r, 1))
			return -1;
		done += k;
		r->pos += k;
	}
	return 0;
}

int runner_decode(struct runner *r, int32_t id)
{
	uint32_t *args = r->mem[LNPU_SLOT_ARGS];

	args[LNPU_ARG_POS] = r->pos;
	memcpy(&args[LNPU_ARG_IDS], &id, 4);
	if (run(r, 0))
		return -1;
	r->pos++;
	return 0;
}

const float *runner_logits(const struct runner *r)
{
	return (const float *)((const uint8_t *)r->mem[LNPU_SLOT_OUT] +
			       r->f.meta.out_logits);
}

int32_t runner_argmax(const struct runner *r)
{
	int32_t v;

	memcpy(&v, (const uint8_t *)r->mem[LNPU_SLOT_OUT] + r->f.meta.out_argmax, 4);
	return v;
}
