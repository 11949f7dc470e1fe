// SPDX-License-Identifier: MIT
/*
 * A session's KV cache holds the positions its user asked for, not the
 * maximum the model was compiled for: a 135M model compiled for 4096
 * positions needs 94 MiB of cache in F16, a chat of 512 positions 12 MiB.
 *
 * The compiler reaches the KV slot only through its per-layer K and V
 * tensors: 2 * n_layer blocks, one after the other, each ctx rows of one
 * position (compiler/lower.c, kv_cache()). Programs for a smaller cache are
 * those tensors re-based on the smaller ctx. A KV tensor of any other
 * shape is refused rather than rewritten by guess, and the result goes
 * through the validator like any program.
 */
#include <stdlib.h>
#include <string.h>

#include "lumen_internal.h"

static int resize_tensor(struct lumen_tensor *t, uint32_t from, uint32_t to)
{
	uint64_t block_from, block_to;

	if (t->region != LNPU_SLOT_KV)
		return 0;
	if (t->dims[1] != from || t->dims[2] != 1 || t->dims[3] != 1 ||
	    !t->strides[1] || t->strides[2] != t->strides[1] * from)
		return -1;
	block_from = t->strides[1] * from;
	block_to = t->strides[1] * to;
	if (t->offset % block_from)
		return -1;
	t->offset = t->offset / block_from * block_to;
	t->dims[1] = to;
	t->strides[2] = block_to;
	t->strides[3] = block_to;
	return 0;
}

int lumen_kv_resize(const void *prog, size_t size, uint32_t ctx_from,
		    uint32_t ctx_to, void **out)
{
	struct lumen_prog_header h;
	uint8_t *copy;

	*out = NULL;
	if (size < sizeof(h))
		return lumen_fail(LUMEN_E_FORMAT, "program: %zu bytes, no header",
				  size);
	memcpy(&h, prog, sizeof(h));
	if (h.op_size != sizeof(struct lumen_op) ||
	    h.header_size > size ||
	    (size - h.header_size) / h.op_size < h.op_count)
		return lumen_fail(LUMEN_E_FORMAT,
				  "program: header and size disagree");
	copy = malloc(size);
	if (!copy)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	memcpy(copy, prog, size);
	for (uint32_t i = 0; i < h.op_count; i++) {
		struct lumen_op op;
		uint8_t *at = copy + h.header_size + (size_t)i * h.op_size;
		int bad = 0;

		memcpy(&op, at, sizeof(op));
		bad |= resize_tensor(&op.dst, ctx_from, ctx_to);
		for (int s = 0; s < LUMEN_MAX_SRCS; s++)
			bad |= resize_tensor(&op.src[s], ctx_from, ctx_to);
		if (bad) {
			free(copy);
			return lumen_fail(LUMEN_E_FORMAT,
					  "op %u reads the KV cache in a layout other than per-layer K/V blocks of %u positions; recompile with lumenc --ctx %u instead",
					  i, ctx_from, ctx_to);
		}
		memcpy(at, &op, sizeof(op));
	}
	*out = copy;
	return 0;
}
