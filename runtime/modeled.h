/* SPDX-License-Identifier: MIT */
/*
 * What a job costs on the modeled NPU (silicon.h), per token without
 * walking the whole program: ops that differ only in where their tensors
 * sit (the layers of a model) cost the same, so a program is reduced once,
 * at load, to its distinct op shapes and how many ops share each. A
 * decode job of a 30-layer model then costs a few dozen roofline
 * evaluations instead of hundreds; in a guest whose CPU is emulated
 * (floating point in software) that was a millisecond per token.
 */
#ifndef LUMEN_MODELED_H
#define LUMEN_MODELED_H

#include <stddef.h>
#include <stdint.h>

#include "silicon.h"

/*
 * @shapes: one program per distinct op shape, of that op alone, so that
 *	lumen_silicon_program() itself reads its rows and pos from the args;
 * @count: how many ops of the program have each shape.
 */
struct lumen_modeled_plan {
	uint8_t *shapes;
	uint32_t *count;
	uint32_t n_shapes;
	size_t shape_size;
};

/*
 * Reduce the validated program @prog to @plan; 0, or -1 when out of
 * memory (@plan is then empty and costs nothing).
 */
int lumen_modeled_plan_init(struct lumen_modeled_plan *plan, const void *prog);
void lumen_modeled_plan_free(struct lumen_modeled_plan *plan);

/*
 * Add to @cost what the program costs on @si with @args: what
 * lumen_silicon_program() adds, up to rounding.
 */
void lumen_modeled_plan_cost(const struct lumen_modeled_plan *plan,
			     const struct lumen_silicon *si,
			     const uint32_t *args, size_t n_args,
			     struct lumen_silicon_cost *cost);

#endif /* LUMEN_MODELED_H */
