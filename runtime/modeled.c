// SPDX-License-Identifier: MIT
/*
 * Modeled cost per job from a program's distinct op shapes (modeled.h).
 * Two ops have the same shape when they are equal but for their tensors'
 * byte offsets: the roofline reads opcodes, flags, args, dtypes and dims,
 * never where a tensor sits.
 */
#include <stdlib.h>
#include <string.h>

#include "modeled.h"

/* @op with its tensors' offsets cleared: what its cost depends on */
static void shape_of(struct lumen_op *op)
{
	op->dst.offset = 0;
	for (int i = 0; i < LUMEN_MAX_SRCS; i++)
		op->src[i].offset = 0;
}

int lumen_modeled_plan_init(struct lumen_modeled_plan *plan, const void *prog)
{
	const struct lumen_prog_header *h = prog;
	const uint8_t *ops = (const uint8_t *)prog + h->header_size;
	size_t size = h->header_size + sizeof(struct lumen_op);

	memset(plan, 0, sizeof(*plan));
	plan->shapes = malloc(size * h->op_count);
	plan->count = calloc(h->op_count, sizeof(*plan->count));
	if (!plan->shapes || !plan->count) {
		lumen_modeled_plan_free(plan);
		return -1;
	}
	plan->shape_size = size;
	for (uint32_t i = 0; i < h->op_count; i++) {
		struct lumen_op op;
		uint32_t s;

		memcpy(&op, ops + (size_t)i * h->op_size, sizeof(op));
		shape_of(&op);
		for (s = 0; s < plan->n_shapes; s++)
			if (!memcmp(plan->shapes + s * size + h->header_size, &op,
				    sizeof(op)))
				break;
		if (s == plan->n_shapes) {
			struct lumen_prog_header *one =
				(void *)(plan->shapes + s * size);

			memcpy(one, h, h->header_size);
			one->op_size = sizeof(op);
			one->op_count = 1;
			memcpy((uint8_t *)one + h->header_size, &op, sizeof(op));
			plan->n_shapes++;
		}
		plan->count[s]++;
	}
	return 0;
}

void lumen_modeled_plan_free(struct lumen_modeled_plan *plan)
{
	free(plan->shapes);
	free(plan->count);
	memset(plan, 0, sizeof(*plan));
}

void lumen_modeled_plan_cost(const struct lumen_modeled_plan *plan,
			     const struct lumen_silicon *si,
			     const uint32_t *args, size_t n_args,
			     struct lumen_silicon_cost *cost)
{
	for (uint32_t s = 0; s < plan->n_shapes; s++) {
		struct lumen_silicon_cost one = { 0 };
		double n = plan->count[s];

		lumen_silicon_program(si, plan->shapes + s * plan->shape_size,
				      args, n_args, &one);
		cost->seconds += n * one.seconds;
		cost->joules += n * one.joules;
		cost->macs += n * one.macs;
		cost->dram_bytes += n * one.dram_bytes;
		cost->sram_bytes += n * one.sram_bytes;
	}
}
