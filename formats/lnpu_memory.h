/* SPDX-License-Identifier: MIT */
/*
 * What running a compiled model takes in memory, from its region sizes:
 * one formula for lumenc --info, lumen info and the runtime's early
 * refusal, so the figure a user reads is the one that is checked.
 */
#ifndef LNPU_MEMORY_H
#define LNPU_MEMORY_H

#include <stdint.h>

#include "lnpu.h"

/**
 * struct lnpu_memory - bytes a model needs with one session.
 * @ctx: positions of the session's KV cache.
 * @weights: the weights region (mapped in place by the CPU backend, one
 *	copy in device memory on the NPU).
 * @scratch: the activation region the model's sessions share.
 * @kv: the session's KV cache of @ctx positions.
 * @io: the session's args and out regions and its host copy of the logits.
 * @total: their sum.
 */
struct lnpu_memory {
	uint32_t ctx;
	uint64_t weights, scratch, kv, io, total;
};

/*
 * @region_size: per slot, for programs compiled for @compiled_ctx
 * positions; the KV region scales with the context (2 * n_layer blocks of
 * one row per position), the others do not.
 */
static inline void lnpu_memory_at(const uint64_t region_size[LNPU_SLOT_COUNT],
				  uint32_t compiled_ctx, uint32_t n_vocab,
				  uint32_t ctx, struct lnpu_memory *mem)
{
	uint64_t kv_per_pos = compiled_ctx ?
			      region_size[LNPU_SLOT_KV] / compiled_ctx : 0;

	mem->ctx = ctx;
	mem->weights = region_size[LNPU_SLOT_WEIGHTS];
	mem->scratch = region_size[LNPU_SLOT_ACT];
	mem->kv = kv_per_pos * ctx;
	mem->io = region_size[LNPU_SLOT_ARGS] + region_size[LNPU_SLOT_OUT] +
		  4ull * n_vocab;
	mem->total = mem->weights + mem->scratch + mem->kv + mem->io;
}

#endif /* LNPU_MEMORY_H */
